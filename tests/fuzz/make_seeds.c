/* make_seeds.c - writes the seed corpora of the fuzz targets (all but the grpc_* ones).
 *
 *   make fuzz-seeds  (rewrites tests/fuzz/corpus/{otlp_pb,otlp_json,gz,apiparam,api,http_util}/)
 *
 * The seeds are small real payloads and the edge cases the decoders must
 * handle: the fixtures of tests/unit/server/fixtures/ (made by the official
 * JS SDK, plus the hand-written ones), the same requests as protobuf (packed
 * from the structs the JSON decoder builds, so both corpora hold the same
 * requests), hand-made protobuf the JSON path cannot express (invalid UTF-8,
 * unknown fields, nesting past the pre-scan's limit, truncation), and gzip
 * bodies around the cap (exact fit, one byte over, bombs, several members,
 * header fields, bad checksums), API parameter values of each kind,
 * requests to each API route, and HTTP header values.
 * OTLP and gzip seeds start with the selector bytes their target reads first
 * (see the comments at the top of the targets).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/buf.h"
#include "util/gz.h"
#include "server/decode/otlp.h"
#include "otlp_build.h"
#include "server/decode/otlp_json_internal.h"

static const char *seed_root;
static int seed_failed;

static void seed_die(const char *what) {
    fprintf(stderr, "make_seeds: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Writes corpus/<target>/<name>: the selector bytes, then the payload. */
static void seed_put(const char *target, const char *name, const void *sel, size_t nsel,
                     const void *data, size_t len) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", seed_root, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        seed_die(path);
    if ((nsel && fwrite(sel, 1, nsel, f) != nsel) || (len && fwrite(data, 1, len, f) != len) ||
        fclose(f) != 0)
        seed_die(path);
}

static uint8_t *seed_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        seed_die(path);
    buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&b, chunk, n) != BUF_OK)
            seed_die(path);
    fclose(f);
    *len = b.len;
    return (uint8_t *)buf_detach(&b, NULL);
}

/* The OTLP selector byte: signal and mem_limit index, as the targets read
 * it. Index 0 gives the ASCII digits '0', '1', '2'. */
static uint8_t seed_sel(model_signal sig, unsigned limit_idx) {
    return (uint8_t)(48 + 3 * limit_idx + (unsigned)sig);
}

static uint8_t *seed_pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len ? *len : 1);
    if (p == NULL)
        seed_die("malloc");
    protobuf_c_message_pack(m, p);
    return p;
}

/* A JSON request: into the JSON corpus as is and, when it maps onto the
 * request structs, into the protobuf corpus packed. */
static void seed_json(const char *name, model_signal sig, const char *json, size_t len,
                      int also_pb) {
    uint8_t sel = seed_sel(sig, 0);
    seed_put("otlp_json", name, &sel, 1, json, len);
    if (!also_pb)
        return;
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, sig, json, len, 0, err, sizeof(err));
    if (rc != OTLP_OK) {
        fprintf(stderr, "make_seeds: %s does not map: %s\n", name, err);
        seed_failed = 1;
        return;
    }
    size_t n;
    uint8_t *pb = seed_pack(doc.msg, &n);
    seed_put("otlp_pb", name, &sel, 1, pb, n);
    free(pb);
    otlp_json_doc_free(&doc);
}

static void seed_json_str(const char *name, model_signal sig, const char *json, int also_pb) {
    seed_json(name, sig, json, strlen(json), also_pb);
}

/* ---- OTLP edge cases as JSON -------------------------------------------- */

static const char seed_traces_edge[] =
    "{\"resource_spans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"edge\"}}],\"droppedAttributesCount\":3},\"schemaUrl\":\"s\",\"scopeSpans\":"
    "[{\"scope\":{\"name\":\"sc\",\"version\":\"1\"},\"spans\":["
    "{\"traceId\":\"0102030405060708090A0B0C0D0E0F10\",\"spanId\":\"0102030405060708\","
    "\"parentSpanId\":\"0000000000000000\",\"name\":\"ok\",\"kind\":\"SPAN_KIND_SERVER\","
    "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"boom\"},\"traceState\":\"a=b\","
    "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"18446744073709551615\",\"flags\":257,"
    "\"events\":[{\"timeUnixNano\":2,\"name\":\"ev\",\"attributes\":[{\"key\":\"k\",\"value\":"
    "{\"boolValue\":true}}]},null],\"droppedEventsCount\":1},"
    "{\"trace_id\":\"zz\",\"span_id\":\"0102030405060708\",\"name\":\"bad trace id\"},"
    "{\"traceId\":\"01020304050607080910111213141516\",\"spanId\":\"0000000000000000\"},"
    "{\"traceId\":\"01020304050607080910111213141516\",\"spanId\":\"0102030405060708\","
    "\"kind\":99,\"links\":[{\"traceId\":\"01\",\"spanId\":\"0102030405060708\"}]},"
    "{\"traceId\":\"01020304050607080910111213141516\",\"spanId\":\"0a0b0c0d0e0f1011\","
    "\"links\":[{\"traceId\":\"01020304050607080910111213141516\",\"spanId\":"
    "\"0102030405060708\",\"traceState\":\"x=y\",\"flags\":1,\"droppedAttributesCount\":2}]},"
    "null]}]}]}";

static const char seed_traces_values[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"01020304050607080910111213141516\",\"spanId\":\"0102030405060708\",\"name\":"
    "\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"attributes\":["
    "{\"key\":\"s\",\"value\":{\"stringValue\":\"a\\u0000b\"}},"
    "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
    "{\"key\":\"i\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
    "{\"key\":\"i2\",\"value\":{\"intValue\":9007199254740993}},"
    "{\"key\":\"i3\",\"value\":{\"intValue\":3.0}},"
    "{\"key\":\"d\",\"value\":{\"doubleValue\":\"NaN\"}},"
    "{\"key\":\"d2\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
    "{\"key\":\"d3\",\"value\":{\"doubleValue\":1e308}},"
    "{\"key\":\"d4\",\"value\":{\"doubleValue\":\"2.5e-3\"}},"
    "{\"key\":\"y\",\"value\":{\"bytesValue\":\"-_8\"}},"
    "{\"key\":\"y2\",\"value\":{\"bytesValue\":\"AAEC/w==\"}},"
    "{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":1},{},"
    "{\"arrayValue\":{}},null]}}},"
    "{\"key\":\"kv\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":"
    "{\"kvlistValue\":{\"values\":[]}}},{\"key\":\"\"}]}}},"
    "{\"key\":\"e\",\"value\":{}},{\"key\":\"n\",\"value\":null},"
    "{\"key\":\"two\",\"value\":{\"stringValue\":\"x\",\"intValue\":5}},"
    "{\"key\":\"unknown\",\"value\":{\"futureValue\":1},\"extra\":[1,2]}"
    "]}]}]}]}";

static const char seed_logs_edge[] =
    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{\"name\":\"l\"},"
    "\"logRecords\":["
    "{\"timeUnixNano\":1.5e18,\"observedTimeUnixNano\":\"123\",\"severityNumber\":"
    "\"SEVERITY_NUMBER_WARN\",\"severityText\":\"WARN\",\"body\":{\"kvlistValue\":{\"values\":"
    "[{\"key\":\"msg\",\"value\":{\"stringValue\":\"hi\"}}]}},\"traceId\":"
    "\"01020304050607080910111213141516\",\"spanId\":\"\",\"flags\":1,\"eventName\":\"e\","
    "\"droppedAttributesCount\":4},"
    "{\"severityNumber\":25,\"body\":{\"stringValue\":\"too severe\"}},"
    "{\"severityNumber\":-1},"
    "{\"traceId\":\"0102030405060708\",\"body\":{\"bytesValue\":\"\"}},"
    "{\"spanId\":\"0000000000000000\",\"body\":{\"arrayValue\":{\"values\":[{\"doubleValue\":"
    "0.5}]}}},"
    "{}]}]},{\"scopeLogs\":[]},{}]}";

static const char seed_metrics_edge[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"m\"}},{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":"
    "\"i\"}}]},\"scopeMetrics\":[{\"scope\":{\"name\":\"meter\"},\"metrics\":["
    "{\"name\":\"g\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"-5\",\"timeUnixNano\":"
    "\"9\"},{\"asDouble\":\"NaN\",\"exemplars\":[{\"asInt\":7,\"spanId\":\"0102030405060708\","
    "\"traceId\":\"01020304050607080910111213141516\",\"filteredAttributes\":[{\"key\":\"k\","
    "\"value\":{\"stringValue\":\"v\"}}]},{\"asDouble\":1.5,\"spanId\":\"01\"}]}]}},"
    "{\"name\":\"s\",\"description\":\"d\",\"sum\":{\"aggregationTemporality\":"
    "\"AGGREGATION_TEMPORALITY_DELTA\",\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":2}]}},"
    "{\"name\":\"s2\",\"sum\":{\"aggregationTemporality\":7,\"dataPoints\":[{\"asInt\":1}]}},"
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
    "{\"count\":3,\"sum\":6,\"min\":1,\"max\":3,\"explicitBounds\":[1,2],\"bucketCounts\":"
    "[1,1,\"1\"]},{\"count\":1,\"explicitBounds\":[1,2],\"bucketCounts\":[1]},"
    "{\"count\":0,\"explicitBounds\":[5]}]}},"
    "{\"name\":\"eh\",\"exponentialHistogram\":{\"aggregationTemporality\":1,\"dataPoints\":["
    "{\"count\":4,\"scale\":-2,\"zeroCount\":1,\"zeroThreshold\":0.001,\"positive\":{\"offset\":"
    "-3,\"bucketCounts\":[1,2]},\"negative\":{\"bucketCounts\":[1]},\"sum\":\"-Infinity\"}]}},"
    "{\"name\":\"q\",\"summary\":{\"dataPoints\":[{\"count\":2,\"sum\":3,\"quantileValues\":["
    "{\"quantile\":0.5,\"value\":1},{\"quantile\":1,\"value\":2},null]}]}},"
    "{\"name\":\"nodata\"},{\"name\":\"nopoints\",\"gauge\":{}},"
    "{\"name\":\"both\",\"gauge\":{\"dataPoints\":[{\"asInt\":1}]},\"sum\":{\"dataPoints\":"
    "[{\"asInt\":2}]}}"
    "]}]}]}";

/* Values nested `levels` arrays deep, as the attribute of one span. */
static char *seed_deep_json(int levels) {
    buf b;
    buf_init(&b, 1 << 16);
    buf_append_str(&b, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
                       "\"01020304050607080910111213141516\",\"spanId\":\"0102030405060708\","
                       "\"attributes\":[{\"key\":\"deep\",\"value\":");
    for (int i = 0; i < levels; i++)
        buf_append_str(&b, "{\"arrayValue\":{\"values\":[");
    buf_append_str(&b, "{\"intValue\":1}");
    for (int i = 0; i < levels; i++)
        buf_append_str(&b, "]}}");
    buf_append_str(&b, "}]}]}]}]}");
    return buf_detach(&b, NULL);
}

static size_t seed_varint(uint8_t *out, size_t v) {
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v > 0);
    return n;
}

static size_t seed_varint_len(size_t v) {
    uint8_t tmp[10];
    return seed_varint(tmp, v);
}

/* prefix, n copies of item separated by commas, suffix. */
static char *seed_repeat(const char *prefix, const char *item, size_t n, const char *suffix) {
    buf b;
    buf_init(&b, 1 << 20);
    buf_append_str(&b, prefix);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_append_char(&b, ',');
        buf_append_str(&b, item);
    }
    buf_append_str(&b, suffix);
    return buf_detach(&b, NULL);
}

static void seed_otlp(const char *fixtures) {
    static const struct {
        const char *file;
        model_signal sig;
    } fx[] = {
        {"js_traces", MODEL_SIGNAL_TRACES}, {"js_logs", MODEL_SIGNAL_LOGS},
        {"js_metrics", MODEL_SIGNAL_METRICS}, {"js_metrics_delta", MODEL_SIGNAL_METRICS},
        {"traces", MODEL_SIGNAL_TRACES}, {"logs", MODEL_SIGNAL_LOGS},
        {"metrics", MODEL_SIGNAL_METRICS},
    };
    char path[1024];
    for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
        size_t len;
        snprintf(path, sizeof(path), "%s/%s.json", fixtures, fx[i].file);
        uint8_t *json = seed_read(path, &len);
        /* The JS SDK's protobuf goes in as it is, the others packed. */
        int js = strncmp(fx[i].file, "js_", 3) == 0;
        seed_json(fx[i].file, fx[i].sig, (const char *)json, len, !js);
        free(json);
        if (js) {
            snprintf(path, sizeof(path), "%s/%s.pb", fixtures, fx[i].file);
            uint8_t *pb = seed_read(path, &len);
            uint8_t sel = seed_sel(fx[i].sig, 0);
            seed_put("otlp_pb", fx[i].file, &sel, 1, pb, len);
            /* With each mem_limit, and truncated. */
            if (fx[i].sig != MODEL_SIGNAL_METRICS || strcmp(fx[i].file, "js_metrics") == 0) {
                char name[64];
                for (unsigned k = 1; k < 4; k++) {
                    sel = seed_sel(fx[i].sig, k);
                    snprintf(name, sizeof(name), "%s_limit%u", fx[i].file, k);
                    seed_put("otlp_pb", name, &sel, 1, pb, len);
                }
                sel = seed_sel(fx[i].sig, 0);
                snprintf(name, sizeof(name), "%s_truncated", fx[i].file);
                seed_put("otlp_pb", name, &sel, 1, pb, len / 2);
            }
            free(pb);
        }
    }
    uint8_t sel = seed_sel(MODEL_SIGNAL_METRICS, 2);
    snprintf(path, sizeof(path), "%s/js_metrics.json", fixtures);
    size_t len;
    uint8_t *json = seed_read(path, &len);
    seed_put("otlp_json", "js_metrics_limit2", &sel, 1, json, len);
    free(json);

    seed_json_str("traces_edge", MODEL_SIGNAL_TRACES, seed_traces_edge, 1);
    seed_json_str("traces_values", MODEL_SIGNAL_TRACES, seed_traces_values, 1);
    seed_json_str("logs_edge", MODEL_SIGNAL_LOGS, seed_logs_edge, 1);
    seed_json_str("metrics_edge", MODEL_SIGNAL_METRICS, seed_metrics_edge, 1);
    char *deep = seed_deep_json(MODEL_MAX_VALUE_DEPTH);
    seed_json_str("traces_depth_max", MODEL_SIGNAL_TRACES, deep, 1);
    free(deep);
    deep = seed_deep_json(MODEL_MAX_VALUE_DEPTH + 1);
    seed_json_str("traces_depth_over", MODEL_SIGNAL_TRACES, deep, 1);
    free(deep);
    seed_json_str("empty_object", MODEL_SIGNAL_LOGS, "{}", 0);
    seed_json_str("wrong_type", MODEL_SIGNAL_TRACES, "{\"resourceSpans\":{\"x\":1}}", 0);
    seed_json_str("not_integral", MODEL_SIGNAL_LOGS,
                  "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":1.5}]}]}]}",
                  0);
    seed_json_str("bad_base64", MODEL_SIGNAL_LOGS,
                  "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":"
                  "\"A\"}}]}]}]}",
                  0);
    seed_json_str("int_out_of_range", MODEL_SIGNAL_TRACES,
                  "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":"
                  "\"k\",\"value\":{\"intValue\":1e300}}]}]}]}]}",
                  0);
    seed_json_str("not_json", MODEL_SIGNAL_METRICS, "{\"resourceMetrics\":[", 0);

    /* Many small items: the batch's item array alone passes one arena
     * chunk, so mem_limit index 2 (one chunk) is hit while converting. */
    char *many = seed_repeat("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[", "{}", 600,
                             "]}]}]}");
    sel = seed_sel(MODEL_SIGNAL_LOGS, 2);
    seed_put("otlp_json", "many_logs_limit2", &sel, 1, many, strlen(many));
    free(many);
    many = seed_repeat("{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"g\","
                       "\"gauge\":{\"dataPoints\":[",
                       "{\"asInt\":1}", 400, "]}}]}]}]}");
    sel = seed_sel(MODEL_SIGNAL_METRICS, 2);
    seed_put("otlp_json", "many_points_limit2", &sel, 1, many, strlen(many));
    free(many);
    /* Hostile shape: a jansson tree more than 32 times the body. */
    many = seed_repeat("{\"resourceSpans\":[", "{}", 15000, "]}");
    sel = seed_sel(MODEL_SIGNAL_TRACES, 0);
    seed_put("otlp_json", "tree_past_cap", &sel, 1, many, strlen(many));
    free(many);
    seed_json_str("array_root", MODEL_SIGNAL_METRICS, "[{\"resourceMetrics\":[]}]", 0);

    /* Protobuf only: what JSON cannot say. */
    arena *a = arena_new(0, 0);
    sel = seed_sel(MODEL_SIGNAL_TRACES, 0);
    seed_put("otlp_pb", "empty_body", &sel, 1, NULL, 0);

    tb_span *bad = tb_span_new(a, 1, 1, "\xff\xfe name");
    tb_span *bad_key = tb_span_new(a, 2, 2, "ok");
    bad_key->n_attributes = 1;
    bad_key->attributes = tb_ptrs(a, (tb_kv *[]){tb_kv_new(a, "\xc0\x80", tb_str(a, "v"))}, 1);
    tb_span *surrogate = tb_span_new(a, 3, 3, "\xed\xa0\x80");
    tb_span *good = tb_span_new(a, 4, 4, "fine");
    tb_trace_req *req = tb_trace_req_simple(a, TB_LIST(tb_span, bad, bad_key, surrogate, good));
    uint8_t *pb = seed_pack(&req->base, &len);
    seed_put("otlp_pb", "invalid_utf8", &sel, 1, pb, len);
    /* The same with unknown fields after it: a varint, a fixed64 and a
     * length-delimited field of a number OTLP does not use. */
    static const uint8_t unknown[] = {0xF8, 0x3E, 0x01, 0xF9, 0x3E, 1, 2, 3, 4, 5, 6, 7, 8,
                                      0xFA, 0x3E, 0x02, 0x08, 0x01};
    uint8_t *pbu = malloc(len + sizeof(unknown));
    if (pbu == NULL)
        seed_die("malloc");
    memcpy(pbu, pb, len);
    memcpy(pbu + len, unknown, sizeof(unknown));
    seed_put("otlp_pb", "unknown_fields", &sel, 1, pbu, len + sizeof(unknown));
    free(pbu);
    free(pb);

    /* Nested past the pre-scan's 128 message levels. */
    tb_span *deep_span = tb_span_new(a, 5, 5, "deep");
    deep_span->n_attributes = 1;
    deep_span->attributes = tb_ptrs(a, (tb_kv *[]){tb_kv_new(a, "d", tb_nested_arrays(a, 70))}, 1);
    req = tb_trace_req_simple(a, TB_LIST(tb_span, deep_span));
    pb = seed_pack(&req->base, &len);
    seed_put("otlp_pb", "too_deep", &sel, 1, pb, len);
    free(pb);

    /* 400 empty spans (all rejected, but the batch's span array is made
     * for them first) under a one-chunk mem_limit. */
    tb_span *empty[400];
    for (size_t i = 0; i < 400; i++) {
        empty[i] = tb_alloc(a, sizeof(tb_span));
        opentelemetry__proto__trace__v1__span__init(empty[i]);
    }
    req = tb_trace_req_simple(a, empty, 400);
    pb = seed_pack(&req->base, &len);
    sel = seed_sel(MODEL_SIGNAL_TRACES, 2);
    seed_put("otlp_pb", "many_spans_limit2", &sel, 1, pb, len);
    free(pb);

    /* 10,000 empty spans in one ScopeSpans: 2 bytes each on the wire,
     * over 200 in memory, past the temporary arena's cap. */
    size_t nspans = 10000, inner = 2 * nspans;
    pb = malloc(inner + 16);
    if (pb == NULL)
        seed_die("malloc");
    size_t o = 0;
    pb[o++] = 0x0a; /* ExportTraceServiceRequest.resource_spans */
    o += seed_varint(pb + o, inner + 1 + seed_varint_len(inner));
    pb[o++] = 0x12; /* ResourceSpans.scope_spans */
    o += seed_varint(pb + o, inner);
    for (size_t i = 0; i < nspans; i++) {
        pb[o++] = 0x12; /* ScopeSpans.spans, empty */
        pb[o++] = 0x00;
    }
    sel = seed_sel(MODEL_SIGNAL_TRACES, 0);
    seed_put("otlp_pb", "expands_past_cap", &sel, 1, pb, o);
    free(pb);

    /* A log record of each severity edge, with a body of every type. */
    tb_log *l1 = tb_log_new(a, 24, tb_bytes(a, "\0\1\2", 3));
    tb_log *l2 = tb_log_new(a, 0, tb_double(a, -0.0));
    tb_logs_req *lreq = tb_logs_req_simple(a, TB_LIST(tb_log, l1, l2));
    pb = seed_pack(&lreq->base, &len);
    sel = seed_sel(MODEL_SIGNAL_LOGS, 1);
    seed_put("otlp_pb", "logs_small_limit", &sel, 1, pb, len);
    free(pb);
    arena_free(a);
}

/* ---- gzip --------------------------------------------------------------- */

/* Compresses in into out: windowBits 15 + 16 gzip, 15 zlib, -15 raw. */
static void seed_deflate(const void *in, size_t len, int level, int window, buf *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        seed_die("deflateInit2");
    size_t bound = deflateBound(&zs, (uLong)len) + 32;
    if (buf_reserve(out, bound) != BUF_OK)
        seed_die("buf_reserve");
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out->ptr + out->len;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        seed_die("deflate");
    out->len += bound - zs.avail_out;
    deflateEnd(&zs);
}

/* byte 0: cap = byte * 61; byte 1: prefill (low 4 bits), level (high). */
static void seed_gz(const char *name, unsigned cap_byte, unsigned flags, const buf *body) {
    uint8_t sel[2] = {(uint8_t)cap_byte, (uint8_t)flags};
    seed_put("gz", name, sel, 2, body->ptr, body->len);
}

static void seed_gzip(const char *fixtures) {
    char path[1024];
    size_t len;
    snprintf(path, sizeof(path), "%s/js_traces.json", fixtures);
    uint8_t *json = seed_read(path, &len);
    snprintf(path, sizeof(path), "%s/js_logs.pb", fixtures);
    size_t pblen;
    uint8_t *pb = seed_read(path, &pblen);
    buf b;
    buf_init(&b, 4 << 20); /* deflateBound() of the bomb's megabyte */

    seed_deflate(json, len, 6, 15 + 16, &b);
    seed_gz("traces_json", 64, 0x00, &b); /* cap 3904 >= 3111 */
    size_t one = b.len;
    seed_deflate(pb, pblen, 9, 15 + 16, &b);
    seed_gz("two_members", 255, 0x35, &b);
    b.len = one / 2;
    seed_gz("truncated", 255, 0x00, &b);
    b.len = one;
    buf_append_str(&b, "xyz");
    seed_gz("trailing_garbage", 255, 0x00, &b);
    b.ptr[one - 6] ^= 0x55; /* inside the CRC-32 of the trailer */
    b.len = one;
    seed_gz("bad_crc", 255, 0x00, &b);

    buf_reset(&b);
    seed_deflate(pb, pblen, 1, 15, &b);
    seed_gz("zlib_stream", 40, 0x8f, &b);

    /* Exactly the cap, and one byte over: 20 * 61 = 1220 bytes. */
    char *fill = malloc(1 << 20);
    if (fill == NULL)
        seed_die("malloc");
    for (size_t i = 0; i < 1220; i++)
        fill[i] = (char)('a' + i % 26);
    buf_reset(&b);
    seed_deflate(fill, 1220, 6, 15 + 16, &b);
    seed_gz("exact_fit", 20, 0x00, &b);
    seed_gz("exact_fit_prefilled", 20, 0x03, &b);
    buf_reset(&b);
    seed_deflate(fill, 1221, 6, 15 + 16, &b);
    seed_gz("one_over", 20, 0x00, &b);

    /* 1 MiB of zeros in about a kilobyte. */
    memset(fill, 0, 1 << 20);
    buf_reset(&b);
    seed_deflate(fill, 1 << 20, 9, 15 + 16, &b);
    seed_gz("bomb", 255, 0x00, &b);
    free(fill);

    buf_reset(&b);
    seed_deflate("", 0, 6, 15 + 16, &b);
    seed_gz("empty_member_cap0", 0, 0x00, &b);
    buf_reset(&b);
    seed_deflate("x", 1, 0, 15 + 16, &b);
    seed_gz("stored_cap0", 0, 0x00, &b);

    /* A header with FHCRC, FEXTRA and FNAME, then raw deflate. */
    buf_reset(&b);
    static const uint8_t head[] = {0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08, 0, 0, 0, 0, 0, 3,
                                   4, 0, 'A', 'B', 0, 0};
    buf_append(&b, head, sizeof(head));
    buf_append(&b, "name.json", 10);
    uLong hcrc = crc32(0, (const Bytef *)b.ptr, (uInt)b.len);
    uint8_t h2[2] = {(uint8_t)hcrc, (uint8_t)(hcrc >> 8)};
    buf_append(&b, h2, 2);
    seed_deflate(json, 200, 6, -15, &b);
    uLong crc = crc32(0, json, 200);
    uint8_t tail[8] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                       (uint8_t)(crc >> 24), 200, 0, 0, 0};
    buf_append(&b, tail, sizeof(tail));
    seed_gz("header_fields", 10, 0x00, &b);

    buf_reset(&b);
    buf_append_str(&b, "not gzip at all");
    seed_gz("not_gzip", 10, 0x00, &b);

    buf_free(&b);
    free(json);
    free(pb);
}

/* ---- API parameters -------------------------------------------------------- */

static void seed_apiparam(void) {
    static const char *const values[] = {
        "1714564800000000000", "18446744073709551615", "18446744073709551616",
        "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789123+02:00",
        "1970-01-01t00:00:00z", "2016-12-31 23:59:60-23:59", "2554-07-21T23:34:33.709551615Z",
        "1969-12-31T23:59:59Z", "2024-02-30T00:00:00Z", "1h30m", "1.5s", "250ms", "2\xc2\xb5s",
        ".5h0.000000001s", "5124095h", "0123456789abcdef0123456789ABCDEF", "0102030405060708",
        "WARNING", "24", "service.name=checkout", "http.status_code!=200", "msg~timeout",
        "latency<-1.5e3", "size>1e309", "k=caf\xc3\xa9", "k=\xed\xa0\x80", "a\tb=c",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "value%02zu", i);
        seed_put("apiparam", name, NULL, 0, values[i], strlen(values[i]));
    }
}

/* Requests for fuzz_api: the method/db byte, the path, "\n" and arguments. */
static void seed_api(void) {
    static const struct {
        const char *name;
        unsigned char sel;
        const char *text;
    } reqs[] = {
        {"healthz", 0, "/healthz"},
        {"services", 0, "/api/v1/services"},
        {"services_head_nodb", 1 | 8, "/api/v1/services"},
        {"trace", 0, "/api/v1/traces/0af7651916cd43dd8448eb211c80319c"},
        {"trace_upper", 0, "/api/v1/traces/0AF7651916CD43DD8448EB211C80319C"},
        {"trace_unknown", 0, "/api/v1/traces/00000000000000000000000000000001"},
        {"trace_bad_id", 0, "/api/v1/traces/0af7/x"},
        {"logs", 0, "/api/v1/logs\nservice=checkout\nminSeverity=warn\nlimit=2"},
        {"logs_page", 1, "/api/v1/logs\nlimit=1\nminSeverity=9"},
        {"logs_cursor", 0, "/api/v1/logs\ncursor=00000000000000000000000000000000\nlimit=1"},
        {"logs_bad", 0, "/api/v1/logs\nlimit=0\nlimit=5\nservice\nminSeverity=loud"},
        {"logs_sql", 0, "/api/v1/logs\nservice=' OR 1=1 --"},
        {"metrics", 0, "/api/v1/metrics\nservice=checkout\nunknown=1"},
        {"post", 2, "/api/v1/metrics"},
        {"not_found", 0, "/api/v2/../v1/logs"},
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
        seed_put("api", reqs[i].name, &reqs[i].sel, 1, reqs[i].text, strlen(reqs[i].text));
    /* A value with a NUL byte inside. */
    static const char nul[] = "/api/v1/logs\nservice=a\0b";
    uint8_t sel = 0;
    seed_put("api", "value_with_nul", &sel, 1, nul, sizeof(nul) - 1);
}

/* Header values for fuzz_http_util, separated by newlines. */
static void seed_http_util(void) {
    static const char *const values[] = {
        "application/json; charset=utf-8\nhttps://app.example.com",
        "Application/X-Protobuf\t\n",
        " GZIP \nidentity",
        "https://*.example.com, http://localhost:3000\nhttps://a.b.example.com",
        "https://*.example.com\nhttps://evil.com/.example.com",
        "*\nnull",
        "Bearer  s3cret \nBearer s3cret\ns3cret\nother",
        "s3cret\nbearer\ts3cret\n\ns3cret",
        "content-type, X-OTLP-API-KEY, authorization, authorization, x-unknown,,",
        "x-gzip, gzip\nhttps://a*b*c",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "headers%02zu", i);
        seed_put("http_util", name, NULL, 0, values[i], strlen(values[i]));
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    seed_root = argv[1];
    seed_otlp(argv[2]);
    seed_gzip(argv[2]);
    seed_apiparam();
    seed_api();
    seed_http_util();
    return seed_failed;
}
