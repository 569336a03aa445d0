#!/bin/bash
# bench_inspector.sh - what the ingest inspector costs on the receive path
# (make bench-inspector). Prints figures; never asserts.
#
# The same load against a loupe with the inspector on (--ingest-log-size
# 1000, the default) and off (--ingest-log-size 0), alternating on/off and
# off/on from round to round so that a change in the machine's load falls
# on both alike. Each run: a fresh loupe with the SQLite store in a new
# directory (limits high enough that nothing is evicted), the load
# generator (build/bench/loadgen) sending traces over OTLP/gRPC (4
# connections x 4 streams) or OTLP/HTTP (8 connections) for BENCH_SECONDS,
# with BENCH_ITEMS items per request (a list: small requests make the
# per-request cost, which is all the inspector adds, weigh the most).
# Figures per run: items/s acknowledged, requests/s, and loupe's CPU time
# per request (user + system of the whole process over the run); then the
# median of each case on and off and their ratio.
#
#   scripts/bench_inspector.sh [LOUPE_BIN]      (make bench-inspector builds what it needs)
#
# Knobs: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_ITEMS ("512 16"),
# BENCH_TRANSPORTS ("grpc http"), BENCH_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/bench/lib.sh
bin=${1:-build/loupe}
lg=$(dirname "$bin")/bench/loadgen
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
items_list=${BENCH_ITEMS:-512 16}
transports=${BENCH_TRANSPORTS:-grpc http}
seed=${BENCH_SEED:-$(date +%s)}
for f in "$bin" "$lg"; do
    [ -x "$f" ] || { echo "bench-inspector: $f missing (make bench-inspector builds it)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/loupe-bench-inspector.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && bench_stop
    rm -rf "$work"
}
trap cleanup EXIT
results=$work/results.tsv # mode transport items rate req_rate cpu_us_per_request
: >"$results"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
started_at=$(date -u +%Y-%m-%dT%H:%MZ)
echo "== the ingest inspector on and off, $started_at, $(nproc) cores, load average $(loadavg)"
echo "   $rounds rounds of $secs s per case; traces; items per request: $items_list"

# One run: $1 = on|off, $2 = grpc|http, $3 = items per request.
run() {
    local mode=$1 tr=$2 per=$3 size=1000
    [ "$mode" = off ] && size=0
    local dir=$work/run
    rm -rf "$dir"
    bench_start "$bin" "$dir" --max-spans 100000000 --ingest-log-size "$size"
    local port=$GRPC conns=(--connections 4 --in-flight 4)
    if [ "$tr" = http ]; then
        port=$HTTP
        conns=(--connections 8)
    fi
    seed=$((seed + 1))
    local cpu0 cpu1 json=$work/lg.json
    cpu0=$(bench_cpu)
    "$lg" --transport "$tr" --signal traces --addr "127.0.0.1:$port" --items-per-request "$per" \
        "${conns[@]}" --duration "$secs" --seed "$seed" >"$json" 2>"$work/lg.err" || true
    cpu1=$(bench_cpu)
    bench_stop
    local rate ok failed
    rate=$(bench_json "$json" items_per_s)
    ok=$(bench_json "$json" requests_ok)
    failed=$(bench_json "$json" requests_failed_total)
    awk -v m="$mode" -v t="$tr" -v p="$per" -v r="${rate:-0}" -v ok="${ok:-0}" -v f="${failed:-0}" \
        -v a="$cpu0" -v b="$cpu1" 'BEGIN {
            printf "%s\t%s\t%d\t%.0f\t%.1f\t%.1f\t%d\n", m, t, p, r, r / p, (ok > 0 ? 1e6 * (b - a) / ok : 0), f }' \
        >>"$results"
    tail -n 1 "$results" | awk -F'\t' '{
        printf "  inspector %-3s %-4s %4d items/request: %9s items/s %8s requests/s  loupe %7s us CPU/request  failed %s\n",
            $1, $2, $3, $4, $5, $6, $7 }'
}

for round in $(seq 1 "$rounds"); do
    order="on off"
    [ $((round % 2)) = 0 ] && order="off on"
    echo "== round $round ($order), load average $(loadavg)"
    for per in $items_list; do
        for tr in $transports; do
            for mode in $order; do
                run "$mode" "$tr" "$per"
            done
        done
    done
done

echo
echo "== summary ($started_at; load average $(loadavg) at the end): medians of $rounds rounds"
echo
awk -F'\t' '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ");
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ k = $2 "\t" $3; if (!(k in seen)) { seen[k] = 1; order[++n] = k } rate[$1, k] = rate[$1, k] " " $4; req[$1, k] = req[$1, k] " " $5; cpu[$1, k] = cpu[$1, k] " " $6 }
END {
    print "| transport | items/request | items/s on | items/s off | on/off | CPU us/request on | CPU us/request off | on/off |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, "\t")
        ron = median(rate["on", k]); roff = median(rate["off", k])
        con = median(cpu["on", k]); coff = median(cpu["off", k])
        printf "| %s | %d | %.0f | %.0f | %.3f | %.1f | %.1f | %.3f |\n", (f[1] == "grpc" ? "OTLP/gRPC" : "OTLP/HTTP"), f[2],
            ron, roff, (roff > 0 ? ron / roff : 0), con, coff, (coff > 0 ? con / coff : 0)
    }
}' "$results"
