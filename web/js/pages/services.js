// services.js - every service with its requests in the selected time range:
// rate, failed requests (the headline: "3 failed of 40 requests", error
// spans a detail), p99, sparklines of calls and p99 over the range, what it
// sent (spans, logs, metric points), last seen, and links into the other
// pages filtered by it (with the same range).
//
// Requests: GET /api/v1/services (everything stored: the services to list,
// those quiet in the range too) and GET /api/v1/services?start=&end= (exact
// counts of the range, from the server's per-minute rollups); then, for the
// sparklines, one GET /services/{name}/operations per service with requests,
// at most SPARK_MAX services, PARALLEL at a time, drawn as they arrive.
import { h, replace } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { pageLink, stepFor, timeRange, windowParams } from '../state.js';
import { errorState, loadingState, onboarding, serviceDot } from '../components.js';
import { fmtAgo, fmtCount, fmtDuration, fmtPercent, fmtRate, fmtTimeFull } from '../format.js';
import { sparkBars, sparkLine, stepsOf } from '../spark.js';

const SPARK_MAX = 40;
const PARALLEL = 4;
const STEPS = 30;

// "1 instance", "3 requests".
export const plural = (n, one, many = `${one}s`) => `${fmtCount(n)} ${Number(n) === 1 ? one : many}`;

// The figures of a service over the window (an entry of GET
// /api/v1/services?start=&end=, or nothing when it sent nothing in it).
export function figures(w) {
  const n = (k) => Number(w && w[k]) || 0;
  return {
    requests: n('requests'), failed: n('failedRequests'), rate: n('rate'), errorRate: n('errorRate'),
    p50: n('p50Ns'), p99: n('p99Ns'), spans: n('spanCount'), logs: n('logCount'), points: n('metricCount'),
    errorSpans: n('errorCount'),
  };
}

// The headline of a service's failures: failed requests of requests, with
// error spans as the detail. Returns [headline nodes, detail text].
function failedText(f, failedHref) {
  if (f.requests === 0) {
    return [h('span', { class: 'muted' }, 'No requests'), f.errorSpans ? plural(f.errorSpans, 'error span') : ''];
  }
  const failed = f.failed > 0 && failedHref
    ? h('a', { href: failedHref, dataset: { nav: '', testid: 'svc-errors' }, class: 'err-text' }, `${fmtCount(f.failed)} failed`)
    : h('span', null, `${fmtCount(f.failed)} failed`);
  return [[failed, ` of ${plural(f.requests, 'request')}`],
    `${fmtPercent(f.errorRate)}${f.errorSpans ? ` · ${plural(f.errorSpans, 'error span')}` : ''}`];
}

// fn over every item, at most PARALLEL at a time (many services must not
// flood the server).
async function inTurn(items, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

export function mount(root, { params, signal }) {
  document.title = 'Services · loupe';
  const range = timeRange(params);
  const within = range.label.toLowerCase();
  const note = h('span', { class: 'muted count', dataset: { testid: 'services-range' } });
  const body = h('div', { class: 'page-body' }, loadingState('Loading services…'));
  root.appendChild(h('div', { class: 'page page-services' },
    h('div', { class: 'page-head' }, h('h1', null, 'Services'), note,
      h('span', { class: 'spacer' }),
      h('a', { class: 'btn', href: pageLink('/map'), dataset: { nav: '' } }, 'Service map')),
    body));
  let rows = [];
  let sel = -1;
  let gen = 0;

  async function load() {
    const my = ++gen;
    const wp = windowParams(params);
    let all;
    let inRange;
    try {
      [all, inRange] = await Promise.all([
        getServices({ signal, fresh: true }),
        apiGet('/services', wp, { signal }),
      ]);
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'services', { retry: load }));
      return;
    }
    if (my !== gen) return;
    const byName = new Map((inRange.services || []).map((s) => [s.name, s]));
    const stats = all.map((s) => ({ s, w: byName.get(s.name) || null, f: figures(byName.get(s.name)) }));
    // a service may be in the window's answer and not (yet) in the cached list
    for (const [name, w] of byName) if (!all.some((s) => s.name === name)) stats.push({ s: w, w, f: figures(w) });
    draw(stats);
    sparks(my, wp);
  }

  const active = (x) => x.f.spans > 0 || x.f.logs > 0 || x.f.points > 0;

  function draw(stats) {
    const empty = (x) => !Number(x.s.spanCount) && !Number(x.s.logCount) && !Number(x.s.metricCount);
    if (stats.every(empty)) {
      replace(note);
      replace(body, onboarding());
      return;
    }
    // active services first (by name), then the quiet ones
    rows = [...stats].sort((a, b) => active(b) - active(a) || (a.s.name < b.s.name ? -1 : a.s.name > b.s.name ? 1 : 0));
    const nActive = rows.filter(active).length;
    note.textContent = `In ${within}: ${nActive} of ${plural(rows.length, 'service')} sent telemetry`;
    const sum = (k) => rows.reduce((n, x) => n + x.f[k], 0);
    const total = { requests: sum('requests'), failed: sum('failed'), errorSpans: sum('errorSpans') };
    const seconds = Math.max(1, (range.endMs - range.startMs) / 1000);
    const tiles = h('div', { class: 'tiles' },
      tile('Active services', fmtCount(nActive), null, null, 'tile-active'),
      tile('Requests', fmtCount(total.requests), `${fmtRate(total.requests / seconds)} over ${within}`, pageLink('/traces'), 'tile-requests'),
      tile(`failed of ${plural(total.requests, 'request')}`, fmtCount(total.failed),
        `${total.requests ? `${fmtPercent(total.failed / total.requests)} · ` : ''}${plural(total.errorSpans, 'error span')}`,
        pageLink('/traces', { status: 'error' }), 'tile-failed', total.failed > 0 && 'tile-error'),
      tile('Spans', fmtCount(sum('spans')), null, pageLink('/traces'), 'tile-spans'),
      tile('Logs', fmtCount(sum('logs')), null, pageLink('/logs'), 'tile-logs'),
      tile('Metric points', fmtCount(sum('points')), null, pageLink('/metrics'), 'tile-points'));
    const trs = rows.map((x, i) => {
      const { s, f } = x;
      const quiet = !active(x);
      const [headline, detail] = failedText(f, pageLink('/traces', { service: s.name, status: 'error' }));
      const instances = s.instances || [];
      return h('tr', {
        class: ['svc-row', i === sel && 'selected', quiet && 'svc-quiet'], dataset: { service: s.name },
        onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) { sel = i; mark(); } },
      },
      h('td', null,
        h('span', { class: 'svc-name' }, serviceDot(s.name),
          h('a', { href: pageLink('/service', { name: s.name }), class: 'svc-link', dataset: { nav: '', testid: 'svc-open' } }, h('strong', null, s.name))),
        quiet ? h('div', { class: 'muted small', dataset: { testid: 'svc-quiet' } }, `Nothing in ${within}`) : null,
        instances.length ? h('div', { class: 'muted small' }, `${plural(instances.length, 'instance')}: ${instances.slice(0, 3).join(', ')}${instances.length > 3 ? ', …' : ''}`) : null),
      h('td', { class: 'num fig' },
        h('div', { dataset: { testid: 'svc-rate' }, title: `${fmtCount(f.requests)} requests, ${f.rate} per second` }, f.requests ? fmtRate(f.rate) : '—'),
        h('div', { class: 'spark-cell', dataset: { testid: 'svc-spark-calls' } })),
      h('td', { class: ['fig', f.failed > 0 && 'has-err'] },
        h('div', { dataset: { testid: 'svc-failed' } }, headline),
        detail ? h('div', { class: 'muted small', dataset: { testid: 'svc-error-detail' } }, detail) : null),
      h('td', { class: 'num fig' },
        h('div', { dataset: { testid: 'svc-p99' }, title: f.requests ? `p50 ${fmtDuration(f.p50)}` : null }, f.requests ? fmtDuration(f.p99) : '—'),
        h('div', { class: 'spark-cell', dataset: { testid: 'svc-spark-p99' } })),
      h('td', { class: 'num' }, h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '', testid: 'svc-traces' } }, fmtCount(f.spans))),
      h('td', { class: 'num' }, h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '', testid: 'svc-logs' } }, fmtCount(f.logs))),
      h('td', { class: 'num' }, h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '', testid: 'svc-metrics' } }, fmtCount(f.points))),
      h('td', { title: fmtTimeFull(s.lastSeenUnixNano) }, fmtAgo(s.lastSeenUnixNano)),
      h('td', { class: 'links' },
        h('a', { href: pageLink('/service', { name: s.name }), dataset: { nav: '' } }, 'Operations'),
        h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '' } }, 'Traces'),
        h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '' } }, 'Logs'),
        h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '' } }, 'Metrics')));
    });
    replace(body, tiles, h('div', { class: 'table-wrap' }, h('table', { class: 'table services-table', dataset: { testid: 'services-table' } },
      h('thead', null, h('tr', null,
        h('th', null, 'Service'),
        h('th', { class: 'num', title: 'Requests (SERVER, CONSUMER and root spans) per unit of time, and their count per step' }, 'Rate'),
        h('th', { title: 'Requests that failed (status ERROR) of the requests; error spans of the service below' }, 'Failed requests'),
        h('th', { class: 'num', title: 'The requests\u2019 99th percentile duration; below, the slowest operation\u2019s p99 per step' }, 'p99'),
        h('th', { class: 'num', title: 'Spans stored in the range' }, 'Spans'),
        h('th', { class: 'num', title: 'Log records in the range' }, 'Logs'),
        h('th', { class: 'num', title: 'Metric data points in the range' }, 'Metric points'),
        h('th', null, 'Last seen'), h('th', null, 'Open'))),
      h('tbody', null, trs))));
  }

  // Sparklines of each service with requests, a few at a time.
  async function sparks(my, wp) {
    const todo = rows.filter((x) => x.f.requests > 0).slice(0, SPARK_MAX);
    const step = stepFor(params, STEPS);
    await inTurn(todo, async (x) => {
      if (my !== gen || signal.aborted) return;
      let ans;
      try {
        ans = await apiGet(`/services/${encodeURIComponent(x.s.name)}/operations`, { ...wp, step }, { signal });
      } catch {
        return; // the figures are there; a missing sparkline is no error
      }
      if (my !== gen) return;
      const st = stepsOf(ans);
      const tr = [...body.querySelectorAll('tr.svc-row')].find((r) => r.dataset.service === x.s.name);
      if (!tr) return;
      const mins = Math.round(st.stepNs / 60e9);
      const per = `per ${mins === 1 ? 'minute' : `${mins} minutes`}`;
      replace(tr.querySelector('[data-testid="svc-spark-calls"]'),
        sparkBars(st.calls, st.errors, { label: `Requests ${per} (failed in red): ${st.calls.join(', ')}` }));
      replace(tr.querySelector('[data-testid="svc-spark-p99"]'),
        sparkLine(st.p99, { label: `Slowest operation p99 ${per}` }));
      tr.dataset.sparks = String(st.calls.reduce((a, b) => a + b, 0));
    });
  }

  function tile(label, value, detail, href, testid, cls) {
    const inner = [h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-label' }, label),
      detail ? h('div', { class: 'tile-detail muted small' }, detail) : null];
    const attrs = { class: ['tile', cls], dataset: { testid } };
    return href ? h('a', { ...attrs, href, dataset: { nav: '', testid } }, inner) : h('div', attrs, inner);
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
      open: () => { const tr = body.querySelectorAll('tr.svc-row')[sel]; if (tr) tr.querySelector('a[data-testid="svc-open"]').click(); },
      escape: () => { sel = -1; mark(); },
    },
  };
}
