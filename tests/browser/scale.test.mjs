// Large data stays responsive: a 10,000-span trace renders a bounded number
// of DOM rows and expands/collapses quickly; 100,000 logs scroll smoothly
// because only the visible rows exist in the DOM while pages are read on
// demand as the reader scrolls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getJson } from '../interop/lib/server.mjs';
import { launch, openPage, settled, stopChecked, startServer } from './lib/browser.mjs';
import { exporters, sendBigTrace, sendLogs, SeverityNumber } from './lib/senders.mjs';

const SPANS = 10000;
const LOGS = 100000;

let srv;
let browser;
let exp;

before(async () => {
  srv = await startServer({ args: ['--max-logs', String(LOGS * 2)] });
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  await stopChecked(srv);
});

test(`a ${SPANS.toLocaleString('en-US')}-span trace stays responsive`, async () => {
  const { traceId } = await sendBigTrace(exp, 'batch', SPANS);
  const { context, page, rec } = await openPage(browser);
  const t0 = Date.now();
  await page.goto(`${srv.uiUrl}/traces/${traceId}`);
  await page.locator('.span-row').first().waitFor({ timeout: 20000 });
  const firstPaint = Date.now() - t0;
  const rows = await page.locator('.span-row').count();
  assert.ok(rows > 10 && rows < 200, `DOM holds ${rows} span rows, not ${SPANS}`);
  assert.ok(firstPaint < 10000, `first rows after ${firstPaint} ms`);
  // the whole tree is reachable: scroll to the end of the waterfall
  const total = await page.evaluate(() => document.querySelector('.wf-list .vlist-inner').getBoundingClientRect().height);
  assert.equal(Math.round(total / 28), SPANS, 'one row per span');
  await page.evaluate(() => { const l = document.querySelector('.wf-list'); l.scrollTop = l.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('.span-row')].some((r) => Number(r.getAttribute('aria-rowindex')) === 10000));
  // collapse and expand everything: each under a second
  let t = Date.now();
  await page.getByTestId('collapse-all').click();
  await page.waitForFunction(() => document.querySelector('.wf-list .vlist-inner').getBoundingClientRect().height <= 9 * 28);
  const collapseMs = Date.now() - t;
  t = Date.now();
  await page.getByTestId('expand-all').click();
  await page.waitForFunction((n) => Math.round(document.querySelector('.wf-list .vlist-inner').getBoundingClientRect().height / 28) === n, SPANS);
  const expandMs = Date.now() - t;
  assert.ok(collapseMs < 1500 && expandMs < 1500, `collapse ${collapseMs} ms, expand ${expandMs} ms`);
  // keyboard navigation on the big tree
  t = Date.now();
  for (let i = 0; i < 20; i++) await page.keyboard.press('j');
  await page.waitForFunction(() => document.querySelector('.span-row.selected') && document.querySelector('.span-row.selected').getAttribute('aria-rowindex') === '20');
  assert.ok(Date.now() - t < 5000, `20 moves took ${Date.now() - t} ms`);
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test(`${LOGS.toLocaleString('en-US')} logs scroll through a virtualised table`, async () => {
  const base = Date.now() - LOGS - 1000;
  const records = [];
  for (let i = 0; i < LOGS; i++) {
    records.push({ body: `record ${i}`, severity: i % 97 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO, attributes: { i }, time: base + i });
  }
  await sendLogs(exp, 'bulk', records, { batch: 5000 });
  assert.equal((await getJson(srv, '/api/v1/services')).body.services.find((s) => s.name === 'bulk').logCount, LOGS);
  const { context, page, rec } = await openPage(browser, { viewport: { width: 1400, height: 900 } });
  await page.goto(`${srv.uiUrl}/logs?service=bulk&live=0`);
  await settled(page);
  await page.locator('.log-row').first().waitFor();
  assert.match(await page.locator('.log-row').first().textContent(), new RegExp(`record ${LOGS - 1}\\b`), 'newest first');
  // scroll to the end until every page is read; the DOM stays small all along
  const deadline = Date.now() + 120000;
  let maxRows = 0;
  let loaded = 0;
  while (loaded < LOGS && Date.now() < deadline) {
    await page.evaluate(() => { const l = document.querySelector('.logs-list'); l.scrollTop = l.scrollHeight; });
    await page.waitForFunction((n) => document.querySelectorAll('.log-row').length > 0
      && Math.round(document.querySelector('.logs-list .vlist-inner').getBoundingClientRect().height / 30) > n, loaded, { timeout: 15000 })
      .catch(() => {});
    loaded = await page.evaluate(() => Math.round(document.querySelector('.logs-list .vlist-inner').getBoundingClientRect().height / 30));
    maxRows = Math.max(maxRows, await page.locator('.log-row').count());
  }
  assert.equal(loaded, LOGS, 'every record is in the table');
  assert.ok(maxRows < 150, `at most ${maxRows} rows in the DOM`);
  await page.waitForFunction(() => /End of the logs/.test(document.querySelector('.list-foot').textContent));
  await page.evaluate(() => { const l = document.querySelector('.logs-list'); l.scrollTop = l.scrollHeight; });
  await page.locator('.log-row').filter({ hasText: /record 0$/ }).waitFor();
  assert.match(await page.getByTestId('log-count').textContent(), /^100,000 logs$/);
  // jump back to the top and select with the keyboard
  await page.evaluate(() => { document.querySelector('.logs-list').scrollTop = 0; });
  await page.keyboard.press('j');
  await page.getByTestId('log-detail').waitFor();
  assert.equal(await page.getByTestId('log-body').textContent(), `record ${LOGS - 1}`);
  assert.deepEqual(rec.errors, []);
  await context.close();
});
