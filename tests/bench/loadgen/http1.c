/* http1.c - OTLP/HTTP connections of the load generator: HTTP/1.1 with
 * keep-alive, one request at a time per connection, bodies framed by
 * Content-Length (protobuf), answers read by Content-Length. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loadgen.h"

#define RESP_MAX (64 << 10) /* headers and the part of the body kept */

typedef struct resp {
    int status;
    int close;       /* the server will close the connection */
    uint8_t *body;   /* within buf */
    size_t body_len; /* bytes of the body kept (at most what fits) */
    uint8_t buf[RESP_MAX];
} resp;

/* Writes all of iov; 0 or -1. */
static int write_all(int fd, struct iovec *iov, int n, uint64_t *sent) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        *sent += (uint64_t)w;
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* The value of header `name` in the header block [h, end), or NULL. */
static const char *header_value(const char *h, const char *end, const char *name, size_t *len) {
    size_t nl = strlen(name);
    while (h < end) {
        const char *eol = memchr(h, '\n', (size_t)(end - h));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - h) > nl && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        h = eol + 1;
    }
    return NULL;
}

/* read(2), again after EINTR. Returns bytes read (> 0), or -1 with *what
 * naming the failure: the peer closed, the receive timeout, or an error. */
static ssize_t read_some(int fd, void *buf, size_t len, const char **what) {
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        *what = n == 0                                      ? "closed"
                : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout"
                                                            : "io_error";
        return -1;
    }
}

/* Reads one answer. 0, or -1 on a read error, timeout or close (`what`
 * names it), or -2 on an answer that is not HTTP/1.1 as expected. */
static int read_response(int fd, resp *r, const char **what) {
    size_t have = 0;
    const uint8_t *hend = NULL;
    for (;;) {
        if (have == RESP_MAX) {
            *what = "bad_response";
            return -2;
        }
        ssize_t n = read_some(fd, r->buf + have, RESP_MAX - have, what);
        if (n < 0)
            return -1;
        have += (size_t)n;
        hend = memmem(r->buf, have, "\r\n\r\n", 4);
        if (hend != NULL)
            break;
    }
    const char *h = (const char *)r->buf;
    const char *he = (const char *)hend + 2;
    if (have < 12 || strncmp(h, "HTTP/1.", 7) != 0) {
        *what = "bad_response";
        return -2;
    }
    char *endp;
    unsigned long st = strtoul(h + 9, &endp, 10);
    if (endp != h + 12 || st < 100 || st > 599) {
        *what = "bad_response";
        return -2;
    }
    r->status = (int)st;
    size_t vl;
    const char *v = header_value(h, he, "Connection", &vl);
    r->close = v != NULL && vl == 5 && strncasecmp(v, "close", 5) == 0;
    if (h[7] == '0')
        r->close = 1; /* HTTP/1.0 */
    v = header_value(h, he, "Content-Length", &vl);
    if (v == NULL) {
        *what = "bad_response"; /* loupe always sends one */
        return -2;
    }
    unsigned long long clen = strtoull(v, &endp, 10);
    if (endp != v + vl) {
        *what = "bad_response";
        return -2;
    }
    size_t head_len = (size_t)(hend + 4 - r->buf);
    size_t got = have - head_len;
    if (got > clen) {
        *what = "bad_response"; /* more than one answer: we never pipeline */
        return -2;
    }
    r->body = r->buf + head_len;
    /* the rest of the body: kept while it fits, else read and dropped */
    while (got < clen) {
        uint8_t sink[4096];
        uint8_t *dst = head_len + got < RESP_MAX ? r->buf + head_len + got : sink;
        size_t room = head_len + got < RESP_MAX ? RESP_MAX - head_len - got : sizeof(sink);
        if (room > clen - got)
            room = (size_t)(clen - got);
        ssize_t n = read_some(fd, dst, room, what);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    r->body_len = got < RESP_MAX - head_len ? got : RESP_MAX - head_len;
    return 0;
}

static int retryable_status(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

void *lg_http_conn_main(void *arg) {
    lg_conn *c = arg;
    lg_stats *st = &c->stats;
    const char *path = c->sig == LG_TRACES ? "/v1/traces" : "/v1/logs";
    resp *r = malloc(sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    int fd = -1;
    for (;;) {
        int64_t sched;
        lg_body *b = lg_run_take(c->run, -1, &sched);
        if (b == NULL)
            break;
        if (sched > 0)
            lg_sleep_until(sched);
        size_t len = b->len - LG_GRPC_PREFIX;
        char head[512];
        int hl = snprintf(head, sizeof(head),
                          "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: loupe-loadgen\r\n"
                          "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                          path, c->host, c->port, len);
        for (int attempt = 0;; attempt++) {
            const char *what = NULL;
            int retry = 0;
            if (fd < 0)
                fd = lg_tcp_connect(c->host, c->port);
            if (fd < 0) {
                lg_stats_fail(st, "connect_error");
                retry = 1;
            } else {
                int64_t t0 = lg_now_ns();
                struct iovec iov[2] = {{head, (size_t)hl}, {b->data + LG_GRPC_PREFIX, len}};
                int rc = write_all(fd, iov, 2, &st->bytes_sent);
                if (rc < 0)
                    what = errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "io_error";
                else
                    rc = read_response(fd, r, &what);
                int64_t t1 = lg_now_ns();
                if (rc < 0) {
                    lg_stats_fail(st, what);
                    retry = 1;
                    close(fd);
                    fd = -1;
                } else {
                    if (r->status == 200) {
                        int64_t from = attempt == 0 && sched > 0 ? sched : t0;
                        lg_stats_ack(st, b, (uint64_t)(t1 - from),
                                     lg_response_rejected(c->sig, r->body, r->body_len));
                    } else {
                        char name[32];
                        snprintf(name, sizeof(name), "http_%d", r->status);
                        lg_stats_fail(st, name);
                        retry = retryable_status(r->status);
                    }
                    if (r->close) {
                        close(fd);
                        fd = -1;
                    }
                    if (r->status == 200)
                        break;
                }
            }
            if (!retry || attempt >= c->retries || lg_now_ns() >= lg_run_drain_deadline(c->run)) {
                st->given_up++;
                break;
            }
            st->retries++;
            lg_sleep_until(lg_now_ns() + (int64_t)c->retry_pause_ms * 1000000);
        }
        lg_run_release(c->run, b);
    }
    if (fd >= 0)
        close(fd);
    free(r);
    return NULL;
}
