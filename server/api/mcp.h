/* mcp.h - the Model Context Protocol endpoint /mcp on the UI port,
 * independent of the HTTP library.
 *
 * The Streamable HTTP transport without streams: every JSON-RPC message is
 * POSTed and answered with one JSON document (never an SSE stream); GET and
 * DELETE are 405. Stateless: no Mcp-Session-Id is issued, so any request
 * may come at any time (tools/list before initialize is answered too).
 * Protocol revisions 2025-11-25 (the latest), 2025-06-18 and 2025-03-26;
 * the MCP-Protocol-Version header picks one (absent: 2025-03-26, as the
 * transport says), JSON-RPC batches are accepted only under 2025-03-26.
 * ui.c checks the Origin (mcp_origin_allowed) and the credentials before it
 * reads a body, then calls mcp_handle(). The tools are mcp_tools.h.
 */
#ifndef LOUPE_MCP_H
#define LOUPE_MCP_H

#include <stddef.h>
#include <stdint.h>

#include "mcp_tools.h"
#include "util/buf.h"

#define MCP_PATH "/mcp"
#define MCP_MAX_BODY ((size_t)1 << 20) /* a request body; larger gets 413 */
#define MCP_PROTOCOL_LATEST "2025-11-25"

/* Transport-level errors (the HTTP status says what): a JSON-RPC error
 * without id, code -32000, as the SDKs send. */
#define MCP_RPC_TRANSPORT_ERROR -32000

typedef struct mcp_http_request {
    const char *method;           /* "POST", "GET", ... */
    const char *content_type;     /* header values; NULL when absent */
    const char *accept;
    const char *protocol_version; /* MCP-Protocol-Version */
    const char *body;             /* borrowed; need not be NUL-terminated */
    size_t body_len;
} mcp_http_request;

typedef struct mcp_env {
    mcp_api_fn api;      /* the JSON API, in process (mcp_tools.h) */
    void *ud;            /* passed to api */
    const char *version; /* serverInfo.version; NULL = "unknown" */
    uint64_t now_ns;     /* unix ns, for the tools' "since" */
} mcp_env;

/* Answers one HTTP request to /mcp: writes the body into out (a JSON-RPC
 * response or a batch of them; a JSON-RPC error without id for a refused
 * request; nothing for a 202) and returns the HTTP status: 200 with a
 * response, 202 for notifications and client responses only, 400 for a
 * body that is not a valid JSON-RPC message (with the JSON-RPC error) or
 * an unsupported MCP-Protocol-Version, 405 (with *allow = "POST") for other
 * methods, 406 when Accept admits no JSON, 413 past MCP_MAX_BODY, 415 for
 * a body that is not application/json. Out of memory is a 500. */
int mcp_handle(const mcp_http_request *r, const mcp_env *env, buf *out, const char **allow);

/* The Origin check against DNS rebinding, before anything else. origin and
 * host are the request's Origin and Host headers (NULL when absent).
 * Allowed: no Origin (not a browser); an origin whose host is loopback
 * (localhost, *.localhost, 127.0.0.0/8, [::1]); an origin whose host is an
 * IP literal equal to the Host header's (a rebinding attack needs a DNS
 * name). Anything else, "null" included, is refused (answer 403). */
int mcp_origin_allowed(const char *origin, const char *host);

/* Replaces out's contents with a JSON-RPC error without id: code and
 * message (for the 403 and 413 answers ui.c sends itself). */
void mcp_error_body(buf *out, int code, const char *message);

/* 1 when version is a protocol revision this server speaks. */
int mcp_protocol_supported(const char *version);

#endif
