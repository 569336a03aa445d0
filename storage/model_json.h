/* model_json.h - the API's JSON representation of model values.
 *
 * The store keeps attributes, span events and links, log bodies and metric
 * point data as JSON text in exactly the shape the API serves, so a query
 * copies the text into its answer without re-encoding. The conventions
 * (docs/api.md, design.md "API conventions"):
 *   - attributes: an object, key -> typed value, in the order received
 *     (duplicate keys are kept as they came);
 *   - string -> JSON string; bool -> true/false; double -> number with a
 *     ".0" on integral values, NaN/Infinity as strings; integer -> number,
 *     or a decimal string when |v| > 2^53 - 1 (not exact in JavaScript);
 *     bytes -> base64 string; array -> array; kvlist -> object;
 *     an empty AnyValue -> null.
 * Every writer reports errors through the jw (jw_error()); on error the
 * output is incomplete and must be discarded.
 */
#ifndef LOUPE_MODEL_JSON_H
#define LOUPE_MODEL_JSON_H

#include <stdint.h>

#include "util/jw.h"
#include "model.h"

/* Largest integer a JSON reader using doubles holds exactly (2^53 - 1). */
#define MODEL_JSON_MAX_SAFE_INT 9007199254740991LL

/* One AnyValue. */
void model_json_value(jw *w, const model_value *v);

/* Attributes as an object, in the order received. */
void model_json_attrs(jw *w, const model_attrs *a);

/* Attributes as an object with the top-level keys sorted bytewise (stable
 * for equal keys): the canonical form used to identify a resource, a scope
 * or a metric series by content, whatever order the exporter sent. */
void model_json_attrs_sorted(jw *w, const model_attrs *a);

/* A signed integer: a number, or a decimal string beyond +-(2^53 - 1). */
void model_json_int(jw *w, int64_t v);
/* An unsigned count: a number, or a decimal string beyond 2^53 - 1. */
void model_json_count(jw *w, uint64_t v);

/* An array of counts, each as model_json_count() writes it. */
void model_json_counts(jw *w, const uint64_t *v, size_t n);

/* "key":{"offset":offset,"bucketCounts":[...]}: one side of an
 * exponential histogram's buckets. */
void model_json_exp_side(jw *w, const char *key, int32_t offset, const uint64_t *counts,
                         size_t n);

/* A span's events: [{"name","timeUnixNano","attributes","droppedAttributesCount"}]. */
void model_json_events(jw *w, const model_span *s);

/* A span's links: [{"traceId","spanId","traceState","flags","attributes",
 * "droppedAttributesCount"}]. */
void model_json_links(jw *w, const model_span *s);

/* The distribution data of a HISTOGRAM, EXP_HISTOGRAM or SUMMARY point, as
 * an object (OTLP JSON field names: count, sum, min, max, bucketCounts,
 * explicitBounds, scale, zeroCount, zeroThreshold, positive, negative,
 * quantileValues); null for GAUGE and SUM points, whose value is a column. */
void model_json_point_data(jw *w, const model_point *p);

/* A point's exemplars: [{"timeUnixNano","value","filteredAttributes",
 * "traceId","spanId"}] ("" ids when absent). */
void model_json_exemplars(jw *w, const model_point *p);

#endif
