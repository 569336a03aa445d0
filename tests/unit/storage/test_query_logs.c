/* test_query_logs.c - log search (storage/query_logs.c): every filter
 * against a reference evaluation of the same generated records, under each
 * plan (scan, body words, attribute index, trace id), and pagination while
 * records arrive, older and newer ones. */
#include <check.h>
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "storage/query_internal.h"
#include "storage/store.h"
#include "store_fixture.h"

#define NL 3000
#define BASE 1700000000000000000ULL

static store *st;
static store_reader *rd;
static buf out;

static const char *const svcs[] = {"api", "worker", "rare"};
static const char *const tiers[] = {"gold", "silver", "bronze"};
static const char *const words[] = {"request", "timeout", "connection", "reset", "done",
                                    "Überweisung", "cache"};

typedef struct glog {
    int svc, sev, code, tier, ok, has_trace, trace, span, kv_body;
    double latency;
    char body[96];
    uint64_t time;
} glog;

static glog logs[NL + 600];

static void gen_log(int k, glog *g) {
    g->svc = k % 97 == 0 ? 2 : k % 3 == 0 ? 1 : 0;
    g->sev = 1 + (k * 7) % 24;
    g->code = k % 5 == 0 ? 500 : 200;
    g->tier = k % 61 == 0 ? 0 : 1 + k % 2;
    g->ok = k % 2;
    g->latency = (k % 10) * 0.5;
    g->has_trace = k % 4 == 0;
    g->trace = k % 40;
    g->span = k % 8;
    g->kv_body = k % 50 == 7;
    if (g->kv_body)
        snprintf(g->body, sizeof(g->body), "{\"event\":\"%s\"}", words[k % 7]);
    else
        snprintf(g->body, sizeof(g->body), "%s %s user=u%d", words[k % 7], words[(k / 7) % 7],
                 k % 13);
    /* times repeat (k/3) and follow neither arrival nor k */
    g->time = BASE + (uint64_t)((k * 7919) % NL) / 3 * 1000;
}

static void setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
    buf_init(&out, 16 << 20);
}

static void teardown(void) {
    buf_free(&out);
    store_reader_close(rd);
    store_close(st);
    query_drive_limit = 4096;
}

/* Appends logs [first, first+count); time_shift moves their times. */
static void add_logs(int first, int count, int64_t time_shift) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *res[3];
    for (int i = 0; i < 3; i++) {
        res[i] = fx_resource(b, svcs[i], NULL);
        model_kv *kv = fx_kvs(b, 2);
        kv[0] = res[i]->attrs.items[0];
        fx_kv_str(b, &kv[1], "deployment.environment", i == 1 ? "prod" : "staging");
        res[i]->attrs.items = kv;
        res[i]->attrs.n = 2;
    }
    model_scope *sc = fx_scope(b, "logger", "");
    fx_logs(b, (size_t)count);
    for (int k = first; k < first + count; k++) {
        glog *g = &logs[k];
        gen_log(k % NL, g);
        g->time = (uint64_t)((int64_t)g->time + time_shift);
        model_log *l = fx_log(b, res[g->svc], sc, g->time, g->sev, g->kv_body ? NULL : g->body);
        if (g->kv_body) {
            l->body.type = MODEL_VALUE_KVLIST;
            l->body.u.kvlist.items = fx_kvs(b, 1);
            l->body.u.kvlist.n = 1;
            fx_kv_str(b, &l->body.u.kvlist.items[0], "event", words[(k % NL) % 7]);
        }
        if (g->has_trace) {
            l->has_trace_id = l->has_span_id = 1;
            fx_id(l->trace_id, 16, 5000 + (uint64_t)g->trace);
            fx_id(l->span_id, 8, 9000 + (uint64_t)g->span);
        }
        model_kv *kv = fx_kvs(b, 5);
        fx_kv_int(b, &kv[0], "http.status_code", g->code);
        fx_kv_str(b, &kv[1], "tier", tiers[g->tier]);
        fx_kv_double(b, &kv[2], "latency", g->latency);
        fx_kv_bool(b, &kv[3], "ok", g->ok);
        fx_kv_int(b, &kv[4], "k", k);
        l->attrs.items = kv;
        l->attrs.n = 5;
    }
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

/* ---- reference ----------------------------------------------------------------- */

/* Lowercase ASCII alphanumeric tokens (non-ASCII bytes are part of words,
 * as unicode61 keeps letters; the test words fold to ASCII or stay). */
static int tokenize(const char *s, char tok[][32], int max) {
    int n = 0;
    while (*s && n < max) {
        while (*s && !isalnum((unsigned char)*s) && (unsigned char)*s < 0x80)
            s++;
        int len = 0;
        while (*s && (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)) {
            /* the one non-ASCII letter of the data: U+00DC/U+00FC fold to u */
            if ((unsigned char)s[0] == 0xc3 && ((unsigned char)s[1] == 0x9c ||
                                                 (unsigned char)s[1] == 0xbc)) {
                if (len < 31)
                    tok[n][len++] = 'u';
                s += 2;
                continue;
            }
            if (len < 31)
                tok[n][len++] = (char)tolower((unsigned char)*s);
            s++;
        }
        if (len) {
            tok[n][len] = '\0';
            n++;
        }
    }
    return n;
}

/* FTS5 semantics of query_fts_words(): every word of q is a phrase of its
 * tokens, the last one a prefix, somewhere in the body's tokens. */
static int words_match(const char *body, const char *q) {
    char bt[32][32], qw[8][64];
    int nb = tokenize(body, bt, 32);
    int nw = 0;
    const char *p = q;
    while (*p && nw < 8) {
        while (*p == ' ')
            p++;
        int len = 0;
        while (*p && *p != ' ')
            qw[nw][len < 63 ? len++ : len] = *p++;
        if (len) {
            qw[nw][len] = '\0';
            nw++;
        }
    }
    for (int w = 0; w < nw; w++) {
        char qt[8][32];
        size_t wl = strlen(qw[w]);
        int prefix = wl > 1 && qw[w][wl - 1] == '*';
        if (prefix)
            qw[w][wl - 1] = '\0';
        int nq = tokenize(qw[w], qt, 8);
        int found = 0;
        for (int i = 0; i + nq <= nb && !found && nq > 0; i++) {
            int ok = 1;
            for (int k = 0; k < nq && ok; k++)
                ok = k == nq - 1 && prefix ? strncmp(bt[i + k], qt[k], strlen(qt[k])) == 0
                                           : strcmp(bt[i + k], qt[k]) == 0;
            found = ok;
        }
        if (!found)
            return 0;
    }
    return 1;
}

static int attr_ok(const glog *g, const query_attr *a) {
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)a->key_len, a->key);
    char val[64];
    snprintf(val, sizeof(val), "%.*s", (int)a->value_len, a->value);
    if (strcmp(key, "http.status_code") == 0) {
        double v = strtod(val, NULL);
        switch (a->op) {
        case QUERY_ATTR_EQ:
            return v == g->code;
        case QUERY_ATTR_NE:
            return v != g->code;
        case QUERY_ATTR_GT:
            return g->code > a->number;
        case QUERY_ATTR_LT:
            return g->code < a->number;
        case QUERY_ATTR_CONTAINS: {
            char t[16];
            snprintf(t, sizeof(t), "%d", g->code);
            return strstr(t, val) != NULL;
        }
        }
    }
    if (strcmp(key, "tier") == 0 || strcmp(key, "deployment.environment") == 0) {
        const char *t = key[0] == 't' ? tiers[g->tier] : (g->svc == 1 ? "prod" : "staging");
        if (a->op == QUERY_ATTR_EQ)
            return strcmp(t, val) == 0;
        if (a->op == QUERY_ATTR_NE)
            return strcmp(t, val) != 0;
        if (a->op == QUERY_ATTR_CONTAINS)
            return strcasestr(t, val) != NULL;
        return 0;
    }
    if (strcmp(key, "latency") == 0) {
        if (a->op == QUERY_ATTR_GT)
            return g->latency > a->number;
        if (a->op == QUERY_ATTR_LT)
            return g->latency < a->number;
        if (a->op == QUERY_ATTR_EQ)
            return g->latency == strtod(val, NULL);
        return 0;
    }
    if (strcmp(key, "ok") == 0 && a->op == QUERY_ATTR_EQ)
        return strcmp(val, g->ok ? "true" : "false") == 0;
    return 0;
}

static int log_match(const query_logs_params *p, const glog *g) {
    if (p->service && strcmp(p->service, svcs[g->svc]) != 0)
        return 0;
    if (g->sev < p->min_severity)
        return 0;
    if (p->has_start && g->time < p->start_ns)
        return 0;
    if (p->has_end && g->time >= p->end_ns)
        return 0;
    if (p->trace_id) {
        uint8_t id[16];
        fx_id(id, 16, 5000 + (uint64_t)g->trace);
        if (!g->has_trace || memcmp(id, p->trace_id, 16) != 0)
            return 0;
    }
    if (p->span_id) {
        uint8_t id[8];
        fx_id(id, 8, 9000 + (uint64_t)g->span);
        if (!g->has_trace || memcmp(id, p->span_id, 8) != 0)
            return 0;
    }
    for (size_t i = 0; i < p->n_attrs; i++)
        if (!attr_ok(g, &p->attrs[i]))
            return 0;
    if (p->q && p->q[0] && !words_match(g->body, p->q))
        return 0;
    return 1;
}

static int cmp_newest(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (logs[x].time != logs[y].time)
        return logs[x].time > logs[y].time ? -1 : 1;
    return y - x; /* later arrival first */
}

static json_t *parse_out(void) {
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %.200s", err.text, out.ptr);
    return j;
}

static void check(query_logs_params p, const char *what) {
    static int idx[NL];
    int n = 0;
    for (int k = 0; k < NL; k++)
        if (log_match(&p, &logs[k]))
            idx[n++] = k;
    qsort(idx, (size_t)n, sizeof(int), cmp_newest);
    char cursor[64] = "";
    int got = 0;
    p.limit = 17;
    for (int page = 0; page < NL; page++) {
        p.cursor = cursor[0] ? cursor : NULL;
        buf_reset(&out);
        ck_assert_msg(query_logs(rd, &p, &out) == QUERY_OK, "%s: query failed", what);
        json_t *j = parse_out();
        json_t *list = json_object_get(j, "logs");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *l = json_array_get(list, i);
            json_int_t k = json_integer_value(json_object_get(json_object_get(l, "attributes"), "k"));
            ck_assert_msg(got < n, "%s: more than %d results", what, n);
            ck_assert_msg(k == idx[got], "%s: result %d is log %lld, expected %d", what, got,
                          (long long)k, idx[got]);
            got++;
        }
        json_t *next = json_object_get(j, "nextCursor");
        int last = json_is_null(next);
        if (!last)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(j);
        if (last)
            break;
    }
    ck_assert_msg(got == n, "%s: %d results, expected %d", what, got, n);
    if (getenv("TEST_VERBOSE"))
        fprintf(stderr, "%s: %d\n", what, n);
}

static query_attr attr(const char *key, query_attr_op op, const char *value) {
    query_attr a = {key, strlen(key), op, value, strlen(value), 0};
    if (op == QUERY_ATTR_GT || op == QUERY_ATTR_LT)
        a.number = strtod(value, NULL);
    return a;
}

static void check_all(void) {
    query_logs_params p;
    query_attr a[2];
    uint8_t tid[16], sid[8];
    memset(&p, 0, sizeof(p));
    check(p, "everything");
    p.service = "rare";
    check(p, "service");
    p.min_severity = 17;
    check(p, "service and minSeverity");
    p.service = "nobody";
    check(p, "unknown service");
    memset(&p, 0, sizeof(p));
    p.min_severity = 21;
    check(p, "minSeverity");
    memset(&p, 0, sizeof(p));
    p.q = "timeout";
    check(p, "one word");
    p.q = "TIME*";
    check(p, "a prefix, any case");
    p.q = "time";
    check(p, "whole words only: none");
    p.q = "req* user=u1*";
    check(p, "prefixes and a phrase with a prefix");
    p.q = "connection done";
    check(p, "two words anywhere");
    p.q = "user=u1";
    check(p, "a phrase across punctuation");
    p.q = "*";
    check(p, "a lone star is a word: none");
    p.q = "uberweisung";
    check(p, "diacritics folded");
    p.q = "cache";
    check(p, "a word in a map body");
    p.q = "\"' OR * NEAR( AND";
    check(p, "FTS5 syntax is data");
    p.service = "worker";
    check(p, "FTS5 syntax and a service");
    memset(&p, 0, sizeof(p));
    fx_id(tid, 16, 5000 + 12);
    p.trace_id = tid;
    check(p, "traceId");
    fx_id(sid, 8, 9000 + 4);
    p.span_id = sid;
    check(p, "traceId and spanId");
    p.trace_id = NULL;
    check(p, "spanId");
    memset(&p, 0, sizeof(p));
    p.attrs = a;
    p.n_attrs = 1;
    a[0] = attr("tier", QUERY_ATTR_EQ, "gold");
    check(p, "attr = (index)");
    a[0] = attr("http.status_code", QUERY_ATTR_EQ, "500");
    check(p, "attr = int");
    a[0] = attr("http.status_code", QUERY_ATTR_NE, "500");
    check(p, "attr !=");
    a[0] = attr("tier", QUERY_ATTR_CONTAINS, "ILV");
    check(p, "attr ~");
    a[0] = attr("latency", QUERY_ATTR_GT, "3.5");
    check(p, "attr >");
    a[0] = attr("latency", QUERY_ATTR_LT, "1");
    check(p, "attr <");
    a[0] = attr("ok", QUERY_ATTR_EQ, "true");
    check(p, "attr bool");
    a[0] = attr("deployment.environment", QUERY_ATTR_EQ, "prod");
    check(p, "resource attribute");
    p.n_attrs = 2;
    a[0] = attr("tier", QUERY_ATTR_EQ, "silver");
    a[1] = attr("http.status_code", QUERY_ATTR_EQ, "500");
    check(p, "two attributes");
    p.q = "reset";
    p.min_severity = 9;
    check(p, "attributes, words, severity");
    memset(&p, 0, sizeof(p));
    p.has_start = 1;
    p.start_ns = BASE + 300 * 1000;
    check(p, "start");
    p.has_end = 1;
    p.end_ns = BASE + 500 * 1000;
    check(p, "start and end");
    p.service = "api";
    p.q = "request";
    check(p, "window, service, words");
}

START_TEST(test_filters_match_reference) {
    add_logs(0, 1000, 0);
    add_logs(1000, 1000, 0);
    add_logs(2000, 1000, 0);
    const int64_t limits[] = {4096, 0, 1000000000};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        query_drive_limit = limits[i];
        check_all();
    }
}
END_TEST

/* Records arriving between pages -- newer ones and ones older than the
 * cursor -- never make a stored record repeat or go missing. */
START_TEST(test_pagination_with_inserts) {
    add_logs(0, NL, 0);
    static int seen[NL + 600];
    memset(seen, 0, sizeof(seen));
    char cursor[64] = "";
    int next = NL, pages = 0;
    for (; pages < 2000; pages++) {
        query_logs_params p = {.limit = 50, .cursor = cursor[0] ? cursor : NULL};
        buf_reset(&out);
        ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
        json_t *j = parse_out();
        json_t *list = json_object_get(j, "logs");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_int_t k = json_integer_value(
                json_object_get(json_object_get(json_array_get(list, i), "attributes"), "k"));
            ck_assert_int_ge(k, 0);
            ck_assert_int_lt(k, next);
            ck_assert_msg(seen[k] == 0, "log %lld on two pages", (long long)k);
            seen[k] = 1;
        }
        json_t *nc = json_object_get(j, "nextCursor");
        int last = json_is_null(nc);
        if (!last)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(nc));
        json_decref(j);
        if (last)
            break;
        if (next + 20 <= NL + 600) {
            /* ten newer than everything, ten at old times */
            add_logs(next, 10, 1000000000);
            add_logs(next + 10, 10, -500000);
            next += 20;
        }
    }
    ck_assert_int_lt(pages, 2000);
    for (int k = 0; k < NL; k++)
        ck_assert_msg(seen[k], "log %d missing", k);
}
END_TEST

/* Each resource is written once per answer, in a map the items name it
 * in; a resource no item of the page has is not in it. */
START_TEST(test_resources_once) {
    add_logs(0, 300, 0);
    query_logs_params p = {.limit = 300};
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_ptr_nonnull(j);
    json_t *items = json_object_get(j, "logs"), *res = json_object_get(j, "resources");
    ck_assert_int_eq(json_array_size(items), 300);
    ck_assert_int_eq(json_object_size(res), 3);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        ck_assert_ptr_null(json_object_get(it, "resource"));
        const char *id = json_string_value(json_object_get(it, "resourceId"));
        ck_assert_ptr_nonnull(id);
        ck_assert_int_eq(id[0], 'r');
        json_t *r = json_object_get(res, id);
        ck_assert_ptr_nonnull(r);
        const char *svc = json_string_value(json_object_get(it, "service"));
        ck_assert_str_eq(json_string_value(json_object_get(r, "service")), svc);
        json_t *attrs = json_object_get(r, "attributes");
        ck_assert_str_eq(json_string_value(json_object_get(attrs, "service.name")), svc);
        ck_assert_str_eq(json_string_value(json_object_get(attrs, "deployment.environment")),
                         strcmp(svc, "worker") == 0 ? "prod" : "staging");
    }
    json_decref(j);
    /* only the services on the page */
    buf_reset(&out);
    p.service = "rare";
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_ptr_nonnull(j);
    res = json_object_get(j, "resources");
    ck_assert_int_eq(json_object_size(res), 1);
    const char *only = json_object_iter_key(json_object_iter(res));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, only), "service")),
                     "rare");
    json_decref(j);
}
END_TEST

START_TEST(test_bad_params) {
    query_logs_params p = {.limit = 10, .n_attrs = QUERY_MAX_ATTRS + 1};
    query_attr many[QUERY_MAX_ATTRS + 1];
    memset(many, 0, sizeof(many));
    p.attrs = many;
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_EINVAL);
    p.n_attrs = 1;
    p.attrs = NULL;
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_EINVAL);
    p.n_attrs = 0;
    p.q = "   ";
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK); /* no word: no filter */
}
END_TEST

static Suite *logs_suite(void) {
    Suite *s = suite_create("query_logs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_filters_match_reference);
    tcase_add_test(tc, test_pagination_with_inserts);
    tcase_add_test(tc, test_resources_once);
    tcase_add_test(tc, test_bad_params);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(logs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
