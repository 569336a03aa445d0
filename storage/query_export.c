/* query_export.c - stored telemetry as OTLP JSON lines, see query.h.
 *
 * DESIGN
 * The OpenTelemetry Collector's file exporter writes one
 * Export{Trace,Logs,Metrics}ServiceRequest per line; an export is a series
 * of such lines, produced one at a time (query_export_next) so that the
 * HTTP layer can stream them without holding the whole export or a read
 * transaction: each line is its own set of queries.
 *   traces   pages of EXPORT_TRACES_PAGE traces from the trace search (the
 *            list's filters), every span of each
 *   logs     pages of EXPORT_LOGS_PAGE records from the log search
 *   metrics  one instrument at a time, up to EXPORT_POINTS_PAGE points a line
 * Everything goes out in the order it arrived (row ids), consecutive items
 * of one resource and scope sharing an entry, so that an import stores
 * them in the same order and ties in the lists (equal times) come out the
 * same way.
 * The stored JSON (API shape, model_json.h) is turned back into OTLP JSON
 * by export_json.h, which the ClickHouse walk (ch_query_export.c, taking
 * over in query_export_next when the store is ClickHouse) shares; this
 * file reads SQLite's rows into its structs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_json.h"
#include "model.h"
#include "query.h"
#include "query_export_internal.h"
#include "query_internal.h"

/* ---- SQLite rows -> export_json.h's structs ------------------------------------ */

/* Column col as a text (ptr NULL when NULL). */
static exj_text ex_txt(sqlite3_stmt *st, int col) {
    exj_text t;
    t.ptr = (const char *)sqlite3_column_text(st, col);
    t.len = t.ptr ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return t;
}

/* A BLOB id of `size` bytes, NULL when NULL or of another size. */
static const uint8_t *ex_idcol(sqlite3_stmt *st, int col, int size) {
    const void *p = sqlite3_column_blob(st, col);
    return p != NULL && sqlite3_column_bytes(st, col) == size ? p : NULL;
}

/* Closes what g left open and the line's document (opened with
 * query_list_begin); s is the last step's code. */
static int ex_doc_end(jw *w, exj_groups *g, int s) {
    exj_groups_close(w, g);
    jw_array_end(w);
    jw_object_end(w);
    return query_finish(w, s);
}

/* Columns from `col`: resource id, scope id, then r.attrs,
 * r.dropped_attrs, r.schema_url, sc.name, sc.version, sc.attrs,
 * sc.dropped_attrs, sc.schema_url. */
static void ex_group(jw *w, exj_groups *g, sqlite3_stmt *st, int col) {
    exj_owner o = {
        .res_attrs = ex_txt(st, col + 2),
        .res_dropped = sqlite3_column_int64(st, col + 3),
        .res_schema = ex_txt(st, col + 4),
        .scope_name = ex_txt(st, col + 5),
        .scope_version = ex_txt(st, col + 6),
        .scope_attrs = ex_txt(st, col + 7),
        .scope_dropped = sqlite3_column_int64(st, col + 8),
        .scope_schema = ex_txt(st, col + 9),
    };
    exj_group(w, g, sqlite3_column_int64(st, col), sqlite3_column_int64(st, col + 1), &o);
}

#define EX_GROUP_COLS                                                                             \
    "x.resource, x.scope, r.attrs, r.dropped_attrs, r.schema_url, sc.name, sc.version,"          \
    " sc.attrs, sc.dropped_attrs, sc.schema_url"
#define EX_GROUP_JOINS " JOIN resources r ON r.id=x.resource JOIN scopes sc ON sc.id=x.scope"

/* One span (columns from c: EX_SPAN_COLS). */
static void ex_span(jw *w, sqlite3_stmt *st, int c) {
    exj_span s = {
        .trace_id = ex_idcol(st, c, 16),
        .span_id = ex_idcol(st, c + 1, 8),
        .parent_span_id = ex_idcol(st, c + 2, 8),
        .trace_state = ex_txt(st, c + 3),
        .flags = sqlite3_column_int64(st, c + 4),
        .name = ex_txt(st, c + 5),
        .kind = sqlite3_column_int(st, c + 6),
        .start_ns = query_u64(st, c + 7),
        .end_ns = query_u64(st, c + 8),
        .attrs = ex_txt(st, c + 9),
        .dropped_attrs = sqlite3_column_int64(st, c + 10),
        .events = ex_txt(st, c + 11),
        .dropped_events = sqlite3_column_int64(st, c + 12),
        .links = ex_txt(st, c + 13),
        .dropped_links = sqlite3_column_int64(st, c + 14),
        .status_code = sqlite3_column_int(st, c + 15),
        .status_message = ex_txt(st, c + 16),
    };
    exj_span_write(w, &s);
}

/* One log record (columns from c: EX_LOG_COLS). */
static void ex_log(jw *w, sqlite3_stmt *st, int c) {
    exj_log l = {
        .time_ns = query_u64(st, c),
        .observed_ns = query_u64(st, c + 1),
        .severity = sqlite3_column_int(st, c + 2),
        .severity_text = ex_txt(st, c + 3),
        .body = ex_txt(st, c + 4),
        .attrs = ex_txt(st, c + 5),
        .dropped_attrs = sqlite3_column_int64(st, c + 6),
        .flags = sqlite3_column_int64(st, c + 7),
        .trace_id = ex_idcol(st, c + 8, 16),
        .span_id = ex_idcol(st, c + 9, 8),
        .event_name = ex_txt(st, c + 10),
    };
    exj_log_write(w, &l);
}

/* ---- a page of traces or logs ---------------------------------------------------- */

/* What a line of traces or logs is made of. */
typedef struct ex_items {
    const char *doc, *scopes, *items; /* "resourceSpans", "scopeSpans", "spans" */
    const char *sql; /* EX_GROUP_COLS, then the item's columns (from 10); ?1 = the row ids
                      * in segment {N} */
    void (*item)(jw *w, sqlite3_stmt *st, int c);
} ex_items;

/* The columns ex_span and ex_log read (17 and 11). */
#define EX_SPAN_COLS                                                                              \
    "t.trace_id, x.span_id, x.parent_span_id, x.trace_state, x.flags, x.name, x.kind,"           \
    " x.start_ns, x.end_ns, x.attrs, x.dropped_attrs, x.events, x.dropped_events, x.links,"      \
    " x.dropped_links, x.status_code, x.status_message"
#define EX_LOG_COLS                                                                               \
    "x.time_ns, x.observed_ns, x.severity, x.severity_text, x.body, x.attrs, x.dropped_attrs,"   \
    " x.flags, x.trace_id, x.span_id, x.event_name"

/* Every span of a page of traces. */
static const ex_items ex_traces = {
    "resourceSpans", "scopeSpans", "spans",
    "SELECT " EX_GROUP_COLS ", " EX_SPAN_COLS
    " FROM spans_{N} x JOIN traces_{N} t ON t.id=x.trace" EX_GROUP_JOINS
    " WHERE x.trace IN (SELECT value FROM json_each(?1))"
    " ORDER BY x.id",
    ex_span,
};

/* A page of log records. */
static const ex_items ex_logs = {
    "resourceLogs", "scopeLogs", "logRecords",
    "SELECT " EX_GROUP_COLS ", " EX_LOG_COLS
    " FROM logs_{N} x" EX_GROUP_JOINS " WHERE x.id IN (SELECT value FROM json_each(?1))"
    " ORDER BY x.id",
    ex_log,
};

/* One line of k's items: those of the rows whose gids are ids[0..n)
 * (ascending: segment by segment), in arrival order. */
static int ex_items_line(sqlite3 *db, const ex_items *k, const int64_t *ids, size_t n, buf *out) {
    jw w;
    exj_groups g = {.scopes = k->scopes, .items = k->items};
    query_list_begin(&w, out, k->doc);
    int s = SQLITE_DONE;
    int64_t rows[EXPORT_LOGS_PAGE];
    for (size_t i = 0; i < n && s == SQLITE_DONE;) {
        int64_t seg = SEG_OF(ids[i]);
        size_t m = 0;
        for (; i < n && SEG_OF(ids[i]) == seg && m < EXPORT_LOGS_PAGE; i++)
            rows[m++] = SEG_ROW(ids[i]);
        char *list = query_id_list(rows, m);
        sqlite3_stmt *st = NULL;
        if (list == NULL || seg_prepare(db, k->sql, seg, &st) != SQLITE_OK) {
            free(list);
            sqlite3_finalize(st);
            return list == NULL ? QUERY_ENOMEM : QUERY_EDB;
        }
        sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            ex_group(&w, &g, st, 0);
            k->item(&w, st, 10);
        }
        sqlite3_finalize(st);
        free(list);
    }
    return ex_doc_end(&w, &g, s);
}

/* ---- metrics ------------------------------------------------------------------------ */

/* The next instrument after x->metric, or 0 when none. */
static int ex_next_metric(sqlite3 *db, query_export *x, int64_t *id) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT id FROM metrics WHERE id>");
    qsql_int(&q, x->metric);
    if (x->service) {
        qsql_add(&q, " AND service=(SELECT id FROM services WHERE name=");
        qsql_text(&q, x->service, strlen(x->service));
        qsql_add(&q, ")");
    }
    qsql_add(&q, " ORDER BY id LIMIT 1");
    int rc = query_scalar(db, &q, id);
    qsql_free(&q);
    return rc;
}

/* Each segment's part of ex_points_sql: the instrument's series, the
 * position and the window. */
static void ex_points_cond(qsql *q, const void *ctx) {
    const query_export *x = ctx;
    qsql_add(q, " AND series IN (SELECT id FROM series WHERE metric=");
    qsql_int(q, x->metric);
    qsql_add(q, ") AND (id + ");
    char base[32];
    snprintf(base, sizeof(base), "%lld", (long long)SEG_GID(q->seg, 0));
    qsql_add(q, base);
    qsql_add(q, ")>");
    qsql_int(q, x->after_point);
    qsql_time_range(q, "time_ns", x->has_start, x->start, x->has_end, x->end);
}

/* The points of instrument x->metric after gid x->after_point in the
 * window, with the instrument's and their series' columns (see
 * ex_metric_begin and ex_point; EX_GROUP_COLS first), at most
 * EXPORT_POINTS_PAGE, in arrival order across segments. */
static void ex_points_sql(qsql *q, store_reader *r, const query_export *x) {
    qsql_add(q, "SELECT " EX_GROUP_COLS ", m.name, m.description, m.unit, m.type,"
                " m.temporality, m.monotonic, se.attrs, p.start_ns, p.time_ns, p.value,"
                " p.is_int, p.flags, p.data, p.exemplars, p.gid"
                " FROM metrics x JOIN metrics m ON m.id=x.id" EX_GROUP_JOINS
                " JOIN series se ON se.metric=x.id JOIN ");
    qsql_points_from(q, r, "time_ns, start_ns, value, is_int, data, exemplars, series, flags",
                     x->has_start, x->start, x->has_end, x->end, ex_points_cond, x);
    qsql_add(q, " p ON p.series=se.id WHERE x.id=");
    qsql_int(q, x->metric);
    qsql_add(q, " ORDER BY p.gid LIMIT ");
    qsql_int(q, EXPORT_POINTS_PAGE);
}

/* Opens the metric of the row (columns from c: name, description, unit,
 * type, temporality, monotonic) up to its open dataPoints array. Returns
 * its type (MODEL_METRIC_*). */
static int ex_metric_begin(jw *w, sqlite3_stmt *st, int c) {
    exj_metric m = {
        .name = ex_txt(st, c),
        .description = ex_txt(st, c + 1),
        .unit = ex_txt(st, c + 2),
        .type = sqlite3_column_int(st, c + 3),
        .temporality = sqlite3_column_int(st, c + 4),
        .monotonic = sqlite3_column_int(st, c + 5),
    };
    return exj_metric_begin(w, &m);
}

/* One point of the row (columns from c + 6: series attributes, start,
 * time, value, is_int, flags, data, exemplars) of a metric of `type`. */
static void ex_point(jw *w, sqlite3_stmt *st, int c, int type) {
    exj_point p = {
        .attrs = ex_txt(st, c + 6),
        .start_ns = query_u64(st, c + 7),
        .time_ns = query_u64(st, c + 8),
        .flags = sqlite3_column_int64(st, c + 11),
        .data = ex_txt(st, c + 12),
        .exemplars = ex_txt(st, c + 13),
    };
    if (sqlite3_column_type(st, c + 9) == SQLITE_NULL) {
        p.value_kind = EXJ_VALUE_NAN; /* stored NULL: a NaN */
    } else if (sqlite3_column_int(st, c + 10)) {
        p.value_kind = EXJ_VALUE_INT;
        p.as_int = sqlite3_column_int64(st, c + 9);
    } else {
        p.value_kind = EXJ_VALUE_DOUBLE;
        p.as_double = sqlite3_column_double(st, c + 9);
    }
    exj_point_write(w, &p, type);
}

#define ex_metric_end exj_metric_end

/* Up to EXPORT_POINTS_PAGE points of instrument x->metric after
 * x->after_point; *n gets the count (0: nothing written). */
static int ex_metrics_line(store_reader *r, query_export *x, buf *out, size_t *n) {
    qsql q;
    qsql_init(&q);
    ex_points_sql(&q, r, x);
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    if (rc != QUERY_OK) {
        qsql_free(&q);
        return rc;
    }
    size_t start_len = out->len;
    jw w;
    exj_groups g = {.scopes = "scopeMetrics", .items = "metrics"};
    query_list_begin(&w, out, "resourceMetrics");
    int s, type = 0, c = 10;
    *n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == 0) {
            ex_group(&w, &g, st, 0);
            type = ex_metric_begin(&w, st, c);
        }
        (*n)++;
        x->after_point = sqlite3_column_int64(st, c + 14);
        ex_point(&w, st, c, type);
    }
    if (*n > 0)
        ex_metric_end(&w);
    sqlite3_finalize(st);
    qsql_free(&q);
    rc = ex_doc_end(&w, &g, s);
    if (*n == 0)
        out->len = start_len; /* nothing to say for this instrument */
    return rc;
}

/* ---- the export ----------------------------------------------------------------------- */

static const char *ex_keep(query_export *x, const char *s, size_t n) {
    if (s == NULL || x->nstrs == sizeof(x->strs) / sizeof(x->strs[0]))
        return NULL;
    char *c = malloc(n + 1);
    if (c == NULL)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    x->strs[x->nstrs++] = c;
    return c;
}

#define EX_KEEP(x, s) ((s) ? ex_keep((x), (s), strlen(s)) : NULL)

static int ex_copy_attrs(query_export *x, const query_attr *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        x->attrs[i] = a[i];
        x->attrs[i].key = ex_keep(x, a[i].key, a[i].key_len);
        x->attrs[i].value = ex_keep(x, a[i].value ? a[i].value : "", a[i].value_len);
        if (x->attrs[i].key == NULL || x->attrs[i].value == NULL)
            return QUERY_ENOMEM;
    }
    return QUERY_OK;
}

int query_export_new(const query_export_params *p, query_export **out) {
    *out = NULL;
    if (p == NULL || p->signal < MODEL_SIGNAL_TRACES || p->signal > MODEL_SIGNAL_METRICS)
        return QUERY_EINVAL;
    size_t n_attrs = p->signal == MODEL_SIGNAL_TRACES ? p->traces.n_attrs
                     : p->signal == MODEL_SIGNAL_LOGS ? p->logs.n_attrs
                                                      : 0;
    if (n_attrs > QUERY_MAX_ATTRS)
        return QUERY_EINVAL;
    query_export *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return QUERY_ENOMEM;
    x->signal = p->signal;
    int rc = QUERY_OK;
    int nomem = 0;
    if (p->signal == MODEL_SIGNAL_TRACES) {
        x->tp = p->traces;
        rc = ex_copy_attrs(x, p->traces.attrs, n_attrs);
        x->tp.attrs = x->attrs;
        x->tp.service = EX_KEEP(x, p->traces.service);
        x->tp.name = EX_KEEP(x, p->traces.name);
        x->tp.q = EX_KEEP(x, p->traces.q);
        nomem = (p->traces.service && !x->tp.service) || (p->traces.name && !x->tp.name) ||
                (p->traces.q && !x->tp.q);
        x->tp.limit = EXPORT_TRACES_PAGE;
    } else if (p->signal == MODEL_SIGNAL_LOGS) {
        x->lp = p->logs;
        rc = ex_copy_attrs(x, p->logs.attrs, n_attrs);
        x->lp.attrs = x->attrs;
        x->lp.service = EX_KEEP(x, p->logs.service);
        x->lp.q = EX_KEEP(x, p->logs.q);
        nomem = (p->logs.service && !x->lp.service) || (p->logs.q && !x->lp.q);
        if (p->logs.trace_id) {
            memcpy(x->tid, p->logs.trace_id, 16);
            x->lp.trace_id = x->tid;
        }
        if (p->logs.span_id) {
            memcpy(x->sid, p->logs.span_id, 8);
            x->lp.span_id = x->sid;
        }
        x->lp.limit = EXPORT_LOGS_PAGE;
    } else {
        x->service = EX_KEEP(x, p->service);
        nomem = p->service && !x->service;
        x->has_start = p->has_start;
        x->has_end = p->has_end;
        x->start = query_i64(p->start_ns);
        x->end = query_i64(p->end_ns);
    }
    if (rc == QUERY_OK && nomem)
        rc = QUERY_ENOMEM;
    if (rc != QUERY_OK) {
        query_export_free(x);
        return rc;
    }
    *out = x;
    return QUERY_OK;
}

void query_export_free(query_export *x) {
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->nstrs; i++)
        free(x->strs[i]);
    chq_export_state_free(&x->ch);
    free(x);
}

static int query_export_line(query_export *x, store_reader *r, buf *out, int *done);

int query_export_next(query_export *x, store_reader *r, buf *out, int *done) {
    *done = 0;
    if (x->done) {
        *done = 1;
        return QUERY_OK;
    }
    if (r->ch != NULL) /* a ClickHouse store (ch_query_export.c) */
        return chq_export_line(x, r, out, done);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r); /* a line is bounded by its page size */
    int rc = query_export_line(x, r, out, done);
    store_reader_end(r);
    return rc;
}

int query_export_page(query_export *x, int rc, size_t n, int *done) {
    x->started = 1;
    if (rc == QUERY_OK && n == 0)
        x->done = *done = 1;
    return rc;
}

int query_export_line_end(buf *out) {
    return buf_append_char(out, '\n') == BUF_OK ? QUERY_OK : QUERY_ETOOBIG;
}

/* The next line, in the reader's open transaction. */
static int query_export_line(query_export *x, store_reader *r, buf *out, int *done) {
    sqlite3 *db = r->db;
    int rc = QUERY_OK;
    if (x->signal == MODEL_SIGNAL_TRACES || x->signal == MODEL_SIGNAL_LOGS) {
        int64_t ids[EXPORT_LOGS_PAGE];
        size_t n = 0;
        if (x->signal == MODEL_SIGNAL_TRACES)
            rc = query_traces_ids_after(r, &x->tp, x->after, ids, &n);
        else
            rc = query_logs_ids_after(r, &x->lp, x->after, ids, &n);
        rc = query_export_page(x, rc, n, done);
        if (rc != QUERY_OK || n == 0)
            return rc;
        x->after = ids[n - 1];
        rc = ex_items_line(db, x->signal == MODEL_SIGNAL_TRACES ? &ex_traces : &ex_logs, ids, n,
                           out);
    } else {
        for (;;) { /* instruments without points in the window say nothing */
            int64_t id = 0;
            if (!x->started) {
                x->started = 1;
                rc = ex_next_metric(db, x, &id);
                if (rc != QUERY_OK)
                    return rc;
                if (id == 0) {
                    x->done = *done = 1;
                    return QUERY_OK;
                }
                x->metric = id;
                x->after_point = 0;
            }
            size_t n = 0;
            rc = ex_metrics_line(r, x, out, &n);
            if (rc != QUERY_OK)
                return rc;
            if (n < EXPORT_POINTS_PAGE) { /* this instrument is done: the next */
                rc = ex_next_metric(db, x, &id);
                if (rc != QUERY_OK)
                    return rc;
                if (id == 0)
                    x->done = 1;
                x->metric = id;
                x->after_point = 0;
            }
            if (n > 0)
                break;
            if (x->done) {
                *done = 1;
                return QUERY_OK;
            }
        }
    }
    return rc == QUERY_OK ? query_export_line_end(out) : rc;
}

/* ---- forwarding: everything stored after a position --------------------------------------
 * A segment's rows arrive in ascending row ids, logs and points always in
 * the newest segment, spans in their trace's home segment (which may be an
 * older one): so a position is a row per live segment, and a read takes
 * each segment's rows after its position, oldest segment first. */

#define TAIL_SEG_MAX ((size_t)1 << 16)

/* The rows of segment {N} after ?1, at most ?2, in arrival order, with
 * EX_GROUP_COLS first, the item's columns from 10 and the row id at
 * id_col. CROSS JOIN keeps the segment's table the outer loop (a rowid
 * range). */
typedef struct tail_kind {
    const char *doc, *scopes, *items;
    const char *sql, *max_sql;
    int id_col;
} tail_kind;

static const tail_kind tail_kinds[MODEL_SIGNAL_COUNT] = {
    [MODEL_SIGNAL_TRACES] = {"resourceSpans", "scopeSpans", "spans",
                             "SELECT " EX_GROUP_COLS ", " EX_SPAN_COLS ", x.id"
                             " FROM spans_{N} x CROSS JOIN traces_{N} t ON t.id=x.trace"
                             " CROSS JOIN resources r ON r.id=x.resource"
                             " CROSS JOIN scopes sc ON sc.id=x.scope"
                             " WHERE x.id>?1 ORDER BY x.id LIMIT ?2",
                             "SELECT max(id) FROM spans_{N}", 27},
    [MODEL_SIGNAL_LOGS] = {"resourceLogs", "scopeLogs", "logRecords",
                           "SELECT " EX_GROUP_COLS ", " EX_LOG_COLS ", x.id"
                           " FROM logs_{N} x CROSS JOIN resources r ON r.id=x.resource"
                           " CROSS JOIN scopes sc ON sc.id=x.scope"
                           " WHERE x.id>?1 ORDER BY x.id LIMIT ?2",
                           "SELECT max(id) FROM logs_{N}", 21},
    [MODEL_SIGNAL_METRICS] = {"resourceMetrics", "scopeMetrics", "metrics",
                              "SELECT " EX_GROUP_COLS ", x.name, x.description, x.unit, x.type,"
                              " x.temporality, x.monotonic, se.attrs, p.start_ns, p.time_ns,"
                              " p.value, p.is_int, p.flags, p.data, p.exemplars, p.id, x.id"
                              " FROM points_{N} p CROSS JOIN series se ON se.id=p.series"
                              " CROSS JOIN metrics x ON x.id=se.metric"
                              " CROSS JOIN resources r ON r.id=x.resource"
                              " CROSS JOIN scopes sc ON sc.id=x.scope"
                              " WHERE p.id>?1 ORDER BY p.id LIMIT ?2",
                              "SELECT max(id) FROM points_{N}", 24},
};

int query_tail_init(query_tail *t, int signal) {
    memset(t, 0, sizeof(*t));
    if (signal < MODEL_SIGNAL_TRACES || signal > MODEL_SIGNAL_METRICS)
        return QUERY_EINVAL;
    t->signal = signal;
    return QUERY_OK;
}

void query_tail_free(query_tail *t) {
    if (t == NULL)
        return;
    free(t->segs);
    t->segs = NULL;
    t->n = t->cap = 0;
}

/* The entry of segment seg, or NULL. */
static query_tail_seg *tail_find(const query_tail *t, int64_t seg) {
    for (size_t i = 0; i < t->n; i++)
        if (t->segs[i].seg == seg)
            return &t->segs[i];
    return NULL;
}

int query_tail_set(query_tail *t, int64_t seg, int64_t row) {
    query_tail_seg *e = tail_find(t, seg);
    if (e == NULL) {
        if (t->n == TAIL_SEG_MAX)
            return QUERY_EINVAL;
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 16;
            query_tail_seg *v = realloc(t->segs, cap * sizeof(*v));
            if (v == NULL)
                return QUERY_ENOMEM;
            t->segs = v;
            t->cap = cap;
        }
        size_t i = t->n;
        while (i > 0 && t->segs[i - 1].seg > seg) { /* kept ascending */
            t->segs[i] = t->segs[i - 1];
            i--;
        }
        e = &t->segs[i];
        e->seg = seg;
        e->max = 0;
        t->n++;
    }
    e->row = row < 0 ? 0 : row;
    if (e->max < e->row)
        e->max = e->row;
    return QUERY_OK;
}

int query_tail_copy(query_tail *dst, const query_tail *src) {
    if (dst->cap < src->n) {
        query_tail_seg *v = realloc(dst->segs, src->n * sizeof(*v));
        if (v == NULL)
            return QUERY_ENOMEM;
        dst->segs = v;
        dst->cap = src->n;
    }
    if (src->n > 0)
        memcpy(dst->segs, src->segs, src->n * sizeof(*src->segs));
    dst->n = src->n;
    dst->signal = src->signal;
    return QUERY_OK;
}

/* The last row id of segment seg (0 when empty) into *max. */
static int tail_max(sqlite3 *db, const tail_kind *k, int64_t seg, int64_t *max) {
    sqlite3_stmt *st = NULL;
    if (seg_prepare(db, k->max_sql, seg, &st) != SQLITE_OK)
        return QUERY_EDB;
    int s = sqlite3_step(st);
    *max = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? QUERY_OK : QUERY_EDB;
}

/* In the reader's transaction: t's segments made the live ones (a dropped
 * segment's untaken rows are added to *lost; a new one starts before its
 * first row) and their last rows read. A position past a segment's last
 * row (rows deleted) moves back to it, so rows stored later are taken. */
static int tail_sync(store_reader *r, query_tail *t, uint64_t *lost, uint64_t *taken_gone) {
    const tail_kind *k = &tail_kinds[t->signal];
    const seg_meta *segs;
    size_t ns;
    store_reader_segs(r, (model_signal)t->signal, &segs, &ns);
    size_t kept = 0;
    for (size_t i = 0; i < t->n; i++) {
        int live = 0;
        for (size_t j = 0; j < ns && !live; j++)
            live = segs[j].id == t->segs[i].seg;
        if (live) {
            t->segs[kept++] = t->segs[i];
            continue;
        }
        *taken_gone += (uint64_t)t->segs[i].row;
        if (t->segs[i].max > t->segs[i].row)
            *lost += (uint64_t)(t->segs[i].max - t->segs[i].row);
    }
    t->n = kept;
    for (size_t j = 0; j < ns; j++) {
        query_tail_seg *e = tail_find(t, segs[j].id);
        if (e == NULL) {
            int rc = query_tail_set(t, segs[j].id, 0);
            if (rc != QUERY_OK)
                return rc;
            e = tail_find(t, segs[j].id);
        }
        int rc = tail_max(r->db, k, e->seg, &e->max);
        if (rc != QUERY_OK)
            return rc;
        if (e->row > e->max)
            e->row = e->max;
    }
    return QUERY_OK;
}

int query_tail_at_end(store_reader *r, query_tail *t) {
    if (r->ch != NULL)
        return QUERY_ENOTSUP;
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r);
    uint64_t lost = 0, gone = 0;
    int rc = tail_sync(r, t, &lost, &gone);
    for (size_t i = 0; rc == QUERY_OK && i < t->n; i++)
        t->segs[i].row = t->segs[i].max;
    store_reader_end(r);
    return rc;
}

/* The state of one line being written across segments. */
typedef struct tail_line {
    jw w;
    exj_groups g;
    int metric_open; /* metrics: a metric's dataPoints are open */
    int64_t metric;
    int type;
    size_t items;
} tail_line;

/* One row of the line (the statement's current row). */
static void tail_row(tail_line *l, int signal, sqlite3_stmt *st) {
    if (signal == MODEL_SIGNAL_METRICS) {
        int64_t mid = sqlite3_column_int64(st, 25);
        if (l->metric_open && mid != l->metric) {
            ex_metric_end(&l->w);
            l->metric_open = 0;
        }
        ex_group(&l->w, &l->g, st, 0);
        if (!l->metric_open) {
            l->type = ex_metric_begin(&l->w, st, 10);
            l->metric = mid;
            l->metric_open = 1;
        }
        ex_point(&l->w, st, 10, l->type);
    } else if (signal == MODEL_SIGNAL_TRACES) {
        ex_group(&l->w, &l->g, st, 0);
        ex_span(&l->w, st, 10);
    } else {
        ex_group(&l->w, &l->g, st, 0);
        ex_log(&l->w, st, 10);
    }
    l->items++;
}

/* Up to `limit` rows of segment e after e->row into the line; e->row
 * moves to the last one taken. Stops early once out holds max_bytes. */
static int tail_read_seg(store_reader *r, const tail_kind *k, int signal, query_tail_seg *e,
                         size_t limit, size_t max_bytes, size_t start, buf *out, tail_line *l) {
    sqlite3_stmt *st = NULL;
    if (seg_prepare(r->db, k->sql, e->seg, &st) != SQLITE_OK)
        return QUERY_EDB;
    sqlite3_bind_int64(st, 1, e->row);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        tail_row(l, signal, st);
        e->row = sqlite3_column_int64(st, k->id_col);
        if (out->len - start >= max_bytes)
            break;
    }
    sqlite3_finalize(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    return jw_error(&l->w) ? QUERY_ETOOBIG : QUERY_OK;
}

int query_tail_next(store_reader *r, query_tail *t, query_tail *next, size_t max_items,
                    size_t max_bytes, buf *out, query_tail_report *rep) {
    memset(rep, 0, sizeof(*rep));
    if (t->signal < MODEL_SIGNAL_TRACES || t->signal > MODEL_SIGNAL_METRICS)
        return QUERY_EINVAL;
    const tail_kind *k = &tail_kinds[t->signal];
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r); /* bounded by max_items */
    int rc = tail_sync(r, t, &rep->lost, &rep->taken_gone);
    if (rc == QUERY_OK)
        rc = query_tail_copy(next, t);
    if (rc == QUERY_OK && max_items == 0) { /* only the update */
        for (size_t i = 0; i < next->n; i++)
            rep->pending += (uint64_t)(next->segs[i].max - next->segs[i].row);
        store_reader_end(r);
        return QUERY_OK;
    }
    size_t start = out->len;
    tail_line l;
    memset(&l, 0, sizeof(l));
    l.g.scopes = k->scopes;
    l.g.items = k->items;
    query_list_begin(&l.w, out, k->doc);
    for (size_t i = 0; rc == QUERY_OK && i < next->n; i++) {
        query_tail_seg *e = &next->segs[i];
        if (l.items >= max_items || (l.items > 0 && out->len - start >= max_bytes))
            break;
        if (e->row >= e->max)
            continue;
        rc = tail_read_seg(r, k, t->signal, e, max_items - l.items, max_bytes, start, out, &l);
    }
    if (l.metric_open)
        ex_metric_end(&l.w);
    if (rc == QUERY_OK)
        rc = ex_doc_end(&l.w, &l.g, SQLITE_DONE);
    for (size_t i = 0; rc == QUERY_OK && i < next->n; i++)
        rep->pending += (uint64_t)(next->segs[i].max - next->segs[i].row);
    store_reader_end(r);
    rep->items = l.items;
    if (rc != QUERY_OK || l.items == 0)
        out->len = start; /* nothing to send */
    return rc;
}
