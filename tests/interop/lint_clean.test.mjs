// The instrumentation lint finds nothing in clean telemetry: three Node HTTP
// services instrumented by the official SDK's own instrumentation
// (@opentelemetry/instrumentation-http with sdk-node, see
// tests/interop/apps/http-service.mjs), frontend -> checkout -> payments
// with a database call and failing requests, exporting spans and metrics.
// To know that the lint has judged everything (orphans are judged after a
// grace period), a canary orphan is sent last: once it is reported, every
// span that came before it has been judged too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startLoupe, getJson, freePorts } from './lib/server.mjs';
import { exporters } from './lib/telemetry.mjs';
import { waitFor } from './lib/cli.mjs';
import { startHttpService, httpGet } from './lib/apps.mjs';

const REQUESTS = 20;
const APP_ENV = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '500' };

test('spans and metrics of the official HTTP instrumentation yield no finding', { timeout: 120000 }, async () => {
  const srv = await startLoupe({ args: ['--lint-orphan-grace', '1s'] });
  const [pPay, pCheck, pFront] = await freePorts(3);
  const apps = [
    startHttpService('payments', pPay, ['--fail-every', '4'], srv, APP_ENV),
    startHttpService('checkout', pCheck, [`http://127.0.0.1:${pPay}`, '--db'], srv, APP_ENV),
    startHttpService('frontend', pFront, [`http://127.0.0.1:${pCheck}`], srv, APP_ENV),
  ];
  try {
    await Promise.all(apps.map((a) => a.ready));
    const statuses = [];
    for (let i = 0; i < REQUESTS; i++) statuses.push(await httpGet(`http://127.0.0.1:${pFront}/work`));
    assert.equal(statuses.filter((s) => s !== 200).length, REQUESTS / 4);
    // metrics exported at least once by each service before it stops
    await waitFor(async () => {
      const m = (await getJson(srv, '/api/v1/metrics')).body.metrics || [];
      return ['frontend', 'checkout', 'payments'].every((s) => m.some((x) => x.service === s));
    }, { timeoutMs: 20000, what: 'every service\'s metrics' });
    for (const a of apps) a.proc.kill('SIGTERM');
    await Promise.all(apps.map((a) => a.exited));
    await waitFor(async () => {
      const s = (await getJson(srv, '/api/v1/services')).body.services;
      return s.reduce((n, x) => n + x.spanCount, 0) >= REQUESTS * 6;
    }, { timeoutMs: 20000, what: 'every span' });

    // the canary: an orphan sent after everything else
    const exp = exporters(srv, 'http/protobuf');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'canary' }),
      spanProcessors: [new SimpleSpanProcessor(exp.traces)],
    });
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED, isRemote: true,
    });
    provider.getTracer('canary').startSpan('GET /canary', { kind: SpanKind.SERVER }, remote).end();
    await provider.forceFlush();
    await provider.shutdown();
    const doc = await waitFor(async () => {
      const d = (await getJson(srv, '/api/v1/lint')).body;
      return d.findings.some((f) => f.service === 'canary' && f.rule === 'orphan-span') ? d : null;
    }, { timeoutMs: 15000, what: 'the canary orphan' });

    const others = doc.findings.filter((f) => f.service !== 'canary');
    assert.deepEqual(others.map((f) => `${f.rule} ${f.service} ${f.key} ${f.count}: ${f.detail}`), []);
    assert.deepEqual(doc.findings.map((f) => f.rule), ['orphan-span']);
    for (const s of ['frontend', 'checkout', 'payments']) {
      const r = await getJson(srv, `/api/v1/lint?service=${s}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.summary, { error: 0, warning: 0, info: 0 }, s);
    }
  } finally {
    for (const a of apps) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await srv.stop();
  }
});
