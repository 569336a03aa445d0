/* otlp_http.c - the OTLP/HTTP receiver on libmicrohttpd, see otlp_http.h.
 *
 * DESIGN
 * A libmicrohttpd daemon with a pool of OTLP_HTTP_THREADS poll() threads
 * (not epoll: with MHD_USE_EPOLL, libmicrohttpd 0.9.75 missed the end of
 * connections whose client sent headers, part of a body and FIN in one
 * burst, keeping them until the timeout; poll is level-triggered).
 * Each request gets an otlp_http_req context on the first call of the
 * access handler (headers only). Checks that need only the headers (path,
 * method, API key, media type, coding, Content-Length) run there. The body
 * then grows in a capped buf; a request refused after its headers or in the
 * middle of its body switches to "rejecting": the rest of its body is read
 * and thrown away (at most max_body more bytes, then the connection is
 * dropped) so the client reads a clean answer on a connection that stays
 * usable. A Content-Length over the cap is answered at once without reading
 * the body (libmicrohttpd then closes the connection).
 *
 * When the body is complete the handler gunzips and decodes it on this
 * thread, suspends the connection and only then calls store_append(): the
 * writer's callback may run before the handler returns, and resuming a
 * connection that is not yet suspended is undefined. The callback stores the
 * outcome in the context and resumes the connection; the next handler call
 * queues the answer.
 *
 * Lifetime: libmicrohttpd neither times out nor closes a suspended
 * connection, and the store calls every callback exactly once, so a context
 * whose batch is pending stays alive until its callback has resumed it; the
 * context is freed by the request-completed notification. The callback does
 * not touch the context after resuming. otlp_http_stop() stops accepting,
 * gives requests in flight a grace period, then refuses new appends and
 * waits for every pending callback before stopping the daemon (stopping it
 * with a suspended connection is not allowed).
 *
 * Memory: each body is capped at max_body (before and after gunzip), and
 * all bodies held at once share a budget (OTLP_HTTP_BUDGET_FACTOR x
 * max_body); past it requests get 503 + Retry-After, like a full store.
 */
#include "otlp_http.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clk.h"
#include "util/gz.h"
#include "server/net/http_util.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "server/decode/otlp.h"
#include "server/net/ingest_log.h"
#include "server/net/recv_stats.h"

#define OTLP_HTTP_DEFAULT_MAX_BODY ((size_t)16 << 20)
#define OTLP_HTTP_DEFAULT_CONNECTIONS 1024u
#define OTLP_HTTP_DEFAULT_TIMEOUT 30u
#define OTLP_HTTP_THREADS 2u
#define OTLP_HTTP_POOL_BYTES ((size_t)128 << 10) /* per-connection MHD memory, at least */
#define OTLP_HTTP_DEFAULT_REQUEST_TIMEOUT 30u
#define OTLP_HTTP_DEFAULT_MAX_HEADER ((size_t)64 << 10)
#define OTLP_HTTP_BACKLOG 512
#define OTLP_HTTP_BUDGET_FACTOR 4
#define OTLP_HTTP_BUDGET_MIN ((size_t)64 << 20)
#define OTLP_HTTP_DECODE_FACTOR 4 /* decoded batch may use this x max_body */
#define OTLP_HTTP_GRACE_MS 5000   /* time requests in flight get at stop */
#define OTLP_HTTP_MSG_LEN 320
#define OTLP_HTTP_ANSWER_MAX ((size_t)1 << 20)
#define OTLP_HTTP_CORS_MAX_AGE "7200"

struct otlp_http {
    struct MHD_Daemon *daemon;
    int port;
    store *st;
    size_t max_body;
    size_t body_budget;
    size_t mem_limit;
    char *cors_origins; /* owned copy; NULL = CORS off */
    char *keys[2];      /* owned copies; NULL = unused */
    http_guard *guard;  /* slow clients, header size, counters */
    size_t max_header;
    atomic_size_t body_bytes; /* bytes held by request bodies now */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when in_flight or pending drops */
    unsigned in_flight; /* requests with a context */
    unsigned pending;   /* batches appended whose callback has not run */
    int stopping;       /* no more appends */
    recv_counters rc;   /* for /metrics */
    ingest_log *ingest; /* borrowed; NULL = the inspector is off */
};

typedef enum otlp_http_phase {
    OTLP_HTTP_RECEIVING = 0, /* collecting the body */
    OTLP_HTTP_REJECTING,     /* answer decided; discarding the rest of the body */
    OTLP_HTTP_OPTIONS,       /* an OPTIONS request, answered once it is read */
    OTLP_HTTP_WAITING,       /* suspended until the store's callback */
} otlp_http_phase;

typedef struct otlp_http_req {
    otlp_http *h;
    struct MHD_Connection *conn;
    model_signal sig;
    int pb;   /* protobuf request (answer in protobuf); else JSON */
    int gzip; /* Content-Encoding: gzip */
    otlp_http_phase phase;
    buf body;
    size_t charged; /* bytes of body counted in h->body_bytes */
    size_t drained; /* bytes thrown away while rejecting */

    /* The answer of a rejected request. */
    unsigned status;
    int32_t grpc_code;
    char message[OTLP_HTTP_MSG_LEN];
    ingest_reason why;

    /* The ingest inspector's record (when h->ingest and not an OPTIONS). */
    int inspect;
    ingest_rec rec;

    /* Written by the store's callback before it sets `done`. */
    atomic_int done;
    int store_status;
    int64_t rejected;
    char reject_message[OTLP_HTTP_MSG_LEN];
} otlp_http_req;

/* ---- small helpers ------------------------------------------------------ */

static const char *otlp_http_header(struct MHD_Connection *conn, const char *name) {
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static int otlp_http_route(const char *url, model_signal *sig) {
    if (url == NULL)
        return 0;
    if (strcmp(url, "/v1/traces") == 0)
        *sig = MODEL_SIGNAL_TRACES;
    else if (strcmp(url, "/v1/logs") == 0)
        *sig = MODEL_SIGNAL_LOGS;
    else if (strcmp(url, "/v1/metrics") == 0)
        *sig = MODEL_SIGNAL_METRICS;
    else
        return 0;
    return 1;
}

/* Copies a client-supplied value for use inside a message: at most 64
 * bytes, non-printable bytes replaced. */
static void otlp_http_sanitize(const char *in, char *out, size_t outlen) {
    size_t n = 0;
    for (; in && in[n] && n < 64 && n + 1 < outlen; n++) {
        unsigned char c = (unsigned char)in[n];
        out[n] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
}

/* Parses a Content-Length value. Returns 1 with *out set, or 0 when absent
 * or malformed (libmicrohttpd rejects malformed values before we see them;
 * a value too large for uint64_t saturates). */
static int otlp_http_content_length(const char *v, uint64_t *out) {
    if (v == NULL || *v == '\0')
        return 0;
    uint64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        unsigned d = (unsigned)(*p - '0');
        n = (n > (UINT64_MAX - d) / 10) ? UINT64_MAX : n * 10 + d;
    }
    *out = n;
    return 1;
}

static void otlp_http_release_body(otlp_http_req *r) {
    if (r->charged) {
        atomic_fetch_sub(&r->h->body_bytes, r->charged);
        r->charged = 0;
    }
    buf_free(&r->body);
}

/* Decides the answer of a request that cannot succeed and starts
 * discarding whatever body is left. */
static void otlp_http_reject(otlp_http_req *r, unsigned status, int32_t grpc_code,
                             ingest_reason why, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void otlp_http_reject(otlp_http_req *r, unsigned status, int32_t grpc_code,
                             ingest_reason why, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    r->status = status;
    r->grpc_code = grpc_code;
    r->why = why;
    r->phase = OTLP_HTTP_REJECTING;
    otlp_http_release_body(r);
}

static void otlp_http_pending_done(otlp_http *h) {
    pthread_mutex_lock(&h->mu);
    assert(h->pending > 0);
    h->pending--;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* ---- answers ------------------------------------------------------------ */

/* Adds the CORS answer headers when the request's Origin is allowed. */
static void otlp_http_add_cors(const otlp_http *h, struct MHD_Connection *conn,
                               struct MHD_Response *resp) {
    if (h->cors_origins == NULL)
        return;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    const char *origin = otlp_http_header(conn, MHD_HTTP_HEADER_ORIGIN);
    if (!http_util_cors_origin_allowed(h->cors_origins, origin))
        return;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_EXPOSE_HEADERS, "Retry-After");
}

/* Queues an answer whose body is taken from `body` (may be NULL or empty;
 * the buf is left empty). Returns what MHD_queue_response() returns. */
static enum MHD_Result otlp_http_send(const otlp_http *h, struct MHD_Connection *conn,
                                      unsigned status, int pb, buf *body) {
    http_guard_received(conn); /* answered: no longer a slow request */
    struct MHD_Response *resp;
    size_t len = 0;
    char *data = body ? buf_detach(body, &len) : NULL;
    if (data != NULL) {
        resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL)
            free(data);
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return MHD_NO;
    if (status != MHD_HTTP_NO_CONTENT)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                pb ? "application/x-protobuf" : "application/json");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST, OPTIONS");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    otlp_http_add_cors(h, conn, resp);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static recv_outcome otlp_http_outcome_of(unsigned status) {
    switch (status) {
    case MHD_HTTP_UNAUTHORIZED:
        return RECV_UNAUTHENTICATED;
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return RECV_TOO_LARGE;
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        return RECV_BACKPRESSURE;
    default:
        return status >= 400 && status < 500 ? RECV_INVALID : RECV_OTHER;
    }
}

/* Records r's answer in the ingest log (when the inspector is on and r is
 * an export request). */
static void otlp_http_record(otlp_http_req *r, unsigned status, ingest_reason why,
                             const char *message) {
    if (!r->inspect)
        return;
    r->rec.http_status = (uint16_t)status;
    r->rec.reason = (uint8_t)why;
    ingest_rec_text(r->rec.message, sizeof(r->rec.message), message,
                    message != NULL ? strlen(message) : 0);
    ingest_log_add(r->h->ingest, &r->rec);
}

/* Queues r's error answer: a google.rpc.Status in the request's encoding,
 * counted as outcome. */
static enum MHD_Result otlp_http_send_status_as(otlp_http_req *r, unsigned status,
                                                int32_t grpc_code, ingest_reason why,
                                                const char *message, recv_outcome outcome) {
    otlp_http *h = r->h;
    recv_count_request(&h->rc, outcome);
    otlp_http_record(r, status, why, message);
    buf body;
    buf_init(&body, OTLP_HTTP_ANSWER_MAX);
    int rc = r->pb ? otlp_status_pb(grpc_code, message, &body)
                   : otlp_status_json(grpc_code, message, &body);
    if (rc != 0)
        buf_free(&body); /* answer with the status line alone */
    if (status >= 500)
        log_event(LOG_WARN, "otlp_http_error", "status=%u grpc_code=%d", status, (int)grpc_code);
    else
        log_event(LOG_DEBUG, "otlp_http_rejected", "status=%u grpc_code=%d", status,
                  (int)grpc_code);
    enum MHD_Result ret = otlp_http_send(h, r->conn, status, r->pb, &body);
    buf_free(&body);
    return ret;
}

/* As otlp_http_send_status_as(), counted by the status. */
static enum MHD_Result otlp_http_send_status(otlp_http_req *r, unsigned status,
                                             int32_t grpc_code, ingest_reason why,
                                             const char *message) {
    return otlp_http_send_status_as(r, status, grpc_code, why, message,
                                    otlp_http_outcome_of(status));
}

/* Queues the answer decided by otlp_http_reject(). */
static enum MHD_Result otlp_http_send_rejection(otlp_http_req *r) {
    return otlp_http_send_status(r, r->status, r->grpc_code, r->why, r->message);
}

/* Queues the 200 answer (Export*ServiceResponse, partial success when
 * items were rejected). */
static enum MHD_Result otlp_http_send_ok(otlp_http_req *r, int64_t rejected,
                                         const char *message) {
    buf body;
    buf_init(&body, OTLP_HTTP_ANSWER_MAX);
    const char *msg = rejected > 0 ? message : "";
    int rc = r->pb ? otlp_response_pb(r->sig, rejected, msg, &body)
                   : otlp_response_json(r->sig, rejected, msg, &body);
    if (rc != 0) {
        buf_free(&body);
        return otlp_http_send_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, OTLP_GRPC_INTERNAL,
                                     INGEST_REASON_INTERNAL,
                                     "The data was stored but the answer could not be encoded.");
    }
    recv_count_request(&r->h->rc, RECV_OK);
    otlp_http_record(r, MHD_HTTP_OK, INGEST_REASON_NONE, msg);
    enum MHD_Result ret = otlp_http_send(r->h, r->conn, MHD_HTTP_OK, r->pb, &body);
    buf_free(&body);
    return ret;
}

/* The answer for a failed store_append() or commit. */
static enum MHD_Result otlp_http_send_store_error(otlp_http_req *r, int code) {
    const char *msg;
    ingest_reason why;
    switch (code) {
    case STORE_EFULL:
        msg = "The store's queue is full; retry later.";
        why = INGEST_REASON_STORE_FULL;
        break;
    case STORE_ECLOSED:
        msg = "The receiver is shutting down; retry later.";
        why = INGEST_REASON_SHUTTING_DOWN;
        break;
    case STORE_EIO:
        msg = "The store could not commit the data; retry later.";
        why = INGEST_REASON_COMMIT_FAILED;
        break;
    case STORE_ENOMEM:
        msg = "The store is out of memory; retry later.";
        why = INGEST_REASON_NO_MEMORY;
        break;
    default:
        return otlp_http_send_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, OTLP_GRPC_INTERNAL,
                                     INGEST_REASON_INTERNAL,
                                     "The store refused the data because of an internal error.");
    }
    return otlp_http_send_status_as(r, MHD_HTTP_SERVICE_UNAVAILABLE, OTLP_GRPC_UNAVAILABLE, why,
                                    msg, recv_outcome_of_store(code));
}

/* Answers an OPTIONS request on an OTLP path: a CORS preflight when it has
 * Origin and Access-Control-Request-Method, a plain OPTIONS otherwise. Only
 * a refused preflight is recorded by the inspector (the export it asked
 * for never comes). */
static enum MHD_Result otlp_http_options(otlp_http_req *r) {
    otlp_http *h = r->h;
    struct MHD_Connection *conn = r->conn;
    static const char *const base[] = {"content-type", "content-encoding", "authorization",
                                       "x-otlp-api-key", NULL};
    static const char *const extra[] = {"accept",    "accept-encoding", "accept-language",
                                        "content-language", "user-agent",  "traceparent",
                                        "tracestate", NULL};
    const char *origin = otlp_http_header(conn, MHD_HTTP_HEADER_ORIGIN);
    const char *req_method =
        otlp_http_header(conn, MHD_HTTP_HEADER_ACCESS_CONTROL_REQUEST_METHOD);
    enum MHD_Result ret = MHD_NO;
    struct MHD_Response *resp = NULL;
    buf allow;
    buf_init(&allow, 4096);

    if (origin == NULL || req_method == NULL) {
        resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
            goto out;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST, OPTIONS");
        otlp_http_add_cors(h, conn, resp);
        ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
        goto out;
    }
    if (!http_util_cors_origin_allowed(h->cors_origins, origin)) {
        log_event(LOG_DEBUG, "otlp_http_cors_denied", NULL);
        r->pb = 0;
        r->rec.encoding = INGEST_ENC_UNKNOWN;
        ret = otlp_http_send_status(r, MHD_HTTP_FORBIDDEN, OTLP_GRPC_INVALID_ARGUMENT,
                                    INGEST_REASON_CORS,
                                    h->cors_origins ? "This origin is not allowed to send OTLP "
                                                      "data here (see --cors-origins)."
                                                    : "Cross-origin requests are disabled "
                                                      "(enable them with --cors-origins).");
        goto out;
    }
    const char *req_headers =
        otlp_http_header(conn, MHD_HTTP_HEADER_ACCESS_CONTROL_REQUEST_HEADERS);
    if (http_util_cors_allow_headers(base, extra, req_headers, &allow) != BUF_OK) {
        buf_reset(&allow);
        if (http_util_cors_allow_headers(base, NULL, NULL, &allow) != BUF_OK)
            goto out;
    }
    resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        goto out;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_HEADERS, allow.ptr);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_MAX_AGE, OTLP_HTTP_CORS_MAX_AGE);
    ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
out:
    if (resp)
        MHD_destroy_response(resp);
    buf_free(&allow);
    return ret;
}

/* ---- the store's callback (writer thread) ------------------------------- */

static void otlp_http_store_done(void *ud, int status, const model_batch *b) {
    otlp_http_req *r = ud;
    otlp_http *h = r->h;
    struct MHD_Connection *conn = r->conn;
    assert(r->phase == OTLP_HTTP_WAITING); /* suspended until this callback resumes it */
    recv_count_committed(&h->rc, status, b);
    r->store_status = status;
    r->rejected = b ? b->rejected : 0;
    r->reject_message[0] = '\0';
    if (b && b->rejected > 0 && b->reject_message.ptr)
        snprintf(r->reject_message, sizeof(r->reject_message), "%s", b->reject_message.ptr);
    atomic_store_explicit(&r->done, 1, memory_order_release);
    /* From here on the connection's thread may answer and free r. */
    MHD_resume_connection(conn);
    otlp_http_pending_done(h);
}

/* ---- request phases ----------------------------------------------------- */

/* The inspector's record of a request, from its headers. */
static void otlp_http_inspect_begin(otlp_http_req *r, const char *url, const char *ctype,
                                    int json, int routed) {
    struct MHD_Connection *conn = r->conn;
    ingest_rec *rec = &r->rec;
    ingest_rec_begin(rec, INGEST_HTTP);
    ingest_rec_text(rec->path, sizeof(rec->path), url, url != NULL ? strlen(url) : 0);
    ingest_rec_text(rec->content_type, sizeof(rec->content_type), ctype,
                    ctype != NULL ? strlen(ctype) : 0);
    rec->encoding = r->pb ? INGEST_ENC_PROTOBUF : json ? INGEST_ENC_JSON : INGEST_ENC_UNKNOWN;
    const char *cenc = otlp_http_header(conn, MHD_HTTP_HEADER_CONTENT_ENCODING);
    ingest_rec_text(rec->coding, sizeof(rec->coding), cenc, cenc != NULL ? strlen(cenc) : 0);
    http_util_coding coding = http_util_content_coding(cenc);
    rec->compression = coding == HTTP_UTIL_CODING_GZIP    ? INGEST_COMP_GZIP
                       : coding == HTTP_UTIL_CODING_OTHER ? INGEST_COMP_OTHER
                                                          : INGEST_COMP_NONE;
    const char *ua = otlp_http_header(conn, MHD_HTTP_HEADER_USER_AGENT);
    ingest_rec_text(rec->user_agent, sizeof(rec->user_agent), ua, ua != NULL ? strlen(ua) : 0);
    if (routed)
        rec->signal = (int8_t)r->sig;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL)
        ingest_rec_peer(rec, ci->client_addr);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage local;
    socklen_t llen = sizeof(local);
    if (ci != NULL && getsockname(ci->connect_fd, (struct sockaddr *)&local, &llen) == 0)
        rec->port = (uint16_t)netaddr_port((const struct sockaddr *)&local);
}

/* Answers on the first call (the headers alone decide) and frees r, which
 * was never handed to libmicrohttpd. */
static enum MHD_Result otlp_http_refuse_early(otlp_http_req *r, unsigned status,
                                              int32_t grpc_code, ingest_reason why,
                                              const char *message) {
    enum MHD_Result ret = otlp_http_send_status(r, status, grpc_code, why, message);
    buf_free(&r->body);
    free(r);
    return ret;
}

/* First call: only the headers are known. */
static enum MHD_Result otlp_http_begin(otlp_http *h, struct MHD_Connection *conn, const char *url,
                                       const char *method, void **con_cls) {
    model_signal sig = MODEL_SIGNAL_TRACES;
    int routed = otlp_http_route(url, &sig);
    const char *ctype = otlp_http_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    int pb = http_util_media_type_is(ctype, "application/x-protobuf");
    int json = !pb && http_util_media_type_is(ctype, "application/json");
    int is_options = strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0;
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    otlp_http_req *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return MHD_NO;
    r->h = h;
    r->conn = conn;
    r->sig = sig;
    r->pb = pb;
    r->phase = OTLP_HTTP_RECEIVING;
    atomic_init(&r->done, 0);
    buf_init(&r->body, h->max_body);
    r->inspect = h->ingest != NULL;
    if (r->inspect)
        otlp_http_inspect_begin(r, url, ctype, json, routed);

    if (!http_guard_headers_ok(h->guard, conn, url, method, h->max_header)) {
        char msg[OTLP_HTTP_MSG_LEN];
        snprintf(msg, sizeof(msg), "The request headers exceed the limit of %zu bytes.",
                 h->max_header);
        return otlp_http_refuse_early(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                                      OTLP_GRPC_RESOURCE_EXHAUSTED,
                                      INGEST_REASON_HEADERS_TOO_LARGE, msg);
    }
    if (routed && is_post) {
        const char *keys[2] = {h->keys[0], h->keys[1]};
        if (!http_util_api_key_ok(keys, 2, otlp_http_header(conn, "x-otlp-api-key"),
                                  otlp_http_header(conn, MHD_HTTP_HEADER_AUTHORIZATION)))
            /* Answered at once: an unauthenticated client may not make us
             * read its body. */
            return otlp_http_refuse_early(r, MHD_HTTP_UNAUTHORIZED, OTLP_GRPC_UNAUTHENTICATED,
                                          INGEST_REASON_UNAUTHENTICATED,
                                          "A valid API key is required (send it as "
                                          "x-otlp-api-key or Authorization: Bearer).");
        uint64_t clen = 0;
        if (otlp_http_content_length(otlp_http_header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH),
                                     &clen) &&
            clen > h->max_body) {
            char msg[OTLP_HTTP_MSG_LEN];
            snprintf(msg, sizeof(msg),
                     "The request body of %" PRIu64 " bytes exceeds the limit of %zu bytes.",
                     clen, h->max_body);
            r->rec.wire_bytes = clen; /* as declared; never read */
            return otlp_http_refuse_early(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                          OTLP_GRPC_RESOURCE_EXHAUSTED,
                                          INGEST_REASON_BODY_TOO_LARGE, msg);
        }
    }

    *con_cls = r;
    pthread_mutex_lock(&h->mu);
    h->in_flight++;
    pthread_mutex_unlock(&h->mu);
    if (r->inspect)
        r->rec.wire_bytes = 0; /* counted as the body arrives */

    char shown[80];
    if (routed && is_options) {
        /* Answered after its (normally empty) body, so the connection
         * stays open for the request the preflight announces. */
        r->phase = OTLP_HTTP_OPTIONS;
    } else if (!routed) {
        otlp_http_reject(r, MHD_HTTP_NOT_FOUND, OTLP_GRPC_NOT_FOUND, INGEST_REASON_WRONG_PATH,
                         "Unknown path; OTLP/HTTP accepts POST on /v1/traces, /v1/logs and "
                         "/v1/metrics.");
    } else if (!is_post) {
        otlp_http_sanitize(method, shown, sizeof(shown));
        otlp_http_reject(r, MHD_HTTP_METHOD_NOT_ALLOWED, OTLP_GRPC_UNIMPLEMENTED,
                         INGEST_REASON_WRONG_METHOD,
                         "Method %s is not allowed here; OTLP/HTTP exports use POST.", shown);
    } else if (!pb && !json) {
        otlp_http_sanitize(ctype ? ctype : "(none)", shown, sizeof(shown));
        otlp_http_reject(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, OTLP_GRPC_INVALID_ARGUMENT,
                         INGEST_REASON_CONTENT_TYPE,
                         "Unsupported Content-Type \"%s\"; use application/x-protobuf or "
                         "application/json.",
                         shown);
    } else {
        const char *cenc = otlp_http_header(conn, MHD_HTTP_HEADER_CONTENT_ENCODING);
        http_util_coding coding = http_util_content_coding(cenc);
        if (coding == HTTP_UTIL_CODING_OTHER) {
            otlp_http_sanitize(cenc, shown, sizeof(shown));
            otlp_http_reject(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, OTLP_GRPC_INVALID_ARGUMENT,
                             INGEST_REASON_CODING,
                             "Unsupported Content-Encoding \"%s\"; use gzip or identity.",
                             shown);
        }
        r->gzip = coding == HTTP_UTIL_CODING_GZIP;
    }
    return MHD_YES;
}

/* A piece of the body. Returns MHD_NO to drop the connection. */
static enum MHD_Result otlp_http_body(otlp_http_req *r, const char *data, size_t n) {
    otlp_http *h = r->h;
    if (r->inspect)
        r->rec.wire_bytes += n;
    if (r->phase == OTLP_HTTP_REJECTING || r->phase == OTLP_HTTP_OPTIONS) {
        r->drained += n;
        if (r->drained > h->max_body) {
            log_event(LOG_DEBUG, "otlp_http_drop", "reason=body_after_rejection bytes=%zu",
                      r->drained);
            if (r->phase == OTLP_HTTP_REJECTING) {
                /* the answer decided never reaches the client: say so */
                char msg[OTLP_HTTP_MSG_LEN + 96];
                snprintf(msg, sizeof(msg),
                         "%s (not delivered: the connection was closed after %zu more bytes "
                         "of body)",
                         r->message, r->drained);
                otlp_http_record(r, r->status, r->why, msg);
            }
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (r->phase != OTLP_HTTP_RECEIVING)
        return MHD_NO; /* cannot happen: no body arrives while suspended */
    if (n > h->max_body - r->body.len) {
        otlp_http_reject(r, MHD_HTTP_CONTENT_TOO_LARGE, OTLP_GRPC_RESOURCE_EXHAUSTED,
                         INGEST_REASON_BODY_TOO_LARGE,
                         "The request body exceeds the limit of %zu bytes.", h->max_body);
        r->drained = n;
        return MHD_YES;
    }
    size_t before = atomic_fetch_add(&h->body_bytes, n);
    if (before + n > h->body_budget) {
        atomic_fetch_sub(&h->body_bytes, n);
        otlp_http_reject(r, MHD_HTTP_SERVICE_UNAVAILABLE, OTLP_GRPC_UNAVAILABLE,
                         INGEST_REASON_BUSY, "Too many request bodies are in flight; retry later.");
        r->drained = n;
        return MHD_YES;
    }
    r->charged += n;
    int rc = buf_append(&r->body, data, n);
    if (rc != BUF_OK) {
        otlp_http_reject(r, MHD_HTTP_SERVICE_UNAVAILABLE, OTLP_GRPC_UNAVAILABLE,
                         INGEST_REASON_NO_MEMORY, "The receiver is out of memory; retry later.");
        r->drained = n;
    }
    return MHD_YES;
}

/* Step 1 of a complete body: the body as received, or gunzipped into
 * *plain (the compressed copy is released then). Returns 0 with *data and
 * *len set, or -1 once the request is rejected. */
static int otlp_http_inflate(otlp_http_req *r, buf *plain, const uint8_t **data, size_t *len) {
    *data = (const uint8_t *)r->body.ptr;
    *len = r->body.len;
    if (r->gzip) {
        int grc = gz_inflate(*data, *len, plain);
        if (grc == GZ_ETOOBIG)
            otlp_http_reject(r, MHD_HTTP_CONTENT_TOO_LARGE, OTLP_GRPC_RESOURCE_EXHAUSTED,
                             INGEST_REASON_INFLATED_TOO_LARGE,
                             "The decompressed request body exceeds the limit of %zu bytes.",
                             r->h->max_body);
        else if (grc == GZ_EDATA)
            otlp_http_reject(r, MHD_HTTP_BAD_REQUEST, OTLP_GRPC_INVALID_ARGUMENT,
                             INGEST_REASON_BAD_GZIP, "The request body is not valid gzip data.");
        else if (grc != GZ_OK)
            otlp_http_reject(r, MHD_HTTP_SERVICE_UNAVAILABLE, OTLP_GRPC_UNAVAILABLE,
                             INGEST_REASON_NO_MEMORY,
                             "The receiver is out of memory; retry later.");
        if (grc != GZ_OK)
            return -1;
        otlp_http_release_body(r); /* only the inflated copy is needed now */
        *data = (const uint8_t *)plain->ptr;
        *len = plain->len;
    }
    if (r->inspect)
        r->rec.decoded_bytes = *len;
    if (*data == NULL)
        *data = (const uint8_t *)"";
    return 0;
}

/* Step 2: decodes data[0..len) into *out and counts its items; the body
 * (and *plain) are released either way. Returns 0, or -1 once the request
 * is rejected. */
static int otlp_http_decode(otlp_http_req *r, const uint8_t *data, size_t len, buf *plain,
                            model_batch **out) {
    otlp_http *h = r->h;
    char err[256] = "";
    model_batch *batch = NULL;
    int drc = r->pb ? otlp_decode_pb(r->sig, data, len, h->mem_limit, &batch, err, sizeof(err))
                    : otlp_decode_json(r->sig, (const char *)data, len, h->mem_limit, &batch,
                                       err, sizeof(err));
    buf_free(plain);
    otlp_http_release_body(r);
    if (drc == OTLP_OK) {
        recv_count_decoded(&h->rc, r->sig, model_batch_items(batch),
                           batch->rejected > 0 ? (uint64_t)batch->rejected : 0);
        if (r->inspect)
            ingest_rec_batch(&r->rec, batch); /* before the store owns it */
        *out = batch;
        return 0;
    }
    if (drc == OTLP_EDECODE)
        otlp_http_reject(r, MHD_HTTP_BAD_REQUEST, OTLP_GRPC_INVALID_ARGUMENT,
                         INGEST_REASON_MALFORMED, "Cannot decode the %s %s export request: %s",
                         r->pb ? "protobuf" : "JSON", model_signal_name(r->sig),
                         err[0] ? err : "malformed body");
    else if (drc == OTLP_ETOOBIG)
        otlp_http_reject(r, MHD_HTTP_CONTENT_TOO_LARGE, OTLP_GRPC_RESOURCE_EXHAUSTED,
                         INGEST_REASON_DECODED_TOO_LARGE,
                         "The decoded request exceeds the receiver's memory limit.");
    else if (drc == OTLP_ENOMEM)
        otlp_http_reject(r, MHD_HTTP_SERVICE_UNAVAILABLE, OTLP_GRPC_UNAVAILABLE,
                         INGEST_REASON_NO_MEMORY, "The receiver is out of memory; retry later.");
    else
        otlp_http_reject(r, MHD_HTTP_INTERNAL_SERVER_ERROR, OTLP_GRPC_INTERNAL,
                         INGEST_REASON_INTERNAL, "The decoder failed unexpectedly: %s",
                         otlp_strerror(drc));
    return -1;
}

/* Step 3: hands the batch (owned) to the store. The connection is
 * suspended first (the callback may resume it at once) and answered when it
 * is resumed; a batch with nothing to commit, or one the receiver cannot
 * take while stopping, is answered at once. */
static enum MHD_Result otlp_http_append(otlp_http_req *r, model_batch *batch) {
    otlp_http *h = r->h;
    struct MHD_Connection *conn = r->conn;
    size_t items = model_batch_items(batch);
    if (batch->n_spans == 0 && batch->n_logs == 0 && batch->n_metrics == 0 &&
        batch->n_points == 0) {
        /* Nothing to commit: answer now (partial success if all were bad). */
        int64_t rejected = batch->rejected;
        char msg[OTLP_HTTP_MSG_LEN] = "";
        if (rejected > 0 && batch->reject_message.ptr)
            snprintf(msg, sizeof(msg), "%s", batch->reject_message.ptr);
        model_batch_free(batch);
        return otlp_http_send_ok(r, rejected, msg);
    }

    pthread_mutex_lock(&h->mu);
    int stopping = h->stopping;
    if (!stopping)
        h->pending++;
    pthread_mutex_unlock(&h->mu);
    if (stopping) {
        model_batch_free(batch);
        recv_count_rejected(&h->rc, r->sig, RECV_BACKPRESSURE, items);
        return otlp_http_send_store_error(r, STORE_ECLOSED);
    }

    r->phase = OTLP_HTTP_WAITING;
    MHD_suspend_connection(conn);
    int src = store_append(h->st, batch, otlp_http_store_done, r);
    if (src != STORE_OK) {
        /* The batch is freed and the callback will not run. */
        recv_count_rejected(&h->rc, r->sig, recv_outcome_of_store(src), items);
        r->store_status = src;
        atomic_store_explicit(&r->done, 1, memory_order_release);
        MHD_resume_connection(conn);
        otlp_http_pending_done(h);
    }
    return MHD_YES;
}

/* The body is complete: gunzip, decode, append (and suspend). */
static enum MHD_Result otlp_http_finish(otlp_http_req *r) {
    /* Every byte held is charged to the shared budget until released. */
    assert(r->phase == OTLP_HTTP_RECEIVING && r->charged == r->body.len);
    buf plain;
    buf_init(&plain, r->h->max_body);
    const uint8_t *data = NULL;
    size_t len = 0;
    model_batch *batch = NULL;
    if (otlp_http_inflate(r, &plain, &data, &len) == 0 &&
        otlp_http_decode(r, data, len, &plain, &batch) == 0)
        return otlp_http_append(r, batch);
    buf_free(&plain);
    return otlp_http_send_rejection(r);
}

/* The connection was resumed: answer with the store's outcome. */
static enum MHD_Result otlp_http_resumed(otlp_http_req *r) {
    if (!atomic_load_explicit(&r->done, memory_order_acquire))
        return MHD_YES; /* not ours to answer yet */
    if (r->store_status != STORE_OK)
        return otlp_http_send_store_error(r, r->store_status);
    return otlp_http_send_ok(r, r->rejected, r->reject_message);
}

static enum MHD_Result otlp_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **con_cls) {
    (void)version;
    otlp_http *h = cls;
    otlp_http_req *r = *con_cls;
    if (r == NULL)
        return otlp_http_begin(h, conn, url, method, con_cls);
    if (*upload_data_size == 0)
        http_guard_received(conn); /* the whole body is here */
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return otlp_http_body(r, upload_data, n);
    }
    switch (r->phase) {
    case OTLP_HTTP_RECEIVING:
        return otlp_http_finish(r);
    case OTLP_HTTP_REJECTING:
        return otlp_http_send_rejection(r);
    case OTLP_HTTP_WAITING:
        return otlp_http_resumed(r);
    case OTLP_HTTP_OPTIONS:
        return otlp_http_options(r);
    }
    return MHD_NO;
}

static void otlp_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                enum MHD_RequestTerminationCode toe) {
    otlp_http *h = cls;
    otlp_http_req *r = *con_cls;
    http_guard_completed(conn);
    if (r == NULL)
        return;
    *con_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_event(LOG_DEBUG, "otlp_http_aborted", "reason=%d", (int)toe);
    otlp_http_release_body(r);
    free(r);
    pthread_mutex_lock(&h->mu);
    assert(h->in_flight > 0);
    h->in_flight--;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* ---- start and stop ----------------------------------------------------- */

static char *otlp_http_strdup_nonempty(const char *s, int *oom) {
    if (s == NULL || s[0] == '\0')
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *oom = 1;
    return copy;
}

static void otlp_http_free(otlp_http *h) {
    http_guard_free(h->guard);
    free(h->cors_origins);
    free(h->keys[0]);
    free(h->keys[1]);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int otlp_http_start(const otlp_http_config *cfg, store *st, otlp_http **out, char *err,
                    size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char why[256];
    otlp_http *h = NULL;
    int fd = -1;
    *out = NULL;

    if (cfg == NULL || cfg->addr == NULL || st == NULL) {
        snprintf(err, errlen, "OTLP/HTTP receiver: no address or store given");
        return -1;
    }
    if (netaddr_parse(cfg->addr, &ss, &sslen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "bad OTLP/HTTP address \"%s\": %s", cfg->addr, why);
        return -1;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->body_bytes, 0);
    h->st = st;
    h->ingest = cfg->ingest;
    h->max_body = cfg->max_body_bytes ? cfg->max_body_bytes : OTLP_HTTP_DEFAULT_MAX_BODY;
    h->body_budget = h->max_body > OTLP_HTTP_BUDGET_MIN / OTLP_HTTP_BUDGET_FACTOR
                         ? (h->max_body > SIZE_MAX / OTLP_HTTP_BUDGET_FACTOR
                                ? SIZE_MAX
                                : h->max_body * OTLP_HTTP_BUDGET_FACTOR)
                         : OTLP_HTTP_BUDGET_MIN;
    h->mem_limit = h->max_body > SIZE_MAX / OTLP_HTTP_DECODE_FACTOR
                       ? SIZE_MAX
                       : h->max_body * OTLP_HTTP_DECODE_FACTOR;
    int oom = 0;
    h->cors_origins = otlp_http_strdup_nonempty(cfg->cors_origins, &oom);
    h->keys[0] = otlp_http_strdup_nonempty(cfg->api_keys[0], &oom);
    h->keys[1] = otlp_http_strdup_nonempty(cfg->api_keys[1], &oom);
    if (oom) {
        snprintf(err, errlen, "out of memory");
        goto fail_after_alloc;
    }

    fd = netaddr_listen(&ss, sslen, OTLP_HTTP_BACKLOG, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "OTLP/HTTP %s", why);
        goto fail_after_alloc;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        snprintf(err, errlen, "OTLP/HTTP getsockname: %s", strerror(errno));
        close(fd);
        goto fail_after_alloc;
    }
    h->port = netaddr_port((const struct sockaddr *)&bound);

    unsigned max_conn = cfg->max_connections ? cfg->max_connections : OTLP_HTTP_DEFAULT_CONNECTIONS;
    unsigned timeout = cfg->timeout_seconds ? cfg->timeout_seconds : OTLP_HTTP_DEFAULT_TIMEOUT;
    unsigned req_timeout = cfg->request_timeout_seconds ? cfg->request_timeout_seconds
                                                        : OTLP_HTTP_DEFAULT_REQUEST_TIMEOUT;
    h->max_header = cfg->max_header_bytes ? cfg->max_header_bytes : OTLP_HTTP_DEFAULT_MAX_HEADER;
    /* libmicrohttpd keeps the headers in the connection's pool: room for
     * them and a read buffer, so that our 431 (with its message) comes
     * first; headers larger than the pool are refused by libmicrohttpd. */
    size_t pool = h->max_header * 2 > OTLP_HTTP_POOL_BYTES ? h->max_header * 2
                                                           : OTLP_HTTP_POOL_BYTES;
    h->guard = http_guard_new("otlp_http", req_timeout * 1000u, timeout * 1000u);
    if (h->guard == NULL) {
        snprintf(err, errlen, "OTLP/HTTP: cannot start the connection guard");
        close(fd);
        goto fail_after_alloc;
    }
    http_guard_daemon_cfg dcfg = {
        .flags = MHD_USE_POLL,
        .listen_fd = fd,
        .threads = OTLP_HTTP_THREADS,
        .max_connections = max_conn,
        .timeout_seconds = timeout,
        .pool_bytes = pool,
        .access = otlp_http_access,
        .access_cls = h,
        .completed = otlp_http_completed,
        .completed_cls = h,
        .h2_hint = "HTTP/2 (OTLP/gRPC) on the OTLP/HTTP port, which speaks HTTP/1.1: answered "
                   "505; send OTLP/gRPC to the OTLP/gRPC port (4317 by default; it takes "
                   "OTLP/HTTP too) or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    };
    h->daemon = http_guard_start_daemon(h->guard, &dcfg);
    if (h->daemon == NULL) {
        char name[80];
        netaddr_format((const struct sockaddr *)&bound, name, sizeof(name));
        snprintf(err, errlen, "cannot start the OTLP/HTTP server on %s", name);
        /* The socket is left open on purpose: whether libmicrohttpd closed
         * it on failure is not documented, and closing a reused descriptor
         * number would be worse than leaking one at a failed start. */
        goto fail_after_alloc;
    }
    char name[80];
    netaddr_format((const struct sockaddr *)&bound, name, sizeof(name));
    log_event(LOG_INFO, "listening", "transport=otlp_http addr=%s max_body=%zu cors=%s auth=%s",
              name, h->max_body, h->cors_origins ? "on" : "off",
              (h->keys[0] || h->keys[1]) ? "api_key" : "none");
    *out = h;
    return 0;

fail_after_alloc:
    otlp_http_free(h);
    return -1;
}

int otlp_http_adopt(otlp_http *h, int fd, const struct sockaddr *peer, socklen_t peerlen) {
    /* With a thread pool, libmicrohttpd queues the socket for a worker with
     * room and wakes it (the daemon has an inter-thread channel: suspend and
     * resume need one too); the worker checks the limit again under its
     * lock. */
    if (MHD_add_connection(h->daemon, fd, peer, peerlen) == MHD_YES)
        return 0;
    int eno = errno;
    /* ENFILE: every worker was at its share of the connection limit. This
     * refusal is not logged by libmicrohttpd, so the guard cannot count it
     * from the log as it counts the others. */
    if (eno == ENFILE)
        http_guard_count_refused(h->guard);
    log_event(LOG_DEBUG, "otlp_http_adopt_refused", "error=\"%s\"", strerror(eno));
    return -1;
}

int otlp_http_port(const otlp_http *h) {
    return h ? h->port : -1;
}

void otlp_http_get_stats(const otlp_http *h, recv_stats *out) {
    recv_counters_get(h ? &h->rc : NULL, out);
    int64_t open = http_guard_daemon_connections(h != NULL ? h->daemon : NULL);
    if (open >= 0)
        out->open_connections = open;
}

void otlp_http_stats(otlp_http *h, http_guard_stats *out) {
    http_guard_stats_get(h ? h->guard : NULL, out);
}

void otlp_http_body_use(const otlp_http *h, uint64_t *held, uint64_t *budget) {
    *held = h ? (uint64_t)atomic_load(&h->body_bytes) : 0;
    *budget = h ? (uint64_t)h->body_budget : 0;
}

void otlp_http_stop(otlp_http *h) {
    if (h == NULL)
        return;
    MHD_socket lfd = MHD_quiesce_daemon(h->daemon);
    struct timespec deadline;
    clk_deadline(CLOCK_MONOTONIC, OTLP_HTTP_GRACE_MS, &deadline);
    pthread_mutex_lock(&h->mu);
    while (h->in_flight > 0) {
        if (pthread_cond_timedwait(&h->cv, &h->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (h->in_flight > 0)
        log_event(LOG_WARN, "otlp_http_stop", "requests_cut=%u", h->in_flight);
    /* No append starts after this; wait for the ones started. libmicrohttpd
     * must not be stopped while a connection is suspended, and every
     * callback comes (the store outlives the receiver). */
    h->stopping = 1;
    while (h->pending > 0) {
        clk_deadline(CLOCK_MONOTONIC, OTLP_HTTP_GRACE_MS, &deadline);
        if (pthread_cond_timedwait(&h->cv, &h->mu, &deadline) == ETIMEDOUT)
            log_event(LOG_WARN, "otlp_http_stop", "waiting_for_store=%u", h->pending);
    }
    pthread_mutex_unlock(&h->mu);
    MHD_stop_daemon(h->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    otlp_http_free(h);
}
