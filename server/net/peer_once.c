/* peer_once.c - once-per-client memory for log hints, see peer_once.h. */
#include "peer_once.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer_once_entry {
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
    uint8_t family;   /* 4, 6, or 0 for anything else */
    unsigned topic;
    int64_t at; /* when noted; 0 = empty */
} peer_once_entry;

struct peer_once {
    pthread_mutex_t mu;
    int64_t ttl;
    unsigned n;
    peer_once_entry e[];
};

peer_once *peer_once_new(unsigned slots, int64_t ttl_ns) {
    if (slots == 0)
        slots = 1;
    peer_once *t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(t->e[0]));
    if (t == NULL)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->ttl = ttl_ns;
    t->n = slots;
    return t;
}

void peer_once_free(peer_once *t) {
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The key of sa: its family tag and address bytes. */
static void peer_once_key(const struct sockaddr *sa, peer_once_entry *k) {
    memset(k, 0, sizeof(*k));
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        k->family = 4;
        memcpy(k->addr, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        k->family = 6;
        memcpy(k->addr, &in6->sin6_addr, 16);
    }
}

int peer_once_first(peer_once *t, const struct sockaddr *sa, unsigned topic, int64_t now_ns) {
    if (t == NULL)
        return 1;
    peer_once_entry k;
    peer_once_key(sa, &k);
    k.topic = topic;
    k.at = now_ns != 0 ? now_ns : 1; /* 0 marks an empty entry */
    int first = 1;
    pthread_mutex_lock(&t->mu);
    peer_once_entry *victim = &t->e[0];
    for (unsigned i = 0; i < t->n; i++) {
        peer_once_entry *e = &t->e[i];
        if (e->at != 0 && e->family == k.family && e->topic == topic &&
            memcmp(e->addr, k.addr, sizeof(k.addr)) == 0) {
            victim = e;
            first = now_ns - e->at >= t->ttl;
            break;
        }
        if (e->at < victim->at) /* an empty entry (0) or the oldest */
            victim = e;
    }
    if (first)
        *victim = k;
    pthread_mutex_unlock(&t->mu);
    return first;
}
