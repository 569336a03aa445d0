/* ch_query_traces_one.c - one trace (GET /api/v1/traces/{id}) from
 * ClickHouse; see ch_query.h.
 *
 * DESIGN
 * trace_index gives the days (partitions) the trace's spans are in and,
 * per day, its services and the range of their spans' starts; spans is
 * ordered by (service, time), so the spans are read from those ranges
 * only: a few granules instead of the day's trace_id column. Each span row carries its
 * resource whole (service, instance, attributes, dropped count, schema
 * URL): a resource is its content here, and the answer names each
 * distinct one by a hash of it (CHQ_RESOURCE_ID: the same id in every
 * answer, as the SQLite store's row ids are), with the "resources" map
 * after the spans as query_res.c writes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "ch_query.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "model.h"

#define TRACE_ANSWER_MAX ((size_t)256 << 20)
#define TRACE_COLS 25

/* The columns of a span row, in the order selected. */
enum {
    C_SPAN, C_HAS_PARENT, C_PARENT, C_NAME, C_KIND, C_START, C_END, C_STATUS, C_MESSAGE,
    C_ATTRS, C_EVENTS, C_LINKS, C_SERVICE, C_INSTANCE, C_RES_ATTRS, C_RES_DROPPED,
    C_RES_SCHEMA, C_SCOPE, C_SCOPE_VERSION, C_TRACE_STATE, C_FLAGS, C_DROPPED_ATTRS,
    C_DROPPED_EVENTS, C_DROPPED_LINKS, C_RID
};

/* The distinct resources of an answer, first seen first: each one's
 * identity (its five columns joined by NUL bytes) and the row fields its
 * entry shows (pointers into the answer buffer, alive until it is freed). */
typedef struct trace_res {
    char *key; /* owned */
    size_t key_len;
    ch_field service;
    char *attrs; /* owned: the attributes sorted by key */
    size_t attrs_len;
    uint64_t rid; /* its id: CHQ_RESOURCE_ID */
} trace_res;

typedef struct trace_res_set {
    trace_res *v; /* owned */
    size_t cap;
    size_t n;
} trace_res_set;

/* ---- resource attributes in the SQLite store's order ------------------------------
 * The SQLite store keeps a resource's attributes sorted by key
 * (model_json_attrs_sorted); the span rows here have them as sent. The
 * object's members are cut apart and written again by key (their JSON
 * text: the same order for keys without escapes; equal keys keep their
 * order). */

typedef struct trace_member {
    const char *p; /* the member: "key":value */
    size_t len, key_len; /* key_len: the key's text between its quotes */
    size_t pos;
} trace_member;

/* The end of the JSON value at p (before end), or NULL. */
static const char *trace_json_skip(const char *p, const char *end) {
    int depth = 0, in_str = 0;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_str = 0;
            if (!in_str && depth == 0)
                return p + 1;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                return p; /* the end of the enclosing object */
            if (--depth == 0)
                return p + 1;
        } else if (c == ',' && depth == 0)
            return p;
    }
    return depth == 0 && !in_str ? p : NULL;
}

static int trace_member_cmp(const void *pa, const void *pb) {
    const trace_member *a = pa, *b = pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = n ? memcmp(a->p + 1, b->p + 1, n) : 0;
    if (c != 0)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Appends the object f with its members sorted by key (as it is when it
 * cannot be cut apart). */
static int trace_sorted_attrs(const ch_field *f, buf *out) {
    const char *p = f->ptr, *end = f->ptr + f->len;
    trace_member local[64], *m = local;
    size_t n = 0, cap = 64;
    int ok = f->len >= 2 && p[0] == '{' && end[-1] == '}';
    for (p++; ok && p < end - 1;) {
        if (n == cap) {
            trace_member *g = malloc(2 * cap * sizeof(*g));
            if (g == NULL)
                return QUERY_ENOMEM;
            memcpy(g, m, n * sizeof(*g));
            if (m != local)
                free(m);
            m = g;
            cap *= 2;
        }
        const char *k = p, *ke = trace_json_skip(p, end - 1);
        if (*k != '"' || ke == NULL || ke >= end - 1 || *ke != ':') {
            ok = 0;
            break;
        }
        const char *ve = trace_json_skip(ke + 1, end - 1);
        if (ve == NULL) {
            ok = 0;
            break;
        }
        m[n] = (trace_member){k, (size_t)(ve - k), (size_t)(ke - k) - 2, n};
        n++;
        p = ve < end - 1 && *ve == ',' ? ve + 1 : ve;
    }
    int rc = BUF_OK;
    if (!ok) {
        rc = buf_append(out, f->ptr ? f->ptr : "", f->len);
    } else {
        if (n > 1)
            qsort(m, n, sizeof(*m), trace_member_cmp);
        rc = buf_append_char(out, '{');
        for (size_t i = 0; i < n && rc == BUF_OK; i++) {
            if (i)
                rc = buf_append_char(out, ',');
            if (rc == BUF_OK)
                rc = buf_append(out, m[i].p, m[i].len);
        }
        if (rc == BUF_OK)
            rc = buf_append_char(out, '}');
    }
    if (m != local)
        free(m);
    return rc == BUF_OK ? QUERY_OK : QUERY_ENOMEM;
}

/* The index (0-based) of the row's resource, added when new; -1 when out of
 * memory. A linear search: a trace names a few resources. */
static long trace_res_of(trace_res_set *s, const ch_field *f, buf *key) {
    static const int cols[] = {C_SERVICE, C_INSTANCE, C_RES_DROPPED, C_RES_SCHEMA};
    buf_reset(key);
    if (trace_sorted_attrs(&f[C_RES_ATTRS], key) != QUERY_OK)
        return -1;
    size_t attrs_len = key->len;
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        if (buf_append_char(key, '\0') != BUF_OK ||
            buf_append(key, f[cols[i]].ptr, f[cols[i]].len) != BUF_OK)
            return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].key_len == key->len && memcmp(s->v[i].key, key->ptr, key->len) == 0)
            return (long)i;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 2;
        trace_res *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    trace_res *r = &s->v[s->n];
    r->key = malloc(key->len);
    if (r->key == NULL)
        return -1;
    memcpy(r->key, key->ptr, key->len);
    r->key_len = key->len;
    r->service = f[C_SERVICE];
    r->attrs = r->key; /* the key starts with the sorted attributes */
    r->attrs_len = attrs_len;
    r->rid = ch_field_u64(&f[C_RID]);
    return (long)s->n++;
}

static void trace_res_free(trace_res_set *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].key);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void trace_raw(jw *w, const ch_field *f, const char *fallback) {
    if (f->len == 0)
        jw_raw(w, fallback, strlen(fallback));
    else
        jw_raw(w, f->ptr, f->len);
}

/* One span as the API's JSON (query.c's query_trace_span). */
static void trace_span(jw *w, const char *trace_hex, const ch_field *f, uint64_t rid) {
    uint64_t start = ch_field_u64(&f[C_START]), end = ch_field_u64(&f[C_END]);
    jw_object_begin(w);
    jw_key(w, "traceId");
    jw_string(w, trace_hex);
    jw_key(w, "spanId");
    jw_stringn(w, f[C_SPAN].ptr, f[C_SPAN].len);
    jw_key(w, "parentSpanId");
    if (ch_field_u64(&f[C_HAS_PARENT]))
        jw_stringn(w, f[C_PARENT].ptr, f[C_PARENT].len);
    else
        jw_string(w, "");
    jw_key(w, "name");
    jw_stringn(w, f[C_NAME].ptr, f[C_NAME].len);
    jw_key(w, "kind");
    jw_string(w, model_span_kind_name((model_span_kind)ch_field_u64(&f[C_KIND])));
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, start);
    jw_key(w, "endTimeUnixNano");
    jw_uint_string(w, end);
    jw_key(w, "durationNs");
    jw_uint(w, end > start ? end - start : 0);
    jw_key(w, "status");
    jw_object_begin(w);
    jw_key(w, "code");
    jw_string(w, model_status_code_name((model_status_code)ch_field_u64(&f[C_STATUS])));
    jw_key(w, "message");
    jw_stringn(w, f[C_MESSAGE].ptr, f[C_MESSAGE].len);
    jw_object_end(w);
    jw_key(w, "attributes");
    trace_raw(w, &f[C_ATTRS], "{}");
    jw_key(w, "events");
    trace_raw(w, &f[C_EVENTS], "[]");
    jw_key(w, "links");
    trace_raw(w, &f[C_LINKS], "[]");
    jw_key(w, "service");
    jw_stringn(w, f[C_SERVICE].ptr, f[C_SERVICE].len);
    char name[24];
    snprintf(name, sizeof(name), "r%" PRIu64, rid);
    jw_key(w, "resourceId");
    jw_string(w, name);
    jw_key(w, "scope");
    jw_object_begin(w);
    jw_key(w, "name");
    jw_stringn(w, f[C_SCOPE].ptr, f[C_SCOPE].len);
    jw_key(w, "version");
    jw_stringn(w, f[C_SCOPE_VERSION].ptr, f[C_SCOPE_VERSION].len);
    jw_object_end(w);
    jw_key(w, "traceState");
    jw_stringn(w, f[C_TRACE_STATE].ptr, f[C_TRACE_STATE].len);
    jw_key(w, "flags");
    jw_int(w, (int64_t)ch_field_u64(&f[C_FLAGS]));
    jw_key(w, "droppedAttributesCount");
    jw_int(w, (int64_t)ch_field_u64(&f[C_DROPPED_ATTRS]));
    jw_key(w, "droppedEventsCount");
    jw_int(w, (int64_t)ch_field_u64(&f[C_DROPPED_EVENTS]));
    jw_key(w, "droppedLinksCount");
    jw_int(w, (int64_t)ch_field_u64(&f[C_DROPPED_LINKS]));
    jw_object_end(w);
}

/* Writes the answer from the rows in ans (ordered by start). */
static int trace_write(char *p, char *end, const char *hex, buf *out) {
    trace_res_set set = {0}, *res = &set;
    buf key;
    buf_init(&key, (size_t)64 << 20);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "traceId");
    jw_string(&w, hex);
    jw_key(&w, "spans");
    jw_array_begin(&w);
    ch_field f[TRACE_COLS];
    int n, rc = QUERY_OK;
    while (rc == QUERY_OK && (n = ch_tsv_row(&p, end, f, TRACE_COLS)) != 0) {
        if (n != TRACE_COLS) {
            rc = QUERY_EDB;
            break;
        }
        long r = trace_res_of(res, f, &key);
        if (r < 0)
            rc = QUERY_ENOMEM;
        else
            trace_span(&w, hex, f, res->v[r].rid);
    }
    jw_array_end(&w);
    jw_key(&w, "resources");
    jw_object_begin(&w);
    for (size_t i = 0; i < res->n; i++) {
        char name[24];
        snprintf(name, sizeof(name), "r%" PRIu64, res->v[i].rid);
        jw_key(&w, name);
        jw_object_begin(&w);
        jw_key(&w, "service");
        jw_stringn(&w, res->v[i].service.ptr, res->v[i].service.len);
        jw_key(&w, "attributes");
        if (res->v[i].attrs_len == 0)
            jw_raw(&w, "{}", 2);
        else
            jw_raw(&w, res->v[i].attrs, res->v[i].attrs_len);
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_object_end(&w);
    if (rc == QUERY_OK && jw_error(&w))
        rc = jw_error(&w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    trace_res_free(res);
    buf_free(&key);
    return rc;
}

/* The condition on spans rows for the trace's index rows in idx (date,
 * service, first start, last start, rows of the first layout): per day
 * and service the range of starts, which the primary key (service, time)
 * narrows to a few granules; a day with first-layout rows (no service)
 * whole. 0 when there is no row. */
static int trace_where(char *p, char *end, buf *sql) {
    ch_field f[5];
    int n, any = 0;
    while ((n = ch_tsv_row(&p, end, f, 5)) != 0) {
        if (n != 5)
            return -1;
        buf_append_str(sql, any ? " OR " : " AND (");
        any = 1;
        buf_append_str(sql, "(date = ");
        ch_sql_quote(sql, f[0].ptr, f[0].len);
        if (ch_field_u64(&f[4]) == 0) {
            buf_append_str(sql, " AND service = ");
            ch_sql_quote(sql, f[1].ptr, f[1].len);
            buf_printf(sql, " AND time >= %" PRIu64 " AND time <= %" PRIu64,
                       ch_field_u64(&f[2]), ch_field_u64(&f[3]));
        }
        buf_append_char(sql, ')');
    }
    if (any)
        buf_append_char(sql, ')');
    return any;
}

int chq_trace(store_reader *r, const uint8_t trace_id[16], buf *out) {
    char hex[33];
    model_hex_encode(trace_id, 16, hex);
    buf sql, ans;
    buf_init(&sql, 1 << 16);
    buf_init(&ans, TRACE_ANSWER_MAX);
    /* the trace's days and services (one granule of the index) */
    buf_append_str(&sql, "SELECT date, service, min(start), max(last), countIf(last = 0 AND"
                         " service = '') FROM " CH_TRACE_INDEX " WHERE trace_id = ");
    ch_sql_bytes(&sql, trace_id, 16);
    buf_append_str(&sql, " GROUP BY date, service");
    int rc = chq_run(r, &sql, &ans);
    buf_reset(&sql);
    if (rc == QUERY_OK) {
        buf_append_str(&sql, "SELECT lower(hex(span_id)), has_parent, lower(hex(parent_span_id)),"
                             " name, kind, time, end_ns, status_code, status_message, attrs,"
                             " events, links, service, instance, res_attrs, res_dropped,"
                             " res_schema_url, scope_name, scope_version, trace_state, flags,"
                             " dropped_attrs, dropped_events, dropped_links, " CHQ_RESOURCE_ID
                             " FROM " CH_SPANS " WHERE trace_id = ");
        ch_sql_bytes(&sql, trace_id, 16);
        int any = trace_where(ans.ptr, ans.ptr + ans.len, &sql);
        if (any < 0)
            rc = QUERY_EDB;
        else if (any == 0)
            rc = QUERY_ENOTFOUND;
    }
    if (rc == QUERY_OK) {
        chq_age_cond(r, &sql, "time");
        buf_append_str(&sql, " ORDER BY time, span_id");
        buf_reset(&ans);
        rc = chq_run(r, &sql, &ans);
    }
    if (rc == QUERY_OK && ans.len == 0)
        rc = QUERY_ENOTFOUND;
    if (rc == QUERY_OK)
        rc = trace_write(ans.ptr, ans.ptr + ans.len, hex, out);
    buf_free(&sql);
    buf_free(&ans);
    return rc;
}
