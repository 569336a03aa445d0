/* bench_store.c - store throughput against the SQLite floor.
 *
 * Appends N batches of 512 spans with realistic attributes through
 * store_append() as fast as the ring accepts them (on EFULL it waits for the
 * next commit and builds the batch again, as a retrying exporter would) and
 * reports spans/s committed (first append to last callback). Then, in the
 * same run, a minimal prepared-statement loop inserts the same rows in
 * 512-row transactions into (a) loupe's own spans table with its indexes and
 * (b) a bare table with no secondary index, with the same pragmas (WAL,
 * synchronous=NORMAL), so the three figures compare directly.
 *
 *   cc -std=c11 -O2 -D_GNU_SOURCE -Iserver/util -Istorage \
 *      tests/bench/bench_store.c build/libloupe.a -lsqlite3 -pthread -lm \
 *      -o build/bench_store
 *   build/bench_store [batches] [memory] [store-only]
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "storage/model_json.h"
#include "storage/schema.h"
#include "storage/store.h"

#define SPANS_PER_BATCH 512
#define SPANS_PER_TRACE 8

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static model_str sdup(model_batch *b, const char *s) {
    model_str out = model_str_empty;
    if (model_str_dup(b, &out, s, strlen(s)) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
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

/* One batch of 512 spans: 64 traces of 8 spans, one service per batch
 * group, HTTP server/client and DB attributes as SDKs send them. */
static model_batch *make_batch(uint64_t seq) {
    static const char *routes[] = {"/api/cart", "/api/checkout", "/api/products/{id}",
                                   "/api/users/{id}/orders", "/healthz"};
    model_batch *b = model_batch_new(MODEL_SIGNAL_TRACES, 0);
    if (b == NULL)
        exit(1);
    model_resource *r = arena_calloc(b->arena, 1, sizeof(*r));
    model_kv *rk = arena_calloc(b->arena, 8, sizeof(*rk));
    char svc[32], inst[48];
    snprintf(svc, sizeof(svc), "service-%" PRIu64, seq % 6);
    snprintf(inst, sizeof(inst), "pod-%" PRIu64 "-7f9c4d", seq % 12);
    kv_str(b, &rk[0], "service.name", svc);
    kv_str(b, &rk[1], "service.version", "1.24.3");
    kv_str(b, &rk[2], "service.instance.id", inst);
    kv_str(b, &rk[3], "host.name", "ip-10-0-12-34.ec2.internal");
    kv_str(b, &rk[4], "telemetry.sdk.name", "opentelemetry");
    kv_str(b, &rk[5], "telemetry.sdk.language", "java");
    kv_str(b, &rk[6], "telemetry.sdk.version", "1.38.0");
    kv_str(b, &rk[7], "deployment.environment", "production");
    r->attrs.items = rk;
    r->attrs.n = 8;
    r->schema_url = model_str_empty;
    r->service_name = sdup(b, svc);
    r->service_instance_id = sdup(b, inst);
    model_scope *sc = arena_calloc(b->arena, 1, sizeof(*sc));
    sc->name = sdup(b, "io.opentelemetry.spring-webmvc-6.0");
    sc->version = sdup(b, "2.4.0-alpha");
    sc->schema_url = model_str_empty;

    b->spans = arena_calloc(b->arena, SPANS_PER_BATCH, sizeof(*b->spans));
    b->n_spans = SPANS_PER_BATCH;
    uint64_t base = 1700000000000000000ULL + seq * 1000000000ULL;
    for (size_t i = 0; i < SPANS_PER_BATCH; i++) {
        model_span *sp = &b->spans[i];
        uint64_t trace = seq * SPANS_PER_BATCH / SPANS_PER_TRACE + i / SPANS_PER_TRACE;
        size_t pos = i % SPANS_PER_TRACE;
        sp->resource = r;
        sp->scope = sc;
        put_id(sp->trace_id, 16, trace * 0x9e3779b97f4a7c15ULL + 1, trace);
        put_id(sp->span_id, 8, (seq << 20 | i) * 0xbf58476d1ce4e5b9ULL + 1, 0);
        if (pos > 0) {
            put_id(sp->parent_span_id, 8,
                   (seq << 20 | (i - pos)) * 0xbf58476d1ce4e5b9ULL + 1, 0);
            sp->has_parent = 1;
        }
        sp->trace_state = model_str_empty;
        sp->flags = 1;
        const char *route = routes[(trace + pos) % 5];
        char name[96];
        snprintf(name, sizeof(name), pos == 0 ? "GET %s" : pos % 2 ? "SELECT shop.%s" : "%s",
                 pos == 0 ? route : pos % 2 ? "orders" : "HTTP GET");
        sp->name = sdup(b, name);
        sp->kind = pos == 0 ? MODEL_SPAN_KIND_SERVER
                            : pos % 2 ? MODEL_SPAN_KIND_CLIENT : MODEL_SPAN_KIND_INTERNAL;
        sp->start_ns = base + i * 1000 + pos * 100;
        sp->end_ns = sp->start_ns + 250000 + (i * 7919) % 1000000;
        sp->status_code = (i % 50 == 0) ? MODEL_STATUS_ERROR : MODEL_STATUS_UNSET;
        sp->status_message = sp->status_code ? sdup(b, "connection reset") : model_str_empty;
        model_kv *kv = arena_calloc(b->arena, 9, sizeof(*kv));
        kv_str(b, &kv[0], "http.request.method", "GET");
        kv_str(b, &kv[1], "http.route", route);
        kv_int(b, &kv[2], "http.response.status_code", sp->status_code ? 500 : 200);
        char url[128];
        snprintf(url, sizeof(url), "https://shop.example.com%s?page=%zu", route, i % 13);
        kv_str(b, &kv[3], "url.full", url);
        kv_str(b, &kv[4], "server.address", "shop.example.com");
        kv_int(b, &kv[5], "server.port", 443);
        kv_str(b, &kv[6], "network.protocol.version", "1.1");
        kv_str(b, &kv[7], "user_agent.original",
               "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0");
        kv_str(b, &kv[8], "thread.name", "http-nio-8080-exec-7");
        sp->attrs.items = kv;
        sp->attrs.n = 9;
        if (sp->status_code) {
            sp->events = arena_calloc(b->arena, 1, sizeof(*sp->events));
            sp->n_events = 1;
            sp->events[0].name = sdup(b, "exception");
            sp->events[0].time_ns = sp->end_ns;
            model_kv *ek = arena_calloc(b->arena, 2, sizeof(*ek));
            kv_str(b, &ek[0], "exception.type", "java.net.SocketException");
            kv_str(b, &ek[1], "exception.message", "Connection reset by peer");
            sp->events[0].attrs.items = ek;
            sp->events[0].attrs.n = 2;
        }
    }
    return b;
}

/* ---- 1: through the store ------------------------------------------------ */

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

static double bench_store(const char *dir, int memory, long batches, long *efull) {
    /* BENCH_MAX_SPANS sets retention, to measure with eviction running */
    const char *max = getenv("BENCH_MAX_SPANS");
    store_config cfg = {.mode = memory ? STORE_MODE_MEMORY : STORE_MODE_SQLITE,
                        .data_dir = dir,
                        .max_spans = max ? strtoull(max, NULL, 10) : 100000000};
    store *s = NULL;
    char err[256];
    if (store_open(&cfg, &s, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(1);
    }
    progress p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    *efull = 0;
    double t0 = now_s(), t_make = 0, t_append = 0;
    for (long i = 0; i < batches; i++) {
        for (;;) {
            double m0 = now_s();
            model_batch *b = make_batch((uint64_t)i);
            double m1 = now_s();
            int rc = store_append(s, b, on_done, &p);
            t_make += m1 - m0;
            t_append += now_s() - m1;
            if (rc == STORE_OK)
                break;
            if (rc != STORE_EFULL) {
                fprintf(stderr, "store_append: %s\n", store_strerror(rc));
                exit(1);
            }
            (*efull)++;
            /* wait for the writer to finish something (or 50 ms), then
             * retry: the ring's budget frees up as batches commit */
            pthread_mutex_lock(&p.mu);
            long seen = p.done;
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 50000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            while (p.done == seen && pthread_cond_timedwait(&p.cv, &p.mu, &until) == 0)
                ;
            pthread_mutex_unlock(&p.mu);
        }
    }
    pthread_mutex_lock(&p.mu);
    while (p.done < batches)
        pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    double dt = now_s() - t0;
    printf("  producer: %.2f s building batches, %.2f s in store_append; total %.2f s\n",
           t_make, t_append, dt);
    store_stats st;
    store_get_stats(s, &st);
    store_close(s);
    if (p.failed) {
        fprintf(stderr, "%ld batches failed\n", p.failed);
        exit(1);
    }
    printf("  commits: %" PRIu64 " transactions for %ld batches (%.1f batches per commit)\n",
           st.commits, batches, (double)batches / (double)(st.commits ? st.commits : 1));
    return (double)(batches * SPANS_PER_BATCH) / dt;
}

/* ---- 2 and 3: raw prepared-statement loops --------------------------------- */

typedef struct row_texts {
    char *attrs, *events, *links;
} row_texts;

static char *render(void (*fn)(jw *, const model_span *), const model_span *sp) {
    buf out;
    buf_init(&out, 1 << 20);
    jw w;
    jw_init(&w, &out);
    fn(&w, sp);
    return buf_detach(&out, NULL);
}

static void attrs_fn(jw *w, const model_span *sp) {
    model_json_attrs(w, &sp->attrs);
}

static double bench_raw(const char *path, int bare, long batches) {
    sqlite3 *db;
    char err[256];
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
                 " PRAGMA temp_store=MEMORY; PRAGMA secure_delete=OFF;",
                 NULL, NULL, NULL);
    const char *table = "spans";
    if (bare) {
        table = "bare_spans";
        sqlite3_exec(db,
                     "CREATE TABLE bare_spans(id INTEGER PRIMARY KEY, trace INTEGER, span_id BLOB,"
                     " parent_span_id BLOB, start_ns INTEGER, end_ns INTEGER, service INTEGER,"
                     " name TEXT, kind INTEGER, status_code INTEGER, status_message TEXT,"
                     " trace_state TEXT, flags INTEGER, resource INTEGER, scope INTEGER,"
                     " dropped_attrs INTEGER, dropped_events INTEGER, dropped_links INTEGER,"
                     " attrs TEXT, events TEXT, links TEXT)",
                     NULL, NULL, NULL);
    } else if (schema_migrate(db, err, sizeof(err)) != SCHEMA_OK) {
        fprintf(stderr, "schema: %s\n", err);
        exit(1);
    }
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s(trace, span_id, parent_span_id, start_ns, end_ns, service, name,"
             " kind, status_code, status_message, trace_state, flags, resource, scope,"
             " dropped_attrs, dropped_events, dropped_links, attrs, events, links)"
             " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
             table);
    sqlite3_stmt *st, *begin, *commit;
    sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);

    /* the same rows as the store writes, texts rendered outside the timing */
    model_batch *tmpl = make_batch(0);
    row_texts *tx = calloc(SPANS_PER_BATCH, sizeof(*tx));
    for (size_t i = 0; i < SPANS_PER_BATCH; i++) {
        tx[i].attrs = render(attrs_fn, &tmpl->spans[i]);
        tx[i].events = render(model_json_events, &tmpl->spans[i]);
        tx[i].links = render(model_json_links, &tmpl->spans[i]);
    }
    double t0 = now_s();
    for (long k = 0; k < batches; k++) {
        sqlite3_step(begin);
        sqlite3_reset(begin);
        for (size_t i = 0; i < SPANS_PER_BATCH; i++) {
            const model_span *sp = &tmpl->spans[i];
            uint8_t sid[8];
            memcpy(sid, sp->span_id, 8);
            sid[7] ^= (uint8_t)k;
            sqlite3_bind_int64(st, 1, k * (SPANS_PER_BATCH / SPANS_PER_TRACE) +
                                          (int64_t)(i / SPANS_PER_TRACE) + 1);
            sqlite3_bind_blob(st, 2, sid, 8, SQLITE_TRANSIENT);
            if (sp->has_parent)
                sqlite3_bind_blob(st, 3, sp->parent_span_id, 8, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 3);
            sqlite3_bind_int64(st, 4, (int64_t)(sp->start_ns + (uint64_t)k * 1000000000ULL));
            sqlite3_bind_int64(st, 5, (int64_t)(sp->end_ns + (uint64_t)k * 1000000000ULL));
            sqlite3_bind_int64(st, 6, 1 + k % 6);
            sqlite3_bind_text(st, 7, sp->name.ptr, (int)sp->name.len, SQLITE_STATIC);
            sqlite3_bind_int(st, 8, sp->kind);
            sqlite3_bind_int(st, 9, sp->status_code);
            sqlite3_bind_text(st, 10, sp->status_message.ptr, (int)sp->status_message.len,
                              SQLITE_STATIC);
            sqlite3_bind_text(st, 11, "", 0, SQLITE_STATIC);
            sqlite3_bind_int64(st, 12, sp->flags);
            sqlite3_bind_int64(st, 13, 1 + k % 12);
            sqlite3_bind_int64(st, 14, 1);
            sqlite3_bind_int64(st, 15, 0);
            sqlite3_bind_int64(st, 16, 0);
            sqlite3_bind_int64(st, 17, 0);
            sqlite3_bind_text(st, 18, tx[i].attrs, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 19, tx[i].events, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 20, tx[i].links, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_reset(st);
        }
        if (sqlite3_step(commit) != SQLITE_DONE) {
            fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(commit);
    }
    double dt = now_s() - t0;
    for (size_t i = 0; i < SPANS_PER_BATCH; i++) {
        free(tx[i].attrs);
        free(tx[i].events);
        free(tx[i].links);
    }
    free(tx);
    model_batch_free(tmpl);
    sqlite3_finalize(st);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return (double)(batches * SPANS_PER_BATCH) / dt;
}

int main(int argc, char **argv) {
    long batches = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    int memory = 0, store_only = 0;
    for (int i = 2; i < argc; i++) {
        memory |= strcmp(argv[i], "memory") == 0;
        store_only |= strcmp(argv[i], "store-only") == 0;
    }
    if (batches <= 0 || batches > 100000) {
        fprintf(stderr, "usage: %s [batches 1..100000] [memory] [store-only]\n", argv[0]);
        return 2;
    }
    log_set_level(LOG_WARN);
    char dir[] = "/tmp/loupe-bench-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char sdir[64], raw[64], bare[64];
    snprintf(sdir, sizeof(sdir), "%s/store", dir);
    snprintf(raw, sizeof(raw), "%s/raw.db", dir);
    snprintf(bare, sizeof(bare), "%s/bare.db", dir);

    printf("%ld batches x %d spans (%ld spans), %s\n", batches, SPANS_PER_BATCH,
           batches * SPANS_PER_BATCH, memory ? "store in memory mode" : "files in /tmp");
    long efull = 0;
    double a = bench_store(sdir, memory, batches, &efull);
    printf("  store_append -> committed:        %10.0f spans/s  (%ld EFULL retries)\n", a,
           efull);
    if (!store_only) {
        double b = bench_raw(raw, 0, batches);
        printf("  raw loop, loupe spans + indexes:  %10.0f spans/s\n", b);
        double c = bench_raw(bare, 1, batches);
        printf("  raw loop, bare table:             %10.0f spans/s\n", c);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
