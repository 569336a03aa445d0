/* config.h - loupe's command-line flags and their environment twins.
 *
 * Every flag --some-name has an environment twin LOUPE_SOME_NAME; a flag
 * given on the command line wins over the environment, which wins over the
 * Aspire dashboard's names for the same settings (config_aspire.c,
 * docs/aspire.md), which win over the default. Strings point into argv or
 * environ (borrowed for the process's lifetime) or into cfg's buffers.
 */
#ifndef LOUPE_CONFIG_H
#define LOUPE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define LOUPE_VERSION "0.1.0"

#define CONFIG_UI_TOKEN_BUF 257 /* UI_AUTH_TOKEN_MAX + 1 */
#define CONFIG_BASE_PATH_BUF 201 /* UI_BASE_MAX + 1 */
#define CONFIG_ASPIRE_IGNORED 16  /* Aspire names without a loupe meaning, noted */
#define CONFIG_ASPIRE_NAME 80
#define CONFIG_ASPIRE_ADDR 96
#define CONFIG_MAX_FORWARD 8          /* FORWARD_MAX_DESTS */
#define CONFIG_MAX_FORWARD_HEADERS 16 /* FORWARD_MAX_HEADERS */
#define CONFIG_LIST_BUF 8192          /* an environment list, split in place */
#define CONFIG_CH_PASSWORD_BUF 257
#define CONFIG_CH_MAX_URLS 16 /* CH_MAX_SHARDS */

#define CONFIG_STORAGE_SQLITE 0
#define CONFIG_STORAGE_MEMORY 1
#define CONFIG_STORAGE_CLICKHOUSE 2

/* A repeatable flag (--forward URL --forward URL2): its values in order.
 * The environment twin holds a comma-separated list; flags on the command
 * line replace it. */
typedef struct config_list {
    const char *items[CONFIG_MAX_FORWARD_HEADERS];
    size_t n;
    int from_argv;             /* items came from the command line */
    char env[CONFIG_LIST_BUF]; /* the environment's copy the items point into */
} config_list;

typedef struct config {
    const char *ui_addr;
    const char *otlp_grpc_addr;
    const char *otlp_http_addr;
    const char *data_dir;
    int storage; /* --storage: CONFIG_STORAGE_* */
    /* --storage clickhouse (storage/ch_store.h, docs/storage.md) */
    const char *ch_url;           /* --clickhouse-url: one URL, or a comma-separated list */
    const char *ch_database;      /* --clickhouse-database */
    const char *ch_user;          /* --clickhouse-user */
    const char *ch_password;      /* --clickhouse-password */
    const char *ch_password_file; /* --clickhouse-password-file */
    const char *ch_cluster;       /* --clickhouse-cluster */
    char ch_password_read[CONFIG_CH_PASSWORD_BUF]; /* read from ch_password_file */
    char ch_url_buf[CONFIG_LIST_BUF];              /* ch_url split in place */
    const char *ch_urls[CONFIG_CH_MAX_URLS];
    size_t n_ch_urls;
    const char *otlp_api_key;
    const char *otlp_api_key_secondary;
    const char *cors_origins;
    size_t max_body_size;
    size_t max_grpc_message_size;
    size_t ring_size;
    uint64_t max_spans;
    uint64_t max_logs;
    uint64_t max_points;
    uint64_t max_age_ns; /* --max-age; 0 = keep items whatever their age */
    size_t max_db_size;  /* --max-db-size; 0 = no cap */
    int log_level;       /* log_level from log.h */
    int ui_auth_none;    /* --ui-auth none: the UI port is open to anyone */
    const char *ui_token;      /* --ui-token; NULL = none given (see config_ui_token) */
    const char *ui_token_file; /* --ui-token-file */
    char ui_token_read[CONFIG_UI_TOKEN_BUF]; /* the token read from ui_token_file */
    /* limits (docs/security.md) */
    uint64_t max_attributes;    /* per item; past it attributes are dropped and counted */
    size_t max_attr_value_len;  /* string/bytes attribute values are cut to this */
    uint64_t max_span_events;   /* per span */
    uint64_t max_span_links;    /* per span */
    uint64_t max_connections;   /* per port (gRPC, OTLP/HTTP, UI) */
    uint64_t idle_timeout_ns;   /* a connection silent this long is closed */
    uint64_t request_timeout_ns; /* a request's headers and body must arrive within it */
    size_t max_header_size;     /* request headers, on every port */
    uint64_t max_live_clients;  /* concurrent GET /api/v1/live streams */
    uint64_t query_timeout_ns;  /* an API query stops after this (partial answer) */
    uint64_t ingest_log_size;   /* export requests the ingest inspector keeps; 0 = off */
    /* the instrumentation lint (docs/lint.md) */
    int lint_off;                  /* --lint off */
    uint64_t lint_orphan_grace_ns; /* how long a span's parent may take */
    uint64_t lint_max_series;      /* attribute sets a metric may have */
    int log_patterns_off;          /* --log-patterns off */
    const char *base_path; /* --base-path, normalised ("/loupe"); "" = served at the root */
    config_list forward;          /* --forward URL (at most CONFIG_MAX_FORWARD) */
    config_list forward_headers;  /* --forward-header KEY=VALUE */
    const char *forward_protocol; /* --forward-protocol; NULL = http/protobuf */
    char base_path_buf[CONFIG_BASE_PATH_BUF];
    /* the Aspire dashboard's names (config_aspire.c) */
    char aspire_addr[4][CONFIG_ASPIRE_ADDR]; /* HOST:PORT made from its listen URLs */
    char aspire_spans[24];                   /* --max-spans made from MaxTraceCount */
    const char *aspire_token;                /* the browser token it set as --ui-token */
    char aspire_ignored[CONFIG_ASPIRE_IGNORED][CONFIG_ASPIRE_NAME]; /* set, no loupe meaning */
    size_t n_aspire_ignored;
} config;

#define CONFIG_OK 0
#define CONFIG_EXIT 1    /* --help or --version was printed: exit 0 */
#define CONFIG_EINVAL -1 /* bad flag: err holds the one-line reason */

/* Fills cfg from defaults, then the Aspire dashboard's names in the
 * environment, then the LOUPE_* environment, then argv. */
int config_parse(config *cfg, int argc, char **argv, char *err, size_t errlen);

/* The fixed UI token from --ui-token or --ui-token-file (borrowed from cfg,
 * argv or environ), or NULL for a random one per start. */
const char *config_ui_token(const config *cfg);

/* Parses "16MiB", "512k", "1048576" into bytes. Returns 0 or -1. */
int config_parse_size(const char *text, size_t *out);

/* Parses a duration "90s", "30m", "12h", "7d" or plain seconds "3600" into
 * nanoseconds (> 0). Returns 0 or -1. */
int config_parse_duration(const char *text, uint64_t *out_ns);

#endif
