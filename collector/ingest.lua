-- Store a batch of events of one site atomically: rate limits, presence, the visit, the stream.
--
-- KEYS[1] is the site's stream, KEYS[2] this commit's receipt, KEYS[3] its presence
-- (`online`): every key the script touches is the site's, hash-tagged by it (see
-- footfall/keys.py), so on a Redis Cluster the call runs on the site's node: the
-- collector calls the script once per site of a group commit, with only that site's
-- events. ARGV[1] is the visit gap (ms), ARGV[2] and ARGV[3] the most events per
-- client and per site in one rate-limit window (0: no limit), ARGV[4] that window
-- (ms), ARGV[5] the site's online window (ms); ARGV[6] to ARGV[9] the prefixes of
-- the site's `readers`, `visit`, `limit` and `accepted` keys (footfall/keys.py),
-- to which the script appends the article, the visitor, the window's number or the
-- minute: it names no key itself. ARGV[10] is what the events are filed by, as one
-- msgpack array of five values per event: its time (ms), its visitor id (as text: a
-- 64-bit id would lose digits in Lua's numbers), true for a page view, the prefix of
-- the client's rate-limit key ("-" for none) and its article ("" for none). Then one
-- argument per event: the event, encoded (footfall/wire.py), which the script adds to
-- the stream as it is.
--
-- Rate limits are fixed windows counted here, in the same call, so they cost no
-- round trip: a counter is read once per batch and written once per batch. A
-- client over its limit is refused before the site's counter is touched, so one
-- flooding client uses at most its own share of the site's budget. Refused
-- events are not stored and not counted. The script returns the refused events
-- as pairs (index in the batch from 0, 1 for the client's limit or 2 for the
-- site's); an empty list when all were stored. Each site also counts the events
-- it stored per minute (`accepted:<minute>`, kept two minutes) for `footfall status`.
--
-- The receipt holds the answer (the refused pairs, comma-separated) for RECEIPT_TTL
-- seconds: when the reply is lost (Redis stopping right after the call, a broken
-- connection), the collector reads it back and answers what really happened. It is
-- written in the same atomic call, so it survives a restart exactly when the events do.
--
-- A visit is a string "start:last:pageviews:entry" that expires after the visit
-- gap of silence, `entry` the encoded event that started it. A page view with no
-- current visit starts one; any event of the visitor keeps it alive. Each stream
-- entry says which visit it belongs to (vs: start, "0" for none), whether it
-- started it (nv), its page view number in the visit (vn, 0 for other events) and
-- the time it adds to the visit's duration (vd, ms since the visit's previous
-- event), so that visits, bounces and durations add up exactly in ClickHouse's
-- rollups; the later entries of a visit carry its entry event too (ve), from
-- which the aggregator stamps the visit's properties (source, country, entry
-- page...) on each of its rows. A visit an older collector started has no entry.
local gap = tonumber(ARGV[1])
local client_limit, site_limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local limit_window, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local readers_prefix, visit_prefix = ARGV[6], ARGV[7]
local limit_prefix, accepted_prefix = ARGV[8], ARGV[9]
local stream, online = KEYS[1], KEYS[3]
local RECEIPT_TTL = 600
local trimmed = {}
local counted, added, lifetime = {}, {}, {}
local refused = {}

local function count(key)
  local n = counted[key]
  if n == nil then
    n = tonumber(redis.call("GET", key) or "0")
    counted[key] = n
  end
  return n
end

local function add(key, ttl)
  -- A limit's counter was read before; the per-minute count needs no read.
  if counted[key] then
    counted[key] = counted[key] + 1
  end
  added[key] = (added[key] or 0) + 1
  lifetime[key] = ttl
end

local function trim(key, before)
  -- A presence key is trimmed at its first event of the call, and its expiry set once
  -- at the end (set after each event, it was set again and again to the same instant).
  if not trimmed[key] then
    redis.call("ZREMRANGEBYSCORE", key, "-inf", "(" .. before)
    trimmed[key] = true
  end
end

local function store(now, visitor, pageview, article, payload)
  trim(online, now - window)
  redis.call("ZADD", online, "GT", now, visitor)
  if article ~= "" then
    local readers = readers_prefix .. article
    trim(readers, now - window)
    redis.call("ZADD", readers, "GT", now, visitor)
  end

  local visit = visit_prefix .. visitor
  local new_visit, start, number, duration, last, entry = false, 0, 0, 0, 0, ""
  local current = redis.call("GET", visit)
  if current then
    local s, l, pageviews, e = string.match(current, "^(%d+):(%d+):(%d+):?(.*)$")
    start, last, number, entry = tonumber(s), tonumber(l), tonumber(pageviews), e
    -- The key's own expiry follows Redis's clock; the events' times decide.
    if now - last >= gap then
      current, start, number, entry = nil, 0, 0, ""
    end
  end
  if current then
    if now > last then
      duration = now - last
      last = now
    end
    if pageview then
      number = number + 1
    end
    redis.call("SET", visit, start .. ":" .. last .. ":" .. number .. ":" .. entry, "PX", gap)
  elseif pageview then
    new_visit, start, number = true, now, 1
    redis.call("SET", visit, now .. ":" .. now .. ":1:" .. payload, "PX", gap)
  end

  if entry ~= "" then
    redis.call("XADD", stream, "*", "e", payload, "nv", "0", "vs", start,
      "vn", pageview and number or 0, "vd", duration, "ve", entry)
  else
    redis.call("XADD", stream, "*", "e", payload, "nv", new_visit and "1" or "0",
      "vs", start, "vn", pageview and number or 0, "vd", duration)
  end
end

local filing = cmsgpack.unpack(ARGV[10])
for i = 0, #ARGV - 11 do
  local now, visitor, pageview, client, article = unpack(filing, 5 * i + 1, 5 * i + 5)
  local slot = math.floor(now / limit_window)
  local verdict, client_key, site_key = 0, nil, nil
  if client_limit > 0 and client ~= "-" then
    client_key = client .. slot
    if count(client_key) >= client_limit then
      verdict = 1
    end
  end
  if verdict == 0 and site_limit > 0 then
    site_key = limit_prefix .. slot
    if count(site_key) >= site_limit then
      verdict = 2
    end
  end
  if verdict == 0 then
    if client_key then
      add(client_key, limit_window)
    end
    if site_key then
      add(site_key, limit_window)
    end
    add(accepted_prefix .. math.floor(now / 60000), 120000)
    store(now, visitor, pageview, article, ARGV[11 + i])
  else
    refused[#refused + 1] = i
    refused[#refused + 1] = verdict
  end
end

for key, n in pairs(added) do
  -- The window is in the key's name; the expiry only clears it away afterwards.
  if redis.call("INCRBY", key, n) == n then
    redis.call("PEXPIRE", key, lifetime[key])
  end
end
for key in pairs(trimmed) do
  redis.call("PEXPIRE", key, window)
end
redis.call("SET", KEYS[2], table.concat(refused, ","), "EX", RECEIPT_TTL)
return refused
