// semconv.js - what OpenTelemetry semantic-convention attribute keys mean to
// the UI: the namespace group a key is shown under, and which values mark a
// failure (an HTTP status of 500 or more, error.type).

// [group title, key namespaces (the part before the first dot)]. Keys of
// no listed namespace are "Other"; groups are shown in this order.
const GROUPS = [
  ['HTTP', ['http', 'user_agent']],
  ['URL', ['url']],
  ['Server / client', ['server', 'client', 'network', 'net']],
  ['Database', ['db']],
  ['Messaging', ['messaging']],
  ['RPC', ['rpc']],
  ['Exception / error', ['exception', 'error']],
  ['Service', ['service']],
  ['Process', ['process']],
  ['Host / OS', ['host', 'os']],
  ['Container', ['container', 'k8s']],
  ['Cloud', ['cloud', 'faas']],
  ['Telemetry SDK', ['telemetry']],
];
export const OTHER = 'Other';
const BY_NAMESPACE = new Map();
GROUPS.forEach(([title, spaces], order) => { for (const ns of spaces) BY_NAMESPACE.set(ns, { title, order }); });

export function attrGroup(key) {
  const ns = String(key).split('.', 1)[0];
  return BY_NAMESPACE.get(ns) || { title: OTHER, order: GROUPS.length };
}

// The keys of attrs grouped: [{title, keys}] in the groups' order, keys
// sorted inside each group.
export function groupAttrKeys(attrs) {
  const groups = new Map();
  for (const k of Object.keys(attrs || {}).sort()) {
    const g = attrGroup(k);
    if (!groups.has(g.title)) groups.set(g.title, { title: g.title, order: g.order, keys: [] });
    groups.get(g.title).keys.push(k);
  }
  return [...groups.values()].sort((a, b) => a.order - b.order).map(({ title, keys }) => ({ title, keys }));
}

// Whether an attribute says the operation failed: error.type (set only on
// failure), an HTTP response status of 500 or more (the current and the
// older key).
export function isErrorAttr(key, value) {
  if (key === 'error.type') return value !== null && value !== undefined && value !== '';
  if (key === 'http.response.status_code' || key === 'http.status_code') {
    const n = Number(value);
    return Number.isFinite(n) && n >= 500;
  }
  return false;
}
