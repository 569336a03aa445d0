/* cli_junit.c - JUnit XML reports and XML escaping, see cli_junit.h. */
#include "cli_junit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char cli_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The length of the valid UTF-8 sequence at s (1..4) and its code point,
 * or 0 when the bytes there are not one. */
static size_t cli_utf8_seq(const unsigned char *s, uint32_t *cp) {
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    uint32_t v = s[0] & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int cli_xml_escape(buf *out, const char *s) {
    int rc = BUF_OK;
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    while (*p != '\0' && rc == BUF_OK) {
        uint32_t cp = 0;
        size_t n = cli_utf8_seq(p, &cp);
        if (n == 0) {
            rc = buf_append_str(out, cli_replacement);
            p++;
            continue;
        }
        switch (cp) {
        case '&':
            rc = buf_append_str(out, "&amp;");
            break;
        case '<':
            rc = buf_append_str(out, "&lt;");
            break;
        case '>':
            rc = buf_append_str(out, "&gt;");
            break;
        case '"':
            rc = buf_append_str(out, "&quot;");
            break;
        case '\'':
            rc = buf_append_str(out, "&apos;");
            break;
        case '\t':
            rc = buf_append_str(out, "&#9;");
            break;
        case '\n':
            rc = buf_append_str(out, "&#10;");
            break;
        case '\r':
            rc = buf_append_str(out, "&#13;");
            break;
        default:
            if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
                rc = buf_append_str(out, cli_replacement);
            else
                rc = buf_append(out, p, n);
        }
        p += n;
    }
    return rc;
}

/* attr="escaped value" with a leading space. */
static int cli_xml_attr(buf *out, const char *name, const char *value) {
    int rc = buf_printf(out, " %s=\"", name);
    if (rc == BUF_OK)
        rc = cli_xml_escape(out, value);
    if (rc == BUF_OK)
        rc = buf_append_char(out, '"');
    return rc;
}

static int cli_xml_attr_num(buf *out, const char *name, double v, int decimals) {
    char s[48];
    snprintf(s, sizeof(s), "%.*f", decimals, v);
    return cli_xml_attr(out, name, s);
}

static int cli_junit_case_write(buf *out, const char *suite, const cli_junit_case *c) {
    int rc = buf_append_str(out, "    <testcase");
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "name", c->name);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "classname", suite);
    if (rc == BUF_OK)
        rc = cli_xml_attr_num(out, "time", c->seconds, 3);
    if (rc != BUF_OK || c->failure == NULL)
        return rc == BUF_OK ? buf_append_str(out, "/>\n") : rc;
    rc = buf_append_str(out, ">\n      <failure");
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "message", c->failure);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "type", "ExpectationFailed");
    if (rc == BUF_OK)
        rc = buf_append_char(out, '>');
    if (rc == BUF_OK)
        rc = cli_xml_escape(out, c->details != NULL ? c->details : c->failure);
    if (rc == BUF_OK)
        rc = buf_append_str(out, "</failure>\n    </testcase>\n");
    return rc;
}

int cli_junit_write(buf *out, const char *name, const cli_junit_case *cases, size_t n,
                    double seconds, uint64_t timestamp_ns, const char *hostname) {
    size_t failures = 0;
    for (size_t i = 0; i < n; i++)
        failures += cases[i].failure != NULL;
    char when[32];
    time_t secs = (time_t)(timestamp_ns / 1000000000ULL);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char tests[24], fails[24];
    snprintf(tests, sizeof(tests), "%zu", n);
    snprintf(fails, sizeof(fails), "%zu", failures);
    int rc = buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "name", name);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "tests", tests);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "failures", fails);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "errors", "0");
    if (rc == BUF_OK)
        rc = cli_xml_attr_num(out, "time", seconds, 3);
    if (rc == BUF_OK)
        rc = buf_append_str(out, ">\n  <testsuite");
    static const char *const fixed[][2] = {{"errors", "0"}, {"skipped", "0"}, {"id", "0"}};
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "name", name);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "package", name);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "tests", tests);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "failures", fails);
    for (size_t i = 0; i < 3 && rc == BUF_OK; i++)
        rc = cli_xml_attr(out, fixed[i][0], fixed[i][1]);
    if (rc == BUF_OK)
        rc = cli_xml_attr_num(out, "time", seconds, 3);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "timestamp", when);
    if (rc == BUF_OK)
        rc = cli_xml_attr(out, "hostname",
                          hostname != NULL && hostname[0] ? hostname : "localhost");
    if (rc == BUF_OK)
        rc = buf_append_str(out, ">\n");
    for (size_t i = 0; i < n && rc == BUF_OK; i++)
        rc = cli_junit_case_write(out, name, &cases[i]);
    if (rc == BUF_OK)
        rc = buf_append_str(out, "  </testsuite>\n</testsuites>\n");
    return rc;
}
