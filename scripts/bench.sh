#!/bin/bash
# bench.sh - loupe's benchmarks (make bench). Prints figures; never asserts.
#
# 1. OTLP/HTTP protobuf ingest, 512 spans per request, wrk from another
#    process against the durable (sqlite) store: spans/s acknowledged and
#    stored, and the server's peak RSS.
# 2. OTLP/HTTP ingest of 512-record log requests, the same way.
# Duration per case: BENCH_SECONDS (default 10).
set -euo pipefail
bin=${1:-build/loupe}
secs=${BENCH_SECONDS:-10}
out=build/bench
mkdir -p "$out"
node tests/bench/make_payload.mjs "$out" 512 >/dev/null

start_loupe() { # sets PID, UI, HTTP, GRPC, DATA
    DATA=$(mktemp -d /tmp/loupe-bench.XXXXXX)
    "$bin" --ui-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --otlp-grpc-addr 127.0.0.1:0 \
        --data-dir "$DATA" --max-spans 100000000 --max-logs 100000000 "$@" \
        >"$DATA/stdout" 2>"$DATA/stderr" &
    PID=$!
    for _ in $(seq 1 200); do
        grep -q ' ready' "$DATA/stdout" 2>/dev/null && break
        kill -0 "$PID" 2>/dev/null || { cat "$DATA/stderr"; exit 1; }
        sleep 0.05 # polling a log file for startup, not synchronising a test
    done
    UI=$(sed -n 's|.*web UI and API  http://[^:]*:\([0-9]*\)/.*|\1|p' "$DATA/stdout")
    HTTP=$(sed -n 's|.*OTLP/HTTP       http://[^:]*:\([0-9]*\)/.*|\1|p' "$DATA/stdout")
    GRPC=$(sed -n 's|.*OTLP/gRPC       http://[^:]*:\([0-9]*\) .*|\1|p' "$DATA/stdout")
}

stop_loupe() {
    kill -TERM "$PID"
    wait "$PID" || true
    rm -rf "$DATA"
}

cpu_seconds() { # user+system CPU seconds the server has used so far
    awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$PID/stat"
}

peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }

service_count() { # $1 = field (spanCount|logCount)
    curl -s "http://127.0.0.1:$UI/api/v1/services" |
        node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);const x=j.services.find(v=>v.name==='bench-svc');console.log(x?x['$1']:0)})"
}

wrk_case() { # $1 = label, $2 = body file, $3 = path, $4 = items per request, $5 = count field
    local label=$1 body=$2 path=$3 per=$4 field=$5
    start_loupe
    local idle
    idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status")
    local res
    res=$(BENCH_BODY="$body" wrk -t2 -c8 -d"${secs}s" -s tests/bench/post.lua \
        "http://127.0.0.1:$HTTP$path" | grep '^wrk:')
    local reqs non2xx dur
    reqs=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$res")
    non2xx=$(sed 's/.*non2xx=\([0-9]*\).*/\1/' <<<"$res")
    dur=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$res")
    local stored
    stored=$(service_count "$field")
    local acked=$(((reqs - non2xx) * per))
    echo "$label: $res"
    awk -v a="$acked" -v s="$stored" -v d="$dur" -v n="$non2xx" -v rss="$(peak_rss_mb)" -v idle="$idle" -v l="$label" \
        'BEGIN {printf "%s: %.0f items/s acknowledged, %d stored (%d acknowledged), %d answered 503, peak RSS %s MB, idle RSS %s MB\n", l, a/(d/1e6), s, a, n, rss, idle}'
    stop_loupe
}

h2load_case() { # gRPC: $1 = label, $2 = framed body, $3 = method path, $4 = items per request, $5 = count field
    local label=$1 body=$2 path=$3 per=$4 field=$5
    start_loupe
    local cpu0 t0 t1 cpu1
    cpu0=$(cpu_seconds)
    t0=$(date +%s.%N)
    local res
    res=$(h2load -c 8 -m 16 -D "$secs" -d "$body" \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$GRPC$path" 2>&1 | grep -E '^(requests|status codes|finished in)')
    t1=$(date +%s.%N)
    cpu1=$(cpu_seconds)
    local stored
    stored=$(service_count "$field")
    echo "$label: h2load: $(tr '\n' ' ' <<<"$res")"
    awk -v s="$stored" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" -v rss="$(peak_rss_mb)" -v l="$label" \
        'BEGIN {printf "%s: %.0f items/s stored (%d in %.1f s), %.2f CPU seconds per million items, peak RSS %s MB\n", l, s/(t1-t0), s, t1-t0, (s ? (c1-c0)/(s/1e6) : 0), rss}'
    stop_loupe
}

echo "== loupe benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${secs}s per case)"
wrk_case "otlp-http traces (protobuf, 512 spans/request)" "$out/traces.pb" /v1/traces 512 spanCount
wrk_case "otlp-http logs (protobuf, 512 records/request)" "$out/logs.pb" /v1/logs 512 logCount
h2load_case "otlp-grpc traces (512 spans/request, -c 8 -m 16)" "$out/traces.grpc" \
    /opentelemetry.proto.collector.trace.v1.TraceService/Export 512 spanCount
