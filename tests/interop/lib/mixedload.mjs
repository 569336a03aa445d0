// The mixed load of the durability tests (store_crash, store_sigterm) and
// the check that follows a restart: every acknowledged span and log is
// stored, nothing unsent appears, and the stored summaries agree with the
// spans.
import assert from 'node:assert/strict';
import http from 'node:http';
import { TRACES, grpcClient, grpcCall } from './grpc.mjs';
import { LoadGen, Ledger, post, getApi, pool, allLogBodies, serviceCounts } from './load.mjs';

// A round's record: one generator per sender kind (their service names
// start with `prefix`), the ledger of sent and acknowledged items, and the
// sender errors seen before the server was stopped.
export function newRound(prefix, round) {
  return {
    round,
    http: new LoadGen(`${prefix}-http-r${round}`),
    grpc: new LoadGen(`${prefix}-grpc-r${round}`),
    logs: new LoadGen(`${prefix}-logs-r${round}`),
    ledger: new Ledger(),
    errorsBeforeStop: [],
  };
}

// Loads srv through its real receivers: `httpTraceSenders` OTLP/HTTP trace
// senders, one OTLP/gRPC trace sender per `grpcTraceSenders`, two OTLP/HTTP
// log senders; 4 traces of 16 spans or 64 logs per request, each recorded
// in rec.ledger. Senders go on while running() holds. Once stopped() holds
// (the server was killed or signalled) a failed or refused request ends a
// sender; before that a failure is recorded in rec.errorsBeforeStop.
// Returns { done: a promise of every sender's end, close() }.
export function startMixedLoad(srv, rec, { running, stopped, httpTraceSenders, grpcTraceSenders, timeoutMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const client = grpcClient(srv.grpcAddr);
  const failed = (what) => { if (!stopped()) rec.errorsBeforeStop.push(what); };
  const httpSender = (gen, path, make) => async () => {
    while (running()) {
      const req = make(gen);
      rec.ledger.sent(req);
      const r = await post(agent, `${srv.httpUrl}${path}`, req.body, timeoutMs);
      if (r.status === 200) rec.ledger.acked(req);
      if (r.status) rec.ledger.answer(r.status);
      else { failed(`${path}: ${r.error.message}`); return; }
      if (stopped() && r.status !== 200) return;
    }
  };
  const httpTraces = httpSender(rec.http, '/v1/traces', (g) => g.traceRequest({ traces: 4, spansPerTrace: 16 }));
  const httpLogs = httpSender(rec.logs, '/v1/logs', (g) => g.logRequest({ logs: 64 }));
  const grpcTraces = async () => {
    while (running()) {
      const req = rec.grpc.traceRequest({ traces: 4, spansPerTrace: 16 });
      rec.ledger.sent(req);
      const r = await grpcCall(client, TRACES, req.body, { deadlineMs: timeoutMs });
      if (r.code === 0) rec.ledger.acked(req);
      else { failed(`grpc: ${r.code} ${r.details}`); if (stopped()) return; }
    }
  };
  const senders = [];
  for (let i = 0; i < httpTraceSenders; i++) senders.push(httpTraces());
  for (let i = 0; i < grpcTraceSenders; i++) senders.push(grpcTraces());
  senders.push(httpLogs(), httpLogs());
  return {
    done: Promise.all(senders),
    close() { client.close(); agent.destroy(); },
  };
}

// Checks one round's data against a running server. Every acknowledged
// span and log is there; nothing appears that was not sent; a trace whose
// spans were all acknowledged is complete; the services' counters equal
// what the traces and the log list hold. With evicting = true (retention
// is removing the oldest) only consistency is checked: a trace is whole or
// gone, and the counters match.
export async function verifyRound(srv, rec, { evicting = false } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    // traces, by the service that sent them
    const byService = new Map([[rec.http.service, []], [rec.grpc.service, []]]);
    for (const [traceId, service] of rec.ledger.traceService) byService.get(service).push(traceId);
    for (const [service, traceIds] of byService) {
      let present = 0;
      let errors = 0;
      // While retention is still evicting after the restart the walk below
      // is not one snapshot; nothing is added meanwhile, so the spans seen
      // lie between the counts after and before the walk.
      const before = evicting ? await serviceCounts(agent, srv.uiUrl, service) : null;
      await pool(traceIds, 16, async (traceId) => {
        const { status, body } = await getApi(agent, `${srv.uiUrl}/api/v1/traces/${traceId}`);
        const sent = rec.ledger.sentSpans.get(traceId);
        const acked = rec.ledger.ackedSpans.get(traceId) || new Set();
        if (status === 404) {
          if (!evicting) assert.equal(acked.size, 0, `round ${rec.round}: trace ${traceId} with ${acked.size} acknowledged spans is missing`);
          return;
        }
        assert.equal(status, 200, `trace ${traceId}: ${status}`);
        const got = new Set(body.spans.map((s) => s.spanId));
        assert.equal(got.size, body.spans.length, `trace ${traceId}: a span is stored twice`);
        for (const id of acked) assert.ok(got.has(id), `round ${rec.round}: acknowledged span ${id} of trace ${traceId} is missing`);
        for (const id of got) assert.ok(sent.has(id), `trace ${traceId}: span ${id} was never sent`);
        if (acked.size === sent.size) assert.equal(got.size, sent.size, `trace ${traceId} is incomplete`);
        for (const s of body.spans) assert.equal(s.service, service);
        present += got.size;
        errors += body.spans.filter((s) => s.status.code === 'STATUS_CODE_ERROR' || s.status.code === 'ERROR').length;
      });
      const counts = await serviceCounts(agent, srv.uiUrl, service);
      if (evicting && counts.spans !== before.spans) {
        assert.ok(counts.spans <= present && present <= before.spans,
          `round ${rec.round}: ${service} held ${before.spans} then ${counts.spans} spans, but its traces hold ${present}`);
      } else {
        assert.equal(counts.spans, present, `round ${rec.round}: ${service} spanCount ${counts.spans} but its traces hold ${present} spans`);
        assert.equal(counts.errors, errors, `round ${rec.round}: ${service} errorCount`);
      }
    }
    // logs
    const logsBefore = evicting ? await serviceCounts(agent, srv.uiUrl, rec.logs.service) : null;
    const bodies = await allLogBodies(agent, srv.uiUrl, rec.logs.service);
    const got = new Set(bodies);
    assert.equal(got.size, bodies.length, 'a log record is stored twice');
    if (!evicting) for (const b of rec.ledger.ackedLogs) assert.ok(got.has(b), `round ${rec.round}: acknowledged log "${b}" is missing`);
    for (const b of got) assert.ok(rec.ledger.sentLogs.has(b), `log "${b}" was never sent`);
    const counts = await serviceCounts(agent, srv.uiUrl, rec.logs.service);
    if (evicting && counts.logs !== logsBefore.logs) {
      assert.ok(counts.logs <= bodies.length && bodies.length <= logsBefore.logs,
        `round ${rec.round}: held ${logsBefore.logs} then ${counts.logs} logs, but ${bodies.length} listed`);
    } else {
      assert.equal(counts.logs, bodies.length, `round ${rec.round}: logCount ${counts.logs} but ${bodies.length} listed`);
    }
  } finally {
    agent.destroy();
  }
}
