/* config.c - flags, environment twins and defaults, see config.h. */
#include "config.h"
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/netaddr.h"
#include "server/api/ui_auth.h"
#include "server/api/ui_base.h"
#include "server/cli/cli.h"
#include "server/net/ingest_log.h"

_Static_assert(CONFIG_UI_TOKEN_BUF == UI_AUTH_TOKEN_MAX + 1, "token buffer size");
_Static_assert(CONFIG_BASE_PATH_BUF == UI_BASE_MAX + 1, "base path buffer size");

typedef enum config_kind {
    CONFIG_STR,
    CONFIG_SIZE,
    CONFIG_COUNT,
    CONFIG_COUNT0, /* a whole number, 0 allowed (0 turns something off) */
    CONFIG_STORAGE,
    CONFIG_LEVEL,
    CONFIG_DURATION,
    CONFIG_UI_AUTH, /* token|none */
    CONFIG_ONOFF,   /* on|off: the field is 1 for off */
    CONFIG_TOKEN,   /* a string checked by ui_auth_token_check */
    CONFIG_BASE,    /* a path prefix, normalised by ui_base_normalise into base_path_buf */
    CONFIG_LIST     /* a repeatable flag (config_list) */
} config_kind;

typedef struct config_flag {
    const char *name; /* without the leading "--" */
    const char *env;
    config_kind kind;
    size_t offset;
    const char *meta;
    const char *help;
} config_flag;

#define OFF(field) offsetof(config, field)

static const config_flag config_flags[] = {
    {"ui-addr", "LOUPE_UI_ADDR", CONFIG_STR, OFF(ui_addr), "HOST:PORT",
     "web UI and JSON API (default 0.0.0.0:18888)"},
    {"otlp-grpc-addr", "LOUPE_OTLP_GRPC_ADDR", CONFIG_STR, OFF(otlp_grpc_addr), "HOST:PORT",
     "OTLP/gRPC receiver; takes OTLP/HTTP too (default 0.0.0.0:4317)"},
    {"otlp-http-addr", "LOUPE_OTLP_HTTP_ADDR", CONFIG_STR, OFF(otlp_http_addr), "HOST:PORT",
     "OTLP/HTTP receiver (default 0.0.0.0:4318)"},
    {"data-dir", "LOUPE_DATA_DIR", CONFIG_STR, OFF(data_dir), "DIR",
     "where the SQLite database lives (default ./loupe-data)"},
    {"storage", "LOUPE_STORAGE", CONFIG_STORAGE, OFF(storage), "sqlite|memory|clickhouse",
     "sqlite keeps data on disk; memory keeps nothing after exit; clickhouse stores in"
     " ClickHouse, shared by several loupes (default sqlite)"},
    {"clickhouse-url", "LOUPE_CLICKHOUSE_URL", CONFIG_STR, OFF(ch_url), "URL",
     "ClickHouse's HTTP interface, http://HOST:8123; with --clickhouse-cluster every shard's,"
     " comma-separated"},
    {"clickhouse-database", "LOUPE_CLICKHOUSE_DATABASE", CONFIG_STR, OFF(ch_database), "NAME",
     "the ClickHouse database loupe creates and uses (default loupe)"},
    {"clickhouse-user", "LOUPE_CLICKHOUSE_USER", CONFIG_STR, OFF(ch_user), "USER",
     "ClickHouse user (default: ClickHouse's default user)"},
    {"clickhouse-password", "LOUPE_CLICKHOUSE_PASSWORD", CONFIG_STR, OFF(ch_password), "PASSWORD",
     "ClickHouse password (prefer --clickhouse-password-file)"},
    {"clickhouse-password-file", "LOUPE_CLICKHOUSE_PASSWORD_FILE", CONFIG_STR,
     OFF(ch_password_file), "PATH", "read the ClickHouse password from the first line of this file"},
    {"clickhouse-cluster", "LOUPE_CLICKHOUSE_CLUSTER", CONFIG_STR, OFF(ch_cluster), "NAME",
     "a cluster in ClickHouse's remote_servers: loupe makes Distributed tables over its shards"},
    {"otlp-api-key", "LOUPE_OTLP_API_KEY", CONFIG_STR, OFF(otlp_api_key), "KEY",
     "require this key from exporters (x-otlp-api-key or Authorization: Bearer)"},
    {"otlp-api-key-secondary", "LOUPE_OTLP_API_KEY_SECONDARY", CONFIG_STR,
     OFF(otlp_api_key_secondary), "KEY", "a second accepted key, for rotation"},
    {"cors-origins", "LOUPE_CORS_ORIGINS", CONFIG_STR, OFF(cors_origins), "LIST",
     "comma-separated origins allowed to send OTLP/HTTP from a browser, or * (default none)"},
    {"max-body-size", "LOUPE_MAX_BODY_SIZE", CONFIG_SIZE, OFF(max_body_size), "BYTES",
     "largest OTLP/HTTP body, before and after gunzip (default 16MiB)"},
    {"max-grpc-message-size", "LOUPE_MAX_GRPC_MESSAGE_SIZE", CONFIG_SIZE,
     OFF(max_grpc_message_size), "BYTES", "largest OTLP/gRPC message (default 16MiB)"},
    {"ring-size", "LOUPE_RING_SIZE", CONFIG_SIZE, OFF(ring_size), "BYTES",
     "memory for batches waiting to be committed; beyond it exporters are told to retry (default 64MiB)"},
    {"max-spans", "LOUPE_MAX_SPANS", CONFIG_COUNT, OFF(max_spans), "N",
     "spans kept; the oldest traces are evicted past it (default 1000000)"},
    {"max-logs", "LOUPE_MAX_LOGS", CONFIG_COUNT, OFF(max_logs), "N",
     "log records kept (default 1000000)"},
    {"max-points", "LOUPE_MAX_POINTS", CONFIG_COUNT, OFF(max_points), "N",
     "metric points kept (default 5000000)"},
    {"max-age", "LOUPE_MAX_AGE", CONFIG_DURATION, OFF(max_age_ns), "DURATION",
     "also evict items older than this by their own time: 90s, 30m, 12h, 7d (default: no limit)"},
    {"max-db-size", "LOUPE_MAX_DB_SIZE", CONFIG_SIZE, OFF(max_db_size), "BYTES",
     "cap the database file; the oldest items are evicted to stay under it, at least 1MiB"
     " (default: no cap)"},
    {"log-level", "LOUPE_LOG_LEVEL", CONFIG_LEVEL, OFF(log_level), "LEVEL",
     "debug, info, warn or error (default info)"},
    {"ui-auth", "LOUPE_UI_AUTH", CONFIG_UI_AUTH, OFF(ui_auth_none), "token|none",
     "token: the web UI and API need the login token or a session cookie;"
     " none: open to anyone who can reach the port (default token)"},
    {"ui-token", "LOUPE_UI_TOKEN", CONFIG_TOKEN, OFF(ui_token), "TOKEN",
     "a fixed UI token, at least 16 characters (default: a random one per start)"},
    {"ui-token-file", "LOUPE_UI_TOKEN_FILE", CONFIG_STR, OFF(ui_token_file), "PATH",
     "read the fixed UI token from the first line of this file"},
    {"max-attributes", "LOUPE_MAX_ATTRIBUTES", CONFIG_COUNT, OFF(max_attributes), "N",
     "attributes kept per resource, scope, span, event, link, log or point; the rest are"
     " dropped and counted (default 128)"},
    {"max-attribute-value-length", "LOUPE_MAX_ATTRIBUTE_VALUE_LENGTH", CONFIG_SIZE,
     OFF(max_attr_value_len), "BYTES",
     "longer string and bytes attribute values are cut to this (default 32KiB)"},
    {"max-span-events", "LOUPE_MAX_SPAN_EVENTS", CONFIG_COUNT, OFF(max_span_events), "N",
     "events kept per span; the rest are dropped and counted (default 128)"},
    {"max-span-links", "LOUPE_MAX_SPAN_LINKS", CONFIG_COUNT, OFF(max_span_links), "N",
     "links kept per span; the rest are dropped and counted (default 128)"},
    {"max-connections", "LOUPE_MAX_CONNECTIONS", CONFIG_COUNT, OFF(max_connections), "N",
     "open connections per port (gRPC, OTLP/HTTP, UI); more are refused (default 1024)"},
    {"idle-timeout", "LOUPE_IDLE_TIMEOUT", CONFIG_DURATION, OFF(idle_timeout_ns), "DURATION",
     "close a connection that has sent nothing for this long (default 60s)"},
    {"request-timeout", "LOUPE_REQUEST_TIMEOUT", CONFIG_DURATION, OFF(request_timeout_ns),
     "DURATION", "a request's headers and body must arrive within this (default 30s)"},
    {"max-header-size", "LOUPE_MAX_HEADER_SIZE", CONFIG_SIZE, OFF(max_header_size), "BYTES",
     "largest request headers on every port (default 64KiB)"},
    {"max-live-clients", "LOUPE_MAX_LIVE_CLIENTS", CONFIG_COUNT, OFF(max_live_clients), "N",
     "concurrent live streams (GET /api/v1/live); more get 503 (default 64)"},
    {"query-timeout", "LOUPE_QUERY_TIMEOUT", CONFIG_DURATION, OFF(query_timeout_ns), "DURATION",
     "an API query stops after this and answers with what it found, marked partial"
     " (default 5s)"},
    {"ingest-log-size", "LOUPE_INGEST_LOG_SIZE", CONFIG_COUNT0, OFF(ingest_log_size), "N",
     "export requests the ingest inspector keeps in memory (GET /api/v1/ingest/requests);"
     " 0 turns it off (default 1000, at most 100000)"},
    {"log-patterns", "LOUPE_LOG_PATTERNS", CONFIG_ONOFF, OFF(log_patterns_off), "on|off",
     "group log records into patterns as they arrive (GET /api/v1/logs/patterns; default on)"},
    {"lint", "LOUPE_LINT", CONFIG_ONOFF, OFF(lint_off), "on|off",
     "check telemetry for instrumentation mistakes as it arrives (GET /api/v1/lint;"
     " default on)"},
    {"lint-orphan-grace", "LOUPE_LINT_ORPHAN_GRACE", CONFIG_DURATION, OFF(lint_orphan_grace_ns),
     "DURATION", "a span whose parent has not arrived after this is an orphan, 1s to 10m"
     " (default 2m)"},
    {"lint-max-series", "LOUPE_LINT_MAX_SERIES", CONFIG_COUNT, OFF(lint_max_series), "N",
     "a metric with more attribute sets than this is high-cardinality (default 1000)"},
    {"base-path", "LOUPE_BASE_PATH", CONFIG_BASE, OFF(base_path), "PATH",
     "serve the web UI and API below this path, e.g. /loupe behind a reverse proxy"
     " (default: at the root)"},
    {"forward", "LOUPE_FORWARD", CONFIG_LIST, OFF(forward), "URL",
     "also send everything stored on to this OTLP destination: grpc://HOST:PORT,"
     " http://HOST:PORT or https://...; repeatable (the variable: comma-separated)"},
    {"forward-protocol", "LOUPE_FORWARD_PROTOCOL", CONFIG_STR, OFF(forward_protocol), "PROTOCOL",
     "for http(s) --forward URLs: http/protobuf, http/json or grpc (default http/protobuf)"},
    {"forward-header", "LOUPE_FORWARD_HEADER", CONFIG_LIST, OFF(forward_headers), "KEY=VALUE",
     "a header sent with every forwarded request, e.g. an API key; repeatable (the variable:"
     " comma-separated)"},
};

#define CONFIG_NFLAGS (sizeof(config_flags) / sizeof(config_flags[0]))

int config_parse_size(const char *text, size_t *out) {
    char *end;
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -1;
    unsigned long long mult = 1;
    if (*end) {
        static const struct {
            const char *suffix;
            unsigned long long mult;
        } units[] = {{"k", 1024ULL},        {"K", 1024ULL},        {"KB", 1024ULL},
                     {"KiB", 1024ULL},      {"m", 1048576ULL},     {"M", 1048576ULL},
                     {"MB", 1048576ULL},    {"MiB", 1048576ULL},   {"g", 1073741824ULL},
                     {"G", 1073741824ULL},  {"GB", 1073741824ULL}, {"GiB", 1073741824ULL},
                     {"B", 1ULL}};
        size_t i;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(end, units[i].suffix) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0]))
            return -1;
        mult = units[i].mult;
    }
    if (v > (unsigned long long)SIZE_MAX / mult)
        return -1;
    *out = (size_t)(v * mult);
    return 0;
}

int config_parse_duration(const char *text, uint64_t *out_ns) {
    char *end;
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || v == 0)
        return -1;
    unsigned long long unit = 1; /* seconds */
    if (strcmp(end, "ms") == 0) {
        if (v > UINT64_MAX / 1000000ULL)
            return -1;
        *out_ns = (uint64_t)(v * 1000000ULL);
        return 0;
    }
    if (strcmp(end, "s") == 0 || *end == '\0')
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    else
        return -1;
    if (v > UINT64_MAX / 1000000000ULL / unit)
        return -1;
    *out_ns = (uint64_t)(v * unit * 1000000000ULL);
    return 0;
}

/* The flags that take one of a few words; the value set is the word's
 * index. `what` completes the error "... is not ". */
typedef struct config_choice {
    const char *words[4];
    int n;
    const char *what;
} config_choice;

static const config_choice config_choices[] = {
    [CONFIG_UI_AUTH] = {{"token", "none"}, 2, "a UI auth mode (token or none)"},
    [CONFIG_STORAGE] = {{"sqlite", "memory", "clickhouse"}, 3,
                        "a storage kind (sqlite, memory or clickhouse)"},
    [CONFIG_LEVEL] = {{"debug", "info", "warn", "error"}, 4,
                      "a log level (debug, info, warn, error)"},
    [CONFIG_ONOFF] = {{"on", "off"}, 2, "on or off"},
};

/* Sets *field to the index of value among c's words. Returns NULL, or
 * c->what when value is none of them. */
static const char *config_choose(const char *value, const config_choice *c, int *field) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(value, c->words[i]) == 0) {
            *field = i;
            return NULL;
        }
    return c->what;
}

/* A positive whole number. Returns 0 or -1. */
static int config_parse_count(const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || *end || errno || v == 0)
        return -1;
    *out = v;
    return 0;
}

/* Adds value to the list: the command line's values replace the
 * environment's; the environment's comma-separated list is split in a copy. */
static int config_set_list(config_list *l, const char *value, const char *source, char *err,
                           size_t errlen) {
    size_t max = (size_t)(strcmp(source, "--forward") == 0 || strcmp(source, "LOUPE_FORWARD") == 0
                              ? CONFIG_MAX_FORWARD
                              : CONFIG_MAX_FORWARD_HEADERS);
    if (source[0] == '-') {
        if (!l->from_argv)
            l->n = 0;
        l->from_argv = 1;
        if (l->n == max) {
            snprintf(err, errlen, "%s: given more than %zu times", source, max);
            return -1;
        }
        l->items[l->n++] = value;
        return 0;
    }
    size_t len = strlen(value);
    if (len >= sizeof(l->env)) {
        snprintf(err, errlen, "%s: longer than %zu characters", source, sizeof(l->env) - 1);
        return -1;
    }
    memcpy(l->env, value, len + 1);
    l->n = 0;
    for (char *p = l->env; *p != '\0';) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ')
            p++;
        if (*p != '\0') {
            if (l->n == max) {
                snprintf(err, errlen, "%s: more than %zu entries", source, max);
                return -1;
            }
            l->items[l->n++] = p;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

static int config_set(config *cfg, const config_flag *f, const char *value, const char *source,
                      char *err, size_t errlen) {
    void *field = (char *)cfg + f->offset;
    const char *bad = NULL; /* what value is not, for the error */
    size_t size;
    uint64_t n;
    char why[160];
    switch (f->kind) {
    case CONFIG_STR:
        *(const char **)field = value;
        break;
    case CONFIG_SIZE:
        if (config_parse_size(value, &size) == 0 && size != 0)
            *(size_t *)field = size;
        else
            bad = "a size (examples: 1048576, 512KiB, 16MiB)";
        break;
    case CONFIG_COUNT:
        if (config_parse_count(value, &n) == 0)
            *(uint64_t *)field = n;
        else
            bad = "a positive whole number";
        break;
    case CONFIG_COUNT0:
        if (strcmp(value, "0") == 0)
            *(uint64_t *)field = 0;
        else if (config_parse_count(value, &n) == 0)
            *(uint64_t *)field = n;
        else
            bad = "a whole number";
        break;
    case CONFIG_DURATION:
        if (config_parse_duration(value, &n) == 0)
            *(uint64_t *)field = n;
        else
            bad = "a duration (examples: 90s, 30m, 12h, 7d)";
        break;
    case CONFIG_UI_AUTH:
    case CONFIG_STORAGE:
    case CONFIG_LEVEL:
    case CONFIG_ONOFF:
        bad = config_choose(value, &config_choices[f->kind], field);
        break;
    case CONFIG_TOKEN:
        if (ui_auth_token_check(value, strlen(value), why, sizeof(why)) != UI_AUTH_OK) {
            snprintf(err, errlen, "%s: %s", source, why);
            return -1;
        }
        *(const char **)field = value;
        break;
    case CONFIG_BASE:
        if (ui_base_normalise(value, cfg->base_path_buf, sizeof(cfg->base_path_buf), why,
                              sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", source, why);
            return -1;
        }
        *(const char **)field = cfg->base_path_buf;
        break;
    case CONFIG_LIST:
        return config_set_list(field, value, source, err, errlen);
    }
    if (bad != NULL) {
        snprintf(err, errlen, "%s: \"%s\" is not %s", source, value, bad);
        return -1;
    }
    return 0;
}

const char *config_ui_token(const config *cfg) {
    if (cfg->ui_token_read[0] != '\0')
        return cfg->ui_token_read;
    return cfg->ui_token;
}

/* Reads the first line of --ui-token-file into cfg->ui_token_read, trailing
 * whitespace trimmed, and checks it like --ui-token. */
static int config_read_token_file(config *cfg, char *err, size_t errlen) {
    const char *path = cfg->ui_token_file;
    char line[CONFIG_UI_TOKEN_BUF + 2]; /* room to see that a line is too long */
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "--ui-token-file: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = 0;
    int c = 0;
    while (n < sizeof(line) - 1 && (c = getc(f)) != EOF && c != '\n')
        line[n++] = (char)c;
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "--ui-token-file: cannot read %s: %s", path, strerror(saved));
        return -1;
    }
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        n--;
    line[n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "--ui-token-file: %s is empty (the token is its first line)", path);
        return -1;
    }
    char why[160];
    if (ui_auth_token_check(line, n, why, sizeof(why)) != UI_AUTH_OK) {
        snprintf(err, errlen, "--ui-token-file: %s: %s", path, why);
        return -1;
    }
    memcpy(cfg->ui_token_read, line, n + 1);
    explicit_bzero(line, sizeof(line));
    return 0;
}

/* The first line of the file of flag `flag` (path) into out (len bytes,
 * trailing spaces cut; empty is an error). Returns 0 or -1 with err set. */
static int config_read_line(const char *flag, const char *path, char *out, size_t len, char *err,
                            size_t errlen) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "--%s: cannot read %s: %s", flag, path, strerror(errno));
        return -1;
    }
    size_t n = 0;
    int c = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (n + 1 >= len) {
            fclose(f);
            explicit_bzero(out, len);
            snprintf(err, errlen, "--%s: the first line of %s is longer than %zu bytes", flag,
                     path, len - 1);
            return -1;
        }
        out[n++] = (char)c;
    }
    int bad = ferror(f), saved = errno;
    fclose(f);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
    if (bad || n == 0) {
        snprintf(err, errlen, "--%s: %s %s", flag, path,
                 bad ? strerror(saved) : "is empty (the first line is read)");
        return -1;
    }
    return 0;
}

/* 1 when s is a name ClickHouse takes unquoted: [A-Za-z_][A-Za-z0-9_]*, at
 * most 64 bytes. */
static int config_ch_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64 || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

/* --storage clickhouse and its flags: the URLs split, the password read. */
static int config_clickhouse(config *cfg, char *err, size_t errlen) {
    if (cfg->storage != CONFIG_STORAGE_CLICKHOUSE) {
        const char *set = cfg->ch_url ? "url" : cfg->ch_cluster ? "cluster" : NULL;
        if (set) {
            snprintf(err, errlen, "--clickhouse-%s needs --storage clickhouse", set);
            return CONFIG_EINVAL;
        }
        return CONFIG_OK;
    }
    if (cfg->ch_url == NULL || cfg->ch_url[0] == '\0') {
        snprintf(err, errlen, "--storage clickhouse needs --clickhouse-url http://HOST:8123");
        return CONFIG_EINVAL;
    }
    if (strlen(cfg->ch_url) >= sizeof(cfg->ch_url_buf)) {
        snprintf(err, errlen, "--clickhouse-url: too long");
        return CONFIG_EINVAL;
    }
    memcpy(cfg->ch_url_buf, cfg->ch_url, strlen(cfg->ch_url) + 1);
    cfg->n_ch_urls = 0;
    for (char *save = NULL, *u = strtok_r(cfg->ch_url_buf, ",", &save); u != NULL;
         u = strtok_r(NULL, ",", &save)) {
        while (*u == ' ')
            u++;
        size_t n = strlen(u);
        while (n > 0 && (u[n - 1] == ' ' || u[n - 1] == '/'))
            u[--n] = '\0';
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            snprintf(err, errlen, "--clickhouse-url: %s is not http://HOST:PORT", u);
            return CONFIG_EINVAL;
        }
        if (cfg->n_ch_urls == CONFIG_CH_MAX_URLS) {
            snprintf(err, errlen, "--clickhouse-url: more than %d servers", CONFIG_CH_MAX_URLS);
            return CONFIG_EINVAL;
        }
        cfg->ch_urls[cfg->n_ch_urls++] = u;
    }
    if (cfg->n_ch_urls == 0) {
        snprintf(err, errlen, "--clickhouse-url: no URL given");
        return CONFIG_EINVAL;
    }
    if (cfg->n_ch_urls > 1 && cfg->ch_cluster == NULL) {
        snprintf(err, errlen, "--clickhouse-url: several servers need --clickhouse-cluster");
        return CONFIG_EINVAL;
    }
    if (cfg->ch_database && !config_ch_name(cfg->ch_database)) {
        snprintf(err, errlen, "--clickhouse-database: use letters, digits and _ (got %s)",
                 cfg->ch_database);
        return CONFIG_EINVAL;
    }
    if (cfg->ch_cluster && !config_ch_name(cfg->ch_cluster)) {
        snprintf(err, errlen, "--clickhouse-cluster: use letters, digits and _ (got %s)",
                 cfg->ch_cluster);
        return CONFIG_EINVAL;
    }
    if (cfg->max_db_size != 0) {
        snprintf(err, errlen, "--max-db-size has no meaning with --storage clickhouse");
        return CONFIG_EINVAL;
    }
    if (cfg->forward.n != 0) {
        snprintf(err, errlen, "--forward is not available with --storage clickhouse"
                              " (docs/storage.md)");
        return CONFIG_EINVAL;
    }
    if (cfg->ch_password_file && cfg->ch_password_file[0]) {
        if (cfg->ch_password) {
            snprintf(err, errlen, "--clickhouse-password and --clickhouse-password-file are"
                                  " both set; use one");
            return CONFIG_EINVAL;
        }
        if (config_read_line("clickhouse-password-file", cfg->ch_password_file,
                             cfg->ch_password_read, sizeof(cfg->ch_password_read), err,
                             errlen) != 0)
            return CONFIG_EINVAL;
        cfg->ch_password = cfg->ch_password_read;
    }
    return CONFIG_OK;
}

static void config_usage(void) {
    printf("loupe %s - a standalone OpenTelemetry dashboard\n\n"
           "usage: loupe [flags]\n"
           "       loupe healthcheck [flags]   exit 0 if the loupe on --ui-addr is ready\n",
           LOUPE_VERSION);
    cli_print_commands(stdout);
    printf("(loupe COMMAND --help for each command)\n\n"
           "Every flag can also be set through the environment variable shown.\n\n");
    for (size_t i = 0; i < CONFIG_NFLAGS; i++) {
        const config_flag *f = &config_flags[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s %s", f->name, f->meta);
        if (strlen(left) > 34) { /* the name on a line of its own */
            printf("  %s\n  %-34s %s\n  %-34s [%s]\n", left, "", f->help, "", f->env);
            continue;
        }
        printf("  %-34s %s\n  %-34s [%s]\n", left, f->help, "", f->env);
    }
    printf("  %-34s %s\n  %-34s %s\n", "--help", "print this help", "--version",
           "print the version");
}

static void config_defaults(config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->ui_addr = "0.0.0.0:18888";
    cfg->otlp_grpc_addr = "0.0.0.0:4317";
    cfg->otlp_http_addr = "0.0.0.0:4318";
    cfg->data_dir = "./loupe-data";
    cfg->max_body_size = 16u << 20;
    cfg->max_grpc_message_size = 16u << 20;
    cfg->ring_size = 64u << 20;
    cfg->max_spans = 1000000;
    cfg->max_logs = 1000000;
    cfg->max_points = 5000000;
    cfg->log_level = LOG_INFO;
    cfg->max_attributes = 128;
    cfg->max_attr_value_len = 32u << 10;
    cfg->max_span_events = 128;
    cfg->max_span_links = 128;
    cfg->max_connections = 1024;
    cfg->idle_timeout_ns = 60ULL * 1000000000ULL;
    cfg->request_timeout_ns = 30ULL * 1000000000ULL;
    cfg->max_header_size = 64u << 10;
    cfg->max_live_clients = 64;
    cfg->query_timeout_ns = 5ULL * 1000000000ULL;
    cfg->ingest_log_size = INGEST_LOG_DEFAULT;
    cfg->lint_orphan_grace_ns = 120ULL * 1000000000ULL;
    cfg->lint_max_series = 1000;
    cfg->base_path = "";
}

/* Every LOUPE_* variable that is set and not empty. */
static int config_from_env(config *cfg, char *err, size_t errlen) {
    for (size_t i = 0; i < CONFIG_NFLAGS; i++) {
        const char *v = getenv(config_flags[i].env);
        if (v != NULL && *v != '\0' &&
            config_set(cfg, &config_flags[i], v, config_flags[i].env, err, errlen) != 0)
            return CONFIG_EINVAL;
    }
    return CONFIG_OK;
}

/* The flag named by the first namelen bytes of name, or NULL. */
static const config_flag *config_find(const char *name, size_t namelen) {
    for (size_t k = 0; k < CONFIG_NFLAGS; k++)
        if (strlen(config_flags[k].name) == namelen &&
            strncmp(config_flags[k].name, name, namelen) == 0)
            return &config_flags[k];
    return NULL;
}

int config_apply(config *cfg, const char *name, const char *value, const char *source, char *err,
                 size_t errlen) {
    const config_flag *f = config_find(name, strlen(name));
    if (f == NULL) {
        snprintf(err, errlen, "%s: internal: no flag --%s", source, name);
        return -1;
    }
    int rc = config_set(cfg, f, value, source, err, errlen);
    if (rc == 0 && f->offset == OFF(ui_token))
        cfg->aspire_token = value;
    return rc;
}

/* argv[*i] is a flag: "--name=value" or "--name value" (then *i moves on
 * to the value). */
static int config_from_arg(config *cfg, int argc, char **argv, int *i, char *err,
                           size_t errlen) {
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t namelen = eq ? (size_t)(eq - name) : strlen(name);
    const config_flag *f = config_find(name, namelen);
    if (f == NULL) {
        snprintf(err, errlen, "unknown flag \"%.*s\" (see --help)", (int)(namelen + 2), arg);
        return CONFIG_EINVAL;
    }
    const char *value;
    if (eq) {
        value = eq + 1;
    } else if (*i + 1 < argc) {
        value = argv[++*i];
    } else {
        snprintf(err, errlen, "flag --%s needs a value (%s)", f->name, f->meta);
        return CONFIG_EINVAL;
    }
    char source[64];
    snprintf(source, sizeof(source), "--%s", f->name);
    return config_set(cfg, f, value, source, err, errlen) != 0 ? CONFIG_EINVAL : CONFIG_OK;
}

static int config_from_argv(config *cfg, int argc, char **argv, char *err, size_t errlen) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage();
            return CONFIG_EXIT;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("loupe %s\n", LOUPE_VERSION);
            return CONFIG_EXIT;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", arg);
            return CONFIG_EINVAL;
        }
        if (config_from_arg(cfg, argc, argv, &i, err, errlen) != CONFIG_OK)
            return CONFIG_EINVAL;
    }
    return CONFIG_OK;
}

/* Addresses are checked here so that a typo is a flag error. */
static int config_check_addrs(const config *cfg, char *err, size_t errlen) {
    const struct {
        const char *flag, *value;
    } addrs[] = {{"--ui-addr", cfg->ui_addr},
                 {"--otlp-grpc-addr", cfg->otlp_grpc_addr},
                 {"--otlp-http-addr", cfg->otlp_http_addr}};
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        char why[256];
        if (netaddr_parse(addrs[i].value, &ss, &len, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", addrs[i].flag, why);
            return CONFIG_EINVAL;
        }
    }
    return CONFIG_OK;
}

/* Bounds that depend on no other flag. */
static int config_check_ranges(const config *cfg, char *err, size_t errlen) {
    if (cfg->max_connections > 65536)
        snprintf(err, errlen, "--max-connections: %llu is more than 65536",
                 (unsigned long long)cfg->max_connections);
    else if (cfg->max_header_size < 1024 || cfg->max_header_size > ((size_t)16 << 20))
        snprintf(err, errlen, "--max-header-size: %zu bytes is outside 1KiB..16MiB",
                 cfg->max_header_size);
    else if (cfg->max_live_clients > 100000)
        snprintf(err, errlen, "--max-live-clients: %llu is more than 100000",
                 (unsigned long long)cfg->max_live_clients);
    else if (cfg->query_timeout_ns < 1000000ULL || cfg->query_timeout_ns > 3600ULL * 1000000000ULL)
        snprintf(err, errlen, "--query-timeout: must be from 1ms to 1h");
    else if (cfg->ingest_log_size > INGEST_LOG_MAX)
        snprintf(err, errlen, "--ingest-log-size: %llu is more than %u",
                 (unsigned long long)cfg->ingest_log_size, INGEST_LOG_MAX);
    else if (cfg->lint_orphan_grace_ns < 1000000000ULL ||
             cfg->lint_orphan_grace_ns > 600ULL * 1000000000ULL)
        /* the rollup forgets a waiting child after 10 minutes */
        snprintf(err, errlen, "--lint-orphan-grace: must be from 1s to 10m");
    else if (cfg->max_db_size != 0 && cfg->max_db_size < ((size_t)1 << 20))
        /* the store's STORE_MIN_DB_BYTES: the schema and a few batches */
        snprintf(err, errlen, "--max-db-size: %zu bytes is too small (at least 1MiB)",
                 cfg->max_db_size);
    else
        return CONFIG_OK;
    return CONFIG_EINVAL;
}

/* --ui-token-file: read once the flags are known; excludes --ui-token. */
static int config_load_token(config *cfg, char *err, size_t errlen) {
    if (cfg->ui_token_file == NULL || cfg->ui_token_file[0] == '\0')
        return CONFIG_OK;
    if (cfg->ui_token != NULL && cfg->ui_token == cfg->aspire_token)
        cfg->ui_token = NULL; /* loupe's own setting wins over the Aspire name */
    if (cfg->ui_token != NULL) {
        snprintf(err, errlen, "--ui-token and --ui-token-file (or LOUPE_UI_TOKEN and "
                              "LOUPE_UI_TOKEN_FILE) are both set; use one");
        return CONFIG_EINVAL;
    }
    return config_read_token_file(cfg, err, errlen) != 0 ? CONFIG_EINVAL : CONFIG_OK;
}

int config_parse(config *cfg, int argc, char **argv, char *err, size_t errlen) {
    config_defaults(cfg);
    int rc = config_from_aspire(cfg, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_from_env(cfg, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_from_argv(cfg, argc, argv, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_check_addrs(cfg, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_check_ranges(cfg, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_load_token(cfg, err, errlen);
    if (rc == CONFIG_OK)
        rc = config_clickhouse(cfg, err, errlen);
    return rc;
}
