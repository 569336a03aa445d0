// The UI/API port (:18888) against the real binary: routing, JSON errors,
// security headers, embedded static assets (ETag/304, gzip, cache policy,
// single-page-app fallback) and hostile requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { startLoupe, freePort, LOUPE_BIN } from './lib/server.mjs';

// What the binary embeds: scripts/build-web.mjs's output from web/ (the
// Makefile passes its folder; build/web is the default build's).
const WEB_DIR = process.env.LOUPE_WEB_DIR || fileURLToPath(new URL('../../build/web/', import.meta.url));

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; " +
  "frame-ancestors 'none'; form-action 'self'";
const JSON_TYPE = 'application/json; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';

let srv;
before(async () => { srv = await startLoupe(); });
after(async () => {
  if (!srv) return;
  const { code, signal } = await srv.stop();
  // a clean exit also means no sanitizer report in ASan builds
  assert.equal(code, 0, `loupe exit (signal ${signal})\n${srv.stderr.slice(-4000)}`);
});

// One HTTP request with full control over headers and no decompression.
// Returns {status, headers, body: Buffer, socket}.
function request(method, p, headers = {}, agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.uiPort, method, path: p, headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({
          status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), socket: res.socket,
        }));
        res.on('error', reject);
      });
    req.setTimeout(10000, () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    req.on('error', reject);
    req.end();
  });
}

const get = (p, headers) => request('GET', p, headers);

// Sends raw bytes and reads until the server closes (the request should
// carry "Connection: close"). Returns the response text ('' when the server
// closed without answering); fails when the server has not closed in time.
function raw(bytes, timeoutMs = 5000, port = srv.uiPort) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close in ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 80))}`));
    }, timeoutMs);
    s.on('connect', () => s.end(bytes));
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => {
      // a reset after the server answered early is fine; the answer is what counts
      clearTimeout(timer);
      if (chunks.length || e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(e);
    });
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
  });
}

function assertSecurityHeaders(res, what) {
  assert.equal(res.headers['content-security-policy'], CSP, `CSP on ${what}`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `nosniff on ${what}`);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', `referrer-policy on ${what}`);
  assert.equal(res.headers['x-frame-options'], 'DENY', `x-frame-options on ${what}`);
}

// Asserts a JSON error answer and returns its message.
function assertError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: status (body ${res.body})`);
  assert.equal(res.headers['content-type'], JSON_TYPE, `${what}: content-type`);
  assert.equal(res.headers['cache-control'], 'no-store', `${what}: cache-control`);
  assertSecurityHeaders(res, what);
  const doc = JSON.parse(res.body.toString('utf8'));
  assert.deepEqual(Object.keys(doc), ['error'], `${what}: only an error object`);
  assert.deepEqual(Object.keys(doc.error).sort(), ['code', 'message'], `${what}: error fields`);
  assert.equal(doc.error.code, code, `${what}: error code`);
  assert.equal(typeof doc.error.message, 'string');
  assert.ok(doc.error.message.length > 0, `${what}: a message`);
  return doc.error.message;
}

function assertJsonOk(res, what) {
  assert.equal(res.status, 200, `${what}: status (body ${res.body})`);
  assert.equal(res.headers['content-type'], JSON_TYPE, `${what}: content-type`);
  assert.equal(res.headers['cache-control'], 'no-store', `${what}: cache-control`);
  assertSecurityHeaders(res, what);
  return JSON.parse(res.body.toString('utf8'));
}

// Every file under web/ as the server names it ("/index.html"), with bytes.
function webFiles(dir = WEB_DIR, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...webFiles(full, `${prefix}/${name}`));
    else if (!name.endsWith('.md')) out.push({ urlPath: `${prefix}/${name}`, bytes: readFileSync(full) });
  }
  return out;
}

const isHashed = (p) => path.posix.basename(p).split('.').slice(0, -1).some((seg) => /^[0-9a-fA-F]{8,}$/.test(seg));

// ---- health and API routes -------------------------------------------------

test('GET /healthz answers {"status":"ok"} with API and security headers', async () => {
  const res = await get('/healthz');
  assert.deepEqual(assertJsonOk(res, '/healthz'), { status: 'ok' });
  const head = await request('HEAD', '/healthz');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0, 'HEAD has no body');
  assertSecurityHeaders(head, 'HEAD /healthz');
});

test('GET /api/v1/info tells the version and the ports the receivers listen on', async () => {
  const info = assertJsonOk(await get('/api/v1/info'), '/api/v1/info');
  assert.deepEqual(info, {
    version: srv.stdout.match(/^loupe (\S+) ready$/m)[1],
    otlpGrpcPort: srv.grpcPort,
    otlpHttpPort: srv.httpPort,
    storage: 'memory',
  });
  const post = await request('POST', '/api/v1/info');
  assert.equal(post.status, 405);
});

test('API list routes answer JSON documents', async () => {
  for (const p of ['/api/v1/services', '/api/v1/logs', '/api/v1/metrics', '/api/v1/logs?limit=1000',
    '/api/v1/logs?service=checkout&minSeverity=warn&limit=5', '/api/v1/logs?minSeverity=17',
    '/api/v1/logs?service=&minSeverity=&limit=&cursor=', '/api/v1/metrics?service=checkout']) {
    const doc = assertJsonOk(await get(p), p);
    assert.equal(typeof doc, 'object', p);
    assert.ok(doc !== null && !Array.isArray(doc), `${p}: an object`);
  }
});

test('GET /api/v1/traces/{id}: malformed ids are 400 naming traceId', async () => {
  const bad = ['xyz', '0'.repeat(31), '0'.repeat(33), `${'0'.repeat(31)}g`, `0x${'0'.repeat(30)}`,
    encodeURIComponent(`'${'0'.repeat(30)}'`), encodeURIComponent("' OR 1=1 --"), '%00'.repeat(32),
    encodeURIComponent('é'.repeat(16)), ''];
  for (const id of bad) {
    const msg = assertError(await get(`/api/v1/traces/${id}`), 400, 'bad_request', `trace id ${id}`);
    assert.match(msg, /traceId/, `message names traceId for ${id}`);
  }
});

test('GET /api/v1/traces/{id}: an unknown well-formed id is 404, any case', async () => {
  for (const id of ['0af7651916cd43dd8448eb211c80319c', '0AF7651916CD43DD8448EB211C80319C',
    '0aF7651916cD43dd8448EB211c80319C']) {
    const msg = assertError(await get(`/api/v1/traces/${id}`), 404, 'not_found', `trace ${id}`);
    assert.match(msg, /0af7651916cd43dd8448eb211c80319c/, 'names the trace, lowercase');
  }
  // percent-encoded hex is decoded before validation
  assertError(await get(`/api/v1/traces/%30af7651916cd43dd8448eb211c80319c`), 404, 'not_found', 'encoded id');
});

test('GET /api/v1/logs: bad parameters are 400 naming the parameter', async () => {
  const cases = [
    ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=-1', 'limit'], ['limit=abc', 'limit'],
    ['limit=1e3', 'limit'], ['limit=1.5', 'limit'], ['limit=%2010', 'limit'],
    ['limit=99999999999999999999999999', 'limit'], ['limit=18446744073709551617', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['minSeverity=bogus', 'minSeverity'], ['minSeverity=25', 'minSeverity'], ['minSeverity=-1', 'minSeverity'],
    ['minSeverity=info%00', 'minSeverity'], ['minSeverity=99999999999999999999', 'minSeverity'],
    ['service=%ff%fe', 'service'], ['service=a%00b', 'service'], ['service=a%0Ab', 'service'],
    ['service=a&service=b', 'service'], [`service=${'x'.repeat(1025)}`, 'service'],
    ['cursor=not-a-cursor', 'cursor'], ['cursor=%ff', 'cursor'], [`cursor=${'c'.repeat(2000)}`, 'cursor'],
  ];
  for (const [q, name] of cases) {
    const msg = assertError(await get(`/api/v1/logs?${q}`), 400, 'bad_request', `logs?${q}`);
    assert.ok(msg.includes(`'${name}'`), `message for ${q} names ${name}: ${msg}`);
  }
});

test('GET /api/v1/logs: hostile but valid values are data, never a crash', async () => {
  const values = ["' OR '1'='1", "x'; DROP TABLE logs; --", '%', '_', '\\', '"', '</script><script>alert(1)</script>',
    '😀', 'Ω≈ç√', 'a'.repeat(1024), '\u2028\u2029', "Robert'); --"];
  for (const v of values) {
    const p = `/api/v1/logs?service=${encodeURIComponent(v)}&limit=3`;
    assertJsonOk(await get(p), p);
    assertJsonOk(await get(`/api/v1/metrics?service=${encodeURIComponent(v)}`), `metrics ${v}`);
  }
  // the server still answers afterwards
  assert.equal((await get('/healthz')).status, 200);
});

test('too many query parameters is a 400', async () => {
  const q = Array.from({ length: 70 }, (_, i) => `a${i}=1`).join('&');
  const msg = assertError(await get(`/api/v1/logs?${q}`), 400, 'bad_request', '70 params');
  assert.match(msg, /query parameters/);
});

test('unknown /api paths are 404 JSON, whatever the method', async () => {
  for (const p of ['/api', '/api/', '/api/v1', '/api/v1/', '/api/v2/services', '/api/v1/services/',
    '/api/v1/traces/0af7651916cd43dd8448eb211c80319c/spans', '/api/v1/logs/x',
    '/api/nope.js', '/api/v1/SERVICES']) {
    assertError(await get(p), 404, 'not_found', p);
  }
  assertError(await request('POST', '/api/nope'), 404, 'not_found', 'POST /api/nope');
});

test('non-GET methods on GET routes are 405 with Allow', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    for (const p of ['/healthz', '/api/v1/services', '/api/v1/logs', '/api/v1/metrics',
      '/api/v1/traces/0af7651916cd43dd8448eb211c80319c', '/', '/index.html', '/some/route']) {
      const res = await request(method, p);
      assertError(res, 405, 'method_not_allowed', `${method} ${p}`);
      assert.equal(res.headers.allow, 'GET, HEAD', `Allow on ${method} ${p}`);
    }
  }
  // a POST with a body is refused without reading it
  const res = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.uiPort, method: 'POST', path: '/api/v1/logs',
      headers: { 'content-type': 'application/json' }, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end(Buffer.alloc(64 * 1024, 'x'));
  });
  assertError(res, 405, 'method_not_allowed', 'POST with body');
});

// ---- static assets -------------------------------------------------------------

test('every embedded file is served with its bytes, type, ETag and cache policy', async () => {
  const files = webFiles();
  assert.ok(files.some((f) => f.urlPath === '/index.html'), 'web/index.html exists');
  for (const f of files) {
    const res = await get(f.urlPath);
    assert.equal(res.status, 200, f.urlPath);
    assert.ok(res.body.equals(f.bytes), `${f.urlPath}: identity bytes`);
    assert.equal(res.headers['content-encoding'], undefined, `${f.urlPath}: no encoding unasked`);
    assert.match(res.headers.etag, /^"[^"]+"$/, `${f.urlPath}: a strong ETag`);
    assert.ok(res.headers['content-type'], `${f.urlPath}: a content type`);
    assert.equal(res.headers['cache-control'], isHashed(f.urlPath) ? IMMUTABLE : 'no-cache', f.urlPath);
    assertSecurityHeaders(res, f.urlPath);
    const again = await get(f.urlPath);
    assert.equal(again.headers.etag, res.headers.etag, `${f.urlPath}: ETag is stable`);
  }
});

test('/ is index.html as text/html, not cached without revalidation', async () => {
  const index = readFileSync(path.join(WEB_DIR, 'index.html'));
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.ok(res.body.equals(index));
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-cache');
  assertSecurityHeaders(res, '/');
  assert.equal(res.headers.etag, (await get('/index.html')).headers.etag);
});

test('If-None-Match with the ETag gives 304 without a body', async () => {
  const first = await get('/index.html');
  const etag = first.headers.etag;
  for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const res = await get('/index.html', { 'if-none-match': inm });
    assert.equal(res.status, 304, `If-None-Match: ${inm}`);
    assert.equal(res.body.length, 0, '304 has no body');
    assert.equal(res.headers.etag, etag, '304 repeats the ETag');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(res, `304 for ${inm}`);
  }
  for (const inm of ['"nope"', etag.replace(/.$/, 'x"'), 'garbage', `${etag.slice(0, -1)}`]) {
    const res = await get('/index.html', { 'if-none-match': inm });
    assert.equal(res.status, 200, `If-None-Match: ${inm}`);
    assert.equal(res.body.length, first.body.length);
  }
  // the SPA fallback revalidates the same way
  const spa = await get('/traces/abc', { 'if-none-match': etag });
  assert.equal(spa.status, 304);
});

test('gzip is served when accepted, with its own ETag and Vary', async () => {
  const files = webFiles();
  let gzipped = 0;
  for (const f of files) {
    const plain = await get(f.urlPath);
    const res = await get(f.urlPath, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(res.status, 200);
    if (res.headers['content-encoding'] === undefined) {
      // no gzip copy (it would not be smaller): identity bytes, same ETag
      assert.ok(res.body.equals(f.bytes), `${f.urlPath}: identity`);
      assert.equal(res.headers.etag, plain.headers.etag);
      continue;
    }
    gzipped++;
    assert.equal(res.headers['content-encoding'], 'gzip', f.urlPath);
    assert.equal(res.headers.vary, 'Accept-Encoding', `${f.urlPath}: Vary`);
    assert.equal(plain.headers.vary, 'Accept-Encoding', `${f.urlPath}: Vary on identity too`);
    assert.ok(zlib.gunzipSync(res.body).equals(f.bytes), `${f.urlPath}: gunzips to the file`);
    assert.ok(res.body.length < f.bytes.length, `${f.urlPath}: smaller`);
    assert.equal(Number(res.headers['content-length']), res.body.length);
    assert.notEqual(res.headers.etag, plain.headers.etag, `${f.urlPath}: gzip has its own ETag`);
    assertSecurityHeaders(res, `${f.urlPath} gzip`);
    // conditional requests compare against the representation chosen
    const hit = await get(f.urlPath, { 'accept-encoding': 'gzip', 'if-none-match': res.headers.etag });
    assert.equal(hit.status, 304);
    assert.equal(hit.headers.etag, res.headers.etag);
    const cross = await get(f.urlPath, { 'if-none-match': res.headers.etag });
    assert.equal(cross.status, 200, 'the gzip ETag does not validate the identity body');
    // refusals
    for (const ae of ['gzip;q=0', 'identity', 'br', '*;q=0', 'gzip;q=0, *']) {
      const r = await get(f.urlPath, { 'accept-encoding': ae });
      assert.equal(r.headers['content-encoding'], undefined, `${f.urlPath} with ${ae}`);
      assert.ok(r.body.equals(f.bytes));
    }
    const star = await get(f.urlPath, { 'accept-encoding': '*' });
    assert.equal(star.headers['content-encoding'], 'gzip', `${f.urlPath} with *`);
  }
  assert.ok(gzipped > 0, 'index.html at least has a gzip copy');
});

test('every asset but index.html has a content-hashed name and is immutable; index.html is no-cache', async () => {
  const files = webFiles();
  const assets = files.filter((f) => f.urlPath !== '/index.html');
  assert.ok(files.length > assets.length, `${WEB_DIR} has index.html`);
  assert.ok(assets.some((f) => f.urlPath.endsWith('.js')) && assets.some((f) => f.urlPath.endsWith('.css')), 'scripts and styles');
  const index = readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8');
  for (const f of assets) {
    // scripts/build-web.mjs names each file by the first 10 hex digits of
    // the SHA-256 of the bytes it writes
    const digest = createHash('sha256').update(f.bytes).digest('hex').slice(0, 10);
    assert.match(path.posix.basename(f.urlPath), new RegExp(`\\.${digest}\\.[a-z]+$`), `${f.urlPath}: named by its content`);
    assert.ok(isHashed(f.urlPath), f.urlPath);
    const res = await get(f.urlPath);
    assert.equal(res.status, 200, f.urlPath);
    assert.equal(res.headers['cache-control'], IMMUTABLE, f.urlPath);
  }
  // the page refers to files by their hashed names only, relative to its
  // <base href="/"> (the other links are the app's own routes), so a new
  // build is a new URL
  assert.match(index, /<base href="\/">/);
  const refs = [...index.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    .filter((u) => /\.[a-z0-9]+$/.test(u))
    .map((u) => { assert.ok(!u.startsWith('/'), `${u} is relative`); return `/${u}`; });
  assert.ok(refs.length > 0, index);
  for (const u of refs) assert.ok(isHashed(u) && assets.some((f) => f.urlPath === u), `index.html refers to ${u}`);
  const page = await get('/index.html');
  assert.equal(page.status, 200);
  assert.equal(page.headers['cache-control'], 'no-cache');
});

test('client-side routes fall back to index.html; missing files are 404', async () => {
  const index = readFileSync(path.join(WEB_DIR, 'index.html'));
  for (const p of ['/traces', '/traces/0af7651916cd43dd8448eb211c80319c', '/logs?service=x', '/a/b/c/d',
    '/services/checkout%20api', '/apifoo', '/healthzz']) {
    const res = await get(p);
    assert.equal(res.status, 200, p);
    assert.ok(res.body.equals(index), `${p}: index.html`);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(res, p);
  }
  for (const p of ['/missing.js', '/app.3f2a9c1b.js', '/favicon-none.ico', '/a/b/style.css', '/.env',
    '/index.html.bak', '/index.htm']) {
    assertError(await get(p), 404, 'not_found', p);
  }
});

test('path tricks never reach the file system', async () => {
  const index = readFileSync(path.join(WEB_DIR, 'index.html'), 'latin1');
  for (const target of ['/../server/ui.c', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd',
    '//etc/passwd', '/web/index.html', '/index.html%00.js', '/index.html/', '/./index.html']) {
    const text = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1];
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    // either the single-page app's index.html or a JSON error: nothing else
    if (status === '200') assert.equal(body, index, `${target}: a 200 is index.html`);
    else {
      assert.ok(status === '400' || status === '404', `${target}: ${text.slice(0, 80)}`);
      assert.match(body, /^\{"error":\{"code":"(bad_request|not_found)","message":"[^"]+"\}\}$/, target);
    }
  }
});

// ---- transport-level behaviour ------------------------------------------------

test('connections are kept alive across requests', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await request('GET', '/healthz', {}, agent);
    const b = await request('GET', '/api/v1/services', {}, agent);
    const c = await request('GET', '/index.html', {}, agent);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(c.status, 200);
    assert.notEqual(a.headers.connection, 'close');
    assert.equal(a.socket, c.socket, 'one socket for all three');
  } finally {
    agent.destroy();
  }
});

test('a GET with a body is answered without reading the body', async () => {
  const text = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n' + 'z'.repeat(1000));
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.match(text, /\{"status":"ok"\}/);
});

test('malformed and oversized requests leave the server healthy', async () => {
  const hostile = [
    [`GET /${'a'.repeat(200000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414],
    [`GET /api/v1/logs?service=${'%41'.repeat(50000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(100000)}\r\nConnection: close\r\n\r\n`, 431],
    ['GET /api/v1/logs?limit=%zz&service=%e0%80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['GARBAGE\r\n\r\n', 'closed'],
    ['GET\r\n\r\n', 'closed'],
    ['GET / HTTP/9.9\r\nConnection: close\r\n\r\n', 505],
    ['\x00\x01\x02\xff\r\n\r\n', 'closed'],
    // unreadable but optional headers are ignored
    ['GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: \xff\xfe;q=\xff\r\nIf-None-Match: W/"\r\nConnection: close\r\n\r\n', 200],
    ['GET /api/v1/traces/%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
  ];
  // Its own server with a short --request-timeout: a request line starting
  // with a NUL byte is neither answered nor closed by libmicrohttpd at once
  // (it waits for more, as after an empty line), so that connection ends at
  // the request timeout.
  const own = await startLoupe({ args: ['--request-timeout', '2s'] });
  try {
    for (const [h, want] of hostile) {
      const what = `answer to ${JSON.stringify(h.slice(0, 40))}`;
      const text = await raw(h, 6000, own.uiPort).catch((e) => assert.fail(`${what}: ${e.message}`));
      // a request line that does not parse is closed without an answer by
      // libmicrohttpd; a 400 would do as well
      if (want === 'closed') assert.match(text, /^(|HTTP\/1\.[01] 400 [^\r]*\r\n[^]*)$/, `${what}: ${text.slice(0, 80)}`);
      else assert.match(text, new RegExp(`^HTTP/1\\.[01] ${want} `), `${what}: ${text.slice(0, 80)}`);
    }
    assert.equal((await fetch(`${own.uiUrl}/healthz`)).status, 200);
  } finally {
    const { code } = await own.stop();
    assert.equal(code, 0, own.stderr);
  }
});

test('parallel API requests from many connections all succeed', async () => {
  const paths = [];
  for (let i = 0; i < 60; i++) {
    paths.push(['/api/v1/services', '/api/v1/logs?limit=10', '/api/v1/metrics',
      '/api/v1/traces/0af7651916cd43dd8448eb211c80319c'][i % 4]);
  }
  const results = await Promise.all(paths.map((p) => get(p)));
  results.forEach((r, i) => {
    const want = paths[i].includes('/traces/') ? 404 : 200;
    assert.equal(r.status, want, `${paths[i]}: ${r.body}`);
  });
});

test('an occupied UI port is a one-line error naming the address', async () => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = blocker.address().port;
  try {
    const [g, h] = [await freePort(), await freePort()];
    const proc = spawn(LOUPE_BIN, ['--ui-addr', `127.0.0.1:${port}`, '--otlp-grpc-addr', `127.0.0.1:${g}`,
      '--otlp-http-addr', `127.0.0.1:${h}`, '--storage', 'memory'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.stdout.on('data', (d) => { stdout += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
    const code = await new Promise((resolve) => proc.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    assert.notEqual(code, 0, 'exits non-zero');
    assert.ok(!stdout.includes('ready'), 'never ready');
    assert.ok(stderr.includes(`127.0.0.1:${port}`), `stderr names the address: ${stderr}`);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
