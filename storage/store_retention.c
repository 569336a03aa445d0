/* store_retention.c - eviction by count, age and size, see
 * store_internal.h and docs/storage.md.
 *
 * DESIGN
 * After each round of commits, oldest first (by arrival: row id; traces
 * whole, by their first-seen order), in transactions of at most
 * STORE_EVICT_MAX_ITEMS items and at most STORE_EVICT_TX_PER_ROUND of them
 * between two rounds (the writer comes back without waiting while work is
 * left): a signal over its maximum count is cut back to 99% of it; with a
 * maximum age, the run of oldest items older than it goes (checked every
 * second, the writer waking up by itself); with a size cap
 * (max_page_count), pages in use are kept between 80% and 90% of it, and
 * brought to 50% after a transaction hit the cap.
 *
 * Every eviction transaction decrements the services' counters, deletes
 * the rows' attribute and full-text index entries (FTS5 'delete' commands
 * given the stored text again) and then the rows, so that the summaries
 * agree with the rows after any crash.
 */
#include <inttypes.h>
#include <stdio.h>

#include "util/log.h"
#include "schema.h"
#include "store_internal.h"

#define STORE_EVICT_TX_PER_ROUND 8           /* eviction transactions between rounds of commits */
#define STORE_FUTURE_SKEW_NS 300000000000ULL /* items dated beyond now + 5 min: see age */
#define STORE_SIZE_HIGH_PCT 90               /* size cap: evict when more is in use ... */
#define STORE_SIZE_LOW_PCT 80                /* ... down to this */
#define STORE_SIZE_FULL_PCT 50               /* ... or down to this after hitting the cap */

typedef struct store_evict_sql {
    const char *breakdown; /* ?1 = last row: (service, items, errors) */
    const char *update;    /* ?1 service, ?2 items, ?3 errors */
    const char *before[2]; /* optional, ?1 = last row */
    const char *del;       /* ?1 = last row; its changes() are the evicted items */
    const char *after;     /* optional */
} store_evict_sql;

static const store_evict_sql store_evict[MODEL_SIGNAL_COUNT] = {
    [MODEL_SIGNAL_TRACES] =
        {
            "SELECT service, count(*), sum(status_code=2) FROM spans WHERE trace<=?1"
            " GROUP BY service",
            "UPDATE services SET span_count=max(span_count-?2,0),"
            " error_count=max(error_count-?3,0) WHERE id=?1",
            {"DELETE FROM trace_services WHERE service IN (SELECT id FROM services)"
             " AND trace<=?1",
             "INSERT INTO span_attr_fts(span_attr_fts, rowid, t)"
             " SELECT 'delete', id, loupe_attr_tokens(attrs, name) FROM spans WHERE trace<=?1"},
            "DELETE FROM spans WHERE trace<=?1",
            "DELETE FROM traces WHERE id<=?1",
        },
    [MODEL_SIGNAL_LOGS] =
        {
            "SELECT service, count(*), 0 FROM logs WHERE id<=?1 GROUP BY service",
            "UPDATE services SET log_count=max(log_count-?2,0) WHERE id=?1",
            {"INSERT INTO logs_fts(logs_fts, rowid, body) SELECT 'delete', id, "
             SCHEMA_LOG_FTS_TEXT("body") " FROM logs WHERE id<=?1",
             "INSERT INTO log_attr_fts(log_attr_fts, rowid, t)"
             " SELECT 'delete', id, loupe_attr_tokens(attrs) FROM logs WHERE id<=?1"},
            "DELETE FROM logs WHERE id<=?1",
            NULL,
        },
    [MODEL_SIGNAL_METRICS] =
        {
            "SELECT m.service, count(*), 0 FROM points p JOIN series s ON s.id=p.series"
            " JOIN metrics m ON m.id=s.metric WHERE p.id<=?1 GROUP BY m.service",
            "UPDATE services SET point_count=max(point_count-?2,0) WHERE id=?1",
            {NULL, NULL},
            "DELETE FROM points WHERE id<=?1",
            NULL,
        },
};

/* Finds the last row to evict so that about `need` items go: *last = 0
 * when there is nothing. */
static int store_evict_bound(sqlite3 *db, model_signal sig, uint64_t need, int64_t *last) {
    static const char *const sql[MODEL_SIGNAL_COUNT] = {
        [MODEL_SIGNAL_TRACES] = "SELECT id, span_count FROM traces ORDER BY id",
        [MODEL_SIGNAL_LOGS] = "SELECT id FROM logs ORDER BY id LIMIT 1 OFFSET ?1",
        [MODEL_SIGNAL_METRICS] = "SELECT id FROM points ORDER BY id LIMIT 1 OFFSET ?1",
    };
    sqlite3_stmt *st = NULL;
    *last = 0;
    int rc = sqlite3_prepare_v2(db, sql[sig], -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (sig == MODEL_SIGNAL_TRACES) {
        uint64_t sum = 0;
        while (sum < need) {
            rc = sqlite3_step(st);
            if (rc != SQLITE_ROW)
                break;
            *last = sqlite3_column_int64(st, 0);
            sum += (uint64_t)sqlite3_column_int64(st, 1);
        }
    } else {
        sqlite3_bind_int64(st, 1, (int64_t)need - 1);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *last = sqlite3_column_int64(st, 0);
        } else if (rc == SQLITE_DONE) {
            /* fewer rows than needed: all of them */
            sqlite3_finalize(st);
            st = NULL;
            rc = sqlite3_prepare_v2(db,
                                    sig == MODEL_SIGNAL_LOGS ? "SELECT max(id) FROM logs"
                                                             : "SELECT max(id) FROM points",
                                    -1, &st, NULL);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                *last = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One eviction transaction: every item of sig up to row `last` (for traces,
 * every span of the traces up to trace row `last`). *gone gets the items
 * removed. */
/* Eviction needs some room of its own before it frees any: the contentless
 * FTS5 'delete' commands write tombstones first. At the size cap, it gets a
 * little headroom above it (1/32 of the cap, at least 64 pages); the cap
 * is set back after (SQLite keeps the limit at the file's size if it grew,
 * and the pages freed are reused before the file grows again). */
static void store_cap_headroom(store_writer *w, int on) {
    if (w->max_pages == 0)
        return;
    int64_t limit = w->max_pages;
    if (on) {
        int64_t pages = store_pragma_int(w->db, "PRAGMA page_count");
        int64_t slack = w->max_pages / 32 > 64 ? w->max_pages / 32 : 64;
        limit = (pages > limit ? pages : limit) + slack;
    }
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%" PRId64, limit);
    store_pragma_int(w->db, sql);
}

static int store_evict_upto(store *s, model_signal sig, int64_t last, int64_t *gone) {
    sqlite3 *db = s->w.db;
    const store_evict_sql *q = &store_evict[sig];
    *gone = 0;
    int rc = store_run(s->w.st[ST_BEGIN]);
    if (rc != SQLITE_OK)
        return rc;
    store_cap_headroom(&s->w, 1);
    sqlite3_stmt *bd = NULL, *up = NULL;
    rc = sqlite3_prepare_v2(db, q->breakdown, -1, &bd, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, q->update, -1, &up, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(bd, 1, last);
        for (;;) {
            rc = sqlite3_step(bd);
            if (rc != SQLITE_ROW)
                break;
            sqlite3_bind_int64(up, 1, sqlite3_column_int64(bd, 0));
            sqlite3_bind_int64(up, 2, sqlite3_column_int64(bd, 1));
            sqlite3_bind_int64(up, 3, sqlite3_column_int64(bd, 2));
            rc = store_run(up);
            if (rc != SQLITE_OK)
                break;
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(bd);
    sqlite3_finalize(up);
    for (int k = 0; k < 2 && rc == SQLITE_OK; k++)
        if (q->before[k])
            rc = store_exec1(db, q->before[k], last, NULL);
    if (rc == SQLITE_OK)
        rc = store_exec1(db, q->del, last, gone);
    if (rc == SQLITE_OK && q->after)
        rc = store_exec1(db, q->after, last, NULL);
    if (rc == SQLITE_OK)
        rc = store_run(s->w.st[ST_COMMIT]);
    if (rc != SQLITE_OK) {
        *gone = 0;
        if (!sqlite3_get_autocommit(db))
            store_run(s->w.st[ST_ROLLBACK]);
        store_forget_caches(&s->w);
    }
    store_cap_headroom(&s->w, 0);
    return rc;
}

/* One eviction transaction of about `need` of the oldest items. */
static int store_evict_once(store *s, model_signal sig, uint64_t need, int64_t *gone) {
    int64_t last;
    *gone = 0;
    int rc = store_evict_bound(s->w.db, sig, need, &last);
    if (rc != SQLITE_OK || last == 0)
        return rc;
    return store_evict_upto(s, sig, last, gone);
}

/* The end of the run of oldest items (in arrival order) that are older than
 * cutoff by their own time: traces by their end, logs and points by their
 * time. *last = 0 when the oldest item is not old. An item dated after
 * `future` (a skewed clock, a bogus timestamp) does not end the run: it goes
 * with its neighbours, so that one such item cannot hold back age
 * retention for good. At most STORE_EVICT_MAX_ITEMS items (a trace is never
 * split); *more = 1 when the run may go on. */
static int store_age_bound(sqlite3 *db, model_signal sig, uint64_t cutoff, uint64_t future,
                           int64_t *last, int *more) {
    static const char *const sql[MODEL_SIGNAL_COUNT] = {
        [MODEL_SIGNAL_TRACES] = "SELECT id, span_count, end_ns FROM traces ORDER BY id",
        [MODEL_SIGNAL_LOGS] = "SELECT id, 1, time_ns FROM logs ORDER BY id",
        [MODEL_SIGNAL_METRICS] = "SELECT id, 1, time_ns FROM points ORDER BY id",
    };
    sqlite3_stmt *st = NULL;
    *last = 0;
    *more = 0;
    int rc = sqlite3_prepare_v2(db, sql[sig], -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int64_t items = 0;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        int64_t n = sqlite3_column_int64(st, 1);
        uint64_t t = (uint64_t)sqlite3_column_int64(st, 2);
        if (t >= cutoff && t <= future)
            break; /* young */
        if (items > 0 && items + n > STORE_EVICT_MAX_ITEMS) {
            *more = 1;
            break;
        }
        *last = sqlite3_column_int64(st, 0);
        items += n;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

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

/* Accounts one eviction transaction's result. Returns 0 to go on, -1 when
 * retention must stop for this round (an error, already reported). */
static int store_evicted(store *s, model_signal sig, const char *why, int rc, int64_t gone) {
    store_writer *w = &s->w;
    if (rc != SQLITE_OK) {
        /* its own line, rate-limited like the faults of ingest */
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
    if (gone <= 0) { /* nothing left to evict: the count was stale */
        w->counts[sig] = 0;
        return 0;
    }
    w->counts[sig] = (uint64_t)gone < w->counts[sig] ? w->counts[sig] - (uint64_t)gone : 0;
    atomic_fetch_add(&s->evicted[sig], (uint64_t)gone);
    log_event(LOG_DEBUG, "store_evicted", "signal=%s items=%" PRId64 " why=%s",
              model_signal_name(sig), gone, why);
    return 0;
}

/* Count retention: a signal over its maximum is cut back to 99% of it. */
static int store_retention_count(store *s, int *budget) {
    store_writer *w = &s->w;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        uint64_t max = s->max_items[sig];
        while (w->counts[sig] > max) {
            if (*budget <= 0)
                return 1;
            (*budget)--;
            uint64_t need = w->counts[sig] - max + max / 100;
            if (need > STORE_EVICT_MAX_ITEMS)
                need = STORE_EVICT_MAX_ITEMS;
            int64_t gone = 0;
            int rc = store_evict_once(s, (model_signal)sig, need, &gone);
            if (store_evicted(s, (model_signal)sig, "count", rc, gone) != 0)
                return 0;
            if (gone <= 0)
                break;
        }
    }
    return 0;
}

/* Age retention, at most every STORE_AGE_CHECK_MS (or at once while a run of
 * old items is being evicted). */
static int store_retention_age(store *s, int *budget) {
    store_writer *w = &s->w;
    uint64_t mono = store_mono_ns();
    if (s->max_age_ns == 0 || mono < w->next_age_check)
        return 0;
    uint64_t now = store_now_ns();
    uint64_t cutoff = now > s->max_age_ns ? now - s->max_age_ns : 0;
    uint64_t future = now + STORE_FUTURE_SKEW_NS;
    int more_any = 0;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        for (int more = 1; more && w->counts[sig] > 0;) {
            if (*budget <= 0) {
                more_any = 1;
                break;
            }
            int64_t last = 0;
            int rc = store_age_bound(w->db, (model_signal)sig, cutoff, future, &last, &more);
            int64_t gone = 0;
            if (rc == SQLITE_OK && last == 0)
                break;
            (*budget)--;
            if (rc == SQLITE_OK)
                rc = store_evict_upto(s, (model_signal)sig, last, &gone);
            if (store_evicted(s, (model_signal)sig, "age", rc, gone) != 0)
                return 0; /* next try at the next check */
        }
    }
    if (!more_any)
        w->next_age_check = mono + (uint64_t)STORE_AGE_CHECK_MS * 1000000u;
    return more_any;
}

/* Size retention: over STORE_SIZE_HIGH_PCT of the cap, the same share of
 * every signal's oldest items goes until the pages in use are down to
 * STORE_SIZE_LOW_PCT (STORE_SIZE_FULL_PCT after the cap was hit:
 * size_evicting == 2). Pages freed inside the file are reused by later
 * inserts; the file itself does not shrink. */
static int store_retention_size(store *s, int *budget) {
    store_writer *w = &s->w;
    if (store_size_check(s) != SQLITE_OK || w->max_pages == 0)
        return 0; /* db_bytes is kept current for the stats either way */
    if (w->size_evicting == 2) {
        w->size_target = w->max_pages * STORE_SIZE_FULL_PCT / 100;
        w->size_evicting = 1;
    } else if (!w->size_evicting && w->used_pages > w->max_pages * STORE_SIZE_HIGH_PCT / 100) {
        w->size_target = w->max_pages * STORE_SIZE_LOW_PCT / 100;
        w->size_evicting = 1;
    }
    while (w->size_evicting && w->used_pages > w->size_target) {
        uint64_t total = 0;
        for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++)
            total += w->counts[sig];
        if (total == 0) {
            if (!w->size_stuck_logged)
                log_event(LOG_WARN, "store_size_cap_unreachable",
                          "used_bytes=%" PRId64 " target_bytes=%" PRId64
                          " detail=\"no telemetry left to evict; the rest is metadata\"",
                          w->used_pages * w->page_size, w->size_target * w->page_size);
            w->size_stuck_logged = 1;
            w->size_evicting = 0;
            return 0;
        }
        double share = (double)(w->used_pages - w->size_target) / (double)w->used_pages;
        for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
            if (w->counts[sig] == 0)
                continue;
            if (*budget <= 0)
                return 1;
            (*budget)--;
            uint64_t need = (uint64_t)((double)w->counts[sig] * share) + 1;
            if (need > STORE_EVICT_MAX_ITEMS)
                need = STORE_EVICT_MAX_ITEMS;
            int64_t gone = 0;
            int rc = store_evict_once(s, (model_signal)sig, need, &gone);
            if (store_evicted(s, (model_signal)sig, "size", rc, gone) != 0)
                return 0;
        }
        if (store_size_check(s) != SQLITE_OK)
            return 0;
    }
    w->size_evicting = 0;
    w->size_stuck_logged = 0;
    return 0;
}

/* Runs every retention rule, at most STORE_EVICT_TX_PER_ROUND eviction
 * transactions per call so that ingest never waits long. Returns 1 when
 * work is left (the writer calls again without waiting for batches). */
int store_retention(store *s) {
    if (s->w.db == NULL)
        return 0;
    int budget = STORE_EVICT_TX_PER_ROUND;
    int more = store_retention_count(s, &budget);
    more |= store_retention_age(s, &budget);
    more |= store_retention_size(s, &budget);
    return more;
}
