/* cli_expect.h - expectations about what a running loupe holds, for CI:
 * parsed from `loupe expect` arguments (or lines of a `loupe run --expect`
 * file), checked over the JSON API until they hold or time runs out, and
 * reported as text with links into the web UI and as JUnit XML. */
#ifndef LOUPE_CLI_EXPECT_H
#define LOUPE_CLI_EXPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_filter.h"
#include "cli_http.h"

typedef struct cli_expectation {
    char spec[1200]; /* as given: --trace 'service=a' --count 0 */
    cli_filter filter;
    int has_count, has_min_count, has_max_duration, no_errors;
    uint64_t count, min_count, max_duration_ns;
    /* the last check */
    int held;
    char reason[600];   /* why it does not hold, one line */
    char details[2400]; /* links and examples */
    double seconds;     /* spent on its last check */
} cli_expectation;

typedef struct cli_expect_set {
    cli_expectation *items; /* owned */
    size_t n, cap;
    uint64_t within_ns; /* the longest --within given */
    const char *junit;  /* --junit FILE (borrowed from argv); NULL = none */
} cli_expect_set;

/* Parses the arguments of one `loupe expect` (argv[0..argc) without the
 * command's name: selectors, checks, --within, and --junit when
 * junit_ok) and appends its expectations to set. Returns 0, or -1 with a
 * one-line reason in err. */
int cli_expect_parse(cli_expect_set *set, int argc, char **argv, int junit_ok, char *err,
                     size_t errlen);

/* Checks every expectation (against h; links point at ui_base), again
 * with a growing pause until all hold or set->within_ns has passed, then
 * prints one line per expectation (and the links of the failed ones) and
 * a summary to report. Returns 0 when all hold, 1 when one does not, 2
 * when the server refused the credentials (401). */
int cli_expect_check(cli_expect_set *set, cli_http *h, const char *ui_base, FILE *report,
                     const char *who);

/* Writes the JUnit report of the last check to path. Returns 0, or -1
 * with err set. */
int cli_expect_junit(const cli_expect_set *set, const char *path, const char *suite,
                     uint64_t started_ns, double seconds, char *err, size_t errlen);

void cli_expect_set_free(cli_expect_set *set);

#endif
