/* test_selfmetrics.c - unit tests for server/api/selfmetrics.c and server/net/recv_stats.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_fixture.h"
#include "server/net/recv_stats.h"
#include "server/api/selfmetrics.h"

#define FIXTURES "tests/unit/server/fixtures/"

static char *render(const selfmetrics_input *in) {
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(selfmetrics_render(in, &out), BUF_OK);
    ck_assert_int_eq(buf_append_char(&out, '\0'), BUF_OK);
    size_t len;
    return buf_detach(&out, &len);
}

/* 1 when `line` is one whole line of text. */
static int has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static char *escaped(const char *v) {
    buf out;
    buf_init(&out, 1024);
    ck_assert_int_eq(selfmetrics_escape_label(v, &out), BUF_OK);
    ck_assert_int_eq(buf_append_char(&out, '\0'), BUF_OK);
    size_t len;
    return buf_detach(&out, &len);
}

START_TEST(label_escaping) {
    char *e = escaped("plain 1.2.3");
    ck_assert_str_eq(e, "plain 1.2.3");
    free(e);
    e = escaped("a\\b\"c\nd");
    ck_assert_str_eq(e, "a\\\\b\\\"c\\nd");
    free(e);
    e = escaped("\\\\\"\"\n\n");
    ck_assert_str_eq(e, "\\\\\\\\\\\"\\\"\\n\\n");
    free(e);
    e = escaped("");
    ck_assert_str_eq(e, "");
    free(e);
    e = escaped(NULL);
    ck_assert_str_eq(e, "");
    free(e);
    /* through the renderer: a hostile version cannot break out of the label */
    selfmetrics_input in;
    memset(&in, 0, sizeof(in));
    in.version = "1\"} 2\nloupe_evil 1";
    in.ui_connections = -1;
    char *t = render(&in);
    ck_assert(has_line(t, "loupe_build_info{version=\"1\\\"} 2\\nloupe_evil 1\"} 1"));
    ck_assert_ptr_null(strstr(t, "\nloupe_evil"));
    free(t);
}
END_TEST

START_TEST(histogram_is_cumulative) {
    selfmetrics_input in;
    memset(&in, 0, sizeof(in));
    in.have_store = 1;
    in.ui_connections = -1;
    /* non-cumulative counts per bucket, some empty, some in +Inf */
    uint64_t per[STORE_COMMIT_BUCKETS + 1] = {3, 0, 5, 1, 0, 0, 2, 0, 0, 4, 0, 7};
    memcpy(in.store.commit_seconds_bucket, per, sizeof(per));
    in.store.commit_ns_sum = 12345678901ULL;
    char *t = render(&in);
    const char *want[] = {
        "loupe_store_commit_duration_seconds_bucket{le=\"0.001\"} 3",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.0025\"} 3",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.005\"} 8",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.01\"} 9",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.025\"} 9",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.05\"} 9",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.1\"} 11",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.25\"} 11",
        "loupe_store_commit_duration_seconds_bucket{le=\"0.5\"} 11",
        "loupe_store_commit_duration_seconds_bucket{le=\"1\"} 15",
        "loupe_store_commit_duration_seconds_bucket{le=\"2.5\"} 15",
        "loupe_store_commit_duration_seconds_bucket{le=\"+Inf\"} 22",
        "loupe_store_commit_duration_seconds_sum 12.345678901",
        "loupe_store_commit_duration_seconds_count 22",
        "# TYPE loupe_store_commit_duration_seconds histogram",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(has_line(t, want[i]), "missing line: %s", want[i]);
    /* the buckets come in ascending order of le, each line once */
    const char *prev = t;
    for (size_t i = 0; i < 12; i++) {
        const char *p = strstr(t, want[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert(p >= prev);
        prev = p;
    }
    free(t);
}
END_TEST

/* Every bound is ascending and the store's commits land in the histogram. */
START_TEST(store_commit_histogram_counts_commits) {
    for (int i = 1; i < STORE_COMMIT_BUCKETS; i++)
        ck_assert(store_commit_buckets[i] > store_commit_buckets[i - 1]);
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    store *s = NULL;
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert_int_eq(st.closing, 0);
    for (int i = 0; i < 3; i++) {
        model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
        ck_assert_ptr_nonnull(b);
        fx_logs(b, 2);
        model_resource *r = fx_resource(b, "svc", NULL);
        model_scope *sc = fx_scope(b, "lib", "1");
        fx_log(b, r, sc, 1000 + (uint64_t)i, 9, "a");
        fx_log(b, r, sc, 2000 + (uint64_t)i, 9, "b");
        ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    }
    store_get_stats(s, &st);
    uint64_t n = 0;
    for (int i = 0; i <= STORE_COMMIT_BUCKETS; i++)
        n += st.commit_seconds_bucket[i];
    ck_assert_uint_eq(n, st.commits);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_gt(st.commit_ns_sum, 0);
    ck_assert_uint_eq(st.accepted[MODEL_SIGNAL_LOGS], 6);
    store_close(s);
}
END_TEST

static void fill(selfmetrics_input *in) {
    memset(in, 0, sizeof(*in));
    in->version = "0.1.0";
    in->start_time_seconds = 1700000000.25;
    in->have_store = 1;
    in->ui_connections = 2;
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        in->grpc.counters.items_received[s] = 100 + (uint64_t)s;
        in->grpc.counters.items_accepted[s] = 90 + (uint64_t)s;
        in->http.counters.items_received[s] = 200 + (uint64_t)s;
        in->http.counters.items_accepted[s] = 180 + (uint64_t)s;
        in->store.accepted[s] = 270 + 2 * (uint64_t)s;
        in->store.rejected[s] = 5;
        in->store.evicted[s] = 1000 * (uint64_t)(s + 1);
    }
    in->grpc.counters.items_rejected[MODEL_SIGNAL_TRACES][RECV_INVALID] = 4;
    in->grpc.counters.items_rejected[MODEL_SIGNAL_TRACES][RECV_BACKPRESSURE] = 6;
    in->http.counters.items_rejected[MODEL_SIGNAL_METRICS][RECV_UNAVAILABLE] = 20;
    for (int o = 0; o < RECV_OUTCOME_COUNT; o++) {
        in->grpc.counters.requests[o] = 10 + (uint64_t)o;
        in->http.counters.requests[o] = 20 + (uint64_t)o;
    }
    in->grpc.counters.open_connections = 3;
    in->http.counters.open_connections = 1;
    in->store.commits = 7;
    in->store.commit_errors = 1;
    in->store.ring_bytes = 4096;
    in->store.ring_max_bytes = 67108864;
    in->store.db_bytes = 159744;
    in->store.db_max_bytes = 1 << 20;
    in->store.write_failures = 2;
    in->store.writes_failing = 1;
    in->store.commit_seconds_bucket[0] = 5;
    in->store.commit_seconds_bucket[4] = 2;
    in->store.commit_ns_sum = 31000000;
    in->limits.attrs_dropped = 11;
    in->limits.values_truncated = 12;
    in->limits.events_dropped = 13;
    in->limits.links_dropped = 14;
    in->grpc.connections_refused = 21;
    in->grpc.request_timeouts = 22;
    in->grpc.headers_too_large = 23;
    in->grpc.idle_timeouts = 24;
    in->http.request_timeouts = 32;
    in->http.headers_too_large = 33;
    in->http.body_bytes = 34;
    in->http.body_budget = 67108864;
    in->ui.conn.request_timeouts = 42;
    in->ui.conn.headers_too_large = 43;
    in->ui.live_clients = 3;
    in->ui.live_clients_refused = 45;
}

/* A full snapshot renders to exactly the reviewed text in the fixture. */
START_TEST(exact_text) {
    selfmetrics_input in;
    fill(&in);
    char *t = render(&in);
    FILE *f = fopen(FIXTURES "selfmetrics.prom", "rb");
    ck_assert_ptr_nonnull(f);
    static char want[65536];
    size_t n = fread(want, 1, sizeof(want) - 1, f);
    fclose(f);
    want[n] = '\0';
    if (getenv("LOUPE_WRITE_FIXTURE")) { /* regenerate: review the diff by hand */
        FILE *w = fopen(FIXTURES "selfmetrics.prom", "wb");
        ck_assert_ptr_nonnull(w);
        fputs(t, w);
        fclose(w);
    }
    ck_assert_msg(strcmp(t, want) == 0, "rendered text differs from " FIXTURES "selfmetrics.prom");
    free(t);
}
END_TEST

/* Structural checks of the format: every sample follows its HELP and TYPE,
 * families are not repeated, the text ends with a newline. */
START_TEST(format_is_well_formed) {
    selfmetrics_input in;
    fill(&in);
    char *t = render(&in);
    size_t len = strlen(t);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(t[len - 1], '\n');
    char family[128] = "";
    int families = 0;
    for (char *line = t; *line;) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[128];
            ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
            char needle[160];
            snprintf(needle, sizeof(needle), "# HELP %s ", name);
            ck_assert_ptr_null(strstr(nl + 1, needle)); /* each family once */
            snprintf(family, sizeof(family), "%s", name);
            families++;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            ck_assert(strncmp(line + 7, family, strlen(family)) == 0);
        } else {
            ck_assert_msg(strncmp(line, family, strlen(family)) == 0, "sample %s outside %s",
                          line, family);
            ck_assert_msg(strncmp(line, "loupe_", 6) == 0, "unprefixed %s", line);
        }
        line = nl + 1;
    }
    ck_assert_int_eq(families, 31); /* 19, 10 of limits hit, 2 of the body budget */
    free(t);
}
END_TEST

START_TEST(store_families_left_out_without_store) {
    selfmetrics_input in;
    fill(&in);
    in.have_store = 0;
    in.ui_connections = -1;
    char *t = render(&in);
    ck_assert_ptr_null(strstr(t, "loupe_ring_bytes"));
    ck_assert_ptr_null(strstr(t, "commit_duration"));
    ck_assert_ptr_null(strstr(t, "port=\"ui\""));
    ck_assert(has_line(t, "loupe_open_connections{port=\"grpc\"} 3"));
    free(t);
}
END_TEST

/* With forwarding: the loupe_forward_* families, a sample per destination
 * and signal, the destination as an escaped label; still well formed. */
START_TEST(forward_families) {
    selfmetrics_input in;
    fill(&in);
    char *plain = render(&in);
    ck_assert_ptr_null(strstr(plain, "loupe_forward_")); /* none without forwarding */
    free(plain);
    in.forward.n = 2;
    snprintf(in.forward.dest[0].name, sizeof(in.forward.dest[0].name), "grpc://c:4317");
    snprintf(in.forward.dest[1].name, sizeof(in.forward.dest[1].name), "http://x\"y:1");
    in.forward.dest[0].sent[MODEL_SIGNAL_LOGS] = 1200;
    in.forward.dest[0].retried[MODEL_SIGNAL_TRACES] = 7;
    in.forward.dest[0].failed[MODEL_SIGNAL_METRICS] = 3;
    in.forward.dest[1].dropped[MODEL_SIGNAL_LOGS] = 44;
    in.forward.dest[1].lag_items[MODEL_SIGNAL_LOGS] = 9;
    in.forward.dest[1].lag_seconds[MODEL_SIGNAL_LOGS] = 2.5;
    char *t = render(&in);
    ck_assert(has_line(t, "loupe_forward_items_sent_total{destination=\"grpc://c:4317\",signal=\"logs\"} 1200"));
    ck_assert(has_line(t, "loupe_forward_items_retried_total{destination=\"grpc://c:4317\",signal=\"traces\"} 7"));
    ck_assert(has_line(t, "loupe_forward_items_failed_total{destination=\"grpc://c:4317\",signal=\"metrics\"} 3"));
    ck_assert(has_line(t, "loupe_forward_items_dropped_total{destination=\"http://x\\\"y:1\",signal=\"logs\"} 44"));
    ck_assert(has_line(t, "loupe_forward_lag_items{destination=\"http://x\\\"y:1\",signal=\"logs\"} 9"));
    ck_assert(has_line(t, "loupe_forward_lag_seconds{destination=\"http://x\\\"y:1\",signal=\"logs\"} 2.500"));
    ck_assert(has_line(t, "loupe_forward_lag_seconds{destination=\"grpc://c:4317\",signal=\"traces\"} 0.000"));
    ck_assert(has_line(t, "# TYPE loupe_forward_lag_items gauge"));
    ck_assert(has_line(t, "# TYPE loupe_forward_items_sent_total counter"));
    /* 6 families x 2 destinations x 3 signals */
    int samples = 0;
    for (const char *p = strstr(t, "\nloupe_forward_"); p != NULL; p = strstr(p + 1, "\nloupe_forward_"))
        samples++;
    ck_assert_int_eq(samples, 36);
    free(t);
}
END_TEST

START_TEST(render_reports_a_full_buffer) {
    selfmetrics_input in;
    fill(&in);
    buf out;
    buf_init(&out, 512);
    ck_assert_int_eq(selfmetrics_render(&in, &out), BUF_ETOOBIG);
    ck_assert_uint_le(out.len, 512);
    buf_free(&out);
}
END_TEST

/* A stand-in receiver: its figures derive from the number recv points to. */
static void fake_read(void *recv, metrics_figures *out) {
    const uint64_t *base = recv;
    out->counters.requests[RECV_OK] = *base;
    out->counters.open_connections = 7;
    out->request_timeouts = *base + 1;
    out->body_budget = *base + 2;
}

/* collect reads each registered source into its transport's figures (zeroed
 * first), and an unregistered one as zeros; render shows what was read. */
START_TEST(collect_reads_the_sources) {
    uint64_t g = 100, h = 200;
    metrics_source gs = {fake_read, &g, 4317}, hs = {fake_read, &h, 4318};
    selfmetrics_input in;
    memset(&in, 0xff, sizeof(in));
    selfmetrics_collect(NULL, &gs, &hs, &in);
    ck_assert_int_eq(in.have_store, 0);
    ck_assert_uint_eq(in.store.commits, 0);
    ck_assert_uint_eq(in.grpc.counters.requests[RECV_OK], 100);
    ck_assert_uint_eq(in.grpc.counters.requests[RECV_INVALID], 0);
    ck_assert_uint_eq(in.grpc.request_timeouts, 101);
    ck_assert_uint_eq(in.http.body_budget, 202);
    ck_assert_uint_eq(in.http.connections_refused, 0);
    in.version = "t";
    in.ui_connections = -1;
    char *t = render(&in);
    ck_assert(has_line(t, "loupe_requests_total{transport=\"grpc\",outcome=\"ok\"} 100"));
    ck_assert(has_line(t, "loupe_requests_total{transport=\"http\",outcome=\"ok\"} 200"));
    ck_assert(has_line(t, "loupe_open_connections{port=\"http\"} 7"));
    ck_assert(has_line(t, "loupe_request_timeouts_total{port=\"grpc\"} 101"));
    ck_assert(has_line(t, "loupe_http_body_budget_bytes 202"));
    free(t);
    metrics_source no_read = {NULL, &h, 4318};
    memset(&in, 0xff, sizeof(in));
    selfmetrics_collect(NULL, NULL, &no_read, &in);
    ck_assert_uint_eq(in.grpc.counters.requests[RECV_OK], 0);
    ck_assert_int_eq(in.grpc.counters.open_connections, 0);
    ck_assert_uint_eq(in.http.request_timeouts, 0);
    ck_assert_uint_eq(in.http.body_budget, 0);
}
END_TEST

START_TEST(recv_counters_add_up) {
    recv_counters *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    recv_count_decoded(c, MODEL_SIGNAL_LOGS, 10, 2);
    recv_count_accepted(c, MODEL_SIGNAL_LOGS, 7);
    recv_count_rejected(c, MODEL_SIGNAL_LOGS, RECV_BACKPRESSURE, 3);
    recv_count_rejected(c, MODEL_SIGNAL_LOGS, RECV_OK, 99);            /* ignored */
    recv_count_rejected(c, (model_signal)7, RECV_INVALID, 99);          /* ignored */
    recv_count_rejected(c, MODEL_SIGNAL_LOGS, RECV_OUTCOME_COUNT, 99); /* ignored */
    recv_count_decoded(c, (model_signal)-1, 5, 5);                     /* ignored */
    recv_count_request(c, RECV_OK);
    recv_count_request(c, RECV_OK);
    recv_count_request(c, RECV_UNAUTHENTICATED);
    recv_count_request(c, RECV_OUTCOME_COUNT); /* ignored */
    recv_count_connection(c, 1);
    recv_count_connection(c, 1);
    recv_count_connection(c, -1);
    recv_stats st;
    recv_counters_get(c, &st);
    ck_assert_uint_eq(st.items_received[MODEL_SIGNAL_LOGS], 12);
    ck_assert_uint_eq(st.items_accepted[MODEL_SIGNAL_LOGS], 7);
    ck_assert_uint_eq(st.items_rejected[MODEL_SIGNAL_LOGS][RECV_INVALID], 2);
    ck_assert_uint_eq(st.items_rejected[MODEL_SIGNAL_LOGS][RECV_BACKPRESSURE], 3);
    ck_assert_uint_eq(st.items_rejected[MODEL_SIGNAL_LOGS][RECV_OK], 0);
    /* received = accepted + rejected */
    uint64_t rej = 0;
    for (int o = 0; o < RECV_OUTCOME_COUNT; o++)
        rej += st.items_rejected[MODEL_SIGNAL_LOGS][o];
    ck_assert_uint_eq(st.items_received[MODEL_SIGNAL_LOGS], st.items_accepted[MODEL_SIGNAL_LOGS] + rej);
    ck_assert_uint_eq(st.items_received[MODEL_SIGNAL_TRACES], 0);
    ck_assert_uint_eq(st.requests[RECV_OK], 2);
    ck_assert_uint_eq(st.requests[RECV_UNAUTHENTICATED], 1);
    ck_assert_int_eq(st.open_connections, 1);
    recv_counters_get(NULL, &st);
    ck_assert_uint_eq(st.requests[RECV_OK], 0);
    ck_assert_int_eq(recv_outcome_of_store(STORE_OK), RECV_OK);
    ck_assert_int_eq(recv_outcome_of_store(STORE_EFULL), RECV_BACKPRESSURE);
    ck_assert_int_eq(recv_outcome_of_store(STORE_ECLOSED), RECV_BACKPRESSURE);
    ck_assert_int_eq(recv_outcome_of_store(STORE_EIO), RECV_UNAVAILABLE);
    ck_assert_int_eq(recv_outcome_of_store(STORE_ENOMEM), RECV_UNAVAILABLE);
    ck_assert_int_eq(recv_outcome_of_store(STORE_EINVAL), RECV_OTHER);
    ck_assert_str_eq(recv_outcome_name(RECV_TOO_LARGE), "too_large");
    ck_assert_str_eq(recv_outcome_name((recv_outcome)99), "other");
    free(c);
}
END_TEST

START_TEST(recv_committed_follows_the_store_status) {
    recv_counters *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    model_batch b;
    memset(&b, 0, sizeof(b));
    b.signal = MODEL_SIGNAL_TRACES;
    b.n_spans = 5;
    recv_count_committed(c, STORE_OK, &b);
    recv_count_committed(c, STORE_EFULL, &b);
    recv_count_committed(c, STORE_EIO, &b);
    recv_count_committed(c, STORE_OK, NULL); /* nothing to count */
    recv_stats st;
    recv_counters_get(c, &st);
    ck_assert_uint_eq(st.items_accepted[MODEL_SIGNAL_TRACES], 5);
    ck_assert_uint_eq(st.items_rejected[MODEL_SIGNAL_TRACES][RECV_BACKPRESSURE], 5);
    ck_assert_uint_eq(st.items_rejected[MODEL_SIGNAL_TRACES][RECV_UNAVAILABLE], 5);
    ck_assert_uint_eq(st.items_accepted[MODEL_SIGNAL_LOGS], 0);
    free(c);
}
END_TEST

static Suite *selfmetrics_suite(void) {
    Suite *s = suite_create("selfmetrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, label_escaping);
    tcase_add_test(tc, histogram_is_cumulative);
    tcase_add_test(tc, store_commit_histogram_counts_commits);
    tcase_add_test(tc, exact_text);
    tcase_add_test(tc, format_is_well_formed);
    tcase_add_test(tc, store_families_left_out_without_store);
    tcase_add_test(tc, forward_families);
    tcase_add_test(tc, render_reports_a_full_buffer);
    tcase_add_test(tc, collect_reads_the_sources);
    tcase_add_test(tc, recv_counters_add_up);
    tcase_add_test(tc, recv_committed_follows_the_store_status);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(selfmetrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
