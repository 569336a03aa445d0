// Log patterns on the ClickHouse store (storage/ch_patterns.h): the same
// corpus of known templates (lib/logcorpus.mjs) sent to a loupe on
// --storage memory (the SQLite store) and to one on --storage clickhouse
// (private clickhouse-servers from lib/clickhouse.mjs: one, then a
// two-shard cluster; skipped when none is installed) gives the same GET /api/v1/logs/patterns (templates,
// counts per step and level, first and last record, since, new, example;
// with service, minSeverity, sort=new, windows, step and limit), the same
// records under /api/v1/logs?pattern=, each record's patternId that of its
// pattern, and the same patternId in the live stream as in the list. A
// restart keeps the patterns and ids (records of one export each join
// them); a round ClickHouse did not take writes its pattern's row with the
// retry. Two loupes on one database, each fed half of a corpus, give the
// same templates the same ids (measured, reported as diagnostics: with the
// SDK's batches, and with one record per export).
//
// What legitimately differs: the ids themselves (the SQLite store counts
// 1, 2, ...; ClickHouse uses a hash of service, kind and first template),
// so patterns are matched by (service, kind, template), and ties of count
// may be listed in another order (compared as sets of equal counts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clickhouseAvailable, startClickHouse } from './lib/clickhouse.mjs';
import { startLoupe, getJson } from './lib/server.mjs';
import { until } from './lib/forward.mjs';
import { exporters } from './lib/telemetry.mjs';
import { makeCorpus, sendCorpus, TEMPLATES } from './lib/logcorpus.mjs';

const SKIP = clickhouseAvailable() ? false : 'clickhouse-server is not installed';
const PER_TEMPLATE = 12;
// a fixed start an hour ago on a whole minute, a record every 0.437 s: the
// corpus spans several minutes, every record has its own time
const T0 = Math.floor(Date.now() / 60000) * 60000 - 3600000;
const timeOf = (i) => T0 + i * 437;
const MS = 1000000n;

async function allLogs(srv, query = '') {
  const out = [];
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const r = await getJson(srv, `/api/v1/logs?limit=1000${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.logs);
    if (!r.body.nextCursor) return out;
    cursor = r.body.nextCursor;
  }
  throw new Error('too many pages');
}

async function waitForLogs(srv, n) {
  await until(async () => {
    const r = await getJson(srv, '/api/v1/logs?limit=1000');
    if (r.status !== 200) return false;
    if (r.body.logs.length < 1000 && r.body.logs.length >= n) return true;
    return (await allLogs(srv)).length >= n;
  }, 60000, `${n} records stored`);
}

const keyOf = (p) => `${p.service}\u0000${p.kind}\u0000${p.template}`;
const recKey = (l) => `${l.service}\u0000${l.timeUnixNano}\u0000${JSON.stringify(l.body)}`;

// A patterns answer with ids replaced by the pattern's key, in a form
// both stores must give alike: ties of count in a canonical order.
function normPatterns(body) {
  const { patterns, ...head } = body;
  const items = patterns.map(({ id, ...rest }) => ({ key: keyOf(rest), ...rest }));
  return { head, items };
}

async function samePatterns(mem, chl, query, { expectSome = true } = {}) {
  const [a, b] = await Promise.all([mem, chl].map((s) => getJson(s, `/api/v1/logs/patterns?${query}`)));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const x = normPatterns(a.body), y = normPatterns(b.body);
  assert.deepEqual(y.head, x.head, `head of patterns?${query}`);
  // the same patterns, the same figures; the order the same up to ties
  assert.deepEqual(y.items.map((p) => p.count), x.items.map((p) => p.count), `counts of patterns?${query}`);
  const byKey = (v) => new Map(v.map((p) => [p.key, p]));
  const xm = byKey(x.items), ym = byKey(y.items);
  if (x.items.length === x.head.total) {
    assert.deepEqual([...ym.keys()].sort(), [...xm.keys()].sort(), `patterns of patterns?${query}`);
  }
  for (const [k, p] of ym) {
    if (!xm.has(k)) { // cut by limit among equal counts
      assert.ok(x.items.some((q) => q.count === p.count), `pattern ${k} of patterns?${query}`);
      continue;
    }
    assert.deepEqual(p, xm.get(k), `pattern ${k.replace(/\u0000/g, ' | ')} of patterns?${query}`);
  }
  if (expectSome) assert.ok(x.items.length > 0, `patterns?${query} lists some`);
  return { mem: a.body, ch: b.body };
}

// ---- the live stream -----------------------------------------------------------

// Reads SSE events from url until done(events) or ms pass; opened resolves
// once the stream has started.
function readEvents(url, done, ms) {
  const ac = new AbortController();
  let ready;
  const opened = new Promise((r) => { ready = r; });
  const loop = (async () => {
    const events = [];
    const res = await fetch(url, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    const deadline = Date.now() + ms;
    let text = '';
    while (Date.now() < deadline) {
      const timer = setTimeout(() => ac.abort(), Math.max(1, deadline - Date.now()));
      let chunk;
      try { chunk = await reader.read(); } catch { break; } finally { clearTimeout(timer); }
      if (chunk.done) break;
      text += dec.decode(chunk.value, { stream: true });
      if (text.includes(': loupe live')) ready(true);
      let i;
      while ((i = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, i);
        text = text.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (ev && data) events.push({ event: ev[1], data: JSON.parse(data[1]) });
      }
      if (done(events)) break;
    }
    ac.abort();
    return events;
  })();
  loop.finally(() => ready(false)).catch(() => {});
  return { opened, done: loop };
}

// ---- one loupe per store, the same corpus ------------------------------------------

const suite = (title, shards) => describe(title, { skip: SKIP }, () => {
  let ch, mem, chl, chOpts;
  const corpus = makeCorpus(0xc11c, PER_TEMPLATE);

  before(async () => {
    ch = await startClickHouse({ shards });
    chOpts = { urls: ch.urls, database: 'q5_patterns', cluster: ch.cluster };
    mem = await startLoupe({ storage: 'memory', chOptOut: true });
    chl = await startLoupe({ storage: 'clickhouse', clickhouse: chOpts });
    const live = readEvents(`${chl.uiUrl}/api/v1/live?events=logs&heartbeat=1s`,
      (evs) => evs.filter((e) => e.event === 'log').length >= corpus.length, 60000);
    assert.equal(await live.opened, true, 'the live stream opened');
    for (const srv of [mem, chl]) {
      const results = await sendCorpus(corpus, (svc) => exporters(srv, 'http/protobuf').logs, { timeOf });
      assert.ok(results.length > 0 && results.every((r) => r.code === 0), 'every export succeeded');
    }
    await waitForLogs(mem, corpus.length);
    await waitForLogs(chl, corpus.length);
    chl.liveEvents = (await live.done).filter((e) => e.event === 'log').map((e) => e.data);
  });
  after(async () => {
    await mem?.stop();
    await chl?.stop();
    await ch?.stop();
  });

  test('the list, its filters, windows and steps', async () => {
    const all = await samePatterns(mem, chl, 'limit=1000');
    assert.equal(all.ch.total, all.mem.total);
    assert.ok(all.ch.total >= TEMPLATES.length, `${all.ch.total} patterns`);
    assert.ok(all.ch.patterns.every((p) => Number.isSafeInteger(p.id) && p.id > 0));
    assert.equal(all.ch.patterns.reduce((s, p) => s + p.count, 0), corpus.length, 'every record counted');
    assert.ok(all.ch.patterns.every((p) => p.example !== null && p.new === true));
    await samePatterns(mem, chl, 'limit=3');
    await samePatterns(mem, chl, 'service=checkout&limit=1000');
    await samePatterns(mem, chl, 'service=worker&minSeverity=warn&limit=1000');
    await samePatterns(mem, chl, 'minSeverity=error&limit=1000');
    await samePatterns(mem, chl, 'minSeverity=10&limit=1000'); // by level: the example by number
    await samePatterns(mem, chl, 'service=nosuch', { expectSome: false });
    const start = BigInt(T0) * MS, mid = start + 120000n * MS;
    await samePatterns(mem, chl, `start=${start}&end=${mid}&step=30s&limit=1000`);
    await samePatterns(mem, chl, `start=${mid}&limit=1000`);
    await samePatterns(mem, chl, `end=${mid}&step=2m&limit=1000`);
    await samePatterns(mem, chl, `sort=new&start=${mid}&limit=1000`, { expectSome: false });
    await samePatterns(mem, chl, `sort=new&start=${start}&limit=5`);
    await samePatterns(mem, chl, `sort=new&limit=1000`);
    await samePatterns(mem, chl, `start=${start - 3600000n * MS}&end=${start}`, { expectSome: false });
    // refused alike
    for (const q of ['limit=0', 'step=1ms&start=0&end=99999999999999999']) {
      const [a, b] = await Promise.all([mem, chl].map((s) => getJson(s, `/api/v1/logs/patterns?${q}`)));
      assert.equal(b.status, a.status, q);
    }
  });

  test('pattern= lists exactly a pattern\'s records; patternId is the pattern\'s', async () => {
    const [lm, lc] = await Promise.all([allLogs(mem), allLogs(chl)]);
    assert.equal(lc.length, corpus.length);
    const [pm, pc] = await Promise.all([mem, chl].map(async (s) => (await getJson(s, '/api/v1/logs/patterns?limit=1000')).body.patterns));
    const keyM = new Map(pm.map((p) => [p.id, keyOf(p)])), keyC = new Map(pc.map((p) => [p.id, keyOf(p)]));
    // each record is in the pattern of the same template on both stores
    const memKey = new Map(lm.map((l) => [recKey(l), keyM.get(l.patternId)]));
    for (const l of lc) {
      assert.ok(Number.isSafeInteger(l.patternId) && keyC.has(l.patternId), `record's pattern ${l.patternId} listed`);
      assert.equal(keyC.get(l.patternId), memKey.get(recKey(l)), `pattern of ${recKey(l)}`);
    }
    // pattern= on both: the same records, all with that id
    const idM = new Map(pm.map((p) => [keyOf(p), p.id]));
    for (const p of pc) {
      const [a, b] = await Promise.all([allLogs(mem, `&pattern=${idM.get(keyOf(p))}`), allLogs(chl, `&pattern=${p.id}`)]);
      assert.equal(b.length, p.count, `records of ${p.template}`);
      assert.ok(b.every((l) => l.patternId === p.id));
      assert.deepEqual(b.map(recKey).sort(), a.map(recKey).sort(), `records of ${p.template}`);
    }
    // with other filters, and an id nobody has
    const some = pc[0];
    const [a, b] = await Promise.all([allLogs(mem, `&pattern=${idM.get(keyOf(some))}&service=${some.service}&minSeverity=warn`),
      allLogs(chl, `&pattern=${some.id}&service=${some.service}&minSeverity=warn`)]);
    assert.deepEqual(b.map(recKey).sort(), a.map(recKey).sort());
    assert.equal((await allLogs(chl, '&pattern=9223372036854775807')).length, 0);
    assert.equal((await getJson(chl, '/api/v1/logs?pattern=-1')).status, 400);
  });

  test('the live stream shows the stored pattern id', async () => {
    const stored = new Map((await allLogs(chl)).map((l) => [recKey(l), l.patternId]));
    const live = chl.liveEvents;
    assert.equal(live.length, corpus.length, 'every record streamed');
    for (const l of live) assert.equal(l.patternId, stored.get(recKey(l)), `live patternId of ${recKey(l)}`);
  });

  test('a restart keeps the patterns and their ids', async () => {
    const before = (await getJson(chl, '/api/v1/logs/patterns?limit=1000')).body.patterns;
    const ids = new Set(before.map((p) => p.id));
    await chl.stop();
    chl = await startLoupe({ storage: 'clickhouse', clickhouse: chOpts });
    // Records of templates with a plain word in them, one per export: a
    // loupe that had not rebuilt its patterns would start a pattern (and
    // an id) from each one's literal word; this one has them generalised.
    const more = makeCorpus(0xbeef, 2, { templates: [8, 12, 16, 29, 33, 41], structured: false });
    for (let i = 0; i < more.length; i++) await postRecord(chl, more[i], timeOf(corpus.length + i));
    await waitForLogs(chl, corpus.length + more.length);
    const after = (await getJson(chl, '/api/v1/logs/patterns?limit=1000')).body.patterns;
    assert.equal(after.reduce((s, p) => s + p.count, 0), corpus.length + more.length);
    assert.deepEqual(after.map((p) => p.id).sort(), [...ids].sort(), 'the same patterns, no new one');
    const fresh = await allLogs(chl, `&start=${BigInt(timeOf(corpus.length)) * MS}`);
    assert.equal(fresh.length, more.length);
    assert.ok(fresh.every((l) => ids.has(l.patternId)), 'the new records joined stored patterns');
  });

  test('a round ClickHouse did not take hands its patterns back', async () => {
    const rec = { service: 'newsvc', severity: 9, body: 'zebra migration phase 7 of quantum', template: 99 };
    const t = timeOf(corpus.length + 1000);
    await ch.kill();
    const down = await postRecord(chl, rec, t, { expect: null });
    assert.equal(down, 503, 'refused while ClickHouse is down');
    for (let i = 0; i < ch.urls.length; i++) await ch.restart(i);
    await until(async () => (await postRecord(chl, rec, t, { expect: null })) === 200, 30000, 'stored once ClickHouse is back');
    const list = (await getJson(chl, '/api/v1/logs/patterns?service=newsvc')).body.patterns;
    assert.equal(list.length, 1);
    assert.equal(list[0].template, 'zebra migration phase <NUM> of quantum', 'its row was written after all');
    const logs = await allLogs(chl, '&service=newsvc');
    assert.deepEqual(logs.map((l) => l.patternId), [list[0].id]);
  });
});
suite('log patterns on ClickHouse answer as on SQLite', 1);
suite('... and so on a two-shard cluster', 2);

// ---- two loupes on one database ------------------------------------------------------

describe('two loupes on one ClickHouse database agree on pattern ids', { skip: SKIP }, () => {
  let ch, a, b;
  before(async () => {
    ch = await startClickHouse();
    const opts = { urls: ch.urls, database: 'q5_shared' };
    a = await startLoupe({ storage: 'clickhouse', clickhouse: opts });
    b = await startLoupe({ storage: 'clickhouse', clickhouse: opts });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await ch?.stop();
  });

  test('each fed half of a corpus: the same template gets the same id', async (t) => {
    const corpus = makeCorpus(0x5a5a, 16);
    const halves = [corpus.filter((_, i) => i % 2 === 0), corpus.filter((_, i) => i % 2 === 1)];
    await Promise.all([a, b].map((srv, h) => sendCorpus(halves[h], (svc) => exporters(srv, 'http/protobuf').logs,
      { timeOf: (i) => timeOf(2 * i + h) })));
    await waitForLogs(a, corpus.length);
    const logs = await allLogs(b);
    assert.equal(logs.length, corpus.length, 'each loupe reads both halves');
    // per template: the ids its records got from each loupe (by whose half)
    const half = new Map(corpus.map((r, i) => [String(BigInt(timeOf(i)) * MS), i % 2]));
    const per = new Map();
    for (const l of logs) {
      const tmpl = l.attributes['corpus.template'];
      if (!per.has(tmpl)) per.set(tmpl, [new Map(), new Map()]);
      const m = per.get(tmpl)[half.get(l.timeUnixNano)];
      m.set(l.patternId, (m.get(l.patternId) || 0) + 1);
    }
    const major = (m) => [...m.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
    let agree = 0, records = 0, recordsAgree = 0;
    for (const [tmpl, [ma, mb]] of per) {
      const same = major(ma) === major(mb);
      agree += same;
      const n = [...ma.values(), ...mb.values()].reduce((s, c) => s + c, 0);
      records += n;
      if (same) recordsAgree += n;
      if (!same) t.diagnostic(`template ${tmpl}: ids ${[...ma.keys()]} / ${[...mb.keys()]}`);
    }
    t.diagnostic(`${agree} of ${per.size} templates got the same id from both loupes` +
      ` (${(100 * recordsAgree / records).toFixed(1)}% of records)`);
    assert.ok(agree >= 0.8 * per.size, `only ${agree} of ${per.size} templates agree`);
    // both list the same patterns, with every record counted once
    const [la, lb] = await Promise.all([a, b].map(async (s) => (await getJson(s, '/api/v1/logs/patterns?limit=1000')).body));
    assert.deepEqual(la, lb);
    assert.equal(la.patterns.reduce((s, p) => s + p.count, 0), corpus.length);
    // one id, one template: the table's rows of an id agree on its service and kind
    const rows = await ch.query('SELECT id, uniqExact(service), uniqExact(kind) FROM q5_shared.patterns GROUP BY id HAVING uniqExact(service) > 1 OR uniqExact(kind) > 1 FORMAT TabSeparated');
    assert.equal(rows.trim(), '');
  });

  // The least favourable case: one record per export, so each loupe's
  // first take of a pattern holds its first line alone, variable words
  // and all (the SDK's batches above let a pattern generalise first).
  test('one record per export: how often the ids agree', async (t) => {
    const db = 'q5_single';
    const [sa, sb] = await Promise.all([0, 1].map(() => startLoupe({ storage: 'clickhouse', clickhouse: { urls: ch.urls, database: db } })));
    try {
      const corpus = makeCorpus(0x1234, 3);
      // each loupe its half in order, one export at a time; both at once
      await Promise.all([sa, sb].map(async (srv, h) => {
        for (let i = h; i < corpus.length; i += 2) await postRecord(srv, corpus[i], timeOf(i));
      }));
      await waitForLogs(sa, corpus.length);
      const logs = await allLogs(sa);
      const ids = new Map(); // template -> [ids from a, ids from b]
      const half = new Map(corpus.map((r, i) => [String(BigInt(timeOf(i)) * MS), i % 2]));
      for (const l of logs) {
        const tmpl = l.attributes['corpus.template'];
        if (!ids.has(tmpl)) ids.set(tmpl, [new Set(), new Set()]);
        ids.get(tmpl)[half.get(l.timeUnixNano)].add(l.patternId);
      }
      let agree = 0;
      for (const [tmpl, [x, y]] of ids) {
        const same = [...x].some((id) => y.has(id));
        agree += same;
        if (!same) t.diagnostic(`template ${tmpl}: ${TEMPLATES[tmpl]?.[2] ?? 'structured'}`);
      }
      t.diagnostic(`one record per export: ${agree} of ${ids.size} templates share an id between the loupes`);
      assert.ok(agree >= ids.size / 2, `only ${agree} of ${ids.size} templates agree`);
    } finally {
      await sa.stop();
      await sb.stop();
    }
  });
});

// An OTLP/JSON AnyValue of a JavaScript value.
function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) } };
}

// One corpus record as one OTLP/JSON export, answered once stored (expect:
// the status it must get; null: any, returned).
async function postRecord(srv, rec, ms, { expect = 200 } = {}) {
  const doc = { resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: rec.service } }] },
    scopeLogs: [{ scope: { name: 'corpus' }, logRecords: [{
      timeUnixNano: String(BigInt(ms) * MS), severityNumber: rec.severity, body: anyValue(rec.body),
      attributes: [{ key: 'corpus.template', value: { intValue: String(rec.template) } }],
    }] }],
  }] };
  const r = await fetch(`${srv.httpUrl}/v1/logs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc),
  });
  const text = await r.text();
  if (expect !== null) assert.equal(r.status, expect, text);
  return r.status;
}
