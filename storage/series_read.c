/* series_read.c - one series' points read in time order and folded into
 * buckets, buckets of several series merged, a bucket written as JSON; see
 * series_internal.h and the DESIGN comment of query_metrics.c.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_json.h"
#include "query_internal.h"
#include "series_internal.h"

/* ---- buckets ------------------------------------------------------------------ */

static void series_bucket_free(series_bucket *b) {
    series_dist_free(&b->dist);
    buf_free(&b->exemplars);
}

void series_vec_free(series_vec *v) {
    for (size_t i = 0; i < v->n; i++)
        series_bucket_free(&v->b[i]);
    free(v->b);
    memset(v, 0, sizeof(*v));
}

static series_bucket *series_vec_push(series_vec *v, uint64_t t) {
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

/* Appends the elements of a stored exemplar array (trusted JSON made by
 * model_json_exemplars) to b, up to SERIES_MAX_EXEMPLARS. */
static void series_bucket_exemplars(series_bucket *b, const char *arr, size_t len) {
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

/* Folds contribution p into bucket b (the series' last). */
static int series_fold(const series_ctx *c, series_bucket *b, const series_contrib *p,
                       const char *ex, size_t exlen) {
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
    series_bucket_exemplars(b, ex, exlen);
    return QUERY_OK;
}

/* The bucket a point at time t falls into: the series' last one, or a new
 * one (every point its own without a step). NULL when out of memory. */
static series_bucket *series_bucket_for(const series_ctx *c, series_vec *out, uint64_t t) {
    uint64_t bt = c->step ? t / c->step * c->step : t;
    series_bucket *b = out->n > 0 ? &out->b[out->n - 1] : NULL;
    if (b == NULL || b->t != bt || c->step == 0)
        b = series_vec_push(out, bt);
    return b;
}

/* ---- reading one series ------------------------------------------------------- */

/* The points of one series in time order. For running totals, the last
 * point before the window is the base of the first difference: it is read
 * first (and not answered). */
typedef struct series_arm {
    int64_t series;
    const series_ctx *c;
    int before; /* the base point: times before the window */
} series_arm;

static void series_arm_cond(qsql *q, const void *ctx) {
    const series_arm *a = ctx;
    qsql_add(q, " AND series=");
    qsql_int(q, a->series);
    if (a->before) {
        qsql_add(q, " AND time_ns<");
        qsql_int(q, a->c->start);
    } else {
        qsql_time_range(q, "time_ns", a->c->has_start, a->c->start, a->c->has_end, a->c->end);
    }
}

static void series_read_sql(qsql *q, store_reader *r, const series_ctx *c, int64_t series) {
    static const char cols[] = "time_ns, start_ns, value, is_int, data, exemplars";
    int base = c->cumulative && c->has_start;
    series_arm arm = {series, c, 1};
    if (base) {
        qsql_add(q, "SELECT * FROM (SELECT time_ns, start_ns, value, is_int, data, exemplars"
                    " FROM ");
        qsql_points_from(q, r, cols, 0, 0, 1, c->start, series_arm_cond, &arm);
        qsql_add(q, " ORDER BY time_ns DESC, gid DESC LIMIT 1) UNION ALL SELECT * FROM (");
    }
    arm.before = 0;
    qsql_add(q, "SELECT time_ns, start_ns, value, is_int, data, exemplars FROM ");
    qsql_points_from(q, r, cols, c->has_start, c->start, c->has_end, c->end, series_arm_cond,
                     &arm);
    qsql_add(q, " ORDER BY time_ns, gid");
    if (base)
        qsql_add(q, ")");
}

/* A row's time, start and value into p. */
static void series_point_columns(sqlite3_stmt *st, series_contrib *p) {
    memset(p, 0, sizeof(*p));
    p->t = query_u64(st, 0);
    p->start = query_u64(st, 1);
    p->has_value = sqlite3_column_type(st, 2) != SQLITE_NULL;
    p->is_int = sqlite3_column_int(st, 3) != 0;
    p->ivalue = sqlite3_column_int64(st, 2);
    p->value = p->is_int ? (double)p->ivalue : sqlite3_column_double(st, 2);
}

/* The increase of a monotonic sum's point, for rates. Delta: the value,
 * over its own interval. Cumulative: the growth since the previous point;
 * a lower value or a new start time is a reset, and the first point and
 * the first after a reset count from 0. */
static void series_sum_increase(const series_ctx *c, const series_prev *pv, series_contrib *p) {
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
    /* counted from its start, or from the previous point when the start is
     * older than that (or unknown) */
    uint64_t from = pv->has ? pv->t : 0;
    if (start > from && start < t)
        from = start;
    p->increase = p->value;
    p->interval = from > 0 && from < t ? t - from : 0;
}

#define SERIES_SKIP 1 /* series_point_dist: an unusable point */

/* A distribution point: parsed into *cur; for running totals differenced
 * against the previous point's (into *diff), which it then replaces. Sets
 * p->d. Returns QUERY_OK, QUERY_ENOMEM, or SERIES_SKIP for data that
 * cannot be used. */
static int series_point_dist(const series_ctx *c, series_prev *pv, const char *data,
                             size_t dlen, series_dist *cur, series_dist *diff,
                             series_contrib *p) {
    series_dist_free(cur);
    if (series_dist_parse(c->type, data, dlen, cur) != 0)
        return SERIES_SKIP;
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

/* Point p becomes the previous point. */
static void series_prev_set(series_prev *pv, const series_contrib *p) {
    pv->t = p->t;
    pv->start = p->start;
    if (p->has_value) {
        pv->v = p->value;
        pv->has_value = 1;
    }
    pv->has = 1;
}

void series_state_free(series_state *s) {
    series_dist_free(&s->pv.d);
    series_dist_free(&s->cur);
    series_dist_free(&s->diff);
}

int series_point_add(series_ctx *c, series_state *s, series_contrib *p, const char *data,
                     size_t dlen, const char *ex, size_t exlen, series_vec *out) {
    if (++c->points > SERIES_MAX_POINTS)
        return QUERY_ETOOBIG;
    int values = c->type == MODEL_METRIC_GAUGE || c->type == MODEL_METRIC_SUM;
    p->has_value = p->has_value && values;
    if (values) {
        series_sum_increase(c, &s->pv, p);
    } else {
        int rc = series_point_dist(c, &s->pv, data, dlen, &s->cur, &s->diff, p);
        if (rc == SERIES_SKIP) {
            s->pv.has = 0; /* the next point starts over */
            return QUERY_OK;
        }
        if (rc != QUERY_OK)
            return rc;
    }
    series_prev_set(&s->pv, p);
    if (c->has_start && p->t < (uint64_t)c->start)
        return QUERY_OK; /* the window's base point */
    series_bucket *b = series_bucket_for(c, out, p->t);
    if (b == NULL)
        return QUERY_ENOMEM;
    return series_fold(c, b, p, ex, exlen);
}

int series_read(store_reader *r, series_ctx *c, int64_t series, series_vec *out) {
    qsql q;
    qsql_init(&q);
    series_read_sql(&q, r, c, series);
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    series_state ss;
    memset(&ss, 0, sizeof(ss));
    int s = SQLITE_DONE;
    while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        series_contrib p;
        series_point_columns(st, &p);
        /* text before bytes, as SQLite asks */
        const char *data = (const char *)sqlite3_column_text(st, 4);
        size_t dlen = (size_t)sqlite3_column_bytes(st, 4);
        const char *ex = (const char *)sqlite3_column_text(st, 5);
        size_t exlen = (size_t)sqlite3_column_bytes(st, 5);
        rc = series_point_add(c, &ss, &p, data, dlen, ex, exlen, out);
    }
    s = query_step_done(r, s);
    if (rc == QUERY_OK && s != SQLITE_DONE)
        rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    series_state_free(&ss);
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* ---- merging and writing ------------------------------------------------------ */

/* Folds bucket b into bucket a of the same time (another series of a
 * group): values, increases, counts and distributions add up. */
static int series_bucket_merge(series_bucket *a, const series_bucket *b) {
    int rc = QUERY_OK;
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
    if (series_dist_add(&a->dist, &b->dist, 0) != 0)
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
    return rc;
}

/* Moves *src to the end of m (src is zeroed: m owns its memory now). */
static int series_vec_take(series_vec *m, series_bucket *src) {
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        series_bucket *nb = realloc(m->b, cap * sizeof(*nb));
        if (nb == NULL)
            return QUERY_ENOMEM;
        m->b = nb;
        m->cap = cap;
    }
    m->b[m->n++] = *src;
    memset(src, 0, sizeof(*src));
    return QUERY_OK;
}

int series_vec_merge(series_vec *acc, series_vec *add) {
    series_vec m = {0};
    size_t i = 0, j = 0;
    int rc = QUERY_OK;
    while (i < acc->n || j < add->n) {
        series_bucket *src;
        if (j == add->n || (i < acc->n && acc->b[i].t < add->b[j].t)) {
            src = &acc->b[i++];
        } else if (i == acc->n || add->b[j].t < acc->b[i].t) {
            src = &add->b[j++];
        } else { /* the same bucket: fold add's into acc's */
            src = &acc->b[i++];
            if (series_bucket_merge(src, &add->b[j++]) != QUERY_OK)
                rc = QUERY_ENOMEM;
        }
        if (series_vec_take(&m, src) != QUERY_OK) {
            rc = QUERY_ENOMEM;
            break;
        }
    }
    if (rc != QUERY_OK) {
        series_vec_free(&m);
        return rc;
    }
    /* every bucket was moved or folded: only the arrays remain */
    for (size_t k = 0; k < acc->n; k++)
        series_bucket_free(&acc->b[k]);
    for (size_t k = 0; k < add->n; k++)
        series_bucket_free(&add->b[k]);
    free(acc->b);
    free(add->b);
    memset(add, 0, sizeof(*add));
    *acc = m;
    return QUERY_OK;
}

void series_bucket_json(jw *w, const series_ctx *c, const series_bucket *b) {
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
            series_json_double_or_null(w, b->has_increase, b->increase);
            jw_key(w, "rate");
            series_json_double_or_null(w, b->has_increase && secs > 0, b->increase / secs);
        }
    } else if (b->dist.kind != 0) {
        series_dist_json(w, &b->dist);
    } else {
        series_dist empty = {.kind = c->type};
        series_dist_json(w, &empty);
    }
    jw_key(w, "exemplars");
    jw_array_begin(w);
    if (b->exemplars.len > 0)
        jw_raw(w, b->exemplars.ptr, b->exemplars.len);
    jw_array_end(w);
    jw_object_end(w);
}
