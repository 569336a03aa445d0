/* test_api.c - unit tests for server/api.c: routing, parameter validation,
 * JSON errors, and the query functions over a real in-memory store. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"
#include "storage/query.h"
#include "storage/store.h"

/* ---- helpers ----------------------------------------------------------- */

typedef struct fake_db {
    int calls;
    store_reader *db; /* NULL: the callback fails (no store) */
} fake_db;

static int fake_get_db(void *ud, store_reader **db) {
    fake_db *f = ud;
    f->calls++;
    *db = f->db;
    return f->db != NULL ? 0 : -1;
}

typedef struct result {
    int status;
    const char *allow;
    json_t *doc; /* parsed body, NULL when the body is not JSON */
    buf body;
} result;

/* Runs api_handle on method + path with "k=v" args (NULL-terminated list;
 * "k" alone means a key without '='). */
static result run(fake_db *f, const char *method, const char *path, const char *const *kv) {
    static api_arg args[API_MAX_ARGS + 8];
    static char storage[API_MAX_ARGS + 8][4096];
    size_t n = 0;
    for (; kv != NULL && kv[n] != NULL; n++) {
        ck_assert_uint_lt(n, API_MAX_ARGS + 8);
        snprintf(storage[n], sizeof(storage[n]), "%s", kv[n]);
        char *eq = strchr(storage[n], '=');
        args[n].key = storage[n];
        if (eq != NULL) {
            *eq = '\0';
            args[n].value = eq + 1;
            args[n].value_len = strlen(eq + 1);
        } else {
            args[n].value = NULL;
            args[n].value_len = 0;
        }
    }
    result r;
    memset(&r, 0, sizeof(r));
    api_request req = {.method = method, .path = path, .args = args, .nargs = n};
    buf_init(&r.body, API_MAX_RESPONSE_BYTES);
    r.status = api_handle(&req, fake_get_db, f, &r.body, &r.allow);
    if (r.body.len > 0)
        r.doc = json_loadb(r.body.ptr, r.body.len, 0, NULL);
    return r;
}

static void result_free(result *r) {
    json_decref(r->doc);
    buf_free(&r->body);
}

/* Asserts an error document with the given code; returns its message. */
static const char *error_message(const result *r, const char *code) {
    ck_assert_msg(r->doc != NULL, "body is JSON: %s", r->body.ptr ? r->body.ptr : "(empty)");
    ck_assert_uint_eq(json_object_size(r->doc), 1);
    json_t *e = json_object_get(r->doc, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(json_object_size(e), 2);
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
    const char *msg = json_string_value(json_object_get(e, "message"));
    ck_assert_ptr_nonnull(msg);
    ck_assert_uint_gt(strlen(msg), 0);
    return msg;
}

static void expect_bad_param(const char *path, const char *const *kv, const char *param) {
    fake_db f = {0, NULL};
    result r = run(&f, "GET", path, kv);
    ck_assert_msg(r.status == 400, "%s %s=... gave %d", path, param, r.status);
    const char *msg = error_message(&r, "bad_request");
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "'%s'", param);
    ck_assert_msg(strstr(msg, quoted) != NULL, "message '%s' names %s", msg, param);
    ck_assert_int_eq(f.calls, 0); /* rejected before touching the database */
    result_free(&r);
}

/* Valid parameters reach the database; with none there, that is a 503. */
static void expect_reaches_db(const char *path, const char *const *kv) {
    fake_db f = {0, NULL};
    result r = run(&f, "GET", path, kv);
    ck_assert_msg(r.status == 503, "%s gave %d: %s", path, r.status, r.body.ptr);
    error_message(&r, "unavailable");
    ck_assert_int_eq(f.calls, 1);
    result_free(&r);
}

/* ---- routing ------------------------------------------------------------- */

START_TEST(api_paths) {
    ck_assert_int_eq(api_is_api_path("/healthz"), 1);
    ck_assert_int_eq(api_is_api_path("/api"), 1);
    ck_assert_int_eq(api_is_api_path("/api/"), 1);
    ck_assert_int_eq(api_is_api_path("/api/v1/services"), 1);
    ck_assert_int_eq(api_is_api_path("/apix"), 0);
    ck_assert_int_eq(api_is_api_path("/healthz/"), 0);
    ck_assert_int_eq(api_is_api_path("/"), 0);
    ck_assert_int_eq(api_is_api_path("/index.html"), 0);
    ck_assert_int_eq(api_is_api_path("/API/v1"), 0);
    ck_assert_int_eq(api_is_api_path(NULL), 0);
}
END_TEST

START_TEST(healthz) {
    fake_db f = {0, NULL};
    result r = run(&f, "GET", "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body.ptr, "{\"status\":\"ok\"}");
    ck_assert_ptr_null(r.allow);
    ck_assert_int_eq(f.calls, 0);
    result_free(&r);
    r = run(&f, "HEAD", "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    result_free(&r);
}
END_TEST

START_TEST(unknown_paths) {
    const char *paths[] = {"/api",          "/api/",           "/api/v1",
                           "/api/v1/",      "/api/v2/services", "/api/v1/services/",
                           "/api/v1/traces/0af7651916cd43dd8448eb211c80319c/x",
                           "/api/v1/LOGS", "/api/v1/metrics/series", "/api/v1/metrics/x/y",
                           "/api/v1/metrics//seriesx"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        fake_db f = {0, NULL};
        result r = run(&f, "GET", paths[i], NULL);
        ck_assert_msg(r.status == 404, "%s gave %d", paths[i], r.status);
        error_message(&r, "not_found");
        ck_assert_int_eq(f.calls, 0);
        result_free(&r);
        /* unknown beats wrong method */
        r = run(&f, "POST", paths[i], NULL);
        ck_assert_int_eq(r.status, 404);
        result_free(&r);
    }
}
END_TEST

START_TEST(unknown_path_message_is_bounded) {
    size_t n = 100000;
    char *path = malloc(n + 1);
    ck_assert_ptr_nonnull(path);
    memcpy(path, "/api/", 5);
    memset(path + 5, 'x', n - 5);
    path[n] = '\0';
    fake_db f = {0, NULL};
    result r = run(&f, "GET", path, NULL);
    ck_assert_int_eq(r.status, 404);
    const char *msg = error_message(&r, "not_found");
    ck_assert_uint_lt(strlen(msg), 512);
    result_free(&r);
    /* hostile bytes in the path come back as valid JSON */
    r = run(&f, "GET", "/api/\"<script>\xff\xfe\x01", NULL);
    ck_assert_int_eq(r.status, 404);
    error_message(&r, "not_found");
    ck_assert_ptr_null(strstr(r.body.ptr, "<script>"));
    result_free(&r);
    free(path);
}
END_TEST

START_TEST(method_not_allowed) {
    const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "TRACE"};
    const char *paths[] = {"/healthz", "/api/v1/services", "/api/v1/logs", "/api/v1/metrics",
                           "/api/v1/traces/0af7651916cd43dd8448eb211c80319c", "/api/v1/traces/bad"};
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
            fake_db f = {0, NULL};
            result r = run(&f, methods[m], paths[p], NULL);
            ck_assert_msg(r.status == 405, "%s %s gave %d", methods[m], paths[p], r.status);
            ck_assert_str_eq(r.allow, "GET, HEAD");
            error_message(&r, "method_not_allowed");
            ck_assert_int_eq(f.calls, 0);
            result_free(&r);
        }
    }
}
END_TEST

/* ---- parameters ------------------------------------------------------------ */

START_TEST(trace_ids) {
    const char *bad[] = {"/api/v1/traces/",
                         "/api/v1/traces/xyz",
                         "/api/v1/traces/0af7651916cd43dd8448eb211c80319",
                         "/api/v1/traces/0af7651916cd43dd8448eb211c80319c0",
                         "/api/v1/traces/0af7651916cd43dd8448eb211c80319g",
                         "/api/v1/traces/' OR 1=1 --000000000000000000000",
                         "/api/v1/traces/\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake_db f = {0, NULL};
        result r = run(&f, "GET", bad[i], NULL);
        ck_assert_msg(r.status == 400, "%s gave %d", bad[i], r.status);
        ck_assert_ptr_nonnull(strstr(error_message(&r, "bad_request"), "traceId"));
        ck_assert_int_eq(f.calls, 0);
        result_free(&r);
    }
    expect_reaches_db("/api/v1/traces/0af7651916cd43dd8448eb211c80319c", NULL);
    expect_reaches_db("/api/v1/traces/0AF7651916CD43DD8448EB211C80319C", NULL);
}
END_TEST

START_TEST(logs_params) {
    static const char *const cases[][3] = {
        /* arg, second arg (or NULL), parameter named */
        {"limit=0", NULL, "limit"},
        {"limit=1001", NULL, "limit"},
        {"limit=-1", NULL, "limit"},
        {"limit=abc", NULL, "limit"},
        {"limit=1e3", NULL, "limit"},
        {"limit= 10", NULL, "limit"},
        {"limit=99999999999999999999999999", NULL, "limit"},
        {"limit=1", "limit=2", "limit"},
        {"limit=1", "limit", "limit"}, /* a repeat without a value is still a repeat */
        {"minSeverity=bogus", NULL, "minSeverity"},
        {"minSeverity=25", NULL, "minSeverity"},
        {"minSeverity=-1", NULL, "minSeverity"},
        {"minSeverity=info", "minSeverity=warn", "minSeverity"},
        {"service=\xff\xfe", NULL, "service"},
        {"service=a\nb", NULL, "service"},
        {"service=a", "service=b", "service"},
        {"cursor=\xc3\x28", NULL, "cursor"},
        {"cursor=a\x01", NULL, "cursor"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kv[3] = {cases[i][0], cases[i][1], NULL};
        expect_bad_param("/api/v1/logs", kv, cases[i][2]);
    }
    /* too long */
    static char longsvc[1100], longcur[1100];
    memcpy(longsvc, "service=", 8);
    memset(longsvc + 8, 's', 1025);
    memcpy(longcur, "cursor=", 7);
    memset(longcur + 7, 'c', 1025);
    const char *kv1[] = {longsvc, NULL};
    expect_bad_param("/api/v1/logs", kv1, "service");
    const char *kv2[] = {longcur, NULL};
    expect_bad_param("/api/v1/logs", kv2, "cursor");
    /* metrics validates its service the same way */
    const char *kv3[] = {"service=\xed\xa0\x80", NULL};
    expect_bad_param("/api/v1/metrics", kv3, "service");
}
END_TEST

START_TEST(nul_in_values) {
    /* MHD reports the decoded length; a %00 makes it exceed strlen() */
    api_arg args[1] = {{.key = "service", .value = "ab\0cd", .value_len = 5}};
    api_request req = {.method = "GET", .path = "/api/v1/logs", .args = args, .nargs = 1};
    fake_db f = {0, NULL};
    buf out;
    buf_init(&out, 65536);
    const char *allow;
    ck_assert_int_eq(api_handle(&req, fake_get_db, &f, &out, &allow), 400);
    ck_assert_ptr_nonnull(strstr(out.ptr, "'service'"));
    ck_assert_int_eq(f.calls, 0);
    buf_free(&out);
}
END_TEST

START_TEST(valid_params_reach_the_db) {
    const char *kv1[] = {"service=checkout", "minSeverity=WARN", "limit=1000", "cursor=abc", NULL};
    expect_reaches_db("/api/v1/logs", kv1);
    const char *kv2[] = {"limit=1", "minSeverity=0", "minSeverity=", NULL}; /* empty = unset */
    expect_bad_param("/api/v1/logs", kv2, "minSeverity"); /* but given twice */
    const char *kv3[] = {"service=", "minSeverity=", "limit=", "cursor=", NULL};
    expect_reaches_db("/api/v1/logs", kv3);
    const char *kv4[] = {"service", "limit", "unknown=1", "attr=a=b", "attr=c~d", NULL};
    expect_reaches_db("/api/v1/logs", kv4);
    const char *kv5[] = {"service=' OR '1'='1", NULL};
    expect_reaches_db("/api/v1/logs", kv5);
    expect_reaches_db("/api/v1/metrics", kv5);
    expect_reaches_db("/api/v1/services", NULL);
}
END_TEST

START_TEST(traces_params) {
    static const char *const cases[][2] = {
        {"limit=0", "limit"},
        {"limit=1001", "limit"},
        {"status=failed", "status"},
        {"status=ERROR", "status"},
        {"minDuration=fast", "minDuration"},
        {"minDuration=-1s", "minDuration"},
        {"maxDuration=1x", "maxDuration"},
        {"start=yesterday", "start"},
        {"start=1969-12-31T23:59:59Z", "start"},
        {"end=99999999999999999999999", "end"},
        {"attr=", "attr"},
        {"attr=novalue", "attr"},
        {"attr=k>abc", "attr"},
        {"attr=k<1e999", "attr"},
        {"attr==v", "attr"},
        {"attr=k!v", "attr"},
        {"attr=k~", "attr"},
        {"attr=k=\x01", "attr"},
        {"attr=\xff=1", "attr"},
        {"name=\xc0\x80", "name"},
        {"q=a\x1f" "b", "q"},
        {"cursor=\x7f", "cursor"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kv[] = {cases[i][0], NULL};
        expect_bad_param("/api/v1/traces", kv, cases[i][1]);
    }
    const char *both[] = {"start=2024-01-02T00:00:00Z", "end=2024-01-01T00:00:00Z", NULL};
    expect_bad_param("/api/v1/traces", both, "end");
    const char *dur[] = {"minDuration=2s", "maxDuration=1s", NULL};
    expect_bad_param("/api/v1/traces", dur, "maxDuration");
    char many[QUERY_MAX_ATTRS + 2][16];
    const char *kv[QUERY_MAX_ATTRS + 3];
    for (int i = 0; i <= QUERY_MAX_ATTRS; i++) {
        snprintf(many[i], sizeof(many[i]), "attr=k%d=v", i);
        kv[i] = many[i];
    }
    kv[QUERY_MAX_ATTRS + 1] = NULL;
    expect_bad_param("/api/v1/traces", kv, "attr");
    kv[QUERY_MAX_ATTRS] = NULL; /* exactly the maximum is fine */
    expect_reaches_db("/api/v1/traces", kv);
    const char *good[] = {"service=checkout", "name=GET /cart", "status=error",
                          "attr=http.route=/cart", "attr=code!=200", "attr=db~select",
                          "attr=latency>1.5", "attr=latency<-2e3", "minDuration=250ms",
                          "maxDuration=1.5s", "start=2024-05-01T12:00:00Z",
                          "end=1714568400000000000", "q=timeout", "limit=7", NULL};
    expect_reaches_db("/api/v1/traces", good);
}
END_TEST

START_TEST(logs_new_params) {
    static const char *const cases[][2] = {
        {"traceId=xyz", "traceId"},
        {"traceId=0af7651916cd43dd8448eb211c80319", "traceId"},
        {"spanId=b7ad6b7169203331aa", "spanId"},
        {"attr=a", "attr"},
        {"start=2024-13-01T00:00:00Z", "start"},
        {"q=\x01", "q"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kv[] = {cases[i][0], NULL};
        expect_bad_param("/api/v1/logs", kv, cases[i][1]);
    }
    const char *good[] = {"traceId=0AF7651916CD43DD8448EB211C80319C", "spanId=b7ad6b7169203331",
                          "q=disk \"full\" OR *", "attr=user=u1", "start=0", NULL};
    expect_reaches_db("/api/v1/logs", good);
}
END_TEST

START_TEST(series_params) {
    static const char *const cases[][2] = {
        {"step=0", "step"},
        {"step=fast", "step"},
        {"groupBy=a,,b", "groupBy"},
        {"groupBy=\x01", "groupBy"},
        {"groupBy=a,b,c,d,e,f,g,h,i", "groupBy"},
        {"attr=x", "attr"},
        {"end=garbage", "end"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kv[] = {cases[i][0], NULL};
        expect_bad_param("/api/v1/metrics/http.server.duration/series", kv, cases[i][1]);
    }
    const char *steps[] = {"start=0", "end=1000000000000", "step=1ms", NULL};
    expect_bad_param("/api/v1/metrics/m/series", steps, "step");
    const char *good[] = {"service=api", "start=2024-05-01T12:00:00Z",
                          "end=2024-05-01T13:00:00Z", "step=1m", "groupBy=route,method",
                          "groupBy=service.instance.id", "attr=route=/a", NULL};
    expect_reaches_db("/api/v1/metrics/http.server.duration/series", good);
    expect_reaches_db("/api/v1/metrics/a/b/c/series", NULL); /* names may hold slashes */
    fake_db f = {0, NULL};
    char path[2048];
    snprintf(path, sizeof(path), "/api/v1/metrics/%01100d/series", 0);
    result r = run(&f, "GET", path, NULL);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(error_message(&r, "bad_request"), "'name'"));
    result_free(&r);
}
END_TEST

START_TEST(too_many_args) {
    api_request req = {.method = "GET", .path = "/api/v1/logs", .args = NULL, .nargs = 0,
                       .too_many_args = 1};
    fake_db f = {0, NULL};
    buf out;
    buf_init(&out, 65536);
    const char *allow;
    ck_assert_int_eq(api_handle(&req, fake_get_db, &f, &out, &allow), 400);
    ck_assert_ptr_nonnull(strstr(out.ptr, "too many"));
    ck_assert_int_eq(f.calls, 0);
    buf_free(&out);
}
END_TEST

START_TEST(tiny_output_buffer) {
    /* the error document does not fit: the status still comes back, the
     * body is empty (ui.c then sends a static fallback) */
    api_request req = {.method = "GET", .path = "/api/v1/traces/xyz"};
    fake_db f = {0, NULL};
    buf out;
    buf_init(&out, 16);
    const char *allow;
    ck_assert_int_eq(api_handle(&req, fake_get_db, &f, &out, &allow), 400);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

START_TEST(error_codes) {
    ck_assert_str_eq(api_error_code(400), "bad_request");
    ck_assert_str_eq(api_error_code(404), "not_found");
    ck_assert_str_eq(api_error_code(405), "method_not_allowed");
    ck_assert_str_eq(api_error_code(501), "not_supported");
    ck_assert_str_eq(api_error_code(500), "internal");
    ck_assert_str_eq(api_error_code(503), "unavailable");
    buf out;
    buf_init(&out, 4096);
    buf_append_str(&out, "previous contents");
    api_error_json(&out, "internal", "a \"quoted\" <message>\n");
    json_t *doc = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
                     "a \"quoted\" <message>\n");
    json_decref(doc);
    buf_free(&out);
}
END_TEST

START_TEST(trace_analysis_params) {
    const char *bad_ids[] = {"/api/v1/traces/xyz/analysis", "/api/v1/traces//analysis",
                             "/api/v1/traces/0af7651916cd43dd8448eb211c80319/analysis",
                             "/api/v1/traces/0af7651916cd43dd8448eb211c80319c0/analysis"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
        expect_bad_param(bad_ids[i], NULL, "traceId");
    const char *not_routes[] = {"/api/v1/traces/0af7651916cd43dd8448eb211c80319c/analysis/",
                                "/api/v1/traces/0af7651916cd43dd8448eb211c80319c/analysisx",
                                "/api/v1/traces/0af7651916cd43dd8448eb211c80319c/Analysis",
                                "/api/v1/traces/compare/analysis/x", "/api/v1/traces/compare/"};
    for (size_t i = 0; i < sizeof(not_routes) / sizeof(not_routes[0]); i++) {
        fake_db f = {0, NULL};
        result r = run(&f, "GET", not_routes[i], NULL);
        ck_assert_msg(r.status == 404, "%s gave %d", not_routes[i], r.status);
        ck_assert_ptr_nonnull(strstr(error_message(&r, "not_found"), "no API endpoint"));
        result_free(&r);
    }
    expect_reaches_db("/api/v1/traces/0AF7651916CD43DD8448EB211C80319C/analysis", NULL);
    fake_db f = {0, NULL};
    result r = run(&f, "POST", "/api/v1/traces/0af7651916cd43dd8448eb211c80319c/analysis", NULL);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET, HEAD");
    result_free(&r);
}
END_TEST

START_TEST(trace_compare_params) {
    const char *a = "a=0af7651916cd43dd8448eb211c80319c";
    const char *b = "b=4bf92f3577b34da6a3ce929d0e0e4736";
    expect_bad_param("/api/v1/traces/compare", NULL, "a");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){b, NULL}, "a");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){a, NULL}, "b");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){"a=xyz", b, NULL}, "a");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){a, "b=12", NULL}, "b");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){a, a, b, NULL}, "a");
    expect_bad_param("/api/v1/traces/compare", (const char *const[]){a, "b=", NULL}, "b");
    expect_reaches_db("/api/v1/traces/compare", (const char *const[]){a, b, NULL});
    /* the same trace twice is allowed */
    expect_reaches_db("/api/v1/traces/compare",
                      (const char *const[]){a, "b=0AF7651916CD43DD8448EB211C80319C", NULL});
}
END_TEST

/* ---- with a real (in-memory) store ------------------------------------------ */

static store *mem_store;
static fake_db mem_db;

static void mem_setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    char err[256] = "";
    ck_assert_msg(store_open(&cfg, &mem_store, err, sizeof(err)) == STORE_OK, "%s", err);
    mem_db.calls = 0;
    ck_assert_int_eq(store_reader_open(mem_store, &mem_db.db), 0);
}

static void mem_teardown(void) {
    store_reader_close(mem_db.db);
    mem_db.db = NULL;
    store_close(mem_store);
    mem_store = NULL;
}

static json_t *ok_doc(result *r) {
    ck_assert_msg(r->status == 200, "status %d: %s", r->status, r->body.ptr);
    ck_assert_ptr_nonnull(r->doc);
    ck_assert(json_is_object(r->doc));
    return r->doc;
}

START_TEST(store_lists) {
    result r = run(&mem_db, "GET", "/api/v1/services", NULL);
    ck_assert(json_is_array(json_object_get(ok_doc(&r), "services")));
    result_free(&r);
    const char *kv[] = {"service=checkout", "minSeverity=error", "limit=3", NULL};
    r = run(&mem_db, "GET", "/api/v1/logs", kv);
    ck_assert(json_is_array(json_object_get(ok_doc(&r), "logs")));
    result_free(&r);
    const char *hostile[] = {"service=' OR '1'='1' --", NULL};
    r = run(&mem_db, "GET", "/api/v1/logs", hostile);
    ck_assert_uint_eq(json_array_size(json_object_get(ok_doc(&r), "logs")), 0);
    result_free(&r);
    r = run(&mem_db, "GET", "/api/v1/metrics", hostile);
    ok_doc(&r);
    result_free(&r);
    ck_assert_int_eq(mem_db.calls, 4);
}
END_TEST

START_TEST(store_unknown_trace) {
    result r = run(&mem_db, "GET", "/api/v1/traces/0AF7651916CD43DD8448EB211C80319C", NULL);
    ck_assert_int_eq(r.status, 404);
    const char *msg = error_message(&r, "not_found");
    ck_assert_ptr_nonnull(strstr(msg, "0af7651916cd43dd8448eb211c80319c"));
    result_free(&r);
}
END_TEST

START_TEST(store_bad_cursor) {
    const char *cursors[] = {"cursor=garbage", "cursor=AAAA", "cursor=%00", "cursor=-1",
                             "cursor=99999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
        const char *kv[] = {cursors[i], NULL};
        result r = run(&mem_db, "GET", "/api/v1/logs", kv);
        ck_assert_msg(r.status == 400, "%s gave %d", cursors[i], r.status);
        ck_assert_ptr_nonnull(strstr(error_message(&r, "bad_request"), "'cursor'"));
        result_free(&r);
    }
}
END_TEST

static Suite *api_suite(void) {
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("routing");
    tcase_add_test(tc, api_paths);
    tcase_add_test(tc, healthz);
    tcase_add_test(tc, unknown_paths);
    tcase_add_test(tc, unknown_path_message_is_bounded);
    tcase_add_test(tc, method_not_allowed);
    tcase_add_test(tc, trace_ids);
    tcase_add_test(tc, logs_params);
    tcase_add_test(tc, nul_in_values);
    tcase_add_test(tc, valid_params_reach_the_db);
    tcase_add_test(tc, too_many_args);
    tcase_add_test(tc, traces_params);
    tcase_add_test(tc, logs_new_params);
    tcase_add_test(tc, series_params);
    tcase_add_test(tc, tiny_output_buffer);
    tcase_add_test(tc, error_codes);
    tcase_add_test(tc, trace_analysis_params);
    tcase_add_test(tc, trace_compare_params);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("store");
    tcase_add_checked_fixture(st, mem_setup, mem_teardown);
    tcase_add_test(st, store_lists);
    tcase_add_test(st, store_unknown_trace);
    tcase_add_test(st, store_bad_cursor);
    suite_add_tcase(s, st);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
