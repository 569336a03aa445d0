/* test_ingest_log.c - unit tests for server/net/ingest_log.c: the ring of
 * recent export requests (order, paging, overwriting), outcomes, the fields
 * read from a decoded batch, bounded text, the client table, and writers
 * and readers at once. */
#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/decode/otlp.h"
#include "server/net/ingest_log.h"

/* A record as a receiver makes it: HTTP, status 200 unless told. */
static ingest_rec rec_http(const char *path, unsigned status) {
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    ingest_rec_text(r.path, sizeof(r.path), path, strlen(path));
    snprintf(r.client, sizeof(r.client), "127.0.0.1");
    r.http_status = (uint16_t)status;
    return r;
}

static void add_paths(ingest_log *l, int from, int to) {
    char path[32];
    for (int i = from; i <= to; i++) {
        snprintf(path, sizeof(path), "/r%d", i);
        ingest_rec r = rec_http(path, 200);
        ingest_log_add(l, &r);
    }
}

START_TEST(test_off_and_bounds) {
    ck_assert_ptr_null(ingest_log_new(0, NULL));
    ck_assert_ptr_null(ingest_log_new(INGEST_LOG_MAX + 1, NULL));
    /* a NULL log is the inspector turned off: every call does nothing */
    ingest_rec r = rec_http("/v1/traces", 200), out;
    ingest_log_add(NULL, &r);
    ck_assert_uint_eq(ingest_log_head(NULL), 0);
    ck_assert_uint_eq(ingest_log_read(NULL, 0, 0, NULL, NULL, &out, 1, NULL), 0);
    ck_assert_int_eq(ingest_log_get(NULL, 1, &out), -1);
    ck_assert_uint_eq(ingest_log_clients(NULL, NULL, 0), 0);
    ck_assert_uint_eq(ingest_log_capacity(NULL), 0);
    ingest_log_free(NULL);
    ingest_limits lim = {.max_body = 123};
    ingest_log *l = ingest_log_new(INGEST_LOG_MAX, &lim);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(ingest_log_limits(l).max_body, 123);
    ck_assert_uint_eq(ingest_log_capacity(l), INGEST_LOG_MAX);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_ring_newest_first_with_cursor) {
    ingest_log *l = ingest_log_new(5, NULL);
    add_paths(l, 1, 3);
    ck_assert_uint_eq(ingest_log_head(l), 3);
    ingest_rec out[8];
    int more = -1;
    size_t n = ingest_log_read(l, 0, 0, NULL, NULL, out, 8, &more);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(more, 0);
    ck_assert_str_eq(out[0].path, "/r3");
    ck_assert_uint_eq(out[0].seq, 3);
    ck_assert_str_eq(out[2].path, "/r1");
    /* past the capacity the oldest are overwritten */
    add_paths(l, 4, 12);
    ck_assert_uint_eq(ingest_log_head(l), 12);
    n = ingest_log_read(l, 0, 0, NULL, NULL, out, 8, &more);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(more, 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(out[i].seq, 12 - i);
        char want[32];
        snprintf(want, sizeof(want), "/r%" PRIu64, out[i].seq);
        ck_assert_str_eq(out[i].path, want);
    }
    /* pages of two: the cursor is the last id of a page */
    n = ingest_log_read(l, 0, 0, NULL, NULL, out, 2, &more);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(more, 1);
    n = ingest_log_read(l, out[1].seq, 0, NULL, NULL, out, 2, &more);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(out[0].seq, 10);
    ck_assert_uint_eq(out[1].seq, 9);
    ck_assert_int_eq(more, 1);
    n = ingest_log_read(l, 9, 0, NULL, NULL, out, 2, &more);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].seq, 8);
    ck_assert_int_eq(more, 0);
    /* only newer than an id (what the page has already) */
    n = ingest_log_read(l, 0, 10, NULL, NULL, out, 8, &more);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(out[0].seq, 12);
    ck_assert_uint_eq(out[1].seq, 11);
    ck_assert_uint_eq(ingest_log_read(l, 0, 12, NULL, NULL, out, 8, NULL), 0);
    /* one by id; gone once overwritten, unknown past the head */
    ck_assert_int_eq(ingest_log_get(l, 9, &out[0]), 0);
    ck_assert_str_eq(out[0].path, "/r9");
    ck_assert_int_eq(ingest_log_get(l, 7, &out[0]), -1);
    ck_assert_int_eq(ingest_log_get(l, 13, &out[0]), -1);
    ck_assert_int_eq(ingest_log_get(l, 0, &out[0]), -1);
    ingest_log_free(l);
}
END_TEST

static int keep_even(const ingest_rec *r, void *ud) {
    (void)ud;
    return r->seq % 2 == 0;
}

START_TEST(test_read_filters_before_the_limit) {
    ingest_log *l = ingest_log_new(100, NULL);
    add_paths(l, 1, 20);
    ingest_rec out[4];
    int more;
    size_t n = ingest_log_read(l, 0, 0, keep_even, NULL, out, 4, &more);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(out[0].seq, 20);
    ck_assert_uint_eq(out[3].seq, 14);
    ck_assert_int_eq(more, 1);
    n = ingest_log_read(l, 14, 0, keep_even, NULL, out, 4, &more);
    ck_assert_uint_eq(out[0].seq, 12);
    n = ingest_log_read(l, 5, 0, keep_even, NULL, out, 4, &more);
    ck_assert_uint_eq(n, 2); /* 4 and 2 */
    ck_assert_int_eq(more, 0);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_outcome_ack_and_time) {
    ingest_log *l = ingest_log_new(10, NULL);
    ingest_rec r = rec_http("/v1/traces", 200);
    r.items = 5;
    ingest_log_add(l, &r);
    ck_assert_uint_eq(r.outcome, INGEST_OUTCOME_OK);
    ck_assert_uint_eq(r.reason, INGEST_REASON_NONE);
    ck_assert_uint_gt(r.time_ns, 1500000000ULL * 1000000000ULL);
    r = rec_http("/v1/traces", 200);
    r.items = 5;
    r.rejected = 2;
    ingest_log_add(l, &r);
    ck_assert_uint_eq(r.outcome, INGEST_OUTCOME_PARTIAL);
    ck_assert_uint_eq(r.reason, INGEST_REASON_ITEMS_REJECTED);
    r = rec_http("/v1/traces", 413);
    r.reason = INGEST_REASON_BODY_TOO_LARGE;
    ingest_log_add(l, &r);
    ck_assert_uint_eq(r.outcome, INGEST_OUTCOME_ERROR);
    /* gRPC: HTTP 200 with an error status is an error */
    ingest_rec_begin(&r, INGEST_GRPC);
    r.http_status = 200;
    r.grpc_code = 8;
    ingest_log_add(l, &r);
    ck_assert_uint_eq(r.outcome, INGEST_OUTCOME_ERROR);
    r.grpc_code = 0;
    ingest_log_add(l, &r);
    ck_assert_uint_eq(r.outcome, INGEST_OUTCOME_OK);
    /* the time to acknowledge runs from ingest_rec_begin */
    ingest_rec_begin(&r, INGEST_HTTP);
    r.begun_ns -= 250000000; /* as if it began 250 ms ago */
    r.http_status = 200;
    ingest_log_add(l, &r);
    ck_assert_uint_ge(r.ack_ns, 250000000);
    ck_assert_uint_lt(r.ack_ns, 60ULL * 1000000000ULL);
    /* what was stored is what the caller saw */
    ingest_rec got;
    ck_assert_int_eq(ingest_log_get(l, r.seq, &got), 0);
    ck_assert_int_eq(memcmp(&got, &r, sizeof(r)), 0);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_text_is_bounded_and_clean) {
    char d[8];
    ingest_rec_text(d, sizeof(d), "abc", 3);
    ck_assert_str_eq(d, "abc");
    ingest_rec_text(d, sizeof(d), "abcdefghij", 10);
    ck_assert_str_eq(d, "abcdefg");
    /* never inside a character: "abc" + "é" (2 bytes) + "€" (3 bytes) is 8 */
    ingest_rec_text(d, sizeof(d), "abc\xc3\xa9\xe2\x82\xac", 8);
    ck_assert_str_eq(d, "abc\xc3\xa9");
    ingest_rec_text(d, sizeof(d), "ab\xc3\xa9\xe2\x82\xac", 7);
    ck_assert_str_eq(d, "ab\xc3\xa9\xe2\x82\xac");
    ingest_rec_text(d, sizeof(d), "a\x1b[2Jb", 6);
    ck_assert_str_eq(d, "a?[2Jb");
    ingest_rec_text(d, sizeof(d), "a\0bc", 4);
    ck_assert_str_eq(d, "a");
    ingest_rec_text(d, sizeof(d), NULL, 5);
    ck_assert_str_eq(d, "");
    ingest_rec_text(d, sizeof(d), "x\x7fy", 3);
    ck_assert_str_eq(d, "x?y");
}
END_TEST

START_TEST(test_peer_addresses) {
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    struct sockaddr_in a4;
    memset(&a4, 0, sizeof(a4));
    a4.sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.2.3", &a4.sin_addr);
    ingest_rec_peer(&r, (const struct sockaddr *)&a4);
    ck_assert_str_eq(r.client, "10.1.2.3");
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::7", &a6.sin6_addr);
    ingest_rec_peer(&r, (const struct sockaddr *)&a6);
    ck_assert_str_eq(r.client, "2001:db8::7");
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
    ingest_rec_peer(&r, (const struct sockaddr *)&a6);
    ck_assert_str_eq(r.client, "127.0.0.1");
    ingest_rec_peer(&r, NULL);
    ck_assert_str_eq(r.client, "");
}
END_TEST

static model_batch *decode_json(model_signal sig, const char *json) {
    model_batch *b = NULL;
    char err[256];
    int rc = otlp_decode_json(sig, json, strlen(json), 0, &b, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "decode: %s", err);
    return b;
}

#define SPAN(tid)                                                                                  \
    "{\"traceId\":\"" tid "\",\"spanId\":\"0102030405060708\",\"name\":\"s\","                     \
    "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}"

START_TEST(test_batch_facts) {
    const char *json =
        "{\"resourceSpans\":["
        "{\"resource\":{\"attributes\":["
        "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h\"}},"
        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout <b>\"}},"
        "{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"opentelemetry\"}},"
        "{\"key\":\"telemetry.sdk.language\",\"value\":{\"stringValue\":\"nodejs\"}},"
        "{\"key\":\"telemetry.sdk.version\",\"value\":{\"stringValue\":\"2.0.1\"}}]},"
        "\"scopeSpans\":[{\"spans\":[" SPAN("0102030405060708090a0b0c0d0e0f10") ","
        SPAN("0102030405060708090a0b0c0d0e0f11") "," SPAN("00000000000000000000000000000000") "]}]},"
        "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"b\"}}]},"
        "\"scopeSpans\":[{\"spans\":[" SPAN("0102030405060708090a0b0c0d0e0f12") "]}]}]}";
    model_batch *b = decode_json(MODEL_SIGNAL_TRACES, json);
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    ingest_rec_batch(&r, b);
    ck_assert_int_eq(r.signal, MODEL_SIGNAL_TRACES);
    ck_assert_uint_eq(r.items, 4); /* 3 kept + 1 rejected (a zero trace id) */
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_uint_eq(r.resources, 2);
    ck_assert_int_eq(r.has_service, 1);
    ck_assert_str_eq(r.service, "checkout <b>"); /* the first resource's */
    ck_assert_str_eq(r.sdk_name, "opentelemetry");
    ck_assert_str_eq(r.sdk_language, "nodejs");
    ck_assert_str_eq(r.sdk_version, "2.0.1");
    model_batch_free(b);

    /* no service.name: not had, whatever the model calls it */
    json = "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"logRecords\":["
           "{\"body\":{\"stringValue\":\"x\"}}]}]}]}";
    b = decode_json(MODEL_SIGNAL_LOGS, json);
    ingest_rec_begin(&r, INGEST_GRPC);
    ingest_rec_batch(&r, b);
    ck_assert_int_eq(r.signal, MODEL_SIGNAL_LOGS);
    ck_assert_uint_eq(r.items, 1);
    ck_assert_uint_eq(r.resources, 1);
    ck_assert_int_eq(r.has_service, 0);
    ck_assert_str_eq(r.service, "");
    ck_assert_str_eq(r.sdk_name, "");
    model_batch_free(b);

    /* an empty request: nothing to read */
    b = decode_json(MODEL_SIGNAL_METRICS, "{}");
    ingest_rec_begin(&r, INGEST_GRPC);
    ingest_rec_batch(&r, b);
    ck_assert_uint_eq(r.items, 0);
    ck_assert_uint_eq(r.resources, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_clients_table) {
    ingest_log *l = ingest_log_new(10, NULL);
    ingest_rec r = rec_http("/v1/traces", 200);
    snprintf(r.user_agent, sizeof(r.user_agent), "OTel-OTLP-Exporter-JavaScript/0.1");
    snprintf(r.service, sizeof(r.service), "a");
    r.has_service = 1;
    r.encoding = INGEST_ENC_PROTOBUF;
    r.items = 3;
    ingest_log_add(l, &r);
    r.encoding = INGEST_ENC_JSON;
    r.http_status = 400;
    r.reason = INGEST_REASON_MALFORMED;
    r.items = 0;
    ingest_log_add(l, &r);
    r.http_status = 200;
    r.reason = INGEST_REASON_NONE;
    r.items = 4;
    r.rejected = 1;
    ingest_log_add(l, &r);
    /* another user agent is another row */
    ingest_rec g;
    ingest_rec_begin(&g, INGEST_GRPC);
    snprintf(g.client, sizeof(g.client), "127.0.0.1");
    snprintf(g.user_agent, sizeof(g.user_agent), "grpc-node-js/1.0");
    g.http_status = 200;
    g.grpc_code = 0;
    ingest_log_add(l, &g);

    ingest_client c[4];
    size_t n = ingest_log_clients(l, c, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(c[0].user_agent, "grpc-node-js/1.0"); /* the most recent first */
    ck_assert_uint_eq(c[0].protocols, INGEST_PROTO_GRPC);
    ck_assert_str_eq(c[1].service, "a");
    ck_assert_uint_eq(c[1].requests, 3);
    ck_assert_uint_eq(c[1].errors, 1);
    ck_assert_uint_eq(c[1].partial, 1);
    ck_assert_uint_eq(c[1].items, 7);
    ck_assert_uint_eq(c[1].rejected, 1);
    ck_assert_uint_eq(c[1].protocols, INGEST_PROTO_HTTP_PROTOBUF | INGEST_PROTO_HTTP_JSON);
    ck_assert_uint_eq(c[1].last_outcome, INGEST_OUTCOME_PARTIAL);
    ck_assert_uint_eq(c[1].last_seq, 3);
    ck_assert_uint_le(c[1].first_ns, c[1].last_ns);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_clients_table_is_bounded) {
    ingest_log *l = ingest_log_new(10, NULL);
    for (unsigned i = 0; i < INGEST_CLIENTS_MAX + 40; i++) {
        ingest_rec r = rec_http("/v1/logs", 200);
        snprintf(r.client, sizeof(r.client), "10.0.%u.%u", i / 200, i % 200);
        ingest_log_add(l, &r);
    }
    ingest_client *c = calloc(INGEST_CLIENTS_MAX + 40, sizeof(*c));
    size_t n = ingest_log_clients(l, c, INGEST_CLIENTS_MAX + 40);
    ck_assert_uint_eq(n, INGEST_CLIENTS_MAX);
    /* the least recently seen made room: the newest are all there */
    ck_assert_str_eq(c[0].client, "10.0.1.95");
    ck_assert_uint_eq(c[n - 1].last_seq, 41);
    /* fewer asked for: the most recent ones */
    n = ingest_log_clients(l, c, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(c[0].last_seq, INGEST_CLIENTS_MAX + 40);
    ck_assert_uint_eq(c[2].last_seq, INGEST_CLIENTS_MAX + 38);
    free(c);
    ingest_log_free(l);
}
END_TEST

START_TEST(test_names) {
    ck_assert_str_eq(ingest_transport_name(INGEST_GRPC), "grpc");
    ck_assert_str_eq(ingest_encoding_name(INGEST_ENC_JSON), "json");
    ck_assert_str_eq(ingest_compression_name(INGEST_COMP_GZIP), "gzip");
    ck_assert_str_eq(ingest_outcome_name(INGEST_OUTCOME_PARTIAL), "partial");
    ck_assert_str_eq(ingest_reason_name(INGEST_REASON_BODY_TOO_LARGE), "body_too_large");
    ck_assert_str_eq(ingest_reason_name(999), "unknown");
    for (unsigned i = 0; i < INGEST_REASON_COUNT; i++)
        ck_assert_str_ne(ingest_reason_name(i), "unknown");
}
END_TEST

/* ---- writers and readers at once (also run under ThreadSanitizer) ---- */

#define WRITERS 4
#define PER_WRITER 5000

typedef struct writer_arg {
    ingest_log *l;
    int id;
} writer_arg;

static void *writer(void *arg) {
    writer_arg *w = arg;
    for (int i = 0; i < PER_WRITER; i++) {
        ingest_rec r;
        ingest_rec_begin(&r, INGEST_HTTP);
        r.http_status = 200;
        r.items = (uint64_t)w->id * 1000000u + (uint64_t)i;
        snprintf(r.message, sizeof(r.message), "%" PRIu64, r.items);
        snprintf(r.client, sizeof(r.client), "10.0.0.%d", w->id);
        ingest_log_add(w->l, &r);
    }
    return NULL;
}

typedef struct reader_arg {
    ingest_log *l;
    int stop;
    pthread_mutex_t mu;
    unsigned reads;
} reader_arg;

static void *reader(void *arg) {
    reader_arg *ra = arg;
    ingest_rec *out = calloc(64, sizeof(*out));
    for (;;) {
        pthread_mutex_lock(&ra->mu);
        int stop = ra->stop;
        pthread_mutex_unlock(&ra->mu);
        if (stop)
            break;
        size_t n = ingest_log_read(ra->l, 0, 0, NULL, NULL, out, 64, NULL);
        for (size_t i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof(want), "%" PRIu64, out[i].items);
            ck_assert_str_eq(out[i].message, want); /* never a torn record */
            if (i > 0)
                ck_assert_uint_lt(out[i].seq, out[i - 1].seq);
        }
        ingest_client c[8];
        ck_assert_uint_le(ingest_log_clients(ra->l, c, 8), WRITERS);
        ra->reads++;
    }
    free(out);
    return NULL;
}

START_TEST(test_writers_and_readers_at_once) {
    ingest_log *l = ingest_log_new(256, NULL);
    pthread_t wt[WRITERS], rt;
    writer_arg wa[WRITERS];
    reader_arg ra = {.l = l};
    pthread_mutex_init(&ra.mu, NULL);
    ck_assert_int_eq(pthread_create(&rt, NULL, reader, &ra), 0);
    for (int i = 0; i < WRITERS; i++) {
        wa[i].l = l;
        wa[i].id = i + 1;
        ck_assert_int_eq(pthread_create(&wt[i], NULL, writer, &wa[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(wt[i], NULL);
    pthread_mutex_lock(&ra.mu);
    ra.stop = 1;
    pthread_mutex_unlock(&ra.mu);
    pthread_join(rt, NULL);
    pthread_mutex_destroy(&ra.mu);
    ck_assert_uint_eq(ingest_log_head(l), WRITERS * PER_WRITER);
    ingest_client c[8];
    size_t n = ingest_log_clients(l, c, 8);
    ck_assert_uint_eq(n, WRITERS);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(c[i].requests, PER_WRITER);
    ingest_log_free(l);
}
END_TEST

static Suite *ingest_log_suite(void) {
    Suite *s = suite_create("ingest_log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_off_and_bounds);
    tcase_add_test(tc, test_ring_newest_first_with_cursor);
    tcase_add_test(tc, test_read_filters_before_the_limit);
    tcase_add_test(tc, test_outcome_ack_and_time);
    tcase_add_test(tc, test_text_is_bounded_and_clean);
    tcase_add_test(tc, test_peer_addresses);
    tcase_add_test(tc, test_batch_facts);
    tcase_add_test(tc, test_clients_table);
    tcase_add_test(tc, test_clients_table_is_bounded);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("threads");
    tcase_set_timeout(tt, 120);
    tcase_add_test(tt, test_writers_and_readers_at_once);
    suite_add_tcase(s, tt);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(ingest_log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
