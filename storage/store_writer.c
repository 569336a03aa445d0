/* store_writer.c - the writer thread: group commit, completion callbacks,
 * commit notifications, giving memory back when idle; see store_internal.h.
 *
 * DESIGN
 * The writer pops everything queued, and commits it in transactions of at
 * most STORE_TX_MAX_ITEMS items (a batch is never split). A batch that fails
 * for a reason of its own is left out and the transaction written again
 * without it, so the others still commit (store_commit_group; cheaper than a
 * SAVEPOINT per batch, which measurably slowed every commit). After COMMIT
 * the writer calls every callback (STORE_OK, or the error of a failed batch
 * or commit), frees the batches and returns their bytes to the ring. Errors
 * are logged and the writer keeps running; later batches may succeed.
 *
 * The writer is the only connection that writes. Between rounds it runs
 * retention (store_retention.c), the lint's judgement of spans whose
 * parent never came (store_lint.c), and the jobs queued by store_delete()
 * (store_delete.c), in queue order with the batches around them.
 */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "store_internal.h"

/* ---- test hook --------------------------------------------------------------- */

#ifdef LOUPE_TESTING
#define STORE_TEST_DELAY_ENV "LOUPE_TEST_WRITER_DELAY_MS"

void store_test_delay_read(store *s) {
    const char *delay = getenv(STORE_TEST_DELAY_ENV);
    if (delay == NULL || *delay == '\0')
        return;
    char *end;
    long ms = strtol(delay, &end, 10);
    if (*end == '\0' && ms > 0 && ms <= 60000) {
        s->test_delay_ms = ms;
        log_event(LOG_WARN, "store_test_writer_delay",
                  "delay_ms=%ld detail=\"test hook " STORE_TEST_DELAY_ENV ": the writer sleeps"
                  " before every transaction\"",
                  ms);
    }
}

/* Sleeps before a transaction, as long as the test hook says. */
static void store_test_delay(const store *s) {
    if (s->test_delay_ms <= 0)
        return;
    struct timespec ts = {s->test_delay_ms / 1000, (s->test_delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
#else
#define store_test_delay(s) ((void)(s))
#endif

/* ---- group commit ------------------------------------------------------------ */

/* status[] values while a group is being written (STORE_* codes are <= 0) */
#define STORE_PENDING 1   /* not written yet */
#define STORE_TENTATIVE 2 /* written in the open transaction */
#define STORE_MAX_REDO 8

/* 1 when an error concerns the batch being written rather than the
 * database as a whole: the other batches of its transaction can still
 * commit without it. */
static int store_error_is_local(int sqlite_rc) {
    switch (sqlite_rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_MISUSE: /* the writer's marker for an invalid batch */
        return 1;
    }
    return 0;
}

const double store_commit_buckets[STORE_COMMIT_BUCKETS] = {0.001, 0.0025, 0.005, 0.01,
                                                           0.025, 0.05,   0.1,   0.25,
                                                           0.5,   1,      2.5};

/* Counts one committed transaction that took ns nanoseconds. */
static void store_observe_commit(store *s, uint64_t ns) {
    size_t i = 0;
    while (i < STORE_COMMIT_BUCKETS && (double)ns > store_commit_buckets[i] * 1e9)
        i++;
    atomic_fetch_add(&s->commit_bucket[i], 1);
    atomic_fetch_add(&s->commit_ns_sum, ns);
}

/* Writes entries[0..n) in one transaction and fills status[]. No savepoints
 * on the normal path: when a batch fails for a reason of its own, the
 * transaction is rolled back and written again without it (at most
 * STORE_MAX_REDO times); when the database fails (full, I/O error, out of
 * memory, a failed COMMIT) every batch of the transaction fails at once. */
static void store_commit_group(store *s, ring_entry *entries, int *status, size_t n) {
    store_writer *w = &s->w;
    for (size_t i = 0; i < n; i++)
        status[i] = STORE_PENDING;
    store_test_delay(s);
    uint64_t t0 = store_mono_ns();
    for (int attempt = 0;; attempt++) {
        int rc = w->db ? store_run(w->st[ST_BEGIN]) : SQLITE_CANTOPEN;
        if (rc != SQLITE_OK) {
            store_fault_note(s, "begin", rc, w->db ? sqlite3_system_errno(w->db) : 0, n);
            atomic_fetch_add(&s->commit_errors, 1);
            for (size_t i = 0; i < n; i++)
                if (status[i] > 0)
                    status[i] = store_code(rc);
            return;
        }
        int failed = SQLITE_OK, sys_errno = 0;
        const char *what = "batch";
        for (size_t i = 0; i < n && failed == SQLITE_OK; i++) {
            if (status[i] != STORE_PENDING)
                continue;
            rc = store_write_batch(s, &entries[i]);
            if (rc == SQLITE_OK) {
                status[i] = STORE_TENTATIVE;
                continue;
            }
            sys_errno = sqlite3_system_errno(w->db);
            if (store_error_is_local(rc))
                store_log_failure(s, "batch", &entries[i], rc);
            atomic_fetch_add(&s->commit_errors, 1);
            status[i] = rc == SQLITE_MISUSE ? STORE_EINVAL : store_code(rc);
            failed = rc;
        }
        if (failed == SQLITE_OK) {
            rc = store_patterns_persist(s); /* the rows of this transaction's patterns */
            if (rc == SQLITE_OK)
                rc = store_segs_flush(w);
            if (rc == SQLITE_OK)
                rc = store_run(w->st[ST_COMMIT]);
            if (rc == SQLITE_OK) {
                store_segs_committed(w);
                store_patterns_committed(s);
                atomic_fetch_add(&s->commits, 1);
                store_observe_commit(s, store_mono_ns() - t0);
                for (size_t i = 0; i < n; i++)
                    if (status[i] == STORE_TENTATIVE)
                        status[i] = STORE_OK;
                store_fault_clear(s);
                return;
            }
            sys_errno = sqlite3_system_errno(w->db);
            what = "commit";
            atomic_fetch_add(&s->commit_errors, 1);
            failed = rc;
        }
        if (!sqlite3_get_autocommit(w->db))
            store_run(w->st[ST_ROLLBACK]);
        store_forget_caches(w); /* ids cached in the rolled back part are gone */
        store_segs_rolled_back(w); /* and segments made or filled there */
        store_patterns_rolled_back(s); /* pattern rows written there are written again */
        int local = store_error_is_local(failed);
        int redo = local && attempt < STORE_MAX_REDO;
        int code = failed == SQLITE_MISUSE ? STORE_EIO : store_code(failed);
        size_t left = 0, lost = 0;
        for (size_t i = 0; i < n; i++) {
            if (status[i] == STORE_TENTATIVE || status[i] == STORE_PENDING) {
                status[i] = redo ? STORE_PENDING : code;
                left += redo;
                lost += !redo;
            }
        }
        if (!local) /* the batch that hit the error is not in `lost` */
            store_fault_note(s, what, failed, sys_errno, lost + (what[0] == 'b'));
        if (!left)
            return;
    }
}

/* ---- idle ------------------------------------------------------------------ */

/* The writer has been idle for STORE_IDLE_RELEASE_MS: its page cache (up to
 * 32 MiB, refilled from the OS's file cache on the next load) and the heap
 * that batches and transactions left free go back to the system, so an
 * idle loupe is small again after a burst. */
static void store_release(store *s) {
    int freed = s->w.db ? sqlite3_db_release_memory(s->w.db) : 0;
    int trimmed = malloc_trim(0);
    log_event(LOG_DEBUG, "store_idle_release", "sqlite_cache_released=%d heap_trimmed=%d", freed,
              trimmed);
}

/* How long the writer may wait for a batch: not at all while retention has
 * work left, else until the next age check or idle release, if any. */
static long store_wait_ms(store *s, int pending) {
    if (pending)
        return 0;
    long ms = s->max_age_ns ? STORE_AGE_CHECK_MS : -1;
    if (!s->w.released) {
        uint64_t now = store_mono_ns(), due = s->w.last_work + STORE_IDLE_RELEASE_MS * 1000000ULL;
        long left = due > now ? (long)((due - now) / 1000000u) + 1 : 0;
        if (ms < 0 || left < ms)
            ms = left;
    }
    long lint = store_lint_wait_ms(s); /* children waiting for the orphan sweep */
    if (lint >= 0 && (ms < 0 || lint < ms))
        ms = lint;
    return ms;
}

/* ---- the writer thread ----------------------------------------------------- */

static void store_notify(store *s, const model_batch *b) {
    if (atomic_load(&s->n_subs) == 0)
        return;
    pthread_mutex_lock(&s->subs_mu);
    for (store_sub *sub = s->subs; sub != NULL; sub = sub->next)
        sub->fn(sub->ud, b);
    pthread_mutex_unlock(&s->subs_mu);
}

void store_writer_finish(store *s, ring_entry *entries, const int *status, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ring_entry *e = &entries[i];
        model_signal sig = e->batch->signal;
        assert(status[i] <= STORE_OK); /* store_commit_group settled every batch */
        if (status[i] == STORE_OK) {
            size_t items = model_batch_items(e->batch);
            atomic_fetch_add(&s->accepted[sig], items);
            store_notify(s, e->batch);
        }
        if (e->cb)
            e->cb(e->ud, status[i], e->batch);
        model_batch_free(e->batch);
        store_prep_free(e->prep);
        ring_release(s->ring, e->bytes);
        e->batch = NULL;
        e->prep = NULL;
    }
}

void *store_writer_main(void *arg) {
    store *s = arg;
    store_writer *w = &s->w;
    size_t cap = ring_capacity(s->ring);
    int pending = 1; /* retention has work left; at start: a smaller maximum, or the
                      * last round's retention cut short by a crash */
    for (;;) {
        /* wake up for age retention and the idle release even when no
         * batch comes */
        int closed = 0;
        size_t n = ring_pop_timed(s->ring, w->entries, cap, store_wait_ms(s, pending), &closed);
        if (closed)
            break; /* closed and drained */
        if (n == 0 && !pending && !w->released &&
            store_mono_ns() >= w->last_work + STORE_IDLE_RELEASE_MS * 1000000ULL) {
            store_release(s);
            w->released = 1;
        }
        size_t i = 0;
        while (i < n) {
            if (store_is_job(&w->entries[i])) {
                store_run_job(s, &w->entries[i]);
                i++;
                continue;
            }
            size_t j = i + 1, items = model_batch_items(w->entries[i].batch);
            while (j < n && !store_is_job(&w->entries[j]) &&
                   items + model_batch_items(w->entries[j].batch) <= STORE_TX_MAX_ITEMS)
                items += model_batch_items(w->entries[j++].batch);
            store_commit_group(s, w->entries + i, w->status + i, j - i);
            store_writer_finish(s, w->entries + i, w->status + i, j - i);
            i = j;
        }
        int was_pending = pending;
        pending = store_retention(s);
        store_lint_sweep(s);
        if (n > 0 || was_pending || pending) {
            w->last_work = store_mono_ns();
            w->released = 0;
        }
    }
    return NULL;
}
