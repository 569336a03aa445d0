/* ui_auth.c - UI/API port authentication: token, session cookie, bearer. */
#include "ui_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/net/http_util.h"

struct ui_auth {
    char token[UI_AUTH_TOKEN_MAX + 1];
    size_t token_len;
    char session[UI_AUTH_RANDOM_LEN + 1];
};

ui_auth_path ui_auth_classify(const char *path) {
    if (path == NULL)
        return UI_AUTH_PATH_PAGE;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
        strcmp(path, "/favicon.svg") == 0)
        return UI_AUTH_PATH_OPEN;
    if (strcmp(path, "/login") == 0)
        return UI_AUTH_PATH_LOGIN;
    if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0 ||
        strcmp(path, "/metrics") == 0 || strcmp(path, "/mcp") == 0)
        return UI_AUTH_PATH_API;
    return UI_AUTH_PATH_PAGE;
}

int ui_auth_random_hex(char *out, size_t outlen) {
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[UI_AUTH_RANDOM_LEN / 2];
    if (out == NULL || outlen < UI_AUTH_RANDOM_LEN + 1)
        return UI_AUTH_EINVAL;
    size_t got = 0;
    int tries = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno == EINTR && ++tries < 100)
            continue;
        if (n <= 0)
            return UI_AUTH_ERANDOM;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[UI_AUTH_RANDOM_LEN] = '\0';
    explicit_bzero(raw, sizeof(raw));
    return UI_AUTH_OK;
}

static int ui_auth_token_char(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '+' || ch == '/' ||
           ch == '=';
}

int ui_auth_token_check(const char *token, size_t len, char *err, size_t errlen) {
    if (token == NULL || len < UI_AUTH_TOKEN_MIN) {
        snprintf(err, errlen, "the token is too short (%zu characters; at least %d)",
                 token ? len : 0, UI_AUTH_TOKEN_MIN);
        return UI_AUTH_EINVAL;
    }
    if (len > UI_AUTH_TOKEN_MAX) {
        snprintf(err, errlen, "the token is too long (%zu characters; at most %d)", len,
                 UI_AUTH_TOKEN_MAX);
        return UI_AUTH_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (!ui_auth_token_char((unsigned char)token[i])) {
            snprintf(err, errlen,
                     "the token has a character other than letters, digits and - . _ ~ + / = "
                     "(at position %zu)",
                     i + 1);
            return UI_AUTH_EINVAL;
        }
    }
    return UI_AUTH_OK;
}

int ui_auth_new(const char *token, ui_auth **out) {
    *out = NULL;
    ui_auth *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return UI_AUTH_ENOMEM;
    int rc;
    if (token != NULL && token[0] != '\0') {
        char why[160];
        size_t len = strlen(token);
        rc = ui_auth_token_check(token, len, why, sizeof(why));
        if (rc != UI_AUTH_OK)
            goto fail;
        memcpy(a->token, token, len + 1);
        a->token_len = len;
    } else {
        rc = ui_auth_random_hex(a->token, sizeof(a->token));
        if (rc != UI_AUTH_OK)
            goto fail;
        a->token_len = UI_AUTH_RANDOM_LEN;
    }
    rc = ui_auth_random_hex(a->session, sizeof(a->session));
    if (rc != UI_AUTH_OK)
        goto fail;
    *out = a;
    return UI_AUTH_OK;

fail:
    ui_auth_free(a);
    return rc;
}

void ui_auth_free(ui_auth *a) {
    if (a == NULL)
        return;
    explicit_bzero(a, sizeof(*a));
    free(a);
}

const char *ui_auth_token(const ui_auth *a) {
    return a ? a->token : NULL;
}

const char *ui_auth_session(const ui_auth *a) {
    return a ? a->session : NULL;
}

int ui_auth_token_matches(const ui_auth *a, const char *presented, size_t len) {
    if (a == NULL || presented == NULL)
        return 0;
    return http_util_secret_equal(presented, len, a->token, a->token_len);
}

static int ui_auth_ows(char ch) {
    return ch == ' ' || ch == '\t';
}

int ui_auth_cookie_matches(const ui_auth *a, const char *cookie_header) {
    static const char name[] = UI_AUTH_COOKIE;
    const size_t name_len = sizeof(name) - 1;
    int ok = 0;
    if (a == NULL || cookie_header == NULL)
        return 0;
    const char *p = cookie_header;
    while (*p != '\0') {
        /* one "name=value" pair, up to the next ';' */
        const char *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        const char *s = p;
        while (s < end && ui_auth_ows(*s))
            s++;
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (eq != NULL) {
            const char *ne = eq;
            while (ne > s && ui_auth_ows(ne[-1]))
                ne--;
            const char *v = eq + 1, *ve = end;
            while (v < ve && ui_auth_ows(*v))
                v++;
            while (ve > v && ui_auth_ows(ve[-1]))
                ve--;
            if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
                v++;
                ve--;
            }
            if ((size_t)(ne - s) == name_len && memcmp(s, name, name_len) == 0)
                ok |= http_util_secret_equal(v, (size_t)(ve - v), a->session,
                                             UI_AUTH_RANDOM_LEN);
        }
        p = *end == ';' ? end + 1 : end;
    }
    return ok;
}

int ui_auth_bearer_matches(const ui_auth *a, const char *authorization) {
    const char *tok = NULL;
    size_t len = 0;
    if (a == NULL || !http_util_bearer_token(authorization, &tok, &len))
        return 0;
    return ui_auth_token_matches(a, tok, len);
}

int ui_auth_request_ok(const ui_auth *a, const char *cookie_header, const char *authorization) {
    if (a == NULL)
        return 1;
    int by_cookie = ui_auth_cookie_matches(a, cookie_header);
    int by_bearer = ui_auth_bearer_matches(a, authorization);
    return by_cookie | by_bearer;
}

int ui_auth_set_cookie(const ui_auth *a, const char *path, char *out, size_t outlen) {
    if (a == NULL || out == NULL)
        return UI_AUTH_EINVAL;
    int n = snprintf(out, outlen, "%s=%s; HttpOnly; SameSite=Strict; Path=%s", UI_AUTH_COOKIE,
                     a->session, path != NULL && path[0] != '\0' ? path : "/");
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0'; /* never a truncated cookie */
        return UI_AUTH_EINVAL;
    }
    return UI_AUTH_OK;
}
