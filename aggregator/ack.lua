-- Finish one site's share of a batch atomically: acknowledgement, hot counter deltas.
--
-- KEYS: the site's stream, its totals hash, its article page views hash: all in the
-- site's slot, so that on a Redis Cluster the call runs on the site's node.
-- ARGV: group; 1 if the hot counters are seeded (else 0); the number of entries;
-- the entry ids joined by spaces (one argument: cheaper to send than thousands);
-- the number of totals deltas; (field, delta) per totals delta, then (article,
-- delta) per article page views delta.
--
-- The acknowledgement comes first: Redis does not undo a failed script's
-- earlier writes, and a batch must not get its deltas without its ack.
-- Deltas are applied only by the call that acknowledged the entries (a call
-- retried after its reply was lost finds them acknowledged, and adds nothing),
-- and only while the counters are seeded: after Redis lost them, the
-- aggregator reseeds them from ClickHouse, which already holds this batch.
-- Dead letters are written before, by the aggregator: their stream is not the site's.
local stream, totals, article_pageviews = KEYS[1], KEYS[2], KEYS[3]
local group, seeded = ARGV[1], ARGV[2]
local entries = tonumber(ARGV[3])

local ids = {}
for id in string.gmatch(ARGV[4], "%S+") do
  ids[#ids + 1] = id
end
if #ids ~= entries then
  return redis.error_reply("ack.lua: " .. #ids .. " ids given for " .. entries .. " entries")
end

local acked = 0
local chunk = 500
for first = 1, entries, chunk do
  local last = math.min(first + chunk - 1, entries)
  acked = acked + redis.call("XACK", stream, group, unpack(ids, first, last))
  redis.call("XDEL", stream, unpack(ids, first, last))
end

if acked == 0 or seeded ~= "1" then
  return acked
end
local a = 5
local measures = tonumber(ARGV[a])
a = a + 1
for _ = 1, measures do
  redis.call("HINCRBY", totals, ARGV[a], ARGV[a + 1])
  a = a + 2
end
while a < #ARGV do
  redis.call("HINCRBY", article_pageviews, ARGV[a], ARGV[a + 1])
  a = a + 2
end
return acked
