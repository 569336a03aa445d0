/* api_ingest.h - the ingest inspector's answers: GET /api/v1/ingest/requests,
 * /ingest/requests/{id} and /ingest/clients, written as JSON from the
 * receivers' ingest log (server/net/ingest_log.h), with each refusal's
 * reason turned into advice that quotes the configured limit
 * (docs/api.md). api.c validates the parameters.
 */
#ifndef LOUPE_API_INGEST_H
#define LOUPE_API_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "server/net/ingest_log.h"

#define API_INGEST_LIMIT_DEFAULT 100
#define API_INGEST_LIMIT_MAX 1000
#define API_INGEST_HINT_MAX 512
#define API_INGEST_ENOTFOUND 1 /* api_ingest_request_json: no such record (any more) */

/* Which records GET /ingest/requests lists. */
typedef struct api_ingest_filter {
    unsigned outcomes;   /* bits 1 << ingest_outcome; 0 = every outcome */
    int transport;       /* ingest_transport, or -1 for both */
    int signal;          /* model_signal, or -1 for any */
    const char *service; /* exact service.name; NULL = any (borrowed) */
    const char *client;  /* exact client address; NULL = any (borrowed) */
    uint64_t before;     /* the cursor: ids below this; 0 = from the newest */
    uint64_t after;      /* only ids above this (for new arrivals); 0 = all */
    size_t limit;        /* 1..API_INGEST_LIMIT_MAX */
} api_ingest_filter;

/* Writes {"enabled", "capacity", "head", "requests": [...], "nextCursor"}
 * into out (emptied first). A NULL log answers enabled false with no
 * requests. Returns BUF_OK or a BUF_* error. */
int api_ingest_requests_json(ingest_log *l, const api_ingest_filter *f, buf *out);

/* Writes record id as one request object into out (emptied first).
 * Returns BUF_OK, API_INGEST_ENOTFOUND (nothing written), or a BUF_* error. */
int api_ingest_request_json(ingest_log *l, uint64_t id, buf *out);

/* Writes {"enabled", "clients": [...]} (most recently seen first) into out
 * (emptied first). Returns BUF_OK or a BUF_* error. */
int api_ingest_clients_json(ingest_log *l, buf *out);

/* What to do about r's outcome, in words, quoting lim (the configured
 * limits) where one is the cause: "413: body larger than --max-body-size
 * 16 MiB: lower the exporter's batch size ...". "" when there is nothing to
 * say. out is always NUL-terminated. */
void api_ingest_hint(const ingest_rec *r, const ingest_limits *lim, char *out, size_t outlen);

/* The gRPC status name of code ("RESOURCE_EXHAUSTED"); "UNKNOWN" for others. */
const char *api_ingest_grpc_name(int code);

#endif
