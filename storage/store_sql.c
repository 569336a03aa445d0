/* store_sql.c - small SQLite helpers shared by the store's modules, see
 * store_internal.h. */
#include <stdio.h>

#include "store_internal.h"

int store_code(int sqlite_rc) {
    int prim = sqlite_rc & 0xff;
    if (prim == SQLITE_NOMEM)
        return STORE_ENOMEM;
    return STORE_EIO;
}

int store_run(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int store_run_id(sqlite3_stmt *st, int64_t *id) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_ERROR; /* no row: should not happen */
    }
    sqlite3_reset(st);
    return rc;
}

int store_exec1(sqlite3 *db, const char *sql, int64_t x, int64_t *changes) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, x);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
        if (rc == SQLITE_OK && changes)
            *changes = sqlite3_changes64(db);
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t store_pragma_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int store_pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    out[0] = '\0';
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            snprintf(out, outlen, "%s", t ? t : "");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

void store_bind_str(sqlite3_stmt *st, int idx, model_str s) {
    sqlite3_bind_text(st, idx, store_cstr(s), (int)s.len, SQLITE_STATIC);
}
