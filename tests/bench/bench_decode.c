/* bench_decode.c - micro-benchmark of otlp_decode_pb() on a realistic trace
 * request: 512 spans, 10 attributes and 2 events each, one resource.
 *
 *   make bench-decode && build/bench/bench_decode [iterations]
 *
 * Prints spans/s for the whole otlp_decode_pb() and, to see where the time
 * goes, for protobuf-c's unpack alone; also how much memory the unpacked
 * structs and the final batch take per wire byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/receive/grpc_frame.h"
#include "server/decode/otlp.h"
#include "otlp_build.h"
#include "server/decode/otlp_internal.h"

#define BENCH_SPANS 512

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static tb_span *bench_span(arena *a, int i) {
    static const char *routes[] = {"/api/users/{id}", "/api/orders", "/checkout", "/health"};
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
    char text[64];
    snprintf(text, sizeof(text), "%s %s", methods[i % 4], routes[i % 4]);
    tb_span *s = tb_span_new(a, 0x10 + (unsigned)(i / 64), (unsigned)(i % 250) + 1, text);
    s->trace_id.data[15] = (uint8_t)i;
    s->span_id.data[0] = (uint8_t)(i >> 8);
    if (i % 64 != 0)
        s->parent_span_id = tb_id(a, 8, (unsigned)((i - 1) % 250) + 1);
    s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)(1 + i % 5);
    s->start_time_unix_nano = 1700000000000000000ULL + (uint64_t)i * 1000000;
    s->end_time_unix_nano = s->start_time_unix_nano + 250000 + (uint64_t)i * 17;
    snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
    tb_kv *attrs[] = {
        tb_kv_new(a, "http.request.method", tb_str(a, methods[i % 4])),
        tb_kv_new(a, "http.route", tb_str(a, routes[i % 4])),
        tb_kv_new(a, "http.response.status_code", tb_int(a, i % 10 == 0 ? 500 : 200)),
        tb_kv_new(a, "url.full", tb_str(a, "https://shop.example.com/api/users/12345?expand=orders")),
        tb_kv_new(a, "server.address", tb_str(a, "shop.example.com")),
        tb_kv_new(a, "server.port", tb_int(a, 443)),
        tb_kv_new(a, "client.address", tb_str(a, text)),
        tb_kv_new(a, "user_agent.original",
                  tb_str(a, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)")),
        tb_kv_new(a, "network.protocol.version", tb_str(a, "1.1")),
        tb_kv_new(a, "app.cache_hit", tb_bool(a, i % 3 == 0)),
    };
    s->n_attributes = sizeof(attrs) / sizeof(attrs[0]);
    s->attributes = tb_ptrs(a, attrs, s->n_attributes);
    tb_event *ev[2];
    for (int k = 0; k < 2; k++) {
        ev[k] = tb_alloc(a, sizeof(*ev[k]));
        opentelemetry__proto__trace__v1__span__event__init(ev[k]);
        ev[k]->name = tb_strdup(a, k ? "cache.lookup" : "db.query");
        ev[k]->time_unix_nano = s->start_time_unix_nano + 1000 * (uint64_t)(k + 1);
        tb_kv *ea[] = {tb_kv_new(a, "db.statement", tb_str(a, "SELECT * FROM users WHERE id = ?")),
                       tb_kv_new(a, "rows", tb_int(a, 1))};
        ev[k]->n_attributes = 2;
        ev[k]->attributes = tb_ptrs(a, ea, 2);
    }
    s->n_events = 2;
    s->events = tb_ptrs(a, ev, 2);
    if (i % 10 == 0) {
        tb_status *st = tb_alloc(a, sizeof(*st));
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        st->message = tb_strdup(a, "upstream returned 500");
        s->status = st;
    }
    return s;
}

static tb_trace_req *bench_request(arena *a) {
    tb_span **spans = tb_alloc(a, BENCH_SPANS * sizeof(*spans));
    for (int i = 0; i < BENCH_SPANS; i++)
        spans[i] = bench_span(a, i);
    tb_resource *r = tb_resource_new(
        a, TB_LIST(tb_kv, tb_kv_new(a, "service.name", tb_str(a, "checkout")),
                   tb_kv_new(a, "service.version", tb_str(a, "1.4.2")),
                   tb_kv_new(a, "service.instance.id", tb_str(a, "627cc493-f310-47de-96bd-71410b7dec09")),
                   tb_kv_new(a, "deployment.environment.name", tb_str(a, "production")),
                   tb_kv_new(a, "host.name", tb_str(a, "ip-10-0-3-17")),
                   tb_kv_new(a, "telemetry.sdk.name", tb_str(a, "opentelemetry")),
                   tb_kv_new(a, "telemetry.sdk.language", tb_str(a, "go")),
                   tb_kv_new(a, "telemetry.sdk.version", tb_str(a, "1.28.0"))));
    tb_sspans *ss = tb_sspans_new(a, tb_scope_new(a, "go.opentelemetry.io/contrib/net/http", "0.53.0"),
                                  spans, BENCH_SPANS);
    return tb_trace_req_new(a, TB_LIST(tb_rspans, tb_rspans_new(a, r, TB_LIST(tb_sspans, ss))));
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 0; /* 0: run for about 2 seconds */
    arena *a = arena_new(0, 0);
    if (a == NULL)
        return 1;
    size_t len;
    uint8_t *body = tb_pack(&bench_request(a)->base, &len);

    /* Expansion: unpacked structs and batch per wire byte. */
    arena *tmp = arena_new(0, 0);
    ProtobufCAllocator alloc;
    otlp_arena_allocator(&alloc, tmp);
    if (protobuf_c_message_unpack(&opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
                                  &alloc, len, body) == NULL)
        return 1;
    size_t unpacked = arena_footprint(tmp);
    arena_free(tmp);
    model_batch *b = NULL;
    char err[256];
    if (otlp_decode_pb(MODEL_SIGNAL_TRACES, body, len, 0, &b, err, sizeof(err)) != OTLP_OK) {
        fprintf(stderr, "decode failed: %s\n", err);
        return 1;
    }
    printf("request: %d spans, %zu bytes on the wire (%.0f bytes/span)\n", BENCH_SPANS, len,
           (double)len / BENCH_SPANS);
    printf("memory: unpacked structs %zu bytes (%.1fx), batch %zu bytes (%.1fx)\n", unpacked,
           (double)unpacked / (double)len, model_batch_bytes(b), (double)model_batch_bytes(b) / (double)len);
    model_batch_free(b);

    /* otlp_decode_pb: unpack + convert + free. */
    double t0 = bench_now(), t1;
    int n = 0;
    for (;;) {
        if (otlp_decode_pb(MODEL_SIGNAL_TRACES, body, len, 0, &b, err, sizeof(err)) != OTLP_OK)
            return 1;
        model_batch_free(b);
        n++;
        t1 = bench_now();
        if (iters > 0 ? n >= iters : t1 - t0 >= 2.0)
            break;
    }
    printf("otlp_decode_pb:       %8.0f spans/s  (%.1f us per request, %.0f MB/s, %d runs)\n",
           (double)n * BENCH_SPANS / (t1 - t0), (t1 - t0) / n * 1e6, (double)len * n / (t1 - t0) / 1e6, n);

    /* The gRPC receive path: the framed message fed to grpc_frame in 16 KiB
     * chunks (the size of HTTP/2 DATA frames), then decoded. */
    size_t flen = len + 5;
    uint8_t *framed = malloc(flen);
    if (framed == NULL)
        return 1;
    framed[0] = 0;
    framed[1] = (uint8_t)(len >> 24);
    framed[2] = (uint8_t)(len >> 16);
    framed[3] = (uint8_t)(len >> 8);
    framed[4] = (uint8_t)len;
    memcpy(framed + 5, body, len);
    t0 = bench_now();
    n = 0;
    for (;;) {
        grpc_frame f;
        grpc_frame_init(&f, 16u << 20);
        size_t off = 0;
        int got = 0;
        while (off < flen) {
            size_t chunk = flen - off < 16384 ? flen - off : 16384, used;
            grpc_frame_msg msg;
            int rc = grpc_frame_feed(&f, framed + off, chunk, &used, &msg);
            off += used;
            if (rc == GRPC_FRAME_MSG) {
                if (otlp_decode_pb(MODEL_SIGNAL_TRACES, msg.data, msg.len, 0, &b, err, sizeof(err)) != OTLP_OK)
                    return 1;
                model_batch_free(b);
                got = 1;
            } else if (rc < 0) {
                return 1;
            }
        }
        grpc_frame_free(&f);
        if (!got)
            return 1;
        n++;
        t1 = bench_now();
        if (iters > 0 ? n >= iters : t1 - t0 >= 2.0)
            break;
    }
    free(framed);
    printf("grpc frame + decode:  %8.0f spans/s  (%.1f us per request)\n",
           (double)n * BENCH_SPANS / (t1 - t0), (t1 - t0) / n * 1e6);

    /* protobuf-c unpack alone into a reused arena whose one chunk holds it
     * all (no malloc, no page faults), for comparison. */
    tmp = arena_new(unpacked + unpacked / 4, 0);
    otlp_arena_allocator(&alloc, tmp);
    t0 = bench_now();
    n = 0;
    for (;;) {
        if (protobuf_c_message_unpack(&opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
                                      &alloc, len, body) == NULL)
            return 1;
        arena_reset(tmp);
        n++;
        t1 = bench_now();
        if (iters > 0 ? n >= iters : t1 - t0 >= 1.0)
            break;
    }
    arena_free(tmp);
    printf("protobuf-c unpack only: %8.0f spans/s  (%.1f us per request)\n",
           (double)n * BENCH_SPANS / (t1 - t0), (t1 - t0) / n * 1e6);

    free(body);
    arena_free(a);
    return 0;
}
