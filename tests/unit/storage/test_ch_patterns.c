/* test_ch_patterns.c - the global ids of log patterns on a ClickHouse
 * store (storage/ch_patterns.c): stored in every log row, so pinned; in
 * 1..2^53-1 (exact in JSON readers); distinct for every part of the key.
 * (The rounds, the table and the answers are tested against a real server
 * by tests/interop/clickhouse_patterns.test.mjs.) */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ch_patterns.h"
#include "storage/logpattern.h"

static int64_t gid(const char *svc, int kind, const char *tmpl, uint64_t salt) {
    return ch_patterns_global_id(svc, strlen(svc), kind, tmpl, strlen(tmpl), salt);
}

START_TEST(test_pinned) {
    /* stored ids: a change here splits every stored pattern in two */
    ck_assert_int_eq(gid("frontend", LOGPATTERN_TEXT, "GET <PATH> <NUM> <DURATION>", 0),
                     INT64_C(4834135859868197));
    ck_assert_int_eq(gid("", LOGPATTERN_OTHER, LOGPATTERN_OTHER_TEMPLATE, 0),
                     INT64_C(1268589127787010));
}
END_TEST

START_TEST(test_range) {
    char svc[32], tmpl[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(svc, sizeof(svc), "svc-%d", i % 97);
        snprintf(tmpl, sizeof(tmpl), "template %d <NUM>", i);
        int64_t id = gid(svc, i % 3, tmpl, (uint64_t)(i % 5));
        ck_assert(id >= 1 && id <= (INT64_C(1) << 53) - 1);
    }
}
END_TEST

START_TEST(test_every_part_counts) {
    int64_t base = gid("ab", LOGPATTERN_TEXT, "c d", 0);
    ck_assert_int_eq(gid("ab", LOGPATTERN_TEXT, "c d", 0), base); /* the same key, the same id */
    ck_assert_int_ne(gid("a", LOGPATTERN_TEXT, "bc d", 0), base); /* where service ends */
    ck_assert_int_ne(gid("abc", LOGPATTERN_TEXT, " d", 0), base);
    ck_assert_int_ne(gid("ab", LOGPATTERN_STRUCTURED, "c d", 0), base);
    ck_assert_int_ne(gid("ab", LOGPATTERN_TEXT, "c  d", 0), base);
    ck_assert_int_ne(gid("ab", LOGPATTERN_TEXT, "c d", 1), base); /* the salt of a collision */
    /* NULL reads as empty */
    ck_assert_int_eq(ch_patterns_global_id(NULL, 0, LOGPATTERN_TEXT, NULL, 0, 0),
                     gid("", LOGPATTERN_TEXT, "", 0));
}
END_TEST

int main(void) {
    Suite *s = suite_create("ch_patterns");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pinned);
    tcase_add_test(tc, test_range);
    tcase_add_test(tc, test_every_part_counts);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
