/* otlp_convert_logs.c - log records into the model. */
#include <stdint.h>
#include <string.h>

#include "otlp.h"
#include "otlp_convert_internal.h"

typedef Opentelemetry__Proto__Logs__V1__ResourceLogs pb_resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs pb_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord pb_log;

static int conv_log(conv *c, model_log *out, const pb_log *l) {
    memset(out, 0, sizeof(*out));
    model_limited from = c->lim;
    int sev = (int)l->severity_number;
    if (sev < 0 || sev > 24)
        return conv_reject(c, "severity_number %d is outside 0..24", sev);
    out->severity_number = sev;
    out->time_ns = l->time_unix_nano;
    out->observed_time_ns = l->observed_time_unix_nano;
    out->flags = l->flags;
    out->dropped_attrs = l->dropped_attributes_count;
    int rc = conv_id_optional(c, out->trace_id, &out->has_trace_id, 16, &l->trace_id, "trace_id");
    if (rc == CONV_OK)
        rc = conv_id_optional(c, out->span_id, &out->has_span_id, 8, &l->span_id, "span_id");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->severity_text, l->severity_text, "severity_text");
    if (rc == CONV_OK)
        rc = conv_str(c, &out->event_name, l->event_name, "event_name");
    if (rc == CONV_OK) {
        c->whole = 1; /* the body is the log's message, not an attribute */
        rc = conv_value(c, &out->body, l->body, 0);
        c->whole = 0;
    }
    if (rc == CONV_OK)
        rc = conv_attrs(c, &out->attrs, l->attributes, l->n_attributes, &out->dropped_attrs);
    out->limited = conv_limited_since(c, from);
    return rc;
}

static size_t conv_count_sl(const pb_scope_logs *sl) {
    return (sl != NULL && sl->log_records != NULL) ? sl->n_log_records : 0;
}

static size_t conv_count_logs(const pb_resource_logs *rl) {
    size_t n = 0;
    if (rl == NULL || rl->scope_logs == NULL)
        return 0;
    for (size_t j = 0; j < rl->n_scope_logs; j++)
        n = conv_add(n, conv_count_sl(rl->scope_logs[j]));
    return n;
}

int otlp_convert_logs(const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req,
                      model_batch *b) {
    conv c = {.b = b};
    size_t total = 0;
    if (req->resource_logs == NULL)
        return OTLP_OK;
    for (size_t i = 0; i < req->n_resource_logs; i++)
        total = conv_add(total, conv_count_logs(req->resource_logs[i]));
    if (conv_grow(&c, (void **)&b->logs, b->n_logs, total, sizeof(*b->logs)) != CONV_OK)
        return conv_alloc_error(b);

    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const pb_resource_logs *rl = req->resource_logs[i];
        if (conv_count_logs(rl) == 0)
            continue;
        model_resource *res = NULL;
        int rc = conv_resource(&c, &res, rl->resource, rl->schema_url);
        if (rc == CONV_NOMEM)
            return conv_alloc_error(b);
        if (rc == CONV_REJECT) {
            conv_reject_items(&c, "resource of log records", conv_count_logs(rl));
            continue;
        }
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            const pb_scope_logs *sl = rl->scope_logs[j];
            if (conv_count_sl(sl) == 0)
                continue;
            model_scope *scope = NULL;
            rc = conv_scope(&c, &scope, sl->scope, sl->schema_url);
            if (rc == CONV_NOMEM)
                return conv_alloc_error(b);
            if (rc == CONV_REJECT) {
                conv_reject_items(&c, "scope of log records", sl->n_log_records);
                continue;
            }
            for (size_t k = 0; k < sl->n_log_records; k++) {
                if (sl->log_records[k] == NULL)
                    continue;
                model_log *lg = &b->logs[b->n_logs];
                rc = conv_log(&c, lg, sl->log_records[k]);
                if (rc == CONV_NOMEM)
                    return conv_alloc_error(b);
                if (rc == CONV_REJECT) {
                    conv_reject_items(&c, "log record", 1);
                    continue;
                }
                lg->resource = res;
                lg->scope = scope;
                b->n_logs++;
            }
        }
    }
    return OTLP_OK;
}
