// OTLP API keys through the official exporters: every signal over every
// protocol (gRPC, HTTP/protobuf, HTTP/JSON) without a key, with a wrong key,
// with the primary key and with the secondary key. Refused exports must fail
// at the exporter and leave nothing behind; accepted ones are all stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters, sendTraces, sendLogs, sendMetrics } from './lib/telemetry.mjs';

const PRIMARY = 'primary-key-0123456789';
const SECONDARY = 'secondary-key-9876543210';

let srv;
before(async () => {
  srv = await startLoupe({ args: ['--otlp-api-key', PRIMARY, '--otlp-api-key-secondary', SECONDARY] });
});
after(async () => {
  const res = await srv?.stop();
  assert.equal(res?.code, 0, `loupe exit ${JSON.stringify(res)}\n${srv?.stderr}`);
});

// Credentials as an exporter is configured with them (OTEL_EXPORTER_OTLP_HEADERS
// ends up in the same options).
const CREDS = {
  none: {},
  wrong: { 'x-otlp-api-key': `${PRIMARY}x` },
  'wrong bearer': { authorization: `Bearer ${SECONDARY.slice(0, -1)}` },
  primary: { 'x-otlp-api-key': PRIMARY },
  'secondary as bearer': { authorization: `Bearer ${SECONDARY}` },
};

async function counts(service) {
  const { status, body } = await getJson(srv, '/api/v1/services');
  assert.equal(status, 200);
  const s = body.services.find((x) => x.name === service);
  return s ? { spans: s.spanCount, logs: s.logCount, metrics: s.metricCount } : { spans: 0, logs: 0, metrics: 0 };
}

for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
  for (const [cred, headers] of Object.entries(CREDS)) {
    const allowed = cred === 'primary' || cred === 'secondary as bearer';
    test(`${protocol}, ${cred}: ${allowed ? 'accepted and stored' : 'refused, nothing stored'}`, async () => {
      const service = `auth-${protocol.replace('/', '-')}-${cred.replace(/ /g, '-')}`;
      const exp = exporters(srv, protocol, false, headers);
      try {
        // A refused export fails at the exporter: a failed result, or (for
        // metrics and some flushes) a rejected flush carrying the same error.
        const outcomes = {};
        for (const [signal, send] of [['traces', sendTraces], ['logs', sendLogs], ['metrics', sendMetrics]]) {
          try {
            outcomes[signal] = { r: await send(exp, service) };
          } catch (err) {
            outcomes[signal] = { err };
          }
        }
        for (const [signal, { r, err }] of Object.entries(outcomes)) {
          if (allowed) {
            assert.equal(err, undefined, `${signal}: ${err}`);
            assert.ok(r.results.length > 0, `${signal}: the exporter exported`);
            for (const res of r.results) assert.equal(res.code, 0, `${signal}: ${res.error?.message}`);
          } else {
            const errors = err ? [err] : r.results.filter((x) => x.code !== 0).map((x) => x.error);
            assert.ok(errors.length > 0, `${signal}: must be refused`);
            if (r) assert.ok(r.results.every((x) => x.code !== 0), `${signal}: no export succeeded`);
            for (const e of errors) {
              assert.match(String(e?.message || e), /Unauthorized|UNAUTHENTICATED/, `${signal}: ${e}`);
            }
          }
        }
        const t = outcomes.traces.r;
        const l = outcomes.logs.r;
        const c = await counts(service);
        if (allowed) {
          assert.equal(c.spans, t.spans.length, 'every exported span stored');
          assert.equal(c.logs, l.records.length, 'every exported log stored');
          assert.ok(c.metrics > 0, 'metrics stored');
        } else {
          assert.deepEqual(c, { spans: 0, logs: 0, metrics: 0 });
        }
      } finally {
        await Promise.all(Object.values(exp).map((e) => e.shutdown().catch(() => {})));
      }
    });
  }
}
