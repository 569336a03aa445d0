// state.js - the page state lives in the URL (path + query), so a link
// reopens the same view and the back button undoes a change. Filter changes
// push a history entry; selections replace the current one.

// The path the app is served under ('' at the root, '/loupe' with
// --base-path /loupe): the server writes it into index.html's <base href>.
// Pages name routes by their app path ('/traces'); links and history
// entries carry the base.
export const BASE = (() => {
  try { return new URL(document.baseURI).pathname.replace(/\/+$/, ''); } catch { return ''; }
})();

// The app path of a URL path: '/loupe/traces' -> '/traces'.
export function appPath(pathname = location.pathname) {
  if (!BASE) return pathname;
  if (pathname === BASE) return '/';
  return pathname.startsWith(`${BASE}/`) ? pathname.slice(BASE.length) : pathname;
}

const listeners = new Set();

export function onNavigate(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function currentParams() {
  return new URLSearchParams(location.search);
}

// Navigates to url (path + query). replace: no new history entry;
// silent: only update the address bar (the page already shows this state).
export function navigate(url, { replace = false, silent = false } = {}) {
  const target = new URL(url, location.href);
  const same = target.pathname === location.pathname && target.search === location.search;
  if (same && !silent) {
    for (const fn of listeners) fn();
    return;
  }
  if (replace || same) history.replaceState(null, '', target.pathname + target.search);
  else history.pushState(null, '', target.pathname + target.search);
  if (!silent) for (const fn of listeners) fn();
}

// The current URL with changes: setParams({q: 'x', cursor: null}).
// null/''/undefined delete; arrays set repeated values.
export function withParams(changes, base = location.pathname + location.search) {
  const u = new URL(base, location.href);
  for (const [k, v] of Object.entries(changes)) {
    u.searchParams.delete(k);
    if (v === null || v === undefined || v === '' || v === false) continue;
    if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, String(x));
    else u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

export function setParams(changes, opts) {
  navigate(withParams(changes), opts);
}

// A link to another page (by its app path) that keeps the global time
// range and refresh.
export function pageLink(pathname, params = {}) {
  const cur = currentParams();
  const u = new URL(BASE + pathname, location.href);
  for (const k of ['range', 'start', 'end', 'refresh']) if (cur.has(k)) u.searchParams.set(k, cur.get(k));
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, String(x));
    else u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

// ---- searches to come back to ---------------------------------------------
// The last query of a list page (kept for the tab's life), so that a filter
// added elsewhere (an attribute in the span panel) adds to the search the
// reader came from instead of starting a new one.
const GLOBAL_KEYS = ['range', 'start', 'end', 'refresh', 'cursor'];

export function rememberSearch(pathname, params) {
  try { sessionStorage.setItem(`loupe.search.${pathname}`, new URLSearchParams(params).toString()); } catch { /* storage off */ }
}

// A link to pathname with its remembered search plus the condition `cond`
// (an attr filter); the time range is the current one.
export function addFilterLink(pathname, cond) {
  let base;
  try { base = new URLSearchParams(sessionStorage.getItem(`loupe.search.${pathname}`) || ''); } catch { base = new URLSearchParams(); }
  const params = {};
  for (const k of new Set(base.keys())) if (!GLOBAL_KEYS.includes(k)) params[k] = base.getAll(k);
  const attrs = params.attr || [];
  if (!attrs.includes(cond)) attrs.push(cond);
  params.attr = attrs;
  return pageLink(pathname, params);
}

// ---- time range -------------------------------------------------------------
export const RANGES = [
  { id: '5m', label: 'Last 5 minutes', ms: 5 * 60e3 },
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60e3 },
  { id: '1h', label: 'Last hour', ms: 3600e3 },
  { id: '6h', label: 'Last 6 hours', ms: 6 * 3600e3 },
  { id: '24h', label: 'Last 24 hours', ms: 24 * 3600e3 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86400e3 },
];
export const DEFAULT_RANGE = '1h';

// Parses a time from the URL: RFC 3339 or unix ms/ns digits; ms or NaN.
function parseTime(s) {
  if (!s) return NaN;
  if (/^\d{16,20}$/.test(s)) return Number(BigInt(s) / 1000000n);
  if (/^\d{1,15}$/.test(s)) return Number(s);
  return Date.parse(s);
}

// The time range the URL asks for: {relative, id, label, startMs, endMs}.
// Relative ranges end now (recomputed on each call).
export function timeRange(params = currentParams()) {
  const start = parseTime(params.get('start'));
  const end = parseTime(params.get('end'));
  if (Number.isFinite(start)) {
    const e = Number.isFinite(end) ? end : Date.now();
    return { relative: false, id: 'custom', label: 'Custom range', startMs: start, endMs: Math.max(e, start + 1) };
  }
  const r = RANGES.find((x) => x.id === params.get('range')) || RANGES.find((x) => x.id === DEFAULT_RANGE);
  const now = Date.now();
  return { relative: true, id: r.id, label: r.label, startMs: now - r.ms, endMs: now };
}

// start/end API parameters (unix ns strings) for the current range. For a
// relative range the end is left open so that newer data is included.
export function rangeParams(params = currentParams()) {
  const r = timeRange(params);
  const ns = (ms) => (BigInt(Math.floor(ms)) * 1000000n).toString();
  return r.relative ? { start: ns(r.startMs) } : { start: ns(r.startMs), end: ns(r.endMs) };
}

export const REFRESH = [
  { id: '', label: 'Auto-refresh off', ms: 0 },
  { id: '5s', label: 'Every 5 s', ms: 5000 },
  { id: '15s', label: 'Every 15 s', ms: 15000 },
  { id: '30s', label: 'Every 30 s', ms: 30000 },
  { id: '1m', label: 'Every minute', ms: 60000 },
];
