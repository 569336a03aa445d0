// loupe services, traces, trace, logs (and --follow), export and import
// against a real loupe holding telemetry from the official OpenTelemetry
// exporters: tables and --json, the filter language, terminals, and the
// exit statuses (unreachable, 401, usage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inlineResources } from './lib/resources.mjs';
import { startLoupe, getJson, freePort, LOUPE_BIN } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';
import { loupeCli, cliEnv, waitFor } from './lib/cli.mjs';

const TOKEN = 'cli-query-token-0123456789';
const SERVICE = 'cli-shop';
let srv;
let env;
let sent;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-cli-'));
  srv = await startLoupe({ auth: true, token: TOKEN });
  env = cliEnv(srv);
  const exp = exporters(srv, 'http/protobuf');
  const t = await sendTraces(exp, SERVICE);
  const l = await sendLogs(exp, SERVICE, { traceSpan: t.rootSpan });
  await sendMetrics(exp, SERVICE);
  // a second service over gRPC, so that filters have something to leave out
  const g = await sendTraces(exporters(srv, 'grpc'), 'cli-other');
  sent = { traceId: t.traceId, otherId: g.traceId, spans: t.spans, records: l.records };
});

after(async () => {
  if (srv) assert.equal((await srv.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

// The rows of a table (header first), cells split at runs of 2+ spaces.
function rows(stdout) {
  return stdout.trimEnd().split('\n').map((l) => l.trim().split(/ {2,}/));
}

test('loupe services prints a table of the services with their counts', async () => {
  const r = await loupeCli(['services'], { env });
  assert.equal(r.status, 0, r.stderr);
  const t = rows(r.stdout);
  assert.deepEqual(t[0], ['SERVICE', 'REQUESTS', 'FAILED', 'P99', 'SPANS', 'ERRORS', 'LOGS', 'POINTS',
    'LAST SEEN', 'INSTANCES']);
  const shop = t.find((row) => row[0] === SERVICE);
  assert.ok(shop, r.stdout);
  // the SERVER root and the CONSUMER span are the requests; none failed
  assert.deepEqual(shop.slice(1, 3), ['2', '0.0%']);
  assert.match(shop[3], /^[0-9.]+(ns|us|µs|ms|s)$/);
  assert.deepEqual(shop.slice(4, 7), [String(sent.spans.length), '1', String(sent.records.length)]);
  assert.equal(shop[9], `${SERVICE}-1`);
  assert.ok(t.some((row) => row[0] === 'cli-other'));
});

test('--json prints the API document', async () => {
  for (const [args, apiPath] of [
    [['services', '--json'], '/api/v1/services'],
    [['traces', `service=${SERVICE}`, '--json'], `/api/v1/traces?limit=20&service=${SERVICE}`],
    [['trace', sent.traceId, '--json'], `/api/v1/traces/${sent.traceId}`],
    [['logs', '--json', '--limit', '3'], '/api/v1/logs?limit=3'],
  ]) {
    const r = await loupeCli(args, { env });
    assert.equal(r.status, 0, r.stderr);
    const api = await getJson(srv, apiPath);
    assert.deepEqual(JSON.parse(r.stdout), api.body, args.join(' '));
  }
});

test('loupe traces filters with the filter language', async () => {
  const cases = [
    [[`service=${SERVICE}`], [sent.traceId]],
    [['service=cli-other'], [sent.otherId]],
    [['status=error', `service=${SERVICE}`], [sent.traceId]],
    [['name="charge card"', `service=${SERVICE}`], [sent.traceId]],
    [['attr:http.request.method=GET', 'attr:http.response.status_code>199', `service=${SERVICE}`], [sent.traceId]],
    [['q=orders', 'duration>=1ns', 'since=1h'], [sent.traceId, sent.otherId]],
    [['duration>1h'], []],
    [['service=nobody'], []],
  ];
  for (const [args, ids] of cases) {
    const r = await loupeCli(['traces', ...args], { env });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    const t = rows(r.stdout);
    assert.equal(t[0][0], 'TRACE ID');
    assert.deepEqual(t.slice(1).map((row) => row[0]).sort(), [...ids].sort(), args.join(' '));
  }
  const one = await loupeCli(['traces', '--limit', '1'], { env });
  assert.equal(rows(one.stdout).length, 2);
  const shop = rows((await loupeCli(['traces', `service=${SERVICE}`], { env })).stdout)[1];
  assert.equal(shop[5], `${SERVICE}: GET /checkout`);
  assert.equal(shop[3], '5');
  assert.equal(shop[4], '1');
});

test('bad filters and flags are usage errors (exit 2) with a one-line message', async () => {
  for (const [args, needle] of [
    [['traces', 'colour=blue'], 'colour=blue'],
    [['traces', 'severity>=warn'], 'does not apply to traces'],
    [['traces', 'duration>soon'], 'duration'],
    [['logs', 'name=x'], 'does not apply to logs'],
    [['traces', '--limit', '0'], '--limit'],
    [['traces', '--frobnicate'], '--frobnicate'],
    [['trace'], 'trace id'],
    [['trace', 'a', 'b'], 'unexpected'],
    [['services', 'extra'], 'unexpected'],
    [['export'], 'FILE'],
    [['traces', '--server'], '--server'],
  ]) {
    const r = await loupeCli(args, { env });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].startsWith(`loupe ${args[0]}: `), lines[0]);
    assert.ok(lines[0].includes(needle), lines[0]);
  }
});

test('a parameter the API refuses is exit 1 with its message', async () => {
  const r = await loupeCli(['traces', 'status=broken'], { env });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loupe traces: .* answered HTTP 400: parameter 'status' must be error, ok or unset\n$/);
  const missing = await loupeCli(['trace', '0123456789abcdef0123456789abcdef'], { env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /404: trace 0123456789abcdef0123456789abcdef not found/);
});

test('loupe trace prints the span tree in order with offsets and errors', async () => {
  const r = await loupeCli(['trace', sent.traceId], { env });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], new RegExp(`^trace ${sent.traceId}: 5 spans \\(1 with errors\\), `));
  assert.deepEqual(lines[1].trim().split(/ {2,}/), ['OFFSET', 'DURATION', 'SERVICE', 'SPAN', 'STATUS']);
  // the SPAN column: depth as indentation, each child after its parent
  const col = lines[1].indexOf('SPAN');
  const statusCol = lines[1].indexOf('STATUS');
  const spans = lines.slice(2).map((l) => l.slice(col, statusCol).trimEnd());
  assert.equal(spans[0], 'GET /checkout');
  assert.deepEqual(spans.slice(1).sort(), ['  SELECT orders', '    parse rows', '  charge card', '  consume event'].sort());
  assert.equal(spans.indexOf('    parse rows'), spans.indexOf('  SELECT orders') + 1);
  assert.match(lines.find((l) => l.includes('charge card')), /ERROR card declined$/);
  assert.match(lines[2], /^\s*\+0ns\s/);
});

test('loupe logs lists records with filters', async () => {
  let r = await loupeCli(['logs', `service=${SERVICE}`, 'severity>=error'], { env });
  assert.equal(r.status, 0, r.stderr);
  let t = rows(r.stdout);
  assert.deepEqual(t[0], ['TIME', 'SEVERITY', 'SERVICE', 'BODY', 'TRACE']);
  assert.equal(t.length - 1, 3);
  assert.deepEqual(t.slice(1).map((row) => row[1]).sort(), ['ERROR', 'ERROR', 'FATAL']);
  r = await loupeCli(['logs', `trace=${sent.traceId}`], { env });
  t = rows(r.stdout);
  assert.equal(t.length - 1, 1);
  assert.match(t[1][3], /structured body/);
  assert.equal(t[1][4], sent.traceId);
  r = await loupeCli(['logs', 'q=WARN', 'attr:log.level=warn'], { env });
  t = rows(r.stdout);
  assert.equal(t.length - 1, 1);
  assert.equal(t[1][3], 'message at WARN ✓');
});

test('on a terminal, tables fit its width', async () => {
  const cmd = `stty cols 70; ${LOUPE_BIN} logs service=${SERVICE}`;
  const r = await new Promise((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, out }); });
  });
  assert.equal(r.status, 0, r.out);
  const lines = r.out.replace(/\r/g, '').trimEnd().split('\n');
  assert.ok(lines.length >= 9, r.out);
  for (const l of lines) assert.ok([...l].length <= 70, `${[...l].length}: ${l}`);
  assert.ok(lines.some((l) => l.includes('...')), 'a long body is cut');
  // short trace ids on a terminal
  assert.ok(lines.some((l) => l.endsWith(sent.traceId.slice(0, 8))), r.out);
});

test('loupe logs --follow prints records as they are committed', async () => {
  // both forms at once: a stream that ended is counted until its next
  // heartbeat, so the streams of one run would blur the count of the next
  const followers = [false, true].map((json) => {
    const child = spawn(LOUPE_BIN, ['logs', '--follow', 'service=follow-svc', 'severity>=warn', ...(json ? ['--json'] : [])],
      { env: { ...process.env, ...env } });
    const f = { json, child, out: '', err: '' };
    child.stdout.on('data', (d) => { f.out += d; });
    child.stderr.on('data', (d) => { f.err += d; });
    f.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    return f;
  });
  try {
    await waitFor(async () => (await getJson(srv, '/api/v1/live/streams')).body.streams >= 2,
      { what: 'the live streams' });
    await sendLogs(exporters(srv, 'http/json'), 'follow-svc');
    for (const f of followers) {
      await waitFor(() => f.out.split('\n').filter(Boolean).length >= 4, { what: `four records (${f.out}${f.err})` });
      const lines = f.out.trim().split('\n');
      assert.equal(lines.length, 4, f.out); // WARN, ERROR, FATAL and the structured ERROR
      if (f.json) {
        const recs = lines.map((l) => JSON.parse(l));
        assert.deepEqual(recs.map((x) => x.severityText).sort(), ['ERROR', 'ERROR', 'FATAL', 'WARN']);
        assert.ok(recs.every((x) => x.service === 'follow-svc'));
      } else {
        assert.ok(lines.some((l) => /\bWARN\s+follow-svc\s+message at WARN ✓/.test(l)), f.out);
      }
    }
  } finally {
    for (const f of followers) f.child.kill('SIGINT');
    await Promise.all(followers.map((f) => f.exited));
  }
});

test('--follow refuses time windows', async () => {
  const r = await loupeCli(['logs', '--follow', 'since=5m'], { env });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--follow/);
});

test('an unreachable server is exit 1 with a one-line message', async () => {
  const port = await freePort();
  for (const cmd of [['services'], ['traces'], ['logs'], ['trace', sent.traceId], ['export', '-']]) {
    const r = await loupeCli([...cmd, '--server', `http://127.0.0.1:${port}`], { env: {} });
    assert.equal(r.status, 1, cmd.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^loupe ${cmd[0]}: cannot reach loupe at http://127\\.0\\.0\\.1:${port}: .*\\(is it running\\? point --server at it\\)$`));
  }
});

test('without the token (or a wrong one) the answer is 401: exit 1 saying how to pass it', async () => {
  let r = await loupeCli(['services', '--server', srv.uiUrl], { env: {} });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /401 unauthorized\): pass the UI token with --ui-token TOKEN or LOUPE_UI_TOKEN/);
  r = await loupeCli(['traces', '--ui-token', 'not-the-token-0123456789'], { env: { LOUPE_SERVER: srv.uiUrl } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the UI token was not accepted/);
  r = await loupeCli(['services', '--ui-token', TOKEN, '--server', `${srv.uiUrl}/`], { env: {} });
  assert.equal(r.status, 0, r.stderr);
});

test('every command has --help, and loupe --help lists them', async () => {
  const top = await loupeCli(['--help']);
  assert.equal(top.status, 0);
  for (const cmd of ['services', 'traces', 'trace', 'logs', 'export', 'import', 'expect', 'run']) {
    assert.match(top.stdout, new RegExp(`loupe ${cmd} +\\S`), cmd);
    const r = await loupeCli([cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.ok(r.stdout.startsWith(`usage: loupe ${cmd}`), r.stdout);
  }
});

test('export writes OTLP JSON lines that import loads into another loupe', async () => {
  const file = path.join(dir, 'all.jsonl');
  let r = await loupeCli(['export', file], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^loupe export: \d+ lines \(\d+ traces, \d+ logs, \d+ metrics requests\) to /);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((d) => d.resourceSpans));
  assert.ok(lines.some((d) => d.resourceLogs));
  assert.ok(lines.some((d) => d.resourceMetrics));
  const only = await loupeCli(['export', '-', '--signal', 'logs'], { env });
  assert.equal(only.status, 0);
  assert.ok(only.stdout.trim().split('\n').every((l) => JSON.parse(l).resourceLogs), 'logs only');

  const other = await startLoupe();
  try {
    r = await loupeCli(['import', file, '--server', other.uiUrl], { env: {} });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^loupe import: \d+ spans, \d+ logs, \d+ points from \d+ documents \(0 items rejected\)\n$/);
    // resource ids are each store's own: compare with the resources in place
    for (const [p, key] of [['/api/v1/services'], [`/api/v1/traces/${sent.traceId}`, 'spans'],
      ['/api/v1/logs?limit=1000', 'logs'], ['/api/v1/metrics']]) {
      const a = (await getJson(other, p)).body, b = (await getJson(srv, p)).body;
      assert.deepEqual(key ? inlineResources(a, key) : a, key ? inlineResources(b, key) : b, p);
    }
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"resourceSpans": 7}\n');
    r = await loupeCli(['import', path.join(dir, 'bad.jsonl'), '--server', other.uiUrl], { env: {} });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /answered HTTP 400: document 1/);
  } finally {
    await other.stop();
  }
});
