// A search the server stops at its query timeout (--query-timeout) says so:
// the traces and logs pages show what was found and how to get a complete
// answer, instead of claiming that nothing matches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, onePageAtATime, startServer, tearDown } from './lib/browser.mjs';
import { loadBulkLogs, loadBulkSpans } from '../interop/lib/bulkspans.mjs';

let srv;
let browser;
const pages = onePageAtATime();

before(async () => {
  srv = await startServer({ args: ['--query-timeout', '1ms'] });
  await loadBulkSpans(srv, 20000, 'bulk');
  await loadBulkLogs(srv, 20000, 'bulk');
  browser = await launch();
});

after(() => tearDown({ pages, browser, srv }));

test('a trace search cut by the query timeout says it stopped, and how to narrow it', async () => {
  const { page } = await pages.open(browser, `${srv.uiUrl}/traces?attr=${encodeURIComponent('app.field1~no-such-text')}`);
  const note = page.getByTestId('partial-note');
  await note.waitFor();
  assert.match(await note.textContent(), /stopped at the server's time limit/);
  assert.match(await note.textContent(), /Narrow the time range/);
  assert.equal(await page.getByText('No traces match this search').count(), 0);
});

test('a log search cut by the query timeout says it stopped', async () => {
  const { page } = await pages.open(browser, `${srv.uiUrl}/logs?attr=${encodeURIComponent('app.field3~no-such-value')}`);
  const note = page.getByTestId('partial-note');
  await note.waitFor();
  assert.match(await note.textContent(), /time limit/);
  assert.equal(await page.getByText('No logs match these filters').count(), 0);
});
