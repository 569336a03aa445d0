/* mcp_tool_metric.c - the get_metric MCP tool: the instruments, or one
 * metric's series over a window summed up (min/max/last for gauges,
 * increase and rate for counters, count/sum/percentiles for histograms). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_internal.h"

#define MCP_BUCKETS_MAX 4096
#define MCP_METRIC_NAMES 60 /* names listed when the one asked for is unknown */

static void mcp_metric_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "name", "string",
             "The metric name (e.g. http.server.request.duration). Without it, the answer lists "
             "the metrics loupe has, with type, unit and service.");
    mcp_prop(props, "service", "string", "Only this service's series.");
    mcp_prop_strings(props, "attrs",
                     "Filters on the series' attributes: key=value, key!=value, key~substring, "
                     "key>number, key<number.");
    mcp_prop_strings(props, "groupBy",
                     "Attribute keys: series with equal values of these are combined.");
    mcp_prop_window(props, "1h");
}

/* ---- the list of instruments ---------------------------------------------------------- */

static void mcp_metric_list(mcp_call *c, const char *service, const char *intro) {
    json_t *doc;
    char msg[256];
    mcp_q_path(c, "/api/v1/metrics");
    mcp_q_param(c, "service", service);
    if (mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return;
    json_t *list = json_object_get(doc, "metrics");
    if (intro != NULL)
        mcp_text_line(&c->text, "%s", intro);
    mcp_text_line(&c->text, "%zu metrics%s%s (name: type, unit, temporality, service, scope, "
                            "series, last point):",
                  json_array_size(list), service ? " of service " : "", service ? service : "");
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        char name[200], svc[100], scope[100], unit[60], seen[40];
        textfmt_clip(mcp_j_str(m, "name"), 160, name, sizeof(name));
        textfmt_clip(mcp_j_str(m, "service"), 80, svc, sizeof(svc));
        textfmt_clip(mcp_j_str(m, "scope"), 80, scope, sizeof(scope));
        textfmt_clip(mcp_j_str(m, "unit"), 40, unit, sizeof(unit));
        textfmt_time_utc(mcp_j_ns(m, "lastSeenUnixNano"), seen, sizeof(seen));
        const char *type = mcp_j_str(m, "type");
        int mono = json_is_true(json_object_get(m, "monotonic"));
        mcp_text_line(&c->text, "- %s: %s%s, unit %s, %s, service %s, scope %s, %.0f series, %s",
                      name, mono ? "monotonic " : "", type, unit[0] ? unit : "none",
                      mcp_j_str(m, "temporality"), svc, scope, mcp_j_num(m, "seriesCount", 0),
                      seen);
    }
    mcp_text_finish(&c->text, "metrics", "Filter by service.");
    json_decref(doc);
}

/* ---- summaries of one series ----------------------------------------------------------- */

typedef struct mcp_stats {
    size_t n;
    double min, max, last, total;
} mcp_stats;

static void mcp_stats_add(mcp_stats *s, double v) {
    if (s->n == 0 || v < s->min)
        s->min = v;
    if (s->n == 0 || v > s->max)
        s->max = v;
    s->last = v;
    s->total += v;
    s->n++;
}

/* A number field that may be null or a string ("NaN"): 1 when a number. */
static int mcp_point_num(json_t *p, const char *key, double *v) {
    json_t *x = json_object_get(p, key);
    if (!json_is_number(x))
        return 0;
    *v = json_number_value(x);
    return 1;
}

static void mcp_gauge_summary(json_t *points, char *out, size_t outlen) {
    mcp_stats s = {0};
    size_t i;
    json_t *p;
    double v;
    json_array_foreach(points, i, p) if (mcp_point_num(p, "value", &v)) mcp_stats_add(&s, v);
    char a[32], b[32], l[32], m[32];
    mcp_fmt_number(s.min, a, sizeof(a));
    mcp_fmt_number(s.max, b, sizeof(b));
    mcp_fmt_number(s.last, l, sizeof(l));
    mcp_fmt_number(s.n ? s.total / (double)s.n : 0, m, sizeof(m));
    if (s.n == 0)
        snprintf(out, outlen, "no numeric values");
    else
        snprintf(out, outlen, "last %s, min %s, max %s, mean %s", l, a, b, m);
}

/* Counters: the latest value, and the increase from the window's first
 * point to its last (for cumulative counters; whether the first point
 * itself was an increase cannot be told) or of all its points (delta), with
 * the rate over the time the points span. */
static void mcp_sum_summary(json_t *points, int monotonic, int delta, char *out, size_t outlen) {
    mcp_stats s = {0};
    double inc = 0, v;
    size_t i, nin = 0;
    json_t *p;
    json_array_foreach(points, i, p) {
        if (mcp_point_num(p, "value", &v))
            mcp_stats_add(&s, v);
        if ((delta || i > 0) && mcp_point_num(p, "increase", &v)) {
            inc += v;
            nin++;
        }
    }
    char l[32], a[32], b[32], iv[32], rv[32];
    mcp_fmt_number(s.last, l, sizeof(l));
    if (!monotonic) {
        mcp_fmt_number(s.min, a, sizeof(a));
        mcp_fmt_number(s.max, b, sizeof(b));
        snprintf(out, outlen, "last %s, min %s, max %s", l, a, b);
        return;
    }
    size_t n = json_array_size(points);
    uint64_t t0 = mcp_j_ns(json_array_get(points, 0), "timeUnixNano");
    uint64_t t1 = mcp_j_ns(json_array_get(points, n ? n - 1 : 0), "timeUnixNano");
    mcp_fmt_number(inc, iv, sizeof(iv));
    double rate = 0;
    int has_rate = 0;
    if (t1 > t0 && nin > 0) {
        rate = inc / ((double)(t1 - t0) / 1e9);
        has_rate = 1;
    } else if (n > 0 && mcp_point_num(json_array_get(points, n - 1), "rate", &v)) {
        rate = v;
        has_rate = 1;
    }
    mcp_fmt_number(rate, rv, sizeof(rv));
    char span[32];
    textfmt_duration(t1 > t0 ? t1 - t0 : 0, span, sizeof(span));
    if (delta)
        snprintf(out, outlen, "increase %s (all points added), rate %s%s over %s; last delta %s",
                 iv, has_rate ? rv : "unknown", has_rate ? "/s" : "", span, l);
    else
        snprintf(out, outlen, "running total %s; +%s from the window's first point to its last, "
                              "rate %s%s over %s",
                 l, iv, has_rate ? rv : "unknown", has_rate ? "/s" : "", span);
}

/* The q-quantile of merged explicit buckets, interpolated inside the
 * bucket that holds the rank (as the API does), with the bucket narrowed
 * to the observed min and max when they are known. */
static double mcp_bucket_quantile(double q, const double *bounds, const double *counts, size_t nb,
                                  double total, int has_min, double min, int has_max, double max) {
    double rank = q * total, cum = 0;
    for (size_t b = 0; b <= nb; b++) {
        if (counts[b] <= 0 || cum + counts[b] < rank) {
            cum += counts[b];
            continue;
        }
        double lo = b > 0 ? bounds[b - 1] : has_min ? min : nb > 0 && bounds[0] < 0 ? bounds[0] : 0;
        double hi = b < nb ? bounds[b] : has_max ? max : nb > 0 ? bounds[nb - 1] : lo;
        if (has_min && lo < min)
            lo = min;
        if (has_max && hi > max)
            hi = max;
        if (hi < lo)
            hi = lo;
        return lo + (hi - lo) * (rank - cum) / counts[b];
    }
    return has_max ? max : nb > 0 ? bounds[nb - 1] : 0;
}

/* Histograms: counts, sums, min and max over the window; for explicit
 * buckets the percentiles of the points' buckets added up (points with
 * other bounds than the first are left out of them); for exponential
 * histograms and summaries the latest point's percentiles. */
static void mcp_hist_summary(json_t *points, int explicit_buckets, char *out, size_t outlen) {
    double count = 0, sum = 0, min = 0, max = 0, v;
    int has_min = 0, has_max = 0;
    json_t *bounds = NULL;
    size_t nb = 0, merged = 0;
    double *bnd = NULL, *cnt = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p) {
        count += mcp_j_num(p, "count", 0);
        sum += mcp_j_num(p, "sum", 0);
        if (mcp_point_num(p, "min", &v) && (!has_min || v < min)) {
            min = v;
            has_min = 1;
        }
        if (mcp_point_num(p, "max", &v) && (!has_max || v > max)) {
            max = v;
            has_max = 1;
        }
        json_t *pb = json_object_get(p, "bounds"), *pc = json_object_get(p, "counts");
        if (!explicit_buckets || !json_is_array(pb) || json_array_size(pc) != json_array_size(pb) + 1)
            continue;
        if (bounds == NULL) {
            bounds = pb;
            nb = json_array_size(pb);
            if (nb > MCP_BUCKETS_MAX)
                break;
            bnd = calloc(nb + 1, sizeof(double));
            cnt = calloc(nb + 1, sizeof(double));
            if (bnd == NULL || cnt == NULL)
                break;
            for (size_t b = 0; b < nb; b++)
                bnd[b] = json_number_value(json_array_get(pb, b));
        }
        if (!json_equal(pb, bounds) || cnt == NULL)
            continue;
        for (size_t b = 0; b <= nb; b++)
            cnt[b] += json_number_value(json_array_get(pc, b));
        merged++;
    }
    char c_[32], s_[32], m_[32], lo[32], hi[32], p50[32], p90[32], p99[32];
    mcp_fmt_number(count, c_, sizeof(c_));
    mcp_fmt_number(sum, s_, sizeof(s_));
    mcp_fmt_number(count > 0 ? sum / count : 0, m_, sizeof(m_));
    mcp_fmt_number(min, lo, sizeof(lo));
    mcp_fmt_number(max, hi, sizeof(hi));
    const char *how;
    double total = 0;
    if (cnt != NULL && merged > 0) {
        for (size_t b = 0; b <= nb; b++)
            total += cnt[b];
    }
    if (total > 0) {
        mcp_fmt_number(mcp_bucket_quantile(0.5, bnd, cnt, nb, total, has_min, min, has_max, max), p50, sizeof(p50));
        mcp_fmt_number(mcp_bucket_quantile(0.9, bnd, cnt, nb, total, has_min, min, has_max, max), p90, sizeof(p90));
        mcp_fmt_number(mcp_bucket_quantile(0.99, bnd, cnt, nb, total, has_min, min, has_max, max), p99, sizeof(p99));
        how = "over the window's buckets";
    } else {
        json_t *last = json_array_get(points, json_array_size(points) - 1);
        mcp_j_text(json_object_get(last, "p50"), 20, p50, sizeof(p50));
        mcp_j_text(json_object_get(last, "p90"), 20, p90, sizeof(p90));
        mcp_j_text(json_object_get(last, "p99"), 20, p99, sizeof(p99));
        how = "of the latest point";
    }
    snprintf(out, outlen, "count %s, sum %s, mean %s, min %s, max %s; p50 %s, p90 %s, p99 %s (%s)",
             c_, s_, m_, has_min ? lo : "unknown", has_max ? hi : "unknown",
             p50[0] ? p50 : "unknown", p90[0] ? p90 : "unknown", p99[0] ? p99 : "unknown", how);
    free(bnd);
    free(cnt);
}

static void mcp_series_line(mcp_call *c, json_t *doc, json_t *series) {
    const char *type = mcp_j_str(doc, "type");
    json_t *points = json_object_get(series, "points");
    size_t n = json_array_size(points);
    char label[600], attrs[400], summary[600], t0[40], t1[40];
    mcp_j_attrs(json_object_get(series, "attributes"), 12, attrs, sizeof(attrs));
    snprintf(label, sizeof(label), "{%s}%s%s%s%s", attrs,
             mcp_j_str(series, "service")[0] ? " service=" : "", mcp_j_str(series, "service"),
             mcp_j_str(series, "instance")[0] ? " instance=" : "", mcp_j_str(series, "instance"));
    if (n == 0) {
        mcp_text_line(&c->text, "- %s: no points in the window", label);
        return;
    }
    textfmt_time_utc(mcp_j_ns(json_array_get(points, 0), "timeUnixNano"), t0, sizeof(t0));
    textfmt_time_utc(mcp_j_ns(json_array_get(points, n - 1), "timeUnixNano"), t1, sizeof(t1));
    if (strcmp(type, "gauge") == 0)
        mcp_gauge_summary(points, summary, sizeof(summary));
    else if (strcmp(type, "sum") == 0)
        mcp_sum_summary(points, json_is_true(json_object_get(doc, "monotonic")),
                        strcmp(mcp_j_str(doc, "temporality"), "delta") == 0, summary,
                        sizeof(summary));
    else
        mcp_hist_summary(points, strcmp(type, "histogram") == 0, summary, sizeof(summary));
    mcp_text_line(&c->text, "- %s: %zu points %s .. %s; %s", label, n, t0, t1, summary);
}

static void mcp_metric_run(mcp_call *c) {
    const char *name, *service;
    json_t *group_by;
    if (mcp_arg_string(c, "name", &name) != 0 || mcp_arg_string(c, "service", &service) != 0 ||
        mcp_arg_strings(c, "groupBy", 16, &group_by) != 0)
        return;
    if (name == NULL) {
        mcp_metric_list(c, service, NULL);
        return;
    }
    buf path;
    buf_init(&path, 4096);
    buf_append_str(&path, "/api/v1/metrics/");
    textfmt_url_encode(name, &path);
    buf_append_str(&path, "/series");
    mcp_q_path(c, path.ptr != NULL ? path.ptr : "/");
    buf_free(&path);
    mcp_q_param(c, "service", service);
    if (mcp_q_attrs(c) != 0 || mcp_q_window(c, "1h") != 0)
        return;
    size_t i;
    json_t *g;
    if (json_is_string(group_by))
        mcp_q_param(c, "groupBy", json_string_value(group_by));
    else
        json_array_foreach(group_by, i, g) mcp_q_param(c, "groupBy", json_string_value(g));
    json_t *doc;
    char msg[256], window[100], intro[400];
    int rc = mcp_fetch(c, &doc, msg, sizeof(msg));
    if (rc == 1) {
        snprintf(intro, sizeof(intro), "%.300s. The metrics loupe has:", msg);
        mcp_metric_list(c, service, intro);
        c->is_error = 1;
        return;
    }
    if (rc != 0)
        return;
    json_t *series = json_object_get(doc, "series");
    size_t total = 0;
    json_array_foreach(series, i, g) total += json_array_size(json_object_get(g, "points"));
    mcp_window_text(c, window, sizeof(window));
    char unit[60];
    textfmt_clip(mcp_j_str(doc, "unit"), 40, unit, sizeof(unit));
    mcp_text_line(&c->text, "Metric %s: %s%s, unit %s, temporality %s; %zu series, %zu points, %s.",
                  mcp_j_str(doc, "name"),
                  json_is_true(json_object_get(doc, "monotonic")) ? "monotonic " : "",
                  mcp_j_str(doc, "type"), unit[0] ? unit : "none", mcp_j_str(doc, "temporality"),
                  json_array_size(series), total, window);
    json_array_foreach(series, i, g) mcp_series_line(c, doc, g);
    mcp_text_finish(&c->text, "series", "Filter with service or attrs, or combine with groupBy.");
    json_decref(doc);
}

const mcp_tool mcp_tool_get_metric = {
    "get_metric", "Get a metric",
    "A metric's series over a window (default the last hour), each summed up: gauges last, "
    "min, max, mean; counters increase and rate; histograms count, sum, min, max and p50, p90, "
    "p99. Without a name, lists the metrics loupe has.",
    mcp_metric_props, mcp_metric_run};
