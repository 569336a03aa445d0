// chart.js - time-series charts on uPlot (loaded on first use, from the
// binary like every other asset). One line per series, optional exemplar
// points that open their trace, theme-aware, resized with its container.
import { h, replace } from './dom.js';
import { fmtTime, msToNs } from './format.js';
import { cssVar, paletteColors } from './colors.js';

let uplotPromise = null;
function loadUplot() {
  if (!uplotPromise) uplotPromise = import('./vendor/uplot.js').then((m) => m.default);
  return uplotPromise;
}

// Aligns series on one sorted x array (seconds). lines: [{label, points:
// [[tSec, value]], colorIndex, dash}]. Returns [xs, ys...].
export function alignSeries(lines, extraTimes = []) {
  const set = new Set(extraTimes);
  for (const l of lines) for (const [t] of l.points) set.add(t);
  const xs = [...set].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const ys = lines.map((l) => {
    const arr = new Array(xs.length).fill(null);
    for (const [t, v] of l.points) arr[index.get(t)] = v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
    return arr;
  });
  return { xs, ys, index };
}

// Draws a chart into container: the uPlot canvas and, below it, a legend
// that always shows values (each line's latest; the hovered point's while
// the cursor is on the chart) and hides/shows a line on click.
// opts: lines (see alignSeries; dash [2,3] draws dotted, others dashed),
// exemplars [{t, v, traceId, spanId}], format (y value -> text),
// axisFormat, yLabel, onExemplar(ex), height, xRange [min, max] seconds.
// Returns {destroy()}.
export async function lineChart(container, { lines, exemplars = [], format = String, axisFormat, yLabel = '', onExemplar, height = 300, xRange }) {
  const uPlot = await loadUplot();
  const { xs, ys, index } = alignSeries(lines, exemplars.map((e) => e.t));
  const exY = new Array(xs.length).fill(null);
  const exAt = new Array(xs.length).fill(null);
  for (const e of exemplars) {
    const i = index.get(e.t);
    if (i !== undefined && Number.isFinite(Number(e.v))) { exY[i] = Number(e.v); exAt[i] = e; }
  }
  const latest = ys.map((arr) => {
    for (let i = arr.length - 1; i >= 0; i--) if (arr[i] !== null) return i;
    return -1;
  });
  // the hover time is as precise as the points are close
  let minGap = Infinity;
  for (let i = 1; i < xs.length; i++) minGap = Math.min(minGap, xs[i] - xs[i - 1]);
  const timeText = (sec) => fmtTime(msToNs(sec * 1000), { ms: minGap < 1 });

  const plot = h('div', { class: 'chart-plot', dataset: { points: String(xs.length) } });
  const when = h('span', { class: 'legend-when muted' });
  const legend = h('div', { class: 'chart-legend', dataset: { testid: 'chart-legend' } });
  container.append(plot, legend);
  const hidden = new Set();
  let values = [];
  let u = null;

  const showValues = (idx) => {
    const at = idx === null || idx === undefined ? null : idx;
    values.forEach((el, i) => {
      const j = at === null ? latest[i] : at;
      const v = j >= 0 ? ys[i][j] : null;
      el.textContent = v === null || v === undefined ? '—' : format(v);
    });
    when.textContent = at === null ? 'Latest values' : timeText(xs[at]);
  };

  const drawLegend = (colors, exColor) => {
    values = [];
    const items = lines.map((l, i) => {
      const sw = h('span', { class: 'legend-swatch' });
      sw.style.color = colors[l.colorIndex % colors.length];
      if (l.dash) sw.style.borderTopStyle = l.dash[0] <= 2 ? 'dotted' : 'dashed';
      const val = h('span', { class: 'legend-value mono' });
      values.push(val);
      return h('button', {
        type: 'button', class: ['legend-item', hidden.has(i) && 'off'], 'aria-pressed': String(!hidden.has(i)),
        title: `${l.label} (click to hide or show)`, dataset: { testid: 'legend-item' },
        onclick: (e) => {
          if (hidden.has(i)) hidden.delete(i); else hidden.add(i);
          e.currentTarget.classList.toggle('off', hidden.has(i));
          e.currentTarget.setAttribute('aria-pressed', String(!hidden.has(i)));
          if (u) u.setSeries(i + 1, { show: !hidden.has(i) });
        },
      }, sw, h('span', { class: 'legend-label' }, l.label), val);
    });
    let exItem = null;
    if (exemplars.length) {
      const sw = h('span', { class: 'legend-swatch legend-dot' });
      sw.style.color = exColor;
      exItem = h('span', { class: 'legend-item legend-static' }, sw, h('span', { class: 'legend-label' }, `Exemplars (${exemplars.length})${onExemplar ? ': click one to open its trace' : ''}`));
    }
    replace(legend, when, items, exItem);
    showValues(null);
  };

  const make = () => {
    const colors = paletteColors();
    const fg = cssVar('--fg-muted') || '#888';
    const grid = cssVar('--grid') || 'rgba(128,128,128,.15)';
    const exColor = cssVar('--exemplar') || '#e11d48';
    const series = [{ value: (self, v) => (v === null || v === undefined ? '—' : timeText(v)) }];
    lines.forEach((l, i) => series.push({
      label: l.label,
      show: !hidden.has(i),
      stroke: colors[l.colorIndex % colors.length],
      width: 1.75,
      dash: l.dash,
      spanGaps: true,
      points: { show: xs.length < 60, size: 4 },
      value: (self, v) => (v === null || v === undefined ? '—' : format(v)),
    }));
    if (exemplars.length) {
      series.push({
        label: 'Exemplars',
        stroke: exColor,
        fill: exColor,
        paths: () => null,
        points: { show: true, size: 9, stroke: exColor, fill: exColor },
        value: (self, v) => (v === null || v === undefined ? '—' : `${format(v)} (click to open trace)`),
      });
    }
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts = {
      width: Math.max(200, container.clientWidth),
      height,
      series,
      scales: { x: { time: true, ...(xRange ? { range: () => xRange } : {}) } },
      axes: [axis, {
        ...axis,
        label: yLabel || undefined,
        labelSize: yLabel ? 18 : 0,
        size: (self, vals) => 16 + Math.max(4, ...(vals || []).map((v) => String(v).length)) * 8,
        values: (self, ticks) => ticks.map((v) => (axisFormat || format)(v)),
      }],
      legend: { show: false },
      cursor: { points: { size: 7 }, focus: { prox: 24 } },
      focus: { alpha: 0.35 },
      hooks: {
        setCursor: [(self) => showValues(self.cursor.idx)],
        // the x scale and point count, readable by tests and tools
        setScale: [(self, key) => {
          if (key !== 'x') return;
          plot.dataset.xMin = String(self.scales.x.min);
          plot.dataset.xMax = String(self.scales.x.max);
        }],
      },
    };
    const data = [xs, ...ys];
    if (exemplars.length) data.push(exY);
    drawLegend(colors, exColor);
    u = new uPlot(opts, data, plot);
    if (exemplars.length && onExemplar) {
      u.over.addEventListener('click', () => {
        const i = u.cursor.idx;
        if (i === null || i === undefined) return;
        // the nearest exemplar within a few pixels of the cursor
        let best = null;
        let bestD = 12;
        for (let k = Math.max(0, i - 3); k <= Math.min(xs.length - 1, i + 3); k++) {
          if (!exAt[k]) continue;
          const dx = Math.abs(u.valToPos(xs[k], 'x') - u.cursor.left);
          const dy = Math.abs(u.valToPos(exY[k], 'y') - u.cursor.top);
          const d = Math.hypot(dx, dy);
          if (d < bestD) { bestD = d; best = exAt[k]; }
        }
        if (best) onExemplar(best);
      });
    }
  };
  make();
  const ro = new ResizeObserver(() => {
    if (u && container.clientWidth > 0) u.setSize({ width: Math.max(200, container.clientWidth), height });
  });
  ro.observe(container);
  const onTheme = () => { if (u) { u.destroy(); u = null; } make(); };
  window.addEventListener('loupe:theme', onTheme);
  return {
    destroy() {
      ro.disconnect();
      window.removeEventListener('loupe:theme', onTheme);
      if (u) u.destroy();
      u = null;
    },
  };
}

// Bars for a histogram's buckets (DOM, not canvas: readable and testable).
// bounds: upper bounds (n), counts: n+1 counts. format: bound -> text.
export function bucketBars(bounds, counts, format) {
  const max = Math.max(1, ...counts.map(Number));
  const total = counts.reduce((a, b) => a + Number(b), 0);
  const rows = counts.map((c, i) => {
    const lo = i === 0 ? null : bounds[i - 1];
    const hi = i < bounds.length ? bounds[i] : null;
    const label = lo === null ? `≤ ${format(hi)}` : hi === null ? `> ${format(lo)}` : `${format(lo)} – ${format(hi)}`;
    const bar = h('span', { class: 'bucket-bar' });
    bar.style.width = `${(100 * Number(c)) / max}%`;
    return h('div', { class: ['bucket', Number(c) === 0 && 'empty'] },
      h('span', { class: 'bucket-label mono' }, label),
      h('span', { class: 'bucket-track' }, bar),
      h('span', { class: 'bucket-count mono' }, `${Number(c).toLocaleString('en-US')}${total ? ` (${((100 * Number(c)) / total).toFixed(total > 1000 ? 1 : 0)}%)` : ''}`));
  });
  return h('div', { class: 'buckets', dataset: { testid: 'buckets' } }, rows);
}
