// apps.mjs - run tests/interop/apps/http-service.mjs (a Node HTTP service
// instrumented by the official SDK) against a test's loupe, and call it.
//
//   const app = startHttpService('checkout', port, [downstream, '--db'], srv, { OTEL_...: ... });
//   await app.ready; ... app.proc.kill('SIGTERM'); await app.exited;
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

const APP = path.resolve('tests/interop/apps/http-service.mjs');

// Starts the service `name` on port (args: the app's, see http-service.mjs)
// exporting to srv's gRPC port with the SDK's defaults for the protocol;
// env adds to or overrides its OTEL_* settings (metrics and logs are off).
// ready resolves once it listens (at most 20 s).
export function startHttpService(name, port, args, srv, env = {}) {
  const proc = spawn(process.execPath, [APP, String(port), ...args], {
    env: {
      PATH: process.env.PATH,
      OTEL_SERVICE_NAME: name,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${srv.grpcPort}`,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} not ready: ${err}`)), 20000);
    proc.stdout.on('data', (d) => { if (String(d).includes('ready')) { clearTimeout(t); resolve(); } });
    proc.on('exit', (code) => reject(new Error(`${name} exited ${code}: ${err}`)));
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return { proc, ready, exited };
}

// GET url; resolves with the status code once the body is read.
export function httpGet(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
  });
}
