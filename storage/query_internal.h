/* query_internal.h - helpers shared by the storage/query_*.c files.
 *
 * qsql builds an SQL statement from constant fragments and values; every
 * value becomes a "?" bound in order, so nothing a client sends is ever
 * part of the SQL text. Errors are sticky: after the first failure every
 * call is a no-op and qsql_prepare() reports it.
 */
#ifndef LOUPE_QUERY_INTERNAL_H
#define LOUPE_QUERY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "util/jw.h"
#include "query.h"

#define QSQL_MAX_BINDS 400
#define QSQL_MAX_BYTES (256 * 1024)

typedef struct qsql_bind {
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    int64_t i;
    double d;
    char *s; /* owned copy */
    size_t n;
} qsql_bind;

typedef struct qsql {
    buf sql;
    qsql_bind binds[QSQL_MAX_BINDS];
    size_t nbinds;
    int err; /* QUERY_* code of the first failure */
} qsql;

void qsql_init(qsql *q);
void qsql_free(qsql *q);
/* Starts over (keeps memory). */
void qsql_reset(qsql *q);
/* A constant SQL fragment (never client data). */
void qsql_add(qsql *q, const char *fragment);
/* "?" bound to a value. */
void qsql_int(qsql *q, int64_t v);
void qsql_double(qsql *q, double v);
void qsql_text(qsql *q, const char *s, size_t n);
void qsql_blob(qsql *q, const void *p, size_t n);
/* Prepares and binds. Returns QUERY_OK or a QUERY_* code. The statement
 * borrows q's text and blob values: free q only after finalizing it. */
int qsql_prepare(qsql *q, sqlite3 *db, sqlite3_stmt **st);

/* A time or count from the API as an SQLite integer (INT64_MAX beyond). */
static inline int64_t query_i64(uint64_t v) {
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* " AND col>=start" and " AND col<end", each when given (col: a constant
 * SQL expression such as "l.time_ns"). */
void qsql_time_range(qsql *q, const char *col, int has_start, int64_t start, int has_end,
                     int64_t end);

/* The page condition of a cursor over (key, id), both constant SQL
 * expressions: has_cursor 1 = rows before (ckey, cid) in descending
 * (key, id) order, 2 = rows after id cid (arrival order), 0 = none. */
void qsql_cursor(qsql *q, const char *key, const char *id, int has_cursor, int64_t ckey,
                 int64_t cid);

/* An index match drives a query (rather than a newest-first scan) when it
 * has fewer rows than this. In test builds (LOUPE_TESTING) a variable,
 * QUERY_DRIVE_LIMIT at first, so that tests can force each plan (not to be
 * changed while queries run); a constant in the release build. */
#define QUERY_DRIVE_LIMIT 4096
#ifdef LOUPE_TESTING
extern int64_t query_drive_limit;
#else
#define query_drive_limit ((int64_t)QUERY_DRIVE_LIMIT)
#endif

/* ---- attribute conditions ---------------------------------------------- */

/* Appends "EXISTS(...)": some top-level member of the JSON object column
 * `col` (an SQL expression such as "s.attrs") satisfies filter a. */
void qsql_attr_cond(qsql *q, const char *col, const query_attr *a);

/* The ids of the resources whose attributes satisfy a, as a JSON array
 * ("[3,7]") in *ids (malloc'ed; NULL when none). Returns a QUERY_* code. */
int query_resources_matching(sqlite3 *db, const query_attr *a, char **ids);

/* For each of the n filters: the resources that satisfy it into res[i]
 * (query_resources_matching); and every equality no resource satisfies --
 * it must then be in the row's own attributes, which the attribute index
 * can find -- as an attribute index query appended to `match`, joined with
 * " AND ". Returns a QUERY_* code. */
int query_attrs_plan(sqlite3 *db, const query_attr *attrs, size_t n, char **res, buf *match);

/* Appends the condition for filter a on a row with attributes `col` and
 * resource id `res` (SQL expressions): the row's own attributes or its
 * resource's satisfy it. res_ids is what query_resources_matching() gave. */
void qsql_attr_or_resource(qsql *q, const char *col, const char *res, const query_attr *a,
                           const char *res_ids);

/* 1 when the store's JSON writer (jw) keeps s[0..n) as it is inside a
 * string: then text found in a value is also in the stored JSON text. */
int query_text_unescaped(const char *s, size_t n);

/* ASCII lowercase copy of s (malloc'ed, NUL-terminated), or NULL. */
char *query_lower(const char *s, size_t n);

/* ---- answers --------------------------------------------------------------- */

uint64_t query_u64(sqlite3_stmt *st, int col);
void query_raw(jw *w, sqlite3_stmt *st, int col, const char *fallback);
void query_text(jw *w, sqlite3_stmt *st, int col);
void query_id(jw *w, sqlite3_stmt *st, int col, int size);
/* QUERY_OK when the last step was SQLITE_DONE and w has no error. */
int query_finish(jw *w, int rc);

/* The cursor is 32 hex digits: a sort key and a row id, big-endian. */
#define QUERY_CURSOR_LEN 32
void query_cursor_encode(uint64_t key, int64_t id, char out[QUERY_CURSOR_LEN + 1]);
int query_cursor_decode(const char *c, int64_t *key, int64_t *id);

/* Starts an answer that is a list: {"key":[ (jw_init on out). */
void query_list_begin(jw *w, buf *out, const char *key);

/* Ends a page of a list: closes its items array, writes "nextCursor" (the
 * cursor of (key, id) when there is more, else null) and closes the
 * answer. Returns query_finish(w, s). */
int query_page_end(jw *w, int more, uint64_t key, int64_t id, int s);

/* The row id of a service, 0 when unknown. Returns a QUERY_* code. */
int query_service_id(sqlite3 *db, const char *name, int64_t *id);

/* An FTS5 query for words typed by a user: every whitespace-separated word
 * as a quoted string (FTS5 syntax in it is data; the tokenizer splits it
 * into a phrase), all required; a word ending in '*' matches as a prefix.
 * NULL when q holds no word; *err = QUERY_ENOMEM on failure. */
char *query_fts_words(const char *q, int *err);

/* Up to p->limit row ids matching the trace search p (traces.id) after
 * row `after`, in arrival order (ascending ids): what an export walks, so
 * that an import stores them in the same order. p->cursor is not used. */
int query_traces_ids_after(sqlite3 *db, const query_traces_params *p, int64_t after,
                           int64_t *ids, size_t *n);

/* The same for the log search (logs.id). */
int query_logs_ids_after(sqlite3 *db, const query_logs_params *p, int64_t after, int64_t *ids,
                         size_t *n);

/* ids as a JSON array ("[1,2,3]", for json_each()), malloc'ed; NULL when
 * out of memory. */
char *query_id_list(const int64_t *ids, size_t n);

/* Runs sql (one integer column, first row) with q's binds into *out. */
int query_scalar(sqlite3 *db, qsql *q, int64_t *out);

#endif
