// flame.js - a trace as a flame graph (icicle): the root on top, each span
// below its parent, as wide as its duration; children side by side in
// start order, so the gap at a frame's right is its own (self) time.
// Children that ran in parallel add up to more than their parent and are
// shrunk together to fit under it. A click selects a span and zooms into
// it; the frames above a zoomed one lead back out. Frames are positioned
// elements (text only through text nodes), no library.
import { h, icon, replace } from './dom.js';
import { serviceClass } from './colors.js';
import { fmtDuration } from './format.js';

const ROW = 22; // px per depth level
const MIN_SHARE = 0.0004; // narrower frames (and what is under them) are left out

const durOf = (n) => Math.max(0, Number(n.end - n.start));

// Frames of the icicle below `top` (a tree node, or null for every root):
// [{node, x, w, depth, above}], x and w as shares of the width; `above`
// marks the ancestors shown over a zoomed frame. Iterative, so depth is
// unbounded. Returns {frames, depth (rows), hidden (spans left out)}.
export function layoutFlame(tree, top) {
  const frames = [];
  let hidden = 0;
  let depth0 = 0;
  const stack = [];
  if (top) {
    const chain = [];
    for (let n = tree.nodes.get(top.span.parentSpanId); n && chain.length < tree.nodes.size; n = tree.nodes.get(n.span.parentSpanId)) chain.unshift(n);
    for (const n of chain) frames.push({ node: n, x: 0, w: 1, depth: depth0++, above: true });
    stack.push({ list: [top], x: 0, w: 1, total: Math.max(1, durOf(top)), depth: depth0 });
  } else {
    const total = tree.roots.reduce((s, n) => s + durOf(n), 0);
    stack.push({ list: tree.roots, x: 0, w: 1, total: Math.max(1, total), depth: 0 });
  }
  let maxDepth = depth0;
  while (stack.length) {
    const { list, x, w, total, depth } = stack.pop();
    let cx = x;
    for (const n of list) {
      const nw = (w * durOf(n)) / total;
      if (nw < MIN_SHARE) {
        hidden += 1 + countBelow(n);
        continue;
      }
      frames.push({ node: n, x: cx, w: nw, depth, above: false });
      if (depth > maxDepth) maxDepth = depth;
      if (n.children.length) {
        const sum = n.children.reduce((s, c) => s + durOf(c), 0);
        stack.push({ list: n.children, x: cx, w: nw, total: Math.max(1, durOf(n), sum), depth: depth + 1 });
      }
      cx += nw;
    }
  }
  return { frames, depth: maxDepth + 1, hidden };
}

function countBelow(n) {
  let c = 0;
  const st = [...n.children];
  while (st.length) { const x = st.pop(); c++; for (const y of x.children) st.push(y); }
  return c;
}

// The flame graph of `tree` (trace.js's buildTree). onSelect(spanId) when a
// frame is clicked. Returns {el, update({selected, analysis, critical}),
// destroy}. analysis: the trace's /analysis answer or null.
export function flameGraph(tree, { onSelect, isError }) {
  let zoom = null; // the node zoomed into
  let state = { selected: '', analysis: null, critical: false };
  let byId = new Map(); // spanId -> frame element
  const canvas = h('div', { class: 'fg-canvas', dataset: { testid: 'flame-canvas' } });
  const note = h('span', { class: 'muted small', dataset: { testid: 'flame-note' } });
  const reset = h('button', {
    type: 'button', class: 'btn btn-small', dataset: { testid: 'flame-reset' }, hidden: true,
    onclick: () => { zoom = null; draw(); },
  }, icon('refresh'), 'Whole trace');
  const el = h('div', { class: 'flame', dataset: { testid: 'flamegraph' } },
    h('div', { class: 'fg-bar' }, reset, note), h('div', { class: 'fg-scroll' }, canvas));

  canvas.addEventListener('click', (e) => {
    const f = e.target instanceof Element ? e.target.closest('.fg-frame') : null;
    if (!f) return;
    const n = tree.nodes.get(f.dataset.spanId);
    if (!n) return;
    if (f.classList.contains('above')) zoom = tree.roots.includes(n) ? null : n;
    else if (n.children.length && n !== zoom) zoom = n;
    draw();
    onSelect(n.span.spanId);
  });

  function frameTitle(n) {
    const s = n.span;
    const a = state.analysis && state.analysis.spans ? state.analysis.spans[s.spanId] : null;
    const self = a ? ` · self ${fmtDuration(a.selfNs)}` : '';
    const crit = a && a.criticalNs ? ` · ${fmtDuration(a.criticalNs)} on the critical path` : '';
    return `${s.service}: ${s.name}\n${fmtDuration(durOf(n))}${self}${crit}`;
  }

  function draw() {
    const { frames, depth, hidden } = layoutFlame(tree, zoom);
    byId = new Map();
    canvas.style.height = `${depth * ROW}px`;
    replace(canvas, frames.map((f) => {
      const s = f.node.span;
      const fr = h('div', {
        class: ['fg-frame', serviceClass(s.service), f.above && 'above', isError(s) && 'err'],
        dataset: { spanId: s.spanId, depth: String(f.depth) },
        title: frameTitle(f.node),
      }, h('span', { class: 'fg-label' }, s.name), h('span', { class: 'fg-svc' }, s.service));
      fr.style.left = `${f.x * 100}%`;
      fr.style.width = `${f.w * 100}%`;
      fr.style.top = `${f.depth * ROW}px`;
      byId.set(s.spanId, fr);
      return fr;
    }));
    reset.hidden = zoom === null;
    note.textContent = `${zoom ? `Inside ${zoom.span.name}. ` : ''}Width is duration; children in start order, the gap after them is the span's own time.`
      + `${hidden ? ` ${hidden} span${hidden === 1 ? '' : 's'} too narrow to draw.` : ''}`;
    mark();
  }

  // Selection and the critical path, without a new layout.
  function mark() {
    const spans = state.analysis && state.analysis.spans;
    for (const [id, fr] of byId) {
      fr.classList.toggle('selected', id === state.selected);
      const a = spans ? spans[id] : null;
      fr.classList.toggle('off-path', state.critical && !!spans && !(a && a.critical));
      fr.classList.toggle('on-path', state.critical && !!(a && a.critical));
      fr.title = frameTitle(tree.nodes.get(id));
    }
  }

  draw();
  return {
    el,
    update(next) {
      state = { ...state, ...next };
      mark();
    },
    destroy() { replace(canvas); },
  };
}
