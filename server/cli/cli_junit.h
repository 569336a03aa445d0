/* cli_junit.h - JUnit XML reports of loupe expect and loupe run.
 *
 * The format CI systems read (Jenkins, GitLab, GitHub actions): a
 * <testsuites> root holding one <testsuite> with one <testcase> per
 * expectation, a <failure> in each that did not hold. Every attribute the
 * common JUnit schemas require is written (testsuite: name, tests,
 * failures, errors, skipped, time, timestamp, hostname, id, package;
 * testcase: name, classname, time; failure: message, type). Pure: the
 * document is built in a buf.
 */
#ifndef LOUPE_CLI_JUNIT_H
#define LOUPE_CLI_JUNIT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct cli_junit_case {
    const char *name;    /* the expectation as given */
    double seconds;      /* time spent checking it */
    const char *failure; /* NULL when it held; else the one-line reason */
    const char *details; /* the failure's text (links, examples); may be NULL */
} cli_junit_case;

/* Writes the whole document for suite `name` (also the classname of the
 * cases) into out. timestamp_ns: when the run started (unix ns). Returns
 * BUF_OK or a buf error. */
int cli_junit_write(buf *out, const char *name, const cli_junit_case *cases, size_t n,
                    double seconds, uint64_t timestamp_ns, const char *hostname);

/* Appends s escaped for XML text and attribute values: & < > " ' as
 * entities, tab, newline and carriage return as character references,
 * other characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF)
 * and invalid UTF-8 as U+FFFD. */
int cli_xml_escape(buf *out, const char *s);

#endif
