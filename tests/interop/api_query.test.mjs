// Interop: the query API over data sent by the official OpenTelemetry JS
// exporters (OTLP/HTTP protobuf): trace search with every filter and
// operator, pagination while new data arrives, log search, metric series
// (rates across a counter reset, histogram percentiles worked out by hand),
// DELETE /telemetry, and hostile parameters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';

let srv;
before(async () => { srv = await startLoupe({ storage: 'sqlite' }); });
after(async () => { await srv?.stop(); });

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0); // ms

// Sends traces: each spec {service, name, start (ms), ms, status, attrs,
// children: [{service, name, attrs, status}]}. Returns the trace ids.
async function sendTraces(specs) {
  const byService = new Map();
  for (const s of specs) for (const sp of [s, ...(s.children || [])]) byService.set(sp.service, null);
  const providers = new Map();
  for (const service of byService.keys()) {
    const exp = exporters(srv, 'http/protobuf').traces;
    providers.set(service, new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': service === 'db' ? 'prod' : 'staging' }),
      spanProcessors: [new BatchSpanProcessor(exp, { maxExportBatchSize: 512, maxQueueSize: 4096, scheduledDelayMillis: 60000 })],
    }));
  }
  const ids = [];
  for (const s of specs) {
    const tracer = providers.get(s.service).getTracer('api-test', '1.0');
    const root = tracer.startSpan(s.name, { kind: SpanKind.SERVER, startTime: s.start, attributes: s.attrs || {} });
    if (s.status) root.setStatus({ code: s.status });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    for (const c of s.children || []) {
      const ct = providers.get(c.service).getTracer('api-test', '1.0');
      const child = ct.startSpan(c.name, { kind: SpanKind.CLIENT, startTime: s.start + 1, attributes: c.attrs || {} }, ctx);
      if (c.status) child.setStatus({ code: c.status });
      child.end(s.start + 2);
    }
    root.end(s.start + s.ms);
    ids.push(root.spanContext().traceId);
  }
  for (const p of providers.values()) { await p.forceFlush(); await p.shutdown(); }
  return ids;
}

async function allPages(path, key, limit = 7) {
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const q = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await getJson(srv, q);
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
    seen.push(...r.body[key]);
    cursor = r.body.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('too many pages');
}

const enc = encodeURIComponent;

test('GET /traces: every filter and operator, newest first', async () => {
  const specs = [];
  for (let i = 0; i < 40; i++) {
    specs.push({
      service: 'shop', name: i % 4 === 0 ? 'GET /cart' : 'GET /home', start: T0 + i * 1000, ms: 5 + i,
      status: i % 10 === 3 ? SpanStatusCode.ERROR : SpanStatusCode.OK,
      attrs: { 'http.response.status_code': i % 10 === 3 ? 500 : 200, 'app.ratio': i / 8, tier: i % 7 === 0 ? 'gold' : 'silver', 'app.note': `Order ${i}` },
      children: i % 5 === 0 ? [{ service: 'db', name: 'SELECT orders', attrs: { 'db.rows': i } }] : [],
    });
  }
  const ids = await sendTraces(specs);
  const expect = (pred) => specs.map((s, i) => ({ s, id: ids[i], i })).filter(({ s, i }) => pred(s, i)).reverse().map((x) => x.id);
  const got = async (q) => (await allPages(`/api/v1/traces?${q}`, 'traces')).map((t) => t.traceId);

  assert.deepEqual(await got(''), expect(() => true));
  assert.deepEqual(await got('service=db'), expect((s) => s.children.length > 0));
  assert.deepEqual(await got(`name=${enc('GET /cart')}`), expect((s) => s.name === 'GET /cart'));
  assert.deepEqual(await got('status=error'), expect((s) => s.status === SpanStatusCode.ERROR));
  assert.deepEqual(await got(`attr=${enc('http.response.status_code=500')}`), expect((s) => s.attrs['http.response.status_code'] === 500));
  assert.deepEqual(await got(`attr=${enc('http.response.status_code!=200')}`), expect((s) => s.attrs['http.response.status_code'] !== 200));
  assert.deepEqual(await got(`attr=${enc('tier=gold')}`), expect((s) => s.attrs.tier === 'gold'));
  assert.deepEqual(await got(`attr=${enc('app.note~ORDER 1')}`), expect((s) => s.attrs['app.note'].toLowerCase().includes('order 1')));
  assert.deepEqual(await got(`attr=${enc('app.ratio>4')}`), expect((s) => s.attrs['app.ratio'] > 4));
  assert.deepEqual(await got(`attr=${enc('app.ratio<0.5')}`), expect((s) => s.attrs['app.ratio'] < 0.5));
  assert.deepEqual(await got(`attr=${enc('db.rows>20')}`), expect((s, i) => s.children.length > 0 && i > 20));
  assert.deepEqual(await got(`attr=${enc('deployment.environment=prod')}`), expect((s) => s.children.length > 0));
  // one span must match all span filters: db spans have no tier
  assert.deepEqual(await got(`service=db&attr=${enc('tier=gold')}`), []);
  assert.deepEqual(await got('minDuration=30ms'), expect((s) => s.ms >= 30));
  assert.deepEqual(await got('minDuration=10ms&maxDuration=0.02s'), expect((s) => s.ms >= 10 && s.ms <= 20));
  const start = new Date(T0 + 10000).toISOString(), end = String(BigInt(T0 + 20000) * 1000000n);
  assert.deepEqual(await got(`start=${enc(start)}&end=${end}`), expect((s) => s.start >= T0 + 10000 && s.start < T0 + 20000));
  // q: words of names, attribute values, status messages and events, each
  // required, whole words unless a prefix*
  const words = (t) => t.toLowerCase().split(/[^a-z0-9]+/);
  assert.deepEqual(await got('q=order%2012'), expect((s) => words(s.attrs['app.note']).includes('12')));
  assert.deepEqual(await got(`q=${enc('select ORDERS')}`), expect((s) => s.children.length > 0));
  assert.deepEqual(await got(`q=${enc('select ORD')}`), []);
  assert.deepEqual(await got(`q=${enc('select ORD*')}`), expect((s) => s.children.length > 0));

  // a summary
  const { body } = await getJson(srv, `/api/v1/traces?service=db&limit=1`);
  const t = body.traces[0];
  const last = specs[35];
  assert.equal(t.traceId, ids[35]);
  assert.equal(t.rootService, 'shop');
  assert.equal(t.rootName, last.name);
  assert.equal(t.spanCount, 2);
  assert.equal(t.errorCount, 0);
  assert.equal(t.startTimeUnixNano, String(BigInt(last.start) * 1000000n));
  assert.equal(t.durationNs, last.ms * 1000000);
  assert.deepEqual(t.services.map((s) => s.name).sort(), ['db', 'shop']);
  assert.deepEqual(t.services.map((s) => s.spanCount), [1, 1]);
  assert.equal(typeof body.nextCursor, 'string');
  // the detail names kinds and status codes
  const d = await getJson(srv, `/api/v1/traces/${ids[30]}`);
  assert.equal(d.status, 200);
  assert.deepEqual(d.body.spans.map((s) => s.kind).sort(), ['CLIENT', 'SERVER']);
  assert.equal(d.body.spans.find((s) => s.kind === 'SERVER').status.code, 'OK');
});

test('pagination: no duplicates or gaps while new traces and logs arrive', async () => {
  const base = T0 + 3600000;
  const first = await sendTraces(Array.from({ length: 30 }, (_, i) => ({ service: 'pager', name: 'p', start: base + i * 10, ms: 1 })));
  const seen = new Set();
  let cursor = null, pages = 0, extra = 0;
  for (; pages < 100; pages++) {
    const r = await getJson(srv, `/api/v1/traces?service=pager&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
    for (const t of r.body.traces) {
      assert.ok(!seen.has(t.traceId), 'seen twice');
      seen.add(t.traceId);
    }
    cursor = r.body.nextCursor;
    if (cursor === null) break;
    // newer traces arrive between pages
    await sendTraces([{ service: 'pager', name: 'p', start: base + 100000 + extra * 10, ms: 1 }]);
    extra++;
  }
  for (const id of first) assert.ok(seen.has(id), 'missing a trace');

  // logs: newer and older records arrive between pages
  const send = async (times) => {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'logpager' }),
      processors: [new BatchLogRecordProcessor({ exporter: exporters(srv, 'http/protobuf').logs, maxExportBatchSize: 512, scheduledDelayMillis: 60000 })],
    });
    const logger = provider.getLogger('pager');
    for (const [i, t] of times) logger.emit({ body: `n${i}`, timestamp: t, severityNumber: SeverityNumber.INFO, attributes: { i } });
    await provider.forceFlush();
    await provider.shutdown();
  };
  await send(Array.from({ length: 25 }, (_, i) => [i, base + Math.floor(i / 3)]));
  const got = new Set();
  cursor = null;
  let next = 1000;
  for (pages = 0; pages < 100; pages++) {
    const r = await getJson(srv, `/api/v1/logs?service=logpager&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
    for (const l of r.body.logs) {
      assert.ok(!got.has(l.attributes.i), 'seen twice');
      got.add(l.attributes.i);
    }
    cursor = r.body.nextCursor;
    if (cursor === null) break;
    await send([[next++, base + 5000], [next++, base - 5000]]);
  }
  for (let i = 0; i < 25; i++) assert.ok(got.has(i), `log ${i} missing`);
});

test('GET /logs: severity, words, trace id, attributes, time bounds', async () => {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logsvc' }),
    processors: [new BatchLogRecordProcessor({ exporter: exporters(srv, 'http/protobuf').logs, maxExportBatchSize: 512, scheduledDelayMillis: 60000 })],
  });
  const logger = provider.getLogger('l');
  const tp = new BasicTracerProvider();
  const span = tp.getTracer('t').startSpan('x');
  const bodies = ['disk full on /var', 'connection reset by peer', 'Überweisung abgelehnt', 'all good', 'disk almost full'];
  bodies.forEach((b, i) => logger.emit({
    body: b, timestamp: T0 + i * 1000, severityNumber: [9, 17, 13, 9, 21][i],
    attributes: { user: `u${i % 2}`, attempt: i }, context: i === 1 ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT,
  }));
  await provider.forceFlush();
  await provider.shutdown();
  const bodiesOf = async (q) => {
    const r = await getJson(srv, `/api/v1/logs?service=logsvc&${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.logs.map((l) => l.body);
  };
  assert.deepEqual(await bodiesOf(''), [...bodies].reverse());
  assert.deepEqual(await bodiesOf('minSeverity=warn'), ['disk almost full', 'Überweisung abgelehnt', 'connection reset by peer']);
  assert.deepEqual(await bodiesOf('minSeverity=21'), ['disk almost full']);
  assert.deepEqual(await bodiesOf('q=DISK%20full'), ['disk almost full', 'disk full on /var']);
  assert.deepEqual(await bodiesOf('q=uberweisung'), ['Überweisung abgelehnt']);
  assert.deepEqual(await bodiesOf('q=conn*'), ['connection reset by peer']);
  assert.deepEqual(await bodiesOf('q=conn'), []);
  assert.deepEqual(await bodiesOf(`traceId=${span.spanContext().traceId}`), ['connection reset by peer']);
  assert.deepEqual(await bodiesOf(`spanId=${span.spanContext().spanId.toUpperCase()}`), ['connection reset by peer']);
  assert.deepEqual(await bodiesOf(`attr=${enc('user=u1')}`), ['all good', 'connection reset by peer']);
  assert.deepEqual(await bodiesOf(`attr=${enc('attempt>2')}`), ['disk almost full', 'all good']);
  assert.deepEqual(await bodiesOf(`start=${(BigInt(T0) + 1000n) * 1000000n}&end=${enc(new Date(T0 + 3000).toISOString())}`), ['Überweisung abgelehnt', 'connection reset by peer']);
});

test('metric series: rates across a counter reset, histogram percentiles by hand', async () => {
  const collect = async (fn) => {
    const reader = new PeriodicExportingMetricReader({ exporter: exporters(srv, 'http/protobuf').metrics, exportIntervalMillis: 3600000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'meters' }), readers: [reader] });
    const meter = provider.getMeter('m');
    await fn(meter, provider);
    await provider.shutdown();
  };
  // a cumulative counter at 10 then 25; a new provider (a restarted
  // process: new start time) at 4
  await collect(async (meter, provider) => {
    const c = meter.createCounter('jobs.done');
    c.add(10);
    await provider.forceFlush();
    await new Promise((r) => setTimeout(r, 50));
    c.add(15); /* exported by the shutdown */
  });
  await new Promise((r) => setTimeout(r, 50));
  await collect(async (meter) => { meter.createCounter('jobs.done').add(4); });
  const s = await getJson(srv, '/api/v1/metrics/jobs.done/series');
  assert.equal(s.status, 200, JSON.stringify(s.body));
  assert.equal(s.body.type, 'sum');
  assert.equal(s.body.monotonic, true);
  const pts = s.body.series[0].points;
  assert.deepEqual(pts.map((p) => p.value), [10, 25, 4]);
  // first point counts from zero, then +15, then the reset counts from zero
  assert.deepEqual(pts.map((p) => p.increase), [10, 15, 4]);
  const dt = Number(BigInt(pts[1].timeUnixNano) - BigInt(pts[0].timeUnixNano)) / 1e9;
  assert.ok(Math.abs(pts[1].rate - 15 / dt) < 1e-6 * pts[1].rate);
  // The first point and the reset point count from their start time; when
  // the SDK's start and collection times coincide (a fast machine) no
  // interval is known and the rate is null, as docs/api.md says; never
  // negative, never NaN.
  for (const p of pts) assert.ok(p.rate === null || (Number.isFinite(p.rate) && p.rate >= 0), JSON.stringify(p));
  // one step over all of it: 10 + 15 + 4 = 29 in 1000 s
  const stepped = await getJson(srv, '/api/v1/metrics/jobs.done/series?step=1000s');
  const sp = stepped.body.series[0].points;
  assert.equal(sp.reduce((a, p) => a + p.increase, 0), 29);

  // a histogram with the SDK's default bounds [0,5,10,25,50,75,100,250,500,750,1000,...]
  await collect(async (meter) => {
    const h = meter.createHistogram('work.duration', { unit: 'ms' });
    for (const v of [1, 2, 3, 7, 8, 30, 60, 80, 200, 900]) h.record(v);
  });
  const hs = await getJson(srv, '/api/v1/metrics/work.duration/series');
  const hp = hs.body.series[0].points[0];
  assert.equal(hp.count, 10);
  assert.equal(hp.min, 1);
  assert.equal(hp.max, 900);
  // buckets (0,5]=3 (5,10]=2 (10,25]=0 (25,50]=1 (50,75]=1 (75,100]=1
  // (100,250]=1 ... (750,1000]=1. p50: rank 5 ends in (5,10], 2 of its 2:
  // 5 + 5*(5-3)/2 = 10. p90: rank 9 ends in (100,250], 1 of 1: 250.
  // p99: rank 9.9 in (750,1000]: 750 + 250*0.9 = 975, above max: 900.
  assert.equal(hp.p50, 10);
  assert.equal(hp.p90, 250);
  assert.equal(hp.p99, 900);
  assert.deepEqual(hp.counts.slice(0, 8), [0, 3, 2, 0, 1, 1, 1, 1]);
  // groupBy, filters, unknown metric
  const g = await getJson(srv, '/api/v1/metrics/work.duration/series?groupBy=service.name&step=1h');
  assert.deepEqual(g.body.series[0].attributes, { 'service.name': 'meters' });
  assert.equal((await getJson(srv, '/api/v1/metrics/no.such/series')).status, 404);
  assert.equal((await getJson(srv, '/api/v1/metrics/jobs.done/series?service=nobody')).status, 404);
});

test('DELETE /telemetry answers with the counts removed', async () => {
  await sendTraces([{ service: 'doomed', name: 'x', start: T0, ms: 1, children: [{ service: 'doomed', name: 'y' }] }]);
  let r = await fetch(`${srv.uiUrl}/api/v1/telemetry?signal=traces&service=doomed`, { method: 'DELETE' });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { deleted: { spans: 2, traces: 1, logs: 0, points: 0 } });
  r = await fetch(`${srv.uiUrl}/api/v1/telemetry?signal=traces&service=doomed`, { method: 'DELETE' });
  assert.deepEqual(await r.json(), { deleted: { spans: 0, traces: 0, logs: 0, points: 0 } });
  r = await fetch(`${srv.uiUrl}/api/v1/telemetry?signal=spans`, { method: 'DELETE' });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /'signal'/);
  r = await fetch(`${srv.uiUrl}/api/v1/telemetry`);
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'DELETE');
  const services = (await getJson(srv, '/api/v1/services')).body.services.map((s) => s.name);
  assert.ok(!services.includes('doomed'));
});

test('bad parameters are 400s naming them; hostile values are data', async () => {
  const bad = [
    ['/api/v1/traces?limit=0', 'limit'], ['/api/v1/traces?status=broken', 'status'],
    ['/api/v1/traces?minDuration=1x', 'minDuration'], ['/api/v1/traces?start=yesterday', 'start'],
    ['/api/v1/traces?attr=nokey', 'attr'], ['/api/v1/traces?attr=a%3E1e400', 'attr'],
    ['/api/v1/traces?cursor=zz', 'cursor'], ['/api/v1/traces?q=%FF%FE', 'q'],
    ['/api/v1/traces?service=a&service=b', 'service'],
    ['/api/v1/logs?minSeverity=loud', 'minSeverity'], ['/api/v1/logs?traceId=123', 'traceId'],
    ['/api/v1/logs?end=1&start=2', 'end'], ['/api/v1/logs?spanId=%00', 'spanId'],
    ['/api/v1/metrics/jobs.done/series?step=0', 'step'],
    ['/api/v1/metrics/jobs.done/series?groupBy=a,,b', 'groupBy'],
    ['/api/v1/export?signal=all', 'signal'], ['/api/v1/live?heartbeat=1ms', 'heartbeat'],
    ['/api/v1/live?events=metrics', 'events'],
  ];
  for (const [path, name] of bad) {
    const r = await getJson(srv, path);
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'bad_request');
    assert.ok(r.body.error.message.includes(`'${name}'`), `${path}: ${r.body.error.message}`);
  }
  const hostile = ["' OR 1=1 --", '"; DROP TABLE spans; --', 'NEAR(a b) * "x', '%_\\', '\u202e\u0000'.slice(0, 1),
    '9'.repeat(400), '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];
  for (const h of hostile) {
    for (const q of [`service=${enc(h)}`, `name=${enc(h)}`, `q=${enc(h)}`, `attr=${enc(`k=${h}`)}`, `attr=${enc(`${h.replace(/[=!~<>]/g, '').slice(0, 100)}x~${h}`)}`]) {
      const r = await getJson(srv, `/api/v1/traces?${q}`);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.traces, []);
      const l = await getJson(srv, `/api/v1/logs?${q.startsWith('name') ? 'service' + q.slice(4) : q}`);
      assert.equal(l.status, 200);
    }
  }
  // the data is all still there
  const still = await getJson(srv, "/api/v1/traces?limit=1");
  assert.equal(still.body.traces?.length, 1, JSON.stringify(still.body).slice(0, 300));
});
