// The MCP endpoint (/mcp) with the official MCP TypeScript SDK client
// (Client + StreamableHTTPClientTransport): the handshake, the tools and
// their answers on telemetry sent by the official OpenTelemetry exporters,
// the answers' size bound, and the transport's refusals (credentials,
// Origin, malformed JSON-RPC, oversized bodies) with raw requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startLoupe } from './lib/server.mjs';
import { rawExchange } from './lib/rawhttp.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';

const TOKEN = 'mcp-test-token-0123456789';
const SERVICE = 'mcp-shop';
let srv;
let client;
let sent; // what the exporters sent: {traceId, spans, records}

async function connect(s, headers = { Authorization: `Bearer ${TOKEN}` }) {
  const transport = new StreamableHTTPClientTransport(new URL(`${s.uiUrl}/mcp`), {
    requestInit: { headers },
  });
  const c = new Client({ name: 'loupe-interop', version: '1.0.0' });
  await c.connect(transport);
  return { c, transport };
}

function text(result) {
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

async function call(name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  return { text: text(r), isError: r.isError === true };
}

// A raw POST to /mcp.
function post(body, headers = {}) {
  return fetch(`${srv.uiUrl}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// OTLP JSON spans of one trace: n spans with long names, for the size bound.
async function sendWideTrace(s, traceId, n) {
  const now = BigInt(Date.now()) * 1000000n;
  const spans = [];
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId, spanId: (0x1000 + i).toString(16).padStart(16, '0'),
      parentSpanId: i === 0 ? '' : '0000000000001000',
      name: `step ${i} ${'x'.repeat(120)}`, kind: 1,
      startTimeUnixNano: String(now + BigInt(i) * 1000n), endTimeUnixNano: String(now + BigInt(i) * 1000n + 500n),
    });
  }
  const res = await fetch(`${s.httpUrl}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'wide' } }] }, scopeSpans: [{ spans }] }] }),
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  srv = await startLoupe({ auth: true, token: TOKEN });
  const exp = exporters(srv, 'http/protobuf');
  const t = await sendTraces(exp, SERVICE);
  const l = await sendLogs(exp, SERVICE, { traceSpan: t.rootSpan });
  await sendMetrics(exp, SERVICE);
  sent = { traceId: t.traceId, spans: t.spans, records: l.records };
  ({ c: client } = await connect(srv));
});

after(async () => {
  if (client) await client.close();
  if (srv) assert.equal((await srv.stop()).code, 0);
});

test('the SDK client connects: latest protocol revision, server info, no session', async () => {
  const info = client.getServerVersion();
  assert.equal(info.name, 'loupe');
  assert.match(info.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(client.getServerCapabilities().tools, { listChanged: false });
  assert.match(client.getInstructions(), /list_services/);
  // stateless: no Mcp-Session-Id was issued
  const { c, transport } = await connect(srv);
  assert.equal(transport.sessionId, undefined);
  assert.equal(transport.protocolVersion, '2025-11-25');
  await c.ping();
  await c.close();
});

test('tools/list names every tool with an object input schema and read-only hints', async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['get_metric', 'get_trace', 'ingest_requests', 'lint', 'list_errors', 'list_services',
    'search_logs', 'search_traces', 'service_map']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal(typeof t.description, 'string');
    assert.ok(t.description.length > 20, t.name);
    assert.equal(t.annotations.readOnlyHint, true);
  }
  const get = tools.find((t) => t.name === 'get_trace');
  assert.deepEqual(get.inputSchema.required, ['traceId']);
  const search = tools.find((t) => t.name === 'search_traces');
  assert.deepEqual(search.inputSchema.properties.status.enum, ['error', 'ok', 'unset']);
  assert.equal(search.inputSchema.properties.attrs.type, 'array');
});

// GET on the JSON API with the test's token.
async function api(path) {
  const res = await fetch(`${srv.uiUrl}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, path);
  return res.json();
}

test('list_services counts the requests, spans, errors and logs sent, with rate and percentiles', async () => {
  const r = await call('list_services');
  assert.equal(r.isError, false);
  const line = r.text.split('\n').find((l) => l.startsWith(`- ${SERVICE}:`));
  assert.ok(line, r.text);
  // the SERVER root and the CONSUMER span are the service's requests, neither failed
  assert.match(line, /^- mcp-shop: 2 requests \([0-9.e+-]+\/s\), 0 failed \(0\.0%\), p50 \S+, p99 \S+;/);
  assert.match(line, new RegExp(`${sent.spans.length} spans, 1 error spans`));
  assert.match(line, new RegExp(`${sent.records.length} log records`));
  assert.match(line, /instances: mcp-shop-1/);
  const svc = (await api('/api/v1/services')).services.find((s) => s.name === SERVICE);
  assert.equal(svc.requests, 2);
  // a window before anything was sent lists nothing
  const none = await call('list_services', { start: '2001-01-01T00:00:00Z', end: '2001-01-01T01:00:00Z' });
  assert.equal(none.isError, false);
  assert.match(none.text, /^0 services with telemetry in from 2001-01-01T00:00:00/);
});

test('search_traces finds the trace by service, status, attribute and text, one line each', async () => {
  for (const args of [{ service: SERVICE }, { status: 'error' }, { attrs: ['http.request.method=GET'] },
    { q: 'SELECT' }, { name: 'charge card', since: '1h' }, { minDuration: '1ns' }]) {
    const r = await call('search_traces', args);
    assert.equal(r.isError, false, JSON.stringify(args));
    assert.match(r.text, /^1 traces \(newest first/, JSON.stringify(args));
    assert.ok(r.text.includes(sent.traceId), JSON.stringify(args));
    assert.match(r.text, /GET \/checkout/);
    assert.match(r.text, /5 spans, 1 error /);
  }
  const none = await call('search_traces', { service: 'no-such-service' });
  assert.match(none.text, /^0 traces/);
  assert.ok(!none.text.includes(sent.traceId));
});

test('bad arguments are tool errors that name the argument', async () => {
  let r = await call('search_traces', { status: 'broken' });
  assert.equal(r.isError, true);
  assert.match(r.text, /'status'/);
  r = await call('search_traces', { servce: 'typo' });
  assert.equal(r.isError, true);
  assert.match(r.text, /Unknown argument 'servce'.*service/);
  r = await call('search_logs', { limit: 5000 });
  assert.equal(r.isError, true);
  assert.match(r.text, /'limit' must be an integer from 1 to 200/);
  r = await call('search_traces', { since: 'yesterday' });
  assert.equal(r.isError, true);
  assert.match(r.text, /'since'/);
  r = await call('get_trace', { traceId: 'nothex' });
  assert.equal(r.isError, true);
  assert.match(r.text, /traceId/);
  r = await call('get_trace', { traceId: '0123456789abcdef0123456789abcdef' });
  assert.equal(r.isError, true);
  assert.match(r.text, /not found/);
});

test('get_trace draws the tree with errors, slowest spans and the critical path', async () => {
  const r = await call('get_trace', { traceId: sent.traceId });
  assert.equal(r.isError, false);
  assert.match(r.text, new RegExp(`^Trace ${sent.traceId}: 5 spans, 1 services \\(${SERVICE}\\), 1 error spans`));
  assert.match(r.text, /Root span: mcp-shop: GET \/checkout \(SERVER\)/);
  assert.match(r.text, /charge card .*card declined \(exception Error: card declined\)/);
  assert.match(r.text, /Slowest spans/);
  // the critical path as the analysis API computes it: each operation on it, with its time
  const an = await api(`/api/v1/traces/${sent.traceId}/analysis`);
  const crit = r.text.split('Critical path: ')[1].split('Span tree')[0];
  const onPath = an.stats.filter((s) => s.criticalNs > 0);
  assert.ok(onPath.length >= 1);
  for (const s of onPath) {
    assert.match(crit, new RegExp(`^- ${SERVICE}: ${s.name}: \\S+ on the path \\(${(100 * s.criticalNs / an.criticalPathNs).toFixed(1)}%\\)`, 'm'), s.name);
  }
  for (const s of an.stats.filter((x) => x.criticalNs === 0)) assert.ok(!crit.includes(`: ${s.name}: `), s.name);
  const segs = crit.split('The path in time order')[1].split('\n').filter((l) => l.startsWith('- +'));
  assert.equal(segs.length, Math.min(an.criticalPath.length, 12));
  assert.ok(segs[0].endsWith(`(span ${an.criticalPath[0].spanId})`), segs[0]);
  // the tree: children indented under their parents, every span once
  const tree = r.text.split('Span tree')[1].split('\n').filter((l) => /^\s*- \+/.test(l));
  assert.equal(tree.length, 5);
  assert.match(tree[0], /^- \+0ns .*GET \/checkout \[SERVER/);
  assert.ok(tree.some((l) => /^ {4}- .*parse rows \[INTERNAL/.test(l)), r.text);
  for (const s of sent.spans) assert.ok(r.text.includes(s.spanContext().spanId), s.name);
});

test('get_trace with spanId shows one span with its attributes, events and children', async () => {
  const root = sent.spans.find((s) => s.name === 'GET /checkout');
  const r = await call('get_trace', { traceId: sent.traceId, spanId: root.spanContext().spanId });
  assert.equal(r.isError, false);
  assert.match(r.text, /parent none \(a root span\)/);
  assert.match(r.text, /Attributes: .*http\.request\.method=GET/);
  assert.match(r.text, /http\.response\.status_code=200/);
  assert.match(r.text, /Resource: .*service\.name=mcp-shop/);
  assert.match(r.text, /Events \(1\):\n- \+\S+ request\.received \{bytes=512 note=first\}/);
  assert.match(r.text, /Children \(3\):/);
});

test('search_logs finds records by severity, text and trace id', async () => {
  let r = await call('search_logs', { service: SERVICE, minSeverity: 'error' });
  assert.equal(r.isError, false);
  assert.match(r.text, /^3 log records/);
  assert.match(r.text, /ERROR mcp-shop: message at ERROR/);
  assert.match(r.text, /FATAL mcp-shop: message at FATAL/);
  assert.match(r.text, /structured body/);
  r = await call('search_logs', { traceId: sent.traceId });
  assert.match(r.text, /^1 log records/);
  assert.ok(r.text.includes(`trace=${sent.traceId}`));
  r = await call('search_logs', { q: 'WARN', limit: 1 });
  assert.match(r.text, /message at WARN/);
  r = await call('search_logs', { limit: 2 });
  assert.match(r.text, /More log records match: call again with cursor="[0-9a-f]+"/);
  const cursor = /cursor="([^"]+)"/.exec(r.text)[1];
  const next = await call('search_logs', { limit: 2, cursor });
  assert.equal(next.isError, false);
  assert.notEqual(next.text, r.text);
});

test('list_errors groups error spans and error logs with counts and example traces', async () => {
  const r = await call('list_errors', { since: '1h' });
  assert.equal(r.isError, false);
  assert.match(r.text, /Error spans \(status ERROR\): 1 in the 1 newest traces/);
  assert.match(r.text, /- 1x card declined \(exception Error: card declined\) \| service mcp-shop \| spans charge card/);
  assert.ok(r.text.includes(`example traces: ${sent.traceId}`));
  assert.match(r.text, /Error logs \(severity ERROR or worse\): 3/);
  assert.match(r.text, /1x "message at FATAL ✓"/);
  const other = await call('list_errors', { service: 'no-such-service' });
  assert.match(other.text, /Error spans \(status ERROR\): 0/);
});

test('service_map names each call between services and the database called, as the API counts them', async () => {
  // a second service calling mcp-shop in a trace of its own (OTLP JSON, parent across services)
  const tid = 'a1'.repeat(16);
  const now = BigInt(Date.now()) * 1000000n;
  const res = await fetch(`${srv.httpUrl}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mcp-web' } }] },
        scopeSpans: [{ spans: [{ traceId: tid, spanId: '00000000000000a1', name: 'GET /', kind: 2,
          startTimeUnixNano: String(now), endTimeUnixNano: String(now + 9000000n) },
        { traceId: tid, spanId: '00000000000000a2', parentSpanId: '00000000000000a1', name: 'call shop', kind: 3,
          startTimeUnixNano: String(now + 1000000n), endTimeUnixNano: String(now + 8000000n) }] }] },
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
        scopeSpans: [{ spans: [{ traceId: tid, spanId: '00000000000000a3', parentSpanId: '00000000000000a2',
          name: 'POST /pay', kind: 2, status: { code: 2 },
          startTimeUnixNano: String(now + 2000000n), endTimeUnixNano: String(now + 7000000n) }] }] },
    ] }),
  });
  assert.equal(res.status, 200);
  const map = await api('/api/v1/service-map');
  assert.ok(map.edges.some((e) => e.source === 'mcp-web' && e.target === SERVICE && e.calls === 1 && e.errors === 1),
    JSON.stringify(map.edges));
  assert.ok(map.edges.some((e) => e.source === SERVICE && e.target.startsWith('database:postgresql')), JSON.stringify(map.edges));
  const r = await call('service_map');
  assert.equal(r.isError, false);
  assert.match(r.text, new RegExp(`^${map.edges.length} calls between services in all stored data`));
  for (const e of map.edges) {
    const fail = e.calls ? (100 * e.errors / e.calls).toFixed(1) : '0.0';
    assert.ok(r.text.includes(`- ${e.source} -> ${e.target}: ${e.calls} calls, ${e.errors} failed (${fail}%)`), `${e.source} -> ${e.target}\n${r.text}`);
  }
  for (const n of map.nodes) assert.ok(r.text.includes(`- ${n.id} (${n.kind}): `), n.id);
  // around one service: only its calls and neighbours
  const web = await call('service_map', { service: 'mcp-web' });
  assert.match(web.text, /^1 calls between services to and from mcp-web/);
  assert.ok(web.text.includes(`- mcp-web -> ${SERVICE}: 1 calls, 1 failed (100.0%)`), web.text);
  assert.ok(!web.text.includes('database:'), web.text);
  const unknown = await call('service_map', { service: 'no-such-service' });
  assert.equal(unknown.isError, false);
  assert.match(unknown.text, /No service named no-such-service/);
  const bad = await call('service_map', { since: 'soon' });
  assert.equal(bad.isError, true);
  assert.match(bad.text, /'since'/);
});

test('get_metric lists the metrics and sums up a histogram, a counter and a gauge', async () => {
  let r = await call('get_metric');
  assert.equal(r.isError, false);
  for (const m of ['http.server.duration: histogram', 'http.server.requests: monotonic sum',
    'queue.depth: sum', 'process.memory.usage: gauge']) assert.ok(r.text.includes(m), m);
  r = await call('get_metric', { name: 'http.server.duration', service: SERVICE });
  assert.equal(r.isError, false);
  // five values 0.005, 0.02, 0.02, 0.3, 1.2 were recorded once
  assert.match(r.text, /\{route=\/a\} service=mcp-shop: .*count 5, sum 1\.545, mean 0\.309, min 0\.005, max 1\.2; p50 \S+, p90 \S+, p99 \S+/);
  r = await call('get_metric', { name: 'http.server.requests', groupBy: ['route'] });
  assert.match(r.text, /\{route=\/a\}.*running total 3/);
  assert.match(r.text, /\{route=\/b\}.*running total 5/);
  r = await call('get_metric', { name: 'process.memory.usage' });
  assert.match(r.text, /last 123456789, min 123456789, max 123456789/);
  r = await call('get_metric', { name: 'no.such.metric' });
  assert.equal(r.isError, true);
  assert.match(r.text, /no metric named no\.such\.metric/);
  assert.ok(r.text.includes('http.server.duration'), 'the known metrics are listed');
});

test('answers stay under 20,000 characters and say what was left out', async () => {
  const wideId = 'abcdef0123456789abcdef0123456789';
  await sendWideTrace(srv, wideId, 400);
  const r = await call('get_trace', { traceId: wideId });
  assert.equal(r.isError, false);
  assert.ok(r.text.length <= 20000, `${r.text.length} characters`);
  assert.match(r.text, /\[\d+ more spans not shown: the answer is capped at 20000 characters\. Call get_trace with spanId/);
  const tree = r.text.split('Span tree')[1];
  const shown = tree.split('\n').filter((l) => /step \d+/.test(l) && /^\s*- \+/.test(l)).length;
  const left = Number(/\[(\d+) more spans/.exec(r.text)[1]);
  assert.equal(shown + left, 400);
});

test('requests without the token are refused with 401', async () => {
  const res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { Authorization: '' });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  const wrong = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { Authorization: 'Bearer wrong-token-0123456789' });
  assert.equal(wrong.status, 401);
  await assert.rejects(connect(srv, {}), /401|Unauthorized/i);
});

test('an Origin that is not loopback or this server is refused with 403 before anything else', async () => {
  for (const origin of ['http://evil.example', 'https://attacker.test:18888', 'null', 'http://127.0.0.1.nip.io']) {
    const res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { Origin: origin, Authorization: '' });
    assert.equal(res.status, 403, origin);
    const body = await res.json();
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.id, null);
  }
  for (const origin of ['http://localhost:5173', `http://127.0.0.1:${srv.uiPort}`, 'http://[::1]:3000']) {
    const res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { Origin: origin });
    assert.equal(res.status, 200, origin);
  }
});

test('ingest_requests: requests of the exporters, a refusal with what to do, the clients', async () => {
  const bad = await fetch(`${srv.httpUrl}/v1/logs`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'mcp-test-agent/1' }, body: '{"resourceLogs":',
  });
  assert.equal(bad.status, 400);
  let r = await call('ingest_requests', { limit: 200 });
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /^\d+ export requests, newest first \(loupe keeps the last 1000 in memory\)/);
  assert.match(r.text, new RegExp(`- #\\d+ \\S+ ok \\(HTTP 200\\) http/protobuf traces: \\d+ items \\(0 rejected\\), .* service ${SERVICE}, `));
  assert.match(r.text, /client 127\.0\.0\.1 "OTel-OTLP-Exporter-JavaScript\//);
  r = await call('ingest_requests', { outcome: 'error', transport: 'http' });
  assert.match(r.text, /^1 export requests/);
  assert.match(r.text, /error \(HTTP 400\) http\/json logs: 0 items/);
  assert.match(r.text, /"mcp-test-agent\/1"/);
  assert.match(r.text, /\n {2}what to do: 400: the body is not a valid OTLP JSON export request/);
  r = await call('ingest_requests', { service: 'nobody' });
  assert.match(r.text, /^0 export requests[^\n]*\nNone match\./);
  r = await call('ingest_requests', { view: 'clients' });
  assert.match(r.text, /^\d+ clients \(a client is an address, user agent, service and SDK\)/);
  assert.match(r.text, new RegExp(`- 127\\.0\\.0\\.1 "OTel-OTLP-Exporter-JavaScript/[^"]*": service ${SERVICE}, `));
  assert.match(r.text, /"mcp-test-agent\/1": service \(no service.name\), unknown SDK, via http\/json: 1 requests, 0 items, 1 refused/);
  r = await call('ingest_requests', { outcome: 'fine' });
  assert.equal(r.isError, true);
  assert.match(r.text, /'outcome'/);
});

test('malformed JSON-RPC gets JSON-RPC errors', async () => {
  const cases = [
    ['{"jsonrpc":"2.0","id":1,', 400, -32700, null],
    [{ jsonrpc: '1.0', id: 7, method: 'ping' }, 400, -32600, 7],
    [{ jsonrpc: '2.0', id: 8 }, 400, -32600, 8],
    [{ jsonrpc: '2.0', id: null, method: 'ping' }, 400, -32600, null],
    [{ jsonrpc: '2.0', id: 9, method: 'ping', params: [1] }, 400, -32600, 9],
    ['"just a string"', 400, -32600, null],
    [{ jsonrpc: '2.0', id: 10, method: 'resources/list' }, 200, -32601, 10],
    [{ jsonrpc: '2.0', id: 11, method: 'tools/call', params: {} }, 200, -32602, 11],
    [{ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'nope' } }, 200, -32602, 'x'],
    [{ jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'list_services', arguments: [] } }, 200, -32602, 12],
    [{ jsonrpc: '2.0', id: 13, method: 'initialize', params: {} }, 200, -32602, 13],
  ];
  for (const [body, status, code, id] of cases) {
    const res = await post(body, { 'MCP-Protocol-Version': '2025-11-25' });
    assert.equal(res.status, status, JSON.stringify(body));
    const j = await res.json();
    assert.equal(j.jsonrpc, '2.0');
    assert.equal(j.error.code, code, JSON.stringify(body));
    assert.deepEqual(j.id, id);
  }
});

test('protocol versions, batches and notifications follow the revision', async () => {
  // negotiation: a supported version is kept, an unknown one gets the latest
  for (const [asked, got] of [['2025-06-18', '2025-06-18'], ['2025-03-26', '2025-03-26'], ['2099-01-01', '2025-11-25']]) {
    const res = await post({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: asked, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).result.protocolVersion, got);
  }
  let res = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'MCP-Protocol-Version': '2025-11-25' });
  assert.equal(res.status, 202);
  assert.equal(await res.text(), '');
  res = await post({ jsonrpc: '2.0', id: 3, result: {} }, { 'MCP-Protocol-Version': '2025-11-25' });
  assert.equal(res.status, 202);
  res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'MCP-Protocol-Version': '1999-01-01' });
  assert.equal(res.status, 400);
  // batches: not since 2025-06-18; under 2025-03-26 (also when the header is absent) each is answered
  const batch = [{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'nope' }, 5];
  res = await post(batch, { 'MCP-Protocol-Version': '2025-06-18' });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, -32600);
  for (const headers of [{ 'MCP-Protocol-Version': '2025-03-26' }, {}]) {
    res = await post(batch, headers);
    assert.equal(res.status, 200);
    const answers = await res.json();
    assert.equal(answers.length, 3);
    assert.deepEqual(answers[0], { jsonrpc: '2.0', id: 1, result: {} });
    assert.equal(answers[1].error.code, -32601);
    assert.equal(answers[2].error.code, -32600);
  }
  res = await post([], {});
  assert.equal(res.status, 400);
  res = await post([{ jsonrpc: '2.0', method: 'notifications/initialized' }], {});
  assert.equal(res.status, 202);
});

test('other methods, media types and Accept values are refused by the transport', async () => {
  let res = await fetch(`${srv.uiUrl}/mcp`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'text/event-stream' } });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
  res = await fetch(`${srv.uiUrl}/mcp`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 405);
  res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'Content-Type': 'text/plain' });
  assert.equal(res.status, 415);
  res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { Accept: 'text/html' });
  assert.equal(res.status, 406);
});

test('an oversized body is refused with 413, announced or chunked, and the server stays up', async () => {
  // announced: answered from the headers, before any body is sent (a client
  // still sending would see its connection closed under it)
  const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
    'Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n';
  const raw = await rawExchange('127.0.0.1', srv.uiPort, head);
  assert.equal(raw.status, 413);
  assert.equal(JSON.parse(raw.body.toString('utf8')).error.code, -32000);
  // chunked: the length is only known once the body has come
  const chunk = Buffer.alloc(64 << 10, 0x20);
  let sentBytes = 0;
  const stream = new ReadableStream({
    pull(ctrl) {
      if (sentBytes >= (1536 << 10)) { ctrl.close(); return; }
      sentBytes += chunk.length;
      ctrl.enqueue(chunk);
    },
  });
  let res = await fetch(`${srv.uiUrl}/mcp`, {
    method: 'POST', duplex: 'half', body: stream,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  });
  assert.equal(res.status, 413);
  res = await post({ jsonrpc: '2.0', id: 2, method: 'ping' });
  assert.equal(res.status, 200);
});

test('with --ui-auth none the endpoint needs no token', async () => {
  const open = await startLoupe();
  try {
    const { c } = await connect(open, {});
    const r = await c.callTool({ name: 'list_services', arguments: {} });
    assert.match(text(r), /^0 services/);
    await c.close();
  } finally {
    assert.equal((await open.stop()).code, 0);
  }
});
