/* test_otlp_convert_traces.c - spans into the model (server/decode/otlp_convert_traces.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_fixture.h"

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

int main(void) {
    Suite *s = suite_create("otlp_convert_traces");
    TCase *tc = decode_tcase(s, "traces", teardown);
    tcase_add_test(tc, test_span_all_fields);
    tcase_add_test(tc, test_span_defaults);
    tcase_add_test(tc, test_resource_scope_shared);
    tcase_add_test(tc, test_span_rejects);
    tcase_add_test(tc, test_reject_message_is_first);
    tcase_add_test(tc, test_bad_resource_rejects_its_items);
    tcase_add_test(tc, test_null_tolerance);
    return decode_run(s);
}
