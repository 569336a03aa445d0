# lib.sh - shell helpers shared by scripts/bench.sh and tests/bench/smoke.sh:
# start and stop a loupe on loopback ports it picks, read its threads' CPU
# time, memory, self-metrics and stored counts. Sourced, not run.
#
# bench_start BIN DATA_DIR [FLAGS...] sets PID, UI, HTTP, GRPC.

bench_start() {
    local bin=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    "$bin" --ui-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --otlp-grpc-addr 127.0.0.1:0 \
        --ui-auth none --data-dir "$dir" "$@" >"$dir/stdout" 2>"$dir/stderr" &
    PID=$!
    local i
    for i in $(seq 1 200); do
        grep -q ' ready' "$dir/stdout" 2>/dev/null && break
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "loupe did not start:" >&2
            cat "$dir/stderr" >&2
            return 1
        fi
        sleep 0.05 # polling a log file for the ready line, at most 10 s
    done
    grep -q ' ready' "$dir/stdout" || { echo "loupe not ready after 10 s" >&2; return 1; }
    UI=$(sed -n 's|.*web UI and API  http://[^:]*:\([0-9]*\)/.*|\1|p' "$dir/stdout")
    HTTP=$(sed -n 's|.*OTLP/HTTP       http://[^:]*:\([0-9]*\)/.*|\1|p' "$dir/stdout")
    GRPC=$(sed -n 's|.*OTLP/gRPC[+HTTP ]* http://[^:]*:\([0-9]*\) .*|\1|p' "$dir/stdout")
}

# SIGTERM and wait (loupe's own watchdog ends it within 10 s).
bench_stop() {
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" || true
}

# CPU seconds (user + system) of loupe's thread named $1, or of the whole
# process without an argument.
bench_cpu() {
    local hz t
    hz=$(getconf CLK_TCK)
    if [ $# -eq 0 ]; then
        awk -v hz="$hz" '{sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz}' "/proc/$PID/stat"
        return
    fi
    for t in /proc/"$PID"/task/*; do
        if [ "$(cat "$t/comm" 2>/dev/null)" = "$1" ]; then
            # fields after the command name, which may hold spaces
            awk -v hz="$hz" '{sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz}' "$t/stat"
            return
        fi
    done
    echo 0
}

bench_peak_rss_mb() { awk '/^VmHWM/ {printf "%.1f\n", $2/1024}' "/proc/$PID/status"; }
bench_rss_mb() { awk '/^VmRSS/ {printf "%.1f\n", $2/1024}' "/proc/$PID/status"; }

# Items of signal $1 (spans|logs) evicted so far, from GET /metrics.
bench_evicted() {
    curl -sf "http://127.0.0.1:$UI/metrics" |
        awk -v s="$1" '$1 ~ /^loupe_items_evicted_total/ && index($1, "signal=\"" s "\"") {n += $2}
                       END {printf "%d\n", n}'
}

# Items stored now: the sum of every service's spanCount or logCount.
bench_stored() { # $1 = spanCount|logCount
    curl -sf "http://127.0.0.1:$UI/api/v1/services" |
        node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
            console.log(JSON.parse(s).services.reduce((a,x)=>a+(x['$1']||0),0))})"
}

# Bytes of the database file and its WAL.
bench_db_bytes() { # $1 = data dir
    local n=0 f
    for f in "$1/loupe.db" "$1/loupe.db-wal"; do
        [ -f "$f" ] && n=$((n + $(stat -c %s "$f")))
    done
    echo "$n"
}

# Field $2 of the JSON object in file $1, by a dotted path ("latency_ms.p99").
bench_json() {
    node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));
        let v=j; for (const k of process.argv[2].split('.')) v=v==null?undefined:v[k];
        console.log(v===undefined?'':typeof v==='object'?JSON.stringify(v):v)" "$1" "$2"
}
