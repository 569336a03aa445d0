// clickhouse.mjs - start private ClickHouse servers for the tests that run
// loupe against its ClickHouse store.
//
//   if (!clickhouseAvailable()) t.skip(...);
//   const ch = await startClickHouse({ shards: 2 });
//   after(() => ch.stop());
//   await ch.query('SELECT 1', 1);           // shard 1, as text
//   ... ch.url, ch.urls, ch.ports[i].{http,tcp,interserver}, ch.dirs ...
//   await ch.restart(0);                     // kill -9, start again, ready
//
// DESIGN. Each shard is one clickhouse-server process with a temp dir of its
// own: a generated config.xml and users.xml (listening on 127.0.0.1 only,
// ports from freePorts(), data, tmp and logs under the dir, small caches so
// that two servers fit next to loupe, no ZooKeeper). The Debian package's
// service and /etc/clickhouse-server are never used. With shards > 1 every
// server's config holds the same <remote_servers> cluster `loupe`: one shard
// per server, one replica each, by tcp port. A server is ready when
// GET /ping on its HTTP port answers "Ok." (polled with a deadline; an early
// exit or the deadline fails with the tail of the server's log). On the
// 2-core test machine (18.16, empty data dir) a start takes 0.1 to 0.25 s
// (one or two shards; once 3.9 s), a graceful stop about 1 s.
//
// Users: `default` without a password, and `loupe` with the password in
// ch.password, for the tests of --clickhouse-user / --clickhouse-password.
//
// Every server started here is also killed (SIGKILL) and its dir removed
// when the Node process exits or gets SIGINT/SIGTERM/SIGHUP, so a failing
// or interrupted test leaves no server behind; stop() is the orderly way.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './server.mjs';

const CH_BIN_CANDIDATES = [
  process.env.LOUPE_TEST_CLICKHOUSE_BIN,
  '/usr/sbin/clickhouse-server',
  '/usr/bin/clickhouse-server',
  '/usr/bin/clickhouse',
].filter(Boolean);

export const CLICKHOUSE_CLUSTER = 'loupe';
export const CLICKHOUSE_USER = 'loupe';
export const CLICKHOUSE_PASSWORD = 'loupe-test-password';

const READY_TIMEOUT_MS = 60000;
const STOP_TIMEOUT_MS = 30000;

// The server binary and the arguments before --config-file: 18.16's
// Debian package ships clickhouse-server; newer releases are one
// `clickhouse` binary that takes `server` as its first argument.
function serverCommand() {
  for (const bin of CH_BIN_CANDIDATES) {
    if (!existsSync(bin)) continue;
    return path.basename(bin) === 'clickhouse' ? { bin, pre: ['server'] } : { bin, pre: [] };
  }
  return null;
}

export function clickhouseAvailable() {
  return serverCommand() !== null;
}

// ---- cleanup on exit -----------------------------------------------------
const live = new Set(); // {proc, dir}
let hooked = false;

function killAllNow() {
  for (const s of live) {
    try { if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL'); } catch { /* gone */ }
    try { rmSync(s.dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  live.clear();
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      killAllNow();
      // Keep the default behaviour (end with the signal) unless someone
      // else handles it too.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

// ---- configuration ---------------------------------------------------------
const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function remoteServersXml(allPorts) {
  if (allPorts.length < 2) return '';
  const shards = allPorts.map((p) =>
    `      <shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`).join('\n');
  return `  <remote_servers>\n    <${CLICKHOUSE_CLUSTER}>\n${shards}\n    </${CLICKHOUSE_CLUSTER}>\n  </remote_servers>\n`;
}

function configXml(dir, ports, allPorts) {
  const d = (sub) => xmlEscape(path.join(dir, sub) + '/');
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${xmlEscape(path.join(dir, 'server.log'))}</log>
    <errorlog>${xmlEscape(path.join(dir, 'server.err.log'))}</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${d('data')}</path>
  <tmp_path>${d('tmp')}</tmp_path>
  <user_files_path>${d('user_files')}</user_files_path>
  <format_schema_path>${d('format_schemas')}</format_schema_path>
  <users_config>${xmlEscape(path.join(dir, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
  <timezone>UTC</timezone>
${remoteServersXml(allPorts)}</yandex>
`;
}

function usersXml() {
  const user = (name, password) => `    <${name}>
      <password>${xmlEscape(password)}</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
${user('default', '')}
${user(CLICKHOUSE_USER, CLICKHOUSE_PASSWORD)}
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;
}

function logTail(dir, stdio) {
  const parts = [];
  for (const f of ['server.err.log', 'server.log']) {
    try { parts.push(`--- ${f}\n${readFileSync(path.join(dir, f), 'utf8').slice(-4000)}`); } catch { /* none yet */ }
  }
  if (stdio) parts.push(`--- stdout/stderr\n${stdio.slice(-2000)}`);
  return parts.join('\n');
}

// ---- one server process -----------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One HTTP request without keep-alive (agent: false): a kept-alive idle
// connection would make the server's graceful stop wait for it.
// Resolves to {status, text}; rejects on connection errors and timeouts.
function chRequest(port, method, urlPath, body, headers, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path: urlPath, agent: false,
      headers: { Connection: 'close', ...headers }, timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`clickhouse request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function pingOnce(port) {
  try {
    const res = await chRequest(port, 'GET', '/ping', undefined, {}, 2000);
    return res.status === 200 && res.text === 'Ok.\n';
  } catch {
    return false;
  }
}

// Spawns the server of one shard and waits until /ping answers.
// Returns {proc, exited, output()}; throws (after killing it) on failure.
async function spawnShard(cmd, dir, ports) {
  const proc = spawn(cmd.bin, [...cmd.pre, `--config-file=${path.join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { proc, dir };
  live.add(entry);
  let stdio = '';
  proc.stdout.on('data', (d) => { stdio = (stdio + d).slice(-8000); });
  proc.stderr.on('data', (d) => { stdio = (stdio + d).slice(-8000); });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    live.delete(entry);
    resolve({ code, signal });
  }));
  let exitInfo = null;
  exited.then((e) => { exitInfo = e; });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Bounded: one probe per 50 ms (each at most 2 s) until the deadline.
  while (Date.now() < deadline) {
    if (exitInfo) {
      throw new Error(`clickhouse-server exited during startup (code ${exitInfo.code}, signal ${exitInfo.signal})\n${logTail(dir, stdio)}`);
    }
    if (await pingOnce(ports.http)) return { proc, exited, output: () => stdio };
    await sleep(50);
  }
  proc.kill('SIGKILL');
  await exited;
  throw new Error(`clickhouse-server not ready in ${READY_TIMEOUT_MS} ms\n${logTail(dir, stdio)}`);
}

async function waitExit(shard, what) {
  let timer;
  const timeout = new Promise((r) => { timer = setTimeout(r, STOP_TIMEOUT_MS, 'timeout'); });
  const first = await Promise.race([shard.exited, timeout]);
  clearTimeout(timer);
  if (first === 'timeout') {
    shard.proc.kill('SIGKILL');
    await shard.exited;
    throw new Error(`clickhouse-server did not ${what} in ${STOP_TIMEOUT_MS} ms`);
  }
  return shard.exited;
}

// ---- the public starter ------------------------------------------------------

// Starts `shards` servers (each one shard of the cluster `loupe` when
// shards > 1). Returns {url, urls, ports, dirs, user, password, cluster,
// query, stop, kill, restart, startMs}. The caller must stop() it (t.after,
// after()); the exit hooks above are the safety net.
export async function startClickHouse({ shards = 1 } = {}) {
  const cmd = serverCommand();
  if (!cmd) throw new Error('clickhouse-server is not installed');
  hookExit();
  const t0 = Date.now();
  const flat = await freePorts(3 * shards);
  const ports = [];
  for (let i = 0; i < shards; i++) {
    ports.push({ http: flat[3 * i], tcp: flat[3 * i + 1], interserver: flat[3 * i + 2] });
  }
  const dirs = [];
  for (let i = 0; i < shards; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `loupe-ch${i}-`));
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(path.join(dir, sub));
    writeFileSync(path.join(dir, 'config.xml'), configXml(dir, ports[i], shards > 1 ? ports : []));
    writeFileSync(path.join(dir, 'users.xml'), usersXml());
    dirs.push(dir);
  }
  const procs = new Array(shards).fill(null);
  const removeDirs = () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); };
  // allSettled, not all: on a failure the others are stopped before the
  // dirs go.
  const settled = await Promise.allSettled(ports.map((p, i) => spawnShard(cmd, dirs[i], p)));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(settled.filter((r) => r.status === 'fulfilled').map((r) => {
      r.value.proc.kill('SIGKILL');
      return r.value.exited;
    }));
    removeDirs();
    throw failed.reason;
  }
  settled.forEach((r, i) => { procs[i] = r.value; });
  const urls = ports.map((p) => `http://127.0.0.1:${p.http}`);
  let stopped = false;

  const ch = {
    url: urls[0],
    urls,
    ports,
    dirs,
    cluster: shards > 1 ? CLICKHOUSE_CLUSTER : null,
    user: CLICKHOUSE_USER,
    password: CLICKHOUSE_PASSWORD,
    startMs: Date.now() - t0,
    proc: (i = 0) => procs[i].proc,
    // Runs one statement over HTTP POST on a shard; resolves to the answer's
    // text, rejects with ClickHouse's message on a non-200 answer.
    // opts: {user, password, timeoutMs}.
    async query(sql, shardIdx = 0, opts = {}) {
      const headers = {};
      if (opts.user) {
        headers['X-ClickHouse-User'] = opts.user;
        headers['X-ClickHouse-Key'] = opts.password ?? '';
      }
      const res = await chRequest(ports[shardIdx].http, 'POST', '/', sql, headers, opts.timeoutMs ?? 30000);
      const text = res.text;
      if (res.status !== 200) {
        throw new Error(`clickhouse (shard ${shardIdx}) answered ${res.status}: ${text.trim()}`);
      }
      return text;
    },
    log: (i = 0) => logTail(dirs[i], procs[i]?.output()),
    // SIGTERM every server, wait for the exits, remove the dirs. Idempotent.
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await Promise.all(procs.map(async (s) => {
          if (!s) return;
          if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
          await waitExit(s, 'stop after SIGTERM');
        }));
      } finally {
        removeDirs();
      }
    },
    // kill -9 of one shard (all when shardIdx is undefined); the data stays.
    async kill(shardIdx) {
      const which = shardIdx === undefined ? procs : [procs[shardIdx]];
      await Promise.all(which.map(async (s) => {
        if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
        await s.exited;
      }));
    },
    // kill -9 of one shard (if it still runs), then the same server again:
    // same ports, same dir (so the same data), and wait until it is ready.
    async restart(shardIdx = 0) {
      if (stopped) throw new Error('restart after stop');
      await ch.kill(shardIdx);
      procs[shardIdx] = await spawnShard(cmd, dirs[shardIdx], ports[shardIdx]);
    },
  };
  return ch;
}

// For scripts: the cluster's servers answer `SELECT ... FROM system.clusters`
// with one row per shard. Returns the number of shards `loupe` has, as the
// server at shardIdx sees it.
export async function clusterShardCount(ch, shardIdx = 0) {
  const text = await ch.query(
    `SELECT count() FROM system.clusters WHERE cluster = '${CLICKHOUSE_CLUSTER}'`, shardIdx);
  return Number(text.trim());
}

