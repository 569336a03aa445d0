// The service map and per-operation RED figures from real services: three
// Node HTTP services instrumented with the official OpenTelemetry Node SDK
// and its HTTP auto-instrumentation (tests/interop/apps/http-service.mjs),
// frontend -> checkout -> payments over HTTP on loopback, checkout also
// making a database CLIENT span, payments failing every 4th request. The
// map's nodes, edges, calls and errors must match what was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson, freePorts } from './lib/server.mjs';
import { startHttpService as startApp, httpGet as get } from './lib/apps.mjs';

const REQUESTS = 20;
const FAIL_EVERY = 4;

async function until(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the service map of three instrumented services matches what they did', { timeout: 120000 }, async () => {
  const srv = await startLoupe();
  const [pPay, pCheck, pFront] = await freePorts(3);
  const apps = [
    startApp('payments', pPay, ['--fail-every', String(FAIL_EVERY)], srv),
    startApp('checkout', pCheck, [`http://127.0.0.1:${pPay}`, '--db'], srv),
    startApp('frontend', pFront, [`http://127.0.0.1:${pCheck}`], srv),
  ];
  try {
    await Promise.all(apps.map((a) => a.ready));
    const statuses = [];
    for (let i = 0; i < REQUESTS; i++) statuses.push(await get(`http://127.0.0.1:${pFront}/work`));
    const failed = statuses.filter((s) => s !== 200).length;
    assert.equal(failed, REQUESTS / FAIL_EVERY);
    for (const a of apps) a.proc.kill('SIGTERM');
    await Promise.all(apps.map((a) => a.exited));

    // every span of every request arrived: 20 x (frontend server + client,
    // checkout server + client + db, payments server)
    await until(async () => {
      const s = (await getJson(srv, '/api/v1/services')).body.services;
      return s.reduce((n, x) => n + x.spanCount, 0) >= REQUESTS * 6;
    }, 'every span');

    const map = (await getJson(srv, '/api/v1/service-map')).body;
    const node = (id) => map.nodes.find((n) => n.id === id);
    const edge = (a, b) => map.edges.find((e) => e.source === a && e.target === b);
    for (const s of ['frontend', 'checkout', 'payments']) {
      assert.equal(node(s)?.kind, 'service', s);
      assert.equal(node(s).calls, REQUESTS, `${s}: entry calls`);
      assert.equal(node(s).errors, failed, `${s}: failed entry calls`);
      assert.ok(node(s).p99Ns >= node(s).p50Ns && node(s).p50Ns > 0);
    }
    const db = node('database:postgresql@db');
    assert.equal(db?.kind, 'database');
    assert.equal(db.name, 'postgresql@db');
    assert.equal(db.calls, REQUESTS);
    assert.deepEqual([edge('frontend', 'checkout')?.calls, edge('frontend', 'checkout')?.errors], [REQUESTS, failed]);
    assert.deepEqual([edge('checkout', 'payments')?.calls, edge('checkout', 'payments')?.errors], [REQUESTS, failed]);
    assert.equal(edge('checkout', 'database:postgresql@db')?.calls, REQUESTS);
    // the HTTP client calls are answered by instrumented services: no
    // virtual node for them, and nothing else
    assert.equal(map.nodes.length, 4, JSON.stringify(map.nodes.map((n) => n.id)));
    assert.equal(map.edges.length, 3, JSON.stringify(map.edges.map((e) => `${e.source}>${e.target}`)));

    // RED per operation, and per service in the list
    const ops = (await getJson(srv, '/api/v1/services/payments/operations')).body;
    assert.equal(ops.operations.length, 1);
    assert.equal(ops.operations[0].calls, REQUESTS);
    assert.equal(ops.operations[0].errors, failed);
    assert.equal(ops.operations[0].errorRate, failed / REQUESTS);
    const svc = (await getJson(srv, '/api/v1/services')).body.services.find((s) => s.name === 'checkout');
    assert.equal(svc.requests, REQUESTS);
    assert.equal(svc.failedRequests, failed);
    assert.equal((await getJson(srv, '/api/v1/services/nope/operations')).status, 404);
  } finally {
    for (const a of apps) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await srv.stop();
  }
});
