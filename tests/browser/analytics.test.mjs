// Trace analytics in the web UI against the real loupe, with services
// calling each other sent by the official OpenTelemetry exporters (spans
// whose parents are in the calling service, database, queue and outside-host
// CLIENT/PRODUCER spans): the service map's nodes, edges and figures and
// where its clicks lead, the Services page's figures for the range, the
// failed-requests headline, and a service's sortable operations table and
// charts. Figures are checked against what was sent and against the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { launch, noErrors, onePageAtATime, settled, startServer, tearDown, until } from './lib/browser.mjs';
import { exporters, sendLegacyCalls, sendServiceCalls } from './lib/senders.mjs';
import { fmtDuration } from '../../web/js/format.js';

let srv;
let browser;
let exp;
let sent;
let legacy;
const pages = onePageAtATime();
const HOUR_NS = 3600n * 1000000000n;

// 12 requests through frontend > checkout > payments (every 4th fails at the
// bank), 9 more of frontend's own (6 "GET /products", 3 "GET /account", 2
// of those failing), all between 40 and 20 minutes ago; and two "reports"
// requests 30 minutes ago.
before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  sent = await sendServiceCalls(exp, { requests: 12, failEvery: 4, extra: 9, base: now - 40 * 60000, spreadMs: 20 * 60000 });
  legacy = await sendLegacyCalls(exp, { base: now - 30 * 60000 });
  // every span is stored (the writer commits after the export is acknowledged)
  await until(async () => {
    const s = (await getJson(srv, '/api/v1/services')).body.services || [];
    return s.reduce((n, x) => n + x.spanCount, 0) === sent.spans + 6;
  }, 'every span stored');
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path, opts) => pages.open(browser, srv.uiUrl + path, opts);

// The last hour, as the UI's default range asks for it.
function lastHour() {
  const end = BigInt(Date.now()) * 1000000n;
  return `start=${end - HOUR_NS}&end=${end}`;
}

// What the trace search at the page's URL lists (waits for the search).
async function tracesListed(page) {
  await page.getByTestId('trace-count').filter({ hasText: /trace/ }).waitFor();
  return page.locator('tr.trace-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.traceId));
}

// ---- the service map ---------------------------------------------------------------
test('the service map shows every service and what they call, with the figures of the range', async () => {
  const { page, rec } = await open('/map');
  const svg = page.getByTestId('service-map');
  await svg.waitFor();
  const nodes = await svg.getByTestId('map-node').evaluateAll((gs) => gs.map((g) => ({
    id: g.dataset.id, kind: g.dataset.kind, name: g.querySelector('[data-testid="node-name"]').textContent,
    rate: g.querySelector('[data-testid="node-rate"]')?.textContent,
    errors: g.querySelector('[data-testid="node-errors"]')?.textContent,
    p99: g.querySelector('[data-testid="node-p99"]')?.textContent,
    shape: g.querySelector('.map-shape').tagName + (g.querySelector('.map-shape').classList.contains('map-shape-dashed') ? ' dashed' : ''),
    focusable: g.getAttribute('tabindex') === '0',
  })));
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  assert.deepEqual(Object.keys(byId).sort(), ['checkout', 'database:mysql@legacy-db', 'database:postgresql@db', 'external:api.bank.example:443',
    'external:unknown', 'frontend', 'messaging:kafka orders', 'payments', 'reports']);
  // kinds, shapes and names
  assert.deepEqual([byId.frontend.kind, byId.frontend.shape], ['service', 'rect']);
  assert.deepEqual([byId['database:postgresql@db'].kind, byId['database:postgresql@db'].shape, byId['database:postgresql@db'].name], ['database', 'path', 'postgresql@db']);
  assert.deepEqual([byId['messaging:kafka orders'].kind, byId['messaging:kafka orders'].name], ['messaging', 'kafka orders']);
  assert.deepEqual([byId['external:api.bank.example:443'].kind, byId['external:api.bank.example:443'].shape], ['external', 'rect dashed']);
  assert.equal(byId['external:unknown'].name, 'unknown host');
  assert.ok(nodes.every((n) => n.focusable), 'every node is reachable with Tab');
  // figures: requests per unit of time over the hour, failed share, p99 as the API has it
  const api = (await getJson(srv, `/api/v1/service-map?${lastHour()}`)).body;
  const apiNode = (id) => api.nodes.find((n) => n.id === id);
  assert.deepEqual([byId.frontend.rate, byId.frontend.errors], ['21/h', '23.8% failed'], 'frontend: 21 requests, 5 failed');
  assert.deepEqual([byId.checkout.rate, byId.checkout.errors], ['12/h', '25% failed']);
  assert.deepEqual([byId.payments.rate, byId.payments.errors], ['12/h', '25% failed']);
  assert.deepEqual([byId['database:postgresql@db'].rate, byId['database:postgresql@db'].errors], ['24/h', '0% failed'], 'two queries a request');
  assert.deepEqual([byId['external:api.bank.example:443'].rate, byId['external:api.bank.example:443'].errors], ['12/h', '25% failed']);
  for (const n of nodes) assert.equal(n.p99, `p99 ${fmtDuration(apiNode(n.id).p99Ns)}`, `${n.id} p99`);

  // edges: calls and failures, width by calls, colour by failed share
  // a connection: its line under the nodes, its label (which takes focus) above them
  const edges = await svg.getByTestId('map-edge').evaluateAll((gs) => gs.map((g, i) => {
    const shape = document.querySelectorAll('[data-testid="map-edge-shape"]')[i];
    if (shape.dataset.source !== g.dataset.source || shape.dataset.target !== g.dataset.target) throw new Error(`edge ${i}: line and label differ`);
    const line = shape.querySelector('.map-edge-line');
    return {
      key: `${g.dataset.source} > ${g.dataset.target}`, calls: Number(g.dataset.calls), errors: Number(g.dataset.errors),
      width: parseFloat(getComputedStyle(line).strokeWidth), stroke: getComputedStyle(line).stroke,
      label: g.querySelector('[data-testid="edge-label"]').textContent, err: g.classList.contains('edge-err'),
      title: g.querySelector('title').textContent,
    };
  }));
  const byKey = Object.fromEntries(edges.map((e) => [e.key, e]));
  assert.deepEqual(edges.map((e) => e.key).sort(), ['checkout > database:postgresql@db', 'checkout > messaging:kafka orders', 'checkout > payments',
    'frontend > checkout', 'payments > external:api.bank.example:443', 'reports > database:mysql@legacy-db', 'reports > external:unknown']);
  for (const e of api.edges) {
    assert.deepEqual([byKey[`${e.source} > ${e.target}`].calls, byKey[`${e.source} > ${e.target}`].errors], [e.calls, e.errors], `${e.source} > ${e.target}`);
  }
  assert.deepEqual([byKey['frontend > checkout'].calls, byKey['frontend > checkout'].errors], [12, 3]);
  assert.deepEqual([byKey['checkout > database:postgresql@db'].calls, byKey['checkout > database:postgresql@db'].errors], [24, 0]);
  assert.ok(byKey['checkout > database:postgresql@db'].width > byKey['frontend > checkout'].width, 'more calls, a wider edge');
  assert.ok(byKey['frontend > checkout'].width > byKey['reports > external:unknown'].width);
  assert.equal(byKey['frontend > checkout'].label, '12/h · 25%');
  assert.equal(byKey['checkout > messaging:kafka orders'].label, '12/h');
  const errColor = await page.evaluate(() => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--err)';
    document.body.append(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return c;
  });
  assert.ok(byKey['frontend > checkout'].err && byKey['payments > external:api.bank.example:443'].err, 'failing edges are marked');
  assert.equal(byKey['frontend > checkout'].stroke, errColor, 'a failing edge is drawn in the error colour');
  assert.ok(!byKey['checkout > messaging:kafka orders'].err);
  assert.notEqual(byKey['checkout > messaging:kafka orders'].stroke, errColor);
  // the tooltip says what a click opens and why
  assert.match(byKey['checkout > payments'].title, /^checkout → payments: 12 calls, 12\/h, 3 failed \(25%\), p99 /);
  assert.match(byKey['checkout > payments'].title, /cannot ask for "payments called by checkout"; here checkout is its only caller/);
  // the connections table lists the same
  const conn = await page.getByTestId('map-connections').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].slice(0, 5).map((c) => c.textContent.trim()).join(' | ')));
  assert.equal(conn[0], 'checkout | postgresql@db database | 24 | 24/h | 0 (0%)');
  assert.ok(conn.includes('frontend | checkout | 12 | 12/h | 3 (25%)'), conn.join('\n'));
  noErrors(rec);
});

test('a click on a node or a connection opens its traces in the range', async () => {
  const { page, rec } = await open('/map?range=6h');
  const svg = page.getByTestId('service-map');
  await svg.waitFor();
  const node = (id) => svg.locator(`g[data-testid="map-node"][data-id="${id}"]`);
  const edge = (a, b) => svg.locator(`g[data-testid="map-edge"][data-source="${a}"][data-target="${b}"]`);
  const back = async () => { await page.goBack(); await settled(page); await svg.waitFor(); };
  const url = () => new URL(page.url());

  // a service: its traces
  await node('frontend').locator('.map-name').click();
  await page.waitForURL(/\/traces\?/);
  assert.equal(url().searchParams.get('service'), 'frontend');
  assert.equal(url().searchParams.get('range'), '6h', 'the range is kept');
  assert.equal((await tracesListed(page)).length, 21, 'every frontend request');
  await back();

  // a database named by db.system.name: the traces with a span calling it
  await node('database:postgresql@db').locator('.map-name').click();
  await page.waitForURL(/\/traces\?/);
  assert.deepEqual(url().searchParams.getAll('attr'), ['db.system.name=postgresql', 'server.address=db']);
  assert.equal(url().searchParams.get('service'), null);
  assert.equal((await tracesListed(page)).length, 12, 'every checkout request queries it');
  await back();

  // a database named by the older db.system: the first search finds nothing, the second does
  await node('database:mysql@legacy-db').locator('.map-name').click();
  await page.waitForURL(/\/traces\?/);
  assert.deepEqual(url().searchParams.getAll('attr'), ['db.system=mysql', 'server.address=legacy-db']);
  assert.deepEqual((await tracesListed(page)).sort(), [...legacy.traceIds].sort());
  await back();

  // a call nothing names: its caller's traces
  await node('external:unknown').locator('.map-name').click();
  await page.waitForURL(/\/traces\?/);
  assert.equal(url().searchParams.get('service'), 'reports');
  assert.deepEqual(url().searchParams.getAll('attr'), []);
  await back();

  // a connection to a service: the callee's traces
  await edge('checkout', 'payments').getByTestId('edge-label').click();
  await page.waitForURL(/\/traces\?/);
  assert.equal(url().searchParams.get('service'), 'payments');
  assert.equal((await tracesListed(page)).length, 12);
  await back();

  // a connection to a queue: the caller's spans that name it
  await edge('checkout', 'messaging:kafka orders').getByTestId('edge-label').click();
  await page.waitForURL(/\/traces\?/);
  assert.equal(url().searchParams.get('service'), 'checkout');
  assert.deepEqual(url().searchParams.getAll('attr'), ['messaging.system=kafka', 'messaging.destination.name=orders']);
  assert.equal((await tracesListed(page)).length, 12);
  await back();

  // by keyboard: Tab reaches the nodes, Enter opens
  await node('payments').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/traces\?.*service=payments/);
  assert.equal((await tracesListed(page)).length, 12);
  noErrors(rec);
});

test('the map follows the time range; dagre loads with the map page only', async () => {
  const { page, rec } = await open('/services');
  await page.getByTestId('services-table').waitFor();
  assert.ok(!rec.requests.some((u) => /\/vendor\/dagre\./.test(u)), 'the Services page does not load dagre');
  await page.locator('#mainnav a[data-page="map"]').click();
  await page.getByTestId('service-map').waitFor();
  assert.ok(rec.requests.some((u) => /\/js\/vendor\/dagre\.[0-9a-f]{10}\.js$/.test(u)), 'the map page loads it');
  // everything was sent 20 to 40 minutes ago: nothing in the last 15 minutes
  await page.getByTestId('time-range').selectOption('15m');
  await page.getByText('No requests in last 15 minutes').waitFor();
  assert.equal(await page.getByTestId('service-map').count(), 0);
  noErrors(rec);
});

test('auto-refresh draws the map again and keeps the focus where it was', async () => {
  const { page, rec } = await open('/map?refresh=5s');
  const svg = page.getByTestId('service-map');
  await svg.waitFor();
  await page.evaluate(() => { document.querySelector('[data-testid="service-map"]').dataset.old = '1'; });
  await svg.locator('g[data-testid="map-node"][data-id="checkout"]').focus();
  // a new drawing within two refresh periods
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="service-map"]');
    return el && !el.dataset.old;
  }, null, { timeout: 12000 });
  assert.deepEqual(await page.evaluate(() => [document.activeElement.dataset.testid, document.activeElement.dataset.id]), ['map-node', 'checkout']);
  noErrors(rec);
});

// ---- the Services page -------------------------------------------------------------
test('the Services page shows each service\u2019s rate, failed requests and p99 for the range, as the API counts them', async () => {
  const { page, rec } = await open('/services');
  const table = page.getByTestId('services-table');
  await table.waitFor();
  const api = (await getJson(srv, `/api/v1/services?${lastHour()}`)).body.services;
  assert.deepEqual(api.map((s) => s.name).sort(), ['checkout', 'frontend', 'payments', 'reports']);
  const cell = (name, id) => table.locator(`tr[data-service="${name}"] [data-testid="${id}"]`).textContent();
  for (const s of api) {
    const row = table.locator(`tr[data-service="${s.name}"]`);
    // the sparkline sums the operations' calls: every request of the range
    await page.waitForFunction((n) => document.querySelector(`tr[data-service="${n}"]`)?.dataset.sparks !== undefined, s.name);
    assert.equal(Number(await row.getAttribute('data-sparks')), s.requests, `${s.name}: the sparkline's calls`);
    assert.equal(await cell(s.name, 'svc-p99'), fmtDuration(s.p99Ns), `${s.name} p99`);
    assert.equal((await cell(s.name, 'svc-traces')).replace(/,/g, ''), String(s.spanCount), `${s.name} spans`);
    assert.equal(await cell(s.name, 'svc-logs'), String(s.logCount));
    assert.equal(await cell(s.name, 'svc-metrics'), String(s.metricCount));
  }
  // what was sent: rates over the hour, failed of requests
  assert.equal(await cell('frontend', 'svc-rate'), '21/h');
  assert.equal(await cell('checkout', 'svc-rate'), '12/h');
  assert.equal(await cell('reports', 'svc-rate'), '2/h');
  assert.equal(await cell('frontend', 'svc-failed'), '5 failed of 21 requests');
  assert.equal(await cell('checkout', 'svc-failed'), '3 failed of 12 requests');
  assert.equal(await cell('reports', 'svc-failed'), '0 failed of 2 requests');
  // the tiles add them up
  assert.equal(await page.getByTestId('tile-requests').locator('.tile-value').textContent(), '47');
  assert.equal(await page.getByTestId('tile-failed').locator('.tile-value').textContent(), '11');
  assert.equal(await page.getByTestId('tile-failed').locator('.tile-label').textContent(), 'failed of 47 requests');
  // the range is followed: nothing in the last 15 minutes
  await page.getByTestId('time-range').selectOption('15m');
  await page.waitForFunction(() => document.querySelectorAll('tr.svc-row').length > 0
    && [...document.querySelectorAll('tr.svc-row')].every((tr) => tr.classList.contains('svc-quiet')));
  assert.equal(await cell('frontend', 'svc-rate'), '—');
  assert.equal(await cell('frontend', 'svc-failed'), 'No requests');
  noErrors(rec);
});

test('the error headline is failed requests; error spans are the detail', async () => {
  const { page, rec } = await open('/services');
  const row = page.getByTestId('services-table').locator('tr[data-service="frontend"]');
  await row.waitFor();
  // frontend: 5 of its 21 requests failed; 8 of its spans have status ERROR
  // (the failed request and its failed call, for each of 3 checkout
  // failures, and 2 failed account requests)
  const api = (await getJson(srv, `/api/v1/services?${lastHour()}`)).body.services.find((s) => s.name === 'frontend');
  assert.deepEqual([api.requests, api.failedRequests, api.errorCount], [21, 5, sent.errorSpans.frontend]);
  assert.equal(sent.errorSpans.frontend, 8);
  assert.equal(await row.getByTestId('svc-failed').textContent(), '5 failed of 21 requests');
  assert.equal(await row.getByTestId('svc-error-detail').textContent(), '23.8% · 8 error spans');
  // the headline opens the failed requests' traces
  await row.getByTestId('svc-errors').click();
  await page.waitForURL(/\/traces\?.*status=error/);
  assert.equal(new URL(page.url()).searchParams.get('service'), 'frontend');
  assert.equal((await tracesListed(page)).length, 5);
  // and the service's own page says the same
  await page.goto(`${srv.uiUrl}/service?name=frontend`);
  await page.getByTestId('tile-failed').waitFor();
  assert.equal(await page.getByTestId('tile-failed').locator('.tile-value').textContent(), '5');
  assert.equal(await page.getByTestId('service-failed').textContent(), 'failed of 21 requests');
  assert.equal(await page.getByTestId('service-error-detail').textContent(), '23.8% · 8 error spans');
  noErrors(rec);
});

// ---- one service's operations ---------------------------------------------------------
test('a service\u2019s operations: figures as the API has them, a table that sorts, charts, links to traces', async () => {
  const { page, rec } = await open('/services');
  await page.getByTestId('services-table').locator('tr[data-service="frontend"]').getByTestId('svc-open').click();
  await page.waitForURL(/\/service\?.*name=frontend/);
  const table = page.getByTestId('ops-table');
  await table.waitFor();
  const order = () => table.locator('tr.op-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.op));
  // busiest first
  assert.deepEqual(await order(), ['GET /checkout', 'GET /products', 'GET /account']);
  const ans = (await getJson(srv, `/api/v1/services/frontend/operations?${lastHour()}`)).body;
  for (const o of ans.operations) {
    const row = table.locator(`tr.op-row[data-op="${o.name}"]`);
    const text = async (id) => row.getByTestId(id).textContent();
    const want = sent.ops[`frontend ${o.name}`];
    assert.deepEqual([o.calls, o.errors], [want.calls, want.errors], `${o.name}: the API counts what was sent`);
    assert.equal(await text('op-calls'), String(want.calls));
    assert.equal(await text('op-errors'), String(want.errors));
    for (const q of ['p50', 'p95', 'p99']) assert.equal(await text(`op-${q}`), fmtDuration(o[`${q}Ns`]), `${o.name} ${q}`);
  }
  const rowText = async (op, id) => table.locator(`tr.op-row[data-op="${op}"]`).getByTestId(id).textContent();
  assert.equal(await rowText('GET /account', 'op-error-rate'), '66.7%');
  assert.equal(await rowText('GET /checkout', 'op-error-rate'), '25%');
  assert.equal(await rowText('GET /products', 'op-rate'), '6/h');
  // sorting: by errors, by p99 (twice: ascending), by name; the URL keeps it
  await table.getByTestId('ops-sort-errors').click();
  assert.deepEqual(await order(), ['GET /checkout', 'GET /account', 'GET /products']);
  assert.equal(await table.getByTestId('ops-sort-errors').evaluate((a) => a.closest('th').getAttribute('aria-sort')), 'descending');
  await table.getByTestId('ops-sort-p99').click();
  assert.deepEqual(await order(), ['GET /account', 'GET /checkout', 'GET /products']);
  await table.getByTestId('ops-sort-p99').click();
  assert.deepEqual(await order(), ['GET /products', 'GET /checkout', 'GET /account']);
  assert.equal(await table.getByTestId('ops-sort-p99').evaluate((a) => a.closest('th').getAttribute('aria-sort')), 'ascending');
  assert.equal(new URL(page.url()).searchParams.get('sort'), 'p99');
  assert.equal(new URL(page.url()).searchParams.get('dir'), 'asc');
  // the sort links work from the keyboard
  await table.getByTestId('ops-sort-name').focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await order(), ['GET /account', 'GET /checkout', 'GET /products']);
  // a reload keeps the order
  await page.reload();
  await settled(page);
  await table.waitFor();
  assert.deepEqual(await order(), ['GET /account', 'GET /checkout', 'GET /products']);
  // charts: rate and p99 over time, a line per operation, busiest first
  for (const id of ['ops-rate-chart', 'ops-p99-chart']) {
    const chart = page.getByTestId(id);
    await chart.locator('canvas').first().waitFor();
    assert.deepEqual(await chart.getByTestId('legend-item').locator('.legend-label').allTextContents(), ['GET /checkout', 'GET /products', 'GET /account'], id);
  }
  // the rate chart's points: every step of the hour, rates that add up to the calls
  const points = Number(await page.getByTestId('ops-rate-chart').locator('.chart-plot').getAttribute('data-points'));
  assert.ok(points >= 60 && points <= 62, `one point a minute over the hour (${points})`);
  // an operation opens its traces
  await table.locator('tr.op-row[data-op="GET /account"]').getByTestId('op-traces').click();
  await page.waitForURL(/\/traces\?/);
  const u = new URL(page.url());
  assert.deepEqual([u.searchParams.get('service'), u.searchParams.get('name')], ['frontend', 'GET /account']);
  assert.equal((await tracesListed(page)).length, 3);
  noErrors(rec);
});

test('a service with no telemetry gets a clear state, not a broken page', async () => {
  const { page, rec } = await open('/service?name=nobody');
  await page.getByText('No telemetry from nobody').waitFor();
  noErrors(rec);
});
