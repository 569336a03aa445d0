/* ch_patterns.h - log patterns (logpattern.h) on a ClickHouse store: the
 * ids records are stored with, and the `patterns` table.
 *
 * DESIGN
 * Several loupes may write one database, so a pattern's id must not depend
 * on the process that made it. logpattern hands out LOCAL ids (1, 2, ...,
 * in this process; store_append() assigns them on the receiving thread as
 * with SQLite). The writer gives each pattern a GLOBAL id the first time it
 * takes the pattern from logpattern (logpattern_take_changes): a positive
 * hash (util/hash.h's hash_64) of the pattern's service, kind and template
 * as it was then, cut to 53 bits: the API's JSON readers (the web UI's
 * JavaScript, jq) hold integers up to 2^53 exactly, and larger ids would
 * come back rounded in ?pattern=. With at most LOGPATTERN_MAX_TOTAL
 * patterns per loupe, two patterns meet by chance about once in 10^7
 * databases. Two loupes whose first records of a template
 * have the same shape thus give it the same id; a template that one loupe
 * first saw more general than the other (a position already <*>) gets two
 * ids. Should one process reach a global id twice (two of its patterns
 * started from the same template; or a hash collision) the later one is
 * hashed again with another seed, so no id holds two of its patterns.
 *
 * Per round (ch_writer.c): ch_patterns_round() gives the round's records
 * without a pattern theirs, takes the changed patterns, assigns global ids,
 * renders their rows (id, service, kind, template, first_seen, last_seen)
 * and rewrites every record's model_log.pattern_id from local to global,
 * before the rows are rendered: the `pattern` column and the live stream
 * (which reads the batch after the round) both show the global id.
 * ch_patterns_insert() writes the rows before the round's logs, so a
 * stored record's pattern has its row. ch_patterns_end() forgets them once
 * the round is stored, or hands them back to logpattern (written with the
 * next round) when it failed, as store_patterns.c does on a rollback.
 *
 * The `patterns` table is a ReplacingMergeTree(last_seen) ORDER BY id, not
 * partitioned: it is small (a loupe writes a pattern's row when it is new,
 * its template grows more general or its last record is a minute past the
 * row's, and has at most LOGPATTERN_MAX_TOTAL patterns), and neither
 * retention nor deletes touch it, as the SQLite store keeps its patterns
 * (sinceUnixNano outlives the records); merges keep one row per id.
 * Readers take each id's latest row by argMax(..., last_seen) and its first
 * record by min(first_seen), so rows not yet merged read the same. A merge
 * keeps the row of the latest last_seen: of one loupe that row also has the
 * earliest first_seen (logpattern's first seen only moves earlier), but
 * when two loupes wrote an id, the first record the other saw earlier is
 * lost with its row (sinceUnixNano then comes later than it was).
 *
 * At open, logpattern is rebuilt from the table (each id's latest row, in
 * the order of their first records) with local ids 1..n, each mapped to its
 * stored global id, so a restart keeps its ids and its learned templates.
 * When ClickHouse does not answer at open, loupe starts with no patterns:
 * its new ones get the ids their first records' shapes give.
 *
 * Threads: ch_patterns_open() at open, before the writer starts; the rest
 * on the writer thread only.
 */
#ifndef LOUPE_CH_PATTERNS_H
#define LOUPE_CH_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

typedef struct store store;
typedef struct ch_patterns ch_patterns;

/* At open of a ClickHouse store (s->ch set), unless s->patterns_off: makes
 * s->patterns (freed by the store as for SQLite) restored from the
 * `patterns` table, and s->ch's writer-side state. Returns STORE_OK, or
 * STORE_ENOMEM / STORE_EOPEN (ClickHouse refused the read) with err set. */
int ch_patterns_open(store *s, char *err, size_t errlen);

/* Accepts NULL. */
void ch_patterns_free(ch_patterns *p);

/* The writer, before rendering the rows of entries[0..n) (batches, not
 * jobs): patterns for records without one (arrival: the round's time),
 * the changed patterns taken and rendered, every log record's pattern_id
 * rewritten to its global id (0 when it has none). No-op without
 * patterns. */
void ch_patterns_round(store *s, ring_entry *entries, size_t n, uint64_t arrival);

/* The writer: inserts the rows ch_patterns_round() rendered, if any.
 * Returns a CH_* code with err (CH_ERR_MAX) set. */
int ch_patterns_insert(store *s, char *err);

/* The writer, after the round: stored (1) forgets the rows taken, else
 * hands them back to logpattern. */
void ch_patterns_end(store *s, int stored);

/* The global id of pattern (service, kind, template); salt 0 for the first
 * try. Exposed for the unit tests. */
int64_t ch_patterns_global_id(const char *service, size_t slen, int kind, const char *tmpl,
                              size_t tlen, uint64_t salt);

#endif
