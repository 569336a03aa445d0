// A fresh loupe shows how to point an app at it (copyable endpoint), and
// telemetry can be cleared from the UI after a confirmation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { launch, openPage, settled, stopChecked, startServer } from './lib/browser.mjs';
import { exporters, sendLogs, sendShopTrace, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
});

test('an empty loupe shows the OTLP endpoint to use, with a copy button', async () => {
  const { context, page, rec } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.uiUrl });
  for (const p of ['/services', '/logs', '/traces', '/metrics']) {
    await page.goto(srv.uiUrl + p);
    await settled(page);
    if (p === '/traces' && await page.locator('.state-error').count()) continue; // without trace search the page says so
    const ob = page.getByTestId('onboarding');
    await ob.waitFor();
    // the ports this server really listens on (GET /api/v1/info), not the defaults
    await page.getByTestId('grpc-endpoint').filter({ hasText: `127.0.0.1:${srv.grpcPort}` }).waitFor();
    assert.ok((await ob.textContent()).includes(`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${srv.grpcPort}`), `${p} shows the endpoint`);
    assert.ok(!(await ob.textContent()).includes('default ports'), `${p}: no caveat once the ports are known`);
  }
  await page.goto(`${srv.uiUrl}/services`);
  await settled(page);
  await page.getByTestId('grpc-endpoint').filter({ hasText: `127.0.0.1:${srv.grpcPort}` }).waitFor();
  const line = page.locator('.codeline').first();
  await line.locator('[data-copy]').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${srv.grpcPort}`);
  assert.equal(await page.getByTestId('http-endpoint').textContent(), `http://127.0.0.1:${srv.httpPort}/v1/traces, /v1/logs, /v1/metrics`);
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test('clearing telemetry asks first, then deletes (DELETE /api/v1/telemetry)', async () => {
  const shop = await sendShopTrace(exp);
  await sendLogs(exp, 'checkout', [{ body: 'to be cleared', severity: SeverityNumber.INFO, span: shop.spans.cart }]);
  const { page, rec } = await openPage(browser);
  await page.goto(`${srv.uiUrl}/services`);
  await page.getByTestId('services-table').waitFor();
  // cancelling deletes nothing
  await page.getByTestId('clear-telemetry').click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await getJson(srv, '/api/v1/services')).body.services.length, 3);
  // only the logs of one service
  await page.getByTestId('clear-telemetry').click();
  await page.getByTestId('clear-signal').selectOption('logs');
  await page.getByTestId('clear-service').locator('option[value="checkout"]').waitFor({ state: 'attached' });
  await page.getByTestId('clear-service').selectOption('checkout');
  await page.getByTestId('clear-confirm').click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  assert.equal((await getJson(srv, '/api/v1/logs')).body.logs.length, 0, 'logs cleared');
  assert.ok((await getJson(srv, `/api/v1/traces/${shop.traceId}`)).status === 200, 'traces kept');
  // everything
  await page.getByTestId('clear-telemetry').click();
  await page.getByTestId('clear-confirm').click();
  await page.getByTestId('onboarding').waitFor();
  assert.equal((await getJson(srv, `/api/v1/traces/${shop.traceId}`)).status, 404);
  assert.deepEqual(rec.errors, []);
});
