// compare.js - two traces side by side as one merged tree (GET
// /api/v1/traces/compare): spans matched by service, name and path from
// the root; each row shows the duration in A and in B and the difference,
// slower in red, faster in green, spans of one trace only marked. The
// biggest slowdowns and speedups lead to their rows. /compare?a=&b=.
import { h, icon, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { navigate, pageLink } from '../state.js';
import { VirtualList } from '../vlist.js';
import { serviceClass } from '../colors.js';
import { emptyState, errorState, loadingState, serviceChip } from '../components.js';
import { fmtCount, fmtDuration, fmtTime, shortId } from '../format.js';

const ROW_H = 28;
const HEX32 = /^[0-9a-f]{32}$/i;

// How a merged node changed: {cls, heat (0..3)}. cls: 'only-a', 'only-b',
// 'slower', 'faster' or 'same' (within 5% of A's duration).
export function diffClass(n) {
  if (n.in === 'a') return { cls: 'only-a', heat: 0 };
  if (n.in === 'b') return { cls: 'only-b', heat: 0 };
  const base = Math.max(1, Number(n.a.durationNs) || 0);
  const rel = (Number(n.diffNs) || 0) / base;
  if (rel >= 0.05) return { cls: 'slower', heat: rel >= 1 ? 3 : rel >= 0.3 ? 2 : 1 };
  if (rel <= -0.05) return { cls: 'faster', heat: rel <= -0.5 ? 3 : rel <= -0.2 ? 2 : 1 };
  return { cls: 'same', heat: 0 };
}

// "+1.2 ms", "−300 µs", "±0".
export function fmtDiff(ns) {
  const n = Number(ns) || 0;
  if (n === 0) return '±0';
  return `${n > 0 ? '+' : '−'}${fmtDuration(Math.abs(n))}`;
}

// The rows shown: depth-first (the API's order) without collapsed subtrees.
export function visibleNodes(nodes, collapsed) {
  const out = [];
  let skipDepth = -1;
  for (const n of nodes) {
    if (skipDepth >= 0 && n.depth > skipDepth) continue;
    skipDepth = -1;
    out.push(n);
    if (collapsed.has(n.id)) skipDepth = n.depth;
  }
  return out;
}

export function mount(root, { params, signal }) {
  document.title = 'Compare traces · loupe';
  const a = (params.get('a') || '').toLowerCase();
  const b = (params.get('b') || '').toLowerCase();
  const page = h('div', { class: 'page page-compare page-fill' });
  root.appendChild(page);
  let vl = null;
  let data = null;
  let rows = [];
  let focus = -1; // a node id to highlight
  const collapsed = new Set();

  const aIn = h('input', { type: 'text', class: 'input mono trace-id-input', name: 'a', value: a, placeholder: 'trace A (32 hex digits)', 'aria-label': 'Trace A', spellcheck: 'false', dataset: { testid: 'compare-a' } });
  const bIn = h('input', { type: 'text', class: 'input mono trace-id-input', name: 'b', value: b, placeholder: 'trace B (32 hex digits)', 'aria-label': 'Trace B', spellcheck: 'false', dataset: { testid: 'compare-b' } });
  const formErr = h('span', { class: 'field-error', role: 'alert' });
  const form = h('form', { class: 'filterbar compare-form', dataset: { testid: 'compare-form' } },
    h('span', { class: 'cmp-tag tag-a' }, 'A'), aIn, h('span', { class: 'cmp-tag tag-b' }, 'B'), bIn,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Compare'),
    h('button', {
      type: 'button', class: 'btn', title: 'Swap A and B', dataset: { testid: 'compare-swap' },
      onclick: () => { const x = aIn.value; aIn.value = bIn.value; bIn.value = x; submit(); },
    }, 'Swap'),
    formErr);
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });

  function submit() {
    const va = aIn.value.trim();
    const vb = bIn.value.trim();
    if (!HEX32.test(va) || !HEX32.test(vb)) {
      formErr.textContent = 'Both trace ids are 32 hex digits';
      return;
    }
    formErr.textContent = '';
    navigate(pageLink('/compare', { a: va.toLowerCase(), b: vb.toLowerCase() }));
  }

  const body = h('div', { class: 'compare-body' });
  replace(page, h('div', { class: 'page-head' }, h('h1', null, 'Compare traces')), form, body);

  async function load() {
    if (!HEX32.test(a) || !HEX32.test(b)) {
      replace(body, emptyState('Pick two traces', 'Enter two trace ids above, or use "Compare with…" on a trace or in the trace list.',
        h('a', { class: 'btn', href: pageLink('/traces'), dataset: { nav: '' } }, 'Search traces')));
      return;
    }
    replace(body, loadingState('Comparing the traces…'));
    try {
      data = await apiGet('/traces/compare', { a, b }, { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404 && !e.missingEndpoint) {
        replace(body, emptyState('Trace not found', e.message, h('a', { class: 'btn', href: pageLink('/traces'), dataset: { nav: '' } }, 'Search traces')));
      } else {
        replace(body, errorState(e, 'the comparison', { retry: load }));
      }
      return;
    }
    draw();
  }

  function traceCard(tag, t) {
    return h('div', { class: `cmp-card card-${tag}`, dataset: { testid: `compare-card-${tag}` } },
      h('div', { class: 'cmp-card-head' },
        h('span', { class: `cmp-tag tag-${tag}` }, tag.toUpperCase()),
        serviceChip(t.rootService),
        h('a', { href: pageLink(`/traces/${t.traceId}`), dataset: { nav: '', testid: `compare-link-${tag}` }, class: 'root-name' }, t.rootName || '(missing root span)')),
      h('div', { class: 'cmp-card-meta' },
        h('span', null, h('span', { class: 'muted' }, 'Duration '), h('strong', { dataset: { testid: `compare-duration-${tag}` } }, fmtDuration(t.durationNs))),
        h('span', null, h('span', { class: 'muted' }, 'Spans '), fmtCount(t.spanCount)),
        h('span', { class: 'muted' }, `started ${fmtTime(t.startTimeUnixNano, { date: 'always' })}`),
        h('span', { class: 'mono muted' }, shortId(t.traceId))));
  }

  function headline() {
    const d = Number(data.diffNs) || 0;
    const base = Number(data.a.durationNs) || 0;
    const pct = base > 0 ? ` (${d > 0 ? '+' : '−'}${Math.round((100 * Math.abs(d)) / base)}%)` : '';
    const text = d === 0 ? 'Both took as long.' : `B took ${fmtDuration(Math.abs(d))} ${d > 0 ? 'longer' : 'less'} than A${pct}.`;
    return h('div', { class: ['cmp-headline', d > 0 && 'slower', d < 0 && 'faster'], dataset: { testid: 'compare-headline' } }, text);
  }

  function changeList(title, list, testid) {
    if (!list || list.length === 0) return null;
    return h('div', { class: 'cmp-changes' }, h('h3', null, title),
      h('ol', { class: 'cmp-change-list', dataset: { testid } }, list.map((c) => h('li', null,
        h('a', {
          href: '#', class: 'cmp-change-link', dataset: { node: String(c.node) },
          onclick: (e) => { e.preventDefault(); focusNode(c.node); },
        }, h('span', { class: `dot ${serviceClass(c.service)}` }), c.name),
        ' ', h('span', { class: ['mono', c.selfDiffNs > 0 ? 'err-text' : 'ok-text'] }, fmtDiff(c.selfDiffNs)),
        h('span', { class: 'muted small' }, ` self · ${c.service}`)))));
  }

  function draw() {
    const s = data.summary;
    const nodes = data.nodes || [];
    const maxDur = nodes.reduce((m, n) => Math.max(m, Number(n.a && n.a.durationNs) || 0, Number(n.b && n.b.durationNs) || 0), 0) || 1;
    const summary = h('div', { class: 'cmp-summary', dataset: { testid: 'compare-summary' } },
      headline(),
      h('div', { class: 'cmp-counts' },
        h('span', { class: 'badge' }, `${fmtCount(s.both)} in both`),
        h('span', { class: 'badge cmp-only-a', dataset: { testid: 'count-only-a' } }, `${fmtCount(s.onlyInA)} only in A`),
        h('span', { class: 'badge cmp-only-b', dataset: { testid: 'count-only-b' } }, `${fmtCount(s.onlyInB)} only in B`)),
      h('div', { class: 'cmp-change-cols' },
        changeList('Biggest slowdowns (self time)', s.slowdowns, 'compare-slowdowns'),
        changeList('Biggest speedups (self time)', s.speedups, 'compare-speedups')));
    const axis = h('div', { class: 'cmp-row cmp-axis' },
      h('div', { class: 'cmp-name' }, 'Span (service: name)',
        h('span', { class: 'spacer' }),
        h('span', { class: 'cmp-legend' },
          h('span', { class: 'cmp-key slower' }, 'slower'), h('span', { class: 'cmp-key faster' }, 'faster'),
          h('span', { class: 'cmp-key only-a' }, 'only in A'), h('span', { class: 'cmp-key only-b' }, 'only in B'))),
      h('div', { class: 'cmp-num' }, 'A'), h('div', { class: 'cmp-num' }, 'B'), h('div', { class: 'cmp-num' }, 'B − A'));
    if (vl) vl.destroy();
    vl = new VirtualList({ rowHeight: ROW_H, renderRow: (n) => renderRow(n, maxDur), className: 'cmp-list', label: 'Merged spans', overscan: 16 });
    replace(body,
      h('div', { class: 'cmp-cards' }, traceCard('a', data.a), traceCard('b', data.b)),
      summary,
      h('div', { class: 'cmp-tree', dataset: { testid: 'compare-tree' } }, axis, vl.el));
    rows = visibleNodes(nodes, collapsed);
    vl.setItems(rows);
    document.title = `${data.a.rootName || 'trace'} A vs B · loupe`;
  }

  function durCell(side, maxDur, tag) {
    if (!side) return h('div', { class: 'cmp-num cmp-absent' }, '—');
    const bar = h('span', { class: `cmp-bar bar-${tag}` });
    bar.style.width = `${Math.max(1, (100 * (Number(side.durationNs) || 0)) / maxDur)}%`;
    return h('div', { class: 'cmp-num', title: `self ${fmtDuration(side.selfNs)}${side.critical ? ', on the critical path' : ''}` },
      h('span', { class: 'cmp-track' }, bar), h('span', { class: 'mono' }, fmtDuration(side.durationNs)));
  }

  function renderRow(n, maxDur) {
    const { cls, heat } = diffClass(n);
    const name = h('div', { class: 'cmp-name' });
    const indent = h('span', { class: 'wf-indent' });
    indent.style.width = `${Math.min(n.depth, 40) * 14}px`;
    name.appendChild(indent);
    const hasKids = nodesHaveChild(n);
    if (hasKids) {
      const open = !collapsed.has(n.id);
      name.appendChild(h('button', {
        type: 'button', class: 'wf-toggle', 'aria-label': open ? 'Collapse' : 'Expand', 'aria-expanded': String(open),
        onclick: (e) => { e.stopPropagation(); toggle(n.id); },
      }, icon(open ? 'chevronDown' : 'chevronRight')));
    } else {
      name.appendChild(h('span', { class: 'wf-toggle-space' }));
    }
    name.appendChild(h('span', { class: `wf-svc ${serviceClass(n.service)}` }));
    name.appendChild(h('span', { class: 'wf-label ellipsis', title: `${n.service}: ${n.name}` },
      h('span', { class: 'wf-service' }, n.service), h('span', { class: 'wf-span-name' }, n.name)));
    if (cls === 'only-a' || cls === 'only-b') name.appendChild(h('span', { class: `cmp-only ${cls}` }, cls === 'only-a' ? 'only in A' : 'only in B'));
    return h('div', {
      class: ['cmp-row', 'cmp-node', cls, heat && `heat-${heat}`, n.id === focus && 'focused'],
      dataset: { node: String(n.id), in: n.in },
    }, name, durCell(n.a, maxDur, 'a'), durCell(n.b, maxDur, 'b'),
    h('div', { class: ['cmp-num', 'cmp-diff', 'mono'] }, fmtDiff(n.diffNs)));
  }

  // children follow their parent directly in the API's depth-first order
  function nodesHaveChild(n) {
    const next = data.nodes[n.id + 1];
    return !!next && next.parent === n.id;
  }

  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id);
    else collapsed.add(id);
    rows = visibleNodes(data.nodes, collapsed);
    vl.setItems(rows);
  }

  // Shows node id (opening its collapsed ancestors) and highlights it.
  function focusNode(id) {
    for (let p = data.nodes[id] ? data.nodes[id].parent : null; p !== null && p !== undefined; p = data.nodes[p].parent) collapsed.delete(p);
    focus = id;
    rows = visibleNodes(data.nodes, collapsed);
    vl.setItems(rows);
    const i = rows.findIndex((n) => n.id === id);
    if (i >= 0) vl.scrollToIndex(i);
  }

  load();
  return {
    unmount() { if (vl) vl.destroy(); },
    refresh: load,
    keys: { escape: () => { focus = -1; if (vl) vl.refresh(); } },
  };
}
