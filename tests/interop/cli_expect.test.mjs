// loupe expect against a real loupe with telemetry from the official
// OpenTelemetry exporters: expectations that hold, that fail (with links
// into the web UI), that time out (bounded) and that come to hold while
// it polls; the exit statuses; and the JUnit XML report validated against
// the schema's required elements (tests/interop/fixtures/junit.xsd, with
// xmllint).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startLoupe, freePort, LOUPE_BIN } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { loupeCli, cliEnv, waitFor } from './lib/cli.mjs';

const XSD = path.resolve('tests/interop/fixtures/junit.xsd');
const SERVICE = 'expect-shop';
let srv;
let env;
let traceId;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-expect-'));
  srv = await startLoupe({ auth: true, token: 'expect-token-0123456789' });
  env = cliEnv(srv);
  const exp = exporters(srv, 'http/protobuf');
  const t = await sendTraces(exp, SERVICE);
  await sendLogs(exp, SERVICE, { traceSpan: t.rootSpan });
  await sendMetrics(exp, SERVICE);
  traceId = t.traceId;
});

after(async () => {
  if (srv) assert.equal((await srv.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

// xmllint's verdict on a report: {ok, out}.
function validate(file) {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  assert.notEqual(r.error?.code, 'ENOENT', 'xmllint is needed (Debian libxml2-utils; scripts/deps.sh test)');
  return { ok: r.status === 0, out: r.stderr };
}

test('the schema check is not vacuous: a report without required attributes fails it', () => {
  const bad = path.join(dir, 'bad.xml');
  writeFileSync(bad, '<?xml version="1.0"?><testsuites><testsuite name="x" tests="1" failures="0" errors="0" time="0">'
    + '<testcase name="a"/></testsuite></testsuites>\n');
  assert.equal(validate(bad).ok, false);
});

test('expectations that hold: exit 0, one ok line each, and a valid JUnit report', async () => {
  const junit = path.join(dir, 'pass.xml');
  const r = await loupeCli(['expect',
    '--trace', `service=${SERVICE}`, '--min-count', '1',
    '--trace', `service=${SERVICE} status=error name="charge card"`, '--count', '1',
    '--trace', `service=${SERVICE} attr:http.request.method=GET`, '--max-duration', '1h',
    '--log', `service=${SERVICE} severity>=error`, '--count', '3',
    '--log', `service=${SERVICE} severity<=info`, // a log filter without checks: --min-count 1
    '--metric', `http.server.requests service=${SERVICE} attr:route=/a`, '--min-count', '1',
    '--metric', 'queue.depth',
    '--junit', junit], { env });
  assert.equal(r.status, 2, 'severity<= is a usage error');
  assert.match(r.stderr, /'severity' takes >=/);
  const ok = await loupeCli(['expect',
    '--trace', `service=${SERVICE}`, '--min-count', '1',
    '--trace', `service=${SERVICE} status=error name="charge card"`, '--count', '1',
    '--trace', `service=${SERVICE} attr:http.request.method=GET`, '--max-duration', '1h',
    '--log', `service=${SERVICE} severity>=error`, '--count', '3',
    '--log', `service=${SERVICE} q=WARN`,
    '--metric', `http.server.requests service=${SERVICE} attr:route=/a`, '--min-count', '1',
    '--metric', 'queue.depth',
    '--junit', junit], { env });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const lines = ok.stdout.trim().split('\n');
  assert.equal(lines.length, 8, ok.stdout);
  assert.ok(lines.slice(0, 7).every((l) => l.startsWith('ok    --')), ok.stdout);
  assert.match(lines[1], /found 1 traces$/);
  assert.match(lines[3], /found 3 log records$/);
  assert.equal(lines[7], 'loupe expect: all 7 expectations hold');
  const v = validate(junit);
  assert.ok(v.ok, v.out);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /<testsuite name="loupe expect" package="loupe expect" tests="7" failures="0"/);
  assert.equal((xml.match(/<testcase /g) || []).length, 7);
  assert.ok(!xml.includes('<failure'));
  assert.ok(xml.includes(`name="--trace &apos;service=${SERVICE} status=error name=&quot;charge card&quot;&apos; --count 1"`), xml);
});

test('expectations that fail: exit 1, what was found, and links the web UI understands', async () => {
  const junit = path.join(dir, 'fail.xml');
  const r = await loupeCli(['expect',
    '--trace', `service=${SERVICE}`, '--no-errors',
    '--trace', `service=${SERVICE}`, '--max-duration', '1ns',
    '--log', `service=${SERVICE} severity>=error`, '--count', '0',
    '--metric', 'no.such.metric', '--min-count', '1',
    '--trace', `service=${SERVICE}`, '--min-count', '1',
    '--junit', junit], { env });
  assert.equal(r.status, 1, r.stderr);
  const out = r.stdout;
  assert.match(out, new RegExp(`^FAIL  --trace 'service=${SERVICE}' --no-errors: 1 traces have an error span matching the filters$`, 'm'));
  assert.match(out, new RegExp(`^      see ${srv.uiUrl}/traces\\?service=${SERVICE}&range=7d$`, 'm'));
  assert.match(out, new RegExp(`^      e\\.g\\. ${srv.uiUrl}/traces/${traceId}$`, 'm'));
  assert.match(out, /^FAIL  --trace '.*' --max-duration 1ns: 1 of 1 traces take longer than 1ns \(the longest \S+\)$/m);
  assert.match(out, /^FAIL  --log '.*' --count 0: found 3 log records, want exactly 0$/m);
  assert.match(out, new RegExp(`^      see ${srv.uiUrl}/logs\\?service=${SERVICE}&minSeverity=error&range=7d$`, 'm'));
  assert.match(out, /^FAIL  --metric 'no\.such\.metric' --min-count 1: found 0 points, want at least 1$/m);
  assert.match(out, new RegExp(`see ${srv.uiUrl}/metrics\\?metric=no\\.such\\.metric&range=7d`));
  assert.match(out, /^ok    --trace '.*' --min-count 1: found 1 traces$/m);
  assert.match(out, /^loupe expect: 4 of 5 expectations failed \(checked 1 time in /m);
  // the links: the web UI's own routes and its query parameters
  const link = new URL(/see (\S+\/traces\?\S+)/.exec(out)[1]);
  assert.equal(link.pathname, '/traces');
  assert.equal(link.searchParams.get('service'), SERVICE);
  const page = await fetch(link, { headers: { Cookie: '' }, redirect: 'manual' });
  assert.ok([200, 303].includes(page.status), `the UI serves ${link}`);
  const v = validate(junit);
  assert.ok(v.ok, v.out);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /<testsuites name="loupe expect" tests="5" failures="4" errors="0"/);
  assert.equal((xml.match(/<failure message="[^"]+" type="ExpectationFailed">/g) || []).length, 4);
  assert.ok(xml.includes(`e.g. ${srv.uiUrl}/traces/${traceId}</failure>`), xml);
});

test('--within polls until the deadline and gives up: exit 1, bounded in time', async () => {
  const r = await loupeCli(['expect', '--trace', 'service=never-comes', '--within', '2s'], { env, timeoutMs: 20000 });
  assert.equal(r.status, 1);
  assert.ok(r.ms >= 1900 && r.ms < 10000, `took ${r.ms} ms`);
  const m = /checked (\d+) times in (\d+\.\d)s/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[1]) >= 3, 'it polled more than once');
});

// A proxy in front of loupe that counts the requests it passes on, to see
// that expect has looked (and found nothing) before the telemetry comes.
async function countingProxy(target) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('--within sees telemetry that arrives while it waits: exit 0', async () => {
  const proxy = await countingProxy(srv.uiUrl);
  try {
    const child = spawn(LOUPE_BIN, ['expect', '--trace', 'service=late-svc', '--count', '1',
      '--log', 'service=late-svc', '--min-count', '8', '--within', '20s', '--server', proxy.url],
    { env: { ...process.env, LOUPE_UI_TOKEN: srv.token } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const exited = new Promise((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => proxy.seen.filter((u) => u.startsWith('/api/v1/traces')).length >= 1, { what: 'a first look' });
    const exp = exporters(srv, 'grpc');
    const t = await sendTraces(exp, 'late-svc');
    await sendLogs(exp, 'late-svc', { traceSpan: t.rootSpan });
    const code = await exited;
    assert.equal(code, 0, out);
    assert.ok(proxy.seen.filter((u) => u.startsWith('/api/v1/traces')).length >= 2, 'it looked again');
    assert.match(out, /loupe expect: all 2 expectations hold/);
  } finally {
    await proxy.close();
  }
});

test('usage errors are exit 2', async () => {
  for (const [args, needle] of [
    [[], 'at least one --trace'],
    [['--count', '1'], 'comes after the --trace'],
    [['--trace', 'bogus'], 'not a filter'],
    [['--trace', 'service=a', '--count', 'many'], 'whole number'],
    [['--log', 'service=a', '--max-duration', '1s'], '--max-duration'],
    [['--metric', 'm', '--no-errors'], '--no-errors'],
    [['--metric', 'service=a'], "metric's name"],
    [['--trace', 'service=a', '--count', '1', '--min-count', '1'], 'not both'],
    [['--trace', 'service=a', '--within', 'soon'], '--within'],
    [['stray'], 'stray'],
  ]) {
    const r = await loupeCli(['expect', ...args], { env });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^loupe expect: /);
    assert.ok(r.stderr.includes(needle), r.stderr);
  }
});

test('a refused token is exit 2 with how to pass it; an unreachable server is exit 1', async () => {
  let r = await loupeCli(['expect', '--trace', 'service=a', '--server', srv.uiUrl], { env: {} });
  assert.equal(r.status, 2);
  assert.match(r.stdout, /FAIL .*401 unauthorized/);
  assert.match(r.stderr, /pass the UI token with --ui-token TOKEN or LOUPE_UI_TOKEN/);
  const port = await freePort();
  r = await loupeCli(['expect', '--trace', 'service=a', '--server', `http://127.0.0.1:${port}`], { env: {} });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL  --trace 'service=a': cannot reach loupe at/);
});
