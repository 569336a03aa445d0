/* test_otlp_pb.c - OTLP protobuf bodies in (otlp_decode_pb), responses out. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "decode_fixture.h"

/* Packs msg, decodes it as sig with no limit, expects OTLP_OK. */
static model_batch *roundtrip(model_signal sig, const ProtobufCMessage *msg) {
    size_t len;
    uint8_t *bytes = tb_pack(msg, &len);
    model_batch *b = NULL;
    char err[256] = "untouched";
    int rc = otlp_decode_pb(sig, bytes, len, 0, &b, err, sizeof(err));
    free(bytes);
    ck_assert_msg(rc == OTLP_OK, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->signal, sig);
    return b;
}

/* Decodes bytes expecting failure `want`; checks the out-params. */
static void expect_fail(model_signal sig, const void *data, size_t len, size_t limit, int want,
                        const char *msg_part) {
    model_batch *b = (model_batch *)&b; /* must be reset to NULL */
    char err[256] = "";
    int rc = otlp_decode_pb(sig, data, len, limit, &b, err, sizeof(err));
    ck_assert_msg(rc == want, "rc %d, want %d (%s)", rc, want, err);
    ck_assert_ptr_null(b);
    ck_assert_msg(err[0] != '\0', "no error message");
    if (msg_part != NULL)
        ck_assert_msg(strstr(err, msg_part) != NULL, "'%s' lacks '%s'", err, msg_part);
}

/* Every AnyValue type, as attributes. */
static tb_kv **all_value_attrs(size_t *n) {
    tb_kv *kvs[] = {
        tb_kv_new(A, "s", tb_str(A, "text ü")),
        tb_kv_new(A, "b", tb_bool(A, 1)),
        tb_kv_new(A, "i", tb_int(A, -9007199254740993LL)),
        tb_kv_new(A, "d", tb_double(A, 0.1)),
        tb_kv_new(A, "y", tb_bytes(A, "\x00\xFF\x10", 3)),
        tb_kv_new(A, "a", tb_array(A, TB_LIST(tb_any, tb_int(A, 1), tb_str(A, "two")))),
        tb_kv_new(A, "m", tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "inner", tb_array(A, TB_LIST(tb_any, tb_bool(A, 0))))))),
        tb_kv_new(A, "e", tb_empty(A)),
        tb_kv_new(A, "ea", tb_array(A, NULL, 0)),
    };
    *n = sizeof(kvs) / sizeof(kvs[0]);
    return tb_ptrs(A, kvs, *n);
}

static void check_all_value_attrs(const model_attrs *at) {
    ck_assert_uint_eq(at->n, 9);
    const model_kv *kv = at->items;
    STR_EQ(kv[0].key, "s");
    ck_assert_int_eq(kv[0].value.type, MODEL_VALUE_STRING);
    STR_EQ(kv[0].value.u.str, "text ü");
    ck_assert_int_eq(kv[1].value.type, MODEL_VALUE_BOOL);
    ck_assert_int_eq(kv[1].value.u.boolean, 1);
    ck_assert_int_eq(kv[2].value.type, MODEL_VALUE_INT);
    ck_assert(kv[2].value.u.integer == -9007199254740993LL);
    ck_assert_int_eq(kv[3].value.type, MODEL_VALUE_DOUBLE);
    ck_assert(kv[3].value.u.dbl == 0.1);
    ck_assert_int_eq(kv[4].value.type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(kv[4].value.u.str.len, 3);
    ck_assert_mem_eq(kv[4].value.u.str.ptr, "\x00\xFF\x10", 3);
    ck_assert_int_eq(kv[5].value.type, MODEL_VALUE_ARRAY);
    ck_assert_uint_eq(kv[5].value.u.array.n, 2);
    ck_assert_int_eq(kv[5].value.u.array.items[0].u.integer, 1);
    STR_EQ(kv[5].value.u.array.items[1].u.str, "two");
    ck_assert_int_eq(kv[6].value.type, MODEL_VALUE_KVLIST);
    ck_assert_uint_eq(kv[6].value.u.kvlist.n, 1);
    STR_EQ(kv[6].value.u.kvlist.items[0].key, "inner");
    const model_value *inner = &kv[6].value.u.kvlist.items[0].value;
    ck_assert_int_eq(inner->type, MODEL_VALUE_ARRAY);
    ck_assert_uint_eq(inner->u.array.n, 1);
    ck_assert_int_eq(inner->u.array.items[0].type, MODEL_VALUE_BOOL);
    ck_assert_int_eq(inner->u.array.items[0].u.boolean, 0);
    ck_assert_int_eq(kv[7].value.type, MODEL_VALUE_EMPTY);
    ck_assert_int_eq(kv[8].value.type, MODEL_VALUE_ARRAY);
    ck_assert_uint_eq(kv[8].value.u.array.n, 0);
}

/* ---- decoding over the wire --------------------------------------------- */

START_TEST(test_traces_roundtrip) {
    tb_span *s = tb_span_new(A, 0xA1, 0xB2, "checkout");
    s->parent_span_id = tb_id(A, 8, 0xC3);
    s->trace_state = tb_strdup(A, "rojo=00f067aa0ba902b7");
    s->flags = 0x101;
    s->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
    s->start_time_unix_nano = 1;
    s->end_time_unix_nano = UINT64_MAX;
    s->attributes = all_value_attrs(&s->n_attributes);
    s->dropped_attributes_count = 1;
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, "retry");
    ev->time_unix_nano = 42;
    ev->dropped_attributes_count = 2;
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){ev}, 1);
    s->dropped_events_count = 3;
    tb_link *ln = tb_alloc(A, sizeof(*ln));
    opentelemetry__proto__trace__v1__span__link__init(ln);
    ln->trace_id = tb_id(A, 16, 0xD4);
    ln->span_id = tb_id(A, 8, 0xE5);
    ln->trace_state = tb_strdup(A, "x=y");
    ln->flags = 1;
    ln->dropped_attributes_count = 4;
    s->n_links = 1;
    s->links = tb_ptrs(A, (tb_link *[]){ln}, 1);
    s->dropped_links_count = 5;
    tb_status *st = tb_alloc(A, sizeof(*st));
    opentelemetry__proto__trace__v1__status__init(st);
    st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK;
    st->message = tb_strdup(A, "fine");
    s->status = st;
    tb_span *s2 = tb_span_new(A, 0xA1, 0xB3, "child");
    tb_trace_req *req = tb_trace_req_simple(A, TB_LIST(tb_span, s, s2));
    req->resource_spans[0]->schema_url = tb_strdup(A, "https://opentelemetry.io/schemas/1.21.0");

    model_batch *b = roundtrip(MODEL_SIGNAL_TRACES, &req->base);
    ck_assert_uint_eq(b->n_spans, 2);
    ck_assert_int_eq(b->rejected, 0);
    const model_span *m = &b->spans[0];
    ck_assert_uint_eq(m->trace_id[0], 0xA1);
    ck_assert_uint_eq(m->span_id[7], 0xB2);
    ck_assert_int_eq(m->has_parent, 1);
    ck_assert_uint_eq(m->parent_span_id[3], 0xC3);
    STR_EQ(m->trace_state, "rojo=00f067aa0ba902b7");
    ck_assert_uint_eq(m->flags, 0x101);
    STR_EQ(m->name, "checkout");
    ck_assert_int_eq(m->kind, MODEL_SPAN_KIND_CLIENT);
    ck_assert_uint_eq(m->start_ns, 1);
    ck_assert(m->end_ns == UINT64_MAX);
    check_all_value_attrs(&m->attrs);
    ck_assert_uint_eq(m->dropped_attrs, 1);
    ck_assert_uint_eq(m->n_events, 1);
    STR_EQ(m->events[0].name, "retry");
    ck_assert_uint_eq(m->events[0].time_ns, 42);
    ck_assert_uint_eq(m->events[0].dropped_attrs, 2);
    ck_assert_uint_eq(m->dropped_events, 3);
    ck_assert_uint_eq(m->n_links, 1);
    ck_assert_uint_eq(m->links[0].trace_id[9], 0xD4);
    ck_assert_uint_eq(m->links[0].span_id[1], 0xE5);
    STR_EQ(m->links[0].trace_state, "x=y");
    ck_assert_uint_eq(m->links[0].flags, 1);
    ck_assert_uint_eq(m->links[0].dropped_attrs, 4);
    ck_assert_uint_eq(m->dropped_links, 5);
    ck_assert_int_eq(m->status_code, MODEL_STATUS_OK);
    STR_EQ(m->status_message, "fine");
    STR_EQ(m->resource->service_name, "svc");
    STR_EQ(m->resource->schema_url, "https://opentelemetry.io/schemas/1.21.0");
    STR_EQ(m->scope->name, "lib");
    STR_EQ(m->scope->version, "1.0");
    ck_assert_ptr_eq(b->spans[1].resource, m->resource);
    ck_assert_ptr_eq(b->spans[1].scope, m->scope);
    ck_assert_int_eq(b->spans[1].has_parent, 0);
    ck_assert_uint_gt(model_batch_bytes(b), 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_logs_roundtrip) {
    tb_log *l1 = tb_log_new(A, 13, tb_str(A, "warn line"));
    l1->severity_text = tb_strdup(A, "WARN");
    l1->observed_time_unix_nano = 6000;
    l1->trace_id = tb_id(A, 16, 0x12);
    l1->span_id = tb_id(A, 8, 0x34);
    l1->flags = 1;
    l1->event_name = tb_strdup(A, "browser.click");
    l1->attributes = all_value_attrs(&l1->n_attributes);
    l1->dropped_attributes_count = 8;
    tb_log *l2 = tb_log_new(A, 0, NULL);
    tb_log *l3 = tb_log_new(A, 21, tb_kvlist(A, TB_LIST(tb_kv, tb_kv_new(A, "code", tb_int(A, 7)))));
    tb_log *l4 = tb_log_new(A, 5, tb_bytes(A, "\x01\x02", 2));
    tb_log *l5 = tb_log_new(A, 5, tb_array(A, TB_LIST(tb_any, tb_double(A, 1.5))));
    tb_logs_req *req = tb_logs_req_simple(A, TB_LIST(tb_log, l1, l2, l3, l4, l5));
    model_batch *b = roundtrip(MODEL_SIGNAL_LOGS, &req->base);
    ck_assert_uint_eq(b->n_logs, 5);
    ck_assert_int_eq(b->rejected, 0);
    const model_log *m = &b->logs[0];
    ck_assert_int_eq(m->severity_number, 13);
    STR_EQ(m->severity_text, "WARN");
    ck_assert_uint_eq(m->time_ns, 5000);
    ck_assert_uint_eq(m->observed_time_ns, 6000);
    ck_assert_int_eq(m->body.type, MODEL_VALUE_STRING);
    STR_EQ(m->body.u.str, "warn line");
    ck_assert_int_eq(m->has_trace_id, 1);
    ck_assert_uint_eq(m->trace_id[0], 0x12);
    ck_assert_int_eq(m->has_span_id, 1);
    ck_assert_uint_eq(m->span_id[0], 0x34);
    ck_assert_uint_eq(m->flags, 1);
    STR_EQ(m->event_name, "browser.click");
    check_all_value_attrs(&m->attrs);
    ck_assert_uint_eq(m->dropped_attrs, 8);
    STR_EQ(m->resource->service_name, "logsvc");
    ck_assert_int_eq(b->logs[1].body.type, MODEL_VALUE_EMPTY);
    ck_assert_int_eq(b->logs[1].has_trace_id, 0);
    ck_assert_int_eq(b->logs[2].body.type, MODEL_VALUE_KVLIST);
    ck_assert_int_eq(b->logs[2].body.u.kvlist.items[0].value.u.integer, 7);
    ck_assert_int_eq(b->logs[3].body.type, MODEL_VALUE_BYTES);
    ck_assert_uint_eq(b->logs[3].body.u.str.len, 2);
    ck_assert_int_eq(b->logs[4].body.type, MODEL_VALUE_ARRAY);
    model_batch_free(b);
}
END_TEST

START_TEST(test_metrics_roundtrip) {
    tb_npoint *gp = tb_npoint_double(A, 0.75);
    gp->start_time_unix_nano = 10;
    tb_exemplar *ex = tb_exemplar_new(A, 16, 8);
    ex->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT;
    ex->as_int = 3;
    gp->n_exemplars = 1;
    gp->exemplars = tb_ptrs(A, (tb_exemplar *[]){ex}, 1);
    tb_metric *g = tb_gauge(A, "g", TB_LIST(tb_npoint, gp));
    tb_metric *s = tb_sum(A, "s", 2, 1, TB_LIST(tb_npoint, tb_npoint_int(A, 99)));
    const double bounds[] = {0.5, 1};
    const uint64_t counts[] = {3, 2, 1};
    tb_hpoint *h1 = tb_hpoint_new(A, bounds, 2, counts, 3);
    h1->count = 6;
    h1->sum_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    h1->sum = 0; /* present although zero */
    h1->min_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
    h1->min = -0.0;
    tb_hpoint *h2 = tb_hpoint_new(A, NULL, 0, NULL, 0);
    h2->count = 1;
    h2->max_present_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
    h2->max = 8;
    tb_metric *h = tb_histogram(A, "h", 1, TB_LIST(tb_hpoint, h1, h2));
    tb_epoint *ep = tb_alloc(A, sizeof(*ep));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(ep);
    const uint64_t pos[] = {4, 5};
    ep->positive = tb_buckets_new(A, 3, pos, 2);
    ep->scale = 2;
    ep->count = 9;
    ep->zero_count = 0;
    tb_metric *e = tb_exp_histogram(A, "e", 2, TB_LIST(tb_epoint, ep));
    tb_spoint *sp = tb_alloc(A, sizeof(*sp));
    opentelemetry__proto__metrics__v1__summary_data_point__init(sp);
    sp->count = 2;
    sp->sum = 3;
    tb_quantile *q = tb_alloc(A, sizeof(*q));
    opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(q);
    q->quantile = 1;
    q->value = 2.5;
    sp->n_quantile_values = 1;
    sp->quantile_values = tb_ptrs(A, (tb_quantile *[]){q}, 1);
    tb_metric *sm = tb_summary(A, "sum", TB_LIST(tb_spoint, sp));
    tb_metrics_req *req = tb_metrics_req_simple(A, TB_LIST(tb_metric, g, s, h, e, sm));

    model_batch *b = roundtrip(MODEL_SIGNAL_METRICS, &req->base);
    ck_assert_uint_eq(b->n_metrics, 5);
    ck_assert_uint_eq(b->n_points, 6);
    ck_assert_int_eq(b->rejected, 0);
    const model_point *p = b->points;
    ck_assert_int_eq(p[0].metric->type, MODEL_METRIC_GAUGE);
    ck_assert(p[0].as_double == 0.75);
    ck_assert_uint_eq(p[0].start_time_ns, 10);
    ck_assert_uint_eq(p[0].n_exemplars, 1);
    ck_assert_int_eq(p[0].exemplars[0].is_int, 1);
    ck_assert_int_eq(p[0].exemplars[0].as_int, 3);
    ck_assert_int_eq(p[0].exemplars[0].has_trace_id, 1);
    ck_assert_int_eq(p[1].metric->type, MODEL_METRIC_SUM);
    ck_assert_int_eq(p[1].metric->monotonic, 1);
    ck_assert_int_eq(p[1].metric->temporality, MODEL_TEMPORALITY_CUMULATIVE);
    ck_assert_int_eq(p[1].is_int, 1);
    ck_assert_int_eq(p[1].as_int, 99);
    ck_assert_int_eq(p[2].metric->type, MODEL_METRIC_HISTOGRAM);
    ck_assert_int_eq(p[2].metric->temporality, MODEL_TEMPORALITY_DELTA);
    ck_assert_uint_eq(p[2].count, 6);
    ck_assert_int_eq(p[2].has_sum, 1); /* the oneof survives a zero value */
    ck_assert(p[2].sum == 0);
    ck_assert_int_eq(p[2].has_min, 1);
    ck_assert_int_eq(p[2].has_max, 0);
    ck_assert_uint_eq(p[2].n_bounds, 2);
    ck_assert_uint_eq(p[2].n_bucket_counts, 3);
    ck_assert(p[2].bounds[1] == 1);
    ck_assert_uint_eq(p[2].bucket_counts[2], 1);
    ck_assert_int_eq(p[3].has_sum, 0);
    ck_assert_int_eq(p[3].has_min, 0);
    ck_assert_int_eq(p[3].has_max, 1);
    ck_assert(p[3].max == 8);
    ck_assert_ptr_eq(p[3].metric, p[2].metric);
    ck_assert_int_eq(p[4].metric->type, MODEL_METRIC_EXP_HISTOGRAM);
    ck_assert_int_eq(p[4].scale, 2);
    ck_assert_int_eq(p[4].positive_offset, 3);
    ck_assert_uint_eq(p[4].n_positive, 2);
    ck_assert_uint_eq(p[4].positive_counts[1], 5);
    ck_assert_uint_eq(p[4].n_negative, 0);
    ck_assert_int_eq(p[5].metric->type, MODEL_METRIC_SUMMARY);
    ck_assert_uint_eq(p[5].n_quantiles, 1);
    ck_assert(p[5].quantiles[0].value == 2.5);
    STR_EQ(p[5].metric->resource->service_name, "msvc");
    model_batch_free(b);
}
END_TEST

START_TEST(test_empty_requests) {
    static const model_signal sigs[] = {MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS};
    for (size_t i = 0; i < 3; i++) {
        model_batch *b = NULL;
        char err[64];
        /* A zero-length body is a valid, empty request. */
        ck_assert_int_eq(otlp_decode_pb(sigs[i], (const uint8_t *)"", 0, 0, &b, err, sizeof(err)), OTLP_OK);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(model_batch_items(b), 0);
        ck_assert_int_eq(b->rejected, 0);
        model_batch_free(b);
        ck_assert_int_eq(otlp_decode_pb(sigs[i], NULL, 0, 0, &b, err, sizeof(err)), OTLP_OK);
        model_batch_free(b);
    }
    /* Resources and scopes without items. */
    tb_trace_req *req = tb_trace_req_new(
        A, TB_LIST(tb_rspans, tb_rspans_new(A, tb_resource_new(A, NULL, 0), TB_LIST(tb_sspans, tb_sspans_new(A, NULL, NULL, 0)))));
    model_batch *b = roundtrip(MODEL_SIGNAL_TRACES, &req->base);
    ck_assert_uint_eq(b->n_spans, 0);
    ck_assert_int_eq(b->rejected, 0);
    model_batch_free(b);
}
END_TEST

START_TEST(test_rejects_over_the_wire) {
    tb_span *bad_name = tb_span_new(A, 1, 1, "bad \xE0\x80\x80");
    tb_span *short_id = tb_span_new(A, 1, 2, "short");
    short_id->trace_id = tb_id(A, 8, 1);
    tb_span *zero_id = tb_span_new(A, 1, 0, "zero");
    tb_span *bad_key = tb_span_new(A, 1, 3, "bad key");
    bad_key->n_attributes = 1;
    bad_key->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "\xFF\xFE", tb_str(A, "v"))}, 1);
    tb_span *deep = tb_span_new(A, 1, 4, "deep");
    deep->n_attributes = 1;
    deep->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "d", tb_nested_arrays(A, 33))}, 1);
    tb_span *ok1 = tb_span_new(A, 1, 5, "ok1");
    tb_span *ok2 = tb_span_new(A, 1, 6, "ok2");
    tb_trace_req *req =
        tb_trace_req_simple(A, TB_LIST(tb_span, bad_name, ok1, short_id, zero_id, bad_key, deep, ok2));
    model_batch *b = roundtrip(MODEL_SIGNAL_TRACES, &req->base);
    ck_assert_uint_eq(b->n_spans, 2);
    ck_assert_int_eq(b->rejected, 5);
    STR_EQ(b->spans[0].name, "ok1");
    STR_EQ(b->spans[1].name, "ok2");
    ck_assert_ptr_nonnull(strstr(b->reject_message.ptr, "span name is not valid UTF-8"));
    model_batch_free(b);
}
END_TEST

START_TEST(test_truncated) {
    /* One ResourceSpans spans the whole body, so every proper prefix ends
     * inside a length-delimited field. */
    tb_span *s = tb_span_new(A, 1, 1, "span");
    size_t n;
    s->attributes = all_value_attrs(&n);
    s->n_attributes = n;
    size_t len;
    uint8_t *bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, s))->base, &len);
    ck_assert_uint_gt(len, 100);
    for (size_t cut = 1; cut < len; cut++) {
        uint8_t *copy = malloc(cut); /* exact size: ASan sees any overread */
        memcpy(copy, bytes, cut);
        expect_fail(MODEL_SIGNAL_TRACES, copy, cut, 0, OTLP_EDECODE, "malformed");
        free(copy);
    }
    free(bytes);
}
END_TEST

START_TEST(test_garbage) {
    static const struct {
        const char *data;
        size_t len;
    } cases[] = {
        {"\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12}, /* endless varint */
        {"{\"resourceSpans\":[]}", 20},                         /* JSON sent as protobuf */
        {"\x0F\x00", 2},                                         /* wire type 7 */
        {"\x00\x00", 2},                                         /* field number 0 */
        {"\x0A\xFF\xFF\xFF\xFF\x0F", 6},                         /* length past the end */
        {"\x0A\x05\x0A\x80", 4},                                 /* nested length past its parent */
        {"\x0A", 1},
        {"\x0B\x0C", 2}, /* a group */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_fail(MODEL_SIGNAL_TRACES, cases[i].data, cases[i].len, 0, OTLP_EDECODE, NULL);
        expect_fail(MODEL_SIGNAL_LOGS, cases[i].data, cases[i].len, 0, OTLP_EDECODE, NULL);
        expect_fail(MODEL_SIGNAL_METRICS, cases[i].data, cases[i].len, 0, OTLP_EDECODE, NULL);
    }
    expect_fail((model_signal)7, "", 0, 0, OTLP_EDECODE, "signal");
    /* A non-NULL err with errlen 0, and a NULL err, are allowed. */
    model_batch *b = NULL;
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, (const uint8_t *)"\x0A", 1, 0, &b, NULL, 0), OTLP_EDECODE);
    char one[1] = {'x'};
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, (const uint8_t *)"\x0A", 1, 0, &b, one, 0), OTLP_EDECODE);
    ck_assert_int_eq(one[0], 'x');
}
END_TEST

START_TEST(test_unknown_fields_skipped) {
    /* Fields a newer OTLP may add are ignored, at every level. */
    tb_trace_req *req = tb_trace_req_simple(A, TB_LIST(tb_span, tb_span_new(A, 1, 1, "x")));
    size_t len;
    uint8_t *bytes = tb_pack(&req->base, &len);
    uint8_t *more = malloc(len + 16);
    memcpy(more, bytes, len);
    /* field 99 varint, field 100 fixed64, field 101 bytes. */
    static const uint8_t extra[] = {0x98, 0x06, 0x01, 0xA1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xAA, 0x06, 0x00};
    memcpy(more + len, extra, sizeof(extra));
    model_batch *b = NULL;
    char err[128];
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, more, len + sizeof(extra), 0, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 1);
    model_batch_free(b);
    free(more);
    free(bytes);
}
END_TEST

/* Writes protobuf bytes backwards, so that nesting can be built inside out
 * in linear time. */
typedef struct rev {
    uint8_t *buf;
    size_t pos; /* bytes in use are buf[pos..cap) */
    size_t cap;
} rev;

static void rev_bytes(rev *r, const void *data, size_t n) {
    ck_assert_uint_ge(r->pos, n);
    r->pos -= n;
    memcpy(r->buf + r->pos, data, n);
}

static void rev_varint(rev *r, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    rev_bytes(r, tmp, n);
}

/* Wraps everything written since `mark` (bytes from pos to cap-mark...) as
 * a length-delimited field. `inner_end` is r->cap - size_before. */
static void rev_wrap(rev *r, unsigned field, size_t inner_len) {
    rev_varint(r, inner_len);
    rev_varint(r, (uint64_t)field << 3 | 2);
}

static size_t rev_len(const rev *r) {
    return r->cap - r->pos;
}

/* A trace request whose one span has an attribute of `levels` nested
 * arrays. */
static void build_deep(rev *r, int levels) {
    r->cap = (size_t)levels * 16 + 256;
    r->buf = malloc(r->cap);
    r->pos = r->cap;
    static const uint8_t leaf[] = {0x18, 0x07}; /* AnyValue.int_value = 7 */
    rev_bytes(r, leaf, sizeof(leaf));
    for (int i = 0; i < levels; i++) {
        rev_wrap(r, 1, rev_len(r)); /* ArrayValue.values */
        rev_wrap(r, 5, rev_len(r)); /* AnyValue.array_value */
    }
    rev_wrap(r, 2, rev_len(r)); /* KeyValue.value */
    rev_bytes(r, "\x0A\x01k", 3); /* KeyValue.key */
    rev_wrap(r, 9, rev_len(r)); /* Span.attributes */
    static const uint8_t ids[] = {0x0A, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                  0x12, 8,  2, 2, 2, 2, 2, 2, 2, 2};
    rev_bytes(r, ids, sizeof(ids));
    rev_wrap(r, 2, rev_len(r)); /* ScopeSpans.spans */
    rev_wrap(r, 2, rev_len(r)); /* ResourceSpans.scope_spans */
    rev_wrap(r, 1, rev_len(r)); /* Request.resource_spans */
}

START_TEST(test_deep_nesting) {
    rev r;
    /* Deep enough to blow a thread's stack in a recursive unpacker. */
    build_deep(&r, 200000);
    expect_fail(MODEL_SIGNAL_TRACES, r.buf + r.pos, rev_len(&r), 0, OTLP_EDECODE, "nested deeper");
    free(r.buf);

    /* Within the wire limit but past MODEL_MAX_VALUE_DEPTH: only the span is
     * rejected. */
    build_deep(&r, 36);
    model_batch *b = NULL;
    char err[128];
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, r.buf + r.pos, rev_len(&r), 0, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 0);
    ck_assert_int_eq(b->rejected, 1);
    model_batch_free(b);
    free(r.buf);

    /* At the model's limit: accepted, 32 levels deep. */
    build_deep(&r, MODEL_MAX_VALUE_DEPTH);
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, r.buf + r.pos, rev_len(&r), 0, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 1);
    const model_value *v = &b->spans[0].attrs.items[0].value;
    for (int i = 0; i < MODEL_MAX_VALUE_DEPTH; i++) {
        ck_assert_int_eq(v->type, MODEL_VALUE_ARRAY);
        v = &v->u.array.items[0];
    }
    ck_assert_int_eq(v->u.integer, 7);
    model_batch_free(b);
    free(r.buf);
}
END_TEST

START_TEST(test_mutations) {
    /* Random corruptions of a valid body decode or fail cleanly (ASan and
     * UBSan watch the rest). Bounded: 3000 mutants of ~600 bytes. */
    tb_span *s = tb_span_new(A, 1, 1, "span");
    size_t n;
    s->attributes = all_value_attrs(&n);
    s->n_attributes = n;
    tb_event *ev = tb_alloc(A, sizeof(*ev));
    opentelemetry__proto__trace__v1__span__event__init(ev);
    ev->name = tb_strdup(A, "ev");
    s->n_events = 1;
    s->events = tb_ptrs(A, (tb_event *[]){ev}, 1);
    size_t len;
    uint8_t *bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, s, tb_span_new(A, 2, 2, "b")))->base, &len);
    unsigned seed = 12345;
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *m = malloc(len);
        memcpy(m, bytes, len);
        int flips = 1 + (int)(rand_r(&seed) % 4);
        for (int f = 0; f < flips; f++)
            m[rand_r(&seed) % len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
        size_t mlen = (rand_r(&seed) % 4 == 0) ? rand_r(&seed) % len : len;
        model_signal sig = (model_signal)(rand_r(&seed) % 3);
        model_batch *b = NULL;
        char err[128];
        int rc = otlp_decode_pb(sig, m, mlen, 0, &b, err, sizeof(err));
        ck_assert_msg(rc == OTLP_OK || rc == OTLP_EDECODE, "rc %d", rc);
        if (rc == OTLP_OK) {
            ck_assert_ptr_nonnull(b);
            ok++;
        } else {
            ck_assert_ptr_null(b);
            bad++;
        }
        model_batch_free(b);
        free(m);
    }
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(bad, 0);
    free(bytes);
}
END_TEST

/* ---- limits --------------------------------------------------------------- */

static uint8_t *big_trace_body(size_t *len, int spans) {
    tb_span **list = tb_alloc(A, (size_t)spans * sizeof(*list));
    char val[200];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (int i = 0; i < spans; i++) {
        list[i] = tb_span_new(A, 1, (unsigned)(i % 250) + 1, "op");
        list[i]->n_attributes = 1;
        list[i]->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "attr", tb_str(A, val))}, 1);
    }
    return tb_pack(&tb_trace_req_simple(A, list, (size_t)spans)->base, len);
}

START_TEST(test_mem_limit) {
    size_t len;
    uint8_t *bytes = big_trace_body(&len, 2000);
    /* Too small for even the batch's first chunk. */
    expect_fail(MODEL_SIGNAL_TRACES, bytes, len, 1000, OTLP_ETOOBIG, "1000");
    /* Room for some spans but not all. */
    expect_fail(MODEL_SIGNAL_TRACES, bytes, len, 200 * 1024, OTLP_ETOOBIG, "limit");
    /* Enough. */
    model_batch *b = NULL;
    char err[128];
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, bytes, len, 16 * 1024 * 1024, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 2000);
    ck_assert_uint_le(model_batch_bytes(b), 16 * 1024 * 1024);
    model_batch_free(b);
    free(bytes);
}
END_TEST

START_TEST(test_expansion_cap) {
    /* 300000 empty spans: 2 bytes each on the wire, a few hundred bytes each
     * once unpacked. The temporary arena's cap refuses it. */
    const size_t n = 300000;
    rev r;
    r.cap = n * 2 + 64;
    r.buf = malloc(r.cap);
    r.pos = r.cap;
    for (size_t i = 0; i < n; i++)
        rev_bytes(&r, "\x12\x00", 2); /* ScopeSpans.spans = {} */
    rev_wrap(&r, 2, rev_len(&r));
    rev_wrap(&r, 1, rev_len(&r));
    expect_fail(MODEL_SIGNAL_TRACES, r.buf + r.pos, rev_len(&r), 0, OTLP_ETOOBIG, "expands");
    free(r.buf);

    /* A modest number of them is fine (and each one is rejected). */
    r.cap = 1000 * 2 + 64;
    r.buf = malloc(r.cap);
    r.pos = r.cap;
    for (size_t i = 0; i < 1000; i++)
        rev_bytes(&r, "\x12\x00", 2);
    rev_wrap(&r, 2, rev_len(&r));
    rev_wrap(&r, 1, rev_len(&r));
    model_batch *b = NULL;
    char err[128];
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, r.buf + r.pos, rev_len(&r), 0, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->n_spans, 0);
    ck_assert_int_eq(b->rejected, 1000);
    model_batch_free(b);
    free(r.buf);
}
END_TEST

START_TEST(test_dense_but_legit) {
    /* The densest legitimate shapes known expand up to ~25x when unpacked;
     * they stay under the temporary arena's cap. */
    const size_t n = 100000;
    tb_span *s = tb_span_new(A, 1, 1, "dense");
    s->n_attributes = n;
    s->attributes = tb_alloc(A, n * sizeof(*s->attributes));
    for (size_t i = 0; i < n; i++)
        s->attributes[i] = tb_kv_new(A, "a", tb_int(A, 1));
    size_t len;
    uint8_t *bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, s))->base, &len);
    model_batch *b = NULL;
    char err[256];
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, bytes, len, 0, &b, err, sizeof(err)), OTLP_OK);
    /* unpacked whole; the converter then keeps the default 128 attributes */
    ck_assert_uint_eq(b->spans[0].attrs.n, OTLP_DEFAULT_MAX_ATTRS);
    ck_assert_uint_eq(b->spans[0].dropped_attrs, n - OTLP_DEFAULT_MAX_ATTRS);
    model_batch_free(b);
    free(bytes);

    tb_any **items = tb_alloc(A, n * sizeof(*items));
    for (size_t i = 0; i < n; i++)
        items[i] = tb_bool(A, (int)(i & 1));
    s = tb_span_new(A, 1, 1, "bools");
    s->n_attributes = 1;
    s->attributes = tb_ptrs(A, (tb_kv *[]){tb_kv_new(A, "arr", tb_array(A, items, n))}, 1);
    bytes = tb_pack(&tb_trace_req_simple(A, TB_LIST(tb_span, s))->base, &len);
    ck_assert_int_eq(otlp_decode_pb(MODEL_SIGNAL_TRACES, bytes, len, 0, &b, err, sizeof(err)), OTLP_OK);
    ck_assert_uint_eq(b->spans[0].attrs.items[0].value.u.array.n, n);
    ck_assert_int_eq(b->spans[0].attrs.items[0].value.u.array.items[n - 1].u.boolean, 1);
    model_batch_free(b);
    free(bytes);
}
END_TEST

/* ---- threads ------------------------------------------------------------- */

typedef struct thread_arg {
    const uint8_t *bytes;
    size_t len;
    int failures;
} thread_arg;

static void *decode_thread(void *p) {
    thread_arg *t = p;
    for (int i = 0; i < 100; i++) {
        model_batch *b = NULL;
        char err[128];
        if (otlp_decode_pb(MODEL_SIGNAL_TRACES, t->bytes, t->len, 0, &b, err, sizeof(err)) != OTLP_OK ||
            b->n_spans != 300 || b->spans[299].name.len != 2)
            t->failures++;
        model_batch_free(b);
    }
    return NULL;
}

START_TEST(test_threads) {
    /* The temporary arena is per thread: concurrent decodes do not mix. */
    size_t len;
    uint8_t *bytes = big_trace_body(&len, 300);
    thread_arg args[2] = {{bytes, len, 0}, {bytes, len, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, decode_thread, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_int_eq(args[0].failures, 0);
    ck_assert_int_eq(args[1].failures, 0);
    free(bytes);
}
END_TEST

/* ---- responses ----------------------------------------------------------- */

START_TEST(test_response_traces) {
    buf out;
    buf_init(&out, 1024);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_TRACES, 0, "ignored", &out), OTLP_OK);
    ck_assert_uint_eq(out.len, 0); /* an empty message */
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, out.len, (const uint8_t *)"");
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_null(r->partial_success);
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);

    buf_reset(&out);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_TRACES, 3, "span rejected: trace_id", &out), OTLP_OK);
    r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, out.len, (const uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(r->partial_success);
    ck_assert_int_eq(r->partial_success->rejected_spans, 3);
    ck_assert_str_eq(r->partial_success->error_message, "span rejected: trace_id");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);

    /* Appends after what is there. */
    buf_reset(&out);
    ck_assert_int_eq(buf_append(&out, "PFX", 3), BUF_OK);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_TRACES, 1, NULL, &out), OTLP_OK);
    ck_assert_mem_eq(out.ptr, "PFX", 3);
    ck_assert_int_eq(out.ptr[out.len], '\0');
    r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, out.len - 3, (const uint8_t *)out.ptr + 3);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->partial_success->rejected_spans, 1);
    ck_assert_str_eq(r->partial_success->error_message, "");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);
    buf_free(&out);

    /* A buffer too small for the answer. */
    buf_init(&out, 4);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_TRACES, 1, "a long message", &out), OTLP_ETOOBIG);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

START_TEST(test_response_logs_metrics) {
    buf out;
    buf_init(&out, 1024);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_LOGS, 7, "log record rejected", &out), OTLP_OK);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *lr =
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(NULL, out.len, (const uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(lr);
    ck_assert_int_eq(lr->partial_success->rejected_log_records, 7);
    ck_assert_str_eq(lr->partial_success->error_message, "log record rejected");
    opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(lr, NULL);

    buf_reset(&out);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_METRICS, 1LL << 40, "points", &out), OTLP_OK);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *mr =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(NULL, out.len, (const uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(mr);
    ck_assert(mr->partial_success->rejected_data_points == (1LL << 40));
    ck_assert_str_eq(mr->partial_success->error_message, "points");
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(mr, NULL);

    buf_reset(&out);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_METRICS, 0, NULL, &out), OTLP_OK);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(otlp_response_pb(MODEL_SIGNAL_LOGS, 0, NULL, &out), OTLP_OK);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_ne(otlp_response_pb((model_signal)9, 1, "x", &out), OTLP_OK);
    buf_free(&out);
}
END_TEST

START_TEST(test_status) {
    buf out;
    buf_init(&out, 1024);
    ck_assert_int_eq(otlp_status_pb(OTLP_GRPC_INVALID_ARGUMENT, "malformed protobuf", &out), OTLP_OK);
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, out.len, (const uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(st->code, OTLP_GRPC_INVALID_ARGUMENT);
    ck_assert_str_eq(st->message, "malformed protobuf");
    google__rpc__status__free_unpacked(st, NULL);

    buf_reset(&out);
    ck_assert_int_eq(otlp_status_pb(OTLP_GRPC_UNAVAILABLE, NULL, &out), OTLP_OK);
    st = google__rpc__status__unpack(NULL, out.len, (const uint8_t *)out.ptr);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(st->code, OTLP_GRPC_UNAVAILABLE);
    ck_assert_str_eq(st->message, "");
    google__rpc__status__free_unpacked(st, NULL);

    buf_reset(&out);
    ck_assert_int_eq(otlp_status_pb(OTLP_GRPC_OK, "", &out), OTLP_OK);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);

    buf_init(&out, 3);
    ck_assert_int_eq(otlp_status_pb(OTLP_GRPC_INTERNAL, "too long", &out), OTLP_ETOOBIG);
    buf_free(&out);
}
END_TEST

START_TEST(test_strerror) {
    const int codes[] = {OTLP_OK, OTLP_EDECODE, OTLP_ENOMEM, OTLP_ETOOBIG, -99};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_ptr_nonnull(otlp_strerror(codes[i]));
        ck_assert_uint_gt(strlen(otlp_strerror(codes[i])), 0);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(otlp_strerror(codes[i]), otlp_strerror(codes[j]));
    }
}
END_TEST

static Suite *pb_suite(void) {
    Suite *s = suite_create("otlp_pb");
    TCase *tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_traces_roundtrip);
    tcase_add_test(tc, test_logs_roundtrip);
    tcase_add_test(tc, test_metrics_roundtrip);
    tcase_add_test(tc, test_empty_requests);
    tcase_add_test(tc, test_rejects_over_the_wire);
    tcase_add_test(tc, test_unknown_fields_skipped);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_mem_limit);
    tcase_add_test(tc, test_expansion_cap);
    tcase_add_test(tc, test_dense_but_legit);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("encode");
    tcase_add_test(tc, test_response_traces);
    tcase_add_test(tc, test_response_logs_metrics);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(pb_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
