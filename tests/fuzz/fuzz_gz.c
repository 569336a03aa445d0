/* fuzz_gz.c - libFuzzer target for bounded gzip decompression (gz_inflate).
 *
 * Input: byte 0 picks the output cap (byte * 61: 0 to 15,555 bytes, so
 * small that bombs and exact fits are common), byte 1 how many bytes the buf
 * already holds (low 4 bits; gz_inflate appends) and a deflate level (high
 * 4 bits). The rest is the compressed body.
 *
 * Checked beyond "no crash, no sanitizer report", against a reference that
 * inflates the whole body in one zlib call with room for one byte more than
 * the cap:
 *  - the code: GZ_OK exactly when the body is complete gzip/zlib members
 *    whose output fits, GZ_ETOOBIG exactly when the output would pass the
 *    cap before any error, GZ_EDATA otherwise;
 *  - on GZ_OK, the appended bytes equal the reference output; always, the
 *    buf never passes its cap, the bytes it held stay, and it stays
 *    NUL-terminated;
 *  - gz_deflate() of the body inflates back to the body, under an ample cap;
 *    under a small cap it fits or says GZ_ETOOBIG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/buf.h"
#include "util/gz.h"
#include "model_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The expected outcome of gz_inflate(in, len) with `room` bytes left:
 * the output goes to out (room + 1 bytes). */
static int fz_ref_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t room,
                          size_t *outlen) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    MC_CHECK(inflateInit2(&zs, 15 + 32) == Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)(room + 1);
    int rc = GZ_EDATA;
    /* Every call makes progress or ends the loop; the bound is a guard. */
    for (size_t guard = 0; guard <= len + room + 2; guard++) {
        int z = inflate(&zs, Z_NO_FLUSH);
        if ((size_t)(zs.next_out - out) > room) {
            rc = GZ_ETOOBIG;
            break;
        }
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0) {
                rc = GZ_OK;
                break;
            }
            MC_CHECK(inflateReset(&zs) == Z_OK); /* another member follows */
            continue;
        }
        if (z == Z_OK && zs.avail_in > 0)
            continue;
        rc = GZ_EDATA; /* truncated, corrupt, or a preset dictionary */
        break;
    }
    *outlen = (size_t)(zs.next_out - out);
    inflateEnd(&zs);
    return rc;
}

static void fz_check_buf(const buf *b) {
    MC_CHECK(b->len <= b->max);
    if (b->ptr != NULL) {
        MC_CHECK(b->len < b->cap);
        MC_CHECK(b->ptr[b->len] == '\0');
    }
}

static void fz_check_inflate(const uint8_t *in, size_t len, size_t cap, size_t prefill) {
    static const char fill[] = "0123456789abcdef";
    buf out;
    buf_init(&out, cap);
    if (prefill > 0)
        MC_CHECK(buf_append(&out, fill, prefill) == BUF_OK);
    size_t room = cap - prefill;

    uint8_t *ref = malloc(room + 1);
    MC_CHECK(ref != NULL);
    size_t ref_len = 0;
    int want = fz_ref_inflate(in, len, ref, room, &ref_len);

    int rc = gz_inflate(in, len, &out);
    if (rc != want)
        fprintf(stderr, "gz_inflate: %d (%s), reference: %d; cap %zu, prefill %zu\n", rc,
                gz_strerror(rc), want, cap, prefill);
    MC_CHECK(rc == want);
    MC_CHECK(gz_strerror(rc) != NULL);
    fz_check_buf(&out);
    MC_CHECK(out.len >= prefill);
    if (prefill > 0)
        MC_CHECK(memcmp(out.ptr, fill, prefill) == 0);
    if (rc == GZ_OK) {
        MC_CHECK(out.len - prefill == ref_len);
        if (ref_len > 0)
            MC_CHECK(memcmp(out.ptr + prefill, ref, ref_len) == 0);
    }
    free(ref);
    buf_free(&out);
}

/* gz_deflate, then gz_inflate back. max 0 means an ample cap. */
static void fz_check_roundtrip(const uint8_t *in, size_t len, int level, size_t max) {
    buf z;
    int ample = max == 0;
    /* Stored blocks cost 5 bytes per 16 KiB at worst, gzip 18 bytes. */
    buf_init(&z, ample ? len + len / 64 + 64 : max);
    int rc = gz_deflate(in, len, level, &z);
    fz_check_buf(&z);
    if (ample)
        MC_CHECK(rc == GZ_OK);
    else
        MC_CHECK(rc == GZ_OK || rc == GZ_ETOOBIG);
    if (rc == GZ_OK) {
        buf back;
        buf_init(&back, len);
        MC_CHECK(gz_inflate((const uint8_t *)z.ptr, z.len, &back) == GZ_OK);
        fz_check_buf(&back);
        MC_CHECK(back.len == len);
        if (len > 0)
            MC_CHECK(memcmp(back.ptr, in, len) == 0);
        buf_free(&back);
    }
    buf_free(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    size_t cap = (size_t)data[0] * 61;
    size_t prefill = data[1] & 0x0f;
    if (prefill > cap)
        prefill = cap;
    int level = 1 + (data[1] >> 4) % 9;
    data += 2;
    size -= 2;

    fz_check_inflate(data, size, cap, prefill);
    fz_check_roundtrip(data, size, level, 0);
    fz_check_roundtrip(data, size, level, cap);
    return 0;
}
