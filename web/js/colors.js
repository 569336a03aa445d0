// colors.js - stable colours: a service keeps its colour on every page
// (hash of the name into a palette of CSS classes svc-c0..svc-c11, defined
// for both themes in app.css), and chart series use the same palette.

export const PALETTE_SIZE = 12;

export function colorIndex(name) {
  let h = 2166136261;
  const s = String(name || '');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % PALETTE_SIZE;
}

export const serviceClass = (name) => `svc-c${colorIndex(name)}`;

// The palette as colour strings for canvas drawing (read from CSS custom
// properties --c0..--c11 so both themes stay in one place).
export function paletteColors() {
  const cs = getComputedStyle(document.documentElement);
  const out = [];
  for (let i = 0; i < PALETTE_SIZE; i++) out.push(cs.getPropertyValue(`--c${i}`).trim() || '#888');
  return out;
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
