/* forward.h - sending everything loupe commits on to OpenTelemetry
 * Collectors (or any OTLP backend): --forward URL.
 *
 * DESIGN
 * The store is the queue. Each destination has its own thread and its own
 * store_reader; it reads what was committed after its position
 * (query_tail_next: per signal, the last row taken in each live segment),
 * converts it to the destination's encoding (OTLP/gRPC and http/protobuf:
 * protobuf from the stored OTLP JSON through the decoder's JSON mapping;
 * http/json as it is), sends it, and moves its position only once the
 * destination has answered. Positions are saved in the data directory
 * (forward-HASH.pos, one file per destination, written atomically after
 * every delivered request), so a restart or an outage of the destination
 * loses nothing that retention still keeps; what retention evicts before
 * it could be sent is counted. Retryable answers (HTTP 429, 502, 503, 504
 * honouring Retry-After; gRPC UNAVAILABLE, RESOURCE_EXHAUSTED and the other
 * codes OTLP calls retryable; no answer at all) are retried with
 * exponential backoff; any other refusal (HTTP 400, gRPC INVALID_ARGUMENT,
 * ...) is logged and counted, and those items are skipped. Ingest never
 * waits for forwarding: the threads only read. Delivery is at least once:
 * after a crash between an answer and the save of the position, those
 * items are sent again.
 *
 * Destinations: grpc://HOST:PORT (OTLP/gRPC over h2c, nghttp2's client
 * side in forward_grpc.c), http://HOST:PORT[/PATH] and https://... (libcurl,
 * forward_http.c; /v1/traces etc. appended to the path), whose protocol
 * --forward-protocol chooses: http/protobuf (the default), http/json, or
 * grpc (h2c to HOST:PORT; gRPC over TLS is not supported).
 */
#ifndef LOUPE_FORWARD_H
#define LOUPE_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "storage/model.h"
#include "storage/store.h"

#define FORWARD_MAX_DESTS 8
#define FORWARD_MAX_HEADERS 16

typedef struct forward_config {
    const char *const *urls; /* destinations; borrowed for the call */
    size_t n_urls;
    const char *protocol; /* "http/protobuf" (NULL), "http/json" or "grpc": for http(s) URLs */
    const char *const *headers; /* "key=value", sent with every request; borrowed */
    size_t n_headers;
    const char *data_dir; /* where positions are kept; NULL = not kept (memory storage) */
} forward_config;

/* One destination's counters, by signal (MODEL_SIGNAL_*). */
typedef struct forward_stats {
    char name[160]; /* the destination as configured, without credentials */
    uint64_t sent[MODEL_SIGNAL_COUNT];    /* items the destination accepted */
    uint64_t retried[MODEL_SIGNAL_COUNT]; /* items of requests sent again after a retryable answer */
    uint64_t failed[MODEL_SIGNAL_COUNT];  /* items refused for good (skipped) */
    uint64_t dropped[MODEL_SIGNAL_COUNT]; /* items evicted before they could be sent */
    uint64_t lag_items[MODEL_SIGNAL_COUNT];  /* stored, not yet sent */
    double lag_seconds[MODEL_SIGNAL_COUNT];  /* how long it has not been caught up; 0 when it is */
} forward_stats;

typedef struct forwarder forwarder;

/* Checks the destinations, protocol and headers (as forward_start would)
 * without starting anything. Returns 0, or -1 with a one-line reason in
 * err naming the flag. */
int forward_check(const forward_config *cfg, char *err, size_t errlen);

/* Starts one thread per destination reading st (borrowed: outlives the
 * forwarder). A destination without a saved position starts at the end of
 * what is stored now. Returns 0 and *out (stop with forward_stop), or -1
 * with err set. With no URL, *out is NULL and 0 is returned. */
int forward_start(const forward_config *cfg, store *st, forwarder **out, char *err,
                  size_t errlen);

/* Number of destinations. */
size_t forward_count(const forwarder *f);

/* Destination i's counters (thread-safe). */
void forward_get_stats(forwarder *f, size_t i, forward_stats *out);

/* Stops the threads (a send in progress is abandoned: gRPC within 100 ms,
 * HTTP within about a second, at libcurl's next progress call; its items
 * are sent again next time), saves the positions and frees. Accepts NULL. */
void forward_stop(forwarder *f);

#endif
