-- What bench/'s wrk scripts share: a clock, a way to end the run early, JSON.
--
-- A script loads it from its own folder (wrk names the script as given to -s):
--   local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
--     .. "wrk_common.lua")
-- wrk runs the script in a Lua state per thread and one more for setup() and
-- done(); each loads this anew.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
int getpid(void);
int kill(int pid, int sig);
]]

local common = {}
local timespec = ffi.new("bench_timespec")

local function clock_ms(clock)
  ffi.C.clock_gettime(clock, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- Milliseconds on CLOCK_MONOTONIC, for pacing and lateness.
function common.now_ms()
  return clock_ms(1)
end

-- Milliseconds since the epoch (CLOCK_REALTIME), to line the run up with other clocks.
function common.epoch_ms()
  return clock_ms(0)
end

-- Ends the run now instead of at --duration: wrk's main thread sleeps --duration
-- seconds, or until a SIGINT, then stops the threads (within 100 ms) and calls
-- done(). kill() gives the signal to the main thread, which does not block it.
function common.stop_run()
  ffi.C.kill(ffi.C.getpid(), 2) -- SIGINT
end

-- JSON of numbers, strings (no control characters), booleans and tables, every
-- table an object (its keys as strings, sorted).
function common.json(value)
  local kind = type(value)
  if kind == "number" then
    if value == math.floor(value) and math.abs(value) < 2 ^ 53 then
      return string.format("%d", value)
    end
    return string.format("%.3f", value)
  elseif kind == "string" then
    return '"' .. value:gsub('[\\"]', "\\%0") .. '"'
  elseif kind == "boolean" then
    return tostring(value)
  elseif kind == "table" then
    local keys = {}
    for k in pairs(value) do
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      return tostring(a) < tostring(b)
    end)
    local items = {}
    for i, k in ipairs(keys) do
      items[i] = common.json(tostring(k)) .. ":" .. common.json(value[k])
    end
    return "{" .. table.concat(items, ",") .. "}"
  end
  return "null"
end

-- wrk's socket errors and its latency (µs) in done(), as tables for common.json.
-- wrk corrects the latencies for coordinated omission before done(): it adds
-- samples for the answers slower than twice (connections / requests per second).
function common.wrk_summary(summary, latency)
  local e = summary.errors
  return {
    duration_us = summary.duration,
    requests = summary.requests,
    errors = {
      connect = e.connect, read = e.read, write = e.write, status = e.status, timeout = e.timeout,
    },
    latency_us = {
      mean = latency.mean, p50 = latency:percentile(50), p90 = latency:percentile(90),
      p99 = latency:percentile(99), max = latency.max,
    },
  }
end

return common
