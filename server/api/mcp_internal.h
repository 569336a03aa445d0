/* mcp_internal.h - what the MCP tool files share: a call's state, argument
 * readers, the API request builder and the tool table entries. */
#ifndef LOUPE_MCP_INTERNAL_H
#define LOUPE_MCP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mcp_text.h"
#include "mcp_tools.h"
#include "util/buf.h"
#include "util/textfmt.h"

/* Biggest API answer a tool reads (a large trace, a page of 1000 logs). */
#define MCP_API_MAX_BYTES (32u << 20)

/* One tool call. */
typedef struct mcp_call {
    const mcp_tool_env *env;
    json_t *args;     /* an object (empty when none were given); borrowed */
    mcp_text text;    /* the answer */
    int is_error;     /* the answer is a tool error (isError: true) */
    buf target;       /* the API request being built */
    int target_query; /* a '?' was written to target */
    int target_bad;   /* target outgrew its cap: the request is not sent */
    uint64_t window_start, window_end; /* the window asked for (0 = open) */
} mcp_call;

/* A tool: its table entry. props() adds the input schema's properties
 * (and names the required ones); run() writes the answer into c->text. */
typedef struct mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    void (*props)(json_t *props, json_t *required);
    void (*run)(mcp_call *c);
} mcp_tool;

extern const mcp_tool mcp_tool_list_services;
extern const mcp_tool mcp_tool_search_traces;
extern const mcp_tool mcp_tool_get_trace;
extern const mcp_tool mcp_tool_search_logs;
extern const mcp_tool mcp_tool_list_errors;
extern const mcp_tool mcp_tool_service_map;
extern const mcp_tool mcp_tool_get_metric;
extern const mcp_tool mcp_tool_ingest_requests;
extern const mcp_tool mcp_tool_lint;

/* ---- schemas (mcp_tools.c) ---- */

/* Adds a property {"type": type, "description": description}. */
void mcp_prop(json_t *props, const char *name, const char *type, const char *description);
/* Adds an integer property with bounds. */
void mcp_prop_int(json_t *props, const char *name, long min, long max, const char *description);
/* Adds a string property limited to the given words (NULL-terminated). */
void mcp_prop_enum(json_t *props, const char *name, const char *const *words,
                   const char *description);
/* Adds an array-of-strings property. */
void mcp_prop_strings(json_t *props, const char *name, const char *description);
/* since, start and end. */
void mcp_prop_window(json_t *props, const char *default_since);

/* ---- the answer (mcp_tools.c) ---- */

/* Makes the answer a tool error with this one line (what was written so
 * far is replaced). */
void mcp_fail(mcp_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- arguments (mcp_tools.c): each returns 0, or -1 after mcp_fail ---- */

/* A string argument; *out is NULL when absent or "". */
int mcp_arg_string(mcp_call *c, const char *name, const char **out);
/* An integer argument in min..max; def when absent. */
int mcp_arg_int(mcp_call *c, const char *name, long min, long max, long def, long *out);
/* An array of strings (at most max); *out is NULL when absent. */
int mcp_arg_strings(mcp_call *c, const char *name, size_t max, json_t **out);

/* ---- API requests (mcp_tools.c) ---- */

/* Starts a request for path (percent-encoded by the caller where needed). */
void mcp_q_path(mcp_call *c, const char *path);
/* Adds key=value (percent-encoded here); nothing when value is NULL. */
void mcp_q_param(mcp_call *c, const char *key, const char *value);
void mcp_q_param_u64(mcp_call *c, const char *key, uint64_t value);
/* Passes string argument `arg` on as parameter `key`. Returns 0 or -1. */
int mcp_q_arg(mcp_call *c, const char *arg, const char *key);
/* attrs (an array of filter strings) as repeated attr=. Returns 0 or -1. */
int mcp_q_attrs(mcp_call *c);
/* since/start/end as start/end, default_since (a duration or NULL for an
 * open window) when none is given; sets c->window_*. Returns 0 or -1. */
int mcp_q_window(mcp_call *c, const char *default_since);
/* The window mcp_q_window() read, as start and end of the request being
 * built (a second request of the same call). */
void mcp_q_window_params(mcp_call *c);
/* Sends the request. On 200 returns 0 with *doc (a new reference). A 404
 * returns 1 (no *doc) with the API's message in msg. Anything else is -1
 * after mcp_fail (the API's message, which names a bad parameter). */
int mcp_fetch(mcp_call *c, json_t **doc, char *msg, size_t msglen);

/* ---- reading API documents (mcp_tools.c) ---- */

/* o[key] as a string ("" when absent or not a string). */
const char *mcp_j_str(json_t *o, const char *key);
/* o[key] as a number (integers and reals; def when absent). */
double mcp_j_num(json_t *o, const char *key, double def);
/* o[key], a decimal string of unix ns, as a number (0 when absent). */
uint64_t mcp_j_ns(json_t *o, const char *key);
/* Up to max attributes of an object {"k":v,...} as "k=v k=v" into out. */
void mcp_j_attrs(json_t *attrs, size_t max, char *out, size_t outlen);
/* A JSON value as short text (strings unquoted), clipped to max bytes. */
void mcp_j_text(json_t *v, size_t max, char *out, size_t outlen);
/* The window asked for, as text: "since 2024-05-01T12:00:00.000Z", "all
 * stored data", ... */
void mcp_window_text(const mcp_call *c, char *out, size_t outlen);

#endif
