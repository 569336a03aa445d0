/* test_query_series.c - metric series (storage/query_metrics.c): gauges,
 * rates of cumulative and delta counters across resets, histogram
 * differences and percentiles, exponential histograms, summaries,
 * exemplars, groupBy and filters -- every expected number worked out by
 * hand in the comments. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "storage/store.h"
#include "store_fixture.h"

#define S 1000000000ULL /* one second in ns */

static store *st;
static sqlite3 *rd;
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
    sqlite3_close(rd);
    store_close(st);
}

/* A batch with one metric of the given kind for `service`/`instance`. */
static model_batch *metric_batch(const char *service, const char *instance, const char *name,
                                 model_metric_type type, model_temporality tmp, int monotonic,
                                 size_t npoints) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    model_resource *r = fx_resource(b, service, instance);
    model_scope *sc = fx_scope(b, "meter", "1");
    b->metrics = arena_calloc(b->arena, 1, sizeof(model_metric));
    b->n_metrics = 1;
    model_metric *m = &b->metrics[0];
    m->resource = r;
    m->scope = sc;
    m->name = fx_str(b, name);
    m->description = fx_str(b, "");
    m->unit = fx_str(b, "ms");
    m->type = type;
    m->temporality = tmp;
    m->monotonic = monotonic;
    b->points = arena_calloc(b->arena, npoints, sizeof(model_point));
    return b;
}

static model_point *pt(model_batch *b, const char *route, uint64_t start, uint64_t t) {
    model_point *p = &b->points[b->n_points++];
    memset(p, 0, sizeof(*p));
    p->metric = &b->metrics[0];
    p->start_time_ns = start;
    p->time_ns = t;
    if (route) {
        p->attrs.items = fx_kvs(b, 1);
        p->attrs.n = 1;
        fx_kv_str(b, &p->attrs.items[0], "route", route);
    }
    return p;
}

static void set_int(model_point *p, int64_t v) {
    p->is_int = 1;
    p->as_int = v;
    p->as_double = (double)v;
}

static void set_hist(model_batch *b, model_point *p, const uint64_t *counts, uint64_t count,
                     double sum, double min, double max) {
    static const double bounds[2] = {10, 100};
    p->bounds = arena_calloc(b->arena, 2, sizeof(double));
    memcpy(p->bounds, bounds, sizeof(bounds));
    p->n_bounds = 2;
    p->bucket_counts = arena_calloc(b->arena, 3, sizeof(uint64_t));
    memcpy(p->bucket_counts, counts, 3 * sizeof(uint64_t));
    p->n_bucket_counts = 3;
    p->count = count;
    p->sum = sum;
    p->has_sum = 1;
    p->min = min;
    p->max = max;
    p->has_min = p->has_max = 1;
}

static json_t *series(const query_series_params *p) {
    buf_reset(&out);
    int rc = query_series(rd, p, &out);
    ck_assert_msg(rc == QUERY_OK, "query_series: %s", query_strerror(rc));
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON: %s", err.text);
    return j;
}

static json_t *points_of(json_t *j, size_t series_index) {
    return json_object_get(json_array_get(json_object_get(j, "series"), series_index), "points");
}

static double num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_number(v), "%s is not a number", k);
    return json_number_value(v);
}

#define ck_near(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-6, "%.9g != %.9g", (double)(a), (double)(b))

START_TEST(test_gauge) {
    model_batch *b = metric_batch("api", "i-1", "queue", MODEL_METRIC_GAUGE,
                                  MODEL_TEMPORALITY_UNSPECIFIED, 0, 3);
    set_int(pt(b, "/a", 0, 10 * S), 1);
    set_int(pt(b, "/a", 0, 20 * S), 5);
    set_int(pt(b, "/a", 0, 30 * S), 3);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "queue"};
    json_t *j = series(&p);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "gauge");
    ck_assert_str_eq(json_string_value(json_object_get(j, "unit")), "ms");
    json_t *s0 = json_array_get(json_object_get(j, "series"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s0, "attributes"), "route")),
                     "/a");
    ck_assert_str_eq(json_string_value(json_object_get(s0, "service")), "api");
    ck_assert_str_eq(json_string_value(json_object_get(s0, "instance")), "i-1");
    json_t *pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pts, 1), "timeUnixNano")),
                     "20000000000");
    ck_assert(json_is_integer(json_object_get(json_array_get(pts, 1), "value")));
    ck_near(num(json_array_get(pts, 1), "value"), 5);
    ck_assert(json_object_get(json_array_get(pts, 1), "rate") == NULL);
    json_decref(j);
    /* step 20 s: [0,20) holds 1; [20,40) holds 5 then 3, the last wins */
    p.step_ns = 20 * S;
    j = series(&p);
    pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(pts, 0), "timeUnixNano")),
                     "0");
    ck_near(num(json_array_get(pts, 0), "value"), 1);
    ck_near(num(json_array_get(pts, 1), "value"), 3);
    json_decref(j);
    /* start/end: only the middle point */
    p.step_ns = 0;
    p.has_start = p.has_end = 1;
    p.start_ns = 15 * S;
    p.end_ns = 30 * S;
    j = series(&p);
    ck_assert_int_eq(json_array_size(points_of(j, 0)), 1);
    json_decref(j);
}
END_TEST

START_TEST(test_cumulative_counter_reset) {
    model_batch *b = metric_batch("api", NULL, "requests", MODEL_METRIC_SUM,
                                  MODEL_TEMPORALITY_CUMULATIVE, 1, 5);
    set_int(pt(b, NULL, 5 * S, 10 * S), 100);
    set_int(pt(b, NULL, 5 * S, 20 * S), 160);
    set_int(pt(b, NULL, 25 * S, 30 * S), 40); /* restarted at 25 s */
    set_int(pt(b, NULL, 25 * S, 40 * S), 100);
    set_int(pt(b, NULL, 25 * S, 50 * S), 70); /* dropped without a new start: a reset too */
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "requests"};
    json_t *j = series(&p);
    ck_assert(json_is_true(json_object_get(j, "monotonic")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "temporality")), "cumulative");
    json_t *pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 5);
    /* 100 since its start 5 s before: 20/s; +60 in 10 s: 6/s; reset: 40
     * since 25 s, 5 s before: 8/s; +60 in 10 s: 6/s; reset without a new
     * start: 70 over the 10 s since the last point: 7/s */
    const double inc[5] = {100, 60, 40, 60, 70}, rate[5] = {20, 6, 8, 6, 7};
    const double value[5] = {100, 160, 40, 100, 70};
    for (int i = 0; i < 5; i++) {
        json_t *e = json_array_get(pts, (size_t)i);
        ck_near(num(e, "value"), value[i]);
        ck_near(num(e, "increase"), inc[i]);
        ck_near(num(e, "rate"), rate[i]);
    }
    json_decref(j);
    /* step 20 s: [0,20) +100 -> 5/s; [20,40) +60 +40 -> 5/s, last value 40;
     * [40,60) +60 +70 -> 6.5/s */
    p.step_ns = 20 * S;
    j = series(&p);
    pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 3);
    ck_near(num(json_array_get(pts, 0), "rate"), 5);
    ck_near(num(json_array_get(pts, 1), "rate"), 5);
    ck_near(num(json_array_get(pts, 1), "value"), 40);
    ck_near(num(json_array_get(pts, 2), "increase"), 130);
    ck_near(num(json_array_get(pts, 2), "rate"), 6.5);
    json_decref(j);
    /* a window starting at 15 s: the 10 s point is the base, so the 20 s
     * point adds 60, not 160 */
    p.step_ns = 0;
    p.has_start = 1;
    p.start_ns = 15 * S;
    j = series(&p);
    pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 4);
    ck_near(num(json_array_get(pts, 0), "increase"), 60);
    ck_near(num(json_array_get(pts, 0), "rate"), 6);
    json_decref(j);
}
END_TEST

START_TEST(test_delta_counter) {
    model_batch *b = metric_batch("api", NULL, "bytes", MODEL_METRIC_SUM,
                                  MODEL_TEMPORALITY_DELTA, 1, 2);
    set_int(pt(b, NULL, 9 * S, 10 * S), 5);
    set_int(pt(b, NULL, 10 * S, 20 * S), 7);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "bytes"};
    json_t *j = series(&p);
    json_t *pts = points_of(j, 0);
    /* 5 over 1 s; 7 over 10 s */
    ck_near(num(json_array_get(pts, 0), "rate"), 5);
    ck_near(num(json_array_get(pts, 1), "rate"), 0.7);
    json_decref(j);
    /* one 60 s step: 12 in all, 0.2/s */
    p.step_ns = 60 * S;
    j = series(&p);
    pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 1);
    ck_near(num(json_array_get(pts, 0), "value"), 12);
    ck_near(num(json_array_get(pts, 0), "rate"), 0.2);
    json_decref(j);
}
END_TEST

START_TEST(test_histogram_percentiles) {
    model_batch *b = metric_batch("api", NULL, "latency", MODEL_METRIC_HISTOGRAM,
                                  MODEL_TEMPORALITY_CUMULATIVE, 0, 2);
    const uint64_t c1[3] = {2, 6, 2}, c2[3] = {4, 10, 6};
    set_hist(b, pt(b, NULL, 1 * S, 10 * S), c1, 10, 300, 1, 500);
    set_hist(b, pt(b, NULL, 1 * S, 20 * S), c2, 20, 900, 1, 800);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "latency"};
    json_t *j = series(&p);
    json_t *pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 2);
    /* first point, counted since its start: buckets (min=1,10] (10,100]
     * (100,max=500] = 2,6,2. p50: rank 5 -> second bucket, (5-2)/6 = 0.5
     * of the way: 55. p90: rank 9 -> third, (9-8)/2: 100 + 400*0.5 = 300.
     * p99: rank 9.9: 100 + 400*0.95 = 480. */
    json_t *e = json_array_get(pts, 0);
    ck_near(num(e, "count"), 10);
    ck_near(num(e, "p50"), 55);
    ck_near(num(e, "p90"), 300);
    ck_near(num(e, "p99"), 480);
    ck_assert_int_eq(json_array_size(json_object_get(e, "bounds")), 2);
    ck_near(json_number_value(json_array_get(json_object_get(e, "bounds"), 1)), 100);
    /* second point minus the first: 2,4,4 of 10, sum 600, max 800.
     * p50: rank 5 -> second, (5-2)/4: 10 + 90*0.75 = 77.5. p90: rank 9 ->
     * third, (9-6)/4: 100 + 700*0.75 = 625. p99: 100 + 700*0.975 = 782.5 */
    e = json_array_get(pts, 1);
    ck_near(num(e, "count"), 10);
    ck_near(num(e, "sum"), 600);
    json_t *counts = json_object_get(e, "counts");
    ck_near(json_number_value(json_array_get(counts, 0)), 2);
    ck_near(json_number_value(json_array_get(counts, 1)), 4);
    ck_near(json_number_value(json_array_get(counts, 2)), 4);
    ck_near(num(e, "p50"), 77.5);
    ck_near(num(e, "p90"), 625);
    ck_near(num(e, "p99"), 782.5);
    json_decref(j);
    /* one 60 s step merges both differences: 4,10,6 of 20, max 800.
     * p50: rank 10 -> second, (10-4)/10: 10 + 90*0.6 = 64. p90: rank 18 ->
     * third, (18-14)/6: 100 + 700*2/3. p99: rank 19.8: 100 + 700*5.8/6 */
    p.step_ns = 60 * S;
    j = series(&p);
    pts = points_of(j, 0);
    ck_assert_int_eq(json_array_size(pts), 1);
    e = json_array_get(pts, 0);
    ck_near(num(e, "count"), 20);
    ck_near(num(e, "sum"), 900);
    ck_near(num(e, "min"), 1);
    ck_near(num(e, "max"), 800);
    ck_near(num(e, "p50"), 64);
    ck_near(num(e, "p90"), 100 + 700 * 4.0 / 6.0);
    ck_near(num(e, "p99"), 100 + 700 * 5.8 / 6.0);
    json_decref(j);
}
END_TEST

START_TEST(test_histogram_first_bucket_and_delta) {
    model_batch *b = metric_batch("api", NULL, "size", MODEL_METRIC_HISTOGRAM,
                                  MODEL_TEMPORALITY_DELTA, 0, 2);
    const uint64_t c1[3] = {8, 1, 1}, c2[3] = {0, 0, 4};
    /* p50 of 8,1,1 with min 2: rank 5 in the first bucket (2,10]:
     * 2 + 8*5/8 = 7 */
    set_hist(b, pt(b, NULL, 0, 10 * S), c1, 10, 100, 2, 150);
    model_point *q = pt(b, NULL, 0, 20 * S);
    set_hist(b, q, c2, 4, 1000, 0, 0);
    q->has_min = q->has_max = 0; /* the last bucket stops at its bound: 100 */
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "size"};
    json_t *j = series(&p);
    json_t *pts = points_of(j, 0);
    ck_near(num(json_array_get(pts, 0), "p50"), 7);
    ck_near(num(json_array_get(pts, 1), "p50"), 100);
    ck_assert(json_is_null(json_object_get(json_array_get(pts, 1), "min")));
    json_decref(j);
}
END_TEST

START_TEST(test_exponential_histogram) {
    model_batch *b = metric_batch("api", NULL, "exp", MODEL_METRIC_EXP_HISTOGRAM,
                                  MODEL_TEMPORALITY_DELTA, 0, 2);
    model_point *p1 = pt(b, NULL, 0, 10 * S);
    /* scale 0: base 2, buckets (1,2] (2,4] (4,8] holding 1,2,1 */
    p1->scale = 0;
    p1->positive_offset = 0;
    p1->positive_counts = arena_calloc(b->arena, 3, sizeof(uint64_t));
    p1->positive_counts[0] = 1;
    p1->positive_counts[1] = 2;
    p1->positive_counts[2] = 1;
    p1->n_positive = 3;
    p1->count = 4;
    p1->sum = 14;
    p1->has_sum = 1;
    p1->min = 1.5;
    p1->max = 7;
    p1->has_min = p1->has_max = 1;
    model_point *p2 = pt(b, NULL, 0, 20 * S);
    /* scale 1: base sqrt 2; index 2 is (2, 2.83]: downscaled to scale 0
     * it is index 1, (2,4] */
    p2->scale = 1;
    p2->positive_offset = 2;
    p2->positive_counts = arena_calloc(b->arena, 1, sizeof(uint64_t));
    p2->positive_counts[0] = 4;
    p2->n_positive = 1;
    p2->count = 4;
    p2->sum = 10;
    p2->has_sum = 1;
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "exp"};
    json_t *j = series(&p);
    json_t *e = json_array_get(points_of(j, 0), 0);
    /* p50: rank 2 -> (2,4], (2-1)/2: 3. p99: rank 3.96 -> (4,8], 0.96 of
     * the way is 7.84, clamped to max 7 */
    ck_near(num(e, "p50"), 3);
    ck_near(num(e, "p99"), 7);
    ck_near(num(e, "scale"), 0);
    json_decref(j);
    /* merged in one step at scale 0: (1,2] 1, (2,4] 6, (4,8] 1 of 8.
     * p50: rank 4 -> (2,4], (4-1)/6: 2 + 2*0.5 = 3 */
    p.step_ns = 60 * S;
    j = series(&p);
    e = json_array_get(points_of(j, 0), 0);
    ck_near(num(e, "count"), 8);
    ck_near(num(e, "scale"), 0);
    json_t *pos = json_object_get(json_object_get(e, "positive"), "bucketCounts");
    ck_assert_int_eq(json_array_size(pos), 3);
    ck_near(json_number_value(json_array_get(pos, 1)), 6);
    ck_near(num(e, "p50"), 3);
    json_decref(j);
}
END_TEST

START_TEST(test_summary) {
    model_batch *b = metric_batch("api", NULL, "rpc", MODEL_METRIC_SUMMARY,
                                  MODEL_TEMPORALITY_UNSPECIFIED, 0, 1);
    model_point *q = pt(b, NULL, 0, 10 * S);
    q->count = 3;
    q->sum = 60;
    q->has_sum = 1;
    q->quantiles = arena_calloc(b->arena, 3, sizeof(model_quantile));
    q->quantiles[0] = (model_quantile){0.0, 1};
    q->quantiles[1] = (model_quantile){0.9, 20};
    q->quantiles[2] = (model_quantile){1.0, 100};
    q->n_quantiles = 3;
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    query_series_params p = {.name = "rpc"};
    json_t *j = series(&p);
    json_t *e = json_array_get(points_of(j, 0), 0);
    ck_near(num(e, "count"), 3);
    ck_assert_int_eq(json_array_size(json_object_get(e, "quantiles")), 3);
    /* p50 between 0 -> 1 and 0.9 -> 20: 1 + 19*0.5/0.9; p90 given; p99
     * between 0.9 -> 20 and 1 -> 100: 20 + 80*0.9 */
    ck_near(num(e, "p50"), 1 + 19 * 0.5 / 0.9);
    ck_near(num(e, "p90"), 20);
    ck_near(num(e, "p99"), 20 + 80 * 0.9);
    json_decref(j);
}
END_TEST

START_TEST(test_group_by_filters_exemplars) {
    model_batch *b = metric_batch("api", "i-1", "conns", MODEL_METRIC_GAUGE,
                                  MODEL_TEMPORALITY_UNSPECIFIED, 0, 2);
    set_int(pt(b, "/a", 0, 10 * S), 1);
    model_point *x = pt(b, "/b", 0, 10 * S);
    set_int(x, 10);
    x->exemplars = arena_calloc(b->arena, 1, sizeof(model_exemplar));
    x->n_exemplars = 1;
    x->exemplars[0].time_ns = 9 * S;
    x->exemplars[0].is_int = 1;
    x->exemplars[0].as_int = 10;
    x->exemplars[0].has_trace_id = x->exemplars[0].has_span_id = 1;
    fx_id(x->exemplars[0].trace_id, 16, 77);
    fx_id(x->exemplars[0].span_id, 8, 78);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    b = metric_batch("api", "i-2", "conns", MODEL_METRIC_GAUGE, MODEL_TEMPORALITY_UNSPECIFIED, 0,
                     1);
    set_int(pt(b, "/a", 0, 12 * S), 2);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);

    const char *by[] = {"route"};
    query_series_params p = {.name = "conns", .group_by = by, .n_group_by = 1, .step_ns = 60 * S};
    json_t *j = series(&p);
    json_t *list = json_object_get(j, "series");
    ck_assert_int_eq(json_array_size(list), 2);
    /* /a: 1 (i-1) + 2 (i-2) in the same step */
    json_t *a = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "attributes"), "route")),
                     "/a");
    ck_assert_int_eq(json_object_size(json_object_get(a, "attributes")), 1);
    ck_near(num(json_array_get(json_object_get(a, "points"), 0), "value"), 3);
    json_t *bb = json_array_get(list, 1);
    json_t *ex = json_object_get(json_array_get(json_object_get(bb, "points"), 0), "exemplars");
    ck_assert_int_eq(json_array_size(ex), 1);
    char tid[33];
    uint8_t raw[16];
    fx_id(raw, 16, 77);
    model_hex_encode(raw, 16, tid);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ex, 0), "traceId")), tid);
    json_decref(j);

    /* groupBy a resource attribute; automatic step */
    const char *by_inst[] = {"service.instance.id"};
    query_series_params g = {.name = "conns", .group_by = by_inst, .n_group_by = 1};
    j = series(&g);
    ck_assert_int_eq(json_array_size(json_object_get(j, "series")), 2);
    ck_assert_int_ge(json_integer_value(json_object_get(j, "stepNs")), (json_int_t)S);
    json_decref(j);

    /* attribute filter on the series, and on the resource */
    query_attr f = {"route", 5, QUERY_ATTR_EQ, "/b", 2, 0};
    query_series_params q = {.name = "conns", .attrs = &f, .n_attrs = 1};
    j = series(&q);
    ck_assert_int_eq(json_array_size(json_object_get(j, "series")), 1);
    json_decref(j);
    query_attr fr = {"service.instance.id", 19, QUERY_ATTR_EQ, "i-2", 3, 0};
    q.attrs = &fr;
    j = series(&q);
    ck_assert_int_eq(json_array_size(json_object_get(j, "series")), 1);
    json_decref(j);
    q.service = "api";
    j = series(&q);
    ck_assert_int_eq(json_array_size(json_object_get(j, "series")), 1);
    json_decref(j);

    /* unknown metric or service; too many steps; bad windows */
    query_series_params u = {.name = "nope"};
    ck_assert_int_eq(query_series(rd, &u, &out), QUERY_ENOTFOUND);
    u.name = "conns";
    u.service = "' OR 1=1";
    ck_assert_int_eq(query_series(rd, &u, &out), QUERY_ENOTFOUND);
    u.service = NULL;
    u.step_ns = 1;
    u.has_start = u.has_end = 1;
    u.start_ns = 0;
    u.end_ns = 20 * S;
    ck_assert_int_eq(query_series(rd, &u, &out), QUERY_EINVAL);
    u.step_ns = 1; /* data-bounded: 10 s .. 12 s in 1 ns steps */
    u.has_start = u.has_end = 0;
    ck_assert_int_eq(query_series(rd, &u, &out), QUERY_EINVAL);
    u.step_ns = 0;
    u.has_start = u.has_end = 1;
    u.start_ns = u.end_ns = 5;
    ck_assert_int_eq(query_series(rd, &u, &out), QUERY_EINVAL);
}
END_TEST

/* Regression: each series of a plan pointed at its group in an array
 * that grows (realloc) as groups are added, so with more than 16 groups
 * the first ones' pointers dangled: their points were merged into freed
 * memory (use after free) and the answer showed them empty. 40 series of
 * one gauge, each its own group without groupBy, 20 groups with it. */
START_TEST(test_many_series_and_groups) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    store *s2;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s2, err, sizeof(err)), STORE_OK);
    model_batch *b = metric_batch("api", "i-1", "temp", MODEL_METRIC_GAUGE,
                                  MODEL_TEMPORALITY_UNSPECIFIED, 0, 40);
    for (int i = 0; i < 40; i++) {
        model_point *q = pt(b, NULL, 0, (uint64_t)(i + 1) * S);
        q->attrs.items = fx_kvs(b, 2);
        q->attrs.n = 2;
        fx_kv_int(b, &q->attrs.items[0], "sensor", i);
        fx_kv_int(b, &q->attrs.items[1], "room", i / 2);
        set_int(q, 100 + i);
    }
    ck_assert_int_eq(fx_commit(s2, b), STORE_OK);
    store_reader *r2;
    ck_assert_int_eq(store_reader_open(s2, &r2), STORE_OK);
    query_series_params p = {.name = "temp"};
    buf_reset(&out);
    ck_assert_int_eq(query_series(r2, &p, &out), QUERY_OK);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    json_t *list = json_object_get(j, "series");
    ck_assert_int_eq(json_array_size(list), 40);
    double sum = 0;
    for (size_t i = 0; i < 40; i++) {
        json_t *pts = json_object_get(json_array_get(list, i), "points");
        ck_assert_int_eq(json_array_size(pts), 1);
        sum += num(json_array_get(pts, 0), "value");
    }
    ck_near(sum, 40 * 100 + 39 * 40 / 2);
    json_decref(j);
    const char *by[] = {"room"};
    query_series_params g = {.name = "temp", .group_by = by, .n_group_by = 1, .step_ns = 3600 * S};
    buf_reset(&out);
    ck_assert_int_eq(query_series(r2, &g, &out), QUERY_OK);
    j = json_loadb(out.ptr, out.len, 0, NULL);
    list = json_object_get(j, "series");
    ck_assert_int_eq(json_array_size(list), 20);
    for (size_t i = 0; i < 20; i++) {
        json_t *pts = json_object_get(json_array_get(list, i), "points");
        ck_assert_int_eq(json_array_size(pts), 1);
    }
    json_decref(j);
    store_reader_close(r2);
    store_close(s2);
}
END_TEST

static Suite *series_suite(void) {
    Suite *s = suite_create("query_series");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gauge);
    tcase_add_test(tc, test_cumulative_counter_reset);
    tcase_add_test(tc, test_delta_counter);
    tcase_add_test(tc, test_histogram_percentiles);
    tcase_add_test(tc, test_histogram_first_bucket_and_delta);
    tcase_add_test(tc, test_exponential_histogram);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_group_by_filters_exemplars);
    tcase_add_test(tc, test_many_series_and_groups);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(series_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
