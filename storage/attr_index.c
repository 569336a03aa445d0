/* attr_index.c - hashed key=value tokens for the FTS5 attribute index, see
 * attr_index.h. */
#include "attr_index.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/jw.h"
#include "model_json.h"

#define ATTR_INDEX_SEED_KV 0x6c6f7570655f6b76ULL
#define ATTR_INDEX_SEED_NAME 0x6c6f7570655f6e6dULL
#define ATTR_INDEX_NUMBER_MAX 128
#define ATTR_INDEX_OUT_MAX ((size_t)64 << 20)

/* ---- tokens ------------------------------------------------------------- */

/* Appends one token, after a space when *n > 0; counts it in *n. */
static int ai_put_token(buf *out, uint64_t h, int *n) {
    static const char hex[] = "0123456789abcdef";
    char tok[ATTR_INDEX_TOKEN_LEN + 1];
    size_t at = 0;
    if ((*n)++ > 0)
        tok[at++] = ' ';
    tok[at++] = 'a';
    for (int i = 15; i >= 0; i--)
        tok[at++] = hex[(h >> (4 * i)) & 15];
    return buf_append(out, tok, at);
}

/* A 64-bit fingerprint (util/hash.h) of a key and a value's JSON texts;
 * collisions only add candidates, which the queries check against the
 * JSON. */
static uint64_t ai_kv_hash(const char *key, size_t klen, const char *val, size_t vlen) {
    return hash_64(val, vlen, hash_64(key, klen, ATTR_INDEX_SEED_KV));
}

/* ---- scanning the stored JSON ------------------------------------------- */

static size_t ai_ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[*i] is '"': moves *i past the closing quote. Returns 0, or -1 when the
 * string does not end. */
static int ai_string(const char *s, size_t n, size_t *i) {
    size_t k = *i + 1;
    while (k < n) {
        if (s[k] == '\\') {
            k += 2;
            continue;
        }
        if (s[k] == '"') {
            *i = k + 1;
            return 0;
        }
        k++;
    }
    return -1;
}

/* Moves *i past one value; *scalar is 1 for a string, number or boolean. */
static int ai_value(const char *s, size_t n, size_t *i, int *scalar) {
    size_t k = *i;
    *scalar = 0;
    if (k >= n)
        return -1;
    if (s[k] == '"') {
        *scalar = 1;
        return ai_string(s, n, i);
    }
    if (s[k] == '{' || s[k] == '[') {
        size_t depth = 0;
        while (k < n) {
            char c = s[k];
            if (c == '"') {
                if (ai_string(s, n, &k) != 0)
                    return -1;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    *i = k + 1;
                    return 0;
                }
            }
            k++;
        }
        return -1;
    }
    size_t start = k;
    while (k < n && s[k] != ',' && s[k] != '}' && s[k] != ']' && s[k] != ' ' && s[k] != '\t' &&
           s[k] != '\n' && s[k] != '\r')
        k++;
    if (k == start)
        return -1;
    *scalar = !(k - start == 4 && memcmp(s + start, "null", 4) == 0);
    *i = k;
    return 0;
}

int attr_index_tokens(const char *json, size_t len, const char *name, size_t name_len, buf *out) {
    int rc, n = 0;
    if (name != NULL) {
        rc = ai_put_token(out, hash_64(name, name_len, ATTR_INDEX_SEED_NAME), &n);
        if (rc != BUF_OK)
            return rc;
    }
    if (json == NULL)
        return BUF_OK;
    size_t i = ai_ws(json, 0, len);
    if (i >= len || json[i] != '{')
        return BUF_OK;
    i = ai_ws(json, i + 1, len);
    while (i < len && json[i] == '"') {
        size_t k0 = i;
        if (ai_string(json, len, &i) != 0)
            return BUF_OK;
        size_t k1 = i;
        i = ai_ws(json, i, len);
        if (i >= len || json[i] != ':')
            return BUF_OK;
        i = ai_ws(json, i + 1, len);
        size_t v0 = i;
        int scalar;
        if (ai_value(json, len, &i, &scalar) != 0)
            return BUF_OK;
        if (scalar) {
            rc = ai_put_token(out, ai_kv_hash(json + k0, k1 - k0, json + v0, i - v0), &n);
            if (rc != BUF_OK)
                return rc;
        }
        i = ai_ws(json, i, len);
        if (i >= len || json[i] != ',')
            break;
        i = ai_ws(json, i + 1, len);
    }
    return BUF_OK;
}

/* ---- the SQL function ---------------------------------------------------- */

static void ai_sql_tokens(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    const char *json = (const char *)sqlite3_value_text(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    const char *name = NULL;
    size_t nlen = 0;
    if (argc > 1) {
        name = (const char *)sqlite3_value_text(argv[1]);
        nlen = (size_t)sqlite3_value_bytes(argv[1]);
        if (name == NULL)
            name = "";
    }
    buf out;
    buf_init(&out, ATTR_INDEX_OUT_MAX);
    int rc = attr_index_tokens(json, json ? len : 0, name, nlen, &out);
    if (rc == BUF_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else if (rc != BUF_OK)
        sqlite3_result_error_toobig(ctx);
    else
        sqlite3_result_text(ctx, out.ptr ? out.ptr : "", (int)out.len, SQLITE_TRANSIENT);
    buf_free(&out);
}

int attr_index_register(sqlite3 *db) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "loupe_attr_tokens", 1, flags, NULL, ai_sql_tokens,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_attr_tokens", 2, flags, NULL, ai_sql_tokens,
                                     NULL, NULL);
    return rc;
}

/* ---- query side ------------------------------------------------------------ */

int attr_index_parse_number(const char *s, size_t len, double *out) {
    char tmp[ATTR_INDEX_NUMBER_MAX + 1];
    if (len == 0 || len > ATTR_INDEX_NUMBER_MAX)
        return 0;
    size_t i = 0, digits = 0;
    if (s[i] == '-')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            e++;
        }
        if (e == 0)
            return 0;
    }
    if (i != len)
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
        return 0;
    *out = d;
    return 1;
}

/* The key's JSON text, and each candidate value's JSON text in turn. */
typedef struct ai_query {
    buf *out;
    buf key, val;
    int n;
} ai_query;

static int ai_query_add(ai_query *q) {
    int rc = buf_append_str(q->out, q->n ? " OR " : "(");
    if (rc == BUF_OK) {
        uint64_t h = ai_kv_hash(q->key.ptr, q->key.len, q->val.ptr ? q->val.ptr : "", q->val.len);
        buf tmp;
        int n = 0;
        buf_init(&tmp, ATTR_INDEX_TOKEN_LEN + 2);
        rc = ai_put_token(&tmp, h, &n);
        if (rc == BUF_OK)
            rc = buf_append(q->out, tmp.ptr, tmp.len);
        buf_free(&tmp);
    }
    q->n++;
    buf_reset(&q->val);
    return rc;
}

int attr_index_query_eq(const char *key, size_t key_len, const char *value, size_t value_len,
                        buf *out) {
    ai_query q = {out, {0}, {0}, 0};
    buf_init(&q.key, key_len * 6 + 16);
    buf_init(&q.val, value_len * 6 + 64);
    jw w;
    jw_init(&w, &q.key);
    jw_stringn(&w, key, key_len);
    int rc = jw_error(&w);
    /* the string */
    if (rc == BUF_OK) {
        jw_init(&w, &q.val);
        jw_stringn(&w, value, value_len);
        rc = jw_error(&w);
    }
    if (rc == BUF_OK)
        rc = ai_query_add(&q);
    /* the boolean */
    if (rc == BUF_OK && ((value_len == 4 && memcmp(value, "true", 4) == 0) ||
                         (value_len == 5 && memcmp(value, "false", 5) == 0))) {
        rc = buf_append(&q.val, value, value_len);
        if (rc == BUF_OK)
            rc = ai_query_add(&q);
    }
    /* the integer and the double */
    double d;
    if (rc == BUF_OK && attr_index_parse_number(value, value_len, &d)) {
        if (d == floor(d) && fabs(d) <= (double)MODEL_JSON_MAX_SAFE_INT) {
            jw_init(&w, &q.val);
            jw_int(&w, (int64_t)d);
            rc = jw_error(&w);
            if (rc == BUF_OK)
                rc = ai_query_add(&q);
        }
        if (rc == BUF_OK) {
            jw_init(&w, &q.val);
            jw_double(&w, d);
            rc = jw_error(&w);
            if (rc == BUF_OK)
                rc = ai_query_add(&q);
        }
    }
    if (rc == BUF_OK)
        rc = buf_append_str(out, ")");
    buf_free(&q.key);
    buf_free(&q.val);
    return rc;
}

int attr_index_query_name(const char *name, size_t len, buf *out) {
    buf tmp;
    int n = 0;
    buf_init(&tmp, ATTR_INDEX_TOKEN_LEN + 2);
    int rc = ai_put_token(&tmp, hash_64(name, len, ATTR_INDEX_SEED_NAME), &n);
    if (rc == BUF_OK)
        rc = buf_append(out, tmp.ptr, tmp.len);
    buf_free(&tmp);
    return rc;
}
