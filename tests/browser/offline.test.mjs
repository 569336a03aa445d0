// The UI works with no internet: every request any page makes goes to loupe
// itself (no CDN, fonts or analytics), the first load is small and
// compressed, hashed assets are cached for good, and nothing breaks the CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, settled, stopChecked, startServer } from './lib/browser.mjs';
import { exporters, sendLogs, sendMetrics, sendShopTrace, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;
let shop;

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  shop = await sendShopTrace(exp);
  await sendLogs(exp, 'checkout', [{ body: 'hello', severity: SeverityNumber.INFO, span: shop.spans.cart }]);
  await sendMetrics(exp, 'checkout', { rounds: 2 });
});

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
});

test('every request of every page goes to loupe itself', async () => {
  const { context, page, rec } = await openPage(browser);
  // anything not for loupe is refused, so a stray request also fails loudly
  const foreign = [];
  await context.route((url) => !url.href.startsWith(srv.uiUrl) && !url.href.startsWith('blob:') && !url.href.startsWith('data:'), (r) => {
    foreign.push(r.request().url());
    return r.abort();
  });
  const pages = ['/', '/services', '/map', '/service?name=checkout', '/logs', '/traces', `/traces/${shop.traceId}?span=${shop.spanIds.charge}`,
    `/traces/${shop.traceId}?view=flame&cp=1`, `/traces/${shop.traceId}?view=stats`,
    `/compare?a=${shop.traceId}&b=${shop.traceId}`, '/genai', '/metrics', '/metrics?metric=shop.checkout.duration&mservice=checkout', '/metrics?metric=shop.orders&mservice=checkout&view=table', 
    '/ingest', '/ingest?view=clients', '/lint', '/no/such/page'];
  for (const p of pages) {
    await page.goto(srv.uiUrl + p);
    await settled(page);
  }
  // dialogs and panels too
  await page.goto(`${srv.uiUrl}/logs`);
  await settled(page);
  await page.locator('.log-row').first().click();
  await page.getByTestId('log-detail').waitFor();
  await page.keyboard.press('?');
  await page.locator('dialog.help').waitFor();
  await page.keyboard.press('Escape');
  await page.getByTestId('clear-telemetry').click();
  await page.getByTestId('clear-signal').waitFor();
  await page.keyboard.press('Escape');
  await page.getByTestId('theme-toggle').click();
  assert.deepEqual(foreign, [], 'requests outside loupe');
  assert.ok(rec.requests.length > 10, 'requests were recorded');
  for (const u of rec.requests) {
    assert.ok(u.startsWith(srv.uiUrl) || u.startsWith('blob:') || u.startsWith('data:'), `request to ${u}`);
  }
  assert.deepEqual(rec.csp, [], 'no CSP violations');
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test('the first load is under 300 KB compressed; assets are gzip with long-lived caching', async () => {
  const { context, page } = await openPage(browser);
  const done = [];
  page.on('requestfinished', (r) => done.push(r));
  await page.goto(`${srv.uiUrl}/services`);
  await settled(page);
  let total = 0;
  const seen = [];
  for (const r of done) {
    const res = await r.response();
    const sizes = await r.sizes();
    total += sizes.responseBodySize + sizes.responseHeadersSize;
    const url = new URL(r.url());
    seen.push(url.pathname);
    if (/\.(js|css)$/.test(url.pathname)) {
      const h = res.headers();
      assert.equal(h['content-encoding'], 'gzip', `${url.pathname} is gzip`);
      assert.match(url.pathname, /\.[0-9a-f]{8,}\.(js|css)$/, `${url.pathname} has a content hash`);
      assert.equal(h['cache-control'], 'public, max-age=31536000, immutable', `${url.pathname} is cached for good`);
    }
  }
  assert.ok(seen.some((p) => p.endsWith('.css')) && seen.some((p) => /\/js\/app\.[0-9a-f]+\.js$/.test(p)), seen.join(' '));
  assert.ok(total < 300 * 1024, `first load transferred ${total} bytes`);
  await context.close();
});
