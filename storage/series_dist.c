/* series_dist.c - histogram, exponential histogram and summary points of a
 * series: parsed, differenced, merged, their percentiles, written as JSON;
 * see series_internal.h.
 *
 * Percentiles interpolate linearly inside the bucket holding the rank; the
 * open-ended first and last explicit buckets use the point's min and max
 * when present (else 0 or the first bound, and the last bound). Exponential
 * histograms of different scales merge at the coarser scale; summaries'
 * quantiles cannot be merged and are dropped from a merge of several.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "model_json.h"
#include "series_internal.h"

void series_dist_free(series_dist *d) {
    free(d->bounds);
    free(d->counts);
    free(d->pos);
    free(d->neg);
    free(d->qs);
    free(d->qv);
    memset(d, 0, sizeof(*d));
}

static void *sdup(const void *p, size_t n) {
    if (n == 0)
        return NULL;
    void *c = malloc(n);
    if (c != NULL)
        memcpy(c, p, n);
    return c;
}

int series_dist_copy(series_dist *dst, const series_dist *src) {
    *dst = *src;
    dst->bounds = sdup(src->bounds, src->nb * sizeof(double));
    dst->counts = sdup(src->counts, src->nc * sizeof(uint64_t));
    dst->pos = sdup(src->pos, src->npos * sizeof(uint64_t));
    dst->neg = sdup(src->neg, src->nneg * sizeof(uint64_t));
    dst->qs = sdup(src->qs, src->nq * sizeof(double));
    dst->qv = sdup(src->qv, src->nq * sizeof(double));
    if ((src->nb && !dst->bounds) || (src->nc && !dst->counts) || (src->npos && !dst->pos) ||
        (src->nneg && !dst->neg) || (src->nq && (!dst->qs || !dst->qv))) {
        series_dist_free(dst);
        return -1;
    }
    return 0;
}

/* A stored count: a JSON integer, or a decimal string beyond 2^53. */
static int sj_u64(const json_t *v, uint64_t *out) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        unsigned long long x = strtoull(s, &end, 10);
        if (end != s && *end == '\0' && s[0] != '-') {
            *out = x;
            return 0;
        }
    }
    return -1;
}

static int sj_double(const json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else
            return -1;
        return 0;
    }
    return -1;
}

static int sj_u64_array(const json_t *a, uint64_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return -1;
    size_t len = json_array_size(a);
    if (len == 0)
        return 0;
    uint64_t *v = malloc(len * sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (sj_u64(json_array_get(a, i), &v[i]) != 0) {
            free(v);
            return -1;
        }
    }
    *out = v;
    *n = len;
    return 0;
}

static void sj_opt_double(const json_t *o, const char *key, double *v, int *has) {
    *has = sj_double(json_object_get(o, key), v) == 0 && !isnan(*v);
}

int series_dist_parse(int kind, const char *text, size_t len, series_dist *d) {
    memset(d, 0, sizeof(*d));
    if (text == NULL)
        return -1;
    json_t *o = json_loadb(text, len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    d->kind = kind;
    int rc = sj_u64(json_object_get(o, "count"), &d->count);
    sj_opt_double(o, "sum", &d->sum, &d->has_sum);
    sj_opt_double(o, "min", &d->min, &d->has_min);
    sj_opt_double(o, "max", &d->max, &d->has_max);
    if (rc == 0 && kind == MODEL_METRIC_HISTOGRAM) {
        rc = sj_u64_array(json_object_get(o, "bucketCounts"), &d->counts, &d->nc);
        const json_t *b = json_object_get(o, "explicitBounds");
        size_t nb = json_array_size(b);
        if (rc == 0 && nb > 0) {
            d->bounds = malloc(nb * sizeof(double));
            rc = d->bounds ? 0 : -1;
            for (size_t i = 0; rc == 0 && i < nb; i++)
                rc = sj_double(json_array_get(b, i), &d->bounds[i]);
            d->nb = nb;
        }
        if (rc == 0 && d->nc != (d->nb ? d->nb + 1 : 0))
            rc = -1;
    } else if (rc == 0 && kind == MODEL_METRIC_EXP_HISTOGRAM) {
        const json_t *p = json_object_get(o, "positive"), *n = json_object_get(o, "negative");
        json_int_t scale = json_integer_value(json_object_get(o, "scale"));
        if (scale < -10 || scale > 20)
            rc = -1;
        d->scale = (int32_t)scale;
        if (rc == 0)
            rc = sj_u64(json_object_get(o, "zeroCount"), &d->zero_count);
        if (rc == 0 && sj_double(json_object_get(o, "zeroThreshold"), &d->zero_threshold) != 0)
            d->zero_threshold = 0;
        d->pos_off = (int32_t)json_integer_value(json_object_get(p, "offset"));
        d->neg_off = (int32_t)json_integer_value(json_object_get(n, "offset"));
        if (rc == 0)
            rc = sj_u64_array(json_object_get(p, "bucketCounts"), &d->pos, &d->npos);
        if (rc == 0)
            rc = sj_u64_array(json_object_get(n, "bucketCounts"), &d->neg, &d->nneg);
        if (rc == 0 && (d->npos > SERIES_EXP_MAX_BUCKETS || d->nneg > SERIES_EXP_MAX_BUCKETS))
            rc = -1;
    } else if (rc == 0 && kind == MODEL_METRIC_SUMMARY) {
        const json_t *qa = json_object_get(o, "quantileValues");
        size_t nq = json_array_size(qa);
        if (nq > 0) {
            d->qs = malloc(nq * sizeof(double));
            d->qv = malloc(nq * sizeof(double));
            rc = d->qs && d->qv ? 0 : -1;
            for (size_t i = 0; rc == 0 && i < nq; i++) {
                const json_t *e = json_array_get(qa, i);
                rc = sj_double(json_object_get(e, "quantile"), &d->qs[i]);
                if (rc == 0)
                    rc = sj_double(json_object_get(e, "value"), &d->qv[i]);
            }
            d->nq = nq;
        }
    }
    json_decref(o);
    if (rc != 0)
        series_dist_free(d);
    return rc;
}

static int series_dist_same_bounds(const series_dist *a, const series_dist *b) {
    if (a->nb != b->nb)
        return 0;
    for (size_t i = 0; i < a->nb; i++)
        if (a->bounds[i] != b->bounds[i])
            return 0;
    return 1;
}

/* counts at index i of a bucket array with offset off, 0 outside. */
static uint64_t sexp_at(const uint64_t *c, size_t n, int32_t off, int64_t i) {
    int64_t k = i - off;
    return k >= 0 && (uint64_t)k < n ? c[k] : 0;
}

int series_dist_diff(const series_dist *cur, const series_dist *prev, series_dist *out) {
    if (series_dist_copy(out, cur) != 0)
        return -1;
    if (prev == NULL || prev->kind != cur->kind || prev->count > cur->count)
        return 0;
    if (cur->kind == MODEL_METRIC_HISTOGRAM) {
        if (!series_dist_same_bounds(cur, prev) || prev->nc != cur->nc)
            return 0;
        for (size_t i = 0; i < cur->nc; i++)
            if (prev->counts[i] > cur->counts[i])
                return 0;
        for (size_t i = 0; i < cur->nc; i++)
            out->counts[i] = cur->counts[i] - prev->counts[i];
    } else if (cur->kind == MODEL_METRIC_EXP_HISTOGRAM) {
        if (prev->scale != cur->scale || prev->zero_count > cur->zero_count)
            return 0;
        /* every bucket of prev must be within cur's and not larger */
        for (size_t i = 0; i < prev->npos; i++)
            if (prev->pos[i] > sexp_at(cur->pos, cur->npos, cur->pos_off, prev->pos_off + (int64_t)i))
                return 0;
        for (size_t i = 0; i < prev->nneg; i++)
            if (prev->neg[i] > sexp_at(cur->neg, cur->nneg, cur->neg_off, prev->neg_off + (int64_t)i))
                return 0;
        for (size_t i = 0; i < cur->npos; i++)
            out->pos[i] -= sexp_at(prev->pos, prev->npos, prev->pos_off, cur->pos_off + (int64_t)i);
        for (size_t i = 0; i < cur->nneg; i++)
            out->neg[i] -= sexp_at(prev->neg, prev->nneg, prev->neg_off, cur->neg_off + (int64_t)i);
        out->zero_count = cur->zero_count - prev->zero_count;
    } else {
        return 0; /* summaries are not differenced */
    }
    out->count = cur->count - prev->count;
    if (cur->has_sum && prev->has_sum)
        out->sum = cur->sum - prev->sum;
    else
        out->has_sum = 0;
    return 0;
}

/* Re-buckets an exponential bucket array to a scale lower by `shift`. */
static int sexp_downscale(uint64_t **c, size_t *n, int32_t *off, int shift) {
    if (*n == 0 || shift <= 0)
        return 0;
    int64_t lo = (int64_t)*off >> shift, hi = ((int64_t)*off + (int64_t)*n - 1) >> shift;
    size_t nn = (size_t)(hi - lo + 1);
    uint64_t *v = calloc(nn, sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < *n; i++)
        v[(((int64_t)*off + (int64_t)i) >> shift) - lo] += (*c)[i];
    free(*c);
    *c = v;
    *n = nn;
    *off = (int32_t)lo;
    return 0;
}

/* Adds counts (scale already equal) of b into a's array, growing it. */
static int sexp_add(uint64_t **c, size_t *n, int32_t *off, const uint64_t *bc, size_t bn,
                    int32_t boff) {
    if (bn == 0)
        return 0;
    if (*n == 0) {
        *c = sdup(bc, bn * sizeof(uint64_t));
        if (*c == NULL)
            return -1;
        *n = bn;
        *off = boff;
        return 0;
    }
    int64_t lo = *off < boff ? *off : boff;
    int64_t hi_a = (int64_t)*off + (int64_t)*n, hi_b = (int64_t)boff + (int64_t)bn;
    int64_t hi = hi_a > hi_b ? hi_a : hi_b;
    size_t nn = (size_t)(hi - lo);
    uint64_t *v = calloc(nn, sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < *n; i++)
        v[*off - lo + (int64_t)i] += (*c)[i];
    for (size_t i = 0; i < bn; i++)
        v[boff - lo + (int64_t)i] += bc[i];
    free(*c);
    *c = v;
    *n = nn;
    *off = (int32_t)lo;
    return 0;
}

/* The buckets of exponential histogram b added into a's, at the coarser of
 * the two scales (coarser still when the arrays grow past
 * SERIES_EXP_MAX_BUCKETS); zero counts add. Returns -1 when out of memory. */
static int sexp_merge(series_dist *a, const series_dist *b) {
    int32_t target = a->scale < b->scale ? a->scale : b->scale;
    series_dist bb;
    if (series_dist_copy(&bb, b) != 0)
        return -1;
    int rc = sexp_downscale(&a->pos, &a->npos, &a->pos_off, a->scale - target);
    if (rc == 0)
        rc = sexp_downscale(&a->neg, &a->nneg, &a->neg_off, a->scale - target);
    if (rc == 0)
        rc = sexp_downscale(&bb.pos, &bb.npos, &bb.pos_off, bb.scale - target);
    if (rc == 0)
        rc = sexp_downscale(&bb.neg, &bb.nneg, &bb.neg_off, bb.scale - target);
    a->scale = target;
    if (rc == 0)
        rc = sexp_add(&a->pos, &a->npos, &a->pos_off, bb.pos, bb.npos, bb.pos_off);
    if (rc == 0)
        rc = sexp_add(&a->neg, &a->nneg, &a->neg_off, bb.neg, bb.nneg, bb.neg_off);
    /* keep the arrays bounded: coarser scale when they grow too long */
    while (rc == 0 && (a->npos > SERIES_EXP_MAX_BUCKETS || a->nneg > SERIES_EXP_MAX_BUCKETS)) {
        rc = sexp_downscale(&a->pos, &a->npos, &a->pos_off, 1);
        if (rc == 0)
            rc = sexp_downscale(&a->neg, &a->nneg, &a->neg_off, 1);
        a->scale--;
    }
    a->zero_count += b->zero_count;
    if (b->zero_threshold > a->zero_threshold)
        a->zero_threshold = b->zero_threshold;
    series_dist_free(&bb);
    return rc;
}

int series_dist_add(series_dist *a, const series_dist *b, int replace) {
    if (b->kind == 0)
        return 0;
    if (a->kind == 0 || (replace && b->kind == MODEL_METRIC_SUMMARY)) {
        series_dist_free(a);
        return series_dist_copy(a, b);
    }
    if (a->kind != b->kind)
        return 0;
    if (a->kind == MODEL_METRIC_HISTOGRAM) {
        if (!series_dist_same_bounds(a, b) || a->nc != b->nc)
            return 0; /* other bounds: left out */
        for (size_t i = 0; i < a->nc; i++)
            a->counts[i] += b->counts[i];
    } else if (a->kind == MODEL_METRIC_EXP_HISTOGRAM) {
        if (sexp_merge(a, b) != 0)
            return -1;
    } else {
        a->mixed = 1;
    }
    a->count += b->count;
    if (a->has_sum && b->has_sum)
        a->sum += b->sum;
    else
        a->has_sum = 0;
    if (b->has_min && (!a->has_min || b->min < a->min)) {
        a->min = b->min;
        a->has_min = 1;
    }
    if (b->has_max && (!a->has_max || b->max > a->max)) {
        a->max = b->max;
        a->has_max = 1;
    }
    return 0;
}

/* Linear interpolation of rank r (0 < r <= c) inside [lo, hi]. */
static double sinterp(double lo, double hi, double r, double c) {
    if (hi < lo)
        hi = lo;
    return lo + (hi - lo) * (r / c);
}

static double sclamp(const series_dist *d, double v) {
    if (d->has_min && v < d->min)
        v = d->min;
    if (d->has_max && v > d->max)
        v = d->max;
    return v;
}

/* The q-quantile of a histogram. Returns 0 and sets *v, or -1 (no data). */
static int shist_quantile(const series_dist *d, double q, double *v) {
    uint64_t total = 0;
    for (size_t i = 0; i < d->nc; i++)
        total += d->counts[i];
    if (total == 0) {
        if (d->nc == 0 && d->count > 0 && d->has_min && d->has_max) {
            *v = sinterp(d->min, d->max, q, 1.0); /* one bucket: min to max */
            return 0;
        }
        return -1;
    }
    double rank = q * (double)total, cum = 0;
    for (size_t i = 0; i < d->nc; i++) {
        double c = (double)d->counts[i];
        if (c == 0 || cum + c < rank) {
            cum += c;
            continue;
        }
        double lo, hi;
        if (i == 0)
            lo = d->has_min ? d->min : (d->bounds[0] > 0 ? 0 : d->bounds[0]);
        else
            lo = d->bounds[i - 1];
        if (i == d->nb)
            hi = d->has_max ? d->max : d->bounds[d->nb - 1];
        else
            hi = d->bounds[i];
        if (i == 0 && lo > hi)
            lo = hi;
        *v = sclamp(d, sinterp(lo, hi, rank - cum, c));
        return 0;
    }
    return -1;
}

/* Bucket boundary base^i of an exponential histogram at `scale`. */
static double sexp_bound(int32_t scale, int64_t i) {
    return exp2((double)i * exp2(-(double)scale));
}

static int sexp_quantile(const series_dist *d, double q, double *v) {
    double total = (double)d->zero_count;
    for (size_t i = 0; i < d->npos; i++)
        total += (double)d->pos[i];
    for (size_t i = 0; i < d->nneg; i++)
        total += (double)d->neg[i];
    if (total == 0)
        return -1;
    double rank = q * total, cum = 0;
    /* ascending values: the most negative bucket first */
    for (size_t k = d->nneg; k-- > 0;) {
        double c = (double)d->neg[k];
        if (c > 0 && cum + c >= rank) {
            int64_t i = d->neg_off + (int64_t)k;
            *v = sclamp(d, sinterp(-sexp_bound(d->scale, i + 1), -sexp_bound(d->scale, i),
                                   rank - cum, c));
            return 0;
        }
        cum += c;
    }
    double z = (double)d->zero_count;
    if (z > 0 && cum + z >= rank) {
        *v = sclamp(d, sinterp(-d->zero_threshold, d->zero_threshold, rank - cum, z));
        return 0;
    }
    cum += z;
    for (size_t k = 0; k < d->npos; k++) {
        double c = (double)d->pos[k];
        if (c > 0 && cum + c >= rank) {
            int64_t i = d->pos_off + (int64_t)k;
            *v = sclamp(d, sinterp(sexp_bound(d->scale, i), sexp_bound(d->scale, i + 1),
                                   rank - cum, c));
            return 0;
        }
        cum += c;
    }
    return -1;
}

/* A summary's q-quantile: given, or interpolated between its neighbours. */
static int ssum_quantile(const series_dist *d, double q, double *v) {
    if (d->mixed || d->nq == 0)
        return -1;
    size_t below = d->nq, above = d->nq;
    for (size_t i = 0; i < d->nq; i++) {
        if (d->qs[i] == q) {
            *v = d->qv[i];
            return 0;
        }
        if (d->qs[i] < q && (below == d->nq || d->qs[i] > d->qs[below]))
            below = i;
        if (d->qs[i] > q && (above == d->nq || d->qs[i] < d->qs[above]))
            above = i;
    }
    if (below == d->nq || above == d->nq)
        return -1; /* outside what the SDK reported */
    double f = (q - d->qs[below]) / (d->qs[above] - d->qs[below]);
    *v = d->qv[below] + (d->qv[above] - d->qv[below]) * f;
    return 0;
}

void series_json_double_or_null(jw *w, int has, double v) {
    if (has)
        jw_double(w, v);
    else
        jw_null(w);
}

void series_dist_json(jw *w, const series_dist *d) {
    jw_key(w, "count");
    model_json_count(w, d->count);
    jw_key(w, "sum");
    series_json_double_or_null(w, d->has_sum, d->sum);
    if (d->kind == MODEL_METRIC_SUMMARY) {
        jw_key(w, "quantiles");
        jw_array_begin(w);
        for (size_t i = 0; !d->mixed && i < d->nq; i++) {
            jw_object_begin(w);
            jw_key(w, "quantile");
            jw_double(w, d->qs[i]);
            jw_key(w, "value");
            jw_double(w, d->qv[i]);
            jw_object_end(w);
        }
        jw_array_end(w);
    } else {
        jw_key(w, "min");
        series_json_double_or_null(w, d->has_min, d->min);
        jw_key(w, "max");
        series_json_double_or_null(w, d->has_max, d->max);
    }
    if (d->kind == MODEL_METRIC_HISTOGRAM) {
        jw_key(w, "bounds");
        jw_array_begin(w);
        for (size_t i = 0; i < d->nb; i++)
            jw_double(w, d->bounds[i]);
        jw_array_end(w);
        jw_key(w, "counts");
        model_json_counts(w, d->counts, d->nc);
    } else if (d->kind == MODEL_METRIC_EXP_HISTOGRAM) {
        jw_key(w, "scale");
        jw_int(w, d->scale);
        jw_key(w, "zeroCount");
        model_json_count(w, d->zero_count);
        jw_key(w, "zeroThreshold");
        jw_double(w, d->zero_threshold);
        model_json_exp_side(w, "positive", d->pos_off, d->pos, d->npos);
        model_json_exp_side(w, "negative", d->neg_off, d->neg, d->nneg);
    }
    static const double qs[3] = {0.5, 0.9, 0.99};
    static const char *const names[3] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        double v = 0;
        int rc = d->kind == MODEL_METRIC_HISTOGRAM       ? shist_quantile(d, qs[i], &v)
                 : d->kind == MODEL_METRIC_EXP_HISTOGRAM ? sexp_quantile(d, qs[i], &v)
                                                         : ssum_quantile(d, qs[i], &v);
        jw_key(w, names[i]);
        series_json_double_or_null(w, rc == 0 && !isnan(v), v);
    }
}
