// roundtrip.mjs - one short session for the packaged forms of loupe (the
// Debian package, the container image): the official exporters send
// traces (OTLP/HTTP protobuf), logs (OTLP/gRPC) and metrics (OTLP/HTTP
// JSON), and the API must give back every span, every log record and the
// four instruments, and refuse a request without the token.
//
//   const sent = await sendSession(srv, 'my-service');
//   await checkSession(srv, sent);     // again later, e.g. after a restart
//
// srv: {uiUrl, httpUrl, grpcUrl, authHeaders}, as startLoupe returns.
import assert from 'node:assert/strict';
import { getJson } from './server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './telemetry.mjs';

const INSTRUMENTS = ['http.server.duration', 'http.server.requests', 'process.memory.usage', 'queue.depth'];

function allOk(results, what) {
  assert.ok(results.length > 0 && results.every((r) => r.code === 0), `${what} exports succeeded`);
}

export async function sendSession(srv, service) {
  const traces = await sendTraces(exporters(srv, 'http/protobuf'), service);
  allOk(traces.results, 'trace');
  const logs = await sendLogs(exporters(srv, 'grpc'), service, { traceSpan: traces.rootSpan });
  allOk(logs.results, 'log');
  const metrics = await sendMetrics(exporters(srv, 'http/json'), service);
  allOk(metrics.results, 'metric');
  return {
    service,
    traceId: traces.traceId,
    spanIds: traces.spans.map((s) => s.spanContext().spanId).sort(),
    logCount: logs.records.length,
  };
}

export async function checkSession(srv, sent) {
  const t = await getJson(srv, `/api/v1/traces/${sent.traceId}`);
  assert.equal(t.status, 200);
  assert.deepEqual(t.body.spans.map((s) => s.spanId).sort(), sent.spanIds);
  const l = await getJson(srv, `/api/v1/logs?service=${encodeURIComponent(sent.service)}&limit=100`);
  assert.equal(l.status, 200);
  assert.equal(l.body.logs.length, sent.logCount);
  assert.ok(l.body.logs.some((x) => x.traceId === sent.traceId), 'a log carries the trace context');
  const m = await getJson(srv, `/api/v1/metrics?service=${encodeURIComponent(sent.service)}`);
  assert.equal(m.status, 200);
  assert.deepEqual(m.body.metrics.map((x) => x.name).sort(), INSTRUMENTS);
  const unauth = await fetch(`${srv.uiUrl}/api/v1/services`);
  assert.equal(unauth.status, 401, 'the API needs the token');
}
