/* ch_query_none.c - what the ClickHouse backend does not answer (HTTP 501),
 * and why (docs/storage.md, "ClickHouse"). */
#include "ch_query.h"

/* The GenAI rollup and the lint's findings are kept by the
 * SQLite store's writer as it commits (per segment); with ClickHouse
 * several loupes write the same tables and none of them sees all the
 * data, so these per-writer states would disagree between processes. */

int chq_genai(store_reader *r, const query_genai_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_lint(store_reader *r, const char *service, buf *out) {
    (void)r, (void)service, (void)out;
    return QUERY_ENOTSUP;
}
