/* gz.c - bounded gzip in and out over zlib, see gz.h. */
#include "gz.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZ_STEP (64 * 1024)

int gz_inflate(const uint8_t *in, size_t len, buf *out) {
    z_stream zs;
    int rc = GZ_OK;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 32: accept gzip or zlib headers, detected automatically. */
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return GZ_ENOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    size_t left = len;
    for (;;) {
        if (zs.avail_in == 0 && left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            zs.avail_in = chunk;
            left -= chunk;
        }
        size_t room = out->max - out->len;
        if (room == 0) {
            /* The cap is reached: it is a bomb only if more output follows. */
            unsigned char probe;
            zs.next_out = &probe;
            zs.avail_out = 1;
            int z = inflate(&zs, Z_NO_FLUSH);
            if (zs.avail_out == 0) {
                rc = GZ_ETOOBIG;
                goto out;
            }
            if (z == Z_STREAM_END && zs.avail_in == 0 && left == 0)
                goto out;
            if (z == Z_STREAM_END) {
                inflateReset(&zs);
                continue;
            }
            rc = GZ_EDATA;
            goto out;
        }
        size_t step = room < GZ_STEP ? room : GZ_STEP;
        int brc = buf_reserve(out, step);
        if (brc != BUF_OK) {
            rc = brc == BUF_ETOOBIG ? GZ_ETOOBIG : GZ_ENOMEM;
            goto out;
        }
        zs.next_out = (Bytef *)out->ptr + out->len;
        zs.avail_out = (uInt)step;
        int z = inflate(&zs, Z_NO_FLUSH);
        out->len += step - zs.avail_out;
        out->ptr[out->len] = '\0';
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0 && left == 0)
                goto out;
            /* Another member may follow (gzip allows concatenation). */
            if (inflateReset(&zs) != Z_OK) {
                rc = GZ_EDATA;
                goto out;
            }
            continue;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
            rc = GZ_EDATA; /* truncated */
            goto out;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = z == Z_MEM_ERROR ? GZ_ENOMEM : GZ_EDATA;
            goto out;
        }
    }
out:
    inflateEnd(&zs);
    return rc;
}

struct gz_writer {
    z_stream zs;
    int finished;
};

gz_writer *gz_writer_new(int level) {
    gz_writer *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    /* 15 + 16: a gzip header and trailer around the deflate data */
    if (deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return NULL;
    }
    return g;
}

void gz_writer_free(gz_writer *g) {
    if (g == NULL)
        return;
    deflateEnd(&g->zs);
    free(g);
}

int gz_writer_write(gz_writer *g, const uint8_t *in, size_t len, int finish, buf *out) {
    if (g->finished)
        return len == 0 ? GZ_OK : GZ_EDATA;
    z_stream *zs = &g->zs;
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = 0;
    size_t left = len;
    for (;;) {
        if (zs->avail_in == 0 && left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            zs->avail_in = chunk;
            left -= chunk;
        }
        int last = left == 0 && finish;
        size_t room = out->max - out->len;
        size_t step = room < GZ_STEP ? room : GZ_STEP;
        if (step == 0)
            return GZ_ETOOBIG;
        int brc = buf_reserve(out, step);
        if (brc != BUF_OK)
            return brc == BUF_ETOOBIG ? GZ_ETOOBIG : GZ_ENOMEM;
        zs->next_out = (Bytef *)out->ptr + out->len;
        zs->avail_out = (uInt)step;
        int z = deflate(zs, last ? Z_FINISH : Z_NO_FLUSH);
        out->len += step - zs->avail_out;
        out->ptr[out->len] = '\0';
        if (z == Z_STREAM_ERROR)
            return GZ_ENOMEM;
        if (z == Z_STREAM_END) {
            g->finished = 1;
            return GZ_OK;
        }
        /* all input taken and deflate kept what it could not yet emit */
        if (!last && left == 0 && zs->avail_in == 0 && zs->avail_out > 0)
            return GZ_OK;
    }
}

int gz_deflate(const uint8_t *in, size_t len, int level, buf *out) {
    gz_writer *g = gz_writer_new(level);
    if (g == NULL)
        return GZ_ENOMEM;
    int rc = gz_writer_write(g, in, len, 1, out);
    gz_writer_free(g);
    return rc;
}

const char *gz_strerror(int code) {
    switch (code) {
    case GZ_OK:
        return "ok";
    case GZ_EDATA:
        return "invalid or truncated gzip data";
    case GZ_ETOOBIG:
        return "decompressed body exceeds the size limit";
    case GZ_ENOMEM:
        return "out of memory";
    default:
        return "unknown gzip error";
    }
}
