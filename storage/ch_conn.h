/* ch_conn.h - one connection to ClickHouse's HTTP interface (libcurl).
 *
 * DESIGN
 * A ch_conn is a libcurl easy handle, kept between requests (keep-alive),
 * used by one thread at a time: the store's writer has one, and each read
 * handle (store_reader) has its own. A request is a POST: a query in the
 * body, answered in TabSeparated into `out`; or an INSERT ... FORMAT
 * TabSeparated whose statement goes in the URL and whose rows are the
 * body. The user and password go as HTTP basic authentication and the
 * database as the `database` parameter, which ClickHouse 18.16 and current
 * releases both read.
 *
 * Outcomes: CH_OK (HTTP 200); CH_EDOWN when ClickHouse could not be
 * reached or did not answer in time (connection refused, reset, timeout:
 * retry later); CH_EQUERY when it answered with an error (its exception
 * text in err). curl_global_init() must have run before the first
 * ch_conn_new() (ch_conn_global_init()).
 */
#ifndef LOUPE_CH_CONN_H
#define LOUPE_CH_CONN_H

#include <stddef.h>

#include "util/buf.h"

#define CH_OK 0
#define CH_EDOWN -1   /* unreachable or timed out */
#define CH_EQUERY -2  /* ClickHouse answered with an error */
#define CH_ENOMEM -3  /* out of memory, or the answer is larger than out's cap */

#define CH_ERR_MAX 512

/* Where ClickHouse is: borrowed strings. */
typedef struct ch_target {
    const char *url;      /* http://HOST:PORT (no path) */
    const char *database; /* NULL: the user's default */
    const char *user;     /* NULL: default */
    const char *password; /* NULL: none */
} ch_target;

typedef struct ch_conn ch_conn;

/* Once per process, before any thread uses libcurl. Returns 0 or -1. */
int ch_conn_global_init(void);

/* A connection to t (the strings are copied). NULL when out of memory. */
ch_conn *ch_conn_new(const ch_target *t);

/* Accepts NULL. */
void ch_conn_free(ch_conn *c);

/* The URL it talks to (borrowed). */
const char *ch_conn_url(const ch_conn *c);

/* Timeouts of the next requests: connecting, and the whole request; 0 keeps
 * the default (2 s, 60 s). A query's timeout also goes to ClickHouse as
 * max_execution_time (whole seconds, at least 1). */
void ch_conn_timeouts(ch_conn *c, long connect_ms, long total_ms);

/* Runs one statement (sql[0..len)) and appends its answer to out (NULL: the
 * answer is discarded). On CH_EQUERY or CH_EDOWN, err (CH_ERR_MAX bytes)
 * says why. */
int ch_conn_query(ch_conn *c, const char *sql, size_t len, buf *out, char *err);

/* INSERT INTO `table_sql` FORMAT TabSeparated with rows[0..len) as the body
 * (one line per row). table_sql is trusted text (a table name and column
 * list made by loupe). settings: extra URL parameters (e.g.
 * "insert_distributed_sync=1") or NULL. */
int ch_conn_insert(ch_conn *c, const char *table_sql, const char *settings, const char *rows,
                   size_t len, char *err);

#endif
