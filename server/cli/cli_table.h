/* cli_table.h - aligned text tables for the command line.
 *
 * Rows are collected, then printed with every column as wide as its widest
 * cell (counted in characters, not bytes). Given a width (a terminal's),
 * the one flexible column is cut with "..." so each line fits; without
 * one, cells are printed whole (for pipes and files).
 */
#ifndef LOUPE_CLI_TABLE_H
#define LOUPE_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define CLI_TABLE_MAX_COLS 12

typedef struct cli_table {
    size_t ncols;
    const char *head[CLI_TABLE_MAX_COLS]; /* static */
    int right[CLI_TABLE_MAX_COLS];        /* 1: numbers, aligned right */
    size_t flex;                          /* the column cut to fit a width */
    char **cells;                         /* nrows * ncols, owned */
    size_t nrows, cap;
    int oom;
} cli_table;

/* head: ncols (at most CLI_TABLE_MAX_COLS) static titles; a title starting
 * with '>' is a right-aligned column (the '>' is not printed). flex: the
 * column to cut when the table must fit a width. */
void cli_table_init(cli_table *t, size_t ncols, const char *const *head, size_t flex);

/* Adds a row of ncols cells (copied; NULL prints as ""). */
void cli_table_add(cli_table *t, const char *const *cells);

/* Prints the header and the rows. width 0: no fitting. Returns 0, or -1
 * when a row could not be kept (out of memory). */
int cli_table_print(const cli_table *t, FILE *out, size_t width);

void cli_table_free(cli_table *t);

/* Characters (UTF-8 code points) in s. */
size_t cli_text_width(const char *s);

#endif
