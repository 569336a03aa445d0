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
 * their group's), write (series_answer_write of series_group.c). Distributions -- differences,
 * merges, percentiles -- are series_dist.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static char *scol_dup(sqlite3_stmt *st, int col) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    return strdup(t ? t : "");
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
    series_groups gs;
} series_plan;

static void series_plan_free(series_plan *pl) {
    free(pl->unit);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(pl->res[i]);
    free(pl->ids);
    free(pl->group);
    series_groups_free(&pl->gs);
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
    series_ctx_combine(c);
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
    /* text, not NULL: as the answer writes them */
    const char *attrs = (const char *)sqlite3_column_text(st, 1);
    const char *res = (const char *)sqlite3_column_text(st, 2);
    const char *service = (const char *)sqlite3_column_text(st, 3);
    const char *instance = (const char *)sqlite3_column_text(st, 4);
    long g = series_groups_join(&pl->gs, p, attrs, res, service, instance);
    if (g < 0)
        return QUERY_ENOMEM;
    pl->ids[pl->n] = sqlite3_column_int64(st, 0);
    pl->group[pl->n] = (size_t)g;
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
        c->step = series_auto_step(lo, hi, SERIES_AUTO_STEPS);
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
        rc = series_answer_write(p, &pl.c, pl.unit, &pl.gs, store_reader_timed_out(r), out);
    series_plan_free(&pl);
    store_reader_end(r);
    return rc;
}
