// services.js - every service with what it sent in the selected time range
// (spans, logs, instruments, error traces), last seen, instances, and links
// into the other pages filtered by it (with the same range).
//
// GET /api/v1/services answers totals over everything stored and takes no
// range, so the counts in the range come from range-filtered list calls,
// bounded: spans from up to TRACE_PAGES pages of trace summaries (the spans
// of traces that started in the range), logs and error traces from one
// page per service (shown as "1,000+" when there are more), instruments
// from their last-seen times. A services endpoint that took start/end and
// answered the counts in that range would replace all of this with one
// exact call.
import { h, replace } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { pageLink, rangeParams, timeRange } from '../state.js';
import { errorState, loadingState, onboarding, serviceDot } from '../components.js';
import { fmtAgo, fmtCount, fmtTimeFull, nsToMs } from '../format.js';

const LIMIT = 1000; // the API's largest page
const TRACE_PAGES = 5;

// A count that may be a lower bound: "1,000+".
const countText = (c) => `${fmtCount(c.n)}${c.more ? '+' : ''}`;

// Per-service span counts of the traces that started in the range.
async function spansInRange(rp, signal) {
  const out = new Map();
  let cursor;
  for (let page = 0; page < TRACE_PAGES; page++) {
    const body = await apiGet('/traces', { ...rp, limit: LIMIT, cursor }, { signal });
    for (const t of body.traces || []) {
      for (const s of t.services || []) {
        const name = typeof s === 'string' ? s : s.name;
        const n = typeof s === 'string' ? 0 : Number(s.spanCount) || 0;
        out.set(name, (out.get(name) || 0) + n);
      }
    }
    cursor = body.nextCursor;
    if (!cursor) return { counts: out, more: false };
  }
  return { counts: out, more: true };
}

// How many items one list call finds (up to LIMIT, `more` beyond).
async function countOf(path, q, signal) {
  const body = await apiGet(path, { ...q, limit: LIMIT }, { signal });
  const list = body.traces || body.logs || [];
  return { n: list.length, more: Boolean(body.nextCursor) };
}

// fn over every item, at most PARALLEL at a time (many services must not
// flood the server); results in the items' order.
const PARALLEL = 4;
async function inTurn(items, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

export function mount(root, { params, signal }) {
  document.title = 'Services · loupe';
  const range = timeRange(params);
  const within = range.label.toLowerCase();
  const note = h('span', { class: 'muted count', dataset: { testid: 'services-range' } });
  const body = h('div', { class: 'page-body' }, loadingState('Loading services…'));
  root.appendChild(h('div', { class: 'page page-services' },
    h('div', { class: 'page-head' }, h('h1', null, 'Services'), note),
    body));
  let services = [];
  let rows = [];
  let sel = -1;

  async function load() {
    const rp = rangeParams(params);
    const since = nsToMs(rp.start);
    let stats;
    try {
      services = await getServices({ signal, fresh: true });
      const [spans, metrics, errorTraces] = await Promise.all([
        spansInRange(rp, signal),
        apiGet('/metrics', null, { signal }),
        countOf('/traces', { ...rp, status: 'error' }, signal),
      ]);
      const per = await inTurn(services, async (s) => ({
        logs: Number(s.logCount) > 0 ? await countOf('/logs', { ...rp, service: s.name }, signal) : { n: 0, more: false },
        errors: Number(s.errorCount) > 0 ? await countOf('/traces', { ...rp, service: s.name, status: 'error' }, signal) : { n: 0, more: false },
      }));
      // instruments that reported in the range (their latest point is in it;
      // for a range that ended in the past, those reporting since its start)
      const instruments = new Map();
      for (const m of metrics.metrics || []) {
        const t = nsToMs(m.lastSeenUnixNano);
        if (t >= since) instruments.set(m.service, (instruments.get(m.service) || 0) + 1);
      }
      stats = services.map((s, i) => ({
        s,
        spans: { n: spans.counts.get(s.name) || 0, more: spans.more },
        logs: per[i].logs,
        errors: per[i].errors,
        instruments: instruments.get(s.name) || 0,
      }));
      stats.errorTraces = errorTraces;
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'services', { retry: load }));
      return;
    }
    draw(stats);
  }

  function draw(stats) {
    const empty = (x) => !Number(x.spanCount) && !Number(x.logCount) && !Number(x.metricCount);
    if (services.every(empty)) {
      replace(note);
      replace(body, onboarding());
      return;
    }
    const active = (x) => x.spans.n > 0 || x.logs.n > 0 || x.errors.n > 0 || x.instruments > 0;
    // active services first (by name), then the quiet ones
    rows = [...stats].sort((a, b) => active(b) - active(a) || (a.s.name < b.s.name ? -1 : a.s.name > b.s.name ? 1 : 0));
    const nActive = rows.filter(active).length;
    note.textContent = `In ${within}: ${nActive} of ${services.length} service${services.length === 1 ? '' : 's'} sent telemetry`;
    const sum = (k) => ({ n: rows.reduce((n, x) => n + x[k].n, 0), more: rows.some((x) => x[k].more) });
    const tiles = h('div', { class: 'tiles' },
      tile('Active services', { n: nActive, more: false }),
      tile('Spans', sum('spans'), pageLink('/traces')),
      tile('Logs', sum('logs'), pageLink('/logs')),
      tile('Instruments reporting', { n: rows.reduce((n, x) => n + x.instruments, 0), more: false }, pageLink('/metrics')),
      tile('Traces with errors', stats.errorTraces, pageLink('/traces', { status: 'error' }), stats.errorTraces.n > 0 ? 'tile-error' : ''));
    const trs = rows.map((x, i) => {
      const s = x.s;
      const quiet = !active(x);
      return h('tr', {
        class: ['svc-row', i === sel && 'selected', quiet && 'svc-quiet'], dataset: { service: s.name },
        onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) { sel = i; mark(); } },
      },
      h('td', null, h('span', { class: 'svc-name' }, serviceDot(s.name), h('strong', null, s.name)),
        quiet ? h('div', { class: 'muted small', dataset: { testid: 'svc-quiet' } }, `Nothing in ${within}`) : null,
        (s.instances || []).length ? h('div', { class: 'muted small' }, `${s.instances.length} instance${s.instances.length === 1 ? '' : 's'}: ${s.instances.slice(0, 3).join(', ')}${s.instances.length > 3 ? ', …' : ''}`) : null),
      h('td', { class: 'num' }, h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '', testid: 'svc-traces' } }, countText(x.spans))),
      h('td', { class: 'num' }, h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '', testid: 'svc-logs' } }, countText(x.logs))),
      h('td', { class: 'num' }, h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '', testid: 'svc-metrics' } }, fmtCount(x.instruments))),
      h('td', { class: ['num', x.errors.n > 0 && 'err-text'] },
        x.errors.n > 0 ? h('a', { href: pageLink('/traces', { service: s.name, status: 'error' }), dataset: { nav: '', testid: 'svc-errors' } }, countText(x.errors)) : '0'),
      h('td', { title: fmtTimeFull(s.lastSeenUnixNano) }, fmtAgo(s.lastSeenUnixNano)),
      h('td', { class: 'links' },
        h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '' } }, 'Traces'),
        h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '' } }, 'Logs'),
        h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '' } }, 'Metrics')));
    });
    replace(body, tiles, h('div', { class: 'table-wrap' }, h('table', { class: 'table services-table', dataset: { testid: 'services-table' } },
      h('thead', null, h('tr', null,
        h('th', null, 'Service'),
        h('th', { class: 'num', title: 'Spans of the traces that started in the range' }, 'Spans'),
        h('th', { class: 'num' }, 'Logs'),
        h('th', { class: 'num', title: 'Instruments with a point in the range' }, 'Instruments'),
        h('th', { class: 'num', title: 'Traces in the range with an error span of this service' }, 'Error traces'),
        h('th', null, 'Last seen'), h('th', null, 'Open'))),
      h('tbody', null, trs))));
  }

  function tile(label, value, href, cls) {
    const inner = [h('div', { class: 'tile-value' }, countText(value)), h('div', { class: 'tile-label' }, label)];
    return href ? h('a', { class: ['tile', cls], href, dataset: { nav: '' } }, inner) : h('div', { class: ['tile', cls] }, inner);
  }

  function mark() {
    for (const tr of body.querySelectorAll('tr.svc-row')) tr.classList.remove('selected');
    const tr = body.querySelectorAll('tr.svc-row')[sel];
    if (tr) { tr.classList.add('selected'); tr.scrollIntoView({ block: 'nearest' }); }
  }

  load();
  return {
    refresh: load,
    keys: {
      next: () => { if (rows.length) { sel = Math.min(rows.length - 1, sel + 1); mark(); } },
      prev: () => { if (rows.length) { sel = Math.max(0, sel - 1); mark(); } },
      open: () => { const tr = body.querySelectorAll('tr.svc-row')[sel]; if (tr) tr.querySelector('a[data-testid="svc-traces"]').click(); },
      escape: () => { sel = -1; mark(); },
    },
  };
}
