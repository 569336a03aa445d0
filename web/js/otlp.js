// otlp.js - a trace from GET /api/v1/traces/{id} turned back into OTLP JSON
// (an ExportTraceServiceRequest, as the OTLP/HTTP JSON encoding and the
// Collector's file exporter write it), for "download trace".
//
// Attribute values come from the API's JSON; what JSON cannot tell apart is
// mapped the plain way: whole numbers become intValue, other numbers
// doubleValue, strings stringValue (so bytes, which the API sends as base64,
// and integers beyond 2^53, which it sends as strings, come back as strings).

const KINDS = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS = { UNSET: 0, OK: 1, ERROR: 2 };

function enumName(v) {
  return String(v ?? '').toUpperCase().replace(/^(SPAN_KIND_|STATUS_CODE_)/, '');
}

export function anyValue(v) {
  if (v === null || v === undefined) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (typeof v === 'object') return { kvlistValue: { values: keyValues(v) } };
  return { stringValue: String(v) };
}

export function keyValues(attrs) {
  return Object.keys(attrs || {}).map((key) => ({ key, value: anyValue(attrs[key]) }));
}

function dropped(n) {
  return Number(n) > 0 ? Number(n) : undefined;
}

function span(s) {
  const out = {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId || undefined,
    traceState: s.traceState || undefined,
    flags: s.flags || undefined,
    name: s.name,
    kind: KINDS[enumName(s.kind)] ?? 0,
    startTimeUnixNano: String(s.startTimeUnixNano),
    endTimeUnixNano: String(s.endTimeUnixNano),
    attributes: keyValues(s.attributes),
    droppedAttributesCount: dropped(s.droppedAttributesCount),
    events: (s.events || []).map((e) => ({
      timeUnixNano: String(e.timeUnixNano), name: e.name, attributes: keyValues(e.attributes),
      droppedAttributesCount: dropped(e.droppedAttributesCount),
    })),
    droppedEventsCount: dropped(s.droppedEventsCount),
    links: (s.links || []).map((l) => ({
      traceId: l.traceId, spanId: l.spanId, traceState: l.traceState || undefined,
      attributes: keyValues(l.attributes), droppedAttributesCount: dropped(l.droppedAttributesCount),
      flags: l.flags || undefined,
    })),
    droppedLinksCount: dropped(s.droppedLinksCount),
    status: {},
  };
  const st = s.status || {};
  const code = STATUS[enumName(st.code)] ?? 0;
  if (code) out.status.code = code;
  if (st.message) out.status.message = st.message;
  return out;
}

// Groups spans by resource, then scope, keeping the API's span order.
export function traceToOtlp(trace) {
  const resources = new Map();
  for (const s of trace.spans || []) {
    const resAttrs = (s.resource && s.resource.attributes) || {};
    const rk = JSON.stringify(resAttrs);
    let r = resources.get(rk);
    if (!r) {
      r = { resource: { attributes: keyValues(resAttrs) }, scopes: new Map() };
      resources.set(rk, r);
    }
    const scope = s.scope || {};
    const sk = JSON.stringify([scope.name || '', scope.version || '']);
    let sc = r.scopes.get(sk);
    if (!sc) {
      sc = { scope: { name: scope.name || '', ...(scope.version ? { version: scope.version } : {}) }, spans: [] };
      r.scopes.set(sk, sc);
    }
    sc.spans.push(span(s));
  }
  return {
    resourceSpans: [...resources.values()].map((r) => ({
      resource: r.resource,
      scopeSpans: [...r.scopes.values()],
    })),
  };
}

export function downloadJson(filename, obj) {
  const blob = new Blob([JSON.stringify(obj)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
