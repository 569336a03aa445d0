/* otlp_out.c - OTLP payloads going out: a request loupe stored (OTLP JSON)
 * in protobuf for the destinations of forwarding, and the answers they
 * send back (partial success), see otlp.h. */
#include "otlp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_internal.h"
#include "otlp_json_internal.h"

int otlp_json_to_pb(model_signal sig, const char *json, size_t len, buf *out, char *err,
                    size_t errlen) {
    otlp_json_doc doc;
    int rc = otlp_json_doc_parse(&doc, sig, json, len, otlp_json_transient_limit(len), err,
                                 errlen);
    if (rc != OTLP_OK)
        return rc;
    rc = otlp_pb_append(doc.msg, out);
    if (rc != OTLP_OK)
        otlp_errf(err, errlen, "OTLP JSON to protobuf: %s", otlp_strerror(rc));
    otlp_json_doc_free(&doc);
    return rc;
}

/* The response descriptor and the partial-success fields of sig. */
static const ProtobufCMessageDescriptor *otlp_out_response(model_signal sig) {
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        return &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor;
    case MODEL_SIGNAL_LOGS:
        return &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor;
    case MODEL_SIGNAL_METRICS:
        return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor;
    }
    return NULL;
}

static void otlp_out_msg(char *msg, size_t msglen, const char *text) {
    if (msglen > 0)
        snprintf(msg, msglen, "%s", text != NULL ? text : "");
}

int otlp_response_read_pb(model_signal sig, const uint8_t *data, size_t len, int64_t *rejected,
                          char *msg, size_t msglen) {
    *rejected = 0;
    otlp_out_msg(msg, msglen, "");
    const ProtobufCMessageDescriptor *d = otlp_out_response(sig);
    if (d == NULL)
        return OTLP_EDECODE;
    if (len == 0)
        return OTLP_OK;
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, data);
    if (m == NULL)
        return OTLP_EDECODE;
    switch (sig) {
    case MODEL_SIGNAL_TRACES: {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            (const void *)m;
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_spans;
            otlp_out_msg(msg, msglen, r->partial_success->error_message);
        }
        break;
    }
    case MODEL_SIGNAL_LOGS: {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
            (const void *)m;
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_log_records;
            otlp_out_msg(msg, msglen, r->partial_success->error_message);
        }
        break;
    }
    case MODEL_SIGNAL_METRICS: {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
            (const void *)m;
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_data_points;
            otlp_out_msg(msg, msglen, r->partial_success->error_message);
        }
        break;
    }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return OTLP_OK;
}

int otlp_response_read_json(model_signal sig, const char *data, size_t len, int64_t *rejected,
                            char *msg, size_t msglen) {
    static const char *const keys[] = {[MODEL_SIGNAL_TRACES] = "rejectedSpans",
                                       [MODEL_SIGNAL_LOGS] = "rejectedLogRecords",
                                       [MODEL_SIGNAL_METRICS] = "rejectedDataPoints"};
    *rejected = 0;
    otlp_out_msg(msg, msglen, "");
    if (sig < MODEL_SIGNAL_TRACES || sig > MODEL_SIGNAL_METRICS)
        return OTLP_EDECODE;
    if (len == 0)
        return OTLP_OK;
    json_t *root = json_loadb(data, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return OTLP_EDECODE;
    }
    json_t *ps = json_object_get(root, "partialSuccess");
    const json_t *n = json_object_get(ps, keys[sig]);
    if (json_is_integer(n))
        *rejected = (int64_t)json_integer_value(n);
    else if (json_is_string(n))
        *rejected = strtoll(json_string_value(n), NULL, 10);
    otlp_out_msg(msg, msglen, json_string_value(json_object_get(ps, "errorMessage")));
    json_decref(root);
    return OTLP_OK;
}
