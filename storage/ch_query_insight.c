/* ch_query_insight.c - GET /api/v1/genai and GET /api/v1/lint from
 * ClickHouse: the same answers as query_genai.c and query_lint.c, read
 * from the tables the writer fills (ch_insight.h); see ch_query.h.
 *
 * DESIGN
 * GenAI: genai_calls holds one row per call with its duration's rollup
 * bucket; each list is one GROUP BY (key, step, bucket), so the histogram
 * of a group and step is rebuilt here exactly as SQLite's rollup holds it
 * and the percentiles agree. The lists are then sorted and written by
 * query_genai.c's own functions. The slowest and most expensive calls are
 * the window's top rows by duration and by tokens.
 *
 * Lint: lint_findings summed per (service, rule, key), the newest day's
 * first examples of each (LIMIT 5 BY), and high-cardinality-metric counted
 * now: the distinct attribute sets per metric (resource, scope and name)
 * in points, when over the limit. The findings are sorted and written by
 * query_lint.c's functions. Rules that need a span's parent are not kept
 * with ClickHouse (ch_insight.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "ch_store.h"
#include "genai.h"
#include "lint.h"
#include "query_internal.h"
#include "rollup.h"

#define CQ_SAMPLE_FACTOR 4 /* attribute sets read to name the exploding attribute */

/* Appends " AND date >= <the day of the age limit>", if any. */
static void cq_age_date(const store_reader *r, buf *sql) {
    uint64_t t = chq_min_time(r);
    if (t)
        buf_printf(sql, " AND date >= toDate(toDateTime(%" PRIu64 "))", t / 1000000000u);
}

/* ---- GenAI --------------------------------------------------------------------------- */

/* The window as qa_window_of() makes it, with the spans' first and last
 * start times from ClickHouse when a bound is not given. */
static int cq_window(store_reader *r, const query_genai_params *p, qa_window *w) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (!p->has_start || !p->has_end) {
        buf sql, ans;
        buf_init(&sql, 4096);
        buf_init(&ans, 4096);
        buf_printf(&sql, "SELECT count(), min(time), max(time) FROM %s WHERE 1", CH_SPANS);
        chq_age_cond(r, &sql, "time");
        int rc = chq_run(r, &sql, &ans);
        ch_field f[3];
        char *at = ans.ptr;
        if (rc == QUERY_OK && at && ch_tsv_row(&at, ans.ptr + ans.len, f, 3) == 3 &&
            ch_field_u64(&f[0]) > 0) {
            lo = query_i64(ch_field_u64(&f[1]));
            hi = query_i64(ch_field_u64(&f[2]));
        }
        buf_free(&sql);
        buf_free(&ans);
        if (rc != QUERY_OK)
            return rc;
    }
    int64_t s = p->has_start ? query_i64(p->start_ns) : (lo == INT64_MAX ? 0 : lo);
    int64_t e = p->has_end ? query_i64(p->end_ns) : (hi == INT64_MIN ? 0 : hi + 1);
    int64_t minute = (int64_t)ROLLUP_MINUTE_NS;
    if (e < s)
        e = s;
    w->lo = s / minute;
    w->hi = (e + minute - 1) / minute;
    if (w->hi <= w->lo)
        w->hi = w->lo + 1;
    w->seconds = p->has_start && p->has_end ? (double)(e - s) / 1e9
                                            : (double)(w->hi - w->lo) * 60.0;
    if (w->seconds <= 0)
        w->seconds = 60.0;
    return QUERY_OK;
}

/* " WHERE time >= .. AND time < .." of the window's minutes. */
static void cq_window_cond(const store_reader *r, buf *sql, const qa_window *w) {
    buf_printf(sql, " WHERE time >= %" PRIu64 " AND time < %" PRIu64,
               (uint64_t)w->lo * (uint64_t)ROLLUP_MINUTE_NS,
               (uint64_t)w->hi * (uint64_t)ROLLUP_MINUTE_NS);
    chq_age_cond(r, sql, "time");
}

/* The key columns of a list in genai_calls, as a and b (b "" when it has
 * one key). */
static const char *cq_keys(const qg_by *by, int *two) {
    *two = by == &qg_models;
    if (by == &qg_models)
        return "provider AS a, model AS b";
    if (by == &qg_services)
        return "service AS a, '' AS b";
    if (by == &qg_operations)
        return "operation AS a, '' AS b";
    return "'' AS a, '' AS b";
}

/* One step of one group: summed over its rows (one per bucket). */
typedef struct cq_step {
    size_t group; /* index + 1 in the groups; 0 = none yet */
    int64_t k, calls, errors, in, out;
    rollup_hist h;
} cq_step;

static int cq_step_flush(cq_step *st, qg_groups *g, const qg_by *by, const qa_window *w,
                         int64_t stepm) {
    if (st->group == 0)
        return QUERY_OK;
    uint64_t t = (uint64_t)(w->lo + st->k * stepm) * ROLLUP_MINUTE_NS;
    int rc = qg_group_add(&g->v[st->group - 1], by, t, st->calls, st->errors, st->in, st->out,
                          &st->h);
    memset(st, 0, sizeof(*st));
    return rc;
}

/* The groups of `by` over window w in steps of stepm minutes. */
static int cq_collect(store_reader *r, const qa_window *w, int64_t stepm, const qg_by *by,
                      qg_groups *g) {
    int two;
    const char *keys = cq_keys(by, &two);
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, (size_t)256 << 20);
    buf_printf(&sql, "SELECT a, b, k, bucket, count(), sum(error), sum(input_tokens),"
                     " sum(output_tokens) FROM (SELECT %s", keys);
    if (by->series)
        buf_printf(&sql, ", intDiv(toInt64(intDiv(time, %" PRIu64 ")) - %" PRId64 ", %" PRId64
                         ") AS k",
                   (uint64_t)ROLLUP_MINUTE_NS, w->lo, stepm);
    else
        buf_append_str(&sql, ", toInt64(0) AS k");
    buf_printf(&sql, ", bucket, error, input_tokens, output_tokens FROM %s", CH_GENAI);
    cq_window_cond(r, &sql, w);
    buf_append_str(&sql, ") GROUP BY a, b, k, bucket ORDER BY a, b, k");
    int rc = chq_run(r, &sql, &ans);
    cq_step *st = calloc(1, sizeof(*st));
    if (rc == QUERY_OK && st == NULL)
        rc = QUERY_ENOMEM;
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[8];
    while (rc == QUERY_OK && at != NULL && at < end && ch_tsv_row(&at, end, f, 8) == 8) {
        size_t before = g->n;
        qg_group *x = qg_group_at(g, f[0].ptr, two ? f[1].ptr : NULL);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        size_t gi = (size_t)(x - g->v) + 1;
        int64_t k = ch_field_i64(&f[2]);
        if (g->n != before || st->group != gi || st->k != k) {
            rc = cq_step_flush(st, g, by, w, stepm);
            st->group = gi;
            st->k = k;
        }
        int b = (int)ch_field_u64(&f[3]);
        uint64_t n = ch_field_u64(&f[4]);
        if (b >= 0 && b < ROLLUP_BUCKETS)
            st->h.n[b] += n;
        st->calls += (int64_t)n;
        st->errors += ch_field_i64(&f[5]);
        st->in += ch_field_i64(&f[6]);
        st->out += ch_field_i64(&f[7]);
    }
    if (rc == QUERY_OK && st != NULL)
        rc = cq_step_flush(st, g, by, w, stepm);
    free(st);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* "name": the window's GENAI_TOP_PER_MINUTE best calls by duration
 * (tokens = 0) or by input + output tokens, best first. */
static int cq_top(store_reader *r, const qa_window *win, int tokens, const char *name, jw *w) {
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, (size_t)16 << 20);
    buf_printf(&sql,
               "SELECT lower(hex(trace_id)), lower(hex(span_id)), service, name, provider, model,"
               " operation, time, duration, input_tokens, output_tokens, error FROM %s",
               CH_GENAI);
    cq_window_cond(r, &sql, win);
    if (tokens)
        buf_append_str(&sql, " AND input_tokens + output_tokens > 0"
                             " ORDER BY input_tokens + output_tokens DESC, time DESC");
    else
        buf_append_str(&sql, " ORDER BY duration DESC, time DESC");
    buf_printf(&sql, " LIMIT %d", GENAI_TOP_PER_MINUTE);
    int rc = chq_run(r, &sql, &ans);
    if (rc == QUERY_OK) {
        jw_key(w, name);
        jw_array_begin(w);
        char *at = ans.ptr, *end = ans.ptr + ans.len;
        ch_field f[12];
        while (at != NULL && at < end && ch_tsv_row(&at, end, f, 12) == 12) {
            jw_object_begin(w);
            jw_key(w, "traceId");
            jw_stringn(w, f[0].ptr, f[0].len);
            jw_key(w, "spanId");
            jw_stringn(w, f[1].ptr, f[1].len);
            static const char *const texts[] = {"service", "name", "provider", "model",
                                                "operation"};
            for (int i = 0; i < 5; i++) {
                jw_key(w, texts[i]);
                jw_stringn(w, f[2 + i].ptr, f[2 + i].len);
            }
            jw_key(w, "startTimeUnixNano");
            jw_uint_string(w, ch_field_u64(&f[7]));
            jw_key(w, "durationNs");
            jw_uint(w, ch_field_u64(&f[8]));
            jw_key(w, "inputTokens");
            jw_int(w, ch_field_i64(&f[9]));
            jw_key(w, "outputTokens");
            jw_int(w, ch_field_i64(&f[10]));
            jw_key(w, "error");
            jw_bool(w, ch_field_u64(&f[11]) != 0);
            jw_object_end(w);
        }
        jw_array_end(w);
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* A list (or the totals) of the answer. */
static int cq_list(store_reader *r, const qa_window *win, int64_t stepm, const qg_by *by,
                   jw *w) {
    qg_groups g = {0};
    int rc = cq_collect(r, win, stepm, by, &g);
    if (rc == QUERY_OK && by == &qg_totals)
        qg_totals_emit(w, &g, win->seconds);
    else if (rc == QUERY_OK)
        qg_list_write(w, by, &g, win->seconds);
    qg_groups_free(&g);
    return rc;
}

int chq_genai(store_reader *r, const query_genai_params *p, buf *out) {
    qa_window win;
    int64_t stepm = 1;
    int rc = cq_window(r, p, &win);
    if (rc == QUERY_OK)
        rc = qa_step(p->step_ns, &win, &stepm);
    if (rc != QUERY_OK)
        return rc;
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    qg_head_write(&w, &win, stepm);
    rc = cq_list(r, &win, stepm, &qg_totals, &w);
    if (rc == QUERY_OK)
        rc = cq_list(r, &win, stepm, &qg_models, &w);
    if (rc == QUERY_OK)
        rc = cq_list(r, &win, stepm, &qg_services, &w);
    if (rc == QUERY_OK)
        rc = cq_list(r, &win, stepm, &qg_operations, &w);
    if (rc == QUERY_OK)
        rc = cq_top(r, &win, 0, "slowest", &w);
    if (rc == QUERY_OK)
        rc = cq_top(r, &win, 1, "mostExpensive", &w);
    jw_object_end(&w);
    if (rc == QUERY_OK && jw_error(&w))
        rc = jw_error(&w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    return rc;
}

/* ---- the lint ------------------------------------------------------------------------- */

/* The finding of (rule, service name, key), the service given an id by its
 * name (the same id for the same name). */
static ql_finding *cq_finding(ql_state *s, int rule, const char *service, const char *key) {
    int64_t sid = 0, max = 0;
    for (size_t i = 0; i < s->n && sid == 0; i++) {
        if (strcmp(s->v[i].service_name, service) == 0)
            sid = s->v[i].service;
        if (s->v[i].service > max)
            max = s->v[i].service;
    }
    size_t n = s->n;
    ql_finding *f = ql_get(s, rule, sid ? sid : max + 1, key);
    if (f == NULL)
        return NULL;
    if (s->n != n) { /* new: its service's name */
        s->names[s->n - 1] = strdup(service);
        if (s->names[s->n - 1] == NULL) {
            f->service_name = "";
            return NULL;
        }
        f->service_name = s->names[s->n - 1];
    }
    return f;
}

/* The finding of (rule, service name, key) if there is one. */
static ql_finding *cq_finding_find(ql_state *s, int rule, const char *service, const char *key) {
    for (size_t i = 0; i < s->n; i++) {
        ql_finding *f = &s->v[i];
        if (f->rule == rule && strcmp(f->service_name, service) == 0 && strcmp(f->key, key) == 0)
            return f;
    }
    return NULL;
}

/* " AND service = '...'" when a service is asked for. */
static void cq_service_cond(buf *sql, const char *service) {
    if (service == NULL)
        return;
    buf_append_str(sql, " AND service = ");
    ch_sql_quote_str(sql, service);
}

/* Whether any item of service is stored. */
static int cq_service_known(store_reader *r, const char *service, int *known) {
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, 4096);
    buf_append_str(&sql, "SELECT count() FROM (");
    static const char *const tables[] = {CH_SPANS, CH_LOGS, CH_POINTS};
    for (int i = 0; i < 3; i++) {
        buf_printf(&sql, "%sSELECT 1 FROM %s WHERE 1", i ? " UNION ALL " : "", tables[i]);
        cq_service_cond(&sql, service);
        buf_append_str(&sql, " LIMIT 1");
    }
    buf_append_char(&sql, ')');
    int rc = chq_run(r, &sql, &ans);
    *known = rc == QUERY_OK && ans.len > 0 && strtoull(ans.ptr, NULL, 10) > 0;
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* The sums of lint_findings. */
static int cq_findings(store_reader *r, const char *service, ql_state *s) {
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, (size_t)64 << 20);
    buf_printf(&sql,
               "SELECT service, rule, key, sum(count), minMerge(first), maxMerge(last),"
               " argMaxMerge(note) FROM %s WHERE 1",
               CH_LINT);
    cq_service_cond(&sql, service);
    cq_age_date(r, &sql);
    buf_append_str(&sql, " GROUP BY service, rule, key ORDER BY service, rule, key");
    int rc = chq_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[7];
    while (rc == QUERY_OK && at != NULL && at < end && ch_tsv_row(&at, end, f, 7) == 7) {
        ql_finding *x = cq_finding(s, (int)ch_field_u64(&f[1]), f[0].ptr, f[2].ptr);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        x->count = ch_field_i64(&f[3]);
        x->first = ch_field_i64(&f[4]);
        x->last = ch_field_i64(&f[5]);
        if (f[6].len > 0 && (x->note = strdup(f[6].ptr)) == NULL)
            rc = QUERY_ENOMEM;
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* Copies a hex id of exactly n digits (else "") into out. */
static void cq_hex(const ch_field *f, size_t n, char *out) {
    out[0] = '\0';
    if (f->len == n)
        memcpy(out, f->ptr, n + 1);
}

/* Each finding's first examples of its newest day. */
static int cq_examples(store_reader *r, const char *service, ql_state *s) {
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, (size_t)64 << 20);
    buf_printf(&sql,
               "SELECT service, rule, key, signal, trace, span, metric, time FROM %s"
               " WHERE NOT (signal = 0 AND (length(trace) != 32 OR length(span) != 16))",
               CH_LINT_EXAMPLES);
    cq_service_cond(&sql, service);
    cq_age_date(r, &sql);
    buf_printf(&sql, " ORDER BY service, rule, key, date DESC, arrival, seq LIMIT %d BY service,"
                     " rule, key",
               QL_EXAMPLES);
    int rc = chq_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[8];
    while (rc == QUERY_OK && at != NULL && at < end && ch_tsv_row(&at, end, f, 8) == 8) {
        int sig = (int)ch_field_u64(&f[3]);
        ql_finding *x = cq_finding_find(s, (int)ch_field_u64(&f[1]), f[0].ptr, f[2].ptr);
        if (x == NULL || sig < 0 || sig >= MODEL_SIGNAL_COUNT || x->n_ex == QL_EXAMPLES)
            continue;
        ql_example *e = &x->ex[x->n_ex];
        memset(e, 0, sizeof(*e));
        e->signal = sig;
        cq_hex(&f[4], 32, e->trace);
        cq_hex(&f[5], 16, e->span);
        if (sig == MODEL_SIGNAL_METRICS && (e->metric = strdup(f[6].ptr)) == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        e->time = ch_field_u64(&f[7]);
        x->n_ex++;
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* " FROM points WHERE service = .. AND name = .." of one metric. */
static void cq_metric_from(buf *sql, const char *service, const char *metric) {
    buf_printf(sql, " FROM %s WHERE service = ", CH_POINTS);
    ch_sql_quote_str(sql, service);
    buf_append_str(sql, " AND name = ");
    ch_sql_quote_str(sql, metric);
}

/* The note and examples of a metric over the limit: the attribute with the
 * most distinct values among its latest attribute sets, and its latest
 * points. */
static int cq_cardinality_detail(store_reader *r, ql_finding *x, const char *service,
                                 uint64_t limit) {
    buf sql, ans;
    buf_init(&sql, 1 << 16);
    buf_init(&ans, 1 << 20);
    uint64_t sample = CQ_SAMPLE_FACTOR * limit;
    /* the latest sets: by when each was first seen */
    buf sets;
    buf_init(&sets, 1 << 16);
    buf_append_str(&sets, "(SELECT attrs, any(attr_keys) AS ks, any(attr_values) AS vs");
    cq_metric_from(&sets, service, x->key);
    chq_age_cond(r, &sets, "time");
    buf_printf(&sets, " GROUP BY attrs ORDER BY min(arrival) DESC, attrs LIMIT %" PRIu64 ")",
               sample);
    buf_printf(&sql, "SELECT k, uniqExact(v), (SELECT count() FROM %s) FROM %s"
                     " ARRAY JOIN ks AS k, vs AS v GROUP BY k ORDER BY uniqExact(v) DESC, k"
                     " LIMIT 1",
               sets.ptr, sets.ptr);
    int rc = chq_run(r, &sql, &ans);
    ch_field f[3];
    char *at = ans.ptr;
    if (rc == QUERY_OK && at != NULL && ch_tsv_row(&at, ans.ptr + ans.len, f, 3) == 3) {
        char note[240];
        snprintf(note, sizeof(note),
                 "%.150s has %lld distinct values in the latest %lld attribute sets", f[0].ptr,
                 (long long)ch_field_i64(&f[1]), (long long)ch_field_i64(&f[2]));
        if ((x->note = strdup(note)) == NULL)
            rc = QUERY_ENOMEM;
    }
    buf_reset(&sql);
    buf_append_str(&sql, "SELECT time");
    cq_metric_from(&sql, service, x->key);
    chq_age_cond(r, &sql, "time");
    buf_printf(&sql, " ORDER BY time DESC LIMIT %d", QL_EXAMPLES);
    if (rc == QUERY_OK)
        rc = chq_run(r, &sql, &ans);
    at = ans.ptr;
    while (rc == QUERY_OK && at != NULL && at < ans.ptr + ans.len && x->n_ex < QL_EXAMPLES &&
           ch_tsv_row(&at, ans.ptr + ans.len, f, 1) == 1) {
        ql_example *e = &x->ex[x->n_ex];
        memset(e, 0, sizeof(*e));
        e->signal = MODEL_SIGNAL_METRICS;
        e->time = ch_field_u64(&f[0]);
        if ((e->metric = strdup(x->key)) == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        x->n_ex++;
    }
    buf_free(&sets);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* high-cardinality-metric: the metrics (per resource, scope and name) with
 * more attribute sets than the limit, the largest count per service and
 * name. */
static int cq_cardinality(store_reader *r, const char *service, ql_state *s) {
    uint64_t limit = ch_store_lint_max_series(r->chs);
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, (size_t)16 << 20);
    buf_printf(&sql,
               "SELECT service, name, max(n), min(a0), max(a1) FROM (SELECT service, name,"
               " uniqExact(attrs) AS n, min(arrival) AS a0, max(arrival) AS a1 FROM %s WHERE 1",
               CH_POINTS);
    cq_service_cond(&sql, service);
    chq_age_cond(r, &sql, "time");
    buf_printf(&sql,
               " GROUP BY service, res_attrs, scope_name, scope_version, scope_attrs, name)"
               " GROUP BY service, name HAVING max(n) > %" PRIu64 " ORDER BY service, name",
               limit);
    int rc = chq_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[5];
    while (rc == QUERY_OK && at != NULL && at < end && ch_tsv_row(&at, end, f, 5) == 5) {
        ql_finding *x = cq_finding(s, LINT_HIGH_CARDINALITY, f[0].ptr, f[1].ptr);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        x->count = ch_field_i64(&f[2]);
        x->first = ch_field_i64(&f[3]);
        x->last = ch_field_i64(&f[4]);
        rc = cq_cardinality_detail(r, x, f[0].ptr, limit);
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

int chq_lint(store_reader *r, const char *service, buf *out) {
    int rc = QUERY_OK;
    if (service != NULL) {
        int known = 0;
        rc = cq_service_known(r, service, &known);
        if (rc == QUERY_OK && !known)
            rc = QUERY_ENOTFOUND;
    }
    ql_state s;
    memset(&s, 0, sizeof(s));
    if (rc == QUERY_OK)
        rc = cq_findings(r, service, &s);
    if (rc == QUERY_OK)
        rc = cq_examples(r, service, &s);
    if (rc == QUERY_OK && !ch_store_lint_off(r->chs))
        rc = cq_cardinality(r, service, &s);
    if (rc == QUERY_OK) {
        ql_sort(&s);
        rc = ql_write(r, &s, out);
    }
    ql_free(&s);
    return rc;
}
