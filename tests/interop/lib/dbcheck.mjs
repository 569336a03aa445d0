// dbcheck.mjs - direct checks of a loupe database file with the sqlite3
// shell (when installed): integrity, and every stored summary and counter
// against the rows it sums. Run on a copy, after a clean stop.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SQLITE3 = spawnSync('sqlite3', ['-version']).status === 0;

// Whether files in dir can be made immutable (chattr +i), the way the
// read-only database tests make SQLite's writes fail: false when they can,
// else the reason to skip (a string, printed by the spec reporter).
export function chattrWorks(dir) {
  if (process.getuid?.() !== 0) return 'needs root: chattr +i makes the database files immutable';
  const probe = path.join(dir, 'probe');
  writeFileSync(probe, 'x');
  const r = spawnSync('chattr', ['+i', probe], { encoding: 'utf8' });
  spawnSync('chattr', ['-i', probe]);
  rmSync(probe, { force: true });
  return r.status === 0 ? false : `chattr +i not supported here: ${(r.stderr || r.error?.message || '').trim()}`;
}

// verifyDatabase when the sqlite3 shell is there; without it a diagnostic
// line says the checks were skipped, except in CI (CI set), where the shell
// is a test dependency (scripts/deps.sh test) and its absence fails.
export function verifyDatabaseIfShell(t, dbPath, tmp) {
  if (SQLITE3) return verifyDatabase(dbPath, tmp);
  assert.ok(!process.env.CI, 'the sqlite3 shell is missing in CI (scripts/deps.sh test installs it)');
  t.diagnostic('sqlite3 shell not installed: direct database checks skipped');
}

// Direct checks on the database file (after a clean stop), with the sqlite3
// shell: integrity, and every stored summary against the rows it sums.
export function verifyDatabase(dbPath, tmp) {
  const copy = path.join(tmp, 'check.db');
  copyFileSync(dbPath, copy);
  const q = (sql) => execFileSync('sqlite3', [copy, sql], { encoding: 'utf8' }).trim();
  assert.equal(q('PRAGMA integrity_check'), 'ok');
  assert.equal(q('SELECT count(*) FROM traces t WHERE span_count <> (SELECT count(*) FROM spans s WHERE s.trace=t.id)'), '0', 'trace span counts');
  assert.equal(q('SELECT count(*) FROM traces t WHERE error_count <> (SELECT count(*) FROM spans s WHERE s.trace=t.id AND s.status_code=2)'), '0', 'trace error counts');
  assert.equal(q('SELECT count(*) FROM traces t WHERE start_ns <> (SELECT min(start_ns) FROM spans s WHERE s.trace=t.id) OR end_ns <> (SELECT max(end_ns) FROM spans s WHERE s.trace=t.id)'), '0', 'trace time ranges');
  assert.equal(q('SELECT count(*) FROM traces t WHERE has_root AND root_span_id NOT IN (SELECT span_id FROM spans s WHERE s.trace=t.id AND s.parent_span_id IS NULL)'), '0', 'trace roots');
  assert.equal(q('SELECT count(*) FROM spans WHERE trace NOT IN (SELECT id FROM traces)'), '0', 'orphan spans');
  assert.equal(q('SELECT count(*) FROM (SELECT DISTINCT service, trace FROM spans) p WHERE NOT EXISTS (SELECT 1 FROM trace_services ts WHERE ts.service=p.service AND ts.trace=p.trace)'), '0', 'trace_services');
  assert.equal(q('SELECT count(*) FROM services v WHERE span_count <> (SELECT count(*) FROM spans s WHERE s.service=v.id) OR log_count <> (SELECT count(*) FROM logs l WHERE l.service=v.id) OR error_count <> (SELECT count(*) FROM spans s WHERE s.service=v.id AND s.status_code=2) OR point_count <> (SELECT count(*) FROM points p JOIN series r ON r.id=p.series JOIN metrics m ON m.id=r.metric WHERE m.service=v.id)'), '0', 'service counters');
  // the full-text indexes' own structure (throws when damaged)
  for (const fts of ['logs_fts', 'span_attr_fts', 'log_attr_fts']) q(`INSERT INTO ${fts}(${fts}, rank) VALUES('integrity-check', 0)`);
}

