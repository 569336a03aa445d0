/* forward_http.c - OTLP/HTTP (http/protobuf and http/json) to one
 * destination with libcurl, see forward_internal.h.
 *
 * One easy handle per destination, so its connection is kept alive between
 * requests. https:// is TLS through libcurl with the system's CA store and
 * peer verification on. No redirect is followed. The transfer checks the
 * stop flag from curl's progress callback, so a stopping loupe does not
 * wait for a slow destination.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "server/decode/otlp.h"
#include "forward_internal.h"

#define HTTP_CONNECT_TIMEOUT_MS 5000L
#define HTTP_TIMEOUT_MS 30000L
#define HTTP_RESPONSE_MAX ((size_t)64 << 10) /* kept of an answer; the rest is read and dropped */

static const char *const http_paths[MODEL_SIGNAL_COUNT] = {
    [MODEL_SIGNAL_TRACES] = "/v1/traces",
    [MODEL_SIGNAL_LOGS] = "/v1/logs",
    [MODEL_SIGNAL_METRICS] = "/v1/metrics",
};

struct forward_client {
    const forward_dest *d;
    const forward_stop_flag *stop;
    CURL *curl;
    struct curl_slist *headers;
    buf resp;
    char err[CURL_ERROR_SIZE];
};

int forward_http_retryable(long status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static size_t http_write(char *data, size_t size, size_t n, void *ud) {
    forward_client *c = ud;
    size_t len = size * n;
    size_t room = c->resp.len < HTTP_RESPONSE_MAX ? HTTP_RESPONSE_MAX - c->resp.len : 0;
    if (room > 0)
        buf_append(&c->resp, data, len < room ? len : room);
    return len;
}

static int http_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow) {
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const forward_client *c = ud;
    return atomic_load(c->stop) ? 1 : 0; /* non-zero aborts the transfer */
}

forward_client *forward_http_new(const forward_dest *d, const char *const *headers, size_t n,
                                 const forward_stop_flag *stop) {
    forward_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->d = d;
    c->stop = stop;
    buf_init(&c->resp, HTTP_RESPONSE_MAX + 1);
    c->curl = curl_easy_init();
    const char *type = d->proto == FORWARD_HTTP_JSON ? "Content-Type: application/json"
                                                     : "Content-Type: application/x-protobuf";
    struct curl_slist *l = curl_slist_append(NULL, type);
    if (l != NULL)
        l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; i < n && l != NULL; i++) {
        char key[128], line[8192];
        const char *value = NULL;
        char why[160];
        if (forward_header_split(headers[i], key, sizeof(key), &value, why, sizeof(why)) != 0)
            continue; /* checked at start (forward_check) */
        snprintf(line, sizeof(line), "%s: %s", key, value);
        struct curl_slist *next = curl_slist_append(l, line);
        if (next == NULL) {
            curl_slist_free_all(l);
            l = NULL;
        } else {
            l = next;
        }
    }
    c->headers = l;
    if (c->curl == NULL || c->headers == NULL) {
        forward_http_free(c);
        return NULL;
    }
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "loupe-forward");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, http_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->err);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    return c;
}

/* What a refusal said, for the log: the status message of a
 * google.rpc.Status in JSON, or the first printable bytes of the body. */
static void http_refusal(const forward_client *c, long status, char *out, size_t outlen) {
    char text[200];
    size_t n = 0;
    for (size_t i = 0; i < c->resp.len && n + 1 < sizeof(text); i++) {
        unsigned char ch = (unsigned char)c->resp.ptr[i];
        text[n++] = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '.';
    }
    text[n] = '\0';
    snprintf(out, outlen, "HTTP %ld%s%s", status, n > 0 ? ": " : "", text);
}

void forward_http_send(forward_client *c, model_signal sig, const void *body, size_t len,
                       forward_result *r) {
    memset(r, 0, sizeof(*r));
    char url[sizeof(c->d->base) + 16];
    snprintf(url, sizeof(url), "%s%s", c->d->base, http_paths[sig]);
    buf_reset(&c->resp);
    c->err[0] = '\0';
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        r->outcome = FORWARD_RETRY;
        snprintf(r->why, sizeof(r->why), "%s", c->err[0] ? c->err : curl_easy_strerror(rc));
        return;
    }
    long status = 0;
    curl_off_t after = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        r->outcome = FORWARD_DELIVERED;
        char msg[200];
        int prc = c->d->proto == FORWARD_HTTP_JSON
                      ? otlp_response_read_json(sig, c->resp.ptr, c->resp.len, &r->rejected, msg,
                                                sizeof(msg))
                      : otlp_response_read_pb(sig, (const uint8_t *)c->resp.ptr, c->resp.len,
                                              &r->rejected, msg, sizeof(msg));
        if (prc != OTLP_OK)
            r->rejected = 0; /* an answer we cannot read: accepted all the same */
        snprintf(r->why, sizeof(r->why), "HTTP %ld%s%s", status, msg[0] && prc == OTLP_OK ? ": " : "",
                 prc == OTLP_OK ? msg : "");
        return;
    }
    if (forward_http_retryable(status)) {
        r->outcome = FORWARD_RETRY;
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
            r->retry_after_ms = (uint64_t)after * 1000u;
        snprintf(r->why, sizeof(r->why), "HTTP %ld", status);
        return;
    }
    r->outcome = FORWARD_REFUSED;
    http_refusal(c, status, r->why, sizeof(r->why));
}

void forward_http_free(forward_client *c) {
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    buf_free(&c->resp);
    free(c);
}
