/* test_store_retention.c - retention by age and database size, the size
 * cap as a retryable fault, and steady-state file size under count
 * retention (storage/store_retention.c, store_seg.c, store_fault.c).
 * Retention drops whole segments: a segment goes by age once all its items
 * are older than --max-age, by size oldest first. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "storage/store.h"
#include "store_fixture.h"

#define SEC 1000000000ULL

static char dir[128];

static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
}

static void teardown(void) {
    fx_rmdir(dir);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static store *open_cfg(store_config *cfg) {
    cfg->mode = STORE_MODE_SQLITE;
    cfg->data_dir = dir;
    store *s = NULL;
    char err[256];
    int rc = store_open(cfg, &s, err, sizeof(err));
    ck_assert_msg(rc == STORE_OK, "store_open: %d %s", rc, err);
    return s;
}

static int64_t file_size(const char *name) {
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Traces seeded first_trace.. with `spans` spans each, ending at end[i]. */
static model_batch *traces(uint64_t first_trace, size_t n, const uint64_t *end, size_t spans) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", "i-1");
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, n * spans);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = first_trace + i;
        for (size_t k = 0; k < spans; k++)
            fx_span(b, r, sc, t, t * 100 + k + 1, k ? t * 100 + 1 : 0, k ? "child" : "root",
                    end[i] - 1000 + k, end[i] - k);
    }
    return b;
}

static model_batch *logs_at(const uint64_t *time, size_t n, const char *body) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, "svc", "i-1");
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_logs(b, n);
    for (size_t i = 0; i < n; i++)
        fx_log(b, r, sc, time[i], 9, body);
    return b;
}

/* One more (empty) commit: the retention of every earlier round has run
 * (the writer runs retention after a round's callbacks, before it takes
 * the next batch). */
static void sync_writer(store *s) {
    ck_assert_int_eq(fx_commit(s, model_batch_new(MODEL_SIGNAL_LOGS, 0)), STORE_OK);
}

/* Age retention runs on a timer (every second) as well as after commits:
 * waits, bounded, for the evictions the test expects. */
static void wait_evicted(store *s, model_signal sig, uint64_t n) {
    store_stats st;
    for (int i = 0; i < 500; i++) { /* at most 10 s */
        store_get_stats(s, &st);
        if (st.evicted[sig] >= n)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(st.evicted[sig], n);
}

/* Every stored count agrees with the rows: services, trace summaries, the
 * segments' manifest. */
static void check_consistent(sqlite3 *db) {
    fx_check_store(db);
    ck_assert_int_eq(fx_sql_int(db, "SELECT coalesce(sum(span_count),0) FROM services"),
                     fx_rows(db, "spans", NULL));
    ck_assert_int_eq(fx_sql_int(db, "SELECT coalesce(sum(log_count),0) FROM services"),
                     fx_rows(db, "logs", NULL));
    ck_assert_int_eq(fx_sql_int(db, "SELECT coalesce(sum(point_count),0) FROM services"),
                     fx_rows(db, "points", NULL));
}

/* ---- age ------------------------------------------------------------------ */

/* --max-spans 30 and --max-logs 10 make segments of 3 spans and of one
 * record: each trace (3 spans) and each record fills a segment of its own,
 * so exactly the old ones go, whole. */
START_TEST(test_age_evicts_old_items_keeps_young) {
    store_config cfg = {.max_age_ns = 3600 * SEC, .max_spans = 30, .max_logs = 10};
    store *s = open_cfg(&cfg);
    uint64_t now = now_ns();
    uint64_t ends[4] = {now - 3 * 3600 * SEC, now - 2 * 3600 * SEC, now - 60 * SEC, now};
    ck_assert_int_eq(fx_commit(s, traces(1, 4, ends, 3)), STORE_OK);
    uint64_t lt[5] = {now - 5 * 3600 * SEC, now - 2 * 3600 * SEC, now - 3601 * SEC, now - 10 * SEC,
                      now};
    ck_assert_int_eq(fx_commit(s, logs_at(lt, 5, "hello")), STORE_OK);
    wait_evicted(s, MODEL_SIGNAL_TRACES, 6); /* two whole traces */
    wait_evicted(s, MODEL_SIGNAL_LOGS, 3);
    sync_writer(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "traces", NULL), 2);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 6);
    ck_assert_int_eq(fx_rows(db, "traces", NULL), fx_segments(db, MODEL_SIGNAL_TRACES, -1));
    ck_assert_int_eq(fx_rows(db, "traces", "end_ns < 0"), 0);
    char young[64];
    snprintf(young, sizeof(young), "end_ns >= %llu", (unsigned long long)(now - 61 * SEC));
    ck_assert_int_eq(fx_rows(db, "traces", young), 2);
    ck_assert_int_eq(fx_rows(db, "logs", NULL), 2);
    snprintf(young, sizeof(young), "time_ns >= %llu", (unsigned long long)(now - 11 * SEC));
    ck_assert_int_eq(fx_rows(db, "logs", young), 2);
    ck_assert_int_eq(fx_match(db, "logs_fts", "hello"), 2);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* A trace is judged by its newest span: an old root with a young child
 * stays whole, in its home segment, even when more of its spans arrive
 * after that segment was sealed; the segments around it, all old, go.
 * --max-spans 10: segments of one span, so each batch below rolls over. */
START_TEST(test_age_keeps_trace_whole_by_its_end) {
    store_config cfg = {.max_age_ns = 3600 * SEC, .max_spans = 10};
    store *s = open_cfg(&cfg);
    uint64_t now = now_ns();
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 1);
    /* trace 6, all old, alone in the first segment */
    fx_span(b, r, sc, 6, 61, 0, "old", now - 6 * 3600 * SEC, now - 6 * 3600 * SEC + 1);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    /* trace 7: an old root and a young child, in the next segment */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "svc", NULL);
    sc = fx_scope(b, "lib", "1");
    fx_spans(b, 2);
    fx_span(b, r, sc, 7, 71, 0, "root", now - 5 * 3600 * SEC, now - 5 * 3600 * SEC + 1);
    fx_span(b, r, sc, 7, 72, 71, "late child", now - 10 * SEC, now - 5 * SEC);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    /* trace 8, all old: seals trace 7's segment */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "svc", NULL);
    sc = fx_scope(b, "lib", "1");
    fx_spans(b, 1);
    fx_span(b, r, sc, 8, 81, 0, "old", now - 4 * 3600 * SEC, now - 4 * 3600 * SEC + 1);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    /* one more young span of trace 7 joins it in its sealed segment */
    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    r = fx_resource(b, "svc", NULL);
    sc = fx_scope(b, "lib", "1");
    fx_spans(b, 1);
    fx_span(b, r, sc, 7, 73, 71, "later child", now - 4 * SEC, now - 1 * SEC);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    /* traces 6 and 8 go (8 from the active segment, sealed for it) */
    wait_evicted(s, MODEL_SIGNAL_TRACES, 2);
    sync_writer(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 3);
    ck_assert_int_eq(fx_trace_segment(db, 6), 0);
    ck_assert_int_eq(fx_trace_segment(db, 8), 0);
    int64_t home = fx_trace_segment(db, 7);
    ck_assert_int_gt(home, 0);
    ck_assert_int_eq(fx_sqlf(db, "SELECT sealed FROM segments WHERE id=%lld", (long long)home), 1);
    ck_assert_int_eq(fx_sqlf(db, "SELECT span_count FROM traces_%lld", (long long)home), 3);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* Items dated far in the future (skewed clocks) count as their arrival for
 * age retention, so they do not hold their segment back; an item dated a
 * little ahead (under 5 minutes) counts as its own time. --max-logs 10:
 * one record per segment. */
START_TEST(test_age_future_dated_item_does_not_block) {
    store_config cfg = {.max_age_ns = 2 * SEC, .max_logs = 10};
    store *s = open_cfg(&cfg);
    uint64_t now = now_ns();
    uint64_t lt[3] = {now + 365 * 86400 * SEC, now + 120 * SEC, now};
    ck_assert_int_eq(fx_commit(s, logs_at(lt, 3, "x")), STORE_OK);
    /* the far-future one and the one of now go about 2 s after arrival */
    wait_evicted(s, MODEL_SIGNAL_LOGS, 2);
    sync_writer(s);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "logs", NULL), 1);
    char kept[64];
    snprintf(kept, sizeof(kept), "time_ns = %llu", (unsigned long long)(now + 120 * SEC));
    ck_assert_int_eq(fx_rows(db, "logs", kept), 1);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* The writer wakes by itself to evict what ages while nothing arrives: the
 * active segment, all of it old, is sealed and dropped. */
START_TEST(test_age_checked_while_idle) {
    store_config cfg = {.max_age_ns = 2 * SEC};
    store *s = open_cfg(&cfg);
    uint64_t lt[3] = {now_ns(), now_ns(), now_ns()};
    ck_assert_int_eq(fx_commit(s, logs_at(lt, 3, "soon old")), STORE_OK);
    /* nothing else is sent: only the writer's own timer can evict them */
    wait_evicted(s, MODEL_SIGNAL_LOGS, 3);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "logs", NULL), 0);
    ck_assert_int_eq(fx_sql_int(db, "SELECT log_count FROM services"), 0);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_LOGS, 1), 0);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* ---- size ----------------------------------------------------------------- */

static model_batch *big_logs(uint64_t seq, size_t n, size_t body_len) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, "svc", "i-1");
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_logs(b, n);
    char *body = malloc(body_len + 1);
    ck_assert_ptr_nonnull(body);
    for (size_t i = 0; i < n; i++) {
        /* distinct words, so the full-text index grows too */
        for (size_t k = 0; k < body_len; k++)
            body[k] = (k % 8 == 7) ? ' ' : (char)('a' + (seq * 31 + i * 7 + k * 3) % 26);
        body[body_len] = '\0';
        fx_log(b, r, sc, 1000 + seq * 1000 + i, 9, body);
    }
    free(body);
    return b;
}

/* Regression: a log record's texts were counted with a fourth, never set
 * text length (uninitialised memory), so with --max-db-size (segments
 * sealed past a sixteenth of it in texts) a log segment rolled over after
 * one or two records, and the manifest's size estimate was garbage. */
START_TEST(test_size_cap_log_segment_bytes_are_its_texts) {
    store_config cfg = {.max_db_bytes = 8 << 20}; /* segments of 512 KiB of texts */
    store *s = open_cfg(&cfg);
    /* a spans batch first: its freed texts leave data where a logs batch's
     * text table may be allocated next */
    uint64_t ends[20];
    for (int i = 0; i < 20; i++)
        ends[i] = now_ns();
    ck_assert_int_eq(fx_commit(s, traces(1, 20, ends, 5)), STORE_OK);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_int_eq(fx_commit(s, big_logs(i, 100, 100)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_LOGS, -1), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT items FROM segments WHERE signal=1"), 400);
    /* bodies of 100 characters as JSON strings, attributes "{}", no tokens */
    ck_assert_int_eq(fx_sql_int(db, "SELECT bytes FROM segments WHERE signal=1"), 400 * 104);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

START_TEST(test_size_cap_keeps_database_under_it) {
    store_config cfg = {.max_db_bytes = 2 << 20};
    store *s = open_cfg(&cfg);
    int failed = 0;
    for (uint64_t i = 0; i < 60; i++) /* ~60 x 100 x 600 bytes = 3.6 MB of bodies */
        failed += fx_commit(s, big_logs(i, 100, 600)) != STORE_OK;
    sync_writer(s);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_int_eq(failed, 0); /* retention made room before the cap was hit */
    ck_assert_uint_gt(st.evicted[MODEL_SIGNAL_LOGS], 0);
    ck_assert_uint_le(st.db_bytes, 2 << 20);
    ck_assert_uint_eq(st.db_max_bytes, 2 << 20);
    ck_assert_int_eq(st.writes_failing, 0);
    sqlite3 *db = fx_raw_db(dir);
    /* the newest are kept, the oldest went (whole segments); counters agree */
    ck_assert_int_eq(fx_rows(db, "logs", "time_ns = 1000 + 59 * 1000 + 99"), 1);
    ck_assert_int_eq(fx_rows(db, "logs", "time_ns < 2000"), 0);
    ck_assert_int_eq(fx_rows(db, "logs", NULL), 6000 - (int64_t)st.evicted[MODEL_SIGNAL_LOGS]);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s); /* checkpoints the WAL into the file */
    ck_assert_int_le(file_size("loupe.db"), 2 << 20);
}
END_TEST

/* A transaction that cannot fit under the cap is a retryable failure
 * (STORE_EIO), counted; the store keeps going and a later batch that fits
 * commits and ends the fault. */
START_TEST(test_size_cap_hit_is_retryable_and_recovers) {
    store_config cfg = {.max_db_bytes = 1 << 20};
    store *s = open_cfg(&cfg);
    ck_assert_int_eq(fx_commit(s, big_logs(1, 10, 100)), STORE_OK);
    /* 3 MB in one batch: larger than the whole cap */
    ck_assert_int_eq(fx_commit(s, big_logs(2, 300, 10000)), STORE_EIO);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_int_eq(st.writes_failing, 1);
    ck_assert_uint_ge(st.write_failures, 1);
    ck_assert_int_eq(fx_commit(s, big_logs(3, 10, 100)), STORE_OK);
    store_get_stats(s, &st);
    ck_assert_int_eq(st.writes_failing, 0);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_LOGS], 20);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "logs", NULL), 20 - (int64_t)st.evicted[1]);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

START_TEST(test_size_cap_below_minimum_refused) {
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir, .max_db_bytes = 4096};
    store *s = NULL;
    char err[256] = "";
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "minimum"));
}
END_TEST

/* A database already larger than a new, smaller cap is brought under it. */
START_TEST(test_size_cap_lowered_on_existing_database) {
    store_config cfg = {0};
    store *s = open_cfg(&cfg);
    for (uint64_t i = 0; i < 40; i++)
        ck_assert_int_eq(fx_commit(s, big_logs(i, 100, 600)), STORE_OK);
    store_close(s);
    ck_assert_int_gt(file_size("loupe.db"), 2 << 20);
    store_config small = {.max_db_bytes = 1 << 20};
    s = open_cfg(&small);
    sync_writer(s);
    /* bounded: eviction drops a few segments per round; empty commits drive
     * rounds */
    store_stats st;
    for (int i = 0; i < 50; i++) {
        store_get_stats(s, &st);
        if (st.db_bytes <= 1 << 20)
            break;
        sync_writer(s);
    }
    ck_assert_uint_le(st.db_bytes, 1 << 20);
    ck_assert_uint_gt(st.evicted[MODEL_SIGNAL_LOGS], 0);
    ck_assert_int_eq(fx_commit(s, big_logs(99, 10, 100)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "logs", "time_ns >= 1000 + 99 * 1000"), 10);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* Stores rounds x 500 traces of 4 spans (seeds from 1, ending after the
 * time returned) with the default limits, which keep them in one active
 * segment, and closes the store. */
static uint64_t traces_without_limits(uint64_t rounds) {
    store_config cfg = {0};
    store *s = open_cfg(&cfg);
    uint64_t now = now_ns();
    for (uint64_t round = 0; round < rounds; round++) {
        uint64_t ends[500];
        for (int i = 0; i < 500; i++)
            ends[i] = now + round * 1000 + (uint64_t)i;
        ck_assert_int_eq(fx_commit(s, traces(1 + round * 500, 500, ends, 4)), STORE_OK);
    }
    store_close(s);
    return now;
}

/* Regression: with nothing sealed, size retention sealed the largest
 * active segment before dropping it, in a transaction that also made the
 * next segment's tables (and for traces wrote a bloom filter): a database
 * over its cap has no free page for that, so nothing could ever be
 * evicted and every write failed. Now the active segment is dropped as it
 * is. Here the traces stored without a cap are one active segment. */
START_TEST(test_size_cap_lowered_on_one_active_trace_segment) {
    uint64_t now = traces_without_limits(15);
    ck_assert_int_gt(file_size("loupe.db"), 2 << 20);
    store_config small = {.max_db_bytes = 1 << 20};
    store *s = open_cfg(&small);
    fx_settle(s);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_le(st.db_bytes, 1 << 20);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_TRACES], 30000);
    ck_assert_int_eq(st.writes_failing, 0);
    uint64_t end[1] = {now + 99999};
    ck_assert_int_eq(fx_commit(s, traces(100000, 1, end, 4)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 4);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* ---- steady state ------------------------------------------------------------ */

/* Under endless load with count retention, freed pages are reused: the file
 * stops growing once the maximum is reached. Segments of a tenth of each
 * limit (400): the store keeps between 90% and 100% of it. */
START_TEST(test_count_retention_steady_file_size) {
    store_config cfg = {.max_spans = 4000, .max_logs = 4000};
    store *s = open_cfg(&cfg);
    int64_t size_warm = 0, size_end = 0;
    uint64_t now = now_ns();
    for (uint64_t round = 0; round < 120; round++) {
        uint64_t ends[50];
        for (int i = 0; i < 50; i++)
            ends[i] = now + round * 1000 + (uint64_t)i;
        ck_assert_int_eq(fx_commit(s, traces(1 + round * 50, 50, ends, 8)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, big_logs(round, 400, 120)), STORE_OK);
        if (round == 39) { /* 16,000 spans and logs sent: 4 x the maximum */
            fx_settle(s);
            size_warm = file_size("loupe.db") + file_size("loupe.db-wal");
        }
    }
    fx_settle(s);
    size_end = file_size("loupe.db") + file_size("loupe.db-wal");
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_TRACES], 120 * 400);
    ck_assert_uint_ge(st.evicted[MODEL_SIGNAL_TRACES], 120 * 400 - 4000);
    ck_assert_uint_ge(st.evicted[MODEL_SIGNAL_LOGS], 120 * 400 - 4000);
    /* three times as much data again went through: the files grew by at most
     * a quarter (the WAL's size varies with checkpoints) */
    ck_assert_msg(size_end <= size_warm + size_warm / 4, "file grew from %lld to %lld bytes",
                  (long long)size_warm, (long long)size_end);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_le(fx_rows(db, "spans", NULL), 4000);
    ck_assert_int_ge(fx_rows(db, "spans", NULL), 3600);
    ck_assert_int_le(fx_rows(db, "logs", NULL), 4000);
    ck_assert_int_ge(fx_rows(db, "logs", NULL), 3600);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_TRACES] + (uint64_t)fx_rows(db, "spans", NULL),
                      120 * 400);
    int64_t freelist = fx_sql_int(db, "PRAGMA freelist_count");
    int64_t pages = fx_sql_int(db, "PRAGMA page_count");
    ck_assert_int_lt(freelist, pages);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* Count retention far over the maximum (a smaller --max-spans at restart)
 * is worked off whole segments at a time: the 20,000 spans stored before
 * are one segment, sealed when the next trace arrives and then dropped
 * whole, leaving that trace alone (under 90% of the new limit, once). */
START_TEST(test_count_lowered_at_restart) {
    uint64_t now = traces_without_limits(10);
    store_config small = {.max_spans = 100};
    store *s = open_cfg(&small);
    uint64_t ends[1] = {now + 99999};
    ck_assert_int_eq(fx_commit(s, traces(100000, 1, ends, 4)), STORE_OK);
    fx_settle(s);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.evicted[MODEL_SIGNAL_TRACES], 20000);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 4);
    ck_assert_int_eq(fx_rows(db, "traces", NULL), 1);
    ck_assert_int_gt(fx_trace_segment(db, 100000), 0);
    check_consistent(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

static Suite *retention_suite(void) {
    Suite *s = suite_create("store_retention");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_age_evicts_old_items_keeps_young);
    tcase_add_test(tc, test_age_keeps_trace_whole_by_its_end);
    tcase_add_test(tc, test_age_future_dated_item_does_not_block);
    tcase_add_test(tc, test_age_checked_while_idle);
    tcase_add_test(tc, test_size_cap_log_segment_bytes_are_its_texts);
    tcase_add_test(tc, test_size_cap_keeps_database_under_it);
    tcase_add_test(tc, test_size_cap_hit_is_retryable_and_recovers);
    tcase_add_test(tc, test_size_cap_below_minimum_refused);
    tcase_add_test(tc, test_size_cap_lowered_on_existing_database);
    tcase_add_test(tc, test_size_cap_lowered_on_one_active_trace_segment);
    tcase_add_test(tc, test_count_retention_steady_file_size);
    tcase_add_test(tc, test_count_lowered_at_restart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(retention_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
