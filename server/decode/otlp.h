/* otlp.h - OTLP payloads in and out.
 *
 * Decodes Export{Trace,Logs,Metrics}ServiceRequest bodies, protobuf or OTLP
 * JSON, into a model_batch, and encodes the answers (Export*ServiceResponse
 * with partial success, google.rpc.Status for errors) in either encoding.
 * Shared by the OTLP/HTTP and OTLP/gRPC receivers and by import.
 *
 * Items that are individually invalid (bad id length, invalid UTF-8, values
 * nested deeper than MODEL_MAX_VALUE_DEPTH) are left out of the batch and
 * counted in batch->rejected with a message; the request as a whole fails
 * only when it cannot be decoded at all.
 */
#ifndef LOUPE_OTLP_H
#define LOUPE_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "storage/model.h"

#define OTLP_OK 0
#define OTLP_EDECODE -1 /* not a valid request of that signal: HTTP 400, gRPC INVALID_ARGUMENT */
#define OTLP_ENOMEM -2  /* out of memory: retryable */
#define OTLP_ETOOBIG -3 /* decoded batch would exceed mem_limit: HTTP 413, gRPC RESOURCE_EXHAUSTED */

/* gRPC status codes used in google.rpc.Status and grpc-status. */
#define OTLP_GRPC_OK 0
#define OTLP_GRPC_CANCELLED 1
#define OTLP_GRPC_UNKNOWN 2
#define OTLP_GRPC_INVALID_ARGUMENT 3
#define OTLP_GRPC_DEADLINE_EXCEEDED 4
#define OTLP_GRPC_NOT_FOUND 5
#define OTLP_GRPC_RESOURCE_EXHAUSTED 8
#define OTLP_GRPC_UNIMPLEMENTED 12
#define OTLP_GRPC_INTERNAL 13
#define OTLP_GRPC_UNAVAILABLE 14
#define OTLP_GRPC_UNAUTHENTICATED 16

/* Decodes a protobuf request body. On OTLP_OK *out is a new batch owned by
 * the caller. `mem_limit` caps the bytes the batch may use (0 = none). On
 * failure a one-line reason is written to err (errlen > 0). `data` is
 * borrowed for the call only. */
int otlp_decode_pb(model_signal sig, const uint8_t *data, size_t len, size_t mem_limit,
                   model_batch **out, char *err, size_t errlen);

/* As otlp_decode_pb() for an OTLP JSON body (need not be NUL-terminated). */
int otlp_decode_json(model_signal sig, const char *data, size_t len, size_t mem_limit,
                     model_batch **out, char *err, size_t errlen);

/* Appends an Export*ServiceResponse: empty when rejected == 0, else with
 * partial_success {rejected_<items>, error_message}. */
int otlp_response_pb(model_signal sig, int64_t rejected, const char *message, buf *out);
int otlp_response_json(model_signal sig, int64_t rejected, const char *message, buf *out);

/* ---- going out (forwarding what loupe stored) ------------------------------ */

/* Appends the protobuf encoding of an OTLP JSON request body of sig (the
 * decoder's JSON mapping, then protobuf-c's packing; nothing is validated
 * beyond the mapping, nothing is cut) to out. json is borrowed for the
 * call. Returns OTLP_OK, or OTLP_EDECODE / OTLP_ENOMEM / OTLP_ETOOBIG with a
 * one-line reason in err. */
int otlp_json_to_pb(model_signal sig, const char *json, size_t len, buf *out, char *err,
                    size_t errlen);

/* Reads an Export*ServiceResponse of sig, protobuf or OTLP JSON: the items
 * its partial_success rejected into *rejected (0 when none or the body is
 * empty) and its error message into msg (truncated; "" when none).
 * Returns OTLP_OK or OTLP_EDECODE. */
int otlp_response_read_pb(model_signal sig, const uint8_t *data, size_t len, int64_t *rejected,
                          char *msg, size_t msglen);
int otlp_response_read_json(model_signal sig, const char *data, size_t len, int64_t *rejected,
                            char *msg, size_t msglen);

/* Appends a google.rpc.Status {code, message}. */
int otlp_status_pb(int32_t grpc_code, const char *message, buf *out);
int otlp_status_json(int32_t grpc_code, const char *message, buf *out);

const char *otlp_strerror(int code);

/* ---- per-item limits (applied by every decoder, both transports) ------- */

/* What one item may carry. Past a limit the OTLP data model's rules apply:
 * attributes beyond max_attrs (per resource, scope, span, event, link, log
 * record, data point, exemplar) are left out and added to the item's
 * dropped_attributes_count; string and bytes values longer than
 * max_value_len (at any depth inside arrays and kvlists) are cut, strings
 * at a UTF-8 character boundary; span events and links beyond max_events /
 * max_links are left out and added to dropped_events_count /
 * dropped_links_count. Keys, log bodies and other fields are not cut (the
 * body size limits bound them). 0 = no limit. */
typedef struct otlp_limits {
    size_t max_attrs;     /* default OTLP_DEFAULT_MAX_ATTRS */
    size_t max_value_len; /* bytes; default OTLP_DEFAULT_MAX_VALUE_LEN */
    size_t max_events;    /* per span; default OTLP_DEFAULT_MAX_EVENTS */
    size_t max_links;     /* per span; default OTLP_DEFAULT_MAX_LINKS */
} otlp_limits;

#define OTLP_DEFAULT_MAX_ATTRS 128
#define OTLP_DEFAULT_MAX_VALUE_LEN ((size_t)32 << 10)
#define OTLP_DEFAULT_MAX_EVENTS 128
#define OTLP_DEFAULT_MAX_LINKS 128

/* Sets the process-wide limits (copied). Call before any receiver starts;
 * not synchronised with decodes running on other threads. NULL restores the
 * defaults. */
void otlp_limits_set(const otlp_limits *l);

/* The limits in force. */
void otlp_limits_get(otlp_limits *out);

/* What the limits removed since the process started (all decoders, all
 * transports; monotonic counters, safe to read from any thread). */
typedef struct otlp_limit_stats {
    uint64_t attrs_dropped;    /* attributes left out past max_attrs */
    uint64_t values_truncated; /* string/bytes values cut to max_value_len */
    uint64_t events_dropped;   /* span events left out past max_events */
    uint64_t links_dropped;    /* span links left out past max_links */
} otlp_limit_stats;

void otlp_limit_stats_get(otlp_limit_stats *out);

#endif
