/* ch_query_export.c - GET /api/v1/export from ClickHouse: the lines of
 * query_export_next() when the store is ClickHouse; see
 * query_export_internal.h.
 *
 * DESIGN
 * The lines are those of the SQLite walk (query_export.c): the same pages
 * (EXPORT_TRACES_PAGE traces with all their spans, EXPORT_LOGS_PAGE
 * records, one instrument and up to EXPORT_POINTS_PAGE of its points), the
 * same filters, the same OTLP JSON (export_json.h, fed from the columns of
 * ch_rows.c: the JSON texts are the ones SQLite keeps).
 *
 * Order. ClickHouse has no row ids; items go by `arrival` (the wall-clock
 * time of the insert round that stored them), and items of one round by a
 * tie-break that makes the order total:
 *   traces   by first arrival of a span, then trace id;
 *   spans    (of a page of traces) by arrival, then resource and scope
 *            (hashes of their columns, so that a round's spans of one
 *            resource share an entry), trace id, span id, start;
 *   logs     by arrival, resource, scope, time, trace id, span id, then a
 *            hash of the other columns;
 *   metrics  instruments (resource, scope, name) by first arrival of a
 *            point in the window, then their columns; an instrument's
 *            points by arrival, time, attributes, then the other columns.
 * Rows equal in every ordered column are the same item as exported, so
 * their order does not matter. A position is (arrival, how many items of
 * that arrival were taken): the next page is `arrival >= A ORDER BY ...
 * LIMIT taken, page`, which neither repeats nor skips an item while rows
 * are added (later rounds have later arrivals) and costs a sort of what
 * follows the position, not of everything before it.
 *
 * Filters. Traces: a trace is exported when one of its spans matches every
 * span filter (service, name, status, attributes, q), counted in a GROUP
 * BY over trace_id (of the traces with such a span, when there are span
 * filters) with its start and duration (min start, max end) for the trace
 * filters and --max-age; then all its spans. That GROUP BY reads the whole
 * spans table, so it lists EXPORT_CH_TRACES_LIST traces at a time, kept in
 * the state for the lines that follow. Logs: the list's
 * conditions on the record's columns. Metrics: service and the point-time
 * window. Attribute filters and the age limit are ch_query.c's. q's words
 * are matched as whole words (a trailing * for a prefix) in the lowercased
 * text by a regular expression: for traces in the name, status message,
 * attribute values and events' names and attribute values (the JSON texts
 * without keys, times and escapes: what SQLite's index holds), for logs in
 * the body (a word of several parts, "a-b", is those parts one after the
 * other). That is the SQLite indexes' notion of a word; diacritics are not
 * folded as the log index folds them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "export_json.h"
#include "model.h"
#include "query_export_internal.h"
#include "reader.h"

/* The largest answer read for one line. */
#define CHX_ANS_MAX ((size_t)512 << 20)
/* Most fields of a row. */
#define CHX_FIELDS 40

/* How many traces or instruments one listing asks for: `dflt`; in test
 * builds LOUPE_TEST_CH_EXPORT_LIST=N (1..dflt) makes it N, so that a test
 * with a few items crosses listings. */
static size_t chx_list_size(size_t dflt) {
#ifdef LOUPE_TESTING
    const char *v = getenv("LOUPE_TEST_CH_EXPORT_LIST");
    long n = v ? strtol(v, NULL, 10) : 0;
    if (n >= 1 && (size_t)n < dflt)
        return (size_t)n;
#endif
    return dflt;
}

/* The resource and scope columns every item query starts with (10). */
#define CHX_OWNER_COLS                                                                             \
    "cityHash64(service, res_attrs, res_dropped, res_schema_url) AS res_h,"                        \
    " cityHash64(scope_name, scope_version, scope_attrs, scope_dropped, scope_schema_url)"        \
    " AS scope_h, res_attrs, res_dropped, res_schema_url, scope_name, scope_version,"             \
    " scope_attrs, scope_dropped, scope_schema_url"

/* The key of an instrument (as SQLite's metrics table: resource, scope,
 * name), in the order of the listing's columns after its first. */
static const char *const chx_inst_cols[] = {
    "service",     "res_attrs",     "res_dropped",   "res_schema_url",   "scope_name",
    "scope_version", "scope_attrs", "scope_dropped", "scope_schema_url", "name",
};
#define CHX_INST_N (sizeof(chx_inst_cols) / sizeof(chx_inst_cols[0]))
/* Which of them are numbers (compared unquoted). */
static int chx_inst_numeric(size_t i) {
    return i == 2 || i == 7;
}

/* The end of an answer's data (NULL for an empty one). */
static char *chx_end(const buf *b) {
    return b->ptr ? b->ptr + b->len : NULL;
}

static exj_text chx_txt(const ch_field *f) {
    exj_text t = {f->ptr, f->len};
    return t;
}

/* The framing of the row's owner columns (fields 0..9). */
static void chx_group(jw *w, exj_groups *g, const ch_field *f) {
    exj_owner o = {
        .res_attrs = chx_txt(&f[2]),
        .res_dropped = ch_field_i64(&f[3]),
        .res_schema = chx_txt(&f[4]),
        .scope_name = chx_txt(&f[5]),
        .scope_version = chx_txt(&f[6]),
        .scope_attrs = chx_txt(&f[7]),
        .scope_dropped = ch_field_i64(&f[8]),
        .scope_schema = chx_txt(&f[9]),
    };
    exj_group(w, g, (int64_t)ch_field_u64(&f[0]), (int64_t)ch_field_u64(&f[1]), &o);
}

/* The code of a line written with w. */
static int chx_jw_code(const jw *w) {
    int e = jw_error(w);
    return e == 0 ? QUERY_OK : e == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
}

/* Takes one item of `arrival` past position p. */
static void chx_pos_take(chq_export_pos *p, uint64_t arrival) {
    if (arrival == p->arrival) {
        p->taken++;
    } else {
        p->arrival = arrival;
        p->taken = 1;
    }
}

/* " AND arrival >= A ORDER BY " is the caller's; " LIMIT taken, n". */
static void chx_limit(buf *sql, const chq_export_pos *p, size_t n) {
    buf_printf(sql, " LIMIT %" PRIu64 ", %zu", p->taken, n);
}

static void chx_window(buf *sql, const char *col, int has_start, uint64_t start, int has_end,
                       uint64_t end) {
    if (has_start)
        buf_printf(sql, " AND %s >= %" PRIu64, col, start);
    if (has_end)
        buf_printf(sql, " AND %s < %" PRIu64, col, end);
}

/* One line being made: its query, the answer, and the document around its
 * rows: {"<key>": [<resource groups>]}. */
typedef struct chx_line {
    buf sql, ans;
    jw w;
    exj_groups g;
    size_t start;   /* out's length before the line */
    char *at, *end; /* the rows not read yet */
} chx_line;

static void chx_line_init(chx_line *l) {
    memset(l, 0, sizeof(*l));
    buf_init(&l->sql, (size_t)1 << 20);
    buf_init(&l->ans, CHX_ANS_MAX);
}

static void chx_line_free(chx_line *l) {
    buf_free(&l->sql);
    buf_free(&l->ans);
}

/* Runs l->sql, then opens the document in out: key, and groups of
 * `scopes` holding `items`. Returns a QUERY_* code. */
static int chx_line_open(chx_line *l, store_reader *r, buf *out, const char *key,
                         const char *scopes, const char *items) {
    int rc = chq_run(r, &l->sql, &l->ans);
    if (rc != QUERY_OK)
        return rc;
    l->start = out->len;
    l->g = (exj_groups){.scopes = scopes, .items = items};
    l->at = l->ans.ptr;
    l->end = chx_end(&l->ans);
    jw_init(&l->w, out);
    jw_object_begin(&l->w);
    jw_key(&l->w, key);
    jw_array_begin(&l->w);
    return QUERY_OK;
}

/* The next row of the answer into f: 1, or 0 after the last, when *rc is
 * not QUERY_OK, or for a row without `width` fields (*rc = QUERY_EDB). */
static int chx_line_row(chx_line *l, ch_field *f, int width, int *rc) {
    if (*rc != QUERY_OK || l->at == NULL)
        return 0;
    int nf = ch_tsv_row(&l->at, l->end, f, CHX_FIELDS);
    if (nf > 0 && nf != width)
        *rc = QUERY_EDB;
    return nf == width;
}

/* Closes the document when rc is QUERY_OK (the line's code then); a line
 * of no item (n == 0) is taken back out of out. */
static int chx_line_close(chx_line *l, buf *out, size_t n, int rc) {
    if (rc != QUERY_OK)
        return rc;
    exj_groups_close(&l->w, &l->g);
    jw_array_end(&l->w);
    jw_object_end(&l->w);
    rc = chx_jw_code(&l->w);
    if (n == 0)
        out->len = l->start;
    return rc;
}

static int chx_word_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Between two words: an ASCII byte that is not a letter or a digit. */
#define CHX_SEP "[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]"

/* The next run of word characters in s[*i..n) at s[*a..*i) (*i moves past
 * it): 1, or 0 when there is none left. */
static int chx_next_word(const char *s, size_t n, size_t *i, size_t *a) {
    while (*i < n && !chx_word_char((unsigned char)s[*i]))
        (*i)++;
    *a = *i;
    while (*i < n && chx_word_char((unsigned char)s[*i]))
        (*i)++;
    return *i > *a;
}

/* Appends " AND match(<hay>, '...')" for one word: its parts w[0..n)
 * (word characters and separators), whole or (prefix) as a word's start.
 * hay(sql) writes the text searched, lowercased (ASCII). */
static void chx_word_cond(buf *sql, void (*hay)(buf *sql), const char *w, size_t n, int prefix) {
    buf re;
    buf_init(&re, 64 * n + 256);
    buf_append_str(&re, "(^|" CHX_SEP ")");
    int parts = 0;
    size_t i = 0, a;
    while (chx_next_word(w, n, &i, &a)) {
        if (parts++)
            buf_append_str(&re, CHX_SEP "+");
        for (size_t k = a; k < i; k++) {
            char c = w[k];
            buf_append_char(&re, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
        }
    }
    if (!prefix)
        buf_append_str(&re, "($|" CHX_SEP ")");
    if (parts > 0) {
        buf_append_str(sql, " AND match(");
        hay(sql);
        buf_append_str(sql, ", ");
        ch_sql_quote(sql, re.ptr ? re.ptr : "", re.len);
        buf_append_str(sql, ")");
    }
    buf_free(&re);
}

/* A span's searchable text, lowercased (ASCII): its name, status message,
 * attribute values and events' names and attribute values -- what the
 * SQLite store's index holds (attr_index.h) -- from the JSON texts with
 * the events' times and dropped counts, every object key and every escape
 * sequence made separators. */
static void chx_span_text(buf *sql) {
    static const char *const key = "\"(?:[^\"\\\\]|\\\\.)*\":";
    static const char *const event_fields =
        "\"(timeUnixNano|droppedAttributesCount)\":(\"[0-9]*\"|-?[0-9]+)";
    static const char *const escape = "\\\\(u[0-9a-fA-F]{4}|.)";
    buf_append_str(sql, "concat(' ', lower(name), ' ', lower(status_message), ' ', lower("
                        "replaceRegexpAll(replaceRegexpAll(attrs, ");
    ch_sql_quote_str(sql, key);
    buf_append_str(sql, ", ' '), ");
    ch_sql_quote_str(sql, escape);
    buf_append_str(sql, ", ' ')), ' ', lower(replaceRegexpAll(replaceRegexpAll("
                        "replaceRegexpAll(events, ");
    ch_sql_quote_str(sql, event_fields);
    buf_append_str(sql, ", ' '), ");
    ch_sql_quote_str(sql, key);
    buf_append_str(sql, ", ' '), ");
    ch_sql_quote_str(sql, escape);
    buf_append_str(sql, ", ' ')), ' ')");
}

/* The trace search's q: every word (letters and digits; "w*" a prefix)
 * in the span's texts. No word at all matches nothing, as with SQLite. */
static void chx_trace_words(buf *sql, const char *q) {
    size_t len = strlen(q);
    int words = 0;
    size_t i = 0, a;
    while (chx_next_word(q, len, &i, &a)) {
        int prefix = i < len && q[i] == '*' && (i + 1 == len || q[i + 1] == ' ' || q[i + 1] == '\t');
        chx_word_cond(sql, chx_span_text, q + a, i - a, prefix);
        words++;
    }
    if (words == 0)
        buf_append_str(sql, " AND 0");
}

/* ---- traces ------------------------------------------------------------------------ */

/* The span filters of the trace search, as one condition ("1" for none). */
static void chx_span_pred(buf *sql, const query_traces_params *p) {
    buf_append_str(sql, "(1");
    if (p->service) {
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, p->service);
    }
    if (p->name) {
        buf_append_str(sql, " AND name = ");
        ch_sql_quote_str(sql, p->name);
    }
    if (p->status != QUERY_STATUS_ANY)
        buf_printf(sql, " AND status_code = %d", p->status - 1);
    for (size_t i = 0; i < p->n_attrs; i++) {
        buf_append_str(sql, " AND ");
        chq_attr_cond(sql, &p->attrs[i]);
    }
    if (p->q != NULL && p->q[0] != '\0')
        chx_trace_words(sql, p->q);
    buf_append_char(sql, ')');
}

/* Lists the next EXPORT_CH_TRACES_LIST traces after the position (ids and
 * first arrivals) into the state's cache. */
static int chx_list_traces(query_export *x, store_reader *r, buf *sql, buf *ans) {
    const query_traces_params *p = &x->tp;
    chq_export_state *s = &x->ch;
    int filtered = p->service || p->name || p->status != QUERY_STATUS_ANY || p->n_attrs > 0 ||
                   (p->q != NULL && p->q[0] != '\0');
    buf_reset(sql);
    buf_append_str(sql, "SELECT trace_id, fa FROM (SELECT trace_id, min(arrival) AS fa,"
                        " min(time) AS st, max(end_ns) AS en, sum(");
    chx_span_pred(sql, p);
    buf_printf(sql, ") AS hits FROM %s", CH_SPANS);
    if (filtered) { /* only the traces with a matching span are grouped */
        buf_printf(sql, " WHERE trace_id GLOBAL IN (SELECT trace_id FROM %s WHERE ", CH_SPANS);
        chx_span_pred(sql, p);
        buf_append_char(sql, ')');
    }
    buf_printf(sql, " GROUP BY trace_id) WHERE fa >= %" PRIu64 " AND hits > 0", s->pos.arrival);
    chq_age_cond(r, sql, "st");
    chx_window(sql, "st", p->has_start, p->start_ns, p->has_end, p->end_ns);
    if (p->has_min_duration)
        buf_printf(sql, " AND if(en > st, en - st, 0) >= %" PRIu64, p->min_duration_ns);
    if (p->has_max_duration)
        buf_printf(sql, " AND if(en > st, en - st, 0) <= %" PRIu64, p->max_duration_ns);
    buf_append_str(sql, " ORDER BY fa, trace_id");
    size_t list = chx_list_size(EXPORT_CH_TRACES_LIST);
    chx_limit(sql, &s->pos, list);
    int rc = chq_run(r, sql, ans);
    if (rc != QUERY_OK)
        return rc;
    if (s->trace_ids == NULL) {
        s->trace_ids = malloc(EXPORT_CH_TRACES_LIST * sizeof(*s->trace_ids));
        s->trace_fa = malloc(EXPORT_CH_TRACES_LIST * sizeof(*s->trace_fa));
        if (s->trace_ids == NULL || s->trace_fa == NULL)
            return QUERY_ENOMEM;
    }
    s->trace_n = s->trace_i = 0;
    char *at = ans->ptr, *end = chx_end(ans);
    ch_field f[CHX_FIELDS];
    int nf;
    while (at != NULL && s->trace_n < list && (nf = ch_tsv_row(&at, end, f, CHX_FIELDS)) > 0) {
        if (nf != 2 || f[0].len != 16)
            return QUERY_EDB;
        memcpy(s->trace_ids[s->trace_n], f[0].ptr, 16);
        s->trace_fa[s->trace_n++] = ch_field_u64(&f[1]);
    }
    s->trace_end = s->trace_n < list;
    s->trace_listed = 1;
    return QUERY_OK;
}

/* The next page of trace ids (16 bytes each) into ids, *n of them. */
static int chx_trace_page(query_export *x, store_reader *r, uint8_t (*ids)[16], size_t *n,
                          buf *sql, buf *ans) {
    chq_export_state *s = &x->ch;
    *n = 0;
    while (*n < EXPORT_TRACES_PAGE) { /* a page may take the end of one listing */
        if (s->trace_i == s->trace_n) {
            if (s->trace_listed && s->trace_end)
                break;
            int rc = chx_list_traces(x, r, sql, ans);
            if (rc != QUERY_OK)
                return rc;
            if (s->trace_n == 0)
                break;
        }
        for (; s->trace_i < s->trace_n && *n < EXPORT_TRACES_PAGE; s->trace_i++) {
            memcpy(ids[(*n)++], s->trace_ids[s->trace_i], 16);
            chx_pos_take(&s->pos, s->trace_fa[s->trace_i]);
        }
    }
    return QUERY_OK;
}

#define CHX_SPAN_COLS                                                                              \
    "trace_id, span_id, parent_span_id, has_parent, trace_state, flags, name, kind, time,"        \
    " end_ns, attrs, dropped_attrs, events, dropped_events, links, dropped_links, status_code,"   \
    " status_message"
#define CHX_SPAN_NF (10 + 18)

static void chx_span(jw *w, const ch_field *f) {
    const ch_field *c = f + 10;
    exj_span s = {
        .trace_id = c[0].len == 16 ? (const uint8_t *)c[0].ptr : NULL,
        .span_id = c[1].len == 8 ? (const uint8_t *)c[1].ptr : NULL,
        .parent_span_id =
            ch_field_u64(&c[3]) && c[2].len == 8 ? (const uint8_t *)c[2].ptr : NULL,
        .trace_state = chx_txt(&c[4]),
        .flags = ch_field_i64(&c[5]),
        .name = chx_txt(&c[6]),
        .kind = (int)ch_field_i64(&c[7]),
        .start_ns = ch_field_u64(&c[8]),
        .end_ns = ch_field_u64(&c[9]),
        .attrs = chx_txt(&c[10]),
        .dropped_attrs = ch_field_i64(&c[11]),
        .events = chx_txt(&c[12]),
        .dropped_events = ch_field_i64(&c[13]),
        .links = chx_txt(&c[14]),
        .dropped_links = ch_field_i64(&c[15]),
        .status_code = (int)ch_field_i64(&c[16]),
        .status_message = chx_txt(&c[17]),
    };
    exj_span_write(w, &s);
}

/* One line: every span of the next page of traces; *n = 0 when there is
 * no next page (nothing written). */
static int chx_traces_line(query_export *x, store_reader *r, buf *out, size_t *n) {
    uint8_t ids[EXPORT_TRACES_PAGE][16];
    chx_line l;
    chx_line_init(&l);
    int rc = chx_trace_page(x, r, ids, n, &l.sql, &l.ans);
    if (rc != QUERY_OK || *n == 0)
        goto out;
    buf_reset(&l.sql);
    buf_printf(&l.sql, "SELECT " CHX_OWNER_COLS ", " CHX_SPAN_COLS " FROM %s WHERE trace_id IN (",
               CH_SPANS);
    for (size_t i = 0; i < *n; i++) {
        if (i)
            buf_append_char(&l.sql, ',');
        ch_sql_bytes(&l.sql, ids[i], 16);
    }
    buf_append_str(&l.sql, ") ORDER BY arrival, res_h, scope_h, trace_id, span_id, time");
    rc = chx_line_open(&l, r, out, "resourceSpans", "scopeSpans", "spans");
    ch_field f[CHX_FIELDS];
    while (chx_line_row(&l, f, CHX_SPAN_NF, &rc)) {
        chx_group(&l.w, &l.g, f);
        chx_span(&l.w, f);
    }
    rc = chx_line_close(&l, out, *n, rc);
out:
    chx_line_free(&l);
    return rc;
}

/* ---- logs -------------------------------------------------------------------------- */

/* time: the record's own time, else when it was observed, else its arrival
 * (ch_rows_log_time), the time SQLite keeps and exports */
#define CHX_LOG_COLS                                                                               \
    "time, observed_ns, severity, severity_text, body, attrs, dropped_attrs, flags,"           \
    " trace_id, span_id, has_trace, has_span, event_name, arrival"
#define CHX_LOG_NF (10 + 14)

static void chx_log(jw *w, const ch_field *f) {
    const ch_field *c = f + 10;
    exj_log l = {
        .time_ns = ch_field_u64(&c[0]),
        .observed_ns = ch_field_u64(&c[1]),
        .severity = (int)ch_field_i64(&c[2]),
        .severity_text = chx_txt(&c[3]),
        .body = chx_txt(&c[4]),
        .attrs = chx_txt(&c[5]),
        .dropped_attrs = ch_field_i64(&c[6]),
        .flags = ch_field_i64(&c[7]),
        .trace_id = ch_field_u64(&c[10]) && c[8].len == 16 ? (const uint8_t *)c[8].ptr : NULL,
        .span_id = ch_field_u64(&c[11]) && c[9].len == 8 ? (const uint8_t *)c[9].ptr : NULL,
        .event_name = chx_txt(&c[12]),
    };
    exj_log_write(w, &l);
}

/* One line: the next page of records; *n = 0 when there is none. */
static int chx_logs_line(query_export *x, store_reader *r, buf *out, size_t *n) {
    chx_line l;
    chx_line_init(&l);
    *n = 0;
    buf_printf(&l.sql,
               "SELECT " CHX_OWNER_COLS ", " CHX_LOG_COLS " FROM %s WHERE arrival >= %" PRIu64,
               CH_LOGS, x->ch.pos.arrival);
    int rc = chq_log_conds(r, &x->lp, &l.sql);
    buf_append_str(&l.sql, " ORDER BY arrival, res_h, scope_h, time, trace_id, span_id,"
                           " cityHash64(time_ns, observed_ns, severity, severity_text, body,"
                           " attrs, dropped_attrs, flags, has_trace, has_span, event_name)");
    chx_limit(&l.sql, &x->ch.pos, EXPORT_LOGS_PAGE);
    if (rc == QUERY_OK)
        rc = chx_line_open(&l, r, out, "resourceLogs", "scopeLogs", "logRecords");
    ch_field f[CHX_FIELDS];
    while (chx_line_row(&l, f, CHX_LOG_NF, &rc)) {
        chx_group(&l.w, &l.g, f);
        chx_log(&l.w, f);
        chx_pos_take(&x->ch.pos, ch_field_u64(&f[10 + 13]));
        (*n)++;
    }
    rc = chx_line_close(&l, out, *n, rc);
    chx_line_free(&l);
    return rc;
}

/* ---- metrics ------------------------------------------------------------------------- */

/* The service and window conditions of the points exported. */
static void chx_points_conds(buf *sql, store_reader *r, const query_export *x) {
    if (x->service) {
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, x->service);
    }
    chx_window(sql, "time", x->has_start, (uint64_t)x->start, x->has_end, (uint64_t)x->end);
    chq_age_cond(r, sql, "time");
}

/* Lists the next EXPORT_CH_METRICS_PAGE instruments into s->inst_ans. */
static int chx_list_instruments(query_export *x, store_reader *r) {
    chq_export_state *s = &x->ch;
    buf sql;
    buf_init(&sql, (size_t)1 << 20);
    buf_append_str(&sql, "SELECT min(arrival) AS fa");
    for (size_t i = 0; i < CHX_INST_N; i++)
        buf_printf(&sql, ", %s", chx_inst_cols[i]);
    buf_printf(&sql, " FROM %s WHERE 1", CH_POINTS);
    chx_points_conds(&sql, r, x);
    buf_append_str(&sql, " GROUP BY");
    for (size_t i = 0; i < CHX_INST_N; i++)
        buf_printf(&sql, "%s %s", i ? "," : "", chx_inst_cols[i]);
    buf_printf(&sql, " HAVING fa >= %" PRIu64 " ORDER BY fa", s->inst_pos.arrival);
    for (size_t i = 0; i < CHX_INST_N; i++)
        buf_printf(&sql, ", %s", chx_inst_cols[i]);
    size_t list = chx_list_size(EXPORT_CH_METRICS_PAGE);
    chx_limit(&sql, &s->inst_pos, list);
    if (s->inst_ans.max == 0)
        buf_init(&s->inst_ans, CHX_ANS_MAX);
    int rc = chq_run(r, &sql, &s->inst_ans);
    buf_free(&sql);
    if (rc != QUERY_OK)
        return rc;
    size_t rows = 0;
    for (size_t i = 0; i < s->inst_ans.len; i++)
        rows += s->inst_ans.ptr[i] == '\n';
    s->inst_end = rows < list;
    s->inst_next = s->inst_ans.ptr;
    return QUERY_OK;
}

/* Makes the next instrument the open one; *found = 0 when there is none. */
static int chx_next_instrument(query_export *x, store_reader *r, int *found) {
    chq_export_state *s = &x->ch;
    *found = 0;
    char *end = chx_end(&s->inst_ans);
    if (s->inst_next == NULL || s->inst_next >= end) {
        if (s->inst_end && s->inst_next != NULL)
            return QUERY_OK;
        int rc = chx_list_instruments(x, r);
        if (rc != QUERY_OK)
            return rc;
        end = chx_end(&s->inst_ans);
        if (s->inst_next == NULL || s->inst_next >= end)
            return QUERY_OK;
    }
    char *nl = memchr(s->inst_next, '\n', (size_t)(end - s->inst_next));
    size_t len = nl ? (size_t)(nl - s->inst_next) : (size_t)(end - s->inst_next);
    free(s->inst_row);
    s->inst_row = malloc(len + 2);
    if (s->inst_row == NULL)
        return QUERY_ENOMEM;
    memcpy(s->inst_row, s->inst_next, len);
    s->inst_row[len] = '\n';
    s->inst_row[len + 1] = '\0';
    s->inst_row_len = len + 1;
    s->inst_next += len + (nl != NULL);
    /* its first arrival: the listing's position moves past it */
    chx_pos_take(&s->inst_pos, strtoull(s->inst_row, NULL, 10));
    s->inst_open = 1;
    memset(&s->point_pos, 0, sizeof(s->point_pos));
    *found = 1;
    return QUERY_OK;
}

/* Conditions selecting the open instrument's points. */
static int chx_inst_cond(buf *sql, const chq_export_state *s) {
    char *copy = malloc(s->inst_row_len + 1);
    if (copy == NULL)
        return QUERY_ENOMEM;
    memcpy(copy, s->inst_row, s->inst_row_len + 1);
    char *at = copy;
    ch_field f[CHX_FIELDS];
    int nf = ch_tsv_row(&at, copy + s->inst_row_len, f, CHX_FIELDS);
    if (nf != (int)CHX_INST_N + 1) {
        free(copy);
        return QUERY_EDB;
    }
    for (size_t i = 0; i < CHX_INST_N; i++) {
        buf_printf(sql, " AND %s = ", chx_inst_cols[i]);
        if (chx_inst_numeric(i))
            buf_printf(sql, "%" PRIu64, ch_field_u64(&f[1 + i]));
        else
            ch_sql_quote(sql, f[1 + i].ptr, f[1 + i].len);
    }
    free(copy);
    return QUERY_OK;
}

#define CHX_POINT_COLS                                                                             \
    "name, description, unit, type, temporality, monotonic, attrs, start_ns, time, value,"        \
    " is_int, as_int, flags, data, exemplars, arrival"
#define CHX_POINT_NF (10 + 16)

static void chx_point(jw *w, const ch_field *f, int type) {
    const ch_field *c = f + 10;
    exj_point p = {
        .attrs = chx_txt(&c[6]),
        .start_ns = ch_field_u64(&c[7]),
        .time_ns = ch_field_u64(&c[8]),
        .flags = ch_field_i64(&c[12]),
        .data = chx_txt(&c[13]),
        .exemplars = chx_txt(&c[14]),
    };
    double v = ch_field_double(&c[9]);
    if (ch_field_u64(&c[10])) {
        p.value_kind = EXJ_VALUE_INT;
        p.as_int = ch_field_i64(&c[11]);
    } else if (isnan(v)) {
        p.value_kind = EXJ_VALUE_NAN;
    } else {
        p.value_kind = EXJ_VALUE_DOUBLE;
        p.as_double = v;
    }
    exj_point_write(w, &p, type);
}

/* Up to EXPORT_POINTS_PAGE points of the open instrument after its
 * position; *n gets the count (0: nothing written). */
static int chx_points_line(query_export *x, store_reader *r, buf *out, size_t *n) {
    chq_export_state *s = &x->ch;
    chx_line l;
    chx_line_init(&l);
    *n = 0;
    buf_printf(&l.sql,
               "SELECT " CHX_OWNER_COLS ", " CHX_POINT_COLS " FROM %s WHERE arrival >= %" PRIu64,
               CH_POINTS, s->point_pos.arrival);
    int rc = chx_inst_cond(&l.sql, s);
    if (rc != QUERY_OK)
        goto out;
    chx_points_conds(&l.sql, r, x);
    buf_append_str(&l.sql, " ORDER BY arrival, time, attrs, start_ns, as_int, value, flags, data,"
                           " exemplars, cityHash64(description, unit, type, temporality,"
                           " monotonic, is_int)");
    chx_limit(&l.sql, &s->point_pos, EXPORT_POINTS_PAGE);
    rc = chx_line_open(&l, r, out, "resourceMetrics", "scopeMetrics", "metrics");
    ch_field f[CHX_FIELDS];
    int type = 0;
    while (chx_line_row(&l, f, CHX_POINT_NF, &rc)) {
        if (*n == 0) {
            chx_group(&l.w, &l.g, f);
            exj_metric m = {
                .name = chx_txt(&f[10]),
                .description = chx_txt(&f[11]),
                .unit = chx_txt(&f[12]),
                .type = (int)ch_field_i64(&f[13]),
                .temporality = (int)ch_field_i64(&f[14]),
                .monotonic = (int)ch_field_i64(&f[15]),
            };
            type = exj_metric_begin(&l.w, &m);
        }
        chx_point(&l.w, f, type);
        chx_pos_take(&s->point_pos, ch_field_u64(&f[10 + 15]));
        (*n)++;
    }
    if (rc == QUERY_OK && *n > 0)
        exj_metric_end(&l.w);
    rc = chx_line_close(&l, out, *n, rc);
out:
    chx_line_free(&l);
    return rc;
}

/* One line of metrics: the next instrument's next points; *n = 0 when
 * every instrument is done. */
static int chx_metrics_line(query_export *x, store_reader *r, buf *out, size_t *n) {
    chq_export_state *s = &x->ch;
    *n = 0;
    for (;;) { /* an instrument whose points went meanwhile says nothing */
        if (!s->inst_open) {
            int found;
            int rc = chx_next_instrument(x, r, &found);
            if (rc != QUERY_OK || !found)
                return rc;
        }
        int rc = chx_points_line(x, r, out, n);
        if (rc != QUERY_OK)
            return rc;
        if (*n < EXPORT_POINTS_PAGE)
            s->inst_open = 0; /* this instrument is done */
        if (*n > 0)
            return QUERY_OK;
    }
}

/* ---- the export ------------------------------------------------------------------------ */

int chq_export_line(query_export *x, store_reader *r, buf *out, int *done) {
    size_t n = 0;
    int rc;
    if (x->signal == MODEL_SIGNAL_TRACES)
        rc = chx_traces_line(x, r, out, &n);
    else if (x->signal == MODEL_SIGNAL_LOGS)
        rc = chx_logs_line(x, r, out, &n);
    else
        rc = chx_metrics_line(x, r, out, &n);
    rc = query_export_page(x, rc, n, done);
    if (rc != QUERY_OK || n == 0)
        return rc;
    return query_export_line_end(out);
}

void chq_export_state_free(chq_export_state *s) {
    free(s->trace_ids);
    free(s->trace_fa);
    s->trace_ids = NULL;
    s->trace_fa = NULL;
    buf_free(&s->inst_ans);
    free(s->inst_row);
    s->inst_row = NULL;
    s->inst_next = NULL;
}
