/* conn_sniff.c - which protocol a connection speaks, from its first bytes;
 * see conn_sniff.h. */
#include "conn_sniff.h"

#include <string.h>

/* RFC 9113 section 3.4. The method "PRI" is reserved so that an HTTP/1
 * server reading the preface sees a request no HTTP/1 client sends. */
static const char conn_sniff_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define CONN_SNIFF_PREFACE_DECIDES 4 /* "PRI " */

/* The longest method token taken for an HTTP/1.x request line (the longest
 * registered method, UPDATEREDIRECTREF, has 17 characters). */
#define CONN_SNIFF_METHOD_MAX 20

_Static_assert(CONN_SNIFF_PREFACE_DECIDES <= CONN_SNIFF_MAX, "the preface decides");
_Static_assert(CONN_SNIFF_METHOD_MAX + 1 <= CONN_SNIFF_MAX, "a method line decides");

/* RFC 9110 section 5.6.2: tchar. */
static int conn_sniff_tchar(uint8_t c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* HTTP/1.x: 1 to CONN_SNIFF_METHOD_MAX token characters, then a space. */
static conn_sniff_kind conn_sniff_http1(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ')
            return i > 0 ? CONN_SNIFF_HTTP1 : CONN_SNIFF_OTHER;
        if (!conn_sniff_tchar(p[i]) || i == CONN_SNIFF_METHOD_MAX)
            return CONN_SNIFF_OTHER;
    }
    return CONN_SNIFF_MORE;
}

conn_sniff_kind conn_sniff(const uint8_t *p, size_t n) {
    if (n == 0)
        return CONN_SNIFF_MORE;
    /* Decided by "PRI " alone, so that a preface arriving in pieces goes to
     * HTTP/2 early (nghttp2 checks the rest of it). */
    size_t cmp = n < CONN_SNIFF_PREFACE_DECIDES ? n : CONN_SNIFF_PREFACE_DECIDES;
    if (memcmp(p, conn_sniff_preface, cmp) == 0)
        return cmp == CONN_SNIFF_PREFACE_DECIDES ? CONN_SNIFF_H2 : CONN_SNIFF_MORE;
    if (p[0] == 0x16) /* TLS record type handshake; version major 3 */
        return n < 2 ? CONN_SNIFF_MORE : p[1] == 0x03 ? CONN_SNIFF_TLS : CONN_SNIFF_OTHER;
    return conn_sniff_http1(p, n);
}

const char *conn_sniff_name(conn_sniff_kind k) {
    switch (k) {
    case CONN_SNIFF_MORE:
        return "more";
    case CONN_SNIFF_H2:
        return "h2";
    case CONN_SNIFF_HTTP1:
        return "http1";
    case CONN_SNIFF_TLS:
        return "tls";
    case CONN_SNIFF_OTHER:
        break;
    }
    return "other";
}
