// api_payload.test.mjs - the size of API answers.
//
// A page of logs and a trace's spans carry each resource once (a
// "resources" map the items name theirs from) rather than in every item,
// with resources as SDKs send them (15 attributes). Answers are gzipped
// for clients that accept it (Vary: Accept-Encoding), the export as it
// streams; live streams never. Raw HTTP requests, so that what is on the
// wire is what is checked (fetch would ask for gzip and undo it itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { startLoupe } from './lib/server.mjs';
import { request } from './lib/rawhttp.mjs';
import { checkResourceRefs, inlineResources } from './lib/resources.mjs';

const SERVICES = ['checkout', 'cart', 'payments'];
const LOGS = 500;
const T0 = 1_800_000_000_000_000_000n;

const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });

// A resource as an SDK describes a process: 15 attributes, one of them
// (container.id) unique to it so the test can count where it appears.
function resource(service, i) {
  return {
    attributes: [
      str('service.name', service), str('service.namespace', 'shop'), str('service.version', '2.14.3'),
      str('service.instance.id', `${service}-7d9f8c6b5-x${i}q2z`),
      str('deployment.environment.name', 'production'),
      str('telemetry.sdk.name', 'opentelemetry'), str('telemetry.sdk.language', 'nodejs'),
      str('telemetry.sdk.version', '2.12.1'),
      str('host.name', `ip-10-0-${i}-17.eu-west-1.compute.internal`), str('host.arch', 'amd64'),
      str('os.type', 'linux'), int('process.pid', 4000 + i),
      str('process.runtime.name', 'nodejs'), str('process.runtime.version', '22.11.0'),
      str('container.id', `c0ffee${String(i).padStart(2, '0')}`.padEnd(64, 'a')),
    ],
  };
}

function logsDocument(first, count) {
  return {
    resourceLogs: SERVICES.map((svc, si) => ({
      resource: resource(svc, si),
      scopeLogs: [{
        scope: { name: `${svc}.logger`, version: '1.0.0' },
        logRecords: Array.from({ length: count }, (_, k) => first + k)
          .filter((n) => n % SERVICES.length === si)
          .map((n) => ({
            timeUnixNano: String(T0 + BigInt(n) * 1_000_000n),
            severityNumber: n % 10 === 0 ? 17 : 9,
            severityText: n % 10 === 0 ? 'ERROR' : 'INFO',
            body: { stringValue: `GET /api/cart/${n} answered ${n % 10 === 0 ? 500 : 200} in ${n % 37} ms` },
            attributes: [str('http.route', '/api/cart/:id'), int('http.response.status_code', n % 10 === 0 ? 500 : 200),
              str('user.id', `u${n % 97}`), int('thread.id', n % 8)],
          })),
      }],
    })),
  };
}

function traceDocument(traceId) {
  return {
    resourceSpans: SERVICES.slice(0, 2).map((svc, si) => ({
      resource: resource(svc, si),
      scopeSpans: [{
        scope: { name: 'http', version: '1.0.0' },
        spans: [0, 1, 2].map((k) => ({
          traceId, spanId: `${si}${k}`.padStart(16, 'a'), parentSpanId: si === 0 && k === 0 ? '' : 'aaaaaaaaaaaaaa00',
          name: `op-${si}-${k}`, kind: 2,
          startTimeUnixNano: String(T0 + BigInt(k)), endTimeUnixNano: String(T0 + 1000n + BigInt(k)),
        })),
      }],
    })),
  };
}

let srv;
const TRACE = '5b8efff798038103d269b633813fc60c';

async function post(pathName, doc) {
  const r = await request(`${srv.httpUrl}${pathName}`, {
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc),
  });
  assert.equal(r.status, 200, r.body.toString());
}

before(async () => {
  srv = await startLoupe({ storage: 'sqlite' });
  for (let first = 0; first < LOGS; first += 100) await post('/v1/logs', logsDocument(first, 100));
  await post('/v1/traces', traceDocument(TRACE));
});
after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0);
});

const get = (p, headers = {}) => request(`${srv.uiUrl}${p}`, { method: 'GET', headers });
const count = (text, s) => text.split(s).length - 1;

test('a page of logs names its resources and carries each of them once', async (t) => {
  const r = await get(`/api/v1/logs?limit=${LOGS}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-encoding'], undefined, 'not asked for gzip: none');
  const text = r.body.toString('utf8');
  const body = JSON.parse(text);
  assert.equal(body.logs.length, LOGS);
  checkResourceRefs(body, 'logs');
  assert.equal(Object.keys(body.resources).length, SERVICES.length);
  SERVICES.forEach((svc, i) => {
    const id = `c0ffee${String(i).padStart(2, '0')}`;
    assert.equal(count(text, id), 1, `${svc}'s resource is written once`);
  });
  for (const [id, res] of Object.entries(body.resources)) {
    assert.match(id, /^r[0-9]+$/);
    assert.equal(Object.keys(res.attributes).length, 15);
    assert.equal(res.attributes['service.name'], res.service);
  }
  // the ids are the store's: a second page and another query agree
  const again = JSON.parse((await get('/api/v1/logs?limit=3&service=cart')).body);
  assert.deepEqual(again.resources[again.logs[0].resourceId], body.resources[body.logs.find((l) => l.service === 'cart').resourceId]);
  const inline = Buffer.byteLength(JSON.stringify(inlineResources(body, 'logs')));
  t.diagnostic(`GET /api/v1/logs?limit=${LOGS}: ${r.body.length} bytes; ${inline} with each log carrying its resource`);
});

test('a trace names its spans\' resources and carries each of them once', async () => {
  const r = await get(`/api/v1/traces/${TRACE}`);
  assert.equal(r.status, 200);
  const text = r.body.toString('utf8');
  const body = JSON.parse(text);
  assert.equal(body.spans.length, 6);
  checkResourceRefs(body, 'spans');
  assert.deepEqual(Object.values(body.resources).map((x) => x.service).sort(), ['cart', 'checkout']);
  assert.equal(count(text, 'c0ffee00'), 1);
  assert.equal(count(text, 'c0ffee01'), 1);
  for (const svc of ['cart', 'checkout']) {
    const ids = new Set(body.spans.filter((s) => s.service === svc).map((s) => s.resourceId));
    assert.equal(ids.size, 1, `${svc}'s spans name one resource`);
  }
});

test('answers are gzipped for clients that accept it, with Vary: Accept-Encoding', async (t) => {
  const plain = await get(`/api/v1/logs?limit=${LOGS}`);
  assert.match(plain.headers.vary || '', /accept-encoding/i);
  const gz = await get(`/api/v1/logs?limit=${LOGS}`, { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers.vary || '', /accept-encoding/i);
  assert.equal(gz.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(Number(gz.headers['content-length']), gz.body.length);
  assert.deepEqual(zlib.gunzipSync(gz.body), plain.body, 'the same answer');
  assert.ok(gz.body.length * 5 < plain.body.length, `${gz.body.length} of ${plain.body.length} bytes`);
  t.diagnostic(`GET /api/v1/logs?limit=${LOGS}: ${plain.body.length} bytes, ${gz.body.length} gzipped`);

  const trace = await get(`/api/v1/traces/${TRACE}`, { 'accept-encoding': 'gzip' });
  assert.equal(trace.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(zlib.gunzipSync(trace.body)).spans.length, 6);
  // refused, or not offered: as it is
  for (const ae of ['gzip;q=0', 'identity', 'br']) {
    const r = await get(`/api/v1/logs?limit=${LOGS}`, { 'accept-encoding': ae });
    assert.equal(r.headers['content-encoding'], undefined, ae);
    assert.deepEqual(r.body, plain.body, ae);
  }
  // small answers and errors are not worth it, and say so with Vary too
  const info = await get('/api/v1/info', { 'accept-encoding': 'gzip' });
  assert.equal(info.headers['content-encoding'], undefined);
  assert.match(info.headers.vary || '', /accept-encoding/i);
  assert.equal(JSON.parse(info.body).storage, 'sqlite');
  const bad = await get('/api/v1/logs?limit=0', { 'accept-encoding': 'gzip' });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).error.code, 'bad_request');
});

test('the export is gzipped as it streams; a live stream never is', async () => {
  for (const signal of ['logs', 'traces']) {
    const plain = await get(`/api/v1/export?signal=${signal}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    const gz = await get(`/api/v1/export?signal=${signal}`, { 'accept-encoding': 'gzip' });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(gz.headers.vary || '', /accept-encoding/i);
    assert.match(gz.headers['content-disposition'] || '', /attachment/);
    assert.equal(zlib.gunzipSync(gz.body).toString(), plain.body.toString(), `export of ${signal}`);
    assert.ok(gz.body.length < plain.body.length);
  }
  // a live stream: its first bytes arrive as they are
  const head = await new Promise((resolve, reject) => {
    const req = http.get(`${srv.uiUrl}/api/v1/live?heartbeat=100ms`, { headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      res.once('data', (d) => { resolve({ headers: res.headers, first: d.toString() }); req.destroy(); });
    });
    req.on('error', reject);
    setTimeout(() => { req.destroy(); reject(new Error('no live data in 10 s')); }, 10000).unref();
  });
  assert.equal(head.headers['content-encoding'], undefined);
  assert.match(head.headers['content-type'], /^text\/event-stream/);
  assert.match(head.first, /^: loupe live/);
});
