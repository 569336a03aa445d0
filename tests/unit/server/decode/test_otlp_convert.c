/* test_otlp_convert.c - the converter's shared parts (server/decode/otlp_convert.c): values,
 * batches, the per-item limits. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_fixture.h"

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
    /* loupe's own share of each item's drops: the span's 2 and its event's 1
     * (not the SDK's 2); the resource's 3 */
    ck_assert_uint_eq(sp->limited.dropped, 3);
    ck_assert_uint_eq(sp->limited.cut, 0);
    ck_assert_uint_eq(sp->resource->limited.dropped, 3);
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
    ck_assert_uint_eq(b->logs[0].limited.dropped, 2);
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
    ck_assert_uint_eq(b->points[0].limited.dropped, 1 + 3); /* the point's and its exemplar's */
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
        ck_assert_uint_eq(b->logs[0].limited.cut, strcmp(cases[i].in, cases[i].out) != 0);
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
    ck_assert_uint_eq(sp->limited.dropped, 2 + 2); /* not the 10 the SDK dropped */
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

int main(void) {
    Suite *s = suite_create("otlp_convert");
    TCase *tc;
    tc = decode_tcase(s, "values", teardown);
    tcase_add_test(tc, test_value_scalars);
    tcase_add_test(tc, test_value_containers);
    tcase_add_test(tc, test_value_depth_limit);
    tc = decode_tcase(s, "batch", teardown);
    tcase_add_test(tc, test_convert_appends);
    tcase_add_test(tc, test_convert_toobig);
    tcase_add_test(tc, test_arena_allocator);
    tc = decode_tcase(s, "limits", limits_teardown);
    tcase_add_test(tc, test_limit_defaults);
    tcase_add_test(tc, test_limit_attrs_traces);
    tcase_add_test(tc, test_limit_attrs_logs_metrics);
    tcase_add_test(tc, test_limit_value_utf8_boundary);
    tcase_add_test(tc, test_limit_value_invalid_utf8_past_cut);
    tcase_add_test(tc, test_limit_value_nested_bytes_keys_body);
    tcase_add_test(tc, test_limit_events_links);
    tcase_add_test(tc, test_limit_zero_is_unlimited);
    return decode_run(s);
}
