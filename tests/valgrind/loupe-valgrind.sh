#!/bin/sh
# loupe-valgrind.sh - runs LOUPE_VALGRIND_BIN (default build/loupe) under
# valgrind's memcheck with the given flags; used as LOUPE_BIN by
# `make valgrind`. Any memory error, and any definitely or indirectly lost
# block at exit, makes the exit status 99 (the test harness fails a test
# whose loupe does not exit with 0). Still-reachable blocks (libraries'
# one-time globals) are not errors.
here=$(dirname "$0")
exec valgrind --quiet --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-origins=yes \
    --num-callers=30 --suppressions="$here/valgrind.supp" \
    "${LOUPE_VALGRIND_BIN:-build/loupe}" "$@"
