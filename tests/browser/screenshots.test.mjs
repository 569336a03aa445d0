// Screenshots of each page in the light and dark themes, with a small shop
// sending traces, logs and metrics through the official exporters. Saved as
// test-results/screenshots/PAGE-THEME.png (LOUPE_UPDATE_SCREENSHOTS=1 also
// copies them to docs/screenshots/ for the README). Each shot first checks
// that the page shows what it should, so a blank page never passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe } from '../interop/lib/server.mjs';
import { launch, openPage, screenshot, settled } from './lib/browser.mjs';
import { exporters, sendLogs, sendMetrics, sendShopTrace, sendSimpleTrace, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;
let shop;

before(async () => {
  srv = await startLoupe();
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
  shop = await sendShopTrace(exp, { base: now - 30000 });
  const records = [];
  const bodies = ['user signed in', 'cart loaded with 3 items', 'price cache refreshed', 'GET /products 200 in 41 ms',
    'slow query on cart table', 'retrying payment provider', 'inventory sync done'];
  for (let i = 0; i < 40; i++) {
    records.push({
      body: bodies[i % bodies.length],
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
});

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  if (srv) await srv.stop();
});

const SHOTS = [
  ['services', '/services', async (page) => { await page.getByTestId('services-table').waitFor(); }],
  ['logs', '/logs', async (page) => {
    await page.locator('.log-row').first().waitFor();
    await page.locator('.log-row').filter({ hasText: 'card declined by issuer' }).click();
    await page.getByTestId('log-detail').waitFor();
  }],
  ['traces', '/traces', async (page) => { await page.locator('.trace-table, .state-error').first().waitFor(); }],
  ['trace', () => `/traces/${shop.traceId}?span=${shop.spanIds.charge}`, async (page) => {
    await page.getByTestId('span-detail').waitFor();
  }],
  ['metrics', '/metrics?metric=shop.orders&mservice=checkout', async (page) => {
    await page.getByTestId('chart').locator('canvas, .state-error').first().waitFor();
  }],
  ['metrics-histogram', '/metrics?metric=shop.checkout.duration&mservice=checkout', async (page) => {
    await page.getByTestId('chart').locator('canvas, .state-error').first().waitFor();
  }],
];

for (const scheme of ['light', 'dark']) {
  test(`screenshots of every page, ${scheme} theme`, async () => {
    const { context, page, rec } = await openPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    for (const [name, path, ready] of SHOTS) {
      await page.goto(srv.uiUrl + (typeof path === 'function' ? path() : path));
      await settled(page);
      await ready(page);
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), scheme);
      await screenshot(page, `${name}-${scheme}`);
    }
    assert.deepEqual(rec.errors, []);
    await context.close();
  });
}

test('screenshot of the empty state', async () => {
  const empty = await startLoupe();
  try {
    for (const scheme of ['light', 'dark']) {
      const { context, page } = await openPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
      await page.goto(`${empty.uiUrl}/services`);
      await page.getByTestId('onboarding').waitFor();
      await screenshot(page, `empty-${scheme}`);
      await context.close();
    }
  } finally {
    await empty.stop();
  }
});
