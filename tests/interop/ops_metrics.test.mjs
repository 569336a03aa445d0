// Operations endpoints on the UI port: GET /metrics (Prometheus text 0.0.4)
// counts what the official exporters sent over both transports, the bad
// requests, commits and open connections; GET /readyz is 200 while the
// store can write and 503 while the database refuses writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startLoupe } from './lib/server.mjs';
import { chattrWorks } from './lib/dbcheck.mjs';
import { TRACES, LOGS, grpcClient, grpcCall, Status } from './lib/grpc.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { LoadGen, post } from './lib/load.mjs';

// Parses the text format: {name: [{labels, value}]}, plus types and helps.
// Throws on a line it does not understand.
function parseProm(text) {
  const samples = new Map();
  const types = new Map();
  assert.ok(text.endsWith('\n'), 'text ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = line.match(/^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.ok(!types.has(m[2]), `TYPE ${m[2]} twice`);
        assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/);
        types.set(m[2], m[3]);
      }
      continue;
    }
    m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/);
    assert.ok(m, `unparseable line: ${line}`);
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let lm;
      let consumed = 0;
      while ((lm = re.exec(m[3])) !== null) {
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[3].length, `bad labels in ${line}`);
    }
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    assert.ok(!Number.isNaN(value), `bad value in ${line}`);
    if (!samples.has(m[1])) samples.set(m[1], []);
    samples.get(m[1]).push({ labels, value });
  }
  return { samples, types };
}

// The value of the one sample of `name` whose labels include `want`.
function val(prom, name, want = {}) {
  const hits = (prom.samples.get(name) || []).filter((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v));
  assert.equal(hits.length, 1, `${name} ${JSON.stringify(want)}: ${hits.length} samples`);
  return hits[0].value;
}

async function scrape(srv) {
  const res = await fetch(`${srv.uiUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseProm(await res.text());
}

// Polls (bounded) until pred(prom) holds; returns the last scrape.
async function scrapeUntil(srv, pred, what, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const prom = await scrape(srv);
    if (pred(prom)) return prom;
    if (Date.now() > end) assert.fail(`metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const points = (metrics) => metrics.reduce((n, rm) => n + rm.scopeMetrics.reduce((a, sm) => a + sm.metrics.reduce((b, m) => b + m.dataPoints.length, 0), 0), 0);

test('/metrics counts items, requests, commits and connections per signal and transport', { timeout: 60000 }, async () => {
  const srv = await startLoupe({ storage: 'sqlite' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const client = grpcClient(srv.grpcAddr);
  try {
    const prom0 = await scrape(srv);
    assert.equal(val(prom0, 'loupe_build_info').valueOf(), 1);
    assert.match(prom0.samples.get('loupe_build_info')[0].labels.version, /^\d+\.\d+\.\d+/);
    const start = val(prom0, 'loupe_process_start_time_seconds');
    assert.ok(Math.abs(start - Date.now() / 1000) < 120, `start time ${start}`);
    for (const [name, type] of [['loupe_items_received_total', 'counter'], ['loupe_items_accepted_total', 'counter'], ['loupe_items_rejected_total', 'counter'], ['loupe_items_evicted_total', 'counter'], ['loupe_requests_total', 'counter'], ['loupe_ring_bytes', 'gauge'], ['loupe_ring_max_bytes', 'gauge'], ['loupe_database_size_bytes', 'gauge'], ['loupe_open_connections', 'gauge'], ['loupe_store_commit_duration_seconds', 'histogram']]) {
      assert.equal(prom0.types.get(name), type, name);
    }
    assert.ok(val(prom0, 'loupe_ring_max_bytes') > 0);
    assert.ok(val(prom0, 'loupe_database_size_bytes') > 0);
    // OTLP/HTTP bodies held now and their budget (4 x the default 16 MiB cap)
    assert.equal(prom0.types.get('loupe_http_body_bytes'), 'gauge');
    assert.equal(val(prom0, 'loupe_http_body_bytes'), 0);
    assert.equal(val(prom0, 'loupe_http_body_budget_bytes'), 64 * 1024 * 1024);

    const sent = {};
    for (const [transport, protocol] of [['http', 'http/protobuf'], ['grpc', 'grpc']]) {
      const exp = exporters(srv, protocol);
      const tr = await sendTraces(exp, `ops-${transport}`);
      const lg = await sendLogs(exp, `ops-${transport}`);
      const mt = await sendMetrics(exp, `ops-${transport}`);
      for (const r of [...tr.results, ...lg.results, ...mt.results]) assert.equal(r.code, 0, `${protocol} export failed: ${r.error}`);
      sent[transport] = {
        traces: tr.spans.length, logs: lg.records.length, metrics: points(mt.metrics),
        requests: tr.results.length + lg.results.length + mt.results.length,
      };
      assert.ok(sent[transport].traces > 0 && sent[transport].logs > 0 && sent[transport].metrics > 0);
    }

    // one bad request per transport
    const bad = await post(agent, `${srv.httpUrl}/v1/traces`, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal(bad.status, 400);
    const gbad = await grpcCall(client, LOGS, Buffer.from([0x0a, 0x05, 0x01]), { deadlineMs: 10000 });
    assert.equal(gbad.code, Status.INVALID_ARGUMENT);
    // a good one on a connection kept open (keep-alive) on each port
    const gen = new LoadGen('ops-keepalive');
    const req = gen.traceRequest({ traces: 1, spansPerTrace: 4, split: false });
    assert.equal((await post(agent, `${srv.httpUrl}/v1/traces`, req.body)).status, 200);
    assert.equal((await grpcCall(client, TRACES, req.body, { deadlineMs: 10000 })).code, 0);
    sent.http.traces += 4;
    sent.grpc.traces += 4;
    sent.http.requests += 1;
    sent.grpc.requests += 1;

    const prom = await scrape(srv);
    for (const transport of ['http', 'grpc']) {
      for (const signal of ['traces', 'logs', 'metrics']) {
        const l = { signal, transport };
        assert.equal(val(prom, 'loupe_items_received_total', l), sent[transport][signal], `received ${signal}/${transport}`);
        assert.equal(val(prom, 'loupe_items_accepted_total', l), sent[transport][signal], `accepted ${signal}/${transport}`);
        for (const reason of ['invalid', 'too_large', 'backpressure', 'unavailable']) {
          assert.equal(val(prom, 'loupe_items_rejected_total', { ...l, reason }), 0, `rejected ${signal}/${transport}/${reason}`);
        }
      }
      assert.equal(val(prom, 'loupe_requests_total', { transport, outcome: 'ok' }), sent[transport].requests, `ok requests ${transport}`);
      assert.equal(val(prom, 'loupe_requests_total', { transport, outcome: 'invalid' }), 1, `invalid requests ${transport}`);
      assert.equal(val(prom, 'loupe_requests_total', { transport, outcome: 'backpressure' }), 0);
    }
    for (const signal of ['traces', 'logs', 'metrics']) {
      assert.equal(val(prom, 'loupe_store_items_committed_total', { signal }), sent.http[signal] + sent.grpc[signal], `store committed ${signal}`);
      assert.equal(val(prom, 'loupe_items_evicted_total', { signal }), 0);
    }
    // the commit histogram: buckets ascending in le and cumulative, +Inf = count
    const buckets = prom.samples.get('loupe_store_commit_duration_seconds_bucket');
    assert.equal(buckets.length, 12);
    let prevLe = -Infinity;
    let prevCount = 0;
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      assert.ok(le > prevLe, `le ${b.labels.le} ascending`);
      assert.ok(b.value >= prevCount, `bucket le=${b.labels.le} is cumulative`);
      prevLe = le;
      prevCount = b.value;
    }
    const count = val(prom, 'loupe_store_commit_duration_seconds_count');
    assert.ok(count > 0, 'commits were measured');
    assert.equal(prevCount, count, '+Inf bucket equals the count');
    assert.equal(count, val(prom, 'loupe_store_commits_total'));
    const sum = val(prom, 'loupe_store_commit_duration_seconds_sum');
    assert.ok(sum > 0 && sum < count * 30, `sum ${sum}`);
    // connections held open on each port
    assert.ok(val(prom, 'loupe_open_connections', { port: 'http' }) >= 1, 'keep-alive HTTP connection counted');
    assert.ok(val(prom, 'loupe_open_connections', { port: 'grpc' }) >= 1, 'gRPC channel counted');
    assert.ok(val(prom, 'loupe_open_connections', { port: 'ui' }) >= 1, 'this scrape\'s connection counted');
    // and they are uncounted once closed (the exporters' own connections
    // may still be open: the gauges must drop, not reach zero)
    const openGrpc = val(prom, 'loupe_open_connections', { port: 'grpc' });
    const openHttp = val(prom, 'loupe_open_connections', { port: 'http' });
    client.close();
    agent.destroy();
    await scrapeUntil(srv, (p) => val(p, 'loupe_open_connections', { port: 'grpc' }) < openGrpc && val(p, 'loupe_open_connections', { port: 'http' }) < openHttp, `the closed connections go away (grpc ${openGrpc}, http ${openHttp} before)`);

    // HEAD works, other methods do not, a query string is not a different page
    assert.equal((await fetch(`${srv.uiUrl}/metrics`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${srv.uiUrl}/metrics`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${srv.uiUrl}/readyz`, { method: 'DELETE' })).status, 405);
  } finally {
    client.close();
    agent.destroy();
    const res = await srv.stop();
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  }
});

test('/metrics counts backpressure: items refused by a full ring', { timeout: 60000 }, async () => {
  // a tiny ring and a slow writer: concurrent requests are refused with 503
  const srv = await startLoupe({ storage: 'memory', args: ['--ring-size', '1048576'], env: { LOUPE_TEST_WRITER_DELAY_MS: '300' } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const gen = new LoadGen('ops-backpressure');
    const reqs = Array.from({ length: 16 }, () => gen.traceRequest({ traces: 4, spansPerTrace: 16, split: false, padBytes: 2000 }));
    const answers = await Promise.all(reqs.map((r) => post(agent, `${srv.httpUrl}/v1/traces`, r.body)));
    const ok = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 503).length;
    assert.equal(ok + refused, reqs.length, `answers ${answers.map((a) => a.status)}`);
    assert.ok(refused > 0, 'the ring refused some requests');
    const prom = await scrape(srv);
    const l = { signal: 'traces', transport: 'http' };
    assert.equal(val(prom, 'loupe_items_received_total', l), 64 * reqs.length);
    assert.equal(val(prom, 'loupe_items_accepted_total', l), 64 * ok);
    assert.equal(val(prom, 'loupe_items_rejected_total', { ...l, reason: 'backpressure' }), 64 * refused);
    assert.equal(val(prom, 'loupe_requests_total', { transport: 'http', outcome: 'backpressure' }), refused);
    assert.equal(val(prom, 'loupe_store_items_refused_total', { signal: 'traces' }), 64 * refused);
  } finally {
    agent.destroy();
    const res = await srv.stop();
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  }
});

test('/readyz is 200 when the store can write', { timeout: 30000 }, async () => {
  const srv = await startLoupe({ storage: 'memory' });
  try {
    const res = await fetch(`${srv.uiUrl}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready' });
    const h = await fetch(`${srv.uiUrl}/healthz`);
    assert.equal(h.status, 200);
  } finally {
    const res = await srv.stop();
    assert.equal(res.code, 0);
  }
});

const RO_DIR = mkdtempSync(path.join(os.tmpdir(), 'loupe-ops-ro-'));
const RO_SKIP = chattrWorks(RO_DIR);

test('/readyz is 503 while the database refuses writes, 200 again once it recovers', { timeout: 60000, skip: RO_SKIP }, async () => {
  const dataDir = path.join(RO_DIR, 'data');
  const files = ['loupe.db', 'loupe.db-wal'].map((f) => path.join(dataDir, f));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const srv = await startLoupe({ storage: 'sqlite', dataDir });
  try {
    const gen = new LoadGen('ops-readonly');
    const url = `${srv.httpUrl}/v1/traces`;
    assert.equal((await post(agent, url, gen.traceRequest({ split: false }).body)).status, 200);
    assert.equal((await fetch(`${srv.uiUrl}/readyz`)).status, 200);
    execFileSync('chattr', ['+i', ...files]);
    const req = gen.traceRequest({ traces: 2, spansPerTrace: 5, split: false });
    assert.equal((await post(agent, url, req.body)).status, 503);
    const res = await fetch(`${srv.uiUrl}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, 'not ready');
    assert.match(body.reason, /refuses writes/);
    const prom = await scrape(srv);
    assert.equal(val(prom, 'loupe_store_writes_failing'), 1);
    assert.ok(val(prom, 'loupe_store_write_failures_total') >= 1);
    assert.equal(val(prom, 'loupe_items_rejected_total', { signal: 'traces', transport: 'http', reason: 'unavailable' }), 10);
    assert.equal(val(prom, 'loupe_requests_total', { transport: 'http', outcome: 'unavailable' }), 1);
    // /healthz stays 200: alive, just not ready
    assert.equal((await fetch(`${srv.uiUrl}/healthz`)).status, 200);
    execFileSync('chattr', ['-i', ...files]);
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = (await post(agent, url, req.body)).status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(ok, 'ingest resumed');
    assert.equal((await fetch(`${srv.uiUrl}/readyz`)).status, 200);
    assert.equal(val(await scrape(srv), 'loupe_store_writes_failing'), 0);
  } finally {
    agent.destroy();
    spawnSync('chattr', ['-i', ...files]);
    const res = await srv.stop();
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
    rmSync(RO_DIR, { recursive: true, force: true });
  }
});

if (RO_SKIP) rmSync(RO_DIR, { recursive: true, force: true });
