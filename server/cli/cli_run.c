/* cli_run.c - loupe run: an in-memory loupe in this process (started by
 * main.c through a cli_host), one command run against it with the OTLP
 * environment set, then the exporters' grace period, the expectations,
 * the saved telemetry and the command's exit status.
 *
 * Signals: SIGINT, SIGTERM and SIGCHLD are blocked before the server's
 * threads start (they inherit the mask) and taken with sigwaitinfo(); the
 * command starts with the default dispositions and an empty mask
 * (posix_spawn attributes). SIGINT and SIGTERM are passed on to the
 * command, so an interrupted run still checks and saves what arrived.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_expect.h"
#include "cli_internal.h"
#include "cli_parse.h"
#include "cli_transfer.h"

extern char **environ;

#define CLI_RUN_QUIET_NS 1000000000ULL /* no OTLP request for this long: flushed */
#define CLI_RUN_POLL_MS 100
#define CLI_RUN_DEFAULT_GRACE_NS 10000000000ULL
#define CLI_RUN_LINE_MAX 8192

enum { CLI_RUN_EXPECT = 1, CLI_RUN_JUNIT, CLI_RUN_SAVE, CLI_RUN_GRACE, CLI_RUN_PROTOCOL };

typedef struct cli_run_opts {
    const char *expect, *junit, *save, *protocol;
    uint64_t grace_ns;
    char **cmd; /* argv of the command, NULL-terminated (argv's own end) */
} cli_run_opts;

/* The flags up to the command. Returns -1 to go on, else the exit status. */
static int cli_run_args(cli_ctx *c, int argc, char **argv, cli_run_opts *o) {
    static const cli_opt opts[] = {{"expect", 1, CLI_RUN_EXPECT}, {"junit", 1, CLI_RUN_JUNIT},
                                   {"save", 1, CLI_RUN_SAVE},     {"grace", 1, CLI_RUN_GRACE},
                                   {"protocol", 1, CLI_RUN_PROTOCOL}, {NULL, 0, 0}};
    int i = 0;
    o->grace_ns = CLI_RUN_DEFAULT_GRACE_NS;
    for (;;) {
        const char *v;
        int a = cli_next_arg(c, argc, argv, &i, opts, 0, &v);
        if (a == CLI_ARG_DONE)
            return cli_usage(c, "give the command to run after --");
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a == CLI_ARG_WORD || a == CLI_ARG_DASHES) {
            if (i >= argc)
                return cli_usage(c, "give the command to run after --");
            o->cmd = argv + i;
            return -1;
        }
        if (a == CLI_RUN_EXPECT)
            o->expect = v;
        else if (a == CLI_RUN_JUNIT)
            o->junit = v;
        else if (a == CLI_RUN_SAVE)
            o->save = v;
        else if (a == CLI_RUN_GRACE && cli_parse_duration(v, &o->grace_ns) != 0)
            return cli_usage(c, "--grace: \"%s\" is not a duration such as 5s", v);
        else if (a == CLI_RUN_PROTOCOL && strcmp(v, "grpc") != 0 &&
                 strcmp(v, "http/protobuf") != 0 && strcmp(v, "http/json") != 0)
            return cli_usage(c, "--protocol takes grpc, http/protobuf or http/json");
        else if (a == CLI_RUN_PROTOCOL)
            o->protocol = v;
    }
}

/* The expectations file: each line the arguments of one loupe expect. */
static int cli_run_read_expect(cli_ctx *c, const char *path, cli_expect_set *set) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_usage(c, "cannot read %s: %s", path, strerror(errno));
    char line[CLI_RUN_LINE_MAX], store[2 * CLI_RUN_LINE_MAX], err[600];
    char *words[CLI_SPLIT_MAX_ARGS];
    int lineno = 0, rc = -1;
    while (rc < 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = cli_usage(c, "%s:%d: the line is longer than %d bytes", path, lineno,
                           CLI_RUN_LINE_MAX - 2);
            break;
        }
        int n = cli_split_line(line, store, sizeof(store), words, err, sizeof(err));
        size_t before = set->n;
        if (n < 0 || (n > 0 && cli_expect_parse(set, n, words, 0, err, sizeof(err)) != 0))
            rc = cli_usage(c, "%s:%d: %s", path, lineno, err);
        else if (n > 0 && set->n == before)
            rc = cli_usage(c, "%s:%d: no --trace, --log or --metric", path, lineno);
    }
    fclose(f);
    if (rc < 0 && set->n == 0)
        rc = cli_usage(c, "%s holds no expectation", path);
    return rc;
}

/* VAR=value appended to env unless VAR is set (not empty) already. */
static void cli_env_default(char **env, size_t *n, const char *name, const char *value,
                            char *store, size_t storelen) {
    const char *cur = getenv(name);
    if (cur != NULL && cur[0] != '\0')
        return;
    snprintf(store, storelen, "%s=%s", name, value);
    env[(*n)++] = store;
}

/* The command's environment: ours plus the OTLP variables it lacks. */
static char **cli_run_env(const cli_local *l, const cli_run_opts *o, char store[3][512]) {
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 4, sizeof(char *));
    if (env == NULL)
        return NULL;
    memcpy(env, environ, n * sizeof(char *));
    const char *protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL");
    if (protocol == NULL || protocol[0] == '\0')
        protocol = o->protocol != NULL ? o->protocol : "http/protobuf";
    cli_env_default(env, &n, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol, store[0], sizeof(store[0]));
    cli_env_default(env, &n, "OTEL_EXPORTER_OTLP_ENDPOINT",
                    strcmp(protocol, "grpc") == 0 ? l->otlp_grpc_url : l->otlp_http_url,
                    store[1], sizeof(store[1]));
    /* service.name in OTEL_RESOURCE_ATTRIBUTES names the service already */
    const char *attrs = getenv("OTEL_RESOURCE_ATTRIBUTES");
    if (attrs == NULL || strstr(attrs, "service.name=") == NULL) {
        const char *base = strrchr(o->cmd[0], '/');
        cli_env_default(env, &n, "OTEL_SERVICE_NAME", base != NULL ? base + 1 : o->cmd[0],
                        store[2], sizeof(store[2]));
    }
    env[n] = NULL;
    return env;
}

/* The file the command names: itself when it holds a '/', else the first
 * executable one of that name in PATH (as execvp() looks). Found here, not
 * by posix_spawnp(), so that a missing program is reported the same way
 * everywhere (some platforms and tools only see the child exit 127).
 * Returns 0, or an errno value. */
static int cli_run_find(const char *cmd, char *out, size_t outlen) {
    if (strchr(cmd, '/') != NULL) {
        snprintf(out, outlen, "%s", cmd);
        return access(out, X_OK) == 0 ? 0 : errno;
    }
    const char *path = getenv("PATH");
    int why = ENOENT;
    for (const char *p = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin"; *p != '\0';) {
        size_t len = strcspn(p, ":");
        int n = snprintf(out, outlen, "%.*s%s%s", (int)len, p, len ? "/" : "", cmd);
        if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
            return 0;
        if (n > 0 && (size_t)n < outlen && errno == EACCES)
            why = EACCES;
        p += len + (p[len] == ':');
    }
    return why;
}

/* Starts the command. Returns its pid, or -1 with err set and *status
 * the shell's: 127 when it is not found, 126 when it cannot be run. */
static pid_t cli_run_spawn(const cli_run_opts *o, char **env, int *status, char *err,
                           size_t errlen) {
    char file[4096];
    int found = cli_run_find(o->cmd[0], file, sizeof(file));
    *status = found == ENOENT ? 127 : 126;
    if (found != 0) {
        snprintf(err, errlen, "cannot run %s: %s", o->cmd[0], strerror(found));
        return -1;
    }
    posix_spawnattr_t attr;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGCHLD);
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, file, NULL, &attr, o->cmd, env);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        *status = rc == ENOENT ? 127 : 126;
        snprintf(err, errlen, "cannot run %s: %s", o->cmd[0], strerror(rc));
        return -1;
    }
    return pid;
}

/* Waits for the command, passing SIGINT and SIGTERM on. Returns its exit
 * status as a shell reports it (128 + signal when killed). */
static int cli_run_wait(pid_t pid, const sigset_t *sigs) {
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(sigs, &si);
        if (sig < 0 && errno == EINTR)
            continue;
        if (sig == SIGINT || sig == SIGTERM) {
            kill(pid, sig);
            continue;
        }
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : 1;
        if (r < 0 && errno == ECHILD)
            return 1;
    }
}

static uint64_t cli_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* After the command: until no OTLP request came for CLI_RUN_QUIET_NS, at
 * most grace_ns. */
static void cli_run_grace(const cli_host *host, uint64_t grace_ns) {
    uint64_t start = cli_mono_ns(), changed = start;
    uint64_t seen = host->requests(host->ud);
    for (;;) {
        uint64_t now = cli_mono_ns();
        if (now - changed >= CLI_RUN_QUIET_NS || now - start >= grace_ns)
            return;
        struct timespec ts = {0, CLI_RUN_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
        uint64_t r = host->requests(host->ud);
        if (r != seen) {
            seen = r;
            changed = cli_mono_ns();
        }
    }
}

/* The expectations and the saved file, against the local server. Returns
 * 0, or 1 when an expectation failed or the file could not be saved. */
static int cli_run_after(cli_ctx *c, const cli_run_opts *o, cli_expect_set *set,
                         const cli_local *l, uint64_t started) {
    cli_http h = {.base = l->ui_url, .token = l->token[0] ? l->token : NULL, .timeout_ms = 60000};
    int failed = 0;
    char err[700];
    if (set->n > 0) {
        uint64_t t0 = cli_now_ns();
        failed = cli_expect_check(set, &h, l->ui_url, stderr, "loupe run") != CLI_EXIT_OK;
        if (o->junit != NULL &&
            cli_expect_junit(set, o->junit, "loupe run", started,
                             (double)(cli_now_ns() - t0) / 1e9, err, sizeof(err)) != 0)
            failed = cli_fail(c, 1, "%s", err);
    }
    if (o->save != NULL) {
        FILE *f = fopen(o->save, "w");
        size_t counts[3] = {0, 0, 0};
        int rc = f == NULL ? CLI_HTTP_EIO
                           : cli_export_to(&h, CLI_SIGNAL_ALL, f, counts, err, sizeof(err));
        if (f == NULL)
            snprintf(err, sizeof(err), "cannot write %s: %s", o->save, strerror(errno));
        if (f != NULL && fclose(f) != 0 && rc == CLI_HTTP_OK) {
            snprintf(err, sizeof(err), "cannot write %s: %s", o->save, strerror(errno));
            rc = CLI_HTTP_EIO;
        }
        if (rc != CLI_HTTP_OK)
            failed = cli_fail(c, 1, "%s", err);
        else
            fprintf(stderr, "loupe run: saved %zu lines (%zu traces, %zu logs, %zu metrics "
                            "requests) to %s\n",
                    counts[0] + counts[1] + counts[2], counts[0], counts[1], counts[2], o->save);
    }
    return failed;
}

int cli_run(int argc, char **argv, const cli_host *host) {
    cli_ctx c;
    cli_ctx_init(&c, "run");
    cli_run_opts o;
    memset(&o, 0, sizeof(o));
    int rc = cli_run_args(&c, argc, argv, &o);
    if (rc >= 0)
        return rc;
    cli_expect_set set;
    memset(&set, 0, sizeof(set));
    if (o.expect != NULL) {
        rc = cli_run_read_expect(&c, o.expect, &set);
        if (rc >= 0) {
            cli_expect_set_free(&set);
            return rc;
        }
    }
    if (host == NULL || host->start == NULL)
        return cli_fail(&c, CLI_EXIT_FAIL, "no in-process server to run against");
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    signal(SIGPIPE, SIG_IGN);
    uint64_t started = cli_now_ns();
    cli_local l;
    char err[600] = "";
    memset(&l, 0, sizeof(l));
    int status = CLI_EXIT_FAIL;
    if (host->start(host->ud, &l, err, sizeof(err)) != 0) {
        cli_fail(&c, CLI_EXIT_FAIL, "cannot start loupe: %s", err);
        goto out;
    }
    if (l.token[0] != '\0')
        fprintf(stderr, "loupe run: web UI %s/login?token=%s (OTLP/HTTP %s, OTLP/gRPC %s)\n",
                l.ui_url, l.token, l.otlp_http_url, l.otlp_grpc_url);
    else
        fprintf(stderr, "loupe run: web UI %s/ (OTLP/HTTP %s, OTLP/gRPC %s)\n", l.ui_url,
                l.otlp_http_url, l.otlp_grpc_url);
    char store[3][512];
    char **env = cli_run_env(&l, &o, store);
    int failed_status = CLI_EXIT_FAIL;
    if (env == NULL)
        snprintf(err, sizeof(err), "out of memory");
    pid_t pid = env != NULL ? cli_run_spawn(&o, env, &failed_status, err, sizeof(err)) : -1;
    free(env);
    if (pid < 0) {
        status = cli_fail(&c, failed_status, "%s", err);
        goto out;
    }
    status = cli_run_wait(pid, &sigs);
    cli_run_grace(host, o.grace_ns);
    if (cli_run_after(&c, &o, &set, &l, started) != 0 && status == 0)
        status = CLI_EXIT_FAIL;
out:
    host->stop(host->ud);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    cli_expect_set_free(&set);
    return status;
}
