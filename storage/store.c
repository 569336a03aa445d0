/* store.c - the store's public entry points: append, readers, stats,
 * subscriptions, error texts; see store.h (the interface) and
 * store_internal.h (the modules behind it).
 *
 * DESIGN
 * store_append() runs on the receiving thread: it renders the batch's
 * per-item JSON texts (store_texts.c) and pushes the batch into the ring
 * (ring.h), which refuses it with STORE_EFULL over its byte budget. A batch
 * that cannot enter now is refused before rendering. A backpressure episode
 * is logged once when it starts and once when an append is taken again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "attr_index.h"
#include "ch_store.h"
#include "reader.h"
#include "rollup.h"
#include "store_internal.h"

int store_append(store *s, model_batch *b, store_done_cb cb, void *ud) {
    if (s == NULL || b == NULL || (unsigned)b->signal >= MODEL_SIGNAL_COUNT) {
        model_batch_free(b);
        return STORE_EINVAL;
    }
    model_signal sig = b->signal;
    size_t items = model_batch_items(b);
    size_t bytes = model_batch_bytes(b);
    size_t max = ring_max_bytes(s->ring);
    /* Don't render texts for a batch that cannot enter now: the rendered
     * texts take about half the batch's own bytes again (measured: a third,
     * plus the buffer's slack). Racy; the push below is what decides. */
    size_t queued = ring_bytes(s->ring);
    size_t estimate = bytes + bytes / 2;
    store_prep *p = NULL;
    if (queued == 0 || (queued < max && estimate <= max - queued)) {
        store_patterns_assign(s, b, store_now_ns());
        p = store_prep_new(b, max);
    }
    ring_entry e = {b, cb, ud, p, bytes + (p ? p->bytes : 0)};
    int rc = ring_push(s->ring, &e);
    if (rc == RING_OK) {
        if (atomic_load_explicit(&s->backpressure, memory_order_relaxed) &&
            atomic_exchange(&s->backpressure, 0) == 1)
            log_event(LOG_INFO, "store_backpressure_end", "refused_items=%" PRIu64,
                      atomic_exchange(&s->bp_refused, 0));
        return STORE_OK;
    }
    atomic_fetch_add(&s->rejected[sig], items);
    if (rc == RING_EFULL) {
        /* One line when an episode starts and one when it ends, not one per
         * refused request. */
        atomic_fetch_add(&s->bp_refused, items);
        if (atomic_exchange(&s->backpressure, 1) == 0)
            log_event(LOG_WARN, "store_backpressure",
                      "signal=%s ring_bytes=%zu ring_max_bytes=%zu msg=\"the queue is full; "
                      "exporters are told to retry\"",
                      model_signal_name(sig), ring_bytes(s->ring), max);
    }
    store_prep_free(p);
    model_batch_free(b);
    return rc == RING_ECLOSED ? STORE_ECLOSED : STORE_EFULL;
}

int store_reader_open(store *s, store_reader **out) {
    if (out == NULL)
        return STORE_EINVAL;
    *out = NULL;
    if (s == NULL)
        return STORE_EINVAL;
    store_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return STORE_ENOMEM;
    r->timeout_ns = s->query_timeout_ns;
    if (s->ch != NULL) {
        r->chs = s->ch;
        r->ch = ch_store_reader_conn(s->ch);
        if (r->ch == NULL) {
            free(r);
            return STORE_ENOMEM;
        }
        ch_conn_timeouts(r->ch, 0, (long)(r->timeout_ns / 1000000u));
        *out = r;
        return STORE_OK;
    }
    int rc = sqlite3_open_v2(s->path, &r->db, s->open_flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(r->db, 1);
        sqlite3_busy_timeout(r->db, STORE_BUSY_TIMEOUT_MS);
        rc = rollup_register(r->db);
        if (rc == SQLITE_OK)
            rc = attr_index_register(r->db);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(r->db,
                          "PRAGMA query_only=1; PRAGMA cache_size=-16384;"
                          " PRAGMA temp_store=MEMORY;",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        store_reader_close(r);
        return rc == SQLITE_NOMEM ? STORE_ENOMEM : STORE_EOPEN;
    }
    *out = r;
    return STORE_OK;
}

void store_reader_close(store_reader *r) {
    if (r == NULL)
        return;
    sqlite3_close(r->db);
    ch_conn_free(r->ch);
    free(r->segs);
    free(r);
}

void store_get_stats(store *s, store_stats *out) {
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return;
    for (int i = 0; i < MODEL_SIGNAL_COUNT; i++) {
        out->accepted[i] = atomic_load(&s->accepted[i]);
        out->rejected[i] = atomic_load(&s->rejected[i]);
        out->evicted[i] = atomic_load(&s->evicted[i]);
    }
    out->commits = atomic_load(&s->commits);
    out->commit_errors = atomic_load(&s->commit_errors);
    out->ring_bytes = ring_bytes(s->ring);
    out->ring_max_bytes = ring_max_bytes(s->ring);
    out->db_bytes = atomic_load(&s->db_bytes);
    out->db_max_bytes = s->max_db_bytes;
    out->write_failures = atomic_load(&s->write_failures);
    out->writes_failing = atomic_load(&s->writes_failing);
    for (int i = 0; i <= STORE_COMMIT_BUCKETS; i++)
        out->commit_seconds_bucket[i] = atomic_load(&s->commit_bucket[i]);
    out->commit_ns_sum = atomic_load(&s->commit_ns_sum);
    out->closing = atomic_load(&s->closing);
    out->write_fault = out->writes_failing ? atomic_load(&s->fault_reason) : NULL;
}

int store_subscribe(store *s, store_commit_fn fn, void *ud, store_sub **out) {
    if (s == NULL || fn == NULL || out == NULL)
        return STORE_EINVAL;
    store_sub *sub = calloc(1, sizeof(*sub));
    if (sub == NULL)
        return STORE_ENOMEM;
    sub->fn = fn;
    sub->ud = ud;
    pthread_mutex_lock(&s->subs_mu);
    sub->next = s->subs;
    s->subs = sub;
    atomic_fetch_add(&s->n_subs, 1);
    pthread_mutex_unlock(&s->subs_mu);
    *out = sub;
    return STORE_OK;
}

void store_unsubscribe(store *s, store_sub *sub) {
    if (s == NULL || sub == NULL)
        return;
    pthread_mutex_lock(&s->subs_mu);
    for (store_sub **p = &s->subs; *p != NULL; p = &(*p)->next) {
        if (*p == sub) {
            *p = sub->next;
            atomic_fetch_sub(&s->n_subs, 1);
            break;
        }
    }
    pthread_mutex_unlock(&s->subs_mu);
    free(sub);
}

const char *store_strerror(int code) {
    switch (code) {
    case STORE_OK:
        return "ok";
    case STORE_EFULL:
        return "store queue full, retry later";
    case STORE_EIO:
        return "database write failed";
    case STORE_ENOMEM:
        return "out of memory";
    case STORE_ECLOSED:
        return "store is shutting down";
    case STORE_EOPEN:
        return "cannot open the database";
    case STORE_ESCHEMA:
        return "database schema is newer than this loupe";
    case STORE_EINVAL:
        return "invalid argument";
    }
    return "unknown store error";
}

int store_is_retryable(int code) {
    return code == STORE_EFULL || code == STORE_EIO || code == STORE_ENOMEM ||
           code == STORE_ECLOSED;
}
