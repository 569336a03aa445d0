/* cli_lint.c - loupe lint: the instrumentation lint's findings of a running
 * loupe (GET /api/v1/lint), printed per service with hints and links into
 * the web UI, and an exit status for CI (1 when a finding of --fail-on's
 * severity or worse exists). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli_internal.h"
#include "util/textfmt.h"

#define CLI_LINT_WRAP 100 /* a hint is wrapped at about this many columns */

enum { CLI_LINT_SERVICE = 1, CLI_LINT_FAIL_ON };

static const cli_opt cli_lint_opts[] = {
    {"service", 1, CLI_LINT_SERVICE}, {"fail-on", 1, CLI_LINT_FAIL_ON}, {NULL, 0, 0}};

/* The severities in order; "never" fails on nothing. */
static int cli_lint_level(const char *s) {
    static const char *const names[] = {"never", "info", "warning", "error"};
    for (int i = 0; s != NULL && i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i == 0 ? 99 : i;
    return -1;
}

static const char *cli_lint_str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* Prints text indented, wrapped at spaces near CLI_LINT_WRAP columns. */
static void cli_lint_wrapped(const char *indent, const char *text) {
    size_t width = CLI_LINT_WRAP - strlen(indent);
    while (*text != '\0') {
        size_t n = strlen(text);
        if (n > width) {
            size_t cut = width;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            n = cut > 0 ? cut : width;
        }
        printf("%s%.*s\n", indent, (int)n, text);
        text += n;
        while (*text == ' ')
            text++;
    }
}

/* One finding: severity, rule, key, count, detail, hint, examples. */
static void cli_lint_finding(const cli_ctx *c, json_t *f) {
    char key[200] = "", count[40], rule[80];
    const char *k = cli_lint_str(f, "key");
    if (k[0] != '\0')
        textfmt_clip(k, 150, key, sizeof(key));
    textfmt_clip(cli_lint_str(f, "rule"), 60, rule, sizeof(rule));
    snprintf(count, sizeof(count), "%lld", (long long)json_integer_value(json_object_get(f, "count")));
    printf("  %-8s %s%s%s  (%s %s)\n", cli_lint_str(f, "severity"), rule, key[0] ? " " : "", key,
           count, strcmp(rule, "high-cardinality-metric") == 0 ? "attribute sets" : "items");
    char detail[300];
    textfmt_clip(cli_lint_str(f, "detail"), 250, detail, sizeof(detail));
    if (detail[0] != '\0')
        cli_lint_wrapped("           ", detail);
    cli_lint_wrapped("    fix:   ", "");
    char hint[1100];
    textfmt_clip(cli_lint_str(f, "hint"), 1000, hint, sizeof(hint));
    cli_lint_wrapped("           ", hint);
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(f, "examples"), i, ex) {
        char ui[600];
        textfmt_clip(cli_lint_str(ex, "ui"), 500, ui, sizeof(ui));
        printf("    %s %s%s\n", i == 0 ? "e.g.:" : "     ", c->server, ui);
    }
}

int cli_lint(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "lint");
    const char *service = NULL;
    int fail_on = cli_lint_level("error");
    for (int i = 0;;) {
        const char *v;
        int a = cli_next_arg(&c, argc, argv, &i, cli_lint_opts, 1, &v);
        if (a == CLI_ARG_DONE)
            break;
        if (a == CLI_ARG_HELP)
            return CLI_EXIT_OK;
        if (a == CLI_ARG_BAD)
            return CLI_EXIT_USAGE;
        if (a == CLI_LINT_SERVICE)
            service = v;
        else if (a == CLI_LINT_FAIL_ON && (fail_on = cli_lint_level(v)) < 0)
            return cli_usage(&c, "--fail-on must be error, warning, info or never");
        else if (a == CLI_ARG_WORD || a == CLI_ARG_DASHES)
            return cli_usage(&c, "unexpected argument \"%s\"", v != NULL ? v : "--");
    }
    buf target;
    buf_init(&target, 4096);
    buf_append_str(&target, "/api/v1/lint");
    if (service != NULL) {
        buf_append_str(&target, "?service=");
        textfmt_url_encode(service, &target);
    }
    json_t *doc = NULL;
    int json = c.json; /* the body printed as it came; the exit status still from it */
    int rc = target.ptr != NULL ? cli_get_json(&c, target.ptr, json, &doc)
                                : cli_fail(&c, CLI_EXIT_FAIL, "out of memory");
    buf_free(&target);
    if (rc >= 0)
        return rc;
    json_t *findings = json_object_get(doc, "findings");
    int worst = 0;
    size_t i;
    json_t *f;
    const char *shown = NULL;
    json_array_foreach(findings, i, f) {
        const char *sev = cli_lint_str(f, "severity");
        int level = cli_lint_level(sev);
        if (level > worst)
            worst = level;
        if (json)
            continue;
        const char *svc = cli_lint_str(f, "service");
        if (shown == NULL || strcmp(shown, svc) != 0) {
            char name[300];
            textfmt_clip(svc, 250, name, sizeof(name));
            printf("%s%s\n", shown != NULL ? "\n" : "", name);
            shown = svc;
        }
        cli_lint_finding(&c, f);
    }
    json_t *sum = json_object_get(doc, "summary");
    long long errors = (long long)json_integer_value(json_object_get(sum, "error")),
              warnings = (long long)json_integer_value(json_object_get(sum, "warning"));
    size_t n = json_array_size(findings);
    if (!json)
        printf("%s%zu finding%s: %lld error%s, %lld warning%s, %lld info (semantic conventions "
               "%s)\n",
               n ? "\n" : "", n, n == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
               warnings == 1 ? "" : "s",
               (long long)json_integer_value(json_object_get(sum, "info")),
               cli_lint_str(doc, "semconvVersion"));
    json_decref(doc);
    return worst >= fail_on ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
