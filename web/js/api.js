// api.js - the JSON API client (/api/v1, docs/api.md). The UI uses nothing
// else. Errors come back as ApiError with the HTTP status and the server's
// {"error": {"code", "message"}} when it sent one.
import { BASE } from './state.js';

export const API = `${BASE}/api/v1`;

export class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message);
    this.status = status;
    this.code = code;
    this.path = path;
  }

  // 404 because the server has no such endpoint (an older or partial
  // loupe), as opposed to "no such trace".
  get missingEndpoint() {
    return this.status === 404 && /no API endpoint/i.test(this.message || '');
  }

  get unsupported() {
    return this.missingEndpoint || this.status === 405 || this.status === 501;
  }
}

// Builds a query string from an object; arrays repeat the key; empty values
// are left out.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v)) for (const x of v) { if (x !== '') q.append(k, String(x)); }
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request(method, path, params, { signal } = {}) {
  const url = API + path + query(params);
  let res;
  try {
    res = await fetch(url, { method, signal, headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'loupe cannot be reached (is it still running?)', path);
  }
  if (res.status === 401) {
    // Not logged in (token auth, no or stale session cookie): the server's
    // login page. EventSource streams end up here too, through polling.
    window.location.assign(`${BASE}/login`);
    throw new ApiError(401, 'unauthorized', 'log in to loupe', path);
  }
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    const err = body && body.error ? body.error : {};
    const msg = err.message || `${res.status} ${res.statusText || 'error'}`;
    throw new ApiError(res.status, err.code || 'http', msg, path);
  }
  if (body === null && method === 'GET') throw new ApiError(res.status, 'bad_json', 'the server sent a malformed answer', path);
  return withResources(body);
}

// Logs and a trace's spans name their resource ("resourceId") from the
// answer's "resources" map, where each is written once (docs/api.md). Gives
// every such item its `resource` object back, shared by the items of the
// answer; items that carry one already (live events) keep it.
export function withResources(body) {
  const map = body && typeof body.resources === 'object' ? body.resources : null;
  if (!map) return body;
  for (const key of ['logs', 'spans']) {
    if (!Array.isArray(body[key])) continue;
    for (const it of body[key]) {
      if (it && !it.resource && typeof it.resourceId === 'string') it.resource = map[it.resourceId] || { attributes: {} };
    }
  }
  return body;
}

export const apiGet = (path, params, opts) => request('GET', path, params, opts);
export const apiDelete = (path, params, opts) => request('DELETE', path, params, opts);

// Services are needed by several pages (filters, colours); cached briefly.
let servicesCache = null;
let servicesAt = 0;
export async function getServices({ signal, fresh = false } = {}) {
  if (!fresh && servicesCache && Date.now() - servicesAt < 5000) return servicesCache;
  const body = await apiGet('/services', null, { signal });
  servicesCache = Array.isArray(body.services) ? body.services : [];
  servicesAt = Date.now();
  return servicesCache;
}
export function forgetServices() { servicesCache = null; }

// The server's version and the ports its receivers listen on (they can differ
// from the defaults); asked once per page load. Resolves to null when the
// server cannot tell (an older loupe).
let infoPromise = null;
export function getInfo() {
  if (!infoPromise) infoPromise = apiGet('/info').catch(() => null);
  return infoPromise;
}
