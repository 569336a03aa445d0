// deb_systemd.test.mjs - the Debian package under a real systemd: a Debian 12
// container (podman, systemd as PID 1) installs the .deb with apt, the
// service is set up in /etc/default/loupe and started with systemctl enable
// --now, so the unit's sandbox is really applied; telemetry from the
// official exporters is read back, the service restarts cleanly and keeps
// its data, and dpkg --purge stops it and removes its data and links.
//
//   LOUPE_DEB=build/loupe_0.1.0_amd64.deb LOUPE_BASE_IMAGE=localhost/loupe-debian:12 \
//       node --test tests/package/deb_systemd.test.mjs
//
// (make deb-systemd-test, after make container-base.) Root and podman with
// runc; the container shares the host's network and uses loopback ports
// the test picks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../interop/lib/server.mjs';
import { sendSession, checkSession } from '../interop/lib/roundtrip.mjs';

const DEB = process.env.LOUPE_DEB;
const BASE = process.env.LOUPE_BASE_IMAGE || 'localhost/loupe-debian:12';
const RUNTIME = process.env.LOUPE_CONTAINER_RUNTIME || 'runc';
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const TAG = `loupe-sd-${process.pid}`;
const IMAGE = `localhost/${TAG}:test`;
const TOKEN = randomBytes(16).toString('hex');

// Runs podman; resolves {code, stdout, stderr} (never rejects).
function podman(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    execFile('podman', ['--runtime', RUNTIME, ...args], { timeout: timeoutMs, maxBuffer: 32 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

// A shell command inside the container; asserts exit 0 unless told not to.
async function sh(cmd, { ok = true } = {}) {
  const r = await podman(['exec', TAG, 'sh', '-c', cmd]);
  if (ok) assert.equal(r.code, 0, `${cmd}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

// Polls fn until it returns a truthy value or the deadline passes.
async function until(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function readyz(srv) {
  try {
    return (await fetch(`${srv.uiUrl}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

// The host's pid of the process that is pid `inner` in the PID namespace
// of the container whose init is host pid `init`.
function hostPidOf(inner, init) {
  const ns = readlinkSync(`/proc/${init}/ns/pid`);
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readlinkSync(`/proc/${p}/ns/pid`) !== ns) continue;
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1].split(/\s+/);
      if (Number(nspid[nspid.length - 1]) === inner) return Number(p);
    } catch { /* the process ended meanwhile */ }
  }
  assert.fail(`no host process for pid ${inner} of the container`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  return { code: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

let dir;
let srv;
let sent;

before(async () => {
  assert.ok(DEB, 'LOUPE_DEB names the package');
  dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-sd-'));
  copyFileSync(DEB, path.join(dir, 'loupe.deb'));
  // The base denies service starts in image builds (policy-rc.d); a booted
  // system has no such policy.
  writeFileSync(path.join(dir, 'Containerfile'), [
    `FROM ${BASE}`,
    'COPY loupe.deb /tmp/loupe.deb',
    'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends '
      + 'systemd systemd-sysv /tmp/loupe.deb && rm -rf /var/lib/apt/lists/* /tmp/loupe.deb '
      + '/usr/sbin/policy-rc.d',
    'CMD ["/lib/systemd/systemd"]', ''].join('\n'));
  const b = await podman(['build', '--layers=false', '--network', 'host', '--pull=never', ...LIMITS,
    '-t', IMAGE, dir], 300000);
  assert.equal(b.code, 0, `podman build\n${b.stdout.slice(-3000)}${b.stderr.slice(-3000)}`);
  const r = await podman(['run', '-d', '--name', TAG, '--systemd=always', '--network', 'host', ...LIMITS, IMAGE]);
  assert.equal(r.code, 0, r.stderr);
  await until('systemd up', async () => {
    const s = (await sh('systemctl is-system-running', { ok: false })).stdout.trim();
    return s === 'running' || s === 'degraded';
  });
});

after(async () => {
  await podman(['rm', '-f', '-t', '0', TAG]);
  await podman(['rmi', '-f', IMAGE]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('installed, not started; systemctl enable --now starts it inside its sandbox', async () => {
  assert.notEqual((await sh('systemctl is-enabled loupe', { ok: false })).stdout.trim(), 'enabled');
  assert.notEqual((await sh('systemctl is-active loupe', { ok: false })).stdout.trim(), 'active');

  const [ui, grpc, http] = await freePorts(3);
  await sh(`printf 'LOUPE_UI_ADDR=127.0.0.1:${ui}\\nLOUPE_OTLP_GRPC_ADDR=127.0.0.1:${grpc}\\n`
    + `LOUPE_OTLP_HTTP_ADDR=127.0.0.1:${http}\\nLOUPE_UI_TOKEN=${TOKEN}\\n' >> /etc/default/loupe`);
  await sh('systemctl enable --now loupe');
  srv = {
    uiUrl: `http://127.0.0.1:${ui}`, httpUrl: `http://127.0.0.1:${http}`, grpcUrl: `http://127.0.0.1:${grpc}`,
    authHeaders: { Authorization: `Bearer ${TOKEN}` },
  };
  await until('/readyz answers 200', () => readyz(srv));

  const pid = (await sh('systemctl show -p MainPID --value loupe')).stdout.trim();
  const uid = (await sh('id -u loupe')).stdout.trim();
  const st = (await sh(`cat /proc/${pid}/status`)).stdout;
  assert.match(st, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
  assert.match(st, /^CapBnd:\s+0+$/m, 'no capabilities');
  assert.match(st, /^NoNewPrivs:\s+1$/m);
  assert.match(st, /^Seccomp:\s+2$/m, 'a system-call filter');
  // ProtectSystem=strict, seen from its mount namespace (entered from the
  // host, where nsenter may): /usr and /etc are read-only, its state
  // directory is not.
  const hostPid = hostPidOf(Number(pid), (await podman(['inspect', '-f', '{{.State.Pid}}', TAG])).stdout.trim());
  const inside = (cmd) => run('nsenter', ['-t', String(hostPid), '-m', 'sh', '-c', cmd]);
  assert.match(inside('touch /usr/.probe').stderr, /Read-only file system/);
  assert.match(inside('touch /etc/.probe').stderr, /Read-only file system/);
  const rw = inside('touch /var/lib/loupe/.probe && rm /var/lib/loupe/.probe');
  assert.equal(rw.code, 0, rw.stderr);
  assert.match((await sh('ls -ld /var/lib/loupe')).stdout, /^drwxr-x--- .* loupe loupe /);
});

test('telemetry from the official exporters is stored and served', async () => {
  sent = await sendSession(srv, 'systemd-app');
  await checkSession(srv, sent);
});

test('systemctl restart stops it cleanly and the data is still there', async () => {
  const before = (await sh('systemctl show -p MainPID --value loupe')).stdout.trim();
  await sh('systemctl restart loupe');
  await until('/readyz after the restart', () => readyz(srv));
  assert.notEqual((await sh('systemctl show -p MainPID --value loupe')).stdout.trim(), before);
  const journal = (await sh('journalctl -u loupe --no-pager -o cat')).stdout;
  assert.match(journal, /event=shutdown signal=SIGTERM/);
  assert.match(journal, /event=stopped/);
  assert.match(journal, /loupe\.service: Deactivated successfully/);
  await checkSession(srv, sent);
});

test('dpkg --purge stops and disables it and removes its data', async () => {
  await sh('dpkg --purge loupe');
  assert.notEqual((await sh('systemctl is-active loupe', { ok: false })).stdout.trim(), 'active');
  assert.equal(await readyz(srv), false, 'nothing answers on the UI port');
  const left = await sh('ls -d /var/lib/loupe /etc/default/loupe /etc/systemd/system/multi-user.target.wants/loupe.service /usr/bin/loupe 2>/dev/null; true');
  assert.equal(left.stdout.trim(), '', `left after purge: ${left.stdout}`);
  assert.match((await sh('getent passwd loupe')).stdout, /^loupe:/, 'the system user stays');
});
