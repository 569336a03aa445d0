/* test_otlp_json.c - OTLP JSON mapped onto the protobuf-c request structs
 * (server/decode/otlp_json.c, otlp_json_doc_parse): every field of each signal. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_fixture.h"

/* ---- traces ------------------------------------------------------------- */

START_TEST(traces_fixture_maps_every_field) {
    size_t len;
    char *json = read_fixture("traces.json", &len);
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, json, len, 0, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "%s", err);
    ck_assert(protobuf_c_message_check(doc.msg));
    const trace_req *r = (const trace_req *)doc.msg;
    ck_assert_uint_eq(r->n_resource_spans, 1);
    const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = r->resource_spans[0];
    ck_assert_str_eq(rs->schema_url, "https://opentelemetry.io/schemas/1.25.0");
    ck_assert_uint_eq(rs->resource->n_attributes, 3);
    ck_assert_str_eq(attr(rs->resource->attributes, 3, "service.name")->string_value, "checkout");
    ck_assert_int_eq(attr(rs->resource->attributes, 3, "process.pid")->int_value, 4242);
    const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];
    ck_assert_str_eq(ss->scope->name, "checkout-tracer");
    ck_assert_str_eq(ss->scope->version, "1.2.3");
    ck_assert_str_eq(ss->schema_url, "https://opentelemetry.io/schemas/1.24.0");
    ck_assert_uint_eq(ss->n_spans, 2);

    const pb_span *s = ss->spans[0];
    assert_hex(s->trace_id, "5b8efff798038103d269b633813fc60c");
    assert_hex(s->span_id, "eee19b7ec3c1b174");
    assert_hex(s->parent_span_id, "eee19b7ec3c1b173");
    ck_assert_str_eq(s->trace_state, "congo=t61rcWkgMzE");
    ck_assert_str_eq(s->name, "GET /cart");
    ck_assert_int_eq(s->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    ck_assert_uint_eq(s->start_time_unix_nano, 1700000000000000000ULL);
    ck_assert_uint_eq(s->end_time_unix_nano, 1700000000250000000ULL);
    ck_assert_uint_eq(s->flags, 257);
    ck_assert_uint_eq(s->dropped_attributes_count, 1);
    ck_assert_uint_eq(s->dropped_events_count, 2);
    ck_assert_uint_eq(s->n_attributes, 9);

    const pb_any *v = attr(s->attributes, s->n_attributes, "http.method");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    ck_assert_str_eq(v->string_value, "GET");
    v = attr(s->attributes, s->n_attributes, "http.ok");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
    ck_assert_int_eq(v->bool_value, 1);
    v = attr(s->attributes, s->n_attributes, "http.status_code");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    ck_assert_int_eq(v->int_value, 200);
    v = attr(s->attributes, s->n_attributes, "big");
    ck_assert(v->int_value == INT64_MIN);
    v = attr(s->attributes, s->n_attributes, "ratio");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    ck_assert_double_eq(v->double_value, 0.25);
    v = attr(s->attributes, s->n_attributes, "tags");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE);
    ck_assert_uint_eq(v->array_value->n_values, 2);
    ck_assert_str_eq(v->array_value->values[0]->string_value, "a");
    ck_assert_int_eq(v->array_value->values[1]->int_value, 7);
    v = attr(s->attributes, s->n_attributes, "map");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    ck_assert_uint_eq(v->kvlist_value->n_values, 1);
    ck_assert_str_eq(v->kvlist_value->values[0]->key, "inner");
    ck_assert_int_eq(v->kvlist_value->values[0]->value->value_case,
                     OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
    ck_assert_int_eq(v->kvlist_value->values[0]->value->bool_value, 0);
    v = attr(s->attributes, s->n_attributes, "raw");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE);
    ck_assert_uint_eq(v->bytes_value.len, 4);
    ck_assert_mem_eq(v->bytes_value.data, "\x00\x01\x02\xff", 4);
    v = attr(s->attributes, s->n_attributes, "empty");
    ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);

    ck_assert_uint_eq(s->n_events, 1);
    ck_assert_str_eq(s->events[0]->name, "cache miss");
    ck_assert_uint_eq(s->events[0]->time_unix_nano, 1700000000100000000ULL);
    ck_assert_str_eq(attr(s->events[0]->attributes, s->events[0]->n_attributes, "cache.key")
                         ->string_value,
                     "cart:42");
    ck_assert_uint_eq(s->n_links, 1);
    assert_hex(s->links[0]->trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_hex(s->links[0]->span_id, "b7ad6b7169203331");
    ck_assert_str_eq(s->links[0]->trace_state, "");
    ck_assert_uint_eq(s->links[0]->flags, 256);
    ck_assert_uint_eq(s->links[0]->n_attributes, 1);
    ck_assert_ptr_nonnull(s->status);
    ck_assert_int_eq(s->status->code, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    ck_assert_str_eq(s->status->message, "boom");

    s = ss->spans[1];
    ck_assert_uint_eq(s->parent_span_id.len, 0); /* "" is absent */
    ck_assert_int_eq(s->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
    ck_assert_uint_eq(s->start_time_unix_nano, 1700000000010000000ULL);
    ck_assert_uint_eq(s->end_time_unix_nano, 1700000000020000000ULL);
    ck_assert_uint_eq(s->n_attributes, 0);
    ck_assert_int_eq(s->status->code, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK);

    /* The struct packs, and unpacks to the same ids and names. */
    size_t plen;
    uint8_t *p = pack(doc.msg, &plen);
    trace_req *back = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, plen, p);
    ck_assert_ptr_nonnull(back);
    const pb_span *bs = back->resource_spans[0]->scope_spans[0]->spans[0];
    assert_hex(bs->trace_id, "5b8efff798038103d269b633813fc60c");
    ck_assert_str_eq(bs->name, "GET /cart");
    ck_assert_uint_eq(bs->n_attributes, 9);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(back,
                                                                                           NULL);
    free(p);
    otlp_json_doc_free(&doc);
    free(json);
}
END_TEST

START_TEST(snake_case_names_equal_camel_case) {
    assert_same(MODEL_SIGNAL_TRACES,
                "{\"resourceSpans\":[{\"schemaUrl\":\"u\",\"scopeSpans\":[{\"spans\":[{"
                "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
                "\"parentSpanId\":\"eee19b7ec3c1b173\",\"traceState\":\"x=y\","
                "\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"6\",\"droppedAttributesCount\":1,"
                "\"droppedEventsCount\":2,\"droppedLinksCount\":3,"
                "\"attributes\":[{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\","
                "\"value\":{\"arrayValue\":{\"values\":[{\"bytesValue\":\"AQ==\"},{\"doubleValue\":1.5},"
                "{\"intValue\":\"3\"},{\"boolValue\":true},{\"stringValue\":\"s\"}]}}}]}}}],"
                "\"events\":[{\"timeUnixNano\":\"7\",\"name\":\"e\"}]}]}]}]}",
                "{\"resource_spans\":[{\"schema_url\":\"u\",\"scope_spans\":[{\"spans\":[{"
                "\"trace_id\":\"5b8efff798038103d269b633813fc60c\",\"span_id\":\"eee19b7ec3c1b174\","
                "\"parent_span_id\":\"eee19b7ec3c1b173\",\"trace_state\":\"x=y\","
                "\"start_time_unix_nano\":\"5\",\"end_time_unix_nano\":\"6\","
                "\"dropped_attributes_count\":1,\"dropped_events_count\":2,\"dropped_links_count\":3,"
                "\"attributes\":[{\"key\":\"k\",\"value\":{\"kvlist_value\":{\"values\":[{\"key\":\"a\","
                "\"value\":{\"array_value\":{\"values\":[{\"bytes_value\":\"AQ==\"},{\"double_value\":1.5},"
                "{\"int_value\":\"3\"},{\"bool_value\":true},{\"string_value\":\"s\"}]}}}]}}}],"
                "\"events\":[{\"time_unix_nano\":\"7\",\"name\":\"e\"}]}]}]}]}");
    assert_same(MODEL_SIGNAL_LOGS,
                "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1\","
                "\"observedTimeUnixNano\":\"2\",\"severityNumber\":9,\"severityText\":\"I\","
                "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
                "\"eventName\":\"ev\",\"droppedAttributesCount\":4}]}]}]}",
                "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{\"time_unix_nano\":\"1\","
                "\"observed_time_unix_nano\":\"2\",\"severity_number\":9,\"severity_text\":\"I\","
                "\"trace_id\":\"5b8efff798038103d269b633813fc60c\",\"span_id\":\"eee19b7ec3c1b174\","
                "\"event_name\":\"ev\",\"dropped_attributes_count\":4}]}]}]}");
    assert_same(MODEL_SIGNAL_METRICS,
                "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\","
                "\"exponentialHistogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{"
                "\"startTimeUnixNano\":\"1\",\"zeroCount\":\"2\",\"zeroThreshold\":0.5,"
                "\"positive\":{\"bucketCounts\":[1,2]}}]}},{\"name\":\"h\",\"histogram\":{"
                "\"dataPoints\":[{\"bucketCounts\":[1],\"explicitBounds\":[],\"exemplars\":[{"
                "\"filteredAttributes\":[],\"asInt\":\"4\"}]}]}},{\"name\":\"s\",\"sum\":{"
                "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":1}]}},{\"name\":\"q\","
                "\"summary\":{\"dataPoints\":[{\"quantileValues\":[{\"quantile\":1,\"value\":2}]}]}}"
                "]}]}]}",
                "{\"resource_metrics\":[{\"scope_metrics\":[{\"metrics\":[{\"name\":\"m\","
                "\"exponential_histogram\":{\"aggregation_temporality\":2,\"data_points\":[{"
                "\"start_time_unix_nano\":\"1\",\"zero_count\":\"2\",\"zero_threshold\":0.5,"
                "\"positive\":{\"bucket_counts\":[1,2]}}]}},{\"name\":\"h\",\"histogram\":{"
                "\"data_points\":[{\"bucket_counts\":[1],\"explicit_bounds\":[],\"exemplars\":[{"
                "\"filtered_attributes\":[],\"as_int\":\"4\"}]}]}},{\"name\":\"s\",\"sum\":{"
                "\"is_monotonic\":true,\"data_points\":[{\"as_double\":1}]}},{\"name\":\"q\","
                "\"summary\":{\"data_points\":[{\"quantile_values\":[{\"quantile\":1,\"value\":2}]}]}}"
                "]}]}]}");
}
END_TEST

START_TEST(enum_names_equal_integers) {
    static const char *const kinds[][2] = {
        {"\"SPAN_KIND_UNSPECIFIED\"", "0"}, {"\"SPAN_KIND_INTERNAL\"", "1"},
        {"\"SPAN_KIND_SERVER\"", "2"},      {"\"SPAN_KIND_CLIENT\"", "3"},
        {"\"SPAN_KIND_PRODUCER\"", "4"},    {"\"SPAN_KIND_CONSUMER\"", "5"},
        {"\"3\"", "3"},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char a[256], b[256];
        snprintf(a, sizeof(a), "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"n\","
                 "\"kind\":%s}]}]}]}", kinds[i][0]);
        snprintf(b, sizeof(b), "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"n\","
                 "\"kind\":%s}]}]}]}", kinds[i][1]);
        assert_same(MODEL_SIGNAL_TRACES, a, b);
    }
    assert_same(MODEL_SIGNAL_TRACES, span_json("\"status\":{\"code\":\"STATUS_CODE_ERROR\"}"),
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":{\"code\":2}}]}]}]}");
    assert_same(MODEL_SIGNAL_LOGS,
                "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":"
                "\"SEVERITY_NUMBER_INFO\"},{\"severityNumber\":\"SEVERITY_NUMBER_FATAL4\"}]}]}]}",
                "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":9},"
                "{\"severityNumber\":24}]}]}]}");
    assert_same(MODEL_SIGNAL_METRICS,
                "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{"
                "\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\"}},{\"histogram\":{"
                "\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_DELTA\"}}]}]}]}",
                "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{"
                "\"aggregationTemporality\":2}},{\"histogram\":{\"aggregationTemporality\":1}}]}]}]}");

    /* An unknown name reads as unspecified; an unknown number is kept. */
    otlp_json_doc doc;
    parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json("\"kind\":\"SPAN_KIND_BOGUS\""));
    ck_assert_int_eq(only_span(&doc)->kind, 0);
    otlp_json_doc_free(&doc);
    parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json("\"kind\":17"));
    ck_assert_int_eq(only_span(&doc)->kind, 17);
    otlp_json_doc_free(&doc);
}
END_TEST

START_TEST(numbers_equal_strings_for_64_bit) {
    assert_same(MODEL_SIGNAL_TRACES,
                span_json("\"startTimeUnixNano\":1700000000000000000,\"endTimeUnixNano\":1e18,"
                          "\"flags\":\"257\",\"droppedAttributesCount\":2.0,"
                          "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":-5}},"
                          "{\"key\":\"b\",\"value\":{\"doubleValue\":3}}]"),
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
                "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":"
                "\"1000000000000000000\",\"flags\":257,\"droppedAttributesCount\":\"2\","
                "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"-5\"}},"
                "{\"key\":\"b\",\"value\":{\"doubleValue\":\"3\"}}]}]}]}]}");
    assert_same(MODEL_SIGNAL_METRICS,
                "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{"
                "\"dataPoints\":[{\"count\":10,\"bucketCounts\":[4,6],\"explicitBounds\":[\"1.5\"],"
                "\"sum\":\"2.5e1\"}]}}]}]}]}",
                "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{"
                "\"dataPoints\":[{\"count\":\"10\",\"bucketCounts\":[\"4\",\"6\"],"
                "\"explicitBounds\":[1.5],\"sum\":25}]}}]}]}]}");
}
END_TEST

START_TEST(huge_numbers) {
    otlp_json_doc doc;
    /* Strings reach the full range of uint64 and int64. */
    parse_ok(&doc, MODEL_SIGNAL_TRACES,
             span_json("\"startTimeUnixNano\":\"18446744073709551615\","
                       "\"attributes\":[{\"key\":\"max\",\"value\":{\"intValue\":"
                       "\"9223372036854775807\"}},{\"key\":\"min\",\"value\":{\"intValue\":"
                       "\"-9223372036854775808\"}}]"));
    const pb_span *s = only_span(&doc);
    ck_assert(s->start_time_unix_nano == UINT64_MAX);
    ck_assert(s->attributes[0]->value->int_value == INT64_MAX);
    ck_assert(s->attributes[1]->value->int_value == INT64_MIN);
    otlp_json_doc_free(&doc);

    /* One past the range, as a string, names the field. */
    const char *over_u64 = span_json("\"startTimeUnixNano\":\"18446744073709551616\"");
    parse_fail(MODEL_SIGNAL_TRACES, over_u64, strlen(over_u64), OTLP_EDECODE,
               "spans[0].startTimeUnixNano: integer out of range");
    const char *over_i64 =
        span_json("\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"9223372036854775808\"}}]");
    parse_fail(MODEL_SIGNAL_TRACES, over_i64, strlen(over_i64), OTLP_EDECODE,
               "attributes[0].value.intValue: integer out of range");
    const char *under_i64 =
        span_json("\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"-9223372036854775809\"}}]");
    parse_fail(MODEL_SIGNAL_TRACES, under_i64, strlen(under_i64), OTLP_EDECODE, "out of range");
    const char *over_u32 = span_json("\"flags\":4294967296");
    parse_fail(MODEL_SIGNAL_TRACES, over_u32, strlen(over_u32), OTLP_EDECODE,
               "spans[0].flags: integer out of range");
    const char *neg_u64 = span_json("\"startTimeUnixNano\":-1");
    parse_fail(MODEL_SIGNAL_TRACES, neg_u64, strlen(neg_u64), OTLP_EDECODE, "out of range");
    const char *neg_str = span_json("\"startTimeUnixNano\":\"-1\"");
    parse_fail(MODEL_SIGNAL_TRACES, neg_str, strlen(neg_str), OTLP_EDECODE,
               "startTimeUnixNano: expected an integer");
    const char *real_big = span_json("\"startTimeUnixNano\":1e20");
    parse_fail(MODEL_SIGNAL_TRACES, real_big, strlen(real_big), OTLP_EDECODE, "out of range");
    /* A JSON number beyond jansson's integer range fails the parse. */
    const char *num_big = span_json("\"startTimeUnixNano\":18446744073709551615");
    parse_fail(MODEL_SIGNAL_TRACES, num_big, strlen(num_big), OTLP_EDECODE, "invalid JSON");
    const char *real_inf = span_json("\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":1e999}}]");
    parse_fail(MODEL_SIGNAL_TRACES, real_inf, strlen(real_inf), OTLP_EDECODE, "invalid JSON");
    const char *str_inf =
        span_json("\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":\"1e999\"}}]");
    parse_fail(MODEL_SIGNAL_TRACES, str_inf, strlen(str_inf), OTLP_EDECODE, "expected a number");
    const char *long_digits = span_json("\"startTimeUnixNano\":\"000000000000000000000000000000000001\"");
    parse_ok(&doc, MODEL_SIGNAL_TRACES, long_digits);
    ck_assert_uint_eq(only_span(&doc)->start_time_unix_nano, 1);
    otlp_json_doc_free(&doc);
}
END_TEST

START_TEST(doubles_nan_and_infinity_strings) {
    otlp_json_doc doc;
    parse_ok(&doc, MODEL_SIGNAL_TRACES,
             span_json("\"attributes\":["
                       "{\"key\":\"a\",\"value\":{\"doubleValue\":\"NaN\"}},"
                       "{\"key\":\"b\",\"value\":{\"doubleValue\":\"Infinity\"}},"
                       "{\"key\":\"c\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
                       "{\"key\":\"d\",\"value\":{\"doubleValue\":\"-0.5e-3\"}},"
                       "{\"key\":\"e\",\"value\":{\"doubleValue\":7}}]"));
    const pb_span *s = only_span(&doc);
    ck_assert(isnan(s->attributes[0]->value->double_value));
    ck_assert(isinf(s->attributes[1]->value->double_value) && s->attributes[1]->value->double_value > 0);
    ck_assert(isinf(s->attributes[2]->value->double_value) && s->attributes[2]->value->double_value < 0);
    ck_assert_double_eq(s->attributes[3]->value->double_value, -0.0005);
    ck_assert_double_eq(s->attributes[4]->value->double_value, 7.0);
    ck_assert_int_eq(s->attributes[4]->value->value_case,
                     OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    otlp_json_doc_free(&doc);

    static const char *const bad[] = {"\"nan\"", "\"inf\"", "\"0x10\"", "\" 1\"", "\"1 \"",
                                      "\"\"",    "\"-\"",   "\"e\"",    "true",   "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char f[128];
        snprintf(f, sizeof(f), "\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":%s}}]",
                 bad[i]);
        const char *j = span_json(f);
        parse_fail(MODEL_SIGNAL_TRACES, j, strlen(j), OTLP_EDECODE, "doubleValue: expected a number");
    }
}
END_TEST

START_TEST(hex_ids) {
    otlp_json_doc doc;
    /* Either case; the decoded bytes are the same. */
    parse_ok(&doc, MODEL_SIGNAL_TRACES,
             span_json("\"traceId\":\"ABCDEFabcdef0123456789ABCDEF0123\",\"spanId\":\"00000000000000FF\""));
    assert_hex(only_span(&doc)->trace_id, "abcdefabcdef0123456789abcdef0123");
    assert_hex(only_span(&doc)->span_id, "00000000000000ff");
    otlp_json_doc_free(&doc);

    /* Not hex, odd length: a 1-byte id, so the converter rejects the item. */
    static const char *const bad[] = {"zz", "abc", "5b8efff798038103d269b633813fc60g",
                                      "5b8efff798038103d269b633813fc60 ", "0x12", "AQID/w=="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char f[256];
        snprintf(f, sizeof(f), "\"traceId\":\"%s\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\"", bad[i],
                 bad[i], bad[i]);
        parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json(f));
        const pb_span *s = only_span(&doc);
        ck_assert_uint_eq(s->trace_id.len, 1);
        ck_assert_uint_eq(s->span_id.len, 1);
        ck_assert_uint_eq(s->parent_span_id.len, 1);
        otlp_json_doc_free(&doc);
    }
    /* Valid hex of the wrong length keeps its length (the converter decides). */
    parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json("\"traceId\":\"0102\",\"spanId\":\"\""));
    ck_assert_uint_eq(only_span(&doc)->trace_id.len, 2);
    ck_assert_uint_eq(only_span(&doc)->span_id.len, 0);
    otlp_json_doc_free(&doc);

    /* Ids in links, logs and exemplars are hex too. */
    parse_ok(&doc, MODEL_SIGNAL_LOGS,
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":"
             "\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"nothex!!\"}]}]}]}");
    const pb_log *l = ((const logs_req *)doc.msg)->resource_logs[0]->scope_logs[0]->log_records[0];
    assert_hex(l->trace_id, "0af7651916cd43dd8448eb211c80319c");
    ck_assert_uint_eq(l->span_id.len, 1);
    otlp_json_doc_free(&doc);
    parse_ok(&doc, MODEL_SIGNAL_METRICS,
             "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":[{"
             "\"exemplars\":[{\"spanId\":\"B7AD6B7169203331\",\"traceId\":\"x\"}]}]}}]}]}]}");
    const Opentelemetry__Proto__Metrics__V1__Exemplar *ex =
        ((const metrics_req *)doc.msg)->resource_metrics[0]->scope_metrics[0]->metrics[0]->gauge
            ->data_points[0]->exemplars[0];
    assert_hex(ex->span_id, "b7ad6b7169203331");
    ck_assert_uint_eq(ex->trace_id.len, 1);
    otlp_json_doc_free(&doc);

    /* An id that is not a string is a type error. */
    const char *j = span_json("\"traceId\":5");
    parse_fail(MODEL_SIGNAL_TRACES, j, strlen(j), OTLP_EDECODE, "spans[0].traceId: expected a hex string");
}
END_TEST

START_TEST(bytes_value_base64) {
    static const struct {
        const char *in;
        const char *out;
        size_t len;
    } cases[] = {
        {"", "", 0},           {"QQ==", "A", 1},       {"QQ", "A", 1},
        {"QUI=", "AB", 2},     {"QUJD", "ABC", 3},     {"-_8=", "\xfb\xff", 2},
        {"+/8", "\xfb\xff", 2}, {"AAEC/w==", "\x00\x01\x02\xff", 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char f[256];
        snprintf(f, sizeof(f), "\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"%s\"}}]",
                 cases[i].in);
        otlp_json_doc doc;
        parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json(f));
        const pb_any *v = only_span(&doc)->attributes[0]->value;
        ck_assert_int_eq(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE);
        ck_assert_uint_eq(v->bytes_value.len, cases[i].len);
        if (cases[i].len)
            ck_assert_mem_eq(v->bytes_value.data, cases[i].out, cases[i].len);
        otlp_json_doc_free(&doc);
    }
    static const char *const bad[] = {"Q", "QQ=A", "Q===", "!!!!", "QQ==QQ==", "QUJDR"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char f[256];
        snprintf(f, sizeof(f), "\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"%s\"}}]",
                 bad[i]);
        const char *j = span_json(f);
        parse_fail(MODEL_SIGNAL_TRACES, j, strlen(j), OTLP_EDECODE, "bytesValue: invalid base64");
    }
}
END_TEST

START_TEST(unknown_fields_and_nulls_are_ignored) {
    assert_same(MODEL_SIGNAL_TRACES,
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"n\",\"kind\":2}]}]}]}",
                "{\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"resourceSpans\":[null,{\"future\":1,"
                "\"resource\":null,\"scopeSpans\":[{\"scope\":null,\"spans\":[{\"name\":\"n\","
                "\"kind\":2,\"status\":null,\"attributes\":null,\"traceId\":null,\"Name\":5,"
                "\"nameX\":{},\"somethingNew\":[{}]}]}]}]}");
    /* jansson refuses a NUL in a key: a clean decode error. */
    const char *nul_key = span_json("\"na\\u0000me\":\"x\"");
    parse_fail(MODEL_SIGNAL_TRACES, nul_key, strlen(nul_key), OTLP_EDECODE, "invalid JSON");
    /* Duplicate keys: the last one wins (jansson's default). */
    otlp_json_doc doc;
    parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json("\"name\":\"a\",\"name\":\"b\""));
    ck_assert_str_eq(only_span(&doc)->name, "b");
    otlp_json_doc_free(&doc);
    /* An escaped NUL ends the string, as a C string on the protobuf path. */
    parse_ok(&doc, MODEL_SIGNAL_TRACES, span_json("\"name\":\"a\\u0000b\""));
    ck_assert_str_eq(only_span(&doc)->name, "a");
    otlp_json_doc_free(&doc);
    /* An empty object is an empty request. */
    parse_ok(&doc, MODEL_SIGNAL_METRICS, "{}");
    ck_assert_uint_eq(((const metrics_req *)doc.msg)->n_resource_metrics, 0);
    otlp_json_doc_free(&doc);
}
END_TEST

/* ---- logs --------------------------------------------------------------- */

START_TEST(logs_fixture_maps_every_field) {
    size_t len;
    char *json = read_fixture("logs.json", &len);
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_LOGS, json, len, 0, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "%s", err);
    ck_assert(protobuf_c_message_check(doc.msg));
    const logs_req *r = (const logs_req *)doc.msg;
    const Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = r->resource_logs[0]->scope_logs[0];
    ck_assert_str_eq(r->resource_logs[0]->resource->attributes[0]->value->string_value, "billing");
    ck_assert_str_eq(sl->scope->name, "billing-logger");
    ck_assert_uint_eq(sl->n_log_records, 5);

    const pb_log *l = sl->log_records[0];
    ck_assert_uint_eq(l->time_unix_nano, 1700000001000000000ULL);
    ck_assert_uint_eq(l->observed_time_unix_nano, 1700000001000000500ULL);
    ck_assert_int_eq(l->severity_number, 9);
    ck_assert_str_eq(l->severity_text, "INFO");
    ck_assert_str_eq(l->body->string_value, "payment accepted");
    ck_assert_double_eq(l->attributes[0]->value->double_value, 12.5);
    ck_assert_uint_eq(l->flags, 1);
    assert_hex(l->trace_id, "5b8efff798038103d269b633813fc60c");
    assert_hex(l->span_id, "eee19b7ec3c1b174");

    l = sl->log_records[1];
    ck_assert_int_eq(l->severity_number, OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR);
    ck_assert_str_eq(l->event_name, "payment.failed");
    ck_assert_int_eq(l->body->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    ck_assert_uint_eq(l->body->kvlist_value->n_values, 2);
    const pb_any *codes = l->body->kvlist_value->values[1]->value;
    ck_assert_uint_eq(codes->array_value->n_values, 2);
    ck_assert_int_eq(codes->array_value->values[0]->int_value, 51);
    ck_assert_int_eq(codes->array_value->values[1]->int_value, 5);
    ck_assert_uint_eq(l->trace_id.len, 0);

    l = sl->log_records[2];
    ck_assert_uint_eq(l->time_unix_nano, 0);
    ck_assert_int_eq(l->body->int_value, -17);
    ck_assert_uint_eq(l->trace_id.len, 0);
    ck_assert_uint_eq(l->span_id.len, 0);

    l = sl->log_records[3];
    ck_assert_int_eq(l->severity_number, 24);
    ck_assert_uint_eq(l->body->bytes_value.len, 5);
    ck_assert_mem_eq(l->body->bytes_value.data, "hello", 5);

    l = sl->log_records[4];
    ck_assert_uint_eq(l->body->array_value->n_values, 2);
    ck_assert(isnan(l->body->array_value->values[1]->double_value));

    size_t plen;
    free(pack(doc.msg, &plen));
    otlp_json_doc_free(&doc);
    free(json);
}
END_TEST

/* ---- metrics ------------------------------------------------------------ */

START_TEST(metrics_fixture_maps_every_field) {
    size_t len;
    char *json = read_fixture("metrics.json", &len);
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_METRICS, json, len, 0, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "%s", err);
    ck_assert(protobuf_c_message_check(doc.msg));
    const metrics_req *r = (const metrics_req *)doc.msg;
    const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = r->resource_metrics[0]->scope_metrics[0];
    ck_assert_str_eq(sm->scope->version, "0.1");
    ck_assert_uint_eq(sm->n_metrics, 6);

    const pb_metric *m = sm->metrics[0];
    ck_assert_str_eq(m->name, "memory.usage");
    ck_assert_str_eq(m->description, "heap in use");
    ck_assert_str_eq(m->unit, "By");
    ck_assert_int_eq(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *np = m->gauge->data_points[0];
    ck_assert_int_eq(np->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    ck_assert_double_eq(np->as_double, 1048576.5);
    ck_assert_uint_eq(np->start_time_unix_nano, 1700000000000000000ULL);
    ck_assert_uint_eq(np->time_unix_nano, 1700000010000000000ULL);
    ck_assert_str_eq(np->attributes[0]->value->string_value, "old");

    m = sm->metrics[1];
    ck_assert_int_eq(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    ck_assert_int_eq(m->sum->is_monotonic, 1);
    ck_assert_int_eq(m->sum->aggregation_temporality, 2);
    np = m->sum->data_points[0];
    ck_assert_int_eq(np->value_case, OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
    ck_assert(np->as_int == 9007199254740993LL); /* not representable as a double */
    ck_assert_uint_eq(np->n_exemplars, 1);
    const Opentelemetry__Proto__Metrics__V1__Exemplar *ex = np->exemplars[0];
    ck_assert_int_eq(ex->value_case, OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT);
    ck_assert_int_eq(ex->as_int, 3);
    ck_assert_uint_eq(ex->time_unix_nano, 1700000005000000000ULL);
    assert_hex(ex->trace_id, "5b8efff798038103d269b633813fc60c");
    assert_hex(ex->span_id, "eee19b7ec3c1b174");
    ck_assert_str_eq(ex->filtered_attributes[0]->key, "user");

    m = sm->metrics[2];
    ck_assert_int_eq(m->sum->is_monotonic, 0);
    ck_assert_int_eq(m->sum->aggregation_temporality, 1);
    ck_assert_double_eq(m->sum->data_points[0]->as_double, -2.5);

    m = sm->metrics[3];
    ck_assert_int_eq(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
    ck_assert_int_eq(m->histogram->aggregation_temporality, 2);
    ck_assert_uint_eq(m->histogram->n_data_points, 2);
    const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = m->histogram->data_points[0];
    ck_assert_uint_eq(hp->count, 6);
    ck_assert_int_eq(hp->sum_present_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM);
    ck_assert_double_eq(hp->sum, 270.5);
    ck_assert_int_eq(hp->min_present_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN);
    ck_assert_double_eq(hp->min, 1.0);
    ck_assert_int_eq(hp->max_present_case, OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX);
    ck_assert_double_eq(hp->max, 200.0);
    ck_assert_uint_eq(hp->n_bucket_counts, 3);
    ck_assert_uint_eq(hp->bucket_counts[0], 1);
    ck_assert_uint_eq(hp->bucket_counts[1], 2);
    ck_assert_uint_eq(hp->bucket_counts[2], 3);
    ck_assert_uint_eq(hp->n_explicit_bounds, 2);
    ck_assert_double_eq(hp->explicit_bounds[0], 10.0);
    ck_assert_double_eq(hp->explicit_bounds[1], 100.0);
    ck_assert_int_eq(hp->exemplars[0]->value_case, OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE);
    ck_assert_double_eq(hp->exemplars[0]->as_double, 12.5);
    hp = m->histogram->data_points[1];
    ck_assert_int_eq(hp->sum_present_case, 0); /* optional sum/min/max absent */
    ck_assert_int_eq(hp->min_present_case, 0);
    ck_assert_int_eq(hp->max_present_case, 0);
    ck_assert_uint_eq(hp->n_bucket_counts, 0);
    ck_assert_uint_eq(hp->flags, 1);

    m = sm->metrics[4];
    ck_assert_int_eq(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM);
    ck_assert_int_eq(m->exponential_histogram->aggregation_temporality, 1);
    const Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *ep =
        m->exponential_histogram->data_points[0];
    ck_assert_uint_eq(ep->count, 11);
    ck_assert_int_eq(ep->scale, -1);
    ck_assert_uint_eq(ep->zero_count, 1);
    ck_assert_double_eq(ep->zero_threshold, 0.001);
    ck_assert_int_eq(ep->positive->offset, -2);
    ck_assert_uint_eq(ep->positive->n_bucket_counts, 2);
    ck_assert_uint_eq(ep->positive->bucket_counts[1], 5);
    ck_assert_int_eq(ep->negative->offset, 1);
    ck_assert_uint_eq(ep->negative->bucket_counts[0], 1);
    ck_assert_double_eq(ep->sum, 40.0);
    ck_assert_double_eq(ep->min, -3.5);
    ck_assert(isinf(ep->max) && ep->max > 0);
    ck_assert_int_ne(ep->max_present_case, 0);

    m = sm->metrics[5];
    ck_assert_int_eq(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY);
    const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint *qp = m->summary->data_points[0];
    ck_assert_uint_eq(qp->count, 4);
    ck_assert_double_eq(qp->sum, 10.0);
    ck_assert_uint_eq(qp->n_quantile_values, 2);
    ck_assert_double_eq(qp->quantile_values[0]->quantile, 0.5);
    ck_assert_double_eq(qp->quantile_values[0]->value, 2.0);
    ck_assert(isinf(qp->quantile_values[1]->value) && qp->quantile_values[1]->value < 0);

    size_t plen;
    uint8_t *p = pack(doc.msg, &plen);
    metrics_req *back = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, plen, p);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back->resource_metrics[0]->scope_metrics[0]->n_metrics, 6);
    ck_assert_uint_eq(back->resource_metrics[0]->scope_metrics[0]->metrics[3]->histogram->data_points[0]
                          ->bucket_counts[2],
                      3);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(back,
                                                                                               NULL);
    free(p);
    otlp_json_doc_free(&doc);
    free(json);
}
END_TEST

/* ---- the official JS exporter's payloads -------------------------------- */

/* The JS SDK serialized the same telemetry as OTLP JSON and as protobuf
 * (fixtures/make_js_fixtures.mjs): the JSON must map onto exactly the
 * message the protobuf encodes. Both are packed by protobuf-c to compare. */
static void check_js_fixture(model_signal sig, const char *name,
                             const ProtobufCMessageDescriptor *desc) {
    char file[64];
    size_t jlen, plen;
    snprintf(file, sizeof(file), "js_%s.json", name);
    char *json = read_fixture(file, &jlen);
    snprintf(file, sizeof(file), "js_%s.pb", name);
    char *pbraw = read_fixture(file, &plen);
    ck_assert_uint_gt(plen, 100);

    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, sig, json, jlen, 0, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "%s: %s", name, err);
    ProtobufCMessage *want = protobuf_c_message_unpack(desc, NULL, plen, (const uint8_t *)pbraw);
    ck_assert_ptr_nonnull(want);

    size_t la, lb;
    uint8_t *a = pack(doc.msg, &la);
    uint8_t *b = pack(want, &lb);
    ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s: JSON and protobuf differ (%zu vs %zu bytes)",
                  name, la, lb);
    free(a);
    free(b);
    protobuf_c_message_free_unpacked(want, NULL);
    otlp_json_doc_free(&doc);
    free(pbraw);
    free(json);
}

START_TEST(js_exporter_json_equals_its_protobuf) {
    check_js_fixture(MODEL_SIGNAL_TRACES, "traces",
                     &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor);
    check_js_fixture(MODEL_SIGNAL_LOGS, "logs",
                     &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor);
    check_js_fixture(MODEL_SIGNAL_METRICS, "metrics",
                     &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor);
    check_js_fixture(MODEL_SIGNAL_METRICS, "metrics_delta",
                     &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor);
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_json");
    TCase *tc = tcase_create("map");
    tcase_add_test(tc, traces_fixture_maps_every_field);
    tcase_add_test(tc, logs_fixture_maps_every_field);
    tcase_add_test(tc, metrics_fixture_maps_every_field);
    tcase_add_test(tc, snake_case_names_equal_camel_case);
    tcase_add_test(tc, enum_names_equal_integers);
    tcase_add_test(tc, numbers_equal_strings_for_64_bit);
    tcase_add_test(tc, huge_numbers);
    tcase_add_test(tc, doubles_nan_and_infinity_strings);
    tcase_add_test(tc, hex_ids);
    tcase_add_test(tc, bytes_value_base64);
    tcase_add_test(tc, unknown_fields_and_nulls_are_ignored);
    tcase_add_test(tc, js_exporter_json_equals_its_protobuf);
    suite_add_tcase(s, tc);
    return decode_run(s);
}
