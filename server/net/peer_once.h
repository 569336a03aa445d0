/* peer_once.h - remembers which clients were already told something, so a
 * hint about a misconfigured client is logged once per client address and
 * topic, not once per connection.
 *
 * A fixed table (no growth, whatever the number of clients): an entry is
 * the client's IP address (the port is left out: every connection has its
 * own) and a caller-chosen topic number. An entry older than the table's
 * time-to-live counts as forgotten, so a client that stays misconfigured is
 * reminded now and then; when the table is full, the oldest entry goes.
 * Thread-safe (one mutex).
 */
#ifndef LOUPE_PEER_ONCE_H
#define LOUPE_PEER_ONCE_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct peer_once peer_once;

/* A table of `slots` entries (at least 1) that are forgotten after ttl_ns.
 * NULL when out of memory. */
peer_once *peer_once_new(unsigned slots, int64_t ttl_ns);

/* Accepts NULL. */
void peer_once_free(peer_once *t);

/* Returns 1 when (the IP address of sa, topic) is not in the table (or its
 * entry has expired) and records it as of now_ns (a monotonic clock
 * reading); 0 when it was noted within the time-to-live. Addresses other
 * than IPv4 and IPv6 all count as one client. A NULL table answers 1. */
int peer_once_first(peer_once *t, const struct sockaddr *sa, unsigned topic, int64_t now_ns);

#endif
