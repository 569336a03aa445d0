/* grpc.h - the OTLP/gRPC receiver: h2c (HTTP/2 with prior knowledge) on nghttp2.
 *
 * One thread runs a non-blocking epoll loop over all connections. Each
 * Export call's message is decoded on that thread and appended to the store;
 * the answer is deferred until the writer reports the commit (signalled to
 * the loop through an eventfd), so the loop never blocks.
 *
 * The port also takes OTLP/HTTP: a connection whose first bytes are an
 * HTTP/1.x request line rather than the HTTP/2 preface is handed, unread,
 * to the function set with grpc_server_set_http1() (main.c wires in the
 * OTLP/HTTP receiver).
 */
#ifndef LOUPE_GRPC_H
#define LOUPE_GRPC_H

#include <stddef.h>
#include <sys/socket.h>

#include "server/net/ingest_log.h"
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
    ingest_log *ingest;        /* where answered requests are recorded (borrowed, must
                                  outlive the server); NULL = not recorded */
} grpc_config;

/* What the receiver's limits did, for the self-metrics. Safe to call from
 * any thread while the server runs. */
typedef struct grpc_stats {
    uint64_t connections_open;     /* now */
    uint64_t connections_refused;  /* past max_connections, closed at accept */
    uint64_t idle_timeouts;        /* closed: silent too long, or no preface in time */
    uint64_t request_timeouts;     /* requests not received in time (connection closed) */
    uint64_t headers_too_large;    /* requests refused with RESOURCE_EXHAUSTED */
    uint64_t http1_handoffs;       /* HTTP/1.x connections handed to the grpc_http1_fn */
} grpc_stats;

typedef struct grpc_server grpc_server;

/* Binds and starts the loop thread. The config is copied; the store is
 * borrowed and must outlive the server. */
int grpc_server_start(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                      size_t errlen);

/* Takes a connection that arrived on the gRPC port and starts with an
 * HTTP/1.x request line. fd is connected and non-blocking, and nothing has
 * been read from it; peer is the client's address (borrowed for the call).
 * The callee owns fd from the call on, in every case: it closes fd when it
 * cannot serve it. Returns 0 when it took the connection, -1 when it
 * refused it. Called on the receiver's loop thread; it must not block. */
typedef int (*grpc_http1_fn)(void *ctx, int fd, const struct sockaddr *peer, socklen_t peerlen);

/* Sets (or, with fn NULL, clears) where HTTP/1.x connections go; without
 * one they are answered "HTTP/1.1 400" and closed, as before. Any thread;
 * once it returns, the previous fn is not being called and will not be
 * again, so its ctx may go away (clear it before stopping what ctx is). */
void grpc_server_set_http1(grpc_server *g, grpc_http1_fn fn, void *ctx);

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
