/* store_fixture.h - helpers shared by the storage tests: batches built by
 * hand in their arena, completion waiting, temporary directories.
 * Header-only (static inline) because each test file is its own program. */
#ifndef LOUPE_TEST_STORE_FIXTURE_H
#define LOUPE_TEST_STORE_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/model.h"
#include "storage/reader.h"
#include "storage/segment.h"
#include "storage/store.h"
#include <sqlite3.h>

static inline model_str fx_str(model_batch *b, const char *s) {
    model_str out;
    ck_assert_int_eq(model_str_dup(b, &out, s, strlen(s)), 0);
    return out;
}

static inline model_str fx_strn(model_batch *b, const char *s, size_t n) {
    model_str out;
    ck_assert_int_eq(model_str_dup(b, &out, s, n), 0);
    return out;
}

static inline model_kv *fx_kvs(model_batch *b, size_t n) {
    model_kv *kv = arena_calloc(b->arena, n ? n : 1, sizeof(*kv));
    ck_assert_ptr_nonnull(kv);
    return kv;
}

static inline void fx_kv_str(model_batch *b, model_kv *kv, const char *k, const char *v) {
    kv->key = fx_str(b, k);
    kv->value.type = MODEL_VALUE_STRING;
    kv->value.u.str = fx_str(b, v);
}

static inline void fx_kv_int(model_batch *b, model_kv *kv, const char *k, int64_t v) {
    kv->key = fx_str(b, k);
    kv->value.type = MODEL_VALUE_INT;
    kv->value.u.integer = v;
}

static inline void fx_kv_double(model_batch *b, model_kv *kv, const char *k, double v) {
    kv->key = fx_str(b, k);
    kv->value.type = MODEL_VALUE_DOUBLE;
    kv->value.u.dbl = v;
}

static inline void fx_kv_bool(model_batch *b, model_kv *kv, const char *k, int v) {
    kv->key = fx_str(b, k);
    kv->value.type = MODEL_VALUE_BOOL;
    kv->value.u.boolean = v;
}

/* A resource with service.name (and service.instance.id when not NULL). */
static inline model_resource *fx_resource(model_batch *b, const char *service,
                                          const char *instance) {
    model_resource *r = arena_calloc(b->arena, 1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    size_t n = instance ? 2 : 1;
    model_kv *kv = fx_kvs(b, n);
    fx_kv_str(b, &kv[0], "service.name", service);
    if (instance)
        fx_kv_str(b, &kv[1], "service.instance.id", instance);
    r->attrs.items = kv;
    r->attrs.n = n;
    r->schema_url = model_str_empty;
    r->service_name = fx_str(b, service);
    r->service_instance_id = instance ? fx_str(b, instance) : model_str_empty;
    return r;
}

static inline model_scope *fx_scope(model_batch *b, const char *name, const char *version) {
    model_scope *s = arena_calloc(b->arena, 1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    s->name = fx_str(b, name);
    s->version = fx_str(b, version);
    s->schema_url = model_str_empty;
    return s;
}

static inline void fx_id(uint8_t *out, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(((seed >> (8 * (i % 8))) & 0xff) ^ (i == 0 ? 0x80 : 0));
    out[n - 1] |= 1; /* never all zero */
}

/* Reserves room for n spans; fill them with fx_span(). */
static inline void fx_spans(model_batch *b, size_t n) {
    b->spans = arena_calloc(b->arena, n, sizeof(*b->spans));
    ck_assert_ptr_nonnull(b->spans);
    b->n_spans = 0;
}

/* Appends a span; parent 0 = root. Returns it for further tweaks. */
static inline model_span *fx_span(model_batch *b, const model_resource *r, const model_scope *sc,
                                  uint64_t trace, uint64_t span, uint64_t parent,
                                  const char *name, uint64_t start, uint64_t end) {
    model_span *sp = &b->spans[b->n_spans++];
    memset(sp, 0, sizeof(*sp));
    sp->resource = r;
    sp->scope = sc;
    fx_id(sp->trace_id, 16, trace);
    fx_id(sp->span_id, 8, span);
    if (parent) {
        fx_id(sp->parent_span_id, 8, parent);
        sp->has_parent = 1;
    }
    sp->trace_state = model_str_empty;
    sp->name = fx_str(b, name);
    sp->kind = MODEL_SPAN_KIND_SERVER;
    sp->start_ns = start;
    sp->end_ns = end;
    sp->status_message = model_str_empty;
    return sp;
}

static inline void fx_logs(model_batch *b, size_t n) {
    b->logs = arena_calloc(b->arena, n, sizeof(*b->logs));
    ck_assert_ptr_nonnull(b->logs);
    b->n_logs = 0;
}

static inline model_log *fx_log(model_batch *b, const model_resource *r, const model_scope *sc,
                                uint64_t time, int severity, const char *body) {
    model_log *l = &b->logs[b->n_logs++];
    memset(l, 0, sizeof(*l));
    l->resource = r;
    l->scope = sc;
    l->time_ns = time;
    l->observed_time_ns = time;
    l->severity_number = severity;
    l->severity_text = model_str_empty;
    l->event_name = model_str_empty;
    if (body) {
        l->body.type = MODEL_VALUE_STRING;
        l->body.u.str = fx_str(b, body);
    }
    return l;
}

/* ---- completion ----------------------------------------------------------- */

typedef struct fx_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int ok;
    int last_status;
    int statuses[64]; /* by ud index when < 64 */
} fx_waiter;

static inline void fx_waiter_init(fx_waiter *w) {
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (int i = 0; i < 64; i++)
        w->statuses[i] = 1; /* not called */
}

typedef struct fx_tag {
    fx_waiter *w;
    int index;
} fx_tag;

static inline void fx_done(void *ud, int status, const model_batch *b) {
    (void)b;
    fx_tag *t = ud;
    pthread_mutex_lock(&t->w->mu);
    t->w->done++;
    t->w->ok += status == STORE_OK;
    t->w->last_status = status;
    if (t->index >= 0 && t->index < 64)
        t->w->statuses[t->index] = status;
    pthread_cond_broadcast(&t->w->cv);
    pthread_mutex_unlock(&t->w->mu);
}

/* Waits until `count` callbacks have run; fails the test after 30 s. */
static inline void fx_wait(fx_waiter *w, int count) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&w->mu);
    while (w->done < count) {
        int rc = pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
        if (rc != 0)
            break;
    }
    int done = w->done;
    pthread_mutex_unlock(&w->mu);
    ck_assert_int_ge(done, count);
}

/* Appends b and waits for its callback; returns the callback's status. */
static inline int fx_commit(store *s, model_batch *b) {
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tag = {&w, 0};
    ck_assert_int_eq(store_append(s, b, fx_done, &tag), STORE_OK);
    fx_wait(&w, 1);
    return w.statuses[0];
}

/* Lets retention finish what earlier commits started: the writer runs at
 * most a few segment drops after each round of commits, then comes back
 * for the rest. A round's retention runs after its callbacks, so it is
 * over once the next round's callback has run: commits empty batches
 * until the retention between two of them evicted nothing (bounded). */
static inline void fx_settle(store *s) {
    store_stats st;
    uint64_t before = UINT64_MAX;
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(fx_commit(s, model_batch_new(MODEL_SIGNAL_LOGS, 0)), STORE_OK);
        store_get_stats(s, &st);
        uint64_t now = st.evicted[0] + st.evicted[1] + st.evicted[2];
        if (now == before)
            return;
        before = now;
    }
    ck_abort_msg("retention did not settle after 100 rounds");
}

/* ---- directories and raw SQL ---------------------------------------------- */

static inline void fx_tmpdir(char *out, size_t len) {
    snprintf(out, len, "/tmp/loupe-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static inline void fx_rmdir(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A read-write connection to the database of the store in dir, beside the
 * store's own (WAL: it reads what was committed). */
static inline sqlite3 *fx_raw_db(const char *dir) {
    char path[256];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* Rows of every segment's table `table` ("spans", "logs_fts", ...):
 * those that satisfy `where` (SQL after WHERE), or with `match` those the
 * FTS5 query matches; both NULL: all. */
static inline int64_t fx_count_each(sqlite3 *db, const char *table, const char *where,
                                    const char *match) {
    sqlite3_stmt *st = NULL;
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT name FROM sqlite_schema WHERE type='table' AND name GLOB '%s_[0-9]*'"
             " AND name NOT GLOB '%s_[0-9]*_*'",
             table, table);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        char q[1024];
        sqlite3_stmt *c = NULL;
        if (match)
            snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\" WHERE \"%s\" MATCH ?1", t, t);
        else
            snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"%s%s", t, where ? " WHERE " : "",
                     where ? where : "");
        ck_assert_msg(sqlite3_prepare_v2(db, q, -1, &c, NULL) == SQLITE_OK, "%s: %s", q,
                      sqlite3_errmsg(db));
        if (match)
            sqlite3_bind_text(c, 1, match, -1, SQLITE_TRANSIENT);
        ck_assert_int_eq(sqlite3_step(c), SQLITE_ROW);
        n += sqlite3_column_int64(c, 0);
        sqlite3_finalize(c);
    }
    sqlite3_finalize(st);
    return n;
}

/* Rows of every segment's table `table` ("spans", "logs", ...) that satisfy
 * `where` (SQL after WHERE; NULL for all). */
static inline int64_t fx_rows(sqlite3 *db, const char *table, const char *where) {
    return fx_count_each(db, table, where, NULL);
}

/* Matches of the FTS5 query `match` in every segment's FTS5 table `table`
 * ("logs_fts", "log_attr_fts", "span_attr_fts"). */
static inline int64_t fx_match(sqlite3 *db, const char *table, const char *match) {
    return fx_count_each(db, table, NULL, match);
}

/* First column of the first row of sql as an integer (-1 when no row). */
static inline int64_t fx_sql_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* fx_sql_int() of a printf-style statement (for segment table names). */
static inline int64_t fx_sqlf(sqlite3 *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int64_t fx_sqlf(sqlite3 *db, const char *fmt, ...) {
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    ck_assert_int_lt(n, (int)sizeof(sql));
    return fx_sql_int(db, sql);
}

/* Segments of signal sig in the manifest: sealed ones (sealed 1), the
 * active one (0), or all (-1). */
static inline int64_t fx_segments(sqlite3 *db, model_signal sig, int sealed) {
    if (sealed < 0)
        return fx_sqlf(db, "SELECT count(*) FROM segments WHERE signal=%d", (int)sig);
    return fx_sqlf(db, "SELECT count(*) FROM segments WHERE signal=%d AND sealed=%d", (int)sig,
                   sealed);
}

/* The segment whose traces_N holds trace seed t (fx_id), or 0. */
static inline int64_t fx_trace_segment(sqlite3 *db, uint64_t t) {
    uint8_t tid[16];
    fx_id(tid, 16, t);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT id FROM segments WHERE signal=0 ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int64_t found = 0;
    while (found == 0 && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        char sql[128];
        sqlite3_stmt *q = NULL;
        snprintf(sql, sizeof(sql), "SELECT 1 FROM traces_%lld WHERE trace_id=?1", (long long)id);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
        sqlite3_bind_blob(q, 1, tid, 16, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            found = id;
        sqlite3_finalize(q);
    }
    sqlite3_finalize(st);
    return found;
}

/* ---- the store's invariants --------------------------------------------------- */

/* Tables whose name is `name` + "_<digits>" (not a shadow table). */
static inline int64_t fx_tables_named(sqlite3 *db, const char *name) {
    return fx_sqlf(db,
                   "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name GLOB"
                   " '%s_[0-9]*' AND name NOT GLOB '%s_[0-9]*_*'",
                   name, name);
}

/* One trace segment: its rows agree with each other and with the manifest's
 * bloom filter (every trace id it holds is in the filter). */
static inline void fx_check_trace_segment(sqlite3 *db, int64_t id, int sealed) {
    long long n = (long long)id;
    ck_assert_msg(fx_sqlf(db,
                          "SELECT count(*) FROM traces_%lld t WHERE span_count <>"
                          " (SELECT count(*) FROM spans_%lld s WHERE s.trace=t.id)"
                          " OR error_count <> (SELECT count(*) FROM spans_%lld s"
                          "  WHERE s.trace=t.id AND s.status_code=2)",
                          n, n, n) == 0,
                  "segment %lld: a trace's counts disagree with its spans", n);
    ck_assert_msg(fx_sqlf(db,
                          "SELECT count(*) FROM spans_%lld WHERE trace NOT IN"
                          " (SELECT id FROM traces_%lld)",
                          n, n) == 0,
                  "segment %lld: spans without their trace", n);
    ck_assert_msg(fx_sqlf(db,
                          "SELECT count(*) FROM traces_%lld t WHERE span_count <>"
                          " (SELECT coalesce(sum(span_count),0) FROM trace_services_%lld ts"
                          "  WHERE ts.trace=t.id)",
                          n, n) == 0,
                  "segment %lld: trace_services disagree with the traces", n);
    ck_assert_msg(fx_sqlf(db,
                          "SELECT count(*) FROM trace_services_%lld WHERE trace NOT IN"
                          " (SELECT id FROM traces_%lld)",
                          n, n) == 0,
                  "segment %lld: trace_services of a trace that is gone", n);
    ck_assert_msg(fx_sqlf(db, "SELECT count(*) FROM traces_%lld WHERE span_count=0", n) == 0,
                  "segment %lld: a trace without spans", n);
    if (!sealed)
        return;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT bloom FROM segments WHERE id=?1", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    seg_bloom bloom;
    ck_assert_msg(seg_bloom_from(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                 &bloom) == 0,
                  "sealed trace segment %lld has no bloom filter", n);
    sqlite3_finalize(st);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT trace_id FROM traces_%lld", n);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ck_assert_int_eq(sqlite3_column_bytes(st, 0), 16);
        ck_assert_msg(seg_bloom_has(&bloom, sqlite3_column_blob(st, 0)),
                      "segment %lld: a trace id missing from its bloom filter", n);
    }
    sqlite3_finalize(st);
    seg_bloom_free(&bloom);
}

/* The per-service counts of segment id (segment_services) are its rows. */
static inline void fx_check_segment_services(sqlite3 *db, model_signal sig, int64_t id) {
    long long n = (long long)id;
    char a[512], b[512];
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        snprintf(a, sizeof(a),
                 "SELECT service, count(*), sum(status_code=2) FROM spans_%lld GROUP BY service",
                 n);
        snprintf(b, sizeof(b),
                 "SELECT service, spans, errors FROM segment_services"
                 " WHERE segment=%lld AND spans>0",
                 n);
        break;
    case MODEL_SIGNAL_LOGS:
        snprintf(a, sizeof(a), "SELECT service, count(*) FROM logs_%lld GROUP BY service", n);
        snprintf(b, sizeof(b),
                 "SELECT service, logs FROM segment_services WHERE segment=%lld AND logs>0", n);
        break;
    case MODEL_SIGNAL_METRICS:
        snprintf(a, sizeof(a),
                 "SELECT m.service, count(*) FROM points_%lld p JOIN series s ON s.id=p.series"
                 " JOIN metrics m ON m.id=s.metric GROUP BY m.service",
                 n);
        snprintf(b, sizeof(b),
                 "SELECT service, points FROM segment_services WHERE segment=%lld AND points>0",
                 n);
        break;
    }
    ck_assert_msg(fx_sqlf(db, "SELECT count(*) FROM (%s EXCEPT %s)", a, b) == 0 &&
                      fx_sqlf(db, "SELECT count(*) FROM (%s EXCEPT %s)", b, a) == 0,
                  "segment %lld: segment_services disagree with its rows", n);
}

/* Items of segment id outside [lo, hi] (its manifest's time bounds): trace
 * starts, log times, point times. */
static inline int64_t fx_outside(sqlite3 *db, model_signal sig, int64_t id, int64_t lo,
                                 int64_t hi) {
    long long n = (long long)id, l = (long long)lo, h = (long long)hi;
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        return fx_sqlf(db, "SELECT count(*) FROM traces_%lld WHERE start_ns<%lld OR start_ns>%lld",
                       n, l, h);
    case MODEL_SIGNAL_LOGS:
        return fx_sqlf(db, "SELECT count(*) FROM logs_%lld WHERE time_ns<%lld OR time_ns>%lld", n,
                       l, h);
    case MODEL_SIGNAL_METRICS:
        return fx_sqlf(db, "SELECT count(*) FROM points_%lld WHERE time_ns<%lld OR time_ns>%lld",
                       n, l, h);
    }
    return -1;
}

/* Everything the store promises about its segments, in one snapshot of db:
 * every manifest row has its tables and no segment table is without one;
 * each item count is the rows; the time bounds hold the items; at most one
 * active segment per signal; per-segment service counts are the rows and
 * the services' counters are their sums; each trace lives in one segment,
 * complete, and is found by its segment's bloom filter. */
static inline void fx_check_store(sqlite3 *db) {
    static const char *const main_table[MODEL_SIGNAL_COUNT] = {"spans", "logs", "points"};
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT id, signal, sealed, items,"
                                        " coalesce(min_time_ns, 9223372036854775807),"
                                        " coalesce(max_time_ns, -9223372036854775807-1)"
                                        " FROM segments ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int64_t segs[MODEL_SIGNAL_COUNT] = {0}, active[MODEL_SIGNAL_COUNT] = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        int sig = sqlite3_column_int(st, 1), sealed = sqlite3_column_int(st, 2);
        int64_t items = sqlite3_column_int64(st, 3);
        long long lo = sqlite3_column_int64(st, 4), hi = sqlite3_column_int64(st, 5);
        ck_assert_int_ge(sig, 0);
        ck_assert_int_lt(sig, MODEL_SIGNAL_COUNT);
        segs[sig]++;
        active[sig] += !sealed;
        int64_t rows = fx_sqlf(db, "SELECT count(*) FROM %s_%lld", main_table[sig], id);
        ck_assert_msg(rows == items, "segment %lld: manifest says %lld items, it holds %lld", id,
                      (long long)items, (long long)rows);
        ck_assert_msg(fx_outside(db, (model_signal)sig, id, lo, hi) == 0,
                      "segment %lld: items outside the manifest's times [%lld, %lld]", id, lo,
                      hi);
        fx_check_segment_services(db, (model_signal)sig, id);
        if (sig == MODEL_SIGNAL_TRACES)
            fx_check_trace_segment(db, id, sealed);
    }
    sqlite3_finalize(st);
    static const char *const tables[MODEL_SIGNAL_COUNT][5] = {
        {"traces", "trace_services", "spans", "span_attr_fts", NULL},
        {"logs", "logs_fts", "log_attr_fts", NULL, NULL},
        {"points", NULL, NULL, NULL, NULL},
    };
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        ck_assert_msg(active[sig] <= 1, "signal %d has %lld active segments", sig,
                      (long long)active[sig]);
        for (int t = 0; tables[sig][t] != NULL; t++)
            ck_assert_msg(fx_tables_named(db, tables[sig][t]) == segs[sig],
                          "%lld %s tables for %lld segments", (long long)fx_tables_named(db, tables[sig][t]),
                          tables[sig][t], (long long)segs[sig]);
    }
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segment_services WHERE segment NOT IN"
                                    " (SELECT id FROM segments)"),
                     0);
    static const char *const svc_sql[4] = {
        "SELECT count(*) FROM services s WHERE span_count <>"
        " (SELECT coalesce(sum(spans),0) FROM segment_services WHERE service=s.id)",
        "SELECT count(*) FROM services s WHERE error_count <>"
        " (SELECT coalesce(sum(errors),0) FROM segment_services WHERE service=s.id)",
        "SELECT count(*) FROM services s WHERE log_count <>"
        " (SELECT coalesce(sum(logs),0) FROM segment_services WHERE service=s.id)",
        "SELECT count(*) FROM services s WHERE point_count <>"
        " (SELECT coalesce(sum(points),0) FROM segment_services WHERE service=s.id)",
    };
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fx_sql_int(db, svc_sql[i]) == 0, "services' counters disagree: %s",
                      svc_sql[i]);
    /* a trace id in one segment only */
    int64_t n = fx_segments(db, MODEL_SIGNAL_TRACES, -1);
    size_t cap = 128 + (size_t)n * 64, len = 0;
    char *uni = malloc(cap);
    ck_assert_ptr_nonnull(uni);
    len += (size_t)snprintf(uni, cap, "SELECT count(*) - count(DISTINCT trace_id) FROM (");
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "SELECT id FROM segments WHERE signal=0", -1, &st, NULL),
        SQLITE_OK);
    for (int64_t k = 0; sqlite3_step(st) == SQLITE_ROW; k++)
        len += (size_t)snprintf(uni + len, cap - len, "%sSELECT trace_id FROM traces_%lld",
                                k ? " UNION ALL " : "", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    snprintf(uni + len, cap - len, ")");
    if (n > 0)
        ck_assert_msg(fx_sql_int(db, uni) == 0, "a trace is in more than one segment");
    free(uni);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

#endif
