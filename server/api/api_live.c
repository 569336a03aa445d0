/* api_live.c - server-sent events of committed telemetry, see api_live.h.
 *
 * DESIGN
 * Threads: the store's writer calls live_on_commit() after each commit;
 * libmicrohttpd workers call api_live_next() for their connections; one
 * ticker thread wakes waiting streams when a heartbeat is due. Locks: the
 * hub's mutex guards the list of streams and is taken first; each stream's
 * mutex guards its queue and state. A stream that has nothing to send marks
 * itself waiting and has its connection suspended, both under its lock;
 * whoever adds something (writer, ticker, shutdown) clears the flag and
 * resumes it under the same lock, so a resume never precedes its suspend
 * and happens once.
 *
 * Filtering is on the model, before rendering, with the API's semantics
 * (query.h); two approximations: `q` of logs is matched as case-insensitive
 * substrings of the body (each word, a trailing '*' ignored) rather than by
 * full-text tokens, and the text form of doubles for `~` and `q` is C's
 * %.17g. Items are rendered once per commit, for all streams.
 */
#include "api_live.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/clk.h"
#include "util/jw.h"
#include "util/log.h"
#include "storage/model.h"
#include "storage/model_json.h"

#define LIVE_DEFAULT_HEARTBEAT_NS (15ULL * 1000000000ULL)
#define LIVE_DEFAULT_QUEUE ((size_t)4 << 20)
#define LIVE_TICK_MS 50
#define LIVE_MAX_PENDING_TRACES 256
#define LIVE_STRS (4 + 2 * QUERY_MAX_ATTRS)

struct api_live {
    api_live_hub *hub;
    api_live *next; /* hub list */
    pthread_mutex_t mu;
    /* filter (owned copies) */
    api_live_filter f;
    query_attr attrs[QUERY_MAX_ATTRS];
    uint8_t tid[16], sid[8];
    char *strs[LIVE_STRS];
    size_t nstrs;
    /* state */
    buf queue; /* SSE bytes waiting to be sent */
    uint8_t traces[LIVE_MAX_PENDING_TRACES][16];
    size_t ntraces;
    int waiting, overflowed, ended, started;
    uint64_t dropped;
    uint64_t next_heartbeat; /* CLOCK_MONOTONIC ns */
    uint64_t ingest_seen;    /* the ingest log's head last announced */
    api_live_conn_fn suspend, resume;
    void *conn;
};

struct api_live_hub {
    store *st;
    store_sub *sub;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    api_live *streams;
    size_t n;
    size_t max_streams; /* 0 = no cap */
    uint64_t refused;   /* opens refused past max_streams */
    int stopping;
    pthread_t ticker;
    int ticker_started;
    ingest_log *ingest; /* borrowed; NULL = no ingest events */
};

static uint64_t live_mono_ns(void) {
    return (uint64_t)clk_ns(CLOCK_MONOTONIC);
}

static uint64_t live_now_ns(void) {
    return (uint64_t)clk_ns(CLOCK_REALTIME);
}

/* Resumes a waiting stream; with l->mu held. */
static void live_wake_locked(api_live *l) {
    if (l->waiting) {
        l->waiting = 0;
        l->resume(l->conn);
    }
}

/* ---- filters on the model ------------------------------------------------------ */

static int live_eq_str(const char *a, size_t al, const char *b, size_t bl) {
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

static int live_contains_ci(const char *hay, size_t hl, const char *needle, size_t nl) {
    if (nl == 0)
        return 1;
    for (size_t i = 0; i + nl <= hl; i++)
        if (strncasecmp(hay + i, needle, nl) == 0)
            return 1;
    return 0;
}

/* The text the API shows for a scalar value; 0 when not scalar. */
static int live_value_text(const model_value *v, char *tmp, size_t tl, const char **s,
                           size_t *n) {
    switch (v->type) {
    case MODEL_VALUE_STRING:
        *s = v->u.str.ptr;
        *n = v->u.str.len;
        return 1;
    case MODEL_VALUE_BOOL:
        *s = v->u.boolean ? "true" : "false";
        *n = strlen(*s);
        return 1;
    case MODEL_VALUE_INT:
        *n = (size_t)snprintf(tmp, tl, "%lld", (long long)v->u.integer);
        *s = tmp;
        return 1;
    case MODEL_VALUE_DOUBLE:
        if (isnan(v->u.dbl))
            *n = (size_t)snprintf(tmp, tl, "NaN");
        else if (isinf(v->u.dbl))
            *n = (size_t)snprintf(tmp, tl, v->u.dbl > 0 ? "Infinity" : "-Infinity");
        else
            *n = (size_t)snprintf(tmp, tl, "%.17g", v->u.dbl);
        *s = tmp;
        return 1;
    default:
        return 0;
    }
}

/* A numeric value the way the API compares it (integers within 2^53). */
static int live_value_number(const model_value *v, double *d) {
    if (v->type == MODEL_VALUE_INT && v->u.integer <= MODEL_JSON_MAX_SAFE_INT &&
        v->u.integer >= -MODEL_JSON_MAX_SAFE_INT) {
        *d = (double)v->u.integer;
        return 1;
    }
    if (v->type == MODEL_VALUE_DOUBLE && isfinite(v->u.dbl)) {
        *d = v->u.dbl;
        return 1;
    }
    return 0;
}

static int live_value_eq(const query_attr *a, const model_value *v) {
    double d, want;
    char tmp[64];
    const char *s;
    size_t n;
    if (live_value_number(v, &d)) {
        char num[130];
        if (a->value_len == 0 || a->value_len >= sizeof(num))
            return 0;
        memcpy(num, a->value, a->value_len);
        num[a->value_len] = '\0';
        char *end;
        want = strtod(num, &end);
        return *end == '\0' && want == d;
    }
    if (v->type == MODEL_VALUE_BOOL || v->type == MODEL_VALUE_STRING ||
        v->type == MODEL_VALUE_INT || v->type == MODEL_VALUE_DOUBLE) {
        live_value_text(v, tmp, sizeof(tmp), &s, &n);
        return live_eq_str(s, n, a->value, a->value_len);
    }
    return 0;
}

/* -1: the key is absent; else whether the filter holds. */
static int live_attrs_match(const query_attr *a, const model_attrs *attrs) {
    int present = 0;
    for (size_t i = 0; i < attrs->n; i++) {
        const model_kv *kv = &attrs->items[i];
        if (!live_eq_str(kv->key.ptr, kv->key.len, a->key, a->key_len))
            continue;
        present = 1;
        const model_value *v = &kv->value;
        double d;
        char tmp[64];
        const char *s;
        size_t n;
        switch (a->op) {
        case QUERY_ATTR_EQ:
            if (live_value_eq(a, v))
                return 1;
            break;
        case QUERY_ATTR_NE:
            if (!live_value_eq(a, v))
                return 1;
            break;
        case QUERY_ATTR_CONTAINS:
            if (live_value_text(v, tmp, sizeof(tmp), &s, &n) &&
                live_contains_ci(s, n, a->value, a->value_len))
                return 1;
            break;
        case QUERY_ATTR_GT:
            if (live_value_number(v, &d) && d > a->number)
                return 1;
            break;
        case QUERY_ATTR_LT:
            if (live_value_number(v, &d) && d < a->number)
                return 1;
            break;
        }
    }
    return present ? 0 : -1;
}

static int live_attr_ok(const query_attr *a, const model_attrs *attrs,
                        const model_resource *res) {
    if (live_attrs_match(a, attrs) == 1)
        return 1;
    return res != NULL && live_attrs_match(a, &res->attrs) == 1;
}

static int live_text_in_attrs(const model_attrs *attrs, const char *q, size_t ql) {
    for (size_t i = 0; i < attrs->n; i++) {
        char tmp[64];
        const char *s;
        size_t n;
        if (live_value_text(&attrs->items[i].value, tmp, sizeof(tmp), &s, &n) &&
            live_contains_ci(s, n, q, ql))
            return 1;
    }
    return 0;
}

static const char *live_service(const model_resource *r) {
    return r && r->service_name.len ? r->service_name.ptr : "unknown_service";
}

static int live_span_ok(const api_live *l, const model_span *sp) {
    const api_live_filter *f = &l->f;
    if (f->service && strcmp(f->service, live_service(sp->resource)) != 0)
        return 0;
    if (f->name && !live_eq_str(sp->name.ptr, sp->name.len, f->name, strlen(f->name)))
        return 0;
    if (f->status != QUERY_STATUS_ANY && (int)sp->status_code != f->status - 1)
        return 0;
    for (size_t i = 0; i < f->n_attrs; i++)
        if (!live_attr_ok(&f->attrs[i], &sp->attrs, sp->resource))
            return 0;
    if (f->q && f->q[0]) {
        size_t ql = strlen(f->q);
        if (!live_contains_ci(sp->name.ptr, sp->name.len, f->q, ql) &&
            !live_text_in_attrs(&sp->attrs, f->q, ql))
            return 0;
    }
    return 1;
}

static int live_log_ok(const api_live *l, const model_log *lg, const char *body, size_t blen) {
    const api_live_filter *f = &l->f;
    if (f->service && strcmp(f->service, live_service(lg->resource)) != 0)
        return 0;
    if (lg->severity_number < f->min_severity)
        return 0;
    if (f->pattern && lg->pattern_id != f->pattern)
        return 0;
    if (f->trace_id && (!lg->has_trace_id || memcmp(f->trace_id, lg->trace_id, 16) != 0))
        return 0;
    if (f->span_id && (!lg->has_span_id || memcmp(f->span_id, lg->span_id, 8) != 0))
        return 0;
    for (size_t i = 0; i < f->n_attrs; i++)
        if (!live_attr_ok(&f->attrs[i], &lg->attrs, lg->resource))
            return 0;
    if (f->log_q) {
        const char *p = f->log_q;
        for (;;) {
            while (*p == ' ')
                p++;
            if (*p == '\0')
                break;
            const char *w = p;
            while (*p && *p != ' ')
                p++;
            size_t wl = (size_t)(p - w);
            if (wl > 1 && w[wl - 1] == '*')
                wl--;
            if (!live_contains_ci(body, blen, w, wl))
                return 0;
        }
    }
    return 1;
}

/* ---- rendering -------------------------------------------------------------------- */

static void live_resource_scope(jw *w, const model_resource *r, const model_scope *sc) {
    jw_key(w, "service");
    jw_string(w, live_service(r));
    jw_key(w, "resource");
    jw_object_begin(w);
    jw_key(w, "attributes");
    if (r)
        model_json_attrs_sorted(w, &r->attrs);
    else
        jw_raw(w, "{}", 2);
    jw_object_end(w);
    jw_key(w, "scope");
    jw_object_begin(w);
    jw_key(w, "name");
    jw_stringn(w, sc ? sc->name.ptr : "", sc ? sc->name.len : 0);
    jw_key(w, "version");
    jw_stringn(w, sc ? sc->version.ptr : "", sc ? sc->version.len : 0);
    jw_object_end(w);
}

/* An optional id: its hex, or "" when there is none. */
static void live_id(jw *w, const char *key, int has, const uint8_t *id, size_t n) {
    jw_key(w, key);
    if (has)
        jw_hex(w, id, n);
    else
        jw_string(w, "");
}

static void live_span_json(jw *w, const model_span *sp) {
    jw_object_begin(w);
    jw_key(w, "traceId");
    jw_hex(w, sp->trace_id, 16);
    jw_key(w, "spanId");
    jw_hex(w, sp->span_id, 8);
    live_id(w, "parentSpanId", sp->has_parent, sp->parent_span_id, 8);
    jw_key(w, "name");
    jw_stringn(w, sp->name.ptr, sp->name.len);
    jw_key(w, "kind");
    jw_string(w, model_span_kind_name(sp->kind));
    jw_key(w, "startTimeUnixNano");
    jw_uint_string(w, sp->start_ns);
    jw_key(w, "endTimeUnixNano");
    jw_uint_string(w, sp->end_ns);
    jw_key(w, "durationNs");
    jw_uint(w, sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0);
    jw_key(w, "status");
    jw_object_begin(w);
    jw_key(w, "code");
    jw_string(w, model_status_code_name(sp->status_code));
    jw_key(w, "message");
    jw_stringn(w, sp->status_message.ptr, sp->status_message.len);
    jw_object_end(w);
    jw_key(w, "attributes");
    model_json_attrs(w, &sp->attrs);
    jw_key(w, "events");
    model_json_events(w, sp);
    jw_key(w, "links");
    model_json_links(w, sp);
    live_resource_scope(w, sp->resource, sp->scope);
    jw_key(w, "traceState");
    jw_stringn(w, sp->trace_state.ptr, sp->trace_state.len);
    jw_key(w, "flags");
    jw_uint(w, sp->flags);
    jw_key(w, "droppedAttributesCount");
    jw_uint(w, sp->dropped_attrs);
    jw_key(w, "droppedEventsCount");
    jw_uint(w, sp->dropped_events);
    jw_key(w, "droppedLinksCount");
    jw_uint(w, sp->dropped_links);
    jw_object_end(w);
}

static void live_log_json(jw *w, const model_log *lg, uint64_t now) {
    uint64_t t = lg->time_ns ? lg->time_ns : (lg->observed_time_ns ? lg->observed_time_ns : now);
    jw_object_begin(w);
    jw_key(w, "timeUnixNano");
    jw_uint_string(w, t);
    jw_key(w, "observedTimeUnixNano");
    jw_uint_string(w, lg->observed_time_ns);
    jw_key(w, "severityNumber");
    jw_int(w, lg->severity_number);
    jw_key(w, "severityText");
    jw_stringn(w, lg->severity_text.ptr, lg->severity_text.len);
    jw_key(w, "body");
    model_json_value(w, &lg->body);
    jw_key(w, "attributes");
    model_json_attrs(w, &lg->attrs);
    live_id(w, "traceId", lg->has_trace_id, lg->trace_id, 16);
    live_id(w, "spanId", lg->has_span_id, lg->span_id, 8);
    live_resource_scope(w, lg->resource, lg->scope);
    jw_key(w, "eventName");
    jw_stringn(w, lg->event_name.ptr, lg->event_name.len);
    jw_key(w, "flags");
    jw_uint(w, lg->flags);
    jw_key(w, "patternId");
    if (lg->pattern_id > 0)
        jw_int(w, lg->pattern_id);
    else
        jw_null(w);
    jw_object_end(w);
}

/* Appends one event to a stream's queue (l->mu held); cuts a slow stream
 * off when its queue would grow past its bound. */
static void live_push(api_live *l, const char *event, const char *json, size_t len) {
    if (l->overflowed || l->ended)
        return;
    size_t need = strlen(event) + len + 16;
    if (l->queue.len + need > l->f.max_queue) {
        l->overflowed = 1;
        l->dropped += 1;
        buf_free(&l->queue); /* the memory goes now, not when the client reads */
        buf_init(&l->queue, l->f.max_queue);
        live_wake_locked(l);
        return;
    }
    if (buf_append_str(&l->queue, "event: ") != BUF_OK ||
        buf_append_str(&l->queue, event) != BUF_OK ||
        buf_append_str(&l->queue, "\ndata: ") != BUF_OK ||
        buf_append(&l->queue, json, len) != BUF_OK || buf_append(&l->queue, "\n\n", 2) != BUF_OK) {
        l->overflowed = 1;
        buf_free(&l->queue);
        buf_init(&l->queue, l->f.max_queue);
    }
    live_wake_locked(l);
}

static void live_add_trace(api_live *l, const uint8_t id[16]) {
    for (size_t i = 0; i < l->ntraces; i++)
        if (memcmp(l->traces[i], id, 16) == 0)
            return;
    if (l->ntraces == LIVE_MAX_PENDING_TRACES) {
        l->dropped++;
        return;
    }
    memcpy(l->traces[l->ntraces++], id, 16);
    live_wake_locked(l);
}

/* ---- the writer's side -------------------------------------------------------------- */

/* Renders item i of b once, on first need. */
typedef struct live_render {
    buf text;
    size_t *off, *len;
    unsigned char *done;
    size_t n;
    uint64_t now;
} live_render;

static int live_rendered(live_render *r, const model_batch *b, size_t i, const char **json,
                         size_t *len) {
    assert(i < r->n);
    if (!r->done[i]) {
        r->off[i] = r->text.len;
        jw w;
        jw_init(&w, &r->text);
        if (b->signal == MODEL_SIGNAL_TRACES)
            live_span_json(&w, &b->spans[i]);
        else
            live_log_json(&w, &b->logs[i], r->now);
        if (jw_error(&w))
            return -1;
        r->len[i] = r->text.len - r->off[i];
        r->done[i] = 1;
    }
    *json = r->text.ptr + r->off[i];
    *len = r->len[i];
    return 0;
}

/* Span i of b to stream l (l->mu held): as a span event, and its trace
 * for a trace summary, as l's filter asks. */
static void live_offer_span(api_live *l, live_render *r, const model_batch *b, size_t i) {
    const model_span *sp = &b->spans[i];
    const char *json;
    size_t len;
    if (!(l->f.kinds & (API_LIVE_SPANS | API_LIVE_TRACES)) || !live_span_ok(l, sp))
        return;
    if (l->f.kinds & API_LIVE_SPANS) {
        if (live_rendered(r, b, i, &json, &len) != 0) {
            l->dropped++;
            return;
        }
        live_push(l, "span", json, len);
    }
    if (l->f.kinds & API_LIVE_TRACES)
        live_add_trace(l, sp->trace_id);
}

/* Log record i of b to stream l (l->mu held) when l's filter takes it. */
static void live_offer_log(api_live *l, live_render *r, const model_batch *b, size_t i) {
    const model_log *lg = &b->logs[i];
    const char *json;
    size_t len;
    if (!(l->f.kinds & API_LIVE_LOGS))
        return;
    /* the body text for `q`: a plain string, other bodies as JSON */
    const char *body = "";
    size_t blen = 0;
    if (lg->body.type == MODEL_VALUE_STRING) {
        body = lg->body.u.str.ptr;
        blen = lg->body.u.str.len;
    } else if (l->f.log_q && live_rendered(r, b, i, &json, &len) == 0) {
        body = json; /* the whole record's JSON: generous */
        blen = len;
    }
    if (!live_log_ok(l, lg, body, blen))
        return;
    if (live_rendered(r, b, i, &json, &len) == 0)
        live_push(l, "log", json, len);
    else
        l->dropped++;
}

static void live_on_commit(void *ud, const model_batch *b) {
    api_live_hub *h = ud;
    if (b->signal == MODEL_SIGNAL_METRICS)
        return;
    size_t n = model_batch_items(b);
    if (n == 0)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->streams == NULL || h->stopping) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    live_render r;
    memset(&r, 0, sizeof(r));
    buf_init(&r.text, (size_t)256 << 20);
    r.off = calloc(n, sizeof(*r.off));
    r.len = calloc(n, sizeof(*r.len));
    r.done = calloc(n, 1);
    r.n = n;
    r.now = live_now_ns();
    int no_memory = r.off == NULL || r.len == NULL || r.done == NULL;
    for (api_live *l = h->streams; l != NULL; l = l->next) {
        pthread_mutex_lock(&l->mu);
        if (no_memory)
            l->dropped += n;
        for (size_t i = 0; !no_memory && i < n && !l->overflowed && !l->ended; i++) {
            if (b->signal == MODEL_SIGNAL_TRACES)
                live_offer_span(l, &r, b, i);
            else
                live_offer_log(l, &r, b, i);
        }
        pthread_mutex_unlock(&l->mu);
    }
    pthread_mutex_unlock(&h->mu);
    buf_free(&r.text);
    free(r.off);
    free(r.len);
    free(r.done);
}

/* ---- the ticker ------------------------------------------------------------------------- */

/* 1 when the stream wants ingest events and the log has records it has not
 * announced; with l->mu held. */
static int live_ingest_new(const api_live *l) {
    return (l->f.kinds & API_LIVE_INGEST) && l->hub->ingest != NULL &&
           ingest_log_head(l->hub->ingest) > l->ingest_seen;
}

static void *live_ticker(void *arg) {
    api_live_hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!(h->stopping && h->streams == NULL)) {
        uint64_t now = live_mono_ns();
        for (api_live *l = h->streams; l != NULL; l = l->next) {
            pthread_mutex_lock(&l->mu);
            if (l->waiting && (now >= l->next_heartbeat || live_ingest_new(l)))
                live_wake_locked(l);
            pthread_mutex_unlock(&l->mu);
        }
        struct timespec until;
        clk_deadline(CLOCK_REALTIME, LIVE_TICK_MS, &until);
        pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- the hub ----------------------------------------------------------------------------- */

api_live_hub *api_live_hub_new(store *st) {
    api_live_hub *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->st = st;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (st != NULL && store_subscribe(st, live_on_commit, h, &h->sub) != STORE_OK)
        goto fail;
    if (pthread_create(&h->ticker, NULL, live_ticker, h) != 0)
        goto fail;
    h->ticker_started = 1;
    return h;
fail:
    store_unsubscribe(st, h->sub);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return NULL;
}

void api_live_hub_set_ingest(api_live_hub *h, ingest_log *log) {
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->ingest = log;
    pthread_mutex_unlock(&h->mu);
}

void api_live_hub_set_max_streams(api_live_hub *h, size_t max) {
    pthread_mutex_lock(&h->mu);
    h->max_streams = max;
    pthread_mutex_unlock(&h->mu);
}

/* The open streams and the refusals, read together under the hub's lock
 * (zeros without a hub). */
static void live_hub_counts(api_live_hub *h, size_t *streams, uint64_t *refused) {
    *streams = 0;
    *refused = 0;
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    *streams = h->n;
    *refused = h->refused;
    pthread_mutex_unlock(&h->mu);
}

uint64_t api_live_hub_refused(api_live_hub *h) {
    size_t streams;
    uint64_t refused;
    live_hub_counts(h, &streams, &refused);
    return refused;
}

size_t api_live_hub_streams(api_live_hub *h) {
    size_t streams;
    uint64_t refused;
    live_hub_counts(h, &streams, &refused);
    return streams;
}

size_t api_live_hub_shutdown(api_live_hub *h, unsigned timeout_ms) {
    if (h == NULL)
        return 0;
    uint64_t deadline = live_mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
    size_t waiting = 0;
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    for (;;) {
        waiting = 0;
        for (api_live *l = h->streams; l != NULL; l = l->next) {
            pthread_mutex_lock(&l->mu);
            l->ended = 1;
            live_wake_locked(l);
            waiting += l->waiting;
            pthread_mutex_unlock(&l->mu);
        }
        if (h->streams == NULL || live_mono_ns() >= deadline)
            break;
        struct timespec until;
        clk_deadline(CLOCK_REALTIME, 10, &until);
        pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    return waiting;
}

void api_live_hub_free(api_live_hub *h) {
    if (h == NULL)
        return;
    store_unsubscribe(h->st, h->sub);
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->ticker_started && h->streams == NULL)
        pthread_join(h->ticker, NULL);
    else if (h->ticker_started)
        pthread_detach(h->ticker); /* streams left open: cannot happen after MHD stopped */
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- streams ----------------------------------------------------------------------------- */

static const char *live_keep(api_live *l, const char *s, size_t n) {
    if (s == NULL || l->nstrs == LIVE_STRS)
        return NULL;
    char *c = malloc(n + 1);
    if (c == NULL)
        return NULL;
    if (n)
        memcpy(c, s, n);
    c[n] = '\0';
    l->strs[l->nstrs++] = c;
    return c;
}

static void live_free(api_live *l) {
    for (size_t i = 0; i < l->nstrs; i++)
        free(l->strs[i]);
    buf_free(&l->queue);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int api_live_open(api_live_hub *h, const api_live_filter *f, api_live_conn_fn suspend,
                  api_live_conn_fn resume, void *conn, api_live **out) {
    *out = NULL;
    if (h == NULL || f == NULL || suspend == NULL || resume == NULL ||
        f->n_attrs > QUERY_MAX_ATTRS)
        return -1;
    api_live *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -1;
    pthread_mutex_init(&l->mu, NULL);
    l->hub = h;
    l->f = *f;
    if (l->f.kinds == 0)
        l->f.kinds = API_LIVE_SPANS | API_LIVE_TRACES | API_LIVE_LOGS;
    if (l->f.heartbeat_ns == 0)
        l->f.heartbeat_ns = LIVE_DEFAULT_HEARTBEAT_NS;
    if (l->f.max_queue == 0)
        l->f.max_queue = LIVE_DEFAULT_QUEUE;
    buf_init(&l->queue, l->f.max_queue);
    int bad = 0;
#define LIVE_COPY(field)                                                                           \
    do {                                                                                           \
        if (f->field) {                                                                            \
            l->f.field = live_keep(l, f->field, strlen(f->field));                                 \
            bad |= l->f.field == NULL;                                                             \
        }                                                                                          \
    } while (0)
    LIVE_COPY(service);
    LIVE_COPY(name);
    LIVE_COPY(q);
    LIVE_COPY(log_q);
#undef LIVE_COPY
    for (size_t i = 0; i < f->n_attrs; i++) {
        l->attrs[i] = f->attrs[i];
        l->attrs[i].key = live_keep(l, f->attrs[i].key, f->attrs[i].key_len);
        l->attrs[i].value = live_keep(l, f->attrs[i].value ? f->attrs[i].value : "",
                                      f->attrs[i].value_len);
        bad |= l->attrs[i].key == NULL || l->attrs[i].value == NULL;
    }
    l->f.attrs = l->attrs;
    if (f->trace_id) {
        memcpy(l->tid, f->trace_id, 16);
        l->f.trace_id = l->tid;
    }
    if (f->span_id) {
        memcpy(l->sid, f->span_id, 8);
        l->f.span_id = l->sid;
    }
    if (bad) {
        live_free(l);
        return -1;
    }
    l->suspend = suspend;
    l->resume = resume;
    l->conn = conn;
    l->next_heartbeat = live_mono_ns() + l->f.heartbeat_ns;
    pthread_mutex_lock(&h->mu);
    l->ingest_seen = ingest_log_head(h->ingest); /* what is there now the client reads itself */
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        live_free(l);
        return -1;
    }
    if (h->max_streams != 0 && h->n >= h->max_streams) {
        h->refused++;
        size_t max = h->max_streams;
        pthread_mutex_unlock(&h->mu);
        live_free(l);
        log_event(LOG_WARN, "live_client_refused", "reason=max_live_clients max=%zu", max);
        return API_LIVE_EFULL;
    }
    l->next = h->streams;
    h->streams = l;
    h->n++;
    pthread_mutex_unlock(&h->mu);
    *out = l;
    return 0;
}

void api_live_close(api_live *l) {
    if (l == NULL)
        return;
    api_live_hub *h = l->hub;
    pthread_mutex_lock(&h->mu);
    int found = 0;
    for (api_live **p = &h->streams; *p != NULL; p = &(*p)->next) {
        if (*p == l) {
            *p = l->next;
            h->n--;
            found = 1;
            break;
        }
    }
    assert(found); /* an open stream is on its hub's list until closed */
    (void)found;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    live_free(l);
}

int api_live_next(api_live *l, store_reader *db, buf *out) {
    pthread_mutex_lock(&l->mu);
    if (!l->started) {
        l->started = 1;
        /* a first comment, so that clients see the stream is open */
        int rc = buf_append_str(out, ": loupe live\nretry: 2000\n\n");
        pthread_mutex_unlock(&l->mu);
        return rc == BUF_OK ? API_LIVE_DATA : API_LIVE_END;
    }
    if (l->overflowed) {
        char msg[96];
        snprintf(msg, sizeof(msg), "event: overflow\ndata: {\"dropped\":%llu}\n\n",
                 (unsigned long long)l->dropped);
        buf_append_str(out, msg);
        l->ended = 1;
        l->overflowed = 0;
        pthread_mutex_unlock(&l->mu);
        return API_LIVE_DATA;
    }
    if (l->queue.len > 0) {
        /* hand the whole queue over */
        int rc = buf_append(out, l->queue.ptr, l->queue.len);
        buf_reset(&l->queue);
        pthread_mutex_unlock(&l->mu);
        return rc == BUF_OK ? API_LIVE_DATA : API_LIVE_END;
    }
    if (l->ntraces > 0 && db != NULL) {
        uint8_t ids[LIVE_MAX_PENDING_TRACES][16];
        size_t n = l->ntraces;
        memcpy(ids, l->traces, n * 16);
        l->ntraces = 0;
        pthread_mutex_unlock(&l->mu); /* read without holding up the writer */
        buf one;
        buf_init(&one, (size_t)1 << 20);
        for (size_t i = 0; i < n; i++) {
            buf_reset(&one);
            if (query_trace_summary(db, ids[i], &one) != QUERY_OK)
                continue;
            if (l->f.has_min_duration || l->f.has_max_duration) {
                const char *d = strstr(one.ptr, "\"durationNs\":");
                uint64_t dur = d ? strtoull(d + 13, NULL, 10) : 0;
                if ((l->f.has_min_duration && dur < l->f.min_duration_ns) ||
                    (l->f.has_max_duration && dur > l->f.max_duration_ns))
                    continue;
            }
            buf_append_str(out, "event: trace\ndata: ");
            buf_append(out, one.ptr, one.len);
            buf_append(out, "\n\n", 2);
        }
        buf_free(&one);
        if (out->len > 0)
            return API_LIVE_DATA;
        pthread_mutex_lock(&l->mu);
    }
    if (l->ended) {
        pthread_mutex_unlock(&l->mu);
        return API_LIVE_END;
    }
    if (live_ingest_new(l)) {
        l->ingest_seen = ingest_log_head(l->hub->ingest);
        char msg[64];
        snprintf(msg, sizeof(msg), "event: ingest\ndata: {\"head\":%llu}\n\n",
                 (unsigned long long)l->ingest_seen);
        int rc = buf_append_str(out, msg);
        pthread_mutex_unlock(&l->mu);
        return rc == BUF_OK ? API_LIVE_DATA : API_LIVE_END;
    }
    uint64_t now = live_mono_ns();
    if (now >= l->next_heartbeat) {
        l->next_heartbeat = now + l->f.heartbeat_ns;
        char msg[96];
        snprintf(msg, sizeof(msg), "event: heartbeat\ndata: {\"timeUnixNano\":\"%llu\"}\n\n",
                 (unsigned long long)live_now_ns());
        buf_append_str(out, msg);
        pthread_mutex_unlock(&l->mu);
        return API_LIVE_DATA;
    }
    /* nothing to say: suspended until the writer, the ticker or a
     * shutdown resumes us (under this lock, so after the suspend) */
    l->waiting = 1;
    l->suspend(l->conn);
    pthread_mutex_unlock(&l->mu);
    return API_LIVE_WAIT;
}
