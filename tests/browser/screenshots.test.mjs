// Screenshots of each page in the light and dark themes, with a small shop
// sending traces, logs and metrics through the official exporters. Saved as
// test-results/screenshots/PAGE-THEME.png (LOUPE_UPDATE_SCREENSHOTS=1 also
// copies them to docs/screenshots/ for the README). Each shot first checks
// that the page shows what it should, so a blank page never passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertOnboarding, launch, openPage, screenshot, settled, stopChecked, startServer } from './lib/browser.mjs';
import { exporters, sendLogs, sendMetrics, sendServiceCalls, sendShopTrace, sendSimpleTrace, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;
let shop;
let history;
let calls;

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  for (let i = 0; i < 6; i++) {
    await sendSimpleTrace(exp, 'frontend', i % 2 ? 'GET /products' : 'GET /cart', {
      base: now - 600000 + i * 60000, durationMs: 20 + ((i * 37) % 90),
      children: [{ name: 'render page' }, { name: 'fetch prices' }],
    });
  }
  await sendSimpleTrace(exp, 'inventory', 'sync stock', { base: now - 300000, durationMs: 450, children: [{ name: 'UPDATE stock' }] });
  // services calling each other (the map, the operations), before the rest
  calls = await sendServiceCalls(exp, { requests: 30, failEvery: 6, extra: 24, base: now - 45 * 60000, spreadMs: 30 * 60000 });
  shop = await sendShopTrace(exp, { base: now - 30000 });
  const records = [];
  const bodies = [(i) => `user u-${100 + (i % 7)} signed in from 10.0.${i % 4}.${10 + i}`,
    (i) => `cart c-${i} loaded with ${1 + (i % 5)} items`, (i) => `price cache refreshed in ${3 + (i % 9)} ms`,
    (i) => `GET /products/${1000 + i} 200 in ${20 + i} ms`, (i) => `slow query on cart table took ${500 + i * 13}ms`,
    (i) => `retrying payment provider acme: attempt ${1 + (i % 3)} of 5`, () => 'inventory sync done'];
  for (let i = 0; i < 40; i++) {
    records.push({
      body: bodies[i % bodies.length](i),
      severity: [SeverityNumber.INFO, SeverityNumber.INFO, SeverityNumber.DEBUG, SeverityNumber.INFO, SeverityNumber.WARN][i % 5],
      attributes: { 'http.route': ['/cart', '/products'][i % 2], 'user.id': `u-${100 + (i % 7)}` },
      time: now - 600000 + i * 14000,
    });
  }
  await sendLogs(exp, 'frontend', records);
  await sendLogs(exp, 'payments', [
    { body: 'card declined by issuer', severity: SeverityNumber.ERROR, attributes: { 'payment.provider': 'acme' }, span: shop.spans.charge, time: now - 29900 },
  ]);
  await sendLogs(exp, 'checkout', [
    { body: 'cart loaded with 3 items', severity: SeverityNumber.INFO, attributes: { 'cart.id': 'c-17' }, span: shop.spans.cart, time: now - 29985 },
  ]);
  await sendMetrics(exp, 'checkout', { rounds: 4 });
  history = await sendMetricHistory(srv, 'frontend', shop);
});

// SDKs only report "now", so for charts with a history the screenshots also
// get 40 minutes of cumulative points as OTLP/JSON, one request per minute,
// through loupe's own OTLP/HTTP receiver: a request counter per route and a
// latency histogram with an exemplar on the shop trace.
async function sendMetricHistory(server, service, trace) {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const start = BigInt(Date.now() - 41 * 60000) * 1000000n;
  const routes = { '/cart': 0, '/products': 0 };
  const buckets = { '/cart': new Array(bounds.length + 1).fill(0), '/products': new Array(bounds.length + 1).fill(0) };
  const sums = { '/cart': 0, '/products': 0 };
  const kv = (k, v) => ({ key: k, value: { stringValue: v } });
  for (let m = 0; m < 40; m++) {
    const t = start + BigInt((m + 1) * 60000) * 1000000n;
    const counterPts = [];
    const histPts = [];
    for (const [route, speed] of [['/cart', 1], ['/products', 2.2]]) {
      const n = Math.round(40 + 25 * Math.sin(m / 5 + speed) + speed * 10);
      routes[route] += n;
      for (let i = 0; i < n; i++) {
        const v = 0.004 * speed * (1 + ((i * 7919 + m * 104729) % 97) / 6) * (m > 25 && m < 31 ? 4 : 1);
        const b = bounds.findIndex((x) => v <= x);
        buckets[route][b < 0 ? bounds.length : b]++;
        sums[route] += v;
      }
      counterPts.push({ attributes: [kv('http.route', route)], startTimeUnixNano: String(start), timeUnixNano: String(t), asInt: String(routes[route]) });
      const count = buckets[route].reduce((a, b) => a + b, 0);
      histPts.push({
        attributes: [kv('http.route', route)], startTimeUnixNano: String(start), timeUnixNano: String(t),
        count: String(count), sum: sums[route], bucketCounts: buckets[route].map(String), explicitBounds: bounds,
        ...(m === 28 && route === '/cart' ? { exemplars: [{ timeUnixNano: String(t - 5000000000n), asDouble: 0.42, traceId: trace.traceId, spanId: trace.spanIds.charge }] } : {}),
      });
    }
    const body = {
      resourceMetrics: [{
        resource: { attributes: [kv('service.name', service)] },
        scopeMetrics: [{
          scope: { name: 'http-server', version: '1.0.0' },
          metrics: [
            { name: 'http.server.requests', unit: '{request}', description: 'Requests served', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: counterPts } },
            { name: 'http.server.request.duration', unit: 's', description: 'Duration of HTTP server requests', histogram: { aggregationTemporality: 2, dataPoints: histPts } },
          ],
        }],
      }],
    };
    const res = await fetch(`${server.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
  }
  return { counts: routes };
}

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
});

// Each page's ready check waits for the data this file sent, then asserts
// it is there: an error state or an empty table never makes a screenshot.
async function noErrorState(page, name) {
  const errors = await page.locator('.state-error').allTextContents();
  assert.deepEqual(errors, [], `${name}: the page shows an error`);
}

// The text of each row of a table (cells joined by " | "), in order.
async function rowTexts(table) {
  return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim()).join(' | ')));
}

// The series table and the uPlot chart of the metric page.
async function metricShown(page, name) {
  await page.getByTestId('chart').locator('canvas').first().waitFor();
  assert.equal(await page.getByTestId('metric-title').textContent(), name);
  const stats = page.getByTestId('metric-stats');
  await stats.waitFor();
  const rows = await rowTexts(stats);
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.match(rows[0], /^http\.route=\/cart \| /);
  assert.match(rows[1], /^http\.route=\/products \| /);
  const legend = await page.getByTestId('chart-legend').getByTestId('legend-item').locator('.legend-label').allTextContents();
  assert.deepEqual(legend, ['http.route=/cart', 'http.route=/products']);
  return rows;
}

const SHOTS = [
  ['services', '/services', async (page) => {
    const table = page.getByTestId('services-table');
    await table.waitFor();
    const names = await table.locator('tr.svc-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.service));
    assert.deepEqual(names.sort(), ['checkout', 'frontend', 'inventory', 'payments']);
    // the sparklines have arrived
    await page.waitForFunction(() => document.querySelector('tr[data-service="checkout"]')?.dataset.sparks !== undefined);
    assert.equal(await table.locator('tr[data-service="checkout"]').getByTestId('svc-failed').textContent(), `${calls.failed} failed of ${calls.requests} requests`);
  }],
  ['map', '/map', async (page) => {
    const svg = page.getByTestId('service-map');
    await svg.waitFor();
    const ids = await svg.getByTestId('map-node').evaluateAll((gs) => gs.map((g) => g.dataset.id));
    for (const id of ['frontend', 'checkout', 'payments', 'database:postgresql@db', 'messaging:kafka orders', 'external:api.bank.example:443']) {
      assert.ok(ids.includes(id), `${id} in ${ids}`);
    }
  }],
  ['service-operations', '/service?name=frontend', async (page) => {
    const ops = await page.getByTestId('ops-table').locator('tr.op-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.op));
    // busiest first: 30 checkouts, 16 + 3 product pages, 8 accounts, 3 carts, the shop's order
    assert.deepEqual(ops, ['GET /checkout', 'GET /products', 'GET /account', 'GET /cart', 'GET /orders/{id}']);
    for (const id of ['ops-rate-chart', 'ops-p99-chart']) await page.getByTestId(id).locator('canvas').first().waitFor();
  }],
  ['logs', '/logs', async (page) => {
    await page.locator('.log-row').filter({ hasText: 'card declined by issuer' }).click();
    await page.getByTestId('log-detail').waitFor();
    assert.equal(await page.getByTestId('log-body').textContent(), 'card declined by issuer');
    // 40 frontend records, one from payments, one from checkout
    assert.equal(await page.getByTestId('log-count').textContent(), '42 logs');
  }],
  ['patterns', '/logs?view=patterns', async (page) => {
    const table = page.getByTestId('pattern-table');
    await table.waitFor();
    const templates = await table.locator('.template').allTextContents();
    // the seven kinds of frontend line, the payments and the checkout one
    assert.equal(templates.length, 9, templates.join('\n'));
    assert.ok(templates.includes('GET <PATH> <NUM> in <NUM> ms'), templates.join('\n'));
    assert.equal(await page.getByTestId('pattern-count').textContent(), '9 patterns');
  }],
  ['traces', '/traces', async (page) => {
    const table = page.getByTestId('trace-table');
    await table.waitFor();
    const roots = await table.getByTestId('trace-link').allTextContents();
    // newest first: the shop trace, the inventory sync, six frontend
    // requests, then the older requests between the services
    assert.deepEqual(roots.slice(0, 8), ['GET /orders/{id}', 'sync stock',
      'GET /products', 'GET /cart', 'GET /products', 'GET /cart', 'GET /products', 'GET /cart']);
    assert.equal(roots.length, 8 + calls.requests + 24);
    assert.equal(await page.getByTestId('trace-count').textContent(), `${roots.length} traces`);
  }],
  ['trace', () => `/traces/${shop.traceId}?span=${shop.spanIds.charge}`, async (page) => {
    const wf = page.getByTestId('waterfall');
    await wf.locator('.span-row').first().waitFor();
    const spans = await wf.locator('.span-row .wf-label').allTextContents();
    assert.deepEqual(spans, ['frontendGET /orders/{id}', 'checkoutload cart', 'checkoutSELECT cart→ postgresql', 'paymentscharge card']);
    assert.equal(await wf.locator('.span-row.selected .wf-span-name').textContent(), 'charge card');
    await page.getByTestId('span-detail').waitFor();
    assert.equal(await page.getByTestId('span-name').textContent(), 'charge card');
    assert.equal(await page.getByTestId('span-status').textContent(), 'ERROR');
  }],
  ['metrics', '/metrics?metric=http.server.requests&mservice=frontend', async (page) => {
    await metricShown(page, 'http.server.requests');
  }],
  ['metrics-histogram', '/metrics?metric=http.server.request.duration&mservice=frontend', async (page) => {
    const rows = await metricShown(page, 'http.server.request.duration');
    // the count column: every request the history sent (one window, cumulative from its start)
    for (const [i, route] of [[0, '/cart'], [1, '/products']]) {
      const count = rows[i].split(' | ')[4];
      assert.equal(count, history.counts[route].toLocaleString('en-US'), rows[i]);
    }
    await page.getByTestId('buckets').waitFor();
    const links = await page.getByTestId('exemplar-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, [`/traces/${shop.traceId}?span=${shop.spanIds.charge}`]);
  }],
];

for (const scheme of ['light', 'dark']) {
  test(`screenshots of every page, ${scheme} theme`, async () => {
    const { context, page, rec } = await openPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    for (const [name, path, ready] of SHOTS) {
      await page.goto(srv.uiUrl + (typeof path === 'function' ? path() : path));
      await settled(page);
      await ready(page);
      await noErrorState(page, name);
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), scheme);
      await screenshot(page, `${name}-${scheme}`);
    }
    assert.deepEqual(rec.errors, []);
    await context.close();
  });
}

test('screenshot of the empty state', async () => {
  const empty = await startServer();
  try {
    for (const scheme of ['light', 'dark']) {
      const { context, page, rec } = await openPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
      await page.goto(`${empty.uiUrl}/services`);
      await settled(page);
      await assertOnboarding(page, empty);
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), scheme);
      await screenshot(page, `empty-${scheme}`);
      assert.deepEqual(rec.errors, []);
      await context.close();
    }
  } finally {
    await stopChecked(empty);
  }
});
