/* ch_patterns.c - log patterns on a ClickHouse store: global ids, the
 * `patterns` rows of each round, the state restored at open; see
 * ch_patterns.h (DESIGN). */
#include "ch_patterns.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/log.h"
#include "ch_rows.h"
#include "ch_schema.h"
#include "ch_sql.h"
#include "ch_store_internal.h"
#include "logpattern.h"

#define CHP_SEED 0x6c6f7570655f6964ULL /* the hash's seed: never change (ids are stored) */
#define CHP_ID_MASK ((UINT64_C(1) << 53) - 1) /* ids JSON readers hold exactly */
#define CHP_MAX_SALTS 16               /* tries past a collision */
#define CHP_MAX_LOCAL ((size_t)1 << 24) /* local ids the map holds */
#define CHP_RESTORE_MAX ((size_t)1 << 28) /* the table's text read at open */
#define CHP_COLUMNS "(id, service, kind, template, first_seen, last_seen)"

struct ch_patterns {
    int64_t *global; /* [local id] -> global id, 0 = none yet; owned */
    size_t cap;      /* entries of global */
    int64_t *used;   /* the global ids in use, open addressing (0 = empty); owned */
    size_t used_cap, n_used;
    logpattern_changes taken; /* the rows of the round in flight */
    buf rows;                 /* their TabSeparated text */
    int rows_failed;          /* a row did not fit: the round's insert fails */
    buf key;                  /* scratch: the hashed bytes */
};

/* ---- global ids -------------------------------------------------------------------------- */

/* The hashed bytes: kind, the service's length (8 bytes, little-endian),
 * the service, the template; so no two (service, template) pairs meet. */
static int64_t chp_hash(buf *key, const char *svc, size_t slen, int kind, const char *tmpl,
                        size_t tlen, uint64_t salt) {
    buf_reset(key);
    unsigned char head[9];
    head[0] = (unsigned char)kind;
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)((uint64_t)slen >> (8 * i));
    if (buf_append(key, (const char *)head, sizeof(head)) != BUF_OK ||
        buf_append(key, svc, slen) != BUF_OK || buf_append(key, tmpl, tlen) != BUF_OK)
        return 0;
    uint64_t h = hash_64(key->ptr, key->len, CHP_SEED + salt) & CHP_ID_MASK;
    return h ? (int64_t)h : 1;
}

int64_t ch_patterns_global_id(const char *service, size_t slen, int kind, const char *tmpl,
                              size_t tlen, uint64_t salt) {
    buf key;
    buf_init(&key, 1 << 20);
    int64_t id = chp_hash(&key, service ? service : "", service ? slen : 0, kind,
                          tmpl ? tmpl : "", tmpl ? tlen : 0, salt);
    buf_free(&key);
    return id;
}

static size_t chp_slot(const ch_patterns *p, int64_t g) {
    return (size_t)hash_mix64((uint64_t)g) & (p->used_cap - 1);
}

static int chp_used(const ch_patterns *p, int64_t g) {
    if (p->used_cap == 0)
        return 0;
    for (size_t k = chp_slot(p, g);; k = (k + 1) & (p->used_cap - 1)) {
        if (p->used[k] == 0)
            return 0;
        if (p->used[k] == g)
            return 1;
    }
}

/* Adds g to the set (at most half full). Returns 0 or -1 (no memory). */
static int chp_use(ch_patterns *p, int64_t g) {
    if (2 * (p->n_used + 1) > p->used_cap) {
        size_t cap = p->used_cap ? 2 * p->used_cap : 1024;
        int64_t *t = calloc(cap, sizeof(*t)), *old = p->used;
        if (t == NULL)
            return -1;
        size_t old_cap = p->used_cap;
        p->used = t;
        p->used_cap = cap;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i] == 0)
                continue;
            size_t k = chp_slot(p, old[i]);
            while (t[k] != 0)
                k = (k + 1) & (cap - 1);
            t[k] = old[i];
        }
        free(old);
    }
    size_t k = chp_slot(p, g);
    while (p->used[k] != 0 && p->used[k] != g)
        k = (k + 1) & (p->used_cap - 1);
    if (p->used[k] == 0) {
        p->used[k] = g;
        p->n_used++;
    }
    return 0;
}

/* Room in the map for local id `local`. Returns 0 or -1. */
static int chp_room(ch_patterns *p, int64_t local) {
    if (local <= 0 || (size_t)local >= CHP_MAX_LOCAL)
        return -1;
    if ((size_t)local < p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 1024;
    while (cap <= (size_t)local)
        cap *= 2;
    int64_t *v = realloc(p->global, cap * sizeof(*v));
    if (v == NULL)
        return -1;
    memset(v + p->cap, 0, (cap - p->cap) * sizeof(*v));
    p->global = v;
    p->cap = cap;
    return 0;
}

static int64_t chp_lookup(const ch_patterns *p, int64_t local) {
    return local > 0 && (size_t)local < p->cap ? p->global[local] : 0;
}

/* Maps local -> g. Returns 0 or -1 (no memory: the id stays unmapped). */
static int chp_map(ch_patterns *p, int64_t local, int64_t g) {
    if (chp_room(p, local) != 0 || chp_use(p, g) != 0)
        return -1;
    p->global[local] = g;
    return 0;
}

/* The global id of a pattern taken for the first time: its hash, or a
 * salted one when this process already uses that; 0 when none is free or
 * out of memory. */
static int64_t chp_assign(ch_patterns *p, const logpattern_row *r, const char *text) {
    const char *svc = r->service_len ? text + r->service_off : "";
    const char *tmpl = r->tmpl_len ? text + r->tmpl_off : "";
    for (uint64_t salt = 0; salt < CHP_MAX_SALTS; salt++) {
        int64_t g = chp_hash(&p->key, svc, r->service_len, r->kind, tmpl, r->tmpl_len, salt);
        if (g == 0)
            return 0;
        if (!chp_used(p, g))
            return chp_map(p, r->id, g) == 0 ? g : 0;
    }
    return 0;
}

/* ---- open ------------------------------------------------------------------------------- */

void ch_patterns_free(ch_patterns *p) {
    if (p == NULL)
        return;
    free(p->global);
    free(p->used);
    logpattern_changes_free(&p->taken);
    buf_free(&p->rows);
    buf_free(&p->key);
    free(p);
}

/* One stored pattern: id, service, kind, template, first_seen, last_seen. */
enum { CHP_ID, CHP_SERVICE, CHP_KIND, CHP_TEMPLATE, CHP_FIRST, CHP_LAST, CHP_NCOLS };

/* s->patterns rebuilt from the table (each id's latest row), local ids
 * 1..n in the order of their first records. Returns a CH_* code. */
static int chp_restore(store *s, ch_patterns *p, char *err) {
    static const char sql[] =
        "SELECT id, argMax(service, last_seen), argMax(kind, last_seen),"
        " argMax(template, last_seen), min(first_seen), max(last_seen) FROM " CH_PATTERNS
        " GROUP BY id ORDER BY min(first_seen), id";
    buf ans;
    buf_init(&ans, CHP_RESTORE_MAX);
    int rc = ch_conn_query(s->ch->writer, sql, sizeof(sql) - 1, &ans, err);
    if (rc == CH_OK && buf_append_char(&ans, '\0') != BUF_OK)
        rc = CH_ENOMEM;
    size_t n = 0, skipped = 0;
    if (rc == CH_OK) {
        ans.len--; /* ch_tsv_row wants a NUL after the data */
        char *at = ans.ptr, *end = ans.ptr + ans.len;
        ch_field f[CHP_NCOLS];
        int k;
        while (ans.len > 0 && rc == CH_OK && (k = ch_tsv_row(&at, end, f, CHP_NCOLS)) > 0) {
            if (k != CHP_NCOLS)
                continue;
            int64_t local = (int64_t)++n, g = ch_field_i64(&f[CHP_ID]);
            if (g <= 0 || logpattern_restore(s->patterns, local, f[CHP_SERVICE].ptr,
                                             f[CHP_SERVICE].len, (int)ch_field_u64(&f[CHP_KIND]),
                                             f[CHP_TEMPLATE].ptr, f[CHP_TEMPLATE].len,
                                             ch_field_u64(&f[CHP_FIRST]),
                                             ch_field_u64(&f[CHP_LAST])) != 0)
                skipped++; /* an unknown kind, or no memory: its local id stays used */
            if (g > 0 && chp_map(p, local, g) != 0)
                rc = CH_ENOMEM;
        }
    }
    buf_free(&ans);
    if (rc == CH_OK && n > 0)
        log_event(LOG_DEBUG, "store_patterns_restored", "patterns=%zu skipped=%zu", n, skipped);
    return rc;
}

int ch_patterns_open(store *s, char *err, size_t errlen) {
    if (s->patterns_off)
        return STORE_OK; /* no record gets a pattern; the stored ones stay readable */
    ch_patterns *p = calloc(1, sizeof(*p));
    s->patterns = logpattern_new(NULL);
    if (p == NULL || s->patterns == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    buf_init(&p->rows, (size_t)1 << 30);
    buf_init(&p->key, (size_t)1 << 20);
    s->ch->patterns = p;
    if (!ch_store_ready(s->ch))
        return STORE_OK; /* ClickHouse did not answer: nothing to restore from */
    char why[CH_ERR_MAX];
    int rc = chp_restore(s, p, why);
    if (rc == CH_ENOMEM) {
        snprintf(err, errlen, "out of memory restoring the log patterns");
        return STORE_ENOMEM;
    }
    if (rc == CH_EDOWN) { /* gone since the schema was made: as if it had not answered */
        log_event(LOG_WARN, "store_patterns_not_restored", "detail=\"%s\"", why);
        return STORE_OK;
    }
    if (rc != CH_OK) {
        snprintf(err, errlen, "ClickHouse: reading the log patterns: %s", why);
        return STORE_EOPEN;
    }
    return STORE_OK;
}

/* ---- rounds ----------------------------------------------------------------------------- */

/* Appends the row of r as global id g. Returns a BUF_* code. */
static int chp_row(buf *o, int64_t g, const logpattern_row *r, const char *text) {
    int rc = buf_printf(o, "%" PRId64 "\t", g);
    if (rc == BUF_OK)
        rc = ch_tsv_escape(o, r->service_len ? text + r->service_off : "", r->service_len);
    if (rc == BUF_OK)
        rc = buf_printf(o, "\t%d\t", r->kind);
    if (rc == BUF_OK)
        rc = ch_tsv_escape(o, r->tmpl_len ? text + r->tmpl_off : "", r->tmpl_len);
    if (rc == BUF_OK)
        rc = buf_printf(o, "\t%" PRIu64 "\t%" PRIu64 "\n", r->first_ns, r->last_ns);
    return rc;
}

void ch_patterns_round(store *s, ring_entry *entries, size_t n, uint64_t arrival) {
    ch_patterns *p = s->ch->patterns;
    if (p == NULL || s->patterns == NULL)
        return;
    /* a batch queued without its texts got no patterns on the receiving
     * thread: they are made here, before the changes are taken */
    for (size_t i = 0; i < n; i++) {
        model_batch *b = entries[i].batch;
        if (b == NULL || b->signal != MODEL_SIGNAL_LOGS)
            continue;
        for (size_t k = 0; k < b->n_logs; k++)
            if (b->logs[k].pattern_id == 0)
                store_patterns_of(s, &b->logs[k], ch_rows_log_time(&b->logs[k], arrival));
    }
    buf_reset(&p->rows);
    p->rows_failed = 0;
    if (p->taken.n > 0) /* taken by a round that never ended */
        logpattern_changes_return(s->patterns, &p->taken);
    if (logpattern_take_changes(s->patterns, &p->taken) != 0)
        p->taken.n = 0; /* no memory: nothing was forgotten, taken next round */
    const char *text = p->taken.text.ptr;
    for (size_t i = 0; i < p->taken.n; i++) {
        const logpattern_row *r = &p->taken.rows[i];
        int64_t g = chp_lookup(p, r->id);
        if (g == 0)
            g = chp_assign(p, r, text);
        if (g != 0 && chp_row(&p->rows, g, r, text) != BUF_OK)
            p->rows_failed = 1; /* the round fails: its rows are handed back */
    }
    /* the records: local ids become global before their rows are rendered */
    for (size_t i = 0; i < n; i++) {
        model_batch *b = entries[i].batch;
        if (b == NULL || b->signal != MODEL_SIGNAL_LOGS)
            continue;
        for (size_t k = 0; k < b->n_logs; k++)
            b->logs[k].pattern_id = chp_lookup(p, b->logs[k].pattern_id);
    }
}

int ch_patterns_insert(store *s, char *err) {
    ch_store *c = s->ch;
    ch_patterns *p = c->patterns;
    if (p == NULL)
        return CH_OK;
    if (p->rows_failed) {
        snprintf(err, CH_ERR_MAX, "out of memory for the log patterns' rows");
        return CH_ENOMEM;
    }
    if (p->rows.len == 0)
        return CH_OK;
    return ch_conn_insert(c->writer, CH_PATTERNS " " CHP_COLUMNS,
                          c->cluster ? "insert_distributed_sync=1" : NULL, p->rows.ptr,
                          p->rows.len, err);
}

void ch_patterns_end(store *s, int stored) {
    ch_patterns *p = s->ch->patterns;
    if (p == NULL)
        return;
    if (!stored && p->taken.n > 0 && s->patterns != NULL)
        logpattern_changes_return(s->patterns, &p->taken);
    p->taken.n = 0;
    buf_reset(&p->rows);
}
