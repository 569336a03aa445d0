// conversation.js - a GenAI span (OpenTelemetry semantic conventions for
// generative AI) as a conversation: system, user, assistant and tool
// messages in order, tool calls with their arguments and results, the
// model, token counts and finish reasons. Messages come from the current
// attributes (gen_ai.system_instructions, gen_ai.input.messages,
// gen_ai.output.messages: JSON strings or structured values), from the
// gen_ai.client.inference.operation.details event, or from the older events
// (gen_ai.system.message, gen_ai.user.message, gen_ai.assistant.message,
// gen_ai.tool.message, gen_ai.choice) recorded on the span or as log
// records of it. Model output is untrusted text: it only ever becomes text
// nodes (h()), never HTML or markdown.
import { h, replace } from './dom.js';
import { fmtCount } from './format.js';

// Text longer than this is folded (the rest shown on demand).
export const FOLD_CHARS = 600;
const FOLD_LINES = 12;

const ROLES = ['system', 'user', 'assistant', 'tool'];
const OLD_EVENTS = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
  'gen_ai.choice': 'assistant',
};
const DETAILS_EVENT = 'gen_ai.client.inference.operation.details';
const KEYS = ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.system', 'gen_ai.request.model'];

// A value that may be JSON text: the parsed value when it is a JSON object
// or array, else the value itself.
function maybeJson(v) {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try { return JSON.parse(t); } catch { return v; }
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v) => (v === null || v === undefined ? '' : String(v));

// A tool call of the older shape ({id, type, function: {name, arguments}})
// or the current one ({id, name, arguments}) as a part.
function toolCallPart(c) {
  if (!isObj(c)) return { type: 'other', label: 'tool call', value: c };
  const f = isObj(c.function) ? c.function : c;
  return { type: 'tool_call', id: str(c.id), name: str(f.name), arguments: maybeJson(f.arguments) };
}

// Content of an older message: a string, or a list of content pieces
// ({type: 'text', text}), or anything else (shown as JSON).
function contentParts(content) {
  if (content === null || content === undefined || content === '') return [];
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (Array.isArray(content)) {
    return content.map((c) => (isObj(c) && (c.type === 'text' || c.text !== undefined) && typeof (c.text ?? c.content) === 'string'
      ? { type: 'text', content: c.text ?? c.content }
      : { type: 'other', label: isObj(c) && c.type ? str(c.type) : 'content', value: c }));
  }
  return [{ type: 'other', label: 'content', value: content }];
}

// A part of the current shape.
function part(p) {
  if (!isObj(p)) return typeof p === 'string' ? { type: 'text', content: p } : { type: 'other', label: 'part', value: p };
  switch (p.type) {
    case 'text': return { type: 'text', content: str(p.content ?? p.text) };
    case 'reasoning': return { type: 'reasoning', content: str(p.content ?? p.text) };
    case 'tool_call': return toolCallPart(p);
    case 'tool_call_response':
      return { type: 'tool_call_response', id: str(p.id), response: maybeJson(p.response !== undefined ? p.response : p.result) };
    default: {
      const { type, ...rest } = p;
      return { type: 'other', label: str(type || 'part'), value: rest };
    }
  }
}

// gen_ai.input.messages / gen_ai.output.messages: [{role, parts, finish_reason}].
function messagesOf(value, output) {
  const list = maybeJson(value);
  if (!Array.isArray(list)) return value === undefined ? [] : [{ role: output ? 'assistant' : 'user', parts: [{ type: 'other', label: 'messages', value }], output }];
  return list.map((m) => ({
    role: isObj(m) && m.role ? str(m.role) : (output ? 'assistant' : 'user'),
    name: isObj(m) && m.name ? str(m.name) : '',
    parts: isObj(m) && Array.isArray(m.parts) ? m.parts.map(part) : contentParts(isObj(m) ? m.content : m),
    finishReason: isObj(m) && m.finish_reason ? str(m.finish_reason) : '',
    output,
  }));
}

// gen_ai.system_instructions: an array of parts (or text).
function instructionsOf(value) {
  const v = maybeJson(value);
  if (v === undefined || v === null || v === '') return [];
  const parts = Array.isArray(v) ? v.map(part) : isObj(v) && v.type ? [part(v)] : contentParts(v);
  return parts.length ? [{ role: 'system', parts, output: false }] : [];
}

// The messages an attribute set carries in the current shape.
function currentMessages(a) {
  return [
    ...instructionsOf(a['gen_ai.system_instructions']),
    ...(a['gen_ai.input.messages'] !== undefined ? messagesOf(a['gen_ai.input.messages'], false) : []),
    ...(a['gen_ai.output.messages'] !== undefined ? messagesOf(a['gen_ai.output.messages'], true) : []),
  ];
}

// The body of an older event recorded on a span: gen_ai.event.content
// (JSON), else a body attribute, else the event's attributes themselves.
function eventBody(attrs) {
  const a = attrs || {};
  if (a['gen_ai.event.content'] !== undefined) return maybeJson(a['gen_ai.event.content']);
  if (a.body !== undefined) return maybeJson(a.body);
  const out = {};
  for (const [k, v] of Object.entries(a)) if (!k.startsWith('gen_ai.')) out[k] = maybeJson(v);
  return out;
}

// One older event (name, body) as a message.
function oldMessage(name, body) {
  const b = isObj(body) ? body : { content: body };
  if (name === 'gen_ai.choice') {
    const m = isObj(b.message) ? b.message : b;
    return {
      role: str(m.role || 'assistant'),
      parts: [...contentParts(m.content), ...(Array.isArray(m.tool_calls) ? m.tool_calls.map(toolCallPart) : [])],
      finishReason: str(b.finish_reason),
      index: b.index,
      output: true,
    };
  }
  const role = OLD_EVENTS[name];
  const parts = contentParts(b.content);
  if (Array.isArray(b.tool_calls)) parts.push(...b.tool_calls.map(toolCallPart));
  if (role === 'tool') {
    return { role, parts: [{ type: 'tool_call_response', id: str(b.id ?? b.tool_call_id), response: maybeJson(b.content) }], output: false };
  }
  return { role: str(b.role || role), parts, output: false };
}

// A GenAI call's figures and conversation, or null when the span is not
// one. logs: the span's log records (the older events may be there).
export function genaiCall(span, logs = []) {
  const a = span.attributes || {};
  const events = span.events || [];
  const details = events.find((e) => e.name === DETAILS_EVENT);
  const oldEvents = events.filter((e) => OLD_EVENTS[e.name]).map((e) => ({ name: e.name, t: e.timeUnixNano, body: eventBody(e.attributes) }));
  const oldLogs = (logs || []).filter((l) => OLD_EVENTS[l.eventName]).map((l) => ({ name: l.eventName, t: l.timeUnixNano, body: maybeJson(l.body) }));
  const tool = a['gen_ai.tool.name'] !== undefined || a['gen_ai.tool.call.id'] !== undefined;
  if (!KEYS.some((k) => typeof a[k] === 'string' && a[k] !== '') && !details && !oldEvents.length && !oldLogs.length && !tool) return null;
  let messages = currentMessages(a);
  if (!messages.length && details) messages = currentMessages(details.attributes || {});
  if (!messages.length) {
    const old = oldEvents.length ? oldEvents : oldLogs;
    messages = old.map((e) => oldMessage(e.name, e.body));
  }
  const num = (k, older) => {
    const v = a[k] ?? a[older];
    return typeof v === 'number' ? v : null;
  };
  const reasons = Array.isArray(a['gen_ai.response.finish_reasons']) ? a['gen_ai.response.finish_reasons'].map(str)
    : messages.filter((m) => m.finishReason).map((m) => m.finishReason);
  return {
    operation: str(a['gen_ai.operation.name']),
    provider: str(a['gen_ai.provider.name'] ?? a['gen_ai.system']),
    requestModel: str(a['gen_ai.request.model']),
    responseModel: str(a['gen_ai.response.model']),
    inputTokens: num('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'),
    outputTokens: num('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'),
    finishReasons: reasons,
    conversationId: str(a['gen_ai.conversation.id']),
    agent: str(a['gen_ai.agent.name']),
    tool: tool ? {
      name: str(a['gen_ai.tool.name']),
      id: str(a['gen_ai.tool.call.id']),
      arguments: maybeJson(a['gen_ai.tool.call.arguments']),
      result: maybeJson(a['gen_ai.tool.call.result']),
    } : null,
    messages,
  };
}

// ---- rendering ------------------------------------------------------------------

// Text, folded past FOLD_CHARS characters or FOLD_LINES lines: the start
// and a button that shows the rest (and folds it again).
export function foldedText(text, cls = 'msg-text') {
  const t = str(text);
  const lines = t.split('\n');
  let cut = t.length > FOLD_CHARS ? FOLD_CHARS : -1;
  if (lines.length > FOLD_LINES) {
    const at = lines.slice(0, FOLD_LINES).join('\n').length;
    cut = cut < 0 ? at : Math.min(cut, at);
  }
  const body = h('div', { class: cls, dataset: { testid: 'msg-text' } }, cut < 0 ? t : `${t.slice(0, cut)}…`);
  if (cut < 0) return body;
  let open = false;
  const btn = h('button', {
    type: 'button', class: 'btn btn-small fold-toggle', 'aria-expanded': 'false', dataset: { testid: 'fold-toggle' },
    onclick: () => {
      open = !open;
      replace(body, open ? t : `${t.slice(0, cut)}…`);
      body.dataset.folded = open ? '' : 'folded';
      btn.setAttribute('aria-expanded', String(open));
      replace(btn, open ? 'Show less' : `Show all (${fmtCount(t.length)} characters)`);
    },
  }, `Show all (${fmtCount(t.length)} characters)`);
  body.dataset.folded = 'folded';
  return h('div', { class: 'fold' }, body, btn);
}

// A value (tool arguments, results): text as text, anything else as JSON.
function valueBlock(v) {
  if (v === undefined) return null;
  if (typeof v === 'string') return foldedText(v, 'msg-text msg-code');
  return foldedText(JSON.stringify(v, null, 2), 'msg-text msg-code');
}

function partView(p) {
  switch (p.type) {
    case 'text':
      return foldedText(p.content);
    case 'reasoning':
      return h('div', { class: 'msg-part msg-reasoning' }, h('div', { class: 'msg-part-head muted small' }, 'Reasoning'), foldedText(p.content));
    case 'tool_call':
      return h('div', { class: 'msg-part msg-tool-call', dataset: { testid: 'tool-call' } },
        h('div', { class: 'msg-part-head' }, h('span', { class: 'muted' }, 'Tool call '), h('strong', { class: 'mono' }, p.name || '(unnamed)'),
          p.id ? h('span', { class: 'muted mono small' }, ` ${p.id}`) : null),
        valueBlock(p.arguments));
    case 'tool_call_response':
      return h('div', { class: 'msg-part msg-tool-result', dataset: { testid: 'tool-result' } },
        h('div', { class: 'msg-part-head' }, h('span', { class: 'muted' }, 'Tool result'),
          p.id ? h('span', { class: 'muted mono small' }, ` ${p.id}`) : null),
        valueBlock(p.response));
    default:
      return h('div', { class: 'msg-part' }, h('div', { class: 'msg-part-head muted small' }, p.label), valueBlock(p.value));
  }
}

function messageView(m) {
  const role = ROLES.includes(m.role) ? m.role : 'other';
  return h('li', { class: ['msg', `msg-${role}`, m.output && 'msg-output'], dataset: { testid: 'msg', role: m.role } },
    h('div', { class: 'msg-head' },
      h('span', { class: 'msg-role', dataset: { testid: 'msg-role' } }, m.role || 'message'),
      m.name ? h('span', { class: 'muted small' }, m.name) : null,
      m.output ? h('span', { class: 'badge badge-small' }, 'response') : null,
      m.finishReason ? h('span', { class: 'muted small', dataset: { testid: 'msg-finish' } }, `finish: ${m.finishReason}`) : null),
    m.parts.length ? m.parts.map(partView) : h('div', { class: 'muted small' }, '(no content recorded)'));
}

function facts(c) {
  const model = c.responseModel && c.requestModel && c.responseModel !== c.requestModel
    ? `${c.requestModel} → ${c.responseModel}` : (c.requestModel || c.responseModel);
  const tokens = c.inputTokens !== null || c.outputTokens !== null
    ? `${c.inputTokens !== null ? fmtCount(c.inputTokens) : '—'} in · ${c.outputTokens !== null ? fmtCount(c.outputTokens) : '—'} out` : '';
  const rows = [
    ['Operation', c.operation],
    ['Provider', c.provider],
    ['Model', model],
    ['Tokens', tokens],
    ['Finish', c.finishReasons.join(', ')],
    ['Agent', c.agent],
    ['Conversation', c.conversationId],
  ].filter(([, v]) => v);
  return h('dl', { class: 'genai-facts', dataset: { testid: 'genai-facts' } },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', { dataset: { fact: k.toLowerCase() } }, v)]));
}

// The span panel's section for a GenAI span, or null for other spans.
// logs: the span's log records.
export function conversationSection(span, logs) {
  const c = genaiCall(span, logs);
  if (!c) return null;
  const body = [facts(c)];
  if (c.tool) {
    body.push(h('div', { class: 'msg-part msg-tool-call', dataset: { testid: 'tool-exec' } },
      h('div', { class: 'msg-part-head' }, h('span', { class: 'muted' }, 'Tool '), h('strong', { class: 'mono' }, c.tool.name || '(unnamed)'),
        c.tool.id ? h('span', { class: 'muted mono small' }, ` ${c.tool.id}`) : null),
      c.tool.arguments !== undefined ? [h('div', { class: 'muted small' }, 'Arguments'), valueBlock(c.tool.arguments)] : null,
      c.tool.result !== undefined ? [h('div', { class: 'muted small' }, 'Result'), valueBlock(c.tool.result)] : null));
  }
  body.push(c.messages.length
    ? h('ol', { class: 'conversation', dataset: { testid: 'conversation' } }, c.messages.map(messageView))
    : h('div', { class: 'muted small' }, 'No messages recorded (content capture is opt-in in most instrumentations).'));
  return h('section', { class: 'panel-section genai', dataset: { testid: 'genai-section' } }, h('h3', null, 'Conversation'), body);
}
