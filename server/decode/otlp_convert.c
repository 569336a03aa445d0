/* otlp_convert.c - protobuf-c OTLP request structs into the internal model.
 *
 * DESIGN
 * The one place where OTLP items are validated. Both decoders (protobuf and
 * JSON) build protobuf-c request structs and hand them here. Each span, log
 * record or data point is converted on its own: an invalid item (bad ids,
 * invalid UTF-8, values nested too deep, ...) is counted with
 * model_batch_reject() and left out, and the rest of the request is kept.
 * Resources and scopes are converted once per ResourceX / ScopeX message and
 * shared by the items under them; when a resource or scope itself is invalid,
 * every item under it is rejected.
 *
 * The structs may come from protobuf-c's unpacker (strings never NULL, no
 * NULL elements in repeated fields) or be built by hand by the JSON decoder,
 * so NULL strings, sub-messages and elements are tolerated everywhere: a NULL
 * string is "", a NULL sub-message is an empty one, a NULL element is skipped.
 *
 * Limits (otlp.h, otlp_limits): attributes past the per-item count are left
 * out and counted in the item's dropped_attributes_count, long string and
 * bytes values are cut (strings at a UTF-8 boundary, after the whole value
 * was validated), span events and links past their counts are left out and
 * counted in dropped_events_count / dropped_links_count. The limits are
 * process-wide (set once at startup) and what they remove is counted in
 * relaxed atomics for the self-metrics (otlp_limit_stats_get).
 *
 * Out-of-memory policy: any allocation failure in the batch arena aborts the
 * conversion; the caller frees the batch. A refusal because of the batch's
 * mem_limit is OTLP_ETOOBIG (arena_limit_hit), any other OTLP_ENOMEM.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "otlp.h"
#include "otlp_internal.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_link;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs pb_resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs pb_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord pb_log;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hist_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint pb_exp_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets pb_buckets;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint pb_summary_point;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar pb_exemplar;

/* Results of the conversion helpers. */
#define CONV_OK 0
#define CONV_REJECT 1  /* the item is invalid; conv.why says why */
#define CONV_NOMEM (-1) /* the batch arena refused an allocation */

typedef struct conv {
    model_batch *b;
    char why[192]; /* reason for the current rejection (first one only) */
    int whole;     /* values are kept whole (a log body), not cut */
} conv;

/* ---- limits ------------------------------------------------------------- */

static otlp_limits conv_limits = {OTLP_DEFAULT_MAX_ATTRS, OTLP_DEFAULT_MAX_VALUE_LEN,
                                  OTLP_DEFAULT_MAX_EVENTS, OTLP_DEFAULT_MAX_LINKS};

static atomic_uint_fast64_t conv_attrs_dropped, conv_values_truncated, conv_events_dropped,
    conv_links_dropped;

void otlp_limits_set(const otlp_limits *l) {
    static const otlp_limits defaults = {OTLP_DEFAULT_MAX_ATTRS, OTLP_DEFAULT_MAX_VALUE_LEN,
                                         OTLP_DEFAULT_MAX_EVENTS, OTLP_DEFAULT_MAX_LINKS};
    conv_limits = l ? *l : defaults;
}

void otlp_limits_get(otlp_limits *out) {
    *out = conv_limits;
}

void otlp_limit_stats_get(otlp_limit_stats *out) {
    out->attrs_dropped = atomic_load_explicit(&conv_attrs_dropped, memory_order_relaxed);
    out->values_truncated = atomic_load_explicit(&conv_values_truncated, memory_order_relaxed);
    out->events_dropped = atomic_load_explicit(&conv_events_dropped, memory_order_relaxed);
    out->links_dropped = atomic_load_explicit(&conv_links_dropped, memory_order_relaxed);
}

/* The number of n items kept under `limit` (0 = no limit). */
static size_t conv_keep(size_t n, size_t limit) {
    return (limit != 0 && n > limit) ? limit : n;
}

/* Adds `more` to a uint32 dropped count, saturating. */
static void conv_add_dropped(uint32_t *count, size_t more) {
    uint64_t v = (uint64_t)*count + more;
    *count = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* The length a value of len bytes is cut to; for UTF-8 text the cut backs
 * off to the start of a character (s is valid UTF-8). */
static size_t conv_cut(const conv *c, const char *s, size_t len, int utf8) {
    size_t max = conv_limits.max_value_len;
    if (max == 0 || len <= max || c->whole)
        return len;
    size_t cut = utf8 ? utf8_cut(s, len, max) : max;
    atomic_fetch_add_explicit(&conv_values_truncated, 1, memory_order_relaxed);
    return cut;
}

/* ---- allocation --------------------------------------------------------- */

static void *otlp_arena_alloc_cb(void *data, size_t size) {
    return arena_alloc(data, size);
}

static void otlp_arena_free_cb(void *data, void *ptr) {
    (void)data;
    (void)ptr; /* the arena is freed or reset as a whole */
}

void otlp_arena_allocator(ProtobufCAllocator *alloc, arena *a) {
    alloc->alloc = otlp_arena_alloc_cb;
    alloc->free = otlp_arena_free_cb;
    alloc->allocator_data = a;
}

/* Maps a refused batch allocation to OTLP_ETOOBIG (the batch's cap) or
 * OTLP_ENOMEM (the system). */
static int conv_alloc_error(const model_batch *b) {
    return arena_limit_hit(b->arena) ? OTLP_ETOOBIG : OTLP_ENOMEM;
}

/* Allocates n zeroed elements of size sz in the batch (NULL for n == 0 is
 * not an error: callers check n first). */
static void *conv_calloc(conv *c, size_t n, size_t sz) {
    return arena_calloc(c->b->arena, n, sz);
}

/* ---- rejection ---------------------------------------------------------- */

/* Records why the current item is invalid and returns CONV_REJECT. Only the
 * first message of a batch is kept, so later ones are not even formatted. */
static int conv_reject(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conv_reject(conv *c, const char *fmt, ...) {
    if (c->b->rejected == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof(c->why), fmt, ap);
        va_end(ap);
    }
    return CONV_REJECT;
}

/* Counts n items rejected for the reason in c->why. */
static void conv_reject_items(conv *c, const char *item, size_t n) {
    if (n == 0)
        return;
    if (c->b->rejected == 0) {
        char msg[sizeof(c->why) + 64];
        snprintf(msg, sizeof(msg), "%s rejected: %s", item, c->why);
        model_batch_reject(c->b, msg);
    } else {
        model_batch_reject(c->b, NULL);
    }
    c->b->rejected += (int64_t)(n - 1);
}

/* ---- scalars, strings, ids ---------------------------------------------- */

static int conv_str(conv *c, model_str *out, const char *s, const char *what) {
    if (s == NULL || s[0] == '\0') {
        *out = model_str_empty;
        return CONV_OK;
    }
    size_t len = strlen(s);
    if (!model_utf8_valid(s, len))
        return conv_reject(c, "%s is not valid UTF-8", what);
    if (model_str_dup(c->b, out, s, len) != 0)
        return CONV_NOMEM;
    return CONV_OK;
}

/* A string value of an attribute: validated whole, then cut to the value
 * length limit at a character boundary. */
static int conv_str_value(conv *c, model_str *out, const char *s) {
    if (s == NULL || s[0] == '\0') {
        *out = model_str_empty;
        return CONV_OK;
    }
    size_t len = strlen(s);
    if (!model_utf8_valid(s, len))
        return conv_reject(c, "string value is not valid UTF-8");
    if (model_str_dup(c->b, out, s, conv_cut(c, s, len, 1)) != 0)
        return CONV_NOMEM;
    return CONV_OK;
}

static int conv_bytes(conv *c, model_str *out, const ProtobufCBinaryData *d) {
    if (d->len == 0 || d->data == NULL) {
        *out = model_str_empty;
        return CONV_OK;
    }
    size_t len = conv_cut(c, (const char *)d->data, d->len, 0);
    if (model_str_dup(c->b, out, (const char *)d->data, len) != 0)
        return CONV_NOMEM;
    return CONV_OK;
}

/* An id that must be present: exactly n bytes, not all zero. */
static int conv_id_required(conv *c, uint8_t *out, size_t n, const ProtobufCBinaryData *d,
                            const char *what) {
    if (d->len != n || d->data == NULL)
        return conv_reject(c, "%s must be %zu bytes, got %zu", what, n, d->len);
    if (model_id_is_zero(d->data, n))
        return conv_reject(c, "%s must not be all zero", what);
    memcpy(out, d->data, n);
    return CONV_OK;
}

/* An optional id: empty, or exactly n bytes. *has is set when it is present
 * and not all zero (an all-zero id means "none" in OTLP). */
static int conv_id_optional(conv *c, uint8_t *out, int *has, size_t n,
                            const ProtobufCBinaryData *d, const char *what) {
    *has = 0;
    if (d->len == 0)
        return CONV_OK;
    if (d->len != n || d->data == NULL)
        return conv_reject(c, "%s must be empty or %zu bytes, got %zu", what, n, d->len);
    memcpy(out, d->data, n);
    *has = !model_id_is_zero(out, n);
    return CONV_OK;
}

/* ---- values and attributes ---------------------------------------------- */

static int conv_value(conv *c, model_value *out, const pb_any_value *v, int level);

/* Converts key/value pairs; `level` is the number of arrays/kvlists that
 * enclose them (0 for attributes). NULL elements are skipped. At most
 * `max` pairs are kept (0 = all); the number left out goes to *dropped. */
static int conv_kvs(conv *c, model_kv **items, size_t *n_items, pb_kv *const *kvs, size_t n,
                    int level, size_t max, size_t *dropped) {
    *items = NULL;
    *n_items = 0;
    *dropped = 0;
    if (n == 0 || kvs == NULL)
        return CONV_OK;
    size_t present = 0;
    for (size_t i = 0; i < n; i++)
        present += kvs[i] != NULL;
    size_t keep = conv_keep(present, max);
    *dropped = present - keep;
    if (keep == 0)
        return CONV_OK;
    model_kv *arr = conv_calloc(c, keep, sizeof(*arr));
    if (arr == NULL)
        return CONV_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n && k < keep; i++) {
        const pb_kv *kv = kvs[i];
        if (kv == NULL)
            continue;
        int rc = conv_str(c, &arr[k].key, kv->key, "attribute key");
        if (rc != CONV_OK)
            return rc;
        rc = conv_value(c, &arr[k].value, kv->value, level);
        if (rc != CONV_OK)
            return rc;
        k++;
    }
    *items = arr;
    *n_items = k;
    return CONV_OK;
}

/* Converts an item's attributes under the attribute count limit and adds
 * the ones left out to *dropped (the item's count; NULL for items that have
 * none, such as exemplars). */
static int conv_attrs(conv *c, model_attrs *out, pb_kv *const *kvs, size_t n, uint32_t *dropped) {
    size_t left_out = 0;
    int rc = conv_kvs(c, &out->items, &out->n, kvs, n, 0, conv_limits.max_attrs, &left_out);
    if (rc == CONV_OK && left_out > 0) {
        atomic_fetch_add_explicit(&conv_attrs_dropped, left_out, memory_order_relaxed);
        if (dropped != NULL)
            conv_add_dropped(dropped, left_out);
    }
    return rc;
}

/* `level` is the number of arrays/kvlists enclosing v. An array or kvlist at
 * level MODEL_MAX_VALUE_DEPTH would be the (MAX+1)th nesting: rejected. */
static int conv_value(conv *c, model_value *out, const pb_any_value *v, int level) {
    memset(out, 0, sizeof(*out));
    out->type = MODEL_VALUE_EMPTY;
    if (v == NULL)
        return CONV_OK;
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        out->type = MODEL_VALUE_STRING;
        return conv_str_value(c, &out->u.str, v->string_value);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        out->type = MODEL_VALUE_BOOL;
        out->u.boolean = v->bool_value ? 1 : 0;
        return CONV_OK;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        out->type = MODEL_VALUE_INT;
        out->u.integer = v->int_value;
        return CONV_OK;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        out->type = MODEL_VALUE_DOUBLE;
        out->u.dbl = v->double_value;
        return CONV_OK;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        out->type = MODEL_VALUE_BYTES;
        return conv_bytes(c, &out->u.str, &v->bytes_value);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: {
        if (level >= MODEL_MAX_VALUE_DEPTH)
            return conv_reject(c, "value nested deeper than %d levels", MODEL_MAX_VALUE_DEPTH);
        out->type = MODEL_VALUE_ARRAY;
        const Opentelemetry__Proto__Common__V1__ArrayValue *a = v->array_value;
        if (a == NULL || a->n_values == 0 || a->values == NULL)
            return CONV_OK;
        model_value *items = conv_calloc(c, a->n_values, sizeof(*items));
        if (items == NULL)
            return CONV_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < a->n_values; i++) {
            if (a->values[i] == NULL)
                continue;
            int rc = conv_value(c, &items[k], a->values[i], level + 1);
            if (rc != CONV_OK)
                return rc;
            k++;
        }
        out->u.array.items = items;
        out->u.array.n = k;
        return CONV_OK;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: {
        if (level >= MODEL_MAX_VALUE_DEPTH)
            return conv_reject(c, "value nested deeper than %d levels", MODEL_MAX_VALUE_DEPTH);
        out->type = MODEL_VALUE_KVLIST;
        const Opentelemetry__Proto__Common__V1__KeyValueList *l = v->kvlist_value;
        if (l == NULL)
            return CONV_OK;
        size_t unused;
        return conv_kvs(c, &out->u.kvlist.items, &out->u.kvlist.n, l->values, l->n_values,
                        level + 1, 0, &unused);
    }
    default:
        return CONV_OK; /* not set (or a future type): empty */
    }
}

/* ---- resource and scope ------------------------------------------------- */

static const model_str conv_unknown_service = {"unknown_service", 15};

static const model_str *conv_attr_string(const model_attrs *attrs, const char *key) {
    size_t klen = strlen(key);
    for (size_t i = 0; i < attrs->n; i++) {
        const model_kv *kv = &attrs->items[i];
        if (kv->key.len == klen && memcmp(kv->key.ptr, key, klen) == 0 &&
            kv->value.type == MODEL_VALUE_STRING)
            return &kv->value.u.str;
    }
    return NULL;
}

/* Converts a resource (r may be NULL) with the schema_url of its
 * ResourceX message. */
static int conv_resource(conv *c, model_resource **out, const pb_resource *r,
                         const char *schema_url) {
    model_resource *res = conv_calloc(c, 1, sizeof(*res));
    if (res == NULL)
        return CONV_NOMEM;
    res->service_name = conv_unknown_service;
    res->service_instance_id = model_str_empty;
    int rc = conv_str(c, &res->schema_url, schema_url, "resource schema_url");
    if (rc != CONV_OK)
        return rc;
    if (r != NULL) {
        res->dropped_attrs = r->dropped_attributes_count;
        rc = conv_attrs(c, &res->attrs, r->attributes, r->n_attributes, &res->dropped_attrs);
        if (rc != CONV_OK)
            return rc;
        const model_str *s = conv_attr_string(&res->attrs, "service.name");
        if (s != NULL && s->len > 0)
            res->service_name = *s; /* shares the attribute's copy */
        s = conv_attr_string(&res->attrs, "service.instance.id");
        if (s != NULL)
            res->service_instance_id = *s;
    }
    *out = res;
    return CONV_OK;
}

static int conv_scope(conv *c, model_scope **out, const pb_scope *s, const char *schema_url) {
    model_scope *sc = conv_calloc(c, 1, sizeof(*sc));
    if (sc == NULL)
        return CONV_NOMEM;
    sc->name = model_str_empty;
    sc->version = model_str_empty;
    int rc = conv_str(c, &sc->schema_url, schema_url, "scope schema_url");
    if (rc != CONV_OK)
        return rc;
    if (s != NULL) {
        rc = conv_str(c, &sc->name, s->name, "scope name");
        if (rc == CONV_OK)
            rc = conv_str(c, &sc->version, s->version, "scope version");
        sc->dropped_attrs = s->dropped_attributes_count;
        if (rc == CONV_OK)
            rc = conv_attrs(c, &sc->attrs, s->attributes, s->n_attributes, &sc->dropped_attrs);
        if (rc != CONV_OK)
            return rc;
    }
    *out = sc;
    return CONV_OK;
}

/* Grows one of the batch's item arrays by `more` elements (copying what is
 * there: conversion normally runs once per batch, so this is one copy at
 * most). */
static int conv_grow(conv *c, void **arr, size_t have, size_t more, size_t sz) {
    if (more == 0)
        return CONV_OK;
    if (have > SIZE_MAX - more)
        return CONV_NOMEM;
    void *p = conv_calloc(c, have + more, sz);
    if (p == NULL)
        return CONV_NOMEM;
    if (have)
        memcpy(p, *arr, have * sz);
    *arr = p;
    return CONV_OK;
}

/* Adds with saturation, for counting items. */
static size_t conv_add(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* ---- traces -------------------------------------------------------------- */

static int conv_event(conv *c, model_event *out, const pb_event *e) {
    out->time_ns = e->time_unix_nano;
    int rc = conv_str(c, &out->name, e->name, "event name");
    if (rc != CONV_OK)
        return rc;
    out->dropped_attrs = e->dropped_attributes_count;
    return conv_attrs(c, &out->attrs, e->attributes, e->n_attributes, &out->dropped_attrs);
}

static int conv_link(conv *c, model_link *out, const pb_link *l) {
    int rc = conv_id_required(c, out->trace_id, 16, &l->trace_id, "link trace_id");
    if (rc == CONV_OK)
        rc = conv_id_required(c, out->span_id, 8, &l->span_id, "link span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->trace_state, l->trace_state, "link trace_state");
    if (rc != CONV_OK)
        return rc;
    out->dropped_attrs = l->dropped_attributes_count;
    out->flags = l->flags;
    return conv_attrs(c, &out->attrs, l->attributes, l->n_attributes, &out->dropped_attrs);
}

/* The non-NULL elements of a repeated message field. */
static size_t conv_count_present(void *const *items, size_t n) {
    size_t k = 0;
    if (items == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        k += items[i] != NULL;
    return k;
}

static int conv_span(conv *c, model_span *out, const pb_span *s) {
    memset(out, 0, sizeof(*out));
    int rc = conv_id_required(c, out->trace_id, 16, &s->trace_id, "trace_id");
    if (rc == CONV_OK)
        rc = conv_id_required(c, out->span_id, 8, &s->span_id, "span_id");
    if (rc == CONV_OK)
        rc = conv_id_optional(c, out->parent_span_id, &out->has_parent, 8, &s->parent_span_id,
                              "parent_span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->trace_state, s->trace_state, "trace_state");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->name, s->name, "span name");
    if (rc != CONV_OK)
        return rc;
    out->flags = s->flags;
    int kind = (int)s->kind;
    out->kind = (kind >= 0 && kind <= (int)MODEL_SPAN_KIND_CONSUMER) ? (model_span_kind)kind
                                                                     : MODEL_SPAN_KIND_UNSPECIFIED;
    out->start_ns = s->start_time_unix_nano;
    out->end_ns = s->end_time_unix_nano;
    out->dropped_attrs = s->dropped_attributes_count;
    out->dropped_events = s->dropped_events_count;
    out->dropped_links = s->dropped_links_count;
    rc = conv_attrs(c, &out->attrs, s->attributes, s->n_attributes, &out->dropped_attrs);
    if (rc != CONV_OK)
        return rc;

    size_t n_ev = conv_count_present((void *const *)s->events, s->n_events);
    size_t keep_ev = conv_keep(n_ev, conv_limits.max_events);
    if (keep_ev < n_ev) {
        conv_add_dropped(&out->dropped_events, n_ev - keep_ev);
        atomic_fetch_add_explicit(&conv_events_dropped, n_ev - keep_ev, memory_order_relaxed);
    }
    if (keep_ev > 0) {
        out->events = conv_calloc(c, keep_ev, sizeof(*out->events));
        if (out->events == NULL)
            return CONV_NOMEM;
        for (size_t i = 0; i < s->n_events && out->n_events < keep_ev; i++) {
            if (s->events[i] == NULL)
                continue;
            rc = conv_event(c, &out->events[out->n_events], s->events[i]);
            if (rc != CONV_OK)
                return rc;
            out->n_events++;
        }
    }
    size_t n_ln = conv_count_present((void *const *)s->links, s->n_links);
    size_t keep_ln = conv_keep(n_ln, conv_limits.max_links);
    if (keep_ln < n_ln) {
        conv_add_dropped(&out->dropped_links, n_ln - keep_ln);
        atomic_fetch_add_explicit(&conv_links_dropped, n_ln - keep_ln, memory_order_relaxed);
    }
    if (keep_ln > 0) {
        out->links = conv_calloc(c, keep_ln, sizeof(*out->links));
        if (out->links == NULL)
            return CONV_NOMEM;
        for (size_t i = 0; i < s->n_links && out->n_links < keep_ln; i++) {
            if (s->links[i] == NULL)
                continue;
            rc = conv_link(c, &out->links[out->n_links], s->links[i]);
            if (rc != CONV_OK)
                return rc;
            out->n_links++;
        }
    }

    out->status_code = MODEL_STATUS_UNSET;
    out->status_message = model_str_empty;
    if (s->status != NULL) {
        int code = (int)s->status->code;
        if (code == MODEL_STATUS_OK || code == MODEL_STATUS_ERROR)
            out->status_code = (model_status_code)code;
        rc = conv_str(c, &out->status_message, s->status->message, "status message");
        if (rc != CONV_OK)
            return rc;
    }
    return CONV_OK;
}

static size_t conv_count_spans(const pb_resource_spans *rs) {
    size_t n = 0;
    if (rs == NULL || rs->scope_spans == NULL)
        return 0;
    for (size_t j = 0; j < rs->n_scope_spans; j++)
        if (rs->scope_spans[j] != NULL && rs->scope_spans[j]->spans != NULL)
            n = conv_add(n, rs->scope_spans[j]->n_spans);
    return n;
}

static size_t conv_count_ss(const pb_scope_spans *ss) {
    return (ss != NULL && ss->spans != NULL) ? ss->n_spans : 0;
}

int otlp_convert_traces(const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
                        model_batch *b) {
    conv c = {.b = b};
    size_t total = 0;
    if (req->resource_spans == NULL)
        return OTLP_OK;
    for (size_t i = 0; i < req->n_resource_spans; i++)
        total = conv_add(total, conv_count_spans(req->resource_spans[i]));
    if (conv_grow(&c, (void **)&b->spans, b->n_spans, total, sizeof(*b->spans)) != CONV_OK)
        return conv_alloc_error(b);

    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const pb_resource_spans *rs = req->resource_spans[i];
        if (conv_count_spans(rs) == 0)
            continue;
        model_resource *res = NULL;
        int rc = conv_resource(&c, &res, rs->resource, rs->schema_url);
        if (rc == CONV_NOMEM)
            return conv_alloc_error(b);
        if (rc == CONV_REJECT) {
            conv_reject_items(&c, "resource of spans", conv_count_spans(rs));
            continue;
        }
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const pb_scope_spans *ss = rs->scope_spans[j];
            if (conv_count_ss(ss) == 0)
                continue;
            model_scope *scope = NULL;
            rc = conv_scope(&c, &scope, ss->scope, ss->schema_url);
            if (rc == CONV_NOMEM)
                return conv_alloc_error(b);
            if (rc == CONV_REJECT) {
                conv_reject_items(&c, "scope of spans", ss->n_spans);
                continue;
            }
            for (size_t k = 0; k < ss->n_spans; k++) {
                if (ss->spans[k] == NULL)
                    continue;
                model_span *sp = &b->spans[b->n_spans];
                rc = conv_span(&c, sp, ss->spans[k]);
                if (rc == CONV_NOMEM)
                    return conv_alloc_error(b);
                if (rc == CONV_REJECT) {
                    conv_reject_items(&c, "span", 1);
                    continue;
                }
                sp->resource = res;
                sp->scope = scope;
                b->n_spans++;
            }
        }
    }
    return OTLP_OK;
}

/* ---- logs ----------------------------------------------------------------- */

static int conv_log(conv *c, model_log *out, const pb_log *l) {
    memset(out, 0, sizeof(*out));
    int sev = (int)l->severity_number;
    if (sev < 0 || sev > 24)
        return conv_reject(c, "severity_number %d is outside 0..24", sev);
    out->severity_number = sev;
    out->time_ns = l->time_unix_nano;
    out->observed_time_ns = l->observed_time_unix_nano;
    out->flags = l->flags;
    out->dropped_attrs = l->dropped_attributes_count;
    int rc = conv_id_optional(c, out->trace_id, &out->has_trace_id, 16, &l->trace_id, "trace_id");
    if (rc == CONV_OK)
        rc = conv_id_optional(c, out->span_id, &out->has_span_id, 8, &l->span_id, "span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->severity_text, l->severity_text, "severity_text");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->event_name, l->event_name, "event_name");
    if (rc == CONV_OK) {
        c->whole = 1; /* the body is the log's message, not an attribute */
        rc = conv_value(c, &out->body, l->body, 0);
        c->whole = 0;
    }
    if (rc == CONV_OK)
        rc = conv_attrs(c, &out->attrs, l->attributes, l->n_attributes, &out->dropped_attrs);
    return rc;
}

static size_t conv_count_sl(const pb_scope_logs *sl) {
    return (sl != NULL && sl->log_records != NULL) ? sl->n_log_records : 0;
}

static size_t conv_count_logs(const pb_resource_logs *rl) {
    size_t n = 0;
    if (rl == NULL || rl->scope_logs == NULL)
        return 0;
    for (size_t j = 0; j < rl->n_scope_logs; j++)
        n = conv_add(n, conv_count_sl(rl->scope_logs[j]));
    return n;
}

int otlp_convert_logs(const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req,
                      model_batch *b) {
    conv c = {.b = b};
    size_t total = 0;
    if (req->resource_logs == NULL)
        return OTLP_OK;
    for (size_t i = 0; i < req->n_resource_logs; i++)
        total = conv_add(total, conv_count_logs(req->resource_logs[i]));
    if (conv_grow(&c, (void **)&b->logs, b->n_logs, total, sizeof(*b->logs)) != CONV_OK)
        return conv_alloc_error(b);

    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const pb_resource_logs *rl = req->resource_logs[i];
        if (conv_count_logs(rl) == 0)
            continue;
        model_resource *res = NULL;
        int rc = conv_resource(&c, &res, rl->resource, rl->schema_url);
        if (rc == CONV_NOMEM)
            return conv_alloc_error(b);
        if (rc == CONV_REJECT) {
            conv_reject_items(&c, "resource of log records", conv_count_logs(rl));
            continue;
        }
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            const pb_scope_logs *sl = rl->scope_logs[j];
            if (conv_count_sl(sl) == 0)
                continue;
            model_scope *scope = NULL;
            rc = conv_scope(&c, &scope, sl->scope, sl->schema_url);
            if (rc == CONV_NOMEM)
                return conv_alloc_error(b);
            if (rc == CONV_REJECT) {
                conv_reject_items(&c, "scope of log records", sl->n_log_records);
                continue;
            }
            for (size_t k = 0; k < sl->n_log_records; k++) {
                if (sl->log_records[k] == NULL)
                    continue;
                model_log *lg = &b->logs[b->n_logs];
                rc = conv_log(&c, lg, sl->log_records[k]);
                if (rc == CONV_NOMEM)
                    return conv_alloc_error(b);
                if (rc == CONV_REJECT) {
                    conv_reject_items(&c, "log record", 1);
                    continue;
                }
                lg->resource = res;
                lg->scope = scope;
                b->n_logs++;
            }
        }
    }
    return OTLP_OK;
}

/* ---- metrics -------------------------------------------------------------- */

static int conv_exemplar(conv *c, model_exemplar *out, const pb_exemplar *e) {
    out->time_ns = e->time_unix_nano;
    if (e->value_case == OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT) {
        out->is_int = 1;
        out->as_int = e->as_int;
        out->as_double = (double)e->as_int;
    } else if (e->value_case == OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE) {
        out->as_double = e->as_double;
    }
    int rc = conv_id_optional(c, out->trace_id, &out->has_trace_id, 16, &e->trace_id,
                              "exemplar trace_id");
    if (rc == CONV_OK)
        rc = conv_id_optional(c, out->span_id, &out->has_span_id, 8, &e->span_id,
                              "exemplar span_id");
    if (rc == CONV_OK)
        rc = conv_attrs(c, &out->filtered_attrs, e->filtered_attributes,
                        e->n_filtered_attributes, NULL);
    return rc;
}

/* The fields every kind of data point has. */
static int conv_point_common(conv *c, model_point *out, pb_kv *const *attrs, size_t n_attrs,
                             uint64_t start, uint64_t time, uint32_t flags,
                             pb_exemplar *const *ex, size_t n_ex) {
    out->start_time_ns = start;
    out->time_ns = time;
    out->flags = flags;
    /* OTLP data points have no dropped_attributes_count: only counted. */
    int rc = conv_attrs(c, &out->attrs, attrs, n_attrs, NULL);
    if (rc != CONV_OK)
        return rc;
    if (n_ex == 0 || ex == NULL)
        return CONV_OK;
    out->exemplars = conv_calloc(c, n_ex, sizeof(*out->exemplars));
    if (out->exemplars == NULL)
        return CONV_NOMEM;
    for (size_t i = 0; i < n_ex; i++) {
        if (ex[i] == NULL)
            continue;
        rc = conv_exemplar(c, &out->exemplars[out->n_exemplars], ex[i]);
        if (rc != CONV_OK)
            return rc;
        out->n_exemplars++;
    }
    return CONV_OK;
}

static int conv_number_point(conv *c, model_point *out, const pb_number_point *p) {
    if (p->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT) {
        out->is_int = 1;
        out->as_int = p->as_int;
        out->as_double = (double)p->as_int;
    } else if (p->value_case ==
               OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE) {
        out->as_double = p->as_double;
    }
    return conv_point_common(c, out, p->attributes, p->n_attributes, p->start_time_unix_nano,
                             p->time_unix_nano, p->flags, p->exemplars, p->n_exemplars);
}

static int conv_u64s(conv *c, uint64_t **out, size_t *n_out, const uint64_t *v, size_t n) {
    *out = NULL;
    *n_out = 0;
    if (n == 0 || v == NULL)
        return CONV_OK;
    uint64_t *p = conv_calloc(c, n, sizeof(*p));
    if (p == NULL)
        return CONV_NOMEM;
    memcpy(p, v, n * sizeof(*p));
    *out = p;
    *n_out = n;
    return CONV_OK;
}

static int conv_hist_point(conv *c, model_point *out, const pb_hist_point *p) {
    size_t n_counts = p->bucket_counts ? p->n_bucket_counts : 0;
    size_t n_bounds = p->explicit_bounds ? p->n_explicit_bounds : 0;
    if (n_counts > 0 && n_bounds + 1 != n_counts)
        return conv_reject(c, "histogram has %zu explicit_bounds and %zu bucket_counts", n_bounds,
                           n_counts);
    out->count = p->count;
    out->has_sum = p->sum_present_case ==
                   OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    out->sum = out->has_sum ? p->sum : 0.0;
    out->has_min = p->min_present_case ==
                   OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    out->min = out->has_min ? p->min : 0.0;
    out->has_max = p->max_present_case ==
                   OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    out->max = out->has_max ? p->max : 0.0;
    /* Without bucket counts the bounds mean nothing; the model keeps both
     * empty then. */
    if (n_counts > 0) {
        out->bounds = conv_calloc(c, n_bounds ? n_bounds : 1, sizeof(*out->bounds));
        if (out->bounds == NULL)
            return CONV_NOMEM;
        if (n_bounds)
            memcpy(out->bounds, p->explicit_bounds, n_bounds * sizeof(*out->bounds));
        out->n_bounds = n_bounds;
        int rc = conv_u64s(c, &out->bucket_counts, &out->n_bucket_counts, p->bucket_counts,
                           n_counts);
        if (rc != CONV_OK)
            return rc;
    }
    return conv_point_common(c, out, p->attributes, p->n_attributes, p->start_time_unix_nano,
                             p->time_unix_nano, p->flags, p->exemplars, p->n_exemplars);
}

static int conv_buckets(conv *c, int32_t *offset, uint64_t **counts, size_t *n,
                        const pb_buckets *bk) {
    *offset = 0;
    *counts = NULL;
    *n = 0;
    if (bk == NULL)
        return CONV_OK;
    *offset = bk->offset;
    return conv_u64s(c, counts, n, bk->bucket_counts, bk->n_bucket_counts);
}

static int conv_exp_point(conv *c, model_point *out, const pb_exp_point *p) {
    out->count = p->count;
    out->has_sum =
        p->sum_present_case ==
        OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    out->sum = out->has_sum ? p->sum : 0.0;
    out->has_min =
        p->min_present_case ==
        OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    out->min = out->has_min ? p->min : 0.0;
    out->has_max =
        p->max_present_case ==
        OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    out->max = out->has_max ? p->max : 0.0;
    out->scale = p->scale;
    out->zero_count = p->zero_count;
    out->zero_threshold = p->zero_threshold;
    int rc = conv_buckets(c, &out->positive_offset, &out->positive_counts, &out->n_positive,
                          p->positive);
    if (rc == CONV_OK)
        rc = conv_buckets(c, &out->negative_offset, &out->negative_counts, &out->n_negative,
                          p->negative);
    if (rc != CONV_OK)
        return rc;
    return conv_point_common(c, out, p->attributes, p->n_attributes, p->start_time_unix_nano,
                             p->time_unix_nano, p->flags, p->exemplars, p->n_exemplars);
}

static int conv_summary_point(conv *c, model_point *out, const pb_summary_point *p) {
    out->count = p->count;
    out->sum = p->sum;
    out->has_sum = 1;
    if (p->n_quantile_values > 0 && p->quantile_values != NULL) {
        out->quantiles = conv_calloc(c, p->n_quantile_values, sizeof(*out->quantiles));
        if (out->quantiles == NULL)
            return CONV_NOMEM;
        for (size_t i = 0; i < p->n_quantile_values; i++) {
            if (p->quantile_values[i] == NULL)
                continue;
            out->quantiles[out->n_quantiles].quantile = p->quantile_values[i]->quantile;
            out->quantiles[out->n_quantiles].value = p->quantile_values[i]->value;
            out->n_quantiles++;
        }
    }
    /* A summary point has no exemplars. */
    return conv_point_common(c, out, p->attributes, p->n_attributes, p->start_time_unix_nano,
                             p->time_unix_nano, p->flags, NULL, 0);
}

/* The data points of a metric, whatever its kind. */
typedef struct conv_points {
    model_metric_type type;
    size_t n;
    void *const *items; /* pb_*_point pointers */
    int temporality;
    int monotonic;
} conv_points;

/* Returns 0 and fills *out, or -1 when the metric has no data set. */
static int conv_metric_points(const pb_metric *m, conv_points *out) {
    memset(out, 0, sizeof(*out));
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        if (m->gauge == NULL)
            return -1;
        out->type = MODEL_METRIC_GAUGE;
        out->n = m->gauge->n_data_points;
        out->items = (void *const *)m->gauge->data_points;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        if (m->sum == NULL)
            return -1;
        out->type = MODEL_METRIC_SUM;
        out->n = m->sum->n_data_points;
        out->items = (void *const *)m->sum->data_points;
        out->temporality = (int)m->sum->aggregation_temporality;
        out->monotonic = m->sum->is_monotonic ? 1 : 0;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        if (m->histogram == NULL)
            return -1;
        out->type = MODEL_METRIC_HISTOGRAM;
        out->n = m->histogram->n_data_points;
        out->items = (void *const *)m->histogram->data_points;
        out->temporality = (int)m->histogram->aggregation_temporality;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        if (m->exponential_histogram == NULL)
            return -1;
        out->type = MODEL_METRIC_EXP_HISTOGRAM;
        out->n = m->exponential_histogram->n_data_points;
        out->items = (void *const *)m->exponential_histogram->data_points;
        out->temporality = (int)m->exponential_histogram->aggregation_temporality;
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        if (m->summary == NULL)
            return -1;
        out->type = MODEL_METRIC_SUMMARY;
        out->n = m->summary->n_data_points;
        out->items = (void *const *)m->summary->data_points;
        break;
    default:
        return -1;
    }
    if (out->items == NULL)
        out->n = 0;
    return 0;
}

static int conv_point(conv *c, model_point *out, model_metric_type type, const void *p) {
    memset(out, 0, sizeof(*out));
    switch (type) {
    case MODEL_METRIC_GAUGE:
    case MODEL_METRIC_SUM:
        return conv_number_point(c, out, p);
    case MODEL_METRIC_HISTOGRAM:
        return conv_hist_point(c, out, p);
    case MODEL_METRIC_EXP_HISTOGRAM:
        return conv_exp_point(c, out, p);
    case MODEL_METRIC_SUMMARY:
        return conv_summary_point(c, out, p);
    }
    return conv_reject(c, "unknown metric type");
}

static int conv_metric_head(conv *c, model_metric *out, const pb_metric *m,
                            const conv_points *pts) {
    memset(out, 0, sizeof(*out));
    int rc = conv_str(c, &out->name, m->name, "metric name");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->description, m->description, "metric description");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->unit, m->unit, "metric unit");
    if (rc != CONV_OK)
        return rc;
    out->type = pts->type;
    out->temporality = (pts->temporality == MODEL_TEMPORALITY_DELTA ||
                        pts->temporality == MODEL_TEMPORALITY_CUMULATIVE)
                           ? (model_temporality)pts->temporality
                           : MODEL_TEMPORALITY_UNSPECIFIED;
    out->monotonic = pts->monotonic;
    return CONV_OK;
}

static size_t conv_count_metric(const pb_metric *m) {
    conv_points pts;
    if (m == NULL || conv_metric_points(m, &pts) != 0)
        return 0;
    return pts.n;
}

static size_t conv_count_sm(const pb_scope_metrics *sm, size_t *n_metrics) {
    size_t n = 0;
    if (sm == NULL || sm->metrics == NULL)
        return 0;
    for (size_t k = 0; k < sm->n_metrics; k++) {
        size_t np = conv_count_metric(sm->metrics[k]);
        if (np > 0 && n_metrics != NULL)
            *n_metrics = conv_add(*n_metrics, 1);
        n = conv_add(n, np);
    }
    return n;
}

static size_t conv_count_rm(const pb_resource_metrics *rm, size_t *n_metrics) {
    size_t n = 0;
    if (rm == NULL || rm->scope_metrics == NULL)
        return 0;
    for (size_t j = 0; j < rm->n_scope_metrics; j++)
        n = conv_add(n, conv_count_sm(rm->scope_metrics[j], n_metrics));
    return n;
}

/* Converts one metric and its points; metrics with no accepted point are
 * not kept. */
static int conv_metric(conv *c, const pb_metric *m, const model_resource *res,
                       const model_scope *scope) {
    model_batch *b = c->b;
    conv_points pts;
    if (conv_metric_points(m, &pts) != 0 || pts.n == 0)
        return CONV_OK; /* no data: nothing to keep or reject */
    model_metric *mm = &b->metrics[b->n_metrics];
    int rc = conv_metric_head(c, mm, m, &pts);
    if (rc == CONV_NOMEM)
        return rc;
    if (rc == CONV_REJECT) {
        conv_reject_items(c, "metric data point", pts.n);
        return CONV_OK;
    }
    mm->resource = res;
    mm->scope = scope;
    size_t accepted = 0;
    for (size_t i = 0; i < pts.n; i++) {
        if (pts.items[i] == NULL)
            continue;
        model_point *pt = &b->points[b->n_points];
        rc = conv_point(c, pt, pts.type, pts.items[i]);
        if (rc == CONV_NOMEM)
            return rc;
        if (rc == CONV_REJECT) {
            conv_reject_items(c, "metric data point", 1);
            continue;
        }
        pt->metric = mm;
        b->n_points++;
        accepted++;
    }
    if (accepted > 0)
        b->n_metrics++;
    return CONV_OK;
}

int otlp_convert_metrics(
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req,
    model_batch *b) {
    conv c = {.b = b};
    size_t total = 0, n_metrics = 0;
    if (req->resource_metrics == NULL)
        return OTLP_OK;
    for (size_t i = 0; i < req->n_resource_metrics; i++)
        total = conv_add(total, conv_count_rm(req->resource_metrics[i], &n_metrics));
    /* Points refer to their metric by address, so both arrays are sized once
     * up front and never move while this request is converted. */
    const model_metric *old_metrics = b->metrics;
    if (conv_grow(&c, (void **)&b->points, b->n_points, total, sizeof(*b->points)) != CONV_OK ||
        conv_grow(&c, (void **)&b->metrics, b->n_metrics, n_metrics, sizeof(*b->metrics)) !=
            CONV_OK)
        return conv_alloc_error(b);
    /* conv_grow() copied the metrics the batch already had: re-point the
     * points it already had at the copies. */
    if (old_metrics != NULL && old_metrics != b->metrics)
        for (size_t i = 0; i < b->n_points; i++)
            b->points[i].metric = &b->metrics[b->points[i].metric - old_metrics];
    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        const pb_resource_metrics *rm = req->resource_metrics[i];
        size_t n_rm = conv_count_rm(rm, NULL);
        if (n_rm == 0)
            continue;
        model_resource *res = NULL;
        int rc = conv_resource(&c, &res, rm->resource, rm->schema_url);
        if (rc == CONV_NOMEM)
            return conv_alloc_error(b);
        if (rc == CONV_REJECT) {
            conv_reject_items(&c, "resource of metric data points", n_rm);
            continue;
        }
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            const pb_scope_metrics *sm = rm->scope_metrics[j];
            size_t n_sm = conv_count_sm(sm, NULL);
            if (n_sm == 0)
                continue;
            model_scope *scope = NULL;
            rc = conv_scope(&c, &scope, sm->scope, sm->schema_url);
            if (rc == CONV_NOMEM)
                return conv_alloc_error(b);
            if (rc == CONV_REJECT) {
                conv_reject_items(&c, "scope of metric data points", n_sm);
                continue;
            }
            for (size_t k = 0; k < sm->n_metrics; k++) {
                if (sm->metrics[k] == NULL)
                    continue;
                if (conv_metric(&c, sm->metrics[k], res, scope) != CONV_OK)
                    return conv_alloc_error(b);
            }
        }
    }
    return OTLP_OK;
}
