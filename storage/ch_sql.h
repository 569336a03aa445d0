/* ch_sql.h - the one way text reaches ClickHouse: SQL string literals and
 * TabSeparated fields, written and read.
 *
 * DESIGN
 * Every value that comes from a user (an API parameter) or from telemetry
 * (a span name, an attribute) and goes into a query is written with
 * ch_sql_quote(); every value of an INSERT's TabSeparated body is written
 * with ch_tsv_escape(). Both escape every byte that has a meaning to
 * ClickHouse's parsers (quote, backslash, tab, newline, every control
 * byte) as \xHH or a backslash escape, so any byte string, including
 * invalid UTF-8, goes in and comes back unchanged. Answers are read in
 * TabSeparated as well: ch_tsv_row() splits one line into fields and
 * undoes ClickHouse's escapes in place.
 *
 * The forms used are those that ClickHouse 18.16 (Debian 12) and current
 * releases both read: '\'' , '\\', '\xHH', '\t', '\n' in literals and TSV.
 */
#ifndef LOUPE_CH_SQL_H
#define LOUPE_CH_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Appends s[0..len) as a quoted SQL string literal ('...'). Returns a
 * BUF_* code. */
int ch_sql_quote(buf *out, const char *s, size_t len);

/* ch_sql_quote() of a NUL-terminated string. */
int ch_sql_quote_str(buf *out, const char *s);

/* Appends `unhex('...')` for n bytes (FixedString columns: trace and span
 * ids). Returns a BUF_* code. */
int ch_sql_bytes(buf *out, const uint8_t *bytes, size_t n);

/* Appends s[0..len) escaped as one TabSeparated field. Returns a BUF_* code. */
int ch_tsv_escape(buf *out, const char *s, size_t len);

/* Appends n bytes as a TabSeparated FixedString field (escaped raw bytes). */
int ch_tsv_bytes(buf *out, const uint8_t *bytes, size_t n);

/* One field of an answer's row: unescaped, NUL-terminated in place. */
typedef struct ch_field {
    char *ptr;
    size_t len;
} ch_field;

/* Splits the line at *p (up to end, where a NUL byte must follow: a buf's
 * data) into at most max fields, unescaping each
 * in place, and moves *p past its newline. Returns the number of fields, 0
 * at the end of the data, or -1 when the line has more than max fields.
 * `\N` (NULL) comes back as an empty field. */
int ch_tsv_row(char **p, char *end, ch_field *fields, size_t max);

/* A field as a number (0 when it is not one). */
uint64_t ch_field_u64(const ch_field *f);
int64_t ch_field_i64(const ch_field *f);
double ch_field_double(const ch_field *f);

#endif
