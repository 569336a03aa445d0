/* mcp_tool_search.c - the MCP tools that list what is stored: services,
 * traces and log records, and the calls between services. */
#include <stdio.h>
#include <string.h>

#include "mcp_internal.h"

/* ---- list_services ------------------------------------------------------------ */

static void mcp_services_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop_window(props, NULL);
}

/* "3m ago" for a time before now; "" when unknown. */
static void mcp_ago(uint64_t now, uint64_t t, char *out, size_t outlen) {
    char d[32];
    if (t == 0 || t > now) {
        out[0] = '\0';
        return;
    }
    textfmt_duration(now - t - (now - t) % 1000000000ULL, d, sizeof(d));
    snprintf(out, outlen, " (%s ago)", d);
}

/* "12 requests (0.2/s), 1 failed (8.3%), p50 12ms, p99 180ms" of an API
 * object with requests, failedRequests, rate, p50Ns and p99Ns (the names
 * given). */
static void mcp_red_text(json_t *o, const char *calls_key, const char *fail_key, char *out,
                         size_t outlen) {
    double calls = mcp_j_num(o, calls_key, 0), failed = mcp_j_num(o, fail_key, 0);
    char rate[32], p50[32], p99[32];
    if (calls <= 0) {
        snprintf(out, outlen, "0 %s", calls_key);
        return;
    }
    mcp_fmt_number(mcp_j_num(o, "rate", 0), rate, sizeof(rate));
    textfmt_duration((uint64_t)mcp_j_num(o, "p50Ns", 0), p50, sizeof(p50));
    textfmt_duration((uint64_t)mcp_j_num(o, "p99Ns", 0), p99, sizeof(p99));
    if (json_object_get(o, "rate") != NULL)
        snprintf(out, outlen, "%.0f %s (%s/s), %.0f failed (%.1f%%), p50 %s, p99 %s", calls,
                 calls_key, rate, failed, 100.0 * failed / calls, p50, p99);
    else
        snprintf(out, outlen, "%.0f %s, %.0f failed (%.1f%%), p50 %s, p99 %s", calls, calls_key,
                 failed, 100.0 * failed / calls, p50, p99);
}

static void mcp_services_run(mcp_call *c) {
    json_t *doc;
    char msg[256], window[96];
    mcp_q_path(c, "/api/v1/services");
    if (mcp_q_window(c, NULL) != 0 || mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return;
    mcp_window_text(c, window, sizeof(window));
    json_t *list = json_object_get(doc, "services");
    size_t i;
    json_t *s;
    mcp_text_line(&c->text,
                  "%zu services with telemetry in %s. Requests are a service's entry "
                  "operations (SERVER and CONSUMER spans and root spans); failed = status "
                  "ERROR; the other counts are what is stored:",
                  json_array_size(list), window);
    json_array_foreach(list, i, s) {
        double spans = mcp_j_num(s, "spanCount", 0), errors = mcp_j_num(s, "errorCount", 0);
        char seen[40], ago[48], inst[300] = "", red[200];
        textfmt_time_utc(mcp_j_ns(s, "lastSeenUnixNano"), seen, sizeof(seen));
        mcp_ago(c->env->now_ns, mcp_j_ns(s, "lastSeenUnixNano"), ago, sizeof(ago));
        mcp_red_text(s, "requests", "failedRequests", red, sizeof(red));
        size_t k;
        json_t *id;
        json_array_foreach(json_object_get(s, "instances"), k, id) {
            char one[80];
            textfmt_clip(json_string_value(id), 60, one, sizeof(one));
            textfmt_append(inst, sizeof(inst), ", ", "%s", one);
        }
        char name[200];
        textfmt_clip(mcp_j_str(s, "name"), 150, name, sizeof(name));
        mcp_text_line(&c->text,
                      "- %s: %s; %.0f spans, %.0f error spans, %.0f log records, %.0f metric "
                      "points; last seen %s%s%s%s",
                      name, red, spans, errors, mcp_j_num(s, "logCount", 0),
                      mcp_j_num(s, "metricCount", 0), seen, ago, inst[0] ? "; instances: " : "",
                      inst);
    }
    mcp_text_finish(&c->text, "services",
                    "Ask for a shorter window (since), or search_traces with a service.");
    json_decref(doc);
}

const mcp_tool mcp_tool_list_services = {
    "list_services", "List services",
    "The services loupe has telemetry from: each one's requests (entry operations) with rate, "
    "failed share and p50/p99 duration, its span, error span, log and metric point counts, when "
    "it was last seen and its instances; over a window (since/start/end) or everything stored. "
    "Start here to learn the service names the other tools filter on.",
    mcp_services_props, mcp_services_run};

/* ---- the two searches ------------------------------------------------------------- */

/* Sends the list request built so far with limit, then answers: a header
 * naming the columns, one line per item of the answer's `key` array
 * ("traces" or "logs"), the next page's cursor, and `after` (may be NULL)
 * when anything was found. */
static void mcp_list_answer(mcp_call *c, long limit, const char *key, const char *columns,
                            void (*line)(mcp_call *, json_t *), const char *after) {
    const char *what = strcmp(key, "logs") == 0 ? "log records" : key;
    mcp_q_param_u64(c, "limit", (uint64_t)limit);
    json_t *doc;
    char msg[256], window[100];
    if (mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return;
    json_t *list = json_object_get(doc, key);
    mcp_window_text(c, window, sizeof(window));
    mcp_text_line(&c->text, "%zu %s (newest first; %s): %s", json_array_size(list), what, window,
                  columns);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) line(c, item);
    const char *next = json_string_value(json_object_get(doc, "nextCursor"));
    if (next != NULL)
        mcp_text_line(&c->text, "More %s match: call again with cursor=\"%s\" for the next page, "
                                "or narrow the filters.",
                      what, next);
    if (after != NULL && json_array_size(list) > 0)
        mcp_text_line(&c->text, "%s", after);
    mcp_text_finish(&c->text, what, "Ask for fewer (limit) or narrow the filters.");
    json_decref(doc);
}

/* ---- search_traces ------------------------------------------------------------- */

static const char *const mcp_status_words[] = {"error", "ok", "unset", NULL};

static void mcp_traces_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "service", "string", "Only traces with a span of this service.");
    mcp_prop(props, "name", "string", "Only traces with a span of exactly this name.");
    mcp_prop_strings(props, "attrs",
                     "Attribute filters a span must all match: key=value, key!=value, "
                     "key~substring, key>number, key<number (resource attributes count too), "
                     "e.g. [\"http.route=/api/cart\", \"http.response.status_code>499\"].");
    mcp_prop_enum(props, "status", mcp_status_words, "Only traces with a span of this status.");
    mcp_prop(props, "q", "string",
             "Text in a span's name or attribute values (substring, case-insensitive).");
    mcp_prop(props, "minDuration", "string", "Traces at least this long: 250ms, 1.5s, 2m.");
    mcp_prop(props, "maxDuration", "string", "Traces at most this long.");
    mcp_prop_window(props, NULL);
    mcp_prop_int(props, "limit", 1, 100, "Traces to list (default 20).");
    mcp_prop(props, "cursor", "string", "The cursor a previous answer gave, for the next page.");
}

/* A trace summary line from GET /traces. */
static void mcp_trace_line(mcp_call *c, json_t *t) {
    char when[40], dur[32], root[260], svc[300] = "";
    textfmt_time_utc(mcp_j_ns(t, "startTimeUnixNano"), when, sizeof(when));
    textfmt_duration((uint64_t)mcp_j_num(t, "durationNs", 0), dur, sizeof(dur));
    char rs[100], rn[150];
    textfmt_clip(mcp_j_str(t, "rootService"), 80, rs, sizeof(rs));
    textfmt_clip(mcp_j_str(t, "rootName"), 120, rn, sizeof(rn));
    snprintf(root, sizeof(root), "%s: %s", rs, rn);
    size_t k;
    json_t *s;
    json_array_foreach(json_object_get(t, "services"), k, s) {
        char one[80];
        textfmt_clip(mcp_j_str(s, "name"), 60, one, sizeof(one));
        textfmt_append(svc, sizeof(svc), " ", "%s(%.0f)", one, mcp_j_num(s, "spanCount", 0));
    }
    double errors = mcp_j_num(t, "errorCount", 0);
    mcp_text_line(&c->text, "- %s  %s  %s  %s  %.0f spans, %.0f error%s  services: %s",
                  mcp_j_str(t, "traceId"), when, dur, root, mcp_j_num(t, "spanCount", 0), errors,
                  errors == 1 ? "" : "s", svc);
}

static void mcp_traces_run(mcp_call *c) {
    long limit;
    mcp_q_path(c, "/api/v1/traces");
    if (mcp_q_arg(c, "service", "service") != 0 || mcp_q_arg(c, "name", "name") != 0 ||
        mcp_q_attrs(c) != 0 || mcp_q_arg(c, "status", "status") != 0 ||
        mcp_q_arg(c, "q", "q") != 0 || mcp_q_arg(c, "minDuration", "minDuration") != 0 ||
        mcp_q_arg(c, "maxDuration", "maxDuration") != 0 || mcp_q_window(c, NULL) != 0 ||
        mcp_arg_int(c, "limit", 1, 100, 20, &limit) != 0 || mcp_q_arg(c, "cursor", "cursor") != 0)
        return;
    mcp_list_answer(c, limit, "traces",
                    "trace id, start, duration, root service: name, spans, errors, "
                    "services(spans)",
                    mcp_trace_line, "Call get_trace with a trace id for its spans.");
}

const mcp_tool mcp_tool_search_traces = {
    "search_traces", "Search traces",
    "Find traces, newest first. A trace matches when one of its spans matches every span "
    "filter (service, name, attrs, status, q) and the trace matches the duration and time "
    "filters. Answers one line per trace: id, start, duration, root span, span and error "
    "counts, services.",
    mcp_traces_props, mcp_traces_run};

/* ---- search_logs ------------------------------------------------------------------ */

static void mcp_logs_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "service", "string", "Only this service's records.");
    mcp_prop(props, "minSeverity", "string",
             "Lowest severity: trace, debug, info, warn, error, fatal, or a number 1..24.");
    mcp_prop(props, "q", "string",
             "Full-text search in the body: every word must occur; word* is a prefix.");
    mcp_prop(props, "traceId", "string", "Only records of this trace (32 hex digits).");
    mcp_prop(props, "spanId", "string", "Only records of this span (16 hex digits).");
    mcp_prop_strings(props, "attrs",
                     "Attribute filters, as for search_traces: key=value, key!=value, "
                     "key~substring, key>number, key<number.");
    mcp_prop_window(props, NULL);
    mcp_prop_int(props, "limit", 1, 200, "Records to list (default 50).");
    mcp_prop(props, "cursor", "string", "The cursor a previous answer gave, for the next page.");
}

static void mcp_log_line(mcp_call *c, json_t *l) {
    char when[40], body[600], attrs[400], svc[100], ctx[80] = "";
    textfmt_time_utc(mcp_j_ns(l, "timeUnixNano"), when, sizeof(when));
    mcp_j_text(json_object_get(l, "body"), 500, body, sizeof(body));
    mcp_j_attrs(json_object_get(l, "attributes"), 6, attrs, sizeof(attrs));
    textfmt_clip(mcp_j_str(l, "service"), 80, svc, sizeof(svc));
    const char *sev = mcp_j_str(l, "severityText");
    char sevnum[16];
    if (sev[0] == '\0') {
        snprintf(sevnum, sizeof(sevnum), "SEV%.0f", mcp_j_num(l, "severityNumber", 0));
        sev = sevnum;
    }
    if (mcp_j_str(l, "traceId")[0] != '\0')
        snprintf(ctx, sizeof(ctx), " trace=%s span=%s", mcp_j_str(l, "traceId"),
                 mcp_j_str(l, "spanId"));
    char sevshown[40];
    textfmt_clip(sev, 20, sevshown, sizeof(sevshown));
    mcp_text_line(&c->text, "- %s %s %s: %s%s%s%s%s", when, sevshown, svc, body,
                  attrs[0] ? " {" : "", attrs, attrs[0] ? "}" : "", ctx);
}

static void mcp_logs_run(mcp_call *c) {
    long limit;
    mcp_q_path(c, "/api/v1/logs");
    if (mcp_q_arg(c, "service", "service") != 0 ||
        mcp_q_arg(c, "minSeverity", "minSeverity") != 0 || mcp_q_arg(c, "q", "q") != 0 ||
        mcp_q_arg(c, "traceId", "traceId") != 0 || mcp_q_arg(c, "spanId", "spanId") != 0 ||
        mcp_q_attrs(c) != 0 || mcp_q_window(c, NULL) != 0 ||
        mcp_arg_int(c, "limit", 1, 200, 50, &limit) != 0 || mcp_q_arg(c, "cursor", "cursor") != 0)
        return;
    mcp_list_answer(c, limit, "logs", "time, severity, service: body {attributes} trace/span",
                    mcp_log_line, NULL);
}

const mcp_tool mcp_tool_search_logs = {
    "search_logs", "Search logs",
    "Find log records, newest first, by service, lowest severity, full-text words in the body, "
    "trace or span id, attributes and time. Answers one line per record: time, severity, "
    "service, body, a few attributes and the trace and span ids.",
    mcp_logs_props, mcp_logs_run};

/* ---- service_map ---------------------------------------------------------------------- */

static void mcp_map_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "service",
             "string", "Only the calls to and from this service (default: every call).");
    mcp_prop_window(props, NULL);
}

/* 1 when edge e has service at either end (or service is NULL). */
static int mcp_edge_touches(json_t *e, const char *service) {
    return service == NULL || strcmp(mcp_j_str(e, "source"), service) == 0 ||
           strcmp(mcp_j_str(e, "target"), service) == 0;
}

/* 1 when node id is service or one of its edges' other end. */
static int mcp_node_near(json_t *edges, const char *id, const char *service) {
    size_t k;
    json_t *e;
    if (service == NULL || strcmp(id, service) == 0)
        return 1;
    json_array_foreach(edges, k, e) {
        if (mcp_edge_touches(e, service) &&
            (strcmp(mcp_j_str(e, "source"), id) == 0 || strcmp(mcp_j_str(e, "target"), id) == 0))
            return 1;
    }
    return 0;
}

static void mcp_map_run(mcp_call *c) {
    const char *service;
    json_t *doc;
    char msg[256], window[96];
    if (mcp_arg_string(c, "service", &service) != 0)
        return;
    mcp_q_path(c, "/api/v1/service-map");
    if (mcp_q_window(c, NULL) != 0 || mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return;
    mcp_window_text(c, window, sizeof(window));
    json_t *nodes = json_object_get(doc, "nodes"), *edges = json_object_get(doc, "edges");
    json_t *n, *e;
    size_t i, shown = 0;
    int found = service == NULL;
    json_array_foreach(nodes, i, n) {
        if (service != NULL && strcmp(mcp_j_str(n, "id"), service) == 0)
            found = 1;
    }
    if (!found) {
        mcp_text_line(&c->text,
                      "No service named %.150s takes part in calls in %s. list_services names "
                      "the services.",
                      service, window);
        json_decref(doc);
        return;
    }
    json_array_foreach(edges, i, e) {
        if (mcp_edge_touches(e, service))
            shown++;
    }
    mcp_text_line(&c->text,
                  "%zu calls between services%s%.150s in %s (caller -> callee: calls, failed, "
                  "p50 and p99 of the callee's spans; a database, queue or host with no "
                  "telemetry of its own is named KIND:NAME from the caller's attributes):",
                  shown, service != NULL ? " to and from " : "", service != NULL ? service : "",
                  window);
    json_array_foreach(edges, i, e) {
        const char *src = mcp_j_str(e, "source"), *dst = mcp_j_str(e, "target");
        if (!mcp_edge_touches(e, service))
            continue;
        char a[200], b[200], red[200];
        textfmt_clip(src, 150, a, sizeof(a));
        textfmt_clip(dst, 150, b, sizeof(b));
        mcp_red_text(e, "calls", "errors", red, sizeof(red));
        mcp_text_line(&c->text, "- %s -> %s: %s", a, b, red);
    }
    mcp_text_line(&c->text, "Nodes (requests a service answered, or calls a virtual node "
                            "took):");
    json_array_foreach(nodes, i, n) {
        const char *id = mcp_j_str(n, "id");
        if (!mcp_node_near(edges, id, service))
            continue;
        char name[200], red[200];
        textfmt_clip(id, 150, name, sizeof(name));
        mcp_red_text(n, "calls", "errors", red, sizeof(red));
        mcp_text_line(&c->text, "- %s (%s): %s", name, mcp_j_str(n, "kind"), red);
    }
    mcp_text_finish(&c->text, "lines", "Ask with a service, or a shorter window (since).");
    json_decref(doc);
}

const mcp_tool mcp_tool_service_map = {
    "service_map", "Service map",
    "What calls what: each caller -> callee pair with its calls, failures and p50/p99, including "
    "databases, queues and outside hosts that send no telemetry (named from the caller's "
    "semantic-convention attributes), and each node's figures; over a window or everything "
    "stored, optionally only around one service.",
    mcp_map_props, mcp_map_run};
