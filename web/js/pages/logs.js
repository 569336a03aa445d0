// logs.js - structured logs: filters, a virtualised newest-first table that
// pages in more as you scroll, live tail with pause/resume, a detail panel
// with every field and links to the trace, span and pattern, and runs of
// one log pattern collapsed on demand. view=patterns is the Patterns view
// (log_patterns.js).
import { h, icon, replace, debounce } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { navigate, pageLink, rangeParams, setParams, timeRange, withParams } from '../state.js';
import { VirtualList } from '../vlist.js';
import { subscribeLive } from '../live.js';
import { mergeByTime } from '../order.js';
import { collapseRuns, mountPatterns, viewSwitch } from './log_patterns.js';
import {
  attrCondition, attrFilterEditor, attrTable, copyButton, emptyState, errorState, fieldTable, idWithCopy,
  loadingState, onboarding, section, select, serviceDot,
} from '../components.js';
import {
  bodyPretty, bodyText, fmtCount, fmtTime, fmtTimeFull, nsBig, severityClass, severityLabel, severityOf, SEVERITIES, shortId,
} from '../format.js';

const PAGE = 500; // rows per request
const HEAD = 200; // rows re-read for live updates
const ROW_H = 30;

// A log's identity for de-duplication (logs have no id in the API).
export function logKey(l) {
  return `${l.timeUnixNano}|${l.observedTimeUnixNano}|${l.service}|${l.spanId}|${l.severityNumber}|${bodyText(l.body).slice(0, 200)}`;
}

// The record's time, or when it was observed if it has none.
const logTime = (l) => (nsBig(l.timeUnixNano) !== 0n ? l.timeUnixNano : l.observedTimeUnixNano);

const timeOf = (l) => nsBig(l.timeUnixNano);

// Shares identical resource/scope objects between rows (memory with 100k rows).
function interner() {
  const m = new Map();
  return (o) => {
    if (!o || typeof o !== 'object') return o;
    const k = JSON.stringify(o);
    const got = m.get(k);
    if (got) return got;
    m.set(k, o);
    return o;
  };
}

export function mount(root, ctx) {
  return ctx.params.get('view') === 'patterns' ? mountPatterns(root, ctx) : mountRecords(root, ctx);
}

function mountRecords(root, { params, signal }) {
  document.title = 'Logs · loupe';
  const f = {
    service: params.get('service') || '',
    minSeverity: params.get('minSeverity') || '',
    q: params.get('q') || '',
    attr: params.getAll('attr'),
    traceId: (params.get('traceId') || '').toLowerCase(),
    spanId: (params.get('spanId') || '').toLowerCase(),
    pattern: /^\d+$/.test(params.get('pattern') || '') ? params.get('pattern') : '',
  };
  // collapsed: the list shows each run of one pattern as its first record
  const collapse = params.get('collapse') === '1';
  const runs = new Map();
  let rows = [];
  const relist = () => { rows = collapse ? collapseRuns(items, runs) : items; };
  const range = timeRange(params);
  let live = params.get('live') !== '0' && range.relative;
  const wantSel = params.get('log') || '';

  let items = [];
  let keys = new Set();
  let nextCursor = null;
  let stopped = false; // the last page was cut by the server's --query-timeout
  let loadingMore = false;
  let sel = -1;
  let sub = null;
  let loaded = false;
  const intern = interner();

  // ---- filter bar ----
  const serviceSel = select([{ value: '', label: 'All services' }], f.service,
    (v) => setParams({ service: v, log: null }), { 'aria-label': 'Service', dataset: { testid: 'filter-service' } });
  getServices({ signal }).then((list) => {
    for (const s of list) if (s.name !== f.service) serviceSel.appendChild(h('option', { value: s.name }, s.name));
    if (f.service && !list.some((s) => s.name === f.service)) { /* kept: the filter stays visible */ }
  }).catch(() => {});
  if (f.service) serviceSel.appendChild(h('option', { value: f.service, selected: true }, f.service));
  const sevSel = select([{ value: '', label: 'Any severity' }, ...SEVERITIES.map((s) => ({ value: s.name, label: `${s.label} and above` }))],
    f.minSeverity, (v) => setParams({ minSeverity: v, log: null }), { 'aria-label': 'Minimum severity', dataset: { testid: 'filter-severity' } });
  const search = h('input', {
    type: 'search', class: 'input search', placeholder: 'Search messages  ( / )', value: f.q,
    'aria-label': 'Search log messages', dataset: { search: '', testid: 'filter-q' }, spellcheck: 'false',
  });
  const applySearch = debounce(() => setParams({ q: search.value.trim(), log: null }), 400);
  search.addEventListener('input', applySearch);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { applySearch.cancel(); setParams({ q: search.value.trim(), log: null }); } });
  const attrs = attrFilterEditor(f.attr, (list) => setParams({ attr: list, log: null }));
  const traceChip = f.traceId || f.spanId ? h('span', { class: 'chip filter-chip', dataset: { filter: 'trace' } },
    h('span', null, f.spanId ? `span ${shortId(f.spanId)}` : `trace ${shortId(f.traceId)}`),
    h('a', { href: pageLink(`/traces/${f.traceId}`, { span: f.spanId }), dataset: { nav: '' }, class: 'chip-link', title: 'Open the trace' }, icon('external')),
    h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove the trace filter', onclick: () => setParams({ traceId: null, spanId: null, log: null }) }, icon('x'))) : null;
  const patternChip = f.pattern ? h('span', { class: 'chip filter-chip', dataset: { filter: 'pattern' } },
    h('span', null, `pattern ${f.pattern}`),
    h('a', { href: withParams({ view: 'patterns', pattern: null, log: null }), dataset: { nav: '' }, class: 'chip-link', title: 'The patterns' }, icon('external')),
    h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove the pattern filter', onclick: () => setParams({ pattern: null, log: null }) }, icon('x'))) : null;
  const collapseBtn = h('button', {
    type: 'button', class: ['btn', 'collapse-btn', collapse && 'on'], 'aria-pressed': String(collapse), dataset: { testid: 'collapse-toggle' },
    title: 'Show consecutive records of one log pattern as one row', onclick: () => setParams({ collapse: collapse ? null : '1', log: null }, { replace: true }),
  }, collapse ? 'Show every record' : 'Group repeats');
  const hasFilters = f.service || f.minSeverity || f.q || f.attr.length || f.traceId || f.spanId || f.pattern;
  const liveBtn = h('button', {
    type: 'button', class: ['btn', 'live-btn', live && 'on'], disabled: !range.relative,
    title: range.relative ? 'Live tail: show new logs as they arrive' : 'Live tail needs a relative time range',
    dataset: { testid: 'live-toggle' }, 'aria-pressed': String(live),
    onclick: () => setParams({ live: live ? '0' : null }, { replace: true }),
  }, icon(live ? 'pause' : 'play'), live ? 'Pause' : 'Resume live');
  const liveState = h('span', { class: ['live-state', live && 'on'], dataset: { testid: 'live-state' } }, live ? 'Live' : 'Paused');
  const countEl = h('span', { class: 'muted count', dataset: { testid: 'log-count' } });

  // ---- table ----
  const gridHead = h('div', { class: 'grid-head logs-grid', role: 'row' },
    h('span', null, 'Time'), h('span', null, 'Service'), h('span', null, 'Severity'), h('span', null, 'Message'), h('span', null, 'Trace'));
  const vl = new VirtualList({
    rowHeight: ROW_H, className: 'logs-list', label: 'Logs',
    renderRow: renderRow,
    onNearEnd: () => loadMore(),
  });
  const foot = h('div', { class: 'list-foot muted small' });
  const tableArea = h('div', { class: 'table-area' }, gridHead, vl.el, foot);
  const status = h('div', { class: 'list-status' }, loadingState('Loading logs…'));
  const detail = h('aside', { class: 'detail', hidden: true, 'aria-label': 'Log details', dataset: { testid: 'log-detail' } });
  const split = h('div', { class: 'split' }, h('div', { class: 'split-main' }, status, tableArea), detail);
  tableArea.hidden = true;

  root.appendChild(h('div', { class: 'page page-logs page-fill' },
    h('div', { class: 'page-head' }, h('h1', null, 'Logs'), countEl, h('span', { class: 'spacer' }), liveState, liveBtn, collapseBtn, viewSwitch('records')),
    h('div', { class: 'filterbar' }, serviceSel, sevSel, search, attrs, traceChip, patternChip,
      hasFilters ? h('a', { href: pageLink('/logs'), dataset: { nav: '' }, class: 'btn btn-link' }, 'Clear filters') : null),
    split));

  function apiParams(extra) {
    return {
      service: f.service, minSeverity: f.minSeverity, q: f.q, attr: f.attr, traceId: f.traceId, spanId: f.spanId,
      pattern: f.pattern, ...rangeParams(params), ...extra,
    };
  }

  // What the API answered, kept to what the filters promise (service,
  // severity, trace, span and pattern are exact: an older server that ignores one of
  // them must not show unrelated rows here).
  function accept(list) {
    const min = f.minSeverity ? (SEVERITIES.find((s) => s.name === f.minSeverity) || { min: Number(f.minSeverity) || 0 }).min : 0;
    return list.filter((l) => (!f.service || l.service === f.service)
      && (!min || Number(l.severityNumber) >= min)
      && (!f.traceId || l.traceId === f.traceId)
      && (!f.spanId || l.spanId === f.spanId)
      && (!f.pattern || String(l.patternId) === f.pattern))
      .map((l) => {
        l.resource = intern(l.resource);
        l.scope = intern(l.scope);
        return l;
      });
  }

  async function load() {
    let body;
    try {
      body = await apiGet('/logs', apiParams({ limit: PAGE }), { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      tableArea.hidden = true;
      replace(status, errorState(e, 'logs', { retry: load }));
      return;
    }
    items = accept(body.logs || []);
    keys = new Set(items.map(logKey));
    nextCursor = body.nextCursor || null;
    stopped = body.partial === true;
    loaded = true;
    relist();
    if (wantSel && sel < 0) {
      const i = rows.findIndex((l) => l.timeUnixNano === wantSel);
      if (i >= 0) sel = i;
    } else if (sel >= rows.length) sel = -1;
    await showList();
    vl.setItems(rows);
    if (sel >= 0) { vl.scrollToIndex(sel); showDetail(); }
    updateCount();
  }

  async function showList() {
    if (items.length > 0) {
      replace(status);
      tableArea.hidden = false;
      return;
    }
    tableArea.hidden = true;
    if (stopped) {
      replace(status, emptyState('The search stopped before finding a match',
        'It reached the server\'s time limit. Narrow the time range or add a filter (service, severity, attribute) and search again.'));
      status.dataset.testid = 'partial-note';
      return;
    }
    if (hasFilters) {
      replace(status, emptyState('No logs match these filters', `In ${range.label.toLowerCase()}. Widen the time range or remove a filter.`,
        h('a', { href: pageLink('/logs'), dataset: { nav: '' }, class: 'btn' }, 'Clear filters')));
      return;
    }
    let anyService = false;
    try { anyService = (await getServices({ signal })).length > 0; } catch { anyService = true; }
    replace(status, anyService
      ? emptyState('No logs in this time range', `Nothing arrived in ${range.label.toLowerCase()}.${live ? ' Waiting for new logs…' : ''}`)
      : onboarding({ what: 'logs' }));
  }

  async function loadMore() {
    if (!nextCursor || loadingMore || !loaded) return;
    loadingMore = true;
    updateCount();
    try {
      const body = await apiGet('/logs', apiParams({ limit: PAGE, cursor: nextCursor }), { signal });
      const more = accept(body.logs || []).filter((l) => !keys.has(logKey(l)));
      for (const l of more) keys.add(logKey(l));
      nextCursor = body.nextCursor || null;
      stopped = body.partial === true;
      items = items.concat(more);
      relist();
      if (collapse) vl.setItems(rows); else vl.append(more);
    } catch (e) {
      if (e.name === 'AbortError') return;
      foot.textContent = `Loading more failed: ${e.message}`;
      loadingMore = false;
      return;
    }
    loadingMore = false;
    updateCount();
  }

  // Live: re-read the head and merge what is new into its time position
  // (the list's order is the API's: time descending, then arrival).
  async function head() {
    if (!loaded) return;
    let body;
    try {
      body = await apiGet('/logs', apiParams({ limit: HEAD, ...rangeParams(params) }), { signal });
    } catch (e) {
      return;
    }
    const list = accept(body.logs || []);
    const fresh = list.filter((l) => !keys.has(logKey(l)));
    if (fresh.length === 0) return;
    if (fresh.length === list.length && items.length > 0 && body.nextCursor) {
      // more arrived than one head read holds: start over rather than leave a gap
      sel = -1;
      await load();
      return;
    }
    const selected = rows[sel];
    const merged = mergeByTime(items, fresh, timeOf, { complete: !nextCursor });
    if (merged.added.length === 0) return;
    for (const l of merged.added) keys.add(logKey(l));
    items = merged.items;
    relist();
    if (selected) sel = rows.indexOf(selected);
    if (tableArea.hidden) await showList();
    vl.insert(rows, new Set(merged.added));
    updateCount();
  }

  function updateCount() {
    countEl.textContent = `${fmtCount(items.length)}${nextCursor ? '+' : ''} log${items.length === 1 ? '' : 's'}`;
    foot.textContent = loadingMore ? 'Loading more…'
      : stopped && items.length ? 'The search stopped at the server\'s time limit: these are the records found so far. Narrow the time range or add a filter for a complete answer.'
        : nextCursor ? 'Scroll for more' : items.length ? `End of the logs (${range.label.toLowerCase()})` : '';
    foot.dataset.testid = stopped && items.length ? 'partial-note' : 'list-foot';
  }

  function renderRow(l, i) {
    const sev = severityOf(l.severityNumber);
    const row = h('div', {
      class: ['logs-grid', 'log-row', i === sel && 'selected', sev && sev.min >= 17 && 'row-error'],
      onclick: (e) => {
        if (e.target instanceof Element && e.target.closest('a, button')) return;
        selectIndex(i === sel ? -1 : i);
      },
    },
    h('span', { class: 'cell-time mono', title: fmtTimeFull(l.timeUnixNano) }, fmtTime(logTime(l))),
    h('span', { class: 'cell-service' }, serviceDot(l.service), h('span', { class: 'ellipsis' }, l.service)),
    h('span', null, h('span', { class: `sev ${severityClass(l.severityNumber)}` }, severityLabel(l))),
    h('span', { class: 'cell-msg ellipsis', title: bodyText(l.body).slice(0, 1000) },
      runs.get(l) > 1 ? h('a', {
        class: 'run-count', href: withParams({ pattern: String(l.patternId), collapse: null, log: null }), dataset: { nav: '', testid: 'run-count' },
        title: `${runs.get(l)} records of this pattern in a row: show the pattern's records`,
      }, `×${fmtCount(runs.get(l))}`) : null,
      l.eventName ? h('span', { class: 'event-name' }, l.eventName) : null, bodyText(l.body).slice(0, 400)),
    h('span', { class: 'cell-trace' }, l.traceId ? h('a', {
      href: pageLink(`/traces/${l.traceId}`, { span: l.spanId }), dataset: { nav: '', testid: 'log-trace-link' }, class: 'mono', title: `Trace ${l.traceId}`,
    }, icon('link'), shortId(l.traceId)) : null));
    return row;
  }

  function selectIndex(i) {
    sel = i;
    vl.refresh();
    if (i >= 0) vl.scrollToIndex(i);
    showDetail();
    navigate(withParams({ log: i >= 0 ? rows[i].timeUnixNano : null }), { replace: true, silent: true });
  }

  function showDetail() {
    const l = rows[sel];
    if (!l) { detail.hidden = true; replace(detail); return; }
    detail.hidden = false;
    const traceHref = l.traceId ? pageLink(`/traces/${l.traceId}`, { span: l.spanId }) : null;
    replace(detail,
      h('div', { class: 'detail-head' },
        h('span', { class: `sev ${severityClass(l.severityNumber)}` }, severityLabel(l)),
        h('span', { class: 'detail-title ellipsis' }, fmtTimeFull(l.timeUnixNano)),
        h('button', { type: 'button', class: 'btn-icon', 'aria-label': 'Close details', onclick: () => selectIndex(-1) }, icon('x'))),
      h('div', { class: 'detail-body' },
        section('Message', h('div', { class: 'body-wrap' }, h('pre', { class: 'log-body', dataset: { testid: 'log-body' } }, bodyPretty(l.body)),
          copyButton(bodyPretty(l.body), { label: 'Copy message' }))),
        traceHref ? h('div', { class: 'detail-links' },
          h('a', { class: 'btn', href: traceHref, dataset: { nav: '', testid: 'detail-trace-link' } }, icon('link'), 'Open trace'),
          h('a', { class: 'btn', href: pageLink('/logs', { traceId: l.traceId }), dataset: { nav: '' } }, 'Logs of this trace')) : null,
        section('Log record', fieldTable([
          ['Time', fmtTimeFull(l.timeUnixNano)],
          ['Observed', fmtTimeFull(l.observedTimeUnixNano)],
          ['Service', h('a', { href: pageLink('/logs', { service: l.service }), dataset: { nav: '' } }, l.service)],
          ['Severity', `${severityLabel(l)} (${l.severityNumber ?? 0})`],
          l.eventName ? ['Event name', l.eventName] : null,
          l.patternId != null ? ['Pattern', h('a', { href: withParams({ pattern: String(l.patternId), log: null, collapse: null }), dataset: { nav: '', testid: 'detail-pattern-link' } }, `Records of pattern ${l.patternId}`)] : null,
          ['Trace id', l.traceId ? idWithCopy(l.traceId, { href: pageLink(`/traces/${l.traceId}`), label: 'Copy trace id' }) : '—'],
          ['Span id', l.spanId ? idWithCopy(l.spanId, { href: traceHref, label: 'Copy span id' }) : '—'],
          l.flags ? ['Flags', String(l.flags)] : null,
        ])),
        section('Attributes', attrTable(l.attributes, {
          filterHref: (k, v) => withParams({ attr: [...new Set([...f.attr, attrCondition(k, v)])], log: null }),
        })),
        section('Resource', attrTable(l.resource && l.resource.attributes)),
        section('Scope', fieldTable([['Name', (l.scope && l.scope.name) || '—'], ['Version', (l.scope && l.scope.version) || '—']]))));
  }

  if (live) sub = subscribeLive({ events: 'logs', service: f.service, minSeverity: f.minSeverity, q: f.q, attr: f.attr, traceId: f.traceId, spanId: f.spanId, pattern: f.pattern }, head);
  load();

  return {
    unmount() { if (sub) sub.stop(); vl.destroy(); applySearch.cancel(); },
    refresh: () => (live ? head() : load()),
    keys: {
      next: () => { if (rows.length) selectIndex(Math.min(rows.length - 1, sel + 1)); },
      prev: () => { if (rows.length) selectIndex(Math.max(0, sel - 1)); },
      open: () => { const l = rows[sel]; if (l && l.traceId) navigate(pageLink(`/traces/${l.traceId}`, { span: l.spanId })); },
      escape: () => { if (sel >= 0) selectIndex(-1); },
    },
  };
}
