/* ch_query_traces.c - trace search (GET /api/v1/traces) and one trace's
 * summary from ClickHouse; see ch_query.h. Services, operations and the
 * service map are in ch_query_traces_svc.c and ch_query_traces_map.c, one
 * trace in ch_query_traces_one.c.
 *
 * DESIGN
 * A page is two steps. First the traces: trace_index grouped by trace id
 * gives each trace's start (earliest span start) and end (latest span
 * end); the span filters (service, name, status, attributes, q) select
 * trace ids from spans (`trace_id GLOBAL IN (SELECT ...)`: one span must
 * match them all; GLOBAL: the subquery runs once, also on a cluster, where
 * ClickHouse refuses an IN over a Distributed table inside a query of
 * one), the trace filters (window, durations) and the cursor apply to
 * the grouped rows, ordered newest first by (start, trace id) with
 * limit + 1 rows to know whether there is more. Only the traces with a
 * row starting within a lookback are grouped (traces_page()), the
 * lookback growing until the page is full. Then the page's summaries:
 * one query over the page's traces' spans (read from the days, services
 * and time ranges trace_index names) for counts, root and times, one for
 * the spans per service.
 *
 * The cursor is the page's last (start, trace id): 16 + 32 hex digits.
 * Ties of start are ordered by trace id, descending (the SQLite store
 * orders them by arrival instead; ClickHouse keeps no row order).
 *
 * q: each of its words (query_words_of(): the way the SQLite store's
 * index cuts words) must be in the span's name, status message, attribute
 * values or events' names and attribute values (their JSON texts with the
 * keys, the events' times and escape sequences taken out), as a whole
 * word in ASCII case (a prefix for `word*`), all of them in one span.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_rows.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"
#include "query_internal.h"

#define TRACES_ANSWER_MAX ((size_t)64 << 20)
#define TRACES_CURSOR_LEN 48

/* A byte that is not part of a word (ASCII, not a letter or digit), as a
 * regular expression class. */
#define TRACES_SEP "[\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]"
/* A JSON object's key with its colon. */
#define TRACES_JSON_KEY "\"(?:[^\"\\\\]|\\\\.)*\":"

/* ---- the cursor ------------------------------------------------------------------ */

static void traces_cursor_encode(uint64_t start, const uint8_t id[16],
                                 char out[TRACES_CURSOR_LEN + 1]) {
    uint8_t raw[24];
    for (int i = 0; i < 8; i++)
        raw[i] = (uint8_t)(start >> (56 - 8 * i));
    memcpy(raw + 8, id, 16);
    model_hex_encode(raw, sizeof(raw), out);
}

static int traces_cursor_decode(const char *c, uint64_t *start, uint8_t id[16]) {
    uint8_t raw[24];
    if (strlen(c) != TRACES_CURSOR_LEN || model_hex_decode(c, TRACES_CURSOR_LEN, raw, 24) != 0)
        return -1;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = (t << 8) | raw[i];
    if (t > (uint64_t)INT64_MAX)
        return -1;
    *start = t;
    memcpy(id, raw + 8, 16);
    return 0;
}

/* ---- the span filters ------------------------------------------------------------- */

/* The span's searchable text, lowercased (ASCII): its name, status message,
 * attribute values and events' names and attribute values (attr_index.h's
 * attr_index_words()), from the JSON texts: the events' times and dropped
 * counts, then every object key, then every escape sequence are made
 * spaces (separators). */
static void traces_text_sql(buf *sql) {
    static const char *const drop_event_fields =
        "\"(timeUnixNano|droppedAttributesCount)\":(\"[0-9]*\"|-?[0-9]+)";
    static const char *const escape = "\\\\(u[0-9a-fA-F]{4}|.)";
    buf_append_str(sql, "concat(' ', lower(name), ' ', lower(status_message), ' ', lower(");
    for (int t = 0; t < 2; t++) {
        if (t)
            buf_append_str(sql, "), ' ', lower(");
        buf_append_str(sql, "replaceRegexpAll(replaceRegexpAll(");
        if (t) {
            buf_append_str(sql, "replaceRegexpAll(events, ");
            ch_sql_quote_str(sql, drop_event_fields);
            buf_append_str(sql, ", ' ')");
        } else {
            buf_append_str(sql, "attrs");
        }
        buf_append_str(sql, ", ");
        ch_sql_quote_str(sql, TRACES_JSON_KEY);
        buf_append_str(sql, ", ' '), ");
        ch_sql_quote_str(sql, escape);
        buf_append_str(sql, ", ' ')");
    }
    buf_append_str(sql, "), ' ')");
}

/* The condition that every word of q is in the span's text: the text with
 * every separator made a space is searched for " word " (" word" for a
 * prefix). No regular expression holds the word: its bytes need not be
 * valid UTF-8, which re2 would refuse. */
static void traces_words_cond(buf *sql, const query_words *qw) {
    for (size_t i = 0; i < qw->n; i++) {
        buf_append_str(sql, " AND position(concat(' ', replaceRegexpAll(");
        traces_text_sql(sql);
        buf_append_str(sql, ", ");
        ch_sql_quote_str(sql, TRACES_SEP);
        buf_append_str(sql, ", ' '), ' '), ");
        buf w;
        buf_init(&w, strlen(qw->w[i]) + 8);
        buf_append_char(&w, ' ');
        buf_append_str(&w, qw->w[i]);
        if (!qw->pfx[i])
            buf_append_char(&w, ' ');
        ch_sql_quote(sql, w.ptr ? w.ptr : "", w.len);
        buf_free(&w);
        buf_append_str(sql, ") > 0");
    }
}

/* The span filters of p as conditions on a spans row (" AND ..."); 0 when
 * there is none. */
static int traces_span_conds(store_reader *r, const query_traces_params *p,
                             const query_words *qw, buf *sql) {
    int any = 0;
    if (p->service) {
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, p->service);
        any = 1;
    }
    if (p->name) {
        buf_append_str(sql, " AND name = ");
        ch_sql_quote_str(sql, p->name);
        any = 1;
    }
    if (p->status != QUERY_STATUS_ANY) {
        buf_printf(sql, " AND status_code = %d", p->status - 1);
        any = 1;
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        buf_append_str(sql, " AND ");
        chq_attr_cond(sql, &p->attrs[i]);
        any = 1;
    }
    if (qw->n > 0) {
        traces_words_cond(sql, qw);
        any = 1;
    }
    if (any) {
        chq_age_cond(r, sql, "time");
        if (p->has_start) /* a trace's spans start at or after the trace */
            buf_printf(sql, " AND time >= %" PRIu64, p->start_ns);
    }
    return any;
}

/* ---- the page's traces ------------------------------------------------------------------ */

/* The bounds of one attempt at a page: only the traces that start in
 * [lo, hi] (has_lo, has_hi: else unbounded on that side). */
typedef struct traces_bounds {
    int has_lo, has_hi;
    uint64_t lo, hi;
} traces_bounds;

/* " AND date >= 'day of lo' AND date <= 'day of hi'": a row of spans or
 * trace_index has the day of its time (ch_rows_date(), which is
 * monotonic), and a row's time is at least its trace's start. */
static void traces_days_cond(buf *sql, const traces_bounds *b, int upper) {
    if (b->has_lo) {
        buf_append_str(sql, " AND date >= '");
        ch_rows_date(sql, b->lo);
        buf_append_char(sql, '\'');
    }
    if (upper && b->has_hi) {
        buf_append_str(sql, " AND date <= '");
        ch_rows_date(sql, b->hi);
        buf_append_char(sql, '\'');
    }
}

/* The SQL of the page: rows (trace id hex, start, end). b: the attempt's
 * bounds. A trace that starts in [lo, hi] has a trace_index row that
 * starts there (its earliest), and every one of its rows starts at or
 * after lo; so the traces whose rows start in [lo, hi] (a cheap filter,
 * on the days of that range only) are all the candidates, and each is
 * then grouped over all its rows (trace_index is ordered by trace id) for
 * its exact start and end. */
static void traces_page_sql(store_reader *r, const query_traces_params *p, const query_words *qw,
                            int has_cursor, uint64_t ckey, const uint8_t cid[16],
                            const traces_bounds *b, buf *sql) {
    buf conds;
    buf_init(&conds, (size_t)4 << 20);
    int filtered = traces_span_conds(r, p, qw, &conds);
    if (filtered && b->has_lo) { /* the matching span starts after its trace */
        buf_printf(&conds, " AND time >= %" PRIu64, b->lo);
        traces_days_cond(&conds, b, 0);
    }
    buf_append_str(sql, "SELECT lower(hex(trace_id)), st, en FROM (SELECT trace_id,"
                        " min(start) AS st, max(`end`) AS en FROM " CH_TRACE_INDEX " WHERE 1");
    if (filtered) {
        buf_append_str(sql, " AND trace_id GLOBAL IN (SELECT trace_id FROM " CH_SPANS " WHERE 1");
        buf_append(sql, conds.ptr, conds.len);
        buf_append_str(sql, ")");
    }
    buf_free(&conds);
    if (b->has_lo) { /* else: all traces (no lookback) */
        buf_append_str(sql, " AND trace_id GLOBAL IN (SELECT trace_id FROM " CH_TRACE_INDEX
                            " WHERE 1");
        traces_days_cond(sql, b, 1);
        if (b->has_lo)
            buf_printf(sql, " AND start >= %" PRIu64, b->lo);
        if (b->has_hi)
            buf_printf(sql, " AND start <= %" PRIu64, b->hi);
        buf_append_str(sql, ")");
    }
    buf_append_str(sql, " GROUP BY trace_id) WHERE 1");
    chq_age_cond(r, sql, "st");
    if (b->has_lo)
        buf_printf(sql, " AND st >= %" PRIu64, b->lo);
    if (p->has_start)
        buf_printf(sql, " AND st >= %" PRIu64, p->start_ns);
    if (p->has_end)
        buf_printf(sql, " AND st < %" PRIu64, p->end_ns);
    if (p->has_min_duration)
        buf_printf(sql, " AND if(en > st, en - st, 0) >= %" PRIu64, p->min_duration_ns);
    if (p->has_max_duration)
        buf_printf(sql, " AND if(en > st, en - st, 0) <= %" PRIu64, p->max_duration_ns);
    if (has_cursor) {
        buf_printf(sql, " AND (st < %" PRIu64 " OR (st = %" PRIu64 " AND trace_id < ", ckey, ckey);
        ch_sql_bytes(sql, cid, 16);
        buf_append_str(sql, "))");
    }
    buf_printf(sql, " ORDER BY st DESC, trace_id DESC LIMIT %zu", p->limit + 1);
}

/* The lookbacks of a page newest first: the traces that start within
 * the first lookback before the newest row start (at or before the
 * cursor / window's end) are searched first, then within TRACES_LOOK_GROW
 * times as long, ..., then all. The first lookback is the time the page's
 * traces would take at the index's mean rate of rows, times
 * TRACES_LOOK_SLACK (a trace has a row per service and insert). */
#define TRACES_LOOK_MIN_NS ((uint64_t)1000000) /* 1 ms */
#define TRACES_LOOK_SLACK 8
#define TRACES_LOOK_GROW 8
#define TRACES_LOOK_TRIES 4

/* The page's rows (as traces_page_sql()) into ans: attempts over a
 * growing lookback until one has limit + 1 traces, which is then the
 * page (every trace outside an attempt's range starts before every
 * trace inside it), or the last, unbounded below but for the window's
 * start and the age, has searched everything. */
static int traces_page(store_reader *r, const query_traces_params *p, const query_words *qw,
                       int has_cursor, uint64_t ckey, const uint8_t cid[16], buf *sql,
                       buf *ans) {
    traces_bounds b = {0};
    if (has_cursor) {
        b.has_hi = 1;
        b.hi = ckey;
    }
    if (p->has_end && p->end_ns > 0 && (!b.has_hi || p->end_ns - 1 < b.hi)) {
        b.has_hi = 1;
        b.hi = p->end_ns - 1;
    }
    uint64_t floor = chq_min_time(r);
    if (p->has_start && p->start_ns > floor)
        floor = p->start_ns;
    /* the newest row start in range: where the lookback begins */
    uint64_t top = 0, look = TRACES_LOOK_MIN_NS;
    int rc = QUERY_OK;
    if (!(p->has_end && p->end_ns == 0)) {
        buf_append_str(sql, "SELECT max(start), min(start), count() FROM " CH_TRACE_INDEX
                            " WHERE 1");
        traces_days_cond(sql, &b, 1);
        if (b.has_hi)
            buf_printf(sql, " AND start <= %" PRIu64, b.hi);
        rc = chq_run(r, sql, ans);
        buf_reset(sql);
        ch_field f[3];
        char *pp = ans->ptr, *end = ans->ptr + ans->len;
        if (rc == QUERY_OK && ch_tsv_row(&pp, end, f, 3) == 3 && ch_field_u64(&f[2]) > 0) {
            top = ch_field_u64(&f[0]);
            uint64_t lo = ch_field_u64(&f[1]), rows = ch_field_u64(&f[2]);
            double want = (double)(top - lo) / (double)rows * (double)(p->limit + 1) *
                          TRACES_LOOK_SLACK;
            if (want > (double)look)
                look = want < (double)UINT64_MAX / 2 ? (uint64_t)want : UINT64_MAX / 2;
        }
        buf_reset(ans);
    }
    for (int i = 0; rc == QUERY_OK; i++) {
        int last = i == TRACES_LOOK_TRIES || top <= floor || top - floor <= look;
        /* the last: bounded by the window's start (not by the age alone,
         * which leaves about every trace in) */
        b.has_lo = !last || (p->has_start && p->start_ns > 0 && p->start_ns == floor);
        b.lo = last ? floor : top - look;
        traces_page_sql(r, p, qw, has_cursor, ckey, cid, &b, sql);
        rc = chq_run(r, sql, ans);
        buf_reset(sql);
        if (rc != QUERY_OK || last)
            break;
        size_t rows = 0;
        for (size_t k = 0; k < ans->len; k++)
            rows += ans->ptr[k] == '\n';
        if (rows > p->limit)
            break;
        buf_reset(ans);
        look = look < UINT64_MAX / (2 * TRACES_LOOK_GROW) ? look * TRACES_LOOK_GROW : UINT64_MAX / 2;
    }
    return rc;
}

/* ---- summaries -------------------------------------------------------------------------- */

/* " trace_id IN (...)" for the n ids (32 hex digits each), then " AND
 * (...)": the days, services and ranges of starts of their spans, from
 * trace_index (per day and service, the earliest and the latest start of
 * the traces' spans there; a day with rows of the first layout of
 * trace_index, without service, whole), so the spans are read from a few
 * granules of the primary key (service, time). Into cond; 0 when the
 * index has no row of them. */
static int traces_ids_cond(store_reader *r, char (*ids)[33], size_t n, buf *cond) {
    buf list, sql, ans;
    buf_init(&list, 64 * n + 64);
    buf_init(&sql, 64 * n + 4096);
    buf_init(&ans, TRACES_ANSWER_MAX);
    for (size_t i = 0; i < n; i++) {
        uint8_t raw[16];
        model_hex_decode(ids[i], 32, raw, 16);
        if (i)
            buf_append_char(&list, ',');
        ch_sql_bytes(&list, raw, 16);
    }
    const char *l = list.ptr ? list.ptr : "";
    buf_printf(&sql,
               "SELECT date, service, min(start), max(last), countIf(last = 0 AND service = '')"
               " FROM " CH_TRACE_INDEX " WHERE trace_id IN (%s) GROUP BY date, service",
               l);
    int rc = chq_run(r, &sql, &ans), any = 0;
    buf_printf(cond, " trace_id IN (%s)", l);
    char *p = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[5];
    int k;
    while (rc == QUERY_OK && (k = ch_tsv_row(&p, end, f, 5)) != 0) {
        if (k != 5) {
            rc = QUERY_EDB;
            break;
        }
        buf_append_str(cond, any ? " OR " : " AND (");
        any = 1;
        buf_append_str(cond, "(date = ");
        ch_sql_quote(cond, f[0].ptr, f[0].len);
        if (ch_field_u64(&f[4]) == 0) {
            buf_append_str(cond, " AND service = ");
            ch_sql_quote(cond, f[1].ptr, f[1].len);
            buf_printf(cond, " AND time >= %" PRIu64 " AND time <= %" PRIu64,
                       ch_field_u64(&f[2]), ch_field_u64(&f[3]));
        }
        buf_append_char(cond, ')');
    }
    if (any)
        buf_append_char(cond, ')');
    buf_free(&list);
    buf_free(&sql);
    buf_free(&ans);
    if (rc == QUERY_OK && !any)
        rc = QUERY_ENOTFOUND;
    return rc;
}

/* The root of a trace, as the SQLite store's trace rows keep it: the first
 * span without a parent to arrive (by insert; within one, the earliest),
 * else the earliest span. */
#define TRACES_ROOT_ORDER "tuple(has_parent, if(has_parent = 1, 0, arrival), time)"

#define SUM_COLS 7
#define SVC_COLS 3

/* The summaries of the n traces ids[] (hex) in that order into w (as list
 * items); a trace without spans (gone since) is left out. *found: how many
 * were written. */
static int traces_summaries(store_reader *r, char (*ids)[33], size_t n, jw *w, size_t *found) {
    buf sql, sums, svcs, cond;
    buf_init(&sql, (size_t)1 << 20);
    buf_init(&sums, TRACES_ANSWER_MAX);
    buf_init(&svcs, TRACES_ANSWER_MAX);
    buf_init(&cond, (size_t)1 << 20);
    *found = 0;
    int rc = traces_ids_cond(r, ids, n, &cond);
    if (rc == QUERY_ENOTFOUND) { /* none of them is stored (any more) */
        buf_free(&sql);
        buf_free(&sums);
        buf_free(&svcs);
        buf_free(&cond);
        return QUERY_OK;
    }
    buf_append_str(&sql, "SELECT lower(hex(trace_id)), min(time), max(end_ns), count(),"
                         " countIf(status_code = 2), argMin(service, " TRACES_ROOT_ORDER "),"
                         " argMin(name, " TRACES_ROOT_ORDER ") FROM " CH_SPANS " WHERE");
    buf_append(&sql, cond.ptr, cond.len);
    chq_age_cond(r, &sql, "time");
    buf_append_str(&sql, " GROUP BY trace_id");
    if (rc == QUERY_OK)
        rc = chq_run(r, &sql, &sums);
    if (rc == QUERY_OK) {
        buf_reset(&sql);
        buf_append_str(&sql, "SELECT lower(hex(trace_id)), service, count() AS c FROM " CH_SPANS
                             " WHERE");
        buf_append(&sql, cond.ptr, cond.len);
        chq_age_cond(r, &sql, "time");
        buf_append_str(&sql, " GROUP BY trace_id, service ORDER BY trace_id, c DESC, service");
        rc = chq_run(r, &sql, &svcs);
    }
    /* the rows, split once */
    ch_field (*sf)[SUM_COLS] = NULL, (*vf)[SVC_COLS] = NULL;
    size_t ns = 0, nv = 0;
    if (rc == QUERY_OK) {
        sf = calloc(n ? n : 1, sizeof(*sf));
        size_t vcap = 64;
        vf = calloc(vcap, sizeof(*vf));
        if (sf == NULL || vf == NULL)
            rc = QUERY_ENOMEM;
        char *pp = sums.ptr, *end = sums.ptr + sums.len;
        int k;
        while (rc == QUERY_OK && ns < n && (k = ch_tsv_row(&pp, end, sf[ns], SUM_COLS)) != 0)
            if (k != SUM_COLS)
                rc = QUERY_EDB;
            else
                ns++;
        pp = svcs.ptr;
        end = svcs.ptr + svcs.len;
        while (rc == QUERY_OK) {
            if (nv == vcap) {
                vcap *= 2;
                void *nvf = realloc(vf, vcap * sizeof(*vf));
                if (nvf == NULL) {
                    rc = QUERY_ENOMEM;
                    break;
                }
                vf = nvf;
            }
            k = ch_tsv_row(&pp, end, vf[nv], SVC_COLS);
            if (k == 0)
                break;
            if (k != SVC_COLS)
                rc = QUERY_EDB;
            else
                nv++;
        }
    }
    for (size_t i = 0; rc == QUERY_OK && i < n; i++) {
        const ch_field *s = NULL;
        for (size_t j = 0; j < ns && s == NULL; j++)
            if (strcmp(sf[j][0].ptr, ids[i]) == 0)
                s = sf[j];
        if (s == NULL)
            continue;
        uint64_t start = ch_field_u64(&s[1]), end = ch_field_u64(&s[2]);
        jw_object_begin(w);
        jw_key(w, "traceId");
        jw_string(w, ids[i]);
        jw_key(w, "rootService");
        jw_stringn(w, s[5].ptr, s[5].len);
        jw_key(w, "rootName");
        jw_stringn(w, s[6].ptr, s[6].len);
        jw_key(w, "startTimeUnixNano");
        jw_uint_string(w, start);
        jw_key(w, "durationNs");
        jw_uint(w, end > start ? end - start : 0);
        jw_key(w, "spanCount");
        jw_int(w, (int64_t)ch_field_u64(&s[3]));
        jw_key(w, "errorCount");
        jw_int(w, (int64_t)ch_field_u64(&s[4]));
        jw_key(w, "services");
        jw_array_begin(w);
        for (size_t j = 0; j < nv; j++) {
            if (strcmp(vf[j][0].ptr, ids[i]) != 0)
                continue;
            jw_object_begin(w);
            jw_key(w, "name");
            jw_stringn(w, vf[j][1].ptr, vf[j][1].len);
            jw_key(w, "spanCount");
            jw_int(w, (int64_t)ch_field_u64(&vf[j][2]));
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
        (*found)++;
    }
    free(sf);
    free(vf);
    buf_free(&sql);
    buf_free(&sums);
    buf_free(&svcs);
    buf_free(&cond);
    return rc;
}

static int traces_jw_rc(const jw *w) {
    if (jw_error(w))
        return jw_error(w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    return QUERY_OK;
}

int chq_trace_summary(store_reader *r, const uint8_t trace_id[16], buf *out) {
    char ids[1][33];
    model_hex_encode(trace_id, 16, ids[0]);
    jw w;
    jw_init(&w, out);
    size_t found = 0;
    int rc = traces_summaries(r, ids, 1, &w, &found);
    if (rc == QUERY_OK && found == 0)
        rc = QUERY_ENOTFOUND;
    return rc == QUERY_OK ? traces_jw_rc(&w) : rc;
}

/* ---- the list --------------------------------------------------------------------------- */

int chq_traces(store_reader *r, const query_traces_params *p, buf *out) {
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->status < QUERY_STATUS_ANY ||
        p->status > QUERY_STATUS_ERROR)
        return QUERY_EINVAL;
    uint64_t ckey = 0;
    uint8_t cid[16] = {0};
    int has_cursor = p->cursor != NULL && p->cursor[0] != '\0';
    if (has_cursor && traces_cursor_decode(p->cursor, &ckey, cid) != 0)
        return QUERY_EINVAL;
    query_words qw = {0};
    buf scratch, sql, ans;
    buf_init(&scratch, (size_t)1 << 20);
    buf_init(&sql, (size_t)4 << 20);
    buf_init(&ans, TRACES_ANSWER_MAX);
    char (*ids)[33] = NULL;
    uint64_t *starts = NULL;
    size_t n = 0;
    int rc = QUERY_OK, empty = 0;
    if (p->q != NULL && p->q[0] != '\0') {
        rc = query_words_of(p->q, &qw, &scratch);
        empty = rc == QUERY_OK && qw.n == 0; /* no word: nothing matches */
    }
    if (rc == QUERY_OK && !empty) {
        rc = traces_page(r, p, &qw, has_cursor, ckey, cid, &sql, &ans);
    }
    if (rc == QUERY_OK) {
        ids = calloc(p->limit + 1, sizeof(*ids));
        starts = calloc(p->limit + 1, sizeof(*starts));
        if (ids == NULL || starts == NULL)
            rc = QUERY_ENOMEM;
    }
    char *pp = ans.ptr, *end = ans.ptr + ans.len;
    ch_field f[3];
    int k;
    while (rc == QUERY_OK && !empty && n <= p->limit && (k = ch_tsv_row(&pp, end, f, 3)) != 0) {
        if (k != 3 || f[0].len != 32) {
            rc = QUERY_EDB;
            break;
        }
        memcpy(ids[n], f[0].ptr, 33);
        starts[n++] = ch_field_u64(&f[1]);
    }
    size_t rows = n < p->limit ? n : p->limit, found = 0;
    jw w;
    if (rc == QUERY_OK) {
        query_list_begin(&w, out, "traces");
        if (rows > 0)
            rc = traces_summaries(r, ids, rows, &w, &found);
    }
    if (rc == QUERY_OK) {
        jw_array_end(&w);
        jw_key(&w, "nextCursor");
        if (n > p->limit) {
            char cur[TRACES_CURSOR_LEN + 1];
            uint8_t raw[16];
            model_hex_decode(ids[rows - 1], 32, raw, 16);
            traces_cursor_encode(starts[rows - 1], raw, cur);
            jw_string(&w, cur);
        } else {
            jw_null(&w);
        }
        jw_object_end(&w);
        rc = traces_jw_rc(&w);
    }
    free(ids);
    free(starts);
    query_words_free(&qw);
    buf_free(&scratch);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}
