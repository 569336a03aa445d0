// nginx.mjs - Debian's nginx as a reverse proxy in front of loupe's UI port,
// for the sub-path hosting tests (--base-path).
//
//   const proxy = await startNginx({ prefix: '/loupe', upstreamPort: srv.uiPort });
//   ... proxy.url ('http://127.0.0.1:PORT') ...
//   await proxy.stop();
//
// nginx runs in the foreground (daemon off, one process) with a generated
// configuration in a fresh temp dir, which also holds its pid file, error
// log and temp paths; it listens on a free loopback port. The prefix is
// passed through unchanged (loupe serves under it), and the live stream's
// location has proxy_buffering off, as the README's example.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.mjs';

export const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';

// The server block the README shows, for prefix -> 127.0.0.1:upstreamPort.
export function nginxLocations(prefix, upstreamPort) {
  const up = `http://127.0.0.1:${upstreamPort}`;
  return `
    location ${prefix}/ {
      proxy_pass ${up};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
    # the live stream (server-sent events): no buffering, long reads
    location ${prefix}/api/v1/live {
      proxy_pass ${up};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
    }
    location = ${prefix} {
      proxy_pass ${up};
    }`;
}

// Waits until something accepts connections on 127.0.0.1:port (bounded).
async function waitListening(port, deadlineMs, exited) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (exited.done) throw new Error('nginx exited before it listened');
    if (Date.now() > end) throw new Error(`nginx did not listen on ${port} in ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Starts nginx proxying prefix to the UI port. Returns {url, port, dir,
// errorLog(), stop()}.
export async function startNginx({ prefix, upstreamPort, readyTimeoutMs = 10000 }) {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} not found (apt-get install nginx; scripts/deps.sh test)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-nginx-'));
  const port = await freePort();
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    ${nginxLocations(prefix, upstreamPort)}
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const proc = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = { done: false };
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => { exited.done = true; resolve({ code, signal }); }));
  const errorLog = () => (existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '');
  try {
    await waitListening(port, readyTimeoutMs, exited);
  } catch (e) {
    proc.kill('SIGKILL');
    await done;
    const log = errorLog();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${e.message}\n${stderr}\n${log}`);
  }
  return {
    port,
    dir,
    url: `http://127.0.0.1:${port}`,
    errorLog,
    accessLog: () => readFileSync(path.join(dir, 'access.log'), 'utf8'),
    // SIGQUIT is nginx's graceful stop; SIGKILL after 5 s.
    async stop() {
      if (!exited.done) proc.kill('SIGQUIT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const res = await done;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return res;
    },
  };
}
