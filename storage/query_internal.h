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
#include "reader.h"
#include "rollup.h"
#include "segment.h"

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
    int64_t seg; /* "{N}" in a fragment becomes this segment id (qsql_seg) */
    qsql_bind binds[QSQL_MAX_BINDS];
    size_t nbinds;
    int err; /* QUERY_* code of the first failure */
} qsql;

void qsql_init(qsql *q);
void qsql_free(qsql *q);
/* Starts over (keeps memory and the segment). */
void qsql_reset(qsql *q);
/* From now on "{N}" in fragments stands for segment seg ("spans_{N}"). */
void qsql_seg(qsql *q, int64_t seg);
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

/* The page condition in segment seg of a cursor (ckey, cgid) over
 * descending (key, gid), gid = SEG_GID(segment, row): rows of a newer
 * segment come before the cursor's row when their key ties, rows of an
 * older one after it. key and row are constant SQL expressions
 * ("t.start_ns", "t.id"). */
void qsql_cursor_seg(qsql *q, const char *key, const char *row, int64_t seg, int64_t ckey,
                     int64_t cgid);

/* "(SELECT cols, gid FROM points_A WHERE 1 <cond> UNION ALL ...)": the
 * points of every metric segment that may hold times in [lo, hi) (each
 * bound when given), oldest segment first; cond(q, ctx) appends each arm's
 * " AND ..." conditions. cols must be a subset of time_ns, start_ns,
 * value, is_int, data, exemplars, series (in that order when there is no
 * segment: the empty source names them so), then flags. gid orders ties
 * by arrival.
 * Returns the number of segments used. */
int qsql_points_from(qsql *q, store_reader *r, const char *cols, int has_lo, int64_t lo,
                     int has_hi, int64_t hi, void (*cond)(qsql *q, const void *ctx),
                     const void *ctx);

/* ---- lists across segments ---------------------------------------------------------
 * A list runs its plan in each segment (limit + 1 rows after the cursor),
 * collects (key, gid) candidates, sorts them descending and keeps the
 * first limit + 1: the union's first rows are each segment's first rows. */

typedef struct query_cand {
    int64_t key, gid;
} query_cand;

typedef struct query_cands {
    query_cand *v;
    size_t n, cap;
} query_cands;

int query_cands_push(query_cands *c, int64_t key, int64_t gid);
/* Sorts descending by (key, gid). */
void query_cands_sort(query_cands *c);
/* Sorts and keeps the first n. */
void query_cands_keep(query_cands *c, size_t n);
/* The key a segment's rows must reach to matter once there are more than
 * limit candidates (their (limit+1)-th key), else INT64_MIN. Call on a
 * sorted list. */
int64_t query_cands_floor(const query_cands *c, size_t limit);
void query_cands_free(query_cands *c);

/* A statement's step result, with an interruption by the reader's
 * deadline turned into SQLITE_DONE (the answer then holds what was found;
 * the caller says "partial"). */
int query_step_done(store_reader *r, int s);

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

/* Ends a page of a list: closes its items array, writes "partial": true
 * when the query stopped at its deadline, "nextCursor" (the cursor of
 * (key, id) when there is more, else null) and closes the answer. Returns
 * query_finish(w, s). */
int query_page_end(jw *w, int more, uint64_t key, int64_t id, int s, int partial);
/* query_page_end() after the items array was closed (for what an answer
 * writes between its items and its cursor). */
int query_page_tail(jw *w, int more, uint64_t key, int64_t id, int s, int partial);

/* ---- each resource once (query_res.c) -------------------------------------
 * Items name their resource by id ("resourceId":"r42"); the answer then
 * carries "resources":{"r42":{"service":...,"attributes":{...}},...} with
 * every resource its items named, each once. */

typedef struct query_res_set {
    int64_t *ids;  /* first-seen order */
    size_t n;
    size_t *slots; /* open-addressing hash: index + 1 into ids, 0 = empty */
    size_t nslots;
} query_res_set;

void query_res_init(query_res_set *s);
void query_res_free(query_res_set *s);
/* Writes the key and value "resourceId":"r<id>" into w's current object and
 * remembers id. Returns a QUERY_* code. */
int query_res_ref(query_res_set *s, jw *w, int64_t id);
/* Writes "resources" and the map of every resource remembered, in the
 * order first named, into w's current object (reading db). */
int query_res_write(sqlite3 *db, const query_res_set *s, jw *w);

/* The segment and row (traces_N.id) of a trace in the reader's open
 * transaction: *seg = 0 when no live segment holds it. Returns a QUERY_*
 * code. */
int query_trace_find(store_reader *r, const uint8_t trace_id[16], int64_t *seg, int64_t *row);

/* The row id of a service, 0 when unknown. Returns a QUERY_* code. */
int query_service_id(sqlite3 *db, const char *name, int64_t *id);

/* An FTS5 query for words typed by a user: every whitespace-separated word
 * as a quoted string (FTS5 syntax in it is data; the tokenizer splits it
 * into a phrase), all required; a word ending in '*' matches as a prefix.
 * NULL when q holds no word; *err = QUERY_ENOMEM on failure. */
char *query_fts_words(const char *q, int *err);

/* Up to p->limit gids (SEG_GID of segment and traces_N.id) matching the
 * trace search p after gid `after`, in arrival order (ascending gids):
 * what an export walks, so that an import stores them in the same order.
 * p->cursor is not used. Runs in the reader's open transaction. */
int query_traces_ids_after(store_reader *r, const query_traces_params *p, int64_t after,
                           int64_t *ids, size_t *n);

/* The same for the log search (logs_N.id). */
int query_logs_ids_after(store_reader *r, const query_logs_params *p, int64_t after,
                         int64_t *ids, size_t *n);

/* ids as a JSON array ("[1,2,3]", for json_each()), malloc'ed; NULL when
 * out of memory. */
char *query_id_list(const int64_t *ids, size_t n);

/* ---- services' figures from the rollups (query_analytics.c) ------------------ */

typedef struct rollup_hist rollup_hist;

/* The minutes a rollup query covers: [lo, hi). */
typedef struct qa_window {
    int64_t lo, hi;
    double seconds; /* for rates */
} qa_window;

/* The window from the parameters, or from the segments' times (of `sig`)
 * when an end is not given. */
void qa_window_of(store_reader *r, model_signal sig, int has_start, uint64_t start, int has_end,
                  uint64_t end, qa_window *w);

/* "(SELECT cols FROM table_A WHERE minute>=lo AND minute<hi [AND
 * service=sid] UNION ALL ...)" over every segment of sig in the window;
 * with no segment an empty source with the columns named in `empty`. */
void qa_union(qsql *q, store_reader *r, model_signal sig, const qa_window *w,
              const char *select_from, int64_t sid, const char *empty);

/* The step in whole minutes: the given one, or about 60 steps over the
 * window. QUERY_EINVAL past QUERY_MAX_STEPS steps. */
int qa_step(uint64_t step_ns, const qa_window *w, int64_t *minutes);

/* "calls", "errors", "rate" (per second over `seconds`), "errorRate",
 * "p50Ns", "p95Ns", "p99Ns" (from h). */
void qa_op_figures(jw *w, int64_t calls, int64_t errors, const rollup_hist *h, double seconds);

/* One service's figures over a window. */
typedef struct qa_svc {
    int64_t id;
    int64_t spans, errors, logs, points; /* items (and error spans) in the window */
    int64_t requests, failed;            /* entry operations and those that failed */
    rollup_hist *hist;                   /* entry operations' durations (owned) */
} qa_svc;

typedef struct qa_svcs {
    qa_svc *v;
    size_t n, cap;
} qa_svcs;

/* The services' figures of the window p (NULL or no bounds: everything
 * stored), in the reader's open transaction: the entry operations always,
 * the item counts when `counts`. *seconds: the window's length for rates.
 * Returns a QUERY_* code. */
int qa_services(store_reader *r, const query_window_params *p, int counts, qa_svcs *s,
                double *seconds);
const qa_svc *qa_svc_find(const qa_svcs *s, int64_t id);
void qa_svcs_free(qa_svcs *s);

/* "requests", "failedRequests", "rate", "errorRate", "p50Ns", "p99Ns" of
 * a service (v may be NULL: zeros). */
void qa_svc_red(jw *w, const qa_svc *v, double seconds);

/* The words of a user's text search the way the spans' index (the FTS5
 * 'ascii' tokenizer) cuts text: runs of ASCII letters and digits and of
 * non-ASCII bytes, ASCII lowercased; a word typed with a trailing '*' is a
 * prefix (its last run). */
typedef struct query_words {
    char **w;            /* each lowercased, NUL-terminated (owned) */
    unsigned char *pfx;  /* per word: 1 when it was given as a prefix (word*) */
    size_t n;
} query_words;

/* Cuts q into words (*out) and appends the FTS5 query that requires each
 * ("w1" AND "w2"*) to match. Returns QUERY_OK or QUERY_ENOMEM; no word at
 * all leaves out->n 0 and match untouched. */
int query_words_of(const char *q, query_words *out, buf *match);
void query_words_free(query_words *w);

/* Runs sql (one integer column, first row) with q's binds into *out. */
int query_scalar(sqlite3 *db, qsql *q, int64_t *out);

/* ---- the GenAI answer's lists (query_genai.c; ClickHouse fills them too) ---- */

/* At most this many models, services and operations are listed (the ones
 * with the most calls). */
#define QG_GROUPS_MAX 100

/* What a list groups by: the two key columns it selects (texts; the
 * second may be NULL), what it groups by (SQLite's rollup columns), and
 * whether it has a series. */
typedef struct qg_by {
    const char *name;   /* the answer's key: "models", ... ("" = the totals) */
    const char *keys;   /* "u.provider, u.model" */
    const char *group;  /* "u.provider, u.model" */
    const char *fields; /* the JSON names of the two keys */
    const char *field2;
    int series;
} qg_by;

extern const qg_by qg_models, qg_services, qg_operations, qg_totals;

/* One group's figures. */
typedef struct qg_group {
    char *a, *b; /* the keys (owned; b may be NULL) */
    int64_t calls, errors, in, out;
    rollup_hist total;
    buf series; /* the series items, as JSON, comma-separated */
} qg_group;

typedef struct qg_groups {
    qg_group *v;
    size_t n, cap;
} qg_groups;

void qg_groups_free(qg_groups *g);

/* The group of keys (a, b): the last one when they are its keys (rows come
 * ordered by key), else a new one. NULL when out of memory. */
qg_group *qg_group_at(qg_groups *g, const char *a, const char *b);

/* Adds one step's figures (t: the step's start, ns) to x: its totals and,
 * when by has a series, a series item (steps in order). Returns QUERY_OK or
 * QUERY_ETOOBIG. */
int qg_group_add(qg_group *x, const qg_by *by, uint64_t t, int64_t calls, int64_t errors,
                 int64_t in, int64_t out, const rollup_hist *h);

/* "name": the groups (sorted here: most calls first), at most QG_GROUPS_MAX. */
void qg_list_write(jw *w, const qg_by *by, qg_groups *g, double seconds);

/* "totals" and "series" from the one group of qg_totals (none: zeros). */
void qg_totals_emit(jw *w, const qg_groups *g, double seconds);

/* "stepNs", "startTimeUnixNano", "endTimeUnixNano". */
void qg_head_write(jw *w, const qa_window *win, int64_t stepm);

/* ---- a pattern of GET /api/v1/logs/patterns (query_patterns.c; ClickHouse
 * writes its patterns with these too) ------------------------------------- */

/* What an answer says of one pattern, before its example. Strings and
 * arrays are borrowed for the call. */
typedef struct query_pattern_item {
    int64_t id;
    const char *service, *tmpl; /* NULL = "" */
    size_t service_len, tmpl_len;
    int kind;                   /* 0 text, 1 structured, 2 other */
    int64_t count;
    const int64_t *levels;      /* LOGPATTERN_LEVELS counts */
    const int64_t *steps;       /* nsteps counts, or NULL (zeros) */
    int64_t nsteps;
    uint64_t first, last, since; /* 0 = none */
    int is_new;
} query_pattern_item;

/* Opens the pattern's JSON object and writes its members up to "new";
 * the caller writes the example (query_pattern_example) and closes it. */
void query_pattern_item_begin(jw *w, const query_pattern_item *it);

/* The member "example": the record (body: its stored JSON, len bytes, at
 * time t), or null when body is NULL. */
void query_pattern_example(jw *w, const char *body, size_t len, uint64_t t);

/* What orders the patterns of an answer. */
typedef struct query_pattern_rank {
    int64_t id;
    int64_t count;  /* records in the window */
    uint64_t since; /* its first record ever, 0 = unknown */
    int is_new;     /* since lies in the window */
} query_pattern_rank;

/* The step of an answer over win (qa_step: step_ns, or automatic) into
 * *stepm minutes, and the number of steps into *nsteps. Returns QUERY_OK,
 * or QUERY_EINVAL past QUERY_MAX_PATTERN_STEPS steps (or qa_step's). */
int query_patterns_steps(uint64_t step_ns, const qa_window *win, int64_t *stepm,
                         int64_t *nsteps);

/* Opens the answer's object and writes its members up to the opened
 * array "patterns" (the window's minutes [lo, hi), steps of stepm minutes,
 * total patterns matching). */
void query_patterns_begin(jw *w, int64_t stepm, const qa_window *win, size_t total);

/* Sorts the n patterns at v, each `size` bytes and starting with its
 * query_pattern_rank: by count (highest first), then id; with sort_new,
 * new ones first, then the latest since, then as by count. Returns how
 * many answer: n, or with sort_new the new ones. */
size_t query_patterns_sort(void *v, size_t n, size_t size, int sort_new);

/* ---- the lint's answer (query_lint.c; ClickHouse fills it too) --------------- */

#define QL_EXAMPLES 5

typedef struct ql_example {
    int signal; /* MODEL_SIGNAL_* */
    char trace[33], span[17];
    char *metric; /* owned */
    uint64_t time;
} ql_example;

typedef struct ql_finding {
    int rule;
    int64_t service;
    char *key, *note; /* owned */
    const char *service_name; /* into names */
    int64_t count;
    int64_t first, last;
    int worst; /* the most severe finding of its service */
    ql_example ex[QL_EXAMPLES];
    int n_ex;
} ql_finding;

typedef struct ql_state {
    ql_finding *v;
    size_t n, cap;
    size_t last;  /* the finding of the previous row */
    char **names; /* service names by finding (owned) */
} ql_state;

void ql_free(ql_state *s);

/* The finding (rule, service, key), made when new (count -1: none yet);
 * NULL when out of memory or past the cap. */
ql_finding *ql_get(ql_state *s, int rule, int64_t service, const char *key);

/* Services by their most severe finding, then name; within one, by
 * severity and count. Every finding's service_name must be set. */
void ql_sort(ql_state *s);

/* The answer (docs/api.md) into out. Returns a QUERY_* code. */
int ql_write(store_reader *r, const ql_state *s, buf *out);

#endif
