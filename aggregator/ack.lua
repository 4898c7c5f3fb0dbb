-- Finish a batch atomically: acknowledgement, dead letters, hot counter deltas.
--
-- KEYS: the stream, the "counters seeded" marker, the dead-letter stream, then
-- one totals hash per totals delta, then one article views hash per views delta.
-- ARGV: group, number of entries, number of dead letters, the entry ids joined
-- by spaces (one argument: cheaper to send than thousands); (id, reason, payload)
-- per dead letter; (field, delta) per counter delta.
--
-- The acknowledgement comes first: Redis does not undo a failed script's
-- earlier writes, and a batch must not get its deltas without its ack.
-- Deltas are applied only while the counters are seeded: after Redis lost them,
-- the aggregator reseeds them from ClickHouse, which already holds this batch.
local stream, seeded, dead = KEYS[1], KEYS[2], KEYS[3]
local group = ARGV[1]
local entries, letters = tonumber(ARGV[2]), tonumber(ARGV[3])

local ids = {}
for id in string.gmatch(ARGV[4], "%S+") do
  ids[#ids + 1] = id
end
if #ids ~= entries then
  return redis.error_reply("ack.lua: " .. #ids .. " ids given for " .. entries .. " entries")
end

local chunk = 500
for first = 1, entries, chunk do
  local last = math.min(first + chunk - 1, entries)
  redis.call("XACK", stream, group, unpack(ids, first, last))
  redis.call("XDEL", stream, unpack(ids, first, last))
end

local a = 5
for _ = 1, letters do
  redis.call("XADD", dead, "*", "id", ARGV[a], "reason", ARGV[a + 1], "e", ARGV[a + 2])
  a = a + 3
end

if redis.call("EXISTS", seeded) == 1 then
  for k = 4, #KEYS do
    redis.call("HINCRBY", KEYS[k], ARGV[a], ARGV[a + 1])
    a = a + 2
  end
end
return entries
