-- wrk script of bench/soak.py: sends the planned events, each on its slot.
--
--   SOAK_PLAN=plan [SOAK_SENT=file] wrk --threads 1 --connections 100 \
--     --duration <run + grace>s --timeout 30s --script bench/soak_load.lua URL
--
-- SOAK_PLAN is a plan of bench/soak_plan.py: one event a line, "slot (ms after the
-- start)<TAB>type<TAB>user agent<TAB>address<TAB>Origin<TAB>JSON body", in slot
-- order. Line k goes out as `POST /api/event` (text/plain, as sendBeacon sends it,
-- the address in X-Forwarded-For) at its slot: wrk calls delay() before each
-- request of a connection, and delay() gives that connection the next line's
-- slot and returns the milliseconds until it (0 when it is past); request() then
-- sends the next line and records how late it went out after its slot (a load
-- that falls behind shows, for instance when every connection waits for an
-- answer) and, with SOAK_SENT, when it went out (ms after the start, a line each).
-- After the last line delay() returns a day, so nothing more is sent; once every
-- request sent is answered the script ends the run (SIGINT to wrk), before
-- --duration, which only bounds a run that cannot finish.
--
-- One thread (the plan is one sequence). done() prints one line "SOAK_JSON {...}":
-- the answers by status ("202 dropped": a 202 with X-Footfall-Dropped), per 10 s
-- of the run too, sent and answered counts (sent - answered: requests never
-- answered, which the collector may or may not have stored), the lateness (max,
-- mean, histogram), the run's start on the epoch clock, and wrk's own socket
-- errors and latency (wrk's answers are not tied to their requests, so the
-- accepted events of each type are not known here).

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")
local now_ms = common.now_ms

local IDLE_MS = 24 * 3600 * 1000 -- delay() after the last line: longer than any run
local BUCKET_MS = 10000 -- answers are counted per 10 s, to show the Redis restart
local LATE_LIMITS = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000 }

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = assert(os.getenv("SOAK_PLAN"), "SOAK_PLAN: the plan file")
  slots = {} -- ms after the start, per line; the lines themselves are read as they go out
  for line in io.lines(path) do
    slots[#slots + 1] = tonumber(line:match("^[^\t]*"))
  end
  plan = assert(io.open(path))
  -- SOAK_SENT (optional): when each line went out, ms after the start, a line each.
  sent_log = os.getenv("SOAK_SENT") and assert(io.open(os.getenv("SOAK_SENT"), "w"))
  lines = #slots
  reserved, sent, answered, extra = 0, 0, 0, 0
  statuses = {}
  -- thread:get() copies flat tables only (wrk crashes on a nested one).
  per_10s = {} -- ["<start of the bucket, s> <status>"] = answers
  sent_by_type = {}
  late_max, late_sum, late_histogram = 0, 0, {}
  for _, limit in ipairs(LATE_LIMITS) do
    late_histogram["le_" .. limit] = 0
  end
  late_histogram.more = 0
end

function delay()
  local now = now_ms()
  if not started then
    started, started_epoch = now, common.epoch_ms()
  end
  if reserved >= lines then
    return IDLE_MS
  end
  reserved = reserved + 1
  local wait = started + slots[reserved] - now
  return wait > 0 and math.ceil(wait) or 0
end

local function record_late(ms)
  late_max = math.max(late_max, ms)
  late_sum = late_sum + ms
  for _, limit in ipairs(LATE_LIMITS) do
    if ms <= limit then
      late_histogram["le_" .. limit] = late_histogram["le_" .. limit] + 1
      return
    end
  end
  late_histogram.more = late_histogram.more + 1
end

function request()
  local line = started and plan:read("*l")
  if not line then
    -- wrk tries the script once before the run (never sent); after the last line
    -- delay() holds every connection back, so this is only a guard.
    extra = extra + (started and 1 or 0)
    return wrk.format("GET", "/metrics")
  end
  sent = sent + 1
  local now = now_ms()
  local slot, kind, agent, address, origin, body =
    line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  record_late(math.max(0, now - started - tonumber(slot)))
  if sent_log then
    sent_log:write(string.format("%.1f\n", now - started))
  end
  sent_by_type[kind] = (sent_by_type[kind] or 0) + 1
  last_sent = now
  return wrk.format("POST", "/api/event", {
    ["User-Agent"] = agent,
    ["X-Forwarded-For"] = address,
    ["Origin"] = origin,
    ["Content-Type"] = "text/plain;charset=UTF-8",
  }, body)
end

function response(status, headers, body)
  answered = answered + 1
  local outcome = tostring(status)
  if status == 202 and headers["X-Footfall-Dropped"] then
    outcome = "202 dropped"
  end
  statuses[outcome] = (statuses[outcome] or 0) + 1
  local now = now_ms()
  local key = (math.floor((now - started) / BUCKET_MS) * BUCKET_MS / 1000) .. " " .. outcome
  per_10s[key] = (per_10s[key] or 0) + 1
  last_answer = now
  if sent == lines and answered == sent then
    if sent_log then
      sent_log:flush() -- else at exit
    end
    common.stop_run()
  end
end

function done(summary, latency, requests)
  local t = threads[1]
  local got = {}
  for _, name in ipairs({ "lines", "sent", "answered", "extra", "statuses", "per_10s",
    "sent_by_type", "late_max", "late_sum", "late_histogram", "started", "started_epoch",
    "last_sent", "last_answer" }) do
    got[name] = t:get(name)
  end
  local started = got.started or 0
  local per_10s = {}
  for key, n in pairs(got.per_10s) do
    local bucket, outcome = key:match("^(%S+) (.*)$")
    per_10s[bucket] = per_10s[bucket] or {}
    per_10s[bucket][outcome] = n
  end
  local result = {
    lines = got.lines,
    sent = got.sent,
    answered = got.answered,
    unanswered = got.sent - got.answered,
    extra = got.extra,
    statuses = got.statuses,
    per_10s = per_10s,
    sent_by_type = got.sent_by_type,
    start_epoch_ms = got.started_epoch or 0,
    sending_s = ((got.last_sent or started) - started) / 1000,
    answered_s = ((got.last_answer or started) - started) / 1000,
    late_ms = {
      max = got.late_max,
      mean = got.sent > 0 and got.late_sum / got.sent or 0,
      histogram = got.late_histogram,
    },
    wrk = common.wrk_summary(summary, latency),
  }
  io.write("SOAK_JSON " .. common.json(result) .. "\n")
end
