/* gz.h - bounded gzip decompression for request bodies.
 *
 * The output grows in a buf whose cap is the limit after decompression, so a
 * gzip bomb stops at the cap with GZ_ETOOBIG instead of exhausting memory.
 */
#ifndef LOUPE_GZ_H
#define LOUPE_GZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define GZ_OK 0
#define GZ_EDATA -1   /* not valid gzip (or zlib) data, or truncated */
#define GZ_ETOOBIG -2 /* output would exceed out->max */
#define GZ_ENOMEM -3

/* Inflates a whole gzip stream (concatenated members allowed) from in and
 * appends the result to out. */
int gz_inflate(const uint8_t *in, size_t len, buf *out);

/* Compresses in as one gzip member appended to out (level 1..9). */
int gz_deflate(const uint8_t *in, size_t len, int level, buf *out);

const char *gz_strerror(int code);

#endif
