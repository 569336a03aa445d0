// limits.test.mjs - every configurable limit hit on purpose: the documented
// answer (docs/security.md), and the server still serving right after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startLoupe, getJson } from './lib/server.mjs';
import { request } from './lib/rawhttp.mjs';
import { grpcClient, grpcCall, traceRequest, Status, TRACES } from './lib/grpc.mjs';

let srv;
const LIMIT_ARGS = [
  '--max-attributes', '3', '--max-attribute-value-length', '8',
  '--max-span-events', '2', '--max-span-links', '1',
  '--max-header-size', '4KiB', '--max-live-clients', '2',
  '--max-body-size', '64KiB', '--max-grpc-message-size', '64KiB',
];

before(async () => { srv = await startLoupe({ args: LIMIT_ARGS }); });
after(async () => {
  const { code, signal } = await srv.stop();
  assert.equal(code, 0, `loupe exit ${code} ${signal}\n${srv.stderr}`);
});

const hex = (n, seed) => Buffer.alloc(n, seed).toString('hex');
let seq = 1;
function spanJson(service, extra = {}) {
  const traceId = hex(15, 0xab) + (seq++ % 256).toString(16).padStart(2, '0');
  return {
    traceId,
    body: JSON.stringify({ resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ spans: [{ traceId, spanId: hex(8, 0x11), name: 's', startTimeUnixNano: '1000',
        endTimeUnixNano: '2000', ...extra }] }],
    }] }),
  };
}

async function exportJson(body, headers = {}) {
  return request(`${srv.httpUrl}/v1/traces`, { body, headers: { 'content-type': 'application/json', ...headers } });
}

// A normal export through OTLP/HTTP that must succeed.
async function stillServing(label) {
  const { body } = spanJson(`after-${label}`);
  const r = await exportJson(body);
  assert.equal(r.status, 200, `${label}: a normal export after the limit got ${r.status}`);
}

test('attributes, value length, events and links are cut and counted as dropped', async () => {
  const attrs = ['a', 'b', 'c', 'd', 'e'].map((k) => ({ key: k, value: { intValue: '1' } }));
  attrs[0] = { key: 'a', value: { stringValue: 'abcdefg\u00e9z' } }; // é straddles byte 8
  const events = [0, 1, 2].map((i) => ({ name: `ev${i}`, timeUnixNano: '1500' }));
  const links = [1, 2].map((i) => ({ traceId: hex(16, i), spanId: hex(8, i) }));
  const { traceId, body } = spanJson('limits-attrs', { attributes: attrs, droppedAttributesCount: 1, events, links });
  const r = await exportJson(body);
  assert.equal(r.status, 200);
  const t = await getJson(srv, `/api/v1/traces/${traceId}`);
  assert.equal(t.status, 200);
  const span = t.body.spans[0];
  assert.deepEqual(Object.keys(span.attributes), ['a', 'b', 'c']);
  assert.equal(span.attributes.a, 'abcdefg'); // cut before the 2-byte character
  assert.equal(span.droppedAttributesCount, 1 + 2);
  assert.deepEqual(span.events.map((e) => e.name), ['ev0', 'ev1']);
  assert.equal(span.droppedEventsCount, 1);
  assert.equal(span.links.length, 1);
  assert.equal(span.droppedLinksCount, 1);
  await stillServing('attributes');
});

test('OTLP/HTTP body over --max-body-size: 413', async () => {
  const r = await exportJson(Buffer.alloc(100 * 1024, 0x20));
  assert.equal(r.status, 413);
  assert.match(JSON.parse(r.body).message, /exceeds the limit of 65536 bytes/);
  await stillServing('body');
});

test('gRPC message over --max-grpc-message-size: RESOURCE_EXHAUSTED', async () => {
  const client = grpcClient(srv.grpcAddr);
  try {
    const big = await grpcCall(client, TRACES, Buffer.alloc(100 * 1024, 0));
    assert.equal(big.code, Status.RESOURCE_EXHAUSTED);
    const ok = await grpcCall(client, TRACES, traceRequest('limits-grpc-after').body);
    assert.equal(ok.code, 0);
  } finally { client.close(); }
});

test('headers over --max-header-size: 431 on the HTTP ports, RESOURCE_EXHAUSTED on gRPC', async () => {
  const big = { 'x-padding': 'p'.repeat(6000) };
  const h = await exportJson(spanJson('limits-hdr').body, big);
  assert.equal(h.status, 431);
  assert.equal(JSON.parse(h.body).code, 8); // google.rpc.Status RESOURCE_EXHAUSTED
  const u = await request(`${srv.uiUrl}/api/v1/services`, { method: 'GET', headers: big });
  assert.equal(u.status, 431);
  assert.equal(JSON.parse(u.body).error.code, 'headers_too_large');
  const client = grpcClient(srv.grpcAddr);
  try {
    const g = await grpcCall(client, TRACES, traceRequest('limits-hdr').body, { metadata: big });
    assert.equal(g.code, Status.RESOURCE_EXHAUSTED, g.details);
    const ok = await grpcCall(client, TRACES, traceRequest('limits-hdr-after').body);
    assert.equal(ok.code, 0);
  } finally { client.close(); }
  // Far past the memory libmicrohttpd gives a connection: refused by it with
  // its own 431, or the connection is reset while the client still writes.
  const huge = await request(`${srv.httpUrl}/v1/traces`, { body: '{}', headers: { 'x-padding': 'p'.repeat(300 * 1024) } })
    .catch((e) => ({ status: 0, error: e }));
  if (huge.status === 0) assert.match(huge.error.code ?? '', /^(ECONNRESET|EPIPE)$/, String(huge.error));
  else assert.equal(huge.status, 431);
  await stillServing('headers');
  const s = await getJson(srv, '/api/v1/services');
  assert.equal(s.status, 200);
});

// Opens a live stream; resolves {status, headers, res} once the answer head arrives.
function openLive() {
  return new Promise((resolve, reject) => {
    const req = http.get(`${srv.uiUrl}/api/v1/live?events=spans&heartbeat=200ms`, { agent: false }, (res) => resolve({ status: res.statusCode, headers: res.headers, res, req }));
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('no live answer')));
  });
}

async function readAll(res) {
  const parts = [];
  for await (const d of res) parts.push(d);
  return Buffer.concat(parts).toString();
}

test('live clients over --max-live-clients: 503 JSON with Retry-After', async () => {
  const a = await openLive();
  const b = await openLive();
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const c = await openLive();
  assert.equal(c.status, 503);
  assert.equal(c.headers['retry-after'], '1');
  assert.match(JSON.parse(await readAll(c.res)).error.message, /too many live clients/);
  // One leaves: the next one gets in once the server notices (at the stream's next heartbeat).
  const closed = new Promise((r) => a.res.on('close', r));
  a.req.destroy();
  await closed;
  let d;
  const deadline = Date.now() + 10000;
  for (let i = 0; i < 100 && Date.now() < deadline; i++) {
    d = await openLive();
    if (d.status === 200) break;
    await readAll(d.res);
    await new Promise((r) => setTimeout(r, 100)); // polling the server's view of the closed stream
  }
  assert.equal(d.status, 200);
  d.req.destroy();
  b.req.destroy();
  await stillServing('live');
});

// A kept-alive connection that has been answered once (so it is surely accepted).
function keptAlive(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('error', reject);
    sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
    sock.on('data', (d) => { data += d; if (/^HTTP\/1\.1 \d{3}/.test(data) && data.includes('\r\n\r\n')) resolve(sock); });
  });
}

// Runs after the tests above on the same server: every limit they hit shows
// in the self-metrics.
test('the limits hit above are counted in GET /metrics', async () => {
  const res = await fetch(`${srv.uiUrl}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const value = (series) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} is exported`);
    return Number(line.slice(series.length + 1));
  };
  assert.ok(value('loupe_attributes_dropped_total') >= 2, 'attributes past --max-attributes');
  assert.ok(value('loupe_attribute_values_truncated_total') >= 1, 'the cut value');
  assert.ok(value('loupe_span_events_dropped_total') >= 1);
  assert.ok(value('loupe_span_links_dropped_total') >= 1);
  for (const port of ['grpc', 'http', 'ui']) {
    assert.ok(value(`loupe_headers_too_large_total{port="${port}"}`) >= 1, `431/RESOURCE_EXHAUSTED on ${port}`);
  }
  assert.ok(value('loupe_live_clients_refused_total') >= 1, 'live client past --max-live-clients');
  assert.ok(value('loupe_live_clients') <= 2, 'never more live clients than the limit');
});

test('HTTP ports past --max-connections: new connections wait until a slot frees', async () => {
  const small = await startLoupe({ args: ['--max-connections', '8'] });
  try {
    // /healthz lives on the UI port; the OTLP/HTTP port answers it 404
    for (const [port, status] of [[small.httpPort, 404], [small.uiPort, 200]]) {
      const fillers = [];
      for (let i = 0; i < 8; i++) fillers.push(await keptAlive(port));
      let answered = false;
      const waiting = request(`http://127.0.0.1:${port}/healthz`, { method: 'GET', timeoutMs: 20000 })
        .then((r) => { answered = true; return r; });
      // Not answered while every slot is held (bounded wait for a non-event).
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(answered, false, `port ${port}: answered past the connection limit`);
      fillers[0].destroy();
      const r = await waiting;
      assert.equal(r.status, status, `port ${port}`);
      for (const f of fillers) f.destroy();
    }
  } finally {
    const { code } = await small.stop();
    assert.equal(code, 0, small.stderr);
  }
});

test('gRPC port past --max-connections: accepted and closed at once; serves after', async () => {
  const small = await startLoupe({ args: ['--max-connections', '8'] });
  try {
    const socks = [];
    let closed = 0;
    const settled = [];
    for (let i = 0; i < 24; i++) {
      const s = net.connect(small.grpcPort, '127.0.0.1');
      s.on('error', () => {});
      settled.push(new Promise((r) => s.on('connect', r).on('close', r)));
      s.on('close', () => { closed++; });
      socks.push(s);
    }
    await Promise.all(settled);
    const deadline = Date.now() + 10000;
    while (closed < 16 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50)); // waits for the closes
    assert.equal(closed, 16, `${closed} of 24 refused`);
    await Promise.all(socks.map((s) => new Promise((r) => { if (s.destroyed) r(); else { s.on('close', r); s.destroy(); } })));
    let code;
    for (let i = 0; i < 50; i++) {
      const client = grpcClient(small.grpcAddr);
      code = (await grpcCall(client, TRACES, traceRequest('limits-conn').body)).code;
      client.close();
      if (code === 0) break;
      await new Promise((r) => setTimeout(r, 100)); // the loop reaps the closed sockets on its own
    }
    assert.equal(code, 0);
  } finally {
    const { code } = await small.stop();
    assert.equal(code, 0, small.stderr);
  }
});
