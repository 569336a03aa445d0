/* test_ch_sql.c - SQL literals and TabSeparated fields for ClickHouse
 * (storage/ch_sql.c): every byte escaped so that nothing a user sends can
 * end a literal or a field, and answers read back exactly. (That
 * ClickHouse itself reads the escapes back to the same bytes is proven
 * against a real server by tests/interop/clickhouse.test.mjs.) */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ch_sql.h"

/* 1 when the literal in b is one well-formed quoted string: opens and
 * closes with a quote, no unescaped quote or raw control byte inside. */
static int one_literal(const buf *b) {
    if (b->len < 2 || b->ptr[0] != '\'' || b->ptr[b->len - 1] != '\'')
        return 0;
    for (size_t i = 1; i + 1 < b->len; i++) {
        unsigned char c = (unsigned char)b->ptr[i];
        if (c == '\\') {
            i++; /* the escaped byte */
            if (i + 1 >= b->len)
                return 0; /* an escape may not swallow the closing quote */
            continue;
        }
        if (c == '\'' || c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

START_TEST(test_quote_every_byte) {
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(ch_sql_quote(&b, all, sizeof(all)), BUF_OK);
    ck_assert(one_literal(&b));
    /* reading it back as an answer field gives the same bytes */
    buf f;
    buf_init(&f, 1 << 16);
    buf_append(&f, b.ptr + 1, b.len - 2);
    buf_append_char(&f, '\n');
    char *p = f.ptr;
    ch_field fld[2];
    ck_assert_int_eq(ch_tsv_row(&p, f.ptr + f.len, fld, 2), 1);
    ck_assert_uint_eq(fld[0].len, 256);
    ck_assert_mem_eq(fld[0].ptr, all, 256);
    buf_free(&b);
    buf_free(&f);
}
END_TEST

START_TEST(test_quote_hostile) {
    static const char *const hostile[] = {
        "'); DROP TABLE spans; --", "\\", "\\'", "'", "a\tb\nc\r", "\\x27", "",
        "\xff\xfe not utf-8", "ünïcödé ✓", "\\\\'\\'", "%s%n", "\x7f\x01",
    };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        buf b;
        buf_init(&b, 4096);
        ck_assert_int_eq(ch_sql_quote_str(&b, hostile[i]), BUF_OK);
        ck_assert_msg(one_literal(&b), "case %zu: %s", i, b.ptr);
        buf_free(&b);
    }
}
END_TEST

START_TEST(test_quote_cap) {
    buf b;
    buf_init(&b, 8);
    ck_assert_int_eq(ch_sql_quote_str(&b, "0123456789"), BUF_ETOOBIG);
    buf_free(&b);
}
END_TEST

START_TEST(test_bytes_as_unhex) {
    const uint8_t id[4] = {0x00, 0x27, 0xab, 0xff};
    buf b;
    buf_init(&b, 256);
    ck_assert_int_eq(ch_sql_bytes(&b, id, 4), BUF_OK);
    ck_assert_str_eq(b.ptr, "unhex('0027abff')");
    buf_free(&b);
}
END_TEST

START_TEST(test_tsv_field_has_no_separator) {
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    buf row;
    buf_init(&row, 1 << 16);
    ck_assert_int_eq(ch_tsv_escape(&row, all, 256), BUF_OK);
    ck_assert_ptr_null(memchr(row.ptr, '\t', row.len));
    ck_assert_ptr_null(memchr(row.ptr, '\n', row.len));
    buf_append_char(&row, '\t');
    ch_tsv_bytes(&row, (const uint8_t *)"\t\n\\", 3);
    buf_append_char(&row, '\n');
    char *p = row.ptr;
    ch_field f[3];
    ck_assert_int_eq(ch_tsv_row(&p, row.ptr + row.len, f, 3), 2);
    ck_assert_uint_eq(f[0].len, 256);
    ck_assert_mem_eq(f[0].ptr, all, 256);
    ck_assert_uint_eq(f[1].len, 3);
    ck_assert_mem_eq(f[1].ptr, "\t\n\\", 3);
    ck_assert_int_eq(ch_tsv_row(&p, row.ptr + row.len, f, 3), 0); /* the end */
    buf_free(&row);
}
END_TEST

START_TEST(test_tsv_rows) {
    /* as ClickHouse writes them: escapes it uses, \N for NULL, a last line
     * without its newline */
    char text[] = "a\\tb\t12\t\\N\nx\\\\y\t-3\t2.5\nlast\t\t";
    char *p = text, *end = text + strlen(text);
    ch_field f[3];
    ck_assert_int_eq(ch_tsv_row(&p, end, f, 3), 3);
    ck_assert_str_eq(f[0].ptr, "a\tb");
    ck_assert_uint_eq(ch_field_u64(&f[1]), 12);
    ck_assert_uint_eq(f[2].len, 0);
    ck_assert_int_eq(ch_tsv_row(&p, end, f, 3), 3);
    ck_assert_str_eq(f[0].ptr, "x\\y");
    ck_assert_int_eq(ch_field_i64(&f[1]), -3);
    ck_assert_double_eq(ch_field_double(&f[2]), 2.5);
    ck_assert_int_eq(ch_tsv_row(&p, end, f, 3), 3);
    ck_assert_str_eq(f[0].ptr, "last");
    ck_assert_int_eq(ch_tsv_row(&p, end, f, 3), 0);
    /* more fields than room */
    char wide[] = "1\t2\t3\t4\n";
    p = wide;
    ck_assert_int_eq(ch_tsv_row(&p, wide + strlen(wide), f, 3), -1);
    /* a truncated escape at the end stays as it is */
    char cut[] = "ab\\";
    p = cut;
    ck_assert_int_eq(ch_tsv_row(&p, cut + strlen(cut), f, 3), 1);
    ck_assert_str_eq(f[0].ptr, "ab\\");
}
END_TEST

int main(void) {
    Suite *s = suite_create("ch_sql");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_quote_every_byte);
    tcase_add_test(tc, test_quote_hostile);
    tcase_add_test(tc, test_quote_cap);
    tcase_add_test(tc, test_bytes_as_unhex);
    tcase_add_test(tc, test_tsv_field_has_no_separator);
    tcase_add_test(tc, test_tsv_rows);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
