/* textfmt.h - short text forms for people and models: durations, UTC
 * times, clipped strings and percent-encoding. Shared by the MCP tools and
 * the command line; pure, no allocation beyond a caller's buf. */
#ifndef LOUPE_TEXTFMT_H
#define LOUPE_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A duration in nanoseconds, short: "850ns", "12.3us", "4.56ms", "1.23s",
 * "2m03s", "1h02m". */
void textfmt_duration(uint64_t ns, char *out, size_t outlen);

/* Unix nanoseconds as RFC 3339 UTC with milliseconds
 * ("2024-05-01T12:00:00.123Z"). */
void textfmt_time_utc(uint64_t ns, char *out, size_t outlen);

/* A decimal string of unix nanoseconds (as the API writes times) to a
 * number; 0 when s is NULL, empty, not all digits or too large. */
uint64_t textfmt_parse_ns(const char *s);

/* Copies at most max bytes of s (NULL reads as "") into out without
 * splitting a UTF-8 sequence; control characters become spaces; "..."
 * marks a cut. max is lowered to fit outlen (which needs max + 4). */
void textfmt_clip(const char *s, size_t max, char *out, size_t outlen);

/* Appends sep (unless out is empty) and the printf-formatted text to the
 * NUL-terminated string in out (outlen bytes). Text that does not fit
 * whole is left out. Returns 1 when appended, 0 when not. */
int textfmt_append(char *out, size_t outlen, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends s percent-encoded (all but A-Z a-z 0-9 - . _ ~) to out, for a
 * URL path segment or query value. Returns BUF_OK or the first buf error. */
int textfmt_url_encode(const char *s, buf *out);

/* Decodes %XX in place, and '+' as a space when plus is set (a query's
 * keys and values), as libmicrohttpd decodes a request's path and
 * arguments; a '%' without two hex digits stays. Returns the decoded
 * length (the result may hold NULs from %00). */
size_t textfmt_url_decode(char *s, int plus);

#endif
