// make_payload.mjs - writes prebuilt OTLP payloads for the benchmarks, made by
// the official SDK's own serializers so they are what real exporters send.
//
//   node tests/bench/make_payload.mjs OUTDIR [SPANS_PER_REQUEST]
//
// OUTDIR/traces.pb    ExportTraceServiceRequest, protobuf
// OUTDIR/traces.json  the same as OTLP JSON
// OUTDIR/traces.grpc  the protobuf with the 5-byte gRPC message prefix
// OUTDIR/logs.pb      ExportLogsServiceRequest with as many log records
import { writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { ProtobufTraceSerializer, JsonTraceSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';

const out = process.argv[2] || 'build/bench';
const n = Number(process.argv[3] || 512);
mkdirSync(out, { recursive: true });

const resource = resourceFromAttributes({ 'service.name': 'bench-svc', 'service.instance.id': 'bench-1', 'host.name': 'bench-host' });
const mem = new InMemorySpanExporter();
// Trace ids: the marker b10c5afe, 4 bytes of trace number, 8 zero bytes that
// tests/bench/post_unique.lua overwrites per request (unique traces).
let traceNo = 0;
const idGenerator = {
  generateTraceId: () => `b10c5afe${(traceNo++).toString(16).padStart(8, '0')}${'0'.repeat(16)}`,
  generateSpanId: () => randomBytes(8).toString('hex'),
};
const tp = new BasicTracerProvider({ resource, idGenerator, spanProcessors: [new SimpleSpanProcessor(mem)] });
const tracer = tp.getTracer('bench', '1.0.0');
let root = null;
for (let i = 0; i < n; i++) {
  if (i % 16 === 0) { root?.end(); root = tracer.startSpan(`GET /api/item/${i % 50}`, { kind: SpanKind.SERVER }); }
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  if (i % 16 === 0) continue;
  const s = tracer.startSpan(`db.query ${i % 7}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system': 'postgresql', 'db.statement': `SELECT * FROM items WHERE id = ${i}`,
      'net.peer.name': 'db.internal', 'net.peer.port': 5432, 'app.user.id': `user-${i % 100}`,
      'app.cache.hit': i % 3 === 0, 'app.ratio': i / n, 'http.route': '/api/item/:id',
      'app.region': 'eu-west-1', 'app.attempt': i % 4,
    },
  }, ctx);
  s.addEvent('rows.fetched', { 'rows': i % 20 });
  if (i % 50 === 0) s.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
  s.end();
}
root?.end();
await tp.forceFlush();
const spans = mem.getFinishedSpans().slice(0, n);
const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans));
writeFileSync(`${out}/traces.pb`, pb);
writeFileSync(`${out}/traces.json`, Buffer.from(JsonTraceSerializer.serializeRequest(spans)));
const prefix = Buffer.alloc(5);
prefix.writeUInt8(0, 0);
prefix.writeUInt32BE(pb.length, 1);
writeFileSync(`${out}/traces.grpc`, Buffer.concat([prefix, pb]));

const lmem = new InMemoryLogRecordExporter();
const lp = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: lmem })] });
const logger = lp.getLogger('bench-logs');
for (let i = 0; i < n; i++) {
  logger.emit({ severityNumber: 9 + (i % 4) * 4, severityText: 'INFO', body: `request ${i} served in ${i % 97} ms for user-${i % 100}`,
    attributes: { 'http.route': '/api/item/:id', 'app.user.id': `user-${i % 100}`, 'app.attempt': i % 4 } });
}
await lp.forceFlush();
writeFileSync(`${out}/logs.pb`, Buffer.from(ProtobufLogsSerializer.serializeRequest(lmem.getFinishedLogRecords())));
console.log(`payloads: ${spans.length} spans (${pb.length} bytes protobuf), ${n} logs, in ${out}`);
