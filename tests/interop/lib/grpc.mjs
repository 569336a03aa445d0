// grpc.mjs - helpers for testing loupe's OTLP/gRPC receiver from outside:
// hand-built OTLP protobuf requests, gRPC message framing, calls through
// @grpc/grpc-js (a real gRPC client that is not ours) and raw HTTP/2 calls
// through node:http2 for what a well-behaved client would never send.
import http2 from 'node:http2';
import grpc from '@grpc/grpc-js';

export const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
export const METRICS = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

// ---- a minimal protobuf writer ---------------------------------------------

function varint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const tag = (field, wire) => varint((field << 3) | wire);
export const pbBytes = (field, buf) => Buffer.concat([tag(field, 2), varint(buf.length), buf]);
export const pbString = (field, s) => pbBytes(field, Buffer.from(s, 'utf8'));
export const pbVarint = (field, n) => Buffer.concat([tag(field, 0), varint(n)]);
export function pbFixed64(field, n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return Buffer.concat([tag(field, 1), b]);
}

let idCounter = 1n;
// A random-enough, never-zero id of n bytes, unique within the process.
export function newId(n) {
  const b = Buffer.alloc(n);
  b.writeBigUInt64BE(idCounter++ | (BigInt(Date.now()) << 20n), n - 8);
  b[0] = 0xab;
  return b;
}

// ExportTraceServiceRequest with `count` spans of one trace for `service`.
// Returns { body, traceId (hex), spanIds (hex[]) }.
export function traceRequest(service, count = 1, name = 'grpc-test-span') {
  const traceId = newId(16);
  const spanIds = [];
  const spans = [];
  const start = BigInt(Date.now()) * 1000000n;
  for (let i = 0; i < count; i++) {
    const sid = newId(8);
    spanIds.push(sid.toString('hex'));
    spans.push(pbBytes(2, Buffer.concat([
      pbBytes(1, traceId), pbBytes(2, sid), pbString(5, `${name}-${i}`), pbVarint(6, 2),
      pbFixed64(7, start + BigInt(i)), pbFixed64(8, start + BigInt(i) + 1000n),
    ])));
  }
  const resource = pbBytes(1, pbBytes(1, Buffer.concat([
    pbString(1, 'service.name'), pbBytes(2, pbString(1, service)),
  ])));
  const scopeSpans = pbBytes(2, Buffer.concat([pbBytes(1, pbString(1, 'grpc-test')), ...spans]));
  const body = pbBytes(1, Buffer.concat([resource, scopeSpans]));
  return { body, traceId: traceId.toString('hex'), spanIds };
}

// gRPC message framing: 1 byte compressed flag, 4 bytes big-endian length.
export function frame(payload, compressed = 0, declaredLength = payload.length) {
  const p = Buffer.alloc(5);
  p.writeUInt8(compressed, 0);
  p.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([p, payload]);
}

// ---- @grpc/grpc-js ------------------------------------------------------------

export function grpcClient(addr, options = {}) {
  return new grpc.Client(addr, grpc.credentials.createInsecure(), options);
}

// One unary call with raw bytes. Resolves { code, details, response, metadata }
// (code 0 with the response bytes on success); never rejects.
export function grpcCall(client, method, body, { metadata = {}, deadlineMs } = {}) {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const opts = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, (b) => b, (b) => b, body, md, opts, (err, response) => {
      if (err) resolve({ code: err.code, details: err.details, metadata: err.metadata });
      else resolve({ code: 0, response });
    });
  });
}

export const Status = grpc.status;

// ---- raw HTTP/2 -------------------------------------------------------------------

export function h2connect(url) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url);
    s.once('error', reject);
    s.once('connect', () => {
      s.removeListener('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
  });
}

// Sends one request on an HTTP/2 session. `chunks` are written one by one
// (each becomes its own DATA frame); `end: false` leaves the request open.
// Resolves { status, headers, trailers, grpcStatus, grpcMessage, data, rstCode }
// once the stream closes; never rejects.
export function h2call(session, path, { headers = {}, chunks = [], end = true, method = 'POST', onStream } = {}) {
  return new Promise((resolve) => {
    const req = session.request({
      ':method': method, ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers,
    }, { endStream: false });
    const res = { status: 0, headers: {}, trailers: {}, data: Buffer.alloc(0), error: null };
    const parts = [];
    req.on('response', (h) => { res.status = h[':status']; res.headers = h; });
    req.on('trailers', (t) => { res.trailers = t; });
    req.on('data', (d) => parts.push(d));
    req.on('error', (e) => { res.error = e; });
    req.on('close', () => {
      res.data = Buffer.concat(parts);
      res.rstCode = req.rstCode;
      const st = res.trailers['grpc-status'] ?? res.headers['grpc-status'];
      res.grpcStatus = st === undefined ? undefined : Number(st);
      res.grpcMessage = res.trailers['grpc-message'] ?? res.headers['grpc-message'];
      resolve(res);
    });
    for (const c of chunks) req.write(c);
    if (end) req.end();
    if (onStream) onStream(req);
  });
}
