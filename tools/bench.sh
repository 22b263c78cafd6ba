#!/usr/bin/env bash
# make bench: flowmaster's benchmarks. Each part prints its results and
# writes its BENCHMARKS.md section to $BUILD/bench/<part>.md.
#   kernel   ns/packet of the XDP program against baselines (bench_prog)
#   e2e      flowmaster on a veth link at full rate (tools/bench/e2e.sh)
#   sqlite   the store module's rows/s against a raw insert loop (sqlite_ingest)
#   compare  the same loads through flowmaster, softflowd and pmacctd (compare.sh)
# A full run (every part) also writes BENCHMARKS.md from the sections.
# Usage: tools/bench.sh [--quick] [PART...]   (root; every part by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
quick=()
parts=()

for arg in "$@"; do
	case $arg in
	--quick) quick=(--quick) ;;
	kernel | e2e | sqlite | compare) parts+=("$arg") ;;
	-h | --help)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
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

# Test hosts in namespaces of its own, bounded loads, all torn down by trap.
bench_e2e() {
	echo "== e2e: flowmaster on a veth link at full rate (trafgen)"
	env BUILD="$BUILD" tools/bench/e2e.sh "${quick[@]}" --markdown "$BUILD/bench/e2e.md"
}

bench_sqlite() {
	echo "== sqlite: store module against a raw insert loop"
	"$BUILD/bench/sqlite_ingest" "${quick[@]}" --markdown="$BUILD/bench/sqlite.md"
	echo "(Markdown section: $BUILD/bench/sqlite.md)"
}

# softflowd exporting NetFlow v9 to nfcapd, and pmacctd with its sqlite3
# plugin, default and tuned; on loopback inside the test namespace only.
bench_compare() {
	echo "== compare: flowmaster, softflowd, pmacctd on the same load"
	tools/install-deps.sh --bench
	env BUILD="$BUILD" tools/bench/compare.sh "${quick[@]}" \
		--markdown "$BUILD/bench/compare.md" --plot "$BUILD/bench/compare.png"
}

# BENCHMARKS.md: the machine, then every part's section, as measured now.
write_benchmarks() {
	{
		echo "# flowmaster benchmarks"
		echo
		echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'):" \
			"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs," \
			"kernel $(uname -r); load average when it ended $(cut -d' ' -f1-3 /proc/loadavg)." \
			"Every figure is relative to a baseline measured in the same run."
		for part in kernel e2e sqlite compare; do
			[[ -f $BUILD/bench/$part.md ]] || continue
			echo
			sed 's/^### /## /' "$BUILD/bench/$part.md"
		done
	} > BENCHMARKS.md
	[[ -f $BUILD/bench/compare.png ]] && cp "$BUILD/bench/compare.png" BENCHMARKS-compare.png
	echo "bench: wrote BENCHMARKS.md"
}

# Every part runs even if one fails (a lost count, a tool missing); the
# exit status says whether all of them succeeded.
all=0
((${#parts[@]})) || { parts=(kernel e2e sqlite compare); all=1; }
failed=()
start=$SECONDS
for part in "${parts[@]}"; do
	t=$SECONDS
	"bench_$part" || failed+=("$part")
	echo "($part: $((SECONDS - t)) s)"
	echo
done
echo "bench: ${#parts[@]} parts in $((SECONDS - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
((all && ${#quick[@]} == 0)) && write_benchmarks
if ((${#failed[@]})); then
	echo "bench: FAILED: ${failed[*]}" >&2
	exit 1
fi
