/* trace_analysis.h - where one trace's time went, and how two traces differ.
 *
 * Pure computation over a trace's spans (no I/O, no JSON, no SQL): the span
 * tree, each span's self time, the critical path, statistics per (service,
 * operation), and the merged tree of two traces. api_trace.c feeds it the
 * spans of GET /api/v1/traces/{id} and writes the answers (docs/api.md).
 *
 * DESIGN
 *
 * Tree. A span whose parent is not in the trace (an orphan) is a root; a
 * span whose parent chain loops is made a root where the loop is found; of
 * spans sharing an id only the first counts (the others are left out of
 * the tree and every figure). Children are ordered by start time.
 *
 * Self time: a span's duration minus the union of its children's intervals
 * clipped to the span.
 *
 * Critical path: the chain of work the trace's end waited on. Each child's
 * interval is first clipped to its parent's clipped interval (a child that
 * outlives its parent ends with it; one that starts before it, by clock
 * skew, starts with it; one wholly outside it has nothing left and is never
 * on the path). Starting from the driving root's end, a span walks back:
 * from the point reached, the child that finished last at or before that
 * point (among children not yet taken; ties go to the one that started
 * first) is on the path; the gap between its end and the point is the
 * span's own time, the child's own path is taken, and the walk goes on from
 * the child's start. With no such child left, the rest down to the span's
 * start is the span's own. The walk is iterative (an explicit stack), so
 * any depth is safe. The driving root is the root that ends last (ties: the
 * one that started first); other roots are only listed.
 *
 * Compare: spans of two traces are matched by their service and name, the
 * path of (service, name) pairs from their root, and their rank among
 * siblings with the same service and name (the k-th "SELECT" under a
 * parent matches the k-th). Unmatched spans and their subtrees appear from
 * one side only.
 *
 * Memory: every function allocates with malloc and returns
 * TRACE_ANALYSIS_ENOMEM when that fails, leaving nothing to free.
 */
#ifndef LOUPE_TRACE_ANALYSIS_H
#define LOUPE_TRACE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_ANALYSIS_OK 0
#define TRACE_ANALYSIS_ENOMEM -1
#define TRACE_ANALYSIS_EINVAL -2 /* no spans */

/* "no span" / "no node" in the index fields below */
#define TA_NONE ((size_t)-1)

/* One span as the analysis needs it. */
typedef struct ta_span {
    uint8_t span_id[8];
    uint8_t parent_id[8];
    int has_parent;        /* 0 when the span says it has no parent */
    const char *service;   /* borrowed, NUL-terminated, valid while the analysis lives */
    const char *name;      /* borrowed, as service */
    uint64_t start_ns;
    uint64_t end_ns;       /* an end before the start is read as the start */
} ta_span;

/* A stretch of the critical path spent in one span itself. */
typedef struct ta_segment {
    size_t span;    /* index into the spans */
    uint64_t start_ns, end_ns;
} ta_segment;

/* The figures of one (service, operation). */
typedef struct ta_stat {
    const char *service; /* borrowed from the spans */
    const char *name;
    size_t count;
    uint64_t total_ns;    /* sum of the spans' durations */
    uint64_t self_ns;     /* sum of their self times */
    uint64_t critical_ns; /* their time on the critical path */
} ta_stat;

/* The analysis of one trace. Arrays are owned (trace_analysis_free);
 * per-span arrays are indexed like the spans given. */
typedef struct ta_trace {
    const ta_span *spans; /* borrowed */
    size_t n;
    size_t *parent;      /* the parent's index, or TA_NONE for a root or an ignored span */
    uint8_t *ignored;    /* 1: a later span with an id seen before (left out) */
    size_t *kid_first;   /* children of i: kids[kid_first[i] .. kid_first[i + 1]) */
    size_t *kids;        /* by start time, then by index */
    size_t *roots;       /* by start time */
    size_t n_roots;
    size_t root;         /* the driving root */
    uint64_t start_ns, end_ns; /* earliest start and latest end of the spans counted */
    uint64_t *self_ns;
    uint64_t *critical_ns; /* each span's time on the critical path */
    uint8_t *critical;   /* 1: the path goes through the span (its clipped interval
                          * is not empty), even when children cover all of it */
    ta_segment *path;    /* chronological */
    size_t n_path;
    ta_stat *stats;      /* most self time first, then service, then name */
    size_t n_stats;
} ta_trace;

/* Analyses spans[0..n) (borrowed; must outlive *t). On success fills *t
 * (free with trace_analysis_free) and returns TRACE_ANALYSIS_OK; otherwise
 * *t is left empty. TRACE_ANALYSIS_EINVAL when n is 0. */
int trace_analysis_run(const ta_span *spans, size_t n, ta_trace *t);

/* Frees what trace_analysis_run() allocated; accepts an emptied or zeroed
 * *t and leaves it zeroed. */
void trace_analysis_free(ta_trace *t);

/* One node of the merged tree of two traces. */
typedef struct ta_cmp_node {
    size_t parent;        /* index of the parent node, TA_NONE at the top */
    size_t depth;
    size_t a, b;          /* the span in trace a / b, TA_NONE when absent */
    const char *service;  /* borrowed from the spans */
    const char *name;
    size_t subtree_a, subtree_b; /* spans of each trace in this node's subtree */
} ta_cmp_node;

typedef struct ta_compare {
    ta_cmp_node *nodes; /* owned; depth-first, children by start offset */
    size_t n;
    size_t both, only_a, only_b; /* node counts */
} ta_compare;

/* Merges the trees of two analysed traces (borrowed; must outlive *c).
 * Returns TRACE_ANALYSIS_OK with *c filled (free with
 * trace_analysis_compare_free), or TRACE_ANALYSIS_ENOMEM with *c empty. */
int trace_analysis_compare(const ta_trace *a, const ta_trace *b, ta_compare *c);

void trace_analysis_compare_free(ta_compare *c);

/* A span's duration (0 when it ends before it starts). */
uint64_t trace_analysis_duration(const ta_span *s);

#endif
