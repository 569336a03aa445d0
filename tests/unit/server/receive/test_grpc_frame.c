/* test_grpc_frame.c - unit tests for the gRPC message parser (server/grpc_frame.c). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/receive/grpc_frame.h"

/* Appends one framed message to out at *off. */
static void put_msg(uint8_t *out, size_t *off, uint8_t flag, const uint8_t *data, uint32_t len) {
    out[(*off)++] = flag;
    out[(*off)++] = (uint8_t)(len >> 24);
    out[(*off)++] = (uint8_t)(len >> 16);
    out[(*off)++] = (uint8_t)(len >> 8);
    out[(*off)++] = (uint8_t)len;
    if (len)
        memcpy(out + *off, data, len);
    *off += len;
}

/* Collected messages of one run. */
typedef struct got {
    size_t n;
    size_t lens[64];
    int compressed[64];
    uint8_t *data[64];
    int err;
    size_t headers;
} got;

static void got_free(got *g) {
    for (size_t i = 0; i < g->n; i++)
        free(g->data[i]);
}

/* Feeds input in chunks of `chunk` bytes (0 = all at once). */
static void run(grpc_frame *f, const uint8_t *in, size_t len, size_t chunk, got *g) {
    memset(g, 0, sizeof(*g));
    size_t pos = 0;
    size_t guard = 0;
    while (pos < len) {
        ck_assert_uint_lt(guard++, 100000);
        size_t n = chunk == 0 || len - pos < chunk ? len - pos : chunk;
        const uint8_t *p = in + pos;
        size_t left = n;
        while (left > 0) {
            size_t used = 99999;
            grpc_frame_msg m;
            int rc = grpc_frame_feed(f, p, left, &used, &m);
            ck_assert_uint_le(used, left);
            p += used;
            left -= used;
            if (rc == GRPC_FRAME_MSG) {
                ck_assert_uint_lt(g->n, 64);
                ck_assert_ptr_nonnull(m.data);
                g->lens[g->n] = m.len;
                g->compressed[g->n] = m.compressed;
                g->data[g->n] = malloc(m.len + 1);
                memcpy(g->data[g->n], m.data, m.len);
                g->n++;
            } else if (rc == GRPC_FRAME_HEADER) {
                g->headers++;
                ck_assert_uint_gt(grpc_frame_declared(f), 0);
            } else if (rc < 0) {
                ck_assert_uint_eq(left, 0);
                g->err = rc;
            } else {
                ck_assert_int_eq(rc, GRPC_FRAME_NEED_MORE);
                ck_assert_uint_eq(left, 0);
            }
        }
        pos += n;
    }
}

START_TEST(test_single_message) {
    uint8_t in[64];
    size_t off = 0;
    put_msg(in, &off, 0, (const uint8_t *)"hello", 5);
    grpc_frame f;
    grpc_frame_init(&f, 1024);
    got g;
    run(&f, in, off, 0, &g);
    ck_assert_int_eq(g.err, 0);
    ck_assert_uint_eq(g.n, 1);
    ck_assert_uint_eq(g.lens[0], 5);
    ck_assert_int_eq(memcmp(g.data[0], "hello", 5), 0);
    ck_assert_int_eq(g.compressed[0], 0);
    ck_assert_uint_eq(g.headers, 1);
    ck_assert_int_eq(grpc_frame_partial(&f), 0);
    ck_assert_uint_eq(f.messages, 1);
    got_free(&g);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_byte_at_a_time) {
    uint8_t in[256];
    size_t off = 0;
    uint8_t body[100];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7 + 3);
    put_msg(in, &off, 0, body, 100);
    put_msg(in, &off, 1, body, 0);
    put_msg(in, &off, 1, body + 10, 33);
    grpc_frame f;
    grpc_frame_init(&f, 100);
    got g;
    run(&f, in, off, 1, &g);
    ck_assert_int_eq(g.err, 0);
    ck_assert_uint_eq(g.n, 3);
    ck_assert_uint_eq(g.lens[0], 100);
    ck_assert_int_eq(memcmp(g.data[0], body, 100), 0);
    ck_assert_uint_eq(g.lens[1], 0);
    ck_assert_int_eq(g.compressed[1], 1);
    ck_assert_uint_eq(g.lens[2], 33);
    ck_assert_int_eq(g.compressed[2], 1);
    ck_assert_int_eq(memcmp(g.data[2], body + 10, 33), 0);
    got_free(&g);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_partial_prefix_reported) {
    const uint8_t in[] = {0, 0, 0};
    grpc_frame f;
    grpc_frame_init(&f, 100);
    ck_assert_int_eq(grpc_frame_partial(&f), 0);
    got g;
    run(&f, in, sizeof(in), 0, &g);
    ck_assert_uint_eq(g.n, 0);
    ck_assert_int_eq(grpc_frame_partial(&f), 1);
    const uint8_t rest[] = {0, 4, 'a', 'b'};
    run(&f, rest, sizeof(rest), 0, &g);
    ck_assert_uint_eq(g.n, 0);
    ck_assert_int_eq(grpc_frame_partial(&f), 1); /* body truncated */
    const uint8_t end[] = {'c', 'd'};
    run(&f, end, sizeof(end), 0, &g);
    ck_assert_uint_eq(g.n, 1);
    ck_assert_int_eq(memcmp(g.data[0], "abcd", 4), 0);
    ck_assert_int_eq(grpc_frame_partial(&f), 0);
    got_free(&g);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_many_in_one_chunk) {
    uint8_t in[256];
    size_t off = 0;
    put_msg(in, &off, 0, (const uint8_t *)"one", 3);
    put_msg(in, &off, 0, NULL, 0);
    put_msg(in, &off, 0, (const uint8_t *)"three", 5);
    put_msg(in, &off, 1, (const uint8_t *)"4", 1);
    grpc_frame f;
    grpc_frame_init(&f, 16);
    got g;
    run(&f, in, off, 0, &g);
    ck_assert_int_eq(g.err, 0);
    ck_assert_uint_eq(g.n, 4);
    ck_assert_uint_eq(g.lens[0], 3);
    ck_assert_uint_eq(g.lens[1], 0);
    ck_assert_uint_eq(g.lens[2], 5);
    ck_assert_int_eq(memcmp(g.data[2], "three", 5), 0);
    ck_assert_int_eq(g.compressed[3], 1);
    ck_assert_uint_eq(f.messages, 4);
    got_free(&g);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_zero_length_alone) {
    const uint8_t in[] = {0, 0, 0, 0, 0};
    grpc_frame f;
    grpc_frame_init(&f, 0); /* a zero limit still admits empty messages */
    grpc_frame_msg m;
    size_t used = 0;
    ck_assert_int_eq(grpc_frame_feed(&f, in, sizeof(in), &used, &m), GRPC_FRAME_MSG);
    ck_assert_uint_eq(used, 5);
    ck_assert_uint_eq(m.len, 0);
    ck_assert_ptr_nonnull(m.data);
    size_t tl = 77;
    ck_assert_ptr_null(grpc_frame_take(&f, &tl));
    ck_assert_uint_eq(tl, 0);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_limit_exact_and_over) {
    uint8_t body[64];
    memset(body, 'x', sizeof(body));
    uint8_t in[128];
    size_t off = 0;
    put_msg(in, &off, 0, body, 64);
    grpc_frame f;
    grpc_frame_init(&f, 64);
    got g;
    run(&f, in, off, 0, &g);
    ck_assert_int_eq(g.err, 0);
    ck_assert_uint_eq(g.n, 1);
    ck_assert_uint_eq(g.lens[0], 64);
    got_free(&g);
    grpc_frame_free(&f);

    /* One over: refused on the prefix alone, before any body arrives. */
    grpc_frame_init(&f, 63);
    grpc_frame_msg m;
    size_t used = 0;
    ck_assert_int_eq(grpc_frame_feed(&f, in, 5, &used, &m), GRPC_FRAME_ETOOBIG);
    ck_assert_uint_eq(used, 5);
    ck_assert_uint_eq(grpc_frame_declared(&f), 64);
    ck_assert_ptr_null(f.body.ptr); /* nothing buffered */
    /* Everything after is discarded with the same error. */
    ck_assert_int_eq(grpc_frame_feed(&f, in + 5, 64, &used, &m), GRPC_FRAME_ETOOBIG);
    ck_assert_uint_eq(used, 64);
    ck_assert_ptr_null(f.body.ptr);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_huge_declared_length) {
    const uint8_t in[] = {0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    grpc_frame f;
    grpc_frame_init(&f, 16u * 1024 * 1024);
    got g;
    run(&f, in, sizeof(in), 0, &g);
    ck_assert_int_eq(g.err, GRPC_FRAME_ETOOBIG);
    ck_assert_uint_eq(grpc_frame_declared(&f), 0xffffffffu);
    ck_assert_uint_eq(g.n, 0);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_bad_flag) {
    for (unsigned flag = 2; flag < 256; flag += 37) {
        uint8_t in[16];
        size_t off = 0;
        put_msg(in, &off, (uint8_t)flag, (const uint8_t *)"ab", 2);
        grpc_frame f;
        grpc_frame_init(&f, 100);
        got g;
        run(&f, in, off, 2, &g);
        ck_assert_int_eq(g.err, GRPC_FRAME_EFLAGS);
        ck_assert_uint_eq(g.n, 0);
        grpc_frame_free(&f);
    }
}
END_TEST

START_TEST(test_garbage_http1) {
    const char *req = "POST /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n";
    grpc_frame f;
    grpc_frame_init(&f, 1024);
    got g;
    run(&f, (const uint8_t *)req, strlen(req), 0, &g);
    ck_assert_int_eq(g.err, GRPC_FRAME_EFLAGS); /* 'P' is not a flag */
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_error_after_good_message) {
    uint8_t in[64];
    size_t off = 0;
    put_msg(in, &off, 0, (const uint8_t *)"ok", 2);
    put_msg(in, &off, 0, (const uint8_t *)"too long", 8);
    grpc_frame f;
    grpc_frame_init(&f, 4);
    got g;
    run(&f, in, off, 3, &g);
    ck_assert_uint_eq(g.n, 1);
    ck_assert_int_eq(g.err, GRPC_FRAME_ETOOBIG);
    got_free(&g);
    grpc_frame_free(&f);
}
END_TEST

START_TEST(test_take_ownership) {
    uint8_t in[64];
    size_t off = 0;
    put_msg(in, &off, 0, (const uint8_t *)"first", 5);
    put_msg(in, &off, 0, (const uint8_t *)"second", 6);
    grpc_frame f;
    grpc_frame_init(&f, 64);
    grpc_frame_msg m;
    size_t used = 0, len = 0;
    ck_assert_int_eq(grpc_frame_feed(&f, in, off, &used, &m), GRPC_FRAME_HEADER);
    size_t pos = used;
    ck_assert_int_eq(grpc_frame_feed(&f, in + pos, off - pos, &used, &m), GRPC_FRAME_MSG);
    pos += used;
    uint8_t *first = grpc_frame_take(&f, &len);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(memcmp(first, "first", 5), 0);
    ck_assert_int_eq(grpc_frame_feed(&f, in + pos, off - pos, &used, &m), GRPC_FRAME_HEADER);
    pos += used;
    ck_assert_int_eq(grpc_frame_feed(&f, in + pos, off - pos, &used, &m), GRPC_FRAME_MSG);
    ck_assert_uint_eq(m.len, 6);
    ck_assert_int_eq(memcmp(m.data, "second", 6), 0);
    /* The taken buffer is untouched by the parser's later work. */
    ck_assert_int_eq(memcmp(first, "first", 5), 0);
    free(first);
    /* Nothing to take in the middle of a message. */
    ck_assert_int_eq(grpc_frame_feed(&f, in, 3, &used, &m), GRPC_FRAME_NEED_MORE);
    ck_assert_ptr_null(grpc_frame_take(&f, &len));
    grpc_frame_free(&f);
}
END_TEST

/* Random message sizes split at random chunk boundaries reassemble exactly. */
START_TEST(test_random_chunking) {
    uint64_t seed = 0x9e3779b97f4a7c15ull;
#define NEXT() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
    for (int round = 0; round < 200; round++) {
        size_t nmsg = 1 + NEXT() % 8;
        uint32_t lens[8];
        size_t total = 0;
        for (size_t i = 0; i < nmsg; i++) {
            lens[i] = (uint32_t)(NEXT() % 3 == 0 ? 0 : NEXT() % 5000);
            total += 5 + lens[i];
        }
        uint8_t *in = malloc(total);
        uint8_t *body = malloc(5000);
        for (size_t i = 0; i < 5000; i++)
            body[i] = (uint8_t)NEXT();
        size_t off = 0;
        for (size_t i = 0; i < nmsg; i++)
            put_msg(in, &off, (uint8_t)(i & 1), body, lens[i]);
        ck_assert_uint_eq(off, total);
        grpc_frame f;
        grpc_frame_init(&f, 5000);
        got g;
        run(&f, in, total, 1 + NEXT() % 700, &g);
        ck_assert_int_eq(g.err, 0);
        ck_assert_uint_eq(g.n, nmsg);
        for (size_t i = 0; i < nmsg; i++) {
            ck_assert_uint_eq(g.lens[i], lens[i]);
            ck_assert_int_eq(g.compressed[i], (int)(i & 1));
            ck_assert_int_eq(memcmp(g.data[i], body, lens[i]), 0);
        }
        ck_assert_int_eq(grpc_frame_partial(&f), 0);
        got_free(&g);
        grpc_frame_free(&f);
        free(in);
        free(body);
    }
#undef NEXT
}
END_TEST

START_TEST(test_strerror) {
    ck_assert_str_eq(grpc_frame_strerror(GRPC_FRAME_ETOOBIG), "message larger than the limit");
    ck_assert_ptr_nonnull(grpc_frame_strerror(-99));
}
END_TEST

static Suite *grpc_frame_suite(void) {
    Suite *s = suite_create("grpc_frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_single_message);
    tcase_add_test(tc, test_byte_at_a_time);
    tcase_add_test(tc, test_partial_prefix_reported);
    tcase_add_test(tc, test_many_in_one_chunk);
    tcase_add_test(tc, test_zero_length_alone);
    tcase_add_test(tc, test_limit_exact_and_over);
    tcase_add_test(tc, test_huge_declared_length);
    tcase_add_test(tc, test_bad_flag);
    tcase_add_test(tc, test_garbage_http1);
    tcase_add_test(tc, test_error_after_good_message);
    tcase_add_test(tc, test_take_ownership);
    tcase_add_test(tc, test_random_chunking);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(grpc_frame_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
