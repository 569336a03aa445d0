/* otlp_build.h - test helpers that build OTLP protobuf-c request structs.
 *
 * Everything is allocated from one arena (zeroed, initialised with the
 * generated *__init() so that protobuf-c can pack it), so a test builds a
 * request with plain calls and frees it with arena_free(). Lists are passed
 * as compound literals through the TB_LIST() macro:
 *
 *     tb_array(a, TB_LIST(tb_any, tb_int(a, 1), tb_str(a, "x")))
 */
#ifndef LOUPE_TESTS_OTLP_BUILD_H
#define LOUPE_TESTS_OTLP_BUILD_H

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue tb_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue tb_kv;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope tb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource tb_resource;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans tb_rspans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans tb_sspans;
typedef Opentelemetry__Proto__Trace__V1__Span tb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event tb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link tb_link;
typedef Opentelemetry__Proto__Trace__V1__Status tb_status;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs tb_rlogs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs tb_slogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord tb_log;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics tb_rmetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics tb_smetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric tb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint tb_npoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint tb_hpoint;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint tb_epoint;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets tb_buckets;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint tb_spoint;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile tb_quantile;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar tb_exemplar;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest tb_trace_req;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest tb_logs_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest tb_metrics_req;

/* A list literal and its length, for the (items, n) parameters below. */
#define TB_LIST(type, ...)                                                                         \
    (type *[]){__VA_ARGS__}, sizeof((type *[]){__VA_ARGS__}) / sizeof(type *)

static inline void *tb_alloc(arena *a, size_t size) {
    void *p = arena_calloc(a, 1, size);
    if (p == NULL)
        abort();
    return p;
}

/* Copies a list of n pointers into the arena. */
static inline void *tb_ptrs(arena *a, void *items, size_t n) {
    if (n == 0)
        return NULL;
    void *p = tb_alloc(a, n * sizeof(void *));
    memcpy(p, items, n * sizeof(void *));
    return p;
}

static inline char *tb_strdup(arena *a, const char *s) {
    char *p = arena_strndup(a, s, strlen(s));
    if (p == NULL)
        abort();
    return p;
}

static inline ProtobufCBinaryData tb_bin(arena *a, const void *data, size_t len) {
    ProtobufCBinaryData d = {0, NULL};
    if (len > 0) {
        d.data = tb_alloc(a, len);
        memcpy(d.data, data, len);
        d.len = len;
    }
    return d;
}

/* An id of n bytes, all `fill` (fill 0 gives an all-zero id). */
static inline ProtobufCBinaryData tb_id(arena *a, size_t n, unsigned fill) {
    unsigned char tmp[64];
    memset(tmp, (int)fill, sizeof(tmp));
    return tb_bin(a, tmp, n);
}

/* ---- values ------------------------------------------------------------ */

static inline tb_any *tb_empty(arena *a) {
    tb_any *v = tb_alloc(a, sizeof(*v));
    opentelemetry__proto__common__v1__any_value__init(v);
    return v;
}

static inline tb_any *tb_str(arena *a, const char *s) {
    tb_any *v = tb_empty(a);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = tb_strdup(a, s);
    return v;
}

static inline tb_any *tb_bool(arena *a, int b) {
    tb_any *v = tb_empty(a);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    v->bool_value = b;
    return v;
}

static inline tb_any *tb_int(arena *a, int64_t i) {
    tb_any *v = tb_empty(a);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = i;
    return v;
}

static inline tb_any *tb_double(arena *a, double d) {
    tb_any *v = tb_empty(a);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v->double_value = d;
    return v;
}

static inline tb_any *tb_bytes(arena *a, const void *data, size_t len) {
    tb_any *v = tb_empty(a);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    v->bytes_value = tb_bin(a, data, len);
    return v;
}

static inline tb_any *tb_array(arena *a, tb_any **items, size_t n) {
    tb_any *v = tb_empty(a);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = tb_alloc(a, sizeof(*arr));
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->n_values = n;
    arr->values = tb_ptrs(a, items, n);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    v->array_value = arr;
    return v;
}

static inline tb_any *tb_kvlist(arena *a, tb_kv **items, size_t n) {
    tb_any *v = tb_empty(a);
    Opentelemetry__Proto__Common__V1__KeyValueList *l = tb_alloc(a, sizeof(*l));
    opentelemetry__proto__common__v1__key_value_list__init(l);
    l->n_values = n;
    l->values = tb_ptrs(a, items, n);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    v->kvlist_value = l;
    return v;
}

/* `levels` arrays nested in each other around an int 7. */
static inline tb_any *tb_nested_arrays(arena *a, int levels) {
    tb_any *v = tb_int(a, 7);
    for (int i = 0; i < levels; i++)
        v = tb_array(a, TB_LIST(tb_any, v));
    return v;
}

static inline tb_kv *tb_kv_new(arena *a, const char *key, tb_any *value) {
    tb_kv *kv = tb_alloc(a, sizeof(*kv));
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = tb_strdup(a, key);
    kv->value = value;
    return kv;
}

/* ---- resource and scope ------------------------------------------------ */

static inline tb_resource *tb_resource_new(arena *a, tb_kv **attrs, size_t n) {
    tb_resource *r = tb_alloc(a, sizeof(*r));
    opentelemetry__proto__resource__v1__resource__init(r);
    r->n_attributes = n;
    r->attributes = tb_ptrs(a, attrs, n);
    return r;
}

static inline tb_scope *tb_scope_new(arena *a, const char *name, const char *version) {
    tb_scope *s = tb_alloc(a, sizeof(*s));
    opentelemetry__proto__common__v1__instrumentation_scope__init(s);
    s->name = tb_strdup(a, name);
    s->version = tb_strdup(a, version);
    return s;
}

/* ---- traces ------------------------------------------------------------ */

/* A span with a trace id of 16 x tid, a span id of 8 x sid. */
static inline tb_span *tb_span_new(arena *a, unsigned tid, unsigned sid, const char *name) {
    tb_span *s = tb_alloc(a, sizeof(*s));
    opentelemetry__proto__trace__v1__span__init(s);
    s->trace_id = tb_id(a, 16, tid);
    s->span_id = tb_id(a, 8, sid);
    s->name = tb_strdup(a, name);
    s->start_time_unix_nano = 1000;
    s->end_time_unix_nano = 2000;
    return s;
}

static inline tb_sspans *tb_sspans_new(arena *a, tb_scope *scope, tb_span **spans, size_t n) {
    tb_sspans *ss = tb_alloc(a, sizeof(*ss));
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = scope;
    ss->n_spans = n;
    ss->spans = tb_ptrs(a, spans, n);
    return ss;
}

static inline tb_rspans *tb_rspans_new(arena *a, tb_resource *r, tb_sspans **ss, size_t n) {
    tb_rspans *rs = tb_alloc(a, sizeof(*rs));
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = r;
    rs->n_scope_spans = n;
    rs->scope_spans = tb_ptrs(a, ss, n);
    return rs;
}

static inline tb_trace_req *tb_trace_req_new(arena *a, tb_rspans **rs, size_t n) {
    tb_trace_req *req = tb_alloc(a, sizeof(*req));
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = n;
    req->resource_spans = tb_ptrs(a, rs, n);
    return req;
}

/* One resource, one scope, the given spans. */
static inline tb_trace_req *tb_trace_req_simple(arena *a, tb_span **spans, size_t n) {
    tb_resource *r = tb_resource_new(a, TB_LIST(tb_kv, tb_kv_new(a, "service.name", tb_str(a, "svc"))));
    tb_sspans *ss = tb_sspans_new(a, tb_scope_new(a, "lib", "1.0"), spans, n);
    return tb_trace_req_new(a, TB_LIST(tb_rspans, tb_rspans_new(a, r, TB_LIST(tb_sspans, ss))));
}

/* ---- logs -------------------------------------------------------------- */

static inline tb_log *tb_log_new(arena *a, int severity, tb_any *body) {
    tb_log *l = tb_alloc(a, sizeof(*l));
    opentelemetry__proto__logs__v1__log_record__init(l);
    l->severity_number = (Opentelemetry__Proto__Logs__V1__SeverityNumber)severity;
    l->body = body;
    l->time_unix_nano = 5000;
    return l;
}

static inline tb_logs_req *tb_logs_req_simple(arena *a, tb_log **logs, size_t n) {
    tb_slogs *sl = tb_alloc(a, sizeof(*sl));
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->scope = tb_scope_new(a, "loglib", "2.0");
    sl->n_log_records = n;
    sl->log_records = tb_ptrs(a, logs, n);
    tb_rlogs *rl = tb_alloc(a, sizeof(*rl));
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = tb_resource_new(a, TB_LIST(tb_kv, tb_kv_new(a, "service.name", tb_str(a, "logsvc"))));
    rl->n_scope_logs = 1;
    rl->scope_logs = tb_ptrs(a, (tb_slogs *[]){sl}, 1);
    tb_logs_req *req = tb_alloc(a, sizeof(*req));
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(req);
    req->n_resource_logs = 1;
    req->resource_logs = tb_ptrs(a, (tb_rlogs *[]){rl}, 1);
    return req;
}

/* ---- metrics ----------------------------------------------------------- */

static inline tb_npoint *tb_npoint_double(arena *a, double d) {
    tb_npoint *p = tb_alloc(a, sizeof(*p));
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
    p->as_double = d;
    p->time_unix_nano = 9000;
    return p;
}

static inline tb_npoint *tb_npoint_int(arena *a, int64_t i) {
    tb_npoint *p = tb_npoint_double(a, 0);
    p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
    p->as_int = i;
    return p;
}

static inline tb_metric *tb_metric_new(arena *a, const char *name) {
    tb_metric *m = tb_alloc(a, sizeof(*m));
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = tb_strdup(a, name);
    m->description = tb_strdup(a, "desc");
    m->unit = tb_strdup(a, "ms");
    return m;
}

static inline tb_metric *tb_gauge(arena *a, const char *name, tb_npoint **pts, size_t n) {
    tb_metric *m = tb_metric_new(a, name);
    Opentelemetry__Proto__Metrics__V1__Gauge *g = tb_alloc(a, sizeof(*g));
    opentelemetry__proto__metrics__v1__gauge__init(g);
    g->n_data_points = n;
    g->data_points = tb_ptrs(a, pts, n);
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m->gauge = g;
    return m;
}

static inline tb_metric *tb_sum(arena *a, const char *name, int temporality, int monotonic,
                                tb_npoint **pts, size_t n) {
    tb_metric *m = tb_metric_new(a, name);
    Opentelemetry__Proto__Metrics__V1__Sum *s = tb_alloc(a, sizeof(*s));
    opentelemetry__proto__metrics__v1__sum__init(s);
    s->n_data_points = n;
    s->data_points = tb_ptrs(a, pts, n);
    s->aggregation_temporality = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)temporality;
    s->is_monotonic = monotonic;
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    m->sum = s;
    return m;
}

static inline tb_hpoint *tb_hpoint_new(arena *a, const double *bounds, size_t nb,
                                       const uint64_t *counts, size_t nc) {
    tb_hpoint *p = tb_alloc(a, sizeof(*p));
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    p->n_explicit_bounds = nb;
    if (nb) {
        p->explicit_bounds = tb_alloc(a, nb * sizeof(double));
        memcpy(p->explicit_bounds, bounds, nb * sizeof(double));
    }
    p->n_bucket_counts = nc;
    if (nc) {
        p->bucket_counts = tb_alloc(a, nc * sizeof(uint64_t));
        memcpy(p->bucket_counts, counts, nc * sizeof(uint64_t));
    }
    p->time_unix_nano = 9100;
    return p;
}

static inline tb_metric *tb_histogram(arena *a, const char *name, int temporality, tb_hpoint **pts,
                                      size_t n) {
    tb_metric *m = tb_metric_new(a, name);
    Opentelemetry__Proto__Metrics__V1__Histogram *h = tb_alloc(a, sizeof(*h));
    opentelemetry__proto__metrics__v1__histogram__init(h);
    h->n_data_points = n;
    h->data_points = tb_ptrs(a, pts, n);
    h->aggregation_temporality = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)temporality;
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    m->histogram = h;
    return m;
}

static inline tb_buckets *tb_buckets_new(arena *a, int32_t offset, const uint64_t *c, size_t n) {
    tb_buckets *b = tb_alloc(a, sizeof(*b));
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__buckets__init(b);
    b->offset = offset;
    b->n_bucket_counts = n;
    if (n) {
        b->bucket_counts = tb_alloc(a, n * sizeof(uint64_t));
        memcpy(b->bucket_counts, c, n * sizeof(uint64_t));
    }
    return b;
}

static inline tb_metric *tb_exp_histogram(arena *a, const char *name, int temporality,
                                          tb_epoint **pts, size_t n) {
    tb_metric *m = tb_metric_new(a, name);
    Opentelemetry__Proto__Metrics__V1__ExponentialHistogram *h = tb_alloc(a, sizeof(*h));
    opentelemetry__proto__metrics__v1__exponential_histogram__init(h);
    h->n_data_points = n;
    h->data_points = tb_ptrs(a, pts, n);
    h->aggregation_temporality = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)temporality;
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
    m->exponential_histogram = h;
    return m;
}

static inline tb_metric *tb_summary(arena *a, const char *name, tb_spoint **pts, size_t n) {
    tb_metric *m = tb_metric_new(a, name);
    Opentelemetry__Proto__Metrics__V1__Summary *s = tb_alloc(a, sizeof(*s));
    opentelemetry__proto__metrics__v1__summary__init(s);
    s->n_data_points = n;
    s->data_points = tb_ptrs(a, pts, n);
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY;
    m->summary = s;
    return m;
}

static inline tb_exemplar *tb_exemplar_new(arena *a, size_t tid_len, size_t sid_len) {
    tb_exemplar *e = tb_alloc(a, sizeof(*e));
    opentelemetry__proto__metrics__v1__exemplar__init(e);
    e->trace_id = tb_id(a, tid_len, 0xAB);
    e->span_id = tb_id(a, sid_len, 0xCD);
    e->time_unix_nano = 8000;
    return e;
}

static inline tb_metrics_req *tb_metrics_req_simple(arena *a, tb_metric **metrics, size_t n) {
    tb_smetrics *sm = tb_alloc(a, sizeof(*sm));
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->scope = tb_scope_new(a, "meter", "3.0");
    sm->n_metrics = n;
    sm->metrics = tb_ptrs(a, metrics, n);
    tb_rmetrics *rm = tb_alloc(a, sizeof(*rm));
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = tb_resource_new(a, TB_LIST(tb_kv, tb_kv_new(a, "service.name", tb_str(a, "msvc"))));
    rm->n_scope_metrics = 1;
    rm->scope_metrics = tb_ptrs(a, (tb_smetrics *[]){sm}, 1);
    tb_metrics_req *req = tb_alloc(a, sizeof(*req));
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
    req->n_resource_metrics = 1;
    req->resource_metrics = tb_ptrs(a, (tb_rmetrics *[]){rm}, 1);
    return req;
}

/* Packs a message into a new malloc'd buffer (free() it). */
static inline uint8_t *tb_pack(const ProtobufCMessage *msg, size_t *len) {
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *p = malloc(*len ? *len : 1);
    if (p == NULL)
        abort();
    protobuf_c_message_pack(msg, p);
    return p;
}

#endif
