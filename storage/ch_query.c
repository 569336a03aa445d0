/* ch_query.c - the helpers every ClickHouse query shares; see ch_query.h. */
#include "ch_query.h"

#include <inttypes.h>
#include <string.h>

#include "util/log.h"
#include "ch_conn.h"
#include "ch_sql.h"
#include "ch_store.h"
#include "reader.h"

int chq_run(store_reader *r, const buf *sql, buf *ans) {
    char err[CH_ERR_MAX];
    buf_reset(ans);
    int rc = ch_conn_query(r->ch, sql->ptr, sql->len, ans, err);
    switch (rc) {
    case CH_OK:
        return QUERY_OK;
    case CH_EDOWN:
        return QUERY_EDOWN;
    case CH_ENOMEM:
        return QUERY_ETOOBIG;
    }
    log_event(LOG_WARN, "clickhouse_query_failed", "detail=\"%s\"", err);
    return QUERY_EDB;
}

int chq_run_text(store_reader *r, const buf *sql, buf *ans) {
    int rc = chq_run(r, sql, ans);
    if (rc == QUERY_OK && buf_append_char(ans, '\0') != BUF_OK)
        rc = QUERY_ENOMEM;
    if (rc == QUERY_OK)
        ans->len--;
    return rc;
}

uint64_t chq_min_time(const store_reader *r) {
    return ch_store_min_time(r->chs);
}

void chq_age_cond(const store_reader *r, buf *sql, const char *col) {
    uint64_t t = chq_min_time(r);
    if (t)
        buf_printf(sql, " AND %s >= %" PRIu64, col, t);
}

void chq_attr_cond(buf *sql, const query_attr *f) {
    /* the value of key k among the item's attributes, else its resource's */
    static const char *const sides[2][2] = {{"attr_keys", "attr_values"},
                                            {"res_keys", "res_values"}};
    buf_append_char(sql, '(');
    for (int s = 0; s < 2; s++) {
        if (s)
            buf_append_str(sql, " OR "); /* the item's or its resource's (query.h) */
        const char *keys = sides[s][0], *vals = sides[s][1];
        switch (f->op) {
        case QUERY_ATTR_EQ:
        case QUERY_ATTR_NE:
            buf_printf(sql, "arrayExists((k, v) -> k = ");
            ch_sql_quote(sql, f->key, f->key_len);
            buf_append_str(sql, f->op == QUERY_ATTR_EQ ? " AND v = " : " AND v != ");
            ch_sql_quote(sql, f->value, f->value_len);
            buf_printf(sql, ", %s, %s)", keys, vals);
            break;
        case QUERY_ATTR_CONTAINS:
            buf_printf(sql, "arrayExists((k, v) -> k = ");
            ch_sql_quote(sql, f->key, f->key_len);
            buf_append_str(sql, " AND positionCaseInsensitive(v, ");
            ch_sql_quote(sql, f->value, f->value_len);
            buf_printf(sql, ") > 0, %s, %s)", keys, vals);
            break;
        case QUERY_ATTR_GT:
        case QUERY_ATTR_LT:
            buf_printf(sql, "arrayExists((k, v) -> k = ");
            ch_sql_quote(sql, f->key, f->key_len);
            buf_printf(sql,
                       " AND (toFloat64OrZero(v) != 0 OR v = '0') AND toFloat64OrZero(v) %s %.17g,"
                       " %s, %s)",
                       f->op == QUERY_ATTR_GT ? ">" : "<", f->number, keys, vals);
            break;
        }
    }
    buf_append_char(sql, ')');
}
