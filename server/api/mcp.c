/* mcp.c - the MCP endpoint: transport checks, JSON-RPC dispatch and the
 * lifecycle (initialize, ping), see mcp.h. The tools are mcp_tools.c. */
#include "mcp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mcp_rpc.h"
#include "server/net/http_util.h"

/* Newest first; the first is what a client asking for another gets. */
static const char *const mcp_versions[] = {MCP_PROTOCOL_LATEST, "2025-06-18", "2025-03-26"};
#define MCP_NVERSIONS (sizeof(mcp_versions) / sizeof(mcp_versions[0]))
/* The revision assumed without an MCP-Protocol-Version header. */
#define MCP_PROTOCOL_DEFAULT "2025-03-26"
#define MCP_MAX_BATCH 64

static const char mcp_instructions[] =
    "loupe stores the OpenTelemetry traces, logs and metrics that applications send it. Start "
    "with list_services (what is there, with request rates, failures and p99) or list_errors "
    "(what went wrong lately); service_map shows what calls what; search_traces and "
    "search_logs find items by service, name, attributes, text and time; get_trace shows one "
    "trace as a span tree with its errors, slowest spans and critical path; get_metric sums "
    "up a metric over a window. Times are UTC; durations look like 250ms, 1.5s, 2m.";

int mcp_protocol_supported(const char *version) {
    if (version == NULL)
        return 0;
    for (size_t i = 0; i < MCP_NVERSIONS; i++)
        if (strcmp(version, mcp_versions[i]) == 0)
            return 1;
    return 0;
}

void mcp_error_body(buf *out, int code, const char *message) {
    buf_reset(out);
    json_t *e = mcp_rpc_error(NULL, code, message);
    char *s = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
    if (s != NULL)
        buf_append_str(out, s);
    free(s);
    json_decref(e);
}

/* ---- Origin ------------------------------------------------------------------------ */

/* The host of an authority ("host", "host:port", "[v6]:port") into out
 * (brackets kept off), lowercase. Returns 0, or -1 when it does not fit. */
static int mcp_authority_host(const char *auth, size_t len, char *out, size_t outlen) {
    const char *end;
    if (len > 0 && auth[0] == '[') {
        end = memchr(auth, ']', len);
        if (end == NULL)
            return -1;
        auth++;
    } else {
        end = memchr(auth, ':', len);
        if (end == NULL)
            end = auth + len;
    }
    size_t n = (size_t)(end - auth);
    if (n == 0 || n >= outlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(auth[i] >= 'A' && auth[i] <= 'Z' ? auth[i] + 32 : auth[i]);
    out[n] = '\0';
    return 0;
}

static int mcp_host_is_ip(const char *host) {
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int mcp_host_is_loopback(const char *host) {
    size_t n = strlen(host);
    if (strcmp(host, "localhost") == 0 ||
        (n > 10 && strcmp(host + n - 10, ".localhost") == 0))
        return 1;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
    return 0;
}

int mcp_origin_allowed(const char *origin, const char *host) {
    if (origin == NULL)
        return 1;
    const char *sep = strstr(origin, "://");
    if (sep == NULL)
        return 0; /* "null" and anything else that is not scheme://authority */
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (auth[alen] != '\0' && strcmp(auth + alen, "/") != 0)
        return 0; /* an origin has no path */
    char ohost[256];
    if (mcp_authority_host(auth, alen, ohost, sizeof(ohost)) != 0)
        return 0;
    if (mcp_host_is_loopback(ohost))
        return 1;
    /* an IP literal cannot be rebound: the same authority as Host is us */
    return host != NULL && mcp_host_is_ip(ohost) && strlen(host) == alen &&
           strncasecmp(host, auth, alen) == 0;
}

/* ---- transport checks ------------------------------------------------------------------ */

/* 1 when an Accept value (NULL: absent) admits application/json. */
static int mcp_accepts_json(const char *accept) {
    if (accept == NULL || accept[0] == '\0')
        return 1;
    for (const char *p = accept; *p != '\0';) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        size_t tl = strcspn(s, ";, \t");
        if (tl > (size_t)(e - s))
            tl = (size_t)(e - s);
        if ((tl == 16 && strncasecmp(s, "application/json", 16) == 0) ||
            (tl == 3 && strncmp(s, "*/*", 3) == 0) ||
            (tl == 13 && strncasecmp(s, "application/*", 13) == 0))
            return 1;
        p = *e == ',' ? e + 1 : e;
    }
    return 0;
}

/* A transport-level refusal: status with a JSON-RPC error without id. */
static int mcp_refuse(buf *out, int status, int code, const char *message) {
    mcp_error_body(out, code, message);
    return status;
}

/* ---- methods --------------------------------------------------------------------------- */

static json_t *mcp_initialize(const mcp_msg *m, const mcp_env *env) {
    json_t *v = json_object_get(m->params, "protocolVersion");
    if (!json_is_string(v))
        return mcp_rpc_error(m->id, MCP_RPC_INVALID_PARAMS,
                             "initialize needs params.protocolVersion (a string)");
    const char *want = json_string_value(v);
    const char *version = mcp_protocol_supported(want) ? want : MCP_PROTOCOL_LATEST;
    for (size_t i = 0; i < MCP_NVERSIONS; i++)
        if (strcmp(version, mcp_versions[i]) == 0)
            version = mcp_versions[i]; /* a static string, not the request's */
    json_t *result = json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion",
                               version, "capabilities", "tools", "listChanged", 0, "serverInfo",
                               "name", "loupe", "title", "loupe OpenTelemetry viewer", "version",
                               env->version != NULL ? env->version : "unknown", "instructions",
                               mcp_instructions);
    return result != NULL ? mcp_rpc_result(m->id, result) : NULL;
}

static json_t *mcp_tools_call_rpc(const mcp_msg *m, const mcp_env *env) {
    json_t *name = json_object_get(m->params, "name");
    json_t *args = json_object_get(m->params, "arguments");
    if (!json_is_string(name))
        return mcp_rpc_error(m->id, MCP_RPC_INVALID_PARAMS,
                             "tools/call needs params.name (a string)");
    if (args != NULL && !json_is_null(args) && !json_is_object(args))
        return mcp_rpc_error(m->id, MCP_RPC_INVALID_PARAMS,
                             "params.arguments must be an object");
    mcp_tool_env tenv = {env->api, env->ud, env->now_ns};
    json_t *result = NULL;
    int rc = mcp_tools_call(json_string_value(name), json_is_object(args) ? args : NULL, &tenv,
                            &result);
    if (rc == MCP_TOOLS_UNKNOWN) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Unknown tool: %.100s (tools/list names them)",
                 json_string_value(name));
        /* the name may have been cut inside a UTF-8 sequence */
        json_t *e = mcp_rpc_error(m->id, MCP_RPC_INVALID_PARAMS, msg);
        return e != NULL ? e : mcp_rpc_error(m->id, MCP_RPC_INVALID_PARAMS, "Unknown tool");
    }
    if (rc != MCP_TOOLS_OK)
        return mcp_rpc_error(m->id, MCP_RPC_INTERNAL_ERROR, "out of memory");
    return mcp_rpc_result(m->id, result);
}

/* The answer to one message: a response (new reference), or NULL when the
 * message needs none (a notification, a client's response) or memory ran
 * out (*oom set). */
static json_t *mcp_answer(json_t *msg, const mcp_env *env, int in_batch, int *oom) {
    mcp_msg m;
    json_t *r = NULL;
    mcp_rpc_classify(msg, &m);
    switch (m.kind) {
    case MCP_MSG_INVALID:
        r = mcp_rpc_error(m.id, MCP_RPC_INVALID_REQUEST, m.why);
        break;
    case MCP_MSG_NOTIFICATION:
    case MCP_MSG_RESPONSE:
        return NULL; /* notifications/initialized, cancelled, ...: nothing to do */
    case MCP_MSG_REQUEST:
        if (strcmp(m.method, "initialize") == 0)
            r = in_batch ? mcp_rpc_error(m.id, MCP_RPC_INVALID_REQUEST,
                                         "initialize must not be part of a batch")
                         : mcp_initialize(&m, env);
        else if (strcmp(m.method, "ping") == 0)
            r = mcp_rpc_result(m.id, json_object());
        else if (strcmp(m.method, "tools/list") == 0)
            r = mcp_rpc_result(m.id, json_pack("{s:o}", "tools", mcp_tools_list()));
        else if (strcmp(m.method, "tools/call") == 0)
            r = mcp_tools_call_rpc(&m, env);
        else
            r = mcp_rpc_error(m.id, MCP_RPC_METHOD_NOT_FOUND, "Method not found");
        break;
    }
    if (r == NULL)
        *oom = 1;
    return r;
}

/* Writes doc into out as compact JSON. Returns 0 or -1. */
static int mcp_dump(json_t *doc, buf *out) {
    buf_reset(out);
    char *s = json_dumps(doc, JSON_COMPACT);
    int rc = s != NULL && buf_append_str(out, s) == BUF_OK ? 0 : -1;
    free(s);
    return rc;
}

/* A JSON array of messages (2025-03-26 only). */
static int mcp_batch(json_t *batch, const mcp_env *env, buf *out, int *oom) {
    size_t n = json_array_size(batch);
    if (n == 0) {
        json_t *e = mcp_rpc_error(NULL, MCP_RPC_INVALID_REQUEST, "an empty batch");
        int st = e != NULL && mcp_dump(e, out) == 0 ? 400 : 500;
        json_decref(e);
        return st;
    }
    if (n > MCP_MAX_BATCH)
        return mcp_refuse(out, 400, MCP_RPC_INVALID_REQUEST, "a batch holds at most 64 messages");
    json_t *answers = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(batch, i, m) {
        json_t *r = mcp_answer(m, env, 1, oom);
        if (r != NULL)
            json_array_append_new(answers, r);
    }
    int st = json_array_size(answers) == 0 ? 202 : mcp_dump(answers, out) == 0 ? 200 : 500;
    if (st == 202)
        buf_reset(out);
    json_decref(answers);
    return st;
}

int mcp_handle(const mcp_http_request *r, const mcp_env *env, buf *out, const char **allow) {
    *allow = NULL;
    buf_reset(out);
    if (r->method == NULL || strcmp(r->method, "POST") != 0) {
        *allow = "POST";
        return mcp_refuse(out, 405, MCP_RPC_TRANSPORT_ERROR,
                          "Method not allowed: POST JSON-RPC messages to /mcp (this server "
                          "opens no SSE stream and keeps no sessions)");
    }
    const char *version = r->protocol_version != NULL ? r->protocol_version : MCP_PROTOCOL_DEFAULT;
    if (!mcp_protocol_supported(version))
        return mcp_refuse(out, 400, MCP_RPC_TRANSPORT_ERROR,
                          "Bad Request: unsupported MCP-Protocol-Version (supported: "
                          "2025-11-25, 2025-06-18, 2025-03-26)");
    if (!mcp_accepts_json(r->accept))
        return mcp_refuse(out, 406, MCP_RPC_TRANSPORT_ERROR,
                          "Not Acceptable: the client must accept application/json");
    if (!http_util_media_type_is(r->content_type, "application/json"))
        return mcp_refuse(out, 415, MCP_RPC_TRANSPORT_ERROR,
                          "Unsupported Media Type: the body must be application/json");
    if (r->body_len > MCP_MAX_BODY)
        return mcp_refuse(out, 413, MCP_RPC_TRANSPORT_ERROR, "Payload Too Large");
    json_error_t jerr;
    json_t *doc = json_loadb(r->body != NULL ? r->body : "", r->body_len,
                             JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return mcp_refuse(out, 400, MCP_RPC_PARSE_ERROR, "Parse error: the body is not JSON");
    int oom = 0, status;
    if (json_is_array(doc)) {
        if (strcmp(version, MCP_PROTOCOL_DEFAULT) != 0) {
            json_decref(doc);
            return mcp_refuse(out, 400, MCP_RPC_INVALID_REQUEST,
                              "Invalid Request: JSON-RPC batches are not part of MCP since "
                              "2025-06-18; send one message per request");
        }
        status = mcp_batch(doc, env, out, &oom);
    } else {
        mcp_msg m;
        mcp_rpc_classify(doc, &m);
        json_t *answer = mcp_answer(doc, env, 0, &oom);
        if (answer == NULL)
            status = oom ? 500 : 202;
        else
            status = mcp_dump(answer, out) != 0 ? 500 : m.kind == MCP_MSG_INVALID ? 400 : 200;
        json_decref(answer);
    }
    json_decref(doc);
    if (status == 500 || oom)
        return mcp_refuse(out, 500, MCP_RPC_INTERNAL_ERROR, "Internal error: out of memory");
    return status;
}
