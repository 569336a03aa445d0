/* test_store.c - the durable store (storage/store*.c, schema.c): append,
 * commit, callbacks, memory mode, errors, retention by whole segments. */
#include <check.h>
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/query.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "store_fixture.h"

static char dir[128];

static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
}

static void teardown(void) {
    fx_rmdir(dir);
}

static store *open_sqlite(uint64_t max_spans, uint64_t max_logs, uint64_t max_points,
                          size_t ring_bytes) {
    store_config cfg = {0};
    cfg.mode = STORE_MODE_SQLITE;
    cfg.data_dir = dir;
    cfg.max_spans = max_spans;
    cfg.max_logs = max_logs;
    cfg.max_points = max_points;
    cfg.ring_max_bytes = ring_bytes;
    store *s = NULL;
    char err[256];
    int rc = store_open(&cfg, &s, err, sizeof(err));
    ck_assert_msg(rc == STORE_OK, "store_open: %d %s", rc, err);
    return s;
}

/* A batch of one trace: root + 2 children (trace seed t). */
static model_batch *trace_batch(const char *service, uint64_t t, uint64_t t0) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, service, "inst-1");
    model_scope *sc = fx_scope(b, "lib", "1.0");
    fx_spans(b, 3);
    fx_span(b, r, sc, t, t * 10 + 1, 0, "root", t0, t0 + 100);
    fx_span(b, r, sc, t, t * 10 + 2, t * 10 + 1, "child-a", t0 + 10, t0 + 50);
    fx_span(b, r, sc, t, t * 10 + 3, t * 10 + 1, "child-b", t0 + 20, t0 + 90);
    return b;
}

static json_t *parse(buf *out) {
    json_error_t err;
    json_t *j = json_loadb(out->ptr, out->len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %.*s", err.text, (int)out->len, out->ptr);
    return j;
}

/* ---- basics --------------------------------------------------------------- */

START_TEST(test_append_commit_read_back) {
    store *s = open_sqlite(0, 0, 0, 0);
    ck_assert_int_eq(fx_commit(s, trace_batch("checkout", 1, 1000)), STORE_OK);

    struct stat st;
    char path[256];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    ck_assert_int_eq(stat(path, &st), 0);

    store_reader *rd = NULL;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    uint8_t tid[16];
    fx_id(tid, 16, 1);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_trace(rd, tid, &out), QUERY_OK);
    json_t *j = parse(&out);
    json_t *spans = json_object_get(j, "spans");
    ck_assert_int_eq(json_array_size(spans), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(spans, 0), "name")), "root");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(spans, 2), "name")),
                     "child-b");
    json_decref(j);

    /* readers are read-only */
    ck_assert_int_ne(sqlite3_exec(rd->db, "DELETE FROM spans_1", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_ne(sqlite3_exec(rd->db, "DELETE FROM segments", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(fx_rows(rd->db, "spans", NULL), 3);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT items FROM segments WHERE id=1"), 3);

    store_stats stats;
    store_get_stats(s, &stats);
    ck_assert_uint_eq(stats.accepted[MODEL_SIGNAL_TRACES], 3);
    ck_assert_uint_ge(stats.commits, 1);
    ck_assert_uint_eq(stats.commit_errors, 0);
    ck_assert_uint_eq(stats.ring_max_bytes, 64u << 20);

    /* journal mode and sync level as promised */
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM pragma_journal_mode WHERE "
                                        "journal_mode='wal'"),
                     1);
    ck_assert_int_eq(fx_sql_int(rd->db, "PRAGMA user_version"), SCHEMA_VERSION);
    fx_check_store(rd->db);
    buf_free(&out);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

START_TEST(test_empty_batch_is_acknowledged) {
    store *s = open_sqlite(0, 0, 0, 0);
    ck_assert_int_eq(fx_commit(s, model_batch_new(MODEL_SIGNAL_LOGS, 0)), STORE_OK);
    ck_assert_int_eq(store_append(s, NULL, NULL, NULL), STORE_EINVAL);
    store_close(s);
}
END_TEST

START_TEST(test_resources_are_deduplicated) {
    store *s = open_sqlite(0, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(fx_commit(s, trace_batch("svc", 10 + (uint64_t)i, 1000)), STORE_OK);
    /* same attributes in another order: same resource */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", "inst-1");
    model_kv tmp = r->attrs.items[0];
    r->attrs.items[0] = r->attrs.items[1];
    r->attrs.items[1] = tmp;
    fx_spans(b, 1);
    fx_span(b, r, fx_scope(b, "lib", "1.0"), 99, 991, 0, "x", 1, 2);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    store_close(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM resources"), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM scopes"), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM services"), 1);
    ck_assert_int_eq(fx_rows(db, "traces", NULL), 4);
    sqlite3_close(db);
}
END_TEST

/* ---- trace summaries ---------------------------------------------------------- */

static void check_trace_row(sqlite3 *db, uint64_t t, const char *root, int64_t spans,
                            int64_t start, int64_t end, int64_t errors, int has_root) {
    uint8_t tid[16];
    fx_id(tid, 16, t);
    int64_t seg = fx_trace_segment(db, t);
    ck_assert_int_gt(seg, 0);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT root_name, span_count, start_ns, end_ns, error_count, has_root"
             " FROM traces_%lld WHERE trace_id=?1",
             (long long)seg);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, tid, 16, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), root);
    ck_assert_int_eq(sqlite3_column_int64(st, 1), spans);
    ck_assert_int_eq(sqlite3_column_int64(st, 2), start);
    ck_assert_int_eq(sqlite3_column_int64(st, 3), end);
    ck_assert_int_eq(sqlite3_column_int64(st, 4), errors);
    ck_assert_int_eq(sqlite3_column_int(st, 5), has_root);
    sqlite3_finalize(st);
}

START_TEST(test_out_of_order_spans_keep_summary_right) {
    store *s = open_sqlite(0, 0, 0, 0);
    store_reader *reader = NULL;
    ck_assert_int_eq(store_reader_open(s, &reader), STORE_OK);
    sqlite3 *rd = reader->db;

    /* batch 1: a late child, then an earlier child (no root yet) */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "api", NULL);
    model_scope *sc = fx_scope(b, "lib", "");
    fx_spans(b, 2);
    fx_span(b, r, sc, 5, 52, 51, "late-child", 300, 400);
    model_span *e = fx_span(b, r, sc, 5, 53, 51, "early-child", 200, 250);
    e->status_code = MODEL_STATUS_ERROR;
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    check_trace_row(rd, 5, "early-child", 2, 200, 400, 1, 0);

    /* batch 2: an even earlier child takes over as fallback */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "web", NULL);
    fx_spans(b, 1);
    fx_span(b, r, fx_scope(b, "lib", ""), 5, 54, 51, "earliest-child", 150, 160);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    check_trace_row(rd, 5, "earliest-child", 3, 150, 400, 1, 0);

    /* batch 3: the root arrives, later than its children in time order
     * within the batch: child first, then root */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "gateway", NULL);
    sc = fx_scope(b, "lib", "");
    fx_spans(b, 2);
    fx_span(b, r, sc, 5, 55, 51, "another-child", 120, 130);
    fx_span(b, r, sc, 5, 51, 0, "GET /checkout", 100, 500);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    check_trace_row(rd, 5, "GET /checkout", 5, 100, 500, 1, 1);

    /* batch 4: an even earlier non-root span does not displace the root */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "api", NULL);
    fx_spans(b, 1);
    fx_span(b, r, fx_scope(b, "lib", ""), 5, 56, 51, "clock-skewed", 50, 60);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    check_trace_row(rd, 5, "GET /checkout", 6, 50, 500, 1, 1);

    ck_assert_int_eq(fx_sqlf(rd,
                             "SELECT s.name='gateway' FROM traces_%lld t JOIN services s"
                             " ON s.id=t.root_service",
                             (long long)fx_trace_segment(rd, 5)),
                     1);
    ck_assert_int_eq(fx_rows(rd, "trace_services", NULL), 3);
    fx_check_store(rd);
    store_reader_close(reader);
    store_close(s);
}
END_TEST

START_TEST(test_root_first_in_same_batch_as_children) {
    store *s = open_sqlite(0, 0, 0, 0);
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "api", NULL);
    model_scope *sc = fx_scope(b, "lib", "");
    fx_spans(b, 4);
    /* two traces interleaved; roots in the middle */
    fx_span(b, r, sc, 7, 72, 71, "c7", 20, 30);
    fx_span(b, r, sc, 8, 82, 81, "c8", 5, 6);
    fx_span(b, r, sc, 7, 71, 0, "r7", 10, 40);
    fx_span(b, r, sc, 8, 81, 0, "r8", 7, 9);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    check_trace_row(rd->db, 7, "r7", 2, 10, 40, 0, 1);
    check_trace_row(rd->db, 8, "r8", 2, 5, 9, 0, 1);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- memory mode --------------------------------------------------------------- */

typedef struct reader_arg {
    store *s;
    int64_t spans;
    int rc;
} reader_arg;

/* Counts the spans of every trace segment (no ck_assert off the test's
 * thread: a->rc and a->spans say what happened). */
static void *reader_thread(void *p) {
    reader_arg *a = p;
    store_reader *rd = NULL;
    a->rc = store_reader_open(a->s, &rd);
    if (a->rc == STORE_OK) {
        sqlite3_stmt *st = NULL;
        a->spans = 0;
        if (sqlite3_prepare_v2(rd->db, "SELECT id FROM segments WHERE signal=0", -1, &st, NULL) !=
            SQLITE_OK)
            a->rc = -100;
        while (a->rc == STORE_OK && sqlite3_step(st) == SQLITE_ROW) {
            char sql[96];
            sqlite3_stmt *c = NULL;
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM spans_%lld",
                     (long long)sqlite3_column_int64(st, 0));
            if (sqlite3_prepare_v2(rd->db, sql, -1, &c, NULL) == SQLITE_OK &&
                sqlite3_step(c) == SQLITE_ROW)
                a->spans += sqlite3_column_int64(c, 0);
            else
                a->rc = -101;
            sqlite3_finalize(c);
        }
        sqlite3_finalize(st);
    }
    store_reader_close(rd);
    return NULL;
}

START_TEST(test_memory_mode_with_reader) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    store *s = NULL, *s2 = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_open(&cfg, &s2, err, sizeof(err)), STORE_OK); /* independent */
    ck_assert_int_eq(fx_commit(s, trace_batch("mem", 1, 1000)), STORE_OK);
    reader_arg a = {s, -1, -1};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, reader_thread, &a), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.rc, STORE_OK);
    ck_assert_int_eq(a.spans, 3);
    reader_arg a2 = {s2, -1, -1};
    reader_thread(&a2);
    ck_assert_int_eq(a2.spans, 0);

    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    json_t *j = parse(&out);
    json_t *first = json_array_get(json_object_get(j, "services"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "name")), "mem");
    json_decref(j);
    buf_free(&out);
    /* writes keep working while a reader connection is open */
    ck_assert_int_eq(fx_commit(s, trace_batch("mem", 2, 2000)), STORE_OK);
    ck_assert_int_eq(fx_rows(rd->db, "spans", NULL), 6);
    fx_check_store(rd->db);
    store_reader_close(rd);
    store_close(s);
    store_close(s2);
    /* nothing on disk: the test directory is still empty */
    ck_assert_int_ne(access("loupe.db", F_OK), 0);
}
END_TEST

/* ---- shutdown ---------------------------------------------------------------- */

START_TEST(test_close_commits_queued_batches) {
    store *s = open_sqlite(0, 0, 0, 0);
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tags[40];
    for (int i = 0; i < 40; i++) {
        tags[i] = (fx_tag){&w, i};
        ck_assert_int_eq(store_append(s, trace_batch("svc", 100 + (uint64_t)i, 1000 + i),
                                      fx_done, &tags[i]),
                         STORE_OK);
    }
    store_close(s); /* no waiting first */
    ck_assert_int_eq(w.done, 40);
    ck_assert_int_eq(w.ok, 40);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 120);
    ck_assert_int_eq(fx_sql_int(db, "SELECT span_count FROM services WHERE name='svc'"), 120);
    fx_check_store(db);
    sqlite3_close(db);

    /* reopening sees the data and keeps counting */
    s = open_sqlite(0, 0, 0, 0);
    ck_assert_int_eq(fx_commit(s, trace_batch("svc", 500, 5000)), STORE_OK);
    store_close(s);
    db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 123);
    fx_check_store(db);
    sqlite3_close(db);
}
END_TEST

typedef struct appender {
    store *s;
    int id;
    fx_waiter *w;
    fx_tag tag;
    int refused;
} appender;

static void *appender_main(void *p) {
    appender *a = p;
    for (int i = 0; i < 50; i++) {
        /* retry on EFULL, bounded: the writer keeps draining */
        for (int tries = 0;; tries++) {
            model_batch *b = trace_batch("svc", (uint64_t)(a->id * 1000 + i + 1), 1000);
            int rc = store_append(a->s, b, fx_done, &a->tag);
            if (rc == STORE_OK)
                break;
            a->refused++;
            if (rc != STORE_EFULL || tries > 100000)
                return NULL;
            sched_yield();
        }
    }
    return NULL;
}

START_TEST(test_concurrent_appenders) {
    store *s = open_sqlite(0, 0, 0, 256 * 1024); /* small ring: EFULL happens */
    fx_waiter w;
    fx_waiter_init(&w);
    appender a[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (appender){s, i, &w, {&w, -1}, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, appender_main, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    fx_wait(&w, 200);
    ck_assert_int_eq(w.ok, 200);
    store_stats st;
    store_get_stats(s, &st);
    int refused = a[0].refused + a[1].refused + a[2].refused + a[3].refused;
    ck_assert_uint_eq(st.rejected[MODEL_SIGNAL_TRACES], 3 * (uint64_t)refused);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_TRACES], 600);
    store_close(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 600);
    ck_assert_int_eq(fx_rows(db, "traces", NULL), 200);
    fx_check_store(db);
    sqlite3_close(db);
}
END_TEST

/* ---- open errors --------------------------------------------------------------- */

START_TEST(test_unwritable_data_dir) {
    char file[256], sub[300];
    snprintf(file, sizeof(file), "%s/a-file", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(sub, sizeof(sub), "%s/deeper/data", file);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = sub};
    store *s = (store *)1;
    char err[512];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EOPEN);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "a-file"));
    ck_assert_ptr_null(strchr(err, '\n'));
    /* the data dir is itself a file */
    cfg.data_dir = file;
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EOPEN);
    ck_assert_ptr_nonnull(strstr(err, "a-file"));
    /* loupe.db is a directory: sqlite cannot open it */
    char dbdir[200];
    snprintf(dbdir, sizeof(dbdir), "%s/x", dir);
    mkdir(dbdir, 0755);
    snprintf(sub, sizeof(sub), "%s/loupe.db", dbdir);
    mkdir(sub, 0755);
    cfg.data_dir = dbdir;
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EOPEN);
    ck_assert_ptr_nonnull(strstr(err, "loupe.db"));
    cfg.data_dir = NULL;
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EINVAL);
}
END_TEST

START_TEST(test_mkdir_p_creates_missing_dirs) {
    char deep[300];
    snprintf(deep, sizeof(deep), "%s/a/b/c/", dir);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = deep};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    store_close(s);
    char path[320];
    snprintf(path, sizeof(path), "%s/a/b/c/loupe.db", dir);
    ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_newer_schema_refused) {
    store_close(open_sqlite(0, 0, 0, 0));
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(err, "99"));
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_foreign_database_refused) {
    char path[256];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE precious(x); INSERT INTO precious VALUES(1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EOPEN);
    ck_assert_ptr_nonnull(strstr(err, "not a loupe database"));
    db = fx_raw_db(dir);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM precious"), 1);
    sqlite3_close(db);
}
END_TEST

/* ---- write errors and backpressure ----------------------------------------------- */

static model_batch *named_span_batch(uint64_t t, const char *name) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    fx_spans(b, 1);
    fx_span(b, r, fx_scope(b, "lib", ""), t, t * 10 + 1, 0, name, 100, 200);
    return b;
}

START_TEST(test_failed_batch_alone_fails_and_writer_continues) {
    store *s = open_sqlite(0, 0, 0, 0);
    /* the first batch makes trace segment 1, which takes every span of this
     * test (a segment holds a tenth of the default 1,000,000) */
    ck_assert_int_eq(fx_commit(s, named_span_batch(99, "first")), STORE_OK);
    sqlite3 *side = fx_raw_db(dir);
    /* inject a write error: a trigger refusing one span name */
    ck_assert_int_eq(sqlite3_exec(side,
                                  "CREATE TRIGGER boom BEFORE INSERT ON spans_1"
                                  " WHEN NEW.name='boom'"
                                  " BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(fx_commit(s, named_span_batch(1, "boom")), STORE_EIO);
    ck_assert_int_eq(fx_commit(s, named_span_batch(2, "fine")), STORE_OK);

    /* several batches in one transaction: hold the write lock so that they
     * queue up behind the writer, then let go */
    ck_assert_int_eq(sqlite3_exec(side, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tags[4] = {{&w, 0}, {&w, 1}, {&w, 2}, {&w, 3}};
    const char *names[4] = {"a", "b", "boom", "c"};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(
            store_append(s, named_span_batch(10 + (uint64_t)i, names[i]), fx_done, &tags[i]),
            STORE_OK);
    ck_assert_int_eq(sqlite3_exec(side, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    fx_wait(&w, 4);
    ck_assert_int_eq(w.statuses[0], STORE_OK);
    ck_assert_int_eq(w.statuses[1], STORE_OK);
    ck_assert_int_eq(w.statuses[2], STORE_EIO);
    ck_assert_int_eq(w.statuses[3], STORE_OK);

    /* an error that makes SQLite roll the whole transaction back itself:
     * the others are written again without the failing batch */
    ck_assert_int_eq(sqlite3_exec(side,
                                  "DROP TRIGGER boom;"
                                  " CREATE TRIGGER boom BEFORE INSERT ON spans_1"
                                  " WHEN NEW.name='boom'"
                                  " BEGIN SELECT RAISE(ROLLBACK, 'injected rollback'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(side, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fx_waiter w2;
    fx_waiter_init(&w2);
    fx_tag tags2[5] = {{&w2, 0}, {&w2, 1}, {&w2, 2}, {&w2, 3}, {&w2, 4}};
    const char *names2[5] = {"boom", "d", "boom", "e", "f"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(
            store_append(s, named_span_batch(20 + (uint64_t)i, names2[i]), fx_done, &tags2[i]),
            STORE_OK);
    ck_assert_int_eq(sqlite3_exec(side, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    fx_wait(&w2, 5);
    ck_assert_int_eq(w2.statuses[0], STORE_EIO);
    ck_assert_int_eq(w2.statuses[1], STORE_OK);
    ck_assert_int_eq(w2.statuses[2], STORE_EIO);
    ck_assert_int_eq(w2.statuses[3], STORE_OK);
    ck_assert_int_eq(w2.statuses[4], STORE_OK);

    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_TRACES], 8);
    ck_assert_uint_ge(st.commit_errors, 4);
    store_close(s);
    ck_assert_int_eq(fx_segments(side, MODEL_SIGNAL_TRACES, -1), 1);
    ck_assert_int_eq(fx_sql_int(side, "SELECT count(*) FROM spans_1"), 8);
    ck_assert_int_eq(fx_sql_int(side, "SELECT count(*) FROM spans_1 WHERE name='boom'"), 0);
    ck_assert_int_eq(fx_sql_int(side, "SELECT count(*) FROM traces_1"), 8);
    ck_assert_int_eq(fx_sql_int(side, "SELECT span_count FROM services"), 8);
    /* the failed batches left no trace summary or resource behind them */
    ck_assert_int_eq(fx_sql_int(side, "SELECT sum(span_count) FROM traces_1"), 8);
    ck_assert_int_eq(fx_sql_int(side, "SELECT items FROM segments WHERE id=1"), 8);
    fx_check_store(side);
    sqlite3_close(side);
}
END_TEST

START_TEST(test_ring_full_is_efull_and_counted) {
    store *s = open_sqlite(0, 0, 0, 1); /* 1 byte: every batch is oversized */
    sqlite3 *side = fx_raw_db(dir);
    ck_assert_int_eq(sqlite3_exec(side, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tag = {&w, 0};
    /* the first enters the idle ring; the writer then blocks on the lock */
    ck_assert_int_eq(store_append(s, trace_batch("svc", 1, 1), fx_done, &tag), STORE_OK);
    ck_assert_int_eq(store_append(s, trace_batch("svc", 2, 1), fx_done, &tag), STORE_EFULL);
    ck_assert_int_eq(store_append(s, trace_batch("svc", 3, 1), NULL, NULL), STORE_EFULL);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.rejected[MODEL_SIGNAL_TRACES], 6);
    ck_assert_uint_gt(st.ring_bytes, 1);
    ck_assert_int_eq(sqlite3_exec(side, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    fx_wait(&w, 1);
    ck_assert_int_eq(w.statuses[0], STORE_OK);
    ck_assert_int_eq(w.done, 1); /* refused batches never call back */
    store_close(s);
    sqlite3_close(side);
    ck_assert(store_is_retryable(STORE_EFULL));
    ck_assert(!store_is_retryable(STORE_ESCHEMA));
    ck_assert_str_ne(store_strerror(STORE_EFULL), store_strerror(STORE_EIO));
}
END_TEST

START_TEST(test_point_of_foreign_metric_is_einval) {
    store *s = open_sqlite(0, 0, 0, 0);
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    static model_metric stray = {.type = MODEL_METRIC_GAUGE};
    b->points = arena_calloc(b->arena, 1, sizeof(*b->points));
    b->n_points = 1;
    b->points[0].metric = &stray;
    ck_assert_int_eq(fx_commit(s, b), STORE_EINVAL);
    ck_assert_int_eq(fx_commit(s, trace_batch("svc", 1, 1)), STORE_OK);
    store_close(s);
}
END_TEST

/* ---- hostile data ------------------------------------------------------------------ */

START_TEST(test_hostile_strings_are_data) {
    store *s = open_sqlite(0, 0, 0, 0);
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    const char *evil = "x'); DROP TABLE spans_1; --\"<script>";
    model_resource *r = fx_resource(b, evil, "i'1");
    model_scope *sc = fx_scope(b, "sc\"ope", "v'1");
    fx_spans(b, 1);
    model_span *sp = fx_span(b, r, sc, 3, 31, 0, evil, 10, 20);
    sp->status_message = fx_strn(b, "bad \xff\xfe utf8", 11);
    sp->attrs.items = fx_kvs(b, 2);
    sp->attrs.n = 2;
    fx_kv_str(b, &sp->attrs.items[0], "' OR 1=1 --", "%_\\");
    sp->attrs.items[1].key = fx_str(b, "bytes");
    sp->attrs.items[1].value.type = MODEL_VALUE_BYTES;
    sp->attrs.items[1].value.u.str = fx_strn(b, "\0\0\x01", 3);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);

    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    buf out;
    buf_init(&out, 1 << 20);
    uint8_t tid[16];
    fx_id(tid, 16, 3);
    ck_assert_int_eq(query_trace(rd, tid, &out), QUERY_OK);
    json_t *j = parse(&out);
    json_t *s0 = json_array_get(json_object_get(j, "spans"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(s0, "name")), evil);
    ck_assert_str_eq(json_string_value(json_object_get(s0, "service")), evil);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s0, "status"), "message")),
                     "bad \xef\xbf\xbd\xef\xbf\xbd utf8");
    json_t *attrs = json_object_get(s0, "attributes");
    ck_assert_str_eq(json_string_value(json_object_get(attrs, "' OR 1=1 --")), "%_\\");
    ck_assert_str_eq(json_string_value(json_object_get(attrs, "bytes")), "AAAB");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s0, "scope"), "name")),
                     "sc\"ope");
    json_decref(j);
    ck_assert_ptr_null(memchr(out.ptr, '<', out.len));
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    j = parse(&out);
    json_t *svc = json_array_get(json_object_get(j, "services"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(svc, "name")), evil);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(svc, "instances"), 0)),
                     "i'1");
    json_decref(j);
    ck_assert_int_eq(fx_rows(rd->db, "spans", NULL), 1);
    buf_free(&out);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- retention -------------------------------------------------------------------- */

/* Count retention drops whole segments, oldest first. --max-spans 10 makes
 * segments of a tenth of that, 1 span; a trace's spans of one batch go to
 * one segment, so here each segment holds one 3-span trace. Once full the
 * store keeps the most whole segments that fit: 3 traces, 9 spans. */
START_TEST(test_retention_evicts_oldest_whole_traces) {
    store *s = open_sqlite(10, 0, 0, 0);
    for (int i = 0; i < 10; i++) /* 10 traces x 3 spans, oldest first */
        ck_assert_int_eq(fx_commit(s, trace_batch("svc", 1 + (uint64_t)i, 1000 * (i + 1))),
                         STORE_OK);
    fx_settle(s);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_TRACES], 21);
    store_close(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 9);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_TRACES, 1), 2);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_TRACES, 0), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE items<>3"), 0);
    /* the newest three, each whole in a segment of its own */
    for (uint64_t t = 1; t <= 10; t++) {
        int64_t seg = fx_trace_segment(db, t);
        ck_assert_msg((seg != 0) == (t >= 8), "trace %d in segment %lld", (int)t, (long long)seg);
    }
    ck_assert_int_eq(fx_rows(db, "traces", "start_ns < 8000"), 0);
    ck_assert_int_eq(fx_sql_int(db, "SELECT span_count FROM services"), 9);
    fx_check_store(db);
    sqlite3_close(db);

    /* reopened: the segments and counters go on from the manifest */
    s = open_sqlite(10, 0, 0, 0);
    ck_assert_int_eq(fx_commit(s, trace_batch("svc", 77, 99000)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, trace_batch("svc", 78, 99001)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, trace_batch("svc", 79, 99002)), STORE_OK);
    fx_settle(s);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_TRACES], 9);
    store_close(s);
    db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 9);
    ck_assert_int_eq(fx_rows(db, "traces", "start_ns >= 99000"), 3);
    fx_check_store(db);
    sqlite3_close(db);
}
END_TEST

/* --max-logs 5: segments of one record; the store keeps the newest 5. */
START_TEST(test_retention_counts_evictions) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .max_logs = 5};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    store_reader *reader;
    ck_assert_int_eq(store_reader_open(s, &reader), STORE_OK);
    sqlite3 *rd = reader->db;
    for (int i = 0; i < 12; i++) {
        model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
        fx_logs(b, 1);
        fx_log(b, fx_resource(b, "svc", NULL), fx_scope(b, "", ""), 1000 + (uint64_t)i, 9,
               i < 6 ? "old message" : "new message");
        ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    }
    fx_settle(s);
    store_stats st;
    store_get_stats(s, &st);
    int64_t logs = fx_rows(rd, "logs", NULL);
    ck_assert_int_eq(logs, 5);
    ck_assert_int_eq(fx_segments(rd, MODEL_SIGNAL_LOGS, -1), 5);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_LOGS], 12 - (uint64_t)logs);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_LOGS], 12);
    /* the full-text index forgot the evicted bodies (they went with their
     * segments' tables) */
    ck_assert_int_eq(fx_match(rd, "logs_fts", "old"), 0);
    ck_assert_int_eq(fx_match(rd, "logs_fts", "new"), logs);
    ck_assert_int_eq(fx_sql_int(rd, "SELECT log_count FROM services"), logs);
    ck_assert_int_eq(fx_rows(rd, "logs", "time_ns >= 1007"), logs);
    fx_check_store(rd);
    store_reader_close(reader);
    store_close(s);
}
END_TEST

/* --max-points 20: segments of 2 points (each point is its own item); five
 * rounds of 10 leave the newest 20, whole segments. */
START_TEST(test_retention_points) {
    store *s = open_sqlite(0, 0, 20, 0);
    for (int round = 0; round < 5; round++) {
        model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
        model_resource *r = fx_resource(b, "svc", NULL);
        b->metrics = arena_calloc(b->arena, 1, sizeof(*b->metrics));
        b->n_metrics = 1;
        b->metrics[0].resource = r;
        b->metrics[0].scope = fx_scope(b, "m", "");
        b->metrics[0].name = fx_str(b, "requests");
        b->metrics[0].description = model_str_empty;
        b->metrics[0].unit = fx_str(b, "1");
        b->metrics[0].type = MODEL_METRIC_SUM;
        b->points = arena_calloc(b->arena, 10, sizeof(*b->points));
        b->n_points = 10;
        for (int i = 0; i < 10; i++) {
            model_point *p = &b->points[i];
            p->metric = &b->metrics[0];
            p->time_ns = (uint64_t)(round * 10 + i + 1);
            p->is_int = 1;
            p->as_int = round * 10 + i;
            p->as_double = (double)p->as_int;
        }
        ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    }
    fx_settle(s);
    store_close(s);
    sqlite3 *db = fx_raw_db(dir);
    int64_t n = fx_rows(db, "points", NULL);
    ck_assert_int_eq(n, 20);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_METRICS, -1), 10);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE items<>2"), 0);
    ck_assert_int_eq(fx_rows(db, "points", "time_ns > 30"), 20);
    ck_assert_int_eq(fx_rows(db, "points", "time_ns = 50"), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT point_count FROM services"), n);
    ck_assert_int_eq(fx_rows(db, "points", "typeof(value)<>'integer'"), 0);
    fx_check_store(db);
    sqlite3_close(db);
}
END_TEST

static Suite *store_suite(void) {
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_append_commit_read_back);
    tcase_add_test(tc, test_empty_batch_is_acknowledged);
    tcase_add_test(tc, test_resources_are_deduplicated);
    tcase_add_test(tc, test_out_of_order_spans_keep_summary_right);
    tcase_add_test(tc, test_root_first_in_same_batch_as_children);
    tcase_add_test(tc, test_memory_mode_with_reader);
    tcase_add_test(tc, test_close_commits_queued_batches);
    tcase_add_test(tc, test_concurrent_appenders);
    tcase_add_test(tc, test_unwritable_data_dir);
    tcase_add_test(tc, test_mkdir_p_creates_missing_dirs);
    tcase_add_test(tc, test_newer_schema_refused);
    tcase_add_test(tc, test_foreign_database_refused);
    tcase_add_test(tc, test_failed_batch_alone_fails_and_writer_continues);
    tcase_add_test(tc, test_ring_full_is_efull_and_counted);
    tcase_add_test(tc, test_point_of_foreign_metric_is_einval);
    tcase_add_test(tc, test_hostile_strings_are_data);
    tcase_add_test(tc, test_retention_evicts_oldest_whole_traces);
    tcase_add_test(tc, test_retention_counts_evictions);
    tcase_add_test(tc, test_retention_points);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
