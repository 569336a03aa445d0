/* fuzz_grpc_frame.c - libFuzzer target for the gRPC message parser.
 *
 * Input: byte 0 picks the size limit, byte 1 the chunk size, the rest is the
 * request body. The body is fed in chunks and every event is checked against
 * a simple whole-buffer reference parse (differential), plus the parser's
 * own promises: consumed <= offered, errors consume everything, messages
 * never exceed the limit, nothing is buffered beyond the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/receive/grpc_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)         \
    do {                 \
        if (!(x))        \
            abort();     \
    } while (0)

/* Reference: the outcome of parsing the whole body at once. */
typedef struct ref_msg {
    size_t off, len;
    int compressed;
} ref_msg;

static size_t ref_parse(const uint8_t *d, size_t n, size_t max, ref_msg *out, size_t cap,
                        int *err) {
    size_t pos = 0, k = 0;
    *err = 0;
    while (n - pos >= 5 && k < cap) {
        if (d[pos] > 1) {
            *err = GRPC_FRAME_EFLAGS;
            return k;
        }
        uint32_t len = (uint32_t)d[pos + 1] << 24 | (uint32_t)d[pos + 2] << 16 |
                       (uint32_t)d[pos + 3] << 8 | d[pos + 4];
        if (len > max) {
            *err = GRPC_FRAME_ETOOBIG;
            return k;
        }
        if (n - pos - 5 < len)
            return k;
        out[k].off = pos + 5;
        out[k].len = len;
        out[k].compressed = d[pos];
        k++;
        pos += 5 + len;
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    size_t max = (size_t)data[0] * 37;
    size_t chunk = (size_t)data[1] + 1;
    data += 2;
    size -= 2;

    ref_msg ref[4096];
    int ref_err = 0;
    size_t nref = ref_parse(data, size, max, ref, 4096, &ref_err);
    if (nref == 4096)
        return 0; /* beyond what the reference tracks */

    grpc_frame f;
    grpc_frame_init(&f, max);
    size_t got = 0;
    int err = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        const uint8_t *p = data + pos;
        size_t left = n;
        while (left > 0) {
            size_t used = 0;
            grpc_frame_msg m;
            int rc = grpc_frame_feed(&f, p, left, &used, &m);
            CHECK(used <= left);
            CHECK(f.body.len <= max);
            if (rc < 0) {
                CHECK(used == left);
                CHECK(err == 0 || err == rc);
                err = rc;
            } else if (rc == GRPC_FRAME_NEED_MORE) {
                CHECK(used == left);
            } else if (rc == GRPC_FRAME_HEADER) {
                CHECK(grpc_frame_declared(&f) > 0 && grpc_frame_declared(&f) <= max);
            } else {
                CHECK(rc == GRPC_FRAME_MSG);
                CHECK(got < nref);
                CHECK(m.len == ref[got].len);
                CHECK(m.compressed == ref[got].compressed);
                CHECK(m.data != NULL);
                CHECK(memcmp(m.data, data + ref[got].off, m.len) == 0);
                if (got & 1) { /* exercise take() too */
                    size_t tl = 0;
                    uint8_t *t = grpc_frame_take(&f, &tl);
                    CHECK(tl == m.len);
                    CHECK((t == NULL) == (tl == 0));
                    free(t);
                }
                got++;
            }
            p += used;
            left -= used;
        }
        pos += n;
    }
    CHECK(got == nref);
    CHECK(err == ref_err);
    grpc_frame_free(&f);
    return 0;
}
