/* forward_internal.h - what the server/forward/ files share: a parsed
 * destination (forward_dest.c), the result of one send, the two clients
 * (forward_http.c, forward_grpc.c) and the saved positions
 * (forward_pos.c). */
#ifndef LOUPE_FORWARD_INTERNAL_H
#define LOUPE_FORWARD_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/model.h"
#include "storage/query.h"
#include "forward.h"

typedef enum forward_proto {
    FORWARD_HTTP_PROTOBUF = 0,
    FORWARD_HTTP_JSON,
    FORWARD_GRPC,
} forward_proto;

/* A destination as parsed from --forward and --forward-protocol. */
typedef struct forward_dest {
    forward_proto proto;
    int tls;        /* https:// (HTTP protocols only) */
    char host[256]; /* as written: a name, an IPv4 address or "[v6]" */
    int port;
    char base[512]; /* HTTP: scheme://host:port/path without the trailing '/' */
    char name[160]; /* for logs and /metrics: the URL without user info or query */
    char key[24];   /* a hash of proto and URL: names the position file */
} forward_dest;

/* Parses url (with the configured protocol name, NULL = http/protobuf)
 * into d. Returns 0, or -1 with a one-line reason in err. */
int forward_dest_parse(const char *url, const char *protocol, forward_dest *d, char *err,
                       size_t errlen);

/* Checks a "key=value" header and splits it: key (lowercased for HTTP/2)
 * into key[keylen], *value pointing into h. Returns 0, or -1 with a reason. */
int forward_header_split(const char *h, char *key, size_t keylen, const char **value, char *err,
                         size_t errlen);

/* ---- one send ---------------------------------------------------------------- */

typedef enum forward_outcome {
    FORWARD_DELIVERED = 0, /* accepted (perhaps partly: rejected items counted) */
    FORWARD_RETRY,         /* retryable answer, or none: send the same items again later */
    FORWARD_REFUSED,       /* refused for good: count the items and skip them */
} forward_outcome;

typedef struct forward_result {
    forward_outcome outcome;
    uint64_t retry_after_ms; /* the destination's Retry-After; 0 = none */
    int64_t rejected;        /* items a partial success rejected */
    char why[256];           /* what happened, for the log (no secrets) */
} forward_result;

/* Stop flag shared by a destination's thread and its client: a send in
 * progress gives up soon after it is set. */
typedef atomic_int forward_stop_flag;

/* A client speaks one protocol to one destination; it keeps its
 * connection between sends. */
typedef struct forward_client forward_client;

/* Makes the client for d (borrowed, outlives it) with the extra headers
 * ("key=value", copied). Returns NULL when out of memory. */
forward_client *forward_http_new(const forward_dest *d, const char *const *headers, size_t n,
                                 const forward_stop_flag *stop);
forward_client *forward_grpc_new(const forward_dest *d, const char *const *headers, size_t n,
                                 const forward_stop_flag *stop);

/* Sends one Export*ServiceRequest of sig, already in the destination's
 * encoding (body borrowed for the call), and classifies the answer. */
void forward_http_send(forward_client *c, model_signal sig, const void *body, size_t len,
                       forward_result *r);
void forward_grpc_send(forward_client *c, model_signal sig, const void *body, size_t len,
                       forward_result *r);

void forward_http_free(forward_client *c);
void forward_grpc_free(forward_client *c);

/* 1 when an HTTP status is worth retrying in OTLP's terms (429, 502, 503,
 * 504); 1 when a gRPC status code is (CANCELLED, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS). */
int forward_http_retryable(long status);
int forward_grpc_retryable(int code);

/* ---- saved positions -------------------------------------------------------------- */

/* Loads the positions of destination d from dir into t[MODEL_SIGNAL_COUNT]
 * (initialised): *found is 1 for a signal whose line was read. A missing
 * file is not an error (nothing found). Returns 0, or -1 with a reason
 * (unreadable, malformed: nothing found). */
int forward_pos_load(const char *dir, const forward_dest *d, query_tail *t, int *found, char *err,
                     size_t errlen);

/* Writes them atomically (a temporary file, fsync, rename). Returns 0, or
 * -1 with a reason. */
int forward_pos_save(const char *dir, const forward_dest *d, const query_tail *t, char *err,
                     size_t errlen);

#endif
