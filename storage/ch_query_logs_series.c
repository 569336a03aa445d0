/* ch_query_logs_series.c - GET /api/v1/metrics/{name}/series from
 * ClickHouse (the twin of query_series in query_metrics.c); see ch_query.h
 * and, for the metrics list, ch_query_logs_metrics.c.
 *
 * DESIGN
 * A series is the points of one resource, scope, name and attribute set,
 * named by a hash of those (sk); the instrument's definition is its latest
 * point's (ch_query_logs_metrics.c finds instruments the same way).
 * A series answer is planned as the SQLite store plans it (the instrument,
 * its series in a stable order, the step), then the points are read in two
 * queries -- for running totals the last point of each series before the
 * window, then every point in the window ordered by series and time -- and
 * folded into buckets in C by series_read.c's series_point_add, with the
 * distribution functions of series_dist.c, so the numbers are the same;
 * groups and the answer are series_group.c's, as for the SQLite store.
 *
 * Differences: series are ordered by service, instance, then first
 * arrival and attributes, where the SQLite store uses its series ids
 * (first seen); two series first seen in one batch may come in another
 * order. Points of one series with the same time come in arrival order
 * (the SQLite store: row order), which differs only inside one batch.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"
#include "query_internal.h"
#include "series_internal.h"

#define CHM_ANS_MAX ((size_t)1 << 30)
#define CHM_MAX_SERIES 10000 /* SERIES_MAX_SERIES of query_metrics.c */
#define CHM_AUTO_STEPS 120   /* SERIES_AUTO_STEPS */

/* Where ans's rows start (a buf holds NULL until written). */
static char *chm_rows(buf *ans) {
    return ans->ptr ? ans->ptr : (char *)"";
}

/* One series being read: its state and its buckets. */
typedef struct chm_series {
    uint64_t sk;
    size_t group;
    series_state st;
    series_vec v;
} chm_series;

/* Columns of a point row: sk, time, start_ns, value, is_int, as_int, data,
 * exemplars. */
enum { CHP_SK, CHP_TIME, CHP_START, CHP_VALUE, CHP_IS_INT, CHP_AS_INT, CHP_DATA, CHP_EX, CHP_N };

/* Folds one stored point (row f) into series s (series_read's loop body). */
static int chm_point(series_ctx *c, chm_series *s, ch_field *f) {
    series_contrib p;
    memset(&p, 0, sizeof(p));
    p.t = ch_field_u64(&f[CHP_TIME]);
    p.start = ch_field_u64(&f[CHP_START]);
    p.is_int = ch_field_u64(&f[CHP_IS_INT]) != 0;
    if (p.is_int) {
        p.ivalue = ch_field_i64(&f[CHP_AS_INT]);
        p.value = (double)p.ivalue;
        p.has_value = 1;
    } else {
        p.value = ch_field_double(&f[CHP_VALUE]);
        p.has_value = !isnan(p.value); /* the SQLite store keeps NaN as NULL */
    }
    return series_point_add(c, &s->st, &p, f[CHP_DATA].ptr, f[CHP_DATA].len, f[CHP_EX].ptr,
                            f[CHP_EX].len, &s->v);
}

/* ---- series: the plan ------------------------------------------------------------- */

typedef struct chm_plan {
    series_ctx c;
    char *unit;
    chm_series *s;
    size_t n;
    series_groups gs;
} chm_plan;

static void chm_plan_free(chm_plan *pl) {
    free(pl->unit);
    for (size_t i = 0; i < pl->n; i++) {
        series_state_free(&pl->s[i].st);
        series_vec_free(&pl->s[i].v);
    }
    free(pl->s);
    series_groups_free(&pl->gs);
}

/* The series identity (a hash) of a points row. */
#define CHM_SK                                                                                     \
    "cityHash64(service, instance, res_attrs, res_schema_url, res_dropped, scope_name,"            \
    " scope_version, scope_attrs, attrs)"

/* The conditions that pick the instrument's points (without the window):
 * c NULL for the instrument itself (name and service only, as the SQLite
 * store looks it up), else its series' points. */
static void chm_where(const store_reader *r, const query_series_params *p, const series_ctx *c,
                      buf *sql) {
    buf_append_str(sql, " WHERE name = ");
    ch_sql_quote_str(sql, p->name);
    if (p->service) {
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, p->service);
    }
    if (c != NULL)
        buf_printf(sql, " AND type = %d AND temporality = %d AND monotonic = %d", c->type,
                   c->temporality, c->monotonic);
    chq_age_cond(r, sql, "time");
    for (size_t i = 0; c != NULL && i < p->n_attrs; i++) {
        buf_append_str(sql, " AND ");
        chq_attr_cond(sql, &p->attrs[i]);
    }
}

/* The window's given ends. */
static void chm_window(const query_series_params *p, buf *sql) {
    if (p->has_start)
        buf_printf(sql, " AND time >= %" PRIu64, p->start_ns);
    if (p->has_end)
        buf_printf(sql, " AND time < %" PRIu64, p->end_ns);
}

/* Plan, step 1: the instrument's latest definition. */
static int chm_instrument(store_reader *r, const query_series_params *p, chm_plan *pl, buf *sql,
                          buf *ans) {
    series_ctx *c = &pl->c;
    buf_reset(sql);
    buf_append_str(sql, "SELECT type, temporality, monotonic, unit FROM " CH_POINTS);
    chm_where(r, p, NULL, sql);
    buf_append_str(sql, " ORDER BY time DESC, arrival DESC LIMIT 1");
    int rc = chq_run_text(r, sql, ans);
    if (rc != QUERY_OK)
        return rc;
    char *at = chm_rows(ans);
    ch_field f[4];
    if (ch_tsv_row(&at, at + ans->len, f, 4) != 4)
        return ans->len == 0 ? QUERY_ENOTFOUND : QUERY_EDB;
    c->type = (int)ch_field_u64(&f[0]);
    c->temporality = (int)ch_field_u64(&f[1]);
    c->monotonic = (int)ch_field_u64(&f[2]);
    pl->unit = strdup(f[3].ptr);
    if (pl->unit == NULL)
        return QUERY_ENOMEM;
    series_ctx_combine(c);
    return QUERY_OK;
}

/* Plan, step 2: the series that pass the filters, in a stable order. */
static int chm_select(store_reader *r, const query_series_params *p, chm_plan *pl, buf *sql,
                      buf *ans) {
    buf_reset(sql);
    buf_append_str(sql, "SELECT " CHM_SK " AS sk, any(service), any(instance), any(attrs),"
                        " any(res_attrs), min(arrival) AS first FROM " CH_POINTS);
    chm_where(r, p, &pl->c, sql);
    buf_printf(sql, " GROUP BY sk ORDER BY any(service), any(instance), first, any(attrs), sk"
                    " LIMIT %d",
               CHM_MAX_SERIES + 1);
    int rc = chq_run_text(r, sql, ans);
    if (rc != QUERY_OK)
        return rc;
    char *at = chm_rows(ans), *end = at + ans->len;
    ch_field f[6];
    int n;
    size_t cap = 0;
    while ((n = ch_tsv_row(&at, end, f, 6)) > 0) {
        if (n != 6)
            return QUERY_EDB;
        if (pl->n == CHM_MAX_SERIES)
            return QUERY_ETOOBIG;
        if (pl->n == cap) {
            cap = cap ? 2 * cap : 16;
            chm_series *ns = realloc(pl->s, cap * sizeof(*ns));
            if (ns == NULL)
                return QUERY_ENOMEM;
            pl->s = ns;
        }
        const char *attrs = f[3].len ? f[3].ptr : "{}";
        long g = series_groups_join(&pl->gs, p, attrs, f[4].ptr, f[1].ptr, f[2].ptr);
        if (g < 0)
            return QUERY_ENOMEM;
        chm_series *s = &pl->s[pl->n++];
        memset(s, 0, sizeof(*s));
        s->sk = ch_field_u64(&f[0]);
        s->group = (size_t)g;
    }
    return QUERY_OK;
}

/* Plan, step 3: the step (series_step). */
static int chm_step(store_reader *r, const query_series_params *p, chm_plan *pl, buf *sql,
                    buf *ans) {
    series_ctx *c = &pl->c;
    c->step = p->step_ns;
    if (c->step == 0 && p->n_group_by > 0 && pl->n > 0) {
        uint64_t lo = p->start_ns, hi = p->end_ns;
        if (!p->has_start || !p->has_end) {
            buf_reset(sql);
            buf_append_str(sql, "SELECT min(time), max(time), count() FROM " CH_POINTS);
            chm_where(r, p, c, sql);
            chm_window(p, sql);
            int rc = chq_run_text(r, sql, ans);
            if (rc != QUERY_OK)
                return rc;
            char *at = chm_rows(ans);
            ch_field f[3];
            if (ch_tsv_row(&at, at + ans->len, f, 3) == 3) {
                int any = ch_field_u64(&f[2]) > 0; /* min() of nothing is 0, as SQLite's NULL */
                if (!p->has_start)
                    lo = any ? ch_field_u64(&f[0]) : 0;
                if (!p->has_end)
                    hi = (any ? ch_field_u64(&f[1]) : 0) + 1;
            }
        }
        c->step = series_auto_step(lo, hi, CHM_AUTO_STEPS);
    }
    if (c->step > 0 && p->has_start && p->has_end &&
        (p->end_ns - 1) / c->step - p->start_ns / c->step + 1 > QUERY_MAX_STEPS)
        return QUERY_EINVAL;
    return QUERY_OK;
}

/* ---- series: reading --------------------------------------------------------------- */

static int chm_sk_cmp(const void *a, const void *b) {
    uint64_t x = ((const chm_series *const *)a)[0]->sk, y = ((const chm_series *const *)b)[0]->sk;
    return x < y ? -1 : x > y;
}

static chm_series *chm_find(chm_series **by_sk, size_t n, uint64_t sk) {
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (by_sk[m]->sk < sk)
            a = m + 1;
        else
            b = m;
    }
    return a < n && by_sk[a]->sk == sk ? by_sk[a] : NULL;
}

#define CHM_POINT_COLS                                                                             \
    "time, start_ns, value, is_int, as_int, data, exemplars"

/* Reads the points (base points first for running totals) into each
 * series' buckets. */
static int chm_read(store_reader *r, const query_series_params *p, chm_plan *pl, buf *sql,
                    buf *ans) {
    series_ctx *c = &pl->c;
    chm_series **by_sk = malloc((pl->n ? pl->n : 1) * sizeof(*by_sk));
    if (by_sk == NULL)
        return QUERY_ENOMEM;
    for (size_t i = 0; i < pl->n; i++)
        by_sk[i] = &pl->s[i];
    if (pl->n > 1)
        qsort(by_sk, pl->n, sizeof(*by_sk), chm_sk_cmp);
    int rc = QUERY_OK;
    for (int pass = c->cumulative && c->has_start ? 0 : 1; rc == QUERY_OK && pass < 2; pass++) {
        buf_reset(sql);
        if (pass == 0) {
            /* the last point of each series before the window */
            buf_append_str(sql, "SELECT " CHM_SK " AS sk, " CHM_POINT_COLS " FROM " CH_POINTS);
            chm_where(r, p, c, sql);
            buf_printf(sql, " AND time < %" PRId64 " ORDER BY sk, time DESC, arrival DESC"
                            " LIMIT 1 BY sk",
                       c->start);
        } else {
            buf_append_str(sql, "SELECT " CHM_SK " AS sk, " CHM_POINT_COLS " FROM " CH_POINTS);
            chm_where(r, p, c, sql);
            chm_window(p, sql);
            /* one more than an answer may read: chm_point() refuses it */
            buf_printf(sql, " ORDER BY sk, time, arrival LIMIT %d", SERIES_MAX_POINTS + 1);
        }
        rc = chq_run_text(r, sql, ans);
        char *at = chm_rows(ans), *end = at + ans->len;
        ch_field f[CHP_N];
        int n;
        while (rc == QUERY_OK && (n = ch_tsv_row(&at, end, f, CHP_N)) > 0) {
            if (n != CHP_N) {
                rc = QUERY_EDB;
                break;
            }
            chm_series *s = chm_find(by_sk, pl->n, ch_field_u64(&f[CHP_SK]));
            if (s != NULL)
                rc = chm_point(c, s, f);
        }
    }
    free(by_sk);
    /* each series' buckets into its group's */
    uint64_t tmin = UINT64_MAX, tmax = 0;
    for (size_t i = 0; rc == QUERY_OK && i < pl->n; i++) {
        series_vec *v = &pl->s[i].v;
        if (v->n > 0) {
            if (v->b[0].t < tmin)
                tmin = v->b[0].t;
            if (v->b[v->n - 1].t > tmax)
                tmax = v->b[v->n - 1].t;
        }
        rc = series_vec_merge(&pl->gs.g[pl->s[i].group].v, v);
    }
    if (rc == QUERY_OK && c->step > 0 && tmin <= tmax && (tmax - tmin) / c->step >= QUERY_MAX_STEPS)
        rc = QUERY_EINVAL;
    return rc;
}

int chq_series(store_reader *r, const query_series_params *p, buf *out) {
    int rc = series_params_check(p);
    if (rc != QUERY_OK)
        return rc;
    chm_plan pl;
    memset(&pl, 0, sizeof(pl));
    series_ctx *c = &pl.c;
    c->has_start = p->has_start;
    c->has_end = p->has_end;
    c->start = p->start_ns > INT64_MAX ? INT64_MAX : (int64_t)p->start_ns;
    c->end = p->end_ns > INT64_MAX ? INT64_MAX : (int64_t)p->end_ns;
    buf sql, ans;
    buf_init(&sql, 1 << 20);
    buf_init(&ans, CHM_ANS_MAX);
    rc = chm_instrument(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_select(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_step(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_read(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = series_answer_write(p, &pl.c, pl.unit, &pl.gs, 0, out);
    chm_plan_free(&pl);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}
