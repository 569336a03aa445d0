/* test_cli_filter.c - unit tests for server/cli/cli_filter.c: the filter
 * language, its API queries and its web UI links. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli/cli_filter.h"

/* Parses text and returns the API query it maps to ("" on a parse error,
 * with the reason in err). */
static const char *query_of(const char *text, cli_filter_kind kind, char *err, size_t errlen) {
    static char out[4096];
    cli_filter f;
    err[0] = '\0';
    out[0] = '\0';
    if (cli_filter_parse(text, kind, &f, err, errlen) != 0)
        return out;
    buf b;
    buf_init(&b, sizeof(out) - 1);
    ck_assert_int_eq(cli_filter_query(&f, 2000000000000000000ULL, &b), BUF_OK);
    memcpy(out, b.ptr != NULL ? b.ptr : "", b.len + 1);
    buf_free(&b);
    cli_filter_free(&f);
    return out;
}

START_TEST(traces_map_onto_the_api) {
    static const struct {
        const char *text, *query;
    } cases[] = {
        {"", ""},
        {"service=checkout", "service=checkout"},
        {"service=checkout name=\"POST /pay\" status=error",
         "service=checkout&name=POST%20%2Fpay&status=error"},
        {"name='it''s'", "name=its"}, /* shell-like words: 'it' 's' joined */
        {"attr:http.route=/pay attr:code>499 attr:user!=bob attr:path~cart",
         "attr=http.route%3D%2Fpay&attr=code%3E499&attr=user%21%3Dbob&attr=path~cart"},
        {"attr:\"odd key\"=\"a b\"", "attr=odd%20key%3Da%20b"},
        {"duration>200ms", "minDuration=200000001"},
        {"duration>=200ms duration<1s", "minDuration=200000000&maxDuration=999999999"},
        {"duration<=1m30s", "maxDuration=90000000000"},
        {"minDuration=2s q=\"SELECT orders\"", "minDuration=2s&q=SELECT%20orders"},
        {"start=2024-05-01T00:00:00Z end=1714567200000000000",
         "start=2024-05-01T00%3A00%3A00Z&end=1714567200000000000"},
        {"since=1h", "start=1999996400000000000"},
        {"  service=a\t\tname=b  ", "service=a&name=b"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *q = query_of(cases[i].text, CLI_FILTER_TRACES, err, sizeof(err));
        ck_assert_msg(err[0] == '\0', "%s: %s", cases[i].text, err);
        ck_assert_msg(strcmp(q, cases[i].query) == 0, "%s -> %s, want %s", cases[i].text, q,
                      cases[i].query);
    }
}
END_TEST

START_TEST(logs_and_metrics_map_onto_the_api) {
    char err[256];
    ck_assert_str_eq(query_of("service=a severity>=warn q=disk trace=0af7 span=b7ad",
                              CLI_FILTER_LOGS, err, sizeof(err)),
                     "service=a&minSeverity=warn&q=disk&traceId=0af7&spanId=b7ad");
    ck_assert_str_eq(query_of("minSeverity=17 traceId=ab spanId=cd", CLI_FILTER_LOGS, err,
                              sizeof(err)),
                     "minSeverity=17&traceId=ab&spanId=cd");
    cli_filter f;
    ck_assert_int_eq(cli_filter_parse("http.server.requests service=checkout attr:route=/a",
                                      CLI_FILTER_METRICS, &f, err, sizeof(err)),
                     0);
    ck_assert_str_eq(f.metric, "http.server.requests");
    ck_assert_str_eq(cli_filter_get(&f, "service"), "checkout");
    ck_assert_ptr_null(cli_filter_get(&f, "name"));
    cli_filter_free(&f);
    cli_filter_free(&f); /* a freed filter is zeroed: freeing again is harmless */
}
END_TEST

START_TEST(bad_filters_are_refused_with_a_reason) {
    static const struct {
        const char *text;
        cli_filter_kind kind;
        const char *needle;
    } cases[] = {
        {"colour=blue", CLI_FILTER_TRACES, "'colour=blue' is not a filter"},
        {"service", CLI_FILTER_TRACES, "is not a filter"},
        {"service!=a", CLI_FILTER_TRACES, "'service' takes ="},
        {"service=", CLI_FILTER_TRACES, "needs a value"},
        {"service=a service=b", CLI_FILTER_TRACES, "given twice"},
        {"severity>=warn", CLI_FILTER_TRACES, "does not apply to traces"},
        {"name=x", CLI_FILTER_LOGS, "does not apply to logs"},
        {"duration>2s", CLI_FILTER_LOGS, "does not apply to logs"},
        {"severity=warn", CLI_FILTER_LOGS, "'severity' takes >="},
        {"duration=2s", CLI_FILTER_TRACES, "'duration' takes >"},
        {"duration>fast", CLI_FILTER_TRACES, "not a duration"},
        {"duration<0", CLI_FILTER_TRACES, "never hold"},
        {"since=yesterday", CLI_FILTER_TRACES, "since=15m"},
        {"since=1h since=2h", CLI_FILTER_TRACES, "since=15m"},
        {"since=1h start=1", CLI_FILTER_TRACES, "not both"},
        {"attr:=x", CLI_FILTER_TRACES, "attribute filter"},
        {"attr:k>=1", CLI_FILTER_TRACES, "attribute filter"},
        {"attr:k", CLI_FILTER_TRACES, "attribute filter"},
        {"name=\"unclosed", CLI_FILTER_TRACES, "not closed"},
        {"service=a", CLI_FILTER_METRICS, "metric's name"},
        {"", CLI_FILTER_METRICS, "metric's name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cli_filter f;
        char err[512] = "";
        ck_assert_msg(cli_filter_parse(cases[i].text, cases[i].kind, &f, err, sizeof(err)) == -1,
                      "%s should fail", cases[i].text);
        ck_assert_msg(strstr(err, cases[i].needle) != NULL, "%s: '%s' lacks '%s'", cases[i].text,
                      err, cases[i].needle);
    }
}
END_TEST

START_TEST(positional_words_keep_quotes_out_of_values) {
    /* a shell passes 'name="POST /pay"' with its double quotes */
    char w0[] = "name=\"POST /pay\"", w1[] = "attr:k='a b'", w2[] = "q=\"say \\\"hi\\\"\"";
    char *words[] = {w0, w1, w2};
    cli_filter f;
    char err[256];
    ck_assert_int_eq(cli_filter_parse_words(words, 3, CLI_FILTER_TRACES, &f, err, sizeof(err)), 0);
    ck_assert_str_eq(cli_filter_get(&f, "name"), "POST /pay");
    ck_assert_str_eq(cli_filter_get(&f, "attr"), "k=a b");
    ck_assert_str_eq(cli_filter_get(&f, "q"), "say \"hi\"");
    cli_filter_free(&f);
}
END_TEST

START_TEST(ui_links) {
    static const struct {
        const char *text;
        cli_filter_kind kind;
        const char *link;
    } cases[] = {
        {"service=checkout status=error", CLI_FILTER_TRACES,
         "http://h:1/traces?service=checkout&status=error&range=7d"},
        {"service=a severity>=warn", CLI_FILTER_LOGS,
         "http://h:1/logs?service=a&minSeverity=warn&range=7d"},
        {"m.x service=a attr:k=v", CLI_FILTER_METRICS,
         "http://h:1/metrics?metric=m.x&mservice=a&attr=k%3Dv&range=7d"},
        {"since=1s", CLI_FILTER_TRACES, "http://h:1/traces?start=1999999999000000000"},
        {"start=5", CLI_FILTER_LOGS, "http://h:1/logs?start=5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cli_filter f;
        char err[256];
        ck_assert_int_eq(cli_filter_parse(cases[i].text, cases[i].kind, &f, err, sizeof(err)), 0);
        buf b;
        buf_init(&b, 4096);
        ck_assert_int_eq(cli_filter_ui_link(&f, "http://h:1", 2000000000000000000ULL, &b), BUF_OK);
        ck_assert_msg(strcmp(b.ptr, cases[i].link) == 0, "%s -> %s", cases[i].text, b.ptr);
        buf_free(&b);
        cli_filter_free(&f);
    }
}
END_TEST

START_TEST(too_many_terms) {
    char text[4096] = "";
    for (int i = 0; i < CLI_FILTER_MAX_PARAMS + 1; i++)
        memcpy(text + 9 * i, "attr:k=v ", 10);
    cli_filter f;
    char err[256];
    ck_assert_int_eq(cli_filter_parse(text, CLI_FILTER_TRACES, &f, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "too many"));
}
END_TEST

static Suite *cli_filter_suite(void) {
    Suite *s = suite_create("cli_filter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, traces_map_onto_the_api);
    tcase_add_test(tc, logs_and_metrics_map_onto_the_api);
    tcase_add_test(tc, bad_filters_are_refused_with_a_reason);
    tcase_add_test(tc, positional_words_keep_quotes_out_of_values);
    tcase_add_test(tc, ui_links);
    tcase_add_test(tc, too_many_terms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(cli_filter_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
