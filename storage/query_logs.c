/* query_logs.c - GET /api/v1/logs, see query.h.
 *
 * DESIGN
 * Records are listed newest first by (time, id); the cursor is the last
 * record's (time, id), so a page continues exactly where the previous one
 * stopped whatever arrives meanwhile: new records sort before the cursor or
 * after it, never into the pages already read twice.
 *
 * Plan: when a filter is backed by an index that makes it selective -- the
 * trace id (logs_trace), the body words (logs_fts) or attribute equalities
 * (log_attr_fts) -- the matching rows (fewer than query_drive_limit) are
 * fetched from that index, the page is chosen by (time, id) alone, and only
 * its rows are joined for the answer. Otherwise the records are walked
 * newest first along logs_time (logs_service_time with a service) and the
 * filters are checked row by row, which stops after one page when matches
 * are common. Optional clauses are left out of the SQL rather than
 * disabled, so the planner sees exactly the filters in use.
 *
 * Body words in a walk are not checked with an FTS5 query per row (about
 * 0.3 ms each) but against the ids logs_fts matches, read newest id first
 * in windows that double as the walk reaches older ids (words_filter): a
 * walk that stops after one page reads only the recent part of the index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "attr_index.h"
#include "model.h"
#include "query.h"
#include "query_internal.h"


/* The ids matching the body words, loaded newest first in windows. */
typedef struct words_filter {
    sqlite3_stmt *st;
    int64_t *ids; /* descending */
    size_t n, cap;
    int64_t lo; /* ids > lo are loaded (INT64_MAX: none yet) */
    int64_t window;
    int64_t max_id;
} words_filter;

static void wf_free(words_filter *f) {
    sqlite3_finalize(f->st);
    free(f->ids);
}

/* The filter of segment seg's body words. */
static int wf_init(sqlite3 *db, int64_t seg, const char *words, words_filter *f) {
    memset(f, 0, sizeof(*f));
    f->lo = INT64_MAX;
    f->window = 4096;
    sqlite3_stmt *mx = NULL;
    int rc = seg_prepare(db, "SELECT coalesce(max(id),0) FROM logs_{N}", seg, &mx);
    if (rc == SQLITE_OK && sqlite3_step(mx) == SQLITE_ROW)
        f->max_id = sqlite3_column_int64(mx, 0);
    sqlite3_finalize(mx);
    if (rc == SQLITE_OK)
        rc = seg_prepare(db,
                         "SELECT rowid FROM logs_fts_{N} WHERE logs_fts_{N} MATCH ?1"
                         " AND rowid<=?2 AND rowid>?3 ORDER BY rowid DESC",
                         seg, &f->st);
    if (rc != SQLITE_OK)
        return QUERY_EDB;
    sqlite3_bind_text(f->st, 1, words, -1, SQLITE_TRANSIENT);
    return QUERY_OK;
}

/* Loads the next (older) window of matching ids. */
static int wf_extend(words_filter *f) {
    int64_t hi = f->lo == INT64_MAX ? f->max_id : f->lo;
    int64_t lo = hi - f->window < 0 ? 0 : hi - f->window;
    if (f->window < ((int64_t)1 << 40))
        f->window *= 2;
    sqlite3_bind_int64(f->st, 2, hi);
    sqlite3_bind_int64(f->st, 3, lo);
    int s;
    while ((s = sqlite3_step(f->st)) == SQLITE_ROW) {
        if (f->n == f->cap) {
            size_t cap = f->cap ? 2 * f->cap : 1024;
            int64_t *n = realloc(f->ids, cap * sizeof(*n));
            if (n == NULL) {
                sqlite3_reset(f->st);
                return QUERY_ENOMEM;
            }
            f->ids = n;
            f->cap = cap;
        }
        f->ids[f->n++] = sqlite3_column_int64(f->st, 0);
    }
    sqlite3_reset(f->st);
    if (s != SQLITE_DONE)
        return QUERY_EDB;
    f->lo = lo;
    return QUERY_OK;
}

static int wf_has(words_filter *f, int64_t id, int *has) {
    while (id <= f->lo && f->lo > 0) {
        int rc = wf_extend(f);
        if (rc != QUERY_OK)
            return rc;
    }
    size_t a = 0, b = f->n; /* ids[] is descending */
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (f->ids[m] > id)
            a = m + 1;
        else
            b = m;
    }
    *has = a < f->n && f->ids[a] == id;
    return QUERY_OK;
}

typedef struct logs_plan {
    int64_t sid;
    char *words;               /* FTS5 query over the body */
    buf attr_match;            /* FTS5 query over log_attr_fts */
    char *res[QUERY_MAX_ATTRS]; /* resources matching each attribute filter */
    int drive;                 /* 0 scan, 1 body words, 2 attributes, 3 trace id */
} logs_plan;

static void logs_plan_free(logs_plan *pl) {
    free(pl->words);
    buf_free(&pl->attr_match);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(pl->res[i]);
}

/* Counts index matches up to query_drive_limit (table: a template). */
static int logs_estimate(sqlite3 *db, int64_t seg, const char *table, const char *match,
                         int64_t *n) {
    qsql q;
    qsql_init(&q);
    qsql_seg(&q, seg);
    qsql_add(&q, "SELECT count(*) FROM (SELECT rowid FROM ");
    qsql_add(&q, table);
    qsql_add(&q, " WHERE ");
    qsql_add(&q, table);
    qsql_add(&q, " MATCH ");
    qsql_text(&q, match, strlen(match));
    qsql_add(&q, " LIMIT ");
    qsql_int(&q, query_drive_limit);
    qsql_add(&q, ")");
    int rc = query_scalar(db, &q, n);
    qsql_free(&q);
    return rc;
}

/* Where a page starts in one segment (see traces_from in query_traces.c). */
typedef struct logs_from {
    int mode; /* 0 none, 1 before (time, gid), 2 after gid */
    int64_t key, gid;
} logs_from;

/* The WHERE conditions every plan shares (after "WHERE 1") in segment
 * seg. */
static void logs_conditions(qsql *q, const query_logs_params *p, const logs_plan *pl,
                            const logs_from *f, int64_t seg) {
    if (p->min_severity > 0) {
        qsql_add(q, " AND l.severity>=");
        qsql_int(q, p->min_severity);
    }
    if (p->service) {
        qsql_add(q, " AND l.service=");
        qsql_int(q, pl->sid);
    }
    qsql_time_range(q, "l.time_ns", p->has_start, query_i64(p->start_ns), p->has_end,
                    query_i64(p->end_ns));
    if (f->mode == 1) {
        qsql_cursor_seg(q, "l.time_ns", "l.id", seg, f->key, f->gid);
    } else if (f->mode == 2 && seg == SEG_OF(f->gid)) {
        qsql_add(q, " AND l.id>");
        qsql_int(q, SEG_ROW(f->gid));
    }
    if (p->trace_id) {
        qsql_add(q, " AND l.trace_id=");
        qsql_blob(q, p->trace_id, 16);
    }
    if (p->span_id) {
        qsql_add(q, " AND l.span_id=");
        qsql_blob(q, p->span_id, 8);
    }
    if (p->pattern) {
        qsql_add(q, " AND l.pattern=");
        qsql_int(q, p->pattern);
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        qsql_add(q, " AND ");
        qsql_attr_or_resource(q, "l.attrs", "l.resource", &p->attrs[i], pl->res[i]);
    }
    if (pl->words && pl->drive == 2) {
        qsql_add(q, " AND l.id IN (SELECT rowid FROM logs_fts_{N} WHERE logs_fts_{N} MATCH ");
        qsql_text(q, pl->words, strlen(pl->words));
        qsql_add(q, ")");
    }
}

/* The parts of the plan that do not depend on the segment. */
static int logs_plan_make(sqlite3 *db, const query_logs_params *p, logs_plan *pl) {
    int rc = QUERY_OK;
    if (p->q) {
        pl->words = query_fts_words(p->q, &rc);
        if (rc != QUERY_OK)
            return rc;
    }
    return query_attrs_plan(db, p->attrs, p->n_attrs, pl->res, &pl->attr_match);
}

/* The plan in segment seg: the most selective index under
 * query_drive_limit drives it, else the newest-first walk. */
static int logs_plan_drive(sqlite3 *db, const query_logs_params *p, logs_plan *pl, int64_t seg) {
    pl->drive = 0;
    if (p->trace_id) {
        pl->drive = 3; /* logs_trace: the records of one trace are few */
        return QUERY_OK;
    }
    int64_t best = query_drive_limit, n;
    int rc;
    if (pl->attr_match.len > 0) {
        rc = logs_estimate(db, seg, "log_attr_fts_{N}", pl->attr_match.ptr, &n);
        if (rc != QUERY_OK)
            return rc;
        if (n < best) {
            best = n;
            pl->drive = 2;
        }
    }
    if (pl->words) {
        rc = logs_estimate(db, seg, "logs_fts_{N}", pl->words, &n);
        if (rc != QUERY_OK)
            return rc;
        if (n < best) {
            best = n;
            pl->drive = 1;
        }
    }
    return QUERY_OK;
}

/* A log search: the plan and, per segment, a statement giving rows
 * (l.id, l.time_ns) for logs_run_step(). */
typedef struct logs_run {
    logs_plan pl;
    int empty; /* an unknown service: nothing matches */
    qsql q;
    sqlite3_stmt *st;
    words_filter wf;
    int use_wf;
} logs_run;

static void logs_run_close_seg(logs_run *r) {
    sqlite3_finalize(r->st);
    r->st = NULL;
    wf_free(&r->wf);
    memset(&r->wf, 0, sizeof(r->wf));
    r->use_wf = 0;
}

static void logs_run_free(logs_run *r) {
    logs_run_close_seg(r);
    qsql_free(&r->q);
    logs_plan_free(&r->pl);
}

/* The FROM of an index plan (drive 1: body words, 2: attributes): the
 * page by (time, id) from the index's rows; CROSS JOIN keeps the index
 * match as the outer loop. */
static void logs_index_page(qsql *q, const query_logs_params *p, const logs_plan *pl,
                            const logs_from *f, int64_t seg, const char *order) {
    const char *t = pl->drive == 1 ? "logs_fts_{N}" : "log_attr_fts_{N}";
    qsql_add(q, "(SELECT l.id AS id, l.time_ns AS time_ns FROM (SELECT rowid AS id FROM ");
    qsql_add(q, t);
    qsql_add(q, " WHERE ");
    qsql_add(q, t);
    qsql_add(q, " MATCH ");
    if (pl->drive == 1)
        qsql_text(q, pl->words, strlen(pl->words));
    else
        qsql_text(q, pl->attr_match.ptr, pl->attr_match.len);
    qsql_add(q, ") m CROSS JOIN logs_{N} l ON l.id=m.id WHERE 1");
    logs_conditions(q, p, pl, f, seg);
    qsql_add(q, order);
    qsql_add(q, " LIMIT ");
    qsql_int(q, (int64_t)p->limit + 1);
    qsql_add(q, ") l");
}

/* Checks p and makes the plan's global parts. */
static int logs_run_new(sqlite3 *db, const query_logs_params *p, logs_run *r) {
    memset(r, 0, sizeof(*r));
    buf_init(&r->pl.attr_match, 1 << 20);
    qsql_init(&r->q);
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL))
        return QUERY_EINVAL;
    int rc = QUERY_OK;
    if (p->service) {
        rc = query_service_id(db, p->service, &r->pl.sid);
        r->empty = rc == QUERY_OK && r->pl.sid == 0;
    }
    if (rc == QUERY_OK && !r->empty)
        rc = logs_plan_make(db, p, &r->pl);
    return rc;
}

/* Prepares the search in segment seg from f. */
static int logs_run_seg(sqlite3 *db, const query_logs_params *p, logs_run *r, int64_t seg,
                        const logs_from *f) {
    logs_plan *pl = &r->pl;
    qsql *q = &r->q;
    logs_run_close_seg(r);
    qsql_reset(q);
    qsql_seg(q, seg);
    int rc = logs_plan_drive(db, p, pl, seg);
    if (rc != QUERY_OK)
        return rc;
    const char *order = f->mode == 2 ? " ORDER BY l.id" : " ORDER BY l.time_ns DESC, l.id DESC";
    int indexed = pl->drive == 1 || pl->drive == 2;
    qsql_add(q, "SELECT l.id, l.time_ns FROM ");
    if (indexed) {
        logs_index_page(q, p, pl, f, seg, order);
        qsql_add(q, " WHERE 1");
    } else {
        /* a pattern's records: along (pattern, time) */
        qsql_add(q, p->pattern && pl->drive == 0 ? "logs_{N} l INDEXED BY logs_{N}_pattern WHERE 1"
                                                 : "logs_{N} l WHERE 1");
        logs_conditions(q, p, pl, f, seg);
    }
    qsql_add(q, order);
    if (!(pl->words && !indexed)) {
        qsql_add(q, " LIMIT "); /* with a words filter the walk stops itself */
        qsql_int(q, (int64_t)p->limit + 1);
    }
    rc = qsql_prepare(q, db, &r->st);
    if (rc == QUERY_OK && pl->words && !indexed) {
        rc = wf_init(db, seg, pl->words, &r->wf);
        r->use_wf = rc == QUERY_OK;
    }
    return rc;
}

/* The next matching row: SQLITE_ROW (r->st is on it), SQLITE_DONE, or an
 * error as a QUERY_* code (negative). The deadline ends the rows. */
static int logs_run_step(store_reader *rd, logs_run *r) {
    for (;;) {
        int s = query_step_done(rd, sqlite3_step(r->st));
        if (s != SQLITE_ROW)
            return s == SQLITE_DONE ? s : ((s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB);
        if (!r->use_wf)
            return SQLITE_ROW;
        int has = 0;
        int rc = wf_has(&r->wf, sqlite3_column_int64(r->st, 0), &has);
        if (rc != QUERY_OK)
            return store_reader_timed_out(rd) ? SQLITE_DONE : rc;
        if (has)
            return SQLITE_ROW;
    }
}

/* 1 when segment m cannot hold records of p's pattern: made before log
 * patterns, its records have none. */
static int logs_seg_patternless(const seg_meta *m, const query_logs_params *p) {
    return p->pattern != 0 && m->format < SEG_FORMAT_LOG_PATTERNS;
}

/* 1 when no record of segment m can be in the answer. */
static int logs_seg_skip(const seg_meta *m, const query_logs_params *p, int64_t floor) {
    if (m->items == 0 || m->max_time == SEG_NO_MAX || logs_seg_patternless(m, p))
        return 1;
    if (p->has_start && m->max_time < query_i64(p->start_ns))
        return 1;
    if (p->has_end && m->min_time >= query_i64(p->end_ns))
        return 1;
    return m->max_time < floor;
}

/* The candidates of a page: each live log segment's first limit + 1 rows
 * from f, newest segment first, sorted and cut to limit + 1. */
static int logs_page(store_reader *rd, const query_logs_params *p, logs_run *r,
                     const logs_from *f, query_cands *c) {
    const seg_meta *segs;
    size_t n;
    store_reader_segs(rd, MODEL_SIGNAL_LOGS, &segs, &n);
    for (size_t i = 0; i < n && !store_reader_timed_out(rd); i++) {
        if (f->mode == 1 && segs[i].min_time > f->key)
            continue; /* everything there comes before the cursor */
        query_cands_sort(c);
        if (logs_seg_skip(&segs[i], p, query_cands_floor(c, p->limit)))
            continue;
        int rc = logs_run_seg(rd->db, p, r, segs[i].id, f);
        size_t got = 0;
        while (rc == QUERY_OK && got <= p->limit) {
            int s = logs_run_step(rd, r);
            if (s < 0)
                rc = s;
            if (s != SQLITE_ROW)
                break;
            rc = query_cands_push(c, sqlite3_column_int64(r->st, 1),
                                  SEG_GID(segs[i].id, sqlite3_column_int64(r->st, 0)));
            got++;
        }
        if (rc != QUERY_OK && !store_reader_timed_out(rd))
            return rc;
    }
    query_cands_keep(c, p->limit + 1);
    return QUERY_OK;
}

/* One record, row `row` of segment m, as an item of the answer; its
 * resource is named (res) and written once at the end. */
static int logs_item(sqlite3 *db, const seg_meta *m, int64_t row, query_res_set *res, jw *w) {
#define LOGS_ITEM_SQL(pattern)                                                                     \
    "SELECT l.id, l.time_ns, l.observed_ns, l.severity, l.severity_text,"                          \
    " l.body, l.attrs, l.trace_id, l.span_id, sv.name, l.resource, sc.name,"                       \
    " sc.version, l.event_name, l.flags, " pattern " FROM logs_{N} l"                              \
    " JOIN services sv ON sv.id=l.service"                                                         \
    " JOIN scopes sc ON sc.id=l.scope WHERE l.id=?1"
    sqlite3_stmt *st = NULL;
    int rc = m == NULL ? SQLITE_ERROR
                       : seg_prepare(db,
                                     m->format >= SEG_FORMAT_LOG_PATTERNS ? LOGS_ITEM_SQL("l.pattern")
                                                                          : LOGS_ITEM_SQL("NULL"),
                                     m->id, &st);
#undef LOGS_ITEM_SQL
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return QUERY_EDB;
    }
    sqlite3_bind_int64(st, 1, row);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        jw_object_begin(w);
        jw_key(w, "timeUnixNano");
        jw_uint_string(w, query_u64(st, 1));
        jw_key(w, "observedTimeUnixNano");
        jw_uint_string(w, query_u64(st, 2));
        jw_key(w, "severityNumber");
        jw_int(w, sqlite3_column_int(st, 3));
        jw_key(w, "severityText");
        query_text(w, st, 4);
        jw_key(w, "body");
        query_raw(w, st, 5, "null");
        jw_key(w, "attributes");
        query_raw(w, st, 6, "{}");
        jw_key(w, "traceId");
        query_id(w, st, 7, 16);
        jw_key(w, "spanId");
        query_id(w, st, 8, 8);
        jw_key(w, "service");
        query_text(w, st, 9);
        rc = query_res_ref(res, w, sqlite3_column_int64(st, 10));
        jw_key(w, "scope");
        jw_object_begin(w);
        jw_key(w, "name");
        query_text(w, st, 11);
        jw_key(w, "version");
        query_text(w, st, 12);
        jw_object_end(w);
        jw_key(w, "eventName");
        query_text(w, st, 13);
        jw_key(w, "flags");
        jw_int(w, sqlite3_column_int64(st, 14));
        jw_key(w, "patternId");
        if (sqlite3_column_type(st, 15) == SQLITE_NULL)
            jw_null(w);
        else
            jw_int(w, sqlite3_column_int64(st, 15));
        jw_object_end(w);
        s = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != QUERY_OK) /* rc: query_res_ref's, the prepare succeeded */
        return rc;
    return s == SQLITE_DONE ? QUERY_OK : QUERY_EDB;
}

int query_logs(store_reader *rd, const query_logs_params *p, buf *out) {
    if (rd->ch != NULL) /* a ClickHouse store */
        return chq_logs(rd, p, out);
    logs_run run;
    query_cands c = {0};
    query_res_set res;
    query_res_init(&res);
    if (store_reader_begin(rd) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(rd); /* the plan reads the global tables: bounded */
    int rc = logs_run_new(rd->db, p, &run);
    store_reader_arm(rd); /* the deadline bounds the walk of the segments */
    logs_from f = {0, 0, 0};
    if (rc == QUERY_OK && p->cursor != NULL && p->cursor[0] != '\0') {
        f.mode = 1;
        if (query_cursor_decode(p->cursor, &f.key, &f.gid) != 0)
            rc = QUERY_EINVAL;
    }
    if (rc == QUERY_OK && !run.empty)
        rc = logs_page(rd, p, &run, &f, &c);
    if (rc != QUERY_OK)
        goto out;
    logs_run_close_seg(&run);
    store_reader_relax(rd); /* rendering the page found is bounded */
    jw w;
    query_list_begin(&w, out, "logs");
    size_t rows = c.n < p->limit ? c.n : p->limit;
    for (size_t i = 0; i < rows && rc == QUERY_OK; i++)
        rc = logs_item(rd->db, store_reader_seg(rd, SEG_OF(c.v[i].gid)), SEG_ROW(c.v[i].gid), &res,
                       &w);
    jw_array_end(&w);
    if (rc == QUERY_OK)
        rc = query_res_write(rd->db, &res, &w);
    if (rc != QUERY_OK)
        goto out;
    query_cand last = rows ? c.v[rows - 1] : (query_cand){0, 0};
    rc = query_page_tail(&w, c.n > p->limit, (uint64_t)last.key, last.gid, SQLITE_DONE,
                         store_reader_timed_out(rd));
out:
    query_res_free(&res);
    query_cands_free(&c);
    logs_run_free(&run);
    store_reader_end(rd);
    return rc;
}

int query_logs_ids_after(store_reader *rd, const query_logs_params *p, int64_t after,
                         int64_t *ids, size_t *n) {
    logs_run run;
    *n = 0;
    int rc = logs_run_new(rd->db, p, &run);
    logs_from f = {2, 0, after < 0 ? 0 : after};
    const seg_meta *segs;
    size_t ns;
    store_reader_segs(rd, MODEL_SIGNAL_LOGS, &segs, &ns);
    for (size_t i = ns; rc == QUERY_OK && !run.empty && i-- > 0 && *n < p->limit;) {
        if (segs[i].id < SEG_OF(f.gid) || logs_seg_patternless(&segs[i], p))
            continue;
        rc = logs_run_seg(rd->db, p, &run, segs[i].id, &f);
        while (rc == QUERY_OK && *n < p->limit) {
            int s = logs_run_step(rd, &run);
            if (s < 0)
                rc = s;
            if (s != SQLITE_ROW)
                break;
            ids[(*n)++] = SEG_GID(segs[i].id, sqlite3_column_int64(run.st, 0));
        }
    }
    logs_run_free(&run);
    return rc;
}
