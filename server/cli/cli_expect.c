/* cli_expect.c - loupe expect: expectations parsed, checked against the
 * JSON API with bounded polling, reported with links into the web UI and
 * as JUnit XML, see cli_expect.h. */
#include "cli_expect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_internal.h"
#include "cli_junit.h"
#include "cli_parse.h"
#include "util/textfmt.h"

#define CLI_EXPECT_PAGE 1000
#define CLI_EXPECT_MAX_PAGES 100 /* counts stop at 100,000 items */
#define CLI_EXPECT_EXAMPLES 3
#define CLI_EXPECT_FIRST_PAUSE_MS 100
#define CLI_EXPECT_MAX_PAUSE_MS 2000
#define CLI_EXPECT_MAX_ITEMS 1000

enum {
    CLI_EX_TRACE = 1,
    CLI_EX_LOG,
    CLI_EX_METRIC,
    CLI_EX_COUNT,
    CLI_EX_MIN_COUNT,
    CLI_EX_MAX_DURATION,
    CLI_EX_NO_ERRORS,
    CLI_EX_WITHIN,
    CLI_EX_JUNIT,
};

static const cli_opt cli_expect_opts[] = {
    {"trace", 1, CLI_EX_TRACE},
    {"log", 1, CLI_EX_LOG},
    {"metric", 1, CLI_EX_METRIC},
    {"count", 1, CLI_EX_COUNT},
    {"min-count", 1, CLI_EX_MIN_COUNT},
    {"max-duration", 1, CLI_EX_MAX_DURATION},
    {"no-errors", 0, CLI_EX_NO_ERRORS},
    {"within", 1, CLI_EX_WITHIN},
    {"junit", 1, CLI_EX_JUNIT},
    {NULL, 0, 0},
};

static const char *const cli_kind_words[] = {"traces", "log records", "points"};

void cli_expect_set_free(cli_expect_set *set) {
    for (size_t i = 0; i < set->n; i++)
        cli_filter_free(&set->items[i].filter);
    free(set->items);
    memset(set, 0, sizeof(*set));
}

/* ---- parsing ------------------------------------------------------------------- */

/* Appends opt, and value (in single quotes when quote is set) unless it is
 * NULL, to the expectation's spec. */
static void cli_spec_add(cli_expectation *e, const char *opt, const char *value, int quote) {
    size_t used = strlen(e->spec);
    const char *q = quote ? "'" : "";
    snprintf(e->spec + used, sizeof(e->spec) - used, "%s%s%s%s%s%s", used ? " " : "", opt,
             value != NULL ? " " : "", value != NULL ? q : "", value != NULL ? value : "",
             value != NULL ? q : "");
}

/* A selector: a new expectation. */
static int cli_expect_select(cli_expect_set *set, cli_filter_kind kind, const char *opt,
                             const char *value, char *err, size_t errlen) {
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 8;
        if (cap > CLI_EXPECT_MAX_ITEMS) {
            snprintf(err, errlen, "more than %d expectations", CLI_EXPECT_MAX_ITEMS);
            return -1;
        }
        cli_expectation *more = realloc(set->items, cap * sizeof(*more));
        if (more == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        set->items = more;
        set->cap = cap;
    }
    cli_expectation *e = &set->items[set->n];
    memset(e, 0, sizeof(*e));
    char why[480];
    if (cli_filter_parse(value, kind, &e->filter, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s '%s': %s", opt, value, why);
        return -1;
    }
    set->n++;
    cli_spec_add(e, opt, value, 1);
    return 0;
}

/* One option of an expect argument list (the selector or check id). */
static int cli_expect_option(cli_expect_set *set, int id, const char *value, int junit_ok,
                             char *err, size_t errlen) {
    static const char *const sel[] = {"--trace", "--log", "--metric"};
    if (id >= CLI_EX_TRACE && id <= CLI_EX_METRIC)
        return cli_expect_select(set, (cli_filter_kind)(id - CLI_EX_TRACE), sel[id - CLI_EX_TRACE],
                                 value, err, errlen);
    if (id == CLI_EX_WITHIN) {
        uint64_t ns;
        if (cli_parse_duration(value, &ns) != 0) {
            snprintf(err, errlen, "--within: \"%s\" is not a duration such as 30s or 2m", value);
            return -1;
        }
        set->within_ns = ns > set->within_ns ? ns : set->within_ns;
        return 0;
    }
    if (id == CLI_EX_JUNIT) {
        if (!junit_ok) {
            snprintf(err, errlen, "--junit is not taken here");
            return -1;
        }
        set->junit = value;
        return 0;
    }
    if (set->n == 0) {
        snprintf(err, errlen, "a check (--count, --min-count, --max-duration, --no-errors) "
                              "comes after the --trace, --log or --metric it applies to");
        return -1;
    }
    cli_expectation *e = &set->items[set->n - 1];
    switch (id) {
    case CLI_EX_COUNT:
    case CLI_EX_MIN_COUNT:
        if (cli_parse_count(value, UINT64_MAX / 2,
                            id == CLI_EX_COUNT ? &e->count : &e->min_count) != 0) {
            snprintf(err, errlen, "--%s: \"%s\" is not a whole number",
                     id == CLI_EX_COUNT ? "count" : "min-count", value);
            return -1;
        }
        *(id == CLI_EX_COUNT ? &e->has_count : &e->has_min_count) = 1;
        cli_spec_add(e, id == CLI_EX_COUNT ? "--count" : "--min-count", value, 0);
        return 0;
    case CLI_EX_MAX_DURATION:
        if (e->filter.kind != CLI_FILTER_TRACES ||
            cli_parse_duration(value, &e->max_duration_ns) != 0) {
            snprintf(err, errlen, "--max-duration takes a duration (500ms, 2s) and applies to "
                                  "--trace");
            return -1;
        }
        e->has_max_duration = 1;
        cli_spec_add(e, "--max-duration", value, 0);
        return 0;
    case CLI_EX_NO_ERRORS:
        if (e->filter.kind == CLI_FILTER_METRICS) {
            snprintf(err, errlen, "--no-errors applies to --trace and --log");
            return -1;
        }
        e->no_errors = 1;
        cli_spec_add(e, "--no-errors", NULL, 0);
        return 0;
    default:
        snprintf(err, errlen, "unexpected option");
        return -1;
    }
}

/* Checks that need each other: --count and --min-count exclude each other. */
static int cli_expect_validate(const cli_expect_set *set, char *err, size_t errlen) {
    if (set->n == 0) {
        snprintf(err, errlen, "give at least one --trace, --log or --metric");
        return -1;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (set->items[i].has_count && set->items[i].has_min_count) {
            snprintf(err, errlen, "%s: give --count or --min-count, not both",
                     set->items[i].spec);
            return -1;
        }
    }
    return 0;
}

int cli_expect_parse(cli_expect_set *set, int argc, char **argv, int junit_ok, char *err,
                     size_t errlen) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = cli_expect_opts;
        while (o->name != NULL &&
               !(strncmp(a, "--", 2) == 0 && strlen(o->name) == nlen - 2 &&
                 strncmp(a + 2, o->name, nlen - 2) == 0))
            o++;
        if (o->name == NULL) {
            snprintf(err, errlen, "unexpected \"%s\" (expected --trace, --log, --metric, "
                                  "--count, --min-count, --max-duration, --no-errors, --within)",
                     a);
            return -1;
        }
        const char *value = NULL;
        if (o->arg) {
            value = eq != NULL ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (value == NULL) {
                snprintf(err, errlen, "--%s needs a value", o->name);
                return -1;
            }
        }
        if (cli_expect_option(set, o->id, value, junit_ok, err, errlen) != 0)
            return -1;
    }
    return cli_expect_validate(set, err, errlen);
}

/* ---- checking ---------------------------------------------------------------------- */

/* What one look at the server found for an expectation. */
typedef struct cli_found {
    uint64_t items;      /* matching items */
    int capped;          /* stopped counting at the page limit */
    uint64_t bad;        /* items breaking --max-duration or --no-errors */
    uint64_t longest_ns; /* traces: the longest duration seen */
    char examples[CLI_EXPECT_EXAMPLES][33]; /* trace ids: offenders first */
    size_t nexamples;
    int offender_examples; /* the examples are offenders */
} cli_found;

static void cli_found_example(cli_found *f, const char *id, int offender) {
    if (id == NULL || id[0] == '\0')
        return;
    if (offender && !f->offender_examples) {
        f->nexamples = 0; /* offenders replace plain examples */
        f->offender_examples = 1;
    }
    if (!offender && f->offender_examples)
        return;
    for (size_t i = 0; i < f->nexamples; i++)
        if (strcmp(f->examples[i], id) == 0)
            return;
    if (f->nexamples < CLI_EXPECT_EXAMPLES)
        snprintf(f->examples[f->nexamples++], sizeof(f->examples[0]), "%.32s", id);
}

/* Reads every page of a list query. each(item) sees every item. Returns
 * CLI_HTTP_OK or an error (h->err set). */
static int cli_pages(cli_http *h, const char *base_target, const char *list_key, cli_found *f,
                     void (*each)(cli_found *, json_t *, const cli_expectation *),
                     const cli_expectation *e) {
    buf body, target;
    buf_init(&body, CLI_JSON_MAX);
    buf_init(&target, 65536);
    char *cursor = NULL;
    int rc = CLI_HTTP_OK;
    for (int page = 0; page < CLI_EXPECT_MAX_PAGES; page++) {
        buf_reset(&target);
        buf_append_str(&target, base_target);
        if (cursor != NULL) {
            buf_append_str(&target, "&cursor=");
            textfmt_url_encode(cursor, &target);
        }
        free(cursor);
        cursor = NULL;
        rc = cli_http_get(h, target.ptr, &body);
        if (rc != CLI_HTTP_OK)
            break;
        json_t *doc = json_loadb(body.ptr != NULL ? body.ptr : "", body.len, 0, NULL);
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(doc, list_key), i, item) {
            f->items++;
            if (each != NULL)
                each(f, item, e);
        }
        const char *next = json_string_value(json_object_get(doc, "nextCursor"));
        if (next != NULL)
            cursor = strdup(next);
        json_decref(doc);
        if (cursor == NULL)
            break;
        if (page + 1 == CLI_EXPECT_MAX_PAGES)
            f->capped = 1;
    }
    free(cursor);
    buf_free(&body);
    buf_free(&target);
    return rc;
}

static void cli_each_trace(cli_found *f, json_t *t, const cli_expectation *e) {
    uint64_t d = (uint64_t)json_number_value(json_object_get(t, "durationNs"));
    const char *id = json_string_value(json_object_get(t, "traceId"));
    f->longest_ns = d > f->longest_ns ? d : f->longest_ns;
    int offender = e->has_max_duration && d > e->max_duration_ns;
    f->bad += offender;
    cli_found_example(f, id, offender);
}

static void cli_each_error_trace(cli_found *f, json_t *t, const cli_expectation *e) {
    (void)e;
    cli_found_example(f, json_string_value(json_object_get(t, "traceId")), 1);
}

static void cli_each_log(cli_found *f, json_t *l, const cli_expectation *e) {
    int offender = e->no_errors && json_number_value(json_object_get(l, "severityNumber")) >= 17;
    f->bad += offender;
    cli_found_example(f, json_string_value(json_object_get(l, "traceId")), offender);
}

/* The API query of an expectation's filter on path (with extra params). */
static void cli_target(buf *t, const char *path, const cli_filter *f, const char *extra) {
    buf_reset(t);
    buf_append_str(t, path);
    buf_printf(t, "?limit=%d&", CLI_EXPECT_PAGE);
    if (extra != NULL)
        buf_printf(t, "%s&", extra);
    cli_filter_query(f, cli_now_ns(), t);
}

static int cli_look_traces(cli_http *h, const cli_expectation *e, cli_found *f) {
    buf t;
    buf_init(&t, 65536);
    cli_target(&t, "/api/v1/traces", &e->filter, NULL);
    int rc = cli_pages(h, t.ptr, "traces", f, cli_each_trace, e);
    if (rc == CLI_HTTP_OK && e->no_errors) {
        /* traces where a span matching the filters has status ERROR */
        cli_found errs;
        memset(&errs, 0, sizeof(errs));
        cli_target(&t, "/api/v1/traces", &e->filter,
                   cli_filter_get(&e->filter, "status") == NULL ? "status=error" : NULL);
        int has_status = cli_filter_get(&e->filter, "status") != NULL;
        if (has_status && strcmp(cli_filter_get(&e->filter, "status"), "error") != 0) {
            errs.items = 0; /* status=ok or unset: no matching span is an error */
        } else {
            rc = cli_pages(h, t.ptr, "traces", &errs, cli_each_error_trace, e);
        }
        f->bad += errs.items;
        for (size_t i = 0; i < errs.nexamples; i++)
            cli_found_example(f, errs.examples[i], 1);
    }
    buf_free(&t);
    return rc;
}

static int cli_look_logs(cli_http *h, const cli_expectation *e, cli_found *f) {
    buf t;
    buf_init(&t, 65536);
    cli_target(&t, "/api/v1/logs", &e->filter, NULL);
    int rc = cli_pages(h, t.ptr, "logs", f, cli_each_log, e);
    buf_free(&t);
    return rc;
}

static int cli_look_metric(cli_http *h, const cli_expectation *e, cli_found *f) {
    buf t, body;
    buf_init(&t, 65536);
    buf_init(&body, CLI_JSON_MAX);
    buf_append_str(&t, "/api/v1/metrics/");
    textfmt_url_encode(e->filter.metric, &t);
    buf_append_str(&t, "/series?");
    cli_filter_query(&e->filter, cli_now_ns(), &t);
    int rc = cli_http_get(h, t.ptr, &body);
    if (rc == CLI_HTTP_ESTATUS && h->status == 404) {
        rc = CLI_HTTP_OK; /* no such metric (yet): no points */
    } else if (rc == CLI_HTTP_OK) {
        json_t *doc = json_loadb(body.ptr != NULL ? body.ptr : "", body.len, 0, NULL);
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(doc, "series"), i, s)
            f->items += json_array_size(json_object_get(s, "points"));
        json_decref(doc);
    }
    buf_free(&t);
    buf_free(&body);
    return rc;
}

/* Judges what was found; sets held, reason and details. */
static void cli_judge(cli_expectation *e, const cli_found *f, const char *ui_base) {
    const char *what = cli_kind_words[e->filter.kind];
    char found[64];
    snprintf(found, sizeof(found), "%s%llu", f->capped ? "at least " : "",
             (unsigned long long)f->items);
    e->held = 1;
    e->reason[0] = '\0';
    if (e->has_count && (f->items != e->count || f->capped)) {
        e->held = 0;
        snprintf(e->reason, sizeof(e->reason), "found %s %s, want exactly %llu", found, what,
                 (unsigned long long)e->count);
    } else if (!e->has_count && f->items < (e->has_min_count ? e->min_count : 1)) {
        e->held = 0;
        snprintf(e->reason, sizeof(e->reason), "found %s %s, want at least %llu", found, what,
                 (unsigned long long)(e->has_min_count ? e->min_count : 1));
    } else if (e->has_max_duration && f->bad > 0) {
        char d[32], longest[32];
        textfmt_duration(e->max_duration_ns, d, sizeof(d));
        textfmt_duration(f->longest_ns, longest, sizeof(longest));
        e->held = 0;
        snprintf(e->reason, sizeof(e->reason), "%llu of %s traces take longer than %s (the "
                 "longest %s)", (unsigned long long)f->bad, found, d, longest);
    } else if (e->no_errors && f->bad > 0) {
        e->held = 0;
        snprintf(e->reason, sizeof(e->reason), "%llu %s", (unsigned long long)f->bad,
                 e->filter.kind == CLI_FILTER_TRACES
                     ? "traces have an error span matching the filters"
                     : "log records have severity ERROR or worse");
    } else {
        snprintf(e->reason, sizeof(e->reason), "found %s %s", found, what);
    }
    buf link;
    buf_init(&link, sizeof(e->details) - 1);
    buf_append_str(&link, "see ");
    cli_filter_ui_link(&e->filter, ui_base, cli_now_ns(), &link);
    for (size_t i = 0; i < f->nexamples; i++)
        buf_printf(&link, "\ne.g. %s/traces/%s", ui_base, f->examples[i]);
    snprintf(e->details, sizeof(e->details), "%s", link.ptr != NULL ? link.ptr : "");
    buf_free(&link);
}

/* One look at every expectation. Returns CLI_HTTP_OK, or the first
 * request error (reasons say it). */
static int cli_check_once(cli_expect_set *set, cli_http *h, const char *ui_base) {
    int worst = CLI_HTTP_OK;
    for (size_t i = 0; i < set->n; i++) {
        cli_expectation *e = &set->items[i];
        cli_found f;
        memset(&f, 0, sizeof(f));
        uint64_t t0 = cli_now_ns();
        int rc = e->filter.kind == CLI_FILTER_TRACES ? cli_look_traces(h, e, &f)
                 : e->filter.kind == CLI_FILTER_LOGS ? cli_look_logs(h, e, &f)
                                                     : cli_look_metric(h, e, &f);
        e->seconds = (double)(cli_now_ns() - t0) / 1e9;
        if (rc == CLI_HTTP_OK) {
            cli_judge(e, &f, ui_base);
            continue;
        }
        e->held = 0;
        snprintf(e->reason, sizeof(e->reason), "%s", h->err);
        e->details[0] = '\0';
        if (worst == CLI_HTTP_OK || rc == CLI_HTTP_EUNAUTHORIZED)
            worst = rc;
    }
    return worst;
}

static void cli_pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int cli_expect_check(cli_expect_set *set, cli_http *h, const char *ui_base, FILE *report,
                     const char *who) {
    struct timespec m0;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    long pause = CLI_EXPECT_FIRST_PAUSE_MS;
    int looks = 0, rc;
    double waited;
    for (;;) {
        rc = cli_check_once(set, h, ui_base);
        looks++;
        size_t failed = 0;
        for (size_t i = 0; i < set->n; i++)
            failed += !set->items[i].held;
        struct timespec m;
        clock_gettime(CLOCK_MONOTONIC, &m);
        waited = (double)(m.tv_sec - m0.tv_sec) + (double)(m.tv_nsec - m0.tv_nsec) / 1e9;
        double left = (double)set->within_ns / 1e9 - waited;
        if (failed == 0 || rc == CLI_HTTP_EUNAUTHORIZED || left <= 0)
            break;
        long ms = pause < (long)(left * 1000) + 1 ? pause : (long)(left * 1000) + 1;
        cli_pause_ms(ms);
        pause = pause * 2 > CLI_EXPECT_MAX_PAUSE_MS ? CLI_EXPECT_MAX_PAUSE_MS : pause * 2;
    }
    size_t failed = 0;
    for (size_t i = 0; i < set->n; i++) {
        cli_expectation *e = &set->items[i];
        failed += !e->held;
        fprintf(report, "%-4s  %s: %s\n", e->held ? "ok" : "FAIL", e->spec, e->reason);
        if (!e->held && e->details[0] != '\0') {
            for (const char *p = e->details; *p != '\0';) {
                size_t len = strcspn(p, "\n");
                fprintf(report, "      %.*s\n", (int)len, p);
                p += len + (p[len] == '\n');
            }
        }
    }
    if (failed == 0)
        fprintf(report, "%s: all %zu expectations hold\n", who, set->n);
    else
        fprintf(report, "%s: %zu of %zu expectations failed (checked %d time%s in %.1fs)\n", who,
                failed, set->n, looks, looks == 1 ? "" : "s", waited);
    fflush(report);
    if (rc == CLI_HTTP_EUNAUTHORIZED)
        return CLI_EXIT_USAGE;
    return failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_expect_junit(const cli_expect_set *set, const char *path, const char *suite,
                     uint64_t started_ns, double seconds, char *err, size_t errlen) {
    cli_junit_case *cases = calloc(set->n + 1, sizeof(*cases));
    buf doc;
    buf_init(&doc, (size_t)64 << 20);
    if (cases == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < set->n; i++) {
        cases[i].name = set->items[i].spec;
        cases[i].seconds = set->items[i].seconds;
        cases[i].failure = set->items[i].held ? NULL : set->items[i].reason;
        cases[i].details = set->items[i].held ? NULL : set->items[i].details;
    }
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    int rc = cli_junit_write(&doc, suite, cases, set->n, seconds, started_ns, host);
    free(cases);
    if (rc != BUF_OK) {
        snprintf(err, errlen, "cannot build the JUnit report: %s", buf_strerror(rc));
        buf_free(&doc);
        return -1;
    }
    FILE *f = fopen(path, "w");
    int bad = f == NULL || fwrite(doc.ptr, 1, doc.len, f) != doc.len;
    if (f != NULL && fclose(f) != 0)
        bad = 1;
    if (bad)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    buf_free(&doc);
    return bad ? -1 : 0;
}

/* ---- the command ------------------------------------------------------------------ */

int cli_expect(int argc, char **argv) {
    cli_ctx c;
    cli_ctx_init(&c, "expect");
    cli_expect_set set;
    memset(&set, 0, sizeof(set));
    char err[700];
    int i = 0, rc = -1;
    while (rc < 0) {
        const char *v;
        int a = cli_next_arg(&c, argc, argv, &i, cli_expect_opts, 0, &v);
        if (a == CLI_ARG_DONE)
            break;
        if (a == CLI_ARG_HELP)
            rc = CLI_EXIT_OK;
        else if (a == CLI_ARG_BAD)
            rc = CLI_EXIT_USAGE;
        else if (a == CLI_ARG_WORD || a == CLI_ARG_DASHES)
            rc = cli_usage(&c, "unexpected \"%s\"", v != NULL ? v : "--");
        else if (cli_expect_option(&set, a, v, 1, err, sizeof(err)) != 0)
            rc = cli_usage(&c, "%s", err);
    }
    if (rc < 0 && cli_expect_validate(&set, err, sizeof(err)) != 0)
        rc = cli_usage(&c, "%s", err);
    if (rc >= 0) {
        cli_expect_set_free(&set);
        return rc;
    }
    uint64_t started = cli_now_ns();
    rc = cli_expect_check(&set, &c.http, c.server, stdout, "loupe expect");
    if (set.junit != NULL &&
        cli_expect_junit(&set, set.junit, "loupe expect", started,
                         (double)(cli_now_ns() - started) / 1e9, err, sizeof(err)) != 0) {
        cli_fail(&c, CLI_EXIT_FAIL, "%s", err);
        rc = rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
    }
    if (rc == CLI_EXIT_USAGE)
        cli_fail(&c, rc, "%s", c.http.err);
    cli_expect_set_free(&set);
    return rc;
}
