/* apiparam.c - strict /api/v1 query parameter parsers, see apiparam.h. */
#include "apiparam.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/model.h"
#include "util/utf8.h"

#define NS_PER_SEC 1000000000ULL

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Accumulates digits from *p into *v; stops at the first non-digit.
 * Returns the count of digits read, or -1 on overflow. */
static int read_u64(const char **p, uint64_t *v) {
    int n = 0;
    uint64_t acc = 0;
    const char *s = *p;
    while (is_digit(*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return -1;
        acc = acc * 10 + d;
        s++;
        n++;
    }
    *p = s;
    *v = acc;
    return n;
}

/* Reads exactly n digits as a number; -1 when they are not all digits. */
static int fixed_digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int apiparam_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    if (s == NULL || !is_digit(*s))
        return APIPARAM_EINVAL;
    const char *p = s;
    uint64_t v;
    if (read_u64(&p, &v) < 0) {
        /* still all digits? then it is a range problem, not syntax */
        while (is_digit(*p))
            p++;
        return *p == '\0' ? APIPARAM_ERANGE : APIPARAM_EINVAL;
    }
    if (*p != '\0')
        return APIPARAM_EINVAL;
    if (v < min || v > max)
        return APIPARAM_ERANGE;
    *out = v;
    return APIPARAM_OK;
}

/* ---- RFC 3339 -------------------------------------------------------- */

static int is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian); negative before. */
static int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_rfc3339(const char *s, uint64_t *out_ns) {
    /* YYYY-MM-DDTHH:MM:SS = 19 characters before fraction/offset */
    size_t n = strlen(s);
    if (n < 20)
        return APIPARAM_EINVAL;
    int year = fixed_digits(s, 4);
    int mon = fixed_digits(s + 5, 2);
    int day = fixed_digits(s + 8, 2);
    int hour = fixed_digits(s + 11, 2);
    int min = fixed_digits(s + 14, 2);
    int sec = fixed_digits(s + 17, 2);
    char t = s[10];
    if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0 || s[4] != '-' ||
        s[7] != '-' || (t != 'T' && t != 't' && t != ' ') || s[13] != ':' || s[16] != ':')
        return APIPARAM_EINVAL;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
        min > 59 || sec > 60)
        return APIPARAM_EINVAL;
    const char *p = s + 19;
    uint64_t frac = 0;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return APIPARAM_EINVAL;
        int digits = 0;
        while (is_digit(*p)) {
            if (digits < 9) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                digits++;
            }
            p++;
        }
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh = fixed_digits(p + 1, 2);
        if (oh < 0 || p[3] != ':')
            return APIPARAM_EINVAL;
        int om = fixed_digits(p + 4, 2);
        if (om < 0 || oh > 23 || om > 59)
            return APIPARAM_EINVAL;
        offset = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
        p += 6;
    } else {
        return APIPARAM_EINVAL;
    }
    if (*p != '\0')
        return APIPARAM_EINVAL;
    /* Local time minus the offset is UTC. Year <= 9999 keeps this in range. */
    int64_t secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
    if (secs < 0)
        return APIPARAM_ERANGE;
    uint64_t usecs = (uint64_t)secs;
    if (usecs > (UINT64_MAX - frac) / NS_PER_SEC)
        return APIPARAM_ERANGE;
    *out_ns = usecs * NS_PER_SEC + frac;
    return APIPARAM_OK;
}

/* The forms a time and a duration share: returns 1 with *rc set when s is
 * missing or empty (APIPARAM_EINVAL) or plain nanoseconds, only digits
 * (apiparam_uint's code); 0 when s needs the caller's own parser. */
static int plain_ns(const char *s, uint64_t *out_ns, int *rc) {
    *rc = APIPARAM_EINVAL;
    if (s == NULL || *s == '\0')
        return 1;
    const char *p = s;
    while (is_digit(*p))
        p++;
    if (*p != '\0')
        return 0;
    *rc = apiparam_uint(s, 0, UINT64_MAX, out_ns);
    return 1;
}

int apiparam_time(const char *s, uint64_t *out_ns) {
    int rc;
    if (plain_ns(s, out_ns, &rc))
        return rc;
    return parse_rfc3339(s, out_ns);
}

/* ---- durations -------------------------------------------------------- */

/* Matches a unit at p; returns its length and sets *ns, 0 when none. */
static size_t duration_unit(const char *p, uint64_t *ns) {
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        /* longer names first so "ms" wins over "m" */
        {"ns", 1ULL},
        {"us", 1000ULL},
        {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
        {"\xce\xbcs", 1000ULL}, /* U+03BC greek mu */
        {"ms", 1000000ULL},
        {"s", NS_PER_SEC},
        {"m", 60ULL * NS_PER_SEC},
        {"h", 3600ULL * NS_PER_SEC},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t len = strlen(units[i].name);
        if (strncmp(p, units[i].name, len) == 0) {
            *ns = units[i].ns;
            return len;
        }
    }
    return 0;
}

int apiparam_duration(const char *s, uint64_t *out_ns) {
    int rc;
    if (plain_ns(s, out_ns, &rc))
        return rc;
    const char *p = s;
    uint64_t total = 0;
    int range = 0;
    while (*p != '\0') {
        uint64_t whole = 0;
        int nwhole = read_u64(&p, &whole);
        if (nwhole < 0) {
            range = 1;
            while (is_digit(*p))
                p++;
        }
        const char *frac = NULL;
        size_t nfrac = 0;
        if (*p == '.') {
            p++;
            frac = p;
            while (is_digit(*p))
                p++;
            nfrac = (size_t)(p - frac);
        }
        if (nwhole == 0 && nfrac == 0)
            return APIPARAM_EINVAL; /* no number, or a lone "." */
        uint64_t unit;
        size_t ulen = duration_unit(p, &unit);
        if (ulen == 0)
            return APIPARAM_EINVAL;
        p += ulen;
        if (range)
            continue; /* keep checking the syntax; the result is ERANGE */
        if (whole > UINT64_MAX / unit) {
            range = 1;
            continue;
        }
        uint64_t term = whole * unit;
        uint64_t scale = unit;
        for (size_t i = 0; i < nfrac && scale > 1; i++) {
            scale /= 10;
            term += (uint64_t)(frac[i] - '0') * scale; /* cannot overflow: < unit */
            if (term < whole * unit) {
                range = 1;
                break;
            }
        }
        if (range)
            continue;
        if (total > UINT64_MAX - term) {
            range = 1;
            continue;
        }
        total += term;
    }
    if (range)
        return APIPARAM_ERANGE;
    *out_ns = total;
    return APIPARAM_OK;
}

/* ---- ids and severities ---------------------------------------------- */

int apiparam_hex_id(const char *s, uint8_t *out, size_t n) {
    if (s == NULL || n == 0 || strnlen(s, 2 * n + 1) != 2 * n)
        return APIPARAM_EINVAL;
    for (size_t i = 0; i < 2 * n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return APIPARAM_EINVAL; /* checked first: out stays untouched */
    return model_hex_decode(s, 2 * n, out, n) == 0 ? APIPARAM_OK : APIPARAM_EINVAL;
}

int apiparam_severity(const char *s, int *out) {
    static const struct {
        const char *name;
        int number;
    } names[] = {
        {"trace", 1}, {"debug", 5}, {"info", 9},   {"warn", 13},
        {"warning", 13}, {"error", 17}, {"fatal", 21},
    };
    if (s == NULL || *s == '\0')
        return APIPARAM_EINVAL;
    if (is_digit(*s)) {
        uint64_t v;
        int rc = apiparam_uint(s, 0, 24, &v);
        if (rc == APIPARAM_OK)
            *out = (int)v;
        return rc;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *a = s, *b = names[i].name;
        while (*a != '\0' && *b != '\0' && lower(*a) == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') {
            *out = names[i].number;
            return APIPARAM_OK;
        }
    }
    return APIPARAM_EINVAL;
}

/* ---- text ------------------------------------------------------------- */

int apiparam_utf8_valid(const char *s, size_t len) {
    return utf8_valid(s, len);
}

static int has_control(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

int apiparam_text(const char *s, size_t max_len) {
    if (s == NULL || *s == '\0')
        return APIPARAM_EINVAL;
    size_t len = strnlen(s, max_len + 1);
    if (len > max_len)
        return APIPARAM_ERANGE;
    if (has_control(s, len) || !apiparam_utf8_valid(s, len))
        return APIPARAM_EINVAL;
    return APIPARAM_OK;
}

/* ---- attribute expressions ------------------------------------------- */

/* A strict decimal number: -?digits[.digits][(e|E)[+-]digits], or
 * -?.digits. Returns 0 and the value, or an APIPARAM code. */
static int parse_number(const char *s, size_t len, double *out) {
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    size_t int_digits = 0, frac_digits = 0;
    while (i < len && is_digit(s[i])) {
        i++;
        int_digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i])) {
            i++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return APIPARAM_EINVAL;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < len && is_digit(s[i])) {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0)
            return APIPARAM_EINVAL;
    }
    if (i != len)
        return APIPARAM_EINVAL;
    char tmp[128];
    if (len >= sizeof(tmp))
        return APIPARAM_ERANGE;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len)
        return APIPARAM_EINVAL;
    if (!isfinite(v) || (errno == ERANGE && v != 0.0))
        return APIPARAM_ERANGE; /* overflow; underflow to 0 is fine */
    *out = v;
    return APIPARAM_OK;
}

int apiparam_attr_parse(const char *s, apiparam_attr *out) {
    if (s == NULL)
        return APIPARAM_EINVAL;
    size_t klen = strcspn(s, "=!~<>");
    const char *op = s + klen;
    if (*op == '\0' || klen == 0)
        return APIPARAM_EINVAL; /* no operator, or no key */
    if (klen > APIPARAM_ATTR_KEY_MAX)
        return APIPARAM_ERANGE;
    apiparam_attr a;
    memset(&a, 0, sizeof(a));
    a.key = s;
    a.key_len = klen;
    const char *v;
    switch (*op) {
    case '=':
        a.op = APIPARAM_ATTR_EQ;
        v = op + 1;
        break;
    case '!':
        if (op[1] != '=')
            return APIPARAM_EINVAL;
        a.op = APIPARAM_ATTR_NE;
        v = op + 2;
        break;
    case '~':
        a.op = APIPARAM_ATTR_CONTAINS;
        v = op + 1;
        break;
    case '>':
        a.op = APIPARAM_ATTR_GT;
        v = op + 1;
        break;
    default: /* '<' */
        a.op = APIPARAM_ATTR_LT;
        v = op + 1;
        break;
    }
    size_t vlen = strnlen(v, APIPARAM_ATTR_VALUE_MAX + 1);
    if (vlen > APIPARAM_ATTR_VALUE_MAX)
        return APIPARAM_ERANGE;
    a.value = v;
    a.value_len = vlen;
    if (has_control(a.key, a.key_len) || !apiparam_utf8_valid(a.key, a.key_len) ||
        has_control(v, vlen) || !apiparam_utf8_valid(v, vlen))
        return APIPARAM_EINVAL;
    if (a.op == APIPARAM_ATTR_CONTAINS && vlen == 0)
        return APIPARAM_EINVAL;
    if (a.op == APIPARAM_ATTR_GT || a.op == APIPARAM_ATTR_LT) {
        int rc = parse_number(v, vlen, &a.number);
        if (rc != APIPARAM_OK)
            return rc;
    }
    *out = a;
    return APIPARAM_OK;
}

const char *apiparam_strerror(int code) {
    switch (code) {
    case APIPARAM_OK:
        return "ok";
    case APIPARAM_EINVAL:
        return "invalid syntax";
    case APIPARAM_ERANGE:
        return "out of range";
    default:
        return "unknown error";
    }
}
