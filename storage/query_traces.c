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

#include "ch_query.h"
#include "attr_index.h"
#include "model.h"
#include "query.h"
#include "query_internal.h"


typedef struct traces_plan {
    int64_t sid;
    buf match;                  /* FTS5 query of the equality filters over span_attr_fts */
    buf qmatch;                 /* FTS5 query of q's words (format 3 segments) */
    buf seg_match;              /* the segment's: match, and qmatch where it has words */
    char *res[QUERY_MAX_ATTRS]; /* resources matching each attribute filter */
    char *q_lower;
    query_words qw; /* q's words, lowercased */
    int format;       /* the segment's (SEG_FORMAT: q's words are in its index) */
    int span_filters; /* span filters other than the service */
    int drive;        /* 0 scan, 1 index, 2 service */
} traces_plan;

static void traces_plan_free(traces_plan *pl) {
    buf_free(&pl->match);
    buf_free(&pl->qmatch);
    buf_free(&pl->seg_match);
    for (size_t i = 0; i < QUERY_MAX_ATTRS; i++)
        free(pl->res[i]);
    free(pl->q_lower);
    query_words_free(&pl->qw);
}

/* q in a segment whose index holds the spans' words: the candidates the
 * index gave are checked to hold each word in their texts (the name, status
 * message, attributes and events as stored), which rules out rows the index
 * matched by a hash collision or a stale entry. When the index does not
 * drive the plan (the service's traces or the walk), the words are looked
 * up in it all the same: the text check alone would take part of a word
 * ("ilv" in "silver") for a word. */
static void traces_q_check(qsql *q, const traces_plan *pl) {
    if (pl->drive != 1) {
        qsql_add(q, " AND s.id IN (SELECT rowid FROM span_attr_fts_{N}"
                    " WHERE span_attr_fts_{N} MATCH ");
        qsql_text(q, pl->qmatch.ptr, pl->qmatch.len);
        qsql_add(q, ")");
    }
    for (size_t i = 0; i < pl->qw.n; i++) {
        size_t n = strlen(pl->qw.w[i]);
        /* a long word was matched by its first bytes: check it whole */
        int whole = attr_index_word_cut(pl->qw.w[i], n) < n;
        qsql_add(q, whole ? " AND loupe_has_word(" : " AND instr(");
        qsql_add(q, "lower(s.name||' '||s.status_message||' '||s.attrs||' '||s.events),");
        qsql_text(q, pl->qw.w[i], n);
        qsql_add(q, whole ? (pl->qw.pfx[i] ? ",1)" : ",0)") : ")>0");
    }
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
    if (pl->q_lower && pl->format >= SEG_FORMAT) {
        traces_q_check(q, pl);
    } else if (pl->q_lower) { /* an adopted segment: no words in its index */
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

/* Where a page starts in one segment: nothing (the first page), before a
 * cursor (key, gid) in descending order, or after a gid in arrival order
 * (an export). */
typedef struct traces_from {
    int mode; /* 0 none, 1 before (key, gid), 2 after gid */
    int64_t key, gid;
} traces_from;

/* Trace-level conditions on alias t (after "WHERE 1") in segment seg. */
static void traces_trace_conds(qsql *q, const query_traces_params *p, const traces_from *f,
                               int64_t seg) {
    if (p->status == QUERY_STATUS_ERROR)
        qsql_add(q, " AND t.error_count>0");
    qsql_time_range(q, "t.start_ns", p->has_start, query_i64(p->start_ns), p->has_end,
                    query_i64(p->end_ns));
    if (f->mode == 1) {
        qsql_cursor_seg(q, "t.start_ns", "t.id", seg, f->key, f->gid);
    } else if (f->mode == 2 && seg == SEG_OF(f->gid)) {
        qsql_add(q, " AND t.id>");
        qsql_int(q, SEG_ROW(f->gid));
    }
    if (p->has_min_duration) {
        qsql_add(q, " AND max(t.end_ns-t.start_ns,0)>=");
        qsql_int(q, query_i64(p->min_duration_ns));
    }
    if (p->has_max_duration) {
        qsql_add(q, " AND max(t.end_ns-t.start_ns,0)<=");
        qsql_int(q, query_i64(p->max_duration_ns));
    }
}

/* The parts of the plan that do not depend on the segment: the filters'
 * text, the matching resources, the FTS5 query of the equality filters. */
static int traces_plan_make(sqlite3 *db, const query_traces_params *p, traces_plan *pl) {
    pl->span_filters = p->name != NULL || p->n_attrs > 0 || p->status != QUERY_STATUS_ANY ||
                       (p->q != NULL && p->q[0] != '\0');
    if (p->q != NULL && p->q[0] != '\0') {
        pl->q_lower = query_lower(p->q, strlen(p->q));
        if (pl->q_lower == NULL || query_words_of(p->q, &pl->qw, &pl->qmatch) != QUERY_OK)
            return QUERY_ENOMEM;
        /* nothing but separators and operators: no span has such a word
         * (traces_run_new answers the empty list at once) */
    }
    if (p->name && attr_index_query_name(p->name, strlen(p->name), &pl->match) != BUF_OK)
        return QUERY_ENOMEM;
    return query_attrs_plan(db, p->attrs, p->n_attrs, pl->res, &pl->match);
}

/* The plan in segment seg (of `format`): an index match (the equality
 * filters, and q's words where the index holds them) or the service's
 * traces drive it when they are few there, else the newest-first walk. */
static int traces_plan_drive(sqlite3 *db, const query_traces_params *p, traces_plan *pl,
                             int64_t seg, int format) {
    int rc = QUERY_OK;
    qsql q;
    qsql_init(&q);
    qsql_seg(&q, seg);
    int64_t n;
    pl->drive = 0;
    pl->format = format;
    buf_reset(&pl->seg_match);
    if (buf_append(&pl->seg_match, pl->match.ptr ? pl->match.ptr : "", pl->match.len) != BUF_OK)
        rc = QUERY_ENOMEM;
    if (rc == QUERY_OK && pl->q_lower && format >= SEG_FORMAT && pl->qmatch.len > 0 &&
        ((pl->seg_match.len > 0 && buf_append_str(&pl->seg_match, " AND ") != BUF_OK) ||
         buf_append(&pl->seg_match, pl->qmatch.ptr, pl->qmatch.len) != BUF_OK))
        rc = QUERY_ENOMEM;
    if (rc == QUERY_OK && pl->seg_match.len > 0) {
        qsql_add(&q, "SELECT count(*) FROM (SELECT rowid FROM span_attr_fts_{N}"
                     " WHERE span_attr_fts_{N} MATCH ");
        qsql_text(&q, pl->seg_match.ptr, pl->seg_match.len);
        qsql_add(&q, " LIMIT ");
        qsql_int(&q, query_drive_limit);
        qsql_add(&q, ")");
        rc = query_scalar(db, &q, &n);
        if (rc == QUERY_OK && n < query_drive_limit)
            pl->drive = 1;
    }
    if (rc == QUERY_OK && pl->drive == 0 && p->service) {
        qsql_reset(&q);
        qsql_add(&q, "SELECT count(*) FROM (SELECT 1 FROM trace_services_{N} WHERE service=");
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

/* A trace search: the plan and, per segment, the statement giving rows
 * (t.id, t.start_ns), limit + 1 of them. */
typedef struct traces_run {
    traces_plan pl;
    int empty; /* an unknown service: nothing matches */
    qsql q;
    sqlite3_stmt *st;
} traces_run;

static void traces_run_free(traces_run *r) {
    sqlite3_finalize(r->st);
    qsql_free(&r->q);
    traces_plan_free(&r->pl);
}

/* Checks p and makes the plan's global parts. */
static int traces_run_new(sqlite3 *db, const query_traces_params *p, traces_run *r) {
    memset(r, 0, sizeof(*r));
    buf_init(&r->pl.match, 1 << 20);
    buf_init(&r->pl.qmatch, 1 << 20);
    buf_init(&r->pl.seg_match, 2 << 20);
    qsql_init(&r->q);
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->status < QUERY_STATUS_ANY ||
        p->status > QUERY_STATUS_ERROR)
        return QUERY_EINVAL;
    int rc = QUERY_OK;
    if (p->service) {
        rc = query_service_id(db, p->service, &r->pl.sid);
        r->empty = rc == QUERY_OK && r->pl.sid == 0;
    }
    if (rc == QUERY_OK && !r->empty)
        rc = traces_plan_make(db, p, &r->pl);
    if (rc == QUERY_OK && r->pl.q_lower != NULL && r->pl.qw.n == 0)
        r->empty = 1;
    return rc;
}

/* Prepares r->st: the search in segment seg (of `format`) from f. */
static int traces_run_seg(sqlite3 *db, const query_traces_params *p, traces_run *r, int64_t seg,
                          int format, const traces_from *f) {
    traces_plan *pl = &r->pl;
    qsql *q = &r->q;
    sqlite3_finalize(r->st);
    r->st = NULL;
    qsql_reset(q);
    qsql_seg(q, seg);
    int rc = traces_plan_drive(db, p, pl, seg, format);
    if (rc != QUERY_OK)
        return rc;
    const char *cols = "SELECT t.id, t.start_ns FROM ";
    if (pl->drive == 1) {
        qsql_add(q, "WITH cand(trace) AS (SELECT DISTINCT s.trace FROM"
                     " (SELECT rowid AS id FROM span_attr_fts_{N} WHERE span_attr_fts_{N} MATCH ");
        qsql_text(q, pl->seg_match.ptr, pl->seg_match.len);
        qsql_add(q, ") m CROSS JOIN spans_{N} s ON s.id=m.id WHERE ");
        traces_span_pred(q, p, pl);
        qsql_add(q, ") ");
        qsql_add(q, cols);
        qsql_add(q, "cand c CROSS JOIN traces_{N} t ON t.id=c.trace WHERE 1");
        traces_trace_conds(q, p, f, seg);
    } else if (pl->drive == 2) {
        qsql_add(q, cols);
        qsql_add(q, "trace_services_{N} ts CROSS JOIN traces_{N} t ON t.id=ts.trace"
                     " WHERE ts.service=");
        qsql_int(q, pl->sid);
        traces_trace_conds(q, p, f, seg);
        if (pl->span_filters) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM spans_{N} s WHERE s.trace=t.id AND ");
            traces_span_pred(q, p, pl);
            qsql_add(q, ")");
        }
    } else {
        qsql_add(q, cols);
        qsql_add(q, "traces_{N} t WHERE 1");
        traces_trace_conds(q, p, f, seg);
        if (p->service) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM trace_services_{N} ts WHERE ts.service=");
            qsql_int(q, pl->sid);
            qsql_add(q, " AND ts.trace=t.id)");
        }
        if (pl->span_filters) {
            qsql_add(q, " AND EXISTS(SELECT 1 FROM spans_{N} s WHERE s.trace=t.id AND ");
            traces_span_pred(q, p, pl);
            qsql_add(q, ")");
        }
    }
    qsql_add(q, f->mode == 2 ? " ORDER BY t.id LIMIT "
                             : " ORDER BY t.start_ns DESC, t.id DESC LIMIT ");
    qsql_int(q, (int64_t)p->limit + 1);
    return qsql_prepare(q, db, &r->st);
}

/* Adds segment seg's rows of r->st to c: (start, gid). Returns a QUERY_*
 * code; the deadline ends the rows without an error. */
static int traces_collect(store_reader *rd, traces_run *r, int64_t seg, query_cands *c) {
    int s;
    while ((s = sqlite3_step(r->st)) == SQLITE_ROW) {
        int rc = query_cands_push(c, sqlite3_column_int64(r->st, 1),
                                  SEG_GID(seg, sqlite3_column_int64(r->st, 0)));
        if (rc != QUERY_OK)
            return rc;
    }
    s = query_step_done(rd, s);
    return s == SQLITE_DONE ? QUERY_OK : (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
}

/* 1 when no trace of segment m can be in the answer: its span starts lie
 * outside the time filter, or, with a page already full, all after the
 * page's last key. */
static int traces_seg_skip(const seg_meta *m, const query_traces_params *p, int64_t floor) {
    if (m->items == 0 || m->max_time == SEG_NO_MAX)
        return 1;
    if (p->has_start && m->max_time < query_i64(p->start_ns))
        return 1;
    if (p->has_end && m->min_time >= query_i64(p->end_ns))
        return 1;
    return m->max_time < floor;
}

/* The candidates of a page: each live trace segment's first limit + 1 rows
 * from f, newest segment first, sorted and cut to limit + 1. Segments
 * after the page's last key are skipped (a segment's span starts bound its
 * traces' starts). */
static int traces_page(store_reader *rd, const query_traces_params *p, traces_run *r,
                       const traces_from *f, query_cands *c) {
    const seg_meta *segs;
    size_t n;
    store_reader_segs(rd, MODEL_SIGNAL_TRACES, &segs, &n);
    for (size_t i = 0; i < n && !store_reader_timed_out(rd); i++) {
        if (f->mode == 1 && segs[i].min_time > f->key)
            continue; /* everything there comes before the cursor */
        query_cands_sort(c);
        if (traces_seg_skip(&segs[i], p, query_cands_floor(c, p->limit)))
            continue;
        int rc = traces_run_seg(rd->db, p, r, segs[i].id, segs[i].format, f);
        if (rc == QUERY_OK)
            rc = traces_collect(rd, r, segs[i].id, c);
        if (rc != QUERY_OK && !store_reader_timed_out(rd))
            return rc;
    }
    query_cands_keep(c, p->limit + 1);
    return QUERY_OK;
}

#define TRACES_SERVICES_SQL                                                                        \
    "SELECT sv.name, ts.span_count FROM services sv"                                              \
    " JOIN trace_services_{N} ts ON ts.service=sv.id AND ts.trace=?1"                             \
    " ORDER BY ts.span_count DESC, sv.name"

/* One summary of trace row `row` of segment seg. */
static int traces_summary(store_reader *rd, int64_t seg, int64_t row, jw *w) {
    sqlite3_stmt *st = NULL, *sv = NULL;
    int rc = QUERY_EDB;
    if (seg_prepare(rd->db,
                    "SELECT t.id, t.trace_id, t.start_ns, t.end_ns, t.span_count,"
                    " t.error_count, rs.name, t.root_name FROM traces_{N} t"
                    " LEFT JOIN services rs ON rs.id=t.root_service WHERE t.id=?1",
                    seg, &st) != SQLITE_OK ||
        seg_prepare(rd->db, TRACES_SERVICES_SQL, seg, &sv) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(st, 1, row);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        rc = QUERY_ENOTFOUND;
        goto out;
    }
    if (s != SQLITE_ROW)
        goto out;
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
    rc = traces_services(sv, row, w);
    jw_object_end(w);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(sv);
    return rc;
}

int query_trace_summary(store_reader *r, const uint8_t trace_id[16], buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_trace_summary(r, trace_id, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r); /* as query_trace: bounded */
    int64_t seg, row;
    int rc = query_trace_find(r, trace_id, &seg, &row);
    if (rc == QUERY_OK && seg == 0)
        rc = QUERY_ENOTFOUND;
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        rc = traces_summary(r, seg, row, &w);
        if (rc == QUERY_OK)
            rc = query_finish(&w, SQLITE_DONE);
    }
    store_reader_end(r);
    return rc;
}

int query_traces(store_reader *rd, const query_traces_params *p, buf *out) {
    if (rd->ch != NULL) /* a ClickHouse store */
        return chq_traces(rd, p, out);
    traces_run run;
    query_cands c = {0};
    if (store_reader_begin(rd) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(rd); /* the plan reads the global tables: bounded */
    int rc = traces_run_new(rd->db, p, &run);
    store_reader_arm(rd); /* the deadline bounds the walk of the segments */
    traces_from f = {0, 0, 0};
    if (rc == QUERY_OK && p->cursor != NULL && p->cursor[0] != '\0') {
        f.mode = 1;
        if (query_cursor_decode(p->cursor, &f.key, &f.gid) != 0)
            rc = QUERY_EINVAL;
    }
    if (rc == QUERY_OK && !run.empty)
        rc = traces_page(rd, p, &run, &f, &c);
    if (rc != QUERY_OK)
        goto out;
    store_reader_relax(rd); /* rendering the page found is bounded */
    jw w;
    query_list_begin(&w, out, "traces");
    size_t rows = c.n < p->limit ? c.n : p->limit;
    for (size_t i = 0; i < rows && rc == QUERY_OK; i++)
        rc = traces_summary(rd, SEG_OF(c.v[i].gid), SEG_ROW(c.v[i].gid), &w);
    if (rc != QUERY_OK)
        goto out;
    int more = c.n > p->limit;
    query_cand last = rows ? c.v[rows - 1] : (query_cand){0, 0};
    rc = query_page_end(&w, more, (uint64_t)last.key, last.gid, SQLITE_DONE,
                        store_reader_timed_out(rd));
out:
    query_cands_free(&c);
    traces_run_free(&run);
    store_reader_end(rd);
    return rc;
}

int query_traces_ids_after(store_reader *rd, const query_traces_params *p, int64_t after,
                           int64_t *ids, size_t *n) {
    traces_run run;
    *n = 0;
    int rc = traces_run_new(rd->db, p, &run);
    traces_from f = {2, 0, after < 0 ? 0 : after};
    const seg_meta *segs;
    size_t ns;
    store_reader_segs(rd, MODEL_SIGNAL_TRACES, &segs, &ns);
    /* oldest segment first: arrival order */
    for (size_t i = ns; rc == QUERY_OK && !run.empty && i-- > 0 && *n < p->limit;) {
        if (segs[i].id < SEG_OF(f.gid))
            continue;
        rc = traces_run_seg(rd->db, p, &run, segs[i].id, segs[i].format, &f);
        int s = SQLITE_DONE;
        while (rc == QUERY_OK && *n < p->limit && (s = sqlite3_step(run.st)) == SQLITE_ROW)
            ids[(*n)++] = SEG_GID(segs[i].id, sqlite3_column_int64(run.st, 0));
        if (rc == QUERY_OK && *n < p->limit && s != SQLITE_DONE)
            rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    }
    traces_run_free(&run);
    return rc;
}
