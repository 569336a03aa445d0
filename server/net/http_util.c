/* http_util.c - pure helpers for HTTP header values, see http_util.h. */
#include "http_util.h"

#include <string.h>

static int http_util_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int http_util_is_space(int c) {
    return c == ' ' || c == '\t';
}

/* Trims spaces and tabs around s[0..len); returns the new start and length. */
static const char *http_util_trim(const char *s, size_t *len) {
    size_t n = *len;
    while (n > 0 && http_util_is_space((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && http_util_is_space((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* Case-insensitive equality of a[0..n) and b[0..n). */
static int http_util_mem_eq_ci(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (http_util_lower((unsigned char)a[i]) != http_util_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* Case-insensitive equality of s[0..len) and the NUL-terminated lit. */
static int http_util_eq_ci(const char *s, size_t len, const char *lit) {
    return strlen(lit) == len && http_util_mem_eq_ci(s, lit, len);
}

int http_util_media_type_is(const char *content_type, const char *type) {
    if (content_type == NULL || type == NULL)
        return 0;
    const char *semi = strchr(content_type, ';');
    size_t len = semi ? (size_t)(semi - content_type) : strlen(content_type);
    const char *s = http_util_trim(content_type, &len);
    return http_util_eq_ci(s, len, type);
}

http_util_coding http_util_content_coding(const char *content_encoding) {
    if (content_encoding == NULL)
        return HTTP_UTIL_CODING_IDENTITY;
    size_t len = strlen(content_encoding);
    const char *s = http_util_trim(content_encoding, &len);
    if (len == 0 || http_util_eq_ci(s, len, "identity"))
        return HTTP_UTIL_CODING_IDENTITY;
    if (http_util_eq_ci(s, len, "gzip") || http_util_eq_ci(s, len, "x-gzip"))
        return HTTP_UTIL_CODING_GZIP;
    return HTTP_UTIL_CODING_OTHER;
}

/* Matches one trimmed, non-empty allow-list entry against the origin. */
static int http_util_origin_entry_match(const char *e, size_t elen, const char *origin,
                                        size_t olen) {
    if (elen == 1 && e[0] == '*')
        return 1;
    const char *star = memchr(e, '*', elen);
    if (star == NULL)
        return elen == olen && http_util_mem_eq_ci(e, origin, olen);
    size_t pre = (size_t)(star - e);
    size_t suf = elen - pre - 1;
    if (memchr(star + 1, '*', suf) != NULL)
        return 0; /* more than one '*': not a pattern we support */
    if (olen < pre + suf + 1)
        return 0; /* the '*' must stand for at least one character */
    if (!http_util_mem_eq_ci(origin, e, pre) ||
        !http_util_mem_eq_ci(origin + olen - suf, star + 1, suf))
        return 0;
    for (size_t i = pre; i < olen - suf; i++) {
        if (origin[i] == '/')
            return 0;
    }
    return 1;
}

int http_util_cors_origin_allowed(const char *list, const char *origin) {
    if (list == NULL || origin == NULL)
        return 0;
    size_t olen = strlen(origin);
    origin = http_util_trim(origin, &olen);
    if (olen == 0)
        return 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *e = http_util_trim(p, &len);
        if (len > 0 && http_util_origin_entry_match(e, len, origin, olen))
            return 1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* 1 when the header name s[0..len) is one of names (NULL-terminated). */
static int http_util_name_in(const char *s, size_t len, const char *const *names) {
    for (size_t i = 0; names && names[i]; i++) {
        if (http_util_eq_ci(s, len, names[i]))
            return 1;
    }
    return 0;
}

/* Appends ", name" (or "name" first) in lowercase. */
static int http_util_append_name(buf *out, const char *s, size_t len) {
    int rc = BUF_OK;
    if (out->len > 0)
        rc = buf_append(out, ", ", 2);
    for (size_t i = 0; rc == BUF_OK && i < len; i++)
        rc = buf_append_char(out, (char)http_util_lower((unsigned char)s[i]));
    return rc;
}

int http_util_cors_allow_headers(const char *const *base, const char *const *extra,
                                 const char *requested, buf *out) {
    size_t start = out->len;
    int rc = BUF_OK;
    for (size_t i = 0; base && base[i] && rc == BUF_OK; i++)
        rc = http_util_append_name(out, base[i], strlen(base[i]));
    if (rc != BUF_OK || requested == NULL)
        return rc;
    const char *p = requested;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *name = http_util_trim(p, &len);
        if (len > 0 && !http_util_name_in(name, len, base) && http_util_name_in(name, len, extra)) {
            /* Skip names the list already holds (a client may repeat one). */
            int seen = 0;
            const char *q = out->ptr + start;
            const char *end = out->ptr + out->len;
            while (q < end) {
                const char *sep = memchr(q, ',', (size_t)(end - q));
                size_t n = sep ? (size_t)(sep - q) : (size_t)(end - q);
                const char *item = http_util_trim(q, &n);
                if (http_util_mem_eq_ci(item, name, n) && n == len) {
                    seen = 1;
                    break;
                }
                if (sep == NULL)
                    break;
                q = sep + 1;
            }
            if (!seen) {
                rc = http_util_append_name(out, name, len);
                if (rc != BUF_OK)
                    return rc;
            }
        }
        if (comma == NULL)
            return BUF_OK;
        p = comma + 1;
    }
}

int http_util_secret_equal(const char *a, size_t alen, const char *b, size_t blen) {
    /* Walk the secret's full length whatever a holds; a shorter a is read
     * modulo its length (or as zeros when empty) so no byte past it is read. */
    unsigned diff = (unsigned)(alen != blen);
    for (size_t i = 0; i < blen; i++) {
        unsigned char ca = alen ? (unsigned char)a[i % alen] : 0;
        diff |= (unsigned)(ca ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

/* The token of a bearer value s[0..n), see http_util_bearer_token(). */
static int http_util_bearer_slice(const char *s, size_t n, const char **tok, size_t *len) {
    s = http_util_trim(s, &n);
    if (n < 7 || !http_util_mem_eq_ci(s, "bearer", 6) || !http_util_is_space((unsigned char)s[6]))
        return 0;
    size_t tlen = n - 7;
    const char *t = http_util_trim(s + 7, &tlen);
    if (tlen == 0)
        return 0;
    *tok = t;
    *len = tlen;
    return 1;
}

int http_util_bearer_token(const char *authorization, const char **tok, size_t *len) {
    if (authorization == NULL)
        return 0;
    return http_util_bearer_slice(authorization, strlen(authorization), tok, len);
}

int http_util_api_key_match(const char *const *keys, size_t nkeys, http_util_key_source src,
                            const char *v, size_t vlen) {
    if (v == NULL)
        return 0;
    const char *presented = NULL;
    size_t plen = 0;
    if (src == HTTP_UTIL_KEY_AUTHORIZATION) {
        if (!http_util_bearer_slice(v, vlen, &presented, &plen))
            return 0;
    } else {
        plen = vlen;
        presented = http_util_trim(v, &plen);
        if (plen == 0)
            return 0;
    }
    int ok = 0;
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i] != NULL && keys[i][0] != '\0')
            ok |= http_util_secret_equal(presented, plen, keys[i], strlen(keys[i]));
    }
    return ok;
}

int http_util_api_key_ok(const char *const *keys, size_t nkeys, const char *api_key_header,
                         const char *authorization) {
    int configured = 0;
    for (size_t i = 0; i < nkeys; i++)
        configured |= keys[i] != NULL && keys[i][0] != '\0';
    if (!configured)
        return 1;
    /* Both forms are checked against every key so the time taken does not
     * reveal which one matched. */
    int by_header = http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_HEADER, api_key_header,
                                            api_key_header ? strlen(api_key_header) : 0);
    int by_bearer = http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_AUTHORIZATION,
                                            authorization,
                                            authorization ? strlen(authorization) : 0);
    return by_header | by_bearer;
}
