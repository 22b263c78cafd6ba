#!/usr/bin/env bash
# Install, with apt, the Debian 12 packages flowmaster needs to build, test
# and benchmark, and only those that are missing. Safe to run again.
set -euo pipefail

# command or file that proves each package is there
declare -A need=(
	[clang]=clang
	[llvm]=llvm-strip
	[bpftool]=bpftool
	[libbpf-dev]=/usr/include/bpf/libbpf.h
	[libelf-dev]=/usr/include/libelf.h
	[zlib1g-dev]=/usr/include/zlib.h
	[libsqlite3-dev]=/usr/include/sqlite3.h
	[sqlite3]=sqlite3
	[iproute2]=ip
	[netsniff-ng]=trafgen
	[socat]=socat
	[iputils-ping]=ping
	[util-linux]=nsenter
	[groff-base]=groff
	[man-db]=man
	[libclang-rt-14-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
	[valgrind]=valgrind
	[time]=/usr/bin/time
	[make]=make
	[gcc]=gcc
)

# make bench also compares with the tools people run today, and plots.
if [[ ${1:-} == --bench ]]; then
	need=([softflowd]=softflowd [nfdump]=nfcapd [pmacct]=pmacctd [gnuplot-nox]=gnuplot
	      [time]=/usr/bin/time [netsniff-ng]=trafgen)
fi

missing=()
for pkg in "${!need[@]}"; do
	what=${need[$pkg]}
	if [[ $what == /* ]]; then
		[[ -e $what ]] || missing+=("$pkg")
	else
		command -v "$what" >/dev/null 2>&1 || [[ -x /usr/sbin/$what ]] || missing+=("$pkg")
	fi
done

((${#missing[@]} == 0)) && exit 0
echo "install-deps: missing: ${missing[*]}"
if ((EUID != 0)); then
	echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
