/* query.c - read queries answered as JSON, see query.h.
 *
 * The store keeps attributes, events, links, bodies and resource attributes
 * as JSON text already in the API's shape (model_json.h), so the queries
 * copy those columns into the answer as they are and only render ids,
 * times and enums. Every parameter is bound.
 */
#include "query.h"

#include <stdio.h>
#include <string.h>

#include "jw.h"
#include "model.h"

/* Stored times are INTEGER (int64); they are never negative. */
static uint64_t query_u64(sqlite3_stmt *st, int col) {
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    return v < 0 ? 0 : (uint64_t)v;
}

/* A stored JSON column, or `fallback` when NULL. */
static void query_raw(jw *w, sqlite3_stmt *st, int col, const char *fallback) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (t == NULL) {
        jw_raw(w, fallback, strlen(fallback));
        return;
    }
    jw_raw(w, t, (size_t)sqlite3_column_bytes(st, col));
}

static void query_text(jw *w, sqlite3_stmt *st, int col) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (t == NULL)
        jw_string(w, "");
    else
        jw_stringn(w, t, (size_t)sqlite3_column_bytes(st, col));
}

/* A BLOB id as lowercase hex, or "" when NULL or of the wrong size. */
static void query_id(jw *w, sqlite3_stmt *st, int col, int size) {
    const void *p = sqlite3_column_blob(st, col);
    if (p == NULL || sqlite3_column_bytes(st, col) != size) {
        jw_string(w, "");
        return;
    }
    jw_hex(w, p, (size_t)size);
}

static int query_finish(jw *w, int rc) {
    if (rc != SQLITE_DONE)
        return QUERY_EDB;
    if (jw_error(w))
        return jw_error(w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_EDB;
    return QUERY_OK;
}

/* ---- services ------------------------------------------------------------ */

int query_services(sqlite3 *db, buf *out) {
    sqlite3_stmt *st = NULL, *inst = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, name, span_count, log_count, point_count, error_count,"
                                " last_seen_ns FROM services ORDER BY name",
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
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "services");
    jw_array_begin(&w);
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        jw_object_begin(&w);
        jw_key(&w, "name");
        query_text(&w, st, 1);
        jw_key(&w, "spanCount");
        jw_int(&w, sqlite3_column_int64(st, 2));
        jw_key(&w, "logCount");
        jw_int(&w, sqlite3_column_int64(st, 3));
        jw_key(&w, "metricCount");
        jw_int(&w, sqlite3_column_int64(st, 4));
        jw_key(&w, "errorCount");
        jw_int(&w, sqlite3_column_int64(st, 5));
        jw_key(&w, "lastSeenUnixNano");
        jw_uint_string(&w, query_u64(st, 6));
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
    jw_object_end(&w);
    rc = query_finish(&w, rc);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(inst);
    return rc;
}

/* ---- one trace ------------------------------------------------------------- */

int query_trace(sqlite3 *db, const uint8_t trace_id[16], buf *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns,"
        " s.status_code, s.status_message, s.attrs, s.events, s.links, sv.name, r.attrs,"
        " sc.name, sc.version, s.trace_state, s.flags, s.dropped_attrs, s.dropped_events,"
        " s.dropped_links"
        " FROM traces t JOIN spans s ON s.trace=t.id"
        " JOIN services sv ON sv.id=s.service JOIN resources r ON r.id=s.resource"
        " JOIN scopes sc ON sc.id=s.scope"
        " WHERE t.trace_id=?1 ORDER BY s.start_ns, s.id",
        -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return QUERY_EDB;
    }
    sqlite3_bind_blob(st, 1, trace_id, 16, SQLITE_STATIC);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "traceId");
    jw_hex(&w, trace_id, 16);
    jw_key(&w, "spans");
    jw_array_begin(&w);
    size_t n = 0;
    for (;; n++) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        uint64_t start = query_u64(st, 4), end = query_u64(st, 5);
        jw_object_begin(&w);
        jw_key(&w, "traceId");
        jw_hex(&w, trace_id, 16);
        jw_key(&w, "spanId");
        query_id(&w, st, 0, 8);
        jw_key(&w, "parentSpanId");
        query_id(&w, st, 1, 8);
        jw_key(&w, "name");
        query_text(&w, st, 2);
        jw_key(&w, "kind");
        jw_string(&w, model_span_kind_name((model_span_kind)sqlite3_column_int(st, 3)));
        jw_key(&w, "startTimeUnixNano");
        jw_uint_string(&w, start);
        jw_key(&w, "endTimeUnixNano");
        jw_uint_string(&w, end);
        jw_key(&w, "durationNs");
        jw_uint(&w, end > start ? end - start : 0);
        jw_key(&w, "status");
        jw_object_begin(&w);
        jw_key(&w, "code");
        jw_string(&w, model_status_code_name((model_status_code)sqlite3_column_int(st, 6)));
        jw_key(&w, "message");
        query_text(&w, st, 7);
        jw_object_end(&w);
        jw_key(&w, "attributes");
        query_raw(&w, st, 8, "{}");
        jw_key(&w, "events");
        query_raw(&w, st, 9, "[]");
        jw_key(&w, "links");
        query_raw(&w, st, 10, "[]");
        jw_key(&w, "service");
        query_text(&w, st, 11);
        jw_key(&w, "resource");
        jw_object_begin(&w);
        jw_key(&w, "attributes");
        query_raw(&w, st, 12, "{}");
        jw_object_end(&w);
        jw_key(&w, "scope");
        jw_object_begin(&w);
        jw_key(&w, "name");
        query_text(&w, st, 13);
        jw_key(&w, "version");
        query_text(&w, st, 14);
        jw_object_end(&w);
        jw_key(&w, "traceState");
        query_text(&w, st, 15);
        jw_key(&w, "flags");
        jw_int(&w, sqlite3_column_int64(st, 16));
        jw_key(&w, "droppedAttributesCount");
        jw_int(&w, sqlite3_column_int64(st, 17));
        jw_key(&w, "droppedEventsCount");
        jw_int(&w, sqlite3_column_int64(st, 18));
        jw_key(&w, "droppedLinksCount");
        jw_int(&w, sqlite3_column_int64(st, 19));
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    sqlite3_finalize(st);
    rc = query_finish(&w, rc);
    if (rc == QUERY_OK && n == 0)
        return QUERY_ENOTFOUND;
    return rc;
}

/* ---- logs -------------------------------------------------------------------- */

/* The cursor is 32 hex digits: the last row's time and id, big-endian. */
#define QUERY_CURSOR_LEN 32

static void query_cursor_encode(uint64_t time, int64_t id, char out[QUERY_CURSOR_LEN + 1]) {
    uint8_t raw[16];
    for (int i = 0; i < 8; i++) {
        raw[i] = (uint8_t)(time >> (56 - 8 * i));
        raw[8 + i] = (uint8_t)((uint64_t)id >> (56 - 8 * i));
    }
    model_hex_encode(raw, sizeof(raw), out);
}

static int query_cursor_decode(const char *c, int64_t *time, int64_t *id) {
    uint8_t raw[16];
    if (strlen(c) != QUERY_CURSOR_LEN || model_hex_decode(c, QUERY_CURSOR_LEN, raw, 16) != 0)
        return -1;
    uint64_t t = 0, i = 0;
    for (int k = 0; k < 8; k++) {
        t = (t << 8) | raw[k];
        i = (i << 8) | raw[8 + k];
    }
    if (t > (uint64_t)INT64_MAX || i > (uint64_t)INT64_MAX)
        return -1;
    *time = (int64_t)t;
    *id = (int64_t)i;
    return 0;
}

int query_logs(sqlite3 *db, const query_logs_params *p, buf *out) {
    if (p == NULL || p->limit < 1 || p->limit > 1000)
        return QUERY_EINVAL;
    int64_t ctime = 0, cid = 0;
    int has_cursor = p->cursor != NULL && p->cursor[0] != '\0';
    if (has_cursor && query_cursor_decode(p->cursor, &ctime, &cid) != 0)
        return QUERY_EINVAL;
    /* Optional clauses are left out of the SQL rather than disabled with
     * "?x IS NULL OR ...", so the planner can use logs_service_time or
     * logs_time for both the filter and the newest-first order. */
    char sql[1024];
    int n = snprintf(
        sql, sizeof(sql),
        "SELECT l.id, l.time_ns, l.observed_ns, l.severity, l.severity_text, l.body, l.attrs,"
        " l.trace_id, l.span_id, sv.name, r.attrs, sc.name, sc.version, l.event_name, l.flags"
        " FROM logs l JOIN services sv ON sv.id=l.service JOIN resources r ON r.id=l.resource"
        " JOIN scopes sc ON sc.id=l.scope"
        " WHERE l.severity>=?1%s%s"
        " ORDER BY l.time_ns DESC, l.id DESC LIMIT ?5",
        p->service ? " AND l.service=(SELECT id FROM services WHERE name=?2)" : "",
        has_cursor ? " AND l.time_ns<=?3 AND (l.time_ns<?3 OR l.id<?4)" : "");
    if (n < 0 || (size_t)n >= sizeof(sql))
        return QUERY_EDB;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return QUERY_EDB;
    }
    sqlite3_bind_int(st, 1, p->min_severity);
    if (p->service)
        sqlite3_bind_text(st, 2, p->service, -1, SQLITE_STATIC);
    if (has_cursor) {
        sqlite3_bind_int64(st, 3, ctime);
        sqlite3_bind_int64(st, 4, cid);
    }
    sqlite3_bind_int64(st, 5, (sqlite3_int64)p->limit + 1);

    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "logs");
    jw_array_begin(&w);
    size_t rows = 0;
    uint64_t last_time = 0;
    int64_t last_id = 0;
    int rc, more = 0;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        if (rows == p->limit) { /* one more exists: there is a next page */
            more = 1;
            rc = SQLITE_DONE;
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
    jw_array_end(&w);
    jw_key(&w, "nextCursor");
    if (more) {
        char cur[QUERY_CURSOR_LEN + 1];
        query_cursor_encode(last_time, last_id, cur);
        jw_string(&w, cur);
    } else {
        jw_null(&w);
    }
    jw_object_end(&w);
    sqlite3_finalize(st);
    return query_finish(&w, rc);
}

/* ---- metrics ----------------------------------------------------------------- */

int query_metrics(sqlite3 *db, const char *service, buf *out) {
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
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "metrics");
    jw_array_begin(&w);
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
    }
    return "unknown query error";
}
