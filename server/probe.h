/* probe.h - the client side of `loupe healthcheck`: one HTTP GET to a
 * running loupe over a plain socket (a container image needs no curl). */
#ifndef LOUPE_PROBE_H
#define LOUPE_PROBE_H

#include <stddef.h>

#define PROBE_OK 0
#define PROBE_ECONNECT -1 /* could not connect (nothing listens, timeout) */
#define PROBE_EIO -2      /* connected, but no parsable HTTP status line */

/* GETs path from addr ("HOST:PORT" as netaddr_parse reads it; a wildcard
 * host such as 0.0.0.0 or [::] is reached on the loopback address of its
 * family) within timeout_ms in total, and stores the HTTP status code in
 * *status. Returns PROBE_OK, or a negative code with a reason in err. */
int probe_http_status(const char *addr, const char *path, int timeout_ms, int *status, char *err,
                      size_t errlen);

/* The health check of `loupe healthcheck`: GET BASE/readyz, and
 * BASE/healthz when the server has no /readyz (404). base is the UI's
 * --base-path ("" or NULL for none). Returns 0 when the answer is 200, 1
 * otherwise, with what was seen in msg either way. */
int probe_health(const char *ui_addr, const char *base, int timeout_ms, char *msg,
                 size_t msglen);

#endif
