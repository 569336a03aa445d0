/* mcp_tool_trace.c - the MCP tools that read whole traces: get_trace (the
 * span tree, errors, slowest spans, or one span in detail) and list_errors
 * (error spans and error logs of a window grouped by exception). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_internal.h"

#define MCP_TREE_INDENT_MAX 24 /* deeper spans are drawn at this depth */
#define MCP_SLOWEST 5
#define MCP_ERRORS_SHOWN 20

/* ---- reading spans ------------------------------------------------------------------ */

/* The error of an error span: its status message and its first exception
 * event's type and message, as one line ("" for a span without error). */
static void mcp_span_error(json_t *span, char *out, size_t outlen) {
    json_t *status = json_object_get(span, "status");
    out[0] = '\0';
    if (strcmp(mcp_j_str(status, "code"), "ERROR") != 0)
        return;
    char msg[300] = "", ex[400] = "";
    textfmt_clip(mcp_j_str(status, "message"), 200, msg, sizeof(msg));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(span, "events"), i, e) {
        if (strcmp(mcp_j_str(e, "name"), "exception") != 0)
            continue;
        json_t *a = json_object_get(e, "attributes");
        char type[120], emsg[260];
        textfmt_clip(mcp_j_str(a, "exception.type"), 100, type, sizeof(type));
        textfmt_clip(mcp_j_str(a, "exception.message"), 200, emsg, sizeof(emsg));
        snprintf(ex, sizeof(ex), "%s%s%s", type, type[0] && emsg[0] ? ": " : "", emsg);
        break;
    }
    if (ex[0] != '\0' && strcmp(ex, msg) != 0 && msg[0] != '\0')
        snprintf(out, outlen, "%s (exception %s)", msg, ex);
    else if (ex[0] != '\0')
        snprintf(out, outlen, "exception %s", ex);
    else
        snprintf(out, outlen, "%s", msg[0] ? msg : "(no message)");
}

/* The spans of a trace as a tree: parents, children in start order. */
typedef struct mcp_tree {
    size_t n;
    json_t **span;     /* borrowed from the document */
    long *parent;      /* index or -1 */
    long *first_child; /* -1 when none */
    long *next;        /* next sibling, -1 at the end */
    uint64_t start_ns; /* the trace's start */
    json_t *resources; /* the answer's resources by id; borrowed */
} mcp_tree;

typedef struct mcp_id_index {
    const char *id;
    long i;
} mcp_id_index;

static int mcp_id_cmp(const void *a, const void *b) {
    return strcmp(((const mcp_id_index *)a)->id, ((const mcp_id_index *)b)->id);
}

static void mcp_tree_free(mcp_tree *t) {
    free(t->span);
    free(t->parent);
    free(t->first_child);
    free(t->next);
    memset(t, 0, sizeof(*t));
}

/* Links every span to its parent (found by span id); spans whose parent is
 * not stored are roots. Returns 0, or -1 when out of memory. */
static int mcp_tree_build(json_t *spans, mcp_tree *t) {
    memset(t, 0, sizeof(*t));
    size_t n = json_array_size(spans);
    t->n = n;
    t->span = calloc(n + 1, sizeof(*t->span));
    t->parent = calloc(n + 1, sizeof(long));
    t->first_child = calloc(n + 1, sizeof(long));
    t->next = calloc(n + 1, sizeof(long));
    long *last = calloc(n + 1, sizeof(long));
    mcp_id_index *idx = calloc(n + 1, sizeof(*idx));
    if (t->span == NULL || t->parent == NULL || t->first_child == NULL || t->next == NULL ||
        last == NULL || idx == NULL) {
        free(last);
        free(idx);
        mcp_tree_free(t);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        t->span[i] = json_array_get(spans, i);
        idx[i].id = mcp_j_str(t->span[i], "spanId");
        idx[i].i = (long)i;
        t->first_child[i] = t->next[i] = last[i] = -1;
        uint64_t s = mcp_j_ns(t->span[i], "startTimeUnixNano");
        if (i == 0 || s < t->start_ns)
            t->start_ns = s;
    }
    if (n > 1)
        qsort(idx, n, sizeof(*idx), mcp_id_cmp);
    for (size_t i = 0; i < n; i++) {
        mcp_id_index key = {mcp_j_str(t->span[i], "parentSpanId"), 0};
        mcp_id_index *p = key.id[0] ? bsearch(&key, idx, n, sizeof(*idx), mcp_id_cmp) : NULL;
        long pi = p != NULL && p->i != (long)i ? p->i : -1;
        t->parent[i] = pi;
        if (pi < 0)
            continue;
        if (last[pi] < 0)
            t->first_child[pi] = (long)i;
        else
            t->next[last[pi]] = (long)i;
        last[pi] = (long)i;
    }
    free(last);
    free(idx);
    return 0;
}

static uint64_t mcp_span_dur(json_t *span) {
    double d = mcp_j_num(span, "durationNs", 0);
    return d > 0 ? (uint64_t)d : 0;
}

/* Duration minus the children's durations (0 when they cover it). */
static uint64_t mcp_self_time(const mcp_tree *t, long i) {
    uint64_t d = mcp_span_dur(t->span[i]), kids = 0;
    for (long k = t->first_child[i]; k >= 0; k = t->next[k])
        kids += mcp_span_dur(t->span[k]);
    return kids >= d ? 0 : d - kids;
}

/* "service: name" of a span, clipped. */
static void mcp_span_label(json_t *span, char *out, size_t outlen) {
    char svc[100], name[200];
    textfmt_clip(mcp_j_str(span, "service"), 80, svc, sizeof(svc));
    textfmt_clip(mcp_j_str(span, "name"), 160, name, sizeof(name));
    snprintf(out, outlen, "%s: %s", svc, name);
}

/* ---- get_trace ------------------------------------------------------------------------ */

static void mcp_trace_props(json_t *props, json_t *required) {
    mcp_prop(props, "traceId", "string", "The trace id: 32 hex digits.");
    mcp_prop(props, "spanId", "string",
             "A span of the trace (16 hex digits): answer that span in detail (all attributes, "
             "events, links, resource, children) instead of the whole trace.");
    json_array_append_new(required, json_string("traceId"));
}

/* The header: counts, services, duration, root. */
static void mcp_trace_head(mcp_call *c, const mcp_tree *t, const char *id) {
    char services[400] = "", when[40], dur[32];
    size_t nsvc = 0, errors = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = mcp_j_str(t->span[i], "service");
        uint64_t e = mcp_j_ns(t->span[i], "endTimeUnixNano");
        end = e > end ? e : end;
        errors += strcmp(mcp_j_str(json_object_get(t->span[i], "status"), "code"), "ERROR") == 0;
        size_t k = 0;
        while (k < i && strcmp(mcp_j_str(t->span[k], "service"), s) != 0)
            k++;
        if (k < i)
            continue;
        nsvc++;
        char one[80];
        textfmt_clip(s, 60, one, sizeof(one));
        textfmt_append(services, sizeof(services), ", ", "%s", one);
    }
    textfmt_time_utc(t->start_ns, when, sizeof(when));
    textfmt_duration(end > t->start_ns ? end - t->start_ns : 0, dur, sizeof(dur));
    mcp_text_line(&c->text, "Trace %s: %zu spans, %zu services (%s), %zu error spans, duration "
                            "%s, started %s.",
                  id, t->n, nsvc, services, errors, dur, when);
    long root = -1;
    for (size_t i = 0; i < t->n && root < 0; i++)
        if (mcp_j_str(t->span[i], "parentSpanId")[0] == '\0')
            root = (long)i;
    char label[320];
    if (root >= 0) {
        mcp_span_label(t->span[root], label, sizeof(label));
        mcp_text_line(&c->text, "Root span: %s (%s).", label, mcp_j_str(t->span[root], "kind"));
    } else {
        mcp_text_line(&c->text, "The root span is not stored (yet): the tree starts at spans "
                                "whose parent is missing.");
    }
}

static void mcp_trace_errors(mcp_call *c, const mcp_tree *t) {
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < t->n; i++) {
        char err[800], label[320];
        mcp_span_error(t->span[i], err, sizeof(err));
        if (err[0] == '\0')
            continue;
        if (total++ == 0)
            mcp_text_line(&c->text, "Errors:");
        if (shown == MCP_ERRORS_SHOWN)
            continue;
        shown++;
        mcp_span_label(t->span[i], label, sizeof(label));
        mcp_text_line(&c->text, "- %s (span %s): %s", label, mcp_j_str(t->span[i], "spanId"), err);
    }
    if (total > shown)
        mcp_text_line(&c->text, "- and %zu more error spans", total - shown);
    if (total == 0)
        mcp_text_line(&c->text, "Errors: none (no span has status ERROR).");
}

static void mcp_trace_slowest(mcp_call *c, const mcp_tree *t) {
    long top[MCP_SLOWEST];
    size_t ntop = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint64_t d = mcp_span_dur(t->span[i]);
        size_t at = ntop;
        while (at > 0 && mcp_span_dur(t->span[top[at - 1]]) < d)
            at--;
        if (at >= MCP_SLOWEST)
            continue;
        size_t move = (ntop < MCP_SLOWEST ? ntop : MCP_SLOWEST - 1) - at;
        memmove(top + at + 1, top + at, move * sizeof(top[0]));
        top[at] = (long)i;
        if (ntop < MCP_SLOWEST)
            ntop++;
    }
    mcp_text_line(&c->text, "Slowest spans (duration; self = duration minus its children's):");
    for (size_t k = 0; k < ntop; k++) {
        char dur[32], self[32], label[320];
        textfmt_duration(mcp_span_dur(t->span[top[k]]), dur, sizeof(dur));
        textfmt_duration(mcp_self_time(t, top[k]), self, sizeof(self));
        mcp_span_label(t->span[top[k]], label, sizeof(label));
        mcp_text_line(&c->text, "- %s (self %s) %s (span %s)", dur, self, label,
                      mcp_j_str(t->span[top[k]], "spanId"));
    }
}

/* One line of the tree. */
static void mcp_tree_line(mcp_call *c, const mcp_tree *t, long i, size_t depth) {
    char off[32], dur[32], label[320], err[800], pad[2 * MCP_TREE_INDENT_MAX + 1];
    size_t indent = depth < MCP_TREE_INDENT_MAX ? depth : MCP_TREE_INDENT_MAX;
    memset(pad, ' ', 2 * indent);
    pad[2 * indent] = '\0';
    uint64_t s = mcp_j_ns(t->span[i], "startTimeUnixNano");
    textfmt_duration(s > t->start_ns ? s - t->start_ns : 0, off, sizeof(off));
    textfmt_duration(mcp_span_dur(t->span[i]), dur, sizeof(dur));
    mcp_span_label(t->span[i], label, sizeof(label));
    mcp_span_error(t->span[i], err, sizeof(err));
    mcp_text_line(&c->text, "%s- +%s %s %s [%s, span %s]%s%s", pad, off, dur, label,
                  mcp_j_str(t->span[i], "kind"), mcp_j_str(t->span[i], "spanId"),
                  err[0] ? " ERROR: " : "", err);
}

/* Depth-first from every root in start order, then any span not reached
 * (a parent cycle in bad data), each span once. */
static void mcp_trace_tree(mcp_call *c, const mcp_tree *t) {
    long *stack = malloc((t->n + 1) * sizeof(long));
    size_t *depth = calloc(t->n + 1, sizeof(size_t));
    unsigned char *seen = calloc(t->n + 1, 1);
    if (stack == NULL || depth == NULL || seen == NULL) {
        mcp_text_line(&c->text, "(out of memory drawing the span tree)");
        goto out;
    }
    mcp_text_line(&c->text, "Span tree (offset from the trace's start, duration, service: "
                            "name [kind, span id], errors):");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < t->n; r++) {
            if (seen[r] || (pass == 0 && t->parent[r] >= 0))
                continue;
            size_t top = 0;
            stack[top++] = (long)r;
            depth[r] = 0;
            seen[r] = 1;
            while (top > 0) {
                long i = stack[--top];
                if (mcp_text_is_full(&c->text))
                    mcp_text_skip(&c->text, 1);
                else
                    mcp_tree_line(c, t, i, depth[i]);
                /* children pushed last-first so the first pops first */
                size_t base = top;
                for (long k = t->first_child[i]; k >= 0; k = t->next[k]) {
                    if (seen[k])
                        continue;
                    seen[k] = 1;
                    depth[k] = depth[i] + 1;
                    stack[top++] = k;
                }
                for (size_t a = base, b = top; b > a + 1; a++, b--) {
                    long tmp = stack[a];
                    stack[a] = stack[b - 1];
                    stack[b - 1] = tmp;
                }
            }
        }
    }
out:
    free(stack);
    free(depth);
    free(seen);
}

/* get_trace with spanId: one span in full. */
static void mcp_span_detail(mcp_call *c, const mcp_tree *t, long i) {
    json_t *s = t->span[i];
    char label[320], when[40], off[32], dur[32], self[32], err[800], text[4200];
    mcp_span_label(s, label, sizeof(label));
    uint64_t start = mcp_j_ns(s, "startTimeUnixNano");
    textfmt_time_utc(start, when, sizeof(when));
    textfmt_duration(start > t->start_ns ? start - t->start_ns : 0, off, sizeof(off));
    textfmt_duration(mcp_span_dur(s), dur, sizeof(dur));
    mcp_span_error(s, err, sizeof(err));
    const char *parent = mcp_j_str(s, "parentSpanId");
    mcp_text_line(&c->text, "Span %s of trace %s: %s (%s); parent %s.", mcp_j_str(s, "spanId"),
                  mcp_j_str(s, "traceId"), label, mcp_j_str(s, "kind"),
                  parent[0] ? parent : "none (a root span)");
    textfmt_duration(mcp_self_time(t, i), self, sizeof(self));
    mcp_text_line(&c->text, "Start %s (+%s into the trace), duration %s, self time %s.", when,
                  off, dur, self);
    mcp_text_line(&c->text, "Status %s%s%s.", mcp_j_str(json_object_get(s, "status"), "code"),
                  err[0] ? ": " : "", err);
    mcp_j_attrs(json_object_get(s, "attributes"), 64, text, sizeof(text));
    mcp_text_line(&c->text, "Attributes: %s", text[0] ? text : "none");
    json_t *res = json_object_get(t->resources, mcp_j_str(s, "resourceId"));
    mcp_j_attrs(json_object_get(res, "attributes"), 32, text, sizeof(text));
    mcp_text_line(&c->text, "Resource: %s", text[0] ? text : "none");
    json_t *scope = json_object_get(s, "scope");
    mcp_text_line(&c->text, "Scope: %s %s", mcp_j_str(scope, "name"), mcp_j_str(scope, "version"));
    size_t k;
    json_t *e;
    json_t *events = json_object_get(s, "events");
    mcp_text_line(&c->text, "Events (%zu):", json_array_size(events));
    json_array_foreach(events, k, e) {
        char name[200];
        uint64_t et = mcp_j_ns(e, "timeUnixNano");
        textfmt_duration(et > start ? et - start : 0, off, sizeof(off));
        textfmt_clip(mcp_j_str(e, "name"), 160, name, sizeof(name));
        mcp_j_attrs(json_object_get(e, "attributes"), 16, text, sizeof(text));
        mcp_text_line(&c->text, "- +%s %s {%s}", off, name, text);
    }
    json_t *links = json_object_get(s, "links");
    mcp_text_line(&c->text, "Links (%zu):", json_array_size(links));
    json_array_foreach(links, k, e) {
        mcp_j_attrs(json_object_get(e, "attributes"), 16, text, sizeof(text));
        mcp_text_line(&c->text, "- trace %s span %s {%s}", mcp_j_str(e, "traceId"),
                      mcp_j_str(e, "spanId"), text);
    }
    size_t nkids = 0;
    for (long ch = t->first_child[i]; ch >= 0; ch = t->next[ch])
        nkids++;
    mcp_text_line(&c->text, "Children (%zu):", nkids);
    for (long ch = t->first_child[i]; ch >= 0; ch = t->next[ch])
        mcp_tree_line(c, t, ch, 0);
}

/* The critical path from GET /traces/{id}/analysis: the operations the
 * trace's end waited on, most time on the path first, then the path's
 * first segments in time order. */
#define MCP_CRIT_OPS 8
#define MCP_CRIT_SEGS 12

static void mcp_trace_critical(mcp_call *c, const char *tid) {
    buf path;
    json_t *doc;
    char msg[256];
    buf_init(&path, 1024);
    buf_append_str(&path, "/api/v1/traces/");
    textfmt_url_encode(tid, &path);
    buf_append_str(&path, "/analysis");
    mcp_q_path(c, path.ptr != NULL ? path.ptr : "/");
    buf_free(&path);
    int rc = mcp_fetch(c, &doc, msg, sizeof(msg));
    if (rc == 1) /* evicted between the two reads: the rest is still worth answering */
        mcp_text_line(&c->text, "Critical path: unknown (%s).", msg);
    if (rc != 0)
        return;
    char total[32], whole[32];
    double crit = mcp_j_num(doc, "criticalPathNs", 0), dur = mcp_j_num(doc, "durationNs", 0);
    textfmt_duration((uint64_t)crit, total, sizeof(total));
    textfmt_duration((uint64_t)dur, whole, sizeof(whole));
    mcp_text_line(&c->text,
                  "Critical path: %s of the trace's %s (the work its end waited on; time on "
                  "the path per operation, its share of the path, self time, spans):",
                  total, whole);
    json_t *stats = json_object_get(doc, "stats");
    size_t n = json_array_size(stats), order[MCP_CRIT_OPS], norder = 0;
    for (size_t i = 0; i < n; i++) {
        double v = mcp_j_num(json_array_get(stats, i), "criticalNs", 0);
        if (v <= 0)
            continue;
        size_t at = norder;
        while (at > 0 && mcp_j_num(json_array_get(stats, order[at - 1]), "criticalNs", 0) < v)
            at--;
        if (at >= MCP_CRIT_OPS)
            continue;
        size_t move = (norder < MCP_CRIT_OPS ? norder : MCP_CRIT_OPS - 1) - at;
        memmove(order + at + 1, order + at, move * sizeof(order[0]));
        order[at] = i;
        if (norder < MCP_CRIT_OPS)
            norder++;
    }
    for (size_t k = 0; k < norder; k++) {
        json_t *o = json_array_get(stats, order[k]);
        char on[32], self[32], svc[160], name[200];
        double v = mcp_j_num(o, "criticalNs", 0);
        textfmt_duration((uint64_t)v, on, sizeof(on));
        textfmt_duration((uint64_t)mcp_j_num(o, "selfNs", 0), self, sizeof(self));
        textfmt_clip(mcp_j_str(o, "service"), 120, svc, sizeof(svc));
        textfmt_clip(mcp_j_str(o, "name"), 160, name, sizeof(name));
        mcp_text_line(&c->text, "- %s: %s: %s on the path (%.1f%%), self %s, %.0f spans", svc,
                      name, on, crit > 0 ? 100.0 * v / crit : 0.0, self,
                      mcp_j_num(o, "count", 0));
    }
    json_t *segs = json_object_get(doc, "criticalPath"), *g;
    size_t i, nseg = json_array_size(segs);
    uint64_t t0 = mcp_j_ns(doc, "startTimeUnixNano");
    mcp_text_line(&c->text, "The path in time order (offset, length, service: name, span):");
    json_array_foreach(segs, i, g) {
        if (i >= MCP_CRIT_SEGS) {
            mcp_text_line(&c->text, "- and %zu more segments", nseg - i);
            break;
        }
        char off[32], len[32], svc[160], name[200];
        uint64_t st = mcp_j_ns(g, "startTimeUnixNano");
        textfmt_duration(st > t0 ? st - t0 : 0, off, sizeof(off));
        textfmt_duration((uint64_t)mcp_j_num(g, "durationNs", 0), len, sizeof(len));
        textfmt_clip(mcp_j_str(g, "service"), 120, svc, sizeof(svc));
        textfmt_clip(mcp_j_str(g, "name"), 160, name, sizeof(name));
        mcp_text_line(&c->text, "- +%s %s %s: %s (span %s)", off, len, svc, name,
                      mcp_j_str(g, "spanId"));
    }
    json_decref(doc);
}

static void mcp_trace_run(mcp_call *c) {
    const char *id, *span_id;
    if (mcp_arg_string(c, "traceId", &id) != 0 || mcp_arg_string(c, "spanId", &span_id) != 0)
        return;
    if (id == NULL) {
        mcp_fail(c, "Argument 'traceId' is required (32 hex digits).");
        return;
    }
    buf path;
    buf_init(&path, 1024);
    buf_append_str(&path, "/api/v1/traces/");
    textfmt_url_encode(id, &path);
    mcp_q_path(c, path.ptr != NULL ? path.ptr : "/");
    buf_free(&path);
    json_t *doc;
    char msg[256];
    int rc = mcp_fetch(c, &doc, msg, sizeof(msg));
    if (rc == 1)
        mcp_fail(c, "%s: it is not stored (never received, or evicted). Find trace ids with "
                    "search_traces.",
                 msg);
    if (rc != 0)
        return;
    mcp_tree t;
    if (mcp_tree_build(json_object_get(doc, "spans"), &t) != 0) {
        mcp_fail(c, "Out of memory.");
        json_decref(doc);
        return;
    }
    t.resources = json_object_get(doc, "resources");
    const char *tid = mcp_j_str(doc, "traceId");
    if (span_id != NULL) {
        long found = -1;
        for (size_t i = 0; i < t.n && found < 0; i++)
            if (strcasecmp(mcp_j_str(t.span[i], "spanId"), span_id) == 0)
                found = (long)i;
        if (found < 0)
            mcp_fail(c, "Trace %s has no span %.40s; get_trace without spanId lists its spans.",
                     tid, span_id);
        else
            mcp_span_detail(c, &t, found);
        mcp_text_finish(&c->text, "lines", NULL);
    } else {
        mcp_trace_head(c, &t, tid);
        mcp_trace_errors(c, &t);
        mcp_trace_slowest(c, &t);
        mcp_trace_critical(c, tid);
        if (c->is_error) /* the analysis was refused: its message is the answer */
            goto out;
        mcp_trace_tree(c, &t);
        mcp_text_finish(&c->text, "spans",
                        "Call get_trace with spanId for one span and its children, or "
                        "search_logs with traceId for the trace's logs.");
    }
out:
    mcp_tree_free(&t);
    json_decref(doc);
}

const mcp_tool mcp_tool_get_trace = {
    "get_trace", "Get a trace",
    "One trace: its services, duration and root, the error spans with their exceptions, the "
    "slowest spans with self times, and the span tree (offset, duration, service, name, kind, "
    "errors), and its critical path (the operations its end waited on). With spanId, one span "
    "in detail.",
    mcp_trace_props, mcp_trace_run};

/* ---- list_errors ---------------------------------------------------------------------- */

#define MCP_GROUPS_MAX 200
#define MCP_GROUP_EXAMPLES 3

/* Errors with the same kind and text. */
typedef struct mcp_group {
    char key[360];       /* "exception Type: message" or the text */
    size_t count;
    char services[200];  /* distinct, comma-separated, clipped */
    char names[300];     /* span names (for spans) */
    char examples[MCP_GROUP_EXAMPLES][33]; /* trace ids */
    size_t nexamples;
} mcp_group;

typedef struct mcp_groups {
    mcp_group *g; /* MCP_GROUPS_MAX */
    size_t n;
    size_t other; /* errors past MCP_GROUPS_MAX distinct keys */
    size_t total;
} mcp_groups;

/* Adds word to a comma-separated list unless it is there or full. */
static void mcp_list_add(char *list, size_t len, const char *word) {
    char w[100];
    textfmt_clip(word, 60, w, sizeof(w));
    if (w[0] == '\0')
        return;
    size_t used = strlen(list);
    for (const char *p = list; *p != '\0';) {
        const char *e = strstr(p, ", ");
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == strlen(w) && strncmp(p, w, l) == 0)
            return;
        p += l + (e ? 2 : 0);
    }
    if (used + strlen(w) + 3 < len)
        snprintf(list + used, len - used, "%s%s", used ? ", " : "", w);
}

static void mcp_group_add(mcp_groups *gs, const char *key, const char *service,
                          const char *name, const char *trace_id) {
    gs->total++;
    size_t i = 0;
    while (i < gs->n && strcmp(gs->g[i].key, key) != 0)
        i++;
    if (i == gs->n) {
        if (gs->n == MCP_GROUPS_MAX) {
            gs->other++;
            return;
        }
        memset(&gs->g[i], 0, sizeof(gs->g[i]));
        snprintf(gs->g[i].key, sizeof(gs->g[i].key), "%s", key);
        gs->n++;
    }
    mcp_group *g = &gs->g[i];
    g->count++;
    mcp_list_add(g->services, sizeof(g->services), service);
    if (name != NULL)
        mcp_list_add(g->names, sizeof(g->names), name);
    if (trace_id[0] == '\0' || g->nexamples == MCP_GROUP_EXAMPLES)
        return;
    for (size_t k = 0; k < g->nexamples; k++)
        if (strcmp(g->examples[k], trace_id) == 0)
            return;
    snprintf(g->examples[g->nexamples++], sizeof(g->examples[0]), "%.32s", trace_id);
}

static int mcp_group_cmp(const void *a, const void *b) {
    const mcp_group *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

static void mcp_groups_write(mcp_call *c, mcp_groups *gs) {
    if (gs->n > 1)
        qsort(gs->g, gs->n, sizeof(gs->g[0]), mcp_group_cmp);
    for (size_t i = 0; i < gs->n; i++) {
        mcp_group *g = &gs->g[i];
        char ex[120] = "";
        for (size_t k = 0; k < g->nexamples; k++)
            textfmt_append(ex, sizeof(ex), ", ", "%s", g->examples[k]);
        mcp_text_line(&c->text, "- %zux %s | service %s%s%s", g->count, g->key, g->services,
                      g->names[0] ? " | spans " : "", g->names);
        if (ex[0] != '\0')
            mcp_text_line(&c->text, "  example traces: %s", ex);
    }
    if (gs->other > 0)
        mcp_text_line(&c->text, "- %zu more in other groups (more than %d distinct errors)",
                      gs->other, MCP_GROUPS_MAX);
}

static void mcp_errors_props(json_t *props, json_t *required) {
    (void)required;
    mcp_prop(props, "service", "string", "Only this service's errors.");
    mcp_prop_window(props, "1h");
    mcp_prop_int(props, "maxTraces", 1, 200,
                 "Newest traces with errors to read span by span (default 50).");
}

/* Error spans of the newest traces with errors. Returns 0 or -1. */
static int mcp_errors_spans(mcp_call *c, const char *service, long max_traces, mcp_groups *gs,
                            size_t *ntraces, int *more) {
    json_t *doc;
    char msg[256];
    mcp_q_path(c, "/api/v1/traces");
    mcp_q_param(c, "status", "error");
    mcp_q_param(c, "service", service);
    mcp_q_window_params(c);
    mcp_q_param_u64(c, "limit", (uint64_t)max_traces);
    if (mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return -1;
    json_t *list = json_object_get(doc, "traces");
    *more = json_string_value(json_object_get(doc, "nextCursor")) != NULL;
    *ntraces = json_array_size(list);
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) {
        buf path;
        buf_init(&path, 256);
        buf_append_str(&path, "/api/v1/traces/");
        textfmt_url_encode(mcp_j_str(tr, "traceId"), &path);
        mcp_q_path(c, path.ptr != NULL ? path.ptr : "/");
        buf_free(&path);
        json_t *one;
        int rc = mcp_fetch(c, &one, msg, sizeof(msg));
        if (rc == 1)
            continue; /* evicted meanwhile */
        if (rc != 0) {
            json_decref(doc);
            return -1;
        }
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(one, "spans"), k, s) {
            char err[800];
            if (service != NULL && strcmp(mcp_j_str(s, "service"), service) != 0)
                continue;
            mcp_span_error(s, err, sizeof(err));
            if (err[0] == '\0')
                continue;
            char key[360];
            textfmt_clip(err, 300, key, sizeof(key));
            mcp_group_add(gs, key, mcp_j_str(s, "service"), mcp_j_str(s, "name"),
                          mcp_j_str(s, "traceId"));
        }
        json_decref(one);
    }
    json_decref(doc);
    return 0;
}

/* Log records of severity ERROR or worse. Returns 0 or -1. */
static int mcp_errors_logs(mcp_call *c, const char *service, mcp_groups *gs, int *more) {
    json_t *doc;
    char msg[256];
    mcp_q_path(c, "/api/v1/logs");
    mcp_q_param(c, "minSeverity", "error");
    mcp_q_param(c, "service", service);
    mcp_q_window_params(c);
    mcp_q_param(c, "limit", "1000");
    if (mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return -1;
    *more = json_string_value(json_object_get(doc, "nextCursor")) != NULL;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(doc, "logs"), i, l) {
        json_t *a = json_object_get(l, "attributes");
        char key[360], body[240];
        const char *type = mcp_j_str(a, "exception.type");
        const char *emsg = mcp_j_str(a, "exception.message");
        mcp_j_text(json_object_get(l, "body"), 200, body, sizeof(body));
        if (type[0] != '\0' || emsg[0] != '\0') {
            char t[120], m[200];
            textfmt_clip(type, 100, t, sizeof(t));
            textfmt_clip(emsg, 180, m, sizeof(m));
            snprintf(key, sizeof(key), "exception %s%s%s", t, t[0] && m[0] ? ": " : "", m);
        } else {
            snprintf(key, sizeof(key), "\"%s\"", body);
        }
        mcp_group_add(gs, key, mcp_j_str(l, "service"), NULL, mcp_j_str(l, "traceId"));
    }
    json_decref(doc);
    return 0;
}

static void mcp_errors_run(mcp_call *c) {
    const char *service;
    long max_traces;
    mcp_q_path(c, "/"); /* mcp_q_window reads the window; the requests come below */
    if (mcp_arg_string(c, "service", &service) != 0 || mcp_q_window(c, "1h") != 0 ||
        mcp_arg_int(c, "maxTraces", 1, 200, 50, &max_traces) != 0)
        return;
    mcp_groups spans = {0}, logs = {0};
    spans.g = calloc(MCP_GROUPS_MAX, sizeof(mcp_group));
    logs.g = calloc(MCP_GROUPS_MAX, sizeof(mcp_group));
    size_t ntraces = 0;
    int more_traces = 0, more_logs = 0;
    char window[100];
    if (spans.g == NULL || logs.g == NULL) {
        mcp_fail(c, "Out of memory.");
        goto out;
    }
    if (mcp_errors_spans(c, service, max_traces, &spans, &ntraces, &more_traces) != 0 ||
        mcp_errors_logs(c, service, &logs, &more_logs) != 0)
        goto out;
    mcp_window_text(c, window, sizeof(window));
    mcp_text_line(&c->text, "Errors %s%s%s.", window, service ? " in service " : "",
                  service ? service : "");
    mcp_text_line(&c->text, "Error spans (status ERROR): %zu in the %zu newest traces with "
                            "errors%s, grouped by message and exception:",
                  spans.total, ntraces,
                  more_traces ? " (more traces with errors exist: raise maxTraces or narrow "
                                "the window)"
                              : "");
    mcp_groups_write(c, &spans);
    mcp_text_line(&c->text, "Error logs (severity ERROR or worse): %zu%s, grouped by exception "
                            "or body:",
                  logs.total, more_logs ? " (the newest 1000; more exist: narrow the window)" : "");
    mcp_groups_write(c, &logs);
    mcp_text_line(&c->text, "Call get_trace with an example trace id for the details.");
    mcp_text_finish(&c->text, "lines", "Narrow with service or a shorter window.");
out:
    free(spans.g);
    free(logs.g);
}

const mcp_tool mcp_tool_list_errors = {
    "list_errors", "List errors",
    "What went wrong in a window (default the last hour): error spans and error logs grouped "
    "by exception type and message, with counts, services, span names and example trace ids.",
    mcp_errors_props, mcp_errors_run};
