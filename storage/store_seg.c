/* store_seg.c - the segments as the writer sees them: the active one per
 * signal, roll-over, a trace's home segment, manifest rows kept with each
 * commit, drops; see store_internal.h and segment.h.
 *
 * DESIGN
 * Each signal's newest unsealed segment takes its new items. Before items
 * are written, store_seg_active() checks it: once it holds its target (a
 * tenth of the signal's limit, so that a full store keeps 90 to 100% of
 * it; also a time span with --max-age, and a byte size with --max-db-size)
 * it is sealed and a new segment is made, inside the writer's open
 * transaction. All of that, and the item counts, times and sizes of the
 * segments written to, is writer state that a ROLLBACK must undo too:
 * store_seg keeps the committed manifest fields beside the open
 * transaction's (saved / m); store_segs_flush() writes the changed rows
 * before COMMIT, store_segs_committed() and store_segs_rolled_back() settle
 * the two copies.
 *
 * A trace lives in one segment. A span of a trace already stored goes to
 * the segment that holds it, sealed or not: store_seg_find_trace() probes
 * the active segment's traces, then each sealed trace segment whose bloom
 * filter may hold the id (made when it was sealed; trace ids never join a
 * sealed segment, only spans of its traces), newest first. So a dropped
 * segment takes its traces whole.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "schema.h"
#include "store_internal.h"

#define STORE_SEG_PARTS 10                    /* segments per limit */
#define STORE_SEG_FUTURE_NS 300000000000ULL   /* see store_age_time */
#define STORE_SEG_MIN_BYTES ((uint64_t)64 << 10)

/* The templates of the segment statements (segment.h: "{N}" is the id). */
static const char *const store_seg_sql[SST_COUNT] = {
    [SST_TRACE_FIND] = "SELECT id FROM traces_{N} WHERE trace_id=?1",
    /* In DO UPDATE every column on the right-hand side is the old value. */
    [SST_TRACE_UPSERT] =
        "INSERT INTO traces_{N}(trace_id, start_ns, end_ns, span_count, error_count, has_root,"
        " root_service, root_name, root_span_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
        " ON CONFLICT(trace_id) DO UPDATE SET"
        " start_ns=min(start_ns, excluded.start_ns),"
        " end_ns=max(end_ns, excluded.end_ns),"
        " span_count=span_count+excluded.span_count,"
        " error_count=error_count+excluded.error_count,"
        " root_service=CASE WHEN has_root THEN root_service"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_service"
        "  ELSE root_service END,"
        " root_name=CASE WHEN has_root THEN root_name"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_name"
        "  ELSE root_name END,"
        " root_span_id=CASE WHEN has_root THEN root_span_id"
        "  WHEN excluded.has_root OR excluded.start_ns < start_ns THEN excluded.root_span_id"
        "  ELSE root_span_id END,"
        " has_root=has_root OR excluded.has_root"
        " RETURNING id",
    [SST_TRACE_SVC] = "INSERT INTO trace_services_{N}(service, trace, span_count)"
                      " VALUES(?1,?2,?3) ON CONFLICT(service, trace) DO UPDATE"
                      " SET span_count=span_count+excluded.span_count",
    [SST_SPAN_INSERT] =
        "INSERT INTO spans_{N}(trace, span_id, parent_span_id, start_ns, end_ns, service, name,"
        " kind, status_code, status_message, trace_state, flags, resource, scope, dropped_attrs,"
        " dropped_events, dropped_links, attrs, events, links)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
    [SST_SPAN_INDEX] = "INSERT INTO span_attr_fts_{N}(rowid, t) VALUES(?1, ?2)",
    [SST_LOG_INSERT] =
        "INSERT INTO logs_{N}(time_ns, observed_ns, service, severity, severity_text, trace_id,"
        " span_id, flags, event_name, resource, scope, dropped_attrs, body, attrs, pattern)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
    [SST_LOG_FTS] =
        "INSERT INTO logs_fts_{N}(rowid, body) VALUES(?1, " SCHEMA_LOG_FTS_TEXT("?2") ")",
    [SST_LOG_INDEX] = "INSERT INTO log_attr_fts_{N}(rowid, t) VALUES(?1, ?2)",
    [SST_POINT_INSERT] =
        "INSERT INTO points_{N}(series, start_ns, time_ns, value, is_int, flags, data,"
        " exemplars) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [SST_OPS_UPSERT] =
        "INSERT INTO ops_{N}(service, name, kind, root, minute, calls, errors, hist)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(service, name, kind, root, minute)"
        " DO UPDATE SET calls=calls+excluded.calls, errors=errors+excluded.errors,"
        " hist=loupe_hist_merge(hist, excluded.hist)",
    [SST_EDGE_UPSERT] =
        "INSERT INTO edges_{N}(service, child, minute, calls, errors, hist)"
        " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(service, child, minute)"
        " DO UPDATE SET calls=calls+excluded.calls, errors=errors+excluded.errors,"
        " hist=loupe_hist_merge(hist, excluded.hist)",
    [SST_CLIENT_UPSERT] =
        "INSERT INTO clients_{N}(service, peer, minute, calls, errors, matched, hist)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(service, peer, minute)"
        " DO UPDATE SET calls=calls+excluded.calls, errors=errors+excluded.errors,"
        " matched=matched+excluded.matched, hist=loupe_hist_merge(hist, excluded.hist)",
    [SST_COUNT_UPSERT] = "INSERT INTO counts_{N}(service, minute, items, errors) VALUES(?1,?2,?3,?4)"
                         " ON CONFLICT(service, minute) DO UPDATE"
                         " SET items=items+excluded.items, errors=errors+excluded.errors",
    /* ?9: count is a level (the larger wins); examples: up to five, the
     * stored ones first */
    [SST_LINT_UPSERT] =
        "INSERT INTO lint_{N}(rule, service, key, count, first_ns, last_ns, note, examples)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(rule, service, key) DO UPDATE SET"
        " count=CASE WHEN ?9 THEN max(count, excluded.count) ELSE count+excluded.count END,"
        " first_ns=min(first_ns, excluded.first_ns), last_ns=max(last_ns, excluded.last_ns),"
        " note=CASE WHEN excluded.note<>'' THEN excluded.note ELSE note END,"
        " examples=CASE WHEN json_array_length(examples)>=5 THEN examples ELSE"
        " (SELECT json_group_array(json(value)) FROM (SELECT value FROM json_each(examples)"
        " UNION ALL SELECT value FROM json_each(excluded.examples) LIMIT 5)) END",
    [SST_LINT_PARENT] = "SELECT 1 FROM spans_{N} WHERE trace=(SELECT id FROM traces_{N}"
                        " WHERE trace_id=?1) AND span_id=?2 LIMIT 1",
    [SST_GENAI_UPSERT] = store_genai_upsert_sql,
    [SST_GENAI_TOP_LAST] = store_genai_top_last_sql,
    [SST_GENAI_TOP_INSERT] = store_genai_top_insert_sql,
    [SST_GENAI_TOP_TRIM] = store_genai_top_trim_sql,
    [SST_PATTERN_COUNT] =
        "INSERT INTO pattern_counts_{N}(pattern, minute, level, count, first_ns, last_ns)"
        " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(pattern, minute, level) DO UPDATE"
        " SET count=count+excluded.count, first_ns=min(first_ns, excluded.first_ns),"
        " last_ns=max(last_ns, excluded.last_ns)",
};

/* ---- test hook -------------------------------------------------------------- */

#ifdef LOUPE_TESTING
/* LOUPE_TEST_SEGMENT_PAUSE="WHERE:MS" (test builds only; WHERE is
 * "rollover" or "drop"): the writer says where it is and sleeps MS inside
 * each roll-over (after the new segment's DDL, before COMMIT) or each drop
 * (after the DROPs, before COMMIT), so that a test can kill it in that
 * window. Read at each pause. */
static void store_seg_test_pause(const char *where, int64_t id) {
    const char *v = getenv("LOUPE_TEST_SEGMENT_PAUSE");
    size_t n = strlen(where);
    if (v == NULL || strncmp(v, where, n) != 0 || v[n] != ':')
        return;
    long ms = strtol(v + n + 1, NULL, 10);
    if (ms <= 0 || ms > 60000)
        return;
    log_event(LOG_WARN, "store_test_pause", "where=%s segment=%" PRId64 " ms=%ld", where, id, ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
#else
#define store_seg_test_pause(where, id) ((void)(where), (void)(id))
#endif

int64_t store_age_time(uint64_t t, uint64_t now) {
    if (t > now + STORE_SEG_FUTURE_NS)
        t = now;
    return store_i64(t);
}

/* ---- the list of segments ------------------------------------------------------ */

static void store_seg_free(store_seg *g) {
    if (g == NULL)
        return;
    for (int i = 0; i < SST_COUNT; i++)
        sqlite3_finalize(g->st[i]);
    seg_bloom_free(&g->bloom);
    free(g);
}

void store_segs_free(store_writer *w) {
    for (size_t i = 0; i < w->n_segs; i++)
        store_seg_free(w->segs[i]);
    free(w->segs);
    w->segs = NULL;
    w->n_segs = w->segs_cap = 0;
    memset(w->active, 0, sizeof(w->active));
}

/* Appends g (its id is larger than any listed). */
static int store_segs_push(store_writer *w, store_seg *g) {
    if (w->n_segs == w->segs_cap) {
        size_t cap = w->segs_cap ? 2 * w->segs_cap : 16;
        store_seg **n = realloc(w->segs, cap * sizeof(*n));
        if (n == NULL)
            return SQLITE_NOMEM;
        w->segs = n;
        w->segs_cap = cap;
    }
    assert(w->n_segs == 0 || w->segs[w->n_segs - 1]->m.id < g->m.id);
    w->segs[w->n_segs++] = g;
    return SQLITE_OK;
}

static void store_segs_remove(store_writer *w, store_seg *g) {
    for (size_t i = 0; i < w->n_segs; i++) {
        if (w->segs[i] == g) {
            memmove(&w->segs[i], &w->segs[i + 1], (w->n_segs - i - 1) * sizeof(*w->segs));
            w->n_segs--;
            break;
        }
    }
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++)
        if (w->active[sig] == g)
            w->active[sig] = NULL;
    store_seg_free(g);
}

/* The newest unsealed segment of each signal. */
static void store_segs_find_active(store_writer *w) {
    memset(w->active, 0, sizeof(w->active));
    for (size_t i = 0; i < w->n_segs; i++)
        if (!w->segs[i]->m.sealed)
            w->active[w->segs[i]->m.signal] = w->segs[i];
}

uint64_t store_segs_items(const store_writer *w, model_signal sig) {
    uint64_t n = 0;
    for (size_t i = 0; i < w->n_segs; i++)
        if (w->segs[i]->m.signal == sig)
            n += (uint64_t)w->segs[i]->m.items;
    return n;
}

/* ---- loading -------------------------------------------------------------------- */

/* The bloom filter of a sealed trace segment: the manifest's, or made now
 * and saved (a segment adopted from schema 2 has none). */
static int store_seg_load_bloom(store_writer *w, store_seg *g) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(w->db, "SELECT bloom FROM segments WHERE id=?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, g->m.id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            seg_bloom_from(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                           &g->bloom);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK || g->bloom.bits != NULL)
        return rc;
    rc = seg_bloom_build(w->db, g->m.id, &g->bloom);
    if (rc != SQLITE_OK)
        return rc;
    size_t len;
    const void *blob = seg_bloom_blob(&g->bloom, &len);
    rc = sqlite3_prepare_v2(w->db, "UPDATE segments SET bloom=?2 WHERE id=?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, g->m.id);
        sqlite3_bind_blob(st, 2, blob, (int)len, SQLITE_STATIC);
        rc = store_run(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Segment sizes from the limits: a tenth of each count limit, a tenth of
 * --max-age, a sixteenth of --max-db-size. */
static void store_segs_size(store *s) {
    store_writer *w = &s->w;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        uint64_t t = s->max_items[sig] / STORE_SEG_PARTS;
        if (t < 1)
            t = 1;
        if (t > (uint64_t)SEG_ROWS_MAX / 2)
            t = (uint64_t)SEG_ROWS_MAX / 2;
        w->seg_target[sig] = (int64_t)t;
    }
    w->seg_max_span_ns = s->max_age_ns / STORE_SEG_PARTS;
    w->seg_max_bytes = s->max_db_bytes / 16;
    if (s->max_db_bytes && w->seg_max_bytes < STORE_SEG_MIN_BYTES)
        w->seg_max_bytes = STORE_SEG_MIN_BYTES;
}

int store_segs_load(store *s) {
    store_writer *w = &s->w;
    store_segs_size(s);
    seg_meta *m = NULL;
    size_t n = 0;
    int rc = seg_load(w->db, &m, &n);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        store_seg *g = calloc(1, sizeof(*g));
        if (g == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        g->m = g->saved = m[i];
        rc = store_segs_push(w, g);
        if (rc != SQLITE_OK) {
            store_seg_free(g);
            break;
        }
        if (g->m.sealed && g->m.signal == MODEL_SIGNAL_TRACES)
            rc = store_seg_load_bloom(w, g);
    }
    free(m);
    if (rc == SQLITE_OK)
        store_segs_find_active(w);
    return rc;
}

store_seg *store_seg_by_id(store_writer *w, int64_t id) {
    for (size_t i = w->n_segs; i-- > 0;)
        if (w->segs[i]->m.id == id)
            return w->segs[i]->dropped_now ? NULL : w->segs[i];
    return NULL;
}

/* ---- statements ------------------------------------------------------------------- */

sqlite3_stmt *store_seg_stmt(store_writer *w, store_seg *g, int which, int *rc) {
    assert(which >= 0 && which < SST_COUNT);
    if (g->st[which] == NULL) {
        *rc = seg_prepare(w->db, store_seg_sql[which], g->m.id, &g->st[which]);
        if (*rc != SQLITE_OK)
            return NULL;
    }
    return g->st[which];
}

/* ---- roll-over ----------------------------------------------------------------------- */

/* 1 when the active segment g should take no new item (trace, log record,
 * point) any more. */
static int store_seg_full(const store_writer *w, const store_seg *g, uint64_t now) {
    if (g->m.format < seg_format(g->m.signal))
        return 1; /* made by an older loupe: its tables lack what new items fill */
    if (g->m.items >= w->seg_target[g->m.signal])
        return 1;
    if (g->m.items > 0 && w->seg_max_bytes && g->m.bytes >= w->seg_max_bytes)
        return 1;
    if (g->m.items > 0 && w->seg_max_span_ns && now > g->m.created_ns &&
        now - g->m.created_ns >= w->seg_max_span_ns)
        return 1;
    return 0;
}

/* Seals g in the open transaction; a trace segment gets its bloom filter. */
static int store_seg_seal(store_writer *w, store_seg *g) {
    assert(!g->m.sealed);
    if (g->m.signal == MODEL_SIGNAL_TRACES) {
        int rc = seg_bloom_build(w->db, g->m.id, &g->bloom);
        if (rc != SQLITE_OK)
            return rc;
    }
    g->m.sealed = 1;
    g->sealed_now = 1;
    g->dirty = 1;
    if (w->active[g->m.signal] == g)
        w->active[g->m.signal] = NULL;
    return SQLITE_OK;
}

/* A new segment of sig in the open transaction, made the active one. */
static store_seg *store_seg_new(store *s, model_signal sig, int *rc) {
    store_writer *w = &s->w;
    store_seg *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        *rc = SQLITE_NOMEM;
        return NULL;
    }
    uint64_t now = store_now_ns();
    *rc = seg_create(w->db, sig, now, &g->m.id);
    if (*rc == SQLITE_OK && g->m.id >= SEG_ROWS_MAX / 2)
        *rc = SQLITE_FULL; /* ids of 2^31 segments: not reachable in practice */
    if (*rc == SQLITE_OK)
        *rc = store_segs_push(w, g);
    if (*rc != SQLITE_OK) {
        store_seg_free(g);
        return NULL;
    }
    g->m.signal = sig;
    g->m.format = seg_format(sig);
    g->m.created_ns = now;
    g->m.min_time = SEG_NO_MIN;
    g->m.max_time = g->m.age_time = SEG_NO_MAX;
    g->saved = g->m;
    g->fresh = 1;
    w->active[sig] = g;
    log_event(LOG_DEBUG, "store_segment_new", "signal=%s segment=%" PRId64,
              model_signal_name(sig), g->m.id);
    return g;
}

store_seg *store_seg_active(store *s, model_signal sig, int *rc) {
    store_writer *w = &s->w;
    store_seg *g = w->active[sig];
    *rc = SQLITE_OK;
    if (g != NULL && !store_seg_full(w, g, store_now_ns()))
        return g;
    if (g != NULL && (*rc = store_seg_seal(w, g)) != SQLITE_OK)
        return NULL;
    store_seg *n = store_seg_new(s, sig, rc);
    if (n != NULL && g != NULL)
        store_seg_test_pause("rollover", n->m.id); /* one sealed, the next made */
    return n;
}

/* ---- a trace's home ----------------------------------------------------------------------- */

static int store_seg_probe(store_writer *w, store_seg *g, const uint8_t trace_id[16],
                           int64_t *row) {
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_TRACE_FIND, &rc);
    if (st == NULL)
        return rc;
    *row = 0;
    sqlite3_bind_blob(st, 1, trace_id, 16, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int store_seg_find_trace(store_writer *w, const uint8_t trace_id[16], store_seg **home,
                         int64_t *row) {
    *home = NULL;
    *row = 0;
    store_seg *a = w->active[MODEL_SIGNAL_TRACES];
    if (a != NULL) {
        int rc = store_seg_probe(w, a, trace_id, row);
        if (rc != SQLITE_OK)
            return rc;
        if (*row) {
            *home = a;
            return SQLITE_OK;
        }
    }
    for (size_t i = w->n_segs; i-- > 0;) {
        store_seg *g = w->segs[i];
        if (g == a || g->m.signal != MODEL_SIGNAL_TRACES || !g->m.sealed ||
            !seg_bloom_has(&g->bloom, trace_id))
            continue;
        int rc = store_seg_probe(w, g, trace_id, row);
        if (rc != SQLITE_OK)
            return rc;
        if (*row) {
            *home = g;
            return SQLITE_OK;
        }
    }
    return SQLITE_OK;
}

/* ---- accounting and the transaction ------------------------------------------------------ */

void store_seg_add(store_seg *g, int64_t items, int64_t tmin, int64_t tmax, int64_t tage,
                   uint64_t bytes) {
    g->m.items += items;
    if (tmin < g->m.min_time)
        g->m.min_time = tmin;
    if (tmax > g->m.max_time)
        g->m.max_time = tmax;
    if (tage > g->m.age_time)
        g->m.age_time = tage;
    g->m.bytes += bytes;
    g->dirty = 1;
}

int store_segs_flush(store_writer *w) {
    sqlite3_stmt *st = w->st[ST_SEG_SAVE], *bl = w->st[ST_SEG_BLOOM];
    for (size_t i = 0; i < w->n_segs; i++) {
        store_seg *g = w->segs[i];
        if (!g->dirty || g->dropped_now)
            continue;
        seg_save_bind(st, &g->m);
        int rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
        if (g->sealed_now && g->bloom.bits != NULL) {
            size_t len;
            const void *blob = seg_bloom_blob(&g->bloom, &len);
            sqlite3_bind_int64(bl, 1, g->m.id);
            sqlite3_bind_blob(bl, 2, blob, (int)len, SQLITE_STATIC);
            rc = store_run(bl);
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    return SQLITE_OK;
}

void store_segs_committed(store_writer *w) {
    for (size_t i = w->n_segs; i-- > 0;) {
        store_seg *g = w->segs[i];
        if (g->dropped_now) {
            store_segs_remove(w, g);
            continue;
        }
        g->saved = g->m;
        g->fresh = g->dirty = g->sealed_now = 0;
    }
}

void store_segs_rolled_back(store_writer *w) {
    for (size_t i = w->n_segs; i-- > 0;) {
        store_seg *g = w->segs[i];
        if (g->fresh) {
            store_segs_remove(w, g);
            continue;
        }
        if (g->sealed_now)
            seg_bloom_free(&g->bloom);
        g->m = g->saved;
        g->dirty = g->sealed_now = g->dropped_now = 0;
    }
    store_segs_find_active(w);
}

/* ---- drops ------------------------------------------------------------------------------ */

int store_seg_drop(store *s, store_seg *g, const char *why) {
    store_writer *w = &s->w;
    assert(!g->dirty && !g->fresh); /* outside the writer's transactions */
    for (int i = 0; i < SST_COUNT; i++) { /* nothing may hold its tables */
        sqlite3_finalize(g->st[i]);
        g->st[i] = NULL;
    }
    int rc = store_run(w->st[ST_BEGIN]);
    if (rc != SQLITE_OK)
        return rc;
    rc = seg_drop(w->db, &g->m);
    if (rc == SQLITE_OK)
        store_seg_test_pause("drop", g->m.id);
    if (rc == SQLITE_OK)
        rc = store_run(w->st[ST_COMMIT]);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(w->db))
            store_run(w->st[ST_ROLLBACK]);
        return rc;
    }
    model_signal sig = g->m.signal;
    int64_t items = g->m.items, id = g->m.id;
    atomic_fetch_add(&s->evicted[sig], (uint64_t)items);
    store_segs_remove(w, g);
    log_event(LOG_DEBUG, "store_evicted", "signal=%s segment=%" PRId64 " items=%" PRId64 " why=%s",
              model_signal_name(sig), id, items, why);
    return SQLITE_OK;
}
