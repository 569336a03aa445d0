/* store_rows.c - the writer's statements and the rows it writes: spans,
 * logs and points, see store_internal.h.
 *
 * DESIGN
 * Traces get a small integer row id on first sight; a batch's spans are
 * aggregated per trace first, so each trace costs one upsert per batch, and
 * the upsert keeps the root span's service and name (the span without a
 * parent; the earliest span until it arrives). Per-service counters are
 * updated once per batch (and decremented by retention), in the same
 * transaction as the rows they count, so they always describe what is
 * stored. Resources, scopes and series are found through store_ids.c.
 *
 * Times are unix nanoseconds in SQLite INTEGER columns; a time beyond
 * INT64_MAX (year 2262) is stored as INT64_MAX (store_i64).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "store_internal.h"

/* ---- the writer's statements ------------------------------------------- */

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SVC_INSERT] = "INSERT INTO services(name) VALUES(?1) ON CONFLICT(name) DO NOTHING",
    [ST_SVC_SELECT] = "SELECT id FROM services WHERE name=?1",
    [ST_SVC_UPDATE] = "UPDATE services SET span_count=span_count+?2, error_count=error_count+?3,"
                      " log_count=log_count+?4, point_count=point_count+?5,"
                      " last_seen_ns=max(last_seen_ns, ?6) WHERE id=?1",
    [ST_RES_SELECT] = "SELECT id, service FROM resources WHERE hash=?1",
    [ST_RES_INSERT] = "INSERT INTO resources(hash, service, instance, attrs, dropped_attrs,"
                      " schema_url) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_SCOPE_SELECT] = "SELECT id FROM scopes WHERE hash=?1",
    [ST_SCOPE_INSERT] = "INSERT INTO scopes(hash, name, version, attrs, dropped_attrs, schema_url)"
                        " VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_METRIC_UPSERT] =
        "INSERT INTO metrics(resource, scope, name, service, description, unit, type,"
        " temporality, monotonic, last_seen_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
        " ON CONFLICT(resource, scope, name) DO UPDATE SET"
        " description=excluded.description, unit=excluded.unit, type=excluded.type,"
        " temporality=excluded.temporality, monotonic=excluded.monotonic,"
        " last_seen_ns=max(last_seen_ns, excluded.last_seen_ns)"
        " RETURNING id",
    [ST_SERIES_SELECT] = "SELECT id FROM series WHERE metric=?1 AND hash=?2",
    [ST_SERIES_INSERT] = "INSERT INTO series(metric, hash, attrs) VALUES(?1,?2,?3)",
    [ST_SEGSVC_ADD] = "INSERT INTO segment_services(segment, service, spans, errors, logs, points)"
                      " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(segment, service) DO UPDATE SET"
                      " spans=spans+excluded.spans, errors=errors+excluded.errors,"
                      " logs=logs+excluded.logs, points=points+excluded.points",
    [ST_SEG_SAVE] = seg_save_sql,
    [ST_SEG_BLOOM] = "UPDATE segments SET bloom=?2 WHERE id=?1",
};

static void store_bind_txt(sqlite3_stmt *st, int idx, const char *base, const store_text *t) {
    if (t->len == 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, base + t->off, (int)t->len, SQLITE_STATIC);
}

/* Makes room for n items of per-batch scratch. */
static int store_writer_reserve(store_writer *w, size_t n) {
    if (n <= w->ids_cap)
        goto table;
    if (n > SIZE_MAX / (3 * sizeof(int64_t)) || n > UINT32_MAX / 4)
        return STORE_ENOMEM;
    int64_t *ids = realloc(w->ids, n * 3 * sizeof(*ids));
    if (ids == NULL)
        return STORE_ENOMEM;
    w->ids = ids;
    size_t *ia = realloc(w->item_acc, n * sizeof(*ia));
    if (ia == NULL)
        return STORE_ENOMEM;
    w->item_acc = ia;
    store_trace_acc *accs = realloc(w->accs, n * sizeof(*accs));
    if (accs == NULL)
        return STORE_ENOMEM;
    w->accs = accs;
    int64_t *ss = realloc(w->span_seg, n * sizeof(*ss));
    if (ss == NULL)
        return STORE_ENOMEM;
    w->span_seg = ss;
    w->ids_cap = n;
table:;
    size_t tc = 16;
    while (tc < 2 * n)
        tc *= 2;
    if (tc > w->table_cap) {
        uint32_t *t = realloc(w->table, tc * sizeof(*t));
        if (t == NULL)
            return STORE_ENOMEM;
        w->table = t;
        w->table_cap = tc;
    }
    return STORE_OK;
}

int store_rows_prepare(store_writer *w, int *which) {
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(w->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                                    NULL);
        if (rc != SQLITE_OK) {
            *which = i;
            return rc;
        }
    }
    return SQLITE_OK;
}

void store_rows_finalize(store_writer *w) {
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(w->st[i]);
        w->st[i] = NULL;
    }
}

/* ---- per-batch service counters and texts ------------------------------- */

/* The accumulator of (segment, service) for this batch. */
static store_svc_acc *store_svc_acc_get(store_writer *w, int64_t seg, int64_t sid) {
    for (size_t i = w->n_svcs; i-- > 0;)
        if (w->svcs[i].sid == sid && w->svcs[i].seg == seg)
            return &w->svcs[i];
    if (w->n_svcs == w->svcs_cap) {
        size_t cap = w->svcs_cap ? 2 * w->svcs_cap : 8;
        store_svc_acc *n = realloc(w->svcs, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        w->svcs = n;
        w->svcs_cap = cap;
    }
    store_svc_acc *a = &w->svcs[w->n_svcs++];
    memset(a, 0, sizeof(*a));
    a->seg = seg;
    a->sid = sid;
    return a;
}

/* The services' counters and the segments' per-service counts. */
static int store_svc_flush(store_writer *w) {
    sqlite3_stmt *st = w->st[ST_SVC_UPDATE], *ss = w->st[ST_SEGSVC_ADD];
    for (size_t i = 0; i < w->n_svcs; i++) {
        const store_svc_acc *a = &w->svcs[i];
        sqlite3_bind_int64(st, 1, a->sid);
        sqlite3_bind_int64(st, 2, a->spans);
        sqlite3_bind_int64(st, 3, a->errors);
        sqlite3_bind_int64(st, 4, a->logs);
        sqlite3_bind_int64(st, 5, a->points);
        sqlite3_bind_int64(st, 6, store_i64(a->last_seen));
        int rc = store_run(st);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(ss, 1, a->seg);
        sqlite3_bind_int64(ss, 2, a->sid);
        sqlite3_bind_int64(ss, 3, a->spans);
        sqlite3_bind_int64(ss, 4, a->errors);
        sqlite3_bind_int64(ss, 5, a->logs);
        sqlite3_bind_int64(ss, 6, a->points);
        rc = store_run(ss);
        if (rc != SQLITE_OK)
            return rc;
    }
    w->n_svcs = 0;
    return SQLITE_OK;
}

/* The texts of item i: from the batch's prep, or rendered now. */
static int store_texts(store_writer *w, const ring_entry *e, size_t i, const char **base,
                       const store_text **t) {
    const store_prep *p = e->prep;
    assert(i < model_batch_items(e->batch));
    if (p != NULL) {
        assert(p->job == NULL);
        *base = p->text.ptr;
        *t = &p->t[i * STORE_MAX_TEXTS];
        return SQLITE_OK;
    }
    buf_reset(&w->scratch);
    int rc = store_item_texts(e->batch, i, &w->scratch, w->tmp_t);
    if (rc != STORE_OK)
        return rc == STORE_ENOMEM ? SQLITE_NOMEM : SQLITE_TOOBIG;
    *base = w->scratch.ptr;
    *t = w->tmp_t;
    return SQLITE_OK;
}

/* The bytes of an item's texts (the segment size estimate). */
static uint64_t store_texts_bytes(const store_text *t) {
    uint64_t n = 0;
    for (int k = 0; k < STORE_MAX_TEXTS; k++)
        n += t[k].len;
    return n;
}

/* ---- spans --------------------------------------------------------------- */

static store_trace_acc *store_trace_acc_get(store_writer *w, const uint8_t *trace_id,
                                            size_t *index) {
    uint64_t a, b;
    memcpy(&a, trace_id, 8);
    memcpy(&b, trace_id + 8, 8);
    size_t mask = w->table_cap - 1;
    for (size_t i = (size_t)hash_mix64(a ^ b) & mask;; i = (i + 1) & mask) {
        uint32_t v = w->table[i];
        if (v == 0) {
            assert(w->n_accs < w->ids_cap); /* store_writer_reserve sized accs */
            size_t k = w->n_accs++;
            w->table[i] = (uint32_t)(k + 1);
            store_trace_acc *acc = &w->accs[k];
            memset(acc, 0, sizeof(*acc));
            acc->trace_id = trace_id;
            *index = k;
            return acc;
        }
        if (memcmp(w->accs[v - 1].trace_id, trace_id, 16) == 0) {
            *index = v - 1;
            return &w->accs[v - 1];
        }
    }
}

/* Step 1 of a spans batch: the owners of every span (w->ids), and what the
 * batch adds to each trace (w->accs, w->item_acc). */
static int store_spans_aggregate(store_writer *w, const model_batch *b) {
    store_owner_memo memo = {0};
    for (size_t i = 0; i < b->n_spans; i++) {
        const model_span *sp = &b->spans[i];
        int64_t *ids = &w->ids[3 * i];
        int rc = store_resolve_owner(w, &memo, sp->resource, sp->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        size_t k;
        store_trace_acc *acc = store_trace_acc_get(w, sp->trace_id, &k);
        w->item_acc[i] = k;
        if (acc->spans == 0) {
            acc->start = sp->start_ns;
            acc->end = sp->end_ns;
            acc->root = i;
            acc->has_root = !sp->has_parent;
        } else {
            if (sp->start_ns < acc->start)
                acc->start = sp->start_ns;
            if (sp->end_ns > acc->end)
                acc->end = sp->end_ns;
            if (!acc->has_root &&
                (!sp->has_parent || sp->start_ns < b->spans[acc->root].start_ns)) {
                acc->root = i;
                acc->has_root = !sp->has_parent;
            }
        }
        acc->spans++;
        acc->errors += sp->status_code == MODEL_STATUS_ERROR;
    }
    return SQLITE_OK;
}

/* The trace of acc upserted into segment g: acc->row. */
static int store_trace_upsert(store_writer *w, store_seg *g, store_trace_acc *acc,
                              const model_batch *b) {
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_TRACE_UPSERT, &rc);
    if (st == NULL)
        return rc;
    const model_span *root = &b->spans[acc->root];
    sqlite3_bind_blob(st, 1, acc->trace_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, store_i64(acc->start));
    sqlite3_bind_int64(st, 3, store_i64(acc->end));
    sqlite3_bind_int64(st, 4, acc->spans);
    sqlite3_bind_int64(st, 5, acc->errors);
    sqlite3_bind_int(st, 6, acc->has_root);
    sqlite3_bind_int64(st, 7, w->ids[3 * acc->root + 1]);
    store_bind_str(st, 8, root->name);
    sqlite3_bind_blob(st, 9, root->span_id, 8, SQLITE_STATIC);
    return store_run_id(st, &acc->row);
}

/* Step 2: each trace's home segment (the one that holds it already, else
 * the active one, which may roll over first), where it is upserted at once
 * (so that a segment sealed later in this batch knows its traces), and the
 * spans counted for that segment. */
static int store_spans_homes(store *s, const model_batch *b) {
    store_writer *w = &s->w;
    uint64_t now = store_now_ns();
    for (size_t k = 0; k < w->n_accs; k++) {
        store_trace_acc *acc = &w->accs[k];
        int64_t row;
        int rc = store_seg_find_trace(w, acc->trace_id, &acc->seg, &row);
        if (rc == SQLITE_OK && acc->seg == NULL)
            acc->seg = store_seg_active(s, MODEL_SIGNAL_TRACES, &rc);
        if (rc == SQLITE_OK)
            rc = store_trace_upsert(w, acc->seg, acc, b);
        if (rc != SQLITE_OK)
            return rc;
        store_seg_add(acc->seg, acc->spans, store_i64(acc->start), store_i64(acc->start),
                      store_age_time(acc->end, now), 0);
    }
    return SQLITE_OK;
}

/* One span's row and its attribute index entry, in segment g. */
static int store_span_insert(store_writer *w, store_seg *g, const model_span *sp,
                             const int64_t ids[3], int64_t trace_row, const char *base,
                             const store_text *t) {
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_SPAN_INSERT, &rc);
    sqlite3_stmt *ix = st ? store_seg_stmt(w, g, SST_SPAN_INDEX, &rc) : NULL;
    if (ix == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, trace_row);
    sqlite3_bind_blob(st, 2, sp->span_id, 8, SQLITE_STATIC);
    if (sp->has_parent)
        sqlite3_bind_blob(st, 3, sp->parent_span_id, 8, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, store_i64(sp->start_ns));
    sqlite3_bind_int64(st, 5, store_i64(sp->end_ns));
    sqlite3_bind_int64(st, 6, ids[1]);
    store_bind_str(st, 7, sp->name);
    sqlite3_bind_int(st, 8, (int)sp->kind);
    sqlite3_bind_int(st, 9, (int)sp->status_code);
    store_bind_str(st, 10, sp->status_message);
    store_bind_str(st, 11, sp->trace_state);
    sqlite3_bind_int64(st, 12, sp->flags);
    sqlite3_bind_int64(st, 13, ids[0]);
    sqlite3_bind_int64(st, 14, ids[2]);
    sqlite3_bind_int64(st, 15, sp->dropped_attrs);
    sqlite3_bind_int64(st, 16, sp->dropped_events);
    sqlite3_bind_int64(st, 17, sp->dropped_links);
    store_bind_txt(st, 18, base, &t[0]);
    store_bind_txt(st, 19, base, &t[1]);
    store_bind_txt(st, 20, base, &t[2]);
    rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(ix, 1, sqlite3_last_insert_rowid(w->db));
    store_bind_txt(ix, 2, base, &t[3]);
    return store_run(ix);
}

/* Adds `spans` spans of service sid to trace_services of the trace's
 * segment. */
static int store_trace_svc_add(store_writer *w, const store_trace_acc *acc, int64_t sid,
                               int64_t spans) {
    int rc = SQLITE_OK;
    sqlite3_stmt *ts = store_seg_stmt(w, acc->seg, SST_TRACE_SVC, &rc);
    if (ts == NULL)
        return rc;
    sqlite3_bind_int64(ts, 1, sid);
    sqlite3_bind_int64(ts, 2, acc->row);
    sqlite3_bind_int64(ts, 3, spans);
    return store_run(ts);
}

/* Counts a span of service sid for its trace: the first four services of
 * a trace in this batch are counted in acc (written by step 4), any
 * further one at once. */
static int store_trace_svc_count(store_writer *w, store_trace_acc *acc, int64_t sid) {
    int k = 0;
    while (k < acc->n_svc && acc->svc[k] != sid)
        k++;
    if (k < acc->n_svc) {
        acc->svc_spans[k]++;
        return SQLITE_OK;
    }
    if (k < (int)(sizeof(acc->svc) / sizeof(acc->svc[0]))) {
        acc->svc[k] = sid;
        acc->svc_spans[k] = 1;
        acc->n_svc++;
        return SQLITE_OK;
    }
    return store_trace_svc_add(w, acc, sid, 1);
}

/* Step 3: the spans, their index entries, their (service, trace) counts
 * and the (segment, service) counters. */
static int store_spans_insert(store_writer *w, const ring_entry *e) {
    const model_batch *b = e->batch;
    for (size_t i = 0; i < b->n_spans; i++) {
        const model_span *sp = &b->spans[i];
        const int64_t *ids = &w->ids[3 * i];
        store_trace_acc *acc = &w->accs[w->item_acc[i]];
        const char *base;
        const store_text *t;
        int rc = store_texts(w, e, i, &base, &t);
        if (rc == SQLITE_OK)
            rc = store_span_insert(w, acc->seg, sp, ids, acc->row, base, t);
        if (rc == SQLITE_OK)
            rc = store_trace_svc_count(w, acc, ids[1]);
        if (rc != SQLITE_OK)
            return rc;
        acc->seg->m.bytes += store_texts_bytes(t);
        w->span_seg[i] = acc->seg->m.id;
        rc = store_rollup_count(w->rollup, acc->seg->m.id, ids[1], sp->start_ns,
                                sp->status_code == MODEL_STATUS_ERROR);
        if (rc != SQLITE_OK)
            return rc;
        store_svc_acc *sa = store_svc_acc_get(w, acc->seg->m.id, ids[1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->spans++;
        sa->errors += sp->status_code == MODEL_STATUS_ERROR;
        uint64_t seen = sp->end_ns > sp->start_ns ? sp->end_ns : sp->start_ns;
        if (seen > sa->last_seen)
            sa->last_seen = seen;
    }
    return SQLITE_OK;
}

/* Step 4: the (service, trace) counts kept in the traces' accumulators. */
static int store_spans_trace_services(store_writer *w) {
    for (size_t a = 0; a < w->n_accs; a++) {
        const store_trace_acc *acc = &w->accs[a];
        for (int k = 0; k < acc->n_svc; k++) {
            int rc = store_trace_svc_add(w, acc, acc->svc[k], acc->svc_spans[k]);
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    return SQLITE_OK;
}

/* A batch of spans: aggregate, find each trace's segment and upsert it,
 * insert the spans, count them per (service, trace), the rollups
 * (store_rollup.c, store_genai.c) and the lint (which rides on the
 * rollup's joins of children to parents), then the service counters. */
static int store_write_spans(store *s, const ring_entry *e) {
    store_writer *w = &s->w;
    const model_batch *b = e->batch;
    if (store_writer_reserve(w, b->n_spans) != STORE_OK)
        return SQLITE_NOMEM;
    memset(w->table, 0, w->table_cap * sizeof(*w->table));
    w->n_accs = 0;
    w->n_svcs = 0;
    int rc = store_spans_aggregate(w, b);
    if (rc == SQLITE_OK)
        rc = store_spans_homes(s, b);
    if (rc == SQLITE_OK)
        rc = store_spans_insert(w, e);
    if (rc == SQLITE_OK)
        rc = store_spans_trace_services(w);
    if (rc == SQLITE_OK)
        rc = store_rollup_batch(w->rollup, b, w->ids, w->span_seg);
    if (rc == SQLITE_OK)
        rc = store_rollup_flush(s);
    if (rc == SQLITE_OK && w->lint != NULL) {
        store_lint_spans(w->lint, b, w->ids, w->span_seg);
        rc = store_lint_flush(s);
    }
    if (rc == SQLITE_OK)
        rc = store_genai_batch(s, b, w->ids, w->span_seg);
    if (rc == SQLITE_OK)
        rc = store_svc_flush(w);
    return rc;
}

/* ---- logs ---------------------------------------------------------------- */

/* One log record's row (time: its time, observed time or arrival), its
 * full-text and attribute index entries, in segment g. */
static int store_log_insert(store_writer *w, store_seg *g, const model_log *lg,
                            const int64_t ids[3], uint64_t time, const char *base,
                            const store_text *t) {
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_LOG_INSERT, &rc);
    sqlite3_stmt *fts = st ? store_seg_stmt(w, g, SST_LOG_FTS, &rc) : NULL;
    sqlite3_stmt *ix = fts ? store_seg_stmt(w, g, SST_LOG_INDEX, &rc) : NULL;
    if (ix == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, store_i64(time));
    sqlite3_bind_int64(st, 2, store_i64(lg->observed_time_ns));
    sqlite3_bind_int64(st, 3, ids[1]);
    sqlite3_bind_int(st, 4, lg->severity_number);
    store_bind_str(st, 5, lg->severity_text);
    if (lg->has_trace_id)
        sqlite3_bind_blob(st, 6, lg->trace_id, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    if (lg->has_span_id)
        sqlite3_bind_blob(st, 7, lg->span_id, 8, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, lg->flags);
    store_bind_str(st, 9, lg->event_name);
    sqlite3_bind_int64(st, 10, ids[0]);
    sqlite3_bind_int64(st, 11, ids[2]);
    sqlite3_bind_int64(st, 12, lg->dropped_attrs);
    store_bind_txt(st, 13, base, &t[0]);
    store_bind_txt(st, 14, base, &t[1]);
    if (lg->pattern_id > 0)
        sqlite3_bind_int64(st, 15, lg->pattern_id);
    else
        sqlite3_bind_null(st, 15);
    rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    int64_t row = sqlite3_last_insert_rowid(w->db);
    sqlite3_bind_int64(fts, 1, row);
    store_bind_txt(fts, 2, base, &t[0]);
    rc = store_run(fts);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(ix, 1, row);
    store_bind_txt(ix, 2, base, &t[2]);
    return store_run(ix);
}

/* A batch of logs: each record's row in the active segment, then the
 * service counters. */
static int store_write_logs(store *s, const ring_entry *e) {
    store_writer *w = &s->w;
    const model_batch *b = e->batch;
    store_owner_memo memo = {0};
    w->n_svcs = 0;
    uint64_t now = store_now_ns();
    for (size_t i = 0; i < b->n_logs; i++) {
        model_log *lg = &e->batch->logs[i];
        int64_t ids[3];
        int rc = store_resolve_owner(w, &memo, lg->resource, lg->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        const char *base;
        const store_text *t;
        rc = store_texts(w, e, i, &base, &t);
        if (rc != SQLITE_OK)
            return rc;
        uint64_t time = lg->time_ns ? lg->time_ns : lg->observed_time_ns;
        if (time == 0)
            time = now;
        store_seg *g = store_seg_active(s, MODEL_SIGNAL_LOGS, &rc);
        if (g == NULL)
            return rc;
        int64_t pattern = store_patterns_of(s, lg, time);
        rc = store_log_insert(w, g, lg, ids, time, base, t);
        if (rc == SQLITE_OK)
            rc = store_patterns_count(w, g->m.id, pattern, lg->severity_number, time);
        if (rc != SQLITE_OK)
            return rc;
        store_seg_add(g, 1, store_i64(time), store_i64(time), store_age_time(time, now),
                      store_texts_bytes(t));
        rc = store_rollup_count(w->rollup, g->m.id, ids[1], time, 0);
        if (rc != SQLITE_OK)
            return rc;
        if (w->lint != NULL)
            store_lint_log(w->lint, g->m.id, ids[1], lg, time);
        store_svc_acc *sa = store_svc_acc_get(w, g->m.id, ids[1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->logs++;
        if (time > sa->last_seen)
            sa->last_seen = time;
    }
    int rc = store_rollup_flush(s);
    if (rc == SQLITE_OK)
        rc = store_lint_flush(s);
    return rc == SQLITE_OK ? store_svc_flush(w) : rc;
}

/* ---- metrics --------------------------------------------------------------- */

/* Step 1 of a metrics batch: room for its metrics, and each metric's latest
 * point time (w->metric_last). Every point must belong to a metric of the
 * batch: SQLITE_MISUSE (an invalid batch) otherwise. */
static int store_metrics_prepare(store_writer *w, const model_batch *b) {
    size_t nm = b->n_metrics;
    if (nm > w->metric_cap) {
        if (nm > SIZE_MAX / (2 * sizeof(int64_t)))
            return SQLITE_NOMEM;
        int64_t *rows = realloc(w->metric_rows, nm * 2 * sizeof(*rows));
        if (rows == NULL)
            return SQLITE_NOMEM;
        w->metric_rows = rows;
        uint64_t *last = realloc(w->metric_last, nm * sizeof(*last));
        if (last == NULL)
            return SQLITE_NOMEM;
        w->metric_last = last;
        w->metric_cap = nm;
    }
    for (size_t m = 0; m < nm; m++)
        w->metric_last[m] = 0;
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        if (p->metric == NULL || p->metric < b->metrics || p->metric >= b->metrics + nm)
            return SQLITE_MISUSE;
        size_t m = (size_t)(p->metric - b->metrics);
        if (p->time_ns > w->metric_last[m])
            w->metric_last[m] = p->time_ns;
    }
    return SQLITE_OK;
}

/* Step 2: one upsert per metric, which fills w->metric_rows with (metric
 * row, service row) per metric. */
static int store_metrics_upsert(store_writer *w, const model_batch *b) {
    store_owner_memo memo = {0};
    sqlite3_stmt *st = w->st[ST_METRIC_UPSERT];
    for (size_t m = 0; m < b->n_metrics; m++) {
        const model_metric *mt = &b->metrics[m];
        int64_t ids[3];
        int rc = store_resolve_owner(w, &memo, mt->resource, mt->scope, ids);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(st, 1, ids[0]);
        sqlite3_bind_int64(st, 2, ids[2]);
        store_bind_str(st, 3, mt->name);
        sqlite3_bind_int64(st, 4, ids[1]);
        store_bind_str(st, 5, mt->description);
        store_bind_str(st, 6, mt->unit);
        sqlite3_bind_int(st, 7, (int)mt->type);
        sqlite3_bind_int(st, 8, (int)mt->temporality);
        sqlite3_bind_int(st, 9, mt->monotonic ? 1 : 0);
        sqlite3_bind_int64(st, 10, store_i64(w->metric_last[m]));
        rc = store_run_id(st, &w->metric_rows[2 * m]);
        if (rc != SQLITE_OK)
            return rc;
        w->metric_rows[2 * m + 1] = ids[1];
    }
    return SQLITE_OK;
}

/* One point's row, in series `series`, in segment g. */
static int store_point_insert(store_writer *w, store_seg *g, const model_point *p,
                              int64_t series, const char *base, const store_text *t) {
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_POINT_INSERT, &rc);
    if (st == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, series);
    sqlite3_bind_int64(st, 2, store_i64(p->start_time_ns));
    sqlite3_bind_int64(st, 3, store_i64(p->time_ns));
    model_metric_type type = p->metric->type;
    if (type != MODEL_METRIC_GAUGE && type != MODEL_METRIC_SUM)
        sqlite3_bind_null(st, 4);
    else if (p->is_int)
        sqlite3_bind_int64(st, 4, p->as_int);
    else
        sqlite3_bind_double(st, 4, p->as_double); /* NaN is stored as NULL */
    sqlite3_bind_int(st, 5, p->is_int ? 1 : 0);
    sqlite3_bind_int64(st, 6, p->flags);
    store_bind_txt(st, 7, base, &t[1]);
    store_bind_txt(st, 8, base, &t[2]);
    return store_run(st);
}

/* Step 3: the points, each in its series (found or made) in the active
 * segment, counted for their service. */
static int store_points_insert(store *s, const ring_entry *e) {
    store_writer *w = &s->w;
    const model_batch *b = e->batch;
    uint64_t now = store_now_ns();
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        size_t m = (size_t)(p->metric - b->metrics);
        const char *base;
        const store_text *t;
        int rc = store_texts(w, e, i, &base, &t);
        if (rc != SQLITE_OK)
            return rc;
        int64_t series = 0;
        int created = 0;
        rc = store_resolve_series(w, w->metric_rows[2 * m], base + t[0].off, t[0].len, &series,
                                  &created);
        if (rc != SQLITE_OK)
            return rc;
        store_seg *g = store_seg_active(s, MODEL_SIGNAL_METRICS, &rc);
        if (g == NULL)
            return rc;
        rc = store_point_insert(w, g, p, series, base, t);
        if (rc != SQLITE_OK)
            return rc;
        store_seg_add(g, 1, store_i64(p->time_ns), store_i64(p->time_ns),
                      store_age_time(p->time_ns, now), store_texts_bytes(t));
        rc = store_rollup_count(w->rollup, g->m.id, w->metric_rows[2 * m + 1], p->time_ns, 0);
        if (rc == SQLITE_OK && w->lint != NULL)
            rc = store_lint_point(w->lint, g->m.id, w->metric_rows[2 * m + 1],
                                  w->metric_rows[2 * m], p, created);
        if (rc != SQLITE_OK)
            return rc;
        store_svc_acc *sa = store_svc_acc_get(w, g->m.id, w->metric_rows[2 * m + 1]);
        if (sa == NULL)
            return SQLITE_NOMEM;
        sa->points++;
        if (p->time_ns > sa->last_seen)
            sa->last_seen = p->time_ns;
    }
    return SQLITE_OK;
}

/* A batch of metrics: check and size, upsert the metrics, insert the
 * points, then the service counters. */
static int store_write_metrics(store *s, const ring_entry *e) {
    store_writer *w = &s->w;
    w->n_svcs = 0;
    int rc = store_metrics_prepare(w, e->batch);
    if (rc == SQLITE_OK)
        rc = store_metrics_upsert(w, e->batch);
    if (rc == SQLITE_OK)
        rc = store_points_insert(s, e);
    if (rc == SQLITE_OK)
        rc = store_rollup_flush(s);
    if (rc == SQLITE_OK)
        rc = store_lint_flush(s);
    if (rc == SQLITE_OK)
        rc = store_svc_flush(w);
    return rc;
}

int store_write_batch(store *s, const ring_entry *e) {
    store_rollup_reset(s->w.rollup); /* what a failed batch summed is not kept */
    store_lint_reset(s->w.lint);
    switch (e->batch->signal) {
    case MODEL_SIGNAL_TRACES:
        return store_write_spans(s, e);
    case MODEL_SIGNAL_LOGS:
        return store_write_logs(s, e);
    case MODEL_SIGNAL_METRICS:
        return store_write_metrics(s, e);
    }
    return SQLITE_MISUSE;
}
