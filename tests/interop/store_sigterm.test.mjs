// Graceful shutdown under load: load loupe through its real receivers
// (OTLP/HTTP protobuf and OTLP/gRPC, requests made by the official
// serializers), record every acknowledged span and log, send SIGTERM at a
// different moment in each round, and require a clean exit (code 0) within
// 10 s. Then restart on the same data directory: every acknowledged item is
// there, nothing unsent appears, and the database is consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startLoupe } from './lib/server.mjs';
import { TRACES, grpcClient, grpcCall } from './lib/grpc.mjs';
import { LoadGen, Ledger, post, getApi, pool, allLogBodies, serviceCounts } from './lib/load.mjs';
import { SQLITE3, verifyDatabase } from './lib/dbcheck.mjs';

const LOAD_MAX_MS = 5000;
const SHUTDOWN_LIMIT_MS = 10000;

// Loads srv, sends SIGTERM after termAfterMs, waits for the exit. Senders
// keep going until their requests fail (the ports close), so requests are
// in flight at the signal.
async function loadAndTerm(srv, round, termAfterMs) {
  const rec = {
    round,
    http: new LoadGen(`term-http-r${round}`),
    grpc: new LoadGen(`term-grpc-r${round}`),
    logs: new LoadGen(`term-logs-r${round}`),
    ledger: new Ledger(),
    errorsBeforeTerm: [],
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const client = grpcClient(srv.grpcAddr);
  let termAt = 0;
  let exited = false;
  const deadline = Date.now() + LOAD_MAX_MS + SHUTDOWN_LIMIT_MS;
  const running = () => !exited && Date.now() < deadline;
  const failed = (what) => { if (!termAt) rec.errorsBeforeTerm.push(what); };

  const httpTraces = async () => {
    while (running()) {
      const req = rec.http.traceRequest({ traces: 4, spansPerTrace: 16 });
      rec.ledger.sent(req);
      const r = await post(agent, `${srv.httpUrl}/v1/traces`, req.body, 15000);
      if (r.status === 200) rec.ledger.acked(req);
      if (r.status) rec.ledger.answer(r.status);
      else { failed(`http traces: ${r.error.message}`); return; }
      if (termAt && r.status !== 200) return;
    }
  };
  const grpcTraces = async () => {
    while (running()) {
      const req = rec.grpc.traceRequest({ traces: 4, spansPerTrace: 16 });
      rec.ledger.sent(req);
      const r = await grpcCall(client, TRACES, req.body, { deadlineMs: 15000 });
      if (r.code === 0) rec.ledger.acked(req);
      else { failed(`grpc: ${r.code} ${r.details}`); if (termAt) return; }
    }
  };
  const httpLogs = async () => {
    while (running()) {
      const req = rec.logs.logRequest({ logs: 64 });
      rec.ledger.sent(req);
      const r = await post(agent, `${srv.httpUrl}/v1/logs`, req.body, 15000);
      if (r.status === 200) rec.ledger.acked(req);
      if (r.status) rec.ledger.answer(r.status);
      else { failed(`http logs: ${r.error.message}`); return; }
      if (termAt && r.status !== 200) return;
    }
  };
  const senders = [httpTraces(), httpTraces(), httpTraces(), grpcTraces(), grpcTraces(), httpLogs(), httpLogs()];
  await new Promise((r) => setTimeout(r, termAfterMs));
  const ackedAtTerm = rec.ledger.ackedSpanCount;
  termAt = Date.now();
  srv.proc.kill('SIGTERM');
  const exit = await Promise.race([
    srv.exited,
    new Promise((r) => setTimeout(() => r({ timeout: true }), SHUTDOWN_LIMIT_MS + 2000)),
  ]);
  rec.shutdownMs = Date.now() - termAt;
  exited = true;
  if (exit.timeout) srv.proc.kill('SIGKILL');
  assert.ok(!exit.timeout, `round ${round}: no exit within ${SHUTDOWN_LIMIT_MS + 2000} ms\n${srv.stderr.slice(-2000)}`);
  assert.equal(exit.code, 0, `round ${round}: exit code ${exit.code} signal ${exit.signal}\n${srv.stderr.slice(-2000)}`);
  assert.ok(rec.shutdownMs < SHUTDOWN_LIMIT_MS, `round ${round}: shutdown took ${rec.shutdownMs} ms`);
  assert.match(srv.stderr, /event=shutdown signal=SIGTERM/);
  assert.match(srv.stderr, /event=stopped/);
  assert.doesNotMatch(srv.stderr, /shutdown_timeout|requests_cut|unanswered_commits/);
  await Promise.all(senders);
  client.close();
  agent.destroy();
  rec.ackedAtTerm = ackedAtTerm;
  return rec;
}

// Every acknowledged span and log is stored, nothing unsent appears, and
// the services' counters equal what the traces and the log list hold.
async function verifyRound(srv, rec) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const byService = new Map([[rec.http.service, []], [rec.grpc.service, []]]);
    for (const [traceId, service] of rec.ledger.traceService) byService.get(service).push(traceId);
    for (const [service, traceIds] of byService) {
      let present = 0;
      await pool(traceIds, 16, async (traceId) => {
        const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
        const sent = rec.ledger.sentSpans.get(traceId);
        const acked = rec.ledger.ackedSpans.get(traceId) || new Set();
        if (status === 404) {
          assert.equal(acked.size, 0, `round ${rec.round}: trace ${traceId} with ${acked.size} acknowledged spans is missing`);
          return;
        }
        assert.equal(status, 200, `trace ${traceId}: ${status}`);
        const got = new Set(body.spans.map((s) => s.spanId));
        assert.equal(got.size, body.spans.length, `trace ${traceId}: a span is stored twice`);
        for (const id of acked) assert.ok(got.has(id), `round ${rec.round}: acknowledged span ${id} of trace ${traceId} is missing`);
        for (const id of got) assert.ok(sent.has(id), `trace ${traceId}: span ${id} was never sent`);
        present += got.size;
      });
      const counts = await serviceCounts(agent, srv.uiUrl, service);
      assert.equal(counts.spans, present, `round ${rec.round}: ${service} spanCount ${counts.spans} but its traces hold ${present} spans`);
    }
    const bodies = await allLogBodies(agent, srv.uiUrl, rec.logs.service);
    const got = new Set(bodies);
    assert.equal(got.size, bodies.length, 'a log record is stored twice');
    for (const b of rec.ledger.ackedLogs) assert.ok(got.has(b), `round ${rec.round}: acknowledged log "${b}" is missing`);
    for (const b of got) assert.ok(rec.ledger.sentLogs.has(b), `log "${b}" was never sent`);
    const counts = await serviceCounts(agent, srv.uiUrl, rec.logs.service);
    assert.equal(counts.logs, bodies.length, `round ${rec.round}: logCount ${counts.logs} but ${bodies.length} listed`);
  } finally {
    agent.destroy();
  }
}

test('SIGTERM mid-load, 3 rounds: clean exit within 10 s, every acknowledged item survives', { timeout: 180000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-sigterm-'));
  const dataDir = path.join(tmp, 'data');
  const moments = [250, 900, 1800]; // ms after the load starts
  const rounds = [];
  let srv = null;
  try {
    for (let round = 0; round < moments.length; round++) {
      srv = await startLoupe({ storage: 'sqlite', dataDir });
      const rec = await loadAndTerm(srv, round, moments[round]);
      srv = null;
      rounds.push(rec);
      assert.deepEqual(rec.errorsBeforeTerm, [], 'no sender failed before the signal');
      t.diagnostic(`round ${round}: SIGTERM after ${moments[round]} ms, exit after ${rec.shutdownMs} ms; ${rec.ledger.ackedSpanCount} spans (${rec.ackedAtTerm} at the signal) and ${rec.ledger.ackedLogs.size} logs acknowledged, answers ${JSON.stringify(Object.fromEntries(rec.ledger.answers))}`);
      assert.ok(rec.ledger.ackedSpanCount > 0 && rec.ledger.ackedLogs.size > 0, 'the load got through before the signal');
      const check = await startLoupe({ storage: 'sqlite', dataDir });
      try {
        for (const r of rounds) await verifyRound(check, r);
      } finally {
        const res = await check.stop();
        assert.equal(res.code, 0, `clean exit\n${check.stderr}`);
      }
    }
  } finally {
    if (srv) await srv.kill();
  }
  if (SQLITE3) verifyDatabase(path.join(dataDir, 'loupe.db'), tmp);
  else t.diagnostic('sqlite3 shell not installed: direct database checks skipped');
  rmSync(tmp, { recursive: true, force: true });
});
