#!/bin/bash
# cpu_split.sh - CPU time per stored item of each loupe thread under a wrk
# load (the writer "loupe-writer", the OTLP/HTTP receiver "MHD-worker") and
# of wrk itself. CPU per item moves much less than items/s when the machine
# is shared, so it is the figure to compare two builds with.
#
#   tests/bench/cpu_split.sh [LOUPE_BIN] [traces|logs] [SECONDS]
#
# Needs build/bench/traces.pb and logs.pb (scripts/bench.sh or
# node tests/bench/make_payload.mjs build/bench 512). Traces are sent with
# fresh trace ids per request (post_unique.lua).
set -euo pipefail
bin=${1:-build/loupe}
what=${2:-traces}
secs=${3:-8}
if [ "$what" = traces ]; then
    body=build/bench/traces.pb path=/v1/traces lua=tests/bench/post_unique.lua field=spanCount
else
    body=build/bench/logs.pb path=/v1/logs lua=tests/bench/post.lua field=logCount
fi
D=$(mktemp -d /tmp/loupe-cpu.XXXXXX)
"$bin" --ui-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --otlp-grpc-addr 127.0.0.1:0 --ui-auth none \
    --data-dir "$D" --max-spans 100000000 --max-logs 100000000 >"$D/stdout" 2>"$D/stderr" &
PID=$!
for _ in $(seq 1 200); do
    grep -q ' ready' "$D/stdout" 2>/dev/null && break
    sleep 0.05 # polling a log file for startup
done
UI=$(sed -n 's|.*web UI and API  http://[^:]*:\([0-9]*\)/.*|\1|p' "$D/stdout")
HTTP=$(sed -n 's|.*OTLP/HTTP       http://[^:]*:\([0-9]*\)/.*|\1|p' "$D/stdout")
wrk_cpu=$({ BENCH_BODY=$body /usr/bin/time -f "%U %S" wrk -t2 -c8 -d"${secs}s" -s "$lua" \
    "http://127.0.0.1:$HTTP$path" >"$D/wrk"; } 2>&1 | tail -1)
n=$(curl -s "http://127.0.0.1:$UI/api/v1/services" |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log(JSON.parse(s).services.reduce((a,x)=>a+x['$field'],0))})")
hz=$(getconf CLK_TCK)
echo "$(grep '^wrk:' "$D/wrk") stored=$n load=$(cut -d' ' -f1-3 /proc/loadavg)"
for t in /proc/$PID/task/*; do
    awk -v c="$(cat "$t/comm")" -v n="$n" -v hz="$hz" '{t=($14+$15)/hz; if (t > 0) printf "  %-13s %6.2f s  %6.2f us/item\n", c, t, 1e6*t/n}' "$t/stat"
done
awk -v u="${wrk_cpu% *}" -v s="${wrk_cpu#* }" -v n="$n" 'BEGIN {printf "  %-13s %6.2f s  %6.2f us/item\n", "wrk", u+s, 1e6*(u+s)/n}'
kill -TERM "$PID"
wait "$PID" || true
rm -rf "$D"
