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

/* A histogram series over the window: totals and explicit buckets added
 * up. */
typedef struct mcp_hist {
    double count, sum, min, max;
    int has_min, has_max;
    json_t *bounds;      /* the first point's bounds (borrowed) */
    double *bnd, *cnt;   /* nb bounds, nb + 1 counts; NULL without buckets */
    size_t nb, merged;   /* points whose buckets were added */
} mcp_hist;

/* Adds one point's totals, min, max and (explicit_buckets, same bounds as
 * the first point) buckets. */
static void mcp_hist_add(mcp_hist *h, json_t *p, int explicit_buckets) {
    double v;
    h->count += mcp_j_num(p, "count", 0);
    h->sum += mcp_j_num(p, "sum", 0);
    if (mcp_point_num(p, "min", &v) && (!h->has_min || v < h->min)) {
        h->min = v;
        h->has_min = 1;
    }
    if (mcp_point_num(p, "max", &v) && (!h->has_max || v > h->max)) {
        h->max = v;
        h->has_max = 1;
    }
    json_t *pb = json_object_get(p, "bounds"), *pc = json_object_get(p, "counts");
    if (!explicit_buckets || !json_is_array(pb) ||
        json_array_size(pc) != json_array_size(pb) + 1)
        return;
    if (h->bounds == NULL) {
        h->bounds = pb;
        h->nb = json_array_size(pb);
        if (h->nb > MCP_BUCKETS_MAX)
            return;
        h->bnd = calloc(h->nb + 1, sizeof(double));
        h->cnt = calloc(h->nb + 1, sizeof(double));
        for (size_t b = 0; h->bnd != NULL && b < h->nb; b++)
            h->bnd[b] = json_number_value(json_array_get(pb, b));
    }
    if (h->bnd == NULL || h->cnt == NULL || !json_equal(pb, h->bounds))
        return;
    for (size_t b = 0; b <= h->nb; b++)
        h->cnt[b] += json_number_value(json_array_get(pc, b));
    h->merged++;
}

/* The q-quantile of the added buckets (total: their sum > 0),
 * interpolated inside the bucket that holds the rank (as the API does),
 * with the bucket narrowed to the observed min and max when known. */
static double mcp_hist_quantile(const mcp_hist *h, double q, double total) {
    double rank = q * total, cum = 0;
    size_t nb = h->nb;
    for (size_t b = 0; b <= nb; b++) {
        double n = h->cnt[b];
        if (n <= 0 || cum + n < rank) {
            cum += n > 0 ? n : 0;
            continue;
        }
        double lo = b > 0        ? h->bnd[b - 1]
                    : h->has_min ? h->min
                    : nb > 0 && h->bnd[0] < 0 ? h->bnd[0]
                                              : 0;
        double hi = b < nb ? h->bnd[b] : h->has_max ? h->max : nb > 0 ? h->bnd[nb - 1] : lo;
        if (h->has_min && lo < h->min)
            lo = h->min;
        if (h->has_max && hi > h->max)
            hi = h->max;
        if (hi < lo)
            hi = lo;
        return lo + (hi - lo) * (rank - cum) / n;
    }
    return h->has_max ? h->max : nb > 0 ? h->bnd[nb - 1] : 0;
}

/* Histograms: counts, sums, min and max over the window; for explicit
 * buckets the percentiles of the points' buckets added up (points with
 * other bounds than the first are left out of them); for exponential
 * histograms and summaries the latest point's percentiles. */
static void mcp_hist_summary(json_t *points, int explicit_buckets, char *out, size_t outlen) {
    mcp_hist h;
    memset(&h, 0, sizeof(h));
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p) mcp_hist_add(&h, p, explicit_buckets);
    double total = 0;
    for (size_t b = 0; h.cnt != NULL && h.merged > 0 && b <= h.nb; b++)
        total += h.cnt[b];
    static const double qs[] = {0.5, 0.9, 0.99};
    static const char *const qkeys[] = {"p50", "p90", "p99"};
    char pct[3][32], c_[32], s_[32], m_[32], lo[32], hi[32];
    for (size_t k = 0; k < 3; k++) {
        if (total > 0)
            mcp_fmt_number(mcp_hist_quantile(&h, qs[k], total), pct[k], sizeof(pct[k]));
        else
            mcp_j_text(json_object_get(json_array_get(points, json_array_size(points) - 1),
                                       qkeys[k]),
                       20, pct[k], sizeof(pct[k]));
    }
    mcp_fmt_number(h.count, c_, sizeof(c_));
    mcp_fmt_number(h.sum, s_, sizeof(s_));
    mcp_fmt_number(h.count > 0 ? h.sum / h.count : 0, m_, sizeof(m_));
    mcp_fmt_number(h.min, lo, sizeof(lo));
    mcp_fmt_number(h.max, hi, sizeof(hi));
    snprintf(out, outlen, "count %s, sum %s, mean %s, min %s, max %s; p50 %s, p90 %s, p99 %s (%s)",
             c_, s_, m_, h.has_min ? lo : "unknown", h.has_max ? hi : "unknown",
             pct[0][0] ? pct[0] : "unknown", pct[1][0] ? pct[1] : "unknown",
             pct[2][0] ? pct[2] : "unknown",
             total > 0 ? "over the window's buckets" : "of the latest point");
    free(h.bnd);
    free(h.cnt);
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
