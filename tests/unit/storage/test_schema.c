/* test_schema.c - schema v1 -> v2 (storage/schema.c): a version 1 database
 * written as loupe 1 wrote it is migrated when the store opens, its data
 * intact and indexed; and the attribute index stays in step with the rows
 * when retention removes them (migrated rows and new ones alike). */
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

static json_t *run_traces(sqlite3 *rd, const query_traces_params *p) {
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(query_traces(rd, p, &out), QUERY_OK);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    buf_free(&out);
    ck_assert_ptr_nonnull(j);
    return j;
}

static int64_t fts_count(sqlite3 *db, const char *table, const char *key, const char *value) {
    buf m;
    buf_init(&m, 4096);
    if (key == NULL) /* a span name */
        ck_assert_int_eq(attr_index_query_name(value, strlen(value), &m), BUF_OK);
    else
        ck_assert_int_eq(attr_index_query_eq(key, strlen(key), value, strlen(value), &m), BUF_OK);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s MATCH ?1", table, table);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, m.ptr, (int)m.len, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    buf_free(&m);
    return n;
}

START_TEST(test_v1_migrated_at_startup) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);

    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir};
    store *s;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    sqlite3 *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    ck_assert_int_eq(fx_sql_int(rd, "PRAGMA user_version"), SCHEMA_VERSION);
    /* the data is all there */
    ck_assert_int_eq(fx_sql_int(rd, "SELECT count(*) FROM spans"), 3);
    ck_assert_int_eq(fx_sql_int(rd, "SELECT count(*) FROM logs"), 2);
    ck_assert_int_eq(fx_sql_int(rd, "SELECT count(*) FROM points"), 1);
    /* ... and indexed: per-service counts, attributes, names */
    ck_assert_int_eq(fx_sql_int(rd, "SELECT span_count FROM trace_services WHERE trace=1"), 2);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "code", "200"), 1);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", NULL, "charge"), 1);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "ratio", "0.5"), 1);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "ok", "true"), 1);
    ck_assert_int_eq(fts_count(rd, "log_attr_fts", "user", "u2"), 1);

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
    sqlite3_close(rd);
    store_close(s);

    /* opening again is a no-op */
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "code", "200"), 1);
    sqlite3_close(rd);
    store_close(s);
}
END_TEST

/* Retention deletes the index entries of the rows it removes: with FTS5
 * 'delete' commands whose tokens come from the stored JSON, which must be
 * the tokens the writer (or the migration) inserted. */
START_TEST(test_index_follows_retention) {
    char path[128];
    snprintf(path, sizeof(path), "%s/loupe.db", dir);
    make_v1(path);
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir, .max_spans = 10,
                        .max_logs = 10};
    store *s;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    sqlite3 *rd;
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
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
    store_close(s); /* retention has run after the last commit */
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    sqlite3_close(rd);
    ck_assert_int_eq(store_reader_open(s, &rd), STORE_OK);
    /* the migrated rows are gone, and so are their index entries */
    ck_assert_int_eq(fx_sql_int(rd, "SELECT count(*) FROM spans WHERE id<=3"), 0);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "code", "200"), 0);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "db.system", "postgresql"), 0);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", NULL, "GET /cart"), 0);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", NULL, "op"),
                     fx_sql_int(rd, "SELECT count(*) FROM spans"));
    ck_assert_int_eq(fts_count(rd, "log_attr_fts", "user", "u1"), 0);
    /* the first round was evicted as well: its entries went with it */
    int64_t spans_left = fx_sql_int(rd, "SELECT count(*) FROM spans");
    int64_t round0 = fx_sql_int(rd, "SELECT count(*) FROM spans WHERE attrs='{\"round\":0}'");
    ck_assert_int_le(spans_left, 10);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "round", "0"), round0);
    ck_assert_int_eq(fts_count(rd, "span_attr_fts", "round", "1"), spans_left - round0);
    int64_t logs_left = fx_sql_int(rd, "SELECT count(*) FROM logs");
    int64_t lround0 = fx_sql_int(rd, "SELECT count(*) FROM logs WHERE attrs='{\"round\":0}'");
    ck_assert_int_eq(fts_count(rd, "log_attr_fts", "round", "0"), lround0);
    ck_assert_int_eq(fts_count(rd, "log_attr_fts", "round", "1"), logs_left - lround0);
    ck_assert_int_eq(fx_sql_int(rd, "SELECT count(*) FROM trace_services t WHERE NOT EXISTS"
                                    " (SELECT 1 FROM traces WHERE id=t.trace)"),
                     0);
    sqlite3_close(rd);
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
