// The command line: --help, --version, flags and their environment twins,
// the startup lines, and one-line errors for bad flags, ports in use and
// unwritable data directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LOUPE_BIN, startLoupe, getJson, freePort } from './lib/server.mjs';

function run(args, env = {}) {
  return spawnSync(LOUPE_BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 15000 });
}

async function loopbackArgs() {
  return ['--ui-addr', `127.0.0.1:${await freePort()}`, '--otlp-grpc-addr', `127.0.0.1:${await freePort()}`,
    '--otlp-http-addr', `127.0.0.1:${await freePort()}`];
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

test('a bad value in the environment twin is named in the error', () => {
  const r = run([], { LOUPE_STORAGE: 'tape' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /LOUPE_STORAGE/);
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
