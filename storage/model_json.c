/* model_json.c - model values as the API's JSON, see model_json.h. */
#include "model_json.h"

#include <stdlib.h>
#include <string.h>

void model_json_int(jw *w, int64_t v) {
    if (v > MODEL_JSON_MAX_SAFE_INT || v < -MODEL_JSON_MAX_SAFE_INT) {
        char tmp[24];
        /* digits written backwards, without snprintf's locale concerns */
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        size_t i = sizeof(tmp);
        do {
            tmp[--i] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            tmp[--i] = '-';
        jw_stringn(w, tmp + i, sizeof(tmp) - i);
        return;
    }
    jw_int(w, v);
}

void model_json_count(jw *w, uint64_t v) {
    if (v > (uint64_t)MODEL_JSON_MAX_SAFE_INT)
        jw_uint_string(w, v);
    else
        jw_uint(w, v);
}

static void model_json_kvlist(jw *w, const model_kv *items, size_t n) {
    jw_object_begin(w);
    for (size_t i = 0; i < n; i++) {
        jw_keyn(w, items[i].key.ptr, items[i].key.len);
        model_json_value(w, &items[i].value);
    }
    jw_object_end(w);
}

void model_json_value(jw *w, const model_value *v) {
    switch (v->type) {
    case MODEL_VALUE_STRING:
        jw_stringn(w, v->u.str.ptr, v->u.str.len);
        return;
    case MODEL_VALUE_BOOL:
        jw_bool(w, v->u.boolean);
        return;
    case MODEL_VALUE_INT:
        model_json_int(w, v->u.integer);
        return;
    case MODEL_VALUE_DOUBLE:
        jw_double(w, v->u.dbl);
        return;
    case MODEL_VALUE_BYTES:
        jw_base64(w, (const uint8_t *)v->u.str.ptr, v->u.str.len);
        return;
    case MODEL_VALUE_ARRAY:
        jw_array_begin(w);
        for (size_t i = 0; i < v->u.array.n; i++)
            model_json_value(w, &v->u.array.items[i]);
        jw_array_end(w);
        return;
    case MODEL_VALUE_KVLIST:
        model_json_kvlist(w, v->u.kvlist.items, v->u.kvlist.n);
        return;
    case MODEL_VALUE_EMPTY:
        break;
    }
    jw_null(w);
}

void model_json_attrs(jw *w, const model_attrs *a) {
    model_json_kvlist(w, a->items, a->n);
}

/* Orders pointers to model_kv by key bytes, then by position (stable). */
static int model_json_kv_cmp(const void *pa, const void *pb) {
    const model_kv *a = *(const model_kv *const *)pa;
    const model_kv *b = *(const model_kv *const *)pb;
    size_t n = a->key.len < b->key.len ? a->key.len : b->key.len;
    int c = n ? memcmp(a->key.ptr, b->key.ptr, n) : 0;
    if (c != 0)
        return c;
    if (a->key.len != b->key.len)
        return a->key.len < b->key.len ? -1 : 1;
    return a < b ? -1 : (a > b ? 1 : 0);
}

void model_json_attrs_sorted(jw *w, const model_attrs *a) {
    const model_kv *local[32];
    const model_kv **order = local;
    if (a->n > sizeof(local) / sizeof(local[0])) {
        order = malloc(a->n * sizeof(*order));
        if (order == NULL) {
            if (!w->err)
                w->err = BUF_ENOMEM;
            return;
        }
    }
    for (size_t i = 0; i < a->n; i++)
        order[i] = &a->items[i];
    if (a->n > 1)
        qsort(order, a->n, sizeof(*order), model_json_kv_cmp);
    jw_object_begin(w);
    for (size_t i = 0; i < a->n; i++) {
        jw_keyn(w, order[i]->key.ptr, order[i]->key.len);
        model_json_value(w, &order[i]->value);
    }
    jw_object_end(w);
    if (order != local)
        free(order);
}

void model_json_events(jw *w, const model_span *s) {
    jw_array_begin(w);
    for (size_t i = 0; i < s->n_events; i++) {
        const model_event *e = &s->events[i];
        jw_object_begin(w);
        jw_key(w, "name");
        jw_stringn(w, e->name.ptr, e->name.len);
        jw_key(w, "timeUnixNano");
        jw_uint_string(w, e->time_ns);
        jw_key(w, "attributes");
        model_json_attrs(w, &e->attrs);
        jw_key(w, "droppedAttributesCount");
        jw_uint(w, e->dropped_attrs);
        jw_object_end(w);
    }
    jw_array_end(w);
}

void model_json_links(jw *w, const model_span *s) {
    jw_array_begin(w);
    for (size_t i = 0; i < s->n_links; i++) {
        const model_link *l = &s->links[i];
        jw_object_begin(w);
        jw_key(w, "traceId");
        jw_hex(w, l->trace_id, sizeof(l->trace_id));
        jw_key(w, "spanId");
        jw_hex(w, l->span_id, sizeof(l->span_id));
        jw_key(w, "traceState");
        jw_stringn(w, l->trace_state.ptr, l->trace_state.len);
        jw_key(w, "flags");
        jw_uint(w, l->flags);
        jw_key(w, "attributes");
        model_json_attrs(w, &l->attrs);
        jw_key(w, "droppedAttributesCount");
        jw_uint(w, l->dropped_attrs);
        jw_object_end(w);
    }
    jw_array_end(w);
}

void model_json_counts(jw *w, const uint64_t *v, size_t n) {
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        model_json_count(w, v[i]);
    jw_array_end(w);
}

void model_json_exp_side(jw *w, const char *key, int32_t offset, const uint64_t *counts,
                         size_t n) {
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "offset");
    jw_int(w, offset);
    jw_key(w, "bucketCounts");
    model_json_counts(w, counts, n);
    jw_object_end(w);
}

static void model_json_opt_double(jw *w, const char *key, int has, double v) {
    jw_key(w, key);
    if (has)
        jw_double(w, v);
    else
        jw_null(w);
}

void model_json_point_data(jw *w, const model_point *p) {
    model_metric_type type = p->metric ? p->metric->type : MODEL_METRIC_GAUGE;
    if (type == MODEL_METRIC_GAUGE || type == MODEL_METRIC_SUM) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "count");
    model_json_count(w, p->count);
    model_json_opt_double(w, "sum", p->has_sum, p->sum);
    if (type == MODEL_METRIC_SUMMARY) {
        jw_key(w, "quantileValues");
        jw_array_begin(w);
        for (size_t i = 0; i < p->n_quantiles; i++) {
            jw_object_begin(w);
            jw_key(w, "quantile");
            jw_double(w, p->quantiles[i].quantile);
            jw_key(w, "value");
            jw_double(w, p->quantiles[i].value);
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
        return;
    }
    model_json_opt_double(w, "min", p->has_min, p->min);
    model_json_opt_double(w, "max", p->has_max, p->max);
    if (type == MODEL_METRIC_HISTOGRAM) {
        jw_key(w, "bucketCounts");
        model_json_counts(w, p->bucket_counts, p->n_bucket_counts);
        jw_key(w, "explicitBounds");
        jw_array_begin(w);
        for (size_t i = 0; i < p->n_bounds; i++)
            jw_double(w, p->bounds[i]);
        jw_array_end(w);
    } else {
        jw_key(w, "scale");
        jw_int(w, p->scale);
        jw_key(w, "zeroCount");
        model_json_count(w, p->zero_count);
        jw_key(w, "zeroThreshold");
        jw_double(w, p->zero_threshold);
        model_json_exp_side(w, "positive", p->positive_offset, p->positive_counts,
                            p->n_positive);
        model_json_exp_side(w, "negative", p->negative_offset, p->negative_counts,
                            p->n_negative);
    }
    jw_object_end(w);
}

void model_json_exemplars(jw *w, const model_point *p) {
    jw_array_begin(w);
    for (size_t i = 0; i < p->n_exemplars; i++) {
        const model_exemplar *e = &p->exemplars[i];
        jw_object_begin(w);
        jw_key(w, "timeUnixNano");
        jw_uint_string(w, e->time_ns);
        jw_key(w, "value");
        if (e->is_int)
            model_json_int(w, e->as_int);
        else
            jw_double(w, e->as_double);
        jw_key(w, "filteredAttributes");
        model_json_attrs(w, &e->filtered_attrs);
        jw_key(w, "traceId");
        if (e->has_trace_id)
            jw_hex(w, e->trace_id, sizeof(e->trace_id));
        else
            jw_string(w, "");
        jw_key(w, "spanId");
        if (e->has_span_id)
            jw_hex(w, e->span_id, sizeof(e->span_id));
        else
            jw_string(w, "");
        jw_object_end(w);
    }
    jw_array_end(w);
}
