/* test_textfold.c - text folded for word search (util/textfold.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/textfold.h"

static const char *fold(buf *b, const char *s) {
    buf_reset(b);
    ck_assert_int_eq(textfold(s, strlen(s), b), BUF_OK);
    return b->ptr ? b->ptr : "";
}

START_TEST(test_fold_latin) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_str_eq(fold(&b, "Überweisung ABGELEHNT"), "uberweisung abgelehnt");
    ck_assert_str_eq(fold(&b, "Crème Brûlée à la façon"), "creme brulee a la facon");
    ck_assert_str_eq(fold(&b, "Łódź, Škoda, Øresund, Ñandú"), "lodz, skoda, oresund, nandu");
    /* letters without a base letter only change case; signs stay */
    ck_assert_str_eq(fold(&b, "ÆØß ×÷ Œuvre"), "æoß ×÷ œuvre");
    buf_free(&b);
}
END_TEST

START_TEST(test_fold_other_scripts) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_str_eq(fold(&b, "ΑΘΗΝΑ Москва ЁЖ"), "αθηνα москва ёж");
    ck_assert_str_eq(fold(&b, "東京 👋"), "東京 👋"); /* no case: as it is */
    buf_free(&b);
}
END_TEST

START_TEST(test_fold_bytes) {
    buf b;
    buf_init(&b, 4096);
    /* invalid UTF-8 bytes go through as they are; never longer */
    const char bad[] = "A\xff\xc3(\xe2\x82Z";
    ck_assert_int_eq(textfold(bad, sizeof(bad) - 1, &b), BUF_OK);
    ck_assert_uint_eq(b.len, sizeof(bad) - 1);
    ck_assert_mem_eq(b.ptr, "a\xff\xc3(\xe2\x82z", sizeof(bad) - 1);
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    buf_reset(&b);
    ck_assert_int_eq(textfold(all, 256, &b), BUF_OK);
    ck_assert_uint_le(b.len, 256);
    /* a cap is honoured */
    buf small;
    buf_init(&small, 3);
    ck_assert_int_eq(textfold("abcdef", 6, &small), BUF_ETOOBIG);
    buf_free(&small);
    buf_free(&b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("textfold");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fold_latin);
    tcase_add_test(tc, test_fold_other_scripts);
    tcase_add_test(tc, test_fold_bytes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
