// GET /api/v1/export on the ClickHouse store: the same telemetry sent to a
// loupe on --storage memory (SQLite) and to one on --storage clickhouse
// gives the same export, filter by filter, and an export from ClickHouse
// imported into an empty loupe answers the API as the loupe that received
// the telemetry directly. Skipped when clickhouse-server is not installed
// (tests/interop/lib/clickhouse.mjs starts a private one).
//
// What "the same" means. Every item (span, log record, data point, with
// its resource and scope) of one export is in the other, as often, and
// both have the same number of lines. The order of items that arrived in
// one request may differ: SQLite keeps the request's order (row ids),
// ClickHouse has only the insert's time and orders ties by resource,
// scope and ids (storage/ch_query_export.c); so the grouping into
// resource and scope entries may differ too. Logs sent one resource per
// request with rising times come out in the same order on both: their
// export lines are compared byte for byte.
//
// The data: hand-made OTLP JSON (every attribute type, events, links,
// bodies, every metric type, exemplars, schema URLs), enough of it for
// several pages of each signal (50 traces, 500 records, 2000 points and
// 64 instruments per ClickHouse listing), and what the official
// OpenTelemetry JS exporters send, each export going to both loupes. Last,
// with ClickHouse killed, an export must fail (a cut stream), not look
// complete.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clickhouseAvailable, startClickHouse } from './lib/clickhouse.mjs';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { until } from './lib/forward.mjs';

const SKIP = clickhouseAvailable() ? false : 'clickhouse-server is not installed';

// ---- OTLP JSON --------------------------------------------------------------
function kv(key, v) {
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  if (typeof v === 'bigint') return { key, value: { intValue: v.toString() } };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { key, value: { intValue: String(v) } } : { key, value: { doubleValue: v } };
  }
  if (Array.isArray(v)) return { key, value: { arrayValue: { values: v.map((x) => kv('', x).value) } } };
  if (v && typeof v === 'object') {
    return { key, value: { kvlistValue: { values: Object.entries(v).map(([k, x]) => kv(k, x)) } } };
  }
  return { key, value: { stringValue: v } };
}
const attrs = (o) => Object.entries(o).map(([k, v]) => kv(k, v));
// service.name first, as SDKs send it: SQLite keeps a resource's
// attributes sorted by key, ClickHouse's rows as they came; the export
// gives them sorted from both
const resource = (service, extra = {}) => ({ attributes: attrs({ 'service.name': service, ...extra }), droppedAttributesCount: 0 });
const hex = (n, width) => n.toString(16).padStart(width, '0');
const tid = (n) => `7e57${hex(n, 28)}`;
const sid = (n) => `5a${hex(n, 14)}`;

// Every request of the hand-made set, in the order sent: [signal, body].
function handMade(now) {
  const reqs = [];
  const ns = (d) => (now + BigInt(d)).toString();
  // rich traces: two scopes with schema URLs, every attribute type
  const rich = [];
  for (let t = 0; t < 3; t++) {
    for (let s = 0; s < 3; s++) {
      const start = t * 1000000 + s * 1000;
      rich.push({
        traceId: tid(t), spanId: sid(t * 10 + s), ...(s ? { parentSpanId: sid(t * 10) } : {}),
        name: `op-${s}`, kind: s === 0 ? 2 : 3, traceState: s === 2 ? 'vendor=x' : '', flags: 1,
        startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + (t === 1 ? 5000000 : 50000)),
        attributes: attrs({ 'http.method': 'GET', n: s, ratio: 0.5 + s, ok: s !== 1, tags: ['a', 'b'], m: { x: 1, y: 'z' }, big: 1152921504606846976n, note: 'first\nsecond' }),
        droppedAttributesCount: s,
        events: [{ timeUnixNano: ns(start + 5), name: 'cache silver', attributes: attrs({ e: 1 }), droppedAttributesCount: 1 }],
        droppedEventsCount: 0,
        links: [{ traceId: tid(99), spanId: sid(99), traceState: 'k=v', attributes: attrs({ l: 'x' }) }],
        status: t === 2 && s === 1 ? { code: 2, message: 'card declined' } : { code: s === 2 ? 1 : 0 },
      });
    }
  }
  reqs.push(['traces', { resourceSpans: [{
    resource: resource('exp-a', { host: 'h1' }), schemaUrl: 'https://example.com/r/1',
    scopeSpans: [
      { scope: { name: 'lib1', version: '1.0', attributes: attrs({ sa: '1' }) }, spans: rich.slice(0, 5), schemaUrl: 'https://example.com/s/1' },
      { scope: { name: 'lib2' }, spans: rich.slice(5) },
    ],
  }] }]);
  reqs.push(['traces', { resourceSpans: [{ resource: resource('exp-b'), scopeSpans: [{ scope: { name: 'libb' }, spans: [
    { traceId: tid(5), spanId: sid(50), name: 'consume', kind: 5, startTimeUnixNano: ns(7), endTimeUnixNano: ns(107) },
    { traceId: tid(0), spanId: sid(7), parentSpanId: sid(0), name: 'db', kind: 3, startTimeUnixNano: ns(11), endTimeUnixNano: ns(21) },
  ] }] }] }]);
  // bulk traces: 120 traces of two spans, three requests, two resources each
  for (let r = 0; r < 3; r++) {
    const byService = { 'exp-bulk-1': [], 'exp-bulk-2': [] };
    for (let i = 0; i < 40; i++) {
      const t = 1000 + r * 40 + i, start = 10000000 + t * 10000;
      const svc = i % 2 ? 'exp-bulk-2' : 'exp-bulk-1';
      byService[svc].push(
        { traceId: tid(t), spanId: sid(t * 2), name: 'bulk-root', kind: 2, startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + 9000 + (i % 5) * 1000000), attributes: attrs({ i, page: r }) },
        { traceId: tid(t), spanId: sid(t * 2 + 1), parentSpanId: sid(t * 2), name: 'bulk-child', kind: 3, startTimeUnixNano: ns(start + 10), endTimeUnixNano: ns(start + 900), status: { code: i % 7 === 0 ? 2 : 0 } },
      );
    }
    reqs.push(['traces', { resourceSpans: Object.entries(byService).map(([svc, spans]) => ({ resource: resource(svc), scopeSpans: [{ scope: { name: 'bulk' }, spans }] })) }]);
  }
  // logs: one resource and scope per request, rising times (records without
  // a time are listed by their observed time)
  const rec = (d, sev, body, extra = {}) => ({
    timeUnixNano: ns(d), observedTimeUnixNano: ns(d + 1), severityNumber: sev, severityText: sev >= 17 ? 'ERROR' : 'INFO',
    body, ...extra,
  });
  reqs.push(['logs', { resourceLogs: [{ resource: resource('exp-a', { host: 'h1' }), schemaUrl: 'https://example.com/r/1', scopeLogs: [{
    scope: { name: 'lg', version: '2', attributes: attrs({ q: true }) }, schemaUrl: 'https://example.com/s/2',
    logRecords: [
      ...[0, 1, 2, 3, 4, 5].map((i) => rec(100 + i, 9 + 4 * (i % 3), { stringValue: `hello silver world ${i}` },
        { attributes: attrs({ i, f: i / 4 }), droppedAttributesCount: i % 2, flags: 1, ...(i === 2 ? { traceId: tid(0), spanId: sid(0) } : {}) })),
      { timeUnixNano: '0', observedTimeUnixNano: ns(150), severityNumber: 17, body: { kvlistValue: { values: attrs({ k: 'v', n: 3, arr: [1, 'two'] }) } }, eventName: 'my.event' },
      { timeUnixNano: ns(160), severityNumber: 5 },
      rec(170, 13, { intValue: '42' }),
      rec(171, 13, { boolValue: false }),
      rec(172, 13, { doubleValue: 2.5 }),
      rec(173, 13, { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } }),
      rec(174, 13, { stringValue: 'Grüße ÄRGER im Büro' }),
    ],
  }] }] }]);
  reqs.push(['logs', { resourceLogs: [{ resource: resource('exp-b'), scopeLogs: [{ scope: { name: 'lg2' }, logRecords: [
    rec(180, 21, { stringValue: 'fatal-error connection reset' }, { traceId: tid(5), spanId: sid(50) }),
  ] }] }] }]);
  for (let r = 0; r < 3; r++) {
    const logRecords = [];
    for (let i = 0; i < 400; i++) {
      const n = r * 400 + i;
      logRecords.push(rec(1000 + n * 10, [5, 9, 13, 17][n % 4], { stringValue: `bulk record ${n} ${n % 3 ? 'plain' : 'special-word'}` }, { attributes: attrs({ n, mod: n % 10 }) }));
    }
    reqs.push(['logs', { resourceLogs: [{ resource: resource(`exp-logs-${r % 2}`), scopeLogs: [{ scope: { name: 'bulk' }, logRecords }] }] }]);
  }
  // metrics: every type; one gauge with 2500 points (two lines); 70
  // instruments of one point (more than one ClickHouse listing)
  const pt = (d, v, a = {}) => ({ startTimeUnixNano: ns(0), timeUnixNano: ns(d), attributes: attrs(a), ...v });
  reqs.push(['metrics', { resourceMetrics: [{ resource: resource('exp-a', { host: 'h1' }), schemaUrl: 'https://example.com/r/1', scopeMetrics: [{
    scope: { name: 'meter', version: '3' }, schemaUrl: 'https://example.com/s/3',
    metrics: [
      { name: 'queue.depth', unit: '1', description: 'depth', gauge: { dataPoints: [pt(1, { asInt: '5' }, { q: 'a' }), pt(2, { asDouble: 2.5 }, { q: 'b' }), pt(3, { asInt: '-7' }, { q: 'a' }), pt(4, { asInt: '9007199254740993' }, { q: 'c' })] } },
      { name: 'requests', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [pt(1, { asInt: '10' }), pt(2, { asInt: '12' })] } },
      { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: [pt(1, {
        count: '3', sum: 6.0, min: 1.0, max: 3.0, bucketCounts: ['1', '2', '0'], explicitBounds: [1.0, 5.0],
        exemplars: [{ timeUnixNano: ns(1), asDouble: 2.0, traceId: tid(0), spanId: sid(0), filteredAttributes: attrs({ f: '1' }) }, { timeUnixNano: ns(1), asInt: '3' }],
      })] } },
      { name: 'sizes', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [pt(1, { count: '4', sum: 10.0, scale: 2, zeroCount: '1', positive: { offset: 1, bucketCounts: ['1', '2'] }, negative: { offset: -1, bucketCounts: ['1'] } })] } },
      { name: 'summ', summary: { dataPoints: [pt(1, { count: '2', sum: 3.0, quantileValues: [{ quantile: 0.5, value: 1.0 }, { quantile: 0.99, value: 2.0 }] })] } },
    ],
  }] }] }]);
  reqs.push(['metrics', { resourceMetrics: [{ resource: resource('exp-b'), scopeMetrics: [{ scope: { name: 'm2' }, metrics: [
    { name: 'queue.depth', gauge: { dataPoints: [pt(5, { asDouble: 1.25 }), pt(6, { asDouble: 'NaN' }), pt(7, { asDouble: 'Infinity' })] } },
    { name: 'many.points', unit: 's', gauge: { dataPoints: Array.from({ length: 2500 }, (_, i) => pt(100 + i, { asDouble: i / 8 }, { shard: `s${i % 3}` })) } },
  ] }] }] }]);
  reqs.push(['metrics', { resourceMetrics: [{ resource: resource('exp-c'), scopeMetrics: [{ scope: { name: 'many' }, metrics:
    Array.from({ length: 70 }, (_, i) => ({ name: `inst.${String(i).padStart(2, '0')}`, sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: [pt(10 + i, { asInt: String(i) })] } })),
  }] }] }]);
  return reqs;
}

async function post(srv, signal, body) {
  const res = await fetch(`${srv.httpUrl}/v1/${signal}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `POST /v1/${signal}: ${text}`);
}

// Sends each export of the official exporters to both loupes.
function tee(a, b) {
  return {
    export(items, done) {
      let left = 2, worst = { code: 0 };
      const one = (r) => {
        if (r.code !== 0) worst = r;
        if (--left === 0) done(worst);
      };
      a.export(items, one);
      b.export(items, one);
    },
    shutdown: () => Promise.all([a.shutdown(), b.shutdown()]),
    forceFlush: () => Promise.all([a.forceFlush?.(), b.forceFlush?.()]),
    selectAggregationTemporality: a.selectAggregationTemporality?.bind(a),
    selectAggregation: a.selectAggregation?.bind(a),
  };
}

// ---- reading exports ----------------------------------------------------------
async function exportLines(srv, query) {
  const res = await fetch(`${srv.uiUrl}/api/v1/export?${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, `export ${query}: ${text.slice(0, 300)}`);
  return text.split('\n').filter((l) => l !== '');
}

// JSON with object keys sorted: a canonical text for comparing items.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const SHAPES = [['resourceSpans', 'scopeSpans', 'spans'], ['resourceLogs', 'scopeLogs', 'logRecords'], ['resourceMetrics', 'scopeMetrics', 'metrics']];
const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

// Every item of an export with its resource and scope, as canonical
// texts; data points each with their metric. Also checks each line's
// page bounds.
function items(lines) {
  const out = [];
  for (const line of lines) {
    const doc = JSON.parse(line);
    let n = 0, metrics = 0;
    const traces = new Set();
    for (const [rk, sk, ik] of SHAPES) {
      for (const r of doc[rk] || []) {
        for (const s of r[sk]) {
          const owner = { resource: r.resource, resourceSchema: r.schemaUrl, scope: s.scope, scopeSchema: s.schemaUrl };
          for (const it of s[ik]) {
            if (ik !== 'metrics') {
              if (it.traceId && ik === 'spans') traces.add(it.traceId);
              out.push(canon({ ...owner, item: it }));
              n++;
              continue;
            }
            metrics++;
            const type = METRIC_TYPES.find((k) => k in it);
            for (const p of it[type].dataPoints) {
              out.push(canon({ ...owner, item: { ...it, [type]: { ...it[type], dataPoints: [p] } } }));
              n++;
            }
          }
        }
      }
    }
    assert.ok(n > 0, 'no empty line');
    assert.ok(traces.size <= 50, `a line of traces holds at most 50 traces (${traces.size})`);
    if (doc.resourceLogs) assert.ok(n <= 500, `a line of logs holds at most 500 records (${n})`);
    if (doc.resourceMetrics) assert.ok(metrics === 1 && n <= 2000, `a line of metrics is one instrument, at most 2000 points (${metrics}, ${n})`);
  }
  return out;
}

// The exports of query from both loupes: same line count, same items.
// Returns the item count.
async function sameExport(mem, ch, query, { exact = false } = {}) {
  const a = await exportLines(mem, query);
  const b = await exportLines(ch, query);
  if (exact) assert.deepEqual(b, a, `${query}: the same lines`);
  assert.equal(b.length, a.length, `${query}: line count`);
  const ia = items(a), ib = items(b);
  assert.equal(ib.length, ia.length, `${query}: item count`);
  assert.deepEqual([...ib].sort(), [...ia].sort(), `${query}: the same items`);
  return ia.length;
}

// An API answer without what differs between two stores of the same
// telemetry: resource ids (replaced by the resource), pattern ids, cursors.
function normalized(body) {
  const resources = body.resources || {};
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'patternId' || k === 'nextCursor' || (k === 'resources' && v === body)) continue;
        o[k] = k === 'resourceId' ? resources[x] ?? x : walk(x);
      }
      return o;
    }
    return v;
  };
  return walk(body);
}

async function sameAnswer(a, b, path) {
  const ra = await getJson(a, path), rb = await getJson(b, path);
  assert.equal(ra.status, 200, `${path}: ${JSON.stringify(ra.body).slice(0, 300)}`);
  assert.equal(rb.status, 200, `${path}: ${JSON.stringify(rb.body).slice(0, 300)}`);
  assert.deepEqual(normalized(rb.body), normalized(ra.body), path);
  return ra.body;
}

// ---- the tests ------------------------------------------------------------------
describe('export from ClickHouse', { skip: SKIP }, () => {
  let ch, mem, chl;
  const now = BigInt(Date.now() - 3600000) * 1000000n; // an hour ago: inside every window
  const counts = { traces: 0, logs: 0, metrics: 0 };

  before(async () => {
    ch = await startClickHouse();
    mem = await startLoupe({ storage: 'memory', chOptOut: true });
    chl = await startLoupe({
      storage: 'clickhouse',
      clickhouse: { urls: ch.urls, database: `q3_export_${process.pid}` },
      // test builds: traces and instruments listed 7 at a time, so that
      // pages and instruments cross listings (ignored by a release build)
      env: { LOUPE_TEST_CH_EXPORT_LIST: '7' },
      readyTimeoutMs: 30000,
    });
    for (const [signal, body] of handMade(now)) {
      await post(mem, signal, body);
      await post(chl, signal, body);
    }
  });
  after(async () => {
    await chl?.stop();
    await mem?.stop();
    await ch?.stop();
  });

  test('every signal: the same items and lines as SQLite (logs byte for byte)', { timeout: 60000 }, async () => {
    // the memory loupe answers after its commit; still, wait for the counts
    await until(async () => items(await exportLines(mem, 'signal=logs')).length === 1214, 10000, 'memory loupe has the logs');
    counts.traces = await sameExport(mem, chl, 'signal=traces');
    counts.logs = await sameExport(mem, chl, 'signal=logs', { exact: true });
    counts.metrics = await sameExport(mem, chl, 'signal=metrics');
    assert.equal(counts.traces, 9 + 2 + 240, 'every span');
    assert.equal(counts.logs, 13 + 1 + 1200, 'every record');
    assert.equal(counts.metrics, 9 + 3 + 2500 + 70, 'every point');
    assert.equal((await exportLines(chl, 'signal=traces')).length, 3, '123 traces: three lines');
    assert.equal((await exportLines(chl, 'signal=logs')).length, 3, '1214 records: three lines');
    assert.equal((await exportLines(chl, 'signal=metrics')).length, 5 + 1 + 2 + 70, 'one line per instrument, two for 2500 points');
  });

  test('the list filters select the same items', { timeout: 120000 }, async () => {
    const start = (d) => (now + BigInt(d)).toString();
    // [query, at least, at most] items (0 < n < all: the filter selects)
    const cases = [
      ['signal=traces&service=exp-b', 2, 100],
      ['signal=traces&service=exp-a&name=op-1', 10, 10], // whole traces: one span of exp-b
      ['signal=traces&status=error', 3, 200],
      ['signal=traces&status=ok&service=exp-a', 10, 10],
      ['signal=traces&attr=n%3E1', 9, 12],
      ['signal=traces&attr=http.method%3DGET', 9, 12],
      ['signal=traces&attr=host%3Dh1', 9, 12],
      ['signal=traces&attr=page!%3D1', 160, 160],
      ['signal=traces&attr=big%3D1152921504606846976', 9, 12],
      ['signal=traces&attr=http.method~ge', 9, 12],
      ['signal=traces&q=silver', 9, 12],
      ['signal=traces&q=silv*', 9, 12],
      ['signal=traces&q=silv', 0, 0],
      ['signal=traces&q=DECLINED%20card', 3, 3],
      ['signal=traces&q=attributes', 0, 0], // a key, not a value
      ['signal=traces&q=second', 9, 12],
      ['signal=traces&q=nsecond', 0, 0], // not the escape's n of "first\nsecond"
      [`signal=traces&q=${start(5)}`, 0, 0], // an event's time is not searched
      ['signal=traces&q=%2B%2B', 0, 0],
      ['signal=traces&minDuration=1ms', 3, 200],
      ['signal=traces&maxDuration=1ms', 8, 200],
      ['signal=traces&minDuration=1ms&maxDuration=3ms&service=exp-bulk-2', 2, 100],
      [`signal=traces&start=${start(500000)}`, 6, 250],
      [`signal=traces&end=${start(10000000 + 1010 * 10000)}`, 11, 100],
      ['signal=logs&service=exp-b', 1, 1],
      ['signal=logs&minSeverity=error', 3, 400],
      ['signal=logs&q=silver', 6, 6],
      ['signal=logs&q=silv*', 6, 6],
      ['signal=logs&q=silv', 0, 0],
      ['signal=logs&q=fatal-error', 1, 1],
      ['signal=logs&q=special-word%20bulk', 400, 400],
      ['signal=logs&q=connection%20reset', 1, 1],
      [`signal=logs&q=${encodeURIComponent('ärger büro')}`, 1, 1],
      [`signal=logs&traceId=${tid(0)}`, 1, 1],
      [`signal=logs&spanId=${sid(50)}`, 1, 1],
      ['signal=logs&attr=i%3E2', 3, 3],
      ['signal=logs&attr=mod%3D3&service=exp-logs-1', 40, 40],
      ['signal=logs&attr=host%3Dh1', 13, 13],
      [`signal=logs&start=${start(103)}&end=${start(1000 + 600 * 10)}`, 600, 620],
      ['signal=metrics&service=exp-b', 2503, 2503],
      [`signal=metrics&start=${start(2)}&end=${start(4)}&service=exp-a`, 3, 3],
      [`signal=metrics&start=${start(50)}&end=${start(150)}`, 60, 100],
    ];
    for (const [query, lo, hi] of cases) {
      const n = await sameExport(mem, chl, query);
      assert.ok(n >= lo && n <= hi, `${query}: ${n} items, expected ${lo}..${hi}`);
    }
    // logs: the same lines with a filter too
    await sameExport(mem, chl, 'signal=logs&service=exp-logs-0', { exact: true });
  });

  test('what the official OpenTelemetry exporters sent: the same items', { timeout: 60000 }, async () => {
    const a = exporters(mem, 'http/protobuf'), b = exporters(chl, 'http/protobuf');
    const both = { traces: tee(a.traces, b.traces), logs: tee(a.logs, b.logs), metrics: tee(a.metrics, b.metrics) };
    const service = 'exp-sdk';
    const tr = await sendTraces(both, service);
    assert.ok(tr.results.length > 0 && tr.results.every((r) => r.code === 0), 'traces acknowledged by both');
    const lg = await sendLogs(both, service, { traceSpan: tr.rootSpan });
    assert.ok(lg.results.every((r) => r.code === 0), 'logs acknowledged by both');
    const me = await sendMetrics(both, service);
    assert.ok(me.results.length > 0 && me.results.every((r) => r.code === 0), 'metrics acknowledged by both');
    assert.equal(await sameExport(mem, chl, `signal=traces&service=${service}`), tr.spans.length);
    assert.equal(await sameExport(mem, chl, `signal=logs&service=${service}`), lg.records.length);
    assert.ok(await sameExport(mem, chl, `signal=metrics&service=${service}`) >= 4);
  });

  test('imported into an empty loupe, the ClickHouse export answers the API as the loupe that received it', { timeout: 60000 }, async (t) => {
    const fresh = await startLoupe({ storage: 'memory', chOptOut: true });
    t.after(() => fresh.stop());
    const imported = { spans: 0, logs: 0, points: 0 };
    for (const signal of ['traces', 'logs', 'metrics']) {
      const body = (await exportLines(chl, `signal=${signal}`)).join('\n') + '\n';
      const res = await fetch(`${fresh.uiUrl}/api/v1/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      const ans = await res.json();
      assert.equal(res.status, 200, JSON.stringify(ans));
      assert.equal(ans.rejected, 0);
      for (const k of Object.keys(imported)) imported[k] += ans.imported[k] || 0;
    }
    const direct = {
      traces: items(await exportLines(mem, 'signal=traces')).length,
      logs: items(await exportLines(mem, 'signal=logs')).length,
      metrics: items(await exportLines(mem, 'signal=metrics')).length,
    };
    assert.deepEqual(imported, { spans: direct.traces, logs: direct.logs, points: direct.metrics });

    await sameAnswer(mem, fresh, '/api/v1/services');
    await sameAnswer(mem, fresh, '/api/v1/metrics');
    for (const svc of ['exp-a', 'exp-b', 'exp-c']) await sameAnswer(mem, fresh, `/api/v1/metrics?service=${svc}`);
    for (const name of ['queue.depth', 'requests', 'latency', 'sizes', 'summ', 'many.points', 'inst.42']) {
      await sameAnswer(mem, fresh, `/api/v1/metrics/${name}/series`);
    }
    const list = await sameAnswer(mem, fresh, '/api/v1/traces?limit=1000');
    assert.ok(list.traces.length >= 123);
    for (const id of [tid(0), tid(1), tid(2), tid(5), tid(1000), tid(1119)]) await sameAnswer(mem, fresh, `/api/v1/traces/${id}`);
    for (const q of ['service=exp-a', 'service=exp-b', 'service=exp-logs-0', 'service=exp-logs-1', 'minSeverity=error', 'q=silver']) {
      await sameAnswer(mem, fresh, `/api/v1/logs?limit=1000&${q}`);
    }
  });

  // last: it kills the ClickHouse server
  test('ClickHouse down: an export fails, it does not end early as if complete', { timeout: 60000 }, async () => {
    assert.ok((await exportLines(chl, 'signal=logs')).length > 0, 'an export while ClickHouse is up');
    await ch.kill(0);
    for (const signal of ['traces', 'logs', 'metrics']) {
      await assert.rejects(async () => {
        const res = await fetch(`${chl.uiUrl}/api/v1/export?signal=${signal}`);
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        await res.text(); // the stream is cut: a fetch error
      }, `${signal}: no complete answer`);
    }
  });
});
