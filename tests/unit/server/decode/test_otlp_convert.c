/* test_otlp_convert.c - protobuf-c request structs into the internal model. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/decode/otlp.h"
#include "otlp_build.h"
#include "server/decode/otlp_internal.h"

static arena *A;

static void setup(void) {
    A = arena_new(0, 0);
    ck_assert_ptr_nonnull(A);
}

static void teardown(void) {
    arena_free(A);
    A = NULL;
}

#define STR_EQ(ms, lit)                                                                            \
    do {                                                                                           \
        ck_assert_uint_eq((ms).len, strlen(lit));                                                  \
        ck_assert_mem_eq((ms).ptr, (lit), strlen(lit));                                            \
        ck_assert_int_eq((ms).ptr[(ms).len], '\0');                                                \
    } while (0)

static model_batch *convert_traces(const tb_trace_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_traces(req, b), OTLP_OK);
    return b;
}

static model_batch *convert_logs(const tb_logs_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_logs(req, b), OTLP_OK);
    return b;
}

static model_batch *convert_metrics(const tb_metrics_req *req) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_metrics(req, b), OTLP_OK);
    return b;
}

/* Converts a single log with the given body and returns it (batch in *bp). */
static const model_value *body_of(tb_any *body, model_batch **bp) {
    *bp = convert_logs(tb_logs_req_simple(A, TB_LIST(tb_log, tb_log_new(A, 9, body))));
    ck_assert_uint_eq((*bp)->n_logs, 1);
    ck_assert_int_eq((*bp)->rejected, 0);
    return &(*bp)->logs[0].body;
}

/* ---- traces ---------------------------------------------------------------- */

START_TEST(test_span_all_fields) {
    tb_span *s = tb_span_new(A, 0x11, 0x22, "GET /users");
    s->parent_span_id = tb_id(A, 8, 0x33);
    s->trace_state = tb_strdup(A, "vendor=x");
    s->flags = 0x301;
    s->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
    s->start_time_unix_nano = 1700000000000000000ULL;
    s->end_time_unix_nano = 1700000000123456789ULL;
    s->n_attributes = 2;
    s->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "http.method", tb_str(A, "GET")),
                                           tb_kv_new(A, "http.status_code", tb_int(A, 200))},
                            2);
    s->dropped_attributes_count = 3;
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, "exception");
    ev->time_unix_nano = 1700000000000000500ULL;
    ev->n_attributes = 1;
    ev->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "exception.message", tb_str(A, "boom"))}, 1);
    ev->dropped_attributes_count = 4;
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){ev}, 1);
    s->dropped_events_count = 5;
    tb_link *ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 16, 0x44);
    ln->span_id = tb_id(A, 8, 0x55);
    ln->trace_state = tb_strdup(A, "k=v");
    ln->flags = 0x100;
    ln->n_attributes = 1;
    ln->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "link.kind", tb_str(A, "follows"))}, 1);
    ln->dropped_attributes_count = 6;
    s->n_links = 1;
    s->links = tb_ptrs(A, (tb_link *[]){ln}, 1);
    s->dropped_links_count = 7;
    tb_status *st = tb_alloc(A, sizeof(*st));
    opentelemetry__proto__trace__v1__status__init(st);
    st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    st->message = tb_strdup(A, "failed");
    s->status = st;

    model_batch *b = convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, s)));
    ck_assert_int_eq(b->signal, MODEL_SIGNAL_TRACES);
    ck_assert_uint_eq(b->n_spans, 1);
    ck_assert_uint_eq(model_batch_items(b), 1);
    ck_assert_int_eq(b->rejected, 0);
    STR_EQ(b->reject_message, "");
    const model_span *m = &b->spans[0];
    uint8_t id[16];
    memset(id, 0x11, 16);
    ck_assert_mem_eq(m->trace_id, id, 16);
    memset(id, 0x22, 8);
    ck_assert_mem_eq(m->span_id, id, 8);
    memset(id, 0x33, 8);
    ck_assert_mem_eq(m->parent_span_id, id, 8);
    ck_assert_int_eq(m->has_parent, 1);
    STR_EQ(m->trace_state, "vendor=x");
    ck_assert_uint_eq(m->flags, 0x301);
    STR_EQ(m->name, "GET /users");
    ck_assert_int_eq(m->kind, MODEL_SPAN_KIND_SERVER);
    ck_assert_uint_eq(m->start_ns, 1700000000000000000ULL);
    ck_assert_uint_eq(m->end_ns, 1700000000123456789ULL);
    ck_assert_uint_eq(m->attrs.n, 2);
    STR_EQ(m->attrs.items[0].key, "http.method");
    ck_assert_int_eq(m->attrs.items[0].value.type, MODEL_VALUE_STRING);
    STR_EQ(m->attrs.items[0].value.u.str, "GET");
    STR_EQ(m->attrs.items[1].key, "http.status_code");
    ck_assert_int_eq(m->attrs.items[1].value.type, MODEL_VALUE_INT);
    ck_assert_int_eq(m->attrs.items[1].value.u.integer, 200);
    ck_assert_uint_eq(m->dropped_attrs, 3);
    ck_assert_uint_eq(m->n_events, 1);
    STR_EQ(m->events[0].name, "exception");
    ck_assert_uint_eq(m->events[0].time_ns, 1700000000000000500ULL);
    ck_assert_uint_eq(m->events[0].attrs.n, 1);
    STR_EQ(m->events[0].attrs.items[0].value.u.str, "boom");
    ck_assert_uint_eq(m->events[0].dropped_attrs, 4);
    ck_assert_uint_eq(m->dropped_events, 5);
    ck_assert_uint_eq(m->n_links, 1);
    memset(id, 0x44, 16);
    ck_assert_mem_eq(m->links[0].trace_id, id, 16);
    memset(id, 0x55, 8);
    ck_assert_mem_eq(m->links[0].span_id, id, 8);
    STR_EQ(m->links[0].trace_state, "k=v");
    ck_assert_uint_eq(m->links[0].flags, 0x100);
    ck_assert_uint_eq(m->links[0].attrs.n, 1);
    STR_EQ(m->links[0].attrs.items[0].key, "link.kind");
    ck_assert_uint_eq(m->links[0].dropped_attrs, 6);
    ck_assert_uint_eq(m->dropped_links, 7);
    ck_assert_int_eq(m->status_code, MODEL_STATUS_ERROR);
    STR_EQ(m->status_message, "failed");

    /* Resource and scope. */
    ck_assert_ptr_nonnull(m->resource);
    STR_EQ(m->resource->service_name, "svc");
    STR_EQ(m->resource->service_instance_id, "");
    ck_assert_uint_eq(m->resource->attrs.n, 1);
    ck_assert_ptr_nonnull(m->scope);
    STR_EQ(m->scope->name, "lib");
    STR_EQ(m->scope->version, "1.0");
    model_batch_free(b);
}
END_TEST

START_TEST(test_span_defaults) {
    /* No parent, no status, unknown kind, all-zero parent. */
    tb_span *s1 = tb_span_new(A, 1, 2, "a");
    tb_span *s2 = tb_span_new(A, 1, 3, "b");
    s2->parent_span_id = tb_id(A, 8, 0);
    s2->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)99;
    tb_status *st = tb_alloc(A, sizeof(*st));
    opentelemetry__proto__trace__v1__status__init(st);
    st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)7;
    s2->status = st;
    model_batch *b = convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, s1, s2)));
    ck_assert_uint_eq(b->n_spans, 2);
    ck_assert_int_eq(b->spans[0].has_parent, 0);
    ck_assert_int_eq(b->spans[0].status_code, MODEL_STATUS_UNSET);
    STR_EQ(b->spans[0].status_message, "");
    STR_EQ(b->spans[0].trace_state, "");
    ck_assert_int_eq(b->spans[0].kind, MODEL_SPAN_KIND_UNSPECIFIED);
    ck_assert_int_eq(b->spans[1].has_parent, 0);
    ck_assert_int_eq(b->spans[1].kind, MODEL_SPAN_KIND_UNSPECIFIED);
    ck_assert_int_eq(b->spans[1].status_code, MODEL_STATUS_UNSET);
    ck_assert_uint_eq(b->spans[0].n_events, 0);
    ck_assert_uint_eq(b->spans[0].n_links, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_resource_scope_shared) {
    /* Two resources, the first with two scopes. */
    tb_resource *r1 = tb_resource_new(
        A, TB_LIST(tb_kv, tb_kv_new(A, "service.name", tb_str(A, "checkout")),
                   tb_kv_new(A, "service.instance.id", tb_str(A, "pod-7")),
                   tb_kv_new(A, "host.cpus", tb_int(A, 4))));
    r1->dropped_attributes_count = 2;
    tb_sspans *ss1 = tb_sspans_new(A, tb_scope_new(A, "s1", "v1"),
                                   TB_LIST(tb_span, tb_span_new(A, 1, 1, "x"), tb_span_new(A, 1, 2, "y")));
    ss1->schema_url = tb_strdup(A, "https://schema/scope");
    ss1->scope->n_attributes = 1;
    ss1->scope->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "sa", tb_bool(A, 1))}, 1);
    ss1->scope->dropped_attributes_count = 9;
    tb_sspans *ss2 = tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 1, 3, "z")));
    tb_rspans *rs1 = tb_rspans_new(A, r1, TB_LIST(tb_sspans, ss1, ss2));
    rs1->schema_url = tb_strdup(A, "https://schema/res");
    /* No resource at all; service.name of the wrong type in the next. */
    tb_rspans *rs2 = tb_rspans_new(
        A, NULL, TB_LIST(tb_sspans, tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 2, 1, "w")))));
    tb_resource *r3 = tb_resource_new(A, TB_LIST(tb_kv, tb_kv_new(A, "service.name", tb_int(A, 5))));
    tb_rspans *rs3 = tb_rspans_new(
        A, r3, TB_LIST(tb_sspans, tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 3, 1, "v")))));
    /* An empty ResourceSpans between them changes nothing. */
    tb_rspans *empty = tb_rspans_new(A, NULL, NULL, 0);
    model_batch *b = convert_traces(tb_trace_req_new(A, TB_LIST(tb_rspans, rs1, empty, rs2, rs3)));
    ck_assert_uint_eq(b->n_spans, 5);
    ck_assert_int_eq(b->rejected, 0);
    const model_span *s = b->spans;
    ck_assert_ptr_eq(s[0].resource, s[1].resource);
    ck_assert_ptr_eq(s[0].resource, s[2].resource);
    ck_assert_ptr_eq(s[0].scope, s[1].scope);
    ck_assert_ptr_ne(s[0].scope, s[2].scope);
    ck_assert_ptr_ne(s[2].resource, s[3].resource);
    STR_EQ(s[0].resource->service_name, "checkout");
    STR_EQ(s[0].resource->service_instance_id, "pod-7");
    STR_EQ(s[0].resource->schema_url, "https://schema/res");
    ck_assert_uint_eq(s[0].resource->attrs.n, 3);
    ck_assert_uint_eq(s[0].resource->dropped_attrs, 2);
    STR_EQ(s[0].scope->name, "s1");
    STR_EQ(s[0].scope->version, "v1");
    STR_EQ(s[0].scope->schema_url, "https://schema/scope");
    ck_assert_uint_eq(s[0].scope->attrs.n, 1);
    ck_assert_int_eq(s[0].scope->attrs.items[0].value.u.boolean, 1);
    ck_assert_uint_eq(s[0].scope->dropped_attrs, 9);
    STR_EQ(s[2].scope->name, "");
    STR_EQ(s[2].scope->version, "");
    STR_EQ(s[3].resource->service_name, "unknown_service");
    STR_EQ(s[3].resource->service_instance_id, "");
    ck_assert_uint_eq(s[3].resource->attrs.n, 0);
    STR_EQ(s[4].resource->service_name, "unknown_service");
    STR_EQ(s[4].name, "v");
    model_batch_free(b);
}
END_TEST

/* One bad span among good ones: the good ones stay, the bad one is counted. */
static void check_one_rejected(tb_span *bad, const char *msg_part) {
    tb_span *good1 = tb_span_new(A, 1, 1, "good1");
    tb_span *good2 = tb_span_new(A, 1, 2, "good2");
    model_batch *b = convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, good1, bad, good2)));
    ck_assert_uint_eq(b->n_spans, 2);
    ck_assert_int_eq(b->rejected, 1);
    STR_EQ(b->spans[0].name, "good1");
    STR_EQ(b->spans[1].name, "good2");
    ck_assert_ptr_nonnull(b->spans[1].resource);
    ck_assert_msg(strstr(b->reject_message.ptr, msg_part) != NULL, "message '%s' lacks '%s'",
                  b->reject_message.ptr, msg_part);
    ck_assert_msg(strstr(b->reject_message.ptr, "span") != NULL, "message '%s'",
                  b->reject_message.ptr);
    model_batch_free(b);
}

START_TEST(test_span_rejects) {
    tb_span *s;
    s = tb_span_new(A, 9, 9, "bad");
    s->trace_id = tb_id(A, 15, 9);
    check_one_rejected(s, "trace_id must be 16 bytes, got 15");
    s = tb_span_new(A, 9, 9, "bad");
    s->trace_id = tb_id(A, 0, 9);
    check_one_rejected(s, "trace_id");
    s = tb_span_new(A, 0, 9, "bad");
    check_one_rejected(s, "trace_id must not be all zero");
    s = tb_span_new(A, 9, 9, "bad");
    s->span_id = tb_id(A, 7, 9);
    check_one_rejected(s, "span_id must be 8 bytes, got 7");
    s = tb_span_new(A, 9, 0, "bad");
    check_one_rejected(s, "span_id must not be all zero");
    s = tb_span_new(A, 9, 9, "bad");
    s->parent_span_id = tb_id(A, 4, 9);
    check_one_rejected(s, "parent_span_id");
    s = tb_span_new(A, 9, 9, "bad \xC3\x28 name");
    check_one_rejected(s, "span name is not valid UTF-8");
    s = tb_span_new(A, 9, 9, "surrogate \xED\xA0\x80");
    check_one_rejected(s, "UTF-8");
    s = tb_span_new(A, 9, 9, "bad");
    s->n_attributes = 1;
    s->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "k\xFF", tb_int(A, 1))}, 1);
    check_one_rejected(s, "attribute key is not valid UTF-8");
    s = tb_span_new(A, 9, 9, "bad");
    s->n_attributes = 1;
    s->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "k", tb_str(A, "\xC0\xAF"))}, 1);
    check_one_rejected(s, "string value is not valid UTF-8");
    s = tb_span_new(A, 9, 9, "bad");
    s->trace_state = tb_strdup(A, "\x80");
    check_one_rejected(s, "trace_state");
    s = tb_span_new(A, 9, 9, "bad");
    s->n_attributes = 1;
    s->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "deep", tb_nested_arrays(A, 33))}, 1);
    check_one_rejected(s, "nested deeper than 32");

    /* Events and links belong to the span: a bad one rejects the span. */
    s = tb_span_new(A, 9, 9, "bad");
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, "\xFE");
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){ev}, 1);
    check_one_rejected(s, "event name");
    s = tb_span_new(A, 9, 9, "bad");
    tb_link *ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 16, 1);
    ln->span_id = tb_id(A, 9, 1);
    s->n_links = 1;
    s->links = tb_ptrs(A, (tb_link *[]){ln}, 1);
    check_one_rejected(s, "link span_id must be 8 bytes, got 9");
    s = tb_span_new(A, 9, 9, "bad");
    ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 3, 1);
    ln->span_id = tb_id(A, 8, 1);
    s->n_links = 1;
    s->links = tb_ptrs(A, (tb_link *[]){ln}, 1);
    check_one_rejected(s, "link trace_id");
    s = tb_span_new(A, 9, 9, "bad");
    tb_status *st = tb_alloc(A, sizeof(*st));
    opentelemetry__proto__trace__v1__status__init(st);
    st->message = tb_strdup(A, "\xF5\x80\x80\x80");
    s->status = st;
    check_one_rejected(s, "status message");
}
END_TEST

START_TEST(test_reject_message_is_first) {
    tb_span *a = tb_span_new(A, 0, 1, "a");
    tb_span *bb = tb_span_new(A, 1, 0, "b");
    tb_span *c = tb_span_new(A, 1, 3, "c");
    model_batch *b = convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, a, bb, c)));
    ck_assert_uint_eq(b->n_spans, 1);
    ck_assert_int_eq(b->rejected, 2);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "trace_id"));
    ck_assert_ptr_null(strstr(b->reject_message.ptr, "span_id"));
    model_batch_free(b);
}
END_TEST

START_TEST(test_bad_resource_rejects_its_items) {
    tb_resource *bad = tb_resource_new(A, TB_LIST(tb_kv, tb_kv_new(A, "service.name", tb_str(A, "\xFF"))));
    tb_rspans *rs_bad = tb_rspans_new(
        A, bad,
        TB_LIST(tb_sspans, tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 1, 1, "a"), tb_span_new(A, 1, 2, "b"))),
                tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 1, 3, "c")))));
    tb_rspans *rs_good = tb_rspans_new(
        A, NULL, TB_LIST(tb_sspans, tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 2, 1, "ok")))));
    /* A bad scope rejects only its own spans. */
    tb_scope *bad_scope = tb_scope_new(A, "ok", "\xC1\x81");
    tb_rspans *rs_scope = tb_rspans_new(
        A, NULL,
        TB_LIST(tb_sspans, tb_sspans_new(A, bad_scope, TB_LIST(tb_span, tb_span_new(A, 3, 1, "d"), tb_span_new(A, 3, 2, "e"))),
                tb_sspans_new(A, NULL, TB_LIST(tb_span, tb_span_new(A, 3, 3, "ok2")))));
    model_batch *b = convert_traces(tb_trace_req_new(A, TB_LIST(tb_rspans, rs_bad, rs_good, rs_scope)));
    ck_assert_uint_eq(b->n_spans, 2);
    ck_assert_int_eq(b->rejected, 5);
    STR_EQ(b->spans[0].name, "ok");
    STR_EQ(b->spans[1].name, "ok2");
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "resource"));
    model_batch_free(b);
}
END_TEST

START_TEST(test_null_tolerance) {
    /* What a hand-built (JSON) request may contain: NULL strings, elements
     * and sub-messages. */
    tb_span *s = tb_span_new(A, 1, 1, "x");
    s->name = NULL;
    s->trace_state = NULL;
    s->n_attributes = 2;
    s->attributes = tb_ptrs(A, (tb_kv *[]){NULL, tb_kv_new(A, "k", NULL)}, 2);
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){NULL}, 1);
    tb_sspans *ss = tb_sspans_new(A, NULL, TB_LIST(tb_span, s));
    ss->n_spans = 2;
    ss->spans = tb_ptrs(A, (tb_span *[]){NULL, s}, 2);
    ss->schema_url = NULL;
    tb_rspans *rs = tb_rspans_new(A, NULL, TB_LIST(tb_sspans, ss));
    rs->schema_url = NULL;
    tb_trace_req *req = tb_trace_req_new(A, TB_LIST(tb_rspans, rs));
    req->n_resource_spans = 2;
    req->resource_spans = tb_ptrs(A, (tb_rspans *[]){NULL, rs}, 2);
    model_batch *b = convert_traces(req);
    ck_assert_uint_eq(b->n_spans, 1);
    STR_EQ(b->spans[0].name, "");
    ck_assert_uint_eq(b->spans[0].attrs.n, 1);
    STR_EQ(b->spans[0].attrs.items[0].key, "k");
    ck_assert_int_eq(b->spans[0].attrs.items[0].value.type, MODEL_VALUE_EMPTY);
    ck_assert_uint_eq(b->spans[0].n_events, 0);
    model_batch_free(b);

    /* A request with no lists at all. */
    tb_trace_req *emptyreq = tb_trace_req_new(A, NULL, 0);
    b = convert_traces(emptyreq);
    ck_assert_uint_eq(b->n_spans, 0);
    ck_assert_int_eq(b->rejected, 0);
    model_batch_free(b);
}
END_TEST

/* ---- values ----------------------------------------------------------------- */

START_TEST(test_value_scalars) {
    model_batch *b;
    const model_value *v = body_of(tb_str(A, "héllo ✓"), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_STRING);
    STR_EQ(v->u.str, "héllo ✓");
    model_batch_free(b);

    v = body_of(tb_str(A, ""), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_STRING);
    ck_assert_uint_eq(v->u.str.len, 0);
    ck_assert_ptr_nonnull(v->u.str.ptr);
    model_batch_free(b);

    v = body_of(tb_bool(A, 1), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_BOOL);
    ck_assert_int_eq(v->u.boolean, 1);
    model_batch_free(b);
    v = body_of(tb_bool(A, 0), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_BOOL);
    ck_assert_int_eq(v->u.boolean, 0);
    model_batch_free(b);

    v = body_of(tb_int(A, INT64_MIN), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_INT);
    ck_assert(v->u.integer == INT64_MIN);
    model_batch_free(b);

    v = body_of(tb_double(A, -2.5e300), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_DOUBLE);
    ck_assert(v->u.dbl == -2.5e300);
    model_batch_free(b);

    v = body_of(tb_bytes(A, "a\0\xFF\x01", 4), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(v->u.str.len, 4);
    ck_assert_mem_eq(v->u.str.ptr, "a\0\xFF\x01", 4);
    ck_assert_int_eq(v->u.str.ptr[4], 0);
    model_batch_free(b);

    v = body_of(tb_bytes(A, "", 0), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(v->u.str.len, 0);
    model_batch_free(b);

    v = body_of(tb_empty(A), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_EMPTY);
    model_batch_free(b);

    v = body_of(NULL, &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_EMPTY);
    model_batch_free(b);
}
END_TEST

START_TEST(test_value_containers) {
    model_batch *b;
    tb_any *inner = tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "x", tb_double(A, 1.5)),
                                         tb_kv_new(A, "y", tb_array(A, NULL, 0))));
    tb_any *arr = tb_array(A, TB_LIST(tb_any, tb_str(A, "s"), tb_int(A, 2), inner, tb_empty(A),
                                      tb_bytes(A, "\x00\x01", 2)));
    const model_value *v = body_of(
        tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "list", arr), tb_kv_new(A, "empty", tb_kvlist(A, NULL, 0)))), &b);
    ck_assert_int_eq(v->type, MODEL_VALUE_KVLIST);
    ck_assert_uint_eq(v->u.kvlist.n, 2);
    STR_EQ(v->u.kvlist.items[0].key, "list");
    const model_value *a = &v->u.kvlist.items[0].value;
    ck_assert_int_eq(a->type, MODEL_VALUE_ARRAY);
    ck_assert_uint_eq(a->u.array.n, 5);
    ck_assert_int_eq(a->u.array.items[0].type, MODEL_VALUE_STRING);
    STR_EQ(a->u.array.items[0].u.str, "s");
    ck_assert_int_eq(a->u.array.items[1].type, MODEL_VALUE_INT);
    ck_assert_int_eq(a->u.array.items[1].u.integer, 2);
    const model_value *kl = &a->u.array.items[2];
    ck_assert_int_eq(kl->type, MODEL_VALUE_KVLIST);
    ck_assert_uint_eq(kl->u.kvlist.n, 2);
    STR_EQ(kl->u.kvlist.items[0].key, "x");
    ck_assert(kl->u.kvlist.items[0].value.u.dbl == 1.5);
    ck_assert_int_eq(kl->u.kvlist.items[1].value.type, MODEL_VALUE_ARRAY);
    ck_assert_uint_eq(kl->u.kvlist.items[1].value.u.array.n, 0);
    ck_assert_int_eq(a->u.array.items[3].type, MODEL_VALUE_EMPTY);
    ck_assert_int_eq(a->u.array.items[4].type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(a->u.array.items[4].u.str.len, 2);
    ck_assert_int_eq(v->u.kvlist.items[1].value.type, MODEL_VALUE_KVLIST);
    ck_assert_uint_eq(v->u.kvlist.items[1].value.u.kvlist.n, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_value_depth_limit) {
    model_batch *b;
    /* Exactly MODEL_MAX_VALUE_DEPTH nested arrays: accepted. */
    const model_value *v = body_of(tb_nested_arrays(A, MODEL_MAX_VALUE_DEPTH), &b);
    for (int i = 0; i < MODEL_MAX_VALUE_DEPTH; i++) {
        ck_assert_int_eq(v->type, MODEL_VALUE_ARRAY);
        ck_assert_uint_eq(v->u.array.n, 1);
        v = &v->u.array.items[0];
    }
    ck_assert_int_eq(v->type, MODEL_VALUE_INT);
    ck_assert_int_eq(v->u.integer, 7);
    model_batch_free(b);

    /* One more: the log is rejected, the other one kept. */
    b = convert_logs(tb_logs_req_simple(
        A, TB_LIST(tb_log, tb_log_new(A, 1, tb_nested_arrays(A, MODEL_MAX_VALUE_DEPTH + 1)),
                   tb_log_new(A, 2, tb_str(A, "fine")))));
    ck_assert_uint_eq(b->n_logs, 1);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_int_eq(b->logs[0].severity_number, 2);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "nested deeper"));
    model_batch_free(b);

    /* kvlists count as nesting too: 33 kvlists, in an attribute. */
    tb_any *deep = tb_str(A, "leaf");
    for (int i = 0; i < MODEL_MAX_VALUE_DEPTH + 1; i++)
        deep = tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "k", deep)));
    tb_log *l = tb_log_new(A, 1, NULL);
    l->n_attributes = 1;
    l->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "deep", deep)}, 1);
    b = convert_logs(tb_logs_req_simple(A, TB_LIST(tb_log, l)));
    ck_assert_uint_eq(b->n_logs, 0);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
}
END_TEST

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

/* ---- metrics -------------------------------------------------------------- */

START_TEST(test_metric_gauge_sum) {
    tb_npoint *p1 = tb_npoint_double(A, 3.25);
    p1->start_time_unix_nano = 100;
    p1->time_unix_nano = 200;
    p1->flags = 1;
    p1->n_attributes = 1;
    p1->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "cpu", tb_int(A, 0))}, 1);
    tb_npoint *p2 = tb_npoint_int(A, -42);
    tb_npoint *p3 = tb_npoint_int(A, 1);
    p3->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE__NOT_SET;
    tb_metric *g = tb_gauge(A, "cpu.usage", TB_LIST(tb_npoint, p1, p2, p3));
    tb_metric *s = tb_sum(A, "requests",
                          OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
                          1, TB_LIST(tb_npoint, tb_npoint_int(A, 1000)));
    tb_metric *s2 = tb_sum(A, "delta",
                           OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
                           0, TB_LIST(tb_npoint, tb_npoint_double(A, 0.5)));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, g, s, s2)));
    ck_assert_int_eq(b->signal, MODEL_SIGNAL_METRICS);
    ck_assert_uint_eq(b->n_metrics, 3);
    ck_assert_uint_eq(b->n_points, 5);
    ck_assert_uint_eq(model_batch_items(b), 5);
    ck_assert_int_eq(b->rejected, 0);
    const model_metric *mg = &b->metrics[0];
    STR_EQ(mg->name, "cpu.usage");
    STR_EQ(mg->description, "desc");
    STR_EQ(mg->unit, "ms");
    ck_assert_int_eq(mg->type, MODEL_METRIC_GAUGE);
    STR_EQ(mg->resource->service_name, "msvc");
    STR_EQ(mg->scope->name, "meter");
    const model_point *pt = b->points;
    ck_assert_ptr_eq(pt[0].metric, mg);
    ck_assert_int_eq(pt[0].is_int, 0);
    ck_assert(pt[0].as_double == 3.25);
    ck_assert_uint_eq(pt[0].start_time_ns, 100);
    ck_assert_uint_eq(pt[0].time_ns, 200);
    ck_assert_uint_eq(pt[0].flags, 1);
    ck_assert_uint_eq(pt[0].attrs.n, 1);
    STR_EQ(pt[0].attrs.items[0].key, "cpu");
    ck_assert_int_eq(pt[1].is_int, 1);
    ck_assert_int_eq(pt[1].as_int, -42);
    ck_assert(pt[1].as_double == -42.0);
    ck_assert_int_eq(pt[2].is_int, 0);
    ck_assert(pt[2].as_double == 0.0);
    ck_assert_ptr_eq(pt[3].metric, &b->metrics[1]);
    ck_assert_int_eq(b->metrics[1].type, MODEL_METRIC_SUM);
    ck_assert_int_eq(b->metrics[1].temporality, MODEL_TEMPORALITY_CUMULATIVE);
    ck_assert_int_eq(b->metrics[1].monotonic, 1);
    ck_assert_int_eq(pt[3].as_int, 1000);
    ck_assert_int_eq(b->metrics[2].temporality, MODEL_TEMPORALITY_DELTA);
    ck_assert_int_eq(b->metrics[2].monotonic, 0);
    ck_assert_ptr_eq(pt[4].metric, &b->metrics[2]);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_histogram) {
    const double bounds[] = {1, 5, 10};
    const uint64_t counts[] = {1, 2, 3, 4};
    tb_hpoint *full = tb_hpoint_new(A, bounds, 3, counts, 4);
    full->count = 10;
    full->sum_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    full->sum = 55.5;
    full->min_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    full->min = 0.5;
    full->max_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    full->max = 12;
    full->start_time_unix_nano = 50;
    tb_hpoint *bare = tb_hpoint_new(A, NULL, 0, NULL, 0); /* no sum/min/max, no buckets */
    bare->count = 3;
    tb_hpoint *one = tb_hpoint_new(A, NULL, 0, counts, 1); /* one bucket, no bounds */
    tb_hpoint *nocounts = tb_hpoint_new(A, bounds, 3, NULL, 0); /* bounds only: dropped */
    tb_hpoint *mismatch = tb_hpoint_new(A, bounds, 3, counts, 3);
    tb_metric *h = tb_histogram(A, "latency",
                                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
                                TB_LIST(tb_hpoint, full, bare, mismatch, one, nocounts));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, h)));
    ck_assert_uint_eq(b->n_metrics, 1);
    ck_assert_uint_eq(b->n_points, 4);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "3 explicit_bounds and 3 bucket_counts"));
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_HISTOGRAM);
    ck_assert_int_eq(b->metrics[0].temporality, MODEL_TEMPORALITY_DELTA);
    const model_point *p = &b->points[0];
    ck_assert_uint_eq(p->count, 10);
    ck_assert_int_eq(p->has_sum, 1);
    ck_assert(p->sum == 55.5);
    ck_assert_int_eq(p->has_min, 1);
    ck_assert(p->min == 0.5);
    ck_assert_int_eq(p->has_max, 1);
    ck_assert(p->max == 12);
    ck_assert_uint_eq(p->start_time_ns, 50);
    ck_assert_uint_eq(p->n_bounds, 3);
    ck_assert_uint_eq(p->n_bucket_counts, 4);
    for (int i = 0; i < 3; i++)
        ck_assert(p->bounds[i] == bounds[i]);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(p->bucket_counts[i], counts[i]);
    p = &b->points[1];
    ck_assert_uint_eq(p->count, 3);
    ck_assert_int_eq(p->has_sum, 0);
    ck_assert_int_eq(p->has_min, 0);
    ck_assert_int_eq(p->has_max, 0);
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 0);
    p = &b->points[2];
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 1);
    ck_assert_uint_eq(p->bucket_counts[0], 1);
    p = &b->points[3];
    ck_assert_uint_eq(p->n_bounds, 0);
    ck_assert_uint_eq(p->n_bucket_counts, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_exp_histogram) {
    tb_epoint *p = tb_alloc(A, sizeof(*p));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(p);
    const uint64_t pos[] = {1, 0, 5};
    const uint64_t neg[] = {2};
    p->count = 10;
    p->scale = -3;
    p->zero_count = 2;
    p->zero_threshold = 1e-9;
    p->positive = tb_buckets_new(A, -2, pos, 3);
    p->negative = tb_buckets_new(A, 7, neg, 1);
    p->sum_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    p->sum = 4.5;
    p->max_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    p->max = 9;
    p->flags = 1;
    tb_epoint *q = tb_alloc(A, sizeof(*q));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(q);
    q->min_present_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    q->min = -1;
    tb_metric *m = tb_exp_histogram(A, "exp",
                                    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
                                    TB_LIST(tb_epoint, p, q));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, m)));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_EXP_HISTOGRAM);
    ck_assert_int_eq(b->metrics[0].temporality, MODEL_TEMPORALITY_CUMULATIVE);
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->count, 10);
    ck_assert_int_eq(mp->scale, -3);
    ck_assert_uint_eq(mp->zero_count, 2);
    ck_assert(mp->zero_threshold == 1e-9);
    ck_assert_int_eq(mp->positive_offset, -2);
    ck_assert_uint_eq(mp->n_positive, 3);
    ck_assert_uint_eq(mp->positive_counts[2], 5);
    ck_assert_int_eq(mp->negative_offset, 7);
    ck_assert_uint_eq(mp->n_negative, 1);
    ck_assert_uint_eq(mp->negative_counts[0], 2);
    ck_assert_int_eq(mp->has_sum, 1);
    ck_assert(mp->sum == 4.5);
    ck_assert_int_eq(mp->has_min, 0);
    ck_assert_int_eq(mp->has_max, 1);
    ck_assert(mp->max == 9);
    ck_assert_uint_eq(mp->flags, 1);
    mp = &b->points[1];
    ck_assert_int_eq(mp->has_sum, 0);
    ck_assert_int_eq(mp->has_min, 1);
    ck_assert(mp->min == -1);
    ck_assert_uint_eq(mp->n_positive, 0);
    ck_assert_uint_eq(mp->n_negative, 0);
    ck_assert_int_eq(mp->positive_offset, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_summary) {
    tb_spoint *p = tb_alloc(A, sizeof(*p));
    opentelemetry__proto__metrics__v1__summary_data_point__init(p);
    p->count = 4;
    p->sum = 20;
    tb_quantile *q[2];
    for (int i = 0; i < 2; i++) {
        q[i] = tb_alloc(A, sizeof(*q[i]));
        opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(q[i]);
        q[i]->quantile = i ? 0.99 : 0.5;
        q[i]->value = i ? 9.5 : 4;
    }
    p->n_quantile_values = 2;
    p->quantile_values = tb_ptrs(A, q, 2);
    tb_metric *m = tb_summary(A, "rpc.duration", TB_LIST(tb_spoint, p));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, m)));
    ck_assert_uint_eq(b->n_points, 1);
    ck_assert_int_eq(b->metrics[0].type, MODEL_METRIC_SUMMARY);
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->count, 4);
    ck_assert_int_eq(mp->has_sum, 1);
    ck_assert(mp->sum == 20);
    ck_assert_uint_eq(mp->n_quantiles, 2);
    ck_assert(mp->quantiles[0].quantile == 0.5);
    ck_assert(mp->quantiles[0].value == 4);
    ck_assert(mp->quantiles[1].quantile == 0.99);
    ck_assert(mp->quantiles[1].value == 9.5);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_exemplars) {
    tb_exemplar *e1 = tb_exemplar_new(A, 16, 8);
    e1->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT;
    e1->as_int = 17;
    e1->n_filtered_attributes = 1;
    e1->filtered_attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "user", tb_str(A, "u1"))}, 1);
    tb_exemplar *e2 = tb_exemplar_new(A, 0, 0);
    e2->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
    e2->as_double = 0.25;
    tb_npoint *p = tb_npoint_double(A, 1);
    p->n_exemplars = 2;
    p->exemplars = tb_ptrs(A, (tb_exemplar *[]){e1, e2}, 2);
    const double bounds[] = {1};
    const uint64_t counts[] = {0, 1};
    tb_hpoint *hp = tb_hpoint_new(A, bounds, 1, counts, 2);
    tb_exemplar *e3 = tb_exemplar_new(A, 16, 8);
    hp->n_exemplars = 1;
    hp->exemplars = tb_ptrs(A, (tb_exemplar *[]){e3}, 1);
    /* A bad exemplar id rejects its point only. */
    tb_npoint *bad = tb_npoint_double(A, 2);
    tb_exemplar *e4 = tb_exemplar_new(A, 16, 5);
    bad->n_exemplars = 1;
    bad->exemplars = tb_ptrs(A, (tb_exemplar *[]){e4}, 1);
    tb_metric *g = tb_gauge(A, "g", TB_LIST(tb_npoint, p, bad));
    tb_metric *h = tb_histogram(A, "h", 2, TB_LIST(tb_hpoint, hp));
    model_batch *b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, g, h)));
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_int_eq(b->rejected, 1);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "exemplar span_id"));
    const model_point *mp = &b->points[0];
    ck_assert_uint_eq(mp->n_exemplars, 2);
    const model_exemplar *x = &mp->exemplars[0];
    ck_assert_int_eq(x->is_int, 1);
    ck_assert_int_eq(x->as_int, 17);
    ck_assert(x->as_double == 17.0);
    ck_assert_uint_eq(x->time_ns, 8000);
    ck_assert_int_eq(x->has_trace_id, 1);
    ck_assert_int_eq(x->has_span_id, 1);
    ck_assert_uint_eq(x->trace_id[0], 0xAB);
    ck_assert_uint_eq(x->span_id[7], 0xCD);
    ck_assert_uint_eq(x->filtered_attrs.n, 1);
    STR_EQ(x->filtered_attrs.items[0].value.u.str, "u1");
    x = &mp->exemplars[1];
    ck_assert_int_eq(x->is_int, 0);
    ck_assert(x->as_double == 0.25);
    ck_assert_int_eq(x->has_trace_id, 0);
    ck_assert_int_eq(x->has_span_id, 0);
    ck_assert_uint_eq(b->points[1].n_exemplars, 1);
    ck_assert_ptr_eq(b->points[1].metric, &b->metrics[1]);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metric_skips_and_rejects) {
    tb_metric *nodata = tb_metric_new(A, "nodata"); /* data not set: skipped */
    tb_metric *nopoints = tb_gauge(A, "nopoints", NULL, 0);
    tb_metric *badname = tb_gauge(A, "bad\xFF", TB_LIST(tb_npoint, tb_npoint_int(A, 1), tb_npoint_int(A, 2)));
    tb_metric *badunit = tb_sum(A, "u", 1, 0, TB_LIST(tb_npoint, tb_npoint_int(A, 1)));
    badunit->unit = tb_strdup(A, "\xC0\x80");
    /* Every point rejected: the metric is not kept either. */
    tb_npoint *badattr = tb_npoint_int(A, 1);
    badattr->n_attributes = 1;
    badattr->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "\xFF", tb_int(A, 1))}, 1);
    tb_metric *allbad = tb_gauge(A, "allbad", TB_LIST(tb_npoint, badattr));
    tb_metric *good = tb_gauge(A, "good", TB_LIST(tb_npoint, tb_npoint_int(A, 5)));
    model_batch *b = convert_metrics(
        tb_metrics_req_simple(A, TB_LIST(tb_metric, nodata, nopoints, badname, badunit, allbad, good)));
    ck_assert_uint_eq(b->n_metrics, 1);
    ck_assert_uint_eq(b->n_points, 1);
    ck_assert_int_eq(b->rejected, 4);
    STR_EQ(b->metrics[0].name, "good");
    ck_assert_ptr_eq(b->points[0].metric, &b->metrics[0]);
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "metric name is not valid UTF-8"));
    model_batch_free(b);
}
END_TEST

START_TEST(test_convert_appends) {
    /* Two conversions into one batch: earlier items and their metric
     * pointers stay right. */
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    ck_assert_int_eq(otlp_convert_metrics(tb_metrics_req_simple(
                                              A, TB_LIST(tb_metric, tb_gauge(A, "first", TB_LIST(tb_npoint, tb_npoint_int(A, 1))))),
                                          b),
                     OTLP_OK);
    ck_assert_int_eq(otlp_convert_metrics(tb_metrics_req_simple(
                                              A, TB_LIST(tb_metric, tb_gauge(A, "second", TB_LIST(tb_npoint, tb_npoint_int(A, 2))))),
                                          b),
                     OTLP_OK);
    ck_assert_uint_eq(b->n_metrics, 2);
    ck_assert_uint_eq(b->n_points, 2);
    ck_assert_ptr_eq(b->points[0].metric, &b->metrics[0]);
    ck_assert_ptr_eq(b->points[1].metric, &b->metrics[1]);
    STR_EQ(b->points[0].metric->name, "first");
    STR_EQ(b->points[1].metric->name, "second");
    model_batch_free(b);

    b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    ck_assert_int_eq(otlp_convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, tb_span_new(A, 1, 1, "a"))), b), OTLP_OK);
    ck_assert_int_eq(otlp_convert_traces(tb_trace_req_simple(A, TB_LIST(tb_span, tb_span_new(A, 1, 2, "b"))), b), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 2);
    STR_EQ(b->spans[0].name, "a");
    STR_EQ(b->spans[1].name, "b");
    model_batch_free(b);
}
END_TEST

START_TEST(test_convert_toobig) {
    /* 2000 spans with a 1 KiB attribute each do not fit in 256 KiB. */
    tb_span *spans[2000];
    char big[1025];
    memset(big, 'x', 1024);
    big[1024] = '\0';
    for (int i = 0; i < 2000; i++) {
        spans[i] = tb_span_new(A, 1, (unsigned)(i % 255) + 1, "s");
        spans[i]->n_attributes = 1;
        spans[i]->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "k", tb_str(A, big))}, 1);
    }
    tb_trace_req *req = tb_trace_req_simple(A, spans, 2000);
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 256 * 1024);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(otlp_convert_traces(req, b), OTLP_ETOOBIG);
    model_batch_free(b);
    /* The same request fits without a cap. */
    b = convert_traces(req);
    ck_assert_uint_eq(b->n_spans, 2000);
    model_batch_free(b);
}
END_TEST

START_TEST(test_arena_allocator) {
    ProtobufCAllocator alloc;
    otlp_arena_allocator(&alloc, A);
    ck_assert_ptr_eq(alloc.allocator_data, A);
    size_t before = arena_footprint(A);
    void *p = alloc.alloc(alloc.allocator_data, 100);
    ck_assert_ptr_nonnull(p);
    memset(p, 1, 100);
    ck_assert_uint_ge(arena_footprint(A), before + 100);
    alloc.free(alloc.allocator_data, p); /* a no-op: the arena owns it */

    /* Unpack a packed request with it. */
    arena *b = arena_new(0, 0);
    ProtobufCAllocator balloc;
    otlp_arena_allocator(&balloc, b);
    size_t len;
    uint8_t *bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, tb_span_new(A, 1, 1, "via arena")))->base, &len);
    tb_trace_req *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(&balloc, len, bytes);
    ck_assert_ptr_nonnull(req);
    ck_assert_str_eq(req->resource_spans[0]->scope_spans[0]->spans[0]->name, "via arena");
    ck_assert_uint_gt(arena_footprint(b), 0);
    free(bytes);
    arena_free(b); /* frees the whole message; no free_unpacked needed */

    /* A capped arena makes unpack fail cleanly. */
    arena *tiny = arena_new(64, 64);
    otlp_arena_allocator(&balloc, tiny);
    bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, tb_span_new(A, 1, 1, "x")))->base, &len);
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(&balloc, len, bytes);
    ck_assert_ptr_null(req);
    free(bytes);
    arena_free(tiny);
}
END_TEST


/* ---- limits ------------------------------------------------------------------ */

static void limits_teardown(void) {
    otlp_limits_set(NULL);
    teardown();
}

static void set_limits(size_t attrs, size_t value_len, size_t events, size_t links) {
    otlp_limits l = {attrs, value_len, events, links};
    otlp_limits_set(&l);
}

/* n attributes "k0".."k{n-1}" with int values 0..n-1. */
static tb_kv **numbered_attrs(size_t n) {
    tb_kv **kvs = tb_alloc(A, n * sizeof(*kvs));
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%zu", i);
        kvs[i] = tb_kv_new(A, key, tb_int(A, (int64_t)i));
    }
    return kvs;
}

static void assert_numbered(const model_attrs *a, size_t n) {
    ck_assert_uint_eq(a->n, n);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%zu", i);
        STR_EQ(a->items[i].key, key);
        ck_assert_int_eq(a->items[i].value.u.integer, (int64_t)i);
    }
}

START_TEST(test_limit_defaults) {
    otlp_limits l;
    otlp_limits_set(NULL);
    otlp_limits_get(&l);
    ck_assert_uint_eq(l.max_attrs, 128);
    ck_assert_uint_eq(l.max_value_len, 32768);
    ck_assert_uint_eq(l.max_events, 128);
    ck_assert_uint_eq(l.max_links, 128);
    /* 129 attributes with the defaults: the first 128 are kept */
    tb_span *s = tb_span_new(A, 1, 1, "s");
    s->n_attributes = 129;
    s->attributes = numbered_attrs(129);
    model_batch *b = convert_traces(tb_trace_req_simple(A, &s, 1));
    assert_numbered(&b->spans[0].attrs, 128);
    ck_assert_uint_eq(b->spans[0].dropped_attrs, 1);
    model_batch_free(b);
}
END_TEST

START_TEST(test_limit_attrs_traces) {
    set_limits(3, 0, 0, 0);
    otlp_limit_stats before, after;
    otlp_limit_stats_get(&before);
    tb_span *s = tb_span_new(A, 1, 1, "s");
    s->n_attributes = 5;
    s->attributes = numbered_attrs(5);
    s->dropped_attributes_count = 2; /* the SDK's own drops are kept and added to */
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, "e");
    ev->n_attributes = 4;
    ev->attributes = numbered_attrs(4);
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){ev}, 1);
    tb_link *ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 16, 7);
    ln->span_id = tb_id(A, 8, 7);
    ln->n_attributes = 3; /* exactly at the limit: nothing dropped */
    ln->attributes = numbered_attrs(3);
    s->n_links = 1;
    s->links = tb_ptrs(A, (tb_link *[]){ln}, 1);
    tb_resource *r = tb_resource_new(A, numbered_attrs(6), 6);
    r->dropped_attributes_count = UINT32_MAX - 1; /* saturates, never wraps */
    tb_scope *sc = tb_scope_new(A, "lib", "1");
    sc->n_attributes = 4;
    sc->attributes = numbered_attrs(4);
    tb_trace_req *req = tb_trace_req_new(
        A, TB_LIST(tb_rspans, tb_rspans_new(A, r, TB_LIST(tb_sspans, tb_sspans_new(A, sc, &s, 1)))));
    model_batch *b = convert_traces(req);
    ck_assert_uint_eq(b->n_spans, 1);
    ck_assert_int_eq(b->rejected, 0);
    const model_span *sp = &b->spans[0];
    assert_numbered(&sp->attrs, 3);
    ck_assert_uint_eq(sp->dropped_attrs, 4);
    assert_numbered(&sp->events[0].attrs, 3);
    ck_assert_uint_eq(sp->events[0].dropped_attrs, 1);
    assert_numbered(&sp->links[0].attrs, 3);
    ck_assert_uint_eq(sp->links[0].dropped_attrs, 0);
    assert_numbered(&sp->resource->attrs, 3);
    ck_assert_uint_eq(sp->resource->dropped_attrs, UINT32_MAX);
    assert_numbered(&sp->scope->attrs, 3);
    ck_assert_uint_eq(sp->scope->dropped_attrs, 1);
    otlp_limit_stats_get(&after);
    ck_assert_uint_eq(after.attrs_dropped - before.attrs_dropped, 2 + 1 + 3 + 1);
    model_batch_free(b);
}
END_TEST

START_TEST(test_limit_attrs_logs_metrics) {
    set_limits(2, 0, 0, 0);
    otlp_limit_stats before, after;
    otlp_limit_stats_get(&before);
    tb_log *l = tb_log_new(A, 9, tb_str(A, "body"));
    l->n_attributes = 4;
    l->attributes = numbered_attrs(4);
    model_batch *b = convert_logs(tb_logs_req_simple(A, &l, 1));
    assert_numbered(&b->logs[0].attrs, 2);
    ck_assert_uint_eq(b->logs[0].dropped_attrs, 2);
    model_batch_free(b);

    tb_npoint *p = tb_npoint_int(A, 5);
    p->n_attributes = 3;
    p->attributes = numbered_attrs(3);
    tb_exemplar *ex = tb_exemplar_new(A, 0, 0);
    ex->n_filtered_attributes = 5;
    ex->filtered_attributes = numbered_attrs(5);
    p->n_exemplars = 1;
    p->exemplars = tb_ptrs(A, (tb_exemplar *[]){ex}, 1);
    b = convert_metrics(tb_metrics_req_simple(A, TB_LIST(tb_metric, tb_gauge(A, "g", &p, 1))));
    ck_assert_uint_eq(b->n_points, 1);
    assert_numbered(&b->points[0].attrs, 2);
    assert_numbered(&b->points[0].exemplars[0].filtered_attrs, 2);
    otlp_limit_stats_get(&after);
    ck_assert_uint_eq(after.attrs_dropped - before.attrs_dropped, 2 + 1 + 3);
    model_batch_free(b);
}
END_TEST

/* The string value of the first attribute of the only log record. */
static model_str log_attr_cut(const char *value, model_batch **bp) {
    tb_log *l = tb_log_new(A, 9, NULL);
    l->n_attributes = 1;
    l->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "v", tb_str(A, value))}, 1);
    *bp = convert_logs(tb_logs_req_simple(A, &l, 1));
    ck_assert_uint_eq((*bp)->n_logs, 1);
    ck_assert_int_eq((*bp)->logs[0].attrs.items[0].value.type, MODEL_VALUE_STRING);
    return (*bp)->logs[0].attrs.items[0].value.u.str;
}

START_TEST(test_limit_value_utf8_boundary) {
    set_limits(0, 8, 0, 0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"abcdefgh", "abcdefgh"},                         /* exactly at the limit */
        {"abcdefghij", "abcdefgh"},                       /* ASCII: cut at 8 */
        {"abcdefg\xc3\xa9", "abcdefg"},                   /* 2-byte char across the cut */
        {"abcdef\xc3\xa9z", "abcdef\xc3\xa9"},            /* 2-byte char ends at the cut */
        {"abcdef\xe2\x82\xac", "abcdef"},                 /* 3-byte char: 1 byte over */
        {"abcde\xe2\x82\xac!", "abcde\xe2\x82\xac"},      /* 3-byte char ends at the cut */
        {"abcde\xf0\x9f\x98\x80", "abcde"},               /* 4-byte char across the cut */
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80x", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"},
        {"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "\xe2\x82\xac\xe2\x82\xac"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otlp_limit_stats before, after;
        otlp_limit_stats_get(&before);
        model_batch *b;
        model_str v = log_attr_cut(cases[i].in, &b);
        STR_EQ(v, cases[i].out);
        ck_assert(model_utf8_valid(v.ptr, v.len));
        otlp_limit_stats_get(&after);
        ck_assert_uint_eq(after.values_truncated - before.values_truncated,
                          strcmp(cases[i].in, cases[i].out) != 0);
        model_batch_free(b);
    }
}
END_TEST

START_TEST(test_limit_value_invalid_utf8_past_cut) {
    /* validity is checked on the whole value, before the cut */
    set_limits(0, 4, 0, 0);
    tb_log *l = tb_log_new(A, 9, NULL);
    l->n_attributes = 1;
    l->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "v", tb_str(A, "abcdefg\xff"))}, 1);
    model_batch *b = convert_logs(tb_logs_req_simple(A, &l, 1));
    ck_assert_uint_eq(b->n_logs, 0);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
}
END_TEST

START_TEST(test_limit_value_nested_bytes_keys_body) {
    set_limits(0, 4, 0, 0);
    static const uint8_t raw[6] = {0, 1, 0x80, 0xff, 4, 5};
    tb_any *arr = tb_array(A, (tb_any *[]){tb_str(A, "123456"), tb_bytes(A, raw, 6)}, 2);
    tb_any *kvl = tb_kvlist(A, (tb_kv *[]){tb_kv_new(A, "longkey", tb_str(A, "xyzxyz"))}, 1);
    tb_log *l = tb_log_new(A, 9, tb_str(A, "a body longer than four bytes"));
    l->n_attributes = 3;
    l->attributes = tb_ptrs(A,
                            (tb_kv *[]){tb_kv_new(A, "arr", arr), tb_kv_new(A, "kvl", kvl),
                                        tb_kv_new(A, "a-long-key", tb_bytes(A, raw, 6))},
                            3);
    model_batch *b = convert_logs(tb_logs_req_simple(A, &l, 1));
    ck_assert_uint_eq(b->n_logs, 1);
    const model_log *lg = &b->logs[0];
    STR_EQ(lg->body.u.str, "a body longer than four bytes"); /* bodies are not cut */
    const model_value *a = &lg->attrs.items[0].value;
    ck_assert_uint_eq(a->u.array.n, 2); /* arrays keep their elements, each value is cut */
    STR_EQ(a->u.array.items[0].u.str, "1234");
    ck_assert_uint_eq(a->u.array.items[1].u.str.len, 4);
    ck_assert_mem_eq(a->u.array.items[1].u.str.ptr, raw, 4);
    STR_EQ(lg->attrs.items[1].value.u.kvlist.items[0].key, "longkey"); /* keys are not cut */
    STR_EQ(lg->attrs.items[1].value.u.kvlist.items[0].value.u.str, "xyzx");
    STR_EQ(lg->attrs.items[2].key, "a-long-key");
    ck_assert_int_eq(lg->attrs.items[2].value.type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(lg->attrs.items[2].value.u.str.len, 4);
    ck_assert_mem_eq(lg->attrs.items[2].value.u.str.ptr, raw, 4);
    model_batch_free(b);
}
END_TEST

static tb_event *event_named(const char *name) {
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, name);
    return ev;
}

static tb_link *link_with(unsigned fill) {
    tb_link *ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 16, fill);
    ln->span_id = tb_id(A, 8, fill);
    return ln;
}

START_TEST(test_limit_events_links) {
    set_limits(0, 0, 2, 1);
    otlp_limit_stats before, after;
    otlp_limit_stats_get(&before);
    tb_span *s = tb_span_new(A, 1, 1, "s");
    s->n_events = 5; /* a NULL element is neither kept nor counted */
    s->events = tb_ptrs(
        A, (tb_event *[]){NULL, event_named("e0"), event_named("e1"), event_named("e2"), event_named("e3")},
        5);
    s->dropped_events_count = 10;
    s->n_links = 3;
    s->links = tb_ptrs(A, (tb_link *[]){link_with(1), link_with(2), link_with(3)}, 3);
    model_batch *b = convert_traces(tb_trace_req_simple(A, &s, 1));
    const model_span *sp = &b->spans[0];
    ck_assert_uint_eq(sp->n_events, 2);
    STR_EQ(sp->events[0].name, "e0");
    STR_EQ(sp->events[1].name, "e1");
    ck_assert_uint_eq(sp->dropped_events, 12);
    ck_assert_uint_eq(sp->n_links, 1);
    ck_assert_int_eq(sp->links[0].trace_id[0], 1);
    ck_assert_uint_eq(sp->dropped_links, 2);
    otlp_limit_stats_get(&after);
    ck_assert_uint_eq(after.events_dropped - before.events_dropped, 2);
    ck_assert_uint_eq(after.links_dropped - before.links_dropped, 2);
    model_batch_free(b);
}
END_TEST

START_TEST(test_limit_zero_is_unlimited) {
    set_limits(0, 0, 0, 0);
    tb_span *s = tb_span_new(A, 1, 1, "s");
    s->n_attributes = 300;
    s->attributes = numbered_attrs(300);
    tb_event **evs = tb_alloc(A, 200 * sizeof(*evs));
    for (size_t i = 0; i < 200; i++)
        evs[i] = event_named("e");
    s->n_events = 200;
    s->events = evs;
    model_batch *b = convert_traces(tb_trace_req_simple(A, &s, 1));
    assert_numbered(&b->spans[0].attrs, 300);
    ck_assert_uint_eq(b->spans[0].n_events, 200);
    ck_assert_uint_eq(b->spans[0].dropped_attrs, 0);
    ck_assert_uint_eq(b->spans[0].dropped_events, 0);
    model_batch_free(b);
}
END_TEST

static Suite *convert_suite(void) {
    Suite *s = suite_create("otlp_convert");
    TCase *tc = tcase_create("traces");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_span_all_fields);
    tcase_add_test(tc, test_span_defaults);
    tcase_add_test(tc, test_resource_scope_shared);
    tcase_add_test(tc, test_span_rejects);
    tcase_add_test(tc, test_reject_message_is_first);
    tcase_add_test(tc, test_bad_resource_rejects_its_items);
    tcase_add_test(tc, test_null_tolerance);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_value_scalars);
    tcase_add_test(tc, test_value_containers);
    tcase_add_test(tc, test_value_depth_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("logs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_log_all_fields);
    tcase_add_test(tc, test_log_rejects);
    suite_add_tcase(s, tc);

    tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_metric_gauge_sum);
    tcase_add_test(tc, test_metric_histogram);
    tcase_add_test(tc, test_metric_exp_histogram);
    tcase_add_test(tc, test_metric_summary);
    tcase_add_test(tc, test_metric_exemplars);
    tcase_add_test(tc, test_metric_skips_and_rejects);
    suite_add_tcase(s, tc);

    tc = tcase_create("batch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_convert_appends);
    tcase_add_test(tc, test_convert_toobig);
    tcase_add_test(tc, test_arena_allocator);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, limits_teardown);
    tcase_add_test(tc, test_limit_defaults);
    tcase_add_test(tc, test_limit_attrs_traces);
    tcase_add_test(tc, test_limit_attrs_logs_metrics);
    tcase_add_test(tc, test_limit_value_utf8_boundary);
    tcase_add_test(tc, test_limit_value_invalid_utf8_past_cut);
    tcase_add_test(tc, test_limit_value_nested_bytes_keys_body);
    tcase_add_test(tc, test_limit_events_links);
    tcase_add_test(tc, test_limit_zero_is_unlimited);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(convert_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
