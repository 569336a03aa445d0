/* ch_schema.c - loupe's ClickHouse tables; see ch_schema.h. */
#include "ch_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_sql.h"

/* The columns of every signal's table that describe where an item came
 * from: its resource and scope. */
#define CH_OWNER_COLS                                                                              \
    " service String, instance String,"                                                            \
    " res_attrs String, res_keys Array(String), res_values Array(String),"                        \
    " res_dropped UInt32, res_schema_url String,"                                                  \
    " scope_name String, scope_version String, scope_attrs String, scope_dropped UInt32,"         \
    " scope_schema_url String,"

#define CH_OWNER_NAMES                                                                             \
    "service, instance, res_attrs, res_keys, res_values, res_dropped, res_schema_url,"           \
    " scope_name, scope_version, scope_attrs, scope_dropped, scope_schema_url, "

const char ch_spans_columns[] =
    "(date, time, end_ns, trace_id, span_id, parent_span_id, has_parent, " CH_OWNER_NAMES
    "name, kind, status_code, status_message, trace_state, flags, attrs, events, links,"
    " attr_keys, attr_values, dropped_attrs, dropped_events, dropped_links, arrival)";

const char ch_logs_columns[] =
    "(date, time, time_ns, observed_ns, " CH_OWNER_NAMES
    "severity, severity_text, trace_id, span_id, has_trace, has_span, flags, event_name, body,"
    " body_text, attrs, attr_keys, attr_values, dropped_attrs, pattern, arrival)";

const char ch_points_columns[] =
    "(date, time, start_ns, " CH_OWNER_NAMES
    "name, description, unit, type, temporality, monotonic, attrs, attr_keys, attr_values,"
    " value, is_int, as_int, flags, data, exemplars, arrival)";

const char ch_genai_columns[] =
    "(date, time, end_ns, duration, bucket, trace_id, span_id, service, name, provider, model,"
    " operation, input_tokens, output_tokens, error, arrival)";

const char ch_lint_hits_columns[] =
    "(date, signal, service, rule, key, hit_count, hit_first, hit_last, hit_note)";

const char ch_lint_examples_columns[] =
    "(date, signal, service, rule, key, arrival, seq, trace, span, metric, time)";

const char *const ch_schema_local_tables[] = {CH_SPANS, CH_LOGS,      CH_POINTS,
                                              CH_TRACE_INDEX, CH_OPS, CH_GENAI,
                                              CH_LINT_HITS, CH_LINT, CH_LINT_EXAMPLES};
const size_t ch_schema_n_local_tables =
    sizeof(ch_schema_local_tables) / sizeof(ch_schema_local_tables[0]);

/* A table: its name, columns, engine clause; and for a cluster the
 * Distributed table's sharding key. */
typedef struct ch_table {
    const char *name;
    const char *columns;
    const char *engine;
    const char *shard_key;
} ch_table;

static const ch_table ch_tables[] = {
    {CH_SPANS,
     "(date Date, time UInt64, end_ns UInt64, trace_id FixedString(16), span_id FixedString(8),"
     " parent_span_id FixedString(8), has_parent UInt8," CH_OWNER_COLS
     " name String, kind UInt8, status_code UInt8, status_message String, trace_state String,"
     " flags UInt32, attrs String, events String, links String,"
     " attr_keys Array(String), attr_values Array(String),"
     " dropped_attrs UInt32, dropped_events UInt32, dropped_links UInt32, arrival UInt64)",
     "MergeTree() PARTITION BY date ORDER BY (service, time)", "cityHash64(trace_id)"},
    {CH_LOGS,
     "(date Date, time UInt64, time_ns UInt64, observed_ns UInt64," CH_OWNER_COLS
     " severity UInt8, severity_text String, trace_id FixedString(16), span_id FixedString(8),"
     " has_trace UInt8, has_span UInt8, flags UInt32, event_name String, body String,"
     " body_text String, attrs String, attr_keys Array(String), attr_values Array(String),"
     " dropped_attrs UInt32, pattern Int64, arrival UInt64)",
     "MergeTree() PARTITION BY date ORDER BY (service, time)", "rand()"},
    {CH_POINTS,
     "(date Date, time UInt64, start_ns UInt64," CH_OWNER_COLS
     " name String, description String, unit String, type UInt8, temporality UInt8,"
     " monotonic UInt8, attrs String, attr_keys Array(String), attr_values Array(String),"
     " value Float64, is_int UInt8, as_int Int64, flags UInt32, data String, exemplars String,"
     " arrival UInt64)",
     "MergeTree() PARTITION BY date ORDER BY (service, name, time)", "rand()"},
    /* per day, trace and service: first start, last end, last start (service
     * and last came with the second layout: older rows have '' and 0) */
    {CH_TRACE_INDEX,
     "(date Date, trace_id FixedString(16), start UInt64, end UInt64, service String,"
     " last UInt64)",
     "MergeTree() PARTITION BY date ORDER BY trace_id", "cityHash64(trace_id)"},
    {CH_OPS,
     "(date Date, service String, name String, minute UInt64, calls UInt64, errors UInt64,"
     " dur_sum UInt64,"
     " dur AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), UInt64))",
     "SummingMergeTree((calls, errors, dur_sum, dur)) PARTITION BY date"
     " ORDER BY (service, name, minute)",
     "rand()"},
    /* one row per GenAI span (genai.h); bucket: rollup.h's duration bucket */
    {CH_GENAI,
     "(date Date, time UInt64, end_ns UInt64, duration UInt64, bucket UInt16,"
     " trace_id FixedString(16), span_id FixedString(8), service String, name String,"
     " provider String, model String, operation String, input_tokens UInt64,"
     " output_tokens UInt64, error UInt8, arrival UInt64)",
     "MergeTree() PARTITION BY date ORDER BY (service, time)", "cityHash64(trace_id)"},
    /* the writer's per-round sums of the lint (rule: lint.h's number); kept by
     * lint_findings_mv only */
    {CH_LINT_HITS,
     "(date Date, signal UInt8, service String, rule UInt8, key String, hit_count UInt64,"
     " hit_first UInt64, hit_last UInt64, hit_note String)",
     "Null", "rand()"},
    {CH_LINT,
     "(date Date, signal UInt8, service String, rule UInt8, key String, count UInt64,"
     " first AggregateFunction(min, UInt64), last AggregateFunction(max, UInt64),"
     " note AggregateFunction(argMax, String, UInt64))",
     "SummingMergeTree((count, first, last, note)) PARTITION BY (date, signal)"
     " ORDER BY (service, rule, key)",
     "rand()"},
    {CH_LINT_EXAMPLES,
     "(date Date, signal UInt8, service String, rule UInt8, key String, arrival UInt64,"
     " seq UInt32, trace String, span String, metric String, time UInt64)",
     "MergeTree() PARTITION BY (date, signal) ORDER BY (service, rule, key, arrival)", "rand()"},
    /* small, kept whole: see ch_patterns.h */
    {CH_PATTERNS,
     "(id Int64, service String, kind UInt8, template String, first_seen UInt64,"
     " last_seen UInt64)",
     "ReplacingMergeTree(last_seen) ORDER BY id", "cityHash64(id)"},
};

/* The materialized views: name, target table, source table, select (from
 * {SRC}: the source's local table). */
typedef struct ch_view {
    const char *name;
    const char *target;
    const char *source;
    const char *select;
} ch_view;

static const ch_view ch_views[] = {
    /* by service too, so a trace by id reads only its services' time ranges
     * of spans (its primary key); replaces trace_index_mv, see
     * ch_schema_trace_index_v2() */
    {"trace_index_svc_mv", CH_TRACE_INDEX, CH_SPANS,
     "SELECT date, trace_id, min(time) AS start, max(end_ns) AS end, service,"
     " max(time) AS last FROM {SRC} GROUP BY date, trace_id, service"},
    /* entry operations: SERVER and CONSUMER spans, and roots */
    {"ops_minute_mv", CH_OPS, CH_SPANS,
     "SELECT date, service, name, intDiv(time, 60000000000) AS minute, count() AS calls,"
     " countIf(status_code = 2) AS errors,"
     " sum(toUInt64(if(end_ns > time, end_ns - time, 0))) AS dur_sum,"
     " quantilesTDigestState(0.5, 0.95, 0.99)(toUInt64(if(end_ns > time, end_ns - time, 0))) AS dur"
     " FROM {SRC} WHERE kind IN (2, 5) OR has_parent = 0"
     " GROUP BY date, service, name, minute"},
    /* the latest non-empty note wins (an empty one ranks 0) */
    {"lint_findings_mv", CH_LINT, CH_LINT_HITS,
     "SELECT date, signal, service, rule, key, sum(hit_count) AS count,"
     " minState(hit_first) AS first, maxState(hit_last) AS last,"
     " argMaxState(hit_note, if(hit_note = '', toUInt64(0), hit_last)) AS note"
     " FROM {SRC} GROUP BY date, signal, service, rule, key"},
};

void ch_schema_local(const char *t, int cluster, char *out, size_t len) {
    snprintf(out, len, "%s%s", t, cluster ? "_local" : "");
}

/* Runs one statement. */
static int ch_schema_run(ch_conn *c, buf *sql, char *err) {
    int rc = ch_conn_query(c, sql->ptr, sql->len, NULL, err);
    buf_reset(sql);
    return rc;
}

/* The version a loupe wrote into db.loupe_schema (0: none yet). */
static int ch_schema_version(ch_conn *c, const char *db, unsigned *version, char *err) {
    buf sql, out;
    buf_init(&sql, 4096);
    buf_init(&out, 4096);
    buf_printf(&sql, "SELECT max(version) FROM %s.loupe_schema", db);
    int rc = ch_conn_query(c, sql.ptr, sql.len, &out, err);
    *version = rc == CH_OK && out.len ? (unsigned)strtoul(out.ptr, NULL, 10) : 0;
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

/* A database made with the first layout of trace_index (no service, no
 * last): the two columns are added (to the local table and, on a
 * cluster, to the Distributed one; the old rows read '' and 0, which the
 * trace by id takes as "the whole day"). */
static int ch_schema_trace_index_v2(ch_conn *c, const char *db, int cl, char *err) {
    buf sql, out;
    buf_init(&sql, 4096);
    buf_init(&out, 4096);
    char local[64];
    int rc = CH_OK;
    for (int k = 0; rc == CH_OK && k < 1 + cl; k++) {
        ch_schema_local(CH_TRACE_INDEX, k == 0 && cl, local, sizeof(local));
        buf_reset(&out);
        buf_printf(&sql, "SELECT count() FROM system.columns WHERE database = ");
        ch_sql_quote_str(&sql, db);
        buf_append_str(&sql, " AND table = ");
        ch_sql_quote_str(&sql, local);
        buf_append_str(&sql, " AND name = 'last'");
        rc = ch_conn_query(c, sql.ptr, sql.len, &out, err);
        buf_reset(&sql);
        if (rc == CH_OK && out.len && strtoul(out.ptr, NULL, 10) == 0) {
            buf_printf(&sql,
                       "ALTER TABLE %s.%s ADD COLUMN service String, ADD COLUMN last UInt64",
                       db, local);
            rc = ch_schema_run(c, &sql, err);
        }
    }
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

int ch_schema_create(ch_conn *c, const char *db, const char *cluster, char *err) {
    buf sql;
    buf_init(&sql, 1 << 16);
    int rc = CH_OK;
    if (buf_printf(&sql, "CREATE DATABASE IF NOT EXISTS %s", db) != BUF_OK)
        rc = CH_ENOMEM;
    if (rc == CH_OK)
        rc = ch_schema_run(c, &sql, err);
    if (rc == CH_OK) {
        buf_printf(&sql,
                   "CREATE TABLE IF NOT EXISTS %s.loupe_schema (version UInt32, created UInt64)"
                   " ENGINE = MergeTree() ORDER BY version",
                   db);
        rc = ch_schema_run(c, &sql, err);
    }
    unsigned version = 0;
    if (rc == CH_OK)
        rc = ch_schema_version(c, db, &version, err);
    if (rc == CH_OK && version > CH_SCHEMA_VERSION) {
        snprintf(err, CH_ERR_MAX,
                 "database %s has loupe's ClickHouse schema %u; this loupe knows up to %d", db,
                 version, CH_SCHEMA_VERSION);
        rc = CH_EQUERY;
    }
    int cl = cluster != NULL;
    char local[64];
    for (size_t i = 0; rc == CH_OK && i < sizeof(ch_tables) / sizeof(ch_tables[0]); i++) {
        const ch_table *t = &ch_tables[i];
        ch_schema_local(t->name, cl, local, sizeof(local));
        buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s %s ENGINE = %s", db, local, t->columns,
                   t->engine);
        rc = ch_schema_run(c, &sql, err);
        if (rc == CH_OK && cl) {
            buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s ENGINE = Distributed(", db,
                       t->name, db, local);
            ch_sql_quote_str(&sql, cluster);
            buf_append_char(&sql, ',');
            ch_sql_quote_str(&sql, db);
            buf_append_char(&sql, ',');
            ch_sql_quote_str(&sql, local);
            buf_printf(&sql, ", %s)", t->shard_key);
            rc = ch_schema_run(c, &sql, err);
        }
    }
    if (rc == CH_OK)
        rc = ch_schema_trace_index_v2(c, db, cl, err);
    char src_local[64];
    for (size_t i = 0; rc == CH_OK && i < sizeof(ch_views) / sizeof(ch_views[0]); i++) {
        const ch_view *v = &ch_views[i];
        ch_schema_local(v->target, cl, local, sizeof(local));
        ch_schema_local(v->source, cl, src_local, sizeof(src_local));
        buf_printf(&sql, "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s TO %s.%s AS ", db, v->name,
                   db, local);
        const char *s = v->select, *at = strstr(s, "{SRC}");
        buf_append(&sql, s, (size_t)(at - s));
        buf_printf(&sql, "%s.%s%s", db, src_local, at + strlen("{SRC}"));
        rc = ch_schema_run(c, &sql, err);
    }
    if (rc == CH_OK) { /* the first layout's view, after its successor is there */
        buf_printf(&sql, "DROP TABLE IF EXISTS %s.trace_index_mv", db);
        rc = ch_schema_run(c, &sql, err);
    }
    if (rc == CH_OK && version < CH_SCHEMA_VERSION) {
        buf_printf(&sql, "INSERT INTO %s.loupe_schema VALUES (%d, toUInt64(now()))", db,
                   CH_SCHEMA_VERSION);
        rc = ch_schema_run(c, &sql, err);
    }
    buf_free(&sql);
    return rc;
}
