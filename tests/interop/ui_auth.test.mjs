// UI/API port authentication (token mode, the default) against the real
// binary: every API route without, with a wrong and with a right credential
// (Bearer header and the session cookie from the login flow), the login
// page, redirects of UI pages, what stays open, --ui-auth none,
// --ui-token and --ui-token-file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoupe, freePorts, LOUPE_BIN } from './lib/server.mjs';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

let srv;
let cookie; // "loupe_session=..." from the login flow

// One OTLP JSON trace with a metric-free payload, sent to the OTLP/HTTP port
// (which has its own, separate auth: off here).
async function seed(s) {
  const now = BigInt(Date.now()) * 1000000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'auth-svc' } }] },
      scopeSpans: [{
        spans: [{
          traceId: TRACE_ID, spanId: SPAN_ID, name: 'GET /', kind: 2,
          startTimeUnixNano: String(now - 1000000n), endTimeUnixNano: String(now),
        }],
      }],
    }],
  };
  const res = await fetch(`${s.httpUrl}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  srv = await startLoupe({ auth: true });
  await seed(srv);
});
after(async () => {
  if (!srv) return;
  const { code, signal } = await srv.stop();
  assert.equal(code, 0, `loupe exit (signal ${signal})\n${srv.stderr.slice(-4000)}`);
});

// Every API route, as [method, path, body, status with a credential]: what
// the route answers once let in (the seeded trace exists, the metric does
// not, export wants a signal). /metrics is the Prometheus endpoint on the
// UI port (ops): an API path that needs a credential too.
const ROUTES = [
  ['GET', '/api/v1/services', undefined, 200],
  ['GET', '/api/v1/traces', undefined, 200],
  ['GET', `/api/v1/traces/${TRACE_ID}`, undefined, 200],
  ['GET', '/api/v1/logs', undefined, 200],
  ['GET', '/api/v1/metrics', undefined, 200],
  ['GET', '/api/v1/metrics/http.server.duration/series', undefined, 404],
  ['GET', '/api/v1/live', undefined, 200],
  ['GET', '/api/v1/live/streams', undefined, 200],
  ['GET', '/api/v1/info', undefined, 200],
  ['GET', '/api/v1/export', undefined, 400],
  ['POST', '/api/v1/import', '', 200],
  ['GET', '/api', undefined, 404],
  ['GET', '/api/v1/no-such-route', undefined, 404],
  ['GET', '/metrics', undefined, 200],
  ['DELETE', '/api/v1/telemetry?signal=logs&service=nobody', undefined, 200],
];

// A request whose answer may be a never-ending stream (/live): the status
// and headers are read, then the body is abandoned.
async function call(s, method, p, headers = {}, body) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10000);
  try {
    const res = await fetch(s.uiUrl + p, { method, headers, body, redirect: 'manual', signal: ac.signal });
    let text = '';
    const type = res.headers.get('content-type') || '';
    if (type.startsWith('text/event-stream')) ac.abort();
    else text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: res.status, headers: res.headers, text, json };
  } finally {
    clearTimeout(timer);
  }
}

// Stops a server and checks a clean exit (no sanitizer report in ASan builds).
async function stopOk(s) {
  const { code, signal } = await s.stop();
  assert.equal(code, 0, `loupe exit (signal ${signal})\n${s.stderr.slice(-4000)}`);
}

function assertUnauthorized(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.text}`);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer', what);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', what);
  assert.equal(r.json?.error?.code, 'unauthorized', `${what}: ${r.text}`);
  assert.match(r.json.error.message, /Bearer/);
  assert.ok(r.headers.get('content-security-policy'), `${what}: security headers too`);
}

test('startup prints the login URL with a 32-hex-digit random token', () => {
  assert.match(srv.stdout, /^loupe \S+ ready$/m);
  assert.ok(srv.stdout.includes(`  web UI and API  http://127.0.0.1:${srv.uiPort}/\n`), srv.stdout);
  assert.match(srv.token, /^[0-9a-f]{32}$/);
  assert.equal(srv.loginUrl, `http://127.0.0.1:${srv.uiPort}/login?token=${srv.token}`);
  // the login line comes right after the web UI line
  const lines = srv.stdout.split('\n');
  const i = lines.findIndex((l) => l.startsWith('  web UI and API'));
  assert.ok(lines[i + 1].startsWith('  login           http://'), srv.stdout);
  assert.ok(!srv.stderr.includes('ui_auth_disabled'));
});

test('every API route without a credential is a 401 JSON error', async () => {
  for (const [method, p, body] of ROUTES) assertUnauthorized(await call(srv, method, p, {}, body), `${method} ${p}`);
});

test('a wrong bearer token is a 401 on every API route', async () => {
  const wrong = [
    'Bearer wrong-token-0123456789',
    `Bearer ${srv.token.slice(0, -1)}`, // prefix
    `Bearer ${srv.token.slice(1)}`, // suffix
    `Bearer ${srv.token}0`, // extended
    `Bearer ${srv.token.toUpperCase()}`,
    `Basic ${srv.token}`,
    srv.token,
    'Bearer',
    '',
  ];
  for (const [method, p, body] of ROUTES) {
    assertUnauthorized(await call(srv, method, p, { Authorization: wrong[0] }, body), `${method} ${p}`);
  }
  for (const h of wrong) {
    assertUnauthorized(await call(srv, 'GET', '/api/v1/services', { Authorization: h }), `Authorization: ${h}`);
  }
  // a long header under --max-header-size (64KiB by default) is just wrong;
  // one over it is refused for its size before any credential check
  assertUnauthorized(await call(srv, 'GET', '/api/v1/services', { Authorization: `Bearer ${'a'.repeat(20000)}` }), '20,000-byte Authorization');
  const huge = await call(srv, 'GET', '/api/v1/services', { Authorization: `Bearer ${'a'.repeat(70000)}` });
  assert.equal(huge.status, 431, huge.text);
  assert.equal(huge.json?.error?.code, 'headers_too_large', huge.text);
});

test('a wrong session cookie is a 401 on every API route', async () => {
  const wrong = [
    'loupe_session=00000000000000000000000000000000',
    `loupe_session=${srv.token}`, // the token is not a session
    'loupe_session=',
    'loupe_session',
    `LOUPE_SESSION=${srv.token}`,
    ';;;=;',
  ];
  for (const [method, p, body] of ROUTES) {
    assertUnauthorized(await call(srv, method, p, { Cookie: wrong[0] }, body), `${method} ${p}`);
  }
  for (const c of wrong) {
    assertUnauthorized(await call(srv, 'GET', '/api/v1/services', { Cookie: c }), `Cookie: ${c}`);
  }
});

test('the right bearer token is accepted on every API route', async () => {
  for (const [method, p, body, status] of ROUTES) {
    const r = await call(srv, method, p, srv.authHeaders, body);
    assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
  }
  const s = await call(srv, 'GET', '/api/v1/services', srv.authHeaders);
  assert.equal(s.status, 200);
  assert.ok(s.json.services.some((x) => x.name === 'auth-svc'), s.text);
  const t = await call(srv, 'GET', `/api/v1/traces/${TRACE_ID}`, { Authorization: `bearer  ${srv.token} ` });
  assert.equal(t.status, 200, t.text);
});

test('the login flow sets an HttpOnly SameSite=Strict session cookie that is not the token', async () => {
  const r = await call(srv, 'GET', `/login?token=${srv.token}`);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/');
  const set = r.headers.get('set-cookie');
  assert.ok(set, 'Set-Cookie');
  const parts = set.split(';').map((x) => x.trim());
  assert.match(parts[0], /^loupe_session=[0-9a-f]{32}$/);
  assert.ok(!set.includes(srv.token), 'the token is not in the cookie');
  assert.ok(parts.includes('HttpOnly'), set);
  assert.ok(parts.includes('SameSite=Strict'), set);
  assert.ok(parts.includes('Path=/'), set);
  assert.ok(!/max-age|expires/i.test(set), `a session cookie: ${set}`);
  assert.ok(!/secure/i.test(set), 'plain HTTP: no Secure');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  cookie = parts[0];
  // the same session for a second login
  const again = await call(srv, 'GET', `/login?token=${srv.token}`);
  assert.equal(again.headers.get('set-cookie').split(';')[0], cookie);
});

test('the session cookie is accepted on every API route', async () => {
  assert.ok(cookie, 'set by the login test');
  for (const [method, p, body, status] of ROUTES) {
    const r = await call(srv, method, p, { Cookie: cookie }, body);
    assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
  }
  const s = await call(srv, 'GET', '/api/v1/services', { Cookie: `a=1; ${cookie}; b=2` });
  assert.equal(s.status, 200, s.text);
  const page = await call(srv, 'GET', '/traces', { Cookie: cookie });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.text, /<script type="module"/);
});

test('a wrong token at /login is the login page again with 401', async () => {
  for (const q of ['token=nope', `token=${srv.token.slice(0, -1)}`, `token=${srv.token}x`,
    `token=${srv.token.toUpperCase()}`, `token=%00${srv.token}`, `token=${srv.token}%00`]) {
    const r = await call(srv, 'GET', `/login?${q}`);
    assert.equal(r.status, 401, q);
    assert.equal(r.headers.get('set-cookie'), null, q);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(r.text, /not the right token/);
    assert.match(r.text, /<form method="get" action="\/login">/);
  }
  const bad = srv.stderr.match(/event=ui_login_failed/g) || [];
  assert.ok(bad.length >= 6, 'failed logins are logged');
  assert.ok(!srv.stderr.includes(srv.token), 'the token is never logged');
});

test('the login page is a form without script or inline style', async () => {
  for (const p of ['/login', '/login?token=']) {
    const r = await call(srv, 'GET', p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assert.match(r.text, /<input id="token" name="token" type="password"/);
    assert.ok(!/<script|style=|<style/i.test(r.text), r.text);
    assert.ok(r.headers.get('content-security-policy').includes("form-action 'self'"));
  }
  const post = await call(srv, 'POST', '/login', {}, `token=${srv.token}`);
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('set-cookie'), null);
});

test('UI pages without a credential are redirected to /login; non-GET is a 401', async () => {
  for (const p of ['/', '/index.html', '/traces', `/traces/${TRACE_ID}`, '/logs?service=x', '/app.css', '/favicon.ico']) {
    const r = await call(srv, 'GET', p);
    assert.equal(r.status, 303, p);
    assert.equal(r.headers.get('location'), '/login', p);
    assert.equal(r.text, '');
  }
  const head = await call(srv, 'HEAD', '/');
  assert.equal(head.status, 303);
  const wrong = await call(srv, 'GET', '/', { Cookie: 'loupe_session=nope' });
  assert.equal(wrong.status, 303);
  assertUnauthorized(await call(srv, 'POST', '/', {}, 'x'), 'POST /');
});

test('/metrics: a browser gets the Metrics page (login first), a scraper the Prometheus text', async () => {
  const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const PROM = 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1';
  const anon = await call(srv, 'GET', '/metrics', { Accept: BROWSER });
  assert.equal(anon.status, 303, 'a browser without a session goes to the login page');
  assert.equal(anon.headers.get('location'), '/login');
  assertUnauthorized(await call(srv, 'GET', '/metrics', { Accept: PROM }), 'scrape without a token');
  assertUnauthorized(await call(srv, 'GET', '/metrics'), 'curl without a token');
  assert.ok(cookie, 'set by the login test');
  const page = await call(srv, 'GET', '/metrics?service=x', { Accept: BROWSER, Cookie: cookie });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.text, /<script type="module"/);
  for (const accept of [PROM, '*/*', 'text/html;q=0, */*']) {
    const scrape = await call(srv, 'GET', '/metrics', { Accept: accept, Authorization: `Bearer ${srv.token}` });
    assert.equal(scrape.status, 200, accept);
    assert.match(scrape.headers.get('content-type'), /^text\/plain; version=0\.0\.4/, accept);
    assert.match(scrape.text, /^# HELP loupe_/m, accept);
  }
});

test('/healthz and /readyz need no credential', async () => {
  const h = await call(srv, 'GET', '/healthz');
  assert.equal(h.status, 200, h.text);
  const r = await call(srv, 'GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'ready' });
});

test('an unauthenticated import is refused before its body is stored', async () => {
  const line = JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sneaky' } }] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] });
  assertUnauthorized(await call(srv, 'POST', '/api/v1/import', { 'content-type': 'application/json' }, line), 'import');
  const s = await call(srv, 'GET', '/api/v1/services', srv.authHeaders);
  assert.ok(!s.json.services.some((x) => x.name === 'sneaky'), s.text);
});

test('--ui-auth none leaves the UI and API open, with a warning line', async () => {
  const open = await startLoupe();
  try {
    assert.equal(open.token, null);
    assert.ok(!open.stdout.includes('/login?token='));
    // written before the ready lines, but on another pipe: wait for it (bounded)
    if (!open.stderr.includes('event=ui_auth_disabled')) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no warning line\n${open.stderr}`)), 5000);
        open.proc.stderr.on('data', () => {
          if (open.stderr.includes('event=ui_auth_disabled')) { clearTimeout(timer); resolve(); }
        });
      });
    }
    const warn = open.stderr.split('\n').filter((l) => l.includes('event=ui_auth_disabled'));
    assert.equal(warn.length, 1, open.stderr);
    assert.match(warn[0], /level=warn/);
    assert.match(warn[0], /open to anyone/);
    assert.equal((await call(open, 'GET', '/api/v1/services')).status, 200);
    assert.equal((await call(open, 'GET', '/')).status, 200);
    const login = await call(open, 'GET', '/login');
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
  } finally {
    await stopOk(open);
  }
  // the environment twin, when no flag says otherwise
  const [u, g, h] = await freePorts(3);
  const r = await run(['--ui-addr', `127.0.0.1:${u}`, '--otlp-grpc-addr', `127.0.0.1:${g}`,
    '--otlp-http-addr', `127.0.0.1:${h}`, '--storage', 'memory'], { LOUPE_UI_AUTH: 'none' }, async () => {
    const res = await fetch(`http://127.0.0.1:${u}/api/v1/services`);
    assert.equal(res.status, 200);
  });
  assert.ok(!r.stdout.includes('/login?token='));
  assert.equal(r.code, 0, r.stderr);
});

test('a random token differs between two starts', async () => {
  const a = await startLoupe({ auth: true });
  const b = await startLoupe({ auth: true });
  try {
    assert.match(a.token, /^[0-9a-f]{32}$/);
    assert.match(b.token, /^[0-9a-f]{32}$/);
    assert.notEqual(a.token, b.token);
    // one server's token does not open the other
    assertUnauthorized(await call(b, 'GET', '/api/v1/services', a.authHeaders), 'foreign token');
  } finally {
    await stopOk(a);
    await stopOk(b);
  }
});

test('--ui-token fixes the token; its cookie does not survive a restart', async () => {
  const token = 'my-fixed-token_0123+/=';
  const a = await startLoupe({ auth: true, token });
  let oldCookie;
  try {
    assert.equal(a.token, token);
    assert.ok(a.loginUrl.endsWith('/login?token=my-fixed-token_0123%2B%2F%3D'), a.loginUrl);
    assert.equal((await call(a, 'GET', '/api/v1/services', { Authorization: `Bearer ${token}` })).status, 200);
    const login = await fetch(a.loginUrl, { redirect: 'manual' });
    assert.equal(login.status, 303);
    oldCookie = login.headers.get('set-cookie').split(';')[0];
  } finally {
    await stopOk(a);
  }
  const b = await startLoupe({ auth: true, token });
  try {
    assert.equal((await call(b, 'GET', '/api/v1/services', b.authHeaders)).status, 200);
    assertUnauthorized(await call(b, 'GET', '/api/v1/services', { Cookie: oldCookie }), 'old session');
  } finally {
    await stopOk(b);
  }
});

// Runs loupe with args and env until it is ready, calls fn, then stops it;
// or, when it exits by itself (a start error), returns its output.
async function run(args, env, fn) {
  const proc = spawn(LOUPE_BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
  try {
    const ready = await Promise.race([
      new Promise((resolve) => proc.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n  storage ')) resolve(true);
      })),
      exited.then(() => false),
    ]);
    if (ready && fn) await fn(stdout);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }
  return { code: await exited, stdout, stderr };
}

test('--ui-token-file reads the first line; bad files are one-line start errors', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-token-'));
  try {
    const file = path.join(dir, 'token');
    writeFileSync(file, 'token-from-a-file-42  \r\nsecond line\n');
    const [u, g, h] = await freePorts(3);
    const base = ['--ui-addr', `127.0.0.1:${u}`, '--otlp-grpc-addr', `127.0.0.1:${g}`,
      '--otlp-http-addr', `127.0.0.1:${h}`, '--storage', 'memory'];
    const ok = await run([...base, '--ui-token-file', file], {}, async (stdout) => {
      assert.ok(stdout.includes(`/login?token=token-from-a-file-42\n`), stdout);
      const res = await fetch(`http://127.0.0.1:${u}/api/v1/services`, { headers: { Authorization: 'Bearer token-from-a-file-42' } });
      assert.equal(res.status, 200);
      const no = await fetch(`http://127.0.0.1:${u}/api/v1/services`, { headers: { Authorization: 'Bearer second line' } });
      assert.equal(no.status, 401);
    });
    assert.equal(ok.code, 0, ok.stderr);
    // the environment twin
    const viaEnv = await run(base, { LOUPE_UI_TOKEN_FILE: file }, async (stdout) => {
      assert.ok(stdout.includes('/login?token=token-from-a-file-42\n'), stdout);
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);

    const bad = [
      [path.join(dir, 'missing'), /--ui-token-file: cannot read .*missing/],
      [dir, /--ui-token-file: cannot read/],
    ];
    writeFileSync(path.join(dir, 'empty'), '');
    bad.push([path.join(dir, 'empty'), /is empty/]);
    writeFileSync(path.join(dir, 'blank'), '\n\ntoken-on-line-three\n');
    bad.push([path.join(dir, 'blank'), /is empty/]);
    writeFileSync(path.join(dir, 'short'), 'tooshort\n');
    bad.push([path.join(dir, 'short'), /too short.*16/]);
    for (const [f, re] of bad) {
      const r = await run([...base, '--ui-token-file', f], {}, null);
      assert.equal(r.code, 2, `${f}: ${r.stderr}`);
      assert.equal(r.stdout, '', f);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], re);
    }
    const short = await run([...base, '--ui-token', 'abc'], {}, null);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--ui-token: the token is too short \(3 characters; at least 16\)/);
    const both = await run([...base, '--ui-token', '0123456789abcdef', '--ui-token-file', file], {}, null);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /both set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
