// An existing data directory opens: a database written by the release before
// segments (schema version 2, tests/interop/fixtures/schema2) is migrated in
// place at startup, nothing is lost, and every read endpoint answers as that
// release did for the same data (its answers are in fixtures/schema2/expected;
// that release wrote each log's resource into the log, this one names it from
// the answer's resources map: compared once the references are resolved).
// Then new telemetry goes into new segments beside the adopted ones, and
// retention drops the adopted segments whole once the limits are reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startLoupe, getJson } from './lib/server.mjs';
import { traceRequest, grpcClient, grpcCall, TRACES } from './lib/grpc.mjs';
import { inlineResources } from './lib/resources.mjs';

const FIX = path.resolve('tests/interop/fixtures/schema2');
const expected = (name) => JSON.parse(readFileSync(path.join(FIX, 'expected', name), 'utf8'));

function freshCopy() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-migrate-'));
  // the database is kept as its SQL dump (loupe.sql); the shell loads it
  const r = spawnSync('sqlite3', [path.join(dir, 'loupe.db')],
    { input: readFileSync(path.join(FIX, 'loupe.sql')), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

function sql(dir, query) {
  const r = spawnSync('sqlite3', [path.join(dir, 'loupe.db'), query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('a schema 2 database is migrated and answers as before', async () => {
  const dir = freshCopy();
  const srv = await startLoupe({ storage: 'sqlite', dataDir: dir });
  try {
    // every field the old release answered, as it answered it (newer fields
    // may come beside them)
    const services = (await getJson(srv, '/api/v1/services')).body.services;
    const old = expected('services.json').services;
    assert.equal(services.length, old.length);
    old.forEach((o, i) => {
      for (const [k, v] of Object.entries(o)) assert.deepEqual(services[i][k], v, `services[${i}].${k}`);
    });
    assert.deepEqual((await getJson(srv, '/api/v1/traces?limit=1000')).body, expected('traces.json'));
    // logs: every field as before; the adopted records have no pattern
    const logs = inlineResources((await getJson(srv, '/api/v1/logs?limit=1000')).body, 'logs');
    const oldLogs = expected('logs.json');
    assert.deepEqual({ ...logs, logs: null }, { ...oldLogs, logs: null });
    assert.equal(logs.logs.length, oldLogs.logs.length);
    oldLogs.logs.forEach((o, i) => {
      assert.deepEqual(logs.logs[i], { ...o, patternId: null }, `logs[${i}]`);
    });
    // nor are they counted in log patterns
    const pats = (await getJson(srv, '/api/v1/logs/patterns')).body;
    assert.deepEqual([pats.total, pats.patterns], [0, []]);
    assert.deepEqual((await getJson(srv, '/api/v1/metrics')).body, expected('metrics.json'));
    for (const signal of ['traces', 'logs', 'metrics']) {
      const r = await fetch(`${srv.uiUrl}/api/v1/export?signal=${signal}`);
      assert.equal(r.status, 200);
      const want = readFileSync(path.join(FIX, 'expected', `export-${signal}.jsonl`), 'utf8');
      assert.equal(await r.text(), want, `export of ${signal}`);
    }
    // every trace of the old list comes back whole by id
    for (const t of expected('traces.json').traces) {
      const r = await getJson(srv, `/api/v1/traces/${t.traceId}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.spans.length, t.spanCount);
    }
  } finally {
    await srv.stop({ keepData: true });
  }
  // the manifest: the three adopted segments, sealed, with their counts
  assert.equal(sql(dir, 'PRAGMA user_version'), '4');
  assert.equal(sql(dir, 'SELECT group_concat(signal||":"||sealed||":"||items, " ") FROM segments ORDER BY id'),
    '0:1:415 1:1:24 2:1:30');
  rmSync(dir, { recursive: true, force: true });
});

test('after the migration, new spans go to new segments and retention drops the old ones whole', async () => {
  const dir = freshCopy();
  // 415 old spans; a limit of 400 keeps 360..400 spans in segments of 40
  const srv = await startLoupe({ storage: 'sqlite', dataDir: dir, args: ['--max-spans', '400'] });
  try {
    const client = grpcClient(srv.grpcAddr);
    const sent = [];
    for (let i = 0; i < 60; i++) { // 600 spans: the store fills and turns over
      const req = traceRequest('after-migration', 10, `new-${i}`);
      const r = await grpcCall(client, TRACES, req.body);
      assert.equal(r.code, 0, r.details);
      sent.push(req.traceId);
    }
    client.close();
    const svc = (await getJson(srv, '/api/v1/services')).body.services;
    const total = svc.reduce((n, s) => n + s.spanCount, 0);
    assert.ok(total <= 400 && total >= 360, `spans kept: ${total}`);
    // the newest traces are all there, whole
    for (const id of sent.slice(-20)) {
      const r = await getJson(srv, `/api/v1/traces/${id}`);
      assert.equal(r.status, 200, id);
      assert.equal(r.body.spans.length, 10);
    }
    // the adopted trace segment (415 spans) was dropped whole: none of its
    // traces is left, not even in part
    for (const t of expected('traces.json').traces) {
      const r = await getJson(srv, `/api/v1/traces/${t.traceId}`);
      assert.equal(r.status, 404, t.traceId);
    }
  } finally {
    await srv.stop({ keepData: true });
  }
  assert.equal(sql(dir, "SELECT count(*) FROM sqlite_schema WHERE name='spans_1'"), '0');
  rmSync(dir, { recursive: true, force: true });
});
