/* ch_query.h - the query API (query.h) answered from ClickHouse.
 *
 * DESIGN
 * Each query.h function, given a read handle of a ClickHouse store
 * (r->ch set), hands over to its chq_* twin here, which answers with the
 * same JSON document (docs/api.md) from loupe's ClickHouse tables
 * (ch_schema.h). SQL is built with ch_sql_quote() for every value from a
 * request; answers are read as TabSeparated (ch_sql.h). A feature the
 * backend does not have answers QUERY_ENOTSUP (HTTP 501); ClickHouse not
 * answering gives QUERY_EDOWN (HTTP 503).
 *
 * Modules: ch_query.c (shared helpers: running a query, the age limit,
 * attribute filters), ch_query_traces.c (trace search, a trace's
 * summary), ch_query_traces_one.c (one trace), ch_query_traces_svc.c
 * (services, operations), ch_query_traces_map.c (the service map),
 * ch_query_logs*.c (logs, metrics, series), ch_query_insight.c (GenAI
 * calls and the lint, from what the writer derives: ch_insight.h),
 * ch_query_export.c (export), ch_query_patterns.c (log patterns).
 */
#ifndef LOUPE_CH_QUERY_H
#define LOUPE_CH_QUERY_H

#include "util/buf.h"
#include "query.h"

int chq_services(store_reader *r, const query_window_params *p, buf *out);
int chq_service_map(store_reader *r, const query_window_params *p, buf *out);
int chq_operations(store_reader *r, const query_ops_params *p, buf *out);
int chq_genai(store_reader *r, const query_genai_params *p, buf *out);
int chq_trace(store_reader *r, const uint8_t trace_id[16], buf *out);
int chq_traces(store_reader *r, const query_traces_params *p, buf *out);
int chq_trace_summary(store_reader *r, const uint8_t trace_id[16], buf *out);
int chq_logs(store_reader *r, const query_logs_params *p, buf *out);
int chq_patterns(store_reader *r, const query_patterns_params *p, buf *out);
int chq_metrics(store_reader *r, const char *service, buf *out);
int chq_series(store_reader *r, const query_series_params *p, buf *out);
int chq_lint(store_reader *r, const char *service, buf *out);

/* ---- shared helpers (ch_query.c) ------------------------------------------- */

/* A resource's id in answers ("r" and this number in decimal): a hash of
 * its content, so that, as with SQLite's ids, an id stands for the same
 * resource in every answer and on every loupe sharing the database. */
#define CHQ_RESOURCE_ID "cityHash64(service, instance, res_attrs, res_schema_url, res_dropped)"

/* Runs sql on the reader's connection, the answer (TabSeparated) into ans
 * (reset first). Returns QUERY_OK, QUERY_EDOWN, QUERY_EDB (ClickHouse
 * refused: logged) or QUERY_ETOOBIG. */
int chq_run(store_reader *r, const buf *sql, buf *ans);

/* chq_run(), then a NUL after the answer's data (not counted in ans->len)
 * for ch_tsv_row(); QUERY_ENOMEM when there is no room for it. */
int chq_run_text(store_reader *r, const buf *sql, buf *ans);

/* The oldest item time answers may show (--max-age), 0 for any. */
uint64_t chq_min_time(const store_reader *r);

/* Appends " AND <col> >= N" for the age limit, if any. */
void chq_age_cond(const store_reader *r, buf *sql, const char *col);

/* Appends the log search's q (the body's words, as query_logs_params.q)
 * as conditions (" AND ..."; " AND 0" when q holds words but none with a
 * letter or digit). Returns QUERY_OK or QUERY_ENOMEM. (ch_query_logs.c) */
int chq_log_words_cond(buf *sql, const char *q);

/* Appends the log search's filters of p (service, min_severity, pattern,
 * the window, trace and span ids, attributes, q and the age limit) as
 * conditions (" AND ..."). Returns QUERY_OK or QUERY_ENOMEM.
 * (ch_query_logs.c) */
int chq_log_conds(const store_reader *r, const query_logs_params *p, buf *sql);

/* Appends the attribute filter f as a condition over the item's and its
 * resource's key/value arrays (prefix: "" or "s." for a table alias). */
void chq_attr_cond(buf *sql, const query_attr *f);

#endif
