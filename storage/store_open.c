/* store_open.c - opening and closing the store: configuration, the
 * database file (or memdb), its pragmas and the size cap, the writer's
 * resources and thread; see store.h.
 *
 * DESIGN
 * File mode: --data-dir/loupe.db in WAL mode with synchronous=NORMAL (a
 * commit survives the process being killed). A database that opens
 * read-only or refuses a first write transaction stops loupe at startup
 * with a one-line error. The counts retention starts from come from the
 * segments' manifest (a few rows), not a scan of the telemetry.
 *
 * Memory mode: the database lives in SQLite's "memdb" VFS under a process-
 * unique name ("file:/loupe-<pid>-<n>?vfs=memdb"); names starting with "/"
 * are shared by every connection of the process, so readers on other threads
 * open the same database. memdb has no WAL: readers and the writer take
 * turns on its locks, which the busy timeout absorbs (commits are short).
 * The database lives as long as the writer's connection.
 *
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "rollup.h"
#include "schema.h"
#include "ch_store.h"
#include "store_internal.h"

#define STORE_MEMDB_MAX_BYTES ((sqlite3_int64)16 << 30)
#define STORE_DB_NAME "loupe.db"

static void store_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void store_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* mkdir -p; the final path must be a writable directory. */
static int store_mkdir_p(const char *dir, char *err, size_t errlen) {
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path)) {
        store_err(err, errlen, "data directory path is empty or too long");
        return -1;
    }
    memcpy(path, dir, len + 1);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            store_err(err, errlen, "cannot create data directory %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        store_err(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat stbuf;
    if (stat(path, &stbuf) != 0 || !S_ISDIR(stbuf.st_mode)) {
        store_err(err, errlen, "data directory %s is not a directory", dir);
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        store_err(err, errlen, "data directory %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void store_destroy(store *s) {
    store_writer *w = &s->w;
    store_segs_free(w);
    store_patterns_close(s);
    store_rows_finalize(w);
    store_rollup_free(w->rollup);
    store_lint_free(w->lint); /* its statements, before the connection closes */
    free(w->span_seg);
    if (w->db != NULL && sqlite3_close(w->db) != SQLITE_OK)
        log_event(LOG_WARN, "store_close_busy", "detail=\"unfinalized statements\"");
    free(w->resources.slots);
    free(w->scopes.slots);
    free(w->series.slots);
    buf_free(&w->scratch);
    buf_free(&w->key);
    free(w->ids);
    free(w->item_acc);
    free(w->accs);
    free(w->table);
    free(w->svcs);
    free(w->metric_rows);
    free(w->metric_last);
    free(w->entries);
    free(w->status);
    ring_free(s->ring);
    ch_store_free(s->ch);
    while (s->subs != NULL) {
        store_sub *next = s->subs->next;
        free(s->subs);
        s->subs = next;
    }
    pthread_mutex_destroy(&s->subs_mu);
    free(s);
}

/* The size cap: PRAGMA max_page_count makes a transaction that would grow
 * the database past it fail with SQLITE_FULL (the limit cannot go below the
 * current size: a larger database is brought under the cap by retention,
 * and its file keeps its size, reused from the inside). A small cap also
 * checkpoints the WAL sooner and truncates it to a quarter of the cap. */
static int store_apply_cap(store *s) {
    store_writer *w = &s->w;
    int64_t ps = store_pragma_int(w->db, "PRAGMA page_size");
    if (ps <= 0)
        return SQLITE_ERROR;
    w->page_size = (int)ps;
    if (s->max_db_bytes == 0)
        return store_size_check(s);
    char sql[160];
    int64_t pages = (int64_t)(s->max_db_bytes / (uint64_t)ps);
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%" PRId64, pages);
    int64_t got = store_pragma_int(w->db, sql);
    if (got <= 0)
        return SQLITE_ERROR;
    w->max_pages = pages;
    if (got > pages)
        log_event(LOG_WARN, "store_over_size_cap",
                  "db_bytes=%" PRId64 " max_db_bytes=%" PRIu64
                  " detail=\"retention evicts the oldest items until the data fits; the file"
                  " keeps its size and is reused\"",
                  got * ps, s->max_db_bytes);
    int64_t ckpt = pages / 8 < 1000 ? (pages / 8 > 16 ? pages / 8 : 16) : 1000;
    uint64_t jlimit = s->max_db_bytes / 4 < ((uint64_t)64 << 20) ? s->max_db_bytes / 4
                                                                 : ((uint64_t)64 << 20);
    snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%" PRId64 "; PRAGMA journal_size_limit=%" PRIu64,
             ckpt, jlimit);
    if (s->mode == STORE_MODE_SQLITE) {
        int rc = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return store_size_check(s);
}

/* Opens the writer's connection and sets its pragmas: WAL with
 * synchronous=NORMAL for a file, no sync and a raised size limit for memdb. */
static int store_db_connect(store *s, const char *shown, char *err, size_t errlen) {
    store_writer *w = &s->w;
    int rc = sqlite3_open_v2(s->path, &w->db, s->open_flags | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        store_err(err, errlen, "cannot open database %s: %s", shown,
                  w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
        return STORE_EOPEN;
    }
    sqlite3_extended_result_codes(w->db, 1);
    sqlite3_busy_timeout(w->db, STORE_BUSY_TIMEOUT_MS);
    if (rollup_register(w->db) != SQLITE_OK) {
        store_err(err, errlen, "cannot open database %s: %s", shown, sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    if (s->mode == STORE_MODE_MEMORY) {
        sqlite3_int64 limit = STORE_MEMDB_MAX_BYTES;
        sqlite3_file_control(w->db, "main", SQLITE_FCNTL_SIZE_LIMIT, &limit);
        rc = sqlite3_exec(w->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    } else {
        char mode[32];
        rc = store_pragma_text(w->db, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
        if (rc == SQLITE_OK && strcmp(mode, "wal") != 0)
            log_event(LOG_WARN, "store_no_wal", "journal_mode=%s", mode);
        /* Debian builds SQLite with WAL defaulting to synchronous=FULL */
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(w->db,
                              "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;",
                              NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(w->db,
                          "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
                          " PRAGMA secure_delete=OFF; PRAGMA foreign_keys=OFF;",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_err(err, errlen, "cannot open database %s: %s", shown, sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    return STORE_OK;
}

/* Brings the schema up to date and makes sure the database takes writes. */
static int store_db_schema(store *s, const char *shown, char *err, size_t errlen) {
    sqlite3 *db = s->w.db;
    int rc = schema_migrate(db, err, errlen);
    if (rc == SCHEMA_ENEWER)
        return STORE_ESCHEMA;
    if (rc != SCHEMA_OK) {
        if (err && errlen) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s", err);
            store_err(err, errlen, "database %s: %s", shown, tmp);
        }
        return STORE_EOPEN;
    }
    /* an existing database in a read-only place fails here, not later
     * (SQLite falls back to a read-only open when the file cannot be
     * opened for writing, e.g. an immutable file) */
    if (sqlite3_db_readonly(db, "main") == 1) {
        store_err(err, errlen, "database %s is not writable (opened read-only)", shown);
        return STORE_EOPEN;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE; COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
        store_err(err, errlen, "database %s is not writable: %s", shown, sqlite3_errmsg(db));
        return STORE_EOPEN;
    }
    if (store_genai_ensure(db) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot add the GenAI rollup: %s", shown,
                  sqlite3_errmsg(db));
        return STORE_EOPEN;
    }
    if (store_lint_ensure(db) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot add the lint tables: %s", shown,
                  sqlite3_errmsg(db));
        return STORE_EOPEN;
    }
    return STORE_OK;
}

/* The writer's database: connection and pragmas, schema, statements, the
 * size cap, the segments. */
static int store_open_db(store *s, char *err, size_t errlen) {
    store_writer *w = &s->w;
    const char *shown = s->mode == STORE_MODE_MEMORY ? "(memory)" : s->path;
    int rc = store_db_connect(s, shown, err, errlen);
    if (rc == STORE_OK)
        rc = store_db_schema(s, shown, err, errlen);
    if (rc != STORE_OK)
        return rc;
    int which = 0;
    if (store_rows_prepare(w, &which) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot prepare statement %d: %s", shown, which,
                  sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    if (store_apply_cap(s) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot apply the size cap: %s", shown,
                  sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    if (store_segs_load(s) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot read its segments: %s", shown,
                  sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    if (store_patterns_open(s) != SQLITE_OK) {
        store_err(err, errlen, "database %s: cannot read its log patterns: %s", shown,
                  sqlite3_errmsg(w->db));
        return STORE_EOPEN;
    }
    if (!s->lint_off) {
        w->lint = store_lint_new(w->db, s->lint_grace_ns, s->lint_max_series);
        if (w->lint == NULL) {
            store_err(err, errlen, "out of memory");
            return STORE_ENOMEM;
        }
        store_rollup_set_lint(w->rollup, w->lint);
    }
    return STORE_OK;
}

/* Refuses a configuration store_open() cannot use. */
static int store_config_check(const store_config *cfg, char *err, size_t errlen) {
    if (cfg->mode != STORE_MODE_SQLITE && cfg->mode != STORE_MODE_MEMORY &&
        cfg->mode != STORE_MODE_CLICKHOUSE) {
        store_err(err, errlen, "unknown storage mode %d", (int)cfg->mode);
        return STORE_EINVAL;
    }
    if (cfg->mode == STORE_MODE_SQLITE && (cfg->data_dir == NULL || cfg->data_dir[0] == '\0')) {
        store_err(err, errlen, "no data directory given");
        return STORE_EINVAL;
    }
    if (cfg->max_db_bytes != 0 && cfg->max_db_bytes < STORE_MIN_DB_BYTES) {
        store_err(err, errlen,
                  "database size cap %" PRIu64 " bytes is below the minimum of %" PRIu64,
                  cfg->max_db_bytes, STORE_MIN_DB_BYTES);
        return STORE_EINVAL;
    }
    return STORE_OK;
}

/* The retention limits, defaults for the zeros. */
static void store_limits_set(store *s, const store_config *cfg) {
    s->max_items[MODEL_SIGNAL_TRACES] = cfg->max_spans ? cfg->max_spans : STORE_DEFAULT_MAX_SPANS;
    s->max_items[MODEL_SIGNAL_LOGS] = cfg->max_logs ? cfg->max_logs : STORE_DEFAULT_MAX_LOGS;
    s->max_items[MODEL_SIGNAL_METRICS] =
        cfg->max_points ? cfg->max_points : STORE_DEFAULT_MAX_POINTS;
    s->max_age_ns = cfg->max_age_ns;
    s->max_db_bytes = cfg->max_db_bytes;
    s->query_timeout_ns =
        cfg->query_timeout_ns ? cfg->query_timeout_ns : STORE_DEFAULT_QUERY_TIMEOUT_NS;
    s->lint_off = cfg->lint_off;
    s->lint_grace_ns = cfg->lint_orphan_grace_ns;
    s->lint_max_series = cfg->lint_max_series;
    s->patterns_off = cfg->patterns_off;
}

/* s->path and s->open_flags: a process-unique memdb name, or the database
 * file in the data directory (created if missing). */
static int store_path_make(store *s, const store_config *cfg, char *err, size_t errlen) {
    static _Atomic unsigned long memdb_seq;
    s->open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (cfg->mode == STORE_MODE_MEMORY) {
        snprintf(s->path, sizeof(s->path), "file:/loupe-%ld-%lu?vfs=memdb", (long)getpid(),
                 atomic_fetch_add(&memdb_seq, 1));
        s->open_flags |= SQLITE_OPEN_URI;
        return STORE_OK;
    }
    if (store_mkdir_p(cfg->data_dir, err, errlen) != 0)
        return STORE_EOPEN;
    size_t dl = strlen(cfg->data_dir);
    while (dl > 1 && cfg->data_dir[dl - 1] == '/')
        dl--;
    int n = snprintf(s->path, sizeof(s->path), "%.*s/%s", (int)dl, cfg->data_dir, STORE_DB_NAME);
    if (n < 0 || (size_t)n >= sizeof(s->path)) {
        store_err(err, errlen, "data directory path too long: %s", cfg->data_dir);
        return STORE_EOPEN;
    }
    return STORE_OK;
}

/* The ring, the writer's buffers and its id caches. */
static int store_writer_alloc(store *s, const store_config *cfg) {
    store_writer *w = &s->w;
    buf_init(&w->scratch, STORE_ITEM_TEXT_MAX);
    buf_init(&w->key, STORE_ITEM_TEXT_MAX);
    size_t ring_bytes = cfg->ring_max_bytes ? cfg->ring_max_bytes : STORE_DEFAULT_RING_BYTES;
    s->ring = ring_new(ring_bytes, STORE_RING_SLOTS);
    w->entries = calloc(STORE_RING_SLOTS, sizeof(*w->entries));
    w->status = calloc(STORE_RING_SLOTS, sizeof(*w->status));
    w->rollup = store_rollup_new();
    if (s->ring == NULL || w->entries == NULL || w->status == NULL || w->rollup == NULL ||
        store_cache_init(&w->resources, STORE_OWNER_CACHE_SLOTS) != 0 ||
        store_cache_init(&w->scopes, STORE_OWNER_CACHE_SLOTS) != 0 ||
        store_cache_init(&w->series, STORE_SERIES_CACHE_SLOTS) != 0)
        return STORE_ENOMEM;
    return STORE_OK;
}

/* Starts the writer thread; from here on it owns s->w. */
static int store_writer_start(store *s, char *err, size_t errlen) {
    int rc = pthread_create(&s->thread, NULL, s->ch ? ch_writer_main : store_writer_main, s);
    if (rc != 0) {
        store_err(err, errlen, "cannot start the store writer thread: %s", strerror(rc));
        return STORE_ENOMEM;
    }
    pthread_setname_np(s->thread, "loupe-writer"); /* for top -H, perf */
    return STORE_OK;
}

/* The rest of store_open() for a ClickHouse store: the ring, the tables,
 * the writer (ch_store.h). */
static int store_open_ch(store *s, const store_config *cfg, store **out, char *err,
                         size_t errlen) {
    int rc = store_writer_alloc(s, cfg);
    if (rc != STORE_OK)
        store_err(err, errlen, "out of memory");
    if (rc == STORE_OK)
        rc = ch_store_open(cfg, &s->ch, err, errlen);
    if (rc == STORE_OK && !ch_store_ready(s->ch)) {
        /* ClickHouse did not answer yet: not ready until the writer reaches it */
        s->w.fault.active = 1;
        s->w.fault.since = store_mono_ns();
        atomic_store(&s->writes_failing, 1);
        atomic_store(&s->fault_reason, "clickhouse_unreachable");
    }
    if (rc == STORE_OK)
        rc = store_writer_start(s, err, errlen);
    if (rc != STORE_OK) {
        store_destroy(s);
        return rc;
    }
    char qurl[PATH_MAX];
    log_event(LOG_INFO, "store_open", "mode=clickhouse url=\"%s\" database=%s cluster=%s",
              log_quote(cfg->ch.urls[0], qurl, sizeof(qurl)),
              cfg->ch.database ? cfg->ch.database : "loupe",
              cfg->ch.cluster ? cfg->ch.cluster : "-");
    *out = s;
    return STORE_OK;
}

int store_open(const store_config *cfg, store **out, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || cfg == NULL) {
        store_err(err, errlen, "store_open: missing argument");
        return STORE_EINVAL;
    }
    *out = NULL;
    int rc = store_config_check(cfg, err, errlen);
    if (rc != STORE_OK)
        return rc;
    store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        store_err(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    pthread_mutex_init(&s->subs_mu, NULL);
    s->mode = cfg->mode;
    store_limits_set(s, cfg);
    store_test_delay_read(s); /* test builds only */
    if (cfg->mode == STORE_MODE_CLICKHOUSE)
        return store_open_ch(s, cfg, out, err, errlen);
    rc = store_path_make(s, cfg, err, errlen);
    if (rc != STORE_OK)
        goto fail;
    rc = store_writer_alloc(s, cfg);
    if (rc != STORE_OK) {
        store_err(err, errlen, "out of memory");
        goto fail;
    }
    rc = store_open_db(s, err, errlen);
    if (rc != STORE_OK)
        goto fail;
    /* The counts as opened, for the log line: once started, the writer owns
     * w->counts (retention at start changes them). */
    uint64_t opened[MODEL_SIGNAL_COUNT];
    for (int sig = 0; sig < MODEL_SIGNAL_COUNT; sig++)
        opened[sig] = store_segs_items(&s->w, (model_signal)sig);
    rc = store_writer_start(s, err, errlen);
    if (rc != STORE_OK)
        goto fail;
    char qpath[PATH_MAX];
    log_event(LOG_INFO, "store_open",
              "mode=%s path=\"%s\" spans=%" PRIu64 " logs=%" PRIu64 " points=%" PRIu64
              " db_bytes=%" PRIu64 " max_db_bytes=%" PRIu64 " max_age_s=%" PRIu64,
              s->mode == STORE_MODE_MEMORY ? "memory" : "sqlite",
              log_quote(s->path, qpath, sizeof(qpath)), opened[0], opened[1], opened[2],
              atomic_load(&s->db_bytes), s->max_db_bytes, s->max_age_ns / 1000000000u);
    *out = s;
    return STORE_OK;

fail:
    store_destroy(s);
    return rc;
}

void store_close(store *s) {
    if (s == NULL)
        return;
    atomic_store(&s->closing, 1);
    ring_close(s->ring);
    pthread_join(s->thread, NULL);
    /* the writer drained the ring and answered every batch it took */
    assert(ring_count(s->ring) == 0 && ring_bytes(s->ring) == 0);
    store_destroy(s);
}
