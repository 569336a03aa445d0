/* fuzz_api.c - libFuzzer target for the /api/v1 handlers (api_handle).
 *
 * A real in-memory store holding a few spans, log records and metric
 * points (made once, on the first input) answers requests built from the
 * input, so routing, every parameter parser, the cursor, the SQL the
 * queries bind and the JSON they write all run.
 *
 * Input: byte 0 picks the method (low 3 bits: GET, HEAD, POST, DELETE,
 * "get", OPTIONS, an empty method, GET) and whether the database can be had
 * (bit 3 set: the db callback fails, so routes that need it answer 503).
 * The rest is split at '\n': the first line is the decoded path, each
 * further line a decoded query argument "key=value" (the value may hold NUL
 * bytes; a line without '=' is a key without a value). More than
 * API_MAX_ARGS lines set too_many_args, as ui.c does.
 *
 * Checked beyond "no crash, no sanitizer report": the status is one the API
 * documents for client input (200, 400, 404, 405, 503; a 500 means a hostile
 * parameter got past validation into a failing query); Allow is set exactly
 * for 405; the body is one valid JSON object, an error object
 * {"error":{"code","message"}} with the code of the status unless 200; the
 * database is asked for only by routes that need it; and a nextCursor the
 * API hands out is accepted when sent back.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api/api.h"
#include "util/buf.h"
#include "util/log.h"
#include "model_check.h"
#include "server/decode/otlp.h"
#include "storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_traces[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"checkout\"}}]},\"scopeSpans\":[{\"spans\":["
    "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b7169203331\","
    "\"name\":\"GET /cart\",\"kind\":2,\"startTimeUnixNano\":\"1714564800000000000\","
    "\"endTimeUnixNano\":\"1714564800250000000\",\"attributes\":[{\"key\":\"http.status_code\","
    "\"value\":{\"intValue\":200}}],\"events\":[{\"name\":\"e\",\"timeUnixNano\":"
    "\"1714564800100000000\"}],\"status\":{\"code\":2,\"message\":\"<b>boom</b>\"}},"
    "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"00f067aa0ba902b7\","
    "\"parentSpanId\":\"b7ad6b7169203331\",\"name\":\"SELECT\",\"kind\":3,\"startTimeUnixNano\":"
    "\"1714564800010000000\",\"endTimeUnixNano\":\"1714564800200000000\"}]}]}]}";

static const char fz_logs[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"checkout\"}}]},\"scopeLogs\":[{\"logRecords\":["
    "{\"timeUnixNano\":\"1714564800000000001\",\"severityNumber\":9,\"body\":{\"stringValue\":"
    "\"one\"}},{\"timeUnixNano\":\"1714564800000000002\",\"severityNumber\":13,\"body\":"
    "{\"stringValue\":\"two \\u2603\"}},{\"timeUnixNano\":\"1714564800000000002\","
    "\"severityNumber\":17,\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
    "{\"intValue\":\"9007199254740993\"}}]}},\"traceId\":\"0af7651916cd43dd8448eb211c80319c\","
    "\"spanId\":\"b7ad6b7169203331\"},{\"severityNumber\":21,\"body\":{\"bytesValue\":\"AAE=\"}},"
    "{\"timeUnixNano\":\"1714564800000000003\",\"severityNumber\":1}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
    "\"' OR 1=1 --\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":5}]}]}]}";

static const char fz_metrics[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"checkout\"}}]},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"requests\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
    "\"dataPoints\":[{\"asInt\":\"42\",\"timeUnixNano\":\"1714564800000000000\"}]}},"
    "{\"name\":\"temp\",\"gauge\":{\"dataPoints\":[{\"asDouble\":\"NaN\"}]}},"
    "{\"name\":\"latency\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":["
    "{\"count\":3,\"sum\":6,\"explicitBounds\":[1,2],\"bucketCounts\":[1,1,1]}]}}]}]}]}";

static store *fz_store;
static store_reader *fz_db;
static pthread_mutex_t fz_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fz_cv = PTHREAD_COND_INITIALIZER;
static int fz_done, fz_failed;

static void fz_on_commit(void *ud, int status, const model_batch *b) {
    (void)ud;
    (void)b;
    pthread_mutex_lock(&fz_mu);
    fz_done++;
    if (status != STORE_OK)
        fz_failed = 1;
    pthread_cond_signal(&fz_cv);
    pthread_mutex_unlock(&fz_mu);
}

static void fz_ingest(model_signal sig, const char *json) {
    model_batch *b = NULL;
    char err[256];
    int rc = otlp_decode_json(sig, json, strlen(json), 0, &b, err, sizeof(err));
    if (rc != OTLP_OK)
        fprintf(stderr, "fuzz_api: seed data: %s\n", err);
    MC_CHECK(rc == OTLP_OK && b->rejected == 0);
    MC_CHECK(store_append(fz_store, b, fz_on_commit, NULL) == STORE_OK);
}

/* The store, opened once for the process (never closed: the fuzzer exits). */
static void fz_init(void) {
    log_set_level(LOG_ERROR);
    store_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mode = STORE_MODE_MEMORY;
    char err[256] = "";
    if (store_open(&cfg, &fz_store, err, sizeof(err)) != STORE_OK)
        fprintf(stderr, "fuzz_api: store_open: %s\n", err);
    MC_CHECK(fz_store != NULL);
    fz_ingest(MODEL_SIGNAL_TRACES, fz_traces);
    fz_ingest(MODEL_SIGNAL_LOGS, fz_logs);
    fz_ingest(MODEL_SIGNAL_METRICS, fz_metrics);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&fz_mu);
    while (fz_done < 3) {
        int w = pthread_cond_timedwait(&fz_cv, &fz_mu, &deadline);
        MC_CHECK(w == 0 && "the store did not commit the seed data in 30 s");
    }
    pthread_mutex_unlock(&fz_mu);
    MC_CHECK(!fz_failed);
    MC_CHECK(store_reader_open(fz_store, &fz_db) == 0);
}

typedef struct fz_db_ctx {
    int available;
    int calls;
} fz_db_ctx;

static int fz_get_db(void *ud, store_reader **db) {
    fz_db_ctx *c = ud;
    c->calls++;
    *db = c->available ? fz_db : NULL;
    return c->available ? 0 : -1;
}

static int fz_needs_db(const char *path) {
    /* every /api/v1 route reads the store, at most once */
    return strncmp(path, "/api/v1/", 8) == 0;
}

/* Runs one request and checks the answer; returns the parsed body (the
 * caller frees it). */
static json_t *fz_request(const api_request *req, int db_available, int *status) {
    fz_db_ctx ctx = {.available = db_available, .calls = 0};
    buf out;
    buf_init(&out, API_MAX_RESPONSE_BYTES);
    const char *allow = (const char *)&ctx; /* must be overwritten */
    int st = api_handle(req, fz_get_db, &ctx, &out, &allow);
    if (st == 500)
        fprintf(stderr, "fuzz_api: 500 for %s: %s\n", req->path, out.ptr ? out.ptr : "");
    MC_CHECK(st == 200 || st == 400 || st == 404 || st == 405 || st == 503);
    MC_CHECK((st == 405) == (allow != NULL));
    MC_CHECK(ctx.calls <= 1);
    if (ctx.calls == 1)
        MC_CHECK(fz_needs_db(req->path));
    /* 503: no reader connection, or (DELETE /telemetry) no store to queue
     * the delete on, as api_handle is called here without one. */
    if (st == 503)
        MC_CHECK((!db_available && ctx.calls == 1) || strcmp(req->path, "/api/v1/telemetry") == 0);
    MC_CHECK(out.len > 0 && out.ptr[out.len] == '\0');
    json_error_t jerr;
    json_t *doc = json_loadb(out.ptr, out.len, 0, &jerr);
    if (doc == NULL)
        fprintf(stderr, "fuzz_api: invalid JSON (%s): %s\n", jerr.text, out.ptr);
    MC_CHECK(doc != NULL && json_is_object(doc));
    if (st != 200) {
        json_t *e = json_object_get(doc, "error");
        MC_CHECK(json_object_size(doc) == 1 && json_is_object(e) && json_object_size(e) == 2);
        json_t *code = json_object_get(e, "code");
        MC_CHECK(json_is_string(code) &&
                 strcmp(json_string_value(code), api_error_code(st)) == 0);
        json_t *msg = json_object_get(e, "message");
        MC_CHECK(json_is_string(msg) && json_string_length(msg) > 0);
    }
    buf_free(&out);
    *status = st;
    return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const methods[8] = {"GET", "HEAD", "POST", "DELETE",
                                           "get", "OPTIONS", "",     "GET"};
    static int inited;
    if (!inited) {
        fz_init();
        inited = 1;
    }
    if (size < 1)
        return 0;
    const char *method = methods[data[0] & 7];
    int db_available = (data[0] & 8) == 0;
    data++;
    size--;

    /* One NUL-terminated copy of each line, in a buffer the size of the
     * input plus a terminator per line. */
    size_t nlines = 1;
    for (size_t i = 0; i < size; i++)
        nlines += data[i] == '\n';
    char *text = malloc(size + 2 * nlines + 1);
    api_arg *args = calloc(nlines, sizeof(*args));
    MC_CHECK(text != NULL && args != NULL);
    size_t pos = 0, o = 0, nargs = 0;
    const char *path = NULL;
    int too_many = 0;
    while (pos <= size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        const uint8_t *line = data + pos;
        size_t len = end - pos;
        if (path == NULL) {
            memcpy(text + o, line, len);
            text[o + len] = '\0';
            path = text + o;
            o += len + 1;
        } else if (nargs == API_MAX_ARGS) {
            too_many = 1;
        } else {
            const uint8_t *eq = memchr(line, '=', len);
            size_t klen = eq != NULL ? (size_t)(eq - line) : len;
            memcpy(text + o, line, klen);
            text[o + klen] = '\0';
            args[nargs].key = text + o;
            o += klen + 1;
            if (eq != NULL) {
                size_t vlen = len - klen - 1;
                memcpy(text + o, eq + 1, vlen);
                text[o + vlen] = '\0';
                args[nargs].value = text + o;
                args[nargs].value_len = vlen;
                o += vlen + 1;
            }
            nargs++;
        }
        if (nl == NULL)
            break;
        pos = end + 1;
    }

    /* The streamed routes (export, import, live) never reach api_handle in
     * the server: ui.c answers them from their own handlers. */
    if (api_stream_route(method, path) != API_STREAM_NONE) {
        free(args);
        free(text);
        return 0;
    }

    api_request req = {.method = method, .path = path, .args = args, .nargs = nargs,
                       .too_many_args = too_many};
    int st = 0;
    json_t *doc = fz_request(&req, db_available, &st);

    /* A cursor the API hands out must be accepted when sent back. */
    json_t *next = json_object_get(doc, "nextCursor");
    if (st == 200 && json_is_string(next)) {
        api_arg more[API_MAX_ARGS];
        size_t n = 0;
        for (size_t i = 0; i < nargs && n < API_MAX_ARGS - 1; i++)
            if (strcmp(args[i].key, "cursor") != 0)
                more[n++] = args[i];
        more[n].key = "cursor";
        more[n].value = json_string_value(next);
        more[n].value_len = json_string_length(next);
        n++;
        api_request again = req;
        again.args = more;
        again.nargs = n;
        int st2 = 0;
        json_t *doc2 = fz_request(&again, db_available, &st2);
        MC_CHECK(st2 == 200);
        json_decref(doc2);
    }
    json_decref(doc);
    free(args);
    free(text);
    return 0;
}
