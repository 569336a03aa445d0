/* grpc_frame.c - incremental gRPC length-prefixed message parser, see grpc_frame.h. */
#include "grpc_frame.h"

#include <stdlib.h>
#include <string.h>

/* A completed message larger than this has its memory released before the
 * next one starts, so an idle stream does not pin a large buffer. */
#define GRPC_FRAME_KEEP_BYTES (64 * 1024)

static const uint8_t grpc_frame_empty[1] = {0};

void grpc_frame_init(grpc_frame *f, size_t max_len) {
    memset(f, 0, sizeof(*f));
    f->max = max_len;
    buf_init(&f->body, 0);
}

void grpc_frame_free(grpc_frame *f) {
    buf_free(&f->body);
    f->prefix_len = 0;
    f->in_body = 0;
}

uint32_t grpc_frame_declared(const grpc_frame *f) {
    return f->declared;
}

int grpc_frame_partial(const grpc_frame *f) {
    return f->prefix_len > 0 || f->in_body;
}

uint8_t *grpc_frame_take(grpc_frame *f, size_t *len) {
    *len = 0;
    if (f->in_body || f->prefix_len > 0 || f->body.len == 0)
        return NULL;
    return (uint8_t *)buf_detach(&f->body, len);
}

/* Forgets the previous message before a new prefix starts. */
static void grpc_frame_next(grpc_frame *f) {
    if (f->body.cap > GRPC_FRAME_KEEP_BYTES)
        buf_free(&f->body);
    else
        buf_reset(&f->body);
}

static int grpc_frame_fail(grpc_frame *f, int code) {
    f->failed = code;
    buf_free(&f->body);
    return code;
}

int grpc_frame_feed(grpc_frame *f, const uint8_t *data, size_t len, size_t *consumed,
                    grpc_frame_msg *msg) {
    size_t used = 0;
    int rc = GRPC_FRAME_NEED_MORE;

    msg->compressed = 0;
    msg->data = NULL;
    msg->len = 0;
    if (f->failed) {
        *consumed = len;
        return f->failed;
    }
    if (!f->in_body) {
        if (f->prefix_len == 0)
            grpc_frame_next(f);
        while (f->prefix_len < GRPC_FRAME_PREFIX_LEN && used < len)
            f->prefix[f->prefix_len++] = data[used++];
        if (f->prefix_len < GRPC_FRAME_PREFIX_LEN)
            goto out;
        f->prefix_len = 0;
        if (f->prefix[0] > 1) {
            used = len;
            rc = grpc_frame_fail(f, GRPC_FRAME_EFLAGS);
            goto out;
        }
        f->compressed = f->prefix[0];
        f->declared = (uint32_t)f->prefix[1] << 24 | (uint32_t)f->prefix[2] << 16 |
                      (uint32_t)f->prefix[3] << 8 | (uint32_t)f->prefix[4];
        if (f->declared > f->max) {
            used = len;
            rc = grpc_frame_fail(f, GRPC_FRAME_ETOOBIG);
            goto out;
        }
        if (f->declared == 0) {
            f->messages++;
            msg->compressed = f->compressed;
            msg->data = grpc_frame_empty;
            rc = GRPC_FRAME_MSG;
            goto out;
        }
        f->in_body = 1;
        f->body.max = f->declared;
        rc = GRPC_FRAME_HEADER;
        goto out;
    }

    if (used == len)
        goto out;
    size_t need = f->declared - f->body.len;
    size_t take = len - used < need ? len - used : need;
    if (buf_append(&f->body, data + used, take) != BUF_OK) {
        used = len;
        rc = grpc_frame_fail(f, GRPC_FRAME_ENOMEM);
        goto out;
    }
    used += take;
    if (f->body.len < f->declared)
        goto out;
    f->in_body = 0;
    f->messages++;
    msg->compressed = f->compressed;
    msg->data = (const uint8_t *)f->body.ptr;
    msg->len = f->body.len;
    rc = GRPC_FRAME_MSG;
out:
    *consumed = used;
    return rc;
}

const char *grpc_frame_strerror(int code) {
    switch (code) {
    case GRPC_FRAME_NEED_MORE:
        return "need more input";
    case GRPC_FRAME_HEADER:
        return "message prefix read";
    case GRPC_FRAME_MSG:
        return "message complete";
    case GRPC_FRAME_ETOOBIG:
        return "message larger than the limit";
    case GRPC_FRAME_EFLAGS:
        return "invalid compressed flag in message prefix";
    case GRPC_FRAME_ENOMEM:
        return "out of memory";
    default:
        return "unknown grpc_frame error";
    }
}
