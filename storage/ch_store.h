/* ch_store.h - the store's ClickHouse side: opening, the writer thread,
 * retention and deletes (mode STORE_MODE_CLICKHOUSE).
 *
 * DESIGN
 * With ClickHouse the store keeps its front (store.h): receivers append
 * decoded batches into the same bounded ring, with the same per-item JSON
 * texts rendered on the receiving thread, and each batch's callback runs
 * once ClickHouse has answered its INSERT; only then do receivers
 * acknowledge. The writer thread (ch_writer_main) drains the ring, turns
 * the batches of one round into one TabSeparated INSERT per table (up to
 * STORE_TX_MAX_ITEMS items), sends them through its own ch_conn, and
 * answers every batch of the round with the outcome: STORE_OK, or
 * STORE_EIO (retryable) when ClickHouse is down, slow or refused the
 * insert. While inserts fail the writer asks ClickHouse every second
 * whether it is back (and creates the tables if loupe started while it
 * was down), so /readyz turns ready again without new traffic.
 *
 * Several loupe processes may share one database: each inserts what it
 * receives and reads everything. A delete or retention run by one is seen
 * by all. In a cluster (store_ch_config.cluster) inserts go through the
 * Distributed tables with insert_distributed_sync=1 (answered once every
 * shard has its rows); schema, retention and deletes go to every shard's
 * server.
 *
 * Retention: partitions are days, dropped whole: by age (--max-age: a day
 * goes once its newest item is older than the limit; queries hide items
 * older than it before that) and by count (--max-spans/-logs/-points: the
 * oldest days go while the table holds more, never today's). The size
 * cap (--max-db-size) has no meaning here and is refused at start.
 */
#ifndef LOUPE_CH_STORE_H
#define LOUPE_CH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ch_conn.h"
#include "store.h"

typedef struct ch_store ch_store;

/* Connects to every server of cfg->ch, creates the database and tables
 * (when ClickHouse is down, later, by the writer). Returns STORE_OK, or
 * STORE_EOPEN / STORE_EINVAL / STORE_ENOMEM with err set. */
int ch_store_open(const store_config *cfg, ch_store **out, char *err, size_t errlen);

/* Accepts NULL. After the writer has stopped. */
void ch_store_free(ch_store *c);

/* A new connection for a reader (the caller owns it), NULL when out of
 * memory. */
ch_conn *ch_store_reader_conn(const ch_store *c);

/* Whether the tables exist (ClickHouse answered at open). */
int ch_store_ready(const ch_store *c);

/* Whether the tables are Distributed over a cluster. */
int ch_store_cluster(const ch_store *c);

/* The oldest item time queries show (--max-age; 0 = any). */
uint64_t ch_store_min_time(const ch_store *c);

/* The writer thread's body (arg: the store). */
void *ch_writer_main(void *arg);

#endif
