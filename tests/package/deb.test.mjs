// deb.test.mjs - the Debian package on this machine: dpkg -i, loupe started
// as its systemd unit would start it (systemd does not run here: the unit's
// ExecStart as its User and Group, with its Environment=, EnvironmentFile=
// and UMask=, no capabilities, in its WorkingDirectory), telemetry
// from the official OpenTelemetry exporters read back through the API,
// SIGTERM, then dpkg --remove and dpkg --purge leaving nothing but the
// loupe system user (which policy leaves in place).
//
//   LOUPE_DEB=build/loupe_0.1.0_amd64.deb node --test tests/package/deb.test.mjs
//
// (make deb-test builds the package, runs lintian and then this.) Needs
// root; refuses to run where a loupe package is already installed. The
// loupe user is deleted afterwards only if this test made it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { freePorts } from '../interop/lib/server.mjs';
import { sendSession, checkSession } from '../interop/lib/roundtrip.mjs';

const DEB = process.env.LOUPE_DEB;
const UNIT = '/lib/systemd/system/loupe.service';
const DEFAULTS = '/etc/default/loupe';
const DATA = '/var/lib/loupe';
const WANTS = '/etc/systemd/system/multi-user.target.wants/loupe.service';
const DSH_STATE = '/var/lib/systemd/deb-systemd-helper-enabled/loupe.service.dsh-also';
const TOKEN = randomBytes(16).toString('hex');
const SERVICE = 'deb-app';

// Runs a command; returns {code, stdout, out} (out: stdout and stderr).
function run(cmd, args, timeout = 120000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout || '', out: `${r.stdout || ''}${r.stderr || ''}${r.error || ''}` };
}

// dpkg's two-letter state of loupe ('ii', 'rc'), '' when dpkg knows none.
function status() {
  const r = run('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', 'loupe']);
  return r.code === 0 ? r.stdout.trim() : '';
}

function passwd(name) {
  const r = run('getent', ['passwd', name]);
  return r.code === 0 ? r.out.trim().split(':') : null;
}

let userBefore = false;
let proc = null;

before(() => {
  assert.ok(DEB && existsSync(DEB), 'LOUPE_DEB names the package to test');
  assert.equal(process.getuid(), 0, 'the package test needs root (dpkg -i)');
  const st = status();
  assert.ok(st === '' || st === 'un',
    `dpkg knows a loupe package here (${st}); the test would replace and purge it`);
  userBefore = passwd('loupe') !== null;
});

after(() => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  if (status() !== '') run('dpkg', ['--purge', 'loupe']);
  if (!userBefore && passwd('loupe')) run('deluser', ['--system', '--quiet', 'loupe']);
});

test('dpkg -i installs the binary, the unit, the defaults, the manual and the loupe user', () => {
  const inst = run('dpkg', ['-i', DEB]);
  assert.equal(inst.code, 0, inst.out);
  assert.equal(status(), 'ii');
  assert.match(execFileSync('/usr/bin/loupe', ['--version'], { encoding: 'utf8' }), /^loupe \d+\.\d+\.\d+\n$/);

  const pw = passwd('loupe');
  assert.ok(pw, 'the loupe user exists');
  assert.ok(Number(pw[2]) > 0 && Number(pw[2]) < 1000, `a system uid (${pw[2]})`);
  assert.equal(pw[5], DATA);
  assert.equal(pw[6], '/usr/sbin/nologin');
  const d = statSync(DATA);
  assert.ok(d.isDirectory());
  assert.equal(d.uid, Number(pw[2]), `${DATA} belongs to loupe`);
  assert.equal(d.mode & 0o777, 0o750);

  assert.match(run('dpkg-query', ['-W', '-f=${Conffiles}', 'loupe']).stdout, /^ \/etc\/default\/loupe [0-9a-f]{32}$/m);
  assert.match(gunzipSync(readFileSync('/usr/share/man/man1/loupe.1.gz')).toString(), /^\.TH LOUPE 1 /m);
  assert.match(readFileSync('/usr/share/doc/loupe/copyright', 'utf8'), /^Format: https:\/\/www\.debian\.org/);
  assert.match(gunzipSync(readFileSync('/usr/share/doc/loupe/changelog.gz')).toString(), /^loupe \(/);

  // systemd's own reading of the unit, where systemd is installed.
  const verify = run('systemd-analyze', ['verify', '--man=no', UNIT]);
  if (/ENOENT/.test(verify.out)) {
    // scripts/deps.sh installs it: CI must not skip
    assert.ok(!process.env.CI, 'systemd-analyze is missing (the Debian package systemd)');
    console.log('# systemd-analyze is not installed: the unit is not verified');
  } else {
    assert.equal(verify.code, 0, verify.out);
    assert.equal(verify.out.trim(), '', `systemd-analyze verify: ${verify.out}`);
  }
});

// The [Service] settings of the unit: key -> list of values.
function unitService() {
  const out = new Map();
  let section = '';
  for (const raw of readFileSync(UNIT, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) { section = sec[1]; continue; }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    out.set(k, [...(out.get(k) || []), line.slice(eq + 1)]);
  }
  return out;
}

// KEY=VALUE lines as systemd reads an EnvironmentFile (comments and blank
// lines skipped, one level of quotes removed).
function readEnvFile(path) {
  const env = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `${path}: not KEY=VALUE: ${line}`);
    env[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return env;
}

test('the unit\'s ExecStart, run as its User with its EnvironmentFile, stores and serves telemetry', async () => {
  const unit = unitService();
  const one = (k) => { const v = unit.get(k); assert.equal(v?.length, 1, `one ${k}= in the unit`); return v[0]; };
  const user = one('User');
  const group = one('Group');
  const exec = one('ExecStart').split(/\s+/);
  const envFile = one('EnvironmentFile').replace(/^-/, '');
  assert.equal(envFile, DEFAULTS);
  assert.equal(one('StateDirectory'), 'loupe');
  assert.equal(one('CapabilityBoundingSet'), '');

  // The administrator's settings: loopback ports of this test, a fixed token.
  const [ui, grpc, http] = await freePorts(3);
  appendFileSync(DEFAULTS, [
    '', '# set by tests/package/deb.test.mjs',
    `LOUPE_UI_ADDR=127.0.0.1:${ui}`, `LOUPE_OTLP_GRPC_ADDR=127.0.0.1:${grpc}`,
    `LOUPE_OTLP_HTTP_ADDR=127.0.0.1:${http}`, `LOUPE_UI_TOKEN="${TOKEN}"`, ''].join('\n'));

  // systemd's order: its own PATH, then Environment=, then the file.
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const assignments of unit.get('Environment') || []) {
    for (const a of assignments.split(/\s+/)) {
      const eq = a.indexOf('=');
      env[a.slice(0, eq)] = a.slice(eq + 1);
    }
  }
  Object.assign(env, readEnvFile(envFile));

  // UMask= by the shell, then setpriv drops to the user and all capabilities.
  proc = spawn('/bin/sh', ['-c', 'umask "$1"; shift; exec "$@"', 'sh', one('UMask'),
    'setpriv', '--reuid', user, '--regid', group, '--init-groups', '--no-new-privs',
    '--inh-caps=-all', '--bounding-set=-all', '--', ...exec],
  { env, cwd: one('WorkingDirectory'), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loupe not ready in 15 s\n${stderr}`)), 15000);
    proc.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n  storage ')) { clearTimeout(timer); resolve(); }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`loupe exited (code ${code}, signal ${signal})\n${stderr}`));
    });
  });
  // The data directory from Environment=, the token from the file.
  assert.match(stdout, new RegExp(`^ {2}storage +sqlite in ${DATA}/loupe\\.db$`, 'm'));
  assert.match(stdout, new RegExp(`login +http://127\\.0\\.0\\.1:${ui}/login\\?token=${TOKEN}$`, 'm'));
  const pw = passwd('loupe');
  assert.match(readFileSync(`/proc/${proc.pid}/status`, 'utf8'),
    new RegExp(`^Uid:\\s+${pw[2]}\\s+${pw[2]}\\s+${pw[2]}\\s+${pw[2]}$`, 'm'));
  assert.match(readFileSync(`/proc/${proc.pid}/status`, 'utf8'), /^CapBnd:\s+0+$/m);

  const srv = {
    uiUrl: `http://127.0.0.1:${ui}`, httpUrl: `http://127.0.0.1:${http}`, grpcUrl: `http://127.0.0.1:${grpc}`,
    authHeaders: { Authorization: `Bearer ${TOKEN}` },
  };
  await checkSession(srv, await sendSession(srv, SERVICE));

  // As systemctl stop would: SIGTERM, a clean exit well within TimeoutStopSec.
  const t0 = Date.now();
  proc.kill('SIGTERM');
  const res = await exited;
  assert.deepEqual(res, { code: 0, signal: null }, stderr);
  assert.ok(Date.now() - t0 < 10000, `stopped in ${Date.now() - t0} ms`);
  const db = statSync(`${DATA}/loupe.db`);
  assert.equal(db.uid, Number(pw[2]), 'the database belongs to loupe');
  assert.equal(db.mode & 0o077, 0, 'UMask=0077: the database is private to loupe');
});

test('systemctl enable, then dpkg --remove: disabled, files gone, data and settings kept', () => {
  const en = run('systemctl', ['--no-reload', 'enable', 'loupe.service']);
  assert.equal(en.code, 0, en.out);
  assert.ok(lstatSync(WANTS).isSymbolicLink(), 'enabled');
  const rm = run('dpkg', ['--remove', 'loupe']);
  assert.equal(rm.code, 0, rm.out);
  assert.equal(status(), 'rc');
  for (const p of ['/usr/bin/loupe', UNIT, '/usr/share/man/man1/loupe.1.gz', '/usr/share/doc/loupe']) {
    assert.ok(!existsSync(p), `${p} removed`);
  }
  assert.throws(() => lstatSync(WANTS), /ENOENT/, 'the enable link is removed');
  assert.ok(existsSync(DEFAULTS), 'the conffile stays until purge');
  assert.ok(existsSync(`${DATA}/loupe.db`), 'the data stays until purge');
});

test('dpkg --purge: nothing left but the loupe user', () => {
  const purge = run('dpkg', ['--purge', 'loupe']);
  assert.equal(purge.code, 0, purge.out);
  assert.equal(status(), '');
  for (const p of [DEFAULTS, DATA, DSH_STATE, '/usr/share/doc/loupe']) {
    assert.ok(!existsSync(p), `${p} removed`);
  }
  assert.notEqual(run('dpkg', ['-L', 'loupe']).code, 0, 'dpkg knows no files of loupe');
  assert.ok(passwd('loupe'), 'the system user stays (Debian policy: it may still own files)');
});
