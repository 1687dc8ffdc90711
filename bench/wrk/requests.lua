-- wrk script of the benchmark suite (bench/suite.py): sends the requests listed in $BENCH_REQUESTS in turn and
-- prints one JSON line with throughput, latency percentiles and status counts when done.
--
-- Each line of the file is METHOD<TAB>PATH<TAB>BODY (BODY may be empty). Every "{uid}" in a path or body becomes a
-- value unique to the request ($BENCH_RUN, the thread and a counter), so that a checkout or a redemption is new
-- each time. Each thread starts at its own offset; a file shorter than the run is cycled through.
-- $BENCH_AUTH is the Authorization header's value (empty: none).

local threads = {}
local thread_number = 0

function setup(thread)
  thread:set("thread_number", thread_number)
  thread_number = thread_number + 1
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  lines = {}
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  for line in file:lines() do
    local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    if method then
      table.insert(lines, { method, path, body })
    end
  end
  file:close()
  local threads_total = tonumber(os.getenv("BENCH_THREADS") or "1")
  position = math.floor(#lines / threads_total) * thread_number
  counter = 0
  prefix = (os.getenv("BENCH_RUN") or "run") .. "t" .. thread_number .. "n"
  headers = { ["Content-Type"] = "application/json" }
  local auth = os.getenv("BENCH_AUTH") or ""
  if auth ~= "" then
    headers["Authorization"] = auth
  end
end

function request()
  local line = lines[position % #lines + 1]
  position = position + 1
  counter = counter + 1
  local uid = prefix .. counter
  local path = line[2]:gsub("{uid}", uid)
  local body = nil
  if line[3] ~= "" then
    body = line[3]:gsub("{uid}", uid)
  end
  return wrk.format(line[1], path, headers, body)
end

function response(status, response_headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "statuses": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, table.concat(parts, ", "), errors.connect, errors.read, errors.write, errors.timeout))
end
