/* schema.h - loupe's SQLite schema: the DDL, its version and migrations.
 *
 * DESIGN
 * All DDL lives in schema.c, one entry per version. The database records its
 * version in PRAGMA user_version and is marked as loupe's with PRAGMA
 * application_id. schema_migrate() runs at startup: it creates a fresh
 * database, upgrades an older one step by step (each step in its own
 * transaction), and refuses a database written by a newer loupe or by
 * another program.
 *
 * Version 1 (times are unix nanoseconds stored as INTEGER; ids as BLOBs):
 *   services      one row per service.name with counters of stored items
 *                 (spans, errors, logs, points) and last seen time, so the
 *                 services list is answered without scanning telemetry
 *   resources     deduplicated by a 16-byte content hash (canonical JSON of
 *                 sorted attributes + schema url); carries service and
 *                 service.instance.id
 *   scopes        deduplicated likewise
 *   traces        a small integer id per trace (so indexes don't carry
 *                 16-byte random ids), time span, counts, the root span's
 *                 service and name (or the earliest span's until the root
 *                 arrives)
 *   trace_services (service, trace) pairs: the services a trace involves
 *   spans         one row per span; attributes, events and links as API JSON
 *   logs          one row per record; body and attributes as API JSON;
 *                 logs_fts, a contentless FTS5 index over the body text
 *   metrics       instruments keyed by (resource, scope, name)
 *   series        (metric, attribute-set hash) with the attributes as JSON
 *   points        one row per data point; value keeps its integer or real
 *                 type; distribution data and exemplars as JSON
 *
 * Version 2 (the query API):
 *   span_attr_fts, log_attr_fts
 *                 the attribute index (attr_index.h): contentless FTS5
 *                 tables (detail=none) whose rowid is the span's or log
 *                 record's id and whose words are hashed key=value tokens
 *                 (and the span name), so `key=value` filters and name
 *                 filters are index lookups
 *   trace_services.span_count
 *                 spans of the trace from that service (the per-service
 *                 counts in trace summaries); trace_services_trace indexes
 *                 the pairs by trace
 *   traces_error  partial index of the traces with errors, by start time
 *
 * Version 3 (segments, segment.h): the telemetry tables above (traces,
 * trace_services, spans, span_attr_fts; logs, logs_fts, log_attr_fts;
 * points) exist once per segment, named <table>_<segment id>, and are
 * created by the store as it needs them; the migration renames the
 * version 2 tables into the first segments.
 *   segments          the manifest: one row per live segment (signal,
 *                     sealed, item count, time range, size, the bloom
 *                     filter of a sealed trace segment's trace ids)
 *   segment_services  items per (segment, service), subtracted from the
 *                     services' counters when a segment is dropped
 *
 * Version 4 (log patterns, logpattern.h):
 *   patterns          one row per pattern: id, service name, kind (text,
 *                     structured, other), template, first and last seen
 *                     times of its records; kept when segments go, written
 *                     by the writer in the transaction of (or before) the
 *                     first record that has it; the state at startup is
 *                     rebuilt from it
 *   Log segments made by version 4 (format 4) have logs_N.pattern with an
 *   index by (pattern, time) and pattern_counts_N (segment.h); those of
 *   older databases have neither: their records have no pattern.
 *
 * Migrations that create an index from stored rows call the SQL function
 * loupe_attr_tokens(), which schema_migrate() registers on db.
 */
#ifndef LOUPE_SCHEMA_H
#define LOUPE_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

#define SCHEMA_VERSION 4
/* "LOUP" in PRAGMA application_id marks a loupe database. */
#define SCHEMA_APPLICATION_ID 0x4c4f5550

#define SCHEMA_OK 0
#define SCHEMA_EDB -1      /* SQLite failed (unwritable, corrupt, ...) */
#define SCHEMA_ENEWER -2   /* written by a newer loupe */
#define SCHEMA_EFOREIGN -3 /* not a loupe database */

/* The text that logs_fts indexes for a log body, as an SQL expression over
 * the body's JSON text `x`: the string itself for a string body, nothing for
 * an empty body, the JSON text otherwise. Inserts and the 'delete' commands
 * of retention both compute it with this expression, from the same stored
 * JSON, so they always agree (a contentless FTS5 table must be given exactly
 * the indexed values to delete a row). */
#define SCHEMA_LOG_FTS_TEXT(x)                                                                   \
    "CASE json_type(" x ") WHEN 'text' THEN json_extract(" x ",'$') WHEN 'null' THEN NULL ELSE " x \
    " END"

/* Brings the database on db to SCHEMA_VERSION. Returns SCHEMA_OK or a
 * SCHEMA_E* code with a one-line reason in err. */
int schema_migrate(sqlite3 *db, char *err, size_t errlen);

/* As schema_migrate() but stops at version `target` (1..SCHEMA_VERSION);
 * for tests that need a database of an older version. */
int schema_migrate_to(sqlite3 *db, int target, char *err, size_t errlen);

/* Reads PRAGMA user_version into *version. Returns SCHEMA_OK or SCHEMA_EDB. */
int schema_version(sqlite3 *db, int *version);

#endif
