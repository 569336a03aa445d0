/* Tests for storage/rollup.c: log-scale duration buckets, the histogram
 * blob and its SQL functions, percentiles within their documented bound,
 * and the peer a client span calls. */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/rollup.h"

START_TEST(buckets_are_ordered_and_bounded) {
    ck_assert_int_eq(rollup_bucket(0), 0);
    ck_assert_int_eq(rollup_bucket(999), 0);
    ck_assert_int_eq(rollup_bucket(1000), 1);
    int prev = 0;
    for (uint64_t ns = 1000; ns < 4000000000000ULL; ns = ns * 11 / 10 + 1) {
        int b = rollup_bucket(ns);
        ck_assert_int_ge(b, prev);
        ck_assert_int_lt(b, ROLLUP_BUCKETS);
        prev = b;
        /* the bucket's middle is within 4.5% of every duration in it (up to an hour) */
        if (ns < 3600000000000ULL) {
            double mid = (double)rollup_bucket_ns(b);
            ck_assert_msg(fabs(mid - (double)ns) / (double)ns <= 0.045, "ns %llu mid %.0f",
                          (unsigned long long)ns, mid);
        }
    }
    ck_assert_int_eq(rollup_bucket(UINT64_MAX), ROLLUP_BUCKETS - 1);
}
END_TEST

START_TEST(blob_round_trip_and_quantiles) {
    rollup_hist h, back;
    memset(&h, 0, sizeof(h));
    memset(&back, 0, sizeof(back));
    /* 1..1000 ms, one each */
    for (uint64_t ms = 1; ms <= 1000; ms++)
        h.n[rollup_bucket(ms * 1000000ULL)]++;
    buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(rollup_hist_blob(&h, &b), BUF_OK);
    ck_assert_int_eq(rollup_hist_add_blob(&back, b.ptr, b.len), 0);
    ck_assert_int_eq(memcmp(&h, &back, sizeof(h)), 0);
    ck_assert_uint_eq(rollup_hist_count(&back), 1000);
    double p50 = (double)rollup_hist_quantile(&back, 0.5) / 1e6;
    double p99 = (double)rollup_hist_quantile(&back, 0.99) / 1e6;
    ck_assert_msg(fabs(p50 - 500) / 500 <= 0.045, "p50 %.1f ms", p50);
    ck_assert_msg(fabs(p99 - 990) / 990 <= 0.045, "p99 %.1f ms", p99);
    rollup_hist empty;
    memset(&empty, 0, sizeof(empty));
    ck_assert_uint_eq(rollup_hist_quantile(&empty, 0.99), 0);
    /* a count cut short, or a bucket without its count, is refused */
    const unsigned char bad[] = {5, 0x80, 0x80};
    const unsigned char lone[] = {7};
    ck_assert_int_eq(rollup_hist_add_blob(&back, lone, sizeof(lone)), -1);
    ck_assert_int_eq(rollup_hist_add_blob(&back, bad, sizeof(bad)), -1);
    buf_free(&b);
}
END_TEST

static int64_t sql_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

START_TEST(sql_functions_merge_and_sum) {
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(rollup_register(db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE d(g, ns); INSERT INTO d VALUES"
                                  "(1, 1000000),(1, 2000000),(2, 5000000),(2, NULL);"
                                  "CREATE TABLE h AS SELECT g, loupe_hist_of(ns) AS hist FROM d"
                                  " GROUP BY g;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* sum the per-group blobs: three durations in all */
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT loupe_hist_sum(hist),"
                                        " loupe_hist_merge((SELECT hist FROM h WHERE g=1),"
                                        " (SELECT hist FROM h WHERE g=2)) FROM h",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    for (int col = 0; col < 2; col++) {
        rollup_hist x;
        memset(&x, 0, sizeof(x));
        ck_assert_int_eq(rollup_hist_add_blob(&x, sqlite3_column_blob(st, col),
                                              (size_t)sqlite3_column_bytes(st, col)),
                         0);
        ck_assert_uint_eq(rollup_hist_count(&x), 3);
        ck_assert_uint_eq(x.n[rollup_bucket(5000000)], 1);
    }
    sqlite3_finalize(st);
    /* NULL merges as empty; a malformed blob is an SQL error */
    ck_assert_int_eq(sql_int(db, "SELECT length(loupe_hist_merge(NULL, NULL))"), 0);
    ck_assert_int_ne(sqlite3_exec(db, "SELECT loupe_hist_merge(x'0580', NULL)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}
END_TEST

/* A span's attributes from key/string pairs (and one integer port). */
static void peer_of(char *out, size_t len, const char *k1, const char *v1, const char *k2,
                    const char *v2, int64_t port) {
    model_kv kv[3];
    size_t n = 0;
    const char *ks[2] = {k1, k2}, *vs[2] = {v1, v2};
    for (int i = 0; i < 2; i++) {
        if (ks[i] == NULL)
            continue;
        kv[n].key = (model_str){ks[i], strlen(ks[i])};
        kv[n].value.type = MODEL_VALUE_STRING;
        kv[n].value.u.str = (model_str){vs[i], strlen(vs[i])};
        n++;
    }
    if (port) {
        kv[n].key = (model_str){"server.port", 11};
        kv[n].value.type = MODEL_VALUE_INT;
        kv[n].value.u.integer = port;
        n++;
    }
    model_attrs a = {kv, n};
    rollup_peer(&a, out, len);
}

START_TEST(peers_follow_the_semantic_conventions) {
    char p[256];
    peer_of(p, sizeof(p), "peer.service", "payments", "server.address", "x", 0);
    ck_assert_str_eq(p, "service:payments");
    peer_of(p, sizeof(p), "peer.service", "old", "service.peer.name", "current", 0);
    ck_assert_str_eq(p, "service:current"); /* the name of semantic conventions 1.44 first */
    peer_of(p, sizeof(p), "db.system.name", "postgresql", "server.address", "db1", 5432);
    ck_assert_str_eq(p, "database:postgresql@db1");
    peer_of(p, sizeof(p), "db.system", "redis", NULL, NULL, 0);
    ck_assert_str_eq(p, "database:redis");
    peer_of(p, sizeof(p), "messaging.system", "kafka", "messaging.destination.name", "orders", 0);
    ck_assert_str_eq(p, "messaging:kafka orders");
    peer_of(p, sizeof(p), "server.address", "api.example.com", NULL, NULL, 443);
    ck_assert_str_eq(p, "external:api.example.com:443");
    peer_of(p, sizeof(p), "url.full", "https://user:pw@pay.example.com:8443/v1?x=1", NULL, NULL, 0);
    ck_assert_str_eq(p, "external:pay.example.com:8443");
    peer_of(p, sizeof(p), "net.peer.name", "legacy-host", NULL, NULL, 0);
    ck_assert_str_eq(p, "external:legacy-host");
    peer_of(p, sizeof(p), NULL, NULL, NULL, NULL, 0);
    ck_assert_str_eq(p, "external:unknown");
    ck_assert_str_eq(rollup_peer_kind("database:x"), "database");
    ck_assert_str_eq(rollup_peer_kind("messaging:y"), "messaging");
    ck_assert_str_eq(rollup_peer_kind("service:z"), "service");
    ck_assert_str_eq(rollup_peer_kind("weird"), "external");
    /* cut to fit, NUL-terminated */
    char small[12];
    peer_of(small, sizeof(small), "peer.service", "a-very-long-service-name", NULL, NULL, 0);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("rollup");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buckets_are_ordered_and_bounded);
    tcase_add_test(tc, blob_round_trip_and_quantiles);
    tcase_add_test(tc, sql_functions_merge_and_sum);
    tcase_add_test(tc, peers_follow_the_semantic_conventions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
