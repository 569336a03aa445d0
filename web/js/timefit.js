// timefit.js - the time axis of charts over the selected range: the whole
// range, or fitted to the data present. Fitting is the default when the
// data is sparse (covers under a quarter of the range: two minutes of data
// in "Last hour" would otherwise fill the right 3% of the chart); the
// reader can choose either (?fit=1 / ?fit=0).
import { h } from './dom.js';
import { withParams } from './state.js';

export const SPARSE = 0.25;

// Whether to fit: the URL's choice, else whether the data [minMs, maxMs]
// covers less than SPARSE of the range. No data: never.
export function shouldFit(fitParam, extent, range) {
  if (!extent) return false;
  if (fitParam === '1') return true;
  if (fitParam === '0') return false;
  return extent[1] - extent[0] < SPARSE * (range.endMs - range.startMs);
}

// The x range (seconds) for data [minMs, maxMs]: a small margin either side
// so the first and last points are not on the frame (at least `minPadMs`).
export function fittedRange(extent, { minPadMs = 1000 } = {}) {
  const pad = Math.max(minPadMs, (extent[1] - extent[0]) * 0.03);
  return [(extent[0] - pad) / 1000, (extent[1] + pad) / 1000];
}

export function extentOf(timesMs) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of timesMs) {
    if (!Number.isFinite(t)) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return lo <= hi ? [lo, hi] : null;
}

// "Whole range | Fit to data" links (they keep the rest of the URL).
export function fitToggle(fitted) {
  return h('span', { class: 'seg', role: 'group', 'aria-label': 'Time axis' },
    h('a', { class: ['seg-btn', !fitted && 'active'], href: withParams({ fit: '0' }), dataset: { nav: '', testid: 'fit-off' }, title: 'The time axis spans the selected range' }, 'Whole range'),
    h('a', { class: ['seg-btn', fitted && 'active'], href: withParams({ fit: '1' }), dataset: { nav: '', testid: 'fit-on' }, title: 'The time axis spans the data present' }, 'Fit to data'));
}
