/* api_trace.c - a trace's analysis and the comparison of two traces as the
 * API's JSON, see api_trace.h.
 *
 * The trace comes from query_trace(), the same answer GET /traces/{id}
 * gives: {"traceId":"...","spans":[{...},...]} as jw writes it (no
 * whitespace). Its spans carry attributes, events and resources, which the
 * analysis does not need, so instead of one jansson tree of the whole
 * answer (many times its size) each span object is parsed on its own
 * (json_loadb with JSON_DISABLE_EOF_CHECK stops after one value and says
 * where) and dropped once its few fields are copied out.
 */
#include "api_trace.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "apiparam.h"
#include "util/jw.h"
#include "storage/query.h"

#define API_TRACE_SLOWEST 5 /* nodes listed as the biggest slowdowns / speedups */

void api_trace_free(api_trace_loaded *t) {
    if (t == NULL)
        return;
    trace_analysis_free(&t->analysis);
    free(t->spans);
    arena_free(t->strings);
    memset(t, 0, sizeof(*t));
}

/* ---- loading ------------------------------------------------------------------- */

static const char *api_trace_skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Expects the literal lit at *p and steps over it. */
static int api_trace_expect(const char **p, const char *end, const char *lit) {
    size_t n = strlen(lit);
    *p = api_trace_skip_ws(*p, end);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* A string member of obj copied into the arena. */
static const char *api_trace_text(api_trace_loaded *t, json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return NULL;
    return arena_strndup(t->strings, json_string_value(v), json_string_length(v));
}

static int api_trace_time(json_t *obj, const char *key, uint64_t *ns) {
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL && apiparam_uint(v, 0, UINT64_MAX, ns) == APIPARAM_OK ? 0 : -1;
}

/* One span object into s. Returns QUERY_OK, QUERY_ENOMEM or
 * API_TRACE_EBADDOC. */
static int api_trace_span(api_trace_loaded *t, json_t *obj, ta_span *s) {
    memset(s, 0, sizeof(*s));
    const char *id = json_string_value(json_object_get(obj, "spanId"));
    const char *parent = json_string_value(json_object_get(obj, "parentSpanId"));
    if (!json_is_object(obj) || id == NULL || parent == NULL ||
        apiparam_hex_id(id, s->span_id, 8) != APIPARAM_OK)
        return API_TRACE_EBADDOC;
    if (parent[0] != '\0') {
        if (apiparam_hex_id(parent, s->parent_id, 8) != APIPARAM_OK)
            return API_TRACE_EBADDOC;
        s->has_parent = 1;
    }
    if (api_trace_time(obj, "startTimeUnixNano", &s->start_ns) != 0 ||
        api_trace_time(obj, "endTimeUnixNano", &s->end_ns) != 0)
        return API_TRACE_EBADDOC;
    if (!json_is_string(json_object_get(obj, "service")) ||
        !json_is_string(json_object_get(obj, "name")))
        return API_TRACE_EBADDOC;
    s->service = api_trace_text(t, obj, "service");
    s->name = api_trace_text(t, obj, "name");
    return s->service != NULL && s->name != NULL ? QUERY_OK : QUERY_ENOMEM;
}

/* Room for one more span. */
static int api_trace_grow(api_trace_loaded *t, size_t *cap) {
    if (t->n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 64;
    ta_span *p = realloc(t->spans, ncap * sizeof(*p));
    if (p == NULL)
        return -1;
    t->spans = p;
    *cap = ncap;
    return 0;
}

/* The spans of the answer into t->spans. */
static int api_trace_parse(const char *json, size_t len, api_trace_loaded *t) {
    const char *p = json, *end = json + len;
    size_t cap = 0;
    if (api_trace_expect(&p, end, "{\"traceId\":\"") != 0 || end - p < 32)
        return API_TRACE_EBADDOC;
    char hex[33];
    memcpy(hex, p, 32);
    hex[32] = '\0';
    p += 32;
    if (apiparam_hex_id(hex, t->trace_id, 16) != APIPARAM_OK ||
        api_trace_expect(&p, end, "\",\"spans\":[") != 0)
        return API_TRACE_EBADDOC;
    p = api_trace_skip_ws(p, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            json_error_t err;
            json_t *obj = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, &err);
            if (obj == NULL)
                return API_TRACE_EBADDOC;
            int rc = api_trace_grow(t, &cap) == 0 ? QUERY_OK : QUERY_ENOMEM;
            if (rc == QUERY_OK)
                rc = api_trace_span(t, obj, &t->spans[t->n]);
            json_decref(obj);
            if (rc != QUERY_OK)
                return rc;
            t->n++;
            if (err.position <= 0 || (size_t)err.position > (size_t)(end - p))
                return API_TRACE_EBADDOC;
            p = api_trace_skip_ws(p + err.position, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']') {
                p++;
                break;
            }
            return API_TRACE_EBADDOC;
        }
    }
    /* the members after the spans ("resources", ...) are not needed */
    for (;;) {
        p = api_trace_skip_ws(p, end);
        if (p >= end || *p != ',')
            break;
        p++;
        for (int part = 0; part < 2; part++) { /* the key, then the value */
            json_error_t err;
            json_t *v = json_loadb(p, (size_t)(end - p),
                                   JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
            if (v == NULL || (part == 0 && !json_is_string(v))) {
                json_decref(v);
                return API_TRACE_EBADDOC;
            }
            json_decref(v);
            if (err.position <= 0 || (size_t)err.position > (size_t)(end - p))
                return API_TRACE_EBADDOC;
            p += err.position;
            if (part == 0 && api_trace_expect(&p, end, ":") != 0)
                return API_TRACE_EBADDOC;
        }
    }
    if (api_trace_expect(&p, end, "}") != 0 || api_trace_skip_ws(p, end) != end)
        return API_TRACE_EBADDOC;
    return QUERY_OK;
}

int api_trace_load(const char *json, size_t len, api_trace_loaded *t) {
    memset(t, 0, sizeof(*t));
    t->strings = arena_new(0, 0);
    if (t->strings == NULL)
        return QUERY_ENOMEM;
    int rc = api_trace_parse(json, len, t);
    if (rc == QUERY_OK && t->n == 0)
        rc = QUERY_ENOTFOUND; /* a stored trace has spans; treat an empty one as absent */
    if (rc == QUERY_OK) {
        int ta = trace_analysis_run(t->spans, t->n, &t->analysis);
        rc = ta == TRACE_ANALYSIS_OK ? QUERY_OK : QUERY_ENOMEM;
    }
    if (rc != QUERY_OK)
        api_trace_free(t);
    return rc;
}

int api_trace_read(store_reader *r, const uint8_t trace_id[16], api_trace_loaded *t) {
    memset(t, 0, sizeof(*t));
    buf doc;
    buf_init(&doc, API_MAX_RESPONSE_BYTES);
    int rc = query_trace(r, trace_id, &doc);
    if (rc == QUERY_OK)
        rc = api_trace_load(doc.ptr, doc.len, t);
    buf_free(&doc);
    return rc;
}

/* ---- one trace's analysis ------------------------------------------------------------ */

static void api_trace_span_id(jw *w, const api_trace_loaded *t, size_t i) {
    jw_hex(w, t->spans[i].span_id, 8);
}

/* A share of the trace's duration in percent, to 0.01. */
static double api_trace_percent(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return 0.0;
    return round(10000.0 * (double)part / (double)whole) / 100.0;
}

static void api_trace_path(jw *w, const api_trace_loaded *t) {
    const ta_trace *a = &t->analysis;
    jw_key(w, "criticalPath");
    jw_array_begin(w);
    for (size_t k = 0; k < a->n_path; k++) {
        const ta_segment *sg = &a->path[k];
        const ta_span *s = &t->spans[sg->span];
        jw_object_begin(w);
        jw_key(w, "spanId");
        api_trace_span_id(w, t, sg->span);
        jw_key(w, "service");
        jw_string(w, s->service);
        jw_key(w, "name");
        jw_string(w, s->name);
        jw_key(w, "startTimeUnixNano");
        jw_uint_string(w, sg->start_ns);
        jw_key(w, "endTimeUnixNano");
        jw_uint_string(w, sg->end_ns);
        jw_key(w, "durationNs");
        jw_uint(w, sg->end_ns - sg->start_ns);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void api_trace_spans(jw *w, const api_trace_loaded *t) {
    const ta_trace *a = &t->analysis;
    jw_key(w, "spans");
    jw_object_begin(w);
    for (size_t i = 0; i < t->n; i++) {
        if (a->ignored[i])
            continue;
        char key[17];
        for (size_t b = 0; b < 8; b++) {
            static const char digits[] = "0123456789abcdef";
            key[2 * b] = digits[t->spans[i].span_id[b] >> 4];
            key[2 * b + 1] = digits[t->spans[i].span_id[b] & 15];
        }
        key[16] = '\0';
        jw_key(w, key);
        jw_object_begin(w);
        jw_key(w, "selfNs");
        jw_uint(w, a->self_ns[i]);
        jw_key(w, "critical");
        jw_bool(w, a->critical[i]);
        jw_key(w, "criticalNs");
        jw_uint(w, a->critical_ns[i]);
        jw_object_end(w);
    }
    jw_object_end(w);
}

static void api_trace_stats(jw *w, const api_trace_loaded *t) {
    const ta_trace *a = &t->analysis;
    uint64_t duration = a->end_ns - a->start_ns;
    jw_key(w, "stats");
    jw_array_begin(w);
    for (size_t k = 0; k < a->n_stats; k++) {
        const ta_stat *st = &a->stats[k];
        jw_object_begin(w);
        jw_key(w, "service");
        jw_string(w, st->service);
        jw_key(w, "name");
        jw_string(w, st->name);
        jw_key(w, "count");
        jw_uint(w, st->count);
        jw_key(w, "totalNs");
        jw_uint(w, st->total_ns);
        jw_key(w, "selfNs");
        jw_uint(w, st->self_ns);
        jw_key(w, "criticalNs");
        jw_uint(w, st->critical_ns);
        jw_key(w, "percent");
        jw_double(w, api_trace_percent(st->self_ns, duration));
        jw_object_end(w);
    }
    jw_array_end(w);
}

static size_t api_trace_counted(const ta_trace *a) {
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += !a->ignored[i];
    return n;
}

int api_trace_analysis_json(const api_trace_loaded *t, buf *out) {
    const ta_trace *a = &t->analysis;
    uint64_t on_path = 0;
    for (size_t k = 0; k < a->n_path; k++)
        on_path += a->path[k].end_ns - a->path[k].start_ns;
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "traceId");
    jw_hex(&w, t->trace_id, 16);
    jw_key(&w, "startTimeUnixNano");
    jw_uint_string(&w, a->start_ns);
    jw_key(&w, "endTimeUnixNano");
    jw_uint_string(&w, a->end_ns);
    jw_key(&w, "durationNs");
    jw_uint(&w, a->end_ns - a->start_ns);
    jw_key(&w, "spanCount");
    jw_uint(&w, api_trace_counted(a));
    jw_key(&w, "rootSpanId");
    api_trace_span_id(&w, t, a->root);
    jw_key(&w, "otherRootSpanIds");
    jw_array_begin(&w);
    for (size_t r = 0; r < a->n_roots; r++)
        if (a->roots[r] != a->root)
            api_trace_span_id(&w, t, a->roots[r]);
    jw_array_end(&w);
    jw_key(&w, "criticalPathNs");
    jw_uint(&w, on_path);
    api_trace_path(&w, t);
    api_trace_spans(&w, t);
    api_trace_stats(&w, t);
    jw_object_end(&w);
    return jw_error(&w);
}

/* ---- two traces compared ------------------------------------------------------------- */

static uint64_t api_trace_node_self(const api_trace_loaded *t, size_t span) {
    return span == TA_NONE ? 0 : t->analysis.self_ns[span];
}

static uint64_t api_trace_node_dur(const api_trace_loaded *t, size_t span) {
    return span == TA_NONE ? 0 : trace_analysis_duration(&t->spans[span]);
}

/* b - a, signed, saturated. */
static int64_t api_trace_diff(uint64_t a, uint64_t b) {
    if (b >= a)
        return b - a > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(b - a);
    return a - b > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(a - b);
}

typedef struct api_trace_cmp_ctx {
    const api_trace_loaded *a, *b;
    const ta_compare *c;
} api_trace_cmp_ctx;

static int64_t api_trace_self_diff(const api_trace_cmp_ctx *x, size_t node) {
    const ta_cmp_node *nd = &x->c->nodes[node];
    return api_trace_diff(api_trace_node_self(x->a, nd->a), api_trace_node_self(x->b, nd->b));
}

/* Nodes by self-time difference, largest first; then by index. */
static int api_trace_by_self_diff(const void *pa, const void *pb, void *ctx) {
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int64_t da = api_trace_self_diff(ctx, a), db = api_trace_self_diff(ctx, b);
    if (da != db)
        return da > db ? -1 : 1;
    return a < b ? -1 : a > b;
}

static void api_trace_side_json(jw *w, const api_trace_loaded *t, size_t span, size_t subtree) {
    if (span == TA_NONE) {
        jw_null(w);
        return;
    }
    const ta_span *s = &t->spans[span];
    jw_object_begin(w);
    jw_key(w, "spanId");
    api_trace_span_id(w, t, span);
    jw_key(w, "startOffsetNs");
    jw_uint(w, s->start_ns - t->analysis.start_ns);
    jw_key(w, "durationNs");
    jw_uint(w, trace_analysis_duration(s));
    jw_key(w, "selfNs");
    jw_uint(w, t->analysis.self_ns[span]);
    jw_key(w, "critical");
    jw_bool(w, t->analysis.critical[span]);
    jw_key(w, "subtreeSpans");
    jw_uint(w, subtree);
    jw_object_end(w);
}

static void api_trace_trace_json(jw *w, const api_trace_loaded *t) {
    const ta_trace *a = &t->analysis;
    const ta_span *root = &t->spans[a->root];
    jw_object_begin(w);
    jw_key(w, "traceId");
    jw_hex(w, t->trace_id, 16);
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, a->start_ns);
    jw_key(w, "durationNs");
    jw_uint(w, a->end_ns - a->start_ns);
    jw_key(w, "spanCount");
    jw_uint(w, api_trace_counted(a));
    jw_key(w, "rootService");
    jw_string(w, root->service);
    jw_key(w, "rootName");
    jw_string(w, root->name);
    jw_object_end(w);
}

static void api_trace_nodes_json(jw *w, const api_trace_cmp_ctx *x) {
    jw_key(w, "nodes");
    jw_array_begin(w);
    for (size_t i = 0; i < x->c->n; i++) {
        const ta_cmp_node *nd = &x->c->nodes[i];
        jw_object_begin(w);
        jw_key(w, "id");
        jw_uint(w, i);
        jw_key(w, "parent");
        if (nd->parent == TA_NONE)
            jw_null(w);
        else
            jw_uint(w, nd->parent);
        jw_key(w, "depth");
        jw_uint(w, nd->depth);
        jw_key(w, "service");
        jw_string(w, nd->service);
        jw_key(w, "name");
        jw_string(w, nd->name);
        jw_key(w, "in");
        jw_string(w, nd->a == TA_NONE ? "b" : nd->b == TA_NONE ? "a" : "both");
        jw_key(w, "a");
        api_trace_side_json(w, x->a, nd->a, nd->subtree_a);
        jw_key(w, "b");
        api_trace_side_json(w, x->b, nd->b, nd->subtree_b);
        jw_key(w, "diffNs");
        jw_int(w, api_trace_diff(api_trace_node_dur(x->a, nd->a), api_trace_node_dur(x->b, nd->b)));
        jw_key(w, "selfDiffNs");
        jw_int(w, api_trace_self_diff(x, i));
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* The API_TRACE_SLOWEST nodes with the largest self-time gain (sign 1) or
 * loss (sign -1); order[] is sorted largest gain first. */
static void api_trace_extremes(jw *w, const api_trace_cmp_ctx *x, const size_t *order, int sign) {
    jw_array_begin(w);
    size_t n = x->c->n, shown = 0;
    for (size_t k = 0; k < n && shown < API_TRACE_SLOWEST; k++) {
        size_t i = sign > 0 ? order[k] : order[n - 1 - k];
        int64_t d = api_trace_self_diff(x, i);
        if ((sign > 0 && d <= 0) || (sign < 0 && d >= 0))
            break;
        jw_object_begin(w);
        jw_key(w, "node");
        jw_uint(w, i);
        jw_key(w, "service");
        jw_string(w, x->c->nodes[i].service);
        jw_key(w, "name");
        jw_string(w, x->c->nodes[i].name);
        jw_key(w, "selfDiffNs");
        jw_int(w, d);
        jw_object_end(w);
        shown++;
    }
    jw_array_end(w);
}

int api_trace_compare_json(const api_trace_loaded *a, const api_trace_loaded *b, buf *out) {
    ta_compare c;
    if (trace_analysis_compare(&a->analysis, &b->analysis, &c) != TRACE_ANALYSIS_OK)
        return BUF_ENOMEM;
    api_trace_cmp_ctx x = {a, b, &c};
    size_t *order = malloc((c.n ? c.n : 1) * sizeof(size_t));
    if (order == NULL) {
        trace_analysis_compare_free(&c);
        return BUF_ENOMEM;
    }
    for (size_t i = 0; i < c.n; i++)
        order[i] = i;
    qsort_r(order, c.n, sizeof(size_t), api_trace_by_self_diff, &x);
    uint64_t da = a->analysis.end_ns - a->analysis.start_ns;
    uint64_t db = b->analysis.end_ns - b->analysis.start_ns;
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "a");
    api_trace_trace_json(&w, a);
    jw_key(&w, "b");
    api_trace_trace_json(&w, b);
    jw_key(&w, "diffNs");
    jw_int(&w, api_trace_diff(da, db));
    jw_key(&w, "summary");
    jw_object_begin(&w);
    jw_key(&w, "nodes");
    jw_uint(&w, c.n);
    jw_key(&w, "both");
    jw_uint(&w, c.both);
    jw_key(&w, "onlyInA");
    jw_uint(&w, c.only_a);
    jw_key(&w, "onlyInB");
    jw_uint(&w, c.only_b);
    jw_key(&w, "slowdowns");
    api_trace_extremes(&w, &x, order, 1);
    jw_key(&w, "speedups");
    api_trace_extremes(&w, &x, order, -1);
    jw_object_end(&w);
    api_trace_nodes_json(&w, &x);
    jw_object_end(&w);
    free(order);
    trace_analysis_compare_free(&c);
    return jw_error(&w);
}
