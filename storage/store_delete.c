/* store_delete.c - store_delete(): removing one service's or every
 * service's spans, logs or points, see store.h.
 *
 * DESIGN
 * A delete is a job (store_job) queued into the ring in the prep of an
 * empty batch, so it runs on the writer in order with the batches around
 * it, in one transaction: the rows, their attribute and full-text index
 * entries ('delete' commands), traces left without spans; traces that keep
 * spans of other services are recomputed (times, counts, root); a service
 * left with nothing is reset to "never seen". The writer's id caches are
 * forgotten after it (deleted series and metrics may come back).
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

/* Runs sql (?1 = the service id) and adds sqlite3_changes() to *n. */
static int store_del_exec(sqlite3 *db, const char *sql, int64_t sid, uint64_t *n) {
    int64_t changes = 0;
    int rc = store_exec1(db, sql, sid, n ? &changes : NULL);
    if (rc == SQLITE_OK && n)
        *n += (uint64_t)changes;
    return rc;
}

static int store_del_count(sqlite3 *db, const char *sql, int64_t sid, uint64_t *n) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, sid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *n += (uint64_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Every statement of a delete, ?1 = the service's id. */
static const char *const store_del_traces_one[] = {
    "CREATE TEMP TABLE IF NOT EXISTS del_traces(id INTEGER PRIMARY KEY)",
    "DELETE FROM temp.del_traces",
    "INSERT INTO temp.del_traces SELECT trace FROM trace_services WHERE service=?1",
    "INSERT INTO span_attr_fts(span_attr_fts, rowid, t) SELECT 'delete', s.id,"
    " loupe_attr_tokens(s.attrs, s.name) FROM temp.del_traces d JOIN spans s ON s.trace=d.id"
    " WHERE s.service=?1",
    NULL, /* the spans: counted */
    "DELETE FROM trace_services WHERE service=?1",
    NULL, /* the traces left without spans: counted */
    "UPDATE traces SET"
    " start_ns=(SELECT min(start_ns) FROM spans WHERE trace=traces.id),"
    " end_ns=(SELECT max(end_ns) FROM spans WHERE trace=traces.id),"
    " span_count=(SELECT count(*) FROM spans WHERE trace=traces.id),"
    " error_count=(SELECT count(*) FROM spans WHERE trace=traces.id AND status_code=2),"
    " has_root=EXISTS(SELECT 1 FROM spans WHERE trace=traces.id AND parent_span_id IS NULL),"
    " root_service=(SELECT service FROM spans WHERE trace=traces.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1),"
    " root_name=(SELECT name FROM spans WHERE trace=traces.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1),"
    " root_span_id=(SELECT span_id FROM spans WHERE trace=traces.id"
    "  ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1)"
    " WHERE id IN (SELECT id FROM temp.del_traces)",
    "UPDATE services SET span_count=0, error_count=0 WHERE id=?1",
    "DELETE FROM temp.del_traces",
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

/* The spans of service sid (0 = every service) and the traces left
 * without spans; the traces that keep spans of others are recomputed. */
static int store_delete_traces(sqlite3 *db, int64_t sid, store_delete_result *r) {
    int rc = SQLITE_OK;
    if (sid == 0) {
        rc = store_del_count(db, "SELECT count(*) FROM spans", 0, &r->spans);
        if (rc == SQLITE_OK)
            rc = store_del_count(db, "SELECT count(*) FROM traces", 0, &r->traces);
        const char *sql[] = {
            "INSERT INTO span_attr_fts(span_attr_fts) VALUES('delete-all')",
            "DELETE FROM spans", "DELETE FROM traces", "DELETE FROM trace_services",
            "UPDATE services SET span_count=0, error_count=0"};
        for (size_t i = 0; rc == SQLITE_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
            rc = store_del_exec(db, sql[i], 0, NULL);
        return rc;
    }
    size_t n = sizeof(store_del_traces_one) / sizeof(store_del_traces_one[0]);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        if (i == 4)
            rc = store_del_exec(db,
                                "DELETE FROM spans WHERE service=?1 AND trace IN"
                                " (SELECT id FROM temp.del_traces)",
                                sid, &r->spans);
        else if (i == 6)
            rc = store_del_exec(db,
                                "DELETE FROM traces WHERE id IN"
                                " (SELECT id FROM temp.del_traces) AND NOT EXISTS"
                                " (SELECT 1 FROM spans WHERE trace=traces.id)",
                                sid, &r->traces);
        else
            rc = store_del_exec(db, store_del_traces_one[i], sid, NULL);
    }
    return rc;
}

/* The log records of service sid (0 = every service). */
static int store_delete_logs(sqlite3 *db, int64_t sid, store_delete_result *r) {
    int rc = SQLITE_OK;
    if (sid == 0) {
        const char *sql[] = {"INSERT INTO logs_fts(logs_fts) VALUES('delete-all')",
                             "INSERT INTO log_attr_fts(log_attr_fts) VALUES('delete-all')",
                             NULL, "UPDATE services SET log_count=0"};
        for (size_t i = 0; rc == SQLITE_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
            rc = sql[i] ? store_del_exec(db, sql[i], 0, NULL)
                        : store_del_exec(db, "DELETE FROM logs", 0, &r->logs);
        return rc;
    }
    const char *sql[] = {
        "INSERT INTO logs_fts(logs_fts, rowid, body) SELECT 'delete', id, "
        SCHEMA_LOG_FTS_TEXT("body") " FROM logs WHERE service=?1",
        "INSERT INTO log_attr_fts(log_attr_fts, rowid, t)"
        " SELECT 'delete', id, loupe_attr_tokens(attrs) FROM logs WHERE service=?1",
        NULL, "UPDATE services SET log_count=0 WHERE id=?1"};
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
        rc = sql[i] ? store_del_exec(db, sql[i], sid, NULL)
                    : store_del_exec(db, "DELETE FROM logs WHERE service=?1", sid, &r->logs);
    return rc;
}

/* The points, series and metrics of service sid (0 = every service). */
static int store_delete_metrics(sqlite3 *db, int64_t sid, store_delete_result *r) {
    static const char *const sql_all[] = {NULL, "DELETE FROM series", "DELETE FROM metrics",
                                          "UPDATE services SET point_count=0"};
    static const char *const sql_one[] = {
        NULL, "DELETE FROM series WHERE metric IN (SELECT id FROM metrics WHERE service=?1)",
        "DELETE FROM metrics WHERE service=?1", "UPDATE services SET point_count=0 WHERE id=?1"};
    const char *const *sql = sid == 0 ? sql_all : sql_one;
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < 4; i++) {
        if (sql[i] != NULL)
            rc = store_del_exec(db, sql[i], sid, NULL);
        else if (sid == 0)
            rc = store_del_exec(db, "DELETE FROM points", 0, &r->points);
        else
            rc = store_del_exec(db,
                                "DELETE FROM points WHERE series IN (SELECT se.id FROM series se"
                                " JOIN metrics m ON m.id=se.metric WHERE m.service=?1)",
                                sid, &r->points);
    }
    return rc;
}

/* Runs one delete job in one transaction; *r gets what it removed (zeros
 * when it failed). */
static int store_delete_run(store *s, const store_job *job, store_delete_result *r) {
    sqlite3 *db = s->w.db;
    int64_t sid = 0;
    memset(r, 0, sizeof(*r));
    if (job->service != NULL) {
        int rc = store_delete_service_id(db, job->service, &sid);
        if (rc != SQLITE_OK || sid == 0)
            return rc; /* an unknown service has nothing to delete */
    }
    int rc = store_run(s->w.st[ST_BEGIN]);
    if (rc != SQLITE_OK)
        return rc;
    if (job->signals & STORE_DELETE_TRACES)
        rc = store_delete_traces(db, sid, r);
    if (rc == SQLITE_OK && (job->signals & STORE_DELETE_LOGS))
        rc = store_delete_logs(db, sid, r);
    if (rc == SQLITE_OK && (job->signals & STORE_DELETE_METRICS))
        rc = store_delete_metrics(db, sid, r);
    /* a service with nothing stored is as if never seen */
    if (rc == SQLITE_OK)
        rc = store_del_exec(db,
                            "UPDATE services SET last_seen_ns=0 WHERE span_count=0"
                            " AND log_count=0 AND point_count=0",
                            0, NULL);
    if (rc == SQLITE_OK)
        rc = store_run(s->w.st[ST_COMMIT]);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(db))
            store_run(s->w.st[ST_ROLLBACK]);
        memset(r, 0, sizeof(*r));
    }
    /* ids of deleted series (and metrics) may come back: forget them all */
    store_forget_caches(&s->w);
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
        store_writer *w = &s->w;
        uint64_t gone[MODEL_SIGNAL_COUNT] = {r.spans, r.logs, r.points};
        for (int i = 0; i < MODEL_SIGNAL_COUNT; i++)
            w->counts[i] = gone[i] < w->counts[i] ? w->counts[i] - gone[i] : 0;
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
