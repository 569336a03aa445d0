/* segment.h - the store's segments: sets of tables of one signal named by a
 * segment id, the manifest that lists them, and the bloom filter of a
 * sealed trace segment's trace ids.
 *
 * DESIGN
 * Telemetry is stored in segments ordered by arrival, one sequence of them
 * per signal. A segment is a set of tables whose names end in the segment's
 * id ("spans_17"); ids come from one AUTOINCREMENT sequence (the manifest
 * table `segments`), so a suffix names one segment for ever. The newest
 * segment of a signal (the active one) takes new items; once it holds its
 * share of the signal's limit it is sealed and a new one is made. Retention
 * drops the oldest segments whole (DROP TABLE), so eviction deletes no row
 * and re-tokenises nothing, and only the newest segment's B-trees are hot.
 *
 * The manifest row of a segment is written in the same transaction as its
 * tables, and updated in every transaction that writes to it, so the
 * manifest and the tables agree after any crash. docs/storage.md has the
 * whole picture (sizes, trace homes, cursors, the migration from schema 2).
 *
 * SQL texts here are templates: "{N}" stands for the segment id. Ids are
 * integers the store makes, never client data.
 */
#ifndef LOUPE_SEGMENT_H
#define LOUPE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "model.h"

/* A row's identity across segments: (segment id, rowid) in one integer.
 * A segment never holds SEG_ROWS_MAX rows. */
#define SEG_ROWS_MAX ((int64_t)1 << 32)
#define SEG_GID(seg, row) (((int64_t)(seg) << 32) | (int64_t)(row))
#define SEG_OF(gid) ((int64_t)(gid) >> 32)
#define SEG_ROW(gid) ((int64_t)(gid) & (SEG_ROWS_MAX - 1))

/* A time for "no time yet" in min/max fields. */
#define SEG_NO_MIN INT64_MAX
#define SEG_NO_MAX INT64_MIN

/* What the manifest says of one segment. */
typedef struct seg_meta {
    int64_t id;
    model_signal signal;
    int sealed;
    uint64_t created_ns; /* wall clock when it was made */
    int64_t items;       /* spans, log records or points stored in it */
    /* The items' own times: span starts, log times, point times;
     * SEG_NO_MIN / SEG_NO_MAX while empty. */
    int64_t min_time, max_time;
    /* What age retention compares: the latest of the items' times (span
     * ends for traces), an item dated more than 5 minutes after its arrival
     * counting as its arrival. SEG_NO_MAX while empty. */
    int64_t age_time;
    uint64_t bytes; /* texts written into it (a size estimate) */
    /* What its tables hold: seg_format() of its signal as made now; 2 for
     * the tables of a schema 2 database adopted as a segment, whose
     * attribute index has no words of the span texts (the trace search's q
     * scans them); 3 for a log segment made before log patterns (no
     * logs_N.pattern, no pattern_counts_N: its records have no pattern). */
    int format;
} seg_meta;

#define SEG_FORMAT 3
/* Log segments with logs_N.pattern and pattern_counts_N. */
#define SEG_FORMAT_LOG_PATTERNS 4

/* The format of a segment of sig made now: SEG_FORMAT_LOG_PATTERNS for
 * logs, SEG_FORMAT otherwise. */
int seg_format(model_signal sig);

/* Appends tmpl to out with every "{N}" replaced by id. Returns BUF_OK or
 * a BUF_* error. */
int seg_sql(buf *out, const char *tmpl, int64_t id);

/* Runs the template tmpl (one or more statements) for segment id on db.
 * Returns an SQLite code. */
int seg_exec(sqlite3 *db, const char *tmpl, int64_t id);

/* Prepares the template tmpl for segment id. Returns an SQLite code. */
int seg_prepare(sqlite3 *db, const char *tmpl, int64_t id, sqlite3_stmt **st);

/* In the open transaction: adds a manifest row for a new segment of sig
 * (created now_ns) and creates its tables. *id gets its id. Returns an
 * SQLite code. */
int seg_create(sqlite3 *db, model_signal sig, uint64_t now_ns, int64_t *id);

/* Creates the rollup tables of segment id of sig (counts_N; for traces
 * also ops_N, edges_N, clients_N, genai_N and genai_top_N), for a segment
 * adopted from an older schema. Returns an SQLite code. */
int seg_create_rollups(sqlite3 *db, model_signal sig, int64_t id);

/* The template of a segment's lint table (lint_N), part of every new
 * segment; for segments made before it see store_lint_ensure(). */
extern const char seg_lint_ddl[];

/* The template of a trace segment's GenAI tables (genai_N, genai_top_N),
 * part of every new trace segment; for segments made before them see
 * store_genai_ensure(). */
extern const char seg_genai_ddl[];

/* In the open transaction: drops segment m's tables, subtracts what it held
 * from the services' counters and deletes its manifest rows. Returns an
 * SQLite code. */
int seg_drop(sqlite3 *db, const seg_meta *m);

/* The manifest, oldest first: *out (malloc'ed, caller frees) and *n.
 * Returns an SQLite code. */
int seg_load(sqlite3 *db, seg_meta **out, size_t *n);

/* The SQL that writes a segment's mutable manifest fields:
 * ?1 id, ?2 sealed, ?3 items, ?4 min_time, ?5 max_time, ?6 age_time,
 * ?7 bytes (NULL times for SEG_NO_MIN / SEG_NO_MAX). */
extern const char seg_save_sql[];

/* Binds m's fields to a statement prepared from seg_save_sql. */
void seg_save_bind(sqlite3_stmt *st, const seg_meta *m);

/* The names of the tables of a segment of sig, as templates, NULL-ended. */
const char *const *seg_tables(model_signal sig);

/* ---- bloom filter of a sealed trace segment's trace ids ------------------- */

typedef struct seg_bloom {
    uint64_t *bits; /* owned */
    uint64_t nbits; /* a multiple of 64 */
} seg_bloom;

/* Builds the filter of segment id's trace ids (traces_{N}) into *b.
 * Returns an SQLite code. */
int seg_bloom_build(sqlite3 *db, int64_t id, seg_bloom *b);

/* 1 when trace_id may be in the filter, 0 when it is certainly not. */
int seg_bloom_has(const seg_bloom *b, const uint8_t trace_id[16]);

/* The filter as a blob and back; seg_bloom_from() returns 0, or -1 for a
 * malformed or empty blob (or out of memory). */
const void *seg_bloom_blob(const seg_bloom *b, size_t *len);
int seg_bloom_from(const void *blob, size_t len, seg_bloom *b);

void seg_bloom_free(seg_bloom *b);

#endif
