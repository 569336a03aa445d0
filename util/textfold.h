/* textfold.h - text folded for word search: lower case, Latin diacritics
 * removed.
 *
 * DESIGN
 * The SQLite store's log search is FTS5's unicode61 tokenizer with
 * remove_diacritics 2: "Überweisung" is found by "uberweisung". The
 * ClickHouse store has no such tokenizer (18.16 has no unaccent), so it
 * keeps each log body's text folded at write time and folds the words of
 * a query the same way: ASCII and the Latin-1 Supplement and Latin
 * Extended-A letters (U+00C0..U+017F) lower-cased with their diacritics
 * removed (é, É, è -> e; ł -> l; ø -> o), Greek and Cyrillic capitals
 * lower-cased; every other character, and bytes that are not valid UTF-8,
 * as they are. Folding never makes a text longer.
 */
#ifndef LOUPE_TEXTFOLD_H
#define LOUPE_TEXTFOLD_H

#include <stddef.h>

#include "buf.h"

/* Appends s[0..len) folded to out. Returns a BUF_* code. */
int textfold(const char *s, size_t len, buf *out);

#endif
