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
 *
 * This file: what every signal shares (limits, rejection, strings and ids,
 * values and attributes, resources and scopes). The signals are in
 * otlp_convert_traces.c, otlp_convert_logs.c and otlp_convert_metrics.c;
 * otlp_convert_internal.h is what they share.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "otlp.h"
#include "otlp_convert_internal.h"
#include "otlp_internal.h"

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
static size_t conv_cut(conv *c, const char *s, size_t len, int utf8) {
    size_t max = conv_limits.max_value_len;
    if (max == 0 || len <= max || c->whole)
        return len;
    size_t cut = utf8 ? utf8_cut(s, len, max) : max;
    atomic_fetch_add_explicit(&conv_values_truncated, 1, memory_order_relaxed);
    c->lim.cut++;
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
int conv_alloc_error(const model_batch *b) {
    return arena_limit_hit(b->arena) ? OTLP_ETOOBIG : OTLP_ENOMEM;
}

/* Allocates n zeroed elements of size sz in the batch (NULL for n == 0 is
 * not an error: callers check n first). */
void *conv_calloc(conv *c, size_t n, size_t sz) {
    return arena_calloc(c->b->arena, n, sz);
}

/* ---- rejection ---------------------------------------------------------- */

/* Records why the current item is invalid and returns CONV_REJECT. Only the
 * first message of a batch is kept, so later ones are not even formatted. */
int conv_reject(conv *c, const char *fmt, ...) {
    if (c->b->rejected == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof(c->why), fmt, ap);
        va_end(ap);
    }
    return CONV_REJECT;
}

/* Counts n items rejected for the reason in c->why. */
void conv_reject_items(conv *c, const char *item, size_t n) {
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

int conv_str(conv *c, model_str *out, const char *s, const char *what) {
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
int conv_id_required(conv *c, uint8_t *out, size_t n, const ProtobufCBinaryData *d,
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
int conv_id_optional(conv *c, uint8_t *out, int *has, size_t n,
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
int conv_attrs(conv *c, model_attrs *out, pb_kv *const *kvs, size_t n, uint32_t *dropped) {
    size_t left_out = 0;
    int rc = conv_kvs(c, &out->items, &out->n, kvs, n, 0, conv_limits.max_attrs, &left_out);
    if (rc == CONV_OK && left_out > 0) {
        atomic_fetch_add_explicit(&conv_attrs_dropped, left_out, memory_order_relaxed);
        conv_add_dropped(&c->lim.dropped, left_out);
        if (dropped != NULL)
            conv_add_dropped(dropped, left_out);
    }
    return rc;
}

/* `level` is the number of arrays/kvlists enclosing v. An array or kvlist at
 * level MODEL_MAX_VALUE_DEPTH would be the (MAX+1)th nesting: rejected. */
int conv_value(conv *c, model_value *out, const pb_any_value *v, int level) {
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
int conv_resource(conv *c, model_resource **out, const pb_resource *r,
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
        model_limited from = c->lim;
        rc = conv_attrs(c, &res->attrs, r->attributes, r->n_attributes, &res->dropped_attrs);
        if (rc != CONV_OK)
            return rc;
        res->limited = conv_limited_since(c, from);
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

int conv_scope(conv *c, model_scope **out, const pb_scope *s, const char *schema_url) {
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
int conv_grow(conv *c, void **arr, size_t have, size_t more, size_t sz) {
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
size_t conv_add(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* The number of n items kept under `limit`, the rest added to *dropped and
 * to the process-wide counter `stat`. */
static size_t conv_keep_counted(conv *c, size_t n, size_t limit, uint32_t *dropped,
                                atomic_uint_fast64_t *stat) {
    size_t keep = conv_keep(n, limit);
    if (keep < n) {
        conv_add_dropped(dropped, n - keep);
        conv_add_dropped(&c->lim.dropped, n - keep);
        atomic_fetch_add_explicit(stat, n - keep, memory_order_relaxed);
    }
    return keep;
}

size_t conv_keep_events(conv *c, size_t n, uint32_t *dropped) {
    return conv_keep_counted(c, n, conv_limits.max_events, dropped, &conv_events_dropped);
}

size_t conv_keep_links(conv *c, size_t n, uint32_t *dropped) {
    return conv_keep_counted(c, n, conv_limits.max_links, dropped, &conv_links_dropped);
}
