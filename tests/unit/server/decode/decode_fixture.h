/* decode_fixture.h - what the decoder and converter tests share: an arena
 * for the request structs (otlp_build.h), each test's fixture, comparing a
 * model string, converting a request into a new batch, running a suite. */
#ifndef LOUPE_TEST_DECODE_FIXTURE_H
#define LOUPE_TEST_DECODE_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/decode/otlp.h"
#include "otlp_build.h"
#include "server/decode/otlp_internal.h"

static arena *A;

static inline void setup(void) {
    A = arena_new(0, 0);
    ck_assert_ptr_nonnull(A);
}

static inline void teardown(void) {
    arena_free(A);
    A = NULL;
}

#define STR_EQ(ms, lit)                                                                            \
    do {                                                                                           \
        ck_assert_uint_eq((ms).len, strlen(lit));                                                  \
        ck_assert_mem_eq((ms).ptr, (lit), strlen(lit));                                            \
        ck_assert_int_eq((ms).ptr[(ms).len], '\0');                                                \
    } while (0)

static inline model_batch *convert_traces(const tb_trace_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_traces(req, b), OTLP_OK);
    return b;
}

static inline model_batch *convert_logs(const tb_logs_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_logs(req, b), OTLP_OK);
    return b;
}

static inline model_batch *convert_metrics(const tb_metrics_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_metrics(req, b), OTLP_OK);
    return b;
}

/* Converts a single log with the given body and returns it (batch in *bp). */
static inline const model_value *body_of(tb_any *body, model_batch **bp) {
    *bp = convert_logs(tb_logs_req_simple(A, TB_LIST(tb_log, tb_log_new(A, 9, body))));
    ck_assert_uint_eq((*bp)->n_logs, 1);
    ck_assert_int_eq((*bp)->rejected, 0);
    return &(*bp)->logs[0].body;
}

/* A test case of s whose tests run between setup() and `done` (teardown,
 * or one that also undoes what its tests changed). */
static inline TCase *decode_tcase(Suite *s, const char *name, void (*done)(void)) {
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, done);
    suite_add_tcase(s, tc);
    return tc;
}

/* Runs the suite; returns the process's exit status. */
static inline int decode_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
