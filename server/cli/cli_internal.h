/* cli_internal.h - what the command files share: the options every command
 * takes, the context of a run, messages and exit statuses. */
#ifndef LOUPE_CLI_INTERNAL_H
#define LOUPE_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "cli_http.h"
#include "util/buf.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* the server is unreachable or refused; an expectation failed */
#define CLI_EXIT_USAGE 2 /* bad arguments */

#define CLI_DEFAULT_SERVER "http://localhost:18888"
#define CLI_JSON_MAX ((size_t)256 << 20) /* the largest API answer read whole */

/* One command's run. */
typedef struct cli_ctx {
    const char *cmd;    /* "traces", for messages */
    char server[1024];  /* base URL without a trailing slash */
    const char *token;  /* NULL = none */
    int json;           /* --json */
    size_t width;       /* the terminal's width when stdout is one, else 0 */
    cli_http http;
} cli_ctx;

/* An option of a command: --name (with a value when arg is set). */
typedef struct cli_opt {
    const char *name;
    int arg;
    int id;
} cli_opt;

#define CLI_ARG_WORD 0    /* a positional word (in *value) */
#define CLI_ARG_DONE -1   /* no more arguments */
#define CLI_ARG_BAD -2    /* a usage error, already printed */
#define CLI_ARG_HELP -3   /* --help: the command's help is printed */
#define CLI_ARG_DASHES -4 /* "--": the rest are words (argv[*i] is the first) */

/* Prepares a context: --server/LOUPE_SERVER, LOUPE_UI_TOKEN, the terminal
 * width. */
void cli_ctx_init(cli_ctx *c, const char *cmd);

/* The next argument: one of opts (returns its id > 0, *value its value),
 * a common option (--server, --ui-token, --json when json_ok, handled
 * here and skipped), a word, or the end. Moves *i on. */
int cli_next_arg(cli_ctx *c, int argc, char **argv, int *i, const cli_opt *opts, int json_ok,
                 const char **value);

/* The arguments of a command with no options of its own (only the common
 * ones, --json when json_ok): up to max words into words[] (*n of them).
 * Returns -1 to go on, else the exit status (help printed, usage error). */
int cli_simple_args(cli_ctx *c, int argc, char **argv, int json_ok, const char **words, int max,
                    int *n);

/* "loupe CMD: message" on stderr. Returns code. */
int cli_fail(const cli_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A usage error: the message and "see loupe CMD --help". Returns 2. */
int cli_usage(const cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit status for a failed request (its message printed). */
int cli_http_fail(const cli_ctx *c, int rc);

/* Prints the help of command cmd (NULL: the overview). */
void cli_help(FILE *out, const char *cmd);

struct json_t; /* jansson's */

/* GETs target (path and query) into a JSON document (*doc, a new
 * reference); with echo the body is printed as it came too. Returns -1 on
 * success, else the exit status after a message (the server unreachable,
 * refused, or not answering JSON). (cli_query.c) */
int cli_get_json(cli_ctx *c, const char *target, int echo, struct json_t **doc);

/* Unix nanoseconds now. */
uint64_t cli_now_ns(void);

/* "2024-05-01 14:00:00.123" in local time. */
void cli_fmt_local(uint64_t ns, char *out, size_t outlen);

/* The commands. */
int cli_services(int argc, char **argv);
int cli_traces(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_logs(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_expect(int argc, char **argv);
int cli_run(int argc, char **argv, const cli_host *host);
int cli_lint(int argc, char **argv);

#endif
