// order.js - keeping a newest-first list (the API's order: time descending,
// then arrival) in order when items arrive while it is shown.

// Merges items that arrived since the list was read (`fresh`, in the API's
// order) into `items` (also in the API's order). A fresh item goes before
// every older item and before those of its own time (it arrived later).
// Items older than the last loaded one are left for paging unless the list
// is `complete`. timeOf(item) -> BigInt. Returns {items, added}.
export function mergeByTime(items, fresh, timeOf, { complete = false } = {}) {
  const out = [];
  const added = [];
  let i = 0;
  let j = 0;
  while (i < items.length || j < fresh.length) {
    if (j >= fresh.length) { out.push(items[i++]); continue; }
    if (i >= items.length) {
      if (!complete && items.length > 0) break;
      added.push(fresh[j]);
      out.push(fresh[j++]);
      continue;
    }
    if (timeOf(fresh[j]) >= timeOf(items[i])) { added.push(fresh[j]); out.push(fresh[j++]); }
    else out.push(items[i++]);
  }
  return { items: out, added };
}
