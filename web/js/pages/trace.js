// trace.js - one trace: a waterfall with a time axis and the span tree
// (expand/collapse, service colours, errors, event markers), a span detail
// panel, the trace's logs beside it, copy buttons and OTLP JSON download.
// The waterfall is virtualised, so a 10,000-span trace stays responsive.
// Beside the waterfall: a flame graph and the span statistics; a toggle
// marks the critical path and shows self times (both from GET
// /traces/{id}/analysis, read on first use); "Compare with…" opens /compare.
import { h, icon, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { addFilterLink, navigate, pageLink, withParams } from '../state.js';
import { VirtualList } from '../vlist.js';
import { serviceClass } from '../colors.js';
import {
  attrCondition, attrTable, emptyState, errorState, fieldTable, idWithCopy, loadingState, section, serviceChip,
} from '../components.js';
import {
  bodyText, fmtCount, fmtDuration, fmtTime, fmtTimeFull, nsBig, severityClass, severityLabel, shortId,
} from '../format.js';
import { downloadJson, traceToOtlp } from '../otlp.js';
import { flameGraph } from '../flame.js';
import { spanStatsTable } from '../spanstats.js';
import { openComparePicker } from '../comparepick.js';
import { conversationSection } from '../conversation.js';

const ROW_H = 28;
export const VIEWS = [
  { id: 'waterfall', label: 'Waterfall' },
  { id: 'flame', label: 'Flame graph' },
  { id: 'stats', label: 'Statistics' },
];

// The critical path's segments by span id (from an /analysis answer).
export function segmentsBySpan(analysis) {
  const m = new Map();
  for (const sg of (analysis && analysis.criticalPath) || []) {
    if (!m.has(sg.spanId)) m.set(sg.spanId, []);
    m.get(sg.spanId).push(sg);
  }
  return m;
}

export const kindName = (k) => String(k || 'UNSPECIFIED').toUpperCase().replace(/^SPAN_KIND_/, '');
export const statusName = (s) => String((s && s.code) || 'UNSET').toUpperCase().replace(/^STATUS_CODE_/, '');
export const isError = (s) => statusName(s.status) === 'ERROR';

// Builds the span tree. Spans whose parent is not in the trace are roots.
// Children are ordered by start time. Iterative (no recursion) so a deeply
// nested trace cannot overflow the stack; a parent cycle cannot loop.
export function buildTree(spans) {
  const nodes = new Map();
  for (const s of spans) {
    if (!nodes.has(s.spanId)) nodes.set(s.spanId, { span: s, children: [], depth: 0, start: nsBig(s.startTimeUnixNano), end: nsBig(s.endTimeUnixNano) });
  }
  const roots = [];
  for (const n of nodes.values()) {
    const p = n.span.parentSpanId && n.span.parentSpanId !== n.span.spanId ? nodes.get(n.span.parentSpanId) : null;
    if (p) p.children.push(n);
    else roots.push(n);
  }
  const byStart = (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  roots.sort(byStart);
  // depths, and rescue nodes caught in a parent cycle (never reached from a root)
  const reached = new Set();
  const stack = roots.map((n) => [n, 0]);
  while (stack.length) {
    const [n, d] = stack.pop();
    if (reached.has(n)) continue;
    reached.add(n);
    n.depth = d;
    n.children.sort(byStart);
    for (const c of n.children) stack.push([c, d + 1]);
  }
  for (const n of nodes.values()) {
    if (!reached.has(n)) {
      n.children = [];
      n.depth = 0;
      roots.push(n);
      reached.add(n);
    }
  }
  let start = null;
  let end = null;
  for (const n of nodes.values()) {
    if (start === null || n.start < start) start = n.start;
    if (end === null || n.end > end) end = n.end;
  }
  return { nodes, roots, start: start ?? 0n, end: end ?? 0n };
}

function hostOf(url) {
  if (typeof url !== 'string' || !url) return null;
  try { return new URL(url).host || null; } catch { return null; }
}

// Where an outgoing call (a CLIENT or PRODUCER span) went: the callee's
// service when its span is a child in the trace, else the peer the client
// recorded (server.address:server.port; the older net.peer.*; the host of
// url.full), else the messaging destination or database system.
// {text, service, address, callee (the child node)} or null.
export function callTarget(n) {
  const s = n.span;
  const kind = kindName(s.kind);
  if (kind !== 'CLIENT' && kind !== 'PRODUCER') return null;
  const a = s.attributes || {};
  const callee = n.children.find((c) => c.span.service !== s.service || ['SERVER', 'CONSUMER'].includes(kindName(c.span.kind)));
  const host = a['server.address'] ?? a['net.peer.name'] ?? a['net.peer.ip'] ?? null;
  const port = a['server.port'] ?? a['net.peer.port'] ?? null;
  let address = null;
  if (host !== null && host !== '') {
    const hs = String(host).includes(':') && port !== null ? `[${host}]` : String(host);
    address = port !== null && port !== '' ? `${hs}:${port}` : hs;
  } else {
    address = hostOf(a['url.full'] ?? a['http.url']);
  }
  const other = a['messaging.destination.name'] ?? a['db.system.name'] ?? a['db.system'] ?? null;
  const service = callee ? callee.span.service : null;
  const text = service || address || (other !== null ? String(other) : null);
  return text ? { text, service, address, callee: callee || null } : null;
}

// The rows shown: a depth-first walk that skips collapsed subtrees.
export function flatten(roots, collapsed) {
  const out = [];
  const stack = [...roots].reverse();
  while (stack.length) {
    const n = stack.pop();
    out.push(n);
    if (!collapsed.has(n.span.spanId)) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}

const targetTitle = (t) => (t.service && t.address ? `${t.service} (${t.address})` : t.text);

export function mount(root, { args, params, signal }) {
  const traceId = String(args.traceId || '').toLowerCase();
  document.title = `Trace ${shortId(traceId)} · loupe`;
  const page = h('div', { class: 'page page-trace page-fill' }, loadingState('Loading the trace…'));
  root.appendChild(page);
  let tree = null;
  let rows = [];
  let vl = null;
  let selId = params.get('span') || '';
  let tab = params.get('tab') === 'logs' ? 'logs' : 'span';
  const collapsed = new Set();
  let logs = null; // null: loading; Error; or an array
  let total = 1;
  let trace = null;
  let panel = null;
  let tabsEl = null;
  let view = VIEWS.some((v) => v.id === params.get('view')) ? params.get('view') : 'waterfall';
  let critical = params.get('cp') === '1';
  let analysis = null; // null: not asked for; 'loading'; an Error; or the /analysis answer
  let segments = new Map();
  let mainEl = null;
  let toolbar = null;
  let flame = null;
  let wfEl = null; // the waterfall's box, when shown

  async function load() {
    try {
      trace = await apiGet(`/traces/${encodeURIComponent(traceId)}`, null, { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404 && !e.missingEndpoint) {
        replace(page, emptyState('Trace not found', `No trace with id ${traceId} is stored. It may have been evicted, cleared, or not have arrived yet.`,
          h('a', { class: 'btn', href: pageLink('/traces'), dataset: { nav: '' } }, 'Search traces')));
      } else {
        replace(page, errorState(e, 'this trace', { retry: load }));
      }
      return;
    }
    if (!Array.isArray(trace.spans) || trace.spans.length === 0) {
      replace(page, emptyState('This trace has no spans', traceId));
      return;
    }
    tree = buildTree(trace.spans);
    total = Math.max(1, Number(tree.end - tree.start));
    if (selId && !tree.nodes.has(selId)) selId = '';
    // reveal a deep-linked span: expand nothing is needed (all start expanded)
    draw();
    loadLogs();
    if (critical || view !== 'waterfall') loadAnalysis();
  }

  // The analysis, read once when first needed.
  async function loadAnalysis() {
    if (analysis !== null && !(analysis instanceof Error)) return;
    analysis = 'loading';
    drawToolbar();
    let body;
    try {
      body = await apiGet(`/traces/${encodeURIComponent(traceId)}/analysis`, null, { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      analysis = e;
      drawToolbar();
      if (view === 'stats') drawMain();
      return;
    }
    analysis = body;
    segments = segmentsBySpan(body);
    drawToolbar();
    if (view === 'stats') drawMain();
    else showAnalysis();
    if (selId && tab === 'span') drawPanel();
  }

  const hasAnalysis = () => analysis !== null && typeof analysis === 'object' && !(analysis instanceof Error);

  // The critical path and self times in the view shown.
  function showAnalysis() {
    if (wfEl) wfEl.classList.toggle('with-self', critical && hasAnalysis());
    if (view === 'waterfall' && vl) vl.refresh();
    if (view === 'flame' && flame) flame.update({ analysis: hasAnalysis() ? analysis : null, critical, selected: selId });
  }

  function compareWith() {
    const rootSpan = tree.roots[0].span;
    const me = { traceId, rootService: rootSpan.service, rootName: rootSpan.name, durationNs: total };
    const candidates = apiGet('/traces', { service: rootSpan.service, name: rootSpan.name, limit: 200 }, { signal })
      .then((body) => body.traces || []);
    openComparePicker(me, candidates);
  }

  async function loadLogs() {
    try {
      const body = await apiGet('/logs', { traceId, limit: 1000 }, { signal });
      logs = (body.logs || []).filter((l) => l.traceId === traceId);
      logs.sort((a, b) => (nsBig(a.timeUnixNano) < nsBig(b.timeUnixNano) ? -1 : 1));
    } catch (e) {
      if (e.name === 'AbortError') return;
      logs = e;
    }
    if (tabsEl) drawTabs();
    if (tab === 'logs' || selId) drawPanel();
    if (vl) vl.refresh();
  }

  function offset(ns) {
    return Number(nsBig(ns) - tree.start);
  }

  function draw() {
    const spans = trace.spans;
    const errors = spans.filter(isError).length;
    const services = new Map();
    for (const s of spans) services.set(s.service, (services.get(s.service) || 0) + 1);
    const rootNode = tree.roots[0];
    const rootSpan = rootNode.span;
    document.title = `${rootSpan.name} · trace ${shortId(traceId)} · loupe`;

    const head = h('div', { class: 'trace-head' },
      h('div', { class: 'trace-title' },
        h('a', { href: pageLink('/traces'), dataset: { nav: '' }, class: 'btn-icon back', title: 'Back to traces', 'aria-label': 'Back to traces' }, icon('chevronRight', 'flip')),
        h('h1', { dataset: { testid: 'trace-title' } }, serviceChip(rootSpan.service), h('span', { class: 'root-name' }, rootSpan.name)),
        errors > 0 ? h('span', { class: 'err-badge', dataset: { testid: 'trace-errors' } }, icon('alert'), `${errors} error${errors === 1 ? '' : 's'}`) : null,
        h('span', { class: 'spacer' }),
        h('a', { class: 'btn', href: pageLink('/logs', { traceId }), dataset: { nav: '', testid: 'trace-logs-link' } }, 'Logs of this trace'),
        h('button', { type: 'button', class: 'btn', dataset: { testid: 'compare-with' }, title: 'Compare this trace with another one', onclick: compareWith }, 'Compare with…'),
        h('button', {
          type: 'button', class: 'btn', dataset: { testid: 'download-otlp' }, title: 'Download this trace as OTLP JSON',
          onclick: () => downloadJson(`trace-${traceId}.json`, traceToOtlp(trace)),
        }, icon('download'), 'OTLP JSON')),
      h('div', { class: 'trace-meta' },
        h('span', null, h('span', { class: 'muted' }, 'Trace '), idWithCopy(traceId, { label: 'Copy trace id' })),
        h('span', { title: fmtTimeFull(tree.start.toString()) }, h('span', { class: 'muted' }, 'Started '), fmtTime(tree.start.toString(), { date: 'always' })),
        h('span', null, h('span', { class: 'muted' }, 'Duration '), h('strong', { dataset: { testid: 'trace-duration' } }, fmtDuration(total))),
        h('span', null, h('span', { class: 'muted' }, 'Spans '), h('strong', null, fmtCount(spans.length))),
        h('span', { class: 'chips' }, [...services].map(([name, n]) => serviceChip(name, { count: n, href: pageLink('/traces', { service: name }) })))));

    panel = h('div', { class: 'panel-body' });
    tabsEl = h('div', { class: 'tabs', role: 'tablist' });
    const side = h('aside', { class: 'detail trace-side', 'aria-label': 'Details' }, tabsEl, panel);
    toolbar = h('div', { class: 'trace-tools', dataset: { testid: 'trace-tools' } });
    mainEl = h('div', { class: 'trace-main' });
    replace(page, head, h('div', { class: 'split' }, h('div', { class: 'split-main' }, toolbar, mainEl), side));
    drawToolbar();
    drawMain();
    drawTabs();
    drawPanel();
  }

  // Views and the critical-path toggle.
  function drawToolbar() {
    if (!toolbar) return;
    let note = null;
    if (critical && analysis === 'loading') note = h('span', { class: 'muted small' }, 'Finding the critical path…');
    else if (analysis instanceof Error) note = h('span', { class: 'field-error' }, `Analysis failed: ${analysis.message}`);
    else if (critical && hasAnalysis()) {
      const spans = Object.values(analysis.spans || {}).filter((x) => x.critical).length;
      note = h('span', { class: 'muted small', dataset: { testid: 'critical-note' } },
        `Critical path: ${fmtDuration(analysis.criticalPathNs)} through ${fmtCount(spans)} span${spans === 1 ? '' : 's'}`,
        analysis.otherRootSpanIds && analysis.otherRootSpanIds.length
          ? ` (from the root that ends last; ${analysis.otherRootSpanIds.length} other root${analysis.otherRootSpanIds.length === 1 ? '' : 's'})` : '',
        view === 'waterfall' ? '; each span\u2019s self time follows its duration.' : '.');
    }
    replace(toolbar,
      h('div', { class: 'seg', role: 'group', 'aria-label': 'View' }, VIEWS.map((v) => h('button', {
        type: 'button', class: ['seg-btn', view === v.id && 'active'], 'aria-pressed': String(view === v.id),
        dataset: { testid: `view-${v.id}` }, onclick: () => setView(v.id),
      }, v.label))),
      h('button', {
        type: 'button', class: ['btn', 'btn-toggle', critical && 'on'], 'aria-pressed': String(critical),
        dataset: { testid: 'critical-toggle' }, title: 'Mark the chain of spans the trace\u2019s end waited on, and each span\u2019s self time',
        disabled: view === 'stats', onclick: () => setCritical(!critical),
      }, h('span', { class: 'crit-swatch' }), 'Critical path'),
      note);
  }

  function setView(v) {
    if (v === view) return;
    view = v;
    navigate(withParams({ view: v === 'waterfall' ? null : v }), { replace: true, silent: true });
    if (v !== 'waterfall') loadAnalysis();
    drawToolbar();
    drawMain();
  }

  function setCritical(on) {
    critical = on;
    navigate(withParams({ cp: on ? '1' : null }), { replace: true, silent: true });
    if (on) loadAnalysis();
    drawToolbar();
    showAnalysis();
    if (selId && tab === 'span') drawPanel();
  }

  function drawMain() {
    if (vl) { vl.destroy(); vl = null; }
    if (flame) { flame.destroy(); flame = null; }
    wfEl = null;
    rows = flatten(tree.roots, collapsed);
    if (view === 'flame') {
      flame = flameGraph(tree, { onSelect: (id) => select(id), isError });
      flame.update({ analysis: hasAnalysis() ? analysis : null, critical, selected: selId });
      replace(mainEl, flame.el);
      return;
    }
    if (view === 'stats') {
      if (hasAnalysis()) replace(mainEl, spanStatsTable(analysis, { onPick: pickOperation }));
      else if (analysis instanceof Error) replace(mainEl, errorState(analysis, 'the span statistics', { retry: loadAnalysis }));
      else replace(mainEl, loadingState('Adding up the spans…'));
      return;
    }
    // ---- waterfall ----
    const ticks = h('div', { class: 'wf-axis-ticks' });
    for (let i = 0; i <= 4; i++) {
      const t = h('span', { class: 'wf-tick' }, i === 0 ? '0' : fmtDuration((total * i) / 4));
      t.style.left = `${i * 25}%`;
      if (i === 4) t.classList.add('last');
      ticks.appendChild(t);
    }
    const axis = h('div', { class: 'wf-row wf-axis' },
      h('div', { class: 'wf-name' },
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => setAll(false), dataset: { testid: 'expand-all' } }, 'Expand all'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => setAll(true), dataset: { testid: 'collapse-all' } }, 'Collapse all')),
      h('div', { class: 'wf-time' }, ticks));
    vl = new VirtualList({ rowHeight: ROW_H, renderRow, className: 'wf-list', label: 'Spans', overscan: 16 });
    wfEl = h('div', { class: ['waterfall', critical && hasAnalysis() && 'with-self'], dataset: { testid: 'waterfall' } }, axis, vl.el);
    replace(mainEl, wfEl);
    vl.setItems(rows);
    const si = rows.findIndex((n) => n.span.spanId === selId);
    if (si >= 0) vl.scrollToIndex(si);
  }

  // A statistics row picked: its longest span, in the waterfall.
  function pickOperation(st) {
    let best = null;
    for (const n of tree.nodes.values()) {
      if (n.span.service !== st.service || n.span.name !== st.name) continue;
      if (!best || n.end - n.start > best.end - best.start) best = n;
    }
    if (!best) return;
    setView('waterfall');
    select(best.span.spanId);
  }

  function drawTabs() {
    const n = Array.isArray(logs) ? logs.length : null;
    replace(tabsEl,
      h('button', { type: 'button', role: 'tab', class: ['tab', tab === 'span' && 'active'], 'aria-selected': String(tab === 'span'), dataset: { testid: 'tab-span' }, onclick: () => setTab('span') }, selId ? 'Span' : 'Overview'),
      h('button', { type: 'button', role: 'tab', class: ['tab', tab === 'logs' && 'active'], 'aria-selected': String(tab === 'logs'), dataset: { testid: 'tab-logs' }, onclick: () => setTab('logs') },
        'Logs', n !== null ? h('span', { class: 'tab-count' }, String(n)) : null));
  }

  function setTab(t) {
    const other = t !== tab;
    tab = t;
    navigate(withParams({ tab: t === 'logs' ? 'logs' : null }), { replace: true, silent: true });
    drawTabs();
    drawPanel();
    if (other) panel.scrollTop = 0;
  }

  function setAll(collapse) {
    collapsed.clear();
    if (collapse) for (const n of tree.nodes.values()) if (n.children.length && n.depth >= 0) collapsed.add(n.span.spanId);
    // keep the roots open so the first level stays visible
    if (collapse) for (const r of tree.roots) collapsed.delete(r.span.spanId);
    relayout();
  }

  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id);
    else collapsed.add(id);
    relayout();
  }

  function relayout() {
    rows = flatten(tree.roots, collapsed);
    if (vl) vl.setItems(rows);
    if (selId && !rows.some((n) => n.span.spanId === selId)) {
      // the selection was hidden: select its visible ancestor
      let n = tree.nodes.get(selId);
      while (n && !rows.includes(n)) n = tree.nodes.get(n.span.parentSpanId);
      select(n ? n.span.spanId : '');
    }
  }

  function logCountFor(spanId) {
    if (!Array.isArray(logs)) return 0;
    let c = 0;
    for (const l of logs) if (l.spanId === spanId) c++;
    return c;
  }

  function renderRow(n) {
    const s = n.span;
    const err = isError(s);
    const svc = serviceClass(s.service);
    const name = h('div', { class: 'wf-name' });
    const indent = h('span', { class: 'wf-indent' });
    indent.style.width = `${Math.min(n.depth, 40) * 14}px`;
    name.appendChild(indent);
    if (n.children.length) {
      const open = !collapsed.has(s.spanId);
      name.appendChild(h('button', {
        type: 'button', class: 'wf-toggle', 'aria-label': open ? 'Collapse' : 'Expand', 'aria-expanded': String(open),
        dataset: { testid: 'span-toggle' },
        onclick: (e) => { e.stopPropagation(); toggle(s.spanId); },
      }, icon(open ? 'chevronDown' : 'chevronRight'), open ? null : h('span', { class: 'wf-hidden-count' }, String(countDescendants(n)))));
    } else {
      name.appendChild(h('span', { class: 'wf-toggle-space' }));
    }
    name.appendChild(h('span', { class: `wf-svc ${svc}` }));
    const target = callTarget(n);
    name.appendChild(h('span', { class: 'wf-label ellipsis', title: `${s.service}: ${s.name}${target ? ` → ${targetTitle(target)}` : ''}` },
      err ? icon('alert', 'err-icon') : null,
      h('span', { class: 'wf-service' }, s.service),
      h('span', { class: 'wf-span-name' }, s.name),
      target ? h('span', { class: 'wf-target', dataset: { testid: 'call-target' } },
        '→ ', target.service ? h('span', { class: `dot ${serviceClass(target.service)}` }) : null, target.text) : null));
    const lc = logCountFor(s.spanId);
    if (lc) name.appendChild(h('span', { class: 'wf-logs', title: `${lc} log${lc === 1 ? '' : 's'}` }, String(lc)));

    const time = h('div', { class: 'wf-time' });
    const left = (100 * offset(s.startTimeUnixNano)) / total;
    const width = (100 * Math.max(0, Number(nsBig(s.endTimeUnixNano) - nsBig(s.startTimeUnixNano)))) / total;
    const bar = h('span', { class: ['wf-bar', svc, err && 'err'], title: `${s.name}: ${fmtDuration(s.durationNs ?? Number(nsBig(s.endTimeUnixNano) - nsBig(s.startTimeUnixNano)))}` });
    bar.style.left = `${left}%`;
    bar.style.width = `max(2px, ${width}%)`;
    time.appendChild(bar);
    for (const ev of s.events || []) {
      const m = h('span', { class: ['wf-event', /exception/i.test(ev.name) && 'exc'], title: `${ev.name} at +${fmtDuration(offset(ev.timeUnixNano))}` });
      m.style.left = `${(100 * offset(ev.timeUnixNano)) / total}%`;
      time.appendChild(m);
    }
    const cp = critical && hasAnalysis() ? analysis.spans && analysis.spans[s.spanId] : null;
    if (cp) {
      for (const sg of segments.get(s.spanId) || []) {
        const m = h('span', { class: 'wf-crit', title: `on the critical path: ${fmtDuration(sg.durationNs)}` });
        m.style.left = `${(100 * offset(sg.startTimeUnixNano)) / total}%`;
        m.style.width = `${(100 * Number(sg.durationNs)) / total}%`;
        time.appendChild(m);
      }
    }
    const dur = fmtDuration(Number(nsBig(s.endTimeUnixNano) - nsBig(s.startTimeUnixNano)));
    const label = h('span', { class: 'wf-dur mono' }, dur, cp ? h('span', { class: 'wf-self', dataset: { testid: 'self-time' } }, ` · self ${fmtDuration(cp.selfNs)}`) : null);
    label.style.left = `${left + width}%`;
    time.appendChild(label);

    const onPath = critical && hasAnalysis() ? (cp && cp.critical ? 'on-path' : 'off-path') : null;
    return h('div', {
      class: ['wf-row', 'span-row', s.spanId === selId && 'selected', err && 'row-error', onPath],
      dataset: { spanId: s.spanId, depth: String(n.depth) },
      onclick: () => select(s.spanId === selId ? '' : s.spanId),
    }, name, time);
  }

  function countDescendants(n) {
    let c = 0;
    const st = [...n.children];
    while (st.length) { const x = st.pop(); c++; for (const y of x.children) st.push(y); }
    return c;
  }

  function select(id) {
    const other = id !== selId || (id && tab !== 'span');
    selId = id;
    if (id) tab = 'span';
    navigate(withParams({ span: id || null, tab: tab === 'logs' ? 'logs' : null }), { replace: true, silent: true });
    if (vl) {
      vl.refresh();
      const i = rows.findIndex((n) => n.span.spanId === id);
      if (i >= 0) vl.scrollToIndex(i);
    }
    if (flame) flame.update({ selected: id });
    drawTabs();
    drawPanel();
    // another span starts at its top (name, status), not where the last one was scrolled to
    if (other) panel.scrollTop = 0;
  }

  function drawPanel() {
    if (!panel) return;
    if (tab === 'logs') { replace(panel, logsView(null)); return; }
    const n = selId ? tree.nodes.get(selId) : null;
    if (!n) {
      replace(panel, summaryView());
      return;
    }
    replace(panel, spanView(n));
  }

  function spanView(n) {
    const s = n.span;
    const parent = s.parentSpanId ? tree.nodes.get(s.parentSpanId) : null;
    const st = statusName(s.status);
    const dur = Number(nsBig(s.endTimeUnixNano) - nsBig(s.startTimeUnixNano));
    const target = callTarget(n);
    return h('div', { class: 'span-detail', dataset: { testid: 'span-detail' } },
      h('div', { class: 'detail-head' },
        h('span', { class: `wf-svc ${serviceClass(s.service)}` }),
        h('span', { class: 'detail-title', dataset: { testid: 'span-name' } }, s.name),
        h('button', { type: 'button', class: 'btn-icon', 'aria-label': 'Close span details', onclick: () => select('') }, icon('x'))),
      h('div', { class: 'badges' },
        serviceChip(s.service, { href: pageLink('/traces', { service: s.service }) }),
        h('span', { class: 'badge' }, kindName(s.kind)),
        h('span', { class: ['badge', st === 'ERROR' && 'badge-error', st === 'OK' && 'badge-ok'], dataset: { testid: 'span-status' } }, st),
        h('span', { class: 'badge' }, fmtDuration(dur))),
      st === 'ERROR' && s.status && s.status.message ? h('div', { class: 'status-msg', role: 'note' }, icon('alert'), s.status.message) : null,
      conversationSection(s, Array.isArray(logs) ? logs.filter((l) => l.spanId === s.spanId) : []),
      section('Span', fieldTable([
        ['Span id', idWithCopy(s.spanId, { label: 'Copy span id' })],
        ['Parent', s.parentSpanId ? (parent
          ? h('a', { href: withParams({ span: s.parentSpanId }), onclick: (e) => { e.preventDefault(); select(s.parentSpanId); } }, `${parent.span.name} (${shortId(s.parentSpanId)})`)
          : h('span', null, h('span', { class: 'mono' }, s.parentSpanId), h('span', { class: 'muted' }, ' (not in this trace)'))) : '— (root)'],
        ['Trace id', idWithCopy(s.traceId || traceId, { label: 'Copy trace id' })],
        ['Start', h('span', { title: fmtTimeFull(s.startTimeUnixNano) }, `+${fmtDuration(offset(s.startTimeUnixNano))}  ·  ${fmtTime(s.startTimeUnixNano, { date: 'always' })}`)],
        ['Duration', fmtDuration(dur)],
        hasAnalysis() && analysis.spans && analysis.spans[s.spanId] ? ['Self time', h('span', { dataset: { testid: 'span-self' } }, fmtDuration(analysis.spans[s.spanId].selfNs))] : null,
        hasAnalysis() && analysis.spans && analysis.spans[s.spanId] ? ['Critical path', h('span', { dataset: { testid: 'span-critical' } },
          analysis.spans[s.spanId].critical ? `on it, ${fmtDuration(analysis.spans[s.spanId].criticalNs)}` : 'not on it')] : null,
        ['Kind', kindName(s.kind)],
        target ? ['Calls', target.callee ? h('a', {
          href: withParams({ span: target.callee.span.spanId }), dataset: { testid: 'span-callee' },
          onclick: (e) => { e.preventDefault(); select(target.callee.span.spanId); },
        }, targetTitle(target)) : targetTitle(target)] : null,
        ['Status', s.status && s.status.message ? `${st}: ${s.status.message}` : st],
        s.traceState ? ['Trace state', s.traceState] : null,
      ])),
      section('Attributes', attrTable(s.attributes, {
        grouped: true, filterHref: (k, v) => addFilterLink('/traces', attrCondition(k, v)),
      })),
      section(`Events (${(s.events || []).length})`, (s.events || []).length === 0 ? h('div', { class: 'muted small' }, 'No events')
        : h('ol', { class: 'events' }, s.events.map((ev) => h('li', { class: ['event', /exception/i.test(ev.name) && 'exc'] },
          h('div', { class: 'event-head' }, h('strong', null, ev.name), h('span', { class: 'muted mono' }, `+${fmtDuration(offset(ev.timeUnixNano))}`)),
          attrTable(ev.attributes, { empty: '' }))))),
      section(`Links (${(s.links || []).length})`, (s.links || []).length === 0 ? h('div', { class: 'muted small' }, 'No links')
        : h('ul', { class: 'links-list' }, s.links.map((l) => h('li', null,
          h('a', { href: pageLink(`/traces/${l.traceId}`, { span: l.spanId }), dataset: { nav: '', testid: 'span-link' }, class: 'mono' },
            l.traceId === traceId ? `this trace, span ${shortId(l.spanId)}` : `trace ${shortId(l.traceId)} · span ${shortId(l.spanId)}`),
          attrTable(l.attributes, { empty: '' }))))),
      section(`Logs of this span (${logCountFor(s.spanId)})`, logsView(s.spanId)),
      section('Resource', attrTable(s.resource && s.resource.attributes, { grouped: true })),
      section('Scope', fieldTable([['Name', (s.scope && s.scope.name) || '—'], ['Version', (s.scope && s.scope.version) || '—']])));
  }

  // With no span selected: where to look first (errors, the longest spans).
  function summaryView() {
    const pick = (node) => h('li', null, h('a', {
      href: withParams({ span: node.span.spanId }), dataset: { testid: 'summary-span' },
      onclick: (e) => { e.preventDefault(); select(node.span.spanId); },
    }, h('span', { class: `dot ${serviceClass(node.span.service)}` }), ` ${node.span.name}`),
    h('span', { class: 'muted small' }, ` ${node.span.service} · ${fmtDuration(Number(node.end - node.start))}`),
    isError(node.span) && node.span.status && node.span.status.message ? h('div', { class: 'err-text small' }, node.span.status.message) : null);
    const all = [...tree.nodes.values()];
    const errors = all.filter((x) => isError(x.span)).sort((a, b) => (a.start < b.start ? -1 : 1));
    const longest = all.filter((x) => !tree.roots.includes(x)).sort((a, b) => Number((b.end - b.start) - (a.end - a.start))).slice(0, 5);
    return h('div', { class: 'trace-summary', dataset: { testid: 'trace-summary' } },
      h('div', { class: 'panel-hint muted' }, 'Select a span to see its attributes, events, links and logs. ', h('kbd', null, 'j'), ' / ', h('kbd', null, 'k'), ' move between spans.'),
      errors.length ? section(`Errors (${errors.length})`, h('ul', { class: 'summary-list' }, errors.slice(0, 20).map(pick))) : null,
      longest.length ? section('Longest spans', h('ul', { class: 'summary-list' }, longest.map(pick))) : null);
  }

  // The trace's logs (all, or one span's), oldest first, with offsets.
  function logsView(spanId) {
    if (logs === null) return loadingState('Loading logs…');
    if (logs instanceof Error) return errorState(logs, 'the logs of this trace');
    const list = spanId ? logs.filter((l) => l.spanId === spanId) : logs;
    if (list.length === 0) return h('div', { class: 'muted small' }, spanId ? 'No logs for this span.' : 'No logs carry this trace id.');
    return h('ul', { class: 'trace-logs', dataset: { testid: 'trace-logs' } }, list.map((l) => {
      const owner = tree.nodes.get(l.spanId);
      return h('li', { class: 'trace-log' },
        h('div', { class: 'trace-log-head' },
          h('span', { class: `sev ${severityClass(l.severityNumber)}` }, severityLabel(l)),
          h('span', { class: 'mono muted' }, `+${fmtDuration(offset(l.timeUnixNano))}`),
          owner && !spanId ? h('a', {
            href: withParams({ span: l.spanId }), class: 'small',
            onclick: (e) => { e.preventDefault(); select(l.spanId); },
          }, owner.span.name) : null,
          h('span', { class: 'spacer' }),
          h('a', { href: pageLink('/logs', { traceId, log: l.timeUnixNano }), dataset: { nav: '', testid: 'open-in-logs' }, class: 'small' }, 'Open in Logs')),
        h('div', { class: 'trace-log-body' }, bodyText(l.body)));
    }));
  }

  function move(d) {
    if (!rows.length) return;
    let i = rows.findIndex((n) => n.span.spanId === selId);
    i = i < 0 ? (d > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + d));
    select(rows[i].span.spanId);
  }

  load();
  return {
    unmount() { if (vl) vl.destroy(); if (flame) flame.destroy(); },
    refresh: () => { logs = null; analysis = null; load(); },
    keys: {
      next: () => move(1),
      prev: () => move(-1),
      left: () => { if (selId && tree.nodes.get(selId).children.length && !collapsed.has(selId)) toggle(selId); else if (selId) { const n = tree.nodes.get(selId); if (n && tree.nodes.has(n.span.parentSpanId)) select(n.span.parentSpanId); } },
      right: () => { if (selId && collapsed.has(selId)) toggle(selId); },
      open: () => { if (selId && tree.nodes.get(selId).children.length) toggle(selId); },
      escape: () => { if (selId) select(''); },
    },
  };
}
