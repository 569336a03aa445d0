// OTLP/HTTP receiver under bad, hostile and unusual input: every refusal is
// the right status with an explanation in the request's encoding, the server
// keeps serving after each one, and the data accepted along the way is still
// there at the end (read back through the JSON API).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import zlib from 'node:zlib';
import { readFileSync } from 'node:fs';
import { startLoupe, getJson } from './lib/server.mjs';
import { request, rawExchange } from './lib/rawhttp.mjs';
import { logsRequestPb, decodeStatus, decodeExportResponse } from './lib/protobuf.mjs';

const SERVICE = 'otlp-http-errors';
const PB = 'application/x-protobuf';
const JSON_CT = 'application/json';
const POISON = 'must-not-be-stored'; // in bodies that are refused

let srv;
const accepted = []; // log bodies the server acknowledged
let seq = 0;

const nextNs = () => BigInt(Date.now()) * 1000000n + BigInt(seq++);

function logsJson(service, records) {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{
        scope: { name: 'otlp-http-errors-test' },
        logRecords: records.map((r) => ({
          timeUnixNano: String(r.timeNs),
          severityNumber: 9,
          severityText: 'INFO',
          body: { stringValue: r.body },
          ...(r.traceId !== undefined ? { traceId: r.traceId } : {}),
          ...(r.spanId !== undefined ? { spanId: r.spanId } : {}),
        })),
      }],
    }],
  };
}

const jsonBody = (body) => Buffer.from(JSON.stringify(logsJson(SERVICE, [{ body, timeNs: nextNs() }])));
const pbBody = (body) => logsRequestPb(SERVICE, [{ body, timeNs: nextNs() }]);
const url = (path) => `${srv.httpUrl}${path}`;

function post(path, contentType, body, headers = {}) {
  return request(url(path), { headers: { 'content-type': contentType, ...headers }, body });
}

// A refusal with a google.rpc.Status body in the request's encoding.
function assertStatus(res, httpStatus, grpcCode, encoding = 'json') {
  assert.equal(res.status, httpStatus, `HTTP ${res.status}: ${res.body.toString('latin1').slice(0, 200)}`);
  let st;
  if (encoding === 'pb') {
    assert.equal(res.headers['content-type'], PB);
    st = decodeStatus(res.body);
  } else {
    assert.equal(res.headers['content-type'], JSON_CT);
    st = JSON.parse(res.body.toString('utf8'));
  }
  assert.equal(st.code, grpcCode, `status code in ${JSON.stringify(st)}`);
  assert.ok(typeof st.message === 'string' && st.message.length > 10, `a message explains: ${st.message}`);
  return st;
}

async function sendGood(label) {
  const text = `accepted ${label} #${seq}`;
  const res = await post('/v1/logs', JSON_CT, jsonBody(text));
  assert.equal(res.status, 200, `the server still serves (${label})`);
  accepted.push(text);
}

before(async () => {
  // sqlite: the production path, where answers wait for the commit.
  srv = await startLoupe({ storage: 'sqlite', args: ['--cors-origins', 'http://allowed.test'] });
});

after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, `clean exit\n${srv.stderr}`);
});

// After each bad input, the server still accepts a good request.
afterEach(async () => {
  await sendGood('after a test');
});

test('valid protobuf and JSON bodies are accepted', async () => {
  let res = await post('/v1/logs', PB, pbBody('accepted pb'));
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], PB);
  assert.equal(decodeExportResponse(res.body).rejected, 0);
  accepted.push('accepted pb');

  res = await post('/v1/logs', 'Application/JSON; charset=utf-8', jsonBody('accepted json'));
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], JSON_CT);
  const parsed = JSON.parse(res.body.toString('utf8'));
  assert.equal(Number(parsed.partialSuccess?.rejectedLogRecords ?? 0), 0);
  accepted.push('accepted json');
});

test('a chunked body (no Content-Length) is accepted', async () => {
  const body = pbBody('accepted chunked');
  const res = await request(url('/v1/logs'), {
    headers: { 'content-type': PB },
    chunks: [body.subarray(0, 7), body.subarray(7, 20), body.subarray(20)],
  });
  assert.equal(res.status, 200);
  accepted.push('accepted chunked');
});

test('a gzip body is accepted, protobuf and JSON', async () => {
  let res = await post('/v1/logs', JSON_CT, zlib.gzipSync(jsonBody('accepted gzip json')), { 'content-encoding': 'gzip' });
  assert.equal(res.status, 200);
  accepted.push('accepted gzip json');
  res = await request(url('/v1/logs'), {
    headers: { 'content-type': PB, 'content-encoding': 'gzip' },
    chunks: [zlib.gzipSync(pbBody('accepted gzip chunked'))],
  });
  assert.equal(res.status, 200);
  accepted.push('accepted gzip chunked');
});

test('an empty request is accepted', async () => {
  let res = await post('/v1/logs', PB, Buffer.alloc(0));
  assert.equal(res.status, 200);
  assert.equal(decodeExportResponse(res.body).rejected, 0);
  res = await post('/v1/traces', JSON_CT, '{}');
  assert.equal(res.status, 200);
  res = await post('/v1/metrics', JSON_CT, '{"resourceMetrics": []}');
  assert.equal(res.status, 200);
});

test('truncated protobuf is refused with 400 and a protobuf Status', async () => {
  const good = pbBody(POISON);
  for (const cut of [1, 5, 17, good.length - 1]) {
    const res = await post('/v1/logs', PB, good.subarray(0, good.length - cut));
    assertStatus(res, 400, 3, 'pb');
  }
});

test('garbage protobuf is refused with 400', async () => {
  const cases = [
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length far past the end
    Buffer.from([0x0a, 0x02, 0x08]), // embedded message cut short
    Buffer.from([0x0f]), // wire type 7 does not exist
    Buffer.alloc(64, 0xff), // a key varint that never ends
    Buffer.from(`{"resourceLogs":[{"body":"${POISON}"}]}`), // JSON sent as protobuf
  ];
  for (const body of cases) {
    const res = await post('/v1/logs', PB, body);
    assertStatus(res, 400, 3, 'pb');
  }
});

test('invalid JSON is refused with 400 and a JSON Status', async () => {
  for (const body of ['{', 'not json', `{"resourceLogs": [`, '\u0000', `{"resourceLogs": [{"x": "${POISON}"]}`]) {
    const res = await post('/v1/logs', JSON_CT, body);
    assertStatus(res, 400, 3);
  }
});

test('JSON of the wrong shape is refused with 400', async () => {
  for (const body of ['[]', '5', 'null', '"resourceLogs"', '{"resourceLogs": 5}', '{"resourceLogs": ["x"]}']) {
    const res = await post('/v1/logs', JSON_CT, body);
    assertStatus(res, 400, 3);
  }
});

test('an unsupported Content-Type is refused with 415', async () => {
  for (const ct of ['text/plain', 'application/xml', 'application/jsonx', 'multipart/form-data; boundary=x']) {
    const res = await post('/v1/logs', ct, jsonBody(POISON));
    const st = assertStatus(res, 415, 3);
    assert.match(st.message, /Content-Type/);
  }
  const res = await request(url('/v1/logs'), { headers: {}, body: jsonBody(POISON) });
  assertStatus(res, 415, 3);
});

test('an unsupported Content-Encoding is refused with 415', async () => {
  for (const enc of ['br', 'deflate', 'gzip, gzip']) {
    const res = await post('/v1/logs', JSON_CT, jsonBody(POISON), { 'content-encoding': enc });
    const st = assertStatus(res, 415, 3);
    assert.match(st.message, /Content-Encoding/);
  }
});

test('a Content-Length over the limit is refused with 413 before the body is sent', async () => {
  // Only the headers go out: the answer cannot wait for the body.
  const head = 'POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    'Content-Length: 1000000000000\r\n\r\n';
  const res = await rawExchange('127.0.0.1', srv.httpPort, head);
  assert.equal(res.status, 413);
  const st = JSON.parse(res.body.toString('utf8'));
  assert.equal(st.code, 8);
  assert.match(st.message, /1000000000000/);
});

test('an invalid gzip body is refused with 400', async () => {
  const good = zlib.gzipSync(jsonBody(POISON));
  for (const body of [Buffer.from('not gzip at all'), good.subarray(0, good.length - 6), Buffer.alloc(0)]) {
    const res = await post('/v1/logs', JSON_CT, body, { 'content-encoding': 'gzip' });
    const st = assertStatus(res, 400, 3);
    assert.match(st.message, /gzip/);
  }
});

function vmHwmKb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('a gzip bomb (1 GiB of zeros) is refused with 413 and memory stays bounded', async () => {
  // One gzip stream of 1 GiB of zeros, about 1 MB compressed.
  const gz = zlib.createGzip({ level: 9 });
  const parts = [];
  gz.on('data', (d) => parts.push(d));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < 1024; i++) {
    if (!gz.write(zeros)) await new Promise((resolve) => gz.once('drain', resolve));
  }
  gz.end();
  await done;
  const bomb = Buffer.concat(parts);
  assert.ok(bomb.length < 16 << 20, 'the compressed bomb fits under the body limit');

  const before = vmHwmKb(srv.proc.pid);
  for (const ct of [PB, JSON_CT]) {
    const res = await post('/v1/logs', ct, bomb, { 'content-encoding': 'gzip' });
    const st = assertStatus(res, 413, 8, ct === PB ? 'pb' : 'json');
    assert.match(st.message, /decompressed/);
  }
  const grownMiB = (vmHwmKb(srv.proc.pid) - before) / 1024;
  assert.ok(grownMiB < 256, `peak RSS grew by ${grownMiB.toFixed(0)} MiB`);
});

test('a wrong method is refused with 405 and Allow', async () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    const res = await request(url('/v1/traces'), { method, headers: { 'content-type': JSON_CT }, body: method === 'GET' ? undefined : '{}' });
    assertStatus(res, 405, 12);
    assert.equal(res.headers.allow, 'POST, OPTIONS');
  }
});

test('an unknown path is refused with 404', async () => {
  for (const path of ['/', '/v1/trace', '/v2/traces', '/v1/traces/extra', '/v1/logs/', '/api/v1/logs']) {
    const res = await post(path, JSON_CT, jsonBody(POISON));
    assertStatus(res, 404, 5);
  }
});

test('invalid ids are answered 200 with a partial success; the valid records are kept', async () => {
  const pb = logsRequestPb(SERVICE, [
    { body: 'accepted beside a bad id (pb)', timeNs: nextNs() },
    { body: `${POISON} short trace id`, timeNs: nextNs(), traceId: Buffer.from([1, 2]) },
    { body: `${POISON} long span id`, timeNs: nextNs(), spanId: Buffer.alloc(9, 7) },
  ]);
  let res = await post('/v1/logs', PB, pb);
  assert.equal(res.status, 200);
  const r = decodeExportResponse(res.body);
  assert.equal(r.rejected, 2);
  assert.ok(r.errorMessage.length > 0, 'the partial success explains');
  accepted.push('accepted beside a bad id (pb)');

  const json = logsJson(SERVICE, [
    { body: 'accepted beside a bad id (json)', timeNs: nextNs() },
    { body: `${POISON} 30 hex digits`, timeNs: nextNs(), traceId: '0102030405060708090a0b0c0d0e0f' },
  ]);
  res = await post('/v1/logs', JSON_CT, JSON.stringify(json));
  assert.equal(res.status, 200);
  const parsed = JSON.parse(res.body.toString('utf8'));
  assert.equal(Number(parsed.partialSuccess.rejectedLogRecords), 1);
  assert.ok(parsed.partialSuccess.errorMessage.length > 0);
  accepted.push('accepted beside a bad id (json)');
});

function abortMidBody(head, partial) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.httpPort, '127.0.0.1');
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(head + partial, () => {
        sock.resetAndDestroy();
        resolve();
      });
    });
  });
}

test('clients vanishing in the middle of a body do no harm', async () => {
  const body = jsonBody(POISON).toString('latin1');
  for (let i = 0; i < 10; i++) {
    await abortMidBody('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`, body.slice(0, body.length >> 1));
    await abortMidBody('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Transfer-Encoding: chunked\r\n\r\n${(body.length).toString(16)}\r\n`, body.slice(0, 20));
  }
  await sendGood('after disconnects');
});

test('CORS: an allowed origin passes the preflight and gets its headers', async () => {
  const res = await request(url('/v1/traces'), {
    method: 'OPTIONS',
    headers: {
      origin: 'http://allowed.test',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-otlp-api-key, x-unknown',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers['access-control-allow-origin'], 'http://allowed.test');
  assert.match(res.headers['access-control-allow-methods'], /POST/);
  const allowed = res.headers['access-control-allow-headers'].split(/,\s*/);
  for (const h of ['content-type', 'content-encoding', 'x-otlp-api-key']) assert.ok(allowed.includes(h), h);
  assert.ok(!allowed.includes('x-unknown'));
  assert.ok(Number(res.headers['access-control-max-age']) > 0);
  assert.match(res.headers.vary, /Origin/);

  const post1 = await post('/v1/logs', JSON_CT, jsonBody('accepted cors'), { origin: 'http://allowed.test' });
  assert.equal(post1.status, 200);
  assert.equal(post1.headers['access-control-allow-origin'], 'http://allowed.test');
  accepted.push('accepted cors');
});

test('CORS: another origin is refused at the preflight and gets no CORS headers', async () => {
  const res = await request(url('/v1/traces'), {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers['access-control-allow-origin'], undefined);
  const post1 = await post('/v1/logs', JSON_CT, jsonBody('accepted from a foreign origin'), { origin: 'http://evil.test' });
  assert.equal(post1.status, 200); // not a browser: CORS does not stop it
  assert.equal(post1.headers['access-control-allow-origin'], undefined);
  accepted.push('accepted from a foreign origin');
});

test('with a small body limit, a chunked body past it is refused with 413', async () => {
  const small = await startLoupe({ args: ['--max-body-size', '65536'] });
  try {
    const piece = Buffer.alloc(16384, 0x20);
    const res = await request(`${small.httpUrl}/v1/logs`, {
      headers: { 'content-type': JSON_CT },
      chunks: Array.from({ length: 6 }, () => piece), // 96 KiB
    });
    const st = assertStatus(res, 413, 8);
    assert.match(st.message, /65536/);

    // A body that never ends: the server stops reading and drops the
    // connection instead of reading it all.
    const big = Buffer.alloc(1 << 20, 0x20);
    await assert.rejects(
      request(`${small.httpUrl}/v1/logs`, { headers: { 'content-type': JSON_CT }, chunks: Array.from({ length: 256 }, () => big) }),
      (e) => ['ECONNRESET', 'EPIPE'].includes(e.code),
    );

    const ok = await request(`${small.httpUrl}/v1/logs`, { headers: { 'content-type': JSON_CT }, body: jsonBody('small server ok') });
    assert.equal(ok.status, 200);
  } finally {
    const { code } = await small.stop();
    assert.equal(code, 0);
  }
});

test('with an API key configured, requests without it are refused with 401', async () => {
  const keyed = await startLoupe({ args: ['--otlp-api-key', 'k-123'] });
  try {
    const body = jsonBody('keyed');
    let res = await request(`${keyed.httpUrl}/v1/logs`, { headers: { 'content-type': JSON_CT }, body });
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.body.toString('utf8')).code, 16);
    res = await request(`${keyed.httpUrl}/v1/logs`, { headers: { 'content-type': JSON_CT, 'x-otlp-api-key': 'k-12' }, body });
    assert.equal(res.status, 401);
    res = await request(`${keyed.httpUrl}/v1/logs`, { headers: { 'content-type': JSON_CT, 'x-otlp-api-key': 'k-123' }, body });
    assert.equal(res.status, 200);
    res = await request(`${keyed.httpUrl}/v1/logs`, { headers: { 'content-type': PB, authorization: 'Bearer k-123' }, body: pbBody('keyed pb') });
    assert.equal(res.status, 200);
  } finally {
    await keyed.stop();
  }
});

test('a full store answers 503 with Retry-After; what it accepted is all there', async () => {
  // A ring of 4 KiB holds one batch at a time, so concurrent exports find
  // it full; the rounds are bounded.
  const tiny = await startLoupe({ storage: 'sqlite', args: ['--ring-size', '4096'] });
  const service = 'otlp-http-backpressure';
  const ok = [];
  let refused = 0;
  try {
    for (let round = 0; round < 20 && refused === 0; round++) {
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => {
        const text = `round ${round} request ${i}`;
        const enc = i % 2 ? PB : JSON_CT;
        const body = enc === PB
          ? logsRequestPb(service, [{ body: text, timeNs: nextNs() }])
          : JSON.stringify(logsJson(service, [{ body: text, timeNs: nextNs() }]));
        return request(`${tiny.httpUrl}/v1/logs`, { headers: { 'content-type': enc }, body })
          .then((res) => ({ res, text, enc }));
      }));
      for (const { res, text, enc } of results) {
        if (res.status === 200) {
          ok.push(text);
          continue;
        }
        assertStatus(res, 503, 14, enc === PB ? 'pb' : 'json');
        assert.equal(res.headers['retry-after'], '1');
        refused++;
      }
    }
    assert.ok(refused > 0, 'some exports met a full store');
    assert.ok(ok.length > 0, 'some exports were accepted');
    const { status, body } = await getJson(tiny, `/api/v1/logs?service=${service}&limit=1000`);
    assert.equal(status, 200);
    assert.deepEqual(body.logs.map((l) => l.body).sort(), ok.sort(), 'exactly the acknowledged records are stored');
  } finally {
    const { code } = await tiny.stop();
    assert.equal(code, 0);
  }
});

test('everything accepted is readable; nothing refused was stored', async () => {
  const { status, body } = await getJson(srv, `/api/v1/logs?service=${encodeURIComponent(SERVICE)}&limit=1000`);
  assert.equal(status, 200);
  const bodies = body.logs.map((l) => l.body);
  for (const text of accepted) {
    assert.equal(bodies.filter((b) => b === text).length, 1, `"${text}" stored once`);
  }
  assert.equal(bodies.length, accepted.length, 'nothing else stored');
  assert.ok(!bodies.some((b) => typeof b === 'string' && b.includes(POISON)), 'no refused record stored');
  const services = await getJson(srv, '/api/v1/services');
  const svc = services.body.services.find((s) => s.name === SERVICE);
  assert.ok(svc, 'service listed');
  assert.equal(svc.logCount, accepted.length);
});
