/* cli.h - loupe's client commands, run by the same binary: services,
 * traces, trace, logs, export, import and expect query a running loupe
 * over HTTP (libcurl, the JSON API); run starts one in this process (main.c
 * lends it through a cli_host) around a command. docs/cli.md describes
 * them. */
#ifndef LOUPE_CLI_H
#define LOUPE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where an in-process loupe listens (filled by cli_host.start). */
typedef struct cli_local {
    char ui_url[128];        /* "http://127.0.0.1:PORT" */
    char otlp_grpc_url[128]; /* "http://127.0.0.1:PORT" */
    char otlp_http_url[128]; /* "http://127.0.0.1:PORT" */
    char token[300];         /* the UI token; "" when the UI is open */
} cli_local;

/* What `loupe run` needs from the server side: main.c starts an in-memory
 * loupe on free loopback ports (its usual steps) and stops it. */
typedef struct cli_host {
    /* Starts the server; fills *l. Returns 0, or -1 with err set. */
    int (*start)(void *ud, cli_local *l, char *err, size_t errlen);
    /* OTLP requests both receivers have answered so far. */
    uint64_t (*requests)(void *ud);
    /* Stops what start started (also after a failed start). */
    void (*stop)(void *ud);
    void *ud;
} cli_host;

/* 1 when name is one of the client commands. */
int cli_is_command(const char *name);

/* Runs `loupe COMMAND ARGS...`: argv[0] is the command. Returns the exit
 * status (0 ok, 1 failed, 2 usage; run: the command's own). */
int cli_main(int argc, char **argv, const cli_host *host);

/* The commands' one-line summaries, for loupe --help. */
void cli_print_commands(FILE *out);

#endif
