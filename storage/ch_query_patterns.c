/* ch_query_patterns.c - GET /api/v1/logs/patterns from ClickHouse (the
 * twin of query_patterns in query_patterns.c); see ch_query.h.
 *
 * DESIGN
 * The SQLite store keeps per-minute counts per pattern; here the counts are
 * made from the records themselves: each log row carries its pattern's
 * global id (ch_patterns.h), so one GROUP BY pattern, level over the
 * window's records gives what pass 1 of query_patterns sums (totals per
 * severity level, first and last record time). The patterns' rows
 * (`patterns`, each id's latest by argMax(..., last_seen)) give the first
 * record ever (min(first_seen)) of every pattern, read in a second query
 * and joined in C by id (both answers ordered by id), and the templates of
 * the patterns shown. Two more queries read the shown patterns' counts per
 * step and their latest record in the window (argMax(body, time)).
 *
 * As on SQLite: the window is whole minutes ([lo, hi) minutes; by default
 * the minutes of the oldest to the newest record), the counts keep the
 * records at min_severity's level and above while the example needs a
 * severity number of at least min_severity, the service filter takes the
 * patterns of that service (not the records of that service in another
 * service's pattern: the one "other" pattern of services past the bound),
 * and ties of count are broken by id. What differs: ids are the global
 * ids; the records counted are those in the table (a ClickHouse store has
 * no per-segment counts to evict), the --max-age limit included; a record
 * time shared by two records makes either the example.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "logpattern.h"
#include "query_internal.h"
#include "rollup.h"

#define CHP_MINUTE ((uint64_t)ROLLUP_MINUTE_NS)
#define CHP_ANS_MAX ((size_t)1 << 28)
/* The level of a severity number as logpattern_level() has it. */
#define CHP_LEVEL "multiIf(severity >= 1 AND severity <= 24, intDiv(severity + 3, 4), 0)"

/* What the window holds of one pattern. */
typedef struct chp_sum {
    query_pattern_rank rank; /* first (query_patterns_sort); since: min(first_seen), 0: no row */
    int64_t levels[LOGPATTERN_LEVELS];
    uint64_t first, last; /* record times in the window */
    int known;            /* it has a row in `patterns` (of the service asked for) */
    int64_t *steps;       /* the shown ones; owned */
    /* the shown ones, borrowed from the answers (chq_patterns' tans, eans) */
    const char *service, *tmpl, *example;
    size_t service_len, tmpl_len, example_len;
    int kind;
    uint64_t example_t;
} chp_sum;

typedef struct chp_plan {
    const query_patterns_params *p;
    qa_window win;
    int64_t stepm, nsteps;
    int min_level;
    uint64_t lo_ns, hi_ns;
} chp_plan;

/* Runs sql; the answer into ans with a NUL after its data. */
static int chp_run(store_reader *r, const buf *sql, buf *ans) {
    int rc = chq_run(r, sql, ans);
    if (rc == QUERY_OK && buf_append_char(ans, '\0') != BUF_OK)
        return QUERY_ETOOBIG;
    if (rc == QUERY_OK)
        ans->len--;
    return rc;
}

/* ---- the plan ---------------------------------------------------------------------- */

/* The window as qa_window_of() makes it, with the records' oldest and
 * newest time when start or end is not given. */
static int chp_window(store_reader *r, const query_patterns_params *p, qa_window *w) {
    uint64_t lo = 0, hi = 0;
    int have = 0;
    if (!p->has_start || !p->has_end) {
        buf sql, ans;
        buf_init(&sql, 4096);
        buf_init(&ans, 4096);
        buf_append_str(&sql, "SELECT count(), min(time), max(time) FROM " CH_LOGS " WHERE 1");
        chq_age_cond(r, &sql, "time");
        int rc = chp_run(r, &sql, &ans);
        ch_field f[3];
        char *at = ans.ptr;
        if (rc == QUERY_OK && ans.len > 0 && ch_tsv_row(&at, ans.ptr + ans.len, f, 3) == 3 &&
            ch_field_u64(&f[0]) > 0) {
            have = 1;
            lo = ch_field_u64(&f[1]);
            hi = ch_field_u64(&f[2]);
        }
        buf_free(&sql);
        buf_free(&ans);
        if (rc != QUERY_OK)
            return rc;
    }
    int64_t s = p->has_start ? query_i64(p->start_ns) : have ? query_i64(lo) : 0;
    int64_t e = p->has_end ? query_i64(p->end_ns) : have ? query_i64(hi) + 1 : 0;
    if (e < s)
        e = s;
    int64_t m = (int64_t)CHP_MINUTE;
    w->lo = s / m;
    w->hi = (e + m - 1) / m;
    if (w->hi <= w->lo)
        w->hi = w->lo + 1;
    w->seconds = (double)(w->hi - w->lo) * 60.0;
    return QUERY_OK;
}

static int chp_plan_make(store_reader *r, const query_patterns_params *p, chp_plan *pl) {
    memset(pl, 0, sizeof(*pl));
    pl->p = p;
    int rc = chp_window(r, p, &pl->win);
    if (rc == QUERY_OK)
        rc = query_patterns_steps(p->step_ns, &pl->win, &pl->stepm, &pl->nsteps);
    if (rc != QUERY_OK)
        return rc;
    pl->min_level = logpattern_level(p->min_severity);
    pl->lo_ns = (uint64_t)pl->win.lo * CHP_MINUTE;
    pl->hi_ns = (uint64_t)pl->win.hi > UINT64_MAX / CHP_MINUTE ? UINT64_MAX
                                                                : (uint64_t)pl->win.hi * CHP_MINUTE;
    return QUERY_OK;
}

/* " FROM logs WHERE" the window's records with a pattern (and at the
 * level, of the service). */
static void chp_where(store_reader *r, const chp_plan *pl, buf *sql) {
    buf_printf(sql,
               " FROM " CH_LOGS " WHERE pattern > 0 AND time >= %" PRIu64 " AND time < %" PRIu64,
               pl->lo_ns, pl->hi_ns);
    chq_age_cond(r, sql, "time");
    if (pl->min_level > 0)
        buf_printf(sql, " AND " CHP_LEVEL " >= %d", pl->min_level);
    if (pl->p->service != NULL) { /* a pattern's records are its service's: fewer rows read */
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, pl->p->service);
    }
}

/* ---- pass 1: the sums ----------------------------------------------------------------- */

typedef struct chp_sums {
    chp_sum *v;
    size_t n, cap;
} chp_sums;

static void chp_sums_free(chp_sums *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].steps);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* The sum of id: the last one when the answer's rows come by id. */
static chp_sum *chp_sum_of(chp_sums *s, int64_t id) {
    if (s->n > 0 && s->v[s->n - 1].rank.id == id)
        return &s->v[s->n - 1];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        chp_sum *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    chp_sum *x = &s->v[s->n++];
    memset(x, 0, sizeof(*x));
    x->rank.id = id;
    x->first = UINT64_MAX;
    return x;
}

static int chp_totals(store_reader *r, const chp_plan *pl, chp_sums *s) {
    buf sql, ans;
    buf_init(&sql, 1 << 16);
    buf_init(&ans, CHP_ANS_MAX);
    buf_append_str(&sql, "SELECT pattern, " CHP_LEVEL " AS level, count(), min(time), max(time)");
    chp_where(r, pl, &sql);
    buf_append_str(&sql, " GROUP BY pattern, level ORDER BY pattern");
    int rc = chp_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[5];
    int k;
    while (rc == QUERY_OK && ans.len > 0 && (k = ch_tsv_row(&at, end, f, 5)) > 0) {
        chp_sum *x = k == 5 ? chp_sum_of(s, ch_field_i64(&f[0])) : NULL;
        if (x == NULL) {
            rc = k == 5 ? QUERY_ENOMEM : QUERY_EDB;
            break;
        }
        int level = (int)ch_field_u64(&f[1]);
        int64_t n = (int64_t)ch_field_u64(&f[2]);
        uint64_t first = ch_field_u64(&f[3]), last = ch_field_u64(&f[4]);
        x->rank.count += n;
        if (level >= 0 && level < LOGPATTERN_LEVELS)
            x->levels[level] += n;
        if (first < x->first)
            x->first = first;
        if (last > x->last)
            x->last = last;
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* Each sum's first record ever, and whether it lies in the window; with a
 * service, only that service's patterns are known. Both lists by id. */
static int chp_since(store_reader *r, const chp_plan *pl, chp_sums *s) {
    if (s->n == 0)
        return QUERY_OK;
    buf sql, ans;
    buf_init(&sql, 4096);
    buf_init(&ans, CHP_ANS_MAX);
    buf_append_str(&sql, "SELECT id, min(first_seen) FROM " CH_PATTERNS);
    if (pl->p->service != NULL) {
        buf_append_str(&sql, " WHERE service = ");
        ch_sql_quote_str(&sql, pl->p->service);
    }
    buf_append_str(&sql, " GROUP BY id ORDER BY id");
    uint64_t lo = pl->p->has_start ? pl->lo_ns : 0;
    uint64_t hi = pl->p->has_end ? pl->hi_ns : UINT64_MAX;
    int rc = chp_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[2];
    size_t i = 0;
    while (rc == QUERY_OK && ans.len > 0 && i < s->n && ch_tsv_row(&at, end, f, 2) == 2) {
        int64_t id = ch_field_i64(&f[0]);
        while (i < s->n && s->v[i].rank.id < id)
            i++;
        if (i == s->n || s->v[i].rank.id != id)
            continue;
        chp_sum *x = &s->v[i++];
        x->known = 1;
        x->rank.since = ch_field_u64(&f[1]);
        x->rank.is_new = x->rank.since >= lo && x->rank.since < hi;
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* ---- pass 2: the patterns shown --------------------------------------------------------- */

/* The shown sum of id (v[0..n) sorted by id in idx), NULL when not shown. */
typedef struct chp_index {
    int64_t id;
    size_t i;
} chp_index;

static int chp_index_cmp(const void *a, const void *b) {
    const chp_index *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static chp_sum *chp_shown(chp_sums *s, const chp_index *idx, size_t n, int64_t id) {
    chp_index key = {id, 0};
    const chp_index *hit = bsearch(&key, idx, n, sizeof(*idx), chp_index_cmp);
    return hit ? &s->v[hit->i] : NULL;
}

/* " IN (id, ...)" of the shown ones. */
static void chp_in(buf *sql, const chp_index *idx, size_t n) {
    buf_append_str(sql, " IN (");
    for (size_t i = 0; i < n; i++)
        buf_printf(sql, "%s%" PRId64, i ? "," : "", idx[i].id);
    buf_append_char(sql, ')');
}

/* Their service, kind and template (answer kept in tans). */
static int chp_templates(store_reader *r, chp_sums *s, const chp_index *idx, size_t n,
                         buf *tans) {
    buf sql;
    buf_init(&sql, 1 << 20);
    buf_append_str(&sql, "SELECT id, argMax(service, last_seen), argMax(kind, last_seen),"
                         " argMax(template, last_seen) FROM " CH_PATTERNS " WHERE id");
    chp_in(&sql, idx, n);
    buf_append_str(&sql, " GROUP BY id");
    int rc = chp_run(r, &sql, tans);
    char *at = tans->ptr, *end = tans->ptr + tans->len;
    ch_field f[4];
    while (rc == QUERY_OK && tans->len > 0 && ch_tsv_row(&at, end, f, 4) == 4) {
        chp_sum *x = chp_shown(s, idx, n, ch_field_i64(&f[0]));
        if (x == NULL)
            continue;
        x->service = f[1].ptr;
        x->service_len = f[1].len;
        x->kind = (int)ch_field_u64(&f[2]);
        x->tmpl = f[3].ptr;
        x->tmpl_len = f[3].len;
    }
    buf_free(&sql);
    return rc;
}

/* Their records per step. */
static int chp_steps(store_reader *r, const chp_plan *pl, chp_sums *s, const chp_index *idx,
                     size_t n) {
    buf sql, ans;
    buf_init(&sql, 1 << 20);
    buf_init(&ans, CHP_ANS_MAX);
    buf_printf(&sql,
               "SELECT pattern, intDiv(intDiv(time, %" PRIu64 ") - %" PRId64 ", %" PRId64
               ") AS k, count()",
               CHP_MINUTE, pl->win.lo, pl->stepm);
    chp_where(r, pl, &sql);
    buf_append_str(&sql, " AND pattern");
    chp_in(&sql, idx, n);
    buf_append_str(&sql, " GROUP BY pattern, k");
    int rc = chp_run(r, &sql, &ans);
    char *at = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[3];
    while (rc == QUERY_OK && ans.len > 0 && ch_tsv_row(&at, end, f, 3) == 3) {
        chp_sum *x = chp_shown(s, idx, n, ch_field_i64(&f[0]));
        int64_t k = ch_field_i64(&f[1]);
        if (x != NULL && x->steps != NULL && k >= 0 && k < pl->nsteps)
            x->steps[k] += (int64_t)ch_field_u64(&f[2]);
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

/* Their latest record in the window at min_severity (answer kept in eans). */
static int chp_examples(store_reader *r, const chp_plan *pl, chp_sums *s, const chp_index *idx,
                        size_t n, buf *eans) {
    buf sql;
    buf_init(&sql, 1 << 20);
    buf_printf(&sql,
               "SELECT pattern, max(time), argMax(body, time) FROM " CH_LOGS
               " WHERE time >= %" PRIu64 " AND time < %" PRIu64,
               pl->lo_ns, pl->hi_ns);
    chq_age_cond(r, &sql, "time");
    if (pl->p->min_severity > 0)
        buf_printf(&sql, " AND severity >= %d", pl->p->min_severity);
    buf_append_str(&sql, " AND pattern");
    chp_in(&sql, idx, n);
    buf_append_str(&sql, " GROUP BY pattern");
    int rc = chp_run(r, &sql, eans);
    char *at = eans->ptr, *end = eans->ptr + eans->len;
    ch_field f[3];
    while (rc == QUERY_OK && eans->len > 0 && ch_tsv_row(&at, end, f, 3) == 3) {
        chp_sum *x = chp_shown(s, idx, n, ch_field_i64(&f[0]));
        if (x == NULL)
            continue;
        x->example_t = ch_field_u64(&f[1]);
        x->example = f[2].len ? f[2].ptr : "null";
        x->example_len = f[2].len ? f[2].len : 4;
    }
    buf_free(&sql);
    return rc;
}

/* ---- the answer ------------------------------------------------------------------------- */

static void chp_item(const chp_plan *pl, const chp_sum *x, jw *w) {
    query_pattern_item it = {
        .id = x->rank.id,
        .service = x->service,
        .tmpl = x->tmpl,
        .service_len = x->service_len,
        .tmpl_len = x->tmpl_len,
        .kind = x->kind,
        .count = x->rank.count,
        .levels = x->levels,
        .steps = x->steps,
        .nsteps = pl->nsteps,
        .first = x->first == UINT64_MAX ? 0 : x->first,
        .last = x->last,
        .since = x->rank.since,
        .is_new = x->rank.is_new,
    };
    query_pattern_item_begin(w, &it);
    query_pattern_example(w, x->example, x->example_len, x->example_t);
    jw_object_end(w);
}

/* The sums, sorted and filtered: the first *matching of s answer the
 * query. */
static int chp_gather(store_reader *r, const chp_plan *pl, chp_sums *s, size_t *matching) {
    int rc = chp_totals(r, pl, s);
    if (rc == QUERY_OK)
        rc = chp_since(r, pl, s);
    if (rc != QUERY_OK)
        return rc;
    if (pl->p->service != NULL) { /* only the service's own patterns */
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i].known)
                s->v[k++] = s->v[i];
        s->n = k;
    }
    *matching = query_patterns_sort(s->v, s->n, sizeof(*s->v), pl->p->sort_new);
    return QUERY_OK;
}

int chq_patterns(store_reader *r, const query_patterns_params *p, buf *out) {
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT)
        return QUERY_EINVAL;
    chp_plan pl;
    chp_sums s;
    memset(&s, 0, sizeof(s));
    buf tans, eans;
    buf_init(&tans, CHP_ANS_MAX);
    buf_init(&eans, CHP_ANS_MAX);
    chp_index *idx = NULL;
    size_t matching = 0, shown = 0;
    int rc = chp_plan_make(r, p, &pl);
    if (rc == QUERY_OK)
        rc = chp_gather(r, &pl, &s, &matching);
    shown = matching < p->limit ? matching : p->limit;
    if (rc == QUERY_OK && shown > 0) {
        idx = malloc(shown * sizeof(*idx));
        if (idx == NULL)
            rc = QUERY_ENOMEM;
        for (size_t i = 0; rc == QUERY_OK && i < shown; i++) {
            idx[i] = (chp_index){s.v[i].rank.id, i};
            s.v[i].steps = calloc((size_t)pl.nsteps, sizeof(int64_t));
            if (s.v[i].steps == NULL)
                rc = QUERY_ENOMEM;
        }
        if (rc == QUERY_OK) {
            qsort(idx, shown, sizeof(*idx), chp_index_cmp);
            rc = chp_templates(r, &s, idx, shown, &tans);
        }
        if (rc == QUERY_OK)
            rc = chp_steps(r, &pl, &s, idx, shown);
        if (rc == QUERY_OK)
            rc = chp_examples(r, &pl, &s, idx, shown, &eans);
    }
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        query_patterns_begin(&w, pl.stepm, &pl.win, matching);
        for (size_t i = 0; i < shown; i++)
            chp_item(&pl, &s.v[i], &w);
        jw_array_end(&w);
        jw_object_end(&w);
        if (jw_error(&w))
            rc = jw_error(&w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    }
    free(idx);
    chp_sums_free(&s);
    buf_free(&tans);
    buf_free(&eans);
    return rc;
}
