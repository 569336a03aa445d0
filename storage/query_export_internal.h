/* query_export_internal.h - the state of an export (query.h's
 * query_export), shared by its SQLite walk (query_export.c) and its
 * ClickHouse walk (ch_query_export.c).
 *
 * DESIGN
 * query_export_new() copies the filters into the state (strings owned by
 * it); query_export_next() writes one line per call, and hands over to
 * chq_export_line() when the reader is a ClickHouse store's. Each walk
 * keeps its own position between calls: the SQLite walk a row id (or an
 * instrument and a point id), the ClickHouse walk the ch member below.
 */
#ifndef LOUPE_QUERY_EXPORT_INTERNAL_H
#define LOUPE_QUERY_EXPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "query.h"

#define EXPORT_TRACES_PAGE 50
#define EXPORT_LOGS_PAGE 500
#define EXPORT_POINTS_PAGE 2000

/* Instruments, and traces, the ClickHouse walk lists per query. */
#define EXPORT_CH_METRICS_PAGE 64
#define EXPORT_CH_TRACES_LIST 2000

/* Where the ClickHouse walk is. Items are in (arrival, tie-break) order; a
 * position is an arrival time and how many items of that arrival time
 * were already taken (items of one insert round share one). */
typedef struct chq_export_pos {
    uint64_t arrival;
    uint64_t taken;
} chq_export_pos;

typedef struct chq_export_state {
    chq_export_pos pos; /* traces: of traces by first arrival; logs: of records */
    /* traces: the ones listed and not yet exported (trace_i..trace_n) */
    uint8_t (*trace_ids)[16]; /* owned */
    uint64_t *trace_fa;       /* their first arrivals (owned) */
    size_t trace_n, trace_i;
    int trace_listed, trace_end; /* listed once; the last listing said all there is */
    /* metrics: the instruments (by first arrival), listed a page at a time */
    chq_export_pos inst_pos; /* of the instruments listed so far */
    buf inst_ans;            /* the listing's answer (owned); rows point into it */
    char *inst_next;         /* the next unread row of inst_ans */
    int inst_end;            /* the listing said all there is */
    int inst_open;           /* an instrument is being exported: the fields below */
    char *inst_row;          /* its row (key columns; owned copy) */
    size_t inst_row_len;
    chq_export_pos point_pos; /* within it */
} chq_export_state;

struct query_export {
    int signal;
    query_traces_params tp;
    query_logs_params lp;
    query_attr attrs[QUERY_MAX_ATTRS];
    uint8_t tid[16], sid[8];
    char *strs[8 + 2 * QUERY_MAX_ATTRS]; /* owned copies */
    size_t nstrs;
    int64_t after; /* traces, logs: the last row exported */
    int started, done;
    /* metrics */
    const char *service;
    int has_start, has_end;
    int64_t start, end;
    int64_t metric, after_point;
    /* the ClickHouse walk's */
    chq_export_state ch;
};

/* After a page of n items was read with code rc: x has started, and is
 * done (as *done) when rc is QUERY_OK and n is 0. Returns rc; the line is
 * written when it is QUERY_OK and n > 0. (query_export.c) */
int query_export_page(query_export *x, int rc, size_t n, int *done);

/* Ends a line written into out with its newline. Returns QUERY_OK or
 * QUERY_ETOOBIG. (query_export.c) */
int query_export_line_end(buf *out);

/* The next line of x from a ClickHouse store (r->ch set): appends it to out
 * with its newline, or sets *done (and x->done) when there is no more.
 * Returns a QUERY_* code (QUERY_EDOWN when ClickHouse does not answer). */
int chq_export_line(query_export *x, store_reader *r, buf *out, int *done);

/* Frees what the ClickHouse walk holds in s (not s itself). */
void chq_export_state_free(chq_export_state *s);

#endif
