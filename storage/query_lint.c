/* query_lint.c - GET /api/v1/lint: the instrumentation lint's findings
 * summed over the segments, with hints and links to their examples; see
 * query.h and store_lint.c.
 *
 * DESIGN
 * Every segment keeps its own findings (lint_N, one row per rule, service
 * and key). A query reads each segment's rows, newest segment first,
 * joined with their examples (json_each), and sums them by (rule, service,
 * key): counts add up (high-cardinality-metric's is a level: the largest),
 * first and last seen are the extremes, the note is the newest segment's,
 * and the examples are the first five met, so the newest. Nothing scans
 * telemetry: the cost grows with findings x segments. Findings are then
 * ordered by service (the service with the most severe finding first),
 * severity and count. Each example gets a path into the web UI and one into
 * the API that show it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "util/textfmt.h"
#include "lint.h"
#include "query.h"
#include "query_internal.h"

#define QL_FINDINGS_MAX 100000
#define QL_LOG_WINDOW_NS 60000000000ULL     /* a log link's range: a minute either side */
#define QL_METRIC_WINDOW_NS 900000000000ULL /* a metric link's: 15 minutes either side */

void ql_free(ql_state *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].note);
        free(s->names[i]);
        for (int e = 0; e < s->v[i].n_ex; e++)
            free(s->v[i].ex[e].metric);
    }
    free(s->v);
    free(s->names);
}

/* The finding (rule, service, key), made when new; NULL when out of memory
 * or past QL_FINDINGS_MAX. */
ql_finding *ql_get(ql_state *s, int rule, int64_t service, const char *key) {
    if (s->last < s->n) {
        ql_finding *f = &s->v[s->last];
        if (f->rule == rule && f->service == service && strcmp(f->key, key) == 0)
            return f;
    }
    for (size_t i = 0; i < s->n; i++) {
        ql_finding *f = &s->v[i];
        if (f->rule == rule && f->service == service && strcmp(f->key, key) == 0) {
            s->last = i;
            return f;
        }
    }
    if (s->n == QL_FINDINGS_MAX)
        return NULL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        ql_finding *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        char **names = realloc(s->names, cap * sizeof(*names));
        if (names == NULL)
            return NULL;
        s->names = names;
        s->cap = cap;
    }
    ql_finding *f = &s->v[s->n];
    memset(f, 0, sizeof(*f));
    f->rule = rule;
    f->service = service;
    f->first = INT64_MAX;
    f->last = INT64_MIN;
    f->count = -1; /* no segment counted yet */
    if ((f->key = strdup(key)) == NULL)
        return NULL;
    s->names[s->n] = NULL;
    s->last = s->n++;
    return f;
}

static int ql_signal(const char *name) {
    if (name == NULL)
        return -1;
    if (strcmp(name, "span") == 0)
        return MODEL_SIGNAL_TRACES;
    if (strcmp(name, "log") == 0)
        return MODEL_SIGNAL_LOGS;
    if (strcmp(name, "metric") == 0)
        return MODEL_SIGNAL_METRICS;
    return -1;
}

/* Copies a hex id of exactly n digits (else "") into out. */
static void ql_hex(const char *s, size_t n, char *out) {
    out[0] = '\0';
    if (s == NULL || strlen(s) != n)
        return;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return;
    memcpy(out, s, n + 1);
}

/* A row of one segment: its finding's sums (once per segment: the first
 * row of the finding there) and one example. */
static int ql_row(ql_state *s, sqlite3_stmt *st, int64_t seg, int64_t *seen_seg) {
    const char *key = (const char *)sqlite3_column_text(st, 2);
    ql_finding *f = ql_get(s, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
                           key ? key : "");
    if (f == NULL)
        return QUERY_ENOMEM;
    if (seen_seg[s->last] != seg) { /* the finding's sums in this segment */
        seen_seg[s->last] = seg;
        int64_t count = sqlite3_column_int64(st, 3);
        if (f->count < 0)
            f->count = count;
        else if (f->rule == LINT_HIGH_CARDINALITY)
            f->count = count > f->count ? count : f->count;
        else
            f->count += count;
        int64_t first = sqlite3_column_int64(st, 4), last = sqlite3_column_int64(st, 5);
        if (first < f->first)
            f->first = first;
        if (last > f->last)
            f->last = last;
        const char *note = (const char *)sqlite3_column_text(st, 6);
        if (f->note == NULL && note != NULL && note[0] != '\0' &&
            (f->note = strdup(note)) == NULL)
            return QUERY_ENOMEM;
    }
    int sig = ql_signal((const char *)sqlite3_column_text(st, 7));
    if (sig < 0 || f->n_ex == QL_EXAMPLES)
        return QUERY_OK;
    ql_example *e = &f->ex[f->n_ex];
    memset(e, 0, sizeof(*e));
    e->signal = sig;
    ql_hex((const char *)sqlite3_column_text(st, 8), 32, e->trace);
    ql_hex((const char *)sqlite3_column_text(st, 9), 16, e->span);
    const char *metric = (const char *)sqlite3_column_text(st, 10);
    if (metric != NULL && (e->metric = strdup(metric)) == NULL)
        return QUERY_ENOMEM;
    e->time = textfmt_parse_ns((const char *)sqlite3_column_text(st, 11));
    if (sig == MODEL_SIGNAL_TRACES && (e->trace[0] == '\0' || e->span[0] == '\0'))
        return QUERY_OK; /* not linkable */
    if (sig == MODEL_SIGNAL_METRICS && e->metric == NULL)
        return QUERY_OK;
    f->n_ex++;
    return QUERY_OK;
}

/* Reads every segment's findings (of service sid, 0 = all), newest
 * segment first. */
static int ql_collect(store_reader *r, int64_t sid, ql_state *s) {
    size_t nsegs = r->n_segs;
    int64_t *ids = malloc((nsegs ? nsegs : 1) * sizeof(*ids));
    if (ids == NULL)
        return QUERY_ENOMEM;
    for (size_t i = 0; i < nsegs; i++)
        ids[i] = r->segs[i].id;
    /* newest first across the signals: ids come from one sequence */
    for (size_t i = 1; i < nsegs; i++)
        for (size_t j = i; j > 0 && ids[j - 1] < ids[j]; j--) {
            int64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    int64_t *seen = NULL; /* per finding: the segment its sums were last taken from */
    size_t seen_cap = 0;
    int rc = QUERY_OK;
    for (size_t i = 0; i < nsegs && rc == QUERY_OK && !store_reader_timed_out(r); i++) {
        qsql q;
        qsql_init(&q);
        qsql_seg(&q, ids[i]);
        qsql_add(&q, "SELECT l.rule, l.service, l.key, l.count, l.first_ns, l.last_ns, l.note,"
                     " json_extract(e.value, '$.signal'), json_extract(e.value, '$.traceId'),"
                     " json_extract(e.value, '$.spanId'), json_extract(e.value, '$.metric'),"
                     " json_extract(e.value, '$.timeUnixNano')"
                     " FROM lint_{N} l LEFT JOIN json_each(l.examples) e");
        if (sid > 0) {
            qsql_add(&q, " WHERE l.service=");
            qsql_int(&q, sid);
        }
        sqlite3_stmt *st = NULL;
        rc = qsql_prepare(&q, r->db, &st);
        int x = SQLITE_DONE;
        while (rc == QUERY_OK && (x = sqlite3_step(st)) == SQLITE_ROW) {
            if (s->n + 1 > seen_cap) {
                size_t nc = seen_cap ? 2 * seen_cap : 64;
                int64_t *m = realloc(seen, nc * sizeof(*m));
                if (m == NULL) {
                    rc = QUERY_ENOMEM;
                    break;
                }
                for (size_t k = seen_cap; k < nc; k++)
                    m[k] = 0;
                seen = m;
                seen_cap = nc;
            }
            rc = ql_row(s, st, ids[i], seen);
        }
        if (rc == QUERY_OK && query_step_done(r, x) != SQLITE_DONE)
            rc = QUERY_EDB;
        sqlite3_finalize(st);
        qsql_free(&q);
    }
    free(seen);
    free(ids);
    return rc;
}

/* Each finding's service name (looked up once per service). */
static int ql_names(store_reader *r, ql_state *s) {
    for (size_t i = 0; i < s->n; i++) {
        ql_finding *f = &s->v[i];
        for (size_t j = 0; j < i; j++)
            if (s->v[j].service == f->service) {
                f->service_name = s->v[j].service_name;
                break;
            }
        if (f->service_name != NULL)
            continue;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(r->db, "SELECT name FROM services WHERE id=?1", -1, &st, NULL) !=
            SQLITE_OK)
            return QUERY_EDB;
        sqlite3_bind_int64(st, 1, f->service);
        const char *name = sqlite3_step(st) == SQLITE_ROW
                               ? (const char *)sqlite3_column_text(st, 0)
                               : NULL;
        s->names[i] = strdup(name ? name : "");
        sqlite3_finalize(st);
        if (s->names[i] == NULL)
            return QUERY_ENOMEM;
        f->service_name = s->names[i];
    }
    return QUERY_OK;
}

static int ql_order(const void *pa, const void *pb) {
    const ql_finding *a = pa, *b = pb;
    if (a->worst != b->worst)
        return b->worst - a->worst;
    int c = strcmp(a->service_name, b->service_name);
    if (c != 0)
        return c;
    int sa = (int)lint_rule_severity(a->rule), sb = (int)lint_rule_severity(b->rule);
    if (sa != sb)
        return sb - sa;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    if (a->rule != b->rule)
        return a->rule - b->rule;
    return strcmp(a->key, b->key);
}

/* Sorts: services by their most severe finding, then name; within one,
 * by severity and count. */
void ql_sort(ql_state *s) {
    for (size_t i = 0; i < s->n; i++) {
        int worst = 0;
        for (size_t j = 0; j < s->n; j++)
            if (s->v[j].service == s->v[i].service &&
                (int)lint_rule_severity(s->v[j].rule) > worst)
                worst = (int)lint_rule_severity(s->v[j].rule);
        s->v[i].worst = worst;
    }
    if (s->n > 1) /* qsort() takes no NULL, even for 0 items */
        qsort(s->v, s->n, sizeof(*s->v), ql_order);
}

/* ---- writing -------------------------------------------------------------------------- */

/* Appends "key=value" (value percent-encoded) to a link. */
static void ql_param(buf *b, const char *key, const char *value) {
    buf_append_char(b, strchr(b->ptr ? b->ptr : "", '?') ? '&' : '?');
    buf_append_str(b, key);
    buf_append_char(b, '=');
    textfmt_url_encode(value, b);
}

static void ql_param_time(buf *b, const char *key, uint64_t ns) {
    char t[40];
    textfmt_time_utc(ns, t, sizeof(t));
    ql_param(b, key, t);
}

static void ql_param_ns(buf *b, const char *key, uint64_t ns) {
    char t[24];
    snprintf(t, sizeof(t), "%llu", (unsigned long long)ns);
    ql_param(b, key, t);
}

/* The example's paths into the web UI and the API. */
static void ql_links(const ql_example *e, const char *service, buf *ui, buf *api) {
    uint64_t t = e->time;
    switch (e->signal) {
    case MODEL_SIGNAL_TRACES:
        buf_printf(ui, "/traces/%s", e->trace);
        ql_param(ui, "span", e->span);
        buf_printf(api, "/api/v1/traces/%s", e->trace);
        break;
    case MODEL_SIGNAL_LOGS:
        buf_append_str(ui, "/logs");
        ql_param(ui, "service", service);
        ql_param_time(ui, "start", t > QL_LOG_WINDOW_NS ? t - QL_LOG_WINDOW_NS : 0);
        ql_param_time(ui, "end", t + QL_LOG_WINDOW_NS);
        ql_param_ns(ui, "log", t);
        buf_append_str(api, "/api/v1/logs");
        ql_param(api, "service", service);
        ql_param_ns(api, "start", t);
        ql_param_ns(api, "end", t + 1);
        break;
    default:
        buf_append_str(ui, "/metrics");
        ql_param(ui, "metric", e->metric);
        ql_param(ui, "mservice", service);
        ql_param_time(ui, "start", t > QL_METRIC_WINDOW_NS ? t - QL_METRIC_WINDOW_NS : 0);
        ql_param_time(ui, "end", t + QL_METRIC_WINDOW_NS);
        buf_append_str(api, "/api/v1/metrics/");
        textfmt_url_encode(e->metric, api);
        buf_append_str(api, "/series");
        ql_param(api, "service", service);
        ql_param_ns(api, "start", t);
        ql_param_ns(api, "end", t + 1);
        break;
    }
}

static void ql_example_write(jw *w, const ql_example *e, const char *service, buf *ui, buf *api) {
    static const char *const names[MODEL_SIGNAL_COUNT] = {"span", "log", "metric"};
    jw_object_begin(w);
    jw_key(w, "signal");
    jw_string(w, names[e->signal]);
    if (e->trace[0]) {
        jw_key(w, "traceId");
        jw_string(w, e->trace);
    }
    if (e->span[0]) {
        jw_key(w, "spanId");
        jw_string(w, e->span);
    }
    if (e->metric != NULL) {
        jw_key(w, "metric");
        jw_string(w, e->metric);
    }
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, e->time);
    buf_reset(ui);
    buf_reset(api);
    ql_links(e, service, ui, api);
    jw_key(w, "ui");
    jw_stringn(w, ui->ptr ? ui->ptr : "", ui->len);
    jw_key(w, "api");
    jw_stringn(w, api->ptr ? api->ptr : "", api->len);
    jw_object_end(w);
}

static void ql_finding_write(jw *w, const ql_finding *f, buf *ui, buf *api) {
    char hint[1024];
    jw_object_begin(w);
    jw_key(w, "rule");
    jw_string(w, lint_rule_id(f->rule) ? lint_rule_id(f->rule) : "unknown");
    jw_key(w, "severity");
    jw_string(w, lint_severity_name(lint_rule_severity(f->rule)));
    jw_key(w, "service");
    jw_string(w, f->service_name);
    jw_key(w, "key");
    jw_string(w, f->key);
    jw_key(w, "count");
    jw_int(w, f->count < 0 ? 0 : f->count);
    jw_key(w, "firstSeenUnixNano");
    jw_uint_string(w, f->first == INT64_MAX ? 0 : (uint64_t)f->first);
    jw_key(w, "lastSeenUnixNano");
    jw_uint_string(w, f->last == INT64_MIN ? 0 : (uint64_t)f->last);
    jw_key(w, "detail");
    jw_string(w, f->note ? f->note : "");
    lint_hint(f->rule, f->key, hint, sizeof(hint));
    jw_key(w, "hint");
    jw_string(w, hint);
    jw_key(w, "examples");
    jw_array_begin(w);
    for (int i = 0; i < f->n_ex; i++)
        ql_example_write(w, &f->ex[i], f->service_name, ui, api);
    jw_array_end(w);
    jw_object_end(w);
}

int ql_write(store_reader *r, const ql_state *s, buf *out) {
    int64_t by[LINT_ERROR + 1] = {0};
    for (size_t i = 0; i < s->n; i++)
        by[lint_rule_severity(s->v[i].rule)]++;
    buf ui, api;
    buf_init(&ui, 16384);
    buf_init(&api, 16384);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "semconvVersion");
    jw_string(&w, LINT_SEMCONV_VERSION);
    jw_key(&w, "summary");
    jw_object_begin(&w);
    for (int sev = LINT_ERROR; sev >= LINT_INFO; sev--) {
        jw_key(&w, lint_severity_name(sev));
        jw_int(&w, by[sev]);
    }
    jw_object_end(&w);
    jw_key(&w, "findings");
    jw_array_begin(&w);
    for (size_t i = 0; i < s->n; i++)
        ql_finding_write(&w, &s->v[i], &ui, &api);
    jw_array_end(&w);
    if (store_reader_timed_out(r)) {
        jw_key(&w, "partial");
        jw_bool(&w, 1);
    }
    jw_object_end(&w);
    buf_free(&ui);
    buf_free(&api);
    return query_finish(&w, SQLITE_DONE);
}

int query_lint(store_reader *r, const char *service, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_lint(r, service, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    int64_t sid = 0;
    int rc = QUERY_OK;
    if (service != NULL) {
        rc = query_service_id(r->db, service, &sid);
        if (rc == QUERY_OK && sid == 0)
            rc = QUERY_ENOTFOUND;
    }
    ql_state s;
    memset(&s, 0, sizeof(s));
    if (rc == QUERY_OK)
        rc = ql_collect(r, sid, &s);
    if (rc == QUERY_OK) {
        store_reader_relax(r);
        rc = ql_names(r, &s);
    }
    if (rc == QUERY_OK) {
        ql_sort(&s);
        rc = ql_write(r, &s, out);
    }
    ql_free(&s);
    store_reader_end(r);
    return rc;
}
