/* query.h - read queries over the store's SQLite schema, answered as JSON.
 *
 * Each function reads through a read handle (store_reader_open()) used by
 * one thread at a time, in one snapshot of the store, and appends one
 * complete JSON document, in the shape docs/api.md describes, to `out`.
 * The queries that walk segments (trace and log lists, series, the
 * services' figures from the rollups) stop at the store's query timeout,
 * for the lists and series counted from the end of their plan (which reads
 * only the global tables), and answer with what they found, saying
 * "partial": true (lists: with a nextCursor when they found a page); the
 * metrics list and one trace read bounded metadata or one trace and are
 * not cut short. Every value that reaches SQL is bound as a
 * parameter. On error nothing useful is in `out` and the return code says
 * what went wrong; `out` may hold a partial document, which callers discard.
 *
 * Parameter structs: zero means "not set" for every field, so callers can
 * start from {0} and set what they need; fields are only ever added at the
 * end. Strings are borrowed for the call and NUL-terminated unless a length
 * is given.
 */
#ifndef LOUPE_QUERY_H
#define LOUPE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "store.h"

#define QUERY_OK 0
#define QUERY_ENOTFOUND -1 /* no such trace / metric */
#define QUERY_EDB -2       /* SQLite error */
#define QUERY_ETOOBIG -3   /* answer larger than out's cap */
#define QUERY_EINVAL -4    /* bad parameter (e.g. cursor); see the function */
#define QUERY_ENOMEM -5    /* out of memory */
#define QUERY_ENOTSUP -6   /* not available with this storage (ClickHouse: docs/storage.md) */
#define QUERY_EDOWN -7     /* the database did not answer (ClickHouse down): retry later */

/* Lists: 1..QUERY_MAX_LIMIT items per page. */
#define QUERY_MAX_LIMIT 1000
/* At most this many attribute filters per query. */
#define QUERY_MAX_ATTRS 16

/* ---- attribute filters (the API's attr=...) ------------------------------ */

typedef enum query_attr_op {
    QUERY_ATTR_EQ = 0,   /* key=value: the string, or the number, or the boolean */
    QUERY_ATTR_NE,       /* key!=value: the key is present with another value */
    QUERY_ATTR_CONTAINS, /* key~text: the value's text contains text (ASCII case-insensitive) */
    QUERY_ATTR_GT,       /* key>number: a numeric value greater than number */
    QUERY_ATTR_LT,       /* key<number */
} query_attr_op;

/* A filter matches an item when the item's own attributes or its resource's
 * attributes satisfy it (top-level keys; arrays and maps never match except
 * for NE). */
typedef struct query_attr {
    const char *key; /* not necessarily NUL-terminated */
    size_t key_len;
    query_attr_op op;
    const char *value; /* not necessarily NUL-terminated; unused for GT/LT */
    size_t value_len;
    double number; /* GT and LT */
} query_attr;

/* ---- services, one trace ----------------------------------------------------- */

/* A time window: start_ns <= t < end_ns, each bound when given. */
typedef struct query_window_params {
    int has_start, has_end;
    uint64_t start_ns, end_ns;
} query_window_params;

/* GET /api/v1/services: services with stored telemetry. With a window (p
 * not NULL and a bound given), the counts are those of the window (from
 * the per-minute rollups) and only services with telemetry in it are
 * listed. Every service carries its entry operations' figures (requests,
 * failed requests, rate, p50, p99) over the window (all stored data
 * without one). */
int query_services(store_reader *r, const query_window_params *p, buf *out);

/* GET /api/v1/service-map: nodes (services, and the databases, queues and
 * hosts that no instrumented service answers) and edges, with calls,
 * errors and p50/p99, from the rollups of the window. */
int query_service_map(store_reader *r, const query_window_params *p, buf *out);

typedef struct query_ops_params {
    const char *service; /* required */
    int has_start, has_end;
    uint64_t start_ns, end_ns;
    uint64_t step_ns; /* 0 = about 60 steps over the window; rounded up to minutes */
} query_ops_params;

/* GET /api/v1/services/{name}/operations: the service's entry operations
 * (span names of its SERVER and CONSUMER spans and of its roots) with
 * calls, errors, rate, error rate, p50/p95/p99 and a series per step.
 * QUERY_ENOTFOUND for an unknown service, QUERY_EINVAL for too many steps. */
int query_operations(store_reader *r, const query_ops_params *p, buf *out);

typedef struct query_genai_params {
    int has_start, has_end;
    uint64_t start_ns, end_ns;
    uint64_t step_ns; /* 0 = about 60 steps over the window; rounded up to minutes */
} query_genai_params;

/* GET /api/v1/genai: the GenAI calls of the window (spans of the
 * OpenTelemetry GenAI conventions, storage/genai.h) from their rollup:
 * totals and a series per step, per model, per service (with series) and
 * per operation, and the slowest and most expensive (by tokens) calls.
 * QUERY_EINVAL for too many steps. */
int query_genai(store_reader *r, const query_genai_params *p, buf *out);

/* GET /api/v1/traces/{id} */
int query_trace(store_reader *r, const uint8_t trace_id[16], buf *out);

/* ---- trace search --------------------------------------------------------------- */

#define QUERY_STATUS_ANY 0
#define QUERY_STATUS_UNSET 1
#define QUERY_STATUS_OK 2
#define QUERY_STATUS_ERROR 3

typedef struct query_traces_params {
    /* span filters: a trace matches when one of its spans matches them all */
    const char *service;
    const char *name; /* exact span name */
    const query_attr *attrs;
    size_t n_attrs;
    int status; /* QUERY_STATUS_* */
    const char *q; /* substring of a span name or attribute value, ASCII case-insensitive */
    /* trace filters */
    int has_min_duration, has_max_duration;
    uint64_t min_duration_ns, max_duration_ns; /* the trace's: last end - first start */
    int has_start, has_end;
    uint64_t start_ns, end_ns; /* start_ns <= trace start < end_ns */
    size_t limit;       /* 1..QUERY_MAX_LIMIT */
    const char *cursor; /* NULL or "" = first page; else a nextCursor value */
} query_traces_params;

/* GET /api/v1/traces: trace summaries, newest first (trace start, then
 * first arrival). QUERY_EINVAL for a bad limit, cursor or attribute count. */
int query_traces(store_reader *r, const query_traces_params *p, buf *out);

/* One trace's summary, as an item of GET /api/v1/traces (QUERY_ENOTFOUND
 * when the trace is not stored). For the live stream. */
int query_trace_summary(store_reader *r, const uint8_t trace_id[16], buf *out);

/* ---- logs ------------------------------------------------------------------------ */

typedef struct query_logs_params {
    const char *service; /* NULL = any */
    int min_severity;    /* 0 = any */
    size_t limit;        /* 1..QUERY_MAX_LIMIT */
    const char *cursor;  /* NULL or "" = first page; else a nextCursor value */
    /* version 2 */
    const char *q;           /* full-text search of the body (words, see docs/api.md) */
    const uint8_t *trace_id; /* 16 bytes, or NULL */
    const uint8_t *span_id;  /* 8 bytes, or NULL */
    const query_attr *attrs;
    size_t n_attrs;
    int has_start, has_end;
    uint64_t start_ns, end_ns; /* start_ns <= time < end_ns */
    /* log patterns */
    int64_t pattern; /* the records of this pattern (logs_N_pattern); 0 = any */
} query_logs_params;

/* GET /api/v1/logs: newest first (time, then arrival); pages never repeat
 * or skip a record stored before the first page was read. Each item has
 * its patternId (null in log segments made before log patterns). */
int query_logs(store_reader *r, const query_logs_params *p, buf *out);

/* ---- log patterns ------------------------------------------------------------------ */

/* Most steps of a pattern's counts. */
#define QUERY_MAX_PATTERN_STEPS 1000

typedef struct query_patterns_params {
    const char *service; /* NULL = any */
    int min_severity;    /* 0 = any; compared by level (trace, debug, ... fatal) */
    int has_start, has_end;
    uint64_t start_ns, end_ns; /* the window, whole minutes */
    uint64_t step_ns;          /* 0 = about 60 steps; rounded up to minutes */
    int sort_new;              /* only patterns first seen in the window, newest first */
    size_t limit;              /* 1..QUERY_MAX_LIMIT */
} query_patterns_params;

/* GET /api/v1/logs/patterns: the log patterns with records in the window,
 * by count (or new ones, newest first), each with its template, counts per
 * step and per severity level, first and last record time in the window,
 * and its latest record there. QUERY_EINVAL for a bad limit or more than
 * QUERY_MAX_PATTERN_STEPS steps. */
int query_patterns(store_reader *r, const query_patterns_params *p, buf *out);

/* ---- metrics ------------------------------------------------------------------------ */

/* GET /api/v1/metrics; service NULL = any */
int query_metrics(store_reader *r, const char *service, buf *out);

/* Most buckets one series may be cut into. */
#define QUERY_MAX_STEPS 10000
/* At most this many groupBy keys. */
#define QUERY_MAX_GROUP_BY 8

typedef struct query_series_params {
    const char *name;    /* the metric's name (required) */
    const char *service; /* NULL = any */
    int has_start, has_end;
    uint64_t start_ns, end_ns; /* start_ns <= point time < end_ns */
    uint64_t step_ns;          /* 0 = every stored point (or automatic with group_by) */
    const query_attr *attrs;
    size_t n_attrs;
    const char *const *group_by; /* attribute keys (point or resource attributes) */
    size_t n_group_by;
} query_series_params;

/* GET /api/v1/metrics/{name}/series. QUERY_ENOTFOUND when no metric has
 * the name; QUERY_EINVAL when the step cuts a series into more than
 * QUERY_MAX_STEPS buckets or a count is over its maximum. */
int query_series(store_reader *r, const query_series_params *p, buf *out);

/* ---- the instrumentation lint ------------------------------------------------------ */

/* GET /api/v1/lint: the lint's findings (lint.h, docs/lint.md) about what
 * is stored, of one service (NULL = every service; QUERY_ENOTFOUND for an
 * unknown one), summed over the segments: services with the most severe
 * findings first, then by severity and count; each with its fix hint and
 * up to five examples with links into the web UI and the API. */
int query_lint(store_reader *r, const char *service, buf *out);

/* ---- export: OTLP JSON lines ------------------------------------------------------ */

typedef struct query_export_params {
    int signal;                 /* MODEL_SIGNAL_TRACES, _LOGS or _METRICS */
    query_traces_params traces; /* traces: the list's filters (limit, cursor unused) */
    query_logs_params logs;     /* logs: likewise */
    const char *service;        /* metrics: NULL = any */
    int has_start, has_end;     /* metrics: points with start_ns <= time < end_ns */
    uint64_t start_ns, end_ns;
} query_export_params;

typedef struct query_export query_export;

/* Starts an export; p is copied. Returns QUERY_OK or QUERY_EINVAL /
 * QUERY_ENOMEM. */
int query_export_new(const query_export_params *p, query_export **out);

/* Appends the next line (one Export*ServiceRequest in OTLP JSON and a
 * newline) to out, or sets *done when there is no more. Each call is its
 * own set of queries on r (any read handle). */
int query_export_next(query_export *x, store_reader *r, buf *out, int *done);

void query_export_free(query_export *x);

/* ---- forwarding: what was stored after a position ----------------------------------
 * A reader of everything the store commits (the forwarder) keeps a
 * position per signal: for each live segment of the signal the last row it
 * took (rows of a segment arrive in ascending order; spans join their
 * trace's home segment, which may be an older one, so one row per segment
 * rather than one global id). A position is plain data: save it with its
 * (segment, row) pairs and set it back with query_tail_set(). */

typedef struct query_tail_seg {
    int64_t seg; /* segment id */
    int64_t row; /* the last row taken (0: none) */
    int64_t max; /* the segment's last row when last looked at */
} query_tail_seg;

typedef struct query_tail {
    int signal;            /* MODEL_SIGNAL_* */
    query_tail_seg *segs;  /* ascending by segment; owned (query_tail_free) */
    size_t n, cap;
} query_tail;

/* What a query_tail_next() call saw. */
typedef struct query_tail_report {
    uint64_t items;   /* items written into the line */
    uint64_t lost;    /* items of segments dropped (retention, deletes) before they were
                       * taken, as far as the position had seen them (a segment made
                       * and dropped between two reads is not seen) */
    uint64_t taken_gone; /* items that had been taken of the segments dropped: with the
                          * store's eviction count, what was evicted untaken */
    uint64_t pending; /* items stored after the new position */
} query_tail_report;

/* An empty position of signal (every segment from its start). Returns
 * QUERY_OK or QUERY_EINVAL. */
int query_tail_init(query_tail *t, int signal);

/* Sets the position in segment seg to row (adds the segment). Returns
 * QUERY_OK, QUERY_ENOMEM or QUERY_EINVAL (too many segments). */
int query_tail_set(query_tail *t, int64_t seg, int64_t row);

/* dst becomes a copy of src (dst initialised, its memory reused). */
int query_tail_copy(query_tail *dst, const query_tail *src);

/* Accepts a zeroed or freed t. */
void query_tail_free(query_tail *t);

/* Moves t to the end of what is stored now: every live segment at its
 * last row. */
int query_tail_at_end(store_reader *r, query_tail *t);

/* Appends one Export*ServiceRequest in OTLP JSON (no newline) to out with
 * up to max_items items stored after position t, in arrival order within
 * each segment, oldest segment first; stops early after the item that
 * takes the line past max_bytes. t is first brought up to date with the
 * store (dropped segments leave it, their untaken items counted in
 * rep->lost; new ones join from their start), so callers keep it whether
 * or not they use the line; *next (initialised) gets t moved past the
 * items written, for the caller to adopt once they are delivered. Nothing
 * is appended when there is nothing new (rep->items == 0); max_items 0
 * only brings t up to date. One read transaction; no deadline (bounded by
 * max_items). Returns a QUERY_* code. */
int query_tail_next(store_reader *r, query_tail *t, query_tail *next, size_t max_items,
                    size_t max_bytes, buf *out, query_tail_report *rep);

const char *query_strerror(int code);

#endif
