/* loadgen.h - the parts of the load generator (tests/bench/loadgen.c) that
 * its modules share: encoded requests, the run's request source, per
 * connection statistics with a latency histogram, and the two transports.
 *
 * DESIGN. Generator threads (gen.c) build a fresh OTLP export request at a
 * time and encode it; the run (loadgen.c) queues them, bounded, and hands
 * them to the connection threads (http1.c, grpc.c), which only send, wait
 * and count. Generating apart from sending keeps the generator's CPU out of
 * the measured latency: a connection stamps a request when its first byte
 * goes out (or, with --rate, at its scheduled time) and its answer when the
 * last byte is read.
 */
#ifndef LOUPE_BENCH_LOADGEN_H
#define LOUPE_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

typedef enum { LG_TRACES, LG_LOGS } lg_signal;

/* The gRPC message prefix (compression flag, 4-byte big-endian length). */
#define LG_GRPC_PREFIX 5

/* One encoded export request. data[0..LG_GRPC_PREFIX) holds the gRPC
 * message prefix; the protobuf message follows (OTLP/HTTP sends only that
 * part). Owned by whoever holds it: the run's queue, then one connection,
 * which gives it back with lg_run_release(). */
typedef struct lg_body {
    uint8_t *data;
    size_t len;      /* prefix included */
    uint32_t items;  /* spans or log records */
    uint32_t traces; /* distinct trace ids among the spans (0 for logs) */
} lg_body;

/* ---- gen.c: fresh, realistic requests ----------------------------------- */

typedef struct lg_gen lg_gen;

/* The world every generator of the load generator shares. */
#define LG_WORLD_SEED 0x10c0be7cULL

/* A generator of requests of `items` spans or log records each. Two
 * generators with the same seed make the same requests (but for the
 * timestamps, taken from the clock); the world (services, instances, hosts)
 * depends on `world_seed` only, so generators of one run share it. Returns
 * NULL on out of memory; later, running out of memory aborts (a benchmark
 * tool has nothing better to do). */
lg_gen *lg_gen_new(lg_signal sig, uint64_t world_seed, uint64_t seed, uint32_t items);

/* Builds and encodes the next request into *out (out->data malloc'ed, the
 * caller frees it). Returns 0. */
int lg_gen_next(lg_gen *g, lg_body *out);

/* Accepts NULL. */
void lg_gen_free(lg_gen *g);

/* ---- hist.c: latency histogram ------------------------------------------ */

/* Log-linear buckets: exact below 128 ns, then 128 buckets per power of two
 * (under 0.8% relative error), up to 2^40 ns (18 minutes); larger values
 * land in the last bucket. Every value is counted: no sampling. */
#define LG_HIST_SUB 128
#define LG_HIST_BUCKETS ((40 - 7 + 1) * LG_HIST_SUB + LG_HIST_SUB)

typedef struct lg_hist {
    uint64_t counts[LG_HIST_BUCKETS];
    uint64_t n, sum_ns, max_ns;
} lg_hist;

void lg_hist_add(lg_hist *h, uint64_t ns);
void lg_hist_merge(lg_hist *into, const lg_hist *from);
/* The value at quantile q (0..1): the upper edge of the bucket holding it,
 * never above the largest value seen. 0 when empty. */
uint64_t lg_hist_quantile(const lg_hist *h, double q);

/* ---- statistics of one connection --------------------------------------- */

#define LG_MAX_OUTCOMES 24

typedef struct lg_stats {
    uint64_t ok;             /* requests answered with success */
    uint64_t items_acked;    /* items of those, minus partial-success rejects */
    uint64_t items_rejected; /* items a success answer said it rejected */
    uint64_t traces_acked;   /* trace ids of acknowledged requests */
    uint64_t bytes_sent;     /* request bytes written, framing included */
    uint64_t retries;        /* requests sent again after a retryable answer */
    uint64_t given_up;       /* requests dropped after the last retry */
    struct {
        char name[32];
        uint64_t n;
    } fail[LG_MAX_OUTCOMES]; /* failed attempts by outcome ("http_503", ...) */
    int nfail;
    lg_hist hist; /* ack latency of successful requests */
} lg_stats;

/* Counts one failed attempt under `name` (truncated to 31 bytes; past
 * LG_MAX_OUTCOMES distinct names they are counted as "other"). */
void lg_stats_fail(lg_stats *s, const char *name);

/* Counts an acknowledged request: latency, items minus rejected ones. */
void lg_stats_ack(lg_stats *s, const lg_body *b, uint64_t latency_ns, uint64_t rejected);

void lg_stats_merge(lg_stats *into, const lg_stats *from);

/* Reads the number of rejected items from an Export*ServiceResponse (the
 * partial-success field). 0 when absent or undecodable. */
uint64_t lg_response_rejected(lg_signal sig, const uint8_t *msg, size_t len);

/* ---- the run (run.c) ----------------------------------------------------- */

typedef struct lg_run lg_run;

typedef struct lg_run_cfg {
    lg_signal sig;
    uint32_t items;        /* per request */
    uint64_t max_requests; /* 0: no bound but the duration */
    double duration_s;     /* > 0 */
    double rate;           /* items per second, 0: as fast as answered */
    uint64_t seed;
    int gen_threads;
    int repeat;       /* send one prebuilt request again and again */
    size_t queue_cap; /* encoded requests kept ready */
} lg_run_cfg;

/* What the generators did. */
typedef struct lg_gen_stats {
    uint64_t requests, items, bytes; /* generated and encoded */
    int64_t cpu_ns;                  /* the generator threads' CPU time */
    int64_t starved_ns;              /* time connections waited for a request */
} lg_gen_stats;

/* A run as cfg says (copied). NULL on out of memory. */
lg_run *lg_run_new(const lg_run_cfg *cfg);

/* Starts the generator threads, waits (at most 30 s) until the queue is
 * full or holds every request of the run, then starts the clock: the
 * deadline is duration_s from now. 0, or -1 (message on stderr). */
int lg_run_start(lg_run *r);

/* The time the clock started (monotonic ns). */
int64_t lg_run_t0(const lg_run *r);

/* Ends the run: no more requests are handed out; the generator threads are
 * joined. Call after the connection threads have returned. */
void lg_run_finish(lg_run *r, lg_gen_stats *out);

/* Frees what is left. Accepts NULL. */
void lg_run_free(lg_run *r);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t lg_now_ns(void);

/* The next request to send, waiting at most wait_ms for one (-1: until the
 * run ends). NULL when the run is over (deadline or request count reached,
 * or stopped) or nothing came within wait_ms; lg_run_over() tells which.
 * *sched_ns is the time the request is due (with --rate) or 0: the caller
 * sends it no earlier, and measures its latency from then. */
lg_body *lg_run_take(lg_run *r, int wait_ms, int64_t *sched_ns);

/* Gives a request back when its connection is done with it. */
void lg_run_release(lg_run *r, lg_body *b);

/* 1 when no further request will be handed out. */
int lg_run_over(lg_run *r);

/* When connections must give up on requests still unanswered (monotonic
 * ns): the end of the run plus a grace period. */
int64_t lg_run_drain_deadline(lg_run *r);

/* What a connection thread gets. */
typedef struct lg_conn {
    lg_run *run;
    const char *host; /* borrowed, valid for the run */
    const char *port;
    lg_signal sig;
    int in_flight;      /* gRPC streams at once; HTTP/1.1 uses 1 */
    int retries;        /* sends again after a retryable answer */
    int retry_pause_ms; /* pause before each retry */
    int index;          /* connection number, for messages */
    lg_stats stats;     /* written by the connection thread only */
} lg_conn;

/* Thread bodies: connect, send until lg_run_take() gives NULL, wait for
 * the answers still due (until the drain deadline), count everything into
 * c->stats, return NULL. */
void *lg_http_conn_main(void *conn);
void *lg_grpc_conn_main(void *conn);

/* Opens a TCP connection (TCP_NODELAY), blocking, with 60 s send and
 * receive timeouts. Returns the socket or -1 (the first failure of the
 * process is said on stderr). */
int lg_tcp_connect(const char *host, const char *port);

/* Sleeps until the monotonic time t_ns. */
void lg_sleep_until(int64_t t_ns);

#endif
