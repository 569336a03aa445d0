/* test_http_guard.c - unit tests for server/net/http_guard.c: a daemon
 * started with http_guard_start_daemon() on a loopback port has the guard's
 * connection notification wired in (open connections counted, slow requests
 * shut at their deadline) and reports its connection count; the guard's
 * logger counts libmicrohttpd's refusals. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/net/http_guard.h"
#include "util/clk.h"
#include "server/net/loopback.h"

#define WAIT_MS 5000

static int seen; /* marks a request whose headers have arrived */

static enum MHD_Result ok_handler(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    http_guard_received(c);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)(uintptr_t) "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)con_cls;
    (void)toe;
    http_guard_completed(c);
}

typedef struct server {
    http_guard *g;
    struct MHD_Daemon *d;
    int port;
} server;

static void server_start(server *s, unsigned max_conn, unsigned request_timeout_ms) {
    int fd = loopback_listen(&s->port);
    s->g = http_guard_new("test", request_timeout_ms, 10000);
    ck_assert_ptr_nonnull(s->g);
    http_guard_daemon_cfg cfg = {
        .flags = MHD_USE_POLL,
        .listen_fd = fd,
        .threads = 1,
        .max_connections = max_conn,
        .timeout_seconds = 30,
        .pool_bytes = 64 * 1024,
        .access = ok_handler,
        .completed = completed,
    };
    s->d = http_guard_start_daemon(s->g, &cfg);
    ck_assert_ptr_nonnull(s->d);
}

static void server_stop(server *s) {
    MHD_stop_daemon(s->d);
    http_guard_free(s->g);
}

/* Polls until the guard's counters and the daemon's count say what is
 * expected (-1 = any), or WAIT_MS passes. Returns 1 when they did. */
static int wait_for(server *s, int64_t open, int64_t refused, int64_t timeouts) {
    int64_t deadline = clk_ns(CLOCK_MONOTONIC) + (int64_t)WAIT_MS * 1000000;
    for (;;) {
        http_guard_stats st;
        http_guard_stats_get(s->g, &st);
        int64_t daemon_open = http_guard_daemon_connections(s->d);
        if ((open < 0 || ((int64_t)st.connections_open == open && daemon_open == open)) &&
            (refused < 0 || (int64_t)st.connections_refused == refused) &&
            (timeouts < 0 || (int64_t)st.request_timeouts == timeouts))
            return 1;
        if (clk_ns(CLOCK_MONOTONIC) > deadline)
            return 0;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* 1 when the server closed fd (EOF or reset) within the receive timeout. */
static int closed_by_server(int fd) {
    char b[256];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof(b), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
        if (n < 0 && errno != EINTR)
            return 0; /* timed out */
    }
}

START_TEST(test_counts) {
    server s;
    server_start(&s, 4, 10000);
    ck_assert(wait_for(&s, 0, 0, 0));
    int a = loopback_connect(s.port, WAIT_MS);
    int b = loopback_connect(s.port, WAIT_MS);
    ck_assert(wait_for(&s, 2, 0, -1));
    close(b);
    ck_assert(wait_for(&s, 1, 0, -1));
    static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send(a, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
    char resp[512];
    ssize_t n = recv(a, resp, sizeof(resp) - 1, 0);
    ck_assert_int_gt(n, 12);
    resp[n] = '\0';
    ck_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0);
    close(a);
    ck_assert(wait_for(&s, 0, 0, 0));
    server_stop(&s);
}
END_TEST

static void call_log(http_guard *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void call_log(http_guard *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    http_guard_mhd_log(g, fmt, ap);
    va_end(ap);
}

/* libmicrohttpd refuses past its limit only when it accepts at the limit
 * (a full daemon leaves connections in the backlog), so the refusal count
 * is checked on the logger itself. */
START_TEST(test_logger_counts_refusals) {
    http_guard *g = http_guard_new("test", 1000, 1000);
    ck_assert_ptr_nonnull(g);
    http_guard_stats st;
    call_log(g, "Server reached connection limit. Closing inbound connection.\n");
    call_log(g, "Failed to %s\r\n", "read");
    call_log(g, "%s", "");
    http_guard_stats_get(g, &st);
    ck_assert_uint_eq(st.connections_refused, 1);
    call_log(g, "Server reached connection %s. Closing inbound connection.\n", "limit");
    http_guard_stats_get(g, &st);
    ck_assert_uint_eq(st.connections_refused, 2);
    http_guard_free(g);
}
END_TEST

START_TEST(test_slow_request_shut) {
    server s;
    server_start(&s, 8, 300);
    int a = loopback_connect(s.port, WAIT_MS);
    static const char part[] = "GET / HTTP/1.1\r\nHost: t\r\n"; /* never finished */
    ck_assert_int_eq(send(a, part, sizeof(part) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(part) - 1));
    ck_assert(closed_by_server(a));
    ck_assert(wait_for(&s, 0, 0, 1));
    close(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_no_daemon) {
    ck_assert_int_eq(http_guard_daemon_connections(NULL), -1);
}
END_TEST

static Suite *http_guard_suite(void) {
    Suite *s = suite_create("http_guard");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_counts);
    tcase_add_test(tc, test_logger_counts_refusals);
    tcase_add_test(tc, test_slow_request_shut);
    tcase_add_test(tc, test_no_daemon);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(http_guard_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
