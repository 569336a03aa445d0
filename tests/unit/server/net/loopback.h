/* loopback.h - test helpers: listening sockets and client connections on
 * 127.0.0.1, for the tests that start a real server on a port they pick.
 * Include after <check.h>; every failure is a Check assertion. */
#ifndef LOUPE_TEST_LOOPBACK_H
#define LOUPE_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "util/netaddr.h"

/* A listening socket on 127.0.0.1 on a free port (netaddr_listen: non-
 * blocking, close-on-exec); sets *port. */
static inline int loopback_listen(int *port) {
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_storage ss = {0};
    memcpy(&ss, &sin, sizeof(sin));
    char err[128];
    int fd = netaddr_listen(&ss, sizeof(sin), 16, err, sizeof(err));
    ck_assert_msg(fd >= 0, "listen: %s", err);
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* A blocking client connection to 127.0.0.1:port whose sends and receives
 * give up after timeout_ms (0 = never). */
static inline int loopback_connect(int port, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (timeout_ms > 0) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

#endif
