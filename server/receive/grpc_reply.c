/* grpc_reply.c - the gRPC receiver's answers: trailers-only errors and the
 * Export*ServiceResponse with its trailers. */
#include "grpc_internal.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "server/decode/otlp.h"
#include "server/net/ingest_log.h"

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

#define GRPC_NV(name, value, vlen)                                                              \
    {                                                                                           \
        (uint8_t *)(uintptr_t)(name), (uint8_t *)(uintptr_t)(value), sizeof(name) - 1, (vlen), \
            NGHTTP2_NV_FLAG_NONE                                                                \
    }
#define GRPC_NVS(name, value) GRPC_NV(name, value, sizeof(value) - 1)

/* How an error answer is counted in the receiver's request outcomes. */
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

/* Records the stream's answer in the ingest log, when the server has one. */
static void grpc_reply_record(grpc_stream *st, int http_status, int code, ingest_reason why,
                              const char *message) {
    grpc_conn *c = st->conn;
    ingest_log *log = c->srv->cfg.ingest;
    if (log == NULL)
        return;
    ingest_rec *r = &st->rec;
    if (!c->peer_known && c->fd >= 0) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0) {
            ingest_rec_peer(r, (const struct sockaddr *)&peer);
            memcpy(c->peer, r->client, sizeof(c->peer));
        }
        c->peer_known = 1;
    }
    memcpy(r->client, c->peer, sizeof(r->client));
    r->port = (uint16_t)c->srv->port;
    ingest_rec_text(r->path, sizeof(r->path), st->path, strlen(st->path));
    ingest_rec_text(r->coding, sizeof(r->coding), st->encoding, strlen(st->encoding));
    /* a message's flag says whether it is compressed; before one, the header */
    if ((st->have_msg && !st->msg_compressed) || st->encoding[0] == '\0' ||
        strcmp(st->encoding, "identity") == 0)
        r->compression = INGEST_COMP_NONE;
    else
        r->compression = strcmp(st->encoding, "gzip") == 0 ? INGEST_COMP_GZIP : INGEST_COMP_OTHER;
    if (st->method >= 0)
        r->signal = (int8_t)st->signal;
    r->http_status = (uint16_t)http_status;
    r->grpc_code = (int16_t)code;
    r->reason = (uint8_t)why;
    ingest_rec_text(r->message, sizeof(r->message), message, message ? strlen(message) : 0);
    ingest_log_add(log, r);
}

static void grpc_reply_error_as(grpc_stream *st, int http_status, int code, ingest_reason why,
                                const char *message, recv_outcome outcome) {
    grpc_conn *c = st->conn;
    assert(st->state != GRPC_STREAM_DONE); /* one answer per stream */
    recv_count_request(&c->srv->hub->rc, outcome);
    grpc_reply_record(st, http_status, code, why, message);
    char status_s[16], code_s[16], msg_s[GRPC_MSG_MAX * 3 + 1];
    int sl = snprintf(status_s, sizeof(status_s), "%d", http_status);
    int cl = snprintf(code_s, sizeof(code_s), "%d", code);
    size_t ml = grpc_pct_encode(message ? message : "", msg_s, sizeof(msg_s));
    nghttp2_nv nva[] = {
        GRPC_NV(":status", status_s, (size_t)sl),
        GRPC_NVS("content-type", "application/grpc"),
        GRPC_NVS("grpc-accept-encoding", GRPC_ACCEPT_ENCODING),
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

void grpc_reply_error(grpc_stream *st, int http_status, int code, ingest_reason why,
                      const char *message) {
    grpc_reply_error_as(st, http_status, code, why, message, grpc_outcome_of(code));
}

/* The inspector's reason for a STORE_* code. */
static ingest_reason grpc_store_reason(int store_code) {
    switch (store_code) {
    case STORE_EFULL:
        return INGEST_REASON_STORE_FULL;
    case STORE_ECLOSED:
        return INGEST_REASON_SHUTTING_DOWN;
    case STORE_EIO:
        return INGEST_REASON_COMMIT_FAILED;
    case STORE_ENOMEM:
        return INGEST_REASON_NO_MEMORY;
    default:
        return INGEST_REASON_INTERNAL;
    }
}

void grpc_reply_store_error(grpc_stream *st, int store_code, const char *message) {
    grpc_reply_error_as(st, 200,
                        store_is_retryable(store_code) ? OTLP_GRPC_UNAVAILABLE : OTLP_GRPC_INTERNAL,
                        grpc_store_reason(store_code), message, recv_outcome_of_store(store_code));
}

void grpc_reply_status(grpc_stream *st, int code, ingest_reason why, const char *message) {
    grpc_reply_error(st, 200, code, why, message);
}

/* Hands nghttp2 the response message, then the trailers. */
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

void grpc_reply_ok(grpc_stream *st) {
    grpc_conn *c = st->conn;
    assert(st->state == GRPC_STREAM_WAIT && st->method >= 0); /* appended, now committed */
    model_signal sig = st->signal;
    buf body;
    buf_init(&body, 1 << 20);
    static const uint8_t zero5[GRPC_FRAME_PREFIX_LEN] = {0};
    if (buf_append(&body, zero5, sizeof(zero5)) != BUF_OK ||
        otlp_response_pb(sig, st->rejected, st->rejected > 0 ? st->reject_msg : "", &body) != 0) {
        buf_free(&body);
        grpc_reply_status(st, OTLP_GRPC_INTERNAL, INGEST_REASON_INTERNAL,
                          "cannot encode the response");
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
    grpc_reply_record(st, 200, 0, INGEST_REASON_NONE, st->rejected > 0 ? st->reject_msg : "");
    nghttp2_nv nva[] = {
        GRPC_NVS(":status", "200"),
        GRPC_NVS("content-type", "application/grpc"),
        GRPC_NVS("grpc-accept-encoding", GRPC_ACCEPT_ENCODING),
    };
    nghttp2_data_provider prd;
    prd.source.ptr = st;
    prd.read_callback = grpc_resp_read;
    if (nghttp2_submit_response(c->session, st->id, nva, 3, &prd) != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}
