/* grpc_loop.c - the gRPC receiver's loop thread: epoll, accept, timers.
 *
 * One thread owns every connection. Level-triggered epoll watches the
 * listener, every connection and the hub's eventfd. A connection is freed
 * only here, at the loop's top level (grpc_conn_reap), never from inside an
 * nghttp2 callback. Timers run in a sweep at least every GRPC_SWEEP_NS (or
 * sooner, see grpc_sweep_soon). The stop is started from any thread
 * (grpc_server_begin_stop sets `stop` and wakes the loop); the loop then
 * sends GOAWAY and ends when every connection has gone or the grace period
 * has passed.
 */
#include "grpc_internal.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "server/decode/otlp.h"

#define GRPC_PREFACE_TIMEOUT_NS (10LL * 1000000000)
#define GRPC_CLOSING_TIMEOUT_NS (5LL * 1000000000)
#define GRPC_GOAWAY_DELAY_NS (1000LL * 1000000) /* notice to final GOAWAY, if no PING ack */
#define GRPC_STOP_GRACE_NS (5LL * 1000000000)   /* bound on waiting for commits at stop */
#define GRPC_MAX_EVENTS 256

/* ---- accepting ------------------------------------------------------------- */

static void grpc_set_sockopts(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Half-open detection by the kernel: probe after 60 s of silence. */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    int idle = 60, intvl = 10, cnt = 6;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Accepts what the listener has (bounded per wakeup); past max_connections
 * (or while stopping) a connection is accepted and closed at once. */
static void grpc_loop_accept(grpc_server *g) {
    for (int i = 0; i < 128; i++) {
        int fd = accept4(g->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop polling the listener until the
                 * next sweep, or the level-triggered event would spin. */
                log_event(LOG_WARN, "grpc_accept_failed", "error=\"%s\"", strerror(errno));
                struct epoll_event e;
                memset(&e, 0, sizeof(e));
                e.data.u64 = GRPC_EV_LISTEN;
                epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->lfd, &e);
                g->listen_paused = 1;
            }
            return;
        }
        if (g->nconns >= g->max_conns || g->stopping) {
            close(fd);
            g->refused_conns++;
            if (!g->stopping)
                atomic_fetch_add_explicit(&g->st_refused, 1, memory_order_relaxed);
            int64_t now = grpc_now();
            if (!g->stopping && now - g->last_refuse_log > 10LL * 1000000000) {
                g->last_refuse_log = now;
                log_event(LOG_WARN, "grpc_connection_refused",
                          "reason=max_connections max=%u refused_total=%llu", g->max_conns,
                          (unsigned long long)g->refused_conns);
            }
            continue;
        }
        grpc_set_sockopts(fd);
        grpc_conn *c = grpc_conn_new(g, fd);
        if (c == NULL) {
            close(fd);
            continue;
        }
        /* Our SETTINGS go out once the client's preface has arrived. */
    }
}

/* ---- timers ---------------------------------------------------------------- */

/* Runs one connection's timers: stream deadlines, the request timeout, the
 * idle and preface timeouts, and the delayed final GOAWAY of a stop. *next
 * is lowered to when they next need a look. */
static void grpc_loop_timers(grpc_conn *c, int64_t now, int64_t *next) {
    grpc_server *g = c->srv;
    int receiving = 0;
    grpc_stream *st = c->streams;
    while (st) {
        grpc_stream *nx = st->next; /* responding may not free, but be safe */
        if (st->deadline && st->state != GRPC_STREAM_DONE) {
            if (now >= st->deadline)
                grpc_reply_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, INGEST_REASON_DEADLINE,
                                  "deadline exceeded");
            else if (st->deadline < *next)
                *next = st->deadline;
        }
        if (st->state == GRPC_STREAM_RECV) {
            receiving = 1;
            /* Slow clients: the request must have arrived in time, however
             * steadily it trickles. The connection is closed after the
             * answer (GOAWAY: no new streams; the others may finish). */
            if (now - st->begun >= g->request_ns) {
                char msg[GRPC_MSG_MAX];
                snprintf(msg, sizeof(msg), "request not received within %lld s",
                         (long long)(g->request_ns / 1000000000));
                atomic_fetch_add_explicit(&g->st_request, 1, memory_order_relaxed);
                log_event(LOG_DEBUG, "grpc_request_timeout", "conn=%u stream=%d", c->slot,
                          (int)st->id);
                grpc_reply_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, INGEST_REASON_REQUEST_TIMEOUT,
                                  msg);
                if (c->shutdown < 2)
                    grpc_conn_final_goaway(c);
            } else if (st->begun + g->request_ns < *next) {
                *next = st->begun + g->request_ns;
            }
        }
        st = nx;
    }
    int64_t quiet = now - c->last_io;
    size_t pending = c->out_len - c->out_off;
    if (c->raw_close) {
        if (quiet >= GRPC_CLOSING_TIMEOUT_NS)
            c->dead = 1;
    } else if (!c->got_frame) {
        int64_t limit = g->idle_ns < GRPC_PREFACE_TIMEOUT_NS ? g->idle_ns : GRPC_PREFACE_TIMEOUT_NS;
        if (limit > g->request_ns)
            limit = g->request_ns;
        if (now - c->born >= limit) {
            c->dead = 1;
            atomic_fetch_add_explicit(&g->st_idle, 1, memory_order_relaxed);
        }
    } else if (receiving || pending > 0) {
        /* A peer that stopped sending mid-request or stopped reading. */
        if (quiet >= g->idle_ns) {
            c->dead = 1;
            atomic_fetch_add_explicit(&g->st_idle, 1, memory_order_relaxed);
        }
    } else if (c->nstreams == 0 && now - c->idle_since >= g->idle_ns && c->shutdown < 2) {
        atomic_fetch_add_explicit(&g->st_idle, 1, memory_order_relaxed);
        c->shutdown = 2;
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
    }
    if (c->shutdown == 1 && now - c->shutdown_at >= GRPC_GOAWAY_DELAY_NS)
        grpc_conn_final_goaway(c);
    else if (c->shutdown == 1 && c->shutdown_at + GRPC_GOAWAY_DELAY_NS < *next)
        *next = c->shutdown_at + GRPC_GOAWAY_DELAY_NS;
    grpc_conn_flush(c);
}

void grpc_loop_sweep(grpc_server *g, int64_t now) {
    int64_t next = now + GRPC_SWEEP_NS;
    grpc_conn *c = g->conns;
    while (c) {
        grpc_conn *nx = c->next;
        grpc_loop_timers(c, now, &next);
        grpc_conn_reap(c);
        c = nx;
    }
    g->next_sweep = next;
    if (g->listen_paused && !g->stopping && g->lfd >= 0) {
        struct epoll_event e;
        memset(&e, 0, sizeof(e));
        e.events = EPOLLIN;
        e.data.u64 = GRPC_EV_LISTEN;
        if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->lfd, &e) == 0)
            g->listen_paused = 0;
    }
}

/* ---- completions ----------------------------------------------------------- */

void grpc_loop_completions(grpc_server *g) {
    grpc_done *d = grpc_hub_take(g->hub);
    /* A group commit completes many streams of the same connections at
     * once: submit every answer first, then write each connection once. */
    grpc_conn *dirty = NULL;
    while (d) {
        grpc_done *next = d->next;
        grpc_stream_committed(g, d);
        grpc_conn *c = grpc_conn_lookup(g, d->conn_id);
        if (c && !c->dirty) {
            c->dirty = 1;
            c->dirty_next = dirty;
            dirty = c;
        }
        free(d);
        d = next;
    }
    while (dirty) {
        grpc_conn *next = dirty->dirty_next;
        dirty->dirty = 0;
        dirty->dirty_next = NULL;
        grpc_conn_flush(dirty);
        grpc_conn_reap(dirty);
        dirty = next;
    }
}

/* ---- the loop ---------------------------------------------------------------- */

/* The loop's side of a stop: no more connections; a shutdown notice (GOAWAY
 * with the maximum stream id) and a PING to every open connection, whose ack
 * brings the final GOAWAY (grpc_h2.c), or GRPC_GOAWAY_DELAY_NS does. */
static void grpc_loop_stop(grpc_server *g, int64_t now) {
    g->stopping = 1;
    g->stop_deadline = now + GRPC_STOP_GRACE_NS;
    if (g->lfd >= 0) {
        epoll_ctl(g->epfd, EPOLL_CTL_DEL, g->lfd, NULL);
        close(g->lfd);
        g->lfd = -1;
    }
    grpc_conn *c = g->conns;
    while (c) {
        grpc_conn *nx = c->next;
        if (c->shutdown == 0) {
            if (!c->got_frame) {
                c->dead = 1; /* never spoke HTTP/2: nothing to finish */
            } else {
                c->shutdown = 1;
                c->shutdown_at = now;
                nghttp2_submit_shutdown_notice(c->session);
                nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, (const uint8_t *)"loupe-sd");
                grpc_sweep_soon(g, now + GRPC_GOAWAY_DELAY_NS);
            }
        }
        grpc_conn_flush(c);
        grpc_conn_reap(c);
        c = nx;
    }
}

void *grpc_loop_run(void *arg) {
    grpc_server *g = arg;
    struct epoll_event evs[GRPC_MAX_EVENTS];
    g->next_sweep = grpc_now() + GRPC_SWEEP_NS;
    for (;;) {
        int64_t now = grpc_now();
        int64_t wake = g->next_sweep;
        if (g->stopping && g->stop_deadline < wake)
            wake = g->stop_deadline;
        int64_t wait_ms = wake <= now ? 0 : (wake - now + 999999) / 1000000;
        if (wait_ms > 60000)
            wait_ms = 60000;
        int n = epoll_wait(g->epfd, evs, GRPC_MAX_EVENTS, (int)wait_ms);
        if (n < 0 && errno != EINTR) {
            log_event(LOG_ERROR, "grpc_loop_failed", "error=\"%s\"", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t id = evs[i].data.u64;
            if (id == GRPC_EV_LISTEN) {
                if (g->lfd >= 0)
                    grpc_loop_accept(g);
                continue;
            }
            if (id == GRPC_EV_WAKE) {
                grpc_loop_completions(g);
                continue;
            }
            grpc_conn *c = grpc_conn_lookup(g, id);
            if (c == NULL)
                continue;
            uint32_t e = evs[i].events;
            if ((e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && c->sniffing)
                grpc_sniff_readable(c, e);
            else if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
                grpc_conn_readable(c);
            if ((e & EPOLLOUT) && !c->dead)
                grpc_conn_flush(c);
            if ((e & EPOLLERR) && !(e & EPOLLIN))
                c->dead = 1;
            grpc_conn_reap(c);
        }
        now = grpc_now();
        if (atomic_load(&g->stop) && !g->stopping)
            grpc_loop_stop(g, now);
        if (now >= g->next_sweep)
            grpc_loop_sweep(g, now);
        if (g->stopping) {
            if (g->nconns == 0 || now >= g->stop_deadline)
                break;
        }
    }
    return NULL;
}
