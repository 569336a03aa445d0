/* series_internal.h - the parts of GET /api/v1/metrics/{name}/series
 * (query_series in query_metrics.c) that storage's series files share:
 *   series_dist.c  histogram, exponential histogram and summary points:
 *                  parsed from their stored JSON, differenced, merged,
 *                  their percentiles, written as JSON
 *   series_read.c  one series' points read in time order and folded into
 *                  buckets; buckets of several series merged; a bucket
 *                  written as JSON
 *   series_group.c how an instrument's values combine, the step, the
 *                  groups of an answer and their keys, the answer written
 * The ClickHouse twin (ch_query_logs_series.c) reads its points another
 * way and shares the folding, the groups and the writing from here.
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
#include "query.h"
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

/* One stored point's contribution to its bucket. The reader fills t,
 * start, has_value, is_int, value and ivalue; the rest starts zeroed. */
typedef struct series_contrib {
    uint64_t t, start;
    int has_value, is_int; /* has_value: the stored value is not NULL */
    double value;
    int64_t ivalue;
    int has_increase;
    double increase;
    uint64_t interval;    /* what the increase is over (0 = unknown) */
    const series_dist *d; /* a distribution point, or NULL */
} series_contrib;

/* What the previous point of a series leaves for the next one. */
typedef struct series_prev {
    int has; /* there is a previous (usable) point */
    int has_value;
    double v;
    uint64_t t, start;
    series_dist d; /* its distribution, for running totals */
} series_prev;

/* The reading of one series, point after point. Zeroed = at its first
 * point; owns its distributions (series_state_free). */
typedef struct series_state {
    series_prev pv;
    series_dist cur, diff;
} series_state;

void series_state_free(series_state *s);

/* Folds one stored point of a series (read in time order, the window's
 * base point first for running totals) into out, the series' buckets.
 * p: the point's columns (changed); data/dlen: its stored distribution
 * (or NULL, 0); ex/exlen: its stored exemplar array (or NULL, 0); all
 * borrowed for the call. Counts c->points. Returns a QUERY_* code
 * (QUERY_ETOOBIG past SERIES_MAX_POINTS). */
int series_point_add(series_ctx *c, series_state *s, series_contrib *p, const char *data,
                     size_t dlen, const char *ex, size_t exlen, series_vec *out);

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

/* ---- plan, groups and answer (series_group.c) ------------------------------- */

/* QUERY_OK for parameters an answer can be made of, else QUERY_EINVAL. */
int series_params_check(const query_series_params *p);

/* Sets c's cumulative, value_adds and has_rate from its type,
 * temporality and monotonic. */
void series_ctx_combine(series_ctx *c);

/* The automatic step: about `steps` buckets over [lo, hi), whole seconds,
 * at least one. */
uint64_t series_auto_step(uint64_t lo, uint64_t hi, uint64_t steps);

/* A group of an answer: the series with the same groupBy values, or one
 * series without groupBy. Owns its strings and buckets. */
typedef struct series_group {
    char *key;   /* groupBy values as a JSON object (the identity), or NULL */
    char *attrs; /* without groupBy: the series' attributes JSON */
    char *service, *instance;
    series_vec v;
} series_group;

/* The groups of an answer, in answer order; zeroed = none. */
typedef struct series_groups {
    series_group *g;
    size_t n, cap;
} series_groups;

void series_groups_free(series_groups *gs);

/* The group a series joins: with groupBy (p), the one of its values
 * (from attrs, then res: JSON objects, NULL or "" = none), else a new one
 * of its own (attrs, service, instance copied). Strings are borrowed.
 * Returns the group's index in gs, or -1 when out of memory. */
long series_groups_join(series_groups *gs, const query_series_params *p, const char *attrs,
                        const char *res, const char *service, const char *instance);

/* Writes the answer: the instrument (name, unit, c), then each group's
 * points into out; `partial` when the reading timed out. Returns a
 * QUERY_* code. */
int series_answer_write(const query_series_params *p, const series_ctx *c, const char *unit,
                        const series_groups *gs, int partial, buf *out);

#endif
