/* export_json.c - stored items written as OTLP JSON; see export_json.h. */
#include "export_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"

/* ---- stored JSON -> OTLP JSON ------------------------------------------------- */

static void exj_anyvalue(jw *w, const json_t *v);

/* An API attributes object as an OTLP key/value list. */
static void exj_kvs_json(jw *w, const json_t *o) {
    jw_array_begin(w);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        jw_object_begin(w);
        jw_key(w, "key");
        jw_string(w, k);
        jw_key(w, "value");
        exj_anyvalue(w, v);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void exj_anyvalue(jw *w, const json_t *v) {
    jw_object_begin(w);
    switch (json_typeof(v)) {
    case JSON_STRING:
        jw_key(w, "stringValue");
        jw_stringn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        jw_key(w, "boolValue");
        jw_bool(w, json_is_true(v));
        break;
    case JSON_INTEGER: {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        jw_key(w, "intValue");
        jw_string(w, tmp);
        break;
    }
    case JSON_REAL:
        jw_key(w, "doubleValue");
        jw_double(w, json_real_value(v));
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        jw_key(w, "arrayValue");
        jw_object_begin(w);
        jw_key(w, "values");
        jw_array_begin(w);
        json_array_foreach(v, i, e) exj_anyvalue(w, e);
        jw_array_end(w);
        jw_object_end(w);
        break;
    }
    case JSON_OBJECT:
        jw_key(w, "kvlistValue");
        jw_object_begin(w);
        jw_key(w, "values");
        exj_kvs_json(w, v);
        jw_object_end(w);
        break;
    default: /* null: an empty AnyValue */
        break;
    }
    jw_object_end(w);
}

/* The JSON of t (new reference), NULL when absent or not JSON. */
static json_t *exj_parse(exj_text t) {
    if (t.ptr == NULL)
        return NULL;
    return json_loadb(t.ptr, t.len, JSON_DECODE_ANY, NULL);
}

/* A stored attributes object as a key/value list ([] when absent or bad). */
static void exj_kvs(jw *w, exj_text t) {
    json_t *o = exj_parse(t);
    if (json_is_object(o))
        exj_kvs_json(w, o);
    else
        jw_raw(w, "[]", 2);
    json_decref(o);
}

static int exj_key_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A resource's or scope's attributes, keys in byte order: the order the
 * SQLite store keeps them in (model_json_attrs_sorted), which ClickHouse's
 * rows do not. */
static void exj_kvs_sorted(jw *w, exj_text t) {
    json_t *o = exj_parse(t);
    size_t n = json_is_object(o) ? json_object_size(o) : 0;
    const char **keys = n > 1 ? malloc(n * sizeof(*keys)) : NULL;
    if (keys == NULL) { /* none to order, or no memory: as stored */
        if (json_is_object(o))
            exj_kvs_json(w, o);
        else
            jw_raw(w, "[]", 2);
        json_decref(o);
        return;
    }
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), exj_key_cmp);
    jw_array_begin(w);
    for (i = 0; i < n; i++) {
        jw_object_begin(w);
        jw_key(w, "key");
        jw_string(w, keys[i]);
        jw_key(w, "value");
        exj_anyvalue(w, json_object_get(o, keys[i]));
        jw_object_end(w);
    }
    jw_array_end(w);
    free(keys);
    json_decref(o);
}

static const char *exj_str(const json_t *v, const char *def) {
    const char *s = json_string_value(v);
    return s ? s : def;
}

/* "key": t as a string ("" when absent). */
static void exj_text_member(jw *w, const char *key, exj_text t) {
    jw_key(w, key);
    if (t.ptr == NULL)
        jw_string(w, "");
    else
        jw_stringn(w, t.ptr, t.len);
}

static void exj_u64_str(jw *w, const char *key, uint64_t v) {
    jw_key(w, key);
    jw_uint_string(w, v);
}

/* A stored count (number or decimal string) as an OTLP uint64 string. */
static void exj_count(jw *w, const json_t *v) {
    if (json_is_string(v)) {
        jw_string(w, json_string_value(v));
    } else {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
                 json_is_integer(v) ? json_integer_value(v) : (json_int_t)0);
        jw_string(w, tmp);
    }
}

static void exj_counts(jw *w, const json_t *a) {
    size_t i;
    json_t *e;
    jw_array_begin(w);
    json_array_foreach(a, i, e) exj_count(w, e);
    jw_array_end(w);
}

/* A stored double (number, or "NaN"/"Infinity" string), or nothing. */
static void exj_double(jw *w, const char *key, const json_t *v) {
    if (json_is_number(v)) {
        jw_key(w, key);
        jw_double(w, json_number_value(v));
    } else if (json_is_string(v)) {
        jw_key(w, key);
        jw_string(w, json_string_value(v));
    }
}

static void exj_id(jw *w, const char *key, const uint8_t *id, size_t size) {
    if (id != NULL) {
        jw_key(w, key);
        jw_hex(w, id, size);
    }
}

/* The stored JSON array t as an array of OTLP JSON objects, each written
 * by `object` (its members only). */
static void exj_objects(jw *w, exj_text t, void (*object)(jw *w, const json_t *e)) {
    json_t *a = exj_parse(t);
    size_t i;
    json_t *e;
    jw_array_begin(w);
    json_array_foreach(a, i, e) {
        jw_object_begin(w);
        object(w, e);
        jw_object_end(w);
    }
    jw_array_end(w);
    json_decref(a);
}

/* ---- resource and scope framing ----------------------------------------------------- */

static void exj_resource(jw *w, const exj_owner *o) {
    jw_key(w, "resource");
    jw_object_begin(w);
    jw_key(w, "attributes");
    exj_kvs_sorted(w, o->res_attrs);
    jw_key(w, "droppedAttributesCount");
    jw_int(w, o->res_dropped);
    jw_object_end(w);
}

static void exj_scope(jw *w, const exj_owner *o) {
    jw_key(w, "scope");
    jw_object_begin(w);
    exj_text_member(w, "name", o->scope_name);
    exj_text_member(w, "version", o->scope_version);
    jw_key(w, "attributes");
    exj_kvs_sorted(w, o->scope_attrs);
    jw_key(w, "droppedAttributesCount");
    jw_int(w, o->scope_dropped);
    jw_object_end(w);
}

/* Opens a level for id: {, its head (exj_resource or exj_scope), "key":[ ;
 * keeps its schema URL for the close. */
static void exj_level_open(jw *w, exj_level *l, int64_t id, const char *key, const exj_owner *o,
                           void (*head)(jw *w, const exj_owner *o), exj_text schema) {
    jw_object_begin(w);
    head(w, o);
    jw_key(w, key);
    jw_array_begin(w);
    l->open = 1;
    l->id = id;
    snprintf(l->schema, sizeof(l->schema), "%.*s", schema.ptr ? (int)schema.len : 0,
             schema.ptr ? schema.ptr : "");
}

static void exj_level_close(jw *w, exj_level *l) {
    if (!l->open)
        return;
    jw_array_end(w);
    jw_key(w, "schemaUrl");
    jw_string(w, l->schema);
    jw_object_end(w);
    l->open = 0;
}

void exj_groups_close(jw *w, exj_groups *g) {
    exj_level_close(w, &g->scope);
    exj_level_close(w, &g->res);
}

void exj_group(jw *w, exj_groups *g, int64_t res, int64_t scope, const exj_owner *o) {
    if (g->res.open && res != g->res.id)
        exj_groups_close(w, g);
    if (!g->res.open)
        exj_level_open(w, &g->res, res, g->scopes, o, exj_resource, o->res_schema);
    if (g->scope.open && scope != g->scope.id)
        exj_level_close(w, &g->scope);
    if (!g->scope.open)
        exj_level_open(w, &g->scope, scope, g->items, o, exj_scope, o->scope_schema);
}

/* ---- spans --------------------------------------------------------------------------- */

/* An event's or link's attributes and dropped count. */
static void exj_attributes(jw *w, const json_t *e) {
    jw_key(w, "attributes");
    exj_kvs_json(w, json_object_get(e, "attributes"));
    jw_key(w, "droppedAttributesCount");
    jw_int(w, json_integer_value(json_object_get(e, "droppedAttributesCount")));
}

/* A span event (stored API JSON) as OTLP JSON. */
static void exj_event(jw *w, const json_t *e) {
    jw_key(w, "timeUnixNano");
    jw_string(w, exj_str(json_object_get(e, "timeUnixNano"), "0"));
    jw_key(w, "name");
    jw_string(w, exj_str(json_object_get(e, "name"), ""));
    exj_attributes(w, e);
}

/* A span link (stored API JSON) as OTLP JSON. */
static void exj_link(jw *w, const json_t *e) {
    jw_key(w, "traceId");
    jw_string(w, exj_str(json_object_get(e, "traceId"), ""));
    jw_key(w, "spanId");
    jw_string(w, exj_str(json_object_get(e, "spanId"), ""));
    jw_key(w, "traceState");
    jw_string(w, exj_str(json_object_get(e, "traceState"), ""));
    jw_key(w, "flags");
    jw_int(w, json_integer_value(json_object_get(e, "flags")));
    exj_attributes(w, e);
}

void exj_span_write(jw *w, const exj_span *s) {
    jw_object_begin(w);
    exj_id(w, "traceId", s->trace_id, 16);
    exj_id(w, "spanId", s->span_id, 8);
    exj_id(w, "parentSpanId", s->parent_span_id, 8);
    exj_text_member(w, "traceState", s->trace_state);
    jw_key(w, "flags");
    jw_int(w, s->flags);
    exj_text_member(w, "name", s->name);
    jw_key(w, "kind");
    jw_int(w, s->kind);
    exj_u64_str(w, "startTimeUnixNano", s->start_ns);
    exj_u64_str(w, "endTimeUnixNano", s->end_ns);
    jw_key(w, "attributes");
    exj_kvs(w, s->attrs);
    jw_key(w, "droppedAttributesCount");
    jw_int(w, s->dropped_attrs);
    jw_key(w, "events");
    exj_objects(w, s->events, exj_event);
    jw_key(w, "droppedEventsCount");
    jw_int(w, s->dropped_events);
    jw_key(w, "links");
    exj_objects(w, s->links, exj_link);
    jw_key(w, "droppedLinksCount");
    jw_int(w, s->dropped_links);
    jw_key(w, "status");
    jw_object_begin(w);
    jw_key(w, "code");
    jw_int(w, s->status_code);
    exj_text_member(w, "message", s->status_message);
    jw_object_end(w);
    jw_object_end(w);
}

/* ---- log records ----------------------------------------------------------------------- */

void exj_log_write(jw *w, const exj_log *l) {
    jw_object_begin(w);
    exj_u64_str(w, "timeUnixNano", l->time_ns);
    exj_u64_str(w, "observedTimeUnixNano", l->observed_ns);
    jw_key(w, "severityNumber");
    jw_int(w, l->severity);
    exj_text_member(w, "severityText", l->severity_text);
    json_t *body = exj_parse(l->body);
    if (body != NULL && !json_is_null(body)) {
        jw_key(w, "body");
        exj_anyvalue(w, body);
    }
    json_decref(body);
    jw_key(w, "attributes");
    exj_kvs(w, l->attrs);
    jw_key(w, "droppedAttributesCount");
    jw_int(w, l->dropped_attrs);
    jw_key(w, "flags");
    jw_int(w, l->flags);
    exj_id(w, "traceId", l->trace_id, 16);
    exj_id(w, "spanId", l->span_id, 8);
    if (l->event_name.ptr != NULL && l->event_name.len > 0)
        exj_text_member(w, "eventName", l->event_name);
    jw_object_end(w);
}

/* ---- metrics ---------------------------------------------------------------------------- */

static void exj_point_data(jw *w, int type, const json_t *d) {
    if (!json_is_object(d))
        return;
    jw_key(w, "count");
    exj_count(w, json_object_get(d, "count"));
    exj_double(w, "sum", json_object_get(d, "sum"));
    if (type == MODEL_METRIC_SUMMARY) {
        size_t i;
        json_t *e;
        jw_key(w, "quantileValues");
        jw_array_begin(w);
        json_array_foreach(json_object_get(d, "quantileValues"), i, e) {
            jw_object_begin(w);
            exj_double(w, "quantile", json_object_get(e, "quantile"));
            exj_double(w, "value", json_object_get(e, "value"));
            jw_object_end(w);
        }
        jw_array_end(w);
        return;
    }
    exj_double(w, "min", json_object_get(d, "min"));
    exj_double(w, "max", json_object_get(d, "max"));
    if (type == MODEL_METRIC_HISTOGRAM) {
        jw_key(w, "bucketCounts");
        exj_counts(w, json_object_get(d, "bucketCounts"));
        size_t i;
        json_t *e;
        jw_key(w, "explicitBounds");
        jw_array_begin(w);
        json_array_foreach(json_object_get(d, "explicitBounds"), i, e) {
            if (json_is_number(e))
                jw_double(w, json_number_value(e));
            else
                jw_string(w, exj_str(e, "NaN"));
        }
        jw_array_end(w);
        return;
    }
    jw_key(w, "scale");
    jw_int(w, json_integer_value(json_object_get(d, "scale")));
    jw_key(w, "zeroCount");
    exj_count(w, json_object_get(d, "zeroCount"));
    exj_double(w, "zeroThreshold", json_object_get(d, "zeroThreshold"));
    const char *sides[2] = {"positive", "negative"};
    for (int k = 0; k < 2; k++) {
        const json_t *b = json_object_get(d, sides[k]);
        jw_key(w, sides[k]);
        jw_object_begin(w);
        jw_key(w, "offset");
        jw_int(w, json_integer_value(json_object_get(b, "offset")));
        jw_key(w, "bucketCounts");
        exj_counts(w, json_object_get(b, "bucketCounts"));
        jw_object_end(w);
    }
}

/* An exemplar (stored API JSON) as OTLP JSON. */
static void exj_exemplar(jw *w, const json_t *e) {
    jw_key(w, "filteredAttributes");
    exj_kvs_json(w, json_object_get(e, "filteredAttributes"));
    jw_key(w, "timeUnixNano");
    jw_string(w, exj_str(json_object_get(e, "timeUnixNano"), "0"));
    const json_t *v = json_object_get(e, "value");
    if (json_is_integer(v)) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        jw_key(w, "asInt");
        jw_string(w, tmp);
    } else if (json_is_string(v) &&
               strspn(json_string_value(v), "-0123456789") == strlen(json_string_value(v))) {
        jw_key(w, "asInt"); /* beyond 2^53, kept as a decimal string */
        jw_string(w, json_string_value(v));
    } else {
        exj_double(w, "asDouble", v);
    }
    const char *tid = json_string_value(json_object_get(e, "traceId"));
    const char *sid = json_string_value(json_object_get(e, "spanId"));
    if (tid && tid[0]) {
        jw_key(w, "traceId");
        jw_string(w, tid);
    }
    if (sid && sid[0]) {
        jw_key(w, "spanId");
        jw_string(w, sid);
    }
}

static const char *const exj_metric_keys[] = {"gauge", "sum", "histogram",
                                              "exponentialHistogram", "summary"};

int exj_metric_begin(jw *w, const exj_metric *m) {
    int type = m->type;
    if (type < 0 || type > MODEL_METRIC_SUMMARY)
        type = MODEL_METRIC_GAUGE;
    jw_object_begin(w);
    exj_text_member(w, "name", m->name);
    exj_text_member(w, "description", m->description);
    exj_text_member(w, "unit", m->unit);
    jw_key(w, exj_metric_keys[type]);
    jw_object_begin(w);
    if (type != MODEL_METRIC_GAUGE && type != MODEL_METRIC_SUMMARY) {
        jw_key(w, "aggregationTemporality");
        jw_int(w, m->temporality);
    }
    if (type == MODEL_METRIC_SUM) {
        jw_key(w, "isMonotonic");
        jw_bool(w, m->monotonic);
    }
    jw_key(w, "dataPoints");
    jw_array_begin(w);
    return type;
}

void exj_metric_end(jw *w) {
    jw_array_end(w);  /* dataPoints */
    jw_object_end(w); /* the type */
    jw_object_end(w); /* the metric */
}

void exj_point_write(jw *w, const exj_point *p, int type) {
    jw_object_begin(w);
    jw_key(w, "attributes");
    exj_kvs(w, p->attrs);
    exj_u64_str(w, "startTimeUnixNano", p->start_ns);
    exj_u64_str(w, "timeUnixNano", p->time_ns);
    if (type == MODEL_METRIC_GAUGE || type == MODEL_METRIC_SUM) {
        if (p->value_kind == EXJ_VALUE_INT) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%lld", (long long)p->as_int);
            jw_key(w, "asInt");
            jw_string(w, tmp);
        } else if (p->value_kind == EXJ_VALUE_DOUBLE) {
            jw_key(w, "asDouble");
            jw_double(w, p->as_double);
        } else {
            jw_key(w, "asDouble");
            jw_string(w, "NaN");
        }
    } else {
        json_t *d = exj_parse(p->data);
        exj_point_data(w, type, d);
        json_decref(d);
    }
    jw_key(w, "flags");
    jw_int(w, p->flags);
    jw_key(w, "exemplars");
    exj_objects(w, p->exemplars, exj_exemplar);
    jw_object_end(w);
}
