/* test_api_get.c - unit tests for api_get() (server/api/api.c): a GET
 * target decoded as libmicrohttpd decodes a request and answered by the
 * same handlers, without a store (routes that query answer 503). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"

static int get(const char *target, char *body, size_t len) {
    static const api_info info = {"1.2.3", 4317, 4318, 1};
    api_env env = {NULL, NULL, NULL, NULL, &info, NULL};
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    int st = api_get(target, &env, &out);
    snprintf(body, len, "%s", out.ptr != NULL ? out.ptr : "");
    buf_free(&out);
    return st;
}

START_TEST(routes_and_decoding) {
    char body[1024];
    ck_assert_int_eq(get("/healthz", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "{\"status\":\"ok\"}");
    ck_assert_int_eq(get("/api/v1/info", body, sizeof(body)), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"version\":\"1.2.3\""));
    ck_assert_ptr_nonnull(strstr(body, "\"storage\":\"memory\""));
    /* the path is decoded */
    ck_assert_int_eq(get("/api/v1/no%2Fwhere?x=1", body, sizeof(body)), 404);
    ck_assert_ptr_nonnull(strstr(body, "no API endpoint at /api/v1/no/where"));
    /* parameters are validated after decoding: "err%6Fr" is "error" */
    ck_assert_int_eq(get("/api/v1/logs?minSeverity=err%6Fr&limit=5", body, sizeof(body)), 503);
    ck_assert_int_eq(get("/api/v1/logs?minSeverity=bogus", body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "'minSeverity'"));
    ck_assert_int_eq(get("/api/v1/traces?status=err+or", body, sizeof(body)), 400);
    ck_assert_int_eq(get("/api/v1/logs?limit=0", body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "'limit'"));
    ck_assert_int_eq(get("/api/v1/logs?limit=5&limit=6", body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "at most once"));
    ck_assert_int_eq(get("/api/v1/logs?q=a%00b", body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "NUL"));
    ck_assert_int_eq(get("/api/v1/traces/%zz", body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "'traceId'"));
    ck_assert_int_eq(get("/api/v1/no%00where", body, sizeof(body)), 400);
    /* keys without a value, empty pieces and NUL keys are handled as over HTTP */
    ck_assert_int_eq(get("/api/v1/logs?&&service&%00=x&limit=3", body, sizeof(body)), 503);
}
END_TEST

START_TEST(refusals) {
    char body[1024];
    ck_assert_int_eq(get("", body, sizeof(body)), 400);
    ck_assert_int_eq(get("api/v1/info", body, sizeof(body)), 400);
    ck_assert_int_eq(get("/api/v1/export?signal=traces", body, sizeof(body)), 500);
    ck_assert_ptr_nonnull(strstr(body, "streamed"));
    ck_assert_int_eq(get("/api/v1/live", body, sizeof(body)), 500);
    char many[2048] = "/api/v1/logs?";
    for (int i = 0; i <= API_MAX_ARGS; i++)
        strncat(many, "a=1&", sizeof(many) - strlen(many) - 1);
    ck_assert_int_eq(get(many, body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "too many query parameters"));
    char *huge = malloc(API_GET_MAX_TARGET + 2);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'a', API_GET_MAX_TARGET + 1);
    huge[0] = '/';
    huge[API_GET_MAX_TARGET + 1] = '\0';
    ck_assert_int_eq(get(huge, body, sizeof(body)), 400);
    ck_assert_ptr_nonnull(strstr(body, "longer than"));
    free(huge);
}
END_TEST

static Suite *api_get_suite(void) {
    Suite *s = suite_create("api_get");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, routes_and_decoding);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(api_get_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
