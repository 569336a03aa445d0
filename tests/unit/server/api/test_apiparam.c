/* test_apiparam.c - unit tests for server/apiparam.c (query parameter parsers). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/apiparam.h"

/* ---- apiparam_uint ------------------------------------------------------ */

START_TEST(uint_valid_and_bounds) {
    uint64_t v = 7;
    ck_assert_int_eq(apiparam_uint("1", 1, 1000, &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(apiparam_uint("1000", 1, 1000, &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1000);
    ck_assert_int_eq(apiparam_uint("0001000", 1, 1000, &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1000);
    v = 7;
    ck_assert_int_eq(apiparam_uint("0", 1, 1000, &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_uint("1001", 1, 1000, &v), APIPARAM_ERANGE);
    ck_assert_uint_eq(v, 7); /* untouched on failure */
    ck_assert_int_eq(apiparam_uint("18446744073709551615", 0, UINT64_MAX, &v), APIPARAM_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(uint_overflow_and_garbage) {
    uint64_t v = 7;
    ck_assert_int_eq(apiparam_uint("18446744073709551616", 0, UINT64_MAX, &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_uint("99999999999999999999999999999999", 1, 1000, &v),
                     APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_uint("99999999999999999999999x", 1, 1000, &v), APIPARAM_EINVAL);
    const char *bad[] = {"",    "-1",  "+1",  " 1",   "1 ",   "1.0", "1e3", "0x10",
                         "abc", "1,2", "10;", "1\n", "\xff", "１", "NaN"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(apiparam_uint(bad[i], 0, UINT64_MAX, &v) == APIPARAM_EINVAL, "accepted '%s'",
                      bad[i]);
    ck_assert_int_eq(apiparam_uint(NULL, 0, 10, &v), APIPARAM_EINVAL);
    ck_assert_uint_eq(v, 7);
}
END_TEST

/* ---- apiparam_time -------------------------------------------------------- */

START_TEST(time_unix_ns) {
    uint64_t v = 0;
    ck_assert_int_eq(apiparam_time("0", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(apiparam_time("1714564800000000000", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800000000000ULL);
    ck_assert_int_eq(apiparam_time("18446744073709551615", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(apiparam_time("18446744073709551616", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_time("-1", &v), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_time("1.5", &v), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_time("", &v), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_time(NULL, &v), APIPARAM_EINVAL);
}
END_TEST

START_TEST(time_rfc3339_valid) {
    uint64_t v = 0;
    ck_assert_int_eq(apiparam_time("2024-05-01T12:00:00Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01t12:00:00z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01 12:00:00Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    /* offsets: local 14:00 at +02:00 is 12:00 UTC */
    ck_assert_int_eq(apiparam_time("2024-05-01T14:00:00+02:00", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01T06:30:00-05:30", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01T12:00:00-00:00", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800ULL * 1000000000ULL);
    /* fractions: 1..9 digits, padded; more digits truncated */
    ck_assert_int_eq(apiparam_time("2024-05-01T12:00:00.5Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800500000000ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01T12:00:00.123456789Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800123456789ULL);
    ck_assert_int_eq(apiparam_time("2024-05-01T12:00:00.1234567891234Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1714564800123456789ULL);
    /* leap day, epoch, leap second */
    ck_assert_int_eq(apiparam_time("2000-02-29T23:59:59+01:00", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 951865199ULL * 1000000000ULL);
    ck_assert_int_eq(apiparam_time("1970-01-01T00:00:00Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(apiparam_time("1970-01-01T00:00:00+00:00", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(apiparam_time("2016-12-31T23:59:60Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, 1483228800ULL * 1000000000ULL);
}
END_TEST

START_TEST(time_rfc3339_range) {
    uint64_t v = 42;
    /* the last representable nanosecond, and one past it */
    ck_assert_int_eq(apiparam_time("2554-07-21T23:34:33.709551615Z", &v), APIPARAM_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = 42;
    ck_assert_int_eq(apiparam_time("2554-07-21T23:34:33.709551616Z", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_time("9999-12-31T23:59:59Z", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_time("1969-12-31T23:59:59Z", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_time("1970-01-01T00:00:00+00:01", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_time("0000-01-01T00:00:00Z", &v), APIPARAM_ERANGE);
    ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(time_rfc3339_garbage) {
    const char *bad[] = {
        "2024-05-01",                      /* date only */
        "2024-05-01T12:00:00",             /* no offset */
        "2024-05-01T12:00Z",               /* no seconds */
        "2024-13-01T12:00:00Z",            /* month 13 */
        "2024-00-01T12:00:00Z",            /* month 0 */
        "2023-02-29T12:00:00Z",            /* not a leap year */
        "1900-02-29T12:00:00Z",            /* century, not leap */
        "2024-04-31T12:00:00Z",            /* April has 30 days */
        "2024-05-00T12:00:00Z",            /* day 0 */
        "2024-05-01T24:00:00Z",            /* hour 24 */
        "2024-05-01T12:60:00Z",            /* minute 60 */
        "2024-05-01T12:00:61Z",            /* second 61 */
        "2024-05-01T12:00:00.Z",           /* empty fraction */
        "2024-05-01T12:00:00+2:00",        /* short offset */
        "2024-05-01T12:00:00+0200",        /* offset without colon */
        "2024-05-01T12:00:00+24:00",       /* offset hour 24 */
        "2024-05-01T12:00:00+02:60",       /* offset minute 60 */
        "2024-05-01T12:00:00+02:",         /* truncated offset */
        "2024-05-01T12:00:00+",            /* truncated offset */
        "2024-05-01T12:00:00ZZ",           /* trailing garbage */
        "2024-05-01T12:00:00Z ",           /* trailing space */
        " 2024-05-01T12:00:00Z",           /* leading space */
        "2024-05-01X12:00:00Z",            /* bad separator */
        "2024/05/01T12:00:00Z",            /* bad separator */
        "+2024-05-01T12:00:00Z",           /* signed year */
        "-2024-05-01T12:00:00Z",           /* negative year */
        "20240501T120000Z",                /* basic ISO 8601 */
        "２０２４-05-01T12:00:00Z",         /* fullwidth digits */
        "2024-05-01T12:00:00Z'; DROP TABLE spans;--",
        "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed\xec",
        "now",
        "1714564800000000000x",
        "1e18",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        ck_assert_msg(apiparam_time(bad[i], &v) == APIPARAM_EINVAL, "accepted '%s'", bad[i]);
        ck_assert_uint_eq(v, 42);
    }
}
END_TEST

START_TEST(time_rfc3339_truncations) {
    /* every prefix of a valid time is rejected without reading past the NUL */
    const char *full = "2024-05-01T12:00:00.123+02:00";
    size_t n = strlen(full);
    for (size_t len = 1; len < n; len++) {
        char *p = malloc(len + 1); /* exact size, so ASan catches overreads */
        ck_assert_ptr_nonnull(p);
        memcpy(p, full, len);
        p[len] = '\0';
        uint64_t v;
        int rc = apiparam_time(p, &v);
        /* "2", "20", ... "2024" (all digits) are unix ns values; the rest fail */
        if (len <= 4)
            ck_assert_int_eq(rc, APIPARAM_OK);
        else
            ck_assert_msg(rc != APIPARAM_OK, "accepted prefix '%s'", p);
        free(p);
    }
}
END_TEST

/* ---- apiparam_duration ------------------------------------------------------ */

START_TEST(duration_valid) {
    static const struct {
        const char *s;
        uint64_t ns;
    } ok[] = {
        {"0", 0},
        {"1500", 1500},
        {"100ns", 100},
        {"2us", 2000},
        {"2\xc2\xb5s", 2000},
        {"2\xce\xbcs", 2000},
        {"250ms", 250000000ULL},
        {"1.5s", 1500000000ULL},
        {".5s", 500000000ULL},
        {"5.s", 5000000000ULL},
        {"1m", 60000000000ULL},
        {"1h", 3600000000000ULL},
        {"1h30m", 5400000000000ULL},
        {"1h2m3.5s", 3723500000000ULL},
        {"1.5ns", 1},                           /* truncated */
        {"0.0000000001s", 0},                   /* below a nanosecond */
        {"1.123456789123s", 1123456789ULL},     /* truncated to ns */
        {"0.5h", 1800000000000ULL},
        {"18446744073709551615ns", UINT64_MAX}, /* largest */
        {"18446744073709551615", UINT64_MAX},
        {"5124095h34m33.709551615s", UINT64_MAX},
        {"000250ms", 250000000ULL},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 42;
        ck_assert_msg(apiparam_duration(ok[i].s, &v) == APIPARAM_OK, "rejected '%s'", ok[i].s);
        ck_assert_msg(v == ok[i].ns, "'%s' gave %llu", ok[i].s, (unsigned long long)v);
    }
}
END_TEST

START_TEST(duration_overflow) {
    const char *big[] = {
        "18446744073709551616",   "18446744073709551616ns", "18446744073709551615us",
        "5124095h34m33.709551616s", "99999999999999999999999h", "10000000000000h",
        "9223372036854775807s9223372036854775807s",
    };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        uint64_t v = 42;
        ck_assert_msg(apiparam_duration(big[i], &v) == APIPARAM_ERANGE, "'%s' not ERANGE", big[i]);
        ck_assert_uint_eq(v, 42);
    }
}
END_TEST

START_TEST(duration_garbage) {
    const char *bad[] = {"",     "ms",    "s",     ".",     ".s",   "-1s",  "+1s",  "1 ",
                         "1 s",  " 1s",   "1s ",   "1x",    "1sec", "1S",   "1MS",  "1d",
                         "1h30", "1..5s", "1.5.s", "1e3ms", "0x1s", "nan",  "inf",  "1µ",
                         "1\xc2s", "1\xc2\xb5", "1s;DROP TABLE spans", "'1s'", "1s\n", "1,5s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        ck_assert_msg(apiparam_duration(bad[i], &v) == APIPARAM_EINVAL, "accepted '%s'", bad[i]);
        ck_assert_uint_eq(v, 42);
    }
    uint64_t v;
    ck_assert_int_eq(apiparam_duration(NULL, &v), APIPARAM_EINVAL);
    /* overflow followed by a syntax error is a syntax error */
    ck_assert_int_eq(apiparam_duration("99999999999999999999999hx", &v), APIPARAM_EINVAL);
}
END_TEST

/* ---- ids ------------------------------------------------------------------ */

START_TEST(hex_id) {
    uint8_t id[16], want[16];
    for (int i = 0; i < 16; i++)
        want[i] = (uint8_t)(0x10 * (i % 16) + (15 - i));
    ck_assert_int_eq(apiparam_hex_id("0f1e2d3c4b5a69788796a5b4c3d2e1f0", id, 16), APIPARAM_OK);
    ck_assert_mem_eq(id, want, 16);
    ck_assert_int_eq(apiparam_hex_id("0F1E2D3C4B5A69788796A5B4C3D2E1F0", id, 16), APIPARAM_OK);
    ck_assert_mem_eq(id, want, 16);
    ck_assert_int_eq(apiparam_hex_id("0F1e2D3c4B5a69788796A5b4C3d2E1f0", id, 16), APIPARAM_OK);
    ck_assert_mem_eq(id, want, 16);
    uint8_t span[8];
    ck_assert_int_eq(apiparam_hex_id("00f067aa0ba902b7", span, 8), APIPARAM_OK);
    ck_assert_uint_eq(span[0], 0x00);
    ck_assert_uint_eq(span[7], 0xb7);

    const char *bad[] = {
        "",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f",   /* 31 */
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00", /* 33 */
        "0f1e2d3c4b5a69788796a5b4c3d2e1fg",  /* g */
        "0x1e2d3c4b5a69788796a5b4c3d2e1f0",  /* 0x prefix */
        " f1e2d3c4b5a69788796a5b4c3d2e1f0",  /* space */
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0 ", /* trailing space */
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2",  /* dashes */
        "'OR 1=1--0000000000000000000000000",
        "\303\2510f1e2d3c4b5a69788796a5b4c3d2e1", /* UTF-8 */
    };
    memset(id, 0xaa, sizeof(id));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(apiparam_hex_id(bad[i], id, 16) == APIPARAM_EINVAL, "accepted '%s'", bad[i]);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(id[i], 0xaa); /* untouched */
    ck_assert_int_eq(apiparam_hex_id(NULL, id, 16), APIPARAM_EINVAL);
}
END_TEST

/* ---- severities ---------------------------------------------------------------- */

START_TEST(severity) {
    static const struct {
        const char *s;
        int n;
    } ok[] = {
        {"trace", 1}, {"debug", 5}, {"info", 9},    {"warn", 13},  {"warning", 13},
        {"error", 17}, {"fatal", 21}, {"ERROR", 17}, {"Warn", 13}, {"0", 0},
        {"1", 1},     {"24", 24},   {"09", 9},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int v = -1;
        ck_assert_msg(apiparam_severity(ok[i].s, &v) == APIPARAM_OK, "rejected '%s'", ok[i].s);
        ck_assert_int_eq(v, ok[i].n);
    }
    int v = -1;
    ck_assert_int_eq(apiparam_severity("25", &v), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_severity("99999999999999999999999", &v), APIPARAM_ERANGE);
    const char *bad[] = {"",       "-1",     "inf",    "informational", "err",  "warnx", " info",
                         "info ",  "in",     "1.0",    "e",             "fatal\n", "\xff",
                         "'info'", "info' OR '1'='1", "tr\303\241ce"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(apiparam_severity(bad[i], &v) == APIPARAM_EINVAL, "accepted '%s'", bad[i]);
    ck_assert_int_eq(apiparam_severity(NULL, &v), APIPARAM_EINVAL);
    ck_assert_int_eq(v, -1);
}
END_TEST

/* ---- text and UTF-8 ------------------------------------------------------------- */

START_TEST(utf8) {
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"", 1},
        {"plain ascii", 1},
        {"caf\xc3\xa9", 1},
        {"\xe2\x82\xac", 1},         /* U+20AC */
        {"\xf0\x9f\x98\x80", 1},     /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 1},     /* U+10FFFF */
        {"\xed\x9f\xbf", 1},         /* U+D7FF */
        {"\xee\x80\x80", 1},         /* U+E000 */
        {"\xc0\xaf", 0},             /* overlong '/' */
        {"\xc1\xbf", 0},             /* overlong */
        {"\xe0\x80\xaf", 0},         /* overlong 3-byte */
        {"\xf0\x80\x80\xaf", 0},     /* overlong 4-byte */
        {"\xed\xa0\x80", 0},         /* surrogate U+D800 */
        {"\xed\xbf\xbf", 0},         /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", 0},     /* U+110000 */
        {"\xf5\x80\x80\x80", 0},     /* bad lead */
        {"\xff", 0},
        {"\x80", 0},                 /* lone continuation */
        {"\xc3", 0},                 /* truncated */
        {"\xe2\x82", 0},             /* truncated */
        {"\xf0\x9f\x98", 0},         /* truncated */
        {"\xc3\x28", 0},             /* bad continuation */
        {"a\xe2\x82\xac\xc3", 0},    /* good then truncated */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].s);
        char *p = malloc(len + 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, cases[i].s, len + 1);
        ck_assert_msg(apiparam_utf8_valid(p, len) == cases[i].valid, "case %zu", i);
        free(p);
    }
    /* a NUL inside the given length is a valid code point */
    ck_assert_int_eq(apiparam_utf8_valid("a\0b", 3), 1);
}
END_TEST

START_TEST(text) {
    ck_assert_int_eq(apiparam_text("checkout", 1024), APIPARAM_OK);
    ck_assert_int_eq(apiparam_text("caf\xc3\xa9 \xf0\x9f\x98\x80", 1024), APIPARAM_OK);
    ck_assert_int_eq(apiparam_text("'; DROP TABLE logs; --", 1024), APIPARAM_OK); /* data */
    ck_assert_int_eq(apiparam_text("a\"b\\c%_*", 1024), APIPARAM_OK);
    ck_assert_int_eq(apiparam_text("", 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text(NULL, 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text("a\nb", 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text("a\x7f", 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text("a\x01", 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text("\xc3\x28", 1024), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_text("abcd", 4), APIPARAM_OK);
    ck_assert_int_eq(apiparam_text("abcde", 4), APIPARAM_ERANGE);
    size_t n = 1 << 20;
    char *huge = malloc(n + 1);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'a', n);
    huge[n] = '\0';
    ck_assert_int_eq(apiparam_text(huge, 1024), APIPARAM_ERANGE);
    free(huge);
}
END_TEST

/* ---- attribute expressions ------------------------------------------------------- */

static void check_attr(const char *s, const char *key, apiparam_attr_op op, const char *value) {
    apiparam_attr a;
    ck_assert_msg(apiparam_attr_parse(s, &a) == APIPARAM_OK, "rejected '%s'", s);
    ck_assert_uint_eq(a.key_len, strlen(key));
    ck_assert(memcmp(a.key, key, a.key_len) == 0);
    ck_assert_int_eq(a.op, op);
    ck_assert_uint_eq(a.value_len, strlen(value));
    ck_assert(memcmp(a.value, value, a.value_len) == 0);
    ck_assert_ptr_eq(a.key, s); /* slices borrow from the input */
}

START_TEST(attr_valid) {
    check_attr("http.method=GET", "http.method", APIPARAM_ATTR_EQ, "GET");
    check_attr("http.method!=GET", "http.method", APIPARAM_ATTR_NE, "GET");
    check_attr("db.statement~SELECT", "db.statement", APIPARAM_ATTR_CONTAINS, "SELECT");
    check_attr("k=", "k", APIPARAM_ATTR_EQ, "");
    check_attr("k!=", "k", APIPARAM_ATTR_NE, "");
    /* only the first operator splits; the rest is value */
    check_attr("k=a=b", "k", APIPARAM_ATTR_EQ, "a=b");
    check_attr("k=a!=b", "k", APIPARAM_ATTR_EQ, "a!=b");
    check_attr("k~>=<", "k", APIPARAM_ATTR_CONTAINS, ">=<");
    check_attr("k=' OR 1=1; --", "k", APIPARAM_ATTR_EQ, "' OR 1=1; --");
    check_attr("caf\xc3\xa9=\xf0\x9f\x98\x80", "caf\xc3\xa9", APIPARAM_ATTR_EQ, "\xf0\x9f\x98\x80");
    check_attr("k=%_\\", "k", APIPARAM_ATTR_EQ, "%_\\");

    apiparam_attr a;
    ck_assert_int_eq(apiparam_attr_parse("http.status_code>499", &a), APIPARAM_OK);
    ck_assert_int_eq(a.op, APIPARAM_ATTR_GT);
    ck_assert(a.number == 499.0);
    ck_assert_int_eq(apiparam_attr_parse("latency<-1.5e3", &a), APIPARAM_OK);
    ck_assert_int_eq(a.op, APIPARAM_ATTR_LT);
    ck_assert(a.number == -1500.0);
    ck_assert_int_eq(apiparam_attr_parse("x>.5", &a), APIPARAM_OK);
    ck_assert(a.number == 0.5);
    ck_assert_int_eq(apiparam_attr_parse("x>5.", &a), APIPARAM_OK);
    ck_assert(a.number == 5.0);
    ck_assert_int_eq(apiparam_attr_parse("x<1e-400", &a), APIPARAM_OK); /* underflow: 0 */
    ck_assert(a.number == 0.0);
    ck_assert_int_eq(apiparam_attr_parse("x>1E+2", &a), APIPARAM_OK);
    ck_assert(a.number == 100.0);
}
END_TEST

START_TEST(attr_invalid) {
    const char *bad[] = {
        "",          "key",       "=value",   "!=value", "~x",     ">1",      "k!v",
        "k!",        "k~",        "k>",       "k<",      "k>abc",  "k>1x",    "k>0x10",
        "k>inf",     "k>nan",     "k>-",      "k>1e",    "k>1e+",  "k>--1",   "k> 1",
        "k>1 ",      "k>+1",      "k>1.2.3",  "k=a\nb",  "k\t=v",  "k=\x7f",  "k=\xc3\x28",
        "\xff=v",    "k=\xed\xa0\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apiparam_attr a;
        memset(&a, 0x5a, sizeof(a));
        ck_assert_msg(apiparam_attr_parse(bad[i], &a) == APIPARAM_EINVAL, "accepted '%s'",
                      bad[i]);
        ck_assert_int_eq(a.key_len, (size_t)0x5a5a5a5a5a5a5a5aULL); /* untouched */
    }
    apiparam_attr a;
    ck_assert_int_eq(apiparam_attr_parse(NULL, &a), APIPARAM_EINVAL);
    ck_assert_int_eq(apiparam_attr_parse("k>1e999", &a), APIPARAM_ERANGE);
    ck_assert_int_eq(apiparam_attr_parse("k<-1e999", &a), APIPARAM_ERANGE);
}
END_TEST

START_TEST(attr_sizes) {
    char key[APIPARAM_ATTR_KEY_MAX + 8];
    memset(key, 'k', APIPARAM_ATTR_KEY_MAX);
    memcpy(key + APIPARAM_ATTR_KEY_MAX, "=v", 3);
    apiparam_attr a;
    ck_assert_int_eq(apiparam_attr_parse(key, &a), APIPARAM_OK);
    ck_assert_uint_eq(a.key_len, APIPARAM_ATTR_KEY_MAX);
    memset(key, 'k', APIPARAM_ATTR_KEY_MAX + 1);
    memcpy(key + APIPARAM_ATTR_KEY_MAX + 1, "=v", 3);
    ck_assert_int_eq(apiparam_attr_parse(key, &a), APIPARAM_ERANGE);

    size_t n = APIPARAM_ATTR_VALUE_MAX + 3;
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, "k=", 2);
    memset(s + 2, 'v', n - 2);
    s[APIPARAM_ATTR_VALUE_MAX + 2] = '\0';
    ck_assert_int_eq(apiparam_attr_parse(s, &a), APIPARAM_OK);
    ck_assert_uint_eq(a.value_len, APIPARAM_ATTR_VALUE_MAX);
    s[APIPARAM_ATTR_VALUE_MAX + 2] = 'v';
    s[n] = '\0';
    ck_assert_int_eq(apiparam_attr_parse(s, &a), APIPARAM_ERANGE);
    /* a number longer than the parser's scratch space is out of range, not a crash */
    memcpy(s, "k>", 2);
    memset(s + 2, '1', 200);
    s[202] = '\0';
    ck_assert_int_eq(apiparam_attr_parse(s, &a), APIPARAM_ERANGE);
    free(s);
}
END_TEST

START_TEST(strerror_codes) {
    ck_assert_str_eq(apiparam_strerror(APIPARAM_OK), "ok");
    ck_assert_str_eq(apiparam_strerror(APIPARAM_EINVAL), "invalid syntax");
    ck_assert_str_eq(apiparam_strerror(APIPARAM_ERANGE), "out of range");
    ck_assert_str_eq(apiparam_strerror(-99), "unknown error");
}
END_TEST

/* Every parser survives every short byte string without crashing (run
 * under ASan): all 1- and 2-byte strings, and 3-byte strings over a
 * smaller alphabet of interesting bytes. */
START_TEST(exhaustive_short_inputs) {
    static const char alphabet[] = "0123456789.:-+TZzsmhnuµ=!~<>eE \x80\xc3\xff";
    size_t na = sizeof(alphabet) - 1;
    char s[4];
    uint64_t u;
    int iv;
    uint8_t id[1];
    apiparam_attr a;
    for (int c1 = 1; c1 < 256; c1++) {
        for (int c2 = 0; c2 < 256; c2++) {
            s[0] = (char)c1;
            s[1] = (char)c2;
            s[2] = '\0';
            (void)apiparam_uint(s, 0, UINT64_MAX, &u);
            (void)apiparam_time(s, &u);
            (void)apiparam_duration(s, &u);
            (void)apiparam_hex_id(s, id, 1);
            (void)apiparam_severity(s, &iv);
            (void)apiparam_attr_parse(s, &a);
            (void)apiparam_text(s, 2);
        }
    }
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < na; j++)
            for (size_t k = 0; k < na; k++) {
                s[0] = alphabet[i];
                s[1] = alphabet[j];
                s[2] = alphabet[k];
                s[3] = '\0';
                (void)apiparam_time(s, &u);
                (void)apiparam_duration(s, &u);
                (void)apiparam_attr_parse(s, &a);
            }
    ck_assert_int_eq(apiparam_duration("1s", &u), APIPARAM_OK);
}
END_TEST

static Suite *apiparam_suite(void) {
    Suite *s = suite_create("apiparam");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, uint_valid_and_bounds);
    tcase_add_test(tc, uint_overflow_and_garbage);
    tcase_add_test(tc, time_unix_ns);
    tcase_add_test(tc, time_rfc3339_valid);
    tcase_add_test(tc, time_rfc3339_range);
    tcase_add_test(tc, time_rfc3339_garbage);
    tcase_add_test(tc, time_rfc3339_truncations);
    tcase_add_test(tc, duration_valid);
    tcase_add_test(tc, duration_overflow);
    tcase_add_test(tc, duration_garbage);
    tcase_add_test(tc, hex_id);
    tcase_add_test(tc, severity);
    tcase_add_test(tc, utf8);
    tcase_add_test(tc, text);
    tcase_add_test(tc, attr_valid);
    tcase_add_test(tc, attr_invalid);
    tcase_add_test(tc, attr_sizes);
    tcase_add_test(tc, strerror_codes);
    tcase_add_test(tc, exhaustive_short_inputs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(apiparam_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
