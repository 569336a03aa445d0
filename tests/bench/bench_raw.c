/* bench_raw.c - the raw SQLite floor that loupe's durable ingest is
 * compared with (make bench).
 *
 * The rows are those of PAYLOAD_DIR/traces.pb and logs.pb (make bench
 * writes one request of the load generator each: build/bench/loadgen
 * --write-request, 512 spans or records, as its end-to-end cases send;
 * tests/bench/make_payload.mjs makes another pair), decoded by loupe's own
 * decoder and rendered to the JSON the store keeps, outside the timing. A
 * minimal loop of prepared statements then inserts them, one transaction
 * per 512 rows, with the store's pragmas (WAL, synchronous=NORMAL, 32 MiB
 * cache), into
 *   (a) loupe's own schema (schema_migrate) with all its indexes: the spans
 *       table, its index and the FTS5 attribute index (attr_index.h); the
 *       logs table, its three indexes, the FTS5 body index and the FTS5
 *       attribute index;
 *   (a-) the same without the attribute index, to show what it costs;
 *   (b) a bare table of the same columns with no secondary index (and no
 *       full-text index).
 * Span ids vary per batch and every 8 spans form a new trace (a new small
 * trace number), as with fresh traffic.
 *
 *   build/bench/bench_raw PAYLOAD_DIR [rows]
 *
 * Prints one line per figure: "raw <signal> <schema|schema-noattr|bare>:
 * <rows/s>".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/attr_index.h"
#include "util/jw.h"
#include "util/log.h"
#include "storage/model_json.h"
#include "server/decode/otlp.h"
#include "storage/schema.h"
#include "storage/segment.h"

#define ROWS_PER_TX 512

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, sqlite3 *db) {
    fprintf(stderr, "bench_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
    exit(1);
}

static model_batch *load(const char *dir, const char *name, model_signal sig) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    static uint8_t data[16 << 20];
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    model_batch *b = NULL;
    char err[256];
    if (otlp_decode_pb(sig, data, len, 0, &b, err, sizeof(err)) != OTLP_OK) {
        fprintf(stderr, "bench_raw: %s: %s\n", path, err);
        exit(1);
    }
    return b;
}

/* A JSON text, malloc'ed. */
static char *render_attrs(const model_attrs *a) {
    buf out;
    buf_init(&out, 1 << 20);
    jw w;
    jw_init(&w, &out);
    model_json_attrs(&w, a);
    return buf_detach(&out, NULL);
}

static char *render_span(void (*fn)(jw *, const model_span *), const model_span *sp) {
    buf out;
    buf_init(&out, 1 << 20);
    jw w;
    jw_init(&w, &out);
    fn(&w, sp);
    return buf_detach(&out, NULL);
}

static char *tokens(const char *attrs, const model_str *name) {
    buf out;
    buf_init(&out, 1 << 20);
    attr_index_tokens(attrs, strlen(attrs), name ? name->ptr : NULL, name ? name->len : 0, &out);
    buf_append(&out, "", 1);
    return buf_detach(&out, NULL);
}

static char *render_value(const model_value *v) {
    buf out;
    buf_init(&out, 1 << 20);
    jw w;
    jw_init(&w, &out);
    model_json_value(&w, v);
    return buf_detach(&out, NULL);
}

static sqlite3 *open_db(const char *path, int schema) {
    sqlite3 *db;
    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", db);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
                     " PRAGMA secure_delete=OFF;",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("pragmas", db);
    if (schema) {
        char err[256];
        if (attr_index_register(db) != SQLITE_OK)
            die("attr_index_register", db);
        if (schema_migrate(db, err, sizeof(err)) != SCHEMA_OK) {
            fprintf(stderr, "bench_raw: schema: %s\n", err);
            exit(1);
        }
    }
    return db;
}

/* In loupe's schema, the tables of segment 1 of sig (spans_1, logs_1, ...):
 * what the writer inserts into. */
static void raw_segment(sqlite3 *db, model_signal sig) {
    int64_t id = 0;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        seg_create(db, sig, 0, &id) != SQLITE_OK || id != 1 ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die("segment", db);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(sql, db);
    return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st) {
    if (sqlite3_step(st) != SQLITE_DONE)
        die("step", db);
    sqlite3_reset(st);
}

/* schema: 0 bare table, 1 loupe's schema, 2 loupe's schema without the
 * attribute index inserts */
static double raw_spans(const char *path, int schema, const model_batch *b, long rows) {
    sqlite3 *db = open_db(path, schema);
    if (schema)
        raw_segment(db, MODEL_SIGNAL_TRACES);
    if (!schema &&
        sqlite3_exec(db,
                     "CREATE TABLE spans_1(id INTEGER PRIMARY KEY, trace INTEGER, span_id BLOB,"
                     " parent_span_id BLOB, start_ns INTEGER, end_ns INTEGER, service INTEGER,"
                     " name TEXT, kind INTEGER, status_code INTEGER, status_message TEXT,"
                     " trace_state TEXT, flags INTEGER, resource INTEGER, scope INTEGER,"
                     " dropped_attrs INTEGER, dropped_events INTEGER, dropped_links INTEGER,"
                     " attrs TEXT, events TEXT, links TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("create", db);
    sqlite3_stmt *st = prep(
        db, "INSERT INTO spans_1(trace, span_id, parent_span_id, start_ns, end_ns, service, name,"
            " kind, status_code, status_message, trace_state, flags, resource, scope,"
            " dropped_attrs, dropped_events, dropped_links, attrs, events, links)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)");
    sqlite3_stmt *ix = schema == 1 ? prep(db, "INSERT INTO span_attr_fts_1(rowid, t) VALUES(?1, ?2)") : NULL;
    sqlite3_stmt *begin = prep(db, "BEGIN"), *commit = prep(db, "COMMIT");
    size_t n = b->n_spans;
    char **tx = calloc(4 * n, sizeof(*tx));
    for (size_t i = 0; i < n; i++) {
        tx[4 * i] = render_attrs(&b->spans[i].attrs);
        tx[4 * i + 1] = render_span(model_json_events, &b->spans[i]);
        tx[4 * i + 2] = render_span(model_json_links, &b->spans[i]);
        tx[4 * i + 3] = tokens(tx[4 * i], &b->spans[i].name);
    }
    double t0 = now_s();
    for (long r = 0; r < rows; r++) {
        if (r % ROWS_PER_TX == 0)
            step(db, begin);
        const model_span *sp = &b->spans[(size_t)r % n];
        uint8_t sid[8];
        memcpy(sid, sp->span_id, 8);
        memcpy(sid, &r, 4 < sizeof(r) ? 4 : sizeof(r));
        sqlite3_bind_int64(st, 1, r / 8 + 1); /* a new trace every 8 spans */
        sqlite3_bind_blob(st, 2, sid, 8, SQLITE_TRANSIENT);
        if (sp->has_parent)
            sqlite3_bind_blob(st, 3, sp->parent_span_id, 8, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, (int64_t)sp->start_ns + r);
        sqlite3_bind_int64(st, 5, (int64_t)sp->end_ns + r);
        sqlite3_bind_int64(st, 6, 1);
        sqlite3_bind_text(st, 7, sp->name.ptr, (int)sp->name.len, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, sp->kind);
        sqlite3_bind_int(st, 9, sp->status_code);
        sqlite3_bind_text(st, 10, sp->status_message.ptr ? sp->status_message.ptr : "",
                          (int)sp->status_message.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, "", 0, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, sp->flags);
        sqlite3_bind_int64(st, 13, 1);
        sqlite3_bind_int64(st, 14, 1);
        sqlite3_bind_int64(st, 15, 0);
        sqlite3_bind_int64(st, 16, 0);
        sqlite3_bind_int64(st, 17, 0);
        size_t k = 4 * ((size_t)r % n);
        sqlite3_bind_text(st, 18, tx[k], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 19, tx[k + 1], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 20, tx[k + 2], -1, SQLITE_STATIC);
        step(db, st);
        if (ix) {
            sqlite3_bind_int64(ix, 1, sqlite3_last_insert_rowid(db));
            sqlite3_bind_text(ix, 2, tx[k + 3], -1, SQLITE_STATIC);
            step(db, ix);
        }
        if (r % ROWS_PER_TX == ROWS_PER_TX - 1 || r == rows - 1)
            step(db, commit);
    }
    double dt = now_s() - t0;
    for (size_t i = 0; i < 4 * n; i++)
        free(tx[i]);
    free(tx);
    sqlite3_finalize(st);
    sqlite3_finalize(ix);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return (double)rows / dt;
}

static double raw_logs(const char *path, int schema, const model_batch *b, long rows) {
    sqlite3 *db = open_db(path, schema);
    if (schema)
        raw_segment(db, MODEL_SIGNAL_LOGS);
    if (!schema &&
        sqlite3_exec(db,
                     "CREATE TABLE logs_1(id INTEGER PRIMARY KEY, time_ns INTEGER, observed_ns"
                     " INTEGER, service INTEGER, severity INTEGER, severity_text TEXT, trace_id"
                     " BLOB, span_id BLOB, flags INTEGER, event_name TEXT, resource INTEGER,"
                     " scope INTEGER, dropped_attrs INTEGER, body TEXT, attrs TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("create", db);
    sqlite3_stmt *st = prep(
        db, "INSERT INTO logs_1(time_ns, observed_ns, service, severity, severity_text, trace_id,"
            " span_id, flags, event_name, resource, scope, dropped_attrs, body, attrs)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
    sqlite3_stmt *fts = schema ? prep(db, "INSERT INTO logs_fts_1(rowid, body) VALUES(?1, " SCHEMA_LOG_FTS_TEXT("?2") ")")
                               : NULL;
    sqlite3_stmt *ix = schema == 1 ? prep(db, "INSERT INTO log_attr_fts_1(rowid, t) VALUES(?1, ?2)") : NULL;
    sqlite3_stmt *begin = prep(db, "BEGIN"), *commit = prep(db, "COMMIT");
    size_t n = b->n_logs;
    char **tx = calloc(3 * n, sizeof(*tx));
    for (size_t i = 0; i < n; i++) {
        tx[3 * i] = render_value(&b->logs[i].body);
        tx[3 * i + 1] = render_attrs(&b->logs[i].attrs);
        tx[3 * i + 2] = tokens(tx[3 * i + 1], NULL);
    }
    double t0 = now_s();
    for (long r = 0; r < rows; r++) {
        if (r % ROWS_PER_TX == 0)
            step(db, begin);
        const model_log *lg = &b->logs[(size_t)r % n];
        size_t k = 3 * ((size_t)r % n);
        sqlite3_bind_int64(st, 1, (int64_t)lg->time_ns + r);
        sqlite3_bind_int64(st, 2, (int64_t)lg->observed_time_ns + r);
        sqlite3_bind_int64(st, 3, 1);
        sqlite3_bind_int(st, 4, lg->severity_number);
        sqlite3_bind_text(st, 5, lg->severity_text.ptr ? lg->severity_text.ptr : "",
                          (int)lg->severity_text.len, SQLITE_STATIC);
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, lg->flags);
        sqlite3_bind_text(st, 9, "", 0, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, 1);
        sqlite3_bind_int64(st, 11, 1);
        sqlite3_bind_int64(st, 12, 0);
        sqlite3_bind_text(st, 13, tx[k], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, tx[k + 1], -1, SQLITE_STATIC);
        step(db, st);
        int64_t row = sqlite3_last_insert_rowid(db);
        if (fts) {
            sqlite3_bind_int64(fts, 1, row);
            sqlite3_bind_text(fts, 2, tx[k], -1, SQLITE_STATIC);
            step(db, fts);
        }
        if (ix) {
            sqlite3_bind_int64(ix, 1, row);
            sqlite3_bind_text(ix, 2, tx[k + 2], -1, SQLITE_STATIC);
            step(db, ix);
        }
        if (r % ROWS_PER_TX == ROWS_PER_TX - 1 || r == rows - 1)
            step(db, commit);
    }
    double dt = now_s() - t0;
    for (size_t i = 0; i < 3 * n; i++)
        free(tx[i]);
    free(tx);
    sqlite3_finalize(st);
    sqlite3_finalize(fts);
    sqlite3_finalize(ix);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return (double)rows / dt;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PAYLOAD_DIR [rows]\n", argv[0]);
        return 2;
    }
    long rows = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    if (rows <= 0 || rows > 100000000) {
        fprintf(stderr, "bench_raw: rows must be 1..100000000\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    model_batch *spans = load(argv[1], "traces.pb", MODEL_SIGNAL_TRACES);
    model_batch *logs = load(argv[1], "logs.pb", MODEL_SIGNAL_LOGS);
    if (spans->n_spans == 0 || logs->n_logs == 0) {
        fprintf(stderr, "bench_raw: empty payloads\n");
        return 1;
    }
    char dir[] = "/tmp/loupe-bench-raw-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];
    static const char *const names[3] = {"bare", "schema", "schema-noattr"};
    static const int order[3] = {1, 2, 0};
    for (int k = 0; k < 3; k++) {
        int schema = order[k];
        snprintf(path, sizeof(path), "%s/spans-%s.db", dir, names[schema]);
        printf("raw spans %s: %.0f\n", names[schema], raw_spans(path, schema, spans, rows));
        fflush(stdout);
    }
    for (int k = 0; k < 3; k++) {
        int schema = order[k];
        snprintf(path, sizeof(path), "%s/logs-%s.db", dir, names[schema]);
        printf("raw logs %s: %.0f\n", names[schema], raw_logs(path, schema, logs, rows));
        fflush(stdout);
    }
    model_batch_free(spans);
    model_batch_free(logs);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
