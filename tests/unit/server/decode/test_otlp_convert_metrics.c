/* test_otlp_convert_metrics.c - metrics and data points into the model
 * (server/decode/otlp_convert_metrics.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_fixture.h"

/* ---- metrics -------------------------------------------------------------- */

START_TEST(test_metric_gauge_sum) {
    tb_npoint *p1 = tb_npoint_double(A, 3.25);
    p1->start_time_unix_nano = 100;
    p1->time_unix_nano = 200;
    p1->flags = 1;
    p1->n_attributes = 1;
    p1->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "cpu", tb_int(A, 0))}, 1);
    tb_npoint *p2 = tb_npoint_int(A, -42);
    tb_npoint *p3 = tb_npoint_int(A, 1);
    p3->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE__NOT_SET;
    tb_metric *g = tb_gauge(A, "cpu.usage", TB_LIST(tb_npoint, p1, p2, p3));
    tb_metric *s = tb_sum(A, "requests",
                          OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
                          1, TB_LIST(tb_npoint, tb_npoint_int(A, 1000)));
    tb_metric *s2 = tb_sum(A, "delta",
                           OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
                           0, TB_LIST(tb_npoint, tb_npoint_double(A, 0.5)));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, g, s, s2)));
    ck_assert_int_eq(b->signal, MODEL_SIGNAL_METRICS);
    ck_assert_uint_eq(b->n_metrics, 3);
    ck_assert_uint_eq(b->n_points, 5);
    ck_assert_uint_eq(model_batch_items(b), 5);
    ck_assert_int_eq(b->rejected, 0);
    const model_metric *mg = &b->metrics[0];
    STR_EQ(mg->name, "cpu.usage");
    STR_EQ(mg->description, "desc");
    STR_EQ(mg->unit, "ms");
    ck_assert_int_eq(mg->type, MODEL_METRIC_GAUGE);
    STR_EQ(mg->resource->service_name, "msvc");
    STR_EQ(mg->scope->name, "meter");
    const model_point *pt = b->points;
    ck_assert_ptr_eq(pt[0].metric, mg);
    ck_assert_int_eq(pt[0].is_int, 0);
    ck_assert(pt[0].as_double == 3.25);
    ck_assert_uint_eq(pt[0].start_time_ns, 100);
    ck_assert_uint_eq(pt[0].time_ns, 200);
    ck_assert_uint_eq(pt[0].flags, 1);
    ck_assert_uint_eq(pt[0].attrs.n, 1);
    STR_EQ(pt[0].attrs.items[0].key, "cpu");
    ck_assert_int_eq(pt[1].is_int, 1);
    ck_assert_int_eq(pt[1].as_int, -42);
    ck_assert(pt[1].as_double == -42.0);
    ck_assert_int_eq(pt[2].is_int, 0);
    ck_assert(pt[2].as_double == 0.0);
    ck_assert_ptr_eq(pt[3].metric, &b->metrics[1]);
    ck_assert_int_eq(b->metrics[1].type, MODEL_METRIC_SUM);
    ck_assert_int_eq(b->metrics[1].temporality, MODEL_TEMPORALITY_CUMULATIVE);
    ck_assert_int_eq(b->metrics[1].monotonic, 1);
    ck_assert_int_eq(pt[3].as_int, 1000);
    ck_assert_int_eq(b->metrics[2].temporality, MODEL_TEMPORALITY_DELTA);
    ck_assert_int_eq(b->metrics[2].monotonic, 0);
    ck_assert_ptr_eq(pt[4].metric, &b->metrics[2]);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_histogram) {
    const double bounds[] = {1, 5, 10};
    const uint64_t counts[] = {1, 2, 3, 4};
    tb_hpoint *full = tb_hpoint_new(A, bounds, 3, counts, 4);
    full->count = 10;
    full->sum_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    full->sum = 55.5;
    full->min_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    full->min = 0.5;
    full->max_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    full->max = 12;
    full->start_time_unix_nano = 50;
    tb_hpoint *bare = tb_hpoint_new(A, NULL, 0, NULL, 0); /* no sum/min/max, no buckets */
    bare->count = 3;
    tb_hpoint *one = tb_hpoint_new(A, NULL, 0, counts, 1); /* one bucket, no bounds */
    tb_hpoint *nocounts = tb_hpoint_new(A, bounds, 3, NULL, 0); /* bounds only: dropped */
    tb_hpoint *mismatch = tb_hpoint_new(A, bounds, 3, counts, 3);
    tb_metric *h = tb_histogram(A, "latency",
                                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
                                TB_LIST(tb_hpoint, full, bare, mismatch, one, nocounts));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, h)));
    ck_assert_uint_eq(b->n_metrics, 1);
    ck_assert_uint_eq(b->n_points, 4);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "3 explicit_bounds and 3 bucket_counts"));
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_HISTOGRAM);
    ck_assert_int_eq(b->metrics[0].temporality, MODEL_TEMPORALITY_DELTA);
    const model_point *p = &b->points[0];
    ck_assert_uint_eq(p->count, 10);
    ck_assert_int_eq(p->has_sum, 1);
    ck_assert(p->sum == 55.5);
    ck_assert_int_eq(p->has_min, 1);
    ck_assert(p->min == 0.5);
    ck_assert_int_eq(p->has_max, 1);
    ck_assert(p->max == 12);
    ck_assert_uint_eq(p->start_time_ns, 50);
    ck_assert_uint_eq(p->n_bounds, 3);
    ck_assert_uint_eq(p->n_bucket_counts, 4);
    for (int i = 0; i < 3; i++)
        ck_assert(p->bounds[i] == bounds[i]);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(p->bucket_counts[i], counts[i]);
    p = &b->points[1];
    ck_assert_uint_eq(p->count, 3);
    ck_assert_int_eq(p->has_sum, 0);
    ck_assert_int_eq(p->has_min, 0);
    ck_assert_int_eq(p->has_max, 0);
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 0);
    p = &b->points[2];
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 1);
    ck_assert_uint_eq(p->bucket_counts[0], 1);
    p = &b->points[3];
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_exp_histogram) {
    tb_epoint *p = tb_alloc(A, sizeof(*p));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(p);
    const uint64_t pos[] = {1, 0, 5};
    const uint64_t neg[] = {2};
    p->count = 10;
    p->scale = -3;
    p->zero_count = 2;
    p->zero_threshold = 1e-9;
    p->positive = tb_buckets_new(A, -2, pos, 3);
    p->negative = tb_buckets_new(A, 7, neg, 1);
    p->sum_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    p->sum = 4.5;
    p->max_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    p->max = 9;
    p->flags = 1;
    tb_epoint *q = tb_alloc(A, sizeof(*q));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(q);
    q->min_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    q->min = -1;
    tb_metric *m = tb_exp_histogram(A, "exp",
                                    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
                                    TB_LIST(tb_epoint, p, q));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, m)));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_EXP_HISTOGRAM);
    ck_assert_int_eq(b->metrics[0].temporality, MODEL_TEMPORALITY_CUMULATIVE);
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->count, 10);
    ck_assert_int_eq(mp->scale, -3);
    ck_assert_uint_eq(mp->zero_count, 2);
    ck_assert(mp->zero_threshold == 1e-9);
    ck_assert_int_eq(mp->positive_offset, -2);
    ck_assert_uint_eq(mp->n_positive, 3);
    ck_assert_uint_eq(mp->positive_counts[2], 5);
    ck_assert_int_eq(mp->negative_offset, 7);
    ck_assert_uint_eq(mp->n_negative, 1);
    ck_assert_uint_eq(mp->negative_counts[0], 2);
    ck_assert_int_eq(mp->has_sum, 1);
    ck_assert(mp->sum == 4.5);
    ck_assert_int_eq(mp->has_min, 0);
    ck_assert_int_eq(mp->has_max, 1);
    ck_assert(mp->max == 9);
    ck_assert_uint_eq(mp->flags, 1);
    mp = &b->points[1];
    ck_assert_int_eq(mp->has_sum, 0);
    ck_assert_int_eq(mp->has_min, 1);
    ck_assert(mp->min == -1);
    ck_assert_uint_eq(mp->n_positive, 0);
    ck_assert_uint_eq(mp->n_negative, 0);
    ck_assert_int_eq(mp->positive_offset, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_summary) {
    tb_spoint *p = tb_alloc(A, sizeof(*p));
    opentelemetry__proto__metrics__v1__summary_data_point__init(p);
    p->count = 4;
    p->sum = 20;
    tb_quantile *q[2];
    for (int i = 0; i < 2; i++) {
        q[i] = tb_alloc(A, sizeof(*q[i]));
        opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(q[i]);
        q[i]->quantile = i ? 0.99 : 0.5;
        q[i]->value = i ? 9.5 : 4;
    }
    p->n_quantile_values = 2;
    p->quantile_values = tb_ptrs(A, q, 2);
    tb_metric *m = tb_summary(A, "rpc.duration", TB_LIST(tb_spoint, p));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, m)));
    ck_assert_uint_eq(b->n_points, 1);
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_SUMMARY);
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->count, 4);
    ck_assert_int_eq(mp->has_sum, 1);
    ck_assert(mp->sum == 20);
    ck_assert_uint_eq(mp->n_quantiles, 2);
    ck_assert(mp->quantiles[0].quantile == 0.5);
    ck_assert(mp->quantiles[0].value == 4);
    ck_assert(mp->quantiles[1].quantile == 0.99);
    ck_assert(mp->quantiles[1].value == 9.5);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_exemplars) {
    tb_exemplar *e1 = tb_exemplar_new(A, 16, 8);
    e1->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT;
    e1->as_int = 17;
    e1->n_filtered_attributes = 1;
    e1->filtered_attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "user", tb_str(A, "u1"))}, 1);
    tb_exemplar *e2 = tb_exemplar_new(A, 0, 0);
    e2->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
    e2->as_double = 0.25;
    tb_npoint *p = tb_npoint_double(A, 1);
    p->n_exemplars = 2;
    p->exemplars = tb_ptrs(A, (tb_exemplar *[]){e1, e2}, 2);
    const double bounds[] = {1};
    const uint64_t counts[] = {0, 1};
    tb_hpoint *hp = tb_hpoint_new(A, bounds, 1, counts, 2);
    tb_exemplar *e3 = tb_exemplar_new(A, 16, 8);
    hp->n_exemplars = 1;
    hp->exemplars = tb_ptrs(A, (tb_exemplar *[]){e3}, 1);
    /* A bad exemplar id rejects its point only. */
    tb_npoint *bad = tb_npoint_double(A, 2);
    tb_exemplar *e4 = tb_exemplar_new(A, 16, 5);
    bad->n_exemplars = 1;
    bad->exemplars = tb_ptrs(A, (tb_exemplar *[]){e4}, 1);
    tb_metric *g = tb_gauge(A, "g", TB_LIST(tb_npoint, p, bad));
    tb_metric *h = tb_histogram(A, "h", 2, TB_LIST(tb_hpoint, hp));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, g, h)));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "exemplar span_id"));
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->n_exemplars, 2);
    const model_exemplar *x = &mp->exemplars[0];
    ck_assert_int_eq(x->is_int, 1);
    ck_assert_int_eq(x->as_int, 17);
    ck_assert(x->as_double == 17.0);
    ck_assert_uint_eq(x->time_ns, 8000);
    ck_assert_int_eq(x->has_trace_id, 1);
    ck_assert_int_eq(x->has_span_id, 1);
    ck_assert_uint_eq(x->trace_id[0], 0xAB);
    ck_assert_uint_eq(x->span_id[7], 0xCD);
    ck_assert_uint_eq(x->filtered_attrs.n, 1);
    STR_EQ(x->filtered_attrs.items[0].value.u.str, "u1");
    x = &mp->exemplars[1];
    ck_assert_int_eq(x->is_int, 0);
    ck_assert(x->as_double == 0.25);
    ck_assert_int_eq(x->has_trace_id, 0);
    ck_assert_int_eq(x->has_span_id, 0);
    ck_assert_uint_eq(b->points[1].n_exemplars, 1);
    ck_assert_ptr_eq(b->points[1].metric, &b->metrics[1]);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_skips_and_rejects) {
    tb_metric *nodata = tb_metric_new(A, "nodata"); /* data not set: skipped */
    tb_metric *nopoints = tb_gauge(A, "nopoints", NULL, 0);
    tb_metric *badname = tb_gauge(A, "bad\xFF", TB_LIST(tb_npoint, tb_npoint_int(A, 1), tb_npoint_int(A, 2)));
    tb_metric *badunit = tb_sum(A, "u", 1, 0, TB_LIST(tb_npoint, tb_npoint_int(A, 1)));
    badunit->unit = tb_strdup(A, "\xC0\x80");
    /* Every point rejected: the metric is not kept either. */
    tb_npoint *badattr = tb_npoint_int(A, 1);
    badattr->n_attributes = 1;
    badattr->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "\xFF", tb_int(A, 1))}, 1);
    tb_metric *allbad = tb_gauge(A, "allbad", TB_LIST(tb_npoint, badattr));
    tb_metric *good = tb_gauge(A, "good", TB_LIST(tb_npoint, tb_npoint_int(A, 5)));
    model_batch *b = convert_metrics(
        tb_metrics_req_simple(A, TB_LIST(tb_metric, nodata, nopoints, badname, badunit, allbad, good)));
    ck_assert_uint_eq(b->n_metrics, 1);
    ck_assert_uint_eq(b->n_points, 1);
    ck_assert_int_eq(b->rejected, 4);
    STR_EQ(b->metrics[0].name, "good");
    ck_assert_ptr_eq(b->points[0].metric, &b->metrics[0]);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "metric name is not valid UTF-8"));
    model_batch_free(b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_convert_metrics");
    TCase *tc = decode_tcase(s, "metrics", teardown);
    tcase_add_test(tc, test_metric_gauge_sum);
    tcase_add_test(tc, test_metric_histogram);
    tcase_add_test(tc, test_metric_exp_histogram);
    tcase_add_test(tc, test_metric_summary);
    tcase_add_test(tc, test_metric_exemplars);
    tcase_add_test(tc, test_metric_skips_and_rejects);
    return decode_run(s);
}
