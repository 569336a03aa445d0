// The Ingest page against the real loupe and the official OTLP exporters:
// every request with its outcome and the advice for a refusal, a request
// sent while the page is open appearing without a reload, filters, the
// clients view, hostile user agents and service names shown as text, the
// inspector turned off; screenshots in the light and dark themes
// (test-results/screenshots/ingest-*.png; LOUPE_UPDATE_SCREENSHOTS=1 also
// copies them to docs/screenshots/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { getJson } from '../interop/lib/server.mjs';
import { launch, noErrors, onePageAtATime, screenshot, startServer, tearDown, stopChecked } from './lib/browser.mjs';
import { exporters, sendLogs, SeverityNumber } from './lib/senders.mjs';

const HOSTILE_SERVICE = '<img src=x onerror=alert(1)>svc';
const HOSTILE_UA = '<script>alert(2)</script>"agent';

let srv;
let browser;
let exp;
const pages = onePageAtATime();

// n finished spans of service (with the SDK's telemetry.sdk.*), each with
// a pad-byte attribute.
async function spans(service, n, pad = 0) {
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': service })),
    spanProcessors: [new SimpleSpanProcessor(mem)],
  });
  const tracer = provider.getTracer('ingest-page', '1.0.0');
  for (let i = 0; i < n; i++) tracer.startSpan(`op ${i}`, { attributes: { pad: 'p'.repeat(pad) } }).end();
  await provider.forceFlush();
  return mem.getFinishedSpans();
}

// Exports with a fresh exporter; resolves with the export's result code.
async function send(exporter, items) {
  const result = await new Promise((resolve) => exporter.export(items, resolve));
  await exporter.shutdown();
  return result.code;
}

before(async () => {
  srv = await startServer({ args: ['--max-body-size', '64KiB', '--max-grpc-message-size', '64KiB'] });
  browser = await launch();
  exp = exporters(srv, 'http/protobuf');
  await sendLogs(exp, 'checkout', [{ body: 'order placed', severity: SeverityNumber.INFO }]);
  assert.equal(await send(new TraceGrpc({ url: srv.grpcUrl, compression: 'gzip' }), await spans('checkout', 12)), 0);
  assert.equal(await send(new TraceJson({ url: `${srv.httpUrl}/v1/traces` }), await spans('frontend', 5)), 0);
  assert.notEqual(await send(new TraceProto({ url: `${srv.httpUrl}/v1/traces` }), await spans('reports', 40, 2000)), 0);
  assert.notEqual(await send(new TraceGrpc({ url: srv.grpcUrl }), await spans('reports', 40, 2000)), 0);
  assert.equal(await send(new TraceJson({ url: `${srv.httpUrl}/v1/traces`, userAgent: HOSTILE_UA }), await spans(HOSTILE_SERVICE, 1)), 0);
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path, opts) => pages.open(browser, srv.uiUrl + path, opts);

async function apiRequests(query = '') {
  const r = await getJson(srv, `/api/v1/ingest/requests?limit=1000${query}`);
  assert.equal(r.status, 200);
  return r.body.requests;
}

test('every request in the API is a row, newest first, with its outcome', async () => {
  const { page, rec } = await open('/ingest');
  const api = await apiRequests();
  await page.getByTestId('ingest-table').waitFor();
  const ids = await page.getByTestId('ingest-row').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.id)));
  assert.deepEqual(ids, api.map((r) => r.id));
  const outcomes = await page.getByTestId('ingest-outcome').allTextContents();
  assert.deepEqual(outcomes, api.map((r) => (r.outcome === 'ok' ? 'OK' : r.outcome === 'partial' ? 'Partial'
    : r.transport === 'grpc' ? r.grpcStatusName : String(r.httpStatus))));
  assert.ok(outcomes.includes('413') && outcomes.includes('RESOURCE_EXHAUSTED'), outcomes.join());
  // the summary counts what the client rows count
  const clients = (await getJson(srv, '/api/v1/ingest/clients')).body.clients;
  const sum = (k) => clients.reduce((n, c) => n + c[k], 0);
  assert.equal(await page.getByTestId('tile-requests').locator('.tile-value').textContent(), String(sum('requests')));
  assert.equal(await page.getByTestId('tile-errors').locator('.tile-value').textContent(), String(sum('errors')));
  noErrors(rec);
});

for (const scheme of ['light', 'dark']) {
  test(`a refusal's details say what to do (${scheme})`, async () => {
    const { page, rec } = await open('/ingest', { colorScheme: scheme });
    const row = page.getByTestId('ingest-row').filter({ has: page.getByTestId('ingest-outcome').getByText('413', { exact: true }) });
    await row.first().click();
    const detail = page.getByTestId('ingest-detail');
    await detail.waitFor();
    const hint = await detail.getByTestId('ingest-hint').textContent();
    assert.match(hint, /^Body too large\. 413: body larger than --max-body-size 64 KiB: lower the exporter's batch size/);
    assert.match(await detail.getByTestId('ingest-message').textContent(), /exceeds the limit of 65536 bytes/);
    assert.match(await detail.textContent(), /OTel-OTLP-Exporter-JavaScript\//);
    // the selection is in the address, so a reload shows the same request
    const id = await row.first().getAttribute('data-id');
    assert.match(page.url(), new RegExp(`request=${id}`));
    await screenshot(page, `ingest-${scheme}`);
    await page.reload();
    await page.getByTestId('ingest-detail').getByTestId('ingest-hint').waitFor();
    assert.equal(await page.locator('tr.ingest-row.selected').getAttribute('data-id'), id);
    noErrors(rec);
  });
}

test('a request sent while the page is open appears without a reload', async () => {
  const { page, rec } = await open('/ingest');
  await page.getByTestId('ingest-table').waitFor();
  assert.equal(await page.getByTestId('live-state').textContent(), 'Live');
  await page.evaluate(() => { window.stillTheSamePage = true; });
  const before = await page.getByTestId('ingest-row').count();
  for (let i = 1; i <= 2; i++) {
    const service = `arrived-${i}-${Date.now()}`;
    const sent = Date.now();
    assert.equal(await send(new TraceProto({ url: `${srv.httpUrl}/v1/traces` }), await spans(service, 2)), 0);
    const row = page.getByTestId('ingest-row').filter({ hasText: service });
    await row.waitFor({ timeout: 3000 });
    assert.ok(Date.now() - sent < 3000);
    assert.match(await page.getByTestId('ingest-row').first().textContent(), new RegExp(service), 'newest on top');
  }
  assert.equal(await page.getByTestId('ingest-row').count(), before + 2);
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'no reload');
  // told by the live stream, which the page asked for ingest events
  assert.ok(rec.requests.some((u) => u.includes('/api/v1/live?events=ingest')), 'the live stream was opened');
  noErrors(rec);
});

test('filters: errors only, one transport', async () => {
  const { page, rec } = await open('/ingest?outcome=error');
  await page.getByTestId('ingest-table').waitFor();
  const api = await apiRequests('&outcome=error');
  assert.ok(api.length >= 2);
  assert.equal(await page.getByTestId('ingest-row').count(), api.length);
  assert.deepEqual(await page.getByTestId('ingest-reason').allTextContents(), api.map(() => 'Body too large'));
  await page.getByTestId('filter-transport').selectOption('grpc');
  await page.waitForURL(/transport=grpc/);
  await page.getByTestId('ingest-outcome').filter({ hasText: 'RESOURCE_EXHAUSTED' }).waitFor();
  assert.deepEqual(await page.getByTestId('ingest-outcome').allTextContents(), ['RESOURCE_EXHAUSTED']);
  noErrors(rec);
});

for (const scheme of ['light', 'dark']) {
  test(`the clients view: one row per client and SDK (${scheme})`, async () => {
    const { page, rec } = await open('/ingest?view=clients', { colorScheme: scheme });
    await page.getByTestId('ingest-clients').waitFor();
    const api = (await getJson(srv, '/api/v1/ingest/clients')).body.clients;
    assert.equal(await page.getByTestId('client-row').count(), api.length);
    const grpc = page.getByTestId('client-row').filter({ hasText: 'grpc-node-js' }).filter({ hasText: 'checkout' });
    assert.match(await grpc.first().textContent(), /opentelemetry nodejs \d+\.\d+/); // the SDK
    const refused = page.getByTestId('client-row').filter({ hasText: 'Body too large' });
    assert.ok(await refused.count() >= 1);
    await screenshot(page, `ingest-clients-${scheme}`);
    // a client's link opens its requests
    await grpc.first().locator('a').first().click();
    await page.waitForURL(/client=127\.0\.0\.1/);
    await page.getByTestId('ingest-table').waitFor();
    const services = await page.locator('tr.ingest-row td.cell-service').allTextContents();
    assert.ok(services.length > 0 && services.every((s) => s === 'checkout'), services.join());
    noErrors(rec);
  });
}

test('hostile user agents and service names stay text', async () => {
  const { page, rec } = await open('/ingest');
  const row = page.getByTestId('ingest-row').filter({ hasText: HOSTILE_SERVICE });
  await row.waitFor();
  assert.equal(await row.locator('td.cell-service').textContent(), HOSTILE_SERVICE);
  assert.ok((await row.locator('.client-cell').textContent()).includes(HOSTILE_UA));
  await row.click();
  const detail = page.getByTestId('ingest-detail');
  await detail.waitFor();
  assert.ok((await detail.textContent()).includes(HOSTILE_UA));
  await page.getByTestId('view-clients').click();
  await page.getByTestId('ingest-clients').waitFor();
  assert.ok((await page.getByTestId('ingest-clients').textContent()).includes(HOSTILE_SERVICE));
  // nothing was parsed as markup: no injected elements, no script ran
  assert.equal(await page.locator('#view img, #view script').count(), 0);
  noErrors(rec);
});

test('keys: j and k select requests, Escape closes the details', async () => {
  const { page, rec } = await open('/ingest');
  await page.getByTestId('ingest-table').waitFor();
  await page.keyboard.press('j');
  await page.getByTestId('ingest-detail').waitFor();
  const first = await page.getByTestId('ingest-row').first().getAttribute('data-id');
  assert.equal(await page.locator('tr.ingest-row.selected').getAttribute('data-id'), first);
  await page.keyboard.press('j');
  assert.equal(await page.locator('tr.ingest-row.selected').getAttribute('data-id'),
    await page.getByTestId('ingest-row').nth(1).getAttribute('data-id'));
  await page.keyboard.press('Escape');
  await page.getByTestId('ingest-detail').waitFor({ state: 'hidden' });
  noErrors(rec);
});

test('the inspector off: the page says so and how to turn it on', async () => {
  const off = await startServer({ args: ['--ingest-log-size', '0'] });
  try {
    const o = await pages.open(browser, `${off.uiUrl}/ingest`);
    await o.page.getByTestId('ingest-off').waitFor();
    assert.match(await o.page.getByTestId('ingest-off').textContent(), /--ingest-log-size 0/);
    assert.equal(await o.page.getByTestId('ingest-table').count(), 0);
    noErrors(o.rec);
  } finally {
    await pages.closeAll();
    await stopChecked(off);
  }
});
