/* mcp_tools.c - the tool table, input schemas, argument checks, in-process
 * API requests and what every tool shares, see mcp_tools.h. The tools
 * themselves are in mcp_tool_*.c. */
#include "mcp_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiparam.h"

#define MCP_TARGET_MAX 8192 /* an API request's path and query */

static const mcp_tool *const mcp_tools[] = {
    &mcp_tool_list_services, &mcp_tool_search_traces, &mcp_tool_get_trace,
    &mcp_tool_search_logs,   &mcp_tool_list_errors,   &mcp_tool_get_metric,
    &mcp_tool_service_map,   &mcp_tool_lint,
    &mcp_tool_ingest_requests,
};
#define MCP_NTOOLS (sizeof(mcp_tools) / sizeof(mcp_tools[0]))

/* ---- schemas ---------------------------------------------------------------- */

void mcp_prop(json_t *props, const char *name, const char *type, const char *description) {
    json_object_set_new(props, name,
                        json_pack("{s:s, s:s}", "type", type, "description", description));
}

void mcp_prop_int(json_t *props, const char *name, long min, long max, const char *description) {
    json_object_set_new(props, name,
                        json_pack("{s:s, s:I, s:I, s:s}", "type", "integer", "minimum",
                                  (json_int_t)min, "maximum", (json_int_t)max, "description",
                                  description));
}

void mcp_prop_enum(json_t *props, const char *name, const char *const *words,
                   const char *description) {
    json_t *e = json_array();
    for (size_t i = 0; words[i] != NULL; i++)
        json_array_append_new(e, json_string(words[i]));
    json_object_set_new(props, name,
                        json_pack("{s:s, s:o, s:s}", "type", "string", "enum", e, "description",
                                  description));
}

void mcp_prop_strings(json_t *props, const char *name, const char *description) {
    json_object_set_new(props, name,
                        json_pack("{s:s, s:{s:s}, s:s}", "type", "array", "items", "type",
                                  "string", "description", description));
}

void mcp_prop_window(json_t *props, const char *default_since) {
    char d[256];
    snprintf(d, sizeof(d),
             "Look back this long from now: a duration such as 15m, 1h or 2h30m (units ns, us, "
             "ms, s, m, h)%s%s.",
             default_since ? "; default " : "", default_since ? default_since : "");
    mcp_prop(props, "since", "string", d);
    mcp_prop(props, "start", "string",
             "Window start instead of since: RFC 3339 (2024-05-01T12:00:00Z) or unix "
             "nanoseconds.");
    mcp_prop(props, "end", "string", "Window end (exclusive): RFC 3339 or unix nanoseconds; "
                                     "default now.");
}

static json_t *mcp_tool_json(const mcp_tool *t) {
    json_t *props = json_object(), *required = json_array();
    t->props(props, required);
    json_t *schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                               "additionalProperties", 0);
    if (schema != NULL && json_array_size(required) > 0)
        json_object_set(schema, "required", required);
    json_decref(required);
    return json_pack("{s:s, s:s, s:s, s:o, s:{s:b, s:b, s:b}}", "name", t->name, "title",
                     t->title, "description", t->description, "inputSchema", schema,
                     "annotations", "readOnlyHint", 1, "idempotentHint", 1, "openWorldHint",
                     0);
}

json_t *mcp_tools_list(void) {
    json_t *tools = json_array();
    if (tools == NULL)
        return NULL;
    for (size_t i = 0; i < MCP_NTOOLS; i++) {
        json_t *t = mcp_tool_json(mcp_tools[i]);
        if (t == NULL || json_array_append_new(tools, t) != 0) {
            json_decref(tools);
            return NULL;
        }
    }
    return tools;
}

/* ---- the answer --------------------------------------------------------------- */

void mcp_fail(mcp_call *c, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mcp_text_free(&c->text);
    mcp_text_init(&c->text);
    mcp_text_line(&c->text, "%s", msg);
    c->is_error = 1;
}

/* ---- arguments ------------------------------------------------------------------ */

int mcp_arg_string(mcp_call *c, const char *name, const char **out) {
    json_t *v = json_object_get(c->args, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        mcp_fail(c, "Argument '%s' must be a string.", name);
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        mcp_fail(c, "Argument '%s' must not contain NUL characters.", name);
        return -1;
    }
    if (json_string_length(v) > 0)
        *out = json_string_value(v);
    return 0;
}

int mcp_arg_int(mcp_call *c, const char *name, long min, long max, long def, long *out) {
    json_t *v = json_object_get(c->args, name);
    *out = def;
    if (v == NULL || json_is_null(v))
        return 0;
    double d = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
    if (!json_is_number(v) || d != floor(d) || d < (double)min || d > (double)max) {
        mcp_fail(c, "Argument '%s' must be an integer from %ld to %ld.", name, min, max);
        return -1;
    }
    *out = (long)d;
    return 0;
}

int mcp_arg_strings(mcp_call *c, const char *name, size_t max, json_t **out) {
    json_t *v = json_object_get(c->args, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        /* a lone string where a list is expected: read as a list of one */
        *out = v;
        return 0;
    }
    size_t i;
    json_t *s;
    if (!json_is_array(v) || json_array_size(v) > max)
        goto bad;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            goto bad;
    }
    *out = v;
    return 0;
bad:
    mcp_fail(c, "Argument '%s' must be an array of at most %zu strings.", name, max);
    return -1;
}

/* ---- API requests ------------------------------------------------------------------- */

void mcp_q_path(mcp_call *c, const char *path) {
    buf_reset(&c->target);
    c->target_bad = buf_append_str(&c->target, path) != BUF_OK;
    c->target_query = 0;
}

void mcp_q_param(mcp_call *c, const char *key, const char *value) {
    if (value == NULL)
        return;
    int rc = buf_append_char(&c->target, c->target_query ? '&' : '?');
    c->target_query = 1;
    if (rc == BUF_OK)
        rc = textfmt_url_encode(key, &c->target);
    if (rc == BUF_OK)
        rc = buf_append_char(&c->target, '=');
    if (rc == BUF_OK)
        rc = textfmt_url_encode(value, &c->target);
    if (rc != BUF_OK)
        c->target_bad = 1;
}

void mcp_q_param_u64(mcp_call *c, const char *key, uint64_t value) {
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
    mcp_q_param(c, key, v);
}

int mcp_q_arg(mcp_call *c, const char *arg, const char *key) {
    const char *v;
    if (mcp_arg_string(c, arg, &v) != 0)
        return -1;
    mcp_q_param(c, key, v);
    return 0;
}

int mcp_q_attrs(mcp_call *c) {
    json_t *attrs;
    if (mcp_arg_strings(c, "attrs", 16, &attrs) != 0)
        return -1;
    if (json_is_string(attrs)) {
        mcp_q_param(c, "attr", json_string_value(attrs));
        return 0;
    }
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) mcp_q_param(c, "attr", json_string_value(a));
    return 0;
}

/* A start or end argument: RFC 3339 or unix ns, read as the API reads it. */
static int mcp_arg_time(mcp_call *c, const char *name, uint64_t *ns) {
    const char *v;
    *ns = 0;
    if (mcp_arg_string(c, name, &v) != 0)
        return -1;
    if (v != NULL && apiparam_time(v, ns) != APIPARAM_OK) {
        mcp_fail(c, "Argument '%s' must be an RFC 3339 time (2024-05-01T12:00:00Z) or unix "
                    "nanoseconds.",
                 name);
        return -1;
    }
    return 0;
}

int mcp_q_window(mcp_call *c, const char *default_since) {
    const char *since;
    uint64_t start, end, d = 0;
    if (mcp_arg_string(c, "since", &since) != 0 || mcp_arg_time(c, "start", &start) != 0 ||
        mcp_arg_time(c, "end", &end) != 0)
        return -1;
    if (since != NULL && start != 0) {
        mcp_fail(c, "Give either 'since' or 'start', not both.");
        return -1;
    }
    if (since == NULL && start == 0)
        since = default_since;
    if (since != NULL && (apiparam_duration(since, &d) != APIPARAM_OK || d == 0)) {
        mcp_fail(c, "Argument 'since' must be a duration such as 15m, 1h or 2h30m (units ns, "
                    "us, ms, s, m, h).");
        return -1;
    }
    if (since != NULL)
        start = d < c->env->now_ns ? c->env->now_ns - d : 1;
    if (end != 0 && start != 0 && end <= start) {
        mcp_fail(c, "The window's end must be after its start.");
        return -1;
    }
    c->window_start = start;
    c->window_end = end;
    mcp_q_window_params(c);
    return 0;
}

void mcp_q_window_params(mcp_call *c) {
    if (c->window_start != 0)
        mcp_q_param_u64(c, "start", c->window_start);
    if (c->window_end != 0)
        mcp_q_param_u64(c, "end", c->window_end);
}

void mcp_window_text(const mcp_call *c, char *out, size_t outlen) {
    char a[40], b[40];
    textfmt_time_utc(c->window_start, a, sizeof(a));
    textfmt_time_utc(c->window_end, b, sizeof(b));
    if (c->window_start == 0 && c->window_end == 0)
        snprintf(out, outlen, "all stored data");
    else if (c->window_end == 0)
        snprintf(out, outlen, "since %s", a);
    else if (c->window_start == 0)
        snprintf(out, outlen, "before %s", b);
    else
        snprintf(out, outlen, "from %s to %s", a, b);
}

int mcp_fetch(mcp_call *c, json_t **doc, char *msg, size_t msglen) {
    *doc = NULL;
    if (msglen > 0)
        msg[0] = '\0';
    if (c->target_bad || c->target.ptr == NULL) {
        mcp_fail(c, "The query is too long (at most %d bytes of filters); use fewer or shorter "
                    "filters.",
                 MCP_TARGET_MAX);
        return -1;
    }
    buf out;
    buf_init(&out, MCP_API_MAX_BYTES);
    int status = c->env->api(c->env->ud, c->target.ptr, &out);
    json_error_t jerr;
    json_t *d = out.len > 0 ? json_loadb(out.ptr, out.len, 0, &jerr) : NULL;
    buf_free(&out);
    if (status == 200 && d != NULL) {
        *doc = d;
        return 0;
    }
    const char *why = mcp_j_str(json_object_get(d, "error"), "message");
    if (status == 404) {
        snprintf(msg, msglen, "%s", why[0] ? why : "not found");
        json_decref(d);
        return 1;
    }
    if (status == 400)
        mcp_fail(c, "loupe refused the query: %s.", why[0] ? why : "bad request");
    else
        mcp_fail(c, "loupe could not answer (HTTP %d): %s.", status,
                 why[0] ? why : "no details");
    json_decref(d);
    return -1;
}

/* ---- reading API documents --------------------------------------------------------- */

const char *mcp_j_str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

double mcp_j_num(json_t *o, const char *key, double def) {
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

uint64_t mcp_j_ns(json_t *o, const char *key) {
    return textfmt_parse_ns(json_string_value(json_object_get(o, key)));
}

void mcp_j_text(json_t *v, size_t max, char *out, size_t outlen) {
    if (json_is_string(v)) {
        textfmt_clip(json_string_value(v), max, out, outlen);
        return;
    }
    if (v == NULL || json_is_null(v)) {
        textfmt_clip("", max, out, outlen);
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    textfmt_clip(s != NULL ? s : "?", max, out, outlen);
    free(s);
}

void mcp_j_attrs(json_t *attrs, size_t max, char *out, size_t outlen) {
    size_t n = 0;
    const char *k;
    json_t *v;
    out[0] = '\0';
    json_object_foreach(attrs, k, v) {
        char val[128], key[96];
        if (n == max) {
            textfmt_append(out, outlen, " ", "(+%zu more)", json_object_size(attrs) - n);
            return;
        }
        textfmt_clip(k, 80, key, sizeof(key));
        mcp_j_text(v, 100, val, sizeof(val));
        if (!textfmt_append(out, outlen, " ", "%s=%s", key, val))
            return;
        n++;
    }
}

/* ---- calls ------------------------------------------------------------------------- */

static const mcp_tool *mcp_tool_find(const char *name) {
    for (size_t i = 0; i < MCP_NTOOLS; i++)
        if (strcmp(mcp_tools[i]->name, name) == 0)
            return mcp_tools[i];
    return NULL;
}

/* Every argument must be one of the tool's properties: a misspelt filter
 * would otherwise be ignored silently. Returns 0 or -1 after mcp_fail. */
static int mcp_args_known(mcp_call *c, const mcp_tool *t) {
    json_t *props = json_object(), *required = json_array();
    t->props(props, required);
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(c->args, k, v) {
        if (json_object_get(props, k) == NULL) {
            char known[512] = "";
            const char *pk;
            json_t *pv;
            json_object_foreach(props, pk, pv) textfmt_append(known, sizeof(known), ", ", "%s", pk);
            char shown[100];
            textfmt_clip(k, 64, shown, sizeof(shown));
            mcp_fail(c, "Unknown argument '%s' for %s; its arguments are: %s.", shown, t->name,
                     known[0] ? known : "none");
            rc = -1;
            break;
        }
    }
    size_t i;
    json_array_foreach(required, i, v) {
        if (rc == 0 && json_object_get(c->args, json_string_value(v)) == NULL) {
            mcp_fail(c, "Argument '%s' is required.", json_string_value(v));
            rc = -1;
        }
    }
    json_decref(props);
    json_decref(required);
    return rc;
}

int mcp_tools_call(const char *name, json_t *args, const mcp_tool_env *env, json_t **result) {
    *result = NULL;
    const mcp_tool *t = mcp_tool_find(name);
    if (t == NULL)
        return MCP_TOOLS_UNKNOWN;
    mcp_call c;
    memset(&c, 0, sizeof(c));
    c.env = env;
    c.args = args != NULL ? json_incref(args) : json_object();
    mcp_text_init(&c.text);
    buf_init(&c.target, MCP_TARGET_MAX);
    if (c.args == NULL)
        mcp_fail(&c, "Out of memory.");
    else if (mcp_args_known(&c, t) == 0)
        t->run(&c);
    *result = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
                        mcp_text_str(&c.text), "isError", c.is_error);
    json_decref(c.args);
    buf_free(&c.target);
    mcp_text_free(&c.text);
    return *result != NULL ? MCP_TOOLS_OK : MCP_TOOLS_ENOMEM;
}
