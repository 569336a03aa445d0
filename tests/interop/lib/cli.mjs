// cli.mjs - run loupe's client commands (loupe services, traces, ...,
// run) as a user would, with a bounded time.
//
//   const r = await loupeCli(['traces', 'service=checkout'], { env });
//   r.status, r.stdout, r.stderr, r.ms
import { spawn } from 'node:child_process';
import { LOUPE_BIN } from './server.mjs';

// Runs `loupe ARGS...` with the environment plus env (LOUPE_SERVER and
// LOUPE_UI_TOKEN of the test's loupe, typically). The process is killed
// after timeoutMs; the result says so (killed: true).
export function loupeCli(args, { env = {}, timeoutMs = 30000, cwd } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(LOUPE_BIN, args, {
      env: { ...process.env, LOUPE_SERVER: '', LOUPE_UI_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd,
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, killed, ms: Date.now() - started });
    });
  });
}

// The environment that points the commands at srv (with its token).
export function cliEnv(srv) {
  return { LOUPE_SERVER: srv.uiUrl, LOUPE_UI_TOKEN: srv.token || '' };
}

// Waits until fn() returns a truthy value, polling every intervalMs, at
// most timeoutMs. Returns that value or throws.
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
