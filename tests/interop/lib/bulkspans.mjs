// bulkspans.mjs - many spans (or log records) quickly over gRPC, each with a
// dozen attributes of distinct values, so that a substring search (q, attr~) has to read
// every stored attribute object: the load that makes a query slow.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { grpcClient, grpcCall, LOGS, TRACES } from './grpc.mjs';
import { bytesField, str, msg, uint, fixed64 } from './protobuf.mjs';

const PER_REQUEST = 500;

function spanBytes(traceId, i, now) {
  return msg(2, bytesField(1, traceId), bytesField(2, randomBytes(8)), str(5, `op-${i % 50}`), uint(6, 2),
    fixed64(7, now + BigInt(i)), fixed64(8, now + BigInt(i) + 1000n), ...attrsOf(i, 9));
}

// A dozen KeyValues as field `field` (9 in a Span, 6 in a LogRecord).
function attrsOf(i, field) {
  const out = [];
  for (let k = 0; k < 12; k++) {
    out.push(msg(field, str(1, `app.field${k}`), msg(2, str(1, `value-${k}-${i}-${randomBytes(6).toString('hex')}`))));
  }
  return out;
}

function request(n, base, service) {
  const now = BigInt(Date.now()) * 1000000n;
  const spans = [];
  for (let i = 0; i < n; i++) spans.push(spanBytes(randomBytes(16), base + i, now));
  const resource = msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, service))));
  return msg(1, resource, msg(2, msg(1, str(1, 'scope')), ...spans));
}

// Sends `count` spans (one per trace) of `service`, PER_REQUEST per
// request, each acknowledged before the next.
export async function loadBulkSpans(srv, count, service = 'deadline-svc') {
  const client = grpcClient(srv.grpcAddr);
  try {
    for (let i = 0; i < count / PER_REQUEST; i++) {
      const r = await grpcCall(client, TRACES, request(PER_REQUEST, i * PER_REQUEST, service));
      assert.equal(r.code, 0, r.details);
      assert.equal(r.response.length, 0, 'no partial success: every span accepted');
    }
  } finally {
    client.close();
  }
}

function logsRequest(n, base, service) {
  const now = BigInt(Date.now()) * 1000000n;
  const records = [];
  for (let i = 0; i < n; i++) {
    records.push(msg(2, fixed64(1, now + BigInt(base + i)), uint(2, 9),
      msg(5, str(1, `request ${base + i} served in ${i % 97} ms for user-${randomBytes(4).toString('hex')}`)),
      ...attrsOf(base + i, 6)));
  }
  const resource = msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, service))));
  return msg(1, resource, msg(2, msg(1, str(1, 'scope')), ...records));
}

// The same for log records.
export async function loadBulkLogs(srv, count, service = 'deadline-svc') {
  const client = grpcClient(srv.grpcAddr);
  try {
    for (let i = 0; i < count / PER_REQUEST; i++) {
      const r = await grpcCall(client, LOGS, logsRequest(PER_REQUEST, i * PER_REQUEST, service));
      assert.equal(r.code, 0, r.details);
      assert.equal(r.response.length, 0, 'no partial success: every record accepted');
    }
  } finally {
    client.close();
  }
}
