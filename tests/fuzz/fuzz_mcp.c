/* fuzz_mcp.c - libFuzzer target for the MCP endpoint's request parser and
 * dispatch (server/api/mcp.c, mcp_rpc.c) and the tools' reading of API
 * answers (mcp_tool_*.c).
 *
 * Input: one byte choosing the MCP-Protocol-Version header (none,
 * 2025-11-25, 2025-06-18, 2025-03-26, or a bad one), the request body, and
 * optionally a NUL followed by the JSON the fake in-process API answers
 * every GET with (status 200), so hostile API documents reach the tools'
 * summaries too. Checked:
 *  - the status is one the transport documents;
 *  - every answer with a body is JSON; a 200 is a JSON-RPC 2.0 response
 *    (or a batch of them) and a 202 has no body;
 *  - a tool's text is at most MCP_TEXT_MAX characters and valid UTF-8
 *    (jansson refuses to build it otherwise);
 *  - mcp_origin_allowed() does not crash on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model_check.h"
#include "server/api/mcp.h"
#include "server/api/mcp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fz_answer;
static size_t fz_answer_len;

static int fz_api(void *ud, const char *target, buf *out) {
    (void)ud;
    (void)target;
    buf_reset(out);
    if (fz_answer == NULL)
        return 404;
    if (buf_append(out, fz_answer, fz_answer_len) != BUF_OK)
        return 500;
    return 200;
}

/* A tools/call result's text stays within the cap. */
static void fz_check_response(json_t *r) {
    MC_CHECK(json_is_object(r));
    MC_CHECK(strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") == 0);
    json_t *content = json_object_get(json_object_get(r, "result"), "content");
    size_t i;
    json_t *c;
    json_array_foreach(content, i, c) {
        const char *text = json_string_value(json_object_get(c, "text"));
        MC_CHECK(text != NULL);
        MC_CHECK(strlen(text) <= MCP_TEXT_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const versions[] = {NULL, "2025-11-25", "2025-06-18", "2025-03-26",
                                           "1999-01-01"};
    if (size == 0)
        return 0;
    const char *version = versions[data[0] % 5];
    const char *body = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nul = memchr(body, '\0', rest);
    size_t body_len = nul != NULL ? (size_t)(nul - body) : rest;
    char *answer = NULL;
    if (nul != NULL) {
        fz_answer_len = rest - body_len - 1;
        answer = malloc(fz_answer_len + 1);
        if (answer == NULL)
            abort();
        memcpy(answer, nul + 1, fz_answer_len);
        fz_answer = answer;
    } else {
        fz_answer = NULL;
    }
    char *copy = malloc(body_len + 1); /* exactly its size, for ASan */
    if (copy == NULL)
        abort();
    memcpy(copy, body, body_len);
    copy[body_len] = '\0';

    mcp_env env = {fz_api, NULL, "0.0.0", 1714567200000000000ULL};
    mcp_http_request r = {"POST", "application/json", NULL, version, copy, body_len};
    buf out;
    buf_init(&out, 8u << 20);
    const char *allow;
    int st = mcp_handle(&r, &env, &out, &allow);
    MC_CHECK(st == 200 || st == 202 || st == 400 || st == 413 || st == 500);
    if (st == 202)
        MC_CHECK(out.len == 0);
    else
        MC_CHECK(out.len > 0);
    if (out.len > 0) {
        json_t *doc = json_loadb(out.ptr, out.len, 0, NULL);
        MC_CHECK(doc != NULL);
        if (st == 200 && json_is_array(doc)) {
            size_t i;
            json_t *one;
            json_array_foreach(doc, i, one) fz_check_response(one);
        } else if (st == 200) {
            fz_check_response(doc);
        }
        json_decref(doc);
    }
    buf_free(&out);
    (void)mcp_origin_allowed(copy, copy);
    free(copy);
    free(answer);
    fz_answer = NULL;
    return 0;
}
