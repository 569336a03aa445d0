/* apiparam.h - strict parsers for /api/v1 query parameters.
 *
 * Pure functions over NUL-terminated strings, no I/O and no allocation, so
 * they can be unit-tested against hostile input. Every parser rejects
 * leading/trailing spaces, signs where none make sense, and values that do
 * not fit; nothing is clamped silently. On failure *out is left unchanged.
 * Slices returned by apiparam_attr_parse() borrow from the input string.
 */
#ifndef LOUPE_APIPARAM_H
#define LOUPE_APIPARAM_H

#include <stddef.h>
#include <stdint.h>

#define APIPARAM_OK 0
#define APIPARAM_EINVAL -1 /* not in the expected syntax */
#define APIPARAM_ERANGE -2 /* well-formed but out of range (overflow, before 1970, ...) */

/* Unsigned decimal integer (digits only, no sign, no spaces) in min..max. */
int apiparam_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* An absolute time as unix nanoseconds: either decimal digits (unix ns) or
 * RFC 3339 ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789+02:00";
 * 't', 'z' and a space in place of 'T' are accepted). Fractions beyond
 * nanoseconds are truncated. Times before 1970 or past 2554 (beyond uint64
 * nanoseconds) are APIPARAM_ERANGE. A leap second (:60) is accepted. */
int apiparam_time(const char *s, uint64_t *out_ns);

/* A duration in nanoseconds: bare decimal digits are nanoseconds ("1500");
 * otherwise one or more number+unit terms, Go style ("250ms", "1.5s",
 * "1h30m", "2us", "100ns"). Units: ns, us, µs, ms, s, m, h. Fractions are
 * truncated to whole nanoseconds. No sign. */
int apiparam_duration(const char *s, uint64_t *out_ns);

/* Exactly 2*n hex digits (either case) into n bytes. */
int apiparam_hex_id(const char *s, uint8_t *out, size_t n);

/* An OTLP severity number: a name (trace, debug, info, warn/warning, error,
 * fatal; any case) gives the first number of its range (1, 5, 9, 13, 17,
 * 21), or a decimal number 0..24. */
int apiparam_severity(const char *s, int *out);

typedef enum apiparam_attr_op {
    APIPARAM_ATTR_EQ = 0,   /* key=value */
    APIPARAM_ATTR_NE,       /* key!=value */
    APIPARAM_ATTR_CONTAINS, /* key~substring */
    APIPARAM_ATTR_GT,       /* key>number */
    APIPARAM_ATTR_LT,       /* key<number */
} apiparam_attr_op;

#define APIPARAM_ATTR_KEY_MAX 256
#define APIPARAM_ATTR_VALUE_MAX 4096

typedef struct apiparam_attr {
    const char *key; /* borrowed slice of the input, not NUL-terminated */
    size_t key_len;
    apiparam_attr_op op;
    const char *value; /* borrowed slice (after the operator) */
    size_t value_len;
    double number; /* the value for GT and LT; 0 otherwise */
} apiparam_attr;

/* An attribute filter expression. The key is everything before the first
 * operator character (= ! ~ < >), 1..APIPARAM_ATTR_KEY_MAX bytes; a '!'
 * must be followed by '='. The value may be empty for = and != (matches an
 * empty string), must be non-empty for ~, and must be a finite decimal
 * number for > and < ("-1.5e3"; no hex, inf or nan). Key and value must be
 * valid UTF-8 without control characters. */
int apiparam_attr_parse(const char *s, apiparam_attr *out);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF), else 0. */
int apiparam_utf8_valid(const char *s, size_t len);

/* A free text parameter (service name, cursor): 1..max_len bytes of valid
 * UTF-8 without control characters (U+0000..U+001F, U+007F). Returns
 * APIPARAM_OK, APIPARAM_EINVAL (empty, control or invalid UTF-8) or
 * APIPARAM_ERANGE (too long). */
int apiparam_text(const char *s, size_t max_len);

/* Text for an APIPARAM_* code. */
const char *apiparam_strerror(int code);

#endif
