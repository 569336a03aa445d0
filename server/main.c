/* main.c - loupe's entry point: parse flags, open the store, start the
 * receivers and the UI server, wait for SIGINT/SIGTERM, shut down in order. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/clk.h"
#include "config.h"
#include "server/receive/grpc.h"
#include "util/log.h"
#include "server/decode/otlp.h"
#include "server/receive/otlp_http.h"
#include "probe.h"
#include "storage/store.h"
#include "server/api/ui.h"
#include "server/api/ui_auth.h"
#include "server/cli/cli.h"
#include "server/net/ingest_log.h"
#include "server/forward/forward.h"

/* The host part of a HOST:PORT flag, as a browser or exporter would reach it:
 * a wildcard address is shown as "localhost". */
static void main_display_host(const char *addr, char *out, size_t outlen) {
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : 0;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, addr, n);
    out[n] = '\0';
    if (n == 0 || strcmp(out, "0.0.0.0") == 0 || strcmp(out, "[::]") == 0)
        snprintf(out, outlen, "localhost");
}

/* Percent-encodes a token for a URL query (token68 has '+', '/', '='). */
static void main_url_token(const char *tok, char *out, size_t outlen) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const char *p = tok; *p != '\0' && o + 4 <= outlen; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '+' || ch == '/' || ch == '=') {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

/* Hard bound on shutdown: if stopping in order takes longer than this, or a
 * second signal comes, the process exits at once. Nothing acknowledged is
 * lost that way (acknowledged means committed; SQLite's WAL keeps the
 * database consistent); only unacknowledged data still queued is dropped. */
#define MAIN_SHUTDOWN_LIMIT_MS 9500

/* The signals the watchdog waits for; set once before it starts. */
static sigset_t main_watchdog_sigs;

/* sigtimedwait() also returns early with EINTR, e.g. when LeakSanitizer
 * stops every thread at exit to scan memory; only the deadline passing
 * (EAGAIN) is a timeout. */
static void *main_shutdown_watchdog(void *arg) {
    (void)arg;
    int64_t deadline = clk_ns(CLOCK_MONOTONIC) + (int64_t)MAIN_SHUTDOWN_LIMIT_MS * 1000000LL;
    int64_t left;
    while ((left = deadline - clk_ns(CLOCK_MONOTONIC)) > 0) {
        struct timespec ts = {(time_t)(left / 1000000000LL), (long)(left % 1000000000LL)};
        int sig = sigtimedwait(&main_watchdog_sigs, NULL, &ts);
        if (sig > 0) {
            log_event(LOG_ERROR, "shutdown_forced", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
            _exit(1);
        }
        if (errno != EINTR)
            break;
    }
    log_event(LOG_ERROR, "shutdown_timeout", "limit_ms=%d", MAIN_SHUTDOWN_LIMIT_MS);
    _exit(1);
    return NULL;
}

/* A duration flag in whole seconds (rounded up, at least 1). */
static unsigned main_seconds(uint64_t ns) {
    uint64_t s = (ns + 999999999ULL) / 1000000000ULL;
    return s == 0 ? 1u : s > 86400u * 365 ? 86400u * 365 : (unsigned)s;
}

/* Three ports of max_connections each, plus the store and the slack. */
static void main_raise_nofile(uint64_t max_connections) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    rlim_t want = (rlim_t)(3 * max_connections + 256);
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
        want = rl.rlim_max;
    if (want > rl.rlim_cur) {
        rl.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- the receivers as the UI server sees them (server/api/metrics_source.h) ---- */

/* The limit counters both receivers keep. */
static void main_port_limits(metrics_figures *out, uint64_t refused, uint64_t request_timeouts,
                             uint64_t headers_too_large) {
    out->connections_refused = refused;
    out->request_timeouts = request_timeouts;
    out->headers_too_large = headers_too_large;
}

static void main_read_grpc(void *recv, metrics_figures *out) {
    grpc_stats gs;
    grpc_server_stats(recv, &gs);
    grpc_server_get_stats(recv, &out->counters);
    main_port_limits(out, gs.connections_refused, gs.request_timeouts, gs.headers_too_large);
    out->idle_timeouts = gs.idle_timeouts;
}

static void main_read_http(void *recv, metrics_figures *out) {
    http_guard_stats hs;
    otlp_http_stats(recv, &hs);
    otlp_http_get_stats(recv, &out->counters);
    main_port_limits(out, hs.connections_refused, hs.request_timeouts, hs.headers_too_large);
    otlp_http_body_use(recv, &out->body_bytes, &out->body_budget);
}

/* metrics_forward_fn: the forwarder's counters for GET /metrics. */
static void main_read_forward(void *ctx, metrics_forward *out) {
    forwarder *f = ctx;
    size_t n = forward_count(f);
    out->n = n < METRICS_FORWARD_MAX ? n : METRICS_FORWARD_MAX;
    for (size_t i = 0; i < out->n; i++) {
        forward_stats fs;
        forward_get_stats(f, i, &fs);
        metrics_forward_dest *d = &out->dest[i];
        snprintf(d->name, sizeof(d->name), "%s", fs.name);
        for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
            d->sent[s] = fs.sent[s];
            d->retried[s] = fs.retried[s];
            d->failed[s] = fs.failed[s];
            d->dropped[s] = fs.dropped[s];
            d->lag_items[s] = fs.lag_items[s];
            d->lag_seconds[s] = fs.lag_seconds[s];
        }
    }
}

/* The forwarding settings as forward.h takes them. */
static forward_config main_forward_config(const config *cfg) {
    forward_config fc = {
        .urls = cfg->forward.items,
        .n_urls = cfg->forward.n,
        .protocol = cfg->forward_protocol,
        .headers = cfg->forward_headers.items,
        .n_headers = cfg->forward_headers.n,
        .data_dir = cfg->storage != CONFIG_STORAGE_SQLITE ? NULL : cfg->data_dir,
    };
    return fc;
}

/* grpc_http1_fn: HTTP/1.x connections on the gRPC port go to OTLP/HTTP. */
static int main_grpc_http1(void *ctx, int fd, const struct sockaddr *peer, socklen_t peerlen) {
    return otlp_http_adopt(ctx, fd, peer, peerlen);
}

static const char *main_storage_name(int storage) {
    return storage == CONFIG_STORAGE_MEMORY       ? "memory"
           : storage == CONFIG_STORAGE_CLICKHOUSE ? "clickhouse"
                                                  : "sqlite";
}

static void main_fail(const char *what, const char *err) {
    fprintf(stderr, "loupe: %s: %s\n", what, err);
}

/* `loupe healthcheck [flags]`: asks the loupe listening on --ui-addr (the
 * same flags and environment as the server) whether it is ready; exit 0 if
 * so, 1 if not. For the container's HEALTHCHECK, which has no curl. */
static int main_healthcheck(int argc, char **argv) {
    config cfg;
    char msg[512] = "";
    int rc = config_parse(&cfg, argc, argv, msg, sizeof(msg));
    if (rc == CONFIG_EXIT)
        return 0;
    if (rc != CONFIG_OK) {
        fprintf(stderr, "loupe healthcheck: %s\n", msg);
        return 1;
    }
    rc = probe_health(cfg.ui_addr, cfg.base_path, 5000, msg, sizeof(msg));
    fprintf(rc == 0 ? stdout : stderr, "loupe healthcheck: %s\n", msg);
    return rc == 0 ? 0 : 1;
}

/* ---- the server's life, step by step ------------------------------------ */

/* What main starts, in start order; main_stop() takes it down. */
typedef struct main_parts {
    store *st;
    ingest_log *ingest; /* NULL with --ingest-log-size 0 */
    ui_auth *auth; /* NULL with --ui-auth none */
    ui_server *ui;
    grpc_server *grpc;
    otlp_http *http;
    forwarder *fwd; /* NULL without --forward */
} main_parts;

#define MAIN_RUN (-1) /* main_configure: go on and serve */

/* Flags, log level, decoder limits and the descriptor limit. Returns
 * MAIN_RUN, or the exit code (0 after --help or --version, 2 for a bad
 * flag). */
static int main_configure(config *cfg, int argc, char **argv) {
    char err[512] = "";
    int rc = config_parse(cfg, argc, argv, err, sizeof(err));
    if (rc == CONFIG_EXIT)
        return 0;
    if (rc != CONFIG_OK) {
        fprintf(stderr, "loupe: %s\n", err);
        return 2;
    }
    log_set_level((log_level)cfg->log_level);
    for (size_t i = 0; i < cfg->n_aspire_ignored; i++)
        log_event(LOG_WARN, "aspire_setting_ignored",
                  "name=%s msg=\"an Aspire dashboard setting loupe has no meaning for "
                  "(docs/aspire.md)\"",
                  cfg->aspire_ignored[i]);
    otlp_limits limits = {
        .max_attrs = (size_t)cfg->max_attributes,
        .max_value_len = cfg->max_attr_value_len,
        .max_events = (size_t)cfg->max_span_events,
        .max_links = (size_t)cfg->max_span_links,
    };
    otlp_limits_set(&limits);
    forward_config fc = main_forward_config(cfg);
    if (forward_check(&fc, err, sizeof(err)) != 0) {
        fprintf(stderr, "loupe: %s\n", err);
        return 2;
    }
    main_raise_nofile(cfg->max_connections);
    return MAIN_RUN;
}

/* Signals are taken synchronously by this thread with sigwait(); every
 * thread started after this inherits the blocked mask. */
static void main_block_signals(sigset_t *sigs) {
    sigemptyset(sigs);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int main_open_store(const config *cfg, main_parts *p) {
    char err[512] = "";
    store_config scfg = {
        .mode = cfg->storage == CONFIG_STORAGE_MEMORY       ? STORE_MODE_MEMORY
                : cfg->storage == CONFIG_STORAGE_CLICKHOUSE ? STORE_MODE_CLICKHOUSE
                                                            : STORE_MODE_SQLITE,
        .data_dir = cfg->data_dir,
        .ring_max_bytes = cfg->ring_size,
        .max_spans = cfg->max_spans,
        .max_logs = cfg->max_logs,
        .max_points = cfg->max_points,
        .max_age_ns = cfg->max_age_ns,
        .max_db_bytes = cfg->max_db_size,
        .query_timeout_ns = cfg->query_timeout_ns,
        .lint_off = cfg->lint_off,
        .lint_orphan_grace_ns = cfg->lint_orphan_grace_ns,
        .lint_max_series = cfg->lint_max_series,
        .patterns_off = cfg->log_patterns_off,
        .ch = {.urls = cfg->ch_urls,
               .n_urls = cfg->n_ch_urls,
               .database = cfg->ch_database,
               .user = cfg->ch_user,
               .password = cfg->ch_password,
               .cluster = cfg->ch_cluster},
    };
    if (store_open(&scfg, &p->st, err, sizeof(err)) != STORE_OK) {
        main_fail("cannot open the store", err);
        return -1;
    }
    return 0;
}

/* The ingest inspector's log, which the receivers write and the UI reads
 * (none with --ingest-log-size 0). */
static int main_open_ingest_log(const config *cfg, main_parts *p) {
    if (cfg->ingest_log_size == 0)
        return 0;
    ingest_limits limits = {
        .max_body = cfg->max_body_size,
        .max_grpc_message = cfg->max_grpc_message_size,
        .max_header = cfg->max_header_size,
        .ring_size = cfg->ring_size,
        .request_timeout_s = main_seconds(cfg->request_timeout_ns),
        .api_key = cfg->otlp_api_key != NULL && cfg->otlp_api_key[0] != '\0',
    };
    p->ingest = ingest_log_new((size_t)cfg->ingest_log_size, &limits);
    if (p->ingest == NULL) {
        main_fail("ingest inspector", "out of memory");
        return -1;
    }
    return 0;
}

/* The forwarder (with --forward), before the receivers open: a new
 * destination starts where the store stands now. */
static int main_start_forward(const config *cfg, main_parts *p) {
    char err[512] = "";
    forward_config fc = main_forward_config(cfg);
    if (forward_start(&fc, p->st, &p->fwd, err, sizeof(err)) != 0) {
        main_fail("forwarding", err);
        return -1;
    }
    return 0;
}

/* The authenticator (unless --ui-auth none), then the UI server. */
static int main_start_ui(const config *cfg, main_parts *p) {
    char err[512] = "";
    if (!cfg->ui_auth_none) {
        int rc = ui_auth_new(config_ui_token(cfg), &p->auth);
        if (rc != UI_AUTH_OK) {
            main_fail("web UI", rc == UI_AUTH_ERANDOM ? "cannot read random bytes for the token"
                                                      : "cannot set up the UI token");
            return -1;
        }
    }
    ui_config ucfg = {
        .addr = cfg->ui_addr,
        .auth = p->auth,
        .max_connections = (unsigned)cfg->max_connections,
        .timeout_seconds = main_seconds(cfg->idle_timeout_ns),
        .request_timeout_seconds = main_seconds(cfg->request_timeout_ns),
        .max_header_bytes = cfg->max_header_size,
        .max_live_clients = (unsigned)cfg->max_live_clients,
        .storage = cfg->storage,
        .version = LOUPE_VERSION,
        .ingest = p->ingest,
        .base_path = cfg->base_path,
    };
    if (ui_server_start(&ucfg, p->st, &p->ui, err, sizeof(err)) != 0) {
        main_fail("web UI", err);
        return -1;
    }
    if (p->fwd != NULL)
        ui_server_set_forward(p->ui, main_read_forward, p->fwd);
    return 0;
}

/* Both receivers, then their registration with the UI server for /metrics
 * and GET /api/v1/info. */
static int main_start_receivers(const config *cfg, main_parts *p) {
    char err[512] = "";
    unsigned idle = main_seconds(cfg->idle_timeout_ns);
    unsigned request = main_seconds(cfg->request_timeout_ns);
    grpc_config gcfg = {
        .addr = cfg->otlp_grpc_addr,
        .max_message_bytes = cfg->max_grpc_message_size,
        .api_keys = {cfg->otlp_api_key, cfg->otlp_api_key_secondary},
        .max_connections = (unsigned)cfg->max_connections,
        .idle_timeout_seconds = idle,
        .request_timeout_seconds = request,
        .max_header_bytes = cfg->max_header_size,
        .ingest = p->ingest,
    };
    if (grpc_server_start(&gcfg, p->st, &p->grpc, err, sizeof(err)) != 0) {
        main_fail("OTLP/gRPC receiver", err);
        return -1;
    }
    otlp_http_config hcfg = {
        .addr = cfg->otlp_http_addr,
        .max_body_bytes = cfg->max_body_size,
        .cors_origins = cfg->cors_origins,
        .api_keys = {cfg->otlp_api_key, cfg->otlp_api_key_secondary},
        .max_connections = (unsigned)cfg->max_connections,
        .timeout_seconds = idle,
        .request_timeout_seconds = request,
        .max_header_bytes = cfg->max_header_size,
        .ingest = p->ingest,
    };
    if (otlp_http_start(&hcfg, p->st, &p->http, err, sizeof(err)) != 0) {
        main_fail("OTLP/HTTP receiver", err);
        return -1;
    }
    metrics_source gsrc = {main_read_grpc, p->grpc, grpc_server_port(p->grpc)};
    metrics_source hsrc = {main_read_http, p->http, otlp_http_port(p->http)};
    ui_server_set_sources(p->ui, &gsrc, &hsrc);
    grpc_server_set_http1(p->grpc, main_grpc_http1, p->http);
    return 0;
}

/* The ready lines on stdout (with the login URL) and the "ready" log line. */
static void main_announce(const config *cfg, const main_parts *p) {
    char uhost[128], ghost[128], hhost[128];
    main_display_host(cfg->ui_addr, uhost, sizeof(uhost));
    main_display_host(cfg->otlp_grpc_addr, ghost, sizeof(ghost));
    main_display_host(cfg->otlp_http_addr, hhost, sizeof(hhost));
    int uport = ui_server_port(p->ui), gport = grpc_server_port(p->grpc);
    int hport = otlp_http_port(p->http);
    /* before the ready lines, so that whoever waits for them sees it */
    if (p->auth == NULL)
        log_event(LOG_WARN, "ui_auth_disabled",
                  "msg=\"--ui-auth none: the web UI and API on port %d are open to anyone who "
                  "can reach it\"",
                  uport);
    printf("loupe %s ready\n"
           "  web UI and API  http://%s:%d%s/\n",
           LOUPE_VERSION, uhost, uport, cfg->base_path);
    if (p->auth != NULL) {
        char urltok[3 * UI_AUTH_TOKEN_MAX + 1];
        main_url_token(ui_auth_token(p->auth), urltok, sizeof(urltok));
        printf("  login           http://%s:%d%s/login?token=%s\n", uhost, uport, cfg->base_path,
               urltok);
    }
    /* the gRPC port serves OTLP/HTTP too: one endpoint for every SDK */
    printf("  OTLP/gRPC+HTTP  http://%s:%d   any OTLP protocol: "
           "OTEL_EXPORTER_OTLP_ENDPOINT=http://%s:%d\n"
           "  OTLP/HTTP       http://%s:%d/v1/traces, /v1/logs, /v1/metrics\n",
           ghost, gport, ghost, gport, hhost, hport);
    if (cfg->storage == CONFIG_STORAGE_MEMORY)
        printf("  storage         memory (nothing is kept after exit)\n");
    else if (cfg->storage == CONFIG_STORAGE_CLICKHOUSE)
        printf("  storage         clickhouse at %s, database %s%s%s\n", cfg->ch_url,
               cfg->ch_database ? cfg->ch_database : "loupe",
               cfg->ch_cluster ? ", cluster " : "", cfg->ch_cluster ? cfg->ch_cluster : "");
    else
        printf("  storage         sqlite in %s/loupe.db\n", cfg->data_dir);
    fflush(stdout);
    log_event(LOG_INFO, "ready", "ui_port=%d otlp_grpc_port=%d otlp_http_port=%d storage=%s", uport,
              gport, hport, main_storage_name(cfg->storage));
}

/* Waits for SIGINT or SIGTERM, then arms the shutdown watchdog. */
static void main_wait(const sigset_t *sigs) {
    int sig = 0;
    sigwait(sigs, &sig);
    log_event(LOG_INFO, "shutdown", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_t watchdog;
    main_watchdog_sigs = *sigs;
    if (pthread_create(&watchdog, NULL, main_shutdown_watchdog, NULL) == 0)
        pthread_detach(watchdog);
}

/* Not ready any more; both receivers stop accepting at once, so their grace
 * periods run side by side. */
static void main_begin_stop(main_parts *p) {
    ui_server_begin_shutdown(p->ui);
    grpc_server_begin_stop(p->grpc);
}

/* The forwarder first (it only reads), then the receivers (they finish
 * requests in flight, whose answers wait on the store), then the UI, then
 * the store commits what it holds. Any part may be NULL (a failed start). */
static void main_stop(main_parts *p) {
    ui_server_set_sources(p->ui, NULL, NULL);
    ui_server_set_forward(p->ui, NULL, NULL);
    forward_stop(p->fwd); /* positions saved; the rest is sent after a restart */
    if (p->grpc != NULL)
        grpc_server_set_http1(p->grpc, NULL, NULL); /* before what it hands to stops */
    otlp_http_stop(p->http);
    grpc_server_stop(p->grpc);
    ui_server_stop(p->ui);
    ui_auth_free(p->auth);
    ingest_log_free(p->ingest); /* neither receivers nor readers are left */
    store_close(p->st);
}

/* ---- loupe run: the in-process server server/cli asks for (cli_host) ---- */

/* An in-memory loupe on free loopback ports: the flags' environment twins
 * apply (a fixed UI token, limits), then the run's own settings. */
static int main_local_start(void *ud, cli_local *l, char *err, size_t errlen) {
    main_parts *p = ud;
    config cfg;
    char name[] = "loupe", *args[] = {name, NULL};
    if (config_parse(&cfg, 1, args, err, errlen) != CONFIG_OK)
        return -1;
    cfg.storage = CONFIG_STORAGE_MEMORY;
    cfg.ui_addr = cfg.otlp_grpc_addr = cfg.otlp_http_addr = "127.0.0.1:0";
    cfg.otlp_api_key = cfg.otlp_api_key_secondary = NULL;
    cfg.base_path = ""; /* the command talks to ui_url as it is */
    log_set_level(cfg.log_level > LOG_WARN ? (log_level)cfg.log_level : LOG_WARN);
    if (main_open_store(&cfg, p) != 0 || main_open_ingest_log(&cfg, p) != 0 ||
        main_start_ui(&cfg, p) != 0 || main_start_receivers(&cfg, p) != 0) {
        snprintf(err, errlen, "see the message above");
        return -1;
    }
    snprintf(l->ui_url, sizeof(l->ui_url), "http://127.0.0.1:%d", ui_server_port(p->ui));
    snprintf(l->otlp_grpc_url, sizeof(l->otlp_grpc_url), "http://127.0.0.1:%d",
             grpc_server_port(p->grpc));
    snprintf(l->otlp_http_url, sizeof(l->otlp_http_url), "http://127.0.0.1:%d",
             otlp_http_port(p->http));
    snprintf(l->token, sizeof(l->token), "%s", p->auth ? ui_auth_token(p->auth) : "");
    return 0;
}

static uint64_t main_local_requests(void *ud) {
    main_parts *p = ud;
    recv_stats g, h;
    uint64_t n = 0;
    grpc_server_get_stats(p->grpc, &g);
    otlp_http_get_stats(p->http, &h);
    for (int o = 0; o < RECV_OUTCOME_COUNT; o++)
        n += g.requests[o] + h.requests[o];
    return n;
}

static void main_local_stop(void *ud) {
    main_parts *p = ud;
    main_stop(p);
    memset(p, 0, sizeof(*p));
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "healthcheck") == 0)
        return main_healthcheck(argc - 1, argv + 1);
    if (argc >= 2 && cli_is_command(argv[1])) {
        main_parts local = {0};
        cli_host host = {main_local_start, main_local_requests, main_local_stop, &local};
        return cli_main(argc - 1, argv + 1, &host);
    }
    config cfg;
    int rc = main_configure(&cfg, argc, argv);
    if (rc != MAIN_RUN)
        return rc;
    sigset_t sigs;
    main_block_signals(&sigs);
    main_parts parts = {0};
    int exit_code = 1;
    if (main_open_store(&cfg, &parts) == 0 && main_open_ingest_log(&cfg, &parts) == 0 &&
        main_start_forward(&cfg, &parts) == 0 &&
        main_start_ui(&cfg, &parts) == 0 && main_start_receivers(&cfg, &parts) == 0) {
        main_announce(&cfg, &parts);
        main_wait(&sigs);
        main_begin_stop(&parts);
        exit_code = 0;
    }
    main_stop(&parts);
    if (exit_code == 0)
        log_event(LOG_INFO, "stopped", NULL);
    return exit_code;
}
