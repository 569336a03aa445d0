// ch_queries.mjs - query latencies of a running loupe, for
// tests/bench/bench_clickhouse.sh: trace by id over distinct stored ids, and
// the trace list (first pages with and without a service, in a window, and
// next pages through nextCursor), every request distinct from the others.
//
// DESIGN
// Requests go one at a time over one kept-alive connection, so a latency is
// the server's answer to one request (from sending to the last byte read),
// not a queue. The tasks (one trace id; one first page; one chain of pages)
// are shuffled so that every kind sees the same moments of a run (merges,
// ingest). Lists vary their `end` (a random instant within the stored
// data), service and window (2-20% of the stored time range, ending at a
// random instant); a set of the URLs asked so far refuses a
// repeat. Nothing is asserted: the answer's status and whether it was empty
// are counted per kind.
//
//   node tests/bench/ch_queries.mjs PORT IDS_FILE SERVICES MIN_NS MAX_NS SEED
//        LISTS CHAINS PAGES DEADLINE_S
//
// IDS_FILE: one trace id (hex) a line; SERVICES: comma-separated; MIN_NS,
// MAX_NS: the stored spans' time range; LISTS: requests of each first-page
// kind; CHAINS x PAGES: the paged lists (the first page of a chain counts
// with its kind, the next ones as "next page"). Prints one JSON object a
// line per kind: {kind, n, p50, p95, p99, max (ms), status: {code: n},
// empty}.
import http from 'node:http';
import fs from 'node:fs';

const [port, idsFile, servicesArg, minArg, maxArg, seedArg, listsArg, chainsArg, pagesArg, deadlineArg] =
    process.argv.slice(2);
const ids = fs.readFileSync(idsFile, 'utf8').split('\n').map((s) => s.trim().toLowerCase()).filter(Boolean);
const services = servicesArg.split(',').filter(Boolean);
const minNs = BigInt(minArg), maxNs = BigInt(maxArg);
const lists = Number(listsArg), chains = Number(chainsArg), pages = Number(pagesArg);
const deadline = Date.now() + 1000 * Number(deadlineArg);

let seed = Number(seedArg) >>> 0;
function rand() { // mulberry32
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n) => Math.floor(rand() * n);
// an instant in the stored range, to the nanosecond
const randTime = () => minNs + (BigInt(Math.floor(rand() * 2 ** 40)) * (maxNs - minNs + 1n)) / 2n ** 40n;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(path) { // resolves {ms, status, body}
    return new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        const req = http.get({ host: '127.0.0.1', port: Number(port), path, agent }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({
                ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode,
                body: Buffer.concat(chunks).toString('utf8'),
            }));
        });
        req.setTimeout(120000, () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: 'error: ' + e.message, body: '' }));
    });
}

const stats = new Map(); // kind -> {ms: [], status: {}, empty}
function record(kind, r, empty) {
    if (!stats.has(kind)) stats.set(kind, { ms: [], status: {}, empty: 0 });
    const s = stats.get(kind);
    s.ms.push(r.ms);
    s.status[r.status] = (s.status[r.status] || 0) + 1;
    if (empty) s.empty++;
}
function parse(body) { try { return JSON.parse(body); } catch { return null; } }

const asked = new Set();
function distinct(make) { // a path not asked before, or null after 100 tries
    for (let i = 0; i < 100; i++) {
        const p = make();
        if (!asked.has(p)) { asked.add(p); return p; }
    }
    return null;
}
const listPath = (q) => '/api/v1/traces?' + new URLSearchParams({ limit: '50', ...q }).toString();
const firstPage = {
    'list, newest first (end=T)': () => listPath({ end: String(randTime()) }),
    'list, service=S (end=T)': () => listPath({ service: services[randInt(services.length)], end: String(randTime()) }),
    'list, window of 2-20% of the data (start, end)': () => {
        const end = randTime(), width = ((maxNs - minNs + 1n) * BigInt(2 + randInt(19))) / 100n;
        return listPath({ start: String(end - width), end: String(end) });
    },
};

async function listTask(kind, make) {
    const p = distinct(make);
    if (p === null) return;
    const r = await get(p);
    const j = r.status === 200 ? parse(r.body) : null;
    record(kind, r, !(j && j.traces && j.traces.length));
}
async function chainTask(kind, make) {
    let p = distinct(make);
    for (let page = 0; p !== null && page < pages && Date.now() < deadline; page++) {
        const r = await get(p);
        const j = r.status === 200 ? parse(r.body) : null;
        record(page === 0 ? kind : 'list, next page (cursor)', r, !(j && j.traces && j.traces.length));
        if (!j || !j.nextCursor) break;
        const u = new URL(p, 'http://x');
        u.searchParams.set('cursor', j.nextCursor);
        p = u.pathname + '?' + u.searchParams.toString();
        if (asked.has(p)) break;
        asked.add(p);
    }
}

const tasks = [];
for (const id of new Set(ids)) {
    tasks.push(async () => {
        const r = await get('/api/v1/traces/' + id);
        const j = r.status === 200 ? parse(r.body) : null;
        record('trace by id', r, !(j && j.spans && j.spans.length));
    });
}
for (const [kind, make] of Object.entries(firstPage))
    for (let i = 0; i < lists; i++) tasks.push(() => listTask(kind, make));
for (let i = 0; i < chains; i++) {
    const kinds = Object.entries(firstPage).slice(0, 2);
    const [kind, make] = kinds[i % kinds.length];
    tasks.push(() => chainTask(kind, make));
}
for (let i = tasks.length - 1; i > 0; i--) { // shuffle
    const j = randInt(i + 1);
    [tasks[i], tasks[j]] = [tasks[j], tasks[i]];
}
let skipped = 0;
for (const t of tasks) {
    if (Date.now() >= deadline) { skipped++; continue; }
    await t();
}
agent.destroy();

const order = ['trace by id', ...Object.keys(firstPage), 'list, next page (cursor)'];
const pct = (a, q) => a[Math.min(a.length - 1, Math.ceil(q * a.length) - 1)];
for (const kind of order.filter((k) => stats.has(k))) {
    const s = stats.get(kind);
    const a = s.ms.slice().sort((x, y) => x - y);
    const r = (v) => Math.round(v * 10) / 10;
    console.log(JSON.stringify({ kind, n: a.length, p50: r(pct(a, 0.5)), p95: r(pct(a, 0.95)),
        p99: r(pct(a, 0.99)), max: r(a[a.length - 1]), status: s.status, empty: s.empty }));
}
if (skipped) console.log(JSON.stringify({ kind: 'skipped at the deadline', n: skipped }));
