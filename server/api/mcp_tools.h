/* mcp_tools.h - the MCP tools: their names, input schemas and calls.
 *
 * Every tool reads loupe through the JSON API, in process (an mcp_api_fn
 * that answers a GET of an /api/v1 path as ui.c would), and answers with a
 * compact plain text written for a model (mcp_text.h: at most
 * MCP_TEXT_MAX characters, saying what was left out and how to narrow the
 * question). The tools never touch the store themselves.
 */
#ifndef LOUPE_MCP_TOOLS_H
#define LOUPE_MCP_TOOLS_H

#include <stdint.h>

#include <jansson.h>

#include "util/buf.h"

/* Answers GET target (an /api/v1 path and query, percent-encoded) into out
 * (a JSON document: the answer or the API's error object) and returns the
 * HTTP status. */
typedef int (*mcp_api_fn)(void *ud, const char *target, buf *out);

typedef struct mcp_tool_env {
    mcp_api_fn api;
    void *ud;       /* passed to api */
    uint64_t now_ns; /* the time "since" counts back from (unix ns) */
} mcp_tool_env;

#define MCP_TOOLS_OK 0
#define MCP_TOOLS_UNKNOWN -1 /* no tool has that name */
#define MCP_TOOLS_ENOMEM -2

/* The tools/list result's "tools" array: name, title, description,
 * inputSchema and annotations of each. A new reference, or NULL when out
 * of memory. */
json_t *mcp_tools_list(void);

/* Calls tool `name` with `args` (an object, or NULL for none; borrowed).
 * Returns MCP_TOOLS_OK with *result set to a CallToolResult object
 * ({"content":[{"type":"text","text":...}],"isError":...}, a new
 * reference): bad arguments and failed queries are answers with isError
 * true, as MCP asks. MCP_TOOLS_UNKNOWN or MCP_TOOLS_ENOMEM otherwise. */
int mcp_tools_call(const char *name, json_t *args, const mcp_tool_env *env, json_t **result);

#endif
