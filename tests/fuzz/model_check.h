/* model_check.h - what every decoded model_batch promises, for the fuzz targets.
 *
 * mc_batch() walks a whole batch, touching every byte it points to (so ASan
 * sees any slice that runs past its allocation) and checking the promises of
 * storage/model.h and otlp.h: strings are NUL-terminated slices, text is
 * valid UTF-8 without NUL bytes, ids of kept items are valid, values nest at
 * most MODEL_MAX_VALUE_DEPTH containers, items point at records of the same
 * batch, enums are in range. It returns a digest of the content (FNV-1a), so
 * two decodes of the same body can be compared.
 *
 * The UTF-8 check is an independent reference implementation, not
 * model_utf8_valid(), so it also checks that one. A failed check prints the
 * condition and aborts: libFuzzer and replay.c both report that as a crash.
 */
#ifndef LOUPE_TESTS_FUZZ_MODEL_CHECK_H
#define LOUPE_TESTS_FUZZ_MODEL_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/model.h"

#define MC_CHECK(x)                                                                                \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline void mc_mix(uint64_t *h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= s[i];
        *h *= 0x100000001b3ULL;
    }
}

#define MC_MIX(h, v) mc_mix((h), &(v), sizeof(v))

/* Reference UTF-8 check (RFC 3629): no overlongs, no surrogates, nothing
 * above U+10FFFF, no truncated sequences. */
static inline int mc_utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* A one-line, printable, UTF-8 message (otlp.h: "a one-line reason"). */
static inline void mc_message(const char *msg, size_t cap) {
    size_t n = strnlen(msg, cap);
    MC_CHECK(n < cap);
    MC_CHECK(mc_utf8_valid((const unsigned char *)msg, n));
    for (size_t i = 0; i < n; i++)
        MC_CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7F);
}

/* text: a string field (valid UTF-8, no NUL); otherwise bytes. */
static inline void mc_str(uint64_t *h, const model_str *s, int text) {
    MC_CHECK(s->ptr != NULL);
    MC_CHECK(s->ptr[s->len] == '\0');
    if (text) {
        MC_CHECK(memchr(s->ptr, '\0', s->len) == NULL);
        int ref = mc_utf8_valid((const unsigned char *)s->ptr, s->len);
        MC_CHECK(ref);
        MC_CHECK(model_utf8_valid(s->ptr, s->len) == ref);
    }
    MC_MIX(h, s->len);
    mc_mix(h, s->ptr, s->len);
}

static inline void mc_attrs_at(uint64_t *h, const model_kv *items, size_t n, int level);

/* level: the number of arrays/kvlists enclosing v. */
static inline void mc_value(uint64_t *h, const model_value *v, int level) {
    MC_MIX(h, v->type);
    switch (v->type) {
    case MODEL_VALUE_EMPTY:
        return;
    case MODEL_VALUE_STRING:
        mc_str(h, &v->u.str, 1);
        return;
    case MODEL_VALUE_BYTES:
        mc_str(h, &v->u.str, 0);
        return;
    case MODEL_VALUE_BOOL:
        MC_CHECK(v->u.boolean == 0 || v->u.boolean == 1);
        MC_MIX(h, v->u.boolean);
        return;
    case MODEL_VALUE_INT:
        MC_MIX(h, v->u.integer);
        return;
    case MODEL_VALUE_DOUBLE:
        MC_MIX(h, v->u.dbl);
        return;
    case MODEL_VALUE_ARRAY:
        MC_CHECK(level < MODEL_MAX_VALUE_DEPTH);
        MC_CHECK(v->u.array.n == 0 || v->u.array.items != NULL);
        MC_MIX(h, v->u.array.n);
        for (size_t i = 0; i < v->u.array.n; i++)
            mc_value(h, &v->u.array.items[i], level + 1);
        return;
    case MODEL_VALUE_KVLIST:
        MC_CHECK(level < MODEL_MAX_VALUE_DEPTH);
        mc_attrs_at(h, v->u.kvlist.items, v->u.kvlist.n, level + 1);
        return;
    }
    MC_CHECK(!"value type out of range");
}

static inline void mc_attrs_at(uint64_t *h, const model_kv *items, size_t n, int level) {
    MC_CHECK(n == 0 || items != NULL);
    MC_MIX(h, n);
    for (size_t i = 0; i < n; i++) {
        mc_str(h, &items[i].key, 1);
        mc_value(h, &items[i].value, level);
    }
}

static inline void mc_attrs(uint64_t *h, const model_attrs *a) {
    mc_attrs_at(h, a->items, a->n, 0);
}

static inline void mc_resource(uint64_t *h, const model_resource *r) {
    MC_CHECK(r != NULL);
    mc_attrs(h, &r->attrs);
    MC_MIX(h, r->dropped_attrs);
    mc_str(h, &r->schema_url, 1);
    mc_str(h, &r->service_name, 1);
    MC_CHECK(r->service_name.len > 0);
    mc_str(h, &r->service_instance_id, 1);
}

static inline void mc_scope(uint64_t *h, const model_scope *s) {
    MC_CHECK(s != NULL);
    mc_str(h, &s->name, 1);
    mc_str(h, &s->version, 1);
    mc_attrs(h, &s->attrs);
    MC_MIX(h, s->dropped_attrs);
    mc_str(h, &s->schema_url, 1);
}

/* An optional id: has is 0 or 1, and the bytes are all zero exactly when
 * it is 0 (absent and all-zero ids both read as "none"). */
static inline void mc_opt_id(uint64_t *h, const uint8_t *id, size_t n, int has) {
    MC_CHECK(has == 0 || has == 1);
    MC_CHECK(model_id_is_zero(id, n) == !has);
    mc_mix(h, id, n);
}

static inline void mc_span(uint64_t *h, const model_span *s) {
    mc_resource(h, s->resource);
    mc_scope(h, s->scope);
    MC_CHECK(!model_id_is_zero(s->trace_id, 16));
    MC_CHECK(!model_id_is_zero(s->span_id, 8));
    mc_mix(h, s->trace_id, 16);
    mc_mix(h, s->span_id, 8);
    mc_opt_id(h, s->parent_span_id, 8, s->has_parent);
    mc_str(h, &s->trace_state, 1);
    MC_MIX(h, s->flags);
    mc_str(h, &s->name, 1);
    MC_CHECK(s->kind >= MODEL_SPAN_KIND_UNSPECIFIED && s->kind <= MODEL_SPAN_KIND_CONSUMER);
    MC_MIX(h, s->kind);
    MC_MIX(h, s->start_ns);
    MC_MIX(h, s->end_ns);
    mc_attrs(h, &s->attrs);
    MC_MIX(h, s->dropped_attrs);
    MC_CHECK(s->n_events == 0 || s->events != NULL);
    for (size_t i = 0; i < s->n_events; i++) {
        const model_event *e = &s->events[i];
        MC_MIX(h, e->time_ns);
        mc_str(h, &e->name, 1);
        mc_attrs(h, &e->attrs);
        MC_MIX(h, e->dropped_attrs);
    }
    MC_MIX(h, s->dropped_events);
    MC_CHECK(s->n_links == 0 || s->links != NULL);
    for (size_t i = 0; i < s->n_links; i++) {
        const model_link *l = &s->links[i];
        MC_CHECK(!model_id_is_zero(l->trace_id, 16));
        MC_CHECK(!model_id_is_zero(l->span_id, 8));
        mc_mix(h, l->trace_id, 16);
        mc_mix(h, l->span_id, 8);
        mc_str(h, &l->trace_state, 1);
        mc_attrs(h, &l->attrs);
        MC_MIX(h, l->dropped_attrs);
        MC_MIX(h, l->flags);
    }
    MC_MIX(h, s->dropped_links);
    MC_CHECK(s->status_code >= MODEL_STATUS_UNSET && s->status_code <= MODEL_STATUS_ERROR);
    MC_MIX(h, s->status_code);
    mc_str(h, &s->status_message, 1);
}

static inline void mc_log(uint64_t *h, const model_log *l) {
    mc_resource(h, l->resource);
    mc_scope(h, l->scope);
    MC_MIX(h, l->time_ns);
    MC_MIX(h, l->observed_time_ns);
    MC_CHECK(l->severity_number >= 0 && l->severity_number <= 24);
    MC_MIX(h, l->severity_number);
    mc_str(h, &l->severity_text, 1);
    mc_value(h, &l->body, 0);
    mc_attrs(h, &l->attrs);
    MC_MIX(h, l->dropped_attrs);
    MC_MIX(h, l->flags);
    mc_opt_id(h, l->trace_id, 16, l->has_trace_id);
    mc_opt_id(h, l->span_id, 8, l->has_span_id);
    mc_str(h, &l->event_name, 1);
}

static inline void mc_u64s(uint64_t *h, const uint64_t *v, size_t n) {
    MC_CHECK(n == 0 || v != NULL);
    MC_MIX(h, n);
    if (n > 0)
        mc_mix(h, v, n * sizeof(*v));
}

static inline void mc_point(uint64_t *h, const model_batch *b, const model_point *p) {
    MC_CHECK(p->metric >= b->metrics && p->metric < b->metrics + b->n_metrics);
    size_t mi = (size_t)(p->metric - b->metrics);
    MC_MIX(h, mi);
    mc_attrs(h, &p->attrs);
    MC_MIX(h, p->start_time_ns);
    MC_MIX(h, p->time_ns);
    MC_MIX(h, p->flags);
    MC_CHECK(p->n_exemplars == 0 || p->exemplars != NULL);
    for (size_t i = 0; i < p->n_exemplars; i++) {
        const model_exemplar *e = &p->exemplars[i];
        mc_attrs(h, &e->filtered_attrs);
        MC_MIX(h, e->time_ns);
        MC_CHECK(e->is_int == 0 || e->is_int == 1);
        if (e->is_int)
            MC_CHECK(e->as_double == (double)e->as_int);
        MC_MIX(h, e->as_int);
        MC_MIX(h, e->as_double);
        mc_opt_id(h, e->trace_id, 16, e->has_trace_id);
        mc_opt_id(h, e->span_id, 8, e->has_span_id);
    }
    switch (p->metric->type) {
    case MODEL_METRIC_GAUGE:
    case MODEL_METRIC_SUM:
        MC_CHECK(p->is_int == 0 || p->is_int == 1);
        if (p->is_int)
            MC_CHECK(p->as_double == (double)p->as_int);
        MC_MIX(h, p->as_int);
        MC_MIX(h, p->as_double);
        break;
    case MODEL_METRIC_HISTOGRAM:
        MC_CHECK((p->n_bounds == 0 && p->n_bucket_counts == 0) ||
                 p->n_bounds + 1 == p->n_bucket_counts);
        MC_CHECK(p->n_bounds == 0 || p->bounds != NULL);
        if (p->n_bounds > 0)
            mc_mix(h, p->bounds, p->n_bounds * sizeof(*p->bounds));
        mc_u64s(h, p->bucket_counts, p->n_bucket_counts);
        break;
    case MODEL_METRIC_EXP_HISTOGRAM:
        MC_MIX(h, p->scale);
        MC_MIX(h, p->zero_count);
        MC_MIX(h, p->positive_offset);
        mc_u64s(h, p->positive_counts, p->n_positive);
        MC_MIX(h, p->negative_offset);
        mc_u64s(h, p->negative_counts, p->n_negative);
        break;
    case MODEL_METRIC_SUMMARY:
        MC_CHECK(p->has_sum == 1);
        MC_CHECK(p->n_quantiles == 0 || p->quantiles != NULL);
        if (p->n_quantiles > 0)
            mc_mix(h, p->quantiles, p->n_quantiles * sizeof(*p->quantiles));
        break;
    }
    if (p->metric->type != MODEL_METRIC_GAUGE && p->metric->type != MODEL_METRIC_SUM) {
        MC_MIX(h, p->count);
        MC_MIX(h, p->sum);
        MC_CHECK(p->has_sum == 0 || p->has_sum == 1);
        MC_CHECK(p->has_min == 0 || p->has_min == 1);
        MC_CHECK(p->has_max == 0 || p->has_max == 1);
    }
}

static inline void mc_metric(uint64_t *h, const model_metric *m) {
    mc_resource(h, m->resource);
    mc_scope(h, m->scope);
    mc_str(h, &m->name, 1);
    mc_str(h, &m->description, 1);
    mc_str(h, &m->unit, 1);
    MC_CHECK(m->type >= MODEL_METRIC_GAUGE && m->type <= MODEL_METRIC_SUMMARY);
    MC_CHECK(m->temporality >= MODEL_TEMPORALITY_UNSPECIFIED &&
             m->temporality <= MODEL_TEMPORALITY_CUMULATIVE);
    MC_CHECK(m->monotonic == 0 || (m->monotonic == 1 && m->type == MODEL_METRIC_SUM));
    MC_MIX(h, m->type);
    MC_MIX(h, m->temporality);
    MC_MIX(h, m->monotonic);
}

/* Checks the whole batch of signal sig; returns its digest. */
static inline uint64_t mc_batch(const model_batch *b, model_signal sig) {
    uint64_t h = 0xcbf29ce484222325ULL;
    MC_CHECK(b != NULL);
    MC_CHECK(b->signal == sig);
    MC_CHECK(b->arena != NULL);
    MC_CHECK(b->rejected >= 0);
    mc_str(&h, &b->reject_message, 1);
    MC_CHECK(b->rejected > 0 || b->reject_message.len == 0);
    mc_message(b->reject_message.ptr, b->reject_message.len + 1);
    MC_MIX(&h, b->rejected);
    MC_CHECK(sig == MODEL_SIGNAL_TRACES || b->n_spans == 0);
    MC_CHECK(sig == MODEL_SIGNAL_LOGS || b->n_logs == 0);
    MC_CHECK(sig == MODEL_SIGNAL_METRICS || (b->n_metrics == 0 && b->n_points == 0));
    MC_CHECK(b->n_spans == 0 || b->spans != NULL);
    MC_CHECK(b->n_logs == 0 || b->logs != NULL);
    MC_CHECK(b->n_metrics == 0 || b->metrics != NULL);
    MC_CHECK(b->n_points == 0 || b->points != NULL);
    for (size_t i = 0; i < b->n_spans; i++)
        mc_span(&h, &b->spans[i]);
    for (size_t i = 0; i < b->n_logs; i++)
        mc_log(&h, &b->logs[i]);
    for (size_t i = 0; i < b->n_metrics; i++)
        mc_metric(&h, &b->metrics[i]);
    for (size_t i = 0; i < b->n_points; i++)
        mc_point(&h, b, &b->points[i]);
    /* A metric is kept only with at least one accepted point. */
    if (b->n_metrics > 0) {
        unsigned char *seen = calloc(b->n_metrics, 1);
        MC_CHECK(seen != NULL);
        for (size_t i = 0; i < b->n_points; i++)
            seen[b->points[i].metric - b->metrics] = 1;
        for (size_t i = 0; i < b->n_metrics; i++)
            MC_CHECK(seen[i]);
        free(seen);
    }
    size_t items = model_batch_items(b);
    MC_CHECK(items == (sig == MODEL_SIGNAL_TRACES  ? b->n_spans
                       : sig == MODEL_SIGNAL_LOGS ? b->n_logs
                                                  : b->n_points));
    MC_MIX(&h, items);
    return h;
}

#endif
