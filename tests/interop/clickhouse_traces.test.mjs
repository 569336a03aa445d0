// Interop: the trace queries answered from ClickHouse give the documents the
// SQLite store gives. Two loupes get the same OTLP JSON: one with
// --storage memory, one with --storage clickhouse; the trace list (every
// filter, paging), one trace, its analysis, a comparison of two traces, the
// live stream's trace summaries, the services, a service's operations and
// the service map are compared field by field. Also: --max-age hides old
// spans from every answer, and every trace query answers 503 while
// ClickHouse is down.
//
// What legitimately differs, and is compared loosely or not at all:
//  - resourceId: the SQLite store names a resource by its table's row id,
//    ClickHouse by its order in the answer: resources are compared by
//    content (each span's resource's service and attributes);
//  - nextCursor: an opaque text of each backend (each store's pages are
//    walked with its own and compared);
//  - the percentiles of entry operations (services, operations, the map's
//    service nodes): ClickHouse merges t-digests (ops_minute), the SQLite
//    store reads its log-scale histograms' buckets; both must be positive
//    and within a factor of two of each other. The map's edges and virtual
//    nodes count durations in the SQLite store's buckets: compared exactly;
//  - the map's node and edge order (the SQLite store lists services by its
//    internal ids; ClickHouse by name): compared sorted;
//  - traces that start at the same nanosecond: the SQLite store lists them
//    by arrival, ClickHouse by trace id (descending). The lists are compared
//    with the SQLite store's ties put in ClickHouse's order (ClickHouse's
//    order is checked whole), and paging across such ties is checked for
//    neither repeating nor skipping a trace.
//
// ClickHouse: private servers from lib/clickhouse.mjs, one and then a
// two-shard cluster (Distributed tables, spans sharded by trace id);
// skipped when clickhouse-server is not installed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clickhouseAvailable, startClickHouse } from './lib/clickhouse.mjs';
import { startLoupe, getJson } from './lib/server.mjs';

// ---- telemetry -----------------------------------------------------------------------

const MS = 1000000n;
// whole minutes, 30 minutes ago: inside any retention, away from "now"
const BASE = BigInt(Math.floor(Date.now() / 60000) * 60000 - 30 * 60000) * MS;

let seed = 12345;
function rnd(n) { // deterministic (mulberry32)
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % n;
}
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[rnd(16)]).join('');

const str = (k, v) => ({ key: k, value: { stringValue: v } });
const int = (k, v) => ({ key: k, value: { intValue: String(v) } });
const dbl = (k, v) => ({ key: k, value: { doubleValue: v } });
const bool = (k, v) => ({ key: k, value: { boolValue: v } });

const RESOURCES = {
  'frontend-1': [str('service.name', 'frontend'), str('service.instance.id', 'fe-1'), str('deployment.environment', 'test')],
  'frontend-2': [str('service.name', 'frontend'), str('service.instance.id', 'fe-2'), str('deployment.environment', 'test')],
  cart: [str('service.name', 'cart'), str('service.instance.id', 'cart-1')],
  worker: [str('service.name', 'worker')],
  payments: [str('service.name', 'payments'), int('replica', 3)],
  old: [str('service.name', 'old')],
};

// spans: [{res, trace, span, parent, name, kind, start, end (ms offsets), status, attrs, events, links}]
const spans = [];
const traceIds = [];
function span(s) { spans.push(s); return s; }

const USERS = ['alice', 'bob', 'Carol-Admin', 'dave'];
for (let i = 0; i < 36; i++) {
  const trace = hex(32);
  traceIds.push(trace);
  const t0 = BigInt(i) * 41000n + BigInt(rnd(900)); // ms: distinct starts, several minutes
  const fe = i % 3 === 0 ? 'frontend-2' : 'frontend-1';
  const error = i % 5 === 0;
  const orphan = i % 11 === 7; // the root never arrives
  const rootId = hex(16);
  const dur = 20n + BigInt(rnd(400));
  const route = i % 2 ? '/api/cart' : '/checkout';
  const root = {
    res: fe, trace, span: rootId, parent: '', name: i % 2 ? 'GET /api/cart' : 'POST /checkout', kind: 2,
    start: t0, end: t0 + dur, status: error ? { code: 2, message: 'card declined: insufficient funds' } : { code: i % 4 === 1 ? 1 : 0 },
    attrs: [str('http.route', route), int('http.response.status_code', error ? 500 : 200), str('user.id', USERS[i % 4]),
      dbl('ratio', (i % 10) / 10), bool('cached', i % 2 === 0), ...(i % 6 === 5 ? [str('note', 'Ünïcode Café au lait\nsecondline "quoted"')] : [])],
    events: error ? [{ timeUnixNano: String((BASE + (t0 + 5n) * MS)), name: 'exception',
      attributes: [str('exception.type', 'PaymentError'), str('exception.message', 'Gateway Timeout upstream')] }] : [],
    links: i % 7 === 3 ? [{ traceId: hex(32), spanId: hex(16), attributes: [str('link.kind', 'retry')] }] : [],
  };
  if (!orphan) span(root);
  const cl = span({ res: fe, trace, span: hex(16), parent: orphan ? hex(16) : rootId, name: 'HTTP GET cart', kind: 3,
    start: t0 + 2n, end: t0 + 2n + dur / 2n, status: { code: 0 }, attrs: [str('server.address', 'cart'), int('server.port', 8080)] });
  const sv = span({ res: 'cart', trace, span: hex(16), parent: cl.span, name: 'GET /cart', kind: 2,
    start: t0 + 3n, end: t0 + 1n + dur / 2n, status: { code: error && i % 2 ? 2 : 0 }, attrs: [str('http.route', '/cart')] });
  span({ res: 'cart', trace, span: hex(16), parent: sv.span, name: 'SELECT cart', kind: 3,
    start: t0 + 4n, end: t0 + 4n + BigInt(1 + rnd(10)), status: { code: 0 },
    attrs: [str('db.system.name', 'postgresql'), str('server.address', i % 2 ? 'pg-1' : 'pg-2'), str('db.query.text', 'SELECT * FROM cart WHERE id = $1')] });
  if (i % 3 === 1) { // a message a worker consumes
    const pr = span({ res: fe, trace, span: hex(16), parent: orphan ? hex(16) : rootId, name: 'orders publish', kind: 4,
      start: t0 + 10n, end: t0 + 12n, status: { code: 0 }, attrs: [str('messaging.system', 'kafka'), str('messaging.destination.name', 'orders')] });
    span({ res: 'worker', trace, span: hex(16), parent: pr.span, name: 'orders process', kind: 5,
      start: t0 + 15n, end: t0 + 40n, status: { code: 0 }, attrs: [int('batch.size', 3)] });
  } else if (i % 3 === 2) { // audit events nobody consumes
    span({ res: fe, trace, span: hex(16), parent: orphan ? hex(16) : rootId, name: 'audit publish', kind: 4,
      start: t0 + 10n, end: t0 + 11n, status: { code: 0 }, attrs: [str('messaging.system', 'rabbitmq'), str('messaging.destination.name', 'audit')] });
  }
  if (i % 4 === 0) { // the payment provider, by URL, and payments' own span
    span({ res: 'payments', trace, span: hex(16), parent: sv.span, name: 'charge', kind: 1,
      start: t0 + 5n, end: t0 + 9n, status: { code: error ? 2 : 0, message: error ? 'declined' : '' }, attrs: [] });
    span({ res: 'cart', trace, span: hex(16), parent: sv.span, name: 'POST pay', kind: 3,
      start: t0 + 6n, end: t0 + 8n, status: { code: 0 }, attrs: [str('url.full', 'https://user:pw@api.pay.example:8443/v1/pay?x=1')] });
  }
}
// three traces starting at the same nanosecond (paging across ties)
const TIE = 37n * 41000n;
const tieIds = [];
for (let k = 0; k < 3; k++) {
  const trace = hex(32);
  tieIds.push(trace);
  span({ res: 'worker', trace, span: hex(16), parent: '', name: 'tick', kind: 1, start: TIE, end: TIE + BigInt(k + 1),
    status: { code: 0 }, attrs: [str('job', 'tick')] });
}

// The last trace starts just before a minute ends and has spans starting
// after it; it arrives in one request. The SQLite store's segments know the
// traces' starts, not the spans', so a window without an end ends with the
// minute of this trace's start.
const EDGE = 26n * 60000n - 7n;
const edgeId = hex(32), edgeRoot = hex(16);
const edge = [
  { res: 'worker', trace: edgeId, span: edgeRoot, parent: '', name: 'nightly', kind: 2, start: EDGE, end: EDGE + 40n, status: { code: 0 }, attrs: [] },
  { res: 'worker', trace: edgeId, span: hex(16), parent: edgeRoot, name: 'nightly step', kind: 1, start: EDGE + 20n, end: EDGE + 30n, status: { code: 0 }, attrs: [] },
];

// A trace with two roots, the later one first: the first to arrive is its
// root.
const TWO = 26n * 60000n + 3000n;
const twoId = hex(32);
const twoRoots = [
  [{ res: 'cart', trace: twoId, span: hex(16), parent: '', name: 'second root', kind: 2, start: TWO + 10n, end: TWO + 20n, status: { code: 0 }, attrs: [] }],
  [{ res: 'payments', trace: twoId, span: hex(16), parent: '', name: 'first root', kind: 2, start: TWO, end: TWO + 5n, status: { code: 0 }, attrs: [] }],
];

// OTLP JSON: spans grouped by resource; each trace's spans split over two
// requests (a trace arrives in parts).
function otlp(list) {
  const byRes = new Map();
  for (const s of list) {
    if (!byRes.has(s.res)) byRes.set(s.res, []);
    byRes.get(s.res).push({
      traceId: s.trace, spanId: s.span, parentSpanId: s.parent, name: s.name, kind: s.kind,
      startTimeUnixNano: String(BASE + s.start * MS), endTimeUnixNano: String(BASE + s.end * MS),
      attributes: s.attrs, events: s.events || [], links: s.links || [], status: s.status,
    });
  }
  return {
    resourceSpans: [...byRes].map(([res, sp]) => ({
      resource: { attributes: RESOURCES[res] },
      scopeSpans: [{ scope: { name: 'loupe.test', version: '1.0' }, spans: sp }],
    })),
  };
}

async function post(srv, body) {
  const r = await fetch(`${srv.httpUrl}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.text());
}

// ---- the servers ---------------------------------------------------------------------------

let ch, mem, chl, chOpts;

async function start(shards) {
  ch = await startClickHouse({ shards });
  chOpts = { urls: ch.urls, database: 'q1_traces', cluster: ch.cluster };
  mem = await startLoupe({ storage: 'memory', chOptOut: true });
  chl = await startLoupe({ storage: 'clickhouse', clickhouse: chOpts, readyTimeoutMs: 60000 });
  const first = spans.filter((_, i) => i % 2 === 0), second = spans.filter((_, i) => i % 2 === 1);
  for (const part of [first, second, edge, ...twoRoots]) {
    await post(mem, otlp(part));
    await post(chl, otlp(part));
  }
  // both have stored everything once every trace is listed with all its spans
  const total = spans.length + edge.length + 2;
  const deadline = Date.now() + 30000;
  for (const srv of [mem, chl]) {
    for (;;) {
      const r = await getJson(srv, '/api/v1/traces?limit=1000');
      const n = r.status === 200 ? r.body.traces.reduce((a, t) => a + t.spanCount, 0) : -1;
      if (n === total) break;
      assert.ok(Date.now() < deadline, `stored spans: ${n} of ${total} (${JSON.stringify(r.body).slice(0, 300)})`);
      await new Promise((r) => setTimeout(r, 50)); // poll interval
    }
  }
}

async function stop() {
  await mem?.stop();
  await chl?.stop();
  await ch?.stop();
  mem = chl = ch = undefined;
}

async function both(p) {
  const [a, b] = await Promise.all([getJson(mem, p), getJson(chl, p)]);
  return [a, b];
}

async function same(p, norm = (x) => x) {
  const [a, b] = await both(p);
  assert.equal(a.status, 200, `${p}: ${JSON.stringify(a.body)}`);
  assert.equal(b.status, a.status, `${p}: ${JSON.stringify(b.body)}\n${chl.stderr.slice(-3000)}`);
  assert.deepEqual(norm(structuredClone(b.body)), norm(structuredClone(a.body)), p);
  return a.body;
}

// Lists: without the cursor; the SQLite store's traces that start together
// put in ClickHouse's order (trace id, descending), ClickHouse's as they
// come, so its order is checked whole.
const noCursor = (x) => { delete x.nextCursor; return x; };

async function sameList(p) {
  const [a, b] = await both(p);
  assert.equal(a.status, 200, `${p}: ${JSON.stringify(a.body)}`);
  assert.equal(b.status, 200, `${p}: ${JSON.stringify(b.body)}\n${chl.stderr.slice(-3000)}`);
  const key = (t) => BigInt(t.startTimeUnixNano);
  a.body.traces.sort((x, y) => (key(x) !== key(y) ? (key(x) > key(y) ? -1 : 1) : x.traceId > y.traceId ? -1 : 1));
  assert.deepEqual(noCursor(b.body), noCursor(a.body), p);
  return a.body;
}

const SKIP = clickhouseAvailable() ? false : 'clickhouse-server is not installed';

const suite = (title, shards) => describe(title, { skip: SKIP }, () => {
  before(() => start(shards));
  after(stop);

  // ---- the trace list ------------------------------------------------------------------------------

  test('the trace list: every trace, newest first, the same summaries', async () => {
    const body = await sameList('/api/v1/traces?limit=1000');
    assert.equal(body.traces.length, traceIds.length + tieIds.length + 2);
  assert.equal(body.traces.find((t) => t.traceId === twoId).rootName, 'second root');
    // orphans: the earliest span stands for the root
    const orphan = body.traces.find((t) => t.traceId === traceIds[7]);
    assert.equal(orphan.rootName, 'HTTP GET cart');
    assert.deepEqual(orphan.services.map((s) => s.name).sort(), ['cart', 'frontend', 'worker']);
  });

  const FILTERS = [
    'service=cart', 'service=worker', 'service=nobody', 'name=orders%20process', 'status=error', 'status=ok',
    'status=unset', 'attr=http.response.status_code%3D500', 'attr=user.id!%3Dalice', 'attr=user.id~carol',
    'attr=ratio%3E0.45', 'attr=ratio%3C0.25', 'attr=cached%3Dtrue', 'attr=deployment.environment%3Dtest',
    'attr=replica%3D3', 'q=declined', 'q=DECLINED%20card', 'q=gate*', 'q=timeout', 'q=pg', 'q=%2B%2B',
    'q=paymenterror', 'q=cart%20nothere', 'q=caf%C3%A9', 'q=%C3%9Cn%C3%AFcode', 'q=%C3%BCn%C3%AFcode', 'q=cafe', 'q=lai*', 'q=secondline', 'q=quoted', 'q=0', 'q=timeunixnano', 'minDuration=200ms', 'maxDuration=100ms', 'minDuration=50ms&maxDuration=300ms',
    'service=frontend&status=error&attr=user.id%3Dalice',
  ];

  test('the trace list: each filter gives the same traces', async () => {
    const counts = {};
    for (const f of FILTERS) counts[f] = (await sameList(`/api/v1/traces?limit=1000&${f}`)).traces.length;
    const none = ['service=nobody', 'q=%2B%2B', 'q=cart%20nothere', 'q=cafe', 'q=%C3%BCn%C3%AFcode', 'q=timeunixnano']; // ASCII case only: ü is not Ü
    const total = traceIds.length + tieIds.length + 2;
    for (const f of FILTERS) {
      if (none.includes(f)) assert.equal(counts[f], 0, f);
      else assert.ok(counts[f] > 0, `${f}: ${JSON.stringify(counts)}`);
    }
    const some = FILTERS.filter((f) => counts[f] > 0 && counts[f] < total);
    assert.ok(some.length >= FILTERS.length - none.length - 2, `filters that select some traces: ${JSON.stringify(counts)}`);
    // a window: the traces starting in [start, end)
    const start = String(BASE + 200000n * MS), end = String(BASE + 900000n * MS);
    const body = await sameList(`/api/v1/traces?limit=1000&start=${start}&end=${end}`);
    assert.ok(body.traces.length > 5 && body.traces.length < traceIds.length);
  });

  test('the trace list: pages walk the same traces, without repeats or gaps', async () => {
    const full = (await sameList('/api/v1/traces?limit=1000&service=frontend')).traces.map((t) => t.traceId);
    for (const srv of [mem, chl]) {
      const seen = [];
      let cursor = '';
      for (let n = 0; n < 50; n++) {
        const r = await getJson(srv, `/api/v1/traces?limit=7&service=frontend${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200);
        assert.ok(r.body.traces.length <= 7);
        seen.push(...r.body.traces.map((t) => t.traceId));
        if (r.body.nextCursor === null) break;
        cursor = r.body.nextCursor;
      }
      assert.deepEqual(seen, full);
    }
    // across traces that start together: every one once
    const w = `start=${BASE + TIE * MS}&end=${BASE + TIE * MS + 1n}`;
    for (const srv of [mem, chl]) {
      const seen = [];
      let cursor = '';
      for (let n = 0; n < 10; n++) {
        const r = await getJson(srv, `/api/v1/traces?limit=1&${w}${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200);
        seen.push(...r.body.traces.map((t) => t.traceId));
        if (r.body.nextCursor === null) break;
        cursor = r.body.nextCursor;
      }
      assert.deepEqual([...seen].sort(), [...tieIds].sort());
    }
  });

  test('the trace list: bad limits and cursors are refused alike', async () => {
    for (const q of ['limit=0', 'limit=1001', 'cursor=zz', 'cursor=00000000000000000000000000000000000000000000000g']) {
      const [a, b] = await both(`/api/v1/traces?${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(b.status, 400, q);
    }
  });

  // ---- one trace -------------------------------------------------------------------------------------

  // Resource ids differ by backend: each span's resourceId becomes the
  // resource itself.
  function byContent(doc) {
    const res = doc.resources;
    assert.ok(res && typeof res === 'object');
    for (const s of doc.spans) {
      assert.ok(res[s.resourceId], `resource ${s.resourceId} of span ${s.spanId}`);
      s.resourceId = res[s.resourceId];
    }
    doc.resources = Object.values(res).map((r) => JSON.stringify(r)).sort();
    return doc;
  }

  test('one trace: the same spans, attributes, events, links and resources', async () => {
    for (const id of [...traceIds, ...tieIds]) {
      const body = await same(`/api/v1/traces/${id}`, byContent);
      assert.equal(body.traceId, id);
    }
    const missing = '0123456789abcdef0123456789abcdef';
    const [a, b] = await both(`/api/v1/traces/${missing}`);
    assert.equal(a.status, 404);
    assert.equal(b.status, 404);
  });

  test('one trace: its analysis and a comparison read the same trace', async () => {
    for (const id of traceIds.slice(0, 12)) await same(`/api/v1/traces/${id}/analysis`);
    await same(`/api/v1/traces/compare?a=${traceIds[0]}&b=${traceIds[4]}`);
    await same(`/api/v1/traces/compare?a=${traceIds[1]}&b=${traceIds[7]}`);
  });

  // ---- services, operations, the map ----------------------------------------------------------------

  // The percentiles: both positive and within a factor of two.
  function close(a, b, what) {
    assert.ok(a > 0 && b > 0 && b <= 2 * a && a <= 2 * b, `${what}: ${a} vs ${b}`);
  }

  function stripPercentiles(x, keys) {
    for (const k of keys) delete x[k];
    return x;
  }

  async function samePercentiled(p, items, keys) {
    const [a, b] = await both(p);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
    const la = items(a.body), lb = items(b.body);
    assert.equal(lb.length, la.length, p);
    for (let i = 0; i < la.length; i++) {
      for (const k of keys) {
        if (la[i][k] === 0) assert.equal(lb[i][k], 0, `${p} ${k}`);
        else close(la[i][k], lb[i][k], `${p} ${i} ${k}`);
      }
    }
    for (const x of [...la, ...lb]) stripPercentiles(x, keys);
    assert.deepEqual(b.body, a.body, p);
    return a.body;
  }

  test('services: counts, last seen, instances and entry figures', async () => {
    const body = await samePercentiled('/api/v1/services', (d) => d.services, ['p50Ns', 'p99Ns']);
    assert.deepEqual(body.services.map((s) => s.name), ['cart', 'frontend', 'payments', 'worker']);
    const win = `start=${BASE + 130500n * MS}&end=${BASE + 610700n * MS}`; // not whole minutes
    const w = await samePercentiled(`/api/v1/services?${win}`, (d) => d.services, ['p50Ns', 'p99Ns']);
    assert.ok(w.services.length > 0);
    const fe = w.services.find((s) => s.name === 'frontend');
    assert.ok(fe.spanCount > 0 && fe.spanCount < body.services.find((s) => s.name === 'frontend').spanCount);
  });

  test('operations: per entry operation and step', async () => {
    for (const svc of ['frontend', 'cart', 'worker']) {
      for (const q of ['', '?step=5m', `?start=${BASE + 61500n * MS}&end=${BASE + 1200000n * MS}&step=2m`]) {
        const p = `/api/v1/services/${svc}/operations${q}`;
        const [a, b] = await both(p);
        assert.equal(a.status, 200);
        assert.equal(b.status, 200, chl.stderr.slice(-2000));
        const strip = (d) => {
          for (const o of d.operations) {
            for (const s of o.series) { if (s.p99Ns !== 0) assert.ok(s.p99Ns > 0); delete s.p99Ns; }
          }
          return d;
        };
        const oa = a.body.operations, ob = b.body.operations;
        assert.equal(ob.length, oa.length);
        assert.ok(oa.length > 0, p);
        for (let i = 0; i < oa.length; i++) for (const k of ['p50Ns', 'p95Ns', 'p99Ns']) close(oa[i][k], ob[i][k], `${p} ${k}`);
        for (const o of [...oa, ...ob]) stripPercentiles(o, ['p50Ns', 'p95Ns', 'p99Ns']);
        assert.deepEqual(strip(b.body), strip(a.body), p);
      }
    }
    const [a, b] = await both('/api/v1/services/nobody/operations');
    assert.equal(a.status, 404);
    assert.equal(b.status, 404);
  });

  test('the service map: services, virtual nodes and edges', async () => {
    for (const q of ['', `?start=${BASE}&end=${BASE + 3600000n * MS}`, `?start=${BASE + 301234n * MS}&end=${BASE + 905000n * MS}`]) {
      const p = `/api/v1/service-map${q}`;
      const [a, b] = await both(p);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200, chl.stderr.slice(-3000));
      const norm = (d) => {
        d.nodes.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        d.edges.sort((x, y) => (`${x.source}\n${x.target}` < `${y.source}\n${y.target}` ? -1 : 1));
        return d;
      };
      const na = norm(a.body), nb = norm(b.body);
      assert.equal(nb.nodes.length, na.nodes.length, JSON.stringify([na.nodes, nb.nodes]));
      for (let i = 0; i < na.nodes.length; i++) {
        if (na.nodes[i].kind !== 'service') continue;
        for (const k of ['p50Ns', 'p99Ns']) {
          if (na.nodes[i][k] === 0) assert.equal(nb.nodes[i][k], 0);
          else close(na.nodes[i][k], nb.nodes[i][k], `${p} ${na.nodes[i].id} ${k}`);
          delete na.nodes[i][k];
          delete nb.nodes[i][k];
        }
      }
      assert.deepEqual(nb, na, p);
      if (q === '') {
        const ids = na.nodes.map((n) => n.id);
        for (const v of ['database:postgresql@pg-1', 'database:postgresql@pg-2', 'messaging:rabbitmq audit',
          'external:api.pay.example:8443']) assert.ok(ids.includes(v), `${v} in ${ids}`);
        assert.ok(!ids.includes('messaging:kafka orders') && !ids.includes('external:cart:8080'), `${ids}`);
        assert.ok(na.edges.some((e) => e.source === 'frontend' && e.target === 'worker'));
      }
    }
  });

  // ---- the live stream's trace summaries ------------------------------------------------------------

  // The first `trace` event of a live stream (its data, parsed).
  async function firstTrace(srv, ready) {
    const ac = new AbortController();
    const res = await fetch(`${srv.uiUrl}/api/v1/live?events=traces&heartbeat=100ms`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let text = '';
    let announced = false;
    const deadline = Date.now() + 20000;
    try {
      while (Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
        if (!announced && text.includes(': loupe live')) { announced = true; ready(); }
        const m = /event: trace\ndata: (.*)\n\n/.exec(text);
        if (m) return JSON.parse(m[1]);
      }
    } finally {
      ac.abort();
    }
    assert.fail(`no trace event from ${srv.uiUrl}: ${text.slice(0, 500)}`);
  }

  test('the live stream: the summary of a trace as it is stored', async () => {
    const trace = hex(32), root = hex(16);
    const t = 38n * 41000n;
    const late = [
      { res: 'payments', trace, span: root, parent: '', name: 'refund', kind: 2, start: t, end: t + 30n, status: { code: 2 }, attrs: [] },
      { res: 'cart', trace, span: hex(16), parent: root, name: 'restock', kind: 1, start: t + 2n, end: t + 9n, status: { code: 0 }, attrs: [] },
    ];
    const got = [];
    for (const srv of [mem, chl]) {
      let ready;
      const streaming = new Promise((r) => { ready = r; });
      const first = firstTrace(srv, ready);
      await streaming;
      await post(srv, otlp(late));
      got.push(await first);
    }
    assert.equal(got[0].traceId, trace);
    assert.deepEqual(got[1], got[0]);
    assert.equal(got[1].spanCount, 2);
    assert.equal(got[1].rootName, 'refund');
  });

  // ---- the age limit -------------------------------------------------------------------------------

  test('--max-age: items older than the limit are in ClickHouse but in no answer', async () => {
    const aged = await startLoupe({
      storage: 'clickhouse',
      clickhouse: { ...chOpts, database: 'q1_traces_age' },
      args: ['--max-age', '1h'],
      readyTimeoutMs: 60000,
    });
    try {
      const now = BigInt(Date.now()) * MS;
      const oldT = hex(32), newT = hex(32), oldRoot = hex(16);
      const at = (t, ms) => ({ start: (t - BASE) / MS + ms, end: (t - BASE) / MS + ms + 5n });
      await post(aged, otlp([
        { res: 'old', trace: oldT, span: oldRoot, parent: '', name: 'old op', kind: 2, ...at(now - 3n * 3600000n * MS, 0n), status: { code: 2 }, attrs: [] },
        { res: 'old', trace: oldT, span: hex(16), parent: oldRoot, name: 'old query', kind: 3, ...at(now - 3n * 3600000n * MS, 1n), status: { code: 0 }, attrs: [str('db.system', 'oldb')] },
        { res: 'worker', trace: newT, span: hex(16), parent: '', name: 'fresh op', kind: 2, ...at(now - 60000n * MS, 0n), status: { code: 0 }, attrs: [] },
      ]));
      // the old spans are stored
      assert.equal((await ch.query("SELECT count() FROM q1_traces_age.spans WHERE service = 'old'")).trim(), '2');
      const get = async (p) => { const x = await getJson(aged, p); assert.equal(x.status, 200, p); return x.body; };
      assert.deepEqual((await get('/api/v1/traces?limit=1000')).traces.map((t) => t.traceId), [newT]);
      assert.deepEqual((await get('/api/v1/traces?limit=1000&status=error')).traces, []);
      assert.equal((await getJson(aged, `/api/v1/traces/${oldT}`)).status, 404);
      assert.deepEqual((await get('/api/v1/services')).services.map((s) => s.name), ['worker']);
      const win = `start=${now - 4n * 3600000n * MS}&end=${now}`;
      assert.deepEqual((await get(`/api/v1/services?${win}`)).services.map((s) => s.name), ['worker']);
      const map = await get(`/api/v1/service-map?${win}`);
      assert.deepEqual(map.nodes.map((n) => n.id), ['worker']);
      assert.deepEqual(map.edges, []);
      assert.deepEqual((await get(`/api/v1/services/old/operations?${win}`)).operations, []);
    } finally {
      await aged.stop();
    }
  });

  // ---- ClickHouse down (last: it stops the server) --------------------------------------------------

  test('ClickHouse down: every trace query answers 503', async () => {
    await ch.stop();
    for (const p of ['/api/v1/traces', '/api/v1/traces?service=cart&q=declined', `/api/v1/traces/${traceIds[0]}`,
      '/api/v1/services', '/api/v1/services/frontend/operations', '/api/v1/service-map']) {
      const r = await getJson(chl, p);
      assert.equal(r.status, 503, `${p}: ${JSON.stringify(r.body)}`);
    }
  });
});

suite('ClickHouse traces, services and the service map answer as the SQLite store', 1);
suite('... and so on a two-shard cluster', 2);
