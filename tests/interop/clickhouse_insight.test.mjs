// GET /api/v1/genai and GET /api/v1/lint on the ClickHouse store against
// the same answers of a --storage memory loupe fed the very same telemetry
// (every export goes to both): GenAI calls as genai.test.mjs sends them,
// and telemetry made wrong on purpose as lint.test.mjs sends it. The GenAI
// answers must be equal (same histogram buckets, same windows); the lint's
// findings equal except what the backends do differently by design
// (storage/ch_insight.h): the rules that need a span's parent are not kept
// on ClickHouse, first and last seen are each loupe's own arrival times,
// and high-cardinality-metric is counted when read (its detail and
// examples come from the stored points). Skipped without clickhouse-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { CLICKHOUSE_CLUSTER, clickhouseAvailable, startClickHouse } from './lib/clickhouse.mjs';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';
import { waitFor } from './lib/cli.mjs';
import { WEATHER, sendCalls } from './lib/genai.mjs';

const skip = clickhouseAvailable() ? false : 'clickhouse-server is not installed';
const MIN = 60000;
const T0 = (Math.floor(Date.now() / MIN) - 8) * MIN;
const WINDOW = `start=${BigInt(T0) * 1000000n}&end=${BigInt(T0 + 5 * MIN) * 1000000n}&step=1m`;
const VALUE_LIMIT = 4096;
const MAX_SERIES = 100;
const SETS = 300; // attribute sets of the exploding metric
const PARENT_RULES = new Set(['orphan-span', 'clock-skew']); // not kept on ClickHouse

const CALLS = [
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 1000, durMs: 800, input: 100, output: 20, conv: WEATHER }],
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 2000, durMs: 1200, input: 300, output: 60 }],
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 3000, durMs: 2500, input: 1000, output: 0, error: true }],
  ['support-bot', { op: 'execute_tool', name: 'execute_tool get_weather', start: T0 + 5000, durMs: 30, kind: SpanKind.INTERNAL, attrs: { 'gen_ai.tool.name': 'get_weather' } }],
  ['support-bot', { op: 'chat', providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: T0 + MIN + 1000, durMs: 1500, input: 400, output: 120, conv: WEATHER, shape: 'events' }],
  ['support-bot', { op: 'chat', providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: T0 + MIN + 2000, durMs: 3000, input: 2000, output: 500 }],
  ['indexer', { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: T0 + MIN + 3000, durMs: 50, input: 500 }],
  ['indexer', { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: T0 + 3 * MIN + 4000, durMs: 60, input: 700 }],
];

let ch;
let mem;
let chl;

// An exporter that sends each export to both loupes, one export at a time
// (so both receive the items in the same order: the examples a finding
// shows are the first items met), and reports the worse result.
function tee(a, b) {
  let chain = Promise.resolve();
  const one = (e, items) => new Promise((resolve) => e.export(items, resolve));
  return {
    export(items, done) {
      chain = chain.then(async () => {
        const ra = await one(a, items);
        const rb = await one(b, items);
        done(ra.code !== 0 ? ra : rb);
      });
    },
    async forceFlush() {
      await chain;
      await Promise.all([a.forceFlush?.(), b.forceFlush?.()]);
    },
    async shutdown() {
      await chain;
      await Promise.all([a.shutdown(), b.shutdown()]);
    },
  };
}

function tracerOf(exp, service, opts = {}) {
  const provider = new BasicTracerProvider({
    ...(service ? { resource: resourceFromAttributes({ 'service.name': service }) } : {}),
    spanProcessors: [new SimpleSpanProcessor(exp.traces)],
    ...opts,
  });
  return { provider, tracer: provider.getTracer('lint-test', '1.0.0') };
}

async function sendBadTelemetry(exp) {
  const providers = [];
  {
    const { provider, tracer } = tracerOf(exp, undefined);
    for (let i = 0; i < 2; i++) tracer.startSpan('job', { kind: SpanKind.SERVER }).end();
    providers.push(provider);
  }
  {
    const { provider, tracer } = tracerOf(exp, 'legacy');
    for (let i = 0; i < 7; i++) {
      tracer.startSpan('GET', {
        kind: SpanKind.CLIENT,
        attributes: { 'http.method': 'GET', 'http.status_code': 200, 'net.peer.name': 'x' },
      }).end();
    }
    tracer.startSpan('SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }).end();
    providers.push(provider);
  }
  {
    const { provider, tracer } = tracerOf(exp, 'errors');
    const bad = tracer.startSpan('charge', { kind: SpanKind.SERVER });
    bad.recordException(new Error('card declined'));
    bad.end();
    providers.push(provider);
  }
  {
    const { provider, tracer } = tracerOf(exp, 'kinds');
    tracer.startSpan('GET /orders', {
      kind: SpanKind.INTERNAL, attributes: { 'http.request.method': 'GET', 'url.path': '/orders' },
    }).end();
    providers.push(provider);
  }
  {
    const { provider, tracer } = tracerOf(exp, 'droppy', { spanLimits: { attributeCountLimit: 2 } });
    tracer.startSpan('many', { kind: SpanKind.SERVER, attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 } }).end();
    tracer.startSpan('long', { kind: SpanKind.SERVER, attributes: { note: 'x'.repeat(VALUE_LIMIT * 4) } }).end();
    providers.push(provider);
  }
  // the rules that need a parent: an orphan and skewed clocks
  {
    const { provider, tracer } = tracerOf(exp, 'orphans');
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED, isRemote: true,
    });
    tracer.startSpan('GET /orphaned', { kind: SpanKind.SERVER }, remote).end();
    providers.push(provider);
    const front = tracerOf(exp, 'front');
    const back = tracerOf(exp, 'back');
    const t0 = Date.now();
    const client = front.tracer.startSpan('GET /stock', { kind: SpanKind.CLIENT, startTime: t0 });
    back.tracer.startSpan('GET /stock', { kind: SpanKind.SERVER, startTime: t0 - 2000 },
      trace.setSpan(ROOT_CONTEXT, client)).end(t0 + 20);
    client.end(t0 + 50);
    providers.push(front.provider, back.provider);
  }
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
  const lp = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logger' }),
    processors: [new SimpleLogRecordProcessor({ exporter: exp.logs })],
  });
  const logger = lp.getLogger('lint-test');
  logger.emit({ body: 'no severity at all' });
  logger.emit({ severityText: 'INFO', body: 'a text without its number', attributes: { 'http.method': 'GET' } });
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'fine' });
  await lp.forceFlush();
  await lp.shutdown();
  const reader = new PeriodicExportingMetricReader({
    exporter: exp.metrics, exportIntervalMillis: 3600000, cardinalityLimits: { counter: SETS * 2 },
  });
  const mp = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'meter' }), readers: [reader] });
  const counter = mp.getMeter('lint-test').createCounter('cart.adds');
  for (let i = 0; i < SETS; i++) counter.add(1, { 'user.id': `u${i}`, region: 'eu' });
  const calm = mp.getMeter('lint-test').createCounter('cart.checkouts');
  for (let i = 0; i < 20; i++) calm.add(1, { region: `r${i}`, 'http.method': 'GET' });
  await mp.forceFlush();
  await mp.shutdown();
}

before(async () => {
  if (skip) return;
  ch = await startClickHouse();
  const args = ['--lint-orphan-grace', '1s', '--max-attribute-value-length', String(VALUE_LIMIT),
    '--lint-max-series', String(MAX_SERIES)];
  mem = await startLoupe({ storage: 'memory', chOptOut: true, args });
  chl = await startLoupe({
    storage: 'clickhouse', clickhouse: { urls: ch.urls, database: `q4_insight_${process.pid}` },
    args, readyTimeoutMs: 30000,
  });
  await feed(mem, chl);
});

// Sends the GenAI calls and the lint's telemetry to both loupes, and waits
// until the memory store has judged the orphan (after its grace period).
async function feed(x, y) {
  const a = exporters(x, 'http/protobuf');
  const b = exporters(y, 'http/protobuf');
  const exp = { traces: tee(a.traces, b.traces), logs: tee(a.logs, b.logs), metrics: tee(a.metrics, b.metrics) };
  for (const service of ['support-bot', 'indexer']) {
    await sendCalls(exp, service, CALLS.filter(([s]) => s === service).map(([, c]) => c));
  }
  await sendBadTelemetry(exp);
  await waitFor(async () => (await getJson(x, '/api/v1/lint')).body.findings.some((f) => f.rule === 'orphan-span'),
    { timeoutMs: 15000, what: 'the orphan span on the memory store' });
}

after(async () => {
  await chl?.stop();
  await mem?.stop();
  await ch?.stop();
});

async function both(path, x = mem, y = chl) {
  const [m, c] = await Promise.all([getJson(x, path), getJson(y, path)]);
  assert.equal(m.status, 200, `memory ${path}: ${JSON.stringify(m.body)}`);
  assert.equal(c.status, 200, `clickhouse ${path}: ${JSON.stringify(c.body)}`);
  return [m.body, c.body];
}

test('GenAI: the same answer from ClickHouse as from the memory store', { skip }, async () => {
  for (const q of [WINDOW, `start=${BigInt(T0 + MIN) * 1000000n}&end=${BigInt(T0 + 2 * MIN) * 1000000n}`,
    `start=${BigInt(T0) * 1000000n}&end=${BigInt(T0 + 5 * MIN) * 1000000n}&step=2m`, '']) {
    const [m, c] = await both(`/api/v1/genai?${q}`);
    assert.deepEqual(c, m, `window ${q || '(default)'}`);
  }
  const [m] = await both(`/api/v1/genai?${WINDOW}`);
  // the comparison means something: the calls are there
  assert.equal(m.totals.calls, CALLS.length);
  assert.equal(m.models.length, 4);
  assert.equal(m.slowest[0].durationNs, 3000e6);
  assert.equal(m.mostExpensive[0].inputTokens, 2000);
  // a window without calls: empty lists on both
  const empty = `start=${BigInt(T0 - 60 * MIN) * 1000000n}&end=${BigInt(T0 - 50 * MIN) * 1000000n}`;
  const [me, ce] = await both(`/api/v1/genai?${empty}`);
  assert.deepEqual(ce, me);
  assert.equal(ce.totals.calls, 0);
  // too many steps: refused on both
  const many = await getJson(chl, `/api/v1/genai?start=0&end=${BigInt(T0) * 1000000n}&step=1m`);
  assert.equal(many.status, 400);
});

const key = (f) => `${f.rule}|${f.service}|${f.key}`;

test('lint: the same findings as the memory store, but for the rules that need a parent', { skip }, async () => {
  const [m, c] = await both('/api/v1/lint');
  const mine = m.findings.filter((f) => !PARENT_RULES.has(f.rule));
  // the memory store found the parent rules; ClickHouse leaves them out
  assert.deepEqual(m.findings.filter((f) => PARENT_RULES.has(f.rule)).map(key).sort(),
    ['clock-skew|back|front', 'orphan-span|orphans|']);
  assert.deepEqual(c.findings.map(key), mine.map(key), 'the same findings in the same order');
  assert.ok(mine.length >= 12, `${mine.length} findings`);
  assert.equal(c.semconvVersion, m.semconvVersion);
  const by = { error: 0, warning: 0, info: 0 };
  for (const f of c.findings) by[f.severity]++;
  assert.deepEqual(c.summary, by);
  for (let i = 0; i < mine.length; i++) {
    const a = mine[i];
    const b = c.findings[i];
    const k = key(a);
    assert.equal(b.count, a.count, `${k}: count`);
    assert.equal(b.severity, a.severity, k);
    assert.equal(b.hint, a.hint, k);
    assert.ok(BigInt(b.firstSeenUnixNano) > 0n && BigInt(b.lastSeenUnixNano) >= BigInt(b.firstSeenUnixNano), k);
    if (a.rule === 'high-cardinality-metric') {
      // counted when read, from the stored points
      assert.match(b.detail, /^user\.id has 300 distinct values in the latest 300 attribute sets$/);
      assert.equal(b.examples.length, 5);
      for (const ex of b.examples) {
        assert.equal(ex.metric, 'cart.adds');
        const r = await getJson(mem, ex.api.replace(/&end=\d+/, `&end=${BigInt(ex.timeUnixNano) + 1n}`));
        assert.equal(r.status, 200, ex.api);
      }
      continue;
    }
    assert.equal(b.detail, a.detail, `${k}: detail`);
    assert.deepEqual(b.examples, a.examples, `${k}: examples`);
  }
  const find = (k) => c.findings.find((f) => key(f) === k);
  assert.equal(find('deprecated-attribute|legacy|http.method').count, 7);
  assert.equal(find('deprecated-attribute|legacy|http.method').examples.length, 5);
  assert.equal(find('deprecated-attribute|logger|http.method').examples[0].signal, 'log');
  assert.equal(find('high-cardinality-metric|meter|cart.adds').count, SETS);
  assert.match(find('log-without-severity|logger|').detail, /^severity text "INFO" without a number$/);
  // every example's API path resolves on the ClickHouse loupe's twin
  for (const f of c.findings) {
    for (const ex of f.examples) {
      if (ex.signal === 'span') {
        const r = await getJson(mem, ex.api);
        assert.ok(r.body.spans.some((s) => s.spanId === ex.spanId), `${key(f)}: ${ex.api}`);
      }
    }
  }
});

test('lint: ?service= narrows, an unknown service is 404 on both', { skip }, async () => {
  const [m, c] = await both('/api/v1/lint?service=legacy');
  assert.deepEqual(c.findings.map(key), m.findings.map(key));
  assert.deepEqual(c.summary, { error: 0, warning: 0, info: 4 });
  assert.deepEqual(c.findings.map((f) => f.count), m.findings.map((f) => f.count));
  const [mm, cm] = await both('/api/v1/lint?service=meter');
  assert.deepEqual(cm.findings.map(key), mm.findings.map(key));
  for (const srv of [mem, chl]) {
    const r = await getJson(srv, '/api/v1/lint?service=nope');
    assert.equal(r.status, 404, JSON.stringify(r.body));
  }
});

test('lint off: a ClickHouse loupe with --lint off writes no findings, GenAI still works', { skip }, async (t) => {
  const off = await startLoupe({
    storage: 'clickhouse', clickhouse: { urls: ch.urls, database: `q4_insight_off_${process.pid}` },
    args: ['--lint', 'off'], readyTimeoutMs: 30000,
  });
  t.after(() => off.stop());
  const e = exporters(off, 'http/protobuf');
  await sendCalls(e, 'support-bot', [CALLS[0][1]]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'legacy' }),
    spanProcessors: [new SimpleSpanProcessor(e.traces)],
  });
  provider.getTracer('t').startSpan('GET', { attributes: { 'http.method': 'GET' } }).end();
  await provider.forceFlush();
  await provider.shutdown();
  const g = await getJson(off, `/api/v1/genai?${WINDOW}`);
  assert.equal(g.body.totals.calls, 1);
  const l = await getJson(off, '/api/v1/lint');
  assert.equal(l.status, 200);
  assert.deepEqual(l.body.findings, []);
  // the spans are stored all the same
  const s = await getJson(off, '/api/v1/lint?service=legacy');
  assert.equal(s.status, 200);
});

test('a delete of one service\'s traces takes its GenAI calls and span findings along', { skip }, async () => {
  const del = await fetch(`${chl.uiUrl}/api/v1/telemetry?service=indexer&signal=traces`, { method: 'DELETE' });
  assert.equal(del.status, 200, await del.text());
  const g = await getJson(chl, `/api/v1/genai?${WINDOW}`);
  assert.deepEqual(g.body.services.map((s) => s.service), ['support-bot']);
  const del2 = await fetch(`${chl.uiUrl}/api/v1/telemetry?service=legacy&signal=traces`, { method: 'DELETE' });
  assert.equal(del2.status, 200);
  const l = await getJson(chl, '/api/v1/lint');
  assert.ok(!l.body.findings.some((f) => f.service === 'legacy'));
  assert.ok(l.body.findings.some((f) => f.service === 'logger'));
});

test('a two-shard cluster answers as the memory store does', { skip, timeout: 120000 }, async (t) => {
  const cluster = await startClickHouse({ shards: 2 });
  t.after(() => cluster.stop());
  const args = ['--lint-orphan-grace', '1s', '--max-attribute-value-length', String(VALUE_LIMIT),
    '--lint-max-series', String(MAX_SERIES)];
  const m2 = await startLoupe({ storage: 'memory', chOptOut: true, args });
  t.after(() => m2.stop());
  const c2 = await startLoupe({
    storage: 'clickhouse', args, readyTimeoutMs: 30000,
    clickhouse: { urls: cluster.urls, database: `q4_insight_cl_${process.pid}`, cluster: CLICKHOUSE_CLUSTER },
  });
  t.after(() => c2.stop());
  await feed(m2, c2);
  const [m, c] = await both(`/api/v1/genai?${WINDOW}`, m2, c2);
  assert.deepEqual(c, m);
  assert.equal(c.totals.calls, CALLS.length);
  const [ml, cl] = await both('/api/v1/lint', m2, c2);
  const mine = ml.findings.filter((f) => !PARENT_RULES.has(f.rule));
  assert.deepEqual(cl.findings.map((f) => [key(f), f.count]), mine.map((f) => [key(f), f.count]));
  for (let i = 0; i < mine.length; i++) {
    if (mine[i].rule === 'high-cardinality-metric') continue;
    assert.equal(cl.findings[i].detail, mine[i].detail, key(mine[i]));
    assert.deepEqual(cl.findings[i].examples, mine[i].examples, key(mine[i]));
  }
  // both shards hold GenAI calls (sharded by trace id)
  for (const shard of [0, 1]) {
    const n = Number((await cluster.query(
      `SELECT count() FROM q4_insight_cl_${process.pid}.genai_calls_local`, shard)).trim());
    assert.ok(n > 0 && n < CALLS.length, `shard ${shard}: ${n} calls`);
  }
});

test('retention: a day past --max-age goes with its GenAI calls and findings', { skip, timeout: 60000 }, async (t) => {
  const db = `q4_insight_age_${process.pid}`;
  const opts = (args) => ({ storage: 'clickhouse', clickhouse: { urls: ch.urls, database: db }, args, readyTimeoutMs: 30000 });
  const DAY = 24 * 60 * MIN;
  const old = Math.floor(Date.now() / DAY) * DAY - 3 * DAY + 12 * 60 * MIN; // noon, three days ago
  const day = new Date(old).toISOString().slice(0, 10);
  // stored by a loupe without an age limit
  const a = await startLoupe(opts([]));
  let stopped = false;
  t.after(async () => { if (!stopped) await a.stop(); });
  const spec = (start) => ({ op: 'chat', provider: 'openai', model: 'gpt-4o', start, durMs: 100, input: 1, output: 1, attrs: { 'http.method': 'POST' } });
  await sendCalls(exporters(a, 'http/protobuf'), 'aged', [spec(old), spec(Date.now() - 1000)]);
  const parts = async (table) => (await ch.query(
    `SELECT count() FROM system.parts WHERE active AND database = '${db}' AND table = '${table}' AND partition LIKE '%${day}%' FORMAT TSV`)).trim();
  for (const table of ['spans', 'genai_calls', 'lint_findings', 'lint_examples']) assert.notEqual(await parts(table), '0', table);
  await a.stop();
  stopped = true;
  // a loupe with --max-age 1d runs retention as it starts: the day goes from every table
  const b = await startLoupe(opts(['--max-age', '1d']));
  t.after(() => b.stop());
  await waitFor(async () => (await parts('spans')) === '0', { timeoutMs: 20000, what: `the spans of ${day} dropped` });
  for (const table of ['genai_calls', 'lint_findings', 'lint_examples']) assert.equal(await parts(table), '0', table);
  const left = (await ch.query(`SELECT count() FROM ${db}.genai_calls FORMAT TSV`)).trim();
  assert.equal(left, '1', 'today\'s call stays');
  const g = await getJson(b, `/api/v1/genai?start=${BigInt(old - MIN) * 1000000n}&end=${BigInt(Date.now()) * 1000000n}`);
  assert.equal(g.body.totals.calls, 1);
  const f = (await getJson(b, '/api/v1/lint?service=aged')).body.findings.find((x) => x.key === 'http.method');
  assert.equal(f.count, 1);
});

test('--max-age hides older GenAI calls at once', { skip, timeout: 60000 }, async (t) => {
  // a call 2 h old: older than the limit, but its day is kept (a day goes
  // once all of it is older; before 02:00 UTC it is yesterday's, which may
  // go: hidden either way)
  const db = `q4_insight_hide_${process.pid}`;
  const old = Date.now() - 120 * MIN;
  const a = await startLoupe({ storage: 'clickhouse', clickhouse: { urls: ch.urls, database: db }, args: [], readyTimeoutMs: 30000 });
  const spec = (start) => ({ op: 'chat', provider: 'openai', model: 'gpt-4o', start, durMs: 100, input: 1, output: 1, attrs: { 'http.method': 'POST' } });
  await sendCalls(exporters(a, 'http/protobuf'), 'aged', [spec(old), spec(Date.now() - 1000)]);
  const window = `start=${BigInt(old - MIN) * 1000000n}&end=${BigInt(Date.now()) * 1000000n}`;
  assert.equal((await getJson(a, `/api/v1/genai?${window}`)).body.totals.calls, 2);
  await a.stop();
  const b = await startLoupe({ storage: 'clickhouse', clickhouse: { urls: ch.urls, database: db }, args: ['--max-age', '1h'], readyTimeoutMs: 30000 });
  t.after(() => b.stop());
  assert.equal((await getJson(b, `/api/v1/genai?${window}`)).body.totals.calls, 1);
});
