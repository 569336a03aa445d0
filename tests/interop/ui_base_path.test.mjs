// --base-path: loupe's UI port under a path prefix, directly and behind
// Debian's nginx (tests/interop/lib/nginx.mjs). Everything lives below the
// prefix (pages, assets, API, export/import, the live stream, the login
// and its cookie, /readyz for `loupe healthcheck`); the rest of the port is
// a 404 and the bare prefix redirects to it with a slash. The browser side
// (the web UI's pages through nginx) is tests/browser/proxy.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { startLoupe, LOUPE_BIN } from './lib/server.mjs';
import { startNginx } from './lib/nginx.mjs';
import { exporters, sendLogs, sendTraces } from './lib/telemetry.mjs';

const TOKEN = 'base-path-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
let srv;
let proxy;
let exp;

before(async () => {
  srv = await startLoupe({ auth: true, token: TOKEN, args: ['--base-path', '/tools/loupe/'] });
  proxy = await startNginx({ prefix: '/tools/loupe', upstreamPort: srv.uiPort });
  exp = exporters(srv, 'http/protobuf');
});

after(async () => {
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  if (proxy) await proxy.stop();
  if (srv) {
    const { code } = await srv.stop();
    assert.equal(code, 0, srv.stderr.slice(-4000));
  }
});

// One request, no redirects followed. base: 'direct' (the UI port) or
// 'proxy' (nginx). Returns {status, headers, body (string)}.
function request(where, method, p, headers = {}, body = null) {
  const port = where === 'proxy' ? proxy.port : srv.uiPort;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    req.on('error', reject);
    req.end(body);
  });
}

test('the startup lines name the prefixed URLs', () => {
  assert.match(srv.stdout, new RegExp(`web UI and API  http://127\\.0\\.0\\.1:${srv.uiPort}/tools/loupe/\\n`));
  assert.match(srv.loginUrl, new RegExp(`:${srv.uiPort}/tools/loupe/login\\?token=`));
});

for (const where of ['direct', 'proxy']) {
  test(`${where}: outside the prefix is 404, the bare prefix redirects, inside is served`, async () => {
    for (const p of ['/', '/api/v1/info', '/login', '/readyz', '/metrics', '/index.html', '/tools/loupex/', '/tools/']) {
      if (where === 'proxy' && !p.startsWith('/tools/loupe')) continue; // nginx forwards only the prefix
      const res = await request(where, 'GET', p, AUTH);
      assert.equal(res.status, 404, `${where} ${p}`);
      if (where === 'direct') assert.match(JSON.parse(res.body).error.message, /served under \/tools\/loupe\//);
    }
    const bare = await request(where, 'GET', '/tools/loupe');
    assert.equal(bare.status, 303);
    assert.equal(bare.headers.location, '/tools/loupe/');
    const info = await request(where, 'GET', '/tools/loupe/api/v1/info', AUTH);
    assert.equal(info.status, 200);
    assert.equal(JSON.parse(info.body).otlpGrpcPort, srv.grpcPort);
    assert.equal((await request(where, 'GET', '/tools/loupe/readyz')).status, 200);
    const scrape = await request(where, 'GET', '/tools/loupe/metrics', AUTH);
    assert.equal(scrape.status, 200);
    assert.match(scrape.body, /^loupe_build_info/m);
  });

  test(`${where}: the login, its redirects and its cookie stay below the prefix`, async () => {
    const page = await request(where, 'GET', '/tools/loupe/traces/abc');
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/tools/loupe/login');
    const api = await request(where, 'GET', '/tools/loupe/api/v1/services');
    assert.equal(api.status, 401);
    const form = await request(where, 'GET', '/tools/loupe/login');
    assert.equal(form.status, 200);
    assert.match(form.body, /<form method="get" action="\/tools\/loupe\/login">/);
    // ?token= and the Aspire dashboard's ?t=
    for (const q of [`token=${TOKEN}`, `t=${TOKEN}`]) {
      const login = await request(where, 'GET', `/tools/loupe/login?${q}`);
      assert.equal(login.status, 303, q);
      assert.equal(login.headers.location, '/tools/loupe/');
      const cookie = login.headers['set-cookie'][0];
      assert.match(cookie, /^loupe_session=[0-9a-f]{32}; HttpOnly; SameSite=Strict; Path=\/tools\/loupe$/);
      const session = cookie.split(';')[0];
      const home = await request(where, 'GET', '/tools/loupe/', { cookie: session });
      assert.equal(home.status, 200);
      assert.match(home.body, /<base href="\/tools\/loupe\/">/);
    }
    const wrong = await request(where, 'GET', '/tools/loupe/login?token=not-the-right-token-at-all');
    assert.equal(wrong.status, 401);
  });

  test(`${where}: index.html names its base and every asset it names is served below it`, async () => {
    const index = await request(where, 'GET', '/tools/loupe/', AUTH);
    assert.equal(index.status, 200);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.body, /<base href="\/tools\/loupe\/">/);
    assert.ok(!index.body.includes('<base href="/">'));
    const refs = [...index.body.matchAll(/(?:src|href)="([^"]+\.[a-z0-9]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 3, index.body);
    for (const r of refs) {
      assert.ok(!r.startsWith('/'), `${r} is relative to <base>`);
      const res = await request(where, 'GET', `/tools/loupe/${r}`, AUTH);
      assert.equal(res.status, 200, r);
    }
    // a deep link is the same page; its ETag is the base's own and revalidates
    const deep = await request(where, 'GET', '/tools/loupe/traces/0af7651916cd43dd8448eb211c80319c', AUTH);
    assert.equal(deep.body, index.body);
    assert.equal(deep.headers.etag, index.headers.etag);
    const again = await request(where, 'GET', '/tools/loupe/', { ...AUTH, 'if-none-match': index.headers.etag });
    assert.equal(again.status, 304);
  });
}

test('the ETag of the prefixed index.html is not the root one (a cache never mixes them)', async () => {
  const root = await startLoupe();
  try {
    const plain = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: root.uiPort, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.etag));
      }).on('error', reject);
    });
    const based = (await request('direct', 'GET', '/tools/loupe/', AUTH)).headers.etag;
    assert.ok(plain && based && plain !== based, `${plain} vs ${based}`);
  } finally {
    await root.stop();
  }
});

test('export and import through the proxy', async () => {
  await sendTraces(exp, 'based-export');
  const out = await request('proxy', 'GET', '/tools/loupe/api/v1/export?signal=traces&service=based-export', AUTH);
  assert.equal(out.status, 200);
  const lines = out.body.split('\n').filter(Boolean);
  assert.ok(lines.length >= 1);
  const doc = JSON.parse(lines[0]);
  doc.resourceSpans[0].resource.attributes = doc.resourceSpans[0].resource.attributes
    .map((a) => (a.key === 'service.name' ? { key: a.key, value: { stringValue: 'based-import' } } : a));
  const imp = await request('proxy', 'POST', '/tools/loupe/api/v1/import',
    { ...AUTH, 'content-type': 'application/x-ndjson' }, `${JSON.stringify(doc)}\n`);
  assert.equal(imp.status, 200, imp.body);
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await request('proxy', 'GET', '/tools/loupe/api/v1/traces?service=based-import', AUTH);
    if (JSON.parse(res.body).traces.length > 0) break;
    assert.ok(Date.now() < deadline, 'the imported trace is listed');
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('the live stream through nginx arrives event by event (unbuffered)', async () => {
  const ac = new AbortController();
  const res = await fetch(`${proxy.url}/tools/loupe/api/v1/live?service=based-live&heartbeat=1s`,
    { headers: AUTH, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let text = '';
  const readUntil = async (re, ms) => {
    const end = Date.now() + ms;
    while (!re.test(text)) {
      const left = end - Date.now();
      assert.ok(left > 0, `no ${re} within ${ms} ms through the proxy; got ${JSON.stringify(text.slice(-300))}`);
      const timer = setTimeout(() => ac.abort(), left);
      let chunk;
      try { chunk = await reader.read(); } finally { clearTimeout(timer); }
      if (chunk.done) break;
      text += dec.decode(chunk.value, { stream: true });
    }
    assert.match(text, re);
  };
  await readUntil(/: loupe live/, 5000);
  const sent = Date.now();
  await sendLogs(exp, 'based-live');
  await readUntil(/event: log\n/, 3000);
  assert.ok(Date.now() - sent < 3000);
  ac.abort();
});

// `loupe healthcheck` reads the same flags, so it asks BASE/readyz.
function healthcheck(args) {
  return new Promise((resolve) => {
    const child = spawn(LOUPE_BIN, ['healthcheck', ...args], { env: { ...process.env, LOUPE_BASE_PATH: '' } });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stdout += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout }); });
  });
}

test('healthcheck with --base-path asks below the prefix', async () => {
  const ok = await healthcheck(['--ui-addr', `127.0.0.1:${srv.uiPort}`, '--base-path', '/tools/loupe']);
  assert.equal(ok.status, 0, ok.stdout);
  assert.match(ok.stdout, /GET \/tools\/loupe\/readyz: 200/);
  const outside = await healthcheck(['--ui-addr', `127.0.0.1:${srv.uiPort}`]);
  assert.equal(outside.status, 1, outside.stdout);
});

test('a bad --base-path is a start error naming the flag', async () => {
  const r = await new Promise((resolve) => {
    const child = spawn(LOUPE_BIN, ['--base-path', 'no-slash', '--storage', 'memory'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (status) => resolve({ status, stderr }));
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--base-path: "no-slash" must start with '\/'/);
});
