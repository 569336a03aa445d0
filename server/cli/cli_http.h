/* cli_http.h - the command line's HTTP client (libcurl): GET a JSON
 * document, stream an answer into a callback, POST a file, each against a
 * running loupe, with the UI token as a bearer token.
 *
 * Failures come back as one of a few codes with a one-line message that
 * says what to do (start loupe, pass the token); the API's own error
 * message is used when the server answered with one.
 */
#ifndef LOUPE_CLI_HTTP_H
#define LOUPE_CLI_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"

#define CLI_HTTP_OK 0
#define CLI_HTTP_EUNREACHABLE -1  /* no connection (refused, no such host, timeout) */
#define CLI_HTTP_EUNAUTHORIZED -2 /* 401: no or a wrong token */
#define CLI_HTTP_ESTATUS -3       /* another answer than 2xx */
#define CLI_HTTP_EIO -4           /* broken transfer, out of memory, a local file */

typedef struct cli_http {
    const char *base;  /* "http://localhost:18888" (no trailing slash); borrowed */
    const char *token; /* the UI token; NULL = none; borrowed */
    long timeout_ms;   /* a whole request; 0 = none (streams) */
    long status;       /* the last answer's HTTP status (0 without one) */
    char err[600];     /* the last failure, one line */
} cli_http;

/* Once per process, before the first request. Returns 0 or -1. */
int cli_http_global_init(void);
void cli_http_global_cleanup(void);

/* GETs base + target (an absolute path with its query, encoded) into out
 * (capped by its max). Returns CLI_HTTP_OK for a 2xx, or a CLI_HTTP_E*
 * code with h->err set (the body, if any, is still in out). */
int cli_http_get(cli_http *h, const char *target, buf *out);

/* Receives the answer's bytes as they arrive; returns 0 to go on, -1 to
 * stop the transfer (then the call fails with CLI_HTTP_EIO unless
 * h->err was left empty by the sink, which means a wanted stop). */
typedef int (*cli_http_sink)(void *ud, const char *data, size_t len);

/* GETs target and feeds a 2xx body to sink as it arrives (exports, SSE).
 * Non-2xx bodies are read into h->err instead. */
int cli_http_stream(cli_http *h, const char *target, const char *accept, cli_http_sink sink,
                    void *ud);

/* POSTs the contents of f (read to its end, streamed) to target with the
 * given Content-Type; the answer goes into out. */
int cli_http_post_file(cli_http *h, const char *target, const char *content_type, FILE *f,
                       buf *out);

#endif
