/* rollup.c - duration histograms with log-scale buckets, their SQL
 * functions, and the peer of a client span; see rollup.h. */
#include "rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buckets ------------------------------------------------------------------ */

int rollup_bucket(uint64_t ns) {
    if (ns < 1000)
        return 0;
    double us = (double)ns / 1000.0;
    int b = 1 + (int)floor(log2(us) * ROLLUP_PER_DOUBLING);
    if (b < 1)
        b = 1;
    if (b >= ROLLUP_BUCKETS)
        b = ROLLUP_BUCKETS - 1;
    return b;
}

uint64_t rollup_bucket_ns(int b) {
    if (b <= 0)
        return 500;
    /* [2^((b-1)/8), 2^(b/8)) us: the geometric middle */
    double us = exp2(((double)b - 0.5) / ROLLUP_PER_DOUBLING);
    return (uint64_t)llround(us * 1000.0);
}

/* ---- blobs --------------------------------------------------------------------- */

int rollup_hist_add_blob(rollup_hist *h, const void *p, size_t len) {
    const uint8_t *s = p;
    size_t i = 0;
    while (i < len) {
        int b = s[i++];
        uint64_t v = 0;
        int shift = 0;
        for (;;) {
            if (i >= len || shift > 63)
                return -1;
            uint8_t c = s[i++];
            v |= (uint64_t)(c & 0x7f) << shift;
            if (!(c & 0x80))
                break;
            shift += 7;
        }
        h->n[b] += v;
    }
    return 0;
}

int rollup_hist_blob(const rollup_hist *h, buf *out) {
    for (int b = 0; b < ROLLUP_BUCKETS; b++) {
        uint64_t v = h->n[b];
        if (v == 0)
            continue;
        uint8_t tmp[11];
        size_t k = 0;
        tmp[k++] = (uint8_t)b;
        do {
            uint8_t c = v & 0x7f;
            v >>= 7;
            tmp[k++] = (uint8_t)(c | (v ? 0x80 : 0));
        } while (v);
        int rc = buf_append(out, tmp, k);
        if (rc != BUF_OK)
            return rc;
    }
    return BUF_OK;
}

uint64_t rollup_hist_count(const rollup_hist *h) {
    uint64_t n = 0;
    for (int b = 0; b < ROLLUP_BUCKETS; b++)
        n += h->n[b];
    return n;
}

uint64_t rollup_hist_quantile(const rollup_hist *h, double q) {
    uint64_t total = rollup_hist_count(h);
    if (total == 0)
        return 0;
    if (q <= 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* the rank of the quantile, 1-based: the smallest count reaching q */
    uint64_t rank = (uint64_t)ceil(q * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < ROLLUP_BUCKETS; b++) {
        seen += h->n[b];
        if (seen >= rank)
            return rollup_bucket_ns(b);
    }
    return rollup_bucket_ns(ROLLUP_BUCKETS - 1);
}

/* ---- SQL functions -------------------------------------------------------------- */

/* The blob of h as the function's result. */
static void rollup_result(sqlite3_context *ctx, const rollup_hist *h) {
    buf b;
    buf_init(&b, (size_t)ROLLUP_BUCKETS * 11);
    if (rollup_hist_blob(h, &b) != BUF_OK) {
        buf_free(&b);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_blob(ctx, b.len ? b.ptr : "", (int)b.len, SQLITE_TRANSIENT);
    buf_free(&b);
}

static int rollup_add_value(rollup_hist *h, sqlite3_value *v) {
    if (sqlite3_value_type(v) == SQLITE_NULL)
        return 0;
    return rollup_hist_add_blob(h, sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v));
}

static void rollup_fn_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    rollup_hist *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < argc; i++) {
        if (rollup_add_value(h, argv[i]) != 0) {
            sqlite3_result_error(ctx, "loupe_hist_merge: malformed histogram", -1);
            free(h);
            return;
        }
    }
    rollup_result(ctx, h);
    free(h);
}

/* Aggregates keep a pointer to a heap histogram in their context. */
static rollup_hist *rollup_agg(sqlite3_context *ctx, int make) {
    rollup_hist **slot = sqlite3_aggregate_context(ctx, make ? (int)sizeof(*slot) : 0);
    if (slot == NULL)
        return NULL;
    if (*slot == NULL && make)
        *slot = calloc(1, sizeof(rollup_hist));
    return *slot;
}

static void rollup_fn_sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    rollup_hist *h = rollup_agg(ctx, 1);
    if (h == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (rollup_add_value(h, argv[0]) != 0)
        sqlite3_result_error(ctx, "loupe_hist_sum: malformed histogram", -1);
}

static void rollup_fn_of_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    rollup_hist *h = rollup_agg(ctx, 1);
    if (h == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
        sqlite3_int64 ns = sqlite3_value_int64(argv[0]);
        h->n[rollup_bucket(ns > 0 ? (uint64_t)ns : 0)]++;
    }
}

static void rollup_fn_final(sqlite3_context *ctx) {
    rollup_hist *h = rollup_agg(ctx, 0);
    if (h == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    rollup_result(ctx, h);
    free(h);
}

int rollup_register(sqlite3 *db) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "loupe_hist_merge", 2, flags, NULL, rollup_fn_merge,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_hist_sum", 1, flags, NULL, NULL,
                                     rollup_fn_sum_step, rollup_fn_final);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "loupe_hist_of", 1, flags, NULL, NULL, rollup_fn_of_step,
                                     rollup_fn_final);
    return rc;
}

/* ---- peers --------------------------------------------------------------------- */

/* A string attribute's text, or NULL. */
static const model_str *rollup_str(const model_attrs *a, const char *key) {
    const model_value *v = model_attrs_get(a, key);
    return v && v->type == MODEL_VALUE_STRING && v->u.str.len > 0 ? &v->u.str : NULL;
}

/* Appends s to out at *pos (cut at the end). */
static void rollup_put(char *out, size_t outlen, size_t *pos, const char *s, size_t n) {
    if (*pos >= outlen)
        return;
    size_t room = outlen - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(out + *pos, s, n);
    *pos += n;
    out[*pos] = '\0';
}

#define ROLLUP_PUT_STR(s) rollup_put(out, outlen, &pos, (s), strlen(s))
#define ROLLUP_PUT_MS(m) rollup_put(out, outlen, &pos, (m)->ptr, (m)->len)

/* The host of a URL (between "//" and the next '/', '?' or '#'), or NULL. */
static int rollup_url_host(const model_str *url, const char **host, size_t *len) {
    const char *p = url->ptr, *end = url->ptr + url->len;
    const char *s = NULL;
    for (const char *q = p; q + 1 < end; q++) {
        if (q[0] == '/' && q[1] == '/') {
            s = q + 2;
            break;
        }
    }
    if (s == NULL)
        return 0;
    const char *e = s;
    while (e < end && *e != '/' && *e != '?' && *e != '#')
        e++;
    const char *at = memchr(s, '@', (size_t)(e - s)); /* user:pass@host */
    if (at)
        s = at + 1;
    if (e == s)
        return 0;
    *host = s;
    *len = (size_t)(e - s);
    return 1;
}

void rollup_peer(const model_attrs *attrs, char *out, size_t outlen) {
    size_t pos = 0;
    if (outlen == 0)
        return;
    out[0] = '\0';
    const model_str *v, *addr = rollup_str(attrs, "server.address");
    if ((v = rollup_str(attrs, "service.peer.name")) != NULL ||
        (v = rollup_str(attrs, "peer.service")) != NULL) {
        ROLLUP_PUT_STR("service:");
        ROLLUP_PUT_MS(v);
        return;
    }
    if ((v = rollup_str(attrs, "db.system.name")) != NULL ||
        (v = rollup_str(attrs, "db.system")) != NULL) {
        ROLLUP_PUT_STR("database:");
        ROLLUP_PUT_MS(v);
        if (addr) {
            ROLLUP_PUT_STR("@");
            ROLLUP_PUT_MS(addr);
        }
        return;
    }
    if ((v = rollup_str(attrs, "messaging.system")) != NULL) {
        ROLLUP_PUT_STR("messaging:");
        ROLLUP_PUT_MS(v);
        const model_str *d = rollup_str(attrs, "messaging.destination.name");
        if (d) {
            ROLLUP_PUT_STR(" ");
            ROLLUP_PUT_MS(d);
        }
        return;
    }
    ROLLUP_PUT_STR("external:");
    if (addr) {
        ROLLUP_PUT_MS(addr);
        const model_value *port = model_attrs_get(attrs, "server.port");
        if (port && port->type == MODEL_VALUE_INT) {
            char tmp[24];
            snprintf(tmp, sizeof(tmp), ":%lld", (long long)port->u.integer);
            ROLLUP_PUT_STR(tmp);
        }
        return;
    }
    const char *host;
    size_t hlen;
    if ((v = rollup_str(attrs, "url.full")) != NULL && rollup_url_host(v, &host, &hlen)) {
        rollup_put(out, outlen, &pos, host, hlen);
        return;
    }
    if ((v = rollup_str(attrs, "net.peer.name")) != NULL) {
        ROLLUP_PUT_MS(v);
        return;
    }
    ROLLUP_PUT_STR("unknown");
}

const char *rollup_peer_kind(const char *key) {
    static const char *const kinds[] = {"service", "database", "messaging", "external"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(key, kinds[i], n) == 0 && key[n] == ':')
            return kinds[i];
    }
    return "external";
}
