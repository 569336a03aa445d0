/* test_otlp_convert_logs.c - log records into the model (server/decode/otlp_convert_logs.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_fixture.h"

/* ---- logs ----------------------------------------------------------------- */

START_TEST(test_log_all_fields) {
    tb_log *l = tb_log_new(A, 17, tb_str(A, "disk full"));
    l->time_unix_nano = 111;
    l->observed_time_unix_nano = 222;
    l->severity_text = tb_strdup(A, "ERROR");
    l->flags = 1;
    l->trace_id = tb_id(A, 16, 0x77);
    l->span_id = tb_id(A, 8, 0x88);
    l->event_name = tb_strdup(A, "app.disk");
    l->n_attributes = 1;
    l->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "free", tb_int(A, 0))}, 1);
    l->dropped_attributes_count = 2;
    tb_log *l2 = tb_log_new(A, 0, NULL); /* no ids, no body, unset severity */
    tb_log *l3 = tb_log_new(A, 24, tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "a", tb_int(A, 1)))));
    l3->trace_id = tb_id(A, 16, 0); /* all-zero ids: valid, "absent" */
    l3->span_id = tb_id(A, 8, 0);
    model_batch *b = convert_logs(tb_logs_req_simple(A, TB_LIST(tb_log, l, l2, l3)));
    ck_assert_int_eq(b->signal, MODEL_SIGNAL_LOGS);
    ck_assert_uint_eq(b->n_logs, 3);
    ck_assert_uint_eq(model_batch_items(b), 3);
    ck_assert_int_eq(b->rejected, 0);
    const model_log *m = &b->logs[0];
    ck_assert_uint_eq(m->time_ns, 111);
    ck_assert_uint_eq(m->observed_time_ns, 222);
    ck_assert_int_eq(m->severity_number, 17);
    STR_EQ(m->severity_text, "ERROR");
    ck_assert_int_eq(m->body.type, MODEL_VALUE_STRING);
    STR_EQ(m->body.u.str, "disk full");
    ck_assert_uint_eq(m->flags, 1);
    ck_assert_int_eq(m->has_trace_id, 1);
    ck_assert_int_eq(m->has_span_id, 1);
    ck_assert_uint_eq(m->trace_id[15], 0x77);
    ck_assert_uint_eq(m->span_id[0], 0x88);
    STR_EQ(m->event_name, "app.disk");
    ck_assert_uint_eq(m->attrs.n, 1);
    ck_assert_uint_eq(m->dropped_attrs, 2);
    STR_EQ(m->resource->service_name, "logsvc");
    STR_EQ(m->scope->name, "loglib");
    ck_assert_ptr_eq(b->logs[1].resource, m->resource);
    ck_assert_int_eq(b->logs[1].has_trace_id, 0);
    ck_assert_int_eq(b->logs[1].has_span_id, 0);
    ck_assert_int_eq(b->logs[1].body.type, MODEL_VALUE_EMPTY);
    STR_EQ(b->logs[1].severity_text, "");
    STR_EQ(b->logs[1].event_name, "");
    ck_assert_int_eq(b->logs[2].severity_number, 24);
    ck_assert_int_eq(b->logs[2].body.type, MODEL_VALUE_KVLIST);
    ck_assert_int_eq(b->logs[2].has_trace_id, 0);
    ck_assert_int_eq(b->logs[2].has_span_id, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_log_rejects) {
    struct {
        int severity;
        size_t tid_len, sid_len;
        const char *sev_text;
        const char *event_name;
        const char *want;
    } cases[] = {
        {25, 0, 0, "", "", "severity_number 25"},
        {-1, 0, 0, "", "", "severity_number -1"},
        {9, 15, 0, "", "", "trace_id must be empty or 16 bytes"},
        {9, 0, 9, "", "", "span_id must be empty or 8 bytes"},
        {9, 32, 8, "", "", "trace_id"},
        {9, 0, 0, "\xFF", "", "severity_text is not valid UTF-8"},
        {9, 0, 0, "", "\xE2\x82", "event_name is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tb_log *bad = tb_log_new(A, cases[i].severity, tb_str(A, "bad"));
        bad->trace_id = tb_id(A, cases[i].tid_len, 1);
        bad->span_id = tb_id(A, cases[i].sid_len, 1);
        bad->severity_text = tb_strdup(A, cases[i].sev_text);
        bad->event_name = tb_strdup(A, cases[i].event_name);
        model_batch *b = convert_logs(tb_logs_req_simple(
            A, TB_LIST(tb_log, tb_log_new(A, 1, tb_str(A, "ok1")), bad, tb_log_new(A, 2, tb_str(A, "ok2")))));
        ck_assert_uint_eq(b->n_logs, 2);
        ck_assert_int_eq(b->rejected, 1);
        STR_EQ(b->logs[0].body.u.str, "ok1");
        STR_EQ(b->logs[1].body.u.str, "ok2");
        ck_assert_msg(strstr(b->reject_message.ptr, cases[i].want) != NULL, "case %zu: '%s'", i,
                      b->reject_message.ptr);
        ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "log record"));
        model_batch_free(b);
    }
    /* Invalid UTF-8 in a string body. */
    model_batch *b = convert_logs(tb_logs_req_simple(A, TB_LIST(tb_log, tb_log_new(A, 1, tb_str(A, "\xC3")))));
    ck_assert_uint_eq(b->n_logs, 0);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_convert_logs");
    TCase *tc = decode_tcase(s, "logs", teardown);
    tcase_add_test(tc, test_log_all_fields);
    tcase_add_test(tc, test_log_rejects);
    return decode_run(s);
}
