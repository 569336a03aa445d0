/* test_peer_once.c - unit tests for server/net/peer_once.c: once per client
 * address and topic, forgotten after the time-to-live, bounded. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/peer_once.h"

#define SEC 1000000000LL

static struct sockaddr_in v4(const char *ip, int port) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

static struct sockaddr_in6 v6(const char *ip) {
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
    return sa;
}

#define SA(x) ((const struct sockaddr *)&(x))

START_TEST(test_once_per_address_and_topic) {
    peer_once *t = peer_once_new(8, 60 * SEC);
    ck_assert_ptr_nonnull(t);
    struct sockaddr_in a = v4("10.0.0.1", 40000), a2 = v4("10.0.0.1", 40001);
    struct sockaddr_in b = v4("10.0.0.2", 40000);
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 1 * SEC), 1);
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 2 * SEC), 0);
    ck_assert_int_eq(peer_once_first(t, SA(a2), 1, 3 * SEC), 0); /* another port, same client */
    ck_assert_int_eq(peer_once_first(t, SA(a), 2, 3 * SEC), 1);  /* another topic */
    ck_assert_int_eq(peer_once_first(t, SA(b), 1, 3 * SEC), 1);  /* another client */
    struct sockaddr_in6 c = v6("2001:db8::1"), d = v6("2001:db8::2");
    ck_assert_int_eq(peer_once_first(t, SA(c), 1, 3 * SEC), 1);
    ck_assert_int_eq(peer_once_first(t, SA(c), 1, 4 * SEC), 0);
    ck_assert_int_eq(peer_once_first(t, SA(d), 1, 4 * SEC), 1);
    /* Forgotten after the time-to-live, then remembered again. */
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 61 * SEC), 1);
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 62 * SEC), 0);
    peer_once_free(t);
    peer_once_free(NULL);
    ck_assert_int_eq(peer_once_first(NULL, SA(a), 1, 1), 1);
}
END_TEST

START_TEST(test_full_table_forgets_the_oldest) {
    peer_once *t = peer_once_new(4, 3600 * SEC);
    char ip[32];
    struct sockaddr_in sa[6];
    for (int i = 0; i < 6; i++) {
        snprintf(ip, sizeof(ip), "192.0.2.%d", i + 1);
        sa[i] = v4(ip, 1);
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(peer_once_first(t, SA(sa[i]), 7, (i + 1) * SEC), 1);
    /* A fifth client takes the place of the oldest (the first). */
    ck_assert_int_eq(peer_once_first(t, SA(sa[4]), 7, 10 * SEC), 1);
    for (int i = 1; i < 5; i++)
        ck_assert_int_eq(peer_once_first(t, SA(sa[i]), 7, 11 * SEC), 0);
    ck_assert_int_eq(peer_once_first(t, SA(sa[0]), 7, 12 * SEC), 1);
    /* Many clients: the table stays at 4 entries and answers 1 to each. */
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 250, i % 250 + 1);
        struct sockaddr_in x = v4(ip, 1);
        ck_assert_int_eq(peer_once_first(t, SA(x), 7, (100 + i) * SEC), 1);
    }
    peer_once_free(t);
}
END_TEST

START_TEST(test_other_families_share_one_entry) {
    peer_once *t = peer_once_new(0, 60 * SEC); /* 0 slots: taken as 1 */
    struct sockaddr un;
    memset(&un, 0, sizeof(un));
    un.sa_family = AF_UNIX;
    ck_assert_int_eq(peer_once_first(t, &un, 1, 1 * SEC), 1);
    ck_assert_int_eq(peer_once_first(t, &un, 1, 2 * SEC), 0);
    ck_assert_int_eq(peer_once_first(t, NULL, 1, 2 * SEC), 0);
    /* now == 0 is a valid reading, not an empty entry */
    struct sockaddr_in a = v4("127.0.0.1", 1);
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 0), 1);
    ck_assert_int_eq(peer_once_first(t, SA(a), 1, 0), 0);
    peer_once_free(t);
}
END_TEST

static Suite *peer_once_suite(void) {
    Suite *s = suite_create("peer_once");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_once_per_address_and_topic);
    tcase_add_test(tc, test_full_table_forgets_the_oldest);
    tcase_add_test(tc, test_other_families_share_one_entry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(peer_once_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
