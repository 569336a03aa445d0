/* store_fault.c - why a write failed, said clearly and not too often, see
 * store_internal.h.
 *
 * A batch can fail for a reason of its own (a constraint, an invalid
 * batch): store_log_failure() says so once. The database can refuse a
 * whole transaction (disk or size cap full, read-only, I/O error): its
 * batches fail with STORE_EIO (retryable), store_fault_note() classifies
 * the cause from SQLite's code, the system's errno and a probe of the
 * files, and logs why and what to do at most every STORE_FAULT_LOG_NS while
 * it lasts; the next commit ends it (store_fault_clear()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/log.h"
#include "store_internal.h"

#define STORE_DISK_FREE_MIN ((uint64_t)4 << 20) /* less free space than this is "disk full" */

void store_log_failure(store *s, const char *what, const ring_entry *e, int rc) {
    char msg[256];
    /* SQLITE_MISUSE is the writer's own marker for an invalid batch */
    log_quote(rc == SQLITE_MISUSE ? "invalid batch: a point refers to a metric outside it"
                                  : sqlite3_errmsg(s->w.db),
              msg, sizeof(msg));
    if (e != NULL)
        log_event(LOG_ERROR, "store_write_failed",
                  "what=%s signal=%s items=%zu sqlite_code=%d sqlite=\"%s\"", what,
                  model_signal_name(e->batch->signal), model_batch_items(e->batch), rc, msg);
    else
        log_event(LOG_ERROR, "store_write_failed", "what=%s sqlite_code=%d sqlite=\"%s\"", what, rc,
                  msg);
}

/* The errno that denies writing the database, its WAL or its directory
 * (read-only mount, immutable file, permissions), or 0. SQLite's own
 * sqlite3_system_errno() is often 0 by the time an I/O error surfaces. */
static int store_probe_unwritable(const store *s) {
    if (s->mode == STORE_MODE_MEMORY)
        return 0;
    char p[sizeof(s->path) + 8];
    snprintf(p, sizeof(p), "%s", s->path);
    if (access(p, W_OK) != 0 && errno != ENOENT)
        return errno;
    snprintf(p, sizeof(p), "%s-wal", s->path);
    if (access(p, W_OK) != 0 && errno != ENOENT)
        return errno;
    char *slash = strrchr(p, '/');
    if (slash != NULL && slash != p) {
        *slash = '\0';
        if (access(p, W_OK | X_OK) != 0)
            return errno;
    }
    return 0;
}

/* Why the database refused a write, from SQLite's code and the system's
 * errno of the failed file operation; *action tells the operator what
 * brings ingest back. */
const char *store_fault_reason(const store *s, int rc, int *errno_io, const char **action) {
    int prim = rc & 0xff;
    if ((prim == SQLITE_IOERR || prim == SQLITE_READONLY || prim == SQLITE_CANTOPEN) &&
        (*errno_io == 0 || *errno_io == EIO)) {
        int e = store_probe_unwritable(s);
        if (e != 0)
            *errno_io = e;
    }
    int sys_errno = *errno_io;
    if (prim == SQLITE_FULL || sys_errno == ENOSPC || sys_errno == EDQUOT) {
        /* SQLITE_FULL is also what the size cap (max_page_count) gives:
         * tell them apart by the space left on the filesystem */
        struct statvfs vfs;
        int disk_has_room = s->mode == STORE_MODE_MEMORY ||
                            (statvfs(s->path, &vfs) == 0 &&
                             (uint64_t)vfs.f_bavail * vfs.f_frsize >= STORE_DISK_FREE_MIN);
        if (s->max_db_bytes && disk_has_room && prim == SQLITE_FULL) {
            *action = "the --max-db-size cap is reached; retention is evicting the oldest items";
            return "size_cap";
        }
        *action = "free space on the data directory's filesystem (or set --max-db-size below it)";
        return "disk_full";
    }
    if (prim == SQLITE_READONLY || sys_errno == EROFS || sys_errno == EPERM ||
        sys_errno == EACCES) {
        *action = "make the database file, its -wal and -shm files and their directory writable";
        return "read_only";
    }
    if (sys_errno == EFBIG) {
        *action = "raise the file size limit (ulimit -f) or set --max-db-size below it";
        return "file_too_large";
    }
    switch (prim) {
    case SQLITE_NOMEM:
        *action = "free memory";
        return "out_of_memory";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        *action = "stop the other program holding a lock on the database";
        return "locked";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        *action = "the database file is damaged; stop loupe and move it away";
        return "corrupt";
    case SQLITE_IOERR:
        *action = "check the storage device and the kernel log";
        return "io_error";
    }
    *action = "see the SQLite message";
    return "database_error";
}

/* The database refused a transaction (not one batch's own fault): counts it
 * and says so in one clear line, repeated at most every 10 s while it lasts
 * (exporters retry every second or so; a line per retry would drown the
 * log). batches: how many batches were answered with an error. */
void store_fault_note(store *s, const char *what, int rc, int sys_errno, size_t batches) {
    store_writer *w = &s->w;
    uint64_t now = store_mono_ns();
    const char *action;
    const char *reason = store_fault_reason(s, rc, &sys_errno, &action);
    atomic_fetch_add(&s->write_failures, 1);
    if (!w->fault.active) {
        w->fault.active = 1;
        w->fault.since = now;
        w->fault.failed_batches = 0;
        w->fault.last_log = 0;
        w->fault.reason = NULL;
        atomic_store(&s->writes_failing, 1);
    }
    w->fault.failed_batches += batches;
    atomic_store(&s->fault_reason, reason);
    if (strcmp(reason, "size_cap") == 0) {
        w->size_evicting = 2; /* deeper eviction at once: see store_retention_size */
        w->size_cap_hits++;
    }
    if (w->fault.last_log != 0 && w->fault.reason == reason &&
        now - w->fault.last_log < STORE_FAULT_LOG_NS)
        return;
    char msg[256];
    log_quote(w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc), msg, sizeof(msg));
    log_event(LOG_ERROR, "store_write_failed",
              "reason=%s what=%s sqlite_code=%d sqlite=\"%s\" errno=%d failed_batches=%" PRIu64
              " failing_for_ms=%" PRIu64
              " answer=retryable action=\"%s; exporters are told to retry (HTTP 503, gRPC"
              " UNAVAILABLE) and ingest resumes by itself\"",
              reason, what, rc, msg, sys_errno, w->fault.failed_batches,
              (now - w->fault.since) / 1000000, action);
    w->fault.last_log = now;
    w->fault.reason = reason;
}

/* A transaction committed: the end of a fault, if there was one. */
void store_fault_clear(store *s) {
    store_writer *w = &s->w;
    w->size_cap_hits = 0;
    if (!w->fault.active)
        return;
    log_event(LOG_INFO, "store_write_recovered",
              "failing_for_ms=%" PRIu64 " failed_batches=%" PRIu64,
              (store_mono_ns() - w->fault.since) / 1000000, w->fault.failed_batches);
    w->fault.active = 0;
    atomic_store(&s->writes_failing, 0);
}
