/* cli.c - the client commands' dispatch, common options, messages and
 * help, see cli.h. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli_internal.h"

#define CLI_COMMON_HELP                                                                      \
    "  --server URL         the loupe to ask (default http://localhost:18888)\n"             \
    "                       [LOUPE_SERVER]\n"                                                  \
    "  --ui-token TOKEN     the UI token, when loupe runs with token auth [LOUPE_UI_TOKEN]\n" \
    "  --help               this help\n"

#define CLI_FILTER_HELP                                                                      \
    "FILTERS are words KEY=VALUE (quote values with blanks: name=\"POST /pay\"):\n"          \
    "  service=NAME  name=SPAN-NAME  status=error|ok|unset  q=TEXT  duration>200ms\n"        \
    "  duration<=1s  severity>=warn  trace=ID  span=ID  since=15m  start=TIME  end=TIME\n"   \
    "  attr:KEY=VALUE  attr:KEY!=VALUE  attr:KEY~TEXT  attr:KEY>N  attr:KEY<N\n"           \
    "(see docs/cli.md for which apply to traces, logs and metrics)\n"

static const struct {
    const char *name;
    const char *summary;
    const char *help;
} cli_commands[] = {
    {"services", "list the services with their span, error, log and metric counts",
     "usage: loupe services [--json]\n\n"
     "The services a running loupe has telemetry from.\n\n"
     "  --json               the API's JSON document instead of a table\n" CLI_COMMON_HELP},
    {"traces", "search traces",
     "usage: loupe traces [FILTERS...] [--limit N] [--json]\n\n"
     "Trace summaries, newest first, of the traces with a span matching the filters.\n\n"
     "  --limit N            traces to list, 1..1000 (default 20)\n"
     "  --json               the API's JSON document instead of a table\n" CLI_COMMON_HELP
     "\n" CLI_FILTER_HELP},
    {"trace", "show one trace as a span tree",
     "usage: loupe trace TRACE-ID [--json]\n\n"
     "Every span of one trace, as a tree with offsets, durations and errors.\n\n"
     "  --json               the API's JSON document instead of the tree\n" CLI_COMMON_HELP},
    {"logs", "search log records, or follow them as they arrive",
     "usage: loupe logs [FILTERS...] [--limit N] [--follow] [--json]\n\n"
     "Log records, newest first; with --follow, the records committed from now on,\n"
     "oldest first, until interrupted (GET /api/v1/live).\n\n"
     "  --limit N            records to list, 1..1000 (default 50)\n"
     "  --follow             keep printing new records as they arrive\n"
     "  --json               JSON (with --follow: one record per line)\n" CLI_COMMON_HELP
     "\n" CLI_FILTER_HELP},
    {"ingest", "show the latest export requests and the clients that sent them",
     "usage: loupe ingest [--errors | --outcome LIST] [--transport grpc|http]\n"
     "                    [--service NAME] [--limit N] [--json]\n"
     "       loupe ingest --clients [--json]\n\n"
     "The export requests loupe received lately (its ingest inspector), newest first:\n"
     "how each was sent, what was in it and what loupe answered, then what to do about\n"
     "each refusal; or, with --clients, one row per client, service and SDK.\n\n"
     "  --errors             only refused requests and partial successes\n"
     "  --outcome LIST       ok, partial, error or a comma-separated list\n"
     "  --transport T        grpc or http\n"
     "  --service NAME       only requests whose resource has this service.name\n"
     "  --limit N            requests to list, 1..1000 (default 20)\n"
     "  --clients            the clients instead of the requests\n"
     "  --json               the API's JSON document instead of a table\n" CLI_COMMON_HELP},
    {"export", "save stored telemetry as OTLP JSON lines",
     "usage: loupe export FILE [--signal traces,logs,metrics]\n\n"
     "Writes what loupe stores as OTLP JSON lines (one Export*ServiceRequest per line,\n"
     "the Collector's file exporter format) to FILE, or to stdout for -.\n\n"
     "  --signal LIST        traces, logs, metrics or a comma-separated list (default all)\n"
     CLI_COMMON_HELP},
    {"import", "load OTLP JSON lines into a running loupe",
     "usage: loupe import FILE\n\n"
     "Sends an export (or any OTLP JSON) to POST /api/v1/import; - reads stdin.\n\n"
     CLI_COMMON_HELP},
    {"expect", "assert what a running loupe has received (for CI)",
     "usage: loupe expect SELECTOR [CHECKS] [SELECTOR [CHECKS]]... [--within D] [--junit FILE]\n\n"
     "Each selector picks items; the checks after it must hold for them:\n"
     "  --trace 'FILTERS'    traces with a span matching FILTERS\n"
     "  --log 'FILTERS'      log records matching FILTERS\n"
     "  --metric 'NAME FILTERS'  data points of metric NAME\n"
     "  --count N            exactly N items\n"
     "  --min-count N        at least N items (the check when none is given: 1)\n"
     "  --max-duration D     traces: none longer than D\n"
     "  --no-errors          traces: no error span; logs: no record of severity ERROR+\n"
     "  --within D           wait up to D for all to hold, polling (default: check once)\n"
     "  --junit FILE         write a JUnit XML report\n" CLI_COMMON_HELP
     "\nExit status: 0 all hold, 1 one does not (each failure is printed with links into\n"
     "the web UI), 2 usage errors (and a refused UI token).\n\n" CLI_FILTER_HELP},
    {"lint", "instrumentation mistakes in what loupe stores (for CI)",
     "usage: loupe lint [--service NAME] [--fail-on LEVEL] [--json]\n\n"
     "The instrumentation lint's findings about what a running loupe stores (a missing\n"
     "service name, orphan spans, deprecated attribute names, ...; docs/lint.md), per\n"
     "service, the most severe first, each with its count, a hint and links to examples\n"
     "in the web UI.\n\n"
     "  --service NAME       only this service's findings\n"
     "  --fail-on LEVEL      exit 1 when a finding of LEVEL or worse exists: error\n"
     "                       (default), warning, info, or never\n"
     "  --json               the API's JSON document (the exit status still follows it)\n"
     CLI_COMMON_HELP
     "\nExit status: 0 no finding at --fail-on's level or worse, 1 there is one (or the\n"
     "server could not be asked), 2 usage errors.\n"},
    {"run", "run a command against an in-memory loupe and check what it sent",
     "usage: loupe run [--expect FILE] [--junit FILE] [--save FILE] [--grace D] -- COMMAND "
     "[ARGS...]\n\n"
     "Starts an in-memory loupe on free loopback ports, runs COMMAND with\n"
     "OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_SERVICE_NAME set\n"
     "(unless set already), waits for it, lets its exporters flush, then checks the\n"
     "expectations and saves what was received. Exits with the command's status, or 1\n"
     "when it succeeded but an expectation failed.\n\n"
     "  --expect FILE        expectations, one `loupe expect` argument list per line\n"
     "                       (--trace 'service=api' --min-count 1); # starts a comment\n"
     "  --junit FILE         write a JUnit XML report of the expectations\n"
     "  --save FILE          save everything received as OTLP JSON lines (loupe import)\n"
     "  --grace D            after the command, wait until no OTLP request came for 1s,\n"
     "                       at most D (default 10s)\n"
     "  --protocol P         OTEL_EXPORTER_OTLP_PROTOCOL when unset: http/protobuf\n"
     "                       (default), http/json or grpc\n"
     "  --help               this help\n"},
};
#define CLI_NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

int cli_is_command(const char *name) {
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(name, cli_commands[i].name) == 0)
            return 1;
    return 0;
}

void cli_print_commands(FILE *out) {
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        fprintf(out, "       loupe %-12s %s\n", cli_commands[i].name, cli_commands[i].summary);
}

void cli_help(FILE *out, const char *cmd) {
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (cmd != NULL && strcmp(cmd, cli_commands[i].name) == 0) {
            fputs(cli_commands[i].help, out);
            return;
        }
    fputs("loupe client commands (loupe COMMAND --help for each):\n", out);
    cli_print_commands(out);
}

uint64_t cli_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void cli_fmt_local(uint64_t ns, char *out, size_t outlen) {
    time_t secs = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    if (ns == 0 || localtime_r(&secs, &tm) == NULL) {
        snprintf(out, outlen, "-");
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%03u", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(ns / 1000000ULL % 1000));
}

static void cli_set_server(cli_ctx *c, const char *url) {
    snprintf(c->server, sizeof(c->server), "%s", url);
    size_t n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = '\0';
}

void cli_ctx_init(cli_ctx *c, const char *cmd) {
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    const char *server = getenv("LOUPE_SERVER");
    cli_set_server(c, server != NULL && server[0] != '\0' ? server : CLI_DEFAULT_SERVER);
    const char *token = getenv("LOUPE_UI_TOKEN");
    c->token = token != NULL && token[0] != '\0' ? token : NULL;
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        c->width = ws.ws_col;
    else if (isatty(STDOUT_FILENO))
        c->width = 80;
    c->http.base = c->server;
    c->http.token = c->token;
    c->http.timeout_ms = 60000;
}

int cli_fail(const cli_ctx *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loupe %s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_usage(const cli_ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loupe %s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see loupe %s --help)\n", c->cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_http_fail(const cli_ctx *c, int rc) {
    (void)rc;
    return cli_fail(c, CLI_EXIT_FAIL, "%s", c->http.err);
}

/* Common options: --server, --ui-token, --json. Returns 1 when argv[*i]
 * was one (consumed), 0 when not, CLI_ARG_BAD on a missing value. */
static int cli_common_opt(cli_ctx *c, const char *name, size_t nlen, const char *inline_value,
                          int argc, char **argv, int *i, int json_ok) {
    static const char *const with_value[] = {"server", "ui-token"};
    for (size_t k = 0; k < 2; k++) {
        if (strlen(with_value[k]) != nlen || strncmp(name, with_value[k], nlen) != 0)
            continue;
        const char *v = inline_value;
        if (v == NULL && *i + 1 < argc)
            v = argv[++*i];
        if (v == NULL || v[0] == '\0') {
            cli_usage(c, "--%s needs a value", with_value[k]);
            return CLI_ARG_BAD;
        }
        if (k == 0)
            cli_set_server(c, v);
        else
            c->token = v;
        c->http.token = c->token;
        return 1;
    }
    if (json_ok && nlen == 4 && strncmp(name, "json", 4) == 0 && inline_value == NULL) {
        c->json = 1;
        return 1;
    }
    return 0;
}

int cli_next_arg(cli_ctx *c, int argc, char **argv, int *i, const cli_opt *opts, int json_ok,
                 const char **value) {
    for (;;) {
        *value = NULL;
        if (++*i >= argc)
            return CLI_ARG_DONE;
        const char *a = argv[*i];
        if (strcmp(a, "--") == 0) {
            ++*i;
            return CLI_ARG_DASHES;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            *value = a;
            return CLI_ARG_WORD;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if (nlen == 4 && strncmp(name, "help", 4) == 0) {
            cli_help(stdout, c->cmd);
            return CLI_ARG_HELP;
        }
        int common = cli_common_opt(c, name, nlen, eq != NULL ? eq + 1 : NULL, argc, argv, i,
                                    json_ok);
        if (common == CLI_ARG_BAD)
            return CLI_ARG_BAD;
        if (common == 1)
            continue;
        for (const cli_opt *o = opts; o != NULL && o->name != NULL; o++) {
            if (strlen(o->name) != nlen || strncmp(o->name, name, nlen) != 0)
                continue;
            if (!o->arg) {
                if (eq != NULL) {
                    cli_usage(c, "--%s takes no value", o->name);
                    return CLI_ARG_BAD;
                }
                return o->id;
            }
            *value = eq != NULL ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
            if (*value == NULL) {
                cli_usage(c, "--%s needs a value", o->name);
                return CLI_ARG_BAD;
            }
            return o->id;
        }
        cli_usage(c, "unknown option --%.*s", (int)nlen, name);
        return CLI_ARG_BAD;
    }
}

int cli_simple_args(cli_ctx *c, int argc, char **argv, int json_ok, const char **words, int max,
                    int *n) {
    int i = 0;
    *n = 0;
    for (;;) {
        const char *v;
        int a = cli_next_arg(c, argc, argv, &i, NULL, json_ok, &v);
        if (a == CLI_ARG_DONE)
            return -1;
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a != CLI_ARG_WORD || *n == max)
            return cli_usage(c, "unexpected argument \"%s\"", v != NULL ? v : argv[i - 1]);
        words[(*n)++] = v;
    }
}

int cli_main(int argc, char **argv, const cli_host *host) {
    const char *cmd = argv[0];
    if (cli_http_global_init() != 0) {
        fprintf(stderr, "loupe %s: cannot initialise libcurl\n", cmd);
        return CLI_EXIT_FAIL;
    }
    int rc;
    if (strcmp(cmd, "services") == 0)
        rc = cli_services(argc, argv);
    else if (strcmp(cmd, "traces") == 0)
        rc = cli_traces(argc, argv);
    else if (strcmp(cmd, "trace") == 0)
        rc = cli_trace(argc, argv);
    else if (strcmp(cmd, "logs") == 0)
        rc = cli_logs(argc, argv);
    else if (strcmp(cmd, "ingest") == 0)
        rc = cli_ingest(argc, argv);
    else if (strcmp(cmd, "export") == 0)
        rc = cli_export(argc, argv);
    else if (strcmp(cmd, "import") == 0)
        rc = cli_import(argc, argv);
    else if (strcmp(cmd, "expect") == 0)
        rc = cli_expect(argc, argv);
    else if (strcmp(cmd, "run") == 0)
        rc = cli_run(argc, argv, host);
    else if (strcmp(cmd, "lint") == 0)
        rc = cli_lint(argc, argv);
    else
        rc = CLI_EXIT_USAGE;
    cli_http_global_cleanup();
    return rc;
}
