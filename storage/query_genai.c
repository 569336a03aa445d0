/* query_genai.c - GET /api/v1/genai from the GenAI rollup (genai.h,
 * store_genai.c): calls, errors, latency and tokens per model, per service
 * and per operation over a window, series per step, and the slowest and
 * most expensive calls; see query.h.
 *
 * DESIGN
 * Every trace segment keeps genai_N (per minute and service, provider,
 * model, operation: calls, errors, tokens, a duration histogram) and
 * genai_top_N (per minute the GENAI_TOP_PER_MINUTE longest calls and the
 * GENAI_TOP_PER_MINUTE with the most tokens). Each figure is one statement
 * over the union of the window's segments (qa_union), grouped in SQL by
 * its key and step with the histograms merged by loupe_hist_sum, so a
 * group's series comes out in order and only its totals are summed here.
 * The top calls of the window are the best of its minutes' candidates.
 * Nothing reads spans: the cost grows with keys x minutes, not with calls.
 */
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "genai.h"
#include "query.h"
#include "query_internal.h"
#include "rollup.h"

#define QG_COLS                                                                                    \
    "SELECT minute, service, provider, model, operation, calls, errors, input_tokens,"             \
    " output_tokens, hist FROM genai_{N}"
#define QG_EMPTY                                                                                   \
    "SELECT NULL AS minute, NULL AS service, NULL AS provider, NULL AS model,"                     \
    " NULL AS operation, NULL AS calls, NULL AS errors, NULL AS input_tokens,"                     \
    " NULL AS output_tokens, NULL AS hist WHERE 0"
#define QG_TOP_COLS                                                                                \
    "SELECT minute, kind, value, trace_id, span_id, service, name, provider, model, operation,"    \
    " start_ns, duration_ns, input_tokens, output_tokens, error FROM genai_top_{N}"
#define QG_TOP_EMPTY                                                                               \
    "SELECT NULL AS minute, NULL AS kind, NULL AS value, NULL AS trace_id, NULL AS span_id,"       \
    " NULL AS service, NULL AS name, NULL AS provider, NULL AS model, NULL AS operation,"          \
    " NULL AS start_ns, NULL AS duration_ns, NULL AS input_tokens, NULL AS output_tokens,"         \
    " NULL AS error WHERE 0"

const qg_by qg_models = {"models", "u.provider, u.model", "u.provider, u.model", "provider",
                         "model", 1};
const qg_by qg_services = {"services", "coalesce(sv.name,''), NULL", "u.service", "service",
                           NULL, 1};
const qg_by qg_operations = {"operations", "u.operation, NULL", "u.operation", "operation",
                             NULL, 0};
const qg_by qg_totals = {"", "'', NULL", "1", NULL, NULL, 1};

void qg_groups_free(qg_groups *g) {
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].a);
        free(g->v[i].b);
        buf_free(&g->v[i].series);
    }
    free(g->v);
    memset(g, 0, sizeof(*g));
}

static int qg_same(const char *x, const char *y) {
    return x == NULL ? y == NULL : y != NULL && strcmp(x, y) == 0;
}

/* The group of keys (a, b): the last one when they are its keys (rows come
 * ordered by key), else a new one. NULL when out of memory. */
qg_group *qg_group_at(qg_groups *g, const char *a, const char *b) {
    if (g->n > 0 && qg_same(g->v[g->n - 1].a, a) && qg_same(g->v[g->n - 1].b, b))
        return &g->v[g->n - 1];
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        qg_group *v = realloc(g->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    qg_group *x = &g->v[g->n];
    memset(x, 0, sizeof(*x));
    buf_init(&x->series, (size_t)8 << 20);
    g->n++;
    x->a = strdup(a ? a : "");
    x->b = b ? strdup(b) : NULL;
    if (x->a == NULL || (b != NULL && x->b == NULL))
        return NULL;
    return x;
}

/* The figures of calls: those of an operation, and tokens. */
static void qg_figures(jw *w, int64_t calls, int64_t errors, int64_t in, int64_t out,
                       const rollup_hist *h, double seconds) {
    qa_op_figures(w, calls, errors, h, seconds);
    jw_key(w, "inputTokens");
    jw_int(w, in);
    jw_key(w, "outputTokens");
    jw_int(w, out);
}

/* One step of a series, appended to x->series. */
static int qg_series_item(qg_group *x, uint64_t t, int64_t calls, int64_t errors, int64_t in,
                          int64_t out, const rollup_hist *h) {
    return buf_printf(&x->series,
                      "%s{\"timeUnixNano\":\"%llu\",\"calls\":%lld,\"errors\":%lld,"
                      "\"inputTokens\":%lld,\"outputTokens\":%lld,\"p50Ns\":%llu,"
                      "\"p99Ns\":%llu}",
                      x->series.len ? "," : "", (unsigned long long)t, (long long)calls,
                      (long long)errors, (long long)in, (long long)out,
                      (unsigned long long)rollup_hist_quantile(h, 0.5),
                      (unsigned long long)rollup_hist_quantile(h, 0.99)) == BUF_OK
               ? QUERY_OK
               : QUERY_ETOOBIG;
}

int qg_group_add(qg_group *x, const qg_by *by, uint64_t t, int64_t calls, int64_t errors,
                 int64_t in, int64_t out, const rollup_hist *h) {
    x->calls += calls;
    x->errors += errors;
    x->in += in;
    x->out += out;
    for (int b = 0; b < ROLLUP_BUCKETS; b++)
        x->total.n[b] += h->n[b];
    return by->series ? qg_series_item(x, t, calls, errors, in, out, h) : QUERY_OK;
}

/* The groups of `by` over window w in steps of stepm minutes. */
static int qg_collect(store_reader *r, const qa_window *w, int64_t stepm, const qg_by *by,
                      qg_groups *g) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT ");
    qsql_add(&q, by->keys);
    if (by->series) {
        qsql_add(&q, ", (u.minute-");
        qsql_int(&q, w->lo);
        qsql_add(&q, ")/");
        qsql_int(&q, stepm);
        qsql_add(&q, " AS k");
    } else {
        qsql_add(&q, ", 0 AS k");
    }
    qsql_add(&q, ", sum(u.calls), sum(u.errors), sum(u.input_tokens), sum(u.output_tokens),"
                 " loupe_hist_sum(u.hist) FROM ");
    qa_union(&q, r, MODEL_SIGNAL_TRACES, w, QG_COLS, 0, QG_EMPTY);
    qsql_add(&q, " u LEFT JOIN services sv ON sv.id=u.service WHERE u.calls IS NOT NULL"
                 " GROUP BY ");
    qsql_add(&q, by->group);
    qsql_add(&q, ", k ORDER BY ");
    qsql_add(&q, by->group);
    qsql_add(&q, ", k");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    int s = SQLITE_DONE;
    rollup_hist *h = malloc(sizeof(*h));
    if (rc == QUERY_OK && h == NULL)
        rc = QUERY_ENOMEM;
    while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        qg_group *x = qg_group_at(g, (const char *)sqlite3_column_text(st, 0),
                                  (const char *)sqlite3_column_text(st, 1));
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        memset(h, 0, sizeof(*h));
        rollup_hist_add_blob(h, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7));
        uint64_t t = (uint64_t)(w->lo + sqlite3_column_int64(st, 2) * stepm) * ROLLUP_MINUTE_NS;
        rc = qg_group_add(x, by, t, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
                          sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6), h);
    }
    if (rc == QUERY_OK && query_step_done(r, s) != SQLITE_DONE)
        rc = QUERY_EDB;
    free(h);
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* Most calls first, then by key. */
static int qg_cmp(const void *pa, const void *pb) {
    const qg_group *a = pa, *b = pb;
    if (a->calls != b->calls)
        return a->calls > b->calls ? -1 : 1;
    int c = strcmp(a->a, b->a);
    if (c != 0)
        return c;
    return strcmp(a->b ? a->b : "", b->b ? b->b : "");
}

/* One group as a JSON object (its keys, figures and series). */
static void qg_group_write(jw *w, const qg_by *by, const qg_group *x, double seconds) {
    jw_object_begin(w);
    if (by->fields != NULL) {
        jw_key(w, by->fields);
        jw_string(w, x->a);
    }
    if (by->field2 != NULL) {
        jw_key(w, by->field2);
        jw_string(w, x->b ? x->b : "");
    }
    qg_figures(w, x->calls, x->errors, x->in, x->out, &x->total, seconds);
    if (by->series) {
        jw_key(w, "series");
        jw_array_begin(w);
        jw_raw(w, x->series.ptr ? x->series.ptr : "", x->series.len);
        jw_array_end(w);
    }
    jw_object_end(w);
}

void qg_list_write(jw *w, const qg_by *by, qg_groups *g, double seconds) {
    if (g->n > 1)
        qsort(g->v, g->n, sizeof(*g->v), qg_cmp);
    jw_key(w, by->name);
    jw_array_begin(w);
    for (size_t i = 0; i < g->n && i < QG_GROUPS_MAX; i++)
        qg_group_write(w, by, &g->v[i], seconds);
    jw_array_end(w);
}

void qg_totals_emit(jw *w, const qg_groups *g, double seconds) {
    qg_group none;
    memset(&none, 0, sizeof(none));
    const qg_group *x = g->n ? &g->v[0] : &none;
    jw_key(w, "totals");
    jw_object_begin(w);
    qg_figures(w, x->calls, x->errors, x->in, x->out, &x->total, seconds);
    jw_object_end(w);
    jw_key(w, "series");
    jw_array_begin(w);
    jw_raw(w, x->series.ptr ? x->series.ptr : "", x->series.len);
    jw_array_end(w);
}

void qg_head_write(jw *w, const qa_window *win, int64_t stepm) {
    jw_key(w, "stepNs");
    jw_uint(w, (uint64_t)stepm * ROLLUP_MINUTE_NS);
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, (uint64_t)win->lo * ROLLUP_MINUTE_NS);
    jw_key(w, "endTimeUnixNano");
    jw_uint_string(w, (uint64_t)win->hi * ROLLUP_MINUTE_NS);
}

/* "name": [groups], most calls first, at most QG_GROUPS_MAX. */
static int qg_list(store_reader *r, const qa_window *win, int64_t stepm, const qg_by *by, jw *w) {
    qg_groups g = {0};
    int rc = qg_collect(r, win, stepm, by, &g);
    if (rc == QUERY_OK)
        qg_list_write(w, by, &g, win->seconds);
    qg_groups_free(&g);
    return rc;
}

/* "totals" (the window's figures) and "series" (per step, all calls). */
static int qg_totals_write(store_reader *r, const qa_window *win, int64_t stepm, jw *w) {
    qg_groups g = {0};
    int rc = qg_collect(r, win, stepm, &qg_totals, &g);
    if (rc == QUERY_OK)
        qg_totals_emit(w, &g, win->seconds);
    qg_groups_free(&g);
    return rc;
}

/* ---- the top calls ---------------------------------------------------------------- */

/* "name": the window's GENAI_TOP_PER_MINUTE best calls of ranking kind
 * (0 duration, 1 tokens), best first. */
static int qg_top(store_reader *r, const qa_window *win, int kind, const char *name, jw *w) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT u.trace_id, u.span_id, coalesce(sv.name,''), u.name, u.provider,"
                 " u.model, u.operation, u.start_ns, u.duration_ns, u.input_tokens,"
                 " u.output_tokens, u.error FROM ");
    qa_union(&q, r, MODEL_SIGNAL_TRACES, win, QG_TOP_COLS, 0, QG_TOP_EMPTY);
    qsql_add(&q, " u LEFT JOIN services sv ON sv.id=u.service WHERE u.kind=");
    qsql_int(&q, kind);
    qsql_add(&q, " ORDER BY u.value DESC, u.start_ns DESC LIMIT ");
    qsql_int(&q, GENAI_TOP_PER_MINUTE);
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    int s = SQLITE_DONE;
    if (rc == QUERY_OK) {
        jw_key(w, name);
        jw_array_begin(w);
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            jw_object_begin(w);
            jw_key(w, "traceId");
            query_id(w, st, 0, 16);
            jw_key(w, "spanId");
            query_id(w, st, 1, 8);
            static const char *const texts[] = {"service", "name", "provider", "model",
                                                "operation"};
            for (int i = 0; i < 5; i++) {
                jw_key(w, texts[i]);
                query_text(w, st, 2 + i);
            }
            jw_key(w, "startTimeUnixNano");
            jw_uint_string(w, query_u64(st, 7));
            jw_key(w, "durationNs");
            jw_uint(w, query_u64(st, 8));
            jw_key(w, "inputTokens");
            jw_int(w, sqlite3_column_int64(st, 9));
            jw_key(w, "outputTokens");
            jw_int(w, sqlite3_column_int64(st, 10));
            jw_key(w, "error");
            jw_bool(w, sqlite3_column_int(st, 11) != 0);
            jw_object_end(w);
        }
        jw_array_end(w);
        if (query_step_done(r, s) != SQLITE_DONE)
            rc = QUERY_EDB;
    }
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* ---- the answer ----------------------------------------------------------------------- */

int query_genai(store_reader *r, const query_genai_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_genai(r, p, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    qa_window win;
    int64_t stepm = 1;
    qa_window_of(r, MODEL_SIGNAL_TRACES, p->has_start, p->start_ns, p->has_end, p->end_ns, &win);
    int rc = qa_step(p->step_ns, &win, &stepm);
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        jw_object_begin(&w);
        qg_head_write(&w, &win, stepm);
        rc = qg_totals_write(r, &win, stepm, &w);
        if (rc == QUERY_OK)
            rc = qg_list(r, &win, stepm, &qg_models, &w);
        if (rc == QUERY_OK)
            rc = qg_list(r, &win, stepm, &qg_services, &w);
        if (rc == QUERY_OK)
            rc = qg_list(r, &win, stepm, &qg_operations, &w);
        if (rc == QUERY_OK)
            rc = qg_top(r, &win, 0, "slowest", &w);
        if (rc == QUERY_OK)
            rc = qg_top(r, &win, 1, "mostExpensive", &w);
        if (rc == QUERY_OK && store_reader_timed_out(r)) {
            jw_key(&w, "partial");
            jw_bool(&w, 1);
        }
        jw_object_end(&w);
        if (rc == QUERY_OK)
            rc = query_finish(&w, SQLITE_DONE);
    }
    store_reader_end(r);
    return rc;
}
