/* ring.c - bounded FIFO of batches for the store's writer, see ring.h. */
#include "ring.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/clk.h"

struct ring {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    ring_entry *slots;
    size_t cap;   /* slots */
    size_t head;  /* index of the oldest queued entry */
    size_t count; /* queued entries */
    size_t bytes; /* accounted: queued + popped, not released */
    size_t max_bytes;
    int closed;
};

ring *ring_new(size_t max_bytes, size_t max_entries) {
    if (max_bytes == 0 || max_entries == 0)
        return NULL;
    ring *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->slots = calloc(max_entries, sizeof(*r->slots));
    if (r->slots == NULL)
        goto fail_after_ring;
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        goto fail_after_slots;
    /* timed waits (ring_pop_timed) measure on the monotonic clock */
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        goto fail_after_mutex;
    int crc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (crc == 0)
        crc = pthread_cond_init(&r->nonempty, &ca);
    pthread_condattr_destroy(&ca);
    if (crc != 0)
        goto fail_after_mutex;
    r->cap = max_entries;
    r->max_bytes = max_bytes;
    return r;

fail_after_mutex:
    pthread_mutex_destroy(&r->mu);
fail_after_slots:
    free(r->slots);
fail_after_ring:
    free(r);
    return NULL;
}

void ring_free(ring *r) {
    if (r == NULL)
        return;
    pthread_cond_destroy(&r->nonempty);
    pthread_mutex_destroy(&r->mu);
    free(r->slots);
    free(r);
}

int ring_push(ring *r, const ring_entry *e) {
    int rc = RING_OK;
    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        rc = RING_ECLOSED;
    } else if (r->count == r->cap) {
        rc = RING_EFULL;
    } else if (e->bytes > r->max_bytes - (r->bytes < r->max_bytes ? r->bytes : r->max_bytes)) {
        /* Over budget; an oversized entry only enters an idle ring. */
        if (!(e->bytes > r->max_bytes && r->bytes == 0))
            rc = RING_EFULL;
    }
    if (rc == RING_OK) {
        r->slots[(r->head + r->count) % r->cap] = *e;
        r->count++;
        r->bytes += e->bytes;
        /* within the budget, or an oversized entry alone in an idle ring */
        assert(r->bytes <= r->max_bytes || r->bytes == e->bytes);
        pthread_cond_signal(&r->nonempty);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* Moves queued entries into out; the caller holds r->mu. */
static size_t ring_take(ring *r, ring_entry *out, size_t max) {
    size_t n = 0;
    assert(r->head < r->cap && r->count <= r->cap);
    while (n < max && r->count > 0) {
        out[n++] = r->slots[r->head];
        r->head = (r->head + 1) % r->cap;
        r->count--;
    }
    return n;
}

size_t ring_pop_all(ring *r, ring_entry *out, size_t max, int wait) {
    pthread_mutex_lock(&r->mu);
    while (wait && r->count == 0 && !r->closed)
        pthread_cond_wait(&r->nonempty, &r->mu);
    size_t n = ring_take(r, out, max);
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t ring_pop_timed(ring *r, ring_entry *out, size_t max, long timeout_ms, int *closed) {
    struct timespec deadline;
    if (timeout_ms > 0) {
        clk_deadline(CLOCK_MONOTONIC, timeout_ms, &deadline);
    }
    pthread_mutex_lock(&r->mu);
    while (timeout_ms != 0 && r->count == 0 && !r->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&r->nonempty, &r->mu);
        } else if (pthread_cond_timedwait(&r->nonempty, &r->mu, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    size_t n = ring_take(r, out, max);
    if (closed)
        *closed = r->closed && r->count == 0 && n == 0;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void ring_release(ring *r, size_t bytes) {
    pthread_mutex_lock(&r->mu);
    r->bytes = bytes < r->bytes ? r->bytes - bytes : 0;
    pthread_mutex_unlock(&r->mu);
}

void ring_close(ring *r) {
    pthread_mutex_lock(&r->mu);
    r->closed = 1;
    pthread_cond_broadcast(&r->nonempty);
    pthread_mutex_unlock(&r->mu);
}

size_t ring_bytes(ring *r) {
    pthread_mutex_lock(&r->mu);
    size_t b = r->bytes;
    pthread_mutex_unlock(&r->mu);
    return b;
}

size_t ring_count(ring *r) {
    pthread_mutex_lock(&r->mu);
    size_t n = r->count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t ring_max_bytes(const ring *r) {
    return r->max_bytes;
}

size_t ring_capacity(const ring *r) {
    return r->cap;
}
