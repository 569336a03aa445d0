/* test_config.c - the retention flags of server/config.c: --max-age
 * (durations) and --max-db-size (sizes with a minimum), with their
 * environment twins; the lint's flags. */
/* test_config.c - server/config.c: the retention flags --max-age
 * (durations) and --max-db-size (sizes with a minimum), the UI token
 * flags, --base-path, --ingest-log-size (0 allowed), with their environment
 * twins; and the Aspire dashboard's names (server/config_aspire.c,
 * docs/aspire.md). */
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
    ck_assert_int_eq(cfg.log_patterns_off, 0);
    const char *pat_off[] = {"loupe", "--log-patterns", "off"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, pat_off), CONFIG_OK);
    ck_assert_int_eq(cfg.log_patterns_off, 1);
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

START_TEST(test_ingest_log_size) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.ingest_log_size, 1000);
    const char *off[] = {"loupe", "--ingest-log-size", "0"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, off), CONFIG_OK);
    ck_assert_uint_eq(cfg.ingest_log_size, 0);
    const char *most[] = {"loupe", "--ingest-log-size=100000"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, most), CONFIG_OK);
    ck_assert_uint_eq(cfg.ingest_log_size, 100000);
    static const char *bad[] = {"100001", "-1", "1k", "", "00x", "ten"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[] = {"loupe", "--ingest-log-size", bad[i]};
        ck_assert_msg(parse(&cfg, err, sizeof(err), 3, argv) == CONFIG_EINVAL, "%s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "--ingest-log-size"));
    }
    setenv("LOUPE_INGEST_LOG_SIZE", "0", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.ingest_log_size, 0);
    unsetenv("LOUPE_INGEST_LOG_SIZE");
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

START_TEST(test_base_path) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_str_eq(cfg.base_path, "");
    const char *argv[] = {"loupe", "--base-path", "/tools/loupe/"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_OK);
    ck_assert_str_eq(cfg.base_path, "/tools/loupe");
    const char *root[] = {"loupe", "--base-path=/"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 2, root), CONFIG_OK);
    ck_assert_str_eq(cfg.base_path, "");
    const char *bad[] = {"loupe", "--base-path", "loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, bad), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--base-path"));
    ck_assert_ptr_nonnull(strstr(err, "must start with '/'"));
    const char *dots[] = {"loupe", "--base-path", "/a/../b"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, dots), CONFIG_EINVAL);
    /* the environment twin, and the flag over it */
    setenv("LOUPE_BASE_PATH", "/from-env", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_str_eq(cfg.base_path, "/from-env");
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, argv), CONFIG_OK);
    ck_assert_str_eq(cfg.base_path, "/tools/loupe");
    setenv("LOUPE_BASE_PATH", "no-slash", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_BASE_PATH"));
    unsetenv("LOUPE_BASE_PATH");
}
END_TEST

START_TEST(test_forward_lists) {
    config cfg;
    char err[256] = "";
    const char *none[] = {"loupe"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.forward.n, 0);
    ck_assert_ptr_null(cfg.forward_protocol);
    const char *argv[] = {"loupe", "--forward", "grpc://a:4317", "--forward=http://b:4318",
                          "--forward-header", "x-key=1,2", "--forward-protocol", "http/json"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 8, argv), CONFIG_OK);
    ck_assert_uint_eq(cfg.forward.n, 2);
    ck_assert_str_eq(cfg.forward.items[0], "grpc://a:4317");
    ck_assert_str_eq(cfg.forward.items[1], "http://b:4318");
    ck_assert_uint_eq(cfg.forward_headers.n, 1);
    ck_assert_str_eq(cfg.forward_headers.items[0], "x-key=1,2"); /* a flag is one value */
    ck_assert_str_eq(cfg.forward_protocol, "http/json");
    /* the environment: comma-separated; the command line replaces it */
    setenv("LOUPE_FORWARD", "grpc://e1:4317, http://e2:4318,,", 1);
    setenv("LOUPE_FORWARD_HEADER", "a=1,b=2", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_OK);
    ck_assert_uint_eq(cfg.forward.n, 2);
    ck_assert_str_eq(cfg.forward.items[0], "grpc://e1:4317");
    ck_assert_str_eq(cfg.forward.items[1], "http://e2:4318");
    ck_assert_uint_eq(cfg.forward_headers.n, 2);
    ck_assert_str_eq(cfg.forward_headers.items[1], "b=2");
    const char *one[] = {"loupe", "--forward", "grpc://f:4317"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, one), CONFIG_OK);
    ck_assert_uint_eq(cfg.forward.n, 1);
    ck_assert_str_eq(cfg.forward.items[0], "grpc://f:4317");
    ck_assert_uint_eq(cfg.forward_headers.n, 2); /* still the environment's */
    /* at most CONFIG_MAX_FORWARD destinations */
    setenv("LOUPE_FORWARD", "a,b,c,d,e,f,g,h,i", 1);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 1, none), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_FORWARD"));
    unsetenv("LOUPE_FORWARD");
    unsetenv("LOUPE_FORWARD_HEADER");
    const char *many[3 + 2 * CONFIG_MAX_FORWARD];
    many[0] = "loupe";
    int n = 1;
    for (int i = 0; i <= CONFIG_MAX_FORWARD; i++) {
        many[n++] = "--forward";
        many[n++] = "grpc://x:1";
    }
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), n, many), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--forward: given more than 8 times"));
}
END_TEST

/* ---- the Aspire dashboard's names ------------------------------------------- */

/* Every name the tests below set, cleared before and after each. */
START_TEST(test_clickhouse_flags) {
    config cfg;
    char err[256] = "";
    const char *one[] = {"loupe", "--storage", "clickhouse", "--clickhouse-url",
                         "http://ch:8123/", "--clickhouse-database", "team_a"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 7, one), CONFIG_OK);
    ck_assert_int_eq(cfg.storage, CONFIG_STORAGE_CLICKHOUSE);
    ck_assert_uint_eq(cfg.n_ch_urls, 1);
    ck_assert_str_eq(cfg.ch_urls[0], "http://ch:8123"); /* the trailing slash goes */
    ck_assert_str_eq(cfg.ch_database, "team_a");
    ck_assert_ptr_null(cfg.ch_cluster);
    /* a cluster: every shard's URL */
    const char *two[] = {"loupe", "--storage=clickhouse", "--clickhouse-url",
                         "http://a:8123, http://b:8124", "--clickhouse-cluster", "loupe_c"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 6, two), CONFIG_OK);
    ck_assert_uint_eq(cfg.n_ch_urls, 2);
    ck_assert_str_eq(cfg.ch_urls[1], "http://b:8124");
    ck_assert_str_eq(cfg.ch_cluster, "loupe_c");
    /* refusals name the flag */
    struct {
        int argc;
        const char *argv[8];
        const char *says;
    } bad[] = {
        {3, {"loupe", "--storage", "clickhouse"}, "--clickhouse-url"},
        {5, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "ch:8123"}, "http://"},
        {5, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a,http://b"},
         "--clickhouse-cluster"},
        {7, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a",
             "--clickhouse-database", "x'; DROP"}, "--clickhouse-database"},
        {7, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a",
             "--clickhouse-cluster", "a b"}, "--clickhouse-cluster"},
        {7, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a", "--max-db-size",
             "10MiB"}, "--max-db-size"},
        {7, {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a", "--forward",
             "grpc://b:4317"}, "--forward"},
        {3, {"loupe", "--clickhouse-url", "http://a"}, "--storage clickhouse"},
        {3, {"loupe", "--storage", "cassandra"}, "clickhouse"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_int_eq(parse(&cfg, err, sizeof(err), bad[i].argc, bad[i].argv), CONFIG_EINVAL);
        ck_assert_msg(strstr(err, bad[i].says) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err,
                      bad[i].says);
    }
}
END_TEST

START_TEST(test_clickhouse_password_file) {
    config cfg;
    char err[256] = "", path[64];
    token_file(path, sizeof(path), "s3cret pass \n second line\n", 26);
    const char *argv[] = {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a",
                          "--clickhouse-password-file", path};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 7, argv), CONFIG_OK);
    ck_assert_str_eq(cfg.ch_password, "s3cret pass"); /* first line, trailing space cut */
    const char *both[] = {"loupe", "--storage", "clickhouse", "--clickhouse-url", "http://a",
                          "--clickhouse-password-file", path, "--clickhouse-password", "x"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 9, both), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "both"));
    unlink(path);
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 7, argv), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--clickhouse-password-file"));
}
END_TEST

static const char *const aspire_env[] = {
    "ASPNETCORE_URLS", "ASPIRE_DASHBOARD_URL", "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL",
    "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL", "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL",
    "DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS",
    "DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "DASHBOARD__FRONTEND__AUTHMODE",
    "Dashboard__Frontend__AuthMode", "DASHBOARD__FRONTEND__BROWSERTOKEN",
    "DASHBOARD__OTLP__AUTHMODE", "Dashboard__Otlp__AuthMode", "DASHBOARD__OTLP__PRIMARYAPIKEY",
    "Dashboard__Otlp__PrimaryApiKey", "DASHBOARD__OTLP__SECONDARYAPIKEY",
    "DASHBOARD__OTLP__CORS__ALLOWEDORIGINS", "DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT",
    "DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTECOUNT",
    "DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTELENGTH",
    "DASHBOARD__TELEMETRYLIMITS__MAXSPANEVENTCOUNT", "DASHBOARD__TELEMETRYLIMITS__MAXMETRICSCOUNT",
    "ASPIRE_DASHBOARD_CONFIG_FILE_PATH", "DASHBOARD__APPLICATIONNAME",
    "DASHBOARD__UNSECUREDALLOWANONYMOUS", "LOUPE_MAX_LOGS", "LOUPE_UI_AUTH", "LOUPE_UI_TOKEN_FILE",
    "LOUPE_OTLP_GRPC_ADDR"};

static void aspire_clear(void) {
    for (size_t i = 0; i < sizeof(aspire_env) / sizeof(aspire_env[0]); i++)
        unsetenv(aspire_env[i]);
}

static int aspire_parse(config *cfg, char *err, size_t errlen) {
    const char *argv[] = {"loupe"};
    return parse(cfg, err, errlen, 1, argv);
}

START_TEST(test_aspire_defaults_untouched) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.ui_addr, "0.0.0.0:18888");
    ck_assert_str_eq(cfg.otlp_grpc_addr, "0.0.0.0:4317");
    ck_assert_uint_eq(cfg.max_spans, 1000000);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    ck_assert_uint_eq(cfg.n_aspire_ignored, 0);
}
END_TEST

START_TEST(test_aspire_listen_urls) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    static const struct {
        const char *url, *want;
    } cases[] = {{"http://+:18889", "0.0.0.0:18889"},
                 {"http://*:18889", "0.0.0.0:18889"},
                 {"http://0.0.0.0:4317", "0.0.0.0:4317"},
                 {"http://localhost:4317", "localhost:4317"},
                 {"HTTP://LocalHost:4317/", "localhost:4317"},
                 {"http://127.0.0.1:4400", "127.0.0.1:4400"},
                 {"http://[::1]:4401", "[::1]:4401"},
                 {"http://dashboard.internal:4402", "0.0.0.0:4402"}, /* a name: every interface */
                 {"http://0.0.0.0", "0.0.0.0:80"},
                 {" http://+:4403 ; http://localhost:9999", "0.0.0.0:4403"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", cases[i].url, 1);
        ck_assert_msg(aspire_parse(&cfg, err, sizeof(err)) == CONFIG_OK, "%s: %s", cases[i].url,
                      err);
        ck_assert_str_eq(cfg.otlp_grpc_addr, cases[i].want);
    }
    /* the HTTP endpoint and the frontend */
    setenv("ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", "http://+:18890", 1);
    setenv("ASPNETCORE_URLS", "http://+:18888", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_http_addr, "0.0.0.0:18890");
    ck_assert_str_eq(cfg.ui_addr, "0.0.0.0:18888");
    /* the current name wins over the legacy DOTNET_ one, which works alone */
    setenv("DOTNET_DASHBOARD_OTLP_ENDPOINT_URL", "http://+:5555", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_grpc_addr, "0.0.0.0:4403");
    unsetenv("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL");
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_grpc_addr, "0.0.0.0:5555");
    /* loupe's own name wins */
    setenv("LOUPE_OTLP_GRPC_ADDR", "127.0.0.1:7000", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_grpc_addr, "127.0.0.1:7000");
    const char *flag[] = {"loupe", "--otlp-grpc-addr", "127.0.0.1:7001"};
    ck_assert_int_eq(parse(&cfg, err, sizeof(err), 3, flag), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_grpc_addr, "127.0.0.1:7001");
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_listen_url_errors) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    static const struct {
        const char *url, *why;
    } bad[] = {{"https://+:18889", "plain HTTP"},
               {"grpc://+:18889", "scheme must be http"},
               {"+:18889", "not a URL"},
               {"http://+:99999", "bad port"},
               {"http://+:", "bad port"},
               {"http://+:12ab", "bad port"},
               {"http://[::1:4317", "unclosed"},
               {"http://:4317", "bad host"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", bad[i].url, 1);
        ck_assert_msg(aspire_parse(&cfg, err, sizeof(err)) == CONFIG_EINVAL, "%s accepted",
                      bad[i].url);
        ck_assert_ptr_nonnull(strstr(err, "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"));
        ck_assert_msg(strstr(err, bad[i].why) != NULL, "%s: %s", bad[i].url, err);
    }
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_dashboard_url_is_a_port) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    /* where clients reach the dashboard: loupe listens on its port */
    setenv("ASPIRE_DASHBOARD_URL", "http://localhost:19999", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.ui_addr, "0.0.0.0:19999");
    setenv("ASPNETCORE_URLS", "http://127.0.0.1:18888", 1); /* the frontend's own setting wins */
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.ui_addr, "127.0.0.1:18888");
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_auth) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    /* names are read as .NET reads them: whatever their case */
    setenv("Dashboard__Frontend__AuthMode", "unsecured", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 1);
    setenv("LOUPE_UI_AUTH", "token", 1); /* loupe's own name wins */
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    aspire_clear();
    setenv("DASHBOARD__FRONTEND__AUTHMODE", "OpenIdConnect", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "DASHBOARD__FRONTEND__AUTHMODE"));
    ck_assert_ptr_nonnull(strstr(err, "not supported"));
    setenv("DASHBOARD__FRONTEND__AUTHMODE", "BrowserToken", 1);
    setenv("DASHBOARD__FRONTEND__BROWSERTOKEN", "aspire-token-0123456789", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    ck_assert_str_eq(config_ui_token(&cfg), "aspire-token-0123456789");
    /* loupe's rules for a fixed token apply, and the error names the variable */
    setenv("DASHBOARD__FRONTEND__BROWSERTOKEN", "short", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "DASHBOARD__FRONTEND__BROWSERTOKEN"));
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    aspire_clear();

    /* OTLP keys count only with AuthMode=ApiKey (Aspire's default is Unsecured) */
    setenv("DASHBOARD__OTLP__PRIMARYAPIKEY", "primary-key", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_ptr_null(cfg.otlp_api_key);
    setenv("Dashboard__Otlp__AuthMode", "ApiKey", 1);
    setenv("DASHBOARD__OTLP__SECONDARYAPIKEY", "secondary-key", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.otlp_api_key, "primary-key");
    ck_assert_str_eq(cfg.otlp_api_key_secondary, "secondary-key");
    unsetenv("DASHBOARD__OTLP__PRIMARYAPIKEY");
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "needs DASHBOARD__OTLP__PRIMARYAPIKEY"));
    setenv("Dashboard__Otlp__AuthMode", "Certificate", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not supported"));
    aspire_clear();

    /* the shortcut: both unsecured, whatever the modes say */
    setenv("DASHBOARD__OTLP__AUTHMODE", "ApiKey", 1);
    setenv("DASHBOARD__OTLP__PRIMARYAPIKEY", "primary-key", 1);
    setenv("DASHBOARD__FRONTEND__AUTHMODE", "BrowserToken", 1);
    setenv("DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "True", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 1);
    ck_assert_ptr_null(cfg.otlp_api_key);
    setenv("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "false", 1); /* the current name wins */
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    ck_assert_str_eq(cfg.otlp_api_key, "primary-key");
    setenv("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "yes", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"));
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_token_file_wins) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    char path[] = "/tmp/loupe-aspire-token-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "file-token-0123456789\n", 22), 22);
    close(fd);
    setenv("DASHBOARD__FRONTEND__BROWSERTOKEN", "aspire-token-0123456789", 1);
    setenv("LOUPE_UI_TOKEN_FILE", path, 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(config_ui_token(&cfg), "file-token-0123456789");
    unlink(path);
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_limits) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT", "5000", 1);
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "2500", 1);
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTECOUNT", "64", 1);
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXATTRIBUTELENGTH", "4096", 1);
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXSPANEVENTCOUNT", "16", 1);
    setenv("DASHBOARD__OTLP__CORS__ALLOWEDORIGINS", "http://localhost:3000,https://app", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_logs, 5000);
    ck_assert_uint_eq(cfg.max_spans, 250000); /* traces x 100 spans */
    ck_assert_uint_eq(cfg.max_attributes, 64);
    ck_assert_uint_eq(cfg.max_attr_value_len, 4096);
    ck_assert_uint_eq(cfg.max_span_events, 16);
    ck_assert_str_eq(cfg.cors_origins, "http://localhost:3000,https://app");
    setenv("LOUPE_MAX_LOGS", "7", 1);
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_uint_eq(cfg.max_logs, 7);
    static const struct {
        const char *name, *value;
    } bad[] = {{"DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT", "0"},
               {"DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT", "-5"},
               {"DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "lots"},
               {"DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "0"},
               {"DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "999999999999999999999"},
               {"DASHBOARD__TELEMETRYLIMITS__MAXTRACECOUNT", "184467440737095517"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aspire_clear();
        setenv(bad[i].name, bad[i].value, 1);
        ck_assert_msg(aspire_parse(&cfg, err, sizeof(err)) == CONFIG_EINVAL, "%s=%s accepted",
                      bad[i].name, bad[i].value);
        ck_assert_ptr_nonnull(strstr(err, bad[i].name));
    }
    aspire_clear();
}
END_TEST

START_TEST(test_aspire_names_without_meaning) {
    aspire_clear();
    config cfg;
    char err[256] = "";
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXMETRICSCOUNT", "100", 1);
    setenv("ASPIRE_DASHBOARD_CONFIG_FILE_PATH", "/etc/aspire.json", 1);
    setenv("DASHBOARD__APPLICATIONNAME", "", 1); /* empty: not set */
    setenv("DASHBOARD__UNSECUREDALLOWANONYMOUS", "true", 1); /* not one of Aspire's names */
    setenv("DASHBOARD__TELEMETRYLIMITS__MAXLOGCOUNT", "10", 1); /* known: not listed */
    ck_assert_int_eq(aspire_parse(&cfg, err, sizeof(err)), CONFIG_OK);
    ck_assert_int_eq(cfg.ui_auth_none, 0);
    int metrics = 0, file = 0, other = 0;
    for (size_t i = 0; i < cfg.n_aspire_ignored; i++) {
        if (strcmp(cfg.aspire_ignored[i], "DASHBOARD__TELEMETRYLIMITS__MAXMETRICSCOUNT") == 0)
            metrics++;
        else if (strcmp(cfg.aspire_ignored[i], "ASPIRE_DASHBOARD_CONFIG_FILE_PATH") == 0)
            file++;
        else if (strcmp(cfg.aspire_ignored[i], "DASHBOARD__UNSECUREDALLOWANONYMOUS") == 0)
            other++;
        else
            ck_abort_msg("listed: %s", cfg.aspire_ignored[i]);
    }
    ck_assert_int_eq(metrics, 1);
    ck_assert_int_eq(file, 1);
    ck_assert_int_eq(other, 1);
    ck_assert_uint_eq(cfg.n_aspire_ignored, 3);
    aspire_clear();
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
    tcase_add_test(tc, test_ingest_log_size);
    tcase_add_test(tc, test_lint_flags);
    tcase_add_test(tc, test_ui_auth_flags);
    tcase_add_test(tc, test_ui_token_file);
    tcase_add_test(tc, test_base_path);
    tcase_add_test(tc, test_forward_lists);
    tcase_add_test(tc, test_clickhouse_flags);
    tcase_add_test(tc, test_clickhouse_password_file);
    tcase_add_test(tc, test_aspire_defaults_untouched);
    tcase_add_test(tc, test_aspire_listen_urls);
    tcase_add_test(tc, test_aspire_listen_url_errors);
    tcase_add_test(tc, test_aspire_dashboard_url_is_a_port);
    tcase_add_test(tc, test_aspire_auth);
    tcase_add_test(tc, test_aspire_token_file_wins);
    tcase_add_test(tc, test_aspire_limits);
    tcase_add_test(tc, test_aspire_names_without_meaning);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
