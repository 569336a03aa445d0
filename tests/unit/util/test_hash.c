/* test_hash.c - util/hash.c: the values are pinned, since both hashes are
 * stored (the store's content keys, the attribute index's tokens). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "util/hash.h"

static const char *const inputs[4] = {"", "a", "abcdefgh", "hello, world: a longer input"};

START_TEST(test_hash_128_pinned) {
    static const uint8_t want[4][16] = {
        {0x13, 0x1f, 0xc3, 0x30, 0xb4, 0x7d, 0xe3, 0x25, 0xc4, 0x71, 0x5e, 0x81, 0x3e, 0xa6,
         0x9b, 0xce},
        {0x3a, 0xa0, 0xac, 0x32, 0x35, 0xe7, 0xe3, 0x75, 0x36, 0x51, 0xc5, 0xe4, 0x0c, 0xe8,
         0x19, 0xff},
        {0x10, 0x83, 0x68, 0x74, 0xcf, 0x79, 0x23, 0x3a, 0x02, 0x79, 0x84, 0xcc, 0xc2, 0x24,
         0xbd, 0xbf},
        {0x4b, 0xfb, 0xa8, 0x6a, 0x3f, 0xd6, 0xff, 0x3c, 0x08, 0x51, 0xbf, 0xa9, 0xcc, 0x04,
         0x6d, 0x1b},
    };
    for (int i = 0; i < 4; i++) {
        uint8_t got[16];
        hash_128(inputs[i], strlen(inputs[i]), got);
        ck_assert_msg(memcmp(got, want[i], 16) == 0, "input %d", i);
    }
}
END_TEST

START_TEST(test_hash_64_pinned) {
    static const uint64_t seed_kv = 0x6c6f7570655f6b76ULL, seed_name = 0x6c6f7570655f6e6dULL;
    static const uint64_t want_kv[4] = {0x9da0aa80bcb957bcULL, 0x46b95cdce117f0d1ULL,
                                        0x0f4f1002b1669f9eULL, 0xe38e55b265ca033aULL};
    static const uint64_t want_name[4] = {0x100ba7a4f58c59cbULL, 0xb989cb6f297a8917ULL,
                                          0xdd9821ebba6eae28ULL, 0x8755a260d2897905ULL};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(inputs[i]);
        ck_assert_uint_eq(hash_64(inputs[i], n, seed_kv), want_kv[i]);
        ck_assert_uint_eq(hash_64(inputs[i], n, seed_name), want_name[i]);
    }
    ck_assert_uint_eq(hash_mix64(1), 0xccde22c1faa4d20fULL);
}
END_TEST

/* Every length around the 8-byte words, and every single-bit change of a
 * 24-byte input, gives a different value: the tail and the length are part
 * of the hash. */
START_TEST(test_hash_lengths_and_bits) {
    unsigned char data[24];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 1);
    uint8_t seen[25][16];
    uint64_t seen64[25];
    for (size_t n = 0; n <= sizeof(data); n++) {
        hash_128(data, n, seen[n]);
        seen64[n] = hash_64(data, n, 7);
        for (size_t k = 0; k < n; k++) {
            ck_assert_msg(memcmp(seen[k], seen[n], 16) != 0, "lengths %zu and %zu", k, n);
            ck_assert_uint_ne(seen64[k], seen64[n]);
        }
    }
    uint8_t base[16], flipped[16];
    hash_128(data, sizeof(data), base);
    uint64_t base64 = hash_64(data, sizeof(data), 7);
    for (size_t bit = 0; bit < 8 * sizeof(data); bit++) {
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        hash_128(data, sizeof(data), flipped);
        ck_assert_msg(memcmp(base, flipped, 16) != 0, "bit %zu", bit);
        ck_assert_uint_ne(hash_64(data, sizeof(data), 7), base64);
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* the seed matters */
    ck_assert_uint_ne(hash_64(data, sizeof(data), 8), base64);
}
END_TEST

static Suite *hash_suite(void) {
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hash_128_pinned);
    tcase_add_test(tc, test_hash_64_pinned);
    tcase_add_test(tc, test_hash_lengths_and_bits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(hash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
