/* api_import.c - POST /api/v1/import: OTLP JSON documents into the store,
 * see api_import.h.
 *
 * DESIGN
 * The body is read as it arrives and cut into JSON documents by a small
 * scanner (depth, strings, escapes) that needs no newlines, so it takes the
 * Collector file exporter's format (one Export*ServiceRequest per line) as
 * well as one pretty-printed OTLP JSON document, or several back to back.
 * Each complete document is told apart by its top-level key
 * (resourceSpans, resourceLogs, resourceMetrics), decoded with
 * otlp_decode_json() -- the receivers' decoder, with their checks and caps
 * -- and handed to store_append(). A full store is waited for (its commits
 * free room), up to API_IMPORT_WAIT_MS in all. The answer is written only
 * after every batch has committed: acknowledged means durable, as for the
 * receivers. Memory: one document at a time, at most max_doc bytes.
 */
#include "api_import.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/clk.h"
#include "util/jw.h"
#include "util/log.h"
#include "server/decode/otlp.h"

#define API_IMPORT_WAIT_MS 30000

struct api_import {
    store *st;
    buf doc; /* the document being read */
    size_t depth;
    int in_string, escape;
    size_t documents;
    /* the outcome */
    int status; /* 0, or the HTTP status of the first failure */
    char error[256];
    uint64_t items[MODEL_SIGNAL_COUNT];
    int64_t rejected;
    /* appends in flight */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    int commit_failed; /* a STORE_* code, 0 when none */
};

api_import *api_import_new(store *st, size_t max_doc) {
    api_import *im = calloc(1, sizeof(*im));
    if (im == NULL)
        return NULL;
    im->st = st;
    buf_init(&im->doc, max_doc);
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    return im;
}

static void api_import_fail(api_import *im, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void api_import_fail(api_import *im, int status, const char *fmt, ...) {
    if (im->status != 0)
        return;
    im->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->error, sizeof(im->error), fmt, ap);
    va_end(ap);
}

static void api_import_done(void *ud, int status, const model_batch *b) {
    api_import *im = ud;
    pthread_mutex_lock(&im->mu);
    if (status == STORE_OK)
        im->items[b->signal] += model_batch_items(b);
    else if (im->commit_failed == 0)
        im->commit_failed = status;
    assert(im->pending > 0); /* every callback follows its own pending++ */
    im->pending--;
    pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
}

/* The signal of a document from its top-level keys; -1 when it has none
 * of them, -2 when it has more than one. */
static int api_import_signal(const char *d, size_t n) {
    static const char *const keys[MODEL_SIGNAL_COUNT] = {"\"resourceSpans\"", "\"resourceLogs\"",
                                                         "\"resourceMetrics\""};
    int found = -1;
    size_t depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            if (depth == 1) {
                for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
                    size_t kl = strlen(keys[s]);
                    if (n - i >= kl && memcmp(d + i, keys[s], kl) == 0) {
                        /* a key only when a ':' follows */
                        size_t k = i + kl;
                        while (k < n && (d[k] == ' ' || d[k] == '\t' || d[k] == '\n' ||
                                         d[k] == '\r'))
                            k++;
                        if (k < n && d[k] == ':') {
                            if (found >= 0 && found != s)
                                return -2;
                            found = s;
                        }
                    }
                }
            }
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return found;
}

/* Decodes and appends one complete document. */
static void api_import_document(api_import *im, const char *d, size_t n) {
    im->documents++;
    int sig = api_import_signal(d, n);
    if (sig == -2) {
        api_import_fail(im, 400, "document %zu mixes signals", im->documents);
        return;
    }
    if (sig < 0) {
        /* {} and documents without telemetry are skipped, if they are JSON */
        json_error_t e;
        json_t *j = json_loadb(d, n, 0, &e);
        if (j == NULL)
            api_import_fail(im, 400, "document %zu is not valid JSON: %s", im->documents,
                            e.text);
        json_decref(j);
        return;
    }
    model_batch *b = NULL;
    char err[200] = "";
    int rc = otlp_decode_json((model_signal)sig, d, n, 0, &b, err, sizeof(err));
    if (rc != OTLP_OK) {
        api_import_fail(im, rc == OTLP_ENOMEM ? 503 : (rc == OTLP_ETOOBIG ? 413 : 400),
                        "document %zu: %s", im->documents, err[0] ? err : otlp_strerror(rc));
        return;
    }
    im->rejected += b->rejected;
    if (model_batch_items(b) == 0) {
        model_batch_free(b);
        return;
    }
    /* The batch goes to the store; on a full store wait for commits (which
     * free room) and decode it again, as an exporter retrying would. */
    struct timespec until;
    clk_deadline(CLOCK_REALTIME, API_IMPORT_WAIT_MS, &until);
    for (;;) {
        pthread_mutex_lock(&im->mu);
        im->pending++;
        pthread_mutex_unlock(&im->mu);
        rc = store_append(im->st, b, api_import_done, im); /* takes b */
        b = NULL;
        if (rc == STORE_OK)
            return;
        int timed_out = 0;
        size_t ours;
        pthread_mutex_lock(&im->mu);
        assert(im->pending > 0);
        im->pending--;
        ours = im->pending;
        if (rc == STORE_EFULL && ours > 0) /* one of our commits frees room */
            while (im->pending == ours && !timed_out)
                timed_out = pthread_cond_timedwait(&im->cv, &im->mu, &until) != 0;
        pthread_mutex_unlock(&im->mu);
        if (rc == STORE_EFULL && ours == 0) { /* others' batches: a short nap */
            struct timespec nap = {0, 20000000};
            nanosleep(&nap, NULL);
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            timed_out = now.tv_sec > until.tv_sec ||
                        (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec);
        }
        if (rc != STORE_EFULL || timed_out) {
            api_import_fail(im, store_is_retryable(rc) ? 503 : 500, "document %zu: %s",
                            im->documents, store_strerror(rc));
            return;
        }
        rc = otlp_decode_json((model_signal)sig, d, n, 0, &b, err, sizeof(err));
        if (rc != OTLP_OK) {
            api_import_fail(im, 503, "document %zu: %s", im->documents, otlp_strerror(rc));
            return;
        }
    }
}

int api_import_feed(api_import *im, const char *data, size_t len) {
    for (size_t i = 0; i < len && im->status == 0; i++) {
        char c = data[i];
        if (im->depth == 0) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                continue;
            if (c != '{') {
                api_import_fail(im, 400,
                                "document %zu is not a JSON object (expected '{', got byte %u)",
                                im->documents + 1, (unsigned)(unsigned char)c);
                break;
            }
        }
        /* the document's bytes up to the end of this chunk or document */
        size_t start = i;
        int complete = 0;
        for (; i < len; i++) {
            c = data[i];
            if (im->in_string) {
                if (im->escape)
                    im->escape = 0;
                else if (c == '\\')
                    im->escape = 1;
                else if (c == '"')
                    im->in_string = 0;
            } else if (c == '"') {
                im->in_string = 1;
            } else if (c == '{' || c == '[') {
                im->depth++;
            } else if (c == '}' || c == ']') {
                if (im->depth == 0) {
                    api_import_fail(im, 400, "document %zu: unbalanced brackets",
                                    im->documents + 1);
                    return im->status;
                }
                if (--im->depth == 0) {
                    complete = 1;
                    break;
                }
            }
        }
        size_t take = i - start + (complete ? 1 : 0);
        int rc = buf_append(&im->doc, data + start, take);
        if (rc != BUF_OK) {
            api_import_fail(im, rc == BUF_ETOOBIG ? 413 : 503,
                            "document %zu is larger than %zu bytes", im->documents + 1,
                            im->doc.max);
            break;
        }
        if (complete) {
            api_import_document(im, im->doc.ptr, im->doc.len);
            buf_reset(&im->doc);
        }
    }
    return im->status;
}

int api_import_finish(api_import *im, buf *out) {
    if (im->status == 0 && (im->depth > 0 || im->in_string))
        api_import_fail(im, 400, "document %zu is incomplete", im->documents + 1);
    /* every append made is waited for: answering means committed */
    pthread_mutex_lock(&im->mu);
    while (im->pending > 0)
        pthread_cond_wait(&im->cv, &im->mu);
    int failed = im->commit_failed;
    pthread_mutex_unlock(&im->mu);
    if (im->status == 0 && failed != 0)
        api_import_fail(im, store_is_retryable(failed) ? 503 : 500, "commit failed: %s",
                        store_strerror(failed));
    buf_reset(out);
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    if (im->status != 0) {
        jw_key(&w, "error");
        jw_object_begin(&w);
        jw_key(&w, "code");
        jw_string(&w, im->status == 400   ? "bad_request"
                      : im->status == 413 ? "too_large"
                      : im->status == 503 ? "unavailable"
                                          : "internal");
        jw_key(&w, "message");
        jw_string(&w, im->error);
        jw_object_end(&w);
    }
    jw_key(&w, "imported");
    jw_object_begin(&w);
    jw_key(&w, "spans");
    jw_uint(&w, im->items[MODEL_SIGNAL_TRACES]);
    jw_key(&w, "logs");
    jw_uint(&w, im->items[MODEL_SIGNAL_LOGS]);
    jw_key(&w, "points");
    jw_uint(&w, im->items[MODEL_SIGNAL_METRICS]);
    jw_object_end(&w);
    jw_key(&w, "rejected");
    jw_int(&w, im->rejected);
    jw_key(&w, "documents");
    jw_uint(&w, im->documents);
    jw_object_end(&w);
    if (jw_error(&w))
        buf_reset(out);
    return im->status != 0 ? im->status : 200;
}

void api_import_free(api_import *im) {
    if (im == NULL)
        return;
    pthread_mutex_lock(&im->mu);
    while (im->pending > 0) /* the callbacks point at im */
        pthread_cond_wait(&im->cv, &im->mu);
    pthread_mutex_unlock(&im->mu);
    buf_free(&im->doc);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im);
}
