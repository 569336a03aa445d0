// The web UI behind a real reverse proxy: loupe with --base-path /loupe and
// its token, Debian's nginx proxying /loupe/ to the UI port (the README's
// configuration, tests/interop/lib/nginx.mjs). Logging in with the token,
// the services page, the logs page with its live tail (the stream through
// the proxy), traces and a trace, metrics, deep links, the back button and
// the main navigation all work below the prefix, and the page never asks
// for anything outside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNginx } from '../interop/lib/nginx.mjs';
import { launch, openPage, settled, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendLogs, sendMetrics, sendShopTrace, SeverityNumber } from './lib/senders.mjs';

const TOKEN = 'proxy-browser-token-0123456789';
let srv;
let proxy;
let browser;
let exp;
let shop;
let ctx; // one logged-in browser context for the whole file

before(async () => {
  srv = await startServer({ auth: true, token: TOKEN, args: ['--base-path', '/loupe'] });
  proxy = await startNginx({ prefix: '/loupe', upstreamPort: srv.uiPort });
  exp = exporters(srv, 'http/protobuf');
  shop = await sendShopTrace(exp);
  const now = Date.now();
  await sendLogs(exp, 'checkout', [
    { body: 'cart loaded behind the proxy', severity: SeverityNumber.INFO, span: shop.spans.cart, time: now - 3000 },
  ]);
  await sendMetrics(exp, 'checkout', { rounds: 2 });
  browser = await launch();
});

after(async () => {
  if (ctx) await ctx.context.close().catch(() => {});
  await proxy?.stop();
  await tearDown({ browser, exp, srv });
});

const BASE = () => `${proxy.url}/loupe`;

// Every URL the page asked for is the proxy's and below /loupe/.
function allBelowPrefix(rec) {
  const outside = rec.requests.filter((u) => !u.startsWith(`${BASE()}/`) && !u.startsWith('data:'));
  assert.deepEqual(outside, [], 'requests outside the prefix');
}

function noErrors(rec) {
  assert.deepEqual(rec.errors, [], 'no uncaught exceptions in the page');
  assert.deepEqual(rec.csp, [], 'no CSP violations');
}

test('the login form takes the token; the session cookie is for /loupe', async () => {
  ctx = await openPage(browser);
  const { context, page, rec } = ctx;
  await page.goto(`${BASE()}/traces`);
  await page.waitForURL(`${BASE()}/login`);
  await page.locator('#token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${BASE()}/`);
  await settled(page);
  await page.getByTestId('services-table').locator('tr[data-service="checkout"]').waitFor();
  assert.deepEqual((await context.cookies(`${proxy.url}/`)).map((c) => c.name), [], 'no cookie outside /loupe');
  const sess = (await context.cookies(`${BASE()}/`)).find((c) => c.name === 'loupe_session');
  assert.ok(sess);
  assert.equal(sess.path, '/loupe');
  assert.equal(sess.httpOnly, true);
  allBelowPrefix(rec);
  noErrors(rec);
});

test('navigation, a trace, deep links and the back button stay below the prefix', async () => {
  const { page, rec } = ctx;
  await page.locator('#mainnav a[data-page="traces"]').click();
  await page.waitForURL(/\/loupe\/traces(\?|$)/);
  await settled(page);
  const row = page.locator(`tr[data-trace-id="${shop.traceId}"]`);
  await row.waitFor();
  await row.getByTestId('trace-link').click();
  await page.waitForURL(new RegExp(`/loupe/traces/${shop.traceId}`));
  await page.getByTestId('waterfall').waitFor();
  assert.match(await page.getByTestId('trace-title').textContent(), /GET \/orders\/\{id\}/);
  // the trace's logs link, then back twice
  await page.getByTestId('trace-logs-link').click();
  await page.waitForURL(/\/loupe\/logs\?/);
  await page.locator('.log-row').filter({ hasText: 'cart loaded behind the proxy' }).waitFor();
  await page.goBack();
  await page.waitForURL(new RegExp(`/loupe/traces/${shop.traceId}`));
  await page.getByTestId('waterfall').waitFor();
  await page.goBack();
  await page.waitForURL(/\/loupe\/traces(\?|$)/);
  await page.locator(`tr[data-trace-id="${shop.traceId}"]`).waitFor();
  // a deep link opened fresh (a reload): the same trace
  await page.goto(`${BASE()}/traces/${shop.traceId}`);
  await settled(page);
  await page.getByTestId('waterfall').waitFor();
  // keyboard navigation ("g" then "m") goes to the prefixed metrics page
  await page.keyboard.press('g');
  await page.keyboard.press('m');
  await page.waitForURL(/\/loupe\/metrics$/);
  allBelowPrefix(rec);
  noErrors(rec);
});

test('the logs page tails live through the proxy', async () => {
  const { page, rec } = ctx;
  await page.goto(`${BASE()}/logs?service=tail`);
  await settled(page);
  assert.equal(await page.getByTestId('live-state').textContent(), 'Live');
  // the stream is open through nginx (not the polling fallback)
  const deadline = Date.now() + 5000;
  while (!rec.requests.some((u) => u.startsWith(`${BASE()}/api/v1/live?`))) {
    assert.ok(Date.now() < deadline, 'the page opened the live stream');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 1; i <= 2; i++) {
    const body = `tail through nginx ${i} ${Date.now()}`;
    const sent = Date.now();
    await sendLogs(exp, 'tail', [{ body, severity: SeverityNumber.WARN, time: Date.now() }]);
    await page.locator('.log-row').filter({ hasText: body }).waitFor({ timeout: 3000 });
    assert.ok(Date.now() - sent < 3000);
  }
  allBelowPrefix(rec);
  noErrors(rec);
});

test('the metrics page charts an instrument below the prefix', async () => {
  const { page, rec } = ctx;
  await page.goto(`${BASE()}/metrics?metric=shop.orders&mservice=checkout`);
  await settled(page);
  await page.getByTestId('chart').locator('canvas').waitFor();
  assert.equal(await page.getByTestId('metric-title').textContent(), 'shop.orders');
  // the lazily loaded chart library came from below the prefix too
  assert.ok(rec.requests.some((u) => /\/loupe\/js\/vendor\/uplot\.[0-9a-f]{10}\.js$/.test(u)));
  allBelowPrefix(rec);
  noErrors(rec);
});

test('a stale session goes back to the prefixed login page', async () => {
  const { context, page } = ctx;
  await context.clearCookies();
  await page.goto(`${BASE()}/services`);
  await page.waitForURL(`${BASE()}/login`);
  assert.match(await page.locator('form').getAttribute('action'), /^\/loupe\/login$/);
});
