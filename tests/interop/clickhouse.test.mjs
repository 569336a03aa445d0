// ClickHouse store: loupe with --storage clickhouse against private
// clickhouse-server processes this file starts (tests/interop/lib/
// clickhouse.mjs; skipped when clickhouse-server is not installed).
//
// Two loupes share one database (what one receives the other answers);
// hostile text round-trips and hostile query parameters never make a 500;
// ClickHouse killed under a running loupe gives retryable export answers
// and a not-ready /readyz naming it, and loupe recovers by itself after the
// restart; kill -9 of loupe mid-load loses no acknowledged trace; a
// two-shard cluster (--clickhouse-cluster) spreads and finds 200 traces;
// DELETE /api/v1/telemetry?service= reaches both loupes; --max-age hides
// old telemetry; --clickhouse-user with --clickhouse-password-file works and
// a wrong password is a start error or a not-ready loupe. The first test of
// each group checks the ClickHouse side alone (start, query, restart with
// the data, users; the cluster's two shards).
//
// After ClickHouse comes back, /readyz is polled without sending anything:
// loupe is expected to notice by itself (probe ClickHouse while not ready),
// not only on the next export. Every wait polls an observable condition
// with a deadline (each at most 30 s; the file stays well under 90 s).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  clickhouseAvailable, startClickHouse, clusterShardCount, CLICKHOUSE_CLUSTER, CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD,
} from './lib/clickhouse.mjs';
import { startLoupe, getJson, clickhouseDatabaseFor } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { grpcClient, grpcCall, TRACES, Status } from './lib/grpc.mjs';
import { bytesField, str, msg, uint, fixed64 } from './lib/protobuf.mjs';
import { until } from './lib/forward.mjs';

const AVAILABLE = clickhouseAvailable();
const SKIP = AVAILABLE ? false : 'clickhouse-server is not installed';
// C0 controls and DEL: the API refuses them in a parameter (400).
const CONTROL = /[\x00-\x1f\x7f]/;
const INSTRUMENTS = ['http.server.duration', 'http.server.requests', 'process.memory.usage', 'queue.depth'];

// ---- hand-made OTLP protobuf (exact bytes for hostile text) ----------------
let idSeq = 0;
function freshId(n) {
  const b = Buffer.alloc(n);
  b.writeUInt32BE(process.pid & 0xffffffff, 0);
  b.writeUInt32BE((++idSeq) >>> 0, n - 4);
  for (let i = 4; i < n - 4; i++) b[i] = Math.floor(Math.random() * 256);
  b[0] |= 0x10; // never all zero
  return b;
}
const kv = (field, k, v) => msg(field, str(1, k), msg(2, str(1, v)));
const resourceOf = (service) => msg(1, kv(1, 'service.name', service));
const nowNs = () => BigInt(Date.now()) * 1000000n;

// span: {traceId, spanId (Buffers), name, startNs, attrs: [[k, v]], statusMessage}
function spanPb(s) {
  return msg(2,
    bytesField(1, s.traceId), bytesField(2, s.spanId), str(5, s.name), uint(6, 2),
    fixed64(7, s.startNs), fixed64(8, s.startNs + 1000000n),
    ...(s.attrs || []).map(([k, v]) => kv(9, k, v)),
    ...(s.statusMessage ? [msg(15, str(2, s.statusMessage), uint(3, 2))] : []));
}
// One ExportTraceServiceRequest: groups [{service, spans}].
function tracesPb(groups) {
  return Buffer.concat(groups.map((g) =>
    msg(1, resourceOf(g.service), msg(2, msg(1, str(1, 'ch-test')), ...g.spans.map(spanPb)))));
}
// record: {timeNs, body, attrs: [[k, v]]}
function logsPb(service, records) {
  const recs = records.map((r) => msg(2,
    fixed64(1, r.timeNs), uint(2, 9), str(3, 'INFO'), msg(5, str(1, r.body)),
    ...(r.attrs || []).map(([k, v]) => kv(6, k, v))));
  return msg(1, resourceOf(service), msg(2, msg(1, str(1, 'ch-test')), ...recs));
}

// POST an OTLP/HTTP protobuf body. Resolves to {status, headers, text};
// rejects on connection errors (a killed loupe).
async function postPb(srv, signal, body, timeoutMs = 15000) {
  const res = await fetch(`${srv.httpUrl}/v1/${signal}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// n fresh single-span traces of `service`: {body, ids (hex)}.
function freshTraces(service, n, startNs = nowNs()) {
  const spans = [];
  for (let i = 0; i < n; i++) {
    spans.push({ traceId: freshId(16), spanId: freshId(8), name: `op-${i % 7}`, startNs: startNs + BigInt(i) });
  }
  return { body: tracesPb([{ service, spans }]), ids: spans.map((s) => s.traceId.toString('hex')) };
}

const enc = encodeURIComponent;

async function traceFound(srv, id) {
  const r = await getJson(srv, `/api/v1/traces/${id}`);
  assert.ok(r.status === 200 || r.status === 404, `GET trace ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.status === 200 ? r.body : null;
}

// Every trace id of a list query, following nextCursor (at most maxPages).
async function listAllTraceIds(srv, query, maxPages = 20) {
  const ids = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const r = await getJson(srv, `/api/v1/traces?${query}&limit=1000${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    ids.push(...r.body.traces.map((x) => x.traceId));
    cursor = r.body.nextCursor;
    if (cursor === null) return ids;
  }
  throw new Error(`more than ${maxPages} pages for ${query}`);
}

function chLoupe(ch, database, extra = {}) {
  return startLoupe({
    storage: 'clickhouse',
    clickhouse: { urls: ch.urls, database, cluster: ch.cluster, ...(extra.clickhouse || {}) },
    args: extra.args || [],
    readyTimeoutMs: 30000,
  });
}

// Stops what a test started, in reverse order, even when it failed.
function cleanup(t) {
  const list = [];
  t.after(async () => {
    for (const s of list.reverse()) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
    }
  });
  return (srv) => { list.push(srv); return srv; };
}

const newDb = () => clickhouseDatabaseFor(null);

describe('loupe on ClickHouse (one server)', { skip: SKIP }, () => {
  let ch;
  before(async () => { ch = await startClickHouse(); });
  after(async () => { await ch?.stop(); });

  test('the test ClickHouse: starts, answers, keeps its data over kill -9 and restart, users', { timeout: 60000 }, async (t) => {
    t.diagnostic(`ClickHouse started in ${ch.startMs} ms`);
    assert.match(await ch.query('SELECT version()'), /^\d+\.\d+/);
    await ch.query('CREATE DATABASE IF NOT EXISTS ch_selftest');
    await ch.query('CREATE TABLE ch_selftest.t (a UInt32) ENGINE = MergeTree ORDER BY a');
    await ch.query('INSERT INTO ch_selftest.t SELECT number FROM system.numbers LIMIT 100');
    const t0 = Date.now();
    await ch.restart(0);
    t.diagnostic(`kill -9 and restart: ready in ${Date.now() - t0} ms`);
    assert.equal((await ch.query('SELECT count() FROM ch_selftest.t')).trim(), '100');
    assert.equal((await ch.query('SELECT 1', 0, { user: CLICKHOUSE_USER, password: CLICKHOUSE_PASSWORD })).trim(), '1');
    await assert.rejects(ch.query('SELECT 1', 0, { user: CLICKHOUSE_USER, password: 'wrong' }), /answered 401|Code: 193/);
    await ch.query('DROP DATABASE ch_selftest');
  });

  test('two loupes on one database: each answers what the other received', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const a = keep(await chLoupe(ch, db));
    const b = keep(await chLoupe(ch, db));
    const svc = `shared-${db}`;

    const tr = await sendTraces(exporters(a, 'http/protobuf'), svc);
    assert.ok(tr.results.length > 0 && tr.results.every((r) => r.code === 0), 'trace exports to A acknowledged');
    const wantSpans = tr.spans.map((s) => s.spanContext().spanId).sort();
    const trace = await until(() => traceFound(b, tr.traceId), 10000, 'B finds the trace sent to A');
    assert.deepEqual(trace.spans.map((s) => s.spanId).sort(), wantSpans);
    assert.deepEqual(trace.spans.map((s) => s.name).sort(), tr.spans.map((s) => s.name).sort());
    assert.ok(trace.spans.every((s) => s.service === svc));
    const list = await getJson(b, `/api/v1/traces?service=${enc(svc)}`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.traces.map((x) => x.traceId), [tr.traceId]);
    assert.equal(list.body.traces[0].spanCount, tr.spans.length);

    const logs = await sendLogs(exporters(b, 'http/protobuf'), svc, { traceSpan: tr.rootSpan });
    assert.ok(logs.results.every((r) => r.code === 0), 'log exports to B acknowledged');
    const got = await until(async () => {
      const r = await getJson(a, `/api/v1/logs?service=${enc(svc)}&limit=100`);
      assert.equal(r.status, 200);
      return r.body.logs.length >= logs.records.length ? r.body.logs : null;
    }, 10000, 'A finds the logs sent to B');
    assert.equal(got.length, logs.records.length);
    assert.ok(got.some((l) => l.traceId === tr.traceId), 'a log carries the trace context');
    assert.ok(got.some((l) => l.body === 'ünïcödé 日本語 🎉 <script>alert(1)</script>'));

    const m = await sendMetrics(exporters(a, 'http/protobuf'), svc);
    assert.ok(m.results.every((r) => r.code === 0), 'metric exports to A acknowledged');
    const names = await until(async () => {
      const r = await getJson(b, `/api/v1/metrics?service=${enc(svc)}`);
      assert.equal(r.status, 200);
      const n = r.body.metrics.map((x) => x.name).sort();
      return n.length >= INSTRUMENTS.length ? n : null;
    }, 10000, 'B lists the instruments sent to A');
    assert.deepEqual(names, INSTRUMENTS);
  });

  test('hostile text round-trips exactly; hostile parameters answer 200 or 400, never 500', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const srv = keep(await chLoupe(ch, db));
    const HOSTILE = [
      `it's "quoted" ''`,
      'back\\slash \\\\ \\n \\t \\0 \\x41 \\\'',
      'tab\there\tand\tthere',
      'new\nline\r\ncrlf\rcr',
      'ctl \x01\x02\x07\x08\x0b\x0c\x1b[31mred\x7f end',
      'ünïcödé 日本語 🎉 \u2028\u2029 \ufeff ǅ',
      "'); DROP TABLE spans; --",
      "x' OR '1'='1",
      '"; DROP DATABASE loupe; SELECT "',
      '`backtick` $1 {curly} %s %% _under? ?',
      "\\'",
      '<script>alert(1)</script> &amp;',
      'a=b!=c~d<e>f&g=h',
    ];
    const hostileKey = `key'"\\\t\n;--`;
    const common = `hostile-common-${db}`;
    const sent = HOSTILE.map((h, i) => ({
      h,
      service: `${h} #${i}`,
      traceId: freshId(16),
      spanId: freshId(8),
    }));
    // One trace per string under its own (hostile) service, and one span per
    // string under a common service, for the attr filter.
    const body = tracesPb([
      ...sent.map((s) => ({
        service: s.service,
        spans: [{ traceId: s.traceId, spanId: s.spanId, name: s.h, startNs: nowNs(),
          attrs: [['hostile.value', s.h], [hostileKey, s.h]], statusMessage: s.h }],
      })),
    ]);
    const r = await postPb(srv, 'traces', body);
    assert.equal(r.status, 200, r.text);
    for (const s of sent) {
      const lr = await postPb(srv, 'logs', logsPb(s.service, [{ timeNs: nowNs(), body: s.h, attrs: [['hostile.value', s.h]] }]));
      assert.equal(lr.status, 200, lr.text);
    }
    const commonIds = sent.map(() => freshId(16));
    const r2 = await postPb(srv, 'traces', tracesPb([{
      service: common,
      spans: sent.map((s, i) => ({ traceId: commonIds[i], spanId: freshId(8), name: 'common', startNs: nowNs(),
        attrs: [['hostile.value', s.h]] })),
    }]));
    assert.equal(r2.status, 200, r2.text);

    for (const [i, s] of sent.entries()) {
      const id = s.traceId.toString('hex');
      const what = JSON.stringify(s.h);
      const tr = await until(() => traceFound(srv, id), 10000, `trace of ${what}`);
      assert.equal(tr.spans.length, 1);
      const sp = tr.spans[0];
      assert.equal(sp.name, s.h, `name ${what}`);
      assert.equal(sp.service, s.service, `service ${what}`);
      assert.equal(sp.status.message, s.h, `status message ${what}`);
      assert.deepEqual(sp.attributes, { 'hostile.value': s.h, [hostileKey]: s.h }, `attributes ${what}`);

      // As parameters: the API refuses control characters in a parameter
      // (400, as with the SQLite store); any other text must find its item.
      const ctl = CONTROL.test(s.h);
      const byService = await getJson(srv, `/api/v1/traces?service=${enc(s.service)}`);
      assert.equal(byService.status, ctl ? 400 : 200, `service=${what}: ${JSON.stringify(byService.body)}`);
      if (!ctl) assert.deepEqual(byService.body.traces.map((x) => x.traceId), [id], `service=${what}`);

      // The log, by its service (or, for a service with control
      // characters, by its trace-free attribute match on the common value).
      const logs = await until(async () => {
        const l = await getJson(srv, `/api/v1/logs?service=${enc(s.service)}`);
        assert.equal(l.status, ctl ? 400 : 200, `logs service=${what}: ${JSON.stringify(l.body)}`);
        if (ctl) return [];
        return l.body.logs.length ? l.body.logs : null;
      }, 10000, `log of ${what}`);
      if (!ctl) {
        assert.equal(logs.length, 1);
        assert.equal(logs[0].body, s.h, `log body ${what}`);
        assert.deepEqual(logs[0].attributes, { 'hostile.value': s.h });
        assert.equal(logs[0].service, s.service);
      }

      const byAttr = await getJson(srv, `/api/v1/traces?service=${enc(common)}&attr=${enc(`hostile.value=${s.h}`)}`);
      assert.equal(byAttr.status, ctl ? 400 : 200, `attr ${what}: ${JSON.stringify(byAttr.body)}`);
      if (!ctl) {
        assert.deepEqual(byAttr.body.traces.map((x) => x.traceId), [commonIds[i].toString('hex')], `attr ${what}`);
      }
      const logAttr = await getJson(srv, `/api/v1/logs?attr=${enc(`hostile.value=${s.h}`)}`);
      assert.equal(logAttr.status, ctl ? 400 : 200, `log attr ${what}: ${JSON.stringify(logAttr.body)}`);
      if (!ctl) {
        assert.deepEqual(logAttr.body.logs.map((l) => l.body), [s.h], `log attr ${what}`);
      } else {
        // Still there, exactly: the whole log list of the database.
        const all = await getJson(srv, '/api/v1/logs?limit=1000');
        const mine = all.body.logs.filter((l) => l.service === s.service);
        assert.deepEqual(mine.map((l) => l.body), [s.h], `log body ${what}`);
        assert.deepEqual(mine[0].attributes, { 'hostile.value': s.h });
      }

      // q: words of the text; a string with none matches nothing.
      const hasWord = /[A-Za-z0-9]|[^\x00-\x7f]/.test(s.h);
      for (const p of ['traces', 'logs']) {
        const scope = ctl ? '' : `&service=${enc(s.service)}`;
        const q = await getJson(srv, `/api/v1/${p}?q=${enc(s.h)}${scope}`);
        assert.equal(q.status, ctl ? 400 : 200, `${p} q=${what}: ${JSON.stringify(q.body)}`);
        if (ctl) continue;
        const items = p === 'traces' ? q.body.traces : q.body.logs;
        if (hasWord) assert.equal(items.length, 1, `${p} q=${what} finds its item`);
        else assert.equal(items.length, 0, `${p} q=${what} (no word) matches nothing`);
      }
    }
    // Parameters that are hostile but match nothing: never a 500.
    for (const h of HOSTILE) {
      for (const p of [`/api/v1/traces?service=${enc(h)}`, `/api/v1/traces?name=${enc(h)}`,
        `/api/v1/logs?service=${enc(h)}`, `/api/v1/traces?q=${enc(h)}`, `/api/v1/logs?q=${enc(h)}`,
        `/api/v1/traces?attr=${enc(`${h}=${h}`)}`, `/api/v1/metrics?service=${enc(h)}`,
        `/api/v1/services/${enc(h)}/operations`]) {
        const res = await getJson(srv, p);
        assert.ok([200, 400, 404].includes(res.status), `${p}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    const services = await getJson(srv, '/api/v1/services');
    assert.equal(services.status, 200);
    const names = new Set(services.body.services.map((x) => x.name));
    for (const s of sent) assert.ok(names.has(s.service), `service ${JSON.stringify(s.service)} listed`);
  });

  test('ClickHouse killed under loupe: retryable answers, /readyz names it, recovery by itself', { timeout: 90000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const srv = keep(await chLoupe(ch, db));
    const svc = `outage-${db}`;
    const acked = [];
    const first = freshTraces(svc, 3);
    const r0 = await postPb(srv, 'traces', first.body);
    assert.equal(r0.status, 200, r0.text);
    acked.push(...first.ids);
    assert.equal((await fetch(`${srv.uiUrl}/readyz`)).status, 200);

    await ch.kill(0);
    // loupe may take in a few batches before it notices: send fresh ones
    // until one is refused; each acknowledged one must survive.
    const refused = await until(async () => {
      const b = freshTraces(svc, 2);
      const r = await postPb(srv, 'traces', b.body);
      if (r.status === 200) { acked.push(...b.ids); return null; }
      return r;
    }, 20000, 'an export refused while ClickHouse is down');
    assert.ok(refused.status === 503 || refused.status === 429, `retryable status, got ${refused.status} ${refused.text}`);
    assert.ok(refused.headers.get('retry-after'), 'Retry-After is set');
    const ready = await until(async () => {
      const r = await fetch(`${srv.uiUrl}/readyz`);
      const text = await r.text();
      return r.status !== 200 ? { status: r.status, text } : null;
    }, 20000, '/readyz turns not ready');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /clickhouse/i, `/readyz names ClickHouse: ${ready.text}`);
    // gRPC: UNAVAILABLE (a batch accepted before is acknowledged work too).
    const client = grpcClient(srv.grpcAddr);
    try {
      const g = await until(async () => {
        const b = freshTraces(svc, 1);
        const r = await grpcCall(client, TRACES, b.body, { deadlineMs: 15000 });
        if (r.code === Status.OK) { acked.push(...b.ids); return null; }
        return r;
      }, 20000, 'a gRPC export refused while ClickHouse is down');
      assert.equal(g.code, Status.UNAVAILABLE, `gRPC status ${g.code} ${g.details}`);
    } finally {
      client.close();
    }

    await ch.restart(0);
    await until(async () => (await fetch(`${srv.uiUrl}/readyz`)).status === 200, 30000, '/readyz ready again');
    const after = freshTraces(svc, 3);
    const r3 = await until(async () => {
      const r = await postPb(srv, 'traces', after.body);
      return r.status === 200 ? r : null;
    }, 15000, 'an export acknowledged after the restart');
    assert.equal(r3.status, 200);
    acked.push(...after.ids);
    for (const id of acked) await until(() => traceFound(srv, id), 15000, `acknowledged trace ${id}`);
    const listed = new Set(await listAllTraceIds(srv, `service=${enc(svc)}`));
    for (const id of acked) assert.ok(listed.has(id), `${id} listed`);
    t.diagnostic(`${acked.length} traces acknowledged around the outage, all found`);
  });

  test('kill -9 of loupe mid-load: a new loupe on the database finds every acknowledged trace', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const srv = await chLoupe(ch, db);
    const svc = `crash-${db}`;
    const BATCHES = 20;
    const acked = [];
    let next = 0;
    let killed = false;
    // 4 senders share the 20 batches (5 traces each); the loupe is killed
    // once 8 batches are acknowledged, while the others are in flight.
    const sender = async () => {
      while (next < BATCHES) {
        next++;
        const b = freshTraces(svc, 5);
        try {
          const r = await postPb(srv, 'traces', b.body, 10000);
          if (r.status === 200) acked.push(b.ids);
        } catch {
          assert.ok(killed, 'a connection error only after the kill');
        }
        if (acked.length >= 8 && !killed) {
          killed = true;
          await srv.kill();
        }
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    if (!killed) await srv.kill();
    assert.equal(srv.proc.signalCode, 'SIGKILL');
    t.diagnostic(`${acked.length} of ${BATCHES} batches acknowledged before the kill`);
    assert.ok(acked.length >= 8);

    const again = keep(await chLoupe(ch, db));
    const ids = acked.flat();
    for (const id of ids) assert.ok(await traceFound(again, id), `acknowledged trace ${id} found after the kill`);
    const listed = new Set(await listAllTraceIds(again, `service=${enc(svc)}`));
    for (const id of ids) assert.ok(listed.has(id), `${id} listed`);
  });

  test('DELETE /api/v1/telemetry?service= removes the service for both loupes', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const a = keep(await chLoupe(ch, db));
    const b = keep(await chLoupe(ch, db));
    const gone = `gone-${db}`;
    const kept = `kept-${db}`;
    const tg = freshTraces(gone, 4);
    const tk = freshTraces(kept, 4);
    for (const body of [tg.body, tk.body,
      logsPb(gone, [{ timeNs: nowNs(), body: 'gone log 1' }, { timeNs: nowNs() + 1n, body: 'gone log 2' }]),
      logsPb(kept, [{ timeNs: nowNs(), body: 'kept log' }])]) {
      const sig = body === tg.body || body === tk.body ? 'traces' : 'logs';
      const r = await postPb(a, sig, body);
      assert.equal(r.status, 200, r.text);
    }
    for (const srv of [a, b]) {
      await until(async () => (await listAllTraceIds(srv, `service=${enc(gone)}`)).length === 4, 10000, 'gone traces there');
      await until(async () => (await getJson(srv, `/api/v1/logs?service=${enc(gone)}`)).body.logs?.length === 2, 10000, 'gone logs there');
    }
    const del = await fetch(`${a.uiUrl}/api/v1/telemetry?service=${enc(gone)}`, { method: 'DELETE' });
    const delBody = await del.json();
    assert.equal(del.status, 200, JSON.stringify(delBody));
    assert.equal(delBody.deleted.spans, 4);
    assert.equal(delBody.deleted.logs, 2);

    for (const [name, srv] of [['A', a], ['B', b]]) {
      await until(async () => {
        const tr = await listAllTraceIds(srv, `service=${enc(gone)}`);
        const lg = await getJson(srv, `/api/v1/logs?service=${enc(gone)}`);
        assert.equal(lg.status, 200);
        return tr.length === 0 && lg.body.logs.length === 0;
      }, 15000, `${name} no longer answers the deleted service`);
      for (const id of tg.ids) assert.equal(await traceFound(srv, id), null, `${name}: deleted trace ${id} is 404`);
      assert.deepEqual(new Set(await listAllTraceIds(srv, `service=${enc(kept)}`)), new Set(tk.ids), `${name} keeps the other service`);
      const kl = await getJson(srv, `/api/v1/logs?service=${enc(kept)}`);
      assert.deepEqual(kl.body.logs.map((l) => l.body), ['kept log']);
    }
  });

  test('--max-age 1h: telemetry 3 h old is not shown, fresh telemetry is', { timeout: 60000 }, async (t) => {
    // docs/storage.md: retention drops what is all older than --max-age
    // (the SQLite store: whole segments, at most every second). So the old
    // items come alone first, then the fresh ones.
    const keep = cleanup(t);
    const db = newDb();
    const srv = keep(await chLoupe(ch, db, { args: ['--max-age', '1h'] }));
    const svc = `age-${db}`;
    const oldNs = nowNs() - 3n * 3600n * 1000000000n;
    const old = freshTraces(svc, 3, oldNs);
    for (const [sig, body] of [['traces', old.body], ['logs', logsPb(svc, [{ timeNs: oldNs, body: 'old log' }])]]) {
      const r = await postPb(srv, sig, body);
      // Dropping the old items on arrival is fine too, but not refusing the batch.
      assert.equal(r.status, 200, r.text);
    }
    const oldGone = async () => {
      const ids = new Set(await listAllTraceIds(srv, `service=${enc(svc)}`));
      const logs = (await getJson(srv, `/api/v1/logs?service=${enc(svc)}`)).body.logs.map((l) => l.body);
      return old.ids.every((id) => !ids.has(id)) && !logs.includes('old log');
    };
    // Retention may act on arrival or a few seconds later: poll.
    await until(oldGone, 20000, 'the 3 h old traces and log are no longer shown');
    for (const id of old.ids) assert.equal(await traceFound(srv, id), null, `old trace ${id} is 404`);

    const fresh = freshTraces(svc, 3);
    for (const [sig, body] of [['traces', fresh.body], ['logs', logsPb(svc, [{ timeNs: nowNs(), body: 'fresh log' }])]]) {
      const r = await postPb(srv, sig, body);
      assert.equal(r.status, 200, r.text);
    }
    const ids = new Set(await until(async () => {
      const l = await listAllTraceIds(srv, `service=${enc(svc)}`);
      return l.length >= fresh.ids.length ? l : null;
    }, 10000, 'the fresh traces listed'));
    for (const id of fresh.ids) {
      assert.ok(ids.has(id), `fresh trace ${id} listed`);
      assert.ok(await traceFound(srv, id), `fresh trace ${id} found`);
    }
    const logs = (await getJson(srv, `/api/v1/logs?service=${enc(svc)}`)).body.logs.map((l) => l.body);
    assert.deepEqual(logs, ['fresh log']);
    assert.ok(await oldGone(), 'the old items stay hidden');
  });

  test('--max-spans on ClickHouse drops the oldest whole days, never today', { timeout: 60000 }, async (t) => {
    // docs/storage.md: by count, the oldest day partitions go while a table
    // holds more than the limit; today's stays whatever it holds.
    const keep = cleanup(t);
    const db = newDb();
    const a = keep(await chLoupe(ch, db));
    const svc = `count-${db}`;
    const dayNs = 24n * 3600n * 1000000000n;
    const old = freshTraces(svc, 5, nowNs() - 2n * dayNs);
    const fresh = freshTraces(svc, 5);
    for (const body of [old.body, fresh.body]) {
      const r = await postPb(a, 'traces', body);
      assert.equal(r.status, 200, r.text);
    }
    const days = async () => (await ch.query(
      `SELECT count(DISTINCT partition) FROM system.parts WHERE active AND database='${db}' AND table='spans'`)).trim();
    assert.equal(await days(), '2', 'two days of spans stored');
    assert.equal((await listAllTraceIds(a, `service=${enc(svc)}`)).length, 10);
    // a second loupe with a limit below what is stored: its retention runs at start
    const b = keep(await chLoupe(ch, db, { args: ['--max-spans', '6'] }));
    await until(async () => (await days()) === '1', 20000, 'the older day dropped');
    for (const srv of [a, b]) {
      const ids = new Set(await listAllTraceIds(srv, `service=${enc(svc)}`));
      assert.deepEqual(ids, new Set(fresh.ids), 'today\'s traces stay, the old day\'s are gone');
      for (const id of old.ids) assert.equal(await traceFound(srv, id), null, `old trace ${id} is 404`);
    }
    // today's day holds 5 (under the limit); more today is never dropped
    const more = freshTraces(svc, 5);
    assert.equal((await postPb(b, 'traces', more.body)).status, 200);
    assert.equal((await listAllTraceIds(b, `service=${enc(svc)}`)).length, 10, 'today is kept over the limit');
  });

  test('--clickhouse-user/--clickhouse-password-file: a password user works, a wrong password is not ready', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-chpw-'));
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const pwFile = path.join(tmp, 'pw');
    writeFileSync(pwFile, `${CLICKHOUSE_PASSWORD}\n`, { mode: 0o600 });
    const db = newDb();
    const srv = keep(await startLoupe({
      storage: 'clickhouse',
      clickhouse: { urls: [ch.url], database: db, user: CLICKHOUSE_USER },
      args: ['--clickhouse-password-file', pwFile],
      readyTimeoutMs: 30000,
    }));
    const b = freshTraces(`pw-${db}`, 2);
    const r = await postPb(srv, 'traces', b.body);
    assert.equal(r.status, 200, r.text);
    for (const id of b.ids) await until(() => traceFound(srv, id), 10000, `trace ${id}`);
    assert.equal((await ch.query(`SELECT count() FROM system.databases WHERE name = '${db}'`)).trim(), '1');

    // A wrong password: loupe either refuses to start or runs not ready.
    let wrong = null;
    try {
      wrong = await startLoupe({
        storage: 'clickhouse',
        clickhouse: { urls: [ch.url], database: db, user: CLICKHOUSE_USER, password: 'not-the-password' },
        readyTimeoutMs: 30000,
      });
    } catch (err) {
      assert.match(err.message, /exited early/);
      return;
    }
    keep(wrong);
    const rz = await until(async () => {
      const res = await fetch(`${wrong.uiUrl}/readyz`);
      return res.status !== 200 ? { status: res.status, text: await res.text() } : null;
    }, 15000, 'a loupe with a wrong password is not ready');
    assert.equal(rz.status, 503);
    assert.match(rz.text, /clickhouse/i);
  });
});

describe('loupe on a two-shard ClickHouse cluster', { skip: SKIP }, () => {
  let ch;
  before(async () => { ch = await startClickHouse({ shards: 2 }); });
  after(async () => { await ch?.stop(); });

  test('the cluster: both servers list `loupe` with 2 shards', async () => {
    assert.equal(await clusterShardCount(ch, 0), 2);
    assert.equal(await clusterShardCount(ch, 1), 2);
    const rows = (await ch.query(
      `SELECT shard_num, port FROM system.clusters WHERE cluster = '${CLICKHOUSE_CLUSTER}' ORDER BY shard_num FORMAT TSV`, 1))
      .trim().split('\n').map((l) => l.split('\t').map(Number));
    assert.deepEqual(rows, [[1, ch.ports[0].tcp], [2, ch.ports[1].tcp]]);
  });

  test('200 traces over --clickhouse-cluster: all found by id and by list, rows on both shards', { timeout: 60000 }, async (t) => {
    const keep = cleanup(t);
    const db = newDb();
    const srv = keep(await chLoupe(ch, db));
    assert.deepEqual(srv.clickhouse.urls, ch.urls);
    assert.equal(srv.clickhouse.cluster, CLICKHOUSE_CLUSTER);
    const svc = `sharded-${db}`;
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const b = freshTraces(svc, 10);
      const r = await postPb(srv, 'traces', b.body);
      assert.equal(r.status, 200, r.text);
      ids.push(...b.ids);
    }
    assert.equal(new Set(ids).size, 200);
    for (const id of ids) await until(() => traceFound(srv, id), 10000, `trace ${id} by id`);
    const listed = await listAllTraceIds(srv, `service=${enc(svc)}`);
    assert.equal(listed.length, 200, 'each trace listed once');
    assert.deepEqual(new Set(listed), new Set(ids));
    const all = await listAllTraceIds(srv, '');
    assert.ok(ids.every((id) => all.includes(id)), 'listed without a service filter too');
    // Schema-agnostic: each shard's own parts of the database hold rows.
    for (const shard of [0, 1]) {
      const rows = await until(async () => {
        const n = Number((await ch.query(
          `SELECT sum(rows) FROM system.parts WHERE database = '${db}' AND active`, shard)).trim());
        return n > 0 ? n : null;
      }, 15000, `rows on shard ${shard}`);
      t.diagnostic(`shard ${shard}: ${rows} rows in active parts of ${db}`);
    }
  });
});
