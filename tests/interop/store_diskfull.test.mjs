// Disk full and read-only database: the store refuses writes it cannot make
// with retryable answers at the receivers (HTTP 503 + Retry-After, gRPC
// UNAVAILABLE) and one clear log line, never crashes, and resumes ingest by
// itself once space (or write access) is back.
//
// 1. --max-db-size: a size cap (SQLite max_page_count). Retention keeps the
//    database under it; a request too large for the room left is refused
//    (503), retention frees space, and the same request retried succeeds.
// 2. A real full filesystem: a small tmpfs (needs root to mount).
// 3. A read-only database: the files made immutable with chattr +i (needs
//    root and a filesystem with file attributes, e.g. ext4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startLoupe } from './lib/server.mjs';
import { chattrWorks } from './lib/dbcheck.mjs';
import { TRACES, grpcClient, grpcCall, Status } from './lib/grpc.mjs';
import { LoadGen, Ledger, post, getApi, pool, serviceCounts } from './lib/load.mjs';

const IS_ROOT = process.getuid?.() === 0;

// Waits (bounded) until the server's stderr matches re; returns the match.
async function waitLog(srv, re, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = srv.stderr.match(re);
    if (m) return m;
    if (Date.now() > end) assert.fail(`no log line matching ${re} in ${timeoutMs} ms\n${srv.stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Every acknowledged span is stored, every trace is whole, and the service
// counter equals the spans of all traces sent.
async function verifyAcked(srv, ledger, service) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let present = 0;
  await pool([...ledger.sentSpans.keys()], 8, async (traceId) => {
    const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
    const acked = ledger.ackedSpans.get(traceId) || new Set();
    if (status === 404) {
      assert.equal(acked.size, 0, `trace ${traceId} with acknowledged spans is missing`);
      return;
    }
    assert.equal(status, 200);
    const got = new Set(body.spans.map((s) => s.spanId));
    for (const id of acked) assert.ok(got.has(id), `acknowledged span ${id} missing`);
    present += got.size;
  });
  const counts = await serviceCounts(agent, srv.uiUrl, service);
  assert.equal(counts.spans, present, `${service}: spanCount ${counts.spans}, traces hold ${present}`);
  agent.destroy();
}

// Posts requests until one is answered with `status` (bounded); returns
// that answer. Requests answered 200 are recorded as acknowledged.
async function postUntil(agent, url, gen, ledger, status, { max = 400, opts = {} } = {}) {
  for (let i = 0; i < max; i++) {
    const req = gen.traceRequest(opts);
    ledger.sent(req);
    const r = await post(agent, url, req.body);
    assert.ok(r.status, `request failed: ${r.error?.message}`);
    if (r.status === 200) ledger.acked(req);
    if (r.status === status) return { ...r, req };
    assert.ok(r.status === 200 || r.status === 503, `unexpected answer ${r.status}`);
  }
  assert.fail(`no ${status} answer in ${max} requests`);
}

// Sends the same request every Retry-After seconds (bounded) until it is
// accepted, like an exporter would.
async function retryUntilAccepted(agent, url, req, ledger, maxAttempts = 10) {
  for (let i = 0; i < maxAttempts; i++) {
    const r = await post(agent, url, req.body);
    assert.ok(r.status, `request failed: ${r.error?.message}`);
    if (r.status === 200) {
      ledger.acked(req);
      return i + 1;
    }
    assert.equal(r.status, 503);
    await new Promise((res) => setTimeout(res, Number(r.headers['retry-after']) * 1000));
  }
  assert.fail(`not accepted after ${maxAttempts} attempts`);
}

function checkRetryable503(r) {
  assert.equal(r.status, 503);
  assert.match(r.headers['retry-after'] ?? '', /^[1-9][0-9]*$/, 'Retry-After in seconds');
}

test('size cap: retention keeps the database under --max-db-size; a request that does not fit is 503, then accepted on retry', { timeout: 120000 }, async (t) => {
  const CAP = 4 << 20;
  const srv = await startLoupe({ storage: 'sqlite', args: ['--max-db-size', '4MiB'] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const ledger = new Ledger();
  const gen = new LoadGen('diskfull-cap');
  const url = `${srv.httpUrl}/v1/traces`;
  // an accepted request's traces are there, whole
  const checkWhole = async (req) => {
    for (const traceId of req.traceIds) {
      const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
      assert.equal(status, 200, `trace ${traceId}`);
      assert.equal(body.spans.length, 50);
    }
  };
  try {
    // 1: 8 MB of spans in 100 KB requests: all accepted, the oldest evicted
    for (let i = 0; i < 80; i++) {
      const req = gen.traceRequest({ traces: 2, spansPerTrace: 10, padBytes: 5000 });
      ledger.sent(req);
      const r = await post(agent, url, req.body);
      assert.equal(r.status, 200, `request ${i}: ${r.status}`);
      ledger.acked(req);
    }
    const counts = await serviceCounts(agent, srv.uiUrl, gen.service);
    t.diagnostic(`after 8 MB sent: ${counts.spans} of ${ledger.ackedSpanCount} spans kept`);
    assert.ok(counts.spans < ledger.ackedSpanCount, 'retention evicted the oldest');
    assert.ok(counts.spans > 0);

    // 2: one 1.5 MB request: more than the room left between the 80-90%
    // the database is kept at and the cap
    const big = gen.traceRequest({ traces: 3, spansPerTrace: 50, padBytes: 10000, split: false });
    ledger.sent(big);
    const r = await post(agent, url, big.body);
    checkRetryable503(r);
    const line = await waitLog(srv, /level=error event=store_write_failed reason=size_cap [^\n]*/);
    assert.match(line[0], /answer=retryable/);
    // the same request, retried, gets in: retention made room
    const attempts = await retryUntilAccepted(agent, url, big, ledger);
    t.diagnostic(`the 1.5 MB request was accepted after ${attempts} retries`);
    await waitLog(srv, /event=store_write_recovered failing_for_ms=\d+ failed_batches=\d+/);
    await checkWhole(big);

    // 3: the same over gRPC: the database is at ~85% again (50% after the
    // eviction plus the 1.5 MB just stored): UNAVAILABLE, then OK on retry
    const client = grpcClient(srv.grpcAddr);
    const big2 = gen.traceRequest({ traces: 3, spansPerTrace: 50, padBytes: 10000, split: false });
    ledger.sent(big2);
    let res = await grpcCall(client, TRACES, big2.body, { deadlineMs: 20000 });
    assert.equal(res.code, Status.UNAVAILABLE, `gRPC answer ${res.code} ${res.details}`);
    assert.match(res.details, /commit failed/);
    for (let i = 0; i < 10 && res.code !== 0; i++) {
      await new Promise((rs) => setTimeout(rs, 1000));
      res = await grpcCall(client, TRACES, big2.body, { deadlineMs: 20000 });
    }
    assert.equal(res.code, 0, 'accepted on retry over gRPC');
    ledger.acked(big2);
    client.close();

    // the newest acknowledged data is there (big may be evicted by now)
    await checkWhole(big2);
    const after = await serviceCounts(agent, srv.uiUrl, gen.service);
    assert.ok(after.spans >= 150 && after.spans < ledger.ackedSpanCount);

    // 4: a 2.6 MB request, more than the half of the cap that the first
    // refusal empties: each retry that still does not fit evicts deeper
    // (25%, 12%, ...), so it gets in after a few
    const huge = gen.traceRequest({ traces: 2, spansPerTrace: 130, padBytes: 10000, split: false });
    ledger.sent(huge);
    const attemptsHuge = await retryUntilAccepted(agent, url, huge, ledger);
    t.diagnostic(`the 2.6 MB request was accepted after ${attemptsHuge} attempts`);
    assert.ok(attemptsHuge >= 2, 'refused at first: it did not fit');
    for (const traceId of huge.traceIds) {
      const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
      assert.equal(status, 200, `trace ${traceId}`);
      assert.equal(body.spans.length, 130);
    }
  } finally {
    agent.destroy();
    const res = await srv.stop({ keepData: true });
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  }
  // the file: the cap plus the headroom eviction may take (1/32 of it)
  const size = statSync(path.join(srv.dataDir, 'loupe.db')).size;
  t.diagnostic(`database file after stop: ${size} bytes (cap ${CAP})`);
  assert.ok(size <= CAP + CAP / 32 + 65536, `file ${size} bytes`);
  rmSync(srv.dataDir, { recursive: true, force: true });
});

test('full filesystem: 503 + Retry-After and UNAVAILABLE with a clear log line, then ingest resumes once space is freed', { timeout: 120000, skip: !IS_ROOT && 'needs root: mounts a small tmpfs to fill' }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-diskfull-'));
  const mnt = path.join(tmp, 'mnt');
  mkdirSync(mnt);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    t.skip(`root, but cannot mount a tmpfs: ${mount.stderr.trim()}`);
    return;
  }
  let srv;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    srv = await startLoupe({ storage: 'sqlite', dataDir: path.join(mnt, 'data') });
    const ledger = new Ledger();
    const gen = new LoadGen('diskfull-fs');
    const url = `${srv.httpUrl}/v1/traces`;
    // leave about 3 MB free
    const free = () => { const o = execFileSync('df', ['-B1', '--output=avail', mnt], { encoding: 'utf8' }); return Number(o.trim().split('\n').pop()); };
    writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(Math.max(0, free() - (3 << 20))));
    const first = await postUntil(agent, url, gen, ledger, 503, { opts: { traces: 2, spansPerTrace: 10, padBytes: 2000 } });
    checkRetryable503(first);
    const line = await waitLog(srv, /level=error event=store_write_failed reason=disk_full [^\n]*/);
    assert.match(line[0], /sqlite="database or disk is full"/);
    assert.match(line[0], /action="free space/);
    // gRPC says UNAVAILABLE, the process is alive and answers the API
    const client = grpcClient(srv.grpcAddr);
    const greq = gen.traceRequest({ traces: 2, spansPerTrace: 10, padBytes: 2000 });
    ledger.sent(greq);
    const g = await grpcCall(client, TRACES, greq.body, { deadlineMs: 20000 });
    assert.equal(g.code, Status.UNAVAILABLE, `gRPC answer ${g.code} ${g.details}`);
    const api = await getApi(agent, `${srv.uiUrl}/api/v1/services`);
    assert.equal(api.status, 200);
    // a full disk stays full: retries keep failing, and the log is not flooded
    for (let i = 0; i < 5; i++) {
      const r = await post(agent, url, first.req.body);
      assert.equal(r.status, 503);
    }
    const lines = srv.stderr.match(/event=store_write_failed reason=disk_full/g).length;
    assert.ok(lines <= 2, `${lines} log lines for one fault within seconds`);
    t.diagnostic(`acknowledged before the disk filled: ${ledger.ackedSpanCount} spans`);

    // space is back: the same requests are accepted
    rmSync(path.join(mnt, 'filler'));
    const attempts = await retryUntilAccepted(agent, url, first.req, ledger);
    assert.equal(attempts, 1, 'accepted at the first retry after space came back');
    const g2 = await grpcCall(client, TRACES, greq.body, { deadlineMs: 20000 });
    assert.equal(g2.code, 0);
    ledger.acked(greq);
    client.close();
    await waitLog(srv, /event=store_write_recovered/);
    for (let i = 0; i < 10; i++) {
      const req = gen.traceRequest({ traces: 2, spansPerTrace: 10, padBytes: 2000 });
      ledger.sent(req);
      const r = await post(agent, url, req.body);
      assert.equal(r.status, 200);
      ledger.acked(req);
    }
    await verifyAcked(srv, ledger, gen.service);
  } finally {
    agent.destroy();
    if (srv) {
      const res = await srv.stop();
      assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
    }
    spawnSync('umount', [mnt]);
    rmSync(tmp, { recursive: true, force: true });
  }
});

const RO_DIR = mkdtempSync(path.join(os.tmpdir(), 'loupe-readonly-'));
const RO_SKIP = chattrWorks(RO_DIR);

test('read-only database: 503 and UNAVAILABLE with a clear log line, no crash, ingest resumes once writable', { timeout: 120000, skip: RO_SKIP }, async (t) => {
  const dataDir = path.join(RO_DIR, 'data');
  const files = ['loupe.db', 'loupe.db-wal'].map((f) => path.join(dataDir, f));
  let srv;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    srv = await startLoupe({ storage: 'sqlite', dataDir });
    const ledger = new Ledger();
    const gen = new LoadGen('readonly');
    const url = `${srv.httpUrl}/v1/traces`;
    for (let i = 0; i < 5; i++) {
      const req = gen.traceRequest();
      ledger.sent(req);
      assert.equal((await post(agent, url, req.body)).status, 200);
      ledger.acked(req);
    }
    execFileSync('chattr', ['+i', ...files]);
    const req = gen.traceRequest();
    ledger.sent(req);
    const r = await post(agent, url, req.body);
    checkRetryable503(r);
    const line = await waitLog(srv, /level=error event=store_write_failed reason=read_only [^\n]*/);
    t.diagnostic(line[0]);
    const client = grpcClient(srv.grpcAddr);
    const g = await grpcCall(client, TRACES, req.body, { deadlineMs: 20000 });
    assert.equal(g.code, Status.UNAVAILABLE);
    assert.equal(srv.proc.exitCode, null, 'still running');
    assert.equal((await getApi(agent, `${srv.uiUrl}/api/v1/services`)).status, 200, 'the API still answers');
    execFileSync('chattr', ['-i', ...files]);
    assert.equal(await retryUntilAccepted(agent, url, req, ledger), 1);
    const req2 = gen.traceRequest();
    ledger.sent(req2);
    const g2 = await grpcCall(client, TRACES, req2.body, { deadlineMs: 20000 });
    assert.equal(g2.code, 0);
    ledger.acked(req2);
    client.close();
    await waitLog(srv, /event=store_write_recovered/);
    await verifyAcked(srv, ledger, gen.service);
  } finally {
    agent.destroy();
    spawnSync('chattr', ['-i', ...files]);
    if (srv) {
      const res = await srv.stop();
      assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
    }
  }

  // a database that is read-only at startup: a one-line error, exit != 0
  execFileSync('chattr', ['+i', files[0]]);
  try {
    const started = await startLoupe({ storage: 'sqlite', dataDir }).catch((e) => e);
    if (!(started instanceof Error)) {
      await started.stop();
      assert.fail('loupe started on a read-only database');
    }
    assert.match(started.message, /exited early \(code 1,/);
    assert.match(started.message, /loupe: cannot open the store: database .* is not writable/);
  } finally {
    spawnSync('chattr', ['-i', files[0]]);
    rmSync(RO_DIR, { recursive: true, force: true });
  }
});

if (RO_SKIP) rmSync(RO_DIR, { recursive: true, force: true });
