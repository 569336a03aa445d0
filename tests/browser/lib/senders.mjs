// senders.mjs - telemetry for the browser tests, sent with the official
// OpenTelemetry JS SDK and OTLP exporters (see tests/interop/lib/telemetry.mjs
// for the exporters). Every sender waits for the exports to be acknowledged
// and throws when one was refused, so a test never races its own data.
import { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { exporters } from '../../interop/lib/telemetry.mjs';

export { exporters, SeverityNumber, SpanKind };

// Wraps an exporter: counts items, records failures.
function checked(exporter, sink) {
  return {
    export(items, done) {
      exporter.export(items, (result) => {
        if (result.code !== 0) sink.failures.push(result.error ? String(result.error.message || result.error) : `code ${result.code}`);
        else sink.count += Array.isArray(items) ? items.length : 1;
        done(result);
      });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}

function assertSent(sink, what) {
  if (sink.failures.length) throw new Error(`${what}: export failed: ${sink.failures.join('; ')}`);
}

function tracerFor(exp, service, sink, { batch = 512 } = {}) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` }),
    spanProcessors: [new BatchSpanProcessor(checked(exp.traces, sink), {
      maxQueueSize: 1 << 20, maxExportBatchSize: batch, scheduledDelayMillis: 3600000,
    })],
  });
  return { provider, tracer: provider.getTracer(`${service}-tracer`, '1.0.0') };
}

// ms since the epoch -> the SDK's time input (a Date keeps ms precision).
const at = (ms) => new Date(ms);

// A shop request across three services, with known timing (ms offsets from
// `base`): frontend "GET /orders/{id}" (0-120) > checkout "load cart" (10-60)
// > checkout "SELECT cart" (15-40); frontend > payments "charge card"
// (70-110, ERROR, an exception event at 100). Returns ids by span name.
export async function sendShopTrace(exp, { base = Date.now() - 5000, prefix = '', attrs = {} } = {}) {
  const sink = { count: 0, failures: [] };
  const fe = tracerFor(exp, `${prefix}frontend`, sink);
  const co = tracerFor(exp, `${prefix}checkout`, sink);
  const pa = tracerFor(exp, `${prefix}payments`, sink);
  const root = fe.tracer.startSpan('GET /orders/{id}', {
    kind: SpanKind.SERVER, startTime: at(base),
    attributes: { 'http.request.method': 'GET', 'http.route': '/orders/{id}', 'http.response.status_code': 500, ...attrs },
  });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const cart = co.tracer.startSpan('load cart', { kind: SpanKind.CLIENT, startTime: at(base + 10), attributes: { 'cart.items': 3 } }, rootCtx);
  const sql = co.tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: at(base + 15), attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM cart WHERE id = $1' } }, trace.setSpan(rootCtx, cart));
  sql.addEvent('rows fetched', { rows: 3 }, at(base + 30));
  sql.end(at(base + 40));
  cart.end(at(base + 60));
  const charge = pa.tracer.startSpan('charge card', {
    kind: SpanKind.CLIENT, startTime: at(base + 70), attributes: { 'payment.provider': 'acme', 'payment.amount': 42.5 },
    links: [{ context: cart.spanContext(), attributes: { 'link.reason': 'after cart' } }],
  }, rootCtx);
  charge.addEvent('exception', { 'exception.type': 'CardDeclined', 'exception.message': 'card declined by issuer' }, at(base + 100));
  charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined by issuer' });
  charge.end(at(base + 110));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  root.end(at(base + 120));
  for (const p of [fe, co, pa]) { await p.provider.forceFlush(); await p.provider.shutdown(); }
  assertSent(sink, 'sendShopTrace');
  const ids = {};
  for (const [name, s] of [['root', root], ['cart', cart], ['sql', sql], ['charge', charge]]) ids[name] = s.spanContext().spanId;
  return { traceId: root.spanContext().traceId, spanIds: ids, spans: { root, cart, sql, charge }, base };
}

// Outgoing calls as HTTP auto-instrumentation records them: CLIENT spans
// named only by the method. "web" GET /checkout (0-50) calls the stock
// service (GET, server.address stock:8080, whose SERVER span "GET /items" is
// in the trace), an outside API (POST, api.payments.example:443, not in the
// trace) and a legacy host named with the older net.peer.* attributes.
export async function sendClientCalls(exp, { base = Date.now() - 4000 } = {}) {
  const sink = { count: 0, failures: [] };
  const web = tracerFor(exp, 'web', sink);
  const stock = tracerFor(exp, 'stock', sink);
  const root = web.tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(base), attributes: { 'http.request.method': 'GET' } });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const call = web.tracer.startSpan('GET', {
    kind: SpanKind.CLIENT, startTime: at(base + 2),
    attributes: { 'http.request.method': 'GET', 'server.address': 'stock', 'server.port': 8080, 'url.full': 'http://stock:8080/items' },
  }, ctx);
  const served = stock.tracer.startSpan('GET /items', { kind: SpanKind.SERVER, startTime: at(base + 4), attributes: { 'http.route': '/items' } }, trace.setSpan(ROOT_CONTEXT, call));
  served.end(at(base + 14));
  call.end(at(base + 16));
  const pay = web.tracer.startSpan('POST', {
    kind: SpanKind.CLIENT, startTime: at(base + 20),
    attributes: { 'http.request.method': 'POST', 'server.address': 'api.payments.example', 'server.port': 443 },
  }, ctx);
  pay.end(at(base + 40));
  const legacy = web.tracer.startSpan('GET', {
    kind: SpanKind.CLIENT, startTime: at(base + 41),
    attributes: { 'http.method': 'GET', 'net.peer.name': 'legacy.internal', 'net.peer.port': 8081 },
  }, ctx);
  legacy.end(at(base + 45));
  root.end(at(base + 50));
  for (const p of [web, stock]) { await p.provider.forceFlush(); await p.provider.shutdown(); }
  assertSent(sink, 'sendClientCalls');
  const ids = {};
  for (const [name, sp] of [['root', root], ['call', call], ['served', served], ['pay', pay], ['legacy', legacy]]) ids[name] = sp.spanContext().spanId;
  return { traceId: root.spanContext().traceId, spanIds: ids };
}

// A quick single-service trace with a given root name and duration (ms);
// children: [{name, kind (SpanKind, default INTERNAL), attributes, events}].
export async function sendSimpleTrace(exp, service, name, { durationMs = 5, base = Date.now() - 1000, error = false, attributes = {}, children = [] } = {}) {
  const sink = { count: 0, failures: [] };
  const t = tracerFor(exp, service, sink);
  const root = t.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: at(base), attributes });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  for (const c of children) {
    const s = t.tracer.startSpan(c.name, { kind: c.kind, startTime: at(base + 1), attributes: c.attributes || {} }, ctx);
    for (const e of c.events || []) s.addEvent(e.name, e.attributes || {}, at(base + 1));
    s.end(at(base + 2));
  }
  if (error) root.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
  root.end(at(base + durationMs));
  await t.provider.forceFlush();
  await t.provider.shutdown();
  assertSent(sink, 'sendSimpleTrace');
  return { traceId: root.spanContext().traceId, spanId: root.spanContext().spanId, span: root };
}

// One trace with n spans: a root, then a tree of fan-out `fan` (depth grows
// as log_fan(n)). Exported in batches of 2,000.
export async function sendBigTrace(exp, service, n, { fan = 8, base = Date.now() - 60000 } = {}) {
  const sink = { count: 0, failures: [] };
  const t = tracerFor(exp, service, sink, { batch: 2000 });
  const root = t.tracer.startSpan('big batch job', { kind: SpanKind.SERVER, startTime: at(base) });
  const spans = [root];
  for (let i = 1; i < n; i++) {
    const parent = spans[Math.floor((i - 1) / fan)];
    const s = t.tracer.startSpan(`step ${i}`, { startTime: at(base + i) }, trace.setSpan(ROOT_CONTEXT, parent));
    spans.push(s);
  }
  for (let i = n - 1; i >= 1; i--) spans[i].end(at(base + i + 1 + ((n - i) % 50)));
  root.end(at(base + n + 100));
  await t.provider.forceFlush();
  await t.provider.shutdown();
  assertSent(sink, 'sendBigTrace');
  if (sink.count !== n) throw new Error(`sendBigTrace: ${sink.count} of ${n} spans exported`);
  return { traceId: root.spanContext().traceId };
}

// Log records: [{body, severity: SeverityNumber, text, attributes, span, time}].
export async function sendLogs(exp, service, records, { batch = 2000 } = {}) {
  const sink = { count: 0, failures: [] };
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` }),
    processors: [new BatchLogRecordProcessor({
      exporter: checked(exp.logs, sink),
      maxQueueSize: Math.max(2048, records.length + 1), maxExportBatchSize: batch, scheduledDelayMillis: 3600000,
    })],
  });
  const logger = provider.getLogger(`${service}-logger`, '2.0.0');
  const now = Date.now();
  records.forEach((r, i) => {
    logger.emit({
      body: r.body,
      severityNumber: r.severity ?? SeverityNumber.INFO,
      severityText: r.text ?? SEVERITY_TEXT[r.severity ?? SeverityNumber.INFO],
      attributes: r.attributes || {},
      timestamp: at(r.time ?? now - records.length + i),
      context: r.span ? trace.setSpan(ROOT_CONTEXT, r.span) : ROOT_CONTEXT,
    });
  });
  await provider.forceFlush();
  await provider.shutdown();
  assertSent(sink, 'sendLogs');
  if (sink.count !== records.length) throw new Error(`sendLogs: ${sink.count} of ${records.length} records exported`);
}

const SEVERITY_TEXT = {
  [SeverityNumber.TRACE]: 'TRACE', [SeverityNumber.DEBUG]: 'DEBUG', [SeverityNumber.INFO]: 'INFO',
  [SeverityNumber.WARN]: 'WARN', [SeverityNumber.ERROR]: 'ERROR', [SeverityNumber.FATAL]: 'FATAL',
};

// Metrics in `rounds` collections: a counter (route=/a grows by 5, /b by 2
// per round), a histogram of latencies in seconds (route=/a), a gauge.
// Cumulative temporality, as most SDKs send.
export async function sendMetrics(exp, service, { rounds = 3 } = {}) {
  const sink = { count: 0, failures: [] };
  const reader = new PeriodicExportingMetricReader({ exporter: checked(exp.metrics, sink), exportIntervalMillis: 3600000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
  const meter = provider.getMeter(`${service}-meter`, '3.0.0');
  const counter = meter.createCounter('shop.orders', { description: 'Orders placed', unit: '{order}' });
  const hist = meter.createHistogram('shop.checkout.duration', {
    description: 'Checkout latency', unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  });
  const gauge = meter.createObservableGauge('shop.memory', { unit: 'By', description: 'Resident memory' });
  let mem = 100 * 1024 * 1024;
  gauge.addCallback((r) => r.observe(mem, { kind: 'rss' }));
  for (let i = 0; i < rounds; i++) {
    counter.add(5, { route: '/a' });
    counter.add(2, { route: '/b' });
    for (const v of [0.004, 0.02, 0.02, 0.05, 0.3, 1.2]) hist.record(v, { route: '/a' });
    mem += 1024 * 1024;
    await reader.forceFlush();
  }
  await provider.shutdown();
  assertSent(sink, 'sendMetrics');
  return { temporality: AggregationTemporality.CUMULATIVE };
}

// A checkout whose critical path is known (ms offsets from `base`):
// frontend "POST /checkout" 0-end > auth 5-20, then three calls at once:
// cart "load cart" 25-90 (> "SELECT cart" 30-80), pricing "load prices"
// 26-60, recommendations "recommend" 27-120 (> "score items" 30-115, the
// one waited on), then payments "charge card" 125-charge. The fast variant
// (end 200, charge 190) also has pricing "cache lookup" 62-64; the slow one
// (end 320, charge 250) has payments "retry charge" 255-310 instead.
// names: {root, ...} overrides span names (for hostile text). Returns
// {traceId, spanIds by key}.
export async function sendCheckoutTrace(exp, { base = Date.now() - 3000, slow = false, names = {} } = {}) {
  const sink = { count: 0, failures: [] };
  const services = ['frontend', 'cart', 'pricing', 'recommendations', 'payments'];
  const tracers = Object.fromEntries(services.map((s) => [s, tracerFor(exp, s, sink)]));
  const end = slow ? 320 : 200;
  const plan = [
    ['root', 'frontend', 'POST /checkout', 0, end, null, SpanKind.SERVER],
    ['auth', 'frontend', 'auth', 5, 20, 'root'],
    ['cart', 'cart', 'load cart', 25, 90, 'root', SpanKind.CLIENT],
    ['sql', 'cart', 'SELECT cart', 30, 80, 'cart', SpanKind.CLIENT],
    ['prices', 'pricing', 'load prices', 26, 60, 'root', SpanKind.CLIENT],
    ['recommend', 'recommendations', 'recommend', 27, 120, 'root', SpanKind.CLIENT],
    ['score', 'recommendations', 'score items', 30, 115, 'recommend'],
    slow ? null : ['cache', 'pricing', 'cache lookup', 62, 64, 'root'],
    ['charge', 'payments', 'charge card', 125, slow ? 250 : 190, 'root', SpanKind.CLIENT],
    slow ? ['retry', 'payments', 'retry charge', 255, 310, 'root', SpanKind.CLIENT] : null,
  ].filter(Boolean);
  const spans = {};
  for (const [key, service, name, start, , parent, kind] of plan) {
    const ctx = parent ? trace.setSpan(ROOT_CONTEXT, spans[parent]) : ROOT_CONTEXT;
    spans[key] = tracers[service].tracer.startSpan(names[key] ?? name, { kind: kind ?? SpanKind.INTERNAL, startTime: at(base + start) }, ctx);
  }
  for (const [key, , , , stop] of [...plan].reverse()) spans[key].end(at(base + stop));
  for (const t of Object.values(tracers)) { await t.provider.forceFlush(); await t.provider.shutdown(); }
  assertSent(sink, 'sendCheckoutTrace');
  if (sink.count !== plan.length) throw new Error(`sendCheckoutTrace: ${sink.count} of ${plan.length} spans exported`);
  const spanIds = Object.fromEntries(Object.entries(spans).map(([k, s]) => [k, s.spanContext().spanId]));
  return { traceId: spans.root.spanContext().traceId, spanIds };
}

// A small shop of services calling each other, `requests` requests spread
// evenly over `spreadMs` from `base` (ms), every span with its parent in the
// calling service (the map's edges):
//   frontend  SERVER "GET /checkout" > CLIENT "POST" (server.address checkout)
//   checkout  SERVER "POST /checkout" > CLIENT "SELECT orders" and
//             "UPDATE orders" (db.system.name postgresql, server.address db),
//             PRODUCER "orders publish" (messaging.system kafka,
//             destination orders), CLIENT "POST" (server.address payments)
//   payments  SERVER "POST /charge" > CLIENT "POST" (server.address
//             api.bank.example: a host outside, not instrumented)
// Every `failEvery`-th request fails at the bank: its error goes up to every
// span on the way back (6 error spans, one failed request per service).
// Besides, frontend serves `extra` requests of its own that call nothing:
// "GET /products" (fast) and, every third, "GET /account" (slow, and every
// second of those fails). Durations are known: see DUR below. Returns the
// counts sent, per service and per operation.
export async function sendServiceCalls(exp, { requests = 12, failEvery = 4, extra = 9, base = Date.now() - 20 * 60000, spreadMs = 15 * 60000, prefix = '' } = {}) {
  const sink = { count: 0, failures: [] };
  const names = { fe: `${prefix}frontend`, co: `${prefix}checkout`, pa: `${prefix}payments` };
  const fe = tracerFor(exp, names.fe, sink);
  const co = tracerFor(exp, names.co, sink);
  const pa = tracerFor(exp, names.pa, sink);
  const sent = { requests: 0, failed: 0, errorSpans: {}, ops: {} };
  const op = (service, name, failed, ms) => {
    const o = (sent.ops[`${service} ${name}`] ||= { service, name, calls: 0, errors: 0, durations: [] });
    o.calls++;
    if (failed) o.errors++;
    o.durations.push(ms);
  };
  const errSpan = (service) => { sent.errorSpans[service] = (sent.errorSpans[service] || 0) + 1; };
  const step = spreadMs / Math.max(1, requests + extra);
  const fail = (span, service, msg) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: msg });
    errSpan(service);
  };
  let t = base;
  for (let i = 0; i < requests; i++, t += step) {
    const failed = (i + 1) % failEvery === 0;
    const b = Math.round(t);
    // frontend 0-100, its call 2-98; checkout 4-96, db 6-11 and 12-16, publish 17-19,
    // call 20-90; payments 22-88, the bank 24-80 (failures: 24-40)
    const root = fe.tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(b), attributes: { 'http.request.method': 'GET', 'http.route': '/checkout' } });
    const feCall = fe.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(b + 2), attributes: { 'http.request.method': 'POST', 'server.address': 'checkout', 'server.port': 8080 } }, trace.setSpan(ROOT_CONTEXT, root));
    const coSrv = co.tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: at(b + 4), attributes: { 'http.request.method': 'POST', 'http.route': '/checkout' } }, trace.setSpan(ROOT_CONTEXT, feCall));
    const coCtx = trace.setSpan(ROOT_CONTEXT, coSrv);
    const db = co.tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: at(b + 6), attributes: { 'db.system.name': 'postgresql', 'server.address': 'db', 'db.query.text': 'SELECT * FROM orders WHERE id = $1' } }, coCtx);
    db.end(at(b + 11));
    const upd = co.tracer.startSpan('UPDATE orders', { kind: SpanKind.CLIENT, startTime: at(b + 12), attributes: { 'db.system.name': 'postgresql', 'server.address': 'db', 'db.query.text': 'UPDATE orders SET paid = $2 WHERE id = $1' } }, coCtx);
    upd.end(at(b + 16));
    const pub = co.tracer.startSpan('orders publish', { kind: SpanKind.PRODUCER, startTime: at(b + 17), attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' } }, coCtx);
    pub.end(at(b + 19));
    const coCall = co.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(b + 20), attributes: { 'http.request.method': 'POST', 'server.address': 'payments', 'server.port': 8080 } }, coCtx);
    const paSrv = pa.tracer.startSpan('POST /charge', { kind: SpanKind.SERVER, startTime: at(b + 22), attributes: { 'http.request.method': 'POST', 'http.route': '/charge' } }, trace.setSpan(ROOT_CONTEXT, coCall));
    const bank = pa.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(b + 24), attributes: { 'http.request.method': 'POST', 'server.address': 'api.bank.example', 'server.port': 443 } }, trace.setSpan(ROOT_CONTEXT, paSrv));
    if (failed) {
      fail(bank, names.pa, 'card declined');
      bank.end(at(b + 40));
      for (const [s, svc] of [[paSrv, names.pa], [coCall, names.co], [coSrv, names.co], [feCall, names.fe], [root, names.fe]]) fail(s, svc, 'payment failed');
    } else {
      bank.end(at(b + 80));
    }
    paSrv.end(at(b + 88));
    coCall.end(at(b + 90));
    coSrv.end(at(b + 96));
    feCall.end(at(b + 98));
    root.end(at(b + 100));
    op(names.fe, 'GET /checkout', failed, 100);
    op(names.co, 'POST /checkout', failed, 92);
    op(names.pa, 'POST /charge', failed, 66);
    sent.requests++;
    if (failed) sent.failed++;
  }
  for (let i = 0; i < extra; i++, t += step) {
    const b = Math.round(t);
    const account = i % 3 === 2;
    const failed = account && i % 2 === 0;
    const name = account ? 'GET /account' : 'GET /products';
    const ms = account ? 400 : 8;
    const s = fe.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: at(b), attributes: { 'http.request.method': 'GET', 'http.route': name.slice(4) } });
    if (failed) fail(s, names.fe, 'account service down');
    s.end(at(b + ms));
    op(names.fe, name, failed, ms);
  }
  for (const p of [fe, co, pa]) { await p.provider.forceFlush(); await p.provider.shutdown(); }
  assertSent(sink, 'sendServiceCalls');
  return { ...sent, names, spans: sink.count };
}

// Calls named the older way, or not at all: "reports" serves "GET /report"
// (SERVER, root), which queries a database named with the older db.system
// (mysql, server.address legacy-db) and makes a CLIENT call without any
// attribute that names what it calls (the map's "external:unknown").
export async function sendLegacyCalls(exp, { service = 'reports', count = 2, base = Date.now() - 30 * 60000 } = {}) {
  const sink = { count: 0, failures: [] };
  const t = tracerFor(exp, service, sink);
  const traceIds = [];
  for (let i = 0; i < count; i++) {
    const b = base + i * 1000;
    const root = t.tracer.startSpan('GET /report', { kind: SpanKind.SERVER, startTime: at(b), attributes: { 'http.route': '/report' } });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    t.tracer.startSpan('SELECT report', { kind: SpanKind.CLIENT, startTime: at(b + 1), attributes: { 'db.system': 'mysql', 'server.address': 'legacy-db' } }, ctx).end(at(b + 20));
    t.tracer.startSpan('call', { kind: SpanKind.CLIENT, startTime: at(b + 21) }, ctx).end(at(b + 30));
    root.end(at(b + 40));
    traceIds.push(root.spanContext().traceId);
  }
  await t.provider.forceFlush();
  await t.provider.shutdown();
  assertSent(sink, 'sendLegacyCalls');
  return { traceIds };
}
