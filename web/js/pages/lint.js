// lint.js - the Lint page: mistakes in how the services are instrumented,
// found by loupe in what it stores (GET /api/v1/lint, docs/lint.md). Per
// service (the services with the most severe findings first), each finding
// with its severity, rule, count, when it was seen, what was seen, the fix,
// and links to up to five examples: a span in its trace, a log record, a
// metric. Findings cover everything stored, whatever the time range.
import { h, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { emptyState, errorState, loadingState, select, serviceChip } from '../components.js';
import { fmtAgo, fmtCount, fmtTime, fmtTimeFull, shortId } from '../format.js';
import { BASE, pageLink, setParams } from '../state.js';

const SEVERITIES = ['error', 'warning', 'info'];
const SEV_CLASS = { error: 'sev-error', warning: 'sev-warn', info: 'sev-info' };

// What the lint checks, for the page without findings (docs/lint.md).
const RULES = [
  ['missing-service-name', 'items of a process without service.name'],
  ['server-span-kind', 'incoming HTTP requests recorded with a kind other than SERVER'],
  ['orphan-span', 'spans whose parent never arrives'],
  ['error-without-status', 'exceptions on spans whose status is not ERROR'],
  ['clock-skew', 'children outside their parent, across services'],
  ['high-cardinality-metric', 'metrics with too many attribute sets'],
  ['log-without-severity', 'log records without a severity number'],
  ['dropped-data', 'attributes, events or links dropped by the SDK or by loupe'],
  ['deprecated-attribute', 'attribute names the semantic conventions replaced'],
];

const plural = (n, one, many = `${one}s`) => `${fmtCount(n)} ${n === 1 ? one : many}`;

// "1 error · 2 warnings" of a list of findings.
function tally(findings) {
  const parts = [];
  for (const sev of SEVERITIES) {
    const n = findings.filter((f) => f.severity === sev).length;
    if (n) parts.push(plural(n, sev, sev === 'info' ? 'info' : `${sev}s`));
  }
  return parts.join(' · ');
}

// An example as a link into the UI.
function exampleLink(ex) {
  let label;
  if (ex.signal === 'span') label = `span ${shortId(ex.spanId)} of trace ${shortId(ex.traceId)}`;
  else if (ex.signal === 'log') label = `log record at ${fmtTime(ex.timeUnixNano)}`;
  else label = `metric ${ex.metric}`;
  return h('a', {
    href: `${BASE}${ex.ui}`, class: 'lint-example', title: fmtTimeFull(ex.timeUnixNano),
    dataset: { nav: '', testid: 'lint-example', signal: ex.signal },
  }, label);
}

function findingCard(f) {
  const unit = f.rule === 'high-cardinality-metric' ? ['attribute set'] : ['item'];
  return h('article', { class: 'lint-finding', dataset: { testid: 'lint-finding', rule: f.rule, key: f.key, severity: f.severity } },
    h('div', { class: 'lint-head' },
      h('span', { class: ['sev', SEV_CLASS[f.severity]] }, f.severity.toUpperCase()),
      h('code', { class: 'lint-rule' }, f.rule),
      f.key ? h('span', { class: 'lint-key mono', title: f.key }, f.key) : null,
      h('span', { class: 'spacer' }),
      h('span', { class: 'lint-count', dataset: { testid: 'lint-count' } }, plural(f.count, ...unit)),
      h('span', { class: 'muted small', title: `first ${fmtTimeFull(f.firstSeenUnixNano)}, last ${fmtTimeFull(f.lastSeenUnixNano)}` },
        `last ${fmtAgo(f.lastSeenUnixNano)}`)),
    f.detail ? h('div', { class: 'lint-detail', dataset: { testid: 'lint-detail' } }, f.detail) : null,
    h('p', { class: 'lint-hint', dataset: { testid: 'lint-hint' } }, h('strong', null, 'Fix: '), f.hint),
    f.examples.length ? h('div', { class: 'lint-examples' },
      h('span', { class: 'muted small' }, f.examples.length === 1 ? 'Example:' : 'Examples:'),
      f.examples.map(exampleLink)) : null);
}

export function mount(root, { params, signal }) {
  document.title = 'Lint · loupe';
  const service = params.get('service') || '';
  const note = h('span', { class: 'muted count', dataset: { testid: 'lint-summary' } });
  const filter = h('span');
  const body = h('div', { class: 'page-body' }, loadingState('Checking the stored telemetry…'));
  root.appendChild(h('div', { class: 'page page-lint' },
    h('div', { class: 'page-head' }, h('h1', null, 'Lint'), note, h('span', { class: 'spacer' }), filter),
    h('p', { class: 'muted small lint-intro' },
      'Instrumentation mistakes found in everything loupe stores (not only the time range): what each means and how to fix it. ',
      h('code', null, 'loupe lint'), ' prints the same for CI.'),
    body));

  // The service filter: the services with findings (all of them, so the
  // choice stays when one is picked).
  let services = [];
  function drawFilter() {
    const names = [...new Set([...services, service].filter(Boolean))];
    const opts = [{ value: '', label: 'All services' }, ...names.map((n) => ({ value: n, label: n }))];
    replace(filter, select(opts, service, (v) => setParams({ service: v || null }),
      { 'aria-label': 'Service', title: 'Service', dataset: { testid: 'lint-service-filter' } }));
  }

  async function load() {
    let d;
    try {
      d = await apiGet('/lint', service ? { service } : {}, { signal });
      if (!service) services = [...new Set(d.findings.map((f) => f.service))];
      else if (!services.length) services = [...new Set((await apiGet('/lint', {}, { signal })).findings.map((f) => f.service))];
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'the lint', { retry: load }));
      return;
    }
    drawFilter();
    draw(d);
  }

  function draw(d) {
    const findings = d.findings || [];
    note.textContent = findings.length ? `${plural(findings.length, 'finding')}: ${tally(findings)}` : '';
    if (!findings.length) {
      replace(body, emptyState(service ? `No findings about ${service}` : 'No findings',
        'loupe checks every span, log record and point as it arrives for these mistakes; none were found in what is stored.',
        h('ul', { class: 'lint-rules' }, RULES.map(([id, what]) => h('li', null, h('code', null, id), ` ${what}`)))));
      return;
    }
    const groups = [];
    for (const f of findings) {
      if (!groups.length || groups[groups.length - 1].service !== f.service) groups.push({ service: f.service, findings: [] });
      groups[groups.length - 1].findings.push(f);
    }
    replace(body,
      groups.map((g) => h('section', { class: 'lint-service', dataset: { testid: 'lint-service', service: g.service } },
        h('div', { class: 'lint-service-head' },
          serviceChip(g.service, { href: pageLink('/traces', { service: g.service }) }),
          h('span', { class: 'muted small' }, tally(g.findings))),
        g.findings.map(findingCard))),
      h('p', { class: 'muted small' }, `Deprecated names follow the OpenTelemetry semantic conventions ${d.semconvVersion}.`));
  }

  load();
  return { refresh: load };
}
