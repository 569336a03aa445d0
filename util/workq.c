/* workq.c - a fixed set of threads running queued jobs, see workq.h. */
#include "workq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct workq_job {
    workq_fn fn;
    void *arg;
} workq_job;

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    workq_job *jobs; /* a ring of cap slots */
    size_t cap, head, n;
    size_t running;
    int stopping;
    pthread_t *threads;
    unsigned nthreads;
};

static void *workq_main(void *p) {
    workq *q = p;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->n == 0 && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->n == 0)
            break; /* stopping, and nothing left */
        workq_job j = q->jobs[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->running++;
        pthread_mutex_unlock(&q->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&q->mu);
        q->running--;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

workq *workq_new(unsigned threads, size_t max_queued, const char *name) {
    if (threads == 0)
        threads = 1;
    if (max_queued == 0)
        max_queued = 1;
    workq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->jobs = calloc(max_queued, sizeof(*q->jobs));
    q->threads = calloc(threads, sizeof(*q->threads));
    if (q->jobs == NULL || q->threads == NULL) {
        free(q->jobs);
        free(q->threads);
        free(q);
        return NULL;
    }
    q->cap = max_queued;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[i], NULL, workq_main, q) != 0)
            break;
        q->nthreads++;
        if (name != NULL) {
            char tn[16];
            snprintf(tn, sizeof(tn), "%s", name);
            pthread_setname_np(q->threads[i], tn);
        }
    }
    if (q->nthreads == 0) {
        workq_free(q);
        return NULL;
    }
    return q;
}

int workq_submit(workq *q, workq_fn fn, void *arg) {
    if (q == NULL || fn == NULL)
        return -1;
    pthread_mutex_lock(&q->mu);
    if (q->stopping || q->n == q->cap) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    q->jobs[(q->head + q->n) % q->cap] = (workq_job){fn, arg};
    q->n++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

size_t workq_pending(workq *q) {
    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    size_t n = q->n + q->running;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void workq_free(workq *q) {
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->jobs);
    free(q->threads);
    free(q);
}
