/* api.c - /api/v1 routing, parameter validation and JSON errors, see api.h. */
#include "api.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apiparam.h"
#include "jw.h"
#include "log.h"
#include "query.h"

#define API_LOGS_LIMIT_DEFAULT 100
#define API_LOGS_LIMIT_MAX 1000
#define API_TEXT_MAX 1024 /* service names */
#define API_CURSOR_MAX 1024

#define TRACES_PREFIX "/api/v1/traces/"

static const char ALLOW_GET[] = "GET, HEAD";

const char *api_error_code(int status) {
    switch (status) {
    case 400:
        return "bad_request";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
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

/* ---- handlers ------------------------------------------------------------ */

static int api_healthz(buf *out) {
    buf_reset(out);
    if (buf_append_str(out, "{\"status\":\"ok\"}") != BUF_OK)
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
    default:
        log_event(LOG_WARN, "api_query_failed", "path=\"%s\" code=%d reason=\"%s\"",
                  log_quote(req->path, qpath, sizeof(qpath)), rc, query_strerror(rc));
        return api_fail(out, 500, "query failed: %s", query_strerror(rc));
    }
}

static int api_get_db(api_db_fn get_db, void *ud, sqlite3 **db, buf *out) {
    *db = NULL;
    if (get_db == NULL || get_db(ud, db) != 0 || *db == NULL)
        return api_fail(out, 503, "the store is not available");
    return 0;
}

static int api_services(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    sqlite3 *db;
    int st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    buf_reset(out);
    return api_query_result(req, query_services(db, out), out);
}

static int api_trace(const api_request *req, const char *id, api_db_fn get_db, void *ud,
                     buf *out) {
    uint8_t trace_id[16];
    if (apiparam_hex_id(id, trace_id, sizeof(trace_id)) != APIPARAM_OK)
        return api_fail(out, 400, "path parameter 'traceId' must be 32 hex digits");
    sqlite3 *db;
    int st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    buf_reset(out);
    int rc = query_trace(db, trace_id, out);
    if (rc == QUERY_ENOTFOUND) {
        char hex[33];
        for (size_t i = 0; i < sizeof(trace_id); i++)
            snprintf(hex + 2 * i, 3, "%02x", trace_id[i]);
        return api_fail(out, 404, "trace %s not found", hex);
    }
    return api_query_result(req, rc, out);
}

static int api_logs(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    query_logs_params p;
    memset(&p, 0, sizeof(p));
    p.limit = API_LOGS_LIMIT_DEFAULT;
    const char *v;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &p.service, out);
    if (st != 0)
        return st;
    st = api_arg_single(req, "minSeverity", &v, out);
    if (st != 0)
        return st;
    if (v != NULL && apiparam_severity(v, &p.min_severity) != APIPARAM_OK)
        return api_fail(out, 400,
                        "parameter 'minSeverity' must be trace, debug, info, warn, error, fatal "
                        "or a number from 0 to 24");
    st = api_arg_single(req, "limit", &v, out);
    if (st != 0)
        return st;
    if (v != NULL) {
        uint64_t limit;
        if (apiparam_uint(v, 1, API_LOGS_LIMIT_MAX, &limit) != APIPARAM_OK)
            return api_fail(out, 400, "parameter 'limit' must be an integer from 1 to %d",
                            API_LOGS_LIMIT_MAX);
        p.limit = (size_t)limit;
    }
    st = api_arg_text(req, "cursor", API_CURSOR_MAX, &p.cursor, out);
    if (st != 0)
        return st;
    sqlite3 *db;
    st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    buf_reset(out);
    int rc = query_logs(db, &p, out);
    if (rc == QUERY_EINVAL)
        return api_fail(out, 400, "parameter 'cursor' is not a valid cursor");
    return api_query_result(req, rc, out);
}

static int api_metrics(const api_request *req, api_db_fn get_db, void *ud, buf *out) {
    const char *service;
    int st = api_arg_text(req, "service", API_TEXT_MAX, &service, out);
    if (st != 0)
        return st;
    sqlite3 *db;
    st = api_get_db(get_db, ud, &db, out);
    if (st != 0)
        return st;
    buf_reset(out);
    return api_query_result(req, query_metrics(db, service, out), out);
}

/* ---- routing ------------------------------------------------------------- */

typedef enum api_route {
    API_ROUTE_NONE = 0,
    API_ROUTE_HEALTHZ,
    API_ROUTE_SERVICES,
    API_ROUTE_TRACE,
    API_ROUTE_LOGS,
    API_ROUTE_METRICS,
} api_route;

static api_route api_match(const char *path, const char **trace_id) {
    *trace_id = NULL;
    if (strcmp(path, "/healthz") == 0)
        return API_ROUTE_HEALTHZ;
    if (strcmp(path, "/api/v1/services") == 0)
        return API_ROUTE_SERVICES;
    if (strcmp(path, "/api/v1/logs") == 0)
        return API_ROUTE_LOGS;
    if (strcmp(path, "/api/v1/metrics") == 0)
        return API_ROUTE_METRICS;
    if (strncmp(path, TRACES_PREFIX, strlen(TRACES_PREFIX)) == 0) {
        const char *id = path + strlen(TRACES_PREFIX);
        if (strchr(id, '/') != NULL)
            return API_ROUTE_NONE;
        *trace_id = id;
        return API_ROUTE_TRACE;
    }
    return API_ROUTE_NONE;
}

int api_handle(const api_request *req, api_db_fn get_db, void *ud, buf *out, const char **allow) {
    *allow = NULL;
    const char *trace_id;
    api_route route = api_match(req->path, &trace_id);
    if (route == API_ROUTE_NONE) {
        /* the path is JSON-escaped by jw; only its length needs bounding */
        char shown[128];
        snprintf(shown, sizeof(shown), "%s", req->path);
        if (strlen(req->path) >= sizeof(shown))
            memcpy(shown + sizeof(shown) - 4, "...", 4);
        return api_fail(out, 404, "no API endpoint at %s", shown);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        *allow = ALLOW_GET;
        return api_fail(out, 405, "method %.32s is not allowed here; use GET", req->method);
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
    default:
        return api_fail(out, 500, "unrouted");
    }
}
