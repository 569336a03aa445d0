// Live views against the real loupe: a log sent while the logs page is open
// appears within a couple of seconds (through /api/v1/live, or the page's
// polling fallback when the server has no stream); pause and resume; new
// traces arrive on the traces page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { launch, onePageAtATime, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendLogs, sendSimpleTrace, SeverityNumber } from './lib/senders.mjs';

let srv;
let browser;
let exp;
const pages = onePageAtATime();

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  await sendLogs(exp, 'tail', [{ body: 'first record before the page opened', severity: SeverityNumber.INFO }]);
  await sendSimpleTrace(exp, 'tail', 'GET /before');
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path) => pages.open(browser, srv.uiUrl + path);

test('live tail shows a new log within a couple of seconds', async () => {
  const { page, rec } = await open('/logs');
  await page.locator('.log-row').filter({ hasText: 'first record before the page opened' }).waitFor();
  assert.equal(await page.getByTestId('live-state').textContent(), 'Live');
  for (let i = 1; i <= 3; i++) {
    const body = `live record ${i} ${Date.now()}`;
    const sent = Date.now();
    await sendLogs(exp, 'tail', [{ body, severity: SeverityNumber.WARN, time: Date.now() }]);
    await page.locator('.log-row').filter({ hasText: body }).waitFor({ timeout: 3000 });
    assert.ok(Date.now() - sent < 3000);
    // newest on top
    assert.match(await page.locator('.log-row').first().textContent(), new RegExp(body));
  }
  assert.equal(await page.locator('.log-row').count(), 4);
  assert.deepEqual(rec.errors, []);
});

// Exporters of several services deliver at their own pace, so records reach
// loupe out of time order. Each one must land in its time position (the
// API's order: time descending, then arrival), without a reload.
test('live records take their time position, not their arrival position', async () => {
  const { page, rec } = await open('/logs?service=order');
  await page.getByText('No logs match these filters').waitFor();
  const asked = rec.requests.length;
  const t0 = Date.now() - 5000;
  await sendLogs(exp, 'order', [
    { body: `order late ${t0}`, time: t0 + 400 },
    { body: `order early ${t0}`, time: t0 },
  ]);
  await page.locator('.log-row').filter({ hasText: `order early ${t0}` }).waitFor({ timeout: 3000 });
  // between the two, then before both, then older than both
  const bodies = (list) => list.map((t) => /order (\w+) /.exec(t)[1]);
  for (const [word, dt] of [['middle', 200], ['newest', 600], ['oldest', -300]]) {
    await sendLogs(exp, 'order', [{ body: `order ${word} ${t0}`, time: t0 + dt }]);
    await page.locator('.log-row').filter({ hasText: `order ${word} ${t0}` }).waitFor({ timeout: 3000 });
  }
  const shown = bodies(await page.locator('.log-row .cell-msg').allTextContents());
  assert.deepEqual(shown, ['newest', 'late', 'middle', 'early', 'oldest']);
  const api = await getJson(srv, '/api/v1/logs?service=order');
  assert.deepEqual(bodies(api.body.logs.map((l) => l.body)), shown, 'the page shows the API\'s order');
  // merged in place: the page never read the whole list again (one read
  // at load and one head read per arrival at most, all with limit=200)
  const reads = rec.requests.slice(asked).filter((u) => /\/api\/v1\/logs\?/.test(u));
  assert.ok(reads.every((u) => /limit=200/.test(u)), reads.join('\n'));
  assert.deepEqual(rec.errors, []);
});

test('pausing the tail keeps the view; resuming brings what arrived meanwhile', async () => {
  const { page, rec } = await open('/logs');
  await page.locator('.log-row').first().waitFor();
  await page.getByTestId('live-toggle').click();
  await page.waitForURL(/live=0/);
  assert.equal(await page.getByTestId('live-state').textContent(), 'Paused');
  const body = `sent while paused ${Date.now()}`;
  const asked = rec.requests.length;
  await sendLogs(exp, 'tail', [{ body, severity: SeverityNumber.INFO, time: Date.now() }]);
  // the view is kept: for the 3 s a live page takes to show a record (the
  // bound the live tests use), the record stays out and the page asks
  // nothing about logs
  await assert.rejects(page.locator('.log-row').filter({ hasText: body }).waitFor({ timeout: 3000 }), /Timeout/);
  assert.deepEqual(rec.requests.slice(asked).filter((u) => /\/api\/v1\/(logs|live)\b/.test(u)), [], 'no log reads while paused');
  await page.getByTestId('live-toggle').click();
  await page.waitForURL((u) => !u.search.includes('live=0'));
  assert.equal(await page.getByTestId('live-state').textContent(), 'Live');
  await page.locator('.log-row').filter({ hasText: body }).waitFor({ timeout: 3000 });
  assert.deepEqual(rec.errors, []);
});

test('live tail respects the filters', async () => {
  const { page, rec } = await open('/logs?minSeverity=error');
  await page.getByText('No logs match these filters').waitFor();
  const stamp = Date.now();
  await sendLogs(exp, 'tail', [
    { body: `info ${stamp} stays out`, severity: SeverityNumber.INFO, time: stamp },
    { body: `error ${stamp} comes in`, severity: SeverityNumber.ERROR, time: stamp + 1 },
  ]);
  await page.locator('.log-row').filter({ hasText: `error ${stamp} comes in` }).waitFor({ timeout: 3000 });
  assert.equal(await page.locator('.log-row').filter({ hasText: `info ${stamp}` }).count(), 0);
  assert.deepEqual(rec.errors, []);
});

test('new traces arrive on the traces page (GET /api/v1/traces)', async () => {
  const { page, rec } = await open('/traces');
  await page.getByTestId('trace-table').waitFor();
  const name = `GET /arrived/${Date.now()}`;
  const { traceId } = await sendSimpleTrace(exp, 'tail', name, { base: Date.now() - 10 });
  const row = page.locator(`tr[data-trace-id="${traceId}"]`);
  await row.waitFor({ timeout: 4000 });
  assert.match(await row.textContent(), new RegExp(name));
  assert.deepEqual(rec.errors, []);
});

test('a live trace that started earlier than those shown goes below them', async () => {
  const { page, rec } = await open('/traces?service=late');
  await page.getByText('No traces match this search').waitFor();
  const now = Date.now();
  const newer = await sendSimpleTrace(exp, 'late', 'GET /newer', { base: now - 2000 });
  await page.locator(`tr[data-trace-id="${newer.traceId}"]`).waitFor({ timeout: 4000 });
  const older = await sendSimpleTrace(exp, 'late', 'GET /older', { base: now - 8000 });
  await page.locator(`tr[data-trace-id="${older.traceId}"]`).waitFor({ timeout: 4000 });
  const ids = await page.locator('tr.trace-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.traceId));
  assert.deepEqual(ids, [newer.traceId, older.traceId], 'the API order: start time, newest first');
  assert.deepEqual(rec.errors, []);
});
