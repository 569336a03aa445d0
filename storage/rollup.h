/* rollup.h - the figures kept per minute beside the spans: duration
 * histograms with fixed log-scale buckets, their SQL functions, and the
 * name of what a client span calls.
 *
 * DESIGN
 * Rate, errors and duration per service and operation, and the service
 * map, are answered from rollups that the writer keeps as spans arrive
 * (store_rollup.c), one row per minute and key in each trace segment (so
 * they are evicted with the spans they count and rebuilt by an import like
 * any ingest). A duration histogram has ROLLUP_BUCKETS buckets: bucket 0
 * holds durations under 1 us, bucket b >= 1 those in [2^((b-1)/8),
 * 2^(b/8)) us, the last one everything from about an hour up. Eight
 * buckets per doubling: a percentile read from the buckets (the bucket's
 * geometric middle) is within 4.5% of the true value, for durations from
 * 1 us to an hour. A histogram is stored as a blob of (bucket, count)
 * pairs, buckets ascending: one byte, then the count as a varint.
 */
#ifndef LOUPE_ROLLUP_H
#define LOUPE_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "model.h"

#define ROLLUP_BUCKETS 256
#define ROLLUP_PER_DOUBLING 8
#define ROLLUP_MINUTE_NS 60000000000ULL

/* A histogram in memory: a count per bucket. */
typedef struct rollup_hist {
    uint64_t n[ROLLUP_BUCKETS];
} rollup_hist;

/* The bucket of a duration in nanoseconds. */
int rollup_bucket(uint64_t ns);

/* The duration a bucket stands for (its geometric middle), in ns. */
uint64_t rollup_bucket_ns(int b);

/* Adds the blob form (p, len) to h. Returns 0, or -1 for a malformed blob
 * (h then holds what was read before the fault). */
int rollup_hist_add_blob(rollup_hist *h, const void *p, size_t len);

/* Appends h as a blob to out. Returns a BUF_* code. */
int rollup_hist_blob(const rollup_hist *h, buf *out);

/* The count of h. */
uint64_t rollup_hist_count(const rollup_hist *h);

/* The q-quantile (0 < q <= 1) of h in ns: the middle of the bucket that
 * holds it; 0 when h is empty. */
uint64_t rollup_hist_quantile(const rollup_hist *h, double q);

/* Registers the SQL functions on db:
 *   loupe_hist_merge(a, b)  scalar: the blob of a + b (either may be NULL)
 *   loupe_hist_sum(h)       aggregate: the blob of the sum of the blobs
 *   loupe_hist_of(ns)       aggregate: the blob of the histogram of ns
 * Returns an SQLite code. */
int rollup_register(sqlite3 *db);

/* What a CLIENT or PRODUCER span calls, from its attributes (the OpenTelemetry
 * semantic conventions): "service:NAME" (service.peer.name, else the older
 * peer.service), "database:SYSTEM" or "database:SYSTEM@HOST" (db.system.name, else db.system, with
 * server.address), "messaging:SYSTEM DESTINATION" (messaging.system,
 * messaging.destination.name), else "external:HOST[:PORT]" (server.address
 * and server.port, else the host of url.full, else net.peer.name),
 * else "external:unknown". Written into out (NUL-terminated, cut to fit). */
void rollup_peer(const model_attrs *attrs, char *out, size_t outlen);

/* The kind of a peer key: "service", "database", "messaging" or
 * "external"; its name is what follows the first ':'. */
const char *rollup_peer_kind(const char *key);

#endif
