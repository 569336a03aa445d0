/* test_ring.c - the store's bounded FIFO (storage/ring.c). */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "storage/ring.h"

static ring_entry entry(uintptr_t tag, size_t bytes) {
    ring_entry e = {0};
    e.ud = (void *)tag;
    e.bytes = bytes;
    return e;
}

START_TEST(test_ring_fifo_wraps_around) {
    ring *r = ring_new(1000, 4);
    ck_assert_ptr_nonnull(r);
    ring_entry out[4];
    uintptr_t next_in = 1, next_out = 1;
    /* 25 rounds of pushing 3 and popping 3 walk the head around 4 slots */
    for (int round = 0; round < 25; round++) {
        for (int k = 0; k < 3; k++) {
            ring_entry e = entry(next_in++, 10);
            ck_assert_int_eq(ring_push(r, &e), RING_OK);
        }
        ck_assert_uint_eq(ring_count(r), 3);
        size_t n = ring_pop_all(r, out, 4, 0);
        ck_assert_uint_eq(n, 3);
        for (size_t k = 0; k < n; k++) {
            ck_assert_uint_eq((uintptr_t)out[k].ud, next_out++);
            ring_release(r, out[k].bytes);
        }
        ck_assert_uint_eq(ring_bytes(r), 0);
    }
    /* fill all 4 slots across the wrap point; the 5th is refused */
    for (int k = 0; k < 4; k++) {
        ring_entry e = entry(next_in++, 1);
        ck_assert_int_eq(ring_push(r, &e), RING_OK);
    }
    ring_entry e = entry(999, 1);
    ck_assert_int_eq(ring_push(r, &e), RING_EFULL);
    ck_assert_uint_eq(ring_pop_all(r, out, 2, 0), 2); /* max is honoured */
    ck_assert_uint_eq((uintptr_t)out[0].ud, next_out++);
    ck_assert_uint_eq((uintptr_t)out[1].ud, next_out++);
    ck_assert_uint_eq(ring_pop_all(r, out, 4, 0), 2);
    ck_assert_uint_eq((uintptr_t)out[0].ud, next_out++);
    ck_assert_uint_eq((uintptr_t)out[1].ud, next_out++);
    ck_assert_uint_eq(ring_pop_all(r, out, 4, 0), 0); /* no wait: empty */
    ring_free(r);
}
END_TEST

START_TEST(test_ring_byte_budget) {
    ring *r = ring_new(100, 16);
    ring_entry out[16];
    ring_entry a = entry(1, 60), b = entry(2, 40), c = entry(3, 1);
    ck_assert_int_eq(ring_push(r, &a), RING_OK);
    ck_assert_int_eq(ring_push(r, &b), RING_OK); /* exactly the budget */
    ck_assert_uint_eq(ring_bytes(r), 100);
    ck_assert_int_eq(ring_push(r, &c), RING_EFULL);
    /* popping does not give bytes back: the writer still holds them */
    ck_assert_uint_eq(ring_pop_all(r, out, 16, 0), 2);
    ck_assert_uint_eq(ring_bytes(r), 100);
    ck_assert_int_eq(ring_push(r, &c), RING_EFULL);
    ring_release(r, 60);
    ck_assert_uint_eq(ring_bytes(r), 40);
    ck_assert_int_eq(ring_push(r, &c), RING_OK);
    ck_assert_uint_eq(ring_bytes(r), 41);
    ring_release(r, 40);
    ck_assert_uint_eq(ring_pop_all(r, out, 16, 0), 1);
    ring_release(r, 1);
    ck_assert_uint_eq(ring_bytes(r), 0);
    /* releasing more than accounted clamps at zero */
    ring_release(r, 5);
    ck_assert_uint_eq(ring_bytes(r), 0);
    ring_free(r);
}
END_TEST

START_TEST(test_ring_oversized_only_when_idle) {
    ring *r = ring_new(100, 16);
    ring_entry out[16];
    ring_entry small = entry(1, 10), big = entry(2, 500);
    ck_assert_int_eq(ring_push(r, &small), RING_OK);
    ck_assert_int_eq(ring_push(r, &big), RING_EFULL); /* not idle */
    ck_assert_uint_eq(ring_pop_all(r, out, 16, 0), 1);
    ck_assert_int_eq(ring_push(r, &big), RING_EFULL); /* popped but unreleased */
    ring_release(r, 10);
    ck_assert_int_eq(ring_push(r, &big), RING_OK); /* idle: accepted */
    ck_assert_uint_eq(ring_bytes(r), 500);
    ck_assert_int_eq(ring_push(r, &small), RING_EFULL); /* over budget now */
    ck_assert_uint_eq(ring_pop_all(r, out, 16, 0), 1);
    ring_release(r, 500);
    ck_assert_int_eq(ring_push(r, &small), RING_OK);
    ring_free(r);
}
END_TEST

START_TEST(test_ring_close) {
    ring *r = ring_new(100, 4);
    ring_entry out[4];
    ring_entry a = entry(1, 1);
    ck_assert_int_eq(ring_push(r, &a), RING_OK);
    ring_close(r);
    ck_assert_int_eq(ring_push(r, &a), RING_ECLOSED);
    /* queued entries survive the close; then a waiting pop returns 0 */
    ck_assert_uint_eq(ring_pop_all(r, out, 4, 1), 1);
    ck_assert_uint_eq(ring_pop_all(r, out, 4, 1), 0);
    ring_free(r);
}
END_TEST

START_TEST(test_ring_bad_sizes) {
    ck_assert_ptr_null(ring_new(0, 4));
    ck_assert_ptr_null(ring_new(100, 0));
    ring_free(NULL);
}
END_TEST

/* ---- concurrency -------------------------------------------------------- */

#define PRODUCERS 4
#define PER_PRODUCER 2000

typedef struct conc {
    ring *r;
    int id;
    int ok;
} conc;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *producer(void *arg) {
    conc *c = arg;
    double deadline = now_s() + 30;
    c->ok = 1;
    for (int i = 0; i < PER_PRODUCER; i++) {
        /* tag: producer id in the high bits, sequence in the low ones */
        ring_entry e = entry(((uintptr_t)c->id << 20) | (uintptr_t)i, 1 + (size_t)(i % 7));
        for (;;) {
            int rc = ring_push(c->r, &e);
            if (rc == RING_OK)
                break;
            if (rc != RING_EFULL || now_s() > deadline) {
                c->ok = 0;
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

typedef struct consumer_state {
    ring *r;
    int got;
    int in_order;
    size_t max_seen_bytes;
} consumer_state;

static void *consumer(void *arg) {
    consumer_state *cs = arg;
    ring_entry out[8];
    int next[PRODUCERS] = {0};
    cs->in_order = 1;
    for (;;) {
        size_t n = ring_pop_all(cs->r, out, 8, 1);
        if (n == 0)
            break;
        size_t b = ring_bytes(cs->r);
        if (b > cs->max_seen_bytes)
            cs->max_seen_bytes = b;
        for (size_t k = 0; k < n; k++) {
            uintptr_t tag = (uintptr_t)out[k].ud;
            int p = (int)(tag >> 20), seq = (int)(tag & 0xFFFFF);
            if (p < 0 || p >= PRODUCERS || seq != next[p])
                cs->in_order = 0;
            else
                next[p]++;
            cs->got++;
            ring_release(cs->r, out[k].bytes);
        }
    }
    return NULL;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *push_later(void *p) {
    ring *r = p;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ring_entry e = entry(42, 1);
    ck_assert_int_eq(ring_push(r, &e), RING_OK);
    return NULL;
}

/* ring_pop_timed: 0 ms does not wait; a timeout returns nothing and says
 * "not closed"; a push wakes a timed wait early; closed and empty says so. */
START_TEST(test_ring_pop_timed) {
    ring *r = ring_new(1000, 4);
    ring_entry out[4];
    int closed = -1;
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, 0, &closed), 0);
    ck_assert_int_eq(closed, 0);
    double t0 = mono_s();
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, 100, &closed), 0);
    double waited = mono_s() - t0;
    ck_assert_int_eq(closed, 0);
    ck_assert_msg(waited >= 0.09 && waited < 5, "waited %.3f s", waited);

    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, push_later, r), 0);
    t0 = mono_s();
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, 10000, &closed), 1); /* woken, not timed out */
    ck_assert_double_lt(mono_s() - t0, 5.0);
    pthread_join(th, NULL);
    ck_assert_uint_eq((uintptr_t)out[0].ud, 42);
    ck_assert_int_eq(closed, 0);
    ring_release(r, out[0].bytes);

    ring_entry e = entry(7, 1);
    ck_assert_int_eq(ring_push(r, &e), RING_OK);
    ring_close(r);
    /* queued entries still come out after close, then "closed" */
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, -1, &closed), 1);
    ck_assert_int_eq(closed, 0);
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, -1, &closed), 0);
    ck_assert_int_eq(closed, 1);
    ck_assert_uint_eq(ring_pop_timed(r, out, 4, 1000, NULL), 0);
    ring_free(r);
}
END_TEST

START_TEST(test_ring_concurrent_producers) {
    ring *r = ring_new(64, 8); /* small: producers keep hitting EFULL */
    pthread_t pt[PRODUCERS], ct;
    conc cs[PRODUCERS];
    consumer_state cons = {r, 0, 0, 0};
    ck_assert_int_eq(pthread_create(&ct, NULL, consumer, &cons), 0);
    for (int i = 0; i < PRODUCERS; i++) {
        cs[i] = (conc){r, i, 0};
        ck_assert_int_eq(pthread_create(&pt[i], NULL, producer, &cs[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    ring_close(r);
    pthread_join(ct, NULL);
    for (int i = 0; i < PRODUCERS; i++)
        ck_assert_msg(cs[i].ok, "producer %d gave up", i);
    ck_assert_int_eq(cons.got, PRODUCERS * PER_PRODUCER);
    ck_assert_msg(cons.in_order, "entries of one producer came out of order");
    ck_assert_uint_le(cons.max_seen_bytes, 64);
    ck_assert_uint_eq(ring_bytes(r), 0);
    ring_free(r);
}
END_TEST

static Suite *ring_suite(void) {
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ring_fifo_wraps_around);
    tcase_add_test(tc, test_ring_byte_budget);
    tcase_add_test(tc, test_ring_oversized_only_when_idle);
    tcase_add_test(tc, test_ring_close);
    tcase_add_test(tc, test_ring_bad_sizes);
    tcase_add_test(tc, test_ring_concurrent_producers);
    tcase_add_test(tc, test_ring_pop_timed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(ring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
