/* test_attr_index.c - hashed key=value tokens (storage/attr_index.c): what
 * is indexed, that queries find it whatever the number's spelling, escaped
 * text, malformed input, and the SQL function agreeing with the C one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/attr_index.h"
#include "util/jw.h"
#include "storage/model.h"
#include "storage/model_json.h"

static buf a, q;

static void setup(void) {
    buf_init(&a, 1 << 20);
    buf_init(&q, 1 << 20);
}

static void teardown(void) {
    buf_free(&a);
    buf_free(&q);
}

static int ntokens(const buf *b) {
    if (b->len == 0)
        return 0;
    int n = 1;
    for (size_t i = 0; i < b->len; i++)
        n += b->ptr[i] == ' ';
    return n;
}

/* 1 when one of the stored tokens in `a` appears in the query in `q`. */
static int query_hits(void) {
    for (size_t i = 0; i + ATTR_INDEX_TOKEN_LEN <= a.len; i += ATTR_INDEX_TOKEN_LEN + 1) {
        char tok[ATTR_INDEX_TOKEN_LEN + 1];
        memcpy(tok, a.ptr + i, ATTR_INDEX_TOKEN_LEN);
        tok[ATTR_INDEX_TOKEN_LEN] = '\0';
        if (q.ptr && strstr(q.ptr, tok))
            return 1;
    }
    return 0;
}

static int eq_hits(const char *json, const char *key, const char *value) {
    buf_reset(&a);
    buf_reset(&q);
    ck_assert_int_eq(attr_index_tokens(json, strlen(json), NULL, 0, &a), BUF_OK);
    ck_assert_int_eq(attr_index_query_eq(key, strlen(key), value, strlen(value), &q), BUF_OK);
    return query_hits();
}

START_TEST(test_scalars_indexed) {
    const char *json = "{\"a\":\"x\",\"b\":1,\"c\":1.5,\"d\":true,\"e\":null,\"f\":[1,2],"
                       "\"g\":{\"h\":1},\"i\":\"\"}";
    ck_assert_int_eq(attr_index_tokens(json, strlen(json), NULL, 0, &a), BUF_OK);
    ck_assert_int_eq(ntokens(&a), 5); /* a b c d i: not null, arrays or maps */
    ck_assert(a.ptr[0] == 'a');
    buf_reset(&a);
    ck_assert_int_eq(attr_index_tokens(json, strlen(json), "GET /", 5, &a), BUF_OK);
    ck_assert_int_eq(ntokens(&a), 6); /* and the name */
    buf_reset(&a);
    ck_assert_int_eq(attr_index_tokens("{}", 2, NULL, 0, &a), BUF_OK);
    ck_assert_int_eq(a.len, 0);
}
END_TEST

START_TEST(test_query_finds_values) {
    ck_assert(eq_hits("{\"a\":\"x\"}", "a", "x"));
    ck_assert(!eq_hits("{\"a\":\"x\"}", "a", "y"));
    ck_assert(!eq_hits("{\"a\":\"x\"}", "b", "x"));
    ck_assert(eq_hits("{\"code\":200}", "code", "200"));
    ck_assert(eq_hits("{\"code\":200}", "code", "200.0"));
    ck_assert(eq_hits("{\"code\":200}", "code", "2e2"));
    ck_assert(eq_hits("{\"code\":\"200\"}", "code", "200")); /* the string too */
    ck_assert(eq_hits("{\"r\":0.5}", "r", "0.5"));
    ck_assert(eq_hits("{\"r\":0.5}", "r", "0.50"));
    ck_assert(eq_hits("{\"r\":2.0}", "r", "2"));
    ck_assert(!eq_hits("{\"r\":0.5}", "r", "1"));
    ck_assert(eq_hits("{\"ok\":true}", "ok", "true"));
    ck_assert(!eq_hits("{\"ok\":true}", "ok", "false"));
    ck_assert(eq_hits("{\"big\":\"9007199254740993\"}", "big", "9007199254740993"));
    ck_assert(eq_hits("{\"d\":\"NaN\"}", "d", "NaN"));
    ck_assert(eq_hits("{\"e\":\"\"}", "e", ""));
    /* stored HTML-safe escapes and JSON escapes meet the raw query text */
    ck_assert(eq_hits("{\"k\\\"q\":\"\\u003cb\\u003e\\\\\"}", "k\"q", "<b>\\"));
    /* tokens hash the store's own rendering (jw): raw UTF-8, \n escaped */
    ck_assert(eq_hits("{\"\xc3\xbc\":\"\\n\"}", "\xc3\xbc", "\n"));
}
END_TEST

/* What the store renders (model_json) is what queries expect. */
START_TEST(test_rendered_by_model_json) {
    model_kv kv[3];
    memset(kv, 0, sizeof(kv));
    kv[0].key = (model_str){"n", 1};
    kv[0].value.type = MODEL_VALUE_DOUBLE;
    kv[0].value.u.dbl = 0.1;
    kv[1].key = (model_str){"i", 1};
    kv[1].value.type = MODEL_VALUE_INT;
    kv[1].value.u.integer = -42;
    kv[2].key = (model_str){"s", 1};
    kv[2].value.type = MODEL_VALUE_STRING;
    kv[2].value.u.str = (model_str){"a&b</script>", 12};
    model_attrs attrs = {kv, 3};
    buf j;
    buf_init(&j, 4096);
    jw w;
    jw_init(&w, &j);
    model_json_attrs(&w, &attrs);
    ck_assert_int_eq(jw_error(&w), 0);
    ck_assert(eq_hits(j.ptr, "n", "0.1"));
    ck_assert(eq_hits(j.ptr, "i", "-42"));
    ck_assert(eq_hits(j.ptr, "s", "a&b</script>"));
    buf_free(&j);
}
END_TEST

START_TEST(test_malformed_input) {
    const char *bad[] = {"",
                         "x",
                         "{",
                         "{\"a\"",
                         "{\"a\":",
                         "{\"a\":\"unterminated",
                         "{\"a\":[1,2",
                         "{\"a\":{\"b\":",
                         "{\"a\":1,,\"b\":2}",
                         "[1,2,3]",
                         "{\"a\":1 \"b\":2}",
                         "{\"a\\",
                         "{\"a\":\"\\",
                         "{:1}",
                         "{\"a\":}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_reset(&a);
        ck_assert_int_eq(attr_index_tokens(bad[i], strlen(bad[i]), NULL, 0, &a), BUF_OK);
    }
    /* the members before an error are kept */
    buf_reset(&a);
    const char *part = "{\"a\":1,\"b\":[";
    ck_assert_int_eq(attr_index_tokens(part, strlen(part), NULL, 0, &a), BUF_OK);
    ck_assert_int_eq(ntokens(&a), 1);
    /* deep nesting is skipped without recursion */
    size_t n = 200000;
    char *deep = malloc(2 * n + 16);
    ck_assert_ptr_nonnull(deep);
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', n);
    memset(deep + 5 + n, ']', n);
    memcpy(deep + 5 + 2 * n, ",\"b\":2}", 8);
    buf_reset(&a);
    ck_assert_int_eq(attr_index_tokens(deep, strlen(deep), NULL, 0, &a), BUF_OK);
    ck_assert_int_eq(ntokens(&a), 1);
    free(deep);
    /* a cap that cannot hold the tokens */
    buf small;
    buf_init(&small, 10);
    ck_assert_int_eq(attr_index_tokens("{\"a\":1}", 7, NULL, 0, &small), BUF_ETOOBIG);
    buf_free(&small);
}
END_TEST

START_TEST(test_sql_function_agrees) {
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(attr_index_register(db), SQLITE_OK);
    const char *json = "{\"a\":\"x\",\"b\":1.25,\"c\":[1]}";
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT loupe_attr_tokens(?1, ?2),"
                                            " loupe_attr_tokens(?1), loupe_attr_tokens(NULL)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "op", -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(attr_index_tokens(json, strlen(json), "op", 2, &a), BUF_OK);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), a.ptr);
    buf_reset(&a);
    ck_assert_int_eq(attr_index_tokens(json, strlen(json), NULL, 0, &a), BUF_OK);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), a.ptr);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 2), "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_parse_number) {
    const char *good[] = {"0", "-1", "1.5", "1e3", "-2.5E-3", "007", "1.", ".5"};
    const char *badn[] = {"", "-", "+1", "1e", "1e+", "0x10", "inf", "nan", "1 ", " 1", "1,5",
                          "1e999", "--1", "1.2.3"};
    double d;
    ck_assert(attr_index_parse_number(good[0], 1, &d) && d == 0);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(attr_index_parse_number(good[i], strlen(good[i]), &d), "%s", good[i]);
    for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++)
        ck_assert_msg(!attr_index_parse_number(badn[i], strlen(badn[i]), &d), "%s", badn[i]);
    ck_assert(attr_index_parse_number("-2.5E-3", 7, &d) && d == -2.5e-3);
}
END_TEST

/* Long words are indexed by their first ATTR_INDEX_WORD_MAX bytes, cut at
 * a UTF-8 boundary; short ones whole; the rest of the text untouched. */
START_TEST(test_long_words_cut) {
    char attrs[600];
    char longw[301];
    memset(longw, 'x', 300);
    longw[300] = '\0';
    /* 31 'é' (2 bytes each), a 3-byte character at bytes 62..64, then 'z':
     * cut at 64 would split it, so the word keeps 62 bytes */
    char uni[80];
    size_t u = 0;
    for (int i = 0; i < 31; i++) {
        uni[u++] = '\xc3';
        uni[u++] = '\xa9';
    }
    memcpy(uni + u, "\xe2\x82\xac" "z", 5);
    int n = snprintf(attrs, sizeof(attrs), "{\"a\":\"short %s end\",\"b\":\"%s\"}", longw, uni);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(attr_index_words("op", 2, NULL, 0, attrs, (size_t)n, NULL, 0, &a), BUF_OK);
    char want[400];
    snprintf(want, sizeof(want), " op short %.64s end %.62s", longw, uni);
    ck_assert_str_eq(a.ptr, want);
    ck_assert_uint_eq(attr_index_word_cut(longw, 300), 64);
    ck_assert_uint_eq(attr_index_word_cut(longw, 64), 64);
    ck_assert_uint_eq(attr_index_word_cut(longw, 5), 5);
    ck_assert_uint_eq(attr_index_word_cut(uni, strlen(uni)), 62);
    ck_assert_uint_eq(attr_index_word_cut(uni, 64), 64);
}
END_TEST

START_TEST(test_has_word) {
    const char *t = "{\"d\":\"abcdef\",\"e\":\"xyz-abc\"}";
    size_t n = strlen(t);
    ck_assert(attr_index_has_word(t, n, "abcdef", 6, 0));
    ck_assert(attr_index_has_word(t, n, "abc", 3, 0));     /* after '-' */
    ck_assert(!attr_index_has_word(t, n, "bcdef", 5, 0));  /* inside a word */
    ck_assert(!attr_index_has_word(t, n, "abcde", 5, 0));  /* a word's start only */
    ck_assert(attr_index_has_word(t, n, "abcde", 5, 1));   /* as a prefix */
    ck_assert(!attr_index_has_word(t, n, "bcd", 3, 1));
    ck_assert(attr_index_has_word("abc", 3, "abc", 3, 0)); /* the whole text */
    ck_assert(!attr_index_has_word("ab", 2, "abc", 3, 0));
    ck_assert(!attr_index_has_word("abc", 3, "", 0, 0));
    /* non-ASCII bytes are word bytes */
    ck_assert(!attr_index_has_word("\xc3\xa9" "abc", 5, "abc", 3, 0));
}
END_TEST

static Suite *attr_index_suite(void) {
    Suite *s = suite_create("attr_index");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_scalars_indexed);
    tcase_add_test(tc, test_query_finds_values);
    tcase_add_test(tc, test_rendered_by_model_json);
    tcase_add_test(tc, test_malformed_input);
    tcase_add_test(tc, test_sql_function_agrees);
    tcase_add_test(tc, test_parse_number);
    tcase_add_test(tc, test_long_words_cut);
    tcase_add_test(tc, test_has_word);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(attr_index_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
