/* bench_query.c - latency of the query API's storage side at scale.
 *
 * Fills a database through store_append() (as the receivers do) with N
 * spans (8-span traces over 6 services, HTTP/DB attributes, a
 * high-cardinality user id, 2% errors, plus one 1,000-span trace) and N log
 * records (bodies of words, severities, trace ids, attributes), then times
 * the query_* functions directly on a read handle: each case runs REPS
 * times with varying parameters and p50/p95 are reported (worst cases: 5
 * times, p95 = the slowest). The store's limits are the item count, so it
 * is at its cap once filled. Then the main cases run again while another
 * thread keeps appending spans and logs at `rate` items per second each,
 * with retention dropping segments as they come. Not a test: numbers
 * depend on the machine (docs/benchmarks.md).
 *
 *   make build/bench/bench_query && build/bench/bench_query [items] [dir|-] [rate]
 *
 * items defaults to 1,000,000 spans and as many logs; with a directory
 * that already holds a filled database the fill is skipped; rate defaults
 * to 20,000 (0: no second run).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "storage/query.h"
#include "storage/store.h"

#define BATCH 512
#define SPANS_PER_TRACE 8
#define REPS 40
#define BASE_NS 1700000000000000000ULL

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "bench_query: %s\n", what);
    exit(1);
}

static model_str sdup(model_batch *b, const char *s) {
    model_str out = model_str_empty;
    if (model_str_dup(b, &out, s, strlen(s)) != 0)
        die("out of memory");
    return out;
}

static void kv_str(model_batch *b, model_kv *kv, const char *k, const char *v) {
    kv->key = sdup(b, k);
    kv->value.type = MODEL_VALUE_STRING;
    kv->value.u.str = sdup(b, v);
}

static void kv_int(model_batch *b, model_kv *kv, const char *k, int64_t v) {
    kv->key = sdup(b, k);
    kv->value.type = MODEL_VALUE_INT;
    kv->value.u.integer = v;
}

static void put_id(uint8_t *out, size_t n, uint64_t a, uint64_t b) {
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)((i < 8 ? a >> (8 * i) : b >> (8 * (i - 8))) ^ 0x5a);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const services[] = {"frontend", "cart", "checkout", "payment", "shipping",
                                       "recommendation"};
static const char *const routes[] = {"/api/cart", "/api/checkout", "/api/products/{id}",
                                     "/api/users/{id}/orders", "/healthz"};

static model_resource *resource(model_batch *b, int svc) {
    model_resource *r = arena_calloc(b->arena, 1, sizeof(*r));
    model_kv *kv = arena_calloc(b->arena, 4, sizeof(*kv));
    char inst[32];
    snprintf(inst, sizeof(inst), "pod-%d", svc * 3 + (int)(rnd() % 3));
    kv_str(b, &kv[0], "service.name", services[svc]);
    kv_str(b, &kv[1], "service.instance.id", inst);
    kv_str(b, &kv[2], "deployment.environment", "production");
    kv_str(b, &kv[3], "telemetry.sdk.language", "java");
    r->attrs.items = kv;
    r->attrs.n = 4;
    r->schema_url = model_str_empty;
    r->service_name = sdup(b, services[svc]);
    r->service_instance_id = sdup(b, inst);
    return r;
}

static model_scope *scope(model_batch *b) {
    model_scope *sc = arena_calloc(b->arena, 1, sizeof(*sc));
    sc->name = sdup(b, "io.opentelemetry.bench");
    sc->version = sdup(b, "1.0");
    sc->schema_url = model_str_empty;
    return sc;
}

/* Batch `seq` of spans: 64 traces of 8; trace `big` (seq == 0) is one
 * trace of 1,000 spans instead. Times advance 10 ms per batch. */
static model_batch *span_batch(uint64_t seq, int big) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    if (b == NULL)
        die("out of memory");
    size_t n = big ? 1000 : BATCH;
    model_resource *res[6];
    for (int i = 0; i < 6; i++)
        res[i] = resource(b, i);
    model_scope *sc = scope(b);
    b->spans = arena_calloc(b->arena, n, sizeof(*b->spans));
    b->n_spans = n;
    uint64_t base = BASE_NS + seq * 10000000ULL;
    for (size_t i = 0; i < n; i++) {
        model_span *sp = &b->spans[i];
        size_t per = big ? 1000 : SPANS_PER_TRACE;
        uint64_t trace = big ? 0xb16b16 : seq * (BATCH / SPANS_PER_TRACE) + i / per + 1;
        size_t pos = i % per;
        int svc = pos == 0 ? 0 : (int)(1 + (trace + pos) % 5);
        sp->resource = res[svc];
        sp->scope = sc;
        put_id(sp->trace_id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
        put_id(sp->span_id, 8, (seq << 20 | i) * 0xbf58476d1ce4e5b9ULL + 1, big);
        if (pos > 0) {
            put_id(sp->parent_span_id, 8, (seq << 20 | (i - pos)) * 0xbf58476d1ce4e5b9ULL + 1,
                   big);
            sp->has_parent = 1;
        }
        sp->trace_state = model_str_empty;
        const char *route = routes[(trace + pos) % 5];
        char name[96];
        if (pos == 0)
            snprintf(name, sizeof(name), "GET %s", route);
        else
            snprintf(name, sizeof(name), pos % 2 ? "SELECT shop.orders" : "%s call",
                     services[svc]);
        sp->name = sdup(b, name);
        sp->kind = pos == 0 ? MODEL_SPAN_KIND_SERVER : MODEL_SPAN_KIND_CLIENT;
        sp->start_ns = base + (i / per) * 100000 + pos * 1000;
        sp->end_ns = sp->start_ns + 50000 + rnd() % (pos == 0 ? 2000000 : 500000);
        int err = rnd() % 50 == 0;
        sp->status_code = err ? MODEL_STATUS_ERROR : MODEL_STATUS_UNSET;
        sp->status_message = err ? sdup(b, "connection reset") : model_str_empty;
        model_kv *kv = arena_calloc(b->arena, 8, sizeof(*kv));
        kv_str(b, &kv[0], "http.request.method", "GET");
        kv_str(b, &kv[1], "http.route", route);
        kv_int(b, &kv[2], "http.response.status_code", err ? 500 : (rnd() % 20 ? 200 : 404));
        char url[128], user[32];
        snprintf(url, sizeof(url), "https://shop.example.com%s?page=%d", route,
                 (int)(rnd() % 50));
        snprintf(user, sizeof(user), "u%d", (int)(rnd() % 100000));
        kv_str(b, &kv[3], "url.full", url);
        kv_str(b, &kv[4], "enduser.id", user);
        kv_int(b, &kv[5], "server.port", 443);
        kv_str(b, &kv[6], "db.system", pos % 2 ? "postgresql" : "none");
        kv_str(b, &kv[7], "thread.name", "http-nio-8080-exec-7");
        sp->attrs.items = kv;
        sp->attrs.n = 8;
    }
    return b;
}

static const char *const words[] = {"request", "completed", "timeout", "connection", "reset",
                                    "cache", "miss", "user", "order", "payment", "declined",
                                    "retry", "shipping", "label", "created", "inventory"};

static model_batch *log_batch(uint64_t seq) {
    model_batch *b = model_batch_new(MODEL_SIGNAL_LOGS, 0);
    if (b == NULL)
        die("out of memory");
    model_resource *res[6];
    for (int i = 0; i < 6; i++)
        res[i] = resource(b, i);
    model_scope *sc = scope(b);
    b->logs = arena_calloc(b->arena, BATCH, sizeof(*b->logs));
    b->n_logs = BATCH;
    uint64_t base = BASE_NS + seq * 10000000ULL;
    for (size_t i = 0; i < BATCH; i++) {
        model_log *l = &b->logs[i];
        int svc = (int)(rnd() % 6);
        l->resource = res[svc];
        l->scope = sc;
        l->time_ns = base + i * 1000;
        l->observed_time_ns = l->time_ns;
        uint64_t r = rnd();
        l->severity_number = r % 100 < 2 ? 17 : (r % 100 < 10 ? 13 : 9);
        l->severity_text = model_str_empty;
        l->event_name = model_str_empty;
        char body[160];
        int len = 0;
        for (int w = 0; w < 6; w++)
            len += snprintf(body + len, sizeof(body) - (size_t)len, "%s%s", w ? " " : "",
                            words[rnd() % 16]);
        snprintf(body + len, sizeof(body) - (size_t)len, " id=%d", (int)(rnd() % 1000000));
        l->body.type = MODEL_VALUE_STRING;
        l->body.u.str = sdup(b, body);
        if (rnd() % 2) {
            uint64_t trace = seq * (BATCH / SPANS_PER_TRACE) + i / SPANS_PER_TRACE + 1;
            put_id(l->trace_id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
            put_id(l->span_id, 8, (seq << 20 | i) * 0xbf58476d1ce4e5b9ULL + 1, 0);
            l->has_trace_id = l->has_span_id = 1;
        }
        model_kv *kv = arena_calloc(b->arena, 3, sizeof(*kv));
        char user[32];
        snprintf(user, sizeof(user), "u%d", (int)(rnd() % 100000));
        kv_str(b, &kv[0], "enduser.id", user);
        kv_str(b, &kv[1], "http.route", routes[rnd() % 5]);
        kv_int(b, &kv[2], "attempt", (int64_t)(rnd() % 4));
        l->attrs.items = kv;
        l->attrs.n = 3;
    }
    return b;
}

/* ---- filling ------------------------------------------------------------------ */

typedef struct progress {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long done, failed;
} progress;

static void on_done(void *ud, int status, const model_batch *b) {
    (void)b;
    progress *p = ud;
    pthread_mutex_lock(&p->mu);
    p->done++;
    p->failed += status != STORE_OK;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void append(store *s, progress *p, model_batch *(*make)(uint64_t), uint64_t seq,
                   long *sent) {
    for (;;) {
        model_batch *b = make(seq);
        int rc = store_append(s, b, on_done, p);
        if (rc == STORE_OK)
            break;
        if (rc != STORE_EFULL)
            die("store_append failed");
        pthread_mutex_lock(&p->mu);
        long seen = p->done;
        while (p->done == seen)
            pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    (*sent)++;
}

static model_batch *span_batch_seq(uint64_t seq) {
    return span_batch(seq, 0);
}

static model_batch *span_batch_big(uint64_t seq) {
    return span_batch(seq, 1);
}

static void fill(store *s, long items) {
    progress p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    long sent = 0, batches = items / BATCH;
    double t0 = now_s();
    for (long i = 1; i <= batches; i++) {
        append(s, &p, span_batch_seq, (uint64_t)i, &sent);
        append(s, &p, log_batch, (uint64_t)i, &sent);
        if (i % 200 == 0) {
            fprintf(stderr, "\r  filled %ld/%ld batches of each (%.0f s)", i, batches,
                    now_s() - t0);
        }
    }
    /* the big trace last, so that the newest segment holds it at the cap */
    append(s, &p, span_batch_big, 0, &sent);
    pthread_mutex_lock(&p.mu);
    while (p.done < sent)
        pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    fprintf(stderr, "\n");
    if (p.failed)
        die("batches failed");
    printf("filled %ld spans and %ld logs in %.1f s\n", batches * BATCH + 1000, batches * BATCH,
           now_s() - t0);
}

/* ---- timing ------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef int (*case_fn)(store_reader *db, int rep, buf *out);

static void run_case_n(store_reader *db, const char *name, case_fn fn, int reps) {
    double ms[REPS];
    buf out;
    buf_init(&out, 64 << 20);
    size_t bytes = 0;
    for (int r = 0; r < reps; r++) {
        buf_reset(&out);
        double t0 = now_s();
        int rc = fn(db, r, &out);
        ms[r] = (now_s() - t0) * 1000;
        if (rc != QUERY_OK) {
            fprintf(stderr, "%s: %s\n", name, query_strerror(rc));
            exit(1);
        }
        bytes += out.len;
    }
    qsort(ms, (size_t)reps, sizeof(double), cmp_double);
    printf("| %-52s | %8.1f | %8.1f | %8zu |\n", name, ms[reps / 2], ms[reps * 95 / 100],
           bytes / (size_t)reps);
    buf_free(&out);
}

static void run_case(store_reader *db, const char *name, case_fn fn) {
    run_case_n(db, name, fn, REPS);
}

static long g_batches;
static char g_cursor[REPS][64];

static int c_traces_all(store_reader *db, int r, buf *out) {
    (void)r;
    query_traces_params p = {.limit = 50};
    return query_traces(db, &p, out);
}

static int c_traces_service(store_reader *db, int r, buf *out) {
    query_traces_params p = {.limit = 50, .service = services[1 + r % 5]};
    return query_traces(db, &p, out);
}

static int c_traces_errors(store_reader *db, int r, buf *out) {
    query_traces_params p = {.limit = 50, .status = QUERY_STATUS_ERROR,
                             .service = r % 2 ? services[1 + r % 5] : NULL};
    return query_traces(db, &p, out);
}

static int c_traces_attr_500(store_reader *db, int r, buf *out) {
    (void)r;
    query_attr a = {"http.response.status_code", 25, QUERY_ATTR_EQ, "500", 3, 0};
    query_traces_params p = {.limit = 50, .attrs = &a, .n_attrs = 1};
    return query_traces(db, &p, out);
}

static int c_traces_attr_user(store_reader *db, int r, buf *out) {
    char user[32];
    int n = snprintf(user, sizeof(user), "u%d", r * 2311 % 100000);
    query_attr a = {"enduser.id", 10, QUERY_ATTR_EQ, user, (size_t)n, 0};
    query_traces_params p = {.limit = 50, .attrs = &a, .n_attrs = 1};
    return query_traces(db, &p, out);
}

static int c_traces_name_service(store_reader *db, int r, buf *out) {
    query_traces_params p = {.limit = 50, .service = "frontend", .name = "GET /api/checkout"};
    (void)r;
    return query_traces(db, &p, out);
}

static int c_traces_route_contains(store_reader *db, int r, buf *out) {
    (void)r;
    query_attr a = {"http.route", 10, QUERY_ATTR_CONTAINS, "orders", 6, 0};
    query_traces_params p = {.limit = 50, .attrs = &a, .n_attrs = 1};
    return query_traces(db, &p, out);
}

static int c_traces_min_duration(store_reader *db, int r, buf *out) {
    (void)r;
    query_traces_params p = {.limit = 50, .has_min_duration = 1, .min_duration_ns = 1900000};
    return query_traces(db, &p, out);
}

static int c_traces_window(store_reader *db, int r, buf *out) {
    uint64_t end = BASE_NS + (uint64_t)(g_batches - r * 37 % g_batches) * 10000000ULL;
    query_traces_params p = {.limit = 50, .has_start = 1, .has_end = 1,
                             .start_ns = end - 300000000000ULL, .end_ns = end,
                             .service = "payment"};
    return query_traces(db, &p, out);
}

static int c_traces_q(store_reader *db, int r, buf *out) {
    (void)r;
    query_traces_params p = {.limit = 50, .q = "checkout"};
    return query_traces(db, &p, out);
}

static int c_traces_page(store_reader *db, int r, buf *out) {
    query_traces_params p = {.limit = 50, .cursor = g_cursor[r][0] ? g_cursor[r] : NULL};
    return query_traces(db, &p, out);
}

/* Worst cases: selective filters no index answers walk everything. */
static int c_traces_q_none(store_reader *db, int r, buf *out) {
    (void)r;
    query_traces_params p = {.limit = 50, .q = "no-such-text"};
    return query_traces(db, &p, out);
}

static int c_traces_contains_rare(store_reader *db, int r, buf *out) {
    char v[16];
    int n = snprintf(v, sizeof(v), "u9999%d", r % 10);
    query_attr a = {"enduser.id", 10, QUERY_ATTR_CONTAINS, v, (size_t)n, 0};
    query_traces_params p = {.limit = 50, .attrs = &a, .n_attrs = 1};
    return query_traces(db, &p, out);
}

static int c_logs_fatal(store_reader *db, int r, buf *out) {
    (void)r;
    query_logs_params p = {.limit = 100, .min_severity = 21};
    return query_logs(db, &p, out);
}

static int c_trace_big(store_reader *db, int r, buf *out) {
    (void)r;
    uint8_t id[16];
    uint64_t trace = 0xb16b16;
    put_id(id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
    return query_trace(db, id, out);
}

/* A typical trace (8 spans over up to 6 services), a different one each
 * repetition, from the newest 70% of the fill (retention dropped the
 * oldest segments to reach the cap). */
static int c_trace_small(store_reader *db, int r, buf *out) {
    uint8_t id[16];
    /* batch 0 is the 1,000-span trace; batch seq >= 1 holds traces
     * seq * 64 + 1 .. seq * 64 + 64 */
    uint64_t first = (uint64_t)(g_batches * 3 / 10) * 64 + 1;
    uint64_t trace = first + (uint64_t)(r * 7919 % ((g_batches * 7 / 10) * 64));
    put_id(id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
    return query_trace(db, id, out);
}

static int c_logs_all(store_reader *db, int r, buf *out) {
    (void)r;
    query_logs_params p = {.limit = 100};
    return query_logs(db, &p, out);
}

static int c_logs_service_sev(store_reader *db, int r, buf *out) {
    query_logs_params p = {.limit = 100, .service = services[r % 6], .min_severity = 13};
    return query_logs(db, &p, out);
}

static int c_logs_errors(store_reader *db, int r, buf *out) {
    (void)r;
    query_logs_params p = {.limit = 100, .min_severity = 17};
    return query_logs(db, &p, out);
}

static int c_logs_q_common(store_reader *db, int r, buf *out) {
    query_logs_params p = {.limit = 100, .q = words[r % 16]};
    return query_logs(db, &p, out);
}

static int c_logs_q_two(store_reader *db, int r, buf *out) {
    (void)r;
    query_logs_params p = {.limit = 100, .q = "payment declined"};
    return query_logs(db, &p, out);
}

static int c_logs_q_rare(store_reader *db, int r, buf *out) {
    char q[32];
    snprintf(q, sizeof(q), "id=%d", r * 7919 % 1000000);
    query_logs_params p = {.limit = 100, .q = q};
    return query_logs(db, &p, out);
}

static int c_logs_trace(store_reader *db, int r, buf *out) {
    uint8_t id[16];
    uint64_t trace = (uint64_t)(r * 1013 % (g_batches * 64)) + 1;
    put_id(id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
    query_logs_params p = {.limit = 100, .trace_id = id};
    return query_logs(db, &p, out);
}

static int c_logs_attr_user(store_reader *db, int r, buf *out) {
    char user[32];
    int n = snprintf(user, sizeof(user), "u%d", r * 4111 % 100000);
    query_attr a = {"enduser.id", 10, QUERY_ATTR_EQ, user, (size_t)n, 0};
    query_logs_params p = {.limit = 100, .attrs = &a, .n_attrs = 1};
    return query_logs(db, &p, out);
}

static int c_logs_window(store_reader *db, int r, buf *out) {
    uint64_t end = BASE_NS + (uint64_t)(g_batches - r * 37 % g_batches) * 10000000ULL;
    query_logs_params p = {.limit = 100, .has_start = 1, .has_end = 1,
                           .start_ns = end - 60000000000ULL, .end_ns = end,
                           .service = "cart", .min_severity = 13};
    return query_logs(db, &p, out);
}

static int c_services(store_reader *db, int r, buf *out) {
    (void)r;
    return query_services(db, NULL, out);
}

static int c_services_window(store_reader *db, int r, buf *out) {
    uint64_t end = BASE_NS + (uint64_t)(g_batches - r * 37 % (g_batches / 2)) * 10000000ULL;
    query_window_params p = {1, 1, end - 3600000000000ULL, end};
    return query_services(db, &p, out);
}

static int c_map_all(store_reader *db, int r, buf *out) {
    (void)r;
    query_window_params p = {0, 0, 0, 0};
    return query_service_map(db, &p, out);
}

static int c_map_window(store_reader *db, int r, buf *out) {
    uint64_t end = BASE_NS + (uint64_t)(g_batches - r * 37 % (g_batches / 2)) * 10000000ULL;
    query_window_params p = {1, 1, end - 900000000000ULL, end};
    return query_service_map(db, &p, out);
}

static int c_operations(store_reader *db, int r, buf *out) {
    query_ops_params p = {.service = services[r % 6]};
    return query_operations(db, &p, out);
}

/* ---- ingest beside the queries ------------------------------------------------ */

typedef struct ingest {
    store *s;
    long rate;              /* items per second of each signal */
    uint64_t next_seq;      /* the next batch number */
    volatile int stop;      /* set by the main thread */
    pthread_t thread;
    progress p;
    long sent;
} ingest;

static ingest g_ingest;
static long g_recent_missing; /* recent traces not found */

/* The newest batch number the store has acknowledged (its spans are kept:
 * at the cap the store holds the newest ~85% of the limit). */
static uint64_t ingest_acked(void) {
    pthread_mutex_lock(&g_ingest.p.mu);
    long done = g_ingest.p.done;
    pthread_mutex_unlock(&g_ingest.p.mu);
    return (uint64_t)g_batches + (uint64_t)(done / 2);
}

/* Appends a span and a log batch every BATCH / rate seconds (due times
 * on the clock, so a late append does not slow the pace after it). */
static void *ingest_main(void *arg) {
    ingest *in = arg;
    double period = (double)BATCH / (double)in->rate, due = now_s();
    while (!in->stop) {
        append(in->s, &in->p, span_batch_seq, in->next_seq, &in->sent);
        append(in->s, &in->p, log_batch, in->next_seq, &in->sent);
        in->next_seq++;
        due += period;
        double wait = due - now_s();
        if (wait > 0)
            usleep((useconds_t)(wait * 1e6));
    }
    pthread_mutex_lock(&in->p.mu);
    while (in->p.done < in->sent)
        pthread_cond_wait(&in->p.cv, &in->p.mu);
    pthread_mutex_unlock(&in->p.mu);
    return NULL;
}

/* A trace appended by the ingest thread a moment ago. */
static int c_trace_recent(store_reader *db, int r, buf *out) {
    uint8_t id[16];
    uint64_t acked = ingest_acked(), back = (uint64_t)(r * 7 % 200) + 1;
    uint64_t seq = acked > (uint64_t)g_batches + back ? acked - back : (uint64_t)g_batches;
    uint64_t trace = seq * 64 + 1 + (uint64_t)(r * 13 % 64);
    put_id(id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
    int rc = query_trace(db, id, out);
    if (rc == QUERY_ENOTFOUND) { /* reported: it should not happen */
        g_recent_missing++;
        return QUERY_OK;
    }
    return rc;
}

/* Cursors of pages 2..41 of the unfiltered trace list. */
static void collect_cursors(store_reader *db) {
    buf out;
    buf_init(&out, 16 << 20);
    char cur[64] = "";
    for (int r = 0; r < REPS; r++) {
        query_traces_params p = {.limit = 50, .cursor = cur[0] ? cur : NULL};
        buf_reset(&out);
        if (query_traces(db, &p, &out) != QUERY_OK)
            die("query_traces");
        const char *k = strstr(out.ptr, "\"nextCursor\":\"");
        if (k == NULL)
            break;
        snprintf(cur, sizeof(cur), "%.32s", k + 14);
        snprintf(g_cursor[r], sizeof(g_cursor[r]), "%s", cur);
    }
    buf_free(&out);
}

int main(int argc, char **argv) {
    long items = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (items < BATCH || items > 20000000) {
        fprintf(stderr, "usage: %s [items %d..20000000] [dir]\n", argv[0], BATCH);
        return 2;
    }
    g_batches = items / BATCH;
    log_set_level(LOG_WARN);
    char dir[256];
    int own = argc <= 2 || strcmp(argv[2], "-") == 0; /* "-": a temporary directory */
    if (own) {
        snprintf(dir, sizeof(dir), "/tmp/loupe-bench-query-XXXXXX");
        if (mkdtemp(dir) == NULL)
            die("mkdtemp");
    } else {
        snprintf(dir, sizeof(dir), "%s", argv[2]);
    }
    char dbpath[300];
    snprintf(dbpath, sizeof(dbpath), "%s/loupe.db", dir);
    struct stat sb;
    int filled = stat(dbpath, &sb) == 0 && sb.st_size > 0;
    long rate = argc > 3 ? strtol(argv[3], NULL, 10) : 20000;
    if (rate < 0 || rate > 1000000) {
        fprintf(stderr, "bench_query: rate must be 0..1000000 items/s\n");
        return 2;
    }
    store_config cfg = {.mode = STORE_MODE_SQLITE, .data_dir = dir,
                        .max_spans = (uint64_t)items, .max_logs = (uint64_t)items};
    store *s;
    char err[256];
    if (store_open(&cfg, &s, err, sizeof(err)) != STORE_OK)
        die(err);
    if (!filled)
        fill(s, items);
    else
        printf("using the database in %s\n", dir);
    store_reader *db;
    if (store_reader_open(s, &db) != STORE_OK)
        die("store_reader_open");
    collect_cursors(db);
    printf("\n%ld spans, %ld logs; %d runs per case, milliseconds\n\n", g_batches * BATCH + 1000,
           g_batches * BATCH, REPS);
    printf("| %-52s | %8s | %8s | %8s |\n", "case", "p50 ms", "p95 ms", "bytes");
    printf("| %-52s | %8s | %8s | %8s |\n", "---", "---:", "---:", "---:");
    run_case(db, "traces: newest 50", c_traces_all);
    run_case(db, "traces: page 2..41 by cursor", c_traces_page);
    run_case(db, "traces: service=cart", c_traces_service);
    run_case(db, "traces: status=error (and a service)", c_traces_errors);
    run_case(db, "traces: attr http.response.status_code=500", c_traces_attr_500);
    run_case(db, "traces: attr enduser.id=uN (rare)", c_traces_attr_user);
    run_case(db, "traces: service + name", c_traces_name_service);
    run_case(db, "traces: attr http.route~orders", c_traces_route_contains);
    run_case(db, "traces: minDuration=1.9ms (rare)", c_traces_min_duration);
    run_case(db, "traces: service=payment, 5 min window", c_traces_window);
    run_case(db, "traces: q=checkout", c_traces_q);
    run_case(db, "trace by id: 8 spans", c_trace_small);
    run_case(db, "trace detail: 1,000 spans", c_trace_big);
    run_case(db, "logs: newest 100", c_logs_all);
    run_case(db, "logs: service + minSeverity=warn", c_logs_service_sev);
    run_case(db, "logs: minSeverity=error", c_logs_errors);
    run_case(db, "logs: q=<common word>", c_logs_q_common);
    run_case(db, "logs: q=payment declined", c_logs_q_two);
    run_case(db, "logs: q=id=N (rare)", c_logs_q_rare);
    run_case(db, "logs: traceId", c_logs_trace);
    run_case(db, "logs: attr enduser.id=uN (rare)", c_logs_attr_user);
    run_case(db, "logs: service=cart, warn+, 1 min window", c_logs_window);
    run_case(db, "services", c_services);
    run_case(db, "services: 1 h window, with rates and p99", c_services_window);
    run_case(db, "service map: everything stored", c_map_all);
    run_case(db, "service map: 15 min window", c_map_window);
    run_case(db, "operations of a service", c_operations);
    printf("\nworst cases (selective filters without an index: every row is read)\n\n");
    printf("| %-52s | %8s | %8s | %8s |\n", "case", "p50 ms", "p95 ms", "bytes");
    printf("| %-52s | %8s | %8s | %8s |\n", "---", "---:", "---:", "---:");
    run_case_n(db, "traces: q=no-such-text (no match)", c_traces_q_none, 5);
    run_case_n(db, "traces: attr enduser.id~u9999N (rare)", c_traces_contains_rare, 5);
    run_case_n(db, "logs: minSeverity=fatal (none stored)", c_logs_fatal, 5);
    if (rate > 0) {
        g_ingest = (ingest){.s = s, .rate = rate, .next_seq = (uint64_t)g_batches + 1};
        pthread_mutex_init(&g_ingest.p.mu, NULL);
        pthread_cond_init(&g_ingest.p.cv, NULL);
        if (pthread_create(&g_ingest.thread, NULL, ingest_main, &g_ingest) != 0)
            die("pthread_create");
        double t0 = now_s();
        printf("\nwhile appending %ld spans/s and %ld logs/s (the store at its cap, retention "
               "running)\n\n",
               rate, rate);
        printf("| %-52s | %8s | %8s | %8s |\n", "case", "p50 ms", "p95 ms", "bytes");
        printf("| %-52s | %8s | %8s | %8s |\n", "---", "---:", "---:", "---:");
        run_case(db, "traces: newest 50", c_traces_all);
        run_case(db, "traces: service=cart", c_traces_service);
        run_case(db, "traces: status=error (and a service)", c_traces_errors);
        run_case(db, "traces: attr http.response.status_code=500", c_traces_attr_500);
        run_case(db, "traces: q=checkout", c_traces_q);
        run_case(db, "trace by id: 8 spans, just appended", c_trace_recent);
        run_case(db, "logs: newest 100", c_logs_all);
        run_case(db, "logs: service + minSeverity=warn", c_logs_service_sev);
        run_case(db, "logs: q=<common word>", c_logs_q_common);
        run_case(db, "services", c_services);
        run_case(db, "service map: everything stored", c_map_all);
        run_case(db, "operations of a service", c_operations);
        g_ingest.stop = 1;
        pthread_join(g_ingest.thread, NULL);
        double secs = now_s() - t0;
        printf("\nappended %ld batches of %d in %.1f s: %.0f spans/s and as many logs/s%s; "
               "recent traces not found: %ld\n",
               g_ingest.sent, BATCH, secs, (double)g_ingest.sent / 2 * BATCH / secs,
               g_ingest.p.failed ? " (some batches FAILED)" : "", g_recent_missing);
    }
    store_reader_close(db);
    store_close(s);
    if (own) {
        char cmd[320];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
