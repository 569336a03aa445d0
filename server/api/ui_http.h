/* ui_http.h - pure HTTP header helpers for the UI server (no I/O, testable).
 *
 * Content negotiation and caching decisions for the embedded assets: whether
 * a client accepts gzip, whether an If-None-Match list matches an ETag,
 * which file names carry a content hash and therefore never change.
 */
#ifndef LOUPE_UI_HTTP_H
#define LOUPE_UI_HTTP_H

#include <stddef.h>

/* 1 when an Accept-Encoding value allows gzip: "gzip" (or "x-gzip") with a
 * non-zero q, or "*" with a non-zero q and gzip not refused explicitly. A
 * malformed q counts as 0 (identity is always safe). NULL gives 0. */
int ui_http_accepts_gzip(const char *accept_encoding);

/* 1 when an Accept header names text/html with a q above 0 (a browser
 * navigating), 0 otherwise (NULL, curl's star-slash-star, a Prometheus
 * scraper). Used where a UI page and a machine endpoint share a path. */
int ui_http_wants_html(const char *accept);

/* 1 when an If-None-Match value ("*" or a comma-separated list of entity
 * tags, weak or strong) matches etag (a quoted strong tag) by the weak
 * comparison RFC 9110 prescribes for If-None-Match. NULL gives 0. */
int ui_http_etag_matches(const char *if_none_match, const char *etag);

/* 1 when the last path segment contains a dot-separated segment of 8 or
 * more hex digits that is not the extension ("app.3f2a9c1b.js"). */
int ui_http_is_hashed_name(const char *path);

/* 1 when the last path segment contains a '.', i.e. names a file rather than
 * a client-side route. */
int ui_http_has_extension(const char *path);

/* Writes etag with suffix inside the quotes ("abc" + "-gz" -> "abc-gz") to
 * out. Returns 0, or -1 when etag is not a quoted tag or out is too small. */
int ui_http_etag_variant(const char *etag, const char *suffix, char *out, size_t outlen);

#endif
