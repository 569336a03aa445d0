/* mcp_rpc.c - JSON-RPC 2.0 message validation and answers, see mcp_rpc.h. */
#include "mcp_rpc.h"

#include <string.h>

/* MCP ids: a string or an integer (JSON-RPC allows null; MCP does not). */
static int mcp_rpc_id_ok(const json_t *id) {
    return json_is_string(id) || json_is_integer(id);
}

static void mcp_rpc_invalid(mcp_msg *out, json_t *id, const char *why) {
    out->kind = MCP_MSG_INVALID;
    out->id = id != NULL && mcp_rpc_id_ok(id) ? id : NULL;
    out->method = NULL;
    out->params = NULL;
    out->why = why;
}

/* A response from the client: exactly one of result and error, an id. */
static void mcp_rpc_response(json_t *m, json_t *id, mcp_msg *out) {
    json_t *result = json_object_get(m, "result");
    json_t *error = json_object_get(m, "error");
    if ((result != NULL) == (error != NULL)) {
        mcp_rpc_invalid(out, id, "a response has exactly one of 'result' and 'error'");
        return;
    }
    if (error != NULL && (!json_is_object(error) ||
                          !json_is_integer(json_object_get(error, "code")) ||
                          !json_is_string(json_object_get(error, "message")))) {
        mcp_rpc_invalid(out, id, "'error' must be an object with an integer 'code' and a "
                                 "string 'message'");
        return;
    }
    if (id == NULL || !mcp_rpc_id_ok(id)) {
        mcp_rpc_invalid(out, NULL, "a response needs a string or integer 'id'");
        return;
    }
    out->kind = MCP_MSG_RESPONSE;
    out->id = id;
}

void mcp_rpc_classify(json_t *m, mcp_msg *out) {
    memset(out, 0, sizeof(*out));
    if (!json_is_object(m)) {
        mcp_rpc_invalid(out, NULL, "a JSON-RPC message is a JSON object");
        return;
    }
    json_t *id = json_object_get(m, "id");
    json_t *version = json_object_get(m, "jsonrpc");
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
        mcp_rpc_invalid(out, id, "'jsonrpc' must be \"2.0\"");
        return;
    }
    json_t *method = json_object_get(m, "method");
    if (method == NULL) {
        mcp_rpc_response(m, id, out);
        return;
    }
    if (!json_is_string(method) || json_string_length(method) == 0 ||
        strlen(json_string_value(method)) != json_string_length(method)) {
        mcp_rpc_invalid(out, id, "'method' must be a non-empty string");
        return;
    }
    if (id != NULL && !mcp_rpc_id_ok(id)) {
        mcp_rpc_invalid(out, NULL, "'id' must be a string or an integer");
        return;
    }
    json_t *params = json_object_get(m, "params");
    if (params != NULL && !json_is_object(params)) {
        mcp_rpc_invalid(out, id, "'params' must be an object");
        return;
    }
    if (json_object_get(m, "result") != NULL || json_object_get(m, "error") != NULL) {
        mcp_rpc_invalid(out, id, "a request has no 'result' or 'error'");
        return;
    }
    out->kind = id != NULL ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
    out->id = id;
    out->method = json_string_value(method);
    out->params = params;
}

json_t *mcp_rpc_result(json_t *id, json_t *result) {
    if (result == NULL)
        return NULL;
    json_t *r = json_object();
    if (r == NULL || json_object_set_new(r, "jsonrpc", json_string("2.0")) != 0 ||
        json_object_set(r, "id", id != NULL ? id : json_null()) != 0) {
        json_decref(r);
        json_decref(result);
        return NULL;
    }
    /* json_object_set_new() takes result even when it fails */
    if (json_object_set_new(r, "result", result) != 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *mcp_rpc_error(json_t *id, int code, const char *message) {
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
                     id != NULL ? id : json_null(), "error", "code", code, "message",
                     message != NULL ? message : "");
}
