/* cli_filter.h - the command line's filter language, mapped onto the JSON
 * API's query parameters.
 *
 *   service=checkout name="POST /pay" status=error attr:http.route=/pay
 *   duration>200ms since=15m          (traces)
 *   service=checkout severity>=warn q="payment declined" trace=5b8e...
 *                                     (logs)
 *   http.server.requests service=checkout attr:route=/a   (metrics: the
 *                                     metric's name comes first)
 *
 * A filter is words separated by blanks, each KEY OP VALUE; a value with
 * blanks is quoted ("..." or '...'). Keys: service, name, status, q,
 * severity, trace, span, duration, since, start, end and attr:KEY (any
 * attribute, with = != ~ > <), plus the API's own names (minDuration,
 * maxDuration, minSeverity, traceId, spanId). docs/cli.md has the table.
 * Pure: parsing and query building do no I/O.
 */
#ifndef LOUPE_CLI_FILTER_H
#define LOUPE_CLI_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum cli_filter_kind {
    CLI_FILTER_TRACES = 0,
    CLI_FILTER_LOGS,
    CLI_FILTER_METRICS,
} cli_filter_kind;

#define CLI_FILTER_MAX_PARAMS 32

typedef struct cli_filter_param {
    const char *key; /* the API parameter (static) */
    char *value;     /* owned */
} cli_filter_param;

typedef struct cli_filter {
    cli_filter_kind kind;
    char *metric; /* METRICS: the metric's name (owned); NULL otherwise */
    cli_filter_param params[CLI_FILTER_MAX_PARAMS];
    size_t n;
    uint64_t since_ns; /* since=: start is now minus this */
    int has_since;
} cli_filter;

/* Parses text (the words of a filter) for a kind. Returns 0 with *f filled
 * (free with cli_filter_free), or -1 with a one-line reason in err. */
int cli_filter_parse(const char *text, cli_filter_kind kind, cli_filter *f, char *err,
                     size_t errlen);

/* The same from words already split (positional arguments). */
int cli_filter_parse_words(char *const *words, int nwords, cli_filter_kind kind, cli_filter *f,
                           char *err, size_t errlen);

/* Accepts a zeroed or parsed filter. */
void cli_filter_free(cli_filter *f);

/* The value of the first parameter named key, or NULL. */
const char *cli_filter_get(const cli_filter *f, const char *key);

/* Appends the API query ("key=value&key=value", percent-encoded, no
 * leading '?'; since= becomes start= counted back from now_ns). Returns
 * BUF_OK or a buf error. */
int cli_filter_query(const cli_filter *f, uint64_t now_ns, buf *out);

/* Appends a link into the web UI that shows what the filter selects:
 * base (the server URL) + /traces?..., /logs?... or /metrics?metric=...
 * with a time range the UI understands. */
int cli_filter_ui_link(const cli_filter *f, const char *base, uint64_t now_ns, buf *out);

#endif
