// server.mjs - start the real loupe binary on loopback ports the test picks.
//
//   const srv = await startLoupe({ args: [...], env: {...}, storage: 'memory' });
//   ... srv.uiUrl, srv.httpUrl, srv.grpcAddr, srv.grpcPort ...
//   await srv.stop();
//
// Ports are taken by binding port 0 on 127.0.0.1 and closing the socket; the
// server is ready when it prints its "loupe ready" line on stdout (no sleeps).
//
// ClickHouse. With LOUPE_TEST_CLICKHOUSE_URL set (scripts/test-clickhouse.mjs
// sets it: one URL, or with --shards 2 a comma-separated list plus
// LOUPE_TEST_CLICKHOUSE_CLUSTER=loupe), a test asking for storage 'memory'
// or 'sqlite' gets `--storage clickhouse --clickhouse-url URL
// --clickhouse-database DB [--clickhouse-cluster NAME]` instead, so the
// interop suite runs unchanged against the ClickHouse store. DB is
//   - derived from the data dir when there is one (opts.dataDir, or the temp
//     dir made for 'sqlite'): t_ and 16 hex digits of the SHA-256 of its
//     absolute path, so a test restarting loupe on the same dataDir sees
//     the same data (the dir itself is not passed to loupe then);
//   - otherwise fresh for each call: t_<pid>_<counter>_<random>.
// A test opts out (always its own local store) with opts.chOptOut or
// storage: 'sqlite-only' (the SQLite store, as 'sqlite'). A test may also
// ask for ClickHouse itself: storage: 'clickhouse' with opts.clickhouse =
// {urls: [...], database, cluster?, user?, password?}. srv.clickhouse is
// {urls, database, cluster} whenever loupe runs on ClickHouse, else null.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const LOUPE_BIN = process.env.LOUPE_BIN || path.resolve('build/loupe');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// n distinct free ports: every probe socket stays open until all are
// picked, so the same port is never handed out twice.
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      s.unref();
      await new Promise((resolve, reject) => {
        s.on('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

// Starts loupe. Options: args (extra flags), env (extra environment),
// storage ('memory' | 'sqlite' | 'sqlite-only' | 'clickhouse'; see the
// header), dataDir (for sqlite; a fresh temp dir when absent), chOptOut,
// clickhouse, readyTimeoutMs, auth (when falsy, the default, loupe runs with
// --ui-auth none; when truthy it keeps its token auth), token (with auth: a
// fixed --ui-token). With auth, srv.token and srv.loginUrl come from the
// login line loupe prints, and srv.authHeaders holds the Bearer header.
let chDbCounter = 0;

// The ClickHouse database of one startLoupe call (see the header).
export function clickhouseDatabaseFor(dataDir) {
  if (dataDir) {
    return 't_' + createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  }
  chDbCounter++;
  return `t_${process.pid}_${chDbCounter}_${randomBytes(4).toString('hex')}`;
}

// {urls, database, cluster, user, password} when this call runs loupe on
// ClickHouse, else null.
function clickhouseFor(opts, storage, dataDir) {
  if (storage === 'clickhouse') {
    if (!opts.clickhouse?.urls?.length) throw new Error("storage 'clickhouse' needs opts.clickhouse.urls");
    return { cluster: null, ...opts.clickhouse, database: opts.clickhouse.database || clickhouseDatabaseFor(dataDir) };
  }
  const url = process.env.LOUPE_TEST_CLICKHOUSE_URL;
  if (!url || opts.chOptOut || opts.storage === 'sqlite-only') return null;
  if (storage !== 'memory' && storage !== 'sqlite') return null;
  return {
    urls: url.split(',').filter(Boolean),
    database: clickhouseDatabaseFor(dataDir),
    cluster: process.env.LOUPE_TEST_CLICKHOUSE_CLUSTER || null,
  };
}

function clickhouseArgs(ch) {
  return [
    '--storage', 'clickhouse',
    '--clickhouse-url', ch.urls.join(','),
    '--clickhouse-database', ch.database,
    ...(ch.cluster ? ['--clickhouse-cluster', ch.cluster] : []),
    ...(ch.user ? ['--clickhouse-user', ch.user] : []),
    ...(ch.password !== undefined && ch.password !== null ? ['--clickhouse-password', ch.password] : []),
  ];
}

export async function startLoupe(opts = {}) {
  const [uiPort, grpcPort, httpPort] = await freePorts(3);
  const storage = opts.storage === 'sqlite-only' ? 'sqlite' : (opts.storage || 'memory');
  let dataDir = opts.dataDir;
  let ownDir = false;
  if (storage === 'sqlite' && !dataDir) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'loupe-test-'));
    ownDir = true;
  }
  const clickhouse = clickhouseFor(opts, storage, dataDir);
  const args = [
    '--ui-addr', `127.0.0.1:${uiPort}`,
    '--otlp-grpc-addr', `127.0.0.1:${grpcPort}`,
    '--otlp-http-addr', `127.0.0.1:${httpPort}`,
    ...(clickhouse ? clickhouseArgs(clickhouse)
      : ['--storage', storage, ...(dataDir ? ['--data-dir', dataDir] : [])]),
    ...(opts.auth ? (opts.token ? ['--ui-token', opts.token] : []) : ['--ui-auth', 'none']),
    ...(opts.args || []),
  ];
  const proc = spawn(LOUPE_BIN, args, {
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let killed = false;
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loupe not ready in time\n${stderr}`)),
      opts.readyTimeoutMs || 15000);
    proc.stdout.on('data', (d) => {
      stdout += d;
      // the storage line is the last of the startup lines (one flush)
      if (stdout.includes('loupe ') && stdout.includes(' ready') && stdout.includes('\n  storage ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`loupe exited early (code ${code}, signal ${signal})\n${stderr}`));
    });
  });

  const login = /^ {2}login {2,}(http:\/\/\S+\/login\?token=(\S+))$/m.exec(stdout);
  const token = login ? decodeURIComponent(login[2]) : null;
  const srv = {
    proc,
    token,
    loginUrl: login ? login[1] : null,
    authHeaders: token ? { Authorization: `Bearer ${token}` } : {},
    uiPort, grpcPort, httpPort, dataDir,
    clickhouse: clickhouse ? { urls: clickhouse.urls, database: clickhouse.database, cluster: clickhouse.cluster } : null,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcAddr: `127.0.0.1:${grpcPort}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    // SIGTERM, then wait for the exit. Returns {code, signal}. Throws when
    // the exit was not clean (status 0), unless kill() ended it: a sanitizer
    // report (ASan, UBSan, TSan, valgrind) makes the status non-zero, and so
    // fails the test or its after() hook.
    async stop({ keepData = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const res = await exited;
      if (ownDir && !keepData) rmSync(dataDir, { recursive: true, force: true });
      if (!killed && res.code !== 0) {
        throw new Error(`loupe exited uncleanly (code ${res.code}, signal ${res.signal})\n${stderr.slice(-6000)}`);
      }
      return res;
    },
    // kill -9, for crash tests.
    async kill() {
      killed = true;
      proc.kill('SIGKILL');
      return exited;
    },
  };
  return srv;
}

// GET a JSON document from the UI/API port. Returns {status, headers, body}.
export async function getJson(srv, pathAndQuery) {
  const res = await fetch(srv.uiUrl + pathAndQuery, { headers: srv.authHeaders || {} });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}
