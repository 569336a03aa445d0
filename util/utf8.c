/* utf8.c - UTF-8 decoding and validation, see utf8.h. */
#include "utf8.h"

#include <string.h>

static int utf8_is_cont(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

size_t utf8_decode(const char *str, size_t len, uint32_t *cp) {
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t more; /* continuation bytes */
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or past U+10FFFF */
    }
    if (len <= more)
        return 0;
    for (size_t k = 1; k <= more; k++) {
        if (!utf8_is_cont(s[k]))
            return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return more + 1;
}

int utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path: eight bytes at a time */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(str + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t utf8_cut(const char *str, size_t len, size_t max) {
    const unsigned char *s = (const unsigned char *)str;
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && utf8_is_cont(s[cut]))
        cut--;
    return cut;
}
