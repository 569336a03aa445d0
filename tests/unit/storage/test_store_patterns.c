/* Tests for log patterns in the store (storage/store_patterns.c,
 * storage/query_patterns.c, the pattern filter of storage/query_logs.c):
 * each record stored with its pattern, the patterns listed with counts per
 * step and level, first and last seen and an example, "new" patterns of a
 * window, the patterns table surviving a restart (the same ids after it),
 * every stored pattern id having its row, deletes, and log segments made
 * before patterns (format 3) read as pattern-less. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "store_fixture.h"

#define MIN 60000000000ULL
#define T0 (1700000000000000000ULL / MIN * MIN) /* on a minute */

static char dir[64];
static buf out;

static int patterns_off; /* opens with --log-patterns off */

static store *open_store(void) {
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir, .patterns_off = patterns_off};
    char err[256];
    store *s = NULL;
    ck_assert_msg(store_open(&cfg, &s, err, sizeof(err)) == STORE_OK, "%s", err);
    return s;
}

static void setup(void) {
    patterns_off = 0;
    fx_tmpdir(dir, sizeof(dir));
    buf_init(&out, 16 << 20);
}

static void teardown(void) {
    buf_free(&out);
    fx_rmdir(dir);
}

/* One record to store. */
typedef struct rec {
    const char *service;
    int severity;
    uint64_t time;
    char body[128];
} rec;

static void commit(store *s, const rec *r, size_t n) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    ck_assert_ptr_nonnull(b);
    model_scope *sc = fx_scope(b, "test", "1");
    fx_logs(b, n);
    for (size_t i = 0; i < n; i++)
        fx_log(b, fx_resource(b, r[i].service, NULL), sc, r[i].time, r[i].severity, r[i].body);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
}

static json_t *patterns(store *s, const query_patterns_params *p) {
    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    buf_reset(&out);
    ck_assert_int_eq(query_patterns(rd, p, &out), QUERY_OK);
    store_reader_close(rd);
    json_error_t e;
    json_t *j = json_loadb(out.ptr, out.len, 0, &e);
    ck_assert_msg(j != NULL, "%s: %s", e.text, out.ptr);
    return j;
}

static json_t *logs(store *s, const query_logs_params *p) {
    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, p, &out), QUERY_OK);
    store_reader_close(rd);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Member k of o, which must be of that JSON type. */
static json_t *member(json_t *o, const char *k, json_type type) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(v != NULL && json_typeof(v) == type, "%s: missing or of another type", k);
    return v;
}

#define str(o, k) json_string_value(member((o), (k), JSON_STRING))
#define num(o, k) ((int64_t)json_integer_value(member((o), (k), JSON_INTEGER)))

/* The pattern of the answer with this template, or NULL. */
static json_t *by_template(json_t *answer, const char *tmpl) {
    json_t *list = json_object_get(answer, "patterns"), *p;
    size_t i;
    json_array_foreach(list, i, p) if (strcmp(str(p, "template"), tmpl) == 0) return p;
    return NULL;
}

/* 40 GET lines (info) over 4 minutes, 15 payment lines (10 error, 5
 * warn), 20 job lines of another service. */
static size_t corpus(rec *r, uint64_t base) {
    size_t n = 0;
    for (int k = 0; k < 40; k++, n++) {
        r[n] = (rec){"api", 9, base + (uint64_t)k * 6 * 1000000000ULL, ""};
        snprintf(r[n].body, sizeof(r[n].body), "GET /api/items/%d 200 %dms", k * 7, 3 + k);
    }
    for (int k = 0; k < 15; k++, n++) {
        r[n] = (rec){"api", k < 10 ? 17 : 13, base + (uint64_t)k * 13 * 1000000000ULL, ""};
        snprintf(r[n].body, sizeof(r[n].body), "payment declined for order ord-%08x code=%d",
                 0xa0000000u + (unsigned)k * 977, 51 + k % 3);
    }
    for (int k = 0; k < 20; k++, n++) {
        r[n] = (rec){"worker", 9, base + (uint64_t)k * 11 * 1000000000ULL, ""};
        snprintf(r[n].body, sizeof(r[n].body), "job %d done in %d.%ds", 1000 + k, k, k % 10);
    }
    return n;
}

START_TEST(patterns_are_listed_with_counts_levels_and_examples) {
    store *s = open_store();
    rec r[80];
    size_t n = corpus(r, T0);
    commit(s, r, 30);
    commit(s, r + 30, n - 30);
    query_patterns_params p = {.has_start = 1, .start_ns = T0, .has_end = 1,
                               .end_ns = T0 + 4 * MIN, .step_ns = MIN, .limit = 100};
    json_t *a = patterns(s, &p);
    ck_assert_int_eq(num(a, "stepNs"), (int64_t)MIN);
    ck_assert_int_eq(num(a, "total"), 3);
    json_t *list = json_object_get(a, "patterns");
    ck_assert_uint_eq(json_array_size(list), 3);
    /* by count */
    json_t *get = json_array_get(list, 0), *job = json_array_get(list, 1),
           *pay = json_array_get(list, 2);
    ck_assert_str_eq(str(get, "template"), "GET <PATH> <NUM> <DURATION>");
    ck_assert_str_eq(str(get, "service"), "api");
    ck_assert_str_eq(str(get, "kind"), "text");
    ck_assert_int_eq(num(get, "count"), 40);
    ck_assert_str_eq(str(job, "template"), "job <NUM> done in <DURATION>");
    ck_assert_str_eq(str(job, "service"), "worker");
    ck_assert_int_eq(num(job, "count"), 20);
    ck_assert_str_eq(str(pay, "template"), "payment declined for order ord-<HEX> code=<NUM>");
    ck_assert_int_eq(num(pay, "count"), 15);
    /* levels, steps, first and last seen, the latest record */
    json_t *sev = json_object_get(pay, "severities");
    ck_assert_int_eq(num(sev, "error"), 10);
    ck_assert_int_eq(num(sev, "warn"), 5);
    ck_assert_uint_eq(json_object_size(sev), 2);
    json_t *steps = json_object_get(get, "counts");
    ck_assert_uint_eq(json_array_size(steps), 4);
    for (size_t i = 0; i < 4; i++) /* one every 6 s: 10 a minute */
        ck_assert_int_eq(json_integer_value(json_array_get(steps, i)), 10);
    char t[32];
    snprintf(t, sizeof(t), "%llu", (unsigned long long)T0);
    ck_assert_str_eq(str(get, "firstSeenUnixNano"), t);
    snprintf(t, sizeof(t), "%llu", (unsigned long long)(T0 + 39ULL * 6000000000ULL));
    ck_assert_str_eq(str(get, "lastSeenUnixNano"), t);
    json_t *ex = json_object_get(get, "example");
    ck_assert_str_eq(str(ex, "timeUnixNano"), t);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "body")), r[39].body);
    ck_assert(json_is_true(json_object_get(get, "new")));
    int64_t get_id = num(get, "id"), pay_id = num(pay, "id");
    json_decref(a);

    /* filters: service, severity (by level), limit */
    p.service = "worker";
    a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 1);
    ck_assert_ptr_nonnull(by_template(a, "job <NUM> done in <DURATION>"));
    json_decref(a);
    p.service = NULL;
    p.min_severity = 17;
    a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 1);
    pay = json_array_get(json_object_get(a, "patterns"), 0);
    ck_assert_int_eq(num(pay, "count"), 10);
    /* the latest record at that severity */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(pay, "example"), "body")),
                     r[40 + 9].body);
    json_decref(a);
    p.min_severity = 0;
    p.limit = 1;
    a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 1);
    ck_assert_int_eq(num(a, "total"), 3);
    json_decref(a);
    p.limit = 100;
    p.step_ns = 1000000000ULL; /* rounded up to a minute */
    a = patterns(s, &p);
    ck_assert_int_eq(num(a, "stepNs"), (int64_t)MIN);
    json_decref(a);
    p.end_ns = T0 + 2000 * MIN; /* too many steps */
    p.step_ns = MIN;
    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    ck_assert_int_eq(query_patterns(rd, &p, &out), QUERY_EINVAL);
    p.limit = 0;
    ck_assert_int_eq(query_patterns(rd, &p, &out), QUERY_EINVAL);
    store_reader_close(rd);

    /* the records of a pattern, from its index, with their pattern id */
    query_logs_params lp = {.limit = 6, .pattern = pay_id};
    size_t seen = 0;
    char cursor[64] = "";
    for (int page = 0; page < 10; page++) {
        lp.cursor = cursor;
        json_t *l = logs(s, &lp);
        json_t *item;
        size_t i;
        json_array_foreach(json_object_get(l, "logs"), i, item) {
            ck_assert_int_eq(num(item, "patternId"), pay_id);
            ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(item, "body")),
                                         "payment declined"));
            seen++;
        }
        json_t *next = json_object_get(l, "nextCursor");
        int more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(l);
        if (!more)
            break;
    }
    ck_assert_uint_eq(seen, 15);
    lp = (query_logs_params){.limit = 100, .pattern = get_id, .service = "worker"};
    json_t *none = logs(s, &lp);
    ck_assert_uint_eq(json_array_size(json_object_get(none, "logs")), 0);
    json_decref(none);
    lp = (query_logs_params){.limit = 100, .pattern = 999999};
    none = logs(s, &lp);
    ck_assert_uint_eq(json_array_size(json_object_get(none, "logs")), 0);
    json_decref(none);
    store_close(s);
}
END_TEST

START_TEST(new_patterns_are_those_first_seen_in_the_window) {
    store *s = open_store();
    rec r[4] = {
        {"api", 9, T0, "cache warmed with 100 entries"},
        {"api", 9, T0 + 10 * MIN, "cache warmed with 120 entries"},
        {"api", 17, T0 + 10 * MIN + 5, "disk /var/lib/x is full"},
        {"api", 17, T0 + 10 * MIN + 7, "disk /var/lib/y is full"},
    };
    commit(s, r, 4);
    query_patterns_params p = {.has_start = 1, .start_ns = T0 + 9 * MIN, .has_end = 1,
                               .end_ns = T0 + 11 * MIN, .limit = 100};
    json_t *a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 2);
    json_t *cache = by_template(a, "cache warmed with <NUM> entries");
    json_t *disk = by_template(a, "disk <PATH> is full");
    ck_assert_ptr_nonnull(cache);
    ck_assert_ptr_nonnull(disk);
    ck_assert(json_is_false(json_object_get(cache, "new")));
    ck_assert(json_is_true(json_object_get(disk, "new")));
    ck_assert_int_eq(num(cache, "count"), 1); /* in the window */
    char t[32];
    snprintf(t, sizeof(t), "%llu", (unsigned long long)T0);
    ck_assert_str_eq(str(cache, "sinceUnixNano"), t);
    json_decref(a);
    p.sort_new = 1;
    a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 1);
    ck_assert_int_eq(num(a, "total"), 1);
    ck_assert_ptr_nonnull(by_template(a, "disk <PATH> is full"));
    json_decref(a);
    store_close(s);
}
END_TEST

/* Every pattern id stored in a log segment has its row in `patterns`. */
static void check_rows(const char *path) {
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT id FROM segments WHERE signal=1 AND format>=4",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int segs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM logs_%lld WHERE pattern IS NULL OR pattern NOT IN"
                 " (SELECT id FROM patterns)",
                 (long long)sqlite3_column_int64(st, 0));
        ck_assert_int_eq(fx_sql_int(db, sql), 0);
        segs++;
    }
    sqlite3_finalize(st);
    ck_assert_int_gt(segs, 0);
    sqlite3_close(db);
}

START_TEST(patterns_survive_a_restart) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    store *s = open_store();
    rec r[80];
    size_t n = corpus(r, T0);
    for (size_t i = 0; i < n; i += 5) /* many transactions */
        commit(s, r + i, n - i < 5 ? n - i : 5);
    query_patterns_params p = {.limit = 100};
    json_t *before = patterns(s, &p);
    store_close(s);
    check_rows(path);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM patterns"), 3);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM patterns WHERE template="
                                    "'GET <PATH> <NUM> <DURATION>' AND service='api' AND kind=0"),
                     1);
    sqlite3_close(db);

    s = open_store();
    rec again[80];
    n = corpus(again, T0 + 60 * MIN);
    commit(s, again, n);
    rec fresh = {"api", 9, T0 + 61 * MIN, "a line never seen before"};
    commit(s, &fresh, 1);
    json_t *after = patterns(s, &p);
    ck_assert_int_eq(num(after, "total"), 4);
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(before, "patterns"), i, x) {
        json_t *y = by_template(after, str(x, "template"));
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(num(y, "id"), num(x, "id"));
        ck_assert_int_eq(num(y, "count"), 2 * num(x, "count"));
        ck_assert_str_eq(str(y, "sinceUnixNano"), str(x, "sinceUnixNano"));
    }
    json_t *nw = by_template(after, "a line never seen before");
    ck_assert_ptr_nonnull(nw);
    ck_assert_int_gt(num(nw, "id"), 3);
    json_decref(before);
    json_decref(after);
    store_close(s);
    check_rows(path);
}
END_TEST

START_TEST(deleting_a_service_takes_its_pattern_counts) {
    store *s = open_store();
    rec r[80];
    size_t n = corpus(r, T0);
    commit(s, r, n);
    store_delete_result dr;
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_LOGS, "api", 10000, &dr), STORE_OK);
    ck_assert_uint_eq(dr.logs, 55);
    query_patterns_params p = {.limit = 100};
    json_t *a = patterns(s, &p);
    ck_assert_uint_eq(json_array_size(json_object_get(a, "patterns")), 1);
    ck_assert_ptr_nonnull(by_template(a, "job <NUM> done in <DURATION>"));
    json_decref(a);
    /* the service's records come back to their patterns */
    commit(s, r, 3);
    a = patterns(s, &p);
    ck_assert_int_eq(num(by_template(a, "GET <PATH> <NUM> <DURATION>"), "count"), 3);
    json_decref(a);
    store_close(s);
}
END_TEST

/* A schema 3 database whose active log segment (format 3) predates log
 * patterns: its table has no pattern column. */
static void make_schema3(const char *path) {
    sqlite3 *db;
    char err[256];
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(schema_migrate_to(db, 3, err, sizeof(err)), SCHEMA_OK);
    char sql[4096];
    snprintf(sql, sizeof(sql),
             "INSERT INTO services(id, name, log_count, last_seen_ns) VALUES(1, 'old', 2, %llu);"
             "INSERT INTO resources(id, hash, service, instance, attrs, dropped_attrs,"
             " schema_url) VALUES(1, x'00', 1, '', '{\"service.name\":\"old\"}', 0, '');"
             "INSERT INTO scopes(id, hash, name, version, attrs, dropped_attrs, schema_url)"
             " VALUES(1, x'00', 's', '', '{}', 0, '');"
             "INSERT INTO segments(id, signal, sealed, created_ns, items, min_time_ns,"
             " max_time_ns, age_time_ns, bytes, format) VALUES(1, 1, 0, %llu, 2, %llu, %llu,"
             " %llu, 10, 3);"
             "INSERT INTO segment_services(segment, service, logs) VALUES(1, 1, 2);"
             "CREATE TABLE logs_1(id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,"
             " observed_ns INTEGER NOT NULL, service INTEGER NOT NULL, severity INTEGER NOT NULL,"
             " severity_text TEXT NOT NULL, trace_id BLOB, span_id BLOB, flags INTEGER NOT NULL,"
             " event_name TEXT NOT NULL, resource INTEGER NOT NULL, scope INTEGER NOT NULL,"
             " dropped_attrs INTEGER NOT NULL, body TEXT NOT NULL, attrs TEXT NOT NULL);"
             "CREATE INDEX logs_1_time ON logs_1(time_ns);"
             "CREATE INDEX logs_1_service_time ON logs_1(service, time_ns);"
             "CREATE VIRTUAL TABLE logs_fts_1 USING fts5(body, content='',"
             " tokenize='unicode61 remove_diacritics 2');"
             "CREATE VIRTUAL TABLE log_attr_fts_1 USING fts5(t, content='', detail=none,"
             " columnsize=0, tokenize='ascii');"
             "CREATE TABLE counts_1(service INTEGER NOT NULL, minute INTEGER NOT NULL,"
             " items INTEGER NOT NULL, errors INTEGER NOT NULL,"
             " PRIMARY KEY(service, minute)) WITHOUT ROWID;"
             "INSERT INTO logs_1 VALUES(1, %llu, 0, 1, 9, '', NULL, NULL, 0, '', 1, 1, 0,"
             " '\"cache warmed with 5 entries\"', '{}');"
             "INSERT INTO logs_1 VALUES(2, %llu, 0, 1, 9, '', NULL, NULL, 0, '', 1, 1, 0,"
             " '\"cache warmed with 6 entries\"', '{}');"
             "INSERT INTO logs_fts_1(rowid, body) SELECT id, json_extract(body, '$') FROM logs_1;"
             "INSERT INTO log_attr_fts_1(rowid, t) SELECT id, loupe_attr_tokens(attrs)"
             " FROM logs_1;",
             (unsigned long long)(T0 + 1), (unsigned long long)T0, (unsigned long long)T0,
             (unsigned long long)(T0 + 1), (unsigned long long)(T0 + 1), (unsigned long long)T0,
             (unsigned long long)(T0 + 1));
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
    sqlite3_close(db);
}

START_TEST(log_segments_made_before_patterns_read_as_patternless) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_schema3(path);
    store *s = open_store();
    rec r[2] = {{"old", 9, T0 + 2, "cache warmed with 7 entries"},
                {"old", 9, T0 + 3, "cache warmed with 8 entries"}};
    commit(s, r, 2); /* the old active segment is sealed; a new one takes them */
    query_logs_params lp = {.limit = 100};
    json_t *l = logs(s, &lp);
    json_t *items = json_object_get(l, "logs");
    ck_assert_uint_eq(json_array_size(items), 4);
    int64_t pid = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(items, i);
        json_t *v = json_object_get(it, "patternId");
        if (i < 2) { /* newest first: the new records */
            ck_assert(json_is_integer(v));
            pid = json_integer_value(v);
        } else {
            ck_assert(json_is_null(v));
        }
    }
    json_decref(l);
    lp.pattern = pid;
    l = logs(s, &lp);
    ck_assert_uint_eq(json_array_size(json_object_get(l, "logs")), 2);
    json_decref(l);
    query_patterns_params p = {.limit = 100};
    json_t *a = patterns(s, &p);
    ck_assert_int_eq(num(json_array_get(json_object_get(a, "patterns"), 0), "count"), 2);
    json_decref(a);
    store_delete_result dr;
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_LOGS, "old", 10000, &dr), STORE_OK);
    ck_assert_uint_eq(dr.logs, 4);
    store_close(s);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(fx_sql_int(db, "PRAGMA user_version"), SCHEMA_VERSION);
    ck_assert_int_eq(fx_sql_int(db, "SELECT sealed FROM segments WHERE id=1"), 1);
    ck_assert_int_eq(fx_sql_int(db, "SELECT format FROM segments WHERE id=2"), 4);
    sqlite3_close(db);
}
END_TEST

/* --log-patterns off: new records get no pattern, none is learned or
 * counted; the patterns stored before stay listed and filterable. */
START_TEST(patterns_off_assigns_none_and_keeps_the_stored) {
    store *s = open_store();
    rec r[80];
    size_t n = corpus(r, T0);
    commit(s, r, n);
    query_patterns_params p = {.limit = 100};
    json_t *before = patterns(s, &p);
    ck_assert_int_eq(num(before, "total"), 3);
    store_close(s);

    patterns_off = 1;
    s = open_store();
    rec later[80];
    n = corpus(later, T0 + 60 * MIN);
    commit(s, later, n);
    rec fresh = {"api", 9, T0 + 61 * MIN, "a line never seen before"};
    commit(s, &fresh, 1);
    json_t *after = patterns(s, &p);
    ck_assert_int_eq(num(after, "total"), 3); /* nothing new learned */
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(before, "patterns"), i, x) {
        json_t *y = by_template(after, str(x, "template"));
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(num(y, "count"), num(x, "count")); /* the new records not counted */
    }
    query_logs_params lp = {.limit = 200, .has_start = 1, .start_ns = T0 + 60 * MIN};
    json_t *l = logs(s, &lp);
    json_t *list = json_object_get(l, "logs");
    ck_assert_int_eq((int)json_array_size(list), (int)n + 1);
    json_array_foreach(list, i, x) ck_assert(json_is_null(json_object_get(x, "patternId")));
    json_decref(l);
    json_decref(before);
    json_decref(after);
    store_close(s);
}
END_TEST

static Suite *store_patterns_suite(void) {
    Suite *s = suite_create("store_patterns");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, patterns_are_listed_with_counts_levels_and_examples);
    tcase_add_test(tc, new_patterns_are_those_first_seen_in_the_window);
    tcase_add_test(tc, patterns_survive_a_restart);
    tcase_add_test(tc, deleting_a_service_takes_its_pattern_counts);
    tcase_add_test(tc, log_segments_made_before_patterns_read_as_patternless);
    tcase_add_test(tc, patterns_off_assigns_none_and_keeps_the_stored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(store_patterns_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
