/* query_util.c - SQL building with bound values and shared answer helpers
 * for the query_*.c files, see query_internal.h. */
#include "query_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr_index.h"
#include "model.h"

#ifdef LOUPE_TESTING
int64_t query_drive_limit = QUERY_DRIVE_LIMIT;
#endif

/* ---- qsql ------------------------------------------------------------------ */

void qsql_init(qsql *q) {
    memset(q, 0, sizeof(*q));
    buf_init(&q->sql, QSQL_MAX_BYTES);
}

static void qsql_clear_binds(qsql *q) {
    for (size_t i = 0; i < q->nbinds; i++)
        free(q->binds[i].s);
    q->nbinds = 0;
}

void qsql_free(qsql *q) {
    qsql_clear_binds(q);
    buf_free(&q->sql);
}

void qsql_reset(qsql *q) {
    qsql_clear_binds(q);
    buf_reset(&q->sql);
    q->err = 0;
}

void qsql_seg(qsql *q, int64_t seg) { q->seg = seg; }

static void qsql_fail(qsql *q, int code) {
    if (q->err == 0)
        q->err = code;
}

void qsql_add(qsql *q, const char *fragment) {
    if (q->err)
        return;
    int rc = q->seg > 0 && strstr(fragment, "{N}") != NULL ? seg_sql(&q->sql, fragment, q->seg)
                                                            : buf_append_str(&q->sql, fragment);
    if (rc != BUF_OK)
        qsql_fail(q, rc == BUF_ENOMEM ? QUERY_ENOMEM : QUERY_EINVAL);
}

static qsql_bind *qsql_slot(qsql *q) {
    if (q->err)
        return NULL;
    if (q->nbinds == QSQL_MAX_BINDS) {
        qsql_fail(q, QUERY_EINVAL);
        return NULL;
    }
    qsql_add(q, "?");
    if (q->err)
        return NULL;
    qsql_bind *b = &q->binds[q->nbinds++];
    memset(b, 0, sizeof(*b));
    return b;
}

void qsql_int(qsql *q, int64_t v) {
    qsql_bind *b = qsql_slot(q);
    if (b == NULL)
        return;
    b->type = SQLITE_INTEGER;
    b->i = v;
}

void qsql_double(qsql *q, double v) {
    qsql_bind *b = qsql_slot(q);
    if (b == NULL)
        return;
    b->type = SQLITE_FLOAT;
    b->d = v;
}

void qsql_text(qsql *q, const char *s, size_t n) {
    qsql_bind *b = qsql_slot(q);
    if (b == NULL)
        return;
    b->type = SQLITE_NULL;
    b->s = malloc(n + 1);
    if (b->s == NULL) {
        qsql_fail(q, QUERY_ENOMEM);
        return;
    }
    if (n)
        memcpy(b->s, s, n);
    b->s[n] = '\0';
    b->n = n;
    b->type = SQLITE_TEXT;
}

void qsql_blob(qsql *q, const void *p, size_t n) {
    qsql_text(q, p, n);
    if (!q->err)
        q->binds[q->nbinds - 1].type = SQLITE_BLOB;
}

int qsql_prepare(qsql *q, sqlite3 *db, sqlite3_stmt **st) {
    *st = NULL;
    if (q->err)
        return q->err;
    int rc = sqlite3_prepare_v2(db, q->sql.ptr ? q->sql.ptr : "", -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return (rc & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    }
    for (size_t i = 0; i < q->nbinds; i++) {
        const qsql_bind *b = &q->binds[i];
        int idx = (int)i + 1;
        switch (b->type) {
        case SQLITE_INTEGER:
            rc = sqlite3_bind_int64(*st, idx, b->i);
            break;
        case SQLITE_FLOAT:
            rc = sqlite3_bind_double(*st, idx, b->d);
            break;
        case SQLITE_TEXT:
            rc = sqlite3_bind_text(*st, idx, b->s, (int)b->n, SQLITE_STATIC);
            break;
        case SQLITE_BLOB:
            rc = sqlite3_bind_blob(*st, idx, b->s, (int)b->n, SQLITE_STATIC);
            break;
        default:
            rc = sqlite3_bind_null(*st, idx);
            break;
        }
        if (rc != SQLITE_OK) {
            sqlite3_finalize(*st);
            *st = NULL;
            return QUERY_EDB;
        }
    }
    return QUERY_OK;
}

void qsql_time_range(qsql *q, const char *col, int has_start, int64_t start, int has_end,
                     int64_t end) {
    if (has_start) {
        qsql_add(q, " AND ");
        qsql_add(q, col);
        qsql_add(q, ">=");
        qsql_int(q, start);
    }
    if (has_end) {
        qsql_add(q, " AND ");
        qsql_add(q, col);
        qsql_add(q, "<");
        qsql_int(q, end);
    }
}

void qsql_cursor(qsql *q, const char *key, const char *id, int has_cursor, int64_t ckey,
                 int64_t cid) {
    if (has_cursor == 2) { /* by arrival: after row cid */
        qsql_add(q, " AND ");
        qsql_add(q, id);
        qsql_add(q, ">");
        qsql_int(q, cid);
    } else if (has_cursor) {
        qsql_add(q, " AND ");
        qsql_add(q, key);
        qsql_add(q, "<=");
        qsql_int(q, ckey);
        qsql_add(q, " AND (");
        qsql_add(q, key);
        qsql_add(q, "<");
        qsql_int(q, ckey);
        qsql_add(q, " OR ");
        qsql_add(q, id);
        qsql_add(q, "<");
        qsql_int(q, cid);
        qsql_add(q, ")");
    }
}

void qsql_cursor_seg(qsql *q, const char *key, const char *row, int64_t seg, int64_t ckey,
                     int64_t cgid) {
    int64_t cseg = SEG_OF(cgid);
    qsql_add(q, " AND ");
    qsql_add(q, key);
    if (seg > cseg) { /* every row of a newer segment comes before the cursor's */
        qsql_add(q, "<");
        qsql_int(q, ckey);
        return;
    }
    qsql_add(q, "<=");
    qsql_int(q, ckey);
    if (seg < cseg)
        return; /* and every row of an older one after it */
    qsql_add(q, " AND (");
    qsql_add(q, key);
    qsql_add(q, "<");
    qsql_int(q, ckey);
    qsql_add(q, " OR ");
    qsql_add(q, row);
    qsql_add(q, "<");
    qsql_int(q, SEG_ROW(cgid));
    qsql_add(q, ")");
}

/* ---- points across segments ------------------------------------------------------ */

int qsql_points_from(qsql *q, store_reader *r, const char *cols, int has_lo, int64_t lo,
                     int has_hi, int64_t hi, void (*cond)(qsql *q, const void *ctx),
                     const void *ctx) {
    const seg_meta *segs;
    size_t n, arms = 0;
    store_reader_segs(r, MODEL_SIGNAL_METRICS, &segs, &n);
    qsql_add(q, "(");
    for (size_t i = n; i-- > 0;) { /* oldest first */
        const seg_meta *m = &segs[i];
        if (m->items == 0 || m->max_time == SEG_NO_MAX || (has_lo && m->max_time < lo) ||
            (has_hi && m->min_time >= hi))
            continue;
        char gid[64];
        snprintf(gid, sizeof(gid), ", (id + %lld) AS gid FROM points_{N} WHERE 1",
                 (long long)SEG_GID(m->id, 0));
        qsql_seg(q, m->id);
        qsql_add(q, arms++ ? " UNION ALL SELECT " : "SELECT ");
        qsql_add(q, cols);
        qsql_add(q, gid);
        cond(q, ctx);
    }
    qsql_seg(q, 0);
    if (arms == 0) /* no segment: an empty source with the same columns */
        qsql_add(q, "SELECT NULL AS time_ns, NULL AS start_ns, NULL AS value, NULL AS is_int,"
                    " NULL AS data, NULL AS exemplars, NULL AS series, NULL AS flags, NULL AS gid"
                    " WHERE 0");
    qsql_add(q, ")");
    return (int)arms;
}

/* ---- candidates of a list across segments ------------------------------------- */

int query_cands_push(query_cands *c, int64_t key, int64_t gid) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        query_cand *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL)
            return QUERY_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].key = key;
    c->v[c->n].gid = gid;
    c->n++;
    return QUERY_OK;
}

static int query_cand_cmp(const void *a, const void *b) {
    const query_cand *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? 1 : -1;
    if (x->gid != y->gid)
        return x->gid < y->gid ? 1 : -1;
    return 0;
}

void query_cands_sort(query_cands *c) {
    if (c->n > 1)
        qsort(c->v, c->n, sizeof(*c->v), query_cand_cmp);
}

void query_cands_keep(query_cands *c, size_t n) {
    query_cands_sort(c);
    if (c->n > n)
        c->n = n;
}

int64_t query_cands_floor(const query_cands *c, size_t limit) {
    return c->n > limit ? c->v[limit].key : INT64_MIN;
}

void query_cands_free(query_cands *c) {
    free(c->v);
    memset(c, 0, sizeof(*c));
}

int query_step_done(store_reader *r, int s) {
    if ((s & 0xff) == SQLITE_INTERRUPT && store_reader_timed_out(r))
        return SQLITE_DONE; /* the deadline: what was found is the answer */
    return s;
}

/* ---- attribute conditions ------------------------------------------------- */

char *query_lower(const char *s, size_t n) {
    char *l = malloc(n + 1);
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        l[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    l[n] = '\0';
    return l;
}

int query_text_unescaped(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
            return 0;
        if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
            return 0;
    }
    return 1;
}

/* The value of a json_each row j as text for ~ (booleans are 1/0 there). */
#define QSQL_JV "(CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE j.value END)"

/* j's value equals a's value: the string, the number or the boolean. */
static void qsql_attr_eq(qsql *q, const query_attr *a) {
    qsql_add(q, "((j.type='text' AND j.value=");
    qsql_text(q, a->value, a->value_len);
    qsql_add(q, ")");
    double d;
    if (attr_index_parse_number(a->value, a->value_len, &d)) {
        qsql_add(q, " OR (j.type IN ('integer','real') AND j.value=");
        qsql_double(q, d);
        qsql_add(q, ")");
    }
    if ((a->value_len == 4 && memcmp(a->value, "true", 4) == 0) ||
        (a->value_len == 5 && memcmp(a->value, "false", 5) == 0)) {
        qsql_add(q, " OR j.type=");
        qsql_text(q, a->value, a->value_len);
    }
    qsql_add(q, ")");
}

void qsql_attr_cond(qsql *q, const char *col, const query_attr *a) {
    if (a->op == QUERY_ATTR_CONTAINS && query_text_unescaped(a->value, a->value_len)) {
        /* a cheap necessary condition first: the text occurs in the stored
         * JSON itself (it holds such text unescaped) */
        char *l = query_lower(a->value, a->value_len);
        if (l == NULL) {
            qsql_fail(q, QUERY_ENOMEM);
            return;
        }
        qsql_add(q, "instr(lower(");
        qsql_add(q, col);
        qsql_add(q, "),");
        qsql_text(q, l, a->value_len);
        qsql_add(q, ")>0 AND ");
        free(l);
    }
    qsql_add(q, "EXISTS(SELECT 1 FROM json_each(");
    qsql_add(q, col);
    qsql_add(q, ") j WHERE j.key=");
    qsql_text(q, a->key, a->key_len);
    switch (a->op) {
    case QUERY_ATTR_EQ:
        qsql_add(q, " AND ");
        qsql_attr_eq(q, a);
        break;
    case QUERY_ATTR_NE:
        qsql_add(q, " AND NOT ");
        qsql_attr_eq(q, a);
        break;
    case QUERY_ATTR_CONTAINS: {
        char *l = query_lower(a->value, a->value_len);
        if (l == NULL) {
            qsql_fail(q, QUERY_ENOMEM);
            return;
        }
        qsql_add(q, " AND j.type NOT IN ('array','object','null') AND instr(lower(" QSQL_JV "),");
        qsql_text(q, l, a->value_len);
        qsql_add(q, ")>0");
        free(l);
        break;
    }
    case QUERY_ATTR_GT:
    case QUERY_ATTR_LT:
        qsql_add(q, " AND j.type IN ('integer','real') AND j.value");
        qsql_add(q, a->op == QUERY_ATTR_GT ? ">" : "<");
        qsql_double(q, a->number);
        break;
    }
    qsql_add(q, ")");
}

int query_resources_matching(sqlite3 *db, const query_attr *a, char **ids) {
    *ids = NULL;
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT json_group_array(r.id) FROM resources r WHERE ");
    qsql_attr_cond(&q, "r.attrs", a);
    qsql_add(&q, " HAVING count(*)>0");
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(&q, db, &st);
    if (rc == QUERY_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            if (t != NULL) {
                *ids = strdup(t);
                if (*ids == NULL)
                    rc = QUERY_ENOMEM;
            }
        } else if (s != SQLITE_DONE) {
            rc = QUERY_EDB;
        }
    }
    sqlite3_finalize(st);
    qsql_free(&q);
    return rc;
}

void qsql_attr_or_resource(qsql *q, const char *col, const char *res, const query_attr *a,
                           const char *res_ids) {
    qsql_add(q, "(");
    qsql_attr_cond(q, col, a);
    if (res_ids != NULL) {
        qsql_add(q, " OR ");
        qsql_add(q, res);
        qsql_add(q, " IN (SELECT value FROM json_each(");
        qsql_text(q, res_ids, strlen(res_ids));
        qsql_add(q, "))");
    }
    qsql_add(q, ")");
}

int query_attrs_plan(sqlite3 *db, const query_attr *attrs, size_t n, char **res, buf *match) {
    for (size_t i = 0; i < n; i++) {
        const query_attr *a = &attrs[i];
        int rc = query_resources_matching(db, a, &res[i]);
        if (rc != QUERY_OK)
            return rc;
        if (a->op != QUERY_ATTR_EQ || res[i] != NULL)
            continue;
        if (match->len > 0 && buf_append_str(match, " AND ") != BUF_OK)
            return QUERY_ENOMEM;
        if (attr_index_query_eq(a->key, a->key_len, a->value, a->value_len, match) != BUF_OK)
            return QUERY_ENOMEM;
    }
    return QUERY_OK;
}

/* ---- answers ----------------------------------------------------------------- */

/* Stored times are INTEGER (int64); they are never negative. */
uint64_t query_u64(sqlite3_stmt *st, int col) {
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    return v < 0 ? 0 : (uint64_t)v;
}

/* A stored JSON column, or `fallback` when NULL. */
void query_raw(jw *w, sqlite3_stmt *st, int col, const char *fallback) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (t == NULL) {
        jw_raw(w, fallback, strlen(fallback));
        return;
    }
    jw_raw(w, t, (size_t)sqlite3_column_bytes(st, col));
}

void query_text(jw *w, sqlite3_stmt *st, int col) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (t == NULL)
        jw_string(w, "");
    else
        jw_stringn(w, t, (size_t)sqlite3_column_bytes(st, col));
}

/* A BLOB id as lowercase hex, or "" when NULL or of the wrong size. */
void query_id(jw *w, sqlite3_stmt *st, int col, int size) {
    const void *p = sqlite3_column_blob(st, col);
    if (p == NULL || sqlite3_column_bytes(st, col) != size) {
        jw_string(w, "");
        return;
    }
    jw_hex(w, p, (size_t)size);
}

int query_finish(jw *w, int rc) {
    if (rc != SQLITE_DONE)
        return (rc & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    if (jw_error(w))
        return jw_error(w) == BUF_ETOOBIG ? QUERY_ETOOBIG : QUERY_ENOMEM;
    return QUERY_OK;
}

void query_cursor_encode(uint64_t key, int64_t id, char out[QUERY_CURSOR_LEN + 1]) {
    uint8_t raw[16];
    for (int i = 0; i < 8; i++) {
        raw[i] = (uint8_t)(key >> (56 - 8 * i));
        raw[8 + i] = (uint8_t)((uint64_t)id >> (56 - 8 * i));
    }
    model_hex_encode(raw, sizeof(raw), out);
}

int query_cursor_decode(const char *c, int64_t *key, int64_t *id) {
    uint8_t raw[16];
    if (strlen(c) != QUERY_CURSOR_LEN || model_hex_decode(c, QUERY_CURSOR_LEN, raw, 16) != 0)
        return -1;
    uint64_t t = 0, i = 0;
    for (int k = 0; k < 8; k++) {
        t = (t << 8) | raw[k];
        i = (i << 8) | raw[8 + k];
    }
    if (t > (uint64_t)INT64_MAX || i > (uint64_t)INT64_MAX)
        return -1;
    *key = (int64_t)t;
    *id = (int64_t)i;
    return 0;
}

char *query_fts_words(const char *q, int *err) {
    *err = QUERY_OK;
    buf out;
    buf_init(&out, 4 * strlen(q) + 64);
    int rc = BUF_OK;
    const char *p = q;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '\0')
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        /* "conn*" is a prefix; whole words otherwise (a prefix query reads
         * every matching term's list in full, so it is opt-in) */
        const char *end = p;
        int prefix = end - w > 1 && end[-1] == '*';
        if (prefix)
            end--;
        if (out.len > 0)
            rc = buf_append_char(&out, ' ');
        if (rc == BUF_OK)
            rc = buf_append_char(&out, '"');
        for (const char *c = w; c < end && rc == BUF_OK; c++)
            rc = *c == '"' ? buf_append(&out, "\"\"", 2) : buf_append_char(&out, *c);
        if (rc == BUF_OK)
            rc = prefix ? buf_append(&out, "\"*", 2) : buf_append_char(&out, '"');
        if (rc != BUF_OK)
            break;
    }
    if (rc != BUF_OK) {
        *err = QUERY_ENOMEM;
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out, NULL); /* NULL when no word */
}

int query_scalar(sqlite3 *db, qsql *q, int64_t *out) {
    sqlite3_stmt *st = NULL;
    int rc = qsql_prepare(q, db, &st);
    if (rc != QUERY_OK)
        return rc;
    int s = sqlite3_step(st);
    *out = 0;
    if (s == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (s != SQLITE_DONE)
        rc = (s & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
    sqlite3_finalize(st);
    return rc;
}

void query_list_begin(jw *w, buf *out, const char *key) {
    jw_init(w, out);
    jw_object_begin(w);
    jw_key(w, key);
    jw_array_begin(w);
}

int query_page_end(jw *w, int more, uint64_t key, int64_t id, int s, int partial) {
    jw_array_end(w);
    return query_page_tail(w, more, key, id, s, partial);
}

int query_page_tail(jw *w, int more, uint64_t key, int64_t id, int s, int partial) {
    if (partial) {
        jw_key(w, "partial");
        jw_bool(w, 1);
    }
    jw_key(w, "nextCursor");
    if (more) {
        char cur[QUERY_CURSOR_LEN + 1];
        query_cursor_encode(key, id, cur);
        jw_string(w, cur);
    } else {
        jw_null(w);
    }
    jw_object_end(w);
    return query_finish(w, s);
}

int query_service_id(sqlite3 *db, const char *name, int64_t *id) {
    qsql q;
    qsql_init(&q);
    qsql_add(&q, "SELECT id FROM services WHERE name=");
    qsql_text(&q, name, strlen(name));
    int rc = query_scalar(db, &q, id);
    qsql_free(&q);
    return rc;
}

char *query_id_list(const int64_t *ids, size_t n) {
    buf b;
    buf_init(&b, 32 * n + 16);
    int rc = buf_append_char(&b, '[');
    for (size_t i = 0; rc == BUF_OK && i < n; i++)
        rc = buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
    if (rc == BUF_OK)
        rc = buf_append_char(&b, ']');
    if (rc != BUF_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* ---- words of a text search ------------------------------------------------------ */

static int query_word_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

void query_words_free(query_words *w) {
    for (size_t i = 0; i < w->n; i++)
        free(w->w[i]);
    free(w->w);
    free(w->pfx);
    w->w = NULL;
    w->pfx = NULL;
    w->n = 0;
}

int query_words_of(const char *q, query_words *out, buf *match) {
    memset(out, 0, sizeof(*out));
    size_t len = strlen(q), cap = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && !query_word_char((unsigned char)q[i]))
            i++;
        size_t a = i;
        while (i < len && query_word_char((unsigned char)q[i]))
            i++;
        if (i == a)
            continue;
        int prefix = i < len && q[i] == '*' &&
                     (i + 1 == len || q[i + 1] == ' ' || q[i + 1] == '\t');
        if (out->n == cap) {
            size_t nc = cap ? 2 * cap : 8;
            char **n = realloc(out->w, nc * sizeof(*n));
            if (n == NULL)
                return QUERY_ENOMEM;
            out->w = n;
            unsigned char *f = realloc(out->pfx, nc);
            if (f == NULL)
                return QUERY_ENOMEM;
            out->pfx = f;
            cap = nc;
        }
        out->pfx[out->n] = (unsigned char)prefix;
        char *w = query_lower(q + a, i - a);
        if (w == NULL)
            return QUERY_ENOMEM;
        out->w[out->n++] = w;
        /* the index keeps a long word's first bytes: find it by them (the
         * candidates are checked for the whole word) */
        size_t keep = attr_index_word_cut(w, i - a);
        prefix |= keep < i - a;
        /* a word is letters, digits and non-ASCII bytes: no quote in it */
        if ((match->len > 0 && buf_append_str(match, " AND ") != BUF_OK) ||
            buf_append_char(match, '"') != BUF_OK || buf_append(match, w, keep) != BUF_OK ||
            buf_append_str(match, prefix ? "\"*" : "\"") != BUF_OK)
            return QUERY_ENOMEM;
    }
    return QUERY_OK;
}
