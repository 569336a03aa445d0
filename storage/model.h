/* model.h - loupe's one internal model of telemetry.
 *
 * DESIGN
 * Every receiver (OTLP/HTTP protobuf, OTLP/HTTP JSON, OTLP/gRPC, import)
 * decodes into a model_batch; the store and everything after it only ever see
 * this model. A batch holds one signal's items. All memory of a batch (the
 * item arrays, strings, attribute trees) lives in the batch's arena, so the
 * batch is freed with one model_batch_free(). Strings are model_str slices
 * that are NUL-terminated as well (ptr[len] == '\0'), and may contain NUL
 * bytes only where the OTLP type is bytes.
 *
 * Items point at shared model_resource and model_scope records of the same
 * batch, so a resource with 500 spans is stored once.
 *
 * Ownership: a batch is created by a decoder, handed to store_append() (which
 * takes ownership), and freed by the store's writer after commit.
 */
#ifndef LOUPE_MODEL_H
#define LOUPE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

typedef struct model_str {
    const char *ptr; /* NUL-terminated; "" (never NULL) when empty */
    size_t len;
} model_str;

typedef enum model_signal {
    MODEL_SIGNAL_TRACES = 0,
    MODEL_SIGNAL_LOGS = 1,
    MODEL_SIGNAL_METRICS = 2,
} model_signal;

#define MODEL_SIGNAL_COUNT 3

/* ---- values and attributes ------------------------------------------- */

typedef enum model_value_type {
    MODEL_VALUE_EMPTY = 0, /* AnyValue with no value set */
    MODEL_VALUE_STRING,
    MODEL_VALUE_BOOL,
    MODEL_VALUE_INT,
    MODEL_VALUE_DOUBLE,
    MODEL_VALUE_BYTES,
    MODEL_VALUE_ARRAY,
    MODEL_VALUE_KVLIST,
} model_value_type;

typedef struct model_value model_value;
typedef struct model_kv model_kv;

struct model_value {
    model_value_type type;
    union {
        model_str str;   /* STRING (valid UTF-8), BYTES (raw bytes) */
        int boolean;     /* BOOL: 0 or 1 */
        int64_t integer; /* INT */
        double dbl;      /* DOUBLE */
        struct {
            model_value *items;
            size_t n;
        } array; /* ARRAY */
        struct {
            model_kv *items;
            size_t n;
        } kvlist; /* KVLIST */
    } u;
};

struct model_kv {
    model_str key;
    model_value value;
};

typedef struct model_attrs {
    model_kv *items;
    size_t n;
} model_attrs;

/* What loupe's own per-item limits (server/decode/otlp.h, otlp_limits)
 * took from an item, its events and links, as the decoder counted it. The
 * left-out attributes, events and links are also in the item's dropped
 * counts (the OTLP data model's rule); the rest of those counts is what the
 * sender dropped. Zero for items built by hand. */
typedef struct model_limited {
    uint32_t dropped; /* attributes, events and links left out */
    uint32_t cut;     /* string and bytes values cut to the length limit */
} model_limited;

/* ---- resource and scope ---------------------------------------------- */

typedef struct model_resource {
    model_attrs attrs;
    uint32_t dropped_attrs;
    model_str schema_url;
    model_str service_name;        /* from service.name; "unknown_service" if absent */
    model_str service_instance_id; /* from service.instance.id; "" if absent */
    model_limited limited;         /* what loupe's own limits took from it */
} model_resource;

typedef struct model_scope {
    model_str name;
    model_str version;
    model_attrs attrs;
    uint32_t dropped_attrs;
    model_str schema_url;
} model_scope;

/* ---- traces ------------------------------------------------------------ */

typedef enum model_span_kind {
    MODEL_SPAN_KIND_UNSPECIFIED = 0,
    MODEL_SPAN_KIND_INTERNAL = 1,
    MODEL_SPAN_KIND_SERVER = 2,
    MODEL_SPAN_KIND_CLIENT = 3,
    MODEL_SPAN_KIND_PRODUCER = 4,
    MODEL_SPAN_KIND_CONSUMER = 5,
} model_span_kind;

typedef enum model_status_code {
    MODEL_STATUS_UNSET = 0,
    MODEL_STATUS_OK = 1,
    MODEL_STATUS_ERROR = 2,
} model_status_code;

typedef struct model_event {
    uint64_t time_ns;
    model_str name;
    model_attrs attrs;
    uint32_t dropped_attrs;
} model_event;

typedef struct model_link {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    model_str trace_state;
    model_attrs attrs;
    uint32_t dropped_attrs;
    uint32_t flags;
} model_link;

typedef struct model_span {
    const model_resource *resource; /* borrowed from the same batch */
    const model_scope *scope;       /* borrowed from the same batch */
    uint8_t trace_id[16];           /* never all zero */
    uint8_t span_id[8];             /* never all zero */
    uint8_t parent_span_id[8];
    int has_parent; /* parent_span_id was present and not all zero */
    model_str trace_state;
    uint32_t flags;
    model_str name;
    model_span_kind kind;
    uint64_t start_ns;
    uint64_t end_ns;
    model_attrs attrs;
    uint32_t dropped_attrs;
    model_event *events;
    size_t n_events;
    uint32_t dropped_events;
    model_link *links;
    size_t n_links;
    uint32_t dropped_links;
    model_status_code status_code;
    model_str status_message;
    model_limited limited; /* of the span, its events and links */
} model_span;

/* ---- logs -------------------------------------------------------------- */

typedef struct model_log {
    const model_resource *resource;
    const model_scope *scope;
    uint64_t time_ns;          /* 0 when the exporter left it unset */
    uint64_t observed_time_ns; /* 0 when unset */
    int32_t severity_number;   /* 0..24 */
    model_str severity_text;
    model_value body; /* MODEL_VALUE_EMPTY when absent */
    model_attrs attrs;
    uint32_t dropped_attrs;
    uint32_t flags;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    int has_trace_id; /* trace_id present (16 bytes, not all zero) */
    int has_span_id;  /* span_id present (8 bytes, not all zero) */
    model_str event_name;
    model_limited limited;
    int64_t pattern_id; /* its log pattern (logpattern.h), set by the store; 0 = none */
} model_log;

/* ---- metrics ----------------------------------------------------------- */

typedef enum model_metric_type {
    MODEL_METRIC_GAUGE = 0,
    MODEL_METRIC_SUM = 1,
    MODEL_METRIC_HISTOGRAM = 2,
    MODEL_METRIC_EXP_HISTOGRAM = 3,
    MODEL_METRIC_SUMMARY = 4,
} model_metric_type;

typedef enum model_temporality {
    MODEL_TEMPORALITY_UNSPECIFIED = 0,
    MODEL_TEMPORALITY_DELTA = 1,
    MODEL_TEMPORALITY_CUMULATIVE = 2,
} model_temporality;

/* One metric (instrument) of a batch; its points refer to it. */
typedef struct model_metric {
    const model_resource *resource;
    const model_scope *scope;
    model_str name;
    model_str description;
    model_str unit;
    model_metric_type type;
    model_temporality temporality; /* SUM, HISTOGRAM, EXP_HISTOGRAM */
    int monotonic;                 /* SUM only */
} model_metric;

typedef struct model_exemplar {
    model_attrs filtered_attrs;
    uint64_t time_ns;
    int is_int;
    int64_t as_int;
    double as_double;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    int has_trace_id;
    int has_span_id;
} model_exemplar;

typedef struct model_quantile {
    double quantile;
    double value;
} model_quantile;

typedef struct model_point {
    const model_metric *metric; /* borrowed from the same batch */
    model_attrs attrs;
    uint64_t start_time_ns;
    uint64_t time_ns;
    uint32_t flags;
    model_exemplar *exemplars;
    size_t n_exemplars;

    /* GAUGE and SUM */
    int is_int; /* value was as_int */
    int64_t as_int;
    double as_double; /* always set: as_int converted when is_int */

    /* HISTOGRAM, EXP_HISTOGRAM and SUMMARY */
    uint64_t count;
    double sum;
    int has_sum; /* always 1 for SUMMARY */
    double min, max;
    int has_min, has_max;

    /* HISTOGRAM: n_bounds + 1 == n_bucket_counts, or both 0 */
    double *bounds;
    size_t n_bounds;
    uint64_t *bucket_counts;
    size_t n_bucket_counts;

    /* EXP_HISTOGRAM */
    int32_t scale;
    uint64_t zero_count;
    double zero_threshold;
    int32_t positive_offset;
    uint64_t *positive_counts;
    size_t n_positive;
    int32_t negative_offset;
    uint64_t *negative_counts;
    size_t n_negative;

    /* SUMMARY */
    model_quantile *quantiles;
    size_t n_quantiles;

    model_limited limited; /* of the point and its exemplars */
} model_point;

/* ---- batch ------------------------------------------------------------- */

typedef struct model_batch {
    model_signal signal;
    arena *arena; /* owns every byte the batch points to */

    model_span *spans;
    size_t n_spans;
    model_log *logs;
    size_t n_logs;
    model_metric *metrics;
    size_t n_metrics;
    model_point *points;
    size_t n_points;

    /* Items the decoder refused (invalid ids, invalid UTF-8, too deep); the
     * rest of the batch is kept. reject_message explains the first refusal
     * ("" when none). Reported as OTLP partial success. */
    int64_t rejected;
    model_str reject_message;
} model_batch;

/* Creates an empty batch with its own arena. `limit` caps the arena's bytes
 * (0 = no cap). Returns NULL on out of memory. */
model_batch *model_batch_new(model_signal signal, size_t limit);

/* Frees the batch and everything in its arena. Accepts NULL. */
void model_batch_free(model_batch *b);

/* Number of items (spans, log records or metric points) in the batch. */
size_t model_batch_items(const model_batch *b);

/* Bytes the batch holds in memory, for the ring's byte budget. */
size_t model_batch_bytes(const model_batch *b);

/* Records one rejected item; the first message is kept (copied). */
void model_batch_reject(model_batch *b, const char *message);

/* Copies len bytes into the batch's arena as a model_str. Returns 0, or -1 on
 * out of memory. */
int model_str_dup(model_batch *b, model_str *out, const char *s, size_t len);

/* The empty string constant. */
extern const model_str model_str_empty;

/* The value of the top-level attribute `key` (NUL-terminated) in a, or
 * NULL (the first one when a key repeats). Borrowed from a. */
const model_value *model_attrs_get(const model_attrs *a, const char *key);

/* ---- validation helpers shared by the decoders ------------------------ */

/* 1 when s[0..len) is text the model accepts: valid UTF-8 as util/utf8.h
 * defines it (no overlongs, surrogates or values past U+10FFFF). */
int model_utf8_valid(const char *s, size_t len);

/* 1 when all n bytes are zero. */
int model_id_is_zero(const uint8_t *id, size_t n);

/* Writes 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void model_hex_encode(const uint8_t *id, size_t n, char *out);

/* Parses exactly 2n hex digits (either case) into out. Returns 0 or -1. */
int model_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);

/* Names used by the API and JSON: "SERVER", "ERROR", "gauge", ... */
const char *model_span_kind_name(model_span_kind kind);
const char *model_status_code_name(model_status_code code);
const char *model_metric_type_name(model_metric_type type);
const char *model_temporality_name(model_temporality t);
const char *model_signal_name(model_signal s);

/* Maximum nesting of arrays/kvlists inside one AnyValue; deeper values make
 * the item rejected. */
#define MODEL_MAX_VALUE_DEPTH 32

#endif
