/* mcp_tool_lint.c - the MCP tool `lint`: the instrumentation lint's
 * findings (GET /api/v1/lint) as text for a model: per finding its
 * severity, service, rule, count, what was seen, the fix, and where to look
 * (web UI paths and trace ids the other tools take). */
#include <stdio.h>
#include <string.h>

#include "mcp_internal.h"

static const char *const mcp_lint_levels[] = {"error", "warning", "info", NULL};

static void mcp_lint_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "service", "string", "Only this service's findings.");
    mcp_prop_enum(props, "min_severity", mcp_lint_levels,
                  "Leave out findings less severe than this (error > warning > info); default "
                  "all.");
}

static int mcp_lint_rank(const char *severity) {
    for (int i = 0; mcp_lint_levels[i] != NULL; i++)
        if (strcmp(severity, mcp_lint_levels[i]) == 0)
            return 3 - i;
    return 0;
}

/* Where to look: up to three examples, as ids the other tools take. */
static void mcp_lint_examples(json_t *examples, char *out, size_t outlen) {
    size_t i;
    json_t *ex;
    out[0] = '\0';
    json_array_foreach(examples, i, ex) {
        if (i == 3)
            break;
        const char *sig = mcp_j_str(ex, "signal");
        char what[300];
        if (strcmp(sig, "span") == 0) {
            snprintf(what, sizeof(what), "trace %.32s span %.16s", mcp_j_str(ex, "traceId"),
                     mcp_j_str(ex, "spanId"));
        } else if (strcmp(sig, "metric") == 0) {
            char name[200];
            textfmt_clip(mcp_j_str(ex, "metric"), 150, name, sizeof(name));
            snprintf(what, sizeof(what), "metric %s", name);
        } else {
            char t[40];
            textfmt_time_utc(mcp_j_ns(ex, "timeUnixNano"), t, sizeof(t));
            snprintf(what, sizeof(what), "log record at %s", t);
        }
        textfmt_append(out, outlen, "; ", "%s", what);
    }
}

static void mcp_lint_run(mcp_call *c) {
    const char *min;
    if (mcp_arg_string(c, "min_severity", &min) != 0)
        return;
    int floor = min != NULL ? mcp_lint_rank(min) : 1;
    if (floor == 0) {
        mcp_fail(c, "Argument 'min_severity' must be error, warning or info.");
        return;
    }
    mcp_q_path(c, "/api/v1/lint");
    if (mcp_q_arg(c, "service", "service") != 0)
        return;
    json_t *doc;
    char msg[256];
    int rc = mcp_fetch(c, &doc, msg, sizeof(msg));
    if (rc != 0) {
        if (rc == 1)
            mcp_text_line(&c->text, "%s. Call list_services for the service names.", msg);
        return;
    }
    json_t *list = json_object_get(doc, "findings"), *sum = json_object_get(doc, "summary"), *f;
    mcp_text_line(&c->text,
                  "Instrumentation lint of what loupe stores: %.0f errors, %.0f warnings, %.0f "
                  "info (deprecated names per semantic conventions %s). Counts are items "
                  "(attribute sets for high-cardinality-metric); most severe first:",
                  mcp_j_num(sum, "error", 0), mcp_j_num(sum, "warning", 0),
                  mcp_j_num(sum, "info", 0), mcp_j_str(doc, "semconvVersion"));
    size_t i, shown = 0;
    json_array_foreach(list, i, f) {
        if (mcp_lint_rank(mcp_j_str(f, "severity")) < floor)
            continue;
        char service[160], key[160], detail[300], hint[700], where[1000];
        textfmt_clip(mcp_j_str(f, "service"), 120, service, sizeof(service));
        textfmt_clip(mcp_j_str(f, "key"), 120, key, sizeof(key));
        textfmt_clip(mcp_j_str(f, "detail"), 250, detail, sizeof(detail));
        textfmt_clip(mcp_j_str(f, "hint"), 600, hint, sizeof(hint));
        mcp_lint_examples(json_object_get(f, "examples"), where, sizeof(where));
        mcp_text_line(&c->text, "- [%s] %s: %s%s%s, %.0f%s%s. Fix: %s%s%s",
                      mcp_j_str(f, "severity"), service, mcp_j_str(f, "rule"), key[0] ? " " : "",
                      key, mcp_j_num(f, "count", 0), detail[0] ? "; " : "", detail, hint,
                      where[0] ? " Examples: " : "", where);
        shown++;
    }
    if (shown == 0)
        mcp_text_line(&c->text, "No findings%s: the stored telemetry follows the rules loupe "
                                "checks.",
                      min != NULL ? " at that severity" : "");
    else
        mcp_text_line(&c->text, "Look at an example with get_trace (trace ids above) or "
                                "search_logs.");
    mcp_text_finish(&c->text, "findings", "Ask for one service or a higher min_severity.");
    json_decref(doc);
}

const mcp_tool mcp_tool_lint = {
    "lint", "Instrumentation lint",
    "Mistakes in how the services are instrumented, found in what loupe stores: missing "
    "service names, orphan spans, exceptions without an error status, incoming requests not "
    "of kind SERVER, deprecated semantic-convention attribute names, clock skew between "
    "services, high-cardinality metrics, logs without severity, dropped data. Each with its "
    "count, a fix and example ids.",
    mcp_lint_props, mcp_lint_run};
