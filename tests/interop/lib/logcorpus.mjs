// logcorpus.mjs - log records of known templates for the log pattern tests:
// a few dozen templates whose variable parts (numbers, ids, hex, durations,
// quoted values, IPs, UUIDs, paths, emails, URLs, times, plain words) are
// filled at random from a seeded generator, plus real-looking records of the
// kinds Node services write (access lines, stack traces, pino-style map
// bodies). Each record says which template it came from, so a test can
// check which pattern loupe gave it. Sent with the official SDK and OTLP
// exporters (sendCorpus).
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

// A small seeded generator (xorshift32), so a failure can be replayed.
export function rng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  return { below: (n) => next() % n, pick: (a) => a[next() % a.length] };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'kilo',
  'lima', 'mike', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'victor', 'whiskey'];
const hex = (r, n) => Array.from({ length: n }, () => '0123456789abcdef'[r.below(16)]).join('');

const SLOTS = {
  int: (r) => String(r.below(100000)),
  status: (r) => String(r.pick([200, 201, 204, 301, 400, 404, 500, 503])),
  float: (r) => `${r.below(1000)}.${String(r.below(1000)).padStart(3, '0')}`,
  dur: (r) => r.pick([
    () => `${1 + r.below(5000)}ms`, () => `${r.below(60)}.${r.below(10)}s`,
    () => `${1 + r.below(900)}us`, () => `${1 + r.below(59)}m${r.below(60)}s`])(),
  q: (r) => `"${r.pick(WORDS)} ${r.pick(WORDS)} ${r.below(100)}"`,
  sq: (r) => `'${r.pick(WORDS)}-${r.below(1000)}'`,
  ip: (r) => `10.${r.below(256)}.${r.below(256)}.${1 + r.below(254)}`,
  ipport: (r) => `192.168.${r.below(256)}.${1 + r.below(254)}:${1024 + r.below(60000)}`,
  ip6: (r) => `2001:db8::${(1 + r.below(0xfff0)).toString(16)}:${(1 + r.below(0xfff0)).toString(16)}`,
  uuid: (r) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`,
  hex: (r) => `0x${hex(r, 8)}`,
  hexid: (r) => `${'123456789abcdef'[r.below(15)]}${hex(r, 15)}`,
  path: (r) => (r.below(2) ? `/api/v1/${r.pick(WORDS)}/${r.below(10000)}` : `/var/lib/app/${r.pick(WORDS)}-${r.below(10000)}.db`),
  email: (r) => `${r.pick(WORDS)}${r.below(1000)}@example.com`,
  user: (r) => `user-${r.below(500000)}`,
  order: (r) => `ord-${'123456789abcdef'[r.below(15)]}${hex(r, 7)}`,
  word: (r) => r.pick(WORDS),
  time: (r) => `2026-${String(1 + r.below(12)).padStart(2, '0')}-${String(1 + r.below(28)).padStart(2, '0')}T${String(r.below(24)).padStart(2, '0')}:${String(r.below(60)).padStart(2, '0')}:${String(r.below(60)).padStart(2, '0')}.${String(r.below(1000)).padStart(3, '0')}Z`,
  url: (r) => `https://${r.pick(WORDS)}.example.com/${r.pick(WORDS)}?id=${r.below(1000)}`,
  line: (r) => String(1 + r.below(900)),
};

const { INFO, WARN, ERROR, DEBUG } = SeverityNumber;

// [service, severity, template]
export const TEMPLATES = [
  ['frontend', INFO, 'GET {path} {status} {dur}'],
  ['frontend', INFO, 'POST {path} {status} {dur}'],
  ['frontend', INFO, 'User {email} logged in from {ipport}'],
  ['frontend', INFO, 'Session {uuid} expired after {dur} of inactivity'],
  ['frontend', DEBUG, 'Rendering page {path} for {user} took {float} ms'],
  ['frontend', DEBUG, 'Served static asset {path} ({int} bytes) from cache'],
  ['frontend', WARN, 'CSRF token mismatch for session {uuid} from {ip}'],
  ['frontend', INFO, 'WebSocket connection {hexid} closed by client with code {int}'],
  ['frontend', DEBUG, 'Feature flag {q} evaluated to {word} for {user}'],
  ['frontend', INFO, 'Redirecting {user} to {url}'],
  ['checkout', INFO, 'Order {order} placed by {user}: {int} items, total {float} EUR'],
  ['checkout', ERROR, 'Payment {hexid} declined for order {order}: card ending {int} code={int}'],
  ['checkout', WARN, 'Retrying call to {word} attempt {int} of 5 after {dur} (last error: {q})'],
  ['checkout', INFO, 'Applied coupon {sq} to cart of {user}, discount {float} EUR'],
  ['checkout', INFO, 'Inventory reservation {uuid} released after {dur}'],
  ['checkout', ERROR, 'Failed to publish event order.created id={hexid} to topic {q}: timeout after {dur}'],
  ['checkout', INFO, 'Shipping quote from {word} for {int} parcels: {float} EUR in {dur}'],
  ['checkout', DEBUG, 'Tax calculated for region {word} at {float}% on {float} EUR'],
  ['checkout', INFO, 'Cart {hexid} merged into cart {hexid} after login of {email}'],
  ['checkout', WARN, 'slow query ({dur}): SELECT id, sku, qty FROM inventory WHERE sku = {sq} AND warehouse = {int}'],
  ['checkout', INFO, 'Order {order} cancelled by {user}: reason {q}'],
  ['checkout', INFO, 'Order {order} refunded to {user}: {float} EUR'],
  ['db', DEBUG, 'accepted connection from {ipport} (conn_id={int})'],
  ['db', DEBUG, 'connection {int} closed after {dur}, {int} queries served'],
  ['db', INFO, 'checkpoint complete: wrote {int} buffers ({float}%); {int} WAL file(s) added, {int} removed'],
  ['db', INFO, 'autovacuum of table {q} took {dur}: {int} dead tuples removed'],
  ['db', WARN, 'replication lag to replica {ip6} is {dur}'],
  ['db', WARN, 'Disk usage of {path} at {float}% ({int} MB free)'],
  ['db', DEBUG, 'GC pause {float} ms (heap {int} MB -> {int} MB, {int} collections so far)'],
  ['db', INFO, 'Loaded {int} rows into {word} in {dur}'],
  ['db', ERROR, 'TLS handshake with {ipport} failed: certificate for {q} expired at {time}'],
  ['db', WARN, 'Lock wait timeout on {word} after {dur} for transaction {hex}'],
  ['db', WARN, 'connection {int} reset by peer after {dur}'],
  ['worker', INFO, 'Job {uuid} of type {word} started at {time}'],
  ['worker', INFO, 'Job {uuid} finished in {dur} with status {word}'],
  ['worker', ERROR, 'Job {uuid} failed after {dur}: {q}'],
  ['worker', WARN, 'Job {uuid} retried {int} times by {word}'],
  ['worker', INFO, 'Sending email to {email} with subject {q}'],
  ['worker', DEBUG, 'Fetched {url} in {dur} ({int} bytes)'],
  ['worker', INFO, 'Processing batch {int} of {int} from queue {q}'],
  ['worker', DEBUG, 'Cache miss for key {q}, loaded from {ip} in {int} us'],
  ['worker', WARN, 'Scheduled task {word} skipped: previous run still active since {time}'],
  ['worker', INFO, 'Resized image {path} to {int}x{int} in {dur}'],
  ['worker', INFO, 'Webhook delivery {hexid} to {url} returned {status}'],
  ['worker', WARN, 'Rate limit exceeded for API key {hexid}: {int} requests in {dur}'],
  // real-looking: what Node services and their libraries write
  ['frontend', INFO, '{ip} - - [07/Dec/2026:{int}:{int}:{int} +0000] "GET {path} HTTP/1.1" {status} {int} "-" "Mozilla/5.0 (X11; Linux x86_64) Chrome/{int}.0"'],
  ['checkout', ERROR, 'Error: connect ECONNREFUSED {ipport}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{line}:{line})\n    at Socket.connect (/srv/app/node_modules/pg/lib/client.js:{line}:{line})'],
  ['worker', ERROR, 'TypeError: Cannot read properties of undefined (reading {sq})\n    at processJob (/srv/worker/src/jobs.js:{line}:{line})\n    at async Worker.run (/srv/worker/src/worker.js:{line}:{line})'],
  ['frontend', WARN, '(node:{int}) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. {int} close listeners added to [Socket]. Use emitter.setMaxListeners() to increase limit'],
];

// Map bodies (pino-style): a structured pattern per key set.
export const STRUCTURED = [
  ['frontend', INFO, (r) => ({ level: 30, time: Date.now(), pid: r.below(50000), hostname: 'web-1', req: { id: r.below(1e6), method: 'GET', url: SLOTS.path(r) }, msg: 'request completed', responseTime: r.below(500) })],
  ['worker', WARN, (r) => ({ level: 40, time: Date.now(), msg: `queue ${r.pick(WORDS)} is slow`, depth: r.below(1000) })],
];

export function fill(r, template) {
  return template.replace(/\{(\w+)\}/g, (_, name) => SLOTS[name](r));
}

// count records per template (and per map-body kind), shuffled: [{service,
// severity, body, template}] where template indexes TEMPLATES, then
// TEMPLATES.length + i for STRUCTURED[i].
export function makeCorpus(seed, count, { templates = TEMPLATES.map((_, i) => i), structured = true } = {}) {
  const r = rng(seed);
  const out = [];
  for (const t of templates) {
    const [service, severity, tmpl] = TEMPLATES[t];
    for (let i = 0; i < count; i++) out.push({ service, severity, body: fill(r, tmpl), template: t });
  }
  if (structured) {
    STRUCTURED.forEach(([service, severity, make], i) => {
      for (let k = 0; k < count; k++) out.push({ service, severity, body: make(r), template: TEMPLATES.length + i });
    });
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.below(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// Sends records through the official SDK: one LoggerProvider per service
// (its resource), batched, exported with makeExporter(service) (an official
// OTLP log exporter). Each record carries its template index as the
// attribute corpus.template. timeOf(i) gives each record's time (ms).
export async function sendCorpus(records, makeExporter, { timeOf = () => Date.now() } = {}) {
  const providers = new Map();
  const results = [];
  const loggerOf = (service) => {
    if (!providers.has(service)) {
      const exporter = makeExporter(service);
      const counted = {
        export: (items, done) => exporter.export(items, (res) => { results.push(res); done(res); }),
        shutdown: () => exporter.shutdown(),
        forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
      };
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` }),
        processors: [new BatchLogRecordProcessor({
          exporter: counted, maxExportBatchSize: 256, maxQueueSize: 100000, scheduledDelayMillis: 50,
        })],
      });
      providers.set(service, provider);
    }
    return providers.get(service).getLogger('corpus', '1.0.0');
  };
  records.forEach((rec, i) => {
    loggerOf(rec.service).emit({
      severityNumber: rec.severity, body: rec.body, timestamp: timeOf(i),
      attributes: { 'corpus.template': rec.template },
    });
  });
  for (const p of providers.values()) {
    await p.forceFlush();
    await p.shutdown();
  }
  return results;
}
