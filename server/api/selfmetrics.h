/* selfmetrics.h - loupe's own metrics in the Prometheus text format 0.0.4.
 *
 * One job: gather the counters the store and the receivers keep (the
 * store through store_get_stats, each receiver through the metrics_source
 * main.c registered) into one plain snapshot, and render that snapshot as
 * text for GET /metrics. The counters themselves are owned by the modules
 * that bump them; nothing here keeps state.
 */
#ifndef LOUPE_SELFMETRICS_H
#define LOUPE_SELFMETRICS_H

#include <stdint.h>

#include "util/buf.h"
#include "server/decode/otlp.h"
#include "storage/store.h"
#include "metrics_source.h"
#include "ui.h"

/* The content type of the rendered text. */
#define SELFMETRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A snapshot; plain values, owned by the caller. */
typedef struct selfmetrics_input {
    const char *version;       /* build_info label (borrowed); NULL = "unknown" */
    double start_time_seconds; /* unix time the process started serving */
    int have_store;            /* 0: the store families are left out */
    store_stats store;
    metrics_figures grpc, http; /* each receiver's; zeros when not registered */
    int64_t ui_connections;     /* open connections on the UI port; < 0 = unknown */
    otlp_limit_stats limits;    /* the converter's drops (docs/security.md) */
    ui_stats ui;
    metrics_forward forward;    /* the forwarding destinations; n = 0 without forwarding */
} selfmetrics_input;

/* Fills in from live sources: the store (NULL: have_store is 0) and the
 * receivers' sources (NULL or without a read callback: zeros). Thread-safe
 * as long as the sources stay valid during the call. version,
 * start_time_seconds, ui_connections, ui and forward (zeroed here) are set
 * by the caller. */
void selfmetrics_collect(store *st, const metrics_source *grpc, const metrics_source *http,
                         selfmetrics_input *in);

/* Appends the text exposition of `in` to out. Returns BUF_OK or the BUF_*
 * code of the failed append (out then holds a truncated text). */
int selfmetrics_render(const selfmetrics_input *in, buf *out);

/* Appends v escaped as a label value (backslash, double quote and newline
 * become \\, \" and \n). Returns a BUF_* code. */
int selfmetrics_escape_label(const char *v, buf *out);

#endif
