/* test_cli_parse.c - unit tests for server/cli/cli_parse.c (durations,
 * counts, expectation-file lines) and server/cli/cli_table.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli/cli_parse.h"
#include "server/cli/cli_table.h"

START_TEST(durations) {
    static const struct {
        const char *s;
        uint64_t ns;
    } ok[] = {
        {"0", 0},           {"1ns", 1},          {"250ms", 250000000ULL},
        {"1.5s", 1500000000ULL}, {"2m", 120000000000ULL}, {"1m30s", 90000000000ULL},
        {"1h", 3600000000000ULL}, {"2d", 172800000000000ULL}, {"100us", 100000ULL},
        {".5s", 500000000ULL}, {"1.000000001s", 1000000001ULL},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t ns = 12345;
        ck_assert_msg(cli_parse_duration(ok[i].s, &ns) == 0, "%s", ok[i].s);
        ck_assert_msg(ns == ok[i].ns, "%s -> %llu", ok[i].s, (unsigned long long)ns);
    }
    static const char *const bad[] = {"", "5", "s", "1x", "1.5", "-1s", "1 s", "1s ",
                                      "99999999999999999999h", "1h-", "ms", "1..5s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ns = 7;
        ck_assert_msg(cli_parse_duration(bad[i], &ns) == -1, "'%s' should fail", bad[i]);
    }
    uint64_t ns;
    ck_assert_int_eq(cli_parse_duration(NULL, &ns), -1);
}
END_TEST

START_TEST(counts) {
    uint64_t v;
    ck_assert_int_eq(cli_parse_count("0", 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(cli_parse_count("1000", 1000, &v), 0);
    ck_assert_uint_eq(v, 1000);
    ck_assert_int_eq(cli_parse_count("1001", 1000, &v), -1);
    ck_assert_int_eq(cli_parse_count("9", 5, &v), -1);
    ck_assert_int_eq(cli_parse_count("18446744073709551615", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(cli_parse_count("18446744073709551616", UINT64_MAX, &v), -1);
    ck_assert_int_eq(cli_parse_count("", 5, &v), -1);
    ck_assert_int_eq(cli_parse_count("+1", 5, &v), -1);
    ck_assert_int_eq(cli_parse_count("1e3", 5000, &v), -1);
}
END_TEST

/* Splits line and joins the words with '|' (or "ERR: reason"). */
static const char *split(const char *line) {
    static char out[1024];
    char store[512], err[128];
    char *argv[CLI_SPLIT_MAX_ARGS];
    int n = cli_split_line(line, store, sizeof(store), argv, err, sizeof(err));
    if (n < 0) {
        snprintf(out, sizeof(out), "ERR: %s", err);
        return out;
    }
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? "|" : "", argv[i]);
    return out;
}

START_TEST(split_lines_like_a_shell) {
    ck_assert_str_eq(split("--trace 'service=a name=\"POST /x\"' --count 0"),
                     "--trace|service=a name=\"POST /x\"|--count|0");
    ck_assert_str_eq(split("  --log\t\"q=disk \\\"full\\\"\"  "), "--log|q=disk \"full\"");
    ck_assert_str_eq(split("a\\ b c\\'d"), "a b|c'd");
    ck_assert_str_eq(split("'it''s' \"x\"'y'z"), "its|xyz");
    ck_assert_str_eq(split("''"), "");
    ck_assert_str_eq(split("a '' b"), "a||b");
    ck_assert_str_eq(split("# only a comment"), "");
    ck_assert_str_eq(split("--trace 'a' # --count 1"), "--trace|a");
    ck_assert_str_eq(split("x#y '#z'"), "x#y|#z");
    ck_assert_str_eq(split(""), "");
    ck_assert_str_eq(split("\n"), "");
    ck_assert_str_eq(split("'single \\ keeps'"), "single \\ keeps");
    ck_assert_str_eq(split("'open"), "ERR: a single quote is not closed");
    ck_assert_str_eq(split("\"open"), "ERR: a double quote is not closed");
    char many[400] = "";
    for (int i = 0; i <= CLI_SPLIT_MAX_ARGS; i++)
        strncat(many, "w ", sizeof(many) - strlen(many) - 1);
    ck_assert_ptr_nonnull(strstr(split(many), "more than"));
    /* the store is never overrun */
    char store[8], err[64];
    char *argv[CLI_SPLIT_MAX_ARGS];
    ck_assert_int_eq(cli_split_line("abcdefghij", store, sizeof(store), argv, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(cli_split_line("a b c d", store, sizeof(store), argv, err, sizeof(err)), 4);
    ck_assert_int_eq(cli_split_line("a b c d e", store, sizeof(store), argv, err, sizeof(err)),
                     -1);
}
END_TEST

START_TEST(tables) {
    static const char *const head[] = {"NAME", ">COUNT", "TEXT"};
    cli_table t;
    cli_table_init(&t, 3, head, 2);
    const char *r1[] = {"alpha", "7", "short"};
    const char *r2[] = {"β", "1234", "a much longer text\nwith a newline"};
    cli_table_add(&t, r1);
    cli_table_add(&t, r2);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(cli_table_print(&t, f, 0), 0);
    fclose(f);
    ck_assert_str_eq(out, "NAME   COUNT  TEXT\n"
                          "alpha      7  short\n"
                          "β       1234  a much longer text with a newline\n");
    free(out);
    /* to a width: the flexible column is cut, characters counted not bytes */
    f = open_memstream(&out, &len);
    ck_assert_int_eq(cli_table_print(&t, f, 30), 0);
    fclose(f);
    ck_assert_str_eq(out, "NAME   COUNT  TEXT\n"
                          "alpha      7  short\n"
                          "β       1234  a much longer...\n");
    free(out);
    cli_table_free(&t);
    ck_assert_uint_eq(cli_text_width("日本語"), 3);
}
END_TEST

static Suite *cli_parse_suite(void) {
    Suite *s = suite_create("cli_parse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, durations);
    tcase_add_test(tc, counts);
    tcase_add_test(tc, split_lines_like_a_shell);
    tcase_add_test(tc, tables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(cli_parse_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
