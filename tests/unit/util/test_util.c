/* test_util.c - arena, buf, clk, jw, gz, netaddr and config helpers. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <unistd.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/clk.h"
#include "server/config.h"
#include "util/gz.h"
#include "util/jw.h"
#include "util/netaddr.h"

/* argv strings for config_parse (it never writes to them) */
#define A(x) ((char *)(x))

START_TEST(test_arena_alignment_and_growth) {
    arena *a = arena_new(1024, 0);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 1000; i++) {
        void *p = arena_alloc(a, (size_t)(i % 37) + 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        memset(p, 0xAB, (size_t)(i % 37) + 1);
    }
    /* a large allocation gets its own chunk */
    char *big = arena_alloc(a, 100000);
    ck_assert_ptr_nonnull(big);
    memset(big, 1, 100000);
    ck_assert_uint_ge(arena_footprint(a), 100000);
    char *s = arena_strndup(a, "hello world", 5);
    ck_assert_str_eq(s, "hello");
    arena_reset(a);
    ck_assert_uint_le(arena_footprint(a), 2048);
    ck_assert_ptr_nonnull(arena_alloc(a, 10));
    arena_free(a);
    arena_free(NULL);
}
END_TEST

START_TEST(test_arena_limit) {
    arena *a = arena_new(4096, 16384);
    ck_assert_ptr_nonnull(a);
    int got = 0;
    while (arena_alloc(a, 1000) != NULL && got < 1000)
        got++;
    ck_assert_int_lt(got, 17);
    ck_assert_int_gt(got, 4);
    ck_assert_int_eq(arena_limit_hit(a), 1);
    ck_assert_uint_le(arena_footprint(a), 16384);
    ck_assert_ptr_null(arena_calloc(a, SIZE_MAX / 2, 4)); /* overflow */
    arena_free(a);
}
END_TEST

START_TEST(test_buf_cap) {
    buf b;
    buf_init(&b, 10);
    ck_assert_int_eq(buf_append_str(&b, "12345"), BUF_OK);
    ck_assert_int_eq(buf_printf(&b, "%d", 6789), BUF_OK);
    ck_assert_str_eq(b.ptr, "123456789");
    ck_assert_int_eq(buf_append_str(&b, "ab"), BUF_ETOOBIG);
    ck_assert_str_eq(b.ptr, "123456789"); /* unchanged */
    ck_assert_int_eq(buf_append_char(&b, 'x'), BUF_OK);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_int_eq(buf_append_char(&b, 'y'), BUF_ETOOBIG);
    size_t len;
    char *p = buf_detach(&b, &len);
    ck_assert_uint_eq(len, 10);
    ck_assert_str_eq(p, "123456789x");
    free(p);
    ck_assert_ptr_null(b.ptr);
    buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf_long) {
    buf b;
    buf_init(&b, 1 << 20);
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(buf_printf(&b, "<%s>", big), BUF_OK);
    ck_assert_uint_eq(b.len, 1001);
    ck_assert_int_eq(b.ptr[0], '<');
    ck_assert_int_eq(b.ptr[1000], '>');
    buf_free(&b);
}
END_TEST

static const char *jw_render(void (*fn)(jw *)) {
    static char out[4096];
    buf b;
    jw w;
    buf_init(&b, sizeof(out) - 1);
    jw_init(&w, &b);
    fn(&w);
    ck_assert_int_eq(jw_error(&w), 0);
    memcpy(out, b.ptr, b.len + 1);
    buf_free(&b);
    return out;
}

static void jw_doc(jw *w) {
    jw_object_begin(w);
    jw_key(w, "a");
    jw_int(w, -5);
    jw_key(w, "b");
    jw_array_begin(w);
    jw_string(w, "x\"y\\z\n");
    jw_bool(w, 1);
    jw_null(w);
    jw_double(w, 2.0);
    jw_double(w, 0.5);
    jw_object_begin(w);
    jw_object_end(w);
    jw_array_end(w);
    jw_key(w, "t");
    jw_uint_string(w, 18446744073709551615ULL);
    jw_key(w, "h");
    jw_hex(w, (const uint8_t *)"\x01\xab", 2);
    jw_key(w, "b64");
    jw_base64(w, (const uint8_t *)"\x00\x01\x02\xfa", 4);
    jw_object_end(w);
}

START_TEST(test_jw_document) {
    ck_assert_str_eq(jw_render(jw_doc),
                     "{\"a\":-5,\"b\":[\"x\\\"y\\\\z\\n\",true,null,2.0,0.5,{}],"
                     "\"t\":\"18446744073709551615\",\"h\":\"01ab\",\"b64\":\"AAEC+g==\"}");
}
END_TEST

static void jw_hostile(jw *w) {
    jw_array_begin(w);
    jw_string(w, "<script>&</script>");
    jw_stringn(w, "ok\xff\xfe" "end", 7);  /* invalid UTF-8 */
    jw_string(w, "\xe2\x80\xa8");          /* U+2028 */
    jw_string(w, "\x01");
    jw_string(w, "caf\xc3\xa9");          /* valid UTF-8 stays */
    jw_double(w, NAN);
    jw_double(w, -INFINITY);
    jw_array_end(w);
}

START_TEST(test_jw_escaping) {
    ck_assert_str_eq(jw_render(jw_hostile),
                     "[\"\\u003cscript\\u003e\\u0026\\u003c/script\\u003e\","
                     "\"ok\\ufffd\\ufffdend\",\"\\u2028\",\"\\u0001\",\"caf\xc3\xa9\","
                     "\"NaN\",\"-Infinity\"]");
}
END_TEST

START_TEST(test_jw_sticky_error) {
    buf b;
    jw w;
    buf_init(&b, 8);
    jw_init(&w, &b);
    jw_array_begin(&w);
    jw_string(&w, "this is longer than eight bytes");
    jw_array_end(&w);
    ck_assert_int_eq(jw_error(&w), BUF_ETOOBIG);
    buf_free(&b);
}
END_TEST

START_TEST(test_gz_roundtrip_and_bomb) {
    uint8_t *zeros = calloc(1, 4 << 20);
    ck_assert_ptr_nonnull(zeros);
    buf z;
    buf_init(&z, 1 << 20);
    ck_assert_int_eq(gz_deflate(zeros, 4 << 20, 9, &z), GZ_OK);
    ck_assert_uint_lt(z.len, 16384);

    buf out;
    buf_init(&out, 4 << 20);
    ck_assert_int_eq(gz_inflate((uint8_t *)z.ptr, z.len, &out), GZ_OK);
    ck_assert_uint_eq(out.len, 4 << 20);
    ck_assert_int_eq(memcmp(out.ptr, zeros, 4 << 20), 0);
    buf_free(&out);

    /* exactly one byte short of the output: refused as too big */
    buf_init(&out, (4 << 20) - 1);
    ck_assert_int_eq(gz_inflate((uint8_t *)z.ptr, z.len, &out), GZ_ETOOBIG);
    ck_assert_uint_le(out.len, (4 << 20) - 1);
    buf_free(&out);

    /* truncated */
    buf_init(&out, 8 << 20);
    ck_assert_int_eq(gz_inflate((uint8_t *)z.ptr, z.len / 2, &out), GZ_EDATA);
    buf_free(&out);

    /* garbage */
    buf_init(&out, 8 << 20);
    ck_assert_int_eq(gz_inflate((const uint8_t *)"not gzip at all", 15, &out), GZ_EDATA);
    buf_free(&out);

    /* two concatenated members */
    buf two;
    buf_init(&two, 1 << 20);
    ck_assert_int_eq(gz_deflate((const uint8_t *)"abc", 3, 6, &two), GZ_OK);
    ck_assert_int_eq(gz_deflate((const uint8_t *)"def", 3, 6, &two), GZ_OK);
    buf_init(&out, 100);
    ck_assert_int_eq(gz_inflate((uint8_t *)two.ptr, two.len, &out), GZ_OK);
    ck_assert_str_eq(out.ptr, "abcdef");
    buf_free(&out);
    buf_free(&two);
    buf_free(&z);
    free(zeros);
}
END_TEST

/* A gzip stream written in pieces (as an export is) inflates back to the
 * pieces in order; nothing may follow the finish; the output cap holds. */
START_TEST(test_gz_writer_pieces) {
    gz_writer *g = gz_writer_new(6);
    ck_assert_ptr_nonnull(g);
    buf z, want;
    buf_init(&z, 1 << 20);
    buf_init(&want, 1 << 20);
    for (int i = 0; i < 2000; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "{\"line\":%d,\"text\":\"piece %d\"}\n", i, i * 7);
        ck_assert_int_eq(buf_append(&want, line, (size_t)n), BUF_OK);
        ck_assert_int_eq(gz_writer_write(g, (const uint8_t *)line, (size_t)n, 0, &z), GZ_OK);
    }
    ck_assert_uint_lt(z.len, want.len); /* most of it may still be inside zlib */
    ck_assert_int_eq(gz_writer_write(g, NULL, 0, 1, &z), GZ_OK);
    ck_assert_uint_gt(z.len, 0);
    ck_assert_int_eq(gz_writer_write(g, (const uint8_t *)"x", 1, 0, &z), GZ_EDATA);
    ck_assert_int_eq(gz_writer_write(g, NULL, 0, 1, &z), GZ_OK);
    gz_writer_free(g);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(gz_inflate((uint8_t *)z.ptr, z.len, &out), GZ_OK);
    ck_assert_uint_eq(out.len, want.len);
    ck_assert_int_eq(memcmp(out.ptr, want.ptr, want.len), 0);
    buf_free(&out);

    /* the output's cap */
    g = gz_writer_new(1);
    buf small;
    buf_init(&small, 8);
    ck_assert_int_eq(gz_writer_write(g, (const uint8_t *)want.ptr, want.len, 1, &small),
                     GZ_ETOOBIG);
    gz_writer_free(g);
    gz_writer_free(NULL);
    buf_free(&small);
    buf_free(&want);
    buf_free(&z);
}
END_TEST

START_TEST(test_netaddr_parse) {
    struct sockaddr_storage ss;
    socklen_t len;
    char err[200], text[80];
    ck_assert_int_eq(netaddr_parse("127.0.0.1:4317", &ss, &len, err, sizeof(err)), 0);
    netaddr_format((struct sockaddr *)&ss, text, sizeof(text));
    ck_assert_str_eq(text, "127.0.0.1:4317");
    ck_assert_int_eq(netaddr_parse(":18888", &ss, &len, err, sizeof(err)), 0);
    netaddr_format((struct sockaddr *)&ss, text, sizeof(text));
    ck_assert_str_eq(text, "0.0.0.0:18888");
    ck_assert_int_eq(netaddr_parse("[::1]:0", &ss, &len, err, sizeof(err)), 0);
    netaddr_format((struct sockaddr *)&ss, text, sizeof(text));
    ck_assert_str_eq(text, "[::1]:0");
    ck_assert_int_eq(netaddr_parse("localhost:1", &ss, &len, err, sizeof(err)), 0);
    ck_assert_int_eq(netaddr_parse("127.0.0.1", &ss, &len, err, sizeof(err)), -1);
    ck_assert_int_eq(netaddr_parse("127.0.0.1:65536", &ss, &len, err, sizeof(err)), -1);
    ck_assert_int_eq(netaddr_parse("127.0.0.1:-1", &ss, &len, err, sizeof(err)), -1);
    ck_assert_int_eq(netaddr_parse("127.0.0.1:12x", &ss, &len, err, sizeof(err)), -1);
    ck_assert_int_eq(netaddr_parse("example.com:80", &ss, &len, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "example.com:80"));
    ck_assert_int_eq(netaddr_parse("[::1:80", &ss, &len, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_netaddr_listen_port0_and_in_use) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char err[200];
    ck_assert_int_eq(netaddr_parse("127.0.0.1:0", &ss, &len, err, sizeof(err)), 0);
    int fd = netaddr_listen(&ss, len, 16, err, sizeof(err));
    ck_assert_int_ge(fd, 0);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&bound, &blen), 0);
    int port = netaddr_port((struct sockaddr *)&bound);
    ck_assert_int_gt(port, 0);
    /* the same port again is in use */
    ((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)port);
    int fd2 = netaddr_listen(&ss, len, 16, err, sizeof(err));
    ck_assert_int_eq(fd2, -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot listen on 127.0.0.1:"));
    close(fd);
}
END_TEST

START_TEST(test_config_sizes) {
    size_t v;
    ck_assert_int_eq(config_parse_size("1048576", &v), 0);
    ck_assert_uint_eq(v, 1048576);
    ck_assert_int_eq(config_parse_size("16MiB", &v), 0);
    ck_assert_uint_eq(v, 16u << 20);
    ck_assert_int_eq(config_parse_size("512k", &v), 0);
    ck_assert_uint_eq(v, 512u << 10);
    ck_assert_int_eq(config_parse_size("2G", &v), 0);
    ck_assert_uint_eq(v, (size_t)2 << 30);
    ck_assert_int_eq(config_parse_size("", &v), -1);
    ck_assert_int_eq(config_parse_size("-1", &v), -1);
    ck_assert_int_eq(config_parse_size("12 MiB", &v), -1);
    ck_assert_int_eq(config_parse_size("99999999999999999999", &v), -1);
    ck_assert_int_eq(config_parse_size("18446744073709551615G", &v), -1);
}
END_TEST

START_TEST(test_config_flags_and_env) {
    config cfg;
    char err[256];
    char *argv1[] = {A("loupe"), A("--ui-addr"), A("127.0.0.1:1"), A("--storage=memory"), A("--max-spans"), A("10"), NULL};
    setenv("LOUPE_OTLP_HTTP_ADDR", "127.0.0.1:2", 1);
    setenv("LOUPE_UI_ADDR", "127.0.0.1:3", 1);
    ck_assert_int_eq(config_parse(&cfg, 6, argv1, err, sizeof(err)), CONFIG_OK);
    ck_assert_str_eq(cfg.ui_addr, "127.0.0.1:1"); /* flag beats environment */
    ck_assert_str_eq(cfg.otlp_http_addr, "127.0.0.1:2");
    ck_assert_str_eq(cfg.otlp_grpc_addr, "0.0.0.0:4317");
    ck_assert_int_eq(cfg.storage, 1);
    ck_assert_uint_eq(cfg.max_spans, 10);
    unsetenv("LOUPE_OTLP_HTTP_ADDR");
    unsetenv("LOUPE_UI_ADDR");

    char *bad1[] = {A("loupe"), A("--no-such-flag"), NULL};
    ck_assert_int_eq(config_parse(&cfg, 2, bad1, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "--no-such-flag"));
    char *bad2[] = {A("loupe"), A("--storage"), A("disk"), NULL};
    ck_assert_int_eq(config_parse(&cfg, 3, bad2, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "disk"));
    char *bad3[] = {A("loupe"), A("--max-body-size"), NULL};
    ck_assert_int_eq(config_parse(&cfg, 2, bad3, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "needs a value"));
    setenv("LOUPE_MAX_LOGS", "lots", 1);
    char *ok[] = {A("loupe"), NULL};
    ck_assert_int_eq(config_parse(&cfg, 1, ok, err, sizeof(err)), CONFIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "LOUPE_MAX_LOGS"));
    unsetenv("LOUPE_MAX_LOGS");
}
END_TEST

/* Deadlines carry nanoseconds into seconds and land ms after now. */
START_TEST(test_clk_deadline) {
    static const long cases[] = {0, 1, 999, 1000, 1999, 2500, 61001};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 2; k++) {
            clockid_t c = k ? CLOCK_REALTIME : CLOCK_MONOTONIC;
            int64_t before = clk_ns(c);
            struct timespec ts;
            clk_deadline(c, cases[i], &ts);
            int64_t after = clk_ns(c);
            ck_assert_int_ge(ts.tv_nsec, 0);
            ck_assert_int_lt(ts.tv_nsec, 1000000000L);
            int64_t at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
            ck_assert_int_ge(at, before + cases[i] * 1000000LL);
            ck_assert_int_le(at, after + cases[i] * 1000000LL);
        }
    }
    ck_assert_int_le(clk_ns(CLOCK_MONOTONIC), clk_ns(CLOCK_MONOTONIC));
}
END_TEST

static Suite *util_suite(void) {
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_arena_alignment_and_growth);
    tcase_add_test(tc, test_arena_limit);
    tcase_add_test(tc, test_buf_cap);
    tcase_add_test(tc, test_buf_printf_long);
    tcase_add_test(tc, test_jw_document);
    tcase_add_test(tc, test_jw_escaping);
    tcase_add_test(tc, test_jw_sticky_error);
    tcase_add_test(tc, test_gz_roundtrip_and_bomb);
    tcase_add_test(tc, test_gz_writer_pieces);
    tcase_add_test(tc, test_netaddr_parse);
    tcase_add_test(tc, test_netaddr_listen_port0_and_in_use);
    tcase_add_test(tc, test_config_sizes);
    tcase_add_test(tc, test_config_flags_and_env);
    tcase_add_test(tc, test_clk_deadline);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
