/* ui_base.c - the UI port under a path prefix, see ui_base.h. */
#include "ui_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "ui_http.h"

static const char BASE_TAG[] = "<base href=\"/\">";

static int ui_base_char(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Checks the segment s[0..n). Returns NULL or what is wrong with it. */
static const char *ui_base_segment(const char *s, size_t n) {
    if (n == 0)
        return "has an empty segment (\"//\")";
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return "has a \".\" or \"..\" segment";
    for (size_t i = 0; i < n; i++)
        if (!ui_base_char((unsigned char)s[i]))
            return "may hold only letters, digits, - . _ ~ and /";
    return NULL;
}

int ui_base_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen) {
    if (outlen <= UI_BASE_MAX) {
        snprintf(err, errlen, "internal: base path buffer too small");
        return -1;
    }
    out[0] = '\0';
    if (in == NULL)
        return 0;
    size_t n = strlen(in);
    while (n > 1 && in[n - 1] == '/')
        n--; /* "/loupe/" -> "/loupe" */
    if (n == 0 || (n == 1 && in[0] == '/'))
        return 0;
    if (in[0] != '/') {
        snprintf(err, errlen, "\"%s\" must start with '/' (for example /loupe)", in);
        return -1;
    }
    if (n > UI_BASE_MAX) {
        snprintf(err, errlen, "is longer than %d characters", UI_BASE_MAX);
        return -1;
    }
    for (size_t i = 1; i <= n;) {
        size_t j = i;
        while (j < n && in[j] != '/')
            j++;
        const char *why = ui_base_segment(in + i, j - i);
        if (why != NULL) {
            snprintf(err, errlen, "\"%s\" %s", in, why);
            return -1;
        }
        i = j + 1;
    }
    memcpy(out, in, n);
    out[n] = '\0';
    return 0;
}

ui_base_where ui_base_locate(const char *base, const char *path, const char **rest) {
    size_t n = base != NULL ? strlen(base) : 0;
    *rest = path;
    if (n == 0)
        return UI_BASE_INSIDE;
    if (path == NULL || strncmp(path, base, n) != 0)
        return UI_BASE_OUTSIDE;
    if (path[n] == '\0')
        return UI_BASE_BARE;
    if (path[n] != '/')
        return UI_BASE_OUTSIDE; /* "/loupex" */
    *rest = path + n;
    return UI_BASE_INSIDE;
}

int ui_base_join(const char *base, const char *path, char *out, size_t outlen) {
    int w = snprintf(out, outlen, "%s%s", base != NULL ? base : "", path);
    if (w < 0 || (size_t)w >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

int ui_base_index_new(const char *base, const unsigned char *page, size_t len, const char *etag,
                      ui_base_index *out) {
    memset(out, 0, sizeof(*out));
    const size_t tag_len = sizeof(BASE_TAG) - 1;
    const char *at = NULL;
    for (size_t i = 0; i + tag_len <= len && at == NULL; i++)
        if (memcmp(page + i, BASE_TAG, tag_len) == 0)
            at = (const char *)page + i;
    if (at == NULL)
        return -1;
    size_t blen = strlen(base);
    size_t head = (size_t)(at - (const char *)page);
    /* <base href="/"> becomes <base href="BASE/">: blen more bytes */
    out->data = malloc(len + blen + 1);
    if (out->data == NULL)
        return -1;
    size_t quote = head + strlen("<base href=\"");
    memcpy(out->data, page, quote);
    memcpy(out->data + quote, base, blen);
    memcpy(out->data + quote + blen, page + quote, len - quote);
    out->len = len + blen;
    out->data[out->len] = '\0';
    char suffix[24];
    snprintf(suffix, sizeof(suffix), "-b%08x", (unsigned)(hash_64(base, blen, 0) & 0xffffffffu));
    if (ui_http_etag_variant(etag, suffix, out->etag, sizeof(out->etag)) != 0) {
        ui_base_index_free(out);
        return -1;
    }
    return 0;
}

void ui_base_index_free(ui_base_index *ix) {
    if (ix == NULL)
        return;
    free(ix->data);
    ix->data = NULL;
    ix->len = 0;
}
