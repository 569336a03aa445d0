/* lint.h - instrumentation lint: the rules judged over stored telemetry
 * (ids, severities, fix hints), the table of deprecated semantic-convention
 * attribute names, and the pure checks on model items that the writer runs
 * as it commits them (store_lint.c).
 *
 * DESIGN
 * A finding is (rule, service, key): the key says what within the rule (the
 * attribute name of deprecated-attribute, the metric of
 * high-cardinality-metric, the caller's service of clock-skew, "sdk" or
 * "loupe" for dropped-data; "" for the rest). The checks here look at one
 * item (or one child and its parent) and cost a few comparisons when the
 * item is clean: the writer runs them on every span, record and point. What
 * needs memory across batches (parents that never come, attribute sets per
 * metric) lives in store_lint.c and store_rollup.c. docs/lint.md describes
 * every rule for users.
 *
 * The rule numbers are stored in the database (lint_N.rule): never renumber
 * them, only add.
 */
#ifndef LOUPE_LINT_H
#define LOUPE_LINT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The semantic-conventions release the deprecated-name table follows. */
#define LINT_SEMCONV_VERSION "1.44.0"

/* A child starting before its parent, or ending after it, by more than
 * this (across services) is clock skew. */
#define LINT_SKEW_NS 100000000ULL

/* Defaults of the settings store_config carries. */
#define LINT_DEFAULT_ORPHAN_GRACE_NS (120ULL * 1000000000ULL)
#define LINT_DEFAULT_MAX_SERIES 1000

typedef enum lint_rule {
    LINT_MISSING_SERVICE_NAME = 0,
    LINT_ORPHAN_SPAN = 1,
    LINT_ERROR_WITHOUT_STATUS = 2,
    LINT_SERVER_SPAN_KIND = 3,
    LINT_DEPRECATED_ATTRIBUTE = 4,
    LINT_CLOCK_SKEW = 5,
    LINT_HIGH_CARDINALITY = 6,
    LINT_LOG_WITHOUT_SEVERITY = 7,
    LINT_DROPPED_DATA = 8,
} lint_rule;

#define LINT_RULES 9

typedef enum lint_severity {
    LINT_INFO = 1,
    LINT_WARNING = 2,
    LINT_ERROR = 3,
} lint_severity;

/* The keys of dropped-data. */
#define LINT_KEY_SDK "sdk"
#define LINT_KEY_LOUPE "loupe"

/* "missing-service-name", ... for a rule number; NULL past LINT_RULES. */
const char *lint_rule_id(int rule);

/* The rule with that id, or -1. */
int lint_rule_by_id(const char *id);

lint_severity lint_rule_severity(int rule);

/* "info", "warning", "error" (NULL for anything else). */
const char *lint_severity_name(int severity);

/* The severity named so, or 0. */
int lint_severity_by_name(const char *name);

/* The fix hint of a finding of rule with key (NUL-terminated, may be ""),
 * written into out (cut to fit, NUL-terminated). */
void lint_hint(int rule, const char *key, char *out, size_t outlen);

/* ---- deprecated attribute names ----------------------------------------- */

typedef struct lint_deprecated {
    const char *name;    /* the deprecated attribute */
    const char *renamed; /* its current name when it was renamed, else NULL */
    const char *note;    /* what to do instead when it was not simply renamed */
} lint_deprecated;

/* The table's entry for attribute key key[0..len), or NULL. A handful of
 * comparisons per call. */
const lint_deprecated *lint_deprecated_find(const char *key, size_t len);

/* The table (n entries), for tests and docs. */
const lint_deprecated *lint_deprecated_table(size_t *n);

/* ---- checks on one item ----------------------------------------------------- */

/* 1 when the resource names no service: no service.name (the model's
 * "unknown_service"), an empty one, or an SDK's default "unknown_service:*". */
int lint_service_unnamed(const model_resource *r);

/* 1 when the span has an "exception" event but its status is not ERROR. */
int lint_span_error_unflagged(const model_span *sp);

/* 1 when the span describes an incoming HTTP request (a method in
 * http.request.method or http.method, and a path in url.path, http.route or
 * http.target) but its kind is INTERNAL or UNSPECIFIED. Whether it is the
 * entry of its service (no parent there) is for the caller to judge. */
int lint_span_kind_suspect(const model_span *sp);

/* 1 when the record has no severity number. */
int lint_log_unleveled(const model_log *l);

/* What the sender dropped: the dropped counts of a span (its own, its
 * events' and links'), a record or a resource, minus what loupe's limits
 * left out (model_limited). */
uint64_t lint_span_sdk_dropped(const model_span *sp);
uint64_t lint_log_sdk_dropped(const model_log *l);
uint64_t lint_resource_sdk_dropped(const model_resource *r);

/* ---- a child and its parent ------------------------------------------------ */

typedef struct lint_span_times {
    uint64_t start, end;
    int kind; /* model_span_kind */
} lint_span_times;

/* How far a child reaches out of its parent: the nanoseconds it starts
 * before the parent or ends after it, whichever is larger (*ends_after set
 * when it is the end), 0 when it lies inside. A CONSUMER child or a
 * PRODUCER parent may outlive each other by design, and times that are not
 * ordered (end before start) say nothing: both give 0. */
uint64_t lint_skew_ns(const lint_span_times *child, const lint_span_times *parent,
                      int *ends_after);

#endif
