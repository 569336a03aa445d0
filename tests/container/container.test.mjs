// container.test.mjs - the image the Dockerfile builds, run with podman: its
// configuration, the official OpenTelemetry exporters sending to it, the
// data read back through the API, its health check, a prompt clean stop,
// and the data still there in a new container on the same volume.
//
//   LOUPE_IMAGE=localhost/loupe:latest node --test tests/container/container.test.mjs
//
// (make container-test builds the image and runs this.) The containers use
// the host's network, on loopback ports the test picks; runc is the OCI
// runtime (LOUPE_CONTAINER_RUNTIME), and the file limits are passed
// explicitly because this machine refuses to raise them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freePorts } from '../interop/lib/server.mjs';
import { sendSession, checkSession } from '../interop/lib/roundtrip.mjs';

const IMAGE = process.env.LOUPE_IMAGE || 'localhost/loupe:latest';
const RUNTIME = process.env.LOUPE_CONTAINER_RUNTIME || 'runc';
const RUN_FLAGS = ['--network', 'host', '--pull=never',
  '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const TAG = `loupe-ct-${process.pid}`;
const VOLUME = `${TAG}-data`;
const TOKEN = randomBytes(16).toString('hex');
const SERVICE = 'container-app';
const MAX_IMAGE_BYTES = 40 * 1024 * 1024;

// Runs podman; resolves {code, stdout, stderr, ms} (never rejects).
function podman(args, timeoutMs = 60000) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile('podman', ['--runtime', RUNTIME, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      });
  });
}

async function podmanOk(args, timeoutMs) {
  const r = await podman(args, timeoutMs);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

// Starts a container on the shared volume with loopback ports of its own;
// returns an object the telemetry helpers and getJson accept. Ready once
// /readyz answers 200 (polled, 30 s at most).
async function startContainer(name) {
  const [ui, grpc, http] = await freePorts(3);
  await podmanOk(['run', '-d', '--name', name, ...RUN_FLAGS,
    '-v', `${VOLUME}:/data`,
    '-e', `LOUPE_UI_ADDR=127.0.0.1:${ui}`,
    '-e', `LOUPE_OTLP_GRPC_ADDR=127.0.0.1:${grpc}`,
    '-e', `LOUPE_OTLP_HTTP_ADDR=127.0.0.1:${http}`,
    '-e', `LOUPE_UI_TOKEN=${TOKEN}`,
    IMAGE]);
  const c = {
    name,
    uiUrl: `http://127.0.0.1:${ui}`,
    httpUrl: `http://127.0.0.1:${http}`,
    grpcUrl: `http://127.0.0.1:${grpc}`,
    authHeaders: { Authorization: `Bearer ${TOKEN}` },
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const res = await fetch(`${c.uiUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return c;
    } catch { /* not listening yet */ }
    const state = (await podmanOk(['inspect', '-f', '{{.State.Status}}', name])).trim();
    if (state !== 'running' || Date.now() > deadline) {
      const logs = await podman(['logs', name]);
      assert.fail(`container ${name} not ready (state ${state})\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// What the second container must find again.
let sent;
let first;

after(async () => {
  await podman(['rm', '-f', '-t', '0', `${TAG}-1`, `${TAG}-2`]);
  await podman(['volume', 'rm', '-f', VOLUME]);
});

test('the image: scratch-sized, non-root user, volume, ports, health check', async () => {
  const [img] = JSON.parse(await podmanOk(['image', 'inspect', IMAGE]));
  console.log(`# image ${IMAGE}: ${(img.Size / 1e6).toFixed(1)} MB`);
  assert.ok(img.Size > 1e6 && img.Size < MAX_IMAGE_BYTES, `image size ${img.Size} under 40 MB`);
  const cfg = img.Config;
  assert.equal(cfg.User, '10001:10001');
  assert.deepEqual(cfg.Entrypoint, ['/usr/local/bin/loupe']);
  assert.deepEqual(Object.keys(cfg.Volumes || {}), ['/data']);
  assert.deepEqual(Object.keys(cfg.ExposedPorts || {}).sort(), ['18888/tcp', '4317/tcp', '4318/tcp']);
  assert.ok(cfg.Env.includes('LOUPE_DATA_DIR=/data'), cfg.Env.join(' '));
  assert.equal(cfg.StopSignal, 'SIGTERM');
  // podman keeps the health check beside Config (docker format only)
  assert.deepEqual(img.Healthcheck?.Test ?? cfg.Healthcheck?.Test,
    ['CMD', '/usr/local/bin/loupe', 'healthcheck']);
});

test('a container runs loupe as uid 10001 and takes telemetry from the official exporters', async () => {
  await podmanOk(['volume', 'create', VOLUME]);
  first = await startContainer(`${TAG}-1`);
  const pid = (await podmanOk(['inspect', '-f', '{{.State.Pid}}', first.name])).trim();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
  assert.match(status, /^Gid:\s+10001\s+10001\s+10001\s+10001$/m);

  sent = await sendSession(first, SERVICE);
  await checkSession(first, sent);
});

test('loupe healthcheck answers inside the container, and fails for a dead port', async () => {
  const hc = await podman(['healthcheck', 'run', first.name]);
  assert.equal(hc.code, 0, `podman healthcheck run: ${hc.stdout}${hc.stderr}`);
  const exec = await podman(['exec', first.name, 'loupe', 'healthcheck']);
  assert.equal(exec.code, 0, `loupe healthcheck: ${exec.stdout}${exec.stderr}`);
  const [dead] = await freePorts(1);
  const bad = await podman(['exec', '-e', `LOUPE_UI_ADDR=127.0.0.1:${dead}`, first.name, 'loupe', 'healthcheck']);
  assert.equal(bad.code, 1, `healthcheck against a closed port: ${bad.stdout}${bad.stderr}`);
});

test('podman stop ends it cleanly within seconds', async () => {
  const r = await podman(['stop', '-t', '10', first.name], 30000);
  assert.equal(r.code, 0, r.stderr);
  console.log(`# podman stop took ${r.ms} ms`);
  assert.ok(r.ms < 5000, `stopped in ${r.ms} ms`);
  assert.equal((await podmanOk(['inspect', '-f', '{{.State.ExitCode}}', first.name])).trim(), '0');
  const logs = await podman(['logs', first.name]);
  assert.match(logs.stderr + logs.stdout, /event=shutdown signal=SIGTERM/);
  assert.match(logs.stderr + logs.stdout, /event=stopped/);
});

test('a new container on the same volume serves the same data', async () => {
  const second = await startContainer(`${TAG}-2`);
  await checkSession(second, sent);
  const r = await podman(['stop', '-t', '10', second.name], 30000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await podmanOk(['inspect', '-f', '{{.State.ExitCode}}', second.name])).trim(), '0');
});
