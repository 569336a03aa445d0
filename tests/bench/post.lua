-- post.lua - wrk script: POST a prebuilt OTLP body read from $BENCH_BODY.
local path = os.getenv("BENCH_BODY")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/x-protobuf"

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("wrk: requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
