/* ui.c - the UI and API server: embedded web assets and /api/v1 on one port.
 *
 * DESIGN
 * A libmicrohttpd daemon with an internal thread pool (epoll, two workers)
 * on a socket we bind ourselves (netaddr_listen), so port 0 works and a bind
 * error names the address. Every request is answered synchronously from the
 * access handler on its first call: API requests go to api_handle_env() (api.c),
 * everything else is an embedded asset or the single-page-app fallback.
 * SQLite reader connections are per worker thread: opened lazily on a
 * thread's first API request, kept in a small table keyed by thread id, and
 * closed by ui_server_stop() after the daemon has joined its threads. Every
 * response is sent through ui_reply.c, which adds the security headers
 * (CSP, nosniff, no-referrer, DENY). GET /metrics reads the receivers
 * through the metrics_source main.c registered (metrics_source.h).
 *
 * With an authenticator (token mode, ui_auth.c) every request passes
 * ui_gate() before routing: /healthz, /readyz and /login are open; API paths
 * without the session cookie or bearer token get a 401 JSON error, UI pages
 * a 303 to /login. GET /login?token=... trades the token for the cookie.
 *
 * API answers to a client that accepts gzip are compressed on the query
 * thread (ui_reply_gzip) when they are large enough to gain from it; an
 * export is compressed as it streams (gz_writer); a live stream never is.
 *
 * With a base path (--base-path /loupe, ui_base.c) a request's path is
 * located first: below the base it is routed without the prefix, "/loupe"
 * is redirected to "/loupe/", anything else is a 404; redirects, the
 * login form and the session cookie carry the base, and index.html is
 * served with its <base href> rewritten (made once at start).
 *
 * Three API routes are not one buffer (api_stream_route): GET /export and
 * GET /live answer with a content-reader callback that pulls lines from
 * query_export_next() or events from api_live_next() on the worker's reader
 * connection; a live stream with nothing to send suspends its connection
 * from the callback (the pattern libmicrohttpd prescribes) and is resumed
 * by the live hub. POST /import feeds the body to api_import as it arrives
 * (a per-request context in *con_cls, freed when the request completes)
 * and answers once everything committed. ui_server_stop() ends the live
 * streams before stopping the daemon, which must not see a suspended
 * connection.
 *
 * POST /mcp (the MCP endpoint, mcp.h) is checked before its body is read:
 * the Origin (403), then the gate like the API, then a Content-Length over
 * MCP_MAX_BODY (413); the body then grows in a capped buf, and at its end
 * mcp_handle() answers on a query thread like an API request. The tools
 * read the API in process through api_get() on the request's reader.
 */
#include "ui.h"

#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "api_import.h"
#include "api_live.h"
#include "mcp.h"
#include "util/gz.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/workq.h"
#include "selfmetrics.h"
#include "ui_base.h"
#include "ui_http.h"
#include "ui_reply.h"
#include "web_assets.h"

#define UI_THREADS 2
#define UI_MAX_READERS 12 /* libmicrohttpd's workers (2) and the query threads, with room */
#define UI_QUERY_THREADS 4 /* API requests run here, not on libmicrohttpd's threads */
#define UI_QUERY_QUEUE 256 /* API requests waiting for a query thread; past it: 503 */
#define UI_DEFAULT_MAX_CONNECTIONS 256
#define UI_DEFAULT_TIMEOUT 60
#define UI_DEFAULT_REQUEST_TIMEOUT 30
#define UI_DEFAULT_MAX_HEADER ((size_t)64 << 10)
#define UI_DEFAULT_MAX_LIVE 64
#define UI_MIN_POOL ((size_t)64 << 10)
#define UI_IMPORT_MAX_DOC ((size_t)64 << 20) /* one OTLP JSON document of an import */
#define UI_STREAM_BLOCK (64 * 1024)
#define UI_EXPORT_GZIP_LEVEL 6
#define UI_LIVE_STOP_MS 2000

static const char CACHE_IMMUTABLE[] = "public, max-age=31536000, immutable";

typedef struct ui_reader {
    pthread_t tid;
    store_reader *db;
} ui_reader;

struct ui_server {
    struct MHD_Daemon *daemon;
    store *st; /* borrowed; may be NULL (API answers 503) */
    int port;
    pthread_mutex_t mu; /* guards readers */
    ui_reader readers[UI_MAX_READERS];
    size_t nreaders;
    api_live_hub *hub; /* live streams; NULL without a store */
    const ui_auth *auth; /* borrowed; NULL = no authentication */
    /* /metrics and /readyz */
    metrics_source grpc, http; /* the receivers; guarded by mu; zeros = not registered */
    metrics_forward_fn forward; /* the forwarder's counters; guarded by mu; NULL = none */
    void *forward_ctx;
    const char *version;       /* borrowed from the config; NULL = "unknown" */
    double started;            /* unix seconds */
    atomic_int draining;     /* shutdown has begun: /readyz says not ready */
    int storage;      /* for GET /api/v1/info */
    http_guard *guard; /* slow clients, header size, counters */
    size_t max_header;
    workq *queries; /* runs API requests; their connections wait suspended */
    ingest_log *ingest; /* borrowed; NULL = the ingest inspector is off */
    char base[UI_BASE_MAX + 1]; /* --base-path; "" = none */
    ui_base_index index;        /* index.html for the base; data NULL without one */
};

/* Per-request state for the reader lookup. */
typedef struct ui_req_ctx {
    ui_server *u;
    store_reader *temp_db; /* opened for this request only when the table is full */
} ui_req_ctx;

/* Request states kept in *con_cls by ui_access: headers seen, answered. */
static int ui_state_seen, ui_state_answered;

/* 1 for the methods of pages and operations (GET and HEAD). */
static int ui_is_get(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* ---- reader connections ------------------------------------------------ */

static int ui_get_db(void *ud, store_reader **db) {
    ui_req_ctx *ctx = ud;
    ui_server *u = ctx->u;
    *db = NULL;
    if (u->st == NULL)
        return -1;
    if (ctx->temp_db != NULL) { /* a request with several queries (MCP tools) */
        *db = ctx->temp_db;
        return 0;
    }
    pthread_t self = pthread_self();
    pthread_mutex_lock(&u->mu);
    assert(u->nreaders <= UI_MAX_READERS);
    for (size_t i = 0; i < u->nreaders; i++) {
        if (pthread_equal(u->readers[i].tid, self)) {
            *db = u->readers[i].db;
            pthread_mutex_unlock(&u->mu);
            return 0;
        }
    }
    pthread_mutex_unlock(&u->mu);
    /* Only this thread can add an entry for itself, so opening outside the
     * lock cannot race with another open for the same thread. */
    store_reader *d = NULL;
    int rc = store_reader_open(u->st, &d);
    if (rc != 0 || d == NULL) {
        log_event(LOG_WARN, "ui_reader_open_failed", "reason=\"%s\"", store_strerror(rc));
        if (d != NULL)
            store_reader_close(d);
        return -1;
    }
    pthread_mutex_lock(&u->mu);
    if (u->nreaders < UI_MAX_READERS) {
        u->readers[u->nreaders].tid = self;
        u->readers[u->nreaders].db = d;
        u->nreaders++;
        pthread_mutex_unlock(&u->mu);
    } else {
        pthread_mutex_unlock(&u->mu);
        ctx->temp_db = d;
    }
    *db = d;
    return 0;
}

/* ---- streamed answers: export and live --------------------------------------- */

typedef struct ui_stream {
    ui_server *u;
    ui_req_ctx ctx; /* the reader connection */
    query_export *x;
    api_live *live;
    gz_writer *gz; /* an export to a client that accepts gzip; else NULL */
    buf raw;       /* with gz: export lines before compression */
    buf pending;   /* produced, not yet handed to libmicrohttpd */
    size_t off;
    int done;
} ui_stream;

static void ui_live_suspend(void *conn) {
    MHD_suspend_connection(conn);
}

static void ui_live_resume(void *conn) {
    MHD_resume_connection(conn);
}

static ssize_t ui_stream_read(void *cls, uint64_t pos, char *out, size_t max) {
    ui_stream *s = cls;
    (void)pos;
    assert((s->x == NULL) != (s->live == NULL)); /* an export or a live stream */
    assert(s->off <= s->pending.len);
    while (s->pending.len - s->off == 0) {
        if (s->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&s->pending);
        s->off = 0;
        store_reader *db = NULL;
        if (ui_get_db(&s->ctx, &db) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->x != NULL) {
            int done = 0;
            buf *lines = s->gz != NULL ? &s->raw : &s->pending;
            buf_reset(lines);
            int rc = query_export_next(s->x, db, lines, &done);
            if (rc != QUERY_OK) {
                log_event(LOG_WARN, "ui_export_failed", "reason=\"%s\"", query_strerror(rc));
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            /* compressed as it goes: deflate may keep a piece for later */
            if (s->gz != NULL &&
                gz_writer_write(s->gz, (const uint8_t *)lines->ptr, lines->len, done,
                                &s->pending) != GZ_OK) {
                log_event(LOG_WARN, "ui_export_failed", "reason=\"cannot compress\"");
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            s->done = done;
        } else {
            int rc = api_live_next(s->live, db, &s->pending);
            if (rc == API_LIVE_WAIT)
                return 0; /* suspended in api_live_next; resumed by the hub */
            if (rc == API_LIVE_END)
                s->done = 1;
        }
    }
    size_t n = s->pending.len - s->off;
    if (n > max)
        n = max;
    memcpy(out, s->pending.ptr + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void ui_stream_free(void *cls) {
    ui_stream *s = cls;
    query_export_free(s->x);
    api_live_close(s->live);
    if (s->ctx.temp_db != NULL)
        store_reader_close(s->ctx.temp_db);
    gz_writer_free(s->gz);
    buf_free(&s->raw);
    buf_free(&s->pending);
    free(s);
}

static enum MHD_Result ui_serve_stream(ui_server *u, struct MHD_Connection *c,
                                       const api_request *req, api_stream_kind kind,
                                       int gzip) {
    ui_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ui_reply_error(c, 503, "out of memory", NULL);
    s->u = u;
    s->ctx.u = u;
    buf_init(&s->raw, API_MAX_RESPONSE_BYTES);
    buf_init(&s->pending, API_MAX_RESPONSE_BYTES);
    buf err;
    buf_init(&err, 65536);
    const char *name = NULL;
    int status = kind == API_STREAM_EXPORT
                     ? api_export_open(req, &s->x, &name, &err)
                     : api_live_request(req, u->hub, ui_live_suspend, ui_live_resume, c,
                                        &s->live, &err);
    if (status == 200 && kind == API_STREAM_EXPORT && u->st == NULL)
        status = 503;
    if (status != 200) {
        if (status == 503 && err.len == 0)
            api_error_json(&err, "unavailable", "the store is not available");
        ui_stream_free(s);
        return ui_reply_json(c, (unsigned)status, &err, NULL);
    }
    buf_free(&err);
    /* an export may be gzipped (a live stream never is: each event must
     * reach the client when it is sent) */
    if (kind == API_STREAM_EXPORT && gzip)
        s->gz = gz_writer_new(UI_EXPORT_GZIP_LEVEL); /* NULL: sent as it is */
    int gzipped = s->gz != NULL;
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, UI_STREAM_BLOCK, ui_stream_read, s, ui_stream_free);
    if (r == NULL) {
        ui_stream_free(s);
        return MHD_NO;
    }
    if (kind == API_STREAM_LIVE)
        return ui_reply_nostore(c, MHD_HTTP_OK, r, "text/event-stream; charset=utf-8",
                               "X-Accel-Buffering", "no");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gzipped)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    char disp[96];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
    return ui_reply_nostore(c, MHD_HTTP_OK, r, "application/x-ndjson; charset=utf-8",
                           MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
}

/* ---- import: the body as it arrives ---------------------------------------------- */

/* What *con_cls holds besides the request states, told apart by `kind`
 * (each struct starts with it): an import or a POST /mcp whose body is
 * being read, or an API or MCP request handed to the query threads. */
enum { UI_REQ_IMPORT = 1, UI_REQ_API = 2, UI_REQ_MCP = 3, UI_REQ_MCP_JOB = 4 };

/* The kind of *con_cls (0 for NULL and the request states). */
static int ui_req_kind(void *con_cls);

/* *con_cls of a POST /api/v1/import in progress. */
typedef struct ui_import_req {
    int kind; /* UI_REQ_IMPORT */
    api_import *im;
    int failed; /* the status api_import_feed() reported */
} ui_import_req;

static void ui_import_req_free(ui_import_req *ir) {
    if (ir == NULL)
        return;
    api_import_free(ir->im);
    free(ir);
}

/* ---- the API ------------------------------------------------------------ */

typedef struct ui_args {
    api_arg items[API_MAX_ARGS];
    size_t n;
    int too_many;
} ui_args;

static enum MHD_Result ui_collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size) {
    ui_args *a = cls;
    (void)kind;
    if (key == NULL || strlen(key) != key_size)
        return MHD_YES; /* a NUL inside a key matches no parameter name: ignore it */
    if (a->n == API_MAX_ARGS) {
        a->too_many = 1;
        return MHD_NO; /* stop iterating */
    }
    a->items[a->n].key = key;
    a->items[a->n].value = value;
    a->items[a->n].value_len = value != NULL ? value_size : 0;
    a->n++;
    return MHD_YES;
}

/* The handlers' environment for a request of this server (info is filled
 * in and must outlive env). */
static void ui_api_env(ui_server *u, ui_req_ctx *ctx, api_info *info, api_env *env) {
    memset(info, 0, sizeof(*info));
    info->version = u->version;
    info->storage = u->storage;
    pthread_mutex_lock(&u->mu);
    info->otlp_grpc_port = u->grpc.port;
    info->otlp_http_port = u->http.port;
    pthread_mutex_unlock(&u->mu);
    env->get_db = ui_get_db;
    env->ud = ctx;
    env->st = u->st;
    env->hub = u->hub;
    env->info = info;
    env->ingest = u->ingest;
}

/* An API request on its way through the query threads: *con_cls while
 * its connection is suspended. The request's strings (path, arguments)
 * stay in libmicrohttpd's connection memory meanwhile. */
typedef struct ui_api_job {
    int kind; /* UI_REQ_API */
    ui_server *u;
    struct MHD_Connection *c;
    ui_args args;
    api_request req;
    buf out;
    int status; /* 0 until answered */
    const char *allow;
    int gzip;     /* the client accepts gzip */
    int gzipped;  /* out holds the answer's gzip */
} ui_api_job;

/* On a query thread: the request's answer, then its connection resumes
 * (the last touch of the job: the daemon's thread frees it). */
static void ui_api_run(void *arg) {
    ui_api_job *j = arg;
    ui_server *u = j->u;
    ui_req_ctx ctx = {.u = u, .temp_db = NULL};
    api_info info;
    api_env env;
    ui_api_env(u, &ctx, &info, &env);
    j->status = api_handle_env(&j->req, &env, &j->out, &j->allow);
    if (j->gzip)
        j->gzipped = ui_reply_gzip(&j->out); /* here, not on libmicrohttpd's thread */
    if (ctx.temp_db != NULL)
        store_reader_close(ctx.temp_db);
    MHD_resume_connection(j->c);
}

static int ui_req_kind(void *con_cls) {
    if (con_cls == NULL || con_cls == &ui_state_answered || con_cls == &ui_state_seen)
        return 0;
    return *(const int *)con_cls;
}

/* Called again for a resumed connection: the job's answer. */
static enum MHD_Result ui_api_answer(struct MHD_Connection *c, void **con_cls) {
    ui_api_job *j = *con_cls;
    *con_cls = &ui_state_answered;
    enum MHD_Result r = ui_reply_api(c, (unsigned)j->status, &j->out, j->allow, j->gzipped);
    free(j);
    return r;
}

/* An API request: streams are served here; everything else runs on a
 * query thread while the connection waits suspended, so that slow
 * queries never hold up libmicrohttpd's threads (pages, assets, other
 * requests). A full queue is answered 503 at once. */
static enum MHD_Result ui_serve_api(ui_server *u, struct MHD_Connection *c, const char *url,
                                    const char *method, void **con_cls) {
    ui_api_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ui_reply_error(c, 503, "out of memory", NULL);
    j->kind = UI_REQ_API;
    j->u = u;
    j->c = c;
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, ui_collect_arg, &j->args);
    j->req = (api_request){
        .method = method,
        .path = url,
        .args = j->args.items,
        .nargs = j->args.n,
        .too_many_args = j->args.too_many,
    };
    j->gzip = ui_http_accepts_gzip(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    api_stream_kind kind = api_stream_route(method, url);
    if (kind == API_STREAM_EXPORT || kind == API_STREAM_LIVE) {
        enum MHD_Result r = ui_serve_stream(u, c, &j->req, kind, j->gzip);
        free(j);
        return r;
    }
    buf_init(&j->out, API_MAX_RESPONSE_BYTES);
    *con_cls = j;
    MHD_suspend_connection(c);
    if (workq_submit(u->queries, ui_api_run, j) != 0) {
        /* busy or stopping: answer 503 when the connection comes back */
        j->status = 503;
        api_error_json(&j->out, "unavailable", "too many API requests in progress; retry");
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

/* The first value of a request header, or NULL. */
static const char *ui_header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- operations: /readyz and /metrics ------------------------------------ */

/* /metrics is both the web UI's Metrics page (a browser asks for HTML) and
 * the Prometheus scrape (text/plain or OpenMetrics, or anything from curl). */
static int ui_is_metrics_page(struct MHD_Connection *c, const char *url) {
    return strcmp(url, "/metrics") == 0 && ui_http_wants_html(ui_header(c, MHD_HTTP_HEADER_ACCEPT));
}

static enum MHD_Result ui_serve_readyz(ui_server *u, struct MHD_Connection *c,
                                       const char *method) {
    if (!ui_is_get(method))
        return ui_reply_get_only(c);
    const char *reason = NULL;
    store_stats st;
    store_get_stats(u->st, &st);
    if (u->st == NULL)
        reason = "no store";
    else if (atomic_load(&u->draining) || st.closing)
        reason = "shutting down";
    else if (st.writes_failing && st.write_fault && strncmp(st.write_fault, "clickhouse", 10) == 0)
        reason = strcmp(st.write_fault, "clickhouse_unreachable") == 0
                     ? "clickhouse is unreachable; exporters are told to retry"
                     : "clickhouse refuses inserts; exporters are told to retry";
    else if (st.writes_failing)
        reason = "the database refuses writes";
    buf out;
    buf_init(&out, 4096);
    int rc = reason == NULL ? buf_append_str(&out, "{\"status\":\"ready\"}")
                            : buf_printf(&out, "{\"status\":\"not ready\",\"reason\":\"%s\"}",
                                         reason);
    if (rc != BUF_OK)
        buf_reset(&out);
    return ui_reply_json(c, reason == NULL ? 200 : 503, &out, NULL);
}

static enum MHD_Result ui_serve_metrics(ui_server *u, struct MHD_Connection *c,
                                        const char *method) {
    if (!ui_is_get(method))
        return ui_reply_get_only(c);
    selfmetrics_input in;
    memset(&in, 0, sizeof(in));
    /* Under mu: main unregisters the receivers (with this lock) before it
     * stops them, so they are alive while we read them. */
    pthread_mutex_lock(&u->mu);
    selfmetrics_collect(u->st, &u->grpc, &u->http, &in);
    if (u->forward != NULL)
        u->forward(u->forward_ctx, &in.forward);
    pthread_mutex_unlock(&u->mu);
    in.version = u->version;
    in.start_time_seconds = u->started;
    in.ui_connections = http_guard_daemon_connections(u->daemon);
    ui_server_stats(u, &in.ui);
    buf out;
    buf_init(&out, (size_t)1 << 20);
    if (selfmetrics_render(&in, &out) != BUF_OK) {
        buf_free(&out);
        return ui_reply_error(c, 500, "cannot render the metrics", NULL);
    }
    struct MHD_Response *r = ui_reply_body(&out);
    buf_free(&out);
    return ui_reply_nostore(c, MHD_HTTP_OK, r, SELFMETRICS_CONTENT_TYPE, NULL, NULL);
}

/* ---- static assets -------------------------------------------------------- */

static enum MHD_Result ui_serve_static(ui_server *u, struct MHD_Connection *c, const char *url,
                                       const char *method) {
    if (!ui_is_get(method))
        return ui_reply_get_only(c);
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    const web_asset *a = web_asset_find(path);
    if (a == NULL) {
        /* A path naming a file that does not exist is a 404; anything else
         * is a client-side route of the single-page app. */
        if (ui_http_has_extension(path))
            return ui_reply_error(c, 404, "no such file", NULL);
        a = web_asset_find("/index.html");
        if (a == NULL)
            return ui_reply_error(c, 404, "no such file", NULL);
    }
    web_asset based;
    if (u->index.data != NULL && strcmp(a->path, "/index.html") == 0) {
        based = *a; /* told its base path; small, sent uncompressed */
        based.data = (const unsigned char *)u->index.data;
        based.len = u->index.len;
        based.gz = NULL;
        based.etag = u->index.etag;
        a = &based;
    }
    const char *ae = ui_header(c, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    int gzip = a->gz != NULL && ui_http_accepts_gzip(ae);
    char gz_etag[96];
    const char *etag = a->etag;
    if (gzip && ui_http_etag_variant(a->etag, "-gz", gz_etag, sizeof(gz_etag)) == 0)
        etag = gz_etag;
    const char *cache = ui_http_is_hashed_name(a->path) ? CACHE_IMMUTABLE : "no-cache";
    const char *inm = ui_header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = ui_http_etag_matches(inm, etag);
    /* A 304 is built from the same bytes: libmicrohttpd sends no body for
     * it and its Content-Length is the one a 200 would have. */
    struct MHD_Response *r;
    if (gzip)
        r = MHD_create_response_from_buffer(a->gz_len, (void *)a->gz, MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    if (a->gz != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (not_modified)
        return ui_reply_queue(c, MHD_HTTP_NOT_MODIFIED, r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (gzip)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return ui_reply_queue(c, MHD_HTTP_OK, r);
}

/* ---- authentication ---------------------------------------------------------- */

/* GET /login: the form, or ?token=... traded for the session cookie. */
static enum MHD_Result ui_serve_login(ui_server *u, struct MHD_Connection *c,
                                      const char *method) {
    if (!ui_is_get(method))
        return ui_reply_get_only(c);
    char home[UI_BASE_MAX + 2], action[UI_BASE_MAX + 8];
    ui_base_join(u->base, "/", home, sizeof(home));
    ui_base_join(u->base, "/login", action, sizeof(action));
    if (u->auth == NULL)
        return ui_reply_redirect(c, home, NULL); /* nothing to log in to */
    const char *tok = NULL;
    size_t tok_len = 0;
    /* ?token=, or ?t= as the Aspire dashboard's login links have it */
    if ((MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "token", 5, &tok, &tok_len) !=
             MHD_YES ||
         tok == NULL || tok_len == 0) &&
        (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "t", 1, &tok, &tok_len) !=
             MHD_YES ||
         tok == NULL || tok_len == 0))
        return ui_reply_login_page(c, 0, action);
    if (!ui_auth_token_matches(u->auth, tok, tok_len)) {
        log_event(LOG_INFO, "ui_login_failed", NULL);
        return ui_reply_login_page(c, 1, action);
    }
    char cookie[128 + UI_BASE_MAX];
    if (ui_auth_set_cookie(u->auth, u->base, cookie, sizeof(cookie)) != UI_AUTH_OK)
        return ui_reply_error(c, 500, "cannot build the session cookie", NULL);
    return ui_reply_redirect(c, home, cookie);
}

/* The auth gate, before routing. Returns 1 when the request may go on;
 * otherwise the answer (401 or a redirect to /login) is queued in *ret. */
static int ui_gate(ui_server *u, struct MHD_Connection *c, const char *url, const char *method,
                   enum MHD_Result *ret) {
    if (u->auth == NULL)
        return 1;
    ui_auth_path kind = ui_auth_classify(url);
    if (ui_is_metrics_page(c, url))
        kind = UI_AUTH_PATH_PAGE; /* the web UI's Metrics page, not the scrape */
    if (kind == UI_AUTH_PATH_OPEN || kind == UI_AUTH_PATH_LOGIN)
        return 1;
    if (ui_auth_request_ok(u->auth, ui_header(c, MHD_HTTP_HEADER_COOKIE),
                           ui_header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
        return 1;
    char login[UI_BASE_MAX + 8];
    ui_base_join(u->base, "/login", login, sizeof(login));
    if (kind == UI_AUTH_PATH_PAGE && ui_is_get(method))
        *ret = ui_reply_redirect(c, login, NULL);
    else
        *ret = ui_reply_unauthorized(c);
    return 0;
}

/* ---- the daemon ------------------------------------------------------------ */

/* 1 for a GET or HEAD that announces no body: those are answered once the
 * request is complete so that the connection can be kept alive. */
static int ui_defer_answer(struct MHD_Connection *c, const char *method) {
    if (!ui_is_get(method))
        return 0;
    if (ui_header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return 0;
    const char *cl = ui_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl == NULL || strcmp(cl, "0") == 0;
}

/* 1 when *con_cls holds a POST /api/v1/import in progress (a ui_import_req)
 * rather than NULL or one of the request states. */

/* POST /api/v1/import: the gate (before the body is read), then the
 * request's import context in *con_cls. */
static enum MHD_Result ui_import_begin(ui_server *u, struct MHD_Connection *c, const char *url,
                                       const char *method, void **con_cls) {
    enum MHD_Result denied = MHD_NO;
    if (!ui_gate(u, c, url, method, &denied)) {
        *con_cls = &ui_state_answered; /* the body is not read */
        return denied;
    }
    ui_import_req *ir = calloc(1, sizeof(*ir));
    if (ir != NULL) {
        ir->kind = UI_REQ_IMPORT;
        ir->im = api_import_new(u->st, UI_IMPORT_MAX_DOC);
    }
    if (ir == NULL || ir->im == NULL) {
        free(ir);
        *con_cls = &ui_state_answered;
        return ui_reply_error(c, 503, "out of memory", NULL);
    }
    *con_cls = ir;
    return MHD_YES;
}

/* The import's body chunks as they arrive, then at the end of the body its
 * answer (once everything committed). */
static enum MHD_Result ui_import_body(struct MHD_Connection *c, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls) {
    ui_import_req *ir = *con_cls;
    assert(ir->im != NULL);
    if (*upload_data_size > 0) {
        if (ir->failed == 0)
            ir->failed = api_import_feed(ir->im, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    buf out;
    buf_init(&out, 1 << 20);
    int status = api_import_finish(ir->im, &out);
    ui_import_req_free(ir);
    *con_cls = &ui_state_answered;
    return ui_reply_json(c, (unsigned)status, &out, NULL);
}

/* ---- MCP: POST /mcp, its body read, then mcp_handle() on a query thread ---------- */

/* *con_cls of a POST /mcp whose body is being read. */
typedef struct ui_mcp_req {
    int kind;       /* UI_REQ_MCP */
    buf body;       /* capped at MCP_MAX_BODY */
    size_t drained; /* bytes thrown away once the body outgrew the cap */
} ui_mcp_req;

static void ui_mcp_req_free(ui_mcp_req *mr) {
    if (mr == NULL)
        return;
    buf_free(&mr->body);
    free(mr);
}

/* An MCP request on a query thread: *con_cls while its connection is
 * suspended (the header values stay in libmicrohttpd's connection memory
 * meanwhile). */
typedef struct ui_mcp_job {
    int kind; /* UI_REQ_MCP_JOB */
    ui_server *u;
    struct MHD_Connection *c;
    ui_mcp_req *req; /* owned; NULL for a request without a body */
    mcp_http_request r;
    buf out;
    int status;
    const char *allow;
} ui_mcp_job;

static void ui_mcp_job_free(ui_mcp_job *j) {
    if (j == NULL)
        return;
    ui_mcp_req_free(j->req);
    buf_free(&j->out);
    free(j);
}

/* The MCP tools' view of the API: a GET answered in process, on this
 * request's reader connection (mcp_api_fn). */
static int ui_mcp_api(void *ud, const char *target, buf *out) {
    ui_req_ctx *ctx = ud;
    api_info info;
    api_env env;
    ui_api_env(ctx->u, ctx, &info, &env);
    return api_get(target, &env, out);
}

/* On a query thread: mcp_handle()'s answer, then the connection resumes. */
static void ui_mcp_run(void *arg) {
    ui_mcp_job *j = arg;
    ui_req_ctx ctx = {.u = j->u, .temp_db = NULL};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    mcp_env env = {ui_mcp_api, &ctx, j->u->version,
                   (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec};
    j->status = mcp_handle(&j->r, &env, &j->out, &j->allow);
    if (ctx.temp_db != NULL)
        store_reader_close(ctx.temp_db);
    MHD_resume_connection(j->c);
}

/* The Origin check (403, before the credentials), then the gate. Returns 1
 * to go on; otherwise the answer is queued in *ret. */
static int ui_mcp_admit(ui_server *u, struct MHD_Connection *c, const char *url,
                        const char *method, enum MHD_Result *ret) {
    if (!mcp_origin_allowed(ui_header(c, "Origin"), ui_header(c, MHD_HTTP_HEADER_HOST))) {
        buf out;
        buf_init(&out, 4096);
        mcp_error_body(&out, MCP_RPC_TRANSPORT_ERROR,
                       "Forbidden: the Origin is not this server or loopback");
        log_event(LOG_INFO, "mcp_origin_refused", NULL);
        *ret = ui_reply_json(c, MHD_HTTP_FORBIDDEN, &out, NULL);
        return 0;
    }
    return ui_gate(u, c, url, method, ret);
}

/* Hands an MCP request (its body in req, owned from here; NULL for none)
 * to a query thread, its connection suspended meanwhile; a full queue is
 * answered 503 when the connection comes back. */
static enum MHD_Result ui_mcp_submit(ui_server *u, struct MHD_Connection *c, const char *method,
                                     ui_mcp_req *req, void **con_cls) {
    ui_mcp_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        ui_mcp_req_free(req);
        *con_cls = &ui_state_answered;
        return ui_reply_error(c, 503, "out of memory", NULL);
    }
    j->kind = UI_REQ_MCP_JOB;
    j->u = u;
    j->c = c;
    j->req = req;
    j->r = (mcp_http_request){
        .method = method,
        .content_type = ui_header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
        .accept = ui_header(c, MHD_HTTP_HEADER_ACCEPT),
        .protocol_version = ui_header(c, "MCP-Protocol-Version"),
        .body = req != NULL ? req->body.ptr : NULL,
        .body_len = req != NULL ? req->body.len : 0,
    };
    buf_init(&j->out, 1 << 20);
    *con_cls = j;
    MHD_suspend_connection(c);
    if (workq_submit(u->queries, ui_mcp_run, j) != 0) {
        j->status = 503;
        mcp_error_body(&j->out, MCP_RPC_TRANSPORT_ERROR, "Service Unavailable: too busy; retry");
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

/* Called again for a resumed connection: the MCP job's answer. */
static enum MHD_Result ui_mcp_job_answer(struct MHD_Connection *c, void **con_cls) {
    ui_mcp_job *j = *con_cls;
    *con_cls = &ui_state_answered;
    enum MHD_Result r;
    if (j->status == 202) {
        struct MHD_Response *empty =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        r = ui_reply_nostore(c, MHD_HTTP_ACCEPTED, empty, NULL, NULL, NULL);
    } else {
        r = ui_reply_json(c, (unsigned)j->status, &j->out, j->allow);
        memset(&j->out, 0, sizeof(j->out)); /* ui_reply_json took it */
    }
    ui_mcp_job_free(j);
    return r;
}

/* POST /mcp: the Origin and the gate, a Content-Length over the cap (413
 * without reading the body), then the request's context in *con_cls. */
static enum MHD_Result ui_mcp_begin(ui_server *u, struct MHD_Connection *c, const char *url,
                                    const char *method, void **con_cls) {
    enum MHD_Result ret = MHD_NO;
    *con_cls = &ui_state_answered; /* unless the body is to be read */
    if (!ui_mcp_admit(u, c, url, method, &ret))
        return ret;
    const char *cl = ui_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    unsigned long long announced = cl != NULL ? strtoull(cl, &end, 10) : 0;
    if (cl != NULL && end != cl && announced > MCP_MAX_BODY) {
        buf out;
        buf_init(&out, 4096);
        mcp_error_body(&out, MCP_RPC_TRANSPORT_ERROR, "Payload Too Large: at most 1 MiB");
        return ui_reply_json(c, MHD_HTTP_CONTENT_TOO_LARGE, &out, NULL);
    }
    ui_mcp_req *mr = calloc(1, sizeof(*mr));
    if (mr == NULL)
        return ui_reply_error(c, 503, "out of memory", NULL);
    mr->kind = UI_REQ_MCP;
    buf_init(&mr->body, MCP_MAX_BODY);
    *con_cls = mr;
    return MHD_YES;
}

/* The body's chunks, then at its end the request goes to a query thread. A
 * body past the cap is read and dropped (at most the cap again, then the
 * connection is closed) and answered 413. */
static enum MHD_Result ui_mcp_body(ui_server *u, struct MHD_Connection *c, const char *method,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls) {
    ui_mcp_req *mr = *con_cls;
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (n > 0) {
        if (mr->drained == 0 && buf_append(&mr->body, upload_data, n) == BUF_OK)
            return MHD_YES;
        mr->drained += n;
        return mr->drained > MCP_MAX_BODY ? MHD_NO : MHD_YES;
    }
    if (mr->drained > 0) {
        *con_cls = &ui_state_answered;
        ui_mcp_req_free(mr);
        buf out;
        buf_init(&out, 4096);
        mcp_error_body(&out, MCP_RPC_TRANSPORT_ERROR, "Payload Too Large: at most 1 MiB");
        return ui_reply_json(c, MHD_HTTP_CONTENT_TOO_LARGE, &out, NULL);
    }
    return ui_mcp_submit(u, c, method, mr, con_cls);
}

/* 431 for headers past the limit, with its size. */
static enum MHD_Result ui_headers_too_large(struct MHD_Connection *c, size_t max) {
    char msg[128];
    snprintf(msg, sizeof(msg), "the request headers exceed the limit of %zu bytes", max);
    buf out;
    buf_init(&out, 4096);
    api_error_json(&out, "headers_too_large", msg);
    return ui_reply_json(c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, &out, NULL);
}

/* A request outside --base-path: "/loupe" goes to "/loupe/", the rest is
 * not ours. */
static enum MHD_Result ui_serve_outside(ui_server *u, struct MHD_Connection *c,
                                        ui_base_where where) {
    if (where == UI_BASE_BARE) {
        char home[UI_BASE_MAX + 2];
        ui_base_join(u->base, "/", home, sizeof(home));
        return ui_reply_redirect(c, home, NULL);
    }
    char msg[UI_BASE_MAX + 64];
    snprintf(msg, sizeof(msg), "not found: loupe is served under %s/", u->base);
    return ui_reply_error(c, 404, msg, NULL);
}

/* Every request but an import, once: the gate, then the route. url is the
 * path below the base path (where says whether it was below it). */
static enum MHD_Result ui_route(ui_server *u, struct MHD_Connection *c, const char *url,
                                ui_base_where where, const char *method, void **con_cls) {
    if (url == NULL || url[0] != '/')
        return ui_reply_error(c, 400, "bad request target", NULL);
    if (where != UI_BASE_INSIDE)
        return ui_serve_outside(u, c, where);
    enum MHD_Result denied = MHD_NO;
    if (strcmp(url, MCP_PATH) == 0) /* other methods than POST: 405 from mcp_handle */
        return ui_mcp_admit(u, c, url, method, &denied) ? ui_mcp_submit(u, c, method, NULL, con_cls)
                                                         : denied;
    if (!ui_gate(u, c, url, method, &denied))
        return denied;
    if (ui_auth_classify(url) == UI_AUTH_PATH_LOGIN)
        return ui_serve_login(u, c, method);
    if (strcmp(url, "/readyz") == 0)
        return ui_serve_readyz(u, c, method);
    if (strcmp(url, "/metrics") == 0 && !ui_is_metrics_page(c, url))
        return ui_serve_metrics(u, c, method);
    if (api_is_api_path(url))
        return ui_serve_api(u, c, url, method, con_cls);
    return ui_serve_static(u, c, url, method);
}

/* libmicrohttpd's access handler: called when the headers are in, then for
 * each piece of a body, then once at its end. *con_cls tells the calls of
 * one request apart: NULL first, then an import or a request state. */
static enum MHD_Result ui_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
    ui_server *u = cls;
    (void)version;
    const char *path = url; /* below the base path */
    ui_base_where where = url != NULL ? ui_base_locate(u->base, url, &path) : UI_BASE_INSIDE;
    switch (ui_req_kind(*con_cls)) {
    case UI_REQ_IMPORT:
        return ui_import_body(c, upload_data, upload_data_size, con_cls);
    case UI_REQ_API:
        return ui_api_answer(c, con_cls);
    case UI_REQ_MCP:
        return ui_mcp_body(u, c, method, upload_data, upload_data_size, con_cls);
    case UI_REQ_MCP_JOB:
        return ui_mcp_job_answer(c, con_cls);
    }
    if (*con_cls == NULL && !http_guard_headers_ok(u->guard, c, url, method, u->max_header)) {
        *con_cls = &ui_state_answered;
        return ui_headers_too_large(c, u->max_header);
    }
    if (*con_cls == NULL && u->st != NULL && url != NULL && where == UI_BASE_INSIDE &&
        api_stream_route(method, path) == API_STREAM_IMPORT)
        return ui_import_begin(u, c, path, method, con_cls);
    if (*con_cls == NULL && url != NULL && where == UI_BASE_INSIDE &&
        strcmp(path, MCP_PATH) == 0 && strcmp(method, "POST") == 0)
        return ui_mcp_begin(u, c, path, method, con_cls);
    if (*con_cls == &ui_state_answered) {
        *upload_data_size = 0; /* a request body is discarded */
        return MHD_YES;
    }
    if (*con_cls == &ui_state_seen && *upload_data_size != 0)
        return MHD_NO; /* a body we were told would not come: close */
    if (*con_cls == NULL && ui_defer_answer(c, method)) {
        /* Answer on the next call: libmicrohttpd keeps the connection
         * alive only for responses queued after the request was read. */
        *con_cls = &ui_state_seen;
        return MHD_YES;
    }
    /* Everything else is answered at once, before any body is read (the
     * connection then closes): other methods get a 405, and a GET with a
     * body is answered without reading it. */
    *con_cls = &ui_state_answered;
    return ui_route(u, c, path, where, method, con_cls);
}

/* Frees what a request that ended early held (client gone, timeout). */
static void ui_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)toe;
    http_guard_completed(c);
    switch (ui_req_kind(*con_cls)) { /* answered never: the connection broke */
    case UI_REQ_IMPORT:
        ui_import_req_free(*con_cls);
        break;
    case UI_REQ_API: {
        ui_api_job *j = *con_cls;
        buf_free(&j->out);
        free(j);
        break;
    }
    case UI_REQ_MCP:
        ui_mcp_req_free(*con_cls);
        break;
    case UI_REQ_MCP_JOB:
        ui_mcp_job_free(*con_cls);
        break;
    }
    *con_cls = NULL;
}

/* The configured limits with the defaults filled in. */
typedef struct ui_limits {
    unsigned max_conn;    /* connections, at least one per worker */
    unsigned timeout;     /* idle seconds */
    unsigned req_timeout; /* seconds for a request to arrive */
    unsigned max_live;    /* live streams */
    size_t max_header;    /* request line and headers */
    size_t pool;          /* per-connection memory, room for the headers twice */
} ui_limits;

static void ui_limits_of(const ui_config *cfg, ui_limits *l) {
    l->max_conn = cfg->max_connections ? cfg->max_connections : UI_DEFAULT_MAX_CONNECTIONS;
    if (l->max_conn < UI_THREADS)
        l->max_conn = UI_THREADS; /* MHD splits the limit across the workers */
    l->timeout = cfg->timeout_seconds ? cfg->timeout_seconds : UI_DEFAULT_TIMEOUT;
    l->req_timeout = cfg->request_timeout_seconds ? cfg->request_timeout_seconds
                                                  : UI_DEFAULT_REQUEST_TIMEOUT;
    l->max_live = cfg->max_live_clients ? cfg->max_live_clients : UI_DEFAULT_MAX_LIVE;
    l->max_header = cfg->max_header_bytes ? cfg->max_header_bytes : UI_DEFAULT_MAX_HEADER;
    l->pool = l->max_header * 2 > UI_MIN_POOL ? l->max_header * 2 : UI_MIN_POOL;
}

/* The server struct with its mutex; NULL (err set) on failure. */
static ui_server *ui_server_new(const ui_config *cfg, store *st, char *err, size_t errlen) {
    ui_server *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        snprintf(err, errlen, "ui: out of memory");
        return NULL;
    }
    u->st = st;
    u->auth = cfg->auth;
    u->storage = cfg->storage;
    u->version = cfg->version;
    u->ingest = cfg->ingest;
    if (cfg->base_path != NULL && cfg->base_path[0] != '\0') {
        const web_asset *ix = web_asset_find("/index.html");
        char why[160];
        if (ui_base_normalise(cfg->base_path, u->base, sizeof(u->base), why, sizeof(why)) != 0 ||
            ix == NULL || ui_base_index_new(u->base, ix->data, ix->len, ix->etag, &u->index) != 0) {
            snprintf(err, errlen, "ui: cannot serve under the base path %s", cfg->base_path);
            free(u);
            return NULL;
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    u->started = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    atomic_init(&u->draining, 0);
    if (pthread_mutex_init(&u->mu, NULL) != 0) {
        snprintf(err, errlen, "ui: cannot create a mutex");
        ui_base_index_free(&u->index);
        free(u);
        return NULL;
    }
    return u;
}

/* What the parts started so far hold; the daemon is stopped (or was never
 * started) and the mutex is not held. */
static void ui_server_free(ui_server *u) {
    workq_free(u->queries);
    http_guard_free(u->guard);
    api_live_hub_free(u->hub);
    for (size_t i = 0; i < u->nreaders; i++)
        store_reader_close(u->readers[i].db);
    ui_base_index_free(&u->index);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* Binds a listening socket on addr and sets u->port. Returns the socket,
 * with a duplicate of it in *mhd_fd for libmicrohttpd, which closes that one
 * at stop (and possibly on a failed start) while the caller always closes
 * the socket, so no descriptor is closed twice. -1 with err set on failure. */
static int ui_listen(ui_server *u, const char *addr, struct sockaddr_storage *bound, int *mhd_fd,
                     char *err, size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t sslen;
    char reason[256];
    if (netaddr_parse(addr, &ss, &sslen, reason, sizeof(reason)) != 0) {
        snprintf(err, errlen, "ui: %s", reason);
        return -1;
    }
    int fd = netaddr_listen(&ss, sslen, 128, reason, sizeof(reason));
    if (fd < 0) {
        snprintf(err, errlen, "ui: %s", reason);
        return -1;
    }
    socklen_t blen = sizeof(*bound);
    if (getsockname(fd, (struct sockaddr *)bound, &blen) != 0) {
        snprintf(err, errlen, "ui: cannot read the bound address of %s", addr);
        close(fd);
        return -1;
    }
    u->port = netaddr_port((const struct sockaddr *)bound);
    *mhd_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (*mhd_fd < 0) {
        snprintf(err, errlen, "ui: cannot duplicate the socket for %s", addr);
        close(fd);
        return -1;
    }
    return fd;
}

/* The live event hub (with a store) and the slow-client guard. */
static int ui_start_helpers(ui_server *u, const ui_limits *l, char *err, size_t errlen) {
    if (u->st != NULL) {
        u->hub = api_live_hub_new(u->st);
        if (u->hub == NULL) {
            snprintf(err, errlen, "ui: cannot start the live event hub");
            return -1;
        }
        api_live_hub_set_max_streams(u->hub, l->max_live);
        api_live_hub_set_ingest(u->hub, u->ingest);
    }
    u->max_header = l->max_header;
    u->queries = workq_new(UI_QUERY_THREADS, UI_QUERY_QUEUE, "loupe-query");
    if (u->queries == NULL) {
        snprintf(err, errlen, "ui: cannot start the query threads");
        return -1;
    }
    u->guard = http_guard_new("ui", l->req_timeout * 1000u, l->timeout * 1000u);
    if (u->guard == NULL) {
        snprintf(err, errlen, "ui: cannot start the connection guard");
        return -1;
    }
    return 0;
}

/* libmicrohttpd on the listening socket mhd_fd (taken over); name is the
 * bound address for the error. */
static int ui_start_daemon(ui_server *u, int mhd_fd, const ui_limits *l, const char *name,
                           char *err, size_t errlen) {
    http_guard_daemon_cfg dcfg = {.flags = MHD_USE_EPOLL,
                                  .listen_fd = mhd_fd,
                                  .threads = UI_THREADS,
                                  .max_connections = l->max_conn,
                                  .timeout_seconds = l->timeout,
                                  .pool_bytes = l->pool,
                                  .access = ui_access,
                                  .access_cls = u,
                                  .completed = ui_completed,
                                  .completed_cls = u};
    u->daemon = http_guard_start_daemon(u->guard, &dcfg);
    if (u->daemon == NULL) {
        snprintf(err, errlen, "ui: cannot start the HTTP server on %s", name);
        return -1;
    }
    return 0;
}

int ui_server_start(const ui_config *cfg, store *st, ui_server **out, char *err, size_t errlen) {
    *out = NULL;
    if (cfg == NULL || cfg->addr == NULL) {
        snprintf(err, errlen, "ui: no listen address");
        return -1;
    }
    ui_server *u = ui_server_new(cfg, st, err, errlen);
    if (u == NULL)
        return -1;
    struct sockaddr_storage bound;
    int mhd_fd = -1;
    int fd = ui_listen(u, cfg->addr, &bound, &mhd_fd, err, errlen);
    if (fd < 0) {
        ui_server_free(u);
        return -1;
    }
    char name[80];
    netaddr_format((const struct sockaddr *)&bound, name, sizeof(name));
    ui_limits lim;
    ui_limits_of(cfg, &lim);
    int rc = ui_start_helpers(u, &lim, err, errlen);
    if (rc != 0)
        close(mhd_fd);
    else
        rc = ui_start_daemon(u, mhd_fd, &lim, name, err, errlen);
    close(fd);
    if (rc != 0) {
        ui_server_free(u);
        return -1;
    }
    log_event(LOG_INFO, "listening", "transport=ui addr=%s", name);
    *out = u;
    return 0;
}

int ui_server_port(const ui_server *u) {
    return u != NULL ? u->port : -1;
}

void ui_server_set_sources(ui_server *u, const metrics_source *grpc, const metrics_source *http) {
    static const metrics_source none = {NULL, NULL, 0};
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    u->grpc = grpc != NULL ? *grpc : none;
    u->http = http != NULL ? *http : none;
    pthread_mutex_unlock(&u->mu);
}

void ui_server_set_forward(ui_server *u, metrics_forward_fn fn, void *ctx) {
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    u->forward = fn;
    u->forward_ctx = ctx;
    pthread_mutex_unlock(&u->mu);
}

void ui_server_begin_shutdown(ui_server *u) {
    if (u != NULL)
        atomic_store(&u->draining, 1);
}

void ui_server_stats(ui_server *u, ui_stats *out) {
    memset(out, 0, sizeof(*out));
    if (u == NULL)
        return;
    http_guard_stats_get(u->guard, &out->conn);
    out->live_clients = api_live_hub_streams(u->hub);
    out->live_clients_refused = api_live_hub_refused(u->hub);
}

void ui_server_stop(ui_server *u) {
    if (u == NULL)
        return;
    /* Live streams end first: libmicrohttpd must not be stopped with a
     * suspended connection. Then the daemon joins its worker threads: no
     * request is running afterwards. */
    size_t left = api_live_hub_shutdown(u->hub, UI_LIVE_STOP_MS);
    if (left > 0)
        log_event(LOG_WARN, "ui_live_streams_waiting", "count=%zu", left);
    /* API requests in the query threads finish and resume their
     * connections; new ones are answered 503 */
    workq_free(u->queries);
    u->queries = NULL;
    MHD_stop_daemon(u->daemon);
    ui_server_free(u);
}
