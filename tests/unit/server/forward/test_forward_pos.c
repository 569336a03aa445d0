/* test_forward_pos.c - server/forward/forward_pos.c: a destination's
 * positions written atomically and read back; a missing file is no error,
 * a damaged one is refused (the forwarder then starts at the end). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/forward/forward_internal.h"

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof(dir), "/tmp/loupe-fwdpos-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void tails(query_tail *t) {
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++)
        ck_assert_int_eq(query_tail_init(&t[s], s), QUERY_OK);
}

static void free_tails(query_tail *t) {
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++)
        query_tail_free(&t[s]);
}

static void write_file(const forward_dest *d, const char *text) {
    char path[256];
    snprintf(path, sizeof(path), "%s/forward-%s.pos", dir, d->key);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_round_trip) {
    forward_dest d;
    char err[256];
    ck_assert_int_eq(forward_dest_parse("grpc://collector:4317", NULL, &d, err, sizeof(err)), 0);
    query_tail t[MODEL_SIGNAL_COUNT], back[MODEL_SIGNAL_COUNT];
    tails(t);
    tails(back);
    int found[MODEL_SIGNAL_COUNT];
    /* no file yet: nothing found, no error */
    ck_assert_int_eq(forward_pos_load(dir, &d, back, found, err, sizeof(err)), 0);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++)
        ck_assert_int_eq(found[s], 0);
    ck_assert_int_eq(query_tail_set(&t[MODEL_SIGNAL_TRACES], 12, 340), QUERY_OK);
    ck_assert_int_eq(query_tail_set(&t[MODEL_SIGNAL_TRACES], 3, 7), QUERY_OK);
    ck_assert_int_eq(query_tail_set(&t[MODEL_SIGNAL_LOGS], 13, 9981), QUERY_OK);
    /* metrics: no segment yet */
    ck_assert_int_eq(forward_pos_save(dir, &d, t, err, sizeof(err)), 0);
    ck_assert_int_eq(forward_pos_load(dir, &d, back, found, err, sizeof(err)), 0);
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        ck_assert_int_eq(found[s], 1);
        ck_assert_uint_eq(back[s].n, t[s].n);
        for (size_t i = 0; i < t[s].n; i++) {
            ck_assert_int_eq(back[s].segs[i].seg, t[s].segs[i].seg);
            ck_assert_int_eq(back[s].segs[i].row, t[s].segs[i].row);
        }
    }
    ck_assert_int_eq(back[MODEL_SIGNAL_TRACES].segs[0].seg, 3); /* kept ascending */
    /* no temporary file is left behind */
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s/forward-%s.pos.tmp", dir, d.key);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    /* another destination has its own file */
    forward_dest other;
    ck_assert_int_eq(forward_dest_parse("http://collector:4318", NULL, &other, err, sizeof(err)), 0);
    query_tail none[MODEL_SIGNAL_COUNT];
    tails(none);
    ck_assert_int_eq(forward_pos_load(dir, &other, none, found, err, sizeof(err)), 0);
    ck_assert_int_eq(found[MODEL_SIGNAL_TRACES], 0);
    free_tails(none);
    free_tails(back);
    free_tails(t);
}
END_TEST

START_TEST(test_damaged_files) {
    forward_dest d;
    char err[256];
    ck_assert_int_eq(forward_dest_parse("http://c:4318", NULL, &d, err, sizeof(err)), 0);
    static const char *bad[] = {
        "",
        "not a position file\n",
        "loupe-forward 1\ntraces 1:2",                /* cut: no final newline */
        "loupe-forward 1\nspans 1:2\n",               /* no such signal */
        "loupe-forward 1\nlogs 1-2\n",                /* no colon */
        "loupe-forward 1\nlogs 0:2\n",                /* segment ids start at 1 */
        "loupe-forward 1\nlogs 1:-2\n",               /* a negative row */
        "loupe-forward 1\nlogs 1:2x\n",               /* trailing junk */
        "loupe-forward 1\nlogs 1:\n",                 /* no row */
        "loupe-forward 1\nlogs 99999999999999999999:1\n", /* out of range */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(&d, bad[i]);
        query_tail t[MODEL_SIGNAL_COUNT];
        tails(t);
        int found[MODEL_SIGNAL_COUNT];
        err[0] = '\0';
        ck_assert_msg(forward_pos_load(dir, &d, t, found, err, sizeof(err)) == -1, "accepted: %s",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "not a position file"));
        for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
            ck_assert_int_eq(found[s], 0);
            ck_assert_uint_eq(t[s].n, 0);
        }
        free_tails(t);
    }
    /* a signal without a line is not found (it starts at the end) */
    write_file(&d, "loupe-forward 1\ndest http://c:4318\nlogs 4:10 6:0\n");
    query_tail t[MODEL_SIGNAL_COUNT];
    tails(t);
    int found[MODEL_SIGNAL_COUNT];
    ck_assert_int_eq(forward_pos_load(dir, &d, t, found, err, sizeof(err)), 0);
    ck_assert_int_eq(found[MODEL_SIGNAL_LOGS], 1);
    ck_assert_int_eq(found[MODEL_SIGNAL_TRACES], 0);
    ck_assert_uint_eq(t[MODEL_SIGNAL_LOGS].n, 2);
    free_tails(t);
    /* an unwritable directory is an error with a reason, not a crash */
    query_tail w[MODEL_SIGNAL_COUNT];
    tails(w);
    ck_assert_int_eq(forward_pos_save("/nonexistent/loupe", &d, w, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot write"));
    free_tails(w);
}
END_TEST

int main(void) {
    Suite *s = suite_create("forward_pos");
    TCase *tc = tcase_create("pos");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_damaged_files);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
