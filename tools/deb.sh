#!/usr/bin/env bash
# tools/deb.sh: build the Debian package from this tree and check it
# (`make deb`). The tree as it is (tracked and untracked files, not the
# ignored ones) is copied to OUT/src with its version (tools/version.sh)
# written into VERSION, so that the package's binary says the version of
# this commit; `dpkg-buildpackage -us -uc -b` builds it there, lintian must
# report no error, and the .deb must hold exactly the files listed below,
# its flowmaster and man page must state the same version, whose start is
# the package's upstream version (debian/changelog). Nothing is installed.
#
# usage: tools/deb.sh [OUT]   (default build/deb; the .deb is left there)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build/deb}")
fail() { echo "deb: FAIL: $*" >&2; exit 1; }
ok() { echo "deb: ok - $*"; }

for c in dpkg-buildpackage dh lintian; do
	command -v "$c" >/dev/null ||
		fail "$c is missing: apt-get install dpkg-dev debhelper lintian (tools/install-deps.sh deb)"
done
version=$("$ROOT/tools/version.sh")
rm -rf "$OUT"
mkdir -p "$OUT/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -c --no-recursion) |
	tar -x -C "$OUT/src"
echo "$version" >"$OUT/src/VERSION"
rm -f "$OUT/src/.git"
echo "deb: building flowmaster $version in $OUT/src (log: $OUT/build.log)"
start=$(date +%s)
(cd "$OUT/src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 ||
	{ tail -n 30 "$OUT/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$(ls "$OUT"/flowmaster_*.deb)
ok "built $(basename "$deb") in $(($(date +%s) - start)) s"

# lintian: errors fail; warnings are shown.
lintian --fail-on error "$OUT"/flowmaster_*.changes 2>&1 | { grep -v 'root privileges' || true; } >"$OUT/lintian.log"
((PIPESTATUS[0] == 0)) || { cat "$OUT/lintian.log" >&2; fail "lintian reports errors"; }
if [[ -s $OUT/lintian.log ]]; then
	sed 's/^/deb:   lintian: /' "$OUT/lintian.log"
fi
ok "lintian: no errors ($(grep -c '^E:' "$OUT/lintian.log" || true) E, $(grep -c '^W:' "$OUT/lintian.log" || true) W)"

files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort)
want="/etc/flowmaster/flowmaster.conf
/lib/systemd/system/flowmaster.service
/usr/sbin/flowmaster
/usr/share/doc/flowmaster/README.md.gz
/usr/share/doc/flowmaster/changelog.Debian.gz
/usr/share/doc/flowmaster/copyright
/usr/share/lintian/overrides/flowmaster
/usr/share/man/man8/flowmaster.8.gz"
[[ $files == "$want" ]] || fail "files in the package:
$files
want:
$want"
ok "files: $(tr '\n' ' ' <<<"$files")"

x=$OUT/extract
dpkg-deb -x "$deb" "$x"
dpkg-deb -e "$deb" "$x/DEBIAN"
[[ $(cat "$x/DEBIAN/conffiles") == /etc/flowmaster/flowmaster.conf ]] ||
	fail "conffiles: $(cat "$x/DEBIAN/conffiles")"
ok "conffiles: /etc/flowmaster/flowmaster.conf"
got=$("$x/usr/sbin/flowmaster" version | head -n 1)
[[ $got == "flowmaster $version" ]] || fail "the package's flowmaster says '$got', want 'flowmaster $version'"
ok "$got"
man_version=$(zcat "$x/usr/share/man/man8/flowmaster.8.gz" |
	sed -n 's/^\.TH FLOWMASTER 8 [^ ]* "flowmaster \([^"]*\)".*/\1/p')
[[ $man_version == "$version" ]] || fail "the man page says '$man_version', want '$version'"
ok "the man page says $man_version"
pkg_version=$(dpkg-deb -f "$deb" Version)
upstream=${pkg_version%-*}
[[ $version == "$upstream" || $version == "$upstream"[-+]* ]] ||
	fail "the package is $pkg_version, the binary $version: debian/changelog and the tag disagree"
ok "package $pkg_version, binary $version"
exec_start=$(sed -n 's/^ExecStart=//p' "$x/lib/systemd/system/flowmaster.service")
[[ $exec_start == "/usr/sbin/flowmaster run --config /etc/flowmaster/flowmaster.conf" ]] ||
	fail "ExecStart=$exec_start"
ok "ExecStart=$exec_start"
grep -q 'deb-systemd-helper' "$x/DEBIAN/postinst" || fail "postinst does not register the unit"
if grep -q 'deb-systemd-invoke.*start' "$x/DEBIAN/postinst"; then
	fail "postinst starts the unit before the interfaces are configured"
fi
ok "postinst registers the unit, does not enable or start it"
echo "deb: $deb"
