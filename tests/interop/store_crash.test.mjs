// Crash safety: load loupe through its real receivers (OTLP/HTTP protobuf
// and OTLP/gRPC, requests made by the official serializers), record every
// acknowledged span and log, kill -9 at a random moment mid-load, restart on
// the same data directory and check that every acknowledged item is there
// and that the stored summaries agree with the spans. Several rounds, each
// on top of the data of the previous ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startLoupe } from './lib/server.mjs';
import { getApi } from './lib/load.mjs';
import { newRound, startMixedLoad, verifyRound } from './lib/mixedload.mjs';
import { verifyDatabaseIfShell } from './lib/dbcheck.mjs';

const ROUNDS = Number(process.env.LOUPE_CRASH_ROUNDS || 5);
const LOAD_MAX_MS = 4000; // a round's load never lasts longer

// A small seeded PRNG, so a failing round can be replayed (seed in the output).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

// Loads srv until it is killed (or LOAD_MAX_MS): 4 OTLP/HTTP trace senders,
// 1 OTLP/gRPC trace sender, 2 OTLP/HTTP log senders. Kills the server after
// killAfterMs. Returns the round's record.
async function loadAndKill(srv, round, killAfterMs) {
  const rec = newRound('crash', round);
  let killedAt = 0;
  const deadline = Date.now() + LOAD_MAX_MS;
  const load = startMixedLoad(srv, rec, {
    running: () => !killedAt && Date.now() < deadline,
    stopped: () => killedAt !== 0,
    httpTraceSenders: 4,
    grpcTraceSenders: 1,
    timeoutMs: 20000,
  });
  await new Promise((r) => setTimeout(r, killAfterMs));
  killedAt = Date.now();
  const exit = await srv.kill();
  assert.equal(exit.signal, 'SIGKILL');
  await load.done;
  load.close();
  return rec;
}

test(`kill -9 mid-load, ${ROUNDS} rounds: every acknowledged span and log survives, summaries match`, { timeout: 240000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-crash-'));
  const dataDir = path.join(tmp, 'data');
  const seed = Number(process.env.LOUPE_CRASH_SEED || Date.now() % 1000000);
  const rand = rng(seed);
  t.diagnostic(`seed ${seed} (LOUPE_CRASH_SEED replays the kill moments)`);
  const rounds = [];
  let srv = await startLoupe({ storage: 'sqlite', dataDir });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const killAfter = 300 + Math.floor(rand() * 2200);
      const rec = await loadAndKill(srv, round, killAfter);
      rounds.push(rec);
      assert.deepEqual(rec.errorsBeforeStop, [], 'no sender failed before the kill');
      const acked = rec.ledger.ackedSpanCount;
      t.diagnostic(`round ${round}: killed after ${killAfter} ms; ${acked} spans and ${rec.ledger.ackedLogs.size} logs acknowledged, answers ${JSON.stringify(Object.fromEntries(rec.ledger.answers))}`);
      assert.ok(acked > 0 && rec.ledger.ackedLogs.size > 0, 'the load got through before the kill');
      srv = await startLoupe({ storage: 'sqlite', dataDir });
      for (const r of rounds) await verifyRound(srv, r);
    }
  } finally {
    const res = await srv.stop();
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  }
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
  assert.ok(existsSync(path.join(dataDir, 'loupe.db')));
  rmSync(tmp, { recursive: true, force: true });
});

// Retention at work while the kill lands: small maxima make the writer
// evict (whole traces, counters decremented, full-text entries deleted) in
// the same moments as it commits. After each restart every trace is whole
// or gone and every counter matches the rows.
test('kill -9 while retention evicts: traces whole or gone, counters match', { timeout: 240000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-crash-evict-'));
  const dataDir = path.join(tmp, 'data');
  const seed = Number(process.env.LOUPE_CRASH_SEED || Date.now() % 1000000) + 1;
  const rand = rng(seed);
  t.diagnostic(`seed ${seed}`);
  const args = ['--max-spans', '3000', '--max-logs', '2000'];
  let srv = await startLoupe({ storage: 'sqlite', dataDir, args });
  const rounds = [];
  try {
    for (let round = 0; round < 3; round++) {
      const rec = await loadAndKill(srv, round, 800 + Math.floor(rand() * 1500));
      rounds.push(rec);
      assert.deepEqual(rec.errorsBeforeStop, [], 'no sender failed before the kill');
      srv = await startLoupe({ storage: 'sqlite', dataDir, args });
      for (const r of rounds) await verifyRound(srv, r, { evicting: true });
      const agent = new http.Agent({ keepAlive: false });
      const { body } = await getApi(agent, `${srv.uiUrl}/api/v1/services`);
      const spans = body.services.reduce((a, s) => a + s.spanCount, 0);
      const logs = body.services.reduce((a, s) => a + s.logCount, 0);
      t.diagnostic(`round ${round}: ${rec.ledger.ackedSpanCount} spans acknowledged, ${spans} spans and ${logs} logs stored`);
      // retention runs after every round of commits (and at start): at most
      // one round's items (7 requests of 64 in flight here) over the maximum
      assert.ok(spans <= 3000 + 448 && logs <= 2000 + 448, `retention holds: ${spans} spans, ${logs} logs`);
    }
  } finally {
    const res = await srv.stop();
    assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
  }
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
  rmSync(tmp, { recursive: true, force: true });
});

// The two moments the segmented store changes shape: a roll-over (a new
// segment's tables made, the full one sealed, inside the writer's
// transaction) and a drop (the oldest segment's tables dropped, counters
// decremented). The test build's LOUPE_TEST_SEGMENT_PAUSE=WHERE:MS makes
// the writer announce one of them on stderr and sleep before its COMMIT; the
// kill lands in that sleep. After the restart every acknowledged item is there (or was
// evicted whole, for the drop), and the manifest, the segments and the
// counters agree (dbcheck).
for (const where of ['rollover', 'drop']) {
  test(`kill -9 inside a segment ${where}: nothing acknowledged is lost, the manifest agrees`, { timeout: 120000 }, async (t) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), `loupe-crash-${where}-`));
    const dataDir = path.join(tmp, 'data');
    const args = ['--max-spans', '3000', '--max-logs', '2000'];
    let srv = await startLoupe({ storage: 'sqlite', dataDir, args, env: { LOUPE_TEST_SEGMENT_PAUSE: `${where}:3000` } });
    const rec = newRound(`seg-${where}`, 0);
    let killedAt = 0;
    const deadline = Date.now() + 60000;
    const load = startMixedLoad(srv, rec, {
      running: () => !killedAt && Date.now() < deadline,
      stopped: () => killedAt !== 0,
      httpTraceSenders: 2,
      grpcTraceSenders: 1,
      timeoutMs: 20000,
    });
    // the writer announces the pause before it sleeps in it
    const mark = `event=store_test_pause where=${where}`;
    while (!srv.stderr.includes(mark) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(srv.stderr.includes(mark), `the writer reached a ${where}`);
    killedAt = Date.now();
    await srv.kill();
    await load.done;
    load.close();
    assert.deepEqual(rec.errorsBeforeStop, [], 'no sender failed before the kill');
    assert.ok(rec.ledger.ackedSpanCount > 0, 'spans were acknowledged before the kill');
    srv = await startLoupe({ storage: 'sqlite', dataDir, args });
    try {
      await verifyRound(srv, rec, { evicting: true });
    } finally {
      const res = await srv.stop();
      assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
    }
    verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), tmp);
    rmSync(tmp, { recursive: true, force: true });
  });
}
