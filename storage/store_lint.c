/* store_lint.c - the instrumentation lint at ingest: the rules of lint.h
 * run on every batch as the writer writes it, and their findings kept per
 * segment; see lint.h and store_internal.h.
 *
 * DESIGN
 * While a batch is written its findings are summed in memory by (segment,
 * rule, service, key): a count, the first and last arrival, a note, the
 * first five items as examples. At the end of the batch each sum becomes
 * one upsert into its segment's lint_N, in the batch's transaction, so
 * findings commit and roll back with the items they are about. A finding
 * goes to the segment that holds its item (a span's trace segment, a
 * record's log segment, a point's metric segment): retention drops a
 * segment's findings with it, so an example never points at an evicted
 * item, and a delete of one service's telemetry deletes that service's
 * rows (store_delete.c). Counts add up across segments, except
 * high-cardinality-metric's, which is a level (the metric's attribute
 * sets): the largest wins.
 *
 * Parents: the rollup (store_rollup.c) already joins each child to its
 * parent; it hands every join to store_lint_pair() (clock skew, the kind
 * of an incoming HTTP span whose parent is in another service) and keeps
 * the children still waiting, which store_lint_sweep() judges once after
 * the grace period: an orphan unless the parent is in the child's segment
 * after all (the rollup's cache of recent spans is bounded, and empty
 * after a restart).
 *
 * Attribute sets per metric: the store already keeps one series row per
 * (metric, attribute set); the lint counts them per metric (read from the
 * database the first time a metric is seen, then one more per new series),
 * so it needs no set of its own. When a metric passes the limit, the
 * attribute with the most distinct values among its latest series is
 * looked up once (and again each time the count doubles).
 *
 * Cost: a clean item costs the checks of lint.h and nothing else; only
 * findings touch the sums. The lint never fails a batch for itself: a
 * finding that cannot be summed for want of memory is lost. All of it is
 * the writer thread's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/jw.h"
#include "util/log.h"
#include "util/utf8.h"
#include "segment.h"
#include "store_internal.h"

#define SL_EXAMPLES 5
#define SL_KEY_MAX 256
#define SL_NOTE_MAX 240
#define SL_EXAMPLES_MAX ((size_t)64 << 10)
#define SL_NAME_SLOTS 1024          /* service names by id; a power of two */
#define SL_METRIC_SLOTS ((size_t)1 << 14) /* metrics' attribute-set counts */
#define SL_SWEEP_NS 1000000000ULL
#define SL_SAMPLE_FACTOR 4 /* series read to name the exploding attribute: 4 x the limit */
#define SL_DEP_MEMO 8      /* deprecated attributes remembered per resource */

/* One finding's sums in this batch. */
typedef struct sl_acc {
    int64_t seg, service;
    int rule;
    int level; /* count is a level: the largest wins */
    char key[SL_KEY_MAX];
    uint64_t h;
    int64_t count;
    uint64_t first, last;
    char note[SL_NOTE_MAX];
    int n_ex;
    buf ex; /* the examples' JSON objects, comma-separated */
} sl_acc;

/* The item a finding is about, for its example. */
typedef struct sl_item {
    model_signal signal;
    const uint8_t *trace_id, *span_id; /* NULL when the item has none */
    uint64_t time;
    const model_str *metric; /* points */
} sl_item;

typedef struct sl_name {
    int64_t id;
    char *name; /* owned */
} sl_name;

typedef struct sl_metric {
    int64_t row;    /* 0 = free */
    int64_t series; /* attribute sets stored */
    int64_t noted;  /* the series count the note was made at; 0 = none */
    char *note;     /* owned */
} sl_metric;

/* What one resource (of this batch) brings to each of its items. */
typedef struct sl_res_memo {
    const model_resource *res;
    int unnamed;
    uint64_t sdk_dropped;
    model_limited limited;
    const lint_deprecated *dep[SL_DEP_MEMO];
    int n_dep;
} sl_res_memo;

struct store_lint {
    sqlite3 *db; /* the writer's; borrowed */
    uint64_t grace_ns;
    int64_t max_series;
    uint64_t now;        /* wall clock: arrival of the batch being written */
    uint64_t next_sweep; /* monotonic */
    sl_acc *accs;
    size_t n, cap;
    uint32_t *table; /* acc index + 1, open addressing */
    size_t table_cap;
    sl_res_memo memo;
    sl_name names[SL_NAME_SLOTS];
    sl_metric *metrics;
    size_t n_metrics;
    sl_metric *last_metric; /* the previous point's, most points share it */
    buf examples;           /* a flush's "[...]" */
    sqlite3_stmt *st_series_count, *st_series_top, *st_service_name;
};

/* ---- life --------------------------------------------------------------------------- */

store_lint *store_lint_new(sqlite3 *db, uint64_t orphan_grace_ns, uint64_t max_series) {
    store_lint *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->metrics = calloc(SL_METRIC_SLOTS, sizeof(*l->metrics));
    if (l->metrics == NULL) {
        free(l);
        return NULL;
    }
    l->db = db;
    l->grace_ns = orphan_grace_ns ? orphan_grace_ns : LINT_DEFAULT_ORPHAN_GRACE_NS;
    l->max_series = (int64_t)(max_series ? max_series : LINT_DEFAULT_MAX_SERIES);
    buf_init(&l->examples, SL_EXAMPLES * SL_EXAMPLES_MAX + 2);
    return l;
}

static void sl_accs_clear(store_lint *l) {
    for (size_t i = 0; i < l->n; i++)
        buf_free(&l->accs[i].ex);
    l->n = 0;
    if (l->table != NULL)
        memset(l->table, 0, l->table_cap * sizeof(*l->table));
}

void store_lint_forget(store_lint *l) {
    if (l == NULL)
        return;
    for (size_t i = 0; i < SL_NAME_SLOTS; i++) {
        free(l->names[i].name);
        l->names[i].name = NULL;
        l->names[i].id = 0;
    }
    for (size_t i = 0; i < SL_METRIC_SLOTS; i++) {
        free(l->metrics[i].note);
        memset(&l->metrics[i], 0, sizeof(l->metrics[i]));
    }
    l->n_metrics = 0;
    l->last_metric = NULL;
}

void store_lint_free(store_lint *l) {
    if (l == NULL)
        return;
    sl_accs_clear(l);
    store_lint_forget(l);
    sqlite3_finalize(l->st_series_count);
    sqlite3_finalize(l->st_series_top);
    sqlite3_finalize(l->st_service_name);
    free(l->accs);
    free(l->table);
    free(l->metrics);
    buf_free(&l->examples);
    free(l);
}

void store_lint_reset(store_lint *l) {
    if (l == NULL)
        return;
    sl_accs_clear(l);
    memset(&l->memo, 0, sizeof(l->memo)); /* the batch's resources are gone */
    l->last_metric = NULL;
    l->now = store_now_ns();
}

/* ---- the sums ---------------------------------------------------------------------------- */

static int sl_grow(store_lint *l) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    sl_acc *a = realloc(l->accs, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    l->accs = a;
    l->cap = cap;
    size_t tc = 4 * cap;
    uint32_t *t = calloc(tc, sizeof(*t));
    if (t == NULL)
        return -1;
    free(l->table);
    l->table = t;
    l->table_cap = tc;
    for (size_t i = 0; i < l->n; i++) {
        size_t pos = (size_t)(l->accs[i].h & (tc - 1));
        while (t[pos])
            pos = (pos + 1) & (tc - 1);
        t[pos] = (uint32_t)(i + 1);
    }
    return 0;
}

/* The sum of (seg, rule, service, key[0..len)), made when new; NULL when
 * out of memory. */
static sl_acc *sl_get(store_lint *l, int64_t seg, int rule, int64_t service, const char *key,
                      size_t len) {
    if (len >= SL_KEY_MAX)
        len = utf8_cut(key, len, SL_KEY_MAX - 1);
    uint64_t parts[3] = {(uint64_t)seg, (uint64_t)rule, (uint64_t)service};
    uint64_t h = hash_64(key, len, hash_64(parts, sizeof(parts), 0x6c696e74));
    if (l->n == l->cap && sl_grow(l) != 0)
        return NULL;
    size_t mask = l->table_cap - 1;
    for (size_t pos = (size_t)(h & mask);; pos = (pos + 1) & mask) {
        uint32_t v = l->table[pos];
        if (v == 0) {
            sl_acc *a = &l->accs[l->n];
            memset(a, 0, sizeof(*a));
            a->seg = seg;
            a->rule = rule;
            a->service = service;
            memcpy(a->key, key, len);
            a->key[len] = '\0';
            a->h = h;
            a->first = UINT64_MAX;
            buf_init(&a->ex, SL_EXAMPLES_MAX);
            l->table[pos] = (uint32_t)(++l->n);
            return a;
        }
        sl_acc *a = &l->accs[v - 1];
        if (a->h == h && a->seg == seg && a->rule == rule && a->service == service &&
            strlen(a->key) == len && memcmp(a->key, key, len) == 0)
            return a;
    }
}

/* Appends the item as an example: {"signal", "traceId", "spanId",
 * "metric", "timeUnixNano"}. Returns 0, or a BUF_* error. */
static int sl_example(buf *out, const sl_item *it) {
    static const char *const names[MODEL_SIGNAL_COUNT] = {"span", "log", "metric"};
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "signal");
    jw_string(&w, names[it->signal]);
    if (it->trace_id != NULL) {
        jw_key(&w, "traceId");
        jw_hex(&w, it->trace_id, 16);
    }
    if (it->span_id != NULL) {
        jw_key(&w, "spanId");
        jw_hex(&w, it->span_id, 8);
    }
    if (it->metric != NULL) {
        jw_key(&w, "metric");
        jw_stringn(&w, it->metric->ptr, it->metric->len);
    }
    jw_key(&w, "timeUnixNano");
    jw_uint_string(&w, it->time);
    jw_object_end(&w);
    return jw_error(&w);
}

/* Counts one finding (count items; a level when `level`) about item it;
 * note may be NULL. */
static void sl_hit(store_lint *l, int64_t seg, int rule, int64_t service, const char *key,
                   size_t keylen, int64_t count, int level, const sl_item *it, const char *note) {
    sl_acc *a = sl_get(l, seg, rule, service, key, keylen);
    if (a == NULL)
        return;
    a->level = level;
    a->count = level ? (count > a->count ? count : a->count) : a->count + count;
    if (l->now < a->first)
        a->first = l->now;
    if (l->now > a->last)
        a->last = l->now;
    if (note != NULL)
        snprintf(a->note, sizeof(a->note), "%s", note);
    if (a->n_ex >= SL_EXAMPLES)
        return;
    size_t before = a->ex.len;
    if (a->n_ex > 0 && buf_append_char(&a->ex, ',') != BUF_OK)
        return;
    if (sl_example(&a->ex, it) != 0) {
        a->ex.len = before; /* cut back to the examples that fit */
        if (a->ex.ptr != NULL)
            a->ex.ptr[before] = '\0';
        return;
    }
    a->n_ex++;
}

static void sl_hit0(store_lint *l, int64_t seg, int rule, int64_t service, const sl_item *it,
                    const char *note) {
    sl_hit(l, seg, rule, service, "", 0, 1, 0, it, note);
}

/* ---- services' names -------------------------------------------------------------------- */

static void sl_name_put(store_lint *l, int64_t id, const model_str *name) {
    sl_name *n = &l->names[(size_t)id & (SL_NAME_SLOTS - 1)];
    if (n->id == id && n->name != NULL)
        return;
    char *c = strndup(name->ptr, name->len);
    if (c == NULL)
        return;
    free(n->name);
    n->name = c;
    n->id = id;
}

/* Service id's name: remembered from a batch, else from the database;
 * "" when unknown. Borrowed until the next call. */
static const char *sl_name_of(store_lint *l, int64_t id) {
    sl_name *n = &l->names[(size_t)id & (SL_NAME_SLOTS - 1)];
    if (n->id == id && n->name != NULL)
        return n->name;
    if (l->st_service_name == NULL &&
        sqlite3_prepare_v3(l->db, "SELECT name FROM services WHERE id=?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &l->st_service_name, NULL) != SQLITE_OK)
        return "";
    const char *found = "";
    sqlite3_bind_int64(l->st_service_name, 1, id);
    if (sqlite3_step(l->st_service_name) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(l->st_service_name, 0);
        model_str s = {t ? t : "", t ? strlen(t) : 0};
        sl_name_put(l, id, &s);
        found = n->id == id && n->name != NULL ? n->name : "";
    }
    sqlite3_reset(l->st_service_name);
    return found;
}

/* ---- what every item shares: its resource and attributes ---------------------------- */

/* The memo of resource r (made on its first item in this batch). */
static const sl_res_memo *sl_res(store_lint *l, const model_resource *r) {
    sl_res_memo *m = &l->memo;
    if (m->res == r && r != NULL)
        return m;
    memset(m, 0, sizeof(*m));
    m->res = r;
    m->unnamed = lint_service_unnamed(r);
    if (r == NULL)
        return m;
    m->sdk_dropped = lint_resource_sdk_dropped(r);
    m->limited = r->limited;
    for (size_t i = 0; i < r->attrs.n && m->n_dep < SL_DEP_MEMO; i++) {
        const model_str *k = &r->attrs.items[i].key;
        const lint_deprecated *d = lint_deprecated_find(k->ptr, k->len);
        if (d != NULL)
            m->dep[m->n_dep++] = d;
    }
    return m;
}

static void sl_deprecated(store_lint *l, int64_t seg, int64_t service, const model_attrs *a,
                          const sl_item *it) {
    for (size_t i = 0; i < a->n; i++) {
        const model_str *k = &a->items[i].key;
        const lint_deprecated *d = lint_deprecated_find(k->ptr, k->len);
        if (d != NULL)
            sl_hit(l, seg, LINT_DEPRECATED_ATTRIBUTE, service, d->name, strlen(d->name), 1, 0,
                   it, NULL);
    }
}

/* The checks an item's resource and its own attributes bring; sdk and
 * lim: what the sender dropped from the item itself and what loupe's
 * limits took. */
static void sl_common(store_lint *l, int64_t seg, int64_t service, const model_resource *r,
                      const model_attrs *attrs, uint64_t sdk, model_limited lim,
                      const sl_item *it) {
    const sl_res_memo *m = sl_res(l, r);
    if (m->unnamed)
        sl_hit0(l, seg, LINT_MISSING_SERVICE_NAME, service, it, NULL);
    for (int i = 0; i < m->n_dep; i++)
        sl_hit(l, seg, LINT_DEPRECATED_ATTRIBUTE, service, m->dep[i]->name,
               strlen(m->dep[i]->name), 1, 0, it, NULL);
    sl_deprecated(l, seg, service, attrs, it);
    char note[SL_NOTE_MAX];
    sdk += m->sdk_dropped;
    if (sdk > 0) {
        snprintf(note, sizeof(note),
                 "the latest: %llu attributes, events or links dropped by the sender",
                 (unsigned long long)sdk);
        sl_hit(l, seg, LINT_DROPPED_DATA, service, LINT_KEY_SDK, strlen(LINT_KEY_SDK), 1, 0, it,
               note);
    }
    uint64_t left_out = (uint64_t)lim.dropped + m->limited.dropped,
             cut = (uint64_t)lim.cut + m->limited.cut;
    if (left_out > 0 || cut > 0) {
        snprintf(note, sizeof(note),
                 "the latest: %llu attributes, events or links left out and %llu values cut"
                 " by loupe's limits",
                 (unsigned long long)left_out, (unsigned long long)cut);
        sl_hit(l, seg, LINT_DROPPED_DATA, service, LINT_KEY_LOUPE, strlen(LINT_KEY_LOUPE), 1, 0,
               it, note);
    }
}

/* ---- spans ------------------------------------------------------------------------------- */

void store_lint_spans(store_lint *l, const model_batch *b, const int64_t *ids,
                      const int64_t *span_seg) {
    int64_t named = 0;
    for (size_t i = 0; i < b->n_spans; i++) {
        const model_span *sp = &b->spans[i];
        int64_t seg = span_seg[i], service = ids[3 * i + 1];
        sl_item it = {MODEL_SIGNAL_TRACES, sp->trace_id, sp->span_id, sp->start_ns, NULL};
        if (service != named && sp->resource != NULL) {
            sl_name_put(l, service, &sp->resource->service_name);
            named = service;
        }
        sl_common(l, seg, service, sp->resource, &sp->attrs, lint_span_sdk_dropped(sp),
                  sp->limited, &it);
        for (size_t e = 0; e < sp->n_events; e++)
            sl_deprecated(l, seg, service, &sp->events[e].attrs, &it);
        if (lint_span_error_unflagged(sp))
            sl_hit0(l, seg, LINT_ERROR_WITHOUT_STATUS, service, &it, NULL);
        if (!sp->has_parent && lint_span_kind_suspect(sp))
            sl_hit0(l, seg, LINT_SERVER_SPAN_KIND, service, &it, "a root span");
    }
}

void store_lint_pair(store_lint *l, const store_lint_span *child,
                     const store_lint_span *parent) {
    if (l == NULL || child->service == parent->service)
        return;
    sl_item it = {MODEL_SIGNAL_TRACES, child->trace_id, child->span_id, child->t.start, NULL};
    const char *caller = sl_name_of(l, parent->service);
    char note[SL_NOTE_MAX];
    if (child->suspect) {
        snprintf(note, sizeof(note), "its parent is in service %.150s", caller);
        sl_hit0(l, child->seg, LINT_SERVER_SPAN_KIND, child->service, &it, note);
    }
    int after;
    uint64_t skew = lint_skew_ns(&child->t, &parent->t, &after);
    if (skew <= LINT_SKEW_NS)
        return;
    snprintf(note, sizeof(note), "%s its parent in %.150s by %.3f s",
             after ? "ends after" : "starts before", caller, (double)skew / 1e9);
    sl_hit(l, child->seg, LINT_CLOCK_SKEW, child->service, caller, strlen(caller), 1, 0, &it,
           note);
}

/* ---- logs -------------------------------------------------------------------------------- */

void store_lint_log(store_lint *l, int64_t seg, int64_t service, const model_log *lg,
                    uint64_t time) {
    sl_item it = {MODEL_SIGNAL_LOGS, lg->has_trace_id ? lg->trace_id : NULL,
                  lg->has_span_id ? lg->span_id : NULL, time, NULL};
    sl_common(l, seg, service, lg->resource, &lg->attrs, lint_log_sdk_dropped(lg), lg->limited,
              &it);
    if (lint_log_unleveled(lg)) {
        char note[SL_NOTE_MAX] = "";
        if (lg->severity_text.len > 0)
            snprintf(note, sizeof(note), "severity text \"%.100s\" without a number",
                     lg->severity_text.ptr);
        sl_hit0(l, seg, LINT_LOG_WITHOUT_SEVERITY, service, &it, note[0] ? note : NULL);
    }
}

/* ---- metrics --------------------------------------------------------------------------- */

/* The attribute-set count of metric row `row` (NULL when the table is too
 * full to take another metric, or the count cannot be read); *loaded when
 * it was read from the database just now. */
static sl_metric *sl_metric_get(store_lint *l, int64_t row, int *loaded) {
    *loaded = 0;
    if (l->last_metric != NULL && l->last_metric->row == row)
        return l->last_metric;
    size_t mask = SL_METRIC_SLOTS - 1;
    for (size_t pos = (size_t)hash_mix64((uint64_t)row) & mask;; pos = (pos + 1) & mask) {
        sl_metric *m = &l->metrics[pos];
        if (m->row == row)
            return l->last_metric = m;
        if (m->row != 0)
            continue;
        if (4 * (l->n_metrics + 1) > 3 * SL_METRIC_SLOTS)
            return NULL; /* not tracked: bounded memory */
        if (l->st_series_count == NULL &&
            sqlite3_prepare_v3(l->db, "SELECT count(*) FROM series WHERE metric=?1", -1,
                               SQLITE_PREPARE_PERSISTENT, &l->st_series_count, NULL) != SQLITE_OK)
            return NULL;
        sqlite3_bind_int64(l->st_series_count, 1, row);
        int rc = sqlite3_step(l->st_series_count);
        int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(l->st_series_count, 0) : -1;
        sqlite3_reset(l->st_series_count);
        if (n < 0)
            return NULL;
        m->row = row;
        m->series = n;
        l->n_metrics++;
        *loaded = 1;
        return l->last_metric = m;
    }
}

/* The note of a metric past the limit: the attribute with the most
 * distinct values among its latest series. */
static void sl_metric_note(store_lint *l, sl_metric *m) {
    if (l->st_series_top == NULL &&
        sqlite3_prepare_v3(l->db,
                           "SELECT j.key, count(DISTINCT j.value), (SELECT count(*) FROM"
                           " (SELECT 1 FROM series WHERE metric=?1 ORDER BY id DESC LIMIT ?2))"
                           " FROM (SELECT attrs FROM series WHERE metric=?1 ORDER BY id DESC"
                           " LIMIT ?2) s, json_each(s.attrs) j"
                           " GROUP BY j.key ORDER BY 2 DESC, j.key LIMIT 1",
                           -1, SQLITE_PREPARE_PERSISTENT, &l->st_series_top, NULL) != SQLITE_OK)
        return;
    sqlite3_stmt *st = l->st_series_top;
    sqlite3_bind_int64(st, 1, m->row);
    sqlite3_bind_int64(st, 2, SL_SAMPLE_FACTOR * l->max_series);
    char note[SL_NOTE_MAX];
    note[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        snprintf(note, sizeof(note), "%.150s has %lld distinct values in the latest %lld attribute sets",
                 key ? key : "", (long long)sqlite3_column_int64(st, 1),
                 (long long)sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    char *c = note[0] ? strdup(note) : NULL;
    if (c == NULL && note[0])
        return;
    free(m->note);
    m->note = c;
    m->noted = m->series;
}

int store_lint_point(store_lint *l, int64_t seg, int64_t service, int64_t metric_row,
                     const model_point *p, int new_series) {
    const model_metric *mt = p->metric;
    sl_item it = {MODEL_SIGNAL_METRICS, NULL, NULL, p->time_ns, &mt->name};
    sl_common(l, seg, service, mt->resource, &p->attrs, 0, p->limited, &it);
    int loaded;
    sl_metric *m = sl_metric_get(l, metric_row, &loaded);
    if (m == NULL)
        return SQLITE_OK;
    if (new_series && !loaded) /* a count read now has the new series already */
        m->series++;
    if (m->series <= l->max_series)
        return SQLITE_OK;
    if (m->noted == 0 || m->series >= 2 * m->noted)
        sl_metric_note(l, m);
    sl_hit(l, seg, LINT_HIGH_CARDINALITY, service, mt->name.ptr, mt->name.len, m->series, 1, &it,
           m->note);
    return SQLITE_OK;
}

/* ---- writing the sums ---------------------------------------------------------------- */

int store_lint_flush(store *s) {
    store_writer *w = &s->w;
    store_lint *l = w->lint;
    int rc = SQLITE_OK;
    for (size_t i = 0; l != NULL && i < l->n && rc == SQLITE_OK; i++) {
        const sl_acc *a = &l->accs[i];
        store_seg *g = store_seg_by_id(w, a->seg);
        if (g == NULL)
            continue; /* the segment is gone (dropped since the child waited) */
        sqlite3_stmt *st = store_seg_stmt(w, g, SST_LINT_UPSERT, &rc);
        if (st == NULL)
            break;
        buf_reset(&l->examples);
        if (buf_append_char(&l->examples, '[') != BUF_OK ||
            buf_append(&l->examples, a->ex.ptr ? a->ex.ptr : "", a->ex.len) != BUF_OK ||
            buf_append_char(&l->examples, ']') != BUF_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_bind_int(st, 1, a->rule);
        sqlite3_bind_int64(st, 2, a->service);
        sqlite3_bind_text(st, 3, a->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, a->count);
        sqlite3_bind_int64(st, 5, store_i64(a->first));
        sqlite3_bind_int64(st, 6, store_i64(a->last));
        sqlite3_bind_text(st, 7, a->note, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, l->examples.ptr, (int)l->examples.len, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, a->level);
        rc = store_run(st);
    }
    if (l != NULL)
        sl_accs_clear(l);
    return rc;
}

/* ---- orphans ------------------------------------------------------------------------- */

/* A child whose parent did not come within the grace period: an orphan,
 * unless the parent is stored in its segment after all. */
static void sl_orphan(void *ud, const store_lint_span *c) {
    store *s = ud;
    store_writer *w = &s->w;
    store_seg *g = store_seg_by_id(w, c->seg);
    if (g == NULL)
        return; /* evicted meanwhile */
    int rc = SQLITE_OK;
    sqlite3_stmt *st = store_seg_stmt(w, g, SST_LINT_PARENT, &rc);
    if (st == NULL)
        return;
    sqlite3_bind_blob(st, 1, c->trace_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, c->parent_id, 8, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return; /* the parent is stored (or the lookup failed: no verdict) */
    sl_item it = {MODEL_SIGNAL_TRACES, c->trace_id, c->span_id, c->t.start, NULL};
    char note[SL_NOTE_MAX], hex[17];
    model_hex_encode(c->parent_id, 8, hex);
    snprintf(note, sizeof(note), "parent span %s never arrived", hex);
    sl_hit0(w->lint, c->seg, LINT_ORPHAN_SPAN, c->service, &it, note);
    if (c->suspect)
        sl_hit0(w->lint, c->seg, LINT_SERVER_SPAN_KIND, c->service, &it,
                "its parent is not in this service");
}

void store_lint_sweep(store *s) {
    store_writer *w = &s->w;
    store_lint *l = w->lint;
    if (l == NULL || w->db == NULL)
        return;
    uint64_t mono = store_mono_ns();
    if (mono < l->next_sweep || store_rollup_waiting(w->rollup) == 0)
        return;
    l->next_sweep = mono + SL_SWEEP_NS;
    if (mono < l->grace_ns)
        return;
    int rc = store_run(w->st[ST_BEGIN]);
    if (rc != SQLITE_OK)
        return;
    store_lint_reset(l);
    store_rollup_sweep(w->rollup, mono - l->grace_ns, sl_orphan, s);
    rc = store_lint_flush(s);
    if (rc == SQLITE_OK)
        rc = store_run(w->st[ST_COMMIT]);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(w->db))
            store_run(w->st[ST_ROLLBACK]);
        log_event(LOG_WARN, "lint_sweep_failed", "sqlite_code=%d detail=\"orphan spans judged"
                                                 " now are not recorded\"",
                  rc);
    }
}

long store_lint_wait_ms(const store *s) {
    const store_lint *l = s->w.lint;
    if (l == NULL || store_rollup_waiting(s->w.rollup) == 0)
        return -1;
    uint64_t now = store_mono_ns();
    return l->next_sweep > now ? (long)((l->next_sweep - now) / 1000000u) + 1 : 0;
}

/* ---- at open --------------------------------------------------------------------------- */

int store_lint_ensure(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT id FROM segments WHERE NOT EXISTS (SELECT 1 FROM"
                                " sqlite_schema WHERE type='table' AND name='lint_'||segments.id)",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            int64_t *m = realloc(ids, nc * sizeof(*m));
            if (m == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = m;
            cap = nc;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) /* no statement reads meanwhile */
        rc = seg_exec(db, seg_lint_ddl, ids[i]);
    free(ids);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
