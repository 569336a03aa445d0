/* loadgen.c - an OTLP load generator for loupe's ingest benchmarks: fresh,
 * realistic requests (tests/bench/loadgen/gen.c) over OTLP/gRPC or
 * OTLP/HTTP, a full histogram of acknowledgement latency, one line of JSON.
 *
 *   build/bench/loadgen --transport grpc|http --signal traces|logs
 *       --addr HOST:PORT [--items-per-request 512] [--connections 4]
 *       [--in-flight 4] [--duration 10] [--max-requests N] [--rate ITEMS/S]
 *       [--seed N] [--gen-threads 1] [--retries 3] [--retry-pause-ms 100]
 *       [--repeat | --dry-run | --write-request FILE]
 *
 * A run ends at --duration seconds or after --max-requests requests,
 * whichever comes first; answers still due are awaited (at most 60 s more).
 * Requests are generated ahead by --gen-threads threads into a bounded
 * queue; connections only send and wait. With --rate, request k is due at
 * start + k * items/rate and its latency counts from then (a late start is
 * the server's delay too). A retryable answer (HTTP 429/502/503/504, gRPC
 * UNAVAILABLE or RESOURCE_EXHAUSTED) makes the same request go again after
 * --retry-pause-ms, at most --retries times, as exporters do.
 *
 * --repeat sends one prebuilt request again and again (what a replayed
 * payload measures: a cache, not the store); --dry-run only generates and
 * encodes, to measure what generation costs; --write-request writes one
 * request's protobuf to FILE and exits (make bench gives those to the raw
 * SQLite floor, tests/bench/bench_raw.c).
 *
 * Output: one line of JSON on stdout, a summary on stderr. Exit status 0
 * when at least one request was acknowledged (or, with --dry-run, made).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen/loadgen.h"

typedef struct options {
    int grpc;
    lg_signal sig;
    char host[256];
    char port[16];
    int addr_set;
    uint32_t items;
    int connections;
    int in_flight;
    double duration;
    uint64_t max_requests;
    double rate;
    uint64_t seed;
    int gen_threads;
    int retries;
    int retry_pause_ms;
    int repeat;
    int dry_run;
    const char *write_request; /* NULL, or where to write one request */
} options;

static void usage(FILE *f) {
    fputs("usage: loadgen --transport grpc|http --signal traces|logs --addr HOST:PORT\n"
          "         [--items-per-request N] [--connections N] [--in-flight N]\n"
          "         [--duration SECONDS] [--max-requests N] [--rate ITEMS/S] [--seed N]\n"
          "         [--gen-threads N] [--retries N] [--retry-pause-ms MS]\n"
          "         [--repeat | --dry-run | --write-request FILE]\n",
          f);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double min, double max, double *out) {
    char *end;
    if (s == NULL)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

/* HOST:PORT, [V6]:PORT. */
static int parse_addr(const char *s, options *o) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= sizeof(o->port))
        return -1;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(o->host))
        return -1;
    memcpy(o->host, h, hl);
    o->host[hl] = '\0';
    snprintf(o->port, sizeof(o->port), "%s", colon + 1);
    o->addr_set = 1;
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    enum {
        O_TRANSPORT = 1,
        O_SIGNAL,
        O_ADDR,
        O_ITEMS,
        O_CONNS,
        O_INFLIGHT,
        O_DURATION,
        O_MAXREQ,
        O_RATE,
        O_SEED,
        O_GENTHREADS,
        O_RETRIES,
        O_PAUSE,
        O_REPEAT,
        O_DRY,
        O_WRITE,
        O_HELP
    };
    static const struct option longs[] = {
        {"transport", required_argument, NULL, O_TRANSPORT},
        {"signal", required_argument, NULL, O_SIGNAL},
        {"addr", required_argument, NULL, O_ADDR},
        {"items-per-request", required_argument, NULL, O_ITEMS},
        {"connections", required_argument, NULL, O_CONNS},
        {"in-flight", required_argument, NULL, O_INFLIGHT},
        {"duration", required_argument, NULL, O_DURATION},
        {"max-requests", required_argument, NULL, O_MAXREQ},
        {"rate", required_argument, NULL, O_RATE},
        {"seed", required_argument, NULL, O_SEED},
        {"gen-threads", required_argument, NULL, O_GENTHREADS},
        {"retries", required_argument, NULL, O_RETRIES},
        {"retry-pause-ms", required_argument, NULL, O_PAUSE},
        {"repeat", no_argument, NULL, O_REPEAT},
        {"dry-run", no_argument, NULL, O_DRY},
        {"write-request", required_argument, NULL, O_WRITE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->grpc = 1;
    o->sig = LG_TRACES;
    o->items = 512;
    o->connections = 4;
    o->in_flight = 4;
    o->duration = 10;
    o->gen_threads = 1;
    o->retries = 3;
    o->retry_pause_ms = 100;
    o->seed = (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)getpid();
    int in_flight_set = 0;
    int opt;
    uint64_t v;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        const char *bad = NULL;
        switch (opt) {
        case O_TRANSPORT:
            if (strcmp(optarg, "grpc") == 0)
                o->grpc = 1;
            else if (strcmp(optarg, "http") == 0)
                o->grpc = 0;
            else
                bad = "--transport: grpc or http";
            break;
        case O_SIGNAL:
            if (strcmp(optarg, "traces") == 0)
                o->sig = LG_TRACES;
            else if (strcmp(optarg, "logs") == 0)
                o->sig = LG_LOGS;
            else
                bad = "--signal: traces or logs";
            break;
        case O_ADDR:
            if (parse_addr(optarg, o) != 0)
                bad = "--addr: HOST:PORT";
            break;
        case O_ITEMS:
            if (parse_u64(optarg, 1, 100000, &v) != 0)
                bad = "--items-per-request: 1..100000";
            o->items = (uint32_t)v;
            break;
        case O_CONNS:
            if (parse_u64(optarg, 1, 1024, &v) != 0)
                bad = "--connections: 1..1024";
            o->connections = (int)v;
            break;
        case O_INFLIGHT:
            if (parse_u64(optarg, 1, 256, &v) != 0)
                bad = "--in-flight: 1..256";
            o->in_flight = (int)v;
            in_flight_set = 1;
            break;
        case O_DURATION:
            if (parse_double(optarg, 0.001, 86400, &o->duration) != 0)
                bad = "--duration: seconds, more than 0 and at most 86400";
            break;
        case O_MAXREQ:
            if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->max_requests) != 0)
                bad = "--max-requests: at least 1";
            break;
        case O_RATE:
            if (parse_double(optarg, 1, 1e9, &o->rate) != 0)
                bad = "--rate: items per second, 1..1e9";
            break;
        case O_SEED:
            if (parse_u64(optarg, 0, UINT64_MAX, &o->seed) != 0)
                bad = "--seed: an unsigned integer";
            break;
        case O_GENTHREADS:
            if (parse_u64(optarg, 1, 64, &v) != 0)
                bad = "--gen-threads: 1..64";
            o->gen_threads = (int)v;
            break;
        case O_RETRIES:
            if (parse_u64(optarg, 0, 100, &v) != 0)
                bad = "--retries: 0..100";
            o->retries = (int)v;
            break;
        case O_PAUSE:
            if (parse_u64(optarg, 0, 60000, &v) != 0)
                bad = "--retry-pause-ms: 0..60000";
            o->retry_pause_ms = (int)v;
            break;
        case O_REPEAT:
            o->repeat = 1;
            break;
        case O_DRY:
            o->dry_run = 1;
            break;
        case O_WRITE:
            o->write_request = optarg;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (bad != NULL) {
            fprintf(stderr, "loadgen: %s (got \"%s\")\n", bad, optarg);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    if (o->repeat && o->dry_run) {
        fprintf(stderr, "loadgen: --repeat and --dry-run exclude each other\n");
        return -1;
    }
    if (!o->grpc) {
        if (in_flight_set && o->in_flight > 1)
            fprintf(stderr, "loadgen: OTLP/HTTP sends one request at a time per connection;"
                            " --in-flight ignored\n");
        o->in_flight = 1;
    }
    if (!o->addr_set)
        parse_addr(o->grpc ? "127.0.0.1:4317" : "127.0.0.1:4318", o);
    return 0;
}

static double ms(uint64_t ns) {
    return (double)ns / 1e6;
}

/* Generation alone: the main thread takes requests and drops them. */
static void dry_run(lg_run *r, uint64_t *requests, uint64_t *items) {
    int64_t sched;
    lg_body *b;
    while ((b = lg_run_take(r, -1, &sched)) != NULL) {
        (*requests)++;
        *items += b->items;
        lg_run_release(r, b);
    }
}

/* The JSON line on stdout (dry runs: the generator's figures only) and the
 * summary on stderr. */
static void report(const options *o, const lg_stats *st, const lg_gen_stats *gs, double elapsed,
                   uint64_t dry_requests, uint64_t dry_items) {
    const char *mode = o->dry_run ? "dry-run" : o->repeat ? "repeat" : "fresh";
    const char *signal = o->sig == LG_TRACES ? "traces" : "logs";
    uint64_t failed = 0;
    for (int i = 0; i < st->nfail; i++)
        failed += st->fail[i].n;
    double items_per_s =
        elapsed > 0 ? (double)(o->dry_run ? dry_items : st->items_acked) / elapsed : 0;
    double gen_cpu_us = gs->items ? (double)gs->cpu_ns / 1e3 / (double)gs->items : 0;
    double spt = st->traces_acked
                     ? (double)(st->items_acked + st->items_rejected) / (double)st->traces_acked
                     : 0;
    printf("{\"mode\":\"%s\",\"signal\":\"%s\",\"items_per_request\":%" PRIu32 ",\"seed\":%" PRIu64
           ",\"duration_s\":%.3f,\"max_requests\":%" PRIu64 ",\"elapsed_s\":%.3f,",
           mode, signal, o->items, o->seed, o->duration, o->max_requests, elapsed);
    if (o->dry_run) {
        printf("\"requests\":%" PRIu64 ",\"items\":%" PRIu64 ",\"items_per_s\":%.1f,", dry_requests,
               dry_items, items_per_s);
    } else {
        printf("\"transport\":\"%s\",\"addr\":\"%s:%s\",\"connections\":%d,\"in_"
               "flight\":%d,"
               "\"rate\":%.0f,",
               o->grpc ? "grpc" : "http", o->host, o->port, o->connections, o->in_flight, o->rate);
        if (o->repeat)
            printf("\"note\":\"one prebuilt request sent again and again: measures a "
                   "cache\",");
        printf("\"requests_ok\":%" PRIu64 ",\"requests_failed\":{", st->ok);
        for (int i = 0; i < st->nfail; i++)
            printf("%s\"%s\":%" PRIu64, i ? "," : "", st->fail[i].name, st->fail[i].n);
        printf("},\"requests_failed_total\":%" PRIu64 ",\"retries\":%" PRIu64
               ",\"given_up\":%" PRIu64 ",\"items_acked\":%" PRIu64 ",\"items_rejected\":%" PRIu64
               ",\"items_per_s\":%.1f,\"traces_acked\":%" PRIu64 ",\"spans_per_trace\":%.3f,",
               failed, st->retries, st->given_up, st->items_acked, st->items_rejected, items_per_s,
               st->traces_acked, spt);
        printf("\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,"
               "\"mean\":%.3f},\"bytes_sent\":%" PRIu64 ",",
               ms(lg_hist_quantile(&st->hist, 0.50)), ms(lg_hist_quantile(&st->hist, 0.90)),
               ms(lg_hist_quantile(&st->hist, 0.99)), ms(st->hist.max_ns),
               st->hist.n ? ms(st->hist.sum_ns / st->hist.n) : 0.0, st->bytes_sent);
    }
    printf("\"gen\":{\"threads\":%d,\"requests\":%" PRIu64 ",\"items\":%" PRIu64
           ",\"bytes_per_request\":%.0f,\"cpu_us_per_item\":%.3f,\"starved_s\":%."
           "3f}}\n",
           o->repeat ? 0 : o->gen_threads, gs->requests, gs->items,
           gs->requests ? (double)gs->bytes / (double)gs->requests : 0.0, gen_cpu_us,
           (double)gs->starved_ns / 1e9);
    fflush(stdout);

    if (o->dry_run) {
        fprintf(stderr,
                "loadgen dry run (%s, %" PRIu32 " per request, %d generator thread%s): %.0f %s/s "
                "generated and encoded, %.2f us CPU per item, %.0f bytes per request\n",
                signal, o->items, o->gen_threads, o->gen_threads > 1 ? "s" : "", items_per_s,
                o->sig == LG_TRACES ? "spans" : "records", gen_cpu_us,
                gs->requests ? (double)gs->bytes / (double)gs->requests : 0.0);
        return;
    }
    fprintf(stderr, "loadgen %s %s over %s%s: %" PRIu64 " requests ok, %" PRIu64 " failed", mode,
            signal, o->grpc ? "OTLP/gRPC" : "OTLP/HTTP",
            o->repeat ? " (one prebuilt request again and again: measures a cache)" : "", st->ok,
            failed);
    for (int i = 0; i < st->nfail; i++)
        fprintf(stderr, "%s%s %" PRIu64, i ? ", " : " (", st->fail[i].name, st->fail[i].n);
    fprintf(stderr,
            "%s; %" PRIu64 " items acknowledged in %.2f s = %.0f/s; ack latency p50 %.1f ms, "
            "p90 %.1f, p99 %.1f, max %.1f; %.1f MB sent; generator %.2f us CPU "
            "per item, "
            "waited for %.2f s\n",
            st->nfail ? ")" : "", st->items_acked, elapsed, items_per_s,
            ms(lg_hist_quantile(&st->hist, 0.50)), ms(lg_hist_quantile(&st->hist, 0.90)),
            ms(lg_hist_quantile(&st->hist, 0.99)), ms(st->hist.max_ns),
            (double)st->bytes_sent / 1e6, gen_cpu_us, (double)gs->starved_ns / 1e9);
}

/* One request of the run's kind, its protobuf message written to path. */
static int write_request(const options *o) {
    lg_gen *g = lg_gen_new(o->sig, LG_WORLD_SEED, o->seed, o->items);
    lg_body b;
    if (g == NULL || lg_gen_next(g, &b) != 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        lg_gen_free(g);
        return 1;
    }
    lg_gen_free(g);
    FILE *f = fopen(o->write_request, "wb");
    size_t len = b.len - LG_GRPC_PREFIX;
    int ok = f != NULL && fwrite(b.data + LG_GRPC_PREFIX, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(b.data);
    if (!ok) {
        fprintf(stderr, "loadgen: %s: %s\n", o->write_request, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (o.write_request != NULL)
        return write_request(&o);
    signal(SIGPIPE, SIG_IGN);
    size_t cap = (size_t)o.connections * (size_t)o.in_flight * 2;
    if (cap < 4)
        cap = 4;
    if (cap > 256)
        cap = 256;
    lg_run_cfg cfg = {
        .sig = o.sig,
        .items = o.items,
        .max_requests = o.max_requests,
        .duration_s = o.duration,
        .rate = o.dry_run ? 0 : o.rate,
        .seed = o.seed,
        .gen_threads = o.gen_threads,
        .repeat = o.repeat,
        .queue_cap = cap,
    };
    lg_run *r = lg_run_new(&cfg);
    lg_conn *conns = calloc((size_t)o.connections, sizeof(*conns));
    pthread_t *threads = calloc((size_t)o.connections, sizeof(*threads));
    lg_stats *total = calloc(1, sizeof(*total));
    if (r == NULL || conns == NULL || threads == NULL || total == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    /* a dry run times generation from the first request: the queue's
     * filling before the clock starts is generation too */
    int64_t t_gen = lg_now_ns();
    if (lg_run_start(r) != 0)
        return 1;
    int64_t t0 = o.dry_run ? t_gen : lg_run_t0(r);
    uint64_t dry_requests = 0, dry_items = 0;
    int started = 0;
    if (o.dry_run) {
        dry_run(r, &dry_requests, &dry_items);
    } else {
        for (int i = 0; i < o.connections; i++) {
            conns[i].run = r;
            conns[i].host = o.host;
            conns[i].port = o.port;
            conns[i].sig = o.sig;
            conns[i].in_flight = o.in_flight;
            conns[i].retries = o.retries;
            conns[i].retry_pause_ms = o.retry_pause_ms;
            conns[i].index = i;
            int rc = pthread_create(&threads[i], NULL,
                                    o.grpc ? lg_grpc_conn_main : lg_http_conn_main, &conns[i]);
            if (rc != 0) {
                fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
                break;
            }
            started++;
        }
        for (int i = 0; i < started; i++) {
            pthread_join(threads[i], NULL);
            lg_stats_merge(total, &conns[i].stats);
        }
    }
    double elapsed = (double)(lg_now_ns() - t0) / 1e9;
    lg_gen_stats gs;
    lg_run_finish(r, &gs);
    report(&o, total, &gs, elapsed, dry_requests, dry_items);
    int ok = o.dry_run ? dry_requests > 0 : total->ok > 0;
    lg_run_free(r);
    free(conns);
    free(threads);
    free(total);
    return ok ? 0 : 1;
}
