/* test_model_json.c - model values as API JSON (storage/model_json.c). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/model_json.h"
#include "store_fixture.h"

static char out_text[65536];

/* Renders with fn into a fresh buffer and returns the text (static). */
#define RENDER(call)                                                                               \
    do {                                                                                           \
        buf b_;                                                                                    \
        buf_init(&b_, sizeof(out_text) - 1);                                                       \
        jw w_;                                                                                     \
        jw_init(&w_, &b_);                                                                         \
        jw *w = &w_;                                                                               \
        call;                                                                                      \
        ck_assert_int_eq(jw_error(w), 0);                                                          \
        memcpy(out_text, b_.ptr ? b_.ptr : "", b_.len);                                            \
        out_text[b_.len] = '\0';                                                                   \
        buf_free(&b_);                                                                             \
    } while (0)

static void assert_valid_json(const char *text) {
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %s", err.text, text);
    json_decref(j);
}

START_TEST(test_scalars) {
    model_value v = {0};
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "null");
    v.type = MODEL_VALUE_BOOL;
    v.u.boolean = 1;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "true");
    v.type = MODEL_VALUE_DOUBLE;
    v.u.dbl = 2;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "2.0");
    v.u.dbl = 0.5;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "0.5");
    v.u.dbl = NAN;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"NaN\"");
    v.u.dbl = -INFINITY;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"-Infinity\"");
}
END_TEST

START_TEST(test_integers_beyond_2_53_are_strings) {
    model_value v = {.type = MODEL_VALUE_INT};
    v.u.integer = 9007199254740991LL; /* 2^53 - 1: exact in JS */
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "9007199254740991");
    v.u.integer = -9007199254740991LL;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "-9007199254740991");
    v.u.integer = 9007199254740992LL;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"9007199254740992\"");
    v.u.integer = INT64_MIN;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"-9223372036854775808\"");
    v.u.integer = INT64_MAX;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"9223372036854775807\"");
    v.u.integer = 0;
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "0");
    RENDER(model_json_count(w, UINT64_MAX));
    ck_assert_str_eq(out_text, "\"18446744073709551615\"");
    RENDER(model_json_count(w, 42));
    ck_assert_str_eq(out_text, "42");
}
END_TEST

START_TEST(test_bytes_arrays_kvlists) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_value v = {.type = MODEL_VALUE_BYTES};
    v.u.str = fx_strn(b, "\x00\xff\x10hi", 5); /* NUL inside bytes is fine */
    RENDER(model_json_value(w, &v));
    ck_assert_str_eq(out_text, "\"AP8QaGk=\"");

    model_value items[3] = {{.type = MODEL_VALUE_STRING}, {.type = MODEL_VALUE_INT}, {0}};
    items[0].u.str = fx_str(b, "a\"b");
    items[1].u.integer = -3;
    model_kv kv[2];
    fx_kv_str(b, &kv[0], "k", "v");
    kv[1].key = fx_str(b, "arr");
    kv[1].value.type = MODEL_VALUE_ARRAY;
    kv[1].value.u.array.items = items;
    kv[1].value.u.array.n = 3;
    model_value list = {.type = MODEL_VALUE_KVLIST};
    list.u.kvlist.items = kv;
    list.u.kvlist.n = 2;
    RENDER(model_json_value(w, &list));
    ck_assert_str_eq(out_text, "{\"k\":\"v\",\"arr\":[\"a\\\"b\",-3,null]}");
    model_batch_free(b);
}
END_TEST

START_TEST(test_hostile_strings_stay_valid_json) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv kv[4];
    fx_kv_str(b, &kv[0], "q\"uote\\", "'); DROP TABLE spans; --");
    kv[1].key = fx_str(b, "bad");
    kv[1].value.type = MODEL_VALUE_STRING;
    kv[1].value.u.str = fx_strn(b, "a\xff\xfe\xc0\x80z", 6); /* invalid UTF-8 */
    fx_kv_str(b, &kv[2], "</script>", "<script>alert(1)</script>\n\t\x01");
    kv[3].key = fx_strn(b, "\xe2\x80\xa8", 3);
    kv[3].value.type = MODEL_VALUE_EMPTY;
    model_attrs a = {kv, 4};
    RENDER(model_json_attrs(w, &a));
    assert_valid_json(out_text);
    ck_assert_ptr_null(strstr(out_text, "<"));
    json_t *j = json_loads(out_text, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "q\"uote\\")),
                     "'); DROP TABLE spans; --");
    ck_assert_str_eq(json_string_value(json_object_get(j, "bad")),
                     "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    ck_assert(json_is_null(json_object_get(j, "\xe2\x80\xa8")));
    json_decref(j);
    model_batch_free(b);
}
END_TEST

START_TEST(test_sorted_attrs_are_canonical) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv x[3], y[3];
    fx_kv_str(b, &x[0], "b", "2");
    fx_kv_str(b, &x[1], "a", "1");
    fx_kv_str(b, &x[2], "ab", "3");
    y[0] = x[2];
    y[1] = x[0];
    y[2] = x[1];
    model_attrs ax = {x, 3}, ay = {y, 3};
    char first[256];
    RENDER(model_json_attrs_sorted(w, &ax));
    ck_assert_uint_lt(strlen(out_text), sizeof(first));
    memcpy(first, out_text, strlen(out_text) + 1);
    ck_assert_str_eq(first, "{\"a\":\"1\",\"ab\":\"3\",\"b\":\"2\"}");
    RENDER(model_json_attrs_sorted(w, &ay));
    ck_assert_str_eq(out_text, first);
    /* received order is kept by the plain writer */
    RENDER(model_json_attrs(w, &ax));
    ck_assert_str_eq(out_text, "{\"b\":\"2\",\"a\":\"1\",\"ab\":\"3\"}");
    /* more keys than the on-stack index: the heap path */
    model_kv *many = fx_kvs(b, 100);
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%03d", 99 - i);
        fx_kv_int(b, &many[i], k, i);
    }
    model_attrs am = {many, 100};
    RENDER(model_json_attrs_sorted(w, &am));
    ck_assert(strncmp(out_text, "{\"k000\":99,\"k001\":98", 20) == 0);
    model_attrs empty = {NULL, 0};
    RENDER(model_json_attrs_sorted(w, &empty));
    ck_assert_str_eq(out_text, "{}");
    model_batch_free(b);
}
END_TEST

START_TEST(test_events_and_links) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_span sp = {0};
    model_event ev[1];
    memset(ev, 0, sizeof(ev));
    ev[0].time_ns = 1700000000123456789ULL;
    ev[0].name = fx_str(b, "exception");
    model_kv kv[1];
    fx_kv_str(b, &kv[0], "exception.message", "boom");
    ev[0].attrs.items = kv;
    ev[0].attrs.n = 1;
    ev[0].dropped_attrs = 2;
    model_link ln[1];
    memset(ln, 0, sizeof(ln));
    fx_id(ln[0].trace_id, 16, 7);
    fx_id(ln[0].span_id, 8, 9);
    ln[0].trace_state = fx_str(b, "a=b");
    ln[0].flags = 1;
    sp.events = ev;
    sp.n_events = 1;
    sp.links = ln;
    sp.n_links = 1;
    RENDER(model_json_events(w, &sp));
    ck_assert_str_eq(out_text, "[{\"name\":\"exception\",\"timeUnixNano\":\"1700000000123456789\","
                               "\"attributes\":{\"exception.message\":\"boom\"},"
                               "\"droppedAttributesCount\":2}]");
    RENDER(model_json_links(w, &sp));
    assert_valid_json(out_text);
    json_t *j = json_loads(out_text, 0, NULL);
    json_t *l0 = json_array_get(j, 0);
    char hex[33];
    model_hex_encode(ln[0].trace_id, 16, hex);
    ck_assert_str_eq(json_string_value(json_object_get(l0, "traceId")), hex);
    ck_assert_str_eq(json_string_value(json_object_get(l0, "traceState")), "a=b");
    ck_assert_int_eq(json_integer_value(json_object_get(l0, "flags")), 1);
    ck_assert(json_is_object(json_object_get(l0, "attributes")));
    json_decref(j);
    sp.n_events = sp.n_links = 0;
    RENDER(model_json_events(w, &sp));
    ck_assert_str_eq(out_text, "[]");
    model_batch_free(b);
}
END_TEST

START_TEST(test_point_data) {
    model_metric m = {.type = MODEL_METRIC_HISTOGRAM};
    model_point p = {0};
    p.metric = &m;
    double bounds[2] = {1, 5};
    uint64_t counts[3] = {1, 2, 3};
    p.count = 6;
    p.sum = 12.5;
    p.has_sum = 1;
    p.bounds = bounds;
    p.n_bounds = 2;
    p.bucket_counts = counts;
    p.n_bucket_counts = 3;
    RENDER(model_json_point_data(w, &p));
    ck_assert_str_eq(out_text, "{\"count\":6,\"sum\":12.5,\"min\":null,\"max\":null,"
                               "\"bucketCounts\":[1,2,3],\"explicitBounds\":[1.0,5.0]}");
    m.type = MODEL_METRIC_EXP_HISTOGRAM;
    p.scale = -2;
    p.zero_count = 1;
    p.positive_offset = 3;
    p.positive_counts = counts;
    p.n_positive = 2;
    p.has_min = 1;
    p.min = 0;
    RENDER(model_json_point_data(w, &p));
    assert_valid_json(out_text);
    ck_assert_ptr_nonnull(strstr(out_text, "\"scale\":-2"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"positive\":{\"offset\":3,\"bucketCounts\":[1,2]}"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"negative\":{\"offset\":0,\"bucketCounts\":[]}"));
    m.type = MODEL_METRIC_SUMMARY;
    model_quantile q[1] = {{0.99, 3}};
    p.quantiles = q;
    p.n_quantiles = 1;
    RENDER(model_json_point_data(w, &p));
    ck_assert_str_eq(out_text, "{\"count\":6,\"sum\":12.5,\"quantileValues\":"
                               "[{\"quantile\":0.98999999999999999,\"value\":3.0}]}");
    m.type = MODEL_METRIC_GAUGE;
    RENDER(model_json_point_data(w, &p));
    ck_assert_str_eq(out_text, "null");

    model_exemplar ex[2];
    memset(ex, 0, sizeof(ex));
    ex[0].time_ns = 5;
    ex[0].is_int = 1;
    ex[0].as_int = 7;
    ex[0].has_trace_id = 1;
    fx_id(ex[0].trace_id, 16, 1);
    ex[1].as_double = 1.5;
    p.exemplars = ex;
    p.n_exemplars = 2;
    RENDER(model_json_exemplars(w, &p));
    assert_valid_json(out_text);
    json_t *j = json_loads(out_text, 0, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j, 0), "value")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 1), "traceId")), "");
    ck_assert_int_eq(strlen(json_string_value(json_object_get(json_array_get(j, 0), "traceId"))),
                     32);
    json_decref(j);
}
END_TEST

START_TEST(test_output_cap_reports_error) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv kv[1];
    fx_kv_str(b, &kv[0], "k", "a long enough value");
    model_attrs a = {kv, 1};
    buf out;
    buf_init(&out, 8);
    jw w;
    jw_init(&w, &out);
    model_json_attrs(&w, &a);
    ck_assert_int_eq(jw_error(&w), BUF_ETOOBIG);
    buf_free(&out);
    model_batch_free(b);
}
END_TEST

static Suite *model_json_suite(void) {
    Suite *s = suite_create("model_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_integers_beyond_2_53_are_strings);
    tcase_add_test(tc, test_bytes_arrays_kvlists);
    tcase_add_test(tc, test_hostile_strings_stay_valid_json);
    tcase_add_test(tc, test_sorted_attrs_are_canonical);
    tcase_add_test(tc, test_events_and_links);
    tcase_add_test(tc, test_point_data);
    tcase_add_test(tc, test_output_cap_reports_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(model_json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
