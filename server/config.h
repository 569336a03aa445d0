/* config.h - loupe's command-line flags and their environment twins.
 *
 * Every flag --some-name has an environment twin LOUPE_SOME_NAME; a flag
 * given on the command line wins over the environment, which wins over the
 * default. Strings point into argv or environ (borrowed for the process's
 * lifetime).
 */
#ifndef LOUPE_CONFIG_H
#define LOUPE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define LOUPE_VERSION "0.1.0"

#define CONFIG_UI_TOKEN_BUF 257 /* UI_AUTH_TOKEN_MAX + 1 */

typedef struct config {
    const char *ui_addr;
    const char *otlp_grpc_addr;
    const char *otlp_http_addr;
    const char *data_dir;
    int storage_memory; /* --storage memory */
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
    /* the instrumentation lint (docs/lint.md) */
    int lint_off;                  /* --lint off */
    uint64_t lint_orphan_grace_ns; /* how long a span's parent may take */
    uint64_t lint_max_series;      /* attribute sets a metric may have */
} config;

#define CONFIG_OK 0
#define CONFIG_EXIT 1    /* --help or --version was printed: exit 0 */
#define CONFIG_EINVAL -1 /* bad flag: err holds the one-line reason */

/* Fills cfg from defaults, then the environment, then argv. */
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
