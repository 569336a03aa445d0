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
 * query_series runs in named steps: plan (series_plan_make: the service,
 * the instrument, its series and groups, the step), read and combine
 * (series_read_all over series_read.c: points into buckets, buckets into
 * their group's), write (series_write). Distributions -- differences,
 * merges, percentiles -- are series_dist.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ch_query.h"
#include "model.h"
#include "model_json.h"
#include "query.h"
#include "query_internal.h"
#include "series_internal.h"

#define SERIES_MAX_SERIES 10000
#define SERIES_AUTO_STEPS 120

static int query_metrics_list(sqlite3 *db, const char *service, buf *out);

int query_metrics(store_reader *r, const char *service, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_metrics(r, service, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r); /* the instruments' tables: bounded, no segment scanned */
    int rc = query_metrics_list(r->db, service, out);
    store_reader_end(r);
    return rc;
}

static int query_metrics_list(sqlite3 *db, const char *service, buf *out) {
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
    query_list_begin(&w, out, "metrics");
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
    series_vec v;
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
        series_vec_free(&gs->g[i].v);
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

/* What an answer is made from: the instrument, its series and their
 * groups. */
typedef struct series_plan {
    series_ctx c;
    char *unit;                 /* the instrument's unit */
    char *res[QUERY_MAX_ATTRS]; /* resources matching each filter (query_resources_matching) */
    int64_t *ids;               /* the series, in answer order */
    size_t *group;              /* each series' group: its index in gs (which grows) */
    size_t n;
    sgroups gs;
} series_plan;

static void series_plan_free(series_plan *pl) {
    free(pl->unit);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(pl->res[i]);
    free(pl->ids);
    free(pl->group);
    sgroups_free(&pl->gs);
}

static int series_params_check(const query_series_params *p) {
    if (p == NULL || p->name == NULL || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->n_group_by > QUERY_MAX_GROUP_BY ||
        (p->n_group_by > 0 && p->group_by == NULL))
        return QUERY_EINVAL;
    if (p->has_start && p->has_end && p->end_ns <= p->start_ns)
        return QUERY_EINVAL;
    return QUERY_OK;
}

/* Plan, step 1: the instrument's most recently seen definition (service
 * sid, 0 = any), and how its values combine. */
static int series_instrument(sqlite3 *db, const query_series_params *p, int64_t sid,
                             series_plan *pl) {
    series_ctx *c = &pl->c;
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT type, temporality, monotonic, unit FROM metrics WHERE name=");
    qsql_text(&q, p->name, strlen(p->name));
    if (p->service) {
        qsql_add(&q, " AND service=");
        qsql_int(&q, sid);
    }
    qsql_add(&q, " ORDER BY last_seen_ns DESC, id DESC LIMIT 1");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, db, &st);
    int s = rc == QUERY_OK ? sqlite3_step(st) : SQLITE_ERROR;
    if (s == SQLITE_ROW) {
        c->type = sqlite3_column_int(st, 0);
        c->temporality = sqlite3_column_int(st, 1);
        c->monotonic = sqlite3_column_int(st, 2);
        pl->unit = scol_dup(st, 3);
        rc = pl->unit ? QUERY_OK : QUERY_ENOMEM;
    } else if (rc == QUERY_OK) {
        rc = s == SQLITE_DONE ? QUERY_ENOTFOUND : QUERY_EDB;
    }
    sqlite3_finalize(st);
    qsql_free(&q); /* after st: it borrows q's values */
    int cum = c->temporality == MODEL_TEMPORALITY_CUMULATIVE;
    c->cumulative = cum && (c->type == MODEL_METRIC_HISTOGRAM ||
                            c->type == MODEL_METRIC_EXP_HISTOGRAM ||
                            (c->type == MODEL_METRIC_SUM && c->monotonic));
    c->has_rate = c->type == MODEL_METRIC_SUM && c->monotonic;
    c->value_adds = c->type == MODEL_METRIC_SUM && !cum;
    return rc;
}

/* The series of row st (se.id, se.attrs, r.attrs, sv.name, r.instance)
 * joins the plan, in its group: by its groupBy values, or its own. */
static int series_add(series_plan *pl, const query_series_params *p, sqlite3_stmt *st) {
    int64_t *ni = realloc(pl->ids, (pl->n + 1) * sizeof(*ni));
    if (ni != NULL)
        pl->ids = ni;
    size_t *ng = realloc(pl->group, (pl->n + 1) * sizeof(*ng));
    if (ng != NULL)
        pl->group = ng;
    if (ni == NULL || ng == NULL)
        return QUERY_ENOMEM;
    sgroup *g = NULL;
    if (p->n_group_by > 0) {
        char *key = sgroup_key(p, (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2));
        if (key != NULL) {
            g = sgroups_get(&pl->gs, key);
            if (g != NULL && g->key == NULL)
                g->key = key;
            else
                free(key);
        }
    } else {
        g = sgroups_get(&pl->gs, NULL);
        if (g != NULL) {
            g->attrs = scol_dup(st, 1);
            g->service = scol_dup(st, 3);
            g->instance = scol_dup(st, 4);
            if (!g->attrs || !g->service || !g->instance)
                g = NULL;
        }
    }
    if (g == NULL)
        return QUERY_ENOMEM;
    pl->ids[pl->n] = sqlite3_column_int64(st, 0);
    pl->group[pl->n] = (size_t)(g - pl->gs.g);
    pl->n++;
    return QUERY_OK;
}

/* Plan, step 2: the instrument's series that pass the filters, in a
 * stable order, at most SERIES_MAX_SERIES. */
static int series_select(sqlite3 *db, const query_series_params *p, int64_t sid,
                         series_plan *pl) {
    for (size_t i = 0; i < p->n_attrs; i++) {
        int rc = query_resources_matching(db, &p->attrs[i], &pl->res[i]);
        if (rc != QUERY_OK)
            return rc;
    }
    const series_ctx *c = &pl->c;
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT se.id, se.attrs, r.attrs, sv.name, r.instance FROM metrics m"
                 " JOIN series se ON se.metric=m.id JOIN resources r ON r.id=m.resource"
                 " JOIN services sv ON sv.id=m.service WHERE m.name=");
    qsql_text(&q, p->name, strlen(p->name));
    if (p->service) {
        qsql_add(&q, " AND m.service=");
        qsql_int(&q, sid);
    }
    qsql_add(&q, " AND m.type=");
    qsql_int(&q, c->type);
    qsql_add(&q, " AND m.temporality=");
    qsql_int(&q, c->temporality);
    qsql_add(&q, " AND m.monotonic=");
    qsql_int(&q, c->monotonic);
    for (size_t i = 0; i < p->n_attrs; i++) {
        qsql_add(&q, " AND ");
        qsql_attr_or_resource(&q, "se.attrs", "m.resource", &p->attrs[i], pl->res[i]);
    }
    qsql_add(&q, " ORDER BY sv.name, r.instance, se.id LIMIT ");
    qsql_int(&q, SERIES_MAX_SERIES + 1);
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, db, &st);
    int s = SQLITE_DONE;
    while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        rc = pl->n == SERIES_MAX_SERIES ? QUERY_ETOOBIG : series_add(pl, p, st);
    }
    if (rc == QUERY_OK && s != SQLITE_DONE)
        rc = QUERY_EDB;
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* The first and last point time of the plan's series, within the window's
 * given ends, into *lo and *hi (left as they are when there is none). */
typedef struct series_range_arm {
    const char *list; /* the series ids, a JSON array */
    const query_series_params *p;
    const series_ctx *c;
} series_range_arm;

static void series_range_cond(qsql *q, const void *ctx) {
    const series_range_arm *a = ctx;
    qsql_add(q, " AND series IN (SELECT value FROM json_each(");
    qsql_text(q, a->list, strlen(a->list));
    qsql_add(q, "))");
    qsql_time_range(q, "time_ns", a->p->has_start, a->c->start, a->p->has_end, a->c->end);
}

static int series_data_range(store_reader *r, const query_series_params *p,
                             const series_plan *pl, uint64_t *lo, uint64_t *hi) {
    char *list = query_id_list(pl->ids, pl->n);
    if (list == NULL)
        return QUERY_ENOMEM;
    qsql q;
    qsql_init(&q);
    series_range_arm arm = {list, p, &pl->c};
    qsql_add(&q, "SELECT min(time_ns), max(time_ns) FROM ");
    qsql_points_from(&q, r, "time_ns", p->has_start, pl->c.start, p->has_end, pl->c.end,
                     series_range_cond, &arm);
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    if (rc == QUERY_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (!p->has_start)
            *lo = query_u64(st, 0);
        if (!p->has_end)
            *hi = query_u64(st, 1) + 1;
    }
    sqlite3_finalize(st);
    qsql_free(&q);
    free(list);
    return rc;
}

/* Plan, step 3: the step, given or about SERIES_AUTO_STEPS buckets over the
 * data (with groupBy); at most QUERY_MAX_STEPS buckets in a given window. */
static int series_step(store_reader *r, const query_series_params *p, series_plan *pl) {
    series_ctx *c = &pl->c;
    c->step = p->step_ns;
    if (c->step == 0 && p->n_group_by > 0 && pl->n > 0) {
        uint64_t lo = p->start_ns, hi = p->end_ns;
        if (!p->has_start || !p->has_end) {
            int rc = series_data_range(r, p, pl, &lo, &hi);
            if (rc != QUERY_OK)
                return rc;
        }
        uint64_t range = hi > lo ? hi - lo : 1;
        uint64_t secs = (range / SERIES_AUTO_STEPS + 999999999u) / 1000000000u;
        c->step = (secs ? secs : 1) * 1000000000u;
    }
    if (c->step > 0 && p->has_start && p->has_end &&
        (p->end_ns - 1) / c->step - p->start_ns / c->step + 1 > QUERY_MAX_STEPS)
        return QUERY_EINVAL;
    return QUERY_OK;
}

/* Plans an answer: the service, the instrument, its series, the step. */
static int series_plan_make(store_reader *r, const query_series_params *p, series_plan *pl) {
    sqlite3 *db = r->db;
    series_ctx *c = &pl->c;
    c->has_start = p->has_start;
    c->has_end = p->has_end;
    c->start = query_i64(p->start_ns);
    c->end = query_i64(p->end_ns);
    int64_t sid = 0;
    if (p->service) {
        int rc = query_service_id(db, p->service, &sid);
        if (rc == QUERY_OK && sid == 0)
            rc = QUERY_ENOTFOUND;
        if (rc != QUERY_OK)
            return rc;
    }
    int rc = series_instrument(db, p, sid, pl);
    if (rc == QUERY_OK)
        rc = series_select(db, p, sid, pl);
    if (rc == QUERY_OK)
        rc = series_step(r, p, pl);
    return rc;
}

/* Read and combine: each series' buckets, merged into its group's. With a
 * step, the data may span at most QUERY_MAX_STEPS buckets. */
static int series_read_all(store_reader *r, series_plan *pl) {
    series_ctx *c = &pl->c;
    uint64_t tmin = UINT64_MAX, tmax = 0;
    series_vec tmp = {0};
    int rc = QUERY_OK;
    for (size_t i = 0; rc == QUERY_OK && i < pl->n && !store_reader_timed_out(r); i++) {
        rc = series_read(r, c, pl->ids[i], &tmp);
        if (rc == QUERY_OK && tmp.n > 0) {
            if (tmp.b[0].t < tmin)
                tmin = tmp.b[0].t;
            if (tmp.b[tmp.n - 1].t > tmax)
                tmax = tmp.b[tmp.n - 1].t;
        }
        if (rc == QUERY_OK)
            rc = series_vec_merge(&pl->gs.g[pl->group[i]].v, &tmp);
        series_vec_free(&tmp);
    }
    if (rc == QUERY_OK && c->step > 0 && tmin <= tmax && (tmax - tmin) / c->step >= QUERY_MAX_STEPS)
        rc = QUERY_EINVAL;
    return rc;
}

/* Writes the answer: the instrument, then each group's points. */
static int series_write(const query_series_params *p, const series_plan *pl, int partial,
                        buf *out) {
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
    if (partial) {
        jw_key(&w, "partial");
        jw_bool(&w, 1);
    }
    jw_key(&w, "series");
    jw_array_begin(&w);
    for (size_t i = 0; i < pl->gs.n; i++) {
        const sgroup *g = &pl->gs.g[i];
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

int query_series(store_reader *r, const query_series_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_series(r, p, out);
    int rc = series_params_check(p);
    if (rc != QUERY_OK)
        return rc;
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    series_plan pl;
    memset(&pl, 0, sizeof(pl));
    store_reader_relax(r); /* the plan: the instrument and its series, bounded */
    rc = series_plan_make(r, p, &pl);
    store_reader_arm(r); /* the deadline bounds the reading of the points */
    if (rc == QUERY_OK)
        rc = series_read_all(r, &pl);
    if (rc == QUERY_OK)
        rc = series_write(p, &pl, store_reader_timed_out(r), out);
    series_plan_free(&pl);
    store_reader_end(r);
    return rc;
}
