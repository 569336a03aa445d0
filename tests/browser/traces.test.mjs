// The trace search's results against the real loupe: sorting by start,
// duration, span count and errors; the duration scatter plot (fitted to the
// data, errors marked, a click opens the trace); grouping by root
// operation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, onePageAtATime, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendSimpleTrace } from './lib/senders.mjs';

let srv;
let browser;
let exp;
const ids = {};
const pages = onePageAtATime();

// name, seconds ago, duration (ms), child spans, error
const TRACES = [
  ['A1', 'GET /a', 240, 30, 2, false],
  ['A2', 'GET /a', 180, 10, 0, true],
  ['A3', 'GET /a', 120, 50, 1, false],
  ['B1', 'GET /b', 90, 200, 4, true],
  ['B2', 'GET /b', 60, 5, 0, false],
];

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  for (const [key, name, ago, durationMs, children, error] of TRACES) {
    const t = await sendSimpleTrace(exp, 'shop', name, {
      base: now - ago * 1000, durationMs, error, children: Array.from({ length: children }, (_, i) => ({ name: `step ${i}` })),
    });
    ids[key] = t.traceId;
  }
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path) => pages.open(browser, srv.uiUrl + path);

const keyOf = (id) => Object.keys(ids).find((k) => ids[k] === id);
const order = (page) => page.getByTestId('trace-table').locator('tr.trace-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.traceId));

function noErrors(rec) {
  assert.deepEqual(rec.errors, [], 'no uncaught exceptions in the page');
  assert.deepEqual(rec.csp, [], 'no CSP violations');
}

test('the results sort by start, duration, span count and errors', async () => {
  const { page, rec } = await open('/traces?service=shop');
  await page.getByTestId('trace-table').locator('tr.trace-row').nth(4).waitFor();
  const shown = async () => (await order(page)).map(keyOf);
  assert.deepEqual(await shown(), ['B2', 'B1', 'A3', 'A2', 'A1'], 'newest first (the API order)');
  const sortBy = async (id, url, want) => {
    await page.getByTestId(`sort-${id}`).click();
    await page.waitForURL(url);
    await page.waitForFunction((w) => {
      const got = [...document.querySelectorAll('[data-testid="trace-table"] tr.trace-row')].map((tr) => tr.dataset.traceId);
      return got.join() === w.join();
    }, want.map((k) => ids[k]));
  };
  await sortBy('duration', /sort=duration/, ['B1', 'A3', 'A1', 'A2', 'B2']);
  assert.equal(await page.getByTestId('sort-duration').locator('..').getAttribute('aria-sort'), 'descending');
  await sortBy('duration', /sort=duration&dir=asc/, ['B2', 'A2', 'A1', 'A3', 'B1']);
  // equal counts keep the newest first
  await sortBy('spans', (u) => u.searchParams.get('sort') === 'spans' && !u.searchParams.has('dir'), ['B1', 'A1', 'A3', 'B2', 'A2']);
  await sortBy('errors', /sort=errors/, ['B1', 'A2', 'B2', 'A3', 'A1']);
  await sortBy('time', (u) => !u.searchParams.has('sort'), ['B2', 'B1', 'A3', 'A2', 'A1']);
  // j walks the rows in the order shown
  await page.goto(`${srv.uiUrl}/traces?service=shop&sort=duration`);
  await page.getByTestId('trace-table').locator('tr.trace-row').nth(4).waitFor();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.equal(keyOf(await page.locator('tr.trace-row.selected').getAttribute('data-trace-id')), 'A3');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/traces/${ids.A3}`));
  noErrors(rec);
});

test('a scatter plot shows each trace\'s duration over time; a click opens it', async () => {
  const { page, rec } = await open('/traces?service=shop');
  const plot = page.getByTestId('trace-scatter');
  await plot.locator('circle').nth(4).waitFor();
  const pts = await plot.locator('circle').evaluateAll((cs) => cs.map((c) => ({
    id: c.dataset.traceId, x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy')), err: c.classList.contains('err'),
  })));
  const by = Object.fromEntries(pts.map((p) => [keyOf(p.id), p]));
  assert.deepEqual(Object.keys(by).sort(), ['A1', 'A2', 'A3', 'B1', 'B2']);
  assert.deepEqual(pts.filter((p) => p.err).map((p) => keyOf(p.id)).sort(), ['A2', 'B1'], 'errors are marked');
  // later to the right, slower higher up
  const byTime = ['A1', 'A2', 'A3', 'B1', 'B2'];
  for (let i = 1; i < byTime.length; i++) assert.ok(by[byTime[i]].x > by[byTime[i - 1]].x, `${byTime[i]} right of ${byTime[i - 1]}`);
  const byDur = ['B2', 'A2', 'A1', 'A3', 'B1'];
  for (let i = 1; i < byDur.length; i++) assert.ok(by[byDur[i]].y < by[byDur[i - 1]].y, `${byDur[i]} above ${byDur[i - 1]}`);
  // three minutes of traces in "Last hour": the time axis fits them
  assert.equal(await plot.getAttribute('data-fitted'), 'true');
  const width = await plot.locator('svg').evaluate((s) => s.width.baseVal.value);
  assert.ok(by.B2.x - by.A1.x > 0.75 * width, `the points spread over ${by.B2.x - by.A1.x} of ${width} px`);
  await page.getByTestId('fit-off').click();
  await page.waitForURL(/fit=0/);
  await page.waitForFunction(() => document.querySelector('[data-testid="trace-scatter"]')?.dataset.fitted === 'false');
  const spread = await page.getByTestId('trace-scatter').locator('circle').evaluateAll((cs) => {
    const xs = cs.map((c) => Number(c.getAttribute('cx')));
    return Math.max(...xs) - Math.min(...xs);
  });
  assert.ok(spread < 0.1 * width, `over the whole hour the points are close together (${spread} px)`);
  // a point opens its trace
  await page.getByTestId('trace-scatter').locator(`circle[data-trace-id="${ids.B1}"]`).click();
  await page.waitForURL(new RegExp(`/traces/${ids.B1}$`));
  await page.getByTestId('waterfall').waitFor();
  noErrors(rec);
});

test('results group by root operation; a group opens its traces', async () => {
  const { page, rec } = await open('/traces?service=shop');
  await page.getByTestId('view-groups').click();
  await page.waitForURL(/group=root/);
  const table = page.getByTestId('trace-groups');
  await table.waitFor();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
    ['shopGET /a', '3', '1', '30 ms', '50 ms'],
    ['shopGET /b', '2', '1', '5 ms', '200 ms'],
  ]);
  await table.locator('tr[data-name="GET /b"]').getByTestId('group-link').click();
  await page.waitForURL((u) => u.searchParams.get('name') === 'GET /b' && u.searchParams.get('service') === 'shop' && !u.searchParams.has('group'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="trace-table"] tr.trace-row').length === 2);
  assert.deepEqual((await order(page)).map(keyOf), ['B2', 'B1']);
  noErrors(rec);
});
