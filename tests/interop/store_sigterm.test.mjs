// Graceful shutdown under load: load loupe through its real receivers
// (OTLP/HTTP protobuf and OTLP/gRPC, requests made by the official
// serializers), record every acknowledged span and log, send SIGTERM at a
// different moment in each round, and require a clean exit (code 0) within
// 10 s. Then restart on the same data directory: every acknowledged item is
// there, nothing unsent appears, and the database is consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoupe } from './lib/server.mjs';
import { newRound, startMixedLoad, verifyRound } from './lib/mixedload.mjs';
import { verifyDatabaseIfShell } from './lib/dbcheck.mjs';

const LOAD_MAX_MS = 5000;
const SHUTDOWN_LIMIT_MS = 10000;

// Loads srv, sends SIGTERM after termAfterMs, waits for the exit. Senders
// (3 OTLP/HTTP trace senders, 2 OTLP/gRPC, 2 OTLP/HTTP log senders) keep
// going until their requests fail (the ports close), so requests are in
// flight at the signal.
async function loadAndTerm(srv, round, termAfterMs) {
  const rec = newRound('term', round);
  let termAt = 0;
  let exited = false;
  const deadline = Date.now() + LOAD_MAX_MS + SHUTDOWN_LIMIT_MS;
  const load = startMixedLoad(srv, rec, {
    running: () => !exited && Date.now() < deadline,
    stopped: () => termAt !== 0,
    httpTraceSenders: 3,
    grpcTraceSenders: 2,
    timeoutMs: 15000,
  });
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
  await load.done;
  load.close();
  rec.ackedAtTerm = ackedAtTerm;
  return rec;
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
      assert.deepEqual(rec.errorsBeforeStop, [], 'no sender failed before the signal');
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
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
  rmSync(tmp, { recursive: true, force: true });
});
