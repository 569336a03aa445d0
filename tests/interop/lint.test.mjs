// The instrumentation lint against telemetry made wrong on purpose with the
// official OpenTelemetry JS SDK and its OTLP exporters: every finding
// appears with the count of what was sent, and every example link resolves
// to its item through the API; GET /api/v1/lint's parameters; loupe lint's
// output and exit status (for CI). The clean half (real instrumented
// services yield nothing) is lint_clean.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';
import { loupeCli, cliEnv, waitFor } from './lib/cli.mjs';

const GRACE = '1s';
const VALUE_LIMIT = 4096; // --max-attribute-value-length: loupe cuts longer values (stack traces are shorter)
const SETS = 10000; // attribute sets of the exploding metric
let srv;
let exp;

// A tracer provider of `service` (undefined: the SDK's default resource,
// which names no service) exporting each span as it ends.
function tracerOf(service, opts = {}) {
  const provider = new BasicTracerProvider({
    ...(service ? { resource: resourceFromAttributes({ 'service.name': service }) } : {}),
    spanProcessors: [new SimpleSpanProcessor(exp.traces)],
    ...opts,
  });
  return { provider, tracer: provider.getTracer('lint-test', '1.0.0') };
}

// What the test sent that the lint must find: [rule, service, key] -> count.
const expected = new Map();
const expect = (rule, service, key, count) => expected.set(`${rule}|${service}|${key}`, count);
const unnamed = `unknown_service:${process.argv0}`;

async function sendBadTraces() {
  const shutdowns = [];
  // no service name: the SDK's default resource
  {
    const { provider, tracer } = tracerOf(undefined);
    for (let i = 0; i < 2; i++) tracer.startSpan('job', { kind: SpanKind.SERVER }).end();
    shutdowns.push(provider);
    expect('missing-service-name', unnamed, '', 2);
  }
  // deprecated attribute names on outgoing calls
  {
    const { provider, tracer } = tracerOf('legacy');
    for (let i = 0; i < 3; i++) {
      tracer.startSpan('GET', {
        kind: SpanKind.CLIENT,
        attributes: { 'http.method': 'GET', 'http.status_code': 200, 'http.url': 'http://x/y', 'net.peer.name': 'x' },
      }).end();
    }
    for (let i = 0; i < 2; i++) {
      tracer.startSpan('SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }).end();
    }
    shutdowns.push(provider);
    for (const k of ['http.method', 'http.status_code', 'http.url', 'net.peer.name']) expect('deprecated-attribute', 'legacy', k, 3);
    expect('deprecated-attribute', 'legacy', 'db.system', 2);
  }
  // an orphan: its parent (from another process) never comes
  {
    const { provider, tracer } = tracerOf('orphans');
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED, isRemote: true,
    });
    tracer.startSpan('GET /orphaned', { kind: SpanKind.SERVER }, remote).end();
    shutdowns.push(provider);
    expect('orphan-span', 'orphans', '', 1);
  }
  // an exception recorded without an error status (and one done right)
  {
    const { provider, tracer } = tracerOf('errors');
    const bad = tracer.startSpan('charge', { kind: SpanKind.SERVER });
    bad.recordException(new Error('card declined'));
    bad.end();
    const good = tracer.startSpan('refund', { kind: SpanKind.SERVER });
    good.recordException(new Error('refused'));
    good.setStatus({ code: SpanStatusCode.ERROR });
    good.end();
    shutdowns.push(provider);
    expect('error-without-status', 'errors', '', 1);
  }
  // skewed clocks: back's server span starts 2 s before front's client span
  {
    const front = tracerOf('front');
    const back = tracerOf('back');
    const t0 = Date.now();
    const client = front.tracer.startSpan('GET /stock', { kind: SpanKind.CLIENT, startTime: t0 });
    const server = back.tracer.startSpan('GET /stock', { kind: SpanKind.SERVER, startTime: t0 - 2000 },
      trace.setSpan(ROOT_CONTEXT, client));
    server.end(t0 + 20);
    client.end(t0 + 50);
    shutdowns.push(front.provider, back.provider);
    expect('clock-skew', 'back', 'front', 1);
  }
  // an incoming HTTP request recorded as INTERNAL
  {
    const { provider, tracer } = tracerOf('kinds');
    tracer.startSpan('GET /orders', {
      kind: SpanKind.INTERNAL,
      attributes: { 'http.request.method': 'GET', 'url.path': '/orders' },
    }).end();
    shutdowns.push(provider);
    expect('server-span-kind', 'kinds', '', 1);
  }
  // dropped data: by the SDK (its attribute limit) and by loupe (a long value)
  {
    const { provider, tracer } = tracerOf('droppy', { spanLimits: { attributeCountLimit: 2 } });
    tracer.startSpan('many', { kind: SpanKind.SERVER, attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 } }).end();
    tracer.startSpan('long', { kind: SpanKind.SERVER, attributes: { note: 'x'.repeat(VALUE_LIMIT * 4) } }).end();
    shutdowns.push(provider);
    expect('dropped-data', 'droppy', 'sdk', 1);
    expect('dropped-data', 'droppy', 'loupe', 1);
  }
  for (const p of shutdowns) {
    await p.forceFlush();
    await p.shutdown();
  }
}

async function sendBadLogs() {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logger' }),
    processors: [new SimpleLogRecordProcessor({ exporter: exp.logs })],
  });
  const logger = provider.getLogger('lint-test');
  logger.emit({ body: 'no severity at all' });
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'fine' });
  await provider.forceFlush();
  await provider.shutdown();
  expect('log-without-severity', 'logger', '', 1);
}

async function sendBadMetrics() {
  const reader = new PeriodicExportingMetricReader({
    exporter: exp.metrics,
    exportIntervalMillis: 3600000,
    cardinalityLimits: { counter: SETS * 2 }, // the SDK's own limit would fold them at 2000
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'meter' }),
    readers: [reader],
  });
  const counter = provider.getMeter('lint-test').createCounter('cart.adds');
  for (let i = 0; i < SETS; i++) counter.add(1, { 'user.id': `u${i}`, region: 'eu' });
  const calm = provider.getMeter('lint-test').createCounter('cart.checkouts');
  for (let i = 0; i < 50; i++) calm.add(1, { region: `r${i}` });
  await provider.forceFlush();
  await provider.shutdown();
  expect('high-cardinality-metric', 'meter', 'cart.adds', SETS);
}

const key = (f) => `${f.rule}|${f.service}|${f.key}`;

async function lint(query = '') {
  const r = await getJson(srv, `/api/v1/lint${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  srv = await startLoupe({
    args: ['--lint-orphan-grace', GRACE, '--max-attribute-value-length', String(VALUE_LIMIT)],
  });
  exp = exporters(srv, 'http/protobuf');
  await sendBadTraces();
  await sendBadLogs();
  await sendBadMetrics();
  // the orphan is judged once its grace period has passed
  await waitFor(async () => (await lint()).findings.some((f) => f.rule === 'orphan-span'),
    { timeoutMs: 15000, what: 'the orphan span' });
});

after(async () => { await srv?.stop(); });

test('every mistake made on purpose is found with the count of what was sent, and nothing else', async () => {
  const doc = await lint();
  const got = new Map(doc.findings.map((f) => [key(f), f.count]));
  assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expected].sort()));
  assert.equal(doc.semconvVersion, '1.44.0');
  const bySeverity = { error: 0, warning: 0, info: 0 };
  for (const f of doc.findings) bySeverity[f.severity]++;
  assert.deepEqual(doc.summary, bySeverity);
  // services with the most severe findings first, most severe first within one
  const rank = { error: 3, warning: 2, info: 1 };
  const worst = new Map();
  for (const f of doc.findings) worst.set(f.service, Math.max(worst.get(f.service) || 0, rank[f.severity]));
  for (let i = 1; i < doc.findings.length; i++) {
    const a = doc.findings[i - 1];
    const b = doc.findings[i];
    assert.ok(worst.get(a.service) >= worst.get(b.service), `${key(a)} before ${key(b)}`);
    if (a.service === b.service) assert.ok(rank[a.severity] >= rank[b.severity], `${key(a)} before ${key(b)}`);
  }
  // what each says
  const find = (k) => doc.findings.find((f) => key(f) === k);
  assert.match(find('deprecated-attribute|legacy|db.system').hint, /db\.system to db\.system\.name/);
  assert.match(find('high-cardinality-metric|meter|cart.adds').detail, /^user\.id has \d+ distinct values/);
  assert.match(find('clock-skew|back|front').detail, /starts before its parent in front by 2\.0\d\d s/);
  assert.match(find('orphan-span|orphans|').detail, /00f067aa0ba902b7 never arrived/);
  assert.match(find('dropped-data|droppy|sdk').detail, /3 attributes/);
  assert.match(find('dropped-data|droppy|loupe').hint, /--max-attribute-value-length/);
  for (const f of doc.findings) {
    assert.ok(Number(f.firstSeenUnixNano) > 0 && BigInt(f.lastSeenUnixNano) >= BigInt(f.firstSeenUnixNano), key(f));
    assert.ok(f.hint.length > 20, key(f));
  }
});

test('every example links to its item: the API path resolves to it, the UI path names it', async () => {
  const doc = await lint();
  let checked = 0;
  for (const f of doc.findings) {
    assert.equal(f.examples.length, Math.min(f.count, 5), key(f));
    for (const ex of f.examples) {
      const r = await getJson(srv, ex.api);
      assert.equal(r.status, 200, `${key(f)}: ${ex.api}`);
      if (ex.signal === 'span') {
        assert.ok(r.body.spans.some((s) => s.spanId === ex.spanId), `${key(f)}: span ${ex.spanId} in ${ex.api}`);
        assert.equal(ex.ui, `/traces/${ex.traceId}?span=${ex.spanId}`);
      } else if (ex.signal === 'log') {
        assert.ok(r.body.logs.some((l) => l.timeUnixNano === ex.timeUnixNano && l.service === f.service), ex.api);
        assert.match(ex.ui, new RegExp(`^/logs\\?service=${f.service}&start=.*&log=${ex.timeUnixNano}$`));
      } else {
        assert.equal(ex.signal, 'metric');
        assert.ok(r.body.series.length > 0, ex.api);
        assert.equal(r.body.name, ex.metric);
        assert.match(ex.ui, /^\/metrics\?metric=cart\.adds&mservice=meter&start=/);
      }
      checked++;
    }
  }
  assert.ok(checked >= expected.size, `${checked} examples`);
});

test('?service= narrows to one service; unknown services and bad values are refused', async () => {
  const doc = await lint('?service=legacy');
  assert.deepEqual(doc.findings.map((f) => f.key).sort(), ['db.system', 'http.method', 'http.status_code', 'http.url', 'net.peer.name']);
  assert.deepEqual(doc.summary, { error: 0, warning: 0, info: 5 });
  let r = await getJson(srv, '/api/v1/lint?service=nope');
  assert.equal(r.status, 404);
  assert.match(r.body.error.message, /no service named 'nope'/);
  r = await getJson(srv, '/api/v1/lint?service=a%01b');
  assert.equal(r.status, 400);
  r = await getJson(srv, '/api/v1/lint?service=a&service=b');
  assert.equal(r.status, 400);
  const res = await fetch(`${srv.uiUrl}/api/v1/lint`, { method: 'POST' });
  assert.equal(res.status, 405);
});

test('loupe lint prints the findings per service and fails CI on errors (or the level asked)', async () => {
  const env = cliEnv(srv);
  let r = await loupeCli(['lint'], { env });
  assert.equal(r.status, 1, r.stderr); // missing-service-name and server-span-kind are errors
  assert.match(r.stdout, new RegExp(`^${unnamed}\\n  error    missing-service-name  \\(2 items\\)`, 'm'));
  assert.match(r.stdout, /^legacy\n {2}info {5}deprecated-attribute /m);
  assert.match(r.stdout, new RegExp(`e\\.g\\.: ${srv.uiUrl}/traces/[0-9a-f]{32}\\?span=[0-9a-f]{16}`));
  assert.match(r.stdout, /14 findings: 2 errors, 7 warnings, 5 info \(semantic conventions 1\.44\.0\)$/m);
  r = await loupeCli(['lint', '--service', 'legacy'], { env });
  assert.equal(r.status, 0, r.stdout); // info only
  r = await loupeCli(['lint', '--service', 'legacy', '--fail-on', 'info'], { env });
  assert.equal(r.status, 1);
  r = await loupeCli(['lint', '--service', 'logger', '--fail-on', 'warning', '--json'], { env });
  assert.equal(r.status, 1);
  assert.equal(JSON.parse(r.stdout).findings[0].rule, 'log-without-severity');
  r = await loupeCli(['lint', '--fail-on', 'never'], { env });
  assert.equal(r.status, 0);
  r = await loupeCli(['lint', '--service', 'nope'], { env });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no service named 'nope'/);
  r = await loupeCli(['lint', '--fail-on', 'sometimes'], { env });
  assert.equal(r.status, 2);
});
