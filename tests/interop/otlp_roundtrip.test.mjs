// Interop: the official OpenTelemetry JS exporters send traces, logs and
// metrics to loupe over OTLP/HTTP (protobuf and JSON, with and without
// gzip); everything is read back through the JSON API and compared field by
// field with what the SDK exported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics, hrToNs } from './lib/telemetry.mjs';
import { inlineResources } from './lib/resources.mjs';

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

export const VARIANTS = (process.env.LOUPE_INTEROP_PROTOCOLS || 'http/protobuf,http/json,grpc')
  .split(',').flatMap((p) => [{ protocol: p, gzip: false }, { protocol: p, gzip: true }]);

// Attribute values as loupe's API renders them: bytes become base64.
function apiValue(v) {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(apiValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, apiValue(x)]));
  return v;
}

export function checkSpan(api, s, serviceName) {
  const ctx = s.spanContext();
  assert.equal(api.traceId, ctx.traceId);
  assert.equal(api.spanId, ctx.spanId);
  assert.equal(api.parentSpanId, s.parentSpanContext?.spanId ?? '');
  assert.equal(api.name, s.name);
  assert.equal(api.kind, KINDS[s.kind]);
  assert.equal(api.startTimeUnixNano, hrToNs(s.startTime));
  assert.equal(api.endTimeUnixNano, hrToNs(s.endTime));
  assert.equal(BigInt(api.durationNs), BigInt(api.endTimeUnixNano) - BigInt(api.startTimeUnixNano));
  assert.equal(api.status.code, STATUS[s.status.code]);
  assert.equal(api.status.message, s.status.message ?? '');
  assert.deepEqual(api.attributes, apiValue(s.attributes));
  assert.equal(api.events.length, s.events.length);
  s.events.forEach((e, i) => {
    assert.equal(api.events[i].name, e.name);
    assert.equal(api.events[i].timeUnixNano, hrToNs(e.time));
    assert.deepEqual(api.events[i].attributes, apiValue(e.attributes ?? {}));
  });
  assert.equal(api.links.length, s.links.length);
  s.links.forEach((l, i) => {
    assert.equal(api.links[i].traceId, l.context.traceId);
    assert.equal(api.links[i].spanId, l.context.spanId);
    assert.deepEqual(api.links[i].attributes, apiValue(l.attributes ?? {}));
  });
  assert.equal(api.service, serviceName);
  assert.deepEqual(api.resource.attributes, apiValue(s.resource.attributes));
  assert.equal(api.scope.name, s.instrumentationScope.name);
  assert.equal(api.scope.version, s.instrumentationScope.version);
}

export function checkLogs(apiLogs, records, serviceName) {
  assert.equal(apiLogs.length, records.length);
  // newest first
  for (let i = 1; i < apiLogs.length; i++) {
    assert.ok(BigInt(apiLogs[i - 1].timeUnixNano) >= BigInt(apiLogs[i].timeUnixNano), 'newest first');
  }
  for (const r of records) {
    const t = hrToNs(r.hrTime);
    const api = apiLogs.find((l) => l.timeUnixNano === t);
    assert.ok(api, `log at ${t} is there`);
    assert.equal(api.observedTimeUnixNano, hrToNs(r.hrTimeObserved));
    assert.equal(api.severityNumber, r.severityNumber ?? 0);
    assert.equal(api.severityText, r.severityText ?? '');
    assert.deepEqual(api.body, apiValue(r.body));
    assert.deepEqual(api.attributes, apiValue(r.attributes));
    assert.equal(api.traceId, r.spanContext?.traceId ?? '');
    assert.equal(api.spanId, r.spanContext?.spanId ?? '');
    assert.equal(api.eventName ?? '', r.eventName ?? '');
    assert.equal(api.service, serviceName);
    assert.equal(api.resource.attributes['service.name'], serviceName);
    assert.equal(api.scope.name, r.instrumentationScope.name);
    assert.equal(api.scope.version, r.instrumentationScope.version);
  }
}

export function checkMetrics(apiMetrics, serviceName) {
  const by = Object.fromEntries(apiMetrics.map((m) => [m.name, m]));
  assert.deepEqual(Object.keys(by).sort(),
    ['http.server.duration', 'http.server.requests', 'process.memory.usage', 'queue.depth']);
  for (const m of apiMetrics) {
    assert.equal(m.service, serviceName);
    assert.equal(m.scope, 'loupe-interop-meter');
  }
  assert.equal(by['http.server.requests'].type, 'sum');
  assert.equal(by['http.server.requests'].monotonic, true);
  assert.equal(by['http.server.requests'].temporality, 'cumulative');
  assert.equal(by['http.server.requests'].unit, '{request}');
  assert.equal(by['http.server.requests'].description, 'Requests served');
  assert.equal(by['http.server.requests'].seriesCount, 2);
  assert.equal(by['queue.depth'].type, 'sum');
  assert.equal(by['queue.depth'].monotonic, false);
  assert.equal(by['queue.depth'].seriesCount, 1);
  assert.equal(by['http.server.duration'].type, 'histogram');
  assert.equal(by['http.server.duration'].unit, 's');
  assert.equal(by['http.server.duration'].temporality, 'cumulative');
  assert.equal(by['process.memory.usage'].type, 'gauge');
  assert.equal(by['process.memory.usage'].unit, 'By');
  for (const m of apiMetrics) assert.match(m.lastSeenUnixNano, /^[1-9][0-9]{18}$/);
}

let srv;
before(async () => { srv = await startLoupe({ storage: 'sqlite' }); });
after(async () => {
  const res = await srv.stop();
  assert.equal(res.code, 0, `clean exit\n${srv.stderr}`);
});

for (const { protocol, gzip } of VARIANTS) {
  const label = `${protocol}${gzip ? '+gzip' : ''}`;
  const service = `interop-${label.replace(/[^a-z0-9]+/g, '-')}`;

  test(`${label}: traces arrive with every field intact`, async () => {
    const sent = await sendTraces(exporters(srv, protocol, gzip), service);
    assert.ok(sent.results.length > 0 && sent.results.every((r) => r.code === 0), 'exports succeeded');
    assert.equal(sent.spans.length, 5);
    const { status, body: answer } = await getJson(srv, `/api/v1/traces/${sent.traceId}`);
    assert.equal(status, 200);
    assert.equal(Object.keys(answer.resources).length, 1, 'one resource, written once');
    const body = inlineResources(answer, 'spans');
    assert.equal(body.traceId, sent.traceId);
    assert.equal(body.spans.length, 5);
    for (const s of sent.spans) {
      const api = body.spans.find((x) => x.spanId === s.spanContext().spanId);
      assert.ok(api, `span ${s.name} stored`);
      checkSpan(api, s, service);
    }
    // parents before children are not required, but start times are ordered
    for (let i = 1; i < body.spans.length; i++) {
      assert.ok(BigInt(body.spans[i - 1].startTimeUnixNano) <= BigInt(body.spans[i].startTimeUnixNano));
    }
  });

  test(`${label}: logs arrive with every field intact`, async () => {
    const traced = await sendTraces(exporters(srv, protocol, gzip), `${service}-logctx`);
    const sent = await sendLogs(exporters(srv, protocol, gzip), service, { traceSpan: traced.rootSpan });
    assert.ok(sent.results.every((r) => r.code === 0), 'exports succeeded');
    assert.equal(sent.records.length, 8);
    const { status, body: answer } = await getJson(srv, `/api/v1/logs?service=${encodeURIComponent(service)}&limit=100`);
    assert.equal(status, 200);
    assert.equal(Object.keys(answer.resources).length, 1, 'one resource, written once');
    const body = inlineResources(answer, 'logs');
    checkLogs(body.logs, sent.records, service);
    const withCtx = body.logs.find((l) => l.traceId !== '');
    assert.equal(withCtx.traceId, traced.traceId);
  });

  test(`${label}: metrics arrive as instruments with their series`, async () => {
    const sent = await sendMetrics(exporters(srv, protocol, gzip), service);
    assert.ok(sent.results.length > 0 && sent.results.every((r) => r.code === 0), 'exports succeeded');
    const { status, body } = await getJson(srv, `/api/v1/metrics?service=${encodeURIComponent(service)}`);
    assert.equal(status, 200);
    checkMetrics(body.metrics, service);
  });

  test(`${label}: the service is listed with its counts`, async () => {
    const { status, body } = await getJson(srv, '/api/v1/services');
    assert.equal(status, 200);
    const s = body.services.find((x) => x.name === service);
    assert.ok(s, 'service listed');
    assert.equal(s.spanCount, 5);
    assert.equal(s.errorCount, 1);
    assert.equal(s.logCount, 8);
    assert.ok(s.metricCount >= 4);
    assert.deepEqual(s.instances, [`${service}-1`]);
    assert.match(s.lastSeenUnixNano, /^[1-9][0-9]{18}$/);
  });
}
