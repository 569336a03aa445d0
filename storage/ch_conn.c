/* ch_conn.c - ClickHouse's HTTP interface through libcurl; see ch_conn.h. */
#include "ch_conn.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_CONNECT_MS 2000L
#define CH_TOTAL_MS 60000L
#define CH_URL_MAX 8192

struct ch_conn {
    CURL *curl;
    char *url, *database, *user, *password; /* owned */
    long connect_ms, total_ms;
    buf *out;      /* the running request's answer (NULL: discarded) */
    buf errbody;   /* the body of an error answer */
    int overflow;  /* the answer did not fit out's cap */
    char curl_err[CURL_ERROR_SIZE];
};

int ch_conn_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static char *ch_dup(const char *s) {
    return s ? strdup(s) : NULL;
}

ch_conn *ch_conn_new(const ch_target *t) {
    ch_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->url = ch_dup(t->url);
    c->database = ch_dup(t->database);
    c->user = ch_dup(t->user);
    c->password = ch_dup(t->password);
    c->curl = curl_easy_init();
    c->connect_ms = CH_CONNECT_MS;
    c->total_ms = CH_TOTAL_MS;
    buf_init(&c->errbody, 4096);
    if (c->curl == NULL || c->url == NULL || (t->database && !c->database) ||
        (t->user && !c->user) || (t->password && !c->password)) {
        ch_conn_free(c);
        return NULL;
    }
    return c;
}

void ch_conn_free(ch_conn *c) {
    if (c == NULL)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->url);
    free(c->database);
    free(c->user);
    free(c->password);
    buf_free(&c->errbody);
    free(c);
}

const char *ch_conn_url(const ch_conn *c) {
    return c->url;
}

void ch_conn_timeouts(ch_conn *c, long connect_ms, long total_ms) {
    c->connect_ms = connect_ms > 0 ? connect_ms : CH_CONNECT_MS;
    c->total_ms = total_ms > 0 ? total_ms : CH_TOTAL_MS;
}

static size_t ch_write(char *data, size_t size, size_t nmemb, void *ud) {
    ch_conn *c = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) { /* an error's text: keep what fits */
        size_t room = c->errbody.max - c->errbody.len;
        buf_append(&c->errbody, data, n < room ? n : room);
        return n;
    }
    if (c->out == NULL)
        return n;
    if (buf_append(c->out, data, n) != BUF_OK) {
        c->overflow = 1;
        return 0; /* stops the transfer */
    }
    return n;
}

/* The URL of a request: base, database, timeout, extra parameters. */
static int ch_url(ch_conn *c, char *url, size_t len, const char *query, const char *settings) {
    int n = snprintf(url, len, "%s/?max_execution_time=%ld", c->url,
                     c->total_ms >= 2000 ? c->total_ms / 1000 - 1 : 1);
    if (n < 0 || (size_t)n >= len)
        return -1;
    if (c->database) {
        char *e = curl_easy_escape(c->curl, c->database, 0);
        if (e == NULL)
            return -1;
        n += snprintf(url + n, len - (size_t)n, "&database=%s", e);
        curl_free(e);
    }
    if (query && (size_t)n < len) {
        char *e = curl_easy_escape(c->curl, query, 0);
        if (e == NULL)
            return -1;
        n += snprintf(url + n, len - (size_t)n, "&query=%s", e);
        curl_free(e);
    }
    if (settings && (size_t)n < len)
        n += snprintf(url + n, len - (size_t)n, "&%s", settings);
    return (size_t)n < len ? 0 : -1;
}

/* The first line of an error answer, made printable. */
static void ch_err_text(const buf *b, long status, char *err) {
    char text[CH_ERR_MAX - 32];
    size_t n = 0;
    for (size_t i = 0; i < b->len && n + 1 < sizeof(text); i++) {
        unsigned char ch = (unsigned char)b->ptr[i];
        if (ch == '\n' && n > 0)
            break;
        text[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    text[n] = '\0';
    snprintf(err, CH_ERR_MAX, "HTTP %ld: %s", status, n ? text : "(no text)");
}

static int ch_perform(ch_conn *c, const char *url, const char *body, size_t len, buf *out,
                      char *err) {
    CURL *h = c->curl;
    c->out = out;
    c->overflow = 0;
    c->curl_err[0] = '\0';
    buf_reset(&c->errbody);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "loupe");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ch_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    if (c->user || c->password) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user ? c->user : "default");
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    CURLcode rc = curl_easy_perform(h);
    c->out = NULL;
    if (c->overflow) {
        snprintf(err, CH_ERR_MAX, "answer larger than %zu bytes", out ? out->max : 0);
        return CH_ENOMEM;
    }
    if (rc != CURLE_OK) {
        snprintf(err, CH_ERR_MAX, "%s: %s", c->url,
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
        return CH_EDOWN;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200)
        return CH_OK;
    ch_err_text(&c->errbody, status, err);
    /* 502-504 come from a proxy in front, not from ClickHouse: unreachable */
    return status >= 502 && status <= 504 ? CH_EDOWN : CH_EQUERY;
}

int ch_conn_query(ch_conn *c, const char *sql, size_t len, buf *out, char *err) {
    char url[CH_URL_MAX];
    if (ch_url(c, url, sizeof(url), NULL, NULL) != 0) {
        snprintf(err, CH_ERR_MAX, "URL too long");
        return CH_EQUERY;
    }
    return ch_perform(c, url, sql, len, out, err);
}

int ch_conn_insert(ch_conn *c, const char *table_sql, const char *settings, const char *rows,
                   size_t len, char *err) {
    char query[1024], url[CH_URL_MAX];
    int n = snprintf(query, sizeof(query), "INSERT INTO %s FORMAT TabSeparated", table_sql);
    if (n < 0 || (size_t)n >= sizeof(query) ||
        ch_url(c, url, sizeof(url), query, settings) != 0) {
        snprintf(err, CH_ERR_MAX, "URL too long");
        return CH_EQUERY;
    }
    return ch_perform(c, url, rows, len, NULL, err);
}
