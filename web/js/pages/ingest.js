// ingest.js - the ingest inspector: every export request loupe answered
// lately (GET /api/v1/ingest/requests), newest first and live, with what
// was sent (protocol, sizes, items, SDK, service, user agent) and what
// happened, refusals explained in words a user can act on; and the clients
// that sent them (GET /api/v1/ingest/clients). The log is a ring kept in
// memory (--ingest-log-size), so the page's time range does not apply.
import { h, icon, replace } from '../dom.js';
import { apiGet } from '../api.js';
import { navigate, pageLink, setParams, withParams } from '../state.js';
import { subscribeLive } from '../live.js';
import { emptyState, errorState, fieldTable, loadingState, onboarding, section, select, serviceDot } from '../components.js';
import { fmtAgo, fmtCount, fmtDuration, fmtTime, fmtTimeFull } from '../format.js';

const PAGE = 200; // requests per read
const MAX_ROWS = 1000; // rows kept on the page

// Short words for the reasons (the API's advice says the rest).
const REASONS = {
  items_rejected: 'Items rejected',
  body_too_large: 'Body too large',
  inflated_too_large: 'Too large decompressed',
  decoded_too_large: 'Too large decoded',
  headers_too_large: 'Headers too large',
  unauthenticated: 'No or wrong API key',
  wrong_path: 'Wrong path',
  wrong_method: 'Not a POST',
  cors_denied: 'CORS refused',
  content_type: 'Wrong content type',
  unsupported_coding: 'Unsupported compression',
  bad_gzip: 'Bad gzip',
  malformed: 'Malformed body',
  framing: 'Broken gRPC framing',
  bad_timeout: 'Bad grpc-timeout',
  deadline_exceeded: 'Client deadline passed',
  request_timeout: 'Request too slow',
  store_full: 'Store queue full',
  busy: 'Too much in flight',
  shutting_down: 'Shutting down',
  commit_failed: 'Commit failed',
  out_of_memory: 'Out of memory',
  internal: 'Internal error',
};
export const reasonText = (r) => (r ? REASONS[r] || r : '');

// "200", "413", "OK", "RESOURCE_EXHAUSTED", "HTTP 415" (gRPC refused at the HTTP level).
export function statusText(r) {
  if (r.transport === 'grpc') return r.httpStatus === 200 && r.grpcStatusName ? r.grpcStatusName : `HTTP ${r.httpStatus}`;
  return String(r.httpStatus);
}

export function bytesText(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

const SIGNALS = { traces: ['span', 'spans'], logs: ['log record', 'log records'], metrics: ['point', 'points'] };
const itemsText = (r) => (SIGNALS[r.signal] ? `${fmtCount(r.items)} ${SIGNALS[r.signal][r.items === 1 ? 0 : 1]}` : fmtCount(r.items));
const sdkText = (sdk) => (sdk ? [sdk.name, sdk.language, sdk.version].filter(Boolean).join(' ') : '');

function outcomeBadge(r) {
  const cls = r.outcome === 'ok' ? 'badge-ok' : r.outcome === 'partial' ? 'badge-warn' : 'badge-error';
  const label = r.outcome === 'ok' ? 'OK' : r.outcome === 'partial' ? 'Partial' : statusText(r);
  return h('span', { class: `badge ${cls}`, dataset: { testid: 'ingest-outcome' }, title: statusText(r) }, label);
}

export function mount(root, { params, signal }) {
  document.title = 'Ingest · loupe';
  const view = params.get('view') === 'clients' ? 'clients' : 'requests';
  const f = {
    outcome: params.get('outcome') || '',
    transport: params.get('transport') || '',
    signal: params.get('signal') || '',
    service: params.get('service') || '',
    client: params.get('client') || '',
  };
  let live = params.get('live') !== '0';
  const wantSel = Number(params.get('request')) || 0;
  let rows = [];
  let nextCursor = null;
  let newest = 0;
  let sel = -1;
  let sub = null;
  let loaded = false;
  let capacity = 0;

  const countEl = h('span', { class: 'muted count', dataset: { testid: 'ingest-count' } });
  const liveBtn = h('button', {
    type: 'button', class: ['btn', 'live-btn', live && 'on'], dataset: { testid: 'live-toggle' }, 'aria-pressed': String(live),
    title: 'Show new requests as they arrive', onclick: () => setParams({ live: live ? '0' : null }, { replace: true }),
  }, icon(live ? 'pause' : 'play'), live ? 'Pause' : 'Resume live');
  const liveState = h('span', { class: ['live-state', live && 'on'], dataset: { testid: 'live-state' } }, live ? 'Live' : 'Paused');
  const tabs = h('span', { class: 'seg', role: 'tablist' },
    h('a', { class: ['seg-btn', view === 'requests' && 'active'], href: withParams({ view: null, request: null }), dataset: { nav: '', testid: 'view-requests' } }, 'Requests'),
    h('a', { class: ['seg-btn', view === 'clients' && 'active'], href: withParams({ view: 'clients', request: null }), dataset: { nav: '', testid: 'view-clients' } }, 'Clients'));
  const tiles = h('div', { class: 'tiles', dataset: { testid: 'ingest-tiles' } });
  const status = h('div', { class: 'list-status' }, loadingState(view === 'clients' ? 'Loading clients…' : 'Loading requests…'));
  const tbody = h('tbody');
  const foot = h('div', { class: 'list-foot muted small' });
  const table = h('div', { class: 'table-wrap ingest-wrap' });
  const detail = h('aside', { class: 'detail', hidden: true, 'aria-label': 'Request details', dataset: { testid: 'ingest-detail' } });
  table.hidden = true;

  const filterbar = view === 'clients' ? null : h('div', { class: 'filterbar' },
    select([{ value: '', label: 'Every outcome' }, { value: 'error', label: 'Errors' }, { value: 'partial', label: 'Partial successes' },
      { value: 'ok', label: 'Accepted' }, { value: 'partial,error', label: 'Errors and partial' }],
    f.outcome, (v) => setParams({ outcome: v, request: null }), { 'aria-label': 'Outcome', dataset: { testid: 'filter-outcome' } }),
    select([{ value: '', label: 'Every transport' }, { value: 'grpc', label: 'OTLP/gRPC' }, { value: 'http', label: 'OTLP/HTTP' }],
      f.transport, (v) => setParams({ transport: v, request: null }), { 'aria-label': 'Transport', dataset: { testid: 'filter-transport' } }),
    select([{ value: '', label: 'Every signal' }, { value: 'traces', label: 'Traces' }, { value: 'logs', label: 'Logs' }, { value: 'metrics', label: 'Metrics' }],
      f.signal, (v) => setParams({ signal: v, request: null }), { 'aria-label': 'Signal', dataset: { testid: 'filter-signal' } }),
    f.service ? filterChip(`service ${f.service}`, { service: null }) : null,
    f.client ? filterChip(`client ${f.client}`, { client: null }) : null,
    f.outcome || f.transport || f.signal || f.service || f.client
      ? h('a', { href: pageLink('/ingest'), dataset: { nav: '' }, class: 'btn btn-link' }, 'Clear filters') : null);

  root.appendChild(h('div', { class: 'page page-ingest page-fill' },
    h('div', { class: 'page-head' }, h('h1', null, 'Ingest'), tabs, countEl, h('span', { class: 'spacer' }), liveState, liveBtn),
    h('p', { class: 'muted small ingest-about' }, 'Every OTLP export request loupe answered lately, as it arrived: how it was sent, what was in it, and what loupe answered.'),
    tiles,
    filterbar,
    h('div', { class: 'split' }, h('div', { class: 'split-main' }, status, table, foot), detail)));

  function filterChip(text, clear) {
    return h('span', { class: 'chip filter-chip' }, h('span', null, text),
      h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove ${text}`, onclick: () => setParams({ ...clear, request: null }) }, icon('x')));
  }

  const apiParams = (extra) => ({ outcome: f.outcome, transport: f.transport, signal: f.signal, service: f.service, client: f.client, ...extra });

  // ---- the summary (from the client rows: every request the log counted) ----
  function drawTiles(body) {
    const c = body.clients || [];
    const sum = (k) => c.reduce((n, x) => n + (Number(x[k]) || 0), 0);
    const tile = (label, n, href, cls, testid) => {
      const inner = [h('div', { class: 'tile-value' }, fmtCount(n)), h('div', { class: 'tile-label' }, label)];
      return href ? h('a', { class: ['tile', cls], href, dataset: { nav: '', testid } }, inner) : h('div', { class: ['tile', cls], dataset: { testid } }, inner);
    };
    const errors = sum('errors');
    const partial = sum('partial');
    replace(tiles,
      tile('Requests', sum('requests'), null, '', 'tile-requests'),
      tile('Items', sum('items'), null, '', 'tile-items'),
      tile('Refused', errors, withParams({ view: null, outcome: 'error', request: null }), errors > 0 ? 'tile-error' : '', 'tile-errors'),
      tile('Partial successes', partial, withParams({ view: null, outcome: 'partial', request: null }), partial > 0 ? 'tile-warn' : '', 'tile-partial'),
      tile('Clients', c.length, withParams({ view: 'clients', request: null }), '', 'tile-clients'));
  }

  const fetchClients = () => apiGet('/ingest/clients', null, { signal });
  const loadTiles = () => fetchClients().then((body) => { if (body.enabled) drawTiles(body); }).catch(() => {});

  // ---- requests ----
  async function load() {
    let body;
    try {
      body = await apiGet('/ingest/requests', apiParams({ limit: PAGE }), { signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      table.hidden = true;
      replace(status, errorState(e, 'the ingest log', { retry: load }));
      return;
    }
    capacity = body.capacity || 0;
    if (!body.enabled) { off(); return; }
    rows = body.requests || [];
    newest = Math.max(Number(body.head) || 0, rows.length ? rows[0].id : 0);
    nextCursor = body.nextCursor || null;
    loaded = true;
    if (wantSel && sel < 0) sel = rows.findIndex((r) => r.id === wantSel);
    draw();
    if (sel < 0 && wantSel) {
      // not in the first page (or filtered out): show it on its own
      try { showDetail(await apiGet(`/ingest/requests/${wantSel}`, null, { signal })); } catch { /* gone from the ring */ }
    } else {
      showDetail(rows[sel]);
    }
  }

  function off() {
    table.hidden = true;
    replace(tiles);
    replace(countEl);
    replace(status, emptyState('The ingest inspector is off',
      'loupe was started with --ingest-log-size 0 (or LOUPE_INGEST_LOG_SIZE=0), so it keeps no record of export requests. Start it without that flag to see them here.'));
    status.dataset.testid = 'ingest-off';
  }

  function draw() {
    countEl.textContent = `${fmtCount(rows.length)}${nextCursor ? '+' : ''} request${rows.length === 1 ? '' : 's'} · the last ${fmtCount(capacity)} are kept`;
    if (rows.length === 0) {
      table.hidden = true;
      const filtered = f.outcome || f.transport || f.signal || f.service || f.client;
      replace(status, filtered
        ? emptyState('No requests match these filters', 'Among the requests loupe keeps. Remove a filter to see more.',
          h('a', { href: pageLink('/ingest'), dataset: { nav: '' }, class: 'btn' }, 'Clear filters'))
        : h('div', null, emptyState('No export requests yet', live ? 'Waiting for the first one…' : ''), onboarding({ what: 'export requests' })));
      updateFoot();
      return;
    }
    replace(status);
    table.hidden = false;
    replace(tbody, rows.map(renderRow));
    if (!table.firstChild) {
      replace(table, h('table', { class: 'table ingest-table', dataset: { testid: 'ingest-table' } },
        h('thead', null, h('tr', null,
          h('th', null, 'Time'), h('th', null, 'Outcome'), h('th', null, 'Protocol'), h('th', null, 'Service'),
          h('th', { class: 'num' }, 'Items'), h('th', { class: 'num', title: 'Bytes on the wire (decoded)' }, 'Size'),
          h('th', { class: 'num', title: 'From the request\u2019s headers to loupe\u2019s answer' }, 'Answered in'),
          h('th', null, 'Client'))),
        tbody));
    }
    updateFoot();
  }

  function updateFoot() {
    replace(foot, nextCursor ? h('button', { type: 'button', class: 'btn', onclick: loadMore, dataset: { testid: 'load-more' } }, 'Older requests') : null);
  }

  async function loadMore() {
    if (!nextCursor) return;
    try {
      const body = await apiGet('/ingest/requests', apiParams({ limit: PAGE, cursor: nextCursor }), { signal });
      rows = rows.concat(body.requests || []).slice(0, MAX_ROWS);
      nextCursor = rows.length >= MAX_ROWS ? null : body.nextCursor || null;
      draw();
    } catch (e) {
      if (e.name !== 'AbortError') replace(foot, `Loading older requests failed: ${e.message}`);
    }
  }

  // Live: what arrived after the newest shown, on top.
  async function head() {
    if (!loaded) return;
    let body;
    try {
      body = await apiGet('/ingest/requests', apiParams({ after: newest, limit: PAGE }), { signal });
    } catch {
      return;
    }
    newest = Math.max(newest, Number(body.head) || 0);
    const fresh = (body.requests || []).filter((r) => !rows.some((x) => x.id === r.id));
    loadTiles();
    if (fresh.length === 0) return;
    const selected = rows[sel];
    rows = fresh.concat(rows).slice(0, MAX_ROWS);
    if (selected) sel = rows.indexOf(selected);
    for (const r of fresh) r.fresh = true;
    draw();
  }

  function renderRow(r, i) {
    const err = r.outcome === 'error';
    const fresh = r.fresh;
    delete r.fresh; // highlighted once, not at every redraw
    return h('tr', {
      class: ['ingest-row', i === sel && 'selected', err && 'row-err', r.outcome === 'partial' && 'row-partial', fresh && 'fresh'],
      dataset: { id: String(r.id), testid: 'ingest-row' },
      onclick: (e) => { if (!(e.target instanceof Element && e.target.closest('a, button'))) selectIndex(i === sel ? -1 : i); },
    },
    h('td', { class: 'mono nowrap', title: fmtTimeFull(r.timeUnixNano) }, fmtTime(r.timeUnixNano)),
    h('td', null, outcomeBadge(r), r.reason ? h('span', { class: 'reason', dataset: { testid: 'ingest-reason' } }, reasonText(r.reason)) : null),
    h('td', { class: 'nowrap' }, r.protocol, r.compression === 'gzip' ? h('span', { class: 'muted' }, ' + gzip') : null,
      h('div', { class: 'muted small' }, r.signal || r.path)),
    h('td', { class: 'cell-service' }, r.service ? [serviceDot(r.service), h('span', { class: 'ellipsis' }, r.service)]
      : h('span', { class: 'muted' }, r.items > 0 ? 'no service.name' : '—')),
    h('td', { class: 'num' }, r.items || r.outcome !== 'error' ? itemsText(r) : '—',
      r.rejectedItems ? h('div', { class: 'small warn-text' }, `${fmtCount(r.rejectedItems)} rejected`) : null),
    h('td', { class: 'num' }, bytesText(r.wireBytes),
      r.decodedBytes !== null && r.decodedBytes !== r.wireBytes ? h('div', { class: 'muted small' }, bytesText(r.decodedBytes)) : null),
    h('td', { class: 'num' }, fmtDuration(r.ackNs)),
    h('td', { class: 'client-cell' }, h('span', { class: 'mono' }, r.client || '—'),
      h('div', { class: 'muted small ellipsis', title: r.userAgent || '' }, r.userAgent || '')));
  }

  function selectIndex(i) {
    sel = i;
    for (const [k, tr] of [...tbody.children].entries()) tr.classList.toggle('selected', k === sel);
    const tr = tbody.children[sel];
    if (tr) tr.scrollIntoView({ block: 'nearest' });
    showDetail(rows[sel]);
    navigate(withParams({ request: sel >= 0 ? rows[sel].id : null }), { replace: true, silent: true });
  }

  function showDetail(r) {
    if (!r) { detail.hidden = true; replace(detail); return; }
    detail.hidden = false;
    const size = (n) => (n === null || n === undefined ? '—' : `${fmtCount(n)} bytes`);
    replace(detail,
      h('div', { class: 'detail-head' }, outcomeBadge(r),
        h('span', { class: 'detail-title ellipsis' }, `Request ${r.id}`),
        h('button', { type: 'button', class: 'btn-icon', 'aria-label': 'Close details', onclick: () => selectIndex(-1) }, icon('x'))),
      h('div', { class: 'detail-body' },
        r.hint ? h('div', { class: ['notice', r.outcome === 'error' && 'notice-error'], dataset: { testid: 'ingest-hint' } },
          r.reason ? h('strong', null, `${reasonText(r.reason)}. `) : null, r.hint) : null,
        r.message ? section(r.outcome === 'error' ? 'loupe answered' : 'Partial success message',
          h('pre', { class: 'log-body', dataset: { testid: 'ingest-message' } }, r.message)) : null,
        r.service && r.outcome !== 'error' ? h('div', { class: 'detail-links' },
          h('a', { class: 'btn', href: pageLink(r.signal === 'logs' ? '/logs' : r.signal === 'metrics' ? '/metrics' : '/traces', { service: r.service }), dataset: { nav: '' } },
            `Open ${r.signal || 'telemetry'} of ${r.service}`)) : null,
        section('Answer', fieldTable([
          ['Time', fmtTimeFull(r.timeUnixNano)],
          ['Outcome', r.outcome],
          ['HTTP status', String(r.httpStatus)],
          r.grpcStatus !== null ? ['gRPC status', `${r.grpcStatusName} (${r.grpcStatus})`] : null,
          r.reason ? ['Reason', `${reasonText(r.reason)} (${r.reason})`] : null,
          ['Answered in', fmtDuration(r.ackNs)],
        ])),
        section('Request', fieldTable([
          ['Protocol', r.protocol],
          ['Port', String(r.port || '—')],
          ['Path', h('span', { class: 'mono' }, r.path)],
          ['Content type', r.contentType || '—'],
          ['Compression', r.contentEncoding ? `${r.compression} (${r.contentEncoding})` : r.compression],
          ['On the wire', size(r.wireBytes)],
          ['Decoded', size(r.decodedBytes)],
          ['Signal', r.signal || '—'],
          ['Items', itemsText(r)],
          ['Rejected items', fmtCount(r.rejectedItems)],
          ['Resources', fmtCount(r.resources)],
        ])),
        section('Sender', fieldTable([
          ['Client', h('a', { href: withParams({ client: r.client, request: null }), dataset: { nav: '' }, class: 'mono' }, r.client || '—')],
          ['User agent', r.userAgent || '—'],
          ['Service', r.service ? h('a', { href: withParams({ service: r.service, request: null }), dataset: { nav: '' } }, r.service)
            : r.items > 0 ? 'none: the resource has no service.name (stored as unknown_service)' : '—'],
          ['SDK', sdkText(r.sdk) || '—'],
        ]))));
  }

  // ---- clients ----
  async function loadClients() {
    let body;
    try {
      body = await fetchClients();
    } catch (e) {
      if (e.name === 'AbortError') return;
      table.hidden = true;
      replace(status, errorState(e, 'the ingest clients', { retry: loadClients }));
      return;
    }
    if (!body.enabled) { off(); return; }
    drawTiles(body);
    const list = body.clients || [];
    countEl.textContent = `${fmtCount(list.length)} client${list.length === 1 ? '' : 's'}`;
    if (list.length === 0) {
      table.hidden = true;
      replace(status, h('div', null, emptyState('No clients yet', 'A client appears here with its first export request.'), onboarding({ what: 'export requests' })));
      return;
    }
    replace(status);
    table.hidden = false;
    replace(table, h('table', { class: 'table ingest-clients', dataset: { testid: 'ingest-clients' } },
      h('thead', null, h('tr', null,
        h('th', null, 'Client'), h('th', null, 'Service'), h('th', null, 'SDK'), h('th', null, 'Protocols'),
        h('th', { class: 'num' }, 'Requests'), h('th', { class: 'num' }, 'Items'), h('th', { class: 'num' }, 'Refused'),
        h('th', { class: 'num' }, 'Partial'), h('th', null, 'Last seen'))),
      h('tbody', null, list.map((c) => h('tr', { class: ['client-row', c.errors > 0 && 'row-err'], dataset: { testid: 'client-row' } },
        h('td', { class: 'client-cell' }, h('a', { class: 'mono', href: withParams({ view: null, client: c.client, service: c.service || null }), dataset: { nav: '' } }, c.client || '—'),
          h('div', { class: 'muted small ellipsis', title: c.userAgent || '' }, c.userAgent || '')),
        h('td', { class: 'cell-service' }, c.service ? [serviceDot(c.service), h('span', { class: 'ellipsis' }, c.service)] : h('span', { class: 'muted' }, '—')),
        h('td', null, sdkText(c.sdk) || h('span', { class: 'muted' }, 'unknown')),
        h('td', null, (c.protocols || []).join(', ')),
        h('td', { class: 'num' }, fmtCount(c.requests)),
        h('td', { class: 'num' }, fmtCount(c.items)),
        h('td', { class: ['num', c.errors > 0 && 'err-text'] }, fmtCount(c.errors),
          c.errors > 0 && c.lastReason ? h('div', { class: 'small' }, reasonText(c.lastReason)) : null),
        h('td', { class: ['num', c.partial > 0 && 'warn-text'] }, fmtCount(c.partial)),
        h('td', { title: fmtTimeFull(c.lastSeenUnixNano) }, fmtAgo(c.lastSeenUnixNano)))))));
  }

  const reload = view === 'clients' ? loadClients : () => Promise.all([load(), loadTiles()]);
  if (live) sub = subscribeLive({ events: 'ingest' }, view === 'clients' ? loadClients : head, { pollMs: 1000 });
  reload();

  return {
    unmount() { if (sub) sub.stop(); },
    refresh: () => (view === 'clients' ? loadClients() : live ? head() : reload()),
    keys: view === 'clients' ? {} : {
      next: () => { if (rows.length) selectIndex(Math.min(rows.length - 1, sel + 1)); },
      prev: () => { if (rows.length) selectIndex(Math.max(0, sel - 1)); },
      escape: () => { if (sel >= 0) selectIndex(-1); },
    },
  };
}
