/* ch_query_traces_map.c - the service map (GET /api/v1/service-map) from
 * ClickHouse; see ch_query.h.
 *
 * DESIGN
 * The SQLite store keeps the map's edges as rollups its writer joins while
 * spans arrive (store_rollup.c); here they are joined at query time, with
 * the same rules:
 *  - an edge A -> B for each span of service B in the window whose parent
 *    span (any time) is of service A != B, with the child's error and
 *    duration: spans ANY INNER JOIN spans USING (trace_id, pid), the ids
 *    renamed in the subqueries (ClickHouse 18.16 has no JOIN ON);
 *  - per (service, peer) the CLIENT and PRODUCER spans of the window, the
 *    peer named from their attributes as rollup_peer() names it (the
 *    expression below reads attr_keys / attr_values), and how many of them
 *    a span of another service answered; a peer no such span answered is
 *    a virtual node (a database, a queue, a host) with an edge from each
 *    caller.
 * Durations are counted in rollup.h's log-scale buckets (the bucket of a
 * duration computed in SQL, checked against the buckets' lower bounds,
 * which this file finds with rollup_bucket() itself), so edges and
 * virtual nodes get the SQLite store's percentiles exactly. Service nodes carry their entry
 * operations' figures from ops_minute (t-digest percentiles, as
 * /api/v1/services).
 *
 * Order: service nodes by name, then virtual nodes by key; edges by
 * (source, target), then the virtual ones by (caller, key). (The SQLite
 * store lists them in its services' id order.)
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "query_internal.h"
#include "rollup.h"

#define MAP_ANSWER_MAX ((size_t)64 << 20)
#define MAP_MINUTE ((uint64_t)ROLLUP_MINUTE_NS)
#define MAP_PEER_MAX 255 /* rollup_peer()'s key[256] */

/* ---- sums by key ------------------------------------------------------------------ */

typedef struct map_sum {
    char *a, *b; /* owned */
    int64_t calls, errors, matched;
    rollup_hist *h; /* owned */
    uint64_t p50, p99; /* ops: from the t-digest */
} map_sum;

typedef struct map_sums {
    map_sum *v;
    size_t n, cap;
} map_sums;

static void map_sums_free(map_sums *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].a);
        free(s->v[i].b);
        free(s->v[i].h);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static char *map_dup(const ch_field *f) {
    char *c = malloc(f->len + 1);
    if (c != NULL) {
        memcpy(c, f->ptr, f->len);
        c[f->len] = '\0';
    }
    return c;
}

/* The sum of (a, b) (b may be NULL), made when new; NULL when out of
 * memory. A linear search: services, edges and peers of a map. */
static map_sum *map_get(map_sums *s, const ch_field *a, const ch_field *b) {
    for (size_t i = 0; i < s->n; i++) {
        map_sum *x = &s->v[i];
        if (strlen(x->a) == a->len && memcmp(x->a, a->ptr, a->len) == 0 &&
            (b == NULL ? x->b == NULL
                       : x->b != NULL && strlen(x->b) == b->len && memcmp(x->b, b->ptr, b->len) == 0))
            return x;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        map_sum *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    map_sum *x = &s->v[s->n];
    memset(x, 0, sizeof(*x));
    x->a = map_dup(a);
    x->b = b ? map_dup(b) : NULL;
    x->h = calloc(1, sizeof(*x->h));
    if (x->a == NULL || (b && x->b == NULL) || x->h == NULL) {
        free(x->a);
        free(x->b);
        free(x->h);
        return NULL;
    }
    s->n++;
    return x;
}

static int map_cmp(const void *pa, const void *pb) {
    const map_sum *x = pa, *y = pb;
    int c = strcmp(x->a, y->a);
    if (c == 0 && x->b && y->b)
        c = strcmp(x->b, y->b);
    return c;
}

static void map_sort(map_sums *s) {
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), map_cmp);
}

/* ---- SQL pieces ---------------------------------------------------------------------- */

/* The buckets' lower bounds as an SQL array: element b (1-based) is the
 * least ns rollup_bucket() puts in bucket b or above. */
static void map_bounds_sql(buf *sql) {
    buf_append_char(sql, '[');
    uint64_t lo = 1;
    for (int b = 1; b < ROLLUP_BUCKETS; b++) {
        uint64_t hi = (uint64_t)1 << 62;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (rollup_bucket(mid) >= b)
                hi = mid;
            else
                lo = mid + 1;
        }
        buf_printf(sql, "%s%" PRIu64, b > 1 ? "," : "", lo);
    }
    buf_append_char(sql, ']');
}

/* The bucket (rollup_bucket()) of the duration column `dur` (of a
 * subquery): the bucket from log2 in SQL, moved by one where ClickHouse's
 * log2 rounds otherwise than C's, by the exact bounds. (ClickHouse 18.16's
 * lambdas do not see a query's columns, so no arrayCount over the bounds.) */
static void map_bucket_sql(buf *sql, const char *dur) {
    buf_printf(sql, "multiIf(%s < 1000, 0, g < 255 AND %s >= arrayElement(", dur, dur);
    map_bounds_sql(sql);
    buf_printf(sql, ", g + 1), g + 1, %s < arrayElement(", dur);
    map_bounds_sql(sql);
    buf_append_str(sql, ", g), g - 1, g)");
}

/* The first guess g of the bucket of `dur` (1..255; rollup_bucket()'s
 * formula), as a column. */
static void map_guess_sql(buf *sql, const char *dur) {
    buf_printf(sql,
               "least(255, greatest(1, toInt64(1 + floor(log2(greatest(%s, 1000) / 1000.) * %d))))"
               " AS g",
               dur, ROLLUP_PER_DOUBLING);
}

/* The value of span attribute `key` as text ('' when absent). */
static void map_attr(buf *sql, const char *key) {
    buf_append_str(sql, "attr_values[indexOf(attr_keys, ");
    ch_sql_quote_str(sql, key);
    buf_append_str(sql, ")]");
}

/* rollup_peer() of a span, from its attributes' text. */
static void map_peer_sql(buf *sql) {
    static const struct {
        const char *key, *prefix;
    } named[] = {{"service.peer.name", "service:"}, {"peer.service", "service:"},
                 {"db.system.name", "database:"}, {"db.system", "database:"},
                 {"messaging.system", "messaging:"}, {"server.address", "external:"}};
    buf_append_str(sql, "substring(multiIf(");
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        map_attr(sql, named[i].key);
        buf_append_str(sql, " != '', concat(");
        ch_sql_quote_str(sql, named[i].prefix);
        buf_append_str(sql, ", ");
        map_attr(sql, named[i].key);
        buf_append_str(sql, ", ");
        if (strcmp(named[i].prefix, "database:") == 0) {
            buf_append_str(sql, "if(");
            map_attr(sql, "server.address");
            buf_append_str(sql, " != '', concat('@', ");
            map_attr(sql, "server.address");
            buf_append_str(sql, "), '')");
        } else if (strcmp(named[i].prefix, "messaging:") == 0) {
            buf_append_str(sql, "if(");
            map_attr(sql, "messaging.destination.name");
            buf_append_str(sql, " != '', concat(' ', ");
            map_attr(sql, "messaging.destination.name");
            buf_append_str(sql, "), '')");
        } else if (strcmp(named[i].key, "server.address") == 0) {
            buf_append_str(sql, "if(match(");
            map_attr(sql, "server.port");
            buf_append_str(sql, ", '^-?[0-9]+$'), concat(':', ");
            map_attr(sql, "server.port");
            buf_append_str(sql, "), '')");
        } else {
            buf_append_str(sql, "''");
        }
        buf_append_str(sql, "), ");
    }
    /* the host of url.full: after "//", before '/', '?' or '#', without
     * user:password@ */
    buf_append_str(sql, "replaceRegexpOne(extract(");
    map_attr(sql, "url.full");
    buf_append_str(sql, ", '//([^/?#]*)'), '^[^@]*@', '') != '', concat('external:',"
                        " replaceRegexpOne(extract(");
    map_attr(sql, "url.full");
    buf_append_str(sql, ", '//([^/?#]*)'), '^[^@]*@', '')), ");
    map_attr(sql, "net.peer.name");
    buf_append_str(sql, " != '', concat('external:', ");
    map_attr(sql, "net.peer.name");
    buf_printf(sql, "), 'external:unknown'), 1, %d)", MAP_PEER_MAX);
}

#define MAP_DUR "if(end_ns > time, end_ns - time, 0)"

/* " AND time >= A AND time < B" (the window's minutes) and the age limit. */
static void map_window_cond(store_reader *r, uint64_t lo, uint64_t hi, buf *sql) {
    buf_printf(sql, " AND time >= %" PRIu64 " AND time < %" PRIu64, lo * MAP_MINUTE,
               hi * MAP_MINUTE);
    chq_age_cond(r, sql, "time");
}

/* Edges: rows (parent service, child service, bucket, calls, errors). */
static void map_edges_sql(store_reader *r, uint64_t lo, uint64_t hi, buf *sql) {
    buf_append_str(sql, "SELECT psvc, csvc, b, count(), countIf(err) FROM (SELECT trace_id, pid,"
                        " csvc, err, ");
    map_bucket_sql(sql, "dur");
    buf_append_str(sql, " AS b FROM (SELECT trace_id, parent_span_id AS pid, service AS csvc,"
                        " status_code = 2 AS err, " MAP_DUR " AS dur, ");
    map_guess_sql(sql, MAP_DUR);
    buf_append_str(sql, " FROM " CH_SPANS " WHERE has_parent = 1");
    map_window_cond(r, lo, hi, sql);
    /* the parents: spans of the traces with children in the window (the
     * right side of a join is held in memory) */
    buf_append_str(sql, ")) ANY INNER JOIN (SELECT trace_id, span_id AS pid, service AS psvc FROM "
                        CH_SPANS " WHERE trace_id GLOBAL IN (SELECT trace_id FROM " CH_SPANS
                        " WHERE has_parent = 1");
    map_window_cond(r, lo, hi, sql);
    buf_append_str(sql, ")");
    chq_age_cond(r, sql, "time");
    buf_append_str(sql, ") USING (trace_id, pid) WHERE psvc != csvc GROUP BY psvc, csvc, b");
}

/* Client calls: rows (service, peer, bucket, calls, errors). */
static void map_clients_sql(store_reader *r, uint64_t lo, uint64_t hi, buf *sql) {
    buf_append_str(sql, "SELECT service, peer, ");
    map_bucket_sql(sql, "dur");
    buf_append_str(sql, " AS b, count(), countIf(err) FROM (SELECT service, ");
    map_peer_sql(sql);
    buf_append_str(sql, " AS peer, status_code = 2 AS err, " MAP_DUR " AS dur, ");
    map_guess_sql(sql, MAP_DUR);
    buf_append_str(sql, " FROM " CH_SPANS " WHERE kind IN (3, 4)");
    map_window_cond(r, lo, hi, sql);
    buf_append_str(sql, ") GROUP BY service, peer, b");
}

/* Answered client calls: rows (service, peer, children of another service). */
static void map_matched_sql(store_reader *r, uint64_t lo, uint64_t hi, buf *sql) {
    buf_append_str(sql, "SELECT psvc, ppeer, count() FROM (SELECT trace_id, parent_span_id AS pid,"
                        " service AS csvc FROM " CH_SPANS " WHERE has_parent = 1"
                        " AND trace_id GLOBAL IN (SELECT trace_id FROM " CH_SPANS " WHERE kind IN (3, 4)");
    map_window_cond(r, lo, hi, sql);
    buf_append_str(sql, ")");
    chq_age_cond(r, sql, "time");
    buf_append_str(sql, ") ANY INNER JOIN (SELECT trace_id, span_id AS pid, service AS psvc, ");
    map_peer_sql(sql);
    buf_append_str(sql, " AS ppeer FROM " CH_SPANS " WHERE kind IN (3, 4)");
    map_window_cond(r, lo, hi, sql);
    buf_append_str(sql, ") USING (trace_id, pid) WHERE psvc != csvc GROUP BY psvc, ppeer");
}

/* Entry operations per service: rows (service, calls, errors, [p50, p95, p99]). */
static void map_ops_sql(store_reader *r, uint64_t lo, uint64_t hi, buf *sql) {
    buf_printf(sql,
               "SELECT service, sum(calls), sum(errors), quantilesTDigestMerge(0.5, 0.95, 0.99)(dur)"
               " FROM " CH_OPS " WHERE minute >= %" PRIu64 " AND minute < %" PRIu64,
               lo, hi);
    uint64_t t = chq_min_time(r);
    if (t)
        buf_printf(sql, " AND minute >= %" PRIu64, t / MAP_MINUTE);
    buf_append_str(sql, " GROUP BY service");
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The n-th number of an array field "[a,b,c]", rounded (0 when missing). */
static uint64_t map_quantile(const ch_field *f, int n) {
    const char *p = f->ptr;
    if (p == NULL || *p != '[')
        return 0;
    p++;
    for (int i = 0;; i++) {
        char *e;
        double v = strtod(p, &e);
        if (e == p)
            return 0;
        if (i == n)
            return isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
        if (*e != ',')
            return 0;
        p = e + 1;
    }
}

/* Runs sql and adds its rows to s: fields a, b (when with_b), then by
 * `shape`: 0 (bucket, calls, errors), 1 (matched), 2 (calls, errors,
 * quantiles). */
static int map_collect(store_reader *r, buf *sql, int with_b, int shape, map_sums *s) {
    buf ans;
    buf_init(&ans, MAP_ANSWER_MAX);
    int rc = chq_run(r, sql, &ans);
    size_t ncols = (size_t)(with_b ? 2 : 1) + (shape == 0 ? 3 : shape == 1 ? 1 : 3);
    char *p = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[8];
    int k;
    while (rc == QUERY_OK && (k = ch_tsv_row(&p, end, f, ncols)) != 0) {
        if (k != (int)ncols) {
            rc = QUERY_EDB;
            break;
        }
        map_sum *x = map_get(s, &f[0], with_b ? &f[1] : NULL);
        if (x == NULL) {
            rc = QUERY_ENOMEM;
            break;
        }
        const ch_field *v = &f[with_b ? 2 : 1];
        if (shape == 0) {
            uint64_t b = ch_field_u64(&v[0]), n = ch_field_u64(&v[1]);
            x->h->n[b < ROLLUP_BUCKETS ? b : ROLLUP_BUCKETS - 1] += n;
            x->calls += (int64_t)n;
            x->errors += (int64_t)ch_field_u64(&v[2]);
        } else if (shape == 1) {
            x->matched += (int64_t)ch_field_u64(&v[0]);
        } else {
            x->calls += (int64_t)ch_field_u64(&v[0]);
            x->errors += (int64_t)ch_field_u64(&v[1]);
            x->p50 = map_quantile(&v[2], 0);
            x->p99 = map_quantile(&v[2], 2);
        }
    }
    buf_free(&ans);
    buf_reset(sql);
    return rc;
}

/* ---- the answer ------------------------------------------------------------------------------ */

static void map_red(jw *w, int64_t calls, int64_t errors, uint64_t p50, uint64_t p99) {
    jw_key(w, "calls");
    jw_int(w, calls);
    jw_key(w, "errors");
    jw_int(w, errors);
    jw_key(w, "p50Ns");
    jw_uint(w, p50);
    jw_key(w, "p99Ns");
    jw_uint(w, p99);
}

static void map_node(jw *w, const char *id, const char *kind, const char *name, const map_sum *x,
                     int hist) {
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "kind");
    jw_string(w, kind);
    jw_key(w, "name");
    jw_string(w, name);
    if (x == NULL)
        map_red(w, 0, 0, 0, 0);
    else if (hist)
        map_red(w, x->calls, x->errors, rollup_hist_quantile(x->h, 0.5),
                rollup_hist_quantile(x->h, 0.99));
    else
        map_red(w, x->calls, x->errors, x->p50, x->p99);
    jw_object_end(w);
}

static void map_edge(jw *w, const char *source, const char *target, const map_sum *x) {
    jw_object_begin(w);
    jw_key(w, "source");
    jw_string(w, source);
    jw_key(w, "target");
    jw_string(w, target);
    map_red(w, x->calls, x->errors, rollup_hist_quantile(x->h, 0.5),
            rollup_hist_quantile(x->h, 0.99));
    jw_object_end(w);
}

static const map_sum *map_find(const map_sums *s, const char *a, const char *b) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].a, a) == 0 &&
            (b == NULL ? s->v[i].b == NULL : s->v[i].b && strcmp(s->v[i].b, b) == 0))
            return &s->v[i];
    return NULL;
}

/* A client (service, peer) no instrumented child answered. */
static int map_virtual(const map_sums *matched, const map_sum *c) {
    const map_sum *m = map_find(matched, c->a, c->b);
    return c->calls > 0 && (m == NULL || m->matched == 0);
}

static int map_add_name(map_sums *nodes, const char *name) {
    ch_field f = {(char *)name, strlen(name)};
    return map_get(nodes, &f, NULL) == NULL ? QUERY_ENOMEM : QUERY_OK;
}

static int map_write(map_sums *ops, map_sums *edges, map_sums *clients, map_sums *matched,
                     buf *out) {
    map_sums nodes = {0}, peers = {0};
    int rc = QUERY_OK;
    for (size_t i = 0; i < ops->n && rc == QUERY_OK; i++)
        rc = map_add_name(&nodes, ops->v[i].a);
    for (size_t i = 0; i < edges->n && rc == QUERY_OK; i++) {
        rc = map_add_name(&nodes, edges->v[i].a);
        if (rc == QUERY_OK)
            rc = map_add_name(&nodes, edges->v[i].b);
    }
    for (size_t i = 0; i < clients->n && rc == QUERY_OK; i++)
        rc = map_add_name(&nodes, clients->v[i].a);
    for (size_t i = 0; i < clients->n && rc == QUERY_OK; i++) {
        const map_sum *c = &clients->v[i];
        if (!map_virtual(matched, c))
            continue;
        ch_field k = {c->b, strlen(c->b)};
        map_sum *x = map_get(&peers, &k, NULL);
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
        map_sort(&nodes);
        map_sort(&peers);
        map_sort(edges);
        map_sort(clients);
        jw w;
        jw_init(&w, out);
        jw_object_begin(&w);
        jw_key(&w, "nodes");
        jw_array_begin(&w);
        for (size_t i = 0; i < nodes.n; i++)
            map_node(&w, nodes.v[i].a, "service", nodes.v[i].a,
                     map_find(ops, nodes.v[i].a, NULL), 0);
        for (size_t i = 0; i < peers.n; i++) {
            const char *key = peers.v[i].a, *colon = strchr(key, ':');
            map_node(&w, key, rollup_peer_kind(key), colon ? colon + 1 : key, &peers.v[i], 1);
        }
        jw_array_end(&w);
        jw_key(&w, "edges");
        jw_array_begin(&w);
        for (size_t i = 0; i < edges->n; i++)
            map_edge(&w, edges->v[i].a, edges->v[i].b, &edges->v[i]);
        for (size_t i = 0; i < clients->n; i++)
            if (map_virtual(matched, &clients->v[i]))
                map_edge(&w, clients->v[i].a, clients->v[i].b, &clients->v[i]);
        jw_array_end(&w);
        jw_object_end(&w);
        if (jw_error(&w))
            rc = jw_error(&w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    }
    map_sums_free(&nodes);
    map_sums_free(&peers);
    return rc;
}

/* ---- the window (query_analytics.c's qa_window_of over trace_index's starts) ------------ */

static int map_window(store_reader *r, const query_window_params *p, uint64_t *lo,
                      uint64_t *hi) {
    uint64_t dmin = 0, dmax = 0;
    int any = 0, rc = QUERY_OK;
    if (!p->has_start || !p->has_end) {
        buf sql, ans;
        buf_init(&sql, 4096);
        buf_init(&ans, 4096);
        buf_append_str(&sql, "SELECT min(start), max(start), count() FROM " CH_TRACE_INDEX
                             " WHERE 1");
        chq_age_cond(r, &sql, "start");
        rc = chq_run(r, &sql, &ans);
        char *pp = ans.ptr, *end = ans.ptr + ans.len;
        ch_field f[3];
        if (rc == QUERY_OK && ch_tsv_row(&pp, end, f, 3) == 3 && ch_field_u64(&f[2]) > 0) {
            dmin = ch_field_u64(&f[0]);
            dmax = ch_field_u64(&f[1]);
            any = 1;
        }
        buf_free(&sql);
        buf_free(&ans);
    }
    int64_t s = p->has_start ? query_i64(p->start_ns) : (any ? query_i64(dmin) : 0);
    int64_t e = p->has_end ? query_i64(p->end_ns) : (any ? query_i64(dmax) + 1 : 0);
    if (e < s)
        e = s;
    int64_t m = (int64_t)MAP_MINUTE;
    *lo = (uint64_t)(s / m);
    *hi = (uint64_t)((e + m - 1) / m);
    if (*hi <= *lo)
        *hi = *lo + 1;
    return rc;
}

int chq_service_map(store_reader *r, const query_window_params *p, buf *out) {
    uint64_t lo, hi;
    int rc = map_window(r, p, &lo, &hi);
    map_sums ops = {0}, edges = {0}, clients = {0}, matched = {0};
    buf sql;
    buf_init(&sql, (size_t)1 << 20);
    if (rc == QUERY_OK) {
        map_ops_sql(r, lo, hi, &sql);
        rc = map_collect(r, &sql, 0, 2, &ops);
    }
    if (rc == QUERY_OK) {
        map_edges_sql(r, lo, hi, &sql);
        rc = map_collect(r, &sql, 1, 0, &edges);
    }
    if (rc == QUERY_OK) {
        map_clients_sql(r, lo, hi, &sql);
        rc = map_collect(r, &sql, 1, 0, &clients);
    }
    if (rc == QUERY_OK) {
        map_matched_sql(r, lo, hi, &sql);
        rc = map_collect(r, &sql, 1, 1, &matched);
    }
    if (rc == QUERY_OK)
        rc = map_write(&ops, &edges, &clients, &matched, out);
    map_sums_free(&ops);
    map_sums_free(&edges);
    map_sums_free(&clients);
    map_sums_free(&matched);
    buf_free(&sql);
    return rc;
}
