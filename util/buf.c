/* buf.c - growable byte buffer with a hard cap, see buf.h. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t max) {
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(buf *b) {
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(buf *b) {
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

int buf_reserve(buf *b, size_t n) {
    if (n > b->max || b->len > b->max - n)
        return BUF_ETOOBIG;
    size_t need = b->len + n + 1; /* room for the NUL */
    if (need <= b->cap)
        return BUF_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->ptr, cap);
    if (p == NULL)
        return BUF_ENOMEM;
    b->ptr = p;
    b->cap = cap;
    return BUF_OK;
}

int buf_append(buf *b, const void *data, size_t n) {
    int rc = buf_reserve(b, n);
    if (rc != BUF_OK)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return BUF_OK;
}

int buf_append_str(buf *b, const char *s) {
    return buf_append(b, s, strlen(s));
}

int buf_append_char(buf *b, char c) {
    return buf_append(b, &c, 1);
}

int buf_vprintf(buf *b, const char *fmt, va_list ap) {
    va_list copy;
    char small[256];
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0)
        return BUF_ENOMEM;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc != BUF_OK)
        return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return BUF_OK;
}

int buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_detach(buf *b, size_t *len) {
    char *p = b->ptr;
    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *buf_strerror(int code) {
    switch (code) {
    case BUF_OK:
        return "ok";
    case BUF_ENOMEM:
        return "out of memory";
    case BUF_ETOOBIG:
        return "size limit exceeded";
    default:
        return "unknown buffer error";
    }
}
