// vlist.js - a virtualised list: fixed-height rows, only the visible window
// (plus an overscan) is in the DOM, so 100,000+ rows scroll smoothly. Rows
// that stay visible are kept between frames; new ones come from renderRow.
import { h } from './dom.js';

export class VirtualList {
  // opts: rowHeight (px), renderRow(item, index) -> Element, onNearEnd()
  // (called when the last rows come into view), overscan (rows), label.
  constructor({ rowHeight, renderRow, onNearEnd, overscan = 12, className = '', label = 'rows' }) {
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.onNearEnd = onNearEnd;
    this.overscan = overscan;
    this.items = [];
    this.rows = new Map(); // index -> element
    this.inner = h('div', { class: 'vlist-inner', role: 'rowgroup' });
    this.el = h('div', { class: `vlist ${className}`, tabindex: '0', role: 'grid', 'aria-label': label }, this.inner);
    this.frame = 0;
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resizeObs = new ResizeObserver(() => this.schedule());
    this.resizeObs.observe(this.el);
  }

  destroy() {
    this.resizeObs.disconnect();
    cancelAnimationFrame(this.frame);
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  // Replaces the items; keeps the scroll offset unless reset.
  setItems(items, { reset = false } = {}) {
    this.items = items;
    this.dropRows();
    this.inner.style.height = `${items.length * this.rowHeight}px`;
    if (reset) this.el.scrollTop = 0;
    this.render();
  }

  // Replaces the items with a list that holds every current item plus the
  // ones in `added` (anywhere), without moving what the reader is looking
  // at: rows inserted above the first visible row shift the scroll offset.
  // At the very top, new rows above simply appear.
  insert(items, added) {
    if (added.size === 0) return;
    const rh = this.rowHeight;
    const atTop = this.el.scrollTop < rh / 2;
    const firstOld = Math.floor(this.el.scrollTop / rh);
    let above = 0;
    let seenOld = 0;
    for (const it of items) {
      if (added.has(it)) above++;
      else if (seenOld++ === firstOld) break;
    }
    this.items = items;
    this.dropRows();
    this.inner.style.height = `${items.length * rh}px`;
    if (!atTop) this.el.scrollTop += above * rh;
    this.render();
  }

  // Appends items at the end (pagination).
  append(more) {
    if (more.length === 0) return;
    this.items = this.items.concat(more);
    this.inner.style.height = `${this.items.length * this.rowHeight}px`;
    this.render();
  }

  // Re-renders the rows in view (after a selection change, say).
  refresh() {
    this.dropRows();
    this.render();
  }

  dropRows() {
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
  }

  scrollToIndex(i) {
    const top = i * this.rowHeight;
    const bottom = top + this.rowHeight;
    const view = this.el.clientHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (bottom > this.el.scrollTop + view) this.el.scrollTop = bottom - view;
    this.render();
  }

  render() {
    const n = this.items.length;
    const rh = this.rowHeight;
    const view = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / rh) - this.overscan);
    const last = Math.min(n - 1, Math.ceil((this.el.scrollTop + view) / rh) + this.overscan);
    for (const [i, el] of this.rows) {
      if (i < first || i > last) {
        el.remove();
        this.rows.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      if (this.rows.has(i)) continue;
      const el = this.renderRow(this.items[i], i);
      el.classList.add('vrow');
      el.setAttribute('role', 'row');
      el.setAttribute('aria-rowindex', String(i + 1));
      el.dataset.index = String(i);
      el.style.top = `${i * rh}px`;
      el.style.height = `${rh}px`;
      this.inner.appendChild(el);
      this.rows.set(i, el);
    }
    if (this.onNearEnd && n > 0 && last >= n - 1 - this.overscan) this.onNearEnd();
  }
}
