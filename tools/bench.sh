#!/usr/bin/env bash
# make bench: flowmaster's benchmarks. Each part prints its results and
# writes its BENCHMARKS.md section to $BUILD/bench/<part>.md.
#   kernel   ns/packet of the XDP program against baselines (bench_prog)
# Usage: tools/bench.sh [--quick]   (root: BPF_PROG_TEST_RUN needs it)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
quick=()

for arg in "$@"; do
	case $arg in
	--quick) quick=(--quick) ;;
	-h | --help)
		sed -n '2,5s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "bench.sh: unknown option '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

if ((EUID != 0)); then
	echo "bench.sh: needs root (BPF_PROG_TEST_RUN and map creation); try: sudo make bench" >&2
	exit 1
fi
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
mkdir -p "$BUILD/bench"

bench_kernel() {
	echo "== kernel: XDP program cost (BPF_PROG_TEST_RUN)"
	"$BUILD/bench/bench_prog" "${quick[@]}" --markdown="$BUILD/bench/kernel.md"
	echo "(Markdown section: $BUILD/bench/kernel.md)"
}

bench_kernel
