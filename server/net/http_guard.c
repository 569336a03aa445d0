/* http_guard.c - slow-client timeouts and counters for the libmicrohttpd
 * servers, see http_guard.h. */
#include "http_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/clk.h"
#include "util/log.h"

#define HTTP_GUARD_TICK_MS 200
#define HTTP_GUARD_HINT_NS (60LL * 1000000000) /* h2_hint at most this often */

typedef struct http_guard_conn {
    struct http_guard_conn *prev, *next;
    http_guard *g;
    int fd;
    int64_t deadline; /* monotonic ns; 0 = none (guarded by g->mu) */
} http_guard_conn;

struct http_guard {
    const char *name;
    char log_event[48]; /* "<name>_mhd", for libmicrohttpd's messages */
    int64_t request_ns, idle_ns;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    http_guard_conn *conns;
    int stop;
    pthread_t thread;
    atomic_uint_fast64_t open, refused, timeouts, headers;
    const char *h2_hint;      /* set before the daemon starts; NULL = none */
    _Atomic int64_t h2_hinted; /* when h2_hint was last logged; 0 = never */
};

static int64_t http_guard_now(void) {
    return clk_ns(CLOCK_MONOTONIC);
}

static void *http_guard_loop(void *arg) {
    http_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clk_deadline(CLOCK_MONOTONIC, HTTP_GUARD_TICK_MS, &ts);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        int64_t now = http_guard_now();
        for (http_guard_conn *k = g->conns; k != NULL; k = k->next) {
            if (k->deadline == 0 || now < k->deadline)
                continue;
            k->deadline = 0;
            atomic_fetch_add_explicit(&g->timeouts, 1, memory_order_relaxed);
            log_event(LOG_DEBUG, "http_request_timeout", "transport=%s", g->name);
            shutdown(k->fd, SHUT_RDWR);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

http_guard *http_guard_new(const char *name, unsigned request_timeout_ms,
                           unsigned idle_timeout_ms) {
    http_guard *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->name = name;
    snprintf(g->log_event, sizeof(g->log_event), "%s_mhd", name);
    g->request_ns = (int64_t)request_timeout_ms * 1000000;
    g->idle_ns = (int64_t)idle_timeout_ms * 1000000;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&g->mu, NULL);
    if (pthread_create(&g->thread, NULL, http_guard_loop, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    return g;
}

void http_guard_free(http_guard *g) {
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* MHD_stop_daemon() closed every connection, with its notification. */
    while (g->conns != NULL) {
        http_guard_conn *k = g->conns;
        g->conns = k->next;
        free(k);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code) {
    http_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        http_guard_conn *k = calloc(1, sizeof(*k));
        *socket_context = k;
        if (k == NULL || ci == NULL) {
            free(k);
            *socket_context = NULL; /* not guarded: only the idle timeout applies */
            return;
        }
        k->g = g;
        k->fd = ci->connect_fd;
        pthread_mutex_lock(&g->mu);
        k->deadline = http_guard_now() + g->request_ns;
        k->next = g->conns;
        if (g->conns)
            g->conns->prev = k;
        g->conns = k;
        pthread_mutex_unlock(&g->mu);
        atomic_fetch_add_explicit(&g->open, 1, memory_order_relaxed);
        return;
    }
    http_guard_conn *k = *socket_context;
    *socket_context = NULL;
    if (k == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        g->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_sub_explicit(&g->open, 1, memory_order_relaxed);
    free(k);
}

static http_guard_conn *http_guard_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

void http_guard_received(struct MHD_Connection *c) {
    http_guard_conn *k = http_guard_of(c);
    if (k == NULL)
        return;
    pthread_mutex_lock(&k->g->mu);
    k->deadline = 0;
    pthread_mutex_unlock(&k->g->mu);
}

void http_guard_completed(struct MHD_Connection *c) {
    http_guard_conn *k = http_guard_of(c);
    if (k == NULL)
        return;
    http_guard *g = k->g;
    pthread_mutex_lock(&g->mu);
    k->deadline = http_guard_now() + g->idle_ns + g->request_ns;
    pthread_mutex_unlock(&g->mu);
}

/* Logs g->h2_hint unless it was logged within HTTP_GUARD_HINT_NS. */
static void http_guard_h2_hint(http_guard *g) {
    int64_t now = http_guard_now();
    int64_t last = atomic_load_explicit(&g->h2_hinted, memory_order_relaxed);
    if (last != 0 && now - last < HTTP_GUARD_HINT_NS)
        return;
    if (!atomic_compare_exchange_strong(&g->h2_hinted, &last, now))
        return; /* another thread logs it */
    log_event(LOG_WARN, "otlp_misrouted",
              "transport=%s protocol=h2 action=refused "
              "detail=\"%s (logged at most once a minute)\"",
              g->name, g->h2_hint);
}

void http_guard_log(http_guard *g, const char *msg) {
    if (g == NULL || msg == NULL)
        return;
    /* libmicrohttpd 0.9.75: "Server reached connection limit. Closing
     * inbound connection." */
    if (strstr(msg, "reached connection limit") != NULL)
        atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
    /* "Error processing request (HTTP response code is 505 (...)). Closing
     * connection.": the request line said HTTP/2 or later, which is what
     * the HTTP/2 preface ("PRI * HTTP/2.0") looks like to HTTP/1.1. */
    else if (g->h2_hint != NULL && strstr(msg, "HTTP response code is 505") != NULL)
        http_guard_h2_hint(g);
}

void http_guard_count_refused(http_guard *g) {
    if (g != NULL)
        atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
}

typedef struct http_guard_sum {
    size_t total;
} http_guard_sum;

static enum MHD_Result http_guard_add(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    (void)kind;
    http_guard_sum *s = cls;
    s->total += (key ? strlen(key) : 0) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

int http_guard_headers_ok(http_guard *g, struct MHD_Connection *c, const char *url,
                          const char *method, size_t max) {
    http_guard_sum s = {(url ? strlen(url) : 0) + (method ? strlen(method) : 0) + 12};
    MHD_get_connection_values(c, MHD_HEADER_KIND, http_guard_add, &s);
    if (s.total <= max)
        return 1;
    if (g != NULL)
        atomic_fetch_add_explicit(&g->headers, 1, memory_order_relaxed);
    return 0;
}

void http_guard_stats_get(http_guard *g, http_guard_stats *out) {
    memset(out, 0, sizeof(*out));
    if (g == NULL)
        return;
    out->connections_open = atomic_load_explicit(&g->open, memory_order_relaxed);
    out->connections_refused = atomic_load_explicit(&g->refused, memory_order_relaxed);
    out->request_timeouts = atomic_load_explicit(&g->timeouts, memory_order_relaxed);
    out->headers_too_large = atomic_load_explicit(&g->headers, memory_order_relaxed);
}

struct MHD_Daemon *http_guard_start_daemon(http_guard *g, const http_guard_daemon_cfg *cfg) {
    g->h2_hint = cfg->h2_hint;
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
            cfg->flags,
        0, NULL, NULL, cfg->access, cfg->access_cls, MHD_OPTION_EXTERNAL_LOGGER,
        http_guard_mhd_log, g, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)cfg->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->pool_bytes, MHD_OPTION_NOTIFY_COMPLETED,
        cfg->completed, cfg->completed_cls, MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, g,
        MHD_OPTION_END);
}

void http_guard_mhd_log(void *cls, const char *fmt, va_list ap) {
    http_guard *g = cls;
    char msg[512], quoted[600];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    http_guard_log(g, msg);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    log_event(LOG_DEBUG, g != NULL ? g->log_event : "http_mhd", "message=\"%s\"",
              log_quote(msg, quoted, sizeof(quoted)));
}

int64_t http_guard_daemon_connections(struct MHD_Daemon *d) {
    if (d == NULL)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? (int64_t)info->num_connections : -1;
}
