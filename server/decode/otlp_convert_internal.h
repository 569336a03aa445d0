/* otlp_convert_internal.h - what the OTLP converter's files share.
 *
 * otlp_convert.c holds the pieces every signal uses (rejection, strings and
 * ids, values and attributes, resources and scopes, the per-item limits);
 * otlp_convert_traces.c, otlp_convert_logs.c and otlp_convert_metrics.c each
 * turn one signal's request structs into the model with them. Not for use
 * outside server/decode/otlp_convert*.c.
 */
#ifndef LOUPE_OTLP_CONVERT_INTERNAL_H
#define LOUPE_OTLP_CONVERT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_internal.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;

/* Results of the conversion helpers. */
#define CONV_OK 0
#define CONV_REJECT 1   /* the item is invalid; conv.why says why */
#define CONV_NOMEM (-1) /* the batch arena refused an allocation */

/* One request's conversion into the batch b. */
typedef struct conv {
    model_batch *b;
    char why[192]; /* reason for the current rejection (first one only) */
    int whole;     /* values are kept whole (a log body), not cut */
    model_limited lim; /* what the limits took so far (items take differences) */
} conv;

/* What the limits took since c->lim was `from`: an item's share. */
static inline model_limited conv_limited_since(const conv *c, model_limited from) {
    model_limited d = {c->lim.dropped - from.dropped, c->lim.cut - from.cut};
    return d;
}

/* Maps a refused batch allocation to OTLP_ETOOBIG (the batch's cap) or
 * OTLP_ENOMEM (the system). */
int conv_alloc_error(const model_batch *b);

/* n zeroed elements of size sz in the batch's arena; NULL when refused. */
void *conv_calloc(conv *c, size_t n, size_t sz);

/* Grows one of the batch's item arrays by `more` elements. */
int conv_grow(conv *c, void **arr, size_t have, size_t more, size_t sz);

/* Adds with saturation, for counting items. */
size_t conv_add(size_t a, size_t b);

/* Records why the current item is invalid (the batch's first reason only)
 * and returns CONV_REJECT. */
int conv_reject(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts n items (named `item` in the message) rejected for c->why. */
void conv_reject_items(conv *c, const char *item, size_t n);

/* A string field (s may be NULL: ""), which must be valid UTF-8; `what`
 * names it in the rejection. Copied into the batch, never cut. */
int conv_str(conv *c, model_str *out, const char *s, const char *what);

/* An id that must be present: exactly n bytes, not all zero. */
int conv_id_required(conv *c, uint8_t *out, size_t n, const ProtobufCBinaryData *d,
                     const char *what);

/* An optional id: empty, or exactly n bytes; *has when present and not all
 * zero. */
int conv_id_optional(conv *c, uint8_t *out, int *has, size_t n, const ProtobufCBinaryData *d,
                     const char *what);

/* A value (v may be NULL: empty) inside `level` arrays/kvlists; strings and
 * bytes are cut to the value length limit unless c->whole. */
int conv_value(conv *c, model_value *out, const pb_any_value *v, int level);

/* An item's attributes under the attribute count limit; the ones left out
 * are added to *dropped (NULL for items without such a count). */
int conv_attrs(conv *c, model_attrs *out, pb_kv *const *kvs, size_t n, uint32_t *dropped);

/* A resource (r may be NULL) with the schema_url of its ResourceX message. */
int conv_resource(conv *c, model_resource **out, const pb_resource *r, const char *schema_url);

/* A scope (s may be NULL) with the schema_url of its ScopeX message. */
int conv_scope(conv *c, model_scope **out, const pb_scope *s, const char *schema_url);

/* How many of a span's n events (links) are kept under the limit; the rest
 * are added to *dropped, c->lim and the limit statistics. */
size_t conv_keep_events(conv *c, size_t n, uint32_t *dropped);
size_t conv_keep_links(conv *c, size_t n, uint32_t *dropped);

#endif
