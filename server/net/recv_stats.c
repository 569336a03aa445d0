/* recv_stats.c - per-transport counters of the OTLP receivers, see recv_stats.h. */
#include "recv_stats.h"

#include <string.h>

#include "storage/store.h"

static int recv_sig_ok(model_signal sig) {
    return (unsigned)sig < MODEL_SIGNAL_COUNT;
}

void recv_count_request(recv_counters *c, recv_outcome o) {
    if (c != NULL && (unsigned)o < RECV_OUTCOME_COUNT)
        atomic_fetch_add_explicit(&c->requests[o], 1, memory_order_relaxed);
}

void recv_count_decoded(recv_counters *c, model_signal sig, uint64_t valid, uint64_t invalid) {
    if (c == NULL || !recv_sig_ok(sig))
        return;
    atomic_fetch_add_explicit(&c->items_received[sig], valid + invalid, memory_order_relaxed);
    if (invalid > 0)
        atomic_fetch_add_explicit(&c->items_rejected[sig][RECV_INVALID], invalid,
                                  memory_order_relaxed);
}

void recv_count_accepted(recv_counters *c, model_signal sig, uint64_t n) {
    if (c != NULL && recv_sig_ok(sig))
        atomic_fetch_add_explicit(&c->items_accepted[sig], n, memory_order_relaxed);
}

void recv_count_rejected(recv_counters *c, model_signal sig, recv_outcome o, uint64_t n) {
    if (c != NULL && recv_sig_ok(sig) && (unsigned)o < RECV_OUTCOME_COUNT && o != RECV_OK)
        atomic_fetch_add_explicit(&c->items_rejected[sig][o], n, memory_order_relaxed);
}

void recv_count_committed(recv_counters *c, int status, const model_batch *b) {
    if (b == NULL)
        return;
    if (status == STORE_OK)
        recv_count_accepted(c, b->signal, model_batch_items(b));
    else
        recv_count_rejected(c, b->signal, recv_outcome_of_store(status), model_batch_items(b));
}

void recv_count_connection(recv_counters *c, int delta) {
    if (c != NULL)
        atomic_fetch_add_explicit(&c->open_connections, delta, memory_order_relaxed);
}

recv_outcome recv_outcome_of_store(int store_code) {
    switch (store_code) {
    case STORE_OK:
        return RECV_OK;
    case STORE_EFULL:
    case STORE_ECLOSED:
        return RECV_BACKPRESSURE;
    case STORE_EIO:
    case STORE_ENOMEM:
        return RECV_UNAVAILABLE;
    default:
        return RECV_OTHER;
    }
}

void recv_counters_get(const recv_counters *c, recv_stats *out) {
    memset(out, 0, sizeof(*out));
    if (c == NULL)
        return;
    for (int o = 0; o < RECV_OUTCOME_COUNT; o++)
        out->requests[o] = atomic_load_explicit(&c->requests[o], memory_order_relaxed);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        out->items_received[s] = atomic_load_explicit(&c->items_received[s], memory_order_relaxed);
        out->items_accepted[s] = atomic_load_explicit(&c->items_accepted[s], memory_order_relaxed);
        for (int o = 0; o < RECV_OUTCOME_COUNT; o++)
            out->items_rejected[s][o] =
                atomic_load_explicit(&c->items_rejected[s][o], memory_order_relaxed);
    }
    out->open_connections = atomic_load_explicit(&c->open_connections, memory_order_relaxed);
}

const char *recv_outcome_name(recv_outcome o) {
    static const char *const names[RECV_OUTCOME_COUNT] = {
        "ok", "invalid", "unauthenticated", "too_large", "backpressure", "unavailable", "other",
    };
    return (unsigned)o < RECV_OUTCOME_COUNT ? names[o] : "other";
}
