// OTLP/gRPC receiver under load: h2load (nghttp2's load generator, a client
// that is not ours) sends 2,000 Export calls over 50 connections with 16
// streams each, and every span must be stored; then 1,000 connections are
// held open at once while exports on another connection keep working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startLoupe, getJson } from './lib/server.mjs';
import { TRACES, traceRequest, frame, grpcClient, grpcCall } from './lib/grpc.mjs';

const H2LOAD = spawnSync('h2load', ['--version']).status === 0;

let srv;
let tmp;
before(async () => {
  srv = await startLoupe();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'loupe-grpc-load-'));
});
after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  const res = await srv?.stop();
  assert.equal(res?.code, 0, `clean exit\n${srv?.stderr}`);
});

function run(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${cmd} timed out\n${out}`)); }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

async function spanCount(service) {
  const { status, body } = await getJson(srv, '/api/v1/services');
  assert.equal(status, 200);
  return body.services.find((s) => s.name === service)?.spanCount ?? 0;
}

test('h2load: 2,000 exports, 50 connections x 16 streams, every span stored', { skip: !H2LOAD && !process.env.CI && 'needs h2load (Debian nghttp2-client; scripts/deps.sh test installs it, and CI runs this case without skipping)' }, async () => {
  const service = 'grpc-load-h2load';
  const SPANS = 10;
  const N = 2000;
  // Every request carries the same spans (same ids): the store keeps what it
  // is given, so the count must be N * SPANS.
  const payload = path.join(tmp, 'traces.grpc');
  writeFileSync(payload, frame(traceRequest(service, SPANS).body));
  const { code, out } = await run('h2load', [
    '-c', '50', '-m', '16', '-n', String(N),
    '--header', 'content-type: application/grpc', '--header', 'te: trailers',
    '-d', payload, `${srv.grpcUrl}${TRACES}`,
  ], 120000);
  assert.equal(code, 0, out);
  assert.match(out, new RegExp(`requests: ${N} total, ${N} started, ${N} done, ${N} succeeded, 0 failed, 0 errored, 0 timeout`), out);
  assert.match(out, new RegExp(`status codes: ${N} 2xx, 0 3xx, 0 4xx, 0 5xx`), out);
  // Each answer is acknowledged only after its commit, so all are visible now.
  assert.equal(await spanCount(service), N * SPANS);
});

test('1,000 connections open at once; exports keep working', async () => {
  const COUNT = 1000;
  const preface = Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), // empty SETTINGS
  ]);
  const sockets = [];
  // Each connection counts once the server's SETTINGS (a frame of type 4
  // on stream 0) has come back, i.e. the server is serving it.
  const opened = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      opened.push(new Promise((resolve, reject) => {
        const s = net.connect(srv.grpcPort, '127.0.0.1');
        sockets.push(s);
        let got = Buffer.alloc(0);
        const timer = setTimeout(() => reject(new Error(`connection ${i}: no SETTINGS`)), 30000);
        s.on('error', (e) => { clearTimeout(timer); reject(e); });
        s.on('connect', () => s.write(preface));
        s.on('data', (d) => {
          got = Buffer.concat([got, d]);
          if (got.length >= 9 && got[3] === 4) { clearTimeout(timer); resolve(); }
        });
        s.on('close', () => { clearTimeout(timer); reject(new Error(`connection ${i} closed early`)); });
      }));
    }
    await Promise.all(opened);
    // With all of them open, a fresh client still gets served.
    const client = grpcClient(srv.grpcAddr);
    try {
      const { body } = traceRequest('grpc-load-1000', 3);
      const results = await Promise.all(Array.from({ length: 20 }, () => grpcCall(client, TRACES, body)));
      assert.deepEqual(results.map((r) => r.code), Array(20).fill(0));
    } finally {
      client.close();
    }
    // And every one of the 1,000 is still alive: a PING on each is answered.
    const ping = Buffer.from([0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await Promise.all(sockets.map((s, i) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection ${i}: no PING ack`)), 30000);
      let got = Buffer.alloc(0);
      s.removeAllListeners('data');
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        // PING ack: type 6, flags 1, opaque data echoed.
        if (got.includes(Buffer.from([0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]))) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.write(ping);
    })));
  } finally {
    for (const s of sockets) { s.removeAllListeners('close'); s.destroy(); }
  }
  // The server is still healthy once they are all gone.
  const client = grpcClient(srv.grpcAddr);
  try {
    const r = await grpcCall(client, TRACES, traceRequest('grpc-load-after', 1).body);
    assert.equal(r.code, 0, r.details);
  } finally {
    client.close();
  }
});
