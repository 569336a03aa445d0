/* test_conn_sniff.c - unit tests for server/net/conn_sniff.c: which protocol
 * a connection's first bytes announce, and from how few bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/conn_sniff.h"

static conn_sniff_kind sniff_str(const char *s) {
    return conn_sniff((const uint8_t *)s, strlen(s));
}

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

START_TEST(test_h2_preface) {
    ck_assert_int_eq(sniff_str(preface), CONN_SNIFF_H2);
    /* With the client's SETTINGS behind it, as clients send it. */
    uint8_t with_settings[sizeof(preface) - 1 + 9] = {0};
    memcpy(with_settings, preface, sizeof(preface) - 1);
    with_settings[sizeof(preface) - 1 + 3] = 4;
    ck_assert_int_eq(conn_sniff(with_settings, sizeof(with_settings)), CONN_SNIFF_H2);
    /* Decided by "PRI ": a preface arriving in pieces goes to HTTP/2 early. */
    ck_assert_int_eq(sniff_str("P"), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str("PR"), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str("PRI"), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str("PRI "), CONN_SNIFF_H2);
    ck_assert_int_eq(sniff_str("PRI * HTTP/2.0\r\n"), CONN_SNIFF_H2);
}
END_TEST

START_TEST(test_http1_request_lines) {
    static const char *const lines[] = {
        "POST /v1/traces HTTP/1.1\r\n", "GET / HTTP/1.0\r\n", "OPTIONS * HTTP/1.1\r\n",
        "PUT /x HTTP/1.1", "PATCH /x", "DELETE ", "M-SEARCH * HTTP/1.1",
        "UPDATEREDIRECTREF /", "PRX /", "x /", "POST http://host/v1/logs HTTP/1.1",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ck_assert_msg(sniff_str(lines[i]) == CONN_SNIFF_HTTP1, "%s", lines[i]);
    /* Until the space, a token could still be anything. */
    ck_assert_int_eq(sniff_str("POST"), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str("PO"), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str("OPTIONS"), CONN_SNIFF_MORE);
}
END_TEST

START_TEST(test_tls) {
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01,
                                    0x00, 0x00, 0xa1, 0x03, 0x03};
    ck_assert_int_eq(conn_sniff(hello, sizeof(hello)), CONN_SNIFF_TLS);
    ck_assert_int_eq(conn_sniff(hello, 2), CONN_SNIFF_TLS);
    ck_assert_int_eq(conn_sniff(hello, 1), CONN_SNIFF_MORE);
    static const uint8_t not_tls[] = {0x16, 0x04};
    ck_assert_int_eq(conn_sniff(not_tls, 2), CONN_SNIFF_OTHER);
}
END_TEST

START_TEST(test_other) {
    ck_assert_int_eq(conn_sniff(NULL, 0), CONN_SNIFF_MORE);
    ck_assert_int_eq(sniff_str(" POST /"), CONN_SNIFF_OTHER);   /* no method */
    ck_assert_int_eq(sniff_str("POST\r\n"), CONN_SNIFF_OTHER);  /* no space */
    ck_assert_int_eq(sniff_str("GE(T /"), CONN_SNIFF_OTHER);    /* not a token */
    ck_assert_int_eq(sniff_str("SSH-2.0-OpenSSH_9.2p1\r\n"), CONN_SNIFF_OTHER);
    ck_assert_int_eq(sniff_str("ABCDEFGHIJKLMNOPQRSTU /"), CONN_SNIFF_OTHER); /* 21: too long */
    ck_assert_int_eq(sniff_str("ABCDEFGHIJKLMNOPQRST /"), CONN_SNIFF_HTTP1);  /* 20 */
    static const uint8_t bin[] = {0x00, 0x00, 0x12, 0x04};
    ck_assert_int_eq(conn_sniff(bin, sizeof(bin)), CONN_SNIFF_OTHER);
    static const uint8_t high[] = {'G', 0xc3, 0xa9, ' '};
    ck_assert_int_eq(conn_sniff(high, sizeof(high)), CONN_SNIFF_OTHER);
    ck_assert_str_eq(conn_sniff_name(CONN_SNIFF_OTHER), "other");
    ck_assert_str_eq(conn_sniff_name(CONN_SNIFF_HTTP1), "http1");
}
END_TEST

/* Every prefix of an input gets MORE or the input's own answer, the answer
 * never changes once given, and CONN_SNIFF_MAX bytes always decide. */
static void check_stable(const uint8_t *p, size_t n) {
    conn_sniff_kind decided = CONN_SNIFF_MORE;
    for (size_t i = 0; i <= n; i++) {
        conn_sniff_kind k = conn_sniff(p, i);
        if (decided != CONN_SNIFF_MORE)
            ck_assert_int_eq(k, decided);
        decided = k;
        if (i >= CONN_SNIFF_MAX)
            ck_assert_int_ne(k, CONN_SNIFF_MORE);
    }
}

START_TEST(test_stable_under_more_input) {
    static const char *const inputs[] = {
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4", "POST /v1/traces HTTP/1.1\r\nHost: x\r\n",
        "PRI / HTTP/1.1\r\n", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "P\r\n", "\x16", "G",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        check_stable((const uint8_t *)inputs[i], strlen(inputs[i]));
    /* A pseudo-random walk over bytes that matter to the decision. */
    static const uint8_t alphabet[] = {'P', 'R', 'I', ' ', '*', 'O', 'S', 'T', 0x16, 0x03, '\r',
                                       '\n', 'a', '-', 0x00, 0xff};
    uint32_t x = 12345;
    uint8_t buf[40];
    for (int round = 0; round < 20000; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = alphabet[(x >> 16) % sizeof(alphabet)];
        }
        check_stable(buf, sizeof(buf));
    }
}
END_TEST

static Suite *conn_sniff_suite(void) {
    Suite *s = suite_create("conn_sniff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_h2_preface);
    tcase_add_test(tc, test_http1_request_lines);
    tcase_add_test(tc, test_tls);
    tcase_add_test(tc, test_other);
    tcase_add_test(tc, test_stable_under_more_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(conn_sniff_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
