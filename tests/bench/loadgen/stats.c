/* stats.c - the load generator's counters: a latency histogram that counts
 * every value, outcomes by name, and the partial-success field of answers. */
#include <stdio.h>
#include <string.h>

#include "loadgen.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

static size_t hist_index(uint64_t v) {
    if (v < LG_HIST_SUB)
        return (size_t)v;
    int e = 63 - __builtin_clzll(v); /* >= 7 */
    if (e > 40)
        return LG_HIST_BUCKETS - 1;
    uint64_t m = (v >> (e - 7)) & (LG_HIST_SUB - 1);
    return LG_HIST_SUB + (size_t)(e - 7) * LG_HIST_SUB + (size_t)m;
}

/* The largest value that falls into bucket i. */
static uint64_t hist_upper(size_t i) {
    if (i < LG_HIST_SUB)
        return i;
    int e = 7 + (int)((i - LG_HIST_SUB) / LG_HIST_SUB);
    uint64_t m = (i - LG_HIST_SUB) % LG_HIST_SUB;
    uint64_t lower = (LG_HIST_SUB + m) << (e - 7);
    return lower + ((uint64_t)1 << (e - 7)) - 1;
}

void lg_hist_add(lg_hist *h, uint64_t ns) {
    h->counts[hist_index(ns)]++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void lg_hist_merge(lg_hist *into, const lg_hist *from) {
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->n += from->n;
    into->sum_ns += from->sum_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

uint64_t lg_hist_quantile(const lg_hist *h, double q) {
    if (h->n == 0)
        return 0;
    /* the rank of the value sought, 1-based: ceil(q * n), at least 1 */
    double want = q * (double)h->n;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_upper(i);
            return v < h->max_ns ? v : h->max_ns;
        }
    }
    return h->max_ns;
}

/* Adds n failed attempts under name. */
static void stats_fail_add(lg_stats *s, const char *name, uint64_t n) {
    for (int i = 0; i < s->nfail; i++) {
        if (strcmp(s->fail[i].name, name) == 0) {
            s->fail[i].n += n;
            return;
        }
    }
    if (s->nfail >= LG_MAX_OUTCOMES - 1 && strcmp(name, "other") != 0) {
        stats_fail_add(s, "other", n); /* the last slot counts every further name */
        return;
    }
    snprintf(s->fail[s->nfail].name, sizeof(s->fail[s->nfail].name), "%s", name);
    s->fail[s->nfail].n = n;
    s->nfail++;
}

void lg_stats_fail(lg_stats *s, const char *name) {
    stats_fail_add(s, name, 1);
}

void lg_stats_ack(lg_stats *s, const lg_body *b, uint64_t latency_ns, uint64_t rejected) {
    if (rejected > b->items)
        rejected = b->items;
    s->ok++;
    s->items_acked += b->items - rejected;
    s->items_rejected += rejected;
    s->traces_acked += b->traces;
    lg_hist_add(&s->hist, latency_ns);
}

void lg_stats_merge(lg_stats *into, const lg_stats *from) {
    into->ok += from->ok;
    into->items_acked += from->items_acked;
    into->items_rejected += from->items_rejected;
    into->traces_acked += from->traces_acked;
    into->bytes_sent += from->bytes_sent;
    into->retries += from->retries;
    into->given_up += from->given_up;
    for (int i = 0; i < from->nfail; i++)
        stats_fail_add(into, from->fail[i].name, from->fail[i].n);
    lg_hist_merge(&into->hist, &from->hist);
}

uint64_t lg_response_rejected(lg_signal sig, const uint8_t *msg, size_t len) {
    uint64_t n = 0;
    if (sig == LG_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                NULL, len, msg);
        if (r == NULL)
            return 0;
        if (r->partial_success != NULL && r->partial_success->rejected_spans > 0)
            n = (uint64_t)r->partial_success->rejected_spans;
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
            r, NULL);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
            opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
                NULL, len, msg);
        if (r == NULL)
            return 0;
        if (r->partial_success != NULL && r->partial_success->rejected_log_records > 0)
            n = (uint64_t)r->partial_success->rejected_log_records;
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
            r, NULL);
    }
    return n;
}
