// forward.mjs - helpers for the --forward tests: OTLP JSON log batches
// posted straight to a loupe, a loupe's forward_* self-metrics, bounded
// polling, an export flattened into comparable items, and a small HTTP
// server that stands in for a Collector that refuses (503, 400) before it
// passes requests on to a real loupe.
import assert from 'node:assert/strict';
import http from 'node:http';

// Polls fn() until it returns a truthy value, at most ms; returns it.
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Posts `count` log records of `service` to srv's OTLP/HTTP port as OTLP
// JSON, `per` records a request; bodies "SERVICE record I".
export async function postLogs(srv, service, count, { per = 250, from = 0 } = {}) {
  for (let start = from; start < from + count; start += per) {
    const n = Math.min(per, from + count - start);
    const records = [];
    for (let i = start; i < start + n; i++) {
      records.push({
        timeUnixNano: String(BigInt(Date.now()) * 1000000n + BigInt(i)),
        severityNumber: 9,
        body: { stringValue: `${service} record ${i}` },
        attributes: [{ key: 'i', value: { intValue: String(i) } }],
      });
    }
    const doc = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ scope: { name: 'forward-test' }, logRecords: records }],
      }],
    };
    const res = await fetch(`${srv.httpUrl}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

// The loupe_forward_* samples of srv: {family: {destination: {signal: value}}}.
export async function forwardMetrics(srv) {
  const res = await fetch(`${srv.uiUrl}/metrics`, { headers: srv.authHeaders || {} });
  const text = await res.text();
  const out = {};
  for (const m of text.matchAll(/^(loupe_forward_[a-z_]+)\{destination="([^"]*)",signal="(\w+)"\} ([0-9.]+)$/gm)) {
    const [, fam, dest, sig, v] = m;
    ((out[fam] ||= {})[dest] ||= {})[sig] = Number(v);
  }
  return out;
}

// One family's value for a destination (the only one when dest is omitted).
export function metric(m, fam, sig, dest) {
  const byDest = m[fam] || {};
  const d = dest ?? Object.keys(byDest)[0];
  return (byDest[d] || {})[sig] ?? 0;
}

// Log records stored by srv for service (count by the API).
export async function logCount(srv, service) {
  const res = await fetch(`${srv.uiUrl}/api/v1/services`, { headers: srv.authHeaders || {} });
  const s = (await res.json()).services.find((x) => x.name === service);
  return s ? s.logCount : 0;
}

// A loupe's export of one signal, flattened: one entry per item with its
// resource attributes and scope, as sorted JSON strings.
export async function exportItems(srv, signal) {
  const res = await fetch(`${srv.uiUrl}/api/v1/export?signal=${signal}`, { headers: srv.authHeaders || {} });
  assert.equal(res.status, 200);
  const text = await res.text();
  const items = [];
  const kinds = { traces: ['resourceSpans', 'scopeSpans', 'spans'], logs: ['resourceLogs', 'scopeLogs', 'logRecords'], metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'] };
  const [rk, sk, ik] = kinds[signal];
  for (const line of text.split('\n').filter(Boolean)) {
    for (const r of JSON.parse(line)[rk]) {
      for (const s of r[sk]) {
        for (const it of s[ik]) {
          if (signal === 'metrics') {
            // one entry per point, with its metric's identity
            const type = Object.keys(it).find((k) => ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'].includes(k));
            const { dataPoints, ...rest } = it[type];
            for (const p of dataPoints) {
              items.push(JSON.stringify({ resource: r.resource, scope: s.scope, name: it.name, unit: it.unit, description: it.description, type, meta: rest, point: p }));
            }
          } else {
            items.push(JSON.stringify({ resource: r.resource, scope: s.scope, item: it }));
          }
        }
      }
    }
  }
  return items.sort();
}

// An HTTP server that answers OTLP requests by a plan: plan(request index,
// path) returns {status, headers, body} to answer itself, or null to pass
// the request on to `upstream` (a loupe's OTLP/HTTP base URL). Records
// every request (time, path, status answered).
export async function fakeCollector(plan, upstream) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const i = seen.length;
      const entry = { at: Date.now(), path: req.url, headers: req.headers, bytes: body.length, status: 0 };
      seen.push(entry);
      const answer = plan(i, req.url);
      if (answer) {
        entry.status = answer.status;
        res.writeHead(answer.status, answer.headers || {});
        res.end(answer.body || '');
        return;
      }
      const up = await fetch(`${upstream}${req.url}`, {
        method: 'POST', headers: { 'content-type': req.headers['content-type'] }, body,
      });
      const out = Buffer.from(await up.arrayBuffer());
      entry.status = up.status;
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') || 'application/x-protobuf' });
      res.end(out);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
