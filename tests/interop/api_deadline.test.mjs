// Bounded query time (--query-timeout): a search that would scan past the
// deadline answers 200 with what it found and "partial": true, and slow
// searches run on the query threads, so they never hold up the rest of the
// UI (pages, the services list, other API calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { loadBulkSpans } from './lib/bulkspans.mjs';

const SPANS = 40000;
const load = (srv) => loadBulkSpans(srv, SPANS);

test('a search past --query-timeout answers what it found, marked partial', async () => {
  const srv = await startLoupe({ args: ['--query-timeout', '1ms'] });
  try {
    await load(srv);
    // a substring condition reads every stored attribute object
    const r = await getJson(srv, `/api/v1/traces?limit=20&attr=${encodeURIComponent('app.field1~no-such-text')}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.partial, true);
    assert.ok(Array.isArray(r.body.traces));
    const l = await getJson(srv, '/api/v1/logs?q=nothing&limit=20');
    assert.equal(l.status, 200);
    // a quick query within the limit is not partial
    const one = await getJson(srv, '/api/v1/services');
    assert.equal(one.status, 200);
    assert.equal(one.body.services[0].spanCount, SPANS);
  } finally {
    await srv.stop();
  }
});

test('two slow searches do not hold up the rest of the UI', async () => {
  const srv = await startLoupe({ args: ['--query-timeout', '60s'] });
  try {
    await load(srv);
    const slowPath = (k) => `/api/v1/traces?limit=50&attr=${encodeURIComponent(`app.field0~zz${k}`)}` +
      '&attr=app.field1~zzz&attr=app.field2~zzz&attr=app.field3~zzz&attr=app.field4~zzz';
    const order = [];
    const slow = [1, 2].map((k) => getJson(srv, slowPath(k)).then((r) => { order.push(`slow${k}`); return r; }));
    // let both reach the server first
    await new Promise((resolve) => setImmediate(resolve));
    const quick = getJson(srv, '/api/v1/services').then((r) => { order.push('services'); return r; });
    const page = fetch(srv.uiUrl + '/').then((r) => { order.push('page'); return r; });
    const [q, p, s1, s2] = await Promise.all([quick, page, ...slow]);
    assert.equal(q.status, 200);
    assert.equal(p.status, 200);
    assert.equal(s1.status, 200);
    assert.equal(s2.status, 200);
    assert.equal(s1.body.traces.length, 0);
    // the quick requests were answered while the slow ones still ran
    assert.ok(order.indexOf('services') < order.indexOf('slow1') && order.indexOf('services') < order.indexOf('slow2'),
      `answer order: ${order.join(', ')}`);
    assert.ok(order.indexOf('page') < order.indexOf('slow1') && order.indexOf('page') < order.indexOf('slow2'),
      `answer order: ${order.join(', ')}`);
  } finally {
    await srv.stop();
  }
});
