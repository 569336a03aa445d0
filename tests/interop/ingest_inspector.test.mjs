// ingest_inspector.test.mjs - the ingest inspector against the official
// OpenTelemetry JS exporters.
//
// Spans and log records are made with the SDK and handed to the official
// OTLP exporters (gRPC, HTTP/protobuf, HTTP/JSON, with and without gzip);
// the expected byte counts come from the same serializers the exporters
// use. Refusals are provoked the way users meet them: a batch larger than
// --max-body-size / --max-grpc-message-size, a body the server cannot
// decode (the exporters' own transports with a serializer that writes
// garbage), a log record nested too deep (partial success), a resource
// without service.name. Each request's record in GET
// /api/v1/ingest/requests must say what was sent and what happened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExportDelegate, convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { createOtlpGrpcExportDelegate, convertLegacyOtlpGrpcOptions } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  ProtobufTraceSerializer, JsonTraceSerializer, ProtobufLogsSerializer, JsonLogsSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import { startLoupe, getJson } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const EXPORTER_VERSION = require('@opentelemetry/exporter-trace-otlp-http/package.json').version;
const UA = `OTel-OTLP-Exporter-JavaScript/${EXPORTER_VERSION}`;
const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const LOGS_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const LIMIT = 64 * 1024; // --max-body-size and --max-grpc-message-size

let srv;
before(async () => {
  srv = await startLoupe({ args: ['--max-body-size', '64KiB', '--max-grpc-message-size', '64KiB'] });
});
after(async () => {
  const { code, signal } = await srv.stop();
  assert.equal(code, 0, `loupe exit ${code} ${signal}\n${srv.stderr}`);
});

// The SDK's resource (telemetry.sdk.*) with service.name, or without it.
function resourceFor(service) {
  const base = defaultResource();
  if (service) return base.merge(resourceFromAttributes({ 'service.name': service }));
  const attrs = { ...base.attributes };
  delete attrs['service.name'];
  return resourceFromAttributes(attrs);
}

// n finished spans of `service` (each with a `pad`-byte attribute).
async function makeSpans(service, n, pad = 0) {
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFor(service), spanProcessors: [new SimpleSpanProcessor(mem)] });
  const tracer = provider.getTracer('inspector-test', '1.0.0');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan(`op-${i}`, { attributes: { 'pad.text': 'p'.repeat(pad), 'op.index': i } });
    span.end();
  }
  await provider.forceFlush();
  return mem.getFinishedSpans();
}

// Log records of `service`; `deep` adds one whose body is nested past
// loupe's limit of 32 levels (rejected alone: a partial success).
async function makeLogs(service, n, { deep = false } = {}) {
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFor(service), processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
  const logger = provider.getLogger('inspector-test', '1.0.0');
  for (let i = 0; i < n; i++) logger.emit({ severityNumber: SeverityNumber.INFO, body: `record ${i}` });
  if (deep) {
    let body = { leaf: 'too deep' };
    for (let i = 0; i < 40; i++) body = { inner: body };
    logger.emit({ severityNumber: SeverityNumber.WARN, body });
  }
  await provider.forceFlush();
  return mem.getFinishedLogRecords();
}

function exportWith(exporter, items) {
  return new Promise((resolve) => exporter.export(items, resolve));
}

// Exports items and returns {result, records}: the records the export
// added (newest first). Requests are answered after they are recorded, so
// the records are there when the exporter's callback runs.
async function exportAndRecords(exporter, items) {
  const head = (await getJson(srv, '/api/v1/ingest/requests?limit=1')).body.head;
  const result = await exportWith(exporter, items);
  await exporter.shutdown();
  const r = await getJson(srv, `/api/v1/ingest/requests?after=${head}&limit=100`);
  assert.equal(r.status, 200);
  return { result, records: r.body.requests };
}

function only(records) {
  assert.equal(records.length, 1, `one request recorded: ${JSON.stringify(records, null, 1)}`);
  return records[0];
}

function assertSdk(rec, resource) {
  assert.deepEqual(rec.sdk, {
    name: resource.attributes['telemetry.sdk.name'],
    language: resource.attributes['telemetry.sdk.language'],
    version: resource.attributes['telemetry.sdk.version'],
  });
  assert.equal(rec.sdk.name, 'opentelemetry');
  assert.equal(rec.sdk.language, 'nodejs');
}

const httpUrl = (signal) => `${srv.httpUrl}/v1/${signal}`;

test('HTTP/protobuf traces: every field of the record', async () => {
  const spans = await makeSpans('insp-proto', 3);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  const { result, records } = await exportAndRecords(new TraceProto({ url: httpUrl('traces') }), spans);
  assert.equal(result.code, 0, String(result.error));
  const rec = only(records);
  assert.equal(rec.transport, 'http');
  assert.equal(rec.protocol, 'http/protobuf');
  assert.equal(rec.port, srv.httpPort);
  assert.equal(rec.path, '/v1/traces');
  assert.equal(rec.signal, 'traces');
  assert.equal(rec.contentType, 'application/x-protobuf');
  assert.equal(rec.encoding, 'protobuf');
  assert.equal(rec.compression, 'none');
  assert.equal(rec.contentEncoding, null);
  assert.equal(rec.wireBytes, body.length);
  assert.equal(rec.decodedBytes, body.length);
  assert.equal(rec.items, 3);
  assert.equal(rec.rejectedItems, 0);
  assert.equal(rec.resources, 1);
  assert.equal(rec.outcome, 'ok');
  assert.equal(rec.httpStatus, 200);
  assert.equal(rec.grpcStatus, null);
  assert.equal(rec.reason, null);
  assert.equal(rec.hint, null);
  assert.equal(rec.client, '127.0.0.1');
  assert.ok(rec.userAgent.includes(UA), rec.userAgent);
  assert.equal(rec.service, 'insp-proto');
  assertSdk(rec, spans[0].resource);
  assert.ok(rec.ackNs > 0 && rec.ackNs < 30e9, `ackNs ${rec.ackNs}`);
  const t = BigInt(rec.timeUnixNano);
  assert.ok(t > BigInt(Date.now() - 60000) * 1000000n && t <= BigInt(Date.now() + 1000) * 1000000n);
  // the same record by id
  const one = await getJson(srv, `/api/v1/ingest/requests/${rec.id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, rec);
});

test('HTTP/JSON logs with gzip: compressed on the wire, decoded size exact', async () => {
  const logs = await makeLogs('insp-json', 20);
  const body = JsonLogsSerializer.serializeRequest(logs);
  const { result, records } = await exportAndRecords(new LogsJson({ url: httpUrl('logs'), compression: 'gzip' }), logs);
  assert.equal(result.code, 0, String(result.error));
  const rec = only(records);
  assert.equal(rec.protocol, 'http/json');
  assert.equal(rec.path, '/v1/logs');
  assert.equal(rec.signal, 'logs');
  assert.equal(rec.contentType, 'application/json');
  assert.equal(rec.encoding, 'json');
  assert.equal(rec.compression, 'gzip');
  assert.equal(rec.contentEncoding, 'gzip');
  assert.equal(rec.decodedBytes, body.length);
  assert.ok(rec.wireBytes > 20 && rec.wireBytes < body.length, `wire ${rec.wireBytes} of ${body.length}`);
  assert.equal(rec.items, 20);
  assert.equal(rec.outcome, 'ok');
  assert.equal(rec.service, 'insp-json');
  assert.ok(rec.userAgent.includes(UA));
  assertSdk(rec, logs[0].resource);
});

test('OTLP/gRPC traces with gzip: status, method path, user agent of exporter and grpc-js', async () => {
  const spans = await makeSpans('insp-grpc', 4);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  const { result, records } = await exportAndRecords(new TraceGrpc({ url: srv.grpcUrl, compression: 'gzip' }), spans);
  assert.equal(result.code, 0, String(result.error));
  const rec = only(records);
  assert.equal(rec.transport, 'grpc');
  assert.equal(rec.protocol, 'grpc');
  assert.equal(rec.port, srv.grpcPort);
  assert.equal(rec.path, TRACE_PATH);
  assert.match(rec.contentType, /^application\/grpc/);
  assert.equal(rec.encoding, 'protobuf');
  assert.equal(rec.compression, 'gzip');
  assert.equal(rec.contentEncoding, 'gzip');
  assert.equal(rec.decodedBytes, body.length);
  assert.ok(rec.wireBytes > 0 && rec.wireBytes !== body.length, `wire ${rec.wireBytes}`);
  assert.equal(rec.items, 4);
  assert.equal(rec.outcome, 'ok');
  assert.equal(rec.httpStatus, 200);
  assert.equal(rec.grpcStatus, 0);
  assert.equal(rec.grpcStatusName, 'OK');
  assert.ok(rec.userAgent.includes(UA), rec.userAgent);
  assert.match(rec.userAgent, /grpc-node-js\//);
  assert.equal(rec.client, '127.0.0.1');
  assert.equal(rec.service, 'insp-grpc');
  assertSdk(rec, spans[0].resource);
});

test('OTLP/HTTP sent to the gRPC port: recorded as OTLP/HTTP with the port it came in on', async () => {
  const spans = await makeSpans('insp-handover', 1);
  const { result, records } = await exportAndRecords(new TraceProto({ url: `${srv.grpcUrl}/v1/traces` }), spans);
  assert.equal(result.code, 0, String(result.error));
  const rec = only(records);
  assert.equal(rec.transport, 'http');
  assert.equal(rec.protocol, 'http/protobuf');
  assert.equal(rec.port, srv.grpcPort);
  assert.equal(rec.client, '127.0.0.1');
});

test('a resource without service.name: no service, and advice to set one', async () => {
  const spans = await makeSpans(null, 2);
  assert.equal(spans[0].resource.attributes['service.name'], undefined);
  const { result, records } = await exportAndRecords(new TraceProto({ url: httpUrl('traces') }), spans);
  assert.equal(result.code, 0, String(result.error));
  const rec = only(records);
  assert.equal(rec.outcome, 'ok');
  assert.equal(rec.service, null);
  assertSdk(rec, spans[0].resource);
  assert.match(rec.hint, /unknown_service/);
  assert.match(rec.hint, /OTEL_SERVICE_NAME/);
  const services = (await getJson(srv, '/api/v1/services')).body.services.map((s) => s.name);
  assert.ok(services.includes('unknown_service'), services.join());
});

test('a batch over --max-body-size: 413 with the limit in the advice', async () => {
  const spans = await makeSpans('insp-big', 40, 2000);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  // over the limit, and under twice it, so the server reads the rest of the
  // body and answers (past that it closes the connection)
  assert.ok(body.length > LIMIT && body.length < 1.8 * LIMIT, `body ${body.length}`);
  const { result, records } = await exportAndRecords(new TraceProto({ url: httpUrl('traces') }), spans);
  assert.notEqual(result.code, 0);
  assert.match(String(result.error?.message ?? result.error), /413|Content Too Large|Payload Too Large/i);
  const rec = only(records);
  assert.equal(rec.outcome, 'error');
  assert.equal(rec.httpStatus, 413);
  assert.equal(rec.reason, 'body_too_large');
  assert.equal(rec.wireBytes, body.length); // the exporter streams it; every byte was read
  assert.equal(rec.decodedBytes, null);
  assert.equal(rec.items, 0);
  assert.equal(rec.service, null); // never decoded
  assert.equal(rec.hint.startsWith('413: body larger than --max-body-size 64 KiB: lower the exporter'), true, rec.hint);
  assert.match(rec.message, /exceeds the limit of 65536 bytes/);
  assert.ok(rec.userAgent.includes(UA));
});

test('a body of more than twice --max-body-size: the connection is closed, the refusal still recorded', async () => {
  const spans = await makeSpans('insp-huge', 100, 2000);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(body.length > 2.5 * LIMIT, `body ${body.length}`);
  // the exporter retries a reset connection until its timeout
  const { result, records } = await exportAndRecords(new TraceProto({ url: httpUrl('traces'), timeoutMillis: 1500 }), spans);
  assert.notEqual(result.code, 0);
  assert.ok(records.length >= 1);
  for (const rec of records) {
    assert.equal(rec.outcome, 'error');
    assert.equal(rec.reason, 'body_too_large');
    assert.equal(rec.httpStatus, 413);
    assert.match(rec.message, /not delivered: the connection was closed/);
    assert.ok(rec.wireBytes > LIMIT && rec.wireBytes <= body.length, `wire ${rec.wireBytes}`);
  }
});

test('a message over --max-grpc-message-size: RESOURCE_EXHAUSTED, refused from its declared size', async () => {
  const spans = await makeSpans('insp-big-grpc', 40, 2000);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(body.length > LIMIT);
  const { result, records } = await exportAndRecords(new TraceGrpc({ url: srv.grpcUrl }), spans);
  assert.notEqual(result.code, 0);
  assert.match(String(result.error?.message), /RESOURCE_EXHAUSTED/);
  const rec = only(records);
  assert.equal(rec.transport, 'grpc');
  assert.equal(rec.outcome, 'error');
  assert.equal(rec.grpcStatus, 8);
  assert.equal(rec.grpcStatusName, 'RESOURCE_EXHAUSTED');
  assert.equal(rec.reason, 'body_too_large');
  assert.equal(rec.wireBytes, body.length);
  assert.match(rec.hint, /^RESOURCE_EXHAUSTED: message larger than --max-grpc-message-size 64 KiB/);
  assert.match(rec.userAgent, /grpc-node-js\//);
});

// The exporters' own transports with a serializer that writes garbage.
const garbage = (real) => ({
  serializeRequest: () => new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]),
  deserializeResponse: (b) => real.deserializeResponse(b),
});

test('an undecodable body over OTLP/HTTP: 400 with the reason', async () => {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url: httpUrl('traces') }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    garbage(ProtobufTraceSerializer), 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined);
  const spans = await makeSpans('insp-bad', 1);
  const { result, records } = await exportAndRecords(new OTLPExporterBase(delegate), spans);
  assert.notEqual(result.code, 0);
  const rec = only(records);
  assert.equal(rec.outcome, 'error');
  assert.equal(rec.httpStatus, 400);
  assert.equal(rec.reason, 'malformed');
  assert.equal(rec.wireBytes, 6);
  assert.equal(rec.contentType, 'application/x-protobuf');
  assert.match(rec.message, /Cannot decode the protobuf traces export request/);
  assert.match(rec.hint, /^400: the body is not a valid OTLP protobuf export request/);
  assert.ok(rec.userAgent.includes(UA));
});

test('an undecodable message over OTLP/gRPC: INVALID_ARGUMENT with the reason', async () => {
  const delegate = createOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions({ url: srv.grpcUrl }, 'TRACES'),
    garbage(ProtobufTraceSerializer), 'otlp_grpc_span_exporter', TraceExporterMetricsHelper, undefined,
    'TraceExportService', TRACE_PATH);
  const spans = await makeSpans('insp-bad-grpc', 1);
  const { result, records } = await exportAndRecords(new OTLPExporterBase(delegate), spans);
  assert.notEqual(result.code, 0);
  assert.match(String(result.error?.message), /INVALID_ARGUMENT/);
  const rec = only(records);
  assert.equal(rec.grpcStatus, 3);
  assert.equal(rec.grpcStatusName, 'INVALID_ARGUMENT');
  assert.equal(rec.reason, 'malformed');
  assert.equal(rec.wireBytes, 6);
  assert.match(rec.hint, /^INVALID_ARGUMENT: the message is not a valid OTLP protobuf export request/);
});

for (const [label, Exporter, url, serializer] of [
  ['HTTP/protobuf', LogsProto, () => httpUrl('logs'), ProtobufLogsSerializer],
  ['OTLP/gRPC', LogsGrpc, () => srv.grpcUrl, ProtobufLogsSerializer],
]) {
  test(`a partial success over ${label}: the rejected count and the server's message`, async () => {
    const logs = await makeLogs(`insp-partial-${Exporter === LogsGrpc ? 'grpc' : 'http'}`, 2, { deep: true });
    const body = serializer.serializeRequest(logs);
    const { result, records } = await exportAndRecords(new Exporter({ url: url() }), logs);
    assert.equal(result.code, 0, String(result.error)); // a partial success is a success
    const rec = only(records);
    assert.equal(rec.outcome, 'partial');
    assert.equal(rec.items, 3);
    assert.equal(rec.rejectedItems, 1);
    assert.equal(rec.reason, 'items_rejected');
    assert.equal(rec.decodedBytes, body.length);
    assert.match(rec.message, /nested deeper than 32 levels/);
    assert.match(rec.hint, /^partial success: 1 of 3 items were invalid and dropped/);
    if (Exporter === LogsGrpc) assert.equal(rec.path, LOGS_PATH);
    const stored = await getJson(srv, `/api/v1/logs?service=${rec.service}`);
    assert.equal(stored.body.logs.length, 2);
  });
}

test('filters: outcome, transport, service, signal; paging with the cursor', async () => {
  const errors = (await getJson(srv, '/api/v1/ingest/requests?outcome=error&limit=1000')).body.requests;
  assert.ok(errors.length >= 4);
  assert.ok(errors.every((r) => r.outcome === 'error'));
  const grpc = (await getJson(srv, '/api/v1/ingest/requests?transport=grpc&outcome=ok,partial')).body.requests;
  assert.ok(grpc.length >= 2 && grpc.every((r) => r.transport === 'grpc' && r.outcome !== 'error'));
  const svc = (await getJson(srv, '/api/v1/ingest/requests?service=insp-json')).body.requests;
  assert.equal(svc.length, 1);
  const logs = (await getJson(srv, '/api/v1/ingest/requests?signal=logs')).body.requests;
  assert.ok(logs.length >= 3 && logs.every((r) => r.signal === 'logs'));
  // every record, two at a time, newest first, nothing twice
  const all = (await getJson(srv, '/api/v1/ingest/requests?limit=1000')).body;
  const seen = [];
  let cursor = '';
  for (let i = 0; i < 100; i++) {
    const page = (await getJson(srv, `/api/v1/ingest/requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
    seen.push(...page.requests.map((r) => r.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const ids = all.requests.map((r) => r.id);
  assert.deepEqual(seen.slice(0, ids.length), ids);
  assert.deepEqual([...ids].sort((a, b) => b - a), ids);
  assert.equal((await getJson(srv, '/api/v1/ingest/requests?outcome=maybe')).status, 400);
});

test('clients: one row per client and SDK, with requests, items, errors and protocols', async () => {
  const res = await getJson(srv, '/api/v1/ingest/clients');
  assert.equal(res.status, 200);
  assert.equal(res.body.enabled, true);
  const rows = res.body.clients;
  const grpc = rows.find((c) => c.service === 'insp-grpc');
  assert.ok(grpc, JSON.stringify(rows.map((c) => c.service)));
  assert.deepEqual(grpc.protocols, ['grpc']);
  assert.equal(grpc.requests, 1);
  assert.equal(grpc.items, 4);
  assert.equal(grpc.errors, 0);
  assert.equal(grpc.client, '127.0.0.1');
  assert.equal(grpc.sdk.language, 'nodejs');
  const json = rows.find((c) => c.service === 'insp-json');
  assert.deepEqual(json.protocols, ['http/json']);
  // the refused, undecoded requests of one exporter share a row without service or SDK
  const refused = rows.filter((c) => c.service === null && c.sdk === null && c.errors > 0);
  assert.ok(refused.length >= 1);
  assert.ok(refused.some((c) => c.lastReason === 'malformed' || c.lastReason === 'body_too_large'));
  for (const c of rows) {
    assert.ok(BigInt(c.lastSeenUnixNano) >= BigInt(c.firstSeenUnixNano));
    assert.ok(c.requests >= c.errors + c.partial);
  }
  // most recently seen first
  const ids = rows.map((c) => c.lastRequestId);
  assert.deepEqual([...ids].sort((a, b) => b - a), ids);
});

test('the inspector off (--ingest-log-size 0): nothing recorded, exports unaffected', async () => {
  const off = await startLoupe({ args: ['--ingest-log-size', '0'] });
  try {
    const spans = await makeSpans('insp-off', 2);
    const exp = new TraceProto({ url: `${off.httpUrl}/v1/traces` });
    const result = await exportWith(exp, spans);
    await exp.shutdown();
    assert.equal(result.code, 0);
    const r = await getJson(off, '/api/v1/ingest/requests');
    assert.equal(r.status, 200);
    assert.equal(r.body.enabled, false);
    assert.deepEqual(r.body.requests, []);
    assert.equal((await getJson(off, '/api/v1/ingest/requests/1')).status, 404);
    const t = await getJson(off, '/api/v1/services');
    assert.ok(t.body.services.some((s) => s.name === 'insp-off'));
  } finally {
    await off.stop();
  }
});

test('hostile user agents and service names are recorded as text, cut to size', async () => {
  // the exporter's userAgent option goes before its own product token
  const ua = `<img src=x onerror=alert(1)>"${'u'.repeat(400)}`;
  const spans = await makeSpans('<script>alert("svc")</script>', 1);
  const { records } = await exportAndRecords(new TraceJson({ url: httpUrl('traces'), userAgent: ua }), spans);
  const rec = only(records);
  assert.equal(rec.service, '<script>alert("svc")</script>');
  assert.ok(rec.userAgent.startsWith('<img src=x onerror=alert(1)>"uuu'), rec.userAgent);
  assert.equal(Buffer.byteLength(rec.userAgent), 159);
  // the raw JSON escapes markup, so it can be embedded anywhere
  const raw = await (await fetch(`${srv.uiUrl}/api/v1/ingest/requests/${rec.id}`)).text();
  assert.ok(!raw.includes('<script>') && !raw.includes('<img'), raw.slice(0, 300));
});
