// The Lint page in Chromium: findings per service in the API's order (the
// services with the most severe findings first), each card with the API's
// count, detail, hint and examples; the examples open the span in its
// trace, the log record and the metric; the service filter; hostile
// service names, attribute keys and severity texts stay text; screenshots
// lint-light and lint-dark. Telemetry made wrong on purpose with the
// official JS SDK and OTLP exporters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { launch, noErrors, onePageAtATime, screenshot, startServer, tearDown } from './lib/browser.mjs';
import { exporters } from './lib/senders.mjs';
import { getJson } from '../interop/lib/server.mjs';
import { waitFor } from '../interop/lib/cli.mjs';

const SCRIPT = '<script>alert("xss-lint")</script>';
const IMG = '"><img src=x onerror=alert("xss-lint-img")>';
const MAX_SERIES = 20;

let srv;
let browser;
let exp;
const pages = onePageAtATime();

async function withTracer(service, fn) {
  const provider = new BasicTracerProvider({
    ...(service ? { resource: resourceFromAttributes({ 'service.name': service }) } : {}),
    spanProcessors: [new SimpleSpanProcessor(exp.traces)],
  });
  fn(provider.getTracer('lint-browser'));
  await provider.forceFlush();
  await provider.shutdown();
}

before(async () => {
  srv = await startServer({ args: ['--lint-orphan-grace', '1s', '--lint-max-series', String(MAX_SERIES)] });
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  await withTracer(undefined, (t) => t.startSpan('job', { kind: SpanKind.SERVER }).end());
  await withTracer('kinds', (t) => {
    t.startSpan('GET /orders', { kind: SpanKind.INTERNAL, attributes: { 'http.request.method': 'GET', 'url.path': '/orders' } }).end();
  });
  await withTracer('legacy', (t) => {
    for (let i = 0; i < 7; i++) {
      t.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.method': 'GET', 'db.system': 'redis' } }).end();
    }
  });
  await withTracer('orphans', (t) => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '10f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true,
    });
    t.startSpan('GET /orphaned', { kind: SpanKind.SERVER }, remote).end();
  });
  await withTracer(SCRIPT, (t) => {
    const s = t.startSpan(`charge ${IMG}`, { kind: SpanKind.SERVER, attributes: { 'http.method': 'POST' } });
    s.recordException(new Error(SCRIPT));
    s.end();
  });
  const logs = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logger' }),
    processors: [new SimpleLogRecordProcessor({ exporter: exp.logs })],
  });
  logs.getLogger('lint-browser').emit({ body: 'no severity at all', severityText: SCRIPT });
  await logs.forceFlush();
  await logs.shutdown();
  const meters = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'meter' }),
    readers: [new PeriodicExportingMetricReader({ exporter: exp.metrics, exportIntervalMillis: 3600000 })],
  });
  const counter = meters.getMeter('lint-browser').createCounter('cart.adds');
  for (let i = 0; i < MAX_SERIES + 5; i++) counter.add(1, { [IMG]: `u${i}`, region: 'eu' });
  await meters.forceFlush();
  await meters.shutdown();
  await waitFor(async () => (await getJson(srv, '/api/v1/lint')).body.findings.some((f) => f.rule === 'orphan-span'),
    { timeoutMs: 15000, what: 'the orphan' });
});

after(async () => { await tearDown({ pages, browser, exp, srv }); });

async function open(path, opts) {
  return pages.open(browser, srv.uiUrl + path, opts);
}

test('findings per service in the API\'s order, each card as the API says', async () => {
  const api = (await getJson(srv, '/api/v1/lint')).body;
  const { page, rec } = await open('/lint');
  await page.getByTestId('lint-service').first().waitFor();
  const services = await page.getByTestId('lint-service').evaluateAll((els) => els.map((e) => e.dataset.service));
  assert.deepEqual(services, [...new Set(api.findings.map((f) => f.service))]);
  assert.equal(services.length, 7);
  const cards = await page.getByTestId('lint-finding').evaluateAll((els) => els.map((e) => ({
    rule: e.dataset.rule, key: e.dataset.key, severity: e.dataset.severity,
    count: e.querySelector('[data-testid="lint-count"]').textContent,
    hint: e.querySelector('[data-testid="lint-hint"]').textContent,
    examples: e.querySelectorAll('[data-testid="lint-example"]').length,
  })));
  assert.deepEqual(cards.map((c) => [c.rule, c.key, c.severity]), api.findings.map((f) => [f.rule, f.key, f.severity]));
  api.findings.forEach((f, i) => {
    const unit = f.rule === 'high-cardinality-metric' ? 'attribute set' : 'item';
    assert.equal(cards[i].count, `${f.count.toLocaleString('en-US')} ${unit}${f.count === 1 ? '' : 's'}`);
    assert.equal(cards[i].hint, `Fix: ${f.hint}`);
    assert.equal(cards[i].examples, f.examples.length);
  });
  assert.equal(await page.getByTestId('lint-summary').textContent(),
    `${api.findings.length} findings: ${api.summary.error} errors · ${api.summary.warning} warnings · ${api.summary.info} info`);
  // the legacy service's deprecated names, with their replacements
  const legacy = page.locator('[data-testid="lint-service"][data-service="legacy"]');
  assert.deepEqual(await legacy.getByTestId('lint-finding').evaluateAll((els) => els.map((e) => e.dataset.key)), ['db.system', 'http.method']);
  assert.match(await legacy.locator('[data-key="db.system"] [data-testid="lint-hint"]').textContent(), /db\.system to db\.system\.name/);
  noErrors(rec);
});

test('hostile service names, attribute keys and severity texts stay text', async () => {
  const { page, rec } = await open('/lint');
  await page.getByTestId('lint-service').first().waitFor();
  const hostile = page.locator('[data-testid="lint-service"]').filter({ has: page.getByTitle(SCRIPT, { exact: true }) });
  assert.equal(await hostile.count(), 1);
  assert.deepEqual(await hostile.getByTestId('lint-finding').evaluateAll((els) => els.map((e) => e.dataset.rule)),
    ['error-without-status', 'deprecated-attribute']);
  const card = page.locator('[data-rule="high-cardinality-metric"]');
  // named when the metric passed the limit (and again each time its sets double)
  assert.match(await card.getByTestId('lint-detail').textContent(), new RegExp(`^${IMG.replace(/[()]/g, '\\$&')} has \\d+ distinct values in the latest \\d+ attribute sets$`));
  assert.match(await page.locator('[data-rule="log-without-severity"] [data-testid="lint-detail"]').textContent(),
    new RegExp(`severity text "${SCRIPT.replace(/[()]/g, '\\$&')}" without a number`));
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.locator('#view script').count(), 0);
  noErrors(rec);
});

test('examples open the span in its trace, the log record and the metric', async () => {
  const api = (await getJson(srv, '/api/v1/lint')).body;
  const kinds = api.findings.find((f) => f.service === 'kinds');
  let { page, rec } = await open('/lint');
  await page.locator('[data-testid="lint-service"][data-service="kinds"] [data-testid="lint-example"]').click();
  await page.getByTestId('span-name').filter({ hasText: 'GET /orders' }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/traces/${kinds.examples[0].traceId}`);
  assert.equal(new URL(page.url()).searchParams.get('span'), kinds.examples[0].spanId);
  noErrors(rec);

  ({ page, rec } = await open('/lint'));
  await page.locator('[data-rule="log-without-severity"] [data-testid="lint-example"]').click();
  const detail = page.getByTestId('log-detail');
  await detail.filter({ hasText: 'no severity at all' }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('service'), 'logger');
  noErrors(rec);

  ({ page, rec } = await open('/lint'));
  await page.locator('[data-rule="high-cardinality-metric"] [data-testid="lint-example"]').first().click();
  await page.getByTestId('metric-title').filter({ hasText: 'cart.adds' }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('mservice'), 'meter');
  noErrors(rec);
});

test('the service filter narrows the page to one service', async () => {
  const { page, rec } = await open('/lint');
  await page.getByTestId('lint-service-filter').selectOption('legacy');
  await page.waitForURL(/\/lint\?service=legacy$/);
  await page.locator('[data-testid="lint-service"][data-service="legacy"]').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="lint-service"]').length === 1);
  assert.equal(await page.getByTestId('lint-summary').textContent(), '2 findings: 2 info');
  // every service stays in the filter
  const options = await page.getByTestId('lint-service-filter').locator('option').allTextContents();
  assert.equal(options.length, 8);
  noErrors(rec);
});

test('the nav leads to the page, and a store without findings says what is checked', async () => {
  const empty = await startServer();
  try {
    const { page, rec } = await pages.open(browser, `${empty.uiUrl}/services`);
    await page.locator('#mainnav a[data-page="lint"]').click();
    await page.waitForURL(/\/lint$/);
    const state = page.locator('.state-empty');
    await state.waitFor();
    assert.equal(await state.locator('.state-title').textContent(), 'No findings');
    assert.equal(await state.locator('.lint-rules li').count(), 9);
    assert.equal(await page.locator('#mainnav a[aria-current="page"]').textContent(), 'Lint');
    noErrors(rec);
  } finally {
    await pages.closeAll();
    await empty.stop();
  }
});

for (const scheme of ['light', 'dark']) {
  test(`screenshot of the Lint page, ${scheme} theme`, async () => {
    const { page, rec } = await open('/lint', { colorScheme: scheme, viewport: { width: 1400, height: 1000 } });
    await page.getByTestId('lint-finding').first().waitFor();
    await screenshot(page, `lint-${scheme}`);
    noErrors(rec);
  });
}
