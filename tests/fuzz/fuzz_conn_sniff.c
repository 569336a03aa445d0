/* fuzz_conn_sniff.c - libFuzzer target for the first-bytes protocol check
 * (conn_sniff), which reads whatever a client sends to an OTLP port first.
 *
 * Input: the bytes a client sends. Checked beyond "no crash, no sanitizer
 * report", on every prefix of the input:
 *  - an answer other than "more" never changes as more bytes come;
 *  - CONN_SNIFF_MAX bytes always decide;
 *  - the answer agrees with a plain reference: "PRI " starts HTTP/2, 0x16
 *    0x03 TLS, 1 to 20 token characters and a space HTTP/1.x.
 */
#include <stdint.h>
#include <string.h>

#include "model_check.h"
#include "server/net/conn_sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ref_tchar(uint8_t c) {
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return 1;
    for (size_t i = 0; i < sizeof(extra) - 1; i++)
        if (c == (uint8_t)extra[i])
            return 1;
    return 0;
}

/* The answer for a complete (long enough) input. */
static conn_sniff_kind ref_decide(const uint8_t *p, size_t n) {
    if (n >= 4 && memcmp(p, "PRI ", 4) == 0)
        return CONN_SNIFF_H2;
    if (n >= 2 && p[0] == 0x16)
        return p[1] == 0x03 ? CONN_SNIFF_TLS : CONN_SNIFF_OTHER;
    size_t i = 0;
    while (i < n && i < 20 && ref_tchar(p[i]))
        i++;
    return i > 0 && i < n && p[i] == ' ' ? CONN_SNIFF_HTTP1 : CONN_SNIFF_OTHER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    conn_sniff_kind decided = CONN_SNIFF_MORE;
    for (size_t n = 0; n <= size; n++) {
        conn_sniff_kind k = conn_sniff(data, n);
        MC_CHECK(k >= CONN_SNIFF_MORE && k <= CONN_SNIFF_OTHER);
        MC_CHECK(conn_sniff_name(k) != NULL);
        if (decided != CONN_SNIFF_MORE)
            MC_CHECK(k == decided);
        if (n >= CONN_SNIFF_MAX)
            MC_CHECK(k != CONN_SNIFF_MORE);
        if (k != CONN_SNIFF_MORE)
            MC_CHECK(k == ref_decide(data, n));
        decided = k;
    }
    return 0;
}
