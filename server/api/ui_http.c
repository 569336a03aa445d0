/* ui_http.c - HTTP header helpers for the UI server, see ui_http.h. */
#include "ui_http.h"

#include <string.h>
#include <strings.h>

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* Parses a qvalue ("1", "1.000", "0", "0.5", "0.001") at s[0..len).
 * Returns thousandths 0..1000, or -1 when malformed. */
static int parse_qvalue(const char *s, size_t len) {
    if (len == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int v = (s[0] - '0') * 1000;
    if (len == 1)
        return v;
    if (s[1] != '.' || len > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * scale;
        scale /= 10;
    }
    return v > 1000 ? -1 : v;
}

/* Trims optional whitespace on both ends of s[*b..*e). */
static void trim(const char *s, size_t *b, size_t *e) {
    while (*b < *e && is_ows(s[*b]))
        (*b)++;
    while (*e > *b && is_ows(s[*e - 1]))
        (*e)--;
}

/* Walks a comma-separated list of "value;q=x" elements (Accept,
 * Accept-Encoding) for the highest q of an element equal to name or alt
 * (case-insensitive; alt may be NULL), and of "*" into *star_q. Returns that
 * q in thousandths, or -1 when no element names it. */
static int list_q(const char *list, const char *name, const char *alt, int *star_q) {
    int best = -1;
    *star_q = -1;
    size_t n = strlen(list), i = 0;
    size_t nlen = strlen(name), alen = alt ? strlen(alt) : 0;
    while (i <= n) {
        size_t end = i;
        while (end < n && list[end] != ',')
            end++;
        /* element list[i..end): value *( OWS ";" OWS param ) */
        size_t semi = i;
        while (semi < end && list[semi] != ';')
            semi++;
        size_t cb = i, ce = semi;
        trim(list, &cb, &ce);
        int q = 1000;
        size_t p = semi;
        while (p < end) {
            size_t pe = p + 1;
            while (pe < end && list[pe] != ';')
                pe++;
            size_t pb = p + 1, pz = pe;
            trim(list, &pb, &pz);
            if (pz - pb >= 2 && (list[pb] == 'q' || list[pb] == 'Q') && list[pb + 1] == '=') {
                q = parse_qvalue(list + pb + 2, pz - pb - 2);
                if (q < 0)
                    q = 0;
            }
            p = pe;
        }
        size_t clen = ce - cb;
        if ((clen == nlen && strncasecmp(list + cb, name, nlen) == 0) ||
            (alt != NULL && clen == alen && strncasecmp(list + cb, alt, alen) == 0)) {
            if (q > best)
                best = q;
        } else if (clen == 1 && list[cb] == '*') {
            *star_q = q;
        }
        i = end + 1;
    }
    return best;
}

int ui_http_accepts_gzip(const char *ae) {
    if (ae == NULL)
        return 0;
    int star_q;
    int gzip_q = list_q(ae, "gzip", "x-gzip", &star_q);
    if (gzip_q >= 0)
        return gzip_q > 0;
    return star_q > 0;
}

int ui_http_wants_html(const char *accept) {
    if (accept == NULL)
        return 0;
    int star_q;
    return list_q(accept, "text/html", NULL, &star_q) > 0;
}

int ui_http_etag_matches(const char *inm, const char *etag) {
    if (inm == NULL || etag == NULL)
        return 0;
    size_t elen = strlen(etag);
    if (elen < 2 || etag[0] != '"' || etag[elen - 1] != '"')
        return 0;
    const char *p = inm;
    while (is_ows(*p))
        p++;
    if (*p == '*') {
        const char *q = p + 1;
        while (is_ows(*q))
            q++;
        return *q == '\0';
    }
    for (;;) {
        while (is_ows(*p) || *p == ',')
            p++;
        if (*p == '\0')
            return 0;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return 0; /* malformed list: no match, the full answer is safe */
        const char *close = strchr(p + 1, '"');
        if (close == NULL)
            return 0;
        size_t tlen = (size_t)(close - p) + 1;
        if (tlen == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = close + 1;
        while (is_ows(*p))
            p++;
        if (*p != ',' && *p != '\0')
            return 0;
    }
}

static const char *last_segment(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int ui_http_is_hashed_name(const char *path) {
    if (path == NULL)
        return 0;
    const char *seg = last_segment(path);
    for (;;) {
        const char *dot = strchr(seg, '.');
        if (dot == NULL)
            return 0; /* seg is the extension (or there is none) */
        size_t len = (size_t)(dot - seg);
        if (len >= 8) {
            size_t i = 0;
            while (i < len && is_hex(seg[i]))
                i++;
            if (i == len)
                return 1;
        }
        seg = dot + 1;
    }
}

int ui_http_has_extension(const char *path) {
    if (path == NULL)
        return 0;
    return strchr(last_segment(path), '.') != NULL;
}

int ui_http_etag_variant(const char *etag, const char *suffix, char *out, size_t outlen) {
    if (etag == NULL || suffix == NULL || out == NULL)
        return -1;
    size_t elen = strlen(etag), slen = strlen(suffix);
    if (elen < 2 || etag[0] != '"' || etag[elen - 1] != '"')
        return -1;
    if (elen + slen + 1 > outlen)
        return -1;
    memcpy(out, etag, elen - 1);
    memcpy(out + elen - 1, suffix, slen);
    out[elen - 1 + slen] = '"';
    out[elen + slen] = '\0';
    return 0;
}
