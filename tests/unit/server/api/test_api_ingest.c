/* test_api_ingest.c - unit tests for server/api/api_ingest.c and its routes
 * in api.c: the request and client JSON (read back with jansson), filters
 * and paging, the advice for each reason quoting the configured limits, and
 * the parameter checks. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"
#include "server/api/api_ingest.h"

static const ingest_limits LIMITS = {
    .max_body = 16u << 20,
    .max_grpc_message = 4u << 20,
    .max_header = 64u << 10,
    .ring_size = 64u << 20,
    .request_timeout_s = 30,
    .api_key = 1,
};

static ingest_log *log_;

static void setup(void) {
    log_ = ingest_log_new(50, &LIMITS);
}

static void teardown(void) {
    ingest_log_free(log_);
}

/* Adds a record: transport, status (gRPC: code), reason, service. */
static void add(ingest_transport t, int status, ingest_reason why, const char *service) {
    ingest_rec r;
    ingest_rec_begin(&r, t);
    snprintf(r.client, sizeof(r.client), "127.0.0.1");
    snprintf(r.path, sizeof(r.path), "%s",
             t == INGEST_GRPC ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                              : "/v1/traces");
    r.signal = MODEL_SIGNAL_TRACES;
    r.encoding = INGEST_ENC_PROTOBUF;
    if (t == INGEST_GRPC) {
        r.http_status = 200;
        r.grpc_code = (int16_t)status;
    } else {
        r.http_status = (uint16_t)status;
    }
    r.reason = (uint8_t)why;
    r.items = why == INGEST_REASON_NONE ? 5 : 0;
    if (service != NULL) {
        snprintf(r.service, sizeof(r.service), "%s", service);
        r.has_service = 1;
    }
    snprintf(r.user_agent, sizeof(r.user_agent), "<script>alert(1)</script>");
    ingest_log_add(log_, &r);
}

static json_t *get_json(const char *target, int *status) {
    api_env env = {NULL, NULL, NULL, NULL, NULL, log_};
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    *status = api_get(target, &env, &out);
    json_error_t e;
    json_t *j = json_loadb(out.ptr ? out.ptr : "", out.len, 0, &e);
    ck_assert_msg(j != NULL, "not JSON: %s (%s)", out.ptr ? out.ptr : "", e.text);
    buf_free(&out);
    return j;
}

static const char *str_of(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

START_TEST(test_requests_list_filters_and_pages) {
    add(INGEST_HTTP, 200, INGEST_REASON_NONE, "checkout");
    add(INGEST_HTTP, 413, INGEST_REASON_BODY_TOO_LARGE, NULL);
    add(INGEST_GRPC, 0, INGEST_REASON_NONE, "cart");
    add(INGEST_GRPC, 8, INGEST_REASON_BODY_TOO_LARGE, NULL);
    int st;
    json_t *j = get_json("/api/v1/ingest/requests", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_true(json_object_get(j, "enabled")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "capacity")), 50);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "head")), 4);
    json_t *reqs = json_object_get(j, "requests");
    ck_assert_uint_eq(json_array_size(reqs), 4);
    json_t *first = json_array_get(reqs, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "id")), 4);
    ck_assert_str_eq(str_of(first, "transport"), "grpc");
    ck_assert_str_eq(str_of(first, "protocol"), "grpc");
    ck_assert_str_eq(str_of(first, "outcome"), "error");
    ck_assert_str_eq(str_of(first, "grpcStatusName"), "RESOURCE_EXHAUSTED");
    ck_assert_str_eq(str_of(first, "reason"), "body_too_large");
    ck_assert(json_is_null(json_object_get(first, "service")));
    ck_assert(json_is_null(json_object_get(first, "wireBytes")));
    ck_assert_str_eq(str_of(first, "userAgent"), "<script>alert(1)</script>");
    ck_assert_ptr_nonnull(strstr(str_of(first, "hint"), "--max-grpc-message-size 4 MiB"));
    json_t *last = json_array_get(reqs, 3);
    ck_assert_str_eq(str_of(last, "protocol"), "http/protobuf");
    ck_assert_str_eq(str_of(last, "service"), "checkout");
    ck_assert(json_is_null(json_object_get(last, "grpcStatus")));
    ck_assert(json_is_null(json_object_get(last, "hint")));
    ck_assert(json_is_null(json_object_get(j, "nextCursor")));
    json_decref(j);

    j = get_json("/api/v1/ingest/requests?outcome=error&transport=http", &st);
    reqs = json_object_get(j, "requests");
    ck_assert_uint_eq(json_array_size(reqs), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(reqs, 0), "httpStatus")),
                     413);
    json_decref(j);
    j = get_json("/api/v1/ingest/requests?service=cart", &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 1);
    json_decref(j);
    j = get_json("/api/v1/ingest/requests?outcome=ok,partial&signal=traces&client=127.0.0.1", &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 2);
    json_decref(j);
    j = get_json("/api/v1/ingest/requests?signal=logs", &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 0);
    json_decref(j);

    /* pages of three, then the rest; after= gives what is newer */
    j = get_json("/api/v1/ingest/requests?limit=3", &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 3);
    ck_assert_str_eq(str_of(j, "nextCursor"), "2");
    json_decref(j);
    j = get_json("/api/v1/ingest/requests?limit=3&cursor=2", &st);
    reqs = json_object_get(j, "requests");
    ck_assert_uint_eq(json_array_size(reqs), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(reqs, 0), "id")), 1);
    ck_assert(json_is_null(json_object_get(j, "nextCursor")));
    json_decref(j);
    j = get_json("/api/v1/ingest/requests?after=2", &st);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 2);
    json_decref(j);

    /* one by id */
    j = get_json("/api/v1/ingest/requests/2", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 2);
    ck_assert_ptr_nonnull(
        strstr(str_of(j, "hint"), "413: body larger than --max-body-size 16 MiB"));
    json_decref(j);
    j = get_json("/api/v1/ingest/requests/99", &st);
    ck_assert_int_eq(st, 404);
    json_decref(j);
}
END_TEST

START_TEST(test_parameters_are_checked) {
    static const char *const bad[] = {
        "/api/v1/ingest/requests?outcome=fine",  "/api/v1/ingest/requests?transport=udp",
        "/api/v1/ingest/requests?signal=spans",  "/api/v1/ingest/requests?limit=0",
        "/api/v1/ingest/requests?limit=1001",    "/api/v1/ingest/requests?cursor=abc",
        "/api/v1/ingest/requests?after=-1",      "/api/v1/ingest/requests?service=a%01b",
        "/api/v1/ingest/requests/abc",           "/api/v1/ingest/requests/0",
        "/api/v1/ingest/requests?limit=1&limit=2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st;
        json_t *j = get_json(bad[i], &st);
        ck_assert_msg(st == 400, "%s: %d", bad[i], st);
        ck_assert_ptr_nonnull(json_object_get(j, "error"));
        json_decref(j);
    }
}
END_TEST

START_TEST(test_off) {
    ingest_log_free(log_);
    log_ = NULL;
    int st;
    json_t *j = get_json("/api/v1/ingest/requests", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_false(json_object_get(j, "enabled")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requests")), 0);
    json_decref(j);
    j = get_json("/api/v1/ingest/clients", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_false(json_object_get(j, "enabled")));
    json_decref(j);
    j = get_json("/api/v1/ingest/requests/1", &st);
    ck_assert_int_eq(st, 404);
    ck_assert_ptr_nonnull(strstr(str_of(json_object_get(j, "error"), "message"),
                                 "--ingest-log-size 0"));
    json_decref(j);
}
END_TEST

START_TEST(test_clients) {
    add(INGEST_HTTP, 200, INGEST_REASON_NONE, "checkout");
    add(INGEST_HTTP, 200, INGEST_REASON_NONE, "checkout");
    add(INGEST_HTTP, 413, INGEST_REASON_BODY_TOO_LARGE, NULL);
    int st;
    json_t *j = get_json("/api/v1/ingest/clients", &st);
    ck_assert_int_eq(st, 200);
    json_t *cl = json_object_get(j, "clients");
    ck_assert_uint_eq(json_array_size(cl), 2);
    json_t *c0 = json_array_get(cl, 0); /* the refused one, seen last */
    ck_assert(json_is_null(json_object_get(c0, "service")));
    ck_assert_int_eq(json_integer_value(json_object_get(c0, "errors")), 1);
    ck_assert_str_eq(str_of(c0, "lastReason"), "body_too_large");
    json_t *c1 = json_array_get(cl, 1);
    ck_assert_str_eq(str_of(c1, "service"), "checkout");
    ck_assert_int_eq(json_integer_value(json_object_get(c1, "requests")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(c1, "items")), 10);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c1, "protocols"), 0)),
                     "http/protobuf");
    ck_assert_str_eq(str_of(c1, "lastOutcome"), "ok");
    json_decref(j);
}
END_TEST

/* The advice for a record of transport t with the answer and reason. */
static void hint_of(ingest_transport t, int http_status, int grpc_code, ingest_reason why,
                    char *out, size_t len) {
    ingest_rec r;
    ingest_rec_begin(&r, t);
    r.http_status = (uint16_t)http_status;
    r.grpc_code = (int16_t)grpc_code;
    r.reason = (uint8_t)why;
    r.outcome = INGEST_OUTCOME_ERROR;
    api_ingest_hint(&r, &LIMITS, out, len);
}

START_TEST(test_hints) {
    char h[API_INGEST_HINT_MAX];
    hint_of(INGEST_HTTP, 413, -1, INGEST_REASON_BODY_TOO_LARGE, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "413: body larger than --max-body-size 16 MiB: lower the "
                                    "exporter's batch size"));
    hint_of(INGEST_GRPC, 200, 8, INGEST_REASON_BODY_TOO_LARGE, h, sizeof(h));
    ck_assert_ptr_nonnull(
        strstr(h, "RESOURCE_EXHAUSTED: message larger than --max-grpc-message-size 4 MiB"));
    hint_of(INGEST_HTTP, 431, -1, INGEST_REASON_HEADERS_TOO_LARGE, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "431: request headers larger than --max-header-size 64 KiB"));
    hint_of(INGEST_HTTP, 503, -1, INGEST_REASON_STORE_FULL, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "--ring-size 64 MiB"));
    hint_of(INGEST_GRPC, 200, 16, INGEST_REASON_UNAUTHENTICATED, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "UNAUTHENTICATED: "));
    ck_assert_ptr_nonnull(strstr(h, "OTEL_EXPORTER_OTLP_HEADERS=x-otlp-api-key=KEY"));
    hint_of(INGEST_GRPC, 415, 3, INGEST_REASON_CONTENT_TYPE, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "415: not a gRPC content type"));
    hint_of(INGEST_HTTP, 404, -1, INGEST_REASON_WRONG_PATH, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "/v1/traces, /v1/logs and /v1/metrics"));
    hint_of(INGEST_GRPC, 200, 4, INGEST_REASON_REQUEST_TIMEOUT, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "--request-timeout 30 s"));
    /* every reason says something, and fits */
    for (unsigned why = INGEST_REASON_ITEMS_REJECTED; why < INGEST_REASON_COUNT; why++) {
        for (int t = 0; t < 2; t++) {
            hint_of((ingest_transport)t, t ? 400 : 200, t ? -1 : 3, (ingest_reason)why, h,
                    sizeof(h));
            ck_assert_msg(strlen(h) > 20 && strlen(h) < sizeof(h) - 1, "reason %u: %s", why, h);
        }
    }
    /* a tiny buffer is still a string */
    hint_of(INGEST_HTTP, 413, -1, INGEST_REASON_BODY_TOO_LARGE, h, 8);
    ck_assert_uint_le(strlen(h), 7);
    /* an accepted request without service.name is worth a word */
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    r.outcome = INGEST_OUTCOME_OK;
    r.items = 3;
    api_ingest_hint(&r, &LIMITS, h, sizeof(h));
    ck_assert_ptr_nonnull(strstr(h, "OTEL_SERVICE_NAME"));
    r.has_service = 1;
    api_ingest_hint(&r, &LIMITS, h, sizeof(h));
    ck_assert_str_eq(h, "");
    ck_assert_str_eq(api_ingest_grpc_name(14), "UNAVAILABLE");
    ck_assert_str_eq(api_ingest_grpc_name(99), "UNKNOWN");
}
END_TEST

static Suite *api_ingest_suite(void) {
    Suite *s = suite_create("api_ingest");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_requests_list_filters_and_pages);
    tcase_add_test(tc, test_parameters_are_checked);
    tcase_add_test(tc, test_off);
    tcase_add_test(tc, test_clients);
    tcase_add_test(tc, test_hints);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(api_ingest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
