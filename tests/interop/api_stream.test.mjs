// Interop: the streamed endpoints with data sent by the official
// OpenTelemetry JS exporters. GET /export -> DELETE /telemetry -> POST
// /import gives the same API answers; GET /live delivers spans, trace
// summaries and logs committed after subscribing within a second, sends
// heartbeats, and frees a stream when its client goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';

let srv;
before(async () => { srv = await startLoupe({ storage: 'sqlite' }); });
after(async () => { await srv?.stop(); });

// Every answer of the read API, cursors blanked (they name row ids).
async function snapshot() {
  const parts = [];
  const get = async (p) => {
    const r = await getJson(srv, p);
    assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
    parts.push(JSON.stringify(r.body).replace(/"nextCursor":"[0-9a-f]{32}"/g, '"nextCursor":"x"'));
    return r.body;
  };
  await get('/api/v1/services');
  const metrics = await get('/api/v1/metrics');
  for (const q of ['', '?status=error', '?limit=2']) {
    const t = await get(`/api/v1/traces${q}`);
    for (const tr of t.traces) await get(`/api/v1/traces/${tr.traceId}`);
  }
  await get('/api/v1/logs');
  await get('/api/v1/logs?minSeverity=error');
  for (const m of metrics.metrics) {
    await get(`/api/v1/metrics/${encodeURIComponent(m.name)}/series`);
    await get(`/api/v1/metrics/${encodeURIComponent(m.name)}/series?step=1m`);
  }
  return parts;
}

test('export, clear, import: the same answers', async () => {
  for (const [i, protocol] of ['http/protobuf', 'grpc', 'http/json'].entries()) {
    const exp = exporters(srv, protocol);
    const t = await sendTraces(exp, `svc-${i}`);
    await sendLogs(exp, `svc-${i}`, { traceSpan: t.rootSpan });
    await sendMetrics(exp, `svc-${i}`);
  }
  const before = await snapshot();
  assert.ok(before.join('').includes('"svc-2"'));
  const lines = [];
  for (const signal of ['traces', 'logs', 'metrics']) {
    const res = await fetch(`${srv.uiUrl}/api/v1/export?signal=${signal}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/x-ndjson/);
    assert.match(res.headers.get('content-disposition'), new RegExp(`loupe-${signal}\\.jsonl`));
    const text = await res.text();
    const docs = text.split('\n').filter((l) => l.length > 0);
    assert.ok(docs.length >= 1);
    for (const d of docs) {
      const o = JSON.parse(d); // one Export*ServiceRequest per line
      assert.ok(o.resourceSpans || o.resourceLogs || o.resourceMetrics);
    }
    lines.push(text);
  }
  // filters apply: one service only
  const one = await (await fetch(`${srv.uiUrl}/api/v1/export?signal=traces&service=svc-1`)).text();
  assert.ok(one.includes('"svc-1"') && !one.includes('"svc-0"'));

  const del = await fetch(`${srv.uiUrl}/api/v1/telemetry`, { method: 'DELETE' });
  const counts = (await del.json()).deleted;
  assert.equal(counts.traces, 3);
  assert.equal(counts.spans, 15);
  assert.equal(counts.logs, 24);
  assert.ok(counts.points > 0);
  assert.deepEqual((await getJson(srv, '/api/v1/services')).body, { services: [] });

  const imp = await fetch(`${srv.uiUrl}/api/v1/import`, { method: 'POST', body: lines.join('') });
  const answer = await imp.json();
  assert.equal(imp.status, 200, JSON.stringify(answer));
  assert.equal(answer.imported.spans, 15);
  assert.equal(answer.imported.logs, 24);
  assert.equal(answer.imported.points, counts.points);
  const after = await snapshot();
  assert.equal(after.length, before.length);
  for (let i = 0; i < before.length; i++) assert.equal(after[i], before[i], `answer ${i} differs`);

  // plain OTLP JSON, pretty-printed, is accepted too; garbage is a 400
  const plain = JSON.stringify(JSON.parse(lines[0].split('\n')[0]), null, 2);
  const again = await fetch(`${srv.uiUrl}/api/v1/import`, { method: 'POST', body: plain });
  assert.equal(again.status, 200);
  const badImport = await fetch(`${srv.uiUrl}/api/v1/import`, { method: 'POST', body: '{"resourceSpans":[' });
  assert.equal(badImport.status, 400);
  assert.equal((await badImport.json()).error.code, 'bad_request');
});

// Reads SSE events from a live stream until `until(events)` or the deadline.
// `opened` resolves true at the stream's greeting, false if it ended first.
async function readEvents(url, until, ms) {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = res.body.getReader();
  const events = [];
  let text = '';
  const deadline = Date.now() + ms;
  const started = { ready: null };
  const opened = new Promise((r) => { started.ready = r; });
  const loop = (async () => {
    const dec = new TextDecoder();
    while (Date.now() < deadline) {
      const timer = setTimeout(() => ac.abort(), Math.max(1, deadline - Date.now()));
      let chunk;
      try { chunk = await reader.read(); } catch { break; } finally { clearTimeout(timer); }
      if (chunk.done) break;
      text += dec.decode(chunk.value, { stream: true });
      if (text.includes(': loupe live')) started.ready(true);
      let i;
      while ((i = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, i);
        text = text.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (ev) events.push({ event: ev[1], data: JSON.parse(data[1]), at: Date.now() });
      }
      if (until(events)) break;
    }
    ac.abort();
    return events;
  })();
  loop.finally(() => started.ready(false)).catch(() => {});
  return { opened, done: loop };
}

test('GET /live: committed items within a second, filtered; heartbeats; freed on disconnect', async () => {
  const live = await readEvents(`${srv.uiUrl}/api/v1/live?service=live-a&heartbeat=1s`,
    (evs) => evs.some((e) => e.event === 'trace') && evs.filter((e) => e.event === 'log').length >= 8, 10000);
  assert.equal(await live.opened, true, 'the first stream opened');
  const other = await readEvents(`${srv.uiUrl}/api/v1/live?events=logs&minSeverity=error&heartbeat=1s`,
    (evs) => evs.filter((e) => e.event === 'log').length >= 3, 10000);
  assert.equal(await other.opened, true, 'the second stream opened');
  assert.equal((await getJson(srv, '/api/v1/live/streams')).body.streams, 2);

  const exp = exporters(srv, 'http/protobuf');
  const sent = Date.now();
  const t = await sendTraces(exp, 'live-a');
  await sendTraces(exp, 'live-b'); // filtered out of the first stream
  await sendLogs(exp, 'live-a', { traceSpan: t.rootSpan });
  const acked = Date.now();
  const evs = await live.done;
  const spans = evs.filter((e) => e.event === 'span');
  assert.equal(spans.length, 5);
  assert.ok(spans.every((e) => e.data.service === 'live-a' && e.data.traceId === t.traceId));
  assert.ok(spans.some((e) => e.data.kind === 'SERVER' && e.data.status.code !== undefined));
  const traces = evs.filter((e) => e.event === 'trace');
  assert.ok(traces.length >= 1);
  assert.equal(traces.at(-1).data.traceId, t.traceId);
  assert.equal(traces.at(-1).data.rootService, 'live-a');
  assert.equal(evs.filter((e) => e.event === 'log').length, 8);
  // every item arrived within a second of its export being acknowledged
  for (const e of evs) if (e.event !== 'heartbeat') assert.ok(e.at - acked < 1000, `${e.event} late`);
  assert.ok(sent <= acked);
  const errs = (await other.done).filter((e) => e.event === 'log');
  assert.equal(errs.length, 3); // ERROR, FATAL and the structured ERROR
  assert.ok(errs.every((e) => e.data.severityNumber >= 17));

  // heartbeats
  const hb = await readEvents(`${srv.uiUrl}/api/v1/live?heartbeat=200ms`,
    (e) => e.filter((x) => x.event === 'heartbeat').length >= 3, 5000);
  const beats = (await hb.done).filter((e) => e.event === 'heartbeat');
  assert.ok(beats.length >= 3);
  assert.match(beats[0].data.timeUnixNano, /^[0-9]+$/);

  // a client that goes away is noticed at its next heartbeat
  for (let i = 0; i < 50; i++) {
    if ((await getJson(srv, '/api/v1/live/streams')).body.streams === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await getJson(srv, '/api/v1/live/streams')).body.streams, 0);
});
