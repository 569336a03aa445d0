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

/* ---- words ------------------------------------------------------------------ */

/* Appends one UTF-8 code point. */
static int ai_put_cp(buf *out, uint32_t cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_append(out, b, n);
}

static int ai_hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

/* Appends " " and the text of the JSON string s[a..b) (the quotes
 * included), unescaped. Control characters become spaces. */
static int ai_put_string(const char *s, size_t a, size_t b, buf *out) {
    int rc = buf_append_char(out, ' ');
    for (size_t k = a + 1; rc == BUF_OK && k + 1 < b; k++) {
        char c = s[k];
        if (c != '\\') {
            rc = buf_append_char(out, (unsigned char)c < 0x20 ? ' ' : c);
            continue;
        }
        if (++k + 1 > b)
            break;
        uint32_t cp;
        switch (s[k]) {
        case 'u':
            if (k + 5 > b || ai_hex4(s + k + 1, &cp) != 0)
                return rc;
            k += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && k + 7 <= b && s[k + 1] == '\\' && s[k + 2] == 'u') {
                uint32_t lo;
                if (ai_hex4(s + k + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    k += 6;
                }
            }
            rc = cp < 0x20 || (cp >= 0xd800 && cp < 0xe000) ? buf_append_char(out, ' ')
                                                             : ai_put_cp(out, cp);
            break;
        case 'n':
        case 't':
        case 'r':
        case 'b':
        case 'f':
            rc = buf_append_char(out, ' ');
            break;
        default: /* \" \\ \/ */
            rc = buf_append_char(out, s[k]);
            break;
        }
    }
    return rc;
}

/* Appends the words of every value in the JSON text s[*i..n) (strings
 * unescaped, numbers and booleans as written; keys of objects left out):
 * the text search of a span. With only_key set, in an object only the
 * values of that key and of "attributes" are taken (events: their name
 * and attributes, not their times). */
static int ai_values(const char *s, size_t n, size_t *i, buf *out, const char *only_key,
                     int depth) {
    *i = ai_ws(s, *i, n);
    if (*i >= n || depth > 16)
        return BUF_OK;
    char c = s[*i];
    if (c == '"') {
        size_t a = *i;
        if (ai_string(s, n, i) != 0)
            return BUF_OK;
        return ai_put_string(s, a, *i, out);
    }
    if (c == '[' || c == '{') {
        int obj = c == '{';
        (*i)++;
        for (;;) {
            *i = ai_ws(s, *i, n);
            if (*i >= n || s[*i] == ']' || s[*i] == '}') {
                if (*i < n)
                    (*i)++;
                return BUF_OK;
            }
            int take = 1;
            if (obj) {
                size_t k0 = *i;
                if (s[k0] != '"' || ai_string(s, n, i) != 0)
                    return BUF_OK;
                if (only_key != NULL) {
                    size_t kl = *i - k0 - 2;
                    take = (kl == strlen(only_key) && memcmp(s + k0 + 1, only_key, kl) == 0) ||
                           (kl == 10 && memcmp(s + k0 + 1, "attributes", 10) == 0);
                }
                *i = ai_ws(s, *i, n);
                if (*i >= n || s[*i] != ':')
                    return BUF_OK;
                (*i)++;
            }
            int rc = BUF_OK;
            if (take) {
                /* below an object's taken member, every value counts */
                rc = ai_values(s, n, i, out, obj ? NULL : only_key, depth + 1);
            } else {
                int scalar;
                size_t k = ai_ws(s, *i, n);
                *i = k;
                if (ai_value(s, n, i, &scalar) != 0)
                    return BUF_OK;
            }
            if (rc != BUF_OK)
                return rc;
            *i = ai_ws(s, *i, n);
            if (*i < n && s[*i] == ',')
                (*i)++;
        }
    }
    size_t a = *i;
    int scalar;
    if (ai_value(s, n, i, &scalar) != 0 || !scalar)
        return BUF_OK;
    int rc = buf_append_char(out, ' ');
    return rc == BUF_OK ? buf_append(out, s + a, *i - a) : rc;
}

/* A byte the 'ascii' tokenizer keeps inside a word. */
static int ai_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

size_t attr_index_word_cut(const char *w, size_t n) {
    if (n <= ATTR_INDEX_WORD_MAX)
        return n;
    size_t cut = ATTR_INDEX_WORD_MAX;
    while (cut > 0 && ((unsigned char)w[cut] & 0xc0) == 0x80)
        cut--; /* w[cut] continues a character: cut before it */
    return cut;
}

/* Cuts every word of out->ptr[from..] longer than ATTR_INDEX_WORD_MAX, in
 * place. */
static void ai_cut_words(buf *out, size_t from) {
    char *p = out->ptr;
    size_t r = from, wr = from, n = out->len;
    while (r < n) {
        if (!ai_word_byte((unsigned char)p[r])) {
            p[wr++] = p[r++];
            continue;
        }
        size_t a = r;
        while (r < n && ai_word_byte((unsigned char)p[r]))
            r++;
        size_t keep = attr_index_word_cut(p + a, r - a);
        memmove(p + wr, p + a, keep);
        wr += keep;
    }
    out->len = wr;
    if (out->cap > wr)
        p[wr] = '\0';
}

int attr_index_words(const char *name, size_t name_len, const char *status, size_t status_len,
                     const char *attrs, size_t attrs_len, const char *events, size_t events_len,
                     buf *out) {
    int rc = BUF_OK;
    size_t from = out->len;
    if (name != NULL && name_len > 0) {
        rc = buf_append_char(out, ' ');
        if (rc == BUF_OK)
            rc = buf_append(out, name, name_len);
    }
    if (rc == BUF_OK && status != NULL && status_len > 0) {
        rc = buf_append_char(out, ' ');
        if (rc == BUF_OK)
            rc = buf_append(out, status, status_len);
    }
    size_t i = 0;
    if (rc == BUF_OK && attrs != NULL)
        rc = ai_values(attrs, attrs_len, &i, out, NULL, 0);
    i = 0;
    if (rc == BUF_OK && events != NULL)
        rc = ai_values(events, events_len, &i, out, "name", 0);
    if (rc == BUF_OK && out->ptr != NULL)
        ai_cut_words(out, from);
    return rc;
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
    if (rc == BUF_OK && argc == 4) { /* a span's words too (version 3 segments) */
        const char *st = (const char *)sqlite3_value_text(argv[2]);
        const char *ev = (const char *)sqlite3_value_text(argv[3]);
        rc = attr_index_words(name, nlen, st, st ? (size_t)sqlite3_value_bytes(argv[2]) : 0, json,
                              json ? len : 0, ev, ev ? (size_t)sqlite3_value_bytes(argv[3]) : 0,
                              &out);
    }
    if (rc == BUF_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else if (rc != BUF_OK)
        sqlite3_result_error_toobig(ctx);
    else
        sqlite3_result_text(ctx, out.ptr ? out.ptr : "", (int)out.len, SQLITE_TRANSIENT);
    buf_free(&out);
}

int attr_index_has_word(const char *text, size_t n, const char *word, size_t wn, int prefix) {
    if (wn == 0 || wn > n)
        return 0;
    for (size_t i = 0; i + wn <= n; i++) {
        if (i > 0 && ai_word_byte((unsigned char)text[i - 1]))
            continue; /* not at a word's start */
        if (memcmp(text + i, word, wn) != 0)
            continue;
        if (prefix || i + wn == n || !ai_word_byte((unsigned char)text[i + wn]))
            return 1;
    }
    return 0;
}

/* loupe_has_word(text, word, prefix) */
static void ai_sql_has_word(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    size_t n = text ? (size_t)sqlite3_value_bytes(argv[0]) : 0;
    const char *word = (const char *)sqlite3_value_text(argv[1]);
    size_t wn = word ? (size_t)sqlite3_value_bytes(argv[1]) : 0;
    sqlite3_result_int(ctx, text != NULL && word != NULL &&
                                attr_index_has_word(text, n, word, wn,
                                                    sqlite3_value_int(argv[2]) != 0));
}

int attr_index_register(sqlite3 *db) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "loupe_attr_tokens", 1, flags, NULL, ai_sql_tokens,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_attr_tokens", 2, flags, NULL, ai_sql_tokens,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_attr_tokens", 4, flags, NULL, ai_sql_tokens,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_has_word", 3, flags, NULL, ai_sql_has_word,
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
