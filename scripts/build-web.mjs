#!/usr/bin/env node
// build-web.mjs - turns web/ (the UI source) into the tree embedded in the
// binary: content-hashed file names, uPlot copied from node_modules, and
// index.html rewritten to the hashed names with modulepreload links.
//
//   node scripts/build-web.mjs [SRC_DIR] [OUT_DIR]     (default: web build/web)
//
// - Every .js file becomes NAME.HASH.js (HASH: 10 hex digits of SHA-256 of
//   the rewritten content). Relative imports between modules ("./x.js",
//   import("./x.js")) are rewritten to the hashed names, dependencies first;
//   an import cycle is an error.
// - uPlot's minified IIFE build becomes the ES module js/vendor/uplot.js (it
//   is loaded lazily by the metrics page) and its stylesheet is appended to
//   app.css. Third-party code is never committed: it comes from
//   node_modules, pinned by package-lock.json.
// - app.css and favicon.svg are hashed too; index.html keeps its name (the
//   UI server gives it "no-cache") and refers to the hashed names, relative
//   to its <base href="/"> (which the server sets to --base-path).
// - OUT_DIR is emptied first, so stale hashed files never linger.
// Prints the first-load size (index.html, app.css and every module the entry
// imports statically, gzip -9) and fails above the 300 KB budget.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.resolve(process.argv[2] || path.join(ROOT, 'web'));
const OUT = path.resolve(process.argv[3] || path.join(ROOT, 'build/web'));
const BUDGET = 300 * 1024;
const UPLOT_DIR = path.join(ROOT, 'node_modules/uplot/dist');

function fail(msg) {
  process.stderr.write(`build-web: ${msg}\n`);
  process.exit(1);
}

function walk(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(full).isDirectory()) out.push(...walk(full, rel));
    else if (!name.endsWith('.md')) out.push(rel);
  }
  return out;
}

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const hashedName = (rel, h) => {
  const ext = path.posix.extname(rel);
  return `${rel.slice(0, -ext.length)}.${h}${ext}`;
};

if (!existsSync(path.join(SRC, 'index.html'))) fail(`${SRC}/index.html not found`);
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) {
  if (!existsSync(path.join(UPLOT_DIR, f))) {
    fail(`node_modules/uplot/dist/${f} is missing; run: npm ci --ignore-scripts`);
  }
}

// ---- sources (text) ------------------------------------------------------
const files = new Map(); // rel -> content (string)
for (const rel of walk(SRC)) files.set(rel, readFileSync(path.join(SRC, rel), 'utf8'));

const uplotVersion = JSON.parse(readFileSync(path.join(UPLOT_DIR, '../package.json'), 'utf8')).version;
files.set('js/vendor/uplot.js',
  `${readFileSync(path.join(UPLOT_DIR, 'uPlot.iife.min.js'), 'utf8')}\nexport default uPlot;\n`);
if (!files.has('app.css')) fail('web/app.css not found');
files.set('app.css', `${files.get('app.css')}\n/* uPlot ${uplotVersion} */\n${readFileSync(path.join(UPLOT_DIR, 'uPlot.min.css'), 'utf8')}\n`);

// ---- JavaScript modules: rewrite relative imports to hashed names -------------
// Static imports/exports with a from clause, bare side-effect imports, and
// dynamic import() with a string literal. Relative specifiers only.
const IMPORT_RE = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+)\2/g;
const STATIC_RE = /(\bfrom\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+)\2/g;

function resolveSpec(fromRel, spec) {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  if (!files.has(target)) fail(`${fromRel}: import of ${spec} (${target}) not found`);
  return target;
}

const outName = new Map(); // rel -> hashed rel
const outContent = new Map(); // hashed rel -> content
const visiting = new Set();

function buildJs(rel) {
  if (outName.has(rel)) return outName.get(rel);
  if (visiting.has(rel)) fail(`import cycle through ${rel}`);
  visiting.add(rel);
  const src = files.get(rel);
  const rewritten = src.replace(IMPORT_RE, (m, lead, q, spec) => {
    const dep = resolveSpec(rel, spec);
    const depOut = buildJs(dep);
    let relSpec = path.posix.relative(path.posix.dirname(rel), depOut);
    if (!relSpec.startsWith('.')) relSpec = `./${relSpec}`;
    return `${lead}${q}${relSpec}${q}`;
  });
  visiting.delete(rel);
  const name = hashedName(rel, hash(rewritten));
  outName.set(rel, name);
  outContent.set(name, rewritten);
  return name;
}

for (const rel of files.keys()) if (rel.endsWith('.js')) buildJs(rel);

// Other assets (css, svg, ...) except index.html: hashed as they are.
for (const [rel, content] of files) {
  if (rel.endsWith('.js') || rel === 'index.html') continue;
  const name = hashedName(rel, hash(content));
  outName.set(rel, name);
  outContent.set(name, content);
}

// ---- index.html -------------------------------------------------------------
// index.html starts with <base href="/"> and names everything relative to
// it: assets by their source paths (src="js/app.js", href="app.css"),
// rewritten here to the hashed names, and routes without a file extension
// (href="logs"), which stay. The server swaps the base for its
// --base-path (server/api/ui_base.c), so the same page works at / and
// under a prefix, and client-side routes like traces/abc find the assets.
function staticClosure(rel, seen = new Set()) {
  if (seen.has(rel)) return seen;
  seen.add(rel);
  for (const m of files.get(rel).matchAll(STATIC_RE)) staticClosure(resolveSpec(rel, m[3]), seen);
  return seen;
}

let index = files.get('index.html');
if (!index.includes('<base href="/">')) fail('index.html lacks <base href="/"> (the server replaces it)');
const absolute = /\s(?:src|href)="\/[^"]*"/.exec(index.replace('<base href="/">', ''));
if (absolute) fail(`index.html has an absolute URL (${absolute[0].trim()}); name it relative to <base>`);
const entries = [];
index = index.replace(/(\s(?:src|href)=")([^"/.][^"]*\.[a-z0-9]+)"/g, (m, lead, rel) => {
  if (!outName.has(rel)) fail(`index.html refers to ${rel}, which is not in web/`);
  if (rel.endsWith('.js')) entries.push(rel);
  return `${lead}${outName.get(rel)}"`;
});
const preload = new Set();
for (const e of entries) for (const rel of staticClosure(e)) if (!entries.includes(rel)) preload.add(rel);
const preloadTags = [...preload].sort()
  .map((rel) => `<link rel="modulepreload" href="${outName.get(rel)}">`).join('\n');
if (!index.includes('<!-- modulepreload -->')) fail('index.html lacks the <!-- modulepreload --> marker');
index = index.replace('<!-- modulepreload -->', preloadTags);
outContent.set('index.html', index);

// ---- write --------------------------------------------------------------------
rmSync(OUT, { recursive: true, force: true });
for (const [name, content] of outContent) {
  const full = path.join(OUT, name);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
}

// ---- first-load budget ----------------------------------------------------------
const gz = (s) => zlib.gzipSync(Buffer.from(s), { level: 9 }).length;
const first = ['index.html', outName.get('app.css')];
for (const e of entries) for (const rel of staticClosure(e)) first.push(outName.get(rel));
let total = 0;
for (const name of first) total += gz(outContent.get(name));
const all = [...outContent.values()].reduce((n, c) => n + gz(c), 0);
process.stdout.write(`build-web: ${outContent.size} files in ${path.relative(ROOT, OUT) || OUT}; ` +
  `first load ${(total / 1024).toFixed(1)} KB gzip (budget 300 KB), all ${(all / 1024).toFixed(1)} KB\n`);
if (total > BUDGET) fail(`first load is ${total} bytes gzip, over the ${BUDGET} budget`);
