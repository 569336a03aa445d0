/* ch_insight.c - the GenAI calls and the lint's findings of a ClickHouse
 * writer's round, as rows of genai_calls, lint_hits and lint_examples; see
 * ch_insight.h.
 *
 * The lint's sums follow store_lint.c: per (day, signal, service, rule,
 * key) a count, the round's arrival as first and last seen, the latest
 * note of the round, and the first items met as examples. The checks are
 * lint.h's, applied as store_lint.c applies them (the resource's findings
 * count once per item; at most 8 deprecated names of a resource).
 */
#include "ch_insight.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hash.h"
#include "util/utf8.h"
#include "ch_rows.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "genai.h"
#include "lint.h"
#include "rollup.h"

#define CI_DAY_NS 86400000000000ULL
#define CI_NOTE_MAX 240
#define CI_DEP_MAX 8                 /* deprecated names taken from one resource */
#define CI_MEMO_SLOTS ((size_t)1 << 14) /* findings whose examples are remembered */
#define CI_ROWS_MAX ((size_t)1 << 31)

/* One finding's sums in this round. */
typedef struct ci_acc {
    uint64_t h;
    int64_t day;
    int signal, rule;
    model_str service; /* borrowed from the round's batches */
    const char *key;   /* static text (lint.h's names) */
    uint64_t count;
    char note[CI_NOTE_MAX];
    int had;  /* examples earlier rounds wrote */
    int n_ex; /* examples this round wrote */
} ci_acc;

/* The item a finding is about. */
typedef struct ci_item {
    model_signal signal;
    uint64_t time;
    model_str service;
    const uint8_t *trace_id, *span_id; /* NULL when it has none */
    const model_str *metric;           /* points */
} ci_item;

struct ch_insight {
    int lint_off;
    uint64_t arrival;
    uint32_t seq; /* the round's examples in the order met */
    buf genai, hits, examples, scratch;
    ci_acc *accs;
    size_t n, cap;
    uint32_t *table; /* acc index + 1, open addressing, 4 x cap slots */
    size_t table_cap;
    uint64_t *memo_h; /* finding hashes whose examples were written (0 = free) */
    uint8_t *memo_n;  /* how many */
    size_t memo_used;
    int oom; /* a sum or row could not be made this round */
};

ch_insight *ch_insight_new(int lint_off) {
    ch_insight *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    x->memo_h = calloc(CI_MEMO_SLOTS, sizeof(*x->memo_h));
    x->memo_n = calloc(CI_MEMO_SLOTS, sizeof(*x->memo_n));
    if (x->memo_h == NULL || x->memo_n == NULL) {
        ch_insight_free(x);
        return NULL;
    }
    x->lint_off = lint_off;
    buf_init(&x->genai, CI_ROWS_MAX);
    buf_init(&x->hits, CI_ROWS_MAX);
    buf_init(&x->examples, CI_ROWS_MAX);
    buf_init(&x->scratch, (size_t)1 << 20);
    return x;
}

void ch_insight_free(ch_insight *x) {
    if (x == NULL)
        return;
    buf_free(&x->genai);
    buf_free(&x->hits);
    buf_free(&x->examples);
    buf_free(&x->scratch);
    free(x->accs);
    free(x->table);
    free(x->memo_h);
    free(x->memo_n);
    free(x);
}

void ch_insight_reset(ch_insight *x, uint64_t arrival) {
    buf_reset(&x->genai);
    buf_reset(&x->hits);
    buf_reset(&x->examples);
    x->n = 0;
    if (x->table != NULL)
        memset(x->table, 0, x->table_cap * sizeof(*x->table));
    x->arrival = arrival;
    x->seq = 0;
    x->oom = 0;
}

/* ---- the memory of examples written ------------------------------------------------ */

static size_t ci_memo_pos(const ch_insight *x, uint64_t h) {
    size_t mask = CI_MEMO_SLOTS - 1, pos = (size_t)h & mask;
    while (x->memo_h[pos] != 0 && x->memo_h[pos] != h)
        pos = (pos + 1) & mask;
    return pos;
}

static int ci_memo_get(const ch_insight *x, uint64_t h) {
    size_t pos = ci_memo_pos(x, h);
    return x->memo_h[pos] == h ? x->memo_n[pos] : 0;
}

static void ci_memo_put(ch_insight *x, uint64_t h, int n) {
    size_t pos = ci_memo_pos(x, h);
    if (x->memo_h[pos] != h) {
        if (4 * (x->memo_used + 1) > 3 * CI_MEMO_SLOTS) { /* full: start over */
            memset(x->memo_h, 0, CI_MEMO_SLOTS * sizeof(*x->memo_h));
            memset(x->memo_n, 0, CI_MEMO_SLOTS * sizeof(*x->memo_n));
            x->memo_used = 0;
            pos = ci_memo_pos(x, h);
        }
        x->memo_h[pos] = h;
        x->memo_used++;
    }
    x->memo_n[pos] = (uint8_t)n;
}

/* ---- the sums --------------------------------------------------------------------------- */

static int ci_grow(ch_insight *x) {
    size_t cap = x->cap ? 2 * x->cap : 64;
    ci_acc *a = realloc(x->accs, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    x->accs = a;
    x->cap = cap;
    size_t tc = 4 * cap;
    uint32_t *t = calloc(tc, sizeof(*t));
    if (t == NULL)
        return -1;
    free(x->table);
    x->table = t;
    x->table_cap = tc;
    for (size_t i = 0; i < x->n; i++) {
        size_t pos = (size_t)(x->accs[i].h & (tc - 1));
        while (t[pos])
            pos = (pos + 1) & (tc - 1);
        t[pos] = (uint32_t)(i + 1);
    }
    return 0;
}

static int ci_str_eq(model_str a, model_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The sum of (day, signal, service, rule, key), made when new; NULL when
 * out of memory. */
static ci_acc *ci_get(ch_insight *x, const ci_item *it, int rule, const char *key) {
    int64_t day = (int64_t)(it->time / CI_DAY_NS);
    int64_t parts[3] = {day, (int64_t)it->signal, rule};
    uint64_t h = hash_64(parts, sizeof(parts), 0x6c696e74);
    h = hash_64(it->service.ptr ? it->service.ptr : "", it->service.len, h);
    h = hash_64(key, strlen(key), h ^ 1);
    if (h == 0)
        h = 1; /* 0 marks a free memo slot */
    if (x->n == x->cap && ci_grow(x) != 0)
        return NULL;
    size_t mask = x->table_cap - 1;
    for (size_t pos = (size_t)(h & mask);; pos = (pos + 1) & mask) {
        uint32_t v = x->table[pos];
        if (v == 0) {
            ci_acc *a = &x->accs[x->n];
            memset(a, 0, sizeof(*a));
            a->h = h;
            a->day = day;
            a->signal = (int)it->signal;
            a->rule = rule;
            a->service = it->service;
            a->key = key;
            a->had = ci_memo_get(x, h);
            x->table[pos] = (uint32_t)(++x->n);
            return a;
        }
        ci_acc *a = &x->accs[v - 1];
        if (a->h == h && a->day == day && a->signal == (int)it->signal && a->rule == rule &&
            ci_str_eq(a->service, it->service) && strcmp(a->key, key) == 0)
            return a;
    }
}

/* "date\tsignal\tservice\trule\tkey\t" of a finding. */
static void ci_finding_cols(buf *o, const ci_acc *a) {
    ch_rows_date(o, (uint64_t)a->day * CI_DAY_NS);
    buf_printf(o, "\t%d\t", a->signal);
    ch_tsv_escape(o, a->service.ptr ? a->service.ptr : "", a->service.len);
    buf_printf(o, "\t%d\t", a->rule);
    ch_tsv_escape(o, a->key, strlen(a->key));
    buf_append_char(o, '\t');
}

static void ci_example(ch_insight *x, const ci_acc *a, const ci_item *it) {
    buf *o = &x->examples;
    char hex[33];
    ci_finding_cols(o, a);
    buf_printf(o, "%" PRIu64 "\t%" PRIu32 "\t", x->arrival, x->seq++);
    if (it->trace_id != NULL) {
        model_hex_encode(it->trace_id, 16, hex);
        buf_append_str(o, hex);
    }
    buf_append_char(o, '\t');
    if (it->span_id != NULL) {
        model_hex_encode(it->span_id, 8, hex);
        buf_append_str(o, hex);
    }
    buf_append_char(o, '\t');
    if (it->metric != NULL)
        ch_tsv_escape(o, it->metric->ptr ? it->metric->ptr : "", it->metric->len);
    if (buf_printf(o, "\t%" PRIu64 "\n", it->time) != BUF_OK)
        x->oom = 1;
}

/* Counts one finding of rule (key: static text) about item it; note may be
 * NULL. */
static void ci_hit(ch_insight *x, const ci_item *it, int rule, const char *key,
                   const char *note) {
    ci_acc *a = ci_get(x, it, rule, key);
    if (a == NULL) {
        x->oom = 1;
        return;
    }
    a->count++;
    if (note != NULL)
        snprintf(a->note, sizeof(a->note), "%s", note);
    if (a->had + a->n_ex >= CH_INSIGHT_EXAMPLES)
        return;
    ci_example(x, a, it);
    a->n_ex++;
}

/* ---- the checks (store_lint.c's, on one item) -------------------------------------------- */

static void ci_deprecated(ch_insight *x, const ci_item *it, const model_attrs *a) {
    for (size_t i = 0; i < a->n; i++) {
        const model_str *k = &a->items[i].key;
        const lint_deprecated *d = lint_deprecated_find(k->ptr, k->len);
        if (d != NULL)
            ci_hit(x, it, LINT_DEPRECATED_ATTRIBUTE, d->name, NULL);
    }
}

/* What an item's resource and own attributes bring; sdk and lim: what the
 * sender dropped from the item and what loupe's limits took. */
static void ci_common(ch_insight *x, const ci_item *it, const model_resource *r,
                      const model_attrs *attrs, uint64_t sdk, model_limited lim) {
    if (lint_service_unnamed(r))
        ci_hit(x, it, LINT_MISSING_SERVICE_NAME, "", NULL);
    model_limited rlim = {0, 0};
    if (r != NULL) {
        int n_dep = 0;
        for (size_t i = 0; i < r->attrs.n && n_dep < CI_DEP_MAX; i++) {
            const model_str *k = &r->attrs.items[i].key;
            const lint_deprecated *d = lint_deprecated_find(k->ptr, k->len);
            if (d != NULL) {
                ci_hit(x, it, LINT_DEPRECATED_ATTRIBUTE, d->name, NULL);
                n_dep++;
            }
        }
        sdk += lint_resource_sdk_dropped(r);
        rlim = r->limited;
    }
    ci_deprecated(x, it, attrs);
    char note[CI_NOTE_MAX];
    if (sdk > 0) {
        snprintf(note, sizeof(note),
                 "the latest: %llu attributes, events or links dropped by the sender",
                 (unsigned long long)sdk);
        ci_hit(x, it, LINT_DROPPED_DATA, LINT_KEY_SDK, note);
    }
    uint64_t left_out = (uint64_t)lim.dropped + rlim.dropped,
             cut = (uint64_t)lim.cut + rlim.cut;
    if (left_out > 0 || cut > 0) {
        snprintf(note, sizeof(note),
                 "the latest: %llu attributes, events or links left out and %llu values cut"
                 " by loupe's limits",
                 (unsigned long long)left_out, (unsigned long long)cut);
        ci_hit(x, it, LINT_DROPPED_DATA, LINT_KEY_LOUPE, note);
    }
}

static model_str ci_service(const model_resource *r) {
    static const model_str unknown = {"unknown_service", 15};
    return r != NULL ? r->service_name : unknown;
}

static void ci_lint_span(ch_insight *x, const model_span *sp) {
    ci_item it = {MODEL_SIGNAL_TRACES, sp->start_ns, ci_service(sp->resource), sp->trace_id,
                  sp->span_id, NULL};
    ci_common(x, &it, sp->resource, &sp->attrs, lint_span_sdk_dropped(sp), sp->limited);
    for (size_t e = 0; e < sp->n_events; e++)
        ci_deprecated(x, &it, &sp->events[e].attrs);
    if (lint_span_error_unflagged(sp))
        ci_hit(x, &it, LINT_ERROR_WITHOUT_STATUS, "", NULL);
    /* a child's kind is judged with its parent: not here (ch_insight.h) */
    if (!sp->has_parent && lint_span_kind_suspect(sp))
        ci_hit(x, &it, LINT_SERVER_SPAN_KIND, "", "a root span");
}

static void ci_lint_log(ch_insight *x, const model_log *lg) {
    ci_item it = {MODEL_SIGNAL_LOGS, ch_rows_log_time(lg, x->arrival), ci_service(lg->resource),
                  lg->has_trace_id ? lg->trace_id : NULL, lg->has_span_id ? lg->span_id : NULL,
                  NULL};
    ci_common(x, &it, lg->resource, &lg->attrs, lint_log_sdk_dropped(lg), lg->limited);
    if (lint_log_unleveled(lg)) {
        char note[CI_NOTE_MAX] = "";
        if (lg->severity_text.len > 0)
            snprintf(note, sizeof(note), "severity text \"%.*s\" without a number",
                     (int)(lg->severity_text.len > 100 ? 100 : lg->severity_text.len),
                     lg->severity_text.ptr);
        ci_hit(x, &it, LINT_LOG_WITHOUT_SEVERITY, "", note[0] ? note : NULL);
    }
}

static void ci_lint_point(ch_insight *x, const model_point *p) {
    const model_metric *m = p->metric;
    ci_item it = {MODEL_SIGNAL_METRICS, p->time_ns, ci_service(m->resource), NULL, NULL,
                  &m->name};
    ci_common(x, &it, m->resource, &p->attrs, 0, p->limited);
}

/* ---- GenAI calls ------------------------------------------------------------------------- */

static void ci_str(buf *o, model_str s) {
    ch_tsv_escape(o, s.ptr ? s.ptr : "", s.len);
    buf_append_char(o, '\t');
}

static void ci_genai(ch_insight *x, const model_span *sp, const genai_call *g) {
    buf *o = &x->genai;
    uint64_t dur = sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0;
    ch_rows_date(o, sp->start_ns);
    buf_printf(o, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%d\t", sp->start_ns, sp->end_ns, dur,
               rollup_bucket(dur));
    ch_tsv_bytes(o, sp->trace_id, 16);
    buf_append_char(o, '\t');
    ch_tsv_bytes(o, sp->span_id, 8);
    buf_append_char(o, '\t');
    ci_str(o, ci_service(sp->resource));
    model_str name = sp->name;
    name.len = name.ptr ? utf8_cut(name.ptr, name.len, GENAI_TEXT_MAX) : 0;
    ci_str(o, name);
    ci_str(o, g->provider);
    ci_str(o, g->model);
    ci_str(o, g->operation);
    if (buf_printf(o, "%" PRId64 "\t%" PRId64 "\t%d\t%" PRIu64 "\n", g->input_tokens,
                   g->output_tokens, sp->status_code == MODEL_STATUS_ERROR, x->arrival) != BUF_OK)
        x->oom = 1;
}

/* ---- a batch, a round --------------------------------------------------------------------- */

int ch_insight_batch(ch_insight *x, const model_batch *b) {
    switch (b->signal) {
    case MODEL_SIGNAL_TRACES:
        for (size_t i = 0; i < b->n_spans; i++) {
            genai_call g;
            if (genai_of(&b->spans[i].attrs, &g))
                ci_genai(x, &b->spans[i], &g);
            if (!x->lint_off)
                ci_lint_span(x, &b->spans[i]);
        }
        break;
    case MODEL_SIGNAL_LOGS:
        for (size_t i = 0; i < b->n_logs && !x->lint_off; i++)
            ci_lint_log(x, &b->logs[i]);
        break;
    case MODEL_SIGNAL_METRICS:
        for (size_t i = 0; i < b->n_points && !x->lint_off; i++)
            if (b->points[i].metric != NULL)
                ci_lint_point(x, &b->points[i]);
        break;
    }
    return x->oom ? -1 : 0;
}

/* The round's sums as rows of lint_hits. */
static int ci_hits_rows(ch_insight *x) {
    int rc = BUF_OK;
    for (size_t i = 0; i < x->n && rc == BUF_OK; i++) {
        const ci_acc *a = &x->accs[i];
        ci_finding_cols(&x->hits, a);
        rc = buf_printf(&x->hits, "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", a->count,
                        x->arrival, x->arrival);
        ch_tsv_escape(&x->hits, a->note, strlen(a->note));
        if (rc == BUF_OK)
            rc = buf_append_char(&x->hits, '\n');
    }
    return rc;
}

int ch_insight_insert(ch_insight *x, ch_conn *writer, const char *settings, char *err) {
    if (x->oom || ci_hits_rows(x) != BUF_OK) {
        snprintf(err, CH_ERR_MAX, "out of memory for the GenAI calls and lint findings");
        return CH_ENOMEM;
    }
    static const char *const tables[] = {CH_GENAI, CH_LINT_HITS, CH_LINT_EXAMPLES};
    static const char *const cols[] = {ch_genai_columns, ch_lint_hits_columns,
                                       ch_lint_examples_columns};
    const buf *rows[] = {&x->genai, &x->hits, &x->examples};
    int rc = CH_OK;
    for (size_t i = 0; i < 3 && rc == CH_OK; i++) {
        if (rows[i]->len == 0)
            continue;
        char table[512];
        snprintf(table, sizeof(table), "%s %s", tables[i], cols[i]);
        rc = ch_conn_insert(writer, table, settings, rows[i]->ptr, rows[i]->len, err);
    }
    if (rc == CH_OK)
        for (size_t i = 0; i < x->n; i++)
            if (x->accs[i].n_ex > 0)
                ci_memo_put(x, x->accs[i].h, x->accs[i].had + x->accs[i].n_ex);
    return rc;
}

#ifdef LOUPE_TESTING
const char *ch_insight_rows(ch_insight *x, int table) {
    if (table == 1) {
        buf_reset(&x->hits);
        ci_hits_rows(x);
    }
    const buf *o = table == 0 ? &x->genai : table == 1 ? &x->hits : &x->examples;
    return o->ptr ? o->ptr : "";
}
#endif
