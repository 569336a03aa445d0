/* cli_query.c - loupe services, traces, trace, logs and ingest: one API query each,
 * printed as a table (or a tree) or as the API's JSON; logs --follow reads
 * the live stream (server-sent events). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_filter.h"
#include "cli_internal.h"
#include "cli_parse.h"
#include "cli_table.h"
#include "util/textfmt.h"

#define CLI_SSE_LINE_MAX ((size_t)8 << 20)

/* ---- shared ----------------------------------------------------------------- */

/* Reads the arguments of a listing command: filter words, --limit, and
 * --follow when follow is not NULL. Returns -1 to go on, else the exit
 * status. */
static int cli_list_args(cli_ctx *c, int argc, char **argv, cli_filter_kind kind,
                         cli_filter *f, uint64_t *limit, int *follow) {
    static const cli_opt opts[] = {{"limit", 1, 1}, {"follow", 0, 2}, {NULL, 0, 0}};
    char *words[64];
    int nwords = 0, i = 0;
    for (;;) {
        const char *v;
        int a = cli_next_arg(c, argc, argv, &i, opts, 1, &v);
        if (a == CLI_ARG_DONE)
            break;
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a == 1 && cli_parse_count(v, 1000, limit) != 0)
            return cli_usage(c, "--limit must be a number from 1 to 1000");
        if (a == 1 && *limit == 0)
            return cli_usage(c, "--limit must be a number from 1 to 1000");
        if (a == 2 && follow == NULL)
            return cli_usage(c, "unknown option --follow");
        if (a == 2)
            *follow = 1;
        if (a == CLI_ARG_DASHES)
            return cli_usage(c, "unexpected --");
        if (a == CLI_ARG_WORD) {
            if (nwords == 64)
                return cli_usage(c, "too many filters");
            words[nwords++] = (char *)v;
        }
    }
    char err[512];
    if (cli_filter_parse_words(words, nwords, kind, f, err, sizeof(err)) != 0)
        return cli_usage(c, "%s", err);
    return -1;
}

static int cli_fetch(cli_ctx *c, const char *target, json_t **doc);

/* A list route (path) with limit and the filter (freed here) into *doc;
 * as cli_fetch. */
static int cli_list_fetch(cli_ctx *c, const char *path, uint64_t limit, cli_filter *f,
                          json_t **doc) {
    buf target;
    buf_init(&target, 65536);
    buf_printf(&target, "%s?limit=%llu&", path, (unsigned long long)limit);
    cli_filter_query(f, cli_now_ns(), &target);
    cli_filter_free(f);
    int rc = target.ptr != NULL ? cli_fetch(c, target.ptr, doc)
                                : cli_fail(c, CLI_EXIT_FAIL, "out of memory");
    buf_free(&target);
    return rc;
}

int cli_get_json(cli_ctx *c, const char *target, int echo, json_t **doc) {
    buf body;
    buf_init(&body, CLI_JSON_MAX);
    *doc = NULL;
    int rc = cli_http_get(&c->http, target, &body);
    if (rc != CLI_HTTP_OK) {
        buf_free(&body);
        return cli_http_fail(c, rc);
    }
    if (echo) {
        fwrite(body.ptr != NULL ? body.ptr : "", 1, body.len, stdout);
        fputc('\n', stdout);
    }
    json_error_t jerr;
    *doc = json_loadb(body.ptr != NULL ? body.ptr : "", body.len, 0, &jerr);
    buf_free(&body);
    if (*doc == NULL)
        return cli_fail(c, CLI_EXIT_FAIL, "%s answered with something that is not JSON",
                        c->server);
    return -1;
}

/* GETs target into a JSON document. Returns the exit status on failure
 * (printed), or -1 with *doc set; with --json the body is printed instead
 * (and 0 returned). */
static int cli_fetch(cli_ctx *c, const char *target, json_t **doc) {
    int rc = cli_get_json(c, target, c->json, doc);
    if (rc < 0 && c->json) {
        json_decref(*doc);
        *doc = NULL;
        return CLI_EXIT_OK;
    }
    return rc;
}

static const char *cli_s(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static double cli_n(json_t *o, const char *key) {
    return json_number_value(json_object_get(o, key));
}

static uint64_t cli_ns(json_t *o, const char *key) {
    return textfmt_parse_ns(json_string_value(json_object_get(o, key)));
}

static void cli_print_table(cli_ctx *c, cli_table *t) {
    if (cli_table_print(t, stdout, c->width) != 0)
        cli_fail(c, CLI_EXIT_FAIL, "out of memory: rows are missing");
    cli_table_free(t);
}

/* ---- services ----------------------------------------------------------------- */

int cli_services(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "services");
    int n;
    int rc = cli_simple_args(&c, argc, argv, 1, NULL, 0, &n);
    if (rc >= 0)
        return rc;
    json_t *doc;
    rc = cli_fetch(&c, "/api/v1/services", &doc);
    if (rc >= 0)
        return rc;
    static const char *const head[] = {"SERVICE", ">REQUESTS", ">FAILED", ">P99",
                                       ">SPANS",  ">ERRORS",   ">LOGS",   ">POINTS",
                                       "LAST SEEN", "INSTANCES"};
    cli_table t;
    cli_table_init(&t, 10, head, 9);
    size_t k;
    json_t *s;
    json_array_foreach(json_object_get(doc, "services"), k, s) {
        char reqs[24], failed[24], p99[32], spans[24], errors[24], logs[24], points[24], seen[40],
            inst[512] = "";
        double nreq = cli_n(s, "requests"), nfail = cli_n(s, "failedRequests");
        snprintf(reqs, sizeof(reqs), "%.0f", nreq);
        if (nreq > 0) {
            snprintf(failed, sizeof(failed), "%.1f%%", 100.0 * nfail / nreq);
            textfmt_duration((uint64_t)cli_n(s, "p99Ns"), p99, sizeof(p99));
        } else {
            snprintf(failed, sizeof(failed), "-");
            snprintf(p99, sizeof(p99), "-");
        }
        snprintf(spans, sizeof(spans), "%.0f", cli_n(s, "spanCount"));
        snprintf(errors, sizeof(errors), "%.0f", cli_n(s, "errorCount"));
        snprintf(logs, sizeof(logs), "%.0f", cli_n(s, "logCount"));
        snprintf(points, sizeof(points), "%.0f", cli_n(s, "metricCount"));
        cli_fmt_local(cli_ns(s, "lastSeenUnixNano"), seen, sizeof(seen));
        size_t j;
        json_t *id;
        json_array_foreach(json_object_get(s, "instances"), j, id)
            textfmt_append(inst, sizeof(inst), ",", "%s",
                           json_is_string(id) ? json_string_value(id) : "");
        const char *row[] = {cli_s(s, "name"), reqs, failed, p99, spans, errors, logs, points,
                             seen, inst};
        cli_table_add(&t, row);
    }
    cli_print_table(&c, &t);
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* ---- traces ------------------------------------------------------------------------ */

int cli_traces(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "traces");
    cli_filter f;
    uint64_t limit = 20;
    memset(&f, 0, sizeof(f));
    int rc = cli_list_args(&c, argc, argv, CLI_FILTER_TRACES, &f, &limit, NULL);
    if (rc >= 0) {
        cli_filter_free(&f);
        return rc;
    }
    json_t *doc;
    rc = cli_list_fetch(&c, "/api/v1/traces", limit, &f, &doc);
    if (rc >= 0)
        return rc;
    static const char *const head[] = {"TRACE ID", "START", ">DURATION", ">SPANS", ">ERRORS",
                                       "ROOT", "SERVICES"};
    cli_table t;
    cli_table_init(&t, 7, head, 5);
    size_t k;
    json_t *tr;
    json_array_foreach(json_object_get(doc, "traces"), k, tr) {
        char start[40], dur[32], spans[24], errors[24], root[600], svcs[600] = "";
        cli_fmt_local(cli_ns(tr, "startTimeUnixNano"), start, sizeof(start));
        textfmt_duration((uint64_t)cli_n(tr, "durationNs"), dur, sizeof(dur));
        snprintf(spans, sizeof(spans), "%.0f", cli_n(tr, "spanCount"));
        snprintf(errors, sizeof(errors), "%.0f", cli_n(tr, "errorCount"));
        snprintf(root, sizeof(root), "%s: %s", cli_s(tr, "rootService"), cli_s(tr, "rootName"));
        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(tr, "services"), j, s)
            textfmt_append(svcs, sizeof(svcs), ",", "%s", cli_s(s, "name"));
        const char *row[] = {cli_s(tr, "traceId"), start, dur, spans, errors, root, svcs};
        cli_table_add(&t, row);
    }
    cli_print_table(&c, &t);
    if (json_is_string(json_object_get(doc, "nextCursor")) && c.width > 0)
        fprintf(stderr, "(more traces match: raise --limit or narrow the filters)\n");
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* ---- trace -------------------------------------------------------------------------- */

/* The spans in tree order with their depths: each span after its parent,
 * siblings by start (the API's order); spans whose parent is not stored
 * start their own trees. order[] and depth[] hold n entries. */
static void cli_span_order(json_t *spans, size_t n, size_t *order, size_t *depth) {
    size_t *parent = malloc((n + 1) * sizeof(size_t));
    unsigned char *placed = calloc(n + 1, 1);
    size_t out = 0;
    if (parent == NULL || placed == NULL) {
        for (size_t i = 0; i < n; i++) {
            order[i] = i;
            depth[i] = 0;
        }
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *pid = cli_s(json_array_get(spans, i), "parentSpanId");
        parent[i] = n; /* none */
        for (size_t k = 0; pid[0] != '\0' && k < n; k++)
            if (k != i && strcmp(cli_s(json_array_get(spans, k), "spanId"), pid) == 0) {
                parent[i] = k;
                break;
            }
    }
    /* roots in start order, each followed by its subtree (a stack walk) */
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < n; r++) {
            if (placed[r] || (pass == 0 && parent[r] != n))
                continue;
            size_t first = out;
            order[out] = r;
            depth[out++] = 0;
            placed[r] = 1;
            /* insert each span's children right after it, in start order */
            for (size_t at = first; at < out; at++) {
                size_t ins = at + 1;
                for (size_t k = 0; k < n; k++) {
                    if (placed[k] || parent[k] != order[at])
                        continue;
                    memmove(order + ins + 1, order + ins, (out - ins) * sizeof(size_t));
                    memmove(depth + ins + 1, depth + ins, (out - ins) * sizeof(size_t));
                    order[ins] = k;
                    depth[ins] = depth[at] + 1;
                    placed[k] = 1;
                    ins++;
                    out++;
                }
            }
        }
    }
done:
    free(parent);
    free(placed);
}

int cli_trace(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "trace");
    const char *id = NULL;
    int nwords;
    int rc = cli_simple_args(&c, argc, argv, 1, &id, 1, &nwords);
    if (rc >= 0)
        return rc;
    if (nwords == 0)
        return cli_usage(&c, "give a trace id (32 hex digits; loupe traces lists them)");
    buf target;
    buf_init(&target, 4096);
    buf_append_str(&target, "/api/v1/traces/");
    textfmt_url_encode(id, &target);
    json_t *doc;
    rc = cli_fetch(&c, target.ptr, &doc);
    buf_free(&target);
    if (rc >= 0)
        return rc;
    json_t *spans = json_object_get(doc, "spans");
    size_t n = json_array_size(spans);
    size_t *order = calloc(n + 1, sizeof(size_t)), *depth = calloc(n + 1, sizeof(size_t));
    if (order == NULL || depth == NULL) {
        free(order);
        free(depth);
        json_decref(doc);
        return cli_fail(&c, CLI_EXIT_FAIL, "out of memory");
    }
    cli_span_order(spans, n, order, depth);
    uint64_t t0 = 0, t1 = 0;
    size_t errors = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *s = json_array_get(spans, k);
        uint64_t a = cli_ns(s, "startTimeUnixNano"), b = cli_ns(s, "endTimeUnixNano");
        t0 = k == 0 || a < t0 ? a : t0;
        t1 = b > t1 ? b : t1;
        errors += strcmp(cli_s(json_object_get(s, "status"), "code"), "ERROR") == 0;
    }
    char dur[32], start[40];
    textfmt_duration(t1 > t0 ? t1 - t0 : 0, dur, sizeof(dur));
    cli_fmt_local(t0, start, sizeof(start));
    printf("trace %s: %zu spans (%zu with errors), %s, started %s\n", cli_s(doc, "traceId"), n,
           errors, dur, start);
    static const char *const head[] = {">OFFSET", ">DURATION", "SERVICE", "SPAN", "STATUS"};
    cli_table t;
    cli_table_init(&t, 5, head, 3);
    for (size_t k = 0; k < n; k++) {
        json_t *s = json_array_get(spans, order[k]);
        char off[32], d[32], name[1100], status[400];
        uint64_t a = cli_ns(s, "startTimeUnixNano");
        textfmt_duration(a > t0 ? a - t0 : 0, off, sizeof(off));
        textfmt_duration((uint64_t)cli_n(s, "durationNs"), d, sizeof(d));
        size_t ind = depth[k] < 20 ? depth[k] : 20;
        snprintf(name, sizeof(name), "%*s%s", (int)(2 * ind), "", cli_s(s, "name"));
        json_t *st = json_object_get(s, "status");
        snprintf(status, sizeof(status), "%s%s%s",
                 strcmp(cli_s(st, "code"), "UNSET") == 0 ? "" : cli_s(st, "code"),
                 cli_s(st, "message")[0] ? " " : "", cli_s(st, "message"));
        char plus[40];
        snprintf(plus, sizeof(plus), "+%s", off);
        const char *row[] = {plus, d, cli_s(s, "service"), name, status};
        cli_table_add(&t, row);
    }
    cli_print_table(&c, &t);
    free(order);
    free(depth);
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* ---- logs ------------------------------------------------------------------------------ */

static void cli_log_fields(json_t *l, int short_ids, char *when, size_t wl, char *body,
                           size_t bl, char *trace, size_t tl) {
    cli_fmt_local(cli_ns(l, "timeUnixNano"), when, wl);
    json_t *b = json_object_get(l, "body");
    if (json_is_string(b)) {
        snprintf(body, bl, "%s", json_string_value(b));
    } else {
        char *s = json_is_null(b) || b == NULL ? NULL : json_dumps(b, JSON_COMPACT);
        snprintf(body, bl, "%s", s != NULL ? s : "");
        free(s);
    }
    snprintf(trace, tl, "%.*s", short_ids ? 8 : 32, cli_s(l, "traceId"));
}

/* The severity text as sent, else the name of the number's range. */
static const char *cli_severity(json_t *l, char *out, size_t len) {
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    const char *t = cli_s(l, "severityText");
    int n = (int)cli_n(l, "severityNumber");
    if (t[0] != '\0')
        return t;
    if (n >= 1 && n <= 24)
        snprintf(out, len, "%s", names[(n - 1) / 4]);
    else
        snprintf(out, len, "%d", n);
    return out;
}

/* --follow: the SSE stream's lines are cut into events; log events print. */
typedef struct cli_follow {
    cli_ctx *c;
    buf line;  /* the line being received */
    char event[32];
    buf data;  /* the event's data lines */
    int overflow;
} cli_follow;

static void cli_follow_event(cli_follow *fo) {
    if (strcmp(fo->event, "overflow") == 0) {
        fo->overflow = 1;
        return;
    }
    if (strcmp(fo->event, "log") != 0 || fo->data.len == 0)
        return;
    if (fo->c->json) {
        fwrite(fo->data.ptr, 1, fo->data.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return;
    }
    json_t *l = json_loadb(fo->data.ptr, fo->data.len, 0, NULL);
    if (l == NULL)
        return;
    char when[40], body[8192], trace[40], sev[16];
    cli_log_fields(l, 0, when, sizeof(when), body, sizeof(body), trace, sizeof(trace));
    for (char *p = body; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    printf("%s  %-5s  %s  %s%s%s\n", when, cli_severity(l, sev, sizeof(sev)), cli_s(l, "service"),
           body, trace[0] ? "  trace=" : "", trace);
    fflush(stdout);
    json_decref(l);
}

static void cli_follow_line(cli_follow *fo) {
    const char *s = fo->line.ptr != NULL ? fo->line.ptr : "";
    size_t n = fo->line.len;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n == 0) {
        cli_follow_event(fo);
        fo->event[0] = '\0';
        buf_reset(&fo->data);
    } else if (n >= 6 && strncmp(s, "event:", 6) == 0) {
        const char *v = s + 6 + (s[6] == ' ');
        snprintf(fo->event, sizeof(fo->event), "%.*s", (int)(n - (size_t)(v - s)), v);
    } else if (n >= 5 && strncmp(s, "data:", 5) == 0) {
        const char *v = s + 5 + (n > 5 && s[5] == ' ');
        if (fo->data.len > 0)
            buf_append_char(&fo->data, '\n');
        buf_append(&fo->data, v, n - (size_t)(v - s));
    }
    buf_reset(&fo->line);
}

static int cli_follow_sink(void *ud, const char *data, size_t len) {
    cli_follow *fo = ud;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            cli_follow_line(fo);
            if (fo->overflow)
                return -1;
        } else if (buf_append_char(&fo->line, data[i]) != BUF_OK) {
            return -1;
        }
    }
    return 0;
}

static int cli_logs_follow(cli_ctx *c, const cli_filter *f) {
    static const char *const not_live[] = {"start", "end"};
    for (size_t k = 0; k < 2; k++)
        if (cli_filter_get(f, not_live[k]) != NULL || f->has_since)
            return cli_usage(c, "--follow shows what arrives from now on: drop since, start and "
                                "end");
    buf target;
    buf_init(&target, 65536);
    buf_append_str(&target, "/api/v1/live?events=logs&");
    cli_filter_query(f, cli_now_ns(), &target);
    cli_follow fo;
    memset(&fo, 0, sizeof(fo));
    fo.c = c;
    buf_init(&fo.line, CLI_SSE_LINE_MAX);
    buf_init(&fo.data, CLI_SSE_LINE_MAX);
    c->http.timeout_ms = 0; /* a stream has no end */
    int rc = cli_http_stream(&c->http, target.ptr, "text/event-stream", cli_follow_sink, &fo);
    buf_free(&target);
    buf_free(&fo.line);
    buf_free(&fo.data);
    if (fo.overflow)
        return cli_fail(c, CLI_EXIT_FAIL, "the output fell too far behind; loupe ended the "
                                          "stream");
    if (rc != CLI_HTTP_OK)
        return cli_http_fail(c, rc);
    return cli_fail(c, CLI_EXIT_FAIL, "%s ended the stream (loupe stopped?)", c->server);
}

int cli_logs(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "logs");
    cli_filter f;
    uint64_t limit = 50;
    int follow = 0;
    memset(&f, 0, sizeof(f));
    int rc = cli_list_args(&c, argc, argv, CLI_FILTER_LOGS, &f, &limit, &follow);
    if (rc < 0 && follow)
        rc = cli_logs_follow(&c, &f);
    if (rc >= 0) {
        cli_filter_free(&f);
        return rc;
    }
    json_t *doc;
    rc = cli_list_fetch(&c, "/api/v1/logs", limit, &f, &doc);
    if (rc >= 0)
        return rc;
    static const char *const head[] = {"TIME", "SEVERITY", "SERVICE", "BODY", "TRACE"};
    cli_table t;
    cli_table_init(&t, 5, head, 3);
    size_t k;
    json_t *l;
    json_array_foreach(json_object_get(doc, "logs"), k, l) {
        char when[40], body[8192], trace[40], sev[16];
        cli_log_fields(l, c.width > 0, when, sizeof(when), body, sizeof(body), trace,
                       sizeof(trace));
        const char *row[] = {when, cli_severity(l, sev, sizeof(sev)), cli_s(l, "service"), body,
                             trace};
        cli_table_add(&t, row);
    }
    cli_print_table(&c, &t);
    if (json_is_string(json_object_get(doc, "nextCursor")) && c.width > 0)
        fprintf(stderr, "(more records match: raise --limit or narrow the filters)\n");
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* ---- ingest --------------------------------------------------------------------- */

/* The answer's status as an exporter reports it: "200", "413", "OK",
 * "RESOURCE_EXHAUSTED". */
static void cli_ingest_status(json_t *r, char *out, size_t outlen) {
    if (strcmp(cli_s(r, "transport"), "grpc") == 0 && cli_n(r, "httpStatus") == 200)
        snprintf(out, outlen, "%s", cli_s(r, "grpcStatusName"));
    else
        snprintf(out, outlen, "%.0f", cli_n(r, "httpStatus"));
}

/* "name language version" of an sdk object, or "-". */
static void cli_ingest_sdk(json_t *sdk, char *out, size_t outlen) {
    out[0] = '\0';
    static const char *const keys[] = {"name", "language", "version"};
    for (size_t i = 0; i < 3; i++)
        if (cli_s(sdk, keys[i])[0] != '\0')
            textfmt_append(out, outlen, " ", "%s", cli_s(sdk, keys[i]));
    if (out[0] == '\0')
        snprintf(out, outlen, "-");
}

static const char *cli_ingest_service(json_t *o) {
    return json_is_string(json_object_get(o, "service")) ? cli_s(o, "service") : "-";
}

/* One export request per row, then the advice for each refusal. */
static void cli_ingest_requests(cli_ctx *c, json_t *doc) {
    static const char *const head[] = {">ID",    "TIME",     "OUTCOME", "STATUS", "PROTOCOL",
                                       "SIGNAL", ">ITEMS",   ">BYTES",  "SERVICE", "CLIENT",
                                       "USER AGENT"};
    cli_table t;
    cli_table_init(&t, 11, head, 10);
    size_t k;
    json_t *r;
    json_t *list = json_object_get(doc, "requests");
    json_array_foreach(list, k, r) {
        char id[24], when[40], status[40], items[48], bytes[24];
        snprintf(id, sizeof(id), "%.0f", cli_n(r, "id"));
        cli_fmt_local(cli_ns(r, "timeUnixNano"), when, sizeof(when));
        cli_ingest_status(r, status, sizeof(status));
        if (cli_n(r, "rejectedItems") > 0)
            snprintf(items, sizeof(items), "%.0f (%.0f rejected)", cli_n(r, "items"),
                     cli_n(r, "rejectedItems"));
        else
            snprintf(items, sizeof(items), "%.0f", cli_n(r, "items"));
        if (json_is_number(json_object_get(r, "wireBytes")))
            snprintf(bytes, sizeof(bytes), "%.0f", cli_n(r, "wireBytes"));
        else
            snprintf(bytes, sizeof(bytes), "-");
        const char *signal = json_is_string(json_object_get(r, "signal")) ? cli_s(r, "signal")
                                                                          : "-";
        const char *row[] = {id, when, cli_s(r, "outcome"), status, cli_s(r, "protocol"), signal,
                             items, bytes, cli_ingest_service(r), cli_s(r, "client"),
                             cli_s(r, "userAgent")};
        cli_table_add(&t, row);
    }
    cli_print_table(c, &t);
    json_array_foreach(list, k, r) {
        if (cli_s(r, "hint")[0] != '\0')
            printf("#%.0f: %s\n", cli_n(r, "id"), cli_s(r, "hint"));
    }
}

/* One row per client, SDK and service. */
static void cli_ingest_clients(cli_ctx *c, json_t *doc) {
    static const char *const head[] = {"CLIENT",    "SERVICE",  "SDK",      "PROTOCOLS",
                                       ">REQUESTS", ">ITEMS",   ">REFUSED", ">PARTIAL",
                                       "LAST SEEN", "LAST",     "USER AGENT"};
    cli_table t;
    cli_table_init(&t, 11, head, 10);
    size_t k;
    json_t *cl;
    json_array_foreach(json_object_get(doc, "clients"), k, cl) {
        char sdk[160], protos[80] = "", reqs[24], items[24], errors[24], partial[24], seen[40],
            last[64];
        cli_ingest_sdk(json_object_get(cl, "sdk"), sdk, sizeof(sdk));
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(cl, "protocols"), j, p)
            textfmt_append(protos, sizeof(protos), ",", "%s", json_string_value(p));
        snprintf(reqs, sizeof(reqs), "%.0f", cli_n(cl, "requests"));
        snprintf(items, sizeof(items), "%.0f", cli_n(cl, "items"));
        snprintf(errors, sizeof(errors), "%.0f", cli_n(cl, "errors"));
        snprintf(partial, sizeof(partial), "%.0f", cli_n(cl, "partial"));
        cli_fmt_local(cli_ns(cl, "lastSeenUnixNano"), seen, sizeof(seen));
        snprintf(last, sizeof(last), "%s%s%s", cli_s(cl, "lastOutcome"),
                 json_is_string(json_object_get(cl, "lastReason")) ? " " : "",
                 cli_s(cl, "lastReason"));
        const char *row[] = {cli_s(cl, "client"), cli_ingest_service(cl), sdk, protos, reqs,
                             items, errors, partial, seen, last, cli_s(cl, "userAgent")};
        cli_table_add(&t, row);
    }
    cli_print_table(c, &t);
}

int cli_ingest(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "ingest");
    static const cli_opt opts[] = {{"clients", 0, 1},   {"errors", 0, 2},  {"outcome", 1, 3},
                                   {"transport", 1, 4}, {"service", 1, 5}, {"limit", 1, 6},
                                   {NULL, 0, 0}};
    const char *outcome = NULL, *transport = NULL, *service = NULL;
    uint64_t limit = 20;
    int clients = 0, i = 0;
    for (;;) {
        const char *v;
        int a = cli_next_arg(&c, argc, argv, &i, opts, 1, &v);
        if (a == CLI_ARG_DONE)
            break;
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a == CLI_ARG_WORD || a == CLI_ARG_DASHES)
            return cli_usage(&c, "unexpected argument \"%s\"", a == CLI_ARG_WORD ? v : "--");
        if (a == 1)
            clients = 1;
        else if (a == 2)
            outcome = "partial,error";
        else if (a == 3)
            outcome = v;
        else if (a == 4)
            transport = v;
        else if (a == 5)
            service = v;
        else if (a == 6 && (cli_parse_count(v, 1000, &limit) != 0 || limit == 0))
            return cli_usage(&c, "--limit must be a number from 1 to 1000");
    }
    if (clients && (outcome || transport || service))
        return cli_usage(&c, "--clients takes no filters");
    buf target;
    buf_init(&target, 16384);
    if (clients) {
        buf_append_str(&target, "/api/v1/ingest/clients");
    } else {
        buf_printf(&target, "/api/v1/ingest/requests?limit=%llu", (unsigned long long)limit);
        const char *keys[] = {"outcome", "transport", "service"};
        const char *vals[] = {outcome, transport, service};
        for (size_t k = 0; k < 3; k++) {
            if (vals[k] == NULL)
                continue;
            buf_printf(&target, "&%s=", keys[k]);
            textfmt_url_encode(vals[k], &target);
        }
    }
    json_t *doc;
    int rc = target.ptr != NULL ? cli_fetch(&c, target.ptr, &doc)
                                : cli_fail(&c, CLI_EXIT_FAIL, "out of memory");
    buf_free(&target);
    if (rc >= 0)
        return rc;
    if (!json_is_true(json_object_get(doc, "enabled"))) {
        json_decref(doc);
        return cli_fail(&c, CLI_EXIT_FAIL,
                        "the ingest inspector is off (loupe runs with --ingest-log-size 0)");
    }
    if (clients)
        cli_ingest_clients(&c, doc);
    else
        cli_ingest_requests(&c, doc);
    if (!clients && json_is_string(json_object_get(doc, "nextCursor")) && c.width > 0)
        fprintf(stderr, "(more requests match: raise --limit or narrow the filters)\n");
    json_decref(doc);
    return CLI_EXIT_OK;
}
