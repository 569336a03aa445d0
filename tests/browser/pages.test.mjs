// The web UI's pages against the real loupe, with data sent by the official
// OpenTelemetry exporters: services, logs (filters, detail, log -> trace and
// back), the trace waterfall (nesting, error span, events, links, download),
// metrics, keyboard shortcuts, deep links, time range and theme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { launch, noErrors, onePageAtATime, settled, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendClientCalls, sendShopTrace, sendSimpleTrace, sendLogs, sendMetrics, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;
let shop;
let calls;
let semconv;
const pages = onePageAtATime();

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  shop = await sendShopTrace(exp);
  calls = await sendClientCalls(exp);
  semconv = await sendSimpleTrace(exp, 'api', 'GET /users/{id}', {
    attributes: {
      'http.request.method': 'GET', 'http.route': '/users/{id}', 'http.response.status_code': 503,
      'http.response.header.content-security-policy': ['default-src self'], 'url.path': '/users/7', 'url.scheme': 'http',
      'server.address': 'api.internal', 'server.port': 8080, 'client.address': '10.0.0.9', 'network.protocol.version': '1.1',
      'db.system': 'postgresql', 'messaging.system': 'kafka', 'rpc.system': 'grpc', 'error.type': '503',
      'process.pid': 4242, 'app.tenant': 'acme', 'code.function': 'getUser',
    },
    children: [{ name: 'GET', attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } }],
  });
  const now = Date.now();
  await sendLogs(exp, 'checkout', [
    { body: 'cart loaded with 3 items', severity: SeverityNumber.INFO, attributes: { 'cart.id': 'c-17', 'cart.items': 3 }, span: shop.spans.cart, time: now - 4000 },
    { body: 'slow query on cart table', severity: SeverityNumber.WARN, attributes: { 'db.duration_ms': 25 }, span: shop.spans.sql, time: now - 3900 },
    { body: 'debug detail of the cart', severity: SeverityNumber.DEBUG, time: now - 3800 },
  ]);
  await sendLogs(exp, 'payments', [
    { body: 'card declined by issuer', severity: SeverityNumber.ERROR, attributes: { 'payment.provider': 'acme', 'retry': false }, span: shop.spans.charge, time: now - 3700 },
  ]);
  await sendLogs(exp, 'inventory', [
    { body: 'stock level low for sku-42', severity: SeverityNumber.WARN, attributes: { sku: 'sku-42' }, time: now - 3600 },
    { body: 'inventory sync done', severity: SeverityNumber.INFO, time: now - 3500 },
  ]);
  await sendMetrics(exp, 'checkout', { rounds: 3 });
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path, opts) => pages.open(browser, srv.uiUrl + path, opts);

const logRows = (page) => page.locator('.log-row');
const rowTexts = async (page) => (await logRows(page).allTextContents()).map((t) => t.replace(/\s+/g, ' '));

// ---- services ---------------------------------------------------------------------
test('services page lists every service with its counts and links', async () => {
  const { page, rec } = await open('/services');
  const table = page.getByTestId('services-table');
  await table.waitFor();
  for (const name of ['frontend', 'checkout', 'payments', 'inventory']) {
    await table.locator(`tr[data-service="${name}"]`).waitFor();
  }
  const api = (await getJson(srv, '/api/v1/services')).body.services;
  for (const s of api) {
    const row = table.locator(`tr[data-service="${s.name}"]`);
    assert.equal((await row.getByTestId('svc-logs').textContent()).replace(/,/g, ''), String(s.logCount), `${s.name} log count`);
    assert.equal((await row.getByTestId('svc-traces').textContent()).replace(/,/g, ''), String(s.spanCount), `${s.name} span count`);
  }
  // frontend's request failed (its root span); payments served no request
  // (its only span is a call), but that call is an error span
  const cell = (name, id) => table.locator(`tr[data-service="${name}"]`).getByTestId(id);
  assert.equal(await cell('frontend', 'svc-failed').textContent(), '1 failed of 1 request');
  assert.equal(await cell('frontend', 'svc-error-detail').textContent(), '100% · 1 error span');
  assert.ok(await cell('frontend', 'svc-errors').evaluate((a) => a.classList.contains('err-text')), 'failures are marked');
  assert.equal(await cell('payments', 'svc-failed').textContent(), 'No requests');
  assert.equal(await cell('payments', 'svc-error-detail').textContent(), '1 error span');
  assert.equal(await cell('checkout', 'svc-failed').textContent(), 'No requests');
  assert.equal(await cell('checkout', 'svc-error-detail').count(), 0, 'no error spans, no detail');
  await table.locator('tr[data-service="checkout"]').getByRole('link', { name: 'Logs' }).click();
  await page.waitForURL(/\/logs\?service=checkout/);
  await logRows(page).first().waitFor();
  const texts = await rowTexts(page);
  assert.equal(texts.length, 3, texts.join('\n'));
  for (const t of texts) assert.match(t, /checkout/);
  noErrors(rec);
});

test('the services page counts what arrived in the selected range, as its links show it', async () => {
  // a service that last sent two hours ago
  const old = Date.now() - 2 * 3600e3;
  const tr = await sendSimpleTrace(exp, 'archive', 'nightly export', { base: old, error: true, children: [{ name: 'write file' }] });
  await sendLogs(exp, 'archive', [
    { body: 'export started', time: old }, { body: 'export done', time: old + 1000 }, { body: 'export verified', time: old + 2000 },
  ]);
  const { page, rec } = await open('/services');
  const row = page.getByTestId('services-table').locator('tr[data-service="archive"]');
  await row.waitFor();
  // "Last hour" (the default): nothing from archive
  const cells = async () => Promise.all(['svc-traces', 'svc-logs', 'svc-metrics', 'svc-failed'].map((id) => row.getByTestId(id).textContent()));
  assert.deepEqual(await cells(), ['0', '0', '0', 'No requests']);
  assert.ok(await row.evaluate((tr) => tr.classList.contains('svc-quiet')), 'a quiet service is marked');
  assert.equal(await row.getByTestId('svc-quiet').textContent(), 'Nothing in last hour');
  assert.match(await page.getByTestId('services-range').textContent(), /^In last hour: \d+ of \d+ services sent telemetry$/);
  // quiet services come after the active ones
  const order = await page.locator('tr.svc-row').evaluateAll((trs) => trs.map((t) => t.classList.contains('svc-quiet')));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  // the last 6 hours hold it: two spans, three logs, one failed request
  await page.getByTestId('time-range').selectOption('6h');
  await page.waitForURL(/range=6h/);
  await page.waitForFunction(() => {
    const r = document.querySelector('tr[data-service="archive"]');
    return r && !r.classList.contains('svc-quiet');
  });
  assert.deepEqual(await cells(), ['2', '3', '0', '1 failed of 1 request']);
  // and its links show the same: three logs in the last 6 hours
  await row.getByTestId('svc-logs').click();
  await page.waitForURL(/\/logs\?.*service=archive/);
  assert.equal(new URL(page.url()).searchParams.get('range'), '6h');
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 3);
  await page.goBack();
  await page.getByTestId('services-table').locator('tr[data-service="archive"]').getByTestId('svc-errors').click();
  await page.locator(`tr[data-trace-id="${tr.traceId}"]`).waitFor();
  assert.equal(await page.locator('tr.trace-row').count(), 1);
  noErrors(rec);
});

// ---- logs ---------------------------------------------------------------------------
test('logs page shows every record newest first, with severities and trace links', async () => {
  const { page, rec } = await open('/logs');
  await logRows(page).first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 6);
  const texts = await rowTexts(page);
  assert.match(texts[0], /inventory sync done/, 'newest first');
  assert.match(texts[5], /cart loaded with 3 items/, 'oldest last');
  const err = logRows(page).filter({ hasText: 'card declined by issuer' });
  assert.equal(await err.locator('.sev').textContent(), 'ERROR');
  assert.ok(await err.evaluate((el) => el.classList.contains('row-error')), 'error rows are marked');
  assert.equal(await err.getByTestId('log-trace-link').count(), 1, 'a record with a trace links to it');
  assert.equal(await logRows(page).filter({ hasText: 'inventory sync done' }).getByTestId('log-trace-link').count(), 0);
  assert.match(await page.getByTestId('log-count').textContent(), /^6 logs$/);
  noErrors(rec);
});

test('log filters narrow the rows: service, minimum severity', async () => {
  const { page, rec } = await open('/logs');
  await logRows(page).first().waitFor();
  await page.getByTestId('filter-severity').selectOption('warn');
  await page.waitForURL(/minSeverity=warn/);
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 3);
  for (const t of await rowTexts(page)) assert.match(t, /WARN|ERROR/);
  await page.getByTestId('filter-service').selectOption('inventory');
  await page.waitForURL(/service=inventory/);
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 1);
  assert.match((await rowTexts(page))[0], /stock level low for sku-42/);
  // back undoes one filter step
  await page.goBack();
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 3);
  assert.equal(await page.getByTestId('filter-service').inputValue(), '');
  noErrors(rec);
});

test('log full-text search narrows the rows (GET /api/v1/logs q)', async () => {
  const { page, rec } = await open('/logs');
  await logRows(page).first().waitFor();
  await page.getByTestId('filter-q').fill('declined');
  await page.getByTestId('filter-q').press('Enter');
  await page.waitForURL(/q=declined/);
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 1);
  assert.match((await rowTexts(page))[0], /card declined by issuer/);
  noErrors(rec);
});

test('log attribute conditions narrow the rows (GET /api/v1/logs attr)', async () => {
  const { page, rec } = await open('/logs');
  await logRows(page).first().waitFor();
  await page.getByTestId('attr-input').fill('sku=sku-42');
  await page.getByTestId('attr-input').press('Enter');
  await page.waitForURL(/attr=sku%3Dsku-42/);
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 1);
  assert.match((await rowTexts(page))[0], /stock level low/);
  // a malformed condition is refused in the page, not sent
  await page.getByTestId('attr-input').fill('no operator here');
  await page.getByTestId('attr-input').press('Enter');
  await page.getByText('Use key=value').waitFor();
  noErrors(rec);
});

test('log detail panel shows every field', async () => {
  const { page, rec } = await open('/logs');
  await logRows(page).filter({ hasText: 'cart loaded with 3 items' }).click();
  const d = page.getByTestId('log-detail');
  await d.waitFor();
  assert.equal(await d.getByTestId('log-body').textContent(), 'cart loaded with 3 items');
  const text = await d.textContent();
  for (const want of ['cart.id', 'c-17', 'cart.items', 'service.name', 'checkout-logger', '2.0.0', shop.traceId, shop.spanIds.cart, 'INFO (9)']) {
    assert.ok(text.includes(want), `detail shows ${want}`);
  }
  assert.match(page.url(), /log=\d+/, 'the selection is in the URL');
  await page.keyboard.press('Escape');
  await d.waitFor({ state: 'hidden' });
  noErrors(rec);
});

test('a log links to its trace and span, and the trace links back to its logs', async () => {
  const { page, rec } = await open('/logs?service=payments');
  const row = logRows(page).filter({ hasText: 'card declined by issuer' });
  await row.getByTestId('log-trace-link').click();
  await page.waitForURL(new RegExp(`/traces/${shop.traceId}\\?(.*&)?span=${shop.spanIds.charge}`));
  await page.getByTestId('waterfall').waitFor();
  const sel = page.locator('.span-row.selected');
  await sel.waitFor();
  assert.equal(await sel.getAttribute('data-span-id'), shop.spanIds.charge, 'the log\u2019s span is selected');
  assert.equal(await page.getByTestId('span-name').textContent(), 'charge card');
  // the span's logs are in its panel; the trace's logs in the Logs tab
  await page.getByTestId('span-detail').getByText('card declined by issuer').first().waitFor();
  await page.getByTestId('tab-logs').click();
  const logs = page.getByTestId('trace-logs');
  await logs.waitFor();
  assert.equal(await logs.locator('.trace-log').count(), 3, 'the three logs that carry this trace id');
  // back to the logs page (history)
  await page.goBack();
  await page.waitForURL(/\/logs\?service=payments/);
  await logRows(page).filter({ hasText: 'card declined by issuer' }).waitFor();
  // and forward, then "Logs of this trace"
  await page.goForward();
  await page.getByTestId('trace-logs-link').click();
  await page.waitForURL(new RegExp(`/logs\\?traceId=${shop.traceId}`));
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 3);
  for (const t of await rowTexts(page)) assert.doesNotMatch(t, /inventory|debug detail/);
  noErrors(rec);
});

// ---- trace view ------------------------------------------------------------------------
test('the waterfall nests spans, marks the error span and its events', async () => {
  const { page, rec } = await open(`/traces/${shop.traceId}`);
  await page.getByTestId('waterfall').waitFor();
  const rows = page.locator('.span-row');
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 4);
  const got = await rows.evaluateAll((els) => els.map((e) => [e.querySelector('.wf-span-name').textContent, e.dataset.depth, e.querySelector('.wf-service').textContent]));
  assert.deepEqual(got, [
    ['GET /orders/{id}', '0', 'frontend'],
    ['load cart', '1', 'checkout'],
    ['SELECT cart', '2', 'checkout'],
    ['charge card', '1', 'payments'],
  ]);
  const charge = rows.filter({ hasText: 'charge card' });
  assert.ok(await charge.evaluate((e) => e.classList.contains('row-error')), 'the error span is marked');
  assert.equal(await charge.locator('.wf-bar.err').count(), 1, 'its bar too');
  assert.equal(await charge.locator('.wf-event.exc').count(), 1, 'the exception event is a marker');
  assert.equal(await rows.filter({ hasText: 'SELECT cart' }).locator('.wf-event').count(), 1);
  assert.equal(await rows.filter({ hasText: 'load cart' }).locator('.err-icon').count(), 0);
  // bar geometry follows the timing: charge card starts at 70 of 120 ms
  const left = await charge.locator('.wf-bar').evaluate((e) => parseFloat(e.style.left));
  assert.ok(Math.abs(left - (70 / 120) * 100) < 0.5, `charge card bar at ${left}%`);
  assert.equal(await page.getByTestId('trace-duration').textContent(), '120 ms');
  assert.match(await page.getByTestId('trace-errors').textContent(), /2 errors/);
  // service colours: each service's bars share one colour class, different services differ
  const cls = await rows.evaluateAll((els) => els.map((e) => [...e.querySelector('.wf-bar').classList].find((c) => c.startsWith('svc-c'))));
  assert.equal(cls[1], cls[2], 'checkout spans share a colour');
  // with nothing selected, the panel points at the errors and the longest spans
  const summary = page.getByTestId('trace-summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), /Errors \(2\).*GET \/orders\/\{id\}.*payment failed.*charge card.*card declined by issuer/s);
  await summary.getByTestId('summary-span').filter({ hasText: 'charge card' }).first().click();
  assert.equal(await page.getByTestId('span-name').textContent(), 'charge card');
  noErrors(rec);
});

test('spans expand and collapse; the span panel shows attributes, events, links, resource', async () => {
  const { page, rec } = await open(`/traces/${shop.traceId}`);
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 4);
  const cart = page.locator('.span-row').filter({ hasText: 'load cart' });
  await cart.getByTestId('span-toggle').click();
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 3);
  assert.equal(await page.locator('.span-row').filter({ hasText: 'SELECT cart' }).count(), 0, 'collapsed child hidden');
  await page.getByTestId('expand-all').click();
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 4);
  await page.getByTestId('collapse-all').click();
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 3);
  await page.getByTestId('expand-all').click();

  await page.locator('.span-row').filter({ hasText: 'charge card' }).click();
  const d = page.getByTestId('span-detail');
  await d.waitFor();
  assert.equal(await d.getByTestId('span-status').textContent(), 'ERROR');
  const text = await d.textContent();
  for (const want of ['card declined by issuer', 'payment.provider', 'acme', 'payment.amount', '42.5', 'exception', 'exception.type', 'CardDeclined',
    'service.name', 'payments', 'payments-tracer', 'CLIENT', '40 ms', shop.spanIds.charge]) {
    assert.ok(text.includes(want), `span panel shows ${want}`);
  }
  assert.match(page.url(), new RegExp(`span=${shop.spanIds.charge}`));
  // a link navigates to its span
  await d.getByTestId('span-link').click();
  await page.waitForURL(new RegExp(`span=${shop.spanIds.cart}`));
  await page.getByTestId('span-name').filter({ hasText: 'load cart' }).waitFor();
  noErrors(rec);
});

test('an outgoing call shows where it went: the callee service, else the peer address', async () => {
  const { page, rec } = await open(`/traces/${calls.traceId}`);
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 5);
  const rows = await page.locator('.span-row').evaluateAll((els) => els.map((e) => [
    e.dataset.spanId, e.querySelector('.wf-span-name').textContent, e.querySelector('[data-testid="call-target"]')?.textContent ?? null]));
  assert.deepEqual(rows, [
    [calls.spanIds.root, 'GET /checkout', null],
    [calls.spanIds.call, 'GET', '→ stock'],
    [calls.spanIds.served, 'GET /items', null],
    [calls.spanIds.pay, 'POST', '→ api.payments.example:443'],
    [calls.spanIds.legacy, 'GET', '→ legacy.internal:8081'],
  ]);
  // the callee's service has its colour; the row's title names the address too
  const call = page.locator(`.span-row[data-span-id="${calls.spanIds.call}"]`);
  assert.equal(await call.locator('.wf-target .dot').count(), 1);
  assert.equal(await call.locator('.wf-label').getAttribute('title'), 'web: GET → stock (stock:8080)');
  // the span panel names the target and leads to the callee's span
  await call.click();
  const callee = page.getByTestId('span-callee');
  assert.equal(await callee.textContent(), 'stock (stock:8080)');
  await callee.click();
  await page.getByTestId('span-name').filter({ hasText: 'GET /items' }).waitFor();
  noErrors(rec);
});

// Where each line of a table header cell breaks: [character before the break].
const keyBreaks = (cells) => cells.evaluateAll((ths) => ths.map((th) => {
  const chars = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (let i = 0; i < n.data.length; i++) {
      const r = document.createRange();
      r.setStart(n, i);
      r.setEnd(n, i + 1);
      chars.push([n.data[i], r.getBoundingClientRect().top]);
    }
  }
  const breaks = [];
  for (let i = 1; i < chars.length; i++) if (chars[i][1] > chars[i - 1][1] + 2) breaks.push(chars[i - 1][0]);
  return { key: th.textContent, breaks };
}));

test('span attributes: grouped by namespace, failures marked, keys wrap at dots, a click adds a filter', async () => {
  // the search the reader came from
  const { page, rec } = await open('/traces?service=api', { viewport: { width: 1200, height: 900 } });
  await page.locator(`tr[data-trace-id="${semconv.traceId}"]`).getByTestId('trace-link').click();
  await page.locator(`.span-row[data-span-id="${semconv.spanId}"]`).click();
  const table = page.getByTestId('span-detail').locator('.panel-section', { has: page.locator('h3', { hasText: /^Attributes$/ }) }).locator('table.kv');
  await table.waitFor();
  const groups = await table.locator('tbody').evaluateAll((tbs) => tbs.map((tb) => [tb.dataset.group, [...tb.querySelectorAll('tr[data-key]')].map((tr) => tr.dataset.key)]));
  assert.deepEqual(groups, [
    ['HTTP', ['http.request.method', 'http.response.header.content-security-policy', 'http.response.status_code', 'http.route']],
    ['URL', ['url.path', 'url.scheme']],
    ['Server / client', ['client.address', 'network.protocol.version', 'server.address', 'server.port']],
    ['Database', ['db.system']],
    ['Messaging', ['messaging.system']],
    ['RPC', ['rpc.system']],
    ['Exception / error', ['error.type']],
    ['Process', ['process.pid']],
    ['Other', ['app.tenant', 'code.function']],
  ]);
  assert.deepEqual(await table.locator('tbody th[scope="rowgroup"]').allTextContents(), groups.map((g) => g[0]), 'each group has its heading');
  // a 5xx status and error.type are errors; nothing else is
  assert.deepEqual(await table.locator('tr.kv-err').evaluateAll((trs) => trs.map((tr) => tr.dataset.key)), ['http.response.status_code', 'error.type']);
  // keys break after a dot or not at all, and the long ones do wrap here
  const wraps = await keyBreaks(table.locator('tr[data-key] th'));
  for (const w of wraps) for (const c of w.breaks) assert.equal(c, '.', `${w.key} breaks after "${c}"`);
  assert.ok(wraps.some((w) => w.breaks.length > 0), `some key wraps in this panel: ${JSON.stringify(wraps)}`);
  // a 200 is no error
  await page.locator('.span-row', { has: page.locator('.wf-span-name', { hasText: /^GET$/ }) }).click();
  await page.getByTestId('span-detail').locator('tr[data-key="http.response.status_code"]').waitFor();
  assert.equal(await page.getByTestId('span-detail').locator('tr.kv-err').count(), 0);
  // a click on an attribute adds it to the search the reader came from
  await page.locator(`.span-row[data-span-id="${semconv.spanId}"]`).click();
  await page.getByTestId('span-detail').locator('tr[data-key="app.tenant"]').getByTestId('attr-filter').click();
  await page.waitForURL((u) => u.pathname === '/traces' && u.searchParams.get('service') === 'api' && u.searchParams.getAll('attr').join() === 'app.tenant=acme');
  await page.locator(`tr[data-trace-id="${semconv.traceId}"]`).waitFor();
  assert.equal(await page.locator('tr.trace-row').count(), 1);
  // and to it again: both conditions
  await page.locator(`tr[data-trace-id="${semconv.traceId}"]`).getByTestId('trace-link').click();
  await page.locator(`.span-row[data-span-id="${semconv.spanId}"]`).click();
  await page.getByTestId('span-detail').locator('tr[data-key="http.response.status_code"]').getByTestId('attr-filter').click();
  await page.waitForURL((u) => u.pathname === '/traces' && u.searchParams.getAll('attr').join() === 'app.tenant=acme,http.response.status_code=503');
  await page.locator(`tr[data-trace-id="${semconv.traceId}"]`).waitFor();
  noErrors(rec);
});

test('picking another span shows it from the top of the panel', async () => {
  const { page, rec } = await open(`/traces/${shop.traceId}?span=${shop.spanIds.charge}`, { viewport: { width: 1400, height: 560 } });
  await page.getByTestId('span-name').filter({ hasText: 'charge card' }).waitFor();
  const panel = page.locator('.trace-side .panel-body');
  // read down to the resource of "charge card"
  await panel.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  assert.ok(await panel.evaluate((el) => el.scrollTop) > 100, 'the panel scrolls (the test needs a long panel)');
  await page.locator('.span-row').filter({ hasText: 'load cart' }).click();
  await page.getByTestId('span-name').filter({ hasText: 'load cart' }).waitFor();
  assert.equal(await panel.evaluate((el) => el.scrollTop), 0);
  // the new span's name and status are in view
  const box = await panel.boundingBox();
  for (const id of ['span-name', 'span-status']) {
    const b = await page.getByTestId(id).boundingBox();
    assert.ok(b.y >= box.y && b.y + b.height <= box.y + box.height, `${id} is visible in the panel`);
  }
  // the same with j (the next span)
  await panel.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.keyboard.press('j');
  await page.getByTestId('span-name').filter({ hasText: 'SELECT cart' }).waitFor();
  assert.equal(await panel.evaluate((el) => el.scrollTop), 0);
  noErrors(rec);
});

test('download trace as OTLP JSON builds the request from the API answer', async () => {
  const { page, rec } = await open(`/traces/${shop.traceId}`, { acceptDownloads: true });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-otlp').click()]);
  assert.equal(dl.suggestedFilename(), `trace-${shop.traceId}.json`);
  const chunks = [];
  for await (const c of await dl.createReadStream()) chunks.push(c);
  const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const spans = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  assert.equal(spans.length, 4);
  assert.equal(doc.resourceSpans.length, 3, 'one resource per service');
  const charge = spans.find((s) => s.name === 'charge card');
  assert.equal(charge.traceId, shop.traceId);
  assert.equal(charge.spanId, shop.spanIds.charge);
  assert.equal(charge.parentSpanId, shop.spanIds.root);
  assert.equal(charge.kind, 3, 'SPAN_KIND_CLIENT');
  assert.deepEqual(charge.status, { code: 2, message: 'card declined by issuer' });
  assert.deepEqual(charge.attributes.find((a) => a.key === 'payment.amount').value, { doubleValue: 42.5 });
  assert.equal(charge.events[0].name, 'exception');
  assert.equal(charge.links[0].spanId, shop.spanIds.cart);
  const res = doc.resourceSpans.find((r) => r.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'payments'));
  assert.ok(res, 'resource attributes kept');
  // loupe accepts it back on its OTLP/HTTP JSON endpoint
  const post = await fetch(`${srv.httpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
  assert.equal(post.status, 200, await post.text());
  noErrors(rec);
});

test('copy buttons put ids on the clipboard', async () => {
  const { page, context, rec } = await open(`/traces/${shop.traceId}`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.uiUrl });
  await page.locator('.trace-meta [data-copy]').first().click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shop.traceId);
  noErrors(rec);
});

// ---- keyboard, deep links, time range, theme ---------------------------------------------
test('keyboard: / focuses search, j/k move, Enter opens, Esc closes, ? shows help', async () => {
  const { page, rec } = await open('/logs');
  await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 6);
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'filter-q');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'BODY');
  await page.keyboard.press('j');
  await page.getByTestId('log-detail').waitFor();
  assert.match(await page.locator('.log-row.selected').textContent(), /inventory sync done/);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  assert.match(await page.locator('.log-row.selected').textContent(), /stock level low/);
  await page.keyboard.press('Escape');
  await page.getByTestId('log-detail').waitFor({ state: 'hidden' });
  await page.keyboard.press('?');
  await page.locator('dialog.help').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('dialog.help').waitFor({ state: 'detached' });
  // Enter on a selected log with a trace opens the trace
  for (let i = 0; i < 3; i++) await page.keyboard.press('j');
  assert.match(await page.locator('.log-row.selected').textContent(), /card declined/);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/traces/${shop.traceId}`));
  await page.getByTestId('waterfall').waitFor();
  // on the trace: j/k walk the spans, Left collapses, Right expands
  await page.keyboard.press('Escape');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.equal(await page.getByTestId('span-name').textContent(), 'load cart');
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 3);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 4);
  // g then l goes to the logs page
  await page.keyboard.press('g');
  await page.keyboard.press('l');
  await page.waitForURL(/\/logs$/);
  noErrors(rec);
});

test('deep links reopen the same state', async () => {
  const logs = (await getJson(srv, '/api/v1/logs?service=checkout&minSeverity=warn')).body.logs;
  const warn = logs.find((l) => l.body === 'slow query on cart table');
  assert.ok(warn, 'the API has the record');
  const { page, rec } = await open(`/logs?service=checkout&minSeverity=warn&log=${warn.timeUnixNano}&range=6h`);
  await page.getByTestId('log-detail').waitFor();
  assert.equal(await page.getByTestId('log-body').textContent(), 'slow query on cart table');
  assert.equal(await page.getByTestId('filter-service').inputValue(), 'checkout');
  assert.equal(await page.getByTestId('filter-severity').inputValue(), 'warn');
  assert.equal(await page.getByTestId('time-range').inputValue(), '6h');
  await page.reload();
  await page.getByTestId('log-detail').waitFor();
  assert.equal(await page.getByTestId('log-body').textContent(), 'slow query on cart table');

  await page.goto(`${srv.uiUrl}/traces/${shop.traceId}?span=${shop.spanIds.sql}`);
  await page.getByTestId('span-detail').waitFor();
  assert.equal(await page.getByTestId('span-name').textContent(), 'SELECT cart');
  await page.goto(`${srv.uiUrl}/traces/${shop.traceId}?tab=logs`);
  await page.getByTestId('trace-logs').waitFor();
  noErrors(rec);
});

test('time range picker and auto-refresh are kept in the URL', async () => {
  const { page, rec } = await open('/logs');
  await page.getByTestId('time-range').selectOption('5m');
  await page.waitForURL(/range=5m/);
  await page.getByTestId('auto-refresh').selectOption('5s');
  await page.waitForURL(/refresh=5s/);
  // links to other pages keep the range
  await page.locator('#mainnav a[data-page="services"]').click();
  await page.waitForURL(/\/services\?range=5m&refresh=5s$/);
  await page.getByTestId('services-table').locator('tr[data-service="checkout"]').getByRole('link', { name: 'Traces' }).click();
  await page.waitForURL(/\/traces\?.*range=5m/);
  // a custom range
  await page.getByTestId('time-range').selectOption('custom…');
  const from = page.getByTestId('range-from');
  await from.waitFor();
  await from.fill('2024-01-01T10:00');
  await page.getByTestId('range-to').fill('2024-01-01T11:00');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/start=2024-01-01T\d\d%3A00%3A00.000Z&end=2024-01-01T\d\d%3A00%3A00.000Z|start=2024.*end=2024/);
  assert.equal(await page.getByTestId('time-range').inputValue(), 'custom');
  noErrors(rec);
});

test('a custom time range limits the rows (GET /api/v1/logs start/end)', async () => {
  const { page, rec } = await open('/logs?start=2024-01-01T10:00:00Z&end=2024-01-01T11:00:00Z');
  await page.getByText('No logs in this time range').waitFor();
  assert.equal(await page.getByTestId('live-toggle').isDisabled(), true, 'no live tail for a fixed range');
  noErrors(rec);
});

test('theme: follows the OS, toggles, and remembers the choice', async () => {
  const { page, rec } = await open('/services', { colorScheme: 'dark' });
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await bg();
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  const light = await bg();
  assert.notEqual(light, dark);
  await page.reload();
  await settled(page);
  assert.equal(await bg(), light, 'the choice survives a reload');
  await page.getByTestId('theme-toggle').click();
  assert.equal(await bg(), dark, 'back to the OS preference');
  noErrors(rec);
});

// ---- states -----------------------------------------------------------------------------------
test('an endpoint the server lacks shows an error state, not a broken page', async () => {
  const { page, rec } = await open('/services');
  await page.route('**/api/v1/traces?**', (r) => r.fulfill({
    status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no API endpoint at /api/v1/traces"}}',
  }));
  await page.route('**/api/v1/live?**', (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no API endpoint at /api/v1/live"}}' }));
  await page.locator('#mainnav a[data-page="traces"]').click();
  const err = page.locator('.state-error');
  await err.waitFor();
  assert.match(await err.textContent(), /does not offer trace search yet/);
  assert.equal(await err.getAttribute('data-status'), '404');
  noErrors(rec);
});

test('a trace that does not exist is a clear not-found state', async () => {
  const { page, rec } = await open('/traces/0123456789abcdef0123456789abcdef');
  await page.getByText('Trace not found').waitFor();
  noErrors(rec);
});

test('metrics page lists instruments by service and meter with type and unit', async () => {
  const { page, rec } = await open('/metrics');
  const list = page.getByTestId('metric-list');
  await list.locator('.metric-item').first().waitFor();
  const text = await list.textContent();
  for (const want of ['checkout', 'checkout-meter', 'shop.orders', 'Counter', '{order}', 'shop.checkout.duration', 'Histogram', 'shop.memory', 'Gauge', 'By']) {
    assert.ok(text.includes(want), `list shows ${want}`);
  }
  await list.locator('.metric-item[data-metric="shop.memory"]').click();
  await page.waitForURL(/metric=shop.memory/);
  assert.equal(await page.getByTestId('metric-title').textContent(), 'shop.memory');
  await page.getByTestId('metric-find').fill('orders');
  await page.waitForFunction(() => document.querySelectorAll('.metric-item').length === 1);
  noErrors(rec);
});

test('a counter is charted as a rate per attribute set (GET /api/v1/metrics/{name}/series)', async () => {
  const { page, rec } = await open('/metrics?metric=shop.orders&mservice=checkout');
  await page.getByTestId('chart').locator('canvas').waitFor();
  const stats = page.getByTestId('metric-stats');
  await stats.waitFor();
  const text = await stats.textContent();
  assert.match(text, /route=\/a/);
  assert.match(text, /route=\/b/);
  assert.match(text, /orders\/s/, 'rates are per second with the unit');
  assert.equal(await page.getByTestId('legend-item').count(), 2, 'one line per attribute set');
  await page.getByTestId('show-total').click();
  await page.waitForURL(/rate=0/);
  await page.getByTestId('metric-stats').waitFor();
  assert.match(await page.getByTestId('metric-stats').textContent(), /15 orders/, 'route=/a reached 15 after three rounds');
  await page.getByTestId('view-table').click();
  await page.getByTestId('metric-table').waitFor();
  assert.match(await page.getByTestId('metric-table').textContent(), /route=\/b/);
  // an attribute filter keeps one series; group-by is offered per attribute key
  await page.getByTestId('view-chart').click();
  await page.getByTestId('attr-input').fill('route=/a');
  await page.getByTestId('attr-input').press('Enter');
  await page.waitForURL(/attr=route%3D%2Fa/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="metric-stats"] tbody tr').length === 1);
  assert.match(await page.getByTestId('metric-stats').textContent(), /route=\/a/);
  await page.goto(`${srv.uiUrl}/metrics?metric=shop.orders&mservice=checkout&groupBy=route`);
  await page.getByTestId('metric-stats').waitFor();
  assert.equal(await page.getByTestId('group-by').inputValue(), 'route');
  assert.equal(await page.locator('[data-testid="metric-stats"] tbody tr').count(), 2);
  noErrors(rec);
});

test('a histogram shows p50/p90/p99 and its bucket distribution', async () => {
  const { page, rec } = await open('/metrics?metric=shop.checkout.duration&mservice=checkout');
  await page.getByTestId('chart').locator('canvas').waitFor();
  // one series: all three percentiles
  const legend = await page.getByTestId('chart-legend').locator('.legend-label').allTextContents();
  assert.deepEqual(legend, ['route=/a p50', 'route=/a p90', 'route=/a p99']);
  const buckets = page.getByTestId('buckets');
  await buckets.waitFor();
  assert.ok(await buckets.locator('.bucket').count() > 3);
  // three rounds of 4 ms, 20 ms, 20 ms, 50 ms, 300 ms and 1.2 s (route=/a)
  const stats = page.getByTestId('metric-stats');
  assert.deepEqual(await stats.locator('thead th').allTextContents(), ['Series', 'p50', 'p90', 'p99', 'count', 'mean', 'max']);
  const cells = await stats.locator('tbody tr').first().locator('td').allTextContents();
  assert.equal(await stats.locator('tbody tr').count(), 1);
  assert.equal(cells[0], 'route=/a');
  assert.equal(cells[4], '18', 'count');
  assert.equal(cells[5], '266 ms', 'mean: 1.594 s / 6');
  assert.equal(cells[6], '1.2 s', 'max');
  noErrors(rec);
});

// Four series of one histogram that share every attribute but the route,
// as HTTP server instrumentation reports them (OTLP/JSON to loupe's own
// receiver: two cumulative points, 30 s apart).
async function sendRouteHistogram(service, name, routes) {
  const kv = (k, v) => ({ key: k, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });
  const start = BigInt(Date.now() - 120000) * 1000000n;
  const dataPoints = [];
  routes.forEach((route, i) => {
    for (const [j, t] of [[1, start + 60000000000n], [2, start + 90000000000n]]) {
      const counts = [j * (i + 1), j * 3, j * 2, j];
      dataPoints.push({
        attributes: [kv('http.request.method', 'GET'), kv('url.scheme', 'http'), kv('server.address', 'shop.internal'), kv('server.port', 8080),
          kv('network.protocol.version', '1.1'), kv('http.response.status_code', 200), kv('http.route', route)],
        startTimeUnixNano: String(start), timeUnixNano: String(t),
        count: String(counts.reduce((a, b) => a + b, 0)), sum: j * (i + 1) * 0.5, bucketCounts: counts.map(String), explicitBounds: [0.01, 0.1, 1],
      });
    }
  });
  const body = { resourceMetrics: [{ resource: { attributes: [kv('service.name', service)] }, scopeMetrics: [{ scope: { name: 'http' }, metrics: [{ name, unit: 's', histogram: { aggregationTemporality: 2, dataPoints } }] }] }] };
  const res = await fetch(`${srv.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

const rgb = (c) => (/rgba?\((\d+), (\d+), (\d+)/.exec(c) || []).slice(1).map(Number);

test('a histogram of several series: p99 each, a short legend with values, distinct colours, units on one line', async () => {
  const routes = ['/api/cart', '/api/checkout', '/api/orders/{id}', '/api/products'];
  await sendRouteHistogram('gateway', 'http.server.request.duration', routes);
  const { page, rec } = await open('/metrics?metric=http.server.request.duration&mservice=gateway', { viewport: { width: 860, height: 900 } });
  const legend = page.getByTestId('chart-legend');
  await legend.getByTestId('legend-item').first().waitFor();
  // one line per series, named by the one attribute that differs
  const labels = await legend.locator('.legend-label').allTextContents();
  assert.deepEqual(labels, routes.map((r) => `http.route=${r}`));
  assert.match(await page.getByTestId('chart-caption').textContent(), /^p99 of each series/);
  const common = await page.getByTestId('common-attrs').textContent();
  for (const want of ['http.request.method=GET', 'server.address=shop.internal', 'http.response.status_code=200']) assert.ok(common.includes(want), common);
  // values without a hover: each series' latest p99, with its unit
  assert.equal(await legend.locator('.legend-when').textContent(), 'Latest values');
  for (const v of await legend.locator('.legend-value').allTextContents()) assert.match(v, /^\d+(\.\d+)? (ms|s)$/);
  // neighbours in the legend (and on the chart) have clearly different colours
  const colors = await legend.locator('.legend-swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).color));
  assert.equal(new Set(colors).size, 4, colors.join(' '));
  for (let i = 1; i < colors.length; i++) {
    const [a, b] = [rgb(colors[i - 1]), rgb(colors[i])];
    assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) > 80, `${colors[i - 1]} next to ${colors[i]}`);
  }
  // the series table: the same short names, each value with its unit on one line
  const stats = page.getByTestId('metric-stats');
  assert.deepEqual(await stats.locator('tbody td:first-child').allTextContents(), labels);
  const lines = await stats.locator('tbody td.num').evaluateAll((tds) => tds.map((td) => {
    const r = document.createRange();
    r.selectNodeContents(td);
    return [td.textContent, new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size];
  }));
  for (const [text, n] of lines) assert.equal(n, 1, `"${text}" is on ${n} lines`);
  // other percentiles on request: p50 and p99, two line styles per series
  await page.getByTestId('pct-50,99').click();
  await page.waitForURL(/pct=50%2C99/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="legend-item"]').length === 8);
  assert.deepEqual(await legend.locator('.legend-label').allTextContents(), routes.flatMap((r) => [`http.route=${r} p50`, `http.route=${r} p99`]));
  // a click on a legend entry hides its line
  await legend.getByTestId('legend-item').first().click();
  assert.equal(await legend.getByTestId('legend-item').first().getAttribute('aria-pressed'), 'false');
  noErrors(rec);
});

test('two minutes of data in "Last hour": the chart fits the data; the hover time has seconds', async () => {
  // a gauge every 5 s for two minutes, ending 20 s ago (OTLP/JSON)
  const end = BigInt(Date.now() - 20000) * 1000000n;
  const dataPoints = [];
  for (let i = 0; i < 25; i++) dataPoints.push({ timeUnixNano: String(end - BigInt(24 - i) * 5000000000n), asInt: String(10 + (i % 7)) });
  const body = { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'worker' } }] }, scopeMetrics: [{ scope: { name: 'queue' }, metrics: [{ name: 'queue.depth', unit: '{item}', gauge: { dataPoints } }] }] }] };
  const res = await fetch(`${srv.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
  const { page, rec } = await open('/metrics?metric=queue.depth&mservice=worker&range=1h');
  const plot = page.getByTestId('chart').locator('.chart-plot[data-x-min]');
  await plot.waitFor();
  const span = async () => plot.evaluate((el) => Number(el.dataset.xMax) - Number(el.dataset.xMin));
  // fitted by default: the axis spans the two minutes (and a margin), every point is drawn
  assert.ok(await span() < 180, `the x axis spans ${await span()} s`);
  assert.equal(await plot.getAttribute('data-points'), '25', 'every reported point');
  assert.equal(await page.getByTestId('fit-on').getAttribute('class'), 'seg-btn active');
  assert.match(await page.getByTestId('fit-note').textContent(), /^Fitted to the data: 2 min \d+ s of last hour\.$/);
  // the hovered point's time is shown to the second
  const box = await page.getByTestId('chart').locator('.u-over').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByTestId('chart-legend').locator('.legend-when').filter({ hasText: /^\d\d:\d\d:\d\d$/ }).waitFor();
  const legendValue = await page.getByTestId('chart-legend').locator('.legend-value').textContent();
  assert.match(legendValue, /^1\d items$/);
  // the whole range on request
  await page.getByTestId('fit-off').click();
  await page.waitForURL(/fit=0/);
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="chart"] .chart-plot[data-x-min]');
    return el && Number(el.dataset.xMax) - Number(el.dataset.xMin) > 3500;
  });
  assert.equal(await page.getByTestId('fit-note').count(), 0);
  noErrors(rec);
});

test('trace search lists traces with services, counts and duration (GET /api/v1/traces)', async () => {
  const { page, rec } = await open('/traces');
  const table = page.getByTestId('trace-table');
  await table.waitFor();
  const row = table.locator(`tr[data-trace-id="${shop.traceId}"]`);
  await row.waitFor();
  const text = await row.textContent();
  assert.match(text, /GET \/orders\/\{id\}/);
  for (const s of ['frontend', 'checkout', 'payments']) assert.ok(text.includes(s), `chip ${s}`);
  assert.match(text, /120 ms/);
  await page.getByTestId('filter-errors').check();
  await page.waitForURL(/status=error/);
  await table.locator(`tr[data-trace-id="${shop.traceId}"]`).waitFor();
  await page.getByTestId('filter-min').fill('1s');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/minDuration=1s/);
  await page.getByText('No traces match this search').waitFor();
  // a span name and an attribute condition of a child span find the trace
  await page.goto(`${srv.uiUrl}/traces`);
  await page.getByTestId('filter-name').fill('charge card');
  await page.getByTestId('attr-input').fill('payment.provider=acme');
  await page.getByTestId('attr-input').press('Enter');
  await page.waitForURL(/name=charge\+card.*attr=payment.provider%3Dacme|attr=payment.provider%3Dacme.*name=charge\+card/);
  await page.getByTestId('trace-table').locator(`tr[data-trace-id="${shop.traceId}"]`).waitFor();
  assert.equal(await page.locator('tr.trace-row').count(), 1);
  await page.getByTestId('filter-name').fill('no such span');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No traces match this search').waitFor();
  noErrors(rec);
});

// The JS SDK does not record exemplars, so this histogram (with one exemplar
// pointing at the shop trace) is sent as OTLP/JSON to loupe's own receiver.
test('exemplars are points that open their trace (GET /api/v1/metrics/{name}/series)', async () => {
  const now = BigInt(Date.now()) * 1000000n;
  const body = {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payments' } }] },
      scopeMetrics: [{
        scope: { name: 'payments-meter' },
        metrics: [{
          name: 'payments.duration', unit: 's',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{
              startTimeUnixNano: String(now - 60000000000n), timeUnixNano: String(now), count: '3', sum: 1.5,
              bucketCounts: ['1', '1', '1'], explicitBounds: [0.1, 1],
              exemplars: [{ timeUnixNano: String(now - 1000000000n), asDouble: 1.2, traceId: shop.traceId, spanId: shop.spanIds.charge }],
            }],
          },
        }],
      }],
    }],
  };
  const res = await fetch(`${srv.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const { page, rec } = await open('/metrics?metric=payments.duration&mservice=payments');
  const link = page.getByTestId('exemplar-link');
  await link.first().waitFor();
  assert.match(await link.first().textContent(), /1\.2 s/);
  await link.first().click();
  await page.waitForURL(new RegExp(`/traces/${shop.traceId}\\?.*span=${shop.spanIds.charge}`));
  await page.getByTestId('span-name').filter({ hasText: 'charge card' }).waitFor();
  noErrors(rec);
});
