/* store_retention.c - eviction by count, age and size: whole segments are
 * dropped, oldest first; see store_internal.h and docs/storage.md.
 *
 * DESIGN
 * After each round of commits:
 *  - count: while a signal holds more items than its maximum and it has a
 *    sealed segment, its oldest segment is dropped;
 *  - age (every second, the writer waking up by itself): a sealed segment
 *    whose items are all older than --max-age is dropped (an active one is
 *    sealed by store_seg_active() once it spans a tenth of --max-age);
 *  - size: with --max-db-size, while the pages in use exceed 90% of the
 *    cap the oldest sealed segment (of any signal) is dropped, down to 80%,
 *    or to 50% after a write hit the cap, and half as much again each time
 *    the same write (a request larger than the room made) hits it again
 *    before anything commits: 25%, 12%, ... down to nothing. With nothing
 *    sealed left, the largest active segment is sealed so that it can go
 *    next.
 * A drop is one transaction (store_seg_drop): DROP TABLE of the segment's
 * tables, the services' counters decremented by what it held, its manifest
 * rows deleted. No row is deleted and no index entry re-tokenised, so
 * eviction costs about the same however full the store is. At most
 * STORE_DROPS_PER_ROUND drops run between two rounds of commits, so that
 * ingest never waits long; the writer comes back without waiting while
 * work is left.
 */
#include <inttypes.h>
#include <stdio.h>

#include "util/log.h"
#include "store_internal.h"

#define STORE_DROPS_PER_ROUND 4  /* segment drops between rounds of commits */
#define STORE_SIZE_HIGH_PCT 90   /* size cap: drop when more is in use ... */
#define STORE_SIZE_LOW_PCT 80    /* ... down to this */
#define STORE_SIZE_FULL_PCT 50   /* ... or down to this after hitting the cap */

/* Pages in use (page_count - freelist_count) into w->used_pages and the
 * stats. */
int store_size_check(store *s) {
    store_writer *w = &s->w;
    int64_t v[2] = {0, 0};
    static const char *const sql[2] = {"PRAGMA page_count", "PRAGMA freelist_count"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(w->db, sql[i], -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            v[i] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
            return rc;
    }
    w->used_pages = v[0] > v[1] ? v[0] - v[1] : 0;
    atomic_store(&s->db_bytes, (uint64_t)w->used_pages * (uint64_t)w->page_size);
    return SQLITE_OK;
}

/* The oldest sealed segment of sig (every signal: sig < 0), or NULL. */
static store_seg *store_oldest_sealed(store_writer *w, int sig) {
    for (size_t i = 0; i < w->n_segs; i++) {
        store_seg *g = w->segs[i];
        if (g->m.sealed && (sig < 0 || (int)g->m.signal == sig))
            return g;
    }
    return NULL;
}

/* Drops g; returns 0 to go on, -1 when retention must stop for this round
 * (the failure is logged, at most every STORE_FAULT_LOG_NS). */
static int store_drop(store *s, store_seg *g, const char *why, int *budget) {
    store_writer *w = &s->w;
    model_signal sig = g->m.signal;
    (*budget)--;
    int rc = store_seg_drop(s, g, why);
    if (rc == SQLITE_OK)
        return 0;
    uint64_t now = store_mono_ns();
    if (w->retention_logged == 0 || now - w->retention_logged >= STORE_FAULT_LOG_NS) {
        const char *action;
        int e = sqlite3_system_errno(w->db);
        const char *reason = store_fault_reason(s, rc, &e, &action);
        char msg[256];
        log_quote(sqlite3_errmsg(w->db), msg, sizeof(msg));
        log_event(LOG_ERROR, "store_retention_failed",
                  "signal=%s why=%s reason=%s sqlite_code=%d sqlite=\"%s\" action=\"%s\"",
                  model_signal_name(sig), why, reason, rc, msg, action);
        w->retention_logged = now;
    }
    return -1;
}

static int store_seal(store *s, store_seg *g);

/* Count retention: a signal over its maximum loses its oldest segments. */
static int store_retention_count(store *s, int *budget) {
    store_writer *w = &s->w;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        while (store_segs_items(w, (model_signal)sig) > s->max_items[sig]) {
            store_seg *g = store_oldest_sealed(w, sig);
            if (g == NULL)
                break; /* the active segment alone: it is sealed at its target */
            if (*budget <= 0)
                return 1;
            if (store_drop(s, g, "count", budget) != 0)
                return 0;
        }
    }
    return 0;
}

/* Age retention, at most every STORE_AGE_CHECK_MS: the sealed segments
 * whose items are all older than the maximum age. */
static int store_retention_age(store *s, int *budget) {
    store_writer *w = &s->w;
    uint64_t mono = store_mono_ns();
    if (s->max_age_ns == 0 || mono < w->next_age_check)
        return 0;
    uint64_t now = store_now_ns();
    int64_t cutoff = store_i64(now > s->max_age_ns ? now - s->max_age_ns : 0);
    /* an active segment whose items are all old is sealed, to go below */
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        store_seg *g = w->active[sig];
        if (g != NULL && g->m.items > 0 && g->m.age_time < cutoff)
            store_seal(s, g);
    }
    for (size_t i = 0; i < w->n_segs;) {
        store_seg *g = w->segs[i];
        if (!g->m.sealed || g->m.age_time >= cutoff) {
            i++;
            continue;
        }
        if (*budget <= 0)
            return 1; /* the rest at once, in the next round */
        if (store_drop(s, g, "age", budget) != 0)
            break; /* next try at the next check */
    }
    w->next_age_check = mono + (uint64_t)STORE_AGE_CHECK_MS * 1000000u;
    return 0;
}

/* Seals the active segment g in a transaction of its own (the next item of
 * its signal starts a new one), so that retention can drop it. Returns 1
 * when it was sealed. */
static int store_seal(store *s, store_seg *g) {
    store_writer *w = &s->w;
    model_signal sig = g->m.signal;
    int64_t keep = w->seg_target[sig];
    w->seg_target[sig] = 0; /* full: store_seg_active() seals it and starts the next */
    int rc = store_run(w->st[ST_BEGIN]);
    if (rc == SQLITE_OK && store_seg_active(s, sig, &rc) != NULL)
        rc = store_segs_flush(w);
    if (rc == SQLITE_OK)
        rc = store_run(w->st[ST_COMMIT]);
    w->seg_target[sig] = keep;
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(w->db))
            store_run(w->st[ST_ROLLBACK]);
        store_segs_rolled_back(w);
        return 0;
    }
    store_segs_committed(w);
    return 1;
}

/* The active segment with the most bytes, sealed; 0 when there is none. */
static int store_seal_largest(store *s) {
    store_writer *w = &s->w;
    store_seg *big = NULL;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        store_seg *g = w->active[sig];
        if (g != NULL && g->m.items > 0 && (big == NULL || g->m.bytes > big->m.bytes))
            big = g;
    }
    return big != NULL && store_seal(s, big);
}

/* Size retention: over STORE_SIZE_HIGH_PCT of the cap, the oldest segments
 * go until the pages in use are down to STORE_SIZE_LOW_PCT
 * (STORE_SIZE_FULL_PCT after the cap was hit: size_evicting == 2). Pages
 * freed inside the file are reused by later inserts; the file itself does
 * not shrink. */
static int store_retention_size(store *s, int *budget) {
    store_writer *w = &s->w;
    if (store_size_check(s) != SQLITE_OK || w->max_pages == 0)
        return 0; /* db_bytes is kept current for the stats either way */
    if (w->size_evicting == 2) {
        int halvings = w->size_cap_hits > 1 ? w->size_cap_hits - 1 : 0;
        w->size_target = halvings > 6 ? 0
                                      : (w->max_pages * STORE_SIZE_FULL_PCT / 100) >> halvings;
        w->size_evicting = 1;
    } else if (!w->size_evicting && w->used_pages > w->max_pages * STORE_SIZE_HIGH_PCT / 100) {
        w->size_target = w->max_pages * STORE_SIZE_LOW_PCT / 100;
        w->size_evicting = 1;
    }
    while (w->size_evicting && w->used_pages > w->size_target) {
        store_seg *g = store_oldest_sealed(w, -1);
        if (g == NULL && store_seal_largest(s))
            g = store_oldest_sealed(w, -1);
        if (g == NULL) {
            if (!w->size_stuck_logged)
                log_event(LOG_WARN, "store_size_cap_unreachable",
                          "used_bytes=%" PRId64 " target_bytes=%" PRId64
                          " detail=\"no telemetry left to evict; the rest is metadata\"",
                          w->used_pages * w->page_size, w->size_target * w->page_size);
            w->size_stuck_logged = 1;
            w->size_evicting = 0;
            return 0;
        }
        if (*budget <= 0)
            return 1;
        if (store_drop(s, g, "size", budget) != 0 || store_size_check(s) != SQLITE_OK)
            return 0;
    }
    w->size_evicting = 0;
    w->size_stuck_logged = 0;
    return 0;
}

/* Runs every retention rule, at most STORE_DROPS_PER_ROUND drops per call so
 * that ingest never waits long. Returns 1 when work is left (the writer
 * calls again without waiting for batches). */
int store_retention(store *s) {
    if (s->w.db == NULL)
        return 0;
    int budget = STORE_DROPS_PER_ROUND;
    int more = store_retention_count(s, &budget);
    more |= store_retention_age(s, &budget);
    more |= store_retention_size(s, &budget);
    return more;
}
