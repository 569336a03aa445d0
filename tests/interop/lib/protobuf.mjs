// protobuf.mjs - a tiny protobuf writer and reader for hand-made OTLP bodies.
//
// Tests that feed loupe malformed or unusual protobuf need exact control of
// the bytes, which the official exporters do not give. Only what the tests
// use is here: varints, length-delimited fields, fixed64, and a flat reader.

export function varint(n) {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // two's complement, as protobuf encodes int64
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

const key = (field, wire) => varint((field << 3) | wire);

// A length-delimited field (string, bytes or embedded message).
export function bytesField(field, data) {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([key(field, 2), varint(b.length), b]);
}

export const str = (field, s) => bytesField(field, Buffer.from(s, 'utf8'));
export const msg = (field, ...parts) => bytesField(field, Buffer.concat(parts));
export const uint = (field, v) => Buffer.concat([key(field, 0), varint(v)]);

export function fixed64(field, v) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return Buffer.concat([key(field, 1), b]);
}

// Reads one message level into [{field, wire, value}] (value: BigInt for
// varints and fixed64, Buffer for length-delimited). Throws on bad input.
export function parseFields(buf) {
  const out = [];
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
    throw new Error('varint too long');
  };
  while (i < buf.length) {
    const k = Number(readVarint());
    const field = k >> 3;
    const wire = k & 7;
    if (wire === 0) out.push({ field, wire, value: readVarint() });
    else if (wire === 1) {
      if (i + 8 > buf.length) throw new Error('truncated fixed64');
      out.push({ field, wire, value: buf.readBigUInt64LE(i) });
      i += 8;
    } else if (wire === 2) {
      const len = Number(readVarint());
      if (i + len > buf.length) throw new Error('truncated bytes');
      out.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) {
      if (i + 4 > buf.length) throw new Error('truncated fixed32');
      out.push({ field, wire, value: BigInt(buf.readUInt32LE(i)) });
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

// google.rpc.Status {code = 1, message = 2}.
export function decodeStatus(buf) {
  const st = { code: 0, message: '' };
  for (const f of parseFields(buf)) {
    if (f.field === 1 && f.wire === 0) st.code = Number(f.value);
    if (f.field === 2 && f.wire === 2) st.message = f.value.toString('utf8');
  }
  return st;
}

// Export*ServiceResponse {partial_success = 1 {rejected = 1, error_message = 2}}.
export function decodeExportResponse(buf) {
  const res = { rejected: 0, errorMessage: '', hasPartialSuccess: false };
  for (const f of parseFields(buf)) {
    if (f.field !== 1 || f.wire !== 2) continue;
    res.hasPartialSuccess = true;
    for (const g of parseFields(f.value)) {
      if (g.field === 1 && g.wire === 0) res.rejected = Number(g.value);
      if (g.field === 2 && g.wire === 2) res.errorMessage = g.value.toString('utf8');
    }
  }
  return res;
}

// An ExportLogsServiceRequest with one resource (service.name = service)
// and one scope. records: [{body, timeNs, traceId (Buffer), spanId (Buffer)}].
export function logsRequestPb(service, records) {
  const kv = (k, v) => Buffer.concat([str(1, k), msg(2, str(1, v))]);
  const logRecords = records.map((r) =>
    msg(
      2,
      fixed64(1, r.timeNs),
      uint(2, 9),
      str(3, 'INFO'),
      msg(5, str(1, r.body)),
      ...(r.traceId ? [bytesField(9, r.traceId)] : []),
      ...(r.spanId ? [bytesField(10, r.spanId)] : []),
    ));
  return msg(
    1,
    msg(1, msg(1, kv('service.name', service))),
    msg(2, msg(1, str(1, 'otlp-http-errors-test')), ...logRecords),
  );
}
