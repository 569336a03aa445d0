/* ui_auth.h - is a request to the UI/API port authenticated?
 *
 * The UI port's token mode: one secret token (given or random per start)
 * that a browser trades for a session cookie at /login and that scripts send
 * as "Authorization: Bearer TOKEN". The cookie holds a second random secret
 * made at start (the session), never the token itself, so the token does
 * not sit in the browser's cookie jar. Every comparison is constant-time.
 * Pure functions on header values: no I/O but getrandom(2), so the UI
 * server and the unit tests share them.
 */
#ifndef LOUPE_UI_AUTH_H
#define LOUPE_UI_AUTH_H

#include <stddef.h>

#define UI_AUTH_TOKEN_MIN 16  /* shortest accepted token */
#define UI_AUTH_TOKEN_MAX 256 /* longest accepted token */
#define UI_AUTH_RANDOM_LEN 32 /* hex characters of a generated token or session */
#define UI_AUTH_COOKIE "loupe_session"

#define UI_AUTH_OK 0
#define UI_AUTH_EINVAL -1  /* a token too short, too long or with a bad character */
#define UI_AUTH_ENOMEM -2
#define UI_AUTH_ERANDOM -3 /* getrandom(2) failed */

typedef struct ui_auth ui_auth;

/* Which rule applies to a request path (the URL without its query). */
typedef enum ui_auth_path {
    UI_AUTH_PATH_OPEN = 0, /* /healthz, /readyz, /favicon.svg: never needs a credential */
    UI_AUTH_PATH_LOGIN,    /* /login: the login page and the token exchange */
    UI_AUTH_PATH_API,      /* /api, /api/..., /metrics, /mcp: 401 JSON without a credential */
    UI_AUTH_PATH_PAGE,     /* everything else: a UI page or asset, redirected to /login */
} ui_auth_path;

ui_auth_path ui_auth_classify(const char *path);

/* Writes UI_AUTH_RANDOM_LEN lowercase hex characters (16 bytes from
 * getrandom(2)) and a NUL into out, which must hold UI_AUTH_RANDOM_LEN + 1.
 * Returns UI_AUTH_OK or UI_AUTH_ERANDOM. */
int ui_auth_random_hex(char *out, size_t outlen);

/* Checks a configured token: UI_AUTH_TOKEN_MIN..UI_AUTH_TOKEN_MAX characters
 * from the token68 set of RFC 7235 (letters, digits, - . _ ~ + / =), so it
 * travels unchanged in a Bearer header and a URL. Returns UI_AUTH_OK, or
 * UI_AUTH_EINVAL with a one-line reason in err. */
int ui_auth_token_check(const char *token, size_t len, char *err, size_t errlen);

/* Makes the authenticator. token: the fixed token (copied), or NULL or ""
 * for a random one. The session secret is always random. Returns UI_AUTH_OK
 * and *out (free with ui_auth_free), or a negative UI_AUTH_* code. */
int ui_auth_new(const char *token, ui_auth **out);

/* Accepts NULL. Wipes the secrets before freeing. */
void ui_auth_free(ui_auth *a);

/* The token and the session value (borrowed, valid until ui_auth_free). */
const char *ui_auth_token(const ui_auth *a);
const char *ui_auth_session(const ui_auth *a);

/* 1 when presented[0..len) is the token (constant-time in the token's
 * length). */
int ui_auth_token_matches(const ui_auth *a, const char *presented, size_t len);

/* 1 when a Cookie header value (NULL allowed) carries UI_AUTH_COOKIE with
 * the session value. Names are case-sensitive (RFC 6265); pairs without '='
 * are skipped; a value in double quotes is unquoted; when the cookie appears
 * more than once every copy is compared. */
int ui_auth_cookie_matches(const ui_auth *a, const char *cookie_header);

/* 1 when an Authorization header value (NULL allowed) is "Bearer TOKEN". */
int ui_auth_bearer_matches(const ui_auth *a, const char *authorization);

/* 1 when a request with these headers (either may be NULL) is authenticated:
 * the session cookie or the bearer token. Both are always checked so the
 * time taken does not say which one was tried. A NULL a (auth off) accepts. */
int ui_auth_request_ok(const ui_auth *a, const char *cookie_header, const char *authorization);

/* Writes the Set-Cookie value that logs a browser in: the session value,
 * HttpOnly, SameSite=Strict, Path=path (NULL or "" = "/"; the UI's
 * --base-path, a checked path), no Max-Age (a session cookie). Returns
 * UI_AUTH_OK, or UI_AUTH_EINVAL when out is too small. */
int ui_auth_set_cookie(const ui_auth *a, const char *path, char *out, size_t outlen);

#endif
