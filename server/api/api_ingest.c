/* api_ingest.c - the ingest inspector's JSON answers and advice, see
 * api_ingest.h. */
#include "api_ingest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"

/* ---- advice ------------------------------------------------------------------- */

const char *api_ingest_grpc_name(int code) {
    static const char *const names[] = {
        "OK",          "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED", "NOT_FOUND",   "ALREADY_EXISTS",   "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL",        "UNAVAILABLE",      "DATA_LOSS",
        "UNAUTHENTICATED"};
    return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) ? names[code]
                                                                        : "UNKNOWN";
}

/* A byte count for people: "16 MiB", "64 KiB", "1.5 MiB", "900 bytes". */
static void api_ingest_bytes(uint64_t n, char *out, size_t outlen) {
    const uint64_t kib = 1024, mib = kib * 1024, gib = mib * 1024;
    if (n >= gib && n % gib == 0)
        snprintf(out, outlen, "%" PRIu64 " GiB", n / gib);
    else if (n >= mib && n % mib == 0)
        snprintf(out, outlen, "%" PRIu64 " MiB", n / mib);
    else if (n >= mib)
        snprintf(out, outlen, "%.1f MiB", (double)n / (double)mib);
    else if (n >= kib && n % kib == 0)
        snprintf(out, outlen, "%" PRIu64 " KiB", n / kib);
    else
        snprintf(out, outlen, "%" PRIu64 " bytes", n);
}

/* The answer's status as an exporter reports it: the gRPC status name, or
 * the HTTP status (also for gRPC's HTTP-level refusals, 415 and 405). */
static void api_ingest_status_text(const ingest_rec *r, char *out, size_t outlen) {
    if (r->transport == INGEST_GRPC && r->http_status == 200 && r->grpc_code >= 0)
        snprintf(out, outlen, "%s", api_ingest_grpc_name(r->grpc_code));
    else
        snprintf(out, outlen, "%u", (unsigned)r->http_status);
}

static void api_ingest_say(char *out, size_t outlen, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void api_ingest_say(char *out, size_t outlen, const char *status, const char *fmt, ...) {
    int n = snprintf(out, outlen, "%s: ", status);
    if (n < 0 || (size_t)n >= outlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
    va_end(ap);
}

void api_ingest_hint(const ingest_rec *r, const ingest_limits *lim, char *out, size_t outlen) {
    if (outlen == 0)
        return;
    out[0] = '\0';
    char st[32], size[32];
    api_ingest_status_text(r, st, sizeof(st));
    int grpc = r->transport == INGEST_GRPC;
    const char *flag = grpc ? "--max-grpc-message-size" : "--max-body-size";
    api_ingest_bytes(grpc ? lim->max_grpc_message : lim->max_body, size, sizeof(size));
    const char *what = grpc ? "message" : "body";
    switch ((ingest_reason)r->reason) {
    case INGEST_REASON_NONE:
        if (r->outcome == INGEST_OUTCOME_OK && r->items > 0 && !r->has_service)
            snprintf(out, outlen,
                     "The resource has no service.name, so loupe files these items under "
                     "unknown_service: set OTEL_SERVICE_NAME (or service.name in "
                     "OTEL_RESOURCE_ATTRIBUTES) in the app.");
        return;
    case INGEST_REASON_ITEMS_REJECTED:
        api_ingest_say(out, outlen, "partial success",
                       "%" PRIu64 " of %" PRIu64 " items were invalid and dropped (the message "
                       "names the first): ids must be 16 bytes (trace) and 8 bytes (span), "
                       "text valid UTF-8, values nested at most 32 levels; fix the "
                       "instrumentation that made them.",
                       r->rejected, r->items);
        return;
    case INGEST_REASON_BODY_TOO_LARGE:
        api_ingest_say(out, outlen, st,
                       "%s larger than %s %s: lower the exporter's batch size "
                       "(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE), "
                       "turn on compression (OTEL_EXPORTER_OTLP_COMPRESSION=gzip) or raise %s.",
                       what, flag, size, flag);
        return;
    case INGEST_REASON_INFLATED_TOO_LARGE:
        api_ingest_say(out, outlen, st,
                       "%s larger than %s %s once decompressed: lower the exporter's batch "
                       "size (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE) "
                       "or raise %s.",
                       what, flag, size, flag);
        return;
    case INGEST_REASON_DECODED_TOO_LARGE:
        api_ingest_say(out, outlen, st,
                       "the decoded request needs more memory than loupe allows one request "
                       "(a multiple of %s %s): send smaller batches.",
                       flag, size);
        return;
    case INGEST_REASON_HEADERS_TOO_LARGE:
        api_ingest_bytes(lim->max_header, size, sizeof(size));
        api_ingest_say(out, outlen, st,
                       "request headers larger than --max-header-size %s: look for an oversized "
                       "value in OTEL_EXPORTER_OTLP_HEADERS, or raise --max-header-size.",
                       size);
        return;
    case INGEST_REASON_UNAUTHENTICATED:
        api_ingest_say(out, outlen, st,
                       "loupe requires an API key (--otlp-api-key) and this request had none "
                       "or a wrong one: set OTEL_EXPORTER_OTLP_HEADERS=x-otlp-api-key=KEY "
                       "(or Authorization=Bearer KEY) in the app.");
        return;
    case INGEST_REASON_WRONG_PATH:
        if (grpc)
            api_ingest_say(out, outlen, st,
                           "not an OTLP Export method: point an OTLP exporter at this port "
                           "(OTEL_EXPORTER_OTLP_PROTOCOL=grpc).");
        else
            api_ingest_say(out, outlen, st,
                           "OTLP/HTTP takes POST on /v1/traces, /v1/logs and /v1/metrics: "
                           "OTEL_EXPORTER_OTLP_ENDPOINT is the base URL (http://host:4318, the "
                           "exporter adds the path); a per-signal "
                           "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must include it.");
        return;
    case INGEST_REASON_WRONG_METHOD:
        api_ingest_say(out, outlen, st,
                       "OTLP exports are POST requests: the client is not an OTLP exporter, or "
                       "a proxy changed the method.");
        return;
    case INGEST_REASON_CORS:
        api_ingest_say(out, outlen, st,
                       "a browser asked whether this origin may send OTLP and loupe said no: "
                       "start loupe with --cors-origins listing the app's origin (or *).");
        return;
    case INGEST_REASON_CONTENT_TYPE:
        if (grpc)
            api_ingest_say(out, outlen, st,
                           "not a gRPC content type: use OTEL_EXPORTER_OTLP_PROTOCOL=grpc "
                           "with this endpoint, or send OTLP/HTTP as HTTP/1.1.");
        else
            api_ingest_say(out, outlen, st,
                           "send Content-Type application/x-protobuf or application/json "
                           "(OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json).");
        return;
    case INGEST_REASON_CODING:
        api_ingest_say(out, outlen, st,
                       "only gzip compression is supported: set "
                       "OTEL_EXPORTER_OTLP_COMPRESSION=gzip or none.");
        return;
    case INGEST_REASON_BAD_GZIP:
        api_ingest_say(out, outlen, st,
                       "the %s is marked gzip but is not valid gzip: a proxy may have "
                       "decompressed it and left the encoding header.",
                       what);
        return;
    case INGEST_REASON_MALFORMED:
        api_ingest_say(out, outlen, st,
                       "the %s is not a valid OTLP %s export request: check that the "
                       "encoding matches the content type (http/json sends JSON, "
                       "http/protobuf protobuf) and that nothing cut the %s.",
                       what,
                       r->encoding == INGEST_ENC_JSON ? "JSON" : "protobuf", what);
        return;
    case INGEST_REASON_FRAMING:
        api_ingest_say(out, outlen, st,
                       "the gRPC request was cut short, empty or held two messages: a proxy "
                       "in between may be breaking requests.");
        return;
    case INGEST_REASON_BAD_TIMEOUT:
        api_ingest_say(out, outlen, st,
                       "the grpc-timeout header is malformed: the client's gRPC library sent "
                       "an invalid deadline.");
        return;
    case INGEST_REASON_DEADLINE:
        api_ingest_say(out, outlen, st,
                       "the exporter's own timeout passed before loupe could answer: raise "
                       "OTEL_EXPORTER_OTLP_TIMEOUT, or see whether commits are slow "
                       "(loupe_store_commit_duration_seconds in /metrics).");
        return;
    case INGEST_REASON_REQUEST_TIMEOUT:
        api_ingest_say(out, outlen, st,
                       "the request did not arrive within --request-timeout %" PRIu64
                       " s: a slow network or a stalled client.",
                       lim->request_timeout_s);
        return;
    case INGEST_REASON_STORE_FULL:
        api_ingest_bytes(lim->ring_size, size, sizeof(size));
        api_ingest_say(out, outlen, st,
                       "the store's queue (--ring-size %s) was full, so loupe asked the "
                       "exporter to retry: if it keeps happening, raise --ring-size or lower "
                       "the rate (a slow disk makes commits slow).",
                       size);
        return;
    case INGEST_REASON_BUSY:
        api_ingest_say(out, outlen, st,
                       "too many request bodies were in flight at once, so loupe asked the "
                       "exporter to retry: lower its concurrency or batch size.");
        return;
    case INGEST_REASON_SHUTTING_DOWN:
        api_ingest_say(out, outlen, st,
                       "loupe was shutting down; the exporter retries once it is back.");
        return;
    case INGEST_REASON_COMMIT_FAILED:
        api_ingest_say(out, outlen, st,
                       "the database write failed (disk full, or --max-db-size reached?): see "
                       "loupe's log; the exporter retries.");
        return;
    case INGEST_REASON_NO_MEMORY:
        api_ingest_say(out, outlen, st,
                       "loupe ran out of memory for this request; the exporter retries: send "
                       "smaller batches.");
        return;
    case INGEST_REASON_INTERNAL:
    case INGEST_REASON_COUNT:
        break;
    }
    api_ingest_say(out, outlen, st, "an internal error in loupe: see its log.");
}

/* ---- JSON ----------------------------------------------------------------------- */

static void api_ingest_text_or_null(jw *w, const char *key, const char *s) {
    jw_key(w, key);
    if (s[0] != '\0')
        jw_string(w, s);
    else
        jw_null(w);
}

static void api_ingest_bytes_or_null(jw *w, const char *key, uint64_t n) {
    jw_key(w, key);
    if (n == INGEST_UNKNOWN)
        jw_null(w);
    else
        jw_uint(w, n);
}

/* "grpc", "http/protobuf", "http/json" or "http" (no usable content type). */
static const char *api_ingest_protocol(unsigned transport, unsigned encoding) {
    if (transport == INGEST_GRPC)
        return "grpc";
    return encoding == INGEST_ENC_PROTOBUF ? "http/protobuf"
           : encoding == INGEST_ENC_JSON   ? "http/json"
                                           : "http";
}

static void api_ingest_sdk(jw *w, const char *name, const char *language, const char *version) {
    jw_key(w, "sdk");
    if (name[0] == '\0' && language[0] == '\0' && version[0] == '\0') {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    api_ingest_text_or_null(w, "name", name);
    api_ingest_text_or_null(w, "language", language);
    api_ingest_text_or_null(w, "version", version);
    jw_object_end(w);
}

static void api_ingest_write_rec(jw *w, const ingest_rec *r, const ingest_limits *lim) {
    char hint[API_INGEST_HINT_MAX];
    jw_object_begin(w);
    jw_key(w, "id");
    jw_uint(w, r->seq);
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, r->time_ns);
    jw_key(w, "ackNs");
    jw_uint(w, r->ack_ns);
    jw_key(w, "transport");
    jw_string(w, ingest_transport_name(r->transport));
    jw_key(w, "protocol");
    jw_string(w, api_ingest_protocol(r->transport, r->encoding));
    jw_key(w, "port");
    jw_uint(w, r->port);
    jw_key(w, "path");
    jw_string(w, r->path);
    jw_key(w, "signal");
    if (r->signal >= 0)
        jw_string(w, model_signal_name((model_signal)r->signal));
    else
        jw_null(w);
    api_ingest_text_or_null(w, "contentType", r->content_type);
    jw_key(w, "encoding");
    if (r->encoding != INGEST_ENC_UNKNOWN)
        jw_string(w, ingest_encoding_name(r->encoding));
    else
        jw_null(w);
    jw_key(w, "compression");
    jw_string(w, ingest_compression_name(r->compression));
    api_ingest_text_or_null(w, "contentEncoding", r->coding);
    api_ingest_bytes_or_null(w, "wireBytes", r->wire_bytes);
    api_ingest_bytes_or_null(w, "decodedBytes", r->decoded_bytes);
    jw_key(w, "items");
    jw_uint(w, r->items);
    jw_key(w, "rejectedItems");
    jw_uint(w, r->rejected);
    jw_key(w, "resources");
    jw_uint(w, r->resources);
    jw_key(w, "outcome");
    jw_string(w, ingest_outcome_name(r->outcome));
    jw_key(w, "httpStatus");
    jw_uint(w, r->http_status);
    jw_key(w, "grpcStatus");
    if (r->grpc_code >= 0)
        jw_int(w, r->grpc_code);
    else
        jw_null(w);
    jw_key(w, "grpcStatusName");
    if (r->grpc_code >= 0)
        jw_string(w, api_ingest_grpc_name(r->grpc_code));
    else
        jw_null(w);
    jw_key(w, "reason");
    if (r->reason != INGEST_REASON_NONE)
        jw_string(w, ingest_reason_name(r->reason));
    else
        jw_null(w);
    api_ingest_text_or_null(w, "message", r->message);
    api_ingest_hint(r, lim, hint, sizeof(hint));
    api_ingest_text_or_null(w, "hint", hint);
    api_ingest_text_or_null(w, "client", r->client);
    api_ingest_text_or_null(w, "userAgent", r->user_agent);
    jw_key(w, "service");
    if (r->has_service)
        jw_string(w, r->service);
    else
        jw_null(w);
    api_ingest_sdk(w, r->sdk_name, r->sdk_language, r->sdk_version);
    jw_object_end(w);
}

static int api_ingest_keep(const ingest_rec *r, void *ud) {
    const api_ingest_filter *f = ud;
    if (f->outcomes != 0 && !(f->outcomes & (1u << r->outcome)))
        return 0;
    if (f->transport >= 0 && r->transport != (unsigned)f->transport)
        return 0;
    if (f->signal >= 0 && r->signal != f->signal)
        return 0;
    if (f->service != NULL && (!r->has_service || strcmp(r->service, f->service) != 0))
        return 0;
    if (f->client != NULL && strcmp(r->client, f->client) != 0)
        return 0;
    return 1;
}

static void api_ingest_head(jw *w, ingest_log *l) {
    jw_key(w, "enabled");
    jw_bool(w, l != NULL);
    jw_key(w, "capacity");
    jw_uint(w, ingest_log_capacity(l));
    jw_key(w, "head");
    jw_uint(w, ingest_log_head(l));
}

int api_ingest_requests_json(ingest_log *l, const api_ingest_filter *f, buf *out) {
    buf_reset(out);
    size_t limit = f->limit == 0 ? API_INGEST_LIMIT_DEFAULT
                   : f->limit > API_INGEST_LIMIT_MAX ? API_INGEST_LIMIT_MAX
                                                     : f->limit;
    ingest_rec *recs = NULL;
    size_t n = 0;
    int more = 0;
    if (l != NULL) {
        recs = malloc(limit * sizeof(*recs));
        if (recs == NULL)
            return BUF_ENOMEM;
        n = ingest_log_read(l, f->before, f->after, api_ingest_keep, (void *)f, recs, limit,
                            &more);
    }
    ingest_limits lim = ingest_log_limits(l);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    api_ingest_head(&w, l);
    jw_key(&w, "requests");
    jw_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        api_ingest_write_rec(&w, &recs[i], &lim);
    jw_array_end(&w);
    jw_key(&w, "nextCursor");
    if (more && n > 0) {
        char cur[24];
        snprintf(cur, sizeof(cur), "%" PRIu64, recs[n - 1].seq);
        jw_string(&w, cur);
    } else {
        jw_null(&w);
    }
    jw_object_end(&w);
    free(recs);
    return jw_error(&w);
}

int api_ingest_request_json(ingest_log *l, uint64_t id, buf *out) {
    buf_reset(out);
    ingest_rec r;
    if (ingest_log_get(l, id, &r) != 0)
        return API_INGEST_ENOTFOUND;
    ingest_limits lim = ingest_log_limits(l);
    jw w;
    jw_init(&w, out);
    api_ingest_write_rec(&w, &r, &lim);
    return jw_error(&w);
}

static void api_ingest_protocols(jw *w, unsigned bits) {
    static const struct {
        unsigned bit;
        const char *name;
    } protos[] = {{INGEST_PROTO_GRPC, "grpc"},
                  {INGEST_PROTO_HTTP_PROTOBUF, "http/protobuf"},
                  {INGEST_PROTO_HTTP_JSON, "http/json"},
                  {INGEST_PROTO_HTTP_OTHER, "http"}};
    jw_key(w, "protocols");
    jw_array_begin(w);
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (bits & protos[i].bit)
            jw_string(w, protos[i].name);
    jw_array_end(w);
}

static void api_ingest_write_client(jw *w, const ingest_client *c) {
    jw_object_begin(w);
    api_ingest_text_or_null(w, "client", c->client);
    api_ingest_text_or_null(w, "userAgent", c->user_agent);
    jw_key(w, "service");
    if (c->has_service)
        jw_string(w, c->service);
    else
        jw_null(w);
    api_ingest_sdk(w, c->sdk_name, c->sdk_language, c->sdk_version);
    api_ingest_protocols(w, c->protocols);
    jw_key(w, "requests");
    jw_uint(w, c->requests);
    jw_key(w, "errors");
    jw_uint(w, c->errors);
    jw_key(w, "partial");
    jw_uint(w, c->partial);
    jw_key(w, "items");
    jw_uint(w, c->items);
    jw_key(w, "rejectedItems");
    jw_uint(w, c->rejected);
    jw_key(w, "firstSeenUnixNano");
    jw_uint_string(w, c->first_ns);
    jw_key(w, "lastSeenUnixNano");
    jw_uint_string(w, c->last_ns);
    jw_key(w, "lastRequestId");
    jw_uint(w, c->last_seq);
    jw_key(w, "lastOutcome");
    jw_string(w, ingest_outcome_name(c->last_outcome));
    jw_key(w, "lastReason");
    if (c->last_reason != INGEST_REASON_NONE)
        jw_string(w, ingest_reason_name(c->last_reason));
    else
        jw_null(w);
    jw_object_end(w);
}

int api_ingest_clients_json(ingest_log *l, buf *out) {
    buf_reset(out);
    ingest_client *rows = NULL;
    size_t n = 0;
    if (l != NULL) {
        rows = malloc(INGEST_CLIENTS_MAX * sizeof(*rows));
        if (rows == NULL)
            return BUF_ENOMEM;
        n = ingest_log_clients(l, rows, INGEST_CLIENTS_MAX);
    }
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    api_ingest_head(&w, l);
    jw_key(&w, "clients");
    jw_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        api_ingest_write_client(&w, &rows[i]);
    jw_array_end(&w);
    jw_object_end(&w);
    free(rows);
    return jw_error(&w);
}
