/* ch_store.c - opening a ClickHouse store, its connections, retention by
 * whole days and deletes; see ch_store.h. The writer thread is in
 * ch_writer.c. */
#include "ch_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "ch_store_internal.h"

#define CH_DEFAULT_DATABASE "loupe"

static char *ch_strdup(const char *s) {
    return s ? strdup(s) : NULL;
}

void ch_store_free(ch_store *c) {
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_urls; i++) {
        ch_conn_free(c->shard[i]);
        free(c->urls[i]);
    }
    ch_conn_free(c->writer);
    free(c->database);
    free(c->user);
    free(c->password);
    free(c->cluster);
    buf_free(&c->rows[0]);
    buf_free(&c->rows[1]);
    buf_free(&c->rows[2]);
    buf_free(&c->scratch);
    buf_free(&c->texts);
    free(c);
}

/* A connection to url; with_db: with the database as the default. */
static ch_conn *ch_store_conn(const ch_store *c, const char *url, int with_db) {
    ch_target t = {url, with_db ? c->database : NULL, c->user, c->password};
    return ch_conn_new(&t);
}

ch_conn *ch_store_reader_conn(const ch_store *c) {
    return ch_store_conn(c, c->urls[0], 1);
}

int ch_store_ready(const ch_store *c) {
    return c->schema_ready;
}

int ch_store_cluster(const ch_store *c) {
    return c->cluster != NULL;
}

uint64_t ch_store_min_time(const ch_store *c) {
    if (c->max_age_ns == 0)
        return 0;
    uint64_t now = store_now_ns();
    return now > c->max_age_ns ? now - c->max_age_ns : 0;
}

int ch_store_schema(ch_store *c, char *err) {
    for (size_t i = 0; i < c->n_urls; i++) {
        int rc = ch_schema_create(c->shard[i], c->database, c->cluster, err);
        if (rc != CH_OK)
            return rc;
    }
    c->schema_ready = 1;
    return CH_OK;
}

int ch_store_open(const store_config *cfg, ch_store **out, char *err, size_t errlen) {
    const store_ch_config *cc = &cfg->ch;
    *out = NULL;
    if (cc->n_urls == 0 || cc->n_urls > CH_MAX_SHARDS) {
        snprintf(err, errlen, "ClickHouse: give 1 to %d server URLs", CH_MAX_SHARDS);
        return STORE_EINVAL;
    }
    if (cc->n_urls > 1 && cc->cluster == NULL) {
        snprintf(err, errlen, "ClickHouse: several URLs need --clickhouse-cluster");
        return STORE_EINVAL;
    }
    if (cfg->max_db_bytes != 0) {
        snprintf(err, errlen, "--max-db-size has no meaning with ClickHouse storage");
        return STORE_EINVAL;
    }
    if (ch_conn_global_init() != 0) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return STORE_ENOMEM;
    }
    ch_store *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    c->database = ch_strdup(cc->database ? cc->database : CH_DEFAULT_DATABASE);
    c->user = ch_strdup(cc->user);
    c->password = ch_strdup(cc->password);
    c->cluster = ch_strdup(cc->cluster);
    c->max_age_ns = cfg->max_age_ns;
    c->max_items[MODEL_SIGNAL_TRACES] = cfg->max_spans;
    c->max_items[MODEL_SIGNAL_LOGS] = cfg->max_logs;
    c->max_items[MODEL_SIGNAL_METRICS] = cfg->max_points;
    for (int i = 0; i < 3; i++)
        buf_init(&c->rows[i], (size_t)1 << 31);
    buf_init(&c->scratch, (size_t)1 << 28);
    buf_init(&c->texts, (size_t)1 << 28);
    int ok = c->database && (!cc->user || c->user) && (!cc->password || c->password) &&
             (!cc->cluster || c->cluster);
    c->n_urls = cc->n_urls;
    for (size_t i = 0; ok && i < cc->n_urls; i++) {
        c->urls[i] = ch_strdup(cc->urls[i]);
        c->shard[i] = c->urls[i] ? ch_store_conn(c, c->urls[i], 0) : NULL;
        ok = c->shard[i] != NULL;
    }
    if (ok) {
        c->writer = ch_store_conn(c, c->urls[0], 1);
        ok = c->writer != NULL;
    }
    if (!ok) {
        ch_store_free(c);
        snprintf(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    char why[CH_ERR_MAX];
    int rc = ch_store_schema(c, why);
    if (rc == CH_EDOWN) {
        /* not reachable yet: the writer creates the tables once it is */
        log_event(LOG_WARN, "clickhouse_unreachable",
                  "detail=\"%s\" msg=\"exporters are told to retry until ClickHouse answers\"",
                  why);
    } else if (rc != CH_OK) {
        snprintf(err, errlen, "ClickHouse %s, database %s: %s", c->urls[0], c->database, why);
        ch_store_free(c);
        return STORE_EOPEN;
    }
    *out = c;
    return STORE_OK;
}

/* ---- retention: whole days ------------------------------------------------------ */

/* The partitions (days) of one local table on one shard, oldest first,
 * with their rows and newest item time. */
typedef struct ch_part {
    char date[16];
    uint64_t rows;
} ch_part;

static const char *const ch_signal_table[MODEL_SIGNAL_COUNT] = {CH_SPANS, CH_LOGS, CH_POINTS};

/* Drops partition `date` of every table holding signal sig's data on
 * shard i (the signal's table, and for spans the trace index and the
 * operations' rollup). */
static int ch_drop_day(ch_store *c, size_t i, int sig, const char *date, char *err) {
    const char *tables[3] = {ch_signal_table[sig], NULL, NULL};
    if (sig == MODEL_SIGNAL_TRACES) {
        tables[1] = CH_TRACE_INDEX;
        tables[2] = CH_OPS;
    }
    buf sql;
    buf_init(&sql, 4096);
    int rc = CH_OK;
    for (int t = 0; t < 3 && tables[t] && rc == CH_OK; t++) {
        char local[64];
        ch_schema_local(tables[t], c->cluster != NULL, local, sizeof(local));
        buf_reset(&sql);
        buf_printf(&sql, "ALTER TABLE %s.%s DROP PARTITION ", c->database, local);
        ch_sql_quote_str(&sql, date);
        rc = ch_conn_query(c->shard[i], sql.ptr, sql.len, NULL, err);
    }
    buf_free(&sql);
    return rc;
}

/* The days of signal sig on shard i: at most max, oldest first. */
static int ch_days(ch_store *c, size_t i, int sig, ch_part *parts, size_t max, size_t *n,
                   uint64_t *newest, char *err) {
    char local[64];
    ch_schema_local(ch_signal_table[sig], c->cluster != NULL, local, sizeof(local));
    buf sql, out;
    buf_init(&sql, 4096);
    buf_init(&out, 1 << 20);
    buf_printf(&sql,
               "SELECT partition, sum(rows), max(max_date) FROM system.parts WHERE active AND"
               " database=");
    ch_sql_quote_str(&sql, c->database);
    buf_append_str(&sql, " AND table=");
    ch_sql_quote_str(&sql, local);
    buf_append_str(&sql, " GROUP BY partition ORDER BY partition");
    int rc = ch_conn_query(c->shard[i], sql.ptr, sql.len, &out, err);
    *n = 0;
    *newest = 0;
    char *p = out.ptr, *end = out.ptr + out.len;
    ch_field f[3];
    while (rc == CH_OK && p && *n < max && ch_tsv_row(&p, end, f, 3) == 3) {
        ch_part *d = &parts[(*n)++];
        /* partition is the Date as text, possibly quoted */
        const char *s = f[0].ptr;
        if (*s == '\'')
            s++;
        snprintf(d->date, sizeof(d->date), "%.10s", s);
        d->rows = ch_field_u64(&f[1]);
    }
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

#define CH_MAX_DAYS 4096

/* "YYYY-MM-DD" of t ns. */
static void ch_day_of(uint64_t t, char out[16]) {
    time_t secs = (time_t)(t / 1000000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

void ch_store_retention(store *s, ch_store *c) {
    ch_part *parts = malloc(CH_MAX_DAYS * sizeof(*parts));
    if (parts == NULL)
        return;
    char err[CH_ERR_MAX];
    char today[16], oldest_kept[16] = "";
    ch_day_of(store_now_ns(), today);
    if (c->max_age_ns)
        ch_day_of(store_now_ns() - c->max_age_ns, oldest_kept);
    for (size_t i = 0; i < c->n_urls; i++) {
        for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++) {
            size_t n = 0;
            uint64_t newest;
            if (ch_days(c, i, sig, parts, CH_MAX_DAYS, &n, &newest, err) != CH_OK)
                return (void)free(parts);
            uint64_t total = 0;
            for (size_t k = 0; k < n; k++)
                total += parts[k].rows;
            for (size_t k = 0; k < n; k++) {
                /* by age: a day before the oldest day kept (all of it is older than
                 * the limit); by count: the oldest days while over, never today */
                int old = oldest_kept[0] && strcmp(parts[k].date, oldest_kept) < 0;
                int over = c->max_items[sig] && total > c->max_items[sig] &&
                           strcmp(parts[k].date, today) < 0;
                if (!old && !over)
                    break;
                if (ch_drop_day(c, i, sig, parts[k].date, err) != CH_OK) {
                    log_event(LOG_WARN, "clickhouse_retention_failed", "day=%s detail=\"%s\"",
                              parts[k].date, err);
                    return (void)free(parts);
                }
                atomic_fetch_add(&s->evicted[sig], parts[k].rows);
                total -= parts[k].rows;
                log_event(LOG_INFO, "clickhouse_day_dropped",
                          "signal=%s day=%s items=%" PRIu64 " why=%s shard=%zu",
                          model_signal_name((model_signal)sig), parts[k].date, parts[k].rows,
                          old ? "age" : "count", i);
            }
        }
    }
    free(parts);
}

/* ---- deletes ---------------------------------------------------------------------- */

/* Counts what a delete will remove (before it runs: mutations are
 * asynchronous and report no counts). */
static int ch_delete_count(ch_store *c, const char *table, const char *what, const char *service,
                           uint64_t *n, char *err) {
    buf sql, out;
    buf_init(&sql, 1 << 16);
    buf_init(&out, 4096);
    buf_printf(&sql, "SELECT %s FROM %s.%s", what, c->database, table);
    if (service) {
        buf_append_str(&sql, " WHERE service=");
        ch_sql_quote_str(&sql, service);
    }
    int rc = ch_conn_query(c->writer, sql.ptr, sql.len, &out, err);
    *n = rc == CH_OK && out.len ? strtoull(out.ptr, NULL, 10) : 0;
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

/* Waits (at most about 60 s) until no mutation of db is left undone on
 * shard i. */
static int ch_mutations_wait(ch_store *c, size_t i, char *err) {
    buf sql, out;
    buf_init(&sql, 4096);
    buf_init(&out, 4096);
    buf_append_str(&sql, "SELECT count() FROM system.mutations WHERE is_done=0 AND database=");
    ch_sql_quote_str(&sql, c->database);
    int rc = CH_OK;
    for (int tries = 0; tries < 600; tries++) {
        buf_reset(&out);
        rc = ch_conn_query(c->shard[i], sql.ptr, sql.len, &out, err);
        if (rc != CH_OK || (out.len && strtoull(out.ptr, NULL, 10) == 0))
            break;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL); /* ClickHouse runs the mutation in the background */
        if (tries == 599) {
            snprintf(err, CH_ERR_MAX, "the delete is still running in ClickHouse");
            rc = CH_EDOWN;
        }
    }
    buf_free(&sql);
    buf_free(&out);
    return rc;
}

int ch_store_delete(ch_store *c, unsigned signals, const char *service,
                    store_delete_result *r, char *err) {
    memset(r, 0, sizeof(*r));
    int rc = CH_OK;
    if (signals & STORE_DELETE_TRACES) {
        rc = ch_delete_count(c, CH_SPANS, "count()", service, &r->spans, err);
        if (rc == CH_OK)
            rc = ch_delete_count(c, CH_SPANS, "uniqExact(trace_id)", service, &r->traces, err);
    }
    if (rc == CH_OK && (signals & STORE_DELETE_LOGS))
        rc = ch_delete_count(c, CH_LOGS, "count()", service, &r->logs, err);
    if (rc == CH_OK && (signals & STORE_DELETE_METRICS))
        rc = ch_delete_count(c, CH_POINTS, "count()", service, &r->points, err);
    buf sql;
    buf_init(&sql, 1 << 16);
    static const struct {
        unsigned mask;
        const char *table;
    } which[] = {{STORE_DELETE_TRACES, CH_SPANS},
                 {STORE_DELETE_TRACES, CH_OPS},
                 {STORE_DELETE_TRACES, CH_TRACE_INDEX}, /* only when all go */
                 {STORE_DELETE_LOGS, CH_LOGS},
                 {STORE_DELETE_METRICS, CH_POINTS}};
    for (size_t i = 0; rc == CH_OK && i < c->n_urls; i++) {
        for (size_t k = 0; rc == CH_OK && k < sizeof(which) / sizeof(which[0]); k++) {
            if (!(signals & which[k].mask) ||
                (service != NULL && strcmp(which[k].table, CH_TRACE_INDEX) == 0))
                continue;
            char local[64];
            ch_schema_local(which[k].table, c->cluster != NULL, local, sizeof(local));
            buf_reset(&sql);
            if (service == NULL) { /* everything: whole partitions, at once */
                buf_printf(&sql, "TRUNCATE TABLE %s.%s", c->database, local);
            } else {
                buf_printf(&sql, "ALTER TABLE %s.%s DELETE WHERE service=", c->database, local);
                ch_sql_quote_str(&sql, service);
            }
            rc = ch_conn_query(c->shard[i], sql.ptr, sql.len, NULL, err);
        }
        if (rc == CH_OK && service != NULL)
            rc = ch_mutations_wait(c, i, err);
    }
    /* the trace index keeps ids of traces without spans: harmless (a trace
     * by id then finds no spans: not found) */
    buf_free(&sql);
    return rc;
}
