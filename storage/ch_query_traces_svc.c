/* ch_query_traces_svc.c - services, a service's operations and the service
 * map from ClickHouse; see ch_query.h.
 *
 * DESIGN
 * Windows are whole minutes, as the SQLite store's rollups make them
 * (query_analytics.c): a window covers every minute it overlaps, and a
 * bound not given is the first or last minute of the stored traces'
 * starts (trace_index).
 *
 * Services: items, error spans and the last time seen per service are
 * counted from the three tables in one UNION ALL (in the window when one
 * is given, the last time seen over everything); the entry operations'
 * figures (requests, failures, p50, p99) come from ops_minute, its
 * t-digests merged (quantilesTDigestMerge), so the percentiles are
 * t-digest estimates where the SQLite store reads its log-scale
 * histograms' buckets.
 *
 * Operations: ops_minute grouped by operation and step, and by operation
 * for the totals.
 *
 * The service map (ch_query_traces_map.c) joins spans at query time.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "query_internal.h"
#include "rollup.h"

#define SVC_ANSWER_MAX ((size_t)64 << 20)
#define SVC_MINUTE ((uint64_t)ROLLUP_MINUTE_NS)

/* ---- the window ----------------------------------------------------------------- */

typedef struct svc_window {
    uint64_t lo, hi; /* minutes [lo, hi) */
    double seconds;
} svc_window;

/* The range of the stored traces' starts (ns), as the SQLite store's trace
 * segments keep it: trace_index's starts are the earliest span start of a
 * trace in each insert; *any = 0 when none. */
static int svc_span_range(store_reader *r, uint64_t *min, uint64_t *max, int *any) {
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, 4096);
    buf_append_str(&sql, "SELECT min(start), max(start), count() FROM " CH_TRACE_INDEX " WHERE 1");
    chq_age_cond(r, &sql, "start");
    int rc = chq_run(r, &sql, &ans);
    *min = *max = 0;
    *any = 0;
    if (rc == QUERY_OK) {
        char *p = ans.ptr, *end = ans.ptr + ans.len;
        ch_field f[3];
        if (ch_tsv_row(&p, end, f, 3) == 3 && ch_field_u64(&f[2]) > 0) {
            *min = ch_field_u64(&f[0]);
            *max = ch_field_u64(&f[1]);
            *any = 1;
        }
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* qa_window_of() over the spans' range. */
static int svc_window_of(store_reader *r, int has_start, uint64_t start, int has_end,
                         uint64_t end, svc_window *w) {
    uint64_t dmin = 0, dmax = 0;
    int any = 0, rc = QUERY_OK;
    if (!has_start || !has_end)
        rc = svc_span_range(r, &dmin, &dmax, &any);
    if (rc != QUERY_OK)
        return rc;
    int64_t s = has_start ? query_i64(start) : (any ? query_i64(dmin) : 0);
    int64_t e = has_end ? query_i64(end) : (any ? query_i64(dmax) + 1 : 0);
    if (e < s)
        e = s;
    int64_t m = (int64_t)SVC_MINUTE;
    int64_t lo = s / m, hi = (e + m - 1) / m;
    if (hi <= lo)
        hi = lo + 1;
    w->lo = (uint64_t)lo;
    w->hi = (uint64_t)hi;
    w->seconds = has_start && has_end ? (double)(e - s) / 1e9 : (double)(hi - lo) * 60.0;
    if (w->seconds <= 0)
        w->seconds = 60.0;
    return QUERY_OK;
}

/* The ops_minute conditions of window w (after "WHERE 1"). */
static void svc_ops_window(store_reader *r, const svc_window *w, buf *sql) {
    buf_printf(sql, " AND minute >= %" PRIu64 " AND minute < %" PRIu64, w->lo, w->hi);
    uint64_t t = chq_min_time(r);
    if (t)
        buf_printf(sql, " AND minute >= %" PRIu64, t / SVC_MINUTE);
}

/* The n quantiles of an array field "[a,b,c]" (rounded to ns; 0 when
 * missing). */
static void svc_quantiles(const ch_field *f, uint64_t *q, int n) {
    const char *p = f->ptr;
    for (int i = 0; i < n; i++)
        q[i] = 0;
    if (p == NULL || *p != '[')
        return;
    p++;
    for (int i = 0; i < n && *p && *p != ']'; i++) {
        char *e;
        double v = strtod(p, &e);
        if (e == p)
            break;
        q[i] = isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
        p = *e == ',' ? e + 1 : e;
    }
}

/* Splits the rows of ans into fields of ncols each: *rows (malloc'ed,
 * pointing into ans), *n of them. */
static int svc_rows(buf *ans, size_t ncols, ch_field **rows, size_t *n) {
    size_t cap = 16;
    *n = 0;
    *rows = malloc(cap * ncols * sizeof(**rows));
    if (*rows == NULL)
        return QUERY_ENOMEM;
    char *p = ans->ptr, *end = ans->ptr + ans->len;
    for (;;) {
        if (*n == cap) {
            cap *= 2;
            ch_field *v = realloc(*rows, cap * ncols * sizeof(**rows));
            if (v == NULL)
                return QUERY_ENOMEM;
            *rows = v;
        }
        int k = ch_tsv_row(&p, end, *rows + *n * ncols, ncols);
        if (k == 0)
            return QUERY_OK;
        if (k != (int)ncols)
            return QUERY_EDB;
        (*n)++;
    }
}

static int svc_jw_rc(const jw *w) {
    if (jw_error(w))
        return jw_error(w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    return QUERY_OK;
}

/* ---- services --------------------------------------------------------------------------- */

/* The count of a table's rows in the window (an expression), or all. */
static void svc_count_in(buf *sql, const query_window_params *p, int windowed, const char *extra) {
    if (!windowed) {
        buf_printf(sql, extra ? "countIf(%s)" : "count()", extra ? extra : "");
        return;
    }
    buf_append_str(sql, "countIf(1");
    if (p->has_start)
        buf_printf(sql, " AND time >= %" PRIu64, (p->start_ns / SVC_MINUTE) * SVC_MINUTE);
    if (p->has_end) {
        uint64_t e = p->end_ns < p->start_ns && p->has_start ? p->start_ns : p->end_ns;
        uint64_t hi = e / SVC_MINUTE + (e % SVC_MINUTE != 0);
        if (p->has_start && hi <= p->start_ns / SVC_MINUTE)
            hi = p->start_ns / SVC_MINUTE + 1;
        buf_printf(sql, " AND time < %" PRIu64, hi * SVC_MINUTE);
    }
    if (extra)
        buf_printf(sql, " AND %s", extra);
    buf_append_char(sql, ')');
}

/* The per-service counts: rows (service, spans, errors, logs, points,
 * last seen), by name. */
static void svc_counts_sql(store_reader *r, const query_window_params *p, int windowed,
                           buf *sql) {
    static const char *const tables[3] = {CH_SPANS, CH_LOGS, CH_POINTS};
    buf_append_str(sql, "SELECT service, sum(sp), sum(er), sum(lg), sum(pt), max(ls) FROM (");
    for (int t = 0; t < 3; t++) {
        if (t)
            buf_append_str(sql, " UNION ALL ");
        buf_append_str(sql, "SELECT service, ");
        for (int c = 0; c < 3; c++) {
            if (c == t)
                svc_count_in(sql, p, windowed, NULL);
            else
                buf_append_str(sql, "toUInt64(0)");
            buf_append_str(sql, c == 0 ? " AS sp, " : c == 1 ? " AS lg, " : " AS pt, ");
            if (c == 0) {
                if (t == 0)
                    svc_count_in(sql, p, windowed, "status_code = 2");
                else
                    buf_append_str(sql, "toUInt64(0)");
                buf_append_str(sql, " AS er, ");
            }
        }
        buf_printf(sql, "max(%s) AS ls FROM %s WHERE 1", t == 0 ? "greatest(end_ns, time)" : "time",
                   tables[t]);
        chq_age_cond(r, sql, "time");
        buf_append_str(sql, " GROUP BY service");
    }
    buf_append_str(sql, ") GROUP BY service ORDER BY service");
}

static void svc_instances_sql(store_reader *r, buf *sql) {
    static const char *const tables[3] = {CH_SPANS, CH_LOGS, CH_POINTS};
    buf_append_str(sql, "SELECT service, instance FROM (");
    for (int t = 0; t < 3; t++) {
        buf_printf(sql, "%sSELECT DISTINCT service, instance FROM %s WHERE instance != ''",
                   t ? " UNION ALL " : "", tables[t]);
        chq_age_cond(r, sql, "time");
    }
    buf_append_str(sql, ") GROUP BY service, instance ORDER BY service, instance");
}

/* The entry operations' figures per service over window w: rows (service,
 * calls, errors, [p50, p95, p99]). */
static void svc_entries_sql(store_reader *r, const svc_window *w, buf *sql) {
    buf_append_str(sql, "SELECT service, sum(calls), sum(errors),"
                        " quantilesTDigestMerge(0.5, 0.95, 0.99)(dur) FROM " CH_OPS " WHERE 1");
    svc_ops_window(r, w, sql);
    buf_append_str(sql, " GROUP BY service");
}

/* qa_svc_red(): a service's entry figures (row e, or zeros). */
static void svc_red(jw *w, const ch_field *e, double seconds) {
    int64_t req = e ? (int64_t)ch_field_u64(&e[1]) : 0;
    int64_t failed = e ? (int64_t)ch_field_u64(&e[2]) : 0;
    uint64_t q[3] = {0, 0, 0};
    if (e)
        svc_quantiles(&e[3], q, 3);
    jw_key(w, "requests");
    jw_int(w, req);
    jw_key(w, "failedRequests");
    jw_int(w, failed);
    jw_key(w, "rate");
    jw_double(w, (double)req / seconds);
    jw_key(w, "errorRate");
    jw_double(w, req ? (double)failed / (double)req : 0.0);
    jw_key(w, "p50Ns");
    jw_uint(w, q[0]);
    jw_key(w, "p99Ns");
    jw_uint(w, q[2]);
}

static const ch_field *svc_find(const ch_field *rows, size_t n, size_t ncols, const ch_field *k) {
    for (size_t i = 0; i < n; i++) {
        const ch_field *f = rows + i * ncols;
        if (f[0].len == k->len && memcmp(f[0].ptr, k->ptr, k->len) == 0)
            return f;
    }
    return NULL;
}

int chq_services(store_reader *r, const query_window_params *p, buf *out) {
    int windowed = p != NULL && (p->has_start || p->has_end);
    svc_window win;
    int rc = svc_window_of(r, p && p->has_start, p ? p->start_ns : 0, p && p->has_end,
                           p ? p->end_ns : 0, &win);
    buf sql, counts, inst, ents;
    buf_init(&sql, 1 << 16);
    buf_init(&counts, SVC_ANSWER_MAX);
    buf_init(&inst, SVC_ANSWER_MAX);
    buf_init(&ents, SVC_ANSWER_MAX);
    ch_field *cr = NULL, *ir = NULL, *er = NULL;
    size_t nc = 0, ni = 0, ne = 0;
    if (rc == QUERY_OK) {
        svc_counts_sql(r, p, windowed, &sql);
        rc = chq_run(r, &sql, &counts);
    }
    if (rc == QUERY_OK) {
        buf_reset(&sql);
        svc_instances_sql(r, &sql);
        rc = chq_run(r, &sql, &inst);
    }
    if (rc == QUERY_OK) {
        buf_reset(&sql);
        svc_entries_sql(r, &win, &sql);
        rc = chq_run(r, &sql, &ents);
    }
    if (rc == QUERY_OK)
        rc = svc_rows(&counts, 6, &cr, &nc);
    if (rc == QUERY_OK)
        rc = svc_rows(&inst, 2, &ir, &ni);
    if (rc == QUERY_OK)
        rc = svc_rows(&ents, 4, &er, &ne);
    if (rc == QUERY_OK) {
        jw w;
        query_list_begin(&w, out, "services");
        for (size_t i = 0; i < nc; i++) {
            const ch_field *f = cr + i * 6;
            uint64_t spans = ch_field_u64(&f[1]), logs = ch_field_u64(&f[3]),
                     points = ch_field_u64(&f[4]);
            if (spans + logs + points == 0)
                continue; /* nothing of it in the window */
            jw_object_begin(&w);
            jw_key(&w, "name");
            jw_stringn(&w, f[0].ptr, f[0].len);
            jw_key(&w, "spanCount");
            jw_int(&w, (int64_t)spans);
            jw_key(&w, "logCount");
            jw_int(&w, (int64_t)logs);
            jw_key(&w, "metricCount");
            jw_int(&w, (int64_t)points);
            jw_key(&w, "errorCount");
            jw_int(&w, (int64_t)ch_field_u64(&f[2]));
            jw_key(&w, "lastSeenUnixNano");
            jw_uint_string(&w, ch_field_u64(&f[5]));
            svc_red(&w, svc_find(er, ne, 4, &f[0]), win.seconds);
            jw_key(&w, "instances");
            jw_array_begin(&w);
            for (size_t j = 0; j < ni; j++)
                if (ir[2 * j].len == f[0].len && memcmp(ir[2 * j].ptr, f[0].ptr, f[0].len) == 0)
                    jw_stringn(&w, ir[2 * j + 1].ptr, ir[2 * j + 1].len);
            jw_array_end(&w);
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_object_end(&w);
        rc = svc_jw_rc(&w);
    }
    free(cr);
    free(ir);
    free(er);
    buf_free(&sql);
    buf_free(&counts);
    buf_free(&inst);
    buf_free(&ents);
    return rc;
}

/* ---- operations ------------------------------------------------------------------------- */

/* 1 when some table holds an item of the service (the SQLite store's
 * services table: any signal). */
static int svc_known(store_reader *r, const char *service, int *known) {
    static const char *const tables[3] = {CH_SPANS, CH_LOGS, CH_POINTS};
    buf sql, ans;
    buf_init(&sql, 1 << 16);
    buf_init(&ans, 4096);
    buf_append_str(&sql, "SELECT count() FROM (");
    for (int t = 0; t < 3; t++) {
        buf_printf(&sql, "%sSELECT service FROM (SELECT service FROM %s WHERE service = ",
                   t ? " UNION ALL " : "", tables[t]);
        ch_sql_quote_str(&sql, service);
        buf_append_str(&sql, " LIMIT 1)");
    }
    buf_append_str(&sql, ")");
    int rc = chq_run(r, &sql, &ans);
    *known = rc == QUERY_OK && ans.len > 0 && strtoull(ans.ptr, NULL, 10) > 0;
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* Rows (name, k, calls, errors, [p50, p95, p99]) by operation and step, or
 * by operation alone (by_step 0: k is 0). */
static void svc_ops_sql(store_reader *r, const query_ops_params *p, const svc_window *w,
                        uint64_t stepm, int by_step, buf *sql) {
    buf_append_str(sql, "SELECT name, ");
    if (by_step)
        buf_printf(sql, "intDiv(minute - %" PRIu64 ", %" PRIu64 ")", w->lo, stepm);
    else
        buf_append_str(sql, "toUInt64(0)");
    buf_append_str(sql, " AS k, sum(calls), sum(errors), quantilesTDigestMerge(0.5, 0.95, 0.99)(dur)"
                        " FROM " CH_OPS " WHERE service = ");
    ch_sql_quote_str(sql, p->service);
    svc_ops_window(r, w, sql);
    buf_append_str(sql, " GROUP BY name, k ORDER BY name, k");
}

int chq_operations(store_reader *r, const query_ops_params *p, buf *out) {
    if (p == NULL || p->service == NULL)
        return QUERY_EINVAL;
    int known = 0;
    int rc = svc_known(r, p->service, &known);
    if (rc == QUERY_OK && !known)
        rc = QUERY_ENOTFOUND;
    svc_window win;
    if (rc == QUERY_OK)
        rc = svc_window_of(r, p->has_start, p->start_ns, p->has_end, p->end_ns, &win);
    int64_t stepm = 1;
    if (rc == QUERY_OK) {
        qa_window qw = {(int64_t)win.lo, (int64_t)win.hi, win.seconds};
        rc = qa_step(p->step_ns, &qw, &stepm);
    }
    buf sql, steps, totals;
    buf_init(&sql, 1 << 16);
    buf_init(&steps, SVC_ANSWER_MAX);
    buf_init(&totals, SVC_ANSWER_MAX);
    ch_field *sr = NULL, *tr = NULL;
    size_t ns = 0, nt = 0;
    if (rc == QUERY_OK) {
        svc_ops_sql(r, p, &win, (uint64_t)stepm, 1, &sql);
        rc = chq_run(r, &sql, &steps);
    }
    if (rc == QUERY_OK) {
        buf_reset(&sql);
        svc_ops_sql(r, p, &win, (uint64_t)stepm, 0, &sql);
        rc = chq_run(r, &sql, &totals);
    }
    if (rc == QUERY_OK)
        rc = svc_rows(&steps, 5, &sr, &ns);
    if (rc == QUERY_OK)
        rc = svc_rows(&totals, 5, &tr, &nt);
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        jw_object_begin(&w);
        jw_key(&w, "service");
        jw_string(&w, p->service);
        jw_key(&w, "stepNs");
        jw_uint(&w, (uint64_t)stepm * SVC_MINUTE);
        jw_key(&w, "startTimeUnixNano");
        jw_uint_string(&w, win.lo * SVC_MINUTE);
        jw_key(&w, "endTimeUnixNano");
        jw_uint_string(&w, win.hi * SVC_MINUTE);
        jw_key(&w, "operations");
        jw_array_begin(&w);
        size_t j = 0;
        for (size_t i = 0; i < nt; i++) {
            const ch_field *t = tr + 5 * i;
            uint64_t q[3];
            svc_quantiles(&t[4], q, 3);
            int64_t calls = (int64_t)ch_field_u64(&t[2]), errors = (int64_t)ch_field_u64(&t[3]);
            jw_object_begin(&w);
            jw_key(&w, "name");
            jw_stringn(&w, t[0].ptr, t[0].len);
            jw_key(&w, "calls");
            jw_int(&w, calls);
            jw_key(&w, "errors");
            jw_int(&w, errors);
            jw_key(&w, "rate");
            jw_double(&w, (double)calls / win.seconds);
            jw_key(&w, "errorRate");
            jw_double(&w, calls ? (double)errors / (double)calls : 0.0);
            jw_key(&w, "p50Ns");
            jw_uint(&w, q[0]);
            jw_key(&w, "p95Ns");
            jw_uint(&w, q[1]);
            jw_key(&w, "p99Ns");
            jw_uint(&w, q[2]);
            jw_key(&w, "series");
            jw_array_begin(&w);
            /* both lists are ordered by name: the steps of this one follow */
            for (; j < ns && sr[5 * j].len == t[0].len &&
                   memcmp(sr[5 * j].ptr, t[0].ptr, t[0].len) == 0;
                 j++) {
                const ch_field *s = sr + 5 * j;
                uint64_t sq[3];
                svc_quantiles(&s[4], sq, 3);
                jw_object_begin(&w);
                jw_key(&w, "timeUnixNano");
                jw_uint_string(&w, (win.lo + ch_field_u64(&s[1]) * (uint64_t)stepm) * SVC_MINUTE);
                jw_key(&w, "calls");
                jw_int(&w, (int64_t)ch_field_u64(&s[2]));
                jw_key(&w, "errors");
                jw_int(&w, (int64_t)ch_field_u64(&s[3]));
                jw_key(&w, "p99Ns");
                jw_uint(&w, sq[2]);
                jw_object_end(&w);
            }
            jw_array_end(&w);
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_object_end(&w);
        rc = svc_jw_rc(&w);
    }
    free(sr);
    free(tr);
    buf_free(&sql);
    buf_free(&steps);
    buf_free(&totals);
    return rc;
}
