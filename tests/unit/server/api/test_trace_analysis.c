/* test_trace_analysis.c - unit tests for server/api/trace_analysis.c: the
 * span tree, self time, the critical path, statistics and the merge of two
 * traces, on traces built by hand. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/trace_analysis.h"

/* ---- building traces ------------------------------------------------------- */

#define MAX_SPANS 64

typedef struct tb {
    ta_span s[MAX_SPANS];
    size_t n;
} tb;

/* Span ids are small numbers (id 0 is never used); parent 0 = no parent. */
static void id_of(unsigned id, uint8_t out[8]) {
    memset(out, 0, 8);
    out[6] = (uint8_t)(id >> 8);
    out[7] = (uint8_t)id;
}

static size_t add(tb *t, unsigned id, unsigned parent, const char *service, const char *name,
                  uint64_t start, uint64_t end) {
    ck_assert_uint_lt(t->n, MAX_SPANS);
    ta_span *s = &t->s[t->n];
    memset(s, 0, sizeof(*s));
    id_of(id, s->span_id);
    if (parent != 0) {
        id_of(parent, s->parent_id);
        s->has_parent = 1;
    }
    s->service = service;
    s->name = name;
    s->start_ns = start;
    s->end_ns = end;
    return t->n++;
}

static ta_trace run(const tb *t) {
    ta_trace a;
    ck_assert_int_eq(trace_analysis_run(t->s, t->n, &a), TRACE_ANALYSIS_OK);
    return a;
}

/* Asserts the critical path: triples of (span index, start, end). */
static void expect_path(const ta_trace *a, const size_t *want, size_t n) {
    char got[1024] = "";
    size_t off = 0;
    for (size_t k = 0; k < a->n_path && off < sizeof(got); k++)
        off += (size_t)snprintf(got + off, sizeof(got) - off, " [%zu %llu-%llu]", a->path[k].span,
                                (unsigned long long)a->path[k].start_ns,
                                (unsigned long long)a->path[k].end_ns);
    ck_assert_msg(a->n_path == n, "path has %zu segments, want %zu:%s", a->n_path, n, got);
    for (size_t k = 0; k < n; k++) {
        ck_assert_msg(a->path[k].span == want[3 * k] && a->path[k].start_ns == want[3 * k + 1] &&
                          a->path[k].end_ns == want[3 * k + 2],
                      "segment %zu differs:%s", k, got);
    }
}

/* The path is chronological, without gaps, from the driving root's start
 * to its end. */
static void expect_path_contiguous(const ta_trace *a) {
    ck_assert_uint_gt(a->n_path, 0);
    for (size_t k = 1; k < a->n_path; k++)
        ck_assert_uint_eq(a->path[k].start_ns, a->path[k - 1].end_ns);
}

/* ---- self time and critical path ------------------------------------------------ */

START_TEST(single_span) {
    tb t = {0};
    add(&t, 1, 0, "svc", "only", 5, 10);
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.n_roots, 1);
    ck_assert_uint_eq(a.root, 0);
    ck_assert_uint_eq(a.start_ns, 5);
    ck_assert_uint_eq(a.end_ns, 10);
    ck_assert_uint_eq(a.self_ns[0], 5);
    ck_assert_uint_eq(a.critical_ns[0], 5);
    ck_assert_int_eq(a.critical[0], 1);
    size_t want[] = {0, 5, 10};
    expect_path(&a, want, 1);
    ck_assert_uint_eq(a.n_stats, 1);
    ck_assert_str_eq(a.stats[0].service, "svc");
    ck_assert_str_eq(a.stats[0].name, "only");
    ck_assert_uint_eq(a.stats[0].count, 1);
    ck_assert_uint_eq(a.stats[0].total_ns, 5);
    ck_assert_uint_eq(a.stats[0].self_ns, 5);
    ck_assert_uint_eq(a.stats[0].critical_ns, 5);
    trace_analysis_free(&a);
    ck_assert_ptr_null(a.path); /* freed and zeroed */
    trace_analysis_free(&a);    /* twice is harmless */
}
END_TEST

START_TEST(no_spans) {
    ta_trace a;
    ck_assert_int_eq(trace_analysis_run(NULL, 0, &a), TRACE_ANALYSIS_EINVAL);
    ck_assert_ptr_null(a.parent);
    trace_analysis_free(NULL);
}
END_TEST

/* root 0-100 > A 10-40, B 50-90 one after the other */
START_TEST(sequential_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "db", "A", 10, 40);
    size_t y = add(&t, 3, 1, "db", "B", 50, 90);
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.self_ns[r], 30);
    ck_assert_uint_eq(a.self_ns[x], 30);
    ck_assert_uint_eq(a.self_ns[y], 40);
    size_t want[] = {r, 0, 10, x, 10, 40, r, 40, 50, y, 50, 90, r, 90, 100};
    expect_path(&a, want, 5);
    ck_assert_uint_eq(a.critical_ns[r], 30);
    ck_assert_uint_eq(a.critical_ns[x], 30);
    ck_assert_uint_eq(a.critical_ns[y], 40);
    ck_assert(a.critical[r] && a.critical[x] && a.critical[y]);
    trace_analysis_free(&a);
}
END_TEST

/* Children back to back: the parent has no time of its own on the path
 * but the path still goes through it. */
START_TEST(back_to_back_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 30);
    size_t x = add(&t, 2, 1, "fe", "A", 0, 10);
    size_t y = add(&t, 3, 1, "fe", "B", 10, 20);
    size_t z = add(&t, 4, 1, "fe", "C", 20, 30);
    ta_trace a = run(&t);
    size_t want[] = {x, 0, 10, y, 10, 20, z, 20, 30};
    expect_path(&a, want, 3);
    ck_assert_uint_eq(a.self_ns[r], 0);
    ck_assert_uint_eq(a.critical_ns[r], 0);
    ck_assert_int_eq(a.critical[r], 1);
    trace_analysis_free(&a);
}
END_TEST

/* root 0-100 > A 10-80 and B 10-60 at the same time: only A is waited on */
START_TEST(parallel_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "db", "A", 10, 80);
    size_t y = add(&t, 3, 1, "cache", "B", 10, 60);
    ta_trace a = run(&t);
    size_t want[] = {r, 0, 10, x, 10, 80, r, 80, 100};
    expect_path(&a, want, 3);
    ck_assert_uint_eq(a.self_ns[r], 30);
    ck_assert_uint_eq(a.critical_ns[y], 0);
    ck_assert_int_eq(a.critical[y], 0);
    ck_assert_uint_eq(a.critical_ns[r], 30);
    ck_assert_uint_eq(a.critical_ns[x], 70);
    trace_analysis_free(&a);
}
END_TEST

/* root 0-100 > A 10-60, B 40-90 (overlapping) > C 50-70: the path takes
 * B (it ends last), C inside it, and the root before B's start; A ends
 * after B started, so it is not waited on. */
START_TEST(overlapping_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "db", "A", 10, 60);
    size_t y = add(&t, 3, 1, "db", "B", 40, 90);
    size_t z = add(&t, 4, 3, "db", "C", 50, 70);
    ta_trace a = run(&t);
    size_t want[] = {r, 0, 40, y, 40, 50, z, 50, 70, y, 70, 90, r, 90, 100};
    expect_path(&a, want, 5);
    ck_assert_uint_eq(a.self_ns[r], 20); /* 100 - union(10-60, 40-90) */
    ck_assert_uint_eq(a.self_ns[y], 30);
    ck_assert_int_eq(a.critical[x], 0);
    ck_assert_uint_eq(a.critical_ns[r], 50);
    trace_analysis_free(&a);
}
END_TEST

/* A child that ends after its parent is clipped to the parent's end. */
START_TEST(child_outlives_parent) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "fe", "A", 10, 50);
    size_t y = add(&t, 3, 2, "mq", "async", 20, 80);
    ta_trace a = run(&t);
    size_t want[] = {r, 0, 10, x, 10, 20, y, 20, 50, r, 50, 100};
    expect_path(&a, want, 4);
    ck_assert_uint_eq(a.self_ns[x], 10); /* 40 - (20..50) */
    ck_assert_uint_eq(a.self_ns[y], 60); /* its own duration */
    ck_assert_uint_eq(a.critical_ns[y], 30);
    trace_analysis_free(&a);

    /* a child outliving the root: the trace lasts longer than the root,
     * the path stays within the root */
    tb u = {0};
    r = add(&u, 1, 0, "fe", "root", 0, 100);
    x = add(&u, 2, 1, "fe", "fire and forget", 50, 150);
    a = run(&u);
    ck_assert_uint_eq(a.end_ns, 150);
    size_t want2[] = {r, 0, 50, x, 50, 100};
    expect_path(&a, want2, 2);
    ck_assert_uint_eq(a.self_ns[r], 50);
    trace_analysis_free(&a);
}
END_TEST

/* Clock skew: a child starting before its parent starts with it; one
 * wholly before it is never on the path. */
START_TEST(clock_skewed_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 100, 200);
    size_t x = add(&t, 2, 1, "be", "skewed", 50, 150);
    size_t y = add(&t, 3, 1, "be", "before", 10, 40);
    size_t z = add(&t, 4, 2, "be", "grandchild", 60, 120);
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.start_ns, 10);
    ck_assert_uint_eq(a.end_ns, 200);
    /* the skewed child's child is clipped to the clipped child: 100-120 */
    size_t want[] = {z, 100, 120, x, 120, 150, r, 150, 200};
    expect_path(&a, want, 3);
    ck_assert_uint_eq(a.self_ns[r], 50);  /* 100 - (100..150) */
    ck_assert_uint_eq(a.self_ns[x], 40);  /* 100 - (60..120) */
    ck_assert_int_eq(a.critical[y], 0);
    ck_assert_uint_eq(a.critical_ns[y], 0);
    ck_assert_int_eq(a.critical[x], 1);
    trace_analysis_free(&a);
}
END_TEST

/* Children after the parent's end are clipped to nothing. */
START_TEST(child_after_parent) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "fe", "late", 120, 130);
    ta_trace a = run(&t);
    size_t want[] = {r, 0, 100};
    expect_path(&a, want, 1);
    ck_assert_int_eq(a.critical[x], 0);
    ck_assert_uint_eq(a.self_ns[r], 100);
    trace_analysis_free(&a);
}
END_TEST

/* Orphans (parent not in the trace) are roots; the root that ends last
 * drives the path. */
START_TEST(orphans) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 50);
    size_t o = add(&t, 7, 99, "worker", "job", 20, 120);
    size_t c = add(&t, 8, 7, "worker", "step", 30, 100);
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.n_roots, 2);
    ck_assert_uint_eq(a.roots[0], r); /* by start */
    ck_assert_uint_eq(a.roots[1], o);
    ck_assert_uint_eq(a.root, o);
    ck_assert_uint_eq(a.parent[o], TA_NONE);
    ck_assert_uint_eq(a.parent[c], o);
    size_t want[] = {o, 20, 30, c, 30, 100, o, 100, 120};
    expect_path(&a, want, 3);
    ck_assert_int_eq(a.critical[r], 0);
    ck_assert_uint_eq(a.self_ns[r], 50);
    ck_assert_uint_eq(a.end_ns - a.start_ns, 120);
    trace_analysis_free(&a);
}
END_TEST

/* Roots ending together: the one that started first drives. */
START_TEST(roots_ending_together) {
    tb t = {0};
    add(&t, 1, 90, "a", "late start", 40, 100);
    add(&t, 2, 91, "b", "early start", 10, 100);
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.root, 1);
    trace_analysis_free(&a);
}
END_TEST

/* A loop of parents never hangs: the span where the loop closes becomes a
 * root; spans sharing an id count once. */
START_TEST(parent_loops_and_duplicates) {
    tb t = {0};
    add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 3, "fe", "x", 10, 20);
    size_t y = add(&t, 3, 2, "fe", "y", 12, 18);
    size_t self = add(&t, 4, 4, "fe", "own parent", 30, 40);
    size_t dup = add(&t, 1, 0, "fe", "duplicate", 0, 500);
    ta_trace a = run(&t);
    ck_assert_int_eq(a.ignored[dup], 1);
    ck_assert_uint_eq(a.end_ns, 100); /* the duplicate is left out */
    ck_assert_uint_eq(a.parent[self], TA_NONE);
    ck_assert((a.parent[x] == TA_NONE) != (a.parent[y] == TA_NONE));
    ck_assert_uint_eq(a.n_roots, 3);
    ck_assert_uint_eq(a.root, 0);
    size_t spans = 0;
    for (size_t k = 0; k < a.n_stats; k++)
        spans += a.stats[k].count;
    ck_assert_uint_eq(spans, 4);
    trace_analysis_free(&a);
}
END_TEST

/* Zero-length children at the point reached are taken once each. */
START_TEST(zero_length_children) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 10);
    for (unsigned i = 0; i < 5; i++)
        add(&t, 10 + i, 1, "fe", "instant", 5, 5);
    add(&t, 20, 1, "fe", "end mark", 10, 10);
    ta_trace a = run(&t);
    size_t want[] = {r, 0, 10};
    expect_path(&a, want, 1);
    ck_assert_uint_eq(a.self_ns[r], 10);
    trace_analysis_free(&a);
}
END_TEST

/* An end before the start reads as a zero-length span. */
START_TEST(end_before_start) {
    tb t = {0};
    size_t r = add(&t, 1, 0, "fe", "root", 0, 100);
    size_t x = add(&t, 2, 1, "fe", "backwards", 60, 20);
    ta_trace a = run(&t);
    ck_assert_uint_eq(trace_analysis_duration(&t.s[x]), 0);
    ck_assert_uint_eq(a.self_ns[x], 0);
    ck_assert_uint_eq(a.self_ns[r], 100);
    trace_analysis_free(&a);
}
END_TEST

/* A chain far deeper than any C stack would allow recursion for. */
START_TEST(deep_chain) {
    enum { N = 200000 };
    ta_span *s = calloc(N, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    for (unsigned i = 0; i < N; i++) {
        uint8_t id[8] = {0};
        memcpy(id, &(uint32_t){i + 1}, 4);
        memcpy(s[i].span_id, id, 8);
        if (i > 0) {
            memcpy(id, &(uint32_t){i}, 4);
            memcpy(s[i].parent_id, id, 8);
            s[i].has_parent = 1;
        }
        s[i].service = "svc";
        s[i].name = "level";
        s[i].start_ns = i;
        s[i].end_ns = 2 * (uint64_t)N - i;
    }
    ta_trace a;
    ck_assert_int_eq(trace_analysis_run(s, N, &a), TRACE_ANALYSIS_OK);
    expect_path_contiguous(&a);
    ck_assert_uint_eq(a.path[0].start_ns, 0);
    ck_assert_uint_eq(a.path[a.n_path - 1].end_ns, 2 * (uint64_t)N);
    ck_assert_uint_eq(a.n_path, 2 * (size_t)N - 1);
    ck_assert_uint_eq(a.self_ns[0], 2);
    ck_assert_uint_eq(a.self_ns[N - 1], 2);
    ck_assert_uint_eq(a.critical_ns[N / 2], 2);
    ck_assert_uint_eq(a.n_stats, 1);
    ck_assert_uint_eq(a.stats[0].count, N);
    trace_analysis_free(&a);
    free(s);
}
END_TEST

/* A wide fan-out: the path holds the root's gaps and the children it
 * waited on, and its length is the root's duration. */
START_TEST(wide_fan_out) {
    enum { N = 5000 };
    ta_span *s = calloc(N, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    for (unsigned i = 0; i < N; i++) {
        memcpy(s[i].span_id, &(uint32_t){i + 1}, 4);
        if (i > 0) {
            memcpy(s[i].parent_id, &(uint32_t){1}, 4);
            s[i].has_parent = 1;
        }
        s[i].service = "svc";
        s[i].name = i ? "call" : "root";
        /* children of varied lengths, many overlapping */
        s[i].start_ns = i ? 10 + (i * 7919u) % 90000 : 0;
        s[i].end_ns = i ? s[i].start_ns + 1 + (i * 104729u) % 5000 : 100000;
    }
    ta_trace a;
    ck_assert_int_eq(trace_analysis_run(s, N, &a), TRACE_ANALYSIS_OK);
    expect_path_contiguous(&a);
    uint64_t sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += a.critical_ns[i];
    ck_assert_uint_eq(sum, 100000);
    ck_assert_uint_eq(a.path[0].start_ns, 0);
    ck_assert_uint_eq(a.path[a.n_path - 1].end_ns, 100000);
    trace_analysis_free(&a);
    free(s);
}
END_TEST

/* ---- statistics ---------------------------------------------------------------- */

START_TEST(statistics) {
    tb t = {0};
    add(&t, 1, 0, "fe", "GET /", 0, 100);
    add(&t, 2, 1, "db", "SELECT", 10, 30);
    add(&t, 3, 1, "db", "SELECT", 40, 70);
    add(&t, 4, 1, "cache", "get", 40, 50);
    add(&t, 5, 0, "fe", "GET /", 200, 210); /* a second root of the same operation */
    ta_trace a = run(&t);
    ck_assert_uint_eq(a.n_stats, 3);
    /* most self time first: GET / (100 - 50 + 10), SELECT 50, get 10 */
    ck_assert_str_eq(a.stats[0].service, "fe");
    ck_assert_uint_eq(a.stats[0].count, 2);
    ck_assert_uint_eq(a.stats[0].total_ns, 110);
    ck_assert_uint_eq(a.stats[0].self_ns, 60);
    ck_assert_uint_eq(a.stats[0].critical_ns, 10); /* the later root drives */
    ck_assert_str_eq(a.stats[1].name, "SELECT");
    ck_assert_uint_eq(a.stats[1].count, 2);
    ck_assert_uint_eq(a.stats[1].total_ns, 50);
    ck_assert_uint_eq(a.stats[1].self_ns, 50);
    ck_assert_str_eq(a.stats[2].service, "cache");
    ck_assert_uint_eq(a.stats[2].self_ns, 10);
    ck_assert_uint_eq(a.stats[2].critical_ns, 0);
    trace_analysis_free(&a);
}
END_TEST

/* ---- comparison -------------------------------------------------------------------- */

static const ta_cmp_node *find_node(const ta_compare *c, const char *name, size_t occurrence) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->nodes[i].name, name) == 0 && occurrence-- == 0)
            return &c->nodes[i];
    return NULL;
}

/* Merges a and b into *c and checks the node counts. */
static void merge(const ta_trace *a, const ta_trace *b, ta_compare *c, size_t n, size_t both,
                  size_t only_a, size_t only_b) {
    ck_assert_int_eq(trace_analysis_compare(a, b, c), TRACE_ANALYSIS_OK);
    ck_assert_uint_eq(c->n, n);
    ck_assert_uint_eq(c->both, both);
    ck_assert_uint_eq(c->only_a, only_a);
    ck_assert_uint_eq(c->only_b, only_b);
}

START_TEST(compare_two_traces) {
    /* a: GET /x 0-100 > SELECT 10-30, SELECT 40-60, cache get 60-70
     * b: GET /x 0-150 > SELECT 10-30, SELECT 40-100, SELECT 100-120, auth check 120-140 */
    tb ta = {0}, tbb = {0};
    add(&ta, 1, 0, "fe", "GET /x", 0, 100);
    add(&ta, 2, 1, "db", "SELECT", 10, 30);
    add(&ta, 3, 1, "db", "SELECT", 40, 60);
    add(&ta, 4, 1, "cache", "get", 60, 70);
    add(&tbb, 11, 0, "fe", "GET /x", 1000, 1150);
    add(&tbb, 12, 11, "db", "SELECT", 1010, 1030);
    add(&tbb, 13, 11, "db", "SELECT", 1040, 1100);
    add(&tbb, 14, 11, "db", "SELECT", 1100, 1120);
    add(&tbb, 15, 11, "auth", "check", 1120, 1140);
    ta_trace a = run(&ta), b = run(&tbb);
    ta_compare c;
    merge(&a, &b, &c, 6, 3, 1, 2);
    /* depth-first, children by start offset */
    const char *order[] = {"GET /x", "SELECT", "SELECT", "get", "SELECT", "check"};
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(c.nodes[i].name, order[i]);
    const ta_cmp_node *root = &c.nodes[0];
    ck_assert_uint_eq(root->parent, TA_NONE);
    ck_assert_uint_eq(root->a, 0);
    ck_assert_uint_eq(root->b, 0);
    ck_assert_uint_eq(root->subtree_a, 4);
    ck_assert_uint_eq(root->subtree_b, 5);
    const ta_cmp_node *s1 = find_node(&c, "SELECT", 1);
    ck_assert_uint_eq(s1->a, 2);
    ck_assert_uint_eq(s1->b, 2);
    ck_assert_uint_eq(trace_analysis_duration(&tbb.s[s1->b]), 60);
    ck_assert_uint_eq(trace_analysis_duration(&ta.s[s1->a]), 20);
    const ta_cmp_node *s2 = find_node(&c, "SELECT", 2);
    ck_assert_uint_eq(s2->a, TA_NONE);
    ck_assert_uint_eq(s2->b, 3);
    ck_assert_uint_eq(s2->depth, 1);
    ck_assert_uint_eq(s2->parent, 0);
    const ta_cmp_node *get = find_node(&c, "get", 0);
    ck_assert_uint_eq(get->b, TA_NONE);
    ck_assert_str_eq(get->service, "cache");
    ck_assert_uint_eq(find_node(&c, "check", 0)->a, TA_NONE);
    trace_analysis_compare_free(&c);
    trace_analysis_compare_free(&c); /* twice is harmless */
    trace_analysis_free(&a);
    trace_analysis_free(&b);
}
END_TEST

/* Matching follows the path from the root: the same operation under a
 * different parent is another node. */
START_TEST(compare_matches_by_path) {
    tb ta = {0}, tbb = {0};
    add(&ta, 1, 0, "fe", "root", 0, 100);
    add(&ta, 2, 1, "fe", "load", 10, 50);
    add(&ta, 3, 2, "db", "query", 20, 40);
    add(&tbb, 1, 0, "fe", "root", 0, 100);
    add(&tbb, 2, 1, "fe", "save", 10, 50);
    add(&tbb, 3, 2, "db", "query", 20, 40);
    ta_trace a = run(&ta), b = run(&tbb);
    ta_compare c;
    merge(&a, &b, &c, 5, 1, 2, 2);
    const ta_cmp_node *q0 = find_node(&c, "query", 0), *q1 = find_node(&c, "query", 1);
    ck_assert((q0->a == TA_NONE) != (q1->a == TA_NONE));
    ck_assert_uint_eq(q0->depth, 2);
    trace_analysis_compare_free(&c);
    trace_analysis_free(&a);
    trace_analysis_free(&b);
}
END_TEST

/* A trace compared with itself matches every span. */
START_TEST(compare_with_itself) {
    tb t = {0};
    add(&t, 1, 0, "fe", "root", 0, 100);
    add(&t, 2, 1, "db", "q", 10, 20);
    add(&t, 3, 1, "db", "q", 10, 20);
    add(&t, 4, 1, "db", "q", 30, 40);
    add(&t, 5, 99, "mq", "orphan", 50, 60);
    ta_trace a = run(&t);
    ta_compare c;
    merge(&a, &a, &c, 5, 5, 0, 0);
    for (size_t i = 0; i < c.n; i++)
        ck_assert_uint_eq(c.nodes[i].a, c.nodes[i].b);
    trace_analysis_compare_free(&c);
    trace_analysis_free(&a);
}
END_TEST

static Suite *trace_analysis_suite(void) {
    Suite *s = suite_create("trace_analysis");
    TCase *tc = tcase_create("path");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, single_span);
    tcase_add_test(tc, no_spans);
    tcase_add_test(tc, sequential_children);
    tcase_add_test(tc, back_to_back_children);
    tcase_add_test(tc, parallel_children);
    tcase_add_test(tc, overlapping_children);
    tcase_add_test(tc, child_outlives_parent);
    tcase_add_test(tc, clock_skewed_children);
    tcase_add_test(tc, child_after_parent);
    tcase_add_test(tc, orphans);
    tcase_add_test(tc, roots_ending_together);
    tcase_add_test(tc, parent_loops_and_duplicates);
    tcase_add_test(tc, zero_length_children);
    tcase_add_test(tc, end_before_start);
    tcase_add_test(tc, deep_chain);
    tcase_add_test(tc, wide_fan_out);
    tcase_add_test(tc, statistics);
    suite_add_tcase(s, tc);
    TCase *cc = tcase_create("compare");
    tcase_add_test(cc, compare_two_traces);
    tcase_add_test(cc, compare_matches_by_path);
    tcase_add_test(cc, compare_with_itself);
    suite_add_tcase(s, cc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(trace_analysis_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
