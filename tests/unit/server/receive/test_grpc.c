/* test_grpc.c - unit tests for the OTLP/gRPC receiver (server/grpc.c).
 *
 * The receiver runs detached (grpc_detached.h): no socket, no loop thread.
 * The client is an nghttp2 client session in the same thread; bytes are
 * pumped between the two until neither has anything to say, so every test
 * is deterministic. The store is replaced by a fake whose commits the test
 * completes when it chooses, which is how "answered only after commit",
 * commit failures and completions for streams or connections that have
 * gone away are tested. Only the timer tests (deadline, idle timeout) wait
 * for real time, in bounded polling loops.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "server/receive/grpc.h"
#include "server/receive/grpc_detached.h"
#include "util/gz.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "server/decode/otlp.h"
#include "server/net/auth_cases.h"
#include "server/net/ingest_log.h"
#include "server/net/loopback.h"

#define TRACES "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

/* ---- the fake store ------------------------------------------------------ */

typedef struct pending {
    model_batch *b;
    store_done_cb cb;
    void *ud;
} pending;

static struct {
    pending p[512];
    int n;
    int refuse; /* a STORE_* code store_append should return, or 0 */
    size_t items;
} fake;

static int fake_append(void *ctx, model_batch *b, store_done_cb cb, void *ud) {
    (void)ctx;
    if (fake.refuse) {
        model_batch_free(b);
        return fake.refuse;
    }
    ck_assert_int_lt(fake.n, 512);
    fake.p[fake.n].b = b;
    fake.p[fake.n].cb = cb;
    fake.p[fake.n].ud = ud;
    fake.n++;
    return STORE_OK;
}

/* Completes append i as the store's writer would. */
static void fake_commit(int i, int status) {
    ck_assert_ptr_nonnull(fake.p[i].b);
    fake.items += model_batch_items(fake.p[i].b);
    fake.p[i].cb(fake.p[i].ud, status, fake.p[i].b);
    model_batch_free(fake.p[i].b);
    fake.p[i].b = NULL;
}

/* ---- the nghttp2 client ------------------------------------------------- */

typedef struct tstream {
    int32_t id;
    int status;      /* :status, 0 = none yet */
    int grpc_status; /* -1 = none yet */
    char grpc_message[600];
    char accept_encoding[64];
    int headers_frames;
    uint8_t data[8192];
    size_t data_len;
    int closed;
    uint32_t close_error;
} tstream;

typedef struct body_src {
    const uint8_t *p;
    size_t len, off;
} body_src;

typedef struct client {
    nghttp2_session *s;
    tstream st[512];
    int nst;
    body_src src[512];
    int nsrc;
    int goaway;
    uint32_t goaway_error;
    grpc_server *g;
    grpc_conn *c;
    int alive;
    buf sink;
} client;

static tstream *cl_stream(client *cl, int32_t id) {
    for (int i = 0; i < cl->nst; i++)
        if (cl->st[i].id == id)
            return &cl->st[i];
    return NULL;
}

static int cl_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *ud) {
    (void)s;
    (void)flags;
    tstream *t = cl_stream(ud, f->hd.stream_id);
    if (t == NULL)
        return 0;
    char v[600];
    size_t n = valuelen < sizeof(v) - 1 ? valuelen : sizeof(v) - 1;
    memcpy(v, value, n);
    v[n] = '\0';
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        t->status = (int)strtol(v, NULL, 10);
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        t->grpc_status = (int)strtol(v, NULL, 10);
    else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
        snprintf(t->grpc_message, sizeof(t->grpc_message), "%s", v);
    else if (namelen == 20 && memcmp(name, "grpc-accept-encoding", 20) == 0)
        snprintf(t->accept_encoding, sizeof(t->accept_encoding), "%.63s", v);
    return 0;
}

static int cl_on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
    client *cl = ud;
    (void)s;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        cl->goaway++;
        cl->goaway_error = f->goaway.error_code;
    } else if (f->hd.type == NGHTTP2_HEADERS) {
        tstream *t = cl_stream(cl, f->hd.stream_id);
        if (t)
            t->headers_frames++;
    }
    return 0;
}

static int cl_on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                      size_t len, void *ud) {
    (void)s;
    (void)flags;
    tstream *t = cl_stream(ud, id);
    if (t && t->data_len + len <= sizeof(t->data)) {
        memcpy(t->data + t->data_len, data, len);
        t->data_len += len;
    }
    return 0;
}

static int cl_on_close(nghttp2_session *s, int32_t id, uint32_t error, void *ud) {
    (void)s;
    tstream *t = cl_stream(ud, id);
    if (t) {
        t->closed = 1;
        t->close_error = error;
    }
    return 0;
}

static ssize_t cl_read(nghttp2_session *s, int32_t id, uint8_t *out, size_t length,
                       uint32_t *flags, nghttp2_data_source *source, void *ud) {
    (void)s;
    (void)id;
    (void)ud;
    body_src *b = source->ptr;
    size_t n = b->len - b->off < length ? b->len - b->off : length;
    if (n)
        memcpy(out, b->p + b->off, n);
    b->off += n;
    if (b->off == b->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Moves bytes both ways until neither side has more to say. */
static void cl_pump(client *cl) {
    for (int round = 0; round < 10000; round++) {
        int progress = 0;
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(cl->s, &p);
        ck_assert_int_ge(n, 0);
        if (n > 0 && cl->alive) {
            cl->alive = grpc_conn_feed_detached(cl->c, p, (size_t)n);
            progress = 1;
        }
        if (cl->sink.len > 0) {
            ssize_t r = nghttp2_session_mem_recv(cl->s, (const uint8_t *)cl->sink.ptr, cl->sink.len);
            ck_assert_int_eq(r, (ssize_t)cl->sink.len);
            buf_reset(&cl->sink);
            progress = 1;
        }
        if (!progress)
            return;
    }
    ck_abort_msg("pump did not settle");
}

static void cl_poll(client *cl) {
    grpc_server_poll_detached(cl->g);
    cl->alive = cl->alive && grpc_conn_alive_detached(cl->g, cl->c);
    cl_pump(cl);
}

static void cl_init_session(client *cl) {
    nghttp2_session_callbacks *cb;
    ck_assert_int_eq(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_header_callback(cb, cl_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cl_on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cl_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, cl_on_close);
    ck_assert_int_eq(nghttp2_session_client_new(&cl->s, cb, cl), 0);
    nghttp2_session_callbacks_del(cb);
    ck_assert_int_eq(nghttp2_submit_settings(cl->s, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

/* A detached server with the fake store, and one connected client. */
static client *cl_new(const grpc_config *cfg) {
    client *cl = calloc(1, sizeof(*cl));
    ck_assert_ptr_nonnull(cl);
    memset(&fake, 0, sizeof(fake));
    ck_assert_int_eq(grpc_server_new_detached(cfg, NULL, &cl->g), 0);
    grpc_server_set_append_detached(cl->g, fake_append, NULL);
    buf_init(&cl->sink, 1 << 24);
    cl->c = grpc_conn_new_detached(cl->g, &cl->sink);
    ck_assert_ptr_nonnull(cl->c);
    cl->alive = 1;
    cl_init_session(cl);
    cl_pump(cl);
    return cl;
}

/* A second client connection to the same server. */
static client *cl_connect(grpc_server *g) {
    client *cl = calloc(1, sizeof(*cl));
    ck_assert_ptr_nonnull(cl);
    cl->g = g;
    buf_init(&cl->sink, 1 << 24);
    cl->c = grpc_conn_new_detached(g, &cl->sink);
    ck_assert_ptr_nonnull(cl->c);
    cl->alive = 1;
    cl_init_session(cl);
    cl_pump(cl);
    return cl;
}

static void cl_close(client *cl) {
    nghttp2_session_del(cl->s);
    buf_free(&cl->sink);
    free(cl);
}

static void cl_free(client *cl) {
    grpc_server_free_detached(cl->g);
    /* Commits the server never saw completed: the hub must absorb them. */
    for (int i = 0; i < fake.n; i++)
        if (fake.p[i].b)
            fake_commit(i, STORE_OK);
    cl_close(cl);
}

static const grpc_config *cfg_default(void) {
    static grpc_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.addr = "127.0.0.1:0";
    cfg.max_message_bytes = 64 * 1024;
    cfg.max_connections = 4;
    return &cfg;
}

#define NV(n, v) \
    { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* Opens a request stream (HEADERS only). extra: NULL-terminated name/value
 * pairs added or replacing defaults (":method", "content-type"). */
static int32_t cl_open(client *cl, const char *path, const char *const *extra) {
    nghttp2_nv nva[16];
    size_t n = 0;
    const char *method = "POST", *ct = "application/grpc";
    for (int i = 0; extra && extra[i]; i += 2) {
        if (strcmp(extra[i], ":method") == 0)
            method = extra[i + 1];
        if (strcmp(extra[i], "content-type") == 0)
            ct = extra[i + 1];
    }
    nghttp2_nv base[] = {NV(":method", method), NV(":scheme", "http"), NV(":authority", "test"),
                         NV(":path", path), NV("te", "trailers")};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        nva[n++] = base[i];
    if (ct[0]) {
        nghttp2_nv c = NV("content-type", ct);
        nva[n++] = c;
    }
    for (int i = 0; extra && extra[i]; i += 2) {
        if (strcmp(extra[i], ":method") == 0 || strcmp(extra[i], "content-type") == 0)
            continue;
        nghttp2_nv e = {(uint8_t *)(uintptr_t)extra[i], (uint8_t *)(uintptr_t)extra[i + 1],
                        strlen(extra[i]), strlen(extra[i + 1]), NGHTTP2_NV_FLAG_NONE};
        nva[n++] = e;
    }
    int32_t id = nghttp2_submit_headers(cl->s, NGHTTP2_FLAG_NONE, -1, NULL, nva, n, NULL);
    ck_assert_int_gt(id, 0);
    ck_assert_int_lt(cl->nst, 512);
    tstream *t = &cl->st[cl->nst++];
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->grpc_status = -1;
    cl_pump(cl); /* the stream exists on the client once its HEADERS are out */
    return id;
}

/* Sends bytes on an open stream; the bytes must outlive the pump. Nothing
 * is sent if the server has already answered and reset the stream. */
static void cl_send(client *cl, int32_t id, const uint8_t *p, size_t len, int end) {
    if (cl_stream(cl, id)->closed)
        return;
    ck_assert_int_lt(cl->nsrc, 512);
    body_src *b = &cl->src[cl->nsrc++];
    b->p = p;
    b->len = len;
    b->off = 0;
    nghttp2_data_provider prd;
    prd.source.ptr = b;
    prd.read_callback = cl_read;
    ck_assert_int_eq(nghttp2_submit_data(cl->s, end ? NGHTTP2_FLAG_END_STREAM : NGHTTP2_FLAG_NONE, id, &prd), 0);
}

/* ---- requests ------------------------------------------------------------- */

/* A gRPC-framed ExportTraceServiceRequest with `good` valid spans and `bad`
 * spans with an 8-byte trace id (rejected item by item). Caller frees. */
static uint8_t *trace_msg(int good, int bad, size_t *len) {
    Opentelemetry__Proto__Trace__V1__Span spans[64];
    Opentelemetry__Proto__Trace__V1__Span *sp[64];
    static uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static uint8_t sids[64][8];
    int n = good + bad;
    ck_assert_int_le(n, 64);
    for (int i = 0; i < n; i++) {
        opentelemetry__proto__trace__v1__span__init(&spans[i]);
        memset(sids[i], 0, 8);
        sids[i][0] = 0xaa;
        sids[i][7] = (uint8_t)(i + 1);
        spans[i].trace_id.data = tid;
        spans[i].trace_id.len = i < good ? 16 : 8;
        spans[i].span_id.data = sids[i];
        spans[i].span_id.len = 8;
        spans[i].name = (char *)"unit-span";
        spans[i].start_time_unix_nano = 1700000000000000000ull + (uint64_t)i;
        spans[i].end_time_unix_nano = 1700000000000001000ull + (uint64_t)i;
        sp[i] = &spans[i];
    }
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.n_spans = (size_t)n;
    ss.spans = sp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    size_t pl = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    uint8_t *out = malloc(pl + 5);
    ck_assert_ptr_nonnull(out);
    out[0] = 0;
    out[1] = (uint8_t)(pl >> 24);
    out[2] = (uint8_t)(pl >> 16);
    out[3] = (uint8_t)(pl >> 8);
    out[4] = (uint8_t)pl;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, out + 5);
    *len = pl + 5;
    return out;
}

/* Opens, sends one framed message and ends the request. */
static int32_t cl_export(client *cl, const uint8_t *msg, size_t len, const char *const *extra) {
    int32_t id = cl_open(cl, TRACES, extra);
    cl_send(cl, id, msg, len, 1);
    cl_pump(cl);
    return id;
}

static const uint8_t empty_response[5] = {0, 0, 0, 0, 0};

/* ---- tests ---------------------------------------------------------------- */

START_TEST(test_settings_and_windows) {
    client *cl = cl_new(cfg_default());
    ck_assert_uint_eq(nghttp2_session_get_remote_settings(cl->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 256);
    ck_assert_uint_ge(nghttp2_session_get_remote_settings(cl->s, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 1 << 20);
    ck_assert_int_ge(nghttp2_session_get_remote_window_size(cl->s), 16 << 20);
    cl_free(cl);
}
END_TEST

START_TEST(test_answer_waits_for_commit) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(3, 0, &len);
    int32_t id = cl_export(cl, msg, len, NULL);
    tstream *t = cl_stream(cl, id);
    ck_assert_int_eq(fake.n, 1);
    ck_assert_uint_eq(model_batch_items(fake.p[0].b), 3);
    /* Nothing is said before the commit. */
    cl_poll(cl);
    ck_assert_int_eq(t->status, 0);
    ck_assert_int_eq(t->closed, 0);
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(t->status, 200);
    ck_assert_int_eq(t->grpc_status, 0);
    ck_assert_int_eq(t->headers_frames, 2); /* response headers + trailers */
    ck_assert_str_eq(t->accept_encoding, "identity,gzip");
    ck_assert_uint_eq(t->data_len, 5);
    ck_assert_int_eq(memcmp(t->data, empty_response, 5), 0);
    ck_assert_int_eq(t->closed, 1);
    ck_assert_uint_eq(t->close_error, 0);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_partial_success) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(2, 1, &len);
    int32_t id = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 1);
    ck_assert_uint_eq(model_batch_items(fake.p[0].b), 2);
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    tstream *t = cl_stream(cl, id);
    ck_assert_int_eq(t->grpc_status, 0);
    ck_assert_uint_gt(t->data_len, 5);
    ck_assert_int_eq(t->data[0], 0);
    size_t ml = (size_t)t->data[1] << 24 | (size_t)t->data[2] << 16 | (size_t)t->data[3] << 8 | t->data[4];
    ck_assert_uint_eq(ml, t->data_len - 5);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, ml, t->data + 5);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(r->partial_success);
    ck_assert_int_eq(r->partial_success->rejected_spans, 1);
    ck_assert_uint_gt(strlen(r->partial_success->error_message), 0);
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_commit_failure_unavailable) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t id = cl_export(cl, msg, len, NULL);
    fake_commit(0, STORE_EIO);
    cl_poll(cl);
    tstream *t = cl_stream(cl, id);
    ck_assert_int_eq(t->status, 200);
    ck_assert_int_eq(t->grpc_status, OTLP_GRPC_UNAVAILABLE);
    ck_assert_uint_eq(t->data_len, 0);
    ck_assert_int_eq(t->headers_frames, 1); /* trailers-only */
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_append_refused_unavailable) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    fake.refuse = STORE_EFULL;
    int32_t id = cl_export(cl, msg, len, NULL);
    tstream *t = cl_stream(cl, id);
    ck_assert_int_eq(fake.n, 0);
    ck_assert_int_eq(t->grpc_status, OTLP_GRPC_UNAVAILABLE);
    ck_assert_int_eq(strncmp(t->grpc_message, "store: ", 7), 0);
    fake.refuse = STORE_EINVAL; /* not retryable */
    id = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_reset_while_waiting) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t a = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 1);
    nghttp2_submit_rst_stream(cl->s, NGHTTP2_FLAG_NONE, a, NGHTTP2_CANCEL);
    cl_pump(cl);
    int32_t b = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 2);
    /* A's commit arrives after A is gone: dropped; B is unaffected. */
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(cl_stream(cl, a)->status, 0);
    ck_assert_int_eq(cl_stream(cl, b)->status, 0);
    fake_commit(1, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(cl_stream(cl, b)->grpc_status, 0);
    ck_assert(cl->alive);
    free(msg);
    cl_free(cl);
}
END_TEST

/* The regression the connection generation exists for: a completion for a
 * closed connection must not answer the same stream id on the connection
 * that reused its slot. */
START_TEST(test_completion_for_closed_connection) {
    grpc_config cfg = *cfg_default();
    cfg.max_connections = 1;
    client *cl = cl_new(&cfg);
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t a = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(a, 1);
    ck_assert_int_eq(fake.n, 1);
    /* Kill the connection with a protocol error: DATA on stream 0. */
    static const uint8_t bad[] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
    cl->alive = grpc_conn_feed_detached(cl->c, bad, sizeof(bad));
    ck_assert(!cl->alive);
    grpc_server *g = cl->g;
    /* A new connection takes the only slot, and its stream 1 waits too. */
    client *c2 = cl_connect(g);
    int32_t b = cl_export(c2, msg, len, NULL);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(fake.n, 2);
    fake_commit(0, STORE_OK);
    cl_poll(c2);
    ck_assert_int_eq(cl_stream(c2, b)->status, 0); /* not answered by the stale commit */
    fake_commit(1, STORE_OK);
    cl_poll(c2);
    ck_assert_int_eq(cl_stream(c2, b)->grpc_status, 0);
    cl_close(c2);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_server_freed_before_commit) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    cl_export(cl, msg, len, NULL);
    cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 2);
    fake_commit(0, STORE_OK); /* queued, never polled */
    /* cl_free frees the server, then completes the second commit. */
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_deadline) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    /* Already passed on arrival: answered at once, never appended. */
    const char *const zero[] = {"grpc-timeout", "0n", NULL};
    int32_t a = cl_export(cl, msg, len, zero);
    ck_assert_int_eq(cl_stream(cl, a)->grpc_status, OTLP_GRPC_DEADLINE_EXCEEDED);
    ck_assert_int_eq(fake.n, 0);
    /* Passes while the commit is pending. */
    const char *const soon[] = {"grpc-timeout", "50m", NULL};
    int32_t b = cl_export(cl, msg, len, soon);
    ck_assert_int_eq(fake.n, 1);
    tstream *t = cl_stream(cl, b);
    for (int i = 0; i < 300 && t->grpc_status < 0; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        cl_poll(cl);
    }
    ck_assert_int_eq(t->grpc_status, OTLP_GRPC_DEADLINE_EXCEEDED);
    fake_commit(0, STORE_OK); /* too late: dropped */
    cl_poll(cl);
    ck_assert_int_eq(t->headers_frames, 1);
    /* Passes while the request is still being sent: the upload is cut off. */
    const char *const soon2[] = {"grpc-timeout", "30000u", NULL};
    int32_t c = cl_open(cl, TRACES, soon2);
    cl_send(cl, c, msg, 7, 0);
    cl_pump(cl);
    t = cl_stream(cl, c);
    for (int i = 0; i < 300 && !t->closed; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        cl_poll(cl);
    }
    ck_assert_int_eq(t->grpc_status, OTLP_GRPC_DEADLINE_EXCEEDED);
    ck_assert(t->closed); /* RST_STREAM(NO_ERROR): the client need not send the rest */
    ck_assert_uint_eq(t->close_error, NGHTTP2_NO_ERROR);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_oversize_refused_from_prefix) {
    client *cl = cl_new(cfg_default());
    static const uint8_t prefix[] = {0, 0, 1, 0, 1}; /* 65,537 > 65,536 */
    int32_t id = cl_open(cl, TRACES, NULL);
    cl_send(cl, id, prefix, sizeof(prefix), 0);
    cl_pump(cl);
    tstream *t = cl_stream(cl, id);
    ck_assert_int_eq(t->grpc_status, OTLP_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(t->grpc_message, "message of 65537 bytes exceeds the limit of 65536 bytes");
    ck_assert(t->closed);
    ck_assert_uint_eq(t->close_error, NGHTTP2_NO_ERROR);
    ck_assert_int_eq(fake.n, 0);
    /* At the limit is accepted for decoding (and fails there: zeros). */
    static uint8_t at[5 + 65536] = {0, 0, 1, 0, 0};
    id = cl_export(cl, at, sizeof(at), NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INVALID_ARGUMENT);
    ck_assert(cl->alive);
    cl_free(cl);
}
END_TEST

START_TEST(test_error_statuses) {
    grpc_config cfg = *cfg_default();
    client *cl = cl_new(&cfg);
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t id = cl_open(cl, "/a%b~/Export", NULL);
    cl_send(cl, id, msg, len, 1);
    cl_pump(cl);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_UNIMPLEMENTED);
    ck_assert_str_eq(cl_stream(cl, id)->grpc_message, "unknown method /a%25b~/Export");

    static const uint8_t garbage[] = {0, 0, 0, 0, 3, 0xff, 0xff, 0xff};
    id = cl_export(cl, garbage, sizeof(garbage), NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INVALID_ARGUMENT);

    const char *const json[] = {"content-type", "application/json", NULL};
    id = cl_export(cl, msg, len, json);
    ck_assert_int_eq(cl_stream(cl, id)->status, 415);
    const char *const get[] = {":method", "PUT", NULL};
    id = cl_export(cl, msg, len, get);
    ck_assert_int_eq(cl_stream(cl, id)->status, 405);

    const char *const snappy[] = {"grpc-encoding", "snappy", NULL};
    static uint8_t comp[5 + 3] = {1, 0, 0, 0, 3, 'a', 'b', 'c'};
    id = cl_export(cl, comp, sizeof(comp), snappy);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_UNIMPLEMENTED);
    ck_assert_str_eq(cl_stream(cl, id)->accept_encoding, "identity,gzip");

    const char *const badto[] = {"grpc-timeout", "12", NULL};
    id = cl_export(cl, msg, len, badto);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);

    /* Two messages, none, truncated. */
    uint8_t *two = malloc(2 * len);
    memcpy(two, msg, len);
    memcpy(two + len, msg, len);
    id = cl_export(cl, two, 2 * len, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);
    id = cl_export(cl, msg, 0, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);
    id = cl_export(cl, msg, len - 1, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);
    ck_assert_int_eq(fake.n, 0);

    /* The connection survived all of it. */
    id = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 1);
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, 0);
    free(two);
    free(msg);
    cl_free(cl);
}
END_TEST

/* The newest record of l, which must exist. */
static ingest_rec newest(ingest_log *l) {
    ingest_rec r;
    ck_assert_int_eq(ingest_log_get(l, ingest_log_head(l), &r), 0);
    return r;
}

START_TEST(test_ingest_records) {
    ingest_log *l = ingest_log_new(16, NULL);
    grpc_config cfg = *cfg_default();
    cfg.ingest = l;
    client *cl = cl_new(&cfg);
    size_t len;
    uint8_t *msg = trace_msg(2, 1, &len);
    const char *const ua[] = {"user-agent", "unit-exporter/2.0 grpc-c/1", NULL};
    int32_t id = cl_export(cl, msg, len, ua);
    ck_assert_uint_eq(ingest_log_head(l), 0); /* answered at the commit, recorded then */
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, 0);
    ingest_rec x = newest(l);
    ck_assert_uint_eq(x.transport, INGEST_GRPC);
    ck_assert_str_eq(x.path, TRACES);
    ck_assert_int_eq(x.signal, MODEL_SIGNAL_TRACES);
    ck_assert_str_eq(x.content_type, "application/grpc");
    ck_assert_uint_eq(x.encoding, INGEST_ENC_PROTOBUF);
    ck_assert_uint_eq(x.compression, INGEST_COMP_NONE);
    ck_assert_uint_eq(x.wire_bytes, len - 5); /* the message, without its prefix */
    ck_assert_uint_eq(x.decoded_bytes, len - 5);
    ck_assert_uint_eq(x.items, 3);
    ck_assert_uint_eq(x.rejected, 1);
    ck_assert_uint_eq(x.outcome, INGEST_OUTCOME_PARTIAL);
    ck_assert_int_eq(x.grpc_code, 0);
    ck_assert_uint_eq(x.http_status, 200);
    ck_assert_str_eq(x.user_agent, "unit-exporter/2.0 grpc-c/1");
    ck_assert_str_eq(x.client, ""); /* a detached connection has no peer */
    ck_assert_uint_gt(strlen(x.message), 0);

    /* refused from the prefix: the declared size */
    static const uint8_t prefix[] = {0, 0, 1, 0, 1}; /* 65,537 > 65,536 */
    id = cl_open(cl, TRACES, NULL);
    cl_send(cl, id, prefix, sizeof(prefix), 0);
    cl_pump(cl);
    x = newest(l);
    ck_assert_int_eq(x.grpc_code, OTLP_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_uint_eq(x.reason, INGEST_REASON_BODY_TOO_LARGE);
    ck_assert_uint_eq(x.outcome, INGEST_OUTCOME_ERROR);
    ck_assert_uint_eq(x.wire_bytes, 65537);

    /* an HTTP-level refusal, an undecodable message, an unknown method */
    const char *const json[] = {"content-type", "application/json", NULL};
    cl_export(cl, msg, len, json);
    x = newest(l);
    ck_assert_uint_eq(x.http_status, 415);
    ck_assert_uint_eq(x.reason, INGEST_REASON_CONTENT_TYPE);
    ck_assert_uint_eq(x.encoding, INGEST_ENC_UNKNOWN);
    static const uint8_t garbage[] = {0, 0, 0, 0, 3, 0xff, 0xff, 0xff};
    cl_export(cl, garbage, sizeof(garbage), NULL);
    ck_assert_uint_eq(newest(l).reason, INGEST_REASON_MALFORMED);
    ck_assert_int_eq(newest(l).grpc_code, OTLP_GRPC_INVALID_ARGUMENT);
    id = cl_open(cl, "/x.Y/Export", NULL);
    cl_send(cl, id, msg, len, 1);
    cl_pump(cl);
    x = newest(l);
    ck_assert_uint_eq(x.reason, INGEST_REASON_WRONG_PATH);
    ck_assert_int_eq(x.signal, -1);
    ck_assert_str_eq(x.path, "/x.Y/Export");
    ck_assert_uint_eq(ingest_log_head(l), 5);
    free(msg);
    cl_free(cl);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_api_keys) {
    grpc_config cfg = *cfg_default();
    cfg.api_keys[0] = "first-key";
    cfg.api_keys[1] = "second";
    client *cl = cl_new(&cfg);
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t id = cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_UNAUTHENTICATED);
    const char *const wrong[] = {"x-otlp-api-key", "first-kez", NULL};
    ck_assert_int_eq(cl_stream(cl, cl_export(cl, msg, len, wrong))->grpc_status, OTLP_GRPC_UNAUTHENTICATED);
    const char *const prefix[] = {"x-otlp-api-key", "first", NULL};
    ck_assert_int_eq(cl_stream(cl, cl_export(cl, msg, len, prefix))->grpc_status, OTLP_GRPC_UNAUTHENTICATED);
    const char *const empty[] = {"authorization", "Bearer", NULL};
    ck_assert_int_eq(cl_stream(cl, cl_export(cl, msg, len, empty))->grpc_status, OTLP_GRPC_UNAUTHENTICATED);
    ck_assert_int_eq(fake.n, 0);
    const char *const k1[] = {"x-otlp-api-key", "first-key", NULL};
    cl_export(cl, msg, len, k1);
    const char *const k2[] = {"authorization", "bearer second", NULL};
    cl_export(cl, msg, len, k2);
    ck_assert_int_eq(fake.n, 2);
    free(msg);
    cl_free(cl);
}
END_TEST

/* The shared credential table (tests/unit/server/net/auth_cases.h): gRPC
 * accepts exactly the values OTLP/HTTP and the UI accept. */
START_TEST(test_auth_cases) {
    grpc_config cfg = *cfg_default();
    cfg.api_keys[0] = AUTH_CASE_KEY;
    client *cl = cl_new(&cfg);
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    for (size_t i = 0; i < AUTH_N_CASES; i++) {
        const auth_case *ac = &auth_cases[i];
        const char *extra[5] = {NULL};
        int n = 0;
        if (ac->authorization) {
            extra[n++] = "authorization";
            extra[n++] = ac->authorization;
        }
        if (ac->api_key) {
            extra[n++] = "x-otlp-api-key";
            extra[n++] = ac->api_key;
        }
        int before = fake.n;
        tstream *t = cl_stream(cl, cl_export(cl, msg, len, extra));
        if (ac->padded) {
            /* Not a valid HTTP/2 field value: nghttp2 resets the stream. */
            ck_assert_msg(t->closed && t->close_error == NGHTTP2_PROTOCOL_ERROR, "case %zu", i);
            ck_assert_msg(fake.n == before, "case %zu", i);
        } else if (ac->ok) {
            ck_assert_msg(fake.n == before + 1, "case %zu: not accepted", i);
            ck_assert_msg(t->grpc_status == -1, "case %zu", i);
        } else {
            ck_assert_msg(fake.n == before, "case %zu: accepted", i);
            ck_assert_msg(t->grpc_status == OTLP_GRPC_UNAUTHENTICATED, "case %zu: status %d", i,
                          t->grpc_status);
        }
    }
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_many_streams) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(2, 0, &len);
    int32_t ids[200];
    for (int i = 0; i < 200; i++) {
        ids[i] = cl_open(cl, TRACES, NULL);
        cl_send(cl, ids[i], msg, len, 1);
    }
    cl_pump(cl);
    ck_assert_int_eq(fake.n, 200);
    for (int i = 199; i >= 0; i--) /* out of order */
        fake_commit(i, STORE_OK);
    cl_poll(cl);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(cl_stream(cl, ids[i])->grpc_status, 0);
    ck_assert_uint_eq(fake.items, 400);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_http1_and_garbage) {
    client *cl = cl_new(cfg_default());
    grpc_server *g = cl->g;
    buf sink;
    buf_init(&sink, 4096);
    grpc_conn *c = grpc_conn_new_detached(g, &sink);
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(grpc_conn_feed_detached(c, (const uint8_t *)req, sizeof(req) - 1), 0);
    ck_assert_uint_gt(sink.len, 0);
    ck_assert_int_eq(strncmp(sink.ptr, "HTTP/1.1 400 ", 13), 0);
    buf_reset(&sink);
    c = grpc_conn_new_detached(g, &sink);
    static const uint8_t junk[] = {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00};
    ck_assert_int_eq(grpc_conn_feed_detached(c, junk, sizeof(junk)), 0);
    ck_assert_uint_eq(sink.len, 0); /* not even our SETTINGS */
    buf_free(&sink);
    /* The first connection is untouched. */
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    cl_export(cl, msg, len, NULL);
    ck_assert_int_eq(fake.n, 1);
    free(msg);
    cl_free(cl);
}
END_TEST

START_TEST(test_idle_timeout) {
    grpc_config cfg = *cfg_default();
    cfg.idle_timeout_seconds = 1;
    client *cl = cl_new(&cfg);
    /* A connection that never sends the preface is dropped as well. */
    buf sink;
    buf_init(&sink, 4096);
    grpc_conn *silent = grpc_conn_new_detached(cl->g, &sink);
    /* One stream comes and goes first: idleness counts from its end. */
    size_t len;
    uint8_t *msg = trace_msg(1, 0, &len);
    int32_t id = cl_export(cl, msg, len, NULL);
    fake_commit(0, STORE_OK);
    cl_poll(cl);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* PINGs keep the TCP connection busy but do not make it less idle. */
    for (int i = 0; i < 400 && (cl->alive || grpc_conn_alive_detached(cl->g, silent)); i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        if (cl->alive)
            nghttp2_submit_ping(cl->s, NGHTTP2_FLAG_NONE, NULL);
        cl_poll(cl);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(waited >= 0.9, "closed after %.3f s, before the idle timeout", waited);
    free(msg);
    ck_assert(!cl->alive);
    ck_assert(!grpc_conn_alive_detached(cl->g, silent));
    ck_assert_int_eq(cl->goaway, 1);
    ck_assert_uint_eq(cl->goaway_error, NGHTTP2_NO_ERROR);
    ck_assert_uint_eq(sink.len, 0);
    buf_free(&sink);
    cl_free(cl);
}
END_TEST

START_TEST(test_max_connections) {
    grpc_config cfg = *cfg_default();
    cfg.max_connections = 2;
    client *cl = cl_new(&cfg);
    client *c2 = cl_connect(cl->g);
    ck_assert_ptr_null(grpc_conn_new_detached(cl->g, NULL));
    cl_close(c2); /* the client side only; the server conn stays */
    cl_free(cl);
}
END_TEST

START_TEST(test_gzip) {
    client *cl = cl_new(cfg_default());
    size_t len;
    uint8_t *msg = trace_msg(4, 0, &len);
    buf z;
    buf_init(&z, 1 << 20);
    static const uint8_t zero5[5] = {1, 0, 0, 0, 0};
    ck_assert_int_eq(buf_append(&z, zero5, 5), 0);
    ck_assert_int_eq(gz_deflate(msg + 5, len - 5, 6, &z), 0);
    size_t zl = z.len - 5;
    uint8_t *p = (uint8_t *)z.ptr;
    p[1] = (uint8_t)(zl >> 24);
    p[2] = (uint8_t)(zl >> 16);
    p[3] = (uint8_t)(zl >> 8);
    p[4] = (uint8_t)zl;
    const char *const gz[] = {"grpc-encoding", "gzip", NULL};
    cl_export(cl, p, z.len, gz);
    ck_assert_int_eq(fake.n, 1);
    ck_assert_uint_eq(model_batch_items(fake.p[0].b), 4);
    /* A bomb: 1 MiB of zeros, far over the 64 KiB limit once inflated. */
    uint8_t *zeros = calloc(1, 1 << 20);
    buf_reset(&z);
    ck_assert_int_eq(buf_append(&z, zero5, 5), 0);
    ck_assert_int_eq(gz_deflate(zeros, 1 << 20, 9, &z), 0);
    zl = z.len - 5;
    p = (uint8_t *)z.ptr;
    p[1] = (uint8_t)(zl >> 24);
    p[2] = (uint8_t)(zl >> 16);
    p[3] = (uint8_t)(zl >> 8);
    p[4] = (uint8_t)zl;
    int32_t id = cl_export(cl, p, z.len, gz);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_RESOURCE_EXHAUSTED);
    /* Flag set without grpc-encoding. */
    id = cl_export(cl, p, z.len, NULL);
    ck_assert_int_eq(cl_stream(cl, id)->grpc_status, OTLP_GRPC_INTERNAL);
    free(zeros);
    buf_free(&z);
    free(msg);
    cl_free(cl);
}
END_TEST


/* ---- with sockets and the loop thread ------------------------------------ */

static const uint8_t client_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                        "\x00\x00\x00\x04\x00\x00\x00\x00\x00";

static int sock_connect(int port) {
    int fd = loopback_connect(port, 0);
    ck_assert_int_eq(write(fd, client_preface, sizeof(client_preface) - 1),
                     (ssize_t)sizeof(client_preface) - 1);
    return fd;
}

/* Reads until `want` bytes, EOF or timeout. Returns bytes read; *eof set
 * when the peer closed (or reset) the connection. */
static size_t sock_read(int fd, uint8_t *out, size_t cap, size_t want, int timeout_ms, int *eof) {
    size_t got = 0;
    *eof = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < want && got < cap) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = read(fd, out + got, cap - got);
        if (n <= 0) {
            *eof = 1;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

START_TEST(test_socket_max_connections) {
    grpc_config cfg = *cfg_default();
    cfg.max_connections = 2;
    grpc_server *g = NULL;
    char err[256];
    ck_assert_int_eq(grpc_server_start(&cfg, NULL, &g, err, sizeof(err)), 0);
    int port = grpc_server_port(g);
    ck_assert_int_gt(port, 0);
    int a = sock_connect(port), b = sock_connect(port);
    uint8_t in[4096];
    int eof;
    /* Each gets the server's SETTINGS (frame type 4 on stream 0) first. */
    ck_assert_uint_ge(sock_read(a, in, sizeof(in), 9, 5000, &eof), 9);
    ck_assert_int_eq(in[3], 4);
    ck_assert_uint_ge(sock_read(b, in, sizeof(in), 9, 5000, &eof), 9);
    ck_assert_int_eq(in[3], 4);
    /* The third is over the cap: closed without a word. */
    int c = sock_connect(port);
    ck_assert_uint_eq(sock_read(c, in, sizeof(in), 1, 5000, &eof), 0);
    ck_assert(eof);
    close(c);
    /* Once one leaves, a newcomer is served (the server sees the close
     * asynchronously, so a few attempts may still be refused). */
    close(a);
    int served = 0;
    for (int i = 0; i < 100 && !served; i++) {
        int d = sock_connect(port);
        served = sock_read(d, in, sizeof(in), 9, 2000, &eof) >= 9 && in[3] == 4;
        close(d);
    }
    ck_assert(served);
    close(b);
    grpc_server_stop(g);
}
END_TEST

START_TEST(test_socket_stop_goaway) {
    grpc_server *g = NULL;
    char err[256];
    ck_assert_int_eq(grpc_server_start(cfg_default(), NULL, &g, err, sizeof(err)), 0);
    int fd = sock_connect(grpc_server_port(g));
    uint8_t in[4096];
    int eof;
    size_t n = sock_read(fd, in, sizeof(in), 9, 5000, &eof);
    ck_assert_uint_ge(n, 9);
    /* This client never answers the PING, so the final GOAWAY follows
     * after the fallback delay; stop returns once the connection is done. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    grpc_server_stop(g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
    n = sock_read(fd, in, sizeof(in), sizeof(in), 5000, &eof);
    ck_assert(eof);
    /* Walk the frames: a shutdown notice (last stream 2^31-1), a PING, then
     * the final GOAWAY (last stream 0), both NO_ERROR. */
    int goaways = 0, pings = 0;
    uint32_t last_ids[2] = {0, 0};
    for (size_t off = 0; off + 9 <= n;) {
        size_t len = (size_t)in[off] << 16 | (size_t)in[off + 1] << 8 | in[off + 2];
        uint8_t type = in[off + 3];
        if (off + 9 + len > n)
            break;
        const uint8_t *pl = in + off + 9;
        if (type == 7 && len >= 8) {
            ck_assert_int_lt(goaways, 2);
            last_ids[goaways++] = ((uint32_t)pl[0] << 24 | (uint32_t)pl[1] << 16 |
                                   (uint32_t)pl[2] << 8 | pl[3]) & 0x7fffffffu;
            ck_assert_int_eq(pl[4] | pl[5] | pl[6] | pl[7], 0);
        } else if (type == 6) {
            pings++;
        }
        off += 9 + len;
    }
    ck_assert_int_eq(goaways, 2);
    ck_assert_uint_eq(last_ids[0], 0x7fffffffu);
    ck_assert_uint_eq(last_ids[1], 0);
    ck_assert_int_ge(pings, 1);
    close(fd);
}
END_TEST

START_TEST(test_start_bad_address) {
    grpc_config cfg = *cfg_default();
    cfg.addr = "not-an-address";
    grpc_server *g = (grpc_server *)&cfg;
    char err[256] = "";
    ck_assert_int_ne(grpc_server_start(&cfg, NULL, &g, err, sizeof(err)), 0);
    ck_assert_ptr_null(g);
    ck_assert_uint_gt(strlen(err), 0);
    grpc_server_stop(NULL);
}
END_TEST

/* ---- the first bytes: HTTP/2 stays, HTTP/1.x is handed over, TLS refused -- */

/* What the http1 function was given (the loop thread writes, the test
 * reads, under the mutex). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    int refuse; /* answer -1 (and close fd) */
} handed = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1, {0}, 0, 0};

static int take_http1(void *ctx, int fd, const struct sockaddr *peer, socklen_t peerlen) {
    ck_assert_ptr_eq(ctx, &handed);
    pthread_mutex_lock(&handed.mu);
    handed.calls++;
    int refuse = handed.refuse;
    if (!refuse) {
        handed.fd = fd;
        memcpy(&handed.peer, peer, peerlen);
        handed.peerlen = peerlen;
    }
    pthread_cond_broadcast(&handed.cv);
    pthread_mutex_unlock(&handed.mu);
    if (refuse)
        close(fd);
    return refuse ? -1 : 0;
}

static void handed_reset(int refuse) {
    pthread_mutex_lock(&handed.mu);
    handed.calls = 0;
    handed.fd = -1;
    handed.refuse = refuse;
    pthread_mutex_unlock(&handed.mu);
}

/* Waits (at most 5 s) for the http1 function's call; returns the calls. */
static int handed_wait(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&handed.mu);
    while (handed.calls == 0 &&
           pthread_cond_timedwait(&handed.cv, &handed.mu, &ts) == 0)
        ;
    int n = handed.calls;
    pthread_mutex_unlock(&handed.mu);
    return n;
}

static int handed_calls(void) {
    pthread_mutex_lock(&handed.mu);
    int n = handed.calls;
    pthread_mutex_unlock(&handed.mu);
    return n;
}

/* The socket the http1 function was given. */
static int handed_fd(void) {
    pthread_mutex_lock(&handed.mu);
    int fd = handed.fd;
    pthread_mutex_unlock(&handed.mu);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static grpc_server *sniff_server(unsigned request_timeout, int with_http1) {
    grpc_config cfg = *cfg_default();
    cfg.request_timeout_seconds = request_timeout;
    grpc_server *g = NULL;
    char err[256];
    ck_assert_int_eq(grpc_server_start(&cfg, NULL, &g, err, sizeof(err)), 0);
    if (with_http1)
        grpc_server_set_http1(g, take_http1, &handed);
    return g;
}

/* Polls (at most 5 s) until the server holds `open` connections. */
static void wait_open(grpc_server *g, uint64_t open) {
    grpc_stats st;
    for (int i = 0; i < 500; i++) {
        grpc_server_stats(g, &st);
        if (st.connections_open == open)
            return;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("connections_open %llu, want %llu", (unsigned long long)st.connections_open,
                 (unsigned long long)open);
}

static double elapsed_s(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(test_sniff_http1_handed_over_unread) {
    handed_reset(0);
    grpc_server *g = sniff_server(0, 1);
    int cl = loopback_connect(grpc_server_port(g), 5000);
    static const char req[] = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    ck_assert_int_eq(write(cl, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    ck_assert_int_eq(handed_wait(), 1);
    /* The socket arrives with every byte still to read. */
    int fd = handed_fd();
    pthread_mutex_lock(&handed.mu);
    ck_assert_int_eq(handed.peer.ss_family, AF_INET);
    const struct sockaddr_in *peer = (const struct sockaddr_in *)&handed.peer;
    ck_assert_uint_eq(ntohl(peer->sin_addr.s_addr), INADDR_LOOPBACK);
    pthread_mutex_unlock(&handed.mu);
    uint8_t in[256];
    int eof;
    size_t n = sock_read(fd, in, sizeof(in), sizeof(req) - 1, 5000, &eof);
    ck_assert_uint_eq(n, sizeof(req) - 1);
    ck_assert_int_eq(memcmp(in, req, n), 0);
    /* The connection is the new owner's: it answers, the client reads. */
    ck_assert_int_eq(write(fd, "HTTP/1.1 200 OK\r\n", 17), 17);
    n = sock_read(cl, in, sizeof(in), 17, 5000, &eof);
    ck_assert_uint_eq(n, 17);
    ck_assert_int_eq(memcmp(in, "HTTP/1.1 200 OK\r\n", 17), 0);
    /* It left the gRPC server's connection count at once. */
    wait_open(g, 0);
    grpc_stats st;
    grpc_server_stats(g, &st);
    ck_assert_uint_eq(st.http1_handoffs, 1);
    close(fd);
    close(cl);
    grpc_server_stop(g);
}
END_TEST

START_TEST(test_sniff_split_request_line_and_preface) {
    handed_reset(0);
    grpc_server *g = sniff_server(0, 1);
    int port = grpc_server_port(g);
    /* "PO" could still be a preface or a method: nothing happens yet. */
    int cl = loopback_connect(port, 5000);
    ck_assert_int_eq(write(cl, "PO", 2), 2);
    struct timespec ts = {0, 200 * 1000000};
    nanosleep(&ts, NULL); /* a bounded wait for a non-event */
    ck_assert_int_eq(handed_calls(), 0);
    ck_assert_int_eq(write(cl, "ST / HTTP/1.1\r\n\r\n", 17), 17);
    ck_assert_int_eq(handed_wait(), 1);
    int fd = handed_fd();
    uint8_t in[4096];
    int eof;
    ck_assert_uint_eq(sock_read(fd, in, sizeof(in), 19, 5000, &eof), 19);
    ck_assert_int_eq(memcmp(in, "POST / HTTP/1.1\r\n\r\n", 19), 0);
    close(fd);
    close(cl);
    /* The preface in pieces: still HTTP/2 (our SETTINGS come back). */
    cl = loopback_connect(port, 5000);
    ck_assert_int_eq(write(cl, client_preface, 3), 3);
    nanosleep(&ts, NULL);
    ck_assert_int_eq(write(cl, client_preface + 3, sizeof(client_preface) - 4),
                     (ssize_t)sizeof(client_preface) - 4);
    ck_assert_uint_ge(sock_read(cl, in, sizeof(in), 9, 5000, &eof), 9);
    ck_assert_int_eq(in[3], 4);
    ck_assert_int_eq(handed_calls(), 1);
    close(cl);
    grpc_server_stop(g);
}
END_TEST

START_TEST(test_sniff_http1_without_taker) {
    handed_reset(0);
    grpc_server *g = sniff_server(0, 0);
    int port = grpc_server_port(g);
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    uint8_t in[1024];
    int eof;
    for (int round = 0; round < 2; round++) {
        int cl = loopback_connect(port, 5000);
        ck_assert_int_eq(write(cl, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
        size_t n = sock_read(cl, in, sizeof(in) - 1, sizeof(in) - 1, 5000, &eof);
        ck_assert(eof);
        in[n] = '\0';
        ck_assert_msg(strncmp((char *)in, "HTTP/1.1 400 ", 13) == 0, "%s", in);
        close(cl);
        /* Set, then cleared: as if never set. */
        grpc_server_set_http1(g, take_http1, &handed);
        grpc_server_set_http1(g, NULL, &handed);
    }
    ck_assert_int_eq(handed_calls(), 0);
    /* A taker that refuses: the client sees the close. */
    handed_reset(1);
    grpc_server_set_http1(g, take_http1, &handed);
    int cl = loopback_connect(port, 5000);
    ck_assert_int_eq(write(cl, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    ck_assert_uint_eq(sock_read(cl, in, sizeof(in), 1, 5000, &eof), 0);
    ck_assert(eof);
    ck_assert_int_eq(handed_calls(), 1);
    grpc_stats st;
    grpc_server_stats(g, &st);
    ck_assert_uint_eq(st.http1_handoffs, 0);
    close(cl);
    wait_open(g, 0);
    grpc_server_stop(g);
}
END_TEST

START_TEST(test_sniff_tls_alert) {
    handed_reset(0);
    grpc_server *g = sniff_server(0, 1);
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03,
                                    0x03, 1,    2,    3,    4,    5,    6,    7,    8,    9};
    int cl = loopback_connect(grpc_server_port(g), 5000);
    ck_assert_int_eq(write(cl, hello, sizeof(hello)), (ssize_t)sizeof(hello));
    uint8_t in[64];
    int eof;
    size_t n = sock_read(cl, in, sizeof(in), sizeof(in), 5000, &eof);
    ck_assert(eof);
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    ck_assert_uint_eq(n, sizeof(alert));
    ck_assert_int_eq(memcmp(in, alert, n), 0);
    ck_assert_int_eq(handed_calls(), 0);
    close(cl);
    grpc_server_stop(g);
}
END_TEST

START_TEST(test_sniff_stall_and_fin) {
    handed_reset(0);
    grpc_server *g = sniff_server(1, 1); /* the preface timeout becomes 1 s */
    int port = grpc_server_port(g);
    uint8_t in[64];
    int eof;
    struct timespec t0;
    /* One byte and silence: closed at the preface timeout, not before. */
    int cl = loopback_connect(port, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(write(cl, "P", 1), 1);
    ck_assert_uint_eq(sock_read(cl, in, sizeof(in), 1, 8000, &eof), 0);
    ck_assert(eof);
    double waited = elapsed_s(&t0);
    ck_assert_msg(waited >= 0.9 && waited < 6, "closed after %.3f s", waited);
    close(cl);
    grpc_stats st;
    grpc_server_stats(g, &st);
    ck_assert_uint_eq(st.idle_timeouts, 1);
    /* One byte, then the client's FIN: the rest will never come, closed at once. */
    cl = loopback_connect(port, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(write(cl, "P", 1), 1);
    shutdown(cl, SHUT_WR);
    ck_assert_uint_eq(sock_read(cl, in, sizeof(in), 1, 8000, &eof), 0);
    ck_assert(eof);
    waited = elapsed_s(&t0);
    ck_assert_msg(waited < 0.9, "closed after %.3f s", waited);
    close(cl);
    /* Garbage: closed without a word. */
    cl = loopback_connect(port, 0);
    ck_assert_int_eq(write(cl, "\x01\x02garbage\r\n", 11), 11);
    ck_assert_uint_eq(sock_read(cl, in, sizeof(in), 1, 8000, &eof), 0);
    ck_assert(eof);
    close(cl);
    ck_assert_int_eq(handed_calls(), 0);
    wait_open(g, 0);
    grpc_server_stop(g);
}
END_TEST

static Suite *grpc_suite(void) {
    Suite *s = suite_create("grpc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_settings_and_windows);
    tcase_add_test(tc, test_answer_waits_for_commit);
    tcase_add_test(tc, test_partial_success);
    tcase_add_test(tc, test_commit_failure_unavailable);
    tcase_add_test(tc, test_append_refused_unavailable);
    tcase_add_test(tc, test_reset_while_waiting);
    tcase_add_test(tc, test_completion_for_closed_connection);
    tcase_add_test(tc, test_server_freed_before_commit);
    tcase_add_test(tc, test_deadline);
    tcase_add_test(tc, test_oversize_refused_from_prefix);
    tcase_add_test(tc, test_error_statuses);
    tcase_add_test(tc, test_api_keys);
    tcase_add_test(tc, test_auth_cases);
    tcase_add_test(tc, test_many_streams);
    tcase_add_test(tc, test_http1_and_garbage);
    tcase_add_test(tc, test_idle_timeout);
    tcase_add_test(tc, test_max_connections);
    tcase_add_test(tc, test_gzip);
    tcase_add_test(tc, test_ingest_records);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("sockets");
    tcase_set_timeout(ts, 60);
    tcase_add_test(ts, test_socket_max_connections);
    tcase_add_test(ts, test_socket_stop_goaway);
    tcase_add_test(ts, test_start_bad_address);
    tcase_add_test(ts, test_sniff_http1_handed_over_unread);
    tcase_add_test(ts, test_sniff_split_request_line_and_preface);
    tcase_add_test(ts, test_sniff_http1_without_taker);
    tcase_add_test(ts, test_sniff_tls_alert);
    tcase_add_test(ts, test_sniff_stall_and_fin);
    suite_add_tcase(s, ts);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(grpc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
