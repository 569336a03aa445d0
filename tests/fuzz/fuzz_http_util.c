/* fuzz_http_util.c - libFuzzer target for the HTTP header helpers (http_util.h).
 *
 * Input: up to four header values separated by '\n' (a, b, c, d; missing
 * ones are absent, i.e. NULL). Each value is a NUL-terminated copy in a
 * buffer of exactly its size, so a read past its end is caught. Every
 * helper runs on them and is checked against a reference written from the
 * header's contract:
 *  - media_type_is(a, ...), content_coding(a), bearer_token(a);
 *  - cors_origin_allowed(list a, origin b);
 *  - cors_allow_headers(base, extra, requested a): the base names first,
 *    then exactly the requested names that are allowed extras, lowercase,
 *    once each; under a small cap it fails cleanly;
 *  - secret_equal(a, b) is plain equality;
 *  - api_key_ok(keys {c, d}, x-otlp-api-key a, authorization b), and
 *    api_key_match on each value alone (as the gRPC receiver calls it)
 *    agrees with it, also on a slice of the value that is not
 *    NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "server/net/http_util.h"
#include "model_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_space(char c) {
    return c == ' ' || c == '\t';
}

static int fz_lower(int c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) without surrounding spaces and tabs. */
static void fz_trim(const char **s, size_t *n) {
    while (*n > 0 && fz_space((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && fz_space((*s)[*n - 1]))
        (*n)--;
}

static int fz_eq_ci(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (fz_lower((unsigned char)a[i]) != fz_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int fz_ref_media(const char *ct, const char *type) {
    if (ct == NULL)
        return 0;
    size_t n = strcspn(ct, ";");
    fz_trim(&ct, &n);
    return fz_eq_ci(ct, n, type, strlen(type));
}

static http_util_coding fz_ref_coding(const char *ce) {
    if (ce == NULL)
        return HTTP_UTIL_CODING_IDENTITY;
    size_t n = strlen(ce);
    fz_trim(&ce, &n);
    if (n == 0 || fz_eq_ci(ce, n, "identity", 8))
        return HTTP_UTIL_CODING_IDENTITY;
    if (fz_eq_ci(ce, n, "gzip", 4) || fz_eq_ci(ce, n, "x-gzip", 6))
        return HTTP_UTIL_CODING_GZIP;
    return HTTP_UTIL_CODING_OTHER;
}

/* One allow-list entry (trimmed, non-empty) against a trimmed origin. */
static int fz_ref_entry(const char *e, size_t en, const char *o, size_t on) {
    size_t stars = 0, at = 0;
    for (size_t i = 0; i < en; i++)
        if (e[i] == '*') {
            stars++;
            at = i;
        }
    if (en == 1 && stars == 1)
        return 1;
    if (stars == 0)
        return fz_eq_ci(e, en, o, on);
    if (stars > 1)
        return 0;
    size_t pre = at, suf = en - at - 1;
    if (on < pre + suf + 1)
        return 0;
    if (!fz_eq_ci(e, pre, o, pre) || !fz_eq_ci(e + at + 1, suf, o + on - suf, suf))
        return 0;
    return memchr(o + pre, '/', on - pre - suf) == NULL;
}

static int fz_ref_origin(const char *list, const char *origin) {
    if (list == NULL || origin == NULL)
        return 0;
    size_t on = strlen(origin);
    fz_trim(&origin, &on);
    if (on == 0)
        return 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t en = n;
        fz_trim(&e, &en);
        if (en > 0 && fz_ref_entry(e, en, origin, on))
            return 1;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static int fz_in(const char *s, size_t n, const char *const *names) {
    for (size_t i = 0; names[i] != NULL; i++)
        if (fz_eq_ci(s, n, names[i], strlen(names[i])))
            return 1;
    return 0;
}

static void fz_check_allow_headers(const char *requested) {
    static const char *const base[] = {"content-type", "content-encoding", NULL};
    static const char *const extra[] = {"authorization", "x-otlp-api-key", "traceparent",
                                        "content-type", NULL};
    /* The expected list: base, then each allowed requested name once. */
    buf want;
    buf_init(&want, 1 << 20);
    for (size_t i = 0; base[i] != NULL; i++)
        MC_CHECK(buf_printf(&want, "%s%s", i ? ", " : "", base[i]) == BUF_OK);
    const char *seen[8];
    size_t nseen = 0;
    for (const char *p = requested; p != NULL;) {
        size_t n = strcspn(p, ",");
        const char *name = p;
        size_t nn = n;
        fz_trim(&name, &nn);
        if (nn > 0 && !fz_in(name, nn, base) && fz_in(name, nn, extra)) {
            int dup = 0;
            for (size_t k = 0; k < nseen; k++)
                dup |= fz_eq_ci(seen[k], strlen(seen[k]), name, nn);
            for (size_t k = 0; !dup && extra[k] != NULL; k++) {
                if (fz_eq_ci(extra[k], strlen(extra[k]), name, nn)) {
                    MC_CHECK(nseen < 8);
                    seen[nseen++] = extra[k];
                    MC_CHECK(buf_printf(&want, ", %s", extra[k]) == BUF_OK);
                }
            }
        }
        p = p[n] == '\0' ? NULL : p + n + 1;
    }

    buf got;
    buf_init(&got, 1 << 20);
    MC_CHECK(http_util_cors_allow_headers(base, extra, requested, &got) == BUF_OK);
    MC_CHECK(got.len == want.len && memcmp(got.ptr, want.ptr, want.len) == 0);
    buf_free(&got);

    /* Too small a buf: an error, never past the cap. */
    buf small;
    buf_init(&small, want.len / 2);
    int rc = http_util_cors_allow_headers(base, extra, requested, &small);
    MC_CHECK(rc == BUF_ETOOBIG && small.len <= small.max);
    buf_free(&small);
    buf_free(&want);
}

static void fz_check_bearer(const char *auth) {
    const char *tok = (const char *)&tok;
    size_t len = 12345;
    int got = http_util_bearer_token(auth, &tok, &len);
    int want = 0;
    const char *wt = NULL;
    size_t wl = 0;
    if (auth != NULL) {
        const char *s = auth;
        size_t n = strlen(s);
        fz_trim(&s, &n);
        if (n >= 7 && fz_eq_ci(s, 6, "bearer", 6) && fz_space(s[6])) {
            wt = s + 7;
            wl = n - 7;
            fz_trim(&wt, &wl);
            want = wl > 0;
        }
    }
    MC_CHECK(got == want);
    if (want)
        MC_CHECK(tok == wt && len == wl);
    else
        MC_CHECK(tok == (const char *)&tok && len == 12345);
}

static int fz_ref_key_ok(const char *const *keys, size_t nkeys, const char *hdr,
                         const char *auth) {
    const char *bt = NULL;
    size_t bl = 0;
    int has_bearer = http_util_bearer_token(auth, &bt, &bl);
    const char *h = hdr;
    size_t hl = hdr ? strlen(hdr) : 0;
    if (h != NULL)
        fz_trim(&h, &hl);
    int configured = 0;
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i] == NULL || keys[i][0] == '\0')
            continue;
        configured = 1;
        size_t kl = strlen(keys[i]);
        if (h != NULL && hl > 0 && hl == kl && memcmp(h, keys[i], kl) == 0)
            return 1;
        if (has_bearer && bl == kl && memcmp(bt, keys[i], kl) == 0)
            return 1;
    }
    return !configured;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *f[4] = {NULL, NULL, NULL, NULL};
    size_t flen[4] = {0, 0, 0, 0};
    size_t pos = 0;
    for (int i = 0; i < 4 && pos <= size; i++) {
        const uint8_t *nl = i < 3 ? memchr(data + pos, '\n', size - pos) : NULL;
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        /* Up to an embedded NUL, as a C string header value would be. */
        size_t n = strnlen((const char *)data + pos, end - pos);
        f[i] = malloc(n + 1);
        MC_CHECK(f[i] != NULL);
        memcpy(f[i], data + pos, n);
        f[i][n] = '\0';
        flen[i] = n;
        if (nl == NULL)
            break;
        pos = end + 1;
    }
    const char *a = f[0], *b = f[1], *c = f[2], *d = f[3];

    MC_CHECK(http_util_media_type_is(a, "application/json") ==
             fz_ref_media(a, "application/json"));
    MC_CHECK(http_util_media_type_is(a, "application/x-protobuf") ==
             fz_ref_media(a, "application/x-protobuf"));
    MC_CHECK(http_util_media_type_is(NULL, "application/json") == 0);
    MC_CHECK(http_util_content_coding(a) == fz_ref_coding(a));
    MC_CHECK(http_util_content_coding(NULL) == HTTP_UTIL_CODING_IDENTITY);
    MC_CHECK(http_util_cors_origin_allowed(a, b) == fz_ref_origin(a, b));
    fz_check_allow_headers(a);
    fz_check_allow_headers(NULL);
    fz_check_bearer(a);
    fz_check_bearer(b);
    if (b != NULL) {
        int eq = flen[0] == flen[1] && memcmp(a, b, flen[0]) == 0;
        MC_CHECK(http_util_secret_equal(a, flen[0], b, flen[1]) == eq);
        MC_CHECK(http_util_secret_equal(b, flen[1], a, flen[0]) == eq);
    }
    const char *keys[3] = {c, d, "fixed-key"};
    for (size_t nkeys = 0; nkeys <= 3; nkeys++) {
        int ok = http_util_api_key_ok(keys, nkeys, a, b);
        MC_CHECK(ok == fz_ref_key_ok(keys, nkeys, a, b));
        int by_header = http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_HEADER, a, flen[0]);
        int by_auth = b != NULL && http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_AUTHORIZATION,
                                                           b, flen[1]);
        MC_CHECK(ok == (fz_ref_key_ok(keys, nkeys, NULL, NULL) | by_header | by_auth));
        if (flen[0] > 0) {
            /* The first n-1 bytes of a, as a slice, judge as that prefix. */
            char *prefix = malloc(flen[0]);
            MC_CHECK(prefix != NULL);
            memcpy(prefix, a, flen[0] - 1);
            prefix[flen[0] - 1] = '\0';
            MC_CHECK(http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_AUTHORIZATION, a,
                                             flen[0] - 1) ==
                     http_util_api_key_match(keys, nkeys, HTTP_UTIL_KEY_AUTHORIZATION, prefix,
                                             flen[0] - 1));
            free(prefix);
        }
    }
    for (int i = 0; i < 4; i++)
        free(f[i]);
    return 0;
}
