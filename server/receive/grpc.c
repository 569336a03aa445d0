/* grpc.c - the OTLP/gRPC receiver: h2c on nghttp2, one epoll loop thread.
 *
 * DESIGN
 * One thread owns every connection (grpc_loop.c). It accepts, reads, feeds
 * the bytes to the connection's nghttp2 session and writes what the session
 * produces through a per-connection output buffer; when that buffer backs
 * up the connection stops being read until it drains (grpc_conn.c). A
 * connection is closed, only from the loop's top level and never from
 * inside an nghttp2 callback (grpc_h2.c), when the session wants neither to
 * read nor to write, on a fatal I/O or protocol error, or on a timeout.
 *
 * A stream (one Export call) collects its request message through the
 * incremental grpc_frame parser as DATA arrives; at END_STREAM the message
 * is inflated if compressed, decoded into a model_batch and handed to
 * store_append() (grpc_stream.c). Success is answered only once the store
 * reports the batch committed: the store's writer thread calls
 * grpc_hub_store_done(), which queues a grpc_done record on the hub and
 * writes the hub's eventfd (grpc_hub.c); the loop wakes, finds the stream
 * again by (connection id, stream id) and submits the response
 * (grpc_reply.c). A connection id holds a slot index and that slot's
 * generation, so a completion for a connection (or stream) that has gone
 * away in the meantime finds nothing and is dropped.
 *
 * The hub (queue + eventfd) is reference counted by the server and by every
 * append still in the store, so a store callback that arrives after the
 * server has stopped touches only the hub, never freed memory.
 *
 * A new connection's first bytes are peeked at before any is read
 * (grpc_sniff.c): the HTTP/2 preface goes on as above; an HTTP/1.x request
 * line (an OTLP/HTTP exporter pointed at this port) leaves this server with
 * its socket unread, handed to the function set by grpc_server_set_http1().
 *
 * Errors are trailers-only responses (HEADERS with grpc-status and END_STREAM);
 * if the client is still sending, the stream is then reset with NO_ERROR so
 * it stops (RFC 9113 section 8.1).
 *
 * This file: the configuration, setup and teardown, and the public API.
 */
#include "grpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc_internal.h"
#include "util/log.h"
#include "util/netaddr.h"

#define GRPC_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)
#define GRPC_DEFAULT_MAX_CONNECTIONS 4096u
#define GRPC_MAX_CONNECTIONS_CAP 65536u
#define GRPC_DEFAULT_IDLE_SECONDS 300u
#define GRPC_DEFAULT_REQUEST_SECONDS 30u
#define GRPC_MAX_HEADER_LIST (64u * 1024)
#define GRPC_HINT_CLIENTS 64u                  /* clients remembered for log hints */
#define GRPC_HINT_TTL_NS (3600LL * 1000000000) /* and for this long */

static void grpc_raise_nofile(unsigned want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t target = want;
        if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
            target = rl.rlim_max;
        if (target > rl.rlim_cur) {
            rl.rlim_cur = target;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
}

static char *grpc_strdup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void grpc_server_free(grpc_server *g) {
    if (g == NULL)
        return;
    while (g->conns)
        grpc_conn_free(g->conns);
    if (g->lfd >= 0)
        close(g->lfd);
    if (g->epfd >= 0)
        close(g->epfd);
    if (g->hub)
        grpc_hub_release(g->hub);
    if (g->callbacks)
        nghttp2_session_callbacks_del(g->callbacks);
    if (g->option)
        nghttp2_option_del(g->option);
    free(g->slots);
    free(g->gens);
    free(g->free_slots);
    peer_once_free(g->hints);
    pthread_mutex_destroy(&g->http1_mu);
    free(g->addr);
    free(g->keys[0]);
    free(g->keys[1]);
    free(g);
}

int grpc_server_new(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                    size_t errlen) {
    grpc_server *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    g->lfd = g->epfd = -1;
    pthread_mutex_init(&g->http1_mu, NULL);
    g->cfg = *cfg;
    g->st = st;
    g->max_msg = cfg->max_message_bytes ? cfg->max_message_bytes : GRPC_DEFAULT_MAX_MESSAGE;
    if (g->max_msg > UINT32_MAX)
        g->max_msg = UINT32_MAX; /* the gRPC prefix cannot say more */
    g->max_conns = cfg->max_connections ? cfg->max_connections : GRPC_DEFAULT_MAX_CONNECTIONS;
    if (g->max_conns > GRPC_MAX_CONNECTIONS_CAP)
        g->max_conns = GRPC_MAX_CONNECTIONS_CAP;
    unsigned idle = cfg->idle_timeout_seconds ? cfg->idle_timeout_seconds : GRPC_DEFAULT_IDLE_SECONDS;
    g->idle_ns = (int64_t)idle * 1000000000;
    unsigned req = cfg->request_timeout_seconds ? cfg->request_timeout_seconds
                                                : GRPC_DEFAULT_REQUEST_SECONDS;
    g->request_ns = (int64_t)req * 1000000000;
    g->max_header = cfg->max_header_bytes ? cfg->max_header_bytes : GRPC_MAX_HEADER_LIST;
    if (g->max_header > UINT32_MAX)
        g->max_header = UINT32_MAX;
    g->addr = grpc_strdup(cfg->addr ? cfg->addr : "");
    if (g->addr == NULL)
        goto fail;
    g->cfg.addr = g->addr;
    for (int i = 0; i < 2; i++) {
        g->cfg.api_keys[i] = NULL;
        if (cfg->api_keys[i] && cfg->api_keys[i][0] != '\0') {
            g->keys[g->nkeys] = grpc_strdup(cfg->api_keys[i]);
            if (g->keys[g->nkeys] == NULL)
                goto fail;
            g->nkeys++;
        }
    }
    g->slots = calloc(g->max_conns, sizeof(*g->slots));
    g->gens = calloc(g->max_conns, sizeof(*g->gens));
    g->free_slots = calloc(g->max_conns, sizeof(*g->free_slots));
    if (g->slots == NULL || g->gens == NULL || g->free_slots == NULL)
        goto fail;
    for (unsigned i = 0; i < g->max_conns; i++) {
        g->free_slots[i] = g->max_conns - 1 - i;
        g->gens[i] = 1;
    }
    g->nfree = g->max_conns;
    g->hints = peer_once_new(GRPC_HINT_CLIENTS, GRPC_HINT_TTL_NS);
    if (g->hints == NULL)
        goto fail;

    g->hub = grpc_hub_new(err, errlen);
    if (g->hub == NULL) {
        grpc_server_free(g);
        return -1;
    }
    if (grpc_h2_setup(g) != 0)
        goto fail;
    g->next_sweep = grpc_now() + GRPC_SWEEP_NS;
    *out = g;
    return 0;
fail:
    snprintf(err, errlen, "out of memory");
    grpc_server_free(g);
    return -1;
}

int grpc_server_start(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                      size_t errlen) {
    grpc_server *g = NULL;
    *out = NULL;
    if (grpc_server_new(cfg, st, &g, err, errlen) != 0)
        return -1;

    struct sockaddr_storage ss;
    socklen_t sslen;
    if (netaddr_parse(g->addr, &ss, &sslen, err, errlen) != 0)
        goto fail;
    grpc_raise_nofile(g->max_conns + 64);
    g->lfd = netaddr_listen(&ss, sslen, 1024, err, errlen);
    if (g->lfd < 0)
        goto fail;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(g->lfd, (struct sockaddr *)&bound, &blen) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        goto fail;
    }
    g->port = netaddr_port((struct sockaddr *)&bound);

    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event e;
    memset(&e, 0, sizeof(e));
    e.events = EPOLLIN;
    e.data.u64 = GRPC_EV_LISTEN;
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->lfd, &e) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    e.data.u64 = GRPC_EV_WAKE;
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->hub->efd, &e) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    int prc = pthread_create(&g->thread, NULL, grpc_loop_run, g);
    if (prc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(prc));
        goto fail;
    }
    g->thread_started = 1;
    char shown[128];
    netaddr_format((struct sockaddr *)&bound, shown, sizeof(shown));
    log_event(LOG_INFO, "listening", "transport=otlp_grpc addr=%s max_message_bytes=%zu", shown,
              g->max_msg);
    *out = g;
    return 0;
fail:
    grpc_server_free(g);
    return -1;
}

int grpc_server_port(const grpc_server *g) {
    return g ? g->port : -1;
}

void grpc_server_get_stats(const grpc_server *g, recv_stats *out) {
    recv_counters_get(g != NULL && g->hub != NULL ? &g->hub->rc : NULL, out);
}

void grpc_server_set_http1(grpc_server *g, grpc_http1_fn fn, void *ctx) {
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->http1_mu);
    g->http1_fn = fn;
    g->http1_ctx = fn != NULL ? ctx : NULL;
    pthread_mutex_unlock(&g->http1_mu);
}

void grpc_server_begin_stop(grpc_server *g) {
    if (g == NULL || !g->thread_started)
        return;
    atomic_store(&g->stop, 1);
    grpc_hub_notify(g->hub);
}

void grpc_server_stats(const grpc_server *g, grpc_stats *out) {
    memset(out, 0, sizeof(*out));
    if (g == NULL)
        return;
    grpc_server *m = (grpc_server *)g; /* atomics are read, not changed */
    out->connections_open = atomic_load_explicit(&m->st_open, memory_order_relaxed);
    out->connections_refused = atomic_load_explicit(&m->st_refused, memory_order_relaxed);
    out->idle_timeouts = atomic_load_explicit(&m->st_idle, memory_order_relaxed);
    out->request_timeouts = atomic_load_explicit(&m->st_request, memory_order_relaxed);
    out->headers_too_large = atomic_load_explicit(&m->st_headers, memory_order_relaxed);
    out->http1_handoffs = atomic_load_explicit(&m->st_handoffs, memory_order_relaxed);
}

void grpc_server_stop(grpc_server *g) {
    if (g == NULL)
        return;
    if (g->thread_started) {
        grpc_server_begin_stop(g);
        pthread_join(g->thread, NULL);
    }
    unsigned pending = grpc_hub_appends(g->hub);
    if (pending > 0)
        log_event(LOG_WARN, "grpc_stop", "unanswered_commits=%u", pending);
    grpc_server_free(g);
}
