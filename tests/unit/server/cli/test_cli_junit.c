/* test_cli_junit.c - unit tests for server/cli/cli_junit.c: XML escaping
 * and the report's elements and attributes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli/cli_junit.h"

static const char *esc(const char *s) {
    static char out[256];
    buf b;
    buf_init(&b, sizeof(out) - 1);
    ck_assert_int_eq(cli_xml_escape(&b, s), BUF_OK);
    memcpy(out, b.ptr != NULL ? b.ptr : "", b.len + 1);
    buf_free(&b);
    return out;
}

START_TEST(escaping) {
    ck_assert_str_eq(esc("plain text"), "plain text");
    ck_assert_str_eq(esc("<a href=\"x\">Tom & 'Jerry'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;");
    ck_assert_str_eq(esc("tab\tnl\ncr\r"), "tab&#9;nl&#10;cr&#13;");
    /* characters XML 1.0 forbids become U+FFFD */
    ck_assert_str_eq(esc("a\x01" "b\x1f" "c\x7f"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\x7f");
    ck_assert_str_eq(esc("\xEF\xBF\xBE|\xEF\xBF\xBF"), "\xEF\xBF\xBD|\xEF\xBF\xBD");
    /* invalid UTF-8: each bad byte is one U+FFFD, good text around it stays */
    ck_assert_str_eq(esc("x\xff" "y"), "x\xEF\xBF\xBDy");
    ck_assert_str_eq(esc("\xc3("), "\xEF\xBF\xBD(");
    ck_assert_str_eq(esc("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  /* overlong */
    ck_assert_str_eq(esc("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    ck_assert_str_eq(esc("\xf4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    ck_assert_str_eq(esc("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD"); /* cut short */
    ck_assert_str_eq(esc("é 日本 🎉"), "é 日本 🎉");
    ck_assert_str_eq(esc(NULL), "");
    /* a full buffer reports it */
    buf small;
    buf_init(&small, 3);
    ck_assert_int_eq(cli_xml_escape(&small, "&&"), BUF_ETOOBIG);
    buf_free(&small);
}
END_TEST

START_TEST(report) {
    cli_junit_case cases[] = {
        {"--trace 'service=a' --count 1", 0.25, NULL, NULL},
        {"--log 'q=\"x<y\"'", 1.5, "found 2 log records, want exactly 0",
         "see http://h/logs?q=x%3Cy&range=7d\ne.g. http://h/traces/ab"},
    };
    buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(cli_junit_write(&b, "loupe expect", cases, 2, 1.75, 1714567200000000000ULL,
                                     "ci-host"),
                     BUF_OK);
    const char *want =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"loupe expect\" tests=\"2\" failures=\"1\" errors=\"0\" "
        "time=\"1.750\">\n"
        "  <testsuite name=\"loupe expect\" package=\"loupe expect\" tests=\"2\" failures=\"1\" "
        "errors=\"0\" skipped=\"0\" id=\"0\" time=\"1.750\" timestamp=\"2024-05-01T12:40:00\" "
        "hostname=\"ci-host\">\n"
        "    <testcase name=\"--trace &apos;service=a&apos; --count 1\" classname=\"loupe "
        "expect\" time=\"0.250\"/>\n"
        "    <testcase name=\"--log &apos;q=&quot;x&lt;y&quot;&apos;\" classname=\"loupe expect\" "
        "time=\"1.500\">\n"
        "      <failure message=\"found 2 log records, want exactly 0\" "
        "type=\"ExpectationFailed\">see http://h/logs?q=x%3Cy&amp;range=7d&#10;e.g. "
        "http://h/traces/ab</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n";
    ck_assert_str_eq(b.ptr, want);
    /* no cases, no host */
    buf_reset(&b);
    ck_assert_int_eq(cli_junit_write(&b, "s", NULL, 0, 0, 0, NULL), BUF_OK);
    ck_assert_ptr_nonnull(strstr(b.ptr, "tests=\"0\" failures=\"0\""));
    ck_assert_ptr_nonnull(strstr(b.ptr, "hostname=\"localhost\""));
    ck_assert_ptr_nonnull(strstr(b.ptr, "timestamp=\"1970-01-01T00:00:00\""));
    buf_free(&b);
}
END_TEST

static Suite *cli_junit_suite(void) {
    Suite *s = suite_create("cli_junit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, report);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(cli_junit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
