/* grpc_hub.c - the gRPC receiver's completion hub: store callbacks to the loop.
 *
 * The store's writer thread calls grpc_hub_store_done() once per append;
 * it queues the record and writes the hub's eventfd, and the loop takes the
 * queue (grpc_hub_take). The hub is reference counted by the server and by
 * every append still in the store, so a callback that arrives after the
 * server has stopped touches only the hub, never freed memory.
 */
#include "grpc_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void grpc_hub_free_list(grpc_done *d) {
    while (d) {
        grpc_done *next = d->next;
        free(d);
        d = next;
    }
}

static void grpc_hub_free(grpc_hub *h) {
    grpc_hub_free_list(h->head);
    if (h->efd >= 0)
        close(h->efd);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

grpc_hub *grpc_hub_new(char *err, size_t errlen) {
    grpc_hub *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    h->refs = 1;
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        grpc_hub_free(h);
        return NULL;
    }
    return h;
}

/* Call with h->mu held: the hub cannot be freed before it returns. */
static void grpc_hub_wake(grpc_hub *h) {
    uint64_t one = 1;
    ssize_t n = write(h->efd, &one, sizeof(one));
    (void)n; /* EAGAIN only when the counter is saturated: a wake-up is pending anyway */
}

void grpc_hub_notify(grpc_hub *h) {
    pthread_mutex_lock(&h->mu);
    grpc_hub_wake(h);
    pthread_mutex_unlock(&h->mu);
}

grpc_done *grpc_hub_expect(grpc_hub *h, uint64_t conn_id, int32_t stream_id) {
    grpc_done *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->hub = h;
    d->conn_id = conn_id;
    d->stream_id = stream_id;
    pthread_mutex_lock(&h->mu);
    assert(!h->closed); /* only the loop appends, and only while the server lives */
    h->refs++;
    h->appends++;
    pthread_mutex_unlock(&h->mu);
    return d;
}

void grpc_hub_cancel(grpc_done *d) {
    grpc_hub *h = d->hub;
    pthread_mutex_lock(&h->mu);
    assert(h->refs > 1 && h->appends > 0); /* the server still holds its own */
    h->refs--;
    h->appends--;
    pthread_mutex_unlock(&h->mu);
    free(d);
}

/* Called by the store's writer thread, once per successful append. */
void grpc_hub_store_done(void *ud, int status, const model_batch *b) {
    grpc_done *d = ud;
    grpc_hub *h = d->hub;
    recv_count_committed(&h->rc, status, b);
    d->status = status;
    d->next = NULL;
    pthread_mutex_lock(&h->mu);
    assert(h->refs > 0 && h->appends > 0); /* this append's reference is still held */
    int closed = h->closed;
    if (!closed) {
        if (h->tail)
            h->tail->next = d;
        else
            h->head = d;
        h->tail = d;
        grpc_hub_wake(h);
    }
    h->appends--;
    int last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (closed)
        free(d);
    if (last)
        grpc_hub_free(h);
}

void grpc_hub_release(grpc_hub *h) {
    pthread_mutex_lock(&h->mu);
    h->closed = 1;
    grpc_done *d = h->head;
    h->head = h->tail = NULL;
    int last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    grpc_hub_free_list(d);
    if (last)
        grpc_hub_free(h);
}

grpc_done *grpc_hub_take(grpc_hub *h) {
    uint64_t cnt;
    if (h->efd >= 0) {
        ssize_t n = read(h->efd, &cnt, sizeof(cnt));
        (void)n;
    }
    pthread_mutex_lock(&h->mu);
    grpc_done *d = h->head;
    h->head = h->tail = NULL;
    pthread_mutex_unlock(&h->mu);
    return d;
}

unsigned grpc_hub_appends(grpc_hub *h) {
    pthread_mutex_lock(&h->mu);
    unsigned n = h->appends;
    pthread_mutex_unlock(&h->mu);
    return n;
}
