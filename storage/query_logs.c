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

static int wf_init(sqlite3 *db, const char *words, words_filter *f) {
    memset(f, 0, sizeof(*f));
    f->lo = INT64_MAX;
    f->window = 4096;
    sqlite3_stmt *mx = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(id),0) FROM logs", -1, &mx, NULL);
    if (rc == SQLITE_OK && sqlite3_step(mx) == SQLITE_ROW)
        f->max_id = sqlite3_column_int64(mx, 0);
    sqlite3_finalize(mx);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?1"
                                " AND rowid<=?2 AND rowid>?3 ORDER BY rowid DESC",
                                -1, &f->st, NULL);
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

/* Counts index matches up to query_drive_limit. */
static int logs_estimate(sqlite3 *db, const char *table, const char *match, int64_t *n) {
    qsql q;
    qsql_init(&q);
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

/* The WHERE conditions every plan shares (after "WHERE 1"). */
static void logs_conditions(qsql *q, const query_logs_params *p, const logs_plan *pl,
                            int has_cursor, int64_t ctime, int64_t cid) {
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
    qsql_cursor(q, "l.time_ns", "l.id", has_cursor, ctime, cid);
    if (p->trace_id) {
        qsql_add(q, " AND l.trace_id=");
        qsql_blob(q, p->trace_id, 16);
    }
    if (p->span_id) {
        qsql_add(q, " AND l.span_id=");
        qsql_blob(q, p->span_id, 8);
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        qsql_add(q, " AND ");
        qsql_attr_or_resource(q, "l.attrs", "l.resource", &p->attrs[i], pl->res[i]);
    }
    if (pl->words && pl->drive == 2) {
        qsql_add(q, " AND l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ");
        qsql_text(q, pl->words, strlen(pl->words));
        qsql_add(q, ")");
    }
}

static int logs_plan_make(sqlite3 *db, const query_logs_params *p, logs_plan *pl) {
    int rc = QUERY_OK;
    if (p->q) {
        pl->words = query_fts_words(p->q, &rc);
        if (rc != QUERY_OK)
            return rc;
    }
    rc = query_attrs_plan(db, p->attrs, p->n_attrs, pl->res, &pl->attr_match);
    if (rc != QUERY_OK)
        return rc;
    if (p->trace_id) {
        pl->drive = 3; /* logs_trace: the records of one trace are few */
        return QUERY_OK;
    }
    int64_t best = query_drive_limit, n;
    if (pl->attr_match.len > 0) {
        rc = logs_estimate(db, "log_attr_fts", pl->attr_match.ptr, &n);
        if (rc != QUERY_OK)
            return rc;
        if (n < best) {
            best = n;
            pl->drive = 2;
        }
    }
    if (pl->words) {
        rc = logs_estimate(db, "logs_fts", pl->words, &n);
        if (rc != QUERY_OK)
            return rc;
        if (n < best) {
            best = n;
            pl->drive = 1;
        }
    }
    return QUERY_OK;
}

/* A prepared log search: rows (l.id, l.time_ns, ...) for logs_run_step(). */
typedef struct logs_run {
    logs_plan pl;
    qsql q;
    sqlite3_stmt *st;
    words_filter wf;
    int use_wf;
} logs_run;

static void logs_run_free(logs_run *r) {
    sqlite3_finalize(r->st);
    wf_free(&r->wf);
    qsql_free(&r->q);
    logs_plan_free(&r->pl);
}

/* The FROM of an index plan (drive 1: body words, 2: attributes): the
 * page by (time, id) from the index's rows, then its joins; CROSS JOIN
 * keeps the index match as the outer loop. */
static void logs_index_page(qsql *q, const query_logs_params *p, const logs_plan *pl,
                            int has_cursor, int64_t ctime, int64_t cid, const char *order) {
    const char *t = pl->drive == 1 ? "logs_fts" : "log_attr_fts";
    qsql_add(q, "(SELECT l.id AS id FROM (SELECT rowid AS id FROM ");
    qsql_add(q, t);
    qsql_add(q, " WHERE ");
    qsql_add(q, t);
    qsql_add(q, " MATCH ");
    if (pl->drive == 1)
        qsql_text(q, pl->words, strlen(pl->words));
    else
        qsql_text(q, pl->attr_match.ptr, pl->attr_match.len);
    qsql_add(q, ") m CROSS JOIN logs l ON l.id=m.id WHERE 1");
    logs_conditions(q, p, pl, has_cursor, ctime, cid);
    qsql_add(q, order);
    qsql_add(q, " LIMIT ");
    qsql_int(q, (int64_t)p->limit + 1);
    qsql_add(q, ") top CROSS JOIN logs l ON l.id=top.id");
}

/* after < 0: newest first from p->cursor; else by arrival (logs.id
 * ascending) after row `after`. */
static int logs_run_open(sqlite3 *db, const query_logs_params *p, logs_run *r, int64_t after) {
    memset(r, 0, sizeof(*r));
    buf_init(&r->pl.attr_match, 1 << 20);
    qsql_init(&r->q);
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL))
        return QUERY_EINVAL;
    int64_t ctime = 0, cid = 0;
    int has_cursor = p->cursor != NULL && p->cursor[0] != '\0';
    if (after < 0 && has_cursor && query_cursor_decode(p->cursor, &ctime, &cid) != 0)
        return QUERY_EINVAL;
    if (after >= 0) {
        has_cursor = 2;
        cid = after;
    }
    const char *order = after >= 0 ? " ORDER BY l.id" : " ORDER BY l.time_ns DESC, l.id DESC";

    logs_plan *pl = &r->pl;
    qsql *q = &r->q;
    int rc = QUERY_OK;
    int empty = 0;
    if (p->service) {
        rc = query_service_id(db, p->service, &pl->sid);
        empty = rc == QUERY_OK && pl->sid == 0;
    }
    if (rc == QUERY_OK && !empty)
        rc = logs_plan_make(db, p, pl);
    if (rc != QUERY_OK)
        return rc;

    qsql_add(q, "SELECT l.id, l.time_ns, l.observed_ns, l.severity, l.severity_text, l.body,"
                 " l.attrs, l.trace_id, l.span_id, sv.name, r.attrs, sc.name, sc.version,"
                 " l.event_name, l.flags FROM ");
    if (pl->drive == 1 || pl->drive == 2)
        logs_index_page(q, p, pl, has_cursor, ctime, cid, order);
    else
        qsql_add(q, "logs l");
    qsql_add(q, " JOIN services sv ON sv.id=l.service JOIN resources r ON r.id=l.resource"
                 " JOIN scopes sc ON sc.id=l.scope WHERE 1");
    if (empty)
        qsql_add(q, " AND 0");
    if (pl->drive != 1 && pl->drive != 2)
        logs_conditions(q, p, pl, has_cursor, ctime, cid);
    qsql_add(q, order);
    if (!(pl->words && pl->drive != 1 && pl->drive != 2)) {
        qsql_add(q, " LIMIT "); /* with a words filter the walk stops itself */
        qsql_int(q, (int64_t)p->limit + 1);
    }
    rc = qsql_prepare(q, db, &r->st);
    if (rc == QUERY_OK && pl->words && pl->drive != 1 && pl->drive != 2) {
        rc = wf_init(db, pl->words, &r->wf);
        r->use_wf = rc == QUERY_OK;
    }
    return rc;
}

/* The next matching row: SQLITE_ROW (r->st is on it), SQLITE_DONE, or an
 * error as a QUERY_* code (negative). */
static int logs_run_step(logs_run *r) {
    for (;;) {
        int s = sqlite3_step(r->st);
        if (s != SQLITE_ROW)
            return s == SQLITE_DONE ? s : ((s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB);
        if (!r->use_wf)
            return SQLITE_ROW;
        int has = 0;
        int rc = wf_has(&r->wf, sqlite3_column_int64(r->st, 0), &has);
        if (rc != QUERY_OK)
            return rc;
        if (has)
            return SQLITE_ROW;
    }
}


int query_logs(sqlite3 *db, const query_logs_params *p, buf *out) {
    logs_run run;
    int rc = logs_run_open(db, p, &run, -1);
    if (rc != QUERY_OK)
        goto out;
    sqlite3_stmt *st = run.st;

    jw w;
    query_list_begin(&w, out, "logs");
    size_t rows = 0;
    uint64_t last_time = 0;
    int64_t last_id = 0;
    int more = 0, s;
    for (;;) {
        s = logs_run_step(&run);
        if (s < 0) {
            rc = s;
            goto out;
        }
        if (s != SQLITE_ROW)
            break;
        if (rows == p->limit) { /* one more exists: there is a next page */
            more = 1;
            s = SQLITE_DONE;
            break;
        }
        rows++;
        last_id = sqlite3_column_int64(st, 0);
        last_time = query_u64(st, 1);
        jw_object_begin(&w);
        jw_key(&w, "timeUnixNano");
        jw_uint_string(&w, last_time);
        jw_key(&w, "observedTimeUnixNano");
        jw_uint_string(&w, query_u64(st, 2));
        jw_key(&w, "severityNumber");
        jw_int(&w, sqlite3_column_int(st, 3));
        jw_key(&w, "severityText");
        query_text(&w, st, 4);
        jw_key(&w, "body");
        query_raw(&w, st, 5, "null");
        jw_key(&w, "attributes");
        query_raw(&w, st, 6, "{}");
        jw_key(&w, "traceId");
        query_id(&w, st, 7, 16);
        jw_key(&w, "spanId");
        query_id(&w, st, 8, 8);
        jw_key(&w, "service");
        query_text(&w, st, 9);
        jw_key(&w, "resource");
        jw_object_begin(&w);
        jw_key(&w, "attributes");
        query_raw(&w, st, 10, "{}");
        jw_object_end(&w);
        jw_key(&w, "scope");
        jw_object_begin(&w);
        jw_key(&w, "name");
        query_text(&w, st, 11);
        jw_key(&w, "version");
        query_text(&w, st, 12);
        jw_object_end(&w);
        jw_key(&w, "eventName");
        query_text(&w, st, 13);
        jw_key(&w, "flags");
        jw_int(&w, sqlite3_column_int64(st, 14));
        jw_object_end(&w);
    }
    rc = query_page_end(&w, more, last_time, last_id, s);
out:
    logs_run_free(&run);
    return rc;
}

int query_logs_ids_after(sqlite3 *db, const query_logs_params *p, int64_t after, int64_t *ids,
                         size_t *n) {
    logs_run run;
    *n = 0;
    int rc = logs_run_open(db, p, &run, after < 0 ? 0 : after);
    while (rc == QUERY_OK && *n < p->limit) {
        int s = logs_run_step(&run);
        if (s < 0)
            rc = s;
        if (s != SQLITE_ROW)
            break;
        ids[(*n)++] = sqlite3_column_int64(run.st, 0);
    }
    logs_run_free(&run);
    return rc;
}
