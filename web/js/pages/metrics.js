// metrics.js - instruments grouped by service and meter; the selected one as
// a chart over the time range (a line per attribute set, rates for monotonic
// counters, p50/p90/p99 and the bucket distribution for histograms,
// exemplars that open their trace) or as a table; attribute filter and
// group-by; units formatted.
import { h, icon, replace, debounce } from '../dom.js';
import { apiGet } from '../api.js';
import { navigate, pageLink, rangeParams, setParams, timeRange, withParams } from '../state.js';
import { attrFilterEditor, emptyState, errorState, loadingState, onboarding, section, select, serviceDot } from '../components.js';
import { attrLabel, axisTitle, fmtAgo, fmtAxis, fmtCount, fmtDuration, fmtNumber, fmtTime, fmtTimeFull, fmtUnit, fmtValue, msToNs, nsBig, nsToMs } from '../format.js';
import { bucketBars, lineChart } from '../chart.js';
import { extentOf, fitToggle, fittedRange, shouldFit } from '../timefit.js';

const STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

// A step (seconds) giving about `points` points over the range.
export function chooseStep(rangeMs, points = 120) {
  const want = rangeMs / 1000 / points;
  return STEPS.find((s) => s >= want) || STEPS[STEPS.length - 1];
}
export function stepText(sec) {
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  return `${sec}s`;
}

const TYPE_LABEL = {
  gauge: 'Gauge', sum: 'Sum', histogram: 'Histogram', exponential_histogram: 'Exponential histogram', summary: 'Summary',
};
export function typeLabel(m) {
  const t = TYPE_LABEL[m.type] || m.type || '?';
  if (m.type === 'sum') return m.monotonic ? 'Counter' : 'UpDownCounter';
  return t;
}
const isHistogram = (t) => t === 'histogram' || t === 'exponential_histogram' || t === 'summary';

// Percentile value of a point: p50/p90/p99 fields, or a summary's quantiles.
function pct(p, q) {
  const k = `p${q}`;
  if (p[k] !== undefined && p[k] !== null) return Number(p[k]);
  const qv = p.quantiles || p.quantileValues;
  if (Array.isArray(qv)) {
    const hit = qv.find((x) => Math.abs(Number(x.quantile) - q / 100) < 1e-9);
    if (hit) return Number(hit.value);
  }
  return null;
}

// A quantile estimated from bucket counts (linear inside the bucket, as
// Prometheus' histogram_quantile does); the open-ended first and last
// buckets are closed by the observed min and max when known.
export function bucketQuantile(bounds, counts, q, { min, max } = {}) {
  const total = counts.reduce((a, b) => a + (Number(b) || 0), 0);
  if (!total || !bounds.length) return null;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = Number(counts[i]) || 0;
    if (c > 0 && cum + c >= rank) {
      let lo = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
      let hi = i < bounds.length ? bounds[i] : bounds[bounds.length - 1];
      if (i === 0 && Number.isFinite(min)) lo = Math.min(min, hi);
      if (i === bounds.length) { lo = bounds[bounds.length - 1]; hi = Number.isFinite(max) ? Math.max(max, lo) : lo; }
      if (Number.isFinite(max) && hi > max && max >= lo) hi = max;
      return lo + (hi - lo) * ((rank - cum) / c);
    }
    cum += c;
  }
  return bounds[bounds.length - 1];
}

// The attribute maps that tell series apart: with several instances of a
// service, service.instance.id counts as an attribute too.
function seriesAttrs(series) {
  const instances = new Set(series.map((s) => s.instance || ''));
  return series.map((s) => (instances.size > 1 ? { ...(s.attributes || {}), 'service.instance.id': s.instance || '' } : (s.attributes || {})));
}

// Each series with a short label: only the attributes whose values differ
// between the series (every attribute when there is one series), sorted by
// that label so each keeps its colour (given by position) between loads.
export function labelSeries(series, name) {
  const attrs = seriesAttrs(series);
  if (series.length === 1) return [{ s: series[0], label: attrLabel(attrs[0], name) }];
  const keys = [...new Set(attrs.flatMap((a) => Object.keys(a)))].sort();
  const valueOf = (a, k) => (k in a ? fmtValue(a[k]) : undefined);
  const varying = keys.filter((k) => attrs.some((a) => valueOf(a, k) !== valueOf(attrs[0], k)));
  return series.map((s, i) => ({
    s, label: varying.filter((k) => k in attrs[i]).map((k) => `${k}=${valueOf(attrs[i], k)}`).join(', ') || '(no attributes)',
  })).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

// The attributes every series shares (said once instead of in each label).
export function commonAttributes(series) {
  if (series.length < 2) return {};
  const attrs = seriesAttrs(series);
  const out = {};
  for (const [k, v] of Object.entries(attrs[0])) {
    if (attrs.every((a) => k in a && fmtValue(a[k]) === fmtValue(v))) out[k] = v;
  }
  return out;
}

// Percentiles drawn for a histogram: the URL's choice, else all three for
// one series and p99 for several (three lines per series do not read).
export const PCT_CHOICES = [
  { id: '50', label: 'p50' }, { id: '90', label: 'p90' }, { id: '99', label: 'p99' },
  { id: '50,99', label: 'p50 + p99' }, { id: '50,90,99', label: 'all' },
];
export function percentilesShown(param, seriesCount) {
  const c = PCT_CHOICES.find((x) => x.id === param);
  if (c) return c.id.split(',').map(Number);
  return seriesCount === 1 ? [50, 90, 99] : [99];
}
const QUANTILE_DASH = { 50: [2, 3], 90: [6, 3], 99: undefined };

// Data spans shorter than this are read point by point when fitted.
const FIT_RAW_MS = 30 * 60e3;

// The earliest point time of the series (unix ns string), or undefined.
function firstPointNs(series) {
  let min = null;
  for (const s of series || []) for (const p of s.points || []) {
    const t = nsBig(p.timeUnixNano);
    if (t > 0n && (min === null || t < min)) min = t;
  }
  return min === null ? undefined : min.toString();
}

function exemplarsOf(series) {
  const out = [];
  for (const e of series.exemplars || []) out.push(e);
  for (const p of series.points || []) for (const e of p.exemplars || []) out.push(e);
  return out.filter((e) => e && e.traceId);
}

export function mount(root, { params, signal }) {
  document.title = 'Metrics · loupe';
  const listFilter = params.get('service') || '';
  const sel = { name: params.get('metric') || '', service: params.get('mservice') || '', scope: params.get('scope') || '' };
  const view = params.get('view') === 'table' ? 'table' : 'chart';
  const wantRate = params.get('rate') !== '0';
  const groupBy = params.get('groupBy') || '';
  const pctParam = params.get('pct') || '';
  const fitParam = params.get('fit') || '';
  const attrs = params.getAll('attr');
  const textFilter = params.get('find') || '';
  const range = timeRange(params);

  let metrics = [];
  let chart = null;
  let cur = null; // selected metric

  const find = h('input', {
    type: 'search', class: 'input search', placeholder: 'Find an instrument  ( / )', value: textFilter,
    'aria-label': 'Find an instrument', dataset: { search: '', testid: 'metric-find' },
  });
  const listEl = h('nav', { class: 'metric-list', 'aria-label': 'Instruments', dataset: { testid: 'metric-list' } }, loadingState('Loading instruments…'));
  const mainEl = h('div', { class: 'metric-main' });
  const applyFind = debounce(() => { navigate(withParams({ find: find.value.trim() }), { replace: true, silent: true }); drawList(); }, 150);
  find.addEventListener('input', applyFind);
  root.appendChild(h('div', { class: 'page page-metrics page-fill' },
    h('div', { class: 'page-head' }, h('h1', null, 'Metrics'),
      listFilter ? h('span', { class: 'chip filter-chip' }, serviceDot(listFilter), listFilter,
        h('a', { class: 'chip-x', href: withParams({ service: null }), dataset: { nav: '' }, 'aria-label': 'Show every service' }, icon('x'))) : null),
    h('div', { class: 'split metrics-split' },
      h('aside', { class: 'metric-side' }, find, listEl),
      mainEl)));

  async function loadList() {
    try {
      const body = await apiGet('/metrics', { service: listFilter }, { signal });
      metrics = (body.metrics || []).filter((m) => !listFilter || m.service === listFilter);
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(listEl, errorState(e, 'metrics', { retry: loadList }));
      replace(mainEl);
      return;
    }
    if (metrics.length === 0) {
      replace(listEl, h('div', { class: 'muted small pad' }, 'No instruments.'));
      replace(mainEl, listFilter ? emptyState(`No metrics from ${listFilter}`, 'This service has sent no metrics.') : onboarding({ what: 'metrics' }));
      return;
    }
    cur = metrics.find((m) => m.name === sel.name && (!sel.service || m.service === sel.service) && (!sel.scope || m.scope === sel.scope)) || null;
    if (!cur) {
      cur = metrics[0];
      navigate(withParams({ metric: cur.name, mservice: cur.service, scope: cur.scope || null }), { replace: true, silent: true });
    }
    drawList();
    loadSeries();
  }

  function drawList() {
    const q = find.value.trim().toLowerCase();
    const groups = new Map();
    for (const m of metrics) {
      if (q && !`${m.name} ${m.description || ''} ${m.service} ${m.scope || ''}`.toLowerCase().includes(q)) continue;
      const key = m.service;
      if (!groups.has(key)) groups.set(key, new Map());
      const byScope = groups.get(key);
      const sk = m.scope || '(no meter name)';
      if (!byScope.has(sk)) byScope.set(sk, []);
      byScope.get(sk).push(m);
    }
    if (groups.size === 0) { replace(listEl, h('div', { class: 'muted small pad' }, 'No instrument matches.')); return; }
    replace(listEl, [...groups].map(([svc, scopes]) => h('div', { class: 'metric-group' },
      h('div', { class: 'metric-service' }, serviceDot(svc), h('span', { class: 'ellipsis' }, svc)),
      [...scopes].map(([scope, list]) => h('div', { class: 'metric-scope' },
        h('div', { class: 'metric-scope-name muted small ellipsis', title: 'Meter' }, scope),
        list.map((m) => {
          const active = cur && m.name === cur.name && m.service === cur.service && (m.scope || '') === (cur.scope || '');
          return h('a', {
            class: ['metric-item', active && 'active'], href: withParams({ metric: m.name, mservice: m.service, scope: m.scope || null, groupBy: null, attr: null, rate: null, pct: null, fit: null }),
            dataset: { nav: '', metric: m.name }, title: m.description || m.name,
          },
          h('span', { class: 'metric-name ellipsis' }, m.name),
          h('span', { class: 'metric-meta muted small' }, typeLabel(m), m.unit ? ` · ${m.unit}` : ''));
        }))))));
    const active = listEl.querySelector('.metric-item.active');
    if (active) active.scrollIntoView({ block: 'nearest' });
  }

  async function loadSeries() {
    if (!cur) return;
    const m = cur;
    const unit = m.unit || '';
    const rateMode = m.type === 'sum' && m.monotonic && wantRate;
    const chartBox = h('div', { class: 'chart-box', dataset: { testid: 'chart' } }, loadingState('Loading series…'));
    const extra = h('div', { class: 'metric-extra' });
    const viewSel = h('div', { class: 'seg', role: 'group', 'aria-label': 'View' },
      h('a', { class: ['seg-btn', view === 'chart' && 'active'], href: withParams({ view: null }), dataset: { nav: '', testid: 'view-chart' } }, 'Chart'),
      h('a', { class: ['seg-btn', view === 'table' && 'active'], href: withParams({ view: 'table' }), dataset: { nav: '', testid: 'view-table' } }, 'Table'));
    const rateSel = m.type === 'sum' && m.monotonic ? h('div', { class: 'seg', role: 'group', 'aria-label': 'Counter shown as' },
      h('a', { class: ['seg-btn', wantRate && 'active'], href: withParams({ rate: null }), dataset: { nav: '', testid: 'show-rate' } }, 'Rate /s'),
      h('a', { class: ['seg-btn', !wantRate && 'active'], href: withParams({ rate: '0' }), dataset: { nav: '', testid: 'show-total' } }, 'Total')) : null;
    const groupSel = h('span', { class: 'groupby' });
    const pctSel = h('span', { class: 'pctsel' });
    const fitSel = h('span', { class: 'fitsel' });
    const attrEd = attrFilterEditor(attrs, (list) => setParams({ attr: list }), { placeholder: 'filter: key=value' });
    replace(mainEl,
      h('div', { class: 'metric-head' },
        h('h2', { dataset: { testid: 'metric-title' } }, m.name),
        h('div', { class: 'metric-sub' },
          h('span', { class: 'badge' }, typeLabel(m)),
          m.unit ? h('span', { class: 'badge', title: 'Unit' }, m.unit) : null,
          m.temporality === 'cumulative' || m.temporality === 'delta' ? h('span', { class: 'badge muted', title: 'Aggregation temporality' }, m.temporality) : null,
          h('span', { class: 'muted' }, serviceDot(m.service), ` ${m.service}`, m.scope ? ` · ${m.scope}` : ''),
          h('span', { class: 'muted' }, `${fmtCount(m.seriesCount)} series · last seen ${fmtAgo(m.lastSeenUnixNano)}`)),
        m.description ? h('p', { class: 'metric-desc' }, m.description) : null),
      h('div', { class: 'filterbar' }, viewSel, rateSel, fitSel, groupSel, pctSel, attrEd),
      chartBox, extra);
    if (chart) { chart.destroy(); chart = null; }

    const fetchSeries = (q) => apiGet(`/metrics/${encodeURIComponent(m.name)}/series`, {
      service: m.service, ...rangeParams(params), attr: attrs, groupBy, ...q,
    }, { signal });
    let step = chooseStep(range.endMs - range.startMs);
    let body;
    let fitted = false;
    let xRange = [range.startMs / 1000, range.endMs / 1000];
    try {
      body = await fetchSeries({ step: stepText(step) });
      // fitted to the data: read again over the data's own span, finer
      // (every reported point when it is short: a step finer than the
      // reporting interval would crowd a whole interval's increase into it)
      const first = firstPointNs(body.series);
      const ext = extentOf((body.series || []).flatMap((x) => (x.points || []).map((p) => nsToMs(p.timeUnixNano))));
      if (ext && shouldFit(fitParam, [ext[0], ext[1] + step * 1000], range)) {
        const endMs = Math.min(range.endMs + 1, ext[1] + step * 1000);
        step = endMs - ext[0] <= FIT_RAW_MS ? 0 : chooseStep(endMs - ext[0]);
        const again = await fetchSeries({ start: first, end: msToNs(endMs), step: step ? stepText(step) : undefined });
        const ext2 = extentOf((again.series || []).flatMap((x) => (x.points || []).map((p) => nsToMs(p.timeUnixNano))));
        if (ext2) {
          body = again;
          fitted = true;
          xRange = fittedRange(ext2);
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(chartBox, errorState(e, 'metric series', { retry: loadSeries }));
      return;
    }
    if (view !== 'table') replace(fitSel, fitToggle(fitted));
    if (cur !== m) return;
    const series = Array.isArray(body.series) ? body.series : [];
    // group-by choices: every attribute key seen
    const keys = new Set();
    for (const s of series) for (const k of Object.keys(s.attributes || {})) keys.add(k);
    if (groupBy) keys.add(groupBy);
    if (keys.size) {
      replace(groupSel, h('label', { class: 'inline-label' }, 'Group by',
        select([{ value: '', label: 'every attribute set' }, ...[...keys].sort().map((k) => ({ value: k, label: k }))], groupBy,
          (v) => setParams({ groupBy: v }), { 'aria-label': 'Group by', dataset: { testid: 'group-by' } })));
    }
    if (series.length === 0 || series.every((s) => !(s.points || []).length)) {
      replace(chartBox, emptyState('No points in this time range', `${m.name} has no data in ${range.label.toLowerCase()}${attrs.length ? ' matching the filter' : ''}.`));
      return;
    }
    const fmt = (v) => fmtUnit(v, unit, { rate: rateMode });
    const tSec = (p) => nsToMs(p.timeUnixNano) / 1000;
    const named = labelSeries(series, m.name);
    const hist = isHistogram(m.type);
    const qs = hist ? percentilesShown(pctParam, named.length) : [];
    const lines = [];
    const stats = [];
    named.forEach(({ s, label }, ci) => {
      const pts = s.points || [];
      if (hist) {
        for (const q of qs) {
          lines.push({ label: qs.length > 1 ? `${label} p${q}` : label, colorIndex: ci, dash: qs.length > 1 ? QUANTILE_DASH[q] : undefined, points: pts.map((p) => [tSec(p), pct(p, q)]) });
        }
        // over the whole range: buckets summed (the API answers per-step
        // increments), percentiles estimated from them
        const dist = bucketDistribution([s]);
        const count = pts.reduce((a, p) => a + (Number(p.count) || 0), 0);
        const sum = pts.reduce((a, p) => a + (Number(p.sum) || 0), 0);
        const mins = pts.map((p) => p.min).filter((v) => v !== null && v !== undefined).map(Number);
        const maxs = pts.map((p) => p.max).filter((v) => v !== null && v !== undefined).map(Number);
        const lim = { min: mins.length ? Math.min(...mins) : undefined, max: maxs.length ? Math.max(...maxs) : undefined };
        const q = (x) => (dist ? bucketQuantile(dist.bounds, dist.counts, x, lim) : pct(pts[pts.length - 1] || {}, x * 100));
        stats.push({ label, ci, cells: [fmtUnit(q(0.5), unit), fmtUnit(q(0.9), unit), fmtUnit(q(0.99), unit), fmtNumber(count), count ? fmtUnit(sum / count, unit) : '—', lim.max !== undefined ? fmtUnit(lim.max, unit) : '—'] });
      } else {
        const val = (p) => (rateMode ? (p.rate !== undefined ? p.rate : null) : p.value);
        lines.push({ label, colorIndex: ci, points: pts.map((p) => [tSec(p), val(p)]) });
        const vals = pts.map(val).filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
        const lastV = vals.length ? vals[vals.length - 1] : null;
        stats.push({ label, ci, cells: [fmt(lastV), vals.length ? fmt(Math.min(...vals)) : '—', vals.length ? fmt(Math.max(...vals)) : '—', vals.length ? fmt(vals.reduce((a, b) => a + b, 0) / vals.length) : '—'] });
      }
    });
    const common = commonAttributes(series);
    if (hist) {
      replace(pctSel, h('span', { class: 'inline-label' }, 'Percentiles',
        h('span', { class: 'seg', role: 'group', 'aria-label': 'Percentiles' }, PCT_CHOICES.map((c) => h('a', {
          class: ['seg-btn', c.id === qs.join(',') && 'active'], href: withParams({ pct: c.id }), dataset: { nav: '', testid: `pct-${c.id}` },
        }, c.label)))));
    }
    const exemplars = [];
    for (const s of series) for (const e of exemplarsOf(s)) exemplars.push({ ...e, t: nsToMs(e.timeUnixNano) / 1000, v: e.value });

    const statHead = isHistogram(m.type) ? ['p50', 'p90', 'p99', 'count', 'mean', 'max'] : [rateMode ? 'latest /s' : 'latest', 'min', 'max', 'avg'];
    const statTable = h('table', { class: 'table stat-table', dataset: { testid: 'metric-stats' } },
      h('thead', null, h('tr', null, h('th', null, 'Series'), statHead.map((x) => h('th', { class: 'num' }, x)))),
      h('tbody', null, stats.map((s) => h('tr', null,
        h('td', null, h('span', { class: `dot svc-c${s.ci % 12}` }), h('span', { class: 'mono' }, s.label)),
        s.cells.map((c) => h('td', { class: 'num mono' }, c))))));

    if (view === 'table') {
      replace(chartBox, dataTable(m, series, rateMode, unit));
    } else {
      replace(chartBox);
      const shared = Object.keys(common).sort();
      if (shared.length) {
        chartBox.appendChild(h('div', { class: 'common-attrs small', dataset: { testid: 'common-attrs' } },
          h('span', { class: 'muted' }, 'Every series: '), h('span', { class: 'mono' }, attrLabel(common))));
      }
      if (hist) {
        const style = { 50: 'dotted', 90: 'dashed', 99: 'solid' };
        const what = qs.length > 1 ? qs.map((q) => `p${q} (${style[q]})`).join(', ') : `p${qs[0]}`;
        chartBox.appendChild(h('div', { class: 'chart-caption muted small', dataset: { testid: 'chart-caption' } },
          `${what} of ${named.length > 1 ? 'each series' : 'the series'}, ${step ? `per ${stepText(step)} step` : 'per reported point'}`));
      }
      const holder = h('div', { class: 'chart-holder' });
      chartBox.appendChild(holder);
      const c = await lineChart(holder, {
        lines, exemplars, format: isHistogram(m.type) ? (v) => fmtUnit(v, unit) : fmt,
        axisFormat: (v) => fmtAxis(v, unit, { rate: rateMode }),
        yLabel: axisTitle(unit, { rate: rateMode }),
        xRange,
        onExemplar: (e) => navigate(pageLink(`/traces/${e.traceId}`, { span: e.spanId })),
      });
      if (cur !== m || !chartBox.isConnected) { c.destroy(); return; }
      chart = c;
      if (rateMode) chartBox.appendChild(h('div', { class: 'muted small' }, `Rate per second of ${m.name}, ${step ? `step ${stepText(step)}` : 'between reported points'}.`));
      if (fitted) chartBox.appendChild(h('div', { class: 'muted small', dataset: { testid: 'fit-note' } }, `Fitted to the data: ${fmtDuration((xRange[1] - xRange[0]) * 1e9)} of ${range.label.toLowerCase()}.`));
    }
    const parts = [section(isHistogram(m.type) ? `Series (over ${range.label.toLowerCase()})` : 'Series', statTable)];
    if (isHistogram(m.type)) {
      const dist = bucketDistribution(series);
      if (dist) parts.push(section(`Bucket distribution (${series.length > 1 ? 'all series, ' : ''}${range.label.toLowerCase()})`, bucketBars(dist.bounds, dist.counts, (b) => fmtUnit(b, unit))));
    }
    if (exemplars.length) {
      parts.push(section(`Exemplars (${exemplars.length})`, h('ul', { class: 'exemplars', dataset: { testid: 'exemplars' } },
        exemplars.slice(-50).reverse().map((e) => h('li', null,
          h('a', { href: pageLink(`/traces/${e.traceId}`, { span: e.spanId }), dataset: { nav: '', testid: 'exemplar-link' } },
            icon('link'), fmtUnit(e.value, unit), ' at ', fmtTime(e.timeUnixNano), ' · trace ', h('span', { class: 'mono' }, String(e.traceId).slice(0, 8))))))));
    }
    replace(extra, parts);
  }

  // Sums the per-step bucket counts of the series (the API answers each
  // step's increments, whatever the temporality) where the bounds agree.
  function bucketDistribution(series) {
    let bounds = null;
    let counts = null;
    for (const s of series) {
      const pts = (s.points || []).filter((p) => Array.isArray(p.counts) && Array.isArray(p.bounds));
      for (const p of pts) {
        if (!bounds) { bounds = p.bounds.map(Number); counts = new Array(p.counts.length).fill(0); }
        if (p.bounds.length !== bounds.length || p.counts.length !== counts.length) continue;
        p.counts.forEach((c, i) => { counts[i] += Number(c) || 0; });
      }
    }
    return bounds ? { bounds, counts } : null;
  }

  function dataTable(m, series, rateMode, unit) {
    const hist = isHistogram(m.type);
    const rows = [];
    for (const s of series) {
      const label = attrLabel(s.attributes, m.name);
      for (const p of s.points || []) rows.push({ label, p, t: nsBig(p.timeUnixNano) });
    }
    rows.sort((a, b) => (a.t > b.t ? -1 : a.t < b.t ? 1 : 0));
    const shown = rows.slice(0, 2000);
    const cols = hist ? ['count', 'sum', 'p50', 'p90', 'p99'] : m.type === 'sum' && m.monotonic ? ['value', 'rate /s'] : ['value'];
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table data-table', dataset: { testid: 'metric-table' } },
        h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Attributes'), cols.map((c) => h('th', { class: 'num' }, c)))),
        h('tbody', null, shown.map(({ label, p }) => h('tr', null,
          h('td', { class: 'mono nowrap', title: fmtTimeFull(p.timeUnixNano) }, fmtTime(p.timeUnixNano)),
          h('td', { class: 'mono' }, label),
          hist ? [h('td', { class: 'num mono' }, fmtNumber(p.count)), h('td', { class: 'num mono' }, fmtUnit(p.sum, unit)),
            h('td', { class: 'num mono' }, fmtUnit(pct(p, 50), unit)), h('td', { class: 'num mono' }, fmtUnit(pct(p, 90), unit)), h('td', { class: 'num mono' }, fmtUnit(pct(p, 99), unit))]
            : m.type === 'sum' && m.monotonic ? [h('td', { class: 'num mono' }, fmtUnit(p.value, unit)), h('td', { class: 'num mono' }, p.rate !== undefined ? fmtUnit(p.rate, unit, { rate: true }) : '—')]
              : [h('td', { class: 'num mono' }, fmtUnit(p.value, unit))])))),
      rows.length > shown.length ? h('div', { class: 'muted small' }, `Showing the newest ${shown.length} of ${rows.length} points; narrow the time range for the rest.`) : null);
  }

  function moveSel(d) {
    const items = [...listEl.querySelectorAll('.metric-item')];
    if (!items.length) return;
    let i = items.findIndex((a) => a.classList.contains('active'));
    i = i < 0 ? 0 : Math.max(0, Math.min(items.length - 1, i + d));
    items[i].click();
  }

  loadList();
  return {
    unmount() { if (chart) chart.destroy(); applyFind.cancel(); },
    refresh: () => { loadSeries(); },
    keys: {
      next: () => moveSel(1),
      prev: () => moveSel(-1),
      escape: () => { if (document.activeElement) document.activeElement.blur(); },
    },
  };
}
