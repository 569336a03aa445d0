/* textfmt.c - short text forms, see textfmt.h. */
#include "textfmt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void textfmt_duration(uint64_t ns, char *out, size_t outlen) {
    if (ns < 1000)
        snprintf(out, outlen, "%lluns", (unsigned long long)ns);
    else if (ns < 999500) /* below what %.3g rounds up to 1e+03 */
        snprintf(out, outlen, "%.3gus", (double)ns / 1e3);
    else if (ns < 999500000)
        snprintf(out, outlen, "%.3gms", (double)ns / 1e6);
    else if (ns < 60000000000ULL)
        snprintf(out, outlen, "%.3gs", (double)ns / 1e9);
    else if (ns < 3600000000000ULL)
        snprintf(out, outlen, "%llum%02llus", (unsigned long long)(ns / 60000000000ULL),
                 (unsigned long long)(ns / 1000000000ULL % 60));
    else
        snprintf(out, outlen, "%lluh%02llum", (unsigned long long)(ns / 3600000000000ULL),
                 (unsigned long long)(ns / 60000000000ULL % 60));
}

void textfmt_time_utc(uint64_t ns, char *out, size_t outlen) {
    time_t secs = (time_t)(ns / 1000000000ULL);
    unsigned ms = (unsigned)(ns / 1000000ULL % 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, outlen, "%llu", (unsigned long long)ns);
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

uint64_t textfmt_parse_ns(const char *s) {
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

void textfmt_clip(const char *s, size_t max, char *out, size_t outlen) {
    if (outlen == 0)
        return;
    if (s == NULL)
        s = "";
    if (max + 4 > outlen)
        max = outlen > 4 ? outlen - 4 : 0;
    size_t n = strlen(s);
    size_t take = n <= max ? n : max;
    while (take < n && take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
        take--;
    for (size_t i = 0; i < take; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    if (take < n) {
        memcpy(out + take, "...", 4);
    } else {
        out[take] = '\0';
    }
}

int textfmt_url_encode(const char *s, buf *out) {
    static const char hex[] = "0123456789ABCDEF";
    int rc = BUF_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && rc == BUF_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            rc = buf_append_char(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = buf_append(out, e, 3);
        }
    }
    return rc;
}

/* The value of a hex digit (checked with isxdigit first). */
static int textfmt_xval(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

size_t textfmt_url_decode(char *s, int plus) {
    size_t o = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '%' && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            s[o++] = (char)(textfmt_xval(s[i + 1]) * 16 + textfmt_xval(s[i + 2]));
            i += 2;
        } else {
            s[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    s[o] = '\0';
    return o;
}

int textfmt_append(char *out, size_t outlen, const char *sep, const char *fmt, ...) {
    size_t used = strnlen(out, outlen);
    if (used >= outlen)
        return 0;
    int s = used > 0 && sep != NULL ? snprintf(out + used, outlen - used, "%s", sep) : 0;
    if (s < 0 || (size_t)s >= outlen - used) {
        out[used] = '\0';
        return 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + used + (size_t)s, outlen - used - (size_t)s, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= outlen - used - (size_t)s) {
        out[used] = '\0';
        return 0;
    }
    return 1;
}
