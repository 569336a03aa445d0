// traces.js - trace search (service, span name, attributes, duration range,
// errors only, text, time range) and the result list with service chips,
// span and error counts and a duration bar relative to the slowest; new
// traces arrive live.
import { h, icon, replace } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { navigate, pageLink, rangeParams, rememberSearch, setParams, timeRange } from '../state.js';
import { subscribeLive } from '../live.js';
import { attrFilterEditor, emptyState, errorState, loadingState, onboarding, select, serviceChip } from '../components.js';
import { fmtCount, fmtDuration, fmtTime, fmtTimeFull } from '../format.js';

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
  let traces = [];
  let nextCursor = null;
  let sel = -1;
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
  const more = h('div', { class: 'list-foot' });

  root.appendChild(h('div', { class: 'page page-traces' },
    h('div', { class: 'page-head' }, h('h1', null, 'Traces'), countEl, h('span', { class: 'spacer' }),
      h('span', { class: ['live-state', live && 'on'], dataset: { testid: 'live-state' } }, live ? 'Live' : 'Paused'), liveBtn),
    form,
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
      body = await apiGet('/traces', apiParams({ limit: PAGE }), { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(listEl, errorState(e, 'trace search', { retry: load }));
      replace(more);
      if (e.unsupported && sub) { sub.stop(); sub = null; }
      return;
    }
    traces = body.traces || [];
    nextCursor = body.nextCursor || null;
    loaded = true;
    await draw();
  }

  async function loadMore() {
    if (!nextCursor) return;
    replace(more, loadingState('Loading more…'));
    try {
      const body = await apiGet('/traces', apiParams({ limit: PAGE, cursor: nextCursor }), { signal });
      const seen = new Set(traces.map((t) => t.traceId));
      traces = traces.concat((body.traces || []).filter((t) => !seen.has(t.traceId)));
      nextCursor = body.nextCursor || null;
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(more, errorState(e, 'more traces'));
      return;
    }
    await draw();
  }

  // Live: re-read the first page; new traces go on top, updated ones (more
  // spans arrived) are replaced in place.
  async function head() {
    if (!loaded) return;
    let body;
    try { body = await apiGet('/traces', apiParams({ limit: PAGE }), { signal }); } catch { return; }
    const byId = new Map(traces.map((t, i) => [t.traceId, i]));
    const fresh = [];
    let changed = false;
    for (const t of body.traces || []) {
      const i = byId.get(t.traceId);
      if (i === undefined) fresh.push(t);
      else if (JSON.stringify(traces[i]) !== JSON.stringify(t)) { traces[i] = t; changed = true; }
    }
    if (fresh.length === 0 && !changed) return;
    const selId = traces[sel] && traces[sel].traceId;
    traces = fresh.concat(traces);
    if (selId) sel = traces.findIndex((t) => t.traceId === selId);
    await draw(new Set(fresh.map((t) => t.traceId)));
  }

  async function draw(freshIds = new Set()) {
    countEl.textContent = `${fmtCount(traces.length)}${nextCursor ? '+' : ''} trace${traces.length === 1 ? '' : 's'}`;
    if (traces.length === 0) {
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
    const slowest = traces.reduce((m, t) => Math.max(m, Number(t.durationNs) || 0), 0) || 1;
    const rows = traces.map((t, i) => {
      const services = traceServices(t);
      const bar = h('span', { class: ['dur-bar', Number(t.errorCount) > 0 && 'err'] });
      bar.style.width = `${Math.max(0.5, (100 * (Number(t.durationNs) || 0)) / slowest)}%`;
      const href = pageLink(`/traces/${t.traceId}`);
      return h('tr', {
        class: ['trace-row', i === sel && 'selected', freshIds.has(t.traceId) && 'fresh', Number(t.errorCount) > 0 && 'has-error'],
        dataset: { traceId: t.traceId },
        onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) navigate(href); },
      },
      h('td', { class: 'mono nowrap', title: fmtTimeFull(t.startTimeUnixNano) }, fmtTime(t.startTimeUnixNano)),
      h('td', { class: 'root-cell' },
        h('a', { href, dataset: { nav: '', testid: 'trace-link' }, class: 'root-name' }, t.rootName || '(missing root span)'),
        h('div', { class: 'chips' }, services.map((s) => serviceChip(s.name, { count: s.spanCount })))),
      h('td', { class: 'num' }, fmtCount(t.spanCount)),
      h('td', { class: ['num', Number(t.errorCount) > 0 && 'err-text'] }, Number(t.errorCount) > 0 ? h('span', { class: 'err-badge' }, icon('alert'), fmtCount(t.errorCount)) : '0'),
      h('td', { class: 'dur-cell' }, h('div', { class: 'dur-wrap' }, h('span', { class: 'dur-track' }, bar), h('span', { class: 'dur-text mono' }, fmtDuration(t.durationNs)))));
    });
    replace(listEl, h('table', { class: 'table trace-table', dataset: { testid: 'trace-table' } },
      h('thead', null, h('tr', null, h('th', null, 'Started'), h('th', null, 'Root span and services'), h('th', { class: 'num' }, 'Spans'),
        h('th', { class: 'num' }, 'Errors'), h('th', { class: 'dur-head' }, 'Duration'))),
      h('tbody', null, rows)));
    replace(more, nextCursor ? h('button', { type: 'button', class: 'btn', onclick: loadMore, dataset: { testid: 'load-more' } }, 'Load more') : null);
  }

  function mark() {
    const rows = listEl.querySelectorAll('tr.trace-row');
    rows.forEach((r, i) => r.classList.toggle('selected', i === sel));
    if (rows[sel]) rows[sel].scrollIntoView({ block: 'nearest' });
  }

  if (live) sub = subscribeLive({ events: 'traces', ...apiParams({}), start: undefined }, head, { pollMs: 3000 });
  load();

  return {
    unmount() { if (sub) sub.stop(); },
    refresh: () => (live ? head() : load()),
    keys: {
      next: () => { if (traces.length) { sel = Math.min(traces.length - 1, sel + 1); mark(); } },
      prev: () => { if (traces.length) { sel = Math.max(0, sel - 1); mark(); } },
      open: () => { const t = traces[sel]; if (t) navigate(pageLink(`/traces/${t.traceId}`)); },
      escape: () => { sel = -1; mark(); },
    },
  };
}

