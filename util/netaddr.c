/* netaddr.c - listen address parsing and listening sockets, see netaddr.h. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int netaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
                  size_t errlen) {
    char host[256];
    const char *port_s;
    memset(ss, 0, sizeof(*ss));
    if (text == NULL || *text == '\0') {
        snprintf(err, errlen, "empty address");
        return -1;
    }
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':') {
            snprintf(err, errlen, "address \"%s\": expected [IPv6]:PORT", text);
            return -1;
        }
        size_t n = (size_t)(end - text - 1);
        if (n >= sizeof(host)) {
            snprintf(err, errlen, "address \"%s\": host too long", text);
            return -1;
        }
        memcpy(host, text + 1, n);
        host[n] = '\0';
        port_s = end + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "address \"%s\": expected HOST:PORT", text);
            return -1;
        }
        size_t n = (size_t)(colon - text);
        if (n >= sizeof(host)) {
            snprintf(err, errlen, "address \"%s\": host too long", text);
            return -1;
        }
        memcpy(host, text, n);
        host[n] = '\0';
        port_s = colon + 1;
    }
    char *endp;
    errno = 0;
    long port = strtol(port_s, &endp, 10);
    if (*port_s == '\0' || *endp != '\0' || errno || port < 0 || port > 65535) {
        snprintf(err, errlen, "address \"%s\": invalid port", text);
        return -1;
    }
    if (host[0] == '\0')
        snprintf(host, sizeof(host), "0.0.0.0");
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        *len = sizeof(*v6);
        return 0;
    }
    snprintf(err, errlen, "address \"%s\": host must be a numeric IP address or localhost", text);
    return -1;
}

void netaddr_format(const struct sockaddr *sa, char *out, size_t outlen) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%d", host, ntohs(v4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%d", host, ntohs(v6->sin6_port));
    } else {
        snprintf(out, outlen, "?");
    }
}

int netaddr_port(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

int netaddr_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog, char *err,
                   size_t errlen) {
    char name[80];
    netaddr_format((const struct sockaddr *)ss, name, sizeof(name));
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket for %s: %s", name, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, backlog) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
