// The GenAI views in Chromium: a GenAI span's conversation in the span
// panel (current attributes, older events on the span or as its log
// records), long content folded, hostile message content shown as text;
// the GenAI page's figures, tables and links to the calls' traces; and the
// screenshots genai-THEME and conversation-THEME. Telemetry comes from the
// official JS SDK and OTLP exporters (tests/interop/lib/genai.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, onePageAtATime, openPage, screenshot, settled, startServer, tearDown } from './lib/browser.mjs';
import { exporters } from './lib/senders.mjs';
import { getJson } from '../interop/lib/server.mjs';
import { SpanKind, WEATHER, currentAttributes, genaiSpan, sendOlderLogEvents, withTracer } from '../interop/lib/genai.mjs';

const SCRIPT = '<script>alert("xss-genai")</script>';
const IMG = '"><img src=x onerror=alert("xss-img")>';
const MARKDOWN = '**bold** and [click me](javascript:alert("xss-md")) and <b onmouseover=alert(4)>b</b>';
const LONG = `${'The forecast, hour by hour. '.repeat(120)}End of forecast.`;
const HOSTILE = {
  system: `Ignore this: ${SCRIPT}`,
  turns: [
    { role: 'user', text: `Hello ${IMG}\n${MARKDOWN}` },
    { role: 'assistant', toolCall: { id: `call_${IMG}`, name: `get_${SCRIPT}`, arguments: { q: IMG, html: '<iframe src="javascript:alert(5)">' } } },
    { role: 'tool', toolResult: { id: `call_${IMG}`, result: `${SCRIPT} ${MARKDOWN}` } },
  ],
  answer: `Sure! ${MARKDOWN} ${SCRIPT} ${IMG}`,
  finish: 'stop',
};
// the weather conversation with a long answer, for folding
const LONG_CONV = { ...WEATHER, answer: LONG };

let srv;
let browser;
let exp;
const pages = onePageAtATime();
const ids = {};
let sentCalls = 0;

// An agent request: POST /chat > chat (asks for the tool) > execute_tool >
// chat (the answer, with the whole conversation in the current shape).
function agentTrace(tracer, base, { conv = WEATHER, model = 'gpt-4o', slow = 1, error = false } = {}) {
  const root = tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: new Date(base) });
  const first = genaiSpan(tracer, {
    model, responseModel: `${model}-2024-08-06`, provider: 'openai', start: base + 5, durMs: Math.round(620 * slow),
    input: 412, output: 18, finish: ['tool_call'], error,
  }, root);
  const tool = genaiSpan(tracer, {
    op: 'execute_tool', name: 'execute_tool get_weather', kind: SpanKind.INTERNAL, start: base + 640 * slow, durMs: 35,
    attrs: {
      'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.id': 'call_w1',
      'gen_ai.tool.call.arguments': JSON.stringify({ location: 'Paris', unit: 'celsius' }),
      'gen_ai.tool.call.result': JSON.stringify({ temperature: 14, conditions: 'light rain' }),
    },
  }, root);
  const answer = genaiSpan(tracer, {
    model, responseModel: `${model}-2024-08-06`, provider: 'openai', start: base + 700 * slow, durMs: Math.round(900 * slow),
    input: 455, output: 37, finish: ['stop'], conv,
  }, root);
  root.end(new Date(base + 1700 * slow));
  sentCalls += 3;
  const id = (s) => s.spanContext().spanId;
  return { traceId: root.spanContext().traceId, first: id(first), tool: id(tool), answer: id(answer) };
}

before(async () => {
  srv = await startServer();
  exp = exporters(srv, 'http/protobuf');
  browser = await launch();
  const now = Date.now();
  // half an hour of a support bot, a helpdesk on claude (older events) and
  // an indexer making embeddings
  await withTracer(exp, 'support-bot', (tracer) => {
    for (let m = 30; m >= 1; m--) {
      const t = agentTrace(tracer, now - m * 60000, { slow: 1 + ((m * 7) % 5) / 4, model: m % 3 ? 'gpt-4o' : 'gpt-4o-mini', error: m === 9 });
      if (m === 2) ids.agent = t;
    }
    ids.long = agentTrace(tracer, now - 50000, { conv: LONG_CONV });
    ids.hostile = agentTrace(tracer, now - 40000, { conv: HOSTILE });
  });
  await withTracer(exp, 'helpdesk', (tracer) => {
    for (let m = 28; m >= 1; m -= 3) {
      const s = genaiSpan(tracer, {
        providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: now - m * 60000 + 20000,
        durMs: 1400 + (m % 4) * 700, input: 900 + m * 10, output: 240, conv: WEATHER, shape: m % 2 ? 'events' : 'wrapped',
      });
      sentCalls++;
      if (m === 1) ids.older = { traceId: s.spanContext().traceId, span: s.spanContext().spanId };
      if (m === 4) ids.wrapped = { traceId: s.spanContext().traceId, span: s.spanContext().spanId };
    }
    // two hours ago: outside the last hour of the other tests and the screenshots
    const hs = genaiSpan(tracer, {
      providerKey: 'gen_ai.system', provider: `anthropic${IMG}`, model: `claude-${SCRIPT}`, start: now - 7200000, durMs: 800,
      input: 50, output: 9, conv: HOSTILE, shape: 'events',
    });
    ids.hostileOlder = { traceId: hs.spanContext().traceId, span: hs.spanContext().spanId };
  });
  // the older events as log records of a span (no events on the span)
  ids.logs = await withTracer(exp, 'helpdesk', (tracer) => {
    const s = genaiSpan(tracer, { providerKey: 'gen_ai.system', provider: 'anthropic', model: 'claude-sonnet-4', start: now - 20000, durMs: 700, input: 60, output: 12 });
    return { traceId: s.spanContext().traceId, span: s.spanContext().spanId, obj: s };
  });
  sentCalls++;
  await sendOlderLogEvents(exp, 'helpdesk', ids.logs.obj, WEATHER, 'anthropic');
  await withTracer(exp, 'indexer', (tracer) => {
    for (let m = 30; m >= 1; m--) {
      genaiSpan(tracer, { op: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', start: now - m * 60000 + 30000, durMs: 40 + (m % 6) * 9, input: 800 + (m % 5) * 120 });
      sentCalls++;
    }
  });
});

after(() => tearDown({ pages, browser, exp, srv }));

const open = (path, opts) => pages.open(browser, srv.uiUrl + path, opts);

// The conversation the panel shows: [{role, texts, finish}] per message.
async function conversation(page) {
  const section = page.getByTestId('genai-section');
  await section.waitFor();
  return section.getByTestId('msg').evaluateAll((lis) => lis.map((li) => ({
    role: li.querySelector('[data-testid="msg-role"]').textContent,
    texts: [...li.querySelectorAll('[data-testid="msg-text"]')].map((t) => t.textContent),
    toolCall: (li.querySelector('[data-testid="tool-call"] strong') || {}).textContent || null,
    finish: (li.querySelector('[data-testid="msg-finish"]') || {}).textContent || null,
    output: li.classList.contains('msg-output'),
  })));
}

const pretty = (v) => JSON.stringify(v, null, 2);

// The weather conversation, as the panel must show it.
function assertWeather(msgs, conv = WEATHER) {
  assert.deepEqual(msgs.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant']);
  assert.deepEqual(msgs[0].texts, [conv.system]);
  assert.deepEqual(msgs[1].texts, [conv.turns[0].text]);
  assert.equal(msgs[2].toolCall, 'get_weather');
  assert.deepEqual(msgs[2].texts, [pretty(conv.turns[1].toolCall.arguments)]);
  assert.deepEqual(msgs[3].texts, [pretty(conv.turns[2].toolResult.result)]);
  assert.deepEqual(msgs[4].texts, [conv.answer]);
  assert.equal(msgs[4].finish, 'finish: stop');
  assert.deepEqual(msgs.map((m) => m.output), [false, false, false, false, true]);
}

async function facts(page) {
  return page.getByTestId('genai-facts').evaluate((dl) => Object.fromEntries([...dl.querySelectorAll('dd')].map((dd) => [dd.dataset.fact, dd.textContent])));
}

// Nothing from the messages became markup or ran.
async function assertInert(page, rec) {
  assert.deepEqual(rec.dialogs, [], 'no dialog opened');
  assert.deepEqual(rec.errors, [], 'no page errors');
  const injected = await page.evaluate(() => ({
    img: document.querySelectorAll('img[src="x"], img[onerror]').length,
    iframe: document.querySelectorAll('iframe').length,
    b: document.querySelectorAll('b').length,
    markdown: [...document.querySelectorAll('strong, em')].filter((e) => e.textContent === 'bold').length,
    js: document.querySelectorAll('a[href^="javascript"]').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
  }));
  assert.deepEqual(injected, { img: 0, iframe: 0, b: 0, markdown: 0, js: 0, scripts: 0, handlers: 0 });
}

test('a chat span shows its conversation, model, tokens and finish reason (current attributes)', async () => {
  const { page, rec } = await open(`/traces/${ids.agent.traceId}?span=${ids.agent.answer}`);
  assertWeather(await conversation(page));
  assert.deepEqual(await facts(page), {
    operation: 'chat', provider: 'openai', model: 'gpt-4o → gpt-4o-2024-08-06', tokens: '455 in · 37 out', finish: 'stop',
  });
  // the first call of the request asked for the tool: no messages recorded
  await page.locator(`.span-row[data-span-id="${ids.agent.first}"]`).click();
  await page.getByTestId('genai-facts').filter({ hasText: 'tool_call' }).waitFor();
  assert.equal(await page.getByTestId('msg').count(), 0);
  // the tool's execution: its arguments and result
  await page.locator(`.span-row[data-span-id="${ids.agent.tool}"]`).click();
  const exec = page.getByTestId('tool-exec');
  await exec.waitFor();
  assert.equal(await exec.locator('strong').textContent(), 'get_weather');
  assert.deepEqual(await exec.getByTestId('msg-text').allTextContents(),
    [pretty({ location: 'Paris', unit: 'celsius' }), pretty({ temperature: 14, conditions: 'light rain' })]);
  // other spans have no conversation
  await page.locator('.span-row').first().click();
  await page.getByTestId('span-name').filter({ hasText: 'POST /chat' }).waitFor();
  assert.equal(await page.getByTestId('genai-section').count(), 0);
  assert.deepEqual(rec.errors, []);
});

test('the older events show the same conversation: on the span, wrapped, or as log records', async () => {
  for (const [what, t] of [['events', ids.older], ['gen_ai.event.content', ids.wrapped], ['log records', ids.logs]]) {
    const { page, rec } = await open(`/traces/${t.traceId}?span=${t.span}`);
    const msgs = await conversation(page);
    assertWeather(msgs);
    const f = await facts(page);
    assert.equal(f.provider, 'anthropic', what);
    assert.equal(f.model, 'claude-sonnet-4', what);
    assert.deepEqual(rec.errors, [], what);
  }
});

// OTLP AnyValue of a JSON value: the structured form of the message
// attributes (which the JS SDK cannot record, so sent as OTLP JSON).
function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) } };
}

test('messages recorded in structured form (arrays of key/value lists) show the same conversation', async () => {
  const attrs = Object.fromEntries(Object.entries(currentAttributes(WEATHER)).map(([k, v]) => [k, JSON.parse(v)]));
  const start = BigInt(Date.now() - 7300000) * 1000000n; // outside the last hour the page tests count
  const traceId = '5a1e0f7d2c3b4a5968778695a4b3c2d1';
  const spanId = '1f2e3d4c5b6a7988';
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'structured-bot' } }] },
      scopeSpans: [{
        scope: { name: 'genai-test' },
        spans: [{
          traceId, spanId, name: 'chat gpt-4o', kind: 3, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 900000000n),
          attributes: [
            { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
            { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
            { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
            ...Object.entries(attrs).map(([key, v]) => ({ key, value: anyValue(v) })),
          ],
        }],
      }],
    }],
  };
  const res = await fetch(`${srv.httpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
  const { page, rec } = await open(`/traces/${traceId}?span=${spanId}`);
  assertWeather(await conversation(page));
  assert.deepEqual(rec.errors, []);
});

test('long content is folded and unfolds on demand', async () => {
  const { page } = await open(`/traces/${ids.long.traceId}?span=${ids.long.answer}`);
  await conversation(page);
  const last = page.getByTestId('msg').last();
  const text = last.getByTestId('msg-text');
  const folded = await text.textContent();
  assert.ok(folded.length < 700 && folded.endsWith('…'), `folded to ${folded.length} characters`);
  assert.ok(LONG.startsWith(folded.slice(0, -1)));
  const toggle = last.getByTestId('fold-toggle');
  assert.equal(await toggle.textContent(), `Show all (${LONG.length.toLocaleString('en-US')} characters)`);
  await toggle.click();
  assert.equal(await text.textContent(), LONG);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  assert.equal(await text.textContent(), folded);
});

test('hostile message content is shown as text, never as HTML or markdown', async () => {
  for (const t of [{ traceId: ids.hostile.traceId, span: ids.hostile.answer }, ids.hostileOlder]) {
    const { page, rec } = await open(`/traces/${t.traceId}?span=${t.span}`);
    const msgs = await conversation(page);
    assert.deepEqual(msgs.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant']);
    assert.deepEqual(msgs[0].texts, [HOSTILE.system]);
    assert.deepEqual(msgs[1].texts, [HOSTILE.turns[0].text]);
    assert.equal(msgs[2].toolCall, HOSTILE.turns[1].toolCall.name);
    assert.deepEqual(msgs[2].texts, [pretty(HOSTILE.turns[1].toolCall.arguments)]);
    assert.deepEqual(msgs[3].texts, [HOSTILE.turns[2].toolResult.result]);
    assert.deepEqual(msgs[4].texts, [HOSTILE.answer]);
    await assertInert(page, rec);
  }
  // the model and provider names on the GenAI page
  const { page, rec } = await open('/genai?range=6h');
  const row = page.getByTestId('genai-models').locator('tbody tr').filter({ hasText: `claude-${SCRIPT}` });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-key'), `anthropic${IMG}/claude-${SCRIPT}`);
  await page.getByTestId('genai-chart-calls').locator('canvas').first().waitFor();
  assert.ok((await page.getByTestId('genai-chart-calls').locator('.legend-label').allTextContents()).includes(`claude-${SCRIPT} · anthropic${IMG}`));
  await assertInert(page, rec);
});

test('the GenAI page: figures of the range, tables, and calls that open their trace', async () => {
  const api = (await getJson(srv, `/api/v1/genai?start=${BigInt(Date.now() - 3600000) * 1000000n}`)).body;
  assert.equal(api.totals.calls, sentCalls);
  const { page, rec } = await open('/genai');
  await page.getByTestId('genai-tiles').waitFor();
  assert.equal(await page.getByTestId('tile-calls').locator('.tile-value').textContent(), sentCalls.toLocaleString('en-US'));
  assert.equal(await page.getByTestId('tile-input').locator('.tile-value').textContent(), api.totals.inputTokens.toLocaleString('en-US'));
  const models = await page.getByTestId('genai-models').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
  assert.deepEqual(models, api.models.map((m) => `${m.provider}/${m.model}`));
  assert.ok(models.includes('anthropic/claude-sonnet-4') && models.includes('openai/text-embedding-3-small'));
  const services = await page.getByTestId('genai-services').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
  assert.deepEqual(services, ['support-bot', 'indexer', 'helpdesk']);
  // four charts, one line per model
  for (const id of ['genai-chart-calls', 'genai-chart-tokens', 'genai-chart-latency', 'genai-chart-errors']) {
    await page.getByTestId(id).locator('canvas').first().waitFor();
    assert.equal(await page.getByTestId(id).getByTestId('legend-item').count(), api.models.length);
  }
  await page.getByTestId('genai-by-service').click();
  await page.getByTestId('genai-chart-calls').getByTestId('legend-item').first().waitFor();
  assert.deepEqual(await page.getByTestId('genai-chart-calls').locator('.legend-label').allTextContents(), ['support-bot', 'indexer', 'helpdesk']);
  // the slowest call opens its span in its trace
  const slow = page.getByTestId('genai-slowest').locator('tbody tr');
  assert.equal(await slow.count(), 10);
  const first = api.slowest[0];
  assert.equal(await slow.first().getAttribute('data-span-id'), first.spanId);
  await slow.first().getByTestId('genai-call-link').click();
  await page.getByTestId('genai-section').waitFor();
  assert.match(page.url(), new RegExp(`/traces/${first.traceId}\\?.*span=${first.spanId}`));
  assert.equal(await page.locator('.span-row.selected').getAttribute('data-span-id'), first.spanId);
  assert.deepEqual(rec.errors, []);
});

test('the GenAI page of a range without calls says so', async () => {
  const { page } = await open(`/genai?start=${new Date(Date.now() - 86400000 * 3).toISOString()}&end=${new Date(Date.now() - 86400000 * 2).toISOString()}`);
  assert.match(await page.locator('.state-title').textContent(), /^No GenAI calls in custom range$/);
});

for (const scheme of ['light', 'dark']) {
  test(`screenshots of the GenAI page and a conversation, ${scheme} theme`, async () => {
    const { context, page, rec } = await openPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    await page.goto(`${srv.uiUrl}/genai`);
    await settled(page);
    for (const id of ['genai-chart-calls', 'genai-chart-tokens', 'genai-chart-latency', 'genai-chart-errors']) await page.getByTestId(id).locator('canvas').first().waitFor();
    assert.equal(await page.getByTestId('tile-calls').locator('.tile-value').textContent(), sentCalls.toLocaleString('en-US'));
    await screenshot(page, `genai-${scheme}`);
    await page.goto(`${srv.uiUrl}/traces/${ids.agent.traceId}?span=${ids.agent.answer}`);
    await settled(page);
    assertWeather(await conversation(page));
    await page.getByTestId('msg').last().scrollIntoViewIfNeeded(); // the answer in view
    await screenshot(page, `conversation-${scheme}`);
    assert.deepEqual(rec.errors, []);
    await context.close();
  });
}
