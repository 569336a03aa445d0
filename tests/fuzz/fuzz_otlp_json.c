/* fuzz_otlp_json.c - libFuzzer target for OTLP JSON decoding (otlp_decode_json).
 *
 * Input: byte 0 selects the signal and the batch's mem_limit exactly as in
 * fuzz_otlp_pb.c (the ASCII digits '0', '1', '2' select traces, logs and
 * metrics with no limit, so seeds read as "0{"resourceSpans":...}"). The
 * rest is the request body, not NUL-terminated: jansson, the descriptor
 * driven mapper and the converter all run on it.
 *
 * Checked beyond "no crash, no sanitizer report":
 *  - the out-parameters: a batch exactly on success, a one-line printable
 *    UTF-8 reason on failure, no OTLP_ENOMEM for bodies this small;
 *  - every promise of the model (model_check.h) on the decoded batch;
 *  - a mem_limit only ever turns success into OTLP_ETOOBIG, and both decodes
 *    give the same batch (digest) when both succeed;
 *  - the answers: otlp_response_json() and otlp_status_json() are valid JSON
 *    that parses back to what was put in, appended after what the buf held.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "model_check.h"
#include "server/decode/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t fz_limits[4] = {0, 1024, 64 * 1024 + 256, 256 * 1024};

static const char fz_prefix[] = "prefix";

/* Checks the prefix survived and parses what was appended after it. */
static json_t *fz_parse_answer(const buf *out) {
    MC_CHECK(out->len >= sizeof(fz_prefix) - 1);
    MC_CHECK(memcmp(out->ptr, fz_prefix, sizeof(fz_prefix) - 1) == 0);
    MC_CHECK(out->ptr[out->len] == '\0');
    json_error_t jerr;
    json_t *root = json_loadb(out->ptr + sizeof(fz_prefix) - 1,
                              out->len - (sizeof(fz_prefix) - 1), 0, &jerr);
    if (root == NULL)
        fprintf(stderr, "invalid JSON answer: %s\n", jerr.text);
    MC_CHECK(root != NULL);
    MC_CHECK(json_is_object(root));
    return root;
}

/* message as it must come back: the same text when it is valid UTF-8 (jw
 * replaces invalid sequences with U+FFFD, checked only for being a string). */
static void fz_check_text(const json_t *v, const char *message) {
    MC_CHECK(json_is_string(v));
    if (mc_utf8_valid((const unsigned char *)message, strlen(message)))
        MC_CHECK(strcmp(json_string_value(v), message) == 0);
}

static void fz_check_response(model_signal sig, int64_t rejected, const char *message) {
    static const char *const fields[3] = {"rejectedSpans", "rejectedLogRecords",
                                          "rejectedDataPoints"};
    buf out;
    buf_init(&out, 1 << 16);
    MC_CHECK(buf_append_str(&out, fz_prefix) == BUF_OK);
    MC_CHECK(otlp_response_json(sig, rejected, message, &out) == OTLP_OK);
    json_t *root = fz_parse_answer(&out);
    json_t *ps = json_object_get(root, "partialSuccess");
    if (rejected == 0) {
        MC_CHECK(ps == NULL && json_object_size(root) == 0);
    } else {
        MC_CHECK(json_is_object(ps));
        /* int64 as a decimal string, as proto3 JSON writes it. */
        json_t *n = json_object_get(ps, fields[sig]);
        char want[24];
        snprintf(want, sizeof(want), "%" PRId64, rejected);
        MC_CHECK(json_is_string(n) && strcmp(json_string_value(n), want) == 0);
        json_t *m = json_object_get(ps, "errorMessage");
        if (message == NULL || message[0] == '\0')
            MC_CHECK(m == NULL);
        else
            fz_check_text(m, message);
    }
    json_decref(root);

    /* Too small: refused, the buf as it was. */
    buf small;
    buf_init(&small, out.len - 1);
    MC_CHECK(buf_append_str(&small, fz_prefix) == BUF_OK);
    MC_CHECK(otlp_response_json(sig, rejected, message, &small) == OTLP_ETOOBIG);
    MC_CHECK(small.len == sizeof(fz_prefix) - 1 && strcmp(small.ptr, fz_prefix) == 0);
    buf_free(&small);
    buf_free(&out);
}

static void fz_check_status(int32_t code, const char *message) {
    buf out;
    buf_init(&out, 1 << 16);
    MC_CHECK(buf_append_str(&out, fz_prefix) == BUF_OK);
    MC_CHECK(otlp_status_json(code, message, &out) == OTLP_OK);
    json_t *root = fz_parse_answer(&out);
    json_t *c = json_object_get(root, "code");
    MC_CHECK(json_is_integer(c) && json_integer_value(c) == code);
    json_t *m = json_object_get(root, "message");
    if (message == NULL || message[0] == '\0')
        MC_CHECK(m == NULL);
    else
        fz_check_text(m, message);
    json_decref(root);
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

static int fz_decode(model_signal sig, const char *data, size_t size, size_t limit,
                     uint64_t *digest, model_batch **keep) {
    char err[256];
    memset(err, 'x', sizeof(err));
    model_batch *b = (model_batch *)&b; /* must be overwritten */
    int rc = otlp_decode_json(sig, data, size, limit, &b, err, sizeof(err));
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
    /* A copy of exactly the body, so ASan catches any read past its end
     * (the decoder must not rely on a NUL after it). */
    size_t n = size - 1;
    char *body = malloc(n ? n : 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, n);

    uint64_t digest = 0;
    model_batch *b = NULL;
    int rc = fz_decode(sig, body, n, 0, &digest, &b);
    if (rc == OTLP_OK) {
        fz_check_response(sig, b->rejected, b->reject_message.ptr);
        model_batch_free(b);
    }

    if (limit != 0) {
        uint64_t digest2 = 0;
        int rc2 = fz_decode(sig, body, n, limit, &digest2, NULL);
        if (rc == OTLP_OK)
            MC_CHECK(rc2 == OTLP_OK || rc2 == OTLP_ETOOBIG);
        else
            MC_CHECK(rc2 == rc);
        if (rc2 == OTLP_OK)
            MC_CHECK(digest2 == digest);
    }

    /* Answers with text straight from the input (any bytes but NUL). */
    if (n >= 12) {
        int64_t rejected;
        int32_t code;
        memcpy(&rejected, body, sizeof(rejected));
        memcpy(&code, body + 8, sizeof(code));
        char msg[64];
        size_t m = n - 12 < sizeof(msg) - 1 ? n - 12 : sizeof(msg) - 1;
        memcpy(msg, body + 12, m);
        msg[m] = '\0';
        fz_check_response(sig, rejected, msg);
        fz_check_status(code, msg);
    }
    free(body);
    return 0;
}
