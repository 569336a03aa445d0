/* store_internal.h - what the store's modules share (store.h is the
 * public interface).
 *
 * DESIGN
 * The store is a ring in front of one writer thread in front of SQLite. Its
 * modules, each with one job:
 *   store.c            the public entry points: append, readers, stats,
 *                      subscriptions, error texts
 *   store_open.c       opening: configuration, the database file or memdb,
 *                      pragmas, the size cap, the writer's resources; close
 *   store_texts.c      per-item JSON texts, rendered on the receiving thread
 *   store_writer.c     the writer thread: group commit, callbacks,
 *                      notifications, giving memory back when idle
 *   store_rows.c       the writer's statements and the rows of spans, logs
 *                      and points, each written into its segment
 *   store_seg.c        the segments as the writer sees them: the active one
 *                      per signal, roll-over, a trace's home segment,
 *                      manifest updates with each commit, drops
 *   store_ids.c        row ids of services, resources, scopes and series:
 *                      content hashes and the id caches
 *   store_fault.c      why a write failed, logged at most every 10 s
 *   store_retention.c  eviction by count, age and size
 *   store_delete.c     store_delete(): jobs run by the writer in queue order
 *   store_rollup.c     per-minute rollups; recent spans and children waiting
 *                      for their parents
 *   store_lint.c       the instrumentation lint (lint.h) on each batch,
 *                      findings per segment
 *   store_sql.c        small SQLite helpers the modules share
 *
 * Threads: store_append(), store_delete(), store_get_stats() and the
 * subscription calls run on any thread and touch only the ring, the atomics
 * and subs (under subs_mu). Everything in store_writer is the writer
 * thread's alone once store_open() has started it; before that and after
 * the join in store_close(), the opening or closing thread's.
 *
 * Out of memory: the writer fails the transaction that hit it with
 * STORE_ENOMEM and continues; store_append() never fails for memory (a
 * batch whose texts cannot be rendered is queued without them).
 *
 * Segments (segment.h): one database file, whose telemetry tables come in
 * segments by arrival. The writer writes through w.db; the statements of
 * the global tables are w.st, those of a segment's tables live with the
 * segment (store_seg.st). Retention drops whole segments.
 */
#ifndef LOUPE_STORE_INTERNAL_H
#define LOUPE_STORE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "util/clk.h"
#include "lint.h"
#include "model.h"
#include "ring.h"
#include "logpattern.h"
#include "segment.h"
#include "store.h"

#define STORE_DEFAULT_RING_BYTES ((size_t)64 << 20)
#define STORE_DEFAULT_MAX_SPANS 1000000
#define STORE_DEFAULT_MAX_LOGS 1000000
#define STORE_DEFAULT_MAX_POINTS 5000000
#define STORE_RING_SLOTS 4096
#define STORE_TX_MAX_ITEMS 20000
#define STORE_EVICT_MAX_ITEMS 50000
#define STORE_BUSY_TIMEOUT_MS 10000
#define STORE_OWNER_CACHE_SLOTS 4096   /* resources, scopes; power of two */
#define STORE_SERIES_CACHE_SLOTS 65536 /* power of two */
#define STORE_ITEM_TEXT_MAX ((size_t)256 << 20)
#define STORE_AGE_CHECK_MS 1000           /* how often old items are looked for */
#define STORE_FAULT_LOG_NS 10000000000ULL /* repeat a fault's log line at most this often */
#define STORE_IDLE_RELEASE_MS 2000        /* idle this long: give memory back */

/* ---- per-item JSON texts (store_texts.c) ---------------------------------- */

/* Texts per item: spans (attributes, events, links, index tokens), logs
 * (body, attributes, index tokens), points (sorted attributes, distribution
 * data, exemplars). */
#define STORE_MAX_TEXTS 4

typedef struct store_text {
    size_t off, len; /* into a buffer; len 0 = SQL NULL */
} store_text;

/* Work for the writer other than a batch (store_delete), carried through
 * the ring in the prep of an empty batch so that it keeps its place in the
 * queue. */
typedef struct store_job {
    unsigned signals;
    char *service; /* owned; NULL = all */
    store_delete_cb cb;
    void *ud;
} store_job;

/* What travels with a batch through the ring (ring_entry.prep): its
 * rendered texts, or a job. Owned by the ring entry. */
typedef struct store_prep {
    buf text;       /* every text of the batch, back to back */
    store_text *t;  /* STORE_MAX_TEXTS per item */
    size_t bytes;   /* accounted memory */
    store_job *job; /* not a batch but a job */
} store_prep;

/* Appends the texts of item i of b to out, recording where each is in
 * t[0..STORE_MAX_TEXTS). Returns STORE_OK, STORE_ENOMEM, or STORE_EINVAL
 * when out's cap is reached. */
int store_item_texts(const model_batch *b, size_t i, buf *out, store_text *t);

/* Renders every text of b (out's cap: max_bytes), or returns NULL (the
 * writer renders them then). The caller owns the result. */
store_prep *store_prep_new(const model_batch *b, size_t max_bytes);

/* Frees a prep and its job. Accepts NULL. */
void store_prep_free(store_prep *p);

/* ---- id cache: (hash, aux) -> (v1, v2) (store_ids.c) ----------------------- */

typedef struct store_cache_slot {
    uint8_t key[16];
    int64_t aux;
    int64_t v1, v2;
    int used;
} store_cache_slot;

typedef struct store_cache {
    store_cache_slot *slots; /* owned */
    size_t cap;              /* power of two */
    size_t n;
} store_cache;

/* Sets up an empty cache of cap slots (a power of two). Returns 0, or -1
 * when out of memory. */
int store_cache_init(store_cache *c, size_t cap);

/* The slot of (key, aux), or NULL. Borrowed until the next put or clear. */
const store_cache_slot *store_cache_get(const store_cache *c, const uint8_t key[16], int64_t aux);

/* Remembers (key, aux) -> (v1, v2); a cache half full starts over. */
void store_cache_put(store_cache *c, const uint8_t key[16], int64_t aux, int64_t v1, int64_t v2);

/* Forgets every entry. */
void store_cache_clear(store_cache *c);

/* ---- the writer's statements (store_rows.c) -------------------------------- */

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SVC_INSERT,
    ST_SVC_SELECT,
    ST_SVC_UPDATE,
    ST_RES_SELECT,
    ST_RES_INSERT,
    ST_SCOPE_SELECT,
    ST_SCOPE_INSERT,
    ST_METRIC_UPSERT,
    ST_SERIES_SELECT,
    ST_SERIES_INSERT,
    ST_SEGSVC_ADD,
    ST_SEG_SAVE,
    ST_SEG_BLOOM,
    ST_COUNT
};

/* The statements of one segment's tables (store_seg.st), prepared when the
 * segment is first written to. */
enum {
    SST_TRACE_FIND,
    SST_TRACE_UPSERT,
    SST_TRACE_SVC,
    SST_SPAN_INSERT,
    SST_SPAN_INDEX,
    SST_LOG_INSERT,
    SST_LOG_FTS,
    SST_LOG_INDEX,
    SST_POINT_INSERT,
    SST_OPS_UPSERT,
    SST_EDGE_UPSERT,
    SST_CLIENT_UPSERT,
    SST_COUNT_UPSERT,
    SST_LINT_UPSERT,
    SST_LINT_PARENT,
    SST_GENAI_UPSERT,
    SST_GENAI_TOP_LAST,
    SST_GENAI_TOP_INSERT,
    SST_GENAI_TOP_TRIM,
    SST_PATTERN_COUNT,
    SST_COUNT
};

/* A segment as the writer sees it. m is its state in the open transaction,
 * saved what the manifest holds as last committed; after a rollback m goes
 * back to saved, and a segment made in the rolled back transaction goes
 * away. */
typedef struct store_seg {
    seg_meta m;
    seg_meta saved;
    seg_bloom bloom; /* sealed trace segments: their trace ids */
    int fresh;       /* made in the open transaction */
    int dirty;       /* m changed in the open transaction */
    int sealed_now;  /* sealed in the open transaction (bloom made then) */
    int dropped_now; /* its tables dropped in the open transaction (a delete) */
    sqlite3_stmt *st[SST_COUNT];
} store_seg;

/* ---- rollups (store_rollup.c) ----------------------------------------------------- */

typedef struct store_rollup store_rollup;
typedef struct store_lint store_lint;

/* A span as the lint judges it against its parent: from a batch, or from
 * the rollup's caches of recent spans and of children waiting for their
 * parent. Pointers are borrowed for the call. */
typedef struct store_lint_span {
    const uint8_t *trace_id;  /* 16 bytes */
    const uint8_t *span_id;   /* 8 bytes */
    const uint8_t *parent_id; /* 8 bytes; children only */
    int64_t service, seg;
    lint_span_times t;
    int suspect; /* lint_span_kind_suspect() (only looked at when the parent's service
                  * differs): an incoming HTTP span not of kind SERVER */
} store_lint_span;

store_rollup *store_rollup_new(void);
void store_rollup_free(store_rollup *r);

/* The lint told of every child the rollup joins to its parent
 * (store_lint_pair); NULL (the default) when the lint is off. Borrowed. */
void store_rollup_set_lint(store_rollup *r, store_lint *l);

/* Children waiting for their parent that the lint has not judged yet. */
size_t store_rollup_waiting(const store_rollup *r);

/* Calls fn(ud, child) for each waiting child that arrived (monotonic) at or
 * before `cutoff` and was not judged yet, and marks it judged (it still
 * waits for its parent, for the map, until the rollup forgets it). */
void store_rollup_sweep(store_rollup *r, uint64_t cutoff,
                        void (*fn)(void *ud, const store_lint_span *child), void *ud);

/* Drops the sums of the batch being written (a new batch starts). */
void store_rollup_reset(store_rollup *r);

/* Forgets the caches of recent spans and waiting children (after a
 * rollback: what they hold may not have been stored). */
void store_rollup_forget(store_rollup *r);

/* Counts one item of `service` at time t (segment seg) for the per-minute
 * counts. Returns an SQLite code. */
int store_rollup_count(store_rollup *r, int64_t seg, int64_t service, uint64_t t, int error);

/* The rollups of a batch of spans: ids as store_rows.c's w->ids (3 per
 * span: resource, service, scope), span_seg the segment of each span.
 * Returns an SQLite code. */
int store_rollup_batch(store_rollup *r, const model_batch *b, const int64_t *ids,
                       const int64_t *span_seg);

/* Writes this batch's sums into their segments' rollup tables (in the open
 * transaction) and starts the next batch's. Returns an SQLite code. */
int store_rollup_flush(store *s);

/* ---- the instrumentation lint (store_lint.c) ------------------------------------ */

/* The lint's state, on the writer's connection db (borrowed): the
 * orphan grace period and the attribute sets a metric may have. NULL when
 * out of memory. */
store_lint *store_lint_new(sqlite3 *db, uint64_t orphan_grace_ns, uint64_t max_series);
void store_lint_free(store_lint *l);

/* A new batch starts: its findings so far are dropped (a batch that failed
 * leaves nothing), the arrival time is taken. */
void store_lint_reset(store_lint *l);

/* Forgets what the lint remembers of stored data (after a rollback or a
 * delete): attribute-set counts and service names. */
void store_lint_forget(store_lint *l);

/* The checks of a batch of spans (ids and span_seg as store_rollup_batch
 * takes them); the parent checks come through store_lint_pair. */
void store_lint_spans(store_lint *l, const model_batch *b, const int64_t *ids,
                      const int64_t *span_seg);

/* A child met its parent (a batch or the rollup's caches): clock skew
 * across services, and an incoming HTTP span of the wrong kind whose parent
 * is in another service. */
void store_lint_pair(store_lint *l, const store_lint_span *child, const store_lint_span *parent);

/* The checks of one log record, stored in segment seg with `time`. */
void store_lint_log(store_lint *l, int64_t seg, int64_t service, const model_log *lg,
                    uint64_t time);

/* The checks of one point of metric row metric_row (service: its
 * service's row), stored in segment seg; new_series when its attribute
 * set was first stored just now. Returns an SQLite code (the count of a
 * metric's attribute sets is read from the database once). */
int store_lint_point(store_lint *l, int64_t seg, int64_t service, int64_t metric_row,
                     const model_point *p, int new_series);

/* Writes this batch's findings into their segments' lint tables (in the
 * open transaction) and starts over. Returns an SQLite code. */
int store_lint_flush(store *s);

/* Between rounds, at most every second: the children whose parent did not
 * come within the grace period are judged (orphans, unless the parent is
 * stored after all) in a transaction of their own. */
void store_lint_sweep(store *s);

/* How long the writer may sleep before the next sweep is due (-1: no
 * child waits). */
long store_lint_wait_ms(const store *s);

/* At open (the writer's connection, outside a transaction): a lint table
 * for every segment made before it. Returns an SQLite code. */
int store_lint_ensure(sqlite3 *db);

/* ---- the GenAI rollup (store_genai.c) ---------------------------------------------- */

/* The GenAI calls of a batch of spans (ids and span_seg as for
 * store_rollup_batch), written into their segments' genai_N and
 * genai_top_N in the open transaction. Returns an SQLite code. */
int store_genai_batch(store *s, const model_batch *b, const int64_t *ids,
                      const int64_t *span_seg);

/* At open (the writer's connection, outside a transaction): the GenAI
 * tables of every trace segment made before them (adopted from schema 2,
 * or written by a build without them), filled from its spans by the rules
 * of genai.h, in one transaction. Returns an SQLite code. */
int store_genai_ensure(sqlite3 *db);

/* Its segment statements' templates (SST_GENAI_*). */
extern const char store_genai_upsert_sql[];
extern const char store_genai_top_last_sql[];
extern const char store_genai_top_insert_sql[];
extern const char store_genai_top_trim_sql[];

/* ---- writer state ------------------------------------------------------------ */

/* What one batch adds to one trace. */
typedef struct store_trace_acc {
    const uint8_t *trace_id;
    uint64_t start, end;
    int64_t spans, errors;
    size_t root; /* index of the root span, or of the earliest until then */
    int has_root;
    int64_t row;    /* traces_N.id in its segment */
    store_seg *seg; /* the trace's home segment */
    int64_t svc[4]; /* services of the trace in this batch, with span counts */
    int64_t svc_spans[4];
    int n_svc;
} store_trace_acc;

/* What one batch adds to one service's counters. */
typedef struct store_svc_acc {
    int64_t seg; /* the segment the items went to */
    int64_t sid;
    int64_t spans, errors, logs, points;
    uint64_t last_seen;
} store_svc_acc;

typedef struct store_writer {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    store_cache resources, scopes, series;
    buf scratch; /* item texts when the batch came without them */
    buf key;     /* canonical content of a resource/scope */
    store_text tmp_t[STORE_MAX_TEXTS];

    /* per-batch scratch, grown on demand */
    int64_t *ids; /* 3 per item: resource, service, scope */
    size_t *item_acc;
    size_t ids_cap;
    store_trace_acc *accs;
    size_t n_accs;
    uint32_t *table; /* trace hash table of acc index + 1; 0 = empty */
    size_t table_cap;
    store_svc_acc *svcs;
    size_t n_svcs, svcs_cap;
    int64_t *metric_rows;
    uint64_t *metric_last;
    size_t metric_cap;

    ring_entry *entries; /* popped entries, ring capacity */
    int *status;

    /* segments (store_seg.c): every live one, oldest first */
    store_seg **segs;
    size_t n_segs, segs_cap;
    store_seg *active[MODEL_SIGNAL_COUNT]; /* the newest unsealed one, or NULL */
    int64_t seg_target[MODEL_SIGNAL_COUNT]; /* items per segment */
    uint64_t seg_max_bytes;                 /* texts per segment; 0 = no bound */
    uint64_t seg_max_span_ns;               /* age of an active segment; 0 = no bound */
    store_rollup *rollup;                   /* per-minute rollups (store_rollup.c) */
    store_lint *lint;                       /* NULL when the lint is off */
    struct store_patterns *patterns;        /* log patterns' rows and counts (store_patterns.c) */
    int64_t *span_seg;                      /* per-batch: each span's segment id */

    /* retention by age and size */
    int page_size;
    int64_t max_pages;         /* the size cap in pages; 0 = none */
    int64_t used_pages;        /* page_count - freelist_count at the last check */
    int size_evicting;         /* evicting down to size_target until under it */
    int size_cap_hits;         /* writes that hit the cap since the last commit */
    int64_t size_target;       /* pages */
    int size_stuck_logged;     /* "nothing left to evict" was said */
    uint64_t next_age_check;   /* monotonic ns */
    uint64_t retention_logged; /* monotonic ns of the last store_retention_failed line */

    /* memory given back when idle (store_writer.c) */
    uint64_t last_work; /* monotonic ns */
    int released;

    /* the database refusing writes (store_fault.c) */
    struct {
        int active;
        const char *reason;
        uint64_t since, last_log; /* monotonic ns */
        uint64_t failed_batches;
    } fault;
} store_writer;

struct store {
    store_mode mode;
    char path[PATH_MAX + 64]; /* file path or memdb URI */
    int open_flags;
    ring *ring;
    pthread_t thread;
    uint64_t max_items[MODEL_SIGNAL_COUNT];
    uint64_t max_age_ns;   /* 0 = none */
    uint64_t max_db_bytes; /* 0 = none */
    uint64_t query_timeout_ns;
    int lint_off;             /* no lint at ingest */
    uint64_t lint_grace_ns;   /* 0 = the default */
    uint64_t lint_max_series; /* 0 = the default */
    int patterns_off;         /* no log patterns assigned */
    logpattern *patterns;  /* the log patterns: any thread (its own lock) */
#ifdef LOUPE_TESTING
    long test_delay_ms; /* LOUPE_TEST_WRITER_DELAY_MS */
#endif
    store_writer w;        /* the writer thread's alone once started */
    struct ch_store *ch;   /* mode STORE_MODE_CLICKHOUSE (ch_store.h); else NULL */
    _Atomic(const char *) fault_reason; /* why writes fail (a static string), for /readyz */

    _Atomic uint64_t accepted[MODEL_SIGNAL_COUNT];
    _Atomic uint64_t rejected[MODEL_SIGNAL_COUNT];
    _Atomic int backpressure;    /* 1 from a refused append until one is taken */
    _Atomic uint64_t bp_refused; /* items refused during this backpressure episode */
    _Atomic uint64_t evicted[MODEL_SIGNAL_COUNT];
    _Atomic uint64_t commits;
    _Atomic uint64_t commit_errors;
    _Atomic uint64_t write_failures;
    _Atomic uint64_t db_bytes;
    _Atomic int writes_failing;
    _Atomic uint64_t commit_bucket[STORE_COMMIT_BUCKETS + 1];
    _Atomic uint64_t commit_ns_sum;
    _Atomic int closing;

    pthread_mutex_t subs_mu; /* guards subs; held while the writer notifies */
    store_sub *subs;
    _Atomic int n_subs;
};

struct store_sub {
    store_commit_fn fn;
    void *ud;
    store_sub *next;
};

/* ---- rows (store_rows.c) ------------------------------------------------------ */

/* Prepares the writer's statements on w->db. Returns SQLITE_OK, or the
 * error with *which = the statement that failed. */
int store_rows_prepare(store_writer *w, int *which);

/* Finalizes them (prepared or not). */
void store_rows_finalize(store_writer *w);

/* Writes the rows of batch e->batch (texts from e->prep, or rendered now)
 * in the open transaction. Returns an SQLite code: SQLITE_MISUSE marks an
 * invalid batch (a point of a metric outside it). */
int store_write_batch(store *s, const ring_entry *e);

/* ---- segments (store_seg.c) --------------------------------------------------- */

/* Reads the manifest at open: the live segments, the bloom filters of the
 * sealed trace segments (made and saved where missing, e.g. after the
 * migration from schema 2), the active segment of each signal, and each
 * signal's segment size from its limit. Returns an SQLite code. */
int store_segs_load(store *s);

/* Frees the writer's segments and their statements. */
void store_segs_free(store_writer *w);

/* The items of sig stored in every segment, as of the open transaction. */
uint64_t store_segs_items(const store_writer *w, model_signal sig);

/* The segment new items of sig go to in the open transaction: the active
 * one, or a new one when it is full (the full one is sealed) or there is
 * none. NULL with *rc set on failure. */
store_seg *store_seg_active(store *s, model_signal sig, int *rc);

/* The segment that holds trace trace_id, with the trace's row there, or
 * *home = NULL when no live segment does. Returns an SQLite code. */
int store_seg_find_trace(store_writer *w, const uint8_t trace_id[16], store_seg **home,
                         int64_t *row);

/* The live segment with id `id`, or NULL. */
store_seg *store_seg_by_id(store_writer *w, int64_t id);

/* Statement `which` (SST_*) of segment g, prepared on first use; NULL with
 * *rc set on failure. */
sqlite3_stmt *store_seg_stmt(store_writer *w, store_seg *g, int which, int *rc);

/* Counts items written into g in the open transaction: their number, the
 * range of their times, their age time and text bytes. */
void store_seg_add(store_seg *g, int64_t items, int64_t tmin, int64_t tmax, int64_t tage,
                   uint64_t bytes);

/* Before COMMIT: the manifest rows of the segments changed in the open
 * transaction. Returns an SQLite code. */
int store_segs_flush(store_writer *w);

/* After a COMMIT / a ROLLBACK of the writer's transaction. */
void store_segs_committed(store_writer *w);
void store_segs_rolled_back(store_writer *w);

/* Drops segment g in a transaction of its own, and counts what it held as
 * evicted. g may be the active segment of its signal (retention by age or
 * size takes it whole); the next item of that signal then starts a new
 * one. Returns an SQLite code; on failure the segment stays. */
int store_seg_drop(store *s, store_seg *g, const char *why);

/* The time an item's age is judged by: t, or its arrival `now` when t is
 * more than 5 minutes after it (a skewed clock must not keep it forever). */
int64_t store_age_time(uint64_t t, uint64_t now);

/* ---- row ids (store_ids.c) ------------------------------------------------- */

/* Resolves the resource and scope of consecutive items, remembering the last
 * pair: decoders group items by resource and scope. Zeroed per batch. */
typedef struct store_owner_memo {
    const model_resource *res;
    const model_scope *scope;
    int64_t rid, sid, scid;
} store_owner_memo;

/* The row ids of r and s (NULL: the empty resource / scope), found or
 * inserted: out[0] resource, out[1] service, out[2] scope. Returns an
 * SQLite code. */
int store_resolve_owner(store_writer *w, store_owner_memo *m, const model_resource *r,
                        const model_scope *s, int64_t out[3]);

/* The row id of the series of `metric` with sorted attributes JSON
 * attrs[0..len), found or inserted (*created then). Returns an SQLite
 * code. */
int store_resolve_series(store_writer *w, int64_t metric, const char *attrs, size_t len,
                         int64_t *id, int *created);

/* Forgets the cached ids (after a rollback or a delete). */
void store_forget_caches(store_writer *w);

/* ---- log patterns (store_patterns.c) ----------------------------------------- */

/* Opens the log patterns at store_open: s->patterns rebuilt from the
 * `patterns` table, and the writer's part. Returns an SQLite code. */
int store_patterns_open(store *s);

/* Frees both (at store_close, after the writer stopped). */
void store_patterns_close(store *s);

/* On the receiving thread, before a batch of logs enters the ring: each
 * record's pattern into model_log.pattern_id (now: the arrival time). */
void store_patterns_assign(store *s, model_batch *b, uint64_t now);

/* The pattern of record lg (time t), assigned now when it has none yet (the
 * batch came without texts). */
int64_t store_patterns_of(store *s, model_log *lg, uint64_t t);

/* Counts a record of pattern `pattern` (0: none) with severity_number at
 * time t in segment seg, for the open transaction. Returns an SQLite code. */
int store_patterns_count(store_writer *w, int64_t seg, int64_t pattern, int severity, uint64_t t);

/* Before COMMIT, in the open transaction: the rows of the patterns changed
 * since the last commit, and the transaction's counts into their
 * segments' pattern_counts_N. Returns an SQLite code. */
int store_patterns_persist(store *s);

/* After the writer's COMMIT / ROLLBACK. */
void store_patterns_committed(store *s);
void store_patterns_rolled_back(store *s);

/* ---- faults (store_fault.c) ------------------------------------------------ */

/* Logs event=store_write_failed for a batch (e, may be NULL) that failed
 * for a reason of its own, or for a delete. */
void store_log_failure(store *s, const char *what, const ring_entry *e, int rc);

/* Why the database refused a write ("disk_full", "size_cap", "read_only",
 * ...), from SQLite's code rc and *errno_io (which a probe of the files may
 * fill in); *action tells the operator what brings ingest back. Both are
 * static strings. */
const char *store_fault_reason(const store *s, int rc, int *errno_io, const char **action);

/* The database refused a transaction (not one batch's own fault): counts it
 * and logs why, at most every STORE_FAULT_LOG_NS while it lasts. batches:
 * how many batches were answered with an error. */
void store_fault_note(store *s, const char *what, int rc, int sys_errno, size_t batches);

/* A transaction committed: the end of a fault, if there was one. */
void store_fault_clear(store *s);

/* ---- the writer thread (store_writer.c) ------------------------------------ */

/* The writer thread's body (arg: the store); returns when the ring is
 * closed and drained. */
void *store_writer_main(void *arg);

/* Test builds only (LOUPE_TESTING): reads LOUPE_TEST_WRITER_DELAY_MS, the
 * time the writer sleeps before each transaction. A no-op otherwise. */
#ifdef LOUPE_TESTING
void store_test_delay_read(store *s);
#else
#define store_test_delay_read(s) ((void)(s))
#endif

/* ---- retention (store_retention.c) ---------------------------------------- */

/* Runs every retention rule, at most a few eviction transactions per call
 * so that ingest never waits long. Returns 1 when work is left (the writer
 * calls again without waiting for batches). */
int store_retention(store *s);

/* Pages in use (page_count - freelist_count) into w.used_pages and the
 * stats' db_bytes. Returns an SQLite code. */
int store_size_check(store *s);

/* ---- the writer thread (store_writer.c) ------------------------------------ */

/* Answers the batches entries[0..n) with status[] (STORE_OK: counted,
 * subscribers told), frees them and gives their bytes back to the ring. */
void store_writer_finish(store *s, ring_entry *entries, const int *status, size_t n);

/* ---- deletes (store_delete.c) ---------------------------------------------- */

/* 1 when a popped entry is a job (store_delete) rather than a batch. */
int store_is_job(const ring_entry *e);

/* Runs the job of entry e, calls its callback and frees the entry's batch
 * and prep, returning their bytes to the ring. */
void store_run_job(store *s, ring_entry *e);

/* ---- small helpers (store_sql.c) ------------------------------------------- */

static inline uint64_t store_mono_ns(void) { return (uint64_t)clk_ns(CLOCK_MONOTONIC); }

static inline uint64_t store_now_ns(void) { return (uint64_t)clk_ns(CLOCK_REALTIME); }

/* A time or count as an SQLite integer: beyond INT64_MAX (year 2262 for
 * times) it is stored as INT64_MAX. */
static inline int64_t store_i64(uint64_t v) {
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* A model string's bytes; "" for the empty string. */
static inline const char *store_cstr(model_str s) { return s.ptr ? s.ptr : ""; }

/* The STORE_* code for an SQLite error: STORE_ENOMEM or STORE_EIO. */
int store_code(int sqlite_rc);

/* Steps a statement that returns no row (or ignores its rows), then resets
 * it. Returns SQLITE_OK or the error. */
int store_run(sqlite3_stmt *st);

/* Steps a statement expected to return one integer row (RETURNING id) into
 * *id, then resets it. Returns SQLITE_OK or the error (SQLITE_ERROR when
 * no row came). */
int store_run_id(sqlite3_stmt *st, int64_t *id);

/* Prepares and runs sql with ?1 = x; *changes (may be NULL) gets
 * sqlite3_changes64(). Returns an SQLite code. */
int store_exec1(sqlite3 *db, const char *sql, int64_t x, int64_t *changes);

/* The integer the first row of sql (a PRAGMA) answers, or -1. */
int64_t store_pragma_int(sqlite3 *db, const char *sql);

/* The text the first row of sql answers into out ("" when none). Returns
 * an SQLite code. */
int store_pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen);

/* Binds a model string (borrowed until the statement is reset). */
void store_bind_str(sqlite3_stmt *st, int idx, model_str s);

#endif
