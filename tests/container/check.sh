#!/bin/sh
# check.sh - the runtime image's files are exactly what the binary needs.
#
#   tests/container/check.sh TREE [BINARY]    (part of make container-test)
#
# TREE is the image's file system (podman export | tar -x). The binary in
# it, usr/local/bin/loupe, must find its program interpreter and every
# library it needs (DT_NEEDED, followed through the libraries themselves)
# in the loader's default directories inside TREE, and TREE must hold no
# other shared object. BINARY (a loupe built on this machine, e.g.
# build/loupe) adds a second view: the library names `ldd BINARY` lists
# must be the ones in TREE. Apart from the libraries, TREE may hold only
# the binary, etc/passwd and etc/group (with the loupe user, uid 10001),
# tmp and data. Needs readelf (binutils).
set -eu

tree=${1:?usage: check.sh TREE [BINARY]}
binary=${2:-}
fail=0
bad() { echo "container-check: $*" >&2; fail=1; }

bin=$tree/usr/local/bin/loupe
[ -x "$bin" ] || { echo "container-check: no executable usr/local/bin/loupe in $tree" >&2; exit 1; }

# The loader's default search path on Debian 12 amd64 (there is no
# ld.so.cache in the image, and the binary has no RUNPATH).
dirs="lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib usr/lib"
find_lib() {
    for d in $dirs; do
        [ -e "$tree/$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }

interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
[ -n "$interp" ] || bad "usr/local/bin/loupe has no program interpreter"
[ -n "$interp" ] && { [ -f "$tree$interp" ] || bad "the program interpreter $interp is not in the image"; }
readelf -d "$bin" | grep -qE '\((RPATH|RUNPATH)\)' && bad "usr/local/bin/loupe has an RPATH/RUNPATH"
readelf -S "$bin" | grep -q '\.symtab' && bad "usr/local/bin/loupe is not stripped"

# The closure of DT_NEEDED, breadth first.
found=""
names=""
queue=$(needed "$bin")
[ -n "$queue" ] || bad "usr/local/bin/loupe needs no library (not a dynamic binary?)"
while [ -n "$queue" ]; do
    next=""
    for n in $queue; do
        case " $names " in *" $n "*) continue ;; esac
        names="$names $n"
        # libc needs the loader by name; it is the program interpreter.
        [ -n "$interp" ] && [ "$n" = "$(basename "$interp")" ] && [ -f "$tree$interp" ] && continue
        if p=$(find_lib "$n"); then
            found="$found $p"
            next="$next $(needed "$tree/$p")"
        else
            bad "library $n (needed by the binary) is not in the image"
        fi
    done
    queue=$next
done

# Every shared object in the image is the loader or a needed library.
for f in $(cd "$tree" && find . -name '*.so*' \( -type f -o -type l \) | sed 's|^\./||' | sort); do
    [ "/$f" = "$interp" ] && continue
    case " $found " in *" $f "*) ;; *) bad "$f is in the image but nothing needs it" ;; esac
done

# Nothing else but the binary, the two account files and two directories.
others=$(cd "$tree" && find . ! -type d ! -name '*.so*' | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$others" = "etc/group etc/passwd usr/local/bin/loupe " ] || bad "unexpected files: $others"
grep -qx 'loupe:x:10001:10001:[^:]*:/data:[^:]*' "$tree/etc/passwd" || bad "etc/passwd has no loupe user with uid 10001"
grep -qx 'loupe:x:10001:' "$tree/etc/group" || bad "etc/group has no loupe group 10001"
[ -d "$tree/data" ] || bad "no data directory"
[ "$(stat -c %a "$tree/tmp" 2>/dev/null)" = 1777 ] || bad "tmp is missing or not mode 1777"

# The host's view: ldd of a loupe built here names the same libraries.
if [ -n "$binary" ]; then
    want=$(ldd "$binary" | awk '$2 == "=>" {print $1} $1 ~ /^\// {print $1}' | sed 's|.*/||' | sort | tr '\n' ' ')
    have=$(for f in $found $interp; do basename "$f"; done | sort | tr '\n' ' ')
    [ "$want" = "$have" ] || bad "ldd $binary lists: $want; the image has: $have"
fi

if [ "$fail" = 0 ]; then
    echo "container-check: ok (loupe, $interp and $(echo "$found" | wc -w) libraries; nothing else but etc/passwd, etc/group, tmp, data)"
fi
exit $fail
