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
 * folded into buckets in C exactly as series_read.c folds them, with the
 * distribution functions of series_dist.c, so the numbers are the same.
 * (The fold steps below repeat series_read.c's, whose reading is tied to
 * SQLite statements.)
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

#include <jansson.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"
#include "model_json.h"
#include "query_internal.h"
#include "series_internal.h"

#define CHM_ANS_MAX ((size_t)1 << 30)
#define CHM_MAX_SERIES 10000 /* SERIES_MAX_SERIES of query_metrics.c */
#define CHM_AUTO_STEPS 120   /* SERIES_AUTO_STEPS */

/* Runs sql and makes the answer NUL-terminated for ch_tsv_row(). */
static int chm_run(store_reader *r, buf *sql, buf *ans) {
    int rc = chq_run(r, sql, ans);
    if (rc == QUERY_OK && buf_append_char(ans, '\0') != BUF_OK)
        rc = QUERY_ENOMEM;
    if (rc == QUERY_OK)
        ans->len--;
    return rc;
}

/* Where ans's rows start (a buf holds NULL until written). */
static char *chm_rows(buf *ans) {
    return ans->ptr ? ans->ptr : (char *)"";
}

/* ---- series: folding points into buckets (as series_read.c) ----------------------- */

static series_bucket *chm_vec_push(series_vec *v, uint64_t t) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        series_bucket *nb = realloc(v->b, cap * sizeof(*nb));
        if (nb == NULL)
            return NULL;
        v->b = nb;
        v->cap = cap;
    }
    series_bucket *b = &v->b[v->n++];
    memset(b, 0, sizeof(*b));
    b->t = t;
    buf_init(&b->exemplars, 1 << 20);
    return b;
}

/* Appends the elements of a stored exemplar array to b, up to
 * SERIES_MAX_EXEMPLARS (series_bucket_exemplars). */
static void chm_exemplars(series_bucket *b, const char *arr, size_t len) {
    size_t i = 1;
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
        i++;
    }
}

/* One point's contribution (series_contrib). */
typedef struct chm_contrib {
    uint64_t t, start;
    int has_value, is_int;
    double value;
    int64_t ivalue;
    int has_increase;
    double increase;
    uint64_t interval;
    const series_dist *d;
} chm_contrib;

static int chm_fold(const series_ctx *c, series_bucket *b, const chm_contrib *p, const char *ex,
                    size_t exlen) {
    if (p->has_value) {
        if (c->value_adds && b->has_value) {
            b->value += p->value;
            b->ivalue += p->ivalue;
            b->is_int = b->is_int && p->is_int;
        } else if (!b->has_value || p->t >= b->last_t) {
            b->value = p->value;
            b->ivalue = p->ivalue;
            b->is_int = p->is_int;
        }
        b->has_value = 1;
    }
    if (p->has_increase) {
        b->increase = b->has_increase ? b->increase + p->increase : p->increase;
        b->has_increase = 1;
        b->interval_ns += p->interval;
    }
    if (p->d != NULL && p->d->kind != 0 && series_dist_add(&b->dist, p->d, 1) != 0)
        return QUERY_ENOMEM;
    if (p->t >= b->last_t)
        b->last_t = p->t;
    b->nseries = 1;
    chm_exemplars(b, ex, exlen);
    return QUERY_OK;
}

static series_bucket *chm_bucket_for(const series_ctx *c, series_vec *out, uint64_t t) {
    uint64_t bt = c->step ? t / c->step * c->step : t;
    series_bucket *b = out->n > 0 ? &out->b[out->n - 1] : NULL;
    if (b == NULL || b->t != bt || c->step == 0)
        b = chm_vec_push(out, bt);
    return b;
}

/* What the previous point of a series leaves for the next (series_prev). */
typedef struct chm_prev {
    int has, has_value;
    double v;
    uint64_t t, start;
    series_dist d;
} chm_prev;

static void chm_sum_increase(const series_ctx *c, const chm_prev *pv, chm_contrib *p) {
    if (!c->has_rate || !p->has_value)
        return;
    uint64_t t = p->t, start = p->start;
    p->has_increase = 1;
    if (c->temporality == MODEL_TEMPORALITY_DELTA) {
        p->increase = p->value;
        if (start > 0 && start < t)
            p->interval = t - start;
        else if (pv->has && pv->t < t)
            p->interval = t - pv->t;
        return;
    }
    int reset = !pv->has || !pv->has_value || p->value < pv->v ||
                (start != 0 && pv->start != 0 && start != pv->start);
    if (!reset) {
        p->increase = p->value - pv->v;
        p->interval = t > pv->t ? t - pv->t : 0;
        return;
    }
    uint64_t from = pv->has ? pv->t : 0;
    if (start > from && start < t)
        from = start;
    p->increase = p->value;
    p->interval = from > 0 && from < t ? t - from : 0;
}

#define CHM_SKIP 1

static int chm_point_dist(const series_ctx *c, chm_prev *pv, const ch_field *data,
                          series_dist *cur, series_dist *diff, chm_contrib *p) {
    series_dist_free(cur);
    if (data->len == 0 || series_dist_parse(c->type, data->ptr, data->len, cur) != 0)
        return CHM_SKIP;
    if (!c->cumulative) {
        p->d = cur;
        return QUERY_OK;
    }
    int reset = !pv->has || (p->start != 0 && pv->start != 0 && p->start != pv->start);
    series_dist_free(diff);
    if (series_dist_diff(cur, reset ? NULL : &pv->d, diff) != 0)
        return QUERY_ENOMEM;
    p->d = diff;
    series_dist_free(&pv->d);
    if (series_dist_copy(&pv->d, cur) != 0)
        return QUERY_ENOMEM;
    return QUERY_OK;
}

static void chm_prev_set(chm_prev *pv, const chm_contrib *p) {
    pv->t = p->t;
    pv->start = p->start;
    if (p->has_value) {
        pv->v = p->value;
        pv->has_value = 1;
    }
    pv->has = 1;
}

/* One series being read: its state and its buckets. */
typedef struct chm_series {
    uint64_t sk;
    size_t group;
    chm_prev pv;
    series_dist cur, diff;
    series_vec v;
} chm_series;

/* Columns of a point row: sk, time, start_ns, value, is_int, as_int, data,
 * exemplars. */
enum { CHP_SK, CHP_TIME, CHP_START, CHP_VALUE, CHP_IS_INT, CHP_AS_INT, CHP_DATA, CHP_EX, CHP_N };

/* Folds one stored point (row f) into series s (series_read's loop body). */
static int chm_point(series_ctx *c, chm_series *s, ch_field *f) {
    if (++c->points > SERIES_MAX_POINTS)
        return QUERY_ETOOBIG;
    int values = c->type == MODEL_METRIC_GAUGE || c->type == MODEL_METRIC_SUM;
    chm_contrib p;
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
    if (!values)
        p.has_value = 0;
    if (values) {
        chm_sum_increase(c, &s->pv, &p);
    } else {
        int rc = chm_point_dist(c, &s->pv, &f[CHP_DATA], &s->cur, &s->diff, &p);
        if (rc == CHM_SKIP) {
            s->pv.has = 0;
            return QUERY_OK;
        }
        if (rc != QUERY_OK)
            return rc;
    }
    chm_prev_set(&s->pv, &p);
    if (c->has_start && p.t < (uint64_t)c->start)
        return QUERY_OK; /* the window's base point */
    series_bucket *b = chm_bucket_for(c, &s->v, p.t);
    if (b == NULL)
        return QUERY_ENOMEM;
    return chm_fold(c, b, &p, f[CHP_EX].ptr, f[CHP_EX].len);
}

/* ---- series: the plan ------------------------------------------------------------- */

/* A group of the answer (sgroup of query_metrics.c). */
typedef struct chm_group {
    char *key;   /* groupBy values as JSON, or NULL */
    char *attrs; /* without groupBy: the series' attributes */
    char *service, *instance;
    series_vec v;
} chm_group;

typedef struct chm_plan {
    series_ctx c;
    char *unit;
    chm_series *s;
    size_t n;
    chm_group *g;
    size_t ng;
} chm_plan;

static void chm_plan_free(chm_plan *pl) {
    free(pl->unit);
    for (size_t i = 0; i < pl->n; i++) {
        series_dist_free(&pl->s[i].pv.d);
        series_dist_free(&pl->s[i].cur);
        series_dist_free(&pl->s[i].diff);
        series_vec_free(&pl->s[i].v);
    }
    free(pl->s);
    for (size_t i = 0; i < pl->ng; i++) {
        free(pl->g[i].key);
        free(pl->g[i].attrs);
        free(pl->g[i].service);
        free(pl->g[i].instance);
        series_vec_free(&pl->g[i].v);
    }
    free(pl->g);
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

/* A jansson value as the API's JSON (sjw_json of query_metrics.c). */
static void chm_json(jw *w, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        jw_object_begin(w);
        json_object_foreach((json_t *)v, k, e) {
            jw_key(w, k);
            chm_json(w, e);
        }
        jw_object_end(w);
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        jw_array_begin(w);
        json_array_foreach(v, i, e) chm_json(w, e);
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

/* The groupBy values of a series (sgroup_key). */
static char *chm_group_key(const query_series_params *p, const char *attrs, const char *res) {
    json_t *a = json_loads(attrs[0] ? attrs : "{}", 0, NULL);
    json_t *r = json_loads(res[0] ? res : "{}", 0, NULL);
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
            chm_json(&w, v);
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

/* The group of a series: by key (taken on success), or a new one. */
static chm_group *chm_group_get(chm_plan *pl, char *key) {
    for (size_t i = 0; key != NULL && i < pl->ng; i++)
        if (pl->g[i].key != NULL && strcmp(pl->g[i].key, key) == 0) {
            free(key);
            return &pl->g[i];
        }
    chm_group *ng = realloc(pl->g, (pl->ng + 1) * sizeof(*ng));
    if (ng == NULL) {
        free(key);
        return NULL;
    }
    pl->g = ng;
    chm_group *g = &pl->g[pl->ng++];
    memset(g, 0, sizeof(*g));
    g->key = key;
    return g;
}

/* Plan, step 1: the instrument's latest definition. */
static int chm_instrument(store_reader *r, const query_series_params *p, chm_plan *pl, buf *sql,
                          buf *ans) {
    series_ctx *c = &pl->c;
    buf_reset(sql);
    buf_append_str(sql, "SELECT type, temporality, monotonic, unit FROM " CH_POINTS);
    chm_where(r, p, NULL, sql);
    buf_append_str(sql, " ORDER BY time DESC, arrival DESC LIMIT 1");
    int rc = chm_run(r, sql, ans);
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
    int cum = c->temporality == MODEL_TEMPORALITY_CUMULATIVE;
    c->cumulative = cum && (c->type == MODEL_METRIC_HISTOGRAM ||
                            c->type == MODEL_METRIC_EXP_HISTOGRAM ||
                            (c->type == MODEL_METRIC_SUM && c->monotonic));
    c->has_rate = c->type == MODEL_METRIC_SUM && c->monotonic;
    c->value_adds = c->type == MODEL_METRIC_SUM && !cum;
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
    int rc = chm_run(r, sql, ans);
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
        chm_group *g;
        if (p->n_group_by > 0) {
            char *key = chm_group_key(p, f[3].ptr, f[4].ptr);
            g = key ? chm_group_get(pl, key) : NULL;
        } else {
            g = chm_group_get(pl, NULL);
            if (g != NULL) {
                g->attrs = strdup(f[3].len ? f[3].ptr : "{}");
                g->service = strdup(f[1].ptr);
                g->instance = strdup(f[2].ptr);
                if (!g->attrs || !g->service || !g->instance)
                    g = NULL;
            }
        }
        if (g == NULL)
            return QUERY_ENOMEM;
        chm_series *s = &pl->s[pl->n++];
        memset(s, 0, sizeof(*s));
        s->sk = ch_field_u64(&f[0]);
        s->group = (size_t)(g - pl->g);
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
            int rc = chm_run(r, sql, ans);
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
        uint64_t range = hi > lo ? hi - lo : 1;
        uint64_t secs = (range / CHM_AUTO_STEPS + 999999999u) / 1000000000u;
        c->step = (secs ? secs : 1) * 1000000000u;
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
        rc = chm_run(r, sql, ans);
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
        rc = series_vec_merge(&pl->g[pl->s[i].group].v, v);
    }
    if (rc == QUERY_OK && c->step > 0 && tmin <= tmax && (tmax - tmin) / c->step >= QUERY_MAX_STEPS)
        rc = QUERY_EINVAL;
    return rc;
}

/* ---- series: the answer ------------------------------------------------------------- */

static int chm_write(const query_series_params *p, const chm_plan *pl, buf *out) {
    const series_ctx *c = &pl->c;
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "name");
    jw_string(&w, p->name);
    jw_key(&w, "type");
    jw_string(&w, model_metric_type_name((model_metric_type)c->type));
    jw_key(&w, "unit");
    jw_string(&w, pl->unit);
    jw_key(&w, "temporality");
    jw_string(&w, model_temporality_name((model_temporality)c->temporality));
    jw_key(&w, "monotonic");
    jw_bool(&w, c->monotonic);
    jw_key(&w, "stepNs");
    jw_uint(&w, c->step);
    jw_key(&w, "series");
    jw_array_begin(&w);
    for (size_t i = 0; i < pl->ng; i++) {
        const chm_group *g = &pl->g[i];
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
            series_bucket_json(&w, c, &g->v.b[k]);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return query_finish(&w, SQLITE_DONE);
}

int chq_series(store_reader *r, const query_series_params *p, buf *out) {
    if (p == NULL || p->name == NULL || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->n_group_by > QUERY_MAX_GROUP_BY ||
        (p->n_group_by > 0 && p->group_by == NULL))
        return QUERY_EINVAL;
    if (p->has_start && p->has_end && p->end_ns <= p->start_ns)
        return QUERY_EINVAL;
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
    int rc = chm_instrument(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_select(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_step(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_read(r, p, &pl, &sql, &ans);
    if (rc == QUERY_OK)
        rc = chm_write(p, &pl, out);
    chm_plan_free(&pl);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}
