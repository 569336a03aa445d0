/* test_config.c - the retention flags of server/config.c: --max-age
 * (durations) and --max-db-size (sizes with a minimum), with their
 * environment twins; the lint's flags. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

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

START_TEST(test_lint_flags) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_int_eq(cfg.lint_off, 0);
    ck_assert_uint_eq(cfg.lint_orphan_grace_ns, 120 * SEC);
    ck_assert_uint_eq(cfg.lint_max_series, 1000);
    const char *argv[] = {"loupe", "--lint", "off", "--lint-orphan-grace=1s",
                          "--lint-max-series", "50"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 6, argv), CONFIG_OK);
    ck_assert_int_eq(cfg.lint_off, 1);
    ck_assert_uint_eq(cfg.lint_orphan_grace_ns, SEC);
    ck_assert_uint_eq(cfg.lint_max_series, 50);
    const char *on[] = {"loupe", "--lint=on"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, on), CONFIG_OK);
    ck_assert_int_eq(cfg.lint_off, 0);
    const char *maybe[] = {"loupe", "--lint", "maybe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, maybe), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "on or off"));
    /* the rollup forgets a waiting child after 10 minutes: no longer grace */
    const char *long_grace[] = {"loupe", "--lint-orphan-grace", "11m"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, long_grace), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--lint-orphan-grace"));
    const char *short_grace[] = {"loupe", "--lint-orphan-grace", "500ms"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, short_grace), CONFIG_EINVAL);
    setenv("LOUPE_LINT", "off", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_int_eq(cfg.lint_off, 1);
    unsetenv("LOUPE_LINT");
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

START_TEST(test_ui_auth_flags) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0); /* token mode by default */
    ck_assert_ptr_null(config_ui_token(&cfg)); /* random per start */
    const char *off[] = {"loupe", "--ui-auth", "none"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, off), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 1);
    const char *on[] = {"loupe", "--ui-auth=token"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, on), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    const char *bad[] = {"loupe", "--ui-auth", "None"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, bad), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--ui-auth"));
    const char *empty[] = {"loupe", "--ui-auth="};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, empty), CONFIG_EINVAL);

    const char *tok[] = {"loupe", "--ui-token", "0123456789abcdef"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, tok), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "0123456789abcdef");
    const char *shorttok[] = {"loupe", "--ui-token", "0123456789abcde"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, shorttok), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--ui-token"));
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_ptr_nonnull(strstr(err, "16"));
    const char *space[] = {"loupe", "--ui-token", "0123456789 abcdef"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, space), CONFIG_EINVAL);
    const char *emptytok[] = {"loupe", "--ui-token="};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, emptytok), CONFIG_EINVAL);

    setenv("LOUPE_UI_AUTH", "none", 1);
    setenv("LOUPE_UI_TOKEN", "from-the-environment", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 1);
    ck_assert_str_eq(config_ui_token(&cfg), "from-the-environment");
    /* the flag wins over the environment */
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, on), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, tok), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "0123456789abcdef");
    setenv("LOUPE_UI_TOKEN", "short", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_UI_TOKEN"));
    setenv("LOUPE_UI_AUTH", "off", 1);
    unsetenv("LOUPE_UI_TOKEN");
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_UI_AUTH"));
    unsetenv("LOUPE_UI_AUTH");
}
END_TEST

/* Writes text into a fresh temporary file whose path goes into path. */
static void token_file(char *path, size_t pathlen, const char *text, size_t len) {
    snprintf(path, pathlen, "/tmp/loupe-test-token-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

START_TEST(test_ui_token_file) {
    config cfg;
    char err[512] = "", path[64];
    const char *argv[] = {"loupe", "--ui-token-file", path};
    /* first line, trailing whitespace (and CR) trimmed */
    token_file(path, sizeof(path), "file-token-0123456789 \t\r\nsecond line\n",
               strlen("file-token-0123456789 \t\r\nsecond line\n"));
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "file-token-0123456789");
    /* a copy of the config keeps the token */
    config copy = cfg;
    ck_assert_str_eq(config_ui_token(&copy), "file-token-0123456789");
    /* both a token and a file: refused */
    const char *both[] = {"loupe", "--ui-token-file", path, "--ui-token", "0123456789abcdef"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 5, both), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "both"));
    /* the environment twin */
    setenv("LOUPE_UI_TOKEN_FILE", path, 1);
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "file-token-0123456789");
    unsetenv("LOUPE_UI_TOKEN_FILE");
    unlink(path);
    /* no final newline */
    token_file(path, sizeof(path), "abcdefghijklmnopq", 17);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "abcdefghijklmnopq");
    unlink(path);
    /* unreadable: gone */
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--ui-token-file"));
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    ck_assert_ptr_nonnull(strstr(err, path));
    /* a directory */
    const char *dir[] = {"loupe", "--ui-token-file", "/tmp"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, dir), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    /* empty, only whitespace, an empty first line */
    const char *empties[] = {"", " \t \n", "\nfile-token-0123456789\n"};
    for (size_t i = 0; i < 3; i++) {
        token_file(path, sizeof(path), empties[i], strlen(empties[i]));
        ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "empty"));
        unlink(path);
    }
    /* too short and too long */
    token_file(path, sizeof(path), "short\n", 6);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    unlink(path);
    char big[2000];
    memset(big, 'a', sizeof(big));
    token_file(path, sizeof(path), big, sizeof(big));
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    unlink(path);
    /* a NUL byte is not a token character */
    token_file(path, sizeof(path), "abcdefgh\0ijklmnopq\n", 19);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_EINVAL);
    unlink(path);
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
    tcase_add_test(tc, test_lint_flags);
    tcase_add_test(tc, test_ui_auth_flags);
    tcase_add_test(tc, test_ui_token_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
