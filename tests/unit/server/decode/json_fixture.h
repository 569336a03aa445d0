/* json_fixture.h - what the OTLP JSON tests share: the fixture files,
 * parsing into structs (otlp_json_doc_parse) and checking the result,
 * with decode_fixture.h's helpers. */
#ifndef LOUPE_TEST_JSON_FIXTURE_H
#define LOUPE_TEST_JSON_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_fixture.h"
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

static inline char *read_fixture(const char *name, size_t *len) {
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

static inline int parse(otlp_json_doc *doc, model_signal sig, const char *json, char *err, size_t errlen) {
    return otlp_json_doc_parse(doc, sig, json, strlen(json), 0, err, errlen);
}

/* Parses json, which must succeed, and checks the struct is well-formed. */
static inline void parse_ok(otlp_json_doc *doc, model_signal sig, const char *json) {
    char err[256] = "";
    int rc = parse(doc, sig, json, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(doc->msg);
    ck_assert(protobuf_c_message_check(doc->msg));
}

/* Parses json, which must fail with `want`, and checks err contains `needle`. */
static inline void parse_fail(model_signal sig, const char *json, size_t len, int want, const char *needle) {
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

static inline uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(protobuf_c_message_pack(m, p), *len);
    return p;
}

/* Both JSON texts must map to the same protobuf message (same wire bytes). */
static inline void assert_same(model_signal sig, const char *a, const char *b) {
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

static inline void assert_hex(ProtobufCBinaryData d, const char *hex) {
    char got[80] = "";
    ck_assert_uint_lt(d.len, 39);
    model_hex_encode(d.data, d.len, got);
    ck_assert_str_eq(got, hex);
}

static inline const pb_any *attr(pb_kv **kv, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i]->value;
    ck_abort_msg("attribute %s missing", key);
    return NULL;
}

/* A span JSON with the given fields inside it, wrapped in a request. */
static inline char *span_json(const char *fields) {
    static char out[8192];
    snprintf(out, sizeof(out),
             "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{%s}]}]}]}", fields);
    return out;
}

static inline const pb_span *only_span(const otlp_json_doc *doc) {
    const trace_req *r = (const trace_req *)doc->msg;
    ck_assert_uint_eq(r->n_resource_spans, 1);
    ck_assert_uint_eq(r->resource_spans[0]->n_scope_spans, 1);
    ck_assert_uint_eq(r->resource_spans[0]->scope_spans[0]->n_spans, 1);
    return r->resource_spans[0]->scope_spans[0]->spans[0];
}

/* {"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":
 * <levels nested arrayValues around {"stringValue":"leaf"}>}]}]}]}]} */
static inline char *nested_value_json(size_t levels, int kvlist) {
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

/* {"resourceSpans":[{"scopeSpans":[{"spans":[<n spans with many small
 * attributes>]}]}]} in compact JSON: the costliest real shape for jansson. */
static inline char *attribute_heavy_json(size_t n_spans, size_t n_attrs, size_t *len) {
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

#endif
