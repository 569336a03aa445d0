/* ch_insight.h - what the ClickHouse writer derives from each round's
 * batches beside their rows: the GenAI calls and the lint's findings.
 *
 * DESIGN
 * The SQLite store keeps the GenAI rollup and the lint's findings in its
 * writer (store_genai.c, store_lint.c); with ClickHouse the writer thread
 * computes the same from the same batches and adds them to the round's
 * INSERTs, so they are stored (and fail and are retried) with the items
 * they are about:
 *   genai_calls    one row per GenAI span (genai.h's genai_of()), the
 *                  duration's rollup bucket with it, so the GenAI answer's
 *                  percentiles come from the same histogram as on SQLite;
 *   lint_hits      the round's findings summed by (day, signal, service,
 *                  rule, key): count, first and last arrival, latest note;
 *                  lint_findings_mv sums them into lint_findings;
 *   lint_examples  the first items of each finding, at most CH_INSIGHT_EXAMPLES
 *                  per finding and day from one writer (a bounded memory of
 *                  what earlier rounds wrote; forgotten when full, so a
 *                  finding may get a few more).
 * The lint's checks here are the ones that judge one item on its own
 * (lint.h: missing-service-name, error-without-status, server-span-kind of
 * a root span, deprecated-attribute, log-without-severity, dropped-data).
 * Rules that need a span's parent (orphan-span, clock-skew, server-span-kind
 * of a child called from another service) are not judged: when several
 * loupes share the database a parent may reach another loupe, so one
 * writer cannot tell a missing parent from a parent stored by another.
 * high-cardinality-metric is counted when read (ch_query_insight.c).
 * With --lint off no findings are written. All of it is the writer thread's.
 */
#ifndef LOUPE_CH_INSIGHT_H
#define LOUPE_CH_INSIGHT_H

#include <stdint.h>

#include "ch_conn.h"
#include "model.h"

#define CH_INSIGHT_EXAMPLES 5

typedef struct ch_insight ch_insight;

/* lint_off: write no findings. NULL when out of memory. */
ch_insight *ch_insight_new(int lint_off);

/* Accepts NULL. */
void ch_insight_free(ch_insight *x);

/* Starts a round: forgets the previous round's rows and sums. arrival:
 * the round's wall-clock time (ns), the findings' first and last seen. */
void ch_insight_reset(ch_insight *x, uint64_t arrival);

/* Adds what batch b brings (after its items' rows were made; b must stay
 * valid until ch_insight_insert). Returns 0, or -1 when out of memory (the
 * round then fails and is retried). */
int ch_insight_batch(ch_insight *x, const model_batch *b);

/* Sends the round's rows through writer (settings: as ch_conn_insert).
 * Returns a CH_* code with err set. On success remembers which examples
 * were written. */
int ch_insight_insert(ch_insight *x, ch_conn *writer, const char *settings, char *err);

#ifdef LOUPE_TESTING
/* The round's rows so far (tests): 0 genai_calls, 1 lint_hits (made by
 * this call from the sums), 2 lint_examples. Borrowed until the next call. */
const char *ch_insight_rows(ch_insight *x, int table);
#endif

#endif
