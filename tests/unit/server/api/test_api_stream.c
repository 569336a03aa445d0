/* test_api_stream.c - the streamed routes' logic without HTTP: import
 * (server/api_import.c) with documents cut anywhere and hostile bodies,
 * export -> clear -> import giving the same API answers
 * (storage/query_export.c), and live streams (server/api_live.c): filters,
 * trace summaries, heartbeats, suspend/resume pairing, a slow client cut
 * off. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api/api_import.h"
#include "server/api/api_live.h"
#include "server/decode/otlp.h"
#include "storage/query.h"
#include "storage/store.h"

#define FIXTURES "tests/unit/server/fixtures/"

static store *st;
static store_reader *rd;

static void setup(void) {
    store_config cfg = {.mode = STORE_MODE_MEMORY, .ring_max_bytes = 4 << 20};
    char err[256];
    ck_assert_int_eq(store_open(&cfg, &st, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(store_reader_open(st, &rd), STORE_OK);
}

static void teardown(void) {
    store_reader_close(rd);
    store_close(st);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

/* Imports body in chunks of `chunk` bytes; returns the status, answer in out. */
static int import(const char *body, size_t len, size_t chunk, size_t max_doc, buf *out) {
    api_import *im = api_import_new(st, max_doc);
    ck_assert_ptr_nonnull(im);
    for (size_t i = 0; i < len; i += chunk)
        api_import_feed(im, body + i, i + chunk <= len ? chunk : len - i);
    int status = api_import_finish(im, out);
    api_import_free(im);
    return status;
}

static json_int_t imported(const buf *out, const char *what) {
    json_t *j = json_loadb(out->ptr, out->len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_int_t n = json_integer_value(json_object_get(json_object_get(j, "imported"), what));
    json_decref(j);
    return n;
}

/* ---- import --------------------------------------------------------------------- */

START_TEST(test_import_documents_cut_anywhere) {
    size_t tl, ll, ml;
    char *t = slurp(FIXTURES "traces.json", &tl);
    char *l = slurp(FIXTURES "logs.json", &ll);
    char *m = slurp(FIXTURES "metrics.json", &ml);
    /* pretty-printed documents back to back, with blank lines between */
    buf body;
    buf_init(&body, 1 << 22);
    buf_append(&body, t, tl);
    buf_append_str(&body, "\n\n  ");
    buf_append(&body, l, ll);
    buf_append(&body, m, ml);
    buf_append_str(&body, "\n{}\n"); /* an empty document is fine */
    buf out;
    buf_init(&out, 1 << 20);
    const size_t chunks[] = {1, 7, 4096, body.len};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        buf_reset(&out);
        ck_assert_int_eq(import(body.ptr, body.len, chunks[k], 1 << 20, &out), 200);
        ck_assert_int_eq(imported(&out, "spans"), 2);
        ck_assert_int_eq(imported(&out, "logs"), 5);
        ck_assert_int_eq(imported(&out, "points"), 7);
        ck_assert_ptr_nonnull(strstr(out.ptr, "\"documents\":4"));
    }
    buf_free(&out);
    buf_free(&body);
    free(t);
    free(l);
    free(m);
}
END_TEST

START_TEST(test_import_hostile) {
    static const struct {
        const char *body;
        int status;
        const char *msg;
    } cases[] = {
        {"", 200, "\"documents\":0"}, /* an empty export */
        {"   \n", 200, "\"documents\":0"},
        {"garbage", 400, "not a JSON object"},
        {"[1,2]", 400, "not a JSON object"},
        {"{\"resourceSpans\":[", 400, "incomplete"},
        {"{\"a\":\"}", 400, "incomplete"},
        {"{}}", 400, "not a JSON object"},
        {"{\"a\":]", 400, "not valid JSON"},
        {"]", 400, "not a JSON object"},
        {"{\"resourceSpans\":[],\"resourceLogs\":[]}", 400, "mixes signals"},
        {"{\"resourceSpans\":{\"x\":1}}", 400, "document 1"},
        {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}", 200, NULL},
        /* braces and quotes inside strings do not cut documents */
        {"{\"note\":\"} { \\\" ]\"}\n{\"resourceLogs\":[]}", 200, NULL},
        /* the key only counts at the top level */
        {"{\"x\":{\"resourceLogs\":1}}", 200, NULL},
    };
    buf out;
    buf_init(&out, 1 << 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&out);
        int s = import(cases[i].body, strlen(cases[i].body), 3, 1 << 20, &out);
        ck_assert_msg(s == cases[i].status, "case %zu: %d %s", i, s, out.ptr);
        if (cases[i].msg)
            ck_assert_msg(strstr(out.ptr, cases[i].msg) != NULL, "case %zu: %s", i, out.ptr);
        json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
        ck_assert_ptr_nonnull(j); /* always a JSON answer */
        json_decref(j);
    }
    /* a document over the cap */
    char big[4096];
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"k\":\"", 6);
    memcpy(big + sizeof(big) - 2, "\"}", 2);
    buf_reset(&out);
    ck_assert_int_eq(import(big, sizeof(big), 100, 1000, &out), 413);
    /* invalid UTF-8 and control bytes inside strings: the decoder's call */
    const char bad[] = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
                       "{\"stringValue\":\"\xff\xfe\"}}]}]}]}";
    buf_reset(&out);
    int s = import(bad, strlen(bad), 5, 1 << 20, &out);
    ck_assert(s == 200 || s == 400);
    json_t *j = json_loadb(out.ptr, out.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    buf_free(&out);
}
END_TEST

/* ---- export -> clear -> import ------------------------------------------------------ */

static void append_json(model_signal sig, const char *text, size_t len) {
    model_batch *b = NULL;
    char err[200];
    ck_assert_msg(otlp_decode_json(sig, text, len, 0, &b, err, sizeof(err)) == OTLP_OK, "%s", err);
    buf out;
    buf_init(&out, 1 << 16);
    api_import *im = api_import_new(st, 1 << 24); /* through the import path is simplest */
    api_import_feed(im, text, len);
    ck_assert_int_eq(api_import_finish(im, &out), 200);
    api_import_free(im);
    buf_free(&out);
    model_batch_free(b);
}

/* Generated telemetry: 120 traces over 3 services, 1200 logs, a counter and
 * a histogram with 2500 points, so that every export spans several lines. */
static void fill_generated(void) {
    buf j;
    buf_init(&j, 1 << 24);
    const char *svcs[] = {"alpha", "beta", "gamma"};
    for (int s = 0; s < 3; s++) {
        buf_reset(&j);
        buf_printf(&j, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                       "\"value\":{\"stringValue\":\"%s\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":"
                       "\"gen\"},\"spans\":[",
                   svcs[s]);
        for (int t = 0; t < 120; t++) {
            if (t % 3 != s && t % 7 != 0)
                continue;
            buf_printf(&j,
                       "%s{\"traceId\":\"%032x\",\"spanId\":\"%08x%08x\",\"name\":\"op%d\","
                       "\"kind\":2,\"startTimeUnixNano\":\"%d\",\"endTimeUnixNano\":\"%d\","
                       "\"attributes\":[{\"key\":\"n\",\"value\":{\"intValue\":\"%d\"}},"
                       "{\"key\":\"d\",\"value\":{\"doubleValue\":%d.5}}],"
                       "\"status\":{\"code\":%d}}",
                       j.ptr[j.len - 1] == '[' ? "" : ",", t + 1, s + 1, t + 1, t % 5,
                       1000 + t * 10 + s, 2000 + t * 10, t, t, t % 9 ? 0 : 2);
        }
        buf_append_str(&j, "]}]}]}");
        append_json(MODEL_SIGNAL_TRACES, j.ptr, j.len);
    }
    buf_reset(&j);
    buf_append_str(&j, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                       "\"value\":{\"stringValue\":\"alpha\"}}]},\"scopeLogs\":[{\"logRecords\":[");
    for (int i = 0; i < 1200; i++)
        buf_printf(&j,
                   "%s{\"timeUnixNano\":\"%d\",\"severityNumber\":%d,\"body\":{\"stringValue\":"
                   "\"line %d\"},\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"%d\"}}]}",
                   i ? "," : "", 5000 + i / 3, 1 + i % 24, i, i);
    buf_append_str(&j, "]}]}]}");
    append_json(MODEL_SIGNAL_LOGS, j.ptr, j.len);
    buf_reset(&j);
    buf_append_str(&j, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                       "\"value\":{\"stringValue\":\"beta\"}}]},\"scopeMetrics\":[{\"metrics\":["
                       "{\"name\":\"hits\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
                       "\"dataPoints\":[");
    for (int i = 0; i < 2500; i++)
        buf_printf(&j,
                   "%s{\"attributes\":[{\"key\":\"r\",\"value\":{\"stringValue\":\"/%d\"}}],"
                   "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"%d\",\"asInt\":\"%d\"}",
                   i ? "," : "", i % 3, 1000000000 + i * 1000, i);
    buf_append_str(&j, "]}},{\"name\":\"lat\",\"histogram\":{\"aggregationTemporality\":1,"
                       "\"dataPoints\":[{\"timeUnixNano\":\"5\",\"count\":\"3\",\"sum\":6.5,"
                       "\"bucketCounts\":[\"1\",\"2\"],\"explicitBounds\":[1.5],\"min\":1,"
                       "\"max\":4}]}}]}]}]}");
    append_json(MODEL_SIGNAL_METRICS, j.ptr, j.len);
    buf_free(&j);
}

/* Every API answer the data gives, concatenated. */
/* Replaces each log record's pattern id from `from` on with "P": a
 * re-imported record joins the pattern that the learned templates give it
 * now, whose id may differ from the first; whether it has one (not null)
 * still compares. */
static void mask_pattern_ids(buf *s, size_t from) {
    static const char key[] = "\"patternId\":";
    size_t r = from, w = from;
    while (r < s->len) {
        if (strncmp(s->ptr + r, key, sizeof(key) - 1) == 0 && r + sizeof(key) - 1 < s->len &&
            s->ptr[r + sizeof(key) - 1] >= '0' && s->ptr[r + sizeof(key) - 1] <= '9') {
            memmove(s->ptr + w, key, sizeof(key) - 1);
            w += sizeof(key) - 1;
            r += sizeof(key) - 1;
            while (r < s->len && s->ptr[r] >= '0' && s->ptr[r] <= '9')
                r++;
            s->ptr[w++] = 'P';
            continue;
        }
        s->ptr[w++] = s->ptr[r++];
    }
    s->len = w;
    s->ptr[w] = '\0';
}

static void snapshot(buf *s) {
    buf_reset(s);
    ck_assert_int_eq(query_services(rd, NULL, s), QUERY_OK);
    ck_assert_int_eq(query_metrics(rd, NULL, s), QUERY_OK);
    char cursor[64] = "";
    for (int page = 0; page < 100; page++) {
        query_traces_params tp = {.limit = 7, .cursor = cursor[0] ? cursor : NULL};
        size_t before = s->len;
        ck_assert_int_eq(query_traces(rd, &tp, s), QUERY_OK);
        char *nc = strstr(s->ptr + before, "\"nextCursor\":\"");
        if (nc == NULL)
            break;
        snprintf(cursor, sizeof(cursor), "%.32s", nc + 14);
        memset(nc + 14, 'x', 32); /* opaque: row ids differ after an import */
    }
    for (int t = 0; t < 120; t++) {
        uint8_t id[16] = {0};
        id[12] = (uint8_t)((t + 1) >> 24);
        id[13] = (uint8_t)((t + 1) >> 16);
        id[14] = (uint8_t)((t + 1) >> 8);
        id[15] = (uint8_t)(t + 1);
        int rc = query_trace(rd, id, s);
        ck_assert(rc == QUERY_OK || rc == QUERY_ENOTFOUND);
    }
    cursor[0] = '\0';
    size_t logs_from = s->len;
    for (int page = 0; page < 100; page++) {
        query_logs_params lp = {.limit = 100, .cursor = cursor[0] ? cursor : NULL};
        size_t before = s->len;
        ck_assert_int_eq(query_logs(rd, &lp, s), QUERY_OK);
        char *nc = strstr(s->ptr + before, "\"nextCursor\":\"");
        if (nc == NULL)
            break;
        snprintf(cursor, sizeof(cursor), "%.32s", nc + 14);
        memset(nc + 14, 'x', 32); /* opaque: row ids differ after an import */
    }
    mask_pattern_ids(s, logs_from);
    const char *names[] = {"hits", "lat", "http.duration", "http.requests", "http.duration.exp",
                           "queue.size", "rpc.duration"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        query_series_params sp = {.name = names[i]};
        int rc = query_series(rd, &sp, s);
        ck_assert(rc == QUERY_OK || rc == QUERY_ENOTFOUND);
        query_series_params st2 = {.name = names[i], .step_ns = 1000000000};
        rc = query_series(rd, &st2, s);
        ck_assert(rc == QUERY_OK || rc == QUERY_ENOTFOUND);
    }
}

static void export_all(const query_export_params *p, buf *lines, int *nlines) {
    query_export *x;
    ck_assert_int_eq(query_export_new(p, &x), QUERY_OK);
    for (int i = 0; i < 1000; i++) {
        int done = 0;
        ck_assert_int_eq(query_export_next(x, rd, lines, &done), QUERY_OK);
        if (done)
            break;
        (*nlines)++;
    }
    query_export_free(x);
}

START_TEST(test_export_clear_import_round_trip) {
    const char *files[] = {FIXTURES "traces.json", FIXTURES "logs.json", FIXTURES "metrics.json",
                           FIXTURES "js_traces.json", FIXTURES "js_logs.json",
                           FIXTURES "js_metrics.json", FIXTURES "js_metrics_delta.json"};
    const model_signal sigs[] = {MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS,
                                 MODEL_SIGNAL_TRACES, MODEL_SIGNAL_LOGS, MODEL_SIGNAL_METRICS,
                                 MODEL_SIGNAL_METRICS};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t n;
        char *t = slurp(files[i], &n);
        append_json(sigs[i], t, n);
        free(t);
    }
    fill_generated();
    buf before, after, lines;
    buf_init(&before, 64 << 20);
    buf_init(&after, 64 << 20);
    buf_init(&lines, 64 << 20);
    snapshot(&before);
    ck_assert_ptr_nonnull(strstr(before.ptr, "\"patternId\":P")); /* records have patterns */
    int nlines = 0;
    for (int sig = 0; sig < 3; sig++) {
        query_export_params p = {.signal = sig};
        export_all(&p, &lines, &nlines);
    }
    ck_assert_int_gt(nlines, 6); /* several lines per signal */
    store_delete_result r;
    ck_assert_int_eq(store_delete_wait(st, STORE_DELETE_ALL, NULL, 30000, &r), STORE_OK);
    ck_assert_uint_gt(r.spans, 100);
    snapshot(&after);
    ck_assert_str_ne(before.ptr, after.ptr);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(import(lines.ptr, lines.len, 65536, 64 << 20, &out), 200);
    snapshot(&after);
    if (strcmp(before.ptr, after.ptr) != 0) {
        size_t k = 0;
        while (before.ptr[k] == after.ptr[k])
            k++;
        ck_abort_msg("answers differ at %zu:\n%.300s\n%.300s", k, before.ptr + (k > 100 ? k - 100 : 0),
                     after.ptr + (k > 100 ? k - 100 : 0));
    }
    /* filters: only one service's traces, only error logs, a metric window */
    buf_reset(&lines);
    nlines = 0;
    query_export_params p = {.signal = MODEL_SIGNAL_TRACES};
    p.traces.service = "gamma";
    export_all(&p, &lines, &nlines);
    ck_assert_ptr_nonnull(strstr(lines.ptr, "\"gamma\""));
    ck_assert_ptr_null(strstr(lines.ptr, "\"checkout\""));
    buf_reset(&lines);
    query_export_params lp = {.signal = MODEL_SIGNAL_LOGS};
    lp.logs.min_severity = 24;
    export_all(&lp, &lines, &nlines);
    ck_assert_ptr_null(strstr(lines.ptr, "\"severityNumber\":23"));
    ck_assert_ptr_nonnull(strstr(lines.ptr, "\"severityNumber\":24"));
    buf_reset(&lines);
    query_export_params mp = {.signal = MODEL_SIGNAL_METRICS, .service = "nobody"};
    int before_lines = nlines;
    export_all(&mp, &lines, &nlines);
    ck_assert_int_eq(nlines, before_lines);
    ck_assert_uint_eq(lines.len, 0);
    query_export_params bad = {.signal = 7};
    query_export *x;
    ck_assert_int_eq(query_export_new(&bad, &x), QUERY_EINVAL);
    buf_free(&out);
    buf_free(&before);
    buf_free(&after);
    buf_free(&lines);
}
END_TEST

/* ---- live ------------------------------------------------------------------------------ */

/* The callbacks run on the hub's ticker and the store's writer as well as on
 * the test's thread: the fields are guarded by conn_mu. */
typedef struct conn {
    int suspended, resumes, suspends;
} conn;

static pthread_mutex_t conn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cv = PTHREAD_COND_INITIALIZER;

static void c_suspend(void *p) {
    conn *c = p;
    pthread_mutex_lock(&conn_mu);
    int was = c->suspended;
    c->suspended = 1;
    c->suspends++;
    pthread_mutex_unlock(&conn_mu);
    ck_assert_int_eq(was, 0);
}

static void c_resume(void *p) {
    conn *c = p;
    pthread_mutex_lock(&conn_mu);
    int was = c->suspended;
    c->suspended = 0;
    c->resumes++;
    pthread_cond_broadcast(&conn_cv);
    pthread_mutex_unlock(&conn_mu);
    ck_assert_int_eq(was, 1); /* never before its suspend */
}

/* Waits (at most 2 s) until c is resumed; returns c->suspended. */
static int c_wait_resumed(conn *c) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    pthread_mutex_lock(&conn_mu);
    while (c->suspended && pthread_cond_timedwait(&conn_cv, &conn_mu, &until) == 0) {
    }
    int suspended = c->suspended;
    pthread_mutex_unlock(&conn_mu);
    return suspended;
}

/* Collects what next() gives until it waits (or ends). */
static int drain(api_live *l, buf *out) {
    for (int i = 0; i < 100; i++) {
        int rc = api_live_next(l, rd, out);
        if (rc != API_LIVE_DATA)
            return rc;
    }
    ck_abort_msg("the stream never waits");
    return API_LIVE_END;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

START_TEST(test_live_filters_and_summaries) {
    api_live_hub *h = api_live_hub_new(st);
    ck_assert_ptr_nonnull(h);
    query_attr a = {"http.status_code", 16, QUERY_ATTR_EQ, "200", 3, 0};
    api_live_filter f = {.service = "checkout", .attrs = &a, .n_attrs = 1};
    api_live_filter g = {.kinds = API_LIVE_LOGS, .min_severity = 17};
    conn ca = {0}, cb = {0};
    api_live *la, *lb;
    ck_assert_int_eq(api_live_open(h, &f, c_suspend, c_resume, &ca, &la), 0);
    ck_assert_int_eq(api_live_open(h, &g, c_suspend, c_resume, &cb, &lb), 0);
    ck_assert_uint_eq(api_live_hub_streams(h), 2);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(drain(la, &out), API_LIVE_WAIT); /* the opening comment */
    ck_assert_ptr_nonnull(strstr(out.ptr, ": loupe live"));
    ck_assert_int_eq(drain(lb, &out), API_LIVE_WAIT);
    ck_assert_int_eq(ca.suspended, 1);
    size_t tl, ll;
    char *t = slurp(FIXTURES "traces.json", &tl);
    char *l = slurp(FIXTURES "logs.json", &ll);
    append_json(MODEL_SIGNAL_TRACES, t, tl);
    append_json(MODEL_SIGNAL_LOGS, l, ll);
    /* committed: both were resumed, once */
    ck_assert_int_eq(ca.resumes, 1);
    ck_assert_int_eq(cb.resumes, 1);
    buf_reset(&out);
    ck_assert_int_eq(drain(la, &out), API_LIVE_WAIT);
    /* checkout's span with http.status_code 200 (the other has none), its
     * trace's summary, no logs */
    ck_assert_int_eq(count(out.ptr, "event: span\n"), 1);
    ck_assert_int_eq(count(out.ptr, "event: trace\n"), 1);
    ck_assert_int_eq(count(out.ptr, "event: log\n"), 0);
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"rootService\":\"checkout\""));
    ck_assert_ptr_nonnull(strstr(out.ptr, "\"spanCount\":2"));
    buf_reset(&out);
    ck_assert_int_eq(drain(lb, &out), API_LIVE_WAIT);
    ck_assert_int_eq(count(out.ptr, "event: log\n"), 2); /* severity 17 and 24 */
    ck_assert_int_eq(count(out.ptr, "event: span\n"), 0);
    /* every data line is one JSON document */
    for (char *p = strstr(out.ptr, "data: "); p != NULL; p = strstr(p + 1, "data: ")) {
        char *e = strchr(p, '\n');
        json_t *j = json_loadb(p + 6, (size_t)(e - p - 6), 0, NULL);
        ck_assert_ptr_nonnull(j);
        json_decref(j);
    }
    /* shutdown ends both: resumed, then END */
    ck_assert_uint_eq(api_live_hub_shutdown(h, 10), 0);
    ck_assert_int_eq(ca.suspended, 0);
    buf_reset(&out);
    ck_assert_int_eq(drain(la, &out), API_LIVE_END);
    ck_assert_int_eq(drain(lb, &out), API_LIVE_END);
    api_live_close(la);
    api_live_close(lb);
    ck_assert_uint_eq(api_live_hub_streams(h), 0);
    api_live_hub_free(h);
    buf_free(&out);
    free(t);
    free(l);
}
END_TEST

START_TEST(test_live_heartbeat_and_slow_client) {
    api_live_hub *h = api_live_hub_new(st);
    api_live_filter f = {.heartbeat_ns = 100000000, .max_queue = 2048};
    conn c = {0};
    api_live *l;
    ck_assert_int_eq(api_live_open(h, &f, c_suspend, c_resume, &c, &l), 0);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(drain(l, &out), API_LIVE_WAIT);
    /* the ticker resumes it for the heartbeat (bounded wait) */
    ck_assert_int_eq(c_wait_resumed(&c), 0);
    buf_reset(&out);
    ck_assert_int_eq(drain(l, &out), API_LIVE_WAIT);
    ck_assert_ptr_nonnull(strstr(out.ptr, "event: heartbeat\ndata: {\"timeUnixNano\":\""));
    /* a client that does not read: more than 2 KiB arrive */
    size_t tl;
    char *t = slurp(FIXTURES "js_traces.json", &tl);
    append_json(MODEL_SIGNAL_TRACES, t, tl);
    append_json(MODEL_SIGNAL_TRACES, t, tl);
    buf_reset(&out);
    ck_assert_int_eq(drain(l, &out), API_LIVE_END);
    ck_assert_ptr_nonnull(strstr(out.ptr, "event: overflow"));
    ck_assert_ptr_null(strstr(out.ptr, "event: span"));
    api_live_close(l);
    api_live_hub_free(h);
    buf_free(&out);
    free(t);
}
END_TEST

START_TEST(test_live_ingest_events) {
    api_live_hub *h = api_live_hub_new(st);
    ingest_log *log = ingest_log_new(8, NULL);
    api_live_hub_set_ingest(h, log);
    ingest_rec r;
    ingest_rec_begin(&r, INGEST_HTTP);
    r.http_status = 200;
    ingest_log_add(log, &r); /* before the stream: the page reads it itself */
    api_live_filter only = {.kinds = API_LIVE_INGEST};
    api_live_filter spans = {0}; /* the default set has no ingest events */
    conn ca = {0}, cb = {0};
    api_live *la, *lb;
    ck_assert_int_eq(api_live_open(h, &only, c_suspend, c_resume, &ca, &la), 0);
    ck_assert_int_eq(api_live_open(h, &spans, c_suspend, c_resume, &cb, &lb), 0);
    buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(drain(la, &out), API_LIVE_WAIT);
    ck_assert_int_eq(drain(lb, &out), API_LIVE_WAIT);
    ck_assert_int_eq(count(out.ptr, "event: ingest"), 0);
    /* two requests answered: the ticker wakes the ingest stream (bounded) */
    ingest_log_add(log, &r);
    ingest_log_add(log, &r);
    ck_assert_int_eq(c_wait_resumed(&ca), 0);
    buf_reset(&out);
    ck_assert_int_eq(drain(la, &out), API_LIVE_WAIT);
    ck_assert_int_eq(count(out.ptr, "event: ingest\ndata: {\"head\":3}\n\n"), 1);
    /* spans committed now go to the default stream only: the ingest
     * stream is not even woken */
    int resumes = ca.resumes;
    size_t tl;
    char *t = slurp(FIXTURES "traces.json", &tl);
    append_json(MODEL_SIGNAL_TRACES, t, tl);
    ck_assert_int_eq(ca.resumes, resumes);
    ck_assert_int_eq(ca.suspended, 1);
    buf_reset(&out);
    ck_assert_int_eq(drain(lb, &out), API_LIVE_WAIT);
    ck_assert_int_gt(count(out.ptr, "event: span"), 0);
    ck_assert_int_eq(count(out.ptr, "event: ingest"), 0);
    ck_assert_uint_eq(api_live_hub_shutdown(h, 10), 0);
    ck_assert_int_eq(drain(la, &out), API_LIVE_END);
    ck_assert_int_eq(drain(lb, &out), API_LIVE_END);
    api_live_close(la);
    api_live_close(lb);
    api_live_hub_free(h);
    ingest_log_free(log);
    buf_free(&out);
    free(t);
}
END_TEST

static Suite *stream_suite(void) {
    Suite *s = suite_create("api_stream");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_import_documents_cut_anywhere);
    tcase_add_test(tc, test_import_hostile);
    tcase_add_test(tc, test_export_clear_import_round_trip);
    tcase_add_test(tc, test_live_filters_and_summaries);
    tcase_add_test(tc, test_live_heartbeat_and_slow_client);
    tcase_add_test(tc, test_live_ingest_events);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(stream_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
