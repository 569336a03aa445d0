/* genai.c - recognising a GenAI call among spans and reading its rollup
 * figures; see genai.h. */
#include "genai.h"

#include <math.h>
#include <string.h>

#include "util/utf8.h"

/* Tokens per span are capped so that no sum of a store's spans can
 * overflow an SQLite integer. */
#define GENAI_TOKENS_MAX 4294967295LL
/* Integers beyond +-(2^53-1) are stored as decimal strings (model_json.h):
 * not a count. */
#define GENAI_INT_EXACT 9007199254740991LL

/* A count clamped to 0..GENAI_TOKENS_MAX. */
static int64_t genai_clamp(double d) {
    return d <= 0 ? 0 : d >= (double)GENAI_TOKENS_MAX ? GENAI_TOKENS_MAX : (int64_t)d;
}

/* A non-empty string attribute, cut to GENAI_TEXT_MAX bytes; 0 when absent. */
static int genai_text(const model_attrs *a, const char *key, model_str *out) {
    const model_value *v = model_attrs_get(a, key);
    if (v == NULL || v->type != MODEL_VALUE_STRING || v->u.str.len == 0)
        return 0;
    out->ptr = v->u.str.ptr;
    out->len = utf8_cut(v->u.str.ptr, v->u.str.len, GENAI_TEXT_MAX);
    return 1;
}

/* A token count: a number as the store keeps one (an integer within
 * +-(2^53-1), a finite double, truncated), clamped; 0 when absent. */
static int genai_tokens(const model_attrs *a, const char *key, int64_t *out) {
    const model_value *v = model_attrs_get(a, key);
    if (v != NULL && v->type == MODEL_VALUE_INT && v->u.integer <= GENAI_INT_EXACT &&
        v->u.integer >= -GENAI_INT_EXACT) {
        *out = genai_clamp((double)v->u.integer);
        return 1;
    }
    if (v != NULL && v->type == MODEL_VALUE_DOUBLE && isfinite(v->u.dbl)) {
        *out = genai_clamp(v->u.dbl);
        return 1;
    }
    return 0;
}

int genai_of(const model_attrs *attrs, genai_call *out) {
    memset(out, 0, sizeof(*out));
    out->provider = out->model = out->operation = model_str_empty;
    int found = genai_text(attrs, "gen_ai.operation.name", &out->operation);
    found |= genai_text(attrs, "gen_ai.provider.name", &out->provider) ||
             genai_text(attrs, "gen_ai.system", &out->provider);
    found |= genai_text(attrs, "gen_ai.request.model", &out->model);
    if (!found) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    if (out->model.len == 0)
        genai_text(attrs, "gen_ai.response.model", &out->model);
    if (!genai_tokens(attrs, "gen_ai.usage.input_tokens", &out->input_tokens))
        genai_tokens(attrs, "gen_ai.usage.prompt_tokens", &out->input_tokens);
    if (!genai_tokens(attrs, "gen_ai.usage.output_tokens", &out->output_tokens))
        genai_tokens(attrs, "gen_ai.usage.completion_tokens", &out->output_tokens);
    return 1;
}

/* ---- the same rules in SQL, over stored attributes ---------------------------- */

/* loupe_genai_text(x): x cut as genai_text() cuts it; NULL unless a
 * non-empty text. */
static void genai_fn_text(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    if (t == NULL || n == 0)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_text(ctx, t, (int)utf8_cut(t, n, GENAI_TEXT_MAX), SQLITE_TRANSIENT);
}

/* loupe_genai_tokens(x): a number clamped as genai_tokens() clamps it;
 * NULL for anything else. */
static void genai_fn_tokens(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    int t = sqlite3_value_type(argv[0]);
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
        sqlite3_result_int64(ctx, genai_clamp(sqlite3_value_double(argv[0])));
    else
        sqlite3_result_null(ctx);
}

int genai_register(sqlite3 *db) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "loupe_genai_text", 1, flags, NULL, genai_fn_text, NULL,
                                     NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_genai_tokens", 1, flags, NULL, genai_fn_tokens,
                                     NULL, NULL);
    return rc;
}
