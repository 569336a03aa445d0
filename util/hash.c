/* hash.c - non-cryptographic hashes, see hash.h. */
#include "hash.h"

#include <string.h>

uint64_t hash_mix64(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

/* Little-endian load of n <= 8 bytes. */
static uint64_t hash_load_le(const unsigned char *p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

uint64_t hash_64(const void *data, size_t n, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = seed ^ hash_mix64(n + 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        h = hash_rotl(h ^ hash_mix64(hash_load_le(p, 8)), 27) * 0x9e3779b97f4a7c15ULL +
            0x52dce729ULL;
        p += 8;
        n -= 8;
    }
    h = hash_rotl(h ^ hash_mix64(hash_load_le(p, n) ^ ((uint64_t)n << 56)), 27) *
            0x9e3779b97f4a7c15ULL +
        0x38495ab5ULL;
    return hash_mix64(h);
}

/* Folds one 64-bit word into both lanes of hash_128. */
static void hash_128_word(uint64_t *h1, uint64_t *h2, uint64_t w) {
    *h1 = hash_rotl(*h1 ^ hash_mix64(w), 29) * 0x9e3779b97f4a7c15ULL + *h2;
    *h2 = hash_rotl(*h2 ^ hash_mix64(w ^ 0xa4093822299f31d0ULL), 37) * 0xc2b2ae3d27d4eb4fULL +
          *h1;
}

void hash_128(const void *data, size_t len, uint8_t out[16]) {
    const unsigned char *p = data;
    uint64_t h1 = 0x243f6a8885a308d3ULL ^ len, h2 = 0x13198a2e03707344ULL ^ hash_mix64(len);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        hash_128_word(&h1, &h2, w);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    if (len > 0)
        memcpy(&w, p, len);
    hash_128_word(&h1, &h2, w ^ ((uint64_t)len << 56));
    h1 = hash_mix64(h1 ^ hash_rotl(h2, 17));
    h2 = hash_mix64(h2 + h1);
    memcpy(out, &h1, 8);
    memcpy(out + 8, &h2, 8);
}
