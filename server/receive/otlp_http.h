/* otlp_http.h - the OTLP/HTTP receiver (POST /v1/traces, /v1/logs, /v1/metrics).
 *
 * A libmicrohttpd daemon with its own threads. Bodies (chunked or with a
 * Content-Length, protobuf or JSON, identity or gzip) are collected under a
 * size cap, decoded on the connection's thread into a model_batch, appended
 * to the store, and answered once the store reports the batch committed (the
 * connection is suspended meanwhile, so no thread waits).
 */
#ifndef LOUPE_OTLP_HTTP_H
#define LOUPE_OTLP_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "server/net/http_guard.h"
#include "server/net/ingest_log.h"
#include "server/net/recv_stats.h"
#include "storage/store.h"

typedef struct otlp_http_config {
    const char *addr;          /* "HOST:PORT"; port 0 picks a free port */
    size_t max_body_bytes;     /* cap before and after decompression; 0 = 16 MiB */
    const char *cors_origins;  /* comma-separated allow-list ("*" = any); NULL = CORS off */
    const char *api_keys[2];   /* accepted API keys (NULL = none); both NULL = no auth */
    unsigned max_connections;  /* 0 = 1024 */
    unsigned timeout_seconds;  /* idle/slow client timeout; 0 = 30 */
    unsigned request_timeout_seconds; /* headers and body must arrive within; 0 = 30 */
    size_t max_header_bytes;   /* request line and headers; larger gets 431; 0 = 64 KiB */
    ingest_log *ingest;        /* where answered requests are recorded (borrowed, must
                                  outlive the receiver); NULL = not recorded */
} otlp_http_config;

typedef struct otlp_http otlp_http;

/* Binds and starts serving. The config is copied; the store is borrowed and
 * must outlive the receiver. On failure writes a one-line reason to err. */
int otlp_http_start(const otlp_http_config *cfg, store *st, otlp_http **out, char *err,
                    size_t errlen);

/* Serves a connection accepted elsewhere: the OTLP/gRPC port hands over
 * the connections that start with an HTTP/1.x request line (main.c wires
 * this in with grpc_server_set_http1()). fd is connected and non-blocking,
 * and its unread input starts with the request; peer is the client's
 * address (copied). The receiver owns fd from the call on, in every case
 * (libmicrohttpd closes it when it cannot take it). Its requests are then
 * served like any on the OTLP/HTTP port: limits, API keys, CORS, counters.
 * Thread-safe; must not be called once otlp_http_stop() has begun. Returns
 * 0, or -1 when refused (past the connection limit, out of memory). */
int otlp_http_adopt(otlp_http *h, int fd, const struct sockaddr *peer, socklen_t peerlen);

/* The bound TCP port (useful when the config asked for port 0). */
int otlp_http_port(const otlp_http *h);

/* A snapshot of the receiver's counters; open_connections is
 * libmicrohttpd's count (thread-safe; zeros for NULL). */
void otlp_http_get_stats(const otlp_http *h, recv_stats *out);
/* Connection and limit counters (see http_guard.h). */
void otlp_http_stats(otlp_http *h, http_guard_stats *out);
/* Bytes of request bodies held in memory now, and the budget they share
 * (past it requests get 503). Thread-safe; zeros for NULL. */
void otlp_http_body_use(const otlp_http *h, uint64_t *held, uint64_t *budget);

/* Stops accepting, lets requests in flight finish, and frees. Accepts NULL. */
void otlp_http_stop(otlp_http *h);

#endif
