/* ui_reply.c - the UI port's answers, see ui_reply.h. */
#include "ui_reply.h"

#include <stdlib.h>

#include "api.h"
#include "server/net/http_guard.h"
#include "util/gz.h"

/* API answers of at least this many bytes are gzipped for clients that
 * accept it; smaller ones would hardly shrink. Level 6: zlib's default,
 * most of level 9's ratio at a fraction of its time. */
#define UI_REPLY_GZIP_MIN 1024
#define UI_REPLY_GZIP_LEVEL 6

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                          "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
                          "form-action 'self'";
static const char JSON_TYPE[] = "application/json; charset=utf-8";
/* Sent when not even an error document could be built (out of memory). */
static const char FALLBACK_ERROR[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

static void ui_reply_security_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

enum MHD_Result ui_reply_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r) {
    if (r == NULL)
        return MHD_NO; /* out of memory: MHD closes the connection */
    ui_reply_security_headers(r);
    if (status == 503)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    http_guard_received(c); /* answered: no longer a slow request */
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

struct MHD_Response *ui_reply_body(buf *out) {
    size_t len = 0;
    char *body = buf_detach(out, &len);
    struct MHD_Response *r = NULL;
    if (body != NULL && len > 0)
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        free(body);
    return r;
}

enum MHD_Result ui_reply_nostore(struct MHD_Connection *c, unsigned status,
                                 struct MHD_Response *r, const char *type, const char *name,
                                 const char *value) {
    if (r == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (value != NULL)
        MHD_add_response_header(r, name, value);
    return ui_reply_queue(c, status, r);
}

/* The response of a JSON document in out (taken over; out is freed), or of
 * the fixed 500 when out is empty (*status becomes 500; 1 is returned). */
static int ui_reply_json_response(buf *out, unsigned *status, struct MHD_Response **r) {
    int fallback = out->len == 0;
    if (!fallback) {
        *r = ui_reply_body(out);
    } else {
        *status = 500;
        *r = MHD_create_response_from_buffer(sizeof(FALLBACK_ERROR) - 1, (void *)FALLBACK_ERROR,
                                             MHD_RESPMEM_PERSISTENT);
    }
    buf_free(out);
    return fallback;
}

/* ui_reply_json() with any one more header (name: value; none when value is
 * NULL). Frees out. */
static enum MHD_Result ui_reply_json_with(struct MHD_Connection *c, unsigned status, buf *out,
                                          const char *name, const char *value) {
    struct MHD_Response *r;
    ui_reply_json_response(out, &status, &r);
    return ui_reply_nostore(c, status, r, JSON_TYPE, name, value);
}

int ui_reply_gzip(buf *out) {
    if (out->len < UI_REPLY_GZIP_MIN)
        return 0;
    buf z;
    buf_init(&z, out->max);
    if (gz_deflate((const uint8_t *)out->ptr, out->len, UI_REPLY_GZIP_LEVEL, &z) != GZ_OK ||
        z.len >= out->len) {
        buf_free(&z);
        return 0;
    }
    buf_free(out);
    *out = z;
    return 1;
}

enum MHD_Result ui_reply_api(struct MHD_Connection *c, unsigned status, buf *out,
                             const char *allow, int gzipped) {
    struct MHD_Response *r;
    if (ui_reply_json_response(out, &status, &r))
        gzipped = 0;
    if (r != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        if (gzipped)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    return ui_reply_nostore(c, status, r, JSON_TYPE, MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result ui_reply_json(struct MHD_Connection *c, unsigned status, buf *out,
                              const char *allow) {
    return ui_reply_json_with(c, status, out, MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result ui_reply_error(struct MHD_Connection *c, unsigned status, const char *message,
                               const char *allow) {
    buf out;
    buf_init(&out, 4096);
    api_error_json(&out, api_error_code((int)status), message);
    return ui_reply_json(c, status, &out, allow);
}

enum MHD_Result ui_reply_get_only(struct MHD_Connection *c) {
    return ui_reply_error(c, 405, "method not allowed; use GET", "GET, HEAD");
}

enum MHD_Result ui_reply_unauthorized(struct MHD_Connection *c) {
    static const char msg[] = "authentication required: send \"Authorization: Bearer TOKEN\" "
                              "with the token loupe printed at start, or log in at /login";
    buf out;
    buf_init(&out, 4096);
    api_error_json(&out, "unauthorized", msg);
    if (out.len == 0)
        return MHD_NO; /* out of memory: MHD closes the connection */
    return ui_reply_json_with(c, MHD_HTTP_UNAUTHORIZED, &out, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                              "Bearer");
}

enum MHD_Result ui_reply_redirect(struct MHD_Connection *c, const char *location,
                                  const char *set_cookie) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    return ui_reply_nostore(c, MHD_HTTP_SEE_OTHER, r, NULL, MHD_HTTP_HEADER_SET_COOKIE,
                            set_cookie);
}

/* The login page: a plain form, no script and no style (the CSP allows
 * neither inline), so it needs no asset behind the login. */
static const char LOGIN_HEAD[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"color-scheme\" content=\"light dark\">\n"
    "<title>loupe: log in</title>\n</head>\n<body>\n<main>\n<h1>loupe</h1>\n"
    "<p>Open the login link loupe printed when it started, or enter its token here.</p>\n";
static const char LOGIN_WRONG[] =
    "<p role=\"alert\" id=\"login-error\"><strong>That is not the right token.</strong> "
    "Check the login line loupe printed at start (a new random token is made at every "
    "start unless one is set with --ui-token).</p>\n";
/* The form, from the end of its action attribute on. */
static const char LOGIN_FORM_REST[] =
    "\">\n<label for=\"token\">Token</label>\n"
    "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" "
    "required autofocus>\n<button type=\"submit\">Log in</button>\n</form>\n"
    "<p>Scripts send the token as <code>Authorization: Bearer TOKEN</code>.</p>\n"
    "</main>\n</body>\n</html>\n";

enum MHD_Result ui_reply_login_page(struct MHD_Connection *c, int wrong, const char *action) {
    buf page;
    buf_init(&page, 8192);
    int rc = buf_append(&page, LOGIN_HEAD, sizeof(LOGIN_HEAD) - 1);
    if (rc == BUF_OK && wrong)
        rc = buf_append(&page, LOGIN_WRONG, sizeof(LOGIN_WRONG) - 1);
    if (rc == BUF_OK)
        rc = buf_printf(&page, "<form method=\"get\" action=\"%s", action);
    if (rc == BUF_OK)
        rc = buf_append(&page, LOGIN_FORM_REST, sizeof(LOGIN_FORM_REST) - 1);
    struct MHD_Response *r = rc == BUF_OK ? ui_reply_body(&page) : NULL;
    buf_free(&page);
    return ui_reply_nostore(c, wrong ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_OK, r,
                            "text/html; charset=utf-8", NULL, NULL);
}

