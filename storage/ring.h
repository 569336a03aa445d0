/* ring.h - the store's bounded FIFO of batches waiting for the writer.
 *
 * DESIGN
 * A fixed circular array of entries (batch, completion callback, user data,
 * the writer's prepared text, accounted bytes) behind one mutex and one
 * condition variable. The budget is in bytes: an entry's bytes stay
 * accounted from ring_push() until the writer calls ring_release() after it
 * has committed and freed the batch, so the budget bounds all memory held by
 * accepted-but-unacknowledged batches, not only the queued ones.
 *
 * Oversized entries: an entry larger than the whole budget is accepted only
 * when nothing at all is accounted (the ring is empty and the writer holds
 * nothing). It is refused with RING_EFULL otherwise. This keeps the memory
 * bound at max(budget, largest single batch) -- a single batch is already
 * capped by the decoders' memory limit -- and guarantees progress: a lone
 * large batch that an exporter keeps retrying gets in once the store is idle
 * instead of being refused forever.
 *
 * The writer takes everything queued at once (ring_pop_all), which is what
 * lets it commit many batches in one transaction (group commit).
 *
 * Thread-safety: every function may be called from any thread, except
 * ring_free() which needs all other users gone.
 */
#ifndef LOUPE_RING_H
#define LOUPE_RING_H

#include <stddef.h>

#include "model.h"
#include "store.h"

#define RING_OK 0
#define RING_EFULL -1   /* over the byte budget or out of slots: retry later */
#define RING_ECLOSED -2 /* ring_close() was called */

typedef struct ring_entry {
    model_batch *batch; /* owned by the ring from push to pop, then by the popper */
    store_done_cb cb;   /* may be NULL */
    void *ud;
    void *prep;   /* store-private data travelling with the batch (owned likewise) */
    size_t bytes; /* accounted size, set by the pusher */
} ring_entry;

typedef struct ring ring;

/* Creates a ring holding at most max_bytes (> 0) of entries in at most
 * max_entries (> 0) slots. Returns NULL on out of memory or bad sizes. */
ring *ring_new(size_t max_bytes, size_t max_entries);

/* Frees the ring. Entries still queued are not touched (their batches are
 * not freed): drain the ring first. Accepts NULL. */
void ring_free(ring *r);

/* Appends a copy of *e. Returns RING_OK (the ring owns e->batch and
 * e->prep), or RING_EFULL / RING_ECLOSED (nothing changed; the caller still
 * owns them). */
int ring_push(ring *r, const ring_entry *e);

/* Moves up to max queued entries, oldest first, into out. With wait != 0
 * blocks until at least one entry is queued or the ring is closed. Returns
 * the number of entries moved; 0 with wait != 0 means closed and empty. The
 * bytes of moved entries stay accounted until ring_release(). */
size_t ring_pop_all(ring *r, ring_entry *out, size_t max, int wait);

/* Like ring_pop_all(), with a bounded wait: timeout_ms < 0 waits until an
 * entry is queued or the ring is closed, 0 does not wait, > 0 waits at most
 * that long. Returns the number of entries moved; *closed (may be NULL) is
 * set to 1 when nothing was moved because the ring is closed and empty, 0
 * otherwise (a timeout returns 0 with *closed == 0). */
size_t ring_pop_timed(ring *r, ring_entry *out, size_t max, long timeout_ms, int *closed);

/* Returns bytes accounted by popped entries to the budget. */
void ring_release(ring *r, size_t bytes);

/* Refuses further pushes and wakes a waiting ring_pop_all(). Entries
 * already queued can still be popped. */
void ring_close(ring *r);

/* Bytes accounted now (queued + popped and not yet released). */
size_t ring_bytes(ring *r);
/* Entries queued now (not yet popped). */
size_t ring_count(ring *r);
size_t ring_max_bytes(const ring *r);
/* Slots of the circular array (max_entries). */
size_t ring_capacity(const ring *r);

#endif
