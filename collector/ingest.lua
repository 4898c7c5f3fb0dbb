-- Store a batch of events atomically: presence, the visit it belongs to, the stream.
--
-- KEYS[1] is the stream. ARGV[1] is the visit gap (ms); then two values per
-- event: a header "time visitor pageview window site article" (ms, visitor id,
-- 1 or 0, ms, domain, the rest of the string) and the encoded event.
-- The per-site keys are built here from the header, hash-tagged by site (see
-- footfall/keys.py): passing three keys per event cost the collector more time
-- packing arguments than anything else it does.
--
-- A visit is a string "start:last:pageviews" that expires after the visit gap
-- of silence. A page view with no current visit starts one; any event of the
-- visitor keeps it alive. Each stream entry says which visit it belongs to
-- (vs: start, "0" for none), whether it started it (nv), its page view number
-- in the visit (vn, 0 for other events) and the time it adds to the visit's
-- duration (vd, ms since the visit's previous event), so that visits, bounces
-- and durations add up exactly in ClickHouse's rollups.
local gap = tonumber(ARGV[1])
local stream = KEYS[1]
local trimmed = {}

local function trim(key, before)
  if not trimmed[key] then
    redis.call("ZREMRANGEBYSCORE", key, "-inf", "(" .. before)
    trimmed[key] = true
  end
end

for a = 2, #ARGV, 2 do
  local now, visitor, flag, window, site, article =
    string.match(ARGV[a], "^(%d+) (%d+) ([01]) (%d+) (%S+) ?(.*)$")
  now, window = tonumber(now), tonumber(window)
  local pageview = flag == "1"
  local prefix = "ff:{" .. site .. "}:"

  local online = prefix .. "online"
  trim(online, now - window)
  redis.call("ZADD", online, "GT", now, visitor)
  redis.call("PEXPIRE", online, window)
  if article ~= "" then
    local readers = prefix .. "readers:" .. article
    trim(readers, now - window)
    redis.call("ZADD", readers, "GT", now, visitor)
    redis.call("PEXPIRE", readers, window)
  end

  local visit = prefix .. "visit:" .. visitor
  local new_visit, start, number, added, last = false, 0, 0, 0, 0
  local current = redis.call("GET", visit)
  if current then
    local s, l, pageviews = string.match(current, "^(%d+):(%d+):(%d+)$")
    start, last, number = tonumber(s), tonumber(l), tonumber(pageviews)
    -- The key's own expiry follows Redis's clock; the events' times decide.
    if now - last >= gap then
      current, start, number = nil, 0, 0
    end
  end
  if current then
    if now > last then
      added = now - last
      last = now
    end
    if pageview then
      number = number + 1
    end
    redis.call("SET", visit, start .. ":" .. last .. ":" .. number, "PX", gap)
  elseif pageview then
    new_visit, start, number = true, now, 1
    redis.call("SET", visit, now .. ":" .. now .. ":1", "PX", gap)
  end

  redis.call("XADD", stream, "*", "e", ARGV[a + 1], "nv", new_visit and "1" or "0",
    "vs", start, "vn", pageview and number or 0, "vd", added)
end
return (#ARGV - 1) / 2
