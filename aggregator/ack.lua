-- Finish a batch atomically: acknowledgement, dead letters, hot counter deltas.
--
-- KEYS: the stream, the "counters seeded" marker, the dead-letter stream, then
-- one totals hash per totals delta, then one article views hash per views delta.
-- ARGV: group, number of entries, number of dead letters; the entry ids;
-- (id, reason, payload) per dead letter; (field, delta) per counter delta.
--
-- The acknowledgement comes first: Redis does not undo a failed script's
-- earlier writes, and a batch must not get its deltas without its ack.
-- Deltas are applied only while the counters are seeded: after Redis lost them,
-- the aggregator reseeds them from ClickHouse, which already holds this batch.
local stream, seeded, dead = KEYS[1], KEYS[2], KEYS[3]
local group = ARGV[1]
local entries, letters = tonumber(ARGV[2]), tonumber(ARGV[3])

local chunk = 500
for first = 4, 3 + entries, chunk do
  local last = math.min(first + chunk - 1, 3 + entries)
  redis.call("XACK", stream, group, unpack(ARGV, first, last))
  redis.call("XDEL", stream, unpack(ARGV, first, last))
end

local a = 4 + entries
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
