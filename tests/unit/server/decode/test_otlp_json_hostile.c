/* test_otlp_json_hostile.c - OTLP JSON that is wrong, truncated, nested too
 * deep, too large or corrupted (server/decode/otlp_json.c): clear errors,
 * bounded memory and stack, never a crash. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_fixture.h"

START_TEST(wrong_types_name_the_field) {
    static const struct {
        model_signal sig;
        const char *json;
        const char *needle;
    } cases[] = {
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":5}", "OTLP JSON: resourceSpans: expected an array, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":{}}", "resourceSpans: expected an array, got an object"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[5]}", "resourceSpans[0]: expected an object, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":5}]}]}",
         "resourceSpans[0].scopeSpans[0].spans: expected an array, got a number"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{},{\"spans\":[{},{\"name\":{}}]}]}]}",
         "resourceSpans[0].scopeSpans[1].spans[1].name: expected a string, got an object"},
        {MODEL_SIGNAL_TRACES, "{\"resource_spans\":[{\"resource\":[]}]}",
         "resource_spans[0].resource: expected an object, got an array"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":true}]}]}]}",
         "spans[0].kind: expected an integer, got a boolean"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":1.5}]}]}]}",
         "spans[0].kind: expected an integer"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"12abc\"}]}]}]}",
         "startTimeUnixNano: expected an integer, got the string \"12abc\""},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"\"}]}]}]}",
         "startTimeUnixNano: expected an integer"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":[]}]}]}]}",
         "startTimeUnixNano: expected an integer, got an array"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":1}]}]}]}]}",
         "spans[0].attributes[0].key: expected a string, got a number"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"boolValue\":\"true\"}}]}]}]}]}",
         "attributes[0].value.boolValue: expected a boolean, got a string"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":{\"values\":{}}}}]}]}]}]}",
         "value.arrayValue.values: expected an array, got an object"},
        {MODEL_SIGNAL_TRACES,
         "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":\"str\"}]}]}]}]}",
         "attributes[0].value: expected an object, got a string"},
        {MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":{\"code\":{}}}]}]}]}",
         "spans[0].status.code: expected an integer, got an object"},
        {MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":\"hello\"}]}]}]}",
         "logRecords[0].body: expected an object, got a string"},
        {MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":[9]}]}]}]}",
         "logRecords[0].severityNumber: expected an integer, got an array"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[1,null]}]}}]}]}]}",
         "dataPoints[0].bucketCounts[1]: null is not allowed here"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[1,\"x\"]}]}}]}]}]}",
         "explicitBounds[1]: expected a number, got the string \"x\""},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{\"isMonotonic\":1}}]}]}]}",
         "metrics[0].sum.isMonotonic: expected a boolean, got a number"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":[{\"asInt\":1.5}]}}]}]}]}",
         "dataPoints[0].asInt: expected an integer"},
        {MODEL_SIGNAL_METRICS,
         "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":2147483648}]}}]}]}]}",
         "dataPoints[0].scale: integer out of range"},
        {MODEL_SIGNAL_METRICS, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"summary\":[]}]}]}]}",
         "metrics[0].summary: expected an object, got an array"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fail(cases[i].sig, cases[i].json, strlen(cases[i].json), OTLP_EDECODE, cases[i].needle);
}
END_TEST

START_TEST(invalid_and_truncated_json) {
    size_t len;
    char *json = read_fixture("traces.json", &len);
    /* Every proper prefix of a valid request is invalid JSON, never a crash. */
    for (size_t n = 0; n < len; n++) {
        /* whitespace-only tails are still valid: skip them */
        if (n > 0 && strspn(json + n, " \n\t\r") == len - n)
            break;
        otlp_json_doc doc;
        char err[256];
        int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, json, n, 0, err, sizeof(err));
        ck_assert_msg(rc == OTLP_EDECODE, "prefix %zu: rc %d", n, rc);
        ck_assert_msg(strstr(err, "invalid JSON") != NULL, "prefix %zu: %s", n, err);
    }
    free(json);

    parse_fail(MODEL_SIGNAL_TRACES, "{\"resourceSpans\":[{", 19, OTLP_EDECODE, "line 1, column 19");
    parse_fail(MODEL_SIGNAL_TRACES, "", 0, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, NULL, 0, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{} {}", 5, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":1,}", 8, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":'x'}", 9, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\"\xff\"}", 8, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\"\\ud800\"}", 14, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{\"a\":\0}", 7, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "{}\0", 3, OTLP_EDECODE, "invalid JSON");
    /* The root must be an object. */
    parse_fail(MODEL_SIGNAL_TRACES, "[]", 2, OTLP_EDECODE, "must be a JSON object, got an array");
    parse_fail(MODEL_SIGNAL_TRACES, "[{\"resourceSpans\":[]}]", 22, OTLP_EDECODE, "must be a JSON object");
    parse_fail(MODEL_SIGNAL_TRACES, "42", 2, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "\"x\"", 3, OTLP_EDECODE, "invalid JSON");
    parse_fail(MODEL_SIGNAL_TRACES, "null", 4, OTLP_EDECODE, "invalid JSON");
    /* The body need not be NUL-terminated: only len bytes are read. */
    parse_fail(MODEL_SIGNAL_LOGS, "{\"resourceLogs\":[]}", 10, OTLP_EDECODE, "invalid JSON");
    /* An unknown signal. */
    parse_fail((model_signal)7, "{}", 2, OTLP_EDECODE, "unknown signal");
    /* errlen 0 and a NULL err are allowed. */
    otlp_json_doc doc;
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, "[", 1, 0, NULL, 0), OTLP_EDECODE);
    char tiny[4] = "xyz";
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, "{\"resourceSpans\":1}", 19, 0,
                                         tiny, sizeof(tiny)),
                     OTLP_EDECODE);
    ck_assert_str_eq(tiny, "OTL");
}
END_TEST

/* Counts nested containers in a mapped AnyValue; *leaf gets the innermost. */
static size_t count_containers(const pb_any *v, const pb_any **leaf) {
    size_t n = 0;
    for (size_t guard = 0; guard < 100000; guard++) {
        if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE) {
            n++;
            if (v->array_value->n_values == 0)
                break;
            v = v->array_value->values[0];
        } else if (v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE) {
            n++;
            if (v->kvlist_value->n_values == 0)
                break;
            v = v->kvlist_value->values[0]->value;
        } else {
            break;
        }
    }
    *leaf = v;
    return n;
}

START_TEST(deep_values_are_cut_one_past_the_limit) {
    for (int kv = 0; kv <= 1; kv++) {
        /* Up to the cap: mapped whole, down to the leaf. */
        for (size_t levels = MODEL_MAX_VALUE_DEPTH - 1; levels <= OTLP_JSON_MAX_VALUE_DEPTH; levels++) {
            char *json = nested_value_json(levels, kv);
            otlp_json_doc doc;
            parse_ok(&doc, MODEL_SIGNAL_TRACES, json);
            const pb_any *leaf;
            ck_assert_uint_eq(count_containers(only_span(&doc)->attributes[0]->value, &leaf), levels);
            ck_assert_int_eq(leaf->value_case,
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
            ck_assert_str_eq(leaf->string_value, "leaf");
            otlp_json_doc_free(&doc);
            free(json);
        }
        /* Deeper (up to what jansson parses): cut to cap + 1 containers, the
         * last one empty, so the value is still too deep for the converter. */
        static const size_t deep[] = {OTLP_JSON_MAX_VALUE_DEPTH + 1, OTLP_JSON_MAX_VALUE_DEPTH + 2, 100, 500};
        for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
            char *json = nested_value_json(deep[i], kv);
            otlp_json_doc doc;
            parse_ok(&doc, MODEL_SIGNAL_TRACES, json);
            const pb_any *leaf;
            ck_assert_uint_eq(count_containers(only_span(&doc)->attributes[0]->value, &leaf),
                              OTLP_JSON_MAX_VALUE_DEPTH + 1);
            ck_assert_uint_gt(OTLP_JSON_MAX_VALUE_DEPTH + 1, MODEL_MAX_VALUE_DEPTH);
            ck_assert_int_ne(leaf->value_case,
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
            otlp_json_doc_free(&doc);
            free(json);
        }
    }
}
END_TEST

START_TEST(ten_thousand_deep_nesting) {
    /* Plain arrays inside an unknown field, AnyValues, and objects: jansson
     * refuses them (depth > 2048) with a clean error. */
    const size_t depth = 10000;
    char *s = malloc(2 * depth + 64);
    ck_assert_ptr_nonnull(s);
    size_t o = 0;
    o += (size_t)snprintf(s, 64, "{\"x\":");
    memset(s + o, '[', depth);
    o += depth;
    memset(s + o, ']', depth);
    o += depth;
    s[o++] = '}';
    parse_fail(MODEL_SIGNAL_LOGS, s, o, OTLP_EDECODE, "invalid JSON");
    free(s);

    char *json = nested_value_json(depth, 0);
    parse_fail(MODEL_SIGNAL_TRACES, json, strlen(json), OTLP_EDECODE, "invalid JSON");
    free(json);
    json = nested_value_json(depth, 1);
    parse_fail(MODEL_SIGNAL_TRACES, json, strlen(json), OTLP_EDECODE, "invalid JSON");
    free(json);
}
END_TEST

/* A receiving thread may have a small stack: the deepest JSON jansson
 * accepts, mapped and freed, must fit in 1 MiB (several times the need). */
static void *deep_in_thread(void *arg) {
    (void)arg;
    char *json = nested_value_json(679, 0); /* 10 + 3 * 679 + 1 = 2048 JSON levels */
    otlp_json_doc doc;
    char err[256];
    int rc = otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, json, strlen(json), 0, err, sizeof(err));
    otlp_json_doc_free(&doc);
    free(json);
    return (void *)(intptr_t)(rc == OTLP_OK ? 1 : 2);
}

START_TEST(deepest_accepted_json_fits_a_small_stack) {
    pthread_attr_t at;
    pthread_t t;
    void *res = NULL;
    ck_assert_int_eq(pthread_attr_init(&at), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&at, 1 << 20), 0);
    ck_assert_int_eq(pthread_create(&t, &at, deep_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &res), 0);
    pthread_attr_destroy(&at);
    ck_assert_int_eq((int)(intptr_t)res, 1);
}
END_TEST

START_TEST(struct_arena_limit) {
    /* 2,000 empty spans: about 3 bytes of JSON each, a struct each. */
    size_t n = 2000;
    char *s = malloc(n * 3 + 128);
    ck_assert_ptr_nonnull(s);
    size_t o = (size_t)snprintf(s, 128, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, i ? ",{}" : "{}", i ? 3 : 2);
        o += i ? 3 : 2;
    }
    memcpy(s + o, "]}]}]}", 7);
    o += 6;

    otlp_json_doc doc;
    char err[256];
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 0, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(((const trace_req *)doc.msg)->resource_spans[0]->scope_spans[0]->n_spans, n);
    size_t used = arena_footprint(doc.arena);
    otlp_json_doc_free(&doc);
    ck_assert_uint_gt(used, n * sizeof(pb_span));

    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, used / 2, err, sizeof(err)),
                     OTLP_ETOOBIG);
    ck_assert_ptr_null(doc.msg);
    ck_assert_msg(strstr(err, "structs would exceed") != NULL, "%s", err);
    /* A tiny limit fails cleanly too. */
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 100, err, sizeof(err)),
                     OTLP_ETOOBIG);
    /* A limit with room to spare works. */
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, used * 2, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_le(arena_footprint(doc.arena), used * 2);
    otlp_json_doc_free(&doc);
    free(s);

    ck_assert_uint_eq(otlp_json_transient_limit(0), OTLP_JSON_TREE_SLACK);
    ck_assert_uint_eq(otlp_json_transient_limit(1000), 1000 * OTLP_JSON_TREE_FACTOR + OTLP_JSON_TREE_SLACK);
    ck_assert_uint_eq(otlp_json_transient_limit(SIZE_MAX / 2), SIZE_MAX);
}
END_TEST

START_TEST(json_tree_is_bounded_by_the_body_length) {
    /* 100,000 empty objects: 300 KB that jansson would grow to ~20 MB. */
    size_t n = 100000;
    char *s = malloc(n * 3 + 16);
    ck_assert_ptr_nonnull(s);
    size_t o = (size_t)snprintf(s, 16, "{\"x\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, i ? ",{}" : "{}", i ? 3 : 2);
        o += i ? 3 : 2;
    }
    memcpy(s + o, "]}", 2);
    o += 2;
    otlp_json_doc doc;
    char err[256];
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o, 0, err, sizeof(err)),
                     OTLP_ETOOBIG);
    ck_assert_ptr_null(doc.root);
    ck_assert_msg(strstr(err, "JSON tree would exceed") != NULL, "%s", err);
    /* A hundredth of it is within the slack. */
    o = strlen("{\"x\":[") + 2 + 3 * (n / 100 - 1);
    memcpy(s + o, "]}", 2);
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, o + 2, 0, err, sizeof(err)),
                     OTLP_OK);
    otlp_json_doc_free(&doc);
    free(s);

    /* Real payloads, however many small attributes, fit. */
    size_t len;
    s = attribute_heavy_json(300, 60, &len);
    ck_assert_uint_gt(len, OTLP_JSON_TREE_SLACK / 4);
    ck_assert_int_eq(otlp_json_doc_parse(&doc, MODEL_SIGNAL_TRACES, s, len, 0, err, sizeof(err)),
                     OTLP_OK);
    ck_assert_uint_eq(((const trace_req *)doc.msg)->resource_spans[0]->scope_spans[0]->n_spans, 300);
    otlp_json_doc_free(&doc);
    free(s);

    /* Other jansson users are unaffected: no budget outside a parse. */
    json_t *big = json_array();
    for (size_t i = 0; i < 100000; i++)
        ck_assert_int_eq(json_array_append_new(big, json_object()), 0);
    ck_assert_uint_eq(json_array_size(big), 100000);
    json_decref(big);
}
END_TEST

/* ---- hostile input: random corruption of the fixtures ------------------- */

START_TEST(corrupted_fixtures_never_crash) {
    static const char *const files[] = {"traces.json", "logs.json", "metrics.json", "js_traces.json",
                                        "js_logs.json", "js_metrics.json"};
    static const model_signal sigs[] = {MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS,
                                        MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS};
    static const char repl[] = "{}[]\",:0-9eE.\\ntfu\x01\xff";
    uint32_t seed = 12345;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t len;
        char *orig = read_fixture(files[f], &len);
        char *mut = malloc(len + 1);
        ck_assert_ptr_nonnull(mut);
        int ok = 0, bad = 0;
        for (int round = 0; round < 400; round++) {
            memcpy(mut, orig, len);
            for (int k = 0; k < 1 + round % 4; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                mut[pos] = repl[(seed >> 8) % (sizeof(repl) - 1)];
            }
            otlp_json_doc doc;
            char err[256];
            int rc = otlp_json_doc_parse(&doc, sigs[f], mut, len, 1 << 20, err, sizeof(err));
            ck_assert_msg(rc == OTLP_OK || rc == OTLP_EDECODE, "rc %d", rc);
            if (rc == OTLP_OK) {
                ck_assert(protobuf_c_message_check(doc.msg));
                ok++;
            } else {
                ck_assert(err[0] != '\0');
                bad++;
            }
            otlp_json_doc_free(&doc);
        }
        ck_assert_int_gt(bad, 0);
        free(mut);
        free(orig);
        (void)ok;
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("otlp_json_hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_test(tc, wrong_types_name_the_field);
    tcase_add_test(tc, invalid_and_truncated_json);
    tcase_add_test(tc, deep_values_are_cut_one_past_the_limit);
    tcase_add_test(tc, ten_thousand_deep_nesting);
    tcase_add_test(tc, deepest_accepted_json_fits_a_small_stack);
    tcase_add_test(tc, struct_arena_limit);
    tcase_add_test(tc, json_tree_is_bounded_by_the_body_length);
    tcase_add_test(tc, corrupted_fixtures_never_crash);
    suite_add_tcase(s, tc);
    return decode_run(s);
}
