/* test_series.c - the steps behind query_series on their own: distributions
 * (storage/series_dist.c) parsed, differenced, merged and their
 * percentiles; points folded and buckets of two series merged
 * (storage/series_read.c); groups and their keys (storage/series_group.c).
 * The whole answer is tested through the store in test_query_series.c. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "storage/model.h"
#include "storage/query.h"
#include "storage/series_internal.h"

#define ck_near(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%.12g != %.12g", (double)(a), (double)(b))

static void parse(int kind, const char *json, series_dist *d) {
    ck_assert_msg(series_dist_parse(kind, json, strlen(json), d) == 0, "parse %s", json);
}

/* series_dist_json's members as a JSON object. */
static json_t *dist_json(const series_dist *d) {
    buf b;
    buf_init(&b, 1 << 16);
    jw w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    series_dist_json(&w, d);
    jw_object_end(&w);
    ck_assert_int_eq(jw_error(&w), 0);
    json_t *j = json_loadb(b.ptr, b.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    buf_free(&b);
    return j;
}

static double num(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_number(v), "%s is not a number", k);
    return json_number_value(v);
}

START_TEST(test_parse_refuses_unusable_data) {
    series_dist d;
    const char *bad[] = {
        "",
        "[]",
        "{\"count\":-1}",
        /* 2 bounds need 3 counts */
        "{\"count\":3,\"bucketCounts\":[1,2],\"explicitBounds\":[1,2]}",
        "{\"count\":1,\"scale\":21,\"zeroCount\":0}",
    };
    int kinds[] = {MODEL_METRIC_HISTOGRAM, MODEL_METRIC_HISTOGRAM, MODEL_METRIC_HISTOGRAM,
                   MODEL_METRIC_HISTOGRAM, MODEL_METRIC_EXP_HISTOGRAM};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(series_dist_parse(kinds[i], bad[i], strlen(bad[i]), &d) == -1, "%zu", i);
        ck_assert_int_eq(d.kind, 0);
    }
    ck_assert_int_eq(series_dist_parse(MODEL_METRIC_HISTOGRAM, NULL, 0, &d), -1);
    /* counts beyond 2^53 are stored as decimal strings */
    parse(MODEL_METRIC_HISTOGRAM,
          "{\"count\":\"9007199254740993\",\"bucketCounts\":[\"9007199254740993\",0],"
          "\"explicitBounds\":[1]}",
          &d);
    ck_assert_uint_eq(d.count, 9007199254740993ULL);
    ck_assert_uint_eq(d.counts[0], 9007199254740993ULL);
    series_dist_free(&d);
}
END_TEST

/* A cumulative histogram differenced against its previous state, and a
 * reset (lower counts) answered as the point itself. */
START_TEST(test_histogram_diff_and_reset) {
    series_dist prev, cur, diff, reset;
    parse(MODEL_METRIC_HISTOGRAM,
          "{\"count\":4,\"sum\":40,\"bucketCounts\":[1,2,1],\"explicitBounds\":[10,100]}", &prev);
    parse(MODEL_METRIC_HISTOGRAM,
          "{\"count\":10,\"sum\":130,\"bucketCounts\":[1,5,4],\"explicitBounds\":[10,100]}",
          &cur);
    ck_assert_int_eq(series_dist_diff(&cur, &prev, &diff), 0);
    ck_assert_uint_eq(diff.count, 6);
    ck_near(diff.sum, 90);
    ck_assert_uint_eq(diff.counts[0], 0);
    ck_assert_uint_eq(diff.counts[1], 3);
    ck_assert_uint_eq(diff.counts[2], 3);
    /* cur after prev is no earlier state of prev: a reset */
    ck_assert_int_eq(series_dist_diff(&prev, &cur, &reset), 0);
    ck_assert_uint_eq(reset.count, 4);
    ck_assert_uint_eq(reset.counts[1], 2);
    series_dist_free(&reset);
    /* other bounds: a reset too */
    series_dist other;
    parse(MODEL_METRIC_HISTOGRAM,
          "{\"count\":11,\"bucketCounts\":[1,5,5],\"explicitBounds\":[10,200]}", &other);
    ck_assert_int_eq(series_dist_diff(&other, &prev, &reset), 0);
    ck_assert_uint_eq(reset.count, 11);
    series_dist_free(&reset);
    series_dist_free(&other);

    /* percentiles of the difference: ranks 3 and 5.4 of 6 fall into
     * (10,100] (0..3) and (100,max] (3..6); without max the last bound */
    json_t *j = dist_json(&diff);
    ck_near(num(j, "p50"), 100);
    ck_near(num(j, "p90"), 100);
    ck_assert_int_eq(json_array_size(json_object_get(j, "counts")), 3);
    json_decref(j);
    series_dist_free(&prev);
    series_dist_free(&cur);
    series_dist_free(&diff);
}
END_TEST

/* Exponential histograms of scales 1 and 0 merge at scale 0: buckets
 * (2^(i/2), 2^((i+1)/2)] fold pairwise into (2^i, 2^(i+1)]. */
START_TEST(test_exponential_merge_at_coarser_scale) {
    series_dist a = {0}, b;
    parse(MODEL_METRIC_EXP_HISTOGRAM,
          "{\"count\":4,\"scale\":1,\"zeroCount\":0,\"zeroThreshold\":0,"
          "\"positive\":{\"offset\":2,\"bucketCounts\":[1,1,2]},"
          "\"negative\":{\"offset\":0,\"bucketCounts\":[]}}",
          &b);
    ck_assert_int_eq(series_dist_add(&a, &b, 0), 0); /* empty a: a copy */
    ck_assert_int_eq(a.scale, 1);
    ck_assert_uint_eq(a.npos, 3);
    series_dist c;
    parse(MODEL_METRIC_EXP_HISTOGRAM,
          "{\"count\":2,\"scale\":0,\"zeroCount\":1,\"zeroThreshold\":0.5,"
          "\"positive\":{\"offset\":1,\"bucketCounts\":[1]}}",
          &c);
    ck_assert_int_eq(series_dist_add(&a, &c, 0), 0);
    ck_assert_int_eq(a.scale, 0);
    /* scale 1 offsets 2,3,4 -> scale 0 indexes 1,1,2; plus c's 1 at index 1 */
    ck_assert_int_eq(a.pos_off, 1);
    ck_assert_uint_eq(a.npos, 2);
    ck_assert_uint_eq(a.pos[0], 3);
    ck_assert_uint_eq(a.pos[1], 2);
    ck_assert_uint_eq(a.count, 6);
    ck_assert_uint_eq(a.zero_count, 1);
    ck_near(a.zero_threshold, 0.5);
    series_dist_free(&a);
    series_dist_free(&b);
    series_dist_free(&c);
}
END_TEST

/* Summaries: the later point replaces within a series; across series the
 * counts add and the quantiles go (they cannot be merged). */
START_TEST(test_summaries_replace_or_drop_quantiles) {
    series_dist a = {0}, b, c;
    parse(MODEL_METRIC_SUMMARY,
          "{\"count\":2,\"sum\":3,\"quantileValues\":[{\"quantile\":0.5,\"value\":1},"
          "{\"quantile\":1,\"value\":2}]}",
          &b);
    parse(MODEL_METRIC_SUMMARY,
          "{\"count\":4,\"sum\":10,\"quantileValues\":[{\"quantile\":0.5,\"value\":2},"
          "{\"quantile\":1,\"value\":4}]}",
          &c);
    ck_assert_int_eq(series_dist_add(&a, &b, 1), 0);
    ck_assert_int_eq(series_dist_add(&a, &c, 1), 0);
    json_t *j = dist_json(&a);
    ck_assert_uint_eq((uint64_t)num(j, "count"), 4);
    ck_near(num(j, "p50"), 2);
    ck_near(num(j, "p90"), 2 + (4 - 2) * 0.8); /* between 0.5 and 1 */
    json_decref(j);
    ck_assert_int_eq(series_dist_add(&a, &b, 0), 0);
    j = dist_json(&a);
    ck_assert_uint_eq((uint64_t)num(j, "count"), 6);
    ck_near(num(j, "sum"), 13);
    ck_assert_int_eq(json_array_size(json_object_get(j, "quantiles")), 0);
    ck_assert(json_is_null(json_object_get(j, "p50")));
    json_decref(j);
    series_dist_free(&a);
    series_dist_free(&b);
    series_dist_free(&c);
}
END_TEST

static void push(series_vec *v, uint64_t t, double value, double increase) {
    v->b = realloc(v->b, (v->n + 1) * sizeof(*v->b));
    ck_assert_ptr_nonnull(v->b);
    series_bucket *b = &v->b[v->n++];
    memset(b, 0, sizeof(*b));
    buf_init(&b->exemplars, 1 << 10);
    b->t = b->last_t = t;
    b->has_value = 1;
    b->value = value;
    b->has_increase = 1;
    b->increase = increase;
    b->nseries = 1;
    v->cap = v->n;
}

/* Two series' buckets merge by time: shared times add up, the others keep
 * their place. */
START_TEST(test_vec_merge) {
    series_vec acc = {0}, add = {0};
    push(&acc, 10, 1, 0.5);
    push(&acc, 30, 3, 1.5);
    push(&add, 20, 2, 1);
    push(&add, 30, 4, 2);
    push(&add, 40, 5, 2.5);
    ck_assert_int_eq(series_vec_merge(&acc, &add), QUERY_OK);
    ck_assert_uint_eq(add.n, 0);
    ck_assert_uint_eq(acc.n, 4);
    const uint64_t t[4] = {10, 20, 30, 40};
    const double v[4] = {1, 2, 7, 5}, inc[4] = {0.5, 1, 3.5, 2.5};
    const int n[4] = {1, 1, 2, 1};
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(acc.b[i].t, t[i]);
        ck_near(acc.b[i].value, v[i]);
        ck_near(acc.b[i].increase, inc[i]);
        ck_assert_int_eq(acc.b[i].nseries, n[i]);
    }
    series_vec_free(&acc);
    series_vec_free(&add);
}
END_TEST

/* A monotonic cumulative sum folded point by point: the base point before
 * the window is read but not answered, increases are differences, a lower
 * value is a reset that counts from 0. */
START_TEST(test_point_add_counter_reset) {
    series_ctx c = {.type = MODEL_METRIC_SUM,
                    .temporality = MODEL_TEMPORALITY_CUMULATIVE,
                    .monotonic = 1,
                    .has_start = 1,
                    .start = 100};
    series_ctx_combine(&c);
    ck_assert(c.cumulative && c.has_rate && !c.value_adds);
    series_state st;
    memset(&st, 0, sizeof(st));
    series_vec out = {0};
    const uint64_t t[3] = {50, 150, 250};
    const double v[3] = {10, 15, 3};
    for (int i = 0; i < 3; i++) {
        series_contrib p = {.t = t[i], .has_value = 1, .value = v[i]};
        ck_assert_int_eq(series_point_add(&c, &st, &p, NULL, 0, NULL, 0, &out), QUERY_OK);
    }
    ck_assert_uint_eq(c.points, 3);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_uint_eq(out.b[0].t, 150);
    ck_near(out.b[0].value, 15);
    ck_near(out.b[0].increase, 5);
    ck_assert_uint_eq(out.b[0].interval_ns, 100);
    ck_assert_uint_eq(out.b[1].t, 250);
    ck_near(out.b[1].increase, 3);
    ck_assert_uint_eq(out.b[1].interval_ns, 100);
    series_state_free(&st);
    series_vec_free(&out);
}
END_TEST

/* With groupBy, series join the group of their values (point attributes
 * before the resource's, null when neither has the key); without, each
 * series is a group of its own. */
START_TEST(test_groups_join) {
    const char *by[1] = {"host"};
    query_series_params p = {.name = "m", .group_by = by, .n_group_by = 1};
    series_groups gs = {0};
    ck_assert_int_eq(series_groups_join(&gs, &p, "{\"host\":\"a\"}", "{}", "s", "i"), 0);
    ck_assert_int_eq(series_groups_join(&gs, &p, "", "{\"host\":\"a\",\"x\":1}", "s", "i"), 0);
    ck_assert_int_eq(series_groups_join(&gs, &p, "{\"host\":2}", "{\"host\":\"a\"}", "s", "i"), 1);
    ck_assert_int_eq(series_groups_join(&gs, &p, NULL, NULL, "s", "i"), 2);
    ck_assert_uint_eq(gs.n, 3);
    ck_assert_str_eq(gs.g[0].key, "{\"host\":\"a\"}");
    ck_assert_str_eq(gs.g[1].key, "{\"host\":2}");
    ck_assert_str_eq(gs.g[2].key, "{\"host\":null}");
    series_groups_free(&gs);
    p.n_group_by = 0;
    ck_assert_int_eq(series_groups_join(&gs, &p, "{\"a\":1}", "{}", "s", "i"), 0);
    ck_assert_int_eq(series_groups_join(&gs, &p, "{\"a\":1}", "{}", "s", NULL), 1);
    ck_assert_ptr_null(gs.g[0].key);
    ck_assert_str_eq(gs.g[1].attrs, "{\"a\":1}");
    ck_assert_str_eq(gs.g[1].service, "s");
    ck_assert_str_eq(gs.g[1].instance, "");
    series_groups_free(&gs);
    ck_assert_uint_eq(series_auto_step(0, 120000000000u, 120), 1000000000u);
    ck_assert_uint_eq(series_auto_step(5, 5, 120), 1000000000u);
    ck_assert_uint_eq(series_auto_step(0, 1200000000120u, 120), 11000000000u);
}
END_TEST

static Suite *series_steps_suite(void) {
    Suite *s = suite_create("series_steps");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_refuses_unusable_data);
    tcase_add_test(tc, test_histogram_diff_and_reset);
    tcase_add_test(tc, test_exponential_merge_at_coarser_scale);
    tcase_add_test(tc, test_summaries_replace_or_drop_quantiles);
    tcase_add_test(tc, test_vec_merge);
    tcase_add_test(tc, test_point_add_counter_reset);
    tcase_add_test(tc, test_groups_join);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(series_steps_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
