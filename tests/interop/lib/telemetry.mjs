// telemetry.mjs - a small test app built on the official OpenTelemetry JS SDK
// and OTLP exporters. It sends a known, rich set of traces, logs and metrics
// to loupe over one protocol and returns what the SDK exported, so tests can
// compare loupe's API answers field by field.
import { Metadata } from '@grpc/grpc-js';
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';

// protocol: 'http/protobuf' | 'http/json' | 'grpc'; gzip: boolean; headers:
// extra request headers (gRPC metadata), as OTEL_EXPORTER_OTLP_HEADERS sets.
export function exporters(srv, protocol, gzip = false, headers = {}) {
  const compression = gzip ? 'gzip' : 'none';
  if (protocol === 'grpc') {
    const url = srv.grpcUrl;
    const metadata = () => {
      const m = new Metadata();
      for (const [k, v] of Object.entries(headers)) m.set(k, v);
      return m;
    };
    return {
      traces: new TraceGrpc({ url, compression, metadata: metadata() }),
      logs: new LogsGrpc({ url, compression, metadata: metadata() }),
      metrics: new MetricsGrpc({ url, compression, metadata: metadata() }),
    };
  }
  const base = srv.httpUrl;
  const [T, L, M] = protocol === 'http/json' ? [TraceJson, LogsJson, MetricsJson] : [TraceProto, LogsProto, MetricsProto];
  return {
    traces: new T({ url: `${base}/v1/traces`, compression, headers }),
    logs: new L({ url: `${base}/v1/logs`, compression, headers }),
    metrics: new M({ url: `${base}/v1/metrics`, compression, headers }),
  };
}

// Wraps an exporter so the test sees each export's result and what was sent.
function recording(exporter, sink) {
  return {
    export(items, done) {
      exporter.export(items, (result) => {
        sink.results.push(result);
        if (result.code === 0) sink.items.push(...(Array.isArray(items) ? items : [items]));
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}

export function hrToNs(hr) {
  return (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();
}

// Sends traces: a server span with nested client/internal children, an error
// span, events, links, attributes of each JS attribute type. Returns
// {spans (ReadableSpan[] as exported), results, traceId}.
export async function sendTraces(exp, serviceName, { unicode = 'grüße 👋 東京' } = {}) {
  const sink = { items: [], results: [] };
  const resource = resourceFromAttributes({
    'service.name': serviceName,
    'service.instance.id': `${serviceName}-1`,
    'deployment.environment': 'test',
    'host.cpus': 2,
  });
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(recording(exp.traces, sink))],
  });
  const tracer = provider.getTracer('loupe-interop', '1.2.3');
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'app.ratio': 0.75,
      'app.cached': false,
      'app.tags': ['a', 'b', unicode],
      'app.sizes': [1, 2, 3],
      'app.flags': [true, false],
      'app.text': unicode,
    },
  });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  root.addEvent('request.received', { 'bytes': 512, 'note': 'first' });
  const child = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'postgresql', 'db.rows': 42 },
    links: [{ context: root.spanContext(), attributes: { 'link.reason': 'follows' } }],
  }, rootCtx);
  const childCtx = trace.setSpan(rootCtx, child);
  const grandchild = tracer.startSpan('parse rows', { kind: SpanKind.INTERNAL }, childCtx);
  grandchild.end();
  child.end();
  const failing = tracer.startSpan('charge card', { kind: SpanKind.PRODUCER }, rootCtx);
  failing.recordException(new Error('card declined'));
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  failing.end();
  const consumer = tracer.startSpan('consume event', { kind: SpanKind.CONSUMER }, rootCtx);
  consumer.setStatus({ code: SpanStatusCode.OK });
  consumer.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { spans: sink.items, results: sink.results, traceId: root.spanContext().traceId, rootSpan: root };
}

export const SEVERITIES = [
  [SeverityNumber.TRACE, 'TRACE'], [SeverityNumber.DEBUG, 'DEBUG'], [SeverityNumber.INFO, 'INFO'],
  [SeverityNumber.WARN, 'WARN'], [SeverityNumber.ERROR, 'ERROR'], [SeverityNumber.FATAL, 'FATAL'],
];

// Sends one log record per severity plus records with structured bodies,
// trace context and unicode. Returns {records (as exported), results}.
export async function sendLogs(exp, serviceName, { traceSpan } = {}) {
  const sink = { items: [], results: [] };
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    processors: [new SimpleLogRecordProcessor({ exporter: recording(exp.logs, sink) })],
  });
  const logger = provider.getLogger('loupe-interop-logs', '0.9.0');
  const base = Date.now();
  SEVERITIES.forEach(([num, text], i) => {
    logger.emit({
      severityNumber: num, severityText: text, body: `message at ${text} ✓`,
      attributes: { 'log.index': i, 'log.level': text.toLowerCase() },
      timestamp: base + i,
    });
  });
  const ctx = traceSpan ? trace.setSpan(ROOT_CONTEXT, traceSpan) : ROOT_CONTEXT;
  logger.emit({
    severityNumber: SeverityNumber.ERROR, severityText: 'ERROR',
    body: { message: 'structured body', code: 7, nested: { ok: true, list: [1, 'two'] } },
    attributes: { 'bytes.attr': new Uint8Array([0, 1, 2, 250]), 'obj.attr': { inner: 'v', n: 1.5 } },
    timestamp: base + 100,
    context: ctx,
  });
  logger.emit({
    severityNumber: SeverityNumber.INFO, body: 'ünïcödé 日本語 🎉 <script>alert(1)</script>',
    timestamp: base + 101, eventName: 'user.signup',
  });
  await provider.forceFlush();
  await provider.shutdown();
  return { records: sink.items, results: sink.results };
}

// Sends a counter, an up-down counter, a histogram and an observable gauge,
// one collection. Returns {metrics (ResourceMetrics[] as exported), results}.
export async function sendMetrics(exp, serviceName) {
  const sink = { items: [], results: [] };
  const reader = new PeriodicExportingMetricReader({
    exporter: recording(exp.metrics, sink),
    exportIntervalMillis: 3600000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    readers: [reader],
  });
  const meter = provider.getMeter('loupe-interop-meter', '2.0.0');
  const counter = meter.createCounter('http.server.requests', { description: 'Requests served', unit: '{request}' });
  counter.add(3, { route: '/a' });
  counter.add(5, { route: '/b' });
  const updown = meter.createUpDownCounter('queue.depth', { unit: '{item}' });
  updown.add(10);
  updown.add(-4);
  const hist = meter.createHistogram('http.server.duration', { unit: 's', description: 'Latency' });
  for (const v of [0.005, 0.02, 0.02, 0.3, 1.2]) hist.record(v, { route: '/a' });
  const gauge = meter.createObservableGauge('process.memory.usage', { unit: 'By' });
  gauge.addCallback((r) => r.observe(123456789, { kind: 'rss' }));
  await provider.forceFlush();
  await provider.shutdown();
  return { metrics: sink.items, results: sink.results };
}

export { context, AggregationTemporality };
