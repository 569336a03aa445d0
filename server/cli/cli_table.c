/* cli_table.c - aligned text tables, see cli_table.h. */
#include "cli_table.h"

#include <stdlib.h>
#include <string.h>

#define CLI_TABLE_GAP 2
#define CLI_TABLE_MIN_FLEX 10

size_t cli_text_width(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

void cli_table_init(cli_table *t, size_t ncols, const char *const *head, size_t flex) {
    memset(t, 0, sizeof(*t));
    t->ncols = ncols > CLI_TABLE_MAX_COLS ? CLI_TABLE_MAX_COLS : ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        t->right[i] = head[i][0] == '>';
        t->head[i] = head[i] + t->right[i];
    }
    t->flex = flex < t->ncols ? flex : t->ncols - 1;
}

/* A copy with control characters (newlines in a log body) as spaces. */
static char *cli_cell_copy(const char *s) {
    char *c = strdup(s != NULL ? s : "");
    for (char *p = c; p != NULL && *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return c;
}

void cli_table_add(cli_table *t, const char *const *cells) {
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **more = realloc(t->cells, cap * t->ncols * sizeof(char *));
        if (more == NULL) {
            t->oom = 1;
            return;
        }
        t->cells = more;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = cli_cell_copy(cells[i]);
        if (row[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(row[k]);
            t->oom = 1;
            return;
        }
    }
    t->nrows++;
}

/* Prints s in a field of w characters: cut with "..." when longer, padded
 * (left or right) when shorter; the last column is not padded. */
static void cli_cell_print(FILE *out, const char *s, size_t w, int right, int last) {
    size_t n = cli_text_width(s);
    if (n > w) {
        size_t keep = w > 3 ? w - 3 : 0, chars = 0;
        const char *p = s;
        while (*p != '\0' && chars < keep) {
            p++;
            while (((unsigned char)*p & 0xC0) == 0x80)
                p++;
            chars++;
        }
        fwrite(s, 1, (size_t)(p - s), out);
        fputs(w > 3 ? "..." : "", out);
        return;
    }
    if (right)
        fprintf(out, "%*s", (int)(w - n), "");
    fputs(s, out);
    if (!right && !last)
        fprintf(out, "%*s", (int)(w - n), "");
}

int cli_table_print(const cli_table *t, FILE *out, size_t width) {
    size_t w[CLI_TABLE_MAX_COLS];
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = cli_text_width(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t n = cli_text_width(t->cells[r * t->ncols + c]);
            w[c] = n > w[c] ? n : w[c];
        }
    }
    if (width > 0) {
        size_t total = 0;
        for (size_t c = 0; c < t->ncols; c++)
            total += w[c] + (c + 1 < t->ncols ? CLI_TABLE_GAP : 0);
        if (total > width) {
            size_t over = total - width;
            size_t room = w[t->flex] > CLI_TABLE_MIN_FLEX ? w[t->flex] - CLI_TABLE_MIN_FLEX : 0;
            w[t->flex] -= over < room ? over : room;
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncols + c];
            int last = c + 1 == t->ncols;
            cli_cell_print(out, s, w[c], t->right[c], last);
            if (!last)
                fprintf(out, "%*s", CLI_TABLE_GAP, "");
        }
        fputc('\n', out);
    }
    return t->oom ? -1 : 0;
}

void cli_table_free(cli_table *t) {
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
