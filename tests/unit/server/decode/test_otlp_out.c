/* test_otlp_out.c - server/decode/otlp_out.c: OTLP JSON into protobuf for
 * forwarding (the JS exporter's fixtures: the JSON becomes exactly the
 * bytes protobuf-c packs from the exporter's own protobuf), and reading
 * the answers' partial success in both encodings. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "json_fixture.h"
#include "server/decode/otlp.h"

static void check_fixture(model_signal sig, const char *name,
                          const ProtobufCMessageDescriptor *desc) {
    char file[64];
    size_t jlen, plen;
    snprintf(file, sizeof(file), "js_%s.json", name);
    char *json = read_fixture(file, &jlen);
    snprintf(file, sizeof(file), "js_%s.pb", name);
    char *pbraw = read_fixture(file, &plen);
    buf out;
    buf_init(&out, (size_t)16 << 20);
    char err[256] = "";
    ck_assert_msg(otlp_json_to_pb(sig, json, jlen, &out, err, sizeof(err)) == OTLP_OK, "%s: %s",
                  name, err);
    ProtobufCMessage *want = protobuf_c_message_unpack(desc, NULL, plen, (const uint8_t *)pbraw);
    ck_assert_ptr_nonnull(want);
    size_t lb;
    uint8_t *b = pack(want, &lb);
    ck_assert_msg(out.len == lb && memcmp(out.ptr, b, lb) == 0, "%s: %zu vs %zu bytes", name,
                  out.len, lb);
    /* and loupe's own decoder takes it */
    model_batch *batch = NULL;
    ck_assert_int_eq(otlp_decode_pb(sig, (const uint8_t *)out.ptr, out.len, 0, &batch, err,
                                    sizeof(err)),
                     OTLP_OK);
    model_batch_free(batch);
    free(b);
    protobuf_c_message_free_unpacked(want, NULL);
    buf_free(&out);
    free(pbraw);
    free(json);
}

START_TEST(test_json_to_pb_is_the_exporters_protobuf) {
    check_fixture(MODEL_SIGNAL_TRACES, "traces",
                  &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor);
    check_fixture(MODEL_SIGNAL_LOGS, "logs",
                  &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor);
    check_fixture(MODEL_SIGNAL_METRICS, "metrics",
                  &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor);
}
END_TEST

START_TEST(test_json_to_pb_errors) {
    buf out;
    buf_init(&out, 1024);
    char err[256] = "";
    ck_assert_int_eq(otlp_json_to_pb(MODEL_SIGNAL_LOGS, "{not json", 9, &out, err, sizeof(err)),
                     OTLP_EDECODE);
    ck_assert_ptr_nonnull(strstr(err, "invalid JSON"));
    ck_assert_uint_eq(out.len, 0);
    static const char wrong[] = "{\"resourceLogs\":7}";
    ck_assert_int_eq(otlp_json_to_pb(MODEL_SIGNAL_LOGS, wrong, sizeof(wrong) - 1, &out, err,
                                     sizeof(err)),
                     OTLP_EDECODE);
    /* past out's cap */
    size_t jlen;
    char *json = read_fixture("js_traces.json", &jlen);
    buf small;
    buf_init(&small, 64);
    ck_assert_int_eq(otlp_json_to_pb(MODEL_SIGNAL_TRACES, json, jlen, &small, err, sizeof(err)),
                     OTLP_ETOOBIG);
    free(json);
    buf_free(&small);
    /* an empty request is an empty message */
    ck_assert_int_eq(otlp_json_to_pb(MODEL_SIGNAL_TRACES, "{}", 2, &out, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

START_TEST(test_response_read) {
    for (int sig = MODEL_SIGNAL_TRACES; sig <= MODEL_SIGNAL_METRICS; sig++) {
        buf pb, js;
        buf_init(&pb, 4096);
        buf_init(&js, 4096);
        ck_assert_int_eq(otlp_response_pb((model_signal)sig, 3, "three were bad", &pb), OTLP_OK);
        ck_assert_int_eq(otlp_response_json((model_signal)sig, 3, "three were bad", &js), OTLP_OK);
        int64_t rejected = -1;
        char msg[64];
        ck_assert_int_eq(otlp_response_read_pb((model_signal)sig, (const uint8_t *)pb.ptr, pb.len,
                                               &rejected, msg, sizeof(msg)),
                         OTLP_OK);
        ck_assert_int_eq(rejected, 3);
        ck_assert_str_eq(msg, "three were bad");
        rejected = -1;
        ck_assert_int_eq(otlp_response_read_json((model_signal)sig, js.ptr, js.len, &rejected, msg,
                                                 sizeof(msg)),
                         OTLP_OK);
        ck_assert_int_eq(rejected, 3);
        ck_assert_str_eq(msg, "three were bad");
        /* a full success: an empty message, or an empty body */
        buf_reset(&pb);
        ck_assert_int_eq(otlp_response_pb((model_signal)sig, 0, NULL, &pb), OTLP_OK);
        ck_assert_int_eq(otlp_response_read_pb((model_signal)sig, (const uint8_t *)pb.ptr, pb.len,
                                               &rejected, msg, sizeof(msg)),
                         OTLP_OK);
        ck_assert_int_eq(rejected, 0);
        ck_assert_int_eq(otlp_response_read_json((model_signal)sig, "", 0, &rejected, msg,
                                                 sizeof(msg)),
                         OTLP_OK);
        ck_assert_int_eq(rejected, 0);
        ck_assert_int_eq(otlp_response_read_json((model_signal)sig, "{}", 2, &rejected, msg,
                                                 sizeof(msg)),
                         OTLP_OK);
        ck_assert_int_eq(rejected, 0);
        buf_free(&pb);
        buf_free(&js);
    }
    int64_t rejected;
    char msg[8];
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(otlp_response_read_pb(MODEL_SIGNAL_LOGS, junk, sizeof(junk), &rejected, msg,
                                           sizeof(msg)),
                     OTLP_EDECODE);
    ck_assert_int_eq(otlp_response_read_json(MODEL_SIGNAL_LOGS, "[1]", 3, &rejected, msg,
                                             sizeof(msg)),
                     OTLP_EDECODE);
    ck_assert_int_eq(otlp_response_read_json(MODEL_SIGNAL_LOGS, "{\"partialSuccess\":{"
                                             "\"rejectedLogRecords\":\"12\",\"errorMessage\":"
                                             "\"a long message cut\"}}",
                                             82, &rejected, msg, sizeof(msg)),
                     OTLP_OK);
    ck_assert_int_eq(rejected, 12);
    ck_assert_str_eq(msg, "a long "); /* truncated to the buffer */
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_out");
    TCase *tc = tcase_create("out");
    tcase_add_test(tc, test_json_to_pb_is_the_exporters_protobuf);
    tcase_add_test(tc, test_json_to_pb_errors);
    tcase_add_test(tc, test_response_read);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
