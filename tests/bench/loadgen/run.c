/* run.c - the load generator's run: generator threads fill a bounded queue
 * of encoded requests; connections take them until the deadline or the
 * request count is reached; --rate assigns each request its due time. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "util/clk.h"

struct lg_run {
    lg_run_cfg cfg;
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    lg_body **q; /* ring of cfg.queue_cap */
    size_t head, n;
    uint64_t reserved; /* requests the generators have started (<= max_requests) */
    uint64_t taken;    /* requests handed to connections */
    int over;          /* no more requests will be handed out */
    int stop;          /* generators must end */
    int64_t t0, deadline;
    int64_t interval_ns; /* between due times, with --rate */
    lg_body *repeat;
    lg_gen_stats gs;
    pthread_t *threads;
    int n_threads;
};

typedef struct gen_arg {
    lg_run *r;
    int index;
} gen_arg;

int64_t lg_now_ns(void) {
    return clk_ns(CLOCK_MONOTONIC);
}

int64_t lg_run_t0(const lg_run *r) {
    return r->t0;
}

int64_t lg_run_drain_deadline(lg_run *r) {
    pthread_mutex_lock(&r->mu);
    int64_t d = r->deadline + 60 * 1000000000LL;
    pthread_mutex_unlock(&r->mu);
    return d;
}

static void body_free(lg_body *b) {
    if (b == NULL)
        return;
    free(b->data);
    free(b);
}

/* Waits on c until signalled or for at most ms milliseconds. */
static void cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *mu, long ms) {
    struct timespec ts;
    clk_deadline(CLOCK_MONOTONIC, ms, &ts);
    int rc = pthread_cond_timedwait(c, mu, &ts);
    (void)rc; /* a timeout or a wakeup: the caller looks again */
}

lg_run *lg_run_new(const lg_run_cfg *cfg) {
    lg_run *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->cfg = *cfg;
    if (r->cfg.queue_cap < 2)
        r->cfg.queue_cap = 2;
    r->q = calloc(r->cfg.queue_cap, sizeof(*r->q));
    r->threads = calloc((size_t)(cfg->gen_threads > 0 ? cfg->gen_threads : 1), sizeof(pthread_t));
    if (r->q == NULL || r->threads == NULL) {
        free(r->q);
        free(r->threads);
        free(r);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->nonempty, &ca);
    pthread_cond_init(&r->nonfull, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->rate > 0)
        r->interval_ns = (int64_t)(1e9 * (double)cfg->items / cfg->rate);
    return r;
}

/* 1 when the run must hand out nothing more; under r->mu. */
static int run_ended(lg_run *r, int64_t now) {
    if (r->over || r->stop)
        return 1;
    if (r->t0 != 0 && now >= r->deadline)
        r->over = 1;
    if (r->cfg.max_requests > 0 && r->taken >= r->cfg.max_requests)
        r->over = 1;
    return r->over;
}

static void *gen_main(void *arg) {
    gen_arg *ga = arg;
    lg_run *r = ga->r;
    uint64_t seed = r->cfg.seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(ga->index + 1);
    lg_gen *g = lg_gen_new(r->cfg.sig, LG_WORLD_SEED, seed, r->cfg.items);
    if (g == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    uint64_t requests = 0, items = 0, bytes = 0;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int go = !r->stop && !run_ended(r, lg_now_ns()) &&
                 (r->cfg.max_requests == 0 || r->reserved < r->cfg.max_requests);
        if (go)
            r->reserved++;
        pthread_mutex_unlock(&r->mu);
        if (!go)
            break;
        lg_body *b = calloc(1, sizeof(*b));
        if (b == NULL || lg_gen_next(g, b) != 0) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(1);
        }
        requests++;
        items += b->items;
        bytes += b->len;
        pthread_mutex_lock(&r->mu);
        while (r->n == r->cfg.queue_cap && !r->stop && !run_ended(r, lg_now_ns()))
            cond_wait_ms(&r->nonfull, &r->mu, 100);
        if (r->n < r->cfg.queue_cap && !r->stop && !r->over) {
            r->q[(r->head + r->n) % r->cfg.queue_cap] = b;
            r->n++;
            b = NULL;
            pthread_cond_signal(&r->nonempty);
        }
        pthread_mutex_unlock(&r->mu);
        body_free(b); /* the run ended while it waited */
    }
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    pthread_mutex_lock(&r->mu);
    r->gs.requests += requests;
    r->gs.items += items;
    r->gs.bytes += bytes;
    r->gs.cpu_ns += (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    pthread_mutex_unlock(&r->mu);
    lg_gen_free(g);
    free(ga);
    return NULL;
}

int lg_run_start(lg_run *r) {
    if (r->cfg.repeat) {
        /* one request, built and encoded once */
        lg_gen *g = lg_gen_new(r->cfg.sig, LG_WORLD_SEED, r->cfg.seed, r->cfg.items);
        r->repeat = calloc(1, sizeof(*r->repeat));
        if (g == NULL || r->repeat == NULL || lg_gen_next(g, r->repeat) != 0) {
            fprintf(stderr, "loadgen: out of memory\n");
            lg_gen_free(g);
            return -1;
        }
        lg_gen_free(g);
        r->gs.requests = 1;
        r->gs.items = r->repeat->items;
        r->gs.bytes = r->repeat->len;
    } else {
        for (int i = 0; i < r->cfg.gen_threads; i++) {
            gen_arg *ga = malloc(sizeof(*ga));
            if (ga == NULL)
                return -1;
            ga->r = r;
            ga->index = i;
            int rc = pthread_create(&r->threads[i], NULL, gen_main, ga);
            if (rc != 0) {
                fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
                free(ga);
                return -1;
            }
            r->n_threads++;
        }
    }
    /* let the queue fill before the clock starts (bounded) */
    int64_t limit = lg_now_ns() + 30 * 1000000000LL;
    pthread_mutex_lock(&r->mu);
    while (!r->cfg.repeat && r->n < r->cfg.queue_cap &&
           (r->cfg.max_requests == 0 || r->n < r->cfg.max_requests) && lg_now_ns() < limit)
        cond_wait_ms(&r->nonempty, &r->mu, 50);
    r->t0 = lg_now_ns();
    r->deadline = r->t0 + (int64_t)(r->cfg.duration_s * 1e9);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

lg_body *lg_run_take(lg_run *r, int wait_ms, int64_t *sched_ns) {
    *sched_ns = 0;
    pthread_mutex_lock(&r->mu);
    int64_t give_up = wait_ms < 0 ? INT64_MAX : lg_now_ns() + (int64_t)wait_ms * 1000000;
    lg_body *b = NULL;
    for (;;) {
        int64_t now = lg_now_ns();
        if (run_ended(r, now))
            break;
        if (r->repeat != NULL) {
            b = r->repeat;
            break;
        }
        if (r->n > 0) {
            b = r->q[r->head];
            r->head = (r->head + 1) % r->cfg.queue_cap;
            r->n--;
            pthread_cond_signal(&r->nonfull);
            break;
        }
        if (now >= give_up)
            break;
        int64_t until = give_up < r->deadline ? give_up : r->deadline;
        long ms = (long)((until - now) / 1000000) + 1;
        cond_wait_ms(&r->nonempty, &r->mu, ms > 100 ? 100 : ms);
        r->gs.starved_ns += lg_now_ns() - now;
    }
    if (b != NULL) {
        if (r->interval_ns > 0) {
            *sched_ns = r->t0 + (int64_t)r->taken * r->interval_ns;
            if (*sched_ns >= r->deadline) {
                r->over = 1;
                if (b != r->repeat)
                    body_free(b);
                b = NULL;
                *sched_ns = 0;
            }
        }
        if (b != NULL)
            r->taken++;
    }
    pthread_mutex_unlock(&r->mu);
    return b;
}

void lg_run_release(lg_run *r, lg_body *b) {
    if (b != NULL && b != r->repeat)
        body_free(b);
}

int lg_run_over(lg_run *r) {
    pthread_mutex_lock(&r->mu);
    int over = run_ended(r, lg_now_ns());
    pthread_mutex_unlock(&r->mu);
    return over;
}

void lg_run_finish(lg_run *r, lg_gen_stats *out) {
    pthread_mutex_lock(&r->mu);
    r->over = 1;
    r->stop = 1;
    pthread_cond_broadcast(&r->nonfull);
    pthread_cond_broadcast(&r->nonempty);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->n_threads; i++)
        pthread_join(r->threads[i], NULL);
    r->n_threads = 0;
    *out = r->gs;
}

void lg_run_free(lg_run *r) {
    if (r == NULL)
        return;
    while (r->n > 0) {
        body_free(r->q[r->head]);
        r->head = (r->head + 1) % r->cfg.queue_cap;
        r->n--;
    }
    body_free(r->repeat);
    pthread_cond_destroy(&r->nonempty);
    pthread_cond_destroy(&r->nonfull);
    pthread_mutex_destroy(&r->mu);
    free(r->q);
    free(r->threads);
    free(r);
}
