/* series_internal.h - the parts of GET /api/v1/metrics/{name}/series
 * (query_series in query_metrics.c) that storage's series files share:
 *   series_dist.c  histogram, exponential histogram and summary points:
 *                  parsed from their stored JSON, differenced, merged,
 *                  their percentiles, written as JSON
 *   series_read.c  one series' points read in time order and folded into
 *                  buckets; buckets of several series merged; a bucket
 *                  written as JSON
 * The DESIGN comment of query_metrics.c says what each metric type
 * contributes.
 */
#ifndef LOUPE_SERIES_INTERNAL_H
#define LOUPE_SERIES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "util/jw.h"
#include "store.h"

#define SERIES_MAX_POINTS 2000000 /* points one answer reads at most (QUERY_ETOOBIG) */
#define SERIES_MAX_EXEMPLARS 8    /* exemplars per bucket */
#define SERIES_EXP_MAX_BUCKETS 4096

/* ---- distributions (series_dist.c) ---------------------------------------- */

/* A histogram, exponential histogram or summary point (or a merge of some).
 * Owns its arrays; zeroed = none. */
typedef struct series_dist {
    int kind; /* 0 = none, else MODEL_METRIC_HISTOGRAM / _EXP_HISTOGRAM / _SUMMARY */
    uint64_t count;
    double sum, min, max;
    int has_sum, has_min, has_max;
    int mixed;      /* summaries of several series: quantiles dropped */
    double *bounds; /* histogram: nb bounds, nb + 1 counts (or 0 and 0) */
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
} series_dist;

/* Frees d's arrays and zeroes it. */
void series_dist_free(series_dist *d);

/* A deep copy of src into dst (uninitialised). Returns 0, or -1 when out
 * of memory (dst is then zeroed). */
int series_dist_copy(series_dist *dst, const series_dist *src);

/* Parses stored point data (model_json_point_data) of a metric of type
 * kind into d (uninitialised). Returns 0, or -1 for data that cannot be
 * used (d is then zeroed; the point is skipped). */
int series_dist_parse(int kind, const char *text, size_t len, series_dist *d);

/* cur - prev into out (uninitialised) when prev is an earlier state of the
 * same cumulative series; else a copy of cur (a reset; prev may be NULL).
 * Returns -1 when out of memory. */
int series_dist_diff(const series_dist *cur, const series_dist *prev, series_dist *out);

/* Folds b into a (both of one kind; a of kind 0 becomes a copy of b).
 * Summaries: a becomes b when `replace` (the later point of one series),
 * else counts add and quantiles go. Returns -1 when out of memory. */
int series_dist_add(series_dist *a, const series_dist *b, int replace);

/* Writes d's members (count, sum, min/max or quantiles, buckets, p50, p90,
 * p99) into the open JSON object. */
void series_dist_json(jw *w, const series_dist *d);

/* v, or null when !has. */
void series_json_double_or_null(jw *w, int has, double v);

/* ---- buckets (series_read.c) ------------------------------------------------ */

/* What one bucket (or, without a step, one point) of a series or a group
 * answers. */
typedef struct series_bucket {
    uint64_t t;      /* bucket start, or the point's time */
    uint64_t last_t; /* time of the latest point folded in */
    int has_value, is_int;
    double value;
    int64_t ivalue;
    int has_increase;
    double increase;
    uint64_t interval_ns; /* without a step: what the increase is over (0 = unknown) */
    series_dist dist;
    buf exemplars; /* JSON objects joined by commas */
    int n_exemplars;
    int nseries;
} series_bucket;

/* Buckets sorted by time; owns them. Zeroed = empty. */
typedef struct series_vec {
    series_bucket *b;
    size_t n, cap;
} series_vec;

void series_vec_free(series_vec *v);

/* The way a metric's values combine inside one series' bucket, and the
 * window; shared by every series of one answer. */
typedef struct series_ctx {
    int type, temporality, monotonic;
    int cumulative; /* values are running totals (sums, histograms) */
    int value_adds; /* delta sums: values within a bucket add up */
    int has_rate;   /* monotonic sums */
    uint64_t step;
    int has_start, has_end;
    int64_t start, end;
    size_t points; /* read so far, capped by SERIES_MAX_POINTS */
} series_ctx;

/* Reads the points of series `series` in c's window (and, for running
 * totals, the last one before it) and appends their buckets, sorted by
 * time, to out. Returns a QUERY_* code (QUERY_ETOOBIG past
 * SERIES_MAX_POINTS in all). */
int series_read(store_reader *r, series_ctx *c, int64_t series, series_vec *out);

/* Merges the buckets of add (sorted) into acc (sorted): buckets of one time
 * fold together (values, increases, counts and distributions add up). add
 * is emptied. Returns a QUERY_* code. */
int series_vec_merge(series_vec *acc, series_vec *add);

/* Writes bucket b as one JSON object of the answer's points. */
void series_bucket_json(jw *w, const series_ctx *c, const series_bucket *b);

#endif
