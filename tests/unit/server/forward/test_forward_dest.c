/* test_forward_dest.c - server/forward/forward_dest.c and the answer
 * classification: --forward URLs with their protocol, --forward-header
 * values, which statuses are retried, and forward_check(). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/forward/forward.h"
#include "server/forward/forward_internal.h"

static forward_dest parse_ok(const char *url, const char *proto) {
    forward_dest d;
    char err[256] = "";
    ck_assert_msg(forward_dest_parse(url, proto, &d, err, sizeof(err)) == 0, "%s: %s", url, err);
    return d;
}

static void parse_bad(const char *url, const char *proto, const char *needle) {
    forward_dest d;
    char err[256] = "";
    ck_assert_msg(forward_dest_parse(url, proto, &d, err, sizeof(err)) == -1, "%s accepted", url);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: \"%s\" lacks \"%s\"", url, err, needle);
}

START_TEST(test_urls) {
    forward_dest d = parse_ok("grpc://collector:4317", NULL);
    ck_assert_int_eq(d.proto, FORWARD_GRPC);
    ck_assert_str_eq(d.host, "collector");
    ck_assert_int_eq(d.port, 4317);
    ck_assert_str_eq(d.name, "grpc://collector:4317");
    d = parse_ok("grpc://collector", "http/json"); /* the scheme decides; 4317 by default */
    ck_assert_int_eq(d.proto, FORWARD_GRPC);
    ck_assert_int_eq(d.port, 4317);
    d = parse_ok("http://127.0.0.1:4318", NULL);
    ck_assert_int_eq(d.proto, FORWARD_HTTP_PROTOBUF);
    ck_assert_str_eq(d.base, "http://127.0.0.1:4318");
    ck_assert_int_eq(d.tls, 0);
    d = parse_ok("HTTPS://otlp.example.com/otlp/", "http/json");
    ck_assert_int_eq(d.proto, FORWARD_HTTP_JSON);
    ck_assert_int_eq(d.tls, 1);
    ck_assert_int_eq(d.port, 443);
    ck_assert_str_eq(d.base, "https://otlp.example.com/otlp");
    ck_assert_str_eq(d.name, "https://otlp.example.com:443/otlp");
    d = parse_ok("http://[::1]:4318", "grpc"); /* gRPC to an http URL: h2c */
    ck_assert_int_eq(d.proto, FORWARD_GRPC);
    ck_assert_str_eq(d.host, "[::1]");
    ck_assert_int_eq(d.port, 4318);
    /* credentials stay out of the name (and so of logs and /metrics) */
    d = parse_ok("https://user:secret@otlp.example.com:4318", NULL);
    ck_assert_ptr_null(strstr(d.name, "secret"));
    ck_assert_ptr_nonnull(strstr(d.base, "user:secret@"));
    /* the position file's key: the same destination, the same key */
    forward_dest a = parse_ok("grpc://c:4317", NULL), b = parse_ok("http://c:4317", "grpc");
    ck_assert_str_eq(a.key, b.key);
    forward_dest c = parse_ok("http://c:4317", NULL);
    ck_assert_str_ne(a.key, c.key); /* another protocol: another position */
    ck_assert_uint_eq(strlen(a.key), 16);
}
END_TEST

START_TEST(test_bad_urls) {
    parse_bad("collector:4317", NULL, "not a URL");
    parse_bad("ftp://c:21", NULL, "scheme must be");
    parse_bad("https://c:4317", "grpc", "gRPC over TLS is not supported");
    parse_bad("http://c:4318", "thrift", "--forward-protocol");
    parse_bad("http://c:0", NULL, "bad port");
    parse_bad("http://c:65536", NULL, "bad port");
    parse_bad("http://c:12x", NULL, "bad port");
    parse_bad("http://c:", NULL, "bad port");
    parse_bad("http://:4318", NULL, "no host");
    parse_bad("http://c d:4318", NULL, "bad character");
    parse_bad("http://[::1:4318", NULL, "unclosed");
    parse_bad("http://c:4318/v1?x=1", NULL, "query");
    parse_bad("http://c:4318/a b", NULL, "bad character in the path");
    parse_bad("grpc://c:4317/path", NULL, "no path");
    parse_bad("grpc://u:p@c:4317", NULL, "credentials");
}
END_TEST

START_TEST(test_headers) {
    char key[128], err[256];
    const char *value = NULL;
    ck_assert_int_eq(forward_header_split("X-API-Key=s3cr=t", key, sizeof(key), &value, err,
                                          sizeof(err)),
                     0);
    ck_assert_str_eq(key, "x-api-key"); /* lowercase, as HTTP/2 wants */
    ck_assert_str_eq(value, "s3cr=t");
    ck_assert_int_eq(forward_header_split("authorization=Bearer abc", key, sizeof(key), &value,
                                          err, sizeof(err)),
                     0);
    ck_assert_str_eq(value, "Bearer abc");
    ck_assert_int_eq(forward_header_split("empty=", key, sizeof(key), &value, err, sizeof(err)), 0);
    ck_assert_str_eq(value, "");
    static const char *bad[] = {"novalue", "=v", "a b=c", "content-type=x", "TE=trailers",
                                "grpc-timeout=1S", ":path=/x", "x=a\r\nInjected: 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(forward_header_split(bad[i], key, sizeof(key), &value, err, sizeof(err)) == -1,
                      "%s accepted", bad[i]);
}
END_TEST

START_TEST(test_retryable) {
    static const long http_retry[] = {429, 502, 503, 504};
    static const long http_final[] = {400, 401, 403, 404, 413, 415, 500, 501};
    for (size_t i = 0; i < 4; i++)
        ck_assert(forward_http_retryable(http_retry[i]));
    for (size_t i = 0; i < 8; i++)
        ck_assert(!forward_http_retryable(http_final[i]));
    static const int grpc_retry[] = {1, 4, 8, 10, 11, 14, 15};
    static const int grpc_final[] = {2, 3, 5, 6, 7, 9, 12, 13, 16};
    for (size_t i = 0; i < 7; i++)
        ck_assert(forward_grpc_retryable(grpc_retry[i]));
    for (size_t i = 0; i < 9; i++)
        ck_assert(!forward_grpc_retryable(grpc_final[i]));
}
END_TEST

START_TEST(test_check) {
    char err[256] = "";
    const char *urls[] = {"grpc://a:4317", "http://b:4318"};
    const char *hdrs[] = {"x-key=1"};
    forward_config cfg = {.urls = urls, .n_urls = 2, .headers = hdrs, .n_headers = 1};
    ck_assert_int_eq(forward_check(&cfg, err, sizeof(err)), 0);
    const char *twice[] = {"grpc://a:4317", "http://a:4317"};
    cfg.urls = twice;
    cfg.protocol = "grpc";
    ck_assert_int_eq(forward_check(&cfg, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "given twice"));
    const char *many[FORWARD_MAX_DESTS + 1];
    for (size_t i = 0; i <= FORWARD_MAX_DESTS; i++)
        many[i] = "grpc://a:4317";
    cfg.urls = many;
    cfg.n_urls = FORWARD_MAX_DESTS + 1;
    ck_assert_int_eq(forward_check(&cfg, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "at most"));
    cfg.urls = urls;
    cfg.n_urls = 2;
    cfg.protocol = NULL;
    const char *bad[] = {"nope"};
    cfg.headers = bad;
    ck_assert_int_eq(forward_check(&cfg, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--forward-header"));
}
END_TEST

int main(void) {
    Suite *s = suite_create("forward_dest");
    TCase *tc = tcase_create("dest");
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_bad_urls);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_retryable);
    tcase_add_test(tc, test_check);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
