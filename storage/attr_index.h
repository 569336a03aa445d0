/* attr_index.h - the attribute index: hashed key=value tokens for FTS5.
 *
 * DESIGN
 * An attribute filter (`attr=http.route=/api/cart`) must not scan every
 * span. A B-tree row per attribute costs about four times more at ingest
 * than the span itself (measured: 21 us vs 5 us per span of 9 attributes),
 * so the index is an FTS5 table instead (schema.h, version 2): one document
 * per span or log record whose words are tokens "a" + 16 hex digits, each a
 * 64-bit hash of one top-level scalar attribute's JSON key text and JSON
 * value text exactly as the store keeps them (model_json.h), plus, for
 * spans, one token for the span name. FTS5 buffers a transaction's tokens
 * in memory and writes them as one segment, so an insert is cheap and the
 * index is a tenth of the size of a B-tree.
 *
 * Tokens are computed from the stored JSON text, never from the model, so
 * the writer (insert), retention and deletes (FTS5 'delete' commands, which
 * must repeat the inserted text for a contentless table) and the v1 -> v2
 * migration always agree: they all call attr_index_tokens() on the same
 * bytes (as the SQL function loupe_attr_tokens(attrs[, name])).
 *
 * A query renders the filter's key and value the way the store renders
 * attributes, hashes them the same way, and asks FTS5 for rows holding any
 * of the candidate tokens (a value "200" may be the string "200", the
 * integer 200 or the double 200.0). Hash collisions can only add rows, and
 * every candidate is checked against its JSON afterwards, so answers are
 * exact.
 */
#ifndef LOUPE_ATTR_INDEX_H
#define LOUPE_ATTR_INDEX_H

#include <stddef.h>

#include <sqlite3.h>

#include "util/buf.h"

/* Length of one token ("a" + 16 hex digits). */
#define ATTR_INDEX_TOKEN_LEN 17

/* Appends the tokens of a stored attributes object (JSON text, need not be
 * NUL-terminated) and, when name is not NULL, of a span name, separated by
 * spaces, to out. Malformed JSON yields the tokens of the members before
 * the first error. Returns a BUF_* code. */
int attr_index_tokens(const char *json, size_t len, const char *name, size_t name_len, buf *out);

/* Bytes of a word the index keeps: a longer word (a run of ASCII letters
 * and digits and non-ASCII bytes, as the 'ascii' tokenizer cuts them: an
 * id, a hash, a blob) is indexed by its first ATTR_INDEX_WORD_MAX bytes, cut
 * at a UTF-8 character boundary, and found by that prefix (the query checks
 * its candidates' texts, so answers stay exact). Keeps a 10 KB token from
 * costing 10 KB of index. */
#define ATTR_INDEX_WORD_MAX 64

/* The length word w (n bytes, one run of word bytes) is indexed by. */
size_t attr_index_word_cut(const char *w, size_t n);

/* Appends the words a span's text search (the trace search's `q`) finds,
 * each after a space: its name, its status message, every value of its
 * attributes (strings unescaped, numbers and booleans as written, nested
 * values too; not the keys), and of its events the names and attribute
 * values (not their times); words longer than ATTR_INDEX_WORD_MAX are cut.
 * The FTS5 'ascii' tokenizer of the index cuts them into words. The JSON
 * texts are those the store keeps (need not be NUL-terminated; NULL for
 * none). Returns a BUF_* code. */
int attr_index_words(const char *name, size_t name_len, const char *status, size_t status_len,
                     const char *attrs, size_t attrs_len, const char *events, size_t events_len,
                     buf *out);

/* 1 when text (n bytes) holds word (wn bytes) as a whole word: not inside
 * a longer run of word bytes; with prefix, as the start of a word. */
int attr_index_has_word(const char *text, size_t n, const char *word, size_t wn, int prefix);

/* Registers loupe_attr_tokens(attrs_json), loupe_attr_tokens(attrs_json,
 * name) and, for a span's document of a version 3 segment,
 * loupe_attr_tokens(attrs_json, name, status_message, events_json) (the
 * tokens then the words) on db (deterministic), and
 * loupe_has_word(text, word, prefix) (attr_index_has_word, for checking
 * long words). Returns an SQLite code. */
int attr_index_register(sqlite3 *db);

/* Appends an FTS5 query (tokens joined by " OR ", in parentheses) matching
 * rows with attribute `key` equal to `value` as the API's `key=value`
 * filter means it: the string value, or the number when value is a decimal
 * number, or the boolean for "true"/"false". Returns a BUF_* code. */
int attr_index_query_eq(const char *key, size_t key_len, const char *value, size_t value_len,
                        buf *out);

/* Appends the token for span name `name` (the `name=` filter). */
int attr_index_query_name(const char *name, size_t len, buf *out);

/* Parses a filter value as the API's numbers: optional '-', digits,
 * optional fraction and exponent; finite. Returns 1 and sets *out, else 0. */
int attr_index_parse_number(const char *s, size_t len, double *out);

#endif
