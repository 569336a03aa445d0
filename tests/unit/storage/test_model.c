/* test_model.c - model batch lifetime and validation helpers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "storage/model.h"

START_TEST(test_utf8_valid) {
    ck_assert_int_eq(model_utf8_valid("", 0), 1);
    ck_assert_int_eq(model_utf8_valid("plain ascii text, longer than eight", 35), 1);
    ck_assert_int_eq(model_utf8_valid("caf\xc3\xa9 \xe6\x9d\xb1 \xf0\x9f\x91\x8b", 14), 1);
    ck_assert_int_eq(model_utf8_valid("abcdefgh\xff", 9), 0);        /* invalid byte after fast path */
    ck_assert_int_eq(model_utf8_valid("\xc0\xaf", 2), 0);            /* overlong */
    ck_assert_int_eq(model_utf8_valid("\xe0\x80\xaf", 3), 0);        /* overlong */
    ck_assert_int_eq(model_utf8_valid("\xed\xa0\x80", 3), 0);        /* surrogate */
    ck_assert_int_eq(model_utf8_valid("\xf4\x90\x80\x80", 4), 0);    /* > U+10FFFF */
    ck_assert_int_eq(model_utf8_valid("\xe6\x9d", 2), 0);            /* truncated */
    ck_assert_int_eq(model_utf8_valid("abc\xe6\x9d\xb1xyz1234567", 16), 1);
    ck_assert_int_eq(model_utf8_valid("a\0b", 3), 1); /* NUL is valid UTF-8 */
}
END_TEST

START_TEST(test_hex) {
    uint8_t id[8], zero[8] = {0};
    char out[17];
    ck_assert_int_eq(model_hex_decode("00ff10AbcdEF0102", 16, id, 8), 0);
    model_hex_encode(id, 8, out);
    ck_assert_str_eq(out, "00ff10abcdef0102");
    ck_assert_int_eq(model_hex_decode("00ff10abcdef010", 15, id, 8), -1);
    ck_assert_int_eq(model_hex_decode("00ff10abcdef010g", 16, id, 8), -1);
    ck_assert_int_eq(model_id_is_zero(zero, 8), 1);
    ck_assert_int_eq(model_id_is_zero(id, 8), 0);
}
END_TEST

START_TEST(test_batch_reject_keeps_first_message) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(model_batch_items(b), 0);
    ck_assert_str_eq(b->reject_message.ptr, "");
    model_batch_reject(b, "first reason");
    model_batch_reject(b, "second reason");
    ck_assert_int_eq(b->rejected, 2);
    ck_assert_str_eq(b->reject_message.ptr, "first reason");
    ck_assert_uint_gt(model_batch_bytes(b), 0);
    model_str s;
    ck_assert_int_eq(model_str_dup(b, &s, "hello", 5), 0);
    ck_assert_str_eq(s.ptr, "hello");
    ck_assert_int_eq(model_str_dup(b, &s, "", 0), 0);
    ck_assert_ptr_eq(s.ptr, model_str_empty.ptr);
    model_batch_free(b);
    model_batch_free(NULL);
}
END_TEST

START_TEST(test_names) {
    ck_assert_str_eq(model_span_kind_name(MODEL_SPAN_KIND_SERVER), "SERVER");
    ck_assert_str_eq(model_span_kind_name((model_span_kind)99), "UNSPECIFIED");
    ck_assert_str_eq(model_status_code_name(MODEL_STATUS_ERROR), "ERROR");
    ck_assert_str_eq(model_metric_type_name(MODEL_METRIC_EXP_HISTOGRAM), "exponential_histogram");
    ck_assert_str_eq(model_temporality_name(MODEL_TEMPORALITY_DELTA), "delta");
    ck_assert_str_eq(model_signal_name(MODEL_SIGNAL_METRICS), "metrics");
}
END_TEST

int main(void) {
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_utf8_valid);
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_batch_reject_keeps_first_message);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
