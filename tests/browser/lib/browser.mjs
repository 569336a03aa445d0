// browser.mjs - headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core for the web UI tests, with the page's errors, dialogs and
// requests recorded so tests can assert on them.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { getJson, startLoupe } from '../../interop/lib/server.mjs';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHOTS_DIR = path.join(ROOT, 'test-results/screenshots');
export const DOCS_SHOTS_DIR = path.join(ROOT, 'docs/screenshots');

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

// A new page in its own context. Records: errors (uncaught exceptions),
// dialogs (alert/confirm/prompt: a sign of executed script), requests (every
// URL the page asked for), csp (CSP violation reports from the console).
export async function openPage(browser, { colorScheme = 'light', viewport = { width: 1400, height: 860 }, acceptDownloads = false } = {}) {
  const context = await browser.newContext({ colorScheme, viewport, acceptDownloads, serviceWorkers: 'block' });
  const page = await context.newPage();
  const rec = { errors: [], dialogs: [], requests: [], csp: [], console: [] };
  page.on('pageerror', (e) => rec.errors.push(e.message));
  page.on('dialog', (d) => { rec.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('request', (r) => rec.requests.push(r.url()));
  page.on('console', (m) => {
    const text = m.text();
    rec.console.push(`${m.type()}: ${text}`);
    if (/Content Security Policy/i.test(text)) rec.csp.push(text);
  });
  page.setDefaultTimeout(10000);
  return { context, page, rec };
}

// Pages opened one at a time (an earlier test's page would keep polling):
// open(browser, url, opts) closes the page opened before, opens url in a
// new context and waits until the app has rendered; closeAll() at the end.
export function onePageAtATime() {
  const opened = [];
  const closeAll = async () => { while (opened.length) await opened.pop().context.close().catch(() => {}); };
  return {
    closeAll,
    async open(browser, url, opts) {
      await closeAll();
      const o = await openPage(browser, opts);
      opened.push(o);
      await o.page.goto(url);
      await settled(o.page);
      return o;
    },
  };
}

// Saves a screenshot as test-results/screenshots/NAME.png; with
// LOUPE_UPDATE_SCREENSHOTS=1 also copies it to docs/screenshots/.
export async function screenshot(page, name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const file = path.join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.LOUPE_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SHOTS_DIR, { recursive: true });
    copyFileSync(file, path.join(DOCS_SHOTS_DIR, `${name}.png`));
  }
  return file;
}

// Waits until the app has rendered a page (the view has content and no
// loading spinner left).
export async function settled(page) {
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    return v && v.dataset.page && v.childElementCount > 0 && !v.querySelector('.state-loading');
  });
}

// The languages the onboarding has a snippet for, in tab order.
export const ONBOARDING_LANGS = ['node', 'python', 'java', 'dotnet', 'go', 'collector'];

// What the onboarding block prints, as text: the lines to copy, the claim
// about the any-protocol port, each language's snippet, and the endpoints
// table (the OTLP/HTTP row with its protocols).
export async function onboardingText(ob) {
  return {
    lines: await ob.locator('.codeline code').allTextContents(),
    any: await ob.getByTestId('onboarding-any').textContent(),
    snippets: await ob.getByTestId('onboarding-snippet').evaluateAll((els) => els.map((e) => ({
      lang: e.dataset.lang, code: e.querySelector('code').textContent, note: e.querySelector('p').textContent,
    }))),
    anyEndpoint: await ob.getByTestId('grpc-endpoint').textContent(),
    httpEndpoint: await ob.getByTestId('http-endpoint').textContent(),
    httpProtocols: await ob.getByTestId('http-protocols').textContent(),
  };
}

// Asserts the onboarding block of an empty page: the heading names `what`,
// and the endpoints to copy carry the OTLP ports the server reports at
// GET /api/v1/info (which must be the ports it was started on), not the
// defaults, in the lines to copy, every language's snippet and the table.
// Returns the onboarding locator.
export async function assertOnboarding(page, srv, what = 'telemetry') {
  const info = await getJson(srv, '/api/v1/info');
  assert.equal(info.status, 200);
  assert.equal(info.body.otlpGrpcPort, srv.grpcPort, 'GET /api/v1/info: the gRPC port');
  assert.equal(info.body.otlpHttpPort, srv.httpPort, 'GET /api/v1/info: the HTTP port');
  const { otlpGrpcPort: grpc, otlpHttpPort: http } = info.body;
  const ob = page.getByTestId('onboarding');
  // drawn with the defaults first, again once /api/v1/info has answered
  await ob.getByTestId('grpc-endpoint').filter({ hasText: `127.0.0.1:${grpc}` }).waitFor();
  assert.equal(await ob.locator('h2').textContent(), `No ${what} yet`);
  const t = await onboardingText(ob);
  assert.deepEqual(t.lines, [`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${grpc}`, 'OTEL_SERVICE_NAME=my-service']);
  assert.match(t.any, new RegExp(`^Port ${grpc} takes every OTLP protocol .*Use http://, not https://`));
  assert.deepEqual(t.snippets.map((x) => x.lang), ONBOARDING_LANGS);
  for (const { lang, code } of t.snippets) {
    assert.ok(code.includes(`127.0.0.1:${grpc}`), `${lang}: the real port`);
    assert.ok(!/https:/.test(code), `${lang}: no TLS`);
    if (lang !== 'collector') assert.match(code, /^export OTEL_SERVICE_NAME=my-service$/m, lang);
  }
  assert.equal(t.anyEndpoint, `http://127.0.0.1:${grpc}`);
  assert.equal(t.httpEndpoint, `http://127.0.0.1:${http}/v1/traces, /v1/logs, /v1/metrics`);
  assert.ok(!(await ob.textContent()).includes('default ports'), 'no caveat once the ports are known');
  return ob;
}

// Asserts a page recorded no uncaught exception, no dialog (a sign of
// executed script) and no CSP violation.
export function noErrors(rec) {
  assert.deepEqual(rec.errors, [], 'no uncaught exceptions in the page');
  assert.deepEqual(rec.dialogs, [], 'no dialogs');
  assert.deepEqual(rec.csp, [], 'no CSP violations');
}

// Stops loupe and fails when it did not exit cleanly (a sanitizer report in
// ASan builds makes the exit status non-zero).
export async function stopChecked(srv) {
  if (!srv) return;
  const { code, signal } = await srv.stop();
  if (code !== 0) throw new Error(`loupe exited with code ${code} (signal ${signal})\n${srv.stderr.slice(-4000)}`);
}

// The end of a test file: its pages, the browser, the exporters, then
// loupe, which must exit cleanly (stopChecked).
export async function tearDown({ pages, browser, exp, srv }) {
  if (pages) await pages.closeAll();
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
}

// startLoupe() picks three distinct free ports and closes its probe sockets
// before loupe binds them, so another process on the machine can take one
// in between; such a start fails with "Address already in use" and is
// retried (at most three times).
export async function startServer(opts) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLoupe(opts);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String(e.message))) throw e;
    }
  }
}
