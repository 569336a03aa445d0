/* api_live.h - GET /api/v1/live: committed spans, trace summaries and logs
 * as server-sent events, independent of the HTTP library.
 *
 * A hub (one per UI server) subscribes to the store's commit notifications
 * (store_subscribe) and fans each committed batch out to the streams whose
 * filters it matches, rendering every item once. Each stream has a bounded
 * queue: a client that does not read fast enough is cut off (its queue is
 * dropped at once and it gets an "overflow" event if it ever reads again)
 * rather than allowed to hold memory. A ticker thread wakes waiting streams
 * for their heartbeats.
 *
 * Events ("event: NAME\ndata: JSON\n\n"):
 *   span       a committed span, as in GET /api/v1/traces/{id}
 *   trace      the summary of a trace that got a matching span, as in GET
 *              /api/v1/traces (read after the commit)
 *   log        a committed log record, as in GET /api/v1/logs
 *   ingest     {"head": id}: export requests up to this id are in the
 *              ingest log (GET /api/v1/ingest/requests?after=...); the
 *              ticker looks for new ones every 50 ms
 *   heartbeat  {"timeUnixNano": now}, every heartbeat interval
 *   overflow   {"dropped": n}: the client was too slow; the stream ends
 */
#ifndef LOUPE_API_LIVE_H
#define LOUPE_API_LIVE_H

#include <stddef.h>
#include <stdint.h>


#include "util/buf.h"
#include "server/net/ingest_log.h"
#include "storage/query.h"
#include "storage/store.h"

#define API_LIVE_SPANS 1u
#define API_LIVE_TRACES 2u
#define API_LIVE_LOGS 4u
#define API_LIVE_INGEST 8u /* only when asked for: not part of the default set */

/* What a stream wants; strings and attrs are copied by api_live_open(). */
typedef struct api_live_filter {
    unsigned kinds; /* API_LIVE_* mask */
    /* spans and traces (as GET /traces) */
    const char *service, *name, *q;
    int status; /* QUERY_STATUS_* */
    const query_attr *attrs;
    size_t n_attrs;
    int has_min_duration, has_max_duration;
    uint64_t min_duration_ns, max_duration_ns;
    /* logs (as GET /logs; service and attrs shared) */
    int min_severity;
    const char *log_q;
    const uint8_t *trace_id; /* 16 bytes or NULL */
    const uint8_t *span_id;  /* 8 bytes or NULL */
    uint64_t heartbeat_ns;   /* 0 = 15 s */
    size_t max_queue;        /* bytes; 0 = 4 MiB */
    int64_t pattern;         /* logs of this log pattern; 0 = any */
} api_live_filter;

typedef struct api_live_hub api_live_hub;
typedef struct api_live api_live;

/* A hub on st (borrowed, outlives the hub). NULL on failure. */
api_live_hub *api_live_hub_new(store *st);

/* Ends every stream (their next call returns API_LIVE_END) and waits, at
 * most timeout_ms, until none is waiting any more. Returns the number still
 * waiting. */
size_t api_live_hub_shutdown(api_live_hub *h, unsigned timeout_ms);

/* Unsubscribes, stops the ticker and frees. Streams must be closed. */
void api_live_hub_free(api_live_hub *h);

/* Streams open now. */
size_t api_live_hub_streams(api_live_hub *h);

/* Caps the streams open at once (0 = no cap; the hub starts with none).
 * api_live_open() past the cap fails with API_LIVE_EFULL. */
void api_live_hub_set_max_streams(api_live_hub *h, size_t max);

/* The ingest log whose new records API_LIVE_INGEST streams announce
 * (borrowed, must outlive the hub; NULL: none). Call before streams open. */
void api_live_hub_set_ingest(api_live_hub *h, ingest_log *log);

/* Streams refused because of the cap since the hub started. */
uint64_t api_live_hub_refused(api_live_hub *h);

#define API_LIVE_EFULL -2 /* api_live_open: too many streams open */

/* Suspends / resumes the stream's connection; called with the stream's
 * lock held (see api_live_next). */
typedef void (*api_live_conn_fn)(void *conn);

/* Opens a stream with filter f for a connection. Returns 0, API_LIVE_EFULL
 * past the hub's cap, or -1. The hub calls suspend()
 * from api_live_next() before returning API_LIVE_WAIT, and resume() once,
 * from any thread, when there is something to send after that. */
int api_live_open(api_live_hub *h, const api_live_filter *f, api_live_conn_fn suspend,
                  api_live_conn_fn resume, void *conn, api_live **out);

#define API_LIVE_DATA 1 /* bytes were appended to out */
#define API_LIVE_WAIT 0 /* nothing now; suspend() was called */
#define API_LIVE_END -1 /* the stream is over */

/* The next bytes of the stream into out. db (a reader connection of the
 * calling thread) reads trace summaries. */
int api_live_next(api_live *l, store_reader *db, buf *out);

/* Closes and frees a stream (not waiting: its connection is done). */
void api_live_close(api_live *l);

#endif
