// Telemetry text is data, never markup: span names, attributes, service
// names, events and log bodies holding <script> and "><img onerror=...>
// render as the same text on every page, and nothing runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, onePageAtATime, settled, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendLogs, sendSimpleTrace, SeverityNumber, SpanKind } from './lib/senders.mjs';

const SCRIPT = '<script>alert("xss-script")</script>';
const IMG = '"><img src=x onerror=alert("xss-img")>';
const SVG = "'><svg onload=alert(1)>";
const SERVICE = 'svc<b onmouseover=alert(3)>bold</b>';

let srv;
let browser;
let exp;
let tr;
const pages = onePageAtATime();

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  tr = await sendSimpleTrace(exp, SERVICE, `GET ${SCRIPT}`, {
    attributes: { 'evil.attr': IMG, [`key${IMG}`]: SVG },
    children: [{ name: `child ${IMG}`, attributes: { note: SCRIPT }, events: [{ name: `event ${SCRIPT}`, attributes: { e: IMG } }] },
      // a call to a database named by hostile attributes: a node of the service map
      { name: 'query', kind: SpanKind.CLIENT, attributes: { 'db.system.name': SCRIPT, 'server.address': IMG } }],
  });
  await sendLogs(exp, SERVICE, [
    { body: `body ${SCRIPT} and ${IMG}`, severity: SeverityNumber.ERROR, attributes: { 'evil.attr': IMG, [`k${SCRIPT}`]: 'v' }, span: tr.span },
    { body: { structured: IMG, nested: { s: SCRIPT } }, severity: SeverityNumber.INFO },
  ]);
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path) => pages.open(browser, srv.uiUrl + path);

// Nothing injected: no dialog, no element from the payloads, no extra scripts.
async function assertInert(page, rec) {
  assert.deepEqual(rec.dialogs, [], 'no dialog opened');
  assert.deepEqual(rec.errors, [], 'no page errors');
  const injected = await page.evaluate(() => ({
    img: document.querySelectorAll('img[src="x"], img[onerror]').length,
    svg: document.querySelectorAll('svg[onload]').length,
    b: document.querySelectorAll('b[onmouseover]').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
  }));
  assert.deepEqual(injected, { img: 0, svg: 0, b: 0, scripts: 0, handlers: 0 });
}

test('log bodies and attributes render as text', async () => {
  const { page, rec } = await open('/logs');
  const row = page.locator('.log-row').filter({ hasText: `body ${SCRIPT} and ${IMG}` });
  await row.waitFor();
  assert.ok((await row.textContent()).includes(SERVICE), 'the service name is shown as text');
  await row.click();
  const d = page.getByTestId('log-detail');
  await d.waitFor();
  assert.equal(await d.getByTestId('log-body').textContent(), `body ${SCRIPT} and ${IMG}`);
  const text = await d.textContent();
  assert.ok(text.includes(IMG), `attribute value as text: ${text}`);
  assert.ok(text.includes(`k${SCRIPT}`), `attribute key as text: ${text}`);
  const structured = page.locator('.log-row').filter({ hasText: 'structured' });
  await structured.click();
  const pretty = await d.getByTestId('log-body').textContent();
  assert.deepEqual(JSON.parse(pretty), { structured: IMG, nested: { s: SCRIPT } }, 'a structured body is shown as its JSON');
  await assertInert(page, rec);
});

test('span names, attributes and events render as text in the waterfall and panel', async () => {
  const { page, rec } = await open(`/traces/${tr.traceId}`);
  await page.getByTestId('waterfall').waitFor();
  await page.getByText(`GET ${SCRIPT}`).first().waitFor();
  assert.equal(await page.getByTestId('trace-title').locator('.root-name').textContent(), `GET ${SCRIPT}`);
  const child = page.locator('.span-row').filter({ hasText: `child ${IMG}` });
  await child.click();
  const d = page.getByTestId('span-detail');
  await d.waitFor();
  assert.equal(await page.getByTestId('span-name').textContent(), `child ${IMG}`);
  const text = await d.textContent();
  assert.ok(text.includes(SCRIPT), 'attribute value');
  assert.ok(text.includes(`event ${SCRIPT}`), 'event name');
  await page.locator('.span-row').first().click();
  const rootText = await d.textContent();
  assert.ok(rootText.includes(`key${IMG}`) && rootText.includes(SVG), 'attribute key and value');
  await page.getByTestId('tab-logs').click();
  await page.getByTestId('trace-logs').getByText(`body ${SCRIPT} and ${IMG}`).waitFor();
  await assertInert(page, rec);
});

test('service names render as text on the services page, titles and chips', async () => {
  const { page, rec } = await open('/services');
  await page.getByTestId('services-table').getByText(SERVICE).first().waitFor();
  await page.goto(`${srv.uiUrl}/logs?service=${encodeURIComponent(SERVICE)}`);
  await settled(page);
  await page.locator('.log-row').first().waitFor();
  assert.equal(await page.getByTestId('filter-service').inputValue(), SERVICE);
  await assertInert(page, rec);
});

test('names render as text on the service map and a service\u2019s page', async () => {
  const { page, rec } = await open('/map');
  const svg = page.getByTestId('service-map');
  await svg.waitFor();
  const nodes = await svg.getByTestId('map-node').evaluateAll((gs) => gs.map((g) => ({
    id: g.dataset.id, name: g.querySelector('[data-testid="node-name"]').textContent, title: g.querySelector('title').textContent,
  })));
  const svc = nodes.find((n) => n.id === SERVICE);
  const db = nodes.find((n) => n.id === `database:${SCRIPT}@${IMG}`);
  assert.ok(svc && db, JSON.stringify(nodes));
  // long names are cut to fit the box; the tooltip has all of it
  assert.equal(svc.name, `${SERVICE.slice(0, 23)}…`);
  assert.ok(svc.title.startsWith(`${SERVICE} (service)`), svc.title);
  assert.ok(db.title.startsWith(`${SCRIPT}@${IMG} (database`), db.title);
  const conn = await page.getByTestId('map-connections').locator('tbody tr').first().textContent();
  assert.ok(conn.startsWith(`${SERVICE}${SCRIPT}@${IMG} database`), conn);
  await page.goto(`${srv.uiUrl}/service?name=${encodeURIComponent(SERVICE)}`);
  await settled(page);
  assert.equal(await page.getByTestId('service-title').textContent(), SERVICE);
  const op = page.getByTestId('ops-table').locator('tr.op-row');
  await op.first().waitFor();
  assert.deepEqual(await op.evaluateAll((trs) => trs.map((tr) => tr.dataset.op)), [`GET ${SCRIPT}`]);
  assert.equal(await op.getByTestId('op-traces').textContent(), `GET ${SCRIPT}`);
  await page.getByTestId('ops-rate-chart').getByTestId('legend-item').first().waitFor();
  assert.deepEqual(await page.getByTestId('ops-rate-chart').getByTestId('legend-item').locator('.legend-label').allTextContents(), [`GET ${SCRIPT}`]);
  await assertInert(page, rec);
});

test('hostile text in the URL is text too', async () => {
  const { page, rec } = await open(`/logs?q=${encodeURIComponent(IMG)}&attr=${encodeURIComponent(`a=${SCRIPT}`)}&traceId=${encodeURIComponent(SCRIPT)}`);
  assert.equal(await page.getByTestId('filter-q').inputValue(), IMG);
  await page.locator('.filter-chip').filter({ hasText: `a=${SCRIPT}` }).waitFor();
  await page.goto(`${srv.uiUrl}/traces/${encodeURIComponent(IMG)}`);
  await settled(page);
  await page.goto(`${srv.uiUrl}/metrics?metric=${encodeURIComponent(SCRIPT)}&mservice=${encodeURIComponent(IMG)}`);
  await settled(page);
  await assertInert(page, rec);
});
