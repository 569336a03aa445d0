// Backpressure: a slowed writer (the test hook LOUPE_TEST_WRITER_DELAY_MS,
// a sleep before every transaction) and a small ring (--ring-size 1MiB,
// about 12 requests of 64 spans) make the receivers refuse with the
// retryable OTLP answers: HTTP 503 + Retry-After, gRPC UNAVAILABLE. A
// refused request is refused whole (nothing of it is stored), and clients
// that retry as OTLP says get everything stored in the end:
//  - the official OTLP/HTTP exporters (protobuf and JSON, traces and logs),
//    whose RetryingTransport honours Retry-After;
//  - for OTLP/gRPC, @grpc/grpc-js with a retry policy for UNAVAILABLE in its
//    service config (as the Go and Java exporters configure theirs). The
//    official JS gRPC exporter (0.223) does not retry at all: its transport
//    reports every gRPC error as a failure and takes no channel options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { startLoupe } from './lib/server.mjs';
import { TRACES, grpcClient, grpcCall, Status } from './lib/grpc.mjs';
import { LoadGen, Ledger, post, getApi, pool, allLogBodies, serviceCounts } from './lib/load.mjs';

const DELAY_MS = 250;
let srv;

before(async () => {
  srv = await startLoupe({
    storage: 'sqlite',
    args: ['--ring-size', '1MiB'],
    env: { LOUPE_TEST_WRITER_DELAY_MS: String(DELAY_MS) },
  });
});
after(async () => {
  const res = await srv?.stop();
  assert.equal(res?.code, 0, `clean exit\n${srv?.stderr}`);
});

// Fetches every trace the ledger sent: acknowledged spans must be there,
// refused requests' spans must not (a refusal is whole).
async function checkTraces(ledger, { refusedMustBeAbsent = false } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let present = 0;
  await pool([...ledger.sentSpans.keys()], 8, async (traceId) => {
    const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
    const acked = ledger.ackedSpans.get(traceId) || new Set();
    const got = status === 200 ? new Set(body.spans.map((s) => s.spanId)) : new Set();
    assert.ok(status === 200 || status === 404, `trace ${traceId}: ${status}`);
    for (const id of acked) assert.ok(got.has(id), `acknowledged span ${id} of ${traceId} missing`);
    if (refusedMustBeAbsent) for (const id of got) assert.ok(acked.has(id), `span ${id} of a refused request was stored`);
    present += got.size;
  });
  agent.destroy();
  return present;
}

// loupe_requests_total{transport="grpc",outcome="backpressure"} from GET /metrics.
async function grpcRefusals() {
  const text = await (await fetch(`${srv.uiUrl}/metrics`)).text();
  const m = /^loupe_requests_total\{transport="grpc",outcome="backpressure"\} (\d+)$/m.exec(text);
  assert.ok(m, 'the gRPC backpressure counter is exported');
  return Number(m[1]);
}

test('the test hook is announced', () => {
  assert.match(srv.stderr, new RegExp(`level=warn event=store_test_writer_delay delay_ms=${DELAY_MS}`));
});

test('a burst over OTLP/HTTP: 503 + Retry-After beyond the ring, refused requests stored not at all', async () => {
  const gen = new LoadGen('bp-burst-http');
  const ledger = new Ledger();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const reqs = Array.from({ length: 30 }, () => gen.traceRequest({ traces: 4, spansPerTrace: 16, split: false }));
  reqs.forEach((r) => ledger.sent(r));
  const res = await Promise.all(reqs.map((r) => post(agent, `${srv.httpUrl}/v1/traces`, r.body)));
  agent.destroy();
  res.forEach((r, i) => {
    assert.ok(r.status === 200 || r.status === 503, `answer ${r.status ?? r.error?.message}`);
    if (r.status === 200) ledger.acked(reqs[i]);
    else assert.equal(r.headers['retry-after'], '1');
  });
  const ok = res.filter((r) => r.status === 200).length;
  assert.ok(ok >= 1 && ok < 30, `${ok} of 30 accepted: the ring takes some, refuses the rest`);
  const present = await checkTraces(ledger, { refusedMustBeAbsent: true });
  assert.equal(present, ok * 64);
  assert.equal((await serviceCounts(new http.Agent(), srv.uiUrl, gen.service)).spans, ok * 64);
});

test('a burst over OTLP/gRPC: UNAVAILABLE beyond the ring', async () => {
  const gen = new LoadGen('bp-burst-grpc');
  const client = grpcClient(srv.grpcAddr);
  const reqs = Array.from({ length: 30 }, () => gen.traceRequest({ traces: 4, spansPerTrace: 16, split: false }));
  const res = await Promise.all(reqs.map((r) => grpcCall(client, TRACES, r.body, { deadlineMs: 30000 })));
  client.close();
  const codes = res.map((r) => r.code);
  assert.ok(codes.every((c) => c === 0 || c === Status.UNAVAILABLE), `codes ${codes}`);
  const refused = res.filter((r) => r.code === Status.UNAVAILABLE);
  assert.ok(refused.length > 0 && refused.length < 30, `${refused.length} of 30 refused`);
  assert.match(refused[0].details, /queue full|retry/i);
  const ok = 30 - refused.length;
  assert.equal((await serviceCounts(new http.Agent(), srv.uiUrl, gen.service)).spans, ok * 64);
});

test('official OTLP/HTTP exporters retry on 503 until every span and log is stored', { timeout: 120000 }, async (t) => {
  // the exporters report their retries through the diag logger
  const retries = [];
  diag.setLogger({
    verbose: (m) => { if (/Scheduling export retry/.test(m)) retries.push(m); },
    debug: () => {}, info: () => {}, warn: () => {}, error: () => {},
  }, DiagLogLevel.ALL);
  const traceGen = new LoadGen('bp-exporters');
  const logGen = new LoadGen('bp-exporters-logs');
  const ledger = new Ledger();
  const opts = { timeoutMillis: 30000 };
  const exporters = [
    new TraceProto({ url: `${srv.httpUrl}/v1/traces`, ...opts }),
    new TraceJson({ url: `${srv.httpUrl}/v1/traces`, ...opts }),
  ];
  const logExporter = new LogsProto({ url: `${srv.httpUrl}/v1/logs`, ...opts });
  const exportOnce = (exp, records) => new Promise((resolve) => exp.export(records, resolve));
  const rejectedBefore = (srv.stderr.match(/event=otlp_http_error status=503/g) || []).length;
  // 2 trace exporters x 6 exports of 64 spans + 6 log exports of 128 records,
  // all at once: about twice what the ring holds
  const jobs = [];
  for (const exp of exporters) {
    for (let i = 0; i < 6; i++) {
      const r = traceGen.traceRecords({ traces: 4, spansPerTrace: 16, split: false });
      ledger.sent(r);
      jobs.push(exportOnce(exp, r.records).then((res) => ({ res, r })));
    }
  }
  for (let i = 0; i < 6; i++) {
    const r = logGen.logRecords({ logs: 128 });
    ledger.sent(r);
    jobs.push(exportOnce(logExporter, r.records).then((res) => ({ res, r })));
  }
  const done = await Promise.all(jobs);
  diag.disable();
  for (const { res, r } of done) {
    assert.equal(res.code, 0, `export failed: ${res.error?.message}`);
    ledger.acked(r);
  }
  const rejected = (srv.stderr.match(/event=otlp_http_error status=503/g) || []).length - rejectedBefore;
  t.diagnostic(`${retries.length} exporter retries, ${rejected} answers 503`);
  assert.ok(rejected > 0, 'the receivers answered 503');
  assert.ok(retries.length >= rejected, 'each 503 was retried by its exporter');
  assert.equal(await checkTraces(ledger), 12 * 64);
  const bodies = new Set(await allLogBodies(new http.Agent(), srv.uiUrl, logGen.service));
  for (const b of ledger.ackedLogs) assert.ok(bodies.has(b), `log "${b}" missing`);
  assert.equal(bodies.size, 6 * 128);
  await Promise.all([...exporters, logExporter].map((e) => e.shutdown()));
});

test('gRPC clients retrying UNAVAILABLE (grpc-js retry policy) get every span stored', { timeout: 120000 }, async () => {
  const serviceConfig = {
    methodConfig: [{
      name: [{ service: 'opentelemetry.proto.collector.trace.v1.TraceService' }],
      retryPolicy: {
        maxAttempts: 5, initialBackoff: '1s', maxBackoff: '5s', backoffMultiplier: 1.5,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    }],
  };
  const client = grpcClient(srv.grpcAddr, {
    'grpc.service_config': JSON.stringify(serviceConfig),
    'grpc.per_rpc_retry_buffer_size': 8 << 20,
    'grpc.retry_buffer_size': 64 << 20,
  });
  const gen = new LoadGen('bp-grpc-retry');
  const ledger = new Ledger();
  const reqs = Array.from({ length: 20 }, () => gen.traceRequest({ traces: 4, spansPerTrace: 16, split: false }));
  reqs.forEach((r) => ledger.sent(r));
  const refusedBefore = await grpcRefusals();
  const res = await Promise.all(reqs.map((r) => grpcCall(client, TRACES, r.body, { deadlineMs: 60000 })));
  client.close();
  res.forEach((r, i) => {
    assert.equal(r.code, 0, `call ${i}: ${r.code} ${r.details}`);
    ledger.acked(reqs[i]);
  });
  // every call succeeded, yet the server refused some attempts: those were retried
  assert.ok(await grpcRefusals() > refusedBefore, 'the server answered UNAVAILABLE to some attempts');
  assert.equal(await checkTraces(ledger), 20 * 64);
});

test('each backpressure episode is one log line at its start and one at its end', () => {
  const starts = (srv.stderr.match(/level=warn event=store_backpressure signal=\w+ ring_bytes=\d+ ring_max_bytes=\d+/g) || []).length;
  const ends = (srv.stderr.match(/level=info event=store_backpressure_end refused_items=[1-9]\d*/g) || []).length;
  const refusals = (srv.stderr.match(/event=otlp_http_error status=503/g) || []).length;
  assert.ok(starts >= 1, 'an episode started');
  assert.ok(ends >= 1, 'an episode ended: a later append was taken');
  assert.ok(ends <= starts && starts <= ends + 1, `${starts} starts, ${ends} ends`);
  assert.ok(starts < refusals, `fewer lines (${starts}) than refused HTTP requests (${refusals})`);
});
