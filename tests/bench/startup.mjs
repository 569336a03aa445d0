// startup.mjs - startup time and memory of loupe on an existing data
// directory (make bench).
//
//   node tests/bench/startup.mjs LOUPE_BIN DATA_DIR [RUNS]
//
// Each run: spawn loupe, time until its "ready" line, read /proc/PID/io
// (rchar: bytes read through read/pread, how SQLite reads pages) and VmRSS,
// wait 2 s idle, read VmRSS again, SIGTERM. Prints:
// "startup: runs=N ready_ms_median=X ready_ms_max=X read_kb=X rss_ready_mb=X rss_idle_mb=X"
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [bin, dataDir, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 5);
if (!bin || !dataDir) {
  console.error('usage: startup.mjs LOUPE_BIN DATA_DIR [RUNS]');
  process.exit(2);
}
const status = (pid, key) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))[1]) / 1024;
const rchar = (pid) => Number(readFileSync(`/proc/${pid}/io`, 'utf8').match(/^rchar: (\d+)/m)[1]);

async function once() {
  const t0 = performance.now();
  const p = spawn(bin, ['--ui-addr', '127.0.0.1:0', '--otlp-grpc-addr', '127.0.0.1:0',
    '--otlp-http-addr', '127.0.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => p.on('exit', r));
  const ms = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 30 s\n${err}`)), 30000);
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes(' ready')) { clearTimeout(timer); resolve(performance.now() - t0); }
    });
    p.on('exit', (c) => reject(new Error(`exited ${c}\n${err}`)));
  });
  const read = rchar(p.pid);
  const rssReady = status(p.pid, 'VmRSS');
  await new Promise((r) => setTimeout(r, 2000));
  const rssIdle = status(p.pid, 'VmRSS');
  p.kill('SIGTERM');
  await exited;
  return { ms, read, rssReady, rssIdle };
}

const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
const med = (a) => a[a.length >> 1];
console.log(`startup: runs=${RUNS} ready_ms_median=${med(ms).toFixed(0)} ready_ms_max=${ms[ms.length - 1].toFixed(0)}` +
  ` read_kb=${(med(runs.map((r) => r.read).sort((a, b) => a - b)) / 1024).toFixed(0)}` +
  ` rss_ready_mb=${med(runs.map((r) => r.rssReady).sort((a, b) => a - b)).toFixed(1)}` +
  ` rss_idle_mb=${med(runs.map((r) => r.rssIdle).sort((a, b) => a - b)).toFixed(1)}`);
