// comparepick.js - "Compare with…": picks a second trace for /compare. It
// offers the median trace of the same root operation (root service and
// name) among the traces at hand, the others of that operation by
// duration, or any trace id typed in.
import { h, icon, replace } from './dom.js';
import { navigate, pageLink } from './state.js';
import { errorState, loadingState, openDialog } from './components.js';
import { fmtCount, fmtDuration, fmtTime } from './format.js';

// Trace summaries (as GET /api/v1/traces lists them) with the same root
// operation as `t`, other than t itself, fastest first.
export function sameOperation(t, list) {
  return (list || []).filter((x) => x.traceId !== t.traceId && (x.rootService || '') === (t.rootService || '') && (x.rootName || '') === (t.rootName || ''))
    .sort((a, b) => (Number(a.durationNs) || 0) - (Number(b.durationNs) || 0));
}

// The median by duration of traces sorted fastest first (the lower middle
// one for an even count); null for none.
export function medianTrace(sorted) {
  if (!sorted || sorted.length === 0) return null;
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const compareHref = (a, b) => pageLink('/compare', { a, b });

const HEX32 = /^[0-9a-f]{32}$/i;
const SHOWN = 30;

// Opens the picker for trace summary `t` ({traceId, rootService, rootName,
// durationNs}); candidates: trace summaries, or a promise of them.
export function openComparePicker(t, candidates) {
  const body = h('div', { class: 'compare-pick', dataset: { testid: 'compare-picker' } });
  const idIn = h('input', {
    type: 'text', class: 'input mono', placeholder: '32 hex digits', 'aria-label': 'Trace id to compare with',
    spellcheck: 'false', autocomplete: 'off', dataset: { testid: 'compare-id' },
  });
  const err = h('span', { class: 'field-error', role: 'alert' });
  const list = h('div', { class: 'compare-candidates' }, loadingState('Finding traces of this operation…'));
  const go = (b) => { d.close(); navigate(compareHref(t.traceId, b)); };
  const form = h('form', { class: 'compare-id-form' }, idIn, h('button', { type: 'submit', class: 'btn', dataset: { testid: 'compare-id-go' } }, 'Compare'), err);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = idIn.value.trim().toLowerCase();
    if (!HEX32.test(v)) { err.textContent = 'A trace id is 32 hex digits'; return; }
    go(v);
  });
  replace(body,
    h('p', null, 'Compare ', h('strong', null, t.rootName || '(missing root span)'), h('span', { class: 'muted' }, ` (${t.rootService || 'unknown service'}, ${fmtDuration(t.durationNs)})`), ' with:'),
    list,
    h('div', { class: 'muted small' }, 'or any trace by its id:'),
    form);
  const d = openDialog('Compare with another trace', body, { className: 'compare-dialog' });

  const pickLink = (x, cls, testid, label) => h('a', {
    href: compareHref(t.traceId, x.traceId), class: cls, dataset: { testid, traceId: x.traceId },
    onclick: (e) => { e.preventDefault(); go(x.traceId); },
  }, label);

  Promise.resolve(candidates).then((all) => {
    const same = sameOperation(t, all);
    const median = medianTrace(same);
    if (!median) {
      replace(list, h('div', { class: 'muted small', dataset: { testid: 'compare-none' } }, 'No other trace of this operation among the traces loaded.'));
      return;
    }
    replace(list,
      pickLink(median, 'btn btn-primary compare-median', 'compare-median',
        [icon('chevronRight'), `The median of ${fmtCount(same.length)} other trace${same.length === 1 ? '' : 's'}: ${fmtDuration(median.durationNs)}`]),
      h('ul', { class: 'compare-list' }, same.slice(0, SHOWN).map((x) => h('li', { class: x === median ? 'median' : null },
        pickLink(x, 'compare-candidate', 'compare-candidate', [h('span', { class: 'mono' }, fmtDuration(x.durationNs)), h('span', { class: 'muted' }, ` started ${fmtTime(x.startTimeUnixNano)}`)])))),
      same.length > SHOWN ? h('div', { class: 'muted small' }, `and ${fmtCount(same.length - SHOWN)} more`) : null);
  }).catch((e) => {
    if (e && e.name === 'AbortError') return;
    replace(list, errorState(e, 'other traces'));
  });
  return d;
}
