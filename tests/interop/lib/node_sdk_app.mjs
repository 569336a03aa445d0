// node_sdk_app.mjs - an app on the official Node.js SDK
// (@opentelemetry/sdk-node) configured by its environment alone, as the
// onboarding tells a user to run one: `new NodeSDK()` with no options reads
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf
// when unset), OTEL_SERVICE_NAME and the rest itself, and exports traces,
// logs and metrics over OTLP.
//
//   node node_sdk_app.mjs RUN
//
// Records one span named "onboarding RUN", one log record inside it and one
// increment of the counter onboarding.checks with the attribute run=RUN,
// then shuts the SDK down (which exports every signal) and prints one JSON
// line: {traceId}.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { metrics, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';

const run = process.argv[2];
if (!run) {
  console.error('usage: node node_sdk_app.mjs RUN');
  process.exit(2);
}
const sdk = new NodeSDK();
sdk.start();
const tracer = trace.getTracer('loupe-onboarding');
const logger = logs.getLogger('loupe-onboarding');
const counter = metrics.getMeter('loupe-onboarding').createCounter('onboarding.checks');
let traceId = '';
tracer.startActiveSpan(`onboarding ${run}`, (span) => {
  traceId = span.spanContext().traceId;
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `onboarding check ${run}` });
  counter.add(1, { run });
  span.end();
});
await sdk.shutdown();
console.log(JSON.stringify({ traceId }));
process.exit(0); // a gRPC exporter's channel may hold the event loop a while
