// env_app.mjs - a Node app whose OTLP exporters are configured by the
// environment alone, as a user's app would be: the exporters are built with
// no options, so OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_COMPRESSION
// and the rest are read by the official exporters themselves. The exporter
// package follows OTEL_EXPORTER_OTLP_PROTOCOL as the JS SDK's does
// (unset: http/protobuf, the JS default).
//
//   node env_app.mjs SERVICE
//
// Sends traces, logs and metrics (tests/interop/lib/telemetry.mjs) and
// prints one JSON line: {protocol, traceId, spans, records, ok, results}.
// The JS SDK reads these variables when an exporter is built, hence a child
// process per configuration.
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { sendTraces, sendLogs, sendMetrics } from './telemetry.mjs';

const PACKAGES = {
  'http/protobuf': [TraceProto, LogsProto, MetricsProto],
  'http/json': [TraceJson, LogsJson, MetricsJson],
  grpc: [TraceGrpc, LogsGrpc, MetricsGrpc],
};

const service = process.argv[2];
const protocol = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
const classes = PACKAGES[protocol];
if (!service || !classes) {
  console.error(`usage: OTEL_EXPORTER_OTLP_PROTOCOL=${Object.keys(PACKAGES).join('|')} node env_app.mjs SERVICE`);
  process.exit(2);
}
// Fresh exporters for each signal's provider (a provider shuts its exporter down).
const make = () => ({ traces: new classes[0](), logs: new classes[1](), metrics: new classes[2]() });

const traces = await sendTraces(make(), service);
const logs = await sendLogs(make(), service, { traceSpan: traces.rootSpan });
const metrics = await sendMetrics(make(), service);
const results = { traces: traces.results, logs: logs.results, metrics: metrics.results };
const ok = Object.values(results).every((r) => r.length > 0 && r.every((x) => x.code === 0));
console.log(JSON.stringify({
  protocol,
  traceId: traces.traceId,
  spans: traces.spans.length,
  records: logs.records.length,
  ok,
  results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.map((x) => ({
    code: x.code, error: x.error ? String(x.error.message || x.error) : undefined,
  }))])),
}));
process.exit(0); // the gRPC exporters' channels may hold the loop a while
