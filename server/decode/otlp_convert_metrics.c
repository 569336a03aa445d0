/* otlp_convert_metrics.c - metrics and their data points (gauge, sum, histogram,
 * exponential histogram, summary) into the model. */
#include <stdint.h>
#include <string.h>

#include "otlp.h"
#include "otlp_convert_internal.h"

typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hist_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint pb_exp_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets pb_buckets;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint pb_summary_point;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar pb_exemplar;

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
    model_limited from = c->lim;
    /* OTLP data points have no dropped_attributes_count: only counted. */
    int rc = conv_attrs(c, &out->attrs, attrs, n_attrs, NULL);
    if (rc != CONV_OK)
        return rc;
    if (n_ex > 0 && ex != NULL) {
        out->exemplars = conv_calloc(c, n_ex, sizeof(*out->exemplars));
        if (out->exemplars == NULL)
            return CONV_NOMEM;
    }
    for (size_t i = 0; out->exemplars != NULL && i < n_ex; i++) {
        if (ex[i] == NULL)
            continue;
        rc = conv_exemplar(c, &out->exemplars[out->n_exemplars], ex[i]);
        if (rc != CONV_OK)
            return rc;
        out->n_exemplars++;
    }
    out->limited = conv_limited_since(c, from);
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
