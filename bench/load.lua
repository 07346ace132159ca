-- wrk script for `npm run bench`: unique update_ids per request (each wrk thread counts in its own
-- range), POSTed to the bots listed in BENCH_TARGETS ("path secret" per line), round robin.
local threads = {}
local template = os.getenv("BENCH_TEMPLATE")
local targets = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local path, secret = line:match("^(%S+) (%S+)$")
  targets[#targets + 1] = { path = path, secret = secret }
end

function setup(thread)
  thread:set("first", (#threads + 1) * 100000000 + tonumber(os.getenv("BENCH_ID_BASE") or "0"))
  threads[#threads + 1] = thread
end

local n = 0
function request()
  n = n + 1
  local target = targets[(n % #targets) + 1]
  local body = template:gsub("__ID__", tostring(first + n), 1)
  return wrk.format("POST", target.path, {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = target.secret,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
