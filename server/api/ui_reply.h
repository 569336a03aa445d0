/* ui_reply.h - the UI port's answers: headers every response carries, JSON
 * bodies and errors, redirects and the login page.
 *
 * Every response leaves through ui_reply_queue(), which adds the security
 * headers (CSP, nosniff, no-referrer, DENY), a Retry-After on a 503, and
 * tells the connection guard the request was answered. The functions return
 * what MHD_queue_response() returned, or MHD_NO when the response could not
 * be built (out of memory: libmicrohttpd then closes the connection). They
 * run on libmicrohttpd's worker threads and keep no state.
 */
#ifndef LOUPE_UI_REPLY_H
#define LOUPE_UI_REPLY_H

#include <microhttpd.h>

#include "util/buf.h"

/* Queues r with the security headers and releases the caller's reference
 * (r may be NULL: MHD_NO). */
enum MHD_Result ui_reply_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);

/* A response that owns the bytes of out (detached: out is left empty), or
 * NULL when out is empty or memory is short. */
struct MHD_Response *ui_reply_body(buf *out);

/* Queues r (NULL: MHD_NO) with Content-Type type (unless NULL),
 * Cache-Control: no-store and one more header name: value unless value is
 * NULL. */
enum MHD_Result ui_reply_nostore(struct MHD_Connection *c, unsigned status,
                                 struct MHD_Response *r, const char *type, const char *name,
                                 const char *value);

/* Sends the JSON document in out with the API headers and an Allow header
 * unless allow is NULL; out's memory is taken over or freed (out is left
 * empty, ready for buf_free or reuse). When out is empty (not even an error
 * document could be built), sends a fixed 500 instead. */
enum MHD_Result ui_reply_json(struct MHD_Connection *c, unsigned status, buf *out,
                              const char *allow);

/* Replaces the JSON document in out by its gzip (memory taken over, out
 * keeps its cap) when that is worth it: 1 when out now holds gzip, 0 when
 * it was left as it was (small, or the compression failed or did not
 * shrink it). */
int ui_reply_gzip(buf *out);

/* An API answer: ui_reply_json() with Vary: Accept-Encoding, and
 * Content-Encoding: gzip when gzipped (out holds what ui_reply_gzip()
 * made). */
enum MHD_Result ui_reply_api(struct MHD_Connection *c, unsigned status, buf *out,
                             const char *allow, int gzipped);

/* Sends the API error document for status (api_error_json) with message. */
enum MHD_Result ui_reply_error(struct MHD_Connection *c, unsigned status, const char *message,
                               const char *allow);

/* 405 for a route that answers GET and HEAD only (Allow: GET, HEAD). */
enum MHD_Result ui_reply_get_only(struct MHD_Connection *c);

/* 401 with WWW-Authenticate: Bearer and how to authenticate. */
enum MHD_Result ui_reply_unauthorized(struct MHD_Connection *c);

/* A 303 to location, with a Set-Cookie value unless set_cookie is NULL. */
enum MHD_Result ui_reply_redirect(struct MHD_Connection *c, const char *location,
                                  const char *set_cookie);

/* The login form, sent to `action` (the login path, under --base-path;
 * a checked path, written as it is); with `wrong`, a 401 that says the
 * token was wrong. */
enum MHD_Result ui_reply_login_page(struct MHD_Connection *c, int wrong, const char *action);

#endif
