// loupe run: an in-memory loupe around a small Node program instrumented
// with the official OpenTelemetry SDK and configured by the environment
// alone (tests/interop/fixtures/run_app.mjs). Its spans, logs and metrics
// are asserted with --expect; the saved file is imported into another
// loupe and compared; the command's exit status, the OTEL_* defaults,
// signals and usage errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoupe, getJson, LOUPE_BIN } from './lib/server.mjs';
import { loupeCli } from './lib/cli.mjs';

const APP = path.resolve('tests/interop/fixtures/run_app.mjs');
const XSD = path.resolve('tests/interop/fixtures/junit.xsd');
let dir;

before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-run-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name, text) {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

// What run_app sends, as expectations (its service is "node" unless
// OTEL_SERVICE_NAME says otherwise).
const EXPECT = `# run_app: two orders, one payment fails
--trace 'service=SVC name="POST /orders"' --count 2
--trace 'service=SVC status=error name=charge' --count 1 --log 'service=SVC severity>=error' --count 1
--log 'service=SVC q=paid'   # the successful order's log line
--metric 'app.orders service=SVC attr:outcome=failed' --min-count 1

--trace 'service=SVC name="POST /orders" attr:order.id=o-2' --max-duration 30s
`;

test('run starts a loupe, runs the program, checks its telemetry and saves it for import', async () => {
  const expect = file('app.expect', EXPECT.replaceAll('SVC', 'node'));
  const save = path.join(dir, 'saved.jsonl');
  const junit = path.join(dir, 'run.xml');
  const r = await loupeCli(['run', '--expect', expect, '--save', save, '--junit', junit, '--',
    'node', APP], { timeoutMs: 60000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^loupe run: web UI http:\/\/127\.0\.0\.1:\d+\/login\?token=[0-9a-f]{32} \(OTLP\/HTTP http:\/\/127\.0\.0\.1:\d+, OTLP\/gRPC http:\/\/127\.0\.0\.1:\d+\)$/m);
  assert.equal((r.stderr.match(/^ok {4}--/gm) || []).length, 6, r.stderr);
  assert.match(r.stderr, /loupe run: all 6 expectations hold/);
  assert.match(r.stderr, /loupe run: saved 3 lines \(1 traces, 1 logs, 1 metrics requests\) to /);
  const v = spawnSync('xmllint', ['--noout', '--schema', XSD, junit], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(readFileSync(junit, 'utf8'), /<testsuite name="loupe run" package="loupe run" tests="6" failures="0"/);

  // the saved file, imported into another loupe, holds what the program sent
  const lines = readFileSync(save, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const spans = lines.flatMap((d) => (d.resourceSpans || []).flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
  assert.deepEqual(spans.map((s) => s.name).sort(), ['POST /orders', 'POST /orders', 'charge', 'charge']);
  const other = await startLoupe();
  try {
    const imp = await loupeCli(['import', save, '--server', other.uiUrl]);
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stderr, /loupe import: 4 spans, 2 logs, \d+ points from 3 documents \(0 items rejected\)/);
    const services = (await getJson(other, '/api/v1/services')).body.services;
    assert.deepEqual(services.map((s) => [s.name, s.spanCount, s.errorCount, s.logCount]), [['node', 4, 1, 2]]);
    const traces = (await getJson(other, '/api/v1/traces')).body.traces;
    assert.deepEqual(traces.map((t) => t.rootName), ['POST /orders', 'POST /orders']);
    const logs = (await getJson(other, '/api/v1/logs')).body.logs;
    assert.deepEqual(logs.map((l) => l.body).sort(), ['order o-1 paid', 'order o-2 failed']);
    // the failed order's log line belongs to its failed charge span
    const failed = spans.find((s) => s.status?.code === 2);
    assert.equal(logs.find((l) => l.body === 'order o-2 failed').spanId, failed.spanId);
    const metric = (await getJson(other, '/api/v1/metrics/app.orders/series')).body;
    assert.deepEqual(metric.series.map((s) => s.attributes.outcome).sort(), ['failed', 'paid']);
    // and a second export equals the saved file's telemetry
    const again = path.join(dir, 'again.jsonl');
    assert.equal((await loupeCli(['export', again, '--server', other.uiUrl])).status, 0);
    const norm = (f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(norm(again), lines);
  } finally {
    await other.stop();
  }
});

test('a failed expectation makes a successful command exit 1; the command\'s own status wins', async () => {
  const expect = file('fail.expect', "--trace 'service=node name=\"POST /orders\"' --count 3\n");
  const junit = path.join(dir, 'fail.xml');
  let r = await loupeCli(['run', '--expect', expect, '--junit', junit, '--', 'node', APP], { timeoutMs: 60000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FAIL  --trace 'service=node name="POST \/orders"' --count 3: found 2 traces, want exactly 3/);
  assert.match(r.stderr, /see http:\/\/127\.0\.0\.1:\d+\/traces\?service=node&name=POST%20%2Forders&range=7d/);
  const v = spawnSync('xmllint', ['--noout', '--schema', XSD, junit], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(readFileSync(junit, 'utf8'), /<failure message="found 2 traces, want exactly 3" type="ExpectationFailed">/);
  // the program exits 3: that is the status, expectations or not
  r = await loupeCli(['run', '--expect', expect, '--', 'node', APP, '3'], { timeoutMs: 60000 });
  assert.equal(r.status, 3);
  r = await loupeCli(['run', '--', 'node', APP, '5'], { timeoutMs: 60000 });
  assert.equal(r.status, 5);
});

test('OTEL_SERVICE_NAME and the protocol: defaults only where the environment has none', async () => {
  const named = file('named.expect', "--trace 'service=my-app' --count 2\n--trace 'service=node' --count 0\n");
  let r = await loupeCli(['run', '--expect', named, '--', 'node', APP], { env: { OTEL_SERVICE_NAME: 'my-app' }, timeoutMs: 60000 });
  assert.equal(r.status, 0, r.stderr);
  r = await loupeCli(['run', '--expect', named, '--', 'node', APP],
    { env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=my-app,deployment.environment=ci' }, timeoutMs: 60000 });
  assert.equal(r.status, 0, r.stderr);
  // over gRPC and OTLP/HTTP JSON, by flag and by the environment
  const any = file('any.expect', "--trace 'service=node' --count 2 --log 'service=node' --count 2 --metric app.orders\n");
  for (const how of [{ args: ['--protocol', 'grpc'] }, { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }]) {
    r = await loupeCli(['run', ...(how.args || []), '--expect', any, '--', 'node', APP], { env: how.env || {}, timeoutMs: 60000 });
    assert.equal(r.status, 0, `${JSON.stringify(how)}: ${r.stderr}`);
  }
});

test('a command that is not found is exit 127, one that cannot be run 126', async () => {
  for (const cmd of [path.join(dir, 'no-such-program'), 'no-such-program-in-path']) {
    const r = await loupeCli(['run', '--', cmd]);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /cannot run \S*no-such-program\S*: No such file or directory/);
  }
  const r = await loupeCli(['run', '--', file('not-executable', 'echo hi\n')]);
  assert.equal(r.status, 126, r.stderr);
  assert.match(r.stderr, /cannot run .*not-executable: Permission denied/);
});

test('SIGTERM to loupe run reaches the command, and what arrived is still saved', async () => {
  const save = path.join(dir, 'term.jsonl');
  const child = spawn(LOUPE_BIN, ['run', '--save', save, '--grace', '2s', '--', 'sleep', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const deadline = Date.now() + 15000;
  while (!err.includes('loupe run: web UI') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(err.includes('loupe run: web UI'), err);
  const t0 = Date.now();
  child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 128 + 15, err);
  assert.ok(Date.now() - t0 < 10000);
  assert.ok(existsSync(save));
  assert.match(err, /saved 0 lines/);
});

test('usage errors come before the command runs: exit 2', async () => {
  const marker = path.join(dir, 'ran');
  const cmd = ['sh', '-c', `touch ${marker}`];
  for (const [args, needle] of [
    [['run'], 'give the command'],
    [['run', '--expect', path.join(dir, 'missing.expect'), '--', ...cmd], 'cannot read'],
    [['run', '--expect', file('bad1.expect', "--trace 'service=a' --count 1\n--trace 'nope=1'\n"), '--', ...cmd], 'bad1.expect:2:'],
    [['run', '--expect', file('bad2.expect', "--trace 'unclosed\n"), '--', ...cmd], 'bad2.expect:1: a single quote is not closed'],
    [['run', '--expect', file('bad3.expect', '# nothing\n\n'), '--', ...cmd], 'holds no expectation'],
    [['run', '--expect', file('bad4.expect', "--trace 'service=a' --junit x.xml\n"), '--', ...cmd], '--junit'],
    [['run', '--grace', 'later', '--', ...cmd], '--grace'],
    [['run', '--protocol', 'carrier-pigeon', '--', ...cmd], '--protocol'],
  ]) {
    const r = await loupeCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(needle), r.stderr);
    assert.ok(!existsSync(marker), 'the command did not run');
  }
});
