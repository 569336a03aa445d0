/* cli_http.c - libcurl requests to a running loupe, see cli_http.h. */
#include "cli_http.h"

#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/textfmt.h"

#define CLI_HTTP_CONNECT_MS 5000L
#define CLI_HTTP_ERRBODY_MAX 4096

int cli_http_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void cli_http_global_cleanup(void) {
    curl_global_cleanup();
}

/* What a transfer writes to. */
typedef struct cli_http_xfer {
    cli_http *h;
    CURL *curl;
    buf *out;          /* a whole body (cli_http_get, post) */
    cli_http_sink sink; /* or a stream */
    void *ud;
    buf errbody;       /* a non-2xx body of a stream */
    int too_big;
    int sink_stopped;
} cli_http_xfer;

static size_t cli_http_write(char *data, size_t size, size_t nmemb, void *ud) {
    cli_http_xfer *x = ud;
    size_t n = size * nmemb;
    if (x->sink != NULL) {
        long status = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
            buf_append(&x->errbody, data, n < CLI_HTTP_ERRBODY_MAX ? n : 0);
            return n;
        }
        if (x->sink(x->ud, data, n) != 0) {
            x->sink_stopped = 1;
            return 0; /* ends the transfer */
        }
        return n;
    }
    if (buf_append(x->out, data, n) != BUF_OK) {
        x->too_big = 1;
        return 0;
    }
    return n;
}

/* The API's error message in a body ({"error":{"message":...}}), clipped. */
static void cli_http_api_message(const buf *body, char *out, size_t outlen) {
    out[0] = '\0';
    if (body->len == 0)
        return;
    json_t *doc = json_loadb(body->ptr, body->len, 0, NULL);
    json_t *err = json_object_get(doc, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (msg == NULL && json_is_string(err))
        msg = json_string_value(err);
    if (msg != NULL)
        textfmt_clip(msg, outlen > 4 ? outlen - 4 : 0, out, outlen);
    json_decref(doc);
}

/* The outcome of a finished transfer as a CLI_HTTP_* code and message. */
static int cli_http_outcome(cli_http_xfer *x, CURLcode rc, const char *curl_err,
                            const buf *body) {
    cli_http *h = x->h;
    h->status = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &h->status);
    if (rc == CURLE_WRITE_ERROR && x->sink_stopped)
        return h->err[0] == '\0' ? CLI_HTTP_OK : CLI_HTTP_EIO;
    if (rc == CURLE_WRITE_ERROR && x->too_big) {
        snprintf(h->err, sizeof(h->err), "the answer of %s is too large; narrow the query",
                 h->base);
        return CLI_HTTP_EIO;
    }
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        (rc == CURLE_OPERATION_TIMEDOUT && h->status == 0)) {
        snprintf(h->err, sizeof(h->err),
                 "cannot reach loupe at %s: %s (is it running? point --server at it)", h->base,
                 curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return CLI_HTTP_EUNREACHABLE;
    }
    if (rc != CURLE_OK) {
        snprintf(h->err, sizeof(h->err), "request to %s failed: %s", h->base,
                 curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return CLI_HTTP_EIO;
    }
    if (h->status == 401) {
        snprintf(h->err, sizeof(h->err),
                 "%s refused the request (401 unauthorized): %s", h->base,
                 h->token != NULL ? "the UI token was not accepted; check --ui-token or "
                                    "LOUPE_UI_TOKEN"
                                  : "pass the UI token with --ui-token TOKEN or LOUPE_UI_TOKEN "
                                    "(loupe prints it in its login line at start)");
        return CLI_HTTP_EUNAUTHORIZED;
    }
    if (h->status < 200 || h->status > 299) {
        char msg[400];
        cli_http_api_message(body, msg, sizeof(msg));
        snprintf(h->err, sizeof(h->err), "%s answered HTTP %ld%s%s", h->base, h->status,
                 msg[0] ? ": " : "", msg);
        return CLI_HTTP_ESTATUS;
    }
    return CLI_HTTP_OK;
}

/* A handle for base + target with the token and accept headers set. */
static CURL *cli_http_open(cli_http *h, const char *target, const char *accept,
                           struct curl_slist **headers, char *curl_err) {
    CURL *c = curl_easy_init();
    if (c == NULL)
        return NULL;
    buf url;
    buf_init(&url, 65536);
    buf_append_str(&url, h->base);
    buf_append_str(&url, target);
    curl_easy_setopt(c, CURLOPT_URL, url.ptr != NULL ? url.ptr : "");
    buf_free(&url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CLI_HTTP_CONNECT_MS);
    if (h->timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "loupe-cli");
    *headers = NULL;
    if (h->token != NULL && h->token[0] != '\0') {
        char auth[400];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h->token);
        *headers = curl_slist_append(*headers, auth);
    }
    char acc[160];
    snprintf(acc, sizeof(acc), "Accept: %s", accept != NULL ? accept : "application/json");
    *headers = curl_slist_append(*headers, acc);
    *headers = curl_slist_append(*headers, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    return c;
}

static int cli_http_run(cli_http *h, const char *target, const char *accept, cli_http_xfer *x,
                        FILE *upload, const char *content_type) {
    char curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    h->err[0] = '\0';
    h->status = 0;
    x->h = h;
    x->curl = cli_http_open(h, target, accept, &headers, curl_err);
    if (x->curl == NULL) {
        snprintf(h->err, sizeof(h->err), "cannot start a request (out of memory)");
        return CLI_HTTP_EIO;
    }
    if (upload != NULL) {
        char ct[160];
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
        curl_easy_setopt(x->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(x->curl, CURLOPT_READDATA, upload); /* read with fread */
        struct stat st;
        long at = ftell(upload);
        if (fstat(fileno(upload), &st) == 0 && S_ISREG(st.st_mode) && at >= 0)
            curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(st.st_size - at));
        else
            headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, cli_http_write);
    curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
    CURLcode rc = curl_easy_perform(x->curl);
    int out = cli_http_outcome(x, rc, curl_err, x->sink != NULL ? &x->errbody : x->out);
    if (upload != NULL && ferror(upload) && out == CLI_HTTP_OK) {
        snprintf(h->err, sizeof(h->err), "reading the file failed");
        out = CLI_HTTP_EIO;
    }
    curl_easy_cleanup(x->curl);
    curl_slist_free_all(headers);
    return out;
}

int cli_http_get(cli_http *h, const char *target, buf *out) {
    cli_http_xfer x;
    memset(&x, 0, sizeof(x));
    x.out = out;
    buf_reset(out);
    return cli_http_run(h, target, NULL, &x, NULL, NULL);
}

int cli_http_stream(cli_http *h, const char *target, const char *accept, cli_http_sink sink,
                    void *ud) {
    cli_http_xfer x;
    memset(&x, 0, sizeof(x));
    x.sink = sink;
    x.ud = ud;
    buf_init(&x.errbody, CLI_HTTP_ERRBODY_MAX);
    int rc = cli_http_run(h, target, accept, &x, NULL, NULL);
    buf_free(&x.errbody);
    return rc;
}

int cli_http_post_file(cli_http *h, const char *target, const char *content_type, FILE *f,
                       buf *out) {
    cli_http_xfer x;
    memset(&x, 0, sizeof(x));
    x.out = out;
    buf_reset(out);
    return cli_http_run(h, target, NULL, &x, f, content_type);
}
