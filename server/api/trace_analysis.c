/* trace_analysis.c - critical path, self time, statistics and comparison of
 * traces, see trace_analysis.h. */
#include "trace_analysis.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

uint64_t trace_analysis_duration(const ta_span *s) {
    return s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
}

static uint64_t ta_end(const ta_span *s) {
    return s->end_ns > s->start_ns ? s->end_ns : s->start_ns;
}

static uint64_t ta_clamp(uint64_t v, uint64_t lo, uint64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the id index ---------------------------------------------------------- */

/* Open addressing over span ids: slots hold index + 1, 0 is empty. */
typedef struct ta_index {
    size_t *slot;
    size_t mask;
} ta_index;

static uint64_t ta_id_key(const uint8_t id[8]) {
    uint64_t k;
    memcpy(&k, id, sizeof(k));
    return hash_mix64(k);
}

static int ta_index_init(ta_index *x, size_t n) {
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    x->slot = calloc(cap, sizeof(*x->slot));
    x->mask = cap - 1;
    return x->slot != NULL ? 0 : -1;
}

/* The index of the span with this id, or TA_NONE. */
static size_t ta_index_find(const ta_index *x, const ta_span *spans, const uint8_t id[8]) {
    for (size_t p = ta_id_key(id) & x->mask;; p = (p + 1) & x->mask) {
        if (x->slot[p] == 0)
            return TA_NONE;
        if (memcmp(spans[x->slot[p] - 1].span_id, id, 8) == 0)
            return x->slot[p] - 1;
    }
}

/* Adds span i unless its id is there already; returns 1 when added. */
static int ta_index_add(ta_index *x, const ta_span *spans, size_t i) {
    for (size_t p = ta_id_key(spans[i].span_id) & x->mask;; p = (p + 1) & x->mask) {
        if (x->slot[p] == 0) {
            x->slot[p] = i + 1;
            return 1;
        }
        if (memcmp(spans[x->slot[p] - 1].span_id, spans[i].span_id, 8) == 0)
            return 0;
    }
}

/* ---- the tree ---------------------------------------------------------------- */

/* Orders span indices by start time, then index. */
static int ta_by_start(const void *pa, const void *pb, void *ctx) {
    const ta_span *spans = ctx;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (spans[a].start_ns != spans[b].start_ns)
        return spans[a].start_ns < spans[b].start_ns ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Parents by id; duplicates ignored. */
static int ta_link_parents(ta_trace *t) {
    ta_index x;
    if (ta_index_init(&x, t->n) != 0)
        return TRACE_ANALYSIS_ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        t->ignored[i] = !ta_index_add(&x, t->spans, i);
    for (size_t i = 0; i < t->n; i++) {
        t->parent[i] = TA_NONE;
        if (t->ignored[i] || !t->spans[i].has_parent)
            continue;
        size_t p = ta_index_find(&x, t->spans, t->spans[i].parent_id);
        if (p != i)
            t->parent[i] = p;
    }
    free(x.slot);
    return TRACE_ANALYSIS_OK;
}

/* Makes the parent links a forest: walking up from each span, a span met
 * twice on the same walk closes a loop and becomes a root. */
static int ta_break_loops(ta_trace *t) {
    uint8_t *state = calloc(t->n ? t->n : 1, 1); /* 0 new, 1 on this walk, 2 done */
    size_t *walk = malloc((t->n ? t->n : 1) * sizeof(*walk));
    if (state == NULL || walk == NULL) {
        free(state);
        free(walk);
        return TRACE_ANALYSIS_ENOMEM;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t len = 0, j = i;
        while (j != TA_NONE && state[j] == 0) {
            state[j] = 1;
            walk[len++] = j;
            j = t->parent[j];
        }
        if (j != TA_NONE && state[j] == 1)
            t->parent[j] = TA_NONE;
        while (len > 0)
            state[walk[--len]] = 2;
    }
    free(state);
    free(walk);
    return TRACE_ANALYSIS_OK;
}

/* Children lists (counting sort into kids[]) and roots, by start time. */
static void ta_build_children(ta_trace *t) {
    size_t n = t->n;
    memset(t->kid_first, 0, (n + 1) * sizeof(*t->kid_first));
    for (size_t i = 0; i < n; i++)
        if (t->parent[i] != TA_NONE)
            t->kid_first[t->parent[i] + 1]++;
    for (size_t i = 0; i < n; i++)
        t->kid_first[i + 1] += t->kid_first[i];
    /* fill using roots[] as the write cursor of each parent for now */
    for (size_t i = 0; i < n; i++)
        t->roots[i] = t->kid_first[i];
    for (size_t i = 0; i < n; i++)
        if (t->parent[i] != TA_NONE)
            t->kids[t->roots[t->parent[i]]++] = i;
    for (size_t i = 0; i < n; i++)
        qsort_r(t->kids + t->kid_first[i], t->kid_first[i + 1] - t->kid_first[i],
                sizeof(size_t), ta_by_start, (void *)t->spans);
    t->n_roots = 0;
    for (size_t i = 0; i < n; i++)
        if (!t->ignored[i] && t->parent[i] == TA_NONE)
            t->roots[t->n_roots++] = i;
    qsort_r(t->roots, t->n_roots, sizeof(size_t), ta_by_start, (void *)t->spans);
}

/* ---- self time ------------------------------------------------------------------ */

/* Duration minus the union of the children's intervals clipped to the
 * span; children come by start, so one sweep merges them. */
static void ta_self_times(ta_trace *t) {
    for (size_t i = 0; i < t->n; i++) {
        const ta_span *s = &t->spans[i];
        uint64_t lo = s->start_ns, hi = ta_end(s), covered = 0, run_lo = 0, run_hi = 0;
        int open = 0;
        for (size_t k = t->kid_first[i]; k < t->kid_first[i + 1]; k++) {
            const ta_span *c = &t->spans[t->kids[k]];
            uint64_t cs = ta_clamp(c->start_ns, lo, hi), ce = ta_clamp(ta_end(c), lo, hi);
            if (ce <= cs)
                continue;
            if (open && cs <= run_hi) {
                if (ce > run_hi)
                    run_hi = ce;
                continue;
            }
            if (open)
                covered += run_hi - run_lo;
            run_lo = cs;
            run_hi = ce;
            open = 1;
        }
        if (open)
            covered += run_hi - run_lo;
        t->self_ns[i] = (hi - lo) - covered;
    }
}

/* ---- critical path ------------------------------------------------------------ */

/* Scratch of the walk: clipped intervals and children by clipped end. */
typedef struct ta_clip {
    uint64_t *cs, *ce;
} ta_clip;

typedef struct ta_frame {
    size_t span;
    uint64_t point; /* how far back the span's time is accounted for */
    size_t cursor;  /* next child to consider, in by_end order */
} ta_frame;

/* Orders span indices by clipped end, latest first; then earliest clipped
 * start (the longer wait); then index. */
static int ta_by_clipped_end(const void *pa, const void *pb, void *ctx) {
    const ta_clip *c = ctx;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (c->ce[a] != c->ce[b])
        return c->ce[a] > c->ce[b] ? -1 : 1;
    if (c->cs[a] != c->cs[b])
        return c->cs[a] < c->cs[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* The root that ends last; ties go to the earliest (roots are by start). */
static size_t ta_driving_root(const ta_trace *t) {
    size_t best = t->roots[0];
    for (size_t r = 1; r < t->n_roots; r++)
        if (ta_end(&t->spans[t->roots[r]]) > ta_end(&t->spans[best]))
            best = t->roots[r];
    return best;
}

/* Clipped intervals of the driving root's subtree, parents before children. */
static void ta_clip_subtree(const ta_trace *t, ta_clip *c, size_t *stack) {
    size_t top = 0;
    c->cs[t->root] = t->spans[t->root].start_ns;
    c->ce[t->root] = ta_end(&t->spans[t->root]);
    stack[top++] = t->root;
    while (top > 0) {
        size_t p = stack[--top];
        for (size_t k = t->kid_first[p]; k < t->kid_first[p + 1]; k++) {
            size_t i = t->kids[k];
            c->cs[i] = ta_clamp(t->spans[i].start_ns, c->cs[p], c->ce[p]);
            c->ce[i] = ta_clamp(ta_end(&t->spans[i]), c->cs[p], c->ce[p]);
            stack[top++] = i;
        }
    }
}

/* Appends [lo, hi) of span i to the path (built latest first), joining it
 * to the previous segment when that continues it. */
static void ta_path_add(ta_trace *t, size_t i, uint64_t lo, uint64_t hi) {
    if (hi <= lo)
        return;
    t->critical_ns[i] += hi - lo;
    if (t->n_path > 0) {
        ta_segment *last = &t->path[t->n_path - 1];
        if (last->span == i && last->start_ns == hi) {
            last->start_ns = lo;
            return;
        }
    }
    t->path[t->n_path++] = (ta_segment){i, lo, hi};
}

static int ta_critical_path(ta_trace *t) {
    size_t n = t->n;
    ta_clip c = {malloc(n * sizeof(uint64_t)), malloc(n * sizeof(uint64_t))};
    size_t *by_end = malloc(n * sizeof(size_t));
    ta_frame *stack = malloc(n * sizeof(ta_frame));
    int rc = TRACE_ANALYSIS_ENOMEM;
    if (c.cs == NULL || c.ce == NULL || by_end == NULL || stack == NULL)
        goto out;
    ta_clip_subtree(t, &c, by_end); /* by_end doubles as the stack here */
    memcpy(by_end, t->kids, n * sizeof(size_t));
    size_t top = 0;
    t->critical[t->root] = c.ce[t->root] > c.cs[t->root];
    stack[top++] = (ta_frame){t->root, c.ce[t->root], t->kid_first[t->root]};
    qsort_r(by_end + t->kid_first[t->root], t->kid_first[t->root + 1] - t->kid_first[t->root],
            sizeof(size_t), ta_by_clipped_end, &c);
    while (top > 0) {
        ta_frame *f = &stack[top - 1];
        size_t end = t->kid_first[f->span + 1];
        while (f->cursor < end && c.ce[by_end[f->cursor]] > f->point)
            f->cursor++;
        if (f->cursor == end) {
            ta_path_add(t, f->span, c.cs[f->span], f->point);
            top--;
            continue;
        }
        size_t k = by_end[f->cursor++];
        ta_path_add(t, f->span, c.ce[k], f->point);
        f->point = c.cs[k];
        qsort_r(by_end + t->kid_first[k], t->kid_first[k + 1] - t->kid_first[k], sizeof(size_t),
                ta_by_clipped_end, &c);
        t->critical[k] = c.ce[k] > c.cs[k];
        stack[top++] = (ta_frame){k, c.ce[k], t->kid_first[k]};
    }
    /* built from the end backwards: make it chronological */
    for (size_t i = 0, j = t->n_path; i + 1 < j; i++, j--) {
        ta_segment tmp = t->path[i];
        t->path[i] = t->path[j - 1];
        t->path[j - 1] = tmp;
    }
    rc = TRACE_ANALYSIS_OK;
out:
    free(c.cs);
    free(c.ce);
    free(by_end);
    free(stack);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------ */

static int ta_by_operation(const void *pa, const void *pb, void *ctx) {
    const ta_span *spans = ctx;
    const ta_span *a = &spans[*(const size_t *)pa], *b = &spans[*(const size_t *)pb];
    int d = strcmp(a->service, b->service);
    return d != 0 ? d : strcmp(a->name, b->name);
}

static int ta_by_self(const void *pa, const void *pb) {
    const ta_stat *a = pa, *b = pb;
    if (a->self_ns != b->self_ns)
        return a->self_ns > b->self_ns ? -1 : 1;
    int d = strcmp(a->service, b->service);
    return d != 0 ? d : strcmp(a->name, b->name);
}

static int ta_statistics(ta_trace *t) {
    size_t *order = malloc(t->n * sizeof(size_t));
    t->stats = calloc(t->n, sizeof(ta_stat));
    if (order == NULL || t->stats == NULL) {
        free(order);
        return TRACE_ANALYSIS_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!t->ignored[i])
            order[m++] = i;
    qsort_r(order, m, sizeof(size_t), ta_by_operation, (void *)t->spans);
    for (size_t k = 0; k < m; k++) {
        size_t i = order[k];
        const ta_span *s = &t->spans[i];
        if (t->n_stats == 0 || ta_by_operation(&order[k - 1], &order[k], (void *)t->spans) != 0)
            t->stats[t->n_stats++] = (ta_stat){.service = s->service, .name = s->name};
        ta_stat *st = &t->stats[t->n_stats - 1];
        st->count++;
        st->total_ns += trace_analysis_duration(s);
        st->self_ns += t->self_ns[i];
        st->critical_ns += t->critical_ns[i];
    }
    qsort(t->stats, t->n_stats, sizeof(ta_stat), ta_by_self);
    free(order);
    return TRACE_ANALYSIS_OK;
}

/* ---- the analysis ---------------------------------------------------------------- */

void trace_analysis_free(ta_trace *t) {
    if (t == NULL)
        return;
    free(t->parent);
    free(t->ignored);
    free(t->kid_first);
    free(t->kids);
    free(t->roots);
    free(t->self_ns);
    free(t->critical_ns);
    free(t->critical);
    free(t->path);
    free(t->stats);
    memset(t, 0, sizeof(*t));
}

int trace_analysis_run(const ta_span *spans, size_t n, ta_trace *t) {
    memset(t, 0, sizeof(*t));
    if (n == 0)
        return TRACE_ANALYSIS_EINVAL;
    t->spans = spans;
    t->n = n;
    t->parent = malloc(n * sizeof(size_t));
    t->ignored = malloc(n);
    t->kid_first = malloc((n + 1) * sizeof(size_t));
    t->kids = malloc(n * sizeof(size_t));
    t->roots = malloc(n * sizeof(size_t));
    t->self_ns = malloc(n * sizeof(uint64_t));
    t->critical_ns = calloc(n, sizeof(uint64_t));
    t->critical = calloc(n, 1);
    t->path = malloc((2 * n + 1) * sizeof(ta_segment));
    int rc = TRACE_ANALYSIS_ENOMEM;
    if (t->parent == NULL || t->ignored == NULL || t->kid_first == NULL || t->kids == NULL ||
        t->roots == NULL || t->self_ns == NULL || t->critical_ns == NULL || t->critical == NULL ||
        t->path == NULL)
        goto fail;
    rc = ta_link_parents(t);
    if (rc == TRACE_ANALYSIS_OK)
        rc = ta_break_loops(t);
    if (rc != TRACE_ANALYSIS_OK)
        goto fail;
    ta_build_children(t);
    t->start_ns = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (t->ignored[i])
            continue;
        if (spans[i].start_ns < t->start_ns)
            t->start_ns = spans[i].start_ns;
        if (ta_end(&spans[i]) > t->end_ns)
            t->end_ns = ta_end(&spans[i]);
    }
    ta_self_times(t);
    t->root = ta_driving_root(t);
    rc = ta_critical_path(t);
    if (rc == TRACE_ANALYSIS_OK)
        rc = ta_statistics(t);
    if (rc == TRACE_ANALYSIS_OK)
        return rc;
fail:
    trace_analysis_free(t);
    return rc;
}

/* ---- comparison ---------------------------------------------------------------------- */

/* A span of one side among its siblings, for matching. */
typedef struct ta_entry {
    const ta_span *span;
    size_t idx;   /* span index */
    size_t rank;  /* among siblings with the same service and name, by start */
} ta_entry;

/* A matched pair (either side may be TA_NONE) and where it goes. */
typedef struct ta_pair {
    size_t a, b;
    uint64_t offset; /* start offset in its own trace (a's when both) */
} ta_pair;

/* A node to write: a pair under a parent node. */
typedef struct ta_pending {
    size_t a, b, parent, depth;
} ta_pending;

static int ta_entry_cmp(const void *pa, const void *pb) {
    const ta_entry *a = pa, *b = pb;
    int d = strcmp(a->span->service, b->span->service);
    if (d == 0)
        d = strcmp(a->span->name, b->span->name);
    if (d != 0)
        return d;
    if (a->span->start_ns != b->span->start_ns)
        return a->span->start_ns < b->span->start_ns ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Orders by (service, name, start) and numbers equal (service, name). */
static void ta_entries_rank(ta_entry *e, size_t n) {
    qsort(e, n, sizeof(*e), ta_entry_cmp);
    for (size_t i = 0; i < n; i++) {
        int same = i > 0 && strcmp(e[i].span->service, e[i - 1].span->service) == 0 &&
                   strcmp(e[i].span->name, e[i - 1].span->name) == 0;
        e[i].rank = same ? e[i - 1].rank + 1 : 0;
    }
}

static int ta_entry_key_cmp(const ta_entry *a, const ta_entry *b) {
    int d = strcmp(a->span->service, b->span->service);
    if (d == 0)
        d = strcmp(a->span->name, b->span->name);
    if (d != 0)
        return d;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static int ta_pair_cmp(const void *pa, const void *pb) {
    const ta_pair *a = pa, *b = pb;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    /* present in a first, then by index */
    size_t ka = a->a != TA_NONE ? a->a : SIZE_MAX / 2 + a->b;
    size_t kb = b->a != TA_NONE ? b->a : SIZE_MAX / 2 + b->b;
    return ka < kb ? -1 : ka > kb;
}

/* Scratch of the merge, sized for the larger trace. */
typedef struct ta_merge {
    ta_entry *ea, *eb;
    ta_pair *pairs;
} ta_merge;

/* The children lists of a span (TA_NONE: the roots). */
static void ta_children_of(const ta_trace *t, size_t span, const size_t **list, size_t *n) {
    if (span == TA_NONE) {
        *list = t->roots;
        *n = t->n_roots;
    } else {
        *list = t->kids + t->kid_first[span];
        *n = t->kid_first[span + 1] - t->kid_first[span];
    }
}

/* Matches the children of a's span sa with those of b's span sb (either
 * TA_NONE: no children on that side, unless both are, meaning the roots).
 * Fills m->pairs in output order; returns how many. */
static size_t ta_merge_children(const ta_trace *a, size_t sa, const ta_trace *b, size_t sb,
                                int top, ta_merge *m) {
    const size_t *la = NULL, *lb = NULL;
    size_t na = 0, nb = 0;
    if (top || sa != TA_NONE)
        ta_children_of(a, sa, &la, &na);
    if (top || sb != TA_NONE)
        ta_children_of(b, sb, &lb, &nb);
    for (size_t i = 0; i < na; i++)
        m->ea[i] = (ta_entry){&a->spans[la[i]], la[i], 0};
    for (size_t i = 0; i < nb; i++)
        m->eb[i] = (ta_entry){&b->spans[lb[i]], lb[i], 0};
    ta_entries_rank(m->ea, na);
    ta_entries_rank(m->eb, nb);
    size_t i = 0, j = 0, np = 0;
    while (i < na || j < nb) {
        int d = i == na ? 1 : j == nb ? -1 : ta_entry_key_cmp(&m->ea[i], &m->eb[j]);
        ta_pair p = {TA_NONE, TA_NONE, 0};
        if (d <= 0) {
            p.a = m->ea[i++].idx;
            p.offset = a->spans[p.a].start_ns - a->start_ns;
        }
        if (d >= 0) {
            p.b = m->eb[j++].idx;
            if (p.a == TA_NONE)
                p.offset = b->spans[p.b].start_ns - b->start_ns;
        }
        m->pairs[np++] = p;
    }
    qsort(m->pairs, np, sizeof(ta_pair), ta_pair_cmp);
    return np;
}

void trace_analysis_compare_free(ta_compare *c) {
    if (c == NULL)
        return;
    free(c->nodes);
    memset(c, 0, sizeof(*c));
}

/* Spans of each side under each node: children come after their parent. */
static void ta_compare_count(ta_compare *c) {
    for (size_t i = 0; i < c->n; i++) {
        ta_cmp_node *nd = &c->nodes[i];
        nd->subtree_a = nd->a != TA_NONE;
        nd->subtree_b = nd->b != TA_NONE;
        if (nd->a != TA_NONE && nd->b != TA_NONE)
            c->both++;
        else if (nd->a != TA_NONE)
            c->only_a++;
        else
            c->only_b++;
    }
    for (size_t i = c->n; i-- > 0;) {
        ta_cmp_node *nd = &c->nodes[i];
        if (nd->parent != TA_NONE) {
            c->nodes[nd->parent].subtree_a += nd->subtree_a;
            c->nodes[nd->parent].subtree_b += nd->subtree_b;
        }
    }
}

int trace_analysis_compare(const ta_trace *a, const ta_trace *b, ta_compare *c) {
    memset(c, 0, sizeof(*c));
    size_t total = a->n + b->n;
    ta_merge m = {malloc((a->n ? a->n : 1) * sizeof(ta_entry)),
                  malloc((b->n ? b->n : 1) * sizeof(ta_entry)),
                  malloc((total ? total : 1) * sizeof(ta_pair))};
    ta_pending *stack = malloc((total ? total : 1) * sizeof(ta_pending));
    c->nodes = malloc((total ? total : 1) * sizeof(ta_cmp_node));
    int rc = TRACE_ANALYSIS_ENOMEM;
    if (m.ea == NULL || m.eb == NULL || m.pairs == NULL || stack == NULL || c->nodes == NULL)
        goto out;
    size_t top = 0;
    size_t np = ta_merge_children(a, TA_NONE, b, TA_NONE, 1, &m);
    for (size_t k = np; k-- > 0;)
        stack[top++] = (ta_pending){m.pairs[k].a, m.pairs[k].b, TA_NONE, 0};
    while (top > 0) {
        ta_pending p = stack[--top];
        size_t id = c->n++;
        const ta_span *s = p.a != TA_NONE ? &a->spans[p.a] : &b->spans[p.b];
        c->nodes[id] = (ta_cmp_node){.parent = p.parent, .depth = p.depth, .a = p.a, .b = p.b,
                                     .service = s->service, .name = s->name};
        np = ta_merge_children(a, p.a, b, p.b, 0, &m);
        for (size_t k = np; k-- > 0;)
            stack[top++] = (ta_pending){m.pairs[k].a, m.pairs[k].b, id, p.depth + 1};
    }
    ta_compare_count(c);
    rc = TRACE_ANALYSIS_OK;
out:
    free(m.ea);
    free(m.eb);
    free(m.pairs);
    free(stack);
    if (rc != TRACE_ANALYSIS_OK)
        trace_analysis_compare_free(c);
    return rc;
}
