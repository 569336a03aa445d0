/* workq.h - a fixed set of threads running queued jobs, in order.
 *
 * DESIGN
 * For work that may block for a while (a query) and must not block the
 * thread that received it (an event loop): the receiver submits a job and
 * goes on; one of the queue's threads runs it. The queue is bounded: a
 * submit past its capacity is refused at once, so the caller can answer
 * "busy" instead of piling work up.
 */
#ifndef LOUPE_WORKQ_H
#define LOUPE_WORKQ_H

#include <stddef.h>

typedef struct workq workq;

/* A job: called once on one of the queue's threads with its argument. */
typedef void (*workq_fn)(void *arg);

/* Starts `threads` threads (at least 1) named `name` (up to 15
 * characters, for top -H) and a queue of at most max_queued waiting jobs.
 * NULL when out of memory or threads cannot start. */
workq *workq_new(unsigned threads, size_t max_queued, const char *name);

/* Queues fn(arg). Returns 0, or -1 when the queue is full or stopping
 * (fn is then not called; arg stays the caller's). */
int workq_submit(workq *q, workq_fn fn, void *arg);

/* Jobs queued or running now. */
size_t workq_pending(workq *q);

/* Runs every job already queued, refuses new ones, joins the threads and
 * frees the queue. Accepts NULL. */
void workq_free(workq *q);

#endif
