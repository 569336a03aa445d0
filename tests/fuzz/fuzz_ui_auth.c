/* fuzz_ui_auth.c - libFuzzer target for the UI port's credential checks
 * (ui_auth.h).
 *
 * Input: a Cookie header value, '\n', an Authorization header value (the
 * second may be absent, i.e. NULL). Each is a NUL-terminated copy in a
 * buffer of exactly its size, so a read past its end is caught. Checked:
 *  - a cookie header without "loupe_session" never matches, and neither
 *    does one without the session value (the random secret);
 *  - an authorization value without the token never matches;
 *  - the header with "; loupe_session=SESSION" appended always matches
 *    (pairs are split at every ';', whatever came before);
 *  - request_ok is exactly cookie-or-bearer; classify and token_check
 *    never crash on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_check.h"
#include "server/api/ui_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TOKEN "fuzz-token-0123456789"

static ui_auth *fz_auth;

static char *fz_copy(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fz_auth == NULL && ui_auth_new(FZ_TOKEN, &fz_auth) != UI_AUTH_OK)
        abort();
    const ui_auth *a = fz_auth;
    const char *session = ui_auth_session(a);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t clen = nl ? (size_t)(nl - data) : size;
    char *cookie = fz_copy(data, clen);
    char *authz = nl ? fz_copy(nl + 1, size - clen - 1) : NULL;

    int c = ui_auth_cookie_matches(a, cookie);
    int b = ui_auth_bearer_matches(a, authz);
    MC_CHECK(ui_auth_request_ok(a, cookie, authz) == (c | b));
    if (strstr(cookie, UI_AUTH_COOKIE) == NULL || strstr(cookie, session) == NULL)
        MC_CHECK(c == 0);
    if (authz == NULL || strstr(authz, FZ_TOKEN) == NULL)
        MC_CHECK(b == 0);

    size_t n = strlen(cookie) + strlen(UI_AUTH_COOKIE) + UI_AUTH_RANDOM_LEN + 8;
    char *more = malloc(n);
    if (more == NULL)
        abort();
    snprintf(more, n, "%s; %s=%s", cookie, UI_AUTH_COOKIE, session);
    MC_CHECK(ui_auth_cookie_matches(a, more) == 1);
    free(more);

    (void)ui_auth_classify(cookie);
    char err[160];
    (void)ui_auth_token_check(cookie, clen, err, sizeof(err));
    free(cookie);
    free(authz);
    return 0;
}
