/* test_query.c - read queries as JSON (storage/query.c) over a store filled
 * through store_append(). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "storage/query.h"
#include "storage/query_internal.h"
#include "storage/store.h"
#include "store_fixture.h"

static store *st;
static store_reader *rd;
static buf out;

static void setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
    buf_init(&out, 4 << 20);
}

static void teardown(void) {
    buf_free(&out);
    store_reader_close(rd);
    store_close(st);
}

/* An integer from sql on the reader's connection, "{N}" in sql standing for
 * the newest segment of signal sig. */
static int64_t seg_sql_int(model_signal sig, const char *sql) {
    char q[256], seg[32];
    snprintf(q, sizeof(q), "SELECT max(id) FROM segments WHERE signal=%d", (int)sig);
    snprintf(seg, sizeof(seg), "%lld", (long long)fx_sql_int(rd->db, q));
    buf b;
    buf_init(&b, 4096);
    for (const char *p = sql; *p; p++) {
        if (strncmp(p, "{N}", 3) == 0) {
            buf_append_str(&b, seg);
            p += 2;
        } else {
            buf_append(&b, p, 1);
        }
    }
    int64_t v = fx_sql_int(rd->db, b.ptr);
    buf_free(&b);
    return v;
}

/* The resource an item of answer j names: its entry in j's "resources" map
 * (every item names one, and every entry is named). */
static json_t *item_resource(json_t *j, json_t *item) {
    json_t *id = json_object_get(item, "resourceId");
    ck_assert_msg(json_is_string(id), "resourceId is not a string");
    ck_assert_ptr_null(json_object_get(item, "resource"));
    json_t *r = json_object_get(json_object_get(j, "resources"), json_string_value(id));
    ck_assert_msg(json_is_object(r), "no resource %s in the answer", json_string_value(id));
    return r;
}

static json_t *parse_out(void) {
    json_error_t err;
    json_t *j = json_loadb(out.ptr, out.len, 0, &err);
    ck_assert_msg(j != NULL, "invalid JSON (%s): %.*s", err.text, (int)out.len, out.ptr);
    return j;
}

static const char *sget(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_string(v), "%s is not a string", k);
    return json_string_value(v);
}

static json_int_t iget(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
    return json_integer_value(v);
}

/* ---- trace -------------------------------------------------------------------- */

START_TEST(test_trace_shape) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r = fx_resource(b, "checkout", "pod-1");
    model_scope *sc = fx_scope(b, "io.opentelemetry.http", "1.2.3");
    fx_spans(b, 2);
    /* the child first, and starting after the root */
    model_span *c = fx_span(b, r, sc, 42, 2, 1, "SELECT orders", 1700000000000000100ULL,
                            1700000000000000900ULL);
    c->kind = MODEL_SPAN_KIND_CLIENT;
    c->status_code = MODEL_STATUS_ERROR;
    c->status_message = fx_str(b, "timeout");
    c->attrs.items = fx_kvs(b, 3);
    c->attrs.n = 3;
    fx_kv_str(b, &c->attrs.items[0], "db.system", "postgresql");
    fx_kv_int(b, &c->attrs.items[1], "db.rows", 12);
    fx_kv_int(b, &c->attrs.items[2], "big", 9007199254740993LL);
    c->trace_state = fx_str(b, "vendor=x");
    c->flags = 0x301;
    c->dropped_attrs = 1;
    c->dropped_events = 2;
    c->dropped_links = 3;
    c->events = arena_calloc(b->arena, 1, sizeof(model_event));
    c->n_events = 1;
    c->events[0].name = fx_str(b, "retry");
    c->events[0].time_ns = 1700000000000000500ULL;
    c->links = arena_calloc(b->arena, 1, sizeof(model_link));
    c->n_links = 1;
    fx_id(c->links[0].trace_id, 16, 43);
    fx_id(c->links[0].span_id, 8, 7);
    c->links[0].trace_state = model_str_empty;
    model_span *root = fx_span(b, r, sc, 42, 1, 0, "POST /checkout", 1700000000000000000ULL,
                               1700000000000001000ULL);
    root->status_code = MODEL_STATUS_OK;
    uint8_t tid[16];
    fx_id(tid, 16, 42);
    char hex[33], span1[17], span2[17], ltid[33];
    model_hex_encode(tid, 16, hex);
    model_hex_encode(root->span_id, 8, span1);
    model_hex_encode(c->span_id, 8, span2);
    model_hex_encode(c->links[0].trace_id, 16, ltid);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK); /* b is freed now */
    ck_assert_int_eq(query_trace(rd, tid, &out), QUERY_OK);
    json_t *j = parse_out();
    ck_assert_str_eq(sget(j, "traceId"), hex);
    json_t *spans = json_object_get(j, "spans");
    ck_assert_int_eq(json_array_size(spans), 2);

    json_t *s0 = json_array_get(spans, 0); /* ordered by start time: the root */
    ck_assert_str_eq(sget(s0, "traceId"), hex);
    ck_assert_str_eq(sget(s0, "spanId"), span1);
    ck_assert_str_eq(sget(s0, "parentSpanId"), "");
    ck_assert_str_eq(sget(s0, "name"), "POST /checkout");
    ck_assert_str_eq(sget(s0, "kind"), "SERVER");
    ck_assert_str_eq(sget(s0, "startTimeUnixNano"), "1700000000000000000");
    ck_assert_str_eq(sget(s0, "endTimeUnixNano"), "1700000000000001000");
    ck_assert_int_eq(iget(s0, "durationNs"), 1000);
    ck_assert_str_eq(sget(json_object_get(s0, "status"), "code"), "OK");
    ck_assert_str_eq(sget(json_object_get(s0, "status"), "message"), "");
    ck_assert_str_eq(sget(s0, "service"), "checkout");
    json_t *r0 = item_resource(j, s0);
    ck_assert_str_eq(sget(r0, "service"), "checkout");
    json_t *res = json_object_get(r0, "attributes");
    ck_assert_str_eq(sget(res, "service.instance.id"), "pod-1");
    ck_assert_str_eq(sget(json_object_get(s0, "scope"), "name"), "io.opentelemetry.http");
    ck_assert_str_eq(sget(json_object_get(s0, "scope"), "version"), "1.2.3");
    ck_assert_int_eq(json_object_size(json_object_get(s0, "attributes")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(s0, "events")), 0);

    json_t *s1 = json_array_get(spans, 1);
    ck_assert_str_eq(sget(s1, "spanId"), span2);
    ck_assert_str_eq(sget(s1, "parentSpanId"), span1);
    ck_assert_str_eq(sget(s1, "kind"), "CLIENT");
    ck_assert_int_eq(iget(s1, "durationNs"), 800);
    ck_assert_str_eq(sget(json_object_get(s1, "status"), "code"), "ERROR");
    ck_assert_str_eq(sget(json_object_get(s1, "status"), "message"), "timeout");
    json_t *attrs = json_object_get(s1, "attributes");
    ck_assert_str_eq(sget(attrs, "db.system"), "postgresql");
    /* both spans have one resource: written once, named by both */
    ck_assert_ptr_eq(item_resource(j, s1), r0);
    ck_assert_int_eq(json_object_size(json_object_get(j, "resources")), 1);
    ck_assert_int_eq(iget(attrs, "db.rows"), 12);
    ck_assert_str_eq(sget(attrs, "big"), "9007199254740993");
    ck_assert_str_eq(sget(s1, "traceState"), "vendor=x");
    ck_assert_int_eq(iget(s1, "flags"), 0x301);
    ck_assert_int_eq(iget(s1, "droppedAttributesCount"), 1);
    ck_assert_int_eq(iget(s1, "droppedEventsCount"), 2);
    ck_assert_int_eq(iget(s1, "droppedLinksCount"), 3);
    json_t *ev = json_array_get(json_object_get(s1, "events"), 0);
    ck_assert_str_eq(sget(ev, "name"), "retry");
    ck_assert_str_eq(sget(ev, "timeUnixNano"), "1700000000000000500");
    ck_assert(json_is_object(json_object_get(ev, "attributes")));
    json_t *ln = json_array_get(json_object_get(s1, "links"), 0);
    ck_assert_str_eq(sget(ln, "traceId"), ltid);
    ck_assert_int_eq(strlen(sget(ln, "spanId")), 16);
    ck_assert_str_eq(sget(ln, "traceState"), "");
    ck_assert_int_eq(iget(ln, "flags"), 0);
    ck_assert(json_is_object(json_object_get(ln, "attributes")));
    json_decref(j);

    /* unknown trace */
    buf_reset(&out);
    fx_id(tid, 16, 4242);
    ck_assert_int_eq(query_trace(rd, tid, &out), QUERY_ENOTFOUND);

    /* an answer over the buffer's cap */
    buf small;
    buf_init(&small, 64);
    fx_id(tid, 16, 42);
    ck_assert_int_eq(query_trace(rd, tid, &small), QUERY_ETOOBIG);
    buf_free(&small);
}
END_TEST

/* ---- services ---------------------------------------------------------------- */

START_TEST(test_services) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    model_resource *r1 = fx_resource(b, "api", "i-2");
    model_resource *r2 = fx_resource(b, "api", "i-1");
    model_resource *r3 = fx_resource(b, "api", NULL);
    model_resource *r4 = fx_resource(b, "billing", NULL);
    model_scope *sc = fx_scope(b, "s", "");
    fx_spans(b, 5);
    fx_span(b, r1, sc, 1, 11, 0, "a", 100, 200)->status_code = MODEL_STATUS_ERROR;
    fx_span(b, r2, sc, 1, 12, 11, "b", 100, 300);
    fx_span(b, r2, sc, 1, 13, 11, "c", 100, 250)->status_code = MODEL_STATUS_ERROR;
    fx_span(b, r3, sc, 2, 21, 0, "d", 100, 150);
    fx_span(b, r4, sc, 3, 31, 0, "e", 100, 5000);
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    fx_logs(b, 2);
    model_resource *lr = fx_resource(b, "api", "i-1");
    fx_log(b, lr, fx_scope(b, "", ""), 7000, 9, "hello");
    fx_log(b, lr, fx_scope(b, "", ""), 6000, 9, "world");
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);

    ck_assert_int_eq(query_services(rd, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *list = json_object_get(j, "services");
    ck_assert_int_eq(json_array_size(list), 2);
    json_t *api = json_array_get(list, 0);
    ck_assert_str_eq(sget(api, "name"), "api");
    ck_assert_int_eq(iget(api, "spanCount"), 4);
    ck_assert_int_eq(iget(api, "errorCount"), 2);
    ck_assert_int_eq(iget(api, "logCount"), 2);
    ck_assert_int_eq(iget(api, "metricCount"), 0);
    ck_assert_str_eq(sget(api, "lastSeenUnixNano"), "7000");
    json_t *inst = json_object_get(api, "instances");
    ck_assert_int_eq(json_array_size(inst), 2); /* distinct, non-empty */
    ck_assert_str_eq(json_string_value(json_array_get(inst, 0)), "i-1");
    ck_assert_str_eq(json_string_value(json_array_get(inst, 1)), "i-2");
    json_t *billing = json_array_get(list, 1);
    ck_assert_str_eq(sget(billing, "name"), "billing");
    ck_assert_int_eq(iget(billing, "spanCount"), 1);
    ck_assert_int_eq(iget(billing, "errorCount"), 0);
    ck_assert_str_eq(sget(billing, "lastSeenUnixNano"), "5000");
    ck_assert_int_eq(json_array_size(json_object_get(billing, "instances")), 0);
    json_decref(j);
}
END_TEST

START_TEST(test_services_empty) {
    ck_assert_int_eq(query_services(rd, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"services\":[]}");
}
END_TEST

/* ---- logs -------------------------------------------------------------------- */

#define N_LOGS 250

/* 250 logs over 3 batches, many sharing a timestamp, two services. */
static void fill_logs(void) {
    int k = 0;
    for (int batch = 0; batch < 3; batch++) {
        model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
        size_t n = batch < 2 ? 100 : 50;
        fx_logs(b, n);
        model_resource *ra = fx_resource(b, "api", NULL);
        model_resource *rb = fx_resource(b, "worker", NULL);
        model_scope *sc = fx_scope(b, "logger", "");
        for (size_t i = 0; i < n; i++, k++) {
            char body[32];
            snprintf(body, sizeof(body), "message %d", k);
            /* times repeat: k/4, in an order unrelated to arrival */
            uint64_t t = 1000 + (uint64_t)((k * 37) % N_LOGS) / 4;
            model_log *l = fx_log(b, k % 3 ? ra : rb, sc, t, 1 + k % 24, body);
            l->attrs.items = fx_kvs(b, 1);
            l->attrs.n = 1;
            fx_kv_int(b, &l->attrs.items[0], "k", k);
        }
        ck_assert_int_eq(fx_commit(st, b), STORE_OK);
    }
}

/* Walks every page; checks order, no duplicates, no gaps. Returns count. */
static int walk_logs(const char *service, int min_sev, size_t limit, int *seen) {
    char cursor[128] = "";
    int total = 0, pages = 0;
    uint64_t prev_t = UINT64_MAX;
    for (; pages < 1000; pages++) {
        query_logs_params p = {.service = service,
                               .min_severity = min_sev,
                               .limit = limit,
                               .cursor = cursor[0] ? cursor : NULL};
        buf_reset(&out);
        ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
        json_t *j = parse_out();
        json_t *logs = json_object_get(j, "logs");
        ck_assert_uint_le(json_array_size(logs), limit);
        for (size_t i = 0; i < json_array_size(logs); i++) {
            json_t *l = json_array_get(logs, i);
            uint64_t t = strtoull(sget(l, "timeUnixNano"), NULL, 10);
            ck_assert_uint_le(t, prev_t); /* newest first */
            prev_t = t;
            int k = (int)iget(json_object_get(l, "attributes"), "k");
            ck_assert_int_ge(k, 0);
            ck_assert_int_lt(k, N_LOGS);
            ck_assert_msg(seen[k] == 0, "log %d seen twice", k);
            seen[k] = 1;
            if (service)
                ck_assert_str_eq(sget(l, "service"), service);
            ck_assert_int_ge(iget(l, "severityNumber"), min_sev);
            total++;
        }
        json_t *next = json_object_get(j, "nextCursor");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        ck_assert(json_is_string(next));
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        ck_assert_uint_eq(json_array_size(logs), limit); /* only full pages continue */
        json_decref(j);
    }
    ck_assert_int_lt(pages, 1000);
    return total;
}

START_TEST(test_logs_pagination_no_dups_no_gaps) {
    fill_logs();
    int seen[N_LOGS] = {0};
    ck_assert_int_eq(walk_logs(NULL, 0, 7, seen), N_LOGS);
    for (int k = 0; k < N_LOGS; k++)
        ck_assert_msg(seen[k], "log %d missing", k);

    /* equal timestamps are ordered by arrival, newest first */
    query_logs_params p = {.limit = 2};
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *l0 = json_array_get(json_object_get(j, "logs"), 0);
    json_t *l1 = json_array_get(json_object_get(j, "logs"), 1);
    ck_assert_str_eq(sget(l0, "timeUnixNano"), sget(l1, "timeUnixNano"));
    ck_assert_int_gt(iget(json_object_get(l0, "attributes"), "k"),
                     iget(json_object_get(l1, "attributes"), "k"));
    json_decref(j);

    /* exact multiple of the page size: the last page has no cursor */
    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(walk_logs(NULL, 0, 50, seen), N_LOGS);
    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(walk_logs(NULL, 0, 1000, seen), N_LOGS);
}
END_TEST

START_TEST(test_logs_filters) {
    fill_logs();
    int seen[N_LOGS] = {0};
    int api = walk_logs("api", 0, 9, seen);
    int expect = 0;
    for (int k = 0; k < N_LOGS; k++)
        expect += k % 3 != 0;
    ck_assert_int_eq(api, expect);
    memset(seen, 0, sizeof(seen));
    int severe = walk_logs(NULL, 17, 11, seen);
    expect = 0;
    for (int k = 0; k < N_LOGS; k++)
        expect += 1 + k % 24 >= 17;
    ck_assert_int_eq(severe, expect);
    memset(seen, 0, sizeof(seen));
    int both = walk_logs("worker", 20, 3, seen);
    expect = 0;
    for (int k = 0; k < N_LOGS; k++)
        expect += k % 3 == 0 && 1 + k % 24 >= 20;
    ck_assert_int_eq(both, expect);
    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(walk_logs("nobody", 0, 10, seen), 0);
    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(walk_logs("' OR 1=1 --", 0, 10, seen), 0);
}
END_TEST

START_TEST(test_logs_bad_params) {
    query_logs_params p = {.limit = 0};
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_EINVAL);
    p.limit = 1001;
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_EINVAL);
    p.limit = 10;
    const char *bad[] = {"zz", "0123456789abcdef0123456789abcdeg",
                         "0123456789abcdef0123456789abcdef00", "ffffffffffffffff0000000000000001",
                         "'; DROP TABLE logs; --"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p.cursor = bad[i];
        ck_assert_msg(query_logs(rd, &p, &out) == QUERY_EINVAL, "cursor %s accepted", bad[i]);
    }
    p.cursor = "";
    buf_reset(&out);
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"logs\":[],\"resources\":{},\"nextCursor\":null}");
}
END_TEST

START_TEST(test_log_shape) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    fx_logs(b, 3);
    model_resource *r = fx_resource(b, "api", "i-1");
    model_scope *sc = fx_scope(b, "app.logger", "2.0");
    model_log *l = fx_log(b, r, sc, 0, 17, "disk \"full\" <again>");
    l->observed_time_ns = 1234; /* time 0: the observed time stands in */
    l->severity_text = fx_str(b, "ERROR");
    l->has_trace_id = l->has_span_id = 1;
    fx_id(l->trace_id, 16, 5);
    fx_id(l->span_id, 8, 6);
    l->flags = 1;
    l->event_name = fx_str(b, "disk.full");
    model_log *m = fx_log(b, r, sc, 100, 9, NULL);
    m->body.type = MODEL_VALUE_KVLIST;
    m->body.u.kvlist.items = fx_kvs(b, 1);
    m->body.u.kvlist.n = 1;
    fx_kv_int(b, &m->body.u.kvlist.items[0], "n", 3);
    fx_log(b, r, sc, 0, 0, NULL); /* no body, no times: arrival time */
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);

    query_logs_params p = {.limit = 10};
    ck_assert_int_eq(query_logs(rd, &p, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *logs = json_object_get(j, "logs");
    ck_assert_int_eq(json_array_size(logs), 3);
    ck_assert(json_is_null(json_object_get(j, "nextCursor")));
    json_t *c = json_array_get(logs, 0); /* "now" is the newest */
    ck_assert(json_is_null(json_object_get(c, "body")));
    ck_assert_uint_gt(strtoull(sget(c, "timeUnixNano"), NULL, 10), 1600000000000000000ULL);
    ck_assert_str_eq(sget(c, "observedTimeUnixNano"), "0");
    json_t *a = json_array_get(logs, 1);
    ck_assert_str_eq(sget(a, "timeUnixNano"), "1234");
    ck_assert_str_eq(sget(a, "observedTimeUnixNano"), "1234");
    ck_assert_int_eq(iget(a, "severityNumber"), 17);
    ck_assert_str_eq(sget(a, "severityText"), "ERROR");
    ck_assert_str_eq(sget(a, "body"), "disk \"full\" <again>");
    ck_assert_int_eq(strlen(sget(a, "traceId")), 32);
    ck_assert_int_eq(strlen(sget(a, "spanId")), 16);
    ck_assert_str_eq(sget(a, "service"), "api");
    ck_assert_str_eq(sget(json_object_get(item_resource(j, a), "attributes"),
                          "service.name"),
                     "api");
    ck_assert_str_eq(sget(json_object_get(a, "scope"), "name"), "app.logger");
    ck_assert_str_eq(sget(json_object_get(a, "scope"), "version"), "2.0");
    ck_assert_str_eq(sget(a, "eventName"), "disk.full");
    ck_assert_int_eq(iget(a, "flags"), 1);
    ck_assert(json_is_object(json_object_get(a, "attributes")));
    json_t *bm = json_array_get(logs, 2);
    ck_assert_str_eq(sget(bm, "timeUnixNano"), "100");
    ck_assert_int_eq(iget(json_object_get(bm, "body"), "n"), 3);
    ck_assert_str_eq(sget(bm, "traceId"), "");
    ck_assert_str_eq(sget(bm, "spanId"), "");
    json_decref(j);
    /* the full-text index sees the body text, not its JSON escaping */
    ck_assert_int_eq(seg_sql_int(MODEL_SIGNAL_LOGS,
                                 "SELECT count(*) FROM logs_fts_{N} WHERE logs_fts_{N} MATCH 'full'"),
                     1);
    ck_assert_int_eq(seg_sql_int(MODEL_SIGNAL_LOGS,
                                 "SELECT count(*) FROM logs_fts_{N} WHERE logs_fts_{N} MATCH 'u003c'"),
                     0);
}
END_TEST

/* ---- metrics ----------------------------------------------------------------------- */

static void add_metric(model_batch *b, size_t m, const model_resource *r, const model_scope *sc,
                       const char *name, model_metric_type type) {
    model_metric *mt = &b->metrics[m];
    mt->resource = r;
    mt->scope = sc;
    mt->name = fx_str(b, name);
    mt->description = fx_str(b, "desc");
    mt->unit = fx_str(b, "ms");
    mt->type = type;
}

static void add_point(model_batch *b, size_t m, uint64_t t, const char *attr) {
    model_point *p = &b->points[b->n_points++];
    memset(p, 0, sizeof(*p));
    p->metric = &b->metrics[m];
    p->time_ns = t;
    p->as_double = 1.5;
    if (attr) {
        p->attrs.items = fx_kvs(b, 1);
        p->attrs.n = 1;
        fx_kv_str(b, &p->attrs.items[0], "route", attr);
    }
}

START_TEST(test_metrics) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_METRICS, 0);
    model_resource *ra = fx_resource(b, "api", "i-1");
    model_resource *ra2 = fx_resource(b, "api", "i-2");
    model_resource *rb = fx_resource(b, "billing", NULL);
    model_scope *sc = fx_scope(b, "meter", "1");
    b->metrics = arena_calloc(b->arena, 4, sizeof(model_metric));
    b->n_metrics = 4;
    add_metric(b, 0, ra, sc, "http.duration", MODEL_METRIC_HISTOGRAM);
    b->metrics[0].temporality = MODEL_TEMPORALITY_CUMULATIVE;
    add_metric(b, 1, ra, sc, "requests", MODEL_METRIC_SUM);
    b->metrics[1].monotonic = 1;
    b->metrics[1].temporality = MODEL_TEMPORALITY_DELTA;
    add_metric(b, 2, rb, sc, "queue", MODEL_METRIC_GAUGE);
    add_metric(b, 3, ra2, sc, "requests", MODEL_METRIC_SUM); /* second instance */
    b->metrics[3].monotonic = 1;
    b->metrics[3].temporality = MODEL_TEMPORALITY_DELTA;
    b->points = arena_calloc(b->arena, 8, sizeof(model_point));
    add_point(b, 0, 100, "/a");
    add_point(b, 0, 200, "/b");
    add_point(b, 0, 300, "/a");
    add_point(b, 1, 150, "/a");
    add_point(b, 2, 400, NULL);
    add_point(b, 3, 900, "/a");
    add_point(b, 3, 950, "/c");
    ck_assert_int_eq(fx_commit(st, b), STORE_OK);

    ck_assert_int_eq(query_metrics(rd, NULL, &out), QUERY_OK);
    json_t *j = parse_out();
    json_t *list = json_object_get(j, "metrics");
    ck_assert_int_eq(json_array_size(list), 3);
    json_t *h = json_array_get(list, 0);
    ck_assert_str_eq(sget(h, "service"), "api");
    ck_assert_str_eq(sget(h, "scope"), "meter");
    ck_assert_str_eq(sget(h, "name"), "http.duration");
    ck_assert_str_eq(sget(h, "description"), "desc");
    ck_assert_str_eq(sget(h, "unit"), "ms");
    ck_assert_str_eq(sget(h, "type"), "histogram");
    ck_assert(json_is_false(json_object_get(h, "monotonic")));
    ck_assert_str_eq(sget(h, "temporality"), "cumulative");
    ck_assert_int_eq(iget(h, "seriesCount"), 2);
    ck_assert_str_eq(sget(h, "lastSeenUnixNano"), "300");
    json_t *rq = json_array_get(list, 1);
    ck_assert_str_eq(sget(rq, "name"), "requests");
    ck_assert_str_eq(sget(rq, "type"), "sum");
    ck_assert(json_is_true(json_object_get(rq, "monotonic")));
    ck_assert_str_eq(sget(rq, "temporality"), "delta");
    ck_assert_int_eq(iget(rq, "seriesCount"), 3); /* both instances */
    ck_assert_str_eq(sget(rq, "lastSeenUnixNano"), "950");
    json_t *q = json_array_get(list, 2);
    ck_assert_str_eq(sget(q, "service"), "billing");
    ck_assert_str_eq(sget(q, "type"), "gauge");
    ck_assert_str_eq(sget(q, "temporality"), "unspecified");
    json_decref(j);

    buf_reset(&out);
    ck_assert_int_eq(query_metrics(rd, "billing", &out), QUERY_OK);
    j = parse_out();
    ck_assert_int_eq(json_array_size(json_object_get(j, "metrics")), 1);
    json_decref(j);
    buf_reset(&out);
    ck_assert_int_eq(query_metrics(rd, "nobody", &out), QUERY_OK);
    ck_assert_str_eq(out.ptr, "{\"metrics\":[]}");

    /* a repeated attribute set is one series; histogram data is kept */
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT count(*) FROM series"), 6);
    ck_assert_int_eq(seg_sql_int(MODEL_SIGNAL_METRICS,
                                 "SELECT count(*) FROM points_{N} WHERE data IS NOT NULL"), 3);
    ck_assert_int_eq(fx_sql_int(rd->db, "SELECT point_count FROM services WHERE name='api'"), 6);
}
END_TEST

static Suite *query_suite(void) {
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_trace_shape);
    tcase_add_test(tc, test_services);
    tcase_add_test(tc, test_services_empty);
    tcase_add_test(tc, test_logs_pagination_no_dups_no_gaps);
    tcase_add_test(tc, test_logs_filters);
    tcase_add_test(tc, test_logs_bad_params);
    tcase_add_test(tc, test_log_shape);
    tcase_add_test(tc, test_metrics);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(query_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
