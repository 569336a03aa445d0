// rawhttp.mjs - HTTP requests with full control of headers and framing.
//
//   await request(url, {method, headers, body})      Content-Length body
//   await request(url, {headers, chunks: [b1, b2]})  Transfer-Encoding: chunked
//   await rawExchange(host, port, bytes)             bytes on a socket; the
//                                                    server's first answer,
//                                                    once the server closes
//
// Every call has a timeout so a stuck server fails the test instead of
// hanging it.
import http from 'node:http';
import net from 'node:net';

const TIMEOUT_MS = 15000;

// Returns {status, headers, body (Buffer)}. No keep-alive agent: one
// connection per request.
export function request(url, { method = 'POST', headers = {}, body, chunks, timeoutMs = TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) });
      });
    });
    if (chunks) {
      // No Content-Length: node frames the body with chunked encoding.
      (async () => {
        for (const c of chunks) {
          if (req.destroyed) return;
          if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    } else {
      req.end(body);
    }
  });
}

// Writes raw bytes to host:port and reads until the server closes the
// connection (use it for answers after which the server must close).
// Returns the first answer: {status, head (string), body (Buffer)}.
export function rawExchange(host, port, bytes, { timeoutMs = TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let data = Buffer.alloc(0);
    let result = null;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw exchange timed out')); }, timeoutMs);
    const tryParse = () => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const head = data.subarray(0, end).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!m) throw new Error(`not an HTTP answer: ${head.slice(0, 80)}`);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = cl ? Number(cl[1]) : 0;
      if (data.length < end + 4 + len) return null;
      return { status: Number(m[1]), head, body: data.subarray(end + 4, end + 4 + len) };
    };
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      try {
        if (!result) result = tryParse();
      } catch (e) {
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      }
    });
    const finish = () => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`connection ended without an answer (${data.length} bytes)`));
    };
    sock.on('end', () => finish());
    sock.on('error', (e) => (result ? finish() : (clearTimeout(timer), reject(e))));
    sock.on('close', () => finish());
  });
}
