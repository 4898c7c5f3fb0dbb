-- Store a batch of events atomically: presence, visit decision, hot counters, stream.
--
-- KEYS[1] is the stream; then four keys per event: the site's online set, the
-- article's readers set, the site's totals hash and its article views hash.
-- ARGV[1] is the visit gap (ms); then six values per event: time (ms), visitor
-- id, "1" for a page view, article id ("" for none), online window (ms), and
-- the encoded event.
--
-- A page view starts a visit when its visitor was not seen on the site for the
-- visit gap. The online set keeps members for the longer of the gap and the
-- window, so it answers both "online now" and "new visit".
local gap = tonumber(ARGV[1])
local stream = KEYS[1]
local trimmed = {}
local count = (#KEYS - 1) / 4

for i = 0, count - 1 do
  local online, readers, totals, views = KEYS[2 + 4 * i], KEYS[3 + 4 * i], KEYS[4 + 4 * i], KEYS[5 + 4 * i]
  local a = 2 + 6 * i
  local now = tonumber(ARGV[a])
  local visitor = ARGV[a + 1]
  local pageview = ARGV[a + 2] == "1"
  local article = ARGV[a + 3]
  local window = tonumber(ARGV[a + 4])
  local keep = math.max(gap, window)

  if not trimmed[online] then
    redis.call("ZREMRANGEBYSCORE", online, "-inf", "(" .. (now - keep))
    trimmed[online] = true
  end
  local last = redis.call("ZSCORE", online, visitor)
  local new_visit = pageview and (not last or tonumber(last) <= now - gap)
  redis.call("ZADD", online, "GT", now, visitor)
  redis.call("PEXPIRE", online, keep)

  if article ~= "" then
    if not trimmed[readers] then
      redis.call("ZREMRANGEBYSCORE", readers, "-inf", "(" .. (now - window))
      trimmed[readers] = true
    end
    redis.call("ZADD", readers, "GT", now, visitor)
    redis.call("PEXPIRE", readers, window)
  end

  if pageview then
    redis.call("HINCRBY", totals, "pageviews", 1)
    if new_visit then
      redis.call("HINCRBY", totals, "visits", 1)
    end
    if article ~= "" then
      redis.call("HINCRBY", views, article, 1)
    end
  end

  redis.call("XADD", stream, "*", "e", ARGV[a + 5], "nv", new_visit and "1" or "0")
end
return count
