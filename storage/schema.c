/* schema.c - DDL and migrations of loupe's database, see schema.h. */
#include "schema.h"

#include <stdio.h>

#include "attr_index.h"
#include "rollup.h"
#include "segment.h"

/* migrations[v - 1] turns version v - 1 into version v. */
static const char *const schema_migrations[SCHEMA_VERSION] = {
    /* ---- version 1 ---- */
    "CREATE TABLE services("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " span_count INTEGER NOT NULL DEFAULT 0,"
    " error_count INTEGER NOT NULL DEFAULT 0,"
    " log_count INTEGER NOT NULL DEFAULT 0,"
    " point_count INTEGER NOT NULL DEFAULT 0,"
    " last_seen_ns INTEGER NOT NULL DEFAULT 0);"

    "CREATE TABLE resources("
    " id INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL UNIQUE,"
    " service INTEGER NOT NULL,"
    " instance TEXT NOT NULL,"
    " attrs TEXT NOT NULL,"
    " dropped_attrs INTEGER NOT NULL,"
    " schema_url TEXT NOT NULL);"
    "CREATE INDEX resources_service ON resources(service, instance);"

    "CREATE TABLE scopes("
    " id INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " attrs TEXT NOT NULL,"
    " dropped_attrs INTEGER NOT NULL,"
    " schema_url TEXT NOT NULL);"

    "CREATE TABLE traces("
    " id INTEGER PRIMARY KEY,"
    " trace_id BLOB NOT NULL UNIQUE,"
    " start_ns INTEGER NOT NULL,"
    " end_ns INTEGER NOT NULL,"
    " span_count INTEGER NOT NULL,"
    " error_count INTEGER NOT NULL,"
    " has_root INTEGER NOT NULL,"
    " root_service INTEGER NOT NULL,"
    " root_name TEXT NOT NULL,"
    " root_span_id BLOB NOT NULL);"
    "CREATE INDEX traces_start ON traces(start_ns);"

    "CREATE TABLE trace_services("
    " service INTEGER NOT NULL,"
    " trace INTEGER NOT NULL,"
    " PRIMARY KEY(service, trace)) WITHOUT ROWID;"

    "CREATE TABLE spans("
    " id INTEGER PRIMARY KEY,"
    " trace INTEGER NOT NULL,"
    " span_id BLOB NOT NULL,"
    " parent_span_id BLOB,"
    " start_ns INTEGER NOT NULL,"
    " end_ns INTEGER NOT NULL,"
    " service INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " kind INTEGER NOT NULL,"
    " status_code INTEGER NOT NULL,"
    " status_message TEXT NOT NULL,"
    " trace_state TEXT NOT NULL,"
    " flags INTEGER NOT NULL,"
    " resource INTEGER NOT NULL,"
    " scope INTEGER NOT NULL,"
    " dropped_attrs INTEGER NOT NULL,"
    " dropped_events INTEGER NOT NULL,"
    " dropped_links INTEGER NOT NULL,"
    " attrs TEXT NOT NULL,"
    " events TEXT NOT NULL,"
    " links TEXT NOT NULL);"
    "CREATE INDEX spans_trace ON spans(trace, start_ns);"

    "CREATE TABLE logs("
    " id INTEGER PRIMARY KEY,"
    " time_ns INTEGER NOT NULL,"
    " observed_ns INTEGER NOT NULL,"
    " service INTEGER NOT NULL,"
    " severity INTEGER NOT NULL,"
    " severity_text TEXT NOT NULL,"
    " trace_id BLOB,"
    " span_id BLOB,"
    " flags INTEGER NOT NULL,"
    " event_name TEXT NOT NULL,"
    " resource INTEGER NOT NULL,"
    " scope INTEGER NOT NULL,"
    " dropped_attrs INTEGER NOT NULL,"
    " body TEXT NOT NULL,"
    " attrs TEXT NOT NULL);"
    "CREATE INDEX logs_time ON logs(time_ns);"
    "CREATE INDEX logs_service_time ON logs(service, time_ns);"
    "CREATE INDEX logs_trace ON logs(trace_id) WHERE trace_id IS NOT NULL;"
    "CREATE VIRTUAL TABLE logs_fts USING fts5(body, content='', "
    " tokenize='unicode61 remove_diacritics 2');"

    "CREATE TABLE metrics("
    " id INTEGER PRIMARY KEY,"
    " resource INTEGER NOT NULL,"
    " scope INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " service INTEGER NOT NULL,"
    " description TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " type INTEGER NOT NULL,"
    " temporality INTEGER NOT NULL,"
    " monotonic INTEGER NOT NULL,"
    " last_seen_ns INTEGER NOT NULL,"
    " UNIQUE(resource, scope, name));"
    "CREATE INDEX metrics_service ON metrics(service, name);"

    "CREATE TABLE series("
    " id INTEGER PRIMARY KEY,"
    " metric INTEGER NOT NULL,"
    " hash BLOB NOT NULL,"
    " attrs TEXT NOT NULL,"
    " UNIQUE(metric, hash));"

    /* value has no declared type, so it keeps INTEGER or REAL as bound */
    "CREATE TABLE points("
    " id INTEGER PRIMARY KEY,"
    " series INTEGER NOT NULL,"
    " start_ns INTEGER NOT NULL,"
    " time_ns INTEGER NOT NULL,"
    " value,"
    " is_int INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " data TEXT,"
    " exemplars TEXT);"
    "CREATE INDEX points_series_time ON points(series, time_ns);",

    /* ---- version 2: attribute index, per-service span counts per trace ---- */
    /* columnsize=0: no per-row size table (one B-tree insert less per
     * row); automerge=8: fewer, larger merges (measured: -25% insert cost) */
    "CREATE VIRTUAL TABLE span_attr_fts USING fts5(t, content='', detail=none,"
    " columnsize=0, tokenize='ascii');"
    "INSERT INTO span_attr_fts(span_attr_fts, rank) VALUES('automerge', 8);"
    "CREATE VIRTUAL TABLE log_attr_fts USING fts5(t, content='', detail=none,"
    " columnsize=0, tokenize='ascii');"
    "INSERT INTO log_attr_fts(log_attr_fts, rank) VALUES('automerge', 8);"
    "INSERT INTO span_attr_fts(rowid, t) SELECT id, loupe_attr_tokens(attrs, name) FROM spans;"
    "INSERT INTO log_attr_fts(rowid, t) SELECT id, loupe_attr_tokens(attrs) FROM logs;"
    "CREATE INDEX traces_error ON traces(start_ns) WHERE error_count>0;"
    "ALTER TABLE trace_services ADD COLUMN span_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX trace_services_trace ON trace_services(trace);"
    "UPDATE trace_services SET span_count=(SELECT count(*) FROM spans s"
    " WHERE s.trace=trace_services.trace AND s.service=trace_services.service);",

    /* ---- version 3: segments (segment.h); schema_adopt() moves the version 2
     * tables into the first segments ---- */
    "CREATE TABLE segments("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " signal INTEGER NOT NULL,"
    " sealed INTEGER NOT NULL,"
    " created_ns INTEGER NOT NULL,"
    " items INTEGER NOT NULL,"
    " min_time_ns INTEGER,"
    " max_time_ns INTEGER,"
    " age_time_ns INTEGER,"
    " bytes INTEGER NOT NULL,"
    " bloom BLOB,"
    " format INTEGER NOT NULL DEFAULT 3);"
    "CREATE TABLE segment_services("
    " segment INTEGER NOT NULL,"
    " service INTEGER NOT NULL,"
    " spans INTEGER NOT NULL DEFAULT 0,"
    " errors INTEGER NOT NULL DEFAULT 0,"
    " logs INTEGER NOT NULL DEFAULT 0,"
    " points INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(segment, service)) WITHOUT ROWID;",

    /* ---- version 4: log patterns (logpattern.h); log segments made from now
     * on have logs_N.pattern and pattern_counts_N (segment.h) ---- */
    "CREATE TABLE patterns("
    " id INTEGER PRIMARY KEY,"
    " service TEXT NOT NULL,"
    " kind INTEGER NOT NULL,"
    " template TEXT NOT NULL,"
    " first_seen_ns INTEGER NOT NULL,"
    " last_seen_ns INTEGER NOT NULL);"
    "CREATE INDEX patterns_service ON patterns(service);",
};

/* ---- version 3: the version 2 tables become segments ----------------------- */

/* What one signal's version 2 tables become. */
typedef struct schema_adoption {
    const char *count;      /* its items */
    const char *const *tables; /* the tables, renamed to <name>_<id> */
    const char *fill;       /* the manifest row's fields, {N} = the id */
    const char *services;   /* segment_services, {N} = the id */
    const char *rollups;    /* the rollup tables' rows from the data, {N} = the id */
} schema_adoption;

/* What a client span calls (rollup_peer() in SQL, but for the url.full
 * host), over its attributes `a`. */
#define SCHEMA_PEER(a)                                                                             \
    "CASE WHEN json_extract(" a ",'$.\"peer.service\"') IS NOT NULL"                             \
    " THEN 'service:'||json_extract(" a ",'$.\"peer.service\"')"                                  \
    " WHEN coalesce(json_extract(" a ",'$.\"db.system.name\"'),"                                 \
    "  json_extract(" a ",'$.\"db.system\"')) IS NOT NULL"                                       \
    " THEN 'database:'||coalesce(json_extract(" a ",'$.\"db.system.name\"'),"                    \
    "  json_extract(" a ",'$.\"db.system\"'))||coalesce('@'||json_extract(" a                     \
    ",'$.\"server.address\"'),'')"                                                                \
    " WHEN json_extract(" a ",'$.\"messaging.system\"') IS NOT NULL"                             \
    " THEN 'messaging:'||json_extract(" a ",'$.\"messaging.system\"')||coalesce(' '||"           \
    "  json_extract(" a ",'$.\"messaging.destination.name\"'),'')"                               \
    " WHEN json_extract(" a ",'$.\"server.address\"') IS NOT NULL"                               \
    " THEN 'external:'||json_extract(" a ",'$.\"server.address\"')||coalesce(':'||"              \
    "  json_extract(" a ",'$.\"server.port\"'),'')"                                               \
    " WHEN json_extract(" a ",'$.\"net.peer.name\"') IS NOT NULL"                                \
    " THEN 'external:'||json_extract(" a ",'$.\"net.peer.name\"')"                               \
    " ELSE 'external:unknown' END"


static const char *const schema_v2_traces[] = {"traces", "trace_services", "spans",
                                               "span_attr_fts", NULL};
static const char *const schema_v2_logs[] = {"logs", "logs_fts", "log_attr_fts", NULL};
static const char *const schema_v2_metrics[] = {"points", NULL};

static const schema_adoption schema_adoptions[3] = {
    {"SELECT count(*) FROM spans", schema_v2_traces,
     "UPDATE segments SET items=(SELECT count(*) FROM spans_{N}),"
     " min_time_ns=(SELECT min(start_ns) FROM traces_{N}),"
     " max_time_ns=(SELECT max(start_ns) FROM traces_{N}),"
     " age_time_ns=(SELECT max(end_ns) FROM traces_{N}),"
     " bytes=(SELECT coalesce(sum(length(attrs)+length(events)+length(links)),0)"
     " FROM spans_{N}) WHERE id={N}",
     "INSERT INTO segment_services(segment, service, spans, errors)"
     " SELECT {N}, service, count(*), sum(status_code=2) FROM spans_{N} GROUP BY service",
     "INSERT INTO counts_{N}(service, minute, items, errors)"
     " SELECT service, start_ns/60000000000, count(*), sum(status_code=2) FROM spans_{N}"
     " GROUP BY service, start_ns/60000000000;"
     "INSERT INTO ops_{N}(service, name, kind, root, minute, calls, errors, hist)"
     " SELECT service, name, kind, parent_span_id IS NULL, start_ns/60000000000, count(*),"
     " sum(status_code=2), loupe_hist_of(max(end_ns-start_ns,0)) FROM spans_{N}"
     " WHERE kind IN (2,5) OR parent_span_id IS NULL"
     " GROUP BY service, name, kind, parent_span_id IS NULL, start_ns/60000000000;"
     "INSERT INTO edges_{N}(service, child, minute, calls, errors, hist)"
     " SELECT p.service, c.service, c.start_ns/60000000000, count(*), sum(c.status_code=2),"
     " loupe_hist_of(max(c.end_ns-c.start_ns,0)) FROM spans_{N} c JOIN spans_{N} p"
     " ON p.trace=c.trace AND p.span_id=c.parent_span_id WHERE p.service<>c.service"
     " GROUP BY p.service, c.service, c.start_ns/60000000000;"
     "INSERT INTO clients_{N}(service, peer, minute, calls, errors, matched, hist)"
     " SELECT p.service, " SCHEMA_PEER("p.attrs") ", p.start_ns/60000000000, count(*),"
     " sum(p.status_code=2), sum(EXISTS(SELECT 1 FROM spans_{N} c WHERE c.trace=p.trace"
     " AND c.parent_span_id=p.span_id AND c.service<>p.service)),"
     " loupe_hist_of(max(p.end_ns-p.start_ns,0)) FROM spans_{N} p WHERE p.kind IN (3,4)"
     " GROUP BY 1, 2, 3;"},
    {"SELECT count(*) FROM logs", schema_v2_logs,
     "UPDATE segments SET items=(SELECT count(*) FROM logs_{N}),"
     " min_time_ns=(SELECT min(time_ns) FROM logs_{N}),"
     " max_time_ns=(SELECT max(time_ns) FROM logs_{N}),"
     " age_time_ns=(SELECT max(time_ns) FROM logs_{N}),"
     " bytes=(SELECT coalesce(sum(length(body)+length(attrs)),0) FROM logs_{N}) WHERE id={N}",
     "INSERT INTO segment_services(segment, service, logs)"
     " SELECT {N}, service, count(*) FROM logs_{N} GROUP BY service",
     "INSERT INTO counts_{N}(service, minute, items, errors)"
     " SELECT service, time_ns/60000000000, count(*), 0 FROM logs_{N}"
     " GROUP BY service, time_ns/60000000000"},
    {"SELECT count(*) FROM points", schema_v2_metrics,
     "UPDATE segments SET items=(SELECT count(*) FROM points_{N}),"
     " min_time_ns=(SELECT min(time_ns) FROM points_{N}),"
     " max_time_ns=(SELECT max(time_ns) FROM points_{N}),"
     " age_time_ns=(SELECT max(time_ns) FROM points_{N}),"
     " bytes=(SELECT coalesce(sum(length(data)+length(exemplars)),0) FROM points_{N})"
     " WHERE id={N}",
     "INSERT INTO segment_services(segment, service, points)"
     " SELECT {N}, m.service, count(*) FROM points_{N} p JOIN series s ON s.id=p.series"
     " JOIN metrics m ON m.id=s.metric GROUP BY m.service",
     "INSERT INTO counts_{N}(service, minute, items, errors)"
     " SELECT m.service, p.time_ns/60000000000, count(*), 0 FROM points_{N} p"
     " JOIN series s ON s.id=p.series JOIN metrics m ON m.id=s.metric"
     " GROUP BY m.service, p.time_ns/60000000000"},
};

static int schema_count(sqlite3 *db, const char *sql, int64_t *n) {
    sqlite3_stmt *st = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* In the migration's transaction: each signal's version 2 tables, if they
 * hold anything, are renamed into a sealed segment of their own (metadata
 * only: nothing is copied), with its manifest row and per-service counts;
 * empty ones are dropped. The bloom filter of the traces is made when the
 * store opens (store_segs_load). */
static int schema_adopt(sqlite3 *db) {
    int rc = SQLITE_OK;
    for (int sig = 0; rc == SQLITE_OK && sig < 3; sig++) {
        const schema_adoption *a = &schema_adoptions[sig];
        int64_t n = 0, id = 0;
        rc = schema_count(db, a->count, &n);
        if (rc != SQLITE_OK)
            break;
        if (n == 0) {
            for (const char *const *t = a->tables; rc == SQLITE_OK && *t; t++) {
                char sql[128];
                snprintf(sql, sizeof(sql), "DROP TABLE %s", *t);
                rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
            }
            continue;
        }
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO segments(signal, sealed, created_ns, items, bytes,"
                                " format) VALUES(?1, 1, CAST((julianday('now')-2440587.5)"
                                "*86400000000000 AS INTEGER), 0, 0, 2) RETURNING id",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, sig);
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                id = sqlite3_column_int64(st, 0);
                rc = sqlite3_step(st);
            }
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(st);
        for (const char *const *t = a->tables; rc == SQLITE_OK && *t; t++) {
            char sql[160];
            snprintf(sql, sizeof(sql), "ALTER TABLE %s RENAME TO %s_%lld", *t, *t, (long long)id);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK)
            rc = seg_exec(db, a->fill, id);
        if (rc == SQLITE_OK)
            rc = seg_exec(db, a->services, id);
        if (rc == SQLITE_OK)
            rc = seg_create_rollups(db, (model_signal)sig, id);
        if (rc == SQLITE_OK)
            rc = seg_exec(db, a->rollups, id);
    }
    return rc;
}

static int schema_pragma_int(sqlite3 *db, const char *sql, int *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? SCHEMA_OK : SCHEMA_EDB;
}

int schema_version(sqlite3 *db, int *version) {
    return schema_pragma_int(db, "PRAGMA user_version", version);
}

static int schema_fail(sqlite3 *db, char *err, size_t errlen, const char *what) {
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return SCHEMA_EDB;
}

int schema_migrate(sqlite3 *db, char *err, size_t errlen) {
    return schema_migrate_to(db, SCHEMA_VERSION, err, errlen);
}

int schema_migrate_to(sqlite3 *db, int target, char *err, size_t errlen) {
    int version = 0, app_id = 0, objects = 0;
    if (schema_version(db, &version) != SCHEMA_OK ||
        schema_pragma_int(db, "PRAGMA application_id", &app_id) != SCHEMA_OK ||
        schema_pragma_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != SCHEMA_OK)
        return schema_fail(db, err, errlen, "cannot read the database header");
    if ((app_id != 0 && app_id != SCHEMA_APPLICATION_ID) ||
        (app_id == 0 && (version != 0 || objects != 0))) {
        snprintf(err, errlen, "not a loupe database (application_id %d, user_version %d)", app_id,
                 version);
        return SCHEMA_EFOREIGN;
    }
    if (target < 1 || target > SCHEMA_VERSION) {
        snprintf(err, errlen, "no schema version %d", target);
        return SCHEMA_EDB;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this loupe supports (%d); upgrade loupe",
                 version, SCHEMA_VERSION);
        return SCHEMA_ENEWER;
    }
    if (attr_index_register(db) != SQLITE_OK || rollup_register(db) != SQLITE_OK)
        return schema_fail(db, err, errlen, "cannot register the store's SQL functions");
    for (int v = version + 1; v <= target; v++) {
        char tail[96];
        snprintf(tail, sizeof(tail), "PRAGMA user_version=%d; PRAGMA application_id=%d;", v,
                 SCHEMA_APPLICATION_ID);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return schema_fail(db, err, errlen, "cannot start the schema migration");
        if (sqlite3_exec(db, schema_migrations[v - 1], NULL, NULL, NULL) != SQLITE_OK ||
            (v == 3 && schema_adopt(db) != SQLITE_OK) ||
            sqlite3_exec(db, tail, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof(what), "schema migration to version %d failed", v);
            schema_fail(db, err, errlen, what);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return SCHEMA_EDB;
        }
    }
    return SCHEMA_OK;
}
