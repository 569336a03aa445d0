// scatter.js - the trace search's duration scatter plot: one point per
// trace (x: start time, y: duration), errors in red, a click opens the
// trace. SVG built with createElementNS (text through textContent), drawn
// again when its width changes; the time axis spans the range or the data
// (timefit.js).
import { h, replace, s as svg } from './dom.js';
import { fmtDuration, fmtTime, msToNs, nsBig, nsToMs } from './format.js';
import { extentOf, fittedRange, shouldFit } from './timefit.js';

const HEIGHT = 170;
const PAD = { left: 64, right: 14, top: 10, bottom: 24 };
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

// Time ticks (ms) about every 1/6 of [lo, hi], on round times.
export function timeTicks(lo, hi, target = 6) {
  const step = TIME_STEPS.find((s) => (hi - lo) / s <= target) || TIME_STEPS[TIME_STEPS.length - 1];
  const tz = new Date(lo).getTimezoneOffset() * 60000;
  const out = [];
  for (let t = Math.ceil((lo - tz) / step) * step + tz; t <= hi; t += step) out.push(t);
  return { ticks: out, step };
}

// Duration axis (ns): linear from 0, or log10 when the durations span more
// than two decades. Returns {toY(ns) -> 0..1, ticks: [ns]}.
export function durationScale(durs) {
  const pos = durs.filter((d) => d > 0);
  const max = Math.max(1, ...durs);
  const min = pos.length ? Math.min(...pos) : 1;
  if (max / min > 100) {
    const lo = Math.floor(Math.log10(min));
    const hi = Math.ceil(Math.log10(max));
    const ticks = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    const span = Math.max(1, hi - lo);
    return { log: true, ticks, toY: (d) => (Math.log10(Math.max(d, 10 ** lo)) - lo) / span };
  }
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { log: false, ticks, toY: (d) => d / top };
}

// traces: trace summaries; range: timeRange(); fitParam: the URL's ?fit;
// onOpen(trace). Returns {el, fitted, destroy()}.
export function durationScatter(traces, { range, fitParam, onOpen }) {
  const pts = traces.map((t) => ({ t, x: nsToMs(t.startTimeUnixNano), d: Number(t.durationNs) || 0 }))
    .filter((p) => nsBig(p.t.startTimeUnixNano) > 0n);
  const ext = extentOf(pts.map((p) => p.x));
  const fitted = shouldFit(fitParam, ext, range);
  const [x0, x1] = fitted ? fittedRange(ext).map((s) => s * 1000) : [range.startMs, range.endMs];
  const ys = durationScale(pts.map((p) => p.d));
  const box = h('div', { class: 'scatter', dataset: { testid: 'trace-scatter', fitted: String(fitted) } });
  let width = 0;

  function draw() {
    width = box.clientWidth || 800;
    const W = width - PAD.left - PAD.right;
    const H = HEIGHT - PAD.top - PAD.bottom;
    const X = (ms) => PAD.left + ((ms - x0) / Math.max(1, x1 - x0)) * W;
    const Y = (ns) => PAD.top + H - ys.toY(ns) * H;
    const root = svg('svg', { width, height: HEIGHT, role: 'img', 'aria-label': `Duration of ${pts.length} traces over time` });
    for (const v of ys.ticks) {
      root.appendChild(svg('line', { class: 'sc-grid', x1: PAD.left, x2: PAD.left + W, y1: Y(v), y2: Y(v) }));
      root.appendChild(svg('text', { class: 'sc-label', x: PAD.left - 6, y: Y(v) + 4, 'text-anchor': 'end' }, v === 0 ? '0' : fmtDuration(v)));
    }
    const { ticks, step } = timeTicks(x0, x1, Math.max(2, Math.floor(W / 110)));
    for (const t of ticks) {
      root.appendChild(svg('line', { class: 'sc-grid', x1: X(t), x2: X(t), y1: PAD.top, y2: PAD.top + H }));
      const label = fmtTime(msToNs(t), { ms: false });
      root.appendChild(svg('text', { class: 'sc-label', x: X(t), y: HEIGHT - 6, 'text-anchor': 'middle' },
        step % 60000 === 0 ? label.slice(0, -3) : label));
    }
    // slow ones last, so the outliers are on top
    for (const p of [...pts].sort((a, b) => a.d - b.d)) {
      const err = Number(p.t.errorCount) > 0;
      const c = svg('circle', {
        class: err ? 'sc-pt err' : 'sc-pt', cx: X(p.x).toFixed(1), cy: Y(p.d).toFixed(1), r: 4.5,
        tabindex: '0', role: 'link', 'data-trace-id': p.t.traceId,
      });
      c.appendChild(svg('title', null, `${p.t.rootName || '(missing root span)'} · ${fmtDuration(p.d)} · ${fmtTime(p.t.startTimeUnixNano)}${err ? ` · ${p.t.errorCount} error${Number(p.t.errorCount) === 1 ? '' : 's'}` : ''}`));
      c.addEventListener('click', () => onOpen(p.t));
      c.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.stopPropagation(); onOpen(p.t); } });
      root.appendChild(c);
    }
    replace(box, root);
  }

  const ro = new ResizeObserver(() => { if (box.clientWidth && box.clientWidth !== width) draw(); });
  ro.observe(box);
  return { el: box, fitted, destroy: () => ro.disconnect() };
}
