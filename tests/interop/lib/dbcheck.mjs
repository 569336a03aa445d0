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

// A log segment with patterns (format 4): every record's pattern has its
// row in `patterns` (committed with the record or before it), and the
// per-minute counts per (pattern, level) sum its records.
function checkPatterns(seg) {
  assert.equal(seg('SELECT count(*) FROM logs_{N} WHERE pattern IS NOT NULL AND pattern NOT IN (SELECT id FROM patterns)'), '0', 'records of patterns without a row');
  const level = "CASE WHEN severity BETWEEN 1 AND 24 THEN (severity+3)/4 ELSE 0 END";
  assert.equal(seg(`SELECT count(*) FROM (SELECT pattern, time_ns/60000000000 m, ${level} l, count(*) n, min(time_ns) f, max(time_ns) x FROM logs_{N} WHERE pattern IS NOT NULL GROUP BY 1, 2, 3) r FULL JOIN pattern_counts_{N} c ON c.pattern=r.pattern AND c.minute=r.m AND c.level=r.l WHERE c.count IS NOT r.n OR c.first_ns IS NOT r.f OR c.last_ns IS NOT r.x`), '0', 'pattern counts');
}

// Direct checks on the database file (after a clean stop), with the sqlite3
// shell: integrity, and every stored summary against the rows it sums. The
// store keeps its telemetry in segments (tables named <table>_<segment id>,
// listed in the `segments` manifest): each segment's summaries are checked
// against its own rows, the manifest's counts against the segments, the
// services' counters against every segment, and no trace lives in two
// segments (eviction drops a segment, so a trace must be whole in one).
export function verifyDatabase(dbPath, tmp) {
  const copy = path.join(tmp, 'check.db');
  copyFileSync(dbPath, copy);
  const q = (sql) => execFileSync('sqlite3', [copy, sql], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
  assert.equal(q('PRAGMA integrity_check'), 'ok');
  const segs = q('SELECT id, signal, items FROM segments ORDER BY id').split('\n').filter(Boolean)
    .map((l) => l.split('|').map(Number));
  const tables = new Set(q("SELECT name FROM sqlite_schema WHERE type='table'").split('\n'));
  const perService = new Map(); // service id -> [spans, errors, logs, points]
  const add = (rows, k) => {
    for (const l of rows.split('\n').filter(Boolean)) {
      const [svc, n, e] = l.split('|').map(Number);
      const v = perService.get(svc) || [0, 0, 0, 0];
      v[k] += n;
      if (k === 0) v[1] += e;
      perService.set(svc, v);
    }
  };
  const traceIds = [];
  for (const [id, signal, items] of segs) {
    const seg = (sql) => q(sql.replaceAll('{N}', String(id)));
    if (signal === 0) {
      for (const t of ['traces', 'trace_services', 'spans', 'span_attr_fts']) assert.ok(tables.has(`${t}_${id}`), `${t}_${id}`);
      assert.equal(seg('SELECT count(*) FROM spans_{N}'), String(items), `segment ${id} items`);
      assert.equal(seg('SELECT count(*) FROM traces_{N} t WHERE span_count <> (SELECT count(*) FROM spans_{N} s WHERE s.trace=t.id)'), '0', 'trace span counts');
      assert.equal(seg('SELECT count(*) FROM traces_{N} t WHERE error_count <> (SELECT count(*) FROM spans_{N} s WHERE s.trace=t.id AND s.status_code=2)'), '0', 'trace error counts');
      assert.equal(seg('SELECT count(*) FROM traces_{N} t WHERE start_ns <> (SELECT min(start_ns) FROM spans_{N} s WHERE s.trace=t.id) OR end_ns <> (SELECT max(end_ns) FROM spans_{N} s WHERE s.trace=t.id)'), '0', 'trace time ranges');
      assert.equal(seg('SELECT count(*) FROM traces_{N} t WHERE has_root AND root_span_id NOT IN (SELECT span_id FROM spans_{N} s WHERE s.trace=t.id AND s.parent_span_id IS NULL)'), '0', 'trace roots');
      assert.equal(seg('SELECT count(*) FROM spans_{N} WHERE trace NOT IN (SELECT id FROM traces_{N})'), '0', 'orphan spans');
      assert.equal(seg('SELECT count(*) FROM (SELECT DISTINCT service, trace FROM spans_{N}) p WHERE NOT EXISTS (SELECT 1 FROM trace_services_{N} ts WHERE ts.service=p.service AND ts.trace=p.trace)'), '0', 'trace_services');
      assert.equal(seg('SELECT count(*) FROM (SELECT service, count(*) n, sum(status_code=2) e FROM spans_{N} GROUP BY service) x LEFT JOIN segment_services ss ON ss.segment={N} AND ss.service=x.service WHERE ss.spans IS NOT x.n OR ss.errors IS NOT x.e'), '0', 'segment_services spans');
      add(seg('SELECT service, count(*), sum(status_code=2) FROM spans_{N} GROUP BY service'), 0);
      traceIds.push(...seg('SELECT hex(trace_id) FROM traces_{N}').split('\n').filter(Boolean));
      seg("INSERT INTO span_attr_fts_{N}(span_attr_fts_{N}, rank) VALUES('integrity-check', 0)");
    } else if (signal === 1) {
      assert.equal(seg('SELECT count(*) FROM logs_{N}'), String(items), `segment ${id} items`);
      assert.equal(seg('SELECT count(*) FROM (SELECT service, count(*) n FROM logs_{N} GROUP BY service) x LEFT JOIN segment_services ss ON ss.segment={N} AND ss.service=x.service WHERE ss.logs IS NOT x.n'), '0', 'segment_services logs');
      add(seg('SELECT service, count(*), 0 FROM logs_{N} GROUP BY service'), 2);
      seg("INSERT INTO logs_fts_{N}(logs_fts_{N}, rank) VALUES('integrity-check', 0)");
      seg("INSERT INTO log_attr_fts_{N}(log_attr_fts_{N}, rank) VALUES('integrity-check', 0)");
      if (tables.has(`pattern_counts_${id}`)) checkPatterns(seg);
    } else {
      assert.equal(seg('SELECT count(*) FROM points_{N}'), String(items), `segment ${id} items`);
      add(seg('SELECT m.service, count(*), 0 FROM points_{N} p JOIN series r ON r.id=p.series JOIN metrics m ON m.id=r.metric GROUP BY m.service'), 3);
    }
  }
  assert.equal(new Set(traceIds).size, traceIds.length, 'a trace lives in one segment');
  // no table of a segment the manifest does not list
  const live = new Set(segs.map(([id]) => String(id)));
  for (const t of tables) {
    const m = /^(?:traces|trace_services|spans|logs|points|lint|pattern_counts)_(\d+)$/.exec(t);
    if (m) assert.ok(live.has(m[1]), `table ${t} of no listed segment`);
  }
  for (const l of q('SELECT id, span_count, error_count, log_count, point_count FROM services').split('\n').filter(Boolean)) {
    const [id, spans, errors, logs, points] = l.split('|').map(Number);
    assert.deepEqual([spans, errors, logs, points], perService.get(id) || [0, 0, 0, 0], `service ${id} counters`);
  }
}
