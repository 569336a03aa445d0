/* api.c - /api/v1 routing, parameter validation and JSON errors, see api.h. */
#include "api.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ingest.h"
#include "api_trace.h"
#include "apiparam.h"
#include "util/jw.h"
#include "util/log.h"
#include "util/textfmt.h"
#include "storage/query.h"

#define API_LOGS_LIMIT_DEFAULT 100
#define API_LOGS_LIMIT_MAX 1000
#define API_TRACES_LIMIT_DEFAULT 50
#define API_PATTERNS_LIMIT_DEFAULT 100
#define API_Q_MAX 1024
#define API_TEXT_MAX 1024 /* service names */
#define API_CURSOR_MAX 1024

#define TRACES_PREFIX "/api/v1/traces/"
#define ANALYSIS_SUFFIX "/analysis"
#define METRICS_PREFIX "/api/v1/metrics/"
#define SERIES_SUFFIX "/series"

static const char ALLOW_GET[] = "GET, HEAD";
static const char ALLOW_DELETE[] = "DELETE";
static const char ALLOW_POST[] = "POST";
#define API_DELETE_TIMEOUT_MS 120000

const char *api_error_code(int status) {
    switch (status) {
    case 400:
        return "bad_request";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 501:
        return "not_supported";
    case 503:
        return "unavailable";
    default:
        return "internal";
    }
}

void api_error_json(buf *out, const char *code, const char *message) {
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "error");
    jw_object_begin(&w);
    jw_key(&w, "code");
    jw_string(&w, code);
    jw_key(&w, "message");
    jw_string(&w, message);
    jw_object_end(&w);
    jw_object_end(&w);
    if (jw_error(&w) != 0)
        buf_reset(out);
}

/* Writes an error for status with a printf-style message; returns status. */
static int api_fail(buf *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int api_fail(buf *out, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_error_json(out, api_error_code(status), msg);
    return status;
}

int api_is_api_path(const char *path) {
    if (path == NULL)
        return 0;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/api") == 0)
        return 1;
    return strncmp(path, "/api/", 5) == 0;
}

/* ---- parameters -------------------------------------------------------- */

/* Finds the single value of a parameter. *value is NULL when the parameter
 * is absent or empty (empty means "not set", as HTML forms send it). Returns
 * 0, or an HTTP status with the error written into out. */
static int api_arg_single(const api_request *req, const char *name, const char **value, buf *out) {
    const api_arg *found = NULL;
    *value = NULL;
    for (size_t i = 0; i < req->nargs; i++) {
        if (strcmp(req->args[i].key, name) != 0)
            continue;
        if (found != NULL)
            return api_fail(out, 400, "parameter '%s' must be given at most once", name);
        found = &req->args[i];
    }
    if (found == NULL || found->value == NULL || found->value_len == 0)
        return 0;
    if (strlen(found->value) != found->value_len)
        return api_fail(out, 400, "parameter '%s' must not contain NUL bytes", name);
    *value = found->value;
    return 0;
}

static int api_arg_text(const api_request *req, const char *name, size_t max, const char **value,
                        buf *out) {
    int st = api_arg_single(req, name, value, out);
    if (st != 0 || *value == NULL)
        return st;
    int rc = apiparam_text(*value, max);
    if (rc == APIPARAM_ERANGE)
        return api_fail(out, 400, "parameter '%s' is too long (at most %zu bytes)", name, max);
    if (rc != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter '%s' must be valid UTF-8 without control characters", name);
    return 0;
}

/* A time parameter (RFC 3339 or unix ns). */
static int api_arg_time(const api_request *req, const char *name, int *has, uint64_t *ns,
                        buf *out) {
    const char *v;
    *has = 0;
    int st = api_arg_single(req, name, &v, out);
    if (st != 0 || v == NULL)
        return st;
    int rc = apiparam_time(v, ns);
    if (rc == APIPARAM_ERANGE)
        return api_fail(out, 400, "parameter '%s' is out of range (1970 to 2554)", name);
    if (rc != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter '%s' must be an RFC 3339 time or unix nanoseconds", name);
    *has = 1;
    return 0;
}

/* start and end; end must be after start. */
static int api_arg_window(const api_request *req, int *has_start, uint64_t *start, int *has_end,
                          uint64_t *end, buf *out) {
    int st = api_arg_time(req, "start", has_start, start, out);
    if (st == 0)
        st = api_arg_time(req, "end", has_end, end, out);
    if (st == 0 && *has_start && *has_end && *end <= *start)
        return api_fail(out, 400, "parameter 'end' must be after 'start'");
    return st;
}

static int api_arg_duration(const api_request *req, const char *name, int *has, uint64_t *ns,
                            buf *out) {
    const char *v;
    *has = 0;
    int st = api_arg_single(req, name, &v, out);
    if (st != 0 || v == NULL)
        return st;
    if (apiparam_duration(v, ns) != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter '%s' must be a duration such as 250ms, 1.5s, 2m or nanoseconds",
                        name);
    *has = 1;
    return 0;
}

static int api_arg_limit(const api_request *req, size_t def, size_t *limit, buf *out) {
    const char *v;
    *limit = def;
    int st = api_arg_single(req, "limit", &v, out);
    if (st != 0 || v == NULL)
        return st;
    uint64_t n;
    if (apiparam_uint(v, 1, QUERY_MAX_LIMIT, &n) != APIPARAM_OK)
        return api_fail(out, 400, "parameter 'limit' must be an integer from 1 to %d",
                        QUERY_MAX_LIMIT);
    *limit = (size_t)n;
    return 0;
}

/* A word of a comma-separated list and the flag it stands for. */
typedef struct api_flag_word {
    const char *word;
    unsigned flag;
} api_flag_word;

/* ORs into *flags the flag of every word in the comma-separated list v (a
 * trailing comma is allowed). Returns 0, or -1 at the first word not among
 * words (an empty one included). */
static int api_flag_list(const char *v, const api_flag_word *words, size_t n, unsigned *flags) {
    for (const char *p = v; *p != '\0';) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        size_t i = 0;
        while (i < n && !(strlen(words[i].word) == len && strncmp(p, words[i].word, len) == 0))
            i++;
        if (i == n)
            return -1;
        *flags |= words[i].flag;
        p += len + (c != NULL);
    }
    return 0;
}

/* Every attr=... (repeatable) into attrs[]; slices borrow from req. */
static int api_arg_attrs(const api_request *req, query_attr *attrs, size_t *n, buf *out) {
    *n = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const api_arg *a = &req->args[i];
        if (strcmp(a->key, "attr") != 0)
            continue;
        if (a->value == NULL || a->value_len == 0)
            return api_fail(out, 400, "parameter 'attr' must not be empty");
        if (strlen(a->value) != a->value_len)
            return api_fail(out, 400, "parameter 'attr' must not contain NUL bytes");
        if (*n == QUERY_MAX_ATTRS)
            return api_fail(out, 400, "parameter 'attr' may be given at most %d times",
                            QUERY_MAX_ATTRS);
        apiparam_attr pa;
        if (apiparam_attr_parse(a->value, &pa) != APIPARAM_OK)
            return api_fail(out, 400,
                            "parameter 'attr' must be key=value, key!=value, key~text, "
                            "key>number or key<number (UTF-8, no control characters)");
        query_attr *q = &attrs[(*n)++];
        q->key = pa.key;
        q->key_len = pa.key_len;
        q->value = pa.value;
        q->value_len = pa.value_len;
        q->number = pa.number;
        switch (pa.op) {
        case APIPARAM_ATTR_NE:
            q->op = QUERY_ATTR_NE;
            break;
        case APIPARAM_ATTR_CONTAINS:
            q->op = QUERY_ATTR_CONTAINS;
            break;
        case APIPARAM_ATTR_GT:
            q->op = QUERY_ATTR_GT;
            break;
        case APIPARAM_ATTR_LT:
            q->op = QUERY_ATTR_LT;
            break;
        default:
            q->op = QUERY_ATTR_EQ;
            break;
        }
    }
    return 0;
}

static int api_arg_id(const api_request *req, const char *name, uint8_t *id, size_t n, int *has,
                      buf *out) {
    const char *v;
    *has = 0;
    int st = api_arg_single(req, name, &v, out);
    if (st != 0 || v == NULL)
        return st;
    if (apiparam_hex_id(v, id, n) != APIPARAM_OK)
        return api_fail(out, 400, "parameter '%s' must be %zu hex digits", name, 2 * n);
    *has = 1;
    return 0;
}

/* ---- handlers ------------------------------------------------------------ */

static int api_healthz(buf *out) {
    buf_reset(out);
    if (buf_append_str(out, "{\"status\":\"ok\"}") != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* GET /api/v1/info: the version and where the receivers listen, so that the
 * UI's onboarding shows the ports this server really has. */
static int api_server_info(const api_env *env, buf *out) {
    api_info none = {0};
    const api_info *in = env->info ? env->info : &none;
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "version");
    jw_string(&w, in->version ? in->version : "unknown");
    jw_key(&w, "otlpGrpcPort");
    jw_int(&w, in->otlp_grpc_port);
    jw_key(&w, "otlpHttpPort");
    jw_int(&w, in->otlp_http_port);
    jw_key(&w, "storage");
    jw_string(&w, in->storage == 1 ? "memory" : in->storage == 2 ? "clickhouse" : "sqlite");
    jw_object_end(&w);
    if (jw_error(&w) != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* GET /api/v1/live/streams: how many live streams are open. */
static int api_live_streams(const api_env *env, buf *out) {
    buf_reset(out);
    if (buf_printf(out, "{\"streams\":%zu}", api_live_hub_streams(env->hub)) != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* Turns a query_* result into the response status. */
static int api_query_result(const api_request *req, int rc, buf *out) {
    char qpath[256];
    switch (rc) {
    case QUERY_OK:
        return 200;
    case QUERY_ENOTFOUND:
        return api_fail(out, 404, "not found");
    case QUERY_EINVAL:
        return api_fail(out, 400, "invalid parameter");
    case QUERY_ETOOBIG:
        return api_fail(out, 500, "the answer is too large; narrow the query");
    case QUERY_ENOTSUP:
        return api_fail(out, 501, "not available with ClickHouse storage (see docs/storage.md)");
    case QUERY_EDOWN:
        return api_fail(out, 503, "ClickHouse did not answer; retry later");
    default:
        log_event(LOG_WARN, "api_query_failed", "path=\"%s\" code=%d reason=\"%s\"",
                  log_quote(req->path, qpath, sizeof(qpath)), rc, query_strerror(rc));
        return api_fail(out, 500, "query failed: %s", query_strerror(rc));
    }
}

/* The reader connection for a query, with out emptied for its answer.
 * Returns 0, or 503 with the error in out. */
static int api_get_db(api_db_fn get_db, void *ud, store_reader **db, buf *out) {
    *db = NULL;
    if (get_db == NULL || get_db(ud, db) != 0 || *db == NULL)
        return api_fail(out, 503, "the store is not available");
    buf_reset(out);
    return 0;
}

static int api_services(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_window_params p;
    memset(&p, 0, sizeof(p));
    int st = api_arg_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    return api_query_result(req, query_services(db, &p, out), out);
}

/* The window and step of an answer from the rollups: start, end, step
 * (0 when not given). */
static int api_arg_rollup_window(const api_request *req, int *has_start, uint64_t *start,
                                 int *has_end, uint64_t *end, uint64_t *step, buf *out) {
    int has_step = 0;
    int st = api_arg_window(req, has_start, start, has_end, end, out);
    if (st == 0)
        st = api_arg_duration(req, "step", &has_step, step, out);
    return st;
}

/* A query_* result from the rollups: QUERY_EINVAL means too many steps. */
static int api_rollup_result(const api_request *req, int rc, buf *out) {
    if (rc == QUERY_EINVAL)
        return api_fail(out, 400, "parameter 'step' cuts the window into more than %d steps",
                        QUERY_MAX_STEPS);
    return api_query_result(req, rc, out);
}

/* GET /api/v1/service-map */
static int api_service_map(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_window_params p;
    memset(&p, 0, sizeof(p));
    int st = api_arg_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    return api_query_result(req, query_service_map(db, &p, out), out);
}

/* GET /api/v1/services/{name}/operations */
static int api_operations(const api_request *req, const char *service, api_db_fn get_db,
                          void *ud, buf *out) {
    query_ops_params p;
    memset(&p, 0, sizeof(p));
    p.service = service;
    if (service[0] == '\0' || strlen(service) > API_TEXT_MAX)
        return api_fail(out, 400, "path parameter 'name' must be a service name");
    int st = api_arg_rollup_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns,
                                   &p.step_ns, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    int rc = query_operations(db, &p, out);
    if (rc == QUERY_ENOTFOUND)
        return api_fail(out, 404, "no service named '%.200s'", service);
    return api_rollup_result(req, rc, out);
}

/* GET /api/v1/genai */
static int api_genai(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_genai_params p;
    memset(&p, 0, sizeof(p));
    int st = api_arg_rollup_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns,
                                   &p.step_ns, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    return api_rollup_result(req, query_genai(db, &p, out), out);
}

/* A trace id as the 32 lowercase hex digits of messages. */
static void api_trace_hex(const uint8_t id[16], char hex[33]) {
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

/* The {traceId} of a path, then the reader connection. Returns 0, or a
 * status with the error in out. */
static int api_trace_args(const char *id, uint8_t trace_id[16], api_db_fn get_db, void *ud,
                          store_reader **db, buf *out) {
    if (apiparam_hex_id(id, trace_id, 16) != APIPARAM_OK)
        return api_fail(out, 400, "path parameter 'traceId' must be 32 hex digits");
    return api_get_db(get_db, ud, db, out);
}

static int api_trace(const api_request *req, const char *id, api_db_fn get_db, void *ud,
                     buf *out) {
    uint8_t trace_id[16];
    store_reader *db;
    int st = api_trace_args(id, trace_id, get_db, ud, &db, out);
    if (st != 0)
        return st;
    int rc = query_trace(db, trace_id, out);
    if (rc == QUERY_ENOTFOUND) {
        char hex[33];
        api_trace_hex(trace_id, hex);
        return api_fail(out, 404, "trace %s not found", hex);
    }
    return api_query_result(req, rc, out);
}

/* Reads and analyses one trace for the analysis routes: 200 with *t
 * filled, or an error status with the error in out. what names the trace
 * in a 404 ("trace" or "trace 'a'"). */
static int api_trace_get(const api_request *req, store_reader *db, const uint8_t id[16],
                         const char *what, api_trace_loaded *t, buf *out) {
    int rc = api_trace_read(db, id, t);
    if (rc == QUERY_OK)
        return 200;
    char hex[33];
    api_trace_hex(id, hex);
    if (rc == QUERY_ENOTFOUND)
        return api_fail(out, 404, "%s %s not found", what, hex);
    if (rc == API_TRACE_EBADDOC) {
        log_event(LOG_WARN, "api_trace_unreadable", "trace_id=%s", hex);
        return api_fail(out, 500, "trace %s could not be read back for analysis", hex);
    }
    return api_query_result(req, rc, out);
}

/* The answer written by api_trace_*_json(): 200, or a 500. */
static int api_trace_written(int rc, buf *out) {
    if (rc == BUF_OK)
        return 200;
    return api_fail(out, 500, rc == BUF_ETOOBIG ? "the answer is too large" : "out of memory");
}

/* GET /api/v1/traces/{traceId}/analysis */
static int api_trace_analysis(const api_request *req, const char *id, api_db_fn get_db, void *ud,
                              buf *out) {
    uint8_t trace_id[16];
    store_reader *db;
    int st = api_trace_args(id, trace_id, get_db, ud, &db, out);
    if (st != 0)
        return st;
    api_trace_loaded t;
    st = api_trace_get(req, db, trace_id, "trace", &t, out);
    if (st != 200)
        return st;
    st = api_trace_written(api_trace_analysis_json(&t, out), out);
    api_trace_free(&t);
    return st;
}

/* GET /api/v1/traces/compare?a=&b= */
static int api_trace_compare(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    uint8_t ids[2][16];
    static const char *const names[2] = {"a", "b"};
    for (int k = 0; k < 2; k++) {
        int has;
        int st = api_arg_id(req, names[k], ids[k], 16, &has, out);
        if (st != 0)
            return st;
        if (!has)
            return api_fail(out, 400, "parameter '%s' is required: a trace id (32 hex digits)",
                            names[k]);
    }
    store_reader *db;
    int st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    api_trace_loaded a, b;
    st = api_trace_get(req, db, ids[0], "trace 'a'", &a, out);
    if (st != 200)
        return st;
    st = api_trace_get(req, db, ids[1], "trace 'b'", &b, out);
    if (st == 200)
        st = api_trace_written(api_trace_compare_json(&a, &b, out), out);
    api_trace_free(&a);
    api_trace_free(&b);
    return st;
}

/* pattern=ID: a log pattern's id (GET /api/v1/logs/patterns). */
static int api_arg_pattern(const api_request *req, int64_t *pattern, buf *out) {
    const char *v;
    *pattern = 0;
    int st = api_arg_single(req, "pattern", &v, out);
    if (st != 0 || v == NULL)
        return st;
    uint64_t n;
    if (apiparam_uint(v, 1, INT64_MAX, &n) != APIPARAM_OK)
        return api_fail(out, 400, "parameter 'pattern' must be a pattern id (a positive integer)");
    *pattern = (int64_t)n;
    return 0;
}

/* GET /api/v1/logs/patterns */
static int api_log_patterns(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_patterns_params p;
    memset(&p, 0, sizeof(p));
    const char *v;
    int has_step = 0;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &p.service, out);
    if (st == 0)
        st = api_arg_single(req, "minSeverity", &v, out);
    if (st != 0)
        return st;
    if (v != NULL && apiparam_severity(v, &p.min_severity) != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter 'minSeverity' must be trace, debug, info, warn, error, fatal "
                        "or a number from 0 to 24");
    st = api_arg_single(req, "sort", &v, out);
    if (st != 0)
        return st;
    if (v != NULL && strcmp(v, "new") != 0 && strcmp(v, "count") != 0)
        return api_fail(out, 400, "parameter 'sort' must be count or new");
    p.sort_new = v != NULL && strcmp(v, "new") == 0;
    st = api_arg_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns, out);
    if (st == 0)
        st = api_arg_duration(req, "step", &has_step, &p.step_ns, out);
    if (st == 0)
        st = api_arg_limit(req, API_PATTERNS_LIMIT_DEFAULT, &p.limit, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    int rc = query_patterns(db, &p, out);
    if (rc == QUERY_EINVAL)
        return api_fail(out, 400, "parameter 'step' cuts the window into more than %d steps",
                        QUERY_MAX_PATTERN_STEPS);
    return api_query_result(req, rc, out);
}

/* The filters /logs, /export and /live share. */
static int api_logs_params(const api_request *req, query_logs_params *p, uint8_t tid[16],
                           uint8_t sid[8], query_attr *attrs, buf *out) {
    memset(p, 0, sizeof(*p));
    const char *v;
    int has;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &p->service, out);
    if (st != 0)
        return st;
    st = api_arg_single(req, "minSeverity", &v, out);
    if (st != 0)
        return st;
    if (v != NULL && apiparam_severity(v, &p->min_severity) != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter 'minSeverity' must be trace, debug, info, warn, error, fatal "
                        "or a number from 0 to 24");
    st = api_arg_text(req, "q", API_Q_MAX, &p->q, out);
    if (st == 0)
        st = api_arg_id(req, "traceId", tid, 16, &has, out);
    if (st != 0)
        return st;
    p->trace_id = has ? tid : NULL;
    st = api_arg_id(req, "spanId", sid, 8, &has, out);
    if (st != 0)
        return st;
    p->span_id = has ? sid : NULL;
    st = api_arg_attrs(req, attrs, &p->n_attrs, out);
    if (st != 0)
        return st;
    p->attrs = attrs;
    st = api_arg_pattern(req, &p->pattern, out);
    if (st != 0)
        return st;
    return api_arg_window(req, &p->has_start, &p->start_ns, &p->has_end, &p->end_ns, out);
}

/* The paging of the list routes (limit and cursor), then the reader
 * connection. */
static int api_list_args(const api_request *req, size_t def_limit, size_t *limit,
                         const char **cursor, api_db_fn get_db, void *ud, store_reader **db,
                         buf *out) {
    int st = api_arg_limit(req, def_limit, limit, out);
    if (st == 0)
        st = api_arg_text(req, "cursor", API_CURSOR_MAX, cursor, out);
    if (st == 0)
        st = api_get_db(get_db, ud, db, out);
    return st;
}

/* A list query's answer: its only invalid input left is the cursor. */
static int api_list_result(const api_request *req, int rc, buf *out) {
    if (rc == QUERY_EINVAL)
        return api_fail(out, 400, "parameter 'cursor' is not a valid cursor");
    return api_query_result(req, rc, out);
}

static int api_logs(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_logs_params p;
    uint8_t tid[16], sid[8];
    query_attr attrs[QUERY_MAX_ATTRS];
    store_reader *db = NULL;
    int st = api_logs_params(req, &p, tid, sid, attrs, out);
    if (st == 0)
        st = api_list_args(req, API_LOGS_LIMIT_DEFAULT, &p.limit, &p.cursor, get_db, ud, &db, out);
    if (st != 0)
        return st;
    return api_list_result(req, query_logs(db, &p, out), out);
}

/* The filters /traces, /export and /live share. */
static int api_traces_params(const api_request *req, query_traces_params *p, query_attr *attrs,
                             buf *out) {
    memset(p, 0, sizeof(*p));
    const char *v;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &p->service, out);
    if (st == 0)
        st = api_arg_text(req, "name", API_TEXT_MAX, &p->name, out);
    if (st == 0)
        st = api_arg_text(req, "q", API_Q_MAX, &p->q, out);
    if (st == 0)
        st = api_arg_single(req, "status", &v, out);
    if (st != 0)
        return st;
    if (v != NULL) {
        if (strcmp(v, "error") == 0)
            p->status = QUERY_STATUS_ERROR;
        else if (strcmp(v, "ok") == 0)
            p->status = QUERY_STATUS_OK;
        else if (strcmp(v, "unset") == 0)
            p->status = QUERY_STATUS_UNSET;
        else
            return api_fail(out, 400, "parameter 'status' must be error, ok or unset");
    }
    st = api_arg_attrs(req, attrs, &p->n_attrs, out);
    if (st != 0)
        return st;
    p->attrs = attrs;
    st = api_arg_duration(req, "minDuration", &p->has_min_duration, &p->min_duration_ns, out);
    if (st == 0)
        st = api_arg_duration(req, "maxDuration", &p->has_max_duration, &p->max_duration_ns, out);
    if (st != 0)
        return st;
    if (p->has_min_duration && p->has_max_duration && p->max_duration_ns < p->min_duration_ns)
        return api_fail(out, 400, "parameter 'maxDuration' must not be less than 'minDuration'");
    return api_arg_window(req, &p->has_start, &p->start_ns, &p->has_end, &p->end_ns, out);
}

static int api_traces(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_traces_params p;
    query_attr attrs[QUERY_MAX_ATTRS];
    store_reader *db = NULL;
    int st = api_traces_params(req, &p, attrs, out);
    if (st == 0)
        st = api_list_args(req, API_TRACES_LIMIT_DEFAULT, &p.limit, &p.cursor, get_db, ud, &db,
                           out);
    if (st != 0)
        return st;
    return api_list_result(req, query_traces(db, &p, out), out);
}

/* groupBy: repeatable, each a comma-separated list of attribute keys. The
 * keys are copied into keybuf (NUL-separated). */
static int api_arg_group_by(const api_request *req, const char **keys, size_t *n, char *keybuf,
                            size_t keybuf_len, buf *out) {
    size_t used = 0;
    *n = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const api_arg *a = &req->args[i];
        if (strcmp(a->key, "groupBy") != 0 || a->value == NULL || a->value_len == 0)
            continue;
        if (strlen(a->value) != a->value_len || apiparam_text(a->value, API_TEXT_MAX) != 0)
            return api_fail(out, 400,
                            "parameter 'groupBy' must be attribute keys separated by commas "
                            "(UTF-8, no control characters)");
        const char *p = a->value;
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (len == 0)
                return api_fail(out, 400, "parameter 'groupBy' has an empty key");
            if (*n == QUERY_MAX_GROUP_BY || used + len + 1 > keybuf_len)
                return api_fail(out, 400, "parameter 'groupBy' may name at most %d keys",
                                QUERY_MAX_GROUP_BY);
            memcpy(keybuf + used, p, len);
            keybuf[used + len] = '\0';
            keys[(*n)++] = keybuf + used;
            used += len + 1;
            if (c == NULL)
                break;
            p = c + 1;
        }
    }
    return 0;
}

static int api_series(const api_request *req, const char *name, api_db_fn get_db, void *ud,
                      buf *out) {
    if (name[0] == '\0' || apiparam_text(name, API_TEXT_MAX) != 0)
        return api_fail(out, 400, "path parameter 'name' must be a metric name");
    query_series_params p;
    memset(&p, 0, sizeof(p));
    p.name = name;
    query_attr attrs[QUERY_MAX_ATTRS];
    const char *keys[QUERY_MAX_GROUP_BY];
    char keybuf[QUERY_MAX_GROUP_BY * (API_TEXT_MAX + 1)];
    int has_step = 0;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &p.service, out);
    if (st == 0)
        st = api_arg_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns, out);
    if (st == 0)
        st = api_arg_duration(req, "step", &has_step, &p.step_ns, out);
    if (st == 0 && has_step && p.step_ns == 0)
        st = api_fail(out, 400, "parameter 'step' must be longer than zero");
    if (st == 0 && has_step && p.has_start && p.has_end &&
        (p.end_ns - 1) / p.step_ns - p.start_ns / p.step_ns + 1 > QUERY_MAX_STEPS)
        st = api_fail(out, 400, "parameter 'step' cuts start..end into more than %d steps",
                      QUERY_MAX_STEPS);
    if (st == 0)
        st = api_arg_attrs(req, attrs, &p.n_attrs, out);
    if (st == 0)
        st = api_arg_group_by(req, keys, &p.n_group_by, keybuf, sizeof(keybuf), out);
    if (st != 0)
        return st;
    p.attrs = attrs;
    p.group_by = keys;
    store_reader *db;
    st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    int rc = query_series(db, &p, out);
    if (rc == QUERY_ENOTFOUND)
        return api_fail(out, 404, "no metric named %.200s%s%.200s", name,
                        p.service ? " for service " : "", p.service ? p.service : "");
    if (rc == QUERY_EINVAL)
        return api_fail(out, 400, "parameter 'step' cuts the data into more than %d steps",
                        QUERY_MAX_STEPS);
    return api_query_result(req, rc, out);
}

static int api_metrics(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    const char *service;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &service, out);
    if (st != 0)
        return st;
    store_reader *db;
    st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    return api_query_result(req, query_metrics(db, service, out), out);
}

/* GET /api/v1/lint?service= */
static int api_lint(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    const char *service;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &service, out);
    store_reader *db;
    if (st == 0)
        st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    int rc = query_lint(db, service, out);
    if (rc == QUERY_ENOTFOUND)
        return api_fail(out, 404, "no service named '%.200s'", service);
    return api_query_result(req, rc, out);
}

/* DELETE /api/v1/telemetry?signal=traces|logs|metrics[,...]&service= */
static int api_delete(const api_request *req, const api_env *env, buf *out) {
    const char *v, *service;
    unsigned signals = 0;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &service, out);
    if (st == 0)
        st = api_arg_single(req, "signal", &v, out);
    if (st != 0)
        return st;
    if (v == NULL) {
        signals = STORE_DELETE_ALL;
    } else {
        static const api_flag_word words[] = {{"traces", STORE_DELETE_TRACES},
                                              {"logs", STORE_DELETE_LOGS},
                                              {"metrics", STORE_DELETE_METRICS}};
        if (api_flag_list(v, words, sizeof(words) / sizeof(words[0]), &signals) != 0)
            return api_fail(out, 400,
                            "parameter 'signal' must be traces, logs or metrics (or a "
                            "comma-separated list of them)");
    }
    if (env->st == NULL)
        return api_fail(out, 503, "the store is not available");
    store_delete_result r;
    int rc = store_delete_wait(env->st, signals, service, API_DELETE_TIMEOUT_MS, &r);
    if (rc != STORE_OK)
        return api_fail(out, store_is_retryable(rc) ? 503 : 500, "delete failed: %s",
                        store_strerror(rc));
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "deleted");
    jw_object_begin(&w);
    jw_key(&w, "spans");
    jw_uint(&w, r.spans);
    jw_key(&w, "traces");
    jw_uint(&w, r.traces);
    jw_key(&w, "logs");
    jw_uint(&w, r.logs);
    jw_key(&w, "points");
    jw_uint(&w, r.points);
    jw_object_end(&w);
    jw_object_end(&w);
    if (jw_error(&w))
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* ---- export and live -------------------------------------------------------- */

int api_export_open(const api_request *req, query_export **x, const char **name, buf *out) {
    *x = NULL;
    *name = NULL;
    const char *v;
    query_export_params p;
    memset(&p, 0, sizeof(p));
    query_attr attrs[QUERY_MAX_ATTRS];
    uint8_t tid[16], sid[8];
    if (req->too_many_args)
        return api_fail(out, 400, "too many query parameters (at most %d)", API_MAX_ARGS);
    int st = api_arg_single(req, "signal", &v, out);
    if (st != 0)
        return st;
    if (v == NULL)
        return api_fail(out, 400, "parameter 'signal' is required: traces, logs or metrics");
    if (strcmp(v, "traces") == 0) {
        p.signal = 0;
        st = api_traces_params(req, &p.traces, attrs, out);
        *name = "loupe-traces.jsonl";
    } else if (strcmp(v, "logs") == 0) {
        p.signal = 1;
        st = api_logs_params(req, &p.logs, tid, sid, attrs, out);
        *name = "loupe-logs.jsonl";
    } else if (strcmp(v, "metrics") == 0) {
        p.signal = 2;
        st = api_arg_text(req, "service", API_TEXT_MAX, &p.service, out);
        if (st == 0)
            st = api_arg_window(req, &p.has_start, &p.start_ns, &p.has_end, &p.end_ns, out);
        *name = "loupe-metrics.jsonl";
    } else {
        return api_fail(out, 400, "parameter 'signal' must be traces, logs or metrics");
    }
    if (st != 0)
        return st;
    int rc = query_export_new(&p, x);
    if (rc != QUERY_OK)
        return api_fail(out, 500, "cannot start the export: %s", query_strerror(rc));
    return 200;
}

int api_live_request(const api_request *req, api_live_hub *hub, api_live_conn_fn suspend,
                     api_live_conn_fn resume, void *conn, api_live **l, buf *out) {
    *l = NULL;
    if (req->too_many_args)
        return api_fail(out, 400, "too many query parameters (at most %d)", API_MAX_ARGS);
    query_traces_params tp;
    query_logs_params lp;
    query_attr attrs[QUERY_MAX_ATTRS];
    uint8_t tid[16], sid[8];
    /* the two lists' parameters; service and attr are shared */
    int st = api_traces_params(req, &tp, attrs, out);
    if (st == 0)
        st = api_logs_params(req, &lp, tid, sid, attrs, out);
    if (st != 0)
        return st;
    api_live_filter f;
    memset(&f, 0, sizeof(f));
    const char *v;
    st = api_arg_single(req, "events", &v, out);
    if (st != 0)
        return st;
    static const api_flag_word events[] = {{"spans", API_LIVE_SPANS},
                                           {"traces", API_LIVE_TRACES},
                                           {"logs", API_LIVE_LOGS},
                                           {"ingest", API_LIVE_INGEST}};
    if (v != NULL && api_flag_list(v, events, sizeof(events) / sizeof(events[0]), &f.kinds) != 0)
        return api_fail(out, 400,
                        "parameter 'events' must be spans, traces, logs or ingest (or a "
                        "comma-separated list of them)");
    int has_hb = 0;
    st = api_arg_duration(req, "heartbeat", &has_hb, &f.heartbeat_ns, out);
    if (st != 0)
        return st;
    if (has_hb && (f.heartbeat_ns < 100000000ULL || f.heartbeat_ns > 60000000000ULL))
        return api_fail(out, 400, "parameter 'heartbeat' must be from 100ms to 60s");
    f.service = tp.service;
    f.name = tp.name;
    f.q = tp.q;
    f.status = tp.status;
    f.attrs = tp.attrs;
    f.n_attrs = tp.n_attrs;
    f.has_min_duration = tp.has_min_duration;
    f.has_max_duration = tp.has_max_duration;
    f.min_duration_ns = tp.min_duration_ns;
    f.max_duration_ns = tp.max_duration_ns;
    f.min_severity = lp.min_severity;
    f.log_q = lp.q;
    f.trace_id = lp.trace_id;
    f.span_id = lp.span_id;
    f.pattern = lp.pattern;
    if (hub == NULL)
        return api_fail(out, 503, "the store is not available");
    int lrc = api_live_open(hub, &f, suspend, resume, conn, l);
    if (lrc == API_LIVE_EFULL)
        return api_fail(out, 503, "too many live clients; retry later");
    if (lrc != 0)
        return api_fail(out, 503, "cannot open a live stream now");
    return 200;
}

/* ---- the ingest inspector (api_ingest.c) ----------------------------------- */

#define INGEST_PREFIX "/api/v1/ingest/requests/"

/* An id or cursor: a record number. */
static int api_arg_seq(const api_request *req, const char *name, uint64_t *seq, buf *out) {
    const char *v;
    *seq = 0;
    int st = api_arg_single(req, name, &v, out);
    if (st != 0 || v == NULL)
        return st;
    if (apiparam_uint(v, 0, UINT64_MAX - 1, seq) != APIPARAM_OK)
        return api_fail(out, 400, "parameter '%s' must be a request id (a whole number)", name);
    return 0;
}

/* One of words (by index) for parameter name, or -1 when absent. */
static int api_arg_word(const api_request *req, const char *name, const char *const *words,
                        size_t n, int *which, const char *expected, buf *out) {
    const char *v;
    *which = -1;
    int st = api_arg_single(req, name, &v, out);
    if (st != 0 || v == NULL)
        return st;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, words[i]) == 0) {
            *which = (int)i;
            return 0;
        }
    return api_fail(out, 400, "parameter '%s' must be %s", name, expected);
}

/* GET /api/v1/ingest/requests */
static int api_ingest_requests(const api_request *req, const api_env *env, buf *out) {
    api_ingest_filter f;
    memset(&f, 0, sizeof(f));
    const char *v;
    int st = api_arg_single(req, "outcome", &v, out);
    if (st != 0)
        return st;
    static const api_flag_word outcomes[] = {{"ok", 1u << INGEST_OUTCOME_OK},
                                             {"partial", 1u << INGEST_OUTCOME_PARTIAL},
                                             {"error", 1u << INGEST_OUTCOME_ERROR}};
    if (v != NULL && api_flag_list(v, outcomes, 3, &f.outcomes) != 0)
        return api_fail(out, 400,
                        "parameter 'outcome' must be ok, partial or error (or a "
                        "comma-separated list of them)");
    static const char *const transports[] = {"grpc", "http"};
    static const char *const signals[] = {"traces", "logs", "metrics"};
    st = api_arg_word(req, "transport", transports, 2, &f.transport, "grpc or http", out);
    if (st == 0)
        st = api_arg_word(req, "signal", signals, 3, &f.signal, "traces, logs or metrics", out);
    if (st == 0)
        st = api_arg_text(req, "service", API_TEXT_MAX, &f.service, out);
    if (st == 0)
        st = api_arg_text(req, "client", API_TEXT_MAX, &f.client, out);
    if (st == 0)
        st = api_arg_seq(req, "cursor", &f.before, out);
    if (st == 0)
        st = api_arg_seq(req, "after", &f.after, out);
    if (st != 0)
        return st;
    uint64_t limit = API_INGEST_LIMIT_DEFAULT;
    st = api_arg_single(req, "limit", &v, out);
    if (st != 0)
        return st;
    if (v != NULL && apiparam_uint(v, 1, API_INGEST_LIMIT_MAX, &limit) != APIPARAM_OK)
        return api_fail(out, 400, "parameter 'limit' must be an integer from 1 to %d",
                        API_INGEST_LIMIT_MAX);
    f.limit = (size_t)limit;
    if (api_ingest_requests_json(env->ingest, &f, out) != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* GET /api/v1/ingest/requests/{id} */
static int api_ingest_request(const char *id, const api_env *env, buf *out) {
    uint64_t seq;
    if (apiparam_uint(id, 1, UINT64_MAX - 1, &seq) != APIPARAM_OK)
        return api_fail(out, 400, "a request id is a whole number from 1");
    int rc = api_ingest_request_json(env->ingest, seq, out);
    if (rc == API_INGEST_ENOTFOUND && env->ingest == NULL)
        return api_fail(out, 404, "the ingest inspector is off (--ingest-log-size 0)");
    if (rc == API_INGEST_ENOTFOUND)
        return api_fail(out, 404, "no request %s in the ingest log (it keeps the last %zu)", id,
                        ingest_log_capacity(env->ingest));
    if (rc != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* GET /api/v1/ingest/clients */
static int api_ingest_clients(const api_env *env, buf *out) {
    if (api_ingest_clients_json(env->ingest, out) != BUF_OK)
        return api_fail(out, 500, "out of memory");
    return 200;
}

/* ---- routing ------------------------------------------------------------- */

typedef enum api_route {
    API_ROUTE_NONE = 0,
    API_ROUTE_HEALTHZ,
    API_ROUTE_SERVICES,
    API_ROUTE_TRACE,
    API_ROUTE_LOGS,
    API_ROUTE_METRICS,
    API_ROUTE_TRACES,
    API_ROUTE_SERIES,
    API_ROUTE_TELEMETRY,
    API_ROUTE_EXPORT,
    API_ROUTE_IMPORT,
    API_ROUTE_LIVE,
    API_ROUTE_LIVE_STREAMS,
    API_ROUTE_INFO,
    API_ROUTE_SERVICE_MAP,
    API_ROUTE_OPERATIONS,
    API_ROUTE_TRACE_ANALYSIS,
    API_ROUTE_TRACE_COMPARE,
    API_ROUTE_INGEST_REQUESTS,
    API_ROUTE_INGEST_REQUEST,
    API_ROUTE_INGEST_CLIENTS,
    API_ROUTE_LINT,
    API_ROUTE_GENAI,
    API_ROUTE_LOG_PATTERNS,
} api_route;

#define SERVICES_PREFIX "/api/v1/services/"
#define OPERATIONS_SUFFIX "/operations"

/* Matches /api/v1/services/{name}/operations; the name may hold slashes
 * (as a metric's may). */
static int api_match_operations(const char *path, char *name, size_t len) {
    size_t pl = strlen(SERVICES_PREFIX), sl = strlen(OPERATIONS_SUFFIX), n = strlen(path);
    if (n <= pl + sl || strncmp(path, SERVICES_PREFIX, pl) != 0 ||
        strcmp(path + n - sl, OPERATIONS_SUFFIX) != 0)
        return 0;
    size_t nl = n - pl - sl;
    if (nl >= len)
        nl = len - 1;
    memcpy(name, path + pl, nl);
    name[nl] = '\0';
    return 1;
}

/* Matches /api/v1/metrics/{name}/series; the name may hold slashes. */
static int api_match_series(const char *path, char *name, size_t len) {
    size_t pl = strlen(METRICS_PREFIX), sl = strlen(SERIES_SUFFIX), n = strlen(path);
    if (n <= pl + sl || strncmp(path, METRICS_PREFIX, pl) != 0 ||
        strcmp(path + n - sl, SERIES_SUFFIX) != 0)
        return 0;
    size_t nl = n - pl - sl;
    if (nl >= len)
        nl = len - 1; /* too long for a name: rejected by the length check */
    memcpy(name, path + pl, nl);
    name[nl] = '\0';
    return 1;
}

/* The routes named by their whole path. */
static const struct {
    const char *path;
    api_route route;
} api_exact_routes[] = {
    {"/healthz", API_ROUTE_HEALTHZ},
    {"/api/v1/services", API_ROUTE_SERVICES},
    {"/api/v1/logs", API_ROUTE_LOGS},
    {"/api/v1/metrics", API_ROUTE_METRICS},
    {"/api/v1/traces", API_ROUTE_TRACES},
    {"/api/v1/traces/compare", API_ROUTE_TRACE_COMPARE},
    {"/api/v1/telemetry", API_ROUTE_TELEMETRY},
    {"/api/v1/export", API_ROUTE_EXPORT},
    {"/api/v1/import", API_ROUTE_IMPORT},
    {"/api/v1/live", API_ROUTE_LIVE},
    {"/api/v1/live/streams", API_ROUTE_LIVE_STREAMS},
    {"/api/v1/info", API_ROUTE_INFO},
    {"/api/v1/service-map", API_ROUTE_SERVICE_MAP},
    {"/api/v1/ingest/requests", API_ROUTE_INGEST_REQUESTS},
    {"/api/v1/ingest/clients", API_ROUTE_INGEST_CLIENTS},
    {"/api/v1/lint", API_ROUTE_LINT},
    {"/api/v1/genai", API_ROUTE_GENAI},
    {"/api/v1/logs/patterns", API_ROUTE_LOG_PATTERNS},
};

static api_route api_match(const char *path, const char **trace_id, char *name, size_t len) {
    *trace_id = NULL;
    for (size_t i = 0; i < sizeof(api_exact_routes) / sizeof(api_exact_routes[0]); i++)
        if (strcmp(path, api_exact_routes[i].path) == 0)
            return api_exact_routes[i].route;
    if (api_match_series(path, name, len))
        return API_ROUTE_SERIES;
    if (api_match_operations(path, name, len))
        return API_ROUTE_OPERATIONS;
    if (strncmp(path, INGEST_PREFIX, strlen(INGEST_PREFIX)) == 0) {
        *trace_id = path + strlen(INGEST_PREFIX); /* the record's id */
        return API_ROUTE_INGEST_REQUEST;
    }
    if (strncmp(path, TRACES_PREFIX, strlen(TRACES_PREFIX)) == 0) {
        const char *id = path + strlen(TRACES_PREFIX);
        const char *slash = strchr(id, '/');
        if (slash == NULL) {
            *trace_id = id;
            return API_ROUTE_TRACE;
        }
        /* {id}/analysis: the id is copied into name (NUL-terminated) */
        size_t idlen = (size_t)(slash - id);
        if (strcmp(slash, ANALYSIS_SUFFIX) != 0)
            return API_ROUTE_NONE;
        if (idlen >= len)
            idlen = len - 1; /* too long for an id: rejected by the id check */
        memcpy(name, id, idlen);
        name[idlen] = '\0';
        *trace_id = name;
        return API_ROUTE_TRACE_ANALYSIS;
    }
    return API_ROUTE_NONE;
}

api_stream_kind api_stream_route(const char *method, const char *path) {
    const char *trace_id;
    char name[API_TEXT_MAX + 2];
    if (method == NULL || path == NULL)
        return API_STREAM_NONE;
    api_route r = api_match(path, &trace_id, name, sizeof(name));
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (r == API_ROUTE_EXPORT && get)
        return API_STREAM_EXPORT;
    if (r == API_ROUTE_LIVE && get)
        return API_STREAM_LIVE;
    if (r == API_ROUTE_IMPORT && strcmp(method, "POST") == 0)
        return API_STREAM_IMPORT;
    return API_STREAM_NONE;
}

#ifdef LOUPE_TESTING
int api_handle(const api_request *req, api_db_fn get_db, void *ud, buf *out, const char **allow) {
    api_env env = {get_db, ud, NULL, NULL, NULL, NULL};
    return api_handle_env(req, &env, out, allow);
}
#endif

/* ---- in-process GET -------------------------------------------------------- */

/* Splits query (modified in place) into args, as ui.c's argument collector
 * does: keys holding a NUL are skipped, more than max sets *too_many. */
static size_t api_split_query(char *query, api_arg *args, size_t max, int *too_many) {
    size_t n = 0;
    *too_many = 0;
    for (char *p = query; p != NULL && *p != '\0';) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq != NULL)
            *eq = '\0';
        size_t klen = textfmt_url_decode(p, 1);
        size_t vlen = eq != NULL ? textfmt_url_decode(eq + 1, 1) : 0;
        if (klen > 0 && strlen(p) == klen) {
            if (n == max) {
                *too_many = 1;
                break;
            }
            args[n].key = p;
            args[n].value = eq != NULL ? eq + 1 : NULL;
            args[n].value_len = vlen;
            n++;
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    return n;
}

int api_get(const char *target, const api_env *env, buf *out) {
    size_t len = target != NULL ? strlen(target) : 0;
    if (len == 0 || target[0] != '/')
        return api_fail(out, 400, "bad request target");
    if (len > API_GET_MAX_TARGET)
        return api_fail(out, 400, "the request target is longer than %d bytes",
                        API_GET_MAX_TARGET);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return api_fail(out, 503, "out of memory");
    memcpy(copy, target, len + 1);
    char *query = strchr(copy, '?');
    if (query != NULL)
        *query++ = '\0';
    size_t plen = textfmt_url_decode(copy, 0);
    api_arg args[API_MAX_ARGS];
    api_request req = {.method = "GET", .path = copy, .args = args};
    req.nargs = api_split_query(query, args, API_MAX_ARGS, &req.too_many_args);
    int status;
    const char *allow;
    if (strlen(copy) != plen)
        status = api_fail(out, 400, "the path must not contain NUL bytes");
    else if (api_stream_route("GET", copy) != API_STREAM_NONE)
        status = api_fail(out, 500, "this endpoint is streamed");
    else
        status = api_handle_env(&req, env, out, &allow);
    free(copy);
    return status;
}

int api_handle_env(const api_request *req, const api_env *env, buf *out, const char **allow) {
    api_db_fn get_db = env->get_db;
    void *ud = env->ud;
    *allow = NULL;
    const char *trace_id;
    char name[API_TEXT_MAX + 2];
    api_route route = api_match(req->path, &trace_id, name, sizeof(name));
    if (route == API_ROUTE_NONE) {
        /* the path is JSON-escaped by jw; only its length needs bounding */
        char shown[128];
        snprintf(shown, sizeof(shown), "%s", req->path);
        if (strlen(req->path) >= sizeof(shown))
            memcpy(shown + sizeof(shown) - 4, "...", 4);
        return api_fail(out, 404, "no API endpoint at %s", shown);
    }
    const char *want = route == API_ROUTE_TELEMETRY ? ALLOW_DELETE
                       : route == API_ROUTE_IMPORT  ? ALLOW_POST
                                                    : ALLOW_GET;
    int ok = route == API_ROUTE_TELEMETRY ? strcmp(req->method, "DELETE") == 0
             : route == API_ROUTE_IMPORT  ? strcmp(req->method, "POST") == 0
                                          : strcmp(req->method, "GET") == 0 ||
                                               strcmp(req->method, "HEAD") == 0;
    if (!ok) {
        *allow = want;
        return api_fail(out, 405, "method %.32s is not allowed here; use %s", req->method,
                        want == ALLOW_GET ? "GET" : want);
    }
    if (req->too_many_args)
        return api_fail(out, 400, "too many query parameters (at most %d)", API_MAX_ARGS);
    switch (route) {
    case API_ROUTE_HEALTHZ:
        return api_healthz(out);
    case API_ROUTE_SERVICES:
        return api_services(req, get_db, ud, out);
    case API_ROUTE_TRACE:
        return api_trace(req, trace_id, get_db, ud, out);
    case API_ROUTE_LOGS:
        return api_logs(req, get_db, ud, out);
    case API_ROUTE_METRICS:
        return api_metrics(req, get_db, ud, out);
    case API_ROUTE_TRACES:
        return api_traces(req, get_db, ud, out);
    case API_ROUTE_SERIES:
        return api_series(req, name, get_db, ud, out);
    case API_ROUTE_TELEMETRY:
        return api_delete(req, env, out);
    case API_ROUTE_LIVE_STREAMS:
        return api_live_streams(env, out);
    case API_ROUTE_INFO:
        return api_server_info(env, out);
    case API_ROUTE_SERVICE_MAP:
        return api_service_map(req, get_db, ud, out);
    case API_ROUTE_OPERATIONS:
        return api_operations(req, name, get_db, ud, out);
    case API_ROUTE_TRACE_ANALYSIS:
        return api_trace_analysis(req, trace_id, get_db, ud, out);
    case API_ROUTE_TRACE_COMPARE:
        return api_trace_compare(req, get_db, ud, out);
    case API_ROUTE_INGEST_REQUESTS:
        return api_ingest_requests(req, env, out);
    case API_ROUTE_INGEST_REQUEST:
        return api_ingest_request(trace_id, env, out);
    case API_ROUTE_INGEST_CLIENTS:
        return api_ingest_clients(env, out);
    case API_ROUTE_LINT:
        return api_lint(req, get_db, ud, out);
    case API_ROUTE_GENAI:
        return api_genai(req, get_db, ud, out);
    case API_ROUTE_LOG_PATTERNS:
        return api_log_patterns(req, get_db, ud, out);
    case API_ROUTE_EXPORT:
    case API_ROUTE_IMPORT:
    case API_ROUTE_LIVE:
        /* streamed by ui.c (api_stream_route); here only when misrouted */
        return api_fail(out, 500, "this endpoint is streamed");
    default:
        assert(!"a route without a handler");
        return api_fail(out, 500, "unrouted");
    }
}
