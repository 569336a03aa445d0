/* ch_query_logs_metrics.c - GET /api/v1/metrics from ClickHouse (the twin
 * of query_metrics in query_metrics.c); see ch_query.h.
 *
 * The points table holds every point with its instrument (name, type,
 * temporality, ...), resource and scope; what the SQLite store keeps in its
 * metrics and series tables is found by grouping points. An instrument is
 * (service, scope name, name): its definition from its latest point (argMax
 * by time), its last time, and its series -- distinct resources, scopes of
 * that name and attribute sets -- counted. Difference: an instrument
 * without any stored point (a batch can declare one with no data points) is
 * not listed.
 */
#include <stdint.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"
#include "query_internal.h"

#define CHM_ANS_MAX ((size_t)1 << 30)

/* ---- the metrics list ------------------------------------------------------------ */

int chq_metrics(store_reader *r, const char *service, buf *out) {
    buf sql, ans;
    buf_init(&sql, 1 << 20);
    buf_init(&ans, CHM_ANS_MAX);
    buf_append_str(&sql,
                   "SELECT service, scope_name, name, argMax(description, time),"
                   " argMax(unit, time), argMax(type, time), argMax(monotonic, time),"
                   " argMax(temporality, time), uniqExact(instance, res_attrs, res_schema_url,"
                   " res_dropped, scope_version, scope_attrs, attrs), max(time) FROM " CH_POINTS
                   " WHERE 1");
    if (service) {
        buf_append_str(&sql, " AND service = ");
        ch_sql_quote_str(&sql, service);
    }
    chq_age_cond(r, &sql, "time");
    buf_append_str(&sql, " GROUP BY service, scope_name, name ORDER BY service, name, scope_name");
    int rc = chq_run_text(r, &sql, &ans);
    if (rc == QUERY_OK) {
        jw w;
        query_list_begin(&w, out, "metrics");
        char *at = ans.ptr, *end = at + ans.len;
        ch_field f[10];
        int n;
        while (rc == QUERY_OK && (n = ch_tsv_row(&at, end, f, 10)) > 0) {
            if (n != 10) {
                rc = QUERY_EDB;
                break;
            }
            jw_object_begin(&w);
            jw_key(&w, "service");
            jw_stringn(&w, f[0].ptr, f[0].len);
            jw_key(&w, "scope");
            jw_stringn(&w, f[1].ptr, f[1].len);
            jw_key(&w, "name");
            jw_stringn(&w, f[2].ptr, f[2].len);
            jw_key(&w, "description");
            jw_stringn(&w, f[3].ptr, f[3].len);
            jw_key(&w, "unit");
            jw_stringn(&w, f[4].ptr, f[4].len);
            jw_key(&w, "type");
            jw_string(&w, model_metric_type_name((model_metric_type)ch_field_u64(&f[5])));
            jw_key(&w, "monotonic");
            jw_bool(&w, ch_field_u64(&f[6]) != 0);
            jw_key(&w, "temporality");
            jw_string(&w, model_temporality_name((model_temporality)ch_field_u64(&f[7])));
            jw_key(&w, "seriesCount");
            jw_int(&w, (int64_t)ch_field_u64(&f[8]));
            jw_key(&w, "lastSeenUnixNano");
            jw_uint_string(&w, ch_field_u64(&f[9]));
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_object_end(&w);
        if (rc == QUERY_OK)
            rc = query_finish(&w, SQLITE_DONE);
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}

