// A fresh loupe shows how to point an app at it (copyable endpoint), and
// telemetry can be cleared from the UI after a confirmation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { assertOnboarding, launch, openPage, settled, stopChecked, startServer } from './lib/browser.mjs';
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
  for (const [p, what] of [['/services', 'telemetry'], ['/logs', 'logs'], ['/traces', 'traces'], ['/metrics', 'metrics']]) {
    await page.goto(srv.uiUrl + p);
    await settled(page);
    assert.deepEqual(await page.locator('.state-error').allTextContents(), [], `${p}: no error state`);
    await assertOnboarding(page, srv, what);
  }
  await page.goto(`${srv.uiUrl}/services`);
  await settled(page);
  const ob = await assertOnboarding(page, srv);
  await ob.locator('.codeline').first().locator('[data-copy]').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${srv.grpcPort}`);
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test('clearing telemetry asks first, then deletes (DELETE /api/v1/telemetry)', async () => {
  const shop = await sendShopTrace(exp);
  await sendLogs(exp, 'checkout', [{ body: 'to be cleared', severity: SeverityNumber.INFO, span: shop.spans.cart }]);
  await sendLogs(exp, 'payments', [{ body: 'to be kept', severity: SeverityNumber.WARN, span: shop.spans.charge }]);
  const logBodies = async () => (await getJson(srv, '/api/v1/logs')).body.logs.map((l) => `${l.service}: ${l.body}`).sort();
  const { context, page, rec } = await openPage(browser);
  await page.goto(`${srv.uiUrl}/services`);
  await page.getByTestId('services-table').waitFor();
  // cancelling deletes nothing
  await page.getByTestId('clear-telemetry').click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  assert.equal((await getJson(srv, '/api/v1/services')).body.services.length, 3);
  assert.deepEqual(await logBodies(), ['checkout: to be cleared', 'payments: to be kept']);
  // only the logs of one service
  await page.getByTestId('clear-telemetry').click();
  await page.getByTestId('clear-signal').selectOption('logs');
  await page.getByTestId('clear-service').locator('option[value="checkout"]').waitFor({ state: 'attached' });
  await page.getByTestId('clear-service').selectOption('checkout');
  await page.getByTestId('clear-confirm').click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  assert.deepEqual(await logBodies(), ['payments: to be kept'], 'only the checkout logs cleared');
  assert.equal((await getJson(srv, `/api/v1/traces/${shop.traceId}`)).status, 200, 'traces kept');
  // everything
  await page.getByTestId('clear-telemetry').click();
  await page.getByTestId('clear-confirm').click();
  await assertOnboarding(page, srv);
  assert.equal((await getJson(srv, `/api/v1/traces/${shop.traceId}`)).status, 404);
  assert.deepEqual(await logBodies(), []);
  assert.deepEqual((await getJson(srv, '/api/v1/services')).body.services, []);
  assert.deepEqual(rec.errors, []);
  await context.close();
});
