/* grpc_sniff.c - a new connection's first bytes decide who serves it.
 *
 * An SDK pointed at the gRPC port may speak OTLP/gRPC (the HTTP/2 preface)
 * or OTLP/HTTP (an HTTP/1.x request line: http/protobuf is the default of
 * several SDKs), or TLS when its endpoint says https. The loop peeks at the
 * first bytes (MSG_PEEK: nothing is consumed) and asks conn_sniff():
 *  - HTTP/2: the connection goes on as before (grpc_conn_readable);
 *  - HTTP/1.x: the socket, still unread, is handed to the server's http1
 *    function (the OTLP/HTTP receiver), which serves it under its own
 *    limits, keys and counters; the connection leaves this server at once,
 *    so it counts against one connection limit at a time;
 *  - TLS: a fatal TLS alert (handshake_failure) and a close, so the client
 *    fails at once with a TLS error rather than a hang;
 *  - anything else: nghttp2 refuses it and the connection is closed.
 * Too few bytes to tell: the connection waits, edge-triggered, for more;
 * the preface timeout (grpc_loop.c) bounds the wait. A client that gets
 * something else than it asked for is logged once per client address
 * (event otlp_misrouted), with what to change.
 */
#include "grpc_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "server/net/conn_sniff.h"
#include "util/log.h"

/* Hint topics (peer_once): each is logged once per client. */
enum {
    GRPC_HINT_HTTP1_SERVED = 1,
    GRPC_HINT_HTTP1_REFUSED,
    GRPC_HINT_TLS,
    GRPC_HINT_OTHER,
};

#define GRPC_TLS_DRAIN_READS 4 /* reads of GRPC_READ_CHUNK before the alert */

/* The peer's IP address as text ("?" when unknown). */
static void grpc_sniff_ip(const struct sockaddr *sa, char *out, size_t outlen) {
    const void *a = NULL;
    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (a == NULL || inet_ntop(sa->sa_family, a, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

/* Logs one line about a client's protocol the first time per client and
 * topic (then again after the table forgets it). */
static void grpc_sniff_hint(grpc_server *g, const struct sockaddr *peer, unsigned topic,
                            log_level level, const char *protocol, const char *action,
                            const char *detail) {
    if (!peer_once_first(g->hints, peer, topic, grpc_now()))
        return;
    char ip[INET6_ADDRSTRLEN];
    grpc_sniff_ip(peer, ip, sizeof(ip));
    log_event(level, "otlp_misrouted",
              "transport=otlp_grpc client=%s protocol=%s action=%s "
              "detail=\"%s (logged once per client)\"",
              ip, protocol, action, detail);
}

/* HTTP/1.x: hands the unread socket to the http1 function, or, without
 * one, lets nghttp2 refuse it (grpc_conn.c answers HTTP/1.1 400). */
static void grpc_sniff_http1(grpc_conn *c, const struct sockaddr *peer, socklen_t peerlen) {
    grpc_server *g = c->srv;
    pthread_mutex_lock(&g->http1_mu);
    if (g->http1_fn == NULL) {
        pthread_mutex_unlock(&g->http1_mu);
        grpc_sniff_hint(g, peer, GRPC_HINT_HTTP1_REFUSED, LOG_WARN, "http1", "refused",
                        "OTLP/HTTP request on the OTLP/gRPC port, which does not take it now: "
                        "answered 400; send it to the OTLP/HTTP port or set "
                        "OTEL_EXPORTER_OTLP_PROTOCOL=grpc");
        c->sniffing = 0;
        grpc_conn_readable(c);
        return;
    }
    int fd = c->fd;
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, fd, NULL);
    c->fd = -1; /* no longer ours: grpc_conn_free() must not close it */
    c->dead = 1;
    int rc = g->http1_fn(g->http1_ctx, fd, peer, peerlen);
    pthread_mutex_unlock(&g->http1_mu);
    if (rc != 0) {
        log_event(LOG_DEBUG, "grpc_http1_refused", "conn=%u", c->slot);
        return;
    }
    atomic_fetch_add_explicit(&g->st_handoffs, 1, memory_order_relaxed);
    grpc_sniff_hint(g, peer, GRPC_HINT_HTTP1_SERVED, LOG_INFO, "http1", "served",
                    "OTLP/HTTP request on the OTLP/gRPC port: served as OTLP/HTTP, nothing to "
                    "change");
}

/* TLS: reads what the client sent (its ClientHello: closing a socket with
 * unread input resets it, and the client might not see the alert), then
 * answers with a fatal handshake_failure alert and closes. */
static void grpc_sniff_tls(grpc_conn *c, const struct sockaddr *peer) {
    grpc_server *g = c->srv;
    grpc_sniff_hint(g, peer, GRPC_HINT_TLS, LOG_WARN, "tls", "refused",
                    "TLS handshake on the OTLP/gRPC port, which is plaintext (h2c): refused; "
                    "use an http:// endpoint (gRPC exporters may also need "
                    "OTEL_EXPORTER_OTLP_INSECURE=true)");
    c->sniffing = 0;
    for (int i = 0; i < GRPC_TLS_DRAIN_READS; i++) {
        ssize_t n = recv(c->fd, g->rbuf, sizeof(g->rbuf), 0);
        if (n < (ssize_t)sizeof(g->rbuf))
            break;
    }
    /* record: alert (21), TLS 1.2 (3,3), length 2; level fatal (2),
     * handshake_failure (40) */
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    grpc_conn_close_raw(c, alert, sizeof(alert));
    grpc_conn_flush(c);
}

void grpc_sniff_readable(grpc_conn *c, uint32_t events) {
    grpc_server *g = c->srv;
    uint8_t head[CONN_SNIFF_MAX];
    ssize_t n = recv(c->fd, head, sizeof(head), MSG_PEEK);
    if (n <= 0) {
        /* EOF before a byte, an error, or a spurious wakeup */
        if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) ||
            (events & (EPOLLHUP | EPOLLERR)))
            c->dead = 1;
        return;
    }
    conn_sniff_kind kind = conn_sniff(head, (size_t)n);
    if (kind == CONN_SNIFF_MORE) {
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            c->dead = 1; /* the rest will never come */
            return;
        }
        c->sniff_wait = 1;
        grpc_conn_set_events(c);
        return;
    }
    c->sniff_wait = 0;
    if (kind == CONN_SNIFF_H2) {
        c->sniffing = 0;
        grpc_conn_readable(c);
        return;
    }
    struct sockaddr_storage peer;
    socklen_t peerlen = sizeof(peer);
    if (getpeername(c->fd, (struct sockaddr *)&peer, &peerlen) != 0) {
        c->dead = 1; /* gone already (ENOTCONN) */
        return;
    }
    if (kind == CONN_SNIFF_HTTP1) {
        grpc_sniff_http1(c, (const struct sockaddr *)&peer, peerlen);
    } else if (kind == CONN_SNIFF_TLS) {
        grpc_sniff_tls(c, (const struct sockaddr *)&peer);
    } else {
        grpc_sniff_hint(g, (const struct sockaddr *)&peer, GRPC_HINT_OTHER, LOG_DEBUG, "other",
                        "closed", "neither HTTP/2, HTTP/1.x nor TLS on the OTLP/gRPC port");
        c->sniffing = 0;
        grpc_conn_readable(c); /* nghttp2 refuses it; the connection closes */
    }
}
