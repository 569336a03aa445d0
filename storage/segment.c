/* segment.c - segments' tables, the manifest and trace-id bloom filters,
 * see segment.h. */
#include "segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- templates -------------------------------------------------------------- */

int seg_sql(buf *out, const char *tmpl, int64_t id) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", (long long)id);
    const char *p = tmpl;
    for (;;) {
        const char *hole = strstr(p, "{N}");
        size_t run = hole ? (size_t)(hole - p) : strlen(p);
        int rc = buf_append(out, p, run);
        if (rc != BUF_OK)
            return rc;
        if (hole == NULL)
            return BUF_OK;
        rc = buf_append(out, num, (size_t)n);
        if (rc != BUF_OK)
            return rc;
        p = hole + 3;
    }
}

/* The template as text for segment id: *out (malloc'ed via buf). */
static int seg_text(buf *b, const char *tmpl, int64_t id) {
    buf_init(b, (size_t)1 << 20);
    int rc = seg_sql(b, tmpl, id);
    if (rc == BUF_OK)
        rc = buf_append(b, "", 1); /* NUL */
    return rc == BUF_OK ? SQLITE_OK : SQLITE_NOMEM;
}

int seg_exec(sqlite3 *db, const char *tmpl, int64_t id) {
    buf b;
    int rc = seg_text(&b, tmpl, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, b.ptr, NULL, NULL, NULL);
    buf_free(&b);
    return rc;
}

int seg_prepare(sqlite3 *db, const char *tmpl, int64_t id, sqlite3_stmt **st) {
    buf b;
    *st = NULL;
    int rc = seg_text(&b, tmpl, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db, b.ptr, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    buf_free(&b);
    return rc;
}

/* ---- the tables of a segment ----------------------------------------------- */

/* columnsize=0: no per-row size table (one B-tree insert less per row);
 * automerge=8: fewer, larger merges (measured: -25% insert cost). */
#define SEG_ATTR_FTS(name)                                                                       \
    "CREATE VIRTUAL TABLE " name " USING fts5(t, content='', detail=none,"                       \
    " columnsize=0, tokenize='ascii');"                                                           \
    "INSERT INTO " name "(" name ", rank) VALUES('automerge', 8);"

/* Items per service and minute, in every segment (services over a time
 * range). */
#define SEG_COUNTS                                                                                 \
    "CREATE TABLE counts_{N}("                                                                     \
    " service INTEGER NOT NULL,"                                                                   \
    " minute INTEGER NOT NULL,"                                                                    \
    " items INTEGER NOT NULL,"                                                                     \
    " errors INTEGER NOT NULL,"                                                                    \
    " PRIMARY KEY(service, minute)) WITHOUT ROWID;"

/* The rollups of a trace segment (rollup.h, store_rollup.c): entry
 * operations, service-to-service edges, client calls by peer; per minute,
 * with duration histograms. */
#define SEG_TRACE_ROLLUPS                                                                          \
    "CREATE TABLE ops_{N}("                                                                        \
    " service INTEGER NOT NULL,"                                                                   \
    " name TEXT NOT NULL,"                                                                         \
    " kind INTEGER NOT NULL,"                                                                      \
    " root INTEGER NOT NULL,"                                                                      \
    " minute INTEGER NOT NULL,"                                                                    \
    " calls INTEGER NOT NULL,"                                                                     \
    " errors INTEGER NOT NULL,"                                                                    \
    " hist BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(service, name, kind, root, minute)) WITHOUT ROWID;"                             \
    "CREATE TABLE edges_{N}("                                                                      \
    " service INTEGER NOT NULL,"                                                                   \
    " child INTEGER NOT NULL,"                                                                     \
    " minute INTEGER NOT NULL,"                                                                    \
    " calls INTEGER NOT NULL,"                                                                     \
    " errors INTEGER NOT NULL,"                                                                    \
    " hist BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(service, child, minute)) WITHOUT ROWID;"                                        \
    "CREATE TABLE clients_{N}("                                                                    \
    " service INTEGER NOT NULL,"                                                                   \
    " peer TEXT NOT NULL,"                                                                         \
    " minute INTEGER NOT NULL,"                                                                    \
    " calls INTEGER NOT NULL,"                                                                     \
    " errors INTEGER NOT NULL,"                                                                    \
    " matched INTEGER NOT NULL,"                                                                   \
    " hist BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(service, peer, minute)) WITHOUT ROWID;"

/* The instrumentation lint's findings about the segment's items (lint.h,
 * store_lint.c), in every segment: a count (a level for rule 6), first and
 * last arrival, a note, up to five examples as a JSON array. */
#define SEG_LINT                                                                                   \
    "CREATE TABLE lint_{N}("                                                                       \
    " rule INTEGER NOT NULL,"                                                                      \
    " service INTEGER NOT NULL,"                                                                   \
    " key TEXT NOT NULL,"                                                                          \
    " count INTEGER NOT NULL,"                                                                     \
    " first_ns INTEGER NOT NULL,"                                                                  \
    " last_ns INTEGER NOT NULL,"                                                                   \
    " note TEXT NOT NULL,"                                                                         \
    " examples TEXT NOT NULL,"                                                                     \
    " PRIMARY KEY(rule, service, key)) WITHOUT ROWID;"

const char seg_lint_ddl[] = SEG_LINT;
/* The GenAI rollup of a trace segment (genai.h, store_genai.c): calls,
 * errors, tokens and durations per minute and (service, provider, model,
 * operation), and per minute the candidates for the slowest (kind 0, value
 * the duration) and the most expensive (kind 1, value input + output
 * tokens) calls. */
#define SEG_GENAI                                                                                  \
    "CREATE TABLE genai_{N}("                                                                      \
    " minute INTEGER NOT NULL,"                                                                    \
    " service INTEGER NOT NULL,"                                                                   \
    " provider TEXT NOT NULL,"                                                                     \
    " model TEXT NOT NULL,"                                                                        \
    " operation TEXT NOT NULL,"                                                                    \
    " calls INTEGER NOT NULL,"                                                                     \
    " errors INTEGER NOT NULL,"                                                                    \
    " input_tokens INTEGER NOT NULL,"                                                              \
    " output_tokens INTEGER NOT NULL,"                                                             \
    " hist BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY(minute, service, provider, model, operation)) WITHOUT ROWID;"                   \
    "CREATE TABLE genai_top_{N}("                                                                  \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " minute INTEGER NOT NULL,"                                                                    \
    " kind INTEGER NOT NULL,"                                                                      \
    " value INTEGER NOT NULL,"                                                                     \
    " trace_id BLOB NOT NULL,"                                                                     \
    " span_id BLOB NOT NULL,"                                                                      \
    " service INTEGER NOT NULL,"                                                                   \
    " name TEXT NOT NULL,"                                                                         \
    " provider TEXT NOT NULL,"                                                                     \
    " model TEXT NOT NULL,"                                                                        \
    " operation TEXT NOT NULL,"                                                                    \
    " start_ns INTEGER NOT NULL,"                                                                  \
    " duration_ns INTEGER NOT NULL,"                                                               \
    " input_tokens INTEGER NOT NULL,"                                                              \
    " output_tokens INTEGER NOT NULL,"                                                             \
    " error INTEGER NOT NULL);"                                                                    \
    "CREATE INDEX genai_top_{N}_rank ON genai_top_{N}(minute, kind, value);"

const char seg_genai_ddl[] = SEG_GENAI;
/* A log segment's index of records by pattern, and its per-minute counts
 * per (pattern, severity level) with the first and last record time of
 * each (format 4: logpattern.h, store_patterns.c). */
#define SEG_LOG_PATTERNS                                                                           \
    "CREATE INDEX logs_{N}_pattern ON logs_{N}(pattern, time_ns);"                                 \
    "CREATE TABLE pattern_counts_{N}("                                                             \
    " pattern INTEGER NOT NULL,"                                                                   \
    " minute INTEGER NOT NULL,"                                                                    \
    " level INTEGER NOT NULL,"                                                                     \
    " count INTEGER NOT NULL,"                                                                     \
    " first_ns INTEGER NOT NULL,"                                                                  \
    " last_ns INTEGER NOT NULL,"                                                                   \
    " PRIMARY KEY(pattern, minute, level)) WITHOUT ROWID;"

static const char *const seg_ddl[MODEL_SIGNAL_COUNT] = {
    [MODEL_SIGNAL_TRACES] =
        "CREATE TABLE traces_{N}("
        " id INTEGER PRIMARY KEY,"
        " trace_id BLOB NOT NULL UNIQUE,"
        " start_ns INTEGER NOT NULL,"
        " end_ns INTEGER NOT NULL,"
        " span_count INTEGER NOT NULL,"
        " error_count INTEGER NOT NULL,"
        " has_root INTEGER NOT NULL,"
        " root_service INTEGER NOT NULL,"
        " root_name TEXT NOT NULL,"
        " root_span_id BLOB NOT NULL);"
        "CREATE INDEX traces_{N}_start ON traces_{N}(start_ns);"
        "CREATE INDEX traces_{N}_error ON traces_{N}(start_ns) WHERE error_count>0;"
        "CREATE TABLE trace_services_{N}("
        " service INTEGER NOT NULL,"
        " trace INTEGER NOT NULL,"
        " span_count INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY(service, trace)) WITHOUT ROWID;"
        "CREATE INDEX trace_services_{N}_trace ON trace_services_{N}(trace);"
        "CREATE TABLE spans_{N}("
        " id INTEGER PRIMARY KEY,"
        " trace INTEGER NOT NULL,"
        " span_id BLOB NOT NULL,"
        " parent_span_id BLOB,"
        " start_ns INTEGER NOT NULL,"
        " end_ns INTEGER NOT NULL,"
        " service INTEGER NOT NULL,"
        " name TEXT NOT NULL,"
        " kind INTEGER NOT NULL,"
        " status_code INTEGER NOT NULL,"
        " status_message TEXT NOT NULL,"
        " trace_state TEXT NOT NULL,"
        " flags INTEGER NOT NULL,"
        " resource INTEGER NOT NULL,"
        " scope INTEGER NOT NULL,"
        " dropped_attrs INTEGER NOT NULL,"
        " dropped_events INTEGER NOT NULL,"
        " dropped_links INTEGER NOT NULL,"
        " attrs TEXT NOT NULL,"
        " events TEXT NOT NULL,"
        " links TEXT NOT NULL);"
        "CREATE INDEX spans_{N}_trace ON spans_{N}(trace, start_ns);" SEG_ATTR_FTS(
            "span_attr_fts_{N}") SEG_COUNTS SEG_TRACE_ROLLUPS SEG_GENAI SEG_LINT,
    [MODEL_SIGNAL_LOGS] =
        "CREATE TABLE logs_{N}("
        " id INTEGER PRIMARY KEY,"
        " time_ns INTEGER NOT NULL,"
        " observed_ns INTEGER NOT NULL,"
        " service INTEGER NOT NULL,"
        " severity INTEGER NOT NULL,"
        " severity_text TEXT NOT NULL,"
        " trace_id BLOB,"
        " span_id BLOB,"
        " flags INTEGER NOT NULL,"
        " event_name TEXT NOT NULL,"
        " resource INTEGER NOT NULL,"
        " scope INTEGER NOT NULL,"
        " dropped_attrs INTEGER NOT NULL,"
        " body TEXT NOT NULL,"
        " attrs TEXT NOT NULL,"
        " pattern INTEGER);"
        "CREATE INDEX logs_{N}_time ON logs_{N}(time_ns);"
        "CREATE INDEX logs_{N}_service_time ON logs_{N}(service, time_ns);"
        "CREATE INDEX logs_{N}_trace ON logs_{N}(trace_id) WHERE trace_id IS NOT NULL;"
        "CREATE VIRTUAL TABLE logs_fts_{N} USING fts5(body, content='',"
        " tokenize='unicode61 remove_diacritics 2');" SEG_ATTR_FTS("log_attr_fts_{N}") SEG_COUNTS
            SEG_LOG_PATTERNS SEG_LINT,
    /* value has no declared type, so it keeps INTEGER or REAL as bound */
    [MODEL_SIGNAL_METRICS] = "CREATE TABLE points_{N}("
                             " id INTEGER PRIMARY KEY,"
                             " series INTEGER NOT NULL,"
                             " start_ns INTEGER NOT NULL,"
                             " time_ns INTEGER NOT NULL,"
                             " value,"
                             " is_int INTEGER NOT NULL,"
                             " flags INTEGER NOT NULL,"
                             " data TEXT,"
                             " exemplars TEXT);"
                             "CREATE INDEX points_{N}_series_time ON points_{N}(series, time_ns);"
        SEG_COUNTS SEG_LINT,
};

static const char *const seg_tables_traces[] = {
    "traces_{N}", "trace_services_{N}", "spans_{N}",   "span_attr_fts_{N}",
    "counts_{N}", "ops_{N}",            "edges_{N}",   "clients_{N}",
    "genai_{N}",  "genai_top_{N}",      "lint_{N}",    NULL};
static const char *const seg_tables_logs[] = {"logs_{N}",   "logs_fts_{N}",       "log_attr_fts_{N}",
                                              "counts_{N}", "pattern_counts_{N}", "lint_{N}",
                                              NULL};
static const char *const seg_tables_metrics[] = {"points_{N}", "counts_{N}", "lint_{N}", NULL};

const char *const *seg_tables(model_signal sig) {
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        return seg_tables_traces;
    case MODEL_SIGNAL_LOGS:
        return seg_tables_logs;
    case MODEL_SIGNAL_METRICS:
        return seg_tables_metrics;
    }
    return NULL;
}

int seg_format(model_signal sig) {
    return sig == MODEL_SIGNAL_LOGS ? SEG_FORMAT_LOG_PATTERNS : SEG_FORMAT;
}

int seg_create(sqlite3 *db, model_signal sig, uint64_t now_ns, int64_t *id) {
    sqlite3_stmt *st = NULL;
    *id = 0;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO segments(signal, sealed, created_ns, items, bytes,"
                                " format) VALUES(?1, 0, ?2, 0, 0, ?3) RETURNING id",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, (int)sig);
        sqlite3_bind_int64(st, 2, now_ns > INT64_MAX ? INT64_MAX : (int64_t)now_ns);
        sqlite3_bind_int(st, 3, seg_format(sig));
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        if (rc == SQLITE_DONE)
            rc = *id > 0 ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = seg_exec(db, seg_ddl[sig], *id);
    return rc;
}

int seg_create_rollups(sqlite3 *db, model_signal sig, int64_t id) {
    return seg_exec(db,
                    sig == MODEL_SIGNAL_TRACES ? SEG_COUNTS SEG_TRACE_ROLLUPS SEG_GENAI : SEG_COUNTS,
                    id);
}

int seg_drop(sqlite3 *db, const seg_meta *m) {
    static const char *const counters[MODEL_SIGNAL_COUNT] = {
        [MODEL_SIGNAL_TRACES] =
            "UPDATE services SET span_count=max(span_count-ss.spans,0),"
            " error_count=max(error_count-ss.errors,0)"
            " FROM segment_services ss WHERE ss.segment={N} AND ss.service=services.id",
        [MODEL_SIGNAL_LOGS] = "UPDATE services SET log_count=max(log_count-ss.logs,0)"
                              " FROM segment_services ss"
                              " WHERE ss.segment={N} AND ss.service=services.id",
        [MODEL_SIGNAL_METRICS] = "UPDATE services SET point_count=max(point_count-ss.points,0)"
                                 " FROM segment_services ss"
                                 " WHERE ss.segment={N} AND ss.service=services.id",
    };
    const char *const *t = seg_tables(m->signal);
    if (t == NULL)
        return SQLITE_MISUSE;
    int rc = seg_exec(db, counters[m->signal], m->id);
    for (; rc == SQLITE_OK && *t != NULL; t++) {
        buf b;
        buf_init(&b, 4096);
        if (buf_append_str(&b, "DROP TABLE IF EXISTS ") != BUF_OK || seg_sql(&b, *t, m->id) ||
            buf_append(&b, "", 1) != BUF_OK)
            rc = SQLITE_NOMEM;
        else
            rc = sqlite3_exec(db, b.ptr, NULL, NULL, NULL);
        buf_free(&b);
    }
    if (rc == SQLITE_OK)
        rc = seg_exec(db,
                      "DELETE FROM segment_services WHERE segment={N};"
                      "DELETE FROM segments WHERE id={N};",
                      m->id);
    return rc;
}

/* ---- the manifest --------------------------------------------------------------- */

const char seg_save_sql[] = "UPDATE segments SET sealed=?2, items=?3, min_time_ns=?4,"
                            " max_time_ns=?5, age_time_ns=?6, bytes=?7 WHERE id=?1";

static void seg_bind_time(sqlite3_stmt *st, int idx, int64_t t) {
    if (t == SEG_NO_MIN || t == SEG_NO_MAX)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, t);
}

void seg_save_bind(sqlite3_stmt *st, const seg_meta *m) {
    sqlite3_bind_int64(st, 1, m->id);
    sqlite3_bind_int(st, 2, m->sealed);
    sqlite3_bind_int64(st, 3, m->items);
    seg_bind_time(st, 4, m->min_time);
    seg_bind_time(st, 5, m->max_time);
    seg_bind_time(st, 6, m->age_time);
    sqlite3_bind_int64(st, 7, m->bytes > INT64_MAX ? INT64_MAX : (int64_t)m->bytes);
}

static int64_t seg_col_time(sqlite3_stmt *st, int col, int64_t none) {
    return sqlite3_column_type(st, col) == SQLITE_NULL ? none : sqlite3_column_int64(st, col);
}

int seg_load(sqlite3 *db, seg_meta **out, size_t *n) {
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, signal, sealed, created_ns, items, min_time_ns,"
                                " max_time_ns, age_time_ns, bytes, format FROM segments"
                                " ORDER BY id",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int sig = sqlite3_column_int(st, 1);
        if (sig < 0 || sig >= MODEL_SIGNAL_COUNT) {
            rc = SQLITE_CORRUPT;
            break;
        }
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            seg_meta *m = realloc(*out, nc * sizeof(*m));
            if (m == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = m;
            cap = nc;
        }
        seg_meta *m = &(*out)[(*n)++];
        m->id = sqlite3_column_int64(st, 0);
        m->signal = (model_signal)sig;
        m->sealed = sqlite3_column_int(st, 2);
        m->created_ns = (uint64_t)sqlite3_column_int64(st, 3);
        m->items = sqlite3_column_int64(st, 4);
        m->min_time = seg_col_time(st, 5, SEG_NO_MIN);
        m->max_time = seg_col_time(st, 6, SEG_NO_MAX);
        m->age_time = seg_col_time(st, 7, SEG_NO_MAX);
        m->bytes = (uint64_t)sqlite3_column_int64(st, 8);
        m->format = sqlite3_column_int(st, 9);
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- bloom filters ---------------------------------------------------------------- */

/* 14 bits per trace id and 10 probes: about 0.1% false positives. */
#define SEG_BLOOM_BITS_PER_KEY 14
#define SEG_BLOOM_PROBES 10

/* Trace ids are random, so two halves of the id are two independent
 * hashes (double hashing: h1 + i*h2). */
static void seg_bloom_hashes(const uint8_t id[16], uint64_t *h1, uint64_t *h2) {
    memcpy(h1, id, 8);
    memcpy(h2, id + 8, 8);
    *h2 |= 1;
}

static void seg_bloom_add(seg_bloom *b, const uint8_t id[16]) {
    uint64_t h1, h2;
    seg_bloom_hashes(id, &h1, &h2);
    for (int i = 0; i < SEG_BLOOM_PROBES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) % b->nbits;
        b->bits[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
}

int seg_bloom_has(const seg_bloom *b, const uint8_t trace_id[16]) {
    if (b == NULL || b->bits == NULL || b->nbits == 0)
        return 1;
    uint64_t h1, h2;
    seg_bloom_hashes(trace_id, &h1, &h2);
    for (int i = 0; i < SEG_BLOOM_PROBES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) % b->nbits;
        if (!(b->bits[bit / 64] & ((uint64_t)1 << (bit % 64))))
            return 0;
    }
    return 1;
}

int seg_bloom_build(sqlite3 *db, int64_t id, seg_bloom *b) {
    memset(b, 0, sizeof(*b));
    sqlite3_stmt *cnt = NULL, *st = NULL;
    int rc = seg_prepare(db, "SELECT count(*) FROM traces_{N}", id, &cnt);
    int64_t n = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(cnt)) == SQLITE_ROW) {
        n = sqlite3_column_int64(cnt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(cnt);
    if (rc != SQLITE_OK)
        return rc;
    uint64_t nbits = ((uint64_t)(n > 0 ? n : 1) * SEG_BLOOM_BITS_PER_KEY + 63) / 64 * 64;
    b->bits = calloc(nbits / 64, sizeof(uint64_t));
    if (b->bits == NULL)
        return SQLITE_NOMEM;
    b->nbits = nbits;
    rc = seg_prepare(db, "SELECT trace_id FROM traces_{N}", id, &st);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) == 16)
            seg_bloom_add(b, sqlite3_column_blob(st, 0));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK)
        seg_bloom_free(b);
    return rc;
}

const void *seg_bloom_blob(const seg_bloom *b, size_t *len) {
    *len = (size_t)(b->nbits / 8);
    return b->bits;
}

int seg_bloom_from(const void *blob, size_t len, seg_bloom *b) {
    memset(b, 0, sizeof(*b));
    if (blob == NULL || len == 0 || len % 8 != 0)
        return -1;
    b->bits = malloc(len);
    if (b->bits == NULL)
        return -1;
    memcpy(b->bits, blob, len);
    b->nbits = (uint64_t)len * 8;
    return 0;
}

void seg_bloom_free(seg_bloom *b) {
    if (b == NULL)
        return;
    free(b->bits);
    b->bits = NULL;
    b->nbits = 0;
}
