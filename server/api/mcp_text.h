/* mcp_text.h - the bounded plain text of an MCP tool's answer (times,
 * durations and clipped strings are util/textfmt.h).
 *
 * A tool writes its answer line by line into an mcp_text. Lines are
 * counted against a budget (MCP_TEXT_MAX characters in all, with room kept
 * for a closing note); once a line does not fit, it and every later line
 * are counted as left out instead of written, so an answer is never cut in
 * the middle of a line. mcp_text_finish() then adds what was left out and
 * how to narrow the question. Pure: no I/O.
 */
#ifndef LOUPE_MCP_TEXT_H
#define LOUPE_MCP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MCP_TEXT_MAX 20000    /* characters (bytes) of an answer */
#define MCP_TEXT_RESERVE 600  /* kept for the closing note */

typedef struct mcp_text {
    buf out;          /* the answer; owned, released by mcp_text_free */
    size_t limit;     /* bytes the lines may use */
    size_t left_out;  /* lines not written */
    int full;         /* a line did not fit: later lines are left out too */
} mcp_text;

void mcp_text_init(mcp_text *t);
void mcp_text_free(mcp_text *t);

/* Appends one line (a newline is added) unless the budget is spent, in
 * which case it counts as left out. Returns 1 when written, 0 when not. */
int mcp_text_line(mcp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts n more items as left out without writing them. */
void mcp_text_skip(mcp_text *t, size_t n);

/* 1 once a line was left out. */
int mcp_text_is_full(const mcp_text *t);

/* Adds the closing note when lines were left out: how many, and `narrow`
 * (how to ask a smaller question; may be NULL). The note always fits. */
void mcp_text_finish(mcp_text *t, const char *what, const char *narrow);

/* The answer's text (NUL-terminated; "" when nothing was written). */
const char *mcp_text_str(const mcp_text *t);

/* A number in a short form: integers as such, others with up to 4
 * significant digits ("0.02", "1.235e+06"). */
void mcp_fmt_number(double v, char *out, size_t outlen);

#endif
