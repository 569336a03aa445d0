/* ch_query_none.c - what the ClickHouse backend does not answer (HTTP 501),
 * and why (docs/storage.md, "ClickHouse"). */
#include "ch_query.h"

/* Log patterns are learned by the SQLite store's writer as it commits;
 * with ClickHouse several loupes write the same tables and none of them
 * sees all the data, so their learned templates would disagree between
 * processes. (GenAI and the lint: ch_query_insight.c.) */

int chq_patterns(store_reader *r, const query_patterns_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}
