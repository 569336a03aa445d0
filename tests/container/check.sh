#!/bin/sh
# check.sh - static checks of the Dockerfile (Docker itself is not needed).
#
#   tests/container/check.sh [DOCKERFILE] [BINARY]    (make docker-check)
#
# The runtime stage's apt-get install line must cover every shared library
# that `ldd BINARY` lists: each library's Debian package (dpkg -S) has to be
# one of the listed packages or one of their dependencies (installed with
# them). Every listed package must provide at least one of those libraries
# (the image holds only what the binary needs). The stage must also keep
# its shape: debian:12 build, debian:12-slim runtime, --no-install-recommends,
# apt lists removed, a non-root USER, VOLUME /data, the three ports, a
# HEALTHCHECK. Run on Debian 12 with the runtime packages installed (they
# are, as dependencies of the -dev packages the build needs).
set -eu

dockerfile=${1:-Dockerfile}
binary=${2:-build/loupe}
fail=0
bad() { echo "docker-check: $*" >&2; fail=1; }

[ -f "$dockerfile" ] || { echo "docker-check: no $dockerfile" >&2; exit 1; }
[ -x "$binary" ] || { echo "docker-check: no $binary (run make first)" >&2; exit 1; }

# The runtime stage: everything after the last FROM, continuation lines
# joined.
stage=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$dockerfile" |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta')

froms=$(grep -E '^FROM ' "$dockerfile" | awk '{print $2}' | tr '\n' ' ')
[ "$froms" = "debian:12 debian:12-slim " ] || bad "stages are FROM $froms (want debian:12, then debian:12-slim)"

install=$(printf '%s\n' "$stage" | grep -E '^RUN .*apt-get install' | head -n 1)
[ -n "$install" ] || { echo "docker-check: no apt-get install in the runtime stage" >&2; exit 1; }
case $install in *--no-install-recommends*) ;; *) bad "runtime apt-get install without --no-install-recommends" ;; esac
case $install in *'rm -rf /var/lib/apt/lists/*'*) ;; *) bad "runtime stage keeps the apt lists" ;; esac
# The package names: the words after --no-install-recommends up to "&&".
pkgs=$(printf '%s\n' "$install" | sed -e 's/.*--no-install-recommends//' -e 's/&&.*//' | tr -s ' \t' '\n' | grep -v '^$' || true)
[ -n "$pkgs" ] || bad "no packages named in the runtime apt-get install"

printf '%s\n' "$stage" | grep -qE '^USER +[^r0]' || bad "no non-root USER in the runtime stage"
printf '%s\n' "$stage" | grep -qE '^VOLUME +(\["?)?/data' || bad "no VOLUME /data"
for port in 18888 4317 4318; do
    printf '%s\n' "$stage" | grep -E '^EXPOSE ' | grep -qw "$port" || bad "port $port not in EXPOSE"
done
printf '%s\n' "$stage" | grep -qE '^HEALTHCHECK .*CMD' || bad "no HEALTHCHECK"

# The packages apt installs for that line: the listed ones and, recursively,
# their Depends and Pre-Depends (every alternative counted).
closure=""
queue=$pkgs
while [ -n "$queue" ]; do
    next=""
    for p in $queue; do
        case " $closure " in *" $p "*) continue ;; esac
        closure="$closure $p"
        deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null) ||
            { bad "package $p is not installed here (not a Debian 12 package name?)"; continue; }
        next="$next $(printf '%s\n' "$deps" | tr ',|' '\n\n' | sed -e 's/([^)]*)//g' -e 's/:any//' |
            tr -d ' ' | grep -v '^$' || true)"
    done
    queue=$next
done

# The package that owns a library path; /lib and /usr/lib are the same
# directory on Debian 12 (merged /usr), dpkg knows one of the two names.
owner() {
    for f in "$1" "$(readlink -f "$1")"; do
        for g in "$f" "/usr$f" "${f#/usr}"; do
            o=$(dpkg -S "$g" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$o" ] &&
                { echo "$o"; return 0; }
        done
    done
    return 1
}

libs=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
[ -n "$libs" ] || bad "ldd $binary lists no libraries"
used=""
for lib in $libs; do
    o=$(owner "$lib") || { bad "$lib belongs to no Debian package"; continue; }
    case " $closure " in
    *" $o "*) used="$used $o" ;;
    *) bad "$lib is in package $o, which the runtime stage does not install" ;;
    esac
done
for p in $pkgs; do
    case " $used " in *" $p "*) ;; *) bad "runtime package $p provides none of the libraries $binary links" ;; esac
done

if [ "$fail" = 0 ]; then
    echo "docker-check: ok ($(echo "$libs" | wc -l) libraries of $binary from:$(echo $pkgs | tr '\n' ' ') and their dependencies)"
fi
exit $fail
