/* ch_sql.c - SQL literals and TabSeparated fields for ClickHouse; see
 * ch_sql.h. */
#include "ch_sql.h"

#include <stdlib.h>
#include <string.h>

static const char ch_hex[] = "0123456789abcdef";

/* 1 when byte c is written as an escape (in literals and in TSV alike). */
static int ch_needs_escape(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '\\' || c == '\'';
}

/* Appends s[0..len) with every byte ch_needs_escape() names escaped. */
static int ch_escape(buf *out, const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && !ch_needs_escape((unsigned char)s[j]))
            j++;
        if (j > i) {
            int rc = buf_append(out, s + i, j - i);
            if (rc != BUF_OK)
                return rc;
        }
        if (j == len)
            break;
        unsigned char c = (unsigned char)s[j];
        char e[4] = {'\\', 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '\\': e[1] = '\\'; break;
        case '\'': e[1] = '\''; break;
        case '\t': e[1] = 't'; break;
        case '\n': e[1] = 'n'; break;
        default:
            e[1] = 'x';
            e[2] = ch_hex[c >> 4];
            e[3] = ch_hex[c & 15];
            n = 4;
        }
        int rc = buf_append(out, e, n);
        if (rc != BUF_OK)
            return rc;
        i = j + 1;
    }
    return BUF_OK;
}

int ch_sql_quote(buf *out, const char *s, size_t len) {
    int rc = buf_append_char(out, '\'');
    if (rc == BUF_OK)
        rc = ch_escape(out, s, len);
    if (rc == BUF_OK)
        rc = buf_append_char(out, '\'');
    return rc;
}

int ch_sql_quote_str(buf *out, const char *s) {
    return ch_sql_quote(out, s ? s : "", s ? strlen(s) : 0);
}

int ch_sql_bytes(buf *out, const uint8_t *bytes, size_t n) {
    int rc = buf_append_str(out, "unhex('");
    for (size_t i = 0; i < n && rc == BUF_OK; i++) {
        char h[2] = {ch_hex[bytes[i] >> 4], ch_hex[bytes[i] & 15]};
        rc = buf_append(out, h, 2);
    }
    if (rc == BUF_OK)
        rc = buf_append_str(out, "')");
    return rc;
}

int ch_tsv_escape(buf *out, const char *s, size_t len) {
    return ch_escape(out, s, len);
}

int ch_tsv_bytes(buf *out, const uint8_t *bytes, size_t n) {
    return ch_escape(out, (const char *)bytes, n);
}

static int ch_unhex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Undoes the escapes of f in place (the result is never longer). */
static void ch_unescape(ch_field *f) {
    char *r = f->ptr, *w = f->ptr, *end = f->ptr + f->len;
    if (f->len == 2 && r[0] == '\\' && r[1] == 'N') { /* NULL */
        f->len = 0;
        f->ptr[0] = '\0';
        return;
    }
    while (r < end) {
        if (*r != '\\' || r + 1 == end) {
            *w++ = *r++;
            continue;
        }
        char c = r[1];
        r += 2;
        switch (c) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'r': *w++ = '\r'; break;
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case '0': *w++ = '\0'; break;
        case 'a': *w++ = '\a'; break;
        case 'v': *w++ = '\v'; break;
        case 'x':
            if (r + 1 < end && ch_unhex(r[0]) >= 0 && ch_unhex(r[1]) >= 0) {
                *w++ = (char)(ch_unhex(r[0]) << 4 | ch_unhex(r[1]));
                r += 2;
            } else {
                *w++ = 'x';
            }
            break;
        default: *w++ = c; /* \\ \' and any other: the character itself */
        }
    }
    f->len = (size_t)(w - f->ptr);
    *w = '\0';
}

int ch_tsv_row(char **p, char *end, ch_field *fields, size_t max) {
    char *s = *p;
    if (s >= end)
        return 0;
    size_t n = 0;
    for (;;) {
        char *e = s;
        while (e < end && *e != '\t' && *e != '\n')
            e++;
        if (n == max)
            return -1;
        char sep = e < end ? *e : '\n';
        fields[n].ptr = s;
        fields[n].len = (size_t)(e - s);
        if (e < end)
            *e = '\0';
        ch_unescape(&fields[n]);
        n++;
        s = e < end ? e + 1 : end;
        if (sep == '\n')
            break;
    }
    *p = s;
    return (int)n;
}

uint64_t ch_field_u64(const ch_field *f) {
    return f->len ? strtoull(f->ptr, NULL, 10) : 0;
}

int64_t ch_field_i64(const ch_field *f) {
    return f->len ? strtoll(f->ptr, NULL, 10) : 0;
}

double ch_field_double(const ch_field *f) {
    return f->len ? strtod(f->ptr, NULL) : 0;
}
