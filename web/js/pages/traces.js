// traces.js - trace search (service, span name, attributes, duration range,
// errors only, text, time range): a duration scatter plot of the results
// over time (a click opens the trace), and the list with service chips,
// span and error counts and a duration bar relative to the slowest,
// sortable by start, duration, spans and errors, or grouped by root
// operation; new traces arrive live.
import { h, icon, replace } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { navigate, pageLink, rangeParams, rememberSearch, setParams, timeRange, withParams } from '../state.js';
import { subscribeLive } from '../live.js';
import { attrFilterEditor, emptyState, errorState, loadingState, onboarding, select, serviceChip } from '../components.js';
import { fmtCount, fmtDuration, fmtTime, fmtTimeFull, nsBig } from '../format.js';
import { mergeByTime } from '../order.js';
import { durationScatter } from '../scatter.js';
import { openComparePicker } from '../comparepick.js';
import { fitToggle } from '../timefit.js';

const PAGE = 100;
const DURATION_RE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^\d+$/;

// The services of a trace summary as [{name, spanCount}] (the API may give
// names or objects).
export function traceServices(t) {
  const list = Array.isArray(t.services) ? t.services : [];
  const out = list.map((s) => (typeof s === 'string' ? { name: s } : { name: s.name ?? s.service, spanCount: s.spanCount ?? s.count }));
  if (out.length === 0 && t.rootService) out.push({ name: t.rootService });
  // the root's service first, then by span count
  return out.map((s, i) => ({ s, i })).sort((a, b) => (b.s.name === t.rootService) - (a.s.name === t.rootService)
    || (Number(b.s.spanCount) || 0) - (Number(a.s.spanCount) || 0) || a.i - b.i).map((x) => x.s);
}

const startOf = (t) => nsBig(t.startTimeUnixNano);
// Newest start first; equal starts keep their order (Array.sort is stable).
const byStartDesc = (list) => [...list].sort((a, b) => (startOf(b) > startOf(a) ? 1 : startOf(b) < startOf(a) ? -1 : 0));

// Orders of the result list: the API's (start time, newest first) and
// client-side ones over the traces loaded.
export const SORTS = [
  { id: '', label: 'Started', key: null },
  { id: 'duration', label: 'Duration', key: (t) => Number(t.durationNs) || 0 },
  { id: 'spans', label: 'Spans', key: (t) => Number(t.spanCount) || 0 },
  { id: 'errors', label: 'Errors', key: (t) => Number(t.errorCount) || 0 },
];

// traces in the API's order, sorted by `sort` (an id of SORTS) in `dir`;
// ties keep the API's order (newest first).
export function sortTraces(traces, sort, dir) {
  const s = SORTS.find((x) => x.id === sort) || SORTS[0];
  if (!s.key) return dir === 'asc' ? [...traces].reverse() : [...traces];
  const sign = dir === 'asc' ? 1 : -1;
  return traces.map((t, i) => ({ t, i, k: s.key(t) })).sort((a, b) => sign * (a.k - b.k) || a.i - b.i).map((x) => x.t);
}

// Traces grouped by root operation (root service and name): count, traces
// with errors, median and slowest duration, latest start; most traces first.
export function groupByRoot(traces) {
  const groups = new Map();
  for (const t of traces) {
    const key = `${t.rootService ?? ''}\u0000${t.rootName ?? ''}`;
    if (!groups.has(key)) groups.set(key, { service: t.rootService || '', name: t.rootName || '', traces: [] });
    groups.get(key).traces.push(t);
  }
  return [...groups.values()].map((g) => {
    const d = g.traces.map((t) => Number(t.durationNs) || 0).sort((a, b) => a - b);
    return {
      service: g.service, name: g.name, count: g.traces.length,
      errors: g.traces.filter((t) => Number(t.errorCount) > 0).length,
      p50: d[Math.floor((d.length - 1) / 2)], max: d[d.length - 1],
      latest: g.traces.reduce((m, t) => (nsBig(t.startTimeUnixNano) > m ? nsBig(t.startTimeUnixNano) : m), 0n).toString(),
    };
  }).sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function mount(root, { params, signal }) {
  document.title = 'Traces · loupe';
  rememberSearch('/traces', params);
  const f = {
    service: params.get('service') || '',
    name: params.get('name') || '',
    attr: params.getAll('attr'),
    status: params.get('status') === 'error' ? 'error' : '',
    minDuration: params.get('minDuration') || '',
    maxDuration: params.get('maxDuration') || '',
    q: params.get('q') || '',
  };
  const range = timeRange(params);
  let live = params.get('live') !== '0' && range.relative;
  const sort = SORTS.some((x) => x.id === params.get('sort')) ? params.get('sort') : '';
  const dir = params.get('dir') === 'asc' ? 'asc' : 'desc';
  const grouped = params.get('group') === 'root';
  const fitParam = params.get('fit') || '';
  // sorting and grouping are over the traces loaded: load as many as one page holds
  const pageSize = sort || grouped ? 1000 : PAGE;
  let traces = [];
  let shown = [];
  let scatter = null;
  let nextCursor = null;
  let stopped = false; // the last page was cut by the server's --query-timeout
  let selId = '';
  let sub = null;
  let loaded = false;

  // ---- search form ----
  const serviceSel = select([{ value: '', label: 'All services' }], f.service, null, { name: 'service', 'aria-label': 'Service', dataset: { testid: 'filter-service' } });
  if (f.service) serviceSel.appendChild(h('option', { value: f.service, selected: true }, f.service));
  getServices({ signal }).then((list) => {
    for (const s of list) if (s.name !== f.service && Number(s.spanCount) !== 0) serviceSel.appendChild(h('option', { value: s.name }, s.name));
  }).catch(() => {});
  const nameIn = h('input', { type: 'text', class: 'input', name: 'name', placeholder: 'Span name', value: f.name, 'aria-label': 'Span name', dataset: { testid: 'filter-name' } });
  const qIn = h('input', { type: 'search', class: 'input search', name: 'q', placeholder: 'Text in names, attributes  ( / )', value: f.q, 'aria-label': 'Search text', dataset: { search: '', testid: 'filter-q' } });
  const minIn = h('input', { type: 'text', class: 'input input-short', name: 'minDuration', placeholder: 'min (250ms)', value: f.minDuration, 'aria-label': 'Minimum duration', dataset: { testid: 'filter-min' } });
  const maxIn = h('input', { type: 'text', class: 'input input-short', name: 'maxDuration', placeholder: 'max (2s)', value: f.maxDuration, 'aria-label': 'Maximum duration', dataset: { testid: 'filter-max' } });
  const errOnly = h('input', { type: 'checkbox', name: 'status', checked: f.status === 'error', dataset: { testid: 'filter-errors' } });
  let attrList = [...f.attr];
  const attrs = attrFilterEditor(f.attr, (list) => { attrList = list; submit(); });
  const formErr = h('span', { class: 'field-error', role: 'alert' });
  const form = h('form', { class: 'filterbar search-form', dataset: { testid: 'trace-search' } },
    serviceSel, nameIn, qIn,
    h('span', { class: 'duration-range' }, minIn, h('span', { class: 'muted' }, '–'), maxIn),
    h('label', { class: 'check' }, errOnly, 'Errors only'),
    attrs,
    h('button', { type: 'submit', class: 'btn btn-primary' }, icon('search'), 'Search'),
    formErr);
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  serviceSel.addEventListener('change', submit);
  errOnly.addEventListener('change', submit);

  function submit() {
    for (const [el, label] of [[minIn, 'minimum'], [maxIn, 'maximum']]) {
      const v = el.value.trim();
      if (v && !DURATION_RE.test(v)) {
        formErr.textContent = `The ${label} duration should look like 250ms, 1.5s or 2m`;
        el.focus();
        return;
      }
    }
    formErr.textContent = '';
    setParams({
      service: serviceSel.value, name: nameIn.value.trim(), q: qIn.value.trim(), attr: attrList,
      status: errOnly.checked ? 'error' : null, minDuration: minIn.value.trim(), maxDuration: maxIn.value.trim(),
    });
  }

  const hasFilters = f.service || f.name || f.q || f.attr.length || f.status || f.minDuration || f.maxDuration;
  const liveBtn = h('button', {
    type: 'button', class: ['btn', 'live-btn', live && 'on'], disabled: !range.relative,
    title: range.relative ? 'Show new traces as they arrive' : 'Live needs a relative time range',
    dataset: { testid: 'live-toggle' }, 'aria-pressed': String(live),
    onclick: () => setParams({ live: live ? '0' : null }, { replace: true }),
  }, icon(live ? 'pause' : 'play'), live ? 'Pause' : 'Resume live');
  const countEl = h('span', { class: 'muted count', dataset: { testid: 'trace-count' } });
  const listEl = h('div', { class: 'trace-list-wrap' }, loadingState('Searching traces…'));
  const plotEl = h('div', { class: 'scatter-wrap' });
  const viewSel = h('div', { class: 'seg', role: 'group', 'aria-label': 'Show' },
    h('a', { class: ['seg-btn', !grouped && 'active'], href: withParams({ group: null }), dataset: { nav: '', testid: 'view-traces' } }, 'Traces'),
    h('a', { class: ['seg-btn', grouped && 'active'], href: withParams({ group: 'root' }), dataset: { nav: '', testid: 'view-groups' } }, 'By root operation'));
  const more = h('div', { class: 'list-foot' });

  root.appendChild(h('div', { class: 'page page-traces' },
    h('div', { class: 'page-head' }, h('h1', null, 'Traces'), countEl, h('span', { class: 'spacer' }),
      h('span', { class: ['live-state', live && 'on'], dataset: { testid: 'live-state' } }, live ? 'Live' : 'Paused'), liveBtn),
    form,
    plotEl,
    h('div', { class: 'list-bar' }, viewSel),
    listEl, more));

  function apiParams(extra) {
    return {
      service: f.service, name: f.name, attr: f.attr, status: f.status, minDuration: f.minDuration,
      maxDuration: f.maxDuration, q: f.q, ...rangeParams(params), ...extra,
    };
  }

  async function load() {
    let body;
    try {
      body = await apiGet('/traces', apiParams({ limit: pageSize }), { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(listEl, errorState(e, 'trace search', { retry: load }));
      replace(more);
      if (e.unsupported && sub) { sub.stop(); sub = null; }
      return;
    }
    traces = body.traces || [];
    nextCursor = body.nextCursor || null;
    stopped = body.partial === true;
    loaded = true;
    await draw();
  }

  async function loadMore() {
    if (!nextCursor) return;
    replace(more, loadingState('Loading more…'));
    try {
      const body = await apiGet('/traces', apiParams({ limit: pageSize, cursor: nextCursor }), { signal });
      const seen = new Set(traces.map((t) => t.traceId));
      traces = traces.concat((body.traces || []).filter((t) => !seen.has(t.traceId)));
      nextCursor = body.nextCursor || null;
      stopped = body.partial === true;
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(more, errorState(e, 'more traces'));
      return;
    }
    await draw();
  }

  // Live: re-read the first page; new traces are merged in by start time
  // (the API's order), updated ones (more spans arrived) are replaced.
  async function head() {
    if (!loaded) return;
    let body;
    try { body = await apiGet('/traces', apiParams({ limit: pageSize }), { signal }); } catch { return; }
    const byId = new Map(traces.map((t, i) => [t.traceId, i]));
    const fresh = [];
    let changed = false;
    for (const t of body.traces || []) {
      const i = byId.get(t.traceId);
      if (i === undefined) fresh.push(t);
      else if (JSON.stringify(traces[i]) !== JSON.stringify(t)) { traces[i] = t; changed = true; }
    }
    // an update can move a trace's start (an earlier span arrived)
    if (changed) traces = byStartDesc(traces);
    const merged = mergeByTime(traces, fresh, startOf, { complete: !nextCursor });
    if (merged.added.length === 0 && !changed) return;
    traces = merged.items;
    await draw(new Set(merged.added.map((t) => t.traceId)));
  }

  function drawScatter() {
    if (scatter) scatter.destroy();
    scatter = durationScatter(traces, { range, fitParam, onOpen: (t) => navigate(pageLink(`/traces/${t.traceId}`)) });
    replace(plotEl,
      h('div', { class: 'scatter-head' },
        h('span', { class: 'muted small' }, `Duration of ${fmtCount(traces.length)} trace${traces.length === 1 ? '' : 's'} over time; click a point to open its trace`),
        h('span', { class: 'spacer' }), fitToggle(scatter.fitted)),
      scatter.el);
  }

  const sortHead = (id, label, cls) => {
    const active = sort === id;
    const next = active ? (dir === 'desc' ? 'asc' : 'desc') : 'desc';
    return h('th', { class: cls, 'aria-sort': active ? (dir === 'desc' ? 'descending' : 'ascending') : 'none' },
      h('a', {
        href: withParams({ sort: id || null, dir: next === 'desc' ? null : 'asc' }), class: ['sort-link', active && 'active'],
        dataset: { nav: '', testid: `sort-${id || 'time'}` }, title: `Sort by ${label.toLowerCase()}`,
      }, label, active ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, dir === 'desc' ? '↓' : '↑') : null));
  };

  function traceTable(freshIds) {
    const slowest = shown.reduce((m, t) => Math.max(m, Number(t.durationNs) || 0), 0) || 1;
    const rows = shown.map((t) => {
      const services = traceServices(t);
      const bar = h('span', { class: ['dur-bar', Number(t.errorCount) > 0 && 'err'] });
      bar.style.width = `${Math.max(0.5, (100 * (Number(t.durationNs) || 0)) / slowest)}%`;
      const href = pageLink(`/traces/${t.traceId}`);
      return h('tr', {
        class: ['trace-row', t.traceId === selId && 'selected', freshIds.has(t.traceId) && 'fresh', Number(t.errorCount) > 0 && 'has-error'],
        dataset: { traceId: t.traceId },
        onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a, button'))) navigate(href); },
      },
      h('td', { class: 'mono nowrap', title: fmtTimeFull(t.startTimeUnixNano) }, fmtTime(t.startTimeUnixNano)),
      h('td', { class: 'root-cell' },
        h('a', { href, dataset: { nav: '', testid: 'trace-link' }, class: 'root-name' }, t.rootName || '(missing root span)'),
        h('div', { class: 'chips' }, services.map((x) => serviceChip(x.name, { count: x.spanCount })))),
      h('td', { class: 'num' }, fmtCount(t.spanCount)),
      h('td', { class: ['num', Number(t.errorCount) > 0 && 'err-text'] }, Number(t.errorCount) > 0 ? h('span', { class: 'err-badge' }, icon('alert'), fmtCount(t.errorCount)) : '0'),
      h('td', { class: 'dur-cell' }, h('div', { class: 'dur-wrap' }, h('span', { class: 'dur-track' }, bar), h('span', { class: 'dur-text mono' }, fmtDuration(t.durationNs)))),
      h('td', { class: 'act-cell' }, h('button', {
        type: 'button', class: 'btn btn-small compare-btn', title: 'Compare with another trace of this operation',
        dataset: { testid: 'compare-with' }, onclick: () => openComparePicker(t, traces),
      }, 'Compare…')));
    });
    return h('table', { class: 'table trace-table', dataset: { testid: 'trace-table' } },
      h('thead', null, h('tr', null, sortHead('', 'Started'), h('th', null, 'Root span and services'), sortHead('spans', 'Spans', 'num'),
        sortHead('errors', 'Errors', 'num'), sortHead('duration', 'Duration', 'dur-head'), h('th', { class: 'act-cell' }, h('span', { class: 'offscreen' }, 'Actions')))),
      h('tbody', null, rows));
  }

  function groupTable() {
    const groups = groupByRoot(traces);
    return h('table', { class: 'table trace-table group-table', dataset: { testid: 'trace-groups' } },
      h('thead', null, h('tr', null, h('th', null, 'Root operation'), h('th', { class: 'num' }, 'Traces'), h('th', { class: 'num' }, 'With errors'),
        h('th', { class: 'num' }, 'Median'), h('th', { class: 'num' }, 'Slowest'), h('th', null, 'Latest'))),
      h('tbody', null, groups.map((g) => {
        const href = withParams({ group: null, service: g.service, name: g.name, sort: null, dir: null });
        return h('tr', {
          class: ['trace-row', 'group-row', g.errors > 0 && 'has-error'], dataset: { service: g.service, name: g.name },
          onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) navigate(href); },
        },
        h('td', { class: 'root-cell' }, h('div', { class: 'chips' }, serviceChip(g.service),
          h('a', { href, dataset: { nav: '', testid: 'group-link' }, class: 'root-name', title: 'The traces of this operation' }, g.name || '(missing root span)'))),
        h('td', { class: 'num' }, fmtCount(g.count)),
        h('td', { class: ['num', g.errors > 0 && 'err-text'] }, fmtCount(g.errors)),
        h('td', { class: 'num mono' }, fmtDuration(g.p50)),
        h('td', { class: 'num mono' }, fmtDuration(g.max)),
        h('td', { class: 'mono nowrap', title: fmtTimeFull(g.latest) }, fmtTime(g.latest)));
      })));
  }

  // The server stopped this search at its query timeout: say so, and how to
  // get a complete answer.
  function stoppedNote() {
    return stopped ? h('div', { class: 'notice small', role: 'status', dataset: { testid: 'partial-note' } },
      'The search stopped at the server\'s time limit, so these are the traces found so far. ',
      'Narrow the time range or add a filter (service, name, attribute) for a complete answer.') : null;
  }

  async function draw(freshIds = new Set()) {
    countEl.textContent = `${fmtCount(traces.length)}${nextCursor ? '+' : ''} trace${traces.length === 1 ? '' : 's'}`;
    if (traces.length === 0 && stopped) {
      if (scatter) { scatter.destroy(); scatter = null; }
      replace(plotEl);
      shown = [];
      replace(listEl, stoppedNote());
      replace(more, nextCursor ? h('button', { type: 'button', class: 'btn', onclick: loadMore, dataset: { testid: 'load-more' } }, 'Keep searching') : null);
      return;
    }
    if (traces.length === 0) {
      if (scatter) { scatter.destroy(); scatter = null; }
      replace(plotEl);
      shown = [];
      let anyService = true;
      if (!hasFilters) { try { anyService = (await getServices({ signal })).some((s) => Number(s.spanCount) > 0); } catch { anyService = true; } }
      replace(listEl, hasFilters
        ? emptyState('No traces match this search', `In ${range.label.toLowerCase()}. Widen the time range or loosen a filter.`,
          h('a', { href: pageLink('/traces'), dataset: { nav: '' }, class: 'btn' }, 'Clear the search'))
        : anyService ? emptyState('No traces in this time range', `Nothing arrived in ${range.label.toLowerCase()}.${live ? ' Waiting for new traces…' : ''}`)
          : onboarding({ what: 'traces' }));
      replace(more);
      return;
    }
    drawScatter();
    shown = grouped ? [] : sortTraces(traces, sort, dir);
    const partial = nextCursor && (sort || grouped) ? h('div', { class: 'muted small list-note', dataset: { testid: 'sort-note' } },
      `${grouped ? 'Grouped' : 'Sorted'} among the ${fmtCount(traces.length)} newest traces of this search; load more or narrow it for the rest.`) : null;
    replace(listEl, stoppedNote(), partial, grouped ? groupTable() : traceTable(freshIds));
    replace(more, nextCursor ? h('button', { type: 'button', class: 'btn', onclick: loadMore, dataset: { testid: 'load-more' } }, 'Load more') : null);
  }

  function mark() {
    const rows = listEl.querySelectorAll('tr.trace-row');
    rows.forEach((r) => r.classList.toggle('selected', r.dataset.traceId === selId));
    const el = [...rows].find((r) => r.dataset.traceId === selId);
    if (el) el.scrollIntoView({ block: 'nearest' });
  }

  function move(d) {
    if (!shown.length) return;
    const i = shown.findIndex((t) => t.traceId === selId);
    selId = shown[i < 0 ? (d > 0 ? 0 : shown.length - 1) : Math.max(0, Math.min(shown.length - 1, i + d))].traceId;
    mark();
  }

  if (live) sub = subscribeLive({ events: 'traces', ...apiParams({}), start: undefined }, head, { pollMs: 3000 });
  load();

  return {
    unmount() { if (sub) sub.stop(); if (scatter) scatter.destroy(); },
    refresh: () => (live ? head() : load()),
    keys: {
      next: () => move(1),
      prev: () => move(-1),
      open: () => { if (selId) navigate(pageLink(`/traces/${selId}`)); },
      escape: () => { selId = ''; mark(); },
    },
  };
}

