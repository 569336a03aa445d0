/* ui_base.h - the UI port under a path prefix (--base-path).
 *
 * With a base path "/loupe" every page, asset, API call, stream, redirect
 * and cookie lives below /loupe/, so a reverse proxy can publish loupe at
 * https://example.org/loupe/ without rewriting paths. Requests outside the
 * prefix get a 404; "/loupe" alone is redirected to "/loupe/". The web UI
 * learns its base from index.html's <base href="/">, which the server
 * rewrites to <base href="/loupe/"> once at start (ui_base_index_new).
 * Pure functions apart from malloc: the UI server and the unit tests share
 * them.
 */
#ifndef LOUPE_UI_BASE_H
#define LOUPE_UI_BASE_H

#include <stddef.h>

/* Longest base path (characters, with the leading '/'). */
#define UI_BASE_MAX 200

/* Where a request path stands relative to the base. */
typedef enum ui_base_where {
    UI_BASE_INSIDE = 0, /* below the base: *rest is the path without it ("/api/v1/...") */
    UI_BASE_BARE,       /* exactly the base without its slash ("/loupe"): redirect */
    UI_BASE_OUTSIDE,    /* not below the base: 404 */
} ui_base_where;

/* Normalises a --base-path value into out (outlen > UI_BASE_MAX): "" or
 * "/" mean none (out is ""); otherwise a leading '/', segments of letters,
 * digits and - . _ ~, no empty, "." or ".." segment, a trailing '/'
 * dropped ("/tools/loupe/" -> "/tools/loupe"). Returns 0, or -1 with a
 * one-line reason in err. */
int ui_base_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* Where path (a request path without its query) stands relative to base
 * (normalised; "" = none: everything is inside and *rest = path). */
ui_base_where ui_base_locate(const char *base, const char *path, const char **rest);

/* Writes base + path (an absolute path such as "/login") into out.
 * Returns 0, or -1 when out is too small. */
int ui_base_join(const char *base, const char *path, char *out, size_t outlen);

/* index.html for base: a malloc'ed copy of page[0..len) with its one
 * <base href="/"> made <base href="BASE/">, its length and an ETag (etag
 * with the base's hash inside the quotes). Returns 0, or -1 when the page
 * has no <base href="/"> or memory is short. Free with ui_base_index_free. */
typedef struct ui_base_index {
    char *data;
    size_t len;
    char etag[96];
} ui_base_index;

int ui_base_index_new(const char *base, const unsigned char *page, size_t len, const char *etag,
                      ui_base_index *out);
void ui_base_index_free(ui_base_index *ix);

#endif
