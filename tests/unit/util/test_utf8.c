/* test_utf8.c - util/utf8.c: decoding, validity and cutting. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

/* A case: bytes, and the length and code point utf8_decode() must give
 * (length 0: invalid). */
typedef struct dcase {
    const char *s;
    size_t len;
    size_t want_len;
    uint32_t want_cp;
    const char *what;
} dcase;

static const dcase decode_cases[] = {
    {"A", 1, 1, 0x41, "ASCII"},
    {"\0", 1, 1, 0, "NUL"},
    {"\x7f", 1, 1, 0x7F, "last ASCII"},
    {"\xc2\x80", 2, 2, 0x80, "first 2-byte"},
    {"\xdf\xbf", 2, 2, 0x7FF, "last 2-byte"},
    {"\xe0\xa0\x80", 3, 3, 0x800, "first 3-byte"},
    {"\xe2\x80\xa8", 3, 3, 0x2028, "U+2028"},
    {"\xed\x9f\xbf", 3, 3, 0xD7FF, "below the surrogates"},
    {"\xee\x80\x80", 3, 3, 0xE000, "above the surrogates"},
    {"\xef\xbf\xbd", 3, 3, 0xFFFD, "replacement character"},
    {"\xef\xbf\xbf", 3, 3, 0xFFFF, "last 3-byte"},
    {"\xf0\x90\x80\x80", 4, 4, 0x10000, "first 4-byte"},
    {"\xf0\x9f\x91\x8b", 4, 4, 0x1F44B, "emoji"},
    {"\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF, "U+10FFFF"},
    {"\xc3\xa9xyz", 5, 2, 0xE9, "followed by more"},
    /* overlongs */
    {"\xc0\xaf", 2, 0, 0, "overlong '/' (C0)"},
    {"\xc1\xbf", 2, 0, 0, "overlong (C1)"},
    {"\xe0\x80\xaf", 3, 0, 0, "overlong 3-byte"},
    {"\xe0\x9f\xbf", 3, 0, 0, "overlong U+7FF"},
    {"\xf0\x80\x80\xaf", 4, 0, 0, "overlong 4-byte"},
    {"\xf0\x8f\xbf\xbf", 4, 0, 0, "overlong U+FFFF"},
    /* surrogates */
    {"\xed\xa0\x80", 3, 0, 0, "U+D800"},
    {"\xed\xbf\xbf", 3, 0, 0, "U+DFFF"},
    /* past U+10FFFF */
    {"\xf4\x90\x80\x80", 4, 0, 0, "U+110000"},
    {"\xf5\x80\x80\x80", 4, 0, 0, "lead F5"},
    {"\xff", 1, 0, 0, "FF"},
    /* truncated */
    {"\xc3", 1, 0, 0, "2-byte cut"},
    {"\xe6\x9d", 2, 0, 0, "3-byte cut"},
    {"\xf0\x9f\x91", 3, 0, 0, "4-byte cut"},
    {"\xe6\x9d\xb1", 2, 0, 0, "cut by the length, not the bytes"},
    /* bad continuation */
    {"\x80", 1, 0, 0, "lone continuation"},
    {"\xc3\x28", 2, 0, 0, "ASCII where a continuation belongs"},
    {"\xe6\xc3\xa9", 3, 0, 0, "lead where a continuation belongs"},
};

START_TEST(test_utf8_decode) {
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const dcase *c = &decode_cases[i];
        uint32_t cp = 0xDEADBEEF;
        size_t n = utf8_decode(c->s, c->len, &cp);
        ck_assert_msg(n == c->want_len, "%s: length %zu, want %zu", c->what, n, c->want_len);
        if (n > 0)
            ck_assert_msg(cp == c->want_cp, "%s: U+%04X", c->what, (unsigned)cp);
        /* an invalid first character makes the whole input invalid */
        if (n == 0)
            ck_assert_msg(!utf8_valid(c->s, c->len), "%s: valid", c->what);
        else if (n == c->len)
            ck_assert_msg(utf8_valid(c->s, c->len), "%s: invalid", c->what);
    }
}
END_TEST

START_TEST(test_utf8_valid) {
    ck_assert_int_eq(utf8_valid("", 0), 1);
    ck_assert_int_eq(utf8_valid(NULL, 0), 1);
    ck_assert_int_eq(utf8_valid("plain ascii text, longer than eight", 35), 1);
    ck_assert_int_eq(utf8_valid("caf\xc3\xa9 \xe6\x9d\xb1 \xf0\x9f\x91\x8b", 14), 1);
    ck_assert_int_eq(utf8_valid("a\0b", 3), 1);
    /* an error right after the eight-byte ASCII path, and inside it */
    ck_assert_int_eq(utf8_valid("abcdefgh\xff", 9), 0);
    ck_assert_int_eq(utf8_valid("abc\xffstuvwxyz", 12), 0);
    ck_assert_int_eq(utf8_valid("abc\xe6\x9d\xb1xyz1234567", 16), 1);
    /* a valid character followed by a cut one */
    ck_assert_int_eq(utf8_valid("\xc3\xa9\xc3", 3), 0);
    /* every byte value alone: valid exactly when ASCII */
    for (unsigned b = 0; b < 256; b++) {
        char c = (char)b;
        ck_assert_int_eq(utf8_valid(&c, 1), b < 0x80);
    }
}
END_TEST

START_TEST(test_utf8_cut) {
    const char *s = "ab\xc3\xa9\xe6\x9d\xb1\xf0\x9f\x91\x8bz"; /* a b é 東 👋 z */
    size_t len = strlen(s);
    ck_assert_uint_eq(utf8_cut(s, len, len), len);
    ck_assert_uint_eq(utf8_cut(s, len, 100), len);
    ck_assert_uint_eq(utf8_cut(s, len, 2), 2);
    ck_assert_uint_eq(utf8_cut(s, len, 3), 2);  /* inside é */
    ck_assert_uint_eq(utf8_cut(s, len, 4), 4);
    ck_assert_uint_eq(utf8_cut(s, len, 5), 4);  /* inside 東 */
    ck_assert_uint_eq(utf8_cut(s, len, 6), 4);
    ck_assert_uint_eq(utf8_cut(s, len, 7), 7);
    ck_assert_uint_eq(utf8_cut(s, len, 10), 7); /* inside the emoji */
    ck_assert_uint_eq(utf8_cut(s, len, 11), 11);
    ck_assert_uint_eq(utf8_cut(s, len, 0), 0);
    /* every cut of valid text is valid text */
    for (size_t max = 0; max <= len; max++)
        ck_assert_msg(utf8_valid(s, utf8_cut(s, len, max)), "max %zu", max);
}
END_TEST

static Suite *utf8_suite(void) {
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_utf8_decode);
    tcase_add_test(tc, test_utf8_valid);
    tcase_add_test(tc, test_utf8_cut);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(utf8_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
