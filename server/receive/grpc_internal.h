/* grpc_internal.h - what the OTLP/gRPC receiver's files share.
 *
 * The receiver (grpc.h) is split by job: grpc.c (setup, the public API),
 * grpc_loop.c (the epoll loop thread, accepting, timers, completions),
 * grpc_conn.c (a connection's life and its socket I/O), grpc_sniff.c (a
 * connection's first bytes: HTTP/2 stays, HTTP/1.x is handed over, TLS is
 * refused), grpc_h2.c (the
 * nghttp2 callbacks), grpc_stream.c (a request: its headers, its message,
 * decoding and the append), grpc_reply.c (the answers) and grpc_hub.c (the
 * store's completions, handed from the writer thread to the loop).
 *
 * Threads: everything here belongs to the loop thread, except the hub
 * (locked, see grpc_hub) and the atomics of grpc_server. Connections and
 * streams are freed only from the loop's top level (grpc_conn_reap) or by
 * nghttp2's stream-close callback, never from inside another callback.
 * Not for use outside server/receive/grpc*.c.
 */
#ifndef LOUPE_GRPC_INTERNAL_H
#define LOUPE_GRPC_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"
#include "util/clk.h"
#include "grpc.h"
#include "grpc_frame.h"
#include "server/net/ingest_log.h"
#include "server/net/peer_once.h"
#include "server/net/recv_stats.h"
#include "storage/model.h"
#include "storage/store.h"
#ifdef LOUPE_TESTING
#include "grpc_detached.h"
#endif

#define GRPC_READ_CHUNK (64 * 1024)
#define GRPC_SWEEP_NS (1000LL * 1000000) /* timers run at least this often */
#define GRPC_MSG_MAX 512                 /* grpc-message text before percent-encoding */
#define GRPC_ACCEPT_ENCODING "identity,gzip"

/* epoll data of the two descriptors that are not connections (a
 * connection's is its id, which never takes these values). */
#define GRPC_EV_LISTEN UINT64_MAX
#define GRPC_EV_WAKE (UINT64_MAX - 1)

typedef struct grpc_conn grpc_conn;
typedef struct grpc_stream grpc_stream;
typedef struct grpc_hub grpc_hub;

/* ---- the completion hub (grpc_hub.c) ----------------------------------- */

/* One append's callback record: made by grpc_hub_expect(), filled and
 * queued by the store's writer thread, taken by the loop. */
typedef struct grpc_done {
    struct grpc_done *next;
    grpc_hub *hub;
    uint64_t conn_id;
    int32_t stream_id;
    int status; /* STORE_OK or a negative STORE_* code */
} grpc_done;

struct grpc_hub {
    pthread_mutex_t mu;
    grpc_done *head, *tail; /* completions the loop has not taken */
    unsigned refs;    /* the server's, plus one per append the store holds */
    unsigned appends; /* appends whose callback has not come yet */
    int closed;       /* the server has gone: callbacks just free */
    int efd;          /* eventfd the loop watches; also the stop wake-up */
    recv_counters rc; /* for /metrics; here because commits outlive the server */
};

/* A hub holding the server's reference, with its eventfd. NULL on failure,
 * with a reason in err. */
grpc_hub *grpc_hub_new(char *err, size_t errlen);

/* Drops the server's reference; later callbacks only free their records.
 * The hub is freed by whoever drops the last reference. */
void grpc_hub_release(grpc_hub *h);

/* Wakes the loop (writes the eventfd). Any thread. */
void grpc_hub_notify(grpc_hub *h);

/* A record for one append of (connection, stream), holding a reference on
 * the hub until its callback. NULL when out of memory. */
grpc_done *grpc_hub_expect(grpc_hub *h, uint64_t conn_id, int32_t stream_id);

/* The append failed, so its callback will never come: drops the reference
 * and frees d. */
void grpc_hub_cancel(grpc_done *d);

/* store_done_cb for appends; ud is the grpc_done of grpc_hub_expect(). */
void grpc_hub_store_done(void *ud, int status, const model_batch *b);

/* Takes every queued completion (a list the caller frees) and clears the
 * eventfd. Loop thread. */
grpc_done *grpc_hub_take(grpc_hub *h);

/* Appends whose callback has not come yet. */
unsigned grpc_hub_appends(grpc_hub *h);

/* ---- streams, connections, the server ------------------------------------ */

typedef enum grpc_stream_state {
    GRPC_STREAM_RECV = 0, /* collecting the request */
    GRPC_STREAM_WAIT,     /* appended; waiting for the commit */
    GRPC_STREAM_DONE,     /* response submitted; further input is discarded */
} grpc_stream_state;

struct grpc_stream {
    grpc_stream *prev, *next; /* the connection's list */
    grpc_conn *conn;
    int32_t id;
    grpc_stream_state state;
    int method;          /* an Export method of grpc_stream.c, or -1 */
    model_signal signal; /* the method's signal (when method >= 0) */
    unsigned hflags;     /* GRPC_H_* of grpc_stream.c */
    char path[128];      /* for the UNIMPLEMENTED message (truncated) */
    char encoding[32];
    int64_t deadline;    /* monotonic ns; 0 = none */
    int64_t begun;       /* when its HEADERS began (bounds the request's arrival) */
    size_t header_bytes; /* header list size so far, as HTTP/2 counts it */
    int req_done;        /* END_STREAM received from the client */
    grpc_frame frame;
    uint8_t *msg; /* the request message once complete (owned) */
    size_t msg_len;
    int msg_compressed;
    int have_msg;
    size_t buffered; /* bytes counted in the server's inflight total */
    /* the answer */
    uint8_t *resp; /* length-prefixed response message (owned) */
    size_t resp_len, resp_off;
    int64_t rejected;
    char reject_msg[256];
    ingest_rec rec; /* the inspector's record, when the server has an ingest log */
};

struct grpc_conn {
    grpc_server *srv;
    grpc_conn *prev, *next;
    uint32_t slot, gen;
    int fd; /* -1 for a detached connection (test builds) */
#ifdef LOUPE_TESTING
    buf *sink; /* detached: where the output goes */
#endif
    nghttp2_session *session;
    grpc_stream *streams;
    unsigned nstreams;
    uint8_t *out; /* unsent output: out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    int64_t last_io;    /* monotonic ns of the last read or write progress */
    int64_t idle_since; /* when the last stream closed (PINGs do not count) */
    int64_t born;
    uint32_t events; /* epoll interest registered */
    int sniffing;    /* its first bytes have not yet said which protocol (grpc_sniff.c) */
    int sniff_wait;  /* some arrived but too few: wait, edge-triggered, for more */
    int got_frame;   /* the preface and a frame arrived */
    size_t in_total; /* input accepted so far, up to the preface length */
    int raw_close;   /* no more HTTP/2: flush out[] and close */
    int dead;        /* close at the next top-level check */
    int shutdown;    /* 0, 1 = notice sent, 2 = final GOAWAY sent */
    int dirty;       /* on the to-flush list of grpc_loop_completions() */
    char peer[INGEST_ADDR_MAX]; /* the client's IP address, for the inspector ("" unknown) */
    int peer_known;             /* peer has been looked up */
    grpc_conn *dirty_next;
    int64_t shutdown_at;
};

struct grpc_server {
    grpc_config cfg;
    char *addr;
    char *keys[2]; /* owned copies of the configured keys, keys[0..nkeys) */
    int nkeys;
    size_t max_msg;
    unsigned max_conns;
    int64_t idle_ns;
    int64_t request_ns;
    size_t max_header;
    store *st;
#ifdef LOUPE_TESTING
    grpc_append_fn append; /* replaces store_append() when set */
    void *append_ctx;
#endif
    int lfd;
    int epfd;
    int port;
    int listen_paused; /* after EMFILE; resumed at the next sweep */
    grpc_hub *hub;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    int stopping;
    int64_t stop_deadline;
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
    grpc_conn **slots; /* slots[0..max_conns): the connection in each slot */
    uint32_t *gens;    /* each slot's generation, bumped when it is freed */
    uint32_t *free_slots;
    unsigned nfree;
    grpc_conn *conns; /* list of open connections */
    unsigned nconns;
    size_t inflight; /* request bytes buffered by all streams */
    int64_t next_sweep;
    uint64_t refused_conns;
    /* grpc_stats, written by the loop thread */
    atomic_uint_fast64_t st_open, st_refused, st_idle, st_request, st_headers;
    int64_t last_refuse_log;
    /* Where HTTP/1.x connections go (grpc_server_set_http1); the mutex is
     * held while the function runs, so clearing it waits for a call. */
    pthread_mutex_t http1_mu;
    grpc_http1_fn http1_fn;
    void *http1_ctx;
    atomic_uint_fast64_t st_handoffs;
    peer_once *hints; /* clients already told about their protocol mix-up */
    uint8_t rbuf[GRPC_READ_CHUNK];
};

static inline int64_t grpc_now(void) {
    return clk_ns(CLOCK_MONOTONIC);
}

/* Runs the timers no later than `when`. */
static inline void grpc_sweep_soon(grpc_server *g, int64_t when) {
    if (when < g->next_sweep)
        g->next_sweep = when;
}

/* ---- the server (grpc.c) ------------------------------------------------- */

/* Everything but the socket and the thread. Returns 0, or -1 with a reason
 * in err. */
int grpc_server_new(const grpc_config *cfg, store *st, grpc_server **out, char *err,
                    size_t errlen);

/* Frees the server and its connections. Accepts NULL. */
void grpc_server_free(grpc_server *g);

/* ---- the loop (grpc_loop.c) ---------------------------------------------- */

/* The loop thread's body (arg: the server). Returns once stopped. */
void *grpc_loop_run(void *arg);

/* Answers the streams whose commits have completed, then writes to each
 * connection concerned once. */
void grpc_loop_completions(grpc_server *g);

/* Runs every connection's timers as of now and frees the connections that
 * end. */
void grpc_loop_sweep(grpc_server *g, int64_t now);

/* ---- connections (grpc_conn.c) ------------------------------------------- */

/* A connection on socket fd (-1: detached, test builds): its nghttp2
 * session with our SETTINGS queued, registered with epoll. NULL when every
 * slot is taken or on failure (the caller closes fd). */
grpc_conn *grpc_conn_new(grpc_server *g, int fd);

/* Frees the connection, its streams and its socket. Top level only. */
void grpc_conn_free(grpc_conn *c);

/* Frees the connection if it is dead. Top level only. Returns 1 if freed. */
int grpc_conn_reap(grpc_conn *c);

/* A connection id: the slot index and that slot's generation. */
static inline uint64_t grpc_conn_id(const grpc_conn *c) {
    return (uint64_t)c->gen << 32 | c->slot;
}

/* The open connection with this id, or NULL if it has gone. */
grpc_conn *grpc_conn_lookup(grpc_server *g, uint64_t id);

/* Pulls frames from nghttp2 and writes as much as the socket takes. Marks
 * the connection dead on errors and when it has nothing left to do. */
void grpc_conn_flush(grpc_conn *c);

/* Feeds input to the session (as read from the socket). */
void grpc_conn_input(grpc_conn *c, const uint8_t *in, size_t len);

/* Reads what the socket has (bounded per wakeup) and answers. */
void grpc_conn_readable(grpc_conn *c);

/* Submits the final GOAWAY (last processed stream id, NO_ERROR). */
void grpc_conn_final_goaway(grpc_conn *c);

/* Ends the connection outside HTTP/2: drops any HTTP/2 output, writes
 * p[0..len) (len may be 0) and closes once that is written. */
void grpc_conn_close_raw(grpc_conn *c, const uint8_t *p, size_t len);

/* Registers the epoll interest the connection's state calls for. */
void grpc_conn_set_events(grpc_conn *c);

/* ---- the first bytes (grpc_sniff.c) -------------------------------------- */

/* Input arrived (epoll reported `events`) on a connection that is still
 * sniffing: its first bytes are peeked, not read. The HTTP/2 preface goes
 * on to grpc_conn_readable(); an HTTP/1.x request line is handed to the
 * server's http1 function (the connection is then dead here, its socket no
 * longer ours); a TLS ClientHello gets a fatal alert; anything else is
 * closed. Too few bytes to tell: waits for more. */
void grpc_sniff_readable(grpc_conn *c, uint32_t events);

/* ---- nghttp2 callbacks (grpc_h2.c) --------------------------------------- */

/* Creates g->callbacks and g->option. Returns 0 or -1 (out of memory). */
int grpc_h2_setup(grpc_server *g);

/* ---- requests (grpc_stream.c) -------------------------------------------- */

/* A stream record for a new request, linked into c's list. NULL when out
 * of memory. */
grpc_stream *grpc_stream_new(grpc_conn *c, int32_t id);

/* Unlinks the stream from its connection and frees it. */
void grpc_stream_close(grpc_stream *st);

/* Frees the stream without unlinking it (the connection is going). */
void grpc_stream_free(grpc_stream *st);

/* The stream of c with this id, or NULL. */
grpc_stream *grpc_stream_find(grpc_conn *c, int32_t id);

/* One request header field (HPACK-decoded). */
void grpc_stream_header(grpc_stream *st, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen);

/* Checks the request headers once they are complete. Returns 1 when the
 * stream may go on collecting its message, 0 when it has been answered. */
int grpc_stream_headers_done(grpc_stream *st);

/* A DATA chunk of the request. */
void grpc_stream_data(grpc_stream *st, const uint8_t *data, size_t len);

/* The client finished sending: the message is processed and appended. */
void grpc_stream_request_done(grpc_stream *st);

/* Frees the request's input buffers and returns their bytes to the
 * server's inflight total. */
void grpc_stream_release_input(grpc_stream *st);

/* A commit completed (or failed): answers its stream if it still waits. */
void grpc_stream_committed(grpc_server *g, const grpc_done *d);

/* ---- answers (grpc_reply.c) ---------------------------------------------- */

/* A trailers-only answer with this HTTP status and gRPC status code; the
 * stream is DONE afterwards and its input released. `why` is the reason the
 * ingest inspector records. */
void grpc_reply_error(grpc_stream *st, int http_status, int code, ingest_reason why,
                      const char *message);

/* As grpc_reply_error() with HTTP status 200. */
void grpc_reply_status(grpc_stream *st, int code, ingest_reason why, const char *message);

/* A store refusal or failed commit (a STORE_* code): UNAVAILABLE when
 * retryable, else INTERNAL, counted by its cause. */
void grpc_reply_store_error(grpc_stream *st, int store_code, const char *message);

/* The success answer: HEADERS, the Export*ServiceResponse (partial success
 * from st->rejected), trailers with grpc-status 0. */
void grpc_reply_ok(grpc_stream *st);

#endif
