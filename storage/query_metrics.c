/* query_metrics.c - GET /api/v1/metrics and /api/v1/metrics/{name}/series,
 * see query.h.
 *
 * DESIGN (series)
 * The metric's series are selected in SQL (name, service, attribute
 * filters over point and resource attributes); each series' points are then
 * read in time order (index points_series_time) and turned into
 * contributions in C:
 *   gauge                 the value
 *   monotonic sum         cumulative: the value and the increase since the
 *                         previous point (a lower value or a new start time
 *                         is a counter reset: the increase is the new value);
 *                         delta: the value is the increase
 *   non-monotonic sum     cumulative: the value; delta: summed
 *   histogram, exponential histogram
 *                         cumulative: the difference to the previous point
 *                         (or the point itself after a reset: lower counts,
 *                         other bounds or scale, a new start time); delta:
 *                         the point
 *   summary               the point (quantiles cannot be merged)
 * For cumulative data the last point before `start` is read too, so the
 * first point of the window has something to take the difference from.
 *
 * Without a step every stored point is answered on its own. With a step,
 * points fall into buckets [k*step, (k+1)*step) aligned to the epoch, and a
 * series' contributions per bucket combine (last value for gauges and
 * cumulative sums, sums of increases and counts, merged buckets); groupBy
 * then combines the series of a group bucket by bucket (values, increases,
 * counts and buckets add up). Rates are increases per second: over the
 * interval since the previous point without a step, over the step with one.
 *
 * Percentiles interpolate linearly inside the bucket holding the rank; the
 * open-ended first and last explicit buckets use the point's min and max
 * when present (else 0 or the first bound, and the last bound).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "model_json.h"
#include "query.h"
#include "query_internal.h"

#define SERIES_MAX_SERIES 10000
#define SERIES_MAX_POINTS 2000000
#define SERIES_MAX_EXEMPLARS 8
#define SERIES_EXP_MAX_BUCKETS 4096
#define SERIES_AUTO_STEPS 120

int query_metrics(sqlite3 *db, const char *service, buf *out) {
    char sql[1024];
    /* One entry per (service, scope, name) across the service's resources;
     * with a single max() aggregate, SQLite takes the bare columns from the
     * most recently seen instrument. */
    int n = snprintf(
        sql, sizeof(sql),
        "SELECT sv.name, sc.name, m.name, m.description, m.unit, m.type, m.monotonic,"
        " m.temporality, sum((SELECT count(*) FROM series se WHERE se.metric=m.id)),"
        " max(m.last_seen_ns)"
        " FROM metrics m JOIN services sv ON sv.id=m.service JOIN scopes sc ON sc.id=m.scope"
        "%s GROUP BY sv.name, sc.name, m.name ORDER BY sv.name, m.name, sc.name",
        service ? " WHERE m.service=(SELECT id FROM services WHERE name=?1)" : "");
    if (n < 0 || (size_t)n >= sizeof(sql))
        return QUERY_EDB;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return QUERY_EDB;
    }
    if (service)
        sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "metrics");
    jw_array_begin(&w);
    int rc;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        jw_object_begin(&w);
        jw_key(&w, "service");
        query_text(&w, st, 0);
        jw_key(&w, "scope");
        query_text(&w, st, 1);
        jw_key(&w, "name");
        query_text(&w, st, 2);
        jw_key(&w, "description");
        query_text(&w, st, 3);
        jw_key(&w, "unit");
        query_text(&w, st, 4);
        jw_key(&w, "type");
        jw_string(&w, model_metric_type_name((model_metric_type)sqlite3_column_int(st, 5)));
        jw_key(&w, "monotonic");
        jw_bool(&w, sqlite3_column_int(st, 6) != 0);
        jw_key(&w, "temporality");
        jw_string(&w, model_temporality_name((model_temporality)sqlite3_column_int(st, 7)));
        jw_key(&w, "seriesCount");
        jw_int(&w, sqlite3_column_int64(st, 8));
        jw_key(&w, "lastSeenUnixNano");
        jw_uint_string(&w, query_u64(st, 9));
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    sqlite3_finalize(st);
    return query_finish(&w, rc);
}

/* ---- distributions --------------------------------------------------------- */

/* A histogram, exponential histogram or summary point (or a merge of some). */
typedef struct sdist {
    int kind; /* 0 = none, else MODEL_METRIC_HISTOGRAM / _EXP_HISTOGRAM / _SUMMARY */
    uint64_t count;
    double sum, min, max;
    int has_sum, has_min, has_max;
    int mixed;       /* summaries of several series: quantiles dropped */
    double *bounds;  /* histogram: nb bounds, nb + 1 counts (or 0 and 0) */
    uint64_t *counts;
    size_t nb, nc;
    int32_t scale; /* exponential histogram */
    uint64_t zero_count;
    double zero_threshold;
    int32_t pos_off, neg_off;
    uint64_t *pos, *neg;
    size_t npos, nneg;
    double *qs, *qv; /* summary quantiles */
    size_t nq;
} sdist;

static void sdist_free(sdist *d) {
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

static int sdist_copy(sdist *dst, const sdist *src) {
    *dst = *src;
    dst->bounds = sdup(src->bounds, src->nb * sizeof(double));
    dst->counts = sdup(src->counts, src->nc * sizeof(uint64_t));
    dst->pos = sdup(src->pos, src->npos * sizeof(uint64_t));
    dst->neg = sdup(src->neg, src->nneg * sizeof(uint64_t));
    dst->qs = sdup(src->qs, src->nq * sizeof(double));
    dst->qv = sdup(src->qv, src->nq * sizeof(double));
    if ((src->nb && !dst->bounds) || (src->nc && !dst->counts) || (src->npos && !dst->pos) ||
        (src->nneg && !dst->neg) || (src->nq && (!dst->qs || !dst->qv))) {
        sdist_free(dst);
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

/* Parses the stored point data (model_json_point_data). Returns 0, or -1
 * for data that cannot be used (the point is skipped). */
static int sdist_parse(int kind, const char *text, size_t len, sdist *d) {
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
        sdist_free(d);
    return rc;
}

static int sdist_same_bounds(const sdist *a, const sdist *b) {
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

/* cur - prev into *out when prev is an earlier state of the same cumulative
 * series; else a copy of cur (a reset). Returns -1 on out of memory. */
static int sdist_diff(const sdist *cur, const sdist *prev, sdist *out) {
    if (sdist_copy(out, cur) != 0)
        return -1;
    if (prev == NULL || prev->kind != cur->kind || prev->count > cur->count)
        return 0;
    if (cur->kind == MODEL_METRIC_HISTOGRAM) {
        if (!sdist_same_bounds(cur, prev) || prev->nc != cur->nc)
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

/* Folds b into a (both of one kind). Summaries: a becomes b when `replace`
 * (the later point of one series), else counts add and quantiles go. */
static int sdist_add(sdist *a, const sdist *b, int replace) {
    if (b->kind == 0)
        return 0;
    if (a->kind == 0 || (replace && b->kind == MODEL_METRIC_SUMMARY)) {
        sdist_free(a);
        return sdist_copy(a, b);
    }
    if (a->kind != b->kind)
        return 0;
    if (a->kind == MODEL_METRIC_HISTOGRAM) {
        if (!sdist_same_bounds(a, b) || a->nc != b->nc)
            return 0; /* other bounds: left out */
        for (size_t i = 0; i < a->nc; i++)
            a->counts[i] += b->counts[i];
    } else if (a->kind == MODEL_METRIC_EXP_HISTOGRAM) {
        int32_t target = a->scale < b->scale ? a->scale : b->scale;
        sdist bb;
        if (sdist_copy(&bb, b) != 0)
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
        sdist_free(&bb);
        if (rc != 0)
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

static double sclamp(const sdist *d, double v) {
    if (d->has_min && v < d->min)
        v = d->min;
    if (d->has_max && v > d->max)
        v = d->max;
    return v;
}

/* The q-quantile of a histogram. Returns 0 and sets *v, or -1 (no data). */
static int shist_quantile(const sdist *d, double q, double *v) {
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

static int sexp_quantile(const sdist *d, double q, double *v) {
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
static int ssum_quantile(const sdist *d, double q, double *v) {
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

static void sjw_double_or_null(jw *w, int has, double v) {
    if (has)
        jw_double(w, v);
    else
        jw_null(w);
}

static void sjw_counts(jw *w, const uint64_t *c, size_t n) {
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        model_json_count(w, c[i]);
    jw_array_end(w);
}

static void sdist_json(jw *w, const sdist *d) {
    jw_key(w, "count");
    model_json_count(w, d->count);
    jw_key(w, "sum");
    sjw_double_or_null(w, d->has_sum, d->sum);
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
        sjw_double_or_null(w, d->has_min, d->min);
        jw_key(w, "max");
        sjw_double_or_null(w, d->has_max, d->max);
    }
    if (d->kind == MODEL_METRIC_HISTOGRAM) {
        jw_key(w, "bounds");
        jw_array_begin(w);
        for (size_t i = 0; i < d->nb; i++)
            jw_double(w, d->bounds[i]);
        jw_array_end(w);
        jw_key(w, "counts");
        sjw_counts(w, d->counts, d->nc);
    } else if (d->kind == MODEL_METRIC_EXP_HISTOGRAM) {
        jw_key(w, "scale");
        jw_int(w, d->scale);
        jw_key(w, "zeroCount");
        model_json_count(w, d->zero_count);
        jw_key(w, "zeroThreshold");
        jw_double(w, d->zero_threshold);
        jw_key(w, "positive");
        jw_object_begin(w);
        jw_key(w, "offset");
        jw_int(w, d->pos_off);
        jw_key(w, "bucketCounts");
        sjw_counts(w, d->pos, d->npos);
        jw_object_end(w);
        jw_key(w, "negative");
        jw_object_begin(w);
        jw_key(w, "offset");
        jw_int(w, d->neg_off);
        jw_key(w, "bucketCounts");
        sjw_counts(w, d->neg, d->nneg);
        jw_object_end(w);
    }
    static const double qs[3] = {0.5, 0.9, 0.99};
    static const char *const names[3] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        double v = 0;
        int rc = d->kind == MODEL_METRIC_HISTOGRAM       ? shist_quantile(d, qs[i], &v)
                 : d->kind == MODEL_METRIC_EXP_HISTOGRAM ? sexp_quantile(d, qs[i], &v)
                                                         : ssum_quantile(d, qs[i], &v);
        jw_key(w, names[i]);
        sjw_double_or_null(w, rc == 0 && !isnan(v), v);
    }
}

/* ---- buckets ------------------------------------------------------------------ */

/* What one bucket (or, without a step, one point) of a series or a group
 * answers. */
typedef struct sbucket {
    uint64_t t;      /* bucket start, or the point's time */
    uint64_t last_t; /* time of the latest point folded in */
    int has_value, is_int;
    double value;
    int64_t ivalue;
    int has_increase;
    double increase;
    uint64_t interval_ns; /* without a step: what the increase is over (0 = unknown) */
    sdist dist;
    buf exemplars; /* JSON objects joined by commas */
    int n_exemplars;
    int nseries;
} sbucket;

typedef struct svec {
    sbucket *b;
    size_t n, cap;
} svec;

static void sbucket_free(sbucket *b) {
    sdist_free(&b->dist);
    buf_free(&b->exemplars);
}

static void svec_free(svec *v) {
    for (size_t i = 0; i < v->n; i++)
        sbucket_free(&v->b[i]);
    free(v->b);
    memset(v, 0, sizeof(*v));
}

static sbucket *svec_push(svec *v, uint64_t t) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        sbucket *nb = realloc(v->b, cap * sizeof(*nb));
        if (nb == NULL)
            return NULL;
        v->b = nb;
        v->cap = cap;
    }
    sbucket *b = &v->b[v->n++];
    memset(b, 0, sizeof(*b));
    b->t = t;
    buf_init(&b->exemplars, 1 << 20);
    return b;
}

/* Appends the elements of a stored exemplar array (trusted JSON made by
 * model_json_exemplars) to b, up to SERIES_MAX_EXEMPLARS. */
static void sbucket_exemplars(sbucket *b, const char *arr, size_t len) {
    size_t i = 1; /* after '[' */
    while (arr != NULL && len >= 2 && i < len - 1 && b->n_exemplars < SERIES_MAX_EXEMPLARS) {
        size_t start = i, depth = 0;
        int in_str = 0;
        for (; i < len - 1; i++) {
            char c = arr[i];
            if (in_str) {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    in_str = 0;
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
        }
        if (b->exemplars.len > 0 && buf_append_char(&b->exemplars, ',') != BUF_OK)
            return;
        if (buf_append(&b->exemplars, arr + start, i - start) != BUF_OK)
            return;
        b->n_exemplars++;
        i++; /* the comma */
    }
}

/* The way a metric's values combine inside one series' bucket. */
typedef struct sctx {
    int type, temporality, monotonic;
    int cumulative; /* values are running totals (sums, histograms) */
    int value_adds; /* delta sums: values within a bucket add up */
    int has_rate;   /* monotonic sums */
    uint64_t step;
    int has_start, has_end;
    int64_t start, end;
    size_t points; /* read so far, capped by SERIES_MAX_POINTS */
} sctx;

/* One stored point's contribution, folded into the series' last bucket. */
static int sfold(const sctx *c, sbucket *b, uint64_t t, int has_value, double value, int is_int,
                 int64_t ivalue, int has_increase, double increase, uint64_t interval,
                 const sdist *d, const char *ex, size_t exlen) {
    if (has_value) {
        if (c->value_adds && b->has_value) {
            b->value += value;
            b->ivalue += ivalue;
            b->is_int = b->is_int && is_int;
        } else if (!b->has_value || t >= b->last_t) {
            b->value = value;
            b->ivalue = ivalue;
            b->is_int = is_int;
        }
        b->has_value = 1;
    }
    if (has_increase) {
        b->increase = b->has_increase ? b->increase + increase : increase;
        b->has_increase = 1;
        b->interval_ns += interval;
    }
    if (d != NULL && d->kind != 0 && sdist_add(&b->dist, d, 1) != 0)
        return QUERY_ENOMEM;
    if (t >= b->last_t)
        b->last_t = t;
    b->nseries = 1;
    sbucket_exemplars(b, ex, exlen);
    return QUERY_OK;
}

/* Reads one series' points and turns them into buckets (sorted by time). */
static int series_read(sqlite3 *db, sctx *c, int64_t series, svec *out) {
    int rc = QUERY_OK;
    qsql q;
    qsql_init(&q);
    sqlite3_stmt *st = NULL;
    sdist prev_d, cur_d, diff_d;
    memset(&prev_d, 0, sizeof(prev_d));
    memset(&cur_d, 0, sizeof(cur_d));
    memset(&diff_d, 0, sizeof(diff_d));
    int has_prev = 0, prev_has_value = 0;
    double prev_v = 0;
    uint64_t prev_t = 0, prev_start = 0;
    /* For running totals, the last point before the window is the base of
     * the first difference: read it first (it is not answered). */
    const char *cols = "SELECT time_ns, start_ns, value, is_int, data, exemplars FROM points"
                       " WHERE series=";
    if (c->cumulative && c->has_start) {
        qsql_add(&q, "SELECT * FROM (");
        qsql_add(&q, cols);
        qsql_int(&q, series);
        qsql_add(&q, " AND time_ns<");
        qsql_int(&q, c->start);
        qsql_add(&q, " ORDER BY time_ns DESC, id DESC LIMIT 1) UNION ALL SELECT * FROM (");
    }
    qsql_add(&q, cols);
    qsql_int(&q, series);
    if (c->has_start) {
        qsql_add(&q, " AND time_ns>=");
        qsql_int(&q, c->start);
    }
    if (c->has_end) {
        qsql_add(&q, " AND time_ns<");
        qsql_int(&q, c->end);
    }
    qsql_add(&q, " ORDER BY time_ns, id");
    if (c->cumulative && c->has_start)
        qsql_add(&q, ")");
    rc = qsql_prepare(&q, db, &st);
    if (rc != QUERY_OK)
        goto out;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (++c->points > SERIES_MAX_POINTS) {
            rc = QUERY_ETOOBIG;
            goto out;
        }
        uint64_t t = query_u64(st, 0), start = query_u64(st, 1);
        int base = c->has_start && t < (uint64_t)c->start; /* the window's base point */
        int has_value = sqlite3_column_type(st, 2) != SQLITE_NULL;
        int is_int = sqlite3_column_int(st, 3) != 0;
        int64_t iv = sqlite3_column_int64(st, 2);
        double v = is_int ? (double)iv : sqlite3_column_double(st, 2);
        int has_inc = 0;
        double inc = 0;
        uint64_t interval = 0;
        const sdist *d = NULL;
        if (c->type == MODEL_METRIC_GAUGE || c->type == MODEL_METRIC_SUM) {
            if (c->has_rate && has_value && c->temporality == MODEL_TEMPORALITY_DELTA) {
                has_inc = 1;
                inc = v;
                if (start > 0 && start < t)
                    interval = t - start;
                else if (has_prev && prev_t < t)
                    interval = t - prev_t;
            } else if (c->has_rate && has_value) {
                /* cumulative: a lower value or a new start is a reset; the
                 * first point and the first after a reset count from 0 */
                int reset = !has_prev || !prev_has_value || v < prev_v ||
                            (start != 0 && prev_start != 0 && start != prev_start);
                has_inc = 1;
                if (!reset) {
                    inc = v - prev_v;
                    interval = t > prev_t ? t - prev_t : 0;
                } else {
                    /* counted from its start, or from the previous point
                     * when the start is older than that (or unknown) */
                    uint64_t from = has_prev ? prev_t : 0;
                    if (start > from && start < t)
                        from = start;
                    inc = v;
                    interval = from > 0 && from < t ? t - from : 0;
                }
            }
        } else {
            sdist_free(&cur_d);
            const char *data = (const char *)sqlite3_column_text(st, 4);
            if (sdist_parse(c->type, data, (size_t)sqlite3_column_bytes(st, 4), &cur_d) != 0) {
                has_prev = 0; /* unusable point: the next one starts over */
                continue;
            }
            if (c->cumulative) {
                int reset = !has_prev || (start != 0 && prev_start != 0 && start != prev_start);
                sdist_free(&diff_d);
                if (sdist_diff(&cur_d, reset ? NULL : &prev_d, &diff_d) != 0) {
                    rc = QUERY_ENOMEM;
                    goto out;
                }
                d = &diff_d;
                sdist_free(&prev_d);
                if (sdist_copy(&prev_d, &cur_d) != 0) {
                    rc = QUERY_ENOMEM;
                    goto out;
                }
            } else {
                d = &cur_d;
            }
        }
        prev_t = t;
        prev_start = start;
        if (has_value) {
            prev_v = v;
            prev_has_value = 1;
        }
        has_prev = 1;
        if (base)
            continue;
        uint64_t bt = c->step ? t / c->step * c->step : t;
        sbucket *b = out->n > 0 ? &out->b[out->n - 1] : NULL;
        if (b == NULL || b->t != bt || c->step == 0) {
            b = svec_push(out, bt);
            if (b == NULL) {
                rc = QUERY_ENOMEM;
                goto out;
            }
        }
        int fold_value = has_value && (c->type == MODEL_METRIC_GAUGE || c->type == MODEL_METRIC_SUM);
        rc = sfold(c, b, t, fold_value, v, is_int, iv, has_inc, inc, interval, d,
                   (const char *)sqlite3_column_text(st, 5), (size_t)sqlite3_column_bytes(st, 5));
        if (rc != QUERY_OK)
            goto out;
    }
    if (s != SQLITE_DONE)
        rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
out:
    sdist_free(&prev_d);
    sdist_free(&cur_d);
    sdist_free(&diff_d);
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* Merges buckets `add` (sorted) into the group's buckets `acc` (sorted). */
static int svec_merge(svec *acc, svec *add) {
    svec m = {0};
    size_t i = 0, j = 0;
    int rc = QUERY_OK;
    while (i < acc->n || j < add->n) {
        sbucket *src;
        if (j == add->n || (i < acc->n && acc->b[i].t < add->b[j].t)) {
            src = &acc->b[i++];
        } else if (i == acc->n || add->b[j].t < acc->b[i].t) {
            src = &add->b[j++];
        } else {
            /* the same bucket: fold add's into acc's */
            sbucket *a = &acc->b[i++], *b = &add->b[j++];
            if (b->has_value) {
                a->value = a->has_value ? a->value + b->value : b->value;
                a->ivalue = a->has_value ? a->ivalue + b->ivalue : b->ivalue;
                a->is_int = a->has_value ? a->is_int && b->is_int : b->is_int;
                a->has_value = 1;
            }
            if (b->has_increase) {
                a->increase = a->has_increase ? a->increase + b->increase : b->increase;
                a->has_increase = 1;
            }
            if (sdist_add(&a->dist, &b->dist, 0) != 0)
                rc = QUERY_ENOMEM;
            if (b->last_t > a->last_t)
                a->last_t = b->last_t;
            a->nseries += b->nseries;
            if (b->exemplars.len > 0 && a->n_exemplars < SERIES_MAX_EXEMPLARS) {
                if (a->exemplars.len > 0)
                    buf_append_char(&a->exemplars, ',');
                buf_append(&a->exemplars, b->exemplars.ptr, b->exemplars.len);
                a->n_exemplars += b->n_exemplars;
            }
            src = a;
        }
        if (m.n == m.cap) {
            size_t cap = m.cap ? 2 * m.cap : 16;
            sbucket *nb = realloc(m.b, cap * sizeof(*nb));
            if (nb == NULL) {
                rc = QUERY_ENOMEM;
                break;
            }
            m.b = nb;
            m.cap = cap;
        }
        m.b[m.n++] = *src; /* moved: src's memory now belongs to m */
        memset(src, 0, sizeof(*src));
    }
    if (rc != QUERY_OK) {
        svec_free(&m);
        return rc;
    }
    /* every bucket was moved or folded: only the arrays remain */
    for (size_t k = 0; k < acc->n; k++)
        sbucket_free(&acc->b[k]);
    for (size_t k = 0; k < add->n; k++)
        sbucket_free(&add->b[k]);
    free(acc->b);
    free(add->b);
    memset(add, 0, sizeof(*add));
    *acc = m;
    return QUERY_OK;
}

/* ---- series -------------------------------------------------------------------- */

/* A jansson value as the API's JSON (jw escaping, model_json numbers). */
static void sjw_json(jw *w, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        jw_object_begin(w);
        json_object_foreach((json_t *)v, k, e) {
            jw_key(w, k);
            sjw_json(w, e);
        }
        jw_object_end(w);
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        jw_array_begin(w);
        json_array_foreach(v, i, e) sjw_json(w, e);
        jw_array_end(w);
        return;
    }
    case JSON_STRING:
        jw_stringn(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        model_json_int(w, json_integer_value(v));
        return;
    case JSON_REAL:
        jw_double(w, json_real_value(v));
        return;
    case JSON_TRUE:
        jw_bool(w, 1);
        return;
    case JSON_FALSE:
        jw_bool(w, 0);
        return;
    default:
        jw_null(w);
        return;
    }
}

typedef struct sgroup {
    char *key;   /* groupBy values as a JSON object (the identity), or NULL */
    char *attrs; /* without groupBy: the series' attributes JSON */
    char *service, *instance;
    svec v;
} sgroup;

typedef struct sgroups {
    sgroup *g;
    size_t n, cap;
} sgroups;

static void sgroups_free(sgroups *gs) {
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].key);
        free(gs->g[i].attrs);
        free(gs->g[i].service);
        free(gs->g[i].instance);
        svec_free(&gs->g[i].v);
    }
    free(gs->g);
}

static sgroup *sgroups_get(sgroups *gs, const char *key) {
    for (size_t i = 0; key != NULL && i < gs->n; i++)
        if (gs->g[i].key != NULL && strcmp(gs->g[i].key, key) == 0)
            return &gs->g[i];
    if (gs->n == gs->cap) {
        size_t cap = gs->cap ? 2 * gs->cap : 16;
        sgroup *ng = realloc(gs->g, cap * sizeof(*ng));
        if (ng == NULL)
            return NULL;
        gs->g = ng;
        gs->cap = cap;
    }
    sgroup *g = &gs->g[gs->n++];
    memset(g, 0, sizeof(*g));
    return g;
}

static char *scol_dup(sqlite3_stmt *st, int col) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    return strdup(t ? t : "");
}

/* The groupBy values of a series: each key from its point attributes, else
 * from its resource's, else null. */
static char *sgroup_key(const query_series_params *p, const char *attrs, const char *res) {
    json_t *a = json_loads(attrs ? attrs : "{}", 0, NULL);
    json_t *r = json_loads(res ? res : "{}", 0, NULL);
    buf b;
    buf_init(&b, 1 << 20);
    jw w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    for (size_t i = 0; i < p->n_group_by; i++) {
        const json_t *v = json_object_get(a, p->group_by[i]);
        if (v == NULL)
            v = json_object_get(r, p->group_by[i]);
        jw_key(&w, p->group_by[i]);
        if (v == NULL)
            jw_null(&w);
        else
            sjw_json(&w, v);
    }
    jw_object_end(&w);
    json_decref(a);
    json_decref(r);
    if (jw_error(&w)) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static void sbucket_json(jw *w, const sctx *c, const sbucket *b) {
    jw_object_begin(w);
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, b->t);
    if (c->type == MODEL_METRIC_GAUGE || c->type == MODEL_METRIC_SUM) {
        jw_key(w, "value");
        if (!b->has_value)
            jw_null(w);
        else if (b->is_int)
            model_json_int(w, b->ivalue);
        else
            jw_double(w, b->value);
        if (c->has_rate) {
            double secs = c->step ? (double)c->step / 1e9 : (double)b->interval_ns / 1e9;
            jw_key(w, "increase");
            sjw_double_or_null(w, b->has_increase, b->increase);
            jw_key(w, "rate");
            sjw_double_or_null(w, b->has_increase && secs > 0, b->increase / secs);
        }
    } else if (b->dist.kind != 0) {
        sdist_json(w, &b->dist);
    } else {
        sdist empty = {.kind = c->type};
        sdist_json(w, &empty);
    }
    jw_key(w, "exemplars");
    jw_array_begin(w);
    if (b->exemplars.len > 0)
        jw_raw(w, b->exemplars.ptr, b->exemplars.len);
    jw_array_end(w);
    jw_object_end(w);
}

int query_series(sqlite3 *db, const query_series_params *p, buf *out) {
    if (p == NULL || p->name == NULL || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->n_group_by > QUERY_MAX_GROUP_BY ||
        (p->n_group_by > 0 && p->group_by == NULL))
        return QUERY_EINVAL;
    if (p->has_start && p->has_end && p->end_ns <= p->start_ns)
        return QUERY_EINVAL;
    sctx c;
    memset(&c, 0, sizeof(c));
    c.has_start = p->has_start;
    c.has_end = p->has_end;
    c.start = p->start_ns > INT64_MAX ? INT64_MAX : (int64_t)p->start_ns;
    c.end = p->end_ns > INT64_MAX ? INT64_MAX : (int64_t)p->end_ns;
    qsql q;
    qsql_init(&q);
    sqlite3_stmt *st = NULL;
    char *res[QUERY_MAX_ATTRS] = {0};
    sgroups gs = {0};
    svec tmp = {0};
    char *unit = NULL, *ids = NULL;
    buf idl;
    buf_init(&idl, 1 << 24);
    int64_t sid = 0;
    int rc = QUERY_OK;
    if (p->service) {
        rc = query_service_id(db, p->service, &sid);
        if (rc == QUERY_OK && sid == 0)
            rc = QUERY_ENOTFOUND;
        if (rc != QUERY_OK)
            goto out;
    }

    /* the instrument: its most recently seen definition */
    qsql_add(&q, "SELECT type, temporality, monotonic, unit FROM metrics WHERE name=");
    qsql_text(&q, p->name, strlen(p->name));
    if (p->service) {
        qsql_add(&q, " AND service=");
        qsql_int(&q, sid);
    }
    qsql_add(&q, " ORDER BY last_seen_ns DESC, id DESC LIMIT 1");
    rc = qsql_prepare(&q, db, &st);
    if (rc != QUERY_OK)
        goto out;
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        rc = s == SQLITE_DONE ? QUERY_ENOTFOUND : QUERY_EDB;
        goto out;
    }
    c.type = sqlite3_column_int(st, 0);
    c.temporality = sqlite3_column_int(st, 1);
    c.monotonic = sqlite3_column_int(st, 2);
    unit = scol_dup(st, 3);
    sqlite3_finalize(st);
    st = NULL;
    if (unit == NULL) {
        rc = QUERY_ENOMEM;
        goto out;
    }
    int cum = c.temporality == MODEL_TEMPORALITY_CUMULATIVE;
    c.cumulative = cum && (c.type == MODEL_METRIC_HISTOGRAM ||
                           c.type == MODEL_METRIC_EXP_HISTOGRAM ||
                           (c.type == MODEL_METRIC_SUM && c.monotonic));
    c.has_rate = c.type == MODEL_METRIC_SUM && c.monotonic;
    c.value_adds = c.type == MODEL_METRIC_SUM && !cum;

    for (size_t i = 0; i < p->n_attrs; i++) {
        rc = query_resources_matching(db, &p->attrs[i], &res[i]);
        if (rc != QUERY_OK)
            goto out;
    }

    /* its series, in a stable order */
    qsql_reset(&q);
    qsql_add(&q, "SELECT se.id, se.attrs, r.attrs, sv.name, r.instance FROM metrics m"
                 " JOIN series se ON se.metric=m.id JOIN resources r ON r.id=m.resource"
                 " JOIN services sv ON sv.id=m.service WHERE m.name=");
    qsql_text(&q, p->name, strlen(p->name));
    if (p->service) {
        qsql_add(&q, " AND m.service=");
        qsql_int(&q, sid);
    }
    qsql_add(&q, " AND m.type=");
    qsql_int(&q, c.type);
    qsql_add(&q, " AND m.temporality=");
    qsql_int(&q, c.temporality);
    qsql_add(&q, " AND m.monotonic=");
    qsql_int(&q, c.monotonic);
    for (size_t i = 0; i < p->n_attrs; i++) {
        qsql_add(&q, " AND ");
        qsql_attr_or_resource(&q, "se.attrs", "m.resource", &p->attrs[i], res[i]);
    }
    qsql_add(&q, " ORDER BY sv.name, r.instance, se.id LIMIT ");
    qsql_int(&q, SERIES_MAX_SERIES + 1);
    rc = qsql_prepare(&q, db, &st);
    if (rc != QUERY_OK)
        goto out;
    size_t nseries = 0;
    int64_t *series_ids = NULL;
    sgroup **series_group = NULL;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (nseries == SERIES_MAX_SERIES) {
            rc = QUERY_ETOOBIG;
            break;
        }
        int64_t *ni = realloc(series_ids, (nseries + 1) * sizeof(*ni));
        if (ni != NULL)
            series_ids = ni;
        sgroup **ng = realloc(series_group, (nseries + 1) * sizeof(*ng));
        if (ng != NULL)
            series_group = ng;
        sgroup *g = NULL;
        if (ni != NULL && ng != NULL) {
            if (p->n_group_by > 0) {
                char *key = sgroup_key(p, (const char *)sqlite3_column_text(st, 1),
                                       (const char *)sqlite3_column_text(st, 2));
                if (key != NULL) {
                    g = sgroups_get(&gs, key);
                    if (g != NULL && g->key == NULL)
                        g->key = key;
                    else
                        free(key);
                }
            } else {
                g = sgroups_get(&gs, NULL);
                if (g != NULL) {
                    g->attrs = scol_dup(st, 1);
                    g->service = scol_dup(st, 3);
                    g->instance = scol_dup(st, 4);
                    if (!g->attrs || !g->service || !g->instance)
                        g = NULL;
                }
            }
        }
        if (g == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        series_ids[nseries] = sqlite3_column_int64(st, 0);
        series_group[nseries] = g;
        nseries++;
    }
    if (rc == QUERY_OK && s != SQLITE_DONE)
        rc = QUERY_EDB;
    sqlite3_finalize(st);
    st = NULL;

    /* the step: given, or about SERIES_AUTO_STEPS buckets over the data */
    c.step = p->step_ns;
    if (rc == QUERY_OK && c.step == 0 && p->n_group_by > 0 && nseries > 0) {
        uint64_t lo = p->start_ns, hi = p->end_ns;
        if (!p->has_start || !p->has_end) {
            buf_append_char(&idl, '[');
            for (size_t i = 0; i < nseries; i++)
                buf_printf(&idl, "%s%lld", i ? "," : "", (long long)series_ids[i]);
            if (buf_append_char(&idl, ']') != BUF_OK) {
                rc = QUERY_ENOMEM;
                goto series_done;
            }
            qsql_reset(&q);
            qsql_add(&q, "SELECT min(time_ns), max(time_ns) FROM points WHERE series IN"
                         " (SELECT value FROM json_each(");
            qsql_text(&q, idl.ptr, idl.len);
            qsql_add(&q, "))");
            if (p->has_start) {
                qsql_add(&q, " AND time_ns>=");
                qsql_int(&q, c.start);
            }
            if (p->has_end) {
                qsql_add(&q, " AND time_ns<");
                qsql_int(&q, c.end);
            }
            rc = qsql_prepare(&q, db, &st);
            if (rc == QUERY_OK && sqlite3_step(st) == SQLITE_ROW) {
                if (!p->has_start)
                    lo = query_u64(st, 0);
                if (!p->has_end)
                    hi = query_u64(st, 1) + 1;
            }
            sqlite3_finalize(st);
            st = NULL;
        }
        uint64_t range = hi > lo ? hi - lo : 1;
        uint64_t secs = (range / SERIES_AUTO_STEPS + 999999999u) / 1000000000u;
        c.step = (secs ? secs : 1) * 1000000000u;
    }
    if (rc == QUERY_OK && c.step > 0 && p->has_start && p->has_end &&
        (p->end_ns - 1) / c.step - p->start_ns / c.step + 1 > QUERY_MAX_STEPS)
        rc = QUERY_EINVAL;

    /* read and combine */
    uint64_t tmin = UINT64_MAX, tmax = 0;
    for (size_t i = 0; rc == QUERY_OK && i < nseries; i++) {
        rc = series_read(db, &c, series_ids[i], &tmp);
        if (rc == QUERY_OK && tmp.n > 0) {
            if (tmp.b[0].t < tmin)
                tmin = tmp.b[0].t;
            if (tmp.b[tmp.n - 1].t > tmax)
                tmax = tmp.b[tmp.n - 1].t;
        }
        if (rc == QUERY_OK)
            rc = svec_merge(&series_group[i]->v, &tmp);
        svec_free(&tmp);
    }
    if (rc == QUERY_OK && c.step > 0 && tmin <= tmax && (tmax - tmin) / c.step >= QUERY_MAX_STEPS)
        rc = QUERY_EINVAL;
series_done:
    free(series_ids);
    free(series_group);
    if (rc != QUERY_OK)
        goto out;

    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "name");
    jw_string(&w, p->name);
    jw_key(&w, "type");
    jw_string(&w, model_metric_type_name((model_metric_type)c.type));
    jw_key(&w, "unit");
    jw_string(&w, unit);
    jw_key(&w, "temporality");
    jw_string(&w, model_temporality_name((model_temporality)c.temporality));
    jw_key(&w, "monotonic");
    jw_bool(&w, c.monotonic);
    jw_key(&w, "stepNs");
    jw_uint(&w, c.step);
    jw_key(&w, "series");
    jw_array_begin(&w);
    for (size_t i = 0; i < gs.n; i++) {
        const sgroup *g = &gs.g[i];
        jw_object_begin(&w);
        jw_key(&w, "attributes");
        if (g->key != NULL) {
            jw_raw(&w, g->key, strlen(g->key));
        } else {
            jw_raw(&w, g->attrs, strlen(g->attrs));
            jw_key(&w, "service");
            jw_string(&w, g->service);
            jw_key(&w, "instance");
            jw_string(&w, g->instance);
        }
        jw_key(&w, "points");
        jw_array_begin(&w);
        for (size_t k = 0; k < g->v.n; k++)
            sbucket_json(&w, &c, &g->v.b[k]);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    rc = query_finish(&w, SQLITE_DONE);
out:
    sqlite3_finalize(st);
    qsql_free(&q);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(res[i]);
    sgroups_free(&gs);
    svec_free(&tmp);
    free(unit);
    free(ids);
    buf_free(&idl);
    return rc;
}
