// loupe configured only with the Aspire dashboard's names (docs/aspire.md),
// as a compose file written for mcr.microsoft.com/dotnet/aspire-dashboard
// would: the listen URLs, the browser token (and /login?t=), OTLP API keys
// with AuthMode=ApiKey, a telemetry limit, and a name loupe has no meaning
// for (a warning). The official exporters send with the key; without it
// they are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePorts, LOUPE_BIN } from './lib/server.mjs';
import { exporters, sendLogs, sendTraces } from './lib/telemetry.mjs';

const TOKEN = 'aspire-browser-token-0123456789';
const KEY = 'aspire-otlp-key';
let proc;
let ports;
let stdout = '';
let stderr = '';
let exited;

before(async () => {
  ports = await freePorts(3);
  const [ui, grpc, http] = ports;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LOUPE_')) delete env[k];
  Object.assign(env, {
    ASPNETCORE_URLS: `http://127.0.0.1:${ui}`,
    ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL: `http://127.0.0.1:${grpc}`,
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL: `http://127.0.0.1:${http}`,
    Dashboard__Frontend__BrowserToken: TOKEN,
    DASHBOARD__OTLP__AUTHMODE: 'ApiKey',
    DASHBOARD__OTLP__PRIMARYAPIKEY: KEY,
    DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT: '3',
    DASHBOARD__TELEMETRYLIMITS__MAXMETRICSCOUNT: '1000',
  });
  proc = spawn(LOUPE_BIN, ['--storage', 'memory'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => { stderr += d; });
  exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready\n${stderr}`)), 15000);
    proc.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n  storage ')) { clearTimeout(timer); resolve(); }
    });
    exited.then(() => { clearTimeout(timer); reject(new Error(`exited early\n${stderr}`)); });
  });
});

after(async () => {
  if (!proc) return;
  proc.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0, stderr.slice(-4000));
});

const uiUrl = () => `http://127.0.0.1:${ports[0]}`;

test('the Aspire listen URLs place the three ports', () => {
  assert.match(stdout, new RegExp(`web UI and API  http://127\\.0\\.0\\.1:${ports[0]}/`));
  assert.match(stdout, new RegExp(`OTLP/gRPC\\+HTTP  http://127\\.0\\.0\\.1:${ports[1]} `));
  assert.match(stdout, new RegExp(`OTLP/HTTP       http://127\\.0\\.0\\.1:${ports[2]}/v1/traces`));
});

test('the browser token logs in, with ?t= as Aspire links have it', async () => {
  assert.match(stdout, new RegExp(`login\\?token=${TOKEN}`));
  const res = await fetch(`${uiUrl()}/login?t=${TOKEN}`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.match(res.headers.get('set-cookie'), /^loupe_session=/);
  assert.equal((await fetch(`${uiUrl()}/api/v1/services`)).status, 401);
});

test('OTLP needs the primary key (AuthMode=ApiKey) on both ports', async () => {
  const srv = { grpcUrl: `http://127.0.0.1:${ports[1]}`, httpUrl: `http://127.0.0.1:${ports[2]}` };
  for (const protocol of ['grpc', 'http/protobuf']) {
    const keyed = exporters(srv, protocol, false, { 'x-otlp-api-key': KEY });
    const sent = await sendTraces(keyed, `aspire-${protocol.replace('/', '-')}`);
    assert.ok(sent.results.length > 0 && sent.results.every((r) => r.code === 0), `${protocol} with the key`);
    const bare = exporters(srv, protocol);
    // refused: a failed result, or the SDK's error naming the status
    let refused;
    try {
      refused = (await sendTraces(bare, 'aspire-no-key')).results.some((r) => r.code !== 0);
    } catch (e) {
      refused = /UNAUTHENTICATED|401|Unauthorized/i.test(String(e?.message || e));
    }
    assert.ok(refused, `${protocol} without the key is refused`);
    for (const e of [...Object.values(keyed), ...Object.values(bare)]) await e.shutdown().catch(() => {});
  }
  const auth = { authorization: `Bearer ${TOKEN}` };
  const services = await (await fetch(`${uiUrl()}/api/v1/services`, { headers: auth })).json();
  const names = services.services.map((s) => s.name).sort();
  assert.deepEqual(names, ['aspire-grpc', 'aspire-http-protobuf']);
});

test('MaxLogCount bounds the logs kept; an Aspire name without a loupe meaning is a warning', async () => {
  const srv = { httpUrl: `http://127.0.0.1:${ports[2]}` };
  const exp = exporters(srv, 'http/protobuf', false, { 'x-otlp-api-key': KEY });
  for (let i = 0; i < 4; i++) await sendLogs(exp, 'aspire-logs');
  for (const e of Object.values(exp)) await e.shutdown().catch(() => {});
  const metrics = await (await fetch(`${uiUrl()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const evicted = /^loupe_items_evicted_total\{signal="logs"\} (\d+)$/m.exec(metrics);
  assert.ok(evicted && Number(evicted[1]) > 0, 'logs past MaxLogCount=3 were evicted');
  assert.match(stderr, /level=warn event=aspire_setting_ignored name=DASHBOARD__TELEMETRYLIMITS__MAXMETRICSCOUNT/);
});
