/* logpattern.h - log patterns: every log record's body reduced to a
 * template, learned online per service by a clustering of the Drain family.
 *
 * DESIGN
 * Drain (He et al., "Drain: An Online Log Parsing Approach with Fixed
 * Depth Tree", ICWS 2017) groups log lines into templates as they arrive.
 * Ours works in four steps:
 *
 *   1. Masking. The first LOGPATTERN_MAX_LINE bytes of a body are cut into
 *      at most LOGPATTERN_MAX_TOKENS tokens at whitespace, after a quoted
 *      value ("..." or '...', spaces and all) has become one token. Each
 *      token's variable part is replaced by a typed placeholder, judged by
 *      its shape alone: <UUID>, <IP> (v4 or v6, with a port), <TIME>
 *      (dates, times of day), <DURATION> (150ms, 1.5s, 2m30s), <NUM>
 *      (numbers, also with a size unit or %), <HEX> (0x..., and runs of
 *      hex digits of 8 and more with a digit), <EMAIL>, <URL>, <PATH>; a
 *      quoted value becomes "<*>"; punctuation around a token is kept
 *      ("(conn_id=<NUM>)"), and in key=value the value is judged. What is
 *      left of a token has its runs of digits masked as <NUM>
 *      ("SKU-<NUM>"). Tokens over LOGPATTERN_MAX_TOKEN bytes become <*>.
 *   2. A fixed-depth tree per service: the first level is the token count,
 *      the next two levels the first two tokens, the leaves lists of
 *      patterns. A token that still holds a digit goes down the wildcard
 *      branch, as does any token once a node has LOGPATTERN_MAX_CHILDREN
 *      children.
 *   3. Similarity. In the leaf, each pattern's similarity to the line is
 *      the share of positions where the pattern's token equals the line's
 *      (a <*> of the pattern counts as unequal). The most similar pattern
 *      (ties: the one with more <*>) takes the line when its similarity is
 *      at least LOGPATTERN_SIMILARITY; otherwise the line starts a new
 *      pattern.
 *   4. Update. A pattern's positions that differ from a line it takes
 *      become <*>. Its id never changes: records keep the id they got, and
 *      the template they belong to may grow more general.
 *
 * Bodies that are not strings: a map (kvlist) gets a structured pattern per
 * set of top-level keys, "{key1, key2}" (sorted, at most 32 keys of at most
 * 64 bytes), matched exactly and never generalised; an array "[...]", bytes
 * "<bytes>"; a number, bool or empty body is masked as the text it shows
 * (so "<NUM>", "true"; an empty body has the empty template).
 *
 * Bounds: at most LOGPATTERN_MAX_PER_SERVICE patterns per service, past
 * that a service's records that match none go to its "other" pattern;
 * at most LOGPATTERN_MAX_SERVICES services, past that records of further
 * services go to one global "other" pattern (service ""); at most
 * LOGPATTERN_MAX_TOTAL patterns and LOGPATTERN_MAX_BYTES bytes of
 * templates in all, past that new patterns go to "other" as well. So the
 * memory is bounded (about LOGPATTERN_MAX_BYTES plus a few hundred bytes
 * per pattern) whatever arrives.
 *
 * Persistence: ids come from here (after the largest restored one). The
 * store writes the patterns changed since its last look (a new pattern, a
 * new template, an earlier first seen time, a last seen time a minute past
 * the one written) into its `patterns` table
 * before each COMMIT (logpattern_take_changes), and hands them back when
 * that transaction rolls back, so a record never commits with a pattern id
 * whose row is not committed with it or before it. At startup the state is
 * rebuilt from that table (logpattern_restore, in id order): each template
 * goes down the tree by its own tokens.
 *
 * Threads: every function may be called from any thread (one mutex guards
 * the state; masking runs outside it), except logpattern_free().
 */
#ifndef LOUPE_LOGPATTERN_H
#define LOUPE_LOGPATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "model.h"

#define LOGPATTERN_MAX_LINE 4096 /* bytes of a body that are looked at */
#define LOGPATTERN_MAX_TOKENS 64
#define LOGPATTERN_MAX_TOKEN 96
#define LOGPATTERN_MAX_CHILDREN 100
#define LOGPATTERN_DEPTH 2 /* tokens that choose the leaf */
#define LOGPATTERN_SIMILARITY 0.5
#define LOGPATTERN_MAX_PER_SERVICE 1000
#define LOGPATTERN_MAX_SERVICES 1000
#define LOGPATTERN_MAX_TOTAL 50000
#define LOGPATTERN_MAX_BYTES ((size_t)32 << 20)
/* A pattern's stored last seen time may lag its records' by this much. */
#define LOGPATTERN_LAST_SEEN_SLACK_NS 60000000000ULL

/* What a pattern stands for (the `kind` column of `patterns`). */
typedef enum logpattern_kind {
    LOGPATTERN_TEXT = 0,       /* a template of text bodies */
    LOGPATTERN_STRUCTURED = 1, /* a key set of map bodies, or arrays, or bytes */
    LOGPATTERN_OTHER = 2,      /* past a bound: every record no pattern took */
} logpattern_kind;

/* The template of the "other" patterns. */
#define LOGPATTERN_OTHER_TEMPLATE "<other>"

typedef struct logpattern logpattern;

/* Severity levels, as pattern counts keep them: 0 unspecified, 1 trace
 * (severity numbers 1-4), 2 debug (5-8), 3 info (9-12), 4 warn (13-16),
 * 5 error (17-20), 6 fatal (21-24). */
#define LOGPATTERN_LEVELS 7

/* The level of an OTLP severity number (out of range: 0). */
int logpattern_level(int severity_number);

/* "unspecified", "trace", "debug", "info", "warn", "error", "fatal". */
const char *logpattern_level_name(int level);

/* Limits; zero fields take the defaults above (tests make them small). */
typedef struct logpattern_config {
    size_t max_per_service, max_services, max_total, max_bytes;
    double similarity;
} logpattern_config;

/* A new, empty state (cfg may be NULL: the defaults). NULL when out of
 * memory. */
logpattern *logpattern_new(const logpattern_config *cfg);

/* Frees it. Accepts NULL. */
void logpattern_free(logpattern *lp);

/* The pattern of one log record of service[0..slen) with this body,
 * recorded at time_ns (its time, for first and last seen). Returns its id
 * (> 0), or 0 when out of memory (the record then has no pattern). */
int64_t logpattern_assign(logpattern *lp, const char *service, size_t slen,
                          const model_value *body, uint64_t time_ns);

/* The same for a text body text[0..len). */
int64_t logpattern_assign_text(logpattern *lp, const char *service, size_t slen,
                               const char *text, size_t len, uint64_t time_ns);

/* Adds a stored pattern at startup (call in id order): its service, kind,
 * template and times. Returns 0, or -1 when out of memory or for a kind
 * it does not know. */
int logpattern_restore(logpattern *lp, int64_t id, const char *service, size_t slen, int kind,
                       const char *tmpl, size_t tlen, uint64_t first_ns, uint64_t last_ns);

/* One changed pattern, its texts in logpattern_changes.text. */
typedef struct logpattern_row {
    int64_t id;
    int kind;
    uint64_t first_ns, last_ns;
    size_t service_off, service_len; /* into text */
    size_t tmpl_off, tmpl_len;
    uint32_t index; /* the pattern's slot, for logpattern_changes_return */
} logpattern_row;

/* Rows taken by logpattern_take_changes(); owned by the caller, reused
 * from call to call. Zero-initialise, then free with
 * logpattern_changes_free(). */
typedef struct logpattern_changes {
    logpattern_row *rows;
    size_t n, cap;
    buf text;
} logpattern_changes;

/* Replaces out's rows with the patterns changed since the last take (as
 * they are now) and forgets that they changed. Returns 0, or -1 when out
 * of memory (nothing is forgotten then). */
int logpattern_take_changes(logpattern *lp, logpattern_changes *out);

/* The rows of ch were not stored after all (their transaction rolled
 * back): they count as changed again. */
void logpattern_changes_return(logpattern *lp, const logpattern_changes *ch);

void logpattern_changes_free(logpattern_changes *ch);

/* The template of pattern id into out (replacing its contents). Returns 0,
 * or -1 when there is no such pattern or out of memory. A linear search:
 * for tests and tools. */
int logpattern_template(logpattern *lp, int64_t id, buf *out);

/* How many patterns there are. */
size_t logpattern_count(logpattern *lp);

/* Step 1 alone: the masked tokens of text[0..len), joined by spaces, into
 * out (appended). Returns a BUF_* code. */
int logpattern_mask(const char *text, size_t len, buf *out);

#endif
