// map.js - the service map (/map): what calls what in the selected range,
// from GET /api/v1/service-map, laid out left to right by dagre (loaded on
// this page only). A node per service and per database, queue or outside
// host the services call (its shape and icon by kind) with its rate, failed
// share and p99; an edge per caller and callee, as wide as its calls and
// coloured by its failed share. Nodes and edges are links (Tab, Enter):
// they open the trace search for what they stand for, in the same range,
// and say in their tooltip which search that is and why. A table of the
// connections below lists the same figures as text.
import { h, replace, s } from '../dom.js';
import { apiGet, getServices } from '../api.js';
import { navigate, pageLink, rangeParams, timeRange, windowParams } from '../state.js';
import { emptyState, errorState, loadingState, onboarding } from '../components.js';
import { serviceClass } from '../colors.js';
import { fmtCount, fmtDuration, fmtPercent, fmtRate } from '../format.js';

let dagrePromise = null;
function loadDagre() {
  if (!dagrePromise) dagrePromise = import('../vendor/dagre.js').then((m) => m.default);
  return dagrePromise;
}

const NODE_W = 214;
const NODE_H = 58;
const LABEL_W = 92;
const LABEL_H = 16;
const WARN = 0.05; // a failed share from here on is drawn as an error

export const KINDS = {
  service: 'Service',
  database: 'Database',
  messaging: 'Queue or topic',
  external: 'Outside host',
};

// Icon paths per kind, on a 16x16 grid (constants, not data).
const GLYPHS = {
  service: 'M2 3h12v4H2zM2 9h12v4H2zM5 5h.01M5 11h.01',
  database: 'M2 4c0-1.5 12-1.5 12 0v8c0 1.5-12 1.5-12 0zM2 4c0 1.5 12 1.5 12 0M2 8c0 1.5 12 1.5 12 0',
  messaging: 'M1 4h14v8H1zM1 4l7 5 7-5',
  external: 'M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zM1 8h14M8 1c-3 3.5-3 10.5 0 14M8 1c3 3.5 3 10.5 0 14',
};

// A node stands for something that sends no telemetry of its own when its
// id is not its name (database:pg@db, external:host:443, service:NAME).
export const isVirtual = (n) => n.id !== n.name;

// A node's name as shown.
export const label = (n) => (n.kind === 'external' && n.name === 'unknown' && isVirtual(n) ? 'unknown host' : n.name);

const errClass = (errors, calls) => {
  const r = calls > 0 ? errors / calls : 0;
  return r === 0 ? 'ok' : r < WARN ? 'warn' : 'err';
};

// The attribute filters that find the CLIENT/PRODUCER spans calling a
// virtual node, most likely first, as the server named the node (see
// docs/api.md, service map): [{attr: [...], what}]. Empty when none can.
export function attrCandidates(node) {
  const name = node.name || '';
  switch (node.kind) {
    case 'database': {
      const at = name.indexOf('@');
      const sys = at < 0 ? name : name.slice(0, at);
      const host = at < 0 ? '' : name.slice(at + 1);
      const addr = host ? [`server.address=${host}`] : [];
      return [
        { attr: [`db.system.name=${sys}`, ...addr], what: `db.system.name ${sys}${host ? `, server.address ${host}` : ' on any host'}` },
        { attr: [`db.system=${sys}`, ...addr], what: `db.system ${sys}${host ? `, server.address ${host}` : ' on any host'}` },
      ];
    }
    case 'messaging': {
      const sp = name.indexOf(' ');
      const sys = sp < 0 ? name : name.slice(0, sp);
      const dest = sp < 0 ? '' : name.slice(sp + 1);
      return [{
        attr: [`messaging.system=${sys}`, ...(dest ? [`messaging.destination.name=${dest}`] : [])],
        what: `messaging.system ${sys}${dest ? `, messaging.destination.name ${dest}` : ''}`,
      }];
    }
    case 'external': {
      if (name === 'unknown') return [];
      const m = /^(.*):(\d+)$/.exec(name);
      const host = m ? m[1] : name;
      const port = m ? m[2] : '';
      return [
        { attr: [`server.address=${host}`, ...(port ? [`server.port=${port}`] : [])], what: `server.address ${host}${port ? `, server.port ${port}` : ''}` },
        { attr: [`net.peer.name=${host}`, ...(port ? [`net.peer.port=${port}`] : [])], what: `net.peer.name ${host}${port ? `, net.peer.port ${port}` : ''}` },
        { attr: [`url.full~${host}`], what: `url.full containing ${host}` },
      ];
    }
    case 'service':
      return [{ attr: [`peer.service=${name}`], what: `peer.service ${name}` }];
    default:
      return [];
  }
}

// What a click on a node or an edge opens: {tries: [{params, why}] (a
// search, taken when it finds a trace in the range), last: {params, why}
// (taken otherwise)}. map: the service map; item: a node, or an edge
// {source, target}.
export function clickTarget(map, item) {
  const node = (id) => map.nodes.find((n) => n.id === id) || { id, name: id, kind: 'service' };
  if (item.source !== undefined) {
    const callee = node(item.target);
    const caller = node(item.source).name;
    const to = label(callee);
    if (!isVirtual(callee)) {
      const only = map.edges.filter((e) => e.target === item.target).length === 1;
      return {
        tries: [],
        last: {
          params: { service: callee.name },
          why: `Opens the traces with a span of ${to} in the range. The trace search matches one span at a time, so it cannot ask for "${to} called by ${caller}"; ${only ? `here ${caller} is its only caller.` : 'traces where its other callers call it are listed too.'}`,
        },
      };
    }
    const cands = attrCandidates(callee);
    return {
      tries: cands.map((c) => ({
        params: { service: caller, attr: c.attr },
        why: `Opens the traces where a span of ${caller} calls ${to} (${c.what}) in the range.`,
      })),
      last: { params: { service: caller }, why: `Opens the traces of ${caller}, the caller: ${cands.length ? 'no span of it names' : 'nothing names'} ${to} in a way the trace search can match.` },
    };
  }
  const me = label(item);
  if (!isVirtual(item)) {
    return { tries: [], last: { params: { service: item.name }, why: `Opens the traces of ${me} in the range.` } };
  }
  const callers = map.edges.filter((e) => e.target === item.id).sort((a, b) => b.calls - a.calls).map((e) => node(e.source).name);
  const cands = attrCandidates(item);
  const busiest = callers[0];
  return {
    tries: cands.map((c) => ({
      params: { attr: c.attr },
      why: `Opens the traces with a span calling ${me} (${c.what}) in the range${callers.length > 1 ? `, from any of its callers (${callers.join(', ')})` : ''}.`,
    })),
    last: busiest
      ? { params: { service: busiest }, why: `Opens the traces of ${busiest}, ${callers.length > 1 ? 'its busiest caller' : 'its caller'}: ${cands.length ? 'no span names' : 'nothing names'} ${me} in a way the trace search can match.` }
      : { params: {}, why: 'Opens the trace search in the range.' },
  };
}

// What a click target opens, said in a sentence or two (sep between them).
function whyText(target, sep = '\n') {
  if (!target.tries.length) return target.last.why;
  return `${target.tries[0].why}${sep}When that finds nothing, it ${target.last.why.replace(/^Opens/, 'opens')}`;
}

// Follows a click target: the first search that finds a trace in the range
// (GET /api/v1/traces, limit 1), else the last resort.
async function resolve(target, signal) {
  const rp = rangeParams();
  for (const t of target.tries) {
    try {
      const body = await apiGet('/traces', { ...rp, ...t.params, limit: 1 }, { signal });
      if ((body.traces || []).length) return t.params;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
  }
  return target.last.params;
}

// A path through dagre's edge points, its bends rounded.
function edgePath(points) {
  const p = points.map((q) => [q.x, q.y]);
  const f = (n) => n.toFixed(1);
  let d = `M${f(p[0][0])},${f(p[0][1])}`;
  for (let i = 1; i < p.length - 1; i++) {
    const mx = (p[i][0] + p[i + 1][0]) / 2;
    const my = (p[i][1] + p[i + 1][1]) / 2;
    d += ` Q${f(p[i][0])},${f(p[i][1])} ${f(mx)},${f(my)}`;
  }
  const last = p[p.length - 1];
  return `${d} L${f(last[0])},${f(last[1])}`;
}

// A node's outline by kind, w x h at the origin.
function nodeShape(kind, w, hgt) {
  switch (kind) {
    case 'database': {
      const ry = 7;
      return s('path', {
        class: 'map-shape',
        d: `M0,${ry} A${w / 2},${ry} 0 0 1 ${w},${ry} V${hgt - ry} A${w / 2},${ry} 0 0 1 0,${hgt - ry} Z M0,${ry} A${w / 2},${ry} 0 0 0 ${w},${ry}`,
      });
    }
    case 'messaging':
      return s('rect', { class: 'map-shape', x: 0, y: 0, width: w, height: hgt, rx: hgt / 2 });
    case 'external':
      return s('rect', { class: 'map-shape map-shape-dashed', x: 0, y: 0, width: w, height: hgt, rx: 4 });
    default:
      return s('rect', { class: 'map-shape', x: 0, y: 0, width: w, height: hgt, rx: 9 });
  }
}

const glyph = (kind, x, y) => s('path', { class: 'map-glyph', d: GLYPHS[kind] || GLYPHS.service, transform: `translate(${x},${y})` });

// Text that fits about `max` characters, the whole of it in a tooltip.
const fit = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function mount(root, { params, signal }) {
  document.title = 'Service map · loupe';
  const range = timeRange(params);
  const within = range.label.toLowerCase();
  const seconds = Math.max(1, (range.endMs - range.startMs) / 1000);
  const note = h('span', { class: 'muted count', dataset: { testid: 'map-note' } });
  const body = h('div', { class: 'page-body' }, loadingState('Loading the service map…'));
  root.appendChild(h('div', { class: 'page page-map' },
    h('div', { class: 'page-head' }, h('h1', null, 'Service map'), note,
      h('span', { class: 'spacer' }),
      h('a', { class: 'btn', href: pageLink('/services'), dataset: { nav: '' } }, 'Services')),
    body));
  let gen = 0;
  let busy = null; // the click being resolved

  async function load() {
    const my = ++gen;
    let map;
    let dagre;
    try {
      [map, dagre] = await Promise.all([apiGet('/service-map', windowParams(params), { signal }), loadDagre()]);
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(body, errorState(e, 'a service map', { retry: load }));
      return;
    }
    if (my !== gen) return;
    map.nodes = map.nodes || [];
    map.edges = map.edges || [];
    if (!map.nodes.length) {
      let any = true;
      try { any = (await getServices({ signal })).length > 0; } catch { /* keep the plain empty state */ }
      if (my !== gen) return;
      replace(note);
      replace(body, any
        ? emptyState(`No requests in ${within}`, 'The map shows the services that served requests or called others in the range. Pick a longer range, or send some traffic.')
        : onboarding());
      return;
    }
    draw(map, dagre);
  }

  async function open(target, el) {
    if (busy) busy.abort();
    const ctrl = new AbortController();
    busy = ctrl;
    signal.addEventListener('abort', () => ctrl.abort(), { once: true });
    if (el) el.classList.add('map-busy');
    try {
      const p = await resolve(target, ctrl.signal);
      if (!ctrl.signal.aborted) navigate(pageLink('/traces', p));
    } catch { /* left the page, or a newer click */ } finally {
      if (el) el.classList.remove('map-busy');
      if (busy === ctrl) busy = null;
    }
  }

  // Activation by click, Enter or Space.
  const activate = (target) => ({
    onclick: (e) => open(target, e.currentTarget),
    onkeydown: (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); e.stopPropagation(); open(target, e.currentTarget); }
    },
  });

  function draw(map, dagre) {
    const g = new dagre.graphlib.Graph({ multigraph: false });
    g.setGraph({ rankdir: 'LR', nodesep: 26, ranksep: 130, edgesep: 18, marginx: 14, marginy: 14 });
    g.setDefaultEdgeLabel(() => ({}));
    const known = new Map(map.nodes.map((n) => [n.id, n]));
    for (const e of map.edges) {
      for (const id of [e.source, e.target]) if (!known.has(id)) known.set(id, { id, name: id, kind: 'service', calls: 0, errors: 0 });
    }
    for (const n of known.values()) g.setNode(n.id, { width: NODE_W, height: NODE_H });
    for (const e of map.edges) if (e.source !== e.target) g.setEdge(e.source, e.target, { width: LABEL_W, height: LABEL_H, labelpos: 'c' });
    dagre.layout(g);
    const gw = Math.ceil(g.graph().width || NODE_W);
    const gh = Math.ceil(g.graph().height || NODE_H);
    const maxCalls = Math.max(1, ...map.edges.map((e) => Number(e.calls) || 0));

    // an arrowhead per edge, sized by its width
    const markers = [];
    const arrow = (cls, width) => {
      const id = `map-arrow-${markers.length}`;
      const size = (7 + width * 1.6).toFixed(1);
      markers.push(s('marker', {
        id, class: `map-arrow edge-${cls}`, viewBox: '0 0 10 10', refX: 8, refY: 5,
        markerWidth: size, markerHeight: size, markerUnits: 'userSpaceOnUse', orient: 'auto',
      }, s('path', { d: 'M0,0 L10,5 L0,10 z' })));
      return `url(#${id})`;
    };

    // Tab order: the nodes in reading order (left to right, top to bottom),
    // then the connections in the order of their ends. A connection is
    // drawn in two parts: its line under the nodes (an edge may pass a node
    // of the same rank), its label above them, which is what takes focus.
    const at = (id) => g.node(id);
    const before = (a, b) => at(a).x - at(b).x || at(a).y - at(b).y;
    const drawn = map.edges.filter((e) => e.source !== e.target && g.edge(e.source, e.target))
      .sort((a, b) => before(a.source, b.source) || before(a.target, b.target));
    const lineEls = [];
    const edgeEls = drawn.map((e) => {
      const lay = g.edge(e.source, e.target);
      const calls = Number(e.calls) || 0;
      const errors = Number(e.errors) || 0;
      const cls = errClass(errors, calls);
      const width = 1.5 + 6 * Math.sqrt(calls / maxCalls);
      const from = label(known.get(e.source));
      const to = label(known.get(e.target));
      const target = clickTarget(map, e);
      const figures = `${fmtCount(calls)} call${calls === 1 ? '' : 's'}, ${fmtRate(calls / seconds)}, ${fmtCount(errors)} failed (${fmtPercent(calls ? errors / calls : 0)}), p99 ${fmtDuration(e.p99Ns)}`;
      const tip = `${from} → ${to}: ${figures}.\n${whyText(target)}`;
      const d = edgePath(lay.points);
      const ends = { source: e.source, target: e.target };
      const sw = s('path', { class: 'map-edge-line', d, 'marker-end': arrow(cls, width) });
      sw.style.strokeWidth = `${width.toFixed(1)}px`;
      const line = s('g', { class: ['map-edge-shape', `edge-${cls}`], dataset: { ...ends, testid: 'map-edge-shape' }, ...activate(target) },
        s('title', null, tip), s('path', { class: 'map-edge-hit', d }), sw);
      lineEls.push(line);
      const hot = (on) => { line.classList.toggle('active', on); };
      return s('g', {
        class: ['map-edge', `edge-${cls}`], tabindex: '0', role: 'link',
        'aria-label': `${from} calls ${to}: ${figures}. ${whyText(target, ' ')}`,
        dataset: { ...ends, calls: String(calls), errors: String(errors), testid: 'map-edge' },
        ...activate(target),
        onfocus: () => hot(true), onblur: () => hot(false), onmouseenter: () => hot(true), onmouseleave: () => hot(false),
      },
      s('title', null, tip),
      s('text', { class: 'map-edge-label', x: lay.x.toFixed(1), y: (lay.y + 4).toFixed(1), 'text-anchor': 'middle', dataset: { testid: 'edge-label' } },
        `${fmtRate(calls / seconds)}${errors ? ` · ${fmtPercent(errors / calls)}` : ''}`));
    });

    const ordered = [...known.values()].sort((a, b) => before(a.id, b.id));
    const nodeEls = ordered.map((n) => {
      const pos = g.node(n.id);
      const calls = Number(n.calls) || 0;
      const errors = Number(n.errors) || 0;
      const kind = KINDS[n.kind] ? n.kind : 'service';
      const virtual = isVirtual(n);
      const target = clickTarget(map, n);
      const noun = virtual ? 'call' : 'request';
      const figures = calls
        ? `${fmtCount(calls)} ${noun}${calls === 1 ? '' : 's'}, ${fmtRate(calls / seconds)}, ${fmtCount(errors)} failed (${fmtPercent(errors / calls)}), p50 ${fmtDuration(n.p50Ns)}, p99 ${fmtDuration(n.p99Ns)}`
        : `no ${noun}s`;
      const tip = `${label(n)} (${KINDS[kind].toLowerCase()}${virtual ? ', sends no telemetry: figures from its callers\u2019 spans' : ''}): ${figures}.\n${whyText(target)}`;
      const cls = errClass(errors, calls);
      return s('g', {
        class: ['map-node', `kind-${kind}`, !virtual && serviceClass(n.name), virtual && 'virtual', `node-${cls}`],
        transform: `translate(${(pos.x - NODE_W / 2).toFixed(1)},${(pos.y - NODE_H / 2).toFixed(1)})`,
        tabindex: '0', role: 'link',
        'aria-label': `${label(n)}, ${KINDS[kind].toLowerCase()}: ${figures}. ${whyText(target, ' ')}`,
        dataset: { id: n.id, kind, testid: 'map-node' },
        ...activate(target),
        onmouseenter: () => highlight(n.id),
        onmouseleave: () => highlight(null),
        onfocus: () => highlight(n.id),
        onblur: () => highlight(null),
      },
      s('title', null, tip),
      nodeShape(kind, NODE_W, NODE_H),
      virtual ? null : s('rect', { class: 'map-stripe', x: 0, y: 9, width: 4, height: NODE_H - 18, rx: 2 }),
      glyph(kind, 14, 12),
      s('text', { class: 'map-name', x: 38, y: 24, dataset: { testid: 'node-name' } }, fit(label(n), 24)),
      s('text', { class: 'map-figs', x: 14, y: 45 },
        calls
          ? [s('tspan', { dataset: { testid: 'node-rate' } }, fmtRate(calls / seconds)),
            s('tspan', { class: 'map-sep' }, '  ·  '),
            s('tspan', { class: errors ? 'map-err' : null, dataset: { testid: 'node-errors' } }, `${fmtPercent(errors / calls)} failed`),
            s('tspan', { class: 'map-sep' }, '  ·  '),
            s('tspan', { dataset: { testid: 'node-p99' } }, `p99 ${fmtDuration(n.p99Ns)}`)]
          : s('tspan', { class: 'map-muted' }, `no ${noun}s in the range`)));
    });

    const svg = s('svg', {
      class: 'map-svg', width: gw, height: gh, viewBox: `0 0 ${gw} ${gh}`, role: 'group',
      'aria-label': `Service map: ${known.size} nodes, ${edgeEls.length} connections`, dataset: { testid: 'service-map' },
    }, s('defs', null, markers), s('g', { class: 'map-edge-shapes' }, lineEls), s('g', { class: 'map-nodes' }, nodeEls),
    s('g', { class: 'map-edges' }, edgeEls));
    svg.style.maxWidth = '100%';
    svg.style.height = 'auto';

    function highlight(id) {
      svg.classList.toggle('map-focus', id !== null);
      for (const el of [...edgeEls, ...lineEls]) el.classList.toggle('hl', id !== null && (el.dataset.source === id || el.dataset.target === id));
      for (const el of nodeEls) {
        const nid = el.dataset.id;
        el.classList.toggle('hl', id !== null && (nid === id || map.edges.some((e) => (e.source === id && e.target === nid) || (e.target === id && e.source === nid))));
      }
    }

    const services = [...known.values()].filter((n) => !isVirtual(n)).length;
    note.textContent = `In ${within}: ${services} service${services === 1 ? '' : 's'}, ${known.size - services} other node${known.size - services === 1 ? '' : 's'}, ${edgeEls.length} connection${edgeEls.length === 1 ? '' : 's'}`;
    // a refresh keeps the focus on the same node or connection
    const key = (el) => (el.dataset.id !== undefined ? `n ${el.dataset.id}` : `e ${el.dataset.source} ${el.dataset.target}`);
    const had = document.activeElement instanceof SVGElement && body.contains(document.activeElement) ? key(document.activeElement) : null;
    replace(body, legend(), h('div', { class: 'map-canvas' }, svg), connections(map, known));
    if (had) {
      const again = [...nodeEls, ...edgeEls].find((el) => key(el) === had);
      if (again) again.focus();
    }
  }

  function legend() {
    const mini = (kind) => s('svg', { class: `map-key-shape kind-${kind}`, width: 30, height: 18, viewBox: '0 0 30 18', 'aria-hidden': 'true' },
      nodeShape(kind, 28, 16), glyph(kind, 7, 1));
    const line = (cls) => s('svg', { class: `map-key-edge edge-${cls}`, width: 30, height: 10, viewBox: '0 0 30 10', 'aria-hidden': 'true' },
      s('line', { class: 'map-edge-line', x1: 1, x2: 29, y1: 5, y2: 5 }));
    return h('div', { class: 'map-legend small muted', dataset: { testid: 'map-legend' } },
      Object.entries(KINDS).map(([k, label]) => h('span', { class: 'map-key' }, mini(k), label)),
      h('span', { class: 'map-key' }, line('ok'), 'no failures'),
      h('span', { class: 'map-key' }, line('warn'), `under ${WARN * 100}% failed`),
      h('span', { class: 'map-key' }, line('err'), `${WARN * 100}% or more failed`),
      h('span', null, 'Width: calls. Tab to a node or a connection and press Enter to open its traces.'));
  }

  function connections(map, known) {
    const rows = [...map.edges].sort((a, b) => b.calls - a.calls).map((e) => {
      const target = clickTarget(map, e);
      const calls = Number(e.calls) || 0;
      const errors = Number(e.errors) || 0;
      const first = target.tries.length ? target.tries[0] : target.last;
      return h('tr', { class: 'conn-row', dataset: { source: e.source, target: e.target } },
        h('td', null, label(known.get(e.source))),
        h('td', null, h('span', { class: `map-kind-label kind-${known.get(e.target).kind}` }, label(known.get(e.target))),
          isVirtual(known.get(e.target)) ? h('span', { class: 'muted small' }, ` ${(KINDS[known.get(e.target).kind] || '').toLowerCase()}`) : null),
        h('td', { class: 'num' }, fmtCount(calls)),
        h('td', { class: 'num' }, fmtRate(calls / seconds)),
        h('td', { class: ['num', errors > 0 && 'err-text'] }, `${fmtCount(errors)} (${fmtPercent(calls ? errors / calls : 0)})`),
        h('td', { class: 'num' }, fmtDuration(e.p50Ns)),
        h('td', { class: 'num' }, fmtDuration(e.p99Ns)),
        h('td', null, h('a', {
          href: pageLink('/traces', first.params), title: first.why, dataset: { testid: 'conn-traces' },
          onclick: (ev) => { ev.preventDefault(); open(target, ev.currentTarget); },
        }, 'Traces')));
    });
    return h('div', { class: 'table-wrap' }, h('table', { class: 'table conn-table', dataset: { testid: 'map-connections' } },
      h('caption', { class: 'muted small' }, 'Connections: the calls from one service to another, or to what it calls.'),
      h('thead', null, h('tr', null, h('th', null, 'From'), h('th', null, 'To'), h('th', { class: 'num' }, 'Calls'),
        h('th', { class: 'num' }, 'Rate'), h('th', { class: 'num' }, 'Failed'), h('th', { class: 'num' }, 'p50'),
        h('th', { class: 'num' }, 'p99'), h('th', null, 'Open'))),
      h('tbody', null, rows)));
  }

  load();
  return {
    refresh: load,
    unmount: () => { if (busy) busy.abort(); },
  };
}
