/* test_mcp.c - unit tests for the MCP endpoint: JSON-RPC validation
 * (mcp_rpc.c), the Origin check and transport rules (mcp.c), the bounded
 * answers (mcp_text.c), and tools over a fake in-process API. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/api/mcp.h"
#include "server/api/mcp_rpc.h"
#include "server/api/mcp_text.h"

/* ---- JSON-RPC messages ---- */

static mcp_msg_kind kind_of(const char *json, const char **why) {
    json_t *m = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    ck_assert_msg(m != NULL, "%s is JSON", json);
    mcp_msg msg;
    mcp_rpc_classify(m, &msg);
    *why = msg.why;
    json_decref(m);
    return msg.kind;
}

START_TEST(rpc_classify) {
    static const struct {
        const char *json;
        mcp_msg_kind kind;
    } cases[] = {
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", MCP_MSG_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":{}}", MCP_MSG_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", MCP_MSG_NOTIFICATION},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", MCP_MSG_RESPONSE},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-1,\"message\":\"m\"}}",
         MCP_MSG_RESPONSE},
        {"[]", MCP_MSG_INVALID},
        {"\"ping\"", MCP_MSG_INVALID},
        {"{\"id\":1,\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\\u0000q\"}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"result\":{}}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{}}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"result\":{}}", MCP_MSG_INVALID},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
         MCP_MSG_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        mcp_msg_kind k = kind_of(cases[i].json, &why);
        ck_assert_msg(k == cases[i].kind, "%s: kind %d, want %d", cases[i].json, k,
                      cases[i].kind);
        ck_assert_msg((k == MCP_MSG_INVALID) == (why != NULL), "%s: reason", cases[i].json);
    }
}
END_TEST

START_TEST(rpc_invalid_keeps_a_valid_id) {
    json_t *m = json_loads("{\"jsonrpc\":\"1.0\",\"id\":\"q\",\"method\":\"x\"}", 0, NULL);
    mcp_msg msg;
    mcp_rpc_classify(m, &msg);
    ck_assert_int_eq(msg.kind, MCP_MSG_INVALID);
    ck_assert_str_eq(json_string_value(msg.id), "q");
    json_t *e = mcp_rpc_error(msg.id, MCP_RPC_INVALID_REQUEST, msg.why);
    char *s = json_dumps(e, JSON_COMPACT);
    ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"error\":{\"code\":-32600,"
                        "\"message\":\"'jsonrpc' must be \\\"2.0\\\"\"}}");
    free(s);
    json_decref(e);
    json_decref(m);
    json_t *r = mcp_rpc_result(NULL, json_object());
    s = json_dumps(r, JSON_COMPACT);
    ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}");
    free(s);
    json_decref(r);
    ck_assert_ptr_null(mcp_rpc_result(NULL, NULL));
}
END_TEST

/* ---- Origin ---- */

START_TEST(origins) {
    static const struct {
        const char *origin, *host;
        int ok;
    } cases[] = {
        {NULL, "example.com", 1},
        {"http://localhost:5173", "evil.com:18888", 1},
        {"http://LOCALHOST", NULL, 1},
        {"https://app.localhost:8443", NULL, 1},
        {"http://127.0.0.1:18888", NULL, 1},
        {"http://127.255.0.9", NULL, 1},
        {"http://[::1]:3000", NULL, 1},
        {"http://[::1]:3000/", NULL, 1},
        {"http://192.168.1.5:18888", "192.168.1.5:18888", 1},
        {"http://[fe80::1]:18888", "[FE80::1]:18888", 1},
        {"http://192.168.1.5:8080", "192.168.1.5:18888", 0},
        {"http://evil.com:18888", "evil.com:18888", 0}, /* DNS rebinding: the name says nothing */
        {"http://localhost.evil.com", NULL, 0},
        {"http://127.0.0.1.nip.io", NULL, 0},
        {"http://128.0.0.1", NULL, 0},
        {"http://[::2]", NULL, 0},
        {"null", "localhost:18888", 0},
        {"", NULL, 0},
        {"localhost", NULL, 0},
        {"http://localhost/path", NULL, 0},
        {"http://", NULL, 0},
        {"http://[::1", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(mcp_origin_allowed(cases[i].origin, cases[i].host) == cases[i].ok,
                      "%s (Host %s) should be %s", cases[i].origin ? cases[i].origin : "(none)",
                      cases[i].host ? cases[i].host : "(none)",
                      cases[i].ok ? "allowed" : "refused");
}
END_TEST

/* ---- the endpoint over a fake API ---- */

/* Canned API answers by path prefix; every request is recorded. */
static char api_seen[16][512];
static int api_nseen;

static int fake_api(void *ud, const char *target, buf *out) {
    (void)ud;
    if (api_nseen < 16)
        snprintf(api_seen[api_nseen++], sizeof(api_seen[0]), "%s", target);
    buf_reset(out);
    if (strncmp(target, "/api/v1/traces?", 15) == 0 && strstr(target, "status=broken") != NULL) {
        buf_append_str(out, "{\"error\":{\"code\":\"bad_request\",\"message\":\"parameter "
                            "'status' must be error, ok or unset\"}}");
        return 400;
    }
    if (strncmp(target, "/api/v1/traces/", 15) == 0) {
        /* root, a child, a grandchild, an orphan and a pair in a cycle */
        buf_append_str(out,
            "{\"traceId\":\"t1\",\"spans\":["
            "{\"traceId\":\"t1\",\"spanId\":\"r\",\"parentSpanId\":\"\",\"name\":\"root\","
            "\"kind\":\"SERVER\",\"service\":\"svc\",\"startTimeUnixNano\":\"1000\","
            "\"endTimeUnixNano\":\"11000\",\"durationNs\":10000,\"status\":{\"code\":\"UNSET\"}},"
            "{\"traceId\":\"t1\",\"spanId\":\"c\",\"parentSpanId\":\"r\",\"name\":\"child\","
            "\"kind\":\"CLIENT\",\"service\":\"svc\",\"startTimeUnixNano\":\"2000\","
            "\"endTimeUnixNano\":\"6000\",\"durationNs\":4000,\"status\":{\"code\":\"ERROR\","
            "\"message\":\"boom\"},\"events\":[{\"name\":\"exception\",\"attributes\":"
            "{\"exception.type\":\"IOError\",\"exception.message\":\"disk\"}}]},"
            "{\"traceId\":\"t1\",\"spanId\":\"g\",\"parentSpanId\":\"c\",\"name\":\"grandchild\","
            "\"kind\":\"INTERNAL\",\"service\":\"db\",\"startTimeUnixNano\":\"3000\","
            "\"endTimeUnixNano\":\"4000\",\"durationNs\":1000,\"status\":{\"code\":\"OK\"}},"
            "{\"traceId\":\"t1\",\"spanId\":\"o\",\"parentSpanId\":\"missing\",\"name\":\"orphan\","
            "\"kind\":\"INTERNAL\",\"service\":\"svc\",\"startTimeUnixNano\":\"5000\","
            "\"endTimeUnixNano\":\"5500\",\"durationNs\":500,\"status\":{\"code\":\"UNSET\"}},"
            "{\"traceId\":\"t1\",\"spanId\":\"x\",\"parentSpanId\":\"y\",\"name\":\"loop-x\","
            "\"kind\":\"INTERNAL\",\"service\":\"svc\",\"startTimeUnixNano\":\"6000\","
            "\"endTimeUnixNano\":\"6100\",\"durationNs\":100,\"status\":{\"code\":\"UNSET\"}},"
            "{\"traceId\":\"t1\",\"spanId\":\"y\",\"parentSpanId\":\"x\",\"name\":\"loop-y\","
            "\"kind\":\"INTERNAL\",\"service\":\"svc\",\"startTimeUnixNano\":\"7000\","
            "\"endTimeUnixNano\":\"7100\",\"durationNs\":100,\"status\":{\"code\":\"UNSET\"}}"
            "]}");
        return 200;
    }
    if (strncmp(target, "/api/v1/metrics/h/series", 24) == 0) {
        /* two cumulative-diff points with the same bounds, one with others */
        buf_append_str(out,
            "{\"name\":\"h\",\"type\":\"histogram\",\"unit\":\"ms\",\"temporality\":"
            "\"cumulative\",\"monotonic\":false,\"series\":[{\"attributes\":{\"r\":\"/a\"},"
            "\"service\":\"svc\",\"instance\":\"\",\"points\":["
            "{\"timeUnixNano\":\"1\",\"count\":10,\"sum\":150,\"min\":1,\"max\":19,"
            "\"bounds\":[0,10,20],\"counts\":[0,5,5,0]},"
            "{\"timeUnixNano\":\"2\",\"count\":10,\"sum\":150,\"min\":0,\"max\":20,"
            "\"bounds\":[0,10,20],\"counts\":[0,5,5,0]},"
            "{\"timeUnixNano\":\"3\",\"count\":1,\"sum\":1,\"bounds\":[5],\"counts\":[1,0]}"
            "]}]}");
        return 200;
    }
    if (strncmp(target, "/api/v1/ingest/requests?", 24) == 0 && strstr(target, "service=off")) {
        buf_append_str(out, "{\"enabled\":false,\"capacity\":0,\"head\":0,\"requests\":[],"
                            "\"nextCursor\":null}");
        return 200;
    }
    if (strncmp(target, "/api/v1/ingest/requests?", 24) == 0) {
        buf_append_str(out,
            "{\"enabled\":true,\"capacity\":1000,\"head\":7,\"requests\":[{\"id\":7,"
            "\"timeUnixNano\":\"2000000000000000000\",\"ackNs\":1500,\"transport\":\"grpc\","
            "\"protocol\":\"grpc\",\"path\":\"/x\",\"signal\":\"traces\",\"wireBytes\":2048,"
            "\"decodedBytes\":null,\"items\":0,\"rejectedItems\":0,\"outcome\":\"error\","
            "\"httpStatus\":200,\"grpcStatus\":8,\"grpcStatusName\":\"RESOURCE_EXHAUSTED\","
            "\"reason\":\"body_too_large\",\"message\":\"m\",\"hint\":\"RESOURCE_EXHAUSTED: "
            "lower the batch\",\"client\":\"10.0.0.1\",\"userAgent\":\"ua\\u001b[2J\","
            "\"service\":null,\"sdk\":null}],\"nextCursor\":null}");
        return 200;
    }
    if (strcmp(target, "/api/v1/lint?service=nope") == 0) {
        buf_append_str(out, "{\"error\":{\"code\":\"not_found\",\"message\":"
                            "\"no service named 'nope'\"}}");
        return 404;
    }
    if (strncmp(target, "/api/v1/lint", 12) == 0) {
        buf_append_str(out,
            "{\"semconvVersion\":\"1.44.0\",\"summary\":{\"error\":1,\"warning\":0,"
            "\"info\":1},\"findings\":["
            "{\"rule\":\"missing-service-name\",\"severity\":\"error\",\"service\":"
            "\"unknown_service:node\",\"key\":\"\",\"count\":3,\"detail\":\"\",\"hint\":"
            "\"Set OTEL_SERVICE_NAME.\",\"examples\":[{\"signal\":\"span\",\"traceId\":"
            "\"t1\",\"spanId\":\"s1\",\"timeUnixNano\":\"5\"}]},"
            "{\"rule\":\"deprecated-attribute\",\"severity\":\"info\",\"service\":\"svc\","
            "\"key\":\"http.method\",\"count\":7,\"detail\":\"\",\"hint\":\"Rename it.\","
            "\"examples\":[{\"signal\":\"metric\",\"metric\":\"m1\","
            "\"timeUnixNano\":\"6\"}]}]}");
        return 200;
    }
    if (strncmp(target, "/api/v1/traces", 14) == 0) {
        buf_append_str(out, "{\"traces\":[{\"traceId\":\"t1\",\"rootService\":\"svc\","
                            "\"rootName\":\"root\",\"startTimeUnixNano\":\"1000\","
                            "\"durationNs\":10000,\"spanCount\":6,\"errorCount\":1,"
                            "\"services\":[{\"name\":\"svc\",\"spanCount\":5},"
                            "{\"name\":\"db\",\"spanCount\":1}]}],\"nextCursor\":\"next-1\"}");
        return 200;
    }
    buf_append_str(out, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such thing\"}}");
    return 404;
}

static mcp_env fake_env = {fake_api, NULL, "9.9.9", 2000000000000000000ULL};

/* POSTs body with the usual headers; returns the status, *doc the answer. */
static int post(const char *body, const char *version, json_t **doc) {
    mcp_http_request r = {"POST", "application/json", "application/json, text/event-stream",
                          version, body, strlen(body)};
    buf out;
    buf_init(&out, 1 << 20);
    const char *allow;
    int st = mcp_handle(&r, &fake_env, &out, &allow);
    *doc = out.len > 0 ? json_loadb(out.ptr, out.len, 0, NULL) : NULL;
    buf_free(&out);
    return st;
}

/* The text of a tools/call result. */
static const char *tool_text(json_t *doc, int *is_error) {
    json_t *res = json_object_get(doc, "result");
    *is_error = json_is_true(json_object_get(res, "isError"));
    return json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0),
                                             "text"));
}

START_TEST(transport_rules) {
    buf out;
    buf_init(&out, 65536);
    const char *allow;
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    mcp_http_request r = {"GET", NULL, "text/event-stream", NULL, NULL, 0};
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 405);
    ck_assert_str_eq(allow, "POST");
    r = (mcp_http_request){"DELETE", NULL, NULL, NULL, NULL, 0};
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 405);
    r = (mcp_http_request){"POST", "text/plain", NULL, NULL, body, strlen(body)};
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 415);
    r = (mcp_http_request){"POST", NULL, NULL, NULL, body, strlen(body)};
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 415);
    r = (mcp_http_request){"POST", "application/json; charset=utf-8", "text/html", NULL, body,
                           strlen(body)};
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 406);
    r.accept = "text/event-stream, application/*;q=0.5";
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 200);
    r.accept = "*/*";
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 200);
    r.accept = NULL;
    r.protocol_version = "2024-11-05";
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 400);
    r.protocol_version = "2025-06-18";
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 200);
    r.body_len = MCP_MAX_BODY + 1;
    ck_assert_int_eq(mcp_handle(&r, &fake_env, &out, &allow), 413);
    buf_free(&out);
    ck_assert_int_eq(mcp_protocol_supported("2025-11-25"), 1);
    ck_assert_int_eq(mcp_protocol_supported("2025-11-2"), 0);
    ck_assert_int_eq(mcp_protocol_supported(NULL), 0);
}
END_TEST

START_TEST(lifecycle_and_errors) {
    json_t *doc;
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                          "{\"protocolVersion\":\"2031-01-01\",\"capabilities\":{}}}",
                          NULL, &doc),
                     200);
    json_t *res = json_object_get(doc, "result");
    ck_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")), "2025-11-25");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "serverInfo"),
                                                       "version")),
                     "9.9.9");
    json_decref(doc);
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"}",
                          "2025-11-25", &doc),
                     202);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(post("not json", NULL, &doc), 400);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "error"), "code")),
                     -32700);
    json_decref(doc);
    ck_assert_int_eq(post("{\"a\":1,\"a\":2}", NULL, &doc), 400); /* duplicate keys */
    json_decref(doc);
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/list\"}", NULL,
                          &doc),
                     200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "error"), "code")),
                     -32601);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "id")), 5);
    json_decref(doc);
    /* batches: only under 2025-03-26; initialize not inside one */
    ck_assert_int_eq(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                          "{\"protocolVersion\":\"2025-03-26\"}},"
                          "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]",
                          "2025-03-26", &doc),
                     200);
    ck_assert_int_eq(json_array_size(doc), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_array_get(doc, 0), "error"), "code")),
                     -32600);
    json_decref(doc);
    ck_assert_int_eq(post("[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]", "2025-11-25",
                          &doc),
                     400);
    json_decref(doc);
    char many[8192] = "[";
    for (int i = 0; i < 65; i++)
        strncat(many, "{\"jsonrpc\":\"2.0\",\"method\":\"n\"},", sizeof(many) - strlen(many) - 1);
    many[strlen(many) - 1] = ']';
    ck_assert_int_eq(post(many, NULL, &doc), 400);
    json_decref(doc);
}
END_TEST

START_TEST(tools_over_the_api) {
    json_t *doc;
    int is_error;
    api_nseen = 0;
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"search_traces\",\"arguments\":{\"service\":\"a b\","
                          "\"attrs\":[\"k=v&w\"],\"since\":\"1h\",\"limit\":5}}}",
                          NULL, &doc),
                     200);
    const char *text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_ptr_nonnull(strstr(text, "1 traces (newest first; since 2033-05-18T02:33:20.000Z)"));
    ck_assert_ptr_nonnull(strstr(text, "- t1  "));
    ck_assert_ptr_nonnull(strstr(text, "svc: root  6 spans, 1 error  services: svc(5) db(1)"));
    ck_assert_ptr_nonnull(strstr(text, "cursor=\"next-1\""));
    json_decref(doc);
    /* the API request: parameters encoded, since counted back from now */
    ck_assert_str_eq(api_seen[0], "/api/v1/traces?service=a%20b&attr=k%3Dv%26w"
                                  "&start=1999996400000000000&limit=5");

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"search_traces\",\"arguments\":{\"status\":\"broken\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 1);
    ck_assert_str_eq(text, "loupe refused the query: parameter 'status' must be error, ok or "
                           "unset.\n");
    json_decref(doc);

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"get_trace\",\"arguments\":{\"traceId\":\"t1\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_ptr_nonnull(strstr(text, "6 spans, 2 services (svc, db), 1 error spans"));
    ck_assert_ptr_nonnull(strstr(text, "svc: child (span c): boom (exception IOError: disk)"));
    ck_assert_ptr_nonnull(strstr(text, "- 10us (self 6us) svc: root (span r)"));
    /* the tree: every span once, children under parents, orphans and the
     * cycle as trees of their own */
    ck_assert_ptr_nonnull(strstr(text, "- +0ns 10us svc: root [SERVER, span r]\n"
                                       "  - +1us 4us svc: child [CLIENT, span c] ERROR: boom "
                                       "(exception IOError: disk)\n"
                                       "    - +2us 1us db: grandchild [INTERNAL, span g]\n"
                                       "- +4us 500ns svc: orphan [INTERNAL, span o]\n"
                                       "- +5us 100ns svc: loop-x [INTERNAL, span x]\n"
                                       "  - +6us 100ns svc: loop-y [INTERNAL, span y]\n"));
    json_decref(doc);

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"get_trace\",\"arguments\":{}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 1);
    ck_assert_str_eq(text, "Argument 'traceId' is required.\n");
    json_decref(doc);

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"search_logs\",\"arguments\":{\"limit\":\"ten\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 1);
    ck_assert_ptr_nonnull(strstr(text, "'limit' must be an integer from 1 to 200"));
    json_decref(doc);
}
END_TEST

START_TEST(ingest_tool) {
    json_t *doc;
    int is_error;
    api_nseen = 0;
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"ingest_requests\",\"arguments\":{\"outcome\":\"error\","
                          "\"transport\":\"grpc\",\"limit\":3}}}",
                          NULL, &doc),
                     200);
    const char *text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_str_eq(api_seen[0], "/api/v1/ingest/requests?outcome=error&transport=grpc&limit=3");
    ck_assert_ptr_nonnull(strstr(text, "- #7 2033-05-18T03:33:20.000Z error (RESOURCE_EXHAUSTED) "
                                       "grpc traces: 0 items (0 rejected), 2.0 KiB on the wire, "
                                       "? decoded, answered in 1.5us; service (no service.name), "
                                       "unknown SDK; client 10.0.0.1 \"ua [2J\"\n"));
    ck_assert_ptr_nonnull(strstr(text, "  what to do: RESOURCE_EXHAUSTED: lower the batch\n"));
    json_decref(doc);
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"ingest_requests\",\"arguments\":{\"service\":\"off\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_ptr_nonnull(strstr(text, "The ingest inspector is off"));
    json_decref(doc);
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"ingest_requests\",\"arguments\":{\"view\":\"both\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 1);
    ck_assert_ptr_nonnull(strstr(text, "'view' must be requests or clients"));
    json_decref(doc);
}
END_TEST

START_TEST(lint_tool) {
    json_t *doc;
    int is_error;
    api_nseen = 0;
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"lint\",\"arguments\":{}}}",
                          NULL, &doc),
                     200);
    const char *text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_ptr_nonnull(strstr(text, "1 errors, 0 warnings, 1 info"));
    ck_assert_ptr_nonnull(strstr(text, "- [error] unknown_service:node: missing-service-name, 3. "
                                       "Fix: Set OTEL_SERVICE_NAME. Examples: trace t1 span s1"));
    ck_assert_ptr_nonnull(strstr(text, "- [info] svc: deprecated-attribute http.method, 7. Fix: "
                                       "Rename it. Examples: metric m1"));
    json_decref(doc);
    ck_assert_str_eq(api_seen[0], "/api/v1/lint");

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"lint\",\"arguments\":{\"service\":\"a b\","
                          "\"min_severity\":\"error\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_ptr_nonnull(strstr(text, "missing-service-name"));
    ck_assert_ptr_null(strstr(text, "deprecated-attribute"));
    json_decref(doc);
    ck_assert_str_eq(api_seen[1], "/api/v1/lint?service=a%20b");

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"lint\",\"arguments\":{\"service\":\"nope\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    ck_assert_ptr_nonnull(strstr(text, "no service named 'nope'. Call list_services"));
    json_decref(doc);

    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"lint\",\"arguments\":{\"min_severity\":\"fatal\"}}}",
                          NULL, &doc),
                     200);
    text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 1);
    ck_assert_str_eq(text, "Argument 'min_severity' must be error, warning or info.\n");
    json_decref(doc);
}
END_TEST

START_TEST(histogram_summary) {
    json_t *doc;
    int is_error;
    ck_assert_int_eq(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"get_metric\",\"arguments\":{\"name\":\"h\"}}}",
                          NULL, &doc),
                     200);
    const char *text = tool_text(doc, &is_error);
    ck_assert_int_eq(is_error, 0);
    /* counts 0/10/10/0 over (..0] (0,10] (10,20] (20..): the median is the
     * end of the second bucket, p90 and p99 inside the third; the point
     * with other bounds counts in the totals only */
    ck_assert_msg(strstr(text, "- {r=/a} service=svc: 3 points 1970-01-01T00:00:00.000Z .. "
                               "1970-01-01T00:00:00.000Z; count 21, sum 301, mean 14.33, min 0, "
                               "max 20; p50 10, p90 18, p99 19.8 (over the window's buckets)") !=
                      NULL,
                  "%s", text);
    json_decref(doc);
}
END_TEST

/* ---- bounded answers ---- */

START_TEST(text_budget) {
    mcp_text t;
    mcp_text_init(&t);
    char line[200];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    int written = 0;
    for (int i = 0; i < 500; i++)
        written += mcp_text_line(&t, "%d %s", i, line);
    ck_assert_int_lt(written, 500);
    ck_assert_int_eq(mcp_text_is_full(&t), 1);
    mcp_text_skip(&t, 10);
    mcp_text_finish(&t, "things", "Ask for less.");
    const char *s = mcp_text_str(&t);
    ck_assert_uint_le(strlen(s), MCP_TEXT_MAX);
    char want[128];
    snprintf(want, sizeof(want), "[%d more things not shown: the answer is capped at %d "
                                 "characters. Ask for less.]\n",
             500 - written + 10, MCP_TEXT_MAX);
    ck_assert_str_eq(s + strlen(s) - strlen(want), want);
    /* no line is cut: every line but the note is whole */
    ck_assert_int_eq(s[strlen(s) - strlen(want) - 1], '\n');
    mcp_text_free(&t);
    /* one overlong line is cut at a UTF-8 boundary with "..." */
    mcp_text_init(&t);
    char big[6000];
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 1 - (sizeof(big) - 1) % 2] = '\0';
    ck_assert_int_eq(mcp_text_line(&t, "%s", big), 1);
    s = mcp_text_str(&t);
    ck_assert_ptr_nonnull(strstr(s, "...\n"));
    ck_assert_uint_lt(strlen(s), 4100);
    mcp_text_free(&t);
}
END_TEST

static Suite *mcp_suite(void) {
    Suite *s = suite_create("mcp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rpc_classify);
    tcase_add_test(tc, rpc_invalid_keeps_a_valid_id);
    tcase_add_test(tc, origins);
    tcase_add_test(tc, transport_rules);
    tcase_add_test(tc, lifecycle_and_errors);
    tcase_add_test(tc, tools_over_the_api);
    tcase_add_test(tc, lint_tool);
    tcase_add_test(tc, histogram_summary);
    tcase_add_test(tc, ingest_tool);
    tcase_add_test(tc, text_budget);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(mcp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
