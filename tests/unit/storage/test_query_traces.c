/* test_query_traces.c - trace search (storage/query_traces.c): every filter
 * and operator against a brute-force evaluation of the same generated data,
 * through each of the three plans (index, service, scan), pagination with
 * inserts between pages, summaries, bad parameters. --max-spans 6400
 * makes segments of 640 spans (80 traces): every search runs across up to
 * 10 segments and merges (nothing goes: at most 6,400 spans are stored). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "storage/query_internal.h"
#include "storage/store.h"
#include "store_fixture.h"

#define NT 800 /* traces */
#define SPT 8  /* spans per trace: 6400 spans, more than the index plan takes */
#define BASE 1700000000000000000ULL

static store *st;
static store_reader *rd;
static buf out;

static const char *const svcs[] = {"front", "cart", "db", "rare"};
static const char *const tiers[] = {"gold", "silver", "bronze"};

typedef struct gspan {
    int trace, svc, status, code, tier, ok;
    double ratio;
    char name[32];
    uint64_t start, end;
} gspan;

static gspan spans[NT * SPT];

static void gen_span(int i, int j, gspan *g) {
    g->trace = i;
    g->svc = j == 0 ? 0 : (j % 3 == 1 ? 1 : 2);
    if (i % 267 == 5 && j == 7)
        g->svc = 3;
    if (j == 0)
        snprintf(g->name, sizeof(g->name), "GET /x%d", i % 10);
    else
        snprintf(g->name, sizeof(g->name), "%s", j % 2 ? "SELECT" : "call");
    if (i % 199 == 3 && j == 4)
        snprintf(g->name, sizeof(g->name), "rare-op");
    g->status = (i * 8 + j) % 37 == 0 ? MODEL_STATUS_ERROR
                                      : (j == 0 ? MODEL_STATUS_OK : MODEL_STATUS_UNSET);
    g->code = j == 0 ? (i % 5 == 0 ? 500 : i % 7 == 0 ? 404 : 200) : ((i + j) % 11 ? 200 : 503);
    g->tier = (i * 8 + j) % 97 == 0 ? 0 : (j % 2 ? 1 : 2);
    g->ratio = ((i + j) % 8) * 0.25;
    g->ok = (i + j) % 2;
    g->start = BASE + (uint64_t)(i / 2) * 1000000 + (uint64_t)j * 10;
    g->end = g->start + 100 + (uint64_t)((i * 31 + j * 7) % 1000) * 1000;
}

static void setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .max_spans = NT * SPT};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
    buf_init(&out, 16 << 20);
}

static void teardown(void) {
    store_stats stats;
    store_get_stats(st, &stats);
    ck_assert_uint_eq(stats.evicted[MODEL_SIGNAL_TRACES], 0);
    buf_free(&out);
    store_reader_close(rd);
    store_close(st);
}

static model_batch *make_batch(int first, int count) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *res[4];
    for (int k = 0; k < 4; k++) {
        res[k] = fx_resource(b, svcs[k], NULL);
        /* a resource attribute: db runs in prod, the others in staging */
        model_kv *kv = fx_kvs(b, 2);
        kv[0] = res[k]->attrs.items[0];
        fx_kv_str(b, &kv[1], "deployment.environment", k == 2 ? "prod" : "staging");
        res[k]->attrs.items = kv;
        res[k]->attrs.n = 2;
    }
    model_scope *sc = fx_scope(b, "test", "1");
    fx_spans(b, (size_t)count * SPT);
    for (int i = first; i < first + count; i++) {
        for (int j = 0; j < SPT; j++) {
            gspan *g = &spans[i * SPT + j];
            gen_span(i, j, g);
            model_span *sp = fx_span(b, res[g->svc], sc, 1000 + (uint64_t)i,
                                     (uint64_t)(i + 1) * 100 + (uint64_t)j + 1,
                                     j ? (uint64_t)(i + 1) * 100 + 1 : 0, g->name, g->start,
                                     g->end);
            sp->status_code = (model_status_code)g->status;
            model_kv *kv = fx_kvs(b, 6);
            fx_kv_int(b, &kv[0], "http.status_code", g->code);
            fx_kv_str(b, &kv[1], "tier", tiers[g->tier]);
            fx_kv_double(b, &kv[2], "ratio", g->ratio);
            fx_kv_bool(b, &kv[3], "ok", g->ok);
            fx_kv_int(b, &kv[4], "common", 1);
            fx_kv_str(b, &kv[5], "note", "Mixed Case Text");
            sp->attrs.items = kv;
            sp->attrs.n = 6;
        }
    }
    return b;
}

static void fill(void) {
    for (int i = 0; i < NT; i += 100)
        ck_assert_int_eq(fx_commit(st, make_batch(i, 100)), STORE_OK);
    ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_TRACES, -1), 10);
}

/* ---- the reference evaluation ------------------------------------------------ */

static int num_eq(const query_attr *a, double v) {
    char tmp[128];
    if (a->value_len == 0 || a->value_len >= sizeof(tmp))
        return 0;
    memcpy(tmp, a->value, a->value_len);
    tmp[a->value_len] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    return *end == '\0' && d == v;
}

static int str_eq(const query_attr *a, const char *s) {
    return strlen(s) == a->value_len && memcmp(s, a->value, a->value_len) == 0;
}

static int contains_ci(const char *hay, const char *needle, size_t n) {
    size_t h = strlen(hay);
    for (size_t i = 0; n <= h && i + n <= h; i++) {
        size_t k = 0;
        while (k < n && (hay[i + k] | 0x20) == (needle[k] | 0x20))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* One attribute of the generated data against a filter; -1 = key absent. */
static int attr_match(const gspan *g, const query_attr *a) {
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)a->key_len, a->key);
    char text[64];
    int is_num = 0, is_bool = 0;
    double num = 0;
    if (strcmp(key, "http.status_code") == 0) {
        is_num = 1;
        num = g->code;
        snprintf(text, sizeof(text), "%d", g->code);
    } else if (strcmp(key, "tier") == 0) {
        snprintf(text, sizeof(text), "%s", tiers[g->tier]);
    } else if (strcmp(key, "ratio") == 0) {
        is_num = 1;
        num = g->ratio;
        snprintf(text, sizeof(text), "%g", g->ratio);
    } else if (strcmp(key, "ok") == 0) {
        is_bool = 1;
        snprintf(text, sizeof(text), "%s", g->ok ? "true" : "false");
    } else if (strcmp(key, "common") == 0) {
        is_num = 1;
        num = 1;
        snprintf(text, sizeof(text), "1");
    } else if (strcmp(key, "note") == 0) {
        snprintf(text, sizeof(text), "Mixed Case Text");
    } else if (strcmp(key, "service.name") == 0) {
        snprintf(text, sizeof(text), "%s", svcs[g->svc]); /* resource */
    } else if (strcmp(key, "deployment.environment") == 0) {
        snprintf(text, sizeof(text), "%s", g->svc == 2 ? "prod" : "staging");
    } else {
        return -1;
    }
    int eq = is_num ? num_eq(a, num) : (is_bool ? str_eq(a, text) : str_eq(a, text));
    switch (a->op) {
    case QUERY_ATTR_EQ:
        return eq;
    case QUERY_ATTR_NE:
        return !eq;
    case QUERY_ATTR_CONTAINS:
        return contains_ci(text, a->value, a->value_len);
    case QUERY_ATTR_GT:
        return is_num && num > a->number;
    case QUERY_ATTR_LT:
        return is_num && num < a->number;
    }
    return 0;
}

/* q's words (docs/api.md): runs of ASCII letters and digits, any case. */
static int word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 when text holds the word w[0..n) (as a prefix of a word: prefix). The
 * test's q words are letters only, so the numbers and booleans among the
 * attribute values (not in text) never hold them. */
static int has_word(const char *text, const char *w, size_t n, int prefix) {
    for (const char *t = text; *t;) {
        while (*t && !word_char(*t))
            t++;
        size_t k = 0;
        while (word_char(t[k]))
            k++;
        if (k >= n && (prefix || k == n)) {
            size_t i = 0;
            while (i < n && (t[i] | 0x20) == (w[i] | 0x20))
                i++;
            if (i == n)
                return 1;
        }
        t += k;
    }
    return 0;
}

static int span_match(const query_traces_params *p, const gspan *g) {
    if (p->service && strcmp(p->service, svcs[g->svc]) != 0)
        return 0;
    if (p->name && strcmp(p->name, g->name) != 0)
        return 0;
    if (p->status && g->status != p->status - 1)
        return 0;
    for (size_t i = 0; i < p->n_attrs; i++)
        if (attr_match(g, &p->attrs[i]) != 1)
            return 0;
    if (p->q != NULL) { /* every word in this span's texts; no word: nothing */
        char text[128];
        snprintf(text, sizeof(text), "%s %s Mixed Case Text", g->name, tiers[g->tier]);
        int words = 0;
        for (const char *q = p->q; *q;) {
            size_t n = 0;
            while (*q && !word_char(*q))
                q++;
            while (word_char(q[n]))
                n++;
            if (n == 0)
                break;
            words++;
            if (!has_word(text, q, n, q[n] == '*'))
                return 0;
            q += n;
        }
        if (words == 0)
            return 0;
    }
    return 1;
}

/* Expected trace indexes, newest first; returns the count. */
static int expected(const query_traces_params *p, int ntraces, int *idx) {
    int n = 0;
    for (int i = ntraces - 1; i >= 0; i--) {
        const gspan *t = &spans[i * SPT];
        uint64_t start = UINT64_MAX, end = 0;
        int any = 0;
        for (int j = 0; j < SPT; j++) {
            if (t[j].start < start)
                start = t[j].start;
            if (t[j].end > end)
                end = t[j].end;
            any |= span_match(p, &t[j]);
        }
        if (!any)
            continue;
        if (p->has_min_duration && end - start < p->min_duration_ns)
            continue;
        if (p->has_max_duration && end - start > p->max_duration_ns)
            continue;
        if (p->has_start && start < p->start_ns)
            continue;
        if (p->has_end && start >= p->end_ns)
            continue;
        idx[n++] = i; /* starts only grow with i; equal starts: the later first */
    }
    return n;
}

static void trace_hex(int i, char hex[33]) {
    uint8_t id[16];
    fx_id(id, 16, 1000 + (uint64_t)i);
    model_hex_encode(id, 16, hex);
}

static json_t *parse_out(void) {
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %.200s", err.text, out.ptr);
    return j;
}

/* Walks every page of p with the given page size and compares the trace ids
 * with the reference. */
static void check_search(query_traces_params p, size_t limit, const char *what) {
    static int idx[NT];
    int n = expected(&p, NT, idx);
    char cursor[64] = "";
    int got = 0;
    p.limit = limit;
    for (int page = 0; page < NT + 2; page++) {
        p.cursor = cursor[0] ? cursor : NULL;
        buf_reset(&out);
        ck_assert_msg(query_traces(rd, &p, &out) == QUERY_OK, "%s: query failed", what);
        json_t *j = parse_out();
        json_t *list = json_object_get(j, "traces");
        ck_assert_uint_le(json_array_size(list), limit);
        for (size_t k = 0; k < json_array_size(list); k++) {
            const char *id = json_string_value(json_object_get(json_array_get(list, k), "traceId"));
            ck_assert_msg(got < n, "%s: more results than expected (%d)", what, n);
            char hex[33];
            trace_hex(idx[got], hex);
            ck_assert_msg(strcmp(id, hex) == 0, "%s: result %d is %s, expected trace %d", what,
                          got, id, idx[got]);
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
    query_traces_params p;
    query_attr a[3];
#define RUN(label)                                                                                 \
    do {                                                                                           \
        check_search(p, 13, label);                                                                \
    } while (0)
    memset(&p, 0, sizeof(p));
    RUN("no filter");
    check_search(p, 1000, "no filter, one page");
    p.service = "rare";
    RUN("service (service plan)");
    p.service = "db";
    RUN("service db");
    p.service = "nobody";
    RUN("unknown service");
    p.service = "' OR 1=1 --";
    RUN("hostile service");
    memset(&p, 0, sizeof(p));
    p.name = "rare-op";
    RUN("name (index plan)");
    p.name = "SELECT";
    RUN("common name (scan plan)");
    p.service = "front";
    RUN("name of another service's spans: none");
    memset(&p, 0, sizeof(p));
    p.attrs = a;
    p.n_attrs = 1;
    a[0] = attr("tier", QUERY_ATTR_EQ, "gold");
    RUN("attr = string (index)");
    a[0] = attr("common", QUERY_ATTR_EQ, "1");
    RUN("attr = int on every span (scan)");
    a[0] = attr("http.status_code", QUERY_ATTR_EQ, "500");
    RUN("attr = int");
    a[0] = attr("http.status_code", QUERY_ATTR_EQ, "500.0");
    RUN("attr = int written as a double");
    a[0] = attr("ratio", QUERY_ATTR_EQ, "0.25");
    RUN("attr = double");
    a[0] = attr("ratio", QUERY_ATTR_EQ, "1");
    RUN("attr = double written as an int");
    a[0] = attr("ok", QUERY_ATTR_EQ, "true");
    RUN("attr = bool");
    a[0] = attr("http.status_code", QUERY_ATTR_NE, "200");
    RUN("attr !=");
    a[0] = attr("tier", QUERY_ATTR_NE, "silver");
    RUN("attr != string");
    a[0] = attr("missing", QUERY_ATTR_NE, "x");
    RUN("attr != on a missing key: none");
    a[0] = attr("tier", QUERY_ATTR_CONTAINS, "OL");
    RUN("attr ~ case-insensitive");
    a[0] = attr("http.status_code", QUERY_ATTR_CONTAINS, "40");
    RUN("attr ~ on a number");
    a[0] = attr("ratio", QUERY_ATTR_GT, "1.5");
    RUN("attr >");
    a[0] = attr("http.status_code", QUERY_ATTR_LT, "404");
    RUN("attr <");
    a[0] = attr("tier", QUERY_ATTR_GT, "0");
    RUN("attr > on a string: none");
    a[0] = attr("deployment.environment", QUERY_ATTR_EQ, "prod");
    RUN("resource attribute");
    a[0] = attr("service.name", QUERY_ATTR_EQ, "cart");
    RUN("service.name as a resource attribute");
    a[0] = attr("tier", QUERY_ATTR_EQ, "' OR 1=1 --");
    RUN("hostile value");
    p.n_attrs = 2;
    a[0] = attr("http.status_code", QUERY_ATTR_EQ, "503");
    a[1] = attr("tier", QUERY_ATTR_EQ, "bronze");
    RUN("two attributes on one span");
    a[1] = attr("deployment.environment", QUERY_ATTR_NE, "prod");
    RUN("span attribute and resource attribute");
    p.service = "db";
    a[0] = attr("http.status_code", QUERY_ATTR_EQ, "503");
    a[1] = attr("ok", QUERY_ATTR_EQ, "false");
    RUN("service and attributes");
    p.n_attrs = 1;
    p.service = "front";
    a[0] = attr("tier", QUERY_ATTR_EQ, "gold");
    RUN("service and index attribute");
    memset(&p, 0, sizeof(p));
    p.status = QUERY_STATUS_ERROR;
    RUN("status=error");
    p.service = "cart";
    RUN("errors of one service");
    p.status = QUERY_STATUS_OK;
    p.service = NULL;
    RUN("status=ok");
    memset(&p, 0, sizeof(p));
    p.has_min_duration = 1;
    p.min_duration_ns = 900000;
    RUN("minDuration");
    p.has_max_duration = 1;
    p.max_duration_ns = 950000;
    RUN("minDuration and maxDuration");
    memset(&p, 0, sizeof(p));
    p.has_start = p.has_end = 1;
    p.start_ns = BASE + 100 * 1000000ULL;
    p.end_ns = BASE + 150 * 1000000ULL;
    RUN("start and end");
    p.attrs = a;
    p.n_attrs = 1;
    a[0] = attr("common", QUERY_ATTR_EQ, "1");
    RUN("time window and scan");
    memset(&p, 0, sizeof(p));
    p.q = "RARE";
    RUN("q: a word of a name, any case");
    p.q = "silver";
    RUN("q: a word of an attribute value");
    p.q = "ilv";
    RUN("q: part of a word is no word: none");
    p.q = "case tex*";
    RUN("q: two words, the last a prefix");
    p.q = "select silver";
    RUN("q: words of the name and of an attribute value of one span");
    p.q = "rare silver";
    RUN("q: words of different spans only: none");
    p.q = "%_'\"";
    RUN("q without a word: none");
#undef RUN
}

/* The same answers whichever plan runs: scans only, the default choice,
 * and the index or service plan whenever one applies. */
START_TEST(test_filters_match_reference) {
    fill();
    const int64_t limits[] = {4096, 0, 1000000000};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        query_drive_limit = limits[i];
        check_all();
    }
    query_drive_limit = 4096;
}
END_TEST

START_TEST(test_summary_shape) {
    fill();
    query_traces_params p = {.limit = 2};
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *t = json_array_get(json_object_get(j, "traces"), 0);
    int i = NT - 1;
    char hex[33];
    trace_hex(i, hex);
    ck_assert_str_eq(json_string_value(json_object_get(t, "traceId")), hex);
    ck_assert_str_eq(json_string_value(json_object_get(t, "rootService")), "front");
    char name[32];
    snprintf(name, sizeof(name), "GET /x%d", i % 10);
    ck_assert_str_eq(json_string_value(json_object_get(t, "rootName")), name);
    uint64_t start = spans[i * SPT].start, end = 0;
    int errors = 0, per[4] = {0};
    for (int k = 0; k < SPT; k++) {
        const gspan *g = &spans[i * SPT + k];
        if (g->end > end)
            end = g->end;
        errors += g->status == MODEL_STATUS_ERROR;
        per[g->svc]++;
    }
    char s[32];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)start);
    ck_assert_str_eq(json_string_value(json_object_get(t, "startTimeUnixNano")), s);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "durationNs")), (json_int_t)(end - start));
    ck_assert_int_eq(json_integer_value(json_object_get(t, "spanCount")), SPT);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "errorCount")), errors);
    json_t *sv = json_object_get(t, "services");
    ck_assert_int_ge(json_array_size(sv), 3);
    json_int_t prev = INT64_MAX, total = 0;
    for (size_t k = 0; k < json_array_size(sv); k++) {
        json_t *e = json_array_get(sv, k);
        const char *nm = json_string_value(json_object_get(e, "name"));
        json_int_t c = json_integer_value(json_object_get(e, "spanCount"));
        ck_assert_int_le(c, prev); /* most spans first */
        prev = c;
        total += c;
        int want = -1;
        for (int v = 0; v < 4; v++)
            if (strcmp(svcs[v], nm) == 0)
                want = per[v];
        ck_assert_int_eq(c, want);
    }
    ck_assert_int_eq(total, SPT);
    ck_assert(json_is_string(json_object_get(j, "nextCursor")));
    json_decref(j);
}
END_TEST

/* Pages stay exact while newer traces keep arriving between them. */
START_TEST(test_pagination_with_inserts) {
    ck_assert_int_eq(fx_commit(st, make_batch(0, 300)), STORE_OK);
    int seen[NT] = {0};
    char cursor[64] = "";
    int next_new = 300, pages = 0;
    for (; pages < 200; pages++) {
        query_traces_params p = {.limit = 7, .cursor = cursor[0] ? cursor : NULL};
        buf_reset(&out);
        ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
        json_t *j = parse_out();
        json_t *list = json_object_get(j, "traces");
        for (size_t k = 0; k < json_array_size(list); k++) {
            const char *id = json_string_value(json_object_get(json_array_get(list, k), "traceId"));
            int found = -1;
            for (int i = 0; i < next_new && found < 0; i++) {
                char hex[33];
                trace_hex(i, hex);
                if (strcmp(hex, id) == 0)
                    found = i;
            }
            ck_assert_int_ge(found, 0);
            ck_assert_msg(seen[found] == 0, "trace %d on two pages", found);
            seen[found] = 1;
        }
        json_t *next = json_object_get(j, "nextCursor");
        int last = json_is_null(next);
        if (!last)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(j);
        if (last)
            break;
        if (next_new + 5 <= NT) { /* newer traces arrive */
            ck_assert_int_eq(fx_commit(st, make_batch(next_new, 5)), STORE_OK);
            next_new += 5;
        }
    }
    ck_assert_int_lt(pages, 200);
    for (int i = 0; i < 300; i++)
        ck_assert_msg(seen[i], "trace %d missing", i);
    ck_assert_int_gt(next_new, 300);
}
END_TEST

START_TEST(test_bad_params) {
    query_traces_params p = {.limit = 0};
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_EINVAL);
    p.limit = QUERY_MAX_LIMIT + 1;
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_EINVAL);
    p.limit = 10;
    p.n_attrs = QUERY_MAX_ATTRS + 1;
    query_attr many[QUERY_MAX_ATTRS + 1];
    memset(many, 0, sizeof(many));
    p.attrs = many;
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_EINVAL);
    p.n_attrs = 0;
    p.status = 7;
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_EINVAL);
    p.status = 0;
    const char *bad[] = {"zz", "'; DROP TABLE traces; --", "ffffffffffffffff0000000000000001",
                         "0123456789abcdef0123456789abcdef0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p.cursor = bad[i];
        ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_EINVAL);
    }
    p.cursor = NULL;
    buf_reset(&out);
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"traces\":[],\"nextCursor\":null}");
    /* keys and values that are SQL, FTS5 or JSON path syntax are data */
    query_attr a = attr("a\"b' OR 1=1 --", QUERY_ATTR_EQ, "x\" OR a*");
    p.attrs = &a;
    p.n_attrs = 1;
    p.name = "NEAR(a b) \"";
    p.q = "' \\ %";
    buf_reset(&out);
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
}
END_TEST

static Suite *traces_suite(void) {
    Suite *s = suite_create("query_traces");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_filters_match_reference);
    tcase_add_test(tc, test_summary_shape);
    tcase_add_test(tc, test_pagination_with_inserts);
    tcase_add_test(tc, test_bad_params);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(traces_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
