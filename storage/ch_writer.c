/* ch_writer.c - the writer thread of a ClickHouse store: rounds of batches
 * from the ring, one INSERT per table per round, the batches answered with
 * its outcome; see ch_store.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "ch_patterns.h"
#include "ch_rows.h"
#include "ch_schema.h"
#include "ch_store_internal.h"

#define CH_PROBE_MS 1000          /* while failing: ask ClickHouse this often */
#define CH_RETENTION_MS 60000     /* retention runs this often */
#define CH_FAULT_LOG_NS 10000000000ULL

static const char *const ch_insert_table[MODEL_SIGNAL_COUNT] = {CH_SPANS, CH_LOGS, CH_POINTS};

/* ClickHouse refused or did not answer: counted, and said in one line at
 * most every 10 s while it lasts. */
static void ch_fault(store *s, int rc, const char *detail, size_t batches) {
    store_writer *w = &s->w;
    uint64_t now = store_mono_ns();
    atomic_fetch_add(&s->write_failures, 1);
    atomic_fetch_add(&s->commit_errors, 1);
    const char *reason = rc == CH_EDOWN ? "clickhouse_unreachable" : "clickhouse_refused";
    if (!w->fault.active) {
        w->fault.active = 1;
        w->fault.since = now;
        w->fault.failed_batches = 0;
        w->fault.last_log = 0;
        atomic_store(&s->writes_failing, 1);
    }
    atomic_store(&s->fault_reason, reason);
    w->fault.failed_batches += batches;
    if (w->fault.last_log != 0 && w->fault.reason == reason &&
        now - w->fault.last_log < CH_FAULT_LOG_NS)
        return;
    log_event(LOG_ERROR, "store_write_failed",
              "reason=%s detail=\"%s\" failed_batches=%" PRIu64 " failing_for_ms=%" PRIu64
              " answer=retryable action=\"check that ClickHouse runs and answers; exporters are"
              " told to retry (HTTP 503, gRPC UNAVAILABLE) and ingest resumes by itself\"",
              reason, detail, w->fault.failed_batches, (now - w->fault.since) / 1000000);
    w->fault.last_log = now;
    w->fault.reason = reason;
}

static void ch_fault_clear(store *s) {
    store_writer *w = &s->w;
    if (!w->fault.active)
        return;
    log_event(LOG_INFO, "store_write_recovered", "failing_for_ms=%" PRIu64
              " failed_batches=%" PRIu64,
              (store_mono_ns() - w->fault.since) / 1000000, w->fault.failed_batches);
    w->fault.active = 0;
    atomic_store(&s->writes_failing, 0);
}

/* The rows of one batch into c->rows[signal]. Returns STORE_OK or
 * STORE_EINVAL (an invalid item) / STORE_ENOMEM. */
static int ch_batch_rows(ch_store *c, const ring_entry *e, uint64_t arrival) {
    const model_batch *b = e->batch;
    buf *o = &c->rows[b->signal];
    size_t mark = o->len, n = model_batch_items(b);
    store_text tmp[STORE_MAX_TEXTS];
    for (size_t i = 0; i < n; i++) {
        const char *texts;
        const store_text *t;
        const store_prep *prep = e->prep;
        if (prep != NULL && prep->t != NULL) {
            texts = prep->text.ptr;
            t = &prep->t[i * STORE_MAX_TEXTS];
        } else { /* rendered here when the receiving thread could not */
            buf_reset(&c->texts);
            if (store_item_texts(b, i, &c->texts, tmp) != STORE_OK) {
                o->len = mark;
                return STORE_ENOMEM;
            }
            texts = c->texts.ptr;
            t = tmp;
        }
        if (ch_rows_item(o, b, i, texts ? texts : "", t, arrival, &c->scratch) != 0) {
            o->len = mark;
            return STORE_EINVAL;
        }
    }
    if (ch_insight_batch(c->insight, b) != 0) { /* the round fails with it */
        o->len = mark;
        return STORE_ENOMEM;
    }
    return STORE_OK;
}

/* Sends the rows of signal sig of one round. */
static int ch_signal_insert(ch_store *c, int sig, char *err) {
    int rc = c->schema_ready ? CH_OK : ch_store_schema(c, err);
    if (rc != CH_OK)
        return rc;
    const char *cols = sig == MODEL_SIGNAL_TRACES ? ch_spans_columns
                       : sig == MODEL_SIGNAL_LOGS ? ch_logs_columns
                                                  : ch_points_columns;
    char table[1024];
    snprintf(table, sizeof(table), "%s %s", ch_insert_table[sig], cols);
    buf *o = &c->rows[sig];
    return ch_conn_insert(c->writer, table, c->cluster ? "insert_distributed_sync=1" : NULL, o->ptr,
                          o->len, err);
}

/* Writes entries[0..n) (batches) in one round and fills status[]: one
 * INSERT per signal, each batch answered by its own signal's insert (a
 * failed insert of logs does not fail the round's spans, and the
 * exporter's retry of the logs does not store spans twice). */
static void ch_commit_round(store *s, ch_store *c, ring_entry *entries, int *status, size_t n) {
    uint64_t t0 = store_mono_ns(), arrival = store_now_ns();
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++)
        buf_reset(&c->rows[sig]);
    ch_insight_reset(c->insight, arrival);
    ch_patterns_round(s, entries, n, arrival); /* global pattern ids, before the rows */
    for (size_t i = 0; i < n; i++)
        status[i] = ch_batch_rows(c, &entries[i], arrival);
    int outcome[MODEL_SIGNAL_COUNT] = {CH_OK, CH_OK, CH_OK}, failed = CH_OK;
    char err[CH_ERR_MAX] = "";
    size_t lost = 0;
    /* The log patterns, GenAI calls and lint findings of the round first: when they fail,
     * the round fails before any of its items is stored (their retry then
     * stores nothing twice); when an item insert fails after them, its
     * batches' findings are counted again on the retry. */
    int rc = c->schema_ready ? CH_OK : ch_store_schema(c, err);
    if (rc == CH_OK) /* the log patterns, before the records that name them */
        rc = ch_patterns_insert(s, err);
    ch_patterns_end(s, rc == CH_OK);
    if (rc == CH_OK)
        rc = ch_insight_insert(c->insight, c->writer,
                               c->cluster ? "insert_distributed_sync=1" : NULL, err);
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
        if (c->rows[sig].len == 0)
            continue;
        outcome[sig] = rc != CH_OK ? rc : ch_signal_insert(c, sig, err);
        if (outcome[sig] != CH_OK)
            failed = outcome[sig];
    }
    for (size_t i = 0; i < n; i++) {
        if (status[i] == STORE_OK && outcome[entries[i].batch->signal] != CH_OK) {
            status[i] = STORE_EIO;
            lost++;
        }
    }
    if (failed != CH_OK) {
        ch_fault(s, failed, err, lost);
        return;
    }
    if (lost == 0 && n > 0) {
        atomic_fetch_add(&s->commits, 1);
        uint64_t ns = store_mono_ns() - t0;
        size_t k = 0;
        while (k < STORE_COMMIT_BUCKETS && (double)ns > store_commit_buckets[k] * 1e9)
            k++;
        atomic_fetch_add(&s->commit_bucket[k], 1);
        atomic_fetch_add(&s->commit_ns_sum, ns);
        ch_fault_clear(s);
    }
}

/* A delete job. */
static void ch_run_job(store *s, ch_store *c, ring_entry *e) {
    store_prep *prep = e->prep;
    store_job *job = prep->job;
    store_delete_result r;
    char err[CH_ERR_MAX];
    int rc = c->schema_ready ? CH_OK : ch_store_schema(c, err);
    if (rc == CH_OK)
        rc = ch_store_delete(c, job->signals, job->service, &r, err);
    int status = STORE_OK;
    if (rc != CH_OK) {
        memset(&r, 0, sizeof(r));
        log_event(LOG_ERROR, "store_delete_failed", "detail=\"%s\"", err);
        atomic_fetch_add(&s->commit_errors, 1);
        status = STORE_EIO;
    } else {
        log_event(LOG_INFO, "store_deleted",
                  "spans=%" PRIu64 " traces=%" PRIu64 " logs=%" PRIu64 " points=%" PRIu64, r.spans,
                  r.traces, r.logs, r.points);
    }
    if (job->cb)
        job->cb(job->ud, status, &r);
    model_batch_free(e->batch);
    store_prep_free(e->prep);
    ring_release(s->ring, e->bytes);
    e->batch = NULL;
    e->prep = NULL;
}

/* While failing and idle: is ClickHouse back? */
static void ch_probe(store *s, ch_store *c) {
    char err[CH_ERR_MAX];
    int rc = c->schema_ready ? ch_conn_query(c->writer, "SELECT 1", 8, NULL, err)
                             : ch_store_schema(c, err);
    if (rc == CH_OK)
        ch_fault_clear(s);
    else
        ch_fault(s, rc, err, 0);
}

void *ch_writer_main(void *arg) {
    store *s = arg;
    store_writer *w = &s->w;
    ch_store *c = s->ch;
    size_t cap = ring_capacity(s->ring);
    uint64_t now = store_mono_ns();
    c->next_retention = now;
    for (;;) {
        long wait = CH_PROBE_MS;
        int closed = 0;
        size_t n = ring_pop_timed(s->ring, w->entries, cap, wait, &closed);
        if (closed)
            break;
        size_t i = 0;
        while (i < n) {
            if (store_is_job(&w->entries[i])) {
                ch_run_job(s, c, &w->entries[i]);
                i++;
                continue;
            }
            size_t j = i + 1, items = model_batch_items(w->entries[i].batch);
            while (j < n && !store_is_job(&w->entries[j]) &&
                   items + model_batch_items(w->entries[j].batch) <= STORE_TX_MAX_ITEMS)
                items += model_batch_items(w->entries[j++].batch);
            ch_commit_round(s, c, w->entries + i, w->status + i, j - i);
            store_writer_finish(s, w->entries + i, w->status + i, j - i);
            i = j;
        }
        now = store_mono_ns();
        if (n == 0 && w->fault.active && now >= c->next_probe) {
            ch_probe(s, c);
            c->next_probe = now + CH_PROBE_MS * 1000000ULL;
        }
        if (c->schema_ready && !w->fault.active && now >= c->next_retention) {
            ch_store_retention(s, c);
            c->next_retention = now + CH_RETENTION_MS * 1000000ULL;
        }
    }
    return NULL;
}
