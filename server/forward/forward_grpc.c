/* forward_grpc.c - OTLP/gRPC to one destination: a small client on
 * nghttp2's client side (h2c, prior knowledge), see forward_internal.h.
 *
 * One connection per destination, kept between calls and made again when
 * it breaks. A call is one HTTP/2 stream: HEADERS, then the message with
 * its 5-byte gRPC prefix as DATA; the answer is the response headers, an
 * optional message (the Export response, for partial success) and the
 * trailers with grpc-status (or a trailers-only answer). The socket is
 * non-blocking and waited on with poll() in slices of at most 100 ms, so
 * that the stop flag and the call's deadline are seen. Driven as nghttp2's
 * examples do: nghttp2_session_mem_recv() for what arrives,
 * nghttp2_session_send() (through send_cb) for what is to go; Debian's
 * nghttp2 1.52 predates the *2 calls.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clk.h"
#include "server/decode/otlp.h"
#include "forward_internal.h"

#define GRPC_CONNECT_TIMEOUT_MS 5000
#define GRPC_CALL_TIMEOUT_MS 30000
#define GRPC_SLICE_MS 100
#define GRPC_RESPONSE_MAX ((size_t)64 << 10)
#define GRPC_MAX_HEADERS (8 + FORWARD_MAX_HEADERS)

static const char *const grpc_paths[MODEL_SIGNAL_COUNT] = {
    [MODEL_SIGNAL_TRACES] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    [MODEL_SIGNAL_LOGS] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    [MODEL_SIGNAL_METRICS] = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
};

typedef struct grpc_header {
    char *name, *value; /* owned */
} grpc_header;

struct forward_client {
    const forward_dest *d;
    const forward_stop_flag *stop;
    grpc_header extra[FORWARD_MAX_HEADERS];
    size_t n_extra;
    char authority[300];
    int fd; /* -1: not connected */
    nghttp2_session *s;
    int broken; /* the connection cannot carry another call */
    /* the call in progress */
    int32_t stream;
    uint8_t prefix[5];
    const uint8_t *body;
    size_t len, off; /* off counts the prefix too */
    int done;
    uint32_t rst; /* the stream's error code when it closed */
    int http_status;
    int grpc_status; /* -1 until seen */
    char grpc_message[160];
    buf resp;
};

int forward_grpc_retryable(int code) {
    /* CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE,
     * UNAVAILABLE, DATA_LOSS */
    return code == 1 || code == 4 || code == 8 || code == 10 || code == 11 || code == 14 ||
           code == 15;
}

/* ---- nghttp2 callbacks ------------------------------------------------------------ */

static ssize_t grpc_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                            void *ud) {
    (void)s;
    (void)flags;
    forward_client *c = ud;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return NGHTTP2_ERR_WOULDBLOCK;
        c->broken = 1;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return n;
}

static ssize_t grpc_read_cb(nghttp2_session *s, int32_t id, uint8_t *out, size_t max,
                            uint32_t *flags, nghttp2_data_source *src, void *ud) {
    (void)s;
    (void)id;
    (void)src;
    forward_client *c = ud;
    size_t total = sizeof(c->prefix) + c->len, n = 0;
    while (n < max && c->off < total) {
        size_t take;
        if (c->off < sizeof(c->prefix)) {
            take = sizeof(c->prefix) - c->off;
            take = take < max - n ? take : max - n;
            memcpy(out + n, c->prefix + c->off, take);
        } else {
            size_t at = c->off - sizeof(c->prefix);
            take = c->len - at < max - n ? c->len - at : max - n;
            memcpy(out + n, c->body + at, take);
        }
        n += take;
        c->off += take;
    }
    if (c->off == total)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int grpc_number(const uint8_t *v, size_t len) {
    int x = 0;
    if (len == 0 || len > 6)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

static int grpc_header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                          size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *ud) {
    (void)s;
    (void)flags;
    forward_client *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != c->stream)
        return 0;
    if (nl == 7 && memcmp(name, ":status", 7) == 0)
        c->http_status = grpc_number(value, vl);
    else if (nl == 11 && memcmp(name, "grpc-status", 11) == 0)
        c->grpc_status = grpc_number(value, vl);
    else if (nl == 12 && memcmp(name, "grpc-message", 12) == 0) {
        size_t n = vl < sizeof(c->grpc_message) - 1 ? vl : sizeof(c->grpc_message) - 1;
        for (size_t i = 0; i < n; i++) /* percent-encoded text; kept printable */
            c->grpc_message[i] = value[i] >= 0x20 && value[i] < 0x7f && value[i] != '"'
                                     ? (char)value[i]
                                     : '.';
        c->grpc_message[n] = '\0';
    }
    return 0;
}

static int grpc_data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                        size_t len, void *ud) {
    (void)s;
    (void)flags;
    forward_client *c = ud;
    if (id == c->stream && c->resp.len < GRPC_RESPONSE_MAX) {
        size_t room = GRPC_RESPONSE_MAX - c->resp.len;
        buf_append(&c->resp, data, len < room ? len : room);
    }
    return 0;
}

static int grpc_close_cb(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud) {
    (void)s;
    forward_client *c = ud;
    if (id == c->stream) {
        c->done = 1;
        c->rst = error_code;
    }
    return 0;
}

static int grpc_frame_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
    (void)s;
    forward_client *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY)
        c->broken = 1; /* finish what it allows, then connect again */
    return 0;
}

/* ---- the connection ---------------------------------------------------------------- */

static void grpc_disconnect(forward_client *c) {
    if (c->s != NULL)
        nghttp2_session_del(c->s);
    c->s = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->broken = 0;
}

/* Waits for events on the socket for at most ms (and at most one slice).
 * Returns poll()'s revents, 0 on timeout, -1 on error. */
static int grpc_wait(forward_client *c, short events, int64_t ms) {
    if (ms > GRPC_SLICE_MS)
        ms = GRPC_SLICE_MS;
    if (ms < 0)
        ms = 0;
    struct pollfd p = {.fd = c->fd, .events = events};
    int n = poll(&p, 1, (int)ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    return n == 0 ? 0 : p.revents;
}

/* Connects (non-blocking) to one of the host's addresses before deadline. */
static int grpc_connect_addr(forward_client *c, const struct addrinfo *ai, int64_t deadline,
                             char *why, size_t whylen) {
    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   ai->ai_protocol);
    if (c->fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(why, whylen, "connect to %.100s: %s", c->authority, strerror(errno));
        goto fail;
    }
    for (;;) {
        int64_t left = (deadline - clk_ns(CLOCK_MONOTONIC)) / 1000000;
        if (atomic_load(c->stop) || left <= 0) {
            snprintf(why, whylen, "connect to %.100s: timed out", c->authority);
            goto fail;
        }
        int ev = grpc_wait(c, POLLOUT, left);
        if (ev < 0) {
            snprintf(why, whylen, "poll: %s", strerror(errno));
            goto fail;
        }
        if (ev == 0)
            continue;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            snprintf(why, whylen, "connect to %.100s: %s", c->authority, strerror(soerr));
            goto fail;
        }
        return 0;
    }
fail:
    close(c->fd);
    c->fd = -1;
    return -1;
}

/* A connection and an HTTP/2 session with our SETTINGS queued. */
static int grpc_connect(forward_client *c, char *why, size_t whylen) {
    char host[256], port[8];
    size_t hn = strlen(c->d->host);
    if (c->d->host[0] == '[') /* an IPv6 literal without its brackets */
        snprintf(host, sizeof(host), "%.*s", (int)(hn - 2), c->d->host + 1);
    else
        snprintf(host, sizeof(host), "%s", c->d->host);
    snprintf(port, sizeof(port), "%d", c->d->port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, whylen, "resolve %.100s: %s", host, gai_strerror(gai));
        return -1;
    }
    int64_t deadline = clk_ns(CLOCK_MONOTONIC) + (int64_t)GRPC_CONNECT_TIMEOUT_MS * 1000000;
    int rc = -1;
    for (const struct addrinfo *ai = res; ai != NULL && rc != 0; ai = ai->ai_next)
        rc = grpc_connect_addr(c, ai, deadline, why, whylen);
    freeaddrinfo(res);
    if (rc != 0)
        return -1;
    nghttp2_session_callbacks *cb = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        goto nomem;
    nghttp2_session_callbacks_set_send_callback(cb, grpc_send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, grpc_header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, grpc_data_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, grpc_close_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, grpc_frame_cb);
    rc = nghttp2_session_client_new(&c->s, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        goto nomem;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 2) != 0)
        goto nomem;
    return 0;
nomem:
    snprintf(why, whylen, "out of memory");
    grpc_disconnect(c);
    return -1;
}

/* Reads what has arrived into the session. Returns 0, or -1 when the
 * connection is gone. */
static int grpc_read(forward_client *c) {
    uint8_t in[65536];
    for (;;) {
        ssize_t n = recv(c->fd, in, sizeof(in), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* closed or broken */
        if (nghttp2_session_mem_recv(c->s, in, (size_t)n) < 0)
            return -1;
    }
}

/* Before a call on a kept connection: takes in what came meanwhile (a
 * GOAWAY, a close) so that a call is not started on a dead connection. */
static void grpc_check_idle(forward_client *c) {
    if (c->fd < 0)
        return;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && (grpc_read(c) != 0 || c->broken))
        grpc_disconnect(c);
}

/* ---- a call ------------------------------------------------------------------------ */

forward_client *forward_grpc_new(const forward_dest *d, const char *const *headers, size_t n,
                                 const forward_stop_flag *stop) {
    forward_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->d = d;
    c->stop = stop;
    c->fd = -1;
    buf_init(&c->resp, GRPC_RESPONSE_MAX + 1);
    snprintf(c->authority, sizeof(c->authority), "%s:%d", d->host, d->port);
    for (size_t i = 0; i < n && c->n_extra < FORWARD_MAX_HEADERS; i++) {
        char key[128], why[160];
        const char *value = NULL;
        if (forward_header_split(headers[i], key, sizeof(key), &value, why, sizeof(why)) != 0)
            continue; /* checked at start (forward_check) */
        grpc_header *h = &c->extra[c->n_extra];
        h->name = strdup(key);
        h->value = strdup(value);
        if (h->name == NULL || h->value == NULL) {
            free(h->name);
            free(h->value);
            forward_grpc_free(c);
            return NULL;
        }
        c->n_extra++;
    }
    return c;
}

#define GRPC_NV(n, v)                                                                             \
    {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}

/* Submits the call's stream. Returns 0 or -1. */
static int grpc_submit(forward_client *c, model_signal sig) {
    nghttp2_nv nv[GRPC_MAX_HEADERS] = {
        GRPC_NV(":method", "POST"),
        GRPC_NV(":scheme", "http"),
        GRPC_NV(":path", grpc_paths[sig]),
        GRPC_NV(":authority", c->authority),
        GRPC_NV("content-type", "application/grpc"),
        GRPC_NV("te", "trailers"),
        GRPC_NV("user-agent", "loupe-forward"),
    };
    size_t n = 7;
    for (size_t i = 0; i < c->n_extra; i++) {
        nghttp2_nv h = GRPC_NV(c->extra[i].name, c->extra[i].value);
        nv[n++] = h;
    }
    nghttp2_data_provider dp = {.source.ptr = c, .read_callback = grpc_read_cb};
    c->stream = nghttp2_submit_request(c->s, NULL, nv, n, &dp, NULL);
    return c->stream < 0 ? -1 : 0;
}

/* Runs the session until the call's stream closed, the deadline passed,
 * the connection broke or stop was set. Returns 0 when the stream closed. */
static int grpc_run(forward_client *c, char *why, size_t whylen) {
    int64_t deadline = clk_ns(CLOCK_MONOTONIC) + (int64_t)GRPC_CALL_TIMEOUT_MS * 1000000;
    while (!c->done) {
        if (nghttp2_session_send(c->s) != 0) {
            snprintf(why, whylen, "send to %.100s failed", c->authority);
            return -1;
        }
        if (c->done)
            break;
        if (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s)) {
            snprintf(why, whylen, "%.100s closed the connection", c->authority);
            return -1;
        }
        int64_t left = (deadline - clk_ns(CLOCK_MONOTONIC)) / 1000000;
        if (left <= 0 || atomic_load(c->stop)) {
            snprintf(why, whylen, "%.100s did not answer in %d ms", c->authority,
                     GRPC_CALL_TIMEOUT_MS);
            return -1;
        }
        short events = POLLIN | (nghttp2_session_want_write(c->s) ? POLLOUT : 0);
        int ev = grpc_wait(c, events, left);
        if (ev < 0 || (ev & (POLLERR | POLLNVAL))) {
            snprintf(why, whylen, "%.100s: connection error", c->authority);
            return -1;
        }
        if ((ev & (POLLIN | POLLHUP)) && grpc_read(c) != 0 && !c->done) {
            snprintf(why, whylen, "%.100s closed the connection", c->authority);
            return -1;
        }
    }
    return 0;
}

/* The outcome of a closed stream. */
static void grpc_classify(forward_client *c, model_signal sig, forward_result *r) {
    if (c->rst != NGHTTP2_NO_ERROR) {
        r->outcome = FORWARD_RETRY; /* reset (REFUSED_STREAM, a stopping server, ...) */
        snprintf(r->why, sizeof(r->why), "stream reset (HTTP/2 error %u)", c->rst);
        return;
    }
    if (c->grpc_status < 0) { /* no gRPC answer: judge by the HTTP status */
        r->outcome = c->http_status == 200 || forward_http_retryable(c->http_status)
                         ? FORWARD_RETRY
                         : FORWARD_REFUSED;
        snprintf(r->why, sizeof(r->why), "HTTP %d without grpc-status", c->http_status);
        return;
    }
    if (c->grpc_status == 0) {
        r->outcome = FORWARD_DELIVERED;
        char msg[160] = "";
        /* the Export response after its 5-byte prefix, when not compressed */
        if (c->resp.len >= 5 && c->resp.ptr[0] == 0 &&
            otlp_response_read_pb(sig, (const uint8_t *)c->resp.ptr + 5, c->resp.len - 5,
                                  &r->rejected, msg, sizeof(msg)) != OTLP_OK)
            r->rejected = 0;
        snprintf(r->why, sizeof(r->why), "OK%s%s", msg[0] ? ": " : "", msg);
        return;
    }
    r->outcome = forward_grpc_retryable(c->grpc_status) ? FORWARD_RETRY : FORWARD_REFUSED;
    snprintf(r->why, sizeof(r->why), "gRPC status %d%s%s", c->grpc_status,
             c->grpc_message[0] ? ": " : "", c->grpc_message);
}

void forward_grpc_send(forward_client *c, model_signal sig, const void *body, size_t len,
                       forward_result *r) {
    memset(r, 0, sizeof(*r));
    c->done = 0;
    c->rst = 0;
    c->http_status = 0;
    c->grpc_status = -1;
    c->grpc_message[0] = '\0';
    c->stream = -1;
    c->body = body;
    c->len = len;
    c->off = 0;
    c->prefix[0] = 0; /* not compressed */
    c->prefix[1] = (uint8_t)(len >> 24);
    c->prefix[2] = (uint8_t)(len >> 16);
    c->prefix[3] = (uint8_t)(len >> 8);
    c->prefix[4] = (uint8_t)len;
    buf_reset(&c->resp);
    grpc_check_idle(c);
    if (c->fd < 0 && grpc_connect(c, r->why, sizeof(r->why)) != 0) {
        r->outcome = FORWARD_RETRY;
        return;
    }
    if (grpc_submit(c, sig) != 0 || grpc_run(c, r->why, sizeof(r->why)) != 0) {
        if (r->why[0] == '\0')
            snprintf(r->why, sizeof(r->why), "cannot start a call on %.100s", c->authority);
        r->outcome = FORWARD_RETRY;
        grpc_disconnect(c);
        return;
    }
    grpc_classify(c, sig, r);
    if (c->broken)
        grpc_disconnect(c);
}

void forward_grpc_free(forward_client *c) {
    if (c == NULL)
        return;
    grpc_disconnect(c);
    for (size_t i = 0; i < c->n_extra; i++) {
        free(c->extra[i].name);
        free(c->extra[i].value);
    }
    buf_free(&c->resp);
    free(c);
}
