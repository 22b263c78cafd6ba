#!/usr/bin/env bash
# The Debian 12 packages flowmaster needs, in sets; installs the missing ones
# of the sets named, with apt, and only those. Safe to run again.
#
#   build     `make`: the BPF programs and the daemon
#   test      `make test` and CI: every suite, fuzzing, valgrind, the checks
#   demo      `make demo` (part of test)
#   fuzz      `make fuzz`: clang's libFuzzer runtime (part of test)
#   valgrind  `make valgrind` (part of test)
#   lint      `make shellcheck`, `make format-check` (part of test)
#   bench     `make bench`: the tools it compares with, and plotting
#   deb       `make deb`: the Debian package tools
#   kernel    `make test-kernel`: qemu, busybox for its initramfs, kmod
#
# Usage: tools/install-deps.sh [--check] SET...
#   As root: install what the sets lack. With --check, or not as root:
#   install nothing; print what is missing and the apt-get line that
#   installs it. Exit status 0 when nothing is missing, 1 otherwise.
set -euo pipefail

# clang's fuzzer runtime is in a package named after clang's major version,
# at a path only clang knows (it prints the bare name when it has none).
clang_major=$(clang -dumpversion 2>/dev/null | cut -d. -f1) || true
fuzzer_rt=$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null) || true

# One package a line: the package, what proves it is there (a command, or
# an absolute path), and the sets that need it.
packages()
{
	cat <<EOF
make			make					build
gcc			gcc					build
clang			clang					build
bpftool			bpftool					build
libbpf-dev		/usr/include/bpf/libbpf.h		build
libelf-dev		/usr/include/libelf.h			build
zlib1g-dev		/usr/include/zlib.h			build
libsqlite3-dev		/usr/include/sqlite3.h			build
libmicrohttpd-dev	/usr/include/microhttpd.h		build
sqlite3			sqlite3					test demo bench
iproute2		ip					test demo bench
netsniff-ng		trafgen					test demo bench
socat			socat					test demo
iputils-ping		ping					test demo
util-linux		nsenter					test demo
jq			jq					test
prometheus		prometheus				test
chromium		chromium				test
curl			curl					test
groff-base		groff					test
man-db			man					test
libclang-rt-${clang_major:-14}-dev	${fuzzer_rt:-none}	test fuzz
valgrind		valgrind				test valgrind
shellcheck		shellcheck				test lint
clang-format-14		clang-format-14				test lint
time			/usr/bin/time				bench
softflowd		softflowd				test bench
nfdump			nfcapd					test bench
tshark			tshark					test
libfixbuf-tools		ipfixDump				test
pmacct			pmacctd					test bench
gnuplot-nox		gnuplot					bench
tcpreplay		tcpreplay				bench
dpkg-dev		dpkg-buildpackage			deb
debhelper		dh					deb
lintian			lintian					deb
libpcap-dev		/usr/include/pcap/pcap.h		build
tcpdump			tcpdump					test
ethtool			ethtool					test
qemu-system-x86		qemu-system-x86_64			kernel
busybox-static		/bin/busybox				kernel
kmod			depmod					kernel
cpio			cpio					kernel
EOF
}

usage()
{
	sed -n '/^# Usage/,/^set /s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# present PROOF: whether the command or file PROOF is there. Commands in
# /usr/sbin count also when it is not in PATH (an ordinary user's).
present()
{
	if [[ $1 == /* ]]; then
		[[ -e $1 ]]
	else
		command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /sbin/$1 ]]
	fi
}

check=0
sets=()
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	build | test | demo | fuzz | valgrind | lint | bench | deb | kernel) sets+=("$arg") ;;
	*) usage ;;
	esac
done
((${#sets[@]})) || usage

missing=()
while read -r pkg proof tags; do
	for set in "${sets[@]}"; do
		if [[ " $tags " == *" $set "* ]]; then
			present "$proof" || missing+=("$pkg")
			break
		fi
	done
done < <(packages)

((${#missing[@]} == 0)) && exit 0
sudo=""
((EUID == 0)) || sudo="sudo "
echo "install-deps: missing for ${sets[*]}: ${missing[*]}" >&2
if ((check || EUID != 0)); then
	echo "install-deps: install them with:" >&2
	echo "    ${sudo}apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Two makes (make -j) may install at once: wait for apt's lock.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
