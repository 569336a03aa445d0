// spanstats.js - a trace's span statistics (the "stats" of GET
// /api/v1/traces/{id}/analysis) as a table: one row per service and
// operation with its count, total, self time, share of the trace and time
// on the critical path; sortable by each column.
import { h, replace } from './dom.js';
import { serviceClass } from './colors.js';
import { fmtCount, fmtDuration } from './format.js';

export const STAT_COLUMNS = [
  { id: 'name', label: 'Service and operation', key: (s) => `${s.service}\u0000${s.name}`, text: true },
  { id: 'count', label: 'Spans', key: (s) => s.count },
  { id: 'total', label: 'Total', key: (s) => s.totalNs },
  { id: 'self', label: 'Self time', key: (s) => s.selfNs },
  { id: 'percent', label: '% of trace', key: (s) => s.percent },
  { id: 'critical', label: 'Critical path', key: (s) => s.criticalNs },
];

// stats sorted by column `by` (an id of STAT_COLUMNS), `dir` 'asc' or
// 'desc'; ties keep the API's order (most self time first).
export function sortStats(stats, by, dir) {
  const col = STAT_COLUMNS.find((c) => c.id === by) || STAT_COLUMNS[3];
  const sign = dir === 'asc' ? 1 : -1;
  return stats.map((s, i) => ({ s, i, k: col.key(s) }))
    .sort((a, b) => {
      const d = col.text ? (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) : a.k - b.k;
      return sign * d || a.i - b.i;
    })
    .map((x) => x.s);
}

// The table for `analysis`; onPick(stat) when a row is clicked.
export function spanStatsTable(analysis, { onPick } = {}) {
  let by = 'self';
  let dir = 'desc';
  const stats = Array.isArray(analysis.stats) ? analysis.stats : [];
  const maxPct = stats.reduce((m, s) => Math.max(m, Number(s.percent) || 0), 0) || 1;
  const table = h('table', { class: 'table stat-table span-stats', dataset: { testid: 'span-stats' } });
  const wrap = h('div', { class: 'span-stats-wrap' },
    h('div', { class: 'muted small stats-note' },
      `${fmtCount(stats.length)} operation${stats.length === 1 ? '' : 's'} in ${fmtCount(analysis.spanCount)} spans. `,
      'Self time is a span\u2019s duration minus the time its children ran; % of trace is self time over the trace\u2019s ',
      fmtDuration(analysis.durationNs), ' (work in parallel can add up to more than 100%).'),
    table);

  function head() {
    return h('thead', null, h('tr', null, STAT_COLUMNS.map((c) => {
      const active = c.id === by;
      return h('th', { class: c.text ? null : 'num', 'aria-sort': active ? (dir === 'desc' ? 'descending' : 'ascending') : 'none' },
        h('button', {
          type: 'button', class: ['sort-link', 'btn-link-plain', active && 'active'], dataset: { testid: `stats-sort-${c.id}` },
          onclick: () => {
            if (by === c.id) dir = dir === 'desc' ? 'asc' : 'desc';
            else { by = c.id; dir = c.text ? 'asc' : 'desc'; }
            draw();
          },
        }, c.label, active ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, dir === 'desc' ? '↓' : '↑') : null));
    })));
  }

  function draw() {
    const rows = sortStats(stats, by, dir).map((s) => {
      const bar = h('span', { class: 'dur-bar' });
      bar.style.width = `${Math.min(100, (100 * (Number(s.percent) || 0)) / maxPct)}%`;
      return h('tr', {
        class: ['stat-row', onPick && 'clickable'], dataset: { service: s.service, name: s.name },
        onclick: onPick ? () => onPick(s) : null,
      },
      h('td', null, h('span', { class: `dot ${serviceClass(s.service)}` }), h('span', { class: 'muted' }, s.service), ' ', h('span', { class: 'stat-op' }, s.name)),
      h('td', { class: 'num' }, fmtCount(s.count)),
      h('td', { class: 'num mono' }, fmtDuration(s.totalNs)),
      h('td', { class: 'num mono' }, fmtDuration(s.selfNs)),
      h('td', { class: 'num pct-cell' }, h('div', { class: 'dur-wrap' }, h('span', { class: 'dur-track' }, bar), h('span', { class: 'mono pct-text' }, `${(Number(s.percent) || 0).toFixed(1)}%`))),
      h('td', { class: 'num mono' }, s.criticalNs ? fmtDuration(s.criticalNs) : '—'));
    });
    replace(table, head(), h('tbody', null, rows));
  }

  draw();
  return wrap;
}
