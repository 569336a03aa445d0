/* jw.h - a small streaming JSON writer over a buf.
 *
 * The writer tracks whether a comma is due, so callers write keys and values
 * in order without bookkeeping. Strings are escaped for JSON and also made
 * safe to embed in HTML (<, >, & and the line separators are escaped), and
 * invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON.
 * Errors are sticky: after the first failed append every call is a no-op and
 * jw_error() reports the buf error code.
 */
#ifndef LOUPE_JW_H
#define LOUPE_JW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JW_MAX_DEPTH 64

typedef struct jw {
    buf *out; /* borrowed */
    int err;  /* first BUF_* error, 0 when none */
    int depth;
    unsigned char need_comma[JW_MAX_DEPTH + 1];
} jw;

void jw_init(jw *w, buf *out);
int jw_error(const jw *w);

void jw_object_begin(jw *w);
void jw_object_end(jw *w);
void jw_array_begin(jw *w);
void jw_array_end(jw *w);

/* Writes an object key; the next call writes its value. */
void jw_key(jw *w, const char *key);
void jw_keyn(jw *w, const char *key, size_t len);

void jw_string(jw *w, const char *s);
void jw_stringn(jw *w, const char *s, size_t len);
void jw_int(jw *w, int64_t v);
void jw_uint(jw *w, uint64_t v);
/* An unsigned integer as a decimal string ("startTimeUnixNano" style). */
void jw_uint_string(jw *w, uint64_t v);
/* A double; NaN and infinities become the strings "NaN", "Infinity",
 * "-Infinity" (as OTLP JSON does). Integral values keep a ".0". */
void jw_double(jw *w, double v);
void jw_bool(jw *w, int v);
void jw_null(jw *w);
/* Lowercase hex of n bytes as a string. */
void jw_hex(jw *w, const uint8_t *bytes, size_t n);
/* Base64 (standard alphabet, padded) of n bytes as a string. */
void jw_base64(jw *w, const uint8_t *bytes, size_t n);
/* Appends already-encoded JSON text as one value (trusted input only). */
void jw_raw(jw *w, const char *json, size_t len);

#endif
