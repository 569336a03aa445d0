/* test_query_tail.c - storage/query_export.c's tail reads (query_tail_*):
 * everything committed after a position, once, in arrival order within a
 * segment, across segment roll-overs, a trace's late spans in its (older)
 * home segment, retries from the same position, and items lost to
 * retention counted. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "store_fixture.h"

#define MS 1000000ULL

static char dir[64];
static store *st;
static store_reader *rd;
static buf out;

/* max_spans 100, max_logs 50: segments of 10 spans and 5 logs. */
static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir, .max_spans = 100,
                        .max_logs = 50, .max_points = 1000};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
    buf_init(&out, (size_t)16 << 20);
}

static void teardown(void) {
    buf_free(&out);
    store_reader_close(rd);
    store_close(st);
    fx_rmdir(dir);
}

/* n single-span traces (ids from first), one batch. */
static void commit_traces(uint64_t first, size_t n) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, n);
    for (size_t i = 0; i < n; i++)
        fx_span(b, r, sc, first + i, 1000 * (first + i), 0, "op", (first + i) * MS,
                (first + i) * MS + 5);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

/* One more span of trace `trace` (a late child). */
static void commit_late_span(uint64_t trace, uint64_t span) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 1);
    fx_span(b, r, sc, trace, span, 1000 * trace, "late child", trace * MS + 1, trace * MS + 2);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

static void commit_logs(const char *service, size_t n, uint64_t t0) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, service, NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_logs(b, n);
    for (size_t i = 0; i < n; i++) {
        char body[32];
        snprintf(body, sizeof(body), "line %zu", (size_t)(t0 + i));
        fx_log(b, r, sc, (t0 + i) * MS, 9, body);
    }
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

/* The span ids (as hex strings) of an ExportTraceServiceRequest line,
 * appended to ids (a JSON array), checking the document's shape. */
static void collect_spans(const char *doc, size_t len, json_t *ids) {
    json_error_t e;
    json_t *j = json_loadb(doc, len, 0, &e);
    ck_assert_msg(j != NULL, "not JSON: %s", e.text);
    size_t i, k, m;
    json_t *rs, *ss, *sp;
    json_array_foreach(json_object_get(j, "resourceSpans"), i, rs) {
        ck_assert_ptr_nonnull(json_object_get(rs, "resource"));
        json_array_foreach(json_object_get(rs, "scopeSpans"), k, ss) {
            ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ss, "scope"), "name")),
                             "lib");
            json_array_foreach(json_object_get(ss, "spans"), m, sp)
                json_array_append(ids, json_object_get(sp, "spanId"));
        }
    }
    json_decref(j);
}

/* Reads everything after t in lines of at most `chunk` items, adopting
 * each; returns the span ids read (caller decrefs). */
static json_t *drain(query_tail *t, size_t chunk) {
    json_t *ids = json_array();
    query_tail next;
    ck_assert_int_eq(query_tail_init(&next, t->signal), QUERY_OK);
    for (int guard = 0; guard < 1000; guard++) {
        buf_reset(&out);
        query_tail_report rep;
        ck_assert_int_eq(query_tail_next(rd, t, &next, chunk, (size_t)1 << 20, &out, &rep),
                         QUERY_OK);
        if (rep.items == 0) {
            ck_assert_uint_eq(out.len, 0);
            ck_assert_uint_eq(rep.pending, 0);
            break;
        }
        ck_assert_uint_le(rep.items, chunk);
        size_t before = json_array_size(ids);
        if (t->signal == MODEL_SIGNAL_TRACES)
            collect_spans(out.ptr, out.len, ids);
        else
            json_array_append_new(ids, json_integer((json_int_t)rep.items));
        if (t->signal == MODEL_SIGNAL_TRACES)
            ck_assert_uint_eq(json_array_size(ids) - before, rep.items);
        ck_assert_int_eq(query_tail_copy(t, &next), QUERY_OK);
    }
    query_tail_free(&next);
    return ids;
}

/* 1 when every element of the array is distinct. */
static int all_distinct(json_t *a) {
    for (size_t i = 0; i < json_array_size(a); i++)
        for (size_t j = i + 1; j < json_array_size(a); j++)
            if (json_equal(json_array_get(a, i), json_array_get(a, j)))
                return 0;
    return 1;
}

START_TEST(test_tail_everything_once_across_segments) {
    query_tail t;
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_TRACES), QUERY_OK);
    ck_assert_int_eq(query_tail_at_end(rd, &t), QUERY_OK); /* an empty store */
    commit_traces(1, 3);
    json_t *ids = drain(&t, 1000);
    ck_assert_uint_eq(json_array_size(ids), 3);
    json_decref(ids);
    /* nothing new: nothing */
    ids = drain(&t, 1000);
    ck_assert_uint_eq(json_array_size(ids), 0);
    json_decref(ids);
    /* 25 more traces roll the active segment over twice (10 spans each) */
    for (uint64_t k = 0; k < 5; k++)
        commit_traces(100 + 5 * k, 5);
    /* a late span of trace 1 goes to its home, the first segment */
    commit_late_span(1, 777);
    ids = drain(&t, 4); /* small lines: resumes inside segments */
    ck_assert_uint_eq(json_array_size(ids), 26);
    ck_assert(all_distinct(ids));
    int late = 0;
    char want[17];
    uint8_t sid[8];
    fx_id(sid, 8, 777);
    for (int i = 0; i < 8; i++)
        snprintf(want + 2 * i, 3, "%02x", sid[i]);
    for (size_t i = 0; i < json_array_size(ids); i++)
        late += strcmp(json_string_value(json_array_get(ids, i)), want) == 0;
    ck_assert_int_eq(late, 1);
    json_decref(ids);
    ck_assert_uint_ge(t.n, 3); /* one position per live segment */
    query_tail_free(&t);
}
END_TEST

START_TEST(test_tail_retry_reads_the_same_items) {
    commit_traces(1, 4);
    query_tail t, next;
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_TRACES), QUERY_OK);
    ck_assert_int_eq(query_tail_init(&next, MODEL_SIGNAL_TRACES), QUERY_OK);
    query_tail_report rep;
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 3, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 3);
    ck_assert_uint_eq(rep.pending, 1);
    char *first = strndup(out.ptr, out.len);
    /* not adopted (the send failed): the same line again */
    buf_reset(&out);
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 3, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 3);
    ck_assert_uint_eq(out.len, strlen(first));
    ck_assert_int_eq(memcmp(out.ptr, first, out.len), 0);
    free(first);
    /* the byte cap ends a line after the item that passes it */
    buf_reset(&out);
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 1000, 1, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 1);
    ck_assert_uint_eq(rep.pending, 3);
    query_tail_free(&next);
    query_tail_free(&t);
}
END_TEST

START_TEST(test_tail_at_end_skips_what_is_stored) {
    commit_logs("before", 7, 1);
    query_tail t;
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_LOGS), QUERY_OK);
    ck_assert_int_eq(query_tail_at_end(rd, &t), QUERY_OK);
    commit_logs("after", 3, 100);
    query_tail next;
    ck_assert_int_eq(query_tail_init(&next, MODEL_SIGNAL_LOGS), QUERY_OK);
    query_tail_report rep;
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 1000, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 3);
    ck_assert_ptr_null(strstr(out.ptr, "\"before\""));
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"after\""));
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"logRecords\""));
    ck_assert_ptr_nonnull(strstr(out.ptr, "line 100"));
    ck_assert_ptr_nonnull(strstr(out.ptr, "line 102"));
    /* the position saves and loads as (segment, row) pairs */
    query_tail copy;
    ck_assert_int_eq(query_tail_init(&copy, MODEL_SIGNAL_LOGS), QUERY_OK);
    for (size_t i = 0; i < next.n; i++)
        ck_assert_int_eq(query_tail_set(&copy, next.segs[i].seg, next.segs[i].row), QUERY_OK);
    buf_reset(&out);
    ck_assert_int_eq(query_tail_next(rd, &copy, &next, 1000, (size_t)1 << 20, &out, &rep),
                     QUERY_OK);
    ck_assert_uint_eq(rep.items, 0);
    query_tail_free(&copy);
    query_tail_free(&next);
    query_tail_free(&t);
}
END_TEST

START_TEST(test_tail_counts_what_retention_dropped) {
    query_tail t, next;
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_LOGS), QUERY_OK);
    ck_assert_int_eq(query_tail_init(&next, MODEL_SIGNAL_LOGS), QUERY_OK);
    for (int k = 0; k < 4; k++)
        commit_logs("svc", 5, 10 * (uint64_t)k); /* 20 logs: 4 segments of 5 */
    query_tail_report rep;
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 1, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 1);
    ck_assert_uint_eq(rep.pending, 19);
    ck_assert_uint_eq(rep.lost, 0);
    ck_assert_int_eq(query_tail_copy(&t, &next), QUERY_OK); /* 1 taken */
    /* 35 more: 55 > max_logs 50, so the oldest segment (5) is dropped */
    for (int k = 0; k < 7; k++)
        commit_logs("svc", 5, 100 + 10 * (uint64_t)k);
    store_stats ss;
    for (int i = 0; i < 3000; i++) { /* retention runs after the commits (bounded wait) */
        store_get_stats(st, &ss);
        if (ss.evicted[MODEL_SIGNAL_LOGS] > 0)
            break;
        usleep(10000);
    }
    ck_assert_uint_eq(ss.evicted[MODEL_SIGNAL_LOGS], 5);
    buf_reset(&out);
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 1000, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.lost, 4); /* the dropped segment's 4 untaken records */
    ck_assert_uint_eq(rep.taken_gone, 1); /* and the 1 taken */
    ck_assert_uint_eq(rep.items, 50);
    ck_assert_uint_eq(rep.pending, 0);
    query_tail_free(&next);
    query_tail_free(&t);
}
END_TEST

/* n gauge points of metric `name` (one batch). */
static void commit_points(const char *name, size_t n, uint64_t t0) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "meter", "1");
    b->metrics = arena_calloc(b->arena, 1, sizeof(model_metric));
    b->n_metrics = 1;
    model_metric *m = &b->metrics[0];
    m->resource = r;
    m->scope = sc;
    m->name = fx_str(b, name);
    m->description = fx_str(b, "");
    m->unit = fx_str(b, "1");
    m->type = MODEL_METRIC_GAUGE;
    b->points = arena_calloc(b->arena, n, sizeof(model_point));
    for (size_t i = 0; i < n; i++) {
        model_point *p = &b->points[b->n_points++];
        p->metric = m;
        p->time_ns = (t0 + i) * MS;
        p->is_int = 1;
        p->as_int = (int64_t)(t0 + i);
        p->as_double = (double)(t0 + i);
    }
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

START_TEST(test_tail_metrics_in_arrival_order) {
    commit_points("a", 2, 1);
    commit_points("b", 3, 10);
    commit_points("a", 1, 20);
    query_tail t, next;
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_METRICS), QUERY_OK);
    ck_assert_int_eq(query_tail_init(&next, MODEL_SIGNAL_METRICS), QUERY_OK);
    query_tail_report rep;
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 1000, (size_t)1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 6);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    /* one resource, one scope; a metric entry per run of one instrument,
     * its points in arrival order */
    json_t *metrics = json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(j, "resourceMetrics"), 0),
                                       "scopeMetrics"),
                       0),
        "metrics");
    ck_assert_uint_eq(json_array_size(metrics), 3);
    static const char *names[] = {"a", "b", "a"};
    static const size_t counts[] = {2, 3, 1};
    static const char *first[] = {"1", "10", "20"};
    for (size_t i = 0; i < 3; i++) {
        json_t *m = json_array_get(metrics, i);
        ck_assert_str_eq(json_string_value(json_object_get(m, "name")), names[i]);
        json_t *pts = json_object_get(json_object_get(m, "gauge"), "dataPoints");
        ck_assert_uint_eq(json_array_size(pts), counts[i]);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pts, 0), "asInt")),
                         first[i]);
    }
    json_decref(j);
    query_tail_free(&next);
    query_tail_free(&t);
}
END_TEST

START_TEST(test_tail_update_only_and_bad_arguments) {
    query_tail t;
    ck_assert_int_eq(query_tail_init(&t, 99), QUERY_EINVAL);
    ck_assert_int_eq(query_tail_init(&t, MODEL_SIGNAL_METRICS), QUERY_OK);
    query_tail next;
    ck_assert_int_eq(query_tail_init(&next, MODEL_SIGNAL_METRICS), QUERY_OK);
    query_tail_report rep;
    /* max_items 0: only the update */
    commit_points("m", 3, 1);
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 0, 1, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 0);
    ck_assert_uint_eq(rep.pending, 3);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_int_eq(query_tail_at_end(rd, &t), QUERY_OK);
    /* nothing new: nothing, and out untouched */
    ck_assert_int_eq(query_tail_next(rd, &t, &next, 10, 1 << 20, &out, &rep), QUERY_OK);
    ck_assert_uint_eq(rep.items, 0);
    ck_assert_uint_eq(out.len, 0);
    query_tail_free(&next);
    query_tail_free(&t);
    query_tail_free(&t); /* twice is harmless */
}
END_TEST

int main(void) {
    Suite *s = suite_create("query_tail");
    TCase *tc = tcase_create("tail");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tail_everything_once_across_segments);
    tcase_add_test(tc, test_tail_retry_reads_the_same_items);
    tcase_add_test(tc, test_tail_at_end_skips_what_is_stored);
    tcase_add_test(tc, test_tail_counts_what_retention_dropped);
    tcase_add_test(tc, test_tail_metrics_in_arrival_order);
    tcase_add_test(tc, test_tail_update_only_and_bad_arguments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
