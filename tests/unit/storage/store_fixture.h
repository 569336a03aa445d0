/* store_fixture.h - helpers shared by the storage tests: batches built by
 * hand in their arena, completion waiting, temporary directories.
 * Header-only (static inline) because each test file is its own program. */
#ifndef LOUPE_TEST_STORE_FIXTURE_H
#define LOUPE_TEST_STORE_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/model.h"
#include "storage/store.h"
#include "storage/reader.h"
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

/* Rows of every segment's table `table` ("spans", "logs", ...) that satisfy
 * `where` (SQL after WHERE; NULL for all). */
static inline int64_t fx_rows(sqlite3 *db, const char *table, const char *where) {
    sqlite3_stmt *st = NULL;
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT name FROM sqlite_schema WHERE type='table' AND name GLOB '%s_[0-9]*'"
             " AND name NOT GLOB '%s_[0-9]*_*'",
             table, table);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char q[1024];
        sqlite3_stmt *c = NULL;
        snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"%s%s", sqlite3_column_text(st, 0),
                 where ? " WHERE " : "", where ? where : "");
        ck_assert_msg(sqlite3_prepare_v2(db, q, -1, &c, NULL) == SQLITE_OK, "%s: %s", q,
                      sqlite3_errmsg(db));
        if (sqlite3_step(c) == SQLITE_ROW)
            n += sqlite3_column_int64(c, 0);
        sqlite3_finalize(c);
    }
    sqlite3_finalize(st);
    return n;
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

#endif
