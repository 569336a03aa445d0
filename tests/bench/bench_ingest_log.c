/* bench_ingest_log.c - micro-benchmark of what the ingest inspector adds to
 * the receive path of one export request: a record begun, the texts a
 * receiver copies (path, content type, user agent, message), the decoded
 * batch's facts read (ingest_rec_batch) and the record added to the log
 * (ingest_log_add: the lock, the copy, the client row). Once with one
 * thread, then with two at once (both receivers' threads contending for the
 * log's mutex), with a reader copying pages of records out all along.
 *
 *   make build/bench/bench_ingest_log && build/bench/bench_ingest_log [requests] [items]
 *
 * The batch: `items` spans (default 512) of a JSON request under 8
 * resources with the attributes SDKs send, as a collector forwards them.
 * Prints ns of CPU (CLOCK_THREAD_CPUTIME_ID, so other work on the machine
 * counts little) and of wall time per request.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/decode/otlp.h"
#include "server/net/ingest_log.h"
#include "util/buf.h"

static double bench_clock(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A traces request of n spans under 8 resources, decoded. */
static model_batch *bench_batch(size_t n) {
    buf j;
    buf_init(&j, (size_t)1 << 30);
    buf_append_str(&j, "{\"resourceSpans\":[");
    for (int r = 0; r < 8; r++) {
        buf_printf(&j,
                   "%s{\"resource\":{\"attributes\":["
                   "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-%d\"}},"
                   "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"i-%d\"}},"
                   "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"host-%d\"}},"
                   "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"%d\"}},"
                   "{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"opentelemetry\"}},"
                   "{\"key\":\"telemetry.sdk.language\",\"value\":{\"stringValue\":\"go\"}},"
                   "{\"key\":\"telemetry.sdk.version\",\"value\":{\"stringValue\":\"1.28.0\"}}]},"
                   "\"scopeSpans\":[{\"spans\":[",
                   r ? "," : "", r, r, r, 1000 + r);
        size_t per = n / 8 + (r < (int)(n % 8));
        for (size_t i = 0; i < per; i++)
            buf_printf(&j,
                       "%s{\"traceId\":\"%032zx\",\"spanId\":\"%016zx\",\"name\":\"GET /x\","
                       "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}",
                       i ? "," : "", i + 1 + (size_t)r * 100000, i + 1);
        buf_append_str(&j, "]}]}");
    }
    buf_append_str(&j, "]}");
    model_batch *b = NULL;
    char err[256];
    if (otlp_decode_json(MODEL_SIGNAL_TRACES, j.ptr, j.len, 0, &b, err, sizeof(err)) != OTLP_OK) {
        fprintf(stderr, "bench_ingest_log: %s\n", err);
        exit(1);
    }
    buf_free(&j);
    return b;
}

typedef struct bench_arg {
    ingest_log *log;
    const model_batch *batch;
    long requests;
    int id;
    double cpu_ns, wall_ns;
} bench_arg;

/* What a receiver does for one request when the inspector is on. */
static void bench_one(ingest_log *log, const model_batch *b, int id) {
    static const char path[] = "/v1/traces", ctype[] = "application/x-protobuf",
                      ua[] = "OTel-OTLP-Exporter-Go/1.28.0 (linux/amd64)";
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    ingest_rec_text(r.path, sizeof(r.path), path, sizeof(path) - 1);
    ingest_rec_text(r.content_type, sizeof(r.content_type), ctype, sizeof(ctype) - 1);
    ingest_rec_text(r.user_agent, sizeof(r.user_agent), ua, sizeof(ua) - 1);
    snprintf(r.client, sizeof(r.client), "10.0.0.%d", id);
    r.encoding = INGEST_ENC_PROTOBUF;
    r.wire_bytes = r.decoded_bytes = 220000;
    ingest_rec_batch(&r, b);
    r.http_status = 200;
    ingest_rec_text(r.message, sizeof(r.message), "", 0);
    ingest_log_add(log, &r);
}

static void *bench_thread(void *p) {
    bench_arg *a = p;
    double c0 = bench_clock(CLOCK_THREAD_CPUTIME_ID), w0 = bench_clock(CLOCK_MONOTONIC);
    for (long i = 0; i < a->requests; i++)
        bench_one(a->log, a->batch, a->id);
    a->cpu_ns = bench_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    a->wall_ns = bench_clock(CLOCK_MONOTONIC) - w0;
    return NULL;
}

static atomic_int bench_stop;

/* Reads pages of 100 records, as the API does, until told to stop. */
static void *bench_reader(void *p) {
    ingest_log *log = p;
    ingest_rec *out = malloc(100 * sizeof(*out));
    while (!atomic_load(&bench_stop) && out != NULL)
        ingest_log_read(log, 0, 0, NULL, NULL, out, 100, NULL);
    free(out);
    return NULL;
}

static void bench_run(const model_batch *b, long requests, int threads) {
    ingest_log *log = ingest_log_new(INGEST_LOG_DEFAULT, NULL);
    bench_arg args[2];
    pthread_t t[2], reader;
    atomic_store(&bench_stop, 0);
    pthread_create(&reader, NULL, bench_reader, log);
    for (int i = 0; i < threads; i++) {
        args[i] = (bench_arg){log, b, requests, i + 1, 0, 0};
        pthread_create(&t[i], NULL, bench_thread, &args[i]);
    }
    double cpu = 0, wall = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        cpu += args[i].cpu_ns;
        wall += args[i].wall_ns;
    }
    atomic_store(&bench_stop, 1);
    pthread_join(reader, NULL);
    printf("inspector, %d receiver thread%s and a reader: %.0f ns CPU, %.0f ns wall per request "
           "(%ld requests each, %zu items)\n",
           threads, threads > 1 ? "s" : "", cpu / (double)(requests * threads),
           wall / (double)(requests * threads), requests, model_batch_items(b));
    ingest_log_free(log);
}

int main(int argc, char **argv) {
    long requests = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    long items = argc > 2 ? strtol(argv[2], NULL, 10) : 512;
    if (requests <= 0 || items <= 0 || items > 100000) {
        fprintf(stderr, "usage: bench_ingest_log [requests] [items]\n");
        return 2;
    }
    model_batch *b = bench_batch((size_t)items);
    bench_run(b, requests, 1);
    bench_run(b, requests, 2);
    model_batch_free(b);
    return 0;
}
