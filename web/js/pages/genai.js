// genai.js - the GenAI page: calls, errors, latency and input/output tokens
// of the generative-AI calls in the selected range (spans of the
// OpenTelemetry GenAI conventions), per model or per service over time,
// tables per model, service and operation, and the slowest and most
// expensive (by tokens) calls, each opening its trace. One request:
// GET /api/v1/genai, answered from rollups kept at ingest.
import { h, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { lineChart } from '../chart.js';
import { PALETTE_SIZE } from '../colors.js';
import { emptyState, errorState, loadingState, serviceChip } from '../components.js';
import { fmtCount, fmtDuration, fmtNumber, fmtTime, fmtTimeFull, nsToMs } from '../format.js';
import { pageLink, rangeParams, timeRange, withParams } from '../state.js';
import { extentOf, fitToggle, fittedRange, shouldFit } from '../timefit.js';

// At most this many lines per chart (the groups with the most calls).
const MAX_LINES = 8;

const pct = (x) => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
// About 60 steps over the range, in whole minutes (the rollup's grain).
const stepMinutes = (range) => Math.max(1, Math.ceil((range.endMs - range.startMs) / 60000 / 60));
const perStep = (m) => (m === 1 ? 'per minute' : m % 60 === 0 ? `per ${m / 60} h` : `per ${m} min`);
const modelName = (m) => `${m.model || '(no model)'}${m.provider ? ` · ${m.provider}` : ''}`;
const tSec = (ns) => nsToMs(ns) / 1000;

export function mount(root, { params, signal }) {
  document.title = 'GenAI · loupe';
  const range = timeRange(params);
  const by = params.get('by') === 'service' ? 'service' : 'model';
  const note = h('span', { class: 'muted count', dataset: { testid: 'genai-range' } });
  const fitSel = h('span', { class: 'fitsel' });
  const bySel = h('span', { class: 'seg', role: 'group', 'aria-label': 'Charts by' },
    h('a', { class: ['seg-btn', by === 'model' && 'active'], href: withParams({ by: null }), dataset: { nav: '', testid: 'genai-by-model' } }, 'By model'),
    h('a', { class: ['seg-btn', by === 'service' && 'active'], href: withParams({ by: 'service' }), dataset: { nav: '', testid: 'genai-by-service' } }, 'By service'));
  const body = h('div', { class: 'page-body' }, loadingState('Loading GenAI calls…'));
  root.appendChild(h('div', { class: 'page page-genai' },
    h('div', { class: 'page-head' }, h('h1', null, 'GenAI'), note, h('span', { class: 'spacer' }), fitSel, bySel),
    body));
  let charts = [];

  function destroyCharts() {
    for (const c of charts) c.then((x) => x && x.destroy()).catch(() => {});
    charts = [];
  }

  async function load() {
    let d;
    try {
      d = await apiGet('/genai', { ...rangeParams(params), step: `${stepMinutes(range)}m` }, { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'GenAI calls', { retry: load }));
      return;
    }
    draw(d);
  }

  function draw(d) {
    destroyCharts();
    const t = d.totals || {};
    const within = range.label.toLowerCase();
    if (!t.calls) {
      replace(note);
      replace(fitSel);
      replace(body, emptyState(`No GenAI calls in ${within}`,
        'Spans that follow the OpenTelemetry semantic conventions for generative AI (gen_ai.operation.name, gen_ai.provider.name or gen_ai.system, gen_ai.request.model, gen_ai.usage.*) appear here: calls, latency and tokens per model and service.'));
      return;
    }
    note.textContent = `${fmtCount(t.calls)} call${t.calls === 1 ? '' : 's'} in ${within}`;
    const tiles = h('div', { class: 'tiles', dataset: { testid: 'genai-tiles' } },
      tile('Calls', fmtCount(t.calls), 'calls'),
      tile('Errors', `${fmtCount(t.errors)} (${pct(t.errorRate || 0)})`, 'errors', t.errors > 0 ? 'tile-error' : ''),
      tile('Input tokens', fmtCount(t.inputTokens), 'input'),
      tile('Output tokens', fmtCount(t.outputTokens), 'output'),
      tile('Latency p50', fmtDuration(t.p50Ns), 'p50'),
      tile('Latency p99', fmtDuration(t.p99Ns), 'p99'));
    const groups = (by === 'service' ? d.services : d.models) || [];
    const label = (g) => (by === 'service' ? g.service : modelName(g));
    const shown = groups.slice(0, MAX_LINES);
    const ext = extentOf((d.series || []).map((p) => nsToMs(p.timeUnixNano)));
    const stepNs = Number(d.stepNs || 60e9);
    const fit = ext ? shouldFit(params.get('fit'), [ext[0], ext[1] + stepNs / 1e6], range) : false;
    replace(fitSel, ext ? fitToggle(fit) : null);
    const xRange = fit ? fittedRange([ext[0], ext[1] + stepNs / 1e6]) : [range.startMs / 1000, range.endMs / 1000];
    // every step of the window: counts are 0 where a group had no call
    const steps = [];
    for (let t = BigInt(d.startTimeUnixNano); t < BigInt(d.endTimeUnixNano) && steps.length < 10000; t += BigInt(stepNs)) steps.push(t);
    const per = perStep(stepNs / 60e9);
    const chartBox = (title, testid, value, format, { zero = true } = {}) => {
      const holder = h('div', { class: 'chart-holder' });
      const box = h('div', { class: 'chart-box', dataset: { testid } }, h('h3', null, title), holder);
      const lines = shown.map((g, i) => {
        const at = new Map((g.series || []).map((p) => [BigInt(p.timeUnixNano), p]));
        const points = zero ? steps.map((t) => [tSec(t.toString()), at.has(t) ? value(at.get(t)) : 0])
          : [...at.values()].map((p) => [tSec(p.timeUnixNano), value(p)]);
        return { label: label(g), colorIndex: i % PALETTE_SIZE, points };
      });
      charts.push(lineChart(holder, { lines, format, axisFormat: format, height: 200, xRange }));
      return box;
    };
    const chartsEl = h('div', { class: 'genai-charts' },
      chartBox(`Calls ${per}`, 'genai-chart-calls', (p) => p.calls, (v) => fmtNumber(v)),
      chartBox(`Tokens (in + out) ${per}`, 'genai-chart-tokens', (p) => p.inputTokens + p.outputTokens, (v) => fmtNumber(v)),
      chartBox('Latency p99', 'genai-chart-latency', (p) => p.p99Ns, (v) => fmtDuration(v), { zero: false }),
      chartBox(`Errors ${per}`, 'genai-chart-errors', (p) => p.errors, (v) => fmtNumber(v)));
    replace(body, tiles, chartsEl,
      h('div', { class: 'genai-tables' },
        figuresTable('Models', 'genai-models', d.models || [], ['Model',
          (m) => h('span', null, h('span', { class: 'mono' }, m.model || '(no model)'), m.provider ? h('span', { class: 'muted small' }, ` ${m.provider}`) : null),
          (m) => `${m.provider}/${m.model}`]),
        figuresTable('Services', 'genai-services', d.services || [], ['Service',
          (s) => serviceChip(s.service, { href: pageLink('/traces', { service: s.service }) }), (s) => s.service]),
        figuresTable('Operations', 'genai-operations', d.operations || [], ['Operation',
          (o) => h('span', { class: 'mono' }, o.operation || '(none)'), (o) => o.operation])),
      h('div', { class: 'genai-tables genai-calls' },
        callsTable('Slowest calls', 'genai-slowest', d.slowest || []),
        callsTable('Most expensive calls (tokens)', 'genai-expensive', d.mostExpensive || [])));
  }

  function tile(label, value, testid, cls) {
    return h('div', { class: ['tile', cls], dataset: { testid: `tile-${testid}` } },
      h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-label' }, label));
  }

  // A table of groups with their figures: the key column (title, cell(g),
  // key(g) for tests) and the figures.
  function figuresTable(title, testid, rows, [keyTitle, cell, keyOf]) {
    return h('section', null, h('h2', null, title),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', dataset: { testid } },
        h('thead', null, h('tr', null,
          h('th', null, keyTitle),
          h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num' }, 'Errors'),
          h('th', { class: 'num' }, 'p50'), h('th', { class: 'num' }, 'p99'),
          h('th', { class: 'num', title: 'Input tokens' }, 'In tokens'), h('th', { class: 'num', title: 'Output tokens' }, 'Out tokens'),
          h('th', { class: 'num', title: 'Tokens (in + out) per call' }, 'Tokens / call'))),
        h('tbody', null, rows.map((g) => h('tr', { dataset: { key: keyOf(g) } },
          h('td', null, cell(g)),
          h('td', { class: 'num' }, fmtCount(g.calls)),
          h('td', { class: ['num', g.errors > 0 && 'err-text'] }, g.errors > 0 ? `${fmtCount(g.errors)} (${pct(g.errorRate)})` : '0'),
          h('td', { class: 'num' }, fmtDuration(g.p50Ns)),
          h('td', { class: 'num' }, fmtDuration(g.p99Ns)),
          h('td', { class: 'num' }, fmtCount(g.inputTokens)),
          h('td', { class: 'num' }, fmtCount(g.outputTokens)),
          h('td', { class: 'num' }, g.calls ? fmtNumber(Math.round((g.inputTokens + g.outputTokens) / g.calls)) : '—')))))));
  }

  // The slowest or most expensive calls, each a link to its span in its trace.
  function callsTable(title, testid, calls) {
    return h('section', null, h('h2', null, title),
      calls.length === 0 ? h('div', { class: 'muted small' }, 'None in this range.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'table', dataset: { testid } },
          h('thead', null, h('tr', null,
            h('th', null, 'Time'), h('th', null, 'Call'), h('th', null, 'Model'),
            h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Tokens in / out'))),
          h('tbody', null, calls.map((c) => h('tr', { class: c.error ? 'row-error' : null, dataset: { traceId: c.traceId, spanId: c.spanId } },
            h('td', { title: fmtTimeFull(c.startTimeUnixNano) }, fmtTime(c.startTimeUnixNano)),
            h('td', { class: 'call-name' },
              h('a', { href: pageLink(`/traces/${c.traceId}`, { span: c.spanId }), dataset: { nav: '', testid: 'genai-call-link' } }, c.name || c.operation || '(unnamed)'),
              h('div', { class: 'muted small' }, [c.service, c.operation].filter(Boolean).join(' · '))),
            h('td', { class: 'mono small' }, c.model || '—'),
            h('td', { class: ['num', c.error && 'err-text'] }, fmtDuration(c.durationNs)),
            h('td', { class: 'num' }, `${fmtCount(c.inputTokens)} / ${fmtCount(c.outputTokens)}`)))))));
  }

  load();
  return {
    unmount: destroyCharts,
    refresh: load,
  };
}
