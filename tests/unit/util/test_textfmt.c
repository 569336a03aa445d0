/* test_textfmt.c - unit tests for util/textfmt.c (durations, times,
 * clipping, percent-encoding and joining). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/textfmt.h"

START_TEST(durations) {
    static const struct {
        uint64_t ns;
        const char *text;
    } cases[] = {
        {0, "0ns"},          {999, "999ns"},         {1000, "1us"},
        {12345, "12.3us"},   {4560000, "4.56ms"},    {999499999, "999ms"},
        {999999999, "1s"},   {999999, "1ms"},
        {1230000000, "1.23s"}, {123000000000ULL, "2m03s"}, {3720000000000ULL, "1h02m"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        textfmt_duration(cases[i].ns, out, sizeof(out));
        ck_assert_msg(strcmp(out, cases[i].text) == 0, "%llu: %s, want %s",
                      (unsigned long long)cases[i].ns, out, cases[i].text);
    }
}
END_TEST

START_TEST(times_and_ns) {
    char out[40];
    textfmt_time_utc(1714567200123456789ULL, out, sizeof(out));
    ck_assert_str_eq(out, "2024-05-01T12:40:00.123Z");
    textfmt_time_utc(0, out, sizeof(out));
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    ck_assert_uint_eq(textfmt_parse_ns("1714567200123456789"), 1714567200123456789ULL);
    ck_assert_uint_eq(textfmt_parse_ns("18446744073709551615"), UINT64_MAX);
    ck_assert_uint_eq(textfmt_parse_ns("18446744073709551616"), 0); /* too large */
    ck_assert_uint_eq(textfmt_parse_ns("12a"), 0);
    ck_assert_uint_eq(textfmt_parse_ns("-1"), 0);
    ck_assert_uint_eq(textfmt_parse_ns(""), 0);
    ck_assert_uint_eq(textfmt_parse_ns(NULL), 0);
}
END_TEST

START_TEST(clip) {
    char out[16];
    textfmt_clip("short", 10, out, sizeof(out));
    ck_assert_str_eq(out, "short");
    textfmt_clip("exactly ten", 10, out, sizeof(out));
    ck_assert_str_eq(out, "exactly te...");
    textfmt_clip("line\nbreak\ttab", 12, out, sizeof(out));
    ck_assert_str_eq(out, "line break t...");
    /* never inside a UTF-8 sequence: "é" is two bytes at 4..5 */
    textfmt_clip("abcd\xc3\xa9xyz", 5, out, sizeof(out));
    ck_assert_str_eq(out, "abcd...");
    textfmt_clip(NULL, 5, out, sizeof(out));
    ck_assert_str_eq(out, "");
    /* max is lowered to fit the buffer */
    char tiny[8];
    textfmt_clip("a long string", 100, tiny, sizeof(tiny));
    ck_assert_str_eq(tiny, "a lo...");
}
END_TEST

START_TEST(url_encode_decode) {
    buf b;
    buf_init(&b, 256);
    ck_assert_int_eq(textfmt_url_encode("a b/c?d=e&f~g.h_i-j%é", &b), BUF_OK);
    ck_assert_str_eq(b.ptr, "a%20b%2Fc%3Fd%3De%26f~g.h_i-j%25%C3%A9");
    char s[64];
    memcpy(s, b.ptr, b.len + 1);
    ck_assert_uint_eq(textfmt_url_decode(s, 0), strlen("a b/c?d=e&f~g.h_i-j%é"));
    ck_assert_str_eq(s, "a b/c?d=e&f~g.h_i-j%é");
    char plus[] = "a+b%2Bc";
    textfmt_url_decode(plus, 1);
    ck_assert_str_eq(plus, "a b+c");
    char path[] = "a+b";
    textfmt_url_decode(path, 0);
    ck_assert_str_eq(path, "a+b");
    char bad[] = "%zz%4%";
    ck_assert_uint_eq(textfmt_url_decode(bad, 0), 6);
    ck_assert_str_eq(bad, "%zz%4%");
    char nul[] = "x%00y";
    ck_assert_uint_eq(textfmt_url_decode(nul, 0), 3);
    ck_assert_int_eq(nul[1], 0);
    /* a full buffer: the error comes back and nothing half-encoded stays */
    buf small;
    buf_init(&small, 4);
    ck_assert_int_eq(textfmt_url_encode("ab/c", &small), BUF_ETOOBIG);
    buf_free(&small);
    buf_free(&b);
}
END_TEST

START_TEST(append) {
    char out[12] = "";
    ck_assert_int_eq(textfmt_append(out, sizeof(out), ", ", "%s", "one"), 1);
    ck_assert_int_eq(textfmt_append(out, sizeof(out), ", ", "%d", 2), 1);
    ck_assert_str_eq(out, "one, 2");
    /* "one, 2, three" does not fit: left out whole */
    ck_assert_int_eq(textfmt_append(out, sizeof(out), ", ", "%s", "three"), 0);
    ck_assert_str_eq(out, "one, 2");
    ck_assert_int_eq(textfmt_append(out, sizeof(out), ", ", "%s", "x"), 1);
    ck_assert_str_eq(out, "one, 2, x");
    char full[4] = "abc";
    ck_assert_int_eq(textfmt_append(full, sizeof(full), NULL, "%s", "d"), 0);
    ck_assert_str_eq(full, "abc");
}
END_TEST

static Suite *textfmt_suite(void) {
    Suite *s = suite_create("textfmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, durations);
    tcase_add_test(tc, times_and_ns);
    tcase_add_test(tc, clip);
    tcase_add_test(tc, url_encode_decode);
    tcase_add_test(tc, append);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(textfmt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
