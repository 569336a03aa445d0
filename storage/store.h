/* store.h - the durable telemetry store: a bounded ring in front of SQLite.
 *
 * DESIGN
 * Receivers hand decoded batches to store_append() from any thread. The
 * batch enters a ring bounded in bytes; when the ring is full the append is
 * refused with STORE_EFULL, which receivers turn into the retryable OTLP
 * answers (HTTP 503 + Retry-After, gRPC UNAVAILABLE). One writer thread
 * drains the ring, commits the items of many batches in one SQLite
 * transaction (group commit) and then calls each batch's completion callback,
 * so "acknowledged means durable": a receiver answers success only from its
 * callback. Readers (the query API) open their own connections with
 * store_reader_open() and never wait behind the writer (WAL).
 *
 * Faults: when the database refuses a write (disk or size cap full,
 * read-only, I/O error) the batches of that transaction complete with
 * STORE_EIO (retryable), one clear log line says why (repeated at most every
 * 10 s while it lasts), and the writer keeps taking batches: once space is
 * back the next transaction commits and ingest resumes by itself (SQLite
 * rolls the failed transaction back; the connection stays usable).
 *
 * Test hook: in test builds only (LOUPE_TESTING, which `make TESTING=1` and
 * every test goal define), the environment variable
 * LOUPE_TEST_WRITER_DELAY_MS (read once by store_open) makes the writer
 * sleep that long before each transaction, to test backpressure. The
 * release build (`make`: NDEBUG, no LOUPE_TESTING) does not contain it and
 * ignores the variable.
 */
#ifndef LOUPE_STORE_H
#define LOUPE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define STORE_OK 0
#define STORE_EFULL -1   /* ring full: retry later (retryable) */
#define STORE_EIO -2     /* database write failed (retryable) */
#define STORE_ENOMEM -3  /* out of memory (retryable) */
#define STORE_ECLOSED -4 /* store is shutting down (retryable) */
#define STORE_EOPEN -5   /* cannot open or create the database (fatal) */
#define STORE_ESCHEMA -6 /* database has an unknown newer schema (fatal) */
#define STORE_EINVAL -7  /* bad argument */

typedef enum store_mode {
    STORE_MODE_SQLITE = 0, /* a database file in data_dir */
    STORE_MODE_MEMORY = 1, /* a shared in-memory database, nothing on disk */
    STORE_MODE_CLICKHOUSE = 2, /* a ClickHouse server or cluster (ch_store.h) */
} store_mode;

/* Where a ClickHouse store is (mode STORE_MODE_CLICKHOUSE); borrowed
 * during store_open(). */
typedef struct store_ch_config {
    const char *const *urls; /* http://HOST:PORT of each shard's server; urls[0] is written
                              * to and read from */
    size_t n_urls;
    const char *database; /* [A-Za-z0-9_]+ (the caller checks); NULL = "loupe" */
    const char *user;     /* NULL = ClickHouse's default */
    const char *password; /* NULL = none */
    const char *cluster;  /* NULL = one server; else its remote_servers name */
} store_ch_config;

typedef struct store_config {
    store_mode mode;
    const char *data_dir;      /* borrowed during store_open(); created if missing */
    size_t ring_max_bytes;     /* byte budget of queued batches; 0 = 64 MiB */
    uint64_t max_spans;        /* retention; 0 = default 1,000,000 */
    uint64_t max_logs;         /* 0 = default 1,000,000 */
    uint64_t max_points;       /* 0 = default 5,000,000 */
    /* Added later; zero (as in older initialisers) keeps them off. */
    uint64_t max_age_ns;   /* retention by age of the telemetry's own time; 0 = none */
    uint64_t max_db_bytes; /* database size cap (SQLITE_FULL past it); 0 = none */
    uint64_t query_timeout_ns; /* per read query; 0 = STORE_DEFAULT_QUERY_TIMEOUT_NS */
    /* Added with the instrumentation lint (lint.h, docs/lint.md). */
    int lint_off;                  /* 1: no lint at ingest (stored findings stay readable) */
    uint64_t lint_orphan_grace_ns; /* how long a parent may take; 0 = 2 minutes */
    uint64_t lint_max_series;      /* attribute sets a metric may have; 0 = 1000 */
    /* Added with log patterns (logpattern.h). */
    int patterns_off; /* 1: new records get no pattern (stored ones stay readable) */
    /* Added with the ClickHouse store. */
    store_ch_config ch; /* mode STORE_MODE_CLICKHOUSE */
} store_config;

#define STORE_DEFAULT_QUERY_TIMEOUT_NS 5000000000ULL

/* The smallest max_db_bytes store_open() accepts. */
#define STORE_MIN_DB_BYTES ((uint64_t)1 << 20)

typedef struct store store;

/* Completion of one appended batch, called exactly once from the writer
 * thread: status is STORE_OK once the batch's items are committed, or a
 * negative STORE_* code when the commit failed. Must not block. */
typedef void (*store_done_cb)(void *ud, int status, const model_batch *b);

/* Opens (or creates) the database, runs migrations and starts the writer.
 * On failure writes a one-line reason into err. */
int store_open(const store_config *cfg, store **out, char *err, size_t errlen);

/* Stops accepting appends, commits what the ring holds, calls every pending
 * callback, joins the writer and closes the database. Accepts NULL. */
void store_close(store *s);

/* Queues a batch for commit. Takes ownership of b in every case (on failure
 * b is freed at once). On STORE_OK, cb(ud, status, b) will be called exactly
 * once from the writer thread after commit (b is still valid during the
 * call and freed after it). On failure cb is never called. cb may be NULL. */
int store_append(store *s, model_batch *b, store_done_cb cb, void *ud);

/* A read handle: a read-only connection for one thread at a time, through
 * which the query functions (query.h) read the store. Each query runs in
 * one snapshot of the store and stops at the store's query timeout
 * (store_config.query_timeout_ns), answering with what it found so far. */
typedef struct store_reader store_reader;

/* Opens a read handle; the caller owns it (store_reader_close). Returns
 * STORE_OK, STORE_EOPEN or STORE_ENOMEM. */
int store_reader_open(store *s, store_reader **out);

/* Closes a read handle. Accepts NULL. */
void store_reader_close(store_reader *r);

#define STORE_COMMIT_BUCKETS 11

/* Counters, for /metrics and tests. Reads are atomic snapshots per field. */
typedef struct store_stats {
    uint64_t accepted[MODEL_SIGNAL_COUNT]; /* items committed */
    uint64_t rejected[MODEL_SIGNAL_COUNT]; /* items refused by append (full/closed) */
    uint64_t evicted[MODEL_SIGNAL_COUNT];  /* items removed by retention */
    uint64_t commits;                      /* transactions committed */
    uint64_t commit_errors;
    size_t ring_bytes; /* bytes queued now */
    size_t ring_max_bytes;
    /* Added later. */
    uint64_t db_bytes;     /* pages in use x page size, as of the writer's last check */
    uint64_t db_max_bytes; /* the size cap; 0 = none */
    uint64_t write_failures; /* transactions failed by the database (full, read-only, I/O) */
    int writes_failing;      /* 1 while the database refuses writes, until a commit succeeds */
    /* Added with /metrics. Commit latency of the transactions that committed
     * (BEGIN to COMMIT on the writer thread): commit_seconds_bucket[i] counts
     * those that took at most store_commit_buckets[i] seconds and more than
     * the bound before it (not cumulative); the last slot counts the rest
     * (+Inf). */
    uint64_t commit_seconds_bucket[STORE_COMMIT_BUCKETS + 1];
    uint64_t commit_ns_sum; /* total of those latencies, in nanoseconds */
    int closing;            /* 1 once store_close() has begun */
    /* Added with the ClickHouse store: why writes fail (disk_full,
     * clickhouse_unreachable, ...; a static string), while writes_failing. */
    const char *write_fault;
} store_stats;

/* Upper bounds (seconds) of the commit latency buckets, ascending. */
extern const double store_commit_buckets[STORE_COMMIT_BUCKETS];

void store_get_stats(store *s, store_stats *out);

/* ---- deleting (added with schema version 2) -------------------------------- */

#define STORE_DELETE_TRACES 1u
#define STORE_DELETE_LOGS 2u
#define STORE_DELETE_METRICS 4u
#define STORE_DELETE_ALL 7u

/* What a delete removed. */
typedef struct store_delete_result {
    uint64_t spans, traces, logs, points;
} store_delete_result;

/* Completion of a delete, called exactly once from the writer thread:
 * status STORE_OK with the counts removed, or a negative STORE_* code
 * (nothing removed). r is valid during the call only. Must not block. */
typedef void (*store_delete_cb)(void *ud, int status, const store_delete_result *r);

/* Queues a delete of the signals in `signals` (STORE_DELETE_* mask) of one
 * service (NULL = every service; copied) to the writer, which runs it in
 * queue order: after every batch appended before it, in one transaction.
 * Traces that keep spans of other services stay, with their counts, times
 * and root recomputed. Returns STORE_OK (cb will be called), or
 * STORE_EINVAL, STORE_ENOMEM, STORE_EFULL, STORE_ECLOSED (cb is not). */
int store_delete(store *s, unsigned signals, const char *service, store_delete_cb cb, void *ud);

/* store_delete() and wait for it (at most timeout_ms; 0 = no limit).
 * Returns its status, or STORE_EIO when the wait timed out (the delete
 * still runs). */
int store_delete_wait(store *s, unsigned signals, const char *service, unsigned timeout_ms,
                      store_delete_result *r);

/* ---- commit notifications (added with schema version 2) ------------------ */

/* Called on the writer thread for every batch right after it committed
 * (before its completion callback). b and its items are valid during the
 * call only. It must be quick and must not block or call store functions:
 * copy what is needed into a bounded queue of your own and wake your
 * consumer; drop (and count) when that queue is full. */
typedef void (*store_commit_fn)(void *ud, const model_batch *b);

typedef struct store_sub store_sub;

/* Adds a subscriber. Returns STORE_OK, STORE_ENOMEM or STORE_EINVAL. */
int store_subscribe(store *s, store_commit_fn fn, void *ud, store_sub **out);

/* Removes a subscriber; when it returns fn is not running and will not be
 * called again. Accepts NULL. */
void store_unsubscribe(store *s, store_sub *sub);

/* Text for a STORE_* code. */
const char *store_strerror(int code);

/* 1 when the code is worth retrying (EFULL, EIO, ENOMEM, ECLOSED). */
int store_is_retryable(int code);

#endif
