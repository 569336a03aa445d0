/* test_otlp_json_decode.c - otlp_decode_json() through the converter into the
 * model, and the JSON answers (server/decode/otlp_json.c). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_fixture.h"

/* ---- end to end: otlp_decode_json() through the converter --------------- */

static model_batch *decode_ok(model_signal sig, const char *json, size_t len) {
    model_batch *b = (model_batch *)1;
    char err[256] = "";
    int rc = otlp_decode_json(sig, json, len, 0, &b, err, sizeof(err));
    ck_assert_msg(rc == OTLP_OK, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->signal, sig);
    return b;
}

static void decode_fail(model_signal sig, const char *json, size_t len, size_t mem_limit, int want,
                        const char *needle) {
    model_batch *b = (model_batch *)1;
    char err[256] = "";
    int rc = otlp_decode_json(sig, json, len, mem_limit, &b, err, sizeof(err));
    ck_assert_msg(rc == want, "rc %d, want %d: %s", rc, want, err);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

static void assert_model_hex(const uint8_t *id, size_t n, const char *hex) {
    char got[40];
    model_hex_encode(id, n, got);
    ck_assert_str_eq(got, hex);
}

static const model_value *model_attr(const model_attrs *a, const char *key) {
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].key.ptr, key) == 0)
            return &a->items[i].value;
    ck_abort_msg("attribute %s missing", key);
    return NULL;
}

START_TEST(e2e_traces) {
    size_t len;
    char *json = read_fixture("traces.json", &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_spans, 2);
    const model_span *s = &b->spans[0];
    ck_assert_str_eq(s->resource->service_name.ptr, "checkout");
    ck_assert_str_eq(s->scope->name.ptr, "checkout-tracer");
    assert_model_hex(s->trace_id, 16, "5b8efff798038103d269b633813fc60c");
    assert_model_hex(s->span_id, 8, "eee19b7ec3c1b174");
    ck_assert_int_eq(s->has_parent, 1);
    assert_model_hex(s->parent_span_id, 8, "eee19b7ec3c1b173");
    ck_assert_str_eq(s->name.ptr, "GET /cart");
    ck_assert_int_eq(s->kind, MODEL_SPAN_KIND_SERVER);
    ck_assert_uint_eq(s->start_ns, 1700000000000000000ULL);
    ck_assert_uint_eq(s->end_ns, 1700000000250000000ULL);
    ck_assert_int_eq(s->status_code, MODEL_STATUS_ERROR);
    ck_assert_str_eq(s->status_message.ptr, "boom");
    ck_assert_int_eq(model_attr(&s->attrs, "http.status_code")->type, MODEL_VALUE_INT);
    ck_assert_int_eq(model_attr(&s->attrs, "http.status_code")->u.integer, 200);
    ck_assert_int_eq(model_attr(&s->attrs, "raw")->type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(model_attr(&s->attrs, "raw")->u.str.len, 4);
    ck_assert_int_eq(model_attr(&s->attrs, "map")->type, MODEL_VALUE_KVLIST);
    ck_assert_int_eq(model_attr(&s->attrs, "tags")->type, MODEL_VALUE_ARRAY);
    ck_assert_int_eq(model_attr(&s->attrs, "empty")->type, MODEL_VALUE_EMPTY);
    ck_assert_uint_eq(s->n_events, 1);
    ck_assert_uint_eq(s->n_links, 1);
    assert_model_hex(s->links[0].trace_id, 16, "0af7651916cd43dd8448eb211c80319c");
    s = &b->spans[1];
    ck_assert_int_eq(s->has_parent, 0);
    ck_assert_int_eq(s->kind, MODEL_SPAN_KIND_CLIENT);
    ck_assert_int_eq(s->status_code, MODEL_STATUS_OK);
    model_batch_free(b);
    free(json);
}
END_TEST

START_TEST(e2e_logs_and_metrics) {
    size_t len;
    char *json = read_fixture("logs.json", &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_LOGS, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_logs, 5);
    ck_assert_int_eq(b->logs[0].severity_number, 9);
    ck_assert_int_eq(b->logs[0].has_trace_id, 1);
    ck_assert_int_eq(b->logs[0].body.type, MODEL_VALUE_STRING);
    ck_assert_int_eq(b->logs[1].severity_number, 17);
    ck_assert_int_eq(b->logs[1].body.type, MODEL_VALUE_KVLIST);
    ck_assert_str_eq(b->logs[1].event_name.ptr, "payment.failed");
    ck_assert_int_eq(b->logs[2].body.type, MODEL_VALUE_INT);
    ck_assert_int_eq(b->logs[2].has_trace_id, 0);
    ck_assert_int_eq(b->logs[3].body.type, MODEL_VALUE_BYTES);
    ck_assert_int_eq(b->logs[4].body.type, MODEL_VALUE_ARRAY);
    model_batch_free(b);
    free(json);

    json = read_fixture("metrics.json", &len);
    b = decode_ok(MODEL_SIGNAL_METRICS, json, len);
    ck_assert_int_eq(b->rejected, 0);
    ck_assert_uint_eq(b->n_metrics, 6);
    ck_assert_uint_eq(b->n_points, 7);
    size_t seen = 0;
    for (size_t i = 0; i < b->n_points; i++) {
        const model_point *p = &b->points[i];
        if (strcmp(p->metric->name.ptr, "http.requests") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_SUM);
            ck_assert_int_eq(p->metric->monotonic, 1);
            ck_assert_int_eq(p->metric->temporality, MODEL_TEMPORALITY_CUMULATIVE);
            ck_assert_int_eq(p->is_int, 1);
            ck_assert(p->as_int == 9007199254740993LL);
            ck_assert_uint_eq(p->n_exemplars, 1);
            ck_assert_int_eq(p->exemplars[0].has_trace_id, 1);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "queue.delta") == 0) {
            ck_assert_int_eq(p->metric->temporality, MODEL_TEMPORALITY_DELTA);
            ck_assert_int_eq(p->metric->monotonic, 0);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "http.duration.exp") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_EXP_HISTOGRAM);
            ck_assert_int_eq(p->scale, -1);
            ck_assert_uint_eq(p->n_positive, 2);
            seen++;
        } else if (strcmp(p->metric->name.ptr, "rpc.latency") == 0) {
            ck_assert_int_eq(p->metric->type, MODEL_METRIC_SUMMARY);
            ck_assert_uint_eq(p->n_quantiles, 2);
            seen++;
        }
    }
    ck_assert_uint_eq(seen, 4);
    model_batch_free(b);
    free(json);
}
END_TEST

/* The JS SDK's JSON and protobuf of the same telemetry decode to the same
 * items. */
START_TEST(e2e_js_json_and_protobuf_agree) {
    static const struct {
        model_signal sig;
        const char *name;
    } cases[] = {{MODEL_SIGNAL_TRACES, "traces"}, {MODEL_SIGNAL_LOGS, "logs"},
                 {MODEL_SIGNAL_METRICS, "metrics"}, {MODEL_SIGNAL_METRICS, "metrics_delta"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char file[64];
        size_t jlen, plen;
        snprintf(file, sizeof(file), "js_%s.json", cases[i].name);
        char *json = read_fixture(file, &jlen);
        snprintf(file, sizeof(file), "js_%s.pb", cases[i].name);
        char *pb = read_fixture(file, &plen);
        model_batch *bj = decode_ok(cases[i].sig, json, jlen);
        model_batch *bp = NULL;
        char err[256];
        ck_assert_int_eq(otlp_decode_pb(cases[i].sig, (const uint8_t *)pb, plen, 0, &bp, err, sizeof(err)),
                         OTLP_OK);
        ck_assert_int_eq(bj->rejected, 0);
        ck_assert_int_eq(bp->rejected, 0);
        ck_assert_uint_gt(model_batch_items(bj), 2);
        ck_assert_uint_eq(model_batch_items(bj), model_batch_items(bp));
        for (size_t k = 0; k < bj->n_spans; k++) {
            ck_assert_mem_eq(bj->spans[k].trace_id, bp->spans[k].trace_id, 16);
            ck_assert_mem_eq(bj->spans[k].span_id, bp->spans[k].span_id, 8);
            ck_assert_str_eq(bj->spans[k].name.ptr, bp->spans[k].name.ptr);
            ck_assert_uint_eq(bj->spans[k].start_ns, bp->spans[k].start_ns);
            ck_assert_uint_eq(bj->spans[k].attrs.n, bp->spans[k].attrs.n);
        }
        for (size_t k = 0; k < bj->n_logs; k++) {
            ck_assert_int_eq(bj->logs[k].body.type, bp->logs[k].body.type);
            ck_assert_uint_eq(bj->logs[k].time_ns, bp->logs[k].time_ns);
            ck_assert_int_eq(bj->logs[k].severity_number, bp->logs[k].severity_number);
        }
        for (size_t k = 0; k < bj->n_points; k++) {
            ck_assert_str_eq(bj->points[k].metric->name.ptr, bp->points[k].metric->name.ptr);
            ck_assert_int_eq(bj->points[k].metric->temporality, bp->points[k].metric->temporality);
            ck_assert_uint_eq(bj->points[k].count, bp->points[k].count);
            ck_assert_uint_eq(bj->points[k].n_positive, bp->points[k].n_positive);
        }
        model_batch_free(bj);
        model_batch_free(bp);
        free(pb);
        free(json);
    }
}
END_TEST

START_TEST(e2e_invalid_hex_rejects_only_that_item) {
    static const char *const bad_spans[] = {
        "\"traceId\":\"zz8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b17\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"parentSpanId\":\"not hex!\"",
        "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"links\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"xyz\"}]",
        "\"spanId\":\"eee19b7ec3c1b174\"", /* no trace id at all */
    };
    for (size_t i = 0; i < sizeof(bad_spans) / sizeof(bad_spans[0]); i++) {
        char json[1024];
        snprintf(json, sizeof(json),
                 "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
                 "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"0000000000000001\",\"name\":\"a\"},"
                 "{%s,\"name\":\"bad\"},"
                 "{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"0000000000000002\",\"name\":\"c\"}"
                 "]}]}]}",
                 bad_spans[i]);
        model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, strlen(json));
        ck_assert_msg(b->n_spans == 2, "case %zu: %zu spans", i, b->n_spans);
        ck_assert_int_eq(b->rejected, 1);
        ck_assert_uint_gt(b->reject_message.len, 0);
        ck_assert_str_eq(b->spans[0].name.ptr, "a");
        ck_assert_str_eq(b->spans[1].name.ptr, "c");
        model_batch_free(b);
    }
    const char *logs = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
                       "{\"body\":{\"stringValue\":\"ok\"},\"traceId\":\"\",\"spanId\":\"\"},"
                       "{\"body\":{\"stringValue\":\"bad\"},\"traceId\":\"g\"},"
                       "{\"body\":{\"stringValue\":\"ok2\"},\"spanId\":\"eee19b7ec3c1b174\"}]}]}]}";
    model_batch *b = decode_ok(MODEL_SIGNAL_LOGS, logs, strlen(logs));
    ck_assert_uint_eq(b->n_logs, 2);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_int_eq(b->logs[1].has_span_id, 1);
    model_batch_free(b);
    const char *metrics = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"g\","
                          "\"gauge\":{\"dataPoints\":[{\"asInt\":1},{\"asInt\":2,\"exemplars\":["
                          "{\"asInt\":1,\"traceId\":\"nothex\"}]},{\"asInt\":3}]}}]}]}]}";
    b = decode_ok(MODEL_SIGNAL_METRICS, metrics, strlen(metrics));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
}
END_TEST

START_TEST(e2e_deep_values_reject_the_item) {
    for (int kv = 0; kv <= 1; kv++) {
        /* MODEL_MAX_VALUE_DEPTH containers are fine, one more is not, and
         * far more (cut by the mapper) is not either. */
        static const size_t levels[] = {MODEL_MAX_VALUE_DEPTH, MODEL_MAX_VALUE_DEPTH + 1,
                                        OTLP_JSON_MAX_VALUE_DEPTH + 1, 400};
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
            char *json = nested_value_json(levels[i], kv);
            /* give the span valid ids so only depth can reject it */
            const char *at = strstr(json, "{\"attributes\"");
            ck_assert_ptr_nonnull(at);
            size_t head = (size_t)(at - json) + 1, len = strlen(json);
            const char *ids = "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",";
            char *full = malloc(len + strlen(ids) + 1);
            ck_assert_ptr_nonnull(full);
            memcpy(full, json, head);
            memcpy(full + head, ids, strlen(ids));
            memcpy(full + head + strlen(ids), json + head, len - head + 1);
            model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, full, strlen(full));
            if (levels[i] <= MODEL_MAX_VALUE_DEPTH) {
                ck_assert_msg(b->n_spans == 1 && b->rejected == 0, "depth %zu rejected", levels[i]);
            } else {
                ck_assert_msg(b->n_spans == 0 && b->rejected == 1, "depth %zu kept", levels[i]);
                ck_assert_msg(strstr(b->reject_message.ptr, "nested") != NULL, "%s",
                              b->reject_message.ptr);
            }
            model_batch_free(b);
            free(full);
            free(json);
        }
    }
}
END_TEST

START_TEST(e2e_failures) {
    decode_fail(MODEL_SIGNAL_TRACES, "{\"resourceSpans\":5}", 19, 0, OTLP_EDECODE,
                "resourceSpans: expected an array");
    decode_fail(MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[", 17, 0, OTLP_EDECODE, "invalid JSON");
    decode_fail(MODEL_SIGNAL_METRICS, "[]", 2, 0, OTLP_EDECODE, "must be a JSON object");
    char *deep = nested_value_json(10000, 0);
    decode_fail(MODEL_SIGNAL_TRACES, deep, strlen(deep), 0, OTLP_EDECODE, "invalid JSON");
    free(deep);

    /* The batch's mem_limit: the temporary structs or the batch overflow. */
    size_t len;
    char *json = attribute_heavy_json(200, 20, &len);
    model_batch *b = decode_ok(MODEL_SIGNAL_TRACES, json, len);
    ck_assert_uint_eq(b->n_spans, 200);
    size_t bytes = model_batch_bytes(b);
    model_batch_free(b);
    decode_fail(MODEL_SIGNAL_TRACES, json, len, bytes / 4, OTLP_ETOOBIG, "memory limit");
    decode_fail(MODEL_SIGNAL_TRACES, json, len, 4096, OTLP_ETOOBIG, "memory limit");
    b = NULL;
    char err[256];
    ck_assert_int_eq(otlp_decode_json(MODEL_SIGNAL_TRACES, json, len, bytes * 4, &b, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_le(model_batch_bytes(b), bytes * 4);
    model_batch_free(b);
    free(json);

    /* An empty request is an empty batch. */
    b = decode_ok(MODEL_SIGNAL_LOGS, "{}", 2);
    ck_assert_uint_eq(model_batch_items(b), 0);
    model_batch_free(b);
}
END_TEST

/* ---- answers ------------------------------------------------------------ */

START_TEST(response_json) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, "ignored", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 3, "span 2: invalid trace id", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":"
                            "\"span 2: invalid trace id\"}}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_LOGS, 9007199254740993LL, "a \"q\"\n", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedLogRecords\":\"9007199254740993\","
                            "\"errorMessage\":\"a \\\"q\\\"\\n\"}}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_METRICS, 1, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedDataPoints\":\"1\"}}");
    buf_free(&b);

    /* Appends after what is there; on overflow the buf is left as it was. */
    buf_init(&b, 20);
    ck_assert_int_eq(buf_append_str(&b, "x:"), BUF_OK);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 0, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "x:{}");
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_TRACES, 5, "a long message here", &b), OTLP_ETOOBIG);
    ck_assert_str_eq(b.ptr, "x:{}");
    ck_assert_uint_eq(b.len, 4);
    buf_free(&b);

    /* The answer parses back as the request parser's own format. */
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_response_json(MODEL_SIGNAL_METRICS, 42, "m", &b), OTLP_OK);
    json_error_t jerr;
    json_t *root = json_loadb(b.ptr, b.len, 0, &jerr);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "partialSuccess"),
                                                       "rejectedDataPoints")),
                     "42");
    json_decref(root);
    buf_free(&b);
}
END_TEST

START_TEST(status_json) {
    buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_INVALID_ARGUMENT, "bad <json>", &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"code\":3,\"message\":\"bad \\u003cjson\\u003e\"}");
    buf_reset(&b);
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_UNAVAILABLE, NULL, &b), OTLP_OK);
    ck_assert_str_eq(b.ptr, "{\"code\":14}");
    buf_reset(&b);
    /* Invalid UTF-8 in the message still gives valid JSON. */
    ck_assert_int_eq(otlp_status_json(OTLP_GRPC_RESOURCE_EXHAUSTED, "x\xff", &b), OTLP_OK);
    json_error_t jerr;
    json_t *root = json_loadb(b.ptr, b.len, 0, &jerr);
    ck_assert_msg(root != NULL, "%s", jerr.text);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "code")), 8);
    json_decref(root);
    buf_free(&b);

    buf_init(&b, 8);
    ck_assert_int_eq(otlp_status_json(3, "too long for the buffer", &b), OTLP_ETOOBIG);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_json_decode");
    TCase *tc = tcase_create("e2e");
    tcase_add_test(tc, e2e_traces);
    tcase_add_test(tc, e2e_logs_and_metrics);
    tcase_add_test(tc, e2e_js_json_and_protobuf_agree);
    tcase_add_test(tc, e2e_invalid_hex_rejects_only_that_item);
    tcase_add_test(tc, e2e_deep_values_reject_the_item);
    tcase_add_test(tc, e2e_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("answers");
    tcase_add_test(tc, response_json);
    tcase_add_test(tc, status_json);
    suite_add_tcase(s, tc);
    return decode_run(s);
}
