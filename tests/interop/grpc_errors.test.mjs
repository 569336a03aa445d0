// OTLP/gRPC receiver: error answers and hostile input, with a real gRPC
// client that is not ours (@grpc/grpc-js) and, for what no real client
// sends, raw HTTP/2 (node:http2). After every failure a valid export on the
// same connection must still succeed: one bad stream never hurts the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import zlib from 'node:zlib';
import { startLoupe } from './lib/server.mjs';
import {
  TRACES, LOGS, METRICS, traceRequest, frame, grpcClient, grpcCall, Status, h2connect, h2call,
} from './lib/grpc.mjs';

const MAX = 65536; // --max-grpc-message-size for this server
let srv;
let client; // one grpc-js channel = one HTTP/2 connection for the whole file
let h2; // one raw HTTP/2 session

before(async () => {
  srv = await startLoupe({ args: ['--max-grpc-message-size', String(MAX)] });
  client = grpcClient(srv.grpcAddr);
  h2 = await h2connect(srv.grpcUrl);
});

after(async () => {
  client?.close();
  h2?.close();
  const res = await srv?.stop();
  assert.equal(res?.code, 0, `loupe exit ${JSON.stringify(res)}\n${srv?.stderr}`);
});

// A valid export through grpc-js on the shared channel succeeds.
async function assertStillWorks(what) {
  const { body } = traceRequest(`still-works-${what}`);
  const r = await grpcCall(client, TRACES, body);
  assert.equal(r.code, 0, `valid export after ${what}: ${r.details}`);
  assert.equal(r.response.length, 0, 'full success: empty ExportTraceServiceResponse');
}

// A valid export on the shared raw session succeeds.
async function assertRawStillWorks(what) {
  const { body } = traceRequest(`raw-still-works-${what}`);
  const r = await h2call(h2, TRACES, { chunks: [frame(body)] });
  assert.equal(r.grpcStatus, 0, `valid raw export after ${what}: ${r.grpcMessage}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, frame(Buffer.alloc(0)), 'one empty length-prefixed response message');
}

test('valid exports for all three signals (grpc-js)', async () => {
  await assertStillWorks('start');
  // Empty requests are valid for every signal: zero-length gRPC messages.
  for (const m of [TRACES, LOGS, METRICS]) {
    const r = await grpcCall(client, m, Buffer.alloc(0));
    assert.equal(r.code, 0, `${m}: ${r.details}`);
  }
});

test('successful answer shape: headers, one DATA message, grpc-status 0 trailer', async () => {
  const { body } = traceRequest('shape');
  const r = await h2call(h2, TRACES, { chunks: [frame(body)] });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/grpc/);
  assert.match(r.headers['grpc-accept-encoding'], /gzip/);
  assert.equal(r.headers['grpc-status'], undefined, 'status comes in the trailers');
  assert.equal(r.trailers['grpc-status'], '0');
  assert.deepEqual(r.data, frame(Buffer.alloc(0)));
});

test('unknown method -> UNIMPLEMENTED', async () => {
  for (const m of ['/opentelemetry.proto.collector.trace.v1.TraceService/Nope', '/grpc.health.v1.Health/Check', '/']) {
    const r = await grpcCall(client, m, Buffer.alloc(0));
    assert.equal(r.code, Status.UNIMPLEMENTED, m);
  }
  // grpc-message is percent-encoded on the wire and decoded by the client.
  const r = await grpcCall(client, '/x%y/z', Buffer.alloc(0));
  assert.equal(r.code, Status.UNIMPLEMENTED);
  assert.equal(r.details, 'unknown method /x%y/z');
  await assertStillWorks('unknown method');
});

test('garbage payload -> INVALID_ARGUMENT', async () => {
  for (const m of [TRACES, LOGS, METRICS]) {
    const r = await grpcCall(client, m, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(r.code, Status.INVALID_ARGUMENT, `${m}: ${r.details}`);
    assert.match(r.details, /decode/);
  }
  // A field that claims more bytes than the message has.
  const r = await grpcCall(client, TRACES, Buffer.from([0x0a, 0x7f, 0x01]));
  assert.equal(r.code, Status.INVALID_ARGUMENT);
  await assertStillWorks('garbage payload');
});

test('oversize message -> RESOURCE_EXHAUSTED, answered from the prefix alone', async () => {
  const r = await grpcCall(client, TRACES, Buffer.alloc(MAX + 1, 0x0a));
  assert.equal(r.code, Status.RESOURCE_EXHAUSTED, r.details);
  await assertStillWorks('oversize');

  // Raw: only the prefix of a 16 MiB message is sent and the request stays
  // open; the answer must come anyway (nothing was buffered or awaited).
  const big = await h2call(h2, TRACES, { chunks: [frame(Buffer.alloc(0), 0, 16 << 20)], end: false });
  assert.equal(big.grpcStatus, Status.RESOURCE_EXHAUSTED);
  assert.match(big.grpcMessage, /16777216 bytes exceeds the limit of 65536/);
  // A message exactly at the limit passes the size check (and is decoded).
  const at = await grpcCall(client, TRACES, Buffer.alloc(MAX, 0xff));
  assert.equal(at.code, Status.INVALID_ARGUMENT, 'at the limit: decoded, not refused for size');
  await assertRawStillWorks('oversize raw');
});

test('compressed messages: gzip works, unknown grpc-encoding -> UNIMPLEMENTED', async () => {
  const { body } = traceRequest('gzip');
  const gz = zlib.gzipSync(body);
  const ok = await h2call(h2, TRACES, { headers: { 'grpc-encoding': 'gzip' }, chunks: [frame(gz, 1)] });
  assert.equal(ok.grpcStatus, 0, ok.grpcMessage);

  // grpc-js with its own gzip compression.
  const gzClient = grpcClient(srv.grpcAddr, { 'grpc.default_compression_algorithm': 2 });
  try {
    const r = await grpcCall(gzClient, TRACES, traceRequest('grpc-js-gzip', 50).body);
    assert.equal(r.code, 0, r.details);
  } finally {
    gzClient.close();
  }

  const bad = await h2call(h2, TRACES, { headers: { 'grpc-encoding': 'snappy' }, chunks: [frame(gz, 1)] });
  assert.equal(bad.grpcStatus, Status.UNIMPLEMENTED);
  assert.match(bad.headers['grpc-accept-encoding'], /gzip/, 'advertises what it accepts');
  // An unknown encoding is fine as long as no message is compressed.
  const plain = await h2call(h2, TRACES, { headers: { 'grpc-encoding': 'snappy' }, chunks: [frame(body, 0)] });
  assert.equal(plain.grpcStatus, 0);
  // Flag set without any grpc-encoding: a protocol violation.
  const noenc = await h2call(h2, TRACES, { chunks: [frame(gz, 1)] });
  assert.equal(noenc.grpcStatus, Status.INTERNAL);
  // Corrupt gzip.
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 10, 20);
  const c = await h2call(h2, TRACES, { headers: { 'grpc-encoding': 'gzip' }, chunks: [frame(corrupt, 1)] });
  assert.equal(c.grpcStatus, Status.INTERNAL);
  // A gzip bomb: small on the wire, over the limit once inflated.
  const bomb = zlib.gzipSync(Buffer.alloc(4 << 20));
  assert.ok(bomb.length < MAX);
  const b = await h2call(h2, TRACES, { headers: { 'grpc-encoding': 'gzip' }, chunks: [frame(bomb, 1)] });
  assert.equal(b.grpcStatus, Status.RESOURCE_EXHAUSTED);

  // grpc-js asked to use deflate, which loupe does not advertise: the first
  // call (before the client has seen grpc-accept-encoding) is refused.
  const deflateClient = grpcClient(srv.grpcAddr, { 'grpc.default_compression_algorithm': 1 });
  try {
    const r = await grpcCall(deflateClient, TRACES, body);
    assert.equal(r.code, Status.UNIMPLEMENTED, r.details);
  } finally {
    deflateClient.close();
  }
  await assertRawStillWorks('compression');
  await assertStillWorks('compression');
});

test('deadlines: grpc-timeout already passed, expiring mid-request, malformed', async () => {
  const { body } = traceRequest('deadline');
  for (const t of ['0n', '0S', '1n']) {
    const r = await h2call(h2, TRACES, { headers: { 'grpc-timeout': t }, chunks: [frame(body)] });
    assert.equal(r.grpcStatus, Status.DEADLINE_EXCEEDED, `grpc-timeout ${t}`);
  }
  // The request stalls half-way: the deadline answers it.
  const t0 = Date.now();
  const half = frame(body).subarray(0, 20);
  const r = await h2call(h2, TRACES, { headers: { 'grpc-timeout': '300m' }, chunks: [half], end: false });
  const took = Date.now() - t0;
  assert.equal(r.grpcStatus, Status.DEADLINE_EXCEEDED);
  assert.ok(took >= 250 && took < 5000, `answered after ${took} ms`);
  for (const t of ['abc', '123', '123456789S', '-1S', '1x']) {
    const m = await h2call(h2, TRACES, { headers: { 'grpc-timeout': t }, chunks: [frame(body)] });
    assert.equal(m.grpcStatus, Status.INTERNAL, `grpc-timeout ${t}`);
  }
  // A generous deadline is no obstacle.
  const ok = await grpcCall(client, TRACES, body, { deadlineMs: 10000 });
  assert.equal(ok.code, 0, ok.details);
  await assertRawStillWorks('deadlines');
});

test('HTTP-level errors: content-type, method', async () => {
  const { body } = traceRequest('http');
  const ct = await h2call(h2, TRACES, { headers: { 'content-type': 'application/json' }, chunks: [frame(body)] });
  assert.equal(ct.status, 415);
  assert.equal(ct.grpcStatus, Status.INVALID_ARGUMENT);
  const ct2 = await h2call(h2, TRACES, { headers: { 'content-type': 'application/grpc+json' }, chunks: [frame(body)] });
  assert.equal(ct2.status, 415);
  const proto = await h2call(h2, TRACES, { headers: { 'content-type': 'application/grpc+proto' }, chunks: [frame(body)] });
  assert.equal(proto.grpcStatus, 0);
  const get = await h2call(h2, TRACES, { method: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.grpcStatus, Status.UNIMPLEMENTED);
  await assertRawStillWorks('http errors');
});

test('gRPC framing: split across many DATA frames, several or no messages, truncation, bad flag', async () => {
  const { body } = traceRequest('split', 20);
  const whole = frame(body);
  // 7-byte DATA frames, so the prefix itself is split.
  const chunks = [];
  for (let i = 0; i < whole.length; i += 7) chunks.push(whole.subarray(i, i + 7));
  const split = await h2call(h2, TRACES, { chunks });
  assert.equal(split.grpcStatus, 0, split.grpcMessage);

  const two = await h2call(h2, TRACES, { chunks: [Buffer.concat([whole, whole])] });
  assert.equal(two.grpcStatus, Status.INTERNAL, 'two messages on a unary method');
  const none = await h2call(h2, TRACES, { chunks: [] });
  assert.equal(none.grpcStatus, Status.INTERNAL, 'no message');
  const trunc = await h2call(h2, TRACES, { chunks: [whole.subarray(0, whole.length - 1)] });
  assert.equal(trunc.grpcStatus, Status.INTERNAL, 'truncated message');
  const prefixOnly = await h2call(h2, TRACES, { chunks: [whole.subarray(0, 3)] });
  assert.equal(prefixOnly.grpcStatus, Status.INTERNAL, 'truncated prefix');
  const flag = Buffer.from(whole);
  flag[0] = 7;
  const badFlag = await h2call(h2, TRACES, { chunks: [flag] });
  assert.equal(badFlag.grpcStatus, Status.INTERNAL, 'bad flag byte');
  await assertRawStillWorks('framing');
});

test('many concurrent streams on one connection', async () => {
  const calls = [];
  for (let i = 0; i < 200; i++) calls.push(grpcCall(client, TRACES, traceRequest(`concurrent-${i % 4}`, 3).body));
  // Interleave failing ones.
  for (let i = 0; i < 20; i++) calls.push(grpcCall(client, TRACES, Buffer.from([0xff, 0x01])));
  const res = await Promise.all(calls);
  assert.equal(res.filter((r) => r.code === 0).length, 200);
  assert.equal(res.filter((r) => r.code === Status.INVALID_ARGUMENT).length, 20);
});

test('HTTP/1.1 and garbage on the port end only that connection', async () => {
  const talk = (bytes) => new Promise((resolve, reject) => {
    const s = net.connect(srv.grpcPort, '127.0.0.1');
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error('connection not closed')); }, 10000);
    s.on('data', (d) => { got = Buffer.concat([got, d]); });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(got.toString('latin1')); });
    s.write(bytes);
  });
  // HTTP/1.1 is OTLP/HTTP's to answer (otlp_any_protocol.test.mjs): here,
  // its 415 for a body without a Content-Type.
  const h1 = await talk('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  assert.match(h1, /^HTTP\/1\.1 415 /);
  const garbage = await talk(Buffer.from('\x00\x01\x00\x01\xfc\x03\x03garbage-garbage-garbage', 'latin1'));
  assert.equal(garbage, '', 'garbage gets no HTTP/2 frames, just a close');
  // Valid preface, then a broken frame: the session ends with GOAWAY.
  const broken = await talk(Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), // empty SETTINGS
    Buffer.from([0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff]), // oversized frame
  ]));
  // the server's frames (9-byte headers: length, type, flags, stream id)
  const frames = [];
  const wire = Buffer.from(broken, 'latin1');
  for (let i = 0; i + 9 <= wire.length; i += 9 + wire.readUIntBE(i, 3)) {
    frames.push({ type: wire[i + 3], payload: wire.subarray(i + 9, i + 9 + wire.readUIntBE(i, 3)) });
  }
  const types = frames.map((f) => f.type);
  assert.equal(types[0], 0x4, `SETTINGS first: frame types ${types}`);
  assert.equal(types.at(-1), 0x7, `GOAWAY last: frame types ${types}`);
  // RFC 9113: a frame over the peer's SETTINGS_MAX_FRAME_SIZE is FRAME_SIZE_ERROR (0x6)
  assert.equal(frames.at(-1).payload.readUInt32BE(4), 0x6, 'GOAWAY with FRAME_SIZE_ERROR');
  await assertStillWorks('junk connections');
  await assertRawStillWorks('junk connections');
});

test('API keys: x-otlp-api-key or Authorization: Bearer, else UNAUTHENTICATED', async () => {
  const keyed = await startLoupe({ args: ['--otlp-api-key', 's3cret-key'] });
  const c = grpcClient(keyed.grpcAddr);
  try {
    const { body } = traceRequest('auth');
    assert.equal((await grpcCall(c, TRACES, body)).code, Status.UNAUTHENTICATED);
    assert.equal((await grpcCall(c, TRACES, body, { metadata: { 'x-otlp-api-key': 's3cret-kex' } })).code,
      Status.UNAUTHENTICATED);
    assert.equal((await grpcCall(c, TRACES, body, { metadata: { 'x-otlp-api-key': 's3cret-key-' } })).code,
      Status.UNAUTHENTICATED);
    assert.equal((await grpcCall(c, TRACES, body, { metadata: { authorization: 'Basic s3cret-key' } })).code,
      Status.UNAUTHENTICATED);
    assert.equal((await grpcCall(c, TRACES, body, { metadata: { 'x-otlp-api-key': 's3cret-key' } })).code, 0);
    assert.equal((await grpcCall(c, TRACES, body, { metadata: { authorization: 'Bearer s3cret-key' } })).code, 0);
    // Unknown methods are not revealed without a key.
    assert.equal((await grpcCall(c, '/nope/Nope', body)).code, Status.UNAUTHENTICATED);
  } finally {
    c.close();
    const res = await keyed.stop();
    assert.equal(res.code, 0);
  }
});

test('graceful stop: GOAWAY, the stream in flight still completes, clean exit', async () => {
  const own = await startLoupe();
  const s = await h2connect(own.grpcUrl);
  try {
    const whole = frame(traceRequest('in-flight').body);
    let stream;
    const goaway = new Promise((resolve) => s.once('goaway', (code) => resolve(code)));
    const done = h2call(s, TRACES, { chunks: [whole.subarray(0, 10)], end: false, onStream: (r) => { stream = r; } });
    // The request is open (its headers were processed) before the stop.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => s.ping(() => resolve()));
    own.proc.kill('SIGTERM');
    assert.equal(await goaway, 0, 'GOAWAY with NO_ERROR');
    stream.end(whole.subarray(10));
    const r = await done;
    assert.equal(r.grpcStatus, 0, `in-flight request answered: ${r.grpcMessage}`);
    const res = await own.exited;
    assert.equal(res.code, 0);
  } finally {
    s.destroy();
    await own.stop();
  }
});
