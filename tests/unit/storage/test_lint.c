/* Tests for storage/lint.c: rule ids and hints, the deprecated-name table,
 * and each rule's check on built model items. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "storage/lint.h"
#include "store_fixture.h"

START_TEST(rules_have_ids_severities_and_hints) {
    for (int r = 0; r < LINT_RULES; r++) {
        const char *id = lint_rule_id(r);
        ck_assert_ptr_nonnull(id);
        ck_assert_int_eq(lint_rule_by_id(id), r);
        ck_assert_ptr_nonnull(lint_severity_name(lint_rule_severity(r)));
        char hint[512];
        lint_hint(r, "", hint, sizeof(hint));
        ck_assert_uint_gt(strlen(hint), 20);
    }
    ck_assert_ptr_null(lint_rule_id(LINT_RULES));
    ck_assert_ptr_null(lint_rule_id(-1));
    ck_assert_int_eq(lint_rule_by_id("no-such-rule"), -1);
    ck_assert_int_eq(lint_rule_by_id(NULL), -1);
    ck_assert_str_eq(lint_rule_id(LINT_DEPRECATED_ATTRIBUTE), "deprecated-attribute");
    ck_assert_int_eq(lint_rule_severity(LINT_MISSING_SERVICE_NAME), LINT_ERROR);
    ck_assert_int_eq(lint_severity_by_name("warning"), LINT_WARNING);
    ck_assert_int_eq(lint_severity_by_name("fatal"), 0);
    ck_assert_ptr_null(lint_severity_name(0));
}
END_TEST

START_TEST(hints_name_the_replacement_and_the_limits) {
    char hint[512];
    lint_hint(LINT_DEPRECATED_ATTRIBUTE, "http.method", hint, sizeof(hint));
    ck_assert_ptr_nonnull(strstr(hint, "http.method to http.request.method"));
    ck_assert_ptr_nonnull(strstr(hint, LINT_SEMCONV_VERSION));
    lint_hint(LINT_DEPRECATED_ATTRIBUTE, "http.target", hint, sizeof(hint));
    ck_assert_ptr_nonnull(strstr(hint, "url.path and url.query"));
    lint_hint(LINT_DROPPED_DATA, LINT_KEY_LOUPE, hint, sizeof(hint));
    ck_assert_ptr_nonnull(strstr(hint, "--max-attributes"));
    lint_hint(LINT_DROPPED_DATA, LINT_KEY_SDK, hint, sizeof(hint));
    ck_assert_ptr_nonnull(strstr(hint, "OTEL_ATTRIBUTE_COUNT_LIMIT"));
    char tiny[8];
    lint_hint(LINT_ORPHAN_SPAN, "", tiny, sizeof(tiny));
    ck_assert_uint_eq(strlen(tiny), 7);
}
END_TEST

START_TEST(deprecated_table_finds_every_entry_and_no_current_name) {
    size_t n;
    const lint_deprecated *t = lint_deprecated_table(&n);
    ck_assert_uint_gt(n, 100);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_eq(lint_deprecated_find(t[i].name, strlen(t[i].name)), &t[i]);
        ck_assert_msg((t[i].renamed != NULL) != (t[i].note != NULL), "%s", t[i].name);
        /* a replacement is a current name */
        if (t[i].renamed != NULL)
            ck_assert_msg(lint_deprecated_find(t[i].renamed, strlen(t[i].renamed)) == NULL,
                          "%s -> %s", t[i].name, t[i].renamed);
        for (size_t j = i + 1; j < n; j++)
            ck_assert_msg(strcmp(t[i].name, t[j].name) != 0, "twice: %s", t[i].name);
    }
    static const char *const current[] = {
        "http.request.method", "http.response.status_code", "url.full", "url.path", "url.query",
        "http.route", "db.system.name", "db.namespace", "db.query.text", "server.address",
        "service.name", "service.peer.name", "user_agent.original", "network.peer.address",
        "client.address", "exception.type", "gen_ai.provider.name", "gen_ai.request.model",
        "", "h", "http", "http.", "db.systemx", "xdb.system", "http.method.x"};
    for (size_t i = 0; i < sizeof(current) / sizeof(current[0]); i++)
        ck_assert_msg(lint_deprecated_find(current[i], strlen(current[i])) == NULL, "%s",
                      current[i]);
    /* the key is a slice: bytes after len do not count */
    ck_assert_ptr_nonnull(lint_deprecated_find("db.systemXYZ", 9));
    ck_assert_str_eq(lint_deprecated_find("db.system", 9)->renamed, "db.system.name");
    ck_assert_str_eq(lint_deprecated_find("net.peer.name", 13)->name, "net.peer.name");
}
END_TEST

START_TEST(service_unnamed) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    ck_assert_int_eq(lint_service_unnamed(fx_resource(b, "checkout", NULL)), 0);
    ck_assert_int_eq(lint_service_unnamed(fx_resource(b, "unknown_service", NULL)), 1);
    ck_assert_int_eq(lint_service_unnamed(fx_resource(b, "unknown_service:node", NULL)), 1);
    ck_assert_int_eq(lint_service_unnamed(fx_resource(b, "unknown_services", NULL)), 0);
    ck_assert_int_eq(lint_service_unnamed(fx_resource(b, "my_unknown_service", NULL)), 0);
    model_resource *r = fx_resource(b, "x", NULL);
    r->service_name = model_str_empty;
    ck_assert_int_eq(lint_service_unnamed(r), 1);
    ck_assert_int_eq(lint_service_unnamed(NULL), 1);
    model_batch_free(b);
}
END_TEST

/* A span with the attributes keys[] (string values "v"). */
static model_span *span_with(model_batch *b, model_span_kind kind, const char *const *keys,
                             size_t n) {
    static uint64_t next = 1;
    fx_spans(b, 1);
    model_span *sp = fx_span(b, NULL, NULL, next, next, 0, "GET /", 100, 200);
    next++;
    sp->kind = kind;
    sp->attrs.items = fx_kvs(b, n);
    sp->attrs.n = n;
    for (size_t i = 0; i < n; i++)
        fx_kv_str(b, &sp->attrs.items[i], keys[i], "v");
    return sp;
}

START_TEST(span_kind_of_incoming_http) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    static const char *const stable[] = {"http.request.method", "url.path", "url.scheme"};
    static const char *const routed[] = {"http.route", "http.request.method"};
    static const char *const old[] = {"http.method", "http.target"};
    static const char *const client[] = {"http.request.method", "url.full"};
    static const char *const path_only[] = {"url.path"};
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_INTERNAL, stable, 3)), 1);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_UNSPECIFIED, routed, 2)),
                     1);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_INTERNAL, old, 2)), 1);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_SERVER, stable, 3)), 0);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_CLIENT, stable, 3)), 0);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_INTERNAL, client, 2)), 0);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_INTERNAL, path_only, 1)),
                     0);
    ck_assert_int_eq(lint_span_kind_suspect(span_with(b, MODEL_SPAN_KIND_INTERNAL, NULL, 0)), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(exception_without_error_status) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_span *sp = span_with(b, MODEL_SPAN_KIND_SERVER, NULL, 0);
    ck_assert_int_eq(lint_span_error_unflagged(sp), 0);
    sp->events = arena_calloc(b->arena, 2, sizeof(*sp->events));
    sp->n_events = 2;
    sp->events[0].name = fx_str(b, "retry");
    sp->events[1].name = fx_str(b, "exceptions"); /* not the exception event */
    ck_assert_int_eq(lint_span_error_unflagged(sp), 0);
    sp->events[1].name = fx_str(b, "exception");
    ck_assert_int_eq(lint_span_error_unflagged(sp), 1);
    sp->status_code = MODEL_STATUS_OK;
    ck_assert_int_eq(lint_span_error_unflagged(sp), 1);
    sp->status_code = MODEL_STATUS_ERROR;
    ck_assert_int_eq(lint_span_error_unflagged(sp), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(dropped_counts_apart_from_loupes_own) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_span *sp = span_with(b, MODEL_SPAN_KIND_SERVER, NULL, 0);
    ck_assert_uint_eq(lint_span_sdk_dropped(sp), 0);
    sp->dropped_attrs = 3;
    sp->dropped_links = 1;
    sp->events = arena_calloc(b->arena, 1, sizeof(*sp->events));
    sp->n_events = 1;
    sp->events[0].name = fx_str(b, "e");
    sp->events[0].dropped_attrs = 2;
    ck_assert_uint_eq(lint_span_sdk_dropped(sp), 6);
    sp->limited.dropped = 4; /* loupe left out 4 of them */
    ck_assert_uint_eq(lint_span_sdk_dropped(sp), 2);
    sp->limited.dropped = 9; /* never below zero */
    ck_assert_uint_eq(lint_span_sdk_dropped(sp), 0);

    model_resource *r = fx_resource(b, "svc", NULL);
    r->dropped_attrs = UINT32_MAX;
    ck_assert_uint_eq(lint_resource_sdk_dropped(r), UINT32_MAX);
    ck_assert_uint_eq(lint_resource_sdk_dropped(NULL), 0);
    fx_logs(b, 1);
    model_log *l = fx_log(b, r, NULL, 5, 9, "x");
    l->dropped_attrs = 2;
    l->limited.dropped = 2;
    ck_assert_uint_eq(lint_log_sdk_dropped(l), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(log_severity) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    fx_logs(b, 2);
    ck_assert_int_eq(lint_log_unleveled(fx_log(b, NULL, NULL, 1, 0, "no level")), 1);
    model_log *l = fx_log(b, NULL, NULL, 1, 0, "text only");
    l->severity_text = fx_str(b, "INFO");
    ck_assert_int_eq(lint_log_unleveled(l), 1); /* text alone is not a level */
    l->severity_number = 9;
    ck_assert_int_eq(lint_log_unleveled(l), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(skew_of_a_child) {
    lint_span_times parent = {1000000000, 2000000000, MODEL_SPAN_KIND_CLIENT};
    lint_span_times child = {1100000000, 1900000000, MODEL_SPAN_KIND_SERVER};
    int after = -1;
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 0);
    ck_assert_int_eq(after, 0);
    child.start = 800000000; /* 200 ms before its parent */
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 200000000);
    ck_assert_int_eq(after, 0);
    child.start = 1100000000;
    child.end = 2500000000; /* 500 ms after */
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 500000000);
    ck_assert_int_eq(after, 1);
    child.start = 900000000; /* both: the larger one */
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 500000000);
    /* messaging children may outlive their producers */
    child.kind = MODEL_SPAN_KIND_CONSUMER;
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 0);
    child.kind = MODEL_SPAN_KIND_SERVER;
    parent.kind = MODEL_SPAN_KIND_PRODUCER;
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 0);
    parent.kind = MODEL_SPAN_KIND_CLIENT;
    /* unordered times say nothing */
    child.end = 1;
    ck_assert_uint_eq(lint_skew_ns(&child, &parent, &after), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, rules_have_ids_severities_and_hints);
    tcase_add_test(tc, hints_name_the_replacement_and_the_limits);
    tcase_add_test(tc, deprecated_table_finds_every_entry_and_no_current_name);
    tcase_add_test(tc, service_unnamed);
    tcase_add_test(tc, span_kind_of_incoming_http);
    tcase_add_test(tc, exception_without_error_status);
    tcase_add_test(tc, dropped_counts_apart_from_loupes_own);
    tcase_add_test(tc, log_severity);
    tcase_add_test(tc, skew_of_a_child);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
