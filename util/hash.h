/* hash.h - non-cryptographic hashes: a 64-bit mixer, a seeded 64-bit
 * fingerprint and a 128-bit content hash.
 *
 * Both hashes end up on disk (the store's resource, scope and series keys;
 * the attribute index's tokens), so their output must never change: the
 * unit test pins known values. Neither resists an adversary; callers only
 * use them to find candidates they compare exactly, or as identities of
 * content whose collisions are astronomically unlikely by accident.
 */
#ifndef LOUPE_HASH_H
#define LOUPE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A bijective 64-bit finaliser (every input bit affects every output bit):
 * for hash table positions from keys that are already fairly random. */
uint64_t hash_mix64(uint64_t x);

/* A 64-bit fingerprint of data[0..n) under `seed`; reads the input as
 * little-endian words, so the value is the same on every host. */
uint64_t hash_64(const void *data, size_t n, uint64_t seed);

/* A 128-bit hash of data[0..n) into out[16]. Reads the input in host byte
 * order (every supported host is little-endian). */
void hash_128(const void *data, size_t n, uint8_t out[16]);

#endif
