/* test_ui_http.c - unit tests for server/ui_http.c (negotiation and caching helpers). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/ui_http.h"

START_TEST(accepts_gzip) {
    static const struct {
        const char *ae;
        int gzip;
    } cases[] = {
        {"gzip", 1},
        {"GZIP", 1},
        {"x-gzip", 1},
        {"gzip, deflate, br", 1},
        {"br, gzip", 1},
        {"deflate, br", 0},
        {"", 0},
        {"identity", 0},
        {"gzip;q=0", 0},
        {"gzip; q=0", 0},
        {"gzip;q=0.0", 0},
        {"gzip;q=0.000", 0},
        {"gzip;q=0.001", 1},
        {"gzip;q=1", 1},
        {"gzip;q=1.0", 1},
        {"gzip ; q=0.5 , br", 1},
        {"gzip;Q=0.5", 1},
        {"*", 1},
        {"*;q=0", 0},
        {"*, gzip;q=0", 0}, /* explicit refusal beats the wildcard */
        {"gzip;q=0, *", 0},
        {"br;q=1, *;q=0.1", 1},
        {"gzip;q=2", 0},     /* malformed q counts as 0 */
        {"gzip;q=1.5", 0},   /* > 1 */
        {"gzip;q=0.0001", 0}, /* too many digits */
        {"gzip;q=abc", 0},
        {"gzip;q=", 0},
        {"gzipx", 0},
        {"xgzip", 0},
        {"gzi", 0},
        {"gzip,", 1},
        {",,,gzip", 1},
        {"deflate;q=1;gzip", 0}, /* gzip here is a parameter, not a coding */
        {"\xff\xfe gzip", 0},
        {"gzip;foo=bar;q=0.8", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(ui_http_accepts_gzip(cases[i].ae) == cases[i].gzip, "'%s' should give %d",
                      cases[i].ae, cases[i].gzip);
    ck_assert_int_eq(ui_http_accepts_gzip(NULL), 0);
}
END_TEST

START_TEST(wants_html) {
    static const struct {
        const char *accept;
        int html;
    } cases[] = {
        {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 1},
        {"TEXT/HTML", 1},
        {" text/html ; q=0.5", 1},
        {"text/html;q=0", 0},
        {"text/html;q=0.000", 0},
        {"*/*", 0},
        {"text/*", 0},
        {"text/plain;version=0.0.4;q=0.4,*/*;q=0.1", 0},
        {"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5", 0},
        {"text/htmlx", 0},
        {"xtext/html", 0},
        {"", 0},
        {",,,", 0},
        {"text/html;q=junk", 0},
        {"application/json, text/html;level=1", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(ui_http_wants_html(cases[i].accept) == cases[i].html, "'%s' should give %d",
                      cases[i].accept, cases[i].html);
    ck_assert_int_eq(ui_http_wants_html(NULL), 0);
}
END_TEST

START_TEST(etag_matches) {
    const char *etag = "\"0123456789abcdef\"";
    static const struct {
        const char *inm;
        int match;
    } cases[] = {
        {"\"0123456789abcdef\"", 1},
        {"W/\"0123456789abcdef\"", 1}, /* weak comparison */
        {"\"x\", \"0123456789abcdef\"", 1},
        {"\"x\",\"0123456789abcdef\"", 1},
        {"  \"x\" ,  W/\"0123456789abcdef\"  ", 1},
        {"*", 1},
        {" * ", 1},
        {"\"0123456789abcdee\"", 0},
        {"\"0123456789abcdef-gz\"", 0},
        {"\"0123456789abcde\"", 0},
        {"0123456789abcdef", 0}, /* unquoted */
        {"", 0},
        {"\"", 0},
        {"\"0123456789abcdef", 0}, /* unterminated */
        {"w/\"0123456789abcdef\"", 0}, /* W must be uppercase */
        {"*, \"x\"", 0},               /* "*" only stands alone */
        {"\"x\" junk \"0123456789abcdef\"", 0},
        {"\"a,b\", \"0123456789abcdef\"", 1}, /* comma inside a tag */
        {"\xff\xfe", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(ui_http_etag_matches(cases[i].inm, etag) == cases[i].match,
                      "'%s' should give %d", cases[i].inm, cases[i].match);
    ck_assert_int_eq(ui_http_etag_matches(NULL, etag), 0);
    ck_assert_int_eq(ui_http_etag_matches("*", NULL), 0);
    ck_assert_int_eq(ui_http_etag_matches("\"x\"", "x"), 0); /* our tag must be quoted */
}
END_TEST

START_TEST(etag_match_long_list) {
    /* a large header is scanned without trouble */
    size_t n = 100000;
    char *inm = malloc(n * 6 + 64);
    ck_assert_ptr_nonnull(inm);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(inm + off, "\"ab\", ", 6);
        off += 6;
    }
    memcpy(inm + off, "\"hit\"", 6);
    ck_assert_int_eq(ui_http_etag_matches(inm, "\"hit\""), 1);
    ck_assert_int_eq(ui_http_etag_matches(inm, "\"miss\""), 0);
    free(inm);
}
END_TEST

START_TEST(hashed_names) {
    ck_assert_int_eq(ui_http_is_hashed_name("/app.3f2a9c1b.js"), 1);
    ck_assert_int_eq(ui_http_is_hashed_name("/assets/app.3F2A9C1B.css"), 1);
    ck_assert_int_eq(ui_http_is_hashed_name("/vendor.0123456789abcdef0123.min.js"), 1);
    ck_assert_int_eq(ui_http_is_hashed_name("/3f2a9c1b.js"), 1);
    ck_assert_int_eq(ui_http_is_hashed_name("/index.html"), 0);
    ck_assert_int_eq(ui_http_is_hashed_name("/app.js"), 0);
    ck_assert_int_eq(ui_http_is_hashed_name("/app.3f2a9c1.js"), 0);  /* 7 hex */
    ck_assert_int_eq(ui_http_is_hashed_name("/app.3f2a9c1g.js"), 0); /* g */
    ck_assert_int_eq(ui_http_is_hashed_name("/app.3f2a9c1b"), 0);    /* extension, not a hash */
    ck_assert_int_eq(ui_http_is_hashed_name("/3f2a9c1b/app.js"), 0); /* directory */
    ck_assert_int_eq(ui_http_is_hashed_name("/deadbeefcafe"), 0);
    ck_assert_int_eq(ui_http_is_hashed_name(""), 0);
    ck_assert_int_eq(ui_http_is_hashed_name("/"), 0);
    ck_assert_int_eq(ui_http_is_hashed_name("/...."), 0);
    ck_assert_int_eq(ui_http_is_hashed_name(NULL), 0);
}
END_TEST

START_TEST(extensions) {
    ck_assert_int_eq(ui_http_has_extension("/app.js"), 1);
    ck_assert_int_eq(ui_http_has_extension("/a/b/c.png"), 1);
    ck_assert_int_eq(ui_http_has_extension("/.env"), 1);
    ck_assert_int_eq(ui_http_has_extension("/traces/abc"), 0);
    ck_assert_int_eq(ui_http_has_extension("/v1.2/traces"), 0); /* dot in a directory only */
    ck_assert_int_eq(ui_http_has_extension("/"), 0);
    ck_assert_int_eq(ui_http_has_extension("/traces/"), 0);
    ck_assert_int_eq(ui_http_has_extension(NULL), 0);
}
END_TEST

START_TEST(etag_variant) {
    char out[64];
    ck_assert_int_eq(ui_http_etag_variant("\"abc\"", "-gz", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "\"abc-gz\"");
    ck_assert_int_eq(ui_http_etag_variant("\"\"", "-gz", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "\"-gz\"");
    /* exactly fitting and one byte short */
    char small[9];
    ck_assert_int_eq(ui_http_etag_variant("\"abc\"", "-gz", small, sizeof(small)), 0);
    ck_assert_str_eq(small, "\"abc-gz\"");
    ck_assert_int_eq(ui_http_etag_variant("\"abc\"", "-gz", small, 8), -1);
    ck_assert_int_eq(ui_http_etag_variant("abc", "-gz", out, sizeof(out)), -1);
    ck_assert_int_eq(ui_http_etag_variant("\"", "-gz", out, sizeof(out)), -1);
    ck_assert_int_eq(ui_http_etag_variant(NULL, "-gz", out, sizeof(out)), -1);
    /* the variant of an ETag does not match the original, and vice versa */
    ck_assert_int_eq(ui_http_etag_variant("\"abc\"", "-gz", out, sizeof(out)), 0);
    ck_assert_int_eq(ui_http_etag_matches("\"abc\"", out), 0);
    ck_assert_int_eq(ui_http_etag_matches(out, "\"abc\""), 0);
    ck_assert_int_eq(ui_http_etag_matches(out, out), 1);
}
END_TEST

static Suite *ui_http_suite(void) {
    Suite *s = suite_create("ui_http");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts_gzip);
    tcase_add_test(tc, wants_html);
    tcase_add_test(tc, etag_matches);
    tcase_add_test(tc, etag_match_long_list);
    tcase_add_test(tc, hashed_names);
    tcase_add_test(tc, extensions);
    tcase_add_test(tc, etag_variant);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(ui_http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
