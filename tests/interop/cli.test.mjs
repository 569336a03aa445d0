// The command line: --help, --version, flags and their environment twins,
// the startup lines, and one-line errors for bad flags, ports in use and
// unwritable data directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LOUPE_BIN, startLoupe, getJson, freePort, freePorts } from './lib/server.mjs';

function run(args, env = {}) {
  return spawnSync(LOUPE_BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 15000 });
}

async function loopbackArgs() {
  const [ui, grpc, http] = await freePorts(3);
  return ['--ui-addr', `127.0.0.1:${ui}`, '--otlp-grpc-addr', `127.0.0.1:${grpc}`, '--otlp-http-addr', `127.0.0.1:${http}`];
}

test('--help lists every flag with its environment twin', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--ui-addr', '--otlp-grpc-addr', '--otlp-http-addr', '--data-dir', '--storage',
    '--otlp-api-key', '--max-body-size', '--cors-origins', '--version']) {
    assert.ok(r.stdout.includes(flag), `${flag} in --help`);
  }
  assert.ok(r.stdout.includes('LOUPE_UI_ADDR'));
  assert.ok(r.stdout.includes('LOUPE_STORAGE'));
});

test('--version prints the version', () => {
  const r = run(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^loupe \d+\.\d+\.\d+\n$/);
});

for (const [args, needle] of [
  [['--no-such-flag'], '--no-such-flag'],
  [['--storage', 'disk'], 'disk'],
  [['--max-body-size', 'huge'], 'huge'],
  [['--ui-addr', 'nonsense'], 'nonsense'],
  [['--max-spans'], 'needs a value'],
  [['stray'], 'stray'],
]) {
  test(`bad flag ${args.join(' ')} is a one-line error and a non-zero exit`, () => {
    const r = run(args);
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].startsWith('loupe: '), lines[0]);
    assert.ok(lines[0].includes(needle), lines[0]);
  });
}

test('a bad value in the environment twin is named in the error', async () => {
  // loopback ports of its own: were the value taken, loupe would not sit on the defaults
  const r = run(await loopbackArgs(), { LOUPE_STORAGE: 'tape' });
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^loupe: .*LOUPE_STORAGE.*tape/);
});

test('a port in use is a one-line error naming the address', async () => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  const port = blocker.address().port;
  try {
    const args = await loopbackArgs();
    args[args.indexOf('--otlp-http-addr') + 1] = `127.0.0.1:${port}`;
    const r = run([...args, '--storage', 'memory']);
    assert.notEqual(r.status, 0);
    const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('loupe: '));
    assert.equal(errLines.length, 1, r.stderr);
    assert.ok(errLines[0].includes(`127.0.0.1:${port}`), errLines[0]);
    assert.ok(!r.stdout.includes('ready'));
  } finally {
    blocker.close();
  }
});

test('an unwritable data directory is a one-line error naming it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-cli-'));
  const file = path.join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  try {
    const r = run([...(await loopbackArgs()), '--data-dir', path.join(file, 'data')]);
    assert.notEqual(r.status, 0);
    const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('loupe: '));
    assert.equal(errLines.length, 1, r.stderr);
    assert.ok(errLines[0].includes(file), errLines[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startup lists every endpoint and the storage; the sqlite file is in the data dir', async () => {
  const srv = await startLoupe({ storage: 'sqlite' });
  try {
    assert.ok(srv.stdout.includes(`http://127.0.0.1:${srv.uiPort}/`));
    assert.ok(srv.stdout.includes(`http://127.0.0.1:${srv.grpcPort}`));
    assert.ok(srv.stdout.includes(`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${srv.grpcPort}`));
    // the gRPC port's line says it takes every OTLP protocol
    const anyLine = srv.stdout.split('\n').find((l) => l.includes(`:${srv.grpcPort}`));
    assert.match(anyLine, /^ {2}OTLP\/gRPC\+HTTP +http:\/\/127\.0\.0\.1:\d+ +any OTLP protocol: OTEL_EXPORTER_OTLP_ENDPOINT=/, anyLine);
    assert.ok(srv.stdout.includes(`http://127.0.0.1:${srv.httpPort}/v1/traces`));
    assert.ok(srv.stdout.includes(`${srv.dataDir}/loupe.db`));
    assert.ok(existsSync(path.join(srv.dataDir, 'loupe.db')));
    const h = await getJson(srv, '/healthz');
    assert.equal(h.status, 200);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test('environment twins configure the server', async () => {
  const srv = await startLoupe({
    // flags from startLoupe win; use the environment for what it does not set
    env: { LOUPE_MAX_BODY_SIZE: '1KiB', LOUPE_LOG_LEVEL: 'warn' },
  });
  try {
    const res = await fetch(`${srv.httpUrl}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(2048),
    });
    assert.equal(res.status, 413);
    assert.ok(!srv.stderr.includes('level=info'), 'info lines suppressed by LOUPE_LOG_LEVEL=warn');
  } finally {
    await srv.stop();
  }
});

test('SIGTERM stops the server cleanly with exit status 0', async () => {
  const srv = await startLoupe();
  const res = await srv.stop();
  assert.equal(res.code, 0);
  assert.match(srv.stderr, /event=shutdown/);
  assert.match(srv.stderr, /event=stopped/);
});

// `loupe healthcheck`: the container's HEALTHCHECK (no curl in the image).
// Run asynchronously: the fake servers below answer from this process.
function healthcheck(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(LOUPE_BIN, ['healthcheck', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const started = Date.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

// A fake UI port answering each path with the given status (others 404).
async function fakeUi(answers) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    const status = answers[req.url] || 404;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, addr: `127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('healthcheck exits 0 against a running loupe, by flag, by environment and through a wildcard address', async () => {
  const srv = await startLoupe();
  try {
    let r = await healthcheck(['--ui-addr', `127.0.0.1:${srv.uiPort}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^loupe healthcheck: GET \/(readyz|healthz): 200\n$/);
    r = await healthcheck([], { LOUPE_UI_ADDR: `127.0.0.1:${srv.uiPort}` });
    assert.equal(r.status, 0, r.stderr);
    // the image's default --ui-addr is 0.0.0.0:18888: a wildcard is probed on loopback
    r = await healthcheck(['--ui-addr', `0.0.0.0:${srv.uiPort}`]);
    assert.equal(r.status, 0, r.stderr);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test('healthcheck needs no credential: it exits 0 against a loupe with UI auth on', async () => {
  const srv = await startLoupe({ auth: true });
  try {
    const api = await fetch(`${srv.uiUrl}/api/v1/services`);
    assert.equal(api.status, 401, 'the API does need one');
    const r = await healthcheck(['--ui-addr', `127.0.0.1:${srv.uiPort}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'loupe healthcheck: GET /readyz: 200\n');
  } finally {
    await srv.stop();
  }
});

test('healthcheck exits 1 when nothing listens', async () => {
  const r = await healthcheck(['--ui-addr', `127.0.0.1:${await freePort()}`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loupe healthcheck: cannot connect to 127\.0\.0\.1:\d+: Connection refused\n$/);
});

test('healthcheck exits 1 when /readyz answers 503, without trying /healthz', async () => {
  const ui = await fakeUi({ '/readyz': 503, '/healthz': 200 });
  try {
    const r = await healthcheck(['--ui-addr', ui.addr]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /GET \/readyz: 503/);
    assert.deepEqual(ui.seen, ['/readyz']);
  } finally {
    await ui.close();
  }
});

test('healthcheck falls back to /healthz only when /readyz is missing (404)', async () => {
  const ok = await fakeUi({ '/healthz': 200 });
  const none = await fakeUi({});
  const down = await fakeUi({ '/healthz': 500 });
  try {
    let r = await healthcheck(['--ui-addr', ok.addr]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(ok.seen, ['/readyz', '/healthz']);
    r = await healthcheck(['--ui-addr', none.addr]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /GET \/healthz: 404/);
    r = await healthcheck(['--ui-addr', down.addr]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /GET \/healthz: 500/);
  } finally {
    await Promise.all([ok.close(), none.close(), down.close()]);
  }
});

test('healthcheck exits 1 within its 5 s timeout when the server never answers, or answers garbage', async () => {
  const sockets = [];
  const silent = net.createServer((s) => { sockets.push(s); });
  const garbage = net.createServer((s) => { s.on('error', () => {}); s.resume(); s.end('SSH-2.0-nope\r\n'); });
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  await new Promise((r) => garbage.listen(0, '127.0.0.1', r));
  try {
    let r = await healthcheck(['--ui-addr', `127.0.0.1:${silent.address().port}`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /timed out/);
    assert.ok(r.ms >= 4500 && r.ms < 15000, `took ${r.ms} ms`);
    r = await healthcheck(['--ui-addr', `127.0.0.1:${garbage.address().port}`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not an HTTP answer/);
  } finally {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => silent.close(r)), new Promise((r) => garbage.close(r))]);
  }
});

test('healthcheck with a bad flag exits 1 with a one-line error', async () => {
  const r = await healthcheck(['--ui-addr', 'nonsense']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loupe healthcheck: .*nonsense.*\n$/);
});
