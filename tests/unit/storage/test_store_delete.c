/* test_store_delete.c - store_delete() (storage/store_delete.c): counts removed per
 * signal and service, traces shared between services recomputed, indexes
 * kept in step, queue order after appends, and the commit notifications. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/attr_index.h"
#include "storage/query.h"
#include "storage/store.h"
#include "store_fixture.h"

static store *st;
static store_reader *rd;
static buf out;

static void setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
    buf_init(&out, 4 << 20);
}

static void teardown(void) {
    buf_free(&out);
    store_reader_close(rd);
    store_close(st);
}

/* T1: api root + 2 db children; T2: api only; T3: db only (an error). */
static model_batch *traces_batch(void) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *api = fx_resource(b, "api", NULL), *db = fx_resource(b, "db", NULL);
    model_scope *sc = fx_scope(b, "s", "");
    fx_spans(b, 5);
    fx_span(b, db, sc, 1, 12, 11, "SELECT", 50, 300); /* starts before its root */
    fx_span(b, api, sc, 1, 11, 0, "GET /a", 100, 900);
    fx_span(b, db, sc, 1, 13, 11, "SELECT", 200, 400)->status_code = MODEL_STATUS_ERROR;
    model_span *t2 = fx_span(b, api, sc, 2, 21, 0, "GET /b", 1000, 1100);
    t2->attrs.items = fx_kvs(b, 1);
    t2->attrs.n = 1;
    fx_kv_str(b, &t2->attrs.items[0], "k", "v2");
    model_span *t3 = fx_span(b, db, sc, 3, 31, 0, "vacuum", 2000, 2500);
    t3->status_code = MODEL_STATUS_ERROR;
    t3->attrs.items = fx_kvs(b, 1);
    t3->attrs.n = 1;
    fx_kv_str(b, &t3->attrs.items[0], "k", "v3");
    return b;
}

static model_batch *logs_batch(void) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *api = fx_resource(b, "api", NULL), *db = fx_resource(b, "db", NULL);
    model_scope *sc = fx_scope(b, "", "");
    fx_logs(b, 3);
    model_log *l = fx_log(b, api, sc, 10, 9, "apionlyword here");
    l->attrs.items = fx_kvs(b, 1);
    l->attrs.n = 1;
    fx_kv_str(b, &l->attrs.items[0], "user", "u1");
    fx_log(b, api, sc, 20, 9, "shared word");
    fx_log(b, db, sc, 30, 9, "shared word too");
    return b;
}

static model_batch *metrics_batch(const char *service, int64_t v) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    model_resource *r = fx_resource(b, service, NULL);
    b->metrics = arena_calloc(b->arena, 1, sizeof(model_metric));
    b->n_metrics = 1;
    b->metrics[0].resource = r;
    b->metrics[0].scope = fx_scope(b, "m", "");
    b->metrics[0].name = fx_str(b, "queue");
    b->metrics[0].description = model_str_empty;
    b->metrics[0].unit = model_str_empty;
    b->points = arena_calloc(b->arena, 2, sizeof(model_point));
    for (int i = 0; i < 2; i++) {
        model_point *p = &b->points[b->n_points++];
        p->metric = &b->metrics[0];
        p->time_ns = 100 + (uint64_t)i;
        p->is_int = 1;
        p->as_int = v + i;
        p->as_double = (double)(v + i);
        p->attrs.items = fx_kvs(b, 1);
        p->attrs.n = 1;
        fx_kv_int(b, &p->attrs.items[0], "i", i);
    }
    return b;
}

static json_t *doc(void) {
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

static json_t *traces(void) {
    query_traces_params p = {.limit = 100};
    buf_reset(&out);
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    return doc();
}

/* Attribute index hits of key=value in every segment of `table`. */
static int64_t fts_hits(const char *table, const char *key, const char *value) {
    buf m;
    buf_init(&m, 4096);
    ck_assert_int_eq(attr_index_query_eq(key, strlen(key), value, strlen(value), &m), BUF_OK);
    ck_assert_int_eq(buf_append(&m, "", 1), BUF_OK);
    int64_t n = fx_match(rd->db, table, m.ptr);
    buf_free(&m);
    return n;
}

START_TEST(test_delete_traces_of_one_service) {
    ck_assert_int_eq(fx_commit(st, traces_batch()), STORE_OK);
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_TRACES, "db", 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.spans, 3);
    ck_assert_uint_eq(r.traces, 1); /* T3 had only db spans */
    ck_assert_uint_eq(r.logs, 0);
    json_t *j = traces();
    json_t *list = json_object_get(j, "traces");
    ck_assert_int_eq(json_array_size(list), 2);
    json_t *t1 = json_array_get(list, 1); /* T1: start 100 now, newest first */
    ck_assert_str_eq(json_string_value(json_object_get(t1, "startTimeUnixNano")), "100");
    ck_assert_int_eq(json_integer_value(json_object_get(t1, "durationNs")), 800);
    ck_assert_int_eq(json_integer_value(json_object_get(t1, "spanCount")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(t1, "errorCount")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(t1, "rootName")), "GET /a");
    ck_assert_int_eq(json_array_size(json_object_get(t1, "services")), 1);
    json_decref(j);
    /* the index no longer finds T3's span; T2's is still found */
    ck_assert_int_eq(fts_hits("span_attr_fts", "k", "v3"), 0);
    ck_assert_int_eq(fts_hits("span_attr_fts", "k", "v2"), 1);
    /* db has nothing left and leaves the services list */
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    ck_assert_ptr_null(strstr(out.ptr, "\"db\""));
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"api\""));
    fx_check_store(rd->db);
    /* an unknown service: nothing */
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_ALL, "nobody' OR 1=1", 10000, &r),
                     STORE_OK);
    ck_assert_uint_eq(r.spans + r.traces + r.logs + r.points, 0);
}
END_TEST

START_TEST(test_delete_logs_and_metrics) {
    ck_assert_int_eq(fx_commit(st, logs_batch()), STORE_OK);
    ck_assert_int_eq(fx_commit(st, metrics_batch("api", 1)), STORE_OK);
    ck_assert_int_eq(fx_commit(st, metrics_batch("db", 5)), STORE_OK);
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_LOGS, "api", 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.logs, 2);
    query_logs_params lp = {.limit = 10, .q = "apionlyword"};
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &lp, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"logs\":[],\"resources\":{},\"nextCursor\":null}");
    ck_assert_int_eq(fx_match(rd->db, "logs_fts", "shared"), 1);
    ck_assert_int_eq(fts_hits("log_attr_fts", "user", "u1"), 0);

    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_METRICS, "db", 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.points, 2);
    query_series_params sp = {.name = "queue", .service = "db"};
    ck_assert_int_eq(query_series(rd, &sp, &out), QUERY_ENOTFOUND);
    sp.service = "api";
    buf_reset(&out);
    ck_assert_int_eq(query_series(rd, &sp, &out), QUERY_OK);

    /* everything; then new data is stored and found as usual */
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_ALL, NULL, 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.logs, 1);
    ck_assert_uint_eq(r.points, 2);
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"services\":[]}");
    buf_reset(&out);
    ck_assert_int_eq(query_metrics(rd, NULL, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"metrics\":[]}");
    ck_assert_int_eq(fx_match(rd->db, "logs_fts", "shared"), 0);
    /* deleting everything dropped every segment */
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM segments"), 0);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM segment_services"), 0);
    fx_check_store(rd->db);
    ck_assert_int_eq(fx_commit(st, metrics_batch("db", 7)), STORE_OK);
    sp.service = "db";
    buf_reset(&out);
    ck_assert_int_eq(query_series(rd, &sp, &out), QUERY_OK);
    json_t *j = doc();
    json_t *pts = json_object_get(json_array_get(json_object_get(j, "series"), 0), "points");
    ck_assert_int_eq(json_array_size(pts), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pts, 0), "value")), 7);
    json_decref(j);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM series"), 2);
    fx_check_store(rd->db);
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"lastSeenUnixNano\":\"101\""));
}
END_TEST

/* A delete queued right after an append (without waiting for it) runs
 * after it: nothing of that batch survives. */
START_TEST(test_delete_after_append_in_queue_order) {
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tag = {&w, 0};
    ck_assert_int_eq(store_append(st, traces_batch(), fx_done, &tag), STORE_OK);
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_TRACES, NULL, 10000, &r), STORE_OK);
    fx_wait(&w, 1);
    ck_assert_uint_eq(r.spans, 5);
    ck_assert_uint_eq(r.traces, 3);
    ck_assert_int_eq(fx_rows(rd->db, "spans", NULL), 0);
    ck_assert_int_eq(fx_rows(rd->db, "trace_services", NULL), 0);
    ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_TRACES, -1), 0);
    fx_check_store(rd->db);
    /* bad arguments */
    ck_assert_int_eq(store_delete(st, 0, NULL, NULL, NULL), STORE_EINVAL);
    ck_assert_int_eq(store_delete(st, 8, NULL, NULL, NULL), STORE_EINVAL);
    ck_assert_int_eq(store_delete(NULL, 1, NULL, NULL, NULL), STORE_EINVAL);
}
END_TEST

/* Regression: a trace that loses its earliest spans to a delete starts
 * later than before, possibly later than every start its segment's
 * manifest row knew (max_time_ns); queries skip a segment whose time
 * bounds cannot hold what they look for, so the bounds must follow. */
START_TEST(test_delete_keeps_segment_time_bounds) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *api = fx_resource(b, "api", NULL), *db = fx_resource(b, "db", NULL);
    model_scope *sc = fx_scope(b, "s", "");
    fx_spans(b, 2);
    fx_span(b, db, sc, 7, 71, 0, "early", 50, 60);
    fx_span(b, api, sc, 7, 72, 71, "late", 3000, 3100);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_TRACES, "db", 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.spans, 1);
    ck_assert_uint_eq(r.traces, 0);
    fx_check_store(rd->db);
    /* the trace now starts at 3000: a search from 1000 finds it */
    query_traces_params p = {.limit = 10, .has_start = 1, .start_ns = 1000};
    buf_reset(&out);
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    json_t *j = doc();
    json_t *list = json_object_get(j, "traces");
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "startTimeUnixNano")),
                     "3000");
    json_decref(j);
}
END_TEST

/* ---- commit notifications ---------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    size_t spans, logs, batches;
} seen;

static void on_commit(void *ud, const model_batch *b) {
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->spans += b->n_spans;
    s->logs += b->n_logs;
    s->batches++;
    pthread_mutex_unlock(&s->mu);
}

START_TEST(test_commit_notifications) {
    seen a = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}, b = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    store_sub *sa, *sb;
    ck_assert_int_eq(store_subscribe(st, on_commit, &a, &sa), STORE_OK);
    ck_assert_int_eq(store_subscribe(st, on_commit, &b, &sb), STORE_OK);
    ck_assert_int_eq(fx_commit(st, traces_batch()), STORE_OK);
    /* the callback of a batch runs after its notification */
    ck_assert_uint_eq(a.spans, 5);
    ck_assert_uint_eq(b.spans, 5);
    store_unsubscribe(st, sa);
    ck_assert_int_eq(fx_commit(st, logs_batch()), STORE_OK);
    ck_assert_uint_eq(a.logs, 0);
    ck_assert_uint_eq(b.logs, 3);
    ck_assert_uint_eq(b.batches, 2);
    store_unsubscribe(st, sb);
    store_unsubscribe(st, NULL);
    ck_assert_int_eq(store_subscribe(st, NULL, NULL, &sa), STORE_EINVAL);
    /* a subscriber left at close is freed by the store */
    ck_assert_int_eq(store_subscribe(st, on_commit, &a, &sa), STORE_OK);
}
END_TEST

static Suite *delete_suite(void) {
    Suite *s = suite_create("store_delete");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_delete_traces_of_one_service);
    tcase_add_test(tc, test_delete_logs_and_metrics);
    tcase_add_test(tc, test_delete_after_append_in_queue_order);
    tcase_add_test(tc, test_delete_keeps_segment_time_bounds);
    tcase_add_test(tc, test_commit_notifications);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(delete_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
