/* test_otlp_http.c - the OTLP/HTTP receiver's mechanics against a fake store
 * and fake decoders.
 *
 * The real decoders and store are tested elsewhere (and end to end by the
 * Node tests); here they are replaced so the tests can control when and how
 * the store completes a batch: synchronously inside store_append() (the
 * suspend/resume race), from another thread at once, held back until the
 * test opens a gate (client gone while suspended, shutdown with pending
 * batches), refused (EFULL) or failed at commit (EIO). This file defines
 * every store and otlp symbol otlp_http.o needs, so the linker takes no
 * store or decoder object from libloupe.a.
 *
 * The fake decoders read bodies such as "items=3;rejected=1", "bad",
 * "toobig" and "nomem". The fake encoders write text the tests look for.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/clk.h"
#include "util/gz.h"
#include "util/log.h"
#include "server/decode/otlp.h"
#include "server/net/auth_cases.h"
#include "server/net/ingest_log.h"
#include "server/net/loopback.h"
#include "server/receive/otlp_http.h"
#include "storage/store.h"

/* ---- fake decoders and encoders ---------------------------------------- */

static atomic_int fake_pb_calls, fake_json_calls;

static int fake_decode(model_signal sig, const char *data, size_t len, model_batch **out, char *err,
                       size_t errlen) {
    char text[128];
    if (len >= sizeof(text)) {
        snprintf(err, errlen, "fake: body too long");
        return OTLP_EDECODE;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    if (strcmp(text, "toobig") == 0)
        return OTLP_ETOOBIG;
    if (strcmp(text, "nomem") == 0)
        return OTLP_ENOMEM;
    long items = 0, rejected = 0;
    if (len > 0 && sscanf(text, "items=%ld;rejected=%ld", &items, &rejected) < 1) {
        snprintf(err, errlen, "fake: cannot parse");
        return OTLP_EDECODE;
    }
    model_batch *b = model_batch_new(sig, 0);
    if (b == NULL)
        return OTLP_ENOMEM;
    /* Zeroed items (no resource): the fake store never reads them, the
     * ingest inspector only counts them. */
    if (sig == MODEL_SIGNAL_TRACES) {
        b->n_spans = (size_t)items;
        b->spans = arena_calloc(b->arena, (size_t)items + 1, sizeof(*b->spans));
    } else if (sig == MODEL_SIGNAL_LOGS) {
        b->n_logs = (size_t)items;
        b->logs = arena_calloc(b->arena, (size_t)items + 1, sizeof(*b->logs));
    } else {
        b->n_points = (size_t)items;
        b->points = arena_calloc(b->arena, (size_t)items + 1, sizeof(*b->points));
    }
    for (long i = 0; i < rejected; i++)
        model_batch_reject(b, "fake: invalid trace id");
    *out = b;
    return OTLP_OK;
}

int otlp_decode_pb(model_signal sig, const uint8_t *data, size_t len, size_t mem_limit,
                   model_batch **out, char *err, size_t errlen) {
    (void)mem_limit;
    atomic_fetch_add(&fake_pb_calls, 1);
    return fake_decode(sig, (const char *)data, len, out, err, errlen);
}

int otlp_decode_json(model_signal sig, const char *data, size_t len, size_t mem_limit,
                     model_batch **out, char *err, size_t errlen) {
    (void)mem_limit;
    atomic_fetch_add(&fake_json_calls, 1);
    return fake_decode(sig, data, len, out, err, errlen);
}

int otlp_response_pb(model_signal sig, int64_t rejected, const char *message, buf *out) {
    return buf_printf(out, "PBRESPONSE signal=%d rejected=%lld message=%s", (int)sig,
                      (long long)rejected, message);
}

int otlp_response_json(model_signal sig, int64_t rejected, const char *message, buf *out) {
    return buf_printf(out, "{\"signal\":%d,\"rejected\":%lld,\"message\":\"%s\"}", (int)sig,
                      (long long)rejected, message);
}

int otlp_status_pb(int32_t grpc_code, const char *message, buf *out) {
    return buf_printf(out, "PBSTATUS code=%d message=%s", (int)grpc_code, message);
}

int otlp_status_json(int32_t grpc_code, const char *message, buf *out) {
    return buf_printf(out, "{\"code\":%d,\"message\":\"%s\"}", (int)grpc_code, message);
}

const char *otlp_strerror(int code) {
    (void)code;
    return "fake error";
}

/* ---- fake store ----------------------------------------------------------- */

typedef enum fake_mode {
    FAKE_SYNC = 0, /* callback inside store_append() */
    FAKE_THREAD,   /* callback from the writer thread as soon as possible */
    FAKE_GATED,    /* callback from the writer thread once the gate opens */
} fake_mode;

#define FAKE_MAX 256

typedef struct fake_item {
    model_batch *b;
    store_done_cb cb;
    void *ud;
} fake_item;

struct store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fake_mode mode;
    int append_rc;     /* returned by store_append (STORE_OK or an error) */
    int commit_status; /* passed to the callback */
    int gate_open;
    int quit;
    fake_item q[FAKE_MAX];
    int n;
    int appended;  /* batches accepted */
    int completed; /* callbacks made */
    int64_t items;
    pthread_t writer;
};

static store fake;

static void *fake_writer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&fake.mu);
    for (;;) {
        while (!fake.quit && (fake.n == 0 || (fake.mode == FAKE_GATED && !fake.gate_open)))
            pthread_cond_wait(&fake.cv, &fake.mu);
        if (fake.n == 0 && fake.quit)
            break;
        if (fake.n == 0)
            continue;
        fake_item it = fake.q[0];
        memmove(&fake.q[0], &fake.q[1], sizeof(fake.q[0]) * (size_t)(fake.n - 1));
        fake.n--;
        int status = fake.commit_status;
        pthread_mutex_unlock(&fake.mu);
        if (it.cb)
            it.cb(it.ud, status, it.b);
        model_batch_free(it.b);
        pthread_mutex_lock(&fake.mu);
        fake.completed++;
        pthread_cond_broadcast(&fake.cv);
    }
    pthread_mutex_unlock(&fake.mu);
    return NULL;
}

int store_append(store *s, model_batch *b, store_done_cb cb, void *ud) {
    pthread_mutex_lock(&s->mu);
    if (s->append_rc != STORE_OK || s->n == FAKE_MAX) {
        int rc = s->append_rc != STORE_OK ? s->append_rc : STORE_EFULL;
        pthread_mutex_unlock(&s->mu);
        model_batch_free(b);
        return rc;
    }
    s->appended++;
    s->items += (int64_t)model_batch_items(b);
    if (s->mode == FAKE_SYNC) {
        int status = s->commit_status;
        pthread_mutex_unlock(&s->mu);
        if (cb)
            cb(ud, status, b);
        model_batch_free(b);
        pthread_mutex_lock(&s->mu);
        s->completed++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return STORE_OK;
    }
    s->q[s->n++] = (fake_item){b, cb, ud};
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return STORE_OK;
}

static void fake_start(fake_mode mode) {
    memset(&fake, 0, sizeof(fake));
    pthread_mutex_init(&fake.mu, NULL);
    pthread_cond_init(&fake.cv, NULL);
    fake.mode = mode;
    atomic_store(&fake_pb_calls, 0);
    atomic_store(&fake_json_calls, 0);
    ck_assert_int_eq(pthread_create(&fake.writer, NULL, fake_writer, NULL), 0);
}

static void fake_stop(void) {
    pthread_mutex_lock(&fake.mu);
    fake.quit = 1;
    fake.gate_open = 1;
    pthread_cond_broadcast(&fake.cv);
    pthread_mutex_unlock(&fake.mu);
    pthread_join(fake.writer, NULL);
    pthread_cond_destroy(&fake.cv);
    pthread_mutex_destroy(&fake.mu);
}

static void fake_set(int append_rc, int commit_status) {
    pthread_mutex_lock(&fake.mu);
    fake.append_rc = append_rc;
    fake.commit_status = commit_status;
    pthread_mutex_unlock(&fake.mu);
}

static void fake_open_gate(void) {
    pthread_mutex_lock(&fake.mu);
    fake.gate_open = 1;
    pthread_cond_broadcast(&fake.cv);
    pthread_mutex_unlock(&fake.mu);
}

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Locked reads of the fake's counters. */
static int fake_appended(void) {
    pthread_mutex_lock(&fake.mu);
    int n = fake.appended;
    pthread_mutex_unlock(&fake.mu);
    return n;
}

static int64_t fake_items(void) {
    pthread_mutex_lock(&fake.mu);
    int64_t n = fake.items;
    pthread_mutex_unlock(&fake.mu);
    return n;
}

/* Waits (at most 10 s) until the store holds `n` queued batches. */
static int fake_wait_queued(int n) {
    struct timespec ts;
    deadline_in(&ts, 10000);
    pthread_mutex_lock(&fake.mu);
    int rc = 0;
    while (fake.n < n && rc == 0)
        rc = pthread_cond_timedwait(&fake.cv, &fake.mu, &ts);
    int ok = fake.n >= n;
    pthread_mutex_unlock(&fake.mu);
    return ok;
}

/* Waits (at most 10 s) until `n` callbacks have been made. */
static int fake_wait_completed(int n) {
    struct timespec ts;
    deadline_in(&ts, 10000);
    pthread_mutex_lock(&fake.mu);
    int rc = 0;
    while (fake.completed < n && rc == 0)
        rc = pthread_cond_timedwait(&fake.cv, &fake.mu, &ts);
    int ok = fake.completed >= n;
    pthread_mutex_unlock(&fake.mu);
    return ok;
}

/* ---- a tiny HTTP/1.1 client ------------------------------------------------ */

#define IO_TIMEOUT_MS 10000

static int cli_connect(int port) {
    return loopback_connect(port, IO_TIMEOUT_MS);
}

/* Sends all bytes; returns 0, or -1 when the peer closed or reset. */
static int cli_send(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cli_send_str(int fd, const char *s) {
    return cli_send(fd, s, strlen(s));
}

typedef struct cli_resp {
    int status;
    char head[4096]; /* status line and headers, NUL-terminated */
    char body[8192];
    size_t body_len;
} cli_resp;

/* Reads one response. Returns 0, or -1 when the connection ended first. */
static int cli_read(int fd, cli_resp *r) {
    char raw[16384];
    size_t len = 0;
    char *end = NULL;
    memset(r, 0, sizeof(*r));
    while (end == NULL) {
        if (len == sizeof(raw) - 1)
            return -1;
        ssize_t n = recv(fd, raw + len, sizeof(raw) - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        raw[len] = '\0';
        end = strstr(raw, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - raw) + 4;
    if (head_len >= sizeof(r->head))
        return -1;
    memcpy(r->head, raw, head_len);
    r->head[head_len] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    size_t clen = 0;
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    if (cl)
        clen = strtoul(cl + 17, NULL, 10);
    if (clen >= sizeof(r->body))
        return -1;
    size_t have = len - head_len;
    if (have > clen)
        have = clen; /* a pipelined answer would follow; the tests send none */
    memcpy(r->body, raw + head_len, have);
    while (have < clen) {
        ssize_t n = recv(fd, r->body + have, clen - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    r->body_len = clen;
    r->body[clen] = '\0';
    return 0;
}

static int has_header(const cli_resp *r, const char *line) {
    return strcasestr(r->head, line) != NULL;
}

/* 1 once the server has closed the connection (EOF or reset). */
static int cli_closed(int fd) {
    char c[4096];
    for (int i = 0; i < 1000; i++) {
        ssize_t n = recv(fd, c, sizeof(c), 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            return n == 0 || errno == ECONNRESET || errno == EPIPE;
    }
    return 0;
}

/* Sends one request with a Content-Length body on fd and reads the answer. */
static void cli_post(int fd, const char *path, const char *ctype, const char *extra_headers,
                     const void *body, size_t len, cli_resp *r) {
    char head[1024];
    snprintf(head, sizeof(head),
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n%sContent-Length: "
             "%zu\r\n\r\n",
             path, ctype, extra_headers ? extra_headers : "", len);
    ck_assert_int_eq(cli_send_str(fd, head), 0);
    ck_assert_int_eq(cli_send(fd, body, len), 0);
    ck_assert_int_eq(cli_read(fd, r), 0);
}

/* One request on a fresh connection. */
static void post1(int port, const char *path, const char *ctype, const char *extra_headers,
                  const char *body, cli_resp *r) {
    int fd = cli_connect(port);
    cli_post(fd, path, ctype, extra_headers, body, strlen(body), r);
    close(fd);
}

/* ---- fixture -------------------------------------------------------------- */

static otlp_http *srv;
static int port;

static void srv_start(const otlp_http_config *base) {
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .max_body_bytes = 4096};
    if (base)
        cfg = *base;
    char err[256] = "";
    int rc = otlp_http_start(&cfg, &fake, &srv, err, sizeof(err));
    ck_assert_msg(rc == 0, "start failed: %s", err);
    port = otlp_http_port(srv);
    ck_assert_int_gt(port, 0);
}

static void srv_stop(void) {
    otlp_http_stop(srv);
    srv = NULL;
}

#define JSON "application/json"
#define PB "application/x-protobuf"

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_ok_json_and_pb) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "items=2", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Content-Type: application/json"));
    ck_assert_str_eq(r.body, "{\"signal\":1,\"rejected\":0,\"message\":\"\"}");

    post1(port, "/v1/traces", "Application/JSON; charset=utf-8", NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"signal\":0,\"rejected\":0,\"message\":\"\"}");

    post1(port, "/v1/metrics", PB, NULL, "items=5", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Content-Type: application/x-protobuf"));
    ck_assert_str_eq(r.body, "PBRESPONSE signal=2 rejected=0 message=");
    ck_assert_int_eq(atomic_load(&fake_pb_calls), 1);
    ck_assert_int_eq(atomic_load(&fake_json_calls), 2);
    ck_assert_int_eq(fake_appended(), 3);
    ck_assert_int_eq(fake_items(), 8);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_partial_success_and_empty) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    post1(port, "/v1/traces", JSON, NULL, "items=2;rejected=3", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body,
                     "{\"signal\":0,\"rejected\":3,\"message\":\"fake: invalid trace id\"}");
    /* All items bad: nothing to commit, answered without the store. */
    post1(port, "/v1/traces", PB, NULL, "items=0;rejected=2", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "PBRESPONSE signal=0 rejected=2 message=fake: invalid trace id");
    /* Empty body: an empty request. */
    post1(port, "/v1/logs", PB, NULL, "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(fake_appended(), 1);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_decode_errors) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "bad", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert(strstr(r.body, "\"code\":3") != NULL);
    ck_assert(strstr(r.body, "fake: cannot parse") != NULL);
    post1(port, "/v1/logs", PB, NULL, "bad", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert(strncmp(r.body, "PBSTATUS code=3 ", 16) == 0);
    ck_assert(has_header(&r, "Content-Type: application/x-protobuf"));
    post1(port, "/v1/logs", PB, NULL, "toobig", &r);
    ck_assert_int_eq(r.status, 413);
    post1(port, "/v1/logs", JSON, NULL, "nomem", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert(has_header(&r, "\r\nRetry-After: 1\r\n"));
    ck_assert_int_eq(fake_appended(), 0);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_routing) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    post1(port, "/v1/spans", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert(strstr(r.body, "Unknown path") != NULL);
    post1(port, "/v1/traces/", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 404);

    int fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert(has_header(&r, "\r\nAllow: POST, OPTIONS\r\n"));
    /* PUT with a body: the body is read and dropped, the connection stays. */
    ck_assert_int_eq(cli_send_str(fd, "PUT /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                      "7\r\n\r\nitems=1"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert(strstr(r.body, "PUT") != NULL);
    cli_post(fd, "/v1/logs", JSON, NULL, "items=1", 7, &r);
    ck_assert_int_eq(r.status, 200);
    close(fd);

    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "OPTIONS /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert(has_header(&r, "\r\nAllow: POST, OPTIONS\r\n"));
    ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
    close(fd);
    ck_assert_int_eq(fake_appended(), 1);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_media_types_and_codings) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    post1(port, "/v1/logs", "text/plain", NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 415);
    ck_assert(strstr(r.body, "text/plain") != NULL);
    post1(port, "/v1/logs", "application/jsonx", NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 415);

    int fd = cli_connect(port);
    ck_assert_int_eq(
        cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nitems=1"),
        0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 415); /* no Content-Type at all */
    ck_assert(strstr(r.body, "(none)") != NULL);
    close(fd);

    post1(port, "/v1/logs", JSON, "Content-Encoding: br\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 415);
    ck_assert(strstr(r.body, "Content-Encoding") != NULL);
    post1(port, "/v1/logs", JSON, "Content-Encoding: identity\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 200);

    /* gzip: valid, invalid, truncated, and a bomb past the 4096-byte cap. */
    const char *plain = "items=4;rejected=1";
    buf gz;
    buf_init(&gz, 4 << 20);
    ck_assert_int_eq(gz_deflate((const uint8_t *)plain, strlen(plain), 6, &gz), GZ_OK);
    fd = cli_connect(port);
    cli_post(fd, "/v1/traces", PB, "Content-Encoding: gzip\r\n", gz.ptr, gz.len, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "rejected=1") != NULL);
    cli_post(fd, "/v1/traces", PB, "Content-Encoding: gzip\r\n", gz.ptr, gz.len - 4, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert(strstr(r.body, "gzip") != NULL);
    cli_post(fd, "/v1/traces", PB, "Content-Encoding: gzip\r\n", "not gzip at all", 15, &r);
    ck_assert_int_eq(r.status, 400);
    close(fd);

    size_t zlen = 1 << 20;
    uint8_t *zeros = calloc(1, zlen);
    ck_assert_ptr_nonnull(zeros);
    buf_reset(&gz);
    ck_assert_int_eq(gz_deflate(zeros, zlen, 9, &gz), GZ_OK);
    ck_assert_uint_lt(gz.len, 4096);
    fd = cli_connect(port);
    cli_post(fd, "/v1/logs", JSON, "Content-Encoding: gzip\r\n", gz.ptr, gz.len, &r);
    ck_assert_int_eq(r.status, 413);
    ck_assert(strstr(r.body, "decompressed") != NULL);
    close(fd);
    free(zeros);
    buf_free(&gz);
    ck_assert_int_eq(fake_appended(), 2);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_too_large) {
    fake_start(FAKE_THREAD);
    srv_start(NULL); /* cap 4096 */
    cli_resp r;
    /* Content-Length over the cap: answered from the headers alone. */
    int fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nContent-Length: 1000000000\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert(strstr(r.body, "1000000000") != NULL);
    ck_assert(cli_closed(fd));
    close(fd);

    /* With Expect: 100-continue the client never gets the go-ahead. */
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nExpect: 100-continue\r\n"
                                      "Content-Length: 5000\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 413);
    close(fd);

    /* Chunked past the cap: 413 after the body, connection still usable. */
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     0);
    char chunk[1024 + 16];
    memset(chunk, 'a', sizeof(chunk));
    memcpy(chunk, "400\r\n", 5);
    memcpy(chunk + 5 + 1024, "\r\n", 2);
    for (int i = 0; i < 6; i++) /* 6 KiB > 4 KiB */
        ck_assert_int_eq(cli_send(fd, chunk, 5 + 1024 + 2), 0);
    ck_assert_int_eq(cli_send_str(fd, "0\r\n\r\n"), 0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert(strstr(r.body, "4096") != NULL);
    cli_post(fd, "/v1/logs", JSON, NULL, "items=1", 7, &r);
    ck_assert_int_eq(r.status, 200);
    close(fd);

    /* A chunked valid body. */
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "3\r\nite\r\n4\r\nms=3\r\n0\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 200);
    close(fd);

    /* An endless chunked body: the server stops reading and drops the
     * connection long before the client's 1 MiB budget is spent. */
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     0);
    int dropped = 0;
    for (int i = 0; i < 1024 && !dropped; i++)
        dropped = cli_send(fd, chunk, 5 + 1024 + 2) != 0;
    if (!dropped)
        dropped = cli_closed(fd);
    ck_assert(dropped);
    close(fd);
    ck_assert_int_eq(fake_appended(), 2);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_store_refusals) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    fake_set(STORE_EFULL, STORE_OK);
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert(has_header(&r, "\r\nRetry-After: 1\r\n"));
    ck_assert(strstr(r.body, "\"code\":14") != NULL);
    fake_set(STORE_ECLOSED, STORE_OK);
    post1(port, "/v1/logs", PB, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert(strncmp(r.body, "PBSTATUS code=14 ", 17) == 0);
    fake_set(STORE_OK, STORE_EIO);
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert(strstr(r.body, "commit") != NULL);
    fake_set(STORE_EINVAL, STORE_OK);
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 500);
    fake_set(STORE_OK, STORE_OK);
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    srv_stop();
    fake_stop();
}
END_TEST

/* The callback runs inside store_append(), before the handler returns. */
START_TEST(test_sync_callback_race) {
    fake_start(FAKE_SYNC);
    srv_start(NULL);
    cli_resp r;
    int fd = cli_connect(port);
    for (int i = 0; i < 300; i++) {
        cli_post(fd, "/v1/traces", (i & 1) ? PB : JSON, NULL, "items=1", 7, &r);
        ck_assert_int_eq(r.status, 200);
    }
    close(fd);
    ck_assert(fake_wait_completed(300));
    srv_stop();
    fake_stop();
}
END_TEST

typedef struct client_arg {
    int port;
    int ok;
} client_arg;

static void *client_loop(void *p) {
    client_arg *a = p;
    int fd = cli_connect(a->port);
    for (int i = 0; i < 100; i++) {
        cli_resp r;
        char head[256];
        snprintf(head, sizeof(head),
                 "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 7\r\n\r\nitems=1");
        if (cli_send_str(fd, head) != 0 || cli_read(fd, &r) != 0 || r.status != 200)
            break;
        a->ok++;
    }
    close(fd);
    return NULL;
}

/* Several clients at once, callbacks from the writer thread. */
START_TEST(test_concurrent_clients) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    pthread_t th[6];
    client_arg args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (client_arg){.port = port};
        ck_assert_int_eq(pthread_create(&th[i], NULL, client_loop, &args[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].ok, 100);
    }
    ck_assert(fake_wait_completed(600));
    srv_stop();
    fake_stop();
}
END_TEST

/* The client disconnects while its batch waits for the store. */
START_TEST(test_disconnect_while_suspended) {
    fake_start(FAKE_GATED);
    srv_start(NULL);
    for (int i = 0; i < 5; i++) {
        int fd = cli_connect(port);
        char req[] = "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 7\r\n\r\nitems=1";
        ck_assert_int_eq(cli_send_str(fd, req), 0);
        ck_assert(fake_wait_queued(i + 1));
        /* Reset rather than a polite close. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
    }
    fake_open_gate();
    ck_assert(fake_wait_completed(5));
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    srv_stop();
    fake_stop();
}
END_TEST

/* Clients that vanish in the middle of a body. */
START_TEST(test_disconnect_mid_body) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    for (int i = 0; i < 20; i++) {
        int fd = cli_connect(port);
        const char *req = (i & 1) ? "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                    "application/json\r\nContent-Length: 100\r\n\r\nitems"
                                  : "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                    "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "10\r\nitems=1";
        ck_assert_int_eq(cli_send_str(fd, req), 0);
        close(fd);
    }
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(fake_appended(), 1);
    srv_stop();
    fake_stop();
}
END_TEST

typedef struct stop_arg {
    otlp_http *h;
    atomic_int done;
} stop_arg;

static void *stop_thread(void *p) {
    stop_arg *a = p;
    otlp_http_stop(a->h);
    atomic_store(&a->done, 1);
    return NULL;
}

/* Stopping with a batch in the store: the request still gets its answer. */
START_TEST(test_stop_waits_for_pending) {
    fake_start(FAKE_GATED);
    srv_start(NULL);
    int fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nContent-Length: 7\r\n\r\nitems=1"),
                     0);
    ck_assert(fake_wait_queued(1));
    stop_arg a = {.h = srv};
    atomic_init(&a.done, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, stop_thread, &a), 0);
    /* The stop cannot finish while the batch is pending. */
    ck_assert_int_eq(atomic_load(&a.done), 0);
    fake_open_gate();
    cli_resp r;
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 200);
    close(fd);
    pthread_join(th, NULL);
    ck_assert_int_eq(atomic_load(&a.done), 1);
    srv = NULL;
    fake_stop();
}
END_TEST

START_TEST(test_api_keys) {
    fake_start(FAKE_THREAD);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .api_keys = {"s3cret", "other"}};
    srv_start(&cfg);
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert(strstr(r.body, "\"code\":16") != NULL);
    post1(port, "/v1/logs", JSON, "x-otlp-api-key: wrong\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 401);
    post1(port, "/v1/logs", JSON, "Authorization: Bearer s3cre\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 401);
    post1(port, "/v1/logs", JSON, "x-otlp-api-key: s3cret\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    post1(port, "/v1/logs", JSON, "Authorization: Bearer other\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(fake_appended(), 2);
    srv_stop();
    fake_stop();
}
END_TEST

/* The shared credential table (tests/unit/server/net/auth_cases.h): the
 * values OTLP/gRPC and the UI accept, and only those. HTTP/1.1 strips the
 * spaces around a value, so padded rows keep their verdict here. */
START_TEST(test_auth_cases) {
    fake_start(FAKE_THREAD);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .api_keys = {AUTH_CASE_KEY, NULL}};
    srv_start(&cfg);
    int accepted = 0;
    for (size_t i = 0; i < AUTH_N_CASES; i++) {
        const auth_case *ac = &auth_cases[i];
        char headers[256] = "";
        size_t off = 0;
        if (ac->authorization)
            off += (size_t)snprintf(headers + off, sizeof(headers) - off,
                                    "Authorization:%s\r\n", ac->authorization);
        if (ac->api_key)
            snprintf(headers + off, sizeof(headers) - off, "x-otlp-api-key:%s\r\n", ac->api_key);
        cli_resp r;
        post1(port, "/v1/logs", JSON, headers, "items=1", &r);
        ck_assert_msg(r.status == (ac->ok ? 200 : 401), "case %zu: status %d", i, r.status);
        accepted += ac->ok;
    }
    ck_assert_int_eq(fake_appended(), accepted);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_cors) {
    fake_start(FAKE_THREAD);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .cors_origins = "http://app.test"};
    srv_start(&cfg);
    cli_resp r;
    int fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "OPTIONS /v1/traces HTTP/1.1\r\nHost: x\r\n"
                                      "Origin: http://app.test\r\n"
                                      "Access-Control-Request-Method: POST\r\n"
                                      "Access-Control-Request-Headers: content-type, x-evil, "
                                      "traceparent\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert(has_header(&r, "\r\nAccess-Control-Allow-Origin: http://app.test\r\n"));
    ck_assert(has_header(&r, "\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n"));
    ck_assert(has_header(&r, "\r\nAccess-Control-Allow-Headers: content-type, content-encoding, "
                             "authorization, x-otlp-api-key, traceparent\r\n"));
    ck_assert(has_header(&r, "\r\nAccess-Control-Max-Age: "));
    ck_assert(has_header(&r, "\r\nVary: Origin\r\n"));
    /* The same connection carries the real request. */
    cli_post(fd, "/v1/traces", JSON, "Origin: http://app.test\r\n", "items=1", 7, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "\r\nAccess-Control-Allow-Origin: http://app.test\r\n"));
    close(fd);

    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "OPTIONS /v1/traces HTTP/1.1\r\nHost: x\r\n"
                                      "Origin: http://evil.test\r\n"
                                      "Access-Control-Request-Method: POST\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
    close(fd);

    post1(port, "/v1/traces", JSON, "Origin: http://evil.test\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
    /* Error answers carry CORS headers too, so a page can read them. */
    post1(port, "/v1/traces", JSON, "Origin: http://app.test\r\n", "bad", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert(has_header(&r, "\r\nAccess-Control-Allow-Origin: http://app.test\r\n"));
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_cors_off) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    cli_resp r;
    int fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "OPTIONS /v1/logs HTTP/1.1\r\nHost: x\r\n"
                                      "Origin: http://app.test\r\n"
                                      "Access-Control-Request-Method: POST\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
    close(fd);
    post1(port, "/v1/logs", JSON, "Origin: http://app.test\r\n", "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
    ck_assert(!has_header(&r, "Vary: Origin"));
    srv_stop();
    fake_stop();
}
END_TEST

/* A client of a listener the test owns, accepted there (non-blocking):
 * what the gRPC port hands over. *cli is the client's end. */
static int accept_elsewhere(int lfd, int lport, int *cli, struct sockaddr_storage *peer,
                            socklen_t *peerlen) {
    *cli = cli_connect(lport);
    struct pollfd p = {lfd, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, IO_TIMEOUT_MS), 1);
    *peerlen = sizeof(*peer);
    int fd = accept4(lfd, (struct sockaddr *)peer, peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* Polls (at most 10 s) until libmicrohttpd counts `n` open connections. */
static void wait_open_connections(int64_t n) {
    recv_stats st;
    for (int i = 0; i < 1000; i++) {
        otlp_http_get_stats(srv, &st);
        if (st.open_connections == n)
            return;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("open connections %lld, want %lld", (long long)st.open_connections,
                 (long long)n);
}

START_TEST(test_adopt) {
    fake_start(FAKE_THREAD);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .max_body_bytes = 4096, .max_connections = 2};
    srv_start(&cfg);
    int lport;
    int lfd = loopback_listen(&lport);
    struct sockaddr_storage peer;
    socklen_t peerlen;
    int cli[3], fd[3];
    /* The request is there, unread, before the receiver gets the socket. */
    fd[0] = accept_elsewhere(lfd, lport, &cli[0], &peer, &peerlen);
    static const char req[] = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              "application/json\r\nContent-Length: 7\r\n\r\nitems=3";
    ck_assert_int_eq(cli_send_str(cli[0], req), 0);
    ck_assert_int_eq(otlp_http_adopt(srv, fd[0], (struct sockaddr *)&peer, peerlen), 0);
    cli_resp r;
    ck_assert_int_eq(cli_read(cli[0], &r), 0);
    ck_assert_int_eq(r.status, 200);
    /* Kept alive, served like any connection of the port. */
    cli_post(cli[0], "/v1/logs", JSON, NULL, "items=2", 7, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(fake_items(), 5);
    /* Its limits hold: two connections, the third is refused and closed. */
    fd[1] = accept_elsewhere(lfd, lport, &cli[1], &peer, &peerlen);
    ck_assert_int_eq(otlp_http_adopt(srv, fd[1], (struct sockaddr *)&peer, peerlen), 0);
    wait_open_connections(2);
    fd[2] = accept_elsewhere(lfd, lport, &cli[2], &peer, &peerlen);
    ck_assert_int_eq(otlp_http_adopt(srv, fd[2], (struct sockaddr *)&peer, peerlen), -1);
    ck_assert(cli_closed(cli[2]));
    http_guard_stats gs;
    otlp_http_stats(srv, &gs);
    ck_assert_uint_eq(gs.connections_refused, 1);
    for (int i = 0; i < 3; i++)
        close(cli[i]);
    close(lfd);
    srv_stop();
    fake_stop();
}
END_TEST

START_TEST(test_start_errors) {
    fake_start(FAKE_THREAD);
    srv_start(NULL);
    char addr[64], err[256] = "";
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    otlp_http_config cfg = {.addr = addr};
    otlp_http *second = NULL;
    ck_assert_int_ne(otlp_http_start(&cfg, &fake, &second, err, sizeof(err)), 0);
    ck_assert_ptr_null(second);
    ck_assert_msg(strstr(err, addr) != NULL, "error does not name the address: %s", err);

    cfg.addr = "nonsense";
    err[0] = '\0';
    ck_assert_int_ne(otlp_http_start(&cfg, &fake, &second, err, sizeof(err)), 0);
    ck_assert(strstr(err, "nonsense") != NULL);
    srv_stop();
    otlp_http_stop(NULL);
    fake_stop();
}
END_TEST

/* Bodies held at once share a budget (4 x max_body, at least 64 MiB): four
 * nearly complete 16 MiB bodies fill it, and a fifth request gets 503. */
START_TEST(test_body_budget) {
    fake_start(FAKE_THREAD);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .max_body_bytes = 16u << 20};
    srv_start(&cfg);
    size_t part = (16u << 20) - 1;
    char *filler = malloc(part);
    ck_assert_ptr_nonnull(filler);
    memset(filler, 'x', part);
    int holders[4];
    for (int i = 0; i < 4; i++) {
        holders[i] = cli_connect(port);
        char head[256];
        snprintf(head, sizeof(head),
                 "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 part + 1);
        ck_assert_int_eq(cli_send_str(holders[i], head), 0);
        ck_assert_int_eq(cli_send(holders[i], filler, part), 0);
    }
    /* Wait until the server has read every holder's bytes: a probe racing
     * a holder's last chunk could push that holder over the budget instead
     * (it then gets the 503 and stops holding). Polled, bounded to 30 s. */
    uint64_t held = 0, budget = 0;
    int64_t give_up = clk_ns(CLOCK_MONOTONIC) + 30 * 1000000000LL;
    for (;;) {
        otlp_http_body_use(srv, &held, &budget);
        if (held >= 4 * (uint64_t)part || clk_ns(CLOCK_MONOTONIC) > give_up)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(budget, 64u << 20);
    ck_assert_uint_eq(held, 4 * (uint64_t)part);
    /* Four bytes are left: the next request's body does not fit. */
    cli_resp r;
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert(has_header(&r, "\r\nRetry-After: 1\r\n"));
    ck_assert(strstr(r.body, "in flight") != NULL);
    /* Releasing the holders frees the budget. */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(cli_send_str(holders[i], "x"), 0);
        ck_assert_int_eq(cli_read(holders[i], &r), 0);
        ck_assert_int_eq(r.status, 400); /* the fake cannot parse 16 MiB of x */
        close(holders[i]);
    }
    post1(port, "/v1/logs", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 200);
    free(filler);
    srv_stop();
    fake_stop();
}
END_TEST

/* The newest record of l, which must exist. */
static ingest_rec newest(ingest_log *l) {
    ingest_rec r;
    ck_assert_int_eq(ingest_log_get(l, ingest_log_head(l), &r), 0);
    return r;
}

START_TEST(test_ingest_records) {
    fake_start(FAKE_THREAD);
    ingest_log *l = ingest_log_new(16, NULL);
    otlp_http_config cfg = {.addr = "127.0.0.1:0", .max_body_bytes = 4096, .ingest = l};
    srv_start(&cfg);
    cli_resp r;
    /* a partial success, gzip, with the client's user agent */
    buf gz;
    buf_init(&gz, 4096);
    const char *plain = "items=3;rejected=1";
    ck_assert_int_eq(gz_deflate((const uint8_t *)plain, strlen(plain), 6, &gz), GZ_OK);
    int fd = cli_connect(port);
    cli_post(fd, "/v1/logs", PB, "Content-Encoding: gzip\r\nUser-Agent: test-agent/1.0\r\n",
             gz.ptr, gz.len, &r);
    close(fd);
    ck_assert_int_eq(r.status, 200);
    ingest_rec x = newest(l);
    ck_assert_uint_eq(x.seq, 1);
    ck_assert_uint_eq(x.transport, INGEST_HTTP);
    ck_assert_str_eq(x.path, "/v1/logs");
    ck_assert_int_eq(x.signal, MODEL_SIGNAL_LOGS);
    ck_assert_str_eq(x.content_type, PB);
    ck_assert_uint_eq(x.encoding, INGEST_ENC_PROTOBUF);
    ck_assert_uint_eq(x.compression, INGEST_COMP_GZIP);
    ck_assert_str_eq(x.coding, "gzip");
    ck_assert_uint_eq(x.wire_bytes, gz.len);
    ck_assert_uint_eq(x.decoded_bytes, strlen(plain));
    ck_assert_uint_eq(x.items, 4);
    ck_assert_uint_eq(x.rejected, 1);
    ck_assert_uint_eq(x.outcome, INGEST_OUTCOME_PARTIAL);
    ck_assert_uint_eq(x.http_status, 200);
    ck_assert_int_eq(x.grpc_code, -1);
    ck_assert_str_eq(x.message, "fake: invalid trace id");
    ck_assert_str_eq(x.user_agent, "test-agent/1.0");
    ck_assert_str_eq(x.client, "127.0.0.1");
    ck_assert_uint_eq(x.port, (unsigned)port);
    buf_free(&gz);

    /* refused from the headers alone: the declared size is recorded */
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nContent-Length: 999999\r\n\r\n"),
                     0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    close(fd);
    ck_assert_int_eq(r.status, 413);
    x = newest(l);
    ck_assert_uint_eq(x.seq, 2);
    ck_assert_uint_eq(x.outcome, INGEST_OUTCOME_ERROR);
    ck_assert_uint_eq(x.reason, INGEST_REASON_BODY_TOO_LARGE);
    ck_assert_uint_eq(x.wire_bytes, 999999);
    ck_assert_uint_eq(x.decoded_bytes, INGEST_UNKNOWN);
    ck_assert_uint_eq(x.encoding, INGEST_ENC_JSON);
    ck_assert_ptr_nonnull(strstr(x.message, "999999"));

    /* malformed, wrong path, store full: each with its reason */
    post1(port, "/v1/logs", JSON, NULL, "bad", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_uint_eq(newest(l).reason, INGEST_REASON_MALFORMED);
    post1(port, "/v1/spans", JSON, NULL, "items=1", &r);
    ck_assert_int_eq(r.status, 404);
    x = newest(l);
    ck_assert_uint_eq(x.reason, INGEST_REASON_WRONG_PATH);
    ck_assert_int_eq(x.signal, -1);
    ck_assert_str_eq(x.path, "/v1/spans");
    fake_set(STORE_EFULL, STORE_OK);
    post1(port, "/v1/traces", JSON, NULL, "items=2", &r);
    ck_assert_int_eq(r.status, 503);
    x = newest(l);
    ck_assert_uint_eq(x.reason, INGEST_REASON_STORE_FULL);
    ck_assert_uint_eq(x.items, 2);
    fake_set(STORE_OK, STORE_OK);

    /* an allowed OPTIONS is not an export: not recorded */
    uint64_t head = ingest_log_head(l);
    fd = cli_connect(port);
    ck_assert_int_eq(cli_send_str(fd, "OPTIONS /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    ck_assert_int_eq(cli_read(fd, &r), 0);
    close(fd);
    ck_assert_int_eq(r.status, 204);
    ck_assert_uint_eq(ingest_log_head(l), head);
    srv_stop();
    ingest_log_free(l);
    fake_stop();
}
END_TEST

static Suite *otlp_http_suite(void) {
    Suite *s = suite_create("otlp_http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    /* TEST_ONLY=name runs one test; TEST_DEBUG=1 shows debug log lines. */
    const char *only = getenv("TEST_ONLY");
#define ADD(t)                                                                                 \
    if (only == NULL || strcmp(only, #t) == 0)                                                 \
    tcase_add_test(tc, t)
    ADD(test_ok_json_and_pb);
    ADD(test_partial_success_and_empty);
    ADD(test_decode_errors);
    ADD(test_routing);
    ADD(test_media_types_and_codings);
    ADD(test_too_large);
    ADD(test_store_refusals);
    ADD(test_sync_callback_race);
    ADD(test_concurrent_clients);
    ADD(test_disconnect_while_suspended);
    ADD(test_disconnect_mid_body);
    ADD(test_stop_waits_for_pending);
    ADD(test_api_keys);
    ADD(test_auth_cases);
    ADD(test_cors);
    ADD(test_cors_off);
    ADD(test_body_budget);
    ADD(test_start_errors);
    ADD(test_adopt);
    ADD(test_ingest_records);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    if (getenv("TEST_DEBUG"))
        log_set_level(LOG_DEBUG);
    SRunner *sr = srunner_create(otlp_http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
