// child_app.mjs - runs a test app (a Node script of tests/interop/lib) in
// a child process whose environment is the test's without any OTEL_*
// variable, plus `vars`: the app is configured by those alone, as a user's
// app would be. Resolves with the JSON of its last stdout line; rejects
// when it exits non-zero, prints no JSON, or outlives timeoutMs (then it is
// killed).
import { spawn } from 'node:child_process';

export function runChildApp(script, args, vars, timeoutMs = 60000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  Object.assign(env, vars);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`app timed out\n${err}`)); }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`app exited ${code}\n${err}`));
      try { resolve(JSON.parse(out.trim().split('\n').at(-1))); } catch (e) { reject(new Error(`${e.message}\n${out}\n${err}`)); }
    });
  });
}
