// Rate, errors and duration per operation, checked against figures
// computed here from the spans sent: SERVER spans of known durations in
// two consecutive minutes (a step boundary), an error burst in the second,
// then after retention evicted the first batch (its segment dropped) and
// after an export imported into a second loupe (the rollups rebuilt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startLoupe, getJson } from './lib/server.mjs';
import { grpcClient, grpcCall, TRACES } from './lib/grpc.mjs';
import { bytesField, str, msg, uint, fixed64 } from './lib/protobuf.mjs';

const MIN = 60000000000n;
// the start of a whole minute, a few minutes ago
const T0 = (BigInt(Date.now()) * 1000000n / MIN - 10n) * MIN;

// SERVER root spans of `service`: one per (offset in the minute, duration
// ms, error) in `spans`, each its own trace, in minute `m` after T0.
function request(service, name, m, spans) {
  const out = spans.map(([offMs, durMs, err]) => {
    const start = T0 + BigInt(m) * MIN + BigInt(offMs) * 1000000n;
    return msg(2, bytesField(1, randomBytes(16)), bytesField(2, randomBytes(8)), str(5, name), uint(6, 2),
      fixed64(7, start), fixed64(8, start + BigInt(durMs) * 1000000n),
      ...(err ? [msg(15, uint(3, 2))] : []));
  });
  const resource = msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, service))));
  return msg(1, resource, msg(2, msg(1, str(1, 'red')), ...out));
}

// minute 0: 10 spans of 10..100 ms, no error; minute 1: 10 spans of
// 110..200 ms, the last 4 failing
const M0 = Array.from({ length: 10 }, (_, i) => [i * 1000, (i + 1) * 10, false]);
const M1 = Array.from({ length: 10 }, (_, i) => [i * 1000, 110 + i * 10, i >= 6]);

function quantile(ms, q) {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] * 1e6;
}
const near = (got, want, what) => assert.ok(Math.abs(got - want) / want <= 0.045, `${what}: ${got} vs ${want}`);

async function send(srv, body) {
  const c = grpcClient(srv.grpcAddr);
  const r = await grpcCall(c, TRACES, body);
  c.close();
  assert.equal(r.code, 0, r.details);
}

function checkOps(body, series) {
  assert.equal(body.operations.length, 1);
  const op = body.operations[0];
  const all = series.flat();
  assert.equal(op.name, 'GET /pay');
  assert.equal(op.calls, all.length);
  assert.equal(op.errors, all.filter((x) => x[2]).length);
  near(op.p50Ns, quantile(all.map((x) => x[1]), 0.5), 'p50');
  near(op.p99Ns, quantile(all.map((x) => x[1]), 0.99), 'p99');
  return op;
}

test('RED per operation: a step boundary, an error burst, eviction and import', { timeout: 60000 }, async () => {
  const window = `start=${T0}&end=${T0 + 5n * MIN}&step=1m`;
  // segments of 10 spans (a tenth of --max-spans 100): each minute's 10
  // spans fill one segment
  const srv = await startLoupe({ args: ['--max-spans', '100'] });
  try {
    await send(srv, request('shop', 'GET /pay', 0, M0));
    await send(srv, request('shop', 'GET /pay', 1, M1));
    let body = (await getJson(srv, `/api/v1/services/shop/operations?${window}`)).body;
    const op = checkOps(body, [M0, M1]);
    assert.equal(body.stepNs, 60e9);
    const byMinute = Object.fromEntries(op.series.map((p) => [BigInt(p.timeUnixNano) - T0, p]));
    assert.equal(byMinute[0n].calls, 10);
    assert.equal(byMinute[0n].errors, 0);
    assert.equal(byMinute[MIN].calls, 10);
    assert.equal(byMinute[MIN].errors, 4);
    near(byMinute[0n].p99Ns, 100e6, 'p99 of minute 0');
    near(byMinute[MIN].p99Ns, 200e6, 'p99 of minute 1');
    assert.ok(Math.abs(op.rate - 20 / 300) < 1e-9, `rate ${op.rate}`);
    assert.equal(op.errorRate, 4 / 20);
    // a 2-minute step puts both minutes in one bucket
    body = (await getJson(srv, `/api/v1/services/shop/operations?start=${T0}&end=${T0 + 4n * MIN}&step=2m`)).body;
    assert.equal(body.operations[0].series[0].calls, 20);

    // the services list over the window: requests, failures, counts
    const svc = (await getJson(srv, `/api/v1/services?start=${T0}&end=${T0 + 5n * MIN}`)).body.services[0];
    assert.deepEqual([svc.name, svc.requests, svc.failedRequests, svc.spanCount], ['shop', 20, 4, 20]);
    // a window that holds only minute 1
    const late = (await getJson(srv, `/api/v1/services?start=${T0 + MIN}&end=${T0 + 2n * MIN}`)).body.services[0];
    assert.deepEqual([late.requests, late.failedRequests, late.spanCount], [10, 4, 10]);

    // an export now, before the eviction, for the import below
    const exp = await (await fetch(`${srv.uiUrl}/api/v1/export?signal=traces`)).text();

    // 90 later spans: 110 stored, so retention drops the oldest segment
    // (minute 0's) whole, and its rollups with it
    for (let k = 0; k < 9; k++) await send(srv, request('other', 'GET /x', 3, M0));
    body = (await getJson(srv, `/api/v1/services/shop/operations?${window}`)).body;
    const after = checkOps(body, [M1]);
    assert.deepEqual(after.series.map((p) => BigInt(p.timeUnixNano) - T0), [MIN]);

    // import into a second loupe: the rollups are rebuilt from the spans
    const two = await startLoupe();
    try {
      const r = await fetch(`${two.uiUrl}/api/v1/import`, { method: 'POST', body: exp });
      assert.equal(r.status, 200, await r.text());
      checkOps((await getJson(two, `/api/v1/services/shop/operations?${window}`)).body, [M0, M1]);
    } finally {
      await two.stop();
    }
  } finally {
    await srv.stop();
  }
});
