/* ch_rows.c - a batch's items as TabSeparated rows of loupe's ClickHouse
 * tables (ch_schema.h's column lists); see ch_rows.h.
 *
 * The JSON texts (attributes, events, links, bodies, point data) are the
 * ones the store renders on the receiving thread (store_prep), so the API
 * shows the same text on either backend. Attribute values for filters are
 * their text: strings as they are, integers in decimal, doubles in the
 * shortest form that reads back the same, booleans true/false, anything
 * else as its JSON.
 */
#include "ch_rows.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/jw.h"
#include "util/textfold.h"
#include "ch_sql.h"
#include "model_json.h"

#define CH_TAB(o) buf_append_char((o), '\t')

/* "YYYY-MM-DD" (UTC) of t ns; 1970-01-01 for 0. */
void ch_rows_date(buf *o, uint64_t t) {
    time_t secs = (time_t)(t / 1000000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* ClickHouse's Date ends in 2105 (2149 in new releases): clamp */
    if (tm.tm_year + 1900 > 2105)
        tm.tm_year = 2105 - 1900;
    buf_printf(o, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void ch_u64(buf *o, uint64_t v) {
    buf_printf(o, "%" PRIu64, v);
}

static void ch_str(buf *o, model_str s) {
    ch_tsv_escape(o, s.ptr ? s.ptr : "", s.len);
}

/* The text a filter compares an attribute's value with. */
void ch_rows_value_text(buf *o, const model_value *v) {
    switch (v->type) {
    case MODEL_VALUE_STRING:
        buf_append(o, v->u.str.ptr ? v->u.str.ptr : "", v->u.str.len);
        return;
    case MODEL_VALUE_BOOL:
        buf_append_str(o, v->u.boolean ? "true" : "false");
        return;
    case MODEL_VALUE_INT:
        buf_printf(o, "%" PRId64, v->u.integer);
        return;
    case MODEL_VALUE_DOUBLE: {
        char t[40];
        if (!isfinite(v->u.dbl)) {
            snprintf(t, sizeof(t), "%s", isnan(v->u.dbl) ? "NaN" : v->u.dbl > 0 ? "Infinity"
                                                                             : "-Infinity");
        } else {
            snprintf(t, sizeof(t), "%.15g", v->u.dbl);
            if (strtod(t, NULL) != v->u.dbl)
                snprintf(t, sizeof(t), "%.17g", v->u.dbl);
        }
        buf_append_str(o, t);
        return;
    }
    default: {
        jw w;
        jw_init(&w, o);
        model_json_value(&w, v);
        return;
    }
    }
}

/* Two array fields: keys, then values as text, of a. scratch: reused. */
static void ch_kv_arrays(buf *o, const model_attrs *a, buf *scratch) {
    buf_append_char(o, '[');
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            buf_append_char(o, ',');
        ch_sql_quote(o, a->items[i].key.ptr ? a->items[i].key.ptr : "", a->items[i].key.len);
    }
    buf_append_str(o, "]\t[");
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            buf_append_char(o, ',');
        buf_reset(scratch);
        ch_rows_value_text(scratch, &a->items[i].value);
        ch_sql_quote(o, scratch->ptr ? scratch->ptr : "", scratch->len);
    }
    buf_append_char(o, ']');
}

/* A resource's or scope's attributes, sorted by key, as a field. */
static void ch_attrs_json(buf *o, const model_attrs *a, buf *scratch) {
    buf_reset(scratch);
    jw w;
    jw_init(&w, scratch);
    model_json_attrs_sorted(&w, a); /* as the SQLite store keeps them: one text, one id */
    ch_tsv_escape(o, scratch->ptr ? scratch->ptr : "{}", scratch->ptr ? scratch->len : 2);
}

/* The resource and scope columns (CH_OWNER_NAMES), each followed by a tab. */
static void ch_owner(buf *o, const model_resource *r, const model_scope *s, buf *scratch) {
    static const model_resource no_res = {{NULL, 0}, 0, {"", 0}, {"unknown_service", 15},
                                          {"", 0}, {0, 0}};
    static const model_scope no_scope = {{"", 0}, {"", 0}, {NULL, 0}, 0, {"", 0}};
    if (r == NULL)
        r = &no_res;
    if (s == NULL)
        s = &no_scope;
    ch_str(o, r->service_name);
    CH_TAB(o);
    ch_str(o, r->service_instance_id);
    CH_TAB(o);
    ch_attrs_json(o, &r->attrs, scratch);
    CH_TAB(o);
    ch_kv_arrays(o, &r->attrs, scratch);
    CH_TAB(o);
    ch_u64(o, r->dropped_attrs);
    CH_TAB(o);
    ch_str(o, r->schema_url);
    CH_TAB(o);
    ch_str(o, s->name);
    CH_TAB(o);
    ch_str(o, s->version);
    CH_TAB(o);
    ch_attrs_json(o, &s->attrs, scratch);
    CH_TAB(o);
    ch_u64(o, s->dropped_attrs);
    CH_TAB(o);
    ch_str(o, s->schema_url);
    CH_TAB(o);
}

static void ch_text(buf *o, const char *base, const store_text *t, const char *empty) {
    if (t->len == 0)
        buf_append_str(o, empty);
    else
        ch_tsv_escape(o, base + t->off, t->len);
}

static void ch_span_row(buf *o, const model_span *sp, const char *tb, const store_text *t,
                        uint64_t arrival, buf *scratch) {
    static const uint8_t zero8[8];
    ch_rows_date(o, sp->start_ns);
    CH_TAB(o);
    ch_u64(o, sp->start_ns);
    CH_TAB(o);
    ch_u64(o, sp->end_ns);
    CH_TAB(o);
    ch_tsv_bytes(o, sp->trace_id, 16);
    CH_TAB(o);
    ch_tsv_bytes(o, sp->span_id, 8);
    CH_TAB(o);
    ch_tsv_bytes(o, sp->has_parent ? sp->parent_span_id : zero8, 8);
    CH_TAB(o);
    buf_append_str(o, sp->has_parent ? "1\t" : "0\t");
    ch_owner(o, sp->resource, sp->scope, scratch);
    ch_str(o, sp->name);
    buf_printf(o, "\t%d\t%d\t", (int)sp->kind, (int)sp->status_code);
    ch_str(o, sp->status_message);
    CH_TAB(o);
    ch_str(o, sp->trace_state);
    buf_printf(o, "\t%" PRIu32 "\t", sp->flags);
    ch_text(o, tb, &t[0], "{}");
    CH_TAB(o);
    ch_text(o, tb, &t[1], "[]");
    CH_TAB(o);
    ch_text(o, tb, &t[2], "[]");
    CH_TAB(o);
    ch_kv_arrays(o, &sp->attrs, scratch);
    buf_printf(o, "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\n", sp->dropped_attrs,
               sp->dropped_events, sp->dropped_links, arrival);
}

/* The time a log record is listed by: its own, else when it was observed,
 * else its arrival (as the SQLite store does). */
uint64_t ch_rows_log_time(const model_log *lg, uint64_t arrival) {
    return lg->time_ns ? lg->time_ns : lg->observed_time_ns ? lg->observed_time_ns : arrival;
}

static void ch_log_row(buf *o, const model_log *lg, const char *tb, const store_text *t,
                       uint64_t arrival, buf *scratch) {
    static const uint8_t zero16[16];
    uint64_t time = ch_rows_log_time(lg, arrival);
    ch_rows_date(o, time);
    CH_TAB(o);
    ch_u64(o, time);
    CH_TAB(o);
    ch_u64(o, lg->time_ns);
    CH_TAB(o);
    ch_u64(o, lg->observed_time_ns);
    CH_TAB(o);
    ch_owner(o, lg->resource, lg->scope, scratch);
    buf_printf(o, "%d\t", (int)lg->severity_number);
    ch_str(o, lg->severity_text);
    CH_TAB(o);
    ch_tsv_bytes(o, lg->has_trace_id ? lg->trace_id : zero16, 16);
    CH_TAB(o);
    ch_tsv_bytes(o, lg->has_span_id ? lg->span_id : zero16, 8);
    buf_printf(o, "\t%d\t%d\t%" PRIu32 "\t", lg->has_trace_id ? 1 : 0, lg->has_span_id ? 1 : 0,
               lg->flags);
    ch_str(o, lg->event_name);
    CH_TAB(o);
    ch_text(o, tb, &t[0], "null");
    CH_TAB(o);
    /* the text a search reads, folded (textfold.h): a string body, else
     * its JSON */
    buf_reset(scratch);
    if (lg->body.type == MODEL_VALUE_STRING)
        textfold(lg->body.u.str.ptr ? lg->body.u.str.ptr : "", lg->body.u.str.len, scratch);
    else if (t[0].len)
        textfold(tb + t[0].off, t[0].len, scratch);
    ch_tsv_escape(o, scratch->ptr ? scratch->ptr : "", scratch->len);
    CH_TAB(o);
    ch_text(o, tb, &t[1], "{}");
    CH_TAB(o);
    ch_kv_arrays(o, &lg->attrs, scratch);
    buf_printf(o, "\t%" PRIu32 "\t%" PRId64 "\t%" PRIu64 "\n", lg->dropped_attrs, lg->pattern_id,
               arrival);
}

static void ch_point_row(buf *o, const model_point *p, const char *tb, const store_text *t,
                         uint64_t arrival, buf *scratch) {
    const model_metric *m = p->metric;
    ch_rows_date(o, p->time_ns);
    CH_TAB(o);
    ch_u64(o, p->time_ns);
    CH_TAB(o);
    ch_u64(o, p->start_time_ns);
    CH_TAB(o);
    ch_owner(o, m->resource, m->scope, scratch);
    ch_str(o, m->name);
    CH_TAB(o);
    ch_str(o, m->description);
    CH_TAB(o);
    ch_str(o, m->unit);
    buf_printf(o, "\t%d\t%d\t%d\t", (int)m->type, (int)m->temporality, m->monotonic ? 1 : 0);
    ch_text(o, tb, &t[0], "{}");
    CH_TAB(o);
    ch_kv_arrays(o, &p->attrs, scratch);
    double v = p->as_double;
    if (isnan(v))
        buf_append_str(o, "\tnan");
    else if (isinf(v))
        buf_append_str(o, v > 0 ? "\tinf" : "\t-inf");
    else
        buf_printf(o, "\t%.17g", v);
    buf_printf(o, "\t%d\t%" PRId64 "\t%" PRIu32 "\t", p->is_int ? 1 : 0, p->as_int, p->flags);
    ch_text(o, tb, &t[1], "");
    CH_TAB(o);
    ch_text(o, tb, &t[2], "");
    buf_printf(o, "\t%" PRIu64 "\n", arrival);
}

int ch_rows_item(buf *o, const model_batch *b, size_t i, const char *texts, const store_text *t,
                 uint64_t arrival, buf *scratch) {
    switch (b->signal) {
    case MODEL_SIGNAL_TRACES:
        ch_span_row(o, &b->spans[i], texts, t, arrival, scratch);
        break;
    case MODEL_SIGNAL_LOGS:
        ch_log_row(o, &b->logs[i], texts, t, arrival, scratch);
        break;
    case MODEL_SIGNAL_METRICS:
        if (b->points[i].metric == NULL)
            return -1;
        ch_point_row(o, &b->points[i], texts, t, arrival, scratch);
        break;
    }
    return 0;
}
