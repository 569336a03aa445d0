/* textfold.c - lower case without Latin diacritics; see textfold.h. */
#include "textfold.h"

#include <stdint.h>

#include "utf8.h"

/* U+00C0..U+017F: the ASCII letter each folds to, or 0 for a letter that
 * only changes case (see textfold_case) or a sign that stays (× ÷). */
static const char textfold_latin[0x180 - 0xc0 + 1] =
    /* C0 */ "aaaaaa\0ceeeeiiii"
    /* D0 */ "\0nooooo\0ouuuuy\0\0"
    /* E0 */ "aaaaaa\0ceeeeiiii"
    /* F0 */ "\0nooooo\0ouuuuy\0y"
    /* 100 */ "aaaaaaccccccccdd"
    /* 110 */ "ddeeeeeeeeeegggg"
    /* 120 */ "gggghhhhiiiiiiii"
    /* 130 */ "ii\0\0jjkkklllllll"
    /* 140 */ "lllnnnnnnn\0\0oooo"
    /* 150 */ "oo\0\0rrrrrrssssss"
    /* 160 */ "ssttttttuuuuuuuu"
    /* 170 */ "uuuuwwyyyzzzzzzs";

/* The lower case of a letter that keeps its form: Æ Ð Þ and the Latin
 * Extended-A pairs Ĳ Ŋ Œ; Greek and Cyrillic capitals. Else cp. */
static uint32_t textfold_case(uint32_t cp) {
    if (cp == 0xc6 || cp == 0xd0 || cp == 0xde)
        return cp + 0x20;
    if (cp == 0x132 || cp == 0x14a || cp == 0x152)
        return cp + 1;
    if ((cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) || (cp >= 0x410 && cp <= 0x42f))
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40f)
        return cp + 0x50;
    return cp;
}

static int textfold_put(buf *out, uint32_t cp) {
    char b[3];
    if (cp < 0x80) {
        b[0] = (char)cp;
        return buf_append(out, b, 1);
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        return buf_append(out, b, 2);
    }
    b[0] = (char)(0xe0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[2] = (char)(0x80 | (cp & 0x3f));
    return buf_append(out, b, 3);
}

int textfold(const char *s, size_t len, buf *out) {
    int rc = BUF_OK;
    size_t i = 0;
    while (i < len && rc == BUF_OK) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            char lc = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            rc = buf_append(out, &lc, 1);
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) { /* not UTF-8: the byte as it is */
            rc = buf_append(out, s + i, 1);
            i++;
            continue;
        }
        if (cp >= 0xc0 && cp <= 0x17f && textfold_latin[cp - 0xc0] != '\0')
            rc = buf_append(out, &textfold_latin[cp - 0xc0], 1);
        else if (cp < 0x800 || (cp >= 0x391 && cp <= 0x42f))
            rc = textfold_put(out, textfold_case(cp)); /* same length: 2 bytes */
        else
            rc = buf_append(out, s + i, n);
        i += n;
    }
    return rc;
}
