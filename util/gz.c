/* gz.c - bounded gzip in and out over zlib, see gz.h. */
#include "gz.h"

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

int gz_deflate(const uint8_t *in, size_t len, int level, buf *out) {
    z_stream zs;
    int rc = GZ_OK;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return GZ_ENOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    size_t left = len;
    int z;
    do {
        if (zs.avail_in == 0 && left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            zs.avail_in = chunk;
            left -= chunk;
        }
        size_t room = out->max - out->len;
        size_t step = room < GZ_STEP ? room : GZ_STEP;
        if (step == 0) {
            rc = GZ_ETOOBIG;
            goto out;
        }
        int brc = buf_reserve(out, step);
        if (brc != BUF_OK) {
            rc = brc == BUF_ETOOBIG ? GZ_ETOOBIG : GZ_ENOMEM;
            goto out;
        }
        zs.next_out = (Bytef *)out->ptr + out->len;
        zs.avail_out = (uInt)step;
        z = deflate(&zs, left > 0 ? Z_NO_FLUSH : Z_FINISH);
        out->len += step - zs.avail_out;
        out->ptr[out->len] = '\0';
        if (z == Z_STREAM_ERROR) {
            rc = GZ_ENOMEM;
            goto out;
        }
    } while (z != Z_STREAM_END);
out:
    deflateEnd(&zs);
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
