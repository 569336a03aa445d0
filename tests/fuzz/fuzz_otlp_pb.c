/* fuzz_otlp_pb.c - libFuzzer target for OTLP protobuf decoding (otlp_decode_pb).
 *
 * Input: byte 0 selects the signal (byte % 3: 0 traces, 1 logs, 2 metrics;
 * so the ASCII digits '0', '1', '2' select them with no memory limit) and
 * the batch's mem_limit ((byte / 3) % 4: none, 1 KiB, one arena chunk,
 * 256 KiB). The rest is the request body, exactly as a receiver hands it to
 * otlp_decode_pb(): the depth pre-scan, protobuf-c's unpacker in the
 * temporary arena and the converter all run on it.
 *
 * Checked beyond "no crash, no sanitizer report":
 *  - the out-parameters: a batch exactly on success, a one-line reason on
 *    failure, and no OTLP_ENOMEM for bodies this small;
 *  - every promise of the model (model_check.h) on the decoded batch;
 *  - a mem_limit only ever turns success into OTLP_ETOOBIG: the same body
 *    decoded with and without it gives the same outcome otherwise, and the
 *    same batch (digest) when both succeed;
 *  - the answers: otlp_response_pb() for the batch's partial success and
 *    otlp_status_pb() for the error unpack again to what was put in, append
 *    after what the buf held, and leave the buf untouched when it is too
 *    small.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "google/rpc/status.pb-c.h"
#include "model_check.h"
#include "server/decode/otlp.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t fz_limits[4] = {0, 1024, 64 * 1024 + 256, 256 * 1024};

static const char fz_prefix[] = "prefix";

/* Unpacks an Export*ServiceResponse and returns its partial success as
 * (rejected, message); (0, NULL) when there is none. */
static void fz_unpack_response(model_signal sig, const uint8_t *p, size_t n, int64_t *rejected,
                               char **message, ProtobufCMessage **msg) {
    *rejected = 0;
    *message = NULL;
    switch (sig) {
    case MODEL_SIGNAL_TRACES: {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                NULL, n, p);
        MC_CHECK(r != NULL);
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_spans;
            *message = r->partial_success->error_message;
        }
        *msg = &r->base;
        return;
    }
    case MODEL_SIGNAL_LOGS: {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
            opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
                NULL, n, p);
        MC_CHECK(r != NULL);
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_log_records;
            *message = r->partial_success->error_message;
        }
        *msg = &r->base;
        return;
    }
    case MODEL_SIGNAL_METRICS: {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
                NULL, n, p);
        MC_CHECK(r != NULL);
        if (r->partial_success != NULL) {
            *rejected = r->partial_success->rejected_data_points;
            *message = r->partial_success->error_message;
        }
        *msg = &r->base;
        return;
    }
    }
    MC_CHECK(!"signal out of range");
}

/* The answer to a decoded batch: partial success exactly when items were
 * rejected, carrying the count and the message. */
static void fz_check_response(model_signal sig, int64_t rejected, const char *message) {
    buf out;
    buf_init(&out, 1 << 16);
    MC_CHECK(buf_append_str(&out, fz_prefix) == BUF_OK);
    MC_CHECK(otlp_response_pb(sig, rejected, message, &out) == OTLP_OK);
    MC_CHECK(out.len >= sizeof(fz_prefix) - 1);
    MC_CHECK(memcmp(out.ptr, fz_prefix, sizeof(fz_prefix) - 1) == 0);
    size_t n = out.len - (sizeof(fz_prefix) - 1);
    const uint8_t *p = (const uint8_t *)out.ptr + sizeof(fz_prefix) - 1;

    int64_t got_rejected;
    char *got_message;
    ProtobufCMessage *msg;
    fz_unpack_response(sig, p, n, &got_rejected, &got_message, &msg);
    if (rejected > 0) {
        MC_CHECK(got_rejected == rejected);
        MC_CHECK(got_message != NULL && strcmp(got_message, message ? message : "") == 0);
    } else {
        MC_CHECK(n == 0 && got_rejected == 0 && got_message == NULL);
    }
    protobuf_c_message_free_unpacked(msg, NULL);

    /* One byte short: refused, the buf as it was. */
    if (n > 0) {
        buf small;
        buf_init(&small, sizeof(fz_prefix) - 1 + n - 1);
        MC_CHECK(buf_append_str(&small, fz_prefix) == BUF_OK);
        MC_CHECK(otlp_response_pb(sig, rejected, message, &small) == OTLP_ETOOBIG);
        MC_CHECK(small.len == sizeof(fz_prefix) - 1);
        MC_CHECK(strcmp(small.ptr, fz_prefix) == 0);
        buf_free(&small);
    }
    buf_free(&out);
}

/* A google.rpc.Status round trip. */
static void fz_check_status(int32_t code, const char *message) {
    buf out;
    buf_init(&out, 1 << 16);
    MC_CHECK(buf_append_str(&out, fz_prefix) == BUF_OK);
    MC_CHECK(otlp_status_pb(code, message, &out) == OTLP_OK);
    size_t n = out.len - (sizeof(fz_prefix) - 1);
    Google__Rpc__Status *st = google__rpc__status__unpack(
        NULL, n, (const uint8_t *)out.ptr + sizeof(fz_prefix) - 1);
    MC_CHECK(st != NULL);
    MC_CHECK(st->code == code);
    MC_CHECK(strcmp(st->message, message ? message : "") == 0);
    google__rpc__status__free_unpacked(st, NULL);
    buf_free(&out);
}

static int32_t fz_grpc_code(int rc) {
    switch (rc) {
    case OTLP_EDECODE:
        return OTLP_GRPC_INVALID_ARGUMENT;
    case OTLP_ETOOBIG:
        return OTLP_GRPC_RESOURCE_EXHAUSTED;
    default:
        return OTLP_GRPC_UNAVAILABLE;
    }
}

/* Decodes once and checks the out-parameters; returns the code and the
 * batch's digest. */
static int fz_decode(model_signal sig, const uint8_t *data, size_t size, size_t limit,
                     uint64_t *digest, model_batch **keep) {
    char err[256];
    memset(err, 'x', sizeof(err));
    model_batch *b = (model_batch *)&b; /* must be overwritten */
    int rc = otlp_decode_pb(sig, data, size, limit, &b, err, sizeof(err));
    *digest = 0;
    if (rc == OTLP_OK) {
        MC_CHECK(b != NULL);
        *digest = mc_batch(b, sig);
        if (limit != 0)
            MC_CHECK(model_batch_bytes(b) <= limit);
    } else {
        MC_CHECK(rc == OTLP_EDECODE || rc == OTLP_ETOOBIG);
        MC_CHECK(b == NULL);
        MC_CHECK(err[0] != '\0');
        mc_message(err, sizeof(err));
        fz_check_status(fz_grpc_code(rc), err);
    }
    if (keep != NULL)
        *keep = b;
    else
        model_batch_free(b);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    model_signal sig = (model_signal)(data[0] % 3);
    size_t limit = fz_limits[(data[0] / 3) % 4];
    data++;
    size--;

    uint64_t digest = 0;
    model_batch *b = NULL;
    int rc = fz_decode(sig, data, size, 0, &digest, &b);
    if (rc == OTLP_OK) {
        fz_check_response(sig, b->rejected, b->reject_message.ptr);
        model_batch_free(b);
    }

    if (limit != 0) {
        uint64_t digest2 = 0;
        int rc2 = fz_decode(sig, data, size, limit, &digest2, NULL);
        if (rc == OTLP_OK)
            MC_CHECK(rc2 == OTLP_OK || rc2 == OTLP_ETOOBIG);
        else
            MC_CHECK(rc2 == rc);
        if (rc2 == OTLP_OK)
            MC_CHECK(digest2 == digest);
    }

    /* Answers with values straight from the input. */
    if (size >= 12) {
        int64_t rejected;
        int32_t code;
        memcpy(&rejected, data, sizeof(rejected));
        memcpy(&code, data + 8, sizeof(code));
        char msg[64];
        size_t n = size - 12 < sizeof(msg) - 1 ? size - 12 : sizeof(msg) - 1;
        memcpy(msg, data + 12, n);
        msg[n] = '\0';
        fz_check_response(sig, rejected, msg);
        fz_check_status(code, msg);
    }
    fz_check_status(OTLP_GRPC_OK, NULL);
    return 0;
}
