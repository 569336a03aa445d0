/* grpc.c - the OTLP/gRPC receiver: h2c on nghttp2, one epoll loop thread.
 *
 * DESIGN
 * One thread owns every connection. It accepts, reads, feeds the bytes to
 * the connection's nghttp2 session (nghttp2_session_mem_recv), and writes
 * what the session produces (nghttp2_session_mem_send) through a per-
 * connection output buffer; when that buffer backs up the connection stops
 * being read until it drains. A connection is closed, only from the loop's
 * top level and never from inside an nghttp2 callback, when the session
 * wants neither to read nor to write, on a fatal I/O or protocol error, or
 * on a timeout.
 *
 * A stream (one Export call) collects its request message through the
 * incremental grpc_frame parser as DATA arrives; at END_STREAM the message
 * is inflated if compressed, decoded into a model_batch and handed to
 * store_append(). Success is answered only once the store reports the batch
 * committed: the store's writer thread calls grpc_store_done(), which queues
 * a grpc_done record on the hub and writes the hub's eventfd; the loop wakes,
 * finds the stream again by (connection id, stream id) and submits the
 * response. A connection id holds a slot index and that slot's generation,
 * so a completion for a connection (or stream) that has gone away in the
 * meantime finds nothing and is dropped.
 *
 * The hub (queue + eventfd) is reference counted by the server and by every
 * append still in the store, so a store callback that arrives after the
 * server has stopped touches only the hub, never freed memory.
 *
 * Errors are trailers-only responses (HEADERS with grpc-status and END_STREAM);
 * if the client is still sending, the stream is then reset with NO_ERROR so
 * it stops (RFC 9113 section 8.1).
 */
#include "grpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clk.h"
#include "grpc_frame.h"
#ifdef LOUPE_TESTING
#include "grpc_detached.h"
#endif
#include "util/gz.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "server/decode/otlp.h"
#include "server/net/http_util.h"
#include "server/net/recv_stats.h"

#define GRPC_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)
#define GRPC_DEFAULT_MAX_CONNECTIONS 4096u
#define GRPC_MAX_CONNECTIONS_CAP 65536u
#define GRPC_DEFAULT_IDLE_SECONDS 300u
#define GRPC_DEFAULT_REQUEST_SECONDS 30u
#define GRPC_MAX_STREAMS 256u
#define GRPC_STREAM_WINDOW (1 << 20)       /* initial stream window: 1 MiB */
#define GRPC_CONN_WINDOW (16 << 20)        /* connection window: 16 MiB */
#define GRPC_MAX_HEADER_LIST (64u * 1024)
#define GRPC_READ_CHUNK (64 * 1024)
#define GRPC_READS_PER_WAKEUP 16           /* fairness: at most 1 MiB per wakeup */
#define GRPC_OUT_FILL (64 * 1024)          /* stop pulling frames from nghttp2 past this */
#define GRPC_OUT_HIGH (256 * 1024)         /* stop reading past this much unsent output */
#define GRPC_INFLIGHT_MAX ((size_t)256 << 20) /* request bytes buffered by all streams */
#define GRPC_BATCH_MEM_FACTOR 8            /* decoded batch may use 8x the message */
#define GRPC_PREFACE_TIMEOUT_NS (10LL * 1000000000)
#define GRPC_CLOSING_TIMEOUT_NS (5LL * 1000000000)
#define GRPC_SWEEP_NS (1000LL * 1000000)
#define GRPC_GOAWAY_DELAY_NS (1000LL * 1000000) /* notice to final GOAWAY, if no PING ack */
#define GRPC_STOP_GRACE_NS (5LL * 1000000000)   /* bound on waiting for commits at stop */
#define GRPC_MAX_EVENTS 256
#define GRPC_PREFACE_LEN 24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
#define GRPC_MSG_MAX 512 /* grpc-message text before percent-encoding */

#define GRPC_EV_LISTEN UINT64_MAX
#define GRPC_EV_WAKE (UINT64_MAX - 1)

static const struct {
    const char *path;
    model_signal signal;
} grpc_methods[] = {
    {"/opentelemetry.proto.collector.trace.v1.TraceService/Export", MODEL_SIGNAL_TRACES},
    {"/opentelemetry.proto.collector.logs.v1.LogsService/Export", MODEL_SIGNAL_LOGS},
    {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", MODEL_SIGNAL_METRICS},
};
#define GRPC_N_METHODS (sizeof(grpc_methods) / sizeof(grpc_methods[0]))

/* ---- the completion hub ----------------------------------------------- */

typedef struct grpc_hub grpc_hub;

typedef struct grpc_done {
    struct grpc_done *next;
    grpc_hub *hub;
    uint64_t conn_id;
    int32_t stream_id;
    int status; /* STORE_OK or a negative STORE_* code */
} grpc_done;

struct grpc_hub {
    pthread_mutex_t mu;
    grpc_done *head, *tail;
    unsigned refs;   /* the server's, plus one per append the store holds */
    unsigned appends; /* appends whose callback has not come yet */
    int closed;      /* the server has gone: callbacks just free */
    int efd;         /* eventfd the loop watches; also the stop wake-up */
    recv_counters rc; /* for /metrics; here because commits outlive the server */
};

static void grpc_hub_free(grpc_hub *h) {
    grpc_done *d = h->head;
    while (d) {
        grpc_done *next = d->next;
        free(d);
        d = next;
    }
    if (h->efd >= 0)
        close(h->efd);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static void grpc_hub_wake(grpc_hub *h) {
    uint64_t one = 1;
    ssize_t n = write(h->efd, &one, sizeof(one));
    (void)n; /* EAGAIN only when the counter is saturated: a wake-up is pending anyway */
}

/* Called by the store's writer thread, once per successful append. */
static void grpc_store_done(void *ud, int status, const model_batch *b) {
    grpc_done *d = ud;
    grpc_hub *h = d->hub;
    recv_count_committed(&h->rc, status, b);
    d->status = status;
    d->next = NULL;
    pthread_mutex_lock(&h->mu);
    int closed = h->closed;
    if (!closed) {
        if (h->tail)
            h->tail->next = d;
        else
            h->head = d;
        h->tail = d;
        /* Written under the lock: the hub cannot be freed before it returns. */
        grpc_hub_wake(h);
    }
    h->appends--;
    int last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (closed)
        free(d);
    if (last)
        grpc_hub_free(h);
}

/* Drops the server's reference; later callbacks only free their records. */
static void grpc_hub_release(grpc_hub *h) {
    pthread_mutex_lock(&h->mu);
    h->closed = 1;
    grpc_done *d = h->head;
    h->head = h->tail = NULL;
    int last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    while (d) {
        grpc_done *next = d->next;
        free(d);
        d = next;
    }
    if (last)
        grpc_hub_free(h);
}

/* ---- connections and streams ------------------------------------------ */

typedef enum grpc_stream_state {
    GRPC_STREAM_RECV = 0, /* collecting the request */
    GRPC_STREAM_WAIT,     /* appended; waiting for the commit */
    GRPC_STREAM_DONE,     /* response submitted; further input is discarded */
} grpc_stream_state;

/* Header facts collected while a request's HEADERS are parsed. */
#define GRPC_H_POST 0x01
#define GRPC_H_CT_GRPC 0x02
#define GRPC_H_CT_SEEN 0x04
#define GRPC_H_AUTHED 0x08
#define GRPC_H_BAD_TIMEOUT 0x10
#define GRPC_H_ENC_LONG 0x20
#define GRPC_H_TOO_BIG 0x40 /* the header list passed max_header */

typedef struct grpc_conn grpc_conn;
typedef struct grpc_server grpc_server;

typedef struct grpc_stream {
    struct grpc_stream *prev, *next;
    grpc_conn *conn;
    int32_t id;
    grpc_stream_state state;
    int method; /* index into grpc_methods, or -1 */
    unsigned hflags;
    char path[128]; /* for the UNIMPLEMENTED message (truncated) */
    char encoding[32];
    int64_t deadline; /* monotonic ns; 0 = none */
    int64_t begun;    /* when its HEADERS began (bounds the request's arrival) */
    size_t header_bytes; /* header list size so far, as HTTP/2 counts it */
    int req_done;     /* END_STREAM received from the client */
    grpc_frame frame;
    uint8_t *msg; /* the request message once complete (owned) */
    size_t msg_len;
    int msg_compressed;
    int have_msg;
    size_t buffered; /* bytes counted in the server's inflight total */
    /* the answer */
    uint8_t *resp; /* length-prefixed response message (owned) */
    size_t resp_len, resp_off;
    int64_t rejected;
    char reject_msg[256];
} grpc_stream;

struct grpc_conn {
    grpc_server *srv;
    grpc_conn *prev, *next;
    uint32_t slot, gen;
    int fd;       /* -1 for a detached connection (test builds) */
#ifdef LOUPE_TESTING
    buf *sink;    /* detached: where the output goes */
#endif
    nghttp2_session *session;
    grpc_stream *streams;
    unsigned nstreams;
    uint8_t *out; /* unsent output: out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    int64_t last_io;  /* monotonic ns of the last read or write progress */
    int64_t idle_since; /* when the last stream closed (PINGs do not count) */
    int64_t born;
    uint32_t events;  /* epoll interest registered */
    int got_frame;    /* the preface and a frame arrived */
    size_t in_total;  /* input accepted so far, up to the preface length */
    int raw_close;    /* no more HTTP/2: flush out[] and close */
    int dead;         /* close at the next top-level check */
    int shutdown;     /* 0, 1 = notice sent, 2 = final GOAWAY sent */
    int dirty;        /* on the to-flush list of grpc_run_completions() */
    grpc_conn *dirty_next;
    int64_t shutdown_at;
};

struct grpc_server {
    grpc_config cfg;
    char *addr;
    char *keys[2]; /* owned copies of the configured keys, keys[0..nkeys) */
    int nkeys;
    size_t max_msg;
    unsigned max_conns;
    int64_t idle_ns;
    int64_t request_ns;
    size_t max_header;
    store *st;
#ifdef LOUPE_TESTING
    grpc_append_fn append; /* replaces store_append() when set */
    void *append_ctx;
#endif
    int lfd;
    int epfd;
    int port;
    int listen_paused; /* after EMFILE; resumed at the next sweep */
    grpc_hub *hub;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    int stopping;
    int64_t stop_deadline;
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
    grpc_conn **slots;
    uint32_t *gens;
    uint32_t *free_slots;
    unsigned nfree;
    grpc_conn *conns; /* list of open connections */
    unsigned nconns;
    size_t inflight;
    int64_t next_sweep;
    uint64_t refused_conns;
    /* grpc_stats, written by the loop thread */
    atomic_uint_fast64_t st_open, st_refused, st_idle, st_request, st_headers;
    int64_t last_refuse_log;
    uint8_t rbuf[GRPC_READ_CHUNK];
};

static int64_t grpc_now(void) {
    return clk_ns(CLOCK_MONOTONIC);
}

static uint64_t grpc_conn_id(const grpc_conn *c) {
    return (uint64_t)c->gen << 32 | c->slot;
}

static grpc_conn *grpc_conn_lookup(grpc_server *g, uint64_t id) {
    uint32_t slot = (uint32_t)id;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot >= g->max_conns || g->gens[slot] != gen)
        return NULL;
    return g->slots[slot];
}

static void grpc_sweep_soon(grpc_server *g, int64_t when) {
    if (when < g->next_sweep)
        g->next_sweep = when;
}

/* ---- header values ------------------------------------------------------ */

/* 1 when a request header value presents one of the API keys (the same
 * rules as OTLP/HTTP: server/net/http_util.h). */
static int grpc_key_matches(const grpc_server *g, http_util_key_source src, const uint8_t *v,
                            size_t vlen) {
    return http_util_api_key_match((const char *const *)g->keys, (size_t)g->nkeys, src,
                                   (const char *)v, vlen);
}

/* Parses a grpc-timeout value ("1*8 digits" + unit H M S m u n) into ns.
 * Returns 0 and *ns (INT64_MAX when too large to matter), or -1. */
static int grpc_parse_timeout(const uint8_t *v, size_t len, int64_t *ns) {
    if (len < 2 || len > 9)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    int64_t unit;
    switch (v[len - 1]) {
    case 'H':
        unit = 3600LL * 1000000000;
        break;
    case 'M':
        unit = 60LL * 1000000000;
        break;
    case 'S':
        unit = 1000000000;
        break;
    case 'm':
        unit = 1000000;
        break;
    case 'u':
        unit = 1000;
        break;
    case 'n':
        unit = 1;
        break;
    default:
        return -1;
    }
    *ns = n > INT64_MAX / unit ? INT64_MAX : n * unit;
    return 0;
}

/* content-type: application/grpc, optionally +proto and/or ;parameters. */
static int grpc_content_type_ok(const uint8_t *v, size_t len) {
    static const char base[] = "application/grpc";
    size_t bl = sizeof(base) - 1;
    if (len < bl || strncasecmp((const char *)v, base, bl) != 0)
        return 0;
    v += bl;
    len -= bl;
    if (len >= 6 && strncasecmp((const char *)v, "+proto", 6) == 0) {
        v += 6;
        len -= 6;
    }
    return len == 0 || v[0] == ';';
}

/* Percent-encodes a grpc-message value as the gRPC HTTP/2 spec asks: bytes
 * outside 0x20..0x7E and '%' become %XX. */
static size_t grpc_pct_encode(const char *in, char *out, size_t outlen) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0' && i < GRPC_MSG_MAX; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch >= 0x20 && ch <= 0x7e && ch != '%') {
            if (o + 1 >= outlen)
                break;
            out[o++] = (char)ch;
        } else {
            if (o + 3 >= outlen)
                break;
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* ---- responses ---------------------------------------------------------- */

#define GRPC_NV(name, value, vlen)                                                              \
    {                                                                                           \
        (uint8_t *)(uintptr_t)(name), (uint8_t *)(uintptr_t)(value), sizeof(name) - 1, (vlen), \
            NGHTTP2_NV_FLAG_NONE                                                                \
    }
#define GRPC_NVS(name, value) GRPC_NV(name, value, sizeof(value) - 1)

static const char grpc_accept_encoding[] = "identity,gzip";

static void grpc_stream_release_input(grpc_stream *st) {
    grpc_server *g = st->conn->srv;
    grpc_frame_free(&st->frame);
    free(st->msg);
    st->msg = NULL;
    st->msg_len = 0;
    g->inflight -= st->buffered;
    st->buffered = 0;
}

/* Submits a trailers-only answer with the given HTTP and gRPC status; the
 * stream is DONE afterwards. */
static recv_outcome grpc_outcome_of(int code) {
    switch (code) {
    case OTLP_GRPC_UNAUTHENTICATED:
        return RECV_UNAUTHENTICATED;
    case OTLP_GRPC_RESOURCE_EXHAUSTED:
        return RECV_TOO_LARGE;
    case OTLP_GRPC_UNAVAILABLE:
        return RECV_BACKPRESSURE;
    case OTLP_GRPC_INVALID_ARGUMENT:
    case OTLP_GRPC_UNIMPLEMENTED:
    case OTLP_GRPC_INTERNAL: /* malformed framing, gzip, grpc-timeout */
        return RECV_INVALID;
    default:
        return RECV_OTHER;
    }
}

static void grpc_stream_fail_as(grpc_stream *st, int http_status, int code, const char *message,
                                recv_outcome outcome);

static void grpc_stream_fail(grpc_stream *st, int http_status, int code, const char *message) {
    grpc_stream_fail_as(st, http_status, code, message, grpc_outcome_of(code));
}

/* A store refusal or failed commit: UNAVAILABLE, counted by its cause. */
static void grpc_stream_store_fail(grpc_stream *st, int store_code, const char *message) {
    grpc_stream_fail_as(st, 200,
                        store_is_retryable(store_code) ? OTLP_GRPC_UNAVAILABLE : OTLP_GRPC_INTERNAL,
                        message, recv_outcome_of_store(store_code));
}

static void grpc_stream_fail_as(grpc_stream *st, int http_status, int code, const char *message,
                                recv_outcome outcome) {
    grpc_conn *c = st->conn;
    recv_count_request(&c->srv->hub->rc, outcome);
    char status_s[16], code_s[16], msg_s[GRPC_MSG_MAX * 3 + 1];
    int sl = snprintf(status_s, sizeof(status_s), "%d", http_status);
    int cl = snprintf(code_s, sizeof(code_s), "%d", code);
    size_t ml = grpc_pct_encode(message ? message : "", msg_s, sizeof(msg_s));
    nghttp2_nv nva[] = {
        GRPC_NV(":status", status_s, (size_t)sl),
        GRPC_NVS("content-type", "application/grpc"),
        GRPC_NV("grpc-accept-encoding", grpc_accept_encoding, sizeof(grpc_accept_encoding) - 1),
        GRPC_NV("grpc-status", code_s, (size_t)cl),
        GRPC_NV("grpc-message", msg_s, ml),
    };
    size_t n = ml > 0 ? 5 : 4;
    st->state = GRPC_STREAM_DONE;
    grpc_stream_release_input(st);
    int rv = nghttp2_submit_response(c->session, st->id, nva, n, NULL);
    if (rv != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    char q[GRPC_MSG_MAX];
    log_event(LOG_DEBUG, "grpc_error", "conn=%u stream=%d http_status=%d grpc_status=%d message=\"%s\"",
              c->slot, st->id, http_status, code, log_quote(message ? message : "", q, sizeof(q)));
}

static void grpc_stream_status(grpc_stream *st, int code, const char *message) {
    grpc_stream_fail(st, 200, code, message);
}

static ssize_t grpc_resp_read(nghttp2_session *session, int32_t stream_id, uint8_t *out,
                              size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                              void *user_data) {
    grpc_stream *st = source->ptr;
    (void)user_data;
    size_t left = st->resp_len - st->resp_off;
    size_t n = left < length ? left : length;
    if (n > 0)
        memcpy(out, st->resp + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp_len) {
        nghttp2_nv trailers[] = {GRPC_NVS("grpc-status", "0")};
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(session, stream_id, trailers, 1) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

/* Submits the success answer: HEADERS, one DATA with the length-prefixed
 * Export*ServiceResponse, trailers with grpc-status 0. */
static void grpc_stream_ok(grpc_stream *st) {
    grpc_conn *c = st->conn;
    model_signal sig = grpc_methods[st->method].signal;
    buf body;
    buf_init(&body, 1 << 20);
    static const uint8_t zero5[GRPC_FRAME_PREFIX_LEN] = {0};
    if (buf_append(&body, zero5, sizeof(zero5)) != BUF_OK ||
        otlp_response_pb(sig, st->rejected, st->rejected > 0 ? st->reject_msg : "", &body) != 0) {
        buf_free(&body);
        grpc_stream_status(st, OTLP_GRPC_INTERNAL, "cannot encode the response");
        return;
    }
    size_t len = body.len - GRPC_FRAME_PREFIX_LEN;
    uint8_t *p = (uint8_t *)body.ptr;
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    st->resp = (uint8_t *)buf_detach(&body, &st->resp_len);
    st->resp_off = 0;
    st->state = GRPC_STREAM_DONE;
    recv_count_request(&c->srv->hub->rc, RECV_OK);
    nghttp2_nv nva[] = {
        GRPC_NVS(":status", "200"),
        GRPC_NVS("content-type", "application/grpc"),
        GRPC_NV("grpc-accept-encoding", grpc_accept_encoding, sizeof(grpc_accept_encoding) - 1),
    };
    nghttp2_data_provider prd;
    prd.source.ptr = st;
    prd.read_callback = grpc_resp_read;
    if (nghttp2_submit_response(c->session, st->id, nva, 3, &prd) != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* ---- request processing ---------------------------------------------- */

static grpc_stream *grpc_conn_find_stream(grpc_conn *c, int32_t id) {
    for (grpc_stream *st = c->streams; st; st = st->next)
        if (st->id == id)
            return st;
    return NULL;
}

/* 1 when appended batches have somewhere to go. */
static int grpc_has_store(const grpc_server *g) {
#ifdef LOUPE_TESTING
    if (g->append != NULL)
        return 1;
#endif
    return g->st != NULL;
}

/* store_append(), or in test builds the test's replacement. */
static int grpc_append(grpc_server *g, model_batch *batch, grpc_done *d) {
#ifdef LOUPE_TESTING
    if (g->append != NULL)
        return g->append(g->append_ctx, batch, grpc_store_done, d);
#endif
    return store_append(g->st, batch, grpc_store_done, d);
}

/* The request is complete: inflate, decode, append. */
static void grpc_stream_process(grpc_stream *st) {
    grpc_conn *c = st->conn;
    grpc_server *g = c->srv;
    char err[256] = "";
    char msg[GRPC_MSG_MAX];
    const uint8_t *data = st->msg;
    size_t len = st->msg_len;
    buf inflated;
    buf_init(&inflated, g->max_msg);

    if (st->deadline && grpc_now() >= st->deadline) {
        grpc_stream_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
        goto out;
    }
    if (st->msg_compressed) {
        if ((st->hflags & GRPC_H_ENC_LONG) || strcmp(st->encoding, "gzip") != 0) {
            if (st->encoding[0] == '\0' || strcmp(st->encoding, "identity") == 0) {
                grpc_stream_status(st, OTLP_GRPC_INTERNAL,
                                   "compressed message without a grpc-encoding");
            } else {
                snprintf(msg, sizeof(msg), "grpc-encoding %s%s is not supported (%s)",
                         st->encoding, (st->hflags & GRPC_H_ENC_LONG) ? "..." : "",
                         grpc_accept_encoding);
                grpc_stream_status(st, OTLP_GRPC_UNIMPLEMENTED, msg);
            }
            goto out;
        }
        int zrc = gz_inflate(data, len, &inflated);
        if (zrc == GZ_ETOOBIG) {
            snprintf(msg, sizeof(msg), "decompressed message exceeds the limit of %zu bytes",
                     g->max_msg);
            grpc_stream_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, msg);
            goto out;
        }
        if (zrc == GZ_ENOMEM) {
            grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "out of memory");
            goto out;
        }
        if (zrc != GZ_OK) {
            grpc_stream_status(st, OTLP_GRPC_INTERNAL, "cannot decompress the message (gzip)");
            goto out;
        }
        data = (const uint8_t *)inflated.ptr;
        len = inflated.len;
    }
    static const uint8_t empty[1] = {0};
    if (data == NULL)
        data = empty;

    model_signal sig = grpc_methods[st->method].signal;
    model_batch *batch = NULL;
    size_t mem_limit = g->max_msg > SIZE_MAX / GRPC_BATCH_MEM_FACTOR
                           ? SIZE_MAX
                           : g->max_msg * GRPC_BATCH_MEM_FACTOR;
    if (mem_limit < (64u << 20))
        mem_limit = 64u << 20;
    int rc = otlp_decode_pb(sig, data, len, mem_limit, &batch, err, sizeof(err));
    buf_free(&inflated);
    grpc_stream_release_input(st);
    if (rc == OTLP_EDECODE) {
        snprintf(msg, sizeof(msg), "cannot decode the request: %s", err);
        grpc_stream_status(st, OTLP_GRPC_INVALID_ARGUMENT, msg);
        goto out;
    }
    if (rc == OTLP_ETOOBIG) {
        grpc_stream_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, "decoded request is too large");
        goto out;
    }
    if (rc != OTLP_OK || batch == NULL) {
        grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "out of memory decoding the request");
        goto out;
    }
    st->rejected = batch->rejected;
    size_t items = model_batch_items(batch);
    recv_count_decoded(&g->hub->rc, sig, items,
                       batch->rejected > 0 ? (uint64_t)batch->rejected : 0);
    if (batch->rejected > 0)
        snprintf(st->reject_msg, sizeof(st->reject_msg), "%s", batch->reject_message.ptr);

    if (!grpc_has_store(g)) {
        model_batch_free(batch);
        recv_count_rejected(&g->hub->rc, sig, RECV_UNAVAILABLE, items);
        grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "no store");
        goto out;
    }
    grpc_done *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        model_batch_free(batch);
        recv_count_rejected(&g->hub->rc, sig, RECV_UNAVAILABLE, items);
        grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "out of memory");
        goto out;
    }
    d->hub = g->hub;
    d->conn_id = grpc_conn_id(c);
    d->stream_id = st->id;
    pthread_mutex_lock(&g->hub->mu);
    g->hub->refs++;
    g->hub->appends++;
    pthread_mutex_unlock(&g->hub->mu);
    st->state = GRPC_STREAM_WAIT;
    int src = grpc_append(g, batch, d);
    if (src != STORE_OK) {
        /* The callback will never come: take back its reference. */
        pthread_mutex_lock(&g->hub->mu);
        g->hub->refs--;
        g->hub->appends--;
        pthread_mutex_unlock(&g->hub->mu);
        free(d);
        recv_count_rejected(&g->hub->rc, sig, recv_outcome_of_store(src), items);
        snprintf(msg, sizeof(msg), "store: %s", store_strerror(src));
        grpc_stream_store_fail(st, src, msg);
    }
out:
    buf_free(&inflated);
}

/* A commit completed (or failed) for (conn, stream). */
static void grpc_handle_done(grpc_server *g, const grpc_done *d) {
    grpc_conn *c = grpc_conn_lookup(g, d->conn_id);
    if (c == NULL)
        return;
    grpc_stream *st = grpc_conn_find_stream(c, d->stream_id);
    if (st == NULL || st->state != GRPC_STREAM_WAIT)
        return;
    if (d->status == STORE_OK) {
        grpc_stream_ok(st);
    } else {
        char msg[128];
        snprintf(msg, sizeof(msg), "commit failed: %s", store_strerror(d->status));
        grpc_stream_store_fail(st, d->status, msg);
    }
}

/* Checks the request headers once they are complete. Returns 1 when the
 * stream may go on collecting its message. */
static int grpc_stream_headers_done(grpc_stream *st) {
    grpc_server *g = st->conn->srv;
    char msg[GRPC_MSG_MAX];
    if (st->hflags & GRPC_H_TOO_BIG) {
        atomic_fetch_add_explicit(&g->st_headers, 1, memory_order_relaxed);
        snprintf(msg, sizeof(msg), "request headers exceed the limit of %zu bytes", g->max_header);
        grpc_stream_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, msg);
        return 0;
    }
    if (!(st->hflags & GRPC_H_CT_GRPC)) {
        grpc_stream_fail(st, 415, OTLP_GRPC_INVALID_ARGUMENT,
                         (st->hflags & GRPC_H_CT_SEEN) ? "invalid gRPC request content-type"
                                                       : "missing gRPC request content-type");
        return 0;
    }
    if (!(st->hflags & GRPC_H_POST)) {
        grpc_stream_fail(st, 405, OTLP_GRPC_UNIMPLEMENTED, "gRPC requests must use POST");
        return 0;
    }
    if (g->nkeys > 0 && !(st->hflags & GRPC_H_AUTHED)) {
        grpc_stream_status(st, OTLP_GRPC_UNAUTHENTICATED, "missing or invalid API key");
        return 0;
    }
    if (st->method < 0) {
        snprintf(msg, sizeof(msg), "unknown method %s", st->path);
        grpc_stream_status(st, OTLP_GRPC_UNIMPLEMENTED, msg);
        return 0;
    }
    if (st->hflags & GRPC_H_BAD_TIMEOUT) {
        grpc_stream_status(st, OTLP_GRPC_INTERNAL, "malformed grpc-timeout");
        return 0;
    }
    if (st->deadline) {
        int64_t now = grpc_now();
        if (now >= st->deadline) {
            grpc_stream_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, "deadline exceeded on arrival");
            return 0;
        }
        grpc_sweep_soon(g, st->deadline);
    }
    return 1;
}

/* The client finished sending. */
static void grpc_stream_request_done(grpc_stream *st) {
    st->req_done = 1;
    if (st->state != GRPC_STREAM_RECV)
        return;
    if (grpc_frame_partial(&st->frame)) {
        grpc_stream_status(st, OTLP_GRPC_INTERNAL, "request ended inside a message");
        return;
    }
    if (!st->have_msg) {
        grpc_stream_status(st, OTLP_GRPC_INTERNAL, "request has no message");
        return;
    }
    grpc_stream_process(st);
}

static void grpc_stream_data(grpc_stream *st, const uint8_t *data, size_t len) {
    grpc_server *g = st->conn->srv;
    char msg[GRPC_MSG_MAX];
    if (g->inflight + len > GRPC_INFLIGHT_MAX) {
        grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "server busy: too much request data in flight");
        return;
    }
    g->inflight += len;
    st->buffered += len;
    while (len > 0 && st->state == GRPC_STREAM_RECV) {
        size_t used = 0;
        grpc_frame_msg m;
        int rc = grpc_frame_feed(&st->frame, data, len, &used, &m);
        data += used;
        len -= used;
        switch (rc) {
        case GRPC_FRAME_NEED_MORE:
            break;
        case GRPC_FRAME_HEADER:
        case GRPC_FRAME_MSG:
            if (st->have_msg) {
                grpc_stream_status(st, OTLP_GRPC_INTERNAL,
                                   "more than one request message for a unary method");
                return;
            }
            if (rc == GRPC_FRAME_MSG) {
                st->have_msg = 1;
                st->msg_compressed = m.compressed;
                st->msg = grpc_frame_take(&st->frame, &st->msg_len);
            }
            break;
        case GRPC_FRAME_ETOOBIG:
            snprintf(msg, sizeof(msg), "message of %u bytes exceeds the limit of %zu bytes",
                     (unsigned)grpc_frame_declared(&st->frame), g->max_msg);
            grpc_stream_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, msg);
            return;
        case GRPC_FRAME_ENOMEM:
            grpc_stream_status(st, OTLP_GRPC_UNAVAILABLE, "out of memory");
            return;
        default:
            grpc_stream_status(st, OTLP_GRPC_INTERNAL, grpc_frame_strerror(rc));
            return;
        }
    }
}

/* ---- nghttp2 callbacks --------------------------------------------------
 * They only record state and submit frames; nothing is freed here except
 * stream records in on_stream_close (which nghttp2 allows). */

static int grpc_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                                 void *user_data) {
    grpc_conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    grpc_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->conn = c;
    st->id = frame->hd.stream_id;
    st->method = -1;
    st->begun = grpc_now();
    grpc_sweep_soon(c->srv, st->begun + c->srv->request_ns);
    grpc_frame_init(&st->frame, c->srv->max_msg);
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    c->nstreams++;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int grpc_on_header(nghttp2_session *session, const nghttp2_frame *frame,
                          const uint8_t *name, size_t namelen, const uint8_t *value,
                          size_t valuelen, uint8_t flags, void *user_data) {
    grpc_conn *c = user_data;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st == NULL || (st->hflags & GRPC_H_TOO_BIG))
        return 0;
    /* RFC 9113 6.5.2: name + value + 32 per field. Past the limit the rest
     * is ignored and the request is refused once its headers end. */
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > c->srv->max_header) {
        st->hflags |= GRPC_H_TOO_BIG;
        return 0;
    }
#define NAME_IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
    if (NAME_IS(":method")) {
        if (valuelen == 4 && memcmp(value, "POST", 4) == 0)
            st->hflags |= GRPC_H_POST;
    } else if (NAME_IS(":path")) {
        size_t n = valuelen < sizeof(st->path) - 1 ? valuelen : sizeof(st->path) - 1;
        memcpy(st->path, value, n);
        st->path[n] = '\0';
        st->method = -1;
        for (size_t i = 0; i < GRPC_N_METHODS; i++)
            if (valuelen == strlen(grpc_methods[i].path) &&
                memcmp(value, grpc_methods[i].path, valuelen) == 0)
                st->method = (int)i;
    } else if (NAME_IS("content-type")) {
        st->hflags |= GRPC_H_CT_SEEN;
        if (grpc_content_type_ok(value, valuelen))
            st->hflags |= GRPC_H_CT_GRPC;
        else
            st->hflags &= ~(unsigned)GRPC_H_CT_GRPC;
    } else if (NAME_IS("grpc-encoding")) {
        size_t n = valuelen;
        st->hflags &= ~(unsigned)GRPC_H_ENC_LONG;
        if (n >= sizeof(st->encoding)) {
            n = sizeof(st->encoding) - 1; /* kept for the message; never supported */
            st->hflags |= GRPC_H_ENC_LONG;
        }
        for (size_t i = 0; i < n; i++)
            st->encoding[i] = value[i] >= 0x20 && value[i] <= 0x7e ? (char)value[i] : '?';
        st->encoding[n] = '\0';
    } else if (NAME_IS("grpc-timeout")) {
        int64_t ns;
        st->deadline = 0;
        if (grpc_parse_timeout(value, valuelen, &ns) != 0) {
            st->hflags |= GRPC_H_BAD_TIMEOUT;
        } else {
            int64_t now = grpc_now();
            if (ns < INT64_MAX - now) /* else too far away to matter */
                st->deadline = now + ns > 0 ? now + ns : 1;
        }
    } else if (NAME_IS("x-otlp-api-key")) {
        if (grpc_key_matches(c->srv, HTTP_UTIL_KEY_HEADER, value, valuelen))
            st->hflags |= GRPC_H_AUTHED;
    } else if (NAME_IS("authorization")) {
        if (grpc_key_matches(c->srv, HTTP_UTIL_KEY_AUTHORIZATION, value, valuelen))
            st->hflags |= GRPC_H_AUTHED;
    }
#undef NAME_IS
    return 0;
}

static int grpc_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                              void *user_data) {
    grpc_conn *c = user_data;
    c->got_frame = 1;
    switch (frame->hd.type) {
    case NGHTTP2_PING:
        /* The ack of our shutdown PING: one round trip after the notice. */
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && c->shutdown == 1 &&
            memcmp(frame->ping.opaque_data, "loupe-sd", 8) == 0) {
            c->shutdown = 2;
            nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(session),
                                  NGHTTP2_NO_ERROR, NULL, 0);
        }
        return 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
        grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (st == NULL)
            return 0;
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            if (!grpc_stream_headers_done(st)) {
                if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
                    st->req_done = 1;
                return 0;
            }
        }
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
            grpc_stream_request_done(st);
        return 0;
    }
    default:
        return 0;
    }
}

static int grpc_on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                              const uint8_t *data, size_t len, void *user_data) {
    (void)flags;
    (void)user_data;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL || st->state != GRPC_STREAM_RECV)
        return 0;
    grpc_stream_data(st, data, len);
    return 0;
}

static int grpc_on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
                              void *user_data) {
    (void)user_data;
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    /* Answered before the client finished sending: ask it to stop. */
    if (st && !st->req_done)
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

static int grpc_on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                                void *user_data) {
    grpc_conn *c = user_data;
    (void)error_code;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    c->nstreams--;
    if (c->nstreams == 0)
        c->idle_since = grpc_now();
    grpc_stream_release_input(st);
    free(st->resp);
    free(st);
    return 0;
}

/* ---- connection I/O ----------------------------------------------------- */

static void grpc_conn_set_events(grpc_conn *c) {
    if (c->fd < 0 || c->dead)
        return;
    size_t pending = c->out_len - c->out_off;
    uint32_t ev = 0;
    if (pending > 0)
        ev |= EPOLLOUT;
    if (!c->raw_close && pending < GRPC_OUT_HIGH && nghttp2_session_want_read(c->session))
        ev |= EPOLLIN;
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

/* Pulls frames from nghttp2 and writes as much as the socket takes. Marks
 * the connection dead on errors and when it has nothing left to do. */
static void grpc_conn_flush(grpc_conn *c) {
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

/* Input that is not HTTP/2: if it looks like an HTTP/1 request line, say so
 * in HTTP/1.1 before closing. */
static void grpc_conn_bad_magic(grpc_conn *c, const uint8_t *in, size_t len) {
    size_t i = 0;
    while (i < len && i < 16 && in[i] >= 'A' && in[i] <= 'Z')
        i++;
    c->raw_close = 1;
    c->out_off = c->out_len = 0; /* drop our SETTINGS: the peer does not speak HTTP/2 */
    if (c->in_total > 0 || i == 0 || i >= len || in[i] != ' ')
        return;
#define GRPC_HTTP1_BODY "This port speaks OTLP/gRPC (HTTP/2 with prior knowledge).\r\n"
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Content-Type: text/plain\r\n"
                               "Connection: close\r\n"
                               "Content-Length: 59\r\n"
                               "\r\n" GRPC_HTTP1_BODY;
    _Static_assert(sizeof(GRPC_HTTP1_BODY) - 1 == 59, "Content-Length of the HTTP/1 answer");
#undef GRPC_HTTP1_BODY
    grpc_conn_out_append(c, (const uint8_t *)resp, sizeof(resp) - 1);
}

static void grpc_conn_input(grpc_conn *c, const uint8_t *in, size_t len) {
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

static void grpc_conn_readable(grpc_conn *c) {
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

static void grpc_conn_free(grpc_conn *c) {
    grpc_server *g = c->srv;
    /* Streams are freed here, outside any nghttp2 callback; clear the user
     * data first so nghttp2_session_del's closing does not see them. */
    grpc_stream *st = c->streams;
    while (st) {
        grpc_stream *next = st->next;
        nghttp2_session_set_stream_user_data(c->session, st->id, NULL);
        grpc_stream_release_input(st);
        free(st->resp);
        free(st);
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
    g->nconns--;
    recv_count_connection(&g->hub->rc, -1);
    atomic_store_explicit(&g->st_open, g->nconns, memory_order_relaxed);
    g->slots[c->slot] = NULL;
    g->gens[c->slot]++; /* completions for this connection now find nothing */
    g->free_slots[g->nfree++] = c->slot;
    free(c->out);
    free(c);
}

/* Frees the connection if it is done. Top level only. Returns 1 if freed. */
static int grpc_conn_reap(grpc_conn *c) {
    if (!c->dead)
        return 0;
    grpc_conn_free(c);
    return 1;
}

static grpc_conn *grpc_conn_new(grpc_server *g, int fd) {
    if (g->nfree == 0)
        return NULL;
    grpc_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->srv = g;
    c->fd = fd;
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
    g->slots[c->slot] = c;
    if (fd >= 0) {
        struct epoll_event e;
        memset(&e, 0, sizeof(e));
        e.events = EPOLLIN;
        e.data.u64 = grpc_conn_id(c);
        if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &e) != 0)
            goto fail_epoll;
        c->events = EPOLLIN;
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

static void grpc_accept(grpc_server *g) {
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

/* ---- timers -------------------------------------------------------------- */

static void grpc_conn_final_goaway(grpc_conn *c) {
    c->shutdown = 2;
    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
}

static void grpc_conn_timers(grpc_conn *c, int64_t now, int64_t *next) {
    grpc_server *g = c->srv;
    int receiving = 0;
    grpc_stream *st = c->streams;
    while (st) {
        grpc_stream *nx = st->next; /* responding may not free, but be safe */
        if (st->deadline && st->state != GRPC_STREAM_DONE) {
            if (now >= st->deadline)
                grpc_stream_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
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
                grpc_stream_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, msg);
                if (c->shutdown < 2) {
                    c->shutdown = 2;
                    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                                          nghttp2_session_get_last_proc_stream_id(c->session),
                                          NGHTTP2_NO_ERROR, NULL, 0);
                }
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

static void grpc_sweep(grpc_server *g, int64_t now) {
    int64_t next = now + GRPC_SWEEP_NS;
    grpc_conn *c = g->conns;
    while (c) {
        grpc_conn *nx = c->next;
        grpc_conn_timers(c, now, &next);
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

static void grpc_run_completions(grpc_server *g) {
    uint64_t cnt;
    if (g->hub->efd >= 0) {
        ssize_t n = read(g->hub->efd, &cnt, sizeof(cnt));
        (void)n;
    }
    pthread_mutex_lock(&g->hub->mu);
    grpc_done *d = g->hub->head;
    g->hub->head = g->hub->tail = NULL;
    pthread_mutex_unlock(&g->hub->mu);
    /* A group commit completes many streams of the same connections at
     * once: submit every answer first, then write each connection once. */
    grpc_conn *dirty = NULL;
    while (d) {
        grpc_done *next = d->next;
        grpc_handle_done(g, d);
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

/* ---- the loop ------------------------------------------------------------- */

static void grpc_begin_stop(grpc_server *g, int64_t now) {
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

static void *grpc_loop(void *arg) {
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
                    grpc_accept(g);
                continue;
            }
            if (id == GRPC_EV_WAKE) {
                grpc_run_completions(g);
                continue;
            }
            grpc_conn *c = grpc_conn_lookup(g, id);
            if (c == NULL)
                continue;
            uint32_t e = evs[i].events;
            if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
                grpc_conn_readable(c);
            if ((e & EPOLLOUT) && !c->dead)
                grpc_conn_flush(c);
            if ((e & EPOLLERR) && !(e & EPOLLIN))
                c->dead = 1;
            grpc_conn_reap(c);
        }
        now = grpc_now();
        if (atomic_load(&g->stop) && !g->stopping)
            grpc_begin_stop(g, now);
        if (now >= g->next_sweep)
            grpc_sweep(g, now);
        if (g->stopping) {
            if (g->nconns == 0 || now >= g->stop_deadline)
                break;
        }
    }
    return NULL;
}

/* ---- setup and teardown --------------------------------------------------- */

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

static void grpc_server_free(grpc_server *g) {
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
    free(g->addr);
    free(g->keys[0]);
    free(g->keys[1]);
    free(g);
}

/* Everything but the socket and the thread. */
static int grpc_server_new(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                           size_t errlen) {
    grpc_server *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    g->lfd = g->epfd = -1;
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

    g->hub = calloc(1, sizeof(*g->hub));
    if (g->hub == NULL)
        goto fail;
    g->hub->efd = -1;
    pthread_mutex_init(&g->hub->mu, NULL);
    g->hub->refs = 1;
    g->hub->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g->hub->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        grpc_server_free(g);
        return -1;
    }

    if (nghttp2_session_callbacks_new(&g->callbacks) != 0)
        goto fail;
    nghttp2_session_callbacks_set_on_begin_headers_callback(g->callbacks, grpc_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(g->callbacks, grpc_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(g->callbacks, grpc_on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(g->callbacks, grpc_on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(g->callbacks, grpc_on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(g->callbacks, grpc_on_stream_close);
    if (nghttp2_option_new(&g->option) != 0)
        goto fail;
    /* A peer that makes us queue more than this many SETTINGS/PING acks
     * without reading them is flooding: the session fails. */
    nghttp2_option_set_max_outbound_ack(g->option, 1000);
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
    int prc = pthread_create(&g->thread, NULL, grpc_loop, g);
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

void grpc_server_begin_stop(grpc_server *g) {
    if (g == NULL || !g->thread_started)
        return;
    atomic_store(&g->stop, 1);
    pthread_mutex_lock(&g->hub->mu);
    grpc_hub_wake(g->hub);
    pthread_mutex_unlock(&g->hub->mu);
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
}

void grpc_server_stop(grpc_server *g) {
    if (g == NULL)
        return;
    if (g->thread_started) {
        grpc_server_begin_stop(g);
        pthread_join(g->thread, NULL);
    }
    pthread_mutex_lock(&g->hub->mu);
    unsigned pending = g->hub->appends;
    pthread_mutex_unlock(&g->hub->mu);
    if (pending > 0)
        log_event(LOG_WARN, "grpc_stop", "unanswered_commits=%u", pending);
    grpc_server_free(g);
}

/* ---- detached mode (test builds only: grpc_detached.h) -------------------- */

#ifdef LOUPE_TESTING

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
    grpc_run_completions(g);
    grpc_sweep(g, grpc_now());
}

int grpc_conn_alive_detached(grpc_server *g, const grpc_conn *c) {
    for (grpc_conn *x = g->conns; x; x = x->next)
        if (x == c)
            return 1;
    return 0;
}

#endif /* LOUPE_TESTING */
