/* ch_schema.h - loupe's tables in ClickHouse, created at start.
 *
 * DESIGN
 * One table per signal (spans, logs, points), MergeTree, partitioned by
 * day (a Date column made from the item's own time) and ordered for the
 * common filters: service, then time. Items are denormalised as
 * ClickHouse schemas for telemetry do: each row carries its service,
 * resource and scope. Attributes are kept twice: as the JSON text the API
 * shows (attrs) and as parallel arrays of top-level keys and values as
 * text (attr_keys, attr_values; res_keys, res_values for the resource)
 * that filters read. Times are UInt64 nanoseconds.
 *
 * Beside them, filled by materialized views on every insert:
 *   trace_index  per day, trace and service: the first start, the last
 *                start and the last end, ordered by trace id, so a trace by
 *                id reads one granule of the index and then only its
 *                services' time ranges of spans (the primary key prunes
 *                them), and the trace list groups only the traces that can
 *                be on the page;
 *   ops_minute   per service, operation (entry span name) and minute: calls,
 *                errors, duration sum and a t-digest of durations, for
 *                the services' and operations' figures;
 *   lint_findings per day, signal, service, rule and key: the lint's
 *                counts, first and last seen and latest note, summed from
 *                the rows the writer inserts into lint_hits (a Null table:
 *                it keeps nothing itself).
 *
 * Written by the writer beside the items (ch_insight.h): genai_calls (one
 * row per GenAI span) and lint_examples (a few example items per finding
 * and day). The lint's tables are partitioned by (date, signal), so a
 * signal's day drops with its findings.
 *
 * Only features that ClickHouse 18.16 (Debian 12) and current releases
 * both have: no DateTime64, no Map, no TTL, no JSON functions, no
 * LowCardinality; JOIN ... USING, not ON.
 *
 * Cluster (cluster name given): the tables above are created on every
 * shard with the suffix _local, and a Distributed table with the plain
 * name over them on every shard too; spans are sharded by trace id (a
 * trace lives on one shard, so trace_index and a trace's spans meet
 * there), logs and points at random. The names loupe queries are the same
 * either way.
 */
#ifndef LOUPE_CH_SCHEMA_H
#define LOUPE_CH_SCHEMA_H

#include <stddef.h>

#include "ch_conn.h"

#define CH_SCHEMA_VERSION 1

/* The tables' names as loupe queries them and as it writes them. */
#define CH_SPANS "spans"
#define CH_LOGS "logs"
#define CH_POINTS "points"
#define CH_TRACE_INDEX "trace_index"
#define CH_OPS "ops_minute"
/* The GenAI calls and the lint's findings (ch_insight.h): */
#define CH_GENAI "genai_calls"
#define CH_LINT_HITS "lint_hits"
#define CH_LINT "lint_findings"
#define CH_LINT_EXAMPLES "lint_examples"
#define CH_PATTERNS "patterns" /* log patterns: ch_patterns.h */

/* The local tables (each shard's own data): retention and deletes work on
 * these. */
extern const char *const ch_schema_local_tables[];
extern const size_t ch_schema_n_local_tables;

/* Column lists of the inserts, in the order the writer writes a row. */
extern const char ch_spans_columns[];
extern const char ch_logs_columns[];
extern const char ch_points_columns[];
extern const char ch_genai_columns[];
extern const char ch_lint_hits_columns[];
extern const char ch_lint_examples_columns[];

/* Creates the database `database` (when missing) and every table on the
 * connection c (a shard's server; the same for every shard). cluster:
 * NULL for one server, else the name in ClickHouse's remote_servers. A
 * database made by a newer loupe (a higher version in loupe_schema) is
 * refused. Returns CH_OK or a CH_* code with err (CH_ERR_MAX) set. */
int ch_schema_create(ch_conn *c, const char *database, const char *cluster, char *err);

/* The name of table t as stored on one shard: t itself, or t_local in a
 * cluster. Writes into out (len bytes). */
void ch_schema_local(const char *t, int cluster, char *out, size_t len);

#endif
