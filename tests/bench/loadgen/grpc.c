/* grpc.c - OTLP/gRPC connections of the load generator: an nghttp2 client
 * session over one non-blocking socket (h2c, prior knowledge), up to
 * --in-flight Export calls as concurrent streams. Answers are read as they
 * come (poll), so a slow stream does not hold the others. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

#define MAX_IN_FLIGHT 256
#define RESP_KEEP 4096

typedef struct gconn gconn;

typedef struct gstream {
    lg_body *body;
    size_t off; /* bytes of the body handed to nghttp2 */
    int attempt;
    int64_t from; /* latency is measured from here */
    int http_status;
    int grpc_status; /* -1 until seen */
    int32_t id;
    size_t resp_len;
    uint8_t resp[RESP_KEEP];
} gstream;

typedef struct retry_item {
    lg_body *body;
    int attempt;
    int64_t due;
} retry_item;

struct gconn {
    lg_conn *c;
    int fd;
    nghttp2_session *s;
    gstream *active[MAX_IN_FLIGHT]; /* streams in flight */
    int n_active;
    retry_item retry[MAX_IN_FLIGHT]; /* to send again, in order */
    int n_retry;
    lg_body *paced; /* taken, not due yet (--rate) */
    int64_t paced_at;
    char authority[300];
    const char *path;
};

static void active_remove(gconn *gc, gstream *st) {
    for (int i = 0; i < gc->n_active; i++) {
        if (gc->active[i] == st) {
            gc->active[i] = gc->active[--gc->n_active];
            return;
        }
    }
}

/* A failed attempt of st's request: again later, or given up. */
static void stream_failed(gconn *gc, gstream *st, const char *what, int retryable) {
    lg_conn *c = gc->c;
    lg_stats_fail(&c->stats, what);
    int64_t now = lg_now_ns();
    if (retryable && st->attempt < c->retries && gc->n_retry < MAX_IN_FLIGHT &&
        now < lg_run_drain_deadline(c->run)) {
        c->stats.retries++;
        gc->retry[gc->n_retry].body = st->body;
        gc->retry[gc->n_retry].attempt = st->attempt + 1;
        gc->retry[gc->n_retry].due = now + (int64_t)c->retry_pause_ms * 1000000;
        gc->n_retry++;
    } else {
        c->stats.given_up++;
        lg_run_release(c->run, st->body);
    }
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user) {
    (void)s;
    (void)flags;
    gconn *gc = user;
    ssize_t n = send(gc->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return NGHTTP2_ERR_WOULDBLOCK;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    gc->c->stats.bytes_sent += (uint64_t)n;
    return n;
}

static ssize_t read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                       nghttp2_data_source *src, void *user) {
    (void)s;
    (void)id;
    (void)user;
    gstream *st = src->ptr;
    size_t left = st->body->len - st->off;
    size_t n = left < len ? left : len;
    memcpy(buf, st->body->data + st->off, n);
    st->off += n;
    if (st->off == st->body->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int parse_int(const uint8_t *v, size_t len) {
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

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *user) {
    (void)flags;
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS)
        return 0;
    gstream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st == NULL)
        return 0;
    if (nl == 7 && memcmp(name, ":status", 7) == 0)
        st->http_status = parse_int(value, vl);
    else if (nl == 11 && memcmp(name, "grpc-status", 11) == 0)
        st->grpc_status = parse_int(value, vl);
    return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *user) {
    (void)flags;
    (void)user;
    gstream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st == NULL)
        return 0;
    size_t room = RESP_KEEP - st->resp_len;
    if (len > room)
        len = room;
    memcpy(st->resp + st->resp_len, data, len);
    st->resp_len += len;
    return 0;
}

static int close_cb(nghttp2_session *s, int32_t id, uint32_t error_code, void *user) {
    gconn *gc = user;
    gstream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    int64_t now = lg_now_ns();
    char name[32];
    if (error_code == NGHTTP2_NO_ERROR && st->http_status == 200 && st->grpc_status == 0) {
        uint64_t rejected = 0;
        if (st->resp_len >= LG_GRPC_PREFIX)
            rejected = lg_response_rejected(gc->c->sig, st->resp + LG_GRPC_PREFIX,
                                            st->resp_len - LG_GRPC_PREFIX);
        lg_stats_ack(&gc->c->stats, st->body, (uint64_t)(now - st->from), rejected);
        lg_run_release(gc->c->run, st->body);
    } else if (st->grpc_status > 0) {
        snprintf(name, sizeof(name), "grpc_%d", st->grpc_status);
        /* UNAVAILABLE and RESOURCE_EXHAUSTED: exporters retry these */
        stream_failed(gc, st, name, st->grpc_status == 14 || st->grpc_status == 8);
    } else if (error_code != NGHTTP2_NO_ERROR) {
        snprintf(name, sizeof(name), "rst_%u", error_code);
        stream_failed(gc, st, name, error_code == NGHTTP2_REFUSED_STREAM);
    } else {
        snprintf(name, sizeof(name), "http_%d", st->http_status);
        stream_failed(gc, st, name, st->http_status == 503);
    }
    active_remove(gc, st);
    free(st);
    return 0;
}

static int submit(gconn *gc, lg_body *b, int attempt, int64_t sched) {
    gstream *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    st->body = b;
    st->attempt = attempt;
    st->grpc_status = -1;
    st->from = attempt == 0 && sched > 0 ? sched : lg_now_ns();
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[] = {
        NV(":method", "POST"),
        NV(":scheme", "http"),
        NV(":path", gc->path),
        NV(":authority", gc->authority),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
        NV("user-agent", "loupe-loadgen"),
    };
#undef NV
    nghttp2_data_provider dp;
    dp.source.ptr = st;
    dp.read_callback = read_cb;
    int32_t id = nghttp2_submit_request(gc->s, NULL, hdrs, sizeof(hdrs) / sizeof(hdrs[0]), &dp, st);
    if (id < 0) {
        fprintf(stderr, "loadgen: nghttp2_submit_request: %s\n", nghttp2_strerror(id));
        free(st);
        return -1;
    }
    st->id = id;
    gc->active[gc->n_active++] = st;
    return 0;
}

/* Drops the session and socket; every stream in flight failed. */
static void conn_drop(gconn *gc, const char *what) {
    for (int i = 0; i < gc->n_active; i++) {
        gstream *st = gc->active[i];
        nghttp2_session_set_stream_user_data(gc->s, st->id, NULL);
        stream_failed(gc, st, what, 1);
        free(st);
    }
    gc->n_active = 0;
    nghttp2_session_del(gc->s);
    gc->s = NULL;
    if (gc->fd >= 0)
        close(gc->fd);
    gc->fd = -1;
}

static int conn_open(gconn *gc) {
    gc->fd = lg_tcp_connect(gc->c->host, gc->c->port);
    if (gc->fd < 0)
        return -1;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, close_cb);
    int rc = nghttp2_session_client_new(&gc->s, cb, gc);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) {
        fprintf(stderr, "loadgen: nghttp2_session_client_new: %s\n", nghttp2_strerror(rc));
        exit(1);
    }
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 24}};
    nghttp2_submit_settings(gc->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    nghttp2_session_set_local_window_size(gc->s, NGHTTP2_FLAG_NONE, 0, 1 << 28);
    return 0;
}

/* Reads what the socket holds into the session. -1 when the connection is
 * gone. */
static int conn_read(gconn *gc) {
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(gc->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        ssize_t rc = nghttp2_session_mem_recv(gc->s, buf, (size_t)n);
        if (rc < 0) {
            fprintf(stderr, "loadgen: nghttp2_session_mem_recv: %s\n", nghttp2_strerror((int)rc));
            return -1;
        }
    }
}

/* Hands out new streams while there is room: retries first, then requests
 * of the run. */
static void fill_streams(gconn *gc) {
    lg_conn *c = gc->c;
    int64_t now = lg_now_ns();
    while (gc->n_active < c->in_flight) {
        if (gc->n_retry > 0 && gc->retry[0].due <= now) {
            retry_item it = gc->retry[0];
            memmove(gc->retry, gc->retry + 1, (size_t)(gc->n_retry - 1) * sizeof(gc->retry[0]));
            gc->n_retry--;
            if (submit(gc, it.body, it.attempt, 0) != 0) {
                lg_run_release(c->run, it.body);
                return;
            }
            continue;
        }
        lg_body *b = gc->paced;
        int64_t sched = gc->paced_at;
        if (b == NULL) {
            /* block briefly only when nothing is in flight */
            int wait = gc->n_active == 0 && gc->n_retry == 0 ? 20 : 0;
            b = lg_run_take(c->run, wait, &sched);
            if (b == NULL)
                return;
        }
        if (sched > now) {
            gc->paced = b;
            gc->paced_at = sched;
            return;
        }
        gc->paced = NULL;
        if (submit(gc, b, 0, sched) != 0) {
            lg_run_release(c->run, b);
            return;
        }
    }
}

void *lg_grpc_conn_main(void *arg) {
    lg_conn *c = arg;
    gconn *gc = calloc(1, sizeof(*gc));
    if (gc == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    gc->c = c;
    gc->fd = -1;
    gc->path = c->sig == LG_TRACES ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                                   : "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    snprintf(gc->authority, sizeof(gc->authority), "%s:%s", c->host, c->port);
    if (c->in_flight > MAX_IN_FLIGHT)
        c->in_flight = MAX_IN_FLIGHT;
    int64_t drain = 0;
    for (;;) {
        int64_t now = lg_now_ns();
        int over = lg_run_over(c->run);
        if (over && drain == 0)
            drain = lg_run_drain_deadline(c->run);
        if (gc->s == NULL) {
            if (over && gc->n_retry == 0 && gc->paced == NULL)
                break;
            if (conn_open(gc) != 0) {
                /* count it against whatever waits, pause, try again */
                lg_stats_fail(&c->stats, "connect_error");
                if (drain != 0 && now >= drain)
                    break;
                lg_sleep_until(now + (int64_t)c->retry_pause_ms * 1000000);
                if (gc->paced == NULL && gc->n_retry == 0) {
                    int64_t sched;
                    lg_body *b = lg_run_take(c->run, 0, &sched);
                    if (b != NULL) {
                        c->stats.given_up++;
                        lg_run_release(c->run, b);
                    }
                }
                continue;
            }
        }
        fill_streams(gc);
        if (gc->n_active == 0 && gc->n_retry == 0 && gc->paced == NULL && lg_run_over(c->run))
            break;
        if (drain != 0 && now >= drain) {
            conn_drop(gc, "timeout");
            /* nothing is retried past the drain deadline */
            for (int i = 0; i < gc->n_retry; i++) {
                c->stats.given_up++;
                lg_run_release(c->run, gc->retry[i].body);
            }
            gc->n_retry = 0;
            break;
        }
        if (nghttp2_session_send(gc->s) != 0) {
            conn_drop(gc, "io_error");
            continue;
        }
        /* how long poll may sleep: until a retry or a paced request is due */
        int64_t wake = now + 20 * 1000000LL;
        if (gc->n_active < c->in_flight && gc->n_active > 0 && !over)
            wake = now + 1000000LL; /* the queue may have a request by then */
        if (gc->n_retry > 0 && gc->retry[0].due < wake)
            wake = gc->retry[0].due;
        if (gc->paced != NULL && gc->paced_at < wake)
            wake = gc->paced_at;
        int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
        struct pollfd p = {.fd = gc->fd, .events = POLLIN, .revents = 0};
        if (nghttp2_session_want_write(gc->s))
            p.events |= POLLOUT;
        int pr = poll(&p, 1, ms);
        if (pr < 0 && errno != EINTR) {
            conn_drop(gc, "io_error");
            continue;
        }
        if (pr > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
            if (conn_read(gc) != 0) {
                conn_drop(gc, "closed");
                continue;
            }
        }
        if (!nghttp2_session_want_read(gc->s) && !nghttp2_session_want_write(gc->s) &&
            gc->n_active == 0) {
            conn_drop(gc, "closed"); /* GOAWAY: start a new connection */
        }
    }
    if (gc->s != NULL)
        conn_drop(gc, "closed");
    for (int i = 0; i < gc->n_retry; i++) {
        c->stats.given_up++;
        lg_run_release(c->run, gc->retry[i].body);
    }
    if (gc->paced != NULL)
        lg_run_release(c->run, gc->paced);
    free(gc);
    return NULL;
}
