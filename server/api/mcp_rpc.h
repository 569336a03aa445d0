/* mcp_rpc.h - JSON-RPC 2.0 messages as MCP uses them: what a message is,
 * whether it is valid, and the response and error objects.
 *
 * Pure functions over jansson values, no I/O, so they are unit-tested and
 * fuzzed alone. MCP narrows JSON-RPC: an id is a string or an integer
 * (never null), and params, when present, is an object.
 */
#ifndef LOUPE_MCP_RPC_H
#define LOUPE_MCP_RPC_H

#include <jansson.h>

/* JSON-RPC 2.0 error codes. */
#define MCP_RPC_PARSE_ERROR -32700
#define MCP_RPC_INVALID_REQUEST -32600
#define MCP_RPC_METHOD_NOT_FOUND -32601
#define MCP_RPC_INVALID_PARAMS -32602
#define MCP_RPC_INTERNAL_ERROR -32603

typedef enum mcp_msg_kind {
    MCP_MSG_INVALID = 0,  /* not a JSON-RPC 2.0 message MCP accepts: answer error */
    MCP_MSG_REQUEST,      /* method and id: answer a result or an error */
    MCP_MSG_NOTIFICATION, /* method, no id: no answer */
    MCP_MSG_RESPONSE,     /* result or error with an id: a client's answer, no answer */
} mcp_msg_kind;

/* One message, its parts borrowed from the json_t it was read from (valid
 * while that lives). */
typedef struct mcp_msg {
    mcp_msg_kind kind;
    json_t *id;         /* REQUEST and RESPONSE; for INVALID the id when it was
                           a valid one (so the error can name it), else NULL */
    const char *method; /* REQUEST and NOTIFICATION */
    json_t *params;     /* an object, or NULL when absent */
    const char *why;    /* INVALID: what is wrong (static text) */
} mcp_msg;

/* Classifies m (any JSON value). Never fails: anything that is not a valid
 * request, notification or response is MCP_MSG_INVALID with a reason. */
void mcp_rpc_classify(json_t *m, mcp_msg *out);

/* {"jsonrpc":"2.0","id":id,"result":result}. Takes the reference to result;
 * id is borrowed (copied by reference count). NULL when out of memory. */
json_t *mcp_rpc_result(json_t *id, json_t *result);

/* {"jsonrpc":"2.0","id":id or null,"error":{"code":code,"message":message}}.
 * id may be NULL (JSON null). NULL when out of memory. */
json_t *mcp_rpc_error(json_t *id, int code, const char *message);

#endif
