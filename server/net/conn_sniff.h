/* conn_sniff.h - which protocol a connection speaks, from its first bytes.
 *
 * A client that connects to an OTLP port starts with one of: the HTTP/2
 * client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", h2c with prior
 * knowledge: OTLP/gRPC), an HTTP/1.x request line ("POST /v1/traces
 * HTTP/1.1": OTLP/HTTP), or a TLS record (a client configured for https on a
 * plaintext port). conn_sniff() tells them apart from as few bytes as it
 * can, and never needs more than CONN_SNIFF_MAX: it is meant for bytes read
 * with MSG_PEEK, so that whoever serves the connection still reads them.
 *
 * Pure: no I/O, no allocation, no state.
 */
#ifndef LOUPE_CONN_SNIFF_H
#define LOUPE_CONN_SNIFF_H

#include <stddef.h>
#include <stdint.h>

/* No input of this length or more is ever answered CONN_SNIFF_MORE. */
#define CONN_SNIFF_MAX 24

typedef enum conn_sniff_kind {
    CONN_SNIFF_MORE = 0, /* the bytes so far fit more than one answer: wait for more */
    CONN_SNIFF_H2,       /* the start of the HTTP/2 client preface, "PRI " (RFC 9113 reserves
                          * the method PRI for it; nghttp2 checks the rest) */
    CONN_SNIFF_HTTP1,    /* an HTTP/1.x request line: a method token and a space */
    CONN_SNIFF_TLS,      /* a TLS handshake record (0x16 0x03): a ClientHello */
    CONN_SNIFF_OTHER,    /* none of these */
} conn_sniff_kind;

/* Classifies the first n bytes a client sent (n may be 0: CONN_SNIFF_MORE).
 * Once an answer other than CONN_SNIFF_MORE is given for some bytes, every
 * longer input that starts with them gets the same answer. */
conn_sniff_kind conn_sniff(const uint8_t *p, size_t n);

/* A short name for logs ("h2", "http1", "tls", "other", "more"). */
const char *conn_sniff_name(conn_sniff_kind k);

#endif
