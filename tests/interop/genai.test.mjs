// GET /api/v1/genai against figures computed here from the GenAI spans
// sent with the official JS SDK and OTLP exporter: calls, errors, tokens
// and latency per model, service and operation, the series per minute,
// the slowest and most expensive calls; the spans' conversations kept as
// sent (current attributes and older events); the rollup rebuilt by an
// import and dropped with its segment; bad parameters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';
import { SpanKind, WEATHER, currentAttributes, sendCalls, withTracer, genaiSpan } from './lib/genai.mjs';

const MIN = 60000;
// the start of a whole minute, a few minutes ago (ms)
const T0 = (Math.floor(Date.now() / MIN) - 8) * MIN;
const window = `start=${BigInt(T0) * 1000000n}&end=${BigInt(T0 + 5 * MIN) * 1000000n}&step=1m`;

// What is sent: [service, spec]. Minute 0: four gpt-4o chats (one failing,
// one with the current conversation attributes) and two tool executions;
// minute 1: two claude chats named with the older gen_ai.system and their
// conversation as older events, three embeddings of another service.
const CALLS = [
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 1000, durMs: 800, input: 100, output: 20, conv: WEATHER, finish: ['stop'] }],
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 2000, durMs: 1200, input: 300, output: 60 }],
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 3000, durMs: 2500, input: 1000, output: 0, error: true }],
  ['support-bot', { op: 'chat', provider: 'openai', model: 'gpt-4o', start: T0 + 4000, durMs: 400, input: 50, output: 10 }],
  ['support-bot', { op: 'execute_tool', name: 'execute_tool get_weather', start: T0 + 5000, durMs: 30, kind: SpanKind.INTERNAL, attrs: { 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.id': 'call_w1' } }],
  ['support-bot', { op: 'execute_tool', name: 'execute_tool get_weather', start: T0 + 6000, durMs: 45, kind: SpanKind.INTERNAL, attrs: { 'gen_ai.tool.name': 'get_weather' } }],
  ['support-bot', { op: 'chat', providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: T0 + MIN + 1000, durMs: 1500, input: 400, output: 120, conv: WEATHER, shape: 'events' }],
  ['support-bot', { op: 'chat', providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: T0 + MIN + 2000, durMs: 3000, input: 2000, output: 500, conv: WEATHER, shape: 'wrapped' }],
  ['indexer', { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: T0 + MIN + 3000, durMs: 50, input: 500 }],
  ['indexer', { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: T0 + MIN + 4000, durMs: 60, input: 700 }],
  ['indexer', { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: T0 + MIN + 5000, durMs: 70, input: 900 }],
];

let srv;
let exp;
const sent = []; // [{service, spec, traceId, spanId}]

before(async () => {
  srv = await startLoupe();
  exp = exporters(srv, 'http/protobuf');
  for (const service of ['support-bot', 'indexer']) {
    const mine = CALLS.filter(([s]) => s === service).map(([, c]) => c);
    const ids = await sendCalls(exp, service, mine);
    mine.forEach((spec, i) => sent.push({ service, spec, ...ids[i] }));
  }
});

after(async () => {
  for (const e of exp ? Object.values(exp) : []) await e.shutdown().catch(() => {});
  if (srv) await srv.stop();
});

// ---- the figures, computed from CALLS ---------------------------------------

const sum = (xs, f) => xs.reduce((n, x) => n + (f(x) || 0), 0);
const modelOf = (c) => c.model || '';
const providerOf = (c) => c.provider || '';

function quantile(ms, q) {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] * 1e6;
}
const near = (got, want, what) => assert.ok(Math.abs(got - want) / want <= 0.045, `${what}: ${got} vs ${want}`);

// calls, errors, tokens and percentiles of a group, as the API names them
function checkFigures(got, calls, what) {
  assert.equal(got.calls, calls.length, `${what}: calls`);
  assert.equal(got.errors, calls.filter((c) => c.error).length, `${what}: errors`);
  assert.equal(got.inputTokens, sum(calls, (c) => c.input), `${what}: input tokens`);
  assert.equal(got.outputTokens, sum(calls, (c) => c.output), `${what}: output tokens`);
  near(got.p50Ns, quantile(calls.map((c) => c.durMs), 0.5), `${what}: p50`);
  near(got.p99Ns, quantile(calls.map((c) => c.durMs), 0.99), `${what}: p99`);
}

function groupBy(f) {
  const m = new Map();
  for (const [service, c] of CALLS) {
    const k = f(service, c);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(c);
  }
  return m;
}

test('totals, series, models, services and operations are the sums of what was sent', async () => {
  const { status, body } = await getJson(srv, `/api/v1/genai?${window}`);
  assert.equal(status, 200);
  const all = CALLS.map(([, c]) => c);
  checkFigures(body.totals, all, 'totals');
  assert.equal(body.stepNs, 60e9);
  assert.equal(body.startTimeUnixNano, String(BigInt(T0) * 1000000n));
  // one step per minute that had calls
  assert.deepEqual(body.series.map((p) => [Number(BigInt(p.timeUnixNano) / 1000000n) - T0, p.calls]),
    [[0, 6], [MIN, 5]]);
  assert.equal(body.series[1].inputTokens, 400 + 2000 + 500 + 700 + 900);

  const models = groupBy((s, c) => `${providerOf(c)}/${modelOf(c)}`);
  assert.equal(body.models.length, models.size);
  for (const [k, calls] of models) {
    const got = body.models.find((m) => `${m.provider}/${m.model}` === k);
    assert.ok(got, `model ${k} listed`);
    checkFigures(got, calls, `model ${k}`);
  }
  // most calls first
  assert.deepEqual(body.models.slice(0, 2).map((m) => m.model), ['gpt-4o', 'text-embedding-3-small']);
  // the older gen_ai.system names the provider
  assert.equal(body.models.find((m) => m.model === 'claude-sonnet-4').provider, 'anthropic');
  const gpt = body.models.find((m) => m.model === 'gpt-4o');
  assert.deepEqual(gpt.series.map((p) => [p.calls, p.errors, p.inputTokens]), [[4, 1, 1450]]);

  const services = groupBy((s) => s);
  assert.deepEqual(body.services.map((s) => s.service), ['support-bot', 'indexer']);
  for (const [k, calls] of services) checkFigures(body.services.find((s) => s.service === k), calls, `service ${k}`);
  const ops = groupBy((s, c) => c.op);
  assert.equal(body.operations.length, ops.size);
  for (const [k, calls] of ops) checkFigures(body.operations.find((o) => o.operation === k), calls, `operation ${k}`);
});

test('the slowest and the most expensive calls, each with its trace', async () => {
  const { body } = await getJson(srv, `/api/v1/genai?${window}`);
  const bySpan = new Map(sent.map((x) => [x.spanId, x]));
  const slow = [...sent].sort((a, b) => b.spec.durMs - a.spec.durMs).slice(0, 10);
  assert.deepEqual(body.slowest.map((c) => c.spanId), slow.map((x) => x.spanId));
  for (const c of body.slowest) {
    const x = bySpan.get(c.spanId);
    assert.equal(c.traceId, x.traceId);
    assert.equal(c.durationNs, x.spec.durMs * 1e6);
    assert.equal(c.service, x.service);
    assert.equal(c.model, modelOf(x.spec));
    assert.equal(c.operation, x.spec.op);
    assert.equal(c.error, Boolean(x.spec.error));
    assert.equal(c.startTimeUnixNano, String(BigInt(x.spec.start) * 1000000n));
  }
  const tokens = (x) => (x.spec.input || 0) + (x.spec.output || 0);
  const dear = sent.filter((x) => tokens(x) > 0).sort((a, b) => tokens(b) - tokens(a));
  assert.equal(dear.length, 9); // tool calls carry no tokens
  assert.deepEqual(body.mostExpensive.map((c) => c.spanId), dear.map((x) => x.spanId));
  assert.deepEqual(body.mostExpensive.map((c) => c.inputTokens + c.outputTokens), dear.map(tokens));
  // each opens its trace: the span is there
  const first = body.slowest[0];
  const t = await getJson(srv, `/api/v1/traces/${first.traceId}`);
  assert.equal(t.status, 200);
  assert.ok(t.body.spans.some((s) => s.spanId === first.spanId && s.name === 'chat claude-sonnet-4'));
});

test('a window holds whole minutes: minute 1 alone', async () => {
  const start = BigInt(T0 + MIN) * 1000000n;
  const { body } = await getJson(srv, `/api/v1/genai?start=${start}&end=${start + 60000000000n}`);
  checkFigures(body.totals, CALLS.filter(([, c]) => c.start >= T0 + MIN).map(([, c]) => c), 'minute 1');
  assert.deepEqual(body.services.map((s) => s.service).sort(), ['indexer', 'support-bot']);
});

test('conversations are stored as sent: current attributes and older events', async () => {
  const cur = sent[0];
  const { body } = await getJson(srv, `/api/v1/traces/${cur.traceId}`);
  const span = body.spans.find((s) => s.spanId === cur.spanId);
  for (const [k, v] of Object.entries(currentAttributes(WEATHER))) assert.equal(span.attributes[k], v, k);
  assert.deepEqual(JSON.parse(span.attributes['gen_ai.input.messages'])[1].parts[0].arguments, { location: 'Paris', unit: 'celsius' });
  assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['stop']);
  const old = sent.find((x) => x.spec.shape === 'events');
  const t = await getJson(srv, `/api/v1/traces/${old.traceId}`);
  const events = t.body.spans.find((s) => s.spanId === old.spanId).events;
  assert.deepEqual(events.map((e) => e.name), ['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.assistant.message',
    'gen_ai.tool.message', 'gen_ai.choice']);
  assert.equal(events[1].attributes.content, WEATHER.turns[0].text);
  assert.equal(JSON.parse(events[2].attributes.tool_calls)[0].function.name, 'get_weather');
  assert.equal(JSON.parse(events[4].attributes.message).content, WEATHER.answer);
});

test('an import rebuilds the rollup: the same answer from a second loupe', async () => {
  const exported = await (await fetch(`${srv.uiUrl}/api/v1/export?signal=traces`)).text();
  const two = await startLoupe();
  try {
    const r = await fetch(`${two.uiUrl}/api/v1/import`, { method: 'POST', body: exported });
    assert.equal(r.status, 200, await r.text());
    const a = (await getJson(srv, `/api/v1/genai?${window}`)).body;
    const b = (await getJson(two, `/api/v1/genai?${window}`)).body;
    assert.deepEqual(b, a);
  } finally {
    await two.stop();
  }
});

test('the rollup goes with its segment when retention drops it', async () => {
  // segments of 10 spans (a tenth of --max-spans 100): the first batch's
  // 10 GenAI spans fill one; 100 more spans later it is dropped whole
  const small = await startLoupe({ args: ['--max-spans', '100'] });
  const e = exporters(small, 'http/protobuf');
  try {
    await withTracer(e, 'bot', (tracer) => {
      for (let i = 0; i < 10; i++) genaiSpan(tracer, { model: 'gpt-4o', provider: 'openai', start: T0 + i * 1000, durMs: 100, input: 10, output: 1 });
    });
    let body = (await getJson(small, `/api/v1/genai?${window}`)).body;
    assert.equal(body.totals.calls, 10);
    assert.equal(body.slowest.length, 10);
    for (let k = 0; k < 10; k++) {
      await withTracer(e, 'other', (tracer) => {
        for (let i = 0; i < 10; i++) tracer.startSpan('GET /x', { startTime: new Date(T0 + 3 * MIN) }).end(new Date(T0 + 3 * MIN + 5));
      });
    }
    body = (await getJson(small, `/api/v1/genai?${window}`)).body;
    assert.equal(body.totals.calls, 0);
    assert.deepEqual([body.models, body.slowest, body.mostExpensive], [[], [], []]);
  } finally {
    for (const x of Object.values(e)) await x.shutdown().catch(() => {});
    await small.stop();
  }
});

test('bad parameters are 400s that name them', async () => {
  for (const [q, word] of [['step=0.5x', 'step'], ['start=yesterday', 'start'], [`start=${T0}000000&end=${T0}000000`, 'end'],
    ['start=0&step=1ns', 'step']]) {
    const { status, body } = await getJson(srv, `/api/v1/genai?${q}`);
    assert.equal(status, 400, q);
    assert.match(body.error.message, new RegExp(`'${word}'`), q);
  }
  const r = await fetch(`${srv.uiUrl}/api/v1/genai`, { method: 'DELETE' });
  assert.equal(r.status, 405);
});
