// service.js - one service (/service?name=NAME): its requests in the
// selected range (rate, failed of requests, error spans, p50, p99), charts
// of each entry operation's rate and p99 over the range (uPlot), and the
// operations in a sortable table (calls, errors, error %, rate, p50, p95,
// p99); an operation opens its traces (trace search by service and span
// name). The service's name is a query parameter, not a path segment: the
// UI server serves the app for paths without a file extension only, and
// service names often have dots.
//
// Requests: GET /api/v1/services?start=&end= (the service's figures) and
// GET /api/v1/services/{name}/operations?start=&end=&step= (the operations
// and their series).
import { h, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { navigate, pageLink, stepFor, timeRange, windowParams, withParams } from '../state.js';
import { emptyState, errorState, loadingState, serviceDot } from '../components.js';
import { lineChart } from '../chart.js';
import { PALETTE_SIZE } from '../colors.js';
import { fmtCount, fmtDuration, fmtPercent, fmtRate, nsToMs } from '../format.js';
import { sparkBars, stepsOf } from '../spark.js';
import { figures, plural } from './services.js';

const CHART_MAX = 8; // lines per chart: the busiest operations
const STEPS = 60;

// The table's columns: [id, label, value of an operation, numeric].
export const COLUMNS = [
  ['name', 'Operation', (o) => o.name, false],
  ['calls', 'Calls', (o) => Number(o.calls) || 0, true],
  ['errors', 'Errors', (o) => Number(o.errors) || 0, true],
  ['errorRate', 'Error %', (o) => Number(o.errorRate) || 0, true],
  ['rate', 'Rate', (o) => Number(o.rate) || 0, true],
  ['p50', 'p50', (o) => Number(o.p50Ns) || 0, true],
  ['p95', 'p95', (o) => Number(o.p95Ns) || 0, true],
  ['p99', 'p99', (o) => Number(o.p99Ns) || 0, true],
];

// ops sorted by column `id` in `dir` ('asc'|'desc'); ties by name.
export function sortOps(ops, id, dir) {
  const col = COLUMNS.find((c) => c[0] === id) || COLUMNS[1];
  const sign = dir === 'asc' ? 1 : -1;
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...ops].sort((a, b) => {
    const x = col[2](a);
    const y = col[2](b);
    const c = col[3] ? x - y : byName(a, b);
    return sign * c || byName(a, b);
  });
}

export function mount(root, { params, signal }) {
  const name = params.get('name') || '';
  document.title = `${name || 'Service'} · loupe`;
  const range = timeRange(params);
  const within = range.label.toLowerCase();
  let sort = COLUMNS.some((c) => c[0] === params.get('sort')) ? params.get('sort') : 'calls';
  const dirParam = params.get('dir');
  let dir = dirParam === 'asc' || dirParam === 'desc' ? dirParam : (sort === 'name' ? 'asc' : 'desc');
  const body = h('div', { class: 'page-body' }, loadingState('Loading operations…'));
  root.appendChild(h('div', { class: 'page page-service' },
    h('div', { class: 'page-head' },
      h('a', { href: pageLink('/services'), dataset: { nav: '' }, class: 'muted' }, 'Services'),
      h('span', { class: 'muted' }, '/'),
      h('h1', { class: 'svc-name', dataset: { testid: 'service-title' } }, serviceDot(name), name),
      h('span', { class: 'muted count' }, `In ${within}`),
      h('span', { class: 'spacer' }),
      h('span', { class: 'links' },
        h('a', { href: pageLink('/traces', { service: name }), dataset: { nav: '' } }, 'Traces'),
        h('a', { href: pageLink('/logs', { service: name }), dataset: { nav: '' } }, 'Logs'),
        h('a', { href: pageLink('/metrics', { service: name }), dataset: { nav: '' } }, 'Metrics'),
        h('a', { href: pageLink('/map'), dataset: { nav: '' } }, 'Map'))),
    body));
  let charts = [];
  let ops = [];
  let sel = ''; // the selected operation's name
  let gen = 0;

  const dropCharts = () => { for (const c of charts) c.destroy(); charts = []; };

  async function load() {
    const my = ++gen;
    if (!name) {
      replace(body, emptyState('No service named', 'Open a service from the Services page.'));
      return;
    }
    const wp = windowParams(params);
    let svc;
    let ans;
    try {
      [svc, ans] = await Promise.all([
        apiGet('/services', wp, { signal }),
        apiGet(`/services/${encodeURIComponent(name)}/operations`, { ...wp, step: stepFor(params, STEPS) }, { signal }),
      ]);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404 && !e.missingEndpoint) {
        replace(body, emptyState(`No telemetry from ${name}`, 'loupe has nothing stored for a service of this name.',
          h('a', { href: pageLink('/services'), dataset: { nav: '' } }, 'All services')));
        return;
      }
      replace(body, errorState(e, 'operations', { retry: load }));
      return;
    }
    if (my !== gen) return;
    dropCharts();
    const f = figures((svc.services || []).find((s) => s.name === name));
    // colours follow the busiest-first order, whatever the table's sort
    ops = sortOps(ans.operations || [], 'calls', 'desc').map((o, i) => ({ ...o, colorIndex: i % PALETTE_SIZE }));
    const failedHref = pageLink('/traces', { service: name, status: 'error' });
    const tiles = h('div', { class: 'tiles', dataset: { testid: 'service-tiles' } },
      h('a', { class: 'tile', href: pageLink('/traces', { service: name }), dataset: { nav: '', testid: 'tile-requests' } },
        h('div', { class: 'tile-value' }, fmtCount(f.requests)),
        h('div', { class: 'tile-label' }, `Requests, ${f.requests ? fmtRate(f.rate) : 'none'}`)),
      h('a', { class: ['tile', f.failed > 0 && 'tile-error'], href: failedHref, dataset: { nav: '', testid: 'tile-failed' } },
        h('div', { class: 'tile-value' }, fmtCount(f.failed)),
        h('div', { class: 'tile-label', dataset: { testid: 'service-failed' } }, f.requests ? `failed of ${plural(f.requests, 'request')}` : 'failed: no requests'),
        h('div', { class: 'tile-detail muted small', dataset: { testid: 'service-error-detail' } },
          `${f.requests ? `${fmtPercent(f.errorRate)} · ` : ''}${plural(f.errorSpans, 'error span')}`)),
      h('div', { class: 'tile', dataset: { testid: 'tile-p50' } },
        h('div', { class: 'tile-value' }, f.requests ? fmtDuration(f.p50) : '—'), h('div', { class: 'tile-label' }, 'p50 (median)')),
      h('div', { class: 'tile', dataset: { testid: 'tile-p99' } },
        h('div', { class: 'tile-value' }, f.requests ? fmtDuration(f.p99) : '—'), h('div', { class: 'tile-label' }, 'p99')));
    if (!ops.length) {
      replace(body, tiles, emptyState(`No requests to ${name} in ${within}`,
        'Operations are the names of a service\u2019s SERVER and CONSUMER spans and of its root spans.'));
      return;
    }
    const rateBox = h('div', { class: 'chart-box', dataset: { testid: 'ops-rate-chart' } });
    const p99Box = h('div', { class: 'chart-box', dataset: { testid: 'ops-p99-chart' } });
    const tableBox = h('div', { class: 'table-wrap' });
    replace(body, tiles, h('div', { class: 'chart-pair' }, rateBox, p99Box), tableBox);
    drawTable(tableBox, ans);
    drawCharts(my, ans, rateBox, p99Box);
  }

  async function drawCharts(my, ans, rateBox, p99Box) {
    const start = BigInt(ans.startTimeUnixNano);
    const end = BigInt(ans.endTimeUnixNano);
    const step = BigInt(ans.stepNs);
    const stepSec = Number(step) / 1e9;
    const shown = ops.slice(0, CHART_MAX);
    const sec = (ns) => nsToMs(ns) / 1000;
    // rates: every step of the window (no calls is a rate of 0)
    const rates = shown.map((o) => {
      const at = new Map((o.series || []).map((p) => [String(p.timeUnixNano), Number(p.calls) || 0]));
      const points = [];
      for (let t = start; t < end; t += step) points.push([sec(t), (at.get(t.toString()) || 0) / stepSec]);
      return points;
    });
    const max = Math.max(0, ...rates.flat().map((p) => p[1]));
    const perMin = max < 1;
    const scale = perMin ? 60 : 1;
    const unit = perMin ? 'min' : 's';
    const rateLines = shown.map((o, i) => ({ label: o.name, colorIndex: o.colorIndex, points: rates[i].map(([t, v]) => [t, v * scale]) }));
    const p99Lines = shown.map((o) => ({
      label: o.name, colorIndex: o.colorIndex,
      points: (o.series || []).filter((p) => Number(p.calls) > 0).map((p) => [sec(p.timeUnixNano), Number(p.p99Ns) || 0]),
    }));
    const xRange = [sec(start), sec(end)];
    const stepText = `${Math.round(stepSec / 60)} min`;
    const more = ops.length > CHART_MAX ? ` (the ${CHART_MAX} busiest of ${ops.length} operations)` : '';
    const num = (v) => String(Number(Number(v).toPrecision(3)));
    rateBox.append(h('div', { class: 'chart-title' }, `Requests per ${unit === 's' ? 'second' : 'minute'}${more}`),
      h('div', { class: 'muted small' }, `Calls of each operation per ${stepText} step, as a rate`));
    p99Box.append(h('div', { class: 'chart-title' }, `p99 duration${more}`),
      h('div', { class: 'muted small' }, `Each operation\u2019s 99th percentile per ${stepText} step`));
    const holders = [h('div', { class: 'chart-holder' }), h('div', { class: 'chart-holder' })];
    rateBox.append(holders[0]);
    p99Box.append(holders[1]);
    const made = await Promise.all([
      lineChart(holders[0], { lines: rateLines, format: (v) => `${num(v)}/${unit}`, axisFormat: num, yLabel: `requests/${unit}`, height: 220, xRange }),
      lineChart(holders[1], { lines: p99Lines, format: fmtDuration, axisFormat: (v) => (v === 0 ? '0' : fmtDuration(v)), height: 220, xRange }),
    ]);
    if (my !== gen || !rateBox.isConnected) { for (const c of made) c.destroy(); return; }
    charts.push(...made);
  }

  function drawTable(box, ans) {
    const mins = Math.round(Number(ans.stepNs) / 60e9);
    const sorted = sortOps(ops, sort, dir);
    const head = COLUMNS.map(([id, label, , numeric]) => {
      const active = sort === id;
      const next = active ? (dir === 'desc' ? 'asc' : 'desc') : (numeric ? 'desc' : 'asc');
      const href = withParams({ sort: id, dir: next });
      return h('th', { class: numeric && 'num', 'aria-sort': active ? (dir === 'desc' ? 'descending' : 'ascending') : 'none' },
        h('a', {
          href, class: ['sort-link', active && 'active'], dataset: { testid: `ops-sort-${id}` }, title: `Sort by ${label.toLowerCase()}`,
          onclick: (e) => {
            e.preventDefault();
            sort = id;
            dir = next;
            navigate(href, { replace: true, silent: true });
            drawTable(box, ans);
            const a = box.querySelector(`[data-testid="ops-sort-${id}"]`);
            if (a) a.focus();
          },
        }, label, active ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, dir === 'desc' ? '↓' : '↑') : null));
    });
    const trs = sorted.map((o) => {
      const href = pageLink('/traces', { service: name, name: o.name });
      const st = stepsOf(ans, [o]);
      const sw = h('span', { class: 'legend-swatch op-swatch' });
      sw.style.color = `var(--c${o.colorIndex})`;
      return h('tr', {
        class: ['op-row', o.name === sel && 'selected', Number(o.errors) > 0 && 'has-error'], dataset: { op: o.name },
        onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) { sel = o.name; mark(); } },
      },
      h('td', null, h('span', { class: 'op-name' }, sw,
        h('a', { href, dataset: { nav: '', testid: 'op-traces' }, title: `Traces with a ${name} span named ${o.name}` }, o.name))),
      h('td', { class: 'num', dataset: { testid: 'op-calls' } }, fmtCount(o.calls)),
      h('td', { class: ['num', Number(o.errors) > 0 && 'err-text'], dataset: { testid: 'op-errors' } },
        Number(o.errors) > 0 ? h('a', { href: pageLink('/traces', { service: name, name: o.name, status: 'error' }), class: 'err-text', dataset: { nav: '' } }, fmtCount(o.errors)) : '0'),
      h('td', { class: 'num', dataset: { testid: 'op-error-rate' } }, fmtPercent(o.errorRate)),
      h('td', { class: 'num', dataset: { testid: 'op-rate' }, title: `${o.rate} per second` }, fmtRate(o.rate)),
      h('td', { class: 'num', dataset: { testid: 'op-p50' } }, fmtDuration(o.p50Ns)),
      h('td', { class: 'num', dataset: { testid: 'op-p95' } }, fmtDuration(o.p95Ns)),
      h('td', { class: 'num', dataset: { testid: 'op-p99' } }, fmtDuration(o.p99Ns)),
      h('td', { class: 'spark-td' }, sparkBars(st.calls, st.errors, { label: `Calls per ${mins === 1 ? 'minute' : `${mins} minutes`} (failed in red)` })));
    });
    replace(box, h('table', { class: 'table ops-table', dataset: { testid: 'ops-table' } },
      h('caption', { class: 'muted small' }, `${plural(ops.length, 'operation')}: the names of ${name}\u2019s SERVER, CONSUMER and root spans. Click one for its traces.`),
      h('thead', null, h('tr', null, head, h('th', { title: 'Calls per step over the range, failed in red' }, 'Trend'))),
      h('tbody', null, trs)));
  }

  const opRows = () => [...body.querySelectorAll('tr.op-row')];
  const selIndex = () => opRows().findIndex((tr) => tr.dataset.op === sel);
  function mark() {
    for (const tr of opRows()) tr.classList.toggle('selected', tr.dataset.op === sel);
    const tr = opRows()[selIndex()];
    if (tr) tr.scrollIntoView({ block: 'nearest' });
  }
  const move = (d) => {
    const trs = opRows();
    if (!trs.length) return;
    const i = selIndex();
    sel = trs[Math.max(0, Math.min(trs.length - 1, i < 0 ? 0 : i + d))].dataset.op;
    mark();
  };

  load();
  return {
    refresh: load,
    unmount: dropCharts,
    keys: {
      next: () => move(1),
      prev: () => move(-1),
      open: () => { const tr = opRows()[selIndex()]; if (tr) tr.querySelector('a[data-testid="op-traces"]').click(); },
      escape: () => { sel = ''; mark(); },
    },
  };
}
