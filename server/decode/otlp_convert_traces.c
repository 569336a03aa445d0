/* otlp_convert_traces.c - spans (with their events and links) into the model. */
#include <stdint.h>
#include <string.h>

#include "otlp.h"
#include "otlp_convert_internal.h"

typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_link;

static int conv_event(conv *c, model_event *out, const pb_event *e) {
    out->time_ns = e->time_unix_nano;
    int rc = conv_str(c, &out->name, e->name, "event name");
    if (rc != CONV_OK)
        return rc;
    out->dropped_attrs = e->dropped_attributes_count;
    return conv_attrs(c, &out->attrs, e->attributes, e->n_attributes, &out->dropped_attrs);
}

static int conv_link(conv *c, model_link *out, const pb_link *l) {
    int rc = conv_id_required(c, out->trace_id, 16, &l->trace_id, "link trace_id");
    if (rc == CONV_OK)
        rc = conv_id_required(c, out->span_id, 8, &l->span_id, "link span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->trace_state, l->trace_state, "link trace_state");
    if (rc != CONV_OK)
        return rc;
    out->dropped_attrs = l->dropped_attributes_count;
    out->flags = l->flags;
    return conv_attrs(c, &out->attrs, l->attributes, l->n_attributes, &out->dropped_attrs);
}

/* The non-NULL elements of a repeated message field. */
static size_t conv_count_present(void *const *items, size_t n) {
    size_t k = 0;
    if (items == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        k += items[i] != NULL;
    return k;
}

static int conv_span(conv *c, model_span *out, const pb_span *s) {
    memset(out, 0, sizeof(*out));
    model_limited from = c->lim;
    int rc = conv_id_required(c, out->trace_id, 16, &s->trace_id, "trace_id");
    if (rc == CONV_OK)
        rc = conv_id_required(c, out->span_id, 8, &s->span_id, "span_id");
    if (rc == CONV_OK)
        rc = conv_id_optional(c, out->parent_span_id, &out->has_parent, 8, &s->parent_span_id,
                              "parent_span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->trace_state, s->trace_state, "trace_state");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->name, s->name, "span name");
    if (rc != CONV_OK)
        return rc;
    out->flags = s->flags;
    int kind = (int)s->kind;
    out->kind = (kind >= 0 && kind <= (int)MODEL_SPAN_KIND_CONSUMER) ? (model_span_kind)kind
                                                                     : MODEL_SPAN_KIND_UNSPECIFIED;
    out->start_ns = s->start_time_unix_nano;
    out->end_ns = s->end_time_unix_nano;
    out->dropped_attrs = s->dropped_attributes_count;
    out->dropped_events = s->dropped_events_count;
    out->dropped_links = s->dropped_links_count;
    rc = conv_attrs(c, &out->attrs, s->attributes, s->n_attributes, &out->dropped_attrs);
    if (rc != CONV_OK)
        return rc;

    size_t keep_ev = conv_keep_events(c, conv_count_present((void *const *)s->events, s->n_events),
                                      &out->dropped_events);
    if (keep_ev > 0) {
        out->events = conv_calloc(c, keep_ev, sizeof(*out->events));
        if (out->events == NULL)
            return CONV_NOMEM;
        for (size_t i = 0; i < s->n_events && out->n_events < keep_ev; i++) {
            if (s->events[i] == NULL)
                continue;
            rc = conv_event(c, &out->events[out->n_events], s->events[i]);
            if (rc != CONV_OK)
                return rc;
            out->n_events++;
        }
    }
    size_t keep_ln = conv_keep_links(c, conv_count_present((void *const *)s->links, s->n_links),
                                     &out->dropped_links);
    if (keep_ln > 0) {
        out->links = conv_calloc(c, keep_ln, sizeof(*out->links));
        if (out->links == NULL)
            return CONV_NOMEM;
        for (size_t i = 0; i < s->n_links && out->n_links < keep_ln; i++) {
            if (s->links[i] == NULL)
                continue;
            rc = conv_link(c, &out->links[out->n_links], s->links[i]);
            if (rc != CONV_OK)
                return rc;
            out->n_links++;
        }
    }

    out->status_code = MODEL_STATUS_UNSET;
    out->status_message = model_str_empty;
    if (s->status != NULL) {
        int code = (int)s->status->code;
        if (code == MODEL_STATUS_OK || code == MODEL_STATUS_ERROR)
            out->status_code = (model_status_code)code;
        rc = conv_str(c, &out->status_message, s->status->message, "status message");
        if (rc != CONV_OK)
            return rc;
    }
    out->limited = conv_limited_since(c, from);
    return CONV_OK;
}

static size_t conv_count_spans(const pb_resource_spans *rs) {
    size_t n = 0;
    if (rs == NULL || rs->scope_spans == NULL)
        return 0;
    for (size_t j = 0; j < rs->n_scope_spans; j++)
        if (rs->scope_spans[j] != NULL && rs->scope_spans[j]->spans != NULL)
            n = conv_add(n, rs->scope_spans[j]->n_spans);
    return n;
}

static size_t conv_count_ss(const pb_scope_spans *ss) {
    return (ss != NULL && ss->spans != NULL) ? ss->n_spans : 0;
}

int otlp_convert_traces(const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req,
                        model_batch *b) {
    conv c = {.b = b};
    size_t total = 0;
    if (req->resource_spans == NULL)
        return OTLP_OK;
    for (size_t i = 0; i < req->n_resource_spans; i++)
        total = conv_add(total, conv_count_spans(req->resource_spans[i]));
    if (conv_grow(&c, (void **)&b->spans, b->n_spans, total, sizeof(*b->spans)) != CONV_OK)
        return conv_alloc_error(b);

    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const pb_resource_spans *rs = req->resource_spans[i];
        if (conv_count_spans(rs) == 0)
            continue;
        model_resource *res = NULL;
        int rc = conv_resource(&c, &res, rs->resource, rs->schema_url);
        if (rc == CONV_NOMEM)
            return conv_alloc_error(b);
        if (rc == CONV_REJECT) {
            conv_reject_items(&c, "resource of spans", conv_count_spans(rs));
            continue;
        }
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const pb_scope_spans *ss = rs->scope_spans[j];
            if (conv_count_ss(ss) == 0)
                continue;
            model_scope *scope = NULL;
            rc = conv_scope(&c, &scope, ss->scope, ss->schema_url);
            if (rc == CONV_NOMEM)
                return conv_alloc_error(b);
            if (rc == CONV_REJECT) {
                conv_reject_items(&c, "scope of spans", ss->n_spans);
                continue;
            }
            for (size_t k = 0; k < ss->n_spans; k++) {
                if (ss->spans[k] == NULL)
                    continue;
                model_span *sp = &b->spans[b->n_spans];
                rc = conv_span(&c, sp, ss->spans[k]);
                if (rc == CONV_NOMEM)
                    return conv_alloc_error(b);
                if (rc == CONV_REJECT) {
                    conv_reject_items(&c, "span", 1);
                    continue;
                }
                sp->resource = res;
                sp->scope = scope;
                b->n_spans++;
            }
        }
    }
    return OTLP_OK;
}
