/* netaddr.h - "HOST:PORT" listen addresses. */
#ifndef LOUPE_NETADDR_H
#define LOUPE_NETADDR_H

#include <sys/socket.h>

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces) into ss.
 * HOST is a numeric address or "localhost". PORT is 0..65535 (0 = any free
 * port). Returns 0, or -1 with a reason in err. */
int netaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
                  size_t errlen);

/* Formats ss as "HOST:PORT" ("[V6]:PORT") into out. */
void netaddr_format(const struct sockaddr *sa, char *out, size_t outlen);

/* The port of a bound address. */
int netaddr_port(const struct sockaddr *sa);

/* Creates a non-blocking, close-on-exec listening TCP socket with
 * SO_REUSEADDR bound to ss. Returns the fd, or -1 with a reason in err. */
int netaddr_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog, char *err,
                   size_t errlen);

#endif
