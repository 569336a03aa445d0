/* store_rollup.c - the writer's per-minute rollups: per-service counts of
 * every signal, and for spans the operations, service-to-service edges and
 * client calls that the service map and RED figures read; see rollup.h
 * and store_internal.h.
 *
 * DESIGN
 * While a batch is written, its contributions are summed in memory by key
 * (segment, table, service, minute, ...): a count, errors, a duration
 * histogram. At the end of the batch each sum becomes one upsert into its
 * segment's rollup table (the histogram merged by loupe_hist_merge), in the
 * batch's transaction, so the rollups commit and roll back with the rows
 * they count, and go with their segment when it is dropped.
 *
 * Edges: a span of service B whose parent span is of service A != B adds
 * one call A -> B (its duration and error). The parent is found in the
 * same batch, else in a cache of recently written spans (trace id, span id
 * -> service, kind, what it calls), else the child waits in a bounded
 * table of children whose parent has not arrived, and is counted when the
 * parent comes (spans of one trace that arrive later still join the map).
 * A CLIENT or PRODUCER span's call is counted per (service, peer) in
 * clients_N; when an instrumented child answers it, `matched` counts that
 * too, so a peer no instrumented service ever answered is a virtual node of
 * the map (a database, a queue, an external host). The caches live in
 * memory only: a parent and child straddling a restart (or evicted from
 * the caches under load) are not joined; the map undercounts them.
 *
 * The lint (store_lint.c) rides on the same joins: every child met by its
 * parent is handed to store_lint_pair() with both spans' times, kinds and
 * services (the caches keep them for that), and the children still waiting
 * after the lint's grace period are handed to its sweep
 * (store_rollup_sweep), which judges each once. When the lint is off
 * (r->lint NULL) none of that runs.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "rollup.h"
#include "store_internal.h"

#define SR_SPAN_SLOTS ((size_t)1 << 17)    /* recently written spans */
#define SR_PENDING_SLOTS ((size_t)1 << 14) /* children waiting for a parent */
#define SR_PENDING_PROBES 8
#define SR_PENDING_TTL_NS (10ULL * 60 * 1000000000ULL)
#define SR_PEERS_MAX 4096
#define SR_KEY_MAX 600

enum { SR_OPS, SR_EDGES, SR_CLIENTS, SR_COUNTS, SR_TABLES };

/* A span of the cache: enough to attribute a child's call to it (and, for
 * the lint, to compare their times). */
typedef struct sr_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    int64_t service;
    int64_t minute;
    uint64_t start, end;
    int32_t peer; /* index into peers, -1 = not a client span */
    uint8_t kind;
    uint8_t used;
} sr_span;

/* A child whose parent has not arrived yet. */
typedef struct sr_pending {
    uint8_t trace_id[16];
    uint8_t parent_id[8];
    uint8_t span_id[8];
    int64_t service;
    int64_t minute;
    int64_t seg;
    uint64_t start;
    uint64_t dur;
    uint64_t since; /* monotonic ns */
    uint8_t error;
    uint8_t kind;
    uint8_t suspect; /* the lint's lint_span_kind_suspect() */
    uint8_t judged;  /* the lint's sweep has seen it */
    uint8_t used;
} sr_pending;

/* One sum of this batch. */
typedef struct sr_acc {
    int table;
    int64_t seg, service, minute, child;
    int kind, root;
    char *name; /* ops: span name; clients: peer key (owned) */
    int64_t calls, errors, matched;
    rollup_hist *hist; /* NULL for counts */
    uint64_t h;
} sr_acc;

struct store_rollup {
    sr_span *spans;
    sr_pending *pending;
    size_t waiting;   /* pending children not judged by the lint */
    store_lint *lint; /* borrowed; NULL = off */
    char *peers[SR_PEERS_MAX];
    uint64_t peer_hash[SR_PEERS_MAX];
    int npeers;
    /* this batch's sums */
    sr_acc *accs;
    size_t n, cap;
    uint32_t *table; /* acc index + 1, open addressing */
    size_t table_cap;
    rollup_hist **free_hists;
    size_t nfree, free_cap;
    buf blob;
};

/* ---- life ------------------------------------------------------------------------- */

store_rollup *store_rollup_new(void) {
    store_rollup *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->spans = calloc(SR_SPAN_SLOTS, sizeof(*r->spans));
    r->pending = calloc(SR_PENDING_SLOTS, sizeof(*r->pending));
    if (r->spans == NULL || r->pending == NULL) {
        store_rollup_free(r);
        return NULL;
    }
    buf_init(&r->blob, (size_t)ROLLUP_BUCKETS * 11);
    return r;
}

static void sr_reset(store_rollup *r) {
    for (size_t i = 0; i < r->n; i++) {
        sr_acc *a = &r->accs[i];
        free(a->name);
        if (a->hist != NULL) {
            if (r->nfree == r->free_cap) {
                size_t cap = r->free_cap ? 2 * r->free_cap : 64;
                rollup_hist **f = realloc(r->free_hists, cap * sizeof(*f));
                if (f == NULL) {
                    free(a->hist);
                    continue;
                }
                r->free_hists = f;
                r->free_cap = cap;
            }
            r->free_hists[r->nfree++] = a->hist;
        }
    }
    r->n = 0;
    if (r->table != NULL)
        memset(r->table, 0, r->table_cap * sizeof(*r->table));
}

void store_rollup_free(store_rollup *r) {
    if (r == NULL)
        return;
    sr_reset(r);
    for (size_t i = 0; i < r->nfree; i++)
        free(r->free_hists[i]);
    free(r->free_hists);
    for (int i = 0; i < r->npeers; i++)
        free(r->peers[i]);
    free(r->accs);
    free(r->table);
    free(r->spans);
    free(r->pending);
    buf_free(&r->blob);
    free(r);
}

void store_rollup_reset(store_rollup *r) {
    if (r != NULL)
        sr_reset(r);
}

void store_rollup_forget(store_rollup *r) {
    if (r == NULL)
        return;
    memset(r->spans, 0, SR_SPAN_SLOTS * sizeof(*r->spans));
    memset(r->pending, 0, SR_PENDING_SLOTS * sizeof(*r->pending));
    r->waiting = 0;
    sr_reset(r);
}

void store_rollup_set_lint(store_rollup *r, store_lint *l) { r->lint = l; }

size_t store_rollup_waiting(const store_rollup *r) { return r->waiting; }

void store_rollup_sweep(store_rollup *r, uint64_t cutoff,
                        void (*fn)(void *ud, const store_lint_span *child), void *ud) {
    for (size_t i = 0; i < SR_PENDING_SLOTS && r->waiting > 0; i++) {
        sr_pending *p = &r->pending[i];
        if (!p->used || p->judged || p->since > cutoff)
            continue;
        store_lint_span c = {p->trace_id, p->span_id, p->parent_id, p->service, p->seg,
                             {p->start, p->start + p->dur, p->kind}, p->suspect};
        p->judged = 1;
        r->waiting--;
        fn(ud, &c);
    }
}

/* ---- sums --------------------------------------------------------------------------- */

static uint64_t sr_key_hash(const sr_acc *k) {
    uint64_t parts[6] = {(uint64_t)k->table, (uint64_t)k->seg, (uint64_t)k->service,
                         (uint64_t)k->minute, (uint64_t)k->child,
                         (uint64_t)(k->kind * 2 + k->root)};
    uint64_t h = hash_64(parts, sizeof(parts), 0x9e3779b97f4a7c15ULL);
    if (k->name != NULL)
        h ^= hash_64(k->name, strlen(k->name), h);
    return h;
}

static int sr_key_eq(const sr_acc *a, const sr_acc *b) {
    return a->h == b->h && a->table == b->table && a->seg == b->seg &&
           a->service == b->service && a->minute == b->minute && a->child == b->child &&
           a->kind == b->kind && a->root == b->root &&
           (a->name == NULL ? b->name == NULL : b->name != NULL && strcmp(a->name, b->name) == 0);
}

static int sr_grow(store_rollup *r) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    sr_acc *a = realloc(r->accs, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    r->accs = a;
    r->cap = cap;
    size_t tc = 4 * cap;
    uint32_t *t = calloc(tc, sizeof(*t));
    if (t == NULL)
        return -1;
    free(r->table);
    r->table = t;
    r->table_cap = tc;
    for (size_t i = 0; i < r->n; i++) {
        size_t pos = (size_t)(r->accs[i].h & (tc - 1));
        while (t[pos])
            pos = (pos + 1) & (tc - 1);
        t[pos] = (uint32_t)(i + 1);
    }
    return 0;
}

/* The sum of key k (its name is borrowed: copied when new), or NULL when
 * out of memory. */
static sr_acc *sr_get(store_rollup *r, sr_acc *k) {
    k->h = sr_key_hash(k);
    if (r->table_cap == 0 || 2 * (r->n + 1) > r->table_cap) {
        if (sr_grow(r) != 0)
            return NULL;
    }
    size_t mask = r->table_cap - 1;
    for (size_t pos = (size_t)(k->h & mask);; pos = (pos + 1) & mask) {
        uint32_t v = r->table[pos];
        if (v == 0) {
            if (r->n == r->cap && sr_grow(r) != 0)
                return NULL;
            if (r->table[pos] != 0) /* the table was rebuilt: probe again */
                return sr_get(r, k);
            sr_acc *a = &r->accs[r->n];
            *a = *k;
            a->calls = a->errors = a->matched = 0;
            a->hist = NULL;
            a->name = NULL;
            if (k->name != NULL && (a->name = strdup(k->name)) == NULL)
                return NULL;
            if (k->table != SR_COUNTS) {
                if (r->nfree > 0) {
                    a->hist = r->free_hists[--r->nfree];
                    memset(a->hist, 0, sizeof(*a->hist));
                } else if ((a->hist = calloc(1, sizeof(*a->hist))) == NULL) {
                    free(a->name);
                    return NULL;
                }
            }
            r->table[pos] = (uint32_t)(++r->n);
            return a;
        }
        if (sr_key_eq(&r->accs[v - 1], k))
            return &r->accs[v - 1];
    }
}

static int sr_add(store_rollup *r, sr_acc *k, int64_t calls, int error, int64_t matched,
                  uint64_t dur) {
    sr_acc *a = sr_get(r, k);
    if (a == NULL)
        return SQLITE_NOMEM;
    a->calls += calls;
    a->errors += error;
    a->matched += matched;
    if (a->hist != NULL && calls > 0)
        a->hist->n[rollup_bucket(dur)] += (uint64_t)calls;
    return SQLITE_OK;
}

static int64_t sr_minute(uint64_t t) { return store_i64(t / ROLLUP_MINUTE_NS); }

int store_rollup_count(store_rollup *r, int64_t seg, int64_t service, uint64_t t, int error) {
    sr_acc k = {.table = SR_COUNTS, .seg = seg, .service = service, .minute = sr_minute(t)};
    return sr_add(r, &k, 1, error, 0, 0);
}

/* ---- the caches of spans and children ------------------------------------------------ */

static size_t sr_span_pos(const uint8_t trace_id[16], const uint8_t span_id[8], size_t slots) {
    uint64_t a, b, c;
    memcpy(&a, trace_id, 8);
    memcpy(&b, trace_id + 8, 8);
    memcpy(&c, span_id, 8);
    return (size_t)(hash_mix64(a ^ b ^ hash_mix64(c)) & (slots - 1));
}

static const sr_span *sr_span_find(const store_rollup *r, const uint8_t trace_id[16],
                                   const uint8_t span_id[8]) {
    const sr_span *s = &r->spans[sr_span_pos(trace_id, span_id, SR_SPAN_SLOTS)];
    if (s->used && memcmp(s->span_id, span_id, 8) == 0 && memcmp(s->trace_id, trace_id, 16) == 0)
        return s;
    return NULL;
}

/* The peer key's index (interned), or -1 past SR_PEERS_MAX. */
static int32_t sr_peer(store_rollup *r, const char *key) {
    uint64_t h = hash_64(key, strlen(key), 7);
    for (int i = 0; i < r->npeers; i++)
        if (r->peer_hash[i] == h && strcmp(r->peers[i], key) == 0)
            return i;
    if (r->npeers == SR_PEERS_MAX)
        return -1;
    char *c = strdup(key);
    if (c == NULL)
        return -1;
    r->peers[r->npeers] = c;
    r->peer_hash[r->npeers] = h;
    return r->npeers++;
}

/* ---- one batch of spans ---------------------------------------------------------------- */

/* The call of a child span (service, minute, error, duration) to its
 * parent p, in segment seg: an edge when the services differ, and for a
 * client parent the call's answer. */
static int sr_edge(store_rollup *r, int64_t seg, int64_t parent_service, int parent_kind,
                   int32_t parent_peer, int64_t parent_minute, int64_t child_service,
                   int64_t minute, int error, uint64_t dur) {
    if (parent_service == child_service)
        return SQLITE_OK;
    sr_acc k = {.table = SR_EDGES, .seg = seg, .service = parent_service, .minute = minute,
                .child = child_service};
    int rc = sr_add(r, &k, 1, error, 0, dur);
    if (rc == SQLITE_OK && parent_peer >= 0 &&
        (parent_kind == MODEL_SPAN_KIND_CLIENT || parent_kind == MODEL_SPAN_KIND_PRODUCER)) {
        sr_acc c = {.table = SR_CLIENTS, .seg = seg, .service = parent_service,
                    .minute = parent_minute, .name = r->peers[parent_peer]};
        rc = sr_add(r, &c, 0, 0, 1, 0);
    }
    return rc;
}

/* A child waits for its parent (the oldest waiting child of a full probe
 * window gives way). */
static void sr_wait(store_rollup *r, const model_span *sp, int64_t service, int64_t seg,
                    int64_t minute, uint64_t now) {
    size_t base = sr_span_pos(sp->trace_id, sp->parent_span_id, SR_PENDING_SLOTS);
    sr_pending *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < SR_PENDING_PROBES; i++) {
        sr_pending *p = &r->pending[(base + i) & (SR_PENDING_SLOTS - 1)];
        if (!p->used || now - p->since > SR_PENDING_TTL_NS) {
            slot = p;
            break;
        }
        if (oldest == NULL || p->since < oldest->since)
            oldest = p;
    }
    if (slot == NULL)
        slot = oldest;
    int was_waiting = slot->used && !slot->judged; /* an unjudged child gives way */
    memcpy(slot->trace_id, sp->trace_id, 16);
    memcpy(slot->parent_id, sp->parent_span_id, 8);
    memcpy(slot->span_id, sp->span_id, 8);
    slot->service = service;
    slot->minute = minute;
    slot->seg = seg;
    slot->start = sp->start_ns;
    slot->dur = sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0;
    slot->error = sp->status_code == MODEL_STATUS_ERROR;
    slot->kind = (uint8_t)sp->kind;
    slot->suspect = r->lint != NULL && lint_span_kind_suspect(sp);
    slot->judged = r->lint == NULL; /* nothing will judge it */
    if (was_waiting)
        r->waiting--;
    if (!slot->judged)
        r->waiting++;
    slot->since = now;
    slot->used = 1;
}

/* A span of this batch as the lint sees it. */
static store_lint_span sr_lint_span(const model_span *sp, int64_t service, int64_t seg) {
    store_lint_span x = {sp->trace_id, sp->span_id, sp->parent_span_id, service, seg,
                         {sp->start_ns, sp->end_ns, (int)sp->kind}, 0};
    return x;
}

/* The children that waited for span sp (now arrived), counted. */
static int sr_resolve(store_rollup *r, int64_t seg, const model_span *sp, int64_t service,
                      int32_t peer, int64_t minute) {
    size_t base = sr_span_pos(sp->trace_id, sp->span_id, SR_PENDING_SLOTS);
    for (size_t i = 0; i < SR_PENDING_PROBES; i++) {
        sr_pending *p = &r->pending[(base + i) & (SR_PENDING_SLOTS - 1)];
        if (!p->used || memcmp(p->parent_id, sp->span_id, 8) != 0 ||
            memcmp(p->trace_id, sp->trace_id, 16) != 0)
            continue;
        int rc = sr_edge(r, seg, service, (int)sp->kind, peer, minute, p->service, p->minute,
                         p->error, p->dur);
        if (rc != SQLITE_OK)
            return rc;
        if (!p->judged) {
            r->waiting--;
            store_lint_span c = {p->trace_id, p->span_id, p->parent_id, p->service, p->seg,
                                 {p->start, p->start + p->dur, p->kind}, p->suspect};
            store_lint_span par = sr_lint_span(sp, service, seg);
            store_lint_pair(r->lint, &c, &par);
        }
        p->used = 0;
    }
    return SQLITE_OK;
}

/* The batch's own spans by (trace, span id): index + 1, 0 = none. */
typedef struct sr_index {
    uint32_t *t;
    size_t cap;
} sr_index;

static size_t sr_index_find(const sr_index *x, const model_batch *b, const uint8_t trace_id[16],
                            const uint8_t span_id[8]) {
    size_t mask = x->cap - 1;
    for (size_t pos = sr_span_pos(trace_id, span_id, x->cap);; pos = (pos + 1) & mask) {
        uint32_t v = x->t[pos];
        if (v == 0)
            return 0;
        const model_span *s = &b->spans[v - 1];
        if (memcmp(s->span_id, span_id, 8) == 0 && memcmp(s->trace_id, trace_id, 16) == 0)
            return v;
    }
}

int store_rollup_batch(store_rollup *r, const model_batch *b, const int64_t *ids,
                       const int64_t *span_seg) {
    size_t n = b->n_spans;
    if (n == 0)
        return SQLITE_OK;
    sr_index x;
    x.cap = 16;
    while (x.cap < 2 * n)
        x.cap *= 2;
    x.t = calloc(x.cap, sizeof(*x.t));
    int32_t *peer = malloc(n * sizeof(*peer));
    if (x.t == NULL || peer == NULL) {
        free(x.t);
        free(peer);
        return SQLITE_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const model_span *sp = &b->spans[i];
        size_t pos = sr_span_pos(sp->trace_id, sp->span_id, x.cap);
        while (x.t[pos])
            pos = (pos + 1) & (x.cap - 1);
        x.t[pos] = (uint32_t)(i + 1);
        peer[i] = -1;
        if (sp->kind == MODEL_SPAN_KIND_CLIENT || sp->kind == MODEL_SPAN_KIND_PRODUCER) {
            char key[256];
            rollup_peer(&sp->attrs, key, sizeof(key));
            peer[i] = sr_peer(r, key);
        }
    }
    uint64_t now = store_mono_ns();
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        const model_span *sp = &b->spans[i];
        int64_t service = ids[3 * i + 1], seg = span_seg[i], minute = sr_minute(sp->start_ns);
        int error = sp->status_code == MODEL_STATUS_ERROR;
        uint64_t dur = sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0;
        /* entry operations: server and consumer spans, and roots */
        int root = !sp->has_parent;
        if (root || sp->kind == MODEL_SPAN_KIND_SERVER || sp->kind == MODEL_SPAN_KIND_CONSUMER) {
            char name[256];
            size_t nl = sp->name.len < sizeof(name) - 1 ? sp->name.len : sizeof(name) - 1;
            memcpy(name, sp->name.ptr ? sp->name.ptr : "", nl);
            name[nl] = '\0';
            sr_acc k = {.table = SR_OPS, .seg = seg, .service = service, .minute = minute,
                        .kind = (int)sp->kind, .root = root, .name = name};
            rc = sr_add(r, &k, 1, error, 0, dur);
        }
        if (rc == SQLITE_OK && peer[i] >= 0) {
            sr_acc k = {.table = SR_CLIENTS, .seg = seg, .service = service, .minute = minute,
                        .name = r->peers[peer[i]]};
            rc = sr_add(r, &k, 1, error, 0, dur);
        }
        /* this span's call to its parent */
        if (rc == SQLITE_OK && sp->has_parent) {
            size_t pi = sr_index_find(&x, b, sp->trace_id, sp->parent_span_id);
            if (pi) {
                const model_span *p = &b->spans[pi - 1];
                rc = sr_edge(r, seg, ids[3 * (pi - 1) + 1], (int)p->kind, peer[pi - 1],
                             sr_minute(p->start_ns), service, minute, error, dur);
                if (r->lint != NULL) {
                    store_lint_span c = sr_lint_span(sp, service, seg);
                    store_lint_span par = sr_lint_span(p, ids[3 * (pi - 1) + 1], span_seg[pi - 1]);
                    c.suspect = par.service != service && lint_span_kind_suspect(sp);
                    store_lint_pair(r->lint, &c, &par);
                }
            } else {
                const sr_span *p = sr_span_find(r, sp->trace_id, sp->parent_span_id);
                if (p != NULL)
                    rc = sr_edge(r, seg, p->service, p->kind, p->peer, p->minute, service, minute,
                                 error, dur);
                else
                    sr_wait(r, sp, service, seg, minute, now);
                if (p != NULL && r->lint != NULL) {
                    store_lint_span c = sr_lint_span(sp, service, seg);
                    store_lint_span par = {p->trace_id, p->span_id, NULL, p->service, 0,
                                           {p->start, p->end, p->kind}, 0};
                    c.suspect = par.service != service && lint_span_kind_suspect(sp);
                    store_lint_pair(r->lint, &c, &par);
                }
            }
        }
        /* children from earlier batches that waited for this span */
        if (rc == SQLITE_OK)
            rc = sr_resolve(r, seg, sp, service, peer[i], minute);
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        const model_span *sp = &b->spans[i];
        sr_span *s = &r->spans[sr_span_pos(sp->trace_id, sp->span_id, SR_SPAN_SLOTS)];
        memcpy(s->trace_id, sp->trace_id, 16);
        memcpy(s->span_id, sp->span_id, 8);
        s->service = ids[3 * i + 1];
        s->minute = sr_minute(sp->start_ns);
        s->start = sp->start_ns;
        s->end = sp->end_ns;
        s->kind = (uint8_t)sp->kind;
        s->peer = peer[i];
        s->used = 1;
    }
    free(x.t);
    free(peer);
    return rc;
}

/* ---- writing the sums ---------------------------------------------------------------------- */

static int sr_stmt_of(int table) {
    switch (table) {
    case SR_OPS:
        return SST_OPS_UPSERT;
    case SR_EDGES:
        return SST_EDGE_UPSERT;
    case SR_CLIENTS:
        return SST_CLIENT_UPSERT;
    default:
        return SST_COUNT_UPSERT;
    }
}

int store_rollup_flush(store *s) {
    store_writer *w = &s->w;
    store_rollup *r = w->rollup;
    int rc = SQLITE_OK;
    for (size_t i = 0; i < r->n && rc == SQLITE_OK; i++) {
        const sr_acc *a = &r->accs[i];
        store_seg *g = store_seg_by_id(w, a->seg);
        if (g == NULL)
            continue; /* the segment is gone (a drop in this transaction) */
        sqlite3_stmt *st = store_seg_stmt(w, g, sr_stmt_of(a->table), &rc);
        if (st == NULL)
            break;
        buf_reset(&r->blob);
        if (a->hist != NULL && rollup_hist_blob(a->hist, &r->blob) != BUF_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        int k = 1;
        sqlite3_bind_int64(st, k++, a->service);
        switch (a->table) {
        case SR_OPS:
            sqlite3_bind_text(st, k++, a->name, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, k++, a->kind);
            sqlite3_bind_int(st, k++, a->root);
            break;
        case SR_EDGES:
            sqlite3_bind_int64(st, k++, a->child);
            break;
        case SR_CLIENTS:
            sqlite3_bind_text(st, k++, a->name, -1, SQLITE_STATIC);
            break;
        }
        sqlite3_bind_int64(st, k++, a->minute);
        sqlite3_bind_int64(st, k++, a->calls);
        sqlite3_bind_int64(st, k++, a->errors);
        if (a->table == SR_CLIENTS)
            sqlite3_bind_int64(st, k++, a->matched);
        if (a->hist != NULL)
            sqlite3_bind_blob(st, k++, r->blob.len ? r->blob.ptr : "", (int)r->blob.len,
                              SQLITE_STATIC);
        rc = store_run(st);
    }
    sr_reset(r);
    return rc;
}
