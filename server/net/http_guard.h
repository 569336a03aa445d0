/* http_guard.h - slow-client timeouts, header size and connection counters
 * for the libmicrohttpd servers (OTLP/HTTP and UI).
 *
 * libmicrohttpd's own timeout is an idle timeout: a client that sends one
 * byte every few seconds (slowloris) is never idle and could hold its
 * connection for as long as its headers fit in memory. The guard gives each
 * connection a deadline by which its request (headers and body) must have
 * arrived: from the connection's start, and after each answer on a kept-
 * alive connection from then plus the idle timeout. A watchdog thread
 * shuts down (shutdown(2), never close) the socket of a connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes it.
 * The socket cannot be closed under the watchdog: its record is removed by
 * the connection-closed notification, under the same lock, before
 * libmicrohttpd closes the descriptor.
 *
 * Usage: start the daemon with http_guard_start_daemon(), which wires in
 * the connection notification (http_guard_notify) and the logger
 * (http_guard_mhd_log); call http_guard_received() once a request has fully
 * arrived (and before suspending or answering it) and
 * http_guard_completed() from the request-completed notification. Free the
 * guard after MHD_stop_daemon().
 */
#ifndef LOUPE_HTTP_GUARD_H
#define LOUPE_HTTP_GUARD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

typedef struct http_guard http_guard;

/* Counters for the self-metrics; safe to read from any thread. */
typedef struct http_guard_stats {
    uint64_t connections_open;    /* now */
    uint64_t connections_refused; /* past the connection limit (libmicrohttpd refused them) */
    uint64_t request_timeouts;    /* connections shut: request not received in time */
    uint64_t headers_too_large;   /* requests answered 431 by http_guard_headers_ok */
} http_guard_stats;

/* A guard with its watchdog thread. `name` (static string) is used in log
 * lines. request_timeout_ms and idle_timeout_ms > 0. NULL on failure. */
http_guard *http_guard_new(const char *name, unsigned request_timeout_ms,
                           unsigned idle_timeout_ms);

/* Stops the watchdog and frees. Call after MHD_stop_daemon(). Accepts NULL. */
void http_guard_free(http_guard *g);

/* MHD_NotifyConnectionCallback; cls is the guard. */
void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* The current request of c has fully arrived: its deadline is lifted (a
 * long answer, such as a live stream, is not a slow request). */
void http_guard_received(struct MHD_Connection *c);

/* The request of c is over; the next one on the same connection must
 * arrive within idle + request timeout. */
void http_guard_completed(struct MHD_Connection *c);

/* Reads libmicrohttpd's log message: counts its refusals past the
 * connection limit, and logs the daemon's h2_hint (see
 * http_guard_daemon_cfg) when it answered a request line of HTTP/2 or later
 * with 505. */
void http_guard_log(http_guard *g, const char *msg);

/* Counts one connection refused past the connection limit that
 * libmicrohttpd did not log (MHD_add_connection() with every worker full). */
void http_guard_count_refused(http_guard *g);

/* Returns 1 when the request line and headers of c fit in max bytes (each
 * header counted as name + value + 4), else counts the request and returns
 * 0 (the caller answers 431). */
int http_guard_headers_ok(http_guard *g, struct MHD_Connection *c, const char *url,
                          const char *method, size_t max);

void http_guard_stats_get(http_guard *g, http_guard_stats *out);

/* What a guarded libmicrohttpd daemon is started with. */
typedef struct http_guard_daemon_cfg {
    unsigned flags;            /* the polling mode (MHD_USE_POLL or MHD_USE_EPOLL), added to
                                * an internal polling thread pool, suspend/resume and the
                                * error log */
    int listen_fd;             /* a bound, listening socket; libmicrohttpd owns it once started */
    unsigned threads;          /* the thread pool's size */
    unsigned max_connections;  /* libmicrohttpd refuses connections past this */
    unsigned timeout_seconds;  /* libmicrohttpd's idle timeout */
    size_t pool_bytes;         /* per-connection memory (request line, headers, buffers) */
    MHD_AccessHandlerCallback access;
    void *access_cls;
    MHD_RequestCompletedCallback completed; /* may be NULL */
    void *completed_cls;
    const char *h2_hint; /* static text or NULL: logged as a warning (event otlp_misrouted,
                          * at most once a minute; libmicrohttpd does not say which client)
                          * when a client starts with a request line of HTTP/2 or later,
                          * which libmicrohttpd answers 505: an h2c client such as gRPC */
} http_guard_daemon_cfg;

/* Starts a libmicrohttpd daemon guarded by g: http_guard_notify is its
 * connection notification and http_guard_mhd_log its logger (both with g as
 * cls). Returns the daemon (stop it with MHD_stop_daemon() before freeing
 * g), or NULL when libmicrohttpd cannot start it. */
struct MHD_Daemon *http_guard_start_daemon(http_guard *g, const http_guard_daemon_cfg *cfg);

/* libmicrohttpd's external logger for a guarded daemon (cls = the guard):
 * counts refusals past the connection limit (http_guard_log) and logs each
 * message at debug level as event "<name>_mhd". */
void http_guard_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The daemon's open connections as libmicrohttpd counts them (summed over
 * its thread pool), or -1 when it cannot say (NULL daemon). */
int64_t http_guard_daemon_connections(struct MHD_Daemon *d);

#endif
