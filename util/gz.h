/* gz.h - bounded gzip decompression for request bodies, and gzip
 * compression of answers, whole or as a stream.
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

/* One gzip member written piece by piece: each call appends to out what
 * the compressor has ready (possibly nothing); the call with finish set
 * flushes the rest and the trailer, after which only empty writes are
 * accepted. The writer owns zlib's state (some 256 KiB); gz_writer_free
 * accepts NULL. gz_writer_new returns NULL when memory is short. */
typedef struct gz_writer gz_writer;
gz_writer *gz_writer_new(int level);
int gz_writer_write(gz_writer *g, const uint8_t *in, size_t len, int finish, buf *out);
void gz_writer_free(gz_writer *g);

const char *gz_strerror(int code);

#endif
