/* Tests for storage/ch_insight.c: the GenAI rows and the lint's sums and
 * examples a ClickHouse writer's round makes from its batches (the rows as
 * TabSeparated text, before any insert), --lint off, and the memory of
 * examples written, which a failed insert leaves as it was. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ch_conn.h"
#include "storage/ch_insight.h"
#include "storage/genai.h"
#include "storage/lint.h"
#include "storage/rollup.h"
#include "store_fixture.h"

#define MS 1000000ULL
#define T0 (1796644800000ULL * MS) /* 2026-12-07 12:00 UTC */
#define ARRIVAL (T0 + 5000 * MS)

/* The lines of text that contain every needle (NULL-terminated list). */
static int lines_with(const char *text, const char *const *needles) {
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        ck_assert_ptr_nonnull(line);
        int all = 1;
        for (size_t i = 0; needles[i]; i++)
            all &= strstr(line, needles[i]) != NULL;
        n += all;
        free(line);
        p += len + (nl != NULL);
    }
    return n;
}

/* Field i (0-based) of the first line holding needle, into out. */
static void field_of(const char *text, const char *needle, int i, char *out, size_t len) {
    const char *line = strstr(text, needle);
    ck_assert_ptr_nonnull(line);
    while (line > text && line[-1] != '\n')
        line--;
    for (int k = 0; k < i; k++) {
        line = strchr(line, '\t');
        ck_assert_ptr_nonnull(line);
        line++;
    }
    size_t n = strcspn(line, "\t\n");
    ck_assert_uint_lt(n, len);
    memcpy(out, line, n);
    out[n] = '\0';
}

/* One GenAI call (failing, a long name) and seven spans with a deprecated
 * name, of service "svc". */
static model_batch *spans_batch(void) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "t", "1");
    fx_spans(b, 8);
    char name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    model_span *g = fx_span(b, r, sc, 1, 1, 0, name, T0, T0 + 1500 * MS);
    g->kind = MODEL_SPAN_KIND_CLIENT;
    g->status_code = MODEL_STATUS_ERROR;
    model_kv *kv = fx_kvs(b, 4);
    fx_kv_str(b, &kv[0], "gen_ai.operation.name", "chat");
    fx_kv_str(b, &kv[1], "gen_ai.system", "anthropic");
    fx_kv_str(b, &kv[2], "gen_ai.request.model", "claude");
    fx_kv_int(b, &kv[3], "gen_ai.usage.prompt_tokens", 42);
    g->attrs.items = kv;
    g->attrs.n = 4;
    for (uint64_t i = 0; i < 7; i++) {
        model_span *sp =
            fx_span(b, r, sc, 10 + i, 10 + i, 5, "GET", T0 + i * MS, T0 + (i + 1) * MS);
        sp->kind = MODEL_SPAN_KIND_CLIENT;
        model_kv *d = fx_kvs(b, 1);
        fx_kv_str(b, &d[0], "http.method", "GET");
        sp->attrs.items = d;
        sp->attrs.n = 1;
    }
    return b;
}

START_TEST(genai_rows_and_lint_sums) {
    ch_insight *x = ch_insight_new(0);
    ck_assert_ptr_nonnull(x);
    ch_insight_reset(x, ARRIVAL);
    model_batch *b = spans_batch();
    ck_assert_int_eq(ch_insight_batch(x, b), 0);

    /* one GenAI row: the call's figures, its bucket, the name cut */
    const char *g = ch_insight_rows(x, 0);
    ck_assert_int_eq(lines_with(g, (const char *const[]){"\t", NULL}), 1);
    char f[512];
    field_of(g, "claude", 3, f, sizeof(f));
    ck_assert_str_eq(f, "1500000000");
    field_of(g, "claude", 4, f, sizeof(f));
    ck_assert_int_eq((int)strtol(f, NULL, 10), rollup_bucket(1500 * MS));
    field_of(g, "claude", 8, f, sizeof(f));
    ck_assert_uint_eq(strlen(f), GENAI_TEXT_MAX);
    field_of(g, "claude", 9, f, sizeof(f));
    ck_assert_str_eq(f, "anthropic");
    field_of(g, "claude", 11, f, sizeof(f));
    ck_assert_str_eq(f, "chat");
    field_of(g, "claude", 12, f, sizeof(f));
    ck_assert_str_eq(f, "42");
    field_of(g, "claude", 14, f, sizeof(f));
    ck_assert_str_eq(f, "1");
    ck_assert_ptr_nonnull(strstr(g, "2026-12-07\t"));

    /* the lint: one sum of seven, five examples of it */
    char rule[8];
    snprintf(rule, sizeof(rule), "\t%d\t", LINT_DEPRECATED_ATTRIBUTE);
    const char *h = ch_insight_rows(x, 1);
    ck_assert_int_eq(lines_with(h, (const char *const[]){"\tsvc", rule, "http.method", NULL}), 1);
    field_of(h, "http.method", 5, f, sizeof(f));
    ck_assert_str_eq(f, "7");
    field_of(h, "http.method", 6, f, sizeof(f));
    ck_assert_uint_eq(strtoull(f, NULL, 10), ARRIVAL);
    /* the call's older names are deprecated too, once each; nothing else */
    ck_assert_int_eq(lines_with(h, (const char *const[]){rule, "\tgen_ai.system\t1\t", NULL}), 1);
    ck_assert_int_eq(
        lines_with(h, (const char *const[]){rule, "\tgen_ai.usage.prompt_tokens\t1\t", NULL}), 1);
    ck_assert_msg(lines_with(h, (const char *const[]){"\t", NULL}) == 3, "%s", h);
    const char *e = ch_insight_rows(x, 2);
    ck_assert_int_eq(lines_with(e, (const char *const[]){"http.method", NULL}), 5);
    model_batch_free(b);
    ch_insight_free(x);
}
END_TEST

START_TEST(a_failed_insert_keeps_the_examples_coming) {
    ck_assert_int_eq(ch_conn_global_init(), 0);
    ch_target t = {"http://127.0.0.1:1", NULL, NULL, NULL};
    ch_conn *c = ch_conn_new(&t);
    ck_assert_ptr_nonnull(c);
    ch_conn_timeouts(c, 200, 500);
    ch_insight *x = ch_insight_new(0);
    model_batch *b = spans_batch();
    for (int round = 0; round < 2; round++) {
        ch_insight_reset(x, ARRIVAL + (uint64_t)round);
        ck_assert_int_eq(ch_insight_batch(x, b), 0);
        const char *ex = ch_insight_rows(x, 2);
        ck_assert_int_eq(lines_with(ex, (const char *const[]){"http.method", NULL}), 5);
        char err[CH_ERR_MAX];
        ck_assert_int_eq(ch_insight_insert(x, c, NULL, err), CH_EDOWN);
    }
    model_batch_free(b);
    ch_insight_free(x);
    ch_conn_free(c);
}
END_TEST

START_TEST(lint_off_writes_no_findings) {
    ch_insight *x = ch_insight_new(1);
    ch_insight_reset(x, ARRIVAL);
    model_batch *b = spans_batch();
    ck_assert_int_eq(ch_insight_batch(x, b), 0);
    ck_assert_int_eq(lines_with(ch_insight_rows(x, 0), (const char *const[]){"claude", NULL}), 1);
    ck_assert_str_eq(ch_insight_rows(x, 1), "");
    ck_assert_str_eq(ch_insight_rows(x, 2), "");
    model_batch_free(b);
    ch_insight_free(x);
}
END_TEST

START_TEST(a_log_without_severity_number) {
    ch_insight *x = ch_insight_new(0);
    ch_insight_reset(x, ARRIVAL);
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, "logger", NULL);
    model_scope *sc = fx_scope(b, "t", "1");
    fx_logs(b, 2);
    model_log *l = fx_log(b, r, sc, T0 + 7, 0, "hello");
    l->severity_text = fx_str(b, "WARN");
    fx_log(b, r, sc, T0 + 8, 9, "fine");
    ck_assert_int_eq(ch_insight_batch(x, b), 0);
    char rule[8];
    snprintf(rule, sizeof(rule), "\t%d\t", LINT_LOG_WITHOUT_SEVERITY);
    const char *h = ch_insight_rows(x, 1);
    ck_assert_int_eq(lines_with(h, (const char *const[]){"\t1\tlogger", rule,
                                                         "severity text \"WARN\" without a number",
                                                         NULL}),
                     1);
    const char *e = ch_insight_rows(x, 2);
    char f[64];
    field_of(e, "logger", 10, f, sizeof(f));
    ck_assert_uint_eq(strtoull(f, NULL, 10), T0 + 7);
    ck_assert_int_eq(lines_with(e, (const char *const[]){"logger", NULL}), 1);
    ck_assert_str_eq(ch_insight_rows(x, 0), "");
    model_batch_free(b);
    ch_insight_free(x);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("ch_insight");
    TCase *tc = tcase_create("rows");
    tcase_add_test(tc, genai_rows_and_lint_sums);
    tcase_add_test(tc, a_failed_insert_keeps_the_examples_coming);
    tcase_add_test(tc, lint_off_writes_no_findings);
    tcase_add_test(tc, a_log_without_severity_number);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
