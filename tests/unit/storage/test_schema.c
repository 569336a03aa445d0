/* test_schema.c - migrations (storage/schema.c): a version 1 database
 * written as loupe 1 wrote it, and a version 2 one, are migrated when the
 * store opens -- their tables become the first segments (schema 3), the
 * data intact and indexed -- and retention later drops those segments
 * whole, index and all, beside the segments of new data. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/attr_index.h"
#include "storage/query.h"
#include "storage/query_internal.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "store_fixture.h"

static char dir[64];

static void setup(void) {
    fx_tmpdir(dir, sizeof(dir));
}

static void teardown(void) {
    fx_rmdir(dir);
    query_drive_limit = 4096;
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql,
                  err ? err : "");
}

/* A v1 database with two traces (three spans, two services), two logs and
 * a metric point, inserted the way the v1 writer did. */
static void make_v1(const char *path) {
    sqlite3 *db;
    char err[256];
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(schema_migrate_to(db, 1, err, sizeof(err)), SCHEMA_OK);
    int v = 0;
    ck_assert_int_eq(schema_version(db, &v), SCHEMA_OK);
    ck_assert_int_eq(v, 1);
    exec(db,
         "INSERT INTO services(id,name,span_count,error_count,log_count,point_count,last_seen_ns)"
         " VALUES(1,'shop',2,1,2,1,3000),(2,'db',1,0,0,0,2500);"
         "INSERT INTO resources(id,hash,service,instance,attrs,dropped_attrs,schema_url) VALUES"
         " (1,x'01',1,'','{\"service.name\":\"shop\"}',0,''),"
         " (2,x'02',2,'','{\"service.name\":\"db\"}',0,'');"
         "INSERT INTO scopes(id,hash,name,version,attrs,dropped_attrs,schema_url)"
         " VALUES(1,x'03','s','1','{}',0,'');"
         "INSERT INTO traces(id,trace_id,start_ns,end_ns,span_count,error_count,has_root,"
         " root_service,root_name,root_span_id) VALUES"
         " (1,x'0102030405060708090a0b0c0d0e0f10',1000,3000,2,1,1,1,'GET /cart',x'0000000000000001'),"
         " (2,x'1102030405060708090a0b0c0d0e0f10',1500,2500,1,0,1,2,'SELECT',x'0000000000000003');"
         "INSERT INTO trace_services(service,trace) VALUES(1,1),(2,2);"
         "INSERT INTO spans(id,trace,span_id,parent_span_id,start_ns,end_ns,service,name,kind,"
         " status_code,status_message,trace_state,flags,resource,scope,dropped_attrs,"
         " dropped_events,dropped_links,attrs,events,links) VALUES"
         " (1,1,x'0000000000000001',NULL,1000,3000,1,'GET /cart',2,0,'','',0,1,1,0,0,0,"
         "  '{\"http.route\":\"/cart\",\"code\":200,\"ratio\":0.5,\"ok\":true}','[]','[]'),"
         " (2,1,x'0000000000000002',x'0000000000000001',1100,2000,1,'charge',3,2,'boom','',0,1,"
         "  1,0,0,0,'{\"amount\":12.5}','[]','[]'),"
         " (3,2,x'0000000000000003',NULL,1500,2500,2,'SELECT',3,0,'','',0,2,1,0,0,0,"
         "  '{\"db.system\":\"postgresql\"}','[]','[]');"
         "INSERT INTO logs(id,time_ns,observed_ns,service,severity,severity_text,trace_id,"
         " span_id,flags,event_name,resource,scope,dropped_attrs,body,attrs) VALUES"
         " (1,2000,2000,1,17,'ERROR',NULL,NULL,0,'',1,1,0,'\"disk full\"','{\"user\":\"u1\"}'),"
         " (2,3000,3000,1,9,'INFO',NULL,NULL,0,'',1,1,0,'\"all good\"','{\"user\":\"u2\"}');"
         "INSERT INTO logs_fts(rowid, body) VALUES(1,'disk full'),(2,'all good');"
         "INSERT INTO metrics(id,resource,scope,name,service,description,unit,type,temporality,"
         " monotonic,last_seen_ns) VALUES(1,1,1,'queue',1,'','',0,0,0,3000);"
         "INSERT INTO series(id,metric,hash,attrs) VALUES(1,1,x'04','{}');"
         "INSERT INTO points(id,series,start_ns,time_ns,value,is_int,flags,data,exemplars)"
         " VALUES(1,1,0,3000,7,1,0,NULL,NULL);");
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static json_t *run_traces(store_reader *rd, const query_traces_params *p) {
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_traces(rd, p, &out), QUERY_OK);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    buf_free(&out);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Attribute index hits of key=value (key NULL: a span name) in every
 * segment's `table`. */
static int64_t fts_count(sqlite3 *db, const char *table, const char *key, const char *value) {
    buf m;
    buf_init(&m, 4096);
    if (key == NULL) /* a span name */
        ck_assert_int_eq(attr_index_query_name(value, strlen(value), &m), BUF_OK);
    else
        ck_assert_int_eq(attr_index_query_eq(key, strlen(key), value, strlen(value), &m), BUF_OK);
    ck_assert_int_eq(buf_append(&m, "", 1), BUF_OK);
    int64_t n = fx_match(db, table, m.ptr);
    buf_free(&m);
    return n;
}

/* The store of dir with the default limits, and a reader of it. */
static store *open_dir(store_reader **rd) {
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir};
    store *s;
    char err[256];
    ck_assert_msg(store_open(&cfg, &s, err, sizeof(err)) == STORE_OK, "store_open: %s", err);
    ck_assert_int_eq(store_reader_open(s, rd), STORE_OK);
    return s;
}

/* make_v1()'s tables became sealed segments 1 (traces), 2 (logs) and 3
 * (points) of schema 3. */
static void check_adopted(sqlite3 *db) {
    ck_assert_int_eq(fx_sql_int(db, "PRAGMA user_version"), SCHEMA_VERSION);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments"), 3);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE sealed=1 AND"
                                    " ((id=1 AND signal=0 AND items=3) OR (id=2 AND signal=1 AND"
                                    " items=2) OR (id=3 AND signal=2 AND items=1))"),
                     3);
}

START_TEST(test_v1_migrated_at_startup) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);

    store_reader *rd;
    store *s = open_dir(&rd);
    sqlite3 *db = rd->db;
    check_adopted(db);
    /* the data is all there */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM spans_1"), 3);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM logs_2"), 2);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM points_3"), 1);
    /* ... and indexed: per-service counts, attributes, names */
    ck_assert_int_eq(fx_sql_int(db, "SELECT span_count FROM trace_services_1 WHERE trace=1"), 2);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "code", "200"), 1);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", NULL, "charge"), 1);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "ratio", "0.5"), 1);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "ok", "true"), 1);
    ck_assert_int_eq(fts_count(db, "log_attr_fts", "user", "u2"), 1);
    fx_check_store(db);

    query_drive_limit = 1000000; /* the index plan */
    query_attr a = {"db.system", 9, QUERY_ATTR_EQ, "postgresql", 10, 0};
    query_traces_params p = {.limit = 10, .attrs = &a, .n_attrs = 1};
    json_t *j = run_traces(rd, &p);
    json_t *list = json_object_get(j, "traces");
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "rootName")),
                     "SELECT");
    json_decref(j);
    query_traces_params e = {.limit = 10, .status = QUERY_STATUS_ERROR, .name = "charge"};
    j = run_traces(rd, &e);
    list = json_object_get(j, "traces");
    ck_assert_int_eq(json_array_size(list), 1);
    json_t *sv = json_object_get(json_array_get(list, 0), "services");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(sv, 0), "spanCount")), 2);
    json_decref(j);
    query_attr la = {"user", 4, QUERY_ATTR_EQ, "u1", 2, 0};
    query_logs_params lp = {.limit = 10, .attrs = &la, .n_attrs = 1, .q = "disk"};
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_logs(rd, &lp, &out), QUERY_OK);
    ck_assert_ptr_nonnull(strstr(out.ptr, "disk full"));
    ck_assert_ptr_null(strstr(out.ptr, "all good"));
    buf_free(&out);
    store_reader_close(rd);
    store_close(s);

    /* opening again is a no-op */
    s = open_dir(&rd);
    ck_assert_int_eq(fts_count(rd->db, "span_attr_fts", "code", "200"), 1);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM segments"), 3);
    fx_check_store(rd->db);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* Retention drops the migrated segments whole, their index tables with
 * them, like any other: --max-spans 10 and --max-logs 10 make segments of
 * one item (a trace's spans of one batch share one), and the new data
 * pushes the old segments out; the index of what is left agrees with its
 * rows. */
START_TEST(test_index_follows_retention) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir, .max_spans = 10,
                        .max_logs = 10};
    store *s;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    /* 40 new spans of 20 traces and 40 logs push out the old rows */
    for (int round = 0; round < 2; round++) {
        model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
        model_resource *r = fx_resource(b, "shop", NULL);
        model_scope *sc = fx_scope(b, "s", "");
        fx_spans(b, 20);
        for (int i = 0; i < 20; i++) {
            model_span *sp = fx_span(b, r, sc, 100 + (uint64_t)(round * 10 + i / 2),
                                     (uint64_t)(round * 100 + i + 1), 0, "op", 5000, 6000);
            sp->attrs.items = fx_kvs(b, 1);
            sp->attrs.n = 1;
            fx_kv_int(b, &sp->attrs.items[0], "round", round);
        }
        ck_assert_int_eq(fx_commit(s, b), STORE_OK);
        model_batch *l = model_batch_new(MODEL_SIGNAL_LOGS, 0);
        model_resource *lr = fx_resource(l, "shop", NULL);
        fx_logs(l, 20);
        for (int i = 0; i < 20; i++) {
            model_log *lg = fx_log(l, lr, fx_scope(l, "", ""), 9000 + (uint64_t)i, 9, "x");
            lg->attrs.items = fx_kvs(l, 1);
            lg->attrs.n = 1;
            fx_kv_int(l, &lg->attrs.items[0], "round", round);
        }
        ck_assert_int_eq(fx_commit(s, l), STORE_OK);
    }
    fx_settle(s);
    store_close(s);
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    store_reader *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    sqlite3 *db = rd->db;
    /* the migrated segments are gone, tables and index entries alike */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM segments WHERE id<=2"), 0);
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                    " ('spans_1','span_attr_fts_1','logs_2','log_attr_fts_2')"),
                     0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "code", "200"), 0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "db.system", "postgresql"), 0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", NULL, "GET /cart"), 0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", NULL, "op"), fx_rows(db, "spans", NULL));
    ck_assert_int_eq(fts_count(db, "log_attr_fts", "user", "u1"), 0);
    /* the first round went as well, whole traces with their entries: 5
     * traces of the second round are kept, 10 spans, and 10 records */
    int64_t spans_left = fx_rows(db, "spans", NULL);
    ck_assert_int_eq(spans_left, 10);
    ck_assert_int_eq(fx_rows(db, "spans", "attrs='{\"round\":0}'"), 0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "round", "0"), 0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "round", "1"), spans_left);
    int64_t logs_left = fx_rows(db, "logs", NULL);
    ck_assert_int_eq(logs_left, 10);
    ck_assert_int_eq(fts_count(db, "log_attr_fts", "round", "0"), 0);
    ck_assert_int_eq(fts_count(db, "log_attr_fts", "round", "1"), logs_left);
    /* the point of the migrated metrics segment stays: no limit reached */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM points_3"), 1);
    fx_check_store(db);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* Every row of `sql` (one query), each value quoted, as one text
 * (malloc'ed): two tables hold the same rows when their dumps are equal. */
static char *dump(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    buf b;
    buf_init(&b, 64 << 20);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            ck_assert_int_eq(buf_printf(&b, "%s|", v ? (const char *)v : "NULL"), BUF_OK);
        }
        ck_assert_int_eq(buf_append_char(&b, '\n'), BUF_OK);
    }
    sqlite3_finalize(st);
    ck_assert_int_eq(buf_append(&b, "", 1), BUF_OK);
    return buf_detach(&b, NULL);
}

/* The version 2 tables that become segments: columns (quote() keeps
 * blobs and types apart), name, order. */
static const char *const v2_dumps[][3] = {
    {"*, quote(trace_id), quote(root_span_id)", "traces", "id"},
    {"*", "trace_services", "service, trace"},
    {"*, quote(span_id), quote(parent_span_id)", "spans", "id"},
    {"*, quote(trace_id), quote(span_id)", "logs", "id"},
    {"*, quote(value)", "points", "id"},
};

static char *dump_table(sqlite3 *db, size_t which, const char *suffix) {
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s%s ORDER BY %s", v2_dumps[which][0],
             v2_dumps[which][1], suffix, v2_dumps[which][2]);
    return dump(db, sql);
}

/* A schema 2 database (the one before segments) opens: its tables become
 * sealed segments 1, 2 and 3 -- renamed, nothing copied, nothing lost --
 * with their manifest rows, per-service counts and (made at open) the
 * trace segment's bloom filter, which then finds a migrated trace's home
 * for a span of it that arrives later. */
START_TEST(test_v2_migrated_to_segments) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);
    sqlite3 *db;
    char err[256];
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(schema_migrate_to(db, 2, err, sizeof(err)), SCHEMA_OK);
    ck_assert_int_eq(fx_sql_int(db, "PRAGMA user_version"), 2);
    char *before[5];
    for (size_t i = 0; i < 5; i++)
        before[i] = dump_table(db, i, "");
    int64_t svc_before = fx_sql_int(db, "SELECT sum(span_count*1000000+error_count*10000"
                                        "+log_count*100+point_count) FROM services");
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);

    store_reader *rd;
    store *s = open_dir(&rd);
    db = rd->db;
    check_adopted(db);
    ck_assert_int_eq(fx_sql_int(db, "SELECT bloom IS NOT NULL FROM segments WHERE id=1"), 1);
    static const char *const suffix[5] = {"_1", "_1", "_1", "_2", "_3"};
    for (size_t i = 0; i < 5; i++) {
        char *after = dump_table(db, i, suffix[i]);
        ck_assert_msg(strcmp(before[i], after) == 0, "%s changed in the migration",
                      v2_dumps[i][1]);
        free(after);
        free(before[i]);
    }
    ck_assert_int_eq(fx_sql_int(db, "SELECT sum(span_count*1000000+error_count*10000"
                                    "+log_count*100+point_count) FROM services"),
                     svc_before);
    /* no table of schema 2 is left under its old name */
    ck_assert_int_eq(fx_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                    " ('traces','trace_services','spans','span_attr_fts','logs',"
                                    "'logs_fts','log_attr_fts','points')"),
                     0);
    ck_assert_int_eq(fts_count(db, "span_attr_fts", "code", "200"), 1);
    ck_assert_int_eq(fx_match(db, "logs_fts", "disk"), 1);
    fx_check_store(db);

    /* a late span of migrated trace 1 joins it in segment 1 */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "shop", NULL);
    fx_spans(b, 2);
    model_span *late = fx_span(b, r, fx_scope(b, "s", "1"), 0, 4, 1, "late", 2500, 2600);
    static const uint8_t t1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    memcpy(late->trace_id, t1, 16);
    /* and a new trace starts the first segment of new data */
    fx_span(b, r, fx_scope(b, "s", "1"), 77, 771, 0, "new", 4000, 4100);
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    ck_assert_int_eq(fx_sql_int(db, "SELECT span_count FROM traces_1 WHERE id=1"), 3);
    ck_assert_int_eq(fx_sql_int(db, "SELECT items FROM segments WHERE id=1"), 4);
    ck_assert_int_eq(fx_trace_segment(db, 77), 4);
    ck_assert_int_eq(fx_sql_int(db, "SELECT sealed FROM segments WHERE id=4"), 0);
    fx_check_store(db);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_trace(rd, t1, &out), QUERY_OK);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "spans")), 3);
    json_decref(j);
    buf_free(&out);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

/* The schema 2 database of the interop suite (tests/interop/fixtures/
 * schema2/loupe.sql, the dump of a database written by the release before
 * segments, loaded by the sqlite3 shell) opens with every
 * trace, record and point, each trace whole through the queries. */
START_TEST(test_v2_fixture_migrated) {
    char path[160];
    snprintf(path, sizeof(path), "sqlite3 %s/loupe.db < tests/interop/fixtures/schema2/loupe.sql",
             dir);
    ck_assert_int_eq(system(path), 0);
    store_reader *rd;
    store *s = open_dir(&rd);
    sqlite3 *db = rd->db;
    ck_assert_int_eq(fx_sql_int(db, "SELECT group_concat(id||':'||signal||':'||sealed||':'||items,"
                                    " ' ') = '1:0:1:415 2:1:1:24 3:2:1:30' FROM segments"),
                     1);
    fx_check_store(db);
    buf out;
    buf_init(&out, 4 << 20);
    query_traces_params p = {.limit = 1000};
    ck_assert_int_eq(query_traces(rd, &p, &out), QUERY_OK);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *list = json_object_get(j, "traces");
    ck_assert_int_eq(json_array_size(list), fx_sql_int(db, "SELECT count(*) FROM traces_1"));
    int64_t spans = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        uint8_t id[16];
        const char *hex = json_string_value(json_object_get(json_array_get(list, i), "traceId"));
        ck_assert_int_eq(model_hex_decode(hex, 32, id, 16), 0);
        buf t;
        buf_init(&t, 4 << 20);
        ck_assert_int_eq(query_trace(rd, id, &t), QUERY_OK);
        json_t *tj = json_loadb(t.ptr, t.len, 0, NULL);
        size_t n = json_array_size(json_object_get(tj, "spans"));
        ck_assert_int_eq(n, json_integer_value(
                                json_object_get(json_array_get(list, i), "spanCount")));
        spans += (int64_t)n;
        json_decref(tj);
        buf_free(&t);
    }
    ck_assert_int_eq(spans, 415);
    json_decref(j);
    query_logs_params lp = {.limit = 1000};
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &lp, &out), QUERY_OK);
    j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "logs")), 24);
    json_decref(j);
    buf_free(&out);
    store_reader_close(rd);
    store_close(s);
}
END_TEST

START_TEST(test_newer_version_refused) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "PRAGMA user_version=99");
    sqlite3_close(db);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_ESCHEMA);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "newer"));
}
END_TEST

static Suite *schema_suite(void) {
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_v1_migrated_at_startup);
    tcase_add_test(tc, test_index_follows_retention);
    tcase_add_test(tc, test_v2_migrated_to_segments);
    tcase_add_test(tc, test_v2_fixture_migrated);
    tcase_add_test(tc, test_newer_version_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(schema_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
