/* grpc_frame.h - incremental parser for gRPC length-prefixed messages.
 *
 * A gRPC request body is a sequence of messages, each framed as
 *   1 byte  compressed flag (0 or 1)
 *   4 bytes message length, big-endian
 *   length  bytes of message
 * and an HTTP/2 transport delivers it in DATA chunks of any size: a prefix
 * may be split across chunks, a message may span many, one chunk may hold
 * several messages. The parser is fed chunk by chunk and never holds more
 * than one message; a prefix that declares more than the limit is refused at
 * once, before any of its body is buffered.
 *
 * Usage:
 *   while (len > 0) {
 *       size_t used;
 *       int rc = grpc_frame_feed(&f, data, len, &used, &msg);
 *       data += used; len -= used;
 *       if (rc == GRPC_FRAME_MSG) ... msg is valid until the next feed ...
 *       else if (rc < 0) ... stop: the stream is unusable ...
 *   }
 */
#ifndef LOUPE_GRPC_FRAME_H
#define LOUPE_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define GRPC_FRAME_PREFIX_LEN 5

/* grpc_frame_feed() results: */
#define GRPC_FRAME_NEED_MORE 0 /* all input consumed; no message completed */
#define GRPC_FRAME_HEADER 1    /* a prefix of a non-empty message was read;
                                  grpc_frame_declared() tells its length */
#define GRPC_FRAME_MSG 2       /* a message is complete, see *msg */
#define GRPC_FRAME_ETOOBIG -1  /* a prefix declares more than max bytes */
#define GRPC_FRAME_EFLAGS -2   /* the flag byte is neither 0 nor 1 */
#define GRPC_FRAME_ENOMEM -3   /* out of memory buffering the message */

typedef struct grpc_frame_msg {
    int compressed;      /* the compressed flag was set */
    const uint8_t *data; /* borrowed: valid until the next feed, take or free */
    size_t len;
} grpc_frame_msg;

typedef struct grpc_frame {
    size_t max;                         /* largest accepted message */
    uint8_t prefix[GRPC_FRAME_PREFIX_LEN];
    unsigned prefix_len;                /* prefix bytes collected so far */
    int compressed;                     /* flag of the current message */
    uint32_t declared;                  /* length of the current message */
    int in_body;                        /* prefix done, body being collected */
    int failed;                         /* sticky GRPC_FRAME_E* code, or 0 */
    buf body;                           /* the current message's bytes */
    uint64_t messages;                  /* messages completed so far */
} grpc_frame;

/* Prepares a parser that accepts messages of at most max_len bytes. */
void grpc_frame_init(grpc_frame *f, size_t max_len);

/* Releases the buffered message, if any. The parser may be re-initialised. */
void grpc_frame_free(grpc_frame *f);

/* Consumes input up to and including the next event. *consumed is set to
 * the bytes used (all of len for NEED_MORE and for errors). Returns one of
 * the GRPC_FRAME_* codes above. After an error every later call returns the
 * same error and discards its input. `data` is borrowed for the call. */
int grpc_frame_feed(grpc_frame *f, const uint8_t *data, size_t len, size_t *consumed,
                    grpc_frame_msg *msg);

/* The declared length of the message being read (after GRPC_FRAME_HEADER or
 * GRPC_FRAME_ETOOBIG). */
uint32_t grpc_frame_declared(const grpc_frame *f);

/* 1 when part of a message (prefix or body) is buffered: a stream that ends
 * now was truncated. */
int grpc_frame_partial(const grpc_frame *f);

/* Hands the last completed message's bytes to the caller, who must free()
 * them; *len gets the length. Returns NULL with *len == 0 for an empty
 * message, and NULL with *len == 0 as well when there is nothing to take;
 * the message handed out by GRPC_FRAME_MSG is no longer valid afterwards. */
uint8_t *grpc_frame_take(grpc_frame *f, size_t *len);

const char *grpc_frame_strerror(int code);

#endif
