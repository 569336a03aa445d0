/* query.c - read queries answered as JSON, see query.h: services, one trace.
 * Trace search is in query_traces.c, logs in query_logs.c, metrics in
 * query_metrics.c.
 *
 * The store keeps attributes, events, links, bodies and resource attributes
 * as JSON text already in the API's shape (model_json.h), so the queries
 * copy those columns into the answer as they are and only render ids,
 * times and enums. Every parameter is bound.
 */
#include "ch_query.h"
#include "query.h"

#include <stdio.h>
#include <string.h>

#include "util/jw.h"
#include "model.h"
#include "query_internal.h"

/* ---- services ------------------------------------------------------------ */

int query_services(store_reader *r, const query_window_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_services(r, p, out);
    sqlite3_stmt *st = NULL, *inst = NULL;
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    int windowed = p != NULL && (p->has_start || p->has_end);
    qa_svcs figs = {0};
    double seconds = 60;
    int rc = qa_services(r, p, windowed, &figs, &seconds);
    if (rc != QUERY_OK)
        goto out;
    store_reader_relax(r);
    sqlite3 *db = r->db;
    rc = sqlite3_prepare_v2(db,
                            "SELECT id, name, span_count, log_count, point_count, error_count,"
                            " last_seen_ns FROM services"
                            " WHERE span_count>0 OR log_count>0 OR point_count>0"
                            " ORDER BY name",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT DISTINCT instance FROM resources"
                                " WHERE service=?1 AND instance<>'' ORDER BY instance",
                                -1, &inst, NULL);
    if (rc != SQLITE_OK) {
        rc = QUERY_EDB;
        goto out;
    }
    jw w;
    query_list_begin(&w, out, "services");
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        const qa_svc *f = qa_svc_find(&figs, sqlite3_column_int64(st, 0));
        if (windowed && (f == NULL || f->spans + f->logs + f->points == 0))
            continue; /* nothing of it in the window */
        jw_object_begin(&w);
        jw_key(&w, "name");
        query_text(&w, st, 1);
        jw_key(&w, "spanCount");
        jw_int(&w, windowed ? f->spans : sqlite3_column_int64(st, 2));
        jw_key(&w, "logCount");
        jw_int(&w, windowed ? f->logs : sqlite3_column_int64(st, 3));
        jw_key(&w, "metricCount");
        jw_int(&w, windowed ? f->points : sqlite3_column_int64(st, 4));
        jw_key(&w, "errorCount");
        jw_int(&w, windowed ? f->errors : sqlite3_column_int64(st, 5));
        jw_key(&w, "lastSeenUnixNano");
        jw_uint_string(&w, query_u64(st, 6));
        qa_svc_red(&w, f, seconds);
        jw_key(&w, "instances");
        jw_array_begin(&w);
        sqlite3_bind_int64(inst, 1, sqlite3_column_int64(st, 0));
        for (;;) {
            rc = sqlite3_step(inst);
            if (rc != SQLITE_ROW)
                break;
            query_text(&w, inst, 0);
        }
        sqlite3_reset(inst);
        if (rc != SQLITE_DONE)
            break;
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    if (store_reader_timed_out(r)) {
        jw_key(&w, "partial");
        jw_bool(&w, 1);
    }
    jw_object_end(&w);
    rc = query_finish(&w, rc);
out:
    qa_svcs_free(&figs);
    sqlite3_finalize(st);
    sqlite3_finalize(inst);
    store_reader_end(r);
    return rc;
}

/* ---- one trace ------------------------------------------------------------- */

/* One span of the row (columns: see query_trace) as the API's JSON; its
 * resource is named (res) and written once after the spans. */
static int query_trace_span(jw *w, const uint8_t trace_id[16], sqlite3_stmt *st,
                            query_res_set *res) {
    uint64_t start = query_u64(st, 4), end = query_u64(st, 5);
    jw_object_begin(w);
    jw_key(w, "traceId");
    jw_hex(w, trace_id, 16);
    jw_key(w, "spanId");
    query_id(w, st, 0, 8);
    jw_key(w, "parentSpanId");
    query_id(w, st, 1, 8);
    jw_key(w, "name");
    query_text(w, st, 2);
    jw_key(w, "kind");
    jw_string(w, model_span_kind_name((model_span_kind)sqlite3_column_int(st, 3)));
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, start);
    jw_key(w, "endTimeUnixNano");
    jw_uint_string(w, end);
    jw_key(w, "durationNs");
    jw_uint(w, end > start ? end - start : 0);
    jw_key(w, "status");
    jw_object_begin(w);
    jw_key(w, "code");
    jw_string(w, model_status_code_name((model_status_code)sqlite3_column_int(st, 6)));
    jw_key(w, "message");
    query_text(w, st, 7);
    jw_object_end(w);
    jw_key(w, "attributes");
    query_raw(w, st, 8, "{}");
    jw_key(w, "events");
    query_raw(w, st, 9, "[]");
    jw_key(w, "links");
    query_raw(w, st, 10, "[]");
    jw_key(w, "service");
    query_text(w, st, 11);
    int rc = query_res_ref(res, w, sqlite3_column_int64(st, 12));
    jw_key(w, "scope");
    jw_object_begin(w);
    jw_key(w, "name");
    query_text(w, st, 13);
    jw_key(w, "version");
    query_text(w, st, 14);
    jw_object_end(w);
    jw_key(w, "traceState");
    query_text(w, st, 15);
    jw_key(w, "flags");
    jw_int(w, sqlite3_column_int64(st, 16));
    jw_key(w, "droppedAttributesCount");
    jw_int(w, sqlite3_column_int64(st, 17));
    jw_key(w, "droppedEventsCount");
    jw_int(w, sqlite3_column_int64(st, 18));
    jw_key(w, "droppedLinksCount");
    jw_int(w, sqlite3_column_int64(st, 19));
    jw_object_end(w);
    return rc;
}

int query_trace_find(store_reader *r, const uint8_t trace_id[16], int64_t *seg, int64_t *row) {
    const seg_meta *segs;
    size_t n;
    *seg = *row = 0;
    store_reader_segs(r, MODEL_SIGNAL_TRACES, &segs, &n);
    for (size_t i = 0; i < n; i++) {
        qsql q;
        qsql_init(&q);
        qsql_seg(&q, segs[i].id);
        qsql_add(&q, "SELECT id FROM traces_{N} WHERE trace_id=");
        qsql_blob(&q, trace_id, 16);
        int rc = query_scalar(r->db, &q, row);
        qsql_free(&q);
        if (rc != QUERY_OK)
            return rc;
        if (*row) {
            *seg = segs[i].id;
            return QUERY_OK;
        }
    }
    return QUERY_OK;
}

/* The spans of trace row `row` of segment seg, as the answer. */
static int query_trace_spans(store_reader *r, const uint8_t trace_id[16], int64_t seg,
                             int64_t row, buf *out) {
    qsql q;
    qsql_init(&q);
    qsql_seg(&q, seg);
    qsql_add(&q, "SELECT s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns,"
                 " s.status_code, s.status_message, s.attrs, s.events, s.links, sv.name, s.resource,"
                 " sc.name, sc.version, s.trace_state, s.flags, s.dropped_attrs,"
                 " s.dropped_events, s.dropped_links"
                 " FROM spans_{N} s"
                 " JOIN services sv ON sv.id=s.service"
                 " JOIN scopes sc ON sc.id=s.scope"
                 " WHERE s.trace=");
    qsql_int(&q, row);
    qsql_add(&q, " ORDER BY s.start_ns, s.id");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    if (rc != QUERY_OK) {
        qsql_free(&q);
        return rc;
    }
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "traceId");
    jw_hex(&w, trace_id, 16);
    jw_key(&w, "spans");
    jw_array_begin(&w);
    query_res_set res;
    query_res_init(&res);
    int s = SQLITE_DONE;
    while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = query_trace_span(&w, trace_id, st, &res);
    jw_array_end(&w);
    sqlite3_finalize(st);
    qsql_free(&q);
    if (rc == QUERY_OK)
        rc = query_res_write(r->db, &res, &w);
    jw_object_end(&w);
    query_res_free(&res);
    return rc != QUERY_OK ? rc : query_finish(&w, s);
}

int query_trace(store_reader *r, const uint8_t trace_id[16], buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_trace(r, trace_id, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    store_reader_relax(r); /* an index probe per segment, then one trace: bounded */
    int64_t seg, row;
    int rc = query_trace_find(r, trace_id, &seg, &row);
    if (rc == QUERY_OK && seg == 0)
        rc = QUERY_ENOTFOUND;
    if (rc == QUERY_OK)
        rc = query_trace_spans(r, trace_id, seg, row, out);
    store_reader_end(r);
    return rc;
}

const char *query_strerror(int code) {
    switch (code) {
    case QUERY_OK:
        return "ok";
    case QUERY_ENOTFOUND:
        return "not found";
    case QUERY_EDB:
        return "database error";
    case QUERY_ETOOBIG:
        return "answer too large";
    case QUERY_EINVAL:
        return "invalid parameter";
    case QUERY_ENOMEM:
        return "out of memory";
    case QUERY_ENOTSUP:
        return "not available with this storage";
    case QUERY_EDOWN:
        return "the database did not answer";
    }
    return "unknown query error";
}
