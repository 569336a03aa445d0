/* metrics_source.h - how the UI server reads a receiver it does not include.
 *
 * The UI/API layer sits beside the receivers, not above them
 * (scripts/lint-includes.sh), so it knows a receiver only as a
 * metrics_source: a read callback and its argument, filled in by main.c
 * and registered with ui_server_set_sources(). The callback copies the
 * receiver's counters into plain figures for GET /metrics; the port is what
 * GET /api/v1/info reports. The counters stay owned by the receiver.
 */
#ifndef LOUPE_METRICS_SOURCE_H
#define LOUPE_METRICS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "server/net/recv_stats.h"
#include "storage/model.h"

/* One receiver's figures at one moment; plain values. A field the
 * receiver does not keep stays 0. */
typedef struct metrics_figures {
    recv_stats counters;          /* items, requests, open connections */
    uint64_t connections_refused; /* past --max-connections */
    uint64_t idle_timeouts;       /* closed for silence past --idle-timeout (gRPC) */
    uint64_t request_timeouts;    /* cut off: the request did not arrive in time */
    uint64_t headers_too_large;   /* requests refused for headers past --max-header-size */
    uint64_t body_bytes;          /* request bodies held in memory now (OTLP/HTTP) */
    uint64_t body_budget;         /* the budget those bodies share (OTLP/HTTP) */
} metrics_figures;

/* ---- forwarding (server/forward, which the UI does not include) --------- */

#define METRICS_FORWARD_MAX 8 /* FORWARD_MAX_DESTS */

/* One destination's counters by signal (MODEL_SIGNAL_*): items sent
 * (accepted), retried (in requests sent again), failed (refused for good),
 * dropped (evicted before they could be sent); the items stored and not
 * yet sent, and how long the destination has not been caught up. */
typedef struct metrics_forward_dest {
    char name[160]; /* the destination's URL, no credentials */
    uint64_t sent[MODEL_SIGNAL_COUNT], retried[MODEL_SIGNAL_COUNT], failed[MODEL_SIGNAL_COUNT],
        dropped[MODEL_SIGNAL_COUNT], lag_items[MODEL_SIGNAL_COUNT];
    double lag_seconds[MODEL_SIGNAL_COUNT];
} metrics_forward_dest;

typedef struct metrics_forward {
    size_t n;
    metrics_forward_dest dest[METRICS_FORWARD_MAX];
} metrics_forward;

/* Fills *out (zeroed by the caller) from the forwarder ctx; the same
 * rules as metrics_read_fn. */
typedef void (*metrics_forward_fn)(void *ctx, metrics_forward *out);

/* Fills *out, which the caller has zeroed, from the receiver recv. Called
 * on UI worker threads while the source is registered: must be thread-safe
 * and must not block. */
typedef void (*metrics_read_fn)(void *recv, metrics_figures *out);

/* A receiver as the UI server sees it; a plain value, copied on
 * registration. */
typedef struct metrics_source {
    metrics_read_fn read; /* NULL: no receiver, its figures are zeros */
    void *recv;           /* borrowed; must stay valid while registered */
    int port;             /* its bound TCP port; 0 = not known */
} metrics_source;

#endif
