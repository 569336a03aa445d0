// http-service.mjs - a small HTTP service instrumented with the official
// OpenTelemetry Node SDK and its HTTP auto-instrumentation, configured by
// the standard environment variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_SERVICE_NAME, ...), for the service map and RED tests.
//
//   node http-service.mjs PORT [DOWNSTREAM_URL] [--db] [--fail-every N]
//
// GET /work calls DOWNSTREAM_URL/work (when given) and, with --db, makes a
// database-like CLIENT span (db.system.name=postgresql, server.address=db);
// with --fail-every N every Nth request answers 500. It prints "ready" once
// listening, and on SIGTERM flushes its telemetry and exits.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createRequire } from 'node:module';

const sdk = new NodeSDK({ instrumentations: [new HttpInstrumentation()] });
sdk.start();

// CommonJS require, so the instrumentation (which patches require()) sees it
const http = createRequire(import.meta.url)('http');
const args = process.argv.slice(2);
const failIdx = args.indexOf('--fail-every');
const failEvery = failIdx >= 0 ? Number(args[failIdx + 1]) : 0;
if (failIdx >= 0) args.splice(failIdx, 2);
const db = args.includes('--db');
const [portArg, downstream] = args.filter((a) => !a.startsWith('--'));
const tracer = trace.getTracer('http-service');
let n = 0;

function callDownstream() {
  return new Promise((resolve) => {
    const req = http.get(`${downstream}/work`, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', () => resolve(0));
  });
}

const server = http.createServer(async (req, res) => {
  n++;
  let status = 200;
  if (downstream) {
    const s = await callDownstream();
    if (s !== 200) status = 502;
  }
  if (db) {
    const span = tracer.startSpan('SELECT orders', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'server.address': 'db', 'db.query.text': 'SELECT * FROM orders' },
    });
    await new Promise((r) => setTimeout(r, 2));
    span.end();
  }
  if (failEvery && n % failEvery === 0) status = 500;
  if (status !== 200) {
    trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR });
  }
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(String(status));
});
server.listen(Number(portArg), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', async () => {
  server.close();
  await sdk.shutdown();
  process.exit(0);
});
