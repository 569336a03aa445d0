// fill.mjs - fills a running loupe with SPANS spans and LOGS log records over
// OTLP/HTTP protobuf (unique trace ids, requests made by the official
// serializers), retrying 503 answers as an exporter would, and samples the
// server's RSS meanwhile (make bench).
//
//   node tests/bench/fill.mjs HTTP_URL PID SPANS LOGS [CONCURRENCY]
//
// Prints: "fill: spans=N logs=N seconds=S spans_per_s=X logs_per_s=Y
//          rss_max_mb=M rss_median_mb=M retries=R"
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LoadGen, post } from '../interop/lib/load.mjs';

const [url, pid, spansArg, logsArg, concArg] = process.argv.slice(2);
const SPANS = Number(spansArg || 1000000);
const LOGS = Number(logsArg || 1000000);
const CONC = Number(concArg || 4);
const PER = 512;
if (!url || !pid) {
  console.error('usage: fill.mjs HTTP_URL PID SPANS LOGS [CONCURRENCY]');
  process.exit(2);
}

const rssMb = () => {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]) / 1024;
  } catch {
    return NaN;
  }
};
const samples = [];
const sampler = setInterval(() => samples.push(rssMb()), 250);

const agent = new http.Agent({ keepAlive: true, maxSockets: CONC * 2 });
const gen = new LoadGen('fill-svc');
let retries = 0;
async function send(path, body) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const r = await post(agent, `${url}${path}`, body, 60000);
    if (r.status === 200) return;
    if (r.status !== 503) throw new Error(`${path}: ${r.status ?? r.error.message}`);
    retries++;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${path}: still refused after 100 attempts`);
}

async function phase(kind, total) {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      next += PER;
      const body = kind === 'spans'
        ? gen.traceRequest({ traces: PER / 16, spansPerTrace: 16, split: false }).body
        : gen.logRequest({ logs: PER }).body;
      await send(kind === 'spans' ? '/v1/traces' : '/v1/logs', body);
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  return (performance.now() - t0) / 1000;
}

const ts = await phase('spans', SPANS);
const tl = await phase('logs', LOGS);
clearInterval(sampler);
agent.destroy();
const rss = samples.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
console.log(`fill: spans=${Math.ceil(SPANS / PER) * PER} logs=${Math.ceil(LOGS / PER) * PER} seconds=${(ts + tl).toFixed(1)}` +
  ` spans_per_s=${(SPANS / ts).toFixed(0)} logs_per_s=${(LOGS / tl).toFixed(0)}` +
  ` rss_max_mb=${rss[rss.length - 1]?.toFixed(1)} rss_median_mb=${rss[rss.length >> 1]?.toFixed(1)} retries=${retries}`);
