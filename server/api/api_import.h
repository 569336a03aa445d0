/* api_import.h - POST /api/v1/import: OTLP JSON into the store.
 *
 * Takes the OpenTelemetry Collector file exporter's format (one
 * Export{Trace,Logs,Metrics}ServiceRequest per line, the format GET
 * /api/v1/export writes) and plain OTLP JSON (one document, pretty-printed
 * or not, or several back to back). Independent of the HTTP library: ui.c
 * feeds the body as it arrives. Functions block while the store is full
 * (bounded) and api_import_finish() until everything appended committed.
 */
#ifndef LOUPE_API_IMPORT_H
#define LOUPE_API_IMPORT_H

#include <stddef.h>

#include "util/buf.h"
#include "storage/store.h"

typedef struct api_import api_import;

/* A new import into st (borrowed; must outlive the import). Documents
 * larger than max_doc bytes are refused (413). NULL on out of memory. */
api_import *api_import_new(store *st, size_t max_doc);

/* Feeds body bytes (borrowed for the call). Complete documents are decoded
 * and appended at once. Returns 0, or the HTTP status of the first failure
 * (400, 413, 500, 503), after which the rest of the body is ignored. */
int api_import_feed(api_import *im, const char *data, size_t len);

/* The body has ended: waits until every appended batch has committed and
 * writes the answer into out ({"imported":{"spans","logs","points"},
 * "rejected","documents"}, plus "error" on failure). Returns the status. */
int api_import_finish(api_import *im, buf *out);

/* Waits for appends still in flight, then frees. Accepts NULL. */
void api_import_free(api_import *im);

#endif
