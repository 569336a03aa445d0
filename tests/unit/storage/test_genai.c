/* Tests for storage/genai.c (which spans are GenAI calls, and their
 * figures), storage/store_genai.c (the rollup and the per-minute top calls
 * the writer keeps, the fill of segments made before them) and
 * storage/query_genai.c (GET /api/v1/genai), with figures computed here
 * from the spans sent. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/genai.h"
#include "storage/query.h"
#include "storage/store.h"
#include "util/utf8.h"
#include "store_fixture.h"

#define MIN_NS 60000000000ULL
#define MS 1000000ULL
/* the start of a whole minute */
#define T0 (29000000ULL * MIN_NS)

/* ---- recognition ------------------------------------------------------------ */

static int recognise(const model_attrs *a, genai_call *c, const char *provider, const char *model,
                     const char *op) {
    int got = genai_of(a, c);
    if (!got)
        return 0;
    ck_assert_int_eq((int)c->provider.len, (int)strlen(provider));
    ck_assert_int_eq(memcmp(c->provider.ptr, provider, c->provider.len), 0);
    ck_assert_int_eq((int)c->model.len, (int)strlen(model));
    ck_assert_int_eq(memcmp(c->model.ptr, model, c->model.len), 0);
    ck_assert_int_eq((int)c->operation.len, (int)strlen(op));
    ck_assert_int_eq(memcmp(c->operation.ptr, op, c->operation.len), 0);
    return 1;
}

START_TEST(current_attributes_are_recognised) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv *kv = fx_kvs(b, 6);
    fx_kv_str(b, &kv[0], "gen_ai.operation.name", "chat");
    fx_kv_str(b, &kv[1], "gen_ai.provider.name", "openai");
    fx_kv_str(b, &kv[2], "gen_ai.request.model", "gpt-4o");
    fx_kv_str(b, &kv[3], "gen_ai.response.model", "gpt-4o-2024-08-06");
    fx_kv_int(b, &kv[4], "gen_ai.usage.input_tokens", 120);
    fx_kv_double(b, &kv[5], "gen_ai.usage.output_tokens", 33.9);
    model_attrs a = {kv, 6};
    genai_call c;
    ck_assert(recognise(&a, &c, "openai", "gpt-4o", "chat"));
    ck_assert_int_eq(c.input_tokens, 120);
    ck_assert_int_eq(c.output_tokens, 33); /* a double is truncated */
    model_batch_free(b);
}
END_TEST

START_TEST(older_names_are_recognised) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv *kv = fx_kvs(b, 4);
    fx_kv_str(b, &kv[0], "gen_ai.system", "anthropic");
    fx_kv_str(b, &kv[1], "gen_ai.response.model", "claude-x");
    fx_kv_int(b, &kv[2], "gen_ai.usage.prompt_tokens", 7);
    fx_kv_int(b, &kv[3], "gen_ai.usage.completion_tokens", 9);
    model_attrs a = {kv, 4};
    genai_call c;
    /* no operation: the provider alone makes it a call; the response
     * model stands in for the request's */
    ck_assert(recognise(&a, &c, "anthropic", "claude-x", ""));
    ck_assert_int_eq(c.input_tokens, 7);
    ck_assert_int_eq(c.output_tokens, 9);
    /* the request model alone is enough */
    fx_kv_str(b, &kv[0], "gen_ai.request.model", "llama");
    ck_assert(recognise(&a, &c, "", "llama", ""));
    model_batch_free(b);
}
END_TEST

START_TEST(other_spans_are_not_calls) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv *kv = fx_kvs(b, 3);
    fx_kv_str(b, &kv[0], "http.route", "/chat");
    fx_kv_str(b, &kv[1], "gen_ai.response.model", "gpt-4o"); /* not enough alone */
    fx_kv_int(b, &kv[2], "gen_ai.usage.input_tokens", 5);
    model_attrs a = {kv, 3};
    genai_call c;
    ck_assert_int_eq(genai_of(&a, &c), 0);
    ck_assert_int_eq(c.input_tokens, 0);
    /* an empty or non-string operation or provider does not count */
    fx_kv_str(b, &kv[0], "gen_ai.operation.name", "");
    ck_assert_int_eq(genai_of(&a, &c), 0);
    fx_kv_int(b, &kv[0], "gen_ai.provider.name", 3);
    ck_assert_int_eq(genai_of(&a, &c), 0);
    model_attrs none = {NULL, 0};
    ck_assert_int_eq(genai_of(&none, &c), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(tokens_and_texts_are_bounded) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_kv *kv = fx_kvs(b, 4);
    char model[601];
    for (int i = 0; i < 300; i++)
        memcpy(model + 2 * i, "\xc3\xa9", 2); /* é, 2 bytes each */
    model[600] = '\0';
    fx_kv_str(b, &kv[0], "gen_ai.request.model", model);
    fx_kv_int(b, &kv[1], "gen_ai.usage.input_tokens", -4);
    fx_kv_double(b, &kv[2], "gen_ai.usage.output_tokens", 1e300);
    fx_kv_int(b, &kv[3], "gen_ai.usage.prompt_tokens", 11);
    model_attrs a = {kv, 4};
    genai_call c;
    ck_assert_int_eq(genai_of(&a, &c), 1);
    ck_assert_uint_le(c.model.len, GENAI_TEXT_MAX);
    ck_assert_uint_eq(c.model.len % 2, 0);
    ck_assert(utf8_valid(c.model.ptr, c.model.len));
    ck_assert_int_eq(c.input_tokens, 0);
    ck_assert_int_eq(c.output_tokens, 4294967295LL);
    /* NaN and integers past 2^53 (the store keeps them as strings) are not
     * counts: the older name is read instead */
    fx_kv_double(b, &kv[1], "gen_ai.usage.input_tokens", NAN);
    ck_assert_int_eq(genai_of(&a, &c), 1);
    ck_assert_int_eq(c.input_tokens, 11);
    fx_kv_int(b, &kv[1], "gen_ai.usage.input_tokens", (int64_t)1 << 60);
    ck_assert_int_eq(genai_of(&a, &c), 1);
    ck_assert_int_eq(c.input_tokens, 11);
    model_batch_free(b);
}
END_TEST

/* ---- the rollup through the store --------------------------------------------- */

static store *st;
static store_reader *rd;
static char dir[64];
static uint64_t next_id = 1;

static void open_store(store_mode mode) {
    store_config cfg = {.mode = mode, .data_dir = dir};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
}

static void close_store(void) {
    store_reader_close(rd);
    store_close(st);
    rd = NULL;
    st = NULL;
}

static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
}

static void teardown(void) {
    close_store();
    fx_rmdir(dir);
}

/* n calls of (service, op, provider, model), the i-th (from `first`)
 * lasting first+i ms with first+i input and 2(first+i) output tokens,
 * starting at `start` + i s; `errors` of them (the last ones) failing. One
 * batch, each call its own trace; a span of another kind rides along. */
static void send_calls(const char *service, const char *op, const char *provider,
                       const char *model, uint64_t start, int first, int n, int errors) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, service, NULL);
    model_scope *sc = fx_scope(b, "genai-test", "1");
    fx_spans(b, (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        uint64_t k = (uint64_t)(first + i);
        uint64_t t = start + (uint64_t)i * 1000 * MS;
        uint64_t id = next_id++;
        model_span *sp = fx_span(b, r, sc, id, id, 0, op, t, t + k * MS);
        sp->kind = MODEL_SPAN_KIND_CLIENT;
        model_kv *kv = fx_kvs(b, 5);
        fx_kv_str(b, &kv[0], "gen_ai.operation.name", op);
        fx_kv_str(b, &kv[1], "gen_ai.provider.name", provider);
        fx_kv_str(b, &kv[2], "gen_ai.request.model", model);
        fx_kv_int(b, &kv[3], "gen_ai.usage.input_tokens", (int64_t)k);
        fx_kv_int(b, &kv[4], "gen_ai.usage.output_tokens", 2 * (int64_t)k);
        sp->attrs.items = kv;
        sp->attrs.n = 5;
        if (i >= n - errors)
            sp->status_code = MODEL_STATUS_ERROR;
    }
    uint64_t id = next_id++;
    fx_span(b, r, sc, id, id, 0, "GET /health", start, start + 900 * MS);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
}

static json_t *genai(uint64_t start, uint64_t end, uint64_t step) {
    query_genai_params p = {.has_start = 1, .has_end = 1, .start_ns = start, .end_ns = end,
                            .step_ns = step};
    buf out;
    buf_init(&out, 1 << 22);
    ck_assert_int_eq(query_genai(rd, &p, &out), QUERY_OK);
    json_error_t e;
    json_t *j = json_loadb(out.ptr, out.len, 0, &e);
    ck_assert_msg(j != NULL, "%s", e.text);
    buf_free(&out);
    return j;
}

static json_int_t iget(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
    return json_integer_value(v);
}

static const char *sget(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_string(v), "%s is not a string", k);
    return json_string_value(v);
}

/* Within the histograms' 4.5%. */
static void near(json_int_t got, double want, const char *what) {
    ck_assert_msg(fabs((double)got - want) / want <= 0.045, "%s: %lld vs %.0f", what,
                  (long long)got, want);
}

/* The shop the tests send: "bot" makes 25 chat calls with gpt-4o in minute
 * 0 (1..25 ms, tokens k and 2k), in three batches (10, 10, 5), the last
 * one failing; "indexer" makes 5 embeddings calls (101..105 ms, 2 failing)
 * with a small model in minute 1. */
static void send_shop(void) {
    send_calls("bot", "chat", "openai", "gpt-4o", T0, 1, 10, 0);
    send_calls("bot", "chat", "openai", "gpt-4o", T0 + 10000 * MS, 11, 10, 0);
    send_calls("bot", "chat", "openai", "gpt-4o", T0 + 20000 * MS, 21, 5, 1);
    send_calls("indexer", "embeddings", "openai", "text-embedding-3-small", T0 + MIN_NS, 101, 5,
               2);
}

static json_t *find(json_t *list, const char *key, const char *value) {
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        if (strcmp(sget(x, key), value) == 0)
            return x;
    }
    ck_abort_msg("no %s %s", key, value);
    return NULL;
}

static void check_shop(json_t *j) {
    json_t *tot = json_object_get(j, "totals");
    ck_assert_int_eq(iget(tot, "calls"), 30);
    ck_assert_int_eq(iget(tot, "errors"), 3);
    /* tokens: 1..25 and 101..105 in, twice that out */
    ck_assert_int_eq(iget(tot, "inputTokens"), 325 + 515);
    ck_assert_int_eq(iget(tot, "outputTokens"), 2 * (325 + 515));
    ck_assert_int_eq(iget(j, "stepNs"), (json_int_t)MIN_NS);
    ck_assert_str_eq(sget(j, "startTimeUnixNano"), "1740000000000000000");
    json_t *series = json_object_get(j, "series");
    ck_assert_int_eq(json_array_size(series), 2);
    ck_assert_int_eq(iget(json_array_get(series, 0), "calls"), 25);
    ck_assert_int_eq(iget(json_array_get(series, 1), "calls"), 5);

    json_t *models = json_object_get(j, "models");
    ck_assert_int_eq(json_array_size(models), 2);
    json_t *gpt = json_array_get(models, 0); /* most calls first */
    ck_assert_str_eq(sget(gpt, "model"), "gpt-4o");
    ck_assert_str_eq(sget(gpt, "provider"), "openai");
    ck_assert_int_eq(iget(gpt, "calls"), 25);
    ck_assert_int_eq(iget(gpt, "errors"), 1);
    ck_assert_int_eq(iget(gpt, "inputTokens"), 325);
    near(iget(gpt, "p50Ns"), 13e6, "p50 of gpt-4o");
    near(iget(gpt, "p99Ns"), 25e6, "p99 of gpt-4o");
    ck_assert_int_eq(json_array_size(json_object_get(gpt, "series")), 1);
    json_t *emb = find(models, "model", "text-embedding-3-small");
    ck_assert_int_eq(iget(emb, "calls"), 5);
    ck_assert_int_eq(iget(emb, "errors"), 2);
    json_t *es = json_array_get(json_object_get(emb, "series"), 0);
    ck_assert_str_eq(sget(es, "timeUnixNano"), "1740000060000000000");
    ck_assert_int_eq(iget(es, "outputTokens"), 1030);

    json_t *services = json_object_get(j, "services");
    ck_assert_int_eq(json_array_size(services), 2);
    ck_assert_int_eq(iget(find(services, "service", "bot"), "calls"), 25);
    ck_assert_int_eq(iget(find(services, "service", "indexer"), "errors"), 2);
    json_t *ops = json_object_get(j, "operations");
    ck_assert_int_eq(iget(find(ops, "operation", "chat"), "calls"), 25);
    ck_assert_ptr_null(json_object_get(find(ops, "operation", "embeddings"), "series"));

    /* the window's 10 longest: 105..101 ms, then 25..21 ms */
    json_t *slow = json_object_get(j, "slowest");
    ck_assert_int_eq(json_array_size(slow), GENAI_TOP_PER_MINUTE);
    static const int want_ms[] = {105, 104, 103, 102, 101, 25, 24, 23, 22, 21};
    for (size_t i = 0; i < 10; i++) {
        json_t *c = json_array_get(slow, i);
        ck_assert_int_eq(iget(c, "durationNs"), (json_int_t)(want_ms[i] * MS));
        ck_assert_str_eq(sget(c, "service"), want_ms[i] > 100 ? "indexer" : "bot");
        ck_assert_str_eq(sget(c, "operation"), want_ms[i] > 100 ? "embeddings" : "chat");
        ck_assert_int_eq(strlen(sget(c, "traceId")), 32);
        ck_assert_int_eq(strlen(sget(c, "spanId")), 16);
    }
    ck_assert(json_is_true(json_object_get(json_array_get(slow, 0), "error")));
    ck_assert(json_is_true(json_object_get(json_array_get(slow, 5), "error"))); /* 25 ms */
    ck_assert(json_is_false(json_object_get(json_array_get(slow, 6), "error")));
    /* the most tokens: the same calls (3k tokens each) */
    json_t *dear = json_object_get(j, "mostExpensive");
    ck_assert_int_eq(json_array_size(dear), GENAI_TOP_PER_MINUTE);
    for (size_t i = 0; i < 10; i++) {
        json_t *c = json_array_get(dear, i);
        ck_assert_int_eq(iget(c, "inputTokens") + iget(c, "outputTokens"), 3 * want_ms[i]);
    }
}

START_TEST(rollup_answers_per_model_service_and_top_calls) {
    open_store(STORE_MODE_MEMORY);
    send_shop();
    json_t *j = genai(T0, T0 + 5 * MIN_NS, MIN_NS);
    check_shop(j);
    json_decref(j);
    /* a window of minute 1 only: the embeddings */
    j = genai(T0 + MIN_NS, T0 + 2 * MIN_NS, 0);
    ck_assert_int_eq(iget(json_object_get(j, "totals"), "calls"), 5);
    ck_assert_int_eq(json_array_size(json_object_get(j, "slowest")), 5);
    ck_assert_int_eq(json_array_size(json_object_get(j, "models")), 1);
    json_decref(j);
    /* a window with nothing */
    j = genai(T0 + 10 * MIN_NS, T0 + 20 * MIN_NS, 0);
    ck_assert_int_eq(iget(json_object_get(j, "totals"), "calls"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(j, "models")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(j, "slowest")), 0);
    json_decref(j);
}
END_TEST

START_TEST(each_minute_keeps_its_top_calls_only) {
    open_store(STORE_MODE_MEMORY);
    send_shop();
    sqlite3 *db = rd->db;
    /* minute 0: 25 calls, 10 kept per ranking; minute 1: all 5 */
    ck_assert_int_eq(fx_rows(db, "genai_top", "kind=0 AND minute=29000000"), 10);
    ck_assert_int_eq(fx_rows(db, "genai_top", "kind=1 AND minute=29000000"), 10);
    ck_assert_int_eq(fx_rows(db, "genai_top", "minute=29000001"), 10);
    ck_assert_int_eq(fx_rows(db, "genai_top", "kind=0 AND minute=29000000 AND value<16000000"), 0);
    /* one row per minute and key, whatever the batches */
    ck_assert_int_eq(fx_rows(db, "genai", NULL), 2);
}
END_TEST

START_TEST(segments_without_the_tables_are_filled_at_open) {
    open_store(STORE_MODE_SQLITE);
    send_shop();
    query_genai_params p = {.has_start = 1, .has_end = 1, .start_ns = T0,
                            .end_ns = T0 + 5 * MIN_NS, .step_ns = MIN_NS};
    buf before, after;
    buf_init(&before, 1 << 22);
    buf_init(&after, 1 << 22);
    ck_assert_int_eq(query_genai(rd, &p, &before), QUERY_OK);
    close_store();
    /* as a segment made before the GenAI rollup (or adopted from schema 2) */
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE genai_1; DROP TABLE genai_top_1", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    open_store(STORE_MODE_SQLITE);
    ck_assert_int_eq(query_genai(rd, &p, &after), QUERY_OK);
    ck_assert_int_eq((int)after.len, (int)before.len);
    ck_assert_int_eq(memcmp(after.ptr, before.ptr, before.len), 0);
    json_t *j = json_loadb(after.ptr, after.len, 0, NULL);
    check_shop(j);
    json_decref(j);
    buf_free(&before);
    buf_free(&after);
}
END_TEST

START_TEST(deleting_a_service_takes_its_calls) {
    open_store(STORE_MODE_MEMORY);
    send_shop();
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_TRACES, "bot", 30000, &r), STORE_OK);
    json_t *j = genai(T0, T0 + 5 * MIN_NS, 0);
    ck_assert_int_eq(iget(json_object_get(j, "totals"), "calls"), 5);
    ck_assert_int_eq(json_array_size(json_object_get(j, "services")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(j, "slowest")), 5);
    json_decref(j);
}
END_TEST

static Suite *genai_suite(void) {
    Suite *s = suite_create("genai");
    TCase *t = tcase_create("recognition");
    tcase_add_test(t, current_attributes_are_recognised);
    tcase_add_test(t, older_names_are_recognised);
    tcase_add_test(t, other_spans_are_not_calls);
    tcase_add_test(t, tokens_and_texts_are_bounded);
    suite_add_tcase(s, t);
    t = tcase_create("rollup");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, rollup_answers_per_model_service_and_top_calls);
    tcase_add_test(t, each_minute_keeps_its_top_calls_only);
    tcase_add_test(t, segments_without_the_tables_are_filled_at_open);
    tcase_add_test(t, deleting_a_service_takes_its_calls);
    suite_add_tcase(s, t);
    return s;
}

int main(void) {
    SRunner *r = srunner_create(genai_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
