/* forward.c - the forwarder: one thread per destination sending what the
 * store committed after its position; see forward.h.
 *
 * A destination's thread owns its store_reader, its client, its positions
 * (one query_tail per signal) and its backoff; the counters are atomics
 * that forward_get_stats() reads from any thread. The threads sleep on one
 * condition variable, woken by the store's commit notification (and once a
 * second, for retention's drops), so an idle forwarder costs nothing and a
 * busy one sends as soon as items commit. Positions are made at start, on
 * the calling thread, so that a destination without a saved position
 * begins exactly where the store stood before the receivers opened.
 */
#include "forward.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clk.h"
#include "util/hash.h"
#include "util/log.h"
#include "server/decode/otlp.h"
#include "forward_internal.h"

#define FWD_MAX_ITEMS 1000                 /* per request */
#define FWD_MAX_JSON ((size_t)2 << 20)     /* a request's OTLP JSON, before encoding */
#define FWD_BODY_CAP ((size_t)64 << 20)    /* a line or its encoding, hard cap */
#define FWD_BACKOFF_MIN_MS 250
#define FWD_BACKOFF_MAX_MS 5000
#define FWD_RETRY_AFTER_MAX_MS (300 * 1000) /* a destination's Retry-After, at most */
#define FWD_IDLE_MS 1000                   /* a look at the store at least this often */
#define FWD_LOG_EVERY_NS (30LL * 1000000000LL)

typedef struct fwd_dest {
    forwarder *f;
    forward_dest d;
    forward_client *client;
    store_reader *rd;
    pthread_t thread;
    int started;
    query_tail pos[MODEL_SIGNAL_COUNT];
    query_tail next;
    int dirty; /* positions moved since the last save */
    buf json, body;
    /* the counters (forward_stats) */
    atomic_uint_fast64_t sent[MODEL_SIGNAL_COUNT], retried[MODEL_SIGNAL_COUNT],
        failed[MODEL_SIGNAL_COUNT], dropped[MODEL_SIGNAL_COUNT], lag_items[MODEL_SIGNAL_COUNT];
    atomic_int_fast64_t caught_up_ns[MODEL_SIGNAL_COUNT]; /* last seen with nothing pending */
    uint64_t evicted_seen[MODEL_SIGNAL_COUNT]; /* the store's eviction count at the last read */
    /* retries */
    uint64_t backoff_ms;
    int64_t retry_at_ns;
    int failing;          /* an episode of failed sends is going on */
    int64_t logged_at_ns; /* its last log line */
    uint64_t episode_retries;
    int64_t refused_logged_ns[2]; /* the last log line of a refusal [0], a rejection [1] */
    uint64_t refused_unlogged[2]; /* items refused (rejected) since */
    int64_t save_logged_ns;    /* the last failed save's log line */
} fwd_dest;

struct forwarder {
    store *st;
    store_sub *sub;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    uint64_t commits;  /* bumped by the store's notification, under mu */
    forward_stop_flag stop;
    char *data_dir; /* NULL: positions are not kept */
    char *headers[FORWARD_MAX_HEADERS];
    size_t n_headers;
    size_t n;
    fwd_dest dests[FORWARD_MAX_DESTS];
};

/* ---- configuration ----------------------------------------------------------------- */

int forward_check(const forward_config *cfg, char *err, size_t errlen) {
    if (cfg->n_urls > FORWARD_MAX_DESTS) {
        snprintf(err, errlen, "--forward: at most %d destinations", FORWARD_MAX_DESTS);
        return -1;
    }
    if (cfg->n_headers > FORWARD_MAX_HEADERS) {
        snprintf(err, errlen, "--forward-header: at most %d headers", FORWARD_MAX_HEADERS);
        return -1;
    }
    forward_dest d;
    for (size_t i = 0; i < cfg->n_urls; i++) {
        if (forward_dest_parse(cfg->urls[i], cfg->protocol, &d, err, errlen) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            forward_dest other;
            forward_dest_parse(cfg->urls[j], cfg->protocol, &other, err, errlen);
            if (strcmp(other.key, d.key) == 0) {
                snprintf(err, errlen, "--forward %s: given twice", cfg->urls[i]);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < cfg->n_headers; i++) {
        char key[128];
        const char *value;
        if (forward_header_split(cfg->headers[i], key, sizeof(key), &value, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- counters ------------------------------------------------------------------------- */

size_t forward_count(const forwarder *f) {
    return f != NULL ? f->n : 0;
}

void forward_get_stats(forwarder *f, size_t i, forward_stats *out) {
    memset(out, 0, sizeof(*out));
    if (f == NULL || i >= f->n)
        return;
    fwd_dest *x = &f->dests[i];
    snprintf(out->name, sizeof(out->name), "%s", x->d.name);
    int64_t now = clk_ns(CLOCK_MONOTONIC);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        out->sent[s] = atomic_load(&x->sent[s]);
        out->retried[s] = atomic_load(&x->retried[s]);
        out->failed[s] = atomic_load(&x->failed[s]);
        out->dropped[s] = atomic_load(&x->dropped[s]);
        out->lag_items[s] = atomic_load(&x->lag_items[s]);
        int64_t since = atomic_load(&x->caught_up_ns[s]);
        out->lag_seconds[s] = out->lag_items[s] > 0 && now > since ? (double)(now - since) / 1e9 : 0;
    }
}

/* ---- positions -------------------------------------------------------------------------- */

static void fwd_save(fwd_dest *x) {
    if (!x->dirty || x->f->data_dir == NULL)
        return;
    char why[512];
    if (forward_pos_save(x->f->data_dir, &x->d, x->pos, why, sizeof(why)) == 0) {
        x->dirty = 0;
        return;
    }
    int64_t now = clk_ns(CLOCK_MONOTONIC); /* tried again next time; logged every 30 s */
    if (x->save_logged_ns != 0 && now - x->save_logged_ns < FWD_LOG_EVERY_NS)
        return;
    x->save_logged_ns = now;
    log_event(LOG_WARN, "forward_position_not_saved",
              "dest=\"%s\" reason=\"%s\" effect=\"after a restart, items since the last save "
              "are sent again\"",
              x->d.name, why);
}

/* The saved positions, or the end of what is stored for a signal without
 * one (a new destination begins with what arrives from now on). */
static int fwd_positions(fwd_dest *x, char *err, size_t errlen) {
    int found[MODEL_SIGNAL_COUNT] = {0};
    char why[512];
    if (x->f->data_dir != NULL &&
        forward_pos_load(x->f->data_dir, &x->d, x->pos, found, why, sizeof(why)) != 0)
        log_event(LOG_WARN, "forward_position_unreadable",
                  "dest=\"%s\" reason=\"%s\" action=\"starting at the end of what is stored\"",
                  x->d.name, why);
    store_stats ss;
    store_get_stats(x->f->st, &ss);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        /* evictions from here on are this forwarder's to count */
        x->evicted_seen[s] = ss.evicted[s];
        query_tail_report rep;
        int rc = found[s] ? query_tail_next(x->rd, &x->pos[s], &x->next, 0, 0, &x->json, &rep)
                          : query_tail_at_end(x->rd, &x->pos[s]);
        if (rc != QUERY_OK) {
            snprintf(err, errlen, "forward: cannot read the store");
            return -1;
        }
        if (!found[s] || rep.lost > 0 || rep.taken_gone > 0)
            x->dirty = 1; /* what was evicted while loupe was stopped is not known */
    }
    fwd_save(x);
    return 0;
}

/* ---- sending ------------------------------------------------------------------------------ */

static void fwd_send(fwd_dest *x, model_signal sig, const void *body, size_t len,
                     forward_result *r) {
    if (x->d.proto == FORWARD_GRPC)
        forward_grpc_send(x->client, sig, body, len, r);
    else
        forward_http_send(x->client, sig, body, len, r);
}

/* The line in x->json in the destination's encoding: a pointer to the
 * bytes to send. NULL (why set) when it cannot be encoded. */
static const void *fwd_encode(fwd_dest *x, model_signal sig, size_t *len, char *why,
                              size_t whylen) {
    if (x->d.proto == FORWARD_HTTP_JSON) {
        *len = x->json.len;
        return x->json.ptr;
    }
    buf_reset(&x->body);
    if (otlp_json_to_pb(sig, x->json.ptr, x->json.len, &x->body, why, whylen) != OTLP_OK)
        return NULL;
    *len = x->body.len;
    return x->body.len > 0 ? (const void *)x->body.ptr : (const void *)"";
}

/* A retryable failure: wait, growing the wait, at least what the
 * destination asked for. */
static void fwd_backoff(fwd_dest *x, const forward_result *r) {
    uint64_t b = x->backoff_ms == 0 ? FWD_BACKOFF_MIN_MS : x->backoff_ms * 2;
    if (b > FWD_BACKOFF_MAX_MS)
        b = FWD_BACKOFF_MAX_MS;
    x->backoff_ms = b;
    /* up to a fifth less, so that many loupes do not retry in step */
    uint64_t wait = b - (hash_mix64((uint64_t)clk_ns(CLOCK_MONOTONIC)) % (b / 5 + 1));
    uint64_t asked = r->retry_after_ms < FWD_RETRY_AFTER_MAX_MS ? r->retry_after_ms
                                                                 : FWD_RETRY_AFTER_MAX_MS;
    if (asked > wait)
        wait = asked;
    x->retry_at_ns = clk_ns(CLOCK_MONOTONIC) + (int64_t)wait * 1000000;
}

/* The log of an episode of failures: its first failure, then one line
 * every 30 s, then its end. */
static void fwd_log_failure(fwd_dest *x, model_signal sig, const forward_result *r,
                            uint64_t items) {
    int64_t now = clk_ns(CLOCK_MONOTONIC);
    x->episode_retries++;
    if (x->failing && now - x->logged_at_ns < FWD_LOG_EVERY_NS)
        return;
    log_event(LOG_WARN, "forward_retrying",
              "dest=\"%s\" signal=%s items=%llu reason=\"%s\" retry_in_ms=%llu attempts=%llu",
              x->d.name, model_signal_name(sig), (unsigned long long)items, r->why,
              (unsigned long long)((x->retry_at_ns - now) / 1000000),
              (unsigned long long)x->episode_retries);
    x->failing = 1;
    x->logged_at_ns = now;
}

static void fwd_delivered(fwd_dest *x) {
    if (x->failing)
        log_event(LOG_INFO, "forward_resumed", "dest=\"%s\" retries=%llu", x->d.name,
                  (unsigned long long)x->episode_retries);
    x->failing = 0;
    x->episode_retries = 0;
    x->backoff_ms = 0;
}

/* One request of signal sig. Returns 1 when items were dealt with (sent or
 * skipped), 0 when there was nothing to send, -1 to wait (a retry, or the
 * store could not be read). */
/* Items retention evicted since the last read that had not been sent:
 * the store's evictions of the signal meanwhile less those already taken
 * (a segment can be made and dropped between two reads, unseen, so the
 * position alone cannot tell). The eviction count is read before the
 * read's snapshot; a drop that falls between the two is counted at the
 * next read, its taken items then among the untaken (at most one segment
 * over). */
static uint64_t fwd_evicted_untaken(fwd_dest *x, model_signal sig, uint64_t evicted,
                                    const query_tail_report *rep) {
    uint64_t delta = evicted - x->evicted_seen[sig];
    x->evicted_seen[sig] = evicted;
    return delta > rep->taken_gone ? delta - rep->taken_gone : 0;
}

static int fwd_step(fwd_dest *x, model_signal sig) {
    query_tail_report rep;
    store_stats ss;
    store_get_stats(x->f->st, &ss);
    buf_reset(&x->json);
    int rc = query_tail_next(x->rd, &x->pos[sig], &x->next, FWD_MAX_ITEMS, FWD_MAX_JSON, &x->json,
                             &rep);
    int64_t now = clk_ns(CLOCK_MONOTONIC);
    if (rc != QUERY_OK) {
        log_event(LOG_WARN, "forward_read_failed", "dest=\"%s\" signal=%s reason=\"%s\"",
                  x->d.name, model_signal_name(sig), query_strerror(rc));
        x->retry_at_ns = now + (int64_t)FWD_IDLE_MS * 1000000;
        return -1;
    }
    uint64_t dropped = fwd_evicted_untaken(x, sig, ss.evicted[sig], &rep);
    if (rep.lost > 0 || rep.taken_gone > 0)
        x->dirty = 1; /* segments left the position */
    if (dropped > 0) {
        atomic_fetch_add(&x->dropped[sig], dropped);
        log_event(LOG_WARN, "forward_items_dropped",
                  "dest=\"%s\" signal=%s items=%llu reason=\"evicted by retention before they "
                  "could be sent\"",
                  x->d.name, model_signal_name(sig), (unsigned long long)dropped);
    }
    if (rep.items == 0) {
        atomic_store(&x->lag_items[sig], 0);
        atomic_store(&x->caught_up_ns[sig], now);
        return 0;
    }
    atomic_store(&x->lag_items[sig], rep.items + rep.pending);
    forward_result r;
    char why[256] = "";
    size_t len = 0;
    const void *body = fwd_encode(x, sig, &len, why, sizeof(why));
    if (body == NULL) {
        r.outcome = FORWARD_REFUSED;
        r.rejected = 0;
        snprintf(r.why, sizeof(r.why), "cannot encode: %s", why);
    } else {
        fwd_send(x, sig, body, len, &r);
    }
    if (r.outcome == FORWARD_RETRY) {
        atomic_fetch_add(&x->retried[sig], rep.items);
        fwd_backoff(x, &r);
        fwd_log_failure(x, sig, &r, rep.items);
        return -1;
    }
    uint64_t rejected = r.outcome == FORWARD_REFUSED ? rep.items
                        : r.rejected > 0 && (uint64_t)r.rejected < rep.items ? (uint64_t)r.rejected
                        : r.rejected > 0                                     ? rep.items
                                                                             : 0;
    atomic_fetch_add(&x->sent[sig], rep.items - rejected);
    atomic_fetch_add(&x->failed[sig], rejected);
    int k = r.outcome == FORWARD_REFUSED ? 0 : 1;
    if (rejected > 0) /* the first, then at most one line every 30 s with the items since */
        x->refused_unlogged[k] += rejected;
    if (rejected > 0 &&
        (x->refused_logged_ns[k] == 0 || now - x->refused_logged_ns[k] >= FWD_LOG_EVERY_NS)) {
        log_event(LOG_WARN, k == 0 ? "forward_refused" : "forward_rejected",
                  "dest=\"%s\" signal=%s items=%llu reason=\"%s\" action=\"skipped\"", x->d.name,
                  model_signal_name(sig), (unsigned long long)x->refused_unlogged[k], r.why);
        x->refused_logged_ns[k] = now;
        x->refused_unlogged[k] = 0;
    }
    if (r.outcome == FORWARD_DELIVERED)
        fwd_delivered(x);
    query_tail tmp = x->pos[sig]; /* adopt the moved position */
    x->pos[sig] = x->next;
    x->next = tmp;
    x->dirty = 1;
    atomic_store(&x->lag_items[sig], rep.pending);
    if (rep.pending == 0)
        atomic_store(&x->caught_up_ns[sig], clk_ns(CLOCK_MONOTONIC));
    return 1;
}

/* Sleeps until a commit, ms or the stop (whichever first). */
static void fwd_wait(fwd_dest *x, uint64_t *seen, long ms) {
    forwarder *f = x->f;
    struct timespec until;
    clk_deadline(CLOCK_MONOTONIC, ms, &until);
    pthread_mutex_lock(&f->mu);
    while (!atomic_load(&f->stop) && f->commits == *seen)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &until) != 0)
            break;
    *seen = f->commits;
    pthread_mutex_unlock(&f->mu);
}

static void *fwd_thread(void *arg) {
    fwd_dest *x = arg;
    forwarder *f = x->f;
    uint64_t seen = 0;
    while (!atomic_load(&f->stop)) {
        int64_t now = clk_ns(CLOCK_MONOTONIC);
        if (x->retry_at_ns > now) {
            long ms = (long)((x->retry_at_ns - now) / 1000000) + 1;
            fwd_wait(x, &seen, ms < FWD_IDLE_MS ? ms : FWD_IDLE_MS);
            continue;
        }
        int busy = 0, waiting = 0;
        pthread_mutex_lock(&f->mu);
        seen = f->commits; /* what commits after this is noticed by the wait */
        pthread_mutex_unlock(&f->mu);
        for (int s = 0; s < MODEL_SIGNAL_COUNT && !waiting && !atomic_load(&f->stop); s++) {
            int rc = fwd_step(x, (model_signal)s);
            busy |= rc > 0;
            waiting = rc < 0;
        }
        fwd_save(x);
        if (!busy && !waiting)
            fwd_wait(x, &seen, FWD_IDLE_MS);
    }
    fwd_save(x);
    return NULL;
}

/* ---- life ------------------------------------------------------------------------------------- */

static void fwd_commit(void *ud, const model_batch *b) {
    (void)b;
    forwarder *f = ud;
    pthread_mutex_lock(&f->mu);
    f->commits++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fwd_dest_free(fwd_dest *x) {
    if (x->d.proto == FORWARD_GRPC)
        forward_grpc_free(x->client);
    else
        forward_http_free(x->client);
    store_reader_close(x->rd);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++)
        query_tail_free(&x->pos[s]);
    query_tail_free(&x->next);
    buf_free(&x->json);
    buf_free(&x->body);
}

/* Destination i: parsed, its reader and client, its positions. */
static int fwd_dest_init(forwarder *f, fwd_dest *x, const forward_config *cfg, size_t i,
                         char *err, size_t errlen) {
    x->f = f;
    buf_init(&x->json, FWD_BODY_CAP);
    buf_init(&x->body, FWD_BODY_CAP);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        query_tail_init(&x->pos[s], s);
        atomic_init(&x->caught_up_ns[s], clk_ns(CLOCK_MONOTONIC));
    }
    query_tail_init(&x->next, MODEL_SIGNAL_TRACES);
    if (forward_dest_parse(cfg->urls[i], cfg->protocol, &x->d, err, errlen) != 0)
        return -1;
    if (store_reader_open(f->st, &x->rd) != STORE_OK) {
        snprintf(err, errlen, "forward: cannot open a reader of the store");
        return -1;
    }
    const char *const *hdrs = (const char *const *)f->headers;
    x->client = x->d.proto == FORWARD_GRPC
                    ? forward_grpc_new(&x->d, hdrs, f->n_headers, &f->stop)
                    : forward_http_new(&x->d, hdrs, f->n_headers, &f->stop);
    if (x->client == NULL) {
        snprintf(err, errlen, "forward: cannot set up the client for %s", x->d.name);
        return -1;
    }
    return fwd_positions(x, err, errlen);
}

static void fwd_free(forwarder *f) {
    for (size_t i = 0; i < f->n; i++)
        fwd_dest_free(&f->dests[i]);
    for (size_t i = 0; i < f->n_headers; i++)
        free(f->headers[i]);
    free(f->data_dir);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* curl_global_init() is not thread-safe: once, from the thread that starts
 * the forwarder, before any thread uses libcurl. */
static int fwd_curl_ready;

int forward_start(const forward_config *cfg, store *st, forwarder **out, char *err,
                  size_t errlen) {
    *out = NULL;
    if (cfg->n_urls == 0)
        return 0;
    if (forward_check(cfg, err, errlen) != 0)
        return -1;
    if (!fwd_curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "forward: cannot initialise libcurl");
        return -1;
    }
    fwd_curl_ready = 1;
    forwarder *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        snprintf(err, errlen, "forward: out of memory");
        return -1;
    }
    f->st = st;
    atomic_init(&f->stop, 0);
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    if (cfg->data_dir != NULL && (f->data_dir = strdup(cfg->data_dir)) == NULL)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < cfg->n_headers; i++) {
        f->headers[i] = strdup(cfg->headers[i]);
        rc = f->headers[i] != NULL ? 0 : -1;
        f->n_headers += rc == 0;
    }
    if (rc != 0)
        snprintf(err, errlen, "forward: out of memory");
    for (size_t i = 0; rc == 0 && i < cfg->n_urls; i++) {
        f->n++;
        rc = fwd_dest_init(f, &f->dests[i], cfg, i, err, errlen);
    }
    if (rc == 0 && store_subscribe(st, fwd_commit, f, &f->sub) != STORE_OK) {
        snprintf(err, errlen, "forward: cannot subscribe to the store's commits");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        if (pthread_create(&f->dests[i].thread, NULL, fwd_thread, &f->dests[i]) != 0) {
            snprintf(err, errlen, "forward: cannot start a thread");
            rc = -1;
        } else {
            f->dests[i].started = 1;
            log_event(LOG_INFO, "forwarding", "dest=\"%s\" protocol=%s", f->dests[i].d.name,
                      f->dests[i].d.proto == FORWARD_GRPC      ? "grpc"
                      : f->dests[i].d.proto == FORWARD_HTTP_JSON ? "http/json"
                                                                 : "http/protobuf");
        }
    }
    if (rc != 0) {
        forward_stop(f);
        return -1;
    }
    *out = f;
    return 0;
}

void forward_stop(forwarder *f) {
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->stop, 1);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    for (size_t i = 0; i < f->n; i++)
        if (f->dests[i].started)
            pthread_join(f->dests[i].thread, NULL);
    store_unsubscribe(f->st, f->sub);
    fwd_free(f);
}
