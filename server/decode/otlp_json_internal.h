/* otlp_json_internal.h - the OTLP JSON mapping step, exposed for tests.
 *
 * otlp_decode_json() works in two steps: otlp_json_doc_parse() maps the JSON
 * text onto the protobuf-c request structs the protobuf path unpacks, then
 * otlp_convert_*() turns those into the model. The first step is exposed
 * here so it can be tested at the struct level.
 */
#ifndef LOUPE_OTLP_JSON_INTERNAL_H
#define LOUPE_OTLP_JSON_INTERNAL_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "util/arena.h"
#include "storage/model.h"

struct json_t;

/* Nested arrayValue/kvlistValue levels that are mapped; one level deeper is
 * mapped as an empty container and nothing below it, so the converter sees a
 * value deeper than MODEL_MAX_VALUE_DEPTH and rejects that item. */
#define OTLP_JSON_MAX_VALUE_DEPTH (MODEL_MAX_VALUE_DEPTH + 1)

/* The parsed JSON tree, and in otlp_decode_json() the temporary structs
 * too, may each take at most OTLP_JSON_TREE_FACTOR times the body length
 * plus OTLP_JSON_TREE_SLACK bytes; past that the request fails with
 * OTLP_ETOOBIG. Real OTLP JSON takes 7 to 20 times its length in jansson;
 * hostile shapes ("[{},{},...]") take over 70. */
#define OTLP_JSON_TREE_FACTOR 32
#define OTLP_JSON_TREE_SLACK ((size_t)1 << 20)

/* OTLP_JSON_TREE_FACTOR * len + OTLP_JSON_TREE_SLACK, saturating. */
size_t otlp_json_transient_limit(size_t len);

typedef struct otlp_json_doc {
    struct json_t *root;   /* owned: the parsed JSON tree */
    arena *arena;          /* owned: every message struct and decoded bytes */
    ProtobufCMessage *msg; /* the Export*ServiceRequest of the signal, in
                            * arena; its strings point into root */
} otlp_json_doc;

/* Parses an OTLP JSON body of signal `sig` into doc->msg (an
 * ExportTraceServiceRequest, ExportLogsServiceRequest or
 * ExportMetricsServiceRequest). `data` need not be NUL-terminated and is
 * borrowed for the call only. `limit` caps the bytes of doc->arena (0 = no
 * cap); the tree is capped as OTLP_JSON_TREE_FACTOR says. Returns OTLP_OK
 * (doc filled, release with otlp_json_doc_free()), OTLP_EDECODE,
 * OTLP_ENOMEM or OTLP_ETOOBIG with a one-line reason in err; on failure doc
 * holds nothing. */
int otlp_json_doc_parse(otlp_json_doc *doc, model_signal sig, const char *data, size_t len,
                        size_t limit, char *err, size_t errlen);

/* Releases what otlp_json_doc_parse() filled in; accepts a zeroed doc. */
void otlp_json_doc_free(otlp_json_doc *doc);

#endif
