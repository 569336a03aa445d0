/* ingest_log.c - the ring of recent export requests and the client table,
 * see ingest_log.h. */
#include "ingest_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/clk.h"
#include "util/hash.h"
#include "util/utf8.h"

#define INGEST_HASH_SEED 0x696e67657374ULL

struct ingest_log {
    pthread_mutex_t mu;
    ingest_rec *slots; /* slots[(seq - 1) % capacity] holds record seq */
    size_t capacity;
    _Atomic uint64_t head; /* the newest seq; written under mu */
    ingest_limits limits;
    /* the client table: keys[i] is the hash of clients[i]'s identity (0 = free) */
    uint64_t keys[INGEST_CLIENTS_MAX];
    ingest_client clients[INGEST_CLIENTS_MAX];
    size_t nclients;
};

ingest_log *ingest_log_new(size_t capacity, const ingest_limits *limits) {
    if (capacity == 0 || capacity > INGEST_LOG_MAX)
        return NULL;
    ingest_log *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->slots = calloc(capacity, sizeof(*l->slots));
    if (l->slots == NULL) {
        free(l);
        return NULL;
    }
    l->capacity = capacity;
    if (limits != NULL)
        l->limits = *limits;
    atomic_init(&l->head, 0);
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void ingest_log_free(ingest_log *l) {
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->slots);
    free(l);
}

size_t ingest_log_capacity(const ingest_log *l) {
    return l != NULL ? l->capacity : 0;
}

ingest_limits ingest_log_limits(const ingest_log *l) {
    ingest_limits none = {0};
    return l != NULL ? l->limits : none;
}

/* ---- filling a record ------------------------------------------------------ */

void ingest_rec_begin(ingest_rec *r, ingest_transport t) {
    memset(r, 0, sizeof(*r));
    r->transport = (uint8_t)t;
    r->signal = -1;
    r->grpc_code = -1;
    r->wire_bytes = INGEST_UNKNOWN;
    r->decoded_bytes = INGEST_UNKNOWN;
    r->begun_ns = clk_ns(CLOCK_MONOTONIC);
}

void ingest_rec_text(char *dst, size_t cap, const char *s, size_t len) {
    if (cap == 0)
        return;
    if (s == NULL)
        len = 0;
    const char *nul = len > 0 ? memchr(s, '\0', len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - s);
    size_t n = utf8_cut(s, len, cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

void ingest_rec_peer(ingest_rec *r, const struct sockaddr *sa) {
    r->client[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, r->client, sizeof(r->client));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], r->client, sizeof(r->client));
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, r->client, sizeof(r->client));
    }
}

/* The first resource the batch's items point at (NULL without items). */
static const model_resource *ingest_first_resource(const model_batch *b) {
    if (b->n_spans > 0)
        return b->spans[0].resource;
    if (b->n_logs > 0)
        return b->logs[0].resource;
    if (b->n_metrics > 0)
        return b->metrics[0].resource;
    return NULL;
}

/* Resources in the batch: the items of one resource are adjacent, so each
 * change of the item's resource is one more. */
static uint32_t ingest_count_resources(const model_batch *b) {
    uint32_t n = 0;
    const model_resource *last = NULL;
#define INGEST_COUNT(arr, cnt)                                                                    \
    for (size_t i = 0; i < (cnt); i++)                                                            \
        if ((arr)[i].resource != last) {                                                          \
            last = (arr)[i].resource;                                                             \
            n++;                                                                                  \
        }
    INGEST_COUNT(b->spans, b->n_spans)
    INGEST_COUNT(b->logs, b->n_logs)
    INGEST_COUNT(b->metrics, b->n_metrics)
#undef INGEST_COUNT
    return n;
}

static void ingest_copy_attr(const model_kv *kv, const char *key, char *dst, size_t cap,
                             int *found) {
    size_t klen = strlen(key);
    if (kv->key.len != klen || memcmp(kv->key.ptr, key, klen) != 0 ||
        kv->value.type != MODEL_VALUE_STRING)
        return;
    ingest_rec_text(dst, cap, kv->value.u.str.ptr, kv->value.u.str.len);
    if (found != NULL)
        *found = 1;
}

void ingest_rec_batch(ingest_rec *r, const model_batch *b) {
    if (b == NULL)
        return;
    r->signal = (int8_t)b->signal;
    uint64_t rejected = b->rejected > 0 ? (uint64_t)b->rejected : 0;
    r->items = model_batch_items(b) + rejected;
    r->rejected = rejected;
    r->resources = ingest_count_resources(b);
    const model_resource *res = ingest_first_resource(b);
    if (res == NULL)
        return;
    int has_service = 0;
    for (size_t i = 0; i < res->attrs.n; i++) {
        const model_kv *kv = &res->attrs.items[i];
        if (kv->key.len < 12 || (kv->key.ptr[0] != 's' && kv->key.ptr[0] != 't'))
            continue; /* neither service.name nor telemetry.sdk.* */
        ingest_copy_attr(kv, "service.name", r->service, sizeof(r->service), &has_service);
        ingest_copy_attr(kv, "telemetry.sdk.name", r->sdk_name, sizeof(r->sdk_name), NULL);
        ingest_copy_attr(kv, "telemetry.sdk.language", r->sdk_language,
                         sizeof(r->sdk_language), NULL);
        ingest_copy_attr(kv, "telemetry.sdk.version", r->sdk_version, sizeof(r->sdk_version),
                         NULL);
    }
    r->has_service = has_service && r->service[0] != '\0';
}

/* ---- adding ----------------------------------------------------------------- */

static uint64_t ingest_client_key(const ingest_rec *r) {
    const char *parts[] = {r->client,       r->user_agent,   r->service,
                           r->sdk_name,     r->sdk_language, r->sdk_version};
    uint64_t h = INGEST_HASH_SEED + r->has_service;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        h = hash_64(parts[i], strlen(parts[i]) + 1, h); /* the NUL keeps "a"+"bc" from "ab"+"c" */
    return h == 0 ? 1 : h;
}

static int ingest_client_is(const ingest_client *c, const ingest_rec *r) {
    return c->has_service == r->has_service && strcmp(c->client, r->client) == 0 &&
           strcmp(c->user_agent, r->user_agent) == 0 && strcmp(c->service, r->service) == 0 &&
           strcmp(c->sdk_name, r->sdk_name) == 0 &&
           strcmp(c->sdk_language, r->sdk_language) == 0 &&
           strcmp(c->sdk_version, r->sdk_version) == 0;
}

static unsigned ingest_protocol_bit(const ingest_rec *r) {
    if (r->transport == INGEST_GRPC)
        return INGEST_PROTO_GRPC;
    if (r->encoding == INGEST_ENC_PROTOBUF)
        return INGEST_PROTO_HTTP_PROTOBUF;
    if (r->encoding == INGEST_ENC_JSON)
        return INGEST_PROTO_HTTP_JSON;
    return INGEST_PROTO_HTTP_OTHER;
}

/* The client row of r (a new one, or the least recently seen one reused).
 * With l->mu held. */
static ingest_client *ingest_client_row(ingest_log *l, const ingest_rec *r, uint64_t key) {
    size_t oldest = 0;
    for (size_t i = 0; i < l->nclients; i++) {
        if (l->keys[i] == key && ingest_client_is(&l->clients[i], r))
            return &l->clients[i];
        if (l->clients[i].last_ns < l->clients[oldest].last_ns)
            oldest = i;
    }
    size_t at = l->nclients < INGEST_CLIENTS_MAX ? l->nclients++ : oldest;
    ingest_client *c = &l->clients[at];
    memset(c, 0, sizeof(*c));
    l->keys[at] = key;
    memcpy(c->client, r->client, sizeof(c->client));
    memcpy(c->user_agent, r->user_agent, sizeof(c->user_agent));
    memcpy(c->service, r->service, sizeof(c->service));
    memcpy(c->sdk_name, r->sdk_name, sizeof(c->sdk_name));
    memcpy(c->sdk_language, r->sdk_language, sizeof(c->sdk_language));
    memcpy(c->sdk_version, r->sdk_version, sizeof(c->sdk_version));
    c->has_service = r->has_service;
    c->first_ns = r->time_ns;
    return c;
}

static void ingest_client_count(ingest_client *c, const ingest_rec *r) {
    c->requests++;
    c->errors += r->outcome == INGEST_OUTCOME_ERROR;
    c->partial += r->outcome == INGEST_OUTCOME_PARTIAL;
    c->items += r->items;
    c->rejected += r->rejected;
    c->protocols |= ingest_protocol_bit(r);
    c->last_ns = r->time_ns;
    c->last_seq = r->seq;
    c->last_outcome = r->outcome;
    c->last_reason = r->reason;
}

void ingest_log_add(ingest_log *l, ingest_rec *r) {
    if (l == NULL)
        return;
    int64_t now = clk_ns(CLOCK_MONOTONIC);
    r->ack_ns = now > r->begun_ns ? (uint64_t)(now - r->begun_ns) : 0;
    r->time_ns = (uint64_t)clk_ns(CLOCK_REALTIME);
    int ok = r->http_status == 200 && r->grpc_code <= 0;
    r->outcome = !ok ? INGEST_OUTCOME_ERROR
                 : r->rejected > 0 ? INGEST_OUTCOME_PARTIAL
                                   : INGEST_OUTCOME_OK;
    if (r->outcome == INGEST_OUTCOME_PARTIAL && r->reason == INGEST_REASON_NONE)
        r->reason = INGEST_REASON_ITEMS_REJECTED;
    uint64_t key = ingest_client_key(r);
    pthread_mutex_lock(&l->mu);
    uint64_t seq = atomic_load_explicit(&l->head, memory_order_relaxed) + 1;
    r->seq = seq;
    memcpy(&l->slots[(seq - 1) % l->capacity], r, sizeof(*r));
    ingest_client_count(ingest_client_row(l, r, key), r);
    atomic_store_explicit(&l->head, seq, memory_order_release);
    pthread_mutex_unlock(&l->mu);
}

/* ---- reading ----------------------------------------------------------------- */

uint64_t ingest_log_head(const ingest_log *l) {
    return l != NULL ? atomic_load_explicit(&l->head, memory_order_acquire) : 0;
}

/* Copies record seq under the lock. Returns 0, or -1 when it has been
 * overwritten (or never was). */
static int ingest_copy(ingest_log *l, uint64_t seq, ingest_rec *out) {
    int rc = -1;
    pthread_mutex_lock(&l->mu);
    const ingest_rec *s = &l->slots[(seq - 1) % l->capacity];
    if (s->seq == seq) {
        memcpy(out, s, sizeof(*out));
        rc = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

size_t ingest_log_read(ingest_log *l, uint64_t before, uint64_t after, ingest_filter_fn keep,
                       void *ud, ingest_rec *out, size_t max, int *more) {
    if (more != NULL)
        *more = 0;
    if (l == NULL || max == 0)
        return 0;
    uint64_t head = ingest_log_head(l);
    uint64_t seq = before == 0 || before > head ? head : before - 1;
    uint64_t oldest = head > l->capacity ? head - l->capacity + 1 : 1;
    if (after + 1 > oldest)
        oldest = after + 1;
    size_t n = 0;
    ingest_rec tmp;
    for (; seq >= oldest && seq > 0; seq--) {
        ingest_rec *dst = n < max ? &out[n] : &tmp;
        if (ingest_copy(l, seq, dst) != 0)
            break; /* overwritten: so are all older ones */
        if (keep != NULL && !keep(dst, ud))
            continue;
        if (n == max) {
            if (more != NULL)
                *more = 1;
            break;
        }
        n++;
    }
    return n;
}

int ingest_log_get(ingest_log *l, uint64_t seq, ingest_rec *out) {
    if (l == NULL || seq == 0 || seq > ingest_log_head(l))
        return -1;
    return ingest_copy(l, seq, out);
}

static int ingest_client_newer(const void *a, const void *b) {
    const ingest_client *x = a, *y = b;
    return x->last_seq < y->last_seq ? 1 : x->last_seq > y->last_seq ? -1 : 0;
}

size_t ingest_log_clients(ingest_log *l, ingest_client *out, size_t max) {
    if (l == NULL || max == 0)
        return 0;
    pthread_mutex_lock(&l->mu);
    size_t total = l->nclients;
    pthread_mutex_unlock(&l->mu);
    /* one row at a time, as records are read, so a receiver waits for one
     * copy at most; rows may be reused meanwhile, which a reader of a
     * moving table cannot tell from arriving a moment later */
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        ingest_client c;
        pthread_mutex_lock(&l->mu);
        int used = i < l->nclients;
        if (used)
            memcpy(&c, &l->clients[i], sizeof(c));
        pthread_mutex_unlock(&l->mu);
        if (!used)
            break;
        if (n < max) {
            out[n++] = c;
        } else {
            /* keep the most recent max rows: replace the oldest kept one */
            size_t old = 0;
            for (size_t k = 1; k < n; k++)
                if (out[k].last_seq < out[old].last_seq)
                    old = k;
            if (c.last_seq > out[old].last_seq)
                out[old] = c;
        }
    }
    if (n > 1)
        qsort(out, n, sizeof(*out), ingest_client_newer);
    return n;
}

/* ---- names -------------------------------------------------------------------- */

static const char *ingest_name(const char *const *names, size_t n, unsigned i) {
    return i < n && names[i] != NULL ? names[i] : "unknown";
}

#define INGEST_NAMES(arr, i) ingest_name(arr, sizeof(arr) / sizeof(arr[0]), i)

const char *ingest_transport_name(unsigned t) {
    static const char *const names[] = {"grpc", "http"};
    return INGEST_NAMES(names, t);
}

const char *ingest_encoding_name(unsigned e) {
    static const char *const names[] = {"unknown", "protobuf", "json"};
    return INGEST_NAMES(names, e);
}

const char *ingest_compression_name(unsigned c) {
    static const char *const names[] = {"none", "gzip", "other"};
    return INGEST_NAMES(names, c);
}

const char *ingest_outcome_name(unsigned o) {
    static const char *const names[] = {"ok", "partial", "error"};
    return INGEST_NAMES(names, o);
}

const char *ingest_reason_name(unsigned r) {
    static const char *const names[INGEST_REASON_COUNT] = {
        [INGEST_REASON_NONE] = "none",
        [INGEST_REASON_ITEMS_REJECTED] = "items_rejected",
        [INGEST_REASON_BODY_TOO_LARGE] = "body_too_large",
        [INGEST_REASON_INFLATED_TOO_LARGE] = "inflated_too_large",
        [INGEST_REASON_DECODED_TOO_LARGE] = "decoded_too_large",
        [INGEST_REASON_HEADERS_TOO_LARGE] = "headers_too_large",
        [INGEST_REASON_UNAUTHENTICATED] = "unauthenticated",
        [INGEST_REASON_WRONG_PATH] = "wrong_path",
        [INGEST_REASON_WRONG_METHOD] = "wrong_method",
        [INGEST_REASON_CORS] = "cors_denied",
        [INGEST_REASON_CONTENT_TYPE] = "content_type",
        [INGEST_REASON_CODING] = "unsupported_coding",
        [INGEST_REASON_BAD_GZIP] = "bad_gzip",
        [INGEST_REASON_MALFORMED] = "malformed",
        [INGEST_REASON_FRAMING] = "framing",
        [INGEST_REASON_BAD_TIMEOUT] = "bad_timeout",
        [INGEST_REASON_DEADLINE] = "deadline_exceeded",
        [INGEST_REASON_REQUEST_TIMEOUT] = "request_timeout",
        [INGEST_REASON_STORE_FULL] = "store_full",
        [INGEST_REASON_BUSY] = "busy",
        [INGEST_REASON_SHUTTING_DOWN] = "shutting_down",
        [INGEST_REASON_COMMIT_FAILED] = "commit_failed",
        [INGEST_REASON_NO_MEMORY] = "out_of_memory",
        [INGEST_REASON_INTERNAL] = "internal",
    };
    return INGEST_NAMES(names, r);
}
