/* reader.h - what a read handle (store_reader, store.h) holds, for the
 * query modules: its connection, the segments of its current read
 * transaction, and the query deadline.
 *
 * DESIGN
 * A query runs inside one read transaction (store_reader_begin() ...
 * store_reader_end()). Under WAL that is a snapshot: the manifest it loads
 * at the start and the tables it reads agree, even while the writer rolls
 * segments over or drops them. The deadline is enforced by SQLite's
 * progress handler, which interrupts a statement past it; the query then
 * answers with what it found, marked partial (store_reader_timed_out()).
 */
#ifndef LOUPE_READER_H
#define LOUPE_READER_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "segment.h"
#include "store.h"

struct store_reader {
    sqlite3 *db;          /* owned */
    uint64_t timeout_ns;  /* per query; 0 = none */
    uint64_t deadline;    /* monotonic ns of the running query; 0 = none */
    int timed_out;        /* the running query hit its deadline */
    int depth;            /* nested begin calls */
    seg_meta *segs;       /* the live segments by signal, newest first (owned) */
    size_t n_segs, segs_cap;
    /* a ClickHouse store (ch_store.h): db is NULL and queries go to ClickHouse */
    struct ch_conn *ch;           /* owned */
    const struct ch_store *chs;   /* borrowed from the store */
};

/* Starts a query: a read transaction, the manifest of its snapshot and the
 * deadline. Nested calls share the outer transaction. Returns an SQLite
 * code. */
int store_reader_begin(store_reader *r);

/* Ends what store_reader_begin() started (the outermost call ends the
 * transaction). */
void store_reader_end(store_reader *r);

/* The segments of sig in the current transaction, newest first: the
 * caller walks out[0..*n) (borrowed until store_reader_end). */
void store_reader_segs(const store_reader *r, model_signal sig, const seg_meta **out,
                       size_t *n);

/* The segment with id `id` in the current transaction, or NULL. */
const seg_meta *store_reader_seg(const store_reader *r, int64_t id);

/* 1 once the running query passed its deadline: the progress handler
 * interrupted a statement (statements since fail with SQLITE_INTERRUPT),
 * or the clock says so now -- a query of many short statements, none
 * long enough for the handler to look, stops at it too. */
int store_reader_timed_out(store_reader *r);

/* Lifts the running query's deadline (keeping "timed out"): for the
 * bounded work of planning a search over the global tables and of
 * rendering what was found. */
static inline void store_reader_relax(store_reader *r) { r->deadline = 0; }

/* Starts the running query's deadline from now (the handle's timeout):
 * after a search's plan, for the segment walk it bounds. */
void store_reader_arm(store_reader *r);

#endif
