/* selfmetrics.h - loupe's own metrics in the Prometheus text format 0.0.4.
 *
 * One job: gather the counters the store and the receivers keep
 * (store_get_stats, grpc_server_get_stats, otlp_http_get_stats) into one
 * plain snapshot, and render that snapshot as text for GET /metrics. The
 * counters themselves are owned by the modules that bump them; nothing here
 * keeps state.
 */
#ifndef LOUPE_SELFMETRICS_H
#define LOUPE_SELFMETRICS_H

#include <stdint.h>

#include "util/buf.h"
#include "server/receive/grpc.h"
#include "server/decode/otlp.h"
#include "server/receive/otlp_http.h"
#include "server/net/recv_stats.h"
#include "storage/store.h"
#include "ui.h"

/* The content type of the rendered text. */
#define SELFMETRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A snapshot; plain values, owned by the caller. */
typedef struct selfmetrics_input {
    const char *version;       /* build_info label (borrowed); NULL = "unknown" */
    double start_time_seconds; /* unix time the process started serving */
    int have_store;            /* 0: the store families are left out */
    store_stats store;
    int have_grpc, have_http;  /* 0: that transport's series are zeros */
    recv_stats grpc, http;
    int64_t ui_connections;    /* open connections on the UI port; < 0 = unknown */
    /* Limits hit (docs/security.md): the converter's drops, and each port's
     * connection guards. */
    otlp_limit_stats limits;
    grpc_stats grpc_conn;
    http_guard_stats http_conn;
    uint64_t http_body_bytes, http_body_budget; /* otlp_http_body_use */
    ui_stats ui;
} selfmetrics_input;

/* Fills in from live sources; each may be NULL (then its have_* is 0).
 * Thread-safe as long as the sources outlive the call. version,
 * start_time_seconds, ui_connections and ui are set by the caller. */
void selfmetrics_collect(store *st, const grpc_server *grpc, const otlp_http *http,
                         selfmetrics_input *in);

/* Appends the text exposition of `in` to out. Returns BUF_OK or the BUF_*
 * code of the failed append (out then holds a truncated text). */
int selfmetrics_render(const selfmetrics_input *in, buf *out);

/* Appends v escaped as a label value (backslash, double quote and newline
 * become \\, \" and \n). Returns a BUF_* code. */
int selfmetrics_escape_label(const char *v, buf *out);

#endif
