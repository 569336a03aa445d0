/* query_res.c - each resource once per answer, see query_internal.h.
 *
 * An answer's items name their resource ("resourceId":"r42", from the
 * resources table's id, so the same resource has the same id in every
 * answer) and the answer carries one "resources" map with each resource
 * they named. The ids are kept in first-seen order for the map and in a
 * small open-addressing hash for the lookups, so a trace of many spans
 * costs one probe per span.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_internal.h"

#define RES_MIN_SLOTS 16

void query_res_init(query_res_set *s) {
    memset(s, 0, sizeof(*s));
}

void query_res_free(query_res_set *s) {
    if (s == NULL)
        return;
    free(s->ids);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

static size_t res_slot(int64_t id, size_t mask) {
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32) & mask;
}

/* Rebuilds the hash with room for twice as many ids. Slots hold index + 1
 * into ids (0: empty). */
static int res_grow(query_res_set *s) {
    size_t nslots = s->nslots ? s->nslots * 2 : RES_MIN_SLOTS;
    size_t *slots = calloc(nslots, sizeof(*slots));
    int64_t *ids = realloc(s->ids, (nslots / 2) * sizeof(*ids));
    if (slots == NULL || ids == NULL) {
        free(slots);
        if (ids != NULL)
            s->ids = ids;
        return QUERY_ENOMEM;
    }
    s->ids = ids;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = res_slot(ids[i], nslots - 1);
        while (slots[j] != 0)
            j = (j + 1) & (nslots - 1);
        slots[j] = i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = nslots;
    return QUERY_OK;
}

/* Remembers id (once). */
static int res_add(query_res_set *s, int64_t id) {
    if (s->nslots > 0) {
        size_t j = res_slot(id, s->nslots - 1);
        while (s->slots[j] != 0) {
            if (s->ids[s->slots[j] - 1] == id)
                return QUERY_OK;
            j = (j + 1) & (s->nslots - 1);
        }
    }
    if (s->n + 1 > s->nslots / 2) { /* at most half full */
        int rc = res_grow(s);
        if (rc != QUERY_OK)
            return rc;
    }
    size_t j = res_slot(id, s->nslots - 1);
    while (s->slots[j] != 0)
        j = (j + 1) & (s->nslots - 1);
    s->ids[s->n] = id;
    s->slots[j] = ++s->n;
    return QUERY_OK;
}

/* The API's name of resource id: "r" and the id. */
static void res_name(int64_t id, char out[24]) {
    snprintf(out, 24, "r%lld", (long long)id);
}

int query_res_ref(query_res_set *s, jw *w, int64_t id) {
    char name[24];
    res_name(id, name);
    jw_key(w, "resourceId");
    jw_string(w, name);
    return res_add(s, id);
}

int query_res_write(sqlite3 *db, const query_res_set *s, jw *w) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT sv.name, r.attrs FROM resources r"
                           " JOIN services sv ON sv.id=r.service WHERE r.id=?1",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return QUERY_EDB;
    }
    int rc = QUERY_OK;
    jw_key(w, "resources");
    jw_object_begin(w);
    for (size_t i = 0; i < s->n && rc == QUERY_OK; i++) {
        sqlite3_bind_int64(st, 1, s->ids[i]);
        int step = sqlite3_step(st);
        char name[24];
        res_name(s->ids[i], name);
        jw_key(w, name);
        jw_object_begin(w);
        jw_key(w, "service");
        if (step == SQLITE_ROW)
            query_text(w, st, 0);
        else
            jw_string(w, "");
        jw_key(w, "attributes");
        if (step == SQLITE_ROW)
            query_raw(w, st, 1, "{}");
        else
            jw_raw(w, "{}", 2);
        jw_object_end(w);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = (step & 0xff) == SQLITE_NOMEM ? QUERY_ENOMEM : QUERY_EDB;
        sqlite3_reset(st);
    }
    jw_object_end(w);
    sqlite3_finalize(st);
    return rc;
}
