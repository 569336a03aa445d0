/* fuzz_apiparam.c - libFuzzer target for the /api/v1 query parameter parsers.
 *
 * Input: one parameter value (bytes up to the first NUL, as the API hands a
 * decoded value to apiparam_*()). Every parser runs on it, and each result
 * is checked against an independent reference or a property:
 *  - apiparam_uint, apiparam_hex_id, apiparam_severity, apiparam_text,
 *    apiparam_utf8_valid: a reference implementation written from the
 *    header's contract (the whole input, NULs included, for utf8_valid);
 *  - apiparam_time: digits are apiparam_uint; an accepted RFC 3339 time
 *    formatted back as RFC 3339 in UTC parses to the same nanosecond;
 *  - apiparam_duration: digits are apiparam_uint; an accepted duration
 *    written twice in a row ("1h5m1h5m") is exactly twice as long, or
 *    APIPARAM_ERANGE when that does not fit;
 *  - apiparam_attr_parse: the key and value slices, the operator, the
 *    limits and the number agree with the input;
 *  - on failure no parser touches its output.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/apiparam.h"
#include "model_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SENTINEL 0x5EA5EA5EA5EA5EA5ULL

static int fz_all_digits(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Reference for apiparam_uint(s, min, max). */
static int fz_ref_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    if (!fz_all_digits(s))
        return APIPARAM_EINVAL;
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return APIPARAM_ERANGE;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return APIPARAM_ERANGE;
    *out = v;
    return APIPARAM_OK;
}

static void fz_check_uint(const char *s, uint64_t min, uint64_t max) {
    uint64_t got = FZ_SENTINEL, want = FZ_SENTINEL;
    int rc = apiparam_uint(s, min, max, &got);
    MC_CHECK(rc == fz_ref_uint(s, min, max, &want));
    MC_CHECK(got == want);
}

/* y-m-d from days since 1970-01-01 (H. Hinnant's civil_from_days). */
static void fz_civil(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void fz_check_time(const char *s) {
    uint64_t ns = FZ_SENTINEL;
    int rc = apiparam_time(s, &ns);
    MC_CHECK(rc == APIPARAM_OK || rc == APIPARAM_EINVAL || rc == APIPARAM_ERANGE);
    if (fz_all_digits(s)) {
        uint64_t want = FZ_SENTINEL;
        MC_CHECK(rc == fz_ref_uint(s, 0, UINT64_MAX, &want));
        MC_CHECK(ns == want);
        return;
    }
    if (rc != APIPARAM_OK) {
        MC_CHECK(ns == FZ_SENTINEL);
        return;
    }
    uint64_t secs = ns / 1000000000u;
    int y, m, d;
    fz_civil((int64_t)(secs / 86400), &y, &m, &d);
    unsigned sod = (unsigned)(secs % 86400);
    char again[64];
    snprintf(again, sizeof(again), "%04d-%02d-%02dT%02u:%02u:%02u.%09uZ", y, m, d, sod / 3600,
             sod / 60 % 60, sod % 60, (unsigned)(ns % 1000000000u));
    uint64_t ns2 = FZ_SENTINEL;
    if (apiparam_time(again, &ns2) != APIPARAM_OK || ns2 != ns)
        fprintf(stderr, "time \"%s\" -> %llu -> \"%s\" -> %llu\n", s, (unsigned long long)ns,
                again, (unsigned long long)ns2);
    MC_CHECK(apiparam_time(again, &ns2) == APIPARAM_OK && ns2 == ns);
}

static void fz_check_duration(const char *s, size_t len) {
    uint64_t ns = FZ_SENTINEL;
    int rc = apiparam_duration(s, &ns);
    MC_CHECK(rc == APIPARAM_OK || rc == APIPARAM_EINVAL || rc == APIPARAM_ERANGE);
    if (fz_all_digits(s)) {
        uint64_t want = FZ_SENTINEL;
        MC_CHECK(rc == fz_ref_uint(s, 0, UINT64_MAX, &want));
        MC_CHECK(ns == want);
        return;
    }
    if (rc != APIPARAM_OK) {
        MC_CHECK(ns == FZ_SENTINEL);
        return;
    }
    /* Terms add up: the same terms twice give twice the time. */
    char *twice = malloc(2 * len + 1);
    MC_CHECK(twice != NULL);
    memcpy(twice, s, len);
    memcpy(twice + len, s, len);
    twice[2 * len] = '\0';
    uint64_t ns2 = FZ_SENTINEL;
    int rc2 = apiparam_duration(twice, &ns2);
    if (ns > UINT64_MAX / 2)
        MC_CHECK(rc2 == APIPARAM_ERANGE && ns2 == FZ_SENTINEL);
    else
        MC_CHECK(rc2 == APIPARAM_OK && ns2 == 2 * ns);
    free(twice);
}

static int fz_hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void fz_check_hex(const char *s, size_t len, size_t n) {
    uint8_t got[16], want[16];
    memset(got, 0xA5, sizeof(got));
    memset(want, 0xA5, sizeof(want));
    int ok = len == 2 * n;
    for (size_t i = 0; ok && i < len; i++)
        ok = fz_hex(s[i]) >= 0;
    if (ok)
        for (size_t i = 0; i < n; i++)
            want[i] = (uint8_t)(fz_hex(s[2 * i]) << 4 | fz_hex(s[2 * i + 1]));
    int rc = apiparam_hex_id(s, got, n);
    MC_CHECK(rc == (ok ? APIPARAM_OK : APIPARAM_EINVAL));
    MC_CHECK(memcmp(got, want, sizeof(got)) == 0);
}

static void fz_check_severity(const char *s) {
    static const struct {
        const char *name;
        int number;
    } names[] = {{"trace", 1}, {"debug", 5},   {"info", 9},  {"warn", 13},
                 {"warning", 13}, {"error", 17}, {"fatal", 21}};
    int want = -1, want_rc = APIPARAM_EINVAL;
    if (fz_all_digits(s)) {
        uint64_t v = 0;
        want_rc = fz_ref_uint(s, 0, 24, &v);
        if (want_rc == APIPARAM_OK)
            want = (int)v;
    } else {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            size_t n = strlen(names[i].name);
            if (strlen(s) != n)
                continue;
            size_t k = 0;
            while (k < n && (s[k] | 0x20) == names[i].name[k] &&
                   ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
                k++;
            if (k == n) {
                want = names[i].number;
                want_rc = APIPARAM_OK;
            }
        }
    }
    int got = -1;
    int rc = apiparam_severity(s, &got);
    MC_CHECK(rc == want_rc);
    MC_CHECK(got == want);
}

static int fz_has_control(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return 1;
    return 0;
}

static void fz_check_text(const char *s, size_t len, size_t max) {
    int want;
    if (len == 0)
        want = APIPARAM_EINVAL;
    else if (len > max)
        want = APIPARAM_ERANGE;
    else if (fz_has_control(s, len) || !mc_utf8_valid((const unsigned char *)s, len))
        want = APIPARAM_EINVAL;
    else
        want = APIPARAM_OK;
    MC_CHECK(apiparam_text(s, max) == want);
}

static void fz_check_attr(const char *s, size_t len) {
    apiparam_attr a;
    memset(&a, 0xA5, sizeof(a));
    apiparam_attr untouched = a;
    int rc = apiparam_attr_parse(s, &a);
    MC_CHECK(rc == APIPARAM_OK || rc == APIPARAM_EINVAL || rc == APIPARAM_ERANGE);
    if (rc != APIPARAM_OK) {
        MC_CHECK(memcmp(&a, &untouched, sizeof(a)) == 0);
        return;
    }
    size_t klen = strcspn(s, "=!~<>");
    MC_CHECK(a.key == s && a.key_len == klen);
    MC_CHECK(klen >= 1 && klen <= APIPARAM_ATTR_KEY_MAX);
    size_t oplen = s[klen] == '!' ? 2 : 1;
    if (s[klen] == '!')
        MC_CHECK(s[klen + 1] == '=');
    MC_CHECK(a.value == s + klen + oplen);
    MC_CHECK(a.value_len == len - klen - oplen && a.value_len <= APIPARAM_ATTR_VALUE_MAX);
    MC_CHECK(!fz_has_control(a.key, a.key_len) &&
             mc_utf8_valid((const unsigned char *)a.key, a.key_len));
    MC_CHECK(!fz_has_control(a.value, a.value_len) &&
             mc_utf8_valid((const unsigned char *)a.value, a.value_len));
    switch (s[klen]) {
    case '=':
        MC_CHECK(a.op == APIPARAM_ATTR_EQ && a.number == 0);
        break;
    case '!':
        MC_CHECK(a.op == APIPARAM_ATTR_NE && a.number == 0);
        break;
    case '~':
        MC_CHECK(a.op == APIPARAM_ATTR_CONTAINS && a.value_len > 0 && a.number == 0);
        break;
    case '>':
    case '<': {
        MC_CHECK(a.op == (s[klen] == '>' ? APIPARAM_ATTR_GT : APIPARAM_ATTR_LT));
        MC_CHECK(isfinite(a.number));
        char *end;
        double want = strtod(a.value, &end);
        MC_CHECK(end == a.value + a.value_len);
        MC_CHECK(memcmp(&want, &a.number, sizeof(want)) == 0);
        /* Only plain decimal notation. */
        for (size_t i = 0; i < a.value_len; i++)
            MC_CHECK(strchr("0123456789.eE+-", a.value[i]) != NULL);
        break;
    }
    default:
        MC_CHECK(!"no operator");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MC_CHECK(apiparam_utf8_valid((const char *)data, size) == mc_utf8_valid(data, size));
    /* The value as a C string: up to the first NUL, in a buffer of exactly
     * that size, so a read past the terminator is caught. */
    size_t len = strnlen((const char *)data, size);
    char *s = malloc(len + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, len);
    s[len] = '\0';

    fz_check_uint(s, 0, UINT64_MAX);
    fz_check_uint(s, 1, 1000);
    fz_check_time(s);
    fz_check_duration(s, len);
    fz_check_hex(s, len, 16);
    fz_check_hex(s, len, 8);
    fz_check_severity(s);
    fz_check_text(s, len, 64);
    fz_check_text(s, len, 4096);
    fz_check_attr(s, len);
    for (int code = -3; code <= 1; code++)
        MC_CHECK(apiparam_strerror(code) != NULL);
    free(s);
    return 0;
}
