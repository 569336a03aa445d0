#!/bin/sh
# lint-includes.sh - the layers' dependency rules, checked on every
# #include "..." in util/, storage/ and server/ (docs/ARCHITECTURE.md).
#
#   scripts/lint-includes.sh [ROOT]
#
# A file includes headers of its own folder by bare name and headers of other
# folders by their path from the project root ("storage/store.h"). Each
# folder may include only the folders below it:
#
#   util/            util/
#   storage/         storage/ util/
#   server/net/      server/net/ storage/ util/
#   server/decode/   server/decode/ storage/ util/   (+ generated protobuf-c)
#   server/receive/  server/receive/ server/decode/ server/net/ storage/ util/
#   server/api/      server/api/ server/decode/ server/net/ storage/ util/
#   server/forward/  server/forward/ server/decode/ server/net/ storage/ util/
#   server/cli/      server/cli/ server/net/ util/   (a client over HTTP: no store)
#   server/          anything (main.c and config.c wire the layers together)
#
# Receivers and the UI/API never include each other; the store knows no
# protocol; decoding knows no transport; only storage/ includes <sqlite3.h>;
# only server/main.c includes server/forward/.
# Exits 1 naming every crossing.
set -eu
root=${1:-.}
cd "$root"

allowed() {
    case $1 in
    util) echo "util" ;;
    storage) echo "storage util" ;;
    server/net) echo "server/net storage util" ;;
    server/decode) echo "server/decode storage util gen" ;;
    server/receive) echo "server/receive server/decode server/net storage util" ;;
    server/api) echo "server/api server/decode server/net storage util" ;;
    server/forward) echo "server/forward server/decode server/net storage util" ;;
    server/cli) echo "server/cli server/net util" ;;
    server) echo "any" ;;
    *) echo "" ;;
    esac
}

# The layer a root-relative header path belongs to.
layer_of() {
    case $1 in
    util/*) echo util ;;
    storage/*) echo storage ;;
    server/net/*) echo server/net ;;
    server/decode/*) echo server/decode ;;
    server/receive/*) echo server/receive ;;
    server/api/*) echo server/api ;;
    server/forward/*) echo server/forward ;;
    server/cli/*) echo server/cli ;;
    server/*) echo server ;;
    opentelemetry/* | google/*) echo gen ;;
    *) echo unknown ;;
    esac
}

bad=0
files=$(find util storage server -name '*.[ch]' | sort)
for f in $files; do
    dir=$(dirname "$f")
    rules=$(allowed "$dir")
    if [ -z "$rules" ]; then
        echo "lint-includes: $f: folder $dir has no layer (add it to scripts/lint-includes.sh)"
        bad=1
        continue
    fi
    # "N:header" for every quoted include.
    for hit in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $hit in
        */*)
            target=$(layer_of "$hit")
            if [ "$target" != gen ] && [ ! -f "$hit" ]; then
                echo "lint-includes: $f includes \"$hit\", which does not exist"
                bad=1
                continue
            fi
            ;;
        *)
            if [ -f "$dir/$hit" ]; then
                continue
            fi
            echo "lint-includes: $f includes \"$hit\" by bare name, but it is not in $dir/" \
                "(name another folder's header by its path from the root)"
            bad=1
            continue
            ;;
        esac
        [ "$rules" = any ] && continue
        ok=0
        for r in $rules; do
            [ "$r" = "$target" ] && ok=1
        done
        if [ $ok = 0 ]; then
            echo "lint-includes: $f ($dir) includes \"$hit\" ($target): not allowed;" \
                "$dir may include: $rules"
            bad=1
        fi
    done
done
# Only storage/ speaks SQL: nothing else includes SQLite's header (the API
# reads through store_reader and the query functions, storage/store.h).
for f in $(grep -l '#[[:space:]]*include[[:space:]]*<sqlite3.h>' $files 2>/dev/null || true); do
    case $f in
    storage/*) ;;
    *)
        echo "lint-includes: $f includes <sqlite3.h>: only storage/ may"
        bad=1
        ;;
    esac
done
# The forwarder is wired by main.c alone.
for f in $(grep -l '#[[:space:]]*include[[:space:]]*"server/forward/' $files 2>/dev/null || true); do
    case $f in
    server/main.c | server/forward/*) ;;
    *)
        echo "lint-includes: $f includes server/forward/: only server/main.c may"
        bad=1
        ;;
    esac
done
if [ $bad != 0 ]; then
    echo "lint-includes: layer rules broken (see scripts/lint-includes.sh)"
    exit 1
fi
echo "lint-includes: ok ($(echo "$files" | wc -l) files)"
