/* query_analytics.c - answers from the per-minute rollups (rollup.h): the
 * service map, rate/errors/duration (RED) per service and per operation,
 * counts of a time range; see query.h.
 *
 * DESIGN
 * Every trace segment keeps per-minute rollups of its spans (store_rollup.c):
 * entry operations (SERVER and CONSUMER spans and roots) with duration
 * histograms, service-to-service edges, client calls by peer, and item
 * counts per service. A query sums the rows of the minutes it covers in
 * each segment that can hold them (SQL GROUP BY, histograms merged by
 * loupe_hist_sum), then merges the segments' sums in C. Nothing scans
 * spans: the cost grows with services x operations x minutes, not with the
 * number of spans. Windows are whole minutes: a window covers the minutes
 * that overlap it, so figures near its ends include up to a minute more.
 * Percentiles come from the histograms' buckets: within 4.5% (rollup.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "model.h"
#include "query.h"
#include "query_internal.h"
#include "rollup.h"

/* ---- the window ---------------------------------------------------------------- */

#define QA_MINUTE ((int64_t)ROLLUP_MINUTE_NS)

void qa_window_of(store_reader *r, model_signal sig, int has_start, uint64_t start,
                         int has_end, uint64_t end, qa_window *w) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    const seg_meta *segs;
    size_t n;
    store_reader_segs(r, sig, &segs, &n);
    for (size_t i = 0; i < n; i++) {
        if (segs[i].items == 0 || segs[i].max_time == SEG_NO_MAX)
            continue;
        if (segs[i].min_time < lo)
            lo = segs[i].min_time;
        if (segs[i].max_time > hi)
            hi = segs[i].max_time;
    }
    int64_t s = has_start ? query_i64(start) : (lo == INT64_MAX ? 0 : lo);
    int64_t e = has_end ? query_i64(end) : (hi == INT64_MIN ? 0 : hi + 1);
    if (e < s)
        e = s;
    w->lo = s / QA_MINUTE;
    w->hi = (e + QA_MINUTE - 1) / QA_MINUTE;
    if (w->hi <= w->lo)
        w->hi = w->lo + 1;
    w->seconds = has_start && has_end ? (double)(e - s) / 1e9 : (double)(w->hi - w->lo) * 60.0;
    if (w->seconds <= 0)
        w->seconds = 60.0;
}

/* 1 when segment m may hold rollup rows of window w. */
static int qa_seg_in(const seg_meta *m, const qa_window *w) {
    if (m->items == 0 || m->max_time == SEG_NO_MAX)
        return 0;
    return m->max_time / QA_MINUTE >= w->lo && m->min_time / QA_MINUTE < w->hi;
}

/* ---- sums -------------------------------------------------------------------------- */

/* What a key sums to across segments. */
typedef struct qa_sum {
    char *key;   /* owned: "service id" / "a>b" / "svc|peer" / "name\x1fkind" */
    int64_t a, b; /* ids, by table */
    int64_t calls, errors, matched;
    rollup_hist *h; /* owned, may be NULL */
} qa_sum;

typedef struct qa_sums {
    qa_sum *v;
    size_t n, cap;
} qa_sums;

static void qa_sums_free(qa_sums *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].h);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* The sum of key (a, b, text), made empty when new; NULL when out of
 * memory. A linear search: the keys are services, edges and peers of a
 * map, a few hundred at most. */
static qa_sum *qa_sum_get(qa_sums *s, int64_t a, int64_t b, const char *text) {
    for (size_t i = 0; i < s->n; i++) {
        qa_sum *x = &s->v[i];
        if (x->a == a && x->b == b &&
            (text == NULL ? x->key == NULL : x->key != NULL && strcmp(x->key, text) == 0))
            return x;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        qa_sum *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    qa_sum *x = &s->v[s->n];
    memset(x, 0, sizeof(*x));
    x->a = a;
    x->b = b;
    if (text != NULL && (x->key = strdup(text)) == NULL)
        return NULL;
    x->h = calloc(1, sizeof(*x->h));
    if (x->h == NULL) {
        free(x->key);
        return NULL;
    }
    s->n++;
    return x;
}

/* Runs the per-segment SQL `tmpl` (rows: a, b, text, calls, errors,
 * matched, hist; {N} the segment, ?1/?2 the window's minutes, ?3 a
 * service id when the template has it) over every trace segment of the
 * window and adds its rows to s. */
static int qa_collect(store_reader *r, const qa_window *w, const char *tmpl, int64_t service,
                      qa_sums *s) {
    const seg_meta *segs;
    size_t n;
    store_reader_segs(r, MODEL_SIGNAL_TRACES, &segs, &n);
    for (size_t i = 0; i < n && !store_reader_timed_out(r); i++) {
        if (!qa_seg_in(&segs[i], w))
            continue;
        sqlite3_stmt *st = NULL;
        if (seg_prepare(r->db, tmpl, segs[i].id, &st) != SQLITE_OK) {
            sqlite3_finalize(st);
            return QUERY_EDB;
        }
        sqlite3_bind_int64(st, 1, w->lo);
        sqlite3_bind_int64(st, 2, w->hi);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqlite3_bind_int64(st, 3, service);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            qa_sum *x = qa_sum_get(s, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                   (const char *)sqlite3_column_text(st, 2));
            if (x == NULL) {
                sqlite3_finalize(st);
                return QUERY_ENOMEM;
            }
            x->calls += sqlite3_column_int64(st, 3);
            x->errors += sqlite3_column_int64(st, 4);
            x->matched += sqlite3_column_int64(st, 5);
            rollup_hist_add_blob(x->h, sqlite3_column_blob(st, 6),
                                 (size_t)sqlite3_column_bytes(st, 6));
        }
        rc = query_step_done(r, rc);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return QUERY_EDB;
    }
    return QUERY_OK;
}

/* The name of service id (looked up), or "" (borrowed until the next
 * call with the same cache). */
typedef struct qa_names {
    sqlite3_stmt *st;
    int64_t last;
    char *name;
} qa_names;

static const char *qa_name(sqlite3 *db, qa_names *c, int64_t id) {
    if (c->name != NULL && c->last == id)
        return c->name;
    if (c->st == NULL &&
        sqlite3_prepare_v2(db, "SELECT name FROM services WHERE id=?1", -1, &c->st, NULL) !=
            SQLITE_OK)
        return "";
    free(c->name);
    c->name = NULL;
    sqlite3_bind_int64(c->st, 1, id);
    if (sqlite3_step(c->st) == SQLITE_ROW)
        c->name = strdup((const char *)sqlite3_column_text(c->st, 0));
    sqlite3_reset(c->st);
    c->last = id;
    return c->name ? c->name : "";
}

static void qa_names_free(qa_names *c) {
    sqlite3_finalize(c->st);
    free(c->name);
}

/* "calls", "errors", "p50Ns", "p99Ns" of a sum. */
static void qa_red(jw *w, const qa_sum *x) {
    jw_key(w, "calls");
    jw_int(w, x->calls);
    jw_key(w, "errors");
    jw_int(w, x->errors);
    jw_key(w, "p50Ns");
    jw_uint(w, rollup_hist_quantile(x->h, 0.5));
    jw_key(w, "p99Ns");
    jw_uint(w, rollup_hist_quantile(x->h, 0.99));
}

/* ---- the service map ------------------------------------------------------------------ */

#define QA_OPS_BY_SERVICE                                                                          \
    "SELECT service, 0, NULL, sum(calls), sum(errors), 0, loupe_hist_sum(hist) FROM ops_{N}"       \
    " WHERE minute>=?1 AND minute<?2 GROUP BY service"
#define QA_EDGES                                                                                   \
    "SELECT service, child, NULL, sum(calls), sum(errors), 0, loupe_hist_sum(hist) FROM edges_{N}" \
    " WHERE minute>=?1 AND minute<?2 GROUP BY service, child"
#define QA_CLIENTS                                                                                 \
    "SELECT service, 0, peer, sum(calls), sum(errors), sum(matched), loupe_hist_sum(hist)"         \
    " FROM clients_{N} WHERE minute>=?1 AND minute<?2 GROUP BY service, peer"

/* A node of the map: a service (a = its id) or a peer no instrumented
 * service answered (key). */
static void qa_node(jw *w, const char *id, const char *kind, const char *name, const qa_sum *x) {
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "kind");
    jw_string(w, kind);
    jw_key(w, "name");
    jw_string(w, name);
    qa_red(w, x);
    jw_object_end(w);
}

static void qa_edge(jw *w, const char *source, const char *target, const qa_sum *x) {
    jw_object_begin(w);
    jw_key(w, "source");
    jw_string(w, source);
    jw_key(w, "target");
    jw_string(w, target);
    qa_red(w, x);
    jw_object_end(w);
}

/* A peer (service, key) that no instrumented child answered in the window
 * (the sums are per (service, key) over every minute and segment). */
static int qa_peer_virtual(const qa_sums *clients, const qa_sum *x) {
    return x->matched == 0 && x->calls > 0 && clients != NULL;
}

static int qa_map_write(store_reader *r, qa_sums *ops, qa_sums *edges, qa_sums *clients,
                        buf *out) {
    qa_names names = {0};
    /* every service that appears: entry ops, either end of an edge, a
     * client */
    qa_sums nodes = {0};
    int rc = QUERY_OK;
    for (size_t i = 0; i < ops->n && rc == QUERY_OK; i++) {
        qa_sum *x = qa_sum_get(&nodes, ops->v[i].a, 0, NULL);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        x->calls += ops->v[i].calls;
        x->errors += ops->v[i].errors;
        for (int b = 0; b < ROLLUP_BUCKETS; b++)
            x->h->n[b] += ops->v[i].h->n[b];
    }
    for (size_t i = 0; i < edges->n && rc == QUERY_OK; i++)
        if (qa_sum_get(&nodes, edges->v[i].a, 0, NULL) == NULL ||
            qa_sum_get(&nodes, edges->v[i].b, 0, NULL) == NULL)
            rc = QUERY_ENOMEM;
    for (size_t i = 0; i < clients->n && rc == QUERY_OK; i++)
        if (qa_sum_get(&nodes, clients->v[i].a, 0, NULL) == NULL)
            rc = QUERY_ENOMEM;
    /* virtual nodes: peers by key, summed over their callers */
    qa_sums peers = {0};
    for (size_t i = 0; i < clients->n && rc == QUERY_OK; i++) {
        const qa_sum *c = &clients->v[i];
        if (!qa_peer_virtual(clients, c))
            continue;
        qa_sum *x = qa_sum_get(&peers, 0, 0, c->key);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        x->calls += c->calls;
        x->errors += c->errors;
        for (int b = 0; b < ROLLUP_BUCKETS; b++)
            x->h->n[b] += c->h->n[b];
    }
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        jw_object_begin(&w);
        jw_key(&w, "nodes");
        jw_array_begin(&w);
        for (size_t i = 0; i < nodes.n; i++) {
            const char *name = qa_name(r->db, &names, nodes.v[i].a);
            qa_node(&w, name, "service", name, &nodes.v[i]);
        }
        for (size_t i = 0; i < peers.n; i++) {
            const char *key = peers.v[i].key, *colon = strchr(key, ':');
            qa_node(&w, key, rollup_peer_kind(key), colon ? colon + 1 : key, &peers.v[i]);
        }
        jw_array_end(&w);
        jw_key(&w, "edges");
        jw_array_begin(&w);
        for (size_t i = 0; i < edges->n; i++) {
            char *src = strdup(qa_name(r->db, &names, edges->v[i].a));
            const char *dst = qa_name(r->db, &names, edges->v[i].b);
            qa_edge(&w, src ? src : "", dst, &edges->v[i]);
            free(src);
        }
        for (size_t i = 0; i < clients->n; i++) {
            const qa_sum *c = &clients->v[i];
            if (qa_peer_virtual(clients, c))
                qa_edge(&w, qa_name(r->db, &names, c->a), c->key, c);
        }
        jw_array_end(&w);
        if (store_reader_timed_out(r)) {
            jw_key(&w, "partial");
            jw_bool(&w, 1);
        }
        jw_object_end(&w);
        rc = query_finish(&w, SQLITE_DONE);
    }
    qa_sums_free(&nodes);
    qa_sums_free(&peers);
    qa_names_free(&names);
    return rc;
}

int query_service_map(store_reader *r, const query_window_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_service_map(r, p, out);
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    qa_window win;
    qa_window_of(r, MODEL_SIGNAL_TRACES, p->has_start, p->start_ns, p->has_end, p->end_ns, &win);
    qa_sums ops = {0}, edges = {0}, clients = {0};
    int rc = qa_collect(r, &win, QA_OPS_BY_SERVICE, 0, &ops);
    if (rc == QUERY_OK)
        rc = qa_collect(r, &win, QA_EDGES, 0, &edges);
    if (rc == QUERY_OK)
        rc = qa_collect(r, &win, QA_CLIENTS, 0, &clients);
    if (rc == QUERY_OK) {
        store_reader_relax(r);
        rc = qa_map_write(r, &ops, &edges, &clients, out);
    }
    qa_sums_free(&ops);
    qa_sums_free(&edges);
    qa_sums_free(&clients);
    store_reader_end(r);
    return rc;
}

/* ---- one union over the segments ------------------------------------------------------ */

void qa_union(qsql *q, store_reader *r, model_signal sig, const qa_window *w,
                     const char *select_from, int64_t sid, const char *empty) {
    const seg_meta *segs;
    size_t n, arms = 0;
    store_reader_segs(r, sig, &segs, &n);
    qsql_add(q, "(");
    for (size_t i = 0; i < n; i++) {
        if (!qa_seg_in(&segs[i], w))
            continue;
        qsql_seg(q, segs[i].id);
        if (arms++)
            qsql_add(q, " UNION ALL ");
        qsql_add(q, select_from);
        qsql_add(q, " WHERE minute>=");
        qsql_int(q, w->lo);
        qsql_add(q, " AND minute<");
        qsql_int(q, w->hi);
        if (sid > 0) {
            qsql_add(q, " AND service=");
            qsql_int(q, sid);
        }
    }
    qsql_seg(q, 0);
    if (arms == 0)
        qsql_add(q, empty);
    qsql_add(q, ")");
}

/* ---- operations of a service ------------------------------------------------------------ */

#define QA_OPS_COLS "SELECT name, minute, calls, errors, hist FROM ops_{N}"
#define QA_OPS_EMPTY                                                                               \
    "SELECT NULL AS name, NULL AS minute, NULL AS calls, NULL AS errors, NULL AS hist WHERE 0"

int qa_step(uint64_t step_ns, const qa_window *w, int64_t *minutes) {
    int64_t span = w->hi - w->lo;
    int64_t m = step_ns ? (int64_t)((step_ns + ROLLUP_MINUTE_NS - 1) / ROLLUP_MINUTE_NS)
                        : (span + 59) / 60;
    if (m < 1)
        m = 1;
    if ((span + m - 1) / m > QUERY_MAX_STEPS)
        return QUERY_EINVAL;
    *minutes = m;
    return QUERY_OK;
}

void qa_op_figures(jw *w, int64_t calls, int64_t errors, const rollup_hist *h,
                          double seconds) {
    jw_key(w, "calls");
    jw_int(w, calls);
    jw_key(w, "errors");
    jw_int(w, errors);
    jw_key(w, "rate");
    jw_double(w, (double)calls / seconds);
    jw_key(w, "errorRate");
    jw_double(w, calls ? (double)errors / (double)calls : 0.0);
    jw_key(w, "p50Ns");
    jw_uint(w, rollup_hist_quantile(h, 0.5));
    jw_key(w, "p95Ns");
    jw_uint(w, rollup_hist_quantile(h, 0.95));
    jw_key(w, "p99Ns");
    jw_uint(w, rollup_hist_quantile(h, 0.99));
}

/* Rows (name, k, calls, errors, hist) by operation then step. */
static int qa_ops_rows(store_reader *r, const qa_window *w, int64_t sid, int64_t stepm,
                       sqlite3_stmt **st, qsql *q) {
    qsql_add(q, "SELECT name, (minute-");
    qsql_int(q, w->lo);
    qsql_add(q, ")/");
    qsql_int(q, stepm);
    qsql_add(q, " AS k, sum(calls), sum(errors), loupe_hist_sum(hist) FROM ");
    qa_union(q, r, MODEL_SIGNAL_TRACES, w, QA_OPS_COLS, sid, QA_OPS_EMPTY);
    qsql_add(q, " GROUP BY name, k ORDER BY name, k");
    return qsql_prepare(q, r->db, st);
}

/* Writes one operation: its figures over the window, then its series. */
typedef struct qa_op {
    char *name;
    int64_t calls, errors;
    rollup_hist total;
    buf series; /* the series items, as JSON, comma-separated */
} qa_op;

int query_operations(store_reader *r, const query_ops_params *p, buf *out) {
    if (r->ch != NULL) /* a ClickHouse store */
        return chq_operations(r, p, out);
    if (p == NULL || p->service == NULL)
        return QUERY_EINVAL;
    if (store_reader_begin(r) != SQLITE_OK)
        return QUERY_EDB;
    int64_t sid = 0;
    int rc = query_service_id(r->db, p->service, &sid);
    if (rc == QUERY_OK && sid == 0)
        rc = QUERY_ENOTFOUND;
    qa_window win;
    int64_t stepm = 1;
    if (rc == QUERY_OK) {
        qa_window_of(r, MODEL_SIGNAL_TRACES, p->has_start, p->start_ns, p->has_end, p->end_ns,
                     &win);
        rc = qa_step(p->step_ns, &win, &stepm);
    }
    qsql q;
    qsql_init(&q);
    sqlite3_stmt *st = NULL;
    if (rc == QUERY_OK)
        rc = qa_ops_rows(r, &win, sid, stepm, &st, &q);
    qa_op *ops = NULL;
    size_t nops = 0, cap = 0;
    int s = SQLITE_DONE;
    while (rc == QUERY_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name == NULL)
            continue;
        if (nops == 0 || strcmp(ops[nops - 1].name, name) != 0) {
            if (nops == cap) {
                size_t nc = cap ? 2 * cap : 16;
                qa_op *n = realloc(ops, nc * sizeof(*n));
                if (n == NULL) {
                    rc = QUERY_ENOMEM;
                    break;
                }
                ops = n;
                cap = nc;
            }
            qa_op *o = &ops[nops++];
            memset(o, 0, sizeof(*o));
            buf_init(&o->series, (size_t)8 << 20);
            if ((o->name = strdup(name)) == NULL) {
                rc = QUERY_ENOMEM;
                break;
            }
        }
        qa_op *o = &ops[nops - 1];
        rollup_hist h;
        memset(&h, 0, sizeof(h));
        rollup_hist_add_blob(&h, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
        int64_t calls = sqlite3_column_int64(st, 2), errors = sqlite3_column_int64(st, 3);
        o->calls += calls;
        o->errors += errors;
        for (int b = 0; b < ROLLUP_BUCKETS; b++)
            o->total.n[b] += h.n[b];
        int64_t k = sqlite3_column_int64(st, 1);
        uint64_t t = (uint64_t)(win.lo + k * stepm) * ROLLUP_MINUTE_NS;
        if (buf_printf(&o->series,
                       "%s{\"timeUnixNano\":\"%llu\",\"calls\":%lld,\"errors\":%lld,"
                       "\"p99Ns\":%llu}",
                       o->series.len ? "," : "", (unsigned long long)t, (long long)calls,
                       (long long)errors,
                       (unsigned long long)rollup_hist_quantile(&h, 0.99)) != BUF_OK)
            rc = QUERY_ETOOBIG;
    }
    if (rc == QUERY_OK && query_step_done(r, s) != SQLITE_DONE)
        rc = QUERY_EDB;
    if (rc == QUERY_OK) {
        jw w;
        jw_init(&w, out);
        jw_object_begin(&w);
        jw_key(&w, "service");
        jw_string(&w, p->service);
        jw_key(&w, "stepNs");
        jw_uint(&w, (uint64_t)stepm * ROLLUP_MINUTE_NS);
        jw_key(&w, "startTimeUnixNano");
        jw_uint_string(&w, (uint64_t)win.lo * ROLLUP_MINUTE_NS);
        jw_key(&w, "endTimeUnixNano");
        jw_uint_string(&w, (uint64_t)win.hi * ROLLUP_MINUTE_NS);
        jw_key(&w, "operations");
        jw_array_begin(&w);
        for (size_t i = 0; i < nops; i++) {
            jw_object_begin(&w);
            jw_key(&w, "name");
            jw_string(&w, ops[i].name);
            qa_op_figures(&w, ops[i].calls, ops[i].errors, &ops[i].total, win.seconds);
            jw_key(&w, "series");
            jw_array_begin(&w);
            jw_raw(&w, ops[i].series.ptr ? ops[i].series.ptr : "", ops[i].series.len);
            jw_array_end(&w);
            jw_object_end(&w);
        }
        jw_array_end(&w);
        if (store_reader_timed_out(r)) {
            jw_key(&w, "partial");
            jw_bool(&w, 1);
        }
        jw_object_end(&w);
        rc = query_finish(&w, SQLITE_DONE);
    }
    for (size_t i = 0; i < nops; i++) {
        free(ops[i].name);
        buf_free(&ops[i].series);
    }
    free(ops);
    sqlite3_finalize(st);
    qsql_free(&q);
    store_reader_end(r);
    return rc;
}

/* ---- services over a window --------------------------------------------------------------- */

#define QA_COUNTS_COLS "SELECT service, minute, items, errors FROM counts_{N}"
#define QA_COUNTS_EMPTY                                                                            \
    "SELECT NULL AS service, NULL AS minute, NULL AS items, NULL AS errors WHERE 0"
#define QA_ENTRY_COLS "SELECT service, minute, calls, errors, hist FROM ops_{N}"
#define QA_ENTRY_EMPTY                                                                             \
    "SELECT NULL AS service, NULL AS minute, NULL AS calls, NULL AS errors, NULL AS hist WHERE 0"

static qa_svc *qa_svc_get(qa_svcs *s, int64_t id) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].id == id)
            return &s->v[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        qa_svc *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    qa_svc *x = &s->v[s->n];
    memset(x, 0, sizeof(*x));
    x->id = id;
    x->hist = calloc(1, sizeof(*x->hist));
    if (x->hist == NULL)
        return NULL;
    s->n++;
    return x;
}

void qa_svcs_free(qa_svcs *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].hist);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Adds one signal's item counts (counts_N) of the window to s. */
static int qa_svc_counts(store_reader *r, const qa_window *w, model_signal sig, qa_svcs *s) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT service, sum(items), sum(errors) FROM ");
    qa_union(&q, r, sig, w, QA_COUNTS_COLS, 0, QA_COUNTS_EMPTY);
    qsql_add(&q, " GROUP BY service");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    int x = SQLITE_DONE;
    while (rc == QUERY_OK && (x = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue;
        qa_svc *v = qa_svc_get(s, sqlite3_column_int64(st, 0));
        if (v == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        int64_t n = sqlite3_column_int64(st, 1);
        if (sig == MODEL_SIGNAL_TRACES) {
            v->spans += n;
            v->errors += sqlite3_column_int64(st, 2);
        } else if (sig == MODEL_SIGNAL_LOGS) {
            v->logs += n;
        } else {
            v->points += n;
        }
    }
    if (rc == QUERY_OK && query_step_done(r, x) != SQLITE_DONE)
        rc = QUERY_EDB;
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

/* Adds the entry operations' figures (requests, failures, durations) of
 * the window to s. */
static int qa_svc_entries(store_reader *r, const qa_window *w, qa_svcs *s) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT service, sum(calls), sum(errors), loupe_hist_sum(hist) FROM ");
    qa_union(&q, r, MODEL_SIGNAL_TRACES, w, QA_ENTRY_COLS, 0, QA_ENTRY_EMPTY);
    qsql_add(&q, " GROUP BY service");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, r->db, &st);
    int x = SQLITE_DONE;
    while (rc == QUERY_OK && (x = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue;
        qa_svc *v = qa_svc_get(s, sqlite3_column_int64(st, 0));
        if (v == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        v->requests += sqlite3_column_int64(st, 1);
        v->failed += sqlite3_column_int64(st, 2);
        rollup_hist_add_blob(v->hist, sqlite3_column_blob(st, 3),
                             (size_t)sqlite3_column_bytes(st, 3));
    }
    if (rc == QUERY_OK && query_step_done(r, x) != SQLITE_DONE)
        rc = QUERY_EDB;
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

int qa_services(store_reader *r, const query_window_params *p, int counts, qa_svcs *s,
                double *seconds) {
    qa_window win;
    qa_window_of(r, MODEL_SIGNAL_TRACES, p && p->has_start, p ? p->start_ns : 0,
                 p && p->has_end, p ? p->end_ns : 0, &win);
    *seconds = win.seconds;
    int rc = qa_svc_entries(r, &win, s);
    if (rc != QUERY_OK || !counts)
        return rc;
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT && rc == QUERY_OK; sig++) {
        qa_window sw;
        qa_window_of(r, (model_signal)sig, p->has_start, p->start_ns, p->has_end, p->end_ns,
                     &sw);
        rc = qa_svc_counts(r, &sw, (model_signal)sig, s);
    }
    return rc;
}

const qa_svc *qa_svc_find(const qa_svcs *s, int64_t id) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].id == id)
            return &s->v[i];
    return NULL;
}

void qa_svc_red(jw *w, const qa_svc *v, double seconds) {
    int64_t req = v ? v->requests : 0, failed = v ? v->failed : 0;
    jw_key(w, "requests");
    jw_int(w, req);
    jw_key(w, "failedRequests");
    jw_int(w, failed);
    jw_key(w, "rate");
    jw_double(w, (double)req / seconds);
    jw_key(w, "errorRate");
    jw_double(w, req ? (double)failed / (double)req : 0.0);
    jw_key(w, "p50Ns");
    jw_uint(w, v ? rollup_hist_quantile(v->hist, 0.5) : 0);
    jw_key(w, "p99Ns");
    jw_uint(w, v ? rollup_hist_quantile(v->hist, 0.99) : 0);
}
