/* ch_query_traces.c - services, operations, the service map, trace search
 * and one trace from ClickHouse; see ch_query.h. */
#include "ch_query.h"

int chq_services(store_reader *r, const query_window_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_service_map(store_reader *r, const query_window_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_operations(store_reader *r, const query_ops_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_trace(store_reader *r, const uint8_t trace_id[16], buf *out) {
    (void)r, (void)trace_id, (void)out;
    return QUERY_ENOTSUP;
}

int chq_traces(store_reader *r, const query_traces_params *p, buf *out) {
    (void)r, (void)p, (void)out;
    return QUERY_ENOTSUP;
}

int chq_trace_summary(store_reader *r, const uint8_t trace_id[16], buf *out) {
    (void)r, (void)trace_id, (void)out;
    return QUERY_ENOTSUP;
}
