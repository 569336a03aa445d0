/* http_util.h - small pure helpers for HTTP header values.
 *
 * Media types, content codings, CORS origin and header lists, credentials
 * (the one bearer parser and the one constant-time secret comparison, and
 * the API-key checks built on them). No I/O and no allocation beyond a
 * caller's buf, so the OTLP/HTTP receiver, the gRPC receiver and the UI
 * server share them and they can be unit-tested alone. Header values are
 * borrowed NUL-terminated strings, except where a length is passed (a
 * slice); NULL is accepted everywhere a header may be absent.
 */
#ifndef LOUPE_HTTP_UTIL_H
#define LOUPE_HTTP_UTIL_H

#include <stddef.h>

#include "util/buf.h"

/* 1 when the media type of a Content-Type value (parameters such as
 * "; charset=utf-8" ignored, surrounding spaces ignored, case-insensitive)
 * equals `type` (lowercase "type/subtype"); 0 otherwise or when NULL. */
int http_util_media_type_is(const char *content_type, const char *type);

typedef enum http_util_coding {
    HTTP_UTIL_CODING_IDENTITY = 0, /* absent, empty or "identity" */
    HTTP_UTIL_CODING_GZIP = 1,     /* "gzip" or "x-gzip" */
    HTTP_UTIL_CODING_OTHER = 2,    /* anything else, including lists of codings */
} http_util_coding;

/* Classifies a Content-Encoding value (case-insensitive, spaces trimmed). A
 * list such as "gzip, gzip" is OTHER: the receiver supports one coding. */
http_util_coding http_util_content_coding(const char *content_encoding);

/* 1 when `origin` is allowed by the comma-separated allow-list `list`.
 * Entries: "*" (any origin), an exact origin ("https://app.example.com",
 * compared case-insensitively), or a pattern with one star standing for a
 * non-empty run of characters without '/' ("https://" STAR ".example.com"
 * matches any subdomain). A NULL or empty list or origin never matches. */
int http_util_cors_origin_allowed(const char *list, const char *origin);

/* Appends to out the comma-separated header names that a CORS preflight
 * may allow: every name of `base` (NULL-terminated array), then each name
 * of the Access-Control-Request-Headers value `requested` (may be NULL)
 * that appears in `extra` (NULL-terminated, lowercase) and is not yet
 * listed. Names are compared case-insensitively and written lowercase.
 * Returns BUF_OK or a BUF_* error. */
int http_util_cors_allow_headers(const char *const *base, const char *const *extra,
                                 const char *requested, buf *out);

/* Constant-time comparison: 1 when a[0..alen) equals b[0..blen). The time
 * depends only on blen (the secret's length) and not on where they differ.
 * The one secret comparison of loupe: API keys on both receivers and the UI
 * port's token and session cookie go through it. */
int http_util_secret_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Finds the token of an "Authorization: Bearer TOKEN" value: the scheme is
 * case-insensitive, one or more spaces or tabs follow it, and spaces and
 * tabs around the value and the token are trimmed. Returns 1 and sets *tok
 * and *len (a slice of the value), or 0 when the value is NULL or not a
 * bearer token. The one bearer parser of loupe (both receivers, the UI). */
int http_util_bearer_token(const char *authorization, const char **tok, size_t *len);

/* Where a request presents an API key. */
typedef enum http_util_key_source {
    HTTP_UTIL_KEY_HEADER = 0,        /* an x-otlp-api-key value (spaces and tabs around it trimmed) */
    HTTP_UTIL_KEY_AUTHORIZATION = 1, /* an Authorization value, "Bearer KEY" */
} http_util_key_source;

/* 1 when the header value v[0..vlen) (borrowed; need not be NUL-terminated;
 * NULL = absent) presents one of keys[0..nkeys), read as `src` says. NULL or
 * empty keys are skipped; the value is compared with every key in constant
 * time, so the time taken does not tell which key matched. 0 when no key is
 * configured. For transports that see header values one at a time (gRPC);
 * http_util_api_key_ok() is the whole-request check built on it. */
int http_util_api_key_match(const char *const *keys, size_t nkeys, http_util_key_source src,
                            const char *v, size_t vlen);

/* 1 when the request carries one of the accepted keys, either as
 * `x-otlp-api-key` (api_key_header) or as a bearer token (authorization),
 * both NUL-terminated or NULL. keys[0..nkeys) may hold NULL or empty
 * entries, which are skipped; when no key is configured every request is
 * accepted. Both headers are always checked. */
int http_util_api_key_ok(const char *const *keys, size_t nkeys, const char *api_key_header,
                         const char *authorization);

#endif
