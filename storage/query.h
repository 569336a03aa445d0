/* query.h - read queries over the store's SQLite schema, answered as JSON.
 *
 * Each function runs on a reader connection (store_reader_open()) owned by
 * the calling thread and appends one complete JSON document, in the shape
 * docs/api.md describes, to `out`. Every value that reaches SQL is bound as a
 * parameter. On error nothing useful is in `out` and the return code says
 * what went wrong; `out` may hold a partial document, which callers discard.
 */
#ifndef LOUPE_QUERY_H
#define LOUPE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "buf.h"

#define QUERY_OK 0
#define QUERY_ENOTFOUND -1 /* no such trace */
#define QUERY_EDB -2       /* SQLite error */
#define QUERY_ETOOBIG -3   /* answer larger than out's cap */
#define QUERY_EINVAL -4    /* bad parameter (e.g. cursor) */

/* GET /api/v1/services */
int query_services(sqlite3 *db, buf *out);

/* GET /api/v1/traces/{id} */
int query_trace(sqlite3 *db, const uint8_t trace_id[16], buf *out);

typedef struct query_logs_params {
    const char *service; /* NULL = any */
    int min_severity;    /* 0 = any */
    size_t limit;        /* 1..1000 */
    const char *cursor;  /* NULL = first page; else a nextCursor value */
} query_logs_params;

/* GET /api/v1/logs */
int query_logs(sqlite3 *db, const query_logs_params *p, buf *out);

/* GET /api/v1/metrics; service NULL = any */
int query_metrics(sqlite3 *db, const char *service, buf *out);

const char *query_strerror(int code);

#endif
