// app.js - the single-page app: routes, the top bar (time range,
// auto-refresh, theme, clear, help) and keyboard shortcuts.
import { h, icon, replace } from './dom.js';
import { apiDelete, forgetServices, getServices } from './api.js';
import { onNavigate, navigate, currentParams, pageLink, setParams, timeRange, RANGES, REFRESH, BASE, appPath } from './state.js';
import { openDialog, toast, select } from './components.js';
import { fmtCount } from './format.js';
import * as servicesPage from './pages/services.js';
import * as servicePage from './pages/service.js';
import * as mapPage from './pages/map.js';
import * as tracesPage from './pages/traces.js';
import * as tracePage from './pages/trace.js';
import * as logsPage from './pages/logs.js';
import * as metricsPage from './pages/metrics.js';
import * as comparePage from './pages/compare.js';
import * as ingestPage from './pages/ingest.js';
import * as genaiPage from './pages/genai.js';
import * as lintPage from './pages/lint.js';

const view = document.getElementById('view');
const tools = document.getElementById('tools');
let page = null; // {unmount, refresh, keys}
let pageCtrl = null; // AbortController of the mounted page
let refreshTimer = null;

// ---- routes ----------------------------------------------------------------------
function route(pathname) {
  const p = pathname.replace(/\/+$/, '') || '/';
  if (p === '/' || p === '/services') return { name: 'services', mod: servicesPage };
  if (p === '/service') return { name: 'services', mod: servicePage };
  if (p === '/map') return { name: 'map', mod: mapPage };
  if (p === '/traces') return { name: 'traces', mod: tracesPage };
  const m = /^\/traces\/([^/]+)$/.exec(p);
  if (m) return { name: 'traces', mod: tracePage, args: { traceId: decodeURIComponent(m[1]) } };
  if (p === '/compare') return { name: 'traces', mod: comparePage };
  if (p === '/logs') return { name: 'logs', mod: logsPage };
  if (p === '/metrics') return { name: 'metrics', mod: metricsPage };
  if (p === '/ingest') return { name: 'ingest', mod: ingestPage };
  if (p === '/genai') return { name: 'genai', mod: genaiPage };
  if (p === '/lint') return { name: 'lint', mod: lintPage };
  return { name: 'notfound', mod: null };
}

function render() {
  if (page && page.unmount) page.unmount();
  if (pageCtrl) pageCtrl.abort();
  page = null;
  pageCtrl = new AbortController();
  const r = route(appPath());
  for (const a of document.querySelectorAll('#mainnav a')) {
    a.classList.toggle('active', a.dataset.page === r.name);
    if (a.dataset.page === r.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  renderTools();
  replace(view);
  view.dataset.page = r.name;
  if (!r.mod) {
    view.appendChild(h('div', { class: 'state state-empty' },
      h('div', { class: 'state-title' }, 'No such page'),
      h('div', { class: 'state-detail' }, 'Try ', h('a', { href: `${BASE}/services`, dataset: { nav: '' } }, 'Services'), '.')));
    document.title = 'Not found · loupe';
    return;
  }
  page = r.mod.mount(view, { params: currentParams(), args: r.args || {}, signal: pageCtrl.signal }) || {};
  scheduleRefresh();
}

// ---- auto-refresh --------------------------------------------------------------------
function scheduleRefresh() {
  clearInterval(refreshTimer);
  const r = REFRESH.find((x) => x.id === (currentParams().get('refresh') || ''));
  if (!r || !r.ms) return;
  refreshTimer = setInterval(() => {
    if (!document.hidden && page && page.refresh) page.refresh();
  }, r.ms);
}

// ---- top bar ---------------------------------------------------------------------------
function toLocalInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function customRangeDialog() {
  const r = timeRange();
  const from = h('input', { type: 'datetime-local', class: 'input', value: toLocalInput(r.startMs), 'aria-label': 'From', dataset: { testid: 'range-from' } });
  const to = h('input', { type: 'datetime-local', class: 'input', value: toLocalInput(r.endMs), 'aria-label': 'To', dataset: { testid: 'range-to' } });
  const err = h('div', { class: 'field-error', role: 'alert' });
  const apply = h('button', {
    type: 'button', class: 'btn btn-primary',
    onclick: () => {
      const s = new Date(from.value).getTime();
      const e = new Date(to.value).getTime();
      if (!Number.isFinite(s) || !Number.isFinite(e) || e <= s) {
        err.textContent = 'The end must be after the start.';
        return;
      }
      dlg.close();
      setParams({ range: null, start: new Date(s).toISOString(), end: new Date(e).toISOString(), cursor: null });
    },
  }, 'Apply');
  const dlg = openDialog('Custom time range', h('div', { class: 'form-grid' },
    h('label', null, 'From', from), h('label', null, 'To', to), err), { actions: [apply] });
}

function renderTools() {
  const params = currentParams();
  const r = timeRange(params);
  const rangeOpts = RANGES.map((x) => ({ value: x.id, label: x.label }));
  if (!r.relative) {
    const f = (ms) => new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    rangeOpts.push({ value: 'custom', label: `${f(r.startMs)} – ${f(r.endMs)}` });
  }
  rangeOpts.push({ value: 'custom…', label: 'Custom…' });
  const rangeSel = select(rangeOpts, r.id, (v) => {
    if (v === 'custom…') {
      rangeSel.value = r.id;
      customRangeDialog();
      return;
    }
    if (v === 'custom') return;
    setParams({ range: v, start: null, end: null, cursor: null });
  }, { 'aria-label': 'Time range', title: 'Time range', dataset: { testid: 'time-range' } });
  const refreshSel = select(REFRESH.map((x) => ({ value: x.id, label: x.label })), params.get('refresh') || '',
    (v) => setParams({ refresh: v }, { replace: true }), { 'aria-label': 'Auto-refresh', title: 'Auto-refresh', dataset: { testid: 'auto-refresh' } });
  const theme = h('button', {
    type: 'button', class: 'btn-icon', title: 'Switch between light and dark', 'aria-label': 'Toggle theme',
    dataset: { testid: 'theme-toggle' }, onclick: toggleTheme,
  }, icon(effectiveTheme() === 'dark' ? 'sun' : 'moon'));
  replace(tools,
    rangeSel,
    refreshSel,
    h('button', {
      type: 'button', class: 'btn-icon', title: 'Refresh now', 'aria-label': 'Refresh now',
      onclick: () => { if (page && page.refresh) page.refresh(); },
    }, icon('refresh')),
    theme,
    h('button', {
      type: 'button', class: 'btn-icon', title: 'Clear telemetry…', 'aria-label': 'Clear telemetry',
      dataset: { testid: 'clear-telemetry' }, onclick: clearDialog,
    }, icon('trash')),
    h('button', {
      type: 'button', class: 'btn-icon', title: 'Keyboard shortcuts (?)', 'aria-label': 'Help',
      onclick: helpDialog,
    }, icon('help')));
}

// ---- theme ------------------------------------------------------------------------------
const THEME_KEY = 'loupe.theme';
const darkQuery = matchMedia('(prefers-color-scheme: dark)');

function storedTheme() {
  try { return localStorage.getItem(THEME_KEY); } catch { return null; }
}

export function effectiveTheme() {
  const t = document.documentElement.dataset.theme;
  if (t === 'light' || t === 'dark') return t;
  return darkQuery.matches ? 'dark' : 'light';
}

function applyTheme(t) {
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  window.dispatchEvent(new CustomEvent('loupe:theme'));
}

function toggleTheme() {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  // choosing what the OS already prefers means "follow the OS" again
  const follow = next === (darkQuery.matches ? 'dark' : 'light');
  try {
    if (follow) localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, next);
  } catch { /* private mode: the toggle still works for this page */ }
  applyTheme(follow ? null : next);
  renderTools();
}

applyTheme(storedTheme());
darkQuery.addEventListener('change', () => { applyTheme(storedTheme()); renderTools(); });

// ---- clear telemetry -------------------------------------------------------------------------
async function clearDialog() {
  const signals = h('select', { class: 'input', 'aria-label': 'What to clear', dataset: { testid: 'clear-signal' } },
    h('option', { value: '' }, 'Everything (traces, logs and metrics)'),
    h('option', { value: 'traces' }, 'Traces'),
    h('option', { value: 'logs' }, 'Logs'),
    h('option', { value: 'metrics' }, 'Metrics'));
  const service = h('select', { class: 'input', 'aria-label': 'Service', dataset: { testid: 'clear-service' } },
    h('option', { value: '' }, 'All services'));
  getServices({ fresh: true }).then((list) => {
    for (const s of list) service.appendChild(h('option', { value: s.name }, s.name));
  }).catch(() => {});
  const msg = h('div', { class: 'dialog-msg', role: 'status' });
  const confirmBtn = h('button', { type: 'button', class: 'btn btn-danger', dataset: { testid: 'clear-confirm' } }, 'Delete');
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel');
  const d = openDialog('Clear telemetry', h('div', { class: 'form-grid' },
    h('p', null, 'This deletes stored telemetry for good. Exporters keep sending; new data appears as it arrives.'),
    h('label', null, 'What', signals),
    h('label', null, 'Service', service),
    msg), { actions: [cancel, confirmBtn], className: 'dialog-danger' });
  confirmBtn.addEventListener('click', async () => {
    confirmBtn.disabled = true;
    msg.textContent = 'Deleting…';
    msg.className = 'dialog-msg';
    try {
      const res = await apiDelete('/telemetry', { signal: signals.value, service: service.value });
      const parts = [];
      for (const [k, v] of Object.entries(res || {})) {
        if (typeof v === 'number') parts.push(`${fmtCount(v)} ${k}`);
        else if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'number') parts.push(`${fmtCount(v2)} ${k2}`);
      }
      d.close();
      forgetServices();
      toast(parts.length ? `Deleted ${parts.join(', ')}` : 'Telemetry cleared', 'ok');
      render();
    } catch (e) {
      confirmBtn.disabled = false;
      msg.className = 'dialog-msg field-error';
      msg.textContent = e.unsupported
        ? `This loupe server cannot clear telemetry yet (DELETE /api/v1/telemetry answered ${e.status}).`
        : `Clearing failed: ${e.message}`;
    }
  });
}

// ---- help and shortcuts ------------------------------------------------------------------------
const SHORTCUTS = [
  ['/', 'Search or filter on this page'],
  ['j / k', 'Next / previous row or span'],
  ['Enter', 'Open the selected row'],
  ['← / →', 'Collapse / expand the selected span (trace view)'],
  ['Esc', 'Close the detail panel or dialog'],
  ['g then s, p, t, l, m, a, i', 'Go to Services, the service map, Traces, Logs, Metrics, GenAI, Ingest'],
  ['?', 'This help'],
];

function helpDialog() {
  if (document.querySelector('dialog.help')) return;
  openDialog('Keyboard shortcuts', h('table', { class: 'kv shortcuts' }, h('tbody', null,
    SHORTCUTS.map(([k, v]) => h('tr', null, h('th', null, h('kbd', null, k)), h('td', null, v))))), { className: 'help' });
}

function isTyping(t) {
  if (!t || !(t instanceof Element)) return false;
  return t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]') !== null;
}

let gPending = 0;
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector('dialog[open]')) return; // the dialog handles its keys (Esc closes)
  const keys = (page && page.keys) || {};
  if (e.key === 'Escape') {
    if (isTyping(e.target)) { e.target.blur(); return; }
    if (keys.escape) { keys.escape(); e.preventDefault(); }
    return;
  }
  if (isTyping(e.target)) return;
  if (Date.now() - gPending < 1200) {
    gPending = 0;
    const to = { s: '/services', p: '/map', t: '/traces', l: '/logs', m: '/metrics', a: '/genai', i: '/ingest' }[e.key];
    if (to) { e.preventDefault(); navigate(BASE + to); return; }
  }
  switch (e.key) {
    case '/': {
      const el = view.querySelector('[data-search]');
      if (el) { e.preventDefault(); el.focus(); if (el.select) el.select(); }
      break;
    }
    case 'j': if (keys.next) { e.preventDefault(); keys.next(); } break;
    case 'k': if (keys.prev) { e.preventDefault(); keys.prev(); } break;
    case 'Enter': if (keys.open && !(e.target instanceof HTMLButtonElement || e.target instanceof HTMLAnchorElement)) { e.preventDefault(); keys.open(); } break;
    case 'ArrowLeft': if (keys.left) { e.preventDefault(); keys.left(); } break;
    case 'ArrowRight': if (keys.right) { e.preventDefault(); keys.right(); } break;
    case '?': e.preventDefault(); helpDialog(); break;
    case 'g': gPending = Date.now(); break;
    default: break;
  }
});

// ---- links -------------------------------------------------------------------------------------
// Same-origin links navigate inside the app (history API) unless they ask
// for a new tab or a download.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith(`${BASE}/api/`)) return;
  e.preventDefault();
  // the main navigation keeps the time range and auto-refresh
  if (a.closest('#topbar') && !url.search) navigate(pageLink(appPath(url.pathname)));
  else navigate(url.pathname + url.search);
});

onNavigate(render);
window.addEventListener('popstate', render);
render();
