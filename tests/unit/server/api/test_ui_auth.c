/* test_ui_auth.c - unit tests for server/ui_auth.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/ui_auth.h"
#include "server/net/auth_cases.h"

#define TOKEN "fixed-token-0123456789"

static ui_auth *make(const char *token) {
    ui_auth *a = NULL;
    ck_assert_int_eq(ui_auth_new(token, &a), UI_AUTH_OK);
    ck_assert_ptr_nonnull(a);
    return a;
}

static int is_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

START_TEST(test_random_hex) {
    char a[UI_AUTH_RANDOM_LEN + 1], b[UI_AUTH_RANDOM_LEN + 1];
    ck_assert_int_eq(ui_auth_random_hex(a, sizeof(a)), UI_AUTH_OK);
    ck_assert_int_eq(ui_auth_random_hex(b, sizeof(b)), UI_AUTH_OK);
    ck_assert_uint_eq(strlen(a), UI_AUTH_RANDOM_LEN);
    ck_assert(is_hex(a, UI_AUTH_RANDOM_LEN));
    ck_assert_str_ne(a, b); /* 2^-128 chance of a false failure */
    char small[UI_AUTH_RANDOM_LEN];
    ck_assert_int_eq(ui_auth_random_hex(small, sizeof(small)), UI_AUTH_EINVAL);
    ck_assert_int_eq(ui_auth_random_hex(NULL, 100), UI_AUTH_EINVAL);
}
END_TEST

START_TEST(test_new_random_and_fixed) {
    ui_auth *r1 = make(NULL), *r2 = make(""), *f = make(TOKEN);
    ck_assert_uint_eq(strlen(ui_auth_token(r1)), UI_AUTH_RANDOM_LEN);
    ck_assert(is_hex(ui_auth_token(r1), UI_AUTH_RANDOM_LEN));
    ck_assert_str_ne(ui_auth_token(r1), ui_auth_token(r2));
    ck_assert_str_eq(ui_auth_token(f), TOKEN);
    /* the session is its own secret, never the token */
    ck_assert_uint_eq(strlen(ui_auth_session(f)), UI_AUTH_RANDOM_LEN);
    ck_assert_str_ne(ui_auth_session(f), TOKEN);
    ck_assert_str_ne(ui_auth_session(r1), ui_auth_token(r1));
    ck_assert_str_ne(ui_auth_session(r1), ui_auth_session(r2));
    ui_auth_free(r1);
    ui_auth_free(r2);
    ui_auth_free(f);
    ui_auth_free(NULL);
    ck_assert_ptr_null(ui_auth_token(NULL));
}
END_TEST

START_TEST(test_token_check) {
    char err[200];
    ck_assert_int_eq(ui_auth_token_check("0123456789abcdef", 16, err, sizeof(err)), UI_AUTH_OK);
    ck_assert_int_eq(ui_auth_token_check("0123456789abcde", 15, err, sizeof(err)), UI_AUTH_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_ptr_nonnull(strstr(err, "16"));
    ck_assert_int_eq(ui_auth_token_check("", 0, err, sizeof(err)), UI_AUTH_EINVAL);
    ck_assert_int_eq(ui_auth_token_check(NULL, 0, err, sizeof(err)), UI_AUTH_EINVAL);
    ck_assert_int_eq(ui_auth_token_check("abcdefgh+/=~._-AZ09", 19, err, sizeof(err)),
                     UI_AUTH_OK);
    ck_assert_int_eq(ui_auth_token_check("abcdefgh ijklmnopq", 18, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "position 9"));
    ck_assert_int_eq(ui_auth_token_check("abcdefgh;ijklmnopq", 18, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    ck_assert_int_eq(ui_auth_token_check("abcdefgh\"ijklmnop", 17, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    ck_assert_int_eq(ui_auth_token_check("abcdefgh\xc3\xa9ijklmnop", 18, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    /* a NUL inside the stated length is a bad character, not an end */
    ck_assert_int_eq(ui_auth_token_check("abcdefgh\0ijklmnopq", 18, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    char big[UI_AUTH_TOKEN_MAX + 2];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(ui_auth_token_check(big, UI_AUTH_TOKEN_MAX, err, sizeof(err)), UI_AUTH_OK);
    ck_assert_int_eq(ui_auth_token_check(big, UI_AUTH_TOKEN_MAX + 1, err, sizeof(err)),
                     UI_AUTH_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    /* ui_auth_new refuses the same tokens */
    ui_auth *a = NULL;
    ck_assert_int_eq(ui_auth_new("short", &a), UI_AUTH_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(ui_auth_new(big, &a), UI_AUTH_EINVAL);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_token_matches) {
    ui_auth *a = make(TOKEN);
    ck_assert_int_eq(ui_auth_token_matches(a, TOKEN, strlen(TOKEN)), 1);
    /* prefix, suffix, extension, one character off, case */
    ck_assert_int_eq(ui_auth_token_matches(a, TOKEN, strlen(TOKEN) - 1), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, TOKEN + 1, strlen(TOKEN) - 1), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, TOKEN "x", strlen(TOKEN) + 1), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, "fixed-token-0123456788", strlen(TOKEN)), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, "FIXED-TOKEN-0123456789", strlen(TOKEN)), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, "", 0), 0);
    ck_assert_int_eq(ui_auth_token_matches(a, NULL, 0), 0);
    ck_assert_int_eq(ui_auth_token_matches(NULL, TOKEN, strlen(TOKEN)), 0);
    /* the session value is not the token */
    const char *sess = ui_auth_session(a);
    ck_assert_int_eq(ui_auth_token_matches(a, sess, strlen(sess)), 0);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_bearer) {
    ui_auth *a = make(TOKEN);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer " TOKEN), 1);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "bearer " TOKEN), 1);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "BEARER   " TOKEN "  "), 1);
    ck_assert_int_eq(ui_auth_bearer_matches(a, NULL), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, ""), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer"), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer "), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, TOKEN), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Basic " TOKEN), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer" TOKEN), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer fixed-token-012345678"), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer " TOKEN "0"), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer ixed-token-0123456789"), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer " TOKEN " " TOKEN), 0);
    ck_assert_int_eq(ui_auth_bearer_matches(a, "Bearer \"" TOKEN "\""), 0);
    /* the session value is a cookie, not a bearer token */
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Bearer %s", ui_auth_session(a));
    ck_assert_int_eq(ui_auth_bearer_matches(a, hdr), 0);
    /* huge */
    size_t n = 1 << 20;
    char *huge = malloc(n + 1);
    ck_assert_ptr_nonnull(huge);
    memcpy(huge, "Bearer ", 7);
    memset(huge + 7, 'a', n - 7);
    huge[n] = '\0';
    ck_assert_int_eq(ui_auth_bearer_matches(a, huge), 0);
    free(huge);
    ui_auth_free(a);
}
END_TEST

/* Formats a Cookie header around the right session value. */
static void cookie(char *out, size_t outlen, const char *fmt, const ui_auth *a)
    __attribute__((format(printf, 3, 0)));

static void cookie(char *out, size_t outlen, const char *fmt, const ui_auth *a) {
    /* fmt holds exactly one %s: the session */
    const char *at = strstr(fmt, "%s");
    ck_assert_ptr_nonnull(at);
    snprintf(out, outlen, "%.*s%s%s", (int)(at - fmt), fmt, ui_auth_session(a), at + 2);
}

/* The shared credential table (tests/unit/server/net/auth_cases.h): the UI
 * token is accepted in exactly the Authorization values in which the
 * receivers accept an API key. */
START_TEST(test_auth_cases) {
    ui_auth *a = make(AUTH_CASE_KEY);
    for (size_t i = 0; i < AUTH_N_CASES; i++) {
        const auth_case *ac = &auth_cases[i];
        if (ac->api_key != NULL)
            continue; /* the UI port has no x-otlp-api-key */
        ck_assert_msg(ui_auth_bearer_matches(a, ac->authorization) == ac->ok, "case %zu", i);
        ck_assert_msg(ui_auth_request_ok(a, NULL, ac->authorization) == ac->ok, "case %zu", i);
    }
    ui_auth_free(a);
}
END_TEST

START_TEST(test_cookie_good) {
    ui_auth *a = make(NULL);
    char h[512];
    cookie(h, sizeof(h), "loupe_session=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    cookie(h, sizeof(h), "a=1; loupe_session=%s; b=2", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    cookie(h, sizeof(h), "a=1;loupe_session=%s;b=2", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    cookie(h, sizeof(h), "  loupe_session = %s  ", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    /* RFC 6265: a value may be in double quotes */
    cookie(h, sizeof(h), "loupe_session=\"%s\"", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    /* one stale copy and one right copy (e.g. from before a restart) */
    cookie(h, sizeof(h), "loupe_session=00000000000000000000000000000000; loupe_session=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 1);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_cookie_hostile) {
    ui_auth *a = make(TOKEN);
    const char *s = ui_auth_session(a);
    char h[512];
    ck_assert_int_eq(ui_auth_cookie_matches(a, NULL), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, ""), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, ";;;;"), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, "="), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, "loupe_session"), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, "loupe_session="), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, "loupe_session=\"\""), 0);
    ck_assert_int_eq(ui_auth_cookie_matches(a, "loupe_session=\""), 0);
    /* no '=': the name and value glued together are not the cookie */
    cookie(h, sizeof(h), "loupe_session%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    /* names are case-sensitive and exact */
    cookie(h, sizeof(h), "LOUPE_SESSION=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "Loupe_session=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "xloupe_session=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "loupe_sessionx=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "loupe_session=x%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "loupe_session=%sx", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    /* prefix and suffix of the right value */
    snprintf(h, sizeof(h), "loupe_session=%.31s", s);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    snprintf(h, sizeof(h), "loupe_session=%s", s + 1);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    /* wrong case of the (hex) value */
    char upper[UI_AUTH_RANDOM_LEN + 1];
    int has_letter = 0;
    for (size_t i = 0; i <= UI_AUTH_RANDOM_LEN; i++) {
        upper[i] = s[i];
        if (s[i] >= 'a' && s[i] <= 'f') {
            upper[i] = (char)(s[i] - 'a' + 'A');
            has_letter = 1;
        }
    }
    if (has_letter) {
        snprintf(h, sizeof(h), "loupe_session=%s", upper);
        ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    }
    /* the value split by a separator, quoted only on one side */
    snprintf(h, sizeof(h), "loupe_session=%.16s;%s", s, s + 16);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    cookie(h, sizeof(h), "loupe_session=\"%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(a, h), 0);
    /* the token itself is not a session */
    ck_assert_int_eq(ui_auth_cookie_matches(a, "loupe_session=" TOKEN), 0);
    /* a NULL authenticator accepts nothing here */
    cookie(h, sizeof(h), "loupe_session=%s", a);
    ck_assert_int_eq(ui_auth_cookie_matches(NULL, h), 0);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_cookie_huge_and_many) {
    ui_auth *a = make(NULL);
    const char *s = ui_auth_session(a);
    /* 1 MiB of one value */
    size_t n = 1 << 20;
    char *huge = malloc(n + 64);
    ck_assert_ptr_nonnull(huge);
    int k = snprintf(huge, n + 64, "loupe_session=");
    memset(huge + k, 'a', n - (size_t)k);
    huge[n] = '\0';
    ck_assert_int_eq(ui_auth_cookie_matches(a, huge), 0);
    /* 20,000 cookies, the right one last */
    size_t off = 0;
    for (int i = 0; i < 20000; i++)
        off += (size_t)snprintf(huge + off, n + 64 - off, "c%d=v%d; ", i, i);
    snprintf(huge + off, n + 64 - off, "loupe_session=%s", s);
    ck_assert_int_eq(ui_auth_cookie_matches(a, huge), 1);
    /* 20,000 wrong copies of the cookie */
    off = 0;
    for (int i = 0; i < 20000; i++)
        off += (size_t)snprintf(huge + off, n + 64 - off, "loupe_session=%031d;", i);
    ck_assert_int_eq(ui_auth_cookie_matches(a, huge), 0);
    /* only separators */
    memset(huge, ';', n);
    huge[n] = '\0';
    ck_assert_int_eq(ui_auth_cookie_matches(a, huge), 0);
    memset(huge, '=', n);
    ck_assert_int_eq(ui_auth_cookie_matches(a, huge), 0);
    free(huge);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_request_ok) {
    ui_auth *a = make(TOKEN);
    char c[128];
    snprintf(c, sizeof(c), "loupe_session=%s", ui_auth_session(a));
    ck_assert_int_eq(ui_auth_request_ok(a, NULL, NULL), 0);
    ck_assert_int_eq(ui_auth_request_ok(a, c, NULL), 1);
    ck_assert_int_eq(ui_auth_request_ok(a, NULL, "Bearer " TOKEN), 1);
    ck_assert_int_eq(ui_auth_request_ok(a, "loupe_session=nope", "Bearer " TOKEN), 1);
    ck_assert_int_eq(ui_auth_request_ok(a, c, "Bearer wrong-token-0123456789"), 1);
    ck_assert_int_eq(ui_auth_request_ok(a, "loupe_session=nope", "Bearer nope"), 0);
    /* auth off */
    ck_assert_int_eq(ui_auth_request_ok(NULL, NULL, NULL), 1);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_set_cookie) {
    ui_auth *a = make(NULL);
    char out[256], want[256];
    ck_assert_int_eq(ui_auth_set_cookie(a, NULL, out, sizeof(out)), UI_AUTH_OK);
    snprintf(want, sizeof(want), "loupe_session=%s; HttpOnly; SameSite=Strict; Path=/",
             ui_auth_session(a));
    ck_assert_str_eq(out, want);
    ck_assert_ptr_null(strstr(out, ui_auth_token(a)));
    ck_assert_ptr_null(strstr(out, "Max-Age"));
    ck_assert_ptr_null(strstr(out, "Expires"));
    /* the value it sets is one the cookie check accepts */
    char hdr[256];
    const char *semi = strchr(out, ';');
    snprintf(hdr, sizeof(hdr), "%.*s", (int)(semi - out), out);
    ck_assert_int_eq(ui_auth_cookie_matches(a, hdr), 1);
    /* under a base path (--base-path) the cookie goes to that path only */
    ck_assert_int_eq(ui_auth_set_cookie(a, "/tools/loupe", out, sizeof(out)), UI_AUTH_OK);
    snprintf(want, sizeof(want), "loupe_session=%s; HttpOnly; SameSite=Strict; Path=/tools/loupe",
             ui_auth_session(a));
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(ui_auth_set_cookie(a, "", out, sizeof(out)), UI_AUTH_OK);
    ck_assert_ptr_nonnull(strstr(out, "; Path=/"));
    ck_assert_int_eq(ui_auth_set_cookie(a, NULL, out, 20), UI_AUTH_EINVAL);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(ui_auth_set_cookie(NULL, NULL, out, sizeof(out)), UI_AUTH_EINVAL);
    ui_auth_free(a);
}
END_TEST

START_TEST(test_classify) {
    ck_assert_int_eq(ui_auth_classify("/healthz"), UI_AUTH_PATH_OPEN);
    ck_assert_int_eq(ui_auth_classify("/readyz"), UI_AUTH_PATH_OPEN);
    ck_assert_int_eq(ui_auth_classify("/favicon.svg"), UI_AUTH_PATH_OPEN);
    ck_assert_int_eq(ui_auth_classify("/login"), UI_AUTH_PATH_LOGIN);
    ck_assert_int_eq(ui_auth_classify("/api"), UI_AUTH_PATH_API);
    ck_assert_int_eq(ui_auth_classify("/api/v1/traces"), UI_AUTH_PATH_API);
    ck_assert_int_eq(ui_auth_classify("/api/"), UI_AUTH_PATH_API);
    ck_assert_int_eq(ui_auth_classify("/metrics"), UI_AUTH_PATH_API);
    ck_assert_int_eq(ui_auth_classify("/"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/traces"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/index.html"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/apix"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/healthz/"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/login/"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/LOGIN"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("/metrics/x"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify("//healthz"), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify(""), UI_AUTH_PATH_PAGE);
    ck_assert_int_eq(ui_auth_classify(NULL), UI_AUTH_PATH_PAGE);
}
END_TEST

static Suite *ui_auth_suite(void) {
    Suite *s = suite_create("ui_auth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_random_hex);
    tcase_add_test(tc, test_new_random_and_fixed);
    tcase_add_test(tc, test_token_check);
    tcase_add_test(tc, test_token_matches);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_auth_cases);
    tcase_add_test(tc, test_cookie_good);
    tcase_add_test(tc, test_cookie_hostile);
    tcase_add_test(tc, test_cookie_huge_and_many);
    tcase_add_test(tc, test_request_ok);
    tcase_add_test(tc, test_set_cookie);
    tcase_add_test(tc, test_classify);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(ui_auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
