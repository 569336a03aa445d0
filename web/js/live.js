// live.js - "something new arrived" notifications for live views.
//
// Subscribes to GET /api/v1/live (Server-Sent Events) with the page's
// filters. Every event is only a hint: the page then re-reads the head of its
// list through the ordinary list endpoint and merges what is new, so the page
// shows exactly what the list API answers whatever the event payload. When
// the server has no /live endpoint (or the stream fails for good), it polls
// instead. Hints are coalesced: at most one in flight, one queued.
import { API, query } from './api.js';

const EVENT_NAMES = ['message', 'log', 'logs', 'span', 'spans', 'trace', 'traces', 'ingest'];

export function subscribeLive(params, onHint, { pollMs = 2000 } = {}) {
  let stopped = false;
  let es = null;
  let pollTimer = null;
  let running = false;
  let queued = false;
  const state = { mode: 'connecting' };

  async function fire() {
    if (stopped) return;
    if (running) { queued = true; return; }
    running = true;
    try { await onHint(); } catch { /* the page shows its own errors */ }
    running = false;
    if (queued && !stopped) {
      queued = false;
      setTimeout(fire, 100);
    }
  }

  function poll() {
    if (stopped || pollTimer) return;
    state.mode = 'polling';
    if (es) { es.close(); es = null; }
    const tick = async () => {
      if (stopped) return;
      if (!document.hidden) await fire();
      if (!stopped) pollTimer = setTimeout(tick, pollMs);
    };
    pollTimer = setTimeout(tick, pollMs);
  }

  if (typeof EventSource === 'function') {
    try {
      es = new EventSource(API + '/live' + query(params));
      let debounce = null;
      const hint = () => {
        if (debounce) return;
        debounce = setTimeout(() => { debounce = null; fire(); }, 150);
      };
      for (const name of EVENT_NAMES) es.addEventListener(name, hint);
      es.addEventListener('open', () => { state.mode = 'stream'; fire(); });
      es.addEventListener('error', () => {
        // CLOSED: the server refused the stream (404, wrong type): poll.
        // CONNECTING: EventSource retries by itself; poll meanwhile.
        if (!es || es.readyState === EventSource.CLOSED) poll();
      });
    } catch {
      poll();
    }
  } else {
    poll();
  }

  return {
    get mode() { return state.mode; },
    stop() {
      stopped = true;
      if (es) es.close();
      es = null;
      clearTimeout(pollTimer);
    },
  };
}
