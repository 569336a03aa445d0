/* forward_dest.c - a --forward URL and its protocol, and the
 * --forward-header values, checked and taken apart; see
 * forward_internal.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hash.h"
#include "forward_internal.h"

static int forward_dest_proto(const char *protocol, forward_proto *p) {
    if (protocol == NULL || protocol[0] == '\0' || strcmp(protocol, "http/protobuf") == 0)
        *p = FORWARD_HTTP_PROTOBUF;
    else if (strcmp(protocol, "http/json") == 0)
        *p = FORWARD_HTTP_JSON;
    else if (strcmp(protocol, "grpc") == 0)
        *p = FORWARD_GRPC;
    else
        return -1;
    return 0;
}

static int forward_host_char(unsigned char ch) {
    return isalnum(ch) || ch == '-' || ch == '.' || ch == '_';
}

/* host[:port] at s[0..n) into d->host and d->port (default dport). */
static int forward_dest_authority(const char *s, size_t n, int dport, forward_dest *d,
                                  const char *url, char *err, size_t errlen) {
    size_t hn;
    const char *rest;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL) {
            snprintf(err, errlen, "--forward %s: an unclosed [ in the host", url);
            return -1;
        }
        hn = (size_t)(rb - s) + 1;
        for (size_t i = 1; i + 1 < hn; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.') {
                snprintf(err, errlen, "--forward %s: a bad IPv6 address", url);
                return -1;
            }
    } else {
        hn = 0;
        while (hn < n && s[hn] != ':')
            hn++;
        for (size_t i = 0; i < hn; i++)
            if (!forward_host_char((unsigned char)s[i])) {
                snprintf(err, errlen, "--forward %s: a bad character in the host", url);
                return -1;
            }
    }
    if (hn == 0 || hn >= sizeof(d->host)) {
        snprintf(err, errlen, "--forward %s: no host", url);
        return -1;
    }
    memcpy(d->host, s, hn);
    d->host[hn] = '\0';
    rest = s + hn;
    d->port = dport;
    if (rest < s + n) {
        if (*rest != ':' || rest + 1 == s + n) {
            snprintf(err, errlen, "--forward %s: a bad port", url);
            return -1;
        }
        long port = 0;
        for (const char *p = rest + 1; p < s + n; p++) {
            if (!isdigit((unsigned char)*p) || port > 65535) {
                snprintf(err, errlen, "--forward %s: a bad port", url);
                return -1;
            }
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535) {
            snprintf(err, errlen, "--forward %s: a bad port", url);
            return -1;
        }
        d->port = (int)port;
    }
    return 0;
}

int forward_dest_parse(const char *url, const char *protocol, forward_dest *d, char *err,
                       size_t errlen) {
    memset(d, 0, sizeof(*d));
    if (forward_dest_proto(protocol, &d->proto) != 0) {
        snprintf(err, errlen, "--forward-protocol: \"%s\" is not grpc, http/protobuf or http/json",
                 protocol);
        return -1;
    }
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        snprintf(err, errlen,
                 "--forward %s: not a URL (grpc://HOST:PORT, http://HOST:PORT or https://...)",
                 url);
        return -1;
    }
    size_t slen = (size_t)(sep - url);
    const char *scheme = slen == 4 && strncasecmp(url, "grpc", 4) == 0    ? "grpc"
                         : slen == 4 && strncasecmp(url, "http", 4) == 0  ? "http"
                         : slen == 5 && strncasecmp(url, "https", 5) == 0 ? "https"
                                                                          : NULL;
    if (scheme == NULL) {
        snprintf(err, errlen, "--forward %s: the scheme must be grpc, http or https", url);
        return -1;
    }
    if (strcmp(scheme, "grpc") == 0)
        d->proto = FORWARD_GRPC;
    d->tls = strcmp(scheme, "https") == 0;
    if (d->tls && d->proto == FORWARD_GRPC) {
        snprintf(err, errlen,
                 "--forward %s: gRPC over TLS is not supported (grpc:// and http:// URLs are "
                 "h2c); use --forward-protocol http/protobuf for https",
                 url);
        return -1;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen;
    if (*path == '?' || *path == '#' || strpbrk(path, "?#") != NULL) {
        snprintf(err, errlen, "--forward %s: a query or fragment is not supported", url);
        return -1;
    }
    const char *at = memchr(auth, '@', alen);
    if (at != NULL && d->proto == FORWARD_GRPC) {
        snprintf(err, errlen,
                 "--forward %s: credentials in a gRPC URL are not sent; use --forward-header",
                 url);
        return -1;
    }
    const char *host = at != NULL ? at + 1 : auth;
    size_t hlen = alen - (size_t)(host - auth);
    int dport = d->tls ? 443 : strcmp(scheme, "grpc") == 0 ? 4317 : 80;
    if (forward_dest_authority(host, hlen, dport, d, url, err, errlen) != 0)
        return -1;
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] >= 0x7f) {
            snprintf(err, errlen, "--forward %s: a bad character in the path", url);
            return -1;
        }
    if (d->proto == FORWARD_GRPC && plen > 0) {
        snprintf(err, errlen, "--forward %s: a gRPC destination has no path", url);
        return -1;
    }
    int n = snprintf(d->base, sizeof(d->base), "%s://%.*s%.*s", d->tls ? "https" : "http",
                     (int)alen, auth, (int)plen, path);
    if (n < 0 || (size_t)n >= sizeof(d->base)) {
        snprintf(err, errlen, "--forward %s: too long", url);
        return -1;
    }
    const char *shown = d->proto == FORWARD_GRPC && strcmp(scheme, "grpc") == 0 ? "grpc"
                        : d->tls                                               ? "https"
                                                                               : "http";
    int hshow = (int)strlen(d->host) > 80 ? 80 : (int)strlen(d->host);
    int pshow = plen > 50 ? 50 : (int)plen; /* a name for logs and labels, cut if long */
    snprintf(d->name, sizeof(d->name), "%s://%.*s:%d%.*s", shown, hshow, d->host, d->port, pshow,
             path);
    static const char *const protos[] = {"http/protobuf", "http/json", "grpc"};
    char id[700];
    snprintf(id, sizeof(id), "%s %s", protos[d->proto], d->base);
    snprintf(d->key, sizeof(d->key), "%016llx",
             (unsigned long long)hash_64(id, strlen(id), 0x6c6f757065ULL));
    return 0;
}

int forward_header_split(const char *h, char *key, size_t keylen, const char **value, char *err,
                         size_t errlen) {
    static const char *const reserved[] = {"content-type", "content-length", "content-encoding",
                                           "te",           "host",           "connection",
                                           "transfer-encoding", "keep-alive", "upgrade",
                                           "expect"};
    const char *eq = strchr(h, '=');
    size_t kn = eq != NULL ? (size_t)(eq - h) : 0;
    if (eq == NULL || kn == 0 || kn >= keylen) {
        snprintf(err, errlen, "--forward-header \"%s\": not KEY=VALUE", h);
        return -1;
    }
    for (size_t i = 0; i < kn; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (!isalnum(ch) && strchr("!#$%&'*+-.^_`|~", ch) == NULL) {
            snprintf(err, errlen, "--forward-header \"%.*s\": a bad character in the name",
                     (int)kn, h);
            return -1;
        }
        key[i] = (char)tolower(ch);
    }
    key[kn] = '\0';
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(key, reserved[i]) == 0) {
            snprintf(err, errlen, "--forward-header %s: loupe sets this header itself", key);
            return -1;
        }
    if (strncmp(key, "grpc-", 5) == 0) {
        snprintf(err, errlen, "--forward-header %s: grpc- headers are reserved", key);
        return -1;
    }
    for (const char *p = eq + 1; *p != '\0'; p++)
        if (*p == '\r' || *p == '\n') {
            snprintf(err, errlen, "--forward-header %s: a line break in the value", key);
            return -1;
        }
    *value = eq + 1;
    return 0;
}
