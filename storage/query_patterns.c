/* query_patterns.c - GET /api/v1/logs/patterns, see query.h.
 *
 * DESIGN
 * Every log segment of format 4 keeps per-minute counts of its records per
 * (pattern, severity level), with the first and last record time of each
 * (pattern_counts_N, store_patterns.c). A query sums the rows of the
 * minutes its window covers, segment by segment, into one sum per pattern
 * (pass 1: totals, levels, first and last seen), picks the patterns of the
 * answer (the most records first; with sort_new only those whose first
 * record ever, kept in `patterns`, lies in the window, newest first), then
 * reads those patterns' counts per step (pass 2) and their latest record
 * in the window through logs_N_pattern (pattern, time). The cost grows with
 * patterns x minutes, not with records. Windows are whole minutes, as for
 * the other rollups (query_analytics.c). Log segments made before patterns
 * (adopted from schema 2, or format 3) have neither table: their records
 * are not counted.
 */
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "logpattern.h"
#include "query.h"
#include "query_internal.h"
#include "rollup.h"

#define QP_MINUTE ((int64_t)ROLLUP_MINUTE_NS)

/* What the window holds of one pattern. */
typedef struct qp_sum {
    query_pattern_rank rank; /* first (query_patterns_sort); since: patterns.first_seen_ns */
    int64_t levels[LOGPATTERN_LEVELS];
    int64_t first, last; /* record times in the window */
    int64_t *steps;      /* pass 2, selected ones */
} qp_sum;

typedef struct qp_sums {
    qp_sum *v;
    size_t n, cap;
    uint32_t *table; /* index + 1, open addressing */
    size_t table_cap;
} qp_sums;

static void qp_sums_free(qp_sums *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].steps);
    free(s->v);
    free(s->table);
    memset(s, 0, sizeof(*s));
}

static size_t qp_slot(const qp_sums *s, int64_t id) {
    return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ULL >> 20) & (s->table_cap - 1);
}

static qp_sum *qp_find(const qp_sums *s, int64_t id) {
    if (s->table_cap == 0)
        return NULL;
    for (size_t k = qp_slot(s, id);; k = (k + 1) & (s->table_cap - 1)) {
        uint32_t v = s->table[k];
        if (v == 0)
            return NULL;
        if (s->v[v - 1].rank.id == id)
            return &s->v[v - 1];
    }
}

/* The sum of pattern id, made empty when new; NULL when out of memory. */
static qp_sum *qp_get(qp_sums *s, int64_t id) {
    qp_sum *x = qp_find(s, id);
    if (x != NULL)
        return x;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        qp_sum *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    if (2 * (s->n + 1) > s->table_cap) {
        size_t cap = s->table_cap ? 2 * s->table_cap : 256;
        uint32_t *t = calloc(cap, sizeof(*t));
        if (t == NULL)
            return NULL;
        free(s->table);
        s->table = t;
        s->table_cap = cap;
        for (size_t i = 0; i < s->n; i++) {
            size_t k = qp_slot(s, s->v[i].rank.id);
            while (t[k] != 0)
                k = (k + 1) & (cap - 1);
            t[k] = (uint32_t)i + 1;
        }
    }
    size_t k = qp_slot(s, id);
    while (s->table[k] != 0)
        k = (k + 1) & (s->table_cap - 1);
    x = &s->v[s->n];
    memset(x, 0, sizeof(*x));
    x->rank.id = id;
    x->first = INT64_MAX;
    x->last = INT64_MIN;
    s->table[k] = (uint32_t)++s->n;
    return x;
}

/* ---- the plan ---------------------------------------------------------------------- */

typedef struct qp_plan {
    const query_patterns_params *p;
    qa_window win;
    int64_t stepm, nsteps;
    int min_level;
    int64_t lo_ns, hi_ns; /* the window's minutes in ns, for records */
} qp_plan;

/* 1 when log segment m has pattern counts that may fall in the window. */
static int qp_seg_in(const seg_meta *m, const qp_plan *pl) {
    if (m->format < SEG_FORMAT_LOG_PATTERNS || m->items == 0 || m->max_time == SEG_NO_MAX)
        return 0;
    return m->max_time / QP_MINUTE >= pl->win.lo && m->min_time / QP_MINUTE < pl->win.hi;
}

/* " WHERE minute>=lo AND minute<hi [AND level>=l] [AND pattern IN (the
 * service's)]" over pattern_counts_{N}. */
static void qp_where(qsql *q, const qp_plan *pl) {
    qsql_add(q, " WHERE minute>=");
    qsql_int(q, pl->win.lo);
    qsql_add(q, " AND minute<");
    qsql_int(q, pl->win.hi);
    if (pl->min_level > 0) {
        qsql_add(q, " AND level>=");
        qsql_int(q, pl->min_level);
    }
    if (pl->p->service != NULL) {
        qsql_add(q, " AND pattern IN (SELECT id FROM patterns WHERE service=");
        qsql_text(q, pl->p->service, strlen(pl->p->service));
        qsql_add(q, ")");
    }
}

/* Runs a per-segment statement over every segment of the window; row(st,
 * ctx) takes each row. */
static int qp_each_seg(store_reader *r, const qp_plan *pl, void (*sql)(qsql *, const void *),
                       const void *ctx, int (*row)(sqlite3_stmt *, void *), void *rctx) {
    const seg_meta *segs;
    size_t n;
    store_reader_segs(r, MODEL_SIGNAL_LOGS, &segs, &n);
    int rc = QUERY_OK;
    for (size_t i = 0; rc == QUERY_OK && i < n && !store_reader_timed_out(r); i++) {
        if (!qp_seg_in(&segs[i], pl))
            continue;
        qsql q;
        qsql_init(&q);
        qsql_seg(&q, segs[i].id);
        sql(&q, ctx);
        sqlite3_stmt *st = NULL;
        rc = qsql_prepare(&q, r->db, &st);
        int s = SQLITE_DONE;
        while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
            rc = row(st, rctx);
        if (rc == QUERY_OK && query_step_done(r, s) != SQLITE_DONE)
            rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
        sqlite3_finalize(st);
        qsql_free(&q);
    }
    return rc;
}

/* ---- pass 1: the sums ------------------------------------------------------------------ */

static void qp_totals_sql(qsql *q, const void *ctx) {
    qsql_add(q, "SELECT pattern, level, sum(count), min(first_ns), max(last_ns)"
                " FROM pattern_counts_{N}");
    qp_where(q, ctx);
    qsql_add(q, " GROUP BY pattern, level");
}

static int qp_totals_row(sqlite3_stmt *st, void *ctx) {
    qp_sum *x = qp_get(ctx, sqlite3_column_int64(st, 0));
    if (x == NULL)
        return QUERY_ENOMEM;
    int level = sqlite3_column_int(st, 1);
    int64_t n = sqlite3_column_int64(st, 2);
    x->rank.count += n;
    if (level >= 0 && level < LOGPATTERN_LEVELS)
        x->levels[level] += n;
    int64_t f = sqlite3_column_int64(st, 3), l = sqlite3_column_int64(st, 4);
    if (f < x->first)
        x->first = f;
    if (l > x->last)
        x->last = l;
    return QUERY_OK;
}

/* Each sum's first record ever, and whether it lies in the window. */
static int qp_since(store_reader *r, const qp_plan *pl, qp_sums *s) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, "SELECT id, first_seen_ns FROM patterns", -1, &st, NULL) !=
        SQLITE_OK)
        return QUERY_EDB;
    int64_t lo = pl->p->has_start ? pl->lo_ns : INT64_MIN;
    int64_t hi = pl->p->has_end ? pl->hi_ns : INT64_MAX;
    int x;
    while ((x = sqlite3_step(st)) == SQLITE_ROW) {
        qp_sum *sum = qp_find(s, sqlite3_column_int64(st, 0));
        if (sum == NULL)
            continue;
        int64_t since = sqlite3_column_int64(st, 1); /* never negative (store_i64) */
        sum->rank.since = since > 0 ? (uint64_t)since : 0;
        sum->rank.is_new = since >= lo && since < hi;
    }
    sqlite3_finalize(st);
    return query_step_done(r, x) == SQLITE_DONE ? QUERY_OK : QUERY_EDB;
}

/* By count, highest first, then by id (a and b: query_pattern_rank). */
static int qp_by_count(const void *a, const void *b) {
    const query_pattern_rank *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* New ones first, then the latest first record ever, then by count. */
static int qp_by_since(const void *a, const void *b) {
    const query_pattern_rank *x = a, *y = b;
    if (x->is_new != y->is_new)
        return x->is_new ? -1 : 1;
    if (x->since != y->since)
        return x->since > y->since ? -1 : 1;
    return qp_by_count(a, b);
}

int query_patterns_steps(uint64_t step_ns, const qa_window *win, int64_t *stepm,
                         int64_t *nsteps) {
    int rc = qa_step(step_ns, win, stepm);
    if (rc != QUERY_OK)
        return rc;
    *nsteps = (win->hi - win->lo + *stepm - 1) / *stepm;
    return *nsteps > QUERY_MAX_PATTERN_STEPS ? QUERY_EINVAL : QUERY_OK;
}

void query_patterns_begin(jw *w, int64_t stepm, const qa_window *win, size_t total) {
    jw_object_begin(w);
    qg_head_write(w, win, stepm);
    jw_key(w, "total");
    jw_uint(w, total);
    jw_key(w, "patterns");
    jw_array_begin(w);
}

size_t query_patterns_sort(void *v, size_t n, size_t size, int sort_new) {
    if (n > 1) /* qsort() takes no NULL, even for 0 items */
        qsort(v, n, size, sort_new ? qp_by_since : qp_by_count);
    if (!sort_new)
        return n;
    size_t k = 0;
    while (k < n && ((const query_pattern_rank *)(const void *)((const char *)v + k * size))->is_new)
        k++;
    return k;
}

/* ---- pass 2: the steps of the patterns shown ------------------------------------------- */

typedef struct qp_steps_ctx {
    const qp_plan *pl;
    const char *ids; /* JSON array */
} qp_steps_ctx;

static void qp_steps_sql(qsql *q, const void *ctx) {
    const qp_steps_ctx *c = ctx;
    qsql_add(q, "SELECT pattern, (minute-");
    qsql_int(q, c->pl->win.lo);
    qsql_add(q, ")/");
    qsql_int(q, c->pl->stepm);
    qsql_add(q, ", sum(count) FROM pattern_counts_{N}");
    qp_where(q, c->pl);
    qsql_add(q, " AND pattern IN (SELECT value FROM json_each(");
    qsql_text(q, c->ids, strlen(c->ids));
    qsql_add(q, ")) GROUP BY 1, 2");
}

typedef struct qp_steps_rows {
    qp_sums *s;
    int64_t nsteps;
} qp_steps_rows;

static int qp_steps_row(sqlite3_stmt *st, void *ctx) {
    qp_steps_rows *c = ctx;
    qp_sum *x = qp_find(c->s, sqlite3_column_int64(st, 0));
    int64_t k = sqlite3_column_int64(st, 1);
    if (x != NULL && x->steps != NULL && k >= 0 && k < c->nsteps)
        x->steps[k] += sqlite3_column_int64(st, 2);
    return QUERY_OK;
}

/* ---- the answer ------------------------------------------------------------------------- */

void query_pattern_item_begin(jw *w, const query_pattern_item *it) {
    static const char *const kinds[] = {"text", "structured", "other"};
    jw_object_begin(w);
    jw_key(w, "id");
    jw_int(w, it->id);
    jw_key(w, "service");
    jw_stringn(w, it->service ? it->service : "", it->service ? it->service_len : 0);
    jw_key(w, "kind");
    jw_string(w, it->kind >= 0 && it->kind < 3 ? kinds[it->kind] : "text");
    jw_key(w, "template");
    jw_stringn(w, it->tmpl ? it->tmpl : "", it->tmpl ? it->tmpl_len : 0);
    jw_key(w, "count");
    jw_int(w, it->count);
    jw_key(w, "counts");
    jw_array_begin(w);
    for (int64_t k = 0; k < it->nsteps; k++)
        jw_int(w, it->steps ? it->steps[k] : 0);
    jw_array_end(w);
    jw_key(w, "severities");
    jw_object_begin(w);
    for (int l = 0; l < LOGPATTERN_LEVELS; l++) {
        if (it->levels[l] == 0)
            continue;
        jw_key(w, logpattern_level_name(l));
        jw_int(w, it->levels[l]);
    }
    jw_object_end(w);
    jw_key(w, "firstSeenUnixNano");
    jw_uint_string(w, it->first);
    jw_key(w, "lastSeenUnixNano");
    jw_uint_string(w, it->last);
    jw_key(w, "sinceUnixNano");
    jw_uint_string(w, it->since);
    jw_key(w, "new");
    jw_bool(w, it->is_new);
}

void query_pattern_example(jw *w, const char *body, size_t len, uint64_t t) {
    jw_key(w, "example");
    if (body == NULL) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, t);
    jw_key(w, "body");
    jw_raw(w, body, len);
    jw_object_end(w);
}

/* The latest record of pattern id in the window (and at the minimum
 * severity), over the log segments newest first: "example". */
static int qp_example(store_reader *r, const qp_plan *pl, int64_t id, jw *w) {
    const seg_meta *segs;
    size_t n;
    store_reader_segs(r, MODEL_SIGNAL_LOGS, &segs, &n);
    int64_t best_t = INT64_MIN;
    char *body = NULL;
    int rc = QUERY_OK;
    for (size_t i = 0; rc == QUERY_OK && i < n && !store_reader_timed_out(r); i++) {
        const seg_meta *m = &segs[i];
        if (m->format < SEG_FORMAT_LOG_PATTERNS || m->items == 0 || m->max_time <= best_t ||
            m->max_time < pl->lo_ns || m->min_time >= pl->hi_ns)
            continue;
        qsql q;
        qsql_init(&q);
        qsql_seg(&q, m->id);
        qsql_add(&q, "SELECT time_ns, body FROM logs_{N} INDEXED BY logs_{N}_pattern"
                     " WHERE pattern=");
        qsql_int(&q, id);
        qsql_time_range(&q, "time_ns", 1, pl->lo_ns, 1, pl->hi_ns);
        if (pl->p->min_severity > 0) {
            qsql_add(&q, " AND severity>=");
            qsql_int(&q, pl->p->min_severity);
        }
        qsql_add(&q, " ORDER BY time_ns DESC LIMIT 1");
        sqlite3_stmt *st = NULL;
        rc = qsql_prepare(&q, r->db, &st);
        int s = rc == QUERY_OK ? sqlite3_step(st) : SQLITE_DONE;
        if (s == SQLITE_ROW && sqlite3_column_int64(st, 0) > best_t) {
            best_t = sqlite3_column_int64(st, 0);
            free(body);
            const char *b = (const char *)sqlite3_column_text(st, 1);
            body = strdup(b ? b : "null");
            if (body == NULL)
                rc = QUERY_ENOMEM;
        } else if (rc == QUERY_OK && query_step_done(r, s) != SQLITE_DONE) {
            rc = QUERY_EDB;
        }
        sqlite3_finalize(st);
        qsql_free(&q);
    }
    query_pattern_example(w, body, body ? strlen(body) : 0, (uint64_t)best_t);
    free(body);
    return rc;
}

/* One pattern of the answer. */
static int qp_item(store_reader *r, const qp_plan *pl, sqlite3_stmt *row, const qp_sum *x,
                   jw *w) {
    query_pattern_item it = {
        .id = x->rank.id,
        .count = x->rank.count,
        .levels = x->levels,
        .steps = x->steps,
        .nsteps = pl->nsteps,
        .first = x->first == INT64_MAX ? 0 : (uint64_t)x->first,
        .last = x->last == INT64_MIN ? 0 : (uint64_t)x->last,
        .since = x->rank.since,
        .is_new = x->rank.is_new,
    };
    sqlite3_bind_int64(row, 1, x->rank.id);
    if (sqlite3_step(row) == SQLITE_ROW) { /* service, kind, template; else "", text, "" */
        it.service = (const char *)sqlite3_column_text(row, 0);
        it.service_len = (size_t)sqlite3_column_bytes(row, 0);
        it.kind = sqlite3_column_int(row, 1);
        it.tmpl = (const char *)sqlite3_column_text(row, 2);
        it.tmpl_len = (size_t)sqlite3_column_bytes(row, 2);
    }
    query_pattern_item_begin(w, &it); /* before the reset: it borrows the row's text */
    sqlite3_reset(row);
    int rc = qp_example(r, pl, x->rank.id, w);
    jw_object_end(w);
    return rc;
}

/* The window, step and level of p. */
static int qp_plan_make(store_reader *r, const query_patterns_params *p, qp_plan *pl) {
    memset(pl, 0, sizeof(*pl));
    pl->p = p;
    qa_window_of(r, MODEL_SIGNAL_LOGS, p->has_start, p->start_ns, p->has_end, p->end_ns, &pl->win);
    int rc = query_patterns_steps(p->step_ns, &pl->win, &pl->stepm, &pl->nsteps);
    if (rc != QUERY_OK)
        return rc;
    pl->min_level = logpattern_level(p->min_severity);
    pl->lo_ns = pl->win.lo * QP_MINUTE;
    pl->hi_ns = pl->win.hi > INT64_MAX / QP_MINUTE ? INT64_MAX : pl->win.hi * QP_MINUTE;
    return QUERY_OK;
}

/* Passes 1 and 2: the sums, sorted; *matching of them answer the query,
 * the first *shown of those get their steps. */
static int qp_gather(store_reader *r, const qp_plan *pl, qp_sums *s, size_t *matching,
                     size_t *shown) {
    const query_patterns_params *p = pl->p;
    int rc = qp_each_seg(r, pl, qp_totals_sql, pl, qp_totals_row, s);
    if (rc == QUERY_OK)
        rc = qp_since(r, pl, s);
    if (rc != QUERY_OK)
        return rc;
    size_t n = query_patterns_sort(s->v, s->n, sizeof(*s->v), p->sort_new);
    /* the order changed: the table follows */
    if (s->table != NULL)
        memset(s->table, 0, s->table_cap * sizeof(*s->table));
    for (size_t i = 0; i < s->n; i++) {
        size_t k = qp_slot(s, s->v[i].rank.id);
        while (s->table[k] != 0)
            k = (k + 1) & (s->table_cap - 1);
        s->table[k] = (uint32_t)i + 1;
    }
    *matching = n;
    *shown = n < p->limit ? n : p->limit;
    if (*shown == 0)
        return QUERY_OK;
    int64_t *ids = malloc(*shown * sizeof(*ids));
    if (ids == NULL)
        return QUERY_ENOMEM;
    for (size_t i = 0; i < *shown && rc == QUERY_OK; i++) {
        ids[i] = s->v[i].rank.id;
        s->v[i].steps = calloc((size_t)pl->nsteps, sizeof(int64_t));
        if (s->v[i].steps == NULL)
            rc = QUERY_ENOMEM;
    }
    char *list = rc == QUERY_OK ? query_id_list(ids, *shown) : NULL;
    free(ids);
    if (rc == QUERY_OK && list == NULL)
        rc = QUERY_ENOMEM;
    if (rc == QUERY_OK) {
        qp_steps_ctx c = {pl, list};
        qp_steps_rows rows = {s, pl->nsteps};
        rc = qp_each_seg(r, pl, qp_steps_sql, &c, qp_steps_row, &rows);
    }
    free(list);
    return rc;
}

int query_patterns(store_reader *r, const query_patterns_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_patterns(r, p, out);
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT)
        return QUERY_EINVAL;
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    qp_plan pl;
    qp_sums s;
    memset(&s, 0, sizeof(s));
    size_t matching = 0, shown = 0;
    sqlite3_stmt *row = NULL;
    int rc = qp_plan_make(r, p, &pl);
    if (rc == QUERY_OK)
        rc = qp_gather(r, &pl, &s, &matching, &shown);
    if (rc == QUERY_OK &&
        sqlite3_prepare_v2(r->db, "SELECT service, kind, template FROM patterns WHERE id=?1", -1,
                           &row, NULL) != SQLITE_OK)
        rc = QUERY_EDB;
    if (rc != QUERY_OK)
        goto out;
    jw w;
    jw_init(&w, out);
    query_patterns_begin(&w, pl.stepm, &pl.win, matching);
    for (size_t i = 0; i < shown && rc == QUERY_OK; i++)
        rc = qp_item(r, &pl, row, &s.v[i], &w);
    jw_array_end(&w);
    if (store_reader_timed_out(r)) {
        jw_key(&w, "partial");
        jw_bool(&w, 1);
    }
    jw_object_end(&w);
    if (rc == QUERY_OK)
        rc = query_finish(&w, SQLITE_DONE);
out:
    sqlite3_finalize(row);
    qp_sums_free(&s);
    store_reader_end(r);
    return rc;
}
