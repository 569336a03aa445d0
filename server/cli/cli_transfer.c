/* cli_transfer.c - loupe export and loupe import: OTLP JSON lines to and
 * from a running loupe (GET /api/v1/export, POST /api/v1/import). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli_internal.h"
#include "cli_transfer.h"

static const char *const cli_signals[] = {"traces", "logs", "metrics"};

/* Where an export goes, and how many lines went. */
typedef struct cli_export_sink {
    FILE *f;
    size_t lines;
    int failed; /* a write failed */
} cli_export_sink;

static int cli_export_write(void *ud, const char *data, size_t len) {
    cli_export_sink *s = ud;
    if (fwrite(data, 1, len, s->f) != len) {
        s->failed = 1;
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        s->lines += data[i] == '\n';
    return 0;
}

int cli_export_to(cli_http *h, unsigned signals, FILE *f, size_t counts[3], char *err,
                  size_t errlen) {
    int saved_timeout = (int)h->timeout_ms;
    h->timeout_ms = 0; /* an export of a big store takes what it takes */
    int rc = CLI_HTTP_OK;
    for (size_t k = 0; k < 3 && rc == CLI_HTTP_OK; k++) {
        counts[k] = 0;
        if ((signals & (1u << k)) == 0)
            continue;
        char target[64];
        snprintf(target, sizeof(target), "/api/v1/export?signal=%s", cli_signals[k]);
        cli_export_sink s = {f, 0, 0};
        rc = cli_http_stream(h, target, "application/x-ndjson", cli_export_write, &s);
        counts[k] = s.lines;
        if (s.failed) {
            snprintf(err, errlen, "cannot write: %s", strerror(errno));
            rc = CLI_HTTP_EIO;
        } else if (rc != CLI_HTTP_OK) {
            snprintf(err, errlen, "%s", h->err);
        }
    }
    h->timeout_ms = saved_timeout;
    if (rc == CLI_HTTP_OK && fflush(f) != 0) {
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
        rc = CLI_HTTP_EIO;
    }
    return rc;
}

/* --signal traces,logs: the bits of cli_signals. Returns 0 or -1. */
static int cli_signal_list(const char *v, unsigned *bits) {
    *bits = 0;
    for (const char *p = v; *p != '\0';) {
        size_t len = strcspn(p, ",");
        size_t k = 0;
        while (k < 3 && !(strlen(cli_signals[k]) == len && strncmp(p, cli_signals[k], len) == 0))
            k++;
        if (k == 3)
            return -1;
        *bits |= 1u << k;
        p += len + (p[len] == ',');
    }
    return *bits != 0 ? 0 : -1;
}

int cli_export(int argc, char **argv) {
    static const cli_opt opts[] = {{"signal", 1, 1}, {NULL, 0, 0}};
    cli_ctx c;
    cli_ctx_init(&c, "export");
    const char *file = NULL;
    unsigned signals = 7;
    int i = 0;
    for (;;) {
        const char *v;
        int a = cli_next_arg(&c, argc, argv, &i, opts, 0, &v);
        if (a == CLI_ARG_DONE)
            break;
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a == 1 && cli_signal_list(v, &signals) != 0)
            return cli_usage(&c, "--signal takes traces, logs, metrics or a comma-separated list");
        if (a == CLI_ARG_WORD && file == NULL)
            file = v;
        else if (a == CLI_ARG_WORD || a == CLI_ARG_DASHES)
            return cli_usage(&c, "give one FILE (or - for stdout)");
    }
    if (file == NULL)
        return cli_usage(&c, "give the FILE to write (or - for stdout)");
    FILE *f = strcmp(file, "-") == 0 ? stdout : fopen(file, "w");
    if (f == NULL)
        return cli_fail(&c, CLI_EXIT_FAIL, "cannot write %s: %s", file, strerror(errno));
    size_t counts[3];
    char err[700] = "";
    int rc = cli_export_to(&c.http, signals, f, counts, err, sizeof(err));
    if (f != stdout && fclose(f) != 0 && rc == CLI_HTTP_OK) {
        snprintf(err, sizeof(err), "cannot write %s: %s", file, strerror(errno));
        rc = CLI_HTTP_EIO;
    }
    if (rc != CLI_HTTP_OK)
        return cli_fail(&c, CLI_EXIT_FAIL, "%s", err);
    fprintf(stderr, "loupe export: %zu lines (%zu traces, %zu logs, %zu metrics requests) to %s\n",
            counts[0] + counts[1] + counts[2], counts[0], counts[1], counts[2],
            f == stdout ? "stdout" : file);
    return CLI_EXIT_OK;
}

int cli_import(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "import");
    const char *file = NULL;
    int n;
    int rc = cli_simple_args(&c, argc, argv, 0, &file, 1, &n);
    if (rc >= 0)
        return rc;
    if (file == NULL)
        return cli_usage(&c, "give the FILE to import (or - for stdin)");
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (f == NULL)
        return cli_fail(&c, CLI_EXIT_FAIL, "cannot read %s: %s", file, strerror(errno));
    buf out;
    buf_init(&out, 1 << 20);
    c.http.timeout_ms = 0;
    rc = cli_http_post_file(&c.http, "/api/v1/import", "application/x-ndjson", f, &out);
    if (f != stdin)
        fclose(f);
    if (rc != CLI_HTTP_OK) {
        buf_free(&out);
        return cli_http_fail(&c, rc);
    }
    json_t *doc = json_loadb(out.ptr != NULL ? out.ptr : "", out.len, 0, NULL);
    json_t *im = json_object_get(doc, "imported");
    fprintf(stderr, "loupe import: %lld spans, %lld logs, %lld points from %lld documents "
                    "(%lld items rejected)\n",
            (long long)json_integer_value(json_object_get(im, "spans")),
            (long long)json_integer_value(json_object_get(im, "logs")),
            (long long)json_integer_value(json_object_get(im, "points")),
            (long long)json_integer_value(json_object_get(doc, "documents")),
            (long long)json_integer_value(json_object_get(doc, "rejected")));
    json_decref(doc);
    buf_free(&out);
    return CLI_EXIT_OK;
}
