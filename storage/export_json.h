/* export_json.h - stored items written as OTLP JSON, for the export
 * (GET /api/v1/export) of either backend.
 *
 * DESIGN
 * Both stores keep an item's attributes, events, links, log body, point
 * data and exemplars as the JSON texts the API shows (model_json.h), and
 * its resource and scope beside it. An export turns those texts back into
 * OTLP JSON: attributes become key/value lists, integers intValue strings,
 * doubles doubleValue, maps kvlistValue; what the API shows as a string
 * (integers beyond 2^53, bytes as base64, NaN) stays a string, so an export
 * imported into an empty loupe answers the API the same way.
 *
 * The callers (query_export.c for SQLite, ch_query_export.c for
 * ClickHouse) read their rows into the plain structs below and hand them
 * to the writers here; nothing here knows where a text came from. Every
 * text is borrowed for the call; a NULL ptr is an absent (SQL NULL) text.
 *
 * Framing: items go out in the order given, consecutive items of one
 * resource and scope sharing one resource entry and one scope entry
 * (exj_group). A resource and a scope are told apart by an id the caller
 * picks (SQLite: row ids; ClickHouse: a hash of their columns). Their
 * attributes are written with keys in byte order, the order SQLite keeps
 * them in (model_json_attrs_sorted), whatever order the text has.
 */
#ifndef LOUPE_EXPORT_JSON_H
#define LOUPE_EXPORT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/jw.h"

/* A borrowed text: ptr NULL for none (written as its default). */
typedef struct exj_text {
    const char *ptr;
    size_t len;
} exj_text;

/* The resource and the scope of an item. */
typedef struct exj_owner {
    exj_text res_attrs; /* attributes JSON object */
    int64_t res_dropped;
    exj_text res_schema;
    exj_text scope_name, scope_version;
    exj_text scope_attrs; /* attributes JSON object */
    int64_t scope_dropped;
    exj_text scope_schema;
} exj_owner;

/* One level of the framing (a resource or a scope entry). */
typedef struct exj_level {
    int64_t id;
    int open;
    char schema[512]; /* its schemaUrl, written when it closes */
} exj_level;

/* The framing of one line: set scopes ("scopeSpans", "scopeLogs",
 * "scopeMetrics") and items ("spans", "logRecords", "metrics"); the rest
 * zero. */
typedef struct exj_groups {
    exj_level res, scope;
    const char *scopes, *items;
} exj_groups;

/* Before an item of resource `res` and scope `scope` (o: their columns):
 * closes the open entries that differ and opens new ones, so that the
 * item can be written into the open items array. */
void exj_group(jw *w, exj_groups *g, int64_t res, int64_t scope, const exj_owner *o);

/* Closes whatever g left open. */
void exj_groups_close(jw *w, exj_groups *g);

/* ---- spans ----------------------------------------------------------------------- */

typedef struct exj_span {
    const uint8_t *trace_id;       /* 16 bytes; NULL: left out */
    const uint8_t *span_id;        /* 8 bytes; NULL: left out */
    const uint8_t *parent_span_id; /* 8 bytes; NULL: a root */
    exj_text trace_state;
    int64_t flags;
    exj_text name;
    int kind;
    uint64_t start_ns, end_ns;
    exj_text attrs; /* JSON object */
    int64_t dropped_attrs;
    exj_text events; /* JSON array */
    int64_t dropped_events;
    exj_text links; /* JSON array */
    int64_t dropped_links;
    int status_code;
    exj_text status_message;
} exj_span;

void exj_span_write(jw *w, const exj_span *s);

/* ---- log records ----------------------------------------------------------------- */

typedef struct exj_log {
    uint64_t time_ns, observed_ns;
    int severity;
    exj_text severity_text;
    exj_text body; /* the body's JSON; NULL or JSON null: no body */
    exj_text attrs;
    int64_t dropped_attrs;
    int64_t flags;
    const uint8_t *trace_id; /* 16 bytes, or NULL */
    const uint8_t *span_id;  /* 8 bytes, or NULL */
    exj_text event_name;     /* written when not empty */
} exj_log;

void exj_log_write(jw *w, const exj_log *l);

/* ---- metrics --------------------------------------------------------------------- */

typedef struct exj_metric {
    exj_text name, description, unit;
    int type; /* MODEL_METRIC_*; out of range: a gauge */
    int temporality;
    int monotonic;
} exj_metric;

/* Opens a metric up to its open dataPoints array. Returns its type
 * (MODEL_METRIC_*), for exj_point_write. */
int exj_metric_begin(jw *w, const exj_metric *m);

/* Closes what exj_metric_begin opened. */
void exj_metric_end(jw *w);

#define EXJ_VALUE_NAN 0    /* a gauge's or sum's value that is NaN */
#define EXJ_VALUE_INT 1    /* as_int */
#define EXJ_VALUE_DOUBLE 2 /* as_double */

typedef struct exj_point {
    exj_text attrs; /* the series' attributes: JSON object */
    uint64_t start_ns, time_ns;
    int value_kind; /* EXJ_VALUE_*: gauges and sums */
    int64_t as_int;
    double as_double;
    int64_t flags;
    exj_text data;      /* histograms, summaries: the stored JSON object */
    exj_text exemplars; /* JSON array */
} exj_point;

/* One data point of a metric of `type` (exj_metric_begin's answer). */
void exj_point_write(jw *w, const exj_point *p, int type);

#endif
