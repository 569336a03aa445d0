/* api_trace.h - the analysis answers of /api/v1/traces: a trace read with
 * query_trace(), its spans loaded one at a time with jansson, analysed by
 * trace_analysis.c, and the answers of GET /traces/{id}/analysis and GET
 * /traces/compare written as JSON (docs/api.md). api.c validates the
 * parameters and turns the codes into statuses.
 */
#ifndef LOUPE_API_TRACE_H
#define LOUPE_API_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "trace_analysis.h"
#include "util/arena.h"
#include "util/buf.h"
#include "storage/store.h"

/* Codes of api_trace_read(): QUERY_* codes (storage/query.h) from the read,
 * or these. */
#define API_TRACE_EBADDOC -100 /* the trace answer is not in the shape expected */

/* One trace, loaded and analysed. Everything is owned (api_trace_free). */
typedef struct api_trace_loaded {
    uint8_t trace_id[16];
    ta_span *spans;    /* in the answer's order (by start time) */
    size_t n;
    arena *strings;    /* the spans' service and name texts */
    ta_trace analysis; /* over spans[] */
} api_trace_loaded;

/* Reads trace_id through r (query_trace) and analyses it into *t. Returns
 * QUERY_OK with *t filled, or a QUERY_* code (QUERY_ENOTFOUND, QUERY_EDB,
 * QUERY_ETOOBIG, QUERY_ENOMEM) or API_TRACE_EBADDOC with *t empty. */
int api_trace_read(store_reader *r, const uint8_t trace_id[16], api_trace_loaded *t);

/* Loads the spans of a GET /api/v1/traces/{id} answer (json[0..len)) into
 * *t and analyses them. Returns QUERY_OK, QUERY_ENOMEM or API_TRACE_EBADDOC
 * (with *t empty). */
int api_trace_load(const char *json, size_t len, api_trace_loaded *t);

/* Frees what api_trace_read()/api_trace_load() filled; accepts a zeroed *t. */
void api_trace_free(api_trace_loaded *t);

/* Writes the answer of GET /api/v1/traces/{id}/analysis into out (emptied
 * first). Returns BUF_OK or a BUF_* error. */
int api_trace_analysis_json(const api_trace_loaded *t, buf *out);

/* Merges a and b (trace_analysis_compare) and writes the answer of GET
 * /api/v1/traces/compare into out (emptied first). Returns BUF_OK, a BUF_*
 * error, or BUF_ENOMEM when the merge runs out of memory. */
int api_trace_compare_json(const api_trace_loaded *a, const api_trace_loaded *b, buf *out);

#endif
