-- wrk script for bench/aggregator.py's freshness part: page views at a fixed rate.
--
-- wrk sends as fast as it can; this script paces it with delay(), which wrk
-- calls before each request of a connection: the requests of a thread are due
-- at start + k / rate, and delay() returns the milliseconds until the next slot
-- (0 when late), so the rate holds as long as the connections suffice
-- (connections > rate x latency). The clock is clock_gettime(CLOCK_MONOTONIC)
-- through LuaJIT's ffi (bench/wrk_common.lua, shared with bench/soak_load.lua).
--
-- Environment: BENCH_REQUESTS, a file of "user agent<TAB>JSON body" lines
-- (written by bench/aggregator.py); BENCH_RATE, requests per second of each
-- thread (bench/aggregator.py runs one). Counts statuses and the 202s the collector dropped on purpose
-- (X-Footfall-Dropped); done() prints one line "BENCH_JSON {...}".

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")
local now_ms = common.now_ms

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  statuses = {}
  dropped = 0
  -- wrk calls request() once more on the first thread before the run, never sent.
  sent = tid == 1 and -1 or 0
  interval = 1000 / tonumber(os.getenv("BENCH_RATE") or "1000") -- ms between requests
  pool = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local agent, body = line:match("^([^\t]*)\t(.*)$")
    pool[#pool + 1] = wrk.format("POST", "/api/event", {
      ["User-Agent"] = agent,
      ["Content-Type"] = "text/plain;charset=UTF-8",
    }, body)
  end
  next_request = (tid - 1) * 997
  slot = 0
end

function delay()
  local now = now_ms()
  if not started then
    started = now
  end
  slot = slot + 1
  local wait = started + slot * interval - now
  return wait > 0 and math.floor(wait) or 0
end

function request()
  sent = sent + 1
  next_request = next_request % #pool + 1
  return pool[next_request]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 and headers["X-Footfall-Dropped"] then
    dropped = dropped + 1
  end
end

function done(summary, latency, requests)
  local result = common.wrk_summary(summary, latency)
  result.statuses, result.dropped_202, result.sent = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      result.statuses[status] = (result.statuses[status] or 0) + n
    end
    result.dropped_202 = result.dropped_202 + thread:get("dropped")
    result.sent = result.sent + thread:get("sent")
  end
  io.write("BENCH_JSON " .. common.json(result) .. "\n")
end
