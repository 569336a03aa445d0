/* grpc_detached.c - the gRPC receiver without socket or thread, for tests
 * and fuzzing (grpc_detached.h). Compiled only in LOUPE_TESTING builds. */
#ifdef LOUPE_TESTING

#include "grpc_detached.h"

#include "grpc_internal.h"

int grpc_server_new_detached(const grpc_config *cfg, store *st, grpc_server **out) {
    char err[128];
    if (grpc_server_new(cfg, st, out, err, sizeof(err)) != 0)
        return -1;
    return 0;
}

void grpc_server_set_append_detached(grpc_server *g, grpc_append_fn fn, void *ctx) {
    g->append = fn;
    g->append_ctx = ctx;
}

void grpc_server_free_detached(grpc_server *g) {
    grpc_server_free(g);
}

grpc_conn *grpc_conn_new_detached(grpc_server *g, buf *sink) {
    grpc_conn *c = grpc_conn_new(g, -1);
    if (c == NULL)
        return NULL;
    c->sink = sink;
    grpc_conn_flush(c);
    if (grpc_conn_reap(c))
        return NULL;
    return c;
}

int grpc_conn_feed_detached(grpc_conn *c, const uint8_t *data, size_t len) {
    if (!c->raw_close && nghttp2_session_want_read(c->session)) {
        c->last_io = grpc_now();
        grpc_conn_input(c, data, len);
    }
    grpc_conn_flush(c);
    return grpc_conn_reap(c) ? 0 : 1;
}

void grpc_server_poll_detached(grpc_server *g) {
    grpc_loop_completions(g);
    grpc_loop_sweep(g, grpc_now());
}

int grpc_conn_alive_detached(grpc_server *g, const grpc_conn *c) {
    for (grpc_conn *x = g->conns; x; x = x->next)
        if (x == c)
            return 1;
    return 0;
}

#endif /* LOUPE_TESTING */
