/* grpc_detached.h - test and fuzzing hooks of the OTLP/gRPC receiver.
 *
 * A detached server has no listening socket and no loop thread: the caller
 * plays the loop. Its connections have no socket either; bytes are fed in as
 * if read from one and everything the server would write is appended to a
 * sink buffer. Everything else (nghttp2 session, callbacks, the message
 * parser, decoding, store append, responses) is the production code.
 * Not for use by the rest of loupe: it exists only in test builds
 * (LOUPE_TESTING, set by `make TESTING=1`, the test goals and the fuzz
 * builds); the release build has no detached mode at all.
 */
#ifndef LOUPE_GRPC_DETACHED_H
#define LOUPE_GRPC_DETACHED_H

#ifndef LOUPE_TESTING
#error "grpc_detached.h is for test builds only (define LOUPE_TESTING)"
#endif

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "grpc.h"

typedef struct grpc_conn grpc_conn;

/* Creates a detached server. st may be NULL: every Export is then answered
 * UNAVAILABLE without touching a store. Returns 0 or -1. */
int grpc_server_new_detached(const grpc_config *cfg, store *st, grpc_server **out);

/* Replaces store_append() for this server (tests: commits on demand, from
 * any thread). The function has store_append()'s contract. */
typedef int (*grpc_append_fn)(void *ctx, model_batch *b, store_done_cb cb, void *ud);
void grpc_server_set_append_detached(grpc_server *g, grpc_append_fn fn, void *ctx);

/* Frees a detached server and its connections. Store callbacks that have not
 * arrived yet are dropped safely when they do. Accepts NULL. */
void grpc_server_free_detached(grpc_server *g);

/* Opens a connection on a detached server. Output goes to *sink (borrowed;
 * must outlive the connection; NULL discards it). Returns NULL on failure. */
grpc_conn *grpc_conn_new_detached(grpc_server *g, buf *sink);

/* Feeds input to the connection as if read from its socket and lets it
 * write. Returns 1 while the connection is open, 0 once it has closed (the
 * connection is freed then and must not be used again). */
int grpc_conn_feed_detached(grpc_conn *c, const uint8_t *data, size_t len);

/* Answers the streams whose store commits have completed, and runs the
 * timers (deadlines, idle timeouts) as of now. Connections that close are
 * freed. */
void grpc_server_poll_detached(grpc_server *g);

/* 1 while the connection identified by the value grpc_conn_new_detached()
 * returned is still open. */
int grpc_conn_alive_detached(grpc_server *g, const grpc_conn *c);

#endif
