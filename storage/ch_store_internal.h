/* ch_store_internal.h - what ch_store.c and ch_writer.c share. */
#ifndef LOUPE_CH_STORE_INTERNAL_H
#define LOUPE_CH_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "ch_conn.h"
#include "ch_insight.h"
#include "ch_store.h"
#include "store_internal.h"

#define CH_MAX_SHARDS 16

struct ch_store {
    char *urls[CH_MAX_SHARDS]; /* owned */
    ch_conn *shard[CH_MAX_SHARDS]; /* each server, without a default database: DDL,
                                    * retention, deletes (the writer thread's once started) */
    size_t n_urls;
    ch_conn *writer; /* urls[0] with the database: inserts (the writer thread's) */
    char *database, *user, *password, *cluster; /* owned; cluster NULL = one server */
    uint64_t max_age_ns;
    uint64_t max_items[MODEL_SIGNAL_COUNT]; /* 0 = no limit */
    int schema_ready; /* the tables exist (made at open, or by the writer later) */
    int lint_off;             /* --lint off: no findings written or counted */
    uint64_t lint_max_series; /* high-cardinality-metric's limit */
    ch_insight *insight;      /* the writer's GenAI calls and findings (owned) */
    /* the writer's buffers */
    buf rows[MODEL_SIGNAL_COUNT];
    buf scratch, texts;
    uint64_t next_retention; /* monotonic ns */
    uint64_t next_probe;     /* monotonic ns: while failing, when to ask again */
    struct ch_patterns *patterns; /* log patterns' ids and rows (ch_patterns.h); NULL when off */
};

/* Creates the tables on every shard. Returns a CH_* code. */
int ch_store_schema(ch_store *c, char *err);

/* Drops whole days past the age and count limits, on every shard. */
void ch_store_retention(store *s, ch_store *c);

/* Deletes the signals of `service` (NULL = all) on every shard and waits
 * for ClickHouse to finish; r: what was removed, counted before. Returns a
 * CH_* code with err set. */
int ch_store_delete(ch_store *c, unsigned signals, const char *service,
                    store_delete_result *r, char *err);

#endif
