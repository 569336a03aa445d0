/* arena.h - a bump allocator: many small allocations, one free.
 *
 * An arena hands out memory from large chunks and releases it all at once
 * with arena_free() or arena_reset(). Every decoded OTLP batch lives in one
 * arena, so the batch is freed in O(chunks) however many strings it holds.
 * An arena is not thread-safe; it is owned by one thread at a time and may be
 * handed to another with the batch that lives in it.
 *
 * Out-of-memory policy: every allocating call returns NULL (or -1) and the
 * arena stays usable; callers turn that into a retryable error.
 */
#ifndef LOUPE_ARENA_H
#define LOUPE_ARENA_H

#include <stddef.h>

typedef struct arena arena;

/* Creates an arena whose chunks are at least chunk_size bytes (0 = 64 KiB).
 * `limit` caps the total bytes the arena may hold (0 = no cap); past it every
 * allocation fails. Returns NULL on out of memory. */
arena *arena_new(size_t chunk_size, size_t limit);

/* Frees every chunk and the arena itself. Accepts NULL. */
void arena_free(arena *a);

/* Forgets every allocation but keeps the first chunk for reuse. */
void arena_reset(arena *a);

/* Returns n bytes aligned to 16, or NULL when out of memory or over the cap.
 * The memory is not zeroed; see arena_calloc(). n may be 0. */
void *arena_alloc(arena *a, size_t n);

/* As arena_alloc() for count * size bytes, zeroed; NULL on overflow too. */
void *arena_calloc(arena *a, size_t count, size_t size);

/* Copies len bytes of s and adds a NUL. Returns NULL on out of memory. */
char *arena_strndup(arena *a, const char *s, size_t len);

/* 1 when an allocation has been refused because of the arena's cap (as
 * opposed to the system being out of memory). */
int arena_limit_hit(const arena *a);

/* Bytes reserved from the system by this arena (chunks), for accounting. */
size_t arena_footprint(const arena *a);

#endif
