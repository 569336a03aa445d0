#!/bin/sh
# deps.sh - install what loupe needs to build (and to test), if it is missing.
# Building needs Node.js too: the web UI is assembled at build time.
#
#   scripts/deps.sh build   Debian packages to build and run loupe
#   scripts/deps.sh test    ... plus the test tooling (Check, Node.js, npm
#                           packages from the committed lockfile, h2load,
#                           lintian, podman, ...)
#
# Fast when everything is present: it only asks dpkg what is installed.
# As root it installs the missing packages with apt-get; otherwise it names
# them and the one command that installs them, and fails.
set -eu

what=${1:-build}
build_pkgs="gcc make pkg-config libmicrohttpd-dev libnghttp2-dev libprotobuf-c-dev \
protobuf-c-compiler libsqlite3-dev zlib1g-dev libjansson-dev libcurl4-gnutls-dev nodejs npm"
# The package and container tests (make deb-test, make container-test) add
# dpkg-dev (dpkg-shlibdeps), lintian, adduser and systemd (the package's
# user and unit: systemctl, systemd-analyze), podman with runc, and
# debootstrap for the image's Debian 12 base; libxml2-utils (xmllint)
# checks the JUnit reports of loupe expect. nginx is the reverse proxy of
# the --base-path tests, which run their own in the foreground from a
# generated configuration (the package's own service is not used; Debian
# starts it on port 80 at install unless a policy-rc.d forbids that).
# clickhouse-server is the ClickHouse store's tests' (and make bench's)
# server: each test starts its own from a generated configuration in a
# temporary directory; the package's own service is not used.
test_pkgs="check nghttp2-client chromium wrk curl clang libclang-rt-14-dev sqlite3 valgrind \
dpkg-dev lintian adduser systemd podman runc debootstrap libxml2-utils nginx clickhouse-server"

pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$build_pkgs $test_pkgs"

missing=""
for p in $pkgs; do
    # nodejs/npm may come from elsewhere (a newer Node.js install): a working
    # command is enough for them.
    case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # Services of the packages (nginx, clickhouse-server) are not started
        # at install: the tests run their own. A policy-rc.d of our own, only
        # when there is none, only for the install.
        policy=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            policy=/usr/sbin/policy-rc.d
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
        fi
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
            [ -z "$policy" ] || rm -f "$policy"
            exit 1
        }
        [ -z "$policy" ] || rm -f "$policy"
    else
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: install them with: sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

# npm packages, pinned by package-lock.json (the web UI's chart library for
# the build; the exporters and browser driver for the tests); reinstalled
# when the lockfile changes. No install scripts run (none are needed).
{
    stamp=node_modules/.loupe-lock
    if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
        echo "deps: npm ci"
        npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
        cp package-lock.json "$stamp"
    fi
}
