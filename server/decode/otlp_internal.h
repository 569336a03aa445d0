/* otlp_internal.h - what the OTLP decoders share inside server/.
 *
 * Both decoders end in the same place: the protobuf path unpacks the body
 * with protobuf-c, the JSON path builds the same protobuf-c message structs
 * from the JSON tree, and otlp_convert_*() turns those structs into the
 * internal model, validating each item. So validation lives in one place.
 */
#ifndef LOUPE_OTLP_INTERNAL_H
#define LOUPE_OTLP_INTERNAL_H

#include <protobuf-c/protobuf-c.h>

#include "util/arena.h"
#include "util/buf.h"
#include "storage/model.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* Converts a request into the batch: appends items, rejects invalid ones.
 * The request is borrowed; every string the batch keeps is copied into the
 * batch's arena. Returns OTLP_OK, OTLP_ENOMEM or OTLP_ETOOBIG. */
int otlp_convert_traces(const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
                        model_batch *b);
int otlp_convert_logs(const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req,
                      model_batch *b);
int otlp_convert_metrics(
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req,
    model_batch *b);

/* Formats a one-line reason into err (nothing when err is NULL or errlen
 * is 0). */
void otlp_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The protobuf-c descriptor of the signal's Export*ServiceRequest (NULL for
 * an unknown signal). */
const ProtobufCMessageDescriptor *otlp_request_descriptor(model_signal sig);

/* Appends msg's protobuf encoding to out. Returns OTLP_OK, OTLP_ETOOBIG
 * (past out's cap) or OTLP_ENOMEM. */
int otlp_pb_append(const ProtobufCMessage *msg, buf *out);

/* A ProtobufCAllocator that allocates from `a` and never frees (the arena is
 * freed or reset as a whole). */
void otlp_arena_allocator(ProtobufCAllocator *alloc, arena *a);

#endif
