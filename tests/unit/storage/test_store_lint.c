/* Tests for the lint at ingest (storage/store_lint.c) and its query
 * (storage/query_lint.c): each rule's findings from batches built by hand,
 * counts and examples summed across batches, parents that come late or
 * never, a metric's attribute sets, findings kept across a restart, dropped
 * with their segment, deleted with their service, and none with the lint
 * off. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/lint.h"
#include "storage/query.h"
#include "store_fixture.h"

#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC)

static store *open_store(store_config cfg) {
    store *s = NULL;
    char err[256];
    int rc = store_open(&cfg, &s, err, sizeof(err));
    ck_assert_msg(rc == STORE_OK, "store_open: %d %s", rc, err);
    return s;
}

static store *open_memory(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .lint_orphan_grace_ns = SEC / 5};
    return open_store(cfg);
}

/* GET /api/v1/lint (of service, NULL = all) parsed. */
static json_t *lint_doc(store *s, const char *service, int *qrc) {
    store_reader *r = NULL;
    ck_assert_int_eq(store_reader_open(s, &r), STORE_OK);
    buf out;
    buf_init(&out, (size_t)8 << 20);
    *qrc = query_lint(r, service, &out);
    json_t *doc = NULL;
    if (*qrc == QUERY_OK) {
        json_error_t e;
        doc = json_loadb(out.ptr, out.len, 0, &e);
        ck_assert_msg(doc != NULL, "not JSON: %s", e.text);
    }
    buf_free(&out);
    store_reader_close(r);
    return doc;
}

static json_t *lint_all(store *s) {
    int rc;
    json_t *d = lint_doc(s, NULL, &rc);
    ck_assert_int_eq(rc, QUERY_OK);
    return d;
}

/* The finding (rule, service, key) of doc, or NULL. */
static json_t *finding(json_t *doc, const char *rule, const char *service, const char *key) {
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "rule")), rule) == 0 &&
            strcmp(json_string_value(json_object_get(f, "service")), service) == 0 &&
            strcmp(json_string_value(json_object_get(f, "key")), key) == 0)
            return f;
    }
    return NULL;
}

static int64_t count_of(json_t *doc, const char *rule, const char *service, const char *key) {
    json_t *f = finding(doc, rule, service, key);
    return f ? json_integer_value(json_object_get(f, "count")) : 0;
}

static size_t examples_of(json_t *doc, const char *rule, const char *service, const char *key) {
    json_t *f = finding(doc, rule, service, key);
    return f ? json_array_size(json_object_get(f, "examples")) : 0;
}

/* Sets n string attributes keys[] on a span. */
static void span_attrs(model_batch *b, model_span *sp, const char *const *keys, size_t n) {
    sp->attrs.items = fx_kvs(b, n);
    sp->attrs.n = n;
    for (size_t i = 0; i < n; i++)
        fx_kv_str(b, &sp->attrs.items[i], keys[i], "v");
}

/* Polls lint until finding (rule, service, key) counts `want`, at most 5 s. */
static json_t *wait_count(store *s, const char *rule, const char *service, const char *key,
                          int64_t want) {
    for (int i = 0; i < 250; i++) {
        json_t *d = lint_all(s);
        if (count_of(d, rule, service, key) == want)
            return d;
        json_decref(d);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("%s of %s never counted %lld", rule, service, (long long)want);
    return NULL;
}

/* ---- spans -------------------------------------------------------------------------- */

/* A batch of bad spans of service "shop": a deprecated attribute on
 * three spans, an exception without an error status, an incoming HTTP root
 * of kind INTERNAL, dropped counts (the SDK's and loupe's). */
static model_batch *bad_spans(uint64_t trace) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "shop", NULL);
    model_scope *sc = fx_scope(b, "lib", "1");
    fx_spans(b, 4);
    static const char *const old_http[] = {"http.method", "http.target", "http.status_code"};
    model_span *root = fx_span(b, r, sc, trace, 1, 0, "GET /cart", T0, T0 + 10 * SEC / 1000);
    root->kind = MODEL_SPAN_KIND_INTERNAL;
    span_attrs(b, root, old_http, 3);
    model_span *db = fx_span(b, r, sc, trace, 2, 1, "SELECT", T0 + 1000, T0 + 2000);
    db->kind = MODEL_SPAN_KIND_CLIENT;
    static const char *const old_db[] = {"db.system", "http.method"};
    span_attrs(b, db, old_db, 2);
    model_span *ex = fx_span(b, r, sc, trace, 3, 1, "work", T0 + 3000, T0 + 4000);
    ex->kind = MODEL_SPAN_KIND_INTERNAL;
    ex->events = arena_calloc(b->arena, 1, sizeof(*ex->events));
    ex->n_events = 1;
    ex->events[0].name = fx_str(b, "exception");
    model_span *dr = fx_span(b, r, sc, trace, 4, 1, "dropped", T0 + 5000, T0 + 6000);
    dr->kind = MODEL_SPAN_KIND_INTERNAL;
    dr->dropped_attrs = 5;
    dr->limited.dropped = 2; /* 3 by the SDK, 2 by loupe */
    dr->limited.cut = 1;
    static const char *const one[] = {"http.method"};
    span_attrs(b, dr, one, 1);
    return b;
}

START_TEST(span_rules_count_and_give_examples) {
    store *s = open_memory();
    for (uint64_t t = 1; t <= 3; t++)
        ck_assert_int_eq(fx_commit(s, bad_spans(t)), STORE_OK);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "http.method"), 9);
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "http.target"), 3);
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "db.system"), 3);
    ck_assert_uint_eq(examples_of(d, "deprecated-attribute", "shop", "http.method"), 5);
    ck_assert_int_eq(count_of(d, "error-without-status", "shop", ""), 3);
    ck_assert_int_eq(count_of(d, "server-span-kind", "shop", ""), 3);
    ck_assert_int_eq(count_of(d, "dropped-data", "shop", "sdk"), 3);
    ck_assert_int_eq(count_of(d, "dropped-data", "shop", "loupe"), 3);
    ck_assert_str_eq(json_string_value(json_object_get(finding(d, "dropped-data", "shop", "sdk"),
                                                       "detail")),
                     "the latest: 3 attributes, events or links dropped by the sender");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
                                     finding(d, "dropped-data", "shop", "loupe"), "detail")),
                                 "2 attributes, events or links left out and 1 values cut"));
    ck_assert_int_eq(count_of(d, "missing-service-name", "shop", ""), 0);
    ck_assert_int_eq(count_of(d, "orphan-span", "shop", ""), 0);
    /* the hint names the replacement; an example names its span */
    json_t *f = finding(d, "deprecated-attribute", "shop", "db.system");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "hint")), "db.system.name"));
    ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "info");
    json_t *ex = json_array_get(json_object_get(f, "examples"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "signal")), "span");
    uint8_t span2[8], trace1[16];
    char hex[33];
    fx_id(span2, 8, 2);
    fx_id(trace1, 16, 1);
    model_hex_encode(span2, 8, hex);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "spanId")), hex);
    model_hex_encode(trace1, 16, hex);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "traceId")), hex);
    char ui[128];
    snprintf(ui, sizeof(ui), "/api/v1/traces/%s", hex);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "api")), ui);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ex, "ui")), "?span="));
    /* errors first, then warnings, then info */
    json_t *list = json_object_get(d, "findings");
    int prev = 4;
    size_t i;
    json_array_foreach(list, i, f) {
        int sev = lint_severity_by_name(json_string_value(json_object_get(f, "severity")));
        ck_assert_int_le(sev, prev);
        prev = sev;
    }
    json_t *sum = json_object_get(d, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "error")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(d, "semconvVersion")), LINT_SEMCONV_VERSION);
    json_decref(d);
    store_close(s);
}
END_TEST

START_TEST(unnamed_services_and_clean_spans) {
    store *s = open_memory();
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *unnamed = fx_resource(b, "unknown_service:node", NULL);
    model_resource *good = fx_resource(b, "api", NULL);
    fx_spans(b, 3);
    fx_span(b, unnamed, NULL, 1, 1, 0, "a", T0, T0 + 1000);
    fx_span(b, unnamed, NULL, 2, 2, 0, "b", T0, T0 + 1000);
    model_span *ok = fx_span(b, good, NULL, 3, 3, 0, "GET /", T0, T0 + 1000);
    static const char *const stable[] = {"http.request.method", "url.path", "http.route"};
    span_attrs(b, ok, stable, 3); /* a SERVER span of the current conventions */
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "missing-service-name", "unknown_service:node", ""), 2);
    ck_assert_str_eq(json_string_value(json_object_get(finding(d, "missing-service-name",
                                                               "unknown_service:node", ""),
                                                       "severity")),
                     "error");
    /* nothing about the clean service */
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(d, "findings"), i, f)
        ck_assert_str_ne(json_string_value(json_object_get(f, "service")), "api");
    json_decref(d);
    int rc;
    d = lint_doc(s, "api", &rc);
    ck_assert_int_eq(rc, QUERY_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "findings")), 0);
    json_decref(d);
    d = lint_doc(s, "no-such-service", &rc);
    ck_assert_int_eq(rc, QUERY_ENOTFOUND);
    store_close(s);
}
END_TEST

/* ---- parents -------------------------------------------------------------------------- */

/* One span of `service` in trace `trace` in a batch of its own: id span,
 * parent (0 = none), times, kind; incoming: with the attributes of an
 * incoming HTTP request. */
static model_batch *one_span(const char *service, uint64_t trace, uint64_t span, uint64_t parent,
                             uint64_t start, uint64_t end, model_span_kind kind, int incoming) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    fx_spans(b, 1);
    model_span *sp =
        fx_span(b, fx_resource(b, service, NULL), NULL, trace, span, parent, "op", start, end);
    sp->kind = kind;
    static const char *const http[] = {"http.request.method", "url.path"};
    if (incoming)
        span_attrs(b, sp, http, 2);
    return b;
}

#define MS (SEC / 1000)

START_TEST(clock_skew_across_services_in_every_order) {
    store *s = open_memory();
    /* the parent first (the child finds it in the cache of recent spans) */
    ck_assert_int_eq(fx_commit(s, one_span("front", 1, 1, 0, T0, T0 + 100 * MS,
                                           MODEL_SPAN_KIND_CLIENT, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("back", 1, 2, 1, T0 - 2 * SEC, T0 + 50 * MS,
                                           MODEL_SPAN_KIND_SERVER, 0)),
                     STORE_OK);
    /* the child first (it waits for its parent) */
    ck_assert_int_eq(fx_commit(s, one_span("back", 2, 2, 1, T0 + 10 * MS, T0 + 3 * SEC,
                                           MODEL_SPAN_KIND_SERVER, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("front", 2, 1, 0, T0, T0 + 100 * MS,
                                           MODEL_SPAN_KIND_CLIENT, 0)),
                     STORE_OK);
    /* both in one batch */
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    fx_spans(b, 2);
    fx_span(b, fx_resource(b, "front", NULL), NULL, 3, 1, 0, "op", T0, T0 + 100 * MS)->kind =
        MODEL_SPAN_KIND_CLIENT;
    fx_span(b, fx_resource(b, "back", NULL), NULL, 3, 2, 1, "op", T0 - SEC, T0)->kind =
        MODEL_SPAN_KIND_SERVER;
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    /* within the threshold, or within one service: no skew */
    ck_assert_int_eq(fx_commit(s, one_span("front", 4, 1, 0, T0, T0 + 100 * MS,
                                           MODEL_SPAN_KIND_CLIENT, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("back", 4, 2, 1, T0 - 50 * MS, T0 + 120 * MS,
                                           MODEL_SPAN_KIND_SERVER, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("front", 4, 3, 1, T0 - 5 * SEC, T0,
                                           MODEL_SPAN_KIND_INTERNAL, 0)),
                     STORE_OK);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "clock-skew", "back", "front"), 3);
    ck_assert_int_eq(count_of(d, "clock-skew", "front", "front"), 0);
    json_t *f = finding(d, "clock-skew", "back", "front");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "detail")), "front"));
    ck_assert_uint_eq(json_array_size(json_object_get(f, "examples")), 3);
    json_decref(d);
    store_close(s);
}
END_TEST

START_TEST(orphans_after_the_grace_period_only) {
    store *s = open_memory();
    /* a parent that never comes */
    ck_assert_int_eq(fx_commit(s, one_span("svc", 1, 2, 99, T0, T0 + MS, MODEL_SPAN_KIND_SERVER,
                                           0)),
                     STORE_OK);
    /* a parent that comes in time */
    ck_assert_int_eq(fx_commit(s, one_span("svc", 2, 2, 1, T0, T0 + MS, MODEL_SPAN_KIND_SERVER,
                                           0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 2, 1, 0, T0, T0 + MS, MODEL_SPAN_KIND_SERVER,
                                           0)),
                     STORE_OK);
    /* an incoming HTTP span of kind INTERNAL: its parent in another service
     * (trace 3), in its own (trace 4), or nowhere (trace 5) */
    ck_assert_int_eq(fx_commit(s, one_span("gw", 3, 1, 0, T0, T0 + 10 * MS,
                                           MODEL_SPAN_KIND_CLIENT, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 3, 2, 1, T0 + MS, T0 + 2 * MS,
                                           MODEL_SPAN_KIND_INTERNAL, 1)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 4, 1, 0, T0, T0 + 10 * MS,
                                           MODEL_SPAN_KIND_SERVER, 0)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 4, 2, 1, T0 + MS, T0 + 2 * MS,
                                           MODEL_SPAN_KIND_INTERNAL, 1)),
                     STORE_OK);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 5, 2, 77, T0 + MS, T0 + 2 * MS,
                                           MODEL_SPAN_KIND_INTERNAL, 1)),
                     STORE_OK);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "orphan-span", "svc", ""), 0); /* not yet: the grace period */
    ck_assert_int_eq(count_of(d, "server-span-kind", "svc", ""), 1);
    json_decref(d);
    d = wait_count(s, "orphan-span", "svc", "", 2);
    json_decref(d);
    d = wait_count(s, "server-span-kind", "svc", "", 2);
    json_t *f = finding(d, "orphan-span", "svc", "");
    uint8_t parent[8];
    char hex[17];
    fx_id(parent, 8, 99);
    model_hex_encode(parent, 8, hex);
    const char *detail = json_string_value(json_object_get(f, "detail"));
    ck_assert_msg(strstr(detail, hex) != NULL || strstr(detail, "never arrived") != NULL, "%s",
                  detail);
    json_decref(d);
    store_close(s);
}
END_TEST

START_TEST(a_parent_stored_before_a_restart_is_no_orphan) {
    char dir[64];
    fx_tmpdir(dir, sizeof(dir));
    store_config cfg = {.data_dir = dir, .lint_orphan_grace_ns = SEC / 5};
    store *s = open_store(cfg);
    ck_assert_int_eq(fx_commit(s, one_span("svc", 1, 1, 0, T0, T0 + SEC, MODEL_SPAN_KIND_SERVER,
                                           0)),
                     STORE_OK);
    store_close(s);
    s = open_store(cfg); /* the cache of recent spans is empty now */
    ck_assert_int_eq(fx_commit(s, one_span("svc", 1, 2, 1, T0, T0 + MS, MODEL_SPAN_KIND_INTERNAL,
                                           0)),
                     STORE_OK);
    /* a true orphan after it: once it is judged, the first child was too
     * (a sweep judges every child that came before its cutoff) */
    ck_assert_int_eq(fx_commit(s, one_span("svc", 2, 2, 9, T0, T0 + MS, MODEL_SPAN_KIND_INTERNAL,
                                           0)),
                     STORE_OK);
    json_t *d = wait_count(s, "orphan-span", "svc", "", 1);
    json_t *ex = json_array_get(json_object_get(finding(d, "orphan-span", "svc", ""), "examples"), 0);
    uint8_t trace2[16];
    char hex[33];
    fx_id(trace2, 16, 2);
    model_hex_encode(trace2, 16, hex);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "traceId")), hex);
    json_decref(d);
    store_close(s);
    fx_rmdir(dir);
}
END_TEST

/* ---- logs and metrics -------------------------------------------------------------- */

START_TEST(logs_without_severity) {
    store *s = open_memory();
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    model_resource *r = fx_resource(b, "worker", NULL);
    fx_logs(b, 3);
    fx_log(b, r, NULL, T0, 0, "no level");
    model_log *t = fx_log(b, r, NULL, T0 + 1, 0, "text only");
    t->severity_text = fx_str(b, "INFO");
    fx_log(b, r, NULL, T0 + 2, 9, "fine");
    ck_assert_int_eq(fx_commit(s, b), STORE_OK);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "log-without-severity", "worker", ""), 2);
    json_t *f = finding(d, "log-without-severity", "worker", "");
    json_t *ex = json_array_get(json_object_get(f, "examples"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "signal")), "log");
    char want[128];
    snprintf(want, sizeof(want), "/api/v1/logs?service=worker&start=%llu&end=%llu",
             (unsigned long long)T0, (unsigned long long)T0 + 1);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "api")), want);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ex, "ui")), "/logs?service=worker"));
    json_decref(d);
    store_close(s);
}
END_TEST

/* A batch of n points of gauge `name`, point i with attributes
 * {user.id: from + i, route: "/x"}. */
static model_batch *points(const char *name, int from, int n) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    b->metrics = arena_calloc(b->arena, 1, sizeof(*b->metrics));
    b->n_metrics = 1;
    model_metric *m = &b->metrics[0];
    m->resource = fx_resource(b, "meter", NULL);
    m->name = fx_str(b, name);
    m->description = model_str_empty;
    m->unit = model_str_empty;
    m->type = MODEL_METRIC_GAUGE;
    b->points = arena_calloc(b->arena, (size_t)n, sizeof(*b->points));
    b->n_points = (size_t)n;
    for (int i = 0; i < n; i++) {
        model_point *p = &b->points[i];
        p->metric = m;
        p->time_ns = T0 + (uint64_t)i;
        p->is_int = 1;
        p->as_int = i;
        p->as_double = i;
        p->attrs.items = fx_kvs(b, 2);
        p->attrs.n = 2;
        fx_kv_int(b, &p->attrs.items[0], "user.id", from + i);
        fx_kv_str(b, &p->attrs.items[1], "route", "/x");
    }
    return b;
}

START_TEST(metric_attribute_sets_past_the_limit) {
    store *s = open_memory();
    ck_assert_int_eq(fx_commit(s, points("requests", 0, 600)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("requests", 0, 600)), STORE_OK); /* the same sets */
    json_t *d = lint_all(s);
    ck_assert_ptr_null(finding(d, "high-cardinality-metric", "meter", "requests"));
    json_decref(d);
    ck_assert_int_eq(fx_commit(s, points("requests", 600, 600)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("small", 0, 50)), STORE_OK);
    d = lint_all(s);
    json_t *f = finding(d, "high-cardinality-metric", "meter", "requests");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(json_integer_value(json_object_get(f, "count")), 1200); /* a level */
    const char *detail = json_string_value(json_object_get(f, "detail"));
    ck_assert_msg(strncmp(detail, "user.id has ", 12) == 0, "%s", detail);
    json_t *ex = json_array_get(json_object_get(f, "examples"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ex, "metric")), "requests");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ex, "api")),
                                 "/api/v1/metrics/requests/series?service=meter"));
    ck_assert_ptr_null(finding(d, "high-cardinality-metric", "meter", "small"));
    json_decref(d);
    store_close(s);
}
END_TEST

/* ---- persistence, retention, deletes, off ---------------------------------------- */

START_TEST(findings_survive_a_restart_and_keep_counting) {
    char dir[64];
    fx_tmpdir(dir, sizeof(dir));
    store_config cfg = {.data_dir = dir};
    store *s = open_store(cfg);
    ck_assert_int_eq(fx_commit(s, bad_spans(1)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("requests", 0, 1001)), STORE_OK);
    store_close(s);
    s = open_store(cfg);
    json_t *d = lint_all(s);
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "http.method"), 3);
    ck_assert_int_eq(count_of(d, "high-cardinality-metric", "meter", "requests"), 1001);
    json_decref(d);
    ck_assert_int_eq(fx_commit(s, bad_spans(2)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("requests", 1001, 1)), STORE_OK);
    d = lint_all(s);
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "http.method"), 6);
    ck_assert_int_eq(count_of(d, "high-cardinality-metric", "meter", "requests"), 1002);
    json_decref(d);
    store_close(s);
    fx_rmdir(dir);
}
END_TEST

START_TEST(retention_drops_findings_with_their_items) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .max_spans = 40};
    store *s = open_store(cfg);
    for (uint64_t t = 1; t <= 20; t++)
        ck_assert_int_eq(fx_commit(s, bad_spans(t)), STORE_OK);
    store_reader *r = NULL;
    ck_assert_int_eq(store_reader_open(s, &r), STORE_OK);
    /* retention runs after the last commit: wait until it has (at most 5 s) */
    int64_t spans = 0;
    for (int i = 0; i < 250; i++) {
        spans = fx_sql_int(r->db, "SELECT span_count FROM services WHERE name='shop'");
        if (spans <= 40)
            break;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_int_le(spans, 40);
    ck_assert_int_ge(spans, 36);
    json_t *d = lint_all(s);
    /* 3 spans of 4 per trace carry http.method: counts follow what is kept */
    ck_assert_int_eq(count_of(d, "deprecated-attribute", "shop", "http.method"), spans / 4 * 3);
    /* every example is a span still stored */
    size_t i, k;
    json_t *f, *ex;
    buf out;
    buf_init(&out, (size_t)1 << 20);
    json_array_foreach(json_object_get(d, "findings"), i, f) {
        json_array_foreach(json_object_get(f, "examples"), k, ex) {
            uint8_t id[16];
            ck_assert_int_eq(model_hex_decode(json_string_value(json_object_get(ex, "traceId")),
                                              32, id, 16),
                             0);
            buf_reset(&out);
            ck_assert_int_eq(query_trace(r, id, &out), QUERY_OK);
            ck_assert_ptr_nonnull(strstr(out.ptr, json_string_value(json_object_get(ex, "spanId"))));
        }
    }
    buf_free(&out);
    json_decref(d);
    store_reader_close(r);
    store_close(s);
}
END_TEST

START_TEST(deleting_a_service_deletes_its_findings) {
    store *s = open_memory();
    ck_assert_int_eq(fx_commit(s, bad_spans(1)), STORE_OK);
    ck_assert_int_eq(fx_commit(s, points("requests", 0, 1001)), STORE_OK);
    store_delete_result res;
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_TRACES, "shop", 10000, &res), STORE_OK);
    json_t *d = lint_all(s);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(d, "findings"), i, f)
        ck_assert_str_ne(json_string_value(json_object_get(f, "service")), "shop");
    ck_assert_int_eq(count_of(d, "high-cardinality-metric", "meter", "requests"), 1001);
    json_decref(d);
    ck_assert_int_eq(store_delete_wait(s, STORE_DELETE_ALL, NULL, 10000, &res), STORE_OK);
    d = lint_all(s);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "findings")), 0);
    json_decref(d);
    /* the attribute sets are counted from scratch once the series are gone */
    ck_assert_int_eq(fx_commit(s, points("requests", 0, 10)), STORE_OK);
    d = lint_all(s);
    ck_assert_ptr_null(finding(d, "high-cardinality-metric", "meter", "requests"));
    json_decref(d);
    store_close(s);
}
END_TEST

START_TEST(lint_off_records_nothing) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .lint_off = 1, .lint_orphan_grace_ns = SEC / 5};
    store *s = open_store(cfg), *on = open_memory();
    store *both[2] = {s, on};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(fx_commit(both[i], bad_spans(1)), STORE_OK);
        ck_assert_int_eq(fx_commit(both[i], one_span("svc", 9, 2, 99, T0, T0 + MS,
                                                     MODEL_SPAN_KIND_SERVER, 0)),
                         STORE_OK);
    }
    /* by the time the other store has judged its orphan, this one would have */
    json_decref(wait_count(on, "orphan-span", "svc", "", 1));
    json_t *d = lint_all(s);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "findings")), 0);
    json_decref(d);
    store_close(on);
    store_close(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("store_lint");
    TCase *tc = tcase_create("lint");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, span_rules_count_and_give_examples);
    tcase_add_test(tc, unnamed_services_and_clean_spans);
    tcase_add_test(tc, clock_skew_across_services_in_every_order);
    tcase_add_test(tc, orphans_after_the_grace_period_only);
    tcase_add_test(tc, a_parent_stored_before_a_restart_is_no_orphan);
    tcase_add_test(tc, logs_without_severity);
    tcase_add_test(tc, metric_attribute_sets_past_the_limit);
    tcase_add_test(tc, findings_survive_a_restart_and_keep_counting);
    tcase_add_test(tc, retention_drops_findings_with_their_items);
    tcase_add_test(tc, deleting_a_service_deletes_its_findings);
    tcase_add_test(tc, lint_off_records_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
