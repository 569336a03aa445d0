// --forward: loupe A sends everything it commits on to loupe B, which
// stands in for an OpenTelemetry Collector (the same OTLP), over gRPC,
// http/protobuf and http/json. Everything sent to A arrives at B (compared
// item by item through both exports); B down for a while: all arrives once
// it is up; A killed with -9 during the outage and restarted: all still
// arrives, once; B answering 503 (with Retry-After) or gRPC UNAVAILABLE
// (a full ring) for a while: retried, nothing lost; a permanent 400:
// counted and skipped, not retried; items evicted before they could be
// sent: counted. A's loupe_forward_* self-metrics say so throughout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts, startLoupe } from './lib/server.mjs';
import { exporters, sendLogs, sendMetrics, sendTraces } from './lib/telemetry.mjs';
import { exportItems, fakeCollector, forwardMetrics, logCount, metric, postLogs, until } from './lib/forward.mjs';

const started = [];
async function loupe(opts) {
  const srv = await startLoupe(opts);
  started.push(srv);
  return srv;
}
after(async () => {
  for (const s of started) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop().catch(() => {});
  }
});

// A stops cleanly (status 0), which also means no sanitizer report.
async function stopClean(srv) {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.stderr.slice(-4000));
}

// Waits until A has nothing left to send and has sent `n` items of a signal to dest.
function caughtUp(a, sig, n, dest, ms = 20000) {
  return until(async () => {
    const m = await forwardMetrics(a);
    return metric(m, 'loupe_forward_items_sent_total', sig, dest) >= n &&
      metric(m, 'loupe_forward_lag_items', sig, dest) === 0 ? m : null;
  }, ms, `${dest || 'the destination'} has ${n} ${sig}`);
}

test('A forwards everything to B over gRPC, http/protobuf and http/json; the exports match', async () => {
  const bg = await loupe();
  const bp = await loupe();
  const bj = await loupe();
  const a = await loupe({
    storage: 'sqlite',
    args: ['--forward', `grpc://127.0.0.1:${bg.grpcPort}`, '--forward', `http://127.0.0.1:${bp.httpPort}`,
      '--forward-header', 'x-forwarded-by=loupe-a'],
  });
  // http/json needs its own loupe: --forward-protocol applies to every http URL
  const aj = await loupe({
    args: ['--forward', `http://127.0.0.1:${bj.httpPort}`, '--forward-protocol', 'http/json'],
  });
  for (const [target, service] of [[a, 'fwd-rich'], [aj, 'fwd-rich']]) {
    const t = await sendTraces(exporters(target, 'http/protobuf'), service);
    await sendLogs(exporters(target, 'grpc'), service, { traceSpan: t.rootSpan });
    await sendMetrics(exporters(target, 'http/json'), service);
  }
  for (const [src, dest, b] of [[a, `grpc://127.0.0.1:${bg.grpcPort}`, bg], [a, `http://127.0.0.1:${bp.httpPort}`, bp],
    [aj, `http://127.0.0.1:${bj.httpPort}`, bj]]) {
    const want = {};
    for (const sig of ['traces', 'logs', 'metrics']) want[sig] = await exportItems(src, sig);
    assert.ok(want.traces.length >= 5 && want.logs.length >= 5 && want.metrics.length >= 3,
      JSON.stringify(Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v.length]))));
    for (const sig of ['traces', 'logs', 'metrics']) {
      await caughtUp(src, sig, want[sig].length, dest);
      assert.deepEqual(await exportItems(b, sig), want[sig], `${dest} ${sig}: B holds exactly what A holds`);
    }
    const m = await forwardMetrics(src);
    for (const fam of ['loupe_forward_items_retried_total', 'loupe_forward_items_failed_total', 'loupe_forward_items_dropped_total']) {
      assert.equal(metric(m, fam, 'traces', dest) + metric(m, fam, 'logs', dest) + metric(m, fam, 'metrics', dest), 0, `${dest} ${fam}`);
    }
    assert.equal(metric(m, 'loupe_forward_lag_seconds', 'logs', dest), 0);
  }
  // a later batch follows promptly
  const t0 = Date.now();
  await postLogs(a, 'fwd-later', 10);
  await until(async () => (await logCount(bg, 'fwd-later')) === 10 && (await logCount(bp, 'fwd-later')) === 10, 5000, 'the later batch at both');
  assert.ok(Date.now() - t0 < 5000);
  for (const s of [a, aj, bg, bp, bj]) await stopClean(s);
});

test('B down, then up: everything arrives; the lag and the retries show meanwhile', async () => {
  const [bGrpc, bHttp, bUi] = await freePorts(3);
  const a = await loupe({ storage: 'sqlite', args: ['--forward', `grpc://127.0.0.1:${bGrpc}`] });
  await postLogs(a, 'fwd-outage', 600);
  await until(async () => {
    const x = await forwardMetrics(a);
    return metric(x, 'loupe_forward_items_retried_total', 'logs') > 0 &&
      metric(x, 'loupe_forward_lag_items', 'logs') === 600;
  }, 10000, 'A retries while B is down, with all 600 waiting');
  assert.match(a.stderr, /level=warn event=forward_retrying dest="grpc:\/\/127\.0\.0\.1:\d+" signal=logs/);
  await until(async () => metric(await forwardMetrics(a), 'loupe_forward_lag_seconds', 'logs') > 0.2, 5000, 'the lag in seconds grows');
  const b = await loupe({ args: ['--otlp-grpc-addr', `127.0.0.1:${bGrpc}`, '--otlp-http-addr', `127.0.0.1:${bHttp}`, '--ui-addr', `127.0.0.1:${bUi}`] });
  b.uiUrl = `http://127.0.0.1:${bUi}`;
  await caughtUp(a, 'logs', 600);
  assert.equal(await logCount(b, 'fwd-outage'), 600);
  assert.match(a.stderr, /level=info event=forward_resumed/);
  await stopClean(a);
  await stopClean(b);
});

test('A killed with -9 during the outage and restarted: everything arrives, once', async () => {
  const [bGrpc, bHttp, bUi] = await freePorts(3);
  const bArgs = ['--otlp-grpc-addr', `127.0.0.1:${bGrpc}`, '--otlp-http-addr', `127.0.0.1:${bHttp}`, '--ui-addr', `127.0.0.1:${bUi}`];
  const fwd = ['--forward', `http://127.0.0.1:${bHttp}`];
  let b = await loupe({ args: bArgs });
  b.uiUrl = `http://127.0.0.1:${bUi}`;
  const a = await loupe({ storage: 'sqlite', args: fwd });
  await postLogs(a, 'fwd-crash', 300); // delivered while B is up
  await caughtUp(a, 'logs', 300);
  await stopClean(b);
  await postLogs(a, 'fwd-crash', 400, { from: 300 }); // during the outage
  await until(async () => metric(await forwardMetrics(a), 'loupe_forward_items_retried_total', 'logs') > 0, 10000, 'A retries');
  await a.kill();
  const a2 = await loupe({ storage: 'sqlite', dataDir: a.dataDir, args: fwd });
  await postLogs(a2, 'fwd-crash', 100, { from: 700 });
  b = await loupe({ args: bArgs });
  b.uiUrl = `http://127.0.0.1:${bUi}`;
  await caughtUp(a2, 'logs', 500); // the 400 of the outage and the 100 after the restart
  await until(async () => (await logCount(b, 'fwd-crash')) === 500, 5000, 'B has the rest');
  // B came back empty (memory storage): exactly the 500 not delivered before
  const bodies = (await exportItems(b, 'logs')).map((s) => JSON.parse(s).item.body.stringValue);
  const want = [];
  for (let i = 300; i < 800; i++) want.push(`fwd-crash record ${i}`);
  assert.deepEqual(bodies.sort(), want.sort());
  await stopClean(a2);
  await stopClean(b);
  await a.stop(); /* the killed one: its data directory goes */
});

test('503 with Retry-After for a while: retried no sooner than asked, nothing lost', async () => {
  const b = await loupe();
  const fake = await fakeCollector((i) => (i < 3 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : null), b.httpUrl);
  const a = await loupe({ args: ['--forward', fake.url] });
  try {
    await postLogs(a, 'fwd-503', 300);
    await caughtUp(a, 'logs', 300);
    assert.equal(await logCount(b, 'fwd-503'), 300);
    const m = await forwardMetrics(a);
    assert.ok(metric(m, 'loupe_forward_items_retried_total', 'logs') >= 3 * 1, JSON.stringify(m));
    assert.equal(metric(m, 'loupe_forward_items_failed_total', 'logs'), 0);
    // each retry came at least the second Retry-After asked for after the 503
    for (let i = 1; i <= 3; i++) {
      const gap = fake.seen[i].at - fake.seen[i - 1].at;
      assert.ok(gap >= 950, `request ${i} came ${gap} ms after a 503 with Retry-After: 1`);
    }
    assert.equal(fake.seen[0].headers['content-type'], 'application/x-protobuf');
    assert.equal(fake.seen[0].path, '/v1/logs');
  } finally {
    await fake.close();
  }
  await stopClean(a);
  await stopClean(b);
});

// Two loupes forward to B at once: with B's ring smaller than one request
// and its writer slowed, one of two concurrent requests finds it busy.
test('gRPC UNAVAILABLE from a full B (tiny ring, slowed writer): retried, nothing lost', async () => {
  const b = await loupe({ args: ['--ring-size', '16KiB'], env: { LOUPE_TEST_WRITER_DELAY_MS: '150' } });
  const senders = [];
  for (let k = 0; k < 2; k++) senders.push(await loupe({ args: ['--forward', `grpc://127.0.0.1:${b.grpcPort}`] }));
  await Promise.all(senders.map((a, k) => postLogs(a, `fwd-full-${k}`, 3000, { per: 500 })));
  let retried = 0;
  for (const [k, a] of senders.entries()) {
    const m = await caughtUp(a, 'logs', 3000, undefined, 60000);
    retried += metric(m, 'loupe_forward_items_retried_total', 'logs');
    assert.equal(await logCount(b, `fwd-full-${k}`), 3000);
  }
  assert.ok(retried > 0, 'some requests found B full');
  assert.ok(senders.some((a) => /event=forward_retrying .*reason="gRPC status 14/.test(a.stderr)));
  for (const a of senders) await stopClean(a);
  await stopClean(b);
});

test('a permanent 400 is counted and skipped, not retried; a partial success counts its rejections', async () => {
  const b = await loupe();
  const fake = await fakeCollector((i) => {
    if (i < 2) return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad request: nope' };
    if (i === 2) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"partialSuccess":{"rejectedLogRecords":"7","errorMessage":"seven too old"}}' };
    return null;
  }, b.httpUrl);
  const a = await loupe({ args: ['--forward', fake.url, '--forward-protocol', 'http/json'] });
  try {
    await postLogs(a, 'fwd-400', 100);
    await until(async () => metric(await forwardMetrics(a), 'loupe_forward_items_failed_total', 'logs') === 100, 10000, 'the first batch failed');
    await postLogs(a, 'fwd-400', 50, { from: 100 });
    await until(async () => metric(await forwardMetrics(a), 'loupe_forward_items_failed_total', 'logs') === 150, 10000, 'the second batch failed');
    assert.equal(fake.seen.length, 2, 'each refused request was sent once');
    await postLogs(a, 'fwd-400', 20, { from: 150 }); // accepted, 7 of them rejected
    await until(async () => metric(await forwardMetrics(a), 'loupe_forward_items_failed_total', 'logs') === 157, 10000, 'the partial success');
    await postLogs(a, 'fwd-400', 30, { from: 170 }); // passed on to B
    const m = await caughtUp(a, 'logs', 13 + 30);
    assert.equal(metric(m, 'loupe_forward_items_sent_total', 'logs'), 43);
    assert.equal(metric(m, 'loupe_forward_items_retried_total', 'logs'), 0);
    assert.equal(fake.seen.length, 4);
    assert.equal(await logCount(b, 'fwd-400'), 30);
    assert.equal(fake.seen[0].headers['content-type'], 'application/json');
    assert.match(a.stderr, /level=warn event=forward_refused .*items=100 reason="HTTP 400: bad request: nope" action="skipped"/);
    assert.match(a.stderr, /event=forward_rejected .*items=7 reason="HTTP 200: seven too old"/);
  } finally {
    await fake.close();
  }
  await stopClean(a);
  await stopClean(b);
});

test('items evicted before they could be sent are counted as dropped', async () => {
  const [bGrpc, bHttp, bUi] = await freePorts(3);
  const a = await loupe({ storage: 'sqlite', args: ['--max-logs', '200', '--forward', `http://127.0.0.1:${bHttp}`] });
  await postLogs(a, 'fwd-evict', 100);
  await until(async () => metric(await forwardMetrics(a), 'loupe_forward_items_retried_total', 'logs') > 0, 10000, 'A retries');
  await postLogs(a, 'fwd-evict', 900, { from: 100, per: 100 }); // retention keeps about 200
  const b = await loupe({ args: ['--otlp-grpc-addr', `127.0.0.1:${bGrpc}`, '--otlp-http-addr', `127.0.0.1:${bHttp}`, '--ui-addr', `127.0.0.1:${bUi}`] });
  b.uiUrl = `http://127.0.0.1:${bUi}`;
  const m = await until(async () => {
    const x = await forwardMetrics(a);
    const sent = metric(x, 'loupe_forward_items_sent_total', 'logs');
    const dropped = metric(x, 'loupe_forward_items_dropped_total', 'logs');
    return sent + dropped === 1000 && metric(x, 'loupe_forward_lag_items', 'logs') === 0 ? x : null;
  }, 20000, 'every record sent or counted as dropped');
  const dropped = metric(m, 'loupe_forward_items_dropped_total', 'logs');
  assert.ok(dropped >= 700, `dropped ${dropped}`);
  assert.equal(await logCount(b, 'fwd-evict'), 1000 - dropped);
  assert.match(a.stderr, /event=forward_items_dropped .*reason="evicted by retention before they could be sent"/);
  await stopClean(a);
  await stopClean(b);
});

test('bad --forward values stop loupe at start with the flag named', async () => {
  for (const [args, re] of [
    [['--forward', 'ftp://x:1'], /--forward ftp:\/\/x:1: the scheme must be grpc, http or https/],
    [['--forward', 'https://collector:4317', '--forward-protocol', 'grpc'], /gRPC over TLS is not supported/],
    [['--forward', 'grpc://collector'], null],
    [['--forward', 'http://c:4318', '--forward-protocol', 'thrift'], /--forward-protocol: "thrift" is not grpc, http\/protobuf or http\/json/],
    [['--forward', 'http://c:4318', '--forward-header', 'novalue'], /--forward-header "novalue": not KEY=VALUE/],
    [['--forward', 'http://c:4318', '--forward-header', 'content-type=x'], /loupe sets this header itself/],
    [['--forward', 'http://c:99999'], /a bad port/],
  ]) {
    if (!re) continue; // accepted (port 4317 by default); not started here
    const { spawn } = await import('node:child_process');
    const { LOUPE_BIN } = await import('./lib/server.mjs');
    const r = await new Promise((resolve) => {
      const child = spawn(LOUPE_BIN, ['--storage', 'memory', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('exit', (status) => resolve({ status, stderr }));
    });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
