// The trace search's q finds words in span names, attribute values, status
// messages, event names and event attributes (an exception's type and
// message), through the spans' index; case-insensitive, `word*` a prefix,
// several words all required, FTS5 syntax in q taken as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoupe, getJson } from './lib/server.mjs';
import { exporters, sendTraces } from './lib/telemetry.mjs';
import { trace, SpanStatusCode, ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

let srv;
let rich; // sendTraces: a failing 'charge card' span, status and exception 'card declined'
let mine = {}; // traces made here

async function send(exp, service, build) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exp.traces)],
  });
  const id = build(provider.getTracer('text'));
  await provider.forceFlush();
  await provider.shutdown();
  return id;
}

before(async () => {
  srv = await startLoupe();
  const exp = exporters(srv, 'http/protobuf');
  rich = await sendTraces(exp, 'shop');
  mine.issuer = await send(exporters(srv, 'http/protobuf'), 'pay', (t) => {
    const s = t.startSpan('authorize', { attributes: { 'payment.provider': 'Acme Übercard' } });
    s.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined by issuer (code 51)' });
    s.end();
    return s.spanContext().traceId;
  });
  mine.event = await send(exporters(srv, 'http/protobuf'), 'pay', (t) => {
    const s = t.startSpan('refund', {}, ROOT_CONTEXT);
    s.addEvent('ledger.mismatch', { 'ledger.account': 'ACC-778899' });
    s.recordException(Object.assign(new Error('ledger locked for audit'), { name: 'LedgerLockedError' }));
    s.end();
    return s.spanContext().traceId;
  });
  // long words: a 300-character token, and two that share their first 200
  // characters (the index keeps a word's first 64 bytes)
  const stem = 'f00d'.repeat(50);
  mine.long = await send(exporters(srv, 'http/protobuf'), 'blob', (t) => {
    const s = t.startSpan('upload', { attributes: { 'blob.digest': `${stem}${'a'.repeat(100)}` } });
    s.end();
    return s.spanContext().traceId;
  });
  mine.long2 = await send(exporters(srv, 'http/protobuf'), 'blob', (t) => {
    const s = t.startSpan('upload', { attributes: { 'blob.digest': `${stem}${'b'.repeat(100)}`, 'note': 'é'.repeat(80) } });
    s.end();
    return s.spanContext().traceId;
  });
  mine.stem = stem;
  void trace;
});

after(() => srv.stop());

async function search(q) {
  const r = await getJson(srv, `/api/v1/traces?limit=100&q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, `q=${q}: ${JSON.stringify(r.body)}`);
  return r.body.traces.map((t) => t.traceId).sort();
}

test('status messages and exception events are found', async () => {
  assert.deepEqual(await search('declined'), [rich.traceId, mine.issuer].sort());
  assert.deepEqual(await search('DECLINED'), [rich.traceId, mine.issuer].sort());
  assert.deepEqual(await search('issuer'), [mine.issuer]);
  assert.deepEqual(await search('declined issuer'), [mine.issuer]);
  assert.deepEqual(await search('locked'), [mine.event]); // exception.message
  assert.deepEqual(await search('LedgerLockedError'), [mine.event]); // exception.type
  assert.deepEqual(await search('ledger.mismatch'), [mine.event]); // an event's name
  assert.deepEqual(await search('ACC-778899'), [mine.event]); // an event's attribute
});

test('names, attribute values, prefixes; nothing else', async () => {
  assert.deepEqual(await search('authorize'), [mine.issuer]); // a span name
  assert.deepEqual(await search('Übercard'), [mine.issuer]); // a value, not ASCII
  assert.deepEqual(await search('postgresql'), [rich.traceId]); // db.system of a child span
  assert.deepEqual(await search('decl*'), [rich.traceId, mine.issuer].sort());
  assert.deepEqual(await search('no-such-word-here'), []);
  // keys are not values
  assert.deepEqual(await search('provider'), []);
  // event times are not words
  assert.deepEqual(await search(String(Date.now()).slice(0, 6)), []);
});

test('long words are found whole, and only whole', async () => {
  const { stem } = mine;
  assert.deepEqual(await search(`${stem}${'a'.repeat(100)}`), [mine.long]);
  assert.deepEqual(await search(`${stem}${'B'.repeat(100)}`), [mine.long2]);
  // the shared first 200 characters are not a word of either
  assert.deepEqual(await search(stem), []);
  assert.deepEqual(await search(`${stem}*`), [mine.long, mine.long2].sort());
  assert.deepEqual(await search(`${stem}${'a'.repeat(99)}`), []);
  // a long non-ASCII word (80 two-byte characters, cut at a character boundary)
  assert.deepEqual(await search('é'.repeat(80)), [mine.long2]);
  assert.deepEqual(await search('é'.repeat(79)), []);
});

test('FTS5 syntax in q is text, never an error', async () => {
  for (const q of ['"', 'NEAR(a b)', 'a OR b', '*', 'declined AND', '(declined', '-declined', 'a:b', '^x']) {
    await search(q);
  }
  assert.deepEqual(await search('"declined"'), [rich.traceId, mine.issuer].sort());
});
