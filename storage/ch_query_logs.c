/* ch_query_logs.c - GET /api/v1/logs from ClickHouse (the twin of
 * query_logs in query_logs.c); see ch_query.h.
 *
 * DESIGN
 * Order: newest first by (time, arrival) as the SQLite store, then by a
 * hash of the row's content (h), which makes the order total. The SQLite
 * store breaks a tie of time inside one batch by its row id (the later
 * record of the batch first); ClickHouse has no row id, so such records
 * come in the order of their hashes instead.
 *
 * Cursor: the last record's (time, arrival, h) and how many records with
 * exactly that key the pages so far showed (identical records of one batch
 * share a key). The next page reads the records at or before the key,
 * skipping those (LIMIT skip, n): it continues where the previous one
 * stopped whatever arrives meanwhile, since a record stored later has a
 * later arrival and so another key.
 *
 * Body words (q): the SQLite store matches q with FTS5 (tokenizer
 * unicode61, diacritics removed). Here body_text holds the body folded at
 * write time (util/textfold.h: lower case, Latin diacritics removed), and
 * each word of q, folded the same way, becomes a regular expression over
 * it that ClickHouse's match() evaluates: the word's tokens (runs of ASCII
 * letters and digits and non-ASCII bytes) as whole tokens, consecutive (a
 * phrase: "disk.full"), the last one a prefix when the word ends in '*'.
 * Differences: the folding covers Latin, Greek and Cyrillic letters only,
 * and non-ASCII punctuation and spaces count as parts of a word, not as
 * separators. The regular expression is built from the tokens' bytes with
 * every metacharacter escaped, and reaches SQL through ch_sql_quote().
 *
 * Log patterns: the `pattern` column holds the record's global pattern id
 * (ch_patterns.h), 0 for none (patternId null); pattern= compares it.
 *
 * Attribute filters are chq_attr_cond()'s. Values compare as
 * text (the SQLite store also compares numbers by value: i=5.0 finds 5).
 * resourceId: the SQLite store's ids are its resources table's; here it is
 * a hash of the resource (service, instance, attributes, schema URL).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "util/textfold.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"

#define CHL_ANS_MAX ((size_t)1 << 28) /* an answer page's TabSeparated text */
#define CHL_CURSOR_LEN 56            /* time, arrival, h: 16 hex digits each; skip: 8 */

/* A byte of a token: an ASCII letter or digit, or any non-ASCII byte (as
 * unicode61 keeps letters; see DESIGN for the difference). */
static int chl_token_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Bytes between tokens after lower(): every ASCII byte but letters and
 * digits (NUL excluded: a pattern cannot hold it). Written as byte ranges,
 * which ClickHouse reads the same whether it matches bytes or UTF-8. */
#define CHL_SEP "[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]"

/* Appends byte c to a regular expression as a literal. */
static void chl_re_byte(buf *re, unsigned char c) {
    if (strchr("\\^$.|?*+()[]{}", c) != NULL && c != '\0')
        buf_append_char(re, '\\');
    buf_append_char(re, (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
}

/* The regular expression of one word w[0..n) (prefix: its last token may
 * go on), into re; 0 when the word holds no token. */
static int chl_word_re(buf *re, const char *w, size_t n, int prefix) {
    int tokens = 0;
    buf_append_str(re, "(^|" CHL_SEP ")");
    for (size_t i = 0; i < n;) {
        while (i < n && !chl_token_byte((unsigned char)w[i]))
            i++;
        if (i == n)
            break;
        if (tokens++)
            buf_append_str(re, CHL_SEP "+");
        while (i < n && chl_token_byte((unsigned char)w[i]))
            chl_re_byte(re, (unsigned char)w[i++]);
    }
    if (!prefix)
        buf_append_str(re, "($|" CHL_SEP ")");
    return tokens;
}

static int chl_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends the body-words condition of q (words split as the SQLite store's
 * query_fts_words splits them). A word without any token is left out, as
 * FTS5 leaves out an empty phrase; but words that are all without tokens
 * match nothing, as FTS5's query of empty phrases only. No word at all: no
 * condition. */
int chq_log_words_cond(buf *sql, const char *q) {
    buf re, fold;
    buf_init(&re, 1 << 20);
    buf_init(&fold, 1 << 20);
    int rc = QUERY_OK, words = 0, matched = 0;
    for (const char *p = q;;) {
        while (chl_space(*p))
            p++;
        if (*p == '\0')
            break;
        const char *w = p;
        while (*p && !chl_space(*p))
            p++;
        size_t n = (size_t)(p - w);
        int prefix = n > 1 && w[n - 1] == '*';
        buf_reset(&re);
        words++;
        /* the word folded as the stored text is (textfold.h) */
        buf_reset(&fold);
        if (textfold(w, prefix ? n - 1 : n, &fold) != BUF_OK) {
            rc = QUERY_ENOMEM;
            break;
        }
        if (chl_word_re(&re, fold.ptr ? fold.ptr : "", fold.len, prefix) == 0)
            continue;
        matched++;
        if (buf_append_str(sql, " AND match(lower(body_text), ") != BUF_OK ||
            ch_sql_quote(sql, re.ptr, re.len) != BUF_OK || buf_append_char(sql, ')') != BUF_OK) {
            rc = QUERY_ENOMEM;
            break;
        }
    }
    if (rc == QUERY_OK && words > 0 && matched == 0 && buf_append_str(sql, " AND 0") != BUF_OK)
        rc = QUERY_ENOMEM;
    buf_free(&re);
    buf_free(&fold);
    return rc;
}

/* ---- the cursor ------------------------------------------------------------ */

typedef struct chl_key {
    uint64_t time, arrival, h;
    uint32_t skip; /* records with exactly this key already shown */
} chl_key;

static void chl_cursor_encode(const chl_key *k, char out[CHL_CURSOR_LEN + 1]) {
    snprintf(out, CHL_CURSOR_LEN + 1, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%08" PRIx32,
             k->time, k->arrival, k->h, k->skip);
}

static int chl_hex(const char *s, size_t n, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return 0;
}

static int chl_cursor_decode(const char *c, chl_key *k) {
    uint64_t skip;
    if (strlen(c) != CHL_CURSOR_LEN || chl_hex(c, 16, &k->time) ||
        chl_hex(c + 16, 16, &k->arrival) || chl_hex(c + 32, 16, &k->h) ||
        chl_hex(c + 48, 8, &skip) || skip > QUERY_MAX_LIMIT * 1000u)
        return -1;
    k->skip = (uint32_t)skip;
    return 0;
}

/* ---- the query ---------------------------------------------------------------- */

/* The row hash that orders records of one (time, arrival). */
#define CHL_HASH                                                                                   \
    "cityHash64(body, attrs, time_ns, observed_ns, severity, severity_text, trace_id, span_id,"    \
    " service, instance, res_attrs, scope_name, scope_version, event_name, flags)"

/* A resource as items name it: a hash of what makes it one (the SQLite
 * store's resources table id is not available here). */
#define CHL_RID CHQ_RESOURCE_ID

enum {
    CHL_TIME, CHL_OBSERVED, CHL_SEV, CHL_SEVTEXT, CHL_BODY, CHL_ATTRS, CHL_HAS_TRACE, CHL_TRACE,
    CHL_HAS_SPAN, CHL_SPAN, CHL_SERVICE, CHL_RES_ATTRS, CHL_SCOPE, CHL_SCOPE_VERSION, CHL_EVENT,
    CHL_FLAGS, CHL_ARRIVAL, CHL_H, CHL_RIDCOL, CHL_PATTERN, CHL_NCOLS
};

int chq_log_conds(const store_reader *r, const query_logs_params *p, buf *sql) {
    chq_age_cond(r, sql, "time");
    if (p->service) {
        buf_append_str(sql, " AND service = ");
        ch_sql_quote_str(sql, p->service);
    }
    if (p->min_severity > 0)
        buf_printf(sql, " AND severity >= %d", p->min_severity);
    if (p->pattern != 0)
        buf_printf(sql, " AND pattern = %" PRId64, p->pattern);
    if (p->has_start)
        buf_printf(sql, " AND time >= %" PRIu64, p->start_ns);
    if (p->has_end)
        buf_printf(sql, " AND time < %" PRIu64, p->end_ns);
    if (p->trace_id) {
        buf_append_str(sql, " AND has_trace = 1 AND trace_id = ");
        ch_sql_bytes(sql, p->trace_id, 16);
    }
    if (p->span_id) {
        buf_append_str(sql, " AND has_span = 1 AND span_id = ");
        ch_sql_bytes(sql, p->span_id, 8);
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        buf_append_str(sql, " AND ");
        chq_attr_cond(sql, &p->attrs[i]);
    }
    return p->q ? chq_log_words_cond(sql, p->q) : QUERY_OK;
}

static int chl_sql(const store_reader *r, const query_logs_params *p, const chl_key *cur,
                   buf *sql) {
    buf_append_str(sql, "SELECT time, observed_ns, severity, severity_text, body, attrs,"
                        " has_trace, lower(hex(trace_id)), has_span, lower(hex(span_id)),"
                        " service, res_attrs, scope_name, scope_version, event_name, flags,"
                        " arrival, " CHL_HASH " AS h, " CHL_RID ", pattern FROM " CH_LOGS " WHERE 1");
    int rc = chq_log_conds(r, p, sql);
    if (rc != QUERY_OK)
        return rc;
    if (cur != NULL)
        buf_printf(sql,
                   " AND (time < %" PRIu64 " OR (time = %" PRIu64 " AND (arrival < %" PRIu64
                   " OR (arrival = %" PRIu64 " AND h <= %" PRIu64 "))))",
                   cur->time, cur->time, cur->arrival, cur->arrival, cur->h);
    buf_printf(sql, " ORDER BY time DESC, arrival DESC, h DESC LIMIT %" PRIu32 ", %zu",
               cur ? cur->skip : 0, p->limit + 1);
    return QUERY_OK;
}

/* The resources a page names, first named first; texts borrowed from the
 * answer. */
typedef struct chl_res {
    uint64_t id;
    const char *service, *attrs;
} chl_res;

static void chl_item(jw *w, ch_field *f) {
    jw_object_begin(w);
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, ch_field_u64(&f[CHL_TIME]));
    jw_key(w, "observedTimeUnixNano");
    jw_uint_string(w, ch_field_u64(&f[CHL_OBSERVED]));
    jw_key(w, "severityNumber");
    jw_int(w, (int64_t)ch_field_u64(&f[CHL_SEV]));
    jw_key(w, "severityText");
    jw_stringn(w, f[CHL_SEVTEXT].ptr, f[CHL_SEVTEXT].len);
    jw_key(w, "body");
    if (f[CHL_BODY].len)
        jw_raw(w, f[CHL_BODY].ptr, f[CHL_BODY].len);
    else
        jw_null(w);
    jw_key(w, "attributes");
    if (f[CHL_ATTRS].len)
        jw_raw(w, f[CHL_ATTRS].ptr, f[CHL_ATTRS].len);
    else
        jw_raw(w, "{}", 2);
    jw_key(w, "traceId");
    jw_string(w, ch_field_u64(&f[CHL_HAS_TRACE]) ? f[CHL_TRACE].ptr : "");
    jw_key(w, "spanId");
    jw_string(w, ch_field_u64(&f[CHL_HAS_SPAN]) ? f[CHL_SPAN].ptr : "");
    jw_key(w, "service");
    jw_stringn(w, f[CHL_SERVICE].ptr, f[CHL_SERVICE].len);
    char rid[32];
    snprintf(rid, sizeof(rid), "r%" PRIu64, ch_field_u64(&f[CHL_RIDCOL]));
    jw_key(w, "resourceId");
    jw_string(w, rid);
    jw_key(w, "scope");
    jw_object_begin(w);
    jw_key(w, "name");
    jw_stringn(w, f[CHL_SCOPE].ptr, f[CHL_SCOPE].len);
    jw_key(w, "version");
    jw_stringn(w, f[CHL_SCOPE_VERSION].ptr, f[CHL_SCOPE_VERSION].len);
    jw_object_end(w);
    jw_key(w, "eventName");
    jw_stringn(w, f[CHL_EVENT].ptr, f[CHL_EVENT].len);
    jw_key(w, "flags");
    jw_int(w, (int64_t)ch_field_u64(&f[CHL_FLAGS]));
    jw_key(w, "patternId");
    if (ch_field_i64(&f[CHL_PATTERN]) > 0)
        jw_int(w, ch_field_i64(&f[CHL_PATTERN]));
    else
        jw_null(w);
    jw_object_end(w);
}

/* Remembers a row's resource (once) in res[0..*n). */
static void chl_res_add(chl_res *res, size_t *n, ch_field *f) {
    uint64_t id = ch_field_u64(&f[CHL_RIDCOL]);
    for (size_t i = 0; i < *n; i++)
        if (res[i].id == id)
            return;
    res[*n] = (chl_res){id, f[CHL_SERVICE].ptr, f[CHL_RES_ATTRS].ptr};
    (*n)++;
}

static void chl_res_write(jw *w, const chl_res *res, size_t n) {
    jw_key(w, "resources");
    jw_object_begin(w);
    for (size_t i = 0; i < n; i++) {
        char rid[32];
        snprintf(rid, sizeof(rid), "r%" PRIu64, res[i].id);
        jw_key(w, rid);
        jw_object_begin(w);
        jw_key(w, "service");
        jw_string(w, res[i].service);
        jw_key(w, "attributes");
        if (res[i].attrs[0])
            jw_raw(w, res[i].attrs, strlen(res[i].attrs));
        else
            jw_raw(w, "{}", 2);
        jw_object_end(w);
    }
    jw_object_end(w);
}

/* Writes the page from the answer's rows. */
static int chl_write(buf *ans, const query_logs_params *p, const chl_key *cur, buf *out) {
    chl_res *res = calloc(p->limit + 1, sizeof(*res));
    if (res == NULL)
        return QUERY_ENOMEM;
    size_t nres = 0, rows = 0;
    chl_key last = {0, 0, 0, 0};
    int more = 0;
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "logs");
    jw_array_begin(&w);
    char *at = ans->ptr, *end = ans->ptr + ans->len;
    ch_field f[CHL_NCOLS];
    int n;
    while (ans->len > 0 && (n = ch_tsv_row(&at, end, f, CHL_NCOLS)) > 0) {
        if (n != CHL_NCOLS) {
            free(res);
            return QUERY_EDB;
        }
        if (rows == p->limit) {
            more = 1;
            break;
        }
        chl_key k = {ch_field_u64(&f[CHL_TIME]), ch_field_u64(&f[CHL_ARRIVAL]),
                     ch_field_u64(&f[CHL_H]), 1};
        if (rows > 0 && k.time == last.time && k.arrival == last.arrival && k.h == last.h)
            k.skip = last.skip + 1;
        else if (cur && k.time == cur->time && k.arrival == cur->arrival && k.h == cur->h)
            k.skip = cur->skip + 1;
        last = k;
        chl_item(&w, f);
        chl_res_add(res, &nres, f);
        rows++;
    }
    jw_array_end(&w);
    chl_res_write(&w, res, nres);
    free(res);
    jw_key(&w, "nextCursor");
    if (more) {
        char c[CHL_CURSOR_LEN + 1];
        chl_cursor_encode(&last, c);
        jw_string(&w, c);
    } else {
        jw_null(&w);
    }
    jw_object_end(&w);
    if (jw_error(&w))
        return jw_error(&w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    return QUERY_OK;
}

int chq_logs(store_reader *r, const query_logs_params *p, buf *out) {
    if (p == NULL || p->limit < 1 || p->limit > QUERY_MAX_LIMIT || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL))
        return QUERY_EINVAL;
    chl_key cur, *curp = NULL;
    if (p->cursor != NULL && p->cursor[0] != '\0') {
        if (chl_cursor_decode(p->cursor, &cur) != 0)
            return QUERY_EINVAL;
        curp = &cur;
    }
    buf sql, ans;
    buf_init(&sql, 1 << 22);
    buf_init(&ans, CHL_ANS_MAX);
    int rc = chl_sql(r, p, curp, &sql);
    if (rc == QUERY_OK)
        rc = chq_run(r, &sql, &ans);
    if (rc == QUERY_OK && buf_append_char(&ans, '\0') == BUF_OK) {
        ans.len--; /* ch_tsv_row wants a NUL after the data */
        rc = chl_write(&ans, p, curp, out);
    } else if (rc == QUERY_OK) {
        rc = QUERY_ENOMEM;
    }
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}
