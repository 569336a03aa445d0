/* store_patterns.c - the store's side of log patterns (logpattern.h): the
 * pattern of each record, the `patterns` table kept in step with the
 * records, and the per-minute counts per pattern and severity level in
 * each log segment; see store_internal.h.
 *
 * DESIGN
 * Where the pattern is computed: on the receiving thread. store_append()
 * calls store_patterns_assign() for a batch of logs before it enters the
 * ring (with the texts of store_texts.c), so the writer thread, the ingest
 * bottleneck, only binds the id (model_log.pattern_id, which the live
 * stream shows too). A batch queued without texts gets its patterns on the
 * writer (store_patterns_of). logpattern has its own lock, taken for the
 * tree walk only; masking runs outside it.
 *
 * Persistence: every pattern a record of a transaction has was created
 * before that record's batch was written, so before the transaction's
 * COMMIT. store_patterns_persist(), called right before COMMIT, upserts
 * the rows of the patterns changed since they were last taken (new ones,
 * new templates, new first or last seen times) in the same transaction: a
 * record never commits without its pattern's row. When the transaction
 * rolls back, the rows taken go back to logpattern and are written with
 * the next one. A pattern made for a batch that then fails costs a row
 * with no records.
 *
 * Counts: a transaction's records are summed in memory by (segment,
 * pattern, minute, level), with the first and last record time, and each
 * sum becomes one upsert into its segment's pattern_counts_N right before
 * COMMIT (with the pattern rows): the counts commit and roll back with the
 * records and go with their segment. Per transaction rather than per batch
 * (as store_rollup.c does): a batch of 512 records of a busy service holds
 * a hundred (pattern, minute, level) keys, and a transaction under load
 * holds many batches, so this is several times fewer upserts. A batch
 * that fails rolls the whole transaction back, and the sums with it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/log.h"
#include "rollup.h"
#include "store_internal.h"

/* One sum of the open transaction. */
typedef struct sp_sum {
    int64_t seg, pattern, minute;
    int level;
    int64_t count, first, last;
} sp_sum;

struct store_patterns {
    sqlite3_stmt *upsert;      /* the patterns table */
    logpattern_changes taken;  /* rows written in the open transaction */
    sp_sum *sums;              /* the open transaction's counts */
    size_t n, cap;
    uint32_t *table; /* sum index + 1, open addressing; a power of two */
    size_t table_cap;
};

#define SP_UPSERT                                                                                  \
    "INSERT INTO patterns(id, service, kind, template, first_seen_ns, last_seen_ns)"              \
    " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(id) DO UPDATE SET template=excluded.template,"         \
    " first_seen_ns=min(first_seen_ns, excluded.first_seen_ns),"                                  \
    " last_seen_ns=max(last_seen_ns, excluded.last_seen_ns)"

/* ---- open and close -------------------------------------------------------------- */

/* Rebuilds s->patterns from the table, in id order. */
static int store_patterns_restore(store *s) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->w.db,
                                "SELECT id, service, kind, template, first_seen_ns, last_seen_ns"
                                " FROM patterns ORDER BY id",
                                -1, &st, NULL);
    size_t n = 0, skipped = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *svc = (const char *)sqlite3_column_text(st, 1);
        const char *tmpl = (const char *)sqlite3_column_text(st, 3);
        if (logpattern_restore(s->patterns, sqlite3_column_int64(st, 0), svc ? svc : "",
                               (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_int(st, 2),
                               tmpl ? tmpl : "", (size_t)sqlite3_column_bytes(st, 3),
                               (uint64_t)sqlite3_column_int64(st, 4),
                               (uint64_t)sqlite3_column_int64(st, 5)) != 0)
            skipped++; /* an unknown kind, or no memory: its records keep their id */
        n++;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && n > 0)
        log_event(LOG_DEBUG, "store_patterns_restored", "patterns=%zu skipped=%zu", n, skipped);
    return rc;
}

int store_patterns_open(store *s) {
    s->patterns = logpattern_new(NULL);
    s->w.patterns = calloc(1, sizeof(*s->w.patterns));
    if (s->patterns == NULL || s->w.patterns == NULL)
        return SQLITE_NOMEM;
    int rc = sqlite3_prepare_v3(s->w.db, SP_UPSERT, -1, SQLITE_PREPARE_PERSISTENT,
                                &s->w.patterns->upsert, NULL);
    if (rc != SQLITE_OK || s->patterns_off) {
        /* off: no record gets a pattern; the stored ones stay readable */
        logpattern_free(s->patterns);
        s->patterns = NULL;
        return rc;
    }
    return store_patterns_restore(s);
}

void store_patterns_close(store *s) {
    struct store_patterns *p = s->w.patterns;
    if (p != NULL) {
        sqlite3_finalize(p->upsert);
        logpattern_changes_free(&p->taken);
        free(p->sums);
        free(p->table);
        free(p);
        s->w.patterns = NULL;
    }
    logpattern_free(s->patterns);
    s->patterns = NULL;
}

/* ---- assigning ---------------------------------------------------------------------- */

/* The time a record is stored under (store_rows.c): its time, else its
 * observed time, else its arrival. */
static uint64_t sp_time(const model_log *lg, uint64_t now) {
    return lg->time_ns ? lg->time_ns : lg->observed_time_ns ? lg->observed_time_ns : now;
}

static int64_t sp_assign(store *s, const model_log *lg, uint64_t t) {
    model_str svc = lg->resource ? lg->resource->service_name : (model_str){0};
    return logpattern_assign(s->patterns, store_cstr(svc), svc.len, &lg->body, t);
}

void store_patterns_assign(store *s, model_batch *b, uint64_t now) {
    if (s->patterns == NULL || b->signal != MODEL_SIGNAL_LOGS)
        return;
    for (size_t i = 0; i < b->n_logs; i++)
        b->logs[i].pattern_id = sp_assign(s, &b->logs[i], sp_time(&b->logs[i], now));
}

int64_t store_patterns_of(store *s, model_log *lg, uint64_t t) {
    if (lg->pattern_id == 0 && s->patterns != NULL)
        lg->pattern_id = sp_assign(s, lg, t);
    return lg->pattern_id;
}

/* ---- counts per minute ---------------------------------------------------------------- */

/* Forgets the sums (written, or rolled back). */
static void sp_reset(store_writer *w) {
    struct store_patterns *p = w->patterns;
    if (p == NULL || p->n == 0)
        return;
    memset(p->table, 0, p->table_cap * sizeof(*p->table));
    p->n = 0;
}

static size_t sp_slot(const struct store_patterns *p, int64_t seg, int64_t pattern, int64_t minute,
                      int level) {
    uint64_t h = hash_mix64((uint64_t)pattern * 0x9e3779b97f4a7c15ULL ^ (uint64_t)minute ^
                            ((uint64_t)seg << 40) ^ ((uint64_t)level << 56));
    return (size_t)h & (p->table_cap - 1);
}

/* Room for one more sum, the table at most half full. */
static int sp_grow(struct store_patterns *p) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        sp_sum *v = realloc(p->sums, cap * sizeof(*v));
        if (v == NULL)
            return SQLITE_NOMEM;
        p->sums = v;
        p->cap = cap;
    }
    if (2 * (p->n + 1) <= p->table_cap)
        return SQLITE_OK;
    size_t cap = p->table_cap ? 2 * p->table_cap : 1024;
    uint32_t *t = calloc(cap, sizeof(*t));
    if (t == NULL)
        return SQLITE_NOMEM;
    free(p->table);
    p->table = t;
    p->table_cap = cap;
    for (size_t i = 0; i < p->n; i++) {
        const sp_sum *x = &p->sums[i];
        size_t k = sp_slot(p, x->seg, x->pattern, x->minute, x->level);
        while (p->table[k] != 0)
            k = (k + 1) & (cap - 1);
        p->table[k] = (uint32_t)i + 1;
    }
    return SQLITE_OK;
}

int store_patterns_count(store_writer *w, int64_t seg, int64_t pattern, int severity, uint64_t t) {
    struct store_patterns *p = w->patterns;
    if (p == NULL || pattern <= 0)
        return SQLITE_OK;
    int rc = sp_grow(p);
    if (rc != SQLITE_OK)
        return rc;
    int64_t minute = (int64_t)(t / ROLLUP_MINUTE_NS), ti = store_i64(t);
    int level = logpattern_level(severity);
    size_t k = sp_slot(p, seg, pattern, minute, level);
    for (;; k = (k + 1) & (p->table_cap - 1)) {
        uint32_t v = p->table[k];
        if (v == 0)
            break;
        sp_sum *x = &p->sums[v - 1];
        if (x->seg == seg && x->pattern == pattern && x->minute == minute && x->level == level) {
            x->count++;
            if (ti < x->first)
                x->first = ti;
            if (ti > x->last)
                x->last = ti;
            return SQLITE_OK;
        }
    }
    p->sums[p->n] = (sp_sum){seg, pattern, minute, level, 1, ti, ti};
    p->table[k] = (uint32_t)++p->n;
    return SQLITE_OK;
}

/* The sums into their segments' pattern_counts_N. */
static int sp_flush(store *s) {
    store_writer *w = &s->w;
    struct store_patterns *p = w->patterns;
    if (p == NULL)
        return SQLITE_OK;
    for (size_t i = 0; i < p->n; i++) {
        const sp_sum *x = &p->sums[i];
        store_seg *g = store_seg_by_id(w, x->seg);
        if (g == NULL || g->m.format < SEG_FORMAT_LOG_PATTERNS)
            continue;
        int rc = SQLITE_OK;
        sqlite3_stmt *st = store_seg_stmt(w, g, SST_PATTERN_COUNT, &rc);
        if (st == NULL)
            return rc;
        sqlite3_bind_int64(st, 1, x->pattern);
        sqlite3_bind_int64(st, 2, x->minute);
        sqlite3_bind_int(st, 3, x->level);
        sqlite3_bind_int64(st, 4, x->count);
        sqlite3_bind_int64(st, 5, x->first);
        sqlite3_bind_int64(st, 6, x->last);
        rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* ---- the patterns table ---------------------------------------------------------------- */

int store_patterns_persist(store *s) {
    struct store_patterns *p = s->w.patterns;
    if (p == NULL || s->patterns == NULL)
        return SQLITE_OK;
    if (p->taken.n > 0) /* taken by a transaction that neither committed nor rolled back */
        logpattern_changes_return(s->patterns, &p->taken);
    if (logpattern_take_changes(s->patterns, &p->taken) != 0)
        return SQLITE_NOMEM;
    const char *text = p->taken.text.ptr;
    for (size_t i = 0; i < p->taken.n; i++) {
        const logpattern_row *r = &p->taken.rows[i];
        sqlite3_stmt *st = p->upsert;
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_text(st, 2, r->service_len ? text + r->service_off : "", (int)r->service_len,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 3, r->kind);
        sqlite3_bind_text(st, 4, r->tmpl_len ? text + r->tmpl_off : "", (int)r->tmpl_len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, store_i64(r->first_ns));
        sqlite3_bind_int64(st, 6, store_i64(r->last_ns));
        int rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc; /* the rollback hands them back */
    }
    return sp_flush(s);
}

void store_patterns_committed(store *s) {
    if (s->w.patterns == NULL)
        return;
    s->w.patterns->taken.n = 0;
    sp_reset(&s->w);
}

void store_patterns_rolled_back(store *s) {
    struct store_patterns *p = s->w.patterns;
    if (p == NULL)
        return;
    logpattern_changes_return(s->patterns, &p->taken);
    p->taken.n = 0;
    sp_reset(&s->w);
}
