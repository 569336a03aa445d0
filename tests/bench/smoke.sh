#!/bin/bash
# smoke.sh - a cheap check that the ingest benchmark tooling works (make
# bench-smoke): the load generator against a loupe with tiny limits
# (--max-spans 2000 --max-logs 2000), spans and logs at once for
# SMOKE_SECONDS (default 2) over OTLP/gRPC, then over OTLP/HTTP. Checks:
#   - every run had items acknowledged and no request failed;
#   - the store evicted during each transport's runs (/metrics
#     loupe_items_evicted_total) and holds no more than its limits;
#   - the requests were distinct: the spans stored per distinct trace id
#     stored (every trace listed by /api/v1/traces) are within 25% of the
#     generator's spans per trace, and the stored log bodies are all
#     different. As a control, a run of one prebuilt request sent again and
#     again (--repeat) must fail the same trace check.
#
#   tests/bench/smoke.sh [LOUPE_BIN] [LOADGEN_BIN]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
bin=${1:-build/loupe}
lg=${2:-build/bench/loadgen}
secs=${SMOKE_SECONDS:-2}
t_start=$(date +%s.%N)
dir=$(mktemp -d /tmp/loupe-smoke.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && bench_stop
    rm -rf "$dir"
}
trap cleanup EXIT

failures=0
checks=0
check() { # $1 = what, $2 = 0|1 (1: passed), $3 = the figures
    checks=$((checks + 1))
    if [ "$2" = 1 ]; then
        echo "  ok    $1 ($3)"
    else
        echo "  FAIL  $1 ($3)"
        failures=$((failures + 1))
    fi
}

bench_start "$bin" "$dir/data" --max-spans 2000 --max-logs 2000
seed=$(date +%s)

# Stored spans and distinct trace ids, every page of /api/v1/traces (at most
# 20 pages of 1000: the store holds 2000 spans). Prints "SPANS TRACES".
stored_traces() {
    node -e "
        const base='http://127.0.0.1:$UI/api/v1/traces?limit=1000';
        (async () => {
            const ids = new Set(); let spans = 0, cursor = '';
            for (let page = 0; page < 20; page++) {
                const r = await fetch(base + (cursor ? '&cursor=' + cursor : ''));
                const j = await r.json();
                for (const t of j.traces) { ids.add(t.traceId); spans += t.spanCount; }
                if (!j.nextCursor) break;
                cursor = j.nextCursor;
            }
            console.log(spans + ' ' + ids.size);
        })().catch((e) => { console.error(e); process.exit(1); });"
}

# Log records listed (up to 1000) and distinct bodies among them.
stored_log_bodies() {
    curl -sf "http://127.0.0.1:$UI/api/v1/logs?limit=1000" |
        node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
            const l=JSON.parse(s).logs; console.log(l.length+' '+new Set(l.map(x=>x.body)).size)})"
}

# 1 when $1 is within 25% of $2.
within() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > 0 && a >= 0.75 * b && a <= 1.25 * b) ? 1 : 0}'; }

spt_sum=0
for transport in grpc http; do
    port=$GRPC
    [ "$transport" = http ] && port=$HTTP
    ev_t0=$(bench_evicted traces)
    ev_l0=$(bench_evicted logs)
    seed=$((seed + 2))
    "$lg" --transport "$transport" --signal traces --addr "127.0.0.1:$port" --duration "$secs" \
        --connections 2 --seed "$seed" >"$dir/traces.json" 2>"$dir/traces.err" &
    p1=$!
    "$lg" --transport "$transport" --signal logs --addr "127.0.0.1:$port" --duration "$secs" \
        --connections 2 --seed $((seed + 1)) >"$dir/logs.json" 2>"$dir/logs.err" &
    p2=$!
    wait "$p1" || true
    wait "$p2" || true
    echo "$transport:"
    for s in traces logs; do
        acked=$(bench_json "$dir/$s.json" items_acked)
        failed=$(bench_json "$dir/$s.json" requests_failed_total)
        check "$s acknowledged" "$([ "${acked:-0}" -gt 0 ] && echo 1 || echo 0)" \
            "${acked:-0} items, $(bench_json "$dir/$s.json" items_per_s) /s"
        check "$s requests failed: none" "$([ "${failed:-1}" = 0 ] && echo 1 || echo 0)" \
            "failed $(bench_json "$dir/$s.json" requests_failed)"
    done
    ev_t=$(($(bench_evicted traces) - ev_t0))
    ev_l=$(($(bench_evicted logs) - ev_l0))
    check "spans evicted" "$([ "$ev_t" -gt 0 ] && echo 1 || echo 0)" "$ev_t"
    check "logs evicted" "$([ "$ev_l" -gt 0 ] && echo 1 || echo 0)" "$ev_l"
    spans=$(bench_stored spanCount)
    logs=$(bench_stored logCount)
    check "store within its limits" "$([ "$spans" -le 2000 ] && [ "$logs" -le 2000 ] && echo 1 || echo 0)" \
        "$spans spans, $logs logs stored"
    read -r listed traces <<<"$(stored_traces)"
    expect=$(bench_json "$dir/traces.json" spans_per_trace)
    got=$(awk -v s="$listed" -v t="$traces" 'BEGIN {printf "%.2f", t ? s / t : 0}')
    check "distinct traces: stored spans per trace near the generator's" "$(within "$got" "$expect")" \
        "$listed spans in $traces traces = $got per trace, generated $expect"
    read -r nlogs nbodies <<<"$(stored_log_bodies)"
    check "distinct log bodies" "$([ "$nlogs" -gt 0 ] && [ "$nlogs" = "$nbodies" ] && echo 1 || echo 0)" \
        "$nbodies different bodies among $nlogs records"
done

# The control: one prebuilt request again and again piles spans onto the
# same traces, which the distinct-traces check must notice.
echo "control (--repeat):"
"$lg" --transport http --signal traces --addr "127.0.0.1:$HTTP" --duration "$secs" --repeat \
    --max-requests 40 --connections 2 --seed "$seed" >"$dir/repeat.json" 2>"$dir/repeat.err" || true
read -r listed traces <<<"$(stored_traces)"
expect=$(bench_json "$dir/repeat.json" spans_per_trace)
got=$(awk -v s="$listed" -v t="$traces" 'BEGIN {printf "%.2f", t ? s / t : 0}')
check "repeated request fails the distinct-traces check" \
    "$([ "$(within "$got" "$expect")" = 0 ] && [ "$traces" -gt 0 ] && echo 1 || echo 0)" \
    "$listed spans in $traces traces = $got per trace, generated $expect"

elapsed=$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
if [ "$failures" -gt 0 ]; then
    echo "bench-smoke: $failures of $checks checks FAILED (${elapsed} s)"
    exit 1
fi
echo "bench-smoke: ok, $checks checks (${elapsed} s)"
