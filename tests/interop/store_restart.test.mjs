// Restart: what is stored is there after SIGTERM and a restart on the same
// data directory, answered exactly as before; a SIGTERM in the middle of a
// load loses nothing that was acknowledged; and startup with a large
// database reads next to nothing of it (no full scans: counters are
// stored), so it stays fast as data piles up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLoupe as start } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { LoadGen, Ledger, post, getApi, pool, allLogBodies, serviceCounts } from './lib/load.mjs';
import { verifyDatabaseIfShell } from './lib/dbcheck.mjs';

// Servers still running when a test fails are killed, so that the runner
// does not wait for them.
const live = new Set();
async function startLoupe(opts) {
  const srv = await start(opts);
  live.add(srv);
  srv.exited.then(() => live.delete(srv));
  return srv;
}
after(async () => {
  for (const srv of live) await srv.kill();
});

// Everything the API says about a set of services and traces.
async function snapshot(srv, services, traceIds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const out = { services: (await getApi(agent, `${srv.uiUrl}/api/v1/services`)).body, traces: {}, logs: {}, metrics: {} };
  await pool(traceIds, 8, async (id) => {
    const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${id}`);
    out.traces[id] = { status, body };
  });
  for (const s of services) {
    out.logs[s] = await allLogBodies(agent, srv.uiUrl, s);
    out.metrics[s] = (await getApi(agent, `${srv.uiUrl}/api/v1/metrics?service=${encodeURIComponent(s)}`)).body;
  }
  agent.destroy();
  return out;
}

test('SIGTERM and restart: traces, logs, metrics and counters answered exactly as before', { timeout: 120000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-restart-'));
  const dataDir = path.join(tmp, 'data');
  let srv = await startLoupe({ storage: 'sqlite', dataDir });
  const exp = exporters(srv, 'http/protobuf');
  const sent = await sendTraces(exp, 'restart-sdk');
  const sentLogs = await sendLogs(exp, 'restart-sdk');
  const sentMetrics = await sendMetrics(exp, 'restart-sdk');
  await Promise.all(Object.values(exp).map((e) => e.shutdown()));
  for (const r of [...sent.results, ...sentLogs.results, ...sentMetrics.results]) assert.equal(r.code, 0, `export failed: ${r.error}`);
  // and some volume, traces split across requests
  const gen = new LoadGen('restart-load');
  const agent = new http.Agent({ keepAlive: true });
  const traceIds = [sent.traceId];
  for (let i = 0; i < 20; i++) {
    const req = gen.traceRequest({ traces: 4, spansPerTrace: 16 });
    traceIds.push(...req.traceIds);
    assert.equal((await post(agent, `${srv.httpUrl}/v1/traces`, req.body)).status, 200);
    const lreq = gen.logRequest({ logs: 100 });
    assert.equal((await post(agent, `${srv.httpUrl}/v1/logs`, lreq.body)).status, 200);
  }
  agent.destroy();
  const services = ['restart-sdk', 'restart-load'];
  const before = await snapshot(srv, services, traceIds);
  // the snapshot holds what was sent (an empty one would compare equal too)
  assert.equal(before.traces[sent.traceId].status, 200);
  assert.equal(before.traces[sent.traceId].body.spans.length, sent.spans.length);
  assert.equal(before.logs['restart-sdk'].length, sentLogs.records.length);
  assert.equal(before.logs['restart-load'].length, 2000);
  assert.ok(before.metrics['restart-sdk'].metrics.length >= 4);

  let res = await srv.stop();
  assert.equal(res.code, 0, srv.stderr);
  assert.match(srv.stderr, /event=stopped/);
  srv = await startLoupe({ storage: 'sqlite', dataDir });
  const after = await snapshot(srv, services, traceIds);
  assert.deepEqual(after, before);
  assert.match(srv.stderr, /event=store_open mode=sqlite [^\n]* spans=\d+ logs=2\d{3} points=\d+/);
  res = await srv.stop();
  assert.equal(res.code, 0);
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
  rmSync(tmp, { recursive: true, force: true });
});

test('SIGTERM in the middle of a load: every acknowledged span and log is there after restart', { timeout: 120000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-restart-term-'));
  const dataDir = path.join(tmp, 'data');
  let srv = await startLoupe({ storage: 'sqlite', dataDir });
  const tgen = new LoadGen('term-traces');
  const lgen = new LoadGen('term-logs');
  const ledger = new Ledger();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let stopping = false;
  const deadline = Date.now() + 5000;
  const sender = async (kind) => {
    while (!stopping && Date.now() < deadline) {
      const req = kind === 't' ? tgen.traceRequest({ traces: 4, spansPerTrace: 16 }) : lgen.logRequest({ logs: 64 });
      ledger.sent(req);
      const r = await post(agent, `${srv.httpUrl}/v1/${kind === 't' ? 'traces' : 'logs'}`, req.body);
      if (r.status === 200) ledger.acked(req);
      else if (!r.status) return; // the server has closed its listener
      else assert.ok(r.status === 503, `answer ${r.status}`); // shutting down: retryable
    }
  };
  const senders = [sender('t'), sender('t'), sender('t'), sender('l'), sender('l')];
  // SIGTERM once the load is well under way: 10 trace and 4 log requests
  // acknowledged (bounded by the senders' deadline)
  while (ledger.ackedSpanCount < 640 || ledger.ackedLogs.size < 256) {
    assert.ok(Date.now() < deadline, `the load got only ${ledger.ackedSpanCount} spans and ${ledger.ackedLogs.size} logs through`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const stopped = srv.stop({ keepData: true });
  const res = await stopped;
  stopping = true;
  await Promise.all(senders);
  agent.destroy();
  assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  t.diagnostic(`${ledger.ackedSpanCount} spans and ${ledger.ackedLogs.size} logs acknowledged before the SIGTERM took effect`);
  assert.ok(ledger.ackedSpanCount > 0);

  srv = await startLoupe({ storage: 'sqlite', dataDir });
  const api = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let present = 0;
  await pool([...ledger.sentSpans.keys()], 8, async (traceId) => {
    const { status, body } = await getApi(api, `${srv.uiUrl}/api/v1/traces/${traceId}`);
    const acked = ledger.ackedSpans.get(traceId) || new Set();
    const got = status === 200 ? new Set(body.spans.map((s) => s.spanId)) : new Set();
    for (const id of acked) assert.ok(got.has(id), `acknowledged span ${id} missing`);
    present += got.size;
  });
  assert.equal((await serviceCounts(api, srv.uiUrl, tgen.service)).spans, present);
  const bodies = new Set(await allLogBodies(api, srv.uiUrl, lgen.service));
  for (const b of ledger.ackedLogs) assert.ok(bodies.has(b), `acknowledged log missing: ${b}`);
  api.destroy();
  assert.equal((await srv.stop()).code, 0);
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
  rmSync(tmp, { recursive: true, force: true });
});

// rchar of /proc/PID/io: bytes the process read through read(2)/pread(2),
// which is how SQLite reads pages (mmap is off by default).
function rchar(pid) {
  return Number(readFileSync(`/proc/${pid}/io`, 'utf8').match(/^rchar: (\d+)/m)[1]);
}

async function timedStart(dataDir) {
  const t0 = performance.now();
  const srv = await startLoupe({ storage: 'sqlite', dataDir });
  const ms = performance.now() - t0;
  return { srv, ms, read: rchar(srv.proc.pid) };
}

test('startup with a large database reads next to nothing of it', { timeout: 300000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-restart-big-'));
  const empty = await timedStart(path.join(tmp, 'empty'));
  await empty.srv.stop();

  const dataDir = path.join(tmp, 'big');
  const srv = await startLoupe({ storage: 'sqlite', dataDir });
  const gen = new LoadGen('big-db');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const REQUESTS = 200; // x 512 spans and 512 logs
  let sent = 0;
  const sender = async () => {
    while (sent < REQUESTS) {
      sent++;
      const tr = gen.traceRequest({ traces: 32, spansPerTrace: 16, split: false });
      const lr = gen.logRequest({ logs: 512 });
      for (const [p, body] of [['traces', tr.body], ['logs', lr.body]]) {
        for (let attempt = 0; ; attempt++) { // a retrying exporter
          const r = await post(agent, `${srv.httpUrl}/v1/${p}`, body);
          if (r.status === 200) break;
          assert.equal(r.status, 503);
          assert.ok(attempt < 50);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
  };
  const t0 = performance.now();
  await Promise.all([sender(), sender(), sender(), sender()]);
  agent.destroy();
  t.diagnostic(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const counts = await serviceCounts(new http.Agent(), srv.uiUrl, 'big-db');
  assert.equal(counts.spans, REQUESTS * 512);
  assert.equal(counts.logs, REQUESTS * 512);
  assert.equal((await srv.stop({ keepData: true })).code, 0);
  const dbBytes = statSync(path.join(dataDir, 'loupe.db')).size;

  const big = await timedStart(dataDir);
  t.diagnostic(`empty database: ready in ${empty.ms.toFixed(0)} ms, ${empty.read} bytes read`);
  t.diagnostic(`${REQUESTS * 512} spans + ${REQUESTS * 512} logs (${(dbBytes / 1048576).toFixed(1)} MiB): ready in ${big.ms.toFixed(0)} ms, ${big.read} bytes read`);
  // the store reads its header, schema and counters: a few pages, not the data
  assert.ok(big.read - empty.read < 1 << 20, `read ${big.read - empty.read} bytes more than with an empty database`);
  assert.ok(big.read < dbBytes / 50, `read ${big.read} of ${dbBytes} bytes`);
  assert.match(big.srv.stderr, new RegExp(`event=store_open mode=sqlite [^\\n]* spans=${REQUESTS * 512} logs=${REQUESTS * 512} `));
  // the API answers at once from the stored counters
  const c = await serviceCounts(new http.Agent(), big.srv.uiUrl, 'big-db');
  assert.equal(c.spans, REQUESTS * 512);
  assert.equal((await big.srv.stop()).code, 0);
  // generous: a loaded CI machine; the figure itself is in the output and in
  // docs/benchmarks.md
  assert.ok(big.ms < empty.ms + 1000, `ready in ${big.ms} ms`);
  rmSync(tmp, { recursive: true, force: true });
});
