// components.js - small shared pieces: copy buttons, states (loading, empty,
// error), service chips, attribute tables, dialogs, toasts, filter chips.
import { h, icon, replace } from './dom.js';
import { serviceClass } from './colors.js';
import { fmtValue } from './format.js';
import { API, getInfo } from './api.js';
import { groupAttrKeys, isErrorAttr } from './semconv.js';

// ---- clipboard ------------------------------------------------------------------
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall through to the textarea way */ }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

// A button that copies `text` (a string or a function giving one).
export function copyButton(text, { label = 'Copy', title } = {}) {
  const btn = h('button', {
    type: 'button', class: 'btn-icon copy', title: title || label, 'aria-label': title || label,
    dataset: { copy: '' },
  }, icon('copy'));
  btn.addEventListener('click', async (e) => {
    e.stopPropagation();
    e.preventDefault();
    const value = typeof text === 'function' ? text() : text;
    const ok = await copyText(value);
    replace(btn, icon(ok ? 'check' : 'x'));
    btn.classList.add(ok ? 'copied' : 'copy-failed');
    setTimeout(() => { replace(btn, icon('copy')); btn.classList.remove('copied', 'copy-failed'); }, 1200);
    toast(ok ? 'Copied to the clipboard' : 'Copy failed', ok ? 'ok' : 'error');
  });
  return btn;
}

// An id shown in monospace with a copy button.
export function idWithCopy(id, { label = 'Copy id', href } = {}) {
  const text = href ? h('a', { href, class: 'mono', dataset: { nav: '' } }, id) : h('span', { class: 'mono' }, id);
  return h('span', { class: 'id-copy' }, text, copyButton(id, { label }));
}

// ---- toasts -----------------------------------------------------------------------
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}`, role: 'status' }, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), 3200);
}

// ---- states -------------------------------------------------------------------------
export function loadingState(text = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status' }, h('span', { class: 'spinner' }), text);
}

// err: an ApiError or Error. what: what was being loaded ("traces").
export function errorState(err, what, { retry } = {}) {
  let title;
  let detail = err && err.message ? err.message : String(err);
  if (err && err.unsupported) {
    title = `This loupe server does not offer ${what} yet`;
    detail = `${err.path ? `/api/v1${err.path}` : 'The endpoint'} answered ${err.status}: ${detail}`;
  } else if (err && err.status === 0) {
    title = 'loupe cannot be reached';
  } else if (err && err.status >= 400 && err.status < 500) {
    title = `Could not load ${what}`;
  } else {
    title = `Loading ${what} failed`;
  }
  return h('div', { class: 'state state-error', role: 'alert', dataset: { status: err && err.status !== undefined ? String(err.status) : '' } },
    icon('alert', 'state-icon'),
    h('div', null,
      h('div', { class: 'state-title' }, title),
      h('div', { class: 'state-detail' }, detail),
      retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null));
}

export function emptyState(title, detail, extra) {
  return h('div', { class: 'state state-empty' },
    h('div', { class: 'state-title' }, title),
    detail ? h('div', { class: 'state-detail' }, detail) : null,
    extra || null);
}

// What to do when loupe holds no telemetry: how to point an app at it. The
// ports are the defaults until GET /api/v1/info tells the real ones, then
// the block is drawn again with those (and the language tab kept).
let knownPorts = null; // {grpc, http} once the server has told them
let onboardingLang = 'node';
export function onboarding({ what = 'telemetry' } = {}) {
  const root = h('div', { class: 'onboarding', dataset: { testid: 'onboarding' } });
  replace(root, onboardingBody(what, knownPorts));
  if (!knownPorts) {
    getInfo().then((info) => {
      if (!info || !info.otlpGrpcPort || !info.otlpHttpPort) return;
      knownPorts = { grpc: info.otlpGrpcPort, http: info.otlpHttpPort };
      replace(root, onboardingBody(what, knownPorts));
    });
  }
  return root;
}

// How each kind of app gets the endpoint and the service name, and what its
// SDK sends by default (as the OpenTelemetry docs say). The port of
// `endpoint` takes every OTLP protocol, so none of them has to change it.
function onboardingSnippets(endpoint, hostPort) {
  const env = [`export OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}`, 'export OTEL_SERVICE_NAME=my-service'];
  return [
    {
      id: 'node', label: 'Node.js',
      code: ['npm install @opentelemetry/sdk-node @opentelemetry/auto-instrumentations-node', ...env,
        'node --require @opentelemetry/auto-instrumentations-node/register app.js'],
      note: 'The Node.js SDK sends http/protobuf unless OTEL_EXPORTER_OTLP_PROTOCOL asks for grpc or http/json; all three work here.',
    },
    {
      id: 'python', label: 'Python',
      code: ['pip install opentelemetry-distro opentelemetry-exporter-otlp', 'opentelemetry-bootstrap -a install', ...env,
        'export OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true', 'opentelemetry-instrument python app.py'],
      note: 'Python sends grpc unless OTEL_EXPORTER_OTLP_PROTOCOL asks for http/protobuf; both work here. The last variable sends the records of the logging module too.',
    },
    {
      id: 'java', label: 'Java',
      code: [...env, 'java -javaagent:opentelemetry-javaagent.jar -jar app.jar'],
      note: 'The Java agent sends http/protobuf (grpc before its version 2.0); both work here.',
    },
    {
      id: 'dotnet', label: '.NET',
      code: [...env, 'dotnet run'],
      note: 'The .NET SDK\u2019s OTLP exporter sends grpc, the .NET automatic instrumentation http/protobuf; both work here.',
    },
    {
      id: 'go', label: 'Go',
      code: [env[0], 'export OTEL_EXPORTER_OTLP_PROTOCOL=grpc', env[1], 'go run .'],
      note: 'In Go the exporter package you import decides (otlptracegrpc or otlptracehttp, and the same for metrics and logs; both read the endpoint). OTEL_EXPORTER_OTLP_PROTOCOL is for autoexport, which sends http/protobuf without it. Either works here.',
    },
    {
      id: 'collector', label: 'Collector',
      code: ['exporters:', '  otlp:', `    endpoint: ${hostPort}`, '    tls:', '      insecure: true'],
      note: `Add otlp to the exporters of the traces, metrics and logs pipelines. It speaks gRPC; the otlphttp exporter works too, with endpoint: ${endpoint}`,
    },
  ];
}

// Tabs over the snippets (arrow keys move between them).
function snippetTabs(list) {
  let current = list.find((x) => x.id === onboardingLang) || list[0];
  const tabs = new Map();
  const panels = new Map();
  const show = (item, focus) => {
    current = item;
    onboardingLang = item.id;
    for (const [id, t] of tabs) {
      const on = id === item.id;
      t.classList.toggle('active', on);
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      panels.get(id).hidden = !on;
    }
    if (focus) tabs.get(item.id).focus();
  };
  const bar = h('div', { class: 'tabs onboarding-tabs', role: 'tablist', 'aria-label': 'Setup by language' });
  const body = h('div', { class: 'onboarding-panels' });
  for (const item of list) {
    const text = item.code.join('\n');
    const tab = h('button', {
      type: 'button', role: 'tab', class: 'tab', id: `onboarding-tab-${item.id}`,
      'aria-controls': `onboarding-panel-${item.id}`, dataset: { testid: `onboarding-tab-${item.id}` },
      onclick: () => show(item, false),
    }, item.label);
    tabs.set(item.id, tab);
    bar.appendChild(tab);
    const panel = h('div', {
      role: 'tabpanel', id: `onboarding-panel-${item.id}`, 'aria-labelledby': `onboarding-tab-${item.id}`,
      class: 'onboarding-panel', dataset: { testid: 'onboarding-snippet', lang: item.id },
    },
    h('div', { class: 'snippet' }, h('pre', null, h('code', null, text)), copyButton(text, { label: 'Copy' })),
    h('p', { class: 'muted small' }, item.note));
    panels.set(item.id, panel);
    body.appendChild(panel);
  }
  bar.addEventListener('keydown', (e) => {
    const i = list.indexOf(current);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    show(list[(to + list.length) % list.length], true);
  });
  show(current, false);
  return [bar, body];
}

function onboardingBody(what, ports) {
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname || 'localhost';
  const grpcPort = ports ? ports.grpc : 4317;
  const httpPort = ports ? ports.http : 4318;
  const endpoint = `http://${host}:${grpcPort}`;
  const line = (text) => h('div', { class: 'codeline' }, h('code', null, text), copyButton(text, { label: 'Copy' }));
  return [
    h('h2', null, `No ${what} yet`),
    h('p', null, 'Point an application\u2019s OpenTelemetry SDK at loupe and its traces, logs and metrics appear here as they arrive. Whatever the SDK, set these two variables in the app\u2019s environment:'),
    line(`OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}`),
    line('OTEL_SERVICE_NAME=my-service'),
    h('p', { class: 'muted', dataset: { testid: 'onboarding-any' } },
      `Port ${grpcPort} takes every OTLP protocol (gRPC, HTTP/protobuf and HTTP/JSON), so it works with any SDK\u2019s default. Use http://, not https://: loupe has no TLS.`),
    ...snippetTabs(onboardingSnippets(endpoint, `${host}:${grpcPort}`)),
    h('table', { class: 'kv endpoints' },
      h('tbody', null,
        h('tr', null, h('th', null, 'OTLP, any protocol'), h('td', null,
          h('span', { class: 'mono', dataset: { testid: 'grpc-endpoint' } }, endpoint),
          h('div', { class: 'muted small' }, 'gRPC, or HTTP at /v1/traces, /v1/logs, /v1/metrics'))),
        h('tr', null, h('th', null, 'OTLP/HTTP only'), h('td', null,
          h('span', { class: 'mono', dataset: { testid: 'http-endpoint' } }, `http://${host}:${httpPort}/v1/traces, /v1/logs, /v1/metrics`),
          h('div', { class: 'muted small', dataset: { testid: 'http-protocols' } },
            'HTTP only (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json): for browsers, with loupe --cors-origins, and tools that insist on this port'))),
        h('tr', null, h('th', null, 'Web UI and API'), h('td', { class: 'mono' }, `${location.origin}${API}`)))),
    ports ? null : h('p', { class: 'muted small' }, 'These are loupe\u2019s default ports; if it was started with other --otlp-*-addr flags, use those.'),
  ];
}

// ---- chips -----------------------------------------------------------------------------
export function serviceChip(name, { count, href } = {}) {
  const inner = [h('span', { class: 'dot' }), h('span', { class: 'chip-name' }, name || '(unknown)')];
  if (count !== undefined && count !== null) inner.push(h('span', { class: 'chip-count' }, String(count)));
  const cls = `chip svc ${serviceClass(name)}`;
  return href ? h('a', { class: cls, href, dataset: { nav: '' }, title: name }, inner)
    : h('span', { class: cls, title: name }, inner);
}

export function serviceDot(name) {
  return h('span', { class: `dot ${serviceClass(name)}`, title: name });
}

// ---- key/value tables ------------------------------------------------------------------------
// An attribute key that wraps only after its dots, never inside a word:
// each dotted segment is unbreakable, with a break opportunity after it.
export function attrKey(key) {
  const parts = String(key).split('.');
  const out = [];
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    out.push(h('span', { class: 'kseg' }, last ? p : `${p}.`));
    if (!last) out.push(h('wbr'));
  });
  return out;
}

// The filter condition "key=value" for an attribute (values that are not
// strings as JSON: 500, true, [1,2]).
export const attrCondition = (k, v) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;

// attrs: {key: value}. Values that are arrays/objects are shown as JSON.
// filterHref(key, value): a link that adds the attribute as a filter (the
// key becomes that link). grouped: keys under their semantic-convention
// namespace (HTTP, URL, ...; headers only when there is more than one
// group). An HTTP status >= 500 and error.type are marked as errors.
export function attrTable(attrs, { empty = 'No attributes', filterHref, grouped = false } = {}) {
  const a = attrs || {};
  const groups = grouped ? groupAttrKeys(a) : [{ title: '', keys: Object.keys(a).sort() }];
  if (groups.every((g) => g.keys.length === 0)) return h('div', { class: 'muted small kv-empty' }, empty);
  const row = (k) => {
    const v = fmtValue(a[k]);
    const err = isErrorAttr(k, a[k]);
    const cond = attrCondition(k, a[k]);
    return h('tr', { class: err && 'kv-err', dataset: { key: k } },
      h('th', { title: k }, filterHref
        ? h('a', { href: filterHref(k, a[k]), dataset: { nav: '', testid: 'attr-filter' }, class: 'kv-key', title: `Filter by ${cond}` }, attrKey(k))
        : attrKey(k)),
      h('td', null,
        err ? icon('alert', 'err-icon') : null,
        h('span', { class: typeof a[k] === 'string' ? 'val' : 'val val-typed' }, v),
        h('span', { class: 'kv-actions' }, copyButton(v, { label: 'Copy value' }))));
  };
  const multi = groups.length > 1;
  return h('table', { class: ['kv', multi && 'kv-grouped'] },
    groups.map((g) => h('tbody', { dataset: multi ? { group: g.title } : undefined },
      multi ? h('tr', { class: 'kv-group' }, h('th', { colspan: '2', scope: 'rowgroup' }, g.title)) : null,
      g.keys.map(row))));
}

// Rows of [label, value-node-or-text].
export function fieldTable(rows) {
  return h('table', { class: 'kv fields' },
    h('tbody', null, rows.filter(Boolean).map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))));
}

export function section(title, ...body) {
  return h('section', { class: 'panel-section' }, h('h3', null, title), ...body);
}

// ---- dialogs -------------------------------------------------------------------------------
// Opens a modal <dialog>; returns {dialog, close}. content: nodes. Esc closes.
export function openDialog(title, content, { actions = [], onClose, className } = {}) {
  const dlg = h('dialog', { class: ['dialog', className] },
    h('div', { class: 'dialog-head' },
      h('h2', null, title),
      h('button', { type: 'button', class: 'btn-icon', 'aria-label': 'Close', onclick: () => close() }, icon('x'))),
    h('div', { class: 'dialog-body' }, content),
    actions.length ? h('div', { class: 'dialog-actions' }, actions) : null);
  function close() {
    if (dlg.open) dlg.close();
  }
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose();
  });
  document.body.appendChild(dlg);
  dlg.showModal();
  return { dialog: dlg, close };
}

// ---- attribute filter chips -------------------------------------------------------------
// Parses "key=value", "key!=value", "key~sub", "key>5", "key<5"; null if bad.
export function parseAttrFilter(s) {
  const m = /^\s*([^=!~<>]+?)\s*(!=|=|~|>|<)\s*(.*?)\s*$/.exec(s || '');
  if (!m) return null;
  const [, key, op, value] = m;
  if (!key) return null;
  if ((op === '>' || op === '<') && !/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) return null;
  if (op === '~' && value === '') return null;
  return { key, op, value, text: `${key}${op}${value}` };
}

// An editor for a list of attribute conditions. onChange(list of strings).
export function attrFilterEditor(values, onChange, { placeholder = 'attribute: key=value, key!=v, key~text, key>5' } = {}) {
  const list = [...values];
  const chips = h('span', { class: 'chips' });
  const input = h('input', {
    type: 'text', class: 'input attr-input', placeholder, 'aria-label': 'Add an attribute condition',
    spellcheck: 'false', autocomplete: 'off', dataset: { testid: 'attr-input' },
  });
  const err = h('span', { class: 'field-error', role: 'alert' });
  function render() {
    replace(chips, list.map((v, i) => h('span', { class: 'chip filter-chip', dataset: { filter: v } },
      h('span', { class: 'mono' }, v),
      h('button', {
        type: 'button', class: 'chip-x', 'aria-label': `Remove ${v}`,
        onclick: () => { list.splice(i, 1); render(); onChange([...list]); },
      }, icon('x')))));
  }
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const f = parseAttrFilter(input.value);
    if (!f) {
      err.textContent = 'Use key=value, key!=value, key~text, key>number or key<number';
      return;
    }
    err.textContent = '';
    input.value = '';
    if (!list.includes(f.text)) list.push(f.text);
    render();
    onChange([...list]);
  });
  render();
  return h('span', { class: 'attr-editor' }, chips, input, err);
}

// A <select> from [{value, label}] with the current value selected.
export function select(options, value, onChange, attrs = {}) {
  const sel = h('select', { class: 'input', ...attrs },
    options.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.label)));
  if (onChange) sel.addEventListener('change', () => onChange(sel.value));
  return sel;
}
