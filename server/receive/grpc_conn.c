/* grpc_conn.c - a connection of the gRPC receiver: its life and its I/O.
 *
 * A connection owns an nghttp2 server session. Input read from the socket
 * goes to nghttp2_session_mem_recv; what the session produces
 * (nghttp2_session_mem_send) is written through a per-connection output
 * buffer, and past GRPC_OUT_HIGH unsent bytes the connection is no longer
 * read until it drains. Until its first bytes have said which protocol it
 * speaks (grpc_sniff.c) it is only peeked at. Nothing is sent before the
 * client's 24-byte preface, so an HTTP/1 client that nobody takes over can
 * be answered in HTTP/1 and garbage gets a close. A connection marked dead
 * is freed by grpc_conn_reap() from the loop's top level. Its id (slot
 * index + the slot's generation) lets a late completion find that it has
 * gone.
 */
#include "grpc_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

#define GRPC_MAX_STREAMS 256u
#define GRPC_STREAM_WINDOW (1 << 20) /* initial stream window: 1 MiB */
#define GRPC_CONN_WINDOW (16 << 20)  /* connection window: 16 MiB */
#define GRPC_READS_PER_WAKEUP 16     /* fairness: at most 1 MiB per wakeup */
#define GRPC_OUT_FILL (64 * 1024)    /* stop pulling frames from nghttp2 past this */
#define GRPC_OUT_HIGH (256 * 1024)   /* stop reading past this much unsent output */
#define GRPC_PREFACE_LEN 24          /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */

/* ---- life ------------------------------------------------------------------- */

grpc_conn *grpc_conn_new(grpc_server *g, int fd) {
    if (g->nfree == 0)
        return NULL;
    grpc_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->srv = g;
    c->fd = fd;
    c->sniffing = fd >= 0; /* a detached connection is fed HTTP/2 directly */
    c->born = c->last_io = c->idle_since = grpc_now();
    if (nghttp2_session_server_new2(&c->session, g->callbacks, c, g->option) != 0)
        goto fail_session;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)g->max_header},
    };
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        goto fail_settings;
    if (nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, GRPC_CONN_WINDOW) != 0)
        goto fail_settings;
    c->slot = g->free_slots[--g->nfree];
    c->gen = g->gens[c->slot];
    assert(c->slot < g->max_conns && g->slots[c->slot] == NULL); /* a free slot is empty */
    g->slots[c->slot] = c;
    if (fd >= 0) {
        struct epoll_event e;
        memset(&e, 0, sizeof(e));
        e.events = EPOLLIN | EPOLLRDHUP;
        e.data.u64 = grpc_conn_id(c);
        if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &e) != 0)
            goto fail_epoll;
        c->events = e.events;
    }
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->nconns++;
    recv_count_connection(&g->hub->rc, 1);
    atomic_store_explicit(&g->st_open, g->nconns, memory_order_relaxed);
    return c;

fail_epoll:
    g->slots[c->slot] = NULL;
    g->free_slots[g->nfree++] = c->slot;
fail_settings:
    nghttp2_session_del(c->session);
fail_session:
    free(c);
    return NULL;
}

void grpc_conn_free(grpc_conn *c) {
    grpc_server *g = c->srv;
    /* Streams are freed here, outside any nghttp2 callback; clear the user
     * data first so nghttp2_session_del's closing does not see them. */
    grpc_stream *st = c->streams;
    while (st) {
        grpc_stream *next = st->next;
        nghttp2_session_set_stream_user_data(c->session, st->id, NULL);
        grpc_stream_free(st);
        st = next;
    }
    c->streams = NULL;
    nghttp2_session_del(c->session);
    if (c->fd >= 0) {
        epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    assert(g->nconns > 0 && g->slots[c->slot] == c && g->nfree < g->max_conns);
    g->nconns--;
    recv_count_connection(&g->hub->rc, -1);
    atomic_store_explicit(&g->st_open, g->nconns, memory_order_relaxed);
    g->slots[c->slot] = NULL;
    g->gens[c->slot]++; /* completions for this connection now find nothing */
    g->free_slots[g->nfree++] = c->slot;
    free(c->out);
    free(c);
}

int grpc_conn_reap(grpc_conn *c) {
    if (!c->dead)
        return 0;
    grpc_conn_free(c);
    return 1;
}

grpc_conn *grpc_conn_lookup(grpc_server *g, uint64_t id) {
    uint32_t slot = (uint32_t)id;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot >= g->max_conns || g->gens[slot] != gen)
        return NULL;
    return g->slots[slot];
}

/* ---- I/O -------------------------------------------------------------------- */

void grpc_conn_set_events(grpc_conn *c) {
    if (c->fd < 0 || c->dead)
        return;
    size_t pending = c->out_len - c->out_off;
    uint32_t ev = 0;
    if (c->sniffing) {
        /* Input is only peeked at until it decides: level-triggered, the
         * bytes already seen would wake the loop again and again. The
         * peer's FIN behind them shows as EPOLLRDHUP. */
        ev = EPOLLIN | EPOLLRDHUP | (c->sniff_wait ? EPOLLET : 0);
    } else {
        if (pending > 0)
            ev |= EPOLLOUT;
        if (!c->raw_close && pending < GRPC_OUT_HIGH && nghttp2_session_want_read(c->session))
            ev |= EPOLLIN;
    }
    if (ev == c->events)
        return;
    struct epoll_event e;
    memset(&e, 0, sizeof(e));
    e.events = ev;
    e.data.u64 = grpc_conn_id(c);
    if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
    else
        c->dead = 1;
}

static int grpc_conn_out_append(grpc_conn *c, const uint8_t *p, size_t n) {
    if (c->out_off > 0 && c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
    }
    if (c->out_len + n > c->out_cap && c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 16 * 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *q = realloc(c->out, cap);
        if (q == NULL)
            return -1;
        c->out = q;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

void grpc_conn_flush(grpc_conn *c) {
    if (c->dead)
        return;
    for (int rounds = 0; rounds < 64; rounds++) {
        /* Nothing is sent before the client's 24-byte preface has arrived, so
         * an HTTP/1 client can be answered in HTTP/1 (grpc_conn_bad_magic). */
        while (!c->raw_close && c->in_total >= GRPC_PREFACE_LEN &&
               c->out_len - c->out_off < GRPC_OUT_FILL) {
            const uint8_t *p;
            ssize_t n = nghttp2_session_mem_send(c->session, &p);
            if (n < 0) {
                log_event(LOG_DEBUG, "grpc_conn_error", "conn=%u error=\"%s\"", c->slot,
                          nghttp2_strerror((int)n));
                c->dead = 1;
                return;
            }
            if (n == 0)
                break;
            if (grpc_conn_out_append(c, p, (size_t)n) != 0) {
                c->dead = 1;
                return;
            }
        }
        size_t pending = c->out_len - c->out_off;
        if (pending == 0)
            break;
#ifdef LOUPE_TESTING
        if (c->fd < 0) {
            if (c->sink)
                buf_append(c->sink, c->out + c->out_off, pending);
            c->out_off = c->out_len = 0;
            continue;
        }
#endif
        ssize_t w = send(c->fd, c->out + c->out_off, pending, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            c->dead = 1;
            return;
        }
        c->out_off += (size_t)w;
        c->last_io = grpc_now();
        if ((size_t)w < pending)
            break;
    }
    size_t pending = c->out_len - c->out_off;
    if (pending == 0) {
        if (c->raw_close || (!nghttp2_session_want_read(c->session) &&
                             !nghttp2_session_want_write(c->session))) {
            c->dead = 1;
            return;
        }
    }
    grpc_conn_set_events(c);
}

void grpc_conn_close_raw(grpc_conn *c, const uint8_t *p, size_t len) {
    c->raw_close = 1;
    c->out_off = c->out_len = 0; /* drop our SETTINGS: the peer does not speak HTTP/2 */
    if (len > 0 && grpc_conn_out_append(c, p, len) != 0)
        c->dead = 1;
}

/* Input that is not HTTP/2: if it looks like an HTTP/1 request line, say so
 * in HTTP/1.1 before closing (the port hands HTTP/1.x over to OTLP/HTTP
 * unless nothing takes it, see grpc_sniff.c). */
static void grpc_conn_bad_magic(grpc_conn *c, const uint8_t *in, size_t len) {
    size_t i = 0;
    while (i < len && i < 16 && in[i] >= 'A' && in[i] <= 'Z')
        i++;
    if (c->in_total > 0 || i == 0 || i >= len || in[i] != ' ') {
        grpc_conn_close_raw(c, NULL, 0);
        return;
    }
#define GRPC_HTTP1_BODY "This port speaks OTLP/gRPC (HTTP/2 with prior knowledge).\r\n"
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Content-Type: text/plain\r\n"
                               "Connection: close\r\n"
                               "Content-Length: 59\r\n"
                               "\r\n" GRPC_HTTP1_BODY;
    _Static_assert(sizeof(GRPC_HTTP1_BODY) - 1 == 59, "Content-Length of the HTTP/1 answer");
#undef GRPC_HTTP1_BODY
    grpc_conn_close_raw(c, (const uint8_t *)resp, sizeof(resp) - 1);
}

void grpc_conn_input(grpc_conn *c, const uint8_t *in, size_t len) {
    ssize_t rv = nghttp2_session_mem_recv(c->session, in, len);
    if (rv >= 0 && c->in_total < GRPC_PREFACE_LEN)
        c->in_total += (size_t)rv < GRPC_PREFACE_LEN ? (size_t)rv : GRPC_PREFACE_LEN;
    if (rv < 0) {
        if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC && !c->got_frame) {
            grpc_conn_bad_magic(c, in, len);
        } else {
            log_event(LOG_DEBUG, "grpc_conn_error", "conn=%u error=\"%s\"", c->slot,
                      nghttp2_strerror((int)rv));
            c->dead = 1;
        }
    }
}

void grpc_conn_readable(grpc_conn *c) {
    grpc_server *g = c->srv;
    for (int i = 0; i < GRPC_READS_PER_WAKEUP && !c->dead && !c->raw_close; i++) {
        if (c->out_len - c->out_off >= GRPC_OUT_HIGH || !nghttp2_session_want_read(c->session))
            break;
        ssize_t n = recv(c->fd, g->rbuf, sizeof(g->rbuf), 0);
        if (n == 0) {
            c->dead = 1;
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = 1;
            break;
        }
        c->last_io = grpc_now();
        grpc_conn_input(c, g->rbuf, (size_t)n);
        grpc_conn_flush(c);
        if ((size_t)n < sizeof(g->rbuf))
            break;
    }
    grpc_conn_flush(c);
}

void grpc_conn_final_goaway(grpc_conn *c) {
    c->shutdown = 2;
    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
}
