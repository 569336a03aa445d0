#!/bin/sh
# build.sh - builds the libFuzzer targets with clang into build/fuzz/.
#
#   tests/fuzz/build.sh                 build every tests/fuzz/fuzz_*.c
#   build/fuzz/fuzz_grpc_frame -max_total_time=60 tests/fuzz/corpus/grpc_frame
#   build/fuzz/fuzz_grpc_h2 -max_total_time=60 tests/fuzz/corpus/grpc_h2
#
# (libFuzzer writes new inputs into the first corpus directory given; pass a
# scratch directory first to keep the checked-in seeds unchanged.)
# The library is compiled once with -fsanitize=fuzzer-no-link plus ASan and
# UBSan (make SANITIZE=..., CC=clang, which implies the LOUPE_TESTING flavour);
# each target links it with -fsanitize=fuzzer and LOUPE_TESTING too (the test
# hooks, such as grpc_detached.h, exist only there).
set -eu
cd "$(dirname "$0")/../.."
SAN=address,undefined,fuzzer-no-link
LIBDIR=build/san-$(echo "$SAN" | tr ',' '-')
make --no-print-directory -j2 CC=clang SANITIZE="$SAN" "$LIBDIR/libloupe.a" >/dev/null
mkdir -p build/fuzz
PKGS="libmicrohttpd libnghttp2 libprotobuf-c sqlite3 zlib jansson"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    clang -std=c11 -D_GNU_SOURCE -DLOUPE_TESTING -g -O1 -fsanitize=fuzzer,address,undefined \
        -I. -I"$LIBDIR/gen" $(pkg-config --cflags $PKGS) \
        -o "build/fuzz/$name" "$src" "$LIBDIR/libloupe.a" $(pkg-config --libs $PKGS) -pthread -lm
    echo "built build/fuzz/$name"
done
