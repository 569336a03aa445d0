/* test_export_json.c - stored items as OTLP JSON (storage/export_json.c),
 * the writers both the SQLite and the ClickHouse export use: the resource
 * and scope framing (entries shared by consecutive items, schema URLs,
 * attributes in key order), spans, log records and data points from the
 * stored JSON texts, and what absent or damaged texts become. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/export_json.h"
#include "storage/model.h"

static char out_text[65536];

#define T(s) ((exj_text){(s), sizeof(s) - 1})
#define NONE ((exj_text){NULL, 0})

/* Renders with `call` (w in scope) into out_text. */
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

static const uint8_t tid[16] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff};
static const uint8_t sid[8] = {0xcd, 1, 2, 3, 4, 5, 6, 0xef};

/* Three items: two of resource 1 / scope 1, one of resource 1 / scope 2,
 * one of resource 2 / scope 2. Each item is the number 0. */
static void framing(jw *w) {
    exj_owner a = {.res_attrs = T("{\"z\":1,\"a\":\"x\",\"m\":{\"k\":true}}"),
                   .res_dropped = 2,
                   .res_schema = T("https://r/1"),
                   .scope_name = T("lib"),
                   .scope_version = T("1.0"),
                   .scope_attrs = T("{\"s\":2.5}"),
                   .scope_dropped = 1,
                   .scope_schema = T("https://s/1")};
    exj_owner b = a;
    b.scope_name = T("other");
    b.scope_version = NONE;
    b.scope_attrs = NONE;
    b.scope_schema = NONE;
    exj_owner c = b;
    c.res_attrs = T("not json");
    c.res_schema = NONE;
    exj_groups g = {.scopes = "scopeSpans", .items = "spans"};
    jw_object_begin(w);
    jw_key(w, "resourceSpans");
    jw_array_begin(w);
    exj_group(w, &g, 1, 1, &a);
    jw_int(w, 0);
    exj_group(w, &g, 1, 1, &a);
    jw_int(w, 0);
    exj_group(w, &g, 1, 2, &b);
    jw_int(w, 0);
    exj_group(w, &g, 2, 2, &c);
    jw_int(w, 0);
    exj_groups_close(w, &g);
    jw_array_end(w);
    jw_object_end(w);
}

START_TEST(test_framing_shares_entries_and_sorts_attributes) {
    RENDER(framing(w));
    ck_assert_str_eq(
        out_text,
        "{\"resourceSpans\":["
        "{\"resource\":{\"attributes\":["
        "{\"key\":\"a\",\"value\":{\"stringValue\":\"x\"}},"
        "{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":{\"boolValue\":true}}]}}},"
        "{\"key\":\"z\",\"value\":{\"intValue\":\"1\"}}],\"droppedAttributesCount\":2},"
        "\"scopeSpans\":["
        "{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\",\"attributes\":[{\"key\":\"s\",\"value\":{\"doubleValue\":2.5}}],"
        "\"droppedAttributesCount\":1},\"spans\":[0,0],\"schemaUrl\":\"https://s/1\"},"
        "{\"scope\":{\"name\":\"other\",\"version\":\"\",\"attributes\":[],\"droppedAttributesCount\":1},"
        "\"spans\":[0],\"schemaUrl\":\"\"}],"
        "\"schemaUrl\":\"https://r/1\"},"
        "{\"resource\":{\"attributes\":[],\"droppedAttributesCount\":2},\"scopeSpans\":["
        "{\"scope\":{\"name\":\"other\",\"version\":\"\",\"attributes\":[],\"droppedAttributesCount\":1},"
        "\"spans\":[0],\"schemaUrl\":\"\"}],\"schemaUrl\":\"\"}]}");
}
END_TEST

START_TEST(test_span) {
    exj_span s = {
        .trace_id = tid,
        .span_id = sid,
        .parent_span_id = NULL,
        .trace_state = T("k=v"),
        .flags = 257,
        .name = T("GET /a"),
        .kind = 2,
        .start_ns = 1700000000000000001ULL,
        .end_ns = 1700000000000000002ULL,
        .attrs = T("{\"b\":\"9007199254740993\",\"n\":-3,\"arr\":[1,\"x\",null]}"),
        .dropped_attrs = 4,
        .events = T("[{\"timeUnixNano\":\"5\",\"name\":\"ev\",\"attributes\":{\"e\":1},"
                    "\"droppedAttributesCount\":2}]"),
        .dropped_events = 5,
        .links = T("[{\"traceId\":\"aa\",\"spanId\":\"bb\",\"traceState\":\"t\",\"flags\":1,"
                   "\"attributes\":{},\"droppedAttributesCount\":0}]"),
        .dropped_links = 6,
        .status_code = 2,
        .status_message = NONE,
    };
    RENDER(exj_span_write(w, &s));
    ck_assert_str_eq(
        out_text,
        "{\"traceId\":\"ab0102030405060708090a0b0c0d0eff\",\"spanId\":\"cd010203040506ef\","
        "\"traceState\":\"k=v\",\"flags\":257,\"name\":\"GET /a\",\"kind\":2,"
        "\"startTimeUnixNano\":\"1700000000000000001\",\"endTimeUnixNano\":\"1700000000000000002\","
        "\"attributes\":[{\"key\":\"b\",\"value\":{\"stringValue\":\"9007199254740993\"}},"
        "{\"key\":\"n\",\"value\":{\"intValue\":\"-3\"}},"
        "{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},"
        "{\"stringValue\":\"x\"},{}]}}}],\"droppedAttributesCount\":4,"
        "\"events\":[{\"timeUnixNano\":\"5\",\"name\":\"ev\",\"attributes\":[{\"key\":\"e\","
        "\"value\":{\"intValue\":\"1\"}}],\"droppedAttributesCount\":2}],\"droppedEventsCount\":5,"
        "\"links\":[{\"traceId\":\"aa\",\"spanId\":\"bb\",\"traceState\":\"t\",\"flags\":1,"
        "\"attributes\":[],\"droppedAttributesCount\":0}],\"droppedLinksCount\":6,"
        "\"status\":{\"code\":2,\"message\":\"\"}}");
    /* a child, and texts that are absent or damaged */
    s.parent_span_id = sid;
    s.attrs = T("{\"broken\":");
    s.events = NONE;
    s.links = T("{}");
    RENDER(exj_span_write(w, &s));
    ck_assert_ptr_nonnull(strstr(out_text, "\"parentSpanId\":\"cd010203040506ef\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"attributes\":[],\"droppedAttributesCount\":4"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"events\":[],"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"links\":[],"));
}
END_TEST

START_TEST(test_log) {
    exj_log l = {
        .time_ns = 10,
        .observed_ns = 11,
        .severity = 17,
        .severity_text = T("ERROR"),
        .body = T("{\"k\":\"v\",\"d\":0.25}"),
        .attrs = T("{}"),
        .dropped_attrs = 1,
        .flags = 1,
        .trace_id = tid,
        .span_id = NULL,
        .event_name = T("my.event"),
    };
    RENDER(exj_log_write(w, &l));
    ck_assert_str_eq(out_text,
                     "{\"timeUnixNano\":\"10\",\"observedTimeUnixNano\":\"11\",\"severityNumber\":17,"
                     "\"severityText\":\"ERROR\",\"body\":{\"kvlistValue\":{\"values\":["
                     "{\"key\":\"k\",\"value\":{\"stringValue\":\"v\"}},"
                     "{\"key\":\"d\",\"value\":{\"doubleValue\":0.25}}]}},"
                     "\"attributes\":[],\"droppedAttributesCount\":1,\"flags\":1,"
                     "\"traceId\":\"ab0102030405060708090a0b0c0d0eff\",\"eventName\":\"my.event\"}");
    /* no body (JSON null or absent), no event name, no ids */
    l.body = T("null");
    l.event_name = T("");
    l.trace_id = NULL;
    l.severity_text = NONE;
    RENDER(exj_log_write(w, &l));
    ck_assert_str_eq(out_text,
                     "{\"timeUnixNano\":\"10\",\"observedTimeUnixNano\":\"11\",\"severityNumber\":17,"
                     "\"severityText\":\"\",\"attributes\":[],\"droppedAttributesCount\":1,"
                     "\"flags\":1}");
    l.body = NONE;
    RENDER(exj_log_write(w, &l));
    ck_assert_ptr_null(strstr(out_text, "body"));
    l.body = T("\"text\"");
    RENDER(exj_log_write(w, &l));
    ck_assert_ptr_nonnull(strstr(out_text, "\"body\":{\"stringValue\":\"text\"}"));
}
END_TEST

/* A sum's metric with one point of each value kind. */
static void sum_metric(jw *w) {
    exj_metric m = {.name = T("requests"), .description = NONE, .unit = T("1"),
                    .type = MODEL_METRIC_SUM, .temporality = 2, .monotonic = 1};
    int type = exj_metric_begin(w, &m);
    exj_point p = {.attrs = T("{\"route\":\"/a\"}"), .start_ns = 1, .time_ns = 2,
                   .value_kind = EXJ_VALUE_INT, .as_int = -9007199254740993LL, .flags = 1,
                   .exemplars = T("[{\"filteredAttributes\":{},\"timeUnixNano\":\"3\","
                                  "\"value\":\"18446744073709551615\",\"traceId\":\"\"}]")};
    exj_point_write(w, &p, type);
    p.value_kind = EXJ_VALUE_DOUBLE;
    p.as_double = 0.5;
    p.exemplars = NONE;
    exj_point_write(w, &p, type);
    p.value_kind = EXJ_VALUE_NAN;
    exj_point_write(w, &p, type);
    exj_metric_end(w);
}

START_TEST(test_sum_points) {
    RENDER(sum_metric(w));
    ck_assert_str_eq(
        out_text,
        "{\"name\":\"requests\",\"description\":\"\",\"unit\":\"1\",\"sum\":{"
        "\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
        "{\"attributes\":[{\"key\":\"route\",\"value\":{\"stringValue\":\"/a\"}}],"
        "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\",\"asInt\":\"-9007199254740993\","
        "\"flags\":1,\"exemplars\":[{\"filteredAttributes\":[],\"timeUnixNano\":\"3\","
        "\"asInt\":\"18446744073709551615\"}]},"
        "{\"attributes\":[{\"key\":\"route\",\"value\":{\"stringValue\":\"/a\"}}],"
        "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\",\"asDouble\":0.5,\"flags\":1,"
        "\"exemplars\":[]},"
        "{\"attributes\":[{\"key\":\"route\",\"value\":{\"stringValue\":\"/a\"}}],"
        "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\",\"asDouble\":\"NaN\",\"flags\":1,"
        "\"exemplars\":[]}]}}");
}
END_TEST

/* One point of a metric of `type` with the stored data `data`. */
static exj_text dist_data;
static int dist_type;
static void dist_metric(jw *w) {
    exj_metric m = {.name = T("d"), .type = dist_type, .temporality = 1};
    int type = exj_metric_begin(w, &m);
    exj_point p = {.attrs = NONE, .data = dist_data, .exemplars = NONE};
    exj_point_write(w, &p, type);
    exj_metric_end(w);
}

START_TEST(test_distribution_points) {
    dist_type = MODEL_METRIC_HISTOGRAM;
    dist_data = T("{\"count\":3,\"sum\":\"NaN\",\"min\":1,\"max\":2.5,\"bucketCounts\":[1,\"2\"],"
                  "\"explicitBounds\":[1.5,\"Infinity\"]}");
    RENDER(dist_metric(w));
    ck_assert_ptr_nonnull(strstr(out_text, "\"histogram\":{\"aggregationTemporality\":1,"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"count\":\"3\",\"sum\":\"NaN\",\"min\":1.0,\"max\":2.5,"
                                           "\"bucketCounts\":[\"1\",\"2\"],"
                                           "\"explicitBounds\":[1.5,\"Infinity\"]"));
    dist_type = MODEL_METRIC_EXP_HISTOGRAM;
    dist_data = T("{\"count\":4,\"scale\":-2,\"zeroCount\":1,\"zeroThreshold\":0.001,"
                  "\"positive\":{\"offset\":-1,\"bucketCounts\":[2,1]}}");
    RENDER(dist_metric(w));
    ck_assert_ptr_nonnull(strstr(out_text, "\"exponentialHistogram\":{"));
    ck_assert_ptr_nonnull(strstr(out_text,
                                 "\"count\":\"4\",\"scale\":-2,\"zeroCount\":\"1\","
                                 "\"zeroThreshold\":0.001,\"positive\":{\"offset\":-1,"
                                 "\"bucketCounts\":[\"2\",\"1\"]},\"negative\":{\"offset\":0,"
                                 "\"bucketCounts\":[]}"));
    dist_type = MODEL_METRIC_SUMMARY;
    dist_data = T("{\"count\":2,\"sum\":3,\"quantileValues\":[{\"quantile\":0.5,\"value\":1}]}");
    RENDER(dist_metric(w));
    ck_assert_ptr_nonnull(strstr(out_text, "\"summary\":{\"dataPoints\":"));
    ck_assert_ptr_nonnull(strstr(
        out_text, "\"count\":\"2\",\"sum\":3.0,\"quantileValues\":[{\"quantile\":0.5,\"value\":1.0}]"));
    /* damaged data: the point without it; an unknown type: a gauge */
    dist_type = 99;
    dist_data = T("[");
    RENDER(dist_metric(w));
    ck_assert_ptr_nonnull(strstr(out_text, "\"gauge\":{\"dataPoints\":[{\"attributes\":[],"));
    json_t *j = json_loads(out_text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST

static Suite *export_json_suite(void) {
    Suite *s = suite_create("export_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_framing_shares_entries_and_sorts_attributes);
    tcase_add_test(tc, test_span);
    tcase_add_test(tc, test_log);
    tcase_add_test(tc, test_sum_points);
    tcase_add_test(tc, test_distribution_points);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(export_json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
