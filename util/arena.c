/* arena.c - bump allocator, see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_CHUNK (64 * 1024)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned by the header's size (a multiple of 16) */
} arena_chunk;

struct arena {
    arena_chunk *head; /* current chunk; older ones follow */
    size_t chunk_size;
    size_t limit;
    size_t footprint;
    int limit_hit;
};

#define ARENA_HDR ((sizeof(arena_chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static unsigned char *arena_chunk_data(arena_chunk *c) {
    return (unsigned char *)c + ARENA_HDR;
}

static arena_chunk *arena_chunk_new(arena *a, size_t min) {
    size_t size = a->chunk_size;
    if (min > size)
        size = min;
    if (size > SIZE_MAX - ARENA_HDR)
        return NULL;
    if (a->limit && a->footprint + size + ARENA_HDR > a->limit) {
        a->limit_hit = 1;
        return NULL;
    }
    arena_chunk *c = malloc(ARENA_HDR + size);
    if (c == NULL)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    a->footprint += ARENA_HDR + size;
    return c;
}

arena *arena_new(size_t chunk_size, size_t limit) {
    arena *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
    a->limit = limit;
    return a;
}

void arena_free(arena *a) {
    if (a == NULL)
        return;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void arena_reset(arena *a) {
    if (a == NULL || a->head == NULL)
        return;
    /* Keep the oldest chunk: it has the configured size. */
    arena_chunk *c = a->head, *keep = NULL;
    while (c) {
        arena_chunk *next = c->next;
        if (next == NULL)
            keep = c;
        else
            free(c);
        c = next;
    }
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->footprint = ARENA_HDR + keep->size;
}

void *arena_alloc(arena *a, size_t n) {
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        return NULL;
    arena_chunk *c = a->head;
    if (c == NULL || c->size - c->used < need) {
        /* A large request gets a chunk of its own, so the current chunk's
         * free tail is not wasted for the next small ones. */
        if (c != NULL && need > a->chunk_size / 4) {
            arena_chunk *big;
            size_t size = need;
            if (a->limit && a->footprint + size + ARENA_HDR > a->limit) {
                a->limit_hit = 1;
                return NULL;
            }
            big = malloc(ARENA_HDR + size);
            if (big == NULL)
                return NULL;
            big->size = size;
            big->used = size;
            big->next = c->next;
            c->next = big;
            a->footprint += ARENA_HDR + size;
            return arena_chunk_data(big);
        }
        c = arena_chunk_new(a, need);
        if (c == NULL)
            return NULL;
    }
    void *p = arena_chunk_data(c) + c->used;
    c->used += need;
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t len) {
    if (len == SIZE_MAX)
        return NULL;
    char *p = arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int arena_limit_hit(const arena *a) {
    return a ? a->limit_hit : 0;
}

size_t arena_footprint(const arena *a) {
    return a ? a->footprint : 0;
}
