/* api.h - the /api/v1 JSON handlers, independent of the HTTP library.
 *
 * ui.c turns a libmicrohttpd request into an api_request (decoded path, the
 * query arguments in order, repeats kept) and sends what api_handle_env()
 * writes.
 * Handlers validate every parameter here (400 naming the parameter), then
 * call the storage/query.h functions on the calling thread's reader
 * connection, obtained through the api_db_fn callback only when a route
 * needs the database.
 */
#ifndef LOUPE_API_H
#define LOUPE_API_H

#include <stddef.h>


#include "api_live.h"
#include "util/buf.h"
#include "server/net/ingest_log.h"
#include "storage/query.h"
#include "storage/store.h"

/* Response body cap: a query answer larger than this is a 500. */
#define API_MAX_RESPONSE_BYTES (64u * 1024u * 1024u)
/* At most this many query arguments are looked at; more is a 400. */
#define API_MAX_ARGS 64

typedef struct api_arg {
    const char *key;   /* decoded, NUL-terminated */
    const char *value; /* decoded, NUL-terminated; NULL for "?key" without '=' */
    size_t value_len;  /* bytes of value; larger than strlen(value) when it holds a NUL */
} api_arg;

typedef struct api_request {
    const char *method; /* "GET", "HEAD", ... */
    const char *path;   /* decoded path without the query string */
    const api_arg *args; /* borrowed, in request order */
    size_t nargs;
    int too_many_args; /* 1 when the request had more than API_MAX_ARGS */
} api_request;

/* Gives the calling thread's reader connection (borrowed, valid for the
 * request). Returns 0, or negative when no connection can be had (503). */
typedef int (*api_db_fn)(void *ud, store_reader **db);

/* 1 when path belongs to the JSON API (/healthz, /api and /api/...). */
int api_is_api_path(const char *path);

/* What GET /api/v1/info tells the UI about this server (plain values). */
typedef struct api_info {
    const char *version;  /* borrowed; NULL = "unknown" */
    int otlp_grpc_port;   /* the bound port; 0 = not known (not started) */
    int otlp_http_port;
    int storage;   /* CONFIG_STORAGE_*: 0 sqlite, 1 memory, 2 clickhouse */
} api_info;

/* What handlers may use besides the request. */
typedef struct api_env {
    api_db_fn get_db; /* reader connection, for queries */
    void *ud;         /* passed to get_db */
    store *st;        /* for DELETE /telemetry; NULL answers 503 */
    api_live_hub *hub; /* live streams, counted by /healthz; may be NULL */
    const api_info *info; /* for GET /api/v1/info; NULL answers with zeros */
    ingest_log *ingest;   /* the ingest inspector's log; NULL: it is off */
} api_env;

/* Handles an API request: writes one JSON document (the answer or an error
 * object) into out (which should be capped at API_MAX_RESPONSE_BYTES) and
 * returns the HTTP status. *allow is set to the Allow header value for a
 * 405 and to NULL otherwise. When out cannot hold even an error document,
 * out is left empty and the status is still returned. */
int api_handle_env(const api_request *req, const api_env *env, buf *out, const char **allow);

/* Longest target api_get() takes (path and query, percent-encoded). */
#define API_GET_MAX_TARGET 16384

/* Answers GET target ("/api/v1/traces?service=a%20b&limit=5": the path and
 * query as in a request line, percent-encoded, '+' for a space in the
 * query) as api_handle_env() answers the same request from ui.c, for
 * callers inside the process (the MCP tools). Query arguments past
 * API_MAX_ARGS are a 400, as over HTTP; a target longer than
 * API_GET_MAX_TARGET is a 400. The streamed routes (export, live) are not
 * served here (500). Returns the HTTP status, with the JSON document in
 * out. */
int api_get(const char *target, const api_env *env, buf *out);

/* api_handle_env() with only a reader connection (no store, hub or info),
 * for the unit tests and fuzzers: defined in test builds (LOUPE_TESTING)
 * only. */
int api_handle(const api_request *req, api_db_fn get_db, void *ud, buf *out, const char **allow);

/* Routes whose answer is not one buffer: ui.c streams them. */
typedef enum api_stream_kind {
    API_STREAM_NONE = 0,
    API_STREAM_EXPORT, /* GET /api/v1/export: OTLP JSON lines */
    API_STREAM_IMPORT, /* POST /api/v1/import: a request body to read */
    API_STREAM_LIVE,   /* GET /api/v1/live: server-sent events */
} api_stream_kind;

/* The streaming route for method + path, API_STREAM_NONE for any other
 * request (including a wrong method, which api_handle_env() answers). */
api_stream_kind api_stream_route(const char *method, const char *path);

/* GET /api/v1/export: validates the parameters and starts the export.
 * Returns 200 with *x set (the caller frees it with query_export_free), or
 * an error status with the error document in out. *name gets a file name
 * for Content-Disposition ("loupe-traces.jsonl"). */
int api_export_open(const api_request *req, query_export **x, const char **name, buf *out);

/* GET /api/v1/live: validates the parameters and opens a stream on hub
 * for the connection conn (see api_live_open). Returns 200 with *l set, or
 * an error status with the error document in out. */
int api_live_request(const api_request *req, api_live_hub *hub, api_live_conn_fn suspend,
                     api_live_conn_fn resume, void *conn, api_live **l, buf *out);

/* Replaces out's contents with {"error":{"code":code,"message":message}}.
 * code is one of bad_request, not_found, method_not_allowed, internal,
 * unavailable. */
void api_error_json(buf *out, const char *code, const char *message);

/* The error code name for an HTTP status (400 -> "bad_request"). */
const char *api_error_code(int status);

#endif
