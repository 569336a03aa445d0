/* logpattern.c - log patterns: masking, the fixed-depth tree, similarity
 * and template updates per service; see logpattern.h. */
#include "logpattern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define LP_SEED 0x6c6f677061747465ULL /* "logpatte" */
#define LP_RAW_MAX 1024               /* a longer raw token is <*> unmasked */
#define LP_TEXT_CAP (LOGPATTERN_MAX_TOKENS * (LOGPATTERN_MAX_TOKEN + 1))
#define LP_STRUCT_KEYS 32
#define LP_STRUCT_KEY 64

/* store_delete.c computes the same in SQL when it recounts. */
int logpattern_level(int severity_number) {
    return severity_number >= 1 && severity_number <= 24 ? 1 + (severity_number - 1) / 4 : 0;
}

const char *logpattern_level_name(int level) {
    static const char *const names[LOGPATTERN_LEVELS] = {"unspecified", "trace", "debug", "info",
                                                         "warn",        "error", "fatal"};
    return level >= 0 && level < LOGPATTERN_LEVELS ? names[level] : "unspecified";
}

/* ---- step 1: masking --------------------------------------------------------------- */

/* The markers a quoted value becomes before the line is cut: bytes that
 * cannot stay in a line (control characters become spaces). */
#define LP_DQUOTE '\x01'
#define LP_SQUOTE '\x02'

/* A line cut into masked tokens. */
typedef struct lp_line {
    char text[LP_TEXT_CAP];
    size_t used;
    int n;
    uint16_t off[LOGPATTERN_MAX_TOKENS], len[LOGPATTERN_MAX_TOKENS];
    uint64_t h[LOGPATTERN_MAX_TOKENS];
    uint8_t digit[LOGPATTERN_MAX_TOKENS]; /* the token looks variable: the wildcard branch */
} lp_line;

/* A token being written, bounded: past cap it is marked overflowed. */
typedef struct lp_out {
    char *p;
    size_t n, cap;
    int over;
} lp_out;

static void lp_put(lp_out *o, const char *s, size_t n) {
    if (o->over || n > o->cap - o->n) {
        o->over = 1;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void lp_puts(lp_out *o, const char *s) { lp_put(o, s, strlen(s)); }

static int lp_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int lp_is_hex(unsigned char c) {
    return lp_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int lp_is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Letters, digits and the bytes of non-ASCII characters: what a word is
 * made of. */
static int lp_is_word(unsigned char c) { return lp_is_alpha(c) || lp_is_digit(c) || c >= 0x80; }

static size_t lp_digits(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && lp_is_digit((unsigned char)p[i]))
        i++;
    return i;
}

/* The length of a number at p: [sign] digits [. digits] [e [sign] digits];
 * 0 when there is none. */
static size_t lp_number_len(const char *p, size_t n) {
    size_t i = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        i++;
    size_t d = lp_digits(p + i, n - i);
    if (d == 0)
        return 0;
    i += d;
    if (i + 1 < n && p[i] == '.' && lp_is_digit((unsigned char)p[i + 1]))
        i += 1 + lp_digits(p + i + 1, n - i - 1);
    if (i + 1 < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (p[j] == '-' || p[j] == '+'))
            j++;
        size_t e = lp_digits(p + j, n - j);
        if (e > 0 && e <= 3) /* "1e10234567890123" is a hex id */
            i = j + e;
    }
    return i;
}

/* 1 when s[0..n) is one of the words in list (NULL-ended). */
static int lp_one_of(const char *s, size_t n, const char *const *list) {
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return 1;
    return 0;
}

/* A number, alone or with a size unit or a percent sign. */
static int lp_is_number(const char *p, size_t n) {
    static const char *const units[] = {"%",  "B",  "b",   "k",   "K",   "KB",  "kB", "M",
                                        "MB", "G",  "GB",  "T",   "TB",  "KiB", "MiB", "GiB",
                                        "TiB", "x", NULL};
    size_t i = lp_number_len(p, n);
    return i > 0 && (i == n || lp_one_of(p + i, n - i, units));
}

/* One or more (number, time unit): 150ms, 1.5s, 2m30s, 250µs. */
static int lp_is_duration(const char *p, size_t n) {
    static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m",
                                        "h",  "d",  "sec",       "secs",      "min", NULL};
    size_t i = 0;
    int parts = 0;
    while (i < n) {
        if (p[i] == '-' || p[i] == '+')
            return 0;
        size_t d = lp_number_len(p + i, n - i);
        if (d == 0)
            return 0;
        i += d;
        size_t u = i;
        while (u < n && !lp_is_digit((unsigned char)p[u]))
            u++;
        if (u == i || !lp_one_of(p + i, u - i, units))
            return 0;
        i = u;
        parts++;
    }
    return parts > 0;
}

static int lp_is_uuid(const char *p, size_t n) {
    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? p[i] != '-' : !lp_is_hex((unsigned char)p[i]))
            return 0;
    }
    return 1;
}

/* A.B.C.D, with :port or /prefix. */
static int lp_is_ipv4(const char *p, size_t n) {
    size_t i = 0;
    for (int g = 0; g < 4; g++) {
        size_t d = lp_digits(p + i, n - i);
        if (d == 0 || d > 3)
            return 0;
        i += d;
        if (g < 3) {
            if (i >= n || p[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < n && (p[i] == ':' || p[i] == '/')) {
        size_t d = lp_digits(p + i + 1, n - i - 1);
        if (d == 0)
            return 0;
        i += 1 + d;
    }
    return i == n;
}

/* Hex groups and colons (at least two), "::" or a digit somewhere, maybe
 * in brackets with a port. */
static int lp_is_ipv6(const char *p, size_t n) {
    size_t a = 0, b = n;
    if (n > 2 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (close == NULL)
            return 0;
        size_t c = (size_t)(close - p);
        if (c + 1 < n && !(p[c + 1] == ':' && lp_digits(p + c + 2, n - c - 2) == n - c - 2 &&
                           n - c - 2 > 0))
            return 0;
        a = 1;
        b = c;
    }
    int colons = 0, digit = 0, dbl = 0, group = 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ':') {
            colons++;
            if (i + 1 < b && p[i + 1] == ':')
                dbl = 1;
            group = 0;
        } else if (lp_is_hex(c) || c == '.') {
            digit |= lp_is_digit(c);
            if (++group > 4 && c != '.')
                return 0;
        } else {
            return 0;
        }
    }
    return colons >= 2 && (dbl || digit);
}

/* hh:mm:ss[.frac] with an optional zone. */
static size_t lp_clock_len(const char *p, size_t n) {
    if (n < 8 || lp_digits(p, 2) != 2 || p[2] != ':' || lp_digits(p + 3, 2) != 2 || p[5] != ':' ||
        lp_digits(p + 6, 2) != 2)
        return 0;
    size_t i = 8;
    if (i + 1 < n && (p[i] == '.' || p[i] == ',') && lp_is_digit((unsigned char)p[i + 1]))
        i += 1 + lp_digits(p + i + 1, n - i - 1);
    if (i < n && p[i] == 'Z')
        i++;
    else if (i < n && (p[i] == '+' || p[i] == '-')) {
        size_t d = lp_digits(p + i + 1, n - i - 1);
        if (d == 2 && i + 3 < n && p[i + 3] == ':' && lp_digits(p + i + 4, n - i - 4) == 2)
            i += 6;
        else if (d == 4 || d == 2)
            i += 1 + d;
    }
    return i;
}

/* A date (yyyy-mm-dd, yyyy/mm/dd), maybe with a time (T or _), or a time
 * of day. */
static int lp_is_time(const char *p, size_t n) {
    if (n >= 10 && lp_digits(p, 4) == 4 && (p[4] == '-' || p[4] == '/') &&
        lp_digits(p + 5, 2) == 2 && p[7] == p[4] && lp_digits(p + 8, 2) == 2) {
        if (n == 10)
            return 1;
        if (p[10] != 'T' && p[10] != '_')
            return 0;
        return lp_clock_len(p + 11, n - 11) == n - 11;
    }
    size_t c = lp_clock_len(p, n);
    return c > 0 && c == n;
}

static int lp_is_email(const char *p, size_t n) {
    const char *at = memchr(p, '@', n);
    if (at == NULL || at == p)
        return 0;
    size_t a = (size_t)(at - p);
    int dot = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == a)
            continue;
        if (c == '@')
            return 0;
        if (i > a && c == '.' && i > a + 1 && i + 1 < n)
            dot = 1;
        if (!lp_is_word(c) && c != '.' && c != '-' && c != '_' && c != '+' && c != '%')
            return 0;
    }
    return dot;
}

static int lp_is_url(const char *p, size_t n) {
    for (size_t i = 0; i + 3 <= n; i++) {
        if (memcmp(p + i, "://", 3) == 0)
            return i >= 2;
        if (!lp_is_alpha((unsigned char)p[i]) && p[i] != '+' && p[i] != '-' && p[i] != '.')
            return 0;
    }
    return 0;
}

static int lp_is_path(const char *p, size_t n) {
    if (n >= 2 && p[0] == '/' && p[1] != '/')
        return 1;
    if ((n > 2 && memcmp(p, "./", 2) == 0) || (n > 3 && memcmp(p, "../", 3) == 0) ||
        (n > 2 && memcmp(p, "~/", 2) == 0))
        return 1;
    if (n > 3 && lp_is_alpha((unsigned char)p[0]) && p[1] == ':' && p[2] == '\\')
        return 1;
    int slashes = 0;
    for (size_t i = 0; i < n; i++)
        slashes += p[i] == '/';
    return slashes >= 2;
}

/* A run of hex digits that is an id: 6 and more, a digit and a letter. */
static int lp_is_hex_run(const char *p, size_t n) {
    if (n < 6)
        return 0;
    int digit = 0, letter = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!lp_is_hex(c))
            return 0;
        if (lp_is_digit(c))
            digit = 1;
        else
            letter = 1;
    }
    return digit && letter;
}

/* 0x and hex digits. */
static int lp_is_0x(const char *p, size_t n) {
    if (n < 3 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!lp_is_hex((unsigned char)p[i]))
            return 0;
    return 1;
}

/* The shapes a whole token is judged by, in this order. */
static const struct {
    int (*is)(const char *p, size_t n);
    const char *placeholder;
} lp_shapes[] = {
    {lp_is_number, "<NUM>"},   {lp_is_uuid, "<UUID>"}, {lp_is_time, "<TIME>"},
    {lp_is_ipv4, "<IP>"},      {lp_is_duration, "<DURATION>"}, {lp_is_0x, "<HEX>"},
    {lp_is_hex_run, "<HEX>"},  {lp_is_url, "<URL>"},   {lp_is_email, "<EMAIL>"},
    {lp_is_ipv6, "<IP>"},      {lp_is_path, "<PATH>"},
};

/* The placeholder for the whole of p[0..n), or NULL. */
static const char *lp_class(const char *p, size_t n) {
    for (size_t i = 0; n > 0 && i < sizeof(lp_shapes) / sizeof(lp_shapes[0]); i++)
        if (lp_shapes[i].is(p, n))
            return lp_shapes[i].placeholder;
    return NULL;
}

/* What is left of a token: quoted values, then runs of digits as <NUM>
 * and hex ids as <HEX>; the rest as it is. */
static void lp_mask_runs(const char *p, size_t n, lp_out *o) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c == LP_DQUOTE || c == LP_SQUOTE) {
            lp_puts(o, c == LP_DQUOTE ? "\"<*>\"" : "'<*>'");
            i++;
            continue;
        }
        if (!lp_is_word(c)) {
            lp_put(o, p + i, 1);
            i++;
            continue;
        }
        size_t j = i;
        int digits = 1;
        while (j < n && lp_is_word((unsigned char)p[j])) {
            digits &= lp_is_digit((unsigned char)p[j]);
            j++;
        }
        if (digits)
            lp_puts(o, "<NUM>");
        else if (lp_is_hex_run(p + i, j - i))
            lp_puts(o, "<HEX>");
        else
            lp_put(o, p + i, j - i);
        i = j;
    }
}

/* 1 when c is one of the characters of set (never for NUL). */
static int lp_in(const char *set, char c) { return c != '\0' && strchr(set, c) != NULL; }

/* Punctuation before a token's core. */
static int lp_is_lead(unsigned char c) {
    return c == '(' || c == '[' || c == '{' || c == '<' || c == '"' || c == '\'';
}

/* Punctuation after a token's core: a closing bracket only when the core
 * has no opening one ("/api/cart/{id}" keeps its brace). */
static int lp_is_trail(const char *core, size_t n) {
    const char *open;
    switch (core[n - 1]) {
    case ',': case ';': case ':': case '.': case '!': case '?': case '"': case '\'':
        return 1;
    case ')':
        open = "(";
        break;
    case ']':
        open = "[";
        break;
    case '}':
        open = "{";
        break;
    case '>':
        open = "<";
        break;
    default:
        return 0;
    }
    return memchr(core, open[0], n - 1) == NULL;
}

/* 1 when p[0..n) has nothing a placeholder could stand for: no digit, no
 * character of a path, address, URL or key=value, no quoted value. Most
 * words of a line are such; they are copied as they are. */
static int lp_plain(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (lp_is_digit(c) || c == '/' || c == '\\' || c == '@' || c == ':' || c == '=' ||
            c == LP_DQUOTE || c == LP_SQUOTE)
            return 0;
    }
    return 1;
}

/* One token: punctuation around it kept, the rest judged whole, as
 * key=value (depth 0 only), or by its runs. */
static void lp_mask_token(const char *p, size_t n, int depth, lp_out *o) {
    size_t a = 0, b = n;
    while (b > 0 && lp_in(",;.", p[b - 1]))
        b--;
    if (b > 2 && p[0] == '[' && lp_is_ipv6(p, b)) { /* [v6]:port */
        lp_puts(o, "<IP>");
        lp_put(o, p + b, n - b);
        return;
    }
    b = n;
    while (a < b && lp_is_lead((unsigned char)p[a]))
        a++;
    while (b > a && lp_is_trail(p + a, b - a))
        b--;
    lp_put(o, p, a);
    const char *core = p + a;
    size_t cn = b - a;
    int plain = lp_plain(core, cn);
    const char *ph = plain ? NULL : lp_class(core, cn);
    if (plain) {
        lp_put(o, core, cn);
    } else if (ph != NULL) {
        lp_puts(o, ph);
    } else {
        const char *eq = depth == 0 && cn > 2 ? memchr(core + 1, '=', cn - 2) : NULL;
        if (eq != NULL) {
            size_t k = (size_t)(eq - core);
            lp_put(o, core, k + 1);
            lp_mask_token(core + k + 1, cn - k - 1, depth + 1, o);
        } else {
            lp_mask_runs(core, cn, o);
        }
    }
    lp_put(o, p + b, n - b);
}

/* Where a quote that starts at s[i] ends (the index of the closing
 * quote), or 0 when it does not start a quoted value here. */
static size_t lp_quote_end(const char *s, size_t n, size_t i) {
    char q = s[i];
    if (i > 0 && !lp_in(" \t\r\n=:([{,", s[i - 1]))
        return 0;
    for (size_t j = i + 1; j < n; j++) {
        if (q == '"' && s[j] == '\\') {
            j++;
            continue;
        }
        if (s[j] != q)
            continue;
        if (q == '"')
            return j;
        if (j + 1 == n || lp_in(" \t\r\n,.;:)]}", s[j + 1]))
            return j;
    }
    return 0;
}

/* Cuts s[0..n) into masked tokens. */
static void lp_line_cut(const char *s, size_t n, lp_line *l) {
    char pre[LOGPATTERN_MAX_LINE];
    size_t m = 0;
    if (n > LOGPATTERN_MAX_LINE) {
        n = LOGPATTERN_MAX_LINE;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* not inside a character */
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x20 && c != 0x7f && c != '"' && c != '\'') {
            pre[m++] = (char)c; /* most bytes */
            continue;
        }
        size_t e = (c == '"' || c == '\'') ? lp_quote_end(s, n, i) : 0;
        if (e > 0 && !(c == '"' && e + 1 < n && s[e + 1] == ':')) {
            pre[m++] = c == '"' ? LP_DQUOTE : LP_SQUOTE;
            i = e;
        } else if (e > 0) { /* "key": a JSON key is kept */
            memcpy(pre + m, s + i, e - i + 1);
            m += e - i + 1;
            i = e;
        } else {
            pre[m++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
        }
    }
    l->n = 0;
    l->used = 0;
    size_t i = 0;
    while (i < m) {
        while (i < m && pre[i] == ' ')
            i++;
        if (i == m)
            break;
        size_t j = i;
        while (j < m && pre[j] != ' ')
            j++;
        /* written in place: there is room for every token at its cap */
        lp_out o = {l->text + l->used, 0, LOGPATTERN_MAX_TOKEN, 0};
        int last = l->n == LOGPATTERN_MAX_TOKENS - 1;
        if (j - i <= LP_RAW_MAX && !last)
            lp_mask_token(pre + i, j - i, 0, &o);
        if (j - i > LP_RAW_MAX || last || o.over) {
            memcpy(o.p, "<*>", 3); /* too long, or the rest of a long line */
            o.n = 3;
        }
        int k = l->n++;
        l->off[k] = (uint16_t)l->used;
        l->len[k] = (uint16_t)o.n;
        l->used += o.n;
        l->text[l->used++] = ' ';
        if (last)
            break;
        i = j;
    }
}

/* The hashes of l's tokens, and which of them look variable: a digit, or
 * a placeholder in them ("ord-<HEX>" and "ord-<NUM>" are the same kind of
 * id). */
static void lp_line_hash(lp_line *l) {
    for (int k = 0; k < l->n; k++) {
        const char *t = l->text + l->off[k];
        l->h[k] = hash_64(t, l->len[k], LP_SEED);
        l->digit[k] = 0;
        for (size_t i = 0; i < l->len[k]; i++)
            if (lp_is_digit((unsigned char)t[i]) || (t[i] == '<' && i + 1 < l->len[k] &&
                                                     (t[i + 1] == '*' || lp_is_alpha((unsigned char)t[i + 1]))))
                l->digit[k] = 1;
    }
}

/* Cuts a stored template at its spaces, unmasked. */
static void lp_line_split(const char *s, size_t n, lp_line *l) {
    l->n = 0;
    l->used = 0;
    size_t i = 0;
    while (i <= n && l->n < LOGPATTERN_MAX_TOKENS) {
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j > i || n > 0) {
            size_t len = j - i;
            if (len > LOGPATTERN_MAX_TOKEN || l->used + len + 1 > sizeof(l->text))
                break;
            int k = l->n++;
            l->off[k] = (uint16_t)l->used;
            l->len[k] = (uint16_t)len;
            memcpy(l->text + l->used, s + i, len);
            l->used += len;
            l->text[l->used++] = ' ';
        }
        if (j >= n)
            break;
        i = j + 1;
    }
    lp_line_hash(l);
}

int logpattern_mask(const char *text, size_t len, buf *out) {
    lp_line *l = malloc(sizeof(*l));
    if (l == NULL)
        return BUF_ENOMEM;
    lp_line_cut(text, len, l);
    int rc = buf_append(out, l->text, l->used > 0 ? l->used - 1 : 0);
    if (rc == BUF_OK && out->ptr == NULL)
        rc = buf_append(out, "", 0);
    free(l);
    return rc;
}

/* ---- the state -------------------------------------------------------------------- */

typedef struct lp_pat {
    int64_t id;
    uint32_t svc;     /* index into svcs; UINT32_MAX: the global other */
    uint16_t ntok;
    uint8_t kind;
    uint8_t changed;  /* listed in lp->changed */
    uint64_t *h;      /* ntok token hashes; lp->wild where generalised */
    char *text;       /* the template, NUL-terminated (owned) */
    size_t text_len;
    uint64_t first_ns, last_ns;
    uint64_t taken_last; /* last_ns when the store last took it */
} lp_pat;

typedef struct lp_node {
    uint32_t nchild; /* children other than the wildcard */
    uint32_t wild;   /* the wildcard child; 0 = none */
    uint32_t *pats;  /* a leaf's patterns (indices) */
    size_t npats, cap;
} lp_node;

typedef struct lp_edge {
    uint64_t tok;
    uint32_t parent, child; /* child 0: an empty slot */
} lp_edge;

typedef struct lp_svc {
    char *name; /* owned, NUL-terminated */
    size_t len;
    uint32_t root;  /* its tree's root node */
    uint32_t npats; /* its patterns, not counting "other" */
    uint32_t other; /* its "other" pattern's index + 1; 0 = none yet */
} lp_svc;

struct logpattern {
    pthread_mutex_t mu;
    logpattern_config cfg;
    uint64_t wild; /* the hash of "<*>" */
    lp_pat *pats;
    size_t npats, cap_pats;
    lp_node *nodes; /* node 0 is not used */
    size_t nnodes, cap_nodes;
    lp_edge *edges; /* open addressing, a power of two */
    size_t nedges, cap_edges;
    lp_svc *svcs;
    size_t nsvcs;
    uint32_t *svc_slots; /* svc index + 1, open addressing */
    size_t svc_cap;
    uint32_t global_other; /* index + 1; 0 = none yet */
    uint32_t *changed;
    size_t nchanged, cap_changed;
    size_t bytes;   /* templates and hashes */
    int64_t next_id;
};

logpattern *logpattern_new(const logpattern_config *cfg) {
    logpattern *lp = calloc(1, sizeof(*lp));
    if (lp == NULL)
        return NULL;
    pthread_mutex_init(&lp->mu, NULL);
    if (cfg != NULL)
        lp->cfg = *cfg;
    if (lp->cfg.max_per_service == 0)
        lp->cfg.max_per_service = LOGPATTERN_MAX_PER_SERVICE;
    if (lp->cfg.max_services == 0)
        lp->cfg.max_services = LOGPATTERN_MAX_SERVICES;
    if (lp->cfg.max_total == 0)
        lp->cfg.max_total = LOGPATTERN_MAX_TOTAL;
    if (lp->cfg.max_bytes == 0)
        lp->cfg.max_bytes = LOGPATTERN_MAX_BYTES;
    if (lp->cfg.similarity <= 0 || lp->cfg.similarity > 1)
        lp->cfg.similarity = LOGPATTERN_SIMILARITY;
    lp->wild = hash_64("<*>", 3, LP_SEED);
    lp->next_id = 1;
    lp->svc_cap = 16;
    while (lp->svc_cap < 2 * lp->cfg.max_services)
        lp->svc_cap *= 2;
    lp->svc_slots = calloc(lp->svc_cap, sizeof(*lp->svc_slots));
    lp->svcs = calloc(lp->cfg.max_services, sizeof(*lp->svcs));
    lp->cap_edges = 1024;
    lp->edges = calloc(lp->cap_edges, sizeof(*lp->edges));
    lp->nnodes = 1;
    if (lp->svc_slots == NULL || lp->svcs == NULL || lp->edges == NULL) {
        logpattern_free(lp);
        return NULL;
    }
    return lp;
}

void logpattern_free(logpattern *lp) {
    if (lp == NULL)
        return;
    for (size_t i = 0; i < lp->npats; i++) {
        free(lp->pats[i].h);
        free(lp->pats[i].text);
    }
    for (size_t i = 0; i < lp->nnodes; i++)
        if (lp->nodes)
            free(lp->nodes[i].pats);
    for (size_t i = 0; i < lp->nsvcs; i++)
        free(lp->svcs[i].name);
    pthread_mutex_destroy(&lp->mu);
    free(lp->pats);
    free(lp->nodes);
    free(lp->edges);
    free(lp->svcs);
    free(lp->svc_slots);
    free(lp->changed);
    free(lp);
}

/* Room for n elements of `size` bytes in the array *v of *cap (doubled,
 * from `first`). Returns 0, or -1 when out of memory (*v unchanged). */
static int lp_reserve(void **v, size_t *cap, size_t n, size_t size, size_t first) {
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < n)
        c *= 2;
    void *p = realloc(*v, c * size);
    if (p == NULL)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* ---- the tree ------------------------------------------------------------------------ */

/* A new node; 0 when out of memory. */
static uint32_t lp_node_new(logpattern *lp) {
    if (lp_reserve((void **)&lp->nodes, &lp->cap_nodes, lp->nnodes + 1, sizeof(*lp->nodes), 256))
        return 0;
    if (lp->nnodes == 1)
        memset(&lp->nodes[0], 0, sizeof(lp->nodes[0])); /* not used */
    memset(&lp->nodes[lp->nnodes], 0, sizeof(lp->nodes[0]));
    return (uint32_t)lp->nnodes++;
}

static size_t lp_edge_slot(const logpattern *lp, uint32_t parent, uint64_t tok) {
    return (size_t)hash_mix64(tok ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ULL)) &
           (lp->cap_edges - 1);
}

/* The child of parent by token tok, or 0. */
static uint32_t lp_child(const logpattern *lp, uint32_t parent, uint64_t tok) {
    for (size_t i = lp_edge_slot(lp, parent, tok);; i = (i + 1) & (lp->cap_edges - 1)) {
        const lp_edge *e = &lp->edges[i];
        if (e->child == 0)
            return 0;
        if (e->parent == parent && e->tok == tok)
            return e->child;
    }
}

static void lp_edge_put(logpattern *lp, uint32_t parent, uint64_t tok, uint32_t child) {
    size_t i = lp_edge_slot(lp, parent, tok);
    while (lp->edges[i].child != 0)
        i = (i + 1) & (lp->cap_edges - 1);
    lp->edges[i] = (lp_edge){tok, parent, child};
    lp->nedges++;
}

/* The child of parent by tok, made when missing; 0 when out of memory. */
static uint32_t lp_child_make(logpattern *lp, uint32_t parent, uint64_t tok) {
    uint32_t c = lp_child(lp, parent, tok);
    if (c != 0)
        return c;
    if (2 * (lp->nedges + 1) > lp->cap_edges) {
        size_t cap = 2 * lp->cap_edges;
        lp_edge *old = lp->edges, *n = calloc(cap, sizeof(*n));
        if (n == NULL)
            return 0;
        size_t oc = lp->cap_edges;
        lp->edges = n;
        lp->cap_edges = cap;
        lp->nedges = 0;
        for (size_t i = 0; i < oc; i++)
            if (old[i].child != 0)
                lp_edge_put(lp, old[i].parent, old[i].tok, old[i].child);
        free(old);
    }
    c = lp_node_new(lp);
    if (c != 0)
        lp_edge_put(lp, parent, tok, c);
    return c;
}

/* The first level's key: the token count, and whether the patterns there
 * match exactly (structured ones). */
static uint64_t lp_len_key(int n, int exact) {
    return hash_mix64(((uint64_t)(exact ? 0x5354 : 0x4c45) << 32) | (uint64_t)n);
}

/* The leaf a line of l goes to in svc's tree, or 0 when there is none. */
static uint32_t lp_leaf_find(const logpattern *lp, const lp_svc *svc, const lp_line *l,
                             int exact) {
    uint32_t node = lp_child(lp, svc->root, lp_len_key(l->n, exact));
    for (int d = 0; node != 0 && d < l->n && d < LOGPATTERN_DEPTH; d++) {
        uint32_t c = l->digit[d] ? 0 : lp_child(lp, node, l->h[d]);
        node = c != 0 ? c : lp->nodes[node].wild;
    }
    return node;
}

/* The leaf for a new pattern with the tokens of l, made as needed; 0 when
 * out of memory. */
static uint32_t lp_leaf_make(logpattern *lp, const lp_svc *svc, const lp_line *l, int exact) {
    uint32_t node = lp_child_make(lp, svc->root, lp_len_key(l->n, exact));
    for (int d = 0; node != 0 && d < l->n && d < LOGPATTERN_DEPTH; d++) {
        uint64_t tok = l->h[d];
        uint32_t c = lp_child(lp, node, tok);
        if (c != 0 && tok != lp->wild) {
            node = c;
            continue;
        }
        if (!l->digit[d] && tok != lp->wild && lp->nodes[node].nchild + 1 < LOGPATTERN_MAX_CHILDREN) {
            c = lp_child_make(lp, node, tok);
            if (c != 0)
                lp->nodes[node].nchild++;
            node = c;
            continue;
        }
        if (lp->nodes[node].wild == 0) {
            uint32_t w = lp_node_new(lp);
            if (w == 0)
                return 0;
            lp->nodes[node].wild = w;
        }
        node = lp->nodes[node].wild;
    }
    return node;
}

static int lp_leaf_add(logpattern *lp, uint32_t leaf, uint32_t pat) {
    lp_node *n = &lp->nodes[leaf];
    if (lp_reserve((void **)&n->pats, &n->cap, n->npats + 1, sizeof(*n->pats), 4))
        return -1;
    n->pats[n->npats++] = pat;
    return 0;
}

/* ---- services ------------------------------------------------------------------------ */

/* Service name's entry, added when missing; NULL past the bound or when out
 * of memory. */
static lp_svc *lp_svc_get(logpattern *lp, const char *name, size_t len) {
    uint64_t h = hash_64(name, len, LP_SEED);
    size_t mask = lp->svc_cap - 1, i = (size_t)h & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t v = lp->svc_slots[i];
        if (v == 0)
            break;
        lp_svc *s = &lp->svcs[v - 1];
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return s;
    }
    if (lp->nsvcs >= lp->cfg.max_services)
        return NULL;
    lp_svc *s = &lp->svcs[lp->nsvcs];
    memset(s, 0, sizeof(*s));
    s->name = malloc(len + 1);
    s->root = lp_node_new(lp);
    if (s->name == NULL || s->root == 0) {
        free(s->name);
        return NULL;
    }
    memcpy(s->name, name, len);
    s->name[len] = '\0';
    s->len = len;
    lp->svc_slots[i] = (uint32_t)++lp->nsvcs;
    return s;
}

/* ---- patterns ------------------------------------------------------------------------- */

/* Lists pattern idx as changed. lp->changed has room for every pattern
 * (lp_pat_new makes it), so this cannot fail: a new pattern is always
 * listed, and so always written before a record of it commits. */
static void lp_mark(logpattern *lp, uint32_t idx) {
    lp_pat *p = &lp->pats[idx];
    if (p->changed)
        return;
    lp->changed[lp->nchanged++] = idx;
    p->changed = 1;
}

/* The times of a record of pattern idx. A first record, an earlier first
 * seen time or a last seen time LOGPATTERN_LAST_SEEN_SLACK_NS past the one
 * last taken make it changed: the store then rewrites a busy pattern's row
 * about once a minute, not in every transaction. */
static void lp_seen(logpattern *lp, uint32_t idx, uint64_t t) {
    lp_pat *p = &lp->pats[idx];
    int changed = 0;
    if (p->first_ns == 0 || t < p->first_ns) {
        p->first_ns = t;
        changed = 1;
    }
    if (t > p->last_ns) {
        p->last_ns = t;
        changed |= t >= p->taken_last + LOGPATTERN_LAST_SEEN_SLACK_NS;
    }
    if (changed)
        lp_mark(lp, idx);
}

/* The template text of p from its tokens (l's for the positions p keeps). */
static int lp_pat_render(logpattern *lp, lp_pat *p, const lp_line *l) {
    size_t n = 0;
    for (int k = 0; k < p->ntok; k++)
        n += (p->h[k] == lp->wild ? 3 : l->len[k]) + 1;
    char *t = malloc(n + 1);
    if (t == NULL)
        return -1;
    size_t at = 0;
    for (int k = 0; k < p->ntok; k++) {
        if (k > 0)
            t[at++] = ' ';
        if (p->h[k] == lp->wild) {
            memcpy(t + at, "<*>", 3);
            at += 3;
        } else {
            memcpy(t + at, l->text + l->off[k], l->len[k]);
            at += l->len[k];
        }
    }
    t[at] = '\0';
    lp->bytes -= p->text_len;
    lp->bytes += at;
    free(p->text);
    p->text = t;
    p->text_len = at;
    return 0;
}

/* A new pattern (not yet in a tree): its index, or -1. */
static int64_t lp_pat_new(logpattern *lp, uint32_t svc, int kind, const lp_line *l, int64_t id) {
    if (lp_reserve((void **)&lp->changed, &lp->cap_changed, lp->npats + 1, sizeof(*lp->changed),
                   64) ||
        lp_reserve((void **)&lp->pats, &lp->cap_pats, lp->npats + 1, sizeof(*lp->pats), 64))
        return -1;
    lp_pat *p = &lp->pats[lp->npats];
    memset(p, 0, sizeof(*p));
    p->svc = svc;
    p->kind = (uint8_t)kind;
    p->ntok = (uint16_t)(l ? l->n : 0);
    if (p->ntok > 0) {
        p->h = malloc(p->ntok * sizeof(*p->h));
        if (p->h == NULL)
            return -1;
        memcpy(p->h, l->h, p->ntok * sizeof(*p->h));
    }
    if (l != NULL && lp_pat_render(lp, p, l) != 0) {
        free(p->h);
        return -1;
    }
    if (l == NULL && (p->text = strdup(LOGPATTERN_OTHER_TEMPLATE)) == NULL)
        return -1;
    if (l == NULL)
        p->text_len = strlen(p->text);
    lp->bytes += p->ntok * sizeof(*p->h) + (l == NULL ? p->text_len : 0);
    p->id = id > 0 ? id : lp->next_id;
    if (p->id >= lp->next_id)
        lp->next_id = p->id + 1;
    return (int64_t)lp->npats++;
}

/* The "other" pattern of svc (NULL: the global one), made when missing;
 * -1 when out of memory. */
static int64_t lp_other(logpattern *lp, lp_svc *svc, int64_t id) {
    uint32_t *slot = svc ? &svc->other : &lp->global_other;
    if (*slot != 0)
        return *slot - 1;
    int64_t idx = lp_pat_new(lp, svc ? (uint32_t)(svc - lp->svcs) : UINT32_MAX, LOGPATTERN_OTHER,
                             NULL, id);
    if (idx >= 0)
        *slot = (uint32_t)idx + 1;
    return idx;
}

/* In leaf, the pattern most similar to l (ties: more <*>) and its
 * similarity; -1 when the leaf has none. Exact leaves want every token. */
static int64_t lp_best(const logpattern *lp, uint32_t leaf, const lp_line *l, int exact,
                       double *sim) {
    const lp_node *node = &lp->nodes[leaf];
    int64_t best = -1;
    int best_eq = -1, best_wild = -1;
    for (size_t i = 0; i < node->npats; i++) {
        const lp_pat *p = &lp->pats[node->pats[i]];
        if (p->ntok != l->n)
            continue;
        int eq = 0, wild = 0;
        for (int k = 0; k < l->n; k++) {
            if (p->h[k] == lp->wild)
                wild++;
            else if (p->h[k] == l->h[k])
                eq++;
        }
        if (exact && eq != l->n)
            continue;
        if (eq > best_eq || (eq == best_eq && wild > best_wild)) {
            best = node->pats[i];
            best_eq = eq;
            best_wild = wild;
        }
    }
    *sim = best < 0 ? 0 : l->n == 0 ? 1.0 : (double)best_eq / (double)l->n;
    return best;
}

/* The positions where p and l differ become <*>. */
static void lp_generalise(logpattern *lp, uint32_t idx, const lp_line *l) {
    lp_pat *p = &lp->pats[idx];
    int changed = 0;
    for (int k = 0; k < p->ntok; k++) {
        if (p->h[k] != lp->wild && p->h[k] != l->h[k]) {
            p->h[k] = lp->wild;
            changed = 1;
        }
    }
    if (!changed)
        return;
    /* the kept positions are equal to l's, so l renders them */
    if (lp_pat_render(lp, p, l) == 0)
        lp_mark(lp, idx);
}

/* The pattern of a line of service name (lock held); -1 when out of
 * memory. */
static int64_t lp_assign_locked(logpattern *lp, const char *name, size_t len, const lp_line *l,
                                int kind, uint64_t t) {
    lp_svc *svc = lp_svc_get(lp, name, len);
    int64_t idx;
    int exact = kind == LOGPATTERN_STRUCTURED;
    if (svc == NULL) {
        idx = lp_other(lp, NULL, 0);
        goto seen;
    }
    uint32_t leaf = lp_leaf_find(lp, svc, l, exact);
    double sim = 0;
    idx = leaf ? lp_best(lp, leaf, l, exact, &sim) : -1;
    if (idx >= 0 && sim >= lp->cfg.similarity) {
        if (!exact)
            lp_generalise(lp, (uint32_t)idx, l);
        goto seen;
    }
    if (svc->npats >= lp->cfg.max_per_service || lp->npats >= lp->cfg.max_total ||
        lp->bytes >= lp->cfg.max_bytes) {
        idx = lp_other(lp, svc, 0);
        goto seen;
    }
    leaf = lp_leaf_make(lp, svc, l, exact);
    idx = leaf ? lp_pat_new(lp, (uint32_t)(svc - lp->svcs), kind, l, 0) : -1;
    if (idx >= 0 && lp_leaf_add(lp, leaf, (uint32_t)idx) != 0) {
        lp->npats--; /* not reachable: forget it */
        free(lp->pats[idx].h);
        free(lp->pats[idx].text);
        idx = -1;
    }
    if (idx >= 0)
        svc->npats++;
seen:
    if (idx < 0)
        return -1;
    lp_seen(lp, (uint32_t)idx, t);
    return idx;
}

static int64_t lp_assign_line(logpattern *lp, const char *service, size_t slen, const lp_line *l,
                              int kind, uint64_t t) {
    pthread_mutex_lock(&lp->mu);
    int64_t idx = lp_assign_locked(lp, service, slen, l, kind, t);
    int64_t id = idx >= 0 ? lp->pats[idx].id : 0;
    pthread_mutex_unlock(&lp->mu);
    return id;
}

int64_t logpattern_assign_text(logpattern *lp, const char *service, size_t slen, const char *text,
                               size_t len, uint64_t time_ns) {
    if (lp == NULL)
        return 0;
    lp_line *l = malloc(sizeof(*l));
    if (l == NULL)
        return 0;
    lp_line_cut(text ? text : "", text ? len : 0, l);
    lp_line_hash(l);
    int64_t id = lp_assign_line(lp, service ? service : "", service ? slen : 0, l,
                                LOGPATTERN_TEXT, time_ns);
    free(l);
    return id;
}

static int lp_key_cmp(const void *a, const void *b) {
    const model_kv *x = *(const model_kv *const *)a, *y = *(const model_kv *const *)b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.ptr, y->key.ptr, n) : 0;
    return c != 0 ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

/* The structured template of a map body: "{a, b, c}", keys sorted, each
 * once, at most LP_STRUCT_KEYS of at most LP_STRUCT_KEY bytes. */
static int lp_struct_text(const model_value *v, buf *out) {
    size_t n = v->u.kvlist.n;
    const model_kv **keys = n ? malloc(n * sizeof(*keys)) : NULL;
    if (n && keys == NULL)
        return BUF_ENOMEM;
    for (size_t i = 0; i < n; i++)
        keys[i] = &v->u.kvlist.items[i];
    if (n > 1)
        qsort(keys, n, sizeof(*keys), lp_key_cmp);
    int rc = buf_append_char(out, '{');
    size_t shown = 0;
    for (size_t i = 0; i < n && rc == BUF_OK; i++) {
        if (i > 0 && lp_key_cmp(&keys[i - 1], &keys[i]) == 0)
            continue;
        if (shown == LP_STRUCT_KEYS) {
            rc = buf_append_str(out, ", ...");
            break;
        }
        size_t kl = keys[i]->key.len;
        if (kl > LP_STRUCT_KEY) {
            kl = LP_STRUCT_KEY;
            while (kl > 0 && ((unsigned char)keys[i]->key.ptr[kl] & 0xc0) == 0x80)
                kl--;
        }
        if (shown++ > 0)
            rc = buf_append_str(out, ", ");
        for (size_t k = 0; k < kl && rc == BUF_OK; k++) { /* no spaces, no controls */
            unsigned char c = (unsigned char)keys[i]->key.ptr[k];
            rc = buf_append_char(out, c <= ' ' || c == 0x7f ? '_' : (char)c);
        }
    }
    if (rc == BUF_OK)
        rc = buf_append_char(out, '}');
    free(keys);
    return rc;
}

int64_t logpattern_assign(logpattern *lp, const char *service, size_t slen,
                          const model_value *body, uint64_t time_ns) {
    if (lp == NULL || body == NULL)
        return 0;
    switch (body->type) {
    case MODEL_VALUE_STRING:
        return logpattern_assign_text(lp, service, slen, body->u.str.ptr, body->u.str.len,
                                      time_ns);
    case MODEL_VALUE_EMPTY:
        return logpattern_assign_text(lp, service, slen, "", 0, time_ns);
    case MODEL_VALUE_BOOL:
        return logpattern_assign_text(lp, service, slen, body->u.boolean ? "true" : "false",
                                      body->u.boolean ? 4 : 5, time_ns);
    case MODEL_VALUE_INT:
    case MODEL_VALUE_DOUBLE:
        return logpattern_assign_text(lp, service, slen, "0", 1, time_ns);
    default:
        break;
    }
    buf t;
    buf_init(&t, (size_t)LP_STRUCT_KEYS * (LP_STRUCT_KEY + 2) + 16);
    int rc = BUF_OK;
    if (body->type == MODEL_VALUE_KVLIST)
        rc = lp_struct_text(body, &t);
    else
        rc = buf_append_str(&t, body->type == MODEL_VALUE_ARRAY ? "[...]" : "<bytes>");
    int64_t id = 0;
    lp_line *l = rc == BUF_OK ? malloc(sizeof(*l)) : NULL;
    if (l != NULL) {
        lp_line_split(t.ptr, t.len, l);
        id = lp_assign_line(lp, service ? service : "", service ? slen : 0, l,
                            LOGPATTERN_STRUCTURED, time_ns);
    }
    free(l);
    buf_free(&t);
    return id;
}

int logpattern_restore(logpattern *lp, int64_t id, const char *service, size_t slen, int kind,
                       const char *tmpl, size_t tlen, uint64_t first_ns, uint64_t last_ns) {
    if (lp == NULL || id <= 0 ||
        (kind != LOGPATTERN_TEXT && kind != LOGPATTERN_STRUCTURED && kind != LOGPATTERN_OTHER))
        return -1;
    int rc = -1;
    lp_line *l = kind == LOGPATTERN_OTHER ? NULL : malloc(sizeof(*l));
    if (kind != LOGPATTERN_OTHER && l == NULL)
        return -1;
    if (l != NULL)
        lp_line_split(tmpl ? tmpl : "", tmpl ? tlen : 0, l);
    pthread_mutex_lock(&lp->mu);
    lp_svc *svc = slen > 0 || kind != LOGPATTERN_OTHER ? lp_svc_get(lp, service, slen) : NULL;
    int64_t idx = -1;
    if (kind == LOGPATTERN_OTHER) {
        if (svc != NULL || slen == 0)
            idx = lp_other(lp, svc, id);
    } else if (svc != NULL) {
        uint32_t leaf = lp_leaf_make(lp, svc, l, kind == LOGPATTERN_STRUCTURED);
        idx = leaf ? lp_pat_new(lp, (uint32_t)(svc - lp->svcs), kind, l, id) : -1;
        if (idx >= 0 && lp_leaf_add(lp, leaf, (uint32_t)idx) == 0)
            svc->npats++;
        else
            idx = -1; /* left for a later start; its id stays used */
    }
    if (id >= lp->next_id)
        lp->next_id = id + 1;
    if (idx >= 0) {
        lp->pats[idx].first_ns = first_ns;
        lp->pats[idx].last_ns = lp->pats[idx].taken_last = last_ns;
        rc = 0;
    } else if (kind != LOGPATTERN_OTHER && svc == NULL) {
        rc = 0; /* more services than the bound: their records go to "other" */
    }
    pthread_mutex_unlock(&lp->mu);
    free(l);
    return rc;
}

/* ---- changes ---------------------------------------------------------------------------- */

int logpattern_take_changes(logpattern *lp, logpattern_changes *out) {
    out->n = 0;
    if (out->text.max == 0)
        buf_init(&out->text, (size_t)1 << 30);
    buf_reset(&out->text);
    if (lp == NULL)
        return 0;
    pthread_mutex_lock(&lp->mu);
    int rc = 0;
    if (lp->nchanged > out->cap) {
        logpattern_row *r = realloc(out->rows, lp->nchanged * sizeof(*r));
        if (r == NULL)
            rc = -1;
        else {
            out->rows = r;
            out->cap = lp->nchanged;
        }
    }
    for (size_t i = 0; rc == 0 && i < lp->nchanged; i++) {
        const lp_pat *p = &lp->pats[lp->changed[i]];
        logpattern_row *r = &out->rows[i];
        const lp_svc *svc = p->svc == UINT32_MAX ? NULL : &lp->svcs[p->svc];
        r->id = p->id;
        r->kind = p->kind;
        r->first_ns = p->first_ns;
        r->last_ns = p->last_ns;
        r->index = lp->changed[i];
        r->service_off = out->text.len;
        r->service_len = svc ? svc->len : 0;
        if (svc && buf_append(&out->text, svc->name, svc->len) != BUF_OK)
            rc = -1;
        r->tmpl_off = out->text.len;
        r->tmpl_len = p->text_len;
        if (rc == 0 && buf_append(&out->text, p->text, p->text_len) != BUF_OK)
            rc = -1;
    }
    if (rc == 0) {
        out->n = lp->nchanged;
        for (size_t i = 0; i < lp->nchanged; i++) {
            lp_pat *p = &lp->pats[lp->changed[i]];
            p->changed = 0;
            p->taken_last = p->last_ns;
        }
        lp->nchanged = 0;
    }
    pthread_mutex_unlock(&lp->mu);
    if (rc != 0) {
        out->n = 0;
        buf_reset(&out->text);
    }
    return rc;
}

void logpattern_changes_return(logpattern *lp, const logpattern_changes *ch) {
    if (lp == NULL || ch == NULL)
        return;
    pthread_mutex_lock(&lp->mu);
    for (size_t i = 0; i < ch->n; i++)
        if (ch->rows[i].index < lp->npats)
            lp_mark(lp, ch->rows[i].index);
    pthread_mutex_unlock(&lp->mu);
}

void logpattern_changes_free(logpattern_changes *ch) {
    if (ch == NULL)
        return;
    free(ch->rows);
    buf_free(&ch->text);
    memset(ch, 0, sizeof(*ch));
}

int logpattern_template(logpattern *lp, int64_t id, buf *out) {
    if (lp == NULL)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&lp->mu);
    for (size_t i = 0; i < lp->npats; i++) {
        if (lp->pats[i].id != id)
            continue;
        buf_reset(out);
        rc = buf_append(out, lp->pats[i].text, lp->pats[i].text_len) == BUF_OK &&
                     buf_append(out, "", 0) == BUF_OK
                 ? 0
                 : -1;
        break;
    }
    pthread_mutex_unlock(&lp->mu);
    return rc;
}

size_t logpattern_count(logpattern *lp) {
    if (lp == NULL)
        return 0;
    pthread_mutex_lock(&lp->mu);
    size_t n = lp->npats;
    pthread_mutex_unlock(&lp->mu);
    return n;
}
