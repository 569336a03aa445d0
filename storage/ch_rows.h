/* ch_rows.h - items as rows of loupe's ClickHouse tables (TabSeparated, in
 * the order of ch_schema.h's column lists).
 *
 * DESIGN
 * The writer thread calls ch_rows_item() for each item of a batch with the
 * batch's JSON texts (store_internal.h's store_text: rendered on the
 * receiving thread, or by the writer when that failed). A row is appended
 * whole; `out` should have no tight cap (the ring already bounds a round).
 */
#ifndef LOUPE_CH_ROWS_H
#define LOUPE_CH_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "model.h"
#include "store_internal.h"

/* Appends the row of item i of b (its texts: t[0..STORE_MAX_TEXTS) into
 * texts) to out, with `arrival` (wall-clock ns) as its arrival time.
 * scratch: a buffer the call may reuse. Returns 0, or -1 for an item that
 * cannot be stored (a point without its metric). */
int ch_rows_item(buf *out, const model_batch *b, size_t i, const char *texts,
                 const store_text *t, uint64_t arrival, buf *scratch);

/* The text filters compare a value with (appended to out). */
void ch_rows_value_text(buf *out, const model_value *v);

/* Appends the Date field ("YYYY-MM-DD", UTC, clamped to ClickHouse's
 * range) of the item time t ns: the day partition an item goes to. */
void ch_rows_date(buf *out, uint64_t t);

/* The time a log record is stored and listed by. */
uint64_t ch_rows_log_time(const model_log *lg, uint64_t arrival);

#endif
