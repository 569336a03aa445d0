// services.js - every service with its span, log, metric and error counts,
// last seen, instances, and links into the other pages filtered by it.
import { h, replace } from '../dom.js';
import { getServices } from '../api.js';
import { pageLink } from '../state.js';
import { errorState, loadingState, onboarding, serviceDot } from '../components.js';
import { fmtAgo, fmtCount, fmtTimeFull } from '../format.js';

export function mount(root, { signal }) {
  document.title = 'Services · loupe';
  const body = h('div', { class: 'page-body' }, loadingState('Loading services…'));
  root.appendChild(h('div', { class: 'page page-services' },
    h('div', { class: 'page-head' }, h('h1', null, 'Services')),
    body));
  let services = [];
  let sel = -1;

  async function load() {
    try {
      services = await getServices({ signal, fresh: true });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'services', { retry: load }));
      return;
    }
    draw();
  }

  function draw() {
    const empty = (x) => !Number(x.spanCount) && !Number(x.logCount) && !Number(x.metricCount);
    if (services.every(empty)) {
      replace(body, onboarding());
      return;
    }
    const total = (k) => services.reduce((n, s) => n + (Number(s[k]) || 0), 0);
    const tiles = h('div', { class: 'tiles' },
      tile('Services', services.length),
      tile('Spans', total('spanCount'), pageLink('/traces')),
      tile('Logs', total('logCount'), pageLink('/logs')),
      tile('Metric points', total('metricCount'), pageLink('/metrics')),
      tile('Errors', total('errorCount'), pageLink('/traces', { status: 'error' }), total('errorCount') > 0 ? 'tile-error' : ''));
    const rows = services.map((s, i) => h('tr', {
      class: ['svc-row', i === sel && 'selected'], dataset: { service: s.name },
      onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a'))) { sel = i; mark(); } },
    },
    h('td', null, h('span', { class: 'svc-name' }, serviceDot(s.name), h('strong', null, s.name)),
      (s.instances || []).length ? h('div', { class: 'muted small' }, `${s.instances.length} instance${s.instances.length === 1 ? '' : 's'}: ${s.instances.slice(0, 3).join(', ')}${s.instances.length > 3 ? ', …' : ''}`) : null),
    h('td', { class: 'num' }, h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '', testid: 'svc-traces' } }, fmtCount(s.spanCount))),
    h('td', { class: 'num' }, h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '', testid: 'svc-logs' } }, fmtCount(s.logCount))),
    h('td', { class: 'num' }, h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '', testid: 'svc-metrics' } }, fmtCount(s.metricCount))),
    h('td', { class: ['num', Number(s.errorCount) > 0 && 'err-text'] },
      Number(s.errorCount) > 0 ? h('a', { href: pageLink('/traces', { service: s.name, status: 'error' }), dataset: { nav: '' } }, fmtCount(s.errorCount)) : '0'),
    h('td', { title: fmtTimeFull(s.lastSeenUnixNano) }, fmtAgo(s.lastSeenUnixNano)),
    h('td', { class: 'links' },
      h('a', { href: pageLink('/traces', { service: s.name }), dataset: { nav: '' } }, 'Traces'),
      h('a', { href: pageLink('/logs', { service: s.name }), dataset: { nav: '' } }, 'Logs'),
      h('a', { href: pageLink('/metrics', { service: s.name }), dataset: { nav: '' } }, 'Metrics'))));
    replace(body, tiles, h('div', { class: 'table-wrap' }, h('table', { class: 'table services-table', dataset: { testid: 'services-table' } },
      h('thead', null, h('tr', null,
        h('th', null, 'Service'), h('th', { class: 'num' }, 'Spans'), h('th', { class: 'num' }, 'Logs'),
        h('th', { class: 'num' }, 'Metric points'), h('th', { class: 'num' }, 'Errors'), h('th', null, 'Last seen'), h('th', null, 'Open'))),
      h('tbody', null, rows))));
  }

  function tile(label, value, href, cls) {
    const inner = [h('div', { class: 'tile-value' }, fmtCount(value)), h('div', { class: 'tile-label' }, label)];
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
      next: () => { if (services.length) { sel = Math.min(services.length - 1, sel + 1); mark(); } },
      prev: () => { if (services.length) { sel = Math.max(0, sel - 1); mark(); } },
      open: () => { const tr = body.querySelectorAll('tr.svc-row')[sel]; if (tr) tr.querySelector('a[data-testid="svc-traces"]').click(); },
      escape: () => { sel = -1; mark(); },
    },
  };
}
