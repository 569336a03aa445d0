#!/bin/bash
# bench.sh - loupe's benchmarks (make bench). Prints figures; never asserts.
#
# 1. OTLP/HTTP protobuf ingest, 512 spans per request, wrk from another
#    process against the durable (sqlite) store: spans/s acknowledged and
#    stored, and the server's peak RSS.
# 2. OTLP/HTTP ingest of 512-record log requests, the same way.
# 3. OTLP/gRPC ingest with h2load.
# 4. The trace ingest of 1 with fresh trace ids in every request
#    (post_unique.lua), as real traffic brings new traces.
# 5. The raw SQLite floor in the same run (tests/bench/bench_raw.c): the same
#    rows in 512-row transactions into (a) loupe's schema with all its
#    indexes (including the FTS5 attribute index; "schema-noattr" is the
#    same without it), (b) a bare table; durable end-to-end spans/s (4) and
#    logs/s (2) as ratios of both.
# 6. 1,000,000 spans + 1,000,000 logs stored (BENCH_FILL_SPANS/_LOGS): fill
#    speed and RSS under load (tests/bench/fill.mjs), idle RSS after the
#    load, then startup time, bytes read at startup and idle RSS on that
#    database (tests/bench/startup.mjs).
# Duration per case: BENCH_SECONDS (default 10).
set -euo pipefail
bin=${1:-build/loupe}
secs=${BENCH_SECONDS:-10}
out=build/bench
mkdir -p "$out"
node tests/bench/make_payload.mjs "$out" 512 >/dev/null

start_loupe() { # sets PID, UI, HTTP, GRPC, DATA
    DATA=$(mktemp -d /tmp/loupe-bench.XXXXXX)
    "$bin" --ui-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --otlp-grpc-addr 127.0.0.1:0 --ui-auth none \
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

wrk_case() { # $1 = label, $2 = body file, $3 = path, $4 = items per request, $5 = count field, [$6 = wrk script]
    local label=$1 body=$2 path=$3 per=$4 field=$5 script=${6:-tests/bench/post.lua}
    start_loupe
    local idle
    idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status")
    local res
    res=$(BENCH_BODY="$body" wrk -t2 -c8 -d"${secs}s" -s "$script" \
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
    LAST_RATE=$(awk -v a="$acked" -v d="$dur" 'BEGIN {printf "%.0f", a/(d/1e6)}')
    stop_loupe
}

ratio_line() { # $1 = signal, $2 = loupe rate, $3 = (a), $4 = (b), $5 = absolute target
    awk -v sig="$1" -v r="$2" -v a="$3" -v b="$4" -v t="$5" 'BEGIN {
        printf "%s: loupe %d/s durable end to end = %.0f%% of (a) loupe schema %d/s, %.0f%% of (b) bare table %d/s; targets >= 70%% of (a) and >= %d/s: %s\n",
            sig, r, 100*r/a, a, 100*r/b, b, t, (r >= 0.7*a && r >= t) ? "met" : "NOT met" }'
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
logs_rate=$LAST_RATE
h2load_case "otlp-grpc traces (512 spans/request, -c 8 -m 16)" "$out/traces.grpc" \
    /opentelemetry.proto.collector.trace.v1.TraceService/Export 512 spanCount

wrk_case "otlp-http traces, fresh trace ids per request" "$out/traces.pb" /v1/traces 512 spanCount tests/bench/post_unique.lua
spans_rate=$LAST_RATE

echo "== raw SQLite floor, same rows, 512 rows per transaction (tests/bench/bench_raw.c)"
${MAKE:-make} -s build/bench/bench_raw >/dev/null
raw=$(build/bench/bench_raw "$out" "${BENCH_RAW_ROWS:-300000}")
echo "$raw"
raw_of() { sed -n "s/^raw $1 $2: //p" <<<"$raw"; }
# spans: the case with fresh trace ids (the realistic one); logs: case 2
ratio_line spans "$spans_rate" "$(raw_of spans schema)" "$(raw_of spans bare)" 150000
ratio_line logs "$logs_rate" "$(raw_of logs schema)" "$(raw_of logs bare)" 80000

fill_spans=${BENCH_FILL_SPANS:-1000000}
fill_logs=${BENCH_FILL_LOGS:-1000000}
echo "== $fill_spans spans + $fill_logs logs stored"
start_loupe --max-spans "$fill_spans" --max-logs "$fill_logs"
node tests/bench/fill.mjs "http://127.0.0.1:$HTTP" "$PID" "$fill_spans" "$fill_logs" 4
echo "peak RSS during the fill: $(peak_rss_mb) MB"
sleep 5 # idle after the load: what the process keeps
echo "idle RSS 5 s after the load: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status") MB"
kill -TERM "$PID"
wait "$PID" || true
echo "database: $(du -m "$DATA/loupe.db" | cut -f1) MB"
node tests/bench/startup.mjs "$bin" "$DATA" 5
rm -rf "$DATA"
