-- wrk script of the benchmark (run by `bench-run`, see bench/bench.sh): POSTs the call request
-- in the file $BENCH_BODY to the URL given on the command line, and prints one line
-- `BENCH {json}` with the counts and the latency percentiles (microseconds).
--
-- Bounds: wrk stops at -d; each of wrk's threads also stops sending after
-- ceil($BENCH_MAX_REQUESTS / $BENCH_THREADS) requests (a safety bound, set above what the
-- servers reach; the driver flags a run that hits it). The count is kept in `request()`, which
-- costs the generator about 2% (a `response()` callback would cost about 10%: wrk then hands
-- every answer's headers to Lua). Answers other than 2xx/3xx are counted by wrk itself
-- (`status_errors`); the driver checks every server's exact answer before measuring.

local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

function init(args)
  sent = 0
  limit = math.ceil(tonumber(os.getenv("BENCH_MAX_REQUESTS")) / tonumber(os.getenv("BENCH_THREADS")))
  req = wrk.format()
end

function request()
  sent = sent + 1
  if sent > limit then
    wrk.thread:stop()
  end
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"mean_us":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
