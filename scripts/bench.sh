#!/bin/bash
# bench.sh - loupe's ingest benchmarks (make bench). Prints figures; never
# asserts. How the cases are made: docs/benchmarks.md, "How the ingest
# benchmarks are made".
#
# The load generator (build/bench/loadgen, tests/bench/loadgen.c) makes a
# fresh, realistic request for every send. For spans and for logs, over
# OTLP/gRPC and over OTLP/HTTP:
#   fresh   a new store with the default limits, measured until
#           BENCH_SECONDS (default 10) or until the requests would reach the
#           limit (no eviction in this case);
#   at cap  a store filled to its limit (1,000,000 items by default) by the
#           load generator over OTLP/gRPC, then loupe restarted on it and
#           measured for BENCH_CAP_SECONDS (default 60), retention evicting
#           all along.
# Each case: items/s acknowledged, ack latency p50/p99 (every request in a
# histogram), the writer thread's ("loupe-writer") and the whole process's
# CPU time per item, database bytes (file + WAL) per item stored, peak RSS.
# In the same run: the load generator alone (--dry-run), the raw SQLite
# floors (tests/bench/bench_raw.c, on the rows of one request of the load
# generator per signal), one prebuilt request sent again and again
# (labelled: it measures a cache), startup on the full stores. At the end, a
# Markdown table of it all.
#
#   scripts/bench.sh [LOUPE_BIN]          (make bench builds what it needs)
#
# Knobs: BENCH_SECONDS, BENCH_CAP_SECONDS, BENCH_CAP (--max-spans and
# --max-logs of every case; default 1000000, loupe's own default),
# BENCH_FILL_SECONDS (bound of each fill round, 900),
# BENCH_ITEMS (per request, 512), BENCH_GRPC_CONNECTIONS (4),
# BENCH_GRPC_IN_FLIGHT (4), BENCH_HTTP_CONNECTIONS (8), BENCH_HALF_RATE=1
# (also measure each at-cap case at half its rate, for latency),
# BENCH_RAW_ROWS (300000), BENCH_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/bench/lib.sh
bin=${1:-build/loupe}
bdir=$(dirname "$bin")/bench
lg=$bdir/loadgen
raw_bin=$bdir/bench_raw
secs=${BENCH_SECONDS:-10}
cap_secs=${BENCH_CAP_SECONDS:-60}
cap=${BENCH_CAP:-1000000}
fill_secs=${BENCH_FILL_SECONDS:-900}
per=${BENCH_ITEMS:-512}
grpc_conns=${BENCH_GRPC_CONNECTIONS:-4}
grpc_inflight=${BENCH_GRPC_IN_FLIGHT:-4}
http_conns=${BENCH_HTTP_CONNECTIONS:-8}
seed=${BENCH_SEED:-$(date +%s)}
for f in "$bin" "$lg" "$raw_bin"; do
    [ -x "$f" ] || { echo "bench: $f missing (make bench builds it)" >&2; exit 1; }
done
[ "$cap_secs" -ge 60 ] 2>/dev/null ||
    echo "bench: BENCH_CAP_SECONDS=$cap_secs is under 60 s: at-cap figures will be noisier"

work=$(mktemp -d /tmp/loupe-bench.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && bench_stop
    rm -rf "$work"
}
trap cleanup EXIT
results=$work/results.tsv # one row per case, for the summary
: >"$results"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(loadavg)
started_at=$(date -u +%Y-%m-%dT%H:%MZ)

# The writer's and the process's CPU seconds, evictions and stored count,
# read before and after a measured run.
snapshot() { # $1 = traces|logs; prints "writer process evicted stored"
    local field=spanCount
    [ "$1" = logs ] && field=logCount
    echo "$(bench_cpu loupe-writer) $(bench_cpu) $(bench_evicted "$1") $(bench_stored $field)"
}

# Runs the load generator against the running loupe and records a row.
# $1 = case label, $2 = traces|logs, $3 = grpc|http, $4 = data dir,
# then load generator flags.
measure() {
    local label=$1 sig=$2 tr=$3 dir=$4
    shift 4
    local port=$GRPC conns=(--connections "$grpc_conns" --in-flight "$grpc_inflight")
    if [ "$tr" = http ]; then
        port=$HTTP
        conns=(--connections "$http_conns")
    fi
    seed=$((seed + 1))
    local before after json=$work/lg-$seed.json
    before=$(snapshot "$sig")
    "$lg" --transport "$tr" --signal "$sig" --addr "127.0.0.1:$port" --items-per-request "$per" \
        "${conns[@]}" --seed "$seed" "$@" >"$json" 2>"$work/lg.err" || true
    after=$(snapshot "$sig")
    local rate p50 p99 acked failed db rss
    rate=$(bench_json "$json" items_per_s)
    p50=$(bench_json "$json" latency_ms.p50)
    p99=$(bench_json "$json" latency_ms.p99)
    acked=$(bench_json "$json" items_acked)
    failed=$(bench_json "$json" requests_failed_total)
    db=$(bench_db_bytes "$dir")
    rss=$(bench_peak_rss_mb)
    LAST_RATE=${rate%.*}
    # label sig transport rate p50 p99 writer_us process_us db_bytes_per_item rss failed evicted stored
    awk -v l="$label" -v s="$sig" -v t="$tr" -v r="${rate:-0}" -v p50="${p50:-0}" -v p99="${p99:-0}" \
        -v a="${acked:-0}" -v f="${failed:-0}" -v db="$db" -v rss="$rss" \
        -v b="$before" -v e="$after" 'BEGIN {
            split(b, x, " "); split(e, y, " ");
            w = a > 0 ? 1e6 * (y[1] - x[1]) / a : 0; c = a > 0 ? 1e6 * (y[2] - x[2]) / a : 0;
            ev = y[3] - x[3]; st = y[4];
            printf "%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.2f\t%.2f\t%.0f\t%.1f\t%d\t%d\t%d\n",
                l, s, t, r, p50, p99, w, c, (st > 0 ? db / st : 0), rss, f, ev, st }' >>"$results"
    tail -n 1 "$results" | awk -F'\t' '{
        printf "  %-44s %9s items/s  ack p50 %7s ms  p99 %7s ms  writer %6s us/item  loupe %6s us/item  %5s B/item stored  peak RSS %s MB  failed %s  evicted %s  stored %s\n",
            $1 " " $2 " " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
    grep -v '^$' "$work/lg.err" | sed 's/^/    /' || true
}

echo "== loupe ingest benchmarks, $started_at, $(nproc) cores, load average $load_start"
echo "   fresh cases ${secs} s, at-cap cases ${cap_secs} s, limit $cap, $per items per request,"
echo "   gRPC $grpc_conns connections x $grpc_inflight streams, HTTP $http_conns connections"

echo "== the load generator alone (generation and encoding, one thread, --dry-run)"
for sig in traces logs; do
    "$lg" --dry-run --signal "$sig" --items-per-request "$per" --duration 3 --seed "$seed" \
        >"$work/dry-$sig.json" 2>"$work/dry.err" || true
    sed 's/^/  /' "$work/dry.err"
done

echo "== fresh: an empty store with the default limits, until $secs s or the limit"
fresh_max=$((cap / per))
for sig in traces logs; do
    for tr in grpc http; do
        dir=$work/fresh-$sig-$tr
        bench_start "$bin" "$dir" --max-spans "$cap" --max-logs "$cap"
        measure "fresh" "$sig" "$tr" "$dir" --duration "$secs" --max-requests "$fresh_max"
        bench_stop
        rm -rf "$dir"
    done
done

echo "== single prebuilt payload (measures a cache): one request sent again and again"
dir=$work/repeat
bench_start "$bin" "$dir" --max-spans "$cap" --max-logs "$cap"
measure "single prebuilt payload (measures a cache)" traces http "$dir" --repeat \
    --duration "$secs" --max-requests "$fresh_max"
bench_stop
rm -rf "$dir"

echo "== at the cap: the store filled to $cap items, then measured for $cap_secs s while retention runs"
for sig in traces logs; do
    field=spanCount
    [ "$sig" = logs ] && field=logCount
    dir=$work/cap-$sig
    bench_start "$bin" "$dir" --max-spans "$cap" --max-logs "$cap"
    # fill over gRPC until the limit is passed by 2% (retention has run),
    # at most 3 rounds of at most BENCH_FILL_SECONDS each
    t0=$(date +%s.%N)
    for round in 1 2 3; do
        stored=$(bench_stored $field)
        # full: retention has run, or is due (it runs just after a commit)
        [ "$stored" -gt "$cap" ] && break
        [ "$stored" -ge "$((cap * 98 / 100))" ] && [ "$(bench_evicted "$sig")" -gt 0 ] && break
        need=$(((cap * 102 / 100 - stored + per - 1) / per))
        seed=$((seed + 1))
        "$lg" --transport grpc --signal "$sig" --addr "127.0.0.1:$GRPC" --items-per-request "$per" \
            --connections "$grpc_conns" --in-flight "$grpc_inflight" --max-requests "$need" \
            --duration "$fill_secs" --seed "$seed" >"$work/fill.json" 2>"$work/fill.err" || true
        echo "  fill $sig round $round: $(sed 's/^loadgen //' "$work/fill.err")"
    done
    t1=$(date +%s.%N)
    echo "  filled: $(bench_stored $field) $sig stored, $(bench_evicted "$sig") evicted, $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s, database $(($(bench_db_bytes "$dir") / 1048576)) MiB"
    bench_stop
    for tr in grpc http; do
        bench_start "$bin" "$dir" --max-spans "$cap" --max-logs "$cap"
        measure "at cap" "$sig" "$tr" "$dir" --duration "$cap_secs"
        if [ "${BENCH_HALF_RATE:-0}" = 1 ] && [ "${LAST_RATE:-0}" -gt 0 ]; then
            measure "at cap, half rate" "$sig" "$tr" "$dir" --duration "$cap_secs" \
                --rate $((LAST_RATE / 2))
        fi
        if [ "$tr" = http ]; then
            sleep 5 # idle after the load: what the process keeps
            echo "  idle RSS 5 s after the load: $(bench_rss_mb) MB"
        fi
        bench_stop
    done
    echo "  startup on this store: $(node tests/bench/startup.mjs "$bin" "$dir" 5)"
    rm -rf "$dir"
done

echo "== raw SQLite floor: one request of the load generator per signal, 512 rows per transaction (tests/bench/bench_raw.c)"
mkdir -p "$work/payload"
"$lg" --write-request "$work/payload/traces.pb" --signal traces --items-per-request 512 --seed "$seed"
"$lg" --write-request "$work/payload/logs.pb" --signal logs --items-per-request 512 --seed "$seed"
raw=$("$raw_bin" "$work/payload" "${BENCH_RAW_ROWS:-300000}")
sed 's/^/  /' <<<"$raw"
raw_of() { sed -n "s/^raw $1 $2: \([0-9.]*\).*/\1/p" <<<"$raw"; }
for sig in spans logs; do
    name=traces
    [ "$sig" = logs ] && name=logs
    printf '(a) raw loop, loupe schema\t%s\t-\t%s\n' "$name" "$(raw_of "$sig" schema)" >>"$work/raw.tsv"
    printf '(a-) raw loop, without attribute index\t%s\t-\t%s\n' "$name" "$(raw_of "$sig" schema-noattr)" >>"$work/raw.tsv"
    printf '(b) raw loop, bare table\t%s\t-\t%s\n' "$name" "$(raw_of "$sig" bare)" >>"$work/raw.tsv"
done

load_end=$(loadavg)
echo
echo "== summary ($started_at; load average $load_start at the start, $load_end at the end)"
echo
awk -F'\t' -v secs="$secs" -v cap_secs="$cap_secs" -v cap="$cap" '
function fmt(n,   s, neg) { # thousands separators
    n = sprintf("%.0f", n); neg = n < 0; if (neg) n = -n; s = "";
    while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
    return (neg ? "-" : "") n s }
FNR == NR && FILENAME ~ /results/ {
    key = $2 "/" $3; if ($1 == "fresh") fresh[key] = $4;
    rows[++n] = $0; next }
{ raws[++m] = $0 }
END {
    print "| case | signal | transport | items/s | % of fresh | ack p50 ms | ack p99 ms | writer CPU us/item | loupe CPU us/item | DB bytes/item stored | peak RSS MB | failed requests |"
    print "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
        split(rows[i], f, "\t"); key = f[2] "/" f[3];
        pct = (f[1] ~ /^at cap/ && fresh[key] > 0) ? sprintf("%.0f%%", 100 * f[4] / fresh[key]) : "";
        label = f[1] == "fresh" ? "fresh (" secs " s)" : f[1] ~ /^at cap/ ? f[1] " (" fmt(cap) ", " cap_secs " s)" : f[1];
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            label, (f[2] == "traces" ? "spans" : "logs"), (f[3] == "grpc" ? "OTLP/gRPC" : "OTLP/HTTP"),
            fmt(f[4]), pct, f[5], f[6], f[7], f[8], fmt(f[9]), f[10], f[11]
    }
    for (i = 1; i <= m; i++) {
        split(raws[i], f, "\t");
        printf "| %s | %s | - | %s | | | | | | | | |\n", f[1], (f[2] == "traces" ? "spans" : "logs"), fmt(f[4])
    }
}' "$results" "$work/raw.tsv"
