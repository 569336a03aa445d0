/* store_delete.c - store_delete(): removing one service's or every
 * service's spans, logs or points, see store.h.
 *
 * DESIGN
 * A delete is a job (store_job) queued into the ring in the prep of an
 * empty batch, so it runs on the writer in order with the batches around
 * it, in one transaction. Deleting a signal of every service drops all its
 * segments. Deleting one service's works through each segment: the rows,
 * their attribute and full-text index entries ('delete' commands), traces
 * left without spans; traces that keep spans of other services are
 * recomputed (times, counts, root); the segments' item counts and
 * per-service counts follow. A service left with nothing is reset to
 * "never seen". The writer's id caches are forgotten after it (deleted
 * series and metrics may come back).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/clk.h"
#include "util/log.h"
#include "schema.h"
#include "store_internal.h"

/* ---- on the writer thread ------------------------------------------------ */

int store_is_job(const ring_entry *e) {
    const store_prep *p = e->prep;
    return p != NULL && p->job != NULL;
}

/* Runs the segment template tmpl for segment id with ?1 = sid; *n (may be
 * NULL) gets sqlite3_changes(). */
static int store_del_exec(sqlite3 *db, const char *tmpl, int64_t id, int64_t sid, int64_t *n) {
    sqlite3_stmt *st = NULL;
    int rc = seg_prepare(db, tmpl, id, &st);
    if (rc == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) >= 1)
            sqlite3_bind_int64(st, 1, sid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
            rc = SQLITE_OK;
        if (rc == SQLITE_OK && n)
            *n = sqlite3_changes64(db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first integer column of the template's first row into *n. */
static int store_del_count(sqlite3 *db, const char *tmpl, int64_t id, int64_t sid, int64_t *n) {
    sqlite3_stmt *st = NULL;
    *n = 0;
    int rc = seg_prepare(db, tmpl, id, &st);
    if (rc == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) >= 1)
            sqlite3_bind_int64(st, 1, sid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *n = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Every statement of deleting service ?1's spans from segment {N}. */
static const char *const store_del_traces_one[] = {
    "CREATE TEMP TABLE IF NOT EXISTS del_traces(id INTEGER PRIMARY KEY)",
    "DELETE FROM temp.del_traces",
    "INSERT INTO temp.del_traces SELECT trace FROM trace_services_{N} WHERE service=?1",
    NULL, /* the attribute index entries: by the segment's format */
    NULL, /* the spans: counted */
    "DELETE FROM trace_services_{N} WHERE service=?1",
    NULL, /* the traces left without spans: counted */
    "UPDATE traces_{N} SET"
    " start_ns=(SELECT min(start_ns) FROM spans_{N} WHERE trace=traces_{N}.id),"
    " end_ns=(SELECT max(end_ns) FROM spans_{N} WHERE trace=traces_{N}.id),"
    " span_count=(SELECT count(*) FROM spans_{N} WHERE trace=traces_{N}.id),"
    " error_count=(SELECT count(*) FROM spans_{N} WHERE trace=traces_{N}.id"
    "  AND status_code=2),"
    " has_root=EXISTS(SELECT 1 FROM spans_{N} WHERE trace=traces_{N}.id"
    "  AND parent_span_id IS NULL),"
    " root_service=(SELECT service FROM spans_{N} WHERE trace=traces_{N}.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1),"
    " root_name=(SELECT name FROM spans_{N} WHERE trace=traces_{N}.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1),"
    " root_span_id=(SELECT span_id FROM spans_{N} WHERE trace=traces_{N}.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1)"
    " WHERE id IN (SELECT id FROM temp.del_traces)",
    "DELETE FROM temp.del_traces",
    /* the GenAI rollup is kept per service: its rows go with it */
    "DELETE FROM genai_{N} WHERE service=?1",
    "DELETE FROM genai_top_{N} WHERE service=?1",
};

/* The row id of service `name` into *sid (0 when unknown). */
static int store_delete_service_id(sqlite3 *db, const char *name, int64_t *sid) {
    sqlite3_stmt *st = NULL;
    *sid = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT id FROM services WHERE name=?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *sid = sqlite3_column_int64(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Trace segment g's time bounds from its traces as they are now: a trace
 * that lost its earliest spans starts later, maybe after every start the
 * manifest knew, and queries skip a segment by its bounds. */
static int store_delete_trace_bounds(store_writer *w, store_seg *g) {
    sqlite3_stmt *st = NULL;
    int rc = seg_prepare(w->db, "SELECT min(start_ns), max(start_ns) FROM traces_{N}", g->m.id,
                         &st);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
        g->m.min_time = empty ? SEG_NO_MIN : sqlite3_column_int64(st, 0);
        g->m.max_time = empty ? SEG_NO_MAX : sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Service sid's spans in trace segment g; the traces left without spans
 * go, those that keep spans of others are recomputed. */
static int store_delete_traces_in(store_writer *w, store_seg *g, int64_t sid,
                                  store_delete_result *r) {
    int rc = SQLITE_OK;
    int64_t spans = 0, traces = 0;
    size_t n = sizeof(store_del_traces_one) / sizeof(store_del_traces_one[0]);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        if (i == 4)
            rc = store_del_exec(w->db,
                                "DELETE FROM spans_{N} WHERE service=?1 AND trace IN"
                                " (SELECT id FROM temp.del_traces)",
                                g->m.id, sid, &spans);
        else if (i == 3)
            rc = store_del_exec(w->db,
                                g->m.format >= 3
                                    ? "INSERT INTO span_attr_fts_{N}(span_attr_fts_{N}, rowid, t)"
                                      " SELECT 'delete', s.id, loupe_attr_tokens(s.attrs, s.name,"
                                      " s.status_message, s.events) FROM temp.del_traces d"
                                      " JOIN spans_{N} s ON s.trace=d.id WHERE s.service=?1"
                                    : "INSERT INTO span_attr_fts_{N}(span_attr_fts_{N}, rowid, t)"
                                      " SELECT 'delete', s.id, loupe_attr_tokens(s.attrs, s.name)"
                                      " FROM temp.del_traces d JOIN spans_{N} s ON s.trace=d.id"
                                      " WHERE s.service=?1",
                                g->m.id, sid, NULL);
        else if (i == 6)
            rc = store_del_exec(w->db,
                                "DELETE FROM traces_{N} WHERE id IN"
                                " (SELECT id FROM temp.del_traces) AND NOT EXISTS"
                                " (SELECT 1 FROM spans_{N} WHERE trace=traces_{N}.id)",
                                g->m.id, sid, &traces);
        else
            rc = store_del_exec(w->db, store_del_traces_one[i], g->m.id, sid, NULL);
    }
    if (rc == SQLITE_OK && spans > 0)
        rc = store_delete_trace_bounds(w, g);
    if (rc == SQLITE_OK) {
        r->spans += (uint64_t)spans;
        r->traces += (uint64_t)traces;
        g->m.items -= spans;
        g->dirty = 1;
    }
    return rc;
}

/* The pattern counts of a log segment (format 4) around deleting service
 * ?1's records: the patterns they had are noted (0-2), then (3-4) those
 * patterns' counts are made again from the records left (a pattern may
 * hold records of other services: the global "other" one). */
static const char *const store_del_patterns[] = {
    "CREATE TEMP TABLE IF NOT EXISTS del_patterns(id INTEGER PRIMARY KEY)",
    "DELETE FROM temp.del_patterns",
    "INSERT OR IGNORE INTO temp.del_patterns SELECT pattern FROM logs_{N}"
    " WHERE service=?1 AND pattern IS NOT NULL",
    "DELETE FROM pattern_counts_{N} WHERE pattern IN (SELECT id FROM temp.del_patterns)",
    "INSERT INTO pattern_counts_{N}(pattern, minute, level, count, first_ns, last_ns)"
    " SELECT pattern, time_ns/60000000000,"
    " CASE WHEN severity BETWEEN 1 AND 24 THEN (severity+3)/4 ELSE 0 END, count(*),"
    " min(time_ns), max(time_ns) FROM logs_{N}"
    " WHERE pattern IN (SELECT id FROM temp.del_patterns) GROUP BY 1, 2, 3",
};

/* Service sid's log records in log segment g. */
static int store_delete_logs_in(store_writer *w, store_seg *g, int64_t sid,
                                store_delete_result *r) {
    static const char *const sql[] = {
        "INSERT INTO logs_fts_{N}(logs_fts_{N}, rowid, body) SELECT 'delete', id, "
        SCHEMA_LOG_FTS_TEXT("body") " FROM logs_{N} WHERE service=?1",
        "INSERT INTO log_attr_fts_{N}(log_attr_fts_{N}, rowid, t)"
        " SELECT 'delete', id, loupe_attr_tokens(attrs) FROM logs_{N} WHERE service=?1",
    };
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
        rc = store_del_exec(w->db, sql[i], g->m.id, sid, NULL);
    int patterns = g->m.format >= SEG_FORMAT_LOG_PATTERNS;
    for (size_t i = 0; patterns && rc == SQLITE_OK && i < 3; i++)
        rc = store_del_exec(w->db, store_del_patterns[i], g->m.id, sid, NULL);
    int64_t gone = 0;
    if (rc == SQLITE_OK)
        rc = store_del_exec(w->db, "DELETE FROM logs_{N} WHERE service=?1", g->m.id, sid, &gone);
    for (size_t i = 3; patterns && rc == SQLITE_OK && i < 5; i++)
        rc = store_del_exec(w->db, store_del_patterns[i], g->m.id, sid, NULL);
    if (rc == SQLITE_OK) {
        r->logs += (uint64_t)gone;
        g->m.items -= gone;
        g->dirty = 1;
    }
    return rc;
}

/* Service sid's points in metric segment g. */
static int store_delete_points_in(store_writer *w, store_seg *g, int64_t sid,
                                  store_delete_result *r) {
    int64_t gone = 0;
    int rc = store_del_exec(w->db,
                            "DELETE FROM points_{N} WHERE series IN (SELECT se.id FROM series se"
                            " JOIN metrics m ON m.id=se.metric WHERE m.service=?1)",
                            g->m.id, sid, &gone);
    if (rc == SQLITE_OK) {
        r->points += (uint64_t)gone;
        g->m.items -= gone;
        g->dirty = 1;
    }
    return rc;
}

/* Every segment of sig, in the open transaction: dropped whole (sid 0,
 * every service) or cut by one service. */
static int store_delete_signal(store_writer *w, model_signal sig, int64_t sid,
                               store_delete_result *r) {
    static const char *const reset[MODEL_SIGNAL_COUNT] = {
        [MODEL_SIGNAL_TRACES] = "UPDATE services SET span_count=0, error_count=0",
        [MODEL_SIGNAL_LOGS] = "UPDATE services SET log_count=0",
        [MODEL_SIGNAL_METRICS] = "UPDATE services SET point_count=0",
    };
    static const char *const reset_segsvc[MODEL_SIGNAL_COUNT] = {
        [MODEL_SIGNAL_TRACES] = "UPDATE segment_services SET spans=0, errors=0"
                                " WHERE segment={N} AND service=?1",
        [MODEL_SIGNAL_LOGS] = "UPDATE segment_services SET logs=0"
                              " WHERE segment={N} AND service=?1",
        [MODEL_SIGNAL_METRICS] = "UPDATE segment_services SET points=0"
                                 " WHERE segment={N} AND service=?1",
    };
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < w->n_segs; i++) {
        store_seg *g = w->segs[i];
        if (g->m.signal != sig || g->dropped_now)
            continue;
        if (sid == 0) {
            int64_t traces = 0;
            if (sig == MODEL_SIGNAL_TRACES)
                rc = store_del_count(w->db, "SELECT count(*) FROM traces_{N}", g->m.id, 0,
                                     &traces);
            if (rc == SQLITE_OK)
                rc = seg_drop(w->db, &g->m);
            if (rc != SQLITE_OK)
                break;
            g->dropped_now = 1;
            uint64_t *n = sig == MODEL_SIGNAL_TRACES ? &r->spans
                          : sig == MODEL_SIGNAL_LOGS ? &r->logs
                                                     : &r->points;
            *n += (uint64_t)g->m.items;
            r->traces += (uint64_t)traces;
            continue;
        }
        switch (sig) {
        case MODEL_SIGNAL_TRACES:
            rc = store_delete_traces_in(w, g, sid, r);
            break;
        case MODEL_SIGNAL_LOGS:
            rc = store_delete_logs_in(w, g, sid, r);
            break;
        case MODEL_SIGNAL_METRICS:
            rc = store_delete_points_in(w, g, sid, r);
            break;
        }
        if (rc == SQLITE_OK)
            rc = store_del_exec(w->db, reset_segsvc[sig], g->m.id, sid, NULL);
        /* the lint's findings about them, and so their examples, go too */
        if (rc == SQLITE_OK)
            rc = store_del_exec(w->db, "DELETE FROM lint_{N} WHERE service=?1", g->m.id, sid,
                                NULL);
    }
    if (rc != SQLITE_OK)
        return rc;
    if (sid == 0)
        return store_del_exec(w->db, reset[sig], 0, 0, NULL);
    buf b;
    buf_init(&b, 256);
    if (buf_append_str(&b, reset[sig]) != BUF_OK || buf_append_str(&b, " WHERE id=?1") != BUF_OK ||
        buf_append(&b, "", 1) != BUF_OK)
        rc = SQLITE_NOMEM;
    else
        rc = store_del_exec(w->db, b.ptr, 0, sid, NULL);
    buf_free(&b);
    return rc;
}

/* The series and metrics of service sid (0 = every service), after their
 * points. */
static int store_delete_metric_rows(sqlite3 *db, int64_t sid) {
    if (sid == 0) {
        int rc = store_del_exec(db, "DELETE FROM series", 0, 0, NULL);
        return rc == SQLITE_OK ? store_del_exec(db, "DELETE FROM metrics", 0, 0, NULL) : rc;
    }
    int rc = store_del_exec(db,
                            "DELETE FROM series WHERE metric IN"
                            " (SELECT id FROM metrics WHERE service=?1)",
                            0, sid, NULL);
    return rc == SQLITE_OK ? store_del_exec(db, "DELETE FROM metrics WHERE service=?1", 0, sid, NULL)
                           : rc;
}

/* Runs one delete job in one transaction; *r gets what it removed (zeros
 * when it failed). */
static int store_delete_run(store *s, const store_job *job, store_delete_result *r) {
    store_writer *w = &s->w;
    sqlite3 *db = w->db;
    int64_t sid = 0;
    memset(r, 0, sizeof(*r));
    if (job->service != NULL) {
        int rc = store_delete_service_id(db, job->service, &sid);
        if (rc != SQLITE_OK || sid == 0)
            return rc; /* an unknown service has nothing to delete */
    }
    int rc = store_run(w->st[ST_BEGIN]);
    if (rc != SQLITE_OK)
        return rc;
    if (job->signals & STORE_DELETE_TRACES)
        rc = store_delete_signal(w, MODEL_SIGNAL_TRACES, sid, r);
    if (rc == SQLITE_OK && (job->signals & STORE_DELETE_LOGS))
        rc = store_delete_signal(w, MODEL_SIGNAL_LOGS, sid, r);
    if (rc == SQLITE_OK && (job->signals & STORE_DELETE_METRICS)) {
        rc = store_delete_signal(w, MODEL_SIGNAL_METRICS, sid, r);
        if (rc == SQLITE_OK)
            rc = store_delete_metric_rows(db, sid);
    }
    /* a service with nothing stored is as if never seen */
    if (rc == SQLITE_OK)
        rc = store_del_exec(db,
                            "UPDATE services SET last_seen_ns=0 WHERE span_count=0"
                            " AND log_count=0 AND point_count=0",
                            0, 0, NULL);
    if (rc == SQLITE_OK)
        rc = store_segs_flush(w);
    if (rc == SQLITE_OK)
        rc = store_run(w->st[ST_COMMIT]);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(db))
            store_run(w->st[ST_ROLLBACK]);
        store_segs_rolled_back(w);
        memset(r, 0, sizeof(*r));
    } else {
        store_segs_committed(w);
    }
    /* ids of deleted series (and metrics) may come back: forget them all */
    store_forget_caches(w);
    return rc;
}

void store_run_job(store *s, ring_entry *e) {
    assert(store_is_job(e));
    store_prep *p = e->prep;
    store_job *job = p->job;
    store_delete_result r;
    int rc = store_delete_run(s, job, &r);
    int status = STORE_OK;
    if (rc != SQLITE_OK) {
        store_log_failure(s, "delete", NULL, rc);
        atomic_fetch_add(&s->commit_errors, 1);
        status = store_code(rc);
    } else {
        log_event(LOG_INFO, "store_deleted",
                  "spans=%" PRIu64 " traces=%" PRIu64 " logs=%" PRIu64 " points=%" PRIu64,
                  r.spans, r.traces, r.logs, r.points);
    }
    if (job->cb)
        job->cb(job->ud, status, &r);
    model_batch_free(e->batch);
    store_prep_free(p);
    ring_release(s->ring, e->bytes);
    e->batch = NULL;
    e->prep = NULL;
}


/* ---- the public side ---------------------------------------------------------- */

int store_delete(store *s, unsigned signals, const char *service, store_delete_cb cb, void *ud) {
    if (s == NULL || signals == 0 || (signals & ~STORE_DELETE_ALL) != 0)
        return STORE_EINVAL;
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    store_prep *p = calloc(1, sizeof(*p));
    store_job *job = calloc(1, sizeof(*job));
    char *svc = service ? strdup(service) : NULL;
    if (b == NULL || p == NULL || job == NULL || (service && svc == NULL)) {
        model_batch_free(b);
        free(p);
        free(job);
        free(svc);
        return STORE_ENOMEM;
    }
    job->signals = signals;
    job->service = svc;
    job->cb = cb;
    job->ud = ud;
    p->job = job;
    p->bytes = sizeof(*p) + sizeof(*job);
    ring_entry e = {b, NULL, NULL, p, model_batch_bytes(b) + p->bytes};
    int rc = ring_push(s->ring, &e);
    if (rc == RING_OK)
        return STORE_OK;
    store_prep_free(p);
    model_batch_free(b);
    return rc == RING_ECLOSED ? STORE_ECLOSED : STORE_EFULL;
}

typedef struct store_delete_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, status, refs;
    store_delete_result r;
} store_delete_waiter;


static void store_delete_waiter_unref(store_delete_waiter *dw) {
    pthread_mutex_lock(&dw->mu);
    int left = --dw->refs;
    pthread_mutex_unlock(&dw->mu);
    if (left == 0) {
        pthread_mutex_destroy(&dw->mu);
        pthread_cond_destroy(&dw->cv);
        free(dw);
    }
}

static void store_delete_waiter_done(void *ud, int status, const store_delete_result *r) {
    store_delete_waiter *dw = ud;
    pthread_mutex_lock(&dw->mu);
    dw->status = status;
    dw->r = *r;
    dw->done = 1;
    pthread_cond_broadcast(&dw->cv);
    pthread_mutex_unlock(&dw->mu);
    store_delete_waiter_unref(dw);
}

int store_delete_wait(store *s, unsigned signals, const char *service, unsigned timeout_ms,
                      store_delete_result *r) {
    memset(r, 0, sizeof(*r));
    /* shared with the writer's callback, which may outlive a timed-out wait */
    store_delete_waiter *dw = calloc(1, sizeof(*dw));
    if (dw == NULL)
        return STORE_ENOMEM;
    pthread_mutex_init(&dw->mu, NULL);
    pthread_cond_init(&dw->cv, NULL);
    dw->refs = 2;
    int rc = store_delete(s, signals, service, store_delete_waiter_done, dw);
    if (rc != STORE_OK) {
        dw->refs = 1;
        store_delete_waiter_unref(dw);
        return rc;
    }
    struct timespec until;
    clk_deadline(CLOCK_REALTIME, (long)timeout_ms, &until);
    pthread_mutex_lock(&dw->mu);
    while (!dw->done) {
        if (timeout_ms == 0)
            pthread_cond_wait(&dw->cv, &dw->mu);
        else if (pthread_cond_timedwait(&dw->cv, &dw->mu, &until) != 0)
            break;
    }
    rc = dw->done ? dw->status : STORE_EIO;
    if (dw->done)
        *r = dw->r;
    pthread_mutex_unlock(&dw->mu);
    store_delete_waiter_unref(dw);
    return rc;
}
