/* cli_parse.c - durations, counts and shell-like word splitting, see
 * cli_parse.h. */
#include "cli_parse.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    uint64_t ns;
} cli_units[] = {
    {"ns", 1ULL},           {"us", 1000ULL},          {"ms", 1000000ULL},
    {"s", 1000000000ULL},   {"m", 60000000000ULL},    {"h", 3600000000000ULL},
    {"d", 86400000000000ULL},
};

int cli_parse_duration(const char *s, uint64_t *ns) {
    if (s == NULL || *s == '\0')
        return -1;
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    uint64_t total = 0;
    const char *p = s;
    while (*p != '\0') {
        /* number: digits, optionally a fraction */
        uint64_t whole = 0, frac = 0, scale = 1;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (whole > UINT64_MAX / 10 - 10)
                return -1;
            whole = whole * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (scale < 1000000000000ULL) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
                p++;
                digits++;
            }
        }
        if (digits == 0)
            return -1;
        /* unit: the longest name that matches */
        size_t best = 0, ulen = 0;
        for (size_t i = 0; i < sizeof(cli_units) / sizeof(cli_units[0]); i++) {
            size_t l = strlen(cli_units[i].name);
            if (strncmp(p, cli_units[i].name, l) == 0 && l > ulen) {
                best = i;
                ulen = l;
            }
        }
        if (ulen == 0)
            return -1;
        uint64_t unit = cli_units[best].ns;
        if (whole > UINT64_MAX / unit)
            return -1;
        uint64_t v = whole * unit + (uint64_t)((double)frac / (double)scale * (double)unit);
        if (total > UINT64_MAX - v)
            return -1;
        total += v;
        p += ulen;
    }
    *ns = total;
    return 0;
}

int cli_parse_count(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p != '\0'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (*p < '0' || *p > '9' || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int cli_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int cli_split_line(const char *line, char *store, size_t storelen, char **argv, char *err,
                   size_t errlen) {
    size_t o = 0;
    int n = 0;
    const char *p = line;
    for (;;) {
        while (cli_blank(*p))
            p++;
        if (*p == '\0' || *p == '#')
            return n;
        if (n == CLI_SPLIT_MAX_ARGS) {
            snprintf(err, errlen, "more than %d words on a line", CLI_SPLIT_MAX_ARGS);
            return -1;
        }
        if (o >= storelen) {
            snprintf(err, errlen, "the line is too long");
            return -1;
        }
        argv[n++] = store + o;
        while (*p != '\0' && !cli_blank(*p)) {
            char quote = 0;
            if (*p == '\'' || *p == '"')
                quote = *p++;
            if (quote == 0 && *p == '\\' && p[1] != '\0')
                p++;
            if (quote == 0) {
                if (o + 1 >= storelen)
                    goto too_long;
                store[o++] = *p++;
                continue;
            }
            while (*p != quote) {
                if (*p == '\0') {
                    snprintf(err, errlen, "a %s quote is not closed",
                             quote == '\'' ? "single" : "double");
                    return -1;
                }
                if (quote == '"' && *p == '\\' && strchr("\"\\$`", p[1]) != NULL && p[1] != '\0')
                    p++;
                if (o + 1 >= storelen)
                    goto too_long;
                store[o++] = *p++;
            }
            p++; /* the closing quote */
        }
        store[o++] = '\0';
    }
too_long:
    snprintf(err, errlen, "the line is too long");
    return -1;
}
