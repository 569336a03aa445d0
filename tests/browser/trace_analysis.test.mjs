// Inside one trace, in the browser against the real loupe: the critical
// path toggle (marked rows, self times, deep link), the span statistics,
// the flame graph (frames, zoom, selection), "compare with…" from the
// trace list and the trace page, and the compare page (merged tree
// coloured by difference, spans of one trace only, swap, bad input),
// with screenshots in both themes; hostile span names stay text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, noErrors, onePageAtATime, screenshot, startServer, tearDown } from './lib/browser.mjs';
import { exporters, sendCheckoutTrace } from './lib/senders.mjs';

let srv;
let browser;
let exp;
let fast;
let mid;
let slow;
let hostile;
const pages = onePageAtATime();

const HOSTILE_ROOT = '<script>alert(1)</script>';
const HOSTILE_CHILD = '"><img src=x onerror=alert(2)>';

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  fast = await sendCheckoutTrace(exp, { base: now - 60000 });
  mid = await sendCheckoutTrace(exp, { base: now - 50000, names: { charge: 'charge card' } });
  slow = await sendCheckoutTrace(exp, { base: now - 40000, slow: true });
  hostile = await sendCheckoutTrace(exp, { base: now - 30000, names: { root: HOSTILE_ROOT, score: HOSTILE_CHILD } });
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path, opts) => pages.open(browser, srv.uiUrl + path, opts);

const ON_PATH = ['POST /checkout', 'auth', 'recommend', 'score items', 'charge card'];
const OFF_PATH = ['load cart', 'SELECT cart', 'load prices', 'cache lookup'];

// Span names of the waterfall rows with class cls.
const rowNames = (page, cls) => page.locator(`.span-row.${cls} .wf-span-name`).allTextContents();

test('the critical path toggle marks the path and shows self times', async () => {
  for (const scheme of ['light', 'dark']) {
    const { page, rec } = await open(`/traces/${fast.traceId}`, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    await page.getByTestId('waterfall').locator('.span-row').nth(8).waitFor();
    assert.equal(await page.locator('.span-row.on-path').count(), 0, 'nothing marked before the toggle');
    await page.getByTestId('critical-toggle').click();
    await page.waitForURL(/cp=1/);
    await page.locator('.span-row.on-path').first().waitFor();
    assert.deepEqual((await rowNames(page, 'on-path')).sort(), [...ON_PATH].sort());
    assert.deepEqual((await rowNames(page, 'off-path')).sort(), [...OFF_PATH].sort());
    assert.equal(await page.getByTestId('critical-toggle').getAttribute('aria-pressed'), 'true');
    assert.match(await page.getByTestId('critical-note').textContent(), /^Critical path: 200 ms through 5 spans/);
    // the root is on the path four times (before auth, between, before and after charge)
    const root = page.locator(`.span-row[data-span-id="${fast.spanIds.root}"]`);
    assert.equal(await root.locator('.wf-crit').count(), 4);
    assert.equal(await root.getByTestId('self-time').textContent(), ' · self 25 ms');
    assert.equal(await page.locator(`.span-row[data-span-id="${fast.spanIds.cart}"]`).getByTestId('self-time').textContent(), ' · self 15 ms');
    // the span panel says it too
    await page.locator(`.span-row[data-span-id="${fast.spanIds.score}"]`).click();
    await page.getByTestId('span-detail').waitFor();
    assert.equal(await page.getByTestId('span-self').textContent(), '85 ms');
    assert.equal(await page.getByTestId('span-critical').textContent(), 'on it, 85 ms');
    await page.locator(`.span-row[data-span-id="${fast.spanIds.prices}"]`).click();
    await page.getByTestId('span-critical').filter({ hasText: 'not on it' }).waitFor();
    await page.locator(`.span-row[data-span-id="${fast.spanIds.charge}"]`).click();
    await page.getByTestId('span-name').filter({ hasText: 'charge card' }).waitFor();
    await screenshot(page, `trace-critical-${scheme}`);
    noErrors(rec);
  }
  // a deep link keeps the toggle on; off again clears the marks
  const { page, rec } = await open(`/traces/${fast.traceId}?cp=1`);
  await page.locator('.span-row.on-path').first().waitFor();
  assert.equal(await page.locator('.span-row.on-path').count(), ON_PATH.length);
  await page.getByTestId('critical-toggle').click();
  await page.waitForURL((u) => !u.searchParams.has('cp'));
  await page.waitForFunction(() => document.querySelectorAll('.span-row.on-path, .span-row.off-path, .wf-crit').length === 0);
  noErrors(rec);
});

test('the span statistics list every operation with its self time', async () => {
  const { page, rec } = await open(`/traces/${fast.traceId}`);
  await page.getByTestId('view-stats').click();
  await page.waitForURL(/view=stats/);
  const table = page.getByTestId('span-stats');
  await table.locator('tbody tr').nth(8).waitFor();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  // most self time first (score items 85 ms, charge card 65, ...); equal
  // self times by service (cart before frontend)
  assert.deepEqual(rows.map((r) => r[0]), ['recommendations score items', 'payments charge card', 'cart SELECT cart', 'pricing load prices',
    'frontend POST /checkout', 'cart load cart', 'frontend auth', 'recommendations recommend', 'pricing cache lookup']);
  assert.deepEqual(rows[0].slice(1), ['1', '85 ms', '85 ms', '42.5%', '85 ms']);
  // the root: 25 ms of its own; 27 ms on the path (it waited 25..27 while cart and prices ran)
  assert.deepEqual(rows[4].slice(1), ['1', '200 ms', '25 ms', '12.5%', '27 ms']);
  assert.deepEqual(rows[5].slice(1), ['1', '65 ms', '15 ms', '7.5%', '—']);
  // sorted by total, longest first
  await page.getByTestId('stats-sort-total').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="span-stats"] tbody tr td').textContent.includes('POST /checkout'));
  assert.equal(await table.locator('th[aria-sort="descending"]').textContent(), 'Total↓');
  // a row opens its span in the waterfall
  await table.locator('tr[data-name="load prices"]').click();
  await page.getByTestId('waterfall').waitFor();
  await page.waitForURL((u) => u.searchParams.get('span') === fast.spanIds.prices && !u.searchParams.has('view'));
  assert.equal(await page.getByTestId('span-name').textContent(), 'load prices');
  noErrors(rec);
});

test('the flame graph draws every span by duration, zooms and selects', async () => {
  for (const scheme of ['light', 'dark']) {
    const { page, rec } = await open(`/traces/${fast.traceId}?view=flame`, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    const fg = page.getByTestId('flamegraph');
    await fg.locator('.fg-frame').nth(8).waitFor();
    const frames = await fg.locator('.fg-frame').evaluateAll((els) => els.map((e) => ({
      id: e.dataset.spanId, depth: Number(e.dataset.depth), name: e.querySelector('.fg-label').textContent,
      x: e.getBoundingClientRect().x, w: e.getBoundingClientRect().width,
    })));
    assert.equal(frames.length, 9);
    const by = Object.fromEntries(frames.map((f) => [f.name, f]));
    assert.equal(by['POST /checkout'].depth, 0);
    assert.equal(by['SELECT cart'].depth, 2);
    assert.equal(by['score items'].depth, 2);
    const rootW = by['POST /checkout'].w;
    // the children ran 15 + 65 + 34 + 93 + 2 + 65 = 274 ms under a 200 ms root: shrunk to fit
    const scale = rootW / 274;
    for (const [name, ms] of [['auth', 15], ['load cart', 65], ['recommend', 93], ['charge card', 65]]) {
      assert.ok(Math.abs(by[name].w - ms * scale) < 2, `${name}: ${by[name].w} px, want ${ms * scale}`);
    }
    // a child's children sit under it, in start order
    assert.ok(by['SELECT cart'].x >= by['load cart'].x - 0.5 && by['SELECT cart'].x + by['SELECT cart'].w <= by['load cart'].x + by['load cart'].w + 0.5);
    assert.ok(by.auth.x < by['load cart'].x && by['load cart'].x < by['load prices'].x && by['recommend'].x < by['charge card'].x);
    // the critical path dims the rest
    await page.getByTestId('critical-toggle').click();
    await fg.locator('.fg-frame.off-path').first().waitFor();
    const off = await fg.locator('.fg-frame.off-path .fg-label').allTextContents();
    assert.deepEqual(off.sort(), [...OFF_PATH].sort());
    await screenshot(page, `flamegraph-${scheme}`);
    // a click zooms into a frame and selects its span
    await fg.locator(`.fg-frame[data-span-id="${fast.spanIds.recommend}"]`).click();
    await page.getByTestId('flame-reset').waitFor();
    assert.equal(await page.getByTestId('span-name').textContent(), 'recommend');
    const zoomed = await fg.locator(`.fg-frame[data-span-id="${fast.spanIds.recommend}"]`).boundingBox();
    const canvas = await page.getByTestId('flame-canvas').boundingBox();
    assert.ok(Math.abs(zoomed.width - canvas.width) < 2, 'the zoomed frame fills the width');
    assert.equal(await fg.locator('.fg-frame.above .fg-label').textContent(), 'POST /checkout');
    assert.equal(await fg.locator('.fg-frame').count(), 3);
    assert.ok(await fg.locator(`.fg-frame.selected[data-span-id="${fast.spanIds.recommend}"]`).isVisible());
    await page.getByTestId('flame-reset').click();
    await page.waitForFunction(() => document.querySelectorAll('.fg-frame').length === 9);
    noErrors(rec);
  }
});

test('"compare with…" from the trace list offers the median and opens /compare', async () => {
  const { page, rec } = await open('/traces?service=frontend');
  const row = page.locator(`tr.trace-row[data-trace-id="${fast.traceId}"]`);
  await row.waitFor();
  await row.hover();
  await row.getByTestId('compare-with').click();
  const dlg = page.getByTestId('compare-picker');
  await dlg.getByTestId('compare-median').waitFor();
  // the other checkouts: mid (200 ms) and slow (320 ms); the hostile trace's root has another name
  const listed = await dlg.getByTestId('compare-candidate').evaluateAll((as) => as.map((a) => a.dataset.traceId));
  assert.deepEqual(listed, [mid.traceId, slow.traceId]);
  assert.equal(await dlg.getByTestId('compare-median').getAttribute('data-trace-id'), mid.traceId);
  assert.match(await dlg.getByTestId('compare-median').textContent(), /The median of 2 other traces: 200 ms/);
  // a bad id is refused in the dialog
  await dlg.getByTestId('compare-id').fill('not-an-id');
  await dlg.getByTestId('compare-id-go').click();
  assert.equal(await dlg.locator('.field-error').textContent(), 'A trace id is 32 hex digits');
  await dlg.locator(`[data-testid="compare-candidate"][data-trace-id="${slow.traceId}"]`).click();
  await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('a') === fast.traceId && u.searchParams.get('b') === slow.traceId);
  await page.getByTestId('compare-tree').locator('.cmp-node').first().waitFor();
  assert.equal(await page.locator('dialog').count(), 0, 'the dialog closed');
  noErrors(rec);
});

test('the compare page: one merged tree coloured by difference', async () => {
  for (const scheme of ['light', 'dark']) {
    const { page, rec } = await open(`/compare?a=${fast.traceId}&b=${slow.traceId}`, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    const tree = page.getByTestId('compare-tree');
    await tree.locator('.cmp-node').nth(9).waitFor();
    assert.equal(await page.locator('#mainnav a.active').getAttribute('data-page'), 'traces');
    assert.equal(await page.getByTestId('compare-duration-a').textContent(), '200 ms');
    assert.equal(await page.getByTestId('compare-duration-b').textContent(), '320 ms');
    assert.equal(await page.getByTestId('compare-headline').textContent(), 'B took 120 ms longer than A (+60%).');
    assert.equal(await page.getByTestId('count-only-a').textContent(), '1 only in A');
    assert.equal(await page.getByTestId('count-only-b').textContent(), '1 only in B');
    const nodes = await tree.locator('.cmp-node').evaluateAll((rows) => rows.map((r) => [
      r.querySelector('.wf-span-name').textContent, r.dataset.in,
      ['slower', 'faster', 'same', 'only-a', 'only-b'].find((c) => r.classList.contains(c)), r.querySelector('.cmp-diff').textContent]));
    assert.deepEqual(nodes, [
      ['POST /checkout', 'both', 'slower', '+120 ms'],
      ['auth', 'both', 'same', '±0'],
      ['load cart', 'both', 'same', '±0'],
      ['SELECT cart', 'both', 'same', '±0'],
      ['load prices', 'both', 'same', '±0'],
      ['recommend', 'both', 'same', '±0'],
      ['score items', 'both', 'same', '±0'],
      ['cache lookup', 'a', 'only-a', '−2 ms'],
      ['charge card', 'both', 'slower', '+60 ms'],
      ['retry charge', 'b', 'only-b', '+55 ms'],
    ]);
    assert.equal(await tree.locator('.cmp-node.only-b .cmp-only').textContent(), 'only in B');
    // the slowdowns lead to their rows
    const slowdowns = await page.getByTestId('compare-slowdowns').locator('li').allTextContents();
    assert.equal(slowdowns.length, 3);
    assert.match(slowdowns[0], /^charge card \+60 ms self · payments$/);
    assert.match(slowdowns[1], /retry charge \+55 ms/);
    assert.match(slowdowns[2], /POST \/checkout \+5 ms/);
    await page.getByTestId('compare-slowdowns').locator('a').first().click();
    await tree.locator('.cmp-node.focused').filter({ hasText: 'charge card' }).waitFor();
    await screenshot(page, `compare-${scheme}`);
    noErrors(rec);
  }
  // swap: B becomes A, and the colours turn
  const { page, rec } = await open(`/compare?a=${fast.traceId}&b=${slow.traceId}`);
  await page.getByTestId('compare-tree').locator('.cmp-node').first().waitFor();
  await page.getByTestId('compare-swap').click();
  await page.waitForURL((u) => u.searchParams.get('a') === slow.traceId && u.searchParams.get('b') === fast.traceId);
  await page.getByTestId('compare-headline').filter({ hasText: 'B took 120 ms less than A (−38%).' }).waitFor();
  await page.locator('.cmp-node.faster').filter({ hasText: 'charge card' }).waitFor();
  await page.locator('.cmp-node.only-a').filter({ hasText: 'retry charge' }).waitFor();
  // collapse the root: one row left
  await page.locator('.cmp-node').first().locator('.wf-toggle').click();
  await page.waitForFunction(() => document.querySelectorAll('.cmp-node').length === 1);
  noErrors(rec);
});

test('compare from the trace page, and bad or missing ids', async () => {
  const { page, rec } = await open(`/traces/${slow.traceId}`);
  await page.getByTestId('compare-with').click();
  const dlg = page.getByTestId('compare-picker');
  await dlg.getByTestId('compare-median').waitFor();
  // others of POST /checkout: fast and mid (200 ms each); the median is the lower middle
  assert.equal((await dlg.getByTestId('compare-candidate').count()), 2);
  await dlg.getByTestId('compare-median').click();
  await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('a') === slow.traceId);
  await page.getByTestId('compare-tree').locator('.cmp-node').first().waitFor();
  noErrors(rec);

  const bad = await open('/compare?a=xyz');
  await bad.page.getByTestId('compare-form').waitFor();
  assert.match(await bad.page.locator('.state-empty .state-title').textContent(), /Pick two traces/);
  await bad.page.getByTestId('compare-a').fill(fast.traceId);
  await bad.page.getByTestId('compare-b').fill('1234');
  await bad.page.getByTestId('compare-form').locator('button[type="submit"]').click();
  assert.equal(await bad.page.getByTestId('compare-form').locator('.field-error').textContent(), 'Both trace ids are 32 hex digits');
  noErrors(bad.rec);

  const missing = await open(`/compare?a=${fast.traceId}&b=deadbeefdeadbeefdeadbeefdeadbeef`);
  await missing.page.locator('.state-empty').waitFor();
  assert.equal(await missing.page.locator('.state-empty .state-title').textContent(), 'Trace not found');
  assert.match(await missing.page.locator('.state-empty .state-detail').textContent(), /trace 'b' deadbeefdeadbeefdeadbeefdeadbeef not found/);
  noErrors(missing.rec);
});

test('hostile span names stay text in the flame graph, statistics and compare', async () => {
  const { page, rec } = await open(`/traces/${hostile.traceId}?view=flame`);
  await page.getByTestId('flamegraph').locator('.fg-frame').nth(8).waitFor();
  const labels = await page.locator('.fg-frame .fg-label').allTextContents();
  assert.ok(labels.includes(HOSTILE_ROOT) && labels.includes(HOSTILE_CHILD), labels.join(' | '));
  assert.equal(await page.locator('.fg-frame img, .fg-frame script').count(), 0);
  await page.getByTestId('view-stats').click();
  await page.getByTestId('span-stats').locator('tbody tr').nth(8).waitFor();
  assert.equal(await page.getByTestId('span-stats').locator(`tr[data-name="${HOSTILE_CHILD.replace(/"/g, '\\"')}"] .stat-op`).textContent(), HOSTILE_CHILD);
  const cmp = await open(`/compare?a=${hostile.traceId}&b=${fast.traceId}`);
  await cmp.page.getByTestId('compare-tree').locator('.cmp-node').first().waitFor();
  const names = await cmp.page.locator('.cmp-node .wf-span-name').allTextContents();
  assert.ok(names.includes(HOSTILE_ROOT) && names.includes(HOSTILE_CHILD));
  assert.equal(await cmp.page.locator('.cmp-tree img, .cmp-tree script').count(), 0);
  // different root names: nothing matches
  assert.equal(await cmp.page.getByTestId('count-only-a').textContent(), '9 only in A');
  noErrors(rec);
  noErrors(cmp.rec);
});
