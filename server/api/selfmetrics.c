/* selfmetrics.c - loupe's own metrics in the Prometheus text format, see selfmetrics.h. */
#include "selfmetrics.h"

#include <assert.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "storage/model.h"

static void sm_read_source(const metrics_source *src, metrics_figures *out) {
    memset(out, 0, sizeof(*out));
    if (src != NULL && src->read != NULL)
        src->read(src->recv, out);
}

void selfmetrics_collect(store *st, const metrics_source *grpc, const metrics_source *http,
                         selfmetrics_input *in) {
    in->have_store = st != NULL;
    if (st != NULL)
        store_get_stats(st, &in->store);
    else
        memset(&in->store, 0, sizeof(in->store));
    sm_read_source(grpc, &in->grpc);
    sm_read_source(http, &in->http);
    otlp_limit_stats_get(&in->limits);
    memset(&in->forward, 0, sizeof(in->forward)); /* the caller adds the forwarder's */
}

int selfmetrics_escape_label(const char *v, buf *out) {
    int rc = BUF_OK;
    for (const char *p = v ? v : ""; *p && rc == BUF_OK; p++) {
        if (*p == '\\')
            rc = buf_append(out, "\\\\", 2);
        else if (*p == '"')
            rc = buf_append(out, "\\\"", 2);
        else if (*p == '\n')
            rc = buf_append(out, "\\n", 2);
        else
            rc = buf_append_char(out, *p);
    }
    return rc;
}

/* "# HELP name help\n# TYPE name type\n"; help texts are constants without
 * backslashes or newlines. */
static int sm_family(buf *out, const char *name, const char *type, const char *help) {
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family with one sample and no label. */
typedef struct sm_row {
    const char *name, *type, *help;
    uint64_t v;
} sm_row;

/* A counter family with a signal label: v[signal]. */
typedef struct sm_signal_row {
    const char *name, *help;
    const uint64_t *v;
} sm_signal_row;

#define SM_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int sm_rows(buf *out, const sm_row *rows, size_t n) {
    int rc = BUF_OK;
    for (size_t i = 0; i < n && rc == BUF_OK; i++) {
        rc = sm_family(out, rows[i].name, rows[i].type, rows[i].help);
        if (rc == BUF_OK)
            rc = buf_printf(out, "%s %" PRIu64 "\n", rows[i].name, rows[i].v);
    }
    return rc;
}

static int sm_signal_rows(buf *out, const sm_signal_row *rows, size_t n) {
    int rc = BUF_OK;
    for (size_t i = 0; i < n && rc == BUF_OK; i++) {
        rc = sm_family(out, rows[i].name, "counter", rows[i].help);
        for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++)
            rc = buf_printf(out, "%s{signal=\"%s\"} %" PRIu64 "\n", rows[i].name,
                            model_signal_name((model_signal)s), rows[i].v[s]);
    }
    return rc;
}

static const char *const sm_transports[2] = {"grpc", "http"};

static const recv_stats *sm_transport(const selfmetrics_input *in, int t) {
    assert(t == 0 || t == 1);
    return t == 0 ? &in->grpc.counters : &in->http.counters;
}

/* The reasons items are rejected for (requests have every outcome). */
static const recv_outcome sm_item_reasons[] = {RECV_INVALID, RECV_TOO_LARGE, RECV_BACKPRESSURE,
                                               RECV_UNAVAILABLE};

/* A counter family by signal and transport: v[transport][signal]. */
static int sm_per_signal_transport(buf *out, const char *name, const char *help,
                                   const uint64_t *const v[2]) {
    int rc = sm_family(out, name, "counter", help);
    for (int t = 0; t < 2 && rc == BUF_OK; t++)
        for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++)
            rc = buf_printf(out, "%s{signal=\"%s\",transport=\"%s\"} %" PRIu64 "\n", name,
                            model_signal_name((model_signal)s), sm_transports[t], v[t][s]);
    return rc;
}

static int sm_items(const selfmetrics_input *in, buf *out) {
    const uint64_t *const received[2] = {in->grpc.counters.items_received,
                                         in->http.counters.items_received};
    const uint64_t *const accepted[2] = {in->grpc.counters.items_accepted,
                                         in->http.counters.items_accepted};
    int rc = sm_per_signal_transport(out, "loupe_items_received_total",
                                     "Telemetry items (spans, log records, metric points) in "
                                     "decoded export requests, by signal and transport.",
                                     received);
    if (rc == BUF_OK)
        rc = sm_per_signal_transport(
            out, "loupe_items_accepted_total",
            "Items committed to the store (acknowledged), by signal and transport.", accepted);
    if (rc == BUF_OK)
        rc = sm_family(out, "loupe_items_rejected_total", "counter",
                       "Items not accepted, by signal, transport and reason.");
    for (int t = 0; t < 2 && rc == BUF_OK; t++)
        for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++)
            for (size_t r = 0; r < SM_COUNT(sm_item_reasons) && rc == BUF_OK; r++)
                rc = buf_printf(out,
                                "loupe_items_rejected_total{signal=\"%s\",transport=\"%s\","
                                "reason=\"%s\"} %" PRIu64 "\n",
                                model_signal_name((model_signal)s), sm_transports[t],
                                recv_outcome_name(sm_item_reasons[r]),
                                sm_transport(in, t)->items_rejected[s][sm_item_reasons[r]]);
    if (rc == BUF_OK)
        rc = sm_family(out, "loupe_requests_total", "counter",
                       "OTLP export requests answered, by transport and outcome.");
    for (int t = 0; t < 2 && rc == BUF_OK; t++)
        for (int o = 0; o < RECV_OUTCOME_COUNT && rc == BUF_OK; o++)
            rc = buf_printf(out, "loupe_requests_total{transport=\"%s\",outcome=\"%s\"} %" PRIu64
                                 "\n",
                            sm_transports[t], recv_outcome_name((recv_outcome)o),
                            sm_transport(in, t)->requests[o]);
    return rc;
}

/* The commit latency histogram: cumulative buckets, the sum, the count. */
static int sm_commit_histogram(const store_stats *st, buf *out) {
    int rc = sm_family(out, "loupe_store_commit_duration_seconds", "histogram",
                       "Time from BEGIN to COMMIT of each committed transaction.");
    uint64_t cum = 0;
    for (int i = 0; i <= STORE_COMMIT_BUCKETS && rc == BUF_OK; i++) {
        cum += st->commit_seconds_bucket[i];
        if (i < STORE_COMMIT_BUCKETS)
            rc = buf_printf(out, "loupe_store_commit_duration_seconds_bucket{le=\"%g\"} %" PRIu64
                                 "\n",
                            store_commit_buckets[i], cum);
        else
            rc = buf_printf(out,
                            "loupe_store_commit_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64
                            "\n",
                            cum);
    }
    if (rc == BUF_OK)
        rc = buf_printf(out, "loupe_store_commit_duration_seconds_sum %" PRIu64 ".%09" PRIu64 "\n",
                        st->commit_ns_sum / 1000000000u, st->commit_ns_sum % 1000000000u);
    if (rc == BUF_OK)
        rc = buf_printf(out, "loupe_store_commit_duration_seconds_count %" PRIu64 "\n", cum);
    return rc;
}

static int sm_store(const store_stats *st, buf *out) {
    const sm_signal_row items[] = {
        {"loupe_store_items_committed_total",
         "Items committed by the store from any source (receivers and import), by signal.",
         st->accepted},
        {"loupe_store_items_refused_total",
         "Items the store refused because its queue was full or it was closing, by signal.",
         st->rejected},
        {"loupe_items_evicted_total",
         "Items removed by retention (count, age or size cap), by signal.", st->evicted},
    };
    const sm_row rows[] = {
        {"loupe_ring_bytes", "gauge", "Bytes of batches queued in the ring, waiting for commit.",
         st->ring_bytes},
        {"loupe_ring_max_bytes", "gauge",
         "The ring's byte budget; appends past it are refused (backpressure).",
         st->ring_max_bytes},
        {"loupe_store_commits_total", "counter", "Transactions the writer committed.",
         st->commits},
        {"loupe_store_commit_errors_total", "counter",
         "Failed writes of batches or transactions.", st->commit_errors},
        {"loupe_store_write_failures_total", "counter",
         "Transactions the database refused (full, read-only, I/O error).", st->write_failures},
        {"loupe_store_writes_failing", "gauge", "1 while the database refuses writes.",
         st->writes_failing ? 1 : 0},
        {"loupe_database_size_bytes", "gauge",
         "Database pages in use times the page size, as of the last check.", st->db_bytes},
        {"loupe_database_max_size_bytes", "gauge",
         "The database size cap (--max-db-size); 0 = none.", st->db_max_bytes},
    };
    int rc = sm_signal_rows(out, items, SM_COUNT(items));
    if (rc == BUF_OK)
        rc = sm_rows(out, rows, SM_COUNT(rows));
    if (rc == BUF_OK)
        rc = sm_commit_histogram(st, out);
    return rc;
}

/* One counter family with a port label: gRPC, OTLP/HTTP and, when the UI
 * port's figures were gathered (with_ui), UI. */
static int sm_per_port(buf *out, const char *name, const char *help, uint64_t grpc, uint64_t http,
                       int with_ui, uint64_t ui) {
    int rc = sm_family(out, name, "counter", help);
    if (rc == BUF_OK)
        rc = buf_printf(out, "%s{port=\"grpc\"} %" PRIu64 "\n%s{port=\"http\"} %" PRIu64 "\n",
                        name, grpc, name, http);
    if (rc == BUF_OK && with_ui)
        rc = buf_printf(out, "%s{port=\"ui\"} %" PRIu64 "\n", name, ui);
    return rc;
}

/* Limits hit (docs/security.md): the converter's drops and each port's
 * connection guards, the OTLP/HTTP body budget, live streams. */
static int sm_limits(const selfmetrics_input *in, buf *out) {
    const otlp_limit_stats *l = &in->limits;
    int with_ui = in->ui_connections >= 0; /* figures from the UI port */
    const sm_row drops[] = {
        {"loupe_attributes_dropped_total", "counter",
         "Attributes left out past --max-attributes (added to the item's dropped count).",
         l->attrs_dropped},
        {"loupe_attribute_values_truncated_total", "counter",
         "String and bytes attribute values cut to --max-attribute-value-length.",
         l->values_truncated},
        {"loupe_span_events_dropped_total", "counter",
         "Span events left out past --max-span-events.", l->events_dropped},
        {"loupe_span_links_dropped_total", "counter", "Span links left out past --max-span-links.",
         l->links_dropped},
        {"loupe_grpc_connections_refused_total", "counter",
         "gRPC connections closed at accept past --max-connections (the HTTP ports leave them "
         "waiting in the kernel's backlog instead).",
         in->grpc.connections_refused},
    };
    const sm_row budget[] = {
        {"loupe_http_body_bytes", "gauge", "Bytes of OTLP/HTTP request bodies held in memory now.",
         in->http.body_bytes},
        {"loupe_http_body_budget_bytes", "gauge",
         "The budget those bodies share; past it requests get 503.", in->http.body_budget},
        {"loupe_grpc_idle_timeouts_total", "counter",
         "gRPC connections closed for silence past --idle-timeout or no preface.",
         in->grpc.idle_timeouts},
    };
    const sm_row live[] = {
        {"loupe_live_clients", "gauge", "Live streams (GET /api/v1/live) open now.",
         in->ui.live_clients},
        {"loupe_live_clients_refused_total", "counter",
         "Live streams refused past --max-live-clients.", in->ui.live_clients_refused},
    };
    int rc = sm_rows(out, drops, SM_COUNT(drops));
    if (rc == BUF_OK)
        rc = sm_per_port(out, "loupe_request_timeouts_total",
                         "Connections cut off because a request did not arrive within "
                         "--request-timeout (slow clients), by port.",
                         in->grpc.request_timeouts, in->http.request_timeouts, with_ui,
                         in->ui.conn.request_timeouts);
    if (rc == BUF_OK)
        rc = sm_per_port(out, "loupe_headers_too_large_total",
                         "Requests refused for headers past --max-header-size, by port.",
                         in->grpc.headers_too_large, in->http.headers_too_large, with_ui,
                         in->ui.conn.headers_too_large);
    if (rc == BUF_OK)
        rc = sm_rows(out, budget, SM_COUNT(budget));
    if (rc == BUF_OK && with_ui)
        rc = sm_rows(out, live, SM_COUNT(live));
    return rc;
}

/* loupe_open_connections by port; the UI's only when it was gathered. */
static int sm_connections(const selfmetrics_input *in, buf *out) {
    int rc = sm_family(out, "loupe_open_connections", "gauge", "Connections open now, by port.");
    if (rc == BUF_OK)
        rc = buf_printf(out, "loupe_open_connections{port=\"grpc\"} %" PRId64 "\n",
                        in->grpc.counters.open_connections);
    if (rc == BUF_OK)
        rc = buf_printf(out, "loupe_open_connections{port=\"http\"} %" PRId64 "\n",
                        in->http.counters.open_connections);
    if (rc == BUF_OK && in->ui_connections >= 0)
        rc = buf_printf(out, "loupe_open_connections{port=\"ui\"} %" PRId64 "\n",
                        in->ui_connections);
    return rc;
}

/* loupe_forward_*: one sample per destination and signal (families left
 * out without forwarding). */
static int sm_forward(const metrics_forward *fw, buf *out) {
    static const struct {
        const char *name, *type, *help;
        size_t field; /* offset of the uint64_t[MODEL_SIGNAL_COUNT] in metrics_forward_dest */
    } fams[] = {
        {"loupe_forward_items_sent_total", "counter",
         "Items a --forward destination accepted, by destination and signal.",
         offsetof(metrics_forward_dest, sent)},
        {"loupe_forward_items_retried_total", "counter",
         "Items in requests sent again after a retryable answer or none (HTTP 429/502/503/504, "
         "gRPC UNAVAILABLE, ...), by destination and signal.",
         offsetof(metrics_forward_dest, retried)},
        {"loupe_forward_items_failed_total", "counter",
         "Items a destination refused for good (HTTP 400, a partial success's rejections, ...);"
         " skipped, not retried.",
         offsetof(metrics_forward_dest, failed)},
        {"loupe_forward_items_dropped_total", "counter",
         "Items evicted by retention before they could be forwarded.",
         offsetof(metrics_forward_dest, dropped)},
        {"loupe_forward_lag_items", "gauge", "Items stored and not yet forwarded.",
         offsetof(metrics_forward_dest, lag_items)},
    };
    int rc = BUF_OK;
    for (size_t k = 0; k < SM_COUNT(fams) && rc == BUF_OK; k++) {
        rc = sm_family(out, fams[k].name, fams[k].type, fams[k].help);
        for (size_t i = 0; i < fw->n && rc == BUF_OK; i++) {
            const uint64_t *v = (const uint64_t *)((const char *)&fw->dest[i] + fams[k].field);
            for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++) {
                rc = buf_printf(out, "%s{destination=\"", fams[k].name);
                if (rc == BUF_OK)
                    rc = selfmetrics_escape_label(fw->dest[i].name, out);
                if (rc == BUF_OK)
                    rc = buf_printf(out, "\",signal=\"%s\"} %" PRIu64 "\n",
                                    model_signal_name((model_signal)s), v[s]);
            }
        }
    }
    if (rc == BUF_OK)
        rc = sm_family(out, "loupe_forward_lag_seconds", "gauge",
                       "How long a destination has had items waiting (0 when caught up).");
    for (size_t i = 0; i < fw->n && rc == BUF_OK; i++)
        for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++) {
            rc = buf_append_str(out, "loupe_forward_lag_seconds{destination=\"");
            if (rc == BUF_OK)
                rc = selfmetrics_escape_label(fw->dest[i].name, out);
            if (rc == BUF_OK)
                rc = buf_printf(out, "\",signal=\"%s\"} %.3f\n",
                                model_signal_name((model_signal)s), fw->dest[i].lag_seconds[s]);
        }
    return rc;
}

int selfmetrics_render(const selfmetrics_input *in, buf *out) {
    int rc = sm_family(out, "loupe_build_info", "gauge", "Always 1; the version is a label.");
    if (rc == BUF_OK)
        rc = buf_append_str(out, "loupe_build_info{version=\"");
    if (rc == BUF_OK)
        rc = selfmetrics_escape_label(in->version ? in->version : "unknown", out);
    if (rc == BUF_OK)
        rc = buf_append_str(out, "\"} 1\n");
    if (rc == BUF_OK)
        rc = sm_family(out, "loupe_process_start_time_seconds", "gauge",
                       "Start time of the process since the unix epoch, in seconds.");
    if (rc == BUF_OK)
        rc = buf_printf(out, "loupe_process_start_time_seconds %.3f\n", in->start_time_seconds);
    if (rc == BUF_OK)
        rc = sm_items(in, out);
    if (rc == BUF_OK && in->have_store)
        rc = sm_store(&in->store, out);
    if (rc == BUF_OK)
        rc = sm_connections(in, out);
    if (rc == BUF_OK)
        rc = sm_limits(in, out);
    if (rc == BUF_OK && in->forward.n > 0)
        rc = sm_forward(&in->forward, out);
    return rc;
}
