/* test_api_trace.c - unit tests for server/api/api_trace.c: loading the
 * spans of a trace answer span by span, refusing documents of another
 * shape, the JSON of the analysis and compare answers, and both routes
 * over a real in-memory store. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"
#include "server/api/api_trace.h"
#include "storage/query.h"
#include "storage/store_fixture.h"

#define TID "0af7651916cd43dd8448eb211c80319c"

/* A span as GET /api/v1/traces/{id} writes it, with the fields the
 * analysis skips (attributes, events, resource) holding nested JSON. */
static void span_json(buf *b, const char *id, const char *parent, const char *service,
                      const char *name, unsigned long long start, unsigned long long end) {
    buf_printf(b,
               "{\"traceId\":\"" TID "\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\","
               "\"name\":\"%s\",\"kind\":\"SERVER\",\"startTimeUnixNano\":\"%llu\","
               "\"endTimeUnixNano\":\"%llu\",\"durationNs\":%llu,"
               "\"status\":{\"code\":\"UNSET\",\"message\":\"\"},"
               "\"attributes\":{\"k\":[1,{\"x\":\"]}\"}],\"s\":\"a,b]\"},"
               "\"events\":[{\"name\":\"e\",\"timeUnixNano\":\"1\",\"attributes\":{}}],"
               "\"links\":[],\"service\":\"%s\",\"resource\":{\"attributes\":{}},"
               "\"scope\":{\"name\":\"\",\"version\":\"\"},\"traceState\":\"\",\"flags\":0,"
               "\"droppedAttributesCount\":0,\"droppedEventsCount\":0,\"droppedLinksCount\":0}",
               id, parent, name, start, end, end - start, service);
}

/* root 0-100 > db SELECT 10-40, db SELECT 50-90 */
static void shop_doc(buf *b, const char *root_name, unsigned long long second_end) {
    buf_init(b, 1 << 20);
    buf_append_str(b, "{\"traceId\":\"" TID "\",\"spans\":[");
    span_json(b, "00000000000000a1", "", "frontend", root_name, 1000, 1100);
    buf_append_char(b, ',');
    span_json(b, "00000000000000b2", "00000000000000a1", "db", "SELECT", 1010, 1040);
    buf_append_char(b, ',');
    span_json(b, "00000000000000c3", "00000000000000a1", "db", "SELECT", 1050, second_end);
    buf_append_str(b, "]}");
}

START_TEST(load_spans) {
    buf doc;
    shop_doc(&doc, "GET /<cart>", 1090);
    api_trace_loaded t;
    ck_assert_int_eq(api_trace_load(doc.ptr, doc.len, &t), QUERY_OK);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.trace_id[0], 0x0a);
    ck_assert_uint_eq(t.trace_id[15], 0x9c);
    ck_assert_str_eq(t.spans[0].service, "frontend");
    ck_assert_str_eq(t.spans[0].name, "GET /<cart>");
    ck_assert_int_eq(t.spans[0].has_parent, 0);
    ck_assert_int_eq(t.spans[1].has_parent, 1);
    ck_assert_uint_eq(t.spans[1].parent_id[7], 0xa1);
    ck_assert_uint_eq(t.spans[2].start_ns, 1050);
    ck_assert_uint_eq(t.spans[2].end_ns, 1090);
    ck_assert_uint_eq(t.analysis.self_ns[0], 30);
    api_trace_free(&t);
    api_trace_free(&t);
    buf_free(&doc);
}
END_TEST

/* Pieces of hand-written trace answers. */
#define DOC(spans) "{\"traceId\":\"" TID "\",\"spans\":[" spans "]}"
#define SPAN_A "{\"spanId\":\"00000000000000a1\",\"parentSpanId\":\"\","
#define TIMES "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\","
#define NAMES "\"service\":\"s\",\"name\":\"n\""

START_TEST(refuses_other_shapes) {
    const char *bad[] = {
        "",
        "{}",
        "[]",
        "{\"traceId\":\"" TID "\",\"spans\":[",
        "{\"traceId\":\"" TID "\",\"spans\":[]",
        "{\"traceId\":\"" TID "\",\"spans\":[]}x",
        "{\"traceId\":\"" TID "\",\"spans\":[1]}",
        "{\"traceId\":\"" TID "\",\"spans\":[{}]}",
        "{\"traceId\":\"xyz\",\"spans\":[]}",
        "{\"spans\":[],\"traceId\":\"" TID "\"}",
        /* a span without a valid id, parent, time, service or name */
        DOC("{\"spanId\":\"zz\",\"parentSpanId\":\"\"," TIMES NAMES "}"),
        DOC("{\"spanId\":\"00000000000000a1\",\"parentSpanId\":\"1\"," TIMES NAMES "}"),
        DOC(SPAN_A "\"startTimeUnixNano\":1,\"endTimeUnixNano\":\"2\"," NAMES "}"),
        DOC(SPAN_A "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"-2\"," NAMES "}"),
        DOC(SPAN_A TIMES "\"service\":null,\"name\":\"n\"}"),
        DOC(SPAN_A TIMES "\"service\":\"s\"}"),
        /* a trailing comma, two spans without a comma */
        DOC(SPAN_A TIMES NAMES "},"),
        DOC(SPAN_A TIMES NAMES "}" SPAN_A TIMES NAMES "}"),
        /* members after the spans: a key that is not a string, no value, a
         * bad value, a trailing comma */
        "{\"traceId\":\"" TID "\",\"spans\":[" SPAN_A TIMES NAMES "}],7:{}}",
        "{\"traceId\":\"" TID "\",\"spans\":[" SPAN_A TIMES NAMES "}],\"resources\"}",
        "{\"traceId\":\"" TID "\",\"spans\":[" SPAN_A TIMES NAMES "}],\"resources\":{]}",
        "{\"traceId\":\"" TID "\",\"spans\":[" SPAN_A TIMES NAMES "}],\"resources\":{},}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        api_trace_loaded t;
        int rc = api_trace_load(bad[i], strlen(bad[i]), &t);
        ck_assert_msg(rc == API_TRACE_EBADDOC, "document %zu gave %d", i, rc);
        ck_assert_ptr_null(t.spans);
        ck_assert_ptr_null(t.strings);
    }
    /* the same span is fine, also with the answer's resources after it */
    const char *good = DOC(SPAN_A TIMES NAMES "}");
    api_trace_loaded t;
    ck_assert_int_eq(api_trace_load(good, strlen(good), &t), QUERY_OK);
    api_trace_free(&t);
    const char *with_res = "{\"traceId\":\"" TID "\",\"spans\":[" SPAN_A TIMES NAMES
                           "}],\"resources\":{\"r1\":{\"service\":\"s\",\"attributes\":{}}},"
                           "\"partial\":true}";
    ck_assert_int_eq(api_trace_load(with_res, strlen(with_res), &t), QUERY_OK);
    ck_assert_uint_eq(t.n, 1);
    api_trace_free(&t);
    /* no spans at all: as if the trace were not there */
    const char *empty = DOC("");
    ck_assert_int_eq(api_trace_load(empty, strlen(empty), &t), QUERY_ENOTFOUND);
}
END_TEST

static json_t *parse(const buf *b) {
    json_error_t err;
    json_t *doc = json_loadb(b->ptr, b->len, 0, &err);
    ck_assert_msg(doc != NULL, "%s: %s", err.text, b->ptr);
    return doc;
}

static long long num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "%s is an integer", key);
    return json_integer_value(v);
}

static const char *str(json_t *obj, const char *key) {
    const char *v = json_string_value(json_object_get(obj, key));
    ck_assert_msg(v != NULL, "%s is a string", key);
    return v;
}

START_TEST(analysis_json) {
    buf doc;
    shop_doc(&doc, "GET /<cart>", 1090);
    api_trace_loaded t;
    ck_assert_int_eq(api_trace_load(doc.ptr, doc.len, &t), QUERY_OK);
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    ck_assert_int_eq(api_trace_analysis_json(&t, &out), BUF_OK);
    json_t *a = parse(&out);
    ck_assert_str_eq(str(a, "traceId"), TID);
    ck_assert_str_eq(str(a, "startTimeUnixNano"), "1000");
    ck_assert_str_eq(str(a, "endTimeUnixNano"), "1100");
    ck_assert_int_eq(num(a, "durationNs"), 100);
    ck_assert_int_eq(num(a, "spanCount"), 3);
    ck_assert_str_eq(str(a, "rootSpanId"), "00000000000000a1");
    ck_assert_uint_eq(json_array_size(json_object_get(a, "otherRootSpanIds")), 0);
    ck_assert_int_eq(num(a, "criticalPathNs"), 100);
    json_t *path = json_object_get(a, "criticalPath");
    ck_assert_uint_eq(json_array_size(path), 5);
    json_t *seg = json_array_get(path, 1);
    ck_assert_str_eq(str(seg, "spanId"), "00000000000000b2");
    ck_assert_str_eq(str(seg, "service"), "db");
    ck_assert_str_eq(str(seg, "name"), "SELECT");
    ck_assert_str_eq(str(seg, "startTimeUnixNano"), "1010");
    ck_assert_str_eq(str(seg, "endTimeUnixNano"), "1040");
    ck_assert_int_eq(num(seg, "durationNs"), 30);
    json_t *spans = json_object_get(a, "spans");
    ck_assert_uint_eq(json_object_size(spans), 3);
    json_t *root = json_object_get(spans, "00000000000000a1");
    ck_assert_int_eq(num(root, "selfNs"), 30);
    ck_assert_int_eq(num(root, "criticalNs"), 30);
    ck_assert(json_is_true(json_object_get(root, "critical")));
    json_t *stats = json_object_get(a, "stats");
    ck_assert_uint_eq(json_array_size(stats), 2);
    json_t *sel = json_array_get(stats, 0);
    ck_assert_str_eq(str(sel, "service"), "db");
    ck_assert_str_eq(str(sel, "name"), "SELECT");
    ck_assert_int_eq(num(sel, "count"), 2);
    ck_assert_int_eq(num(sel, "totalNs"), 70);
    ck_assert_int_eq(num(sel, "selfNs"), 70);
    ck_assert_int_eq(num(sel, "criticalNs"), 70);
    ck_assert(json_real_value(json_object_get(sel, "percent")) == 70.0);
    ck_assert(json_real_value(json_object_get(json_array_get(stats, 1), "percent")) == 30.0);
    /* names are escaped for HTML too */
    ck_assert_ptr_nonnull(strstr(out.ptr, "GET /\\u003ccart\\u003e"));
    json_decref(a);
    buf_free(&out);
    api_trace_free(&t);
    buf_free(&doc);
}
END_TEST

START_TEST(compare_json) {
    buf da, db;
    shop_doc(&da, "GET /cart", 1090);
    api_trace_loaded a, b;
    ck_assert_int_eq(api_trace_load(da.ptr, da.len, &a), QUERY_OK);
    /* b: the root ends at 1200, the second SELECT at 1150, and a cache call
     * only b has */
    buf_init(&db, 1 << 20);
    buf_append_str(&db, "{\"traceId\":\"" TID "\",\"spans\":[");
    span_json(&db, "00000000000000a1", "", "frontend", "GET /cart", 1000, 1200);
    buf_append_char(&db, ',');
    span_json(&db, "00000000000000b2", "00000000000000a1", "db", "SELECT", 1010, 1040);
    buf_append_char(&db, ',');
    span_json(&db, "00000000000000c3", "00000000000000a1", "db", "SELECT", 1050, 1150);
    buf_append_char(&db, ',');
    span_json(&db, "00000000000000d4", "00000000000000a1", "cache", "GET", 1150, 1160);
    buf_append_str(&db, "]}");
    ck_assert_int_eq(api_trace_load(db.ptr, db.len, &b), QUERY_OK);
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    ck_assert_int_eq(api_trace_compare_json(&a, &b, &out), BUF_OK);
    json_t *c = parse(&out);
    ck_assert_int_eq(num(json_object_get(c, "a"), "durationNs"), 100);
    ck_assert_int_eq(num(json_object_get(c, "b"), "durationNs"), 200);
    ck_assert_str_eq(str(json_object_get(c, "b"), "rootName"), "GET /cart");
    ck_assert_int_eq(num(c, "diffNs"), 100);
    json_t *sum = json_object_get(c, "summary");
    ck_assert_int_eq(num(sum, "nodes"), 4);
    ck_assert_int_eq(num(sum, "both"), 3);
    ck_assert_int_eq(num(sum, "onlyInA"), 0);
    ck_assert_int_eq(num(sum, "onlyInB"), 1);
    /* self time: SELECT #2 +60, the root 30 -> 60 (+30), cache GET +10 */
    json_t *slow = json_object_get(sum, "slowdowns");
    ck_assert_uint_eq(json_array_size(slow), 3);
    ck_assert_str_eq(str(json_array_get(slow, 0), "name"), "SELECT");
    ck_assert_int_eq(num(json_array_get(slow, 0), "selfDiffNs"), 60);
    ck_assert_int_eq(num(json_array_get(slow, 1), "selfDiffNs"), 30);
    ck_assert_int_eq(num(json_array_get(slow, 1), "node"), 0);
    ck_assert_int_eq(num(json_array_get(slow, 2), "selfDiffNs"), 10);
    ck_assert_uint_eq(json_array_size(json_object_get(sum, "speedups")), 0);
    json_t *nodes = json_object_get(c, "nodes");
    ck_assert_uint_eq(json_array_size(nodes), 4);
    json_t *root = json_array_get(nodes, 0);
    ck_assert(json_is_null(json_object_get(root, "parent")));
    ck_assert_str_eq(str(root, "in"), "both");
    ck_assert_int_eq(num(root, "diffNs"), 100);
    ck_assert_int_eq(num(json_object_get(root, "a"), "subtreeSpans"), 3);
    ck_assert_int_eq(num(json_object_get(root, "b"), "subtreeSpans"), 4);
    json_t *cache = json_array_get(nodes, 3);
    ck_assert_str_eq(str(cache, "service"), "cache");
    ck_assert_str_eq(str(cache, "in"), "b");
    ck_assert(json_is_null(json_object_get(cache, "a")));
    ck_assert_int_eq(num(cache, "parent"), 0);
    ck_assert_int_eq(num(cache, "depth"), 1);
    ck_assert_int_eq(num(json_object_get(cache, "b"), "startOffsetNs"), 150);
    ck_assert_int_eq(num(cache, "diffNs"), 10);
    json_decref(c);
    buf_free(&out);
    api_trace_free(&a);
    api_trace_free(&b);
    buf_free(&da);
    buf_free(&db);
}
END_TEST

/* An answer that does not fit the output buffer is an error, not a cut
 * document. */
START_TEST(output_too_small) {
    buf doc;
    shop_doc(&doc, "GET /", 1090);
    api_trace_loaded t;
    ck_assert_int_eq(api_trace_load(doc.ptr, doc.len, &t), QUERY_OK);
    buf out;
    buf_init(&out, 64);
    ck_assert_int_eq(api_trace_analysis_json(&t, &out), BUF_ETOOBIG);
    ck_assert_int_eq(api_trace_compare_json(&t, &t, &out), BUF_ETOOBIG);
    buf_free(&out);
    api_trace_free(&t);
    buf_free(&doc);
}
END_TEST

/* ---- the routes over a real store ------------------------------------------------ */

static store *mem_store;
static store_reader *mem_reader;

static int mem_get_db(void *ud, store_reader **db) {
    (void)ud;
    *db = mem_reader;
    return 0;
}

/* trace 1: root 1000-1100 > SELECT 1010-1040, SELECT 1050-1090 (service
 * "shop"); trace 2: the same with the second SELECT 1050-1150 and the root
 * ending at 1200. */
static void mem_setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    char err[256] = "";
    ck_assert_msg(store_open(&cfg, &mem_store, err, sizeof(err)) == STORE_OK, "%s", err);
    ck_assert_int_eq(store_reader_open(mem_store, &mem_reader), 0);
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    ck_assert_ptr_nonnull(b);
    fx_spans(b, 6);
    model_resource *r = fx_resource(b, "shop", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_span(b, r, sc, 1, 10, 0, "GET /cart", 1000, 1100);
    fx_span(b, r, sc, 1, 11, 10, "SELECT", 1010, 1040);
    fx_span(b, r, sc, 1, 12, 10, "SELECT", 1050, 1090);
    fx_span(b, r, sc, 2, 20, 0, "GET /cart", 1000, 1200);
    fx_span(b, r, sc, 2, 21, 20, "SELECT", 1010, 1040);
    fx_span(b, r, sc, 2, 22, 20, "SELECT", 1050, 1150);
    ck_assert_int_eq(fx_commit(mem_store, b), STORE_OK);
}

static void mem_teardown(void) {
    store_reader_close(mem_reader);
    mem_reader = NULL;
    store_close(mem_store);
    mem_store = NULL;
}

static void trace_hex(uint64_t seed, char hex[33]) {
    uint8_t id[16];
    fx_id(id, 16, seed);
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

/* GET path?args through api_handle; the parsed body (never NULL). */
static json_t *get(const char *path, const api_arg *args, size_t nargs, int *status) {
    api_request req = {.method = "GET", .path = path, .args = args, .nargs = nargs};
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    const char *allow;
    *status = api_handle(&req, mem_get_db, NULL, &out, &allow);
    json_t *doc = parse(&out);
    buf_free(&out);
    return doc;
}

START_TEST(store_analysis) {
    char hex[33], path[128];
    trace_hex(1, hex);
    snprintf(path, sizeof(path), "/api/v1/traces/%s/analysis", hex);
    int status;
    json_t *a = get(path, NULL, 0, &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(str(a, "traceId"), hex);
    ck_assert_int_eq(num(a, "durationNs"), 100);
    ck_assert_int_eq(num(a, "spanCount"), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "criticalPath")), 5);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "stats")), 2);
    json_decref(a);
    /* a trace that is not there, in upper case */
    trace_hex(3, hex);
    for (char *c = hex; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf(path, sizeof(path), "/api/v1/traces/%s/analysis", hex);
    a = get(path, NULL, 0, &status);
    ck_assert_int_eq(status, 404);
    ck_assert_str_eq(str(json_object_get(a, "error"), "code"), "not_found");
    json_decref(a);
}
END_TEST

START_TEST(store_compare) {
    char ha[33], hb[33], hc[33];
    trace_hex(1, ha);
    trace_hex(2, hb);
    trace_hex(3, hc);
    api_arg args[2] = {{"a", ha, 32}, {"b", hb, 32}};
    int status;
    json_t *c = get("/api/v1/traces/compare", args, 2, &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(str(json_object_get(c, "a"), "traceId"), ha);
    ck_assert_str_eq(str(json_object_get(c, "b"), "traceId"), hb);
    ck_assert_int_eq(num(c, "diffNs"), 100);
    json_t *sum = json_object_get(c, "summary");
    ck_assert_int_eq(num(sum, "both"), 3);
    ck_assert_int_eq(num(sum, "onlyInA"), 0);
    ck_assert_int_eq(num(sum, "onlyInB"), 0);
    json_t *top = json_array_get(json_object_get(sum, "slowdowns"), 0);
    ck_assert_str_eq(str(top, "name"), "SELECT");
    ck_assert_int_eq(num(top, "selfDiffNs"), 60);
    json_decref(c);
    /* either trace missing: 404 naming which */
    api_arg missing_b[2] = {{"a", ha, 32}, {"b", hc, 32}};
    c = get("/api/v1/traces/compare", missing_b, 2, &status);
    ck_assert_int_eq(status, 404);
    const char *msg = str(json_object_get(c, "error"), "message");
    ck_assert_ptr_nonnull(strstr(msg, "'b'"));
    ck_assert_ptr_nonnull(strstr(msg, hc));
    json_decref(c);
    api_arg missing_a[2] = {{"a", hc, 32}, {"b", hb, 32}};
    c = get("/api/v1/traces/compare", missing_a, 2, &status);
    ck_assert_int_eq(status, 404);
    ck_assert_ptr_nonnull(strstr(str(json_object_get(c, "error"), "message"), "'a'"));
    json_decref(c);
}
END_TEST

static Suite *api_trace_suite(void) {
    Suite *s = suite_create("api_trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, load_spans);
    tcase_add_test(tc, refuses_other_shapes);
    tcase_add_test(tc, analysis_json);
    tcase_add_test(tc, compare_json);
    tcase_add_test(tc, output_too_small);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("store");
    tcase_add_checked_fixture(st, mem_setup, mem_teardown);
    tcase_add_test(st, store_analysis);
    tcase_add_test(st, store_compare);
    suite_add_tcase(s, st);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(api_trace_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
