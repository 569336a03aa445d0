#!/bin/sh
# base.sh - make a Debian 12 base image with debootstrap and import it into
# podman, for building the Dockerfile where no registry serves debian:12.
#
#   packaging/container/base.sh TAR IMAGE
#
# TAR (e.g. build/container/base.tar) is kept as a cache: when it exists it
# is imported as it is; delete it to make a new one. The image is the
# minbase variant (what the debian:12 image holds: apt, dpkg, bash,
# coreutils) with apt sources in the image's deb822 form. The archive
# mirror is the one this machine's apt uses (the first source that serves
# bookworm, and bookworm-security for the security updates); override with
# MIRROR=URL and SECURITY_MIRROR=URL. Needs root (debootstrap chroots) and
# the Debian packages debootstrap and podman.
set -eu

tar=${1:?usage: base.sh TAR IMAGE}
image=${2:?usage: base.sh TAR IMAGE}
suite=bookworm

# The first URI of an apt source (one-line or deb822 form) that offers the
# suite $1 for Types deb.
apt_uri() {
    want=$1
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI SUITE COMPONENT...
        u=$(sed -e 's/\[[^]]*\]//' "$f" | awk -v s="$want" '$1 == "deb" && $3 == s {print $2; exit}')
        [ -n "$u" ] && { echo "$u"; return 0; }
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        u=$(awk -v s="$want" '
            function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uri != "" && !found) { print uri; found = 1 } types = suites = uri = "" }
            /^[[:space:]]*$/ { flush(); next }
            /^[[:space:]]*#/ { next }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            tolower($1) == "uris:" { uri = $2 }
            END { flush() }' "$f")
        [ -n "$u" ] && { echo "$u"; return 0; }
    done
    return 1
}

if [ ! -s "$tar" ]; then
    mirror=${MIRROR:-$(apt_uri $suite || echo http://deb.debian.org/debian)}
    security=${SECURITY_MIRROR:-$(apt_uri $suite-security || echo http://deb.debian.org/debian-security)}
    dir=$(dirname "$tar")/rootfs
    mkdir -p "$(dirname "$tar")"
    rm -rf "$dir"
    echo "container-base: debootstrap $suite from $mirror (log: $dir.log)"
    if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.log" 2>&1; then
        tail -n 20 "$dir.log" >&2
        echo "container-base: debootstrap failed" >&2
        exit 1
    fi
    # The sources the debian:12 image has: the release, its updates, and
    # security, in deb822 form.
    rm -f "$dir/etc/apt/sources.list"
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # No service starts inside an image build.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log \
        "$dir"/var/cache/apt/*.bin
    tar --numeric-owner -C "$dir" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$dir"
    podman image rm -f "$image" >/dev/null 2>&1 || true
fi

if ! podman image exists "$image"; then
    echo "container-base: importing $tar as $image"
    podman import -q --change 'CMD ["bash"]' "$tar" "$image" >/dev/null
fi
