// The first-run screen's instructions work: what the page prints in
// Chromium is read back as text, and every endpoint it prints (the line to
// copy, each language's snippet, the Collector's, the OTLP/HTTP-only port)
// is given, with the protocol printed beside it or none, to an app on the
// official Node.js SDK configured by those environment variables alone
// (tests/interop/lib/node_sdk_app.mjs). Its span, log record and metric
// point must then be readable from the API under the service name the page
// printed. The page's claim that the first port takes every OTLP protocol
// is held to all three.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson } from '../interop/lib/server.mjs';
import { runChildApp } from '../interop/lib/child_app.mjs';
import { assertOnboarding, launch, onboardingText, openPage, settled, startServer, stopChecked } from './lib/browser.mjs';

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../interop/lib/node_sdk_app.mjs');
const APP_TIMEOUT_MS = 60000;
const ARRIVAL_MS = 20000;
const PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'];

let srv;
let browser;
before(async () => {
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  await stopChecked(srv);
});

// OTEL_* assignments in shell text ("export NAME=value" or "NAME=value").
function envOf(text) {
  const env = {};
  for (const m of text.matchAll(/^(?:export )?(OTEL_[A-Z_]+)=(\S+)$/gm)) env[m[1]] = m[2];
  return env;
}

// The configurations the page prints: {where, endpoint, protocol (or
// undefined: the SDK's default)}, each once.
function printedConfigs(t) {
  const configs = new Map();
  const add = (where, endpoint, protocol) => {
    assert.ok(endpoint, `${where}: an endpoint is printed`);
    const key = `${endpoint} ${protocol ?? '(default)'}`;
    if (configs.has(key)) configs.get(key).where += `, ${where}`;
    else configs.set(key, { where, endpoint, protocol });
  };
  const lines = envOf(t.lines.join('\n'));
  add('the line to copy', lines.OTEL_EXPORTER_OTLP_ENDPOINT, lines.OTEL_EXPORTER_OTLP_PROTOCOL);
  // "takes every OTLP protocol (gRPC, HTTP/protobuf and HTTP/JSON)"
  assert.match(t.any, /every OTLP protocol \(gRPC, HTTP\/protobuf and HTTP\/JSON\)/);
  for (const p of PROTOCOLS) add('the any-protocol claim', lines.OTEL_EXPORTER_OTLP_ENDPOINT, p);
  for (const s of t.snippets) {
    if (s.lang === 'collector') {
      // the otlp exporter speaks gRPC, to host:port
      const m = /^ {4}endpoint: (\S+)$/m.exec(s.code);
      assert.ok(m, 'the Collector snippet has an endpoint');
      assert.match(s.note, /speaks gRPC/);
      add('the Collector snippet', `http://${m[1]}`, 'grpc');
      continue;
    }
    const env = envOf(s.code);
    add(`the ${s.lang} snippet`, env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_PROTOCOL);
    assert.equal(env.OTEL_SERVICE_NAME, lines.OTEL_SERVICE_NAME, `${s.lang}: the service name`);
  }
  const http = /^(http:\/\/[^/\s]+)\/v1\/traces, \/v1\/logs, \/v1\/metrics$/.exec(t.httpEndpoint);
  assert.ok(http, t.httpEndpoint);
  const protos = /OTEL_EXPORTER_OTLP_PROTOCOL=(\S+) or (\S+?)\)/.exec(t.httpProtocols);
  assert.ok(protos, t.httpProtocols);
  for (const p of protos.slice(1)) add('the OTLP/HTTP row', http[1], p);
  return { service: lines.OTEL_SERVICE_NAME, configs: [...configs.values()] };
}

// Runs the app with a clean OTEL_* environment plus `vars`.
const runApp = (run, vars) => runChildApp(APP, [run], vars, APP_TIMEOUT_MS);

// Polls until check() returns a truthy value or ARRIVAL_MS pass; returns
// its last value.
async function eventually(check) {
  const deadline = Date.now() + ARRIVAL_MS;
  for (;;) {
    const v = await check();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// First, while loupe is still empty (the other test sends telemetry).
test('the language tabs switch by click and arrow keys, and the tab shown is copied whole', async () => {
  const { context, page, rec } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.uiUrl });
  await page.goto(`${srv.uiUrl}/logs`);
  await settled(page);
  const ob = await assertOnboarding(page, srv, 'logs');
  const shown = async () => ob.locator('[data-testid="onboarding-snippet"]:visible').evaluateAll((els) => els.map((e) => e.dataset.lang));
  assert.deepEqual(await shown(), ['node'], 'Node.js first');
  await ob.getByTestId('onboarding-tab-python').click();
  assert.deepEqual(await shown(), ['python']);
  assert.equal(await ob.getByRole('tab', { selected: true }).textContent(), 'Python');
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['java']);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'onboarding-tab-java', 'focus follows');
  await page.keyboard.press('End');
  assert.deepEqual(await shown(), ['collector']);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['node'], 'wraps around');
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await shown(), ['collector']);
  await ob.locator('[data-testid="onboarding-snippet"]:visible [data-copy]').click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `exporters:\n  otlp:\n    endpoint: 127.0.0.1:${srv.grpcPort}\n    tls:\n      insecure: true`);
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test('every endpoint the first-run screen prints works for the Node.js SDK configured by it alone', async (t) => {
  const { page, rec } = await openPage(browser);
  await page.goto(`${srv.uiUrl}/services`);
  await settled(page);
  const printed = await onboardingText(await assertOnboarding(page, srv));
  const { service, configs } = printedConfigs(printed);
  assert.equal(service, 'my-service');
  // the any-protocol port with each protocol and the SDK's default, the
  // OTLP/HTTP port with each of its two
  assert.equal(configs.length, 6, JSON.stringify(configs));
  let n = 0;
  for (const c of configs) {
    const run = `run-${++n}`;
    const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_SERVICE_NAME: service };
    if (c.protocol) vars.OTEL_EXPORTER_OTLP_PROTOCOL = c.protocol;
    const label = `${c.where}: ${c.endpoint} ${c.protocol ?? '(protocol unset)'}`;
    const { traceId } = await runApp(run, vars);
    assert.match(traceId, /^[0-9a-f]{32}$/, label);
    const spans = await eventually(async () => {
      const r = await getJson(srv, `/api/v1/traces/${traceId}`);
      return r.status === 200 && r.body.spans;
    });
    assert.ok(spans, `${label}: the span arrived`);
    assert.deepEqual(spans.map((s) => [s.name, s.service]), [[`onboarding ${run}`, service]], label);
    const records = await eventually(async () => {
      const r = await getJson(srv, `/api/v1/logs?traceId=${traceId}`);
      return r.body.logs.length > 0 && r.body.logs;
    });
    assert.ok(records, `${label}: the log record arrived`);
    assert.deepEqual(records.map((l) => [l.body, l.service]), [[`onboarding check ${run}`, service]], label);
    const series = await eventually(async () => {
      const r = await getJson(srv, `/api/v1/metrics/onboarding.checks/series?service=${service}&attr=${encodeURIComponent(`run=${run}`)}`);
      return r.status === 200 && r.body.series.length > 0 && r.body.series;
    });
    assert.ok(series, `${label}: the metric point arrived`);
    assert.equal(series[0].points.at(-1).value, 1, label);
    t.diagnostic(`${label}: span, log and metric arrived`);
  }
  assert.deepEqual(rec.errors, []);
});
