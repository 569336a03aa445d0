/* test_ui_base.c - server/api/ui_base.c: --base-path values, where a
 * request path stands, and index.html told its base. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/ui_base.h"

static int norm(const char *in, char *out) {
    char err[160] = "";
    int rc = ui_base_normalise(in, out, UI_BASE_MAX + 1, err, sizeof(err));
    if (rc != 0)
        ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", in);
    return rc;
}

START_TEST(test_normalise) {
    char out[UI_BASE_MAX + 1];
    static const struct {
        const char *in, *want;
    } ok[] = {{"", ""},
              {"/", ""},
              {"//", ""},
              {"/loupe", "/loupe"},
              {"/loupe/", "/loupe"},
              {"/loupe///", "/loupe"},
              {"/tools/loupe", "/tools/loupe"},
              {"/a-b_c.d~e/F9", "/a-b_c.d~e/F9"},
              {"/..a", "/..a"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(norm(ok[i].in, out) == 0, "\"%s\" refused", ok[i].in);
        ck_assert_str_eq(out, ok[i].want);
    }
    ck_assert_int_eq(norm(NULL, out), 0);
    ck_assert_str_eq(out, "");
    static const char *bad[] = {"loupe",       "/a//b",   "/a/./b", "/a/..",  "/.",
                                "/a b",        "/a?b",    "/a#b",   "/a%2fb", "/a\"b",
                                "/<script>",   "/a\\b",   "/ä",     "/a;b",   "http://x/y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(norm(bad[i], out) == -1, "\"%s\" accepted", bad[i]);
    char long_path[UI_BASE_MAX + 10];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    ck_assert_int_eq(norm(long_path, out), -1);
    long_path[UI_BASE_MAX] = '\0'; /* exactly the maximum */
    ck_assert_int_eq(norm(long_path, out), 0);
    ck_assert_uint_eq(strlen(out), UI_BASE_MAX);
}
END_TEST

START_TEST(test_locate) {
    const char *rest = NULL;
    ck_assert_int_eq(ui_base_locate("", "/api/v1/info", &rest), UI_BASE_INSIDE);
    ck_assert_str_eq(rest, "/api/v1/info");
    ck_assert_int_eq(ui_base_locate(NULL, "/", &rest), UI_BASE_INSIDE);
    ck_assert_str_eq(rest, "/");
    ck_assert_int_eq(ui_base_locate("/loupe", "/loupe/", &rest), UI_BASE_INSIDE);
    ck_assert_str_eq(rest, "/");
    ck_assert_int_eq(ui_base_locate("/loupe", "/loupe/api/v1/live", &rest), UI_BASE_INSIDE);
    ck_assert_str_eq(rest, "/api/v1/live");
    ck_assert_int_eq(ui_base_locate("/loupe", "/loupe", &rest), UI_BASE_BARE);
    static const char *outside[] = {"/", "/api/v1/info", "/login", "/loupex", "/loup",
                                    "/LOUPE/", "/other/loupe/", "/readyz"};
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
        ck_assert_msg(ui_base_locate("/loupe", outside[i], &rest) == UI_BASE_OUTSIDE, "%s",
                      outside[i]);
    ck_assert_int_eq(ui_base_locate("/a/b", "/a/b/c", &rest), UI_BASE_INSIDE);
    ck_assert_str_eq(rest, "/c");
    ck_assert_int_eq(ui_base_locate("/a/b", "/a/bc", &rest), UI_BASE_OUTSIDE);
}
END_TEST

START_TEST(test_join) {
    char out[16];
    ck_assert_int_eq(ui_base_join("", "/login", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/login");
    ck_assert_int_eq(ui_base_join("/loupe", "/login", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/loupe/login");
    ck_assert_int_eq(ui_base_join("/longer-base", "/login", out, sizeof(out)), -1);
    ck_assert_str_eq(out, ""); /* never a cut path */
}
END_TEST

START_TEST(test_index) {
    static const char page[] = "<!doctype html>\n<head>\n<meta charset=\"utf-8\">\n"
                               "<base href=\"/\">\n<link href=\"app.1234567890.css\">";
    ui_base_index ix;
    ck_assert_int_eq(ui_base_index_new("/tools/loupe", (const unsigned char *)page,
                                       sizeof(page) - 1, "\"abc\"", &ix),
                     0);
    ck_assert_ptr_nonnull(strstr(ix.data, "<base href=\"/tools/loupe/\">"));
    ck_assert_ptr_null(strstr(ix.data, "<base href=\"/\">"));
    ck_assert_ptr_nonnull(strstr(ix.data, "<link href=\"app.1234567890.css\">"));
    ck_assert_uint_eq(ix.len, strlen(ix.data));
    ck_assert_uint_eq(ix.len, sizeof(page) - 1 + strlen("/tools/loupe"));
    /* a new ETag: the base's own variant of the page's */
    ck_assert_int_eq(strncmp(ix.etag, "\"abc-b", 6), 0);
    ck_assert_int_eq(ix.etag[strlen(ix.etag) - 1], '"');
    ui_base_index other;
    ck_assert_int_eq(ui_base_index_new("/other", (const unsigned char *)page, sizeof(page) - 1,
                                       "\"abc\"", &other),
                     0);
    ck_assert_str_ne(ix.etag, other.etag);
    ui_base_index_free(&other);
    ui_base_index_free(&ix);
    ck_assert_ptr_null(ix.data);
    ui_base_index_free(&ix); /* twice is harmless */
    /* a page without the tag cannot be told its base */
    static const char bare[] = "<html><head><base href=\"/x/\"></head></html>";
    ck_assert_int_eq(ui_base_index_new("/loupe", (const unsigned char *)bare, sizeof(bare) - 1,
                                       "\"abc\"", &ix),
                     -1);
    ck_assert_ptr_null(ix.data);
    ck_assert_int_eq(ui_base_index_new("/loupe", (const unsigned char *)page, sizeof(page) - 1,
                                       "unquoted", &ix),
                     -1);
    ck_assert_ptr_null(ix.data);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ui_base");
    TCase *tc = tcase_create("base path");
    tcase_add_test(tc, test_normalise);
    tcase_add_test(tc, test_locate);
    tcase_add_test(tc, test_join);
    tcase_add_test(tc, test_index);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
