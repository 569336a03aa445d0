// Token auth in the browser: the printed login URL logs in (an HttpOnly,
// SameSite=Strict session cookie), reloads keep the session, a browser
// without the cookie sees the login page, the form logs in, and an API call
// refused with 401 (a stale session) takes the UI back to /login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, settled, stopChecked, startServer } from './lib/browser.mjs';
import { exporters, sendShopTrace } from './lib/senders.mjs';

let srv;
let browser;
let exp;

before(async () => {
  srv = await startServer({ auth: true });
  exp = exporters(srv, 'http/protobuf');
  await sendShopTrace(exp);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
});

// Records the UI-port responses with status 401.
function watch401(page) {
  const seen = [];
  page.on('response', (r) => { if (r.status() === 401) seen.push(r.url()); });
  return seen;
}

async function servicesVisible(page) {
  await settled(page);
  const table = page.getByTestId('services-table');
  await table.waitFor();
  assert.match(await table.textContent(), /checkout/);
}

test('the printed login URL logs in; the cookie is HttpOnly and SameSite=Strict; reload works', async () => {
  assert.ok(srv.loginUrl, srv.stdout);
  const { context, page, rec } = await openPage(browser);
  const refused = watch401(page);
  await page.goto(srv.loginUrl);
  // the token leaves the address bar: the server redirected to /
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  assert.ok(!page.url().includes(srv.token), page.url());
  await servicesVisible(page);

  const cookies = await context.cookies(srv.uiUrl);
  const sess = cookies.find((c) => c.name === 'loupe_session');
  assert.ok(sess, JSON.stringify(cookies));
  assert.equal(sess.httpOnly, true);
  assert.equal(sess.sameSite, 'Strict');
  assert.equal(sess.path, '/');
  assert.equal(sess.expires, -1, 'a session cookie');
  assert.notEqual(sess.value, srv.token);
  assert.equal(await page.evaluate(() => document.cookie), '', 'not visible to scripts');

  await page.reload();
  assert.ok(!new URL(page.url()).pathname.startsWith('/login'));
  await servicesVisible(page);
  // other pages and their API calls (and the live stream) go through
  await page.goto(`${srv.uiUrl}/traces`);
  await settled(page);
  assert.ok(!new URL(page.url()).pathname.startsWith('/login'));
  assert.deepEqual(refused, []);
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(rec.csp, []);

  // a session that stops being valid (cookie gone, or loupe restarted):
  // the next API call answers 401 and the UI goes to the login page
  await context.clearCookies();
  await page.locator('#mainnav a[data-page="services"]').click();
  await page.waitForURL((u) => u.pathname === '/login');
  await page.locator('form input[name="token"]').waitFor();
  // it was the app reacting to an API 401 (an in-app navigation), not a
  // server redirect of a page load
  assert.ok(refused.some((u) => u.includes('/api/v1/')), JSON.stringify(refused));
  await context.close();
});

test('without the cookie the UI shows the login page; typing the token logs in', async () => {
  const { context, page, rec } = await openPage(browser);
  await page.goto(`${srv.uiUrl}/traces`);
  await page.waitForURL((u) => u.pathname === '/login');
  const input = page.locator('input[name="token"]');
  await input.waitFor();
  assert.equal(await input.getAttribute('type'), 'password');
  assert.deepEqual(await context.cookies(srv.uiUrl), []);

  // a wrong token: the page again, with a message, and no cookie
  await input.fill('not-the-token-at-all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#login-error').waitFor();
  assert.match(await page.locator('#login-error').textContent(), /not the right token/);
  assert.deepEqual(await context.cookies(srv.uiUrl), []);

  await page.locator('input[name="token"]').fill(srv.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await servicesVisible(page);
  assert.ok((await context.cookies(srv.uiUrl)).some((c) => c.name === 'loupe_session'));
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(rec.csp, [], 'the login page needs no inline script or style');
  await context.close();
});

test('a made-up session cookie does not get in', async () => {
  const { context, page } = await openPage(browser);
  await context.addCookies([{ name: 'loupe_session', value: '0123456789abcdef0123456789abcdef', url: srv.uiUrl }]);
  await page.goto(`${srv.uiUrl}/services`);
  await page.waitForURL((u) => u.pathname === '/login');
  await page.locator('input[name="token"]').waitFor();
  await context.close();
});
