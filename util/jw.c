/* jw.c - streaming JSON writer, see jw.h. */
#include "jw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

void jw_init(jw *w, buf *out) {
    memset(w, 0, sizeof(*w));
    w->out = out;
}

int jw_error(const jw *w) {
    return w->err;
}

static void jw_put(jw *w, const char *s, size_t n) {
    if (w->err)
        return;
    int rc = buf_append(w->out, s, n);
    if (rc != BUF_OK)
        w->err = rc;
}

/* Called before every value or key: writes the separating comma. */
static void jw_sep(jw *w) {
    if (w->need_comma[w->depth])
        jw_put(w, ",", 1);
    w->need_comma[w->depth] = 1;
}

static void jw_open(jw *w, char c) {
    jw_sep(w);
    jw_put(w, &c, 1);
    if (w->depth < JW_MAX_DEPTH) {
        w->depth++;
        w->need_comma[w->depth] = 0;
    } else if (!w->err) {
        w->err = BUF_ETOOBIG;
    }
}

static void jw_close(jw *w, char c) {
    jw_put(w, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_object_begin(jw *w) {
    jw_open(w, '{');
}
void jw_object_end(jw *w) {
    jw_close(w, '}');
}
void jw_array_begin(jw *w) {
    jw_open(w, '[');
}
void jw_array_end(jw *w) {
    jw_close(w, ']');
}

static void jw_escaped(jw *w, const char *str, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t start = 0, i = 0;
    jw_put(w, "\"", 1);
    while (i < len) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t skip = 1;
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = utf8_decode(str + i, len - i, &cp);
            /* U+2028 and U+2029 break JavaScript string literals: escaped */
            if (n && cp != 0x2028 && cp != 0x2029) {
                i += n;
                continue;
            }
            if (n) {
                esc = cp == 0x2028 ? "\\u2028" : "\\u2029";
                skip = n;
            } else {
                esc = "\\ufffd"; /* an invalid byte */
            }
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7F) {
            ubuf[0] = '\\';
            ubuf[1] = 'u';
            ubuf[2] = '0';
            ubuf[3] = '0';
            ubuf[4] = hex[c >> 4];
            ubuf[5] = hex[c & 0xF];
            ubuf[6] = '\0';
            esc = ubuf;
        } else {
            i++;
            continue;
        }
        jw_put(w, str + start, i - start);
        jw_put(w, esc, strlen(esc));
        i += skip;
        start = i;
    }
    jw_put(w, str + start, len - start);
    jw_put(w, "\"", 1);
}

void jw_keyn(jw *w, const char *key, size_t len) {
    jw_sep(w);
    jw_escaped(w, key, len);
    jw_put(w, ":", 1);
    /* the value that follows must not write a comma */
    w->need_comma[w->depth] = 0;
}

void jw_key(jw *w, const char *key) {
    jw_keyn(w, key, strlen(key));
}

/* After a value written right after a key, commas are due again. */
static void jw_value_done(jw *w) {
    w->need_comma[w->depth] = 1;
}

void jw_stringn(jw *w, const char *s, size_t len) {
    jw_sep(w);
    jw_escaped(w, s, len);
    jw_value_done(w);
}

void jw_string(jw *w, const char *s) {
    jw_stringn(w, s, strlen(s));
}

void jw_int(jw *w, int64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
    jw_value_done(w);
}

void jw_uint(jw *w, uint64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
    jw_value_done(w);
}

void jw_uint_string(jw *w, uint64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "\"%" PRIu64 "\"", v);
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
    jw_value_done(w);
}

void jw_double(jw *w, double v) {
    char tmp[40];
    int n;
    if (isnan(v)) {
        n = snprintf(tmp, sizeof(tmp), "\"NaN\"");
    } else if (isinf(v)) {
        n = snprintf(tmp, sizeof(tmp), v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
        n = snprintf(tmp, sizeof(tmp), "%.17g", v);
        /* Keep it visibly a double: "2" becomes "2.0". */
        if (strspn(tmp, "-0123456789") == (size_t)n && n < (int)sizeof(tmp) - 2) {
            tmp[n++] = '.';
            tmp[n++] = '0';
            tmp[n] = '\0';
        }
    }
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
    jw_value_done(w);
}

void jw_bool(jw *w, int v) {
    jw_sep(w);
    if (v)
        jw_put(w, "true", 4);
    else
        jw_put(w, "false", 5);
    jw_value_done(w);
}

void jw_null(jw *w) {
    jw_sep(w);
    jw_put(w, "null", 4);
    jw_value_done(w);
}

void jw_hex(jw *w, const uint8_t *bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    jw_sep(w);
    jw_put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 0xF]};
        jw_put(w, pair, 2);
    }
    jw_put(w, "\"", 1);
    jw_value_done(w);
}

void jw_base64(jw *w, const uint8_t *bytes, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    jw_sep(w);
    jw_put(w, "\"", 1);
    size_t i = 0;
    while (i + 3 <= n) {
        uint32_t v = ((uint32_t)bytes[i] << 16) | ((uint32_t)bytes[i + 1] << 8) | bytes[i + 2];
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
        jw_put(w, q, 4);
        i += 3;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
        jw_put(w, q, 4);
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)bytes[i] << 16) | ((uint32_t)bytes[i + 1] << 8);
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
        jw_put(w, q, 4);
    }
    jw_put(w, "\"", 1);
    jw_value_done(w);
}

void jw_raw(jw *w, const char *json, size_t len) {
    jw_sep(w);
    jw_put(w, json, len);
    jw_value_done(w);
}
