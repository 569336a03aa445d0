// Log patterns through the real server: records of known templates (random
// variables, and real-looking lines of Node services) sent with the official
// OpenTelemetry SDK and OTLP log exporters (http/protobuf and gRPC) land in
// the pattern of their template (at least 95%, no pattern shared by two
// templates); GET /api/v1/logs/patterns counts them per template, level and
// step, with an example and what is new in a window; /logs?pattern=ID
// lists exactly a pattern's records; the ids survive a restart; and after a
// kill -9 every stored record's pattern has its row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';
import { makeCorpus, sendCorpus, TEMPLATES, STRUCTURED } from './lib/logcorpus.mjs';
import { verifyDatabaseIfShell } from './lib/dbcheck.mjs';

const PER_TEMPLATE = 30;
const NTEMPLATES = TEMPLATES.length + STRUCTURED.length;

// Half the services over gRPC, half over OTLP/HTTP protobuf.
const exporterFor = (srv) => (service) => exporters(srv, ['frontend', 'db'].includes(service) ? 'grpc' : 'http/protobuf').logs;

async function waitForLogs(srv, n) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const svc = (await getJson(srv, '/api/v1/services')).body.services;
    const have = svc.reduce((s, x) => s + (x.logCount || 0), 0);
    if (have >= n) return have;
    assert.ok(Date.now() < deadline, `only ${have} of ${n} records stored`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function allLogs(srv, query = '') {
  const out = [];
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const r = await getJson(srv, `/api/v1/logs?limit=1000${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200);
    out.push(...r.body.logs);
    if (!r.body.nextCursor) return out;
    cursor = r.body.nextCursor;
  }
  throw new Error('too many pages');
}

// template index -> {major: pattern id of most of its records, n, inMajor}
function byTemplate(logs) {
  const per = new Map();
  for (const l of logs) {
    const t = l.attributes['corpus.template'];
    if (!per.has(t)) per.set(t, new Map());
    const m = per.get(t);
    m.set(l.patternId, (m.get(l.patternId) || 0) + 1);
  }
  const out = new Map();
  for (const [t, m] of per) {
    let major = null;
    let best = 0;
    let n = 0;
    for (const [p, c] of m) {
      n += c;
      if (c > best) { best = c; major = p; }
    }
    out.set(t, { major, n, inMajor: best, patterns: [...m.keys()] });
  }
  return out;
}

test('records of known templates land in their template\'s pattern; the list counts them', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loupe-patterns-'));
  let srv = await startLoupe({ storage: 'sqlite', dataDir });
  try {
    const corpus = makeCorpus(0x5eed, PER_TEMPLATE);
    const start = Date.now();
    const results = await sendCorpus(corpus, exporterFor(srv), { timeOf: (i) => start + Math.floor(i / 20) });
    assert.ok(results.length > 0 && results.every((r) => r.code === 0), 'every export succeeded');
    await waitForLogs(srv, corpus.length);

    const logs = await allLogs(srv);
    assert.equal(logs.length, corpus.length);
    assert.ok(logs.every((l) => Number.isInteger(l.patternId) && l.patternId > 0), 'every record has a pattern');
    const per = byTemplate(logs);
    assert.equal(per.size, NTEMPLATES);
    let inMajor = 0;
    for (const [tmpl, x] of per) {
      inMajor += x.inMajor;
      if (x.inMajor < x.n) t.diagnostic(`template ${tmpl}: ${x.inMajor} of ${x.n} in its pattern (${x.patterns.join(',')})`);
    }
    const share = inMajor / logs.length;
    t.diagnostic(`${(100 * share).toFixed(2)}% of ${logs.length} records in their template's pattern`);
    assert.ok(share >= 0.95, `only ${(100 * share).toFixed(2)}% in their template's pattern`);
    // no pattern holds records of two templates
    const owner = new Map();
    for (const l of logs) {
      const tmpl = l.attributes['corpus.template'];
      if (owner.has(l.patternId)) assert.equal(owner.get(l.patternId), tmpl, `pattern ${l.patternId} holds two templates`);
      owner.set(l.patternId, tmpl);
    }

    // the list: one pattern per template, counted per template and level
    const list = (await getJson(srv, '/api/v1/logs/patterns?limit=1000')).body;
    assert.equal(list.total, owner.size);
    const byId = new Map(list.patterns.map((p) => [p.id, p]));
    for (const [tmpl, x] of per) {
      const p = byId.get(x.major);
      assert.ok(p, `pattern ${x.major} listed`);
      const [service, severity] = tmpl < TEMPLATES.length ? TEMPLATES[tmpl] : STRUCTURED[tmpl - TEMPLATES.length];
      assert.equal(p.service, service);
      assert.equal(p.kind, tmpl < TEMPLATES.length ? 'text' : 'structured');
      assert.equal(p.count, x.inMajor);
      assert.equal(p.counts.reduce((a, b) => a + b, 0), p.count, 'steps add up');
      const level = ['unspecified', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'][Math.floor((severity + 3) / 4)];
      assert.deepEqual(p.severities, { [level]: p.count });
      assert.ok(p.example && logs.some((l) => l.patternId === p.id && l.timeUnixNano === p.example.timeUnixNano
        && JSON.stringify(l.body) === JSON.stringify(p.example.body)), `example of ${p.id} is one of its records`);
      assert.equal(p.new, true);
      assert.ok(BigInt(p.firstSeenUnixNano) <= BigInt(p.lastSeenUnixNano));
    }
    // sorted by count; limit and total
    for (let i = 1; i < list.patterns.length; i++) assert.ok(list.patterns[i - 1].count >= list.patterns[i].count);
    const two = (await getJson(srv, '/api/v1/logs/patterns?limit=2')).body;
    assert.deepEqual([two.patterns.length, two.total], [2, list.total]);
    // a template of every placeholder kind reads as such
    const get = byId.get(per.get(0).major);
    assert.equal(get.template, 'GET <PATH> <NUM> <DURATION>');
    const tls = byId.get(per.get(30).major);
    assert.equal(tls.template, 'TLS handshake with <IP> failed: certificate for "<*>" expired at <TIME>');
    // filters
    const errors = (await getJson(srv, '/api/v1/logs/patterns?minSeverity=error&service=checkout')).body;
    assert.ok(errors.patterns.length > 0);
    assert.ok(errors.patterns.every((p) => p.service === 'checkout' && Object.keys(p.severities).every((k) => k === 'error')));

    // a pattern's records: exactly its own, all of them
    const pay = per.get(11).major;
    const mine = await allLogs(srv, `&pattern=${pay}`);
    assert.equal(mine.length, byId.get(pay).count);
    assert.ok(mine.every((l) => l.patternId === pay && l.attributes['corpus.template'] === 11));

    // bad parameters
    for (const q of ['pattern=0', 'pattern=abc', 'pattern=-3']) {
      const r = await getJson(srv, `/api/v1/logs?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.error.message, /'pattern'/);
    }
    for (const q of ['sort=oldest', 'step=10ns&start=0&end=1000000000000000000', 'limit=0', 'minSeverity=loud']) {
      const r = await getJson(srv, `/api/v1/logs/patterns?${q}`);
      assert.equal(r.status, 400, q);
    }

    // new in a window: a template sent only now
    const later = Date.now() + 120000; // two minutes on: a window of its own
    await sendCorpus(makeCorpus(7, 5, { templates: [3, 44], structured: false }), exporterFor(srv),
      { timeOf: () => later });
    await waitForLogs(srv, corpus.length + 10);
    const fresh = (await getJson(srv, `/api/v1/logs/patterns?sort=new&start=${BigInt(later) * 1000000n}`)).body;
    assert.deepEqual(fresh.patterns.map((p) => p.new), fresh.patterns.map(() => true));
    assert.equal(fresh.total, 0, 'both templates were seen before');
    await sendCorpus([{ service: 'worker', severity: 17, body: 'disk quota exceeded on volume vol-7 for tenant acme', template: -1 }],
      exporterFor(srv), { timeOf: () => later + 1 });
    await waitForLogs(srv, corpus.length + 11);
    const regression = (await getJson(srv, `/api/v1/logs/patterns?sort=new&start=${BigInt(later) * 1000000n}`)).body;
    assert.deepEqual(regression.patterns.map((p) => p.template), ['disk quota exceeded on volume vol-<NUM> for tenant acme']);
    const counted = (await getJson(srv, `/api/v1/logs/patterns?start=${BigInt(later) * 1000000n}`)).body;
    assert.equal(counted.total, 3);

    // a restart: the same templates keep their ids
    await srv.stop({ keepData: true });
    srv = await startLoupe({ storage: 'sqlite', dataDir });
    const again = makeCorpus(0xbeef, 3);
    await sendCorpus(again, exporterFor(srv));
    await waitForLogs(srv, corpus.length + 11 + again.length);
    const after = byTemplate((await allLogs(srv)).filter((l) => l.attributes['corpus.template'] >= 0));
    for (const [tmpl, x] of per) {
      assert.ok(after.get(tmpl).patterns.includes(x.major), `template ${tmpl} keeps pattern ${x.major}`);
    }
    const list2 = (await getJson(srv, '/api/v1/logs/patterns?limit=1000')).body;
    assert.equal(list2.total, list.total + 1);
  } finally {
    await srv.stop({ keepData: true });
  }
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

test('after kill -9 during ingest every stored record has its pattern\'s row', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loupe-patterns-kill-'));
  let srv = await startLoupe({ storage: 'sqlite', dataDir });
  const corpus = makeCorpus(99, 40);
  const sending = sendCorpus(corpus, (service) => exporters(srv, 'http/protobuf').logs).catch(() => {});
  // some of it stored, then killed mid-stream
  const deadline = Date.now() + 30000;
  for (;;) {
    const svc = (await getJson(srv, '/api/v1/services')).body.services;
    if (svc.reduce((s, x) => s + (x.logCount || 0), 0) > 200) break;
    assert.ok(Date.now() < deadline, 'records stored');
    await new Promise((r) => setTimeout(r, 10));
  }
  await srv.kill();
  await sending;
  srv = await startLoupe({ storage: 'sqlite', dataDir });
  try {
    const logs = await allLogs(srv);
    assert.ok(logs.length > 200);
    const listed = new Set((await getJson(srv, '/api/v1/logs/patterns?limit=1000')).body.patterns.map((p) => p.id));
    for (const l of logs) assert.ok(listed.has(l.patternId), `pattern ${l.patternId} is listed`);
    // new records of the same templates go to the same patterns
    const more = makeCorpus(100, 2);
    await sendCorpus(more, exporterFor(srv));
    await waitForLogs(srv, logs.length + more.length);
    const per = byTemplate(await allLogs(srv));
    for (const [, x] of per) assert.equal(x.patterns.length, 1);
  } finally {
    await srv.stop({ keepData: true });
  }
  verifyDatabaseIfShell(t, path.join(dataDir, 'loupe.db'), dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});
