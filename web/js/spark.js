// spark.js - sparklines for table cells: small SVG charts of a series over
// the time range, without axes. Bars for counts (calls, with the failed
// part in the error colour), a line for a duration. Values come in steps of
// equal width; null is a step without data (a gap in a line).
import { s } from './dom.js';

const W = 96;
const H = 22;

// calls[i], errors[i]: counts per step. label: the accessible name.
export function sparkBars(calls, errors, { label, width = W, height = H } = {}) {
  const n = calls.length;
  const max = Math.max(1, ...calls.map((c) => Number(c) || 0));
  const bw = width / Math.max(1, n);
  const gap = bw > 3 ? 1 : 0;
  const bars = [];
  for (let i = 0; i < n; i++) {
    const c = Number(calls[i]) || 0;
    if (c <= 0) continue;
    const e = Math.min(c, Number(errors[i]) || 0);
    const hc = Math.max(1.5, (c / max) * height);
    const he = e > 0 ? Math.max(1.5, (e / max) * height) : 0;
    const x = (i * bw).toFixed(1);
    const w = Math.max(0.8, bw - gap).toFixed(1);
    bars.push(s('rect', { class: 'spark-bar', x, y: (height - hc).toFixed(1), width: w, height: hc.toFixed(1) }));
    if (he) bars.push(s('rect', { class: 'spark-bar-err', x, y: (height - he).toFixed(1), width: w, height: he.toFixed(1) }));
  }
  return frame(width, height, label, bars);
}

// values[i]: a number per step or null. The line starts at the lowest value
// of the series' range scaled from 0 (durations read as "how high").
export function sparkLine(values, { label, width = W, height = H } = {}) {
  const n = values.length;
  const nums = values.filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const max = Math.max(...nums, 0) || 1;
  const x = (i) => (n <= 1 ? width / 2 : (i / (n - 1)) * (width - 2) + 1);
  const y = (v) => height - 1 - (Number(v) / max) * (height - 3);
  const parts = [];
  let run = [];
  const flush = () => {
    if (run.length === 1) parts.push(s('circle', { class: 'spark-dot', cx: run[0][0].toFixed(1), cy: run[0][1].toFixed(1), r: 1.6 }));
    else if (run.length > 1) parts.push(s('polyline', { class: 'spark-line', points: run.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ') }));
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) flush();
    else run.push([x(i), y(v)]);
  });
  flush();
  return frame(width, height, label, parts);
}

function frame(width, height, label, children) {
  return s('svg', {
    class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label || 'trend',
  }, label ? s('title', null, label) : null, s('line', { class: 'spark-base', x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5 }), children);
}

// Sums operations' series (GET /api/v1/services/{name}/operations) into
// steps over the answer's window: {calls[], errors[], p99[] (the highest
// operation p99 of each step), times[] (unix ns strings)}.
export function stepsOf(answer, ops = answer.operations || []) {
  const start = BigInt(answer.startTimeUnixNano || '0');
  const end = BigInt(answer.endTimeUnixNano || '0');
  const step = BigInt(Math.max(1, Number(answer.stepNs) || 60e9));
  const n = Math.max(1, Math.min(10000, Number((end - start + step - 1n) / step)));
  const calls = new Array(n).fill(0);
  const errors = new Array(n).fill(0);
  const p99 = new Array(n).fill(null);
  for (const op of ops) {
    for (const p of op.series || []) {
      const i = Number((BigInt(p.timeUnixNano) - start) / step);
      if (i < 0 || i >= n) continue;
      calls[i] += Number(p.calls) || 0;
      errors[i] += Number(p.errors) || 0;
      if (Number(p.calls) > 0) p99[i] = Math.max(p99[i] ?? 0, Number(p.p99Ns) || 0);
    }
  }
  const times = calls.map((_, i) => (start + BigInt(i) * step).toString());
  return { calls, errors, p99, times, stepNs: Number(step) };
}
