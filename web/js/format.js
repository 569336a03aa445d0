// format.js - times, durations, numbers, units and attribute values as text.

// Unix nanoseconds (decimal string or number) to BigInt; 0n when unusable.
export function nsBig(ns) {
  if (typeof ns === 'bigint') return ns;
  if (typeof ns === 'number' && Number.isFinite(ns)) return BigInt(Math.trunc(ns));
  if (typeof ns === 'string' && /^\d{1,20}$/.test(ns)) return BigInt(ns);
  return 0n;
}
// Unix nanoseconds to milliseconds (Number, sub-ms precision lost).
export const nsToMs = (ns) => Number(nsBig(ns) / 1000000n) + Number(nsBig(ns) % 1000000n) / 1e6;
export const msToNs = (ms) => (BigInt(Math.trunc(ms)) * 1000000n).toString();

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "14:03:22.123" (today) or "Mar 4 14:03:22.123".
export function fmtTime(ns, { date = 'auto', ms = true } = {}) {
  const big = nsBig(ns);
  if (big === 0n) return '—';
  const d = new Date(Number(big / 1000000n));
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${ms ? `.${pad(d.getMilliseconds(), 3)}` : ''}`;
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (date === 'never' || (date === 'auto' && sameDay)) return t;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${t}`;
}

// Full local timestamp with nanoseconds: "2024-05-01 14:03:22.123456789".
export function fmtTimeFull(ns) {
  const big = nsBig(ns);
  if (big === 0n) return '—';
  const d = new Date(Number(big / 1000000n));
  const frac = pad(Number(big % 1000000000n), 9);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}`;
}

// "3 s ago", "5 min ago".
export function fmtAgo(ns) {
  const big = nsBig(ns);
  if (big === 0n) return 'never';
  const s = (Date.now() - Number(big / 1000000n)) / 1000;
  if (s < 5) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// Nanoseconds (number) to "1.23 s", "12.3 ms", "456 µs", "789 ns".
export function fmtDuration(ns) {
  const n = Number(ns);
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 1e3) return `${Math.round(n)} ns`;
  if (a < 1e6) return `${trim(n / 1e3)} µs`;
  if (a < 1e9) return `${trim(n / 1e6)} ms`;
  if (a < 60e9) return `${trim(n / 1e9)} s`;
  if (a < 3600e9) return `${Math.floor(n / 60e9)} min ${Math.round((n % 60e9) / 1e9)} s`;
  return `${Math.floor(n / 3600e9)} h ${Math.round((n % 3600e9) / 60e9)} min`;
}

// Three significant digits, no trailing zeros.
export function trim(x) {
  const a = Math.abs(x);
  const s = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

export function fmtCount(n) {
  const x = Number(n);
  if (!Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US');
}

// Three significant digits ("0.0109", "1.23", "12.3", "123"; more digits
// stay as they are: "4567").
const sig3 = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : String(Number(x.toPrecision(3))));

// A rate given per second, in the unit that reads best: "12.3/s",
// "0.65/min" below one a second, "2/h" below one a minute.
export function fmtRate(perSec) {
  const r = Number(perSec);
  if (!Number.isFinite(r)) return '—';
  if (r === 0 || r >= 1) return `${sig3(r)}/s`;
  if (r * 60 >= 1) return `${sig3(r * 60)}/min`;
  return `${sig3(r * 3600)}/h`;
}

// A ratio (0..1) as a percentage: "0%", "25%", "10.6%", "<0.1%",
// ">99.9%" (never 100% unless every one).
export function fmtPercent(ratio) {
  const x = Number(ratio);
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0%';
  if (x < 0.001) return '<0.1%';
  if (x < 1 && x > 0.999) return '>99.9%';
  return `${sig3(x * 100)}%`;
}

// A number in general: integers with separators, else 3-4 significant digits;
// very large/small in compact form.
export function fmtNumber(x) {
  if (x === null || x === undefined || x === '') return '—';
  const n = Number(x);
  if (!Number.isFinite(n)) return String(x);
  const a = Math.abs(n);
  if (a === 0) return '0';
  if (a >= 1e15 || a < 1e-4) return n.toExponential(2);
  if (a >= 1e6) return compact(n, 1e3, ['', 'k', 'M', 'G', 'T', 'P']);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return a >= 100 ? n.toFixed(1) : Number(n.toPrecision(4)).toString();
}

function compact(n, base, units) {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= base && i < units.length - 1) { v /= base; i++; }
  return `${trim(v)}${units[i] ? ` ${units[i]}` : ''}`.trim();
}

// ---- units (UCUM as used by OpenTelemetry semantic conventions) ------------
const TIME_UNITS = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, min: 60e9, h: 3600e9, d: 86400e9 };
const BYTE_UNITS = { By: 1, KBy: 1e3, MBy: 1e6, GBy: 1e9, KiBy: 1024, MiBy: 1048576, GiBy: 1073741824, bit: 1 / 8 };

// Describes a unit: {kind: 'time'|'bytes'|'ratio'|'count'|'other', label}.
export function unitInfo(unit) {
  const u = (unit || '').trim();
  if (u in TIME_UNITS) return { kind: 'time', factor: TIME_UNITS[u], label: u };
  if (u in BYTE_UNITS) return { kind: 'bytes', factor: BYTE_UNITS[u], label: 'bytes' };
  if (u === '1') return { kind: 'ratio', label: '' };
  if (u === '%') return { kind: 'percent', label: '%' };
  const ann = /^\{([^}]*)\}$/.exec(u);
  if (ann) return { kind: 'count', label: plural(ann[1]) };
  if (u === '') return { kind: 'count', label: '' };
  return { kind: 'other', label: u };
}

function plural(word) {
  if (!word) return '';
  if (/[^a-z]/i.test(word.slice(-1)) || word.endsWith('s')) return word;
  return `${word}s`;
}

function fmtBytes(b) {
  const a = Math.abs(b);
  if (a < 1024) return `${trim(b)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = b / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${trim(v)} ${units[i]}`;
}

// A metric value with its unit: fmtUnit(0.25, 's') -> "250 ms";
// fmtUnit(3, '{request}') -> "3 requests"; rate=true appends "/s".
export function fmtUnit(value, unit, { rate = false } = {}) {
  if (value === null || value === undefined) return '—';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const info = unitInfo(unit);
  const suffix = rate ? '/s' : '';
  switch (info.kind) {
    case 'time': return n === 0 ? `0${suffix}` : `${fmtDuration(n * info.factor)}${suffix}`;
    case 'bytes': return n === 0 ? `0${suffix}` : `${fmtBytes(n * info.factor)}${suffix}`;
    case 'percent': return `${fmtNumber(n)}%${suffix}`;
    case 'ratio': return rate ? `${fmtNumber(n)}/s` : fmtNumber(n);
    case 'count': return `${fmtNumber(n)}${info.label ? ` ${info.label}` : ''}${suffix}`;
    default: return `${fmtNumber(n)} ${info.label}${suffix}`;
  }
}

// A short axis label: the number and a compact unit (no count words).
export function fmtAxis(value, unit, { rate = false } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n)) return '';
  const info = unitInfo(unit);
  if (info.kind === 'time' || info.kind === 'bytes') return fmtUnit(n, unit, { rate });
  if (info.kind === 'percent') return `${fmtNumber(n)}%`;
  return `${fmtNumber(n)}${rate ? '/s' : ''}`;
}

// The y axis title for a unit ("requests/s", "bytes", "s").
export function axisTitle(unit, { rate = false } = {}) {
  const info = unitInfo(unit);
  const base = info.kind === 'time' ? '' : info.kind === 'bytes' ? '' : info.label;
  if (!base) return rate ? 'per second' : '';
  return rate ? `${base}/s` : base;
}

// ---- attribute values ---------------------------------------------------------
// Attribute values arrive as JSON (string, number, bool, array, object for
// kvlists, integers beyond 2^53 as strings, bytes as base64).
export function fmtValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try { return JSON.stringify(v); } catch { return String(v); }
}

// A log body as one line (structured bodies as compact JSON).
export function bodyText(body) {
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return body;
  return fmtValue(body);
}

export function bodyPretty(body) {
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return body;
  try { return JSON.stringify(body, null, 2); } catch { return String(body); }
}

export function shortId(id, n = 8) {
  return id ? String(id).slice(0, n) : '';
}

// Attribute set {k: v} as "k=v, k2=v2" (sorted), or a placeholder.
export function attrLabel(attrs, empty = '(no attributes)') {
  const keys = Object.keys(attrs || {}).sort();
  if (keys.length === 0) return empty;
  return keys.map((k) => `${k}=${fmtValue(attrs[k])}`).join(', ');
}

// ---- severities ---------------------------------------------------------------------
export const SEVERITIES = [
  { name: 'trace', min: 1, label: 'TRACE' },
  { name: 'debug', min: 5, label: 'DEBUG' },
  { name: 'info', min: 9, label: 'INFO' },
  { name: 'warn', min: 13, label: 'WARN' },
  { name: 'error', min: 17, label: 'ERROR' },
  { name: 'fatal', min: 21, label: 'FATAL' },
];

export function severityOf(num) {
  const n = Number(num) || 0;
  let s = null;
  for (const x of SEVERITIES) if (n >= x.min) s = x;
  return s;
}

// The text shown for a record's severity: its severityText, else the name.
export function severityLabel(rec) {
  const s = severityOf(rec.severityNumber);
  if (rec.severityText) return String(rec.severityText);
  return s ? s.label : 'UNSET';
}

export const severityClass = (num) => `sev-${(severityOf(num) || { name: 'unset' }).name}`;
