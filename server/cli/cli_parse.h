/* cli_parse.h - the command line's small parsers: durations, counts, and
 * lines of an expectations file split into arguments as a shell would.
 * Pure functions, no I/O. */
#ifndef LOUPE_CLI_PARSE_H
#define LOUPE_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A duration: one or more number+unit terms ("250ms", "1.5s", "1m30s",
 * "2h"; units ns, us, ms, s, m, h, d), or "0". Returns 0 with *ns set, or
 * -1. */
int cli_parse_duration(const char *s, uint64_t *ns);

/* A whole number 0..max in decimal. Returns 0 or -1. */
int cli_parse_count(const char *s, uint64_t max, uint64_t *out);

#define CLI_SPLIT_MAX_ARGS 64

/* Splits one line into arguments as sh does for words: blanks separate,
 * '...' keeps everything literally, "..." keeps everything but \" \\ \$
 * \` escapes, a backslash outside quotes escapes the next character, and
 * '#' at the start of a word begins a comment to the end of the line.
 * The words are written NUL-separated into store (storelen bytes; the
 * words never need more than the line's length plus one byte each) and
 * argv[] points into it. Returns the number of words, or -1 with a reason
 * in err (an unterminated quote, more than CLI_SPLIT_MAX_ARGS words). */
int cli_split_line(const char *line, char *store, size_t storelen, char **argv, char *err,
                   size_t errlen);

#endif
