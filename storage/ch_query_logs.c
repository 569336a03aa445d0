/* ch_query_logs.c - log search, the metrics list and metric series from
 * ClickHouse; see ch_query.h. */
#include "ch_query.h"

int chq_logs(store_reader *r, const query_logs_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_metrics(store_reader *r, const char *service, buf *out) {
    (void)r, (void)service, (void)out;
    return QUERY_ENOTSUP;
}

int chq_series(store_reader *r, const query_series_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}
