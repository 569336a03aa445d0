/* utf8.h - the one UTF-8 decoder of the tree (RFC 3629).
 *
 * Valid means what RFC 3629 allows: shortest forms only (no overlongs such
 * as C0 AF), no surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no
 * sequence cut short by the end of the input. NUL is a valid character.
 * Every function takes a pointer and a length; nothing needs a terminator.
 */
#ifndef LOUPE_UTF8_H
#define LOUPE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the character at s[0..len) (len >= 1): returns its length in
 * bytes (1 to 4) and sets *cp, or returns 0 when the bytes there are not a
 * valid character (a stray continuation byte, a lead byte that never
 * starts one, an overlong form, a surrogate, a value past U+10FFFF, or a
 * sequence cut by len). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* 1 when s[0..len) is valid UTF-8, else 0. */
int utf8_valid(const char *s, size_t len);

/* Where to cut s[0..len) to at most max bytes without splitting a
 * character: len when len <= max, else max backed off to the start of the
 * character it falls in (for valid UTF-8 the result is valid UTF-8). */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
