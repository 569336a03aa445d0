/* grpc_h2.c - the gRPC receiver's nghttp2 callbacks.
 *
 * They route what nghttp2 parsed to the stream's request handling
 * (grpc_stream.c) and submit frames; nothing is freed here except stream
 * records in on_stream_close (which nghttp2 allows), and a connection is
 * never freed from inside a callback.
 */
#include "grpc_internal.h"

#include <string.h>

static int grpc_is_request_headers(const nghttp2_frame *frame) {
    return frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

static int grpc_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                                 void *user_data) {
    grpc_conn *c = user_data;
    if (!grpc_is_request_headers(frame))
        return 0;
    grpc_stream *st = grpc_stream_new(c, frame->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int grpc_on_header(nghttp2_session *session, const nghttp2_frame *frame,
                          const uint8_t *name, size_t namelen, const uint8_t *value,
                          size_t valuelen, uint8_t flags, void *user_data) {
    (void)flags;
    (void)user_data;
    if (!grpc_is_request_headers(frame))
        return 0;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st != NULL)
        grpc_stream_header(st, name, namelen, value, valuelen);
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
            memcmp(frame->ping.opaque_data, "loupe-sd", 8) == 0)
            grpc_conn_final_goaway(c);
        return 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
        grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (st == NULL)
            return 0;
        if (grpc_is_request_headers(frame) && !grpc_stream_headers_done(st)) {
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
                st->req_done = 1;
            return 0;
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
    (void)error_code;
    (void)user_data;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    grpc_stream_close(st);
    return 0;
}

int grpc_h2_setup(grpc_server *g) {
    if (nghttp2_session_callbacks_new(&g->callbacks) != 0)
        return -1;
    nghttp2_session_callbacks_set_on_begin_headers_callback(g->callbacks, grpc_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(g->callbacks, grpc_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(g->callbacks, grpc_on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(g->callbacks, grpc_on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(g->callbacks, grpc_on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(g->callbacks, grpc_on_stream_close);
    if (nghttp2_option_new(&g->option) != 0)
        return -1;
    /* A peer that makes us queue more than this many SETTINGS/PING acks
     * without reading them is flooding: the session fails. */
    nghttp2_option_set_max_outbound_ack(g->option, 1000);
    return 0;
}
