/* grpc.h - the OTLP/gRPC receiver: h2c (HTTP/2 with prior knowledge) on nghttp2.
 *
 * One thread runs a non-blocking epoll loop over all connections. Each
 * Export call's message is decoded on that thread and appended to the store;
 * the answer is deferred until the writer reports the commit (signalled to
 * the loop through an eventfd), so the loop never blocks.
 */
#ifndef LOUPE_GRPC_H
#define LOUPE_GRPC_H

#include <stddef.h>

#include "server/net/recv_stats.h"
#include "storage/store.h"

typedef struct grpc_config {
    const char *addr;          /* "HOST:PORT"; port 0 picks a free port */
    size_t max_message_bytes;  /* per gRPC message, before and after decompression; 0 = 16 MiB */
    const char *api_keys[2];   /* accepted API keys (NULL = none); both NULL = no auth */
    unsigned max_connections;  /* 0 = 4096 */
    unsigned idle_timeout_seconds; /* 0 = 300 */
    unsigned request_timeout_seconds; /* a request's headers and message must arrive
                                         within this; 0 = 30 */
    size_t max_header_bytes;   /* request header list (HPACK-decoded, +32 per field); 0 = 64 KiB */
} grpc_config;

/* What the receiver's limits did, for the self-metrics. Safe to call from
 * any thread while the server runs. */
typedef struct grpc_stats {
    uint64_t connections_open;     /* now */
    uint64_t connections_refused;  /* past max_connections, closed at accept */
    uint64_t idle_timeouts;        /* closed: silent too long, or no preface in time */
    uint64_t request_timeouts;     /* requests not received in time (connection closed) */
    uint64_t headers_too_large;    /* requests refused with RESOURCE_EXHAUSTED */
} grpc_stats;

typedef struct grpc_server grpc_server;

/* Binds and starts the loop thread. The config is copied; the store is
 * borrowed and must outlive the server. */
int grpc_server_start(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                      size_t errlen);

/* The bound TCP port. */
int grpc_server_port(const grpc_server *g);

/* A snapshot of the receiver's counters (thread-safe; zeros for NULL). */
void grpc_server_get_stats(const grpc_server *g, recv_stats *out);

/* Starts the stop without waiting: no new connections, GOAWAY to the open
 * ones (their streams in flight go on for up to 5 s). grpc_server_stop()
 * must still be called. Accepts NULL. */
void grpc_server_begin_stop(grpc_server *g);
void grpc_server_stats(const grpc_server *g, grpc_stats *out);

/* Sends GOAWAY, finishes streams in flight, joins the loop and frees.
 * Accepts NULL. */
void grpc_server_stop(grpc_server *g);

#endif
