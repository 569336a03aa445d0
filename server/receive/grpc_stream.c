/* grpc_stream.c - one OTLP Export call on the gRPC receiver: its request.
 *
 * A stream collects its request message through the incremental grpc_frame
 * parser as DATA arrives (refusing an oversized message from its 5-byte
 * prefix, and counting what it holds against the server's inflight
 * budget); its headers are checked once complete (content-type, method, API
 * key, path, grpc-timeout). At END_STREAM the one message is inflated if
 * compressed, decoded into a model_batch and handed to store_append().
 * Success is answered only once the store reports the batch committed
 * (grpc_stream_committed, called by the loop with the hub's record). Errors
 * are trailers-only answers (grpc_reply.c).
 */
#include "grpc_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/gz.h"
#include "server/decode/otlp.h"
#include "server/net/http_util.h"

#define GRPC_INFLIGHT_MAX ((size_t)256 << 20) /* request bytes buffered by all streams */
#define GRPC_BATCH_MEM_FACTOR 8               /* decoded batch may use 8x the message */

/* Header facts collected while a request's HEADERS are parsed (hflags). */
#define GRPC_H_POST 0x01
#define GRPC_H_CT_GRPC 0x02
#define GRPC_H_CT_SEEN 0x04
#define GRPC_H_AUTHED 0x08
#define GRPC_H_BAD_TIMEOUT 0x10
#define GRPC_H_ENC_LONG 0x20
#define GRPC_H_TOO_BIG 0x40 /* the header list passed max_header */

static const struct {
    const char *path;
    model_signal signal;
} grpc_methods[] = {
    {"/opentelemetry.proto.collector.trace.v1.TraceService/Export", MODEL_SIGNAL_TRACES},
    {"/opentelemetry.proto.collector.logs.v1.LogsService/Export", MODEL_SIGNAL_LOGS},
    {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", MODEL_SIGNAL_METRICS},
};
#define GRPC_N_METHODS (sizeof(grpc_methods) / sizeof(grpc_methods[0]))

/* ---- the stream's life ----------------------------------------------------- */

grpc_stream *grpc_stream_new(grpc_conn *c, int32_t id) {
    grpc_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->conn = c;
    st->id = id;
    st->method = -1;
    st->begun = grpc_now();
    if (c->srv->cfg.ingest != NULL) {
        ingest_rec_begin(&st->rec, INGEST_GRPC);
        st->rec.begun_ns = st->begun;
    }
    grpc_sweep_soon(c->srv, st->begun + c->srv->request_ns);
    grpc_frame_init(&st->frame, c->srv->max_msg);
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    c->nstreams++;
    return st;
}

void grpc_stream_release_input(grpc_stream *st) {
    grpc_server *g = st->conn->srv;
    assert(g->inflight >= st->buffered);
    grpc_frame_free(&st->frame);
    free(st->msg);
    st->msg = NULL;
    st->msg_len = 0;
    g->inflight -= st->buffered;
    st->buffered = 0;
}

void grpc_stream_free(grpc_stream *st) {
    grpc_stream_release_input(st);
    free(st->resp);
    free(st);
}

void grpc_stream_close(grpc_stream *st) {
    grpc_conn *c = st->conn;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    c->nstreams--;
    if (c->nstreams == 0)
        c->idle_since = grpc_now();
    grpc_stream_free(st);
}

grpc_stream *grpc_stream_find(grpc_conn *c, int32_t id) {
    for (grpc_stream *st = c->streams; st; st = st->next)
        if (st->id == id)
            return st;
    return NULL;
}

/* ---- headers -------------------------------------------------------------- */

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

void grpc_stream_header(grpc_stream *st, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen) {
    if (st->hflags & GRPC_H_TOO_BIG)
        return;
    /* RFC 9113 6.5.2: name + value + 32 per field. Past the limit the rest
     * is ignored and the request is refused once its headers end. */
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > st->conn->srv->max_header) {
        st->hflags |= GRPC_H_TOO_BIG;
        return;
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
        for (size_t i = 0; i < GRPC_N_METHODS; i++) {
            if (valuelen == strlen(grpc_methods[i].path) &&
                memcmp(value, grpc_methods[i].path, valuelen) == 0) {
                st->method = (int)i;
                st->signal = grpc_methods[i].signal;
            }
        }
    } else if (NAME_IS("user-agent")) {
        if (st->conn->srv->cfg.ingest != NULL)
            ingest_rec_text(st->rec.user_agent, sizeof(st->rec.user_agent),
                            (const char *)value, valuelen);
    } else if (NAME_IS("content-type")) {
        st->hflags |= GRPC_H_CT_SEEN;
        if (grpc_content_type_ok(value, valuelen))
            st->hflags |= GRPC_H_CT_GRPC;
        else
            st->hflags &= ~(unsigned)GRPC_H_CT_GRPC;
        if (st->conn->srv->cfg.ingest != NULL) {
            ingest_rec_text(st->rec.content_type, sizeof(st->rec.content_type),
                            (const char *)value, valuelen);
            st->rec.encoding = (st->hflags & GRPC_H_CT_GRPC) ? INGEST_ENC_PROTOBUF
                                                              : INGEST_ENC_UNKNOWN;
        }
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
        if (grpc_key_matches(st->conn->srv, HTTP_UTIL_KEY_HEADER, value, valuelen))
            st->hflags |= GRPC_H_AUTHED;
    } else if (NAME_IS("authorization")) {
        if (grpc_key_matches(st->conn->srv, HTTP_UTIL_KEY_AUTHORIZATION, value, valuelen))
            st->hflags |= GRPC_H_AUTHED;
    }
#undef NAME_IS
}

int grpc_stream_headers_done(grpc_stream *st) {
    grpc_server *g = st->conn->srv;
    char msg[GRPC_MSG_MAX];
    if (st->hflags & GRPC_H_TOO_BIG) {
        atomic_fetch_add_explicit(&g->st_headers, 1, memory_order_relaxed);
        snprintf(msg, sizeof(msg), "request headers exceed the limit of %zu bytes", g->max_header);
        grpc_reply_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, INGEST_REASON_HEADERS_TOO_LARGE,
                          msg);
        return 0;
    }
    if (!(st->hflags & GRPC_H_CT_GRPC)) {
        grpc_reply_error(st, 415, OTLP_GRPC_INVALID_ARGUMENT, INGEST_REASON_CONTENT_TYPE,
                         (st->hflags & GRPC_H_CT_SEEN) ? "invalid gRPC request content-type"
                                                       : "missing gRPC request content-type");
        return 0;
    }
    if (!(st->hflags & GRPC_H_POST)) {
        grpc_reply_error(st, 405, OTLP_GRPC_UNIMPLEMENTED, INGEST_REASON_WRONG_METHOD,
                         "gRPC requests must use POST");
        return 0;
    }
    if (g->nkeys > 0 && !(st->hflags & GRPC_H_AUTHED)) {
        grpc_reply_status(st, OTLP_GRPC_UNAUTHENTICATED, INGEST_REASON_UNAUTHENTICATED,
                          "missing or invalid API key");
        return 0;
    }
    if (st->method < 0) {
        snprintf(msg, sizeof(msg), "unknown method %s", st->path);
        grpc_reply_status(st, OTLP_GRPC_UNIMPLEMENTED, INGEST_REASON_WRONG_PATH, msg);
        return 0;
    }
    if (st->hflags & GRPC_H_BAD_TIMEOUT) {
        grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_BAD_TIMEOUT,
                          "malformed grpc-timeout");
        return 0;
    }
    if (st->deadline) {
        int64_t now = grpc_now();
        if (now >= st->deadline) {
            grpc_reply_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, INGEST_REASON_DEADLINE,
                              "deadline exceeded on arrival");
            return 0;
        }
        grpc_sweep_soon(g, st->deadline);
    }
    return 1;
}


/* ---- the message ------------------------------------------------------------ */

void grpc_stream_data(grpc_stream *st, const uint8_t *data, size_t len) {
    grpc_server *g = st->conn->srv;
    char msg[GRPC_MSG_MAX];
    if (g->inflight + len > GRPC_INFLIGHT_MAX) {
        grpc_reply_status(st, OTLP_GRPC_UNAVAILABLE, INGEST_REASON_BUSY,
                          "server busy: too much request data in flight");
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
                grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_FRAMING,
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
            st->rec.wire_bytes = grpc_frame_declared(&st->frame); /* as declared */
            grpc_reply_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, INGEST_REASON_BODY_TOO_LARGE,
                              msg);
            return;
        case GRPC_FRAME_ENOMEM:
            grpc_reply_status(st, OTLP_GRPC_UNAVAILABLE, INGEST_REASON_NO_MEMORY, "out of memory");
            return;
        default:
            grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_FRAMING,
                              grpc_frame_strerror(rc));
            return;
        }
    }
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
        return g->append(g->append_ctx, batch, grpc_hub_store_done, d);
#endif
    return store_append(g->st, batch, grpc_hub_store_done, d);
}

/* Step 1: the message as sent, or inflated into *inflated when compressed.
 * Returns 0 with *data and *len set, or -1 once the stream is answered. */
static int grpc_stream_inflate(grpc_stream *st, buf *inflated, const uint8_t **data,
                               size_t *len) {
    grpc_server *g = st->conn->srv;
    char msg[GRPC_MSG_MAX];
    static const uint8_t empty[1] = {0};
    *data = st->msg != NULL ? st->msg : empty;
    *len = st->msg_len;
    st->rec.wire_bytes = st->msg_len;
    st->rec.decoded_bytes = st->msg_len;
    if (!st->msg_compressed)
        return 0;
    st->rec.decoded_bytes = INGEST_UNKNOWN;
    if ((st->hflags & GRPC_H_ENC_LONG) || strcmp(st->encoding, "gzip") != 0) {
        if (st->encoding[0] == '\0' || strcmp(st->encoding, "identity") == 0) {
            grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_CODING,
                              "compressed message without a grpc-encoding");
        } else {
            snprintf(msg, sizeof(msg), "grpc-encoding %s%s is not supported (%s)", st->encoding,
                     (st->hflags & GRPC_H_ENC_LONG) ? "..." : "", GRPC_ACCEPT_ENCODING);
            grpc_reply_status(st, OTLP_GRPC_UNIMPLEMENTED, INGEST_REASON_CODING, msg);
        }
        return -1;
    }
    int zrc = gz_inflate(st->msg, st->msg_len, inflated);
    if (zrc == GZ_ETOOBIG) {
        snprintf(msg, sizeof(msg), "decompressed message exceeds the limit of %zu bytes",
                 g->max_msg);
        grpc_reply_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, INGEST_REASON_INFLATED_TOO_LARGE,
                          msg);
        return -1;
    }
    if (zrc == GZ_ENOMEM) {
        grpc_reply_status(st, OTLP_GRPC_UNAVAILABLE, INGEST_REASON_NO_MEMORY, "out of memory");
        return -1;
    }
    if (zrc != GZ_OK) {
        grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_BAD_GZIP,
                          "cannot decompress the message (gzip)");
        return -1;
    }
    *data = inflated->ptr != NULL ? (const uint8_t *)inflated->ptr : empty;
    *len = inflated->len;
    st->rec.decoded_bytes = inflated->len;
    return 0;
}

/* The memory a decoded batch may take: GRPC_BATCH_MEM_FACTOR times the
 * message limit, at least 64 MiB. */
static size_t grpc_batch_mem_limit(const grpc_server *g) {
    size_t limit = g->max_msg > SIZE_MAX / GRPC_BATCH_MEM_FACTOR
                       ? SIZE_MAX
                       : g->max_msg * GRPC_BATCH_MEM_FACTOR;
    return limit < (64u << 20) ? 64u << 20 : limit;
}

/* Step 2: decodes data[0..len) into *out and counts its items; the
 * request's buffers (inflated too) are released either way. Returns 0, or
 * -1 once the stream is answered. */
static int grpc_stream_decode(grpc_stream *st, const uint8_t *data, size_t len, buf *inflated,
                              model_batch **out) {
    grpc_server *g = st->conn->srv;
    char err[256] = "";
    char msg[GRPC_MSG_MAX];
    model_batch *batch = NULL;
    int rc = otlp_decode_pb(st->signal, data, len, grpc_batch_mem_limit(g), &batch, err,
                            sizeof(err));
    buf_free(inflated);
    grpc_stream_release_input(st);
    if (rc == OTLP_EDECODE) {
        snprintf(msg, sizeof(msg), "cannot decode the request: %s", err);
        grpc_reply_status(st, OTLP_GRPC_INVALID_ARGUMENT, INGEST_REASON_MALFORMED, msg);
        return -1;
    }
    if (rc == OTLP_ETOOBIG) {
        grpc_reply_status(st, OTLP_GRPC_RESOURCE_EXHAUSTED, INGEST_REASON_DECODED_TOO_LARGE,
                          "decoded request is too large");
        return -1;
    }
    if (rc != OTLP_OK || batch == NULL) {
        grpc_reply_status(st, OTLP_GRPC_UNAVAILABLE, INGEST_REASON_NO_MEMORY,
                          "out of memory decoding the request");
        return -1;
    }
    st->rejected = batch->rejected;
    recv_count_decoded(&g->hub->rc, st->signal, model_batch_items(batch),
                       batch->rejected > 0 ? (uint64_t)batch->rejected : 0);
    if (batch->rejected > 0)
        snprintf(st->reject_msg, sizeof(st->reject_msg), "%s", batch->reject_message.ptr);
    if (g->cfg.ingest != NULL)
        ingest_rec_batch(&st->rec, batch); /* before the store owns it */
    *out = batch;
    return 0;
}

/* Step 3: hands the batch (owned) to the store; the stream waits for the
 * commit, or is answered at once when the store refuses it. */
static void grpc_stream_append(grpc_stream *st, model_batch *batch) {
    grpc_server *g = st->conn->srv;
    size_t items = model_batch_items(batch);
    const char *why = NULL;
    grpc_done *d = NULL;
    if (!grpc_has_store(g))
        why = "no store";
    else if ((d = grpc_hub_expect(g->hub, grpc_conn_id(st->conn), st->id)) == NULL)
        why = "out of memory";
    if (why != NULL) {
        model_batch_free(batch);
        recv_count_rejected(&g->hub->rc, st->signal, RECV_UNAVAILABLE, items);
        grpc_reply_status(st, OTLP_GRPC_UNAVAILABLE,
                          g->st == NULL ? INGEST_REASON_INTERNAL : INGEST_REASON_NO_MEMORY, why);
        return;
    }
    st->state = GRPC_STREAM_WAIT;
    int src = grpc_append(g, batch, d);
    if (src != STORE_OK) {
        char msg[GRPC_MSG_MAX];
        grpc_hub_cancel(d); /* the callback will never come */
        recv_count_rejected(&g->hub->rc, st->signal, recv_outcome_of_store(src), items);
        snprintf(msg, sizeof(msg), "store: %s", store_strerror(src));
        grpc_reply_store_error(st, src, msg);
    }
}

/* The request is complete: inflate, decode, append. */
static void grpc_stream_process(grpc_stream *st) {
    assert(st->state == GRPC_STREAM_RECV && st->have_msg && st->method >= 0);
    if (st->deadline && grpc_now() >= st->deadline) {
        grpc_reply_status(st, OTLP_GRPC_DEADLINE_EXCEEDED, INGEST_REASON_DEADLINE,
                          "deadline exceeded");
        return;
    }
    buf inflated;
    buf_init(&inflated, st->conn->srv->max_msg);
    const uint8_t *data = NULL;
    size_t len = 0;
    model_batch *batch = NULL;
    if (grpc_stream_inflate(st, &inflated, &data, &len) == 0 &&
        grpc_stream_decode(st, data, len, &inflated, &batch) == 0)
        grpc_stream_append(st, batch);
    buf_free(&inflated);
}

void grpc_stream_request_done(grpc_stream *st) {
    st->req_done = 1;
    if (st->state != GRPC_STREAM_RECV)
        return;
    if (grpc_frame_partial(&st->frame)) {
        grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_FRAMING,
                          "request ended inside a message");
        return;
    }
    if (!st->have_msg) {
        grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_FRAMING, "request has no message");
        return;
    }
    grpc_stream_process(st);
}

/* ---- the commit ------------------------------------------------------------- */

void grpc_stream_committed(grpc_server *g, const grpc_done *d) {
    grpc_conn *c = grpc_conn_lookup(g, d->conn_id);
    if (c == NULL)
        return;
    grpc_stream *st = grpc_stream_find(c, d->stream_id);
    if (st == NULL || st->state != GRPC_STREAM_WAIT)
        return;
    if (d->status == STORE_OK) {
        grpc_reply_ok(st);
    } else {
        char msg[128];
        snprintf(msg, sizeof(msg), "commit failed: %s", store_strerror(d->status));
        grpc_reply_store_error(st, d->status, msg);
    }
}
