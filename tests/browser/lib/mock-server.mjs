// mock-server.mjs - TEST FIXTURE for developing the web UI without the real
// binary: serves build/web (as the UI server does: CSP, SPA fallback) and a
// small in-memory imitation of the /api/v1 shapes from issue 5 / docs/api.md.
// The browser tests run against the real loupe; this file only helps while
// endpoints are still being built, and for trying UI states by hand:
//
//   node tests/browser/lib/mock-server.mjs [PORT]      (after scripts/build-web.mjs)
import http from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WEB = path.join(ROOT, 'build/web');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

const hex = (n) => randomBytes(n).toString('hex');
const ns = (ms) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

// ---- fixture data ---------------------------------------------------------------
export function makeData({ now = Date.now(), traces = 40, logs = 3000 } = {}) {
  const services = ['frontend', 'checkout', 'payments', 'inventory'];
  const data = { spans: [], logs: [], metrics: [], live: new Set() };
  for (let t = 0; t < traces; t++) {
    const traceId = hex(16);
    const start = now - (traces - t) * 60000 + Math.random() * 1000;
    const rootDur = 20 + Math.random() * 900;
    const root = span(traceId, '', 'frontend', `GET /checkout/${t % 3}`, 'SERVER', start, rootDur, t % 7 === 0);
    data.spans.push(root);
    let off = 2;
    for (const svc of services.slice(1)) {
      const d = rootDur * (0.1 + Math.random() * 0.4);
      const child = span(traceId, root.spanId, svc, `${svc}.process`, 'CLIENT', start + off, d, svc === 'payments' && t % 7 === 0);
      data.spans.push(child);
      data.spans.push(span(traceId, child.spanId, svc, 'SELECT items', 'INTERNAL', start + off + 1, d / 3, false));
      off += d * 0.6;
    }
  }
  const sev = [[5, 'DEBUG'], [9, 'INFO'], [9, 'INFO'], [13, 'WARN'], [17, 'ERROR']];
  for (let i = 0; i < logs; i++) {
    const s = data.spans[(i * 7) % data.spans.length];
    const [n, text] = sev[i % sev.length];
    data.logs.push({
      timeUnixNano: ns(now - (logs - i) * 400), observedTimeUnixNano: ns(now - (logs - i) * 400 + 1), severityNumber: n, severityText: text,
      body: i % 50 === 0 ? { message: 'structured', n: i } : `request ${i} handled by ${s.service} <b>ok</b>`,
      attributes: { 'log.index': i, 'http.route': `/checkout/${i % 3}` },
      traceId: i % 3 === 0 ? s.traceId : '', spanId: i % 3 === 0 ? s.spanId : '', service: s.service,
      resource: { attributes: { 'service.name': s.service } }, scope: { name: 'app-logger', version: '1.0' },
    });
  }
  data.metrics.push(
    { service: 'frontend', scope: 'http-meter', name: 'http.server.requests', description: 'Requests served', unit: '{request}', type: 'sum', monotonic: true, temporality: 'cumulative' },
    { service: 'frontend', scope: 'http-meter', name: 'http.server.duration', description: 'Latency', unit: 's', type: 'histogram', monotonic: false, temporality: 'cumulative' },
    { service: 'checkout', scope: 'runtime', name: 'process.memory.usage', description: '', unit: 'By', type: 'gauge', monotonic: false, temporality: '' },
    { service: 'checkout', scope: 'runtime', name: 'queue.depth', description: 'Items waiting', unit: '{item}', type: 'sum', monotonic: false, temporality: 'cumulative' },
  );
  data.now = now;
  return data;
}

function span(traceId, parent, service, name, kind, startMs, durMs, error) {
  return {
    traceId, spanId: hex(8), parentSpanId: parent, name, kind,
    startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), durationNs: Math.round(durMs * 1e6),
    status: error ? { code: 'ERROR', message: 'card declined' } : { code: 'UNSET', message: '' },
    attributes: { 'http.request.method': 'GET', 'app.cached': false, 'db.rows': 42 },
    events: error ? [{ name: 'exception', timeUnixNano: ns(startMs + durMs / 2), attributes: { 'exception.message': 'card declined' } }] : [],
    links: [], service, resource: { attributes: { 'service.name': service, 'host.name': 'dev-1' } }, scope: { name: 'tracer', version: '1.2.3' },
  };
}

// ---- API --------------------------------------------------------------------------
function summaries(data) {
  const by = new Map();
  for (const s of data.spans) {
    if (!by.has(s.traceId)) by.set(s.traceId, []);
    by.get(s.traceId).push(s);
  }
  const out = [];
  for (const [traceId, spans] of by) {
    const start = spans.reduce((m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m), BigInt(spans[0].startTimeUnixNano));
    const end = spans.reduce((m, s) => (BigInt(s.endTimeUnixNano) > m ? BigInt(s.endTimeUnixNano) : m), 0n);
    const root = spans.find((s) => !s.parentSpanId) || spans[0];
    const svc = new Map();
    for (const s of spans) svc.set(s.service, (svc.get(s.service) || 0) + 1);
    out.push({
      traceId, rootService: root.service, rootName: root.name, startTimeUnixNano: start.toString(), durationNs: Number(end - start),
      spanCount: spans.length, errorCount: spans.filter((s) => s.status.code === 'ERROR').length,
      services: [...svc].map(([name, spanCount]) => ({ name, spanCount })), _spans: spans,
    });
  }
  out.sort((a, b) => (BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano) ? 1 : -1));
  return out;
}

function page(list, q, key) {
  const limit = Math.min(1000, Number(q.get('limit')) || 100);
  const off = Number(q.get('cursor') || 0);
  const items = list.slice(off, off + limit);
  return { [key]: items, nextCursor: off + limit < list.length ? String(off + limit) : null };
}

function api(data, req, url) {
  const q = url.searchParams;
  const p = url.pathname;
  if (p === '/api/v1/services') {
    const names = new Set([...data.spans.map((s) => s.service), ...data.logs.map((l) => l.service), ...data.metrics.map((m) => m.service)]);
    return [200, { services: [...names].sort().map((name) => ({
      name, spanCount: data.spans.filter((s) => s.service === name).length, logCount: data.logs.filter((l) => l.service === name).length,
      metricCount: data.metrics.filter((m) => m.service === name).length * 2,
      errorCount: data.spans.filter((s) => s.service === name && s.status.code === 'ERROR').length,
      lastSeenUnixNano: ns(Date.now() - 5000), instances: [`${name}-1`],
    })) }];
  }
  if (p === '/api/v1/traces') {
    let list = summaries(data);
    if (q.get('service')) list = list.filter((t) => t._spans.some((s) => s.service === q.get('service')));
    if (q.get('status') === 'error') list = list.filter((t) => t.errorCount > 0);
    if (q.get('name')) list = list.filter((t) => t._spans.some((s) => s.name === q.get('name')));
    const res = page(list, q, 'traces');
    res.traces = res.traces.map(({ _spans, ...t }) => t);
    return [200, res];
  }
  const m = /^\/api\/v1\/traces\/([0-9a-f]{32})$/.exec(p);
  if (m) {
    const spans = data.spans.filter((s) => s.traceId === m[1]);
    if (!spans.length) return [404, { error: { code: 'not_found', message: `trace ${m[1]} not found` } }];
    return [200, { traceId: m[1], spans }];
  }
  if (p === '/api/v1/logs') {
    let list = [...data.logs].reverse();
    if (q.get('service')) list = list.filter((l) => l.service === q.get('service'));
    if (q.get('traceId')) list = list.filter((l) => l.traceId === q.get('traceId'));
    if (q.get('q')) list = list.filter((l) => JSON.stringify(l.body).includes(q.get('q')));
    const min = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 }[q.get('minSeverity')] || 0;
    if (min) list = list.filter((l) => l.severityNumber >= min);
    return [200, page(list, q, 'logs')];
  }
  if (p === '/api/v1/metrics') {
    return [200, { metrics: data.metrics.filter((x) => !q.get('service') || x.service === q.get('service')).map((x) => ({ ...x, seriesCount: 2, lastSeenUnixNano: ns(Date.now()) })) }];
  }
  const sm = /^\/api\/v1\/metrics\/([^/]+)\/series$/.exec(p);
  if (sm) {
    const name = decodeURIComponent(sm[1]);
    const met = data.metrics.find((x) => x.name === name);
    if (!met) return [404, { error: { code: 'not_found', message: 'no such metric' } }];
    const pts = (fn) => Array.from({ length: 60 }, (_, i) => fn(i, ns(Date.now() - (60 - i) * 60000)));
    const series = ['/a', '/b'].map((route, k) => ({
      attributes: { route },
      points: pts((i, t) => {
        if (met.type === 'histogram') {
          return { timeUnixNano: t, count: 10 + i, sum: 3 + i / 10, min: 0.001, max: 2, bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
            counts: [1, 2, 4, 3 + k, 2, 1, 1, 0, k], p50: 0.02 + k * 0.01 + Math.sin(i / 5) * 0.005, p90: 0.2 + k * 0.05, p99: 0.8 + Math.cos(i / 7) * 0.1 };
        }
        const v = met.type === 'gauge' ? 1.2e8 + Math.sin(i / 4) * 1e7 * (k + 1) : (i * (3 + k) * 10);
        return { timeUnixNano: t, value: v, ...(met.monotonic ? { rate: (3 + k) / 6 + Math.sin(i / 3) * 0.1 } : {}) };
      }),
      exemplars: met.type === 'histogram' && k === 0 ? [{ timeUnixNano: ns(Date.now() - 1800000), value: 0.9, traceId: data.spans[0].traceId, spanId: data.spans[0].spanId }] : [],
    }));
    return [200, { name, type: met.type, unit: met.unit, series }];
  }
  if (p === '/api/v1/telemetry' && req.method === 'DELETE') {
    const res = { spans: data.spans.length, logs: data.logs.length, points: data.metrics.length };
    data.spans = []; data.logs = []; data.metrics = [];
    return [200, { deleted: res }];
  }
  return [404, { error: { code: 'not_found', message: `no API endpoint at ${p}` } }];
}

export function startMock({ port = 0, data = makeData(), missing = [] } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (url.pathname.startsWith('/api/')) {
      if (missing.some((m) => url.pathname.startsWith(m))) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: `no API endpoint at ${url.pathname}` } }));
        return;
      }
      if (url.pathname === '/api/v1/live') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.write(': hello\n\n');
        data.live.add(res);
        req.on('close', () => data.live.delete(res));
        return;
      }
      const [status, body] = api(data, req, url);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
      return;
    }
    let file = path.join(WEB, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(WEB) || !existsSync(file) || statSync(file).isDirectory()) {
      if (path.extname(url.pathname)) { res.writeHead(404); res.end('not found'); return; }
      file = path.join(WEB, 'index.html');
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    const addLog = (log) => {
      data.logs.push(log);
      for (const r of data.live) r.write(`event: log\ndata: ${JSON.stringify(log)}\n\n`);
    };
    resolve({ server, data, url: `http://127.0.0.1:${server.address().port}`, addLog, close: () => new Promise((r) => { for (const x of data.live) x.end(); server.close(r); }) });
  }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const m = await startMock({ port: Number(process.argv[2]) || 18889 });
  process.stdout.write(`mock loupe UI at ${m.url}\n`);
}
