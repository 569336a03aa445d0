/* reader.c - read handles: connection, snapshot of the segments, query
 * deadline; see reader.h and store.h. */
#include "reader.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clk.h"

/* Checked every this many SQLite virtual machine steps. */
#define READER_PROGRESS_STEPS 4000

int store_reader_timed_out(store_reader *r) {
    if (!r->timed_out && r->deadline != 0 && (uint64_t)clk_ns(CLOCK_MONOTONIC) >= r->deadline)
        r->timed_out = 1;
    return r->timed_out;
}

static int reader_progress(void *ud) {
    store_reader *r = ud;
    /* 1: SQLITE_INTERRUPT; never once the deadline is lifted (rendering) */
    return r->deadline != 0 && store_reader_timed_out(r);
}

/* Loads the manifest of the current snapshot: by signal, newest first. */
static int reader_load_segs(store_reader *r) {
    sqlite3_stmt *st = NULL;
    r->n_segs = 0;
    int rc = sqlite3_prepare_v2(r->db,
                                "SELECT id, signal, sealed, created_ns, items, min_time_ns,"
                                " max_time_ns, age_time_ns, bytes, format FROM segments"
                                " ORDER BY signal, id DESC",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n_segs == r->segs_cap) {
            size_t cap = r->segs_cap ? 2 * r->segs_cap : 32;
            seg_meta *n = realloc(r->segs, cap * sizeof(*n));
            if (n == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            r->segs = n;
            r->segs_cap = cap;
        }
        seg_meta *m = &r->segs[r->n_segs++];
        m->id = sqlite3_column_int64(st, 0);
        m->signal = (model_signal)sqlite3_column_int(st, 1);
        m->sealed = sqlite3_column_int(st, 2);
        m->created_ns = (uint64_t)sqlite3_column_int64(st, 3);
        m->items = sqlite3_column_int64(st, 4);
        m->min_time = sqlite3_column_type(st, 5) == SQLITE_NULL ? SEG_NO_MIN
                                                                : sqlite3_column_int64(st, 5);
        m->max_time = sqlite3_column_type(st, 6) == SQLITE_NULL ? SEG_NO_MAX
                                                                : sqlite3_column_int64(st, 6);
        m->age_time = sqlite3_column_type(st, 7) == SQLITE_NULL ? SEG_NO_MAX
                                                                : sqlite3_column_int64(st, 7);
        m->bytes = (uint64_t)sqlite3_column_int64(st, 8);
        m->format = sqlite3_column_int(st, 9);
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    return rc;
}

void store_reader_arm(store_reader *r) {
    r->deadline = r->timeout_ns ? (uint64_t)clk_ns(CLOCK_MONOTONIC) + r->timeout_ns : 0;
}

int store_reader_begin(store_reader *r) {
    if (r->depth++ > 0)
        return SQLITE_OK;
    r->timed_out = 0;
    store_reader_arm(r);
    sqlite3_progress_handler(r->db, READER_PROGRESS_STEPS, reader_progress, r);
    int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = reader_load_segs(r);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(r->db))
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        r->depth = 0;
        r->deadline = 0;
    }
    return rc;
}

void store_reader_end(store_reader *r) {
    if (r->depth == 0 || --r->depth > 0)
        return;
    r->deadline = 0; /* COMMIT of a read transaction must not be interrupted */
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
}

void store_reader_segs(const store_reader *r, model_signal sig, const seg_meta **out,
                       size_t *n) {
    size_t i = 0;
    while (i < r->n_segs && r->segs[i].signal != sig)
        i++;
    size_t j = i;
    while (j < r->n_segs && r->segs[j].signal == sig)
        j++;
    *out = r->segs + i;
    *n = j - i;
}

const seg_meta *store_reader_seg(const store_reader *r, int64_t id) {
    for (size_t i = 0; i < r->n_segs; i++)
        if (r->segs[i].id == id)
            return &r->segs[i];
    return NULL;
}
