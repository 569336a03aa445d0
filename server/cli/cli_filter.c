/* cli_filter.c - the filter language and its API queries, see
 * cli_filter.h. */
#include "cli_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "util/textfmt.h"

#define CLI_FILTER_TRACES_BIT (1u << CLI_FILTER_TRACES)
#define CLI_FILTER_LOGS_BIT (1u << CLI_FILTER_LOGS)
#define CLI_FILTER_METRICS_BIT (1u << CLI_FILTER_METRICS)
#define CLI_FILTER_ALL_BITS 7u

typedef enum cli_op {
    CLI_OP_EQ = 0,
    CLI_OP_NE,
    CLI_OP_CONTAINS,
    CLI_OP_GT,
    CLI_OP_GE,
    CLI_OP_LT,
    CLI_OP_LE,
} cli_op;

static const char *const cli_op_text[] = {"=", "!=", "~", ">", ">=", "<", "<="};

/* A key of the language: the kinds it applies to and how it maps. */
typedef enum cli_key_map {
    CLI_MAP_PLAIN,    /* key=value -> api=value */
    CLI_MAP_DURATION, /* duration>D, duration<D -> minDuration / maxDuration */
    CLI_MAP_SEVERITY, /* severity>=S -> minSeverity */
    CLI_MAP_SINCE,    /* since=D -> start (now - D) */
} cli_key_map;

static const struct {
    const char *word;
    const char *api;
    unsigned kinds;
    cli_key_map map;
} cli_keys[] = {
    {"service", "service", CLI_FILTER_ALL_BITS, CLI_MAP_PLAIN},
    {"name", "name", CLI_FILTER_TRACES_BIT, CLI_MAP_PLAIN},
    {"status", "status", CLI_FILTER_TRACES_BIT, CLI_MAP_PLAIN},
    {"q", "q", CLI_FILTER_TRACES_BIT | CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"duration", NULL, CLI_FILTER_TRACES_BIT, CLI_MAP_DURATION},
    {"minDuration", "minDuration", CLI_FILTER_TRACES_BIT, CLI_MAP_PLAIN},
    {"maxDuration", "maxDuration", CLI_FILTER_TRACES_BIT, CLI_MAP_PLAIN},
    {"severity", "minSeverity", CLI_FILTER_LOGS_BIT, CLI_MAP_SEVERITY},
    {"minSeverity", "minSeverity", CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"trace", "traceId", CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"traceId", "traceId", CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"span", "spanId", CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"spanId", "spanId", CLI_FILTER_LOGS_BIT, CLI_MAP_PLAIN},
    {"since", NULL, CLI_FILTER_ALL_BITS, CLI_MAP_SINCE},
    {"start", "start", CLI_FILTER_ALL_BITS, CLI_MAP_PLAIN},
    {"end", "end", CLI_FILTER_ALL_BITS, CLI_MAP_PLAIN},
};
#define CLI_NKEYS (sizeof(cli_keys) / sizeof(cli_keys[0]))

static const char *const cli_kind_name[] = {"trace", "log", "metric"};

void cli_filter_free(cli_filter *f) {
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->params[i].value);
    free(f->metric);
    memset(f, 0, sizeof(*f));
}

const char *cli_filter_get(const cli_filter *f, const char *key) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->params[i].key, key) == 0)
            return f->params[i].value;
    return NULL;
}

/* The operator at s: its length and kind, 0 when none. */
static size_t cli_op_at(const char *s, cli_op *op) {
    static const struct {
        const char *text;
        cli_op op;
    } ops[] = {{"!=", CLI_OP_NE}, {">=", CLI_OP_GE}, {"<=", CLI_OP_LE}, {"=", CLI_OP_EQ},
               {"~", CLI_OP_CONTAINS}, {">", CLI_OP_GT}, {"<", CLI_OP_LT}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t l = strlen(ops[i].text);
        if (strncmp(s, ops[i].text, l) == 0) {
            *op = ops[i].op;
            return l;
        }
    }
    return 0;
}

/* A value wholly in quotes ('...' or "..." with \" and \\ escapes), as a
 * positional word keeps them when the shell had them quoted, without its
 * quotes, into out. Returns value itself when it is not quoted. */
static const char *cli_unquote(const char *value, char *out, size_t outlen) {
    size_t n = strlen(value);
    if (n < 2 || (value[0] != '"' && value[0] != '\'') || value[n - 1] != value[0] ||
        n > outlen)
        return value;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (value[0] == '"' && value[i] == '\\' && i + 2 < n &&
            (value[i + 1] == '"' || value[i + 1] == '\\'))
            i++;
        out[o++] = value[i];
    }
    out[o] = '\0';
    return out;
}

static int cli_filter_add(cli_filter *f, const char *key, const char *value, char *err,
                          size_t errlen) {
    if (f->n == CLI_FILTER_MAX_PARAMS) {
        snprintf(err, errlen, "too many filters (at most %d)", CLI_FILTER_MAX_PARAMS);
        return -1;
    }
    if (strcmp(key, "attr") != 0 && cli_filter_get(f, key) != NULL) {
        snprintf(err, errlen, "'%s' is given twice", key);
        return -1;
    }
    char *v = strdup(value);
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->params[f->n].key = key;
    f->params[f->n].value = v;
    f->n++;
    return 0;
}

/* attr:KEY OP VALUE -> attr=KEY OP VALUE (the API's syntax). */
static int cli_filter_attr(cli_filter *f, const char *word, char *err, size_t errlen) {
    const char *k = word + 5;
    size_t klen = strcspn(k, "=!~<>");
    cli_op op = CLI_OP_EQ;
    size_t oplen = k[klen] != '\0' ? cli_op_at(k + klen, &op) : 0;
    if (klen == 0 || oplen == 0 || op == CLI_OP_GE || op == CLI_OP_LE) {
        snprintf(err, errlen,
                 "'%s': an attribute filter is attr:KEY=VALUE, attr:KEY!=VALUE, attr:KEY~TEXT, "
                 "attr:KEY>NUMBER or attr:KEY<NUMBER",
                 word);
        return -1;
    }
    char unquoted[4096], joined[4400];
    const char *value = cli_unquote(k + klen + oplen, unquoted, sizeof(unquoted));
    snprintf(joined, sizeof(joined), "%.*s%s", (int)(klen + oplen), k, value);
    return cli_filter_add(f, "attr", joined, err, errlen);
}

/* duration>D / >= / < / <= as minDuration / maxDuration in nanoseconds. */
static int cli_filter_duration(cli_filter *f, cli_op op, const char *value, char *err,
                               size_t errlen) {
    uint64_t ns;
    if (cli_parse_duration(value, &ns) != 0) {
        snprintf(err, errlen, "'duration': \"%s\" is not a duration such as 200ms, 1.5s or 2m",
                 value);
        return -1;
    }
    if (op == CLI_OP_GT)
        ns++;
    if (op == CLI_OP_LT) {
        if (ns == 0) {
            snprintf(err, errlen, "'duration<0' can never hold");
            return -1;
        }
        ns--;
    }
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)ns);
    if (op == CLI_OP_GT || op == CLI_OP_GE)
        return cli_filter_add(f, "minDuration", v, err, errlen);
    if (op == CLI_OP_LT || op == CLI_OP_LE)
        return cli_filter_add(f, "maxDuration", v, err, errlen);
    snprintf(err, errlen, "'duration' takes >, >=, < or <= (duration>200ms)");
    return -1;
}

/* One KEY OP VALUE word. */
static int cli_filter_word(cli_filter *f, const char *word, char *err, size_t errlen) {
    if (strncmp(word, "attr:", 5) == 0)
        return cli_filter_attr(f, word, err, errlen);
    size_t klen = strcspn(word, "=!~<>");
    cli_op op = CLI_OP_EQ;
    size_t oplen = word[klen] != '\0' ? cli_op_at(word + klen, &op) : 0;
    size_t i = 0;
    while (i < CLI_NKEYS && !(strlen(cli_keys[i].word) == klen &&
                              strncmp(cli_keys[i].word, word, klen) == 0))
        i++;
    if (oplen == 0 || i == CLI_NKEYS) {
        snprintf(err, errlen,
                 "'%s' is not a filter: use KEY=VALUE with KEY one of service, name, status, q, "
                 "duration, severity, trace, span, since, start, end, attr:NAME",
                 word);
        return -1;
    }
    if ((cli_keys[i].kinds & (1u << f->kind)) == 0) {
        snprintf(err, errlen, "'%s' does not apply to %ss", cli_keys[i].word,
                 cli_kind_name[f->kind]);
        return -1;
    }
    char unquoted[4096];
    const char *value = cli_unquote(word + klen + oplen, unquoted, sizeof(unquoted));
    switch (cli_keys[i].map) {
    case CLI_MAP_DURATION:
        return cli_filter_duration(f, op, value, err, errlen);
    case CLI_MAP_SEVERITY:
        if (op != CLI_OP_GE) {
            snprintf(err, errlen, "'severity' takes >= (severity>=warn: that level and above)");
            return -1;
        }
        return cli_filter_add(f, cli_keys[i].api, value, err, errlen);
    case CLI_MAP_SINCE:
        if (op != CLI_OP_EQ || cli_parse_duration(value, &f->since_ns) != 0 || f->has_since) {
            snprintf(err, errlen, "'since' takes one duration: since=15m");
            return -1;
        }
        f->has_since = 1;
        return 0;
    case CLI_MAP_PLAIN:
        break;
    }
    if (op != CLI_OP_EQ) {
        snprintf(err, errlen, "'%s' takes = (%s=VALUE), not %s", cli_keys[i].word,
                 cli_keys[i].word, cli_op_text[op]);
        return -1;
    }
    if (*value == '\0') {
        snprintf(err, errlen, "'%s=' needs a value", cli_keys[i].word);
        return -1;
    }
    return cli_filter_add(f, cli_keys[i].api, value, err, errlen);
}

int cli_filter_parse_words(char *const *words, int nwords, cli_filter_kind kind, cli_filter *f,
                           char *err, size_t errlen) {
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    int i = 0;
    if (kind == CLI_FILTER_METRICS) {
        if (nwords == 0 || strcspn(words[0], "=!~<>") != strlen(words[0])) {
            snprintf(err, errlen, "a metric filter starts with the metric's name "
                                  "(\"http.server.requests service=checkout\")");
            return -1;
        }
        f->metric = strdup(words[0]);
        if (f->metric == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        i = 1;
    }
    for (; i < nwords; i++) {
        if (cli_filter_word(f, words[i], err, errlen) != 0) {
            cli_filter_free(f);
            return -1;
        }
    }
    if (cli_filter_get(f, "start") != NULL && f->has_since) {
        snprintf(err, errlen, "give since= or start=, not both");
        cli_filter_free(f);
        return -1;
    }
    return 0;
}

int cli_filter_parse(const char *text, cli_filter_kind kind, cli_filter *f, char *err,
                     size_t errlen) {
    size_t len = strlen(text);
    char *store = malloc(2 * len + 2);
    char *words[CLI_SPLIT_MAX_ARGS];
    if (store == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = cli_split_line(text, store, 2 * len + 2, words, err, errlen);
    int rc = n < 0 ? -1 : cli_filter_parse_words(words, n, kind, f, err, errlen);
    free(store);
    return rc;
}

static int cli_param(buf *out, const char *key, const char *value) {
    int rc = out->len > 0 && out->ptr[out->len - 1] != '?' ? buf_append_char(out, '&') : BUF_OK;
    if (rc == BUF_OK)
        rc = buf_append_str(out, key);
    if (rc == BUF_OK)
        rc = buf_append_char(out, '=');
    if (rc == BUF_OK)
        rc = textfmt_url_encode(value, out);
    return rc;
}

int cli_filter_query(const cli_filter *f, uint64_t now_ns, buf *out) {
    int rc = BUF_OK;
    for (size_t i = 0; i < f->n && rc == BUF_OK; i++)
        rc = cli_param(out, f->params[i].key, f->params[i].value);
    if (rc == BUF_OK && f->has_since) {
        char v[24];
        uint64_t start = f->since_ns < now_ns ? now_ns - f->since_ns : 1;
        snprintf(v, sizeof(v), "%llu", (unsigned long long)start);
        rc = cli_param(out, "start", v);
    }
    return rc;
}

int cli_filter_ui_link(const cli_filter *f, const char *base, uint64_t now_ns, buf *out) {
    static const char *const pages[] = {"/traces?", "/logs?", "/metrics?"};
    int rc = buf_append_str(out, base);
    if (rc == BUF_OK)
        rc = buf_append_str(out, pages[f->kind]);
    if (rc == BUF_OK && f->kind == CLI_FILTER_METRICS) {
        /* the metrics page names its selection metric= and mservice= */
        rc = cli_param(out, "metric", f->metric);
        const char *svc = cli_filter_get(f, "service");
        if (rc == BUF_OK && svc != NULL)
            rc = cli_param(out, "mservice", svc);
        for (size_t i = 0; i < f->n && rc == BUF_OK; i++)
            if (strcmp(f->params[i].key, "service") != 0)
                rc = cli_param(out, f->params[i].key, f->params[i].value);
    } else if (rc == BUF_OK) {
        for (size_t i = 0; i < f->n && rc == BUF_OK; i++)
            rc = cli_param(out, f->params[i].key, f->params[i].value);
    }
    if (rc != BUF_OK)
        return rc;
    /* the UI shows the last hour unless told otherwise */
    if (f->has_since) {
        char v[24];
        snprintf(v, sizeof(v), "%llu",
                 (unsigned long long)(f->since_ns < now_ns ? now_ns - f->since_ns : 1));
        return cli_param(out, "start", v);
    }
    if (cli_filter_get(f, "start") == NULL)
        return cli_param(out, "range", "7d");
    return BUF_OK;
}
