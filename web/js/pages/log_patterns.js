// log_patterns.js - the Logs page's Patterns view: the log patterns of the
// time range (GET /api/v1/logs/patterns), by count or new in this window
// (how a regression shows: a template never seen before), each with its
// template (placeholders marked), its records over time, levels and latest
// record, opening its records (logs?pattern=ID). Also what the records view
// shares with it: the view switch and runs of one pattern.
import { h, replace } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { navigate, pageLink, setParams, timeRange, withParams } from '../state.js';
import { emptyState, errorState, loadingState, select, serviceChip } from '../components.js';
import { bodyText, fmtCount, fmtTime, fmtTimeFull, SEVERITIES } from '../format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const LIMIT = 200;

// Records | Patterns, as links (the view is in the URL).
export function viewSwitch(view) {
  return h('div', { class: 'seg', role: 'group', 'aria-label': 'Show' },
    h('a', {
      class: ['seg-btn', view !== 'patterns' && 'active'], href: withParams({ view: null }),
      dataset: { nav: '', testid: 'view-records' },
    }, 'Records'),
    h('a', {
      class: ['seg-btn', view === 'patterns' && 'active'], href: withParams({ view: 'patterns', log: null, pattern: null, collapse: null }),
      dataset: { nav: '', testid: 'view-patterns' },
    }, 'Patterns'));
}

// A template with its placeholders (<NUM>, "<*>", ...) marked; text nodes
// only, so whatever a template holds stays text.
export function templateText(tmpl) {
  if (tmpl === '') return h('span', { class: 'muted' }, '(empty body)');
  return String(tmpl).split(/("<\*>"|'<\*>'|<\*>|<[A-Z]+>)/)
    .map((part, i) => (i % 2 ? h('span', { class: 'ph' }, part) : part));
}

// The records of `list` with each run of consecutive records of one
// pattern (and service) reduced to its first; runs.get(first) = its length.
export function collapseRuns(list, runs) {
  runs.clear();
  const out = [];
  for (const l of list) {
    const last = out[out.length - 1];
    if (last && l.patternId != null && l.patternId === last.patternId && l.service === last.service) {
      runs.set(last, runs.get(last) + 1);
    } else {
      out.push(l);
      runs.set(l, 1);
    }
  }
  return out;
}

// Counts per step as bars.
function sparkline(counts, max) {
  const w = 120;
  const hgt = 24;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('aria-hidden', 'true');
  const n = counts.length || 1;
  const bw = w / n;
  counts.forEach((c, i) => {
    if (!c) return;
    const bh = Math.max(1.5, (hgt * c) / (max || 1));
    const r = document.createElementNS(SVG_NS, 'rect');
    r.setAttribute('x', String(i * bw));
    r.setAttribute('y', String(hgt - bh));
    r.setAttribute('width', String(Math.max(0.8, bw - (bw > 3 ? 1 : 0))));
    r.setAttribute('height', String(bh));
    svg.appendChild(r);
  });
  return svg;
}

const LEVELS = [...SEVERITIES].reverse(); // fatal first

function levels(sev) {
  const out = LEVELS.filter((s) => sev[s.name]).map((s) => h('span', { class: `sev sev-${s.name}`, title: `${fmtCount(sev[s.name])} ${s.label}` }, `${s.label} ${fmtCount(sev[s.name])}`));
  if (sev.unspecified) out.push(h('span', { class: 'sev sev-unset', title: `${fmtCount(sev.unspecified)} without severity` }, `— ${fmtCount(sev.unspecified)}`));
  return h('span', { class: 'levels' }, out);
}

export function mountPatterns(root, { params, signal }) {
  document.title = 'Log patterns · loupe';
  const f = {
    service: params.get('service') || '',
    minSeverity: params.get('minSeverity') || '',
    sort: params.get('sort') === 'new' ? 'new' : '',
  };
  const range = timeRange(params);
  const serviceSel = select([{ value: '', label: 'All services' }], f.service,
    (v) => setParams({ service: v }), { 'aria-label': 'Service', dataset: { testid: 'filter-service' } });
  getServices({ signal }).then((list) => {
    for (const s of list) if (s.name !== f.service && Number(s.logCount) > 0) serviceSel.appendChild(h('option', { value: s.name }, s.name));
  }).catch(() => {});
  if (f.service) serviceSel.appendChild(h('option', { value: f.service, selected: true }, f.service));
  const sevSel = select([{ value: '', label: 'Any severity' }, ...SEVERITIES.map((s) => ({ value: s.name, label: `${s.label} and above` }))],
    f.minSeverity, (v) => setParams({ minSeverity: v }), { 'aria-label': 'Minimum severity', dataset: { testid: 'filter-severity' } });
  const sortSel = h('div', { class: 'seg', role: 'group', 'aria-label': 'Order' },
    h('a', { class: ['seg-btn', !f.sort && 'active'], href: withParams({ sort: null }), dataset: { nav: '', testid: 'sort-count' } }, 'Most records'),
    h('a', {
      class: ['seg-btn', f.sort && 'active'], href: withParams({ sort: 'new' }), dataset: { nav: '', testid: 'sort-new' },
      title: 'Only patterns whose first record ever is in this time range',
    }, 'New in this range'));
  const countEl = h('span', { class: 'muted count', dataset: { testid: 'pattern-count' } });
  const listEl = h('div', { class: 'pattern-list-wrap' }, loadingState('Loading log patterns…'));
  root.appendChild(h('div', { class: 'page page-logs page-patterns' },
    h('div', { class: 'page-head' }, h('h1', null, 'Logs'), countEl, h('span', { class: 'spacer' }), viewSwitch('patterns')),
    h('div', { class: 'filterbar' }, serviceSel, sevSel, sortSel),
    listEl));

  function apiParams() {
    const ns = (ms) => (BigInt(Math.floor(ms)) * 1000000n).toString();
    return {
      service: f.service, minSeverity: f.minSeverity, sort: f.sort || null, limit: LIMIT,
      start: ns(range.startMs), end: ns(range.relative ? Date.now() : range.endMs),
    };
  }

  // A pattern's records, in the records view with this page's filters.
  const recordsHref = (p) => withParams({ view: null, sort: null, pattern: String(p.id), service: p.service || null });

  function row(p, max) {
    const href = recordsHref(p);
    const example = p.example ? bodyText(p.example.body) : '';
    return h('tr', {
      class: ['pattern-row', (p.severities.error || p.severities.fatal) && 'has-error'], dataset: { patternId: String(p.id) },
      onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) navigate(href); },
    },
    h('td', { class: 'num' }, fmtCount(p.count)),
    h('td', { class: 'pattern-cell' },
      h('a', { href, class: 'template mono', dataset: { nav: '', testid: 'pattern-link' }, title: 'The records of this pattern' },
        p.kind === 'other' ? h('span', { class: 'muted' }, 'Other records (past the limit of patterns)') : templateText(p.template)),
      h('div', { class: 'pattern-meta' },
        p.service ? serviceChip(p.service) : null,
        p.new ? h('span', { class: 'badge badge-new', title: `First seen ${fmtTimeFull(p.sinceUnixNano)}` }, 'New') : null,
        p.kind === 'structured' ? h('span', { class: 'badge', title: 'Map bodies with these top-level keys' }, 'structured') : null,
        example ? h('span', { class: 'example ellipsis muted', title: example.slice(0, 1000) }, example.slice(0, 300)) : null)),
    h('td', null, levels(p.severities)),
    h('td', { class: 'spark-cell', title: `${fmtCount(p.count)} records, ${p.counts.length} steps` }, sparkline(p.counts, max)),
    h('td', { class: 'mono nowrap', title: fmtTimeFull(p.lastSeenUnixNano) }, fmtTime(p.lastSeenUnixNano)));
  }

  async function load() {
    let body;
    try {
      body = await apiGet('/logs/patterns', apiParams(), { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(listEl, errorState(e, 'log patterns', { retry: load }));
      return;
    }
    const list = body.patterns || [];
    countEl.textContent = `${fmtCount(body.total ?? list.length)} pattern${(body.total ?? list.length) === 1 ? '' : 's'}`;
    const note = body.partial ? h('div', { class: 'notice small', role: 'status', dataset: { testid: 'partial-note' } },
      'The counting stopped at the server\'s time limit: these figures are incomplete. Narrow the time range or pick a service.') : null;
    if (list.length === 0) {
      replace(listEl, note, f.sort
        ? emptyState('No new patterns in this time range', `Every kind of log line of ${range.label.toLowerCase()} was seen before. A new one (a new error, a regression) shows up here first.`,
          h('a', { href: withParams({ sort: null }), dataset: { nav: '' }, class: 'btn' }, 'All patterns'))
        : emptyState('No log patterns in this time range', `No log records arrived in ${range.label.toLowerCase()}${f.service || f.minSeverity ? ' with these filters' : ''}.`,
          h('a', { href: pageLink('/logs'), dataset: { nav: '' }, class: 'btn' }, 'Show the records')));
      return;
    }
    const max = list.reduce((m, p) => Math.max(m, ...p.counts), 1);
    const more = body.total > list.length ? h('div', { class: 'muted small list-note' }, `The ${fmtCount(list.length)} patterns with the most records of ${fmtCount(body.total)}; pick a service or a severity for the rest.`) : null;
    replace(listEl, note, more,
      h('table', { class: 'table pattern-table', dataset: { testid: 'pattern-table' } },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Records'), h('th', null, 'Pattern'), h('th', null, 'Levels'),
          h('th', null, 'Over time'), h('th', null, 'Last seen'))),
        h('tbody', null, list.map((p) => row(p, max)))));
  }

  load();
  return {
    unmount() {},
    refresh: load,
    keys: {},
  };
}
