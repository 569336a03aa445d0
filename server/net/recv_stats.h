/* recv_stats.h - per-transport counters of the OTLP receivers, for /metrics.
 *
 * Each receiver (grpc.c, otlp_http.c) embeds one recv_counters and bumps it
 * from its own threads (lock-free atomics); recv_counters_get() takes a
 * snapshot that selfmetrics renders. Items: every item of a decoded request
 * is counted once as received, then once as accepted (committed) or as
 * rejected with a reason, so received = accepted + rejected once nothing is
 * in flight. Requests are counted once each, by outcome. A request that
 * could not be decoded has no item count: it shows in requests only.
 */
#ifndef LOUPE_RECV_STATS_H
#define LOUPE_RECV_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "storage/model.h"

/* Why a request or items were not accepted (label values in /metrics). */
typedef enum recv_outcome {
    RECV_OK = 0,          /* answered success (items may be partially rejected) */
    RECV_INVALID,         /* malformed, undecodable, wrong path/method/type; invalid items */
    RECV_UNAUTHENTICATED, /* missing or wrong API key */
    RECV_TOO_LARGE,       /* over a size limit */
    RECV_BACKPRESSURE,    /* store queue full or closing, body budget full: retry later */
    RECV_UNAVAILABLE,     /* commit failed, out of memory: retry later */
    RECV_OTHER,           /* anything else (deadline exceeded, internal error) */
    RECV_OUTCOME_COUNT
} recv_outcome;

/* A snapshot. */
typedef struct recv_stats {
    uint64_t requests[RECV_OUTCOME_COUNT];
    uint64_t items_received[MODEL_SIGNAL_COUNT];
    uint64_t items_accepted[MODEL_SIGNAL_COUNT];
    uint64_t items_rejected[MODEL_SIGNAL_COUNT][RECV_OUTCOME_COUNT]; /* [RECV_OK] stays 0 */
    int64_t open_connections;
} recv_stats;

/* The live counters; zero-initialised memory is a valid start. */
typedef struct recv_counters {
    _Atomic uint64_t requests[RECV_OUTCOME_COUNT];
    _Atomic uint64_t items_received[MODEL_SIGNAL_COUNT];
    _Atomic uint64_t items_accepted[MODEL_SIGNAL_COUNT];
    _Atomic uint64_t items_rejected[MODEL_SIGNAL_COUNT][RECV_OUTCOME_COUNT];
    _Atomic int64_t open_connections;
} recv_counters;

/* One request answered with the given outcome. */
void recv_count_request(recv_counters *c, recv_outcome o);

/* A request decoded into `valid` items plus `invalid` items the decoder
 * dropped (counted received, and invalid ones at once rejected as invalid). */
void recv_count_decoded(recv_counters *c, model_signal sig, uint64_t valid, uint64_t invalid);

/* n items committed. */
void recv_count_accepted(recv_counters *c, model_signal sig, uint64_t n);

/* n items refused for reason o. */
void recv_count_rejected(recv_counters *c, model_signal sig, recv_outcome o, uint64_t n);

/* The store's answer for batch b (may be NULL): its items accepted when
 * status is STORE_OK, else rejected for the outcome the status maps to. */
void recv_count_committed(recv_counters *c, int status, const model_batch *b);

/* A connection opened (+1) or closed (-1). */
void recv_count_connection(recv_counters *c, int delta);

/* The outcome a STORE_* code from store_append() or a commit maps to. */
recv_outcome recv_outcome_of_store(int store_code);

/* Snapshot (each field read atomically). */
void recv_counters_get(const recv_counters *c, recv_stats *out);

/* Label value of an outcome ("ok", "invalid", ...). */
const char *recv_outcome_name(recv_outcome o);

#endif
