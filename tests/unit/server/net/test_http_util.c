/* test_http_util.c - unit tests for server/http_util.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/http_util.h"
#include "server/net/auth_cases.h"

START_TEST(test_media_type) {
    ck_assert_int_eq(http_util_media_type_is("application/json", "application/json"), 1);
    ck_assert_int_eq(http_util_media_type_is("Application/JSON", "application/json"), 1);
    ck_assert_int_eq(http_util_media_type_is("application/json; charset=utf-8", "application/json"),
                     1);
    ck_assert_int_eq(http_util_media_type_is("  application/json ;charset=UTF-8", "application/json"),
                     1);
    ck_assert_int_eq(http_util_media_type_is("application/x-protobuf", "application/x-protobuf"), 1);
    ck_assert_int_eq(http_util_media_type_is("application/x-protobuf", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is("application/jsonx", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is("application/jso", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is("text/plain", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is("", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is(";", "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is(NULL, "application/json"), 0);
    ck_assert_int_eq(http_util_media_type_is("application/json", NULL), 0);
    /* A second media type glued on is not the same type. */
    ck_assert_int_eq(http_util_media_type_is("application/json, text/plain", "application/json"),
                     0);
}
END_TEST

START_TEST(test_content_coding) {
    ck_assert_int_eq(http_util_content_coding(NULL), HTTP_UTIL_CODING_IDENTITY);
    ck_assert_int_eq(http_util_content_coding(""), HTTP_UTIL_CODING_IDENTITY);
    ck_assert_int_eq(http_util_content_coding("  "), HTTP_UTIL_CODING_IDENTITY);
    ck_assert_int_eq(http_util_content_coding("identity"), HTTP_UTIL_CODING_IDENTITY);
    ck_assert_int_eq(http_util_content_coding("IDENTITY"), HTTP_UTIL_CODING_IDENTITY);
    ck_assert_int_eq(http_util_content_coding("gzip"), HTTP_UTIL_CODING_GZIP);
    ck_assert_int_eq(http_util_content_coding(" GZip "), HTTP_UTIL_CODING_GZIP);
    ck_assert_int_eq(http_util_content_coding("x-gzip"), HTTP_UTIL_CODING_GZIP);
    ck_assert_int_eq(http_util_content_coding("deflate"), HTTP_UTIL_CODING_OTHER);
    ck_assert_int_eq(http_util_content_coding("br"), HTTP_UTIL_CODING_OTHER);
    ck_assert_int_eq(http_util_content_coding("zstd"), HTTP_UTIL_CODING_OTHER);
    ck_assert_int_eq(http_util_content_coding("gzip, gzip"), HTTP_UTIL_CODING_OTHER);
    ck_assert_int_eq(http_util_content_coding("gzipx"), HTTP_UTIL_CODING_OTHER);
    ck_assert_int_eq(http_util_content_coding("gzi"), HTTP_UTIL_CODING_OTHER);
}
END_TEST

START_TEST(test_cors_origin) {
    ck_assert_int_eq(http_util_cors_origin_allowed("*", "http://a.example"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed("*", "null"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "http://a.example"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "HTTP://A.EXAMPLE"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "http://a.example:8080"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "http://a.exampl"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "https://a.example"), 0);
    ck_assert_int_eq(
        http_util_cors_origin_allowed("http://x.test, http://a.example ,http://b", "http://a.example"),
        1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://x.test,,http://b", "http://b"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://x.test,,http://b", "http://c"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("", "http://a.example"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(" , ", "http://a.example"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(NULL, "http://a.example"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("*", NULL), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("*", ""), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://a.example", "null"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("null", "null"), 1);
}
END_TEST

START_TEST(test_cors_origin_pattern) {
    const char *list = "https://*.example.com";
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://app.example.com"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://a.b.example.com"), 1);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://.example.com"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://example.com"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "http://app.example.com"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://app.example.com.evil"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://evil/x.example.com"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed(list, "https://evilexample.com"), 0);
    /* Two stars are not supported and match nothing. */
    ck_assert_int_eq(http_util_cors_origin_allowed("https://*.*.com", "https://a.b.com"), 0);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://localhost:*", "http://localhost:5173"),
                     1);
    ck_assert_int_eq(http_util_cors_origin_allowed("http://localhost:*", "http://localhost:"), 0);
}
END_TEST

static const char *const base_headers[] = {"content-type", "content-encoding", "authorization",
                                           "x-otlp-api-key", NULL};
static const char *const extra_headers[] = {"accept", "traceparent", NULL};

START_TEST(test_cors_allow_headers) {
    buf out;
    buf_init(&out, 4096);
    ck_assert_int_eq(http_util_cors_allow_headers(base_headers, extra_headers, NULL, &out), BUF_OK);
    ck_assert_str_eq(out.ptr, "content-type, content-encoding, authorization, x-otlp-api-key");

    buf_reset(&out);
    ck_assert_int_eq(http_util_cors_allow_headers(base_headers, extra_headers,
                                                  "Content-Type, X-Evil, Accept,accept , "
                                                  "TRACEPARENT,,",
                                                  &out),
                     BUF_OK);
    ck_assert_str_eq(out.ptr,
                     "content-type, content-encoding, authorization, x-otlp-api-key, accept, "
                     "traceparent");

    buf_reset(&out);
    ck_assert_int_eq(http_util_cors_allow_headers(base_headers, NULL, "accept", &out), BUF_OK);
    ck_assert_str_eq(out.ptr, "content-type, content-encoding, authorization, x-otlp-api-key");

    /* A too small buffer fails cleanly. */
    buf small;
    buf_init(&small, 10);
    ck_assert_int_eq(http_util_cors_allow_headers(base_headers, NULL, NULL, &small), BUF_ETOOBIG);
    buf_free(&small);
    buf_free(&out);
}
END_TEST

START_TEST(test_cors_allow_headers_hostile) {
    /* A long request list of repeated allowed names stays short. */
    size_t n = 20000;
    char *req = malloc(n * 8 + 1);
    ck_assert_ptr_nonnull(req);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(req + len, "accept, ", 8);
        len += 8;
    }
    req[len] = '\0';
    buf out;
    buf_init(&out, 4096);
    ck_assert_int_eq(http_util_cors_allow_headers(base_headers, extra_headers, req, &out), BUF_OK);
    ck_assert_str_eq(out.ptr, "content-type, content-encoding, authorization, x-otlp-api-key, accept");
    buf_free(&out);
    free(req);
}
END_TEST

START_TEST(test_secret_equal) {
    ck_assert_int_eq(http_util_secret_equal("abc", 3, "abc", 3), 1);
    ck_assert_int_eq(http_util_secret_equal("abd", 3, "abc", 3), 0);
    ck_assert_int_eq(http_util_secret_equal("ab", 2, "abc", 3), 0);
    ck_assert_int_eq(http_util_secret_equal("abcabc", 6, "abc", 3), 0);
    ck_assert_int_eq(http_util_secret_equal("abca", 4, "abc", 3), 0);
    ck_assert_int_eq(http_util_secret_equal("", 0, "abc", 3), 0);
    ck_assert_int_eq(http_util_secret_equal("abc", 3, "", 0), 0);
    ck_assert_int_eq(http_util_secret_equal("", 0, "", 0), 1);
    /* A prefix repeated to the secret's length is not equal. */
    ck_assert_int_eq(http_util_secret_equal("a", 1, "aaa", 3), 0);
}
END_TEST

START_TEST(test_bearer) {
    const char *t = NULL;
    size_t n = 0;
    ck_assert_int_eq(http_util_bearer_token("Bearer abc", &t, &n), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(memcmp(t, "abc", 3), 0);
    ck_assert_int_eq(http_util_bearer_token("  bearer   tok-1  ", &t, &n), 1);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(memcmp(t, "tok-1", 5), 0);
    ck_assert_int_eq(http_util_bearer_token("BEARER\tx", &t, &n), 1);
    ck_assert_int_eq(http_util_bearer_token("Bearer", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token("Bearer ", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token("Bearer    ", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token("Bearerabc", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token("Basic abc", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token("", &t, &n), 0);
    ck_assert_int_eq(http_util_bearer_token(NULL, &t, &n), 0);
}
END_TEST

START_TEST(test_api_key) {
    const char *none[2] = {NULL, NULL};
    const char *empty[2] = {"", NULL};
    const char *one[2] = {"k1", NULL};
    const char *second[2] = {NULL, "k2"};
    const char *two[2] = {"k1", "k2"};
    ck_assert_int_eq(http_util_api_key_ok(none, 2, NULL, NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(empty, 2, NULL, NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, NULL, NULL), 0);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, "k1", NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, " k1 ", NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, "k2", NULL), 0);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, "", NULL), 0);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, NULL, "Bearer k1"), 1);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, NULL, "Bearer k1x"), 0);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, NULL, "k1"), 0);
    ck_assert_int_eq(http_util_api_key_ok(one, 2, "wrong", "Bearer k1"), 1);
    ck_assert_int_eq(http_util_api_key_ok(second, 2, "k2", NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(second, 2, "k1", NULL), 0);
    ck_assert_int_eq(http_util_api_key_ok(two, 2, "k2", NULL), 1);
    ck_assert_int_eq(http_util_api_key_ok(two, 2, NULL, "bearer k1"), 1);
    ck_assert_int_eq(http_util_api_key_ok(two, 2, "k3", "Bearer k4"), 0);
}
END_TEST

/* The shared credential table: whole requests, and each header value on
 * its own as the gRPC receiver checks them. */
START_TEST(test_auth_cases) {
    const char *keys[2] = {NULL, AUTH_CASE_KEY};
    for (size_t i = 0; i < AUTH_N_CASES; i++) {
        const auth_case *ac = &auth_cases[i];
        ck_assert_msg(http_util_api_key_ok(keys, 2, ac->api_key, ac->authorization) == ac->ok,
                      "case %zu", i);
        const char *a = ac->authorization, *k = ac->api_key;
        int by_auth = http_util_api_key_match(keys, 2, HTTP_UTIL_KEY_AUTHORIZATION, a,
                                              a ? strlen(a) : 0);
        int by_key = http_util_api_key_match(keys, 2, HTTP_UTIL_KEY_HEADER, k, k ? strlen(k) : 0);
        ck_assert_msg((by_auth | by_key) == ac->ok, "case %zu", i);
        /* A value need not be NUL-terminated: what follows it is not read. */
        if (a != NULL) {
            char copy[128];
            size_t n = strlen(a);
            ck_assert_uint_lt(n + 8, sizeof(copy));
            memcpy(copy, a, n);
            memcpy(copy + n, "trailing", 8);
            ck_assert_int_eq(
                http_util_api_key_match(keys, 2, HTTP_UTIL_KEY_AUTHORIZATION, copy, n), by_auth);
        }
    }
}
END_TEST

START_TEST(test_api_key_match) {
    const char *none[2] = {NULL, ""};
    const char *two[2] = {"k1", "k2"};
    /* No key configured: nothing matches (api_key_ok accepts instead). */
    ck_assert_int_eq(http_util_api_key_match(none, 2, HTTP_UTIL_KEY_HEADER, "", 0), 0);
    ck_assert_int_eq(http_util_api_key_match(none, 2, HTTP_UTIL_KEY_HEADER, "k1", 2), 0);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_HEADER, NULL, 5), 0);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_HEADER, "k2", 2), 1);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_HEADER, "k2", 1), 0);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_AUTHORIZATION, "k2", 2), 0);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_AUTHORIZATION, "Bearer k1", 9), 1);
    ck_assert_int_eq(http_util_api_key_match(two, 2, HTTP_UTIL_KEY_AUTHORIZATION, "Bearer k1", 8), 0);
}
END_TEST

static Suite *http_util_suite(void) {
    Suite *s = suite_create("http_util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_media_type);
    tcase_add_test(tc, test_content_coding);
    tcase_add_test(tc, test_cors_origin);
    tcase_add_test(tc, test_cors_origin_pattern);
    tcase_add_test(tc, test_cors_allow_headers);
    tcase_add_test(tc, test_cors_allow_headers_hostile);
    tcase_add_test(tc, test_secret_equal);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_api_key);
    tcase_add_test(tc, test_auth_cases);
    tcase_add_test(tc, test_api_key_match);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(http_util_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
