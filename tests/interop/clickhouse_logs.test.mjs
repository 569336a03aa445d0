// ClickHouse store, logs and metrics: the same telemetry sent to a loupe on
// --storage memory (the SQLite store) and to a loupe on --storage clickhouse
// (private clickhouse-servers from lib/clickhouse.mjs: one, then a two-shard
// cluster; skipped when clickhouse-server is not installed) must give the
// same answers from /api/v1/logs (every filter, word search, paging),
// /api/v1/metrics and /api/v1/metrics/{name}/series (steps, windows,
// groupBy on point and resource attributes, attribute filters, every
// metric type). The telemetry: OTLP JSON documents posted to both, and log
// records of the official SDK exported over OTLP/protobuf to both by one
// provider. Also: hostile parameters answer alike, --max-age hides old data.
//
// What legitimately differs, and how the comparison treats it:
//   - resourceId: the SQLite store's resources-table id ("r7"), a hash on
//     ClickHouse: items are compared with their resource's content in
//     place of the id, and the resources maps by content;
//   - patternId: log patterns are the SQLite store's: null on ClickHouse
//     (checked), dropped from the comparison; pattern= is a 501 there;
//   - nextCursor: opaque, its own format per store: compared as
//     null / not null, and each store's pages are walked with its own;
//   - records of one batch with the same time: the SQLite store lists the
//     later one of the batch first, ClickHouse by a hash of the record, so
//     the data here gives every record its own time except the identical
//     twins, which are only checked for being paged without repeat or skip;
//   - q: ClickHouse folds ASCII case only and keeps accents (docs in
//     storage/ch_query_logs.c), so the words searched here are ASCII.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clickhouseAvailable, startClickHouse } from './lib/clickhouse.mjs';
import { startLoupe, getJson } from './lib/server.mjs';
import { until } from './lib/forward.mjs';
import { exporters } from './lib/telemetry.mjs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';

const SKIP = clickhouseAvailable() ? false : 'clickhouse-server is not installed';
const SEC = 1000000000n;
// a fixed time two hours ago, on a whole minute, so steps and windows are
// the same for both stores and no record is older than any age limit
const BASE = (BigInt(Date.now()) * 1000000n / (60n * SEC) - 120n) * 60n * SEC;
const ns = (s) => String(BASE + BigInt(Math.round(s * 1e9)));
const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

const kv = (key, v) => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v }
    : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
});
const res = (service, extra = {}) => ({
  attributes: [kv('service.name', service), ...Object.entries(extra).map(([k, v]) => kv(k, v))],
});

// ---- the logs ----------------------------------------------------------------

const BODIES = [
  'Payment declined for card 4242', 'disk full on /var/lib', 'Disk.Full again', 'connection reset by peer',
  'connected to db-1', 'user 42 logged in', 'reconnect scheduled', 'the DISK is fine',
  'timeout after 30s', 'payment accepted', 'cache miss: key=user:42', 'shutting down (signal 15)',
  "grüße aus Köln: it's a [regex] (.*) \\ test", 'ünïcödé 日本語 done',
];

function logsDoc() {
  const records = (svc, from) => BODIES.map((b, i) => {
    const r = {
      timeUnixNano: ns(from + i * 7 + (svc === 'checkout' ? 0 : 1)),
      observedTimeUnixNano: ns(from + i * 7 + 0.5),
      severityNumber: 1 + ((i * 5) % 24), severityText: `S${i}`,
      body: { stringValue: `${b}` },
      attributes: [kv('i', i), kv('route', i % 2 ? '/a' : '/b'), kv('ratio', i / 4), kv('ok', i % 3 === 0)],
      flags: i % 2,
    };
    if (i % 4 === 1) { r.traceId = TRACE; r.spanId = SPAN; }
    if (i === 3) r.eventName = 'conn.reset';
    if (i === 0) r.attributes.push(kv("o'k", "a\\'b"));
    if (i === 5) delete r.timeUnixNano; // listed by its observed time
    return r;
  });
  const structured = {
    timeUnixNano: ns(200), severityNumber: 17,
    body: { kvlistValue: { values: [kv('message', 'structured disk failure'), kv('code', 7)] } },
    attributes: [kv('i', 100)],
  };
  // identical twins: same time, same everything, one batch
  const twin = { timeUnixNano: ns(210), severityNumber: 9, body: { stringValue: 'twin record' } };
  return {
    resourceLogs: [
      { resource: res('checkout', { 'host.name': 'h1' }),
        scopeLogs: [{ scope: { name: 'app.logger', version: '1.2' }, logRecords: [...records('checkout', 0), structured] }] },
      { resource: res('billing', { 'host.name': 'h2' }),
        scopeLogs: [{ scope: { name: 'billing.log' }, logRecords: [...records('billing', 100), twin, { ...twin }, { ...twin }] }] },
    ],
  };
}
const N_SDK = 5;
const N_LOGS = 2 * BODIES.length + 1 + 3 + N_SDK;

// The same records through the official SDK and OTLP/protobuf exporter to
// each loupe (one provider, a processor per loupe: the records, their
// observed times included, are the same objects).
async function sdkLogs(servers) {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-app', 'deployment.environment': 'test' }),
    processors: servers.map((srv) => new SimpleLogRecordProcessor({ exporter: exporters(srv, 'http/protobuf').logs })),
  });
  const logger = provider.getLogger('sdk-logger', '0.1.0');
  const t0 = Number(BASE / 1000000n) + 300000;
  logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'sdk disk almost full',
    attributes: { 'log.index': 0, pct: 97.5 }, timestamp: t0 });
  logger.emit({ severityNumber: SeverityNumber.ERROR, body: { message: 'sdk structured', code: 7, list: [1, 'two'] },
    attributes: { 'bytes.attr': new Uint8Array([0, 1, 2, 250]), 'obj.attr': { inner: 'v', n: 1.5 } }, timestamp: t0 + 1 });
  logger.emit({ severityNumber: SeverityNumber.INFO, body: 'sdk user.signup done', eventName: 'user.signup', timestamp: t0 + 2 });
  logger.emit({ severityNumber: SeverityNumber.DEBUG, body: 'sdk <script>alert(1)</script>', timestamp: t0 + 3 });
  logger.emit({ severityNumber: SeverityNumber.FATAL, body: ['sdk', 'array', 3], timestamp: t0 + 4 });
  await provider.forceFlush();
  await provider.shutdown();
}

// ---- the metrics -------------------------------------------------------------

function numPoints(vals, attrs, { start = 0, step = 10, ints = true } = {}) {
  return vals.map((v, k) => ({
    startTimeUnixNano: ns(start), timeUnixNano: ns(5 + k * step),
    ...(ints ? { asInt: String(v) } : { asDouble: v }),
    attributes: attrs,
  }));
}

function metricsDoc() {
  const a = [kv('route', '/a')], b = [kv('route', '/b')];
  const hist = (counts, k, attrs) => ({
    startTimeUnixNano: ns(0), timeUnixNano: ns(5 + k * 10), count: String(counts.reduce((x, y) => x + y, 0)),
    sum: counts.reduce((x, y, i) => x + y * (i + 1) * 0.1, 0), min: 0.01, max: 2.5,
    explicitBounds: [0.1, 0.5, 1], bucketCounts: counts.map(String), attributes: attrs,
  });
  const metrics = (host) => [
    { name: 'temp.gauge', unit: 'C', description: 'a gauge',
      gauge: { dataPoints: [...numPoints([20, 21, 19, 25, 23], a, { ints: false }).map((p, k) => ({ ...p, asDouble: 20.5 + k })),
        ...numPoints([3, 4, 5, 6, 7], b)] } },
    { name: 'req.count', unit: '{request}', description: 'requests',
      sum: { aggregationTemporality: 2, isMonotonic: true,
        dataPoints: [...numPoints([10, 15, 30, 4, 9, 20], a), ...numPoints([1, 2, 3, 4, 5, 6], b, { start: 1 })] } },
    { name: 'req.delta', unit: '{request}',
      sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: numPoints([3, 1, 4, 1, 5], a) } },
    { name: 'queue.depth', unit: '{item}',
      sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: numPoints([5, 8, 2, 7], a) } },
    { name: 'latency', unit: 's', description: 'latency',
      histogram: { aggregationTemporality: 2,
        dataPoints: [hist([1, 2, 0, 0], 0, a), hist([2, 4, 1, 0], 1, a), hist([5, 6, 1, 1], 2, a),
          hist([1, 0, 0, 1], 3, a), hist([0, 1, 0, 0], 0, b), hist([0, 3, 2, 0], 2, b)] } },
    { name: 'size.exp', unit: 'By',
      exponentialHistogram: { aggregationTemporality: 1, dataPoints: [0, 1, 2].map((k) => ({
        startTimeUnixNano: ns(k * 10), timeUnixNano: ns(5 + k * 10), count: String(6 + k), sum: 40.5 + k,
        scale: 1, zeroCount: '1', positive: { offset: 2, bucketCounts: ['2', String(2 + k), '1'] }, attributes: a,
      })) } },
    { name: 'rpc.summary', unit: 'ms',
      summary: { dataPoints: [0, 1].map((k) => ({
        timeUnixNano: ns(5 + k * 10), count: String(10 + k), sum: 100.5 + k,
        quantileValues: [{ quantile: 0.5, value: 9 + k }, { quantile: 0.99, value: 40 + k }], attributes: a,
      })) } },
  ].map((m) => ({ ...m, ...(host === 'h2' && m.name !== 'req.count' && m.name !== 'latency' ? { skip: true } : {}) }))
    .filter((m) => !m.skip);
  return {
    resourceMetrics: [
      { resource: res('checkout', { 'host.name': 'h1', 'service.instance.id': 'i-1' }),
        scopeMetrics: [{ scope: { name: 'app.meter', version: '2' }, metrics: metrics('h1') }] },
      { resource: res('checkout', { 'host.name': 'h2', 'service.instance.id': 'i-2' }),
        scopeMetrics: [{ scope: { name: 'app.meter', version: '2' }, metrics: metrics('h2') }] },
      { resource: res('billing', { 'host.name': 'h3' }),
        scopeMetrics: [{ scope: { name: 'billing.meter' }, metrics: [
          { name: 'req.count', unit: '{request}', sum: { aggregationTemporality: 2, isMonotonic: true,
            dataPoints: numPoints([7, 9, 12], [kv('route', '/a'), kv('code', 200)]) } }] }] },
    ],
  };
}

// ---- comparison ---------------------------------------------------------------

async function post(srv, signal, doc) {
  const r = await fetch(`${srv.httpUrl}/v1/${signal}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc),
  });
  assert.equal(r.status, 200, await r.text());
}

// A logs answer with resource ids replaced by their resources' content and
// patternId checked (ClickHouse: null) and dropped.
function normLogs(body, onClickHouse) {
  return body.logs.map((it) => {
    const { resourceId, patternId, ...rest } = it;
    if (onClickHouse) assert.equal(patternId, null);
    else assert.equal(typeof patternId, 'number');
    const r = body.resources[resourceId];
    assert.ok(r, `resource ${resourceId} in the answer's map`);
    return { ...rest, resource: r };
  });
}

let ch, mem, chl;

async function both(pathAndQuery) {
  const [a, b] = await Promise.all([getJson(mem, pathAndQuery), getJson(chl, pathAndQuery)]);
  return [a, b];
}

async function sameLogs(query, { expectSome = true } = {}) {
  const [a, b] = await both(`/api/v1/logs?${query}`);
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const x = normLogs(a.body, false), y = normLogs(b.body, true);
  assert.deepEqual(y, x, `logs?${query}`);
  assert.equal(b.body.nextCursor === null, a.body.nextCursor === null, `nextCursor of logs?${query}`);
  assert.equal(Object.keys(b.body.resources).length, Object.keys(a.body.resources).length);
  if (expectSome) assert.ok(x.length > 0, `logs?${query} finds something`);
  return x;
}

// Every page of logs?query (limit per page) on srv: the items in order.
async function walk(srv, query, limit) {
  const items = [];
  let cursor = '';
  for (let pages = 0; pages < 100; pages++) {
    const r = await getJson(srv, `/api/v1/logs?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.logs.length <= limit);
    items.push(...normLogs(r.body, srv === chl));
    if (r.body.nextCursor === null) return items;
    cursor = r.body.nextCursor;
  }
  throw new Error('more than 100 pages');
}

async function sameSeries(name, query, { status = 200 } = {}) {
  const p = `/api/v1/metrics/${encodeURIComponent(name)}/series${query ? `?${query}` : ''}`;
  const [a, b] = await both(p);
  assert.equal(a.status, status, `memory ${p}: ${JSON.stringify(a.body)}`);
  assert.equal(b.status, status, `clickhouse ${p}: ${JSON.stringify(b.body)}`);
  assert.deepEqual(b.body, a.body, p);
  return a.body;
}

// The ClickHouse side of a suite: one server, or a two-shard cluster
// (Distributed tables; logs and points spread at random over the shards).
let chOpts;
const suite = (title, shards) => describe(title, { skip: SKIP }, () => {
  before(async () => {
    ch = await startClickHouse({ shards });
    chOpts = { urls: ch.urls, database: 'q2_logs', cluster: ch.cluster };
    mem = await startLoupe({ storage: 'memory', chOptOut: true });
    chl = await startLoupe({ storage: 'clickhouse', clickhouse: chOpts });
    for (const srv of [mem, chl]) {
      await post(srv, 'logs', logsDoc());
      await post(srv, 'metrics', metricsDoc());
    }
    await sdkLogs([mem, chl]);
    for (const srv of [mem, chl]) {
      await until(async () => {
        const r = await getJson(srv, '/api/v1/logs?limit=1000');
        return r.status === 200 && r.body.logs.length === N_LOGS;
      }, 30000, 'every log record listed');
      await until(async () => {
        const r = await getJson(srv, '/api/v1/metrics');
        return r.status === 200 && r.body.metrics.length === 8;
      }, 30000, 'every instrument listed');
    }
  });
  after(async () => {
    await mem?.stop();
    await chl?.stop();
    await ch?.stop();
  });

  test('the list and each filter', async () => {
    if (shards > 1) {
      // the rows are spread: each shard's local tables hold some
      for (let i = 0; i < shards; i++) {
        for (const t of ['logs_local', 'points_local']) {
          const n = Number(await ch.query(`SELECT count() FROM q2_logs.${t}`, i));
          assert.ok(n > 0, `shard ${i} holds rows of ${t}`);
        }
      }
    }
    const all = await sameLogs('limit=1000');
    assert.equal(all.length, N_LOGS);
    // listed by the observed time when the record has no time of its own
    assert.ok(all.some((l) => l.timeUnixNano === ns(5 * 7 + 0.5)));
    await sameLogs('service=checkout&limit=1000');
    await sameLogs('service=nosuch', { expectSome: false });
    await sameLogs('minSeverity=warn&limit=1000');
    await sameLogs('minSeverity=17&service=billing');
    await sameLogs(`traceId=${TRACE}`);
    await sameLogs(`spanId=${SPAN}&service=billing`);
    await sameLogs(`start=${ns(20)}&end=${ns(130)}&limit=1000`);
    await sameLogs('attr=route%3D%2Fa&limit=1000');
    await sameLogs('attr=route!%3D%2Fa&limit=1000');
    await sameLogs('attr=host.name%3Dh2&limit=1000'); // a resource attribute
    await sameLogs('attr=route~%2FA&limit=1000');
    await sameLogs('attr=i>5&attr=i<9&limit=1000');
    await sameLogs('attr=ratio>1.5&limit=1000');
    await sameLogs('attr=ok%3Dtrue&limit=1000');
    await sameLogs('attr=i%3D100');
    await sameLogs('service=sdk-app');
    await sameLogs('attr=pct>90');
    await sameLogs('attr=deployment.environment%3Dtest&q=sdk');
  });

  test('body words: whole words, any ASCII case, prefixes, phrases', async () => {
    for (const q of ['disk', 'DISK', 'disk full', 'disk.full', 'Disk.Full', 'conn*', 'connection',
      'connect', 'payment declined', 'user:42', 'user 42', 'signal 15', '(signal', 'structured',
      'failure', 'pay* dec*', 'full disk', 'db-1', '30s']) {
      const x = await sameLogs(`q=${encodeURIComponent(q)}&limit=1000`,
        { expectSome: !['connect', 'full disk'].includes(q) });
      if (q === 'connect') assert.equal(x.length, 0, 'a word is not a prefix unless it ends in *');
    }
    // a word without letters or digits is left out
    await sameLogs(`q=${encodeURIComponent('disk ---')}`);
    await sameLogs(`q=${encodeURIComponent('---')}&limit=1000`, { expectSome: false });
    await sameLogs(`q=nothing-like-this`, { expectSome: false });
    // non-ASCII words as stored (ClickHouse folds ASCII case only)
    for (const q of ['grüße', 'köln', '日本語', 'ünïcödé done', 'gr*']) await sameLogs(`q=${encodeURIComponent(q)}`);
    // regular expression and SQL metacharacters are text
    for (const q of ['[regex]', '(.*)', "it's", '\\', "'", '.*', 'a|b', '^test$', 'regex]*', '%', '\\x41']) {
      await sameLogs(`q=${encodeURIComponent(q)}&limit=1000`, { expectSome: ['[regex]', "it's", 'regex]*'].includes(q) });
    }
  });

  test('hostile parameters are values', async () => {
    for (const q of ["service=o'neil%5C", "attr=route%3D'%5C%2Fa", "attr=o'k!%3D%5C", 'attr=route~%25',
      "attr=%27%3D%27"]) {
      await sameLogs(`${q}&limit=1000`, { expectSome: q.startsWith('attr=o') });
      for (const name of ['req.count', "it's%5Cname"]) {
        const [a, b] = await both(`/api/v1/metrics/${name}/series?${q}`);
        assert.equal(b.status, a.status, `series ${name}?${q}`);
        assert.deepEqual(b.body, a.body);
      }
    }
    const [a, b] = await both("/api/v1/metrics?service=o'neil%5C");
    assert.deepEqual(b.body, a.body);
  });

  test('--max-age hides what is older on ClickHouse', async () => {
    const old = await startLoupe({ storage: 'clickhouse', args: ['--max-age', '1h'],
      clickhouse: chOpts });
    try {
      const l = await getJson(old, '/api/v1/logs?limit=1000');
      assert.equal(l.status, 200);
      assert.equal(l.body.logs.length, 0);
      const m = await getJson(old, '/api/v1/metrics');
      assert.equal(m.body.metrics.length, 0);
      const s = await getJson(old, '/api/v1/metrics/req.count/series');
      assert.equal(s.status, 404);
    } finally {
      await old.stop();
    }
    const l = await getJson(chl, '/api/v1/logs?limit=1000');
    assert.equal(l.body.logs.length, N_LOGS);
  });

  test('paging walks every record once, in the same order', async () => {
    const full = await sameLogs('limit=1000');
    for (const [query, limit] of [['', 1], ['', 4], ['service=checkout', 5], ['q=disk', 1], ['minSeverity=9', 3]]) {
      const [a, b] = await Promise.all([walk(mem, query, limit), walk(chl, query, limit)]);
      assert.deepEqual(b, a, `pages of logs?${query} by ${limit}`);
      if (query === '') assert.deepEqual(a, full);
    }
    // the identical twins: three records, paged one by one, none repeated or skipped
    const twins = await walk(chl, 'q=twin', 1);
    assert.equal(twins.length, 3);
    const bad = await getJson(chl, '/api/v1/logs?cursor=zz');
    assert.equal(bad.status, 400);
  });

  test('log patterns are the SQLite store\'s', async () => {
    const r = await getJson(chl, '/api/v1/logs?pattern=1');
    assert.equal(r.status, 501);
  });

  test('the metrics list', async () => {
    for (const q of ['', '?service=checkout', '?service=billing', '?service=nosuch']) {
      const [a, b] = await both(`/api/v1/metrics${q}`);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.deepEqual(b.body, a.body, `metrics${q}`);
      if (q !== '?service=nosuch') assert.ok(a.body.metrics.length > 0);
    }
  });

  test('series: every type, steps, windows, groupBy, filters', async () => {
    const names = ['temp.gauge', 'req.count', 'req.delta', 'queue.depth', 'latency', 'size.exp', 'rpc.summary'];
    const win = `start=${ns(12)}&end=${ns(48)}`;
    for (const name of names) {
      await sameSeries(name, '');
      await sameSeries(name, 'step=20s');
      await sameSeries(name, win);
      await sameSeries(name, `${win}&step=10s`);
      await sameSeries(name, 'groupBy=route');
      await sameSeries(name, 'groupBy=host.name,route&step=30s');
      await sameSeries(name, `groupBy=host.name&${win}`);
      await sameSeries(name, 'attr=route%3D%2Fa');
      await sameSeries(name, 'attr=host.name%3Dh1&service=checkout');
    }
    // the answers hold data: rates over a window with its base point, merged buckets
    const w = await sameSeries('req.count', `${win}&attr=route%3D%2Fa&service=checkout`);
    assert.ok(w.series.length === 2 && w.series[0].points.length === 4, JSON.stringify(w));
    assert.ok(w.series[0].points.every((pt) => typeof pt.increase === 'number'));
    const h = await sameSeries('latency', 'groupBy=route&step=60s');
    assert.ok(h.series.length === 2 && h.series.every((x) => x.points.length > 0 && x.points[0].count > 0));
    const s = await sameSeries('req.count', 'service=billing');
    assert.equal(s.series.length, 1);
    await sameSeries('req.count', 'groupBy=code');
    await sameSeries('req.count', 'attr=route%3D%2Fc');
    await sameSeries('no.such.metric', '', { status: 404 });
    await sameSeries('req.count', 'service=nosuch', { status: 404 });
    await sameSeries('req.count', `start=${ns(0)}&end=${ns(100000)}&step=1s`, { status: 400 });
  });
});

suite('ClickHouse logs, metrics and series answer as the SQLite store', 1);
suite('... and so on a two-shard cluster', 2);
