// otlp_any_protocol.test.mjs - the OTLP/gRPC port takes every OTLP protocol.
//
// An app configured by environment variables alone
// (OTEL_EXPORTER_OTLP_ENDPOINT=http://host:<gRPC port>) works whatever its
// exporters' protocol: grpc, http/protobuf (the JS default when
// OTEL_EXPORTER_OTLP_PROTOCOL is unset) or http/json, with and without gzip
// (the JS HTTP exporters send chunked bodies). The connection's first bytes
// decide: the HTTP/2 preface stays with the gRPC receiver, an HTTP/1.x
// request line is handed to the OTLP/HTTP receiver. Hostile first bytes
// (one byte and silence, a partial preface, garbage, TLS) get a bounded,
// clear end; mix-ups are logged once per client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { startLoupe, getJson } from './lib/server.mjs';
import { request } from './lib/rawhttp.mjs';
import { grpcClient, grpcCall, traceRequest, Status, TRACES } from './lib/grpc.mjs';
import { runChildApp } from './lib/child_app.mjs';

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'env_app.mjs');
const APP_TIMEOUT_MS = 60000;

let srv;
before(async () => {
  // The preface timeout is the shortest of 10 s, --idle-timeout and
  // --request-timeout: 2 s here, so the stalling clients below end soon.
  srv = await startLoupe({ args: ['--request-timeout', '2s'] });
});
after(async () => {
  const { code, signal } = await srv.stop();
  assert.equal(code, 0, `loupe exit ${code} ${signal}\n${srv.stderr}`);
});

// Runs env_app.mjs with a clean OTEL_* environment plus `vars`.
const runApp = (service, vars) => runChildApp(APP, [service], vars, APP_TIMEOUT_MS);

const misrouted = (re) => srv.stderr.split('\n').filter((l) => l.includes('event=otlp_misrouted') && re.test(l));

const CONFIGS = [undefined, 'http/protobuf', 'http/json', 'grpc']
  .flatMap((protocol) => [{ protocol, gzip: false }, { protocol, gzip: true }]);

for (const { protocol, gzip } of CONFIGS) {
  const label = `${protocol ?? 'protocol unset'}${gzip ? ' + gzip' : ''}`;
  const service = `anyport-${(protocol ?? 'unset').replace(/[^a-z]+/g, '-')}${gzip ? '-gzip' : ''}`;
  test(`exporters configured by environment alone, ${label}, on the gRPC port: every signal arrives`, async () => {
    const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: srv.grpcUrl, OTEL_EXPORTER_OTLP_TIMEOUT: '10000' };
    if (protocol) vars.OTEL_EXPORTER_OTLP_PROTOCOL = protocol;
    if (gzip) vars.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
    const sent = await runApp(service, vars);
    assert.equal(sent.protocol, protocol ?? 'http/protobuf');
    assert.ok(sent.ok, `every export succeeded: ${JSON.stringify(sent.results)}`);
    const t = await getJson(srv, `/api/v1/traces/${sent.traceId}`);
    assert.equal(t.status, 200);
    assert.equal(t.body.spans.length, sent.spans);
    assert.ok(t.body.spans.every((s) => s.service === service));
    const l = await getJson(srv, `/api/v1/logs?service=${service}&limit=100`);
    assert.equal(l.status, 200);
    assert.equal(l.body.logs.length, sent.records);
    assert.ok(l.body.logs.some((x) => x.traceId === sent.traceId), 'the log with trace context');
    const m = await getJson(srv, `/api/v1/metrics?service=${service}`);
    assert.equal(m.status, 200);
    assert.deepEqual(m.body.metrics.map((x) => x.name).sort(),
      ['http.server.duration', 'http.server.requests', 'process.memory.usage', 'queue.depth']);
  });
}

test('OTLP/HTTP on the gRPC port is logged once per client, at info', () => {
  const lines = misrouted(/transport=otlp_grpc client=127\.0\.0\.1 protocol=http1 action=served/);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /level=info/);
  assert.equal(misrouted(/protocol=h2/).length, 0, 'gRPC on the gRPC port is not a mix-up');
});

// ---- one connection, raw --------------------------------------------------------

// Reads HTTP/1.1 answers (Content-Length framed) from a socket, one at a time.
function answers(sock) {
  let data = Buffer.alloc(0);
  const waiting = [];
  const pump = () => {
    while (waiting.length) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.subarray(0, end).toString('latin1');
      const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length < end + 4 + len) return;
      const body = data.subarray(end + 4, end + 4 + len);
      data = data.subarray(end + 4 + len);
      waiting.shift().resolve({ status: Number(head.slice(9, 12)), head, body });
    }
  };
  sock.on('data', (d) => { data = Buffer.concat([data, d]); pump(); });
  sock.on('close', () => { while (waiting.length) waiting.shift().reject(new Error('closed')); });
  return () => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer in 10 s')), 10000);
    waiting.push({ resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    pump();
  });
}

function spanJson(service, seq) {
  return JSON.stringify({ resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [{ spans: [{ traceId: `${'ef'.repeat(15)}${seq.toString(16).padStart(2, '0')}`,
      spanId: '1122334455667788', name: `s${seq}`, startTimeUnixNano: '1000', endTimeUnixNano: '2000' }] }],
  }] });
}

test('a kept-alive HTTP/1.1 connection on the gRPC port: several requests, chunked and gzip, CORS', async () => {
  const sock = net.connect(srv.grpcPort, '127.0.0.1');
  sock.on('error', () => {});
  const next = answers(sock);
  try {
    const plain = Buffer.from(spanJson('anyport-raw', 1));
    sock.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${plain.length}\r\n\r\n`);
    sock.write(plain);
    let a = await next();
    assert.equal(a.status, 200, a.body.toString());
    const gz = zlib.gzipSync(spanJson('anyport-raw', 2));
    const half = Math.floor(gz.length / 2);
    sock.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      'Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (const part of [gz.subarray(0, half), gz.subarray(half)]) {
      sock.write(`${part.length.toString(16)}\r\n`);
      sock.write(part);
      sock.write('\r\n');
    }
    sock.write('0\r\n\r\n');
    a = await next();
    assert.equal(a.status, 200, a.body.toString());
    // OTLP/HTTP's own answers: a wrong path is 404 in OTLP/HTTP's JSON.
    sock.write('POST /v1/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    a = await next();
    assert.equal(a.status, 404);
    assert.match(a.body.toString(), /OTLP\/HTTP accepts POST/);
    // CORS is off by default: a preflight is refused as on the OTLP/HTTP port.
    sock.write('OPTIONS /v1/traces HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n' +
      'Access-Control-Request-Method: POST\r\nContent-Length: 0\r\n\r\n');
    a = await next();
    assert.equal(a.status, 403);
  } finally {
    sock.destroy();
  }
  const s = (await getJson(srv, '/api/v1/services')).body.services.find((x) => x.name === 'anyport-raw');
  assert.equal(s?.spanCount, 2);
});

test('the request line split across reads: the sniffer waits for more and then hands over', async () => {
  const sock = net.connect(srv.grpcPort, '127.0.0.1');
  sock.on('error', () => {});
  const next = answers(sock);
  try {
    await new Promise((r) => sock.on('connect', r));
    const body = spanJson('anyport-split', 3);
    // "PO" could still be anything; the rest comes in a later segment.
    sock.write('PO');
    await new Promise((r) => setTimeout(r, 300)); // the scenario: a pause mid request line
    sock.write(`ST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const a = await next();
    assert.equal(a.status, 200, a.body.toString());
  } finally {
    sock.destroy();
  }
});

// ---- hostile first bytes ------------------------------------------------------------

// Connects, writes `bytes` (and ends the write side when `end`), and
// resolves when the server closes: {ms since connect, data received}.
function untilClosed(port, bytes, { end = false, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let t0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('not closed')); }, timeoutMs);
    sock.on('connect', () => {
      t0 = Date.now();
      if (end) sock.end(bytes); else sock.write(bytes);
    });
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve({ ms: Date.now() - t0, data }); });
  });
}

async function grpcStillWorks(label) {
  const client = grpcClient(srv.grpcAddr);
  try {
    assert.equal((await grpcCall(client, TRACES, traceRequest(`anyport-${label}`).body)).code, 0, label);
  } finally { client.close(); }
}

test('one byte and silence: closed at the preface timeout, not before; others are served meanwhile', async () => {
  const stalled = untilClosed(srv.grpcPort, 'P');
  await grpcStillWorks('beside-stall');
  const { ms, data } = await stalled;
  assert.ok(ms >= 1500 && ms < 10000, `closed after ${ms} ms`);
  assert.equal(data.length, 0);
});

test('a partial preface and silence: closed at the preface timeout', async () => {
  const { ms, data } = await untilClosed(srv.grpcPort, 'PRI * HTTP/2.0\r\n');
  assert.ok(ms >= 1500 && ms < 10000, `closed after ${ms} ms`);
  assert.equal(data.length, 0, 'nothing is sent before the whole preface');
});

test('one byte then the client\'s FIN: closed at once, not at the timeout', async () => {
  const { ms } = await untilClosed(srv.grpcPort, 'P', { end: true });
  assert.ok(ms < 1500, `closed after ${ms} ms`);
});

test('garbage: closed without a word', async () => {
  const { ms, data } = await untilClosed(srv.grpcPort, Buffer.from('\x00\x01\x02garbage that is no protocol\r\n', 'latin1'));
  assert.equal(data.length, 0);
  assert.ok(ms < 1500, `closed after ${ms} ms`);
  await grpcStillWorks('after-garbage');
});

test('TLS on the gRPC port: a fatal TLS alert, the client fails at once, logged once', async () => {
  // A real TLS client first: it must fail with the alert, not hang.
  for (let i = 0; i < 2; i++) {
    const err = await new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: srv.grpcPort, rejectUnauthorized: false });
      const timer = setTimeout(() => { s.destroy(); resolve(new Error('no TLS failure in 10 s')); }, 10000);
      s.on('secureConnect', () => { clearTimeout(timer); s.destroy(); resolve(new Error('handshake succeeded')); });
      s.on('error', (e) => { clearTimeout(timer); resolve(e); });
    });
    assert.match(`${err.code} ${err.message}`, /ALERT_HANDSHAKE_FAILURE|alert handshake failure/i, String(err));
  }
  // The bytes: one alert record (21), TLS 1.2, fatal (2) handshake_failure (40).
  const hello = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '000002002f0100', 'hex');
  const { data } = await untilClosed(srv.grpcPort, hello);
  assert.deepEqual([...data], [21, 3, 3, 0, 2, 2, 40]);
  const lines = misrouted(/transport=otlp_grpc client=127\.0\.0\.1 protocol=tls action=refused/);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /level=warn .*http:\/\//);
  await grpcStillWorks('after-tls');
});

test('gRPC sent to the OTLP/HTTP port: refused, and the log says where to send it (once a minute)', async () => {
  for (let i = 0; i < 2; i++) {
    const client = grpcClient(`127.0.0.1:${srv.httpPort}`);
    try {
      const r = await grpcCall(client, TRACES, traceRequest('anyport-wrong-port').body, { deadlineMs: 5000 });
      assert.notEqual(r.code, Status.OK);
    } finally { client.close(); }
  }
  const deadline = Date.now() + 5000;
  while (misrouted(/transport=otlp_http protocol=h2/).length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50)); // polls the log for the line
  }
  const lines = misrouted(/transport=otlp_http protocol=h2 action=refused/);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /level=warn .*OTLP\/gRPC port/);
  const r = await getJson(srv, '/api/v1/services');
  assert.ok(!r.body.services.some((s) => s.name === 'anyport-wrong-port'));
});

// ---- limits and keys are OTLP/HTTP's ------------------------------------------------

function keptAlive(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer')); }, 10000);
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); reject(new Error('closed without an answer')); });
    sock.on('connect', () => sock.write('GET /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
    sock.on('data', (d) => {
      data += d;
      if (/^HTTP\/1\.1 405/.test(data) && data.includes('\r\n\r\n')) { clearTimeout(timer); sock.removeAllListeners('close'); resolve(sock); }
    });
  });
}

test('handed-over connections count against OTLP/HTTP\'s --max-connections, not the gRPC port\'s', async () => {
  const small = await startLoupe({ args: ['--max-connections', '8', '--otlp-api-key', 'k3y'] });
  const fillers = [];
  try {
    for (let i = 0; i < 8; i++) fillers.push(await keptAlive(small.grpcPort));
    // The gRPC port holds none of them: gRPC is served.
    const client = grpcClient(small.grpcAddr);
    try {
      const r = await grpcCall(client, TRACES, traceRequest('anyport-limit').body, { metadata: { 'x-otlp-api-key': 'k3y' } });
      assert.equal(r.code, 0);
    } finally { client.close(); }
    // OTLP/HTTP is full: a ninth HTTP/1.1 client is closed unanswered.
    await assert.rejects(keptAlive(small.grpcPort), /closed without an answer|ECONNRESET/);
    const metrics = await (await fetch(`${small.uiUrl}/metrics`)).text();
    assert.match(metrics, /^loupe_open_connections\{port="http"\} 8$/m);
    // A slot frees: the next one is served (the close is seen asynchronously).
    fillers.shift().destroy();
    let served = null;
    for (let i = 0; i < 50 && !served; i++) {
      served = await keptAlive(small.grpcPort).catch(() => null);
      if (!served) await new Promise((r) => setTimeout(r, 100)); // retries until the close is seen
    }
    assert.ok(served, 'served once a slot freed');
    fillers.push(served);
    // API keys are OTLP/HTTP's: 401 without, 200 with (retried until the
    // fillers' closes are seen and there is room).
    while (fillers.length) fillers.pop().destroy();
    const body = spanJson('anyport-key', 4);
    const headers = { 'content-type': 'application/json' };
    const until = async (extra, status) => {
      let r;
      for (let i = 0; i < 50; i++) {
        r = await request(`${small.grpcUrl}/v1/traces`, { body, headers: { ...headers, ...extra } }).catch((e) => e);
        if (r.status === status) break;
        await new Promise((res) => setTimeout(res, 100)); // retries until a slot is free
      }
      return r;
    };
    const no = await until({}, 401);
    assert.equal(no.status, 401, String(no.message ?? no.body));
    assert.match(no.body.toString(), /API key/);
    const yes = await until({ authorization: 'Bearer k3y' }, 200);
    assert.equal(yes.status, 200, String(yes.message ?? yes.body));
  } finally {
    for (const f of fillers) f.destroy();
    const { code } = await small.stop();
    assert.equal(code, 0, small.stderr);
  }
});
