#!/usr/bin/env bash
# make bench: flowmaster's benchmarks. Each part prints its results and
# writes its BENCHMARKS.md section to $BUILD/bench/<part>.md.
#   kernel   ns/packet of the XDP program against baselines (bench_prog)
#   sqlite   the store module's rows/s against a raw insert loop (sqlite_ingest),
#            and CPU per flow stage by stage at a 1M-flow churn (churn)
#   insitu   the XDP programs' ns/packet on a live veth link (insitu.sh)
#   compare  end to end: the same loads on a veth link through nothing, an
#            empty XDP program, flowmaster, softflowd and pmacctd (compare.sh)
#   egress   the TC egress program's cost beside XDP's (test run and live
#            link) and flowmaster replay's frames/s (egress_replay, egress_live.sh)
#   ipfix    the IPFIX exporter and `flowmaster collect` (ipfix.sh)
#   web      the web view's API answer times on 1,000,000 flows (web.sh)
# After the parts, tools/bench/capacity.sh turns their figures into
# capacities per core ($BUILD/bench/capacity.md).
# A full run (every part, without --quick) also writes BENCHMARKS.md: the
# machine, the targets (every **Target** line of the sections), the
# capacities, the sections.
# --write writes BENCHMARKS.md from the sections already in $BUILD/bench
# (after some parts were run again on their own; each section names its
# own load and date), without running anything.
# Usage: tools/bench.sh [--quick] [PART...] | --write   (root; every part by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
quick=()
parts=()
write_only=0

for arg in "$@"; do
	case $arg in
	--quick) quick=(--quick) ;;
	--write) write_only=1 ;;
	kernel | sqlite | insitu | compare | egress | ipfix | web) parts+=("$arg") ;;
	-h | --help)
		sed -n '2,/^# Usage/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "bench.sh: unknown option or part '$arg' (try --help)" >&2
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

bench_sqlite() {
	echo "== sqlite: store module against a raw insert loop"
	"$BUILD/bench/sqlite_ingest" "${quick[@]}" --markdown="$BUILD/bench/sqlite.md"
	# CPU per flow, stage by stage, kernel to disk (appended to sqlite.md).
	echo "== sqlite: a flow on its way to disk at a 1M-flow churn, stage by stage"
	"$BUILD/bench/churn" "${quick[@]}" --markdown="$BUILD/bench/sqlite.md"
	echo "(Markdown section: $BUILD/bench/sqlite.md)"
}

# Test hosts in namespaces of its own, bounded loads, torn down by trap.
bench_insitu() {
	echo "== insitu: XDP program cost on the live link (run_time_ns / run_cnt)"
	env BUILD="$BUILD" tools/bench/insitu.sh "${quick[@]}" --markdown "$BUILD/bench/insitu.md"
}

# Test hosts in namespaces of its own, bounded loads, all torn down by
# trap; softflowd exports NetFlow v9 to nfcapd on loopback inside the test
# namespace only. Exit 1 also when flowmaster lost a count.
bench_compare() {
	echo "== compare: end to end, flowmaster, softflowd, pmacctd on the same load"
	tools/install-deps.sh bench
	env BUILD="$BUILD" tools/bench/compare.sh "${quick[@]}" \
		--markdown "$BUILD/bench/compare.md" --plot "$BUILD/bench/compare.png"
}

# Test hosts in namespaces of its own for the live part, torn down by trap.
bench_egress() {
	echo "== egress: TC egress program against XDP, and replay speed"
	"$BUILD/bench/egress_replay" "${quick[@]}" --flowmaster "$BUILD/flowmaster" \
		--markdown "$BUILD/bench/egress.md"
	env BUILD="$BUILD" tools/bench/egress_live.sh "${quick[@]}" --markdown "$BUILD/bench/egress.md"
}

# A test namespace of its own, loopback only, torn down by trap.
bench_ipfix() {
	echo "== ipfix: exporter, decoder, flowmaster collect against a raw insert loop"
	env BUILD="$BUILD" tools/bench/ipfix.sh "${quick[@]}" --markdown "$BUILD/bench/ipfix.md"
}

# The web view on a database of 1,000,000 flows made with SQL, in a
# network namespace of its own.
bench_web() {
	echo "== web: API answer times on 1,000,000 flows (100,000 with --quick)"
	env BUILD="$BUILD" tools/bench/web.sh "${quick[@]}" --index --markdown "$BUILD/bench/web.md"
}

# BENCHMARKS.md: the machine, the targets of every part, then every
# part's section, as measured now (a section missing: that part failed
# before it wrote one, and the Targets say so).
write_benchmarks() {
	local part
	{
		echo "# flowmaster benchmarks"
		echo
		if ((write_only)); then
			echo "Put together by \`tools/bench.sh --write\` on $(date -u '+%Y-%m-%d %H:%M UTC')" \
				"from the sections of the last \`make bench\` and of parts run again since (each" \
				"section says how and at what load it was measured):"
		else
			echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'):"
		fi
		echo \
			"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs," \
			"kernel $(uname -r)$( ((write_only)) || echo "; load average when it ended $(cut -d' ' -f1-3 /proc/loadavg)")." \
			"Every figure is relative to a baseline measured in the same run."
		echo
		echo "## Targets"
		echo
		for part in kernel sqlite insitu compare egress ipfix web; do
			if [[ -f $BUILD/bench/$part.md ]]; then
				{ grep '^\*\*Target\*\*' "$BUILD/bench/$part.md" || true; } | sed "s/^/- $part: /"
			else
				echo "- $part: no results (the part failed)"
			fi
		done
		for part in capacity kernel sqlite insitu compare egress ipfix web; do
			[[ -f $BUILD/bench/$part.md ]] || continue
			echo
			# The plot is copied next to BENCHMARKS.md under its own name.
			sed -e 's/^### /## /' -e 's/](compare\.png)/](BENCHMARKS-compare.png)/' "$BUILD/bench/$part.md"
		done
	} > BENCHMARKS.md
	[[ -f $BUILD/bench/compare.png ]] && cp "$BUILD/bench/compare.png" BENCHMARKS-compare.png
	echo "bench: wrote BENCHMARKS.md"
}

if ((write_only)); then
	missing=()
	for part in kernel sqlite insitu compare egress ipfix web capacity; do
		[[ -f $BUILD/bench/$part.md ]] || missing+=("$part")
	done
	if ((${#missing[@]})); then
		echo "bench.sh: --write: no section for ${missing[*]} in $BUILD/bench (run those parts first)" >&2
		exit 1
	fi
	write_benchmarks
	exit 0
fi

# Every part runs even if one fails (a lost count, a tool missing); the
# exit status says whether all of them succeeded.
all=0
((${#parts[@]})) || { parts=(kernel sqlite insitu compare egress ipfix web); all=1; }
failed=()
start=$SECONDS
for part in "${parts[@]}"; do
	t=$SECONDS
	# No section from an earlier run stands in for a failed part.
	rm -f "$BUILD/bench/$part.md" "$BUILD/bench/$part.png"
	"bench_$part" || failed+=("$part")
	echo "($part: $((SECONDS - t)) s)"
	echo
done
rm -f "$BUILD/bench/capacity.md"
env BUILD="$BUILD" tools/bench/capacity.sh --markdown "$BUILD/bench/capacity.md" || failed+=(capacity)
echo "bench: ${#parts[@]} parts in $((SECONDS - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
((all && ${#quick[@]} == 0)) && write_benchmarks
if ((${#failed[@]})); then
	echo "bench: FAILED: ${failed[*]}" >&2
	exit 1
fi
