/* probe.c - one HTTP/1.1 GET over a plain TCP socket, bounded in time, for
 * `loupe healthcheck` (the container's HEALTHCHECK). */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/netaddr.h"

static long long probe_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0 when
 * ready, -1 on timeout or error. */
static int probe_wait(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - probe_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* A wildcard listen address is reached on the loopback address. */
static void probe_to_loopback(struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (ss->ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
    }
}

/* Parses "HTTP/1.x NNN" at the start of line. Returns the status or -1. */
static int probe_parse_status(const char *line, size_t len) {
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return -1;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        st = st * 10 + (line[i] - '0');
    }
    if (len > 12 && line[12] != ' ' && line[12] != '\r')
        return -1;
    return st;
}

/* send() or recv() moved nothing (n < 0, errno set): on EAGAIN or EINTR
 * waits until fd is ready for events again. Returns 0 to try again, or -1
 * with err set ("<call>: <reason>" or "timed out <waiting>"). */
static int probe_again(int fd, short events, long long deadline, const char *shown,
                       const char *call, const char *waiting, char *err, size_t errlen) {
    if (errno != EAGAIN && errno != EINTR) {
        snprintf(err, errlen, "%s: %s: %s", shown, call, strerror(errno));
        return -1;
    }
    if (probe_wait(fd, events, deadline) != 0) {
        snprintf(err, errlen, "%s: timed out %s", shown, waiting);
        return -1;
    }
    return 0;
}

/* A non-blocking socket connected to ss by the deadline, or -1 with err
 * set. */
static int probe_connect(const struct sockaddr_storage *ss, socklen_t sslen, const char *shown,
                         long long deadline, char *err, size_t errlen) {
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)ss, sslen) == 0)
        return fd;
    if (errno != EINPROGRESS || probe_wait(fd, POLLOUT, deadline) != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", shown,
                 errno == EINPROGRESS ? "timed out" : strerror(errno));
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t soerrlen = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerrlen) != 0 || soerr != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", shown, strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends the GET request for path. Returns 0, or -1 with err set. */
static int probe_send(int fd, const char *path, const char *shown, long long deadline, char *err,
                      size_t errlen) {
    char req[512];
    int reqlen = snprintf(req, sizeof(req),
                          "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loupe-healthcheck\r\n"
                          "Connection: close\r\n\r\n",
                          path, shown);
    if (reqlen < 0 || (size_t)reqlen >= sizeof(req)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    size_t sent = 0;
    while (sent < (size_t)reqlen) {
        ssize_t n = send(fd, req + sent, (size_t)reqlen - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        else if (probe_again(fd, POLLOUT, deadline, shown, "send", "sending the request", err,
                             errlen) != 0)
            return -1;
    }
    return 0;
}

/* Reads the status line of the answer (only it matters: up to its end, or
 * 256 bytes). Returns the status, or -1 with err set. */
static int probe_read_status(int fd, const char *shown, long long deadline, char *err,
                             size_t errlen) {
    char resp[256];
    size_t got = 0;
    while (got < sizeof(resp) && !memchr(resp, '\n', got)) {
        ssize_t n = recv(fd, resp + got, sizeof(resp) - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0)
            break;
        else if (probe_again(fd, POLLIN, deadline, shown, "recv", "waiting for the answer", err,
                             errlen) != 0)
            return -1;
    }
    int st = probe_parse_status(resp, got);
    if (st < 0)
        snprintf(err, errlen, "%s: not an HTTP answer", shown);
    return st;
}

int probe_http_status(const char *addr, const char *path, int timeout_ms, int *status, char *err,
                      size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char why[160];
    if (netaddr_parse(addr, &ss, &sslen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", addr, why);
        return PROBE_ECONNECT;
    }
    probe_to_loopback(&ss);
    char shown[80];
    netaddr_format((const struct sockaddr *)&ss, shown, sizeof(shown));
    long long deadline = probe_now_ms() + timeout_ms;
    int fd = probe_connect(&ss, sslen, shown, deadline, err, errlen);
    if (fd < 0)
        return PROBE_ECONNECT;
    int st = -1;
    if (probe_send(fd, path, shown, deadline, err, errlen) == 0)
        st = probe_read_status(fd, shown, deadline, err, errlen);
    close(fd);
    if (st < 0)
        return PROBE_EIO;
    *status = st;
    return PROBE_OK;
}

int probe_health(const char *ui_addr, const char *base, int timeout_ms, char *msg,
                 size_t msglen) {
    long long deadline = probe_now_ms() + timeout_ms;
    const char *paths[] = {"/readyz", "/healthz"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int left = (int)(deadline - probe_now_ms());
        int status = 0;
        char path[512];
        if (left <= 0) {
            snprintf(msg, msglen, "%s: timed out", ui_addr);
            return 1;
        }
        snprintf(path, sizeof(path), "%s%s", base != NULL ? base : "", paths[i]);
        if (probe_http_status(ui_addr, path, left, &status, msg, msglen) != PROBE_OK)
            return 1;
        snprintf(msg, msglen, "GET %s: %d", path, status);
        if (status == 200)
            return 0;
        if (status != 404)
            return 1;
    }
    return 1;
}
