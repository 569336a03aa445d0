// The Logs page's Patterns view: log records sent with the official
// exporters show as their templates (placeholders marked, hostile text as
// text), by count or new in the time range; a pattern opens its records; the
// records view collapses runs of one pattern and links a record to its
// pattern's records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, onePageAtATime, settled, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendLogs, SeverityNumber } from './lib/senders.mjs';

const SCRIPT = '<script>alert("xss-script")</script>';
const IMG = '<img src=x onerror=alert(1)>';

// what the masks make of `body ${SCRIPT} and ${IMG}`
const HOSTILE = 'body <script>alert("<*>")</script> and <img src=x onerror=alert(<NUM>)>';

let srv;
let browser;
let exp;
const pages = onePageAtATime();

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  const old = now - 2 * 3600e3; // outside the default range (the last hour)
  const records = [];
  // seen two hours ago and now: not new in the last hour
  for (let i = 0; i < 3; i++) records.push({ body: `GET /api/cart/${100 + i} 200 in ${10 + i} ms`, time: old + i });
  for (let i = 0; i < 12; i++) records.push({ body: `GET /api/cart/${200 + i} 200 in ${20 + i} ms`, time: now - 600000 + i * 1000 });
  // only now: new
  for (let i = 0; i < 5; i++) {
    records.push({ body: `payment pay-${(0xa1b2c300 + i).toString(16)} declined: card ending ${1000 + i}`, severity: SeverityNumber.ERROR, time: now - 300000 + i * 10 });
  }
  records.push({ body: `body ${SCRIPT} and ${IMG}`, severity: SeverityNumber.WARN, time: now - 200000 });
  await sendLogs(exp, 'checkout', records);
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path) => pages.open(browser, srv.uiUrl + path);

async function patternRows(page) {
  const table = page.getByTestId('pattern-table');
  await table.waitFor();
  return table.locator('tr.pattern-row').evaluateAll((trs) => trs.map((tr) => ({
    id: tr.dataset.patternId,
    template: tr.querySelector('.template').textContent,
    count: tr.cells[0].textContent,
    placeholders: [...tr.querySelectorAll('.template .ph')].map((s) => s.textContent),
    isNew: !!tr.querySelector('.badge-new'),
  })));
}

test('patterns by count, templates as text with placeholders marked', async () => {
  const { page, rec } = await open('/logs?view=patterns');
  await settled(page);
  const rows = await patternRows(page);
  assert.deepEqual(rows.map((r) => [r.template, r.count]), [
    ['GET <PATH> <NUM> in <NUM> ms', '12'],
    ['payment pay-<HEX> declined: card ending <NUM>', '5'],
    [HOSTILE, '1'],
  ]);
  assert.deepEqual(rows[0].placeholders, ['<PATH>', '<NUM>', '<NUM>']);
  assert.deepEqual(rows.map((r) => r.isNew), [false, true, true]);
  assert.equal(await page.getByTestId('pattern-count').textContent(), '3 patterns');
  // the hostile template is text: nothing of it became an element
  const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], #view script').length);
  assert.equal(injected, 0);
  assert.deepEqual(rec.dialogs, []);
  assert.deepEqual(rec.errors, []);
});

test('new in this range: only templates first seen in it', async () => {
  const { page } = await open('/logs?view=patterns');
  await settled(page);
  await page.getByTestId('sort-new').click();
  await page.waitForURL(/sort=new/);
  await settled(page);
  const rows = await patternRows(page);
  assert.deepEqual(rows.map((r) => r.template).sort(), [
    HOSTILE,
    'payment pay-<HEX> declined: card ending <NUM>',
  ].sort());
});

test('a pattern opens its records; runs of one pattern collapse', async () => {
  const { page, rec } = await open('/logs?view=patterns');
  await settled(page);
  const rows = await patternRows(page);
  await page.locator('tr.pattern-row').filter({ hasText: 'payment pay-' }).getByTestId('pattern-link').click();
  await page.waitForURL(new RegExp(`pattern=${rows[1].id}`));
  await settled(page);
  await page.locator('.log-row').first().waitFor();
  const bodies = await page.locator('.log-row .cell-msg').allTextContents();
  assert.equal(bodies.length, 5);
  assert.ok(bodies.every((b) => b.startsWith('payment pay-')), bodies.join('\n'));
  assert.equal(await page.getByTestId('log-count').textContent(), '5 logs');
  // the record's detail links to its pattern's records
  await page.locator('.log-row').first().click();
  const link = page.getByTestId('detail-pattern-link');
  await link.waitFor();
  assert.equal(await link.textContent(), `Records of pattern ${rows[1].id}`);

  // all records, runs collapsed: the 12 GET lines in the last hour are one run
  await page.goto(`${srv.uiUrl}/logs?collapse=1&live=0`);
  await settled(page);
  await page.locator('.log-row').first().waitFor();
  const runs = await page.getByTestId('run-count').allTextContents();
  assert.deepEqual(runs.sort(), ['×12', '×5']);
  assert.equal(await page.locator('.log-row').count(), 3);
  await page.getByTestId('run-count').filter({ hasText: '×12' }).click();
  await page.waitForURL(new RegExp(`pattern=${rows[0].id}`));
  await settled(page);
  await page.locator('.log-row').first().waitFor();
  assert.equal(await page.locator('.log-row').count(), 12);
  assert.deepEqual(rec.errors, []);
});
