/* auth_cases.h - credentials every path of loupe must judge alike.
 *
 * One table of Authorization and x-otlp-api-key values with the verdict for
 * the key AUTH_CASE_KEY. test_http_util checks it against http_util (the one
 * bearer parser and secret comparison), test_otlp_http and test_grpc send it
 * over the wire to each receiver, test_ui_auth checks the Authorization rows
 * against the UI port's token check. The scheme is case-insensitive, spaces
 * and tabs may separate it from the token, the token and the key are
 * case-sensitive and compared whole.
 *
 * `padded` marks values with spaces or tabs around them: HTTP/1.1 strips
 * those before loupe sees the value (RFC 9110 5.5) and HTTP/2 forbids them
 * (RFC 9113 8.2.1: nghttp2 resets such a stream), so they are checked at
 * the function level only.
 */
#ifndef LOUPE_TEST_AUTH_CASES_H
#define LOUPE_TEST_AUTH_CASES_H

#include <stddef.h>

/* A valid UI token too (16+ characters of the token68 set). */
#define AUTH_CASE_KEY "K3y-0123456789_abc"

typedef struct auth_case {
    const char *authorization; /* NULL = header absent */
    const char *api_key;       /* x-otlp-api-key; NULL = header absent */
    int ok;                    /* 1 = accepted with AUTH_CASE_KEY configured */
    int padded;                /* spaces or tabs around a value */
} auth_case;

static const auth_case auth_cases[] = {
    {NULL, NULL, 0, 0},
    /* the scheme's case */
    {"Bearer " AUTH_CASE_KEY, NULL, 1, 0},
    {"bearer " AUTH_CASE_KEY, NULL, 1, 0},
    {"BEARER " AUTH_CASE_KEY, NULL, 1, 0},
    {"bEaReR " AUTH_CASE_KEY, NULL, 1, 0},
    /* what separates the scheme from the token */
    {"Bearer\t" AUTH_CASE_KEY, NULL, 1, 0},
    {"Bearer   " AUTH_CASE_KEY, NULL, 1, 0},
    {"Bearer \t " AUTH_CASE_KEY, NULL, 1, 0},
    {"Bearer" AUTH_CASE_KEY, NULL, 0, 0},
    {"Bearer:" AUTH_CASE_KEY, NULL, 0, 0},
    {"Bearer," AUTH_CASE_KEY, NULL, 0, 0},
    /* not a bearer value */
    {"Bearer", NULL, 0, 0},
    {"Basic " AUTH_CASE_KEY, NULL, 0, 0},
    {"Token " AUTH_CASE_KEY, NULL, 0, 0},
    {AUTH_CASE_KEY, NULL, 0, 0},
    {"", NULL, 0, 0},
    /* the token is case-sensitive and compared whole */
    {"Bearer k3y-0123456789_abc", NULL, 0, 0},
    {"Bearer K3y-0123456789_ab", NULL, 0, 0},
    {"Bearer " AUTH_CASE_KEY "x", NULL, 0, 0},
    {"Bearer " AUTH_CASE_KEY " " AUTH_CASE_KEY, NULL, 0, 0},
    {"Bearer \"" AUTH_CASE_KEY "\"", NULL, 0, 0},
    {"Bearer " AUTH_CASE_KEY AUTH_CASE_KEY, NULL, 0, 0},
    /* around the value */
    {" Bearer " AUTH_CASE_KEY, NULL, 1, 1},
    {"Bearer " AUTH_CASE_KEY " ", NULL, 1, 1},
    {"\tBearer " AUTH_CASE_KEY "\t", NULL, 1, 1},
    {" Bearer ", NULL, 0, 1},
    /* x-otlp-api-key */
    {NULL, AUTH_CASE_KEY, 1, 0},
    {NULL, "k3y-0123456789_abc", 0, 0},
    {NULL, "K3y-0123456789_ab", 0, 0},
    {NULL, AUTH_CASE_KEY "x", 0, 0},
    {NULL, "Bearer " AUTH_CASE_KEY, 0, 0},
    {NULL, "", 0, 0},
    {NULL, " " AUTH_CASE_KEY "\t", 1, 1},
    {NULL, " ", 0, 1},
    /* either header may carry it; a wrong one does not spoil a right one */
    {"Bearer " AUTH_CASE_KEY, "wrong", 1, 0},
    {"Bearer wrong", AUTH_CASE_KEY, 1, 0},
    {"Bearer wrong", "wrong", 0, 0},
};

#define AUTH_N_CASES (sizeof(auth_cases) / sizeof(auth_cases[0]))

#endif
