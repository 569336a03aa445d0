/* test_segments.c - the segmented store (storage/segment.c, store_seg.c,
 * store_retention.c, store_delete.c, reader.c, query_*.c): roll-over at a
 * tenth of each limit, the manifest in step with the rows, rollback
 * safety, a trace's home segment and its bloom filter, whole-segment
 * drops with the services' counters, lists, cursors and export across
 * segments, and the query deadline. Small limits make small segments: a
 * limit of 10 makes segments of one item. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/query.h"
#include "storage/store.h"
#include "store_fixture.h"

static char dir[128];
static buf out;

static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
    buf_init(&out, 16 << 20);
}

static void teardown(void) {
    buf_free(&out);
    fx_rmdir(dir);
}

/* A store on disk (memory = 0) or in memory, with these limits. */
static store *open_store(int memory, store_config cfg) {
    cfg.mode = memory ? STORE_MODE_MEMORY : STORE_MODE_SQLITE;
    cfg.data_dir = dir;
    store *s = NULL;
    char err[256];
    ck_assert_msg(store_open(&cfg, &s, err, sizeof(err)) == STORE_OK, "store_open: %s", err);
    return s;
}

static store_reader *reader(store *s) {
    store_reader *r = NULL;
    ck_assert_int_eq(store_reader_open(s, &r), STORE_OK);
    return r;
}

static json_t *parse_out(void) {
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %.300s", err.text, out.ptr);
    return j;
}

static uint64_t commits(store *s) {
    store_stats st;
    store_get_stats(s, &st);
    return st.commits;
}

/* ---- batches --------------------------------------------------------------------- */

/* n traces of one span each, seeds first.., service svc; span k is named
 * "t<seed>" and starts at start(k). */
static model_batch *one_span_traces(const char *svc, uint64_t first, size_t n,
                                    uint64_t (*start)(uint64_t seed)) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, svc, NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = first + i;
        char name[32];
        snprintf(name, sizeof(name), "t%llu", (unsigned long long)t);
        uint64_t s0 = start(t);
        fx_span(b, r, sc, t, t * 100 + 1, 0, name, s0, s0 + 10);
    }
    return b;
}

/* n log records k = first.., each with attribute k and body "k<k>", at
 * time(k), of service svc. */
static model_batch *logs_k(const char *svc, uint64_t first, size_t n, uint64_t (*time)(uint64_t k),
                           size_t body_len) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, svc, NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_logs(b, n);
    char *body = malloc(body_len + 32);
    ck_assert_ptr_nonnull(body);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = first + i;
        int len = snprintf(body, 32, "k%llu", (unsigned long long)k);
        for (size_t p = (size_t)len; p < body_len; p++)
            body[p] = (char)('a' + p % 26);
        body[body_len > (size_t)len ? body_len : (size_t)len] = '\0';
        model_log *l = fx_log(b, r, sc, time(k), 9, body);
        l->attrs.items = fx_kvs(b, 1);
        l->attrs.n = 1;
        fx_kv_int(b, &l->attrs.items[0], "k", (int64_t)k);
    }
    free(body);
    return b;
}

/* n points of one gauge of service svc, values and times first.. */
static model_batch *points(const char *svc, const char *name, uint64_t first, size_t n) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    b->metrics = arena_calloc(b->arena, 1, sizeof(model_metric));
    b->n_metrics = 1;
    model_metric *m = &b->metrics[0];
    m->resource = fx_resource(b, svc, NULL);
    m->scope = fx_scope(b, "meter", "1");
    m->name = fx_str(b, name);
    m->description = model_str_empty;
    m->unit = model_str_empty;
    m->type = MODEL_METRIC_GAUGE;
    b->points = arena_calloc(b->arena, n, sizeof(model_point));
    for (size_t i = 0; i < n; i++) {
        model_point *p = &b->points[b->n_points++];
        p->metric = m;
        p->time_ns = first + i;
        p->is_int = 1;
        p->as_int = (int64_t)(first + i);
        p->as_double = (double)p->as_int;
    }
    return b;
}

static uint64_t wall_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

static uint64_t at_seed(uint64_t t) { return 1000 + t; }
static uint64_t just_now(uint64_t k) { return wall_ns() + k; }
static uint64_t down(uint64_t k) { return 100000 - k; }
static uint64_t three(uint64_t k) { return 5000 + k % 3; }
static uint64_t shuffled(uint64_t k) { return 7000 + (k * 37) % 101; }

/* ---- roll-over ------------------------------------------------------------------ */

/* The manifest's segments of sig, oldest first, as "items[s]" for sealed
 * ones and "items" for the active one: "5s,5s,3". */
static const char *shape(sqlite3 *db, model_signal sig) {
    static char text[1024];
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT items, sealed FROM segments WHERE signal=?1"
                                        " ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, (int)sig);
    size_t len = 0;
    text[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW && len + 32 < sizeof(text))
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%lld%s", len ? "," : "",
                                (long long)sqlite3_column_int64(st, 0),
                                sqlite3_column_int(st, 1) ? "s" : "");
    sqlite3_finalize(st);
    return text;
}

/* Each signal's active segment takes items until it holds a tenth of the
 * signal's limit; the next item seals it and starts a new one, inside the
 * batch's one transaction. A trace's spans of a batch stay together: a
 * trace joins the active segment while it holds less than its target, so
 * a trace segment may pass it by the rest of one trace. */
START_TEST(test_rollover_at_a_tenth_of_each_limit) {
    store *s = open_store(0, (store_config){.max_spans = 100, .max_logs = 50, .max_points = 30});
    uint64_t c0 = commits(s);
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 0, 23, at_seed, 8)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("svc", "g", 1, 10)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1, 25, at_seed)), STORE_OK);
    ck_assert_uint_eq(commits(s) - c0, 3); /* one transaction per batch, however split */
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_LOGS), "5s,5s,5s,5s,3");
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_METRICS), "3s,3s,3s,1");
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_TRACES), "10s,10s,5");
    fx_check_store(db);
    /* two traces of 4 spans when the active trace segment holds 5 of its
     * 10: both join it whole (9 < 10 when the second comes); the next
     * trace starts a new segment */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 8);
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 4; k++)
            fx_span(b, r, sc, 500 + (uint64_t)t, 5000 + (uint64_t)(t * 10 + k), 0, "four", 2000,
                    2100);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_TRACES), "10s,10s,13");
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 600, 1, at_seed)), STORE_OK);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_TRACES), "10s,10s,13s,1");
    /* the manifest's times are the items' own: exact for records */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE signal=1 AND"
                                    " (max_time_ns - min_time_ns <> items - 1)"),
                     0);
    ck_assert_int_eq(fx_sql_int(db, "SELECT min(min_time_ns) FROM segments WHERE signal=1"),
                     1000);
    ck_assert_int_eq(fx_sql_int(db, "SELECT max(max_time_ns) FROM segments WHERE signal=1"),
                     1022);
    fx_check_store(db);
    /* reopened, the store goes on with its active segments */
    store_close(s);
    s = open_store(0, (store_config){.max_spans = 100, .max_logs = 50, .max_points = 30});
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 23, 3, at_seed, 8)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("svc", "g", 11, 3)), STORE_OK);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_LOGS), "5s,5s,5s,5s,5s,1");
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_METRICS), "3s,3s,3s,3s,1");
    fx_check_store(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* With --max-db-size a segment is also sealed once its texts reach a
 * sixteenth of the cap (at least 64 KiB): here 64 KiB, records of 1004
 * bytes of texts (a 1000-character body as a JSON string, attributes
 * {"k":N} and their index tokens aside), so 66 records fill one. */
START_TEST(test_rollover_by_bytes_with_a_size_cap) {
    store *s = open_store(0, (store_config){.max_db_bytes = 1 << 20});
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 0, 150, at_seed, 1000)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_int_eq(fx_segments(db, MODEL_SIGNAL_LOGS, 1), 2);
    /* each sealed one passed 64 KiB with its last record, not before */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE sealed=1 AND"
                                    " (bytes < 65536 OR bytes - bytes/items >= 65536)"),
                     0);
    ck_assert_int_eq(fx_sql_int(db, "SELECT sum(items) FROM segments"), 150);
    fx_check_store(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* Waits (bounded) until the wall clock has passed t. */
static void wait_until(uint64_t t) {
    for (int i = 0; i < 1000; i++) {
        if (wall_ns() > t)
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("the clock did not pass the time waited for");
}

/* With --max-age a segment is also sealed once it is older than a tenth of
 * it (and holds something): 10 s makes that 1 s. */
START_TEST(test_rollover_by_age) {
    store *s = open_store(0, (store_config){.max_age_ns = 10000000000ULL});
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 0, 3, just_now, 8)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 3, 3, just_now, 8)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_LOGS), "6");
    wait_until((uint64_t)fx_sql_int(db, "SELECT created_ns FROM segments") + 1000000000ULL);
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 6, 2, just_now, 8)), STORE_OK);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_LOGS), "6s,2");
    fx_check_store(db);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* ---- rollback ---------------------------------------------------------------------- */

/* Appends batches while `side` holds the write lock, so that the writer
 * takes them into one transaction, and waits for their callbacks;
 * statuses into st[0..n). */
static void append_together(store *s, sqlite3 *side, model_batch **b, int *st, int n) {
    ck_assert_int_eq(sqlite3_exec(side, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fx_waiter w;
    fx_waiter_init(&w);
    fx_tag tags[8];
    ck_assert_int_le(n, 8);
    for (int i = 0; i < n; i++) {
        tags[i] = (fx_tag){&w, i};
        ck_assert_int_eq(store_append(s, b[i], fx_done, &tags[i]), STORE_OK);
    }
    ck_assert_int_eq(sqlite3_exec(side, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    fx_wait(&w, n);
    for (int i = 0; i < n; i++)
        st[i] = w.statuses[i];
}

/* A batch that fails for a reason of its own after it rolled segments
 * over (here a trigger refuses its per-segment service counts, the last
 * thing a batch writes) is left out: the transaction is rolled back and
 * written again without it. The segments it made must vanish with it and
 * the one it sealed be active again, in the database and in the writer,
 * whose next commits, roll-overs, trace homes and count retention all go
 * by what it remembers. Once with RAISE(ABORT) (the writer rolls back),
 * once with RAISE(ROLLBACK) (SQLite already did). --max-spans 20: segments
 * of 2 spans. */
START_TEST(test_rollback_leaves_no_half_made_segment) {
    static const char *const raise[2] = {"ABORT", "ROLLBACK"};
    for (int round = 0; round < 2; round++) {
        if (round)
            fx_rmdir(dir), fx_tmpdir(dir, sizeof(dir));
        store *s = open_store(0, (store_config){.max_spans = 20});
        ck_assert_int_eq(fx_commit(s, one_span_traces("ok", 1, 1, at_seed)), STORE_OK);
        sqlite3 *side = fx_raw_db(dir);
        char trig[512];
        snprintf(trig, sizeof(trig),
                 "CREATE TRIGGER boom BEFORE INSERT ON segment_services WHEN"
                 " (SELECT name FROM services WHERE id=NEW.service)='boom'"
                 " BEGIN SELECT RAISE(%s, 'injected failure'); END;",
                 raise[round]);
        ck_assert_int_eq(sqlite3_exec(side, trig, NULL, NULL, NULL), SQLITE_OK);
        /* ok: fills segment 1; boom: 5 traces, seals 1, makes 2 and 3, seals
         * 2 and 3, makes 4, then fails; ok: seals 1 again, makes 2 */
        model_batch *b[3] = {one_span_traces("ok", 2, 1, at_seed),
                             one_span_traces("boom", 10, 5, at_seed),
                             one_span_traces("ok", 3, 1, at_seed)};
        int st[3];
        append_together(s, side, b, st, 3);
        ck_assert_int_eq(st[0], STORE_OK);
        ck_assert_int_eq(st[1], STORE_EIO);
        ck_assert_int_eq(st[2], STORE_OK);
        ck_assert_str_eq(shape(side, MODEL_SIGNAL_TRACES), "2s,1");
        /* the ids the failed attempt took are free again (AUTOINCREMENT's
         * counter rolled back with it) */
        ck_assert_int_eq(fx_sql_int(side, "SELECT group_concat(id, ',')='1,2' FROM segments"), 1);
        ck_assert_int_eq(fx_sql_int(side, "SELECT count(*) FROM services s JOIN segment_services ss"
                                          " ON ss.service=s.id WHERE s.name='boom'"),
                         0);
        ck_assert_int_eq(fx_rows(side, "spans", "name GLOB 't1?'"), 0);
        fx_check_store(side);
        /* the writer agrees: a late span of trace 1 goes home to sealed
         * segment 1 (its bloom filter made again in the redo), new traces
         * fill segment 2 and roll over as counted */
        model_batch *late = model_batch_new(MODEL_SIGNAL_TRACES, 0);
        fx_spans(late, 1);
        fx_span(late, fx_resource(late, "ok", NULL), fx_scope(late, "lib", "1"), 1, 199, 101,
                "late", 1500, 1600);
        ck_assert_int_eq(fx_commit(s, late), STORE_OK);
        ck_assert_int_eq(fx_trace_segment(side, 1), 1);
        ck_assert_int_eq(fx_commit(s, one_span_traces("ok", 4, 6, at_seed)), STORE_OK);
        ck_assert_str_eq(shape(side, MODEL_SIGNAL_TRACES), "3s,2s,2s,2s,1");
        fx_check_store(side);
        /* count retention by the writer's counts: 20 spans are kept exactly
         * when they are right */
        ck_assert_int_eq(fx_commit(s, one_span_traces("ok", 20, 15, at_seed)), STORE_OK);
        fx_settle(s);
        store_stats stats;
        store_get_stats(s, &stats);
        ck_assert_int_eq(fx_rows(side, "spans", NULL), 20);
        ck_assert_uint_eq(stats.evicted[MODEL_SIGNAL_TRACES], 25 - 20);
        ck_assert_uint_eq(stats.accepted[MODEL_SIGNAL_TRACES], 25);
        fx_check_store(side);
        sqlite3_close(side);
        store_close(s);
    }
}
END_TEST

/* ---- a trace's home ---------------------------------------------------------------- */

/* query_trace's span names of trace seed t, in its order, as "a,b,c";
 * "" when it is not found. */
static const char *trace_spans(store_reader *rd, uint64_t t) {
    static char names[1024];
    uint8_t tid[16];
    fx_id(tid, 16, t);
    buf_reset(&out);
    names[0] = '\0';
    int rc = query_trace(rd, tid, &out);
    if (rc == QUERY_ENOTFOUND)
        return names;
    ck_assert_int_eq(rc, QUERY_OK);
    json_t *j = parse_out();
    json_t *spans = json_object_get(j, "spans");
    size_t len = 0;
    for (size_t i = 0; i < json_array_size(spans) && len + 64 < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? "," : "",
                                json_string_value(json_object_get(json_array_get(spans, i), "name")));
    json_decref(j);
    return names;
}

/* One span of trace seed t named `name` starting at start, service svc. */
static model_batch *span_of(uint64_t t, uint64_t span, const char *name, uint64_t start) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    fx_spans(b, 1);
    fx_span(b, fx_resource(b, "svc", NULL), fx_scope(b, "lib", "1"), t, span, span == 1 ? 0 : 1,
            name, start, start + 5);
    return b;
}

/* A trace whose spans arrive in batches on either side of a roll-over
 * lives in one segment, its home: later spans join it there, sealed or
 * not, found through the sealed segment's bloom filter (also after a
 * restart, from the manifest). Dropping the home takes the trace whole;
 * a span arriving after that starts it again in the active segment.
 * --max-spans 10: segments of one span. */
START_TEST(test_trace_home_across_rollover) {
    store_config cfg = {.max_spans = 10};
    store *s = open_store(0, cfg);
    ck_assert_int_eq(fx_commit(s, span_of(7, 1, "root", 100)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 20, 1, at_seed)), STORE_OK); /* seals 1 */
    ck_assert_int_eq(fx_commit(s, span_of(7, 2, "child-a", 110)), STORE_OK);
    sqlite3 *db = fx_raw_db(dir);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_TRACES), "2s,1");
    ck_assert_int_eq(fx_trace_segment(db, 7), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT span_count FROM traces_1"), 2);
    /* after a restart the filter comes from the manifest */
    store_close(s);
    s = open_store(0, cfg);
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 21, 1, at_seed)), STORE_OK); /* seals 2 */
    ck_assert_int_eq(fx_commit(s, span_of(7, 3, "child-b", 120)), STORE_OK);
    ck_assert_str_eq(shape(db, MODEL_SIGNAL_TRACES), "3s,1s,1");
    ck_assert_int_eq(fx_trace_segment(db, 7), 1);
    fx_check_store(db);
    store_reader *rd = reader(s);
    ck_assert_str_eq(trace_spans(rd, 7), "root,child-a,child-b");
    /* trace 20, in an older segment than the active one, is found too */
    ck_assert_str_eq(trace_spans(rd, 20), "t20");
    buf_reset(&out);
    uint8_t tid[16];
    fx_id(tid, 16, 7);
    ck_assert_int_eq(query_trace_summary(rd, tid, &out), QUERY_OK);
    json_t *j = parse_out();
    ck_assert_int_eq(json_integer_value(json_object_get(j, "spanCount")), 3);
    json_decref(j);
    /* 8 more spans: 13 stored, over the 10: segment 1 goes, trace 7 whole */
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 30, 8, at_seed)), STORE_OK);
    fx_settle(s);
    ck_assert_int_eq(fx_trace_segment(db, 7), 0);
    ck_assert_int_eq(fx_rows(db, "spans", "name GLOB 'root' OR name GLOB 'child-*'"), 0);
    ck_assert_str_eq(trace_spans(rd, 7), "");
    ck_assert_int_eq(fx_rows(db, "spans", NULL), 10);
    /* a late span of it now starts it anew, in the active segment */
    ck_assert_int_eq(fx_commit(s, span_of(7, 4, "straggler", 130)), STORE_OK);
    ck_assert_str_eq(trace_spans(rd, 7), "straggler");
    ck_assert_int_eq(fx_trace_segment(db, 7),
                     fx_sql_int(db, "SELECT id FROM segments WHERE signal=0 AND sealed=0"));
    fx_settle(s);
    fx_check_store(db);
    store_reader_close(rd);
    sqlite3_close(db);
    store_close(s);
}
END_TEST

/* Many sealed segments: each trace's late span finds its own home among
 * them (no bloom filter may miss its trace; a false positive only costs a
 * probe). --max-spans 400: segments of 40 traces of one span. */
START_TEST(test_trace_homes_among_many_segments) {
    store *s = open_store(1, (store_config){.max_spans = 400});
    for (uint64_t i = 0; i < 6; i++)
        ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1 + i * 30, 30, at_seed)), STORE_OK);
    store_reader *rd = reader(s);
    ck_assert_str_eq(shape(rd->db, MODEL_SIGNAL_TRACES), "40s,40s,40s,40s,20");
    /* one late span for every trace, in one batch */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 180);
    for (uint64_t t = 1; t <= 180; t++)
        fx_span(b, r, sc, t, t * 100 + 2, t * 100 + 1, "late", 5000, 5001);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    ck_assert_str_eq(shape(rd->db, MODEL_SIGNAL_TRACES), "80s,80s,80s,80s,40");
    ck_assert_int_eq(fx_rows(rd->db, "traces", NULL), 180);
    ck_assert_int_eq(fx_rows(rd->db, "traces", "span_count <> 2"), 0);
    fx_check_store(rd->db);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- drops, deletes and the services' counters ---------------------------------- */

/* query_services' count `key` of service `name` (-1 when not listed). */
static int64_t service_count(store_reader *rd, const char *name, const char *key) {
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *list = json_object_get(j, "services");
    int64_t v = -1;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            v = json_integer_value(json_object_get(e, key));
    }
    json_decref(j);
    return v;
}

/* The services list agrees with the rows: for each service, its spans,
 * errors, records and points across every segment. */
static void check_services(store_reader *rd, const char *const *names, int n) {
    for (int i = 0; i < n; i++) {
        char where[160];
        snprintf(where, sizeof(where), "service=(SELECT id FROM services WHERE name='%s')",
                 names[i]);
        int64_t spans = fx_rows(rd->db, "spans", where);
        int64_t logs = fx_rows(rd->db, "logs", where);
        char perr[200];
        snprintf(perr, sizeof(perr), "%s AND status_code=2", where);
        int64_t errors = fx_rows(rd->db, "spans", perr);
        snprintf(where, sizeof(where),
                 "series IN (SELECT s.id FROM series s JOIN metrics m ON m.id=s.metric WHERE"
                 " m.service=(SELECT id FROM services WHERE name='%s'))",
                 names[i]);
        int64_t pts = fx_rows(rd->db, "points", where);
        int listed = spans + logs + pts > 0;
        ck_assert_int_eq(service_count(rd, names[i], "spanCount"), listed ? spans : -1);
        ck_assert_int_eq(service_count(rd, names[i], "errorCount"), listed ? errors : -1);
        ck_assert_int_eq(service_count(rd, names[i], "logCount"), listed ? logs : -1);
        ck_assert_int_eq(service_count(rd, names[i], "metricCount"), listed ? pts : -1);
    }
    fx_check_store(rd->db);
}

/* Traces of services a (root) and b (child, an error every third), and
 * c-only traces, seeds first..first+n. */
static model_batch *shared_traces(uint64_t first, size_t n) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *ra = fx_resource(b, "a", NULL), *rb = fx_resource(b, "b", NULL),
                   *rc = fx_resource(b, "c", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 2 * n);
    for (uint64_t t = first; t < first + n; t++) {
        if (t % 4 == 3) {
            fx_span(b, rc, sc, t, t * 100 + 1, 0, "c-only", 1000 + t, 1010 + t);
            continue;
        }
        fx_span(b, ra, sc, t, t * 100 + 1, 0, "root", 1000 + t, 1100 + t);
        model_span *c = fx_span(b, rb, sc, t, t * 100 + 2, t * 100 + 1, "child", 990 + t, 1050 + t);
        if (t % 3 == 0)
            c->status_code = MODEL_STATUS_ERROR;
    }
    return b;
}

/* Drops by count retention, a delete of one service and a delete of
 * everything keep the services' counters and the per-segment service
 * counts (segment_services) equal to the rows; deleting everything drops
 * every segment, and segment ids are never used again. */
START_TEST(test_counters_after_drops_and_deletes) {
    store *s = open_store(1, (store_config){.max_spans = 40, .max_logs = 20, .max_points = 20});
    store_reader *rd = reader(s);
    static const char *const names[3] = {"a", "b", "c"};
    for (uint64_t i = 0; i < 5; i++) {
        ck_assert_int_eq(fx_commit(s, shared_traces(1 + i * 8, 8)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, logs_k(i % 2 ? "a" : "b", i * 7, 7, at_seed, 8)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, points(i % 2 ? "a" : "c", "g", i * 9, 9)), STORE_OK);
    }
    fx_settle(s);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_uint_gt(st.evicted[MODEL_SIGNAL_TRACES], 0);
    ck_assert_uint_gt(st.evicted[MODEL_SIGNAL_LOGS], 0);
    ck_assert_uint_gt(st.evicted[MODEL_SIGNAL_METRICS], 0);
    ck_assert_int_le(fx_rows(rd->db, "spans", NULL), 40);
    ck_assert_int_ge(fx_rows(rd->db, "spans", NULL), 36 - 2); /* 90%, less one trace's spans */
    /* segments of 2: the store keeps 18 to 20 of each */
    ck_assert_int_ge(fx_rows(rd->db, "logs", NULL), 18);
    ck_assert_int_le(fx_rows(rd->db, "logs", NULL), 20);
    ck_assert_int_ge(fx_rows(rd->db, "points", NULL), 18);
    ck_assert_int_le(fx_rows(rd->db, "points", NULL), 20);
    check_services(rd, names, 3);

    /* service b goes: its child spans (shared traces keep their roots),
     * its records; a and c are untouched */
    store_delete_result r;
    int64_t b_spans = service_count(rd, "b", "spanCount");
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_ALL, "b", 10000, &r), STORE_OK);
    ck_assert_uint_eq(r.spans, (uint64_t)b_spans);
    ck_assert_uint_eq(r.traces, 0);
    ck_assert_int_eq(service_count(rd, "b", "spanCount"), -1);
    ck_assert_int_eq(fx_rows(rd->db, "traces", "span_count <> 1"), 0);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT sum(items) FROM segments WHERE signal=0"),
                     fx_rows(rd->db, "spans", NULL));
    check_services(rd, names, 3);
    /* retention goes on by the counts the delete left */
    ck_assert_int_eq(fx_commit(s, shared_traces(100, 40)), STORE_OK);
    fx_settle(s);
    ck_assert_int_le(fx_rows(rd->db, "spans", NULL), 40);
    check_services(rd, names, 3);

    /* everything: no segment is left */
    int64_t last = fx_sql_int(rd->db, "SELECT max(id) FROM segments");
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_ALL, NULL, 10000, &r), STORE_OK);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM segments"), 0);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM segment_services"), 0);
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"services\":[]}");
    check_services(rd, names, 3);
    /* new data goes into new segments with new ids */
    ck_assert_int_eq(fx_commit(s, shared_traces(200, 4)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, logs_k("c", 500, 2, at_seed, 8)), STORE_OK);
    ck_assert_int_gt(fx_sql_int(rd->db, "SELECT min(id) FROM segments"), last);
    check_services(rd, names, 3);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- lists across segments ------------------------------------------------------- */

/* One page of traces (logs = 0) or logs after cursor (NULL: the first),
 * page size limit: each item's number (a trace's seed from its root name
 * "t<seed>", a record's attribute k) into keys, their count returned;
 * the next cursor into next ("" when none). */
static int page(store_reader *rd, int logs, size_t limit, const char *cursor, int64_t *keys,
                char next[64]) {
    buf_reset(&out);
    if (logs) {
        query_logs_params p = {.limit = limit, .cursor = cursor};
        ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    } else {
        query_traces_params p = {.limit = limit, .cursor = cursor};
        ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    }
    json_t *j = parse_out();
    ck_assert_ptr_null(json_object_get(j, "partial"));
    json_t *list = json_object_get(j, logs ? "logs" : "traces");
    int n = (int)json_array_size(list);
    ck_assert_int_le(n, (int)limit);
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(list, (size_t)i);
        if (logs)
            keys[i] = json_integer_value(json_object_get(json_object_get(e, "attributes"), "k"));
        else
            keys[i] = strtoll(json_string_value(json_object_get(e, "rootName")) + 1, NULL, 10);
    }
    json_t *nc = json_object_get(j, "nextCursor");
    snprintf(next, 64, "%s", json_is_string(nc) ? json_string_value(nc) : "");
    json_decref(j);
    return n;
}

/* Walks every page from cursor (NULL: the first) into keys; returns the
 * count. */
static int walk(store_reader *rd, int logs, size_t limit, const char *cursor, int64_t *keys,
                int max) {
    char cur[64] = "", next[64];
    if (cursor)
        snprintf(cur, sizeof(cur), "%s", cursor);
    int n = 0;
    for (int pages = 0; pages < 1000; pages++) {
        int64_t got[64];
        int k = page(rd, logs, limit, cur[0] ? cur : NULL, got, next);
        ck_assert_int_le(n + k, max);
        memcpy(keys + n, got, (size_t)k * sizeof(*got));
        n += k;
        if (next[0] == '\0')
            return n;
        ck_assert_int_eq(k, (int)limit); /* only full pages go on */
        snprintf(cur, sizeof(cur), "%s", next);
    }
    ck_abort_msg("more than 1000 pages");
    return n;
}

static int64_t (*order_key)(int64_t k);
static int64_t key_three(int64_t k) { return (int64_t)three((uint64_t)k); }
static int64_t key_shuffled(int64_t k) { return (int64_t)shuffled((uint64_t)k); }

/* Newest first: by time (start), then later arrival first. */
static int cmp_newest(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int64_t kx = order_key(x), ky = order_key(y);
    if (kx != ky)
        return kx > ky ? -1 : 1;
    return x > y ? -1 : x < y;
}

/* Trace and log lists page through many segments with cursors and return
 * every item exactly once, newest first, ties (equal times in different
 * segments) by arrival, later first; whatever the page size. Times
 * repeat every 3 items, or are shuffled against arrival. */
START_TEST(test_lists_page_across_segments) {
    store *s = open_store(1, (store_config){.max_spans = 100, .max_logs = 100});
    uint64_t (*times[2])(uint64_t) = {three, shuffled};
    int64_t (*keys_of[2])(int64_t) = {key_three, key_shuffled};
    for (int variant = 0; variant < 2; variant++) {
        ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_ALL, NULL, 10000,
                                           &(store_delete_result){0}),
                         STORE_OK);
        for (uint64_t i = 0; i < 4; i++) { /* seeds and k 1..96, 10 segments each */
            ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1 + i * 24, 24, times[variant])),
                             STORE_OK);
            ck_assert_int_eq(fx_commit(s, logs_k("svc", 1 + i * 24, 24, times[variant], 8)),
                             STORE_OK);
        }
        store_reader *rd = reader(s);
        ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_TRACES, -1), 10);
        ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_LOGS, -1), 10);
        int64_t want[96];
        for (int k = 0; k < 96; k++)
            want[k] = k + 1;
        order_key = keys_of[variant];
        qsort(want, 96, sizeof(*want), cmp_newest);
        static const size_t limits[] = {1, 3, 7, 10, 11, 50};
        for (int logs = 0; logs < 2; logs++) {
            for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
                int64_t got[96];
                int n = walk(rd, logs, limits[l], NULL, got, 96);
                ck_assert_msg(n == 96, "%s, page size %zu: %d items", logs ? "logs" : "traces",
                              limits[l], n);
                for (int k = 0; k < 96; k++)
                    ck_assert_msg(got[k] == want[k], "%s, page size %zu: item %d is %lld, not %lld",
                                  logs ? "logs" : "traces", limits[l], k, (long long)got[k],
                                  (long long)want[k]);
            }
        }
        store_reader_close(rd);
    }
    store_close(s);
}
END_TEST

/* A cursor whose segment is dropped before the next page is read goes on
 * with the next older item still kept: no duplicate, nothing kept
 * skipped. Times fall as items arrive, so the newest by time are the
 * oldest segments, which count retention drops first. --max-spans and
 * --max-logs 20: segments of 2. */
START_TEST(test_cursor_into_a_dropped_segment) {
    store *s = open_store(1, (store_config){.max_spans = 20, .max_logs = 20});
    ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 0, 20, down)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, logs_k("svc", 0, 20, down, 8)), STORE_OK);
    store_reader *rd = reader(s);
    for (int logs = 0; logs < 2; logs++) {
        int64_t keys[64];
        char next[64];
        /* the first page: 0..4, from segments 1, 2 and 3 (4 and 5) */
        ck_assert_int_eq(page(rd, logs, 5, NULL, keys, next), 5);
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(keys[i], i);
        long long third = (long long)fx_sqlf(rd->db,
                                             "SELECT id FROM segments WHERE signal=%d ORDER BY id"
                                             " LIMIT 1 OFFSET 2",
                                             logs);
        ck_assert_int_eq(fx_sqlf(rd->db, "SELECT count(*) FROM %s_%lld WHERE %s=%llu",
                                 logs ? "logs" : "traces", third, logs ? "time_ns" : "start_ns",
                                 (unsigned long long)down(4)),
                         1);
        /* 6 more arrive (older times): segments 1 to 3 go, 5 with them */
        if (logs)
            ck_assert_int_eq(fx_commit(s, logs_k("svc", 20, 6, down, 8)), STORE_OK);
        else
            ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 20, 6, down)), STORE_OK);
        fx_settle(s);
        ck_assert_int_eq(fx_rows(rd->db, logs ? "logs" : "spans", NULL), 20);
        ck_assert_int_eq(fx_sqlf(rd->db, "SELECT count(*) FROM segments WHERE id<=%lld AND"
                                 " signal=%d", third, logs),
                         0);
        int n = walk(rd, logs, 5, next, keys, 64);
        ck_assert_int_eq(n, 20);
        for (int i = 0; i < 20; i++)
            ck_assert_int_eq(keys[i], 6 + i);
    }
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- queries while segments roll over and go ------------------------------------ */

typedef struct query_loop {
    store *s;
    _Atomic int stop;
    _Atomic int pages; /* read by the writing thread */
    int queries, failures;
    char first_failure[256];
} query_loop;

static void loop_fail(query_loop *q, const char *what, const char *detail) {
    if (q->failures++ == 0)
        snprintf(q->first_failure, sizeof(q->first_failure), "%s: %.200s", what, detail);
}

/* Checks one page: valid JSON, items newest first, no item twice across
 * the pages of one walk (seen). Returns the next cursor into next. */
static int loop_page(query_loop *q, buf *b, int logs, char *seen, char next[64]) {
    json_t *j = json_loadb(b->ptr, b->len, 0, NULL);
    if (j == NULL) {
        loop_fail(q, "invalid JSON", b->ptr);
        return 0;
    }
    json_t *list = json_object_get(j, logs ? "logs" : "traces");
    uint64_t prev = UINT64_MAX;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *t = json_string_value(
            json_object_get(e, logs ? "timeUnixNano" : "startTimeUnixNano"));
        uint64_t time = t ? strtoull(t, NULL, 10) : UINT64_MAX;
        if (time > prev)
            loop_fail(q, "out of order", b->ptr);
        prev = time;
        int64_t k = logs ? json_integer_value(json_object_get(json_object_get(e, "attributes"), "k"))
                         : strtoll(json_string_value(json_object_get(e, "rootName")) + 1, NULL, 10);
        if (k < 0 || k >= 100000 || seen[k]++)
            loop_fail(q, "an item twice in one walk", b->ptr);
    }
    json_t *nc = json_object_get(j, "nextCursor");
    snprintf(next, 64, "%s", json_is_string(nc) ? json_string_value(nc) : "");
    json_decref(j);
    return 1;
}

/* A reader thread: walks the trace and log lists, page by page, and looks
 * up traces by id, until told to stop; counts what went wrong (no
 * ck_assert off the test's thread). */
static void *query_loop_main(void *arg) {
    query_loop *q = arg;
    store_reader *rd = NULL;
    if (store_reader_open(q->s, &rd) != STORE_OK) {
        loop_fail(q, "store_reader_open", "");
        return NULL;
    }
    buf b;
    buf_init(&b, 8 << 20);
    char *seen = malloc(100000);
    while (!atomic_load(&q->stop) && q->queries < 100000) {
        for (int logs = 0; logs < 2; logs++) {
            memset(seen, 0, 100000);
            char cur[64] = "", next[64];
            for (int pages = 0; pages < 100; pages++) {
                buf_reset(&b);
                int rc;
                if (logs) {
                    query_logs_params p = {.limit = 7, .cursor = cur[0] ? cur : NULL};
                    rc = query_logs(rd, &p, &b);
                } else {
                    query_traces_params p = {.limit = 7, .cursor = cur[0] ? cur : NULL};
                    rc = query_traces(rd, &p, &b);
                }
                q->queries++;
                atomic_fetch_add(&q->pages, 1);
                if (rc != QUERY_OK) {
                    loop_fail(q, logs ? "query_logs" : "query_traces", query_strerror(rc));
                    break;
                }
                if (!loop_page(q, &b, logs, seen, next) || next[0] == '\0')
                    break;
                snprintf(cur, sizeof(cur), "%s", next);
            }
        }
        uint8_t tid[16];
        fx_id(tid, 16, 1 + (uint64_t)q->queries % 2000);
        buf_reset(&b);
        int rc = query_trace(rd, tid, &b);
        q->queries++;
        if (rc != QUERY_OK && rc != QUERY_ENOTFOUND)
            loop_fail(q, "query_trace", query_strerror(rc));
    }
    free(seen);
    buf_free(&b);
    store_reader_close(rd);
    return NULL;
}

/* Waits (bounded: 30 s) until reader q has read `pages` pages. */
static void wait_pages(query_loop *q, int pages) {
    for (int i = 0; i < 30000 && atomic_load(&q->pages) < pages; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_assert_int_ge(atomic_load(&q->pages), pages);
}

/* Readers on other threads see one consistent set of segments per query
 * while the writer rolls segments over and drops them: no query fails
 * (say, on a table dropped under it), every page is valid, ordered, and a
 * walk never repeats an item. On disk (WAL snapshots) and in memory. */
START_TEST(test_queries_while_segments_roll_and_go) {
    for (int memory = 0; memory < 2; memory++) {
        store *s = open_store(memory, (store_config){.max_spans = 100, .max_logs = 100});
        query_loop q[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            memset(&q[i], 0, sizeof(q[i]));
            q[i].s = s;
            ck_assert_int_eq(pthread_create(&th[i], NULL, query_loop_main, &q[i]), 0);
        }
        /* 2,000 of each (20 x the limits); every 10 rounds the writer
         * waits (bounded) for each reader to read another page, so that
         * reads fall among the roll-overs and drops all along (in memory,
         * where readers and the writer take turns on one lock, a reader
         * could otherwise wait out the whole run) */
        for (uint64_t i = 0; i < 200; i++) {
            ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1 + i * 10, 10, shuffled)),
                             STORE_OK);
            ck_assert_int_eq(fx_commit(s, logs_k("svc", i * 10, 10, shuffled, 8)), STORE_OK);
            if (i % 10 == 9)
                for (int k = 0; k < 2; k++)
                    wait_pages(&q[k], atomic_load(&q[k].pages) + 1);
        }
        for (int i = 0; i < 2; i++)
            atomic_store(&q[i].stop, 1);
        for (int i = 0; i < 2; i++) {
            pthread_join(th[i], NULL);
            ck_assert_msg(q[i].failures == 0, "%d failures, the first: %s", q[i].failures,
                          q[i].first_failure);
            ck_assert_int_ge(atomic_load(&q[i].pages), 20);
        }
        store_stats st;
        store_get_stats(s, &st);
        ck_assert_uint_ge(st.evicted[MODEL_SIGNAL_TRACES], 2000 - 100);
        ck_assert_uint_ge(st.evicted[MODEL_SIGNAL_LOGS], 2000 - 100);
        store_close(s);
    }
}
END_TEST

/* ---- export ----------------------------------------------------------------------- */

/* Exports signal sig whole: each item's number (the digits after the
 * first character of a span's name or a record's body) into keys in the
 * order of the lines; returns the count, *lines the lines. */
static int export_all(store_reader *rd, int sig, int64_t *keys, int max, int *lines) {
    query_export_params p = {.signal = sig};
    query_export *x = NULL;
    ck_assert_int_eq(query_export_new(&p, &x), QUERY_OK);
    const char *doc = sig == MODEL_SIGNAL_TRACES ? "resourceSpans" : "resourceLogs";
    const char *scopes = sig == MODEL_SIGNAL_TRACES ? "scopeSpans" : "scopeLogs";
    const char *items = sig == MODEL_SIGNAL_TRACES ? "spans" : "logRecords";
    int n = 0;
    *lines = 0;
    for (int done = 0; !done;) {
        buf_reset(&out);
        ck_assert_int_eq(query_export_next(x, rd, &out, &done), QUERY_OK);
        if (done)
            break;
        ck_assert_int_lt(*lines, 1000);
        (*lines)++;
        ck_assert_int_eq(out.ptr[out.len - 1], '\n');
        json_t *j = parse_out();
        json_t *res = json_object_get(j, doc);
        for (size_t a = 0; a < json_array_size(res); a++) {
            json_t *sc = json_object_get(json_array_get(res, a), scopes);
            for (size_t b = 0; b < json_array_size(sc); b++) {
                json_t *list = json_object_get(json_array_get(sc, b), items);
                for (size_t c = 0; c < json_array_size(list); c++) {
                    json_t *e = json_array_get(list, c);
                    const char *t = sig == MODEL_SIGNAL_TRACES
                                        ? json_string_value(json_object_get(e, "name"))
                                        : json_string_value(json_object_get(
                                              json_object_get(e, "body"), "stringValue"));
                    ck_assert_ptr_nonnull(t);
                    ck_assert_int_lt(n, max);
                    keys[n++] = strtoll(t + (t[0] == 'l' ? 4 : 1), NULL, 10);
                }
            }
        }
        json_decref(j);
    }
    query_export_free(x);
    return n;
}

/* An export gives everything in arrival order, (segment, row), across
 * segments and across its own pages: 50 traces or 500 records a line. A
 * span that joined its trace's home segment late comes with that
 * segment's spans. Times are shuffled against arrival. */
START_TEST(test_export_in_arrival_order_across_segments) {
    /* segments of 20 traces, of 200 records */
    store *s = open_store(1, (store_config){.max_spans = 200, .max_logs = 2000});
    for (uint64_t i = 0; i < 3; i++) {
        ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1 + i * 40, 40, shuffled)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, logs_k("svc", i * 400, 400, shuffled, 8)), STORE_OK);
    }
    ck_assert_int_eq(fx_commit(s, span_of(1, 2, "late1", 9000)), STORE_OK);
    store_reader *rd = reader(s);
    ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_TRACES, -1), 6);
    ck_assert_int_eq(fx_segments(rd->db, MODEL_SIGNAL_LOGS, -1), 6);
    static int64_t keys[2000];
    int lines;
    int n = export_all(rd, MODEL_SIGNAL_TRACES, keys, 2000, &lines);
    ck_assert_int_eq(n, 121);
    ck_assert_int_eq(lines, 3);
    for (int i = 0, want = 1; i < n; i++) {
        if (i == 20) { /* the late span: last of segment 1 */
            ck_assert_int_eq(keys[i], 1);
            continue;
        }
        ck_assert_msg(keys[i] == want, "span %d is of trace %lld, not %d", i, (long long)keys[i],
                      want);
        want++;
    }
    n = export_all(rd, MODEL_SIGNAL_LOGS, keys, 2000, &lines);
    ck_assert_int_eq(n, 1200);
    ck_assert_int_eq(lines, 3);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(keys[i], i);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* ---- the query deadline ------------------------------------------------------------ */

/* "partial" of the answer in out: 1 true, 0 absent (anything else fails). */
static int partial_of(json_t *j) {
    json_t *p = json_object_get(j, "partial");
    ck_assert(p == NULL || json_is_true(p));
    return p != NULL;
}

/* A query past its deadline answers with what it found, marked
 * "partial": true, still valid JSON; lists then end without a cursor to a
 * next page that might skip what was not read. Here the deadline is 1 ns,
 * so any statement that runs long enough to be checked (a scan) stops.
 * Without a deadline the same queries answer in full and say nothing. */
START_TEST(test_deadline_answers_partial) {
    store *s = open_store(1, (store_config){.query_timeout_ns = 1});
    for (uint64_t i = 0; i < 3; i++) {
        ck_assert_int_eq(fx_commit(s, one_span_traces("svc", 1 + i * 2000, 2000, at_seed)),
                         STORE_OK);
        ck_assert_int_eq(fx_commit(s, logs_k("svc", i * 2000, 2000, at_seed, 8)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, points("svc", "g", 1 + i * 2000, 2000)), STORE_OK);
    }
    store_reader *rd = reader(s);
    for (int bounded = 1; bounded >= 0; bounded--) {
        rd->timeout_ns = bounded ? 1 : 0; /* the handle's copy of query_timeout_ns */
        /* logs: no record has severity 20, every one is looked at */
        query_logs_params lp = {.limit = 10, .min_severity = 20};
        buf_reset(&out);
        ck_assert_int_eq(query_logs(rd, &lp, &out), QUERY_OK);
        json_t *j = parse_out();
        ck_assert_int_eq(partial_of(j), bounded);
        ck_assert_int_eq(json_array_size(json_object_get(j, "logs")), 0);
        ck_assert(json_is_null(json_object_get(j, "nextCursor")));
        json_decref(j);
        /* traces: none lasts an hour, every one is looked at */
        query_traces_params tp = {.limit = 10, .has_min_duration = 1,
                                  .min_duration_ns = 3600000000000ULL};
        buf_reset(&out);
        ck_assert_int_eq(query_traces(rd, &tp, &out), QUERY_OK);
        j = parse_out();
        ck_assert_int_eq(partial_of(j), bounded);
        ck_assert_int_eq(json_array_size(json_object_get(j, "traces")), 0);
        json_decref(j);
        /* series: 6000 points of one series */
        query_series_params sp = {.name = "g"};
        buf_reset(&out);
        ck_assert_int_eq(query_series(rd, &sp, &out), QUERY_OK);
        j = parse_out();
        ck_assert_int_eq(partial_of(j), bounded);
        size_t pts = json_array_size(
            json_object_get(json_array_get(json_object_get(j, "series"), 0), "points"));
        if (bounded)
            ck_assert_uint_lt(pts, 6000);
        else
            ck_assert_uint_eq(pts, 6000);
        json_decref(j);
        /* an export is not bounded by the deadline: it reads a page a line */
        static int64_t keys[6000];
        int lines;
        ck_assert_int_eq(export_all(rd, MODEL_SIGNAL_LOGS, keys, 6000, &lines), 6000);
    }
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* Regression: the deadline interrupted any statement past it, so the
 * metrics list and a trace by id -- one statement each over bounded data,
 * nothing to answer in part -- failed with a database error (an HTTP 500)
 * once they took longer than it. They are not cut short now. Here with a
 * deadline of 1 ns, 300 instruments and a trace of 3,000 spans. */
START_TEST(test_deadline_spares_bounded_queries) {
    store *s = open_store(1, (store_config){.query_timeout_ns = 1});
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%d", i);
        ck_assert_int_eq(fx_commit(s, points(i % 2 ? "a" : "b", name, 1, 2)), STORE_OK);
    }
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "svc", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 3000);
    for (uint64_t i = 0; i < 3000; i++)
        fx_span(b, r, sc, 5, 10 + i, i ? 10 : 0, "op", 100 + i, 200 + i);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    store_reader *rd = reader(s);
    buf_reset(&out);
    ck_assert_int_eq(query_metrics(rd, NULL, &out), QUERY_OK);
    json_t *j = parse_out();
    ck_assert_int_eq(json_array_size(json_object_get(j, "metrics")), 300);
    json_decref(j);
    buf_reset(&out);
    ck_assert_int_eq(query_services(rd, NULL, &out), QUERY_OK);
    uint8_t tid[16];
    fx_id(tid, 16, 5);
    buf_reset(&out);
    ck_assert_int_eq(query_trace(rd, tid, &out), QUERY_OK);
    j = parse_out();
    ck_assert_int_eq(json_array_size(json_object_get(j, "spans")), 3000);
    json_decref(j);
    buf_reset(&out);
    ck_assert_int_eq(query_trace_summary(rd, tid, &out), QUERY_OK);
    j = parse_out();
    ck_assert_int_eq(json_integer_value(json_object_get(j, "spanCount")), 3000);
    json_decref(j);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* Regression: the plan of a search (the resources an attribute filter
 * matches, the instrument and its series) ran under the deadline too,
 * and past it failed the whole query with a database error (an HTTP 500)
 * instead of answering what the walk found, marked partial. The plan now
 * runs first and the deadline then bounds the walk of the segments. Here
 * 300 services (resources, instruments) and a deadline of 1 ns. */
START_TEST(test_deadline_after_the_plan) {
    store *s = open_store(1, (store_config){.query_timeout_ns = 1});
    for (uint64_t i = 0; i < 300; i++) {
        char svc[32];
        snprintf(svc, sizeof(svc), "svc%d", (int)i);
        ck_assert_int_eq(fx_commit(s, logs_k(svc, i, 20, at_seed, 8)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, one_span_traces(svc, 1 + i * 20, 20, at_seed)), STORE_OK);
        ck_assert_int_eq(fx_commit(s, points(svc, "g", 1 + i * 20, 20)), STORE_OK);
    }
    store_reader *rd = reader(s);
    query_attr contains = {"service.name", 12, QUERY_ATTR_CONTAINS, "vc1", 3, 0};
    /* no record has k above 10^9: every one is looked at */
    query_attr huge = {"k", 1, QUERY_ATTR_GT, "1e9", 3, 1e9};
    query_logs_params lp = {.limit = 10, .attrs = &huge, .n_attrs = 1};
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &lp, &out), QUERY_OK);
    json_t *j = parse_out();
    ck_assert_int_eq(partial_of(j), 1);
    json_decref(j);
    query_traces_params tp = {.limit = 10, .attrs = &contains, .n_attrs = 1,
                              .has_min_duration = 1, .min_duration_ns = 3600000000000ULL};
    buf_reset(&out);
    ck_assert_int_eq(query_traces(rd, &tp, &out), QUERY_OK);
    j = parse_out();
    ck_assert_int_eq(partial_of(j), 1);
    json_decref(j);
    query_series_params sp = {.name = "g", .attrs = &contains, .n_attrs = 1};
    buf_reset(&out);
    ck_assert_int_eq(query_series(rd, &sp, &out), QUERY_OK);
    j = parse_out();
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "gauge");
    ck_assert_int_eq(partial_of(j), 1);
    json_decref(j);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

static Suite *segments_suite(void) {
    Suite *s = suite_create("segments");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rollover_at_a_tenth_of_each_limit);
    tcase_add_test(tc, test_rollover_by_bytes_with_a_size_cap);
    tcase_add_test(tc, test_rollover_by_age);
    tcase_add_test(tc, test_rollback_leaves_no_half_made_segment);
    tcase_add_test(tc, test_trace_home_across_rollover);
    tcase_add_test(tc, test_trace_homes_among_many_segments);
    tcase_add_test(tc, test_counters_after_drops_and_deletes);
    tcase_add_test(tc, test_lists_page_across_segments);
    tcase_add_test(tc, test_cursor_into_a_dropped_segment);
    tcase_add_test(tc, test_queries_while_segments_roll_and_go);
    tcase_add_test(tc, test_export_in_arrival_order_across_segments);
    tcase_add_test(tc, test_deadline_answers_partial);
    tcase_add_test(tc, test_deadline_spares_bounded_queries);
    tcase_add_test(tc, test_deadline_after_the_plan);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(segments_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
