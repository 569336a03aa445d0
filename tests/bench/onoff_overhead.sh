#!/bin/bash
# onoff_overhead.sh - what a feature switched by an on|off flag costs at
# ingest (make bench-lint: --lint; make bench-patterns: --log-patterns):
# the load generator against a fresh loupe started with FLAG on and with
# FLAG off, alternately (the order swapped each round, so that a machine
# that slows down or speeds up during the run weighs on both alike), over
# OTLP/gRPC. Prints each run and the median per mode: items/s acknowledged
# and the CPU time per item of one thread (the lint runs on the writer:
# loupe-writer) or of the whole process (log patterns run on the receiving
# threads: ONOFF_THREAD=""), and the difference on - off.
# Prints figures; never asserts.
#
#   tests/bench/onoff_overhead.sh [LOUPE_BIN] [LOADGEN_BIN]
#
# Knobs: ONOFF_FLAG (--lint), ONOFF_THREAD (loupe-writer; "" = the process),
# LINT_BENCH_ROUNDS (5), LINT_BENCH_SECONDS (10), LINT_BENCH_SIGNALS
# ("traces logs"), BENCH_ITEMS (512 per request), BENCH_GRPC_CONNECTIONS (4),
# BENCH_GRPC_IN_FLIGHT (4), BENCH_SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
bin=${1:-build/loupe}
lg=${2:-build/bench/loadgen}
rounds=${LINT_BENCH_ROUNDS:-5}
secs=${LINT_BENCH_SECONDS:-10}
per=${BENCH_ITEMS:-512}
conns=${BENCH_GRPC_CONNECTIONS:-4}
inflight=${BENCH_GRPC_IN_FLIGHT:-4}
seed=${BENCH_SEED:-$(date +%s)}
signals=${LINT_BENCH_SIGNALS:-traces logs}
flag=${ONOFF_FLAG:---lint}
thread=${ONOFF_THREAD-loupe-writer}
cpu_what=${thread:-process}
for f in "$bin" "$lg"; do
    [ -x "$f" ] || { echo "$0: $f missing (make bench-lint builds it)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/loupe-bench-onoff.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && bench_stop
    rm -rf "$work"
}
trap cleanup EXIT
results=$work/results.tsv
: >"$results"

# One run: a fresh store with $flag $1, signal $2; appends
# "signal mode items/s cpu_us_per_item" to the results.
run() {
    local mode=$1 sig=$2 dir=$work/run
    rm -rf "$dir"
    bench_start "$bin" "$dir" "$flag" "$mode"
    seed=$((seed + 1))
    local before after json=$work/lg.json
    before=$(bench_cpu $thread)
    "$lg" --transport grpc --signal "$sig" --addr "127.0.0.1:$GRPC" --items-per-request "$per" \
        --connections "$conns" --in-flight "$inflight" --seed "$seed" --duration "$secs" \
        --max-requests $((900000 / per)) >"$json" 2>"$work/lg.err" || true
    after=$(bench_cpu $thread)
    bench_stop
    PID=
    local rate acked
    rate=$(bench_json "$json" items_per_s)
    acked=$(bench_json "$json" items_acked)
    awk -v s="$sig" -v m="$mode" -v r="${rate:-0}" -v a="${acked:-0}" -v b="$before" -v e="$after" \
        'BEGIN { printf "%s\t%s\t%.0f\t%.2f\n", s, m, r, (a > 0 ? 1e6 * (e - b) / a : 0) }' \
        >>"$results"
    tail -n 1 "$results" | awk -F'\t' -v f="$flag" -v w="$cpu_what" \
        '{ printf "  %-6s %s %-3s %9s items/s  %s %6s us/item\n", $1, f, $2, $3, w, $4 }'
}

echo "== $flag on vs off, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $rounds rounds of $secs s per mode and signal, OTLP/gRPC, $conns connections x $inflight streams, $per items per request"
for round in $(seq 1 "$rounds"); do
    order="on off"
    [ $((round % 2)) -eq 0 ] && order="off on"
    for sig in $signals; do
        for mode in $order; do
            run "$mode" "$sig"
        done
    done
done
echo "== medians (load average at the end $(cut -d' ' -f1-3 /proc/loadavg))"
for sig in $signals; do
    for col in 3 4; do
        for mode in on off; do
            awk -F'\t' -v s="$sig" -v m="$mode" -v c="$col" '$1 == s && $2 == m { print $c }' \
                "$results" | sort -n | awk '{ v[NR] = $1 } END {
                    if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
                    print m }' >"$work/med-$sig-$col-$mode"
        done
    done
    awk -v s="$sig" -v ron="$(cat "$work/med-$sig-3-on")" -v roff="$(cat "$work/med-$sig-3-off")" \
        -v cw="$cpu_what" -v won="$(cat "$work/med-$sig-4-on")" -v woff="$(cat "$work/med-$sig-4-off")" 'BEGIN {
        printf "  %-6s items/s: on %.0f, off %.0f (on %+.1f%%)   %s us/item: on %.2f, off %.2f (on %+.1f%%)\n",
            (s == "traces" ? "spans" : "logs"), ron, roff, (roff > 0 ? 100 * (ron - roff) / roff : 0),
            cw, won, woff, (woff > 0 ? 100 * (won - woff) / woff : 0) }'
done
