/* otlp_pb.c - OTLP protobuf requests in, protobuf responses out.
 *
 * DESIGN
 * A request body is unpacked by protobuf-c into message structs allocated
 * from a temporary arena, converted into a new model_batch by
 * otlp_convert_*(), and the temporary arena is dropped. Two guards run before
 * protobuf-c sees hostile bytes:
 *
 *  - Nesting. protobuf-c unpacks sub-messages recursively with no depth
 *    limit, so a few MiB of nested AnyValue arrays could exhaust the stack of
 *    a receiver thread. A linear pre-scan of the wire format (guided by the
 *    message descriptors, so bytes fields are never mistaken for messages)
 *    refuses bodies nested deeper than OTLP_PB_MAX_DEPTH messages with
 *    OTLP_EDECODE. Real OTLP needs about 8 levels plus 3 per level of
 *    AnyValue nesting, and values nested deeper than MODEL_MAX_VALUE_DEPTH
 *    (which take up to ~104 levels) are still rejected item by item by the
 *    converter; only the pathological rest fails the whole request.
 *
 *  - Memory. The unpacked structs are much larger than the wire bytes: an
 *    empty Span takes 2 bytes on the wire and ~250 in memory (the struct,
 *    the pointer to it, and protobuf-c's per-field scan record, which it
 *    "frees" into our no-op free), so the temporary arena is capped at
 *    OTLP_PB_TMP_FACTOR * len + OTLP_PB_TMP_BASE bytes. A body that expands
 *    past the cap is answered with OTLP_ETOOBIG (HTTP 413 / gRPC
 *    RESOURCE_EXHAUSTED: the body may be valid, it is just too expensive;
 *    OTLP exporters do not retry it). Measured expansions: a typical
 *    exporter payload 5.6x (tests/bench/bench_decode.c); 100k one-letter
 *    int attributes 18x; a 100k-element array of bools or small ints 24.5x
 *    (the densest legitimate shapes we know); hostile empty sub-messages
 *    ~125x. So the worst transient memory of one request is
 *    OTLP_PB_TMP_FACTOR times the receivers' body cap.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "otlp.h"
#include "otlp_internal.h"

#define OTLP_PB_MAX_DEPTH 128
#define OTLP_PB_TMP_FACTOR 32
#define OTLP_PB_TMP_BASE (1024 * 1024)

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_req;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest pb_logs_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_req;

/* ---- shared with the JSON decoder (otlp_internal.h) ------------------- */

void otlp_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const ProtobufCMessageDescriptor *otlp_request_descriptor(model_signal sig) {
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
    case MODEL_SIGNAL_LOGS:
        return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
    case MODEL_SIGNAL_METRICS:
        return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
    }
    return NULL;
}

/* ---- the nesting pre-scan -------------------------------------------------- */

#define PB_SCAN_OK 0
#define PB_SCAN_MALFORMED (-1)
#define PB_SCAN_TOO_DEEP (-2)

static int pb_scan_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= end)
            return -1;
        uint8_t byte = data[(*pos)++];
        v |= (uint64_t)(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1; /* more than 10 bytes */
}

/* Walks the wire format of a `desc` message in data[0..len) and checks that
 * sub-messages nest at most OTLP_PB_MAX_DEPTH deep. Iterative, with a fixed
 * stack. Unknown fields are skipped (never descended into). */
static int pb_scan_depth(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                         size_t len) {
    struct {
        const ProtobufCMessageDescriptor *desc;
        size_t end;
    } stack[OTLP_PB_MAX_DEPTH];
    int depth = 0;
    size_t pos = 0, end = len;
    for (;;) {
        while (pos == end) {
            if (depth == 0)
                return PB_SCAN_OK;
            depth--;
            desc = stack[depth].desc;
            end = stack[depth].end;
        }
        uint64_t key, v;
        if (pb_scan_varint(data, end, &pos, &key) != 0)
            return PB_SCAN_MALFORMED;
        uint64_t field = key >> 3;
        if (field == 0 || field > 0x1FFFFFFF)
            return PB_SCAN_MALFORMED;
        switch (key & 7) {
        case 0: /* varint */
            if (pb_scan_varint(data, end, &pos, &v) != 0)
                return PB_SCAN_MALFORMED;
            break;
        case 1: /* 64-bit */
            if (end - pos < 8)
                return PB_SCAN_MALFORMED;
            pos += 8;
            break;
        case 5: /* 32-bit */
            if (end - pos < 4)
                return PB_SCAN_MALFORMED;
            pos += 4;
            break;
        case 2: { /* length-delimited */
            if (pb_scan_varint(data, end, &pos, &v) != 0 || v > end - pos)
                return PB_SCAN_MALFORMED;
            const ProtobufCFieldDescriptor *fd =
                protobuf_c_message_descriptor_get_field(desc, (unsigned)field);
            if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 >= OTLP_PB_MAX_DEPTH)
                    return PB_SCAN_TOO_DEEP;
                stack[depth].desc = desc;
                stack[depth].end = end;
                depth++;
                desc = fd->descriptor;
                end = pos + (size_t)v;
            } else {
                pos += (size_t)v;
            }
            break;
        }
        default: /* groups (3, 4) are not used by OTLP; 6, 7 do not exist */
            return PB_SCAN_MALFORMED;
        }
    }
}

/* ---- the temporary arena ----------------------------------------------- */

/* Allocator state for one unpack: the arena plus the cap, and why an
 * allocation was refused. */
typedef struct pb_tmp {
    arena *a;
    size_t used;
    size_t cap;
    int toobig;
    int nomem;
} pb_tmp;

static void *pb_tmp_alloc(void *data, size_t size) {
    pb_tmp *t = data;
    size_t need = (size + 15) & ~(size_t)15; /* as the arena rounds */
    if (need < size || need > t->cap - t->used) {
        t->toobig = 1;
        return NULL;
    }
    void *p = arena_alloc(t->a, size);
    if (p == NULL) {
        t->nomem = 1;
        return NULL;
    }
    t->used += need;
    return p;
}

static void pb_tmp_free(void *data, void *ptr) {
    (void)data;
    (void)ptr;
}

/* One temporary arena per thread, reused from request to request: a fresh
 * arena per request costs a malloc per chunk, and glibc hands the freed
 * chunks back to the kernel (heap trim, munmap), so the next request page
 * faults them in again. Measured on a typical 512-span request
 * (tests/bench/bench_decode.c): ~61k spans/s with a fresh arena per call,
 * ~250k spans/s with this one.
 *
 * arena_reset() keeps only the arena's first chunk, so the first chunk is
 * sized to what the thread's requests need: when a request outgrows it, the
 * arena is replaced by one whose first chunk is 1.25x that size, up to
 * PB_TMP_KEEP_MAX. Larger requests still work; their extra chunks are
 * allocated and freed per request. A thread thus keeps at most
 * PB_TMP_KEEP_MAX bytes between requests; a thread-exit destructor frees
 * them. */
#define PB_TMP_MIN_CHUNK (256 * 1024)
#define PB_TMP_KEEP_MAX (4 * 1024 * 1024)

typedef struct pb_tls {
    arena *a;     /* NULL after a failed replacement; made again on demand */
    size_t chunk; /* the first-chunk size a was made with */
} pb_tls;

static pthread_key_t pb_tls_key;
static pthread_once_t pb_tls_once = PTHREAD_ONCE_INIT;
static int pb_tls_key_ok;

static void pb_tls_destroy(void *p) {
    pb_tls *t = p;
    arena_free(t->a);
    free(t);
}

static void pb_tls_key_init(void) {
    pb_tls_key_ok = pthread_key_create(&pb_tls_key, pb_tls_destroy) == 0;
}

/* Returns an empty temporary arena for this call. *tls is the calling
 * thread's slot it belongs to, or NULL when the arena is private to this
 * call (no thread-local storage available); pass both to pb_tmp_put(). */
static arena *pb_tmp_get(pb_tls **tls) {
    *tls = NULL;
    pthread_once(&pb_tls_once, pb_tls_key_init);
    if (!pb_tls_key_ok)
        return arena_new(PB_TMP_MIN_CHUNK, 0);
    pb_tls *t = pthread_getspecific(pb_tls_key);
    if (t == NULL) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        if (pthread_setspecific(pb_tls_key, t) != 0) {
            free(t);
            return arena_new(PB_TMP_MIN_CHUNK, 0);
        }
        t->chunk = PB_TMP_MIN_CHUNK;
    }
    if (t->a == NULL)
        t->a = arena_new(t->chunk, 0);
    if (t->a != NULL)
        *tls = t;
    return t->a;
}

static void pb_tmp_put(arena *a, pb_tls *tls) {
    if (tls == NULL) {
        arena_free(a);
        return;
    }
    size_t used = arena_footprint(a);
    if (used > tls->chunk + 4096 && tls->chunk < PB_TMP_KEEP_MAX) {
        size_t want = used + used / 4;
        tls->chunk = want < PB_TMP_KEEP_MAX ? want : PB_TMP_KEEP_MAX;
        arena_free(a);
        tls->a = arena_new(tls->chunk, 0); /* NULL is fine: retried next time */
        return;
    }
    arena_reset(a);
}

/* ---- decoding ----------------------------------------------------------- */

/* A new empty batch; tells a too small mem_limit from out of memory. */
static int pb_batch_new(model_signal sig, size_t mem_limit, model_batch **out) {
    *out = model_batch_new(sig, mem_limit);
    if (*out != NULL)
        return OTLP_OK;
    if (mem_limit == 0)
        return OTLP_ENOMEM;
    /* The arena's first chunk did not fit under mem_limit, or malloc
     * failed: an uncapped batch tells which. */
    model_batch *probe = model_batch_new(sig, 0);
    if (probe == NULL)
        return OTLP_ENOMEM;
    model_batch_free(probe);
    return OTLP_ETOOBIG;
}

static int pb_convert(model_signal sig, const ProtobufCMessage *msg, model_batch *b) {
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        return otlp_convert_traces((const pb_trace_req *)msg, b);
    case MODEL_SIGNAL_LOGS:
        return otlp_convert_logs((const pb_logs_req *)msg, b);
    case MODEL_SIGNAL_METRICS:
        return otlp_convert_metrics((const pb_metrics_req *)msg, b);
    }
    return OTLP_EDECODE;
}

int otlp_decode_pb(model_signal sig, const uint8_t *data, size_t len, size_t mem_limit,
                   model_batch **out, char *err, size_t errlen) {
    const ProtobufCMessageDescriptor *desc = otlp_request_descriptor(sig);
    model_batch *b = NULL;
    arena *tmp_arena = NULL;
    pb_tls *tls = NULL;
    int rc;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (desc == NULL) {
        otlp_errf(err, errlen, "unknown signal %d", (int)sig);
        return OTLP_EDECODE;
    }
    if (data == NULL && len > 0) {
        otlp_errf(err, errlen, "no request body");
        return OTLP_EDECODE;
    }

    rc = pb_scan_depth(desc, data, len);
    if (rc == PB_SCAN_TOO_DEEP) {
        otlp_errf(err, errlen, "protobuf %s: messages nested deeper than %d levels", desc->name,
               OTLP_PB_MAX_DEPTH);
        return OTLP_EDECODE;
    }
    if (rc != PB_SCAN_OK) {
        otlp_errf(err, errlen, "malformed protobuf %s (%zu bytes)", desc->name, len);
        return OTLP_EDECODE;
    }

    tmp_arena = pb_tmp_get(&tls);
    if (tmp_arena == NULL) {
        otlp_errf(err, errlen, "out of memory");
        return OTLP_ENOMEM;
    }
    pb_tmp tmp = {.a = tmp_arena, .cap = OTLP_PB_TMP_BASE};
    if (len > (SIZE_MAX - tmp.cap) / OTLP_PB_TMP_FACTOR)
        tmp.cap = SIZE_MAX;
    else
        tmp.cap += len * OTLP_PB_TMP_FACTOR;
    ProtobufCAllocator alloc = {.alloc = pb_tmp_alloc, .free = pb_tmp_free, .allocator_data = &tmp};

    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, len, data);
    if (msg == NULL) {
        if (tmp.toobig) {
            otlp_errf(err, errlen, "protobuf %s of %zu bytes expands past %zu bytes in memory",
                   desc->name, len, tmp.cap);
            rc = OTLP_ETOOBIG;
        } else if (tmp.nomem) {
            otlp_errf(err, errlen, "out of memory");
            rc = OTLP_ENOMEM;
        } else {
            otlp_errf(err, errlen, "malformed protobuf %s (%zu bytes)", desc->name, len);
            rc = OTLP_EDECODE;
        }
        goto out;
    }

    rc = pb_batch_new(sig, mem_limit, &b);
    if (rc != OTLP_OK) {
        if (rc == OTLP_ETOOBIG)
            otlp_errf(err, errlen, "mem_limit of %zu bytes is too small for any batch", mem_limit);
        else
            otlp_errf(err, errlen, "out of memory");
        goto out;
    }
    rc = pb_convert(sig, msg, b);
    if (rc == OTLP_ETOOBIG && mem_limit == 0)
        rc = OTLP_ENOMEM; /* no cap to exceed: it was the system */
    if (rc == OTLP_ETOOBIG)
        otlp_errf(err, errlen, "decoded %s exceed the limit of %zu bytes", model_signal_name(sig),
               mem_limit);
    else if (rc != OTLP_OK)
        otlp_errf(err, errlen, "out of memory");

out:
    pb_tmp_put(tmp_arena, tls);
    if (rc != OTLP_OK) {
        model_batch_free(b);
        return rc;
    }
    *out = b;
    return OTLP_OK;
}

/* ---- responses ---------------------------------------------------------- */

int otlp_pb_append(const ProtobufCMessage *msg, buf *out) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    int rc = buf_reserve(out, n);
    if (rc != BUF_OK)
        return rc == BUF_ETOOBIG ? OTLP_ETOOBIG : OTLP_ENOMEM;
    size_t packed = protobuf_c_message_pack(msg, (uint8_t *)out->ptr + out->len);
    if (packed != n)
        return OTLP_ENOMEM; /* cannot happen: protobuf-c sized it */
    out->len += n;
    out->ptr[out->len] = '\0';
    return OTLP_OK;
}

int otlp_response_pb(model_signal sig, int64_t rejected, const char *message, buf *out) {
    char *msg = (char *)(message ? message : "");
    switch (sig) {
    case MODEL_SIGNAL_TRACES: {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        if (rejected > 0) {
            ps.rejected_spans = rejected;
            ps.error_message = msg;
            resp.partial_success = &ps;
        }
        return otlp_pb_append(&resp.base, out);
    }
    case MODEL_SIGNAL_LOGS: {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
        if (rejected > 0) {
            ps.rejected_log_records = rejected;
            ps.error_message = msg;
            resp.partial_success = &ps;
        }
        return otlp_pb_append(&resp.base, out);
    }
    case MODEL_SIGNAL_METRICS: {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
        if (rejected > 0) {
            ps.rejected_data_points = rejected;
            ps.error_message = msg;
            resp.partial_success = &ps;
        }
        return otlp_pb_append(&resp.base, out);
    }
    }
    return OTLP_EDECODE;
}

int otlp_status_pb(int32_t grpc_code, const char *message, buf *out) {
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = grpc_code;
    st.message = (char *)(message ? message : "");
    return otlp_pb_append(&st.base, out);
}

const char *otlp_strerror(int code) {
    switch (code) {
    case OTLP_OK:
        return "success";
    case OTLP_EDECODE:
        return "invalid request";
    case OTLP_ENOMEM:
        return "out of memory";
    case OTLP_ETOOBIG:
        return "request too large";
    }
    return "unknown error";
}
