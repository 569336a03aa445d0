/* test_config.c - the retention flags of server/config.c: --max-age
 * (durations) and --max-db-size (sizes with a minimum), with their
 * environment twins. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define SEC 1000000000ULL

static int parse(config *cfg, char *err, size_t errlen, int argc, const char **argv) {
    return config_parse(cfg, argc, (char **)argv, err, errlen);
}

START_TEST(test_duration_units) {
    uint64_t ns;
    ck_assert_int_eq(config_parse_duration("90", &ns), 0);
    ck_assert_uint_eq(ns, 90 * SEC);
    ck_assert_int_eq(config_parse_duration("90s", &ns), 0);
    ck_assert_uint_eq(ns, 90 * SEC);
    ck_assert_int_eq(config_parse_duration("30m", &ns), 0);
    ck_assert_uint_eq(ns, 1800 * SEC);
    ck_assert_int_eq(config_parse_duration("12h", &ns), 0);
    ck_assert_uint_eq(ns, 12 * 3600 * SEC);
    ck_assert_int_eq(config_parse_duration("7d", &ns), 0);
    ck_assert_uint_eq(ns, 7 * 86400 * SEC);
}
END_TEST

START_TEST(test_duration_hostile) {
    static const char *bad[] = {"", "0", "0s", "-5m", "5x", "5 m", "m", "5mm", "1.5h", "+3s",
                                "99999999999999999999", "213503982335d", " 5s", "5s ", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ns = 77;
        ck_assert_msg(config_parse_duration(bad[i], &ns) == -1, "\"%s\" accepted", bad[i]);
        ck_assert_uint_eq(ns, 77);
    }
    uint64_t ns;
    ck_assert_int_eq(config_parse_duration(NULL, &ns), -1);
    /* the largest that fits in nanoseconds */
    ck_assert_int_eq(config_parse_duration("213503d", &ns), 0);
}
END_TEST

START_TEST(test_flags_and_defaults) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_age_ns, 0);
    ck_assert_uint_eq(cfg.max_db_size, 0);
    const char *argv[] = {"loupe", "--max-age", "2h", "--max-db-size=64MiB"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 4, argv), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_age_ns, 7200 * SEC);
    ck_assert_uint_eq(cfg.max_db_size, (size_t)64 << 20);
}
END_TEST

START_TEST(test_flag_errors_name_the_flag) {
    config cfg;
    char err[256] = "";
    const char *age[] = {"loupe", "--max-age", "soon"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, age), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--max-age"));
    const char *small[] = {"loupe", "--max-db-size", "512KiB"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, small), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--max-db-size"));
    ck_assert_ptr_nonnull(strstr(err, "1MiB"));
    const char *zero[] = {"loupe", "--max-db-size", "0"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, zero), CONFIG_EINVAL);
    const char *minimum[] = {"loupe", "--max-db-size", "1MiB"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, minimum), CONFIG_OK);
}
END_TEST

START_TEST(test_environment_twins) {
    config cfg;
    char err[256] = "";
    setenv("LOUPE_MAX_AGE", "15m", 1);
    setenv("LOUPE_MAX_DB_SIZE", "2GiB", 1);
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_age_ns, 900 * SEC);
    ck_assert_uint_eq(cfg.max_db_size, (size_t)2 << 30);
    /* the flag wins */
    const char *argv[] = {"loupe", "--max-age", "1d"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_age_ns, 86400 * SEC);
    setenv("LOUPE_MAX_AGE", "forever", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_MAX_AGE"));
    unsetenv("LOUPE_MAX_AGE");
    unsetenv("LOUPE_MAX_DB_SIZE");
}
END_TEST

int main(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("retention flags");
    tcase_add_test(tc, test_duration_units);
    tcase_add_test(tc, test_duration_hostile);
    tcase_add_test(tc, test_flags_and_defaults);
    tcase_add_test(tc, test_flag_errors_name_the_flag);
    tcase_add_test(tc, test_environment_twins);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
