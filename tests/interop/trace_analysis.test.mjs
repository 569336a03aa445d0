// Interop: GET /api/v1/traces/{id}/analysis and GET /api/v1/traces/compare
// over traces sent by the official OpenTelemetry JS SDK and exporters
// (gRPC, OTLP/HTTP JSON and protobuf), with timings chosen so the critical
// path, self times, statistics and the merged tree are known in advance:
// sequential and parallel children, a child that outlives its parent, a
// clock-skewed child, an orphan root; and clean 400/404 answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { trace, ROOT_CONTEXT, SpanKind, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';

let srv;
before(async () => { srv = await startLoupe({ storage: 'sqlite' }); });
after(async () => { await srv?.stop(); });

const MS = 1000000; // ns
const BASE = Date.UTC(2024, 4, 1, 12, 0, 0);

// Sends spans through one exporter and checks every export was accepted.
// spec: [{key, service, name, start, end (ms from base), parent (a key, or
// a SpanContext for a parent not in the trace, or undefined for a root)}],
// parents before children. Returns {traceId, ids: key -> spanId}.
async function send(protocol, spec, base = BASE) {
  const results = [];
  const exp = exporters(srv, protocol).traces;
  const recorder = {
    export: (items, done) => exp.export(items, (r) => { results.push(r.code); done(r); }),
    shutdown: () => Promise.resolve(), // the exporter is shared: shut once, below
    forceFlush: () => Promise.resolve(),
  };
  const providers = new Map();
  const tracerOf = (service) => {
    if (!providers.has(service)) {
      providers.set(service, new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new BatchSpanProcessor(recorder, { maxQueueSize: 1000, maxExportBatchSize: 1000, scheduledDelayMillis: 60000 })],
      }));
    }
    return providers.get(service).getTracer('trace-analysis-test', '1.0');
  };
  const spans = new Map();
  for (const s of spec) {
    let ctx = ROOT_CONTEXT;
    if (typeof s.parent === 'string') ctx = trace.setSpan(ROOT_CONTEXT, spans.get(s.parent));
    else if (s.parent) ctx = trace.setSpanContext(ROOT_CONTEXT, s.parent);
    const span = tracerOf(s.service).startSpan(s.name, { kind: SpanKind.INTERNAL, startTime: new Date(base + s.start) }, ctx);
    spans.set(s.key, span);
  }
  for (const s of [...spec].reverse()) spans.get(s.key).end(new Date(base + s.end));
  for (const p of providers.values()) { await p.forceFlush(); await p.shutdown(); }
  await exp.shutdown();
  assert.ok(results.length > 0 && results.every((c) => c === 0), `exports accepted: ${results}`);
  const ids = Object.fromEntries([...spans].map(([k, sp]) => [k, sp.spanContext().spanId]));
  return { traceId: spans.get(spec[0].key).spanContext().traceId, ids };
}

// A checkout: root 0-100 > skewed (-10..3, before its parent by clock
// skew), auth 5-15, then load cart 20-60 (> SELECT cart 25-55) in
// parallel with load prices 20-45, then charge 65-95 (> notify 80-130,
// which outlives it).
const CHECKOUT = [
  { key: 'root', service: 'frontend', name: 'POST /checkout', start: 0, end: 100 },
  { key: 'skewed', service: 'inventory', name: 'reserve', start: -10, end: 3, parent: 'root' },
  { key: 'auth', service: 'frontend', name: 'auth', start: 5, end: 15, parent: 'root' },
  { key: 'cart', service: 'cart', name: 'load cart', start: 20, end: 60, parent: 'root' },
  { key: 'sql', service: 'db', name: 'SELECT cart', start: 25, end: 55, parent: 'cart' },
  { key: 'prices', service: 'pricing', name: 'load prices', start: 20, end: 45, parent: 'root' },
  { key: 'charge', service: 'payments', name: 'charge', start: 65, end: 95, parent: 'root' },
  { key: 'notify', service: 'audit', name: 'notify', start: 80, end: 130, parent: 'charge' },
];

test('analysis: critical path, self times and statistics of a trace sent over gRPC', async () => {
  const { traceId, ids } = await send('grpc', CHECKOUT);
  const r = await getJson(srv, `/api/v1/traces/${traceId.toUpperCase()}/analysis`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const a = r.body;
  assert.equal(a.traceId, traceId);
  assert.equal(a.spanCount, CHECKOUT.length);
  assert.equal(a.startTimeUnixNano, String(BigInt(BASE - 10) * 1000000n));
  assert.equal(a.durationNs, 140 * MS); // -10 .. 130
  assert.equal(a.rootSpanId, ids.root);
  assert.deepEqual(a.otherRootSpanIds, []);
  assert.equal(a.criticalPathNs, 100 * MS);
  const key = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  const path = a.criticalPath.map((sg) => [key[sg.spanId], Number(BigInt(sg.startTimeUnixNano) / 1000000n) - BASE,
    Number(BigInt(sg.endTimeUnixNano) / 1000000n) - BASE]);
  assert.deepEqual(path, [
    ['skewed', 0, 3], ['root', 3, 5], ['auth', 5, 15], ['root', 15, 20], ['cart', 20, 25], ['sql', 25, 55],
    ['cart', 55, 60], ['root', 60, 65], ['charge', 65, 80], ['notify', 80, 95], ['root', 95, 100],
  ]);
  for (const sg of a.criticalPath) {
    assert.equal(sg.durationNs, Number(BigInt(sg.endTimeUnixNano) - BigInt(sg.startTimeUnixNano)));
    assert.equal(sg.service, CHECKOUT.find((s) => s.key === key[sg.spanId]).service);
  }
  const self = (k) => a.spans[ids[k]].selfNs / MS;
  assert.equal(self('root'), 17); // 100 - (3 + 10 + 40 + 30)
  assert.equal(self('cart'), 10);
  assert.equal(self('charge'), 15); // notify counts up to charge's end
  assert.equal(self('notify'), 50);
  assert.equal(self('skewed'), 13);
  const critical = Object.entries(a.spans).filter(([, v]) => v.critical).map(([id]) => key[id]).sort();
  assert.deepEqual(critical, ['auth', 'cart', 'charge', 'notify', 'root', 'skewed', 'sql']);
  assert.equal(a.spans[ids.prices].criticalNs, 0);
  assert.equal(a.spans[ids.root].criticalNs, 17 * MS);
  // statistics: one row per (service, name), most self time first
  assert.equal(a.stats.length, CHECKOUT.length);
  const first = a.stats[0];
  assert.deepEqual([first.service, first.name, first.count, first.totalNs, first.selfNs], ['audit', 'notify', 1, 50 * MS, 50 * MS]);
  assert.equal(first.criticalNs, 15 * MS);
  assert.equal(first.percent, 35.71); // 50 of 140 ms
  const sql = a.stats.find((s) => s.name === 'SELECT cart');
  assert.equal(sql.selfNs, 30 * MS);
  assert.equal(sql.percent, 21.43);
  for (let i = 1; i < a.stats.length; i++) assert.ok(a.stats[i - 1].selfNs >= a.stats[i].selfNs);
  // the same spans as GET /traces/{id}
  const t = await getJson(srv, `/api/v1/traces/${traceId}`);
  assert.deepEqual(Object.keys(a.spans).sort(), t.body.spans.map((s) => s.spanId).sort());
});

test('analysis: an orphan that ends last drives the path; the other root is listed (OTLP/HTTP JSON)', async () => {
  // a consumer whose parent (the producer) never arrived, and a real root
  const missing = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };
  const { traceId, ids } = await send('http/json', [
    { key: 'orphan', service: 'worker', name: 'consume order', start: 10, end: 60, parent: missing },
    { key: 'write', service: 'db', name: 'INSERT order', start: 20, end: 50, parent: 'orphan' },
  ], BASE + 60000);
  assert.equal(traceId, missing.traceId);
  await send('http/json', [
    { key: 'tick', service: 'scheduler', name: 'tick', start: 0, end: 30, parent: { ...missing, spanId: 'ffffffffffffff01' } },
  ], BASE + 60000);
  const r = await getJson(srv, `/api/v1/traces/${traceId}/analysis`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.spanCount, 3);
  assert.equal(r.body.rootSpanId, ids.orphan);
  assert.equal(r.body.otherRootSpanIds.length, 1);
  assert.equal(r.body.durationNs, 60 * MS);
  assert.equal(r.body.criticalPathNs, 50 * MS);
  assert.deepEqual(r.body.criticalPath.map((s) => [s.name, s.durationNs / MS]), [['consume order', 10], ['INSERT order', 30], ['consume order', 10]]);
  const tick = r.body.otherRootSpanIds[0];
  assert.equal(r.body.spans[tick].critical, false);
  assert.equal(r.body.spans[tick].selfNs, 30 * MS);
});

// The same request twice: the slow one ran one more query, a slower
// second query and a cache miss.
const FAST = [
  { key: 'root', service: 'shop', name: 'GET /cart', start: 0, end: 50 },
  { key: 'q1', service: 'db', name: 'SELECT', start: 5, end: 15, parent: 'root' },
  { key: 'q2', service: 'db', name: 'SELECT', start: 20, end: 30, parent: 'root' },
  { key: 'hit', service: 'cache', name: 'GET', start: 35, end: 40, parent: 'root' },
];
const SLOW = [
  { key: 'root', service: 'shop', name: 'GET /cart', start: 0, end: 150 },
  { key: 'q1', service: 'db', name: 'SELECT', start: 5, end: 15, parent: 'root' },
  { key: 'q2', service: 'db', name: 'SELECT', start: 20, end: 90, parent: 'root' },
  { key: 'q3', service: 'db', name: 'SELECT', start: 95, end: 120, parent: 'root' },
  { key: 'miss', service: 'cache', name: 'MISS', start: 125, end: 140, parent: 'root' },
];

test('compare: one merged tree with known differences (protobuf and JSON exporters)', async () => {
  const fast = await send('http/protobuf', FAST, BASE + 120000);
  const slow = await send('http/json', SLOW, BASE + 180000);
  const r = await getJson(srv, `/api/v1/traces/compare?a=${fast.traceId}&b=${slow.traceId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const c = r.body;
  assert.equal(c.a.traceId, fast.traceId);
  assert.equal(c.b.traceId, slow.traceId);
  assert.deepEqual([c.a.durationNs, c.b.durationNs, c.diffNs], [50 * MS, 150 * MS, 100 * MS]);
  assert.deepEqual([c.a.rootService, c.a.rootName, c.a.spanCount, c.b.spanCount], ['shop', 'GET /cart', 4, 5]);
  assert.deepEqual([c.summary.nodes, c.summary.both, c.summary.onlyInA, c.summary.onlyInB], [6, 3, 1, 2]);
  const rows = c.nodes.map((n) => [n.depth, n.service, n.name, n.in, n.diffNs / MS]);
  assert.deepEqual(rows, [
    [0, 'shop', 'GET /cart', 'both', 100],
    [1, 'db', 'SELECT', 'both', 0],
    [1, 'db', 'SELECT', 'both', 60],
    [1, 'cache', 'GET', 'a', -5],
    [1, 'db', 'SELECT', 'b', 25],
    [1, 'cache', 'MISS', 'b', 15],
  ]);
  const root = c.nodes[0];
  assert.equal(root.parent, null);
  assert.equal(root.a.spanId, fast.ids.root);
  assert.equal(root.b.spanId, slow.ids.root);
  assert.deepEqual([root.a.subtreeSpans, root.b.subtreeSpans], [4, 5]);
  assert.equal(root.selfDiffNs, (150 - 120 - (50 - 25)) * MS); // self 30 vs 25
  for (const n of c.nodes.slice(1)) assert.equal(n.parent, 0);
  assert.equal(c.nodes[2].b.spanId, slow.ids.q2);
  assert.equal(c.nodes[2].b.startOffsetNs, 20 * MS);
  assert.equal(c.nodes[3].b, null);
  assert.equal(c.nodes[4].a, null);
  assert.deepEqual(c.summary.slowdowns.map((s) => [s.name, s.selfDiffNs / MS]),
    [['SELECT', 60], ['SELECT', 25], ['MISS', 15], ['GET /cart', 5]]);
  assert.deepEqual(c.summary.speedups.map((s) => [s.service, s.name, s.selfDiffNs / MS]), [['cache', 'GET', -5]]);
  // compared the other way round, the differences change sign
  const back = await getJson(srv, `/api/v1/traces/compare?a=${slow.traceId}&b=${fast.traceId}`);
  assert.equal(back.status, 200);
  assert.equal(back.body.diffNs, -100 * MS);
  assert.deepEqual([back.body.summary.onlyInA, back.body.summary.onlyInB], [2, 1]);
  // a trace against itself: everything matches
  const same = await getJson(srv, `/api/v1/traces/compare?a=${fast.traceId}&b=${fast.traceId}`);
  assert.deepEqual([same.body.summary.both, same.body.summary.onlyInA, same.body.summary.onlyInB], [4, 0, 0]);
  assert.ok(same.body.nodes.every((n) => n.diffNs === 0));
});

test('bad ids and missing traces give clean JSON errors', async () => {
  const known = (await send('http/protobuf', FAST, BASE + 240000)).traceId;
  const unknown = 'deadbeefdeadbeefdeadbeefdeadbeef';
  const cases = [
    ['/api/v1/traces/xyz/analysis', 400, 'bad_request', /'traceId'/],
    [`/api/v1/traces/${known}0/analysis`, 400, 'bad_request', /'traceId'/],
    [`/api/v1/traces/${unknown}/analysis`, 404, 'not_found', new RegExp(unknown)],
    [`/api/v1/traces/${known}/analysis/x`, 404, 'not_found', /no API endpoint/],
    ['/api/v1/traces/compare', 400, 'bad_request', /'a'/],
    [`/api/v1/traces/compare?a=${known}`, 400, 'bad_request', /'b'/],
    [`/api/v1/traces/compare?a=${known}&b=%3Cscript%3E`, 400, 'bad_request', /'b'/],
    [`/api/v1/traces/compare?a=${known}&a=${known}&b=${known}`, 400, 'bad_request', /'a'/],
    [`/api/v1/traces/compare?a=${unknown}&b=${known}`, 404, 'not_found', /'a'/],
    [`/api/v1/traces/compare?a=${known}&b=${unknown}`, 404, 'not_found', /'b'/],
  ];
  for (const [path, status, code, message] of cases) {
    const r = await getJson(srv, path);
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.body.error.code, code, path);
    assert.match(r.body.error.message, message, path);
  }
  const post = await fetch(`${srv.uiUrl}/api/v1/traces/${known}/analysis`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});
