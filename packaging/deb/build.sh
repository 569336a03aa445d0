#!/bin/sh
# build.sh - assemble loupe_VERSION_ARCH.deb with dpkg-deb (no debhelper)
# from a built loupe and the files beside this script.
#
#   packaging/deb/build.sh BINARY OUTDIR      (make deb)
#
# VERSION is what `BINARY --version` prints, and must be the top entry of
# the changelog here and the version on the manual page. The package tree
# is OUTDIR/deb/debian/loupe (the layout dpkg-shlibdeps expects), the
# package OUTDIR/loupe_VERSION_ARCH.deb. Depends comes from dpkg-shlibdeps
# (the shlibs and symbols files of the installed library packages, so the
# versions are the ones the binary needs), plus adduser for the postinst.
# Needs dpkg-dev. File times are the changelog's date, so two builds of the
# same binary give the same package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: build.sh BINARY OUTDIR}
out=${2:?usage: build.sh BINARY OUTDIR}
fail() { echo "deb: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "no $bin (run make first)"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps not found (install dpkg-dev)"
version=$("$bin" --version | awk '$1 == "loupe" {print $2}')
[ -n "$version" ] || fail "$bin --version printed no version"
[ "$(dpkg-parsechangelog -l "$here/changelog" -S Version)" = "$version" ] ||
    fail "packaging/deb/changelog's first entry is not version $version"
grep -q "^\.TH LOUPE 1 .*\"loupe $version\"" "$here/loupe.1" ||
    fail "packaging/deb/loupe.1's .TH line does not name loupe $version"
# The manual page and /etc/default/loupe name every variable --help names.
for v in $("$bin" --help | sed -n 's/.*\[\(LOUPE_[A-Z_]*\)\].*/\1/p'); do
    grep -q "^\.RB \[ $v \]" "$here/loupe.1" || fail "loupe.1 does not describe $v"
    grep -q "^#*$v=" "$here/loupe.default" || fail "loupe.default has no line for $v"
done
arch=$(dpkg --print-architecture)
epoch=$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)

work=$out/deb
root=$work/debian/loupe
doc=$root/usr/share/doc/loupe
rm -rf "$work"
umask 022
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/default" \
    "$root/usr/share/man/man1" "$doc"

# The files, as dh_strip, dh_installman and dh_installchangelogs would
# leave them.
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    -o "$root/usr/bin/loupe" "$bin"
chmod 0755 "$root/usr/bin/loupe"
install -m 0644 "$here/loupe.service" "$root/lib/systemd/system/loupe.service"
install -m 0644 "$here/loupe.default" "$root/etc/default/loupe"
gzip -9n -c "$here/loupe.1" >"$root/usr/share/man/man1/loupe.1.gz"
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n -c "$here/changelog" >"$doc/changelog.gz"
chmod 0644 "$root/usr/share/man/man1/loupe.1.gz" "$doc/changelog.gz"

# Control files.
for s in postinst prerm postrm; do
    install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
echo /etc/default/loupe >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"
printf 'Source: loupe\n\nPackage: loupe\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -edebian/loupe/usr/bin/loupe) ||
    fail "dpkg-shlibdeps failed"
depends=$(printf '%s\n' "$shlibs" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/adduser, $depends/" "$here/control" >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort |
    xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

find "$root" -exec touch -h -d "@$epoch" {} +
deb=$out/loupe_${version}_${arch}.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: $deb ($(du -k "$deb" | cut -f1) KiB; Depends: adduser, $depends)"
