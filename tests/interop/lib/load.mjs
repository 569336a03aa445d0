// load.mjs - OTLP load that a test can account for item by item.
//
// Requests are serialized by the official OpenTelemetry serializers
// (@opentelemetry/otlp-transformer) from span and log records built here
// with ids the test chooses, so every acknowledged item can be looked up
// again through the API.
//
//   const gen = new LoadGen('crash-r0');
//   const req = gen.traceRequest({ traces: 4, spansPerTrace: 8 });
//   // req.body (protobuf), req.spans [{traceId, spanId}], req.traceIds
//   const lreq = gen.logRequest({ logs: 100 });
//   // lreq.body, lreq.bodies (the log bodies, unique)
//
//   const ledger = new Ledger();          // what was sent and acknowledged
//   await runLoad({ workers, until })     // workers post until told to stop
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';

const hex = (b) => b.toString('hex');

function hrTime(ns) {
  return [Number(ns / 1000000000n), Number(ns % 1000000000n)];
}

export class LoadGen {
  constructor(service, { instance = 'load-1' } = {}) {
    this.service = service;
    this.run = randomBytes(4).toString('hex');
    this.seq = 0;
    this.resource = resourceFromAttributes({
      'service.name': service,
      'service.instance.id': instance,
      'host.name': 'load-host',
    });
    this.scope = { name: 'loupe-load', version: '1.0.0' };
    this.pending = null; // the second half of a trace split across two requests
  }

  #span(traceId, spanId, parentId, name, startNs, i, pad) {
    const ctx = { traceId, spanId, traceFlags: 1 };
    return {
      name,
      kind: parentId ? 2 : 1,
      spanContext: () => ctx,
      parentSpanContext: parentId ? { traceId, spanId: parentId, traceFlags: 1, isRemote: false } : undefined,
      startTime: hrTime(startNs),
      endTime: hrTime(startNs + 1000000n + BigInt(i) * 1000n),
      duration: [0, 1000000 + i * 1000],
      attributes: {
        'load.run': this.run,
        'http.route': `/api/item/${i % 17}`,
        'app.user.id': `user-${i % 100}`,
        'app.attempt': i % 4,
        'app.cache.hit': i % 3 === 0,
        ...(pad ? { 'load.pad': pad } : {}),
      },
      droppedAttributesCount: 0,
      events: i % 4 === 1 ? [{ name: 'rows.fetched', time: hrTime(startNs + 500n), attributes: { rows: i % 20 }, droppedAttributesCount: 0 }] : [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: i % 13 === 5 ? { code: 2, message: 'boom' } : { code: 0 },
      resource: this.resource,
      instrumentationScope: this.scope,
      ended: true,
    };
  }

  // A request of `traces` whole traces of `spansPerTrace` spans; with split,
  // the last trace's second half goes into the next request (so summaries
  // are also built across batches). padBytes adds an attribute of that many
  // random characters to every span (incompressible, to size requests).
  // Returns {body, spans, traceIds, service}.
  traceRequest(opts = {}) {
    const r = this.traceRecords(opts);
    return { body: Buffer.from(ProtobufTraceSerializer.serializeRequest(r.records)), ...r };
  }

  // The same as span records (ReadableSpan shape) for an exporter's export().
  traceRecords({ traces = 4, spansPerTrace = 8, split = true, padBytes = 0 } = {}) {
    const seq = this.seq++;
    const records = [];
    const spans = [];
    const add = (traceId, spanId, parentId, name, startNs, i) => {
      const pad = padBytes ? randomBytes(Math.ceil(padBytes / 2)).toString('hex').slice(0, padBytes) : undefined;
      records.push(this.#span(traceId, spanId, parentId, name, startNs, i, pad));
      spans.push({ traceId, spanId });
    };
    if (this.pending) {
      for (const p of this.pending) add(...p);
      this.pending = null;
    }
    const now = BigInt(Date.now()) * 1000000n;
    const traceIds = [];
    for (let t = 0; t < traces; t++) {
      const traceId = hex(randomBytes(16));
      traceIds.push(traceId);
      const rootId = hex(randomBytes(8));
      const second = [];
      for (let i = 0; i < spansPerTrace; i++) {
        const spanId = i === 0 ? rootId : hex(randomBytes(8));
        const args = [traceId, spanId, i === 0 ? undefined : rootId, i === 0 ? `GET /load/${seq}` : `db.query ${i}`, now + BigInt(i) * 10000n, i];
        if (split && t === traces - 1 && i >= spansPerTrace / 2) second.push(args);
        else add(...args);
      }
      if (second.length) this.pending = second;
    }
    return { records, spans, traceIds, service: this.service };
  }

  // A request of `logs` records with unique bodies. Returns {body, bodies}.
  logRequest(opts = {}) {
    const r = this.logRecords(opts);
    return { body: Buffer.from(ProtobufLogsSerializer.serializeRequest(r.records)), ...r };
  }

  // The same as log records (ReadableLogRecord shape) for an exporter.
  logRecords({ logs = 50 } = {}) {
    const seq = this.seq++;
    const records = [];
    const bodies = [];
    const now = BigInt(Date.now()) * 1000000n;
    for (let i = 0; i < logs; i++) {
      const body = `load ${this.run} request ${seq} record ${i} served in ${i % 97} ms`;
      bodies.push(body);
      records.push({
        hrTime: hrTime(now + BigInt(i)),
        hrTimeObserved: hrTime(now + BigInt(i)),
        severityNumber: 9 + (i % 4) * 4,
        severityText: 'INFO',
        body,
        attributes: { 'load.run': this.run, 'app.user.id': `user-${i % 100}` },
        droppedAttributesCount: 0,
        resource: this.resource,
        instrumentationScope: this.scope,
      });
    }
    return { records, bodies, service: this.service };
  }
}

// What was sent and what was acknowledged, per span and per log body.
export class Ledger {
  constructor() {
    this.sentSpans = new Map(); // traceId -> Set(spanId)
    this.ackedSpans = new Map();
    this.traceService = new Map(); // traceId -> service that sent it
    this.sentLogs = new Set();
    this.ackedLogs = new Set();
    this.answers = new Map(); // status -> count
  }

  static #add(map, spans) {
    for (const { traceId, spanId } of spans) {
      let s = map.get(traceId);
      if (!s) map.set(traceId, (s = new Set()));
      s.add(spanId);
    }
  }

  sent(req) {
    if (req.spans) {
      Ledger.#add(this.sentSpans, req.spans);
      for (const { traceId } of req.spans) this.traceService.set(traceId, req.service);
    }
    if (req.bodies) for (const b of req.bodies) this.sentLogs.add(b);
  }

  acked(req) {
    if (req.spans) Ledger.#add(this.ackedSpans, req.spans);
    if (req.bodies) for (const b of req.bodies) this.ackedLogs.add(b);
  }

  answer(status) {
    this.answers.set(status, (this.answers.get(status) || 0) + 1);
  }

  get ackedSpanCount() {
    let n = 0;
    for (const s of this.ackedSpans.values()) n += s.size;
    return n;
  }
}

// POSTs a protobuf body; resolves {status, headers} or {error}. Never
// rejects (a killed server is an expected outcome).
export function post(agent, url, body, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', (error) => { clearTimeout(timer); resolve({ error }); });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, headers: res.headers }); });
      res.on('error', (error) => { clearTimeout(timer); resolve({ error }); });
    });
    req.end(body);
  });
}

// GET JSON from the API with a keep-alive agent. Resolves {status, body}.
export function getApi(agent, url, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(parts).toString('utf8');
        let body;
        try { body = JSON.parse(text); } catch { body = text; }
        resolve({ status: res.statusCode, body });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url}`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// Runs fn over items with at most `limit` in flight.
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// Every log body of a service, through the paginated API (bounded pages).
export async function allLogBodies(agent, uiUrl, service, maxPages = 2000) {
  const bodies = [];
  let cursor = '';
  for (let page = 0; page < maxPages; page++) {
    const q = `/api/v1/logs?service=${encodeURIComponent(service)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const { status, body } = await getApi(agent, uiUrl + q);
    if (status !== 200) throw new Error(`GET ${q}: ${status} ${JSON.stringify(body)}`);
    for (const l of body.logs) bodies.push(typeof l.body === 'string' ? l.body : JSON.stringify(l.body));
    if (!body.nextCursor) return bodies;
    cursor = body.nextCursor;
  }
  throw new Error(`more than ${maxPages} pages of logs`);
}

// Stored counts of one service from /api/v1/services.
export async function serviceCounts(agent, uiUrl, service) {
  const { status, body } = await getApi(agent, uiUrl + '/api/v1/services');
  if (status !== 200) throw new Error(`services: ${status}`);
  const s = body.services.find((x) => x.name === service);
  return { spans: s?.spanCount ?? 0, logs: s?.logCount ?? 0, errors: s?.errorCount ?? 0 };
}
