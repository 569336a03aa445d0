/* store_rows.c - the durable store, see store.h and store_internal.h
 * (being split into modules).
 *
 * DESIGN
 * The writer pops everything queued, and commits it in transactions of at
 * most STORE_TX_MAX_ITEMS items (a batch is never split). A batch that fails
 * for a reason of its own is left out and the transaction written again
 * without it, so the others still commit (store_commit_group; cheaper than a
 * SAVEPOINT per batch, which measurably slowed every commit). After COMMIT
 * the writer calls every callback (STORE_OK, or the error of a failed batch
 * or commit), frees the batches and returns their bytes to the ring. Errors
 * are logged and the writer keeps running; later batches may succeed.
 *
 * Identity: resources and scopes are stored once, keyed by a 128-bit hash of
 * their canonical content (sorted attributes); metric series likewise by
 * (metric, hash of sorted attributes). The writer caches hash -> row id and
 * forgets the cache after any rollback. Traces get a small integer row id on
 * first sight; a batch's spans are aggregated per trace first, so each trace
 * costs one upsert per batch, and the upsert keeps the root span's service
 * and name (the span without a parent; the earliest span until it arrives).
 * Per-service counters are updated once per batch and decremented by
 * retention, so they always describe what is stored.
 *
 * Times are unix nanoseconds in SQLite INTEGER columns; a time beyond
 * INT64_MAX (year 2262) is stored as INT64_MAX.
 *
 * Memory mode: the database lives in SQLite's "memdb" VFS under a process-
 * unique name ("file:/loupe-<pid>-<n>?vfs=memdb"); names starting with "/"
 * are shared by every connection of the process, so readers on other threads
 * open the same database. memdb has no WAL: readers and the writer take
 * turns on its locks, which the busy timeout absorbs (commits are short).
 * The database lives as long as the writer's connection.
 *
 * Out of memory: the writer fails the transaction that hit it with
 * STORE_ENOMEM and continues; store_append() never fails for memory (a
 * batch whose texts cannot be rendered is queued without them).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "attr_index.h"
#include "util/clk.h"
#include "util/hash.h"
#include "util/jw.h"
#include "util/log.h"
#include "model_json.h"
#include "schema.h"
#include "store_internal.h"

#define STORE_MEMDB_MAX_BYTES ((sqlite3_int64)16 << 30)
#define STORE_DB_NAME "loupe.db"
#define STORE_TEST_DELAY_ENV "LOUPE_TEST_WRITER_DELAY_MS"

/* ---- the writer's statements ------------------------------------------- */

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SVC_INSERT] = "INSERT INTO services(name) VALUES(?1) ON CONFLICT(name) DO NOTHING",
    [ST_SVC_SELECT] = "SELECT id FROM services WHERE name=?1",
    [ST_SVC_UPDATE] = "UPDATE services SET span_count=span_count+?2, error_count=error_count+?3,"
                      " log_count=log_count+?4, point_count=point_count+?5,"
                      " last_seen_ns=max(last_seen_ns, ?6) WHERE id=?1",
    [ST_RES_SELECT] = "SELECT id, service FROM resources WHERE hash=?1",
    [ST_RES_INSERT] = "INSERT INTO resources(hash, service, instance, attrs, dropped_attrs,"
                      " schema_url) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_SCOPE_SELECT] = "SELECT id FROM scopes WHERE hash=?1",
    [ST_SCOPE_INSERT] = "INSERT INTO scopes(hash, name, version, attrs, dropped_attrs, schema_url)"
                        " VALUES(?1,?2,?3,?4,?5,?6)",
    /* In DO UPDATE every column on the right-hand side is the old value. */
    [ST_TRACE_UPSERT] =
        "INSERT INTO traces(trace_id, start_ns, end_ns, span_count, error_count, has_root,"
        " root_service, root_name, root_span_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
        " ON CONFLICT(trace_id) DO UPDATE SET"
        " start_ns=min(start_ns, excluded.start_ns),"
        " end_ns=max(end_ns, excluded.end_ns),"
        " span_count=span_count+excluded.span_count,"
        " error_count=error_count+excluded.error_count,"
        " root_service=CASE WHEN has_root THEN root_service"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_service"
        "  ELSE root_service END,"
        " root_name=CASE WHEN has_root THEN root_name"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_name"
        "  ELSE root_name END,"
        " root_span_id=CASE WHEN has_root THEN root_span_id"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_span_id"
        "  ELSE root_span_id END,"
        " has_root=has_root OR excluded.has_root"
        " RETURNING id",
    [ST_TRACE_SVC] = "INSERT INTO trace_services(service, trace, span_count) VALUES(?1,?2,?3)"
                     " ON CONFLICT(service, trace) DO UPDATE"
                     " SET span_count=span_count+excluded.span_count",
    [ST_SPAN_INSERT] =
        "INSERT INTO spans(trace, span_id, parent_span_id, start_ns, end_ns, service, name, kind,"
        " status_code, status_message, trace_state, flags, resource, scope, dropped_attrs,"
        " dropped_events, dropped_links, attrs, events, links)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
    [ST_SPAN_INDEX] = "INSERT INTO span_attr_fts(rowid, t) VALUES(?1, ?2)",
    [ST_LOG_INDEX] = "INSERT INTO log_attr_fts(rowid, t) VALUES(?1, ?2)",
    [ST_LOG_INSERT] =
        "INSERT INTO logs(time_ns, observed_ns, service, severity, severity_text, trace_id,"
        " span_id, flags, event_name, resource, scope, dropped_attrs, body, attrs)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
    [ST_LOG_FTS] = "INSERT INTO logs_fts(rowid, body) VALUES(?1, " SCHEMA_LOG_FTS_TEXT("?2") ")",
    [ST_METRIC_UPSERT] =
        "INSERT INTO metrics(resource, scope, name, service, description, unit, type,"
        " temporality, monotonic, last_seen_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
        " ON CONFLICT(resource, scope, name) DO UPDATE SET"
        " description=excluded.description, unit=excluded.unit, type=excluded.type,"
        " temporality=excluded.temporality, monotonic=excluded.monotonic,"
        " last_seen_ns=max(last_seen_ns, excluded.last_seen_ns)"
        " RETURNING id",
    [ST_SERIES_SELECT] = "SELECT id FROM series WHERE metric=?1 AND hash=?2",
    [ST_SERIES_INSERT] = "INSERT INTO series(metric, hash, attrs) VALUES(?1,?2,?3)",
    [ST_POINT_INSERT] = "INSERT INTO points(series, start_ns, time_ns, value, is_int, flags, data,"
                        " exemplars) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
};

static void store_bind_txt(sqlite3_stmt *st, int idx, const char *base, const store_text *t) {
    if (t->len == 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, base + t->off, (int)t->len, SQLITE_STATIC);
}

/* Makes room for n items of per-batch scratch. */
static int store_writer_reserve(store_writer *w, size_t n) {
    if (n <= w->ids_cap)
        goto table;
    if (n > SIZE_MAX / (3 * sizeof(int64_t)) || n > UINT32_MAX / 4)
        return STORE_ENOMEM;
    int64_t *ids = realloc(w->ids, n * 3 * sizeof(*ids));
    if (ids == NULL)
        return STORE_ENOMEM;
    w->ids = ids;
    size_t *ia = realloc(w->item_acc, n * sizeof(*ia));
    if (ia == NULL)
        return STORE_ENOMEM;
    w->item_acc = ia;
    store_trace_acc *accs = realloc(w->accs, n * sizeof(*accs));
    if (accs == NULL)
        return STORE_ENOMEM;
    w->accs = accs;
    w->ids_cap = n;
table:;
    size_t tc = 16;
    while (tc < 2 * n)
        tc *= 2;
    if (tc > w->table_cap) {
        uint32_t *t = realloc(w->table, tc * sizeof(*t));
        if (t == NULL)
            return STORE_ENOMEM;
        w->table = t;
        w->table_cap = tc;
    }
    return STORE_OK;
}

/* ---- per-batch service counters and texts ------------------------------- */

static store_svc_acc *store_svc_acc_get(store_writer *w, int64_t sid) {
    for (size_t i = w->n_svcs; i-- > 0;)
        if (w->svcs[i].sid == sid)
            return &w->svcs[i];
    if (w->n_svcs == w->svcs_cap) {
        size_t cap = w->svcs_cap ? 2 * w->svcs_cap : 8;
        store_svc_acc *n = realloc(w->svcs, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        w->svcs = n;
        w->svcs_cap = cap;
    }
    store_svc_acc *a = &w->svcs[w->n_svcs++];
    memset(a, 0, sizeof(*a));
    a->sid = sid;
    return a;
}

static int store_svc_flush(store_writer *w) {
    sqlite3_stmt *st = w->st[ST_SVC_UPDATE];
    for (size_t i = 0; i < w->n_svcs; i++) {
        const store_svc_acc *a = &w->svcs[i];
        sqlite3_bind_int64(st, 1, a->sid);
        sqlite3_bind_int64(st, 2, a->spans);
        sqlite3_bind_int64(st, 3, a->errors);
        sqlite3_bind_int64(st, 4, a->logs);
        sqlite3_bind_int64(st, 5, a->points);
        sqlite3_bind_int64(st, 6, store_i64(a->last_seen));
        int rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
    }
    w->n_svcs = 0;
    return SQLITE_OK;
}

/* The texts of item i: from the batch's prep, or rendered now. */
static int store_texts(store_writer *w, const ring_entry *e, size_t i, const char **base,
                       const store_text **t) {
    const store_prep *p = e->prep;
    if (p != NULL) {
        *base = p->text.ptr;
        *t = &p->t[i * STORE_MAX_TEXTS];
        return SQLITE_OK;
    }
    buf_reset(&w->scratch);
    int rc = store_item_texts(e->batch, i, &w->scratch, w->tmp_t);
    if (rc != STORE_OK)
        return rc == STORE_ENOMEM ? SQLITE_NOMEM : SQLITE_TOOBIG;
    *base = w->scratch.ptr;
    *t = w->tmp_t;
    return SQLITE_OK;
}

/* ---- spans --------------------------------------------------------------- */

static store_trace_acc *store_trace_acc_get(store_writer *w, const uint8_t *trace_id,
                                            size_t *index) {
    uint64_t a, b;
    memcpy(&a, trace_id, 8);
    memcpy(&b, trace_id + 8, 8);
    size_t mask = w->table_cap - 1;
    for (size_t i = (size_t)hash_mix64(a ^ b) & mask;; i = (i + 1) & mask) {
        uint32_t v = w->table[i];
        if (v == 0) {
            size_t k = w->n_accs++;
            w->table[i] = (uint32_t)(k + 1);
            store_trace_acc *acc = &w->accs[k];
            memset(acc, 0, sizeof(*acc));
            acc->trace_id = trace_id;
            *index = k;
            return acc;
        }
        if (memcmp(w->accs[v - 1].trace_id, trace_id, 16) == 0) {
            *index = v - 1;
            return &w->accs[v - 1];
        }
    }
}

static int store_write_spans(store_writer *w, const ring_entry *e) {
    const model_batch *b = e->batch;
    size_t n = b->n_spans;
    int rc = store_writer_reserve(w, n);
    if (rc != STORE_OK)
        return SQLITE_NOMEM;
    memset(w->table, 0, w->table_cap * sizeof(*w->table));
    w->n_accs = 0;
    w->n_svcs = 0;
    store_owner_memo memo = {0};

    /* 1: owners, per-trace and per-service aggregates */
    for (size_t i = 0; i < n; i++) {
        const model_span *sp = &b->spans[i];
        int64_t *ids = &w->ids[3 * i];
        rc = store_resolve_owner(w, &memo, sp->resource, sp->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        size_t k;
        store_trace_acc *acc = store_trace_acc_get(w, sp->trace_id, &k);
        w->item_acc[i] = k;
        int is_error = sp->status_code == MODEL_STATUS_ERROR;
        if (acc->spans == 0) {
            acc->start = sp->start_ns;
            acc->end = sp->end_ns;
            acc->root = i;
            acc->has_root = !sp->has_parent;
        } else {
            if (sp->start_ns < acc->start)
                acc->start = sp->start_ns;
            if (sp->end_ns > acc->end)
                acc->end = sp->end_ns;
            if (!acc->has_root &&
                (!sp->has_parent || sp->start_ns < b->spans[acc->root].start_ns)) {
                acc->root = i;
                acc->has_root = !sp->has_parent;
            }
        }
        acc->spans++;
        acc->errors += is_error;
        store_svc_acc *sa = store_svc_acc_get(w, ids[1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->spans++;
        sa->errors += is_error;
        uint64_t seen = sp->end_ns > sp->start_ns ? sp->end_ns : sp->start_ns;
        if (seen > sa->last_seen)
            sa->last_seen = seen;
    }

    /* 2: one upsert per trace */
    sqlite3_stmt *st = w->st[ST_TRACE_UPSERT];
    for (size_t k = 0; k < w->n_accs; k++) {
        store_trace_acc *acc = &w->accs[k];
        const model_span *root = &b->spans[acc->root];
        sqlite3_bind_blob(st, 1, acc->trace_id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, store_i64(acc->start));
        sqlite3_bind_int64(st, 3, store_i64(acc->end));
        sqlite3_bind_int64(st, 4, acc->spans);
        sqlite3_bind_int64(st, 5, acc->errors);
        sqlite3_bind_int(st, 6, acc->has_root);
        sqlite3_bind_int64(st, 7, w->ids[3 * acc->root + 1]);
        store_bind_str(st, 8, root->name);
        sqlite3_bind_blob(st, 9, root->span_id, 8, SQLITE_STATIC);
        rc = store_run_id(st, &acc->row);
        if (rc != SQLITE_OK)
            return rc;
    }

    /* 3: the spans, and the (service, trace) pairs */
    st = w->st[ST_SPAN_INSERT];
    sqlite3_stmt *ts = w->st[ST_TRACE_SVC], *ix = w->st[ST_SPAN_INDEX];
    for (size_t i = 0; i < n; i++) {
        const model_span *sp = &b->spans[i];
        const int64_t *ids = &w->ids[3 * i];
        store_trace_acc *acc = &w->accs[w->item_acc[i]];
        const char *base;
        const store_text *t;
        rc = store_texts(w, e, i, &base, &t);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(st, 1, acc->row);
        sqlite3_bind_blob(st, 2, sp->span_id, 8, SQLITE_STATIC);
        if (sp->has_parent)
            sqlite3_bind_blob(st, 3, sp->parent_span_id, 8, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, store_i64(sp->start_ns));
        sqlite3_bind_int64(st, 5, store_i64(sp->end_ns));
        sqlite3_bind_int64(st, 6, ids[1]);
        store_bind_str(st, 7, sp->name);
        sqlite3_bind_int(st, 8, (int)sp->kind);
        sqlite3_bind_int(st, 9, (int)sp->status_code);
        store_bind_str(st, 10, sp->status_message);
        store_bind_str(st, 11, sp->trace_state);
        sqlite3_bind_int64(st, 12, sp->flags);
        sqlite3_bind_int64(st, 13, ids[0]);
        sqlite3_bind_int64(st, 14, ids[2]);
        sqlite3_bind_int64(st, 15, sp->dropped_attrs);
        sqlite3_bind_int64(st, 16, sp->dropped_events);
        sqlite3_bind_int64(st, 17, sp->dropped_links);
        store_bind_txt(st, 18, base, &t[0]);
        store_bind_txt(st, 19, base, &t[1]);
        store_bind_txt(st, 20, base, &t[2]);
        rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(ix, 1, sqlite3_last_insert_rowid(w->db));
        store_bind_txt(ix, 2, base, &t[3]);
        rc = store_run(ix);
        if (rc != SQLITE_OK)
            return rc;

        /* per (trace, service) span counts: the first four services of a
         * trace in this batch are counted here, any further one per span */
        int k = 0;
        while (k < acc->n_svc && acc->svc[k] != ids[1])
            k++;
        if (k < acc->n_svc) {
            acc->svc_spans[k]++;
        } else if (k < (int)(sizeof(acc->svc) / sizeof(acc->svc[0]))) {
            acc->svc[k] = ids[1];
            acc->svc_spans[k] = 1;
            acc->n_svc++;
        } else {
            sqlite3_bind_int64(ts, 1, ids[1]);
            sqlite3_bind_int64(ts, 2, acc->row);
            sqlite3_bind_int64(ts, 3, 1);
            rc = store_run(ts);
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    for (size_t a = 0; a < w->n_accs; a++) {
        const store_trace_acc *acc = &w->accs[a];
        for (int k = 0; k < acc->n_svc; k++) {
            sqlite3_bind_int64(ts, 1, acc->svc[k]);
            sqlite3_bind_int64(ts, 2, acc->row);
            sqlite3_bind_int64(ts, 3, acc->svc_spans[k]);
            rc = store_run(ts);
            if (rc != SQLITE_OK)
                return rc;
        }
    }

    /* 4: service counters */
    return store_svc_flush(w);
}

/* ---- logs ---------------------------------------------------------------- */

static int store_write_logs(store_writer *w, const ring_entry *e) {
    const model_batch *b = e->batch;
    store_owner_memo memo = {0};
    w->n_svcs = 0;
    sqlite3_stmt *st = w->st[ST_LOG_INSERT], *fts = w->st[ST_LOG_FTS];
    uint64_t now = 0;
    for (size_t i = 0; i < b->n_logs; i++) {
        const model_log *lg = &b->logs[i];
        int64_t ids[3];
        int rc = store_resolve_owner(w, &memo, lg->resource, lg->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        const char *base;
        const store_text *t;
        rc = store_texts(w, e, i, &base, &t);
        if (rc != SQLITE_OK)
            return rc;
        uint64_t time = lg->time_ns ? lg->time_ns : lg->observed_time_ns;
        if (time == 0) {
            if (now == 0)
                now = store_now_ns();
            time = now;
        }
        sqlite3_bind_int64(st, 1, store_i64(time));
        sqlite3_bind_int64(st, 2, store_i64(lg->observed_time_ns));
        sqlite3_bind_int64(st, 3, ids[1]);
        sqlite3_bind_int(st, 4, lg->severity_number);
        store_bind_str(st, 5, lg->severity_text);
        if (lg->has_trace_id)
            sqlite3_bind_blob(st, 6, lg->trace_id, 16, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 6);
        if (lg->has_span_id)
            sqlite3_bind_blob(st, 7, lg->span_id, 8, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, lg->flags);
        store_bind_str(st, 9, lg->event_name);
        sqlite3_bind_int64(st, 10, ids[0]);
        sqlite3_bind_int64(st, 11, ids[2]);
        sqlite3_bind_int64(st, 12, lg->dropped_attrs);
        store_bind_txt(st, 13, base, &t[0]);
        store_bind_txt(st, 14, base, &t[1]);
        rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
        int64_t row = sqlite3_last_insert_rowid(w->db);
        sqlite3_bind_int64(fts, 1, row);
        store_bind_txt(fts, 2, base, &t[0]);
        rc = store_run(fts);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_stmt *ix = w->st[ST_LOG_INDEX];
        sqlite3_bind_int64(ix, 1, row);
        store_bind_txt(ix, 2, base, &t[2]);
        rc = store_run(ix);
        if (rc != SQLITE_OK)
            return rc;
        store_svc_acc *sa = store_svc_acc_get(w, ids[1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->logs++;
        if (time > sa->last_seen)
            sa->last_seen = time;
    }
    return store_svc_flush(w);
}

/* ---- metrics --------------------------------------------------------------- */

static int store_write_metrics(store_writer *w, const ring_entry *e) {
    const model_batch *b = e->batch;
    size_t nm = b->n_metrics;
    if (nm > w->metric_cap) {
        if (nm > SIZE_MAX / (2 * sizeof(int64_t)))
            return SQLITE_NOMEM;
        int64_t *rows = realloc(w->metric_rows, nm * 2 * sizeof(*rows));
        if (rows == NULL)
            return SQLITE_NOMEM;
        w->metric_rows = rows;
        uint64_t *last = realloc(w->metric_last, nm * sizeof(*last));
        if (last == NULL)
            return SQLITE_NOMEM;
        w->metric_last = last;
        w->metric_cap = nm;
    }
    /* every point must belong to a metric of this batch */
    for (size_t m = 0; m < nm; m++)
        w->metric_last[m] = 0;
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        if (p->metric == NULL || p->metric < b->metrics || p->metric >= b->metrics + nm)
            return SQLITE_MISUSE;
        size_t m = (size_t)(p->metric - b->metrics);
        if (p->time_ns > w->metric_last[m])
            w->metric_last[m] = p->time_ns;
    }
    store_owner_memo memo = {0};
    w->n_svcs = 0;
    sqlite3_stmt *st = w->st[ST_METRIC_UPSERT];
    for (size_t m = 0; m < nm; m++) {
        const model_metric *mt = &b->metrics[m];
        int64_t ids[3];
        int rc = store_resolve_owner(w, &memo, mt->resource, mt->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(st, 1, ids[0]);
        sqlite3_bind_int64(st, 2, ids[2]);
        store_bind_str(st, 3, mt->name);
        sqlite3_bind_int64(st, 4, ids[1]);
        store_bind_str(st, 5, mt->description);
        store_bind_str(st, 6, mt->unit);
        sqlite3_bind_int(st, 7, (int)mt->type);
        sqlite3_bind_int(st, 8, (int)mt->temporality);
        sqlite3_bind_int(st, 9, mt->monotonic ? 1 : 0);
        sqlite3_bind_int64(st, 10, store_i64(w->metric_last[m]));
        rc = store_run_id(st, &w->metric_rows[2 * m]);
        if (rc != SQLITE_OK)
            return rc;
        w->metric_rows[2 * m + 1] = ids[1];
    }
    st = w->st[ST_POINT_INSERT];
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        size_t m = (size_t)(p->metric - b->metrics);
        const char *base;
        const store_text *t;
        int rc = store_texts(w, e, i, &base, &t);
        if (rc != SQLITE_OK)
            return rc;
        int64_t series = 0;
        rc = store_resolve_series(w, w->metric_rows[2 * m], base + t[0].off, t[0].len, &series);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(st, 1, series);
        sqlite3_bind_int64(st, 2, store_i64(p->start_time_ns));
        sqlite3_bind_int64(st, 3, store_i64(p->time_ns));
        model_metric_type type = p->metric->type;
        if (type != MODEL_METRIC_GAUGE && type != MODEL_METRIC_SUM)
            sqlite3_bind_null(st, 4);
        else if (p->is_int)
            sqlite3_bind_int64(st, 4, p->as_int);
        else
            sqlite3_bind_double(st, 4, p->as_double); /* NaN is stored as NULL */
        sqlite3_bind_int(st, 5, p->is_int ? 1 : 0);
        sqlite3_bind_int64(st, 6, p->flags);
        store_bind_txt(st, 7, base, &t[1]);
        store_bind_txt(st, 8, base, &t[2]);
        rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
        store_svc_acc *sa = store_svc_acc_get(w, w->metric_rows[2 * m + 1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->points++;
        if (p->time_ns > sa->last_seen)
            sa->last_seen = p->time_ns;
    }
    return store_svc_flush(w);
}

static int store_write_batch(store_writer *w, const ring_entry *e) {
    switch (e->batch->signal) {
    case MODEL_SIGNAL_TRACES:
        return store_write_spans(w, e);
    case MODEL_SIGNAL_LOGS:
        return store_write_logs(w, e);
    case MODEL_SIGNAL_METRICS:
        return store_write_metrics(w, e);
    }
    return SQLITE_MISUSE;
}

/* ---- transactions ---------------------------------------------------------- */

/* The test hook LOUPE_TEST_WRITER_DELAY_MS: sleep before a transaction. */
static void store_test_delay(const store *s) {
    if (s->test_delay_ms <= 0)
        return;
    struct timespec ts = {s->test_delay_ms / 1000, (s->test_delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* status[] values while a group is being written (STORE_* codes are <= 0) */
#define STORE_PENDING 1   /* not written yet */
#define STORE_TENTATIVE 2 /* written in the open transaction */
#define STORE_MAX_REDO 8

/* 1 when an error concerns the batch being written rather than the
 * database as a whole: the other batches of its transaction can still
 * commit without it. */
static int store_error_is_local(int sqlite_rc) {
    switch (sqlite_rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_MISUSE: /* the writer's marker for an invalid batch */
        return 1;
    }
    return 0;
}

/* Writes entries[0..n) in one transaction and fills status[]. No savepoints
 * on the normal path: when a batch fails for a reason of its own, the
 * transaction is rolled back and written again without it (at most
 * STORE_MAX_REDO times); when the database fails (full, I/O error, out of
 * memory, a failed COMMIT) every batch of the transaction fails at once. */
const double store_commit_buckets[STORE_COMMIT_BUCKETS] = {0.001, 0.0025, 0.005, 0.01,
                                                           0.025, 0.05,   0.1,   0.25,
                                                           0.5,   1,      2.5};

/* Counts one committed transaction that took ns nanoseconds. */
static void store_observe_commit(store *s, uint64_t ns) {
    size_t i = 0;
    while (i < STORE_COMMIT_BUCKETS && (double)ns > store_commit_buckets[i] * 1e9)
        i++;
    atomic_fetch_add(&s->commit_bucket[i], 1);
    atomic_fetch_add(&s->commit_ns_sum, ns);
}

static void store_commit_group(store *s, ring_entry *entries, int *status, size_t n) {
    store_writer *w = &s->w;
    for (size_t i = 0; i < n; i++)
        status[i] = STORE_PENDING;
    store_test_delay(s);
    uint64_t t0 = store_mono_ns();
    for (int attempt = 0;; attempt++) {
        int rc = w->db ? store_run(w->st[ST_BEGIN]) : SQLITE_CANTOPEN;
        if (rc != SQLITE_OK) {
            store_fault_note(s, "begin", rc, w->db ? sqlite3_system_errno(w->db) : 0, n);
            atomic_fetch_add(&s->commit_errors, 1);
            for (size_t i = 0; i < n; i++)
                if (status[i] > 0)
                    status[i] = store_code(rc);
            return;
        }
        int failed = SQLITE_OK, sys_errno = 0;
        const char *what = "batch";
        for (size_t i = 0; i < n && failed == SQLITE_OK; i++) {
            if (status[i] != STORE_PENDING)
                continue;
            rc = store_write_batch(w, &entries[i]);
            if (rc == SQLITE_OK) {
                status[i] = STORE_TENTATIVE;
                continue;
            }
            sys_errno = sqlite3_system_errno(w->db);
            if (store_error_is_local(rc))
                store_log_failure(s, "batch", &entries[i], rc);
            atomic_fetch_add(&s->commit_errors, 1);
            status[i] = rc == SQLITE_MISUSE ? STORE_EINVAL : store_code(rc);
            failed = rc;
        }
        if (failed == SQLITE_OK) {
            rc = store_run(w->st[ST_COMMIT]);
            if (rc == SQLITE_OK) {
                atomic_fetch_add(&s->commits, 1);
                store_observe_commit(s, store_mono_ns() - t0);
                for (size_t i = 0; i < n; i++)
                    if (status[i] == STORE_TENTATIVE)
                        status[i] = STORE_OK;
                store_fault_clear(s);
                return;
            }
            sys_errno = sqlite3_system_errno(w->db);
            what = "commit";
            atomic_fetch_add(&s->commit_errors, 1);
            failed = rc;
        }
        if (!sqlite3_get_autocommit(w->db))
            store_run(w->st[ST_ROLLBACK]);
        store_forget_caches(w); /* ids cached in the rolled back part are gone */
        int local = store_error_is_local(failed);
        int redo = local && attempt < STORE_MAX_REDO;
        int code = failed == SQLITE_MISUSE ? STORE_EIO : store_code(failed);
        size_t left = 0, lost = 0;
        for (size_t i = 0; i < n; i++) {
            if (status[i] == STORE_TENTATIVE || status[i] == STORE_PENDING) {
                status[i] = redo ? STORE_PENDING : code;
                left += redo;
                lost += !redo;
            }
        }
        if (!local) /* the batch that hit the error is not in `lost` */
            store_fault_note(s, what, failed, sys_errno, lost + (what[0] == 'b'));
        if (!left)
            return;
    }
}

/* ---- idle ------------------------------------------------------------------ */

/* The writer has been idle for STORE_IDLE_RELEASE_MS: its page cache (up to
 * 32 MiB, refilled from the OS's file cache on the next load) and the heap
 * that batches and transactions left free go back to the system, so an
 * idle loupe is small again after a burst. */
static void store_release(store *s) {
    int freed = s->w.db ? sqlite3_db_release_memory(s->w.db) : 0;
    int trimmed = malloc_trim(0);
    log_event(LOG_DEBUG, "store_idle_release", "sqlite_cache_released=%d heap_trimmed=%d", freed,
              trimmed);
}

/* How long the writer may wait for a batch: not at all while retention has
 * work left, else until the next age check or idle release, if any. */
static long store_wait_ms(store *s, int pending) {
    if (pending)
        return 0;
    long ms = s->max_age_ns ? STORE_AGE_CHECK_MS : -1;
    if (!s->w.released) {
        uint64_t now = store_mono_ns(), due = s->w.last_work + STORE_IDLE_RELEASE_MS * 1000000ULL;
        long left = due > now ? (long)((due - now) / 1000000u) + 1 : 0;
        if (ms < 0 || left < ms)
            ms = left;
    }
    return ms;
}

/* ---- the writer thread ----------------------------------------------------- */

static void store_notify(store *s, const model_batch *b) {
    if (atomic_load(&s->n_subs) == 0)
        return;
    pthread_mutex_lock(&s->subs_mu);
    for (store_sub *sub = s->subs; sub != NULL; sub = sub->next)
        sub->fn(sub->ud, b);
    pthread_mutex_unlock(&s->subs_mu);
}

static void store_finish(store *s, ring_entry *entries, const int *status, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ring_entry *e = &entries[i];
        model_signal sig = e->batch->signal;
        if (status[i] == STORE_OK) {
            size_t items = model_batch_items(e->batch);
            atomic_fetch_add(&s->accepted[sig], items);
            s->w.counts[sig] += items;
            store_notify(s, e->batch);
        }
        if (e->cb)
            e->cb(e->ud, status[i], e->batch);
        model_batch_free(e->batch);
        store_prep_free(e->prep);
        ring_release(s->ring, e->bytes);
        e->batch = NULL;
        e->prep = NULL;
    }
}

static void *store_writer_main(void *arg) {
    store *s = arg;
    store_writer *w = &s->w;
    size_t cap = ring_capacity(s->ring);
    int pending = 1; /* retention has work left; at start: a smaller maximum, or the
                      * last round's retention cut short by a crash */
    for (;;) {
        /* wake up for age retention and the idle release even when no
         * batch comes */
        int closed = 0;
        size_t n = ring_pop_timed(s->ring, w->entries, cap, store_wait_ms(s, pending), &closed);
        if (closed)
            break; /* closed and drained */
        if (n == 0 && !pending && !w->released &&
            store_mono_ns() >= w->last_work + STORE_IDLE_RELEASE_MS * 1000000ULL) {
            store_release(s);
            w->released = 1;
        }
        size_t i = 0;
        while (i < n) {
            if (store_is_job(&w->entries[i])) {
                store_run_job(s, &w->entries[i]);
                i++;
                continue;
            }
            size_t j = i + 1, items = model_batch_items(w->entries[i].batch);
            while (j < n && !store_is_job(&w->entries[j]) &&
                   items + model_batch_items(w->entries[j].batch) <= STORE_TX_MAX_ITEMS)
                items += model_batch_items(w->entries[j++].batch);
            store_commit_group(s, w->entries + i, w->status + i, j - i);
            store_finish(s, w->entries + i, w->status + i, j - i);
            i = j;
        }
        int was_pending = pending;
        pending = store_retention(s);
        if (n > 0 || was_pending || pending) {
            w->last_work = store_mono_ns();
            w->released = 0;
        }
    }
    return NULL;
}

/* ---- open and close -------------------------------------------------------- */

static void store_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void store_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* mkdir -p; the final path must be a writable directory. */
static int store_mkdir_p(const char *dir, char *err, size_t errlen) {
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path)) {
        store_err(err, errlen, "data directory path is empty or too long");
        return -1;
    }
    memcpy(path, dir, len + 1);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            store_err(err, errlen, "cannot create data directory %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        store_err(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat stbuf;
    if (stat(path, &stbuf) != 0 || !S_ISDIR(stbuf.st_mode)) {
        store_err(err, errlen, "data directory %s is not a directory", dir);
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        store_err(err, errlen, "data directory %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void store_destroy(store *s) {
    store_writer *w = &s->w;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(w->st[i]);
    if (w->db != NULL && sqlite3_close(w->db) != SQLITE_OK)
        log_event(LOG_WARN, "store_close_busy", "detail=\"unfinalized statements\"");
    free(w->resources.slots);
    free(w->scopes.slots);
    free(w->series.slots);
    buf_free(&w->scratch);
    buf_free(&w->key);
    free(w->ids);
    free(w->item_acc);
    free(w->accs);
    free(w->table);
    free(w->svcs);
    free(w->metric_rows);
    free(w->metric_last);
    free(w->entries);
    free(w->status);
    ring_free(s->ring);
    while (s->subs != NULL) {
        store_sub *next = s->subs->next;
        free(s->subs);
        s->subs = next;
    }
    pthread_mutex_destroy(&s->subs_mu);
    free(s);
}

/* The size cap: PRAGMA max_page_count makes a transaction that would grow
 * the database past it fail with SQLITE_FULL (the limit cannot go below the
 * current size: a larger database is brought under the cap by retention,
 * and its file keeps its size, reused from the inside). A small cap also
 * checkpoints the WAL sooner and truncates it to a quarter of the cap. */
static int store_apply_cap(store *s) {
    store_writer *w = &s->w;
    int64_t ps = store_pragma_int(w->db, "PRAGMA page_size");
    if (ps <= 0)
        return SQLITE_ERROR;
    w->page_size = (int)ps;
    if (s->max_db_bytes == 0)
        return store_size_check(s);
    char sql[160];
    int64_t pages = (int64_t)(s->max_db_bytes / (uint64_t)ps);
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%" PRId64, pages);
    int64_t got = store_pragma_int(w->db, sql);
    if (got <= 0)
        return SQLITE_ERROR;
    w->max_pages = pages;
    if (got > pages)
        log_event(LOG_WARN, "store_over_size_cap",
                  "db_bytes=%" PRId64 " max_db_bytes=%" PRIu64
                  " detail=\"retention evicts the oldest items until the data fits; the file"
                  " keeps its size and is reused\"",
                  got * ps, s->max_db_bytes);
    int64_t ckpt = pages / 8 < 1000 ? (pages / 8 > 16 ? pages / 8 : 16) : 1000;
    uint64_t jlimit = s->max_db_bytes / 4 < ((uint64_t)64 << 20) ? s->max_db_bytes / 4
                                                                 : ((uint64_t)64 << 20);
    snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%" PRId64 "; PRAGMA journal_size_limit=%" PRIu64,
             ckpt, jlimit);
    if (s->mode == STORE_MODE_SQLITE) {
        int rc = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return store_size_check(s);
}

static int store_open_db(store *s, char *err, size_t errlen) {
    store_writer *w = &s->w;
    const char *shown = s->mode == STORE_MODE_MEMORY ? "(memory)" : s->path;
    int rc = sqlite3_open_v2(s->path, &w->db, s->open_flags | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        store_err(err, errlen, "cannot open database %s: %s", shown,
                  w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
        return STORE_EOPEN;
    }
    sqlite3_extended_result_codes(w->db, 1);
    sqlite3_busy_timeout(w->db, STORE_BUSY_TIMEOUT_MS);
    if (s->mode == STORE_MODE_MEMORY) {
        sqlite3_int64 limit = STORE_MEMDB_MAX_BYTES;
        sqlite3_file_control(w->db, "main", SQLITE_FCNTL_SIZE_LIMIT, &limit);
        rc = sqlite3_exec(w->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    } else {
        char mode[32];
        rc = store_pragma_text(w->db, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
        if (rc == SQLITE_OK && strcmp(mode, "wal") != 0)
            log_event(LOG_WARN, "store_no_wal", "journal_mode=%s", mode);
        /* Debian builds SQLite with WAL defaulting to synchronous=FULL */
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(w->db,
                              "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;",
                              NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(w->db,
                          "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
                          " PRAGMA secure_delete=OFF; PRAGMA foreign_keys=OFF;",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_err(err, errlen, "cannot open database %s: %s", shown, sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    rc = schema_migrate(w->db, err, errlen);
    if (rc == SCHEMA_ENEWER)
        return STORE_ESCHEMA;
    if (rc != SCHEMA_OK) {
        if (err && errlen) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s", err);
            store_err(err, errlen, "database %s: %s", shown, tmp);
        }
        return STORE_EOPEN;
    }
    /* an existing database in a read-only place fails here, not later
     * (SQLite falls back to a read-only open when the file cannot be
     * opened for writing, e.g. an immutable file) */
    if (sqlite3_db_readonly(w->db, "main") == 1) {
        store_err(err, errlen, "database %s is not writable (opened read-only)", shown);
        return STORE_EOPEN;
    }
    if (sqlite3_exec(w->db, "BEGIN IMMEDIATE; COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
        store_err(err, errlen, "database %s is not writable: %s", shown, sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(w->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                               NULL) != SQLITE_OK) {
            store_err(err, errlen, "database %s: cannot prepare statement %d: %s", shown, i,
                      sqlite3_errmsg(w->db));
            return STORE_EOPEN;
        }
    }
    rc = store_apply_cap(s);
    if (rc != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot apply the size cap: %s", shown,
                  sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    /* counts of stored items from the services' counters (a few rows, not a
     * scan of the telemetry tables) */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(w->db,
                            "SELECT coalesce(sum(span_count),0), coalesce(sum(log_count),0),"
                            " coalesce(sum(point_count),0) FROM services",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        w->counts[MODEL_SIGNAL_TRACES] = (uint64_t)sqlite3_column_int64(st, 0);
        w->counts[MODEL_SIGNAL_LOGS] = (uint64_t)sqlite3_column_int64(st, 1);
        w->counts[MODEL_SIGNAL_METRICS] = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return STORE_OK;
}

int store_open(const store_config *cfg, store **out, char *err, size_t errlen) {
    static _Atomic unsigned long memdb_seq;
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || cfg == NULL) {
        store_err(err, errlen, "store_open: missing argument");
        return STORE_EINVAL;
    }
    *out = NULL;
    if (cfg->mode != STORE_MODE_SQLITE && cfg->mode != STORE_MODE_MEMORY) {
        store_err(err, errlen, "unknown storage mode %d", (int)cfg->mode);
        return STORE_EINVAL;
    }
    if (cfg->mode == STORE_MODE_SQLITE && (cfg->data_dir == NULL || cfg->data_dir[0] == '\0')) {
        store_err(err, errlen, "no data directory given");
        return STORE_EINVAL;
    }
    store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        store_err(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    pthread_mutex_init(&s->subs_mu, NULL);
    s->mode = cfg->mode;
    s->max_items[MODEL_SIGNAL_TRACES] = cfg->max_spans ? cfg->max_spans : STORE_DEFAULT_MAX_SPANS;
    s->max_items[MODEL_SIGNAL_LOGS] = cfg->max_logs ? cfg->max_logs : STORE_DEFAULT_MAX_LOGS;
    s->max_items[MODEL_SIGNAL_METRICS] =
        cfg->max_points ? cfg->max_points : STORE_DEFAULT_MAX_POINTS;
    s->max_age_ns = cfg->max_age_ns;
    s->max_db_bytes = cfg->max_db_bytes;
    if (s->max_db_bytes != 0 && s->max_db_bytes < STORE_MIN_DB_BYTES) {
        store_err(err, errlen, "database size cap %" PRIu64 " bytes is below the minimum of %" PRIu64,
                  s->max_db_bytes, STORE_MIN_DB_BYTES);
        free(s);
        return STORE_EINVAL;
    }
    const char *delay = getenv(STORE_TEST_DELAY_ENV);
    if (delay != NULL && *delay != '\0') {
        char *end;
        long ms = strtol(delay, &end, 10);
        if (*end == '\0' && ms > 0 && ms <= 60000) {
            s->test_delay_ms = ms;
            log_event(LOG_WARN, "store_test_writer_delay",
                      "delay_ms=%ld detail=\"test hook " STORE_TEST_DELAY_ENV ": the writer sleeps"
                      " before every transaction\"",
                      ms);
        }
    }
    s->open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc;
    if (cfg->mode == STORE_MODE_MEMORY) {
        snprintf(s->path, sizeof(s->path), "file:/loupe-%ld-%lu?vfs=memdb", (long)getpid(),
                 atomic_fetch_add(&memdb_seq, 1));
        s->open_flags |= SQLITE_OPEN_URI;
    } else {
        if (store_mkdir_p(cfg->data_dir, err, errlen) != 0) {
            rc = STORE_EOPEN;
            goto fail;
        }
        size_t dl = strlen(cfg->data_dir);
        while (dl > 1 && cfg->data_dir[dl - 1] == '/')
            dl--;
        int n = snprintf(s->path, sizeof(s->path), "%.*s/%s", (int)dl, cfg->data_dir,
                         STORE_DB_NAME);
        if (n < 0 || (size_t)n >= sizeof(s->path)) {
            store_err(err, errlen, "data directory path too long: %s", cfg->data_dir);
            rc = STORE_EOPEN;
            goto fail;
        }
    }

    store_writer *w = &s->w;
    buf_init(&w->scratch, STORE_ITEM_TEXT_MAX);
    buf_init(&w->key, STORE_ITEM_TEXT_MAX);
    size_t ring_bytes = cfg->ring_max_bytes ? cfg->ring_max_bytes : STORE_DEFAULT_RING_BYTES;
    s->ring = ring_new(ring_bytes, STORE_RING_SLOTS);
    w->entries = calloc(STORE_RING_SLOTS, sizeof(*w->entries));
    w->status = calloc(STORE_RING_SLOTS, sizeof(*w->status));
    if (s->ring == NULL || w->entries == NULL || w->status == NULL ||
        store_cache_init(&w->resources, STORE_OWNER_CACHE_SLOTS) != 0 ||
        store_cache_init(&w->scopes, STORE_OWNER_CACHE_SLOTS) != 0 ||
        store_cache_init(&w->series, STORE_SERIES_CACHE_SLOTS) != 0) {
        store_err(err, errlen, "out of memory");
        rc = STORE_ENOMEM;
        goto fail;
    }
    rc = store_open_db(s, err, errlen);
    if (rc != STORE_OK)
        goto fail;
    /* The counts as opened, for the log line: once started, the writer owns
     * w->counts (retention at start changes them). */
    uint64_t opened[MODEL_SIGNAL_COUNT];
    memcpy(opened, w->counts, sizeof(opened));
    rc = pthread_create(&s->thread, NULL, store_writer_main, s);
    if (rc == 0)
        pthread_setname_np(s->thread, "loupe-writer"); /* for top -H, perf */
    if (rc != 0) {
        store_err(err, errlen, "cannot start the store writer thread: %s", strerror(rc));
        rc = STORE_ENOMEM;
        goto fail;
    }
    char qpath[PATH_MAX];
    log_event(LOG_INFO, "store_open",
              "mode=%s path=\"%s\" spans=%" PRIu64 " logs=%" PRIu64 " points=%" PRIu64
              " db_bytes=%" PRIu64 " max_db_bytes=%" PRIu64 " max_age_s=%" PRIu64,
              s->mode == STORE_MODE_MEMORY ? "memory" : "sqlite",
              log_quote(s->path, qpath, sizeof(qpath)), opened[0], opened[1], opened[2],
              atomic_load(&s->db_bytes), s->max_db_bytes, s->max_age_ns / 1000000000u);
    *out = s;
    return STORE_OK;

fail:
    store_destroy(s);
    return rc;
}

void store_close(store *s) {
    if (s == NULL)
        return;
    atomic_store(&s->closing, 1);
    ring_close(s->ring);
    pthread_join(s->thread, NULL);
    store_destroy(s);
}

/* ---- append, readers, stats ----------------------------------------------- */

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
    if (queued == 0 || (queued < max && estimate <= max - queued))
        p = store_prep_new(b, max);
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

int store_reader_open(store *s, sqlite3 **db) {
    if (db == NULL)
        return STORE_EINVAL;
    *db = NULL;
    if (s == NULL)
        return STORE_EINVAL;
    int rc = sqlite3_open_v2(s->path, db, s->open_flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(*db, 1);
        sqlite3_busy_timeout(*db, STORE_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(*db,
                          "PRAGMA query_only=1; PRAGMA cache_size=-16384;"
                          " PRAGMA temp_store=MEMORY;",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
        return rc == SQLITE_NOMEM ? STORE_ENOMEM : STORE_EOPEN;
    }
    return STORE_OK;
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
