/* query_traces.c - GET /api/v1/traces: trace search, see query.h.
 *
 * DESIGN
 * A trace matches when one of its spans matches every span filter (service,
 * name, attributes, status, q) and the trace itself satisfies the trace
 * filters (duration, start/end). Results are trace summaries newest first
 * by (start, id) with that pair as the cursor.
 *
 * Plan, cheapest first:
 *  - index: the equality filters the attribute index can answer (the span
 *    name, attributes no resource satisfies) are one FTS5 query over
 *    span_attr_fts. When it matches fewer than query_drive_limit spans,
 *    those spans are checked against every filter and their traces sorted.
 *  - service: when the service's traces (trace_services) are fewer than
 *    that, they are the candidates.
 *  - scan: otherwise the traces are walked newest first along traces_start
 *    (traces_error when only traces with errors can match) and each is
 *    tested with EXISTS over its spans; filters that match often stop the
 *    walk after one page, and a time window bounds it.
 * Every plan applies every filter, so they differ only in cost. The
 * per-service span counts of a summary come from trace_services.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr_index.h"
#include "model.h"
#include "query.h"
#include "query_internal.h"


typedef struct traces_plan {
    int64_t sid;
    buf match;                  /* FTS5 query over span_attr_fts */
    char *res[QUERY_MAX_ATTRS]; /* resources matching each attribute filter */
    char *q_lower;
    int span_filters; /* span filters other than the service */
    int drive;        /* 0 scan, 1 index, 2 service */
} traces_plan;

static void traces_plan_free(traces_plan *pl) {
    buf_free(&pl->match);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(pl->res[i]);
    free(pl->q_lower);
}

/* The span predicate over alias s (after "WHERE ... "): every span filter. */
static void traces_span_pred(qsql *q, const query_traces_params *p, const traces_plan *pl) {
    qsql_add(q, "1");
    if (p->service) {
        qsql_add(q, " AND s.service=");
        qsql_int(q, pl->sid);
    }
    if (p->name) {
        qsql_add(q, " AND s.name=");
        qsql_text(q, p->name, strlen(p->name));
    }
    if (p->status != QUERY_STATUS_ANY) {
        qsql_add(q, " AND s.status_code=");
        qsql_int(q, p->status - 1);
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        qsql_add(q, " AND ");
        qsql_attr_or_resource(q, "s.attrs", "s.resource", &p->attrs[i], pl->res[i]);
    }
    if (pl->q_lower) {
        size_t n = strlen(pl->q_lower);
        qsql_add(q, " AND (instr(lower(s.name),");
        qsql_text(q, pl->q_lower, n);
        qsql_add(q, ")>0 OR (");
        if (query_text_unescaped(pl->q_lower, n)) {
            /* necessary: the text is in the stored JSON as it is */
            qsql_add(q, "instr(lower(s.attrs),");
            qsql_text(q, pl->q_lower, n);
            qsql_add(q, ")>0 AND ");
        }
        qsql_add(q, "EXISTS(SELECT 1 FROM json_each(s.attrs) j"
                    " WHERE j.type NOT IN ('array','object','null') AND instr(lower("
                    "CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
                    " ELSE j.value END),");
        qsql_text(q, pl->q_lower, n);
        qsql_add(q, ")>0)))");
    }
}

/* Trace-level conditions on alias t (after "WHERE 1"). */
static void traces_trace_conds(qsql *q, const query_traces_params *p, int has_cursor,
                               int64_t cstart, int64_t cid) {
    if (p->status == QUERY_STATUS_ERROR)
        qsql_add(q, " AND t.error_count>0");
    qsql_time_range(q, "t.start_ns", p->has_start, query_i64(p->start_ns), p->has_end,
                    query_i64(p->end_ns));
    qsql_cursor(q, "t.start_ns", "t.id", has_cursor, cstart, cid);
    if (p->has_min_duration) {
        qsql_add(q, " AND max(t.end_ns-t.start_ns,0)>=");
        qsql_int(q, query_i64(p->min_duration_ns));
    }
    if (p->has_max_duration) {
        qsql_add(q, " AND max(t.end_ns-t.start_ns,0)<=");
        qsql_int(q, query_i64(p->max_duration_ns));
    }
}

static int traces_plan_make(sqlite3 *db, const query_traces_params *p, traces_plan *pl) {
    int rc = QUERY_OK;
    pl->span_filters = p->name != NULL || p->n_attrs > 0 || p->status != QUERY_STATUS_ANY ||
                       (p->q != NULL && p->q[0] != '\0');
    if (p->q != NULL && p->q[0] != '\0') {
        pl->q_lower = query_lower(p->q, strlen(p->q));
        if (pl->q_lower == NULL)
            return QUERY_ENOMEM;
    }
    if (p->name && attr_index_query_name(p->name, strlen(p->name), &pl->match) != BUF_OK)
        return QUERY_ENOMEM;
    rc = query_attrs_plan(db, p->attrs, p->n_attrs, pl->res, &pl->match);
    if (rc != QUERY_OK)
        return rc;
    qsql q;
    qsql_init(&q);
    int64_t n;
    if (pl->match.len > 0) {
        qsql_add(&q, "SELECT count(*) FROM (SELECT rowid FROM span_attr_fts"
                     " WHERE span_attr_fts MATCH ");
        qsql_text(&q, pl->match.ptr, pl->match.len);
        qsql_add(&q, " LIMIT ");
        qsql_int(&q, query_drive_limit);
        qsql_add(&q, ")");
        rc = query_scalar(db, &q, &n);
        if (rc == QUERY_OK && n < query_drive_limit)
            pl->drive = 1;
    }
    if (rc == QUERY_OK && pl->drive == 0 && p->service) {
        qsql_reset(&q);
        qsql_add(&q, "SELECT count(*) FROM (SELECT 1 FROM trace_services WHERE service=");
        qsql_int(&q, pl->sid);
        qsql_add(&q, " LIMIT ");
        qsql_int(&q, query_drive_limit);
        qsql_add(&q, ")");
        rc = query_scalar(db, &q, &n);
        if (rc == QUERY_OK && n < query_drive_limit)
            pl->drive = 2;
    }
    qsql_free(&q);
    return rc;
}

/* The services of trace `id` with their span counts, most spans first. */
static int traces_services(sqlite3_stmt *sv, int64_t id, jw *w) {
    sqlite3_bind_int64(sv, 1, id);
    jw_array_begin(w);
    int s;
    while ((s = sqlite3_step(sv)) == SQLITE_ROW) {
        jw_object_begin(w);
        jw_key(w, "name");
        query_text(w, sv, 0);
        jw_key(w, "spanCount");
        jw_int(w, sqlite3_column_int64(sv, 1));
        jw_object_end(w);
    }
    jw_array_end(w);
    sqlite3_reset(sv);
    return s == SQLITE_DONE ? QUERY_OK : QUERY_EDB;
}

/* A prepared trace search: rows (t.id, t.trace_id, t.start_ns, t.end_ns,
 * t.span_count, t.error_count, root service, root name), limit + 1 of them. */
typedef struct traces_run {
    traces_plan pl;
    qsql q;
    sqlite3_stmt *st;
} traces_run;

static void traces_run_free(traces_run *r) {
    sqlite3_finalize(r->st);
    qsql_free(&r->q);
    traces_plan_free(&r->pl);
}

/* after < 0: newest first from p->cursor; else by arrival (traces.id
 * ascending) after row `after` (the cursor is not used). */
static int traces_run_open(sqlite3 *db, const query_traces_params *p, traces_run *r,
                           int64_t after) {
    memset(r, 0, sizeof(*r));
    buf_init(&r->pl.match, 1 << 20);
    qsql_init(&r->q);
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->status < QUERY_STATUS_ANY ||
        p->status > QUERY_STATUS_ERROR)
        return QUERY_EINVAL;
    int64_t cstart = 0, cid = 0;
    int has_cursor = p->cursor != NULL && p->cursor[0] != '\0';
    if (after < 0 && has_cursor && query_cursor_decode(p->cursor, &cstart, &cid) != 0)
        return QUERY_EINVAL;
    if (after >= 0) {
        has_cursor = 2;
        cid = after;
    }

    traces_plan *pl = &r->pl;
    qsql *q = &r->q;
    int rc = QUERY_OK, empty = 0;
    if (p->service) {
        rc = query_service_id(db, p->service, &pl->sid);
        empty = rc == QUERY_OK && pl->sid == 0;
    }
    if (rc == QUERY_OK && !empty)
        rc = traces_plan_make(db, p, pl);
    if (rc != QUERY_OK)
        return rc;

    const char *cols = "SELECT t.id, t.trace_id, t.start_ns, t.end_ns, t.span_count,"
                       " t.error_count, rs.name, t.root_name FROM ";
    if (empty) {
        qsql_add(q, cols);
        qsql_add(q, "traces t LEFT JOIN services rs ON rs.id=t.root_service WHERE 0");
    } else if (pl->drive == 1) {
        qsql_add(q, "WITH cand(trace) AS (SELECT DISTINCT s.trace FROM"
                     " (SELECT rowid AS id FROM span_attr_fts WHERE span_attr_fts MATCH ");
        qsql_text(q, pl->match.ptr, pl->match.len);
        qsql_add(q, ") m CROSS JOIN spans s ON s.id=m.id WHERE ");
        traces_span_pred(q, p, pl);
        qsql_add(q, ") ");
        qsql_add(q, cols);
        qsql_add(q, "cand c CROSS JOIN traces t ON t.id=c.trace"
                     " LEFT JOIN services rs ON rs.id=t.root_service WHERE 1");
        traces_trace_conds(q, p, has_cursor, cstart, cid);
    } else if (pl->drive == 2) {
        qsql_add(q, cols);
        qsql_add(q, "trace_services ts CROSS JOIN traces t ON t.id=ts.trace"
                     " LEFT JOIN services rs ON rs.id=t.root_service WHERE ts.service=");
        qsql_int(q, pl->sid);
        traces_trace_conds(q, p, has_cursor, cstart, cid);
        if (pl->span_filters) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM spans s WHERE s.trace=t.id AND ");
            traces_span_pred(q, p, pl);
            qsql_add(q, ")");
        }
    } else {
        qsql_add(q, cols);
        qsql_add(q, "traces t LEFT JOIN services rs ON rs.id=t.root_service WHERE 1");
        traces_trace_conds(q, p, has_cursor, cstart, cid);
        if (p->service) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM trace_services ts WHERE ts.service=");
            qsql_int(q, pl->sid);
            qsql_add(q, " AND ts.trace=t.id)");
        }
        if (pl->span_filters) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM spans s WHERE s.trace=t.id AND ");
            traces_span_pred(q, p, pl);
            qsql_add(q, ")");
        }
    }
    qsql_add(q, after >= 0 ? " ORDER BY t.id LIMIT " : " ORDER BY t.start_ns DESC, t.id DESC LIMIT ");
    qsql_int(q, (int64_t)p->limit + 1);
    return qsql_prepare(q, db, &r->st);
}

#define TRACES_SERVICES_SQL                                                                        \
    "SELECT sv.name, ts.span_count FROM services sv"                                              \
    " JOIN trace_services ts ON ts.service=sv.id AND ts.trace=?1"                                 \
    " ORDER BY ts.span_count DESC, sv.name"

/* One summary from a row of the search (columns as traces_run). */
static int traces_summary(jw *w, sqlite3_stmt *st, sqlite3_stmt *sv) {
    uint64_t start = query_u64(st, 2), end = query_u64(st, 3);
    jw_object_begin(w);
    jw_key(w, "traceId");
    query_id(w, st, 1, 16);
    jw_key(w, "rootService");
    query_text(w, st, 6);
    jw_key(w, "rootName");
    query_text(w, st, 7);
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, start);
    jw_key(w, "durationNs");
    jw_uint(w, end > start ? end - start : 0);
    jw_key(w, "spanCount");
    jw_int(w, sqlite3_column_int64(st, 4));
    jw_key(w, "errorCount");
    jw_int(w, sqlite3_column_int64(st, 5));
    jw_key(w, "services");
    int rc = traces_services(sv, sqlite3_column_int64(st, 0), w);
    jw_object_end(w);
    return rc;
}

int query_trace_summary(sqlite3 *db, const uint8_t trace_id[16], buf *out) {
    sqlite3_stmt *st = NULL, *sv = NULL;
    int rc = QUERY_EDB;
    if (sqlite3_prepare_v2(db,
                           "SELECT t.id, t.trace_id, t.start_ns, t.end_ns, t.span_count,"
                           " t.error_count, rs.name, t.root_name FROM traces t"
                           " LEFT JOIN services rs ON rs.id=t.root_service WHERE t.trace_id=?1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, TRACES_SERVICES_SQL, -1, &sv, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_blob(st, 1, trace_id, 16, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        rc = QUERY_ENOTFOUND;
        goto out;
    }
    if (s != SQLITE_ROW)
        goto out;
    jw w;
    jw_init(&w, out);
    rc = traces_summary(&w, st, sv);
    if (rc == QUERY_OK)
        rc = query_finish(&w, SQLITE_DONE);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(sv);
    return rc;
}

int query_traces(sqlite3 *db, const query_traces_params *p, buf *out) {
    traces_run run;
    sqlite3_stmt *st = NULL, *sv = NULL;
    int rc = traces_run_open(db, p, &run, -1);
    if (rc != QUERY_OK)
        goto out;
    st = run.st;
    if (sqlite3_prepare_v2(db, TRACES_SERVICES_SQL, -1, &sv, NULL) != SQLITE_OK) {
        rc = QUERY_EDB;
        goto out;
    }

    jw w;
    query_list_begin(&w, out, "traces");
    size_t rows = 0;
    uint64_t last_start = 0;
    int64_t last_id = 0;
    int more = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == p->limit) {
            more = 1;
            s = SQLITE_DONE;
            break;
        }
        rows++;
        last_id = sqlite3_column_int64(st, 0);
        last_start = query_u64(st, 2);
        rc = traces_summary(&w, st, sv);
        if (rc != QUERY_OK)
            goto out;
    }
    rc = query_page_end(&w, more, last_start, last_id, s);
out:
    sqlite3_finalize(sv);
    traces_run_free(&run);
    return rc;
}

int query_traces_ids_after(sqlite3 *db, const query_traces_params *p, int64_t after,
                           int64_t *ids, size_t *n) {
    traces_run run;
    *n = 0;
    int rc = traces_run_open(db, p, &run, after < 0 ? 0 : after);
    if (rc == QUERY_OK) {
        int s;
        while (*n < p->limit && (s = sqlite3_step(run.st)) == SQLITE_ROW)
            ids[(*n)++] = sqlite3_column_int64(run.st, 0);
        if (*n < p->limit && s != SQLITE_DONE)
            rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    }
    traces_run_free(&run);
    return rc;
}
