/* store_ids.c - row ids of services, resources, scopes and series, see
 * store_internal.h.
 *
 * DESIGN
 * Resources and scopes are stored once, keyed by a 128-bit hash
 * (util/hash.h) of their canonical content (sorted attributes, dropped
 * count, length-prefixed fields); metric series likewise by (metric, hash
 * of sorted attributes). The writer caches hash -> row id in open-addressing
 * tables (store_cache) and forgets them after any rollback or delete, since
 * the ids cached since BEGIN may be gone.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/jw.h"
#include "model_json.h"
#include "store_internal.h"

/* Items without a resource or scope are stored under these. */
static const model_resource store_empty_resource = {
    .attrs = {NULL, 0},
    .schema_url = {"", 0},
    .service_name = {"unknown_service", 15},
    .service_instance_id = {"", 0},
};
static const model_scope store_empty_scope = {
    .name = {"", 0}, .version = {"", 0}, .attrs = {NULL, 0}, .schema_url = {"", 0}};

int store_cache_init(store_cache *c, size_t cap) {
    assert(cap > 0 && (cap & (cap - 1)) == 0); /* positions are masked with cap - 1 */
    c->slots = calloc(cap, sizeof(*c->slots));
    c->cap = cap;
    c->n = 0;
    return c->slots ? 0 : -1;
}

static size_t store_cache_pos(const store_cache *c, const uint8_t key[16], int64_t aux) {
    uint64_t h;
    memcpy(&h, key, 8);
    return (size_t)(hash_mix64(h ^ (uint64_t)aux) & (c->cap - 1));
}

const store_cache_slot *store_cache_get(const store_cache *c, const uint8_t key[16], int64_t aux) {
    for (size_t i = store_cache_pos(c, key, aux);; i = (i + 1) & (c->cap - 1)) {
        const store_cache_slot *s = &c->slots[i];
        if (!s->used)
            return NULL;
        if (s->aux == aux && memcmp(s->key, key, 16) == 0)
            return s;
    }
}

void store_cache_clear(store_cache *c) {
    if (c->n) {
        memset(c->slots, 0, c->cap * sizeof(*c->slots));
        c->n = 0;
    }
}

void store_cache_put(store_cache *c, const uint8_t key[16], int64_t aux, int64_t v1, int64_t v2) {
    if (c->n >= c->cap / 2) /* keep probes short: start over */
        store_cache_clear(c);
    assert(c->n < c->cap); /* a free slot ends the probe */
    size_t i = store_cache_pos(c, key, aux);
    while (c->slots[i].used)
        i = (i + 1) & (c->cap - 1);
    store_cache_slot *s = &c->slots[i];
    memcpy(s->key, key, 16);
    s->aux = aux;
    s->v1 = v1;
    s->v2 = v2;
    s->used = 1;
    c->n++;
}

/* ---- services, resources, scopes, series ------------------------------ */

static int store_service_id(store_writer *w, model_str name, int64_t *sid) {
    if (name.len == 0)
        name = store_empty_resource.service_name;
    sqlite3_stmt *st = w->st[ST_SVC_INSERT];
    store_bind_str(st, 1, name);
    int rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    st = w->st[ST_SVC_SELECT];
    store_bind_str(st, 1, name);
    return store_run_id(st, sid);
}

/* Canonical content of attributes + extra fields into w->key; hashes it.
 * Returns the length of the attributes' JSON at the start of w->key, or 0
 * on error. */
static size_t store_key_attrs(store_writer *w, const model_attrs *a, const model_str *extra,
                              size_t n_extra, uint32_t dropped, uint8_t hash[16]) {
    buf_reset(&w->key);
    jw j;
    jw_init(&j, &w->key);
    model_json_attrs_sorted(&j, a);
    if (jw_error(&j))
        return 0;
    size_t attrs_len = w->key.len;
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", (unsigned)dropped);
    if (buf_append(&w->key, "", 1) != BUF_OK || buf_append(&w->key, num, (size_t)nl) != BUF_OK)
        return 0;
    for (size_t i = 0; i < n_extra; i++) {
        /* length-prefixed so that field boundaries are part of the key */
        nl = snprintf(num, sizeof(num), ":%zu:", extra[i].len);
        if (buf_append(&w->key, num, (size_t)nl) != BUF_OK ||
            buf_append(&w->key, store_cstr(extra[i]), extra[i].len) != BUF_OK)
            return 0;
    }
    hash_128(w->key.ptr, w->key.len, hash);
    return attrs_len;
}

static int store_resolve_resource(store_writer *w, const model_resource *r, int64_t *rid,
                                  int64_t *sid) {
    uint8_t h[16];
    model_str extra[1] = {r->schema_url};
    size_t alen = store_key_attrs(w, &r->attrs, extra, 1, r->dropped_attrs, h);
    if (alen == 0)
        return SQLITE_NOMEM;
    const store_cache_slot *c = store_cache_get(&w->resources, h, 0);
    if (c != NULL) {
        *rid = c->v1;
        *sid = c->v2;
        return SQLITE_OK;
    }
    sqlite3_stmt *st = w->st[ST_RES_SELECT];
    sqlite3_bind_blob(st, 1, h, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *rid = sqlite3_column_int64(st, 0);
        *sid = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
        store_cache_put(&w->resources, h, 0, *rid, *sid);
        return SQLITE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rc;
    rc = store_service_id(w, r->service_name, sid);
    if (rc != SQLITE_OK)
        return rc;
    st = w->st[ST_RES_INSERT];
    sqlite3_bind_blob(st, 1, h, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, *sid);
    store_bind_str(st, 3, r->service_instance_id);
    sqlite3_bind_text(st, 4, w->key.ptr, (int)alen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->dropped_attrs);
    store_bind_str(st, 6, r->schema_url);
    rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    *rid = sqlite3_last_insert_rowid(w->db);
    store_cache_put(&w->resources, h, 0, *rid, *sid);
    return SQLITE_OK;
}

static int store_resolve_scope(store_writer *w, const model_scope *s, int64_t *id) {
    uint8_t h[16];
    model_str extra[3] = {s->name, s->version, s->schema_url};
    size_t alen = store_key_attrs(w, &s->attrs, extra, 3, s->dropped_attrs, h);
    if (alen == 0)
        return SQLITE_NOMEM;
    const store_cache_slot *c = store_cache_get(&w->scopes, h, 0);
    if (c != NULL) {
        *id = c->v1;
        return SQLITE_OK;
    }
    sqlite3_stmt *st = w->st[ST_SCOPE_SELECT];
    sqlite3_bind_blob(st, 1, h, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        store_cache_put(&w->scopes, h, 0, *id, 0);
        return SQLITE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rc;
    st = w->st[ST_SCOPE_INSERT];
    sqlite3_bind_blob(st, 1, h, 16, SQLITE_STATIC);
    store_bind_str(st, 2, s->name);
    store_bind_str(st, 3, s->version);
    sqlite3_bind_text(st, 4, w->key.ptr, (int)alen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, s->dropped_attrs);
    store_bind_str(st, 6, s->schema_url);
    rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    *id = sqlite3_last_insert_rowid(w->db);
    store_cache_put(&w->scopes, h, 0, *id, 0);
    return SQLITE_OK;
}

int store_resolve_owner(store_writer *w, store_owner_memo *m, const model_resource *r,
                        const model_scope *s, int64_t out[3]) {
    int rc;
    if (r == NULL)
        r = &store_empty_resource;
    if (s == NULL)
        s = &store_empty_scope;
    if (r != m->res) {
        rc = store_resolve_resource(w, r, &m->rid, &m->sid);
        if (rc != SQLITE_OK)
            return rc;
        m->res = r;
    }
    if (s != m->scope) {
        rc = store_resolve_scope(w, s, &m->scid);
        if (rc != SQLITE_OK)
            return rc;
        m->scope = s;
    }
    out[0] = m->rid;
    out[1] = m->sid;
    out[2] = m->scid;
    return SQLITE_OK;
}

int store_resolve_series(store_writer *w, int64_t metric, const char *attrs, size_t len,
                         int64_t *id, int *created) {
    uint8_t h[16];
    *created = 0;
    hash_128(attrs, len, h);
    const store_cache_slot *c = store_cache_get(&w->series, h, metric);
    if (c != NULL) {
        *id = c->v1;
        return SQLITE_OK;
    }
    sqlite3_stmt *st = w->st[ST_SERIES_SELECT];
    sqlite3_bind_int64(st, 1, metric);
    sqlite3_bind_blob(st, 2, h, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        store_cache_put(&w->series, h, metric, *id, 0);
        return SQLITE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rc;
    st = w->st[ST_SERIES_INSERT];
    sqlite3_bind_int64(st, 1, metric);
    sqlite3_bind_blob(st, 2, h, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, attrs, (int)len, SQLITE_STATIC);
    rc = store_run(st);
    if (rc != SQLITE_OK)
        return rc;
    *id = sqlite3_last_insert_rowid(w->db);
    *created = 1;
    store_cache_put(&w->series, h, metric, *id, 0);
    return SQLITE_OK;
}

void store_forget_caches(store_writer *w) {
    store_cache_clear(&w->resources);
    store_cache_clear(&w->scopes);
    store_cache_clear(&w->series);
    store_rollup_forget(w->rollup);
    store_lint_forget(w->lint);
}
