/* mcp_text.c - bounded tool answers and shared formats, see mcp_text.h. */
#include "mcp_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MCP_TEXT_LINE_MAX 4096 /* one line; longer lines are cut */

void mcp_text_init(mcp_text *t) {
    memset(t, 0, sizeof(*t));
    buf_init(&t->out, MCP_TEXT_MAX + 1);
    t->limit = MCP_TEXT_MAX - MCP_TEXT_RESERVE;
}

void mcp_text_free(mcp_text *t) {
    buf_free(&t->out);
}

int mcp_text_line(mcp_text *t, const char *fmt, ...) {
    if (t->full) {
        t->left_out++;
        return 0;
    }
    char line[MCP_TEXT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if ((size_t)n >= sizeof(line)) {
        /* cut at a UTF-8 boundary and say so */
        size_t cut = sizeof(line) - 4;
        while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(line + cut, "...", 4);
        len = cut + 3;
    }
    if (t->out.len + len + 1 > t->limit) {
        t->full = 1;
        t->left_out++;
        return 0;
    }
    if (buf_append(&t->out, line, len) != BUF_OK || buf_append_char(&t->out, '\n') != BUF_OK) {
        t->full = 1;
        t->left_out++;
        return 0;
    }
    return 1;
}

void mcp_text_skip(mcp_text *t, size_t n) {
    t->left_out += n;
}

int mcp_text_is_full(const mcp_text *t) {
    return t->full;
}

void mcp_text_finish(mcp_text *t, const char *what, const char *narrow) {
    if (t->left_out == 0)
        return;
    char note[MCP_TEXT_RESERVE];
    snprintf(note, sizeof(note),
             "[%zu more %s not shown: the answer is capped at %d characters.%s%s]\n",
             t->left_out, what != NULL ? what : "lines", MCP_TEXT_MAX, narrow != NULL ? " " : "",
             narrow != NULL ? narrow : "");
    buf_append_str(&t->out, note);
}

const char *mcp_text_str(const mcp_text *t) {
    return t->out.ptr != NULL ? t->out.ptr : "";
}

void mcp_fmt_number(double v, char *out, size_t outlen) {
    if (isfinite(v) && fabs(v) < 1e15 && v == floor(v))
        snprintf(out, outlen, "%.0f", v);
    else
        snprintf(out, outlen, "%.4g", v);
}

