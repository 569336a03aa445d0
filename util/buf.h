/* buf.h - a growable byte buffer with a hard size cap.
 *
 * Bodies, decompressed payloads and JSON output all grow in a buf. Every buf
 * has a maximum size fixed at init; an append past it fails with BUF_ETOOBIG
 * and leaves the contents as they were, so a hostile peer can never make a
 * buffer grow without limit. The contents are always NUL-terminated (the NUL
 * is not counted in len) once anything has been appended.
 */
#ifndef LOUPE_BUF_H
#define LOUPE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_OK 0
#define BUF_ENOMEM -1
#define BUF_ETOOBIG -2

typedef struct buf {
    char *ptr;  /* owned; NULL until the first append */
    size_t len; /* bytes used, not counting the trailing NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
} buf;

/* Prepares an empty buffer that may hold at most max bytes. */
void buf_init(buf *b, size_t max);

/* Releases the memory; the buf is empty and reusable afterwards. */
void buf_free(buf *b);

/* Empties the buffer and keeps its memory. */
void buf_reset(buf *b);

/* Makes room for n more bytes. Returns BUF_OK, BUF_ENOMEM or BUF_ETOOBIG. */
int buf_reserve(buf *b, size_t n);

int buf_append(buf *b, const void *data, size_t n);
int buf_append_str(buf *b, const char *s);
int buf_append_char(buf *b, char c);

/* printf-style append. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Hands the memory to the caller (free() it) and leaves the buf empty. May
 * return NULL for a buffer that never held anything. */
char *buf_detach(buf *b, size_t *len);

/* Error text for a BUF_* code. */
const char *buf_strerror(int code);

#endif
