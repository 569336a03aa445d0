/* test_otlp_json.c - OTLP JSON mapping (server/otlp_json.c) and JSON answers. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/decode/otlp.h"
#include "server/decode/otlp_internal.h"
#include "server/decode/otlp_json_internal.h"

#define FIXTURES "tests/unit/server/fixtures/"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_req;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Logs__V1__LogRecord pb_log;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;

/* ---- helpers ------------------------------------------------------------ */

static char *read_fixture(const char *name, size_t *len) {
    char path[256];
    snprintf(path, sizeof(path), FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (run from the repository root)", path);
    char *data = malloc(1 << 20);
    ck_assert_ptr_nonnull(data);
    size_t n = fread(data, 1, (1 << 20) - 1, f);
    ck_assert(feof(f));
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

static int parse(otlp_json_doc *doc, model_signal sig, const char *json, char *err, size_t errlen) {
    return otlp_json_doc_parse(doc, sig, json, strlen(json), 0, err, errlen);
}

/* Parses json, which must succeed, and checks the struct is well-formed. */
static void parse_ok(otlp_json_doc *doc, model_signal sig, const char *json) {
    char err[256] = "";
    int rc = parse(doc, sig, json, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(doc->msg);
    ck_assert(protobuf_c_message_check(doc->msg));
}

/* Parses json, which must fail with `want`, and checks err contains `needle`. */
static void parse_fail(model_signal sig, const char *json, size_t len, int want, const char *needle) {
    otlp_json_doc doc;
    char err[256] = "";
    int rc = otlp_json_doc_parse(&doc, sig, json, len, 0, err, sizeof(err));
    ck_assert_msg(rc == want, "rc %d, want %d (%s) for %.80s", rc, want, err, json);
    ck_assert_ptr_null(doc.msg);
    ck_assert_ptr_null(doc.root);
    ck_assert_ptr_null(doc.arena);
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
    otlp_json_doc_free(&doc);
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(protobuf_c_message_pack(m, p), *len);
    return p;
}

/* Both JSON texts must map to the same protobuf message (same wire bytes). */
static void assert_same(model_signal sig, const char *a, const char *b) {
    otlp_json_doc da, db;
    parse_ok(&da, sig, a);
    parse_ok(&db, sig, b);
    size_t la, lb;
    uint8_t *pa = pack(da.msg, &la);
    uint8_t *pb = pack(db.msg, &lb);
    ck_assert_msg(la == lb && memcmp(pa, pb, la) == 0, "different messages:\n%s\n%s", a, b);
    ck_assert_uint_gt(la, 0);
    free(pa);
    free(pb);
    otlp_json_doc_free(&da);
    otlp_json_doc_free(&db);
}

static void assert_hex(ProtobufCBinaryData d, const char *hex) {
    char got[80] = "";
    ck_assert_uint_lt(d.len, 39);
    model_hex_encode(d.data, d.len, got);
    ck_assert_str_eq(got, hex);
}

static const pb_any *attr(pb_kv **kv, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i]->value;
    ck_abort_msg("attribute %s missing", key);
    return NULL;
}

/* A span JSON with the given fields inside it, wrapped in a request. */
static char *span_json(const char *fields) {
    static char out[8192];
    snprintf(out, sizeof(out),
             "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{%s}]}]}]}", fields);
    return out;
}

static const pb_span *only_span(const otlp_json_doc *doc) {
    const trace_req *r = (const trace_req *)doc->msg;
    ck_assert_uint_eq(r->n_resource_spans, 1);
    ck_assert_uint_eq(r->resource_spans[0]->n_scope_spans, 1);
    ck_assert_uint_eq(r->resource_spans[0]->scope_spans[0]->n_spans, 1);
    return r->resource_spans[0]->scope_spans[0]->spans[0];
}

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

START_TEST(wrong_types_name_the_field) {
    static const struct {
        model_signal sig;
        const char *json;
        const char *needle;
    } cases[] = {
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":5}", "OTLP JSON: resourceSpans: expected an array, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":{}}", "resourceSpans: expected an array, got an object"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[5]}", "resourceSpans[0]: expected an object, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":5}]}]}",
         "resourceSpans[0].scopeSpans[0].spans: expected an array, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{},{\"spans\":[{},{\"name\":{}}]}]}]}",
         "resourceSpans[0].scopeSpans[1].spans[1].name: expected a string, got an object"},
        {MODEL_SIGNAL_TRACES, "{\"resource_spans\":[{\"resource\":[]}]}",
         "resource_spans[0].resource: expected an object, got an array"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":true}]}]}]}",
         "spans[0].kind: expected an integer, got a boolean"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":1.5}]}]}]}",
         "spans[0].kind: expected an integer"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"12abc\"}]}]}]}",
         "startTimeUnixNano: expected an integer, got the string \"12abc\""},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"\"}]}]}]}",
         "startTimeUnixNano: expected an integer"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":[]}]}]}]}",
         "startTimeUnixNano: expected an integer, got an array"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":1}]}]}]}]}",
         "spans[0].attributes[0].key: expected a string, got a number"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"boolValue\":\"true\"}}]}]}]}]}",
         "attributes[0].value.boolValue: expected a boolean, got a string"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":{\"values\":{}}}}]}]}]}]}",
         "value.arrayValue.values: expected an array, got an object"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":\"str\"}]}]}]}]}",
         "attributes[0].value: expected an object, got a string"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":{\"code\":{}}}]}]}]}",
         "spans[0].status.code: expected an integer, got an object"},
        {MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":\"hello\"}]}]}]}",
         "logRecords[0].body: expected an object, got a string"},
        {MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":[9]}]}]}]}",
         "logRecords[0].severityNumber: expected an integer, got an array"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[1,null]}]}}]}]}]}",
         "dataPoints[0].bucketCounts[1]: null is not allowed here"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[1,\"x\"]}]}}]}]}]}",
         "explicitBounds[1]: expected a number, got the string \"x\""},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{\"isMonotonic\":1}}]}]}]}",
         "metrics[0].sum.isMonotonic: expected a boolean, got a number"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":[{\"asInt\":1.5}]}}]}]}]}",
         "dataPoints[0].asInt: expected an integer"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":2147483648}]}}]}]}]}",
         "dataPoints[0].scale: integer out of range"},
        {MODEL_SIGNAL_METRICS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"summary\":[]}]}]}]}",
         "metrics[0].summary: expected an object, got an array"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fail(cases[i].sig, cases[i].json, strlen(cases[i].json), OTLP_EDECODE, cases[i].needle);
}
END_TEST

START_TEST(invalid_and_truncated_json) {
    size_t len;
    char *json = read_fixture("traces.json", &len);
    /* Every proper prefix of a valid request is invalid JSON, never a crash. */
    for (size_t n = 0; n < len; n++) {
        /* whitespace-only tails are still valid: skip them */
        if (n > 0 && strspn(json + n, " \n\t\r") == len - n)
            break;
        otlp_json_doc doc;
        char err[256];
        int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, json, n, 0, err, sizeof(err));
        ck_assert_msg(rc == OTLP_EDECODE, "prefix %zu: rc %d", n, rc);
        ck_assert_msg(strstr(err, "invalid JSON") != NULL, "prefix %zu: %s", n, err);
    }
    free(json);

    parse_fail(MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{", 19, OTLP_EDECODE, "line 1, column 19");
    parse_fail(MODEL_SIGNAL_TRACES, "", 0, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, NULL, 0, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{} {}", 5, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":1,}", 8, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":'x'}", 9, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\"\xff\"}", 8, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\"\\ud800\"}", 14, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\0}", 7, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{}\0", 3, OTLP_EDECODE, "invalid JSON");
    /* The root must be an object. */
    parse_fail(MODEL_SIGNAL_TRACES, "[]", 2, OTLP_EDECODE, "must be a JSON object, got an array");
    parse_fail(MODEL_SIGNAL_TRACES, "[{\"resourceSpans\":[]}]", 22, OTLP_EDECODE, "must be a JSON object");
    parse_fail(MODEL_SIGNAL_TRACES, "42", 2, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "\"x\"", 3, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "null", 4, OTLP_EDECODE, "invalid JSON");
    /* The body need not be NUL-terminated: only len bytes are read. */
    parse_fail(MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[]}", 10, OTLP_EDECODE, "invalid JSON");
    /* An unknown signal. */
    parse_fail((model_signal)7, "{}", 2, OTLP_EDECODE, "unknown signal");
    /* errlen 0 and a NULL err are allowed. */
    otlp_json_doc doc;
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, "[", 1, 0, NULL, 0), OTLP_EDECODE);
    char tiny[4] = "xyz";
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, "{\"resourceSpans\":1}", 19, 0,
                                         tiny, sizeof(tiny)),
                     OTLP_EDECODE);
    ck_assert_str_eq(tiny, "OTL");
}
END_TEST

/* {"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":
 * <levels nested arrayValues around {"stringValue":"leaf"}>}]}]}]}]} */
static char *nested_value_json(size_t levels, int kvlist) {
    const char *open = kvlist ? "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
                              : "{\"arrayValue\":{\"values\":[";
    const char *close = kvlist ? "}]}}" : "]}}";
    const char *head = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":"
                       "\"k\",\"value\":";
    const char *leaf = "{\"stringValue\":\"leaf\"}";
    const char *tail = "}]}]}]}]}";
    size_t cap = strlen(head) + levels * (strlen(open) + strlen(close)) + strlen(leaf) + strlen(tail) + 1;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t o = 0;
#define PUT(x)                                                                                     \
    do {                                                                                           \
        size_t n_ = strlen(x);                                                                     \
        memcpy(s + o, x, n_);                                                                      \
        o += n_;                                                                                   \
    } while (0)
    PUT(head);
    for (size_t i = 0; i < levels; i++)
        PUT(open);
    PUT(leaf);
    for (size_t i = 0; i < levels; i++)
        PUT(close);
    PUT(tail);
#undef PUT
    s[o] = '\0';
    ck_assert_uint_lt(o, cap);
    return s;
}

/* Counts nested containers in a mapped AnyValue; *leaf gets the innermost. */
static size_t count_containers(const pb_any *v, const pb_any **leaf) {
    size_t n = 0;
    for (size_t guard = 0; guard < 100000; guard++) {
        if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE) {
            n++;
            if (v->array_value->n_values == 0)
                break;
            v = v->array_value->values[0];
        } else if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE) {
            n++;
            if (v->kvlist_value->n_values == 0)
                break;
            v = v->kvlist_value->values[0]->value;
        } else {
            break;
        }
    }
    *leaf = v;
    return n;
}

START_TEST(deep_values_are_cut_one_past_the_limit) {
    for (int kv = 0; kv <= 1; kv++) {
        /* Up to the cap: mapped whole, down to the leaf. */
        for (size_t levels = MODEL_MAX_VALUE_DEPTH - 1; levels <= OTLP_JSON_MAX_VALUE_DEPTH; levels++) {
            char *json = nested_value_json(levels, kv);
            otlp_json_doc doc;
            parse_ok(&doc, MODEL_SIGNAL_TRACES, json);
            const pb_any *leaf;
            ck_assert_uint_eq(count_containers(only_span(&doc)->attributes[0]->value, &leaf), levels);
            ck_assert_int_eq(leaf->value_case,
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
            ck_assert_str_eq(leaf->string_value, "leaf");
            otlp_json_doc_free(&doc);
            free(json);
        }
        /* Deeper (up to what jansson parses): cut to cap + 1 containers, the
         * last one empty, so the value is still too deep for the converter. */
        static const size_t deep[] = {OTLP_JSON_MAX_VALUE_DEPTH + 1, OTLP_JSON_MAX_VALUE_DEPTH + 2, 100, 500};
        for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
            char *json = nested_value_json(deep[i], kv);
            otlp_json_doc doc;
            parse_ok(&doc, MODEL_SIGNAL_TRACES, json);
            const pb_any *leaf;
            ck_assert_uint_eq(count_containers(only_span(&doc)->attributes[0]->value, &leaf),
                              OTLP_JSON_MAX_VALUE_DEPTH + 1);
            ck_assert_uint_gt(OTLP_JSON_MAX_VALUE_DEPTH + 1, MODEL_MAX_VALUE_DEPTH);
            ck_assert_int_ne(leaf->value_case,
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
            otlp_json_doc_free(&doc);
            free(json);
        }
    }
}
END_TEST

START_TEST(ten_thousand_deep_nesting) {
    /* Plain arrays inside an unknown field, AnyValues, and objects: jansson
     * refuses them (depth > 2048) with a clean error. */
    const size_t depth = 10000;
    char *s = malloc(2 * depth + 64);
    ck_assert_ptr_nonnull(s);
    size_t o = 0;
    o += (size_t)snprintf(s, 64, "{\"x\":");
    memset(s + o, '[', depth);
    o += depth;
    memset(s + o, ']', depth);
    o += depth;
    s[o++] = '}';
    parse_fail(MODEL_SIGNAL_LOGS, s, o, OTLP_EDECODE, "invalid JSON");
    free(s);

    char *json = nested_value_json(depth, 0);
    parse_fail(MODEL_SIGNAL_TRACES, json, strlen(json), OTLP_EDECODE, "invalid JSON");
    free(json);
    json = nested_value_json(depth, 1);
    parse_fail(MODEL_SIGNAL_TRACES, json, strlen(json), OTLP_EDECODE, "invalid JSON");
    free(json);
}
END_TEST

/* A receiving thread may have a small stack: the deepest JSON jansson
 * accepts, mapped and freed, must fit in 1 MiB (several times the need). */
static void *deep_in_thread(void *arg) {
    (void)arg;
    char *json = nested_value_json(679, 0); /* 10 + 3 * 679 + 1 = 2048 JSON levels */
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, json, strlen(json), 0, err, sizeof(err));
    otlp_json_doc_free(&doc);
    free(json);
    return (void *)(intptr_t)(rc == OTLP_OK ? 1 : 2);
}

START_TEST(deepest_accepted_json_fits_a_small_stack) {
    pthread_attr_t at;
    pthread_t t;
    void *res = NULL;
    ck_assert_int_eq(pthread_attr_init(&at), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&at, 1 << 20), 0);
    ck_assert_int_eq(pthread_create(&t, &at, deep_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &res), 0);
    pthread_attr_destroy(&at);
    ck_assert_int_eq((int)(intptr_t)res, 1);
}
END_TEST

START_TEST(struct_arena_limit) {
    /* 2,000 empty spans: about 3 bytes of JSON each, a struct each. */
    size_t n = 2000;
    char *s = malloc(n * 3 + 128);
    ck_assert_ptr_nonnull(s);
    size_t o = (size_t)snprintf(s, 128, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, i ? ",{}" : "{}", i ? 3 : 2);
        o += i ? 3 : 2;
    }
    memcpy(s + o, "]}]}]}", 7);
    o += 6;

    otlp_json_doc doc;
    char err[256];
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 0, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(((const trace_req *)doc.msg)->resource_spans[0]->scope_spans[0]->n_spans, n);
    size_t used = arena_footprint(doc.arena);
    otlp_json_doc_free(&doc);
    ck_assert_uint_gt(used, n * sizeof(pb_span));

    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, used / 2, err, sizeof(err)),
                     OTLP_ETOOBIG);
    ck_assert_ptr_null(doc.msg);
    ck_assert_msg(strstr(err, "structs would exceed") != NULL, "%s", err);
    /* A tiny limit fails cleanly too. */
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 100, err, sizeof(err)),
                     OTLP_ETOOBIG);
    /* A limit with room to spare works. */
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, used * 2, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_le(arena_footprint(doc.arena), used * 2);
    otlp_json_doc_free(&doc);
    free(s);

    ck_assert_uint_eq(otlp_json_transient_limit(0), OTLP_JSON_TREE_SLACK);
    ck_assert_uint_eq(otlp_json_transient_limit(1000), 1000 * OTLP_JSON_TREE_FACTOR + OTLP_JSON_TREE_SLACK);
    ck_assert_uint_eq(otlp_json_transient_limit(SIZE_MAX / 2), SIZE_MAX);
}
END_TEST

/* {"resourceSpans":[{"scopeSpans":[{"spans":[<n spans with many small
 * attributes>]}]}]} in compact JSON: the costliest real shape for jansson. */
static char *attribute_heavy_json(size_t n_spans, size_t n_attrs, size_t *len) {
    size_t cap = 128 + n_spans * (256 + n_attrs * 64);
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t o = (size_t)snprintf(s, cap, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n_spans; i++) {
        o += (size_t)snprintf(s + o, cap - o,
                              "%s{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":"
                              "\"eee19b7ec3c1b174\",\"name\":\"s\",\"kind\":1,\"startTimeUnixNano\":\"1\","
                              "\"endTimeUnixNano\":\"2\",\"attributes\":[",
                              i ? "," : "");
        for (size_t k = 0; k < n_attrs; k++)
            o += (size_t)snprintf(s + o, cap - o, "%s{\"key\":\"k%zu\",\"value\":{\"intValue\":%zu}}",
                                  k ? "," : "", k, k % 10);
        o += (size_t)snprintf(s + o, cap - o, "]}");
    }
    o += (size_t)snprintf(s + o, cap - o, "]}]}]}");
    ck_assert_uint_lt(o, cap);
    *len = o;
    return s;
}

START_TEST(json_tree_is_bounded_by_the_body_length) {
    /* 100,000 empty objects: 300 KB that jansson would grow to ~20 MB. */
    size_t n = 100000;
    char *s = malloc(n * 3 + 16);
    ck_assert_ptr_nonnull(s);
    size_t o = (size_t)snprintf(s, 16, "{\"x\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, i ? ",{}" : "{}", i ? 3 : 2);
        o += i ? 3 : 2;
    }
    memcpy(s + o, "]}", 2);
    o += 2;
    otlp_json_doc doc;
    char err[256];
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 0, err, sizeof(err)),
                     OTLP_ETOOBIG);
    ck_assert_ptr_null(doc.root);
    ck_assert_msg(strstr(err, "JSON tree would exceed") != NULL, "%s", err);
    /* A hundredth of it is within the slack. */
    o = strlen("{\"x\":[") + 2 + 3 * (n / 100 - 1);
    memcpy(s + o, "]}", 2);
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o + 2, 0, err, sizeof(err)),
                     OTLP_OK);
    otlp_json_doc_free(&doc);
    free(s);

    /* Real payloads, however many small attributes, fit. */
    size_t len;
    s = attribute_heavy_json(300, 60, &len);
    ck_assert_uint_gt(len, OTLP_JSON_TREE_SLACK / 4);
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, len, 0, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_eq(((const trace_req *)doc.msg)->resource_spans[0]->scope_spans[0]->n_spans, 300);
    otlp_json_doc_free(&doc);
    free(s);

    /* Other jansson users are unaffected: no budget outside a parse. */
    json_t *big = json_array();
    for (size_t i = 0; i < 100000; i++)
        ck_assert_int_eq(json_array_append_new(big, json_object()), 0);
    ck_assert_uint_eq(json_array_size(big), 100000);
    json_decref(big);
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

/* ---- hostile input: random corruption of the fixtures ------------------- */

START_TEST(corrupted_fixtures_never_crash) {
    static const char *const files[] = {"traces.json", "logs.json", "metrics.json", "js_traces.json",
                                        "js_logs.json", "js_metrics.json"};
    static const model_signal sigs[] = {MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS,
                                        MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS};
    static const char repl[] = "{}[]\",:0-9eE.\\ntfu\x01\xff";
    uint32_t seed = 12345;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t len;
        char *orig = read_fixture(files[f], &len);
        char *mut = malloc(len + 1);
        ck_assert_ptr_nonnull(mut);
        int ok = 0, bad = 0;
        for (int round = 0; round < 400; round++) {
            memcpy(mut, orig, len);
            for (int k = 0; k < 1 + round % 4; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                mut[pos] = repl[(seed >> 8) % (sizeof(repl) - 1)];
            }
            otlp_json_doc doc;
            char err[256];
            int rc = otlp_json_doc_parse(&doc, sigs[f], mut, len, 1 << 20, err, sizeof(err));
            ck_assert_msg(rc == OTLP_OK || rc == OTLP_EDECODE, "rc %d", rc);
            if (rc == OTLP_OK) {
                ck_assert(protobuf_c_message_check(doc.msg));
                ok++;
            } else {
                ck_assert(err[0] != '\0');
                bad++;
            }
            otlp_json_doc_free(&doc);
        }
        ck_assert_int_gt(bad, 0);
        free(mut);
        free(orig);
        (void)ok;
    }
}
END_TEST

/* ---- end to end: otlp_decode_json() through the converter --------------- */

static model_batch *decode_ok(model_signal sig, const char *json, size_t len) {
    model_batch *b = (model_batch *)1;
    char err[256] = "";
    int rc = otlp_decode_json(sig, json, len, 0, &b, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->signal, sig);
    return b;
}

static void decode_fail(model_signal sig, const char *json, size_t len, size_t mem_limit, int want,
                        const char *needle) {
    model_batch *b = (model_batch *)1;
    char err[256] = "";
    int rc = otlp_decode_json(sig, json, len, mem_limit, &b, err, sizeof(err));
    ck_assert_msg(rc == want, "rc %d, want %d: %s", rc, want, err);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

static void assert_model_hex(const uint8_t *id, size_t n, const char *hex) {
    char got[40];
    model_hex_encode(id, n, got);
    ck_assert_str_eq(got, hex);
}

static const model_value *model_attr(const model_attrs *a, const char *key) {
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].key.ptr, key) == 0)
            return &a->items[i].value;
    ck_abort_msg("attribute %s missing", key);
    return NULL;
}

START_TEST(e2e_traces) {
    size_t len;
    char *json = read_fixture("traces.json", &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_spans, 2);
    const model_span *s = &b->spans[0];
    ck_assert_str_eq(s->resource->service_name.ptr, "checkout");
    ck_assert_str_eq(s->scope->name.ptr, "checkout-tracer");
    assert_model_hex(s->trace_id, 16, "5b8efff798038103d269b633813fc60c");
    assert_model_hex(s->span_id, 8, "eee19b7ec3c1b174");
    ck_assert_int_eq(s->has_parent, 1);
    assert_model_hex(s->parent_span_id, 8, "eee19b7ec3c1b173");
    ck_assert_str_eq(s->name.ptr, "GET /cart");
    ck_assert_int_eq(s->kind, MODEL_SPAN_KIND_SERVER);
    ck_assert_uint_eq(s->start_ns, 1700000000000000000ULL);
    ck_assert_uint_eq(s->end_ns, 1700000000250000000ULL);
    ck_assert_int_eq(s->status_code, MODEL_STATUS_ERROR);
    ck_assert_str_eq(s->status_message.ptr, "boom");
    ck_assert_int_eq(model_attr(&s->attrs, "http.status_code")->type, MODEL_VALUE_INT);
    ck_assert_int_eq(model_attr(&s->attrs, "http.status_code")->u.integer, 200);
    ck_assert_int_eq(model_attr(&s->attrs, "raw")->type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(model_attr(&s->attrs, "raw")->u.str.len, 4);
    ck_assert_int_eq(model_attr(&s->attrs, "map")->type, MODEL_VALUE_KVLIST);
    ck_assert_int_eq(model_attr(&s->attrs, "tags")->type, MODEL_VALUE_ARRAY);
    ck_assert_int_eq(model_attr(&s->attrs, "empty")->type, MODEL_VALUE_EMPTY);
    ck_assert_uint_eq(s->n_events, 1);
    ck_assert_uint_eq(s->n_links, 1);
    assert_model_hex(s->links[0].trace_id, 16, "0af7651916cd43dd8448eb211c80319c");
    s = &b->spans[1];
    ck_assert_int_eq(s->has_parent, 0);
    ck_assert_int_eq(s->kind, MODEL_SPAN_KIND_CLIENT);
    ck_assert_int_eq(s->status_code, MODEL_STATUS_OK);
    model_batch_free(b);
    free(json);
}
END_TEST

START_TEST(e2e_logs_and_metrics) {
    size_t len;
    char *json = read_fixture("logs.json", &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_LOGS, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_logs, 5);
    ck_assert_int_eq(b->logs[0].severity_number, 9);
    ck_assert_int_eq(b->logs[0].has_trace_id, 1);
    ck_assert_int_eq(b->logs[0].body.type, MODEL_VALUE_STRING);
    ck_assert_int_eq(b->logs[1].severity_number, 17);
    ck_assert_int_eq(b->logs[1].body.type, MODEL_VALUE_KVLIST);
    ck_assert_str_eq(b->logs[1].event_name.ptr, "payment.failed");
    ck_assert_int_eq(b->logs[2].body.type, MODEL_VALUE_INT);
    ck_assert_int_eq(b->logs[2].has_trace_id, 0);
    ck_assert_int_eq(b->logs[3].body.type, MODEL_VALUE_BYTES);
    ck_assert_int_eq(b->logs[4].body.type, MODEL_VALUE_ARRAY);
    model_batch_free(b);
    free(json);

    json = read_fixture("metrics.json", &len);
    b = decode_ok(MODEL_SIGNAL_METRICS, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_metrics, 6);
    ck_assert_uint_eq(b->n_points, 7);
    size_t seen = 0;
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        if (strcmp(p->metric->name.ptr, "http.requests") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_SUM);
            ck_assert_int_eq(p->metric->monotonic, 1);
            ck_assert_int_eq(p->metric->temporality, MODEL_TEMPORALITY_CUMULATIVE);
            ck_assert_int_eq(p->is_int, 1);
            ck_assert(p->as_int == 9007199254740993LL);
            ck_assert_uint_eq(p->n_exemplars, 1);
            ck_assert_int_eq(p->exemplars[0].has_trace_id, 1);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "queue.delta") == 0) {
            ck_assert_int_eq(p->metric->temporality, MODEL_TEMPORALITY_DELTA);
            ck_assert_int_eq(p->metric->monotonic, 0);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "http.duration.exp") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_EXP_HISTOGRAM);
            ck_assert_int_eq(p->scale, -1);
            ck_assert_uint_eq(p->n_positive, 2);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "rpc.latency") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_SUMMARY);
            ck_assert_uint_eq(p->n_quantiles, 2);
            seen++;
        }
    }
    ck_assert_uint_eq(seen, 4);
    model_batch_free(b);
    free(json);
}
END_TEST

/* The JS SDK's JSON and protobuf of the same telemetry decode to the same
 * items. */
START_TEST(e2e_js_json_and_protobuf_agree) {
    static const struct {
        model_signal sig;
        const char *name;
    } cases[] = {{MODEL_SIGNAL_TRACES, "traces"}, {MODEL_SIGNAL_LOGS, "logs"},
                 {MODEL_SIGNAL_METRICS, "metrics"}, {MODEL_SIGNAL_METRICS, "metrics_delta"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char file[64];
        size_t jlen, plen;
        snprintf(file, sizeof(file), "js_%s.json", cases[i].name);
        char *json = read_fixture(file, &jlen);
        snprintf(file, sizeof(file), "js_%s.pb", cases[i].name);
        char *pb = read_fixture(file, &plen);
        model_batch *bj = decode_ok(cases[i].sig, json, jlen);
        model_batch *bp = NULL;
        char err[256];
        ck_assert_int_eq(otlp_decode_pb(cases[i].sig, (const uint8_t *)pb, plen, 0, &bp, err, sizeof(err)),
                         OTLP_OK);
        ck_assert_int_eq(bj->rejected, 0);
        ck_assert_int_eq(bp->rejected, 0);
        ck_assert_uint_gt(model_batch_items(bj), 2);
        ck_assert_uint_eq(model_batch_items(bj), model_batch_items(bp));
        for (size_t k = 0; k < bj->n_spans; k++) {
            ck_assert_mem_eq(bj->spans[k].trace_id, bp->spans[k].trace_id, 16);
            ck_assert_mem_eq(bj->spans[k].span_id, bp->spans[k].span_id, 8);
            ck_assert_str_eq(bj->spans[k].name.ptr, bp->spans[k].name.ptr);
            ck_assert_uint_eq(bj->spans[k].start_ns, bp->spans[k].start_ns);
            ck_assert_uint_eq(bj->spans[k].attrs.n, bp->spans[k].attrs.n);
        }
        for (size_t k = 0; k < bj->n_logs; k++) {
            ck_assert_int_eq(bj->logs[k].body.type, bp->logs[k].body.type);
            ck_assert_uint_eq(bj->logs[k].time_ns, bp->logs[k].time_ns);
            ck_assert_int_eq(bj->logs[k].severity_number, bp->logs[k].severity_number);
        }
        for (size_t k = 0; k < bj->n_points; k++) {
            ck_assert_str_eq(bj->points[k].metric->name.ptr, bp->points[k].metric->name.ptr);
            ck_assert_int_eq(bj->points[k].metric->temporality, bp->points[k].metric->temporality);
            ck_assert_uint_eq(bj->points[k].count, bp->points[k].count);
            ck_assert_uint_eq(bj->points[k].n_positive, bp->points[k].n_positive);
        }
        model_batch_free(bj);
        model_batch_free(bp);
        free(pb);
        free(json);
    }
}
END_TEST

START_TEST(e2e_invalid_hex_rejects_only_that_item) {
    static const char *const bad_spans[] = {
        "\"traceId\":\"zz8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b17\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"parentSpanId\":\"not hex!\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"links\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"xyz\"}]",
        "\"spanId\":\"eee19b7ec3c1b174\"", /* no trace id at all */
    };
    for (size_t i = 0; i < sizeof(bad_spans) / sizeof(bad_spans[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
                 "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"0000000000000001\",\"name\":\"a\"},"
                 "{%s,\"name\":\"bad\"},"
                 "{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"0000000000000002\",\"name\":\"c\"}"
                 "]}]}]}",
                 bad_spans[i]);
        model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, strlen(json));
        ck_assert_msg(b->n_spans == 2, "case %zu: %zu spans", i, b->n_spans);
        ck_assert_int_eq(b->rejected, 1);
        ck_assert_uint_gt(b->reject_message.len, 0);
        ck_assert_str_eq(b->spans[0].name.ptr, "a");
        ck_assert_str_eq(b->spans[1].name.ptr, "c");
        model_batch_free(b);
    }
    const char *logs = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
                       "{\"body\":{\"stringValue\":\"ok\"},\"traceId\":\"\",\"spanId\":\"\"},"
                       "{\"body\":{\"stringValue\":\"bad\"},\"traceId\":\"g\"},"
                       "{\"body\":{\"stringValue\":\"ok2\"},\"spanId\":\"eee19b7ec3c1b174\"}]}]}]}";
    model_batch *b = decode_ok(MODEL_SIGNAL_LOGS, logs, strlen(logs));
    ck_assert_uint_eq(b->n_logs, 2);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_int_eq(b->logs[1].has_span_id, 1);
    model_batch_free(b);
    const char *metrics = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"g\","
                          "\"gauge\":{\"dataPoints\":[{\"asInt\":1},{\"asInt\":2,\"exemplars\":["
                          "{\"asInt\":1,\"traceId\":\"nothex\"}]},{\"asInt\":3}]}}]}]}]}";
    b = decode_ok(MODEL_SIGNAL_METRICS, metrics, strlen(metrics));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
}
END_TEST

START_TEST(e2e_deep_values_reject_the_item) {
    for (int kv = 0; kv <= 1; kv++) {
        /* MODEL_MAX_VALUE_DEPTH containers are fine, one more is not, and
         * far more (cut by the mapper) is not either. */
        static const size_t levels[] = {MODEL_MAX_VALUE_DEPTH, MODEL_MAX_VALUE_DEPTH + 1,
                                        OTLP_JSON_MAX_VALUE_DEPTH + 1, 400};
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
            char *json = nested_value_json(levels[i], kv);
            /* give the span valid ids so only depth can reject it */
            const char *at = strstr(json, "{\"attributes\"");
            ck_assert_ptr_nonnull(at);
            size_t head = (size_t)(at - json) + 1, len = strlen(json);
            const char *ids = "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",";
            char *full = malloc(len + strlen(ids) + 1);
            ck_assert_ptr_nonnull(full);
            memcpy(full, json, head);
            memcpy(full + head, ids, strlen(ids));
            memcpy(full + head + strlen(ids), json + head, len - head + 1);
            model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, full, strlen(full));
            if (levels[i] <= MODEL_MAX_VALUE_DEPTH) {
                ck_assert_msg(b->n_spans == 1 && b->rejected == 0, "depth %zu rejected", levels[i]);
            } else {
                ck_assert_msg(b->n_spans == 0 && b->rejected == 1, "depth %zu kept", levels[i]);
                ck_assert_msg(strstr(b->reject_message.ptr, "nested") != NULL, "%s",
                              b->reject_message.ptr);
            }
            model_batch_free(b);
            free(full);
            free(json);
        }
    }
}
END_TEST

START_TEST(e2e_failures) {
    decode_fail(MODEL_SIGNAL_TRACES, "{\"resourceSpans\":5}", 19, 0, OTLP_EDECODE,
                "resourceSpans: expected an array");
    decode_fail(MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[", 17, 0, OTLP_EDECODE, "invalid JSON");
    decode_fail(MODEL_SIGNAL_METRICS, "[]", 2, 0, OTLP_EDECODE, "must be a JSON object");
    char *deep = nested_value_json(10000, 0);
    decode_fail(MODEL_SIGNAL_TRACES, deep, strlen(deep), 0, OTLP_EDECODE, "invalid JSON");
    free(deep);

    /* The batch's mem_limit: the temporary structs or the batch overflow. */
    size_t len;
    char *json = attribute_heavy_json(200, 20, &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, len);
    ck_assert_uint_eq(b->n_spans, 200);
    size_t bytes = model_batch_bytes(b);
    model_batch_free(b);
    decode_fail(MODEL_SIGNAL_TRACES, json, len, bytes / 4, OTLP_ETOOBIG, "memory limit");
    decode_fail(MODEL_SIGNAL_TRACES, json, len, 4096, OTLP_ETOOBIG, "memory limit");
    b = NULL;
    char err[256];
    ck_assert_int_eq(otlp_decode_json(MODEL_SIGNAL_TRACES, json, len, bytes * 4, &b, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_le(model_batch_bytes(b), bytes * 4);
    model_batch_free(b);
    free(json);

    /* An empty request is an empty batch. */
    b = decode_ok(MODEL_SIGNAL_LOGS, "{}", 2);
    ck_assert_uint_eq(model_batch_items(b), 0);
    model_batch_free(b);
}
END_TEST

/* ---- answers ------------------------------------------------------------ */

START_TEST(response_json) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, "ignored", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 3, "span 2: invalid trace id", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":"
                            "\"span 2: invalid trace id\"}}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_LOGS, 9007199254740993LL, "a \"q\"\n", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedLogRecords\":\"9007199254740993\","
                            "\"errorMessage\":\"a \\\"q\\\"\\n\"}}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_METRICS, 1, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedDataPoints\":\"1\"}}");
    buf_free(&b);

    /* Appends after what is there; on overflow the buf is left as it was. */
    buf_init(&b, 20);
    ck_assert_int_eq(buf_append_str(&b, "x:"), BUF_OK);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "x:{}");
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 5, "a long message here", &b), OTLP_ETOOBIG);
    ck_assert_str_eq(b.ptr, "x:{}");
    ck_assert_uint_eq(b.len, 4);
    buf_free(&b);

    /* The answer parses back as the request parser's own format. */
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_METRICS, 42, "m", &b), OTLP_OK);
    json_error_t jerr;
    json_t *root = json_loadb(b.ptr, b.len, 0, &jerr);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "partialSuccess"),
                                                       "rejectedDataPoints")),
                     "42");
    json_decref(root);
    buf_free(&b);
}
END_TEST

START_TEST(status_json) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_INVALID_ARGUMENT, "bad <json>", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"code\":3,\"message\":\"bad \\u003cjson\\u003e\"}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_UNAVAILABLE, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"code\":14}");
    buf_reset(&b);
    /* Invalid UTF-8 in the message still gives valid JSON. */
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_RESOURCE_EXHAUSTED, "x\xff", &b), OTLP_OK);
    json_error_t jerr;
    json_t *root = json_loadb(b.ptr, b.len, 0, &jerr);
    ck_assert_msg(root != NULL, "%s", jerr.text);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "code")), 8);
    json_decref(root);
    buf_free(&b);

    buf_init(&b, 8);
    ck_assert_int_eq(otlp_status_json(3, "too long for the buffer", &b), OTLP_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

static Suite *otlp_json_suite(void) {
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

    tc = tcase_create("hostile");
    tcase_add_test(tc, wrong_types_name_the_field);
    tcase_add_test(tc, invalid_and_truncated_json);
    tcase_add_test(tc, deep_values_are_cut_one_past_the_limit);
    tcase_add_test(tc, ten_thousand_deep_nesting);
    tcase_add_test(tc, deepest_accepted_json_fits_a_small_stack);
    tcase_add_test(tc, struct_arena_limit);
    tcase_add_test(tc, json_tree_is_bounded_by_the_body_length);
    tcase_add_test(tc, corrupted_fixtures_never_crash);
    suite_add_tcase(s, tc);

    tc = tcase_create("e2e");
    tcase_add_test(tc, e2e_traces);
    tcase_add_test(tc, e2e_logs_and_metrics);
    tcase_add_test(tc, e2e_js_json_and_protobuf_agree);
    tcase_add_test(tc, e2e_invalid_hex_rejects_only_that_item);
    tcase_add_test(tc, e2e_deep_values_reject_the_item);
    tcase_add_test(tc, e2e_failures);
    suite_add_tcase(s, tc);

    tc = tcase_create("answers");
    tcase_add_test(tc, response_json);
    tcase_add_test(tc, status_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(otlp_json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
