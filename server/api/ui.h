/* ui.h - the UI and API server: embedded web assets and /api/v1 on one port. */
#ifndef LOUPE_UI_H
#define LOUPE_UI_H

#include <stddef.h>

#include "server/net/http_guard.h"
#include "server/net/ingest_log.h"
#include "storage/store.h"
#include "metrics_source.h"
#include "ui_auth.h"

typedef struct ui_config {
    const char *addr;          /* "HOST:PORT"; port 0 picks a free port */
    unsigned max_connections;  /* 0 = 256 */
    unsigned timeout_seconds;  /* 0 = 60 */
    const ui_auth *auth;       /* NULL = open to all; borrowed, must outlive the server */
    unsigned request_timeout_seconds; /* headers and body must arrive within; 0 = 30 */
    size_t max_header_bytes;   /* request line and headers; larger gets 431; 0 = 64 KiB */
    unsigned max_live_clients; /* concurrent live streams; more get 503; 0 = 64 */
    int storage;        /* shown by GET /api/v1/info */
    const char *version;       /* shown by /metrics and GET /api/v1/info; borrowed, must
                                  outlive the server; NULL = "unknown" */
    ingest_log *ingest;        /* the receivers' ingest log, for /api/v1/ingest/... and live
                                  ingest events; borrowed, must outlive the server; NULL =
                                  the inspector is off */
    const char *base_path;     /* serve everything below this path (ui_base_normalise'd:
                                  "/loupe"); NULL or "" = at the root; copied */
} ui_config;

/* Connection and limit counters. */
typedef struct ui_stats {
    http_guard_stats conn;
    uint64_t live_clients;         /* live streams open now */
    uint64_t live_clients_refused; /* past max_live_clients */
} ui_stats;

typedef struct ui_server ui_server;

/* Binds and starts serving. The config is copied; the store is borrowed and
 * must outlive the server. */
int ui_server_start(const ui_config *cfg, store *st, ui_server **out, char *err, size_t errlen);

int ui_server_port(const ui_server *u);

/* Registers the receivers whose figures GET /metrics shows and whose ports
 * GET /api/v1/info reports (metrics_source.h; the sources are copied,
 * either may be NULL). Thread-safe: once it returns, no request uses the
 * sources it replaced, so call it with NULLs before stopping the
 * receivers. */
void ui_server_set_sources(ui_server *u, const metrics_source *grpc, const metrics_source *http);

/* Registers the forwarder whose counters GET /metrics shows (fn NULL:
 * none). The same rules as ui_server_set_sources: call it with NULL before
 * stopping the forwarder. */
void ui_server_set_forward(ui_server *u, metrics_forward_fn fn, void *ctx);

/* Shutdown has begun: GET /readyz answers 503 from now on. */
void ui_server_begin_shutdown(ui_server *u);
void ui_server_stats(ui_server *u, ui_stats *out);

/* Stops accepting, finishes requests in flight and frees. Accepts NULL. */
void ui_server_stop(ui_server *u);

#endif
