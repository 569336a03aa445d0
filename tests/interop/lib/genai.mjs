// genai.mjs - GenAI spans for the tests, made with the official
// OpenTelemetry JS SDK (BasicTracerProvider) and exported with the official
// OTLP exporters: chat, embeddings and tool calls with the attributes of the
// semantic conventions for generative AI, their conversations either in the
// current shape (gen_ai.system_instructions, gen_ai.input.messages and
// gen_ai.output.messages as JSON strings: the JS SDK takes no structured
// attribute values) or as the older events on the span
// (gen_ai.system.message, gen_ai.user.message, gen_ai.assistant.message,
// gen_ai.tool.message, gen_ai.choice).
import { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export { SpanKind };

// A conversation: system instructions, the input turns (user text, an
// assistant's tool call, the tool's result) and the model's answer.
//   turns: [{role: 'user'|'assistant', text} | {role: 'assistant', toolCall: {id, name, arguments}}
//           | {role: 'tool', toolResult: {id, result}}]
export const WEATHER = {
  system: 'You are a weather assistant. Answer in one sentence.',
  turns: [
    { role: 'user', text: 'What is the weather in Paris today?' },
    { role: 'assistant', toolCall: { id: 'call_w1', name: 'get_weather', arguments: { location: 'Paris', unit: 'celsius' } } },
    { role: 'tool', toolResult: { id: 'call_w1', result: { temperature: 14, conditions: 'light rain' } } },
  ],
  answer: 'It is 14 °C with light rain in Paris today.',
  finish: 'stop',
};

// The current shape: the attributes, as JSON strings.
export function currentAttributes(conv) {
  const parts = (t) => {
    if (t.toolCall) return [{ type: 'tool_call', id: t.toolCall.id, name: t.toolCall.name, arguments: t.toolCall.arguments }];
    if (t.toolResult) return [{ type: 'tool_call_response', id: t.toolResult.id, response: t.toolResult.result }];
    return [{ type: 'text', content: t.text }];
  };
  return {
    ...(conv.system ? { 'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: conv.system }]) } : {}),
    'gen_ai.input.messages': JSON.stringify(conv.turns.map((t) => ({ role: t.role, parts: parts(t) }))),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: conv.answer }], finish_reason: conv.finish }]),
  };
}

// A tool's result as message content: text as it is, anything else as JSON.
const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

// The older shape: one event per message on the span, the body's fields as
// the event's attributes (objects as JSON text); with `wrapped`, the body
// as JSON in gen_ai.event.content instead, as some SDKs record it.
export function addOlderEvents(span, conv, provider, { wrapped = false, at } = {}) {
  const add = (name, body, i) => {
    const attrs = { 'gen_ai.system': provider };
    if (wrapped) attrs['gen_ai.event.content'] = JSON.stringify(body);
    else for (const [k, v] of Object.entries(body)) attrs[k] = typeof v === 'object' ? JSON.stringify(v) : v;
    span.addEvent(name, attrs, at ? new Date(at + i) : undefined);
  };
  let i = 0;
  if (conv.system) add('gen_ai.system.message', { content: conv.system }, i++);
  for (const t of conv.turns) {
    if (t.toolCall) {
      add('gen_ai.assistant.message', {
        tool_calls: [{ id: t.toolCall.id, type: 'function', function: { name: t.toolCall.name, arguments: JSON.stringify(t.toolCall.arguments) } }],
      }, i++);
    } else if (t.toolResult) {
      add('gen_ai.tool.message', { id: t.toolResult.id, content: asText(t.toolResult.result) }, i++);
    } else {
      add(`gen_ai.${t.role}.message`, { content: t.text }, i++);
    }
  }
  add('gen_ai.choice', { index: 0, finish_reason: conv.finish, message: { role: 'assistant', content: conv.answer } }, i++);
}

// The exporter, checked: what each export answered.
function checked(exporter, sink) {
  return {
    export(items, done) {
      exporter.export(items, (result) => {
        if (result.code !== 0) sink.failures.push(String(result.error && result.error.message ? result.error.message : result.code));
        else sink.count += items.length;
        done(result);
      });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

// Runs fn(tracer) with a tracer of `service` exporting through exp.traces
// (all spans in one export at the end); throws when an export failed.
// Returns what fn returned.
export async function withTracer(exp, service, fn) {
  const sink = { count: 0, failures: [] };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(checked(exp.traces, sink), {
      maxQueueSize: 1 << 16, maxExportBatchSize: 4096, scheduledDelayMillis: 3600000,
    })],
  });
  const out = await fn(provider.getTracer('genai-test', '1.0.0'));
  await provider.forceFlush();
  await provider.shutdown();
  if (sink.failures.length) throw new Error(`export failed: ${sink.failures.join('; ')}`);
  return out;
}

// One GenAI call as a span, ended. spec: {name, op ('chat'), provider,
// providerKey ('gen_ai.provider.name', or 'gen_ai.system' for the older
// name), model, responseModel, start (ms), durMs, input, output (tokens;
// left out when undefined), error, finish (finish reasons), conv and shape
// ('current' | 'events' | 'wrapped'), attrs (more attributes), kind}.
// parent: a span or null (a root). Returns the span.
export function genaiSpan(tracer, spec, parent = null) {
  const attrs = { 'gen_ai.operation.name': spec.op || 'chat', ...(spec.attrs || {}) };
  if (spec.provider) attrs[spec.providerKey || 'gen_ai.provider.name'] = spec.provider;
  if (spec.model) attrs['gen_ai.request.model'] = spec.model;
  if (spec.responseModel) attrs['gen_ai.response.model'] = spec.responseModel;
  if (spec.input !== undefined) attrs['gen_ai.usage.input_tokens'] = spec.input;
  if (spec.output !== undefined) attrs['gen_ai.usage.output_tokens'] = spec.output;
  if (spec.finish) attrs['gen_ai.response.finish_reasons'] = spec.finish;
  if (spec.conv && (spec.shape || 'current') === 'current') Object.assign(attrs, currentAttributes(spec.conv));
  const ctx = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const span = tracer.startSpan(spec.name || `${attrs['gen_ai.operation.name']} ${spec.model || ''}`.trim(), {
    kind: spec.kind ?? SpanKind.CLIENT, startTime: new Date(spec.start), attributes: attrs,
  }, ctx);
  if (spec.conv && (spec.shape === 'events' || spec.shape === 'wrapped')) {
    addOlderEvents(span, spec.conv, spec.provider, { wrapped: spec.shape === 'wrapped', at: spec.start });
  }
  if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'model call failed' });
  span.end(new Date(spec.start + spec.durMs));
  return span;
}

// Each call of `calls` in a trace of its own under a SERVER root "POST
// /chat" (not a GenAI span) of the same service. Returns the calls'
// {traceId, spanId} in order.
export async function sendCalls(exp, service, calls) {
  return withTracer(exp, service, (tracer) => calls.map((c) => {
    const root = tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: new Date(c.start - 5) });
    const span = genaiSpan(tracer, c, root);
    root.end(new Date(c.start + c.durMs + 5));
    return { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
  }));
}

// The older events as log records of `span` (event_name and a structured
// body, as the Python instrumentations emit them), through exp.logs.
export async function sendOlderLogEvents(exp, service, span, conv, provider) {
  const { LoggerProvider, BatchLogRecordProcessor } = await import('@opentelemetry/sdk-logs');
  const sink = { count: 0, failures: [] };
  const lp = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new BatchLogRecordProcessor({ exporter: checked(exp.logs, sink), scheduledDelayMillis: 3600000 })],
  });
  const logger = lp.getLogger('genai-test', '1.0.0');
  const ctx = trace.setSpan(ROOT_CONTEXT, span);
  const t0 = Date.now();
  let i = 0;
  const emit = (eventName, body) => logger.emit({
    eventName, body, attributes: { 'gen_ai.system': provider }, context: ctx, timestamp: new Date(t0 + i++),
  });
  if (conv.system) emit('gen_ai.system.message', { content: conv.system });
  for (const t of conv.turns) {
    if (t.toolCall) {
      emit('gen_ai.assistant.message', {
        tool_calls: [{ id: t.toolCall.id, type: 'function', function: { name: t.toolCall.name, arguments: JSON.stringify(t.toolCall.arguments) } }],
      });
    } else if (t.toolResult) {
      emit('gen_ai.tool.message', { id: t.toolResult.id, content: asText(t.toolResult.result) });
    } else {
      emit(`gen_ai.${t.role}.message`, { content: t.text });
    }
  }
  emit('gen_ai.choice', { index: 0, finish_reason: conv.finish, message: { role: 'assistant', content: conv.answer } });
  await lp.forceFlush();
  await lp.shutdown();
  if (sink.failures.length) throw new Error(`log export failed: ${sink.failures.join('; ')}`);
}
