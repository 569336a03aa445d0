/* ingest_log.h - the ingest inspector's memory: the last N export requests
 * and the clients that sent them.
 *
 * DESIGN
 * Both receivers fill an ingest_rec of their own as a request goes (its
 * headers, its body's sizes, the decoded batch's items and resource), and
 * hand it over with ingest_log_add() when they answer it. The log keeps a
 * ring of fixed-size records (the newest `capacity` requests, numbered 1, 2,
 * ... in the order they were answered) and a fixed table of clients (one row
 * per client address, service, SDK and user agent; the least recently seen
 * row makes room for a new one). ingest_log_add() holds one mutex for the
 * copy of the record into its slot and the update of its client's row; it
 * allocates nothing. Every string is copied into a fixed field, cut at a
 * character boundary, control characters replaced.
 *
 * Readers (the API) copy records out one at a time under the same mutex,
 * so a reader never holds up a receiver for more than one record's copy,
 * and filter the copies outside it. ingest_log_head() (an atomic) tells a
 * poller whether anything new has come without taking the lock.
 *
 * A NULL log is "the inspector is off" (--ingest-log-size 0): every call
 * accepts it and does nothing, so the receivers need no second path.
 * Thread-safe throughout.
 */
#ifndef LOUPE_INGEST_LOG_H
#define LOUPE_INGEST_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "storage/model.h"

/* Field sizes (bytes, with the terminating NUL). */
#define INGEST_PATH_MAX 96
#define INGEST_CTYPE_MAX 64
#define INGEST_CODING_MAX 24
#define INGEST_ADDR_MAX 48
#define INGEST_UA_MAX 160
#define INGEST_SERVICE_MAX 128
#define INGEST_SDK_NAME_MAX 48
#define INGEST_SDK_LANG_MAX 24
#define INGEST_SDK_VERSION_MAX 32
#define INGEST_MESSAGE_MAX 256

#define INGEST_LOG_DEFAULT 1000u /* --ingest-log-size default */
#define INGEST_LOG_MAX 100000u   /* and its upper bound */
#define INGEST_CLIENTS_MAX 256u  /* rows of the client table */
#define INGEST_UNKNOWN UINT64_MAX /* a byte count that is not known */

typedef enum ingest_transport {
    INGEST_GRPC = 0, /* OTLP/gRPC */
    INGEST_HTTP = 1, /* OTLP/HTTP (on either port) */
} ingest_transport;

typedef enum ingest_encoding {
    INGEST_ENC_UNKNOWN = 0, /* no or an unsupported content type */
    INGEST_ENC_PROTOBUF,
    INGEST_ENC_JSON,
} ingest_encoding;

typedef enum ingest_compression {
    INGEST_COMP_NONE = 0,
    INGEST_COMP_GZIP,
    INGEST_COMP_OTHER, /* an unsupported coding (the raw value is in `coding`) */
} ingest_compression;

typedef enum ingest_outcome {
    INGEST_OUTCOME_OK = 0,  /* everything accepted */
    INGEST_OUTCOME_PARTIAL, /* accepted, some items rejected (OTLP partial success) */
    INGEST_OUTCOME_ERROR,   /* refused */
} ingest_outcome;

/* Why a request was refused or partly rejected: the receivers name it at
 * the refusal, the API turns it into advice (api_ingest.c). */
typedef enum ingest_reason {
    INGEST_REASON_NONE = 0,
    INGEST_REASON_ITEMS_REJECTED,    /* partial success: invalid items dropped */
    INGEST_REASON_BODY_TOO_LARGE,    /* body (HTTP) or message (gRPC) over the cap */
    INGEST_REASON_INFLATED_TOO_LARGE, /* over the cap once decompressed */
    INGEST_REASON_DECODED_TOO_LARGE, /* the decoded batch over the memory limit */
    INGEST_REASON_HEADERS_TOO_LARGE,
    INGEST_REASON_UNAUTHENTICATED,   /* no or a wrong API key */
    INGEST_REASON_WRONG_PATH,        /* not /v1/{traces,logs,metrics} or an Export method */
    INGEST_REASON_WRONG_METHOD,      /* not POST */
    INGEST_REASON_CORS,              /* a browser's preflight from an origin not allowed */
    INGEST_REASON_CONTENT_TYPE,      /* missing or unsupported content type */
    INGEST_REASON_CODING,            /* unsupported Content-Encoding / grpc-encoding */
    INGEST_REASON_BAD_GZIP,          /* the body is not valid gzip */
    INGEST_REASON_MALFORMED,         /* undecodable protobuf or JSON */
    INGEST_REASON_FRAMING,           /* gRPC framing: no message, two, cut short */
    INGEST_REASON_BAD_TIMEOUT,       /* malformed grpc-timeout */
    INGEST_REASON_DEADLINE,          /* the client's deadline passed */
    INGEST_REASON_REQUEST_TIMEOUT,   /* the request did not arrive within --request-timeout */
    INGEST_REASON_STORE_FULL,        /* the store's queue (--ring-size) is full */
    INGEST_REASON_BUSY,              /* too many request bytes in flight */
    INGEST_REASON_SHUTTING_DOWN,
    INGEST_REASON_COMMIT_FAILED,     /* the database write failed */
    INGEST_REASON_NO_MEMORY,
    INGEST_REASON_INTERNAL,
    INGEST_REASON_COUNT
} ingest_reason;

/* The configured limits the advice quotes (plain values, copied). */
typedef struct ingest_limits {
    uint64_t max_body;         /* --max-body-size */
    uint64_t max_grpc_message; /* --max-grpc-message-size */
    uint64_t max_header;       /* --max-header-size */
    uint64_t ring_size;        /* --ring-size */
    uint64_t request_timeout_s; /* --request-timeout, in seconds */
    int api_key;               /* 1 when --otlp-api-key is set */
} ingest_limits;

/* One export request. Receivers fill everything but seq and time_ns. */
typedef struct ingest_rec {
    uint64_t seq;           /* set by ingest_log_add(): 1, 2, ... */
    uint64_t time_ns;       /* unix ns of the answer; set by ingest_log_add() */
    int64_t begun_ns;       /* monotonic ns when the request began (ingest_rec_begin) */
    uint64_t ack_ns;        /* begun to answered; set by ingest_log_add() */
    uint64_t wire_bytes;    /* the body or message as sent; INGEST_UNKNOWN */
    uint64_t decoded_bytes; /* after decompression; INGEST_UNKNOWN */
    uint64_t items;         /* items in the request (accepted + rejected) */
    uint64_t rejected;      /* items rejected (partial success) */
    uint32_t resources;     /* resources in the request */
    uint16_t http_status;   /* the HTTP status answered */
    int16_t grpc_code;      /* gRPC status (gRPC only); -1 for none */
    uint16_t port;          /* the local port the request came in on; 0 unknown */
    uint8_t transport;      /* ingest_transport */
    int8_t signal;          /* model_signal, or -1 when the path named none */
    uint8_t encoding;       /* ingest_encoding */
    uint8_t compression;    /* ingest_compression */
    uint8_t outcome;        /* ingest_outcome; set from http_status, grpc_code, rejected */
    uint8_t reason;         /* ingest_reason */
    uint8_t has_service;    /* the resource had service.name */
    char path[INGEST_PATH_MAX];
    char content_type[INGEST_CTYPE_MAX];
    char coding[INGEST_CODING_MAX]; /* Content-Encoding or grpc-encoding as sent */
    char client[INGEST_ADDR_MAX];   /* the client's IP address */
    char user_agent[INGEST_UA_MAX];
    char service[INGEST_SERVICE_MAX];
    char sdk_name[INGEST_SDK_NAME_MAX];
    char sdk_language[INGEST_SDK_LANG_MAX];
    char sdk_version[INGEST_SDK_VERSION_MAX];
    char message[INGEST_MESSAGE_MAX]; /* the answer's error or partial-success text */
} ingest_rec;

/* One client: requests of the same address, service, SDK and user agent. */
typedef struct ingest_client {
    char client[INGEST_ADDR_MAX];
    char user_agent[INGEST_UA_MAX];
    char service[INGEST_SERVICE_MAX];
    char sdk_name[INGEST_SDK_NAME_MAX];
    char sdk_language[INGEST_SDK_LANG_MAX];
    char sdk_version[INGEST_SDK_VERSION_MAX];
    uint8_t has_service;
    uint8_t last_outcome;
    uint8_t last_reason;
    unsigned protocols;  /* INGEST_PROTO_* bits seen */
    uint64_t requests;
    uint64_t errors;     /* requests refused */
    uint64_t partial;    /* requests with rejected items */
    uint64_t items;      /* items sent (accepted + rejected) */
    uint64_t rejected;   /* items rejected */
    uint64_t first_ns, last_ns; /* unix ns */
    uint64_t last_seq;
} ingest_client;

#define INGEST_PROTO_GRPC 1u
#define INGEST_PROTO_HTTP_PROTOBUF 2u
#define INGEST_PROTO_HTTP_JSON 4u
#define INGEST_PROTO_HTTP_OTHER 8u /* OTLP/HTTP with no usable content type */

typedef struct ingest_log ingest_log;

/* A log of the last `capacity` requests (1..INGEST_LOG_MAX), quoting
 * `limits` (copied; NULL: zeros). Returns NULL for capacity 0 (the
 * inspector off) and when out of memory. */
ingest_log *ingest_log_new(size_t capacity, const ingest_limits *limits);

/* Accepts NULL. No receiver or reader may use the log any more. */
void ingest_log_free(ingest_log *l);

size_t ingest_log_capacity(const ingest_log *l);
/* The limits given to ingest_log_new() (zeros for NULL). */
ingest_limits ingest_log_limits(const ingest_log *l);

/* ---- the receivers' side ------------------------------------------------ */

/* Starts a record: zeroed, byte counts unknown, no gRPC code, no signal,
 * begun now (monotonic). */
void ingest_rec_begin(ingest_rec *r, ingest_transport t);

/* Copies s[0..len) (stopping at a NUL) into dst[cap]: cut at a character
 * boundary, control characters as '?'. s may be NULL (then ""). */
void ingest_rec_text(char *dst, size_t cap, const char *s, size_t len);

/* The IP address of sa (an IPv4-mapped IPv6 address as IPv4) into r->client. */
void ingest_rec_peer(ingest_rec *r, const struct sockaddr *sa);

/* The decoded batch's facts: items (valid + rejected), rejected, the number
 * of resources, and service.name and telemetry.sdk.{name,language,version}
 * of its first resource. Read before the batch is handed to the store. */
void ingest_rec_batch(ingest_rec *r, const model_batch *b);

/* Records a request that has been answered: sets seq, time_ns, ack_ns and
 * the outcome (an error unless the status is HTTP 200 with gRPC OK or no
 * gRPC code; partial when items were rejected), then copies it into the
 * ring and counts it for its client. r is read only. NULL l: nothing. */
void ingest_log_add(ingest_log *l, ingest_rec *r);

/* ---- the readers' side -------------------------------------------------- */

/* The newest record's number (0 before the first). Lock-free. */
uint64_t ingest_log_head(const ingest_log *l);

/* Chooses records for ingest_log_read(); 1 keeps r. */
typedef int (*ingest_filter_fn)(const ingest_rec *r, void *ud);

/* Copies up to max records, newest first, numbered below `before` (0: from
 * the newest) and above `after`, that keep (NULL keeps all) accepts, into
 * out. *more is set to 1 when more such records are older than the last
 * one copied (NULL: not wanted). Returns the number copied. */
size_t ingest_log_read(ingest_log *l, uint64_t before, uint64_t after, ingest_filter_fn keep,
                       void *ud, ingest_rec *out, size_t max, int *more);

/* Copies record seq into *out. Returns 0, or -1 when it is not (or no
 * longer) in the ring. */
int ingest_log_get(ingest_log *l, uint64_t seq, ingest_rec *out);

/* Copies the client rows (at most max), most recently seen first. Returns
 * the number copied. */
size_t ingest_log_clients(ingest_log *l, ingest_client *out, size_t max);

/* Names used by the API ("grpc", "http"; "protobuf", "json"; "gzip";
 * "ok", "partial", "error"; "body_too_large", ...). */
const char *ingest_transport_name(unsigned t);
const char *ingest_encoding_name(unsigned e);
const char *ingest_compression_name(unsigned c);
const char *ingest_outcome_name(unsigned o);
const char *ingest_reason_name(unsigned r);

#endif
