#!/usr/bin/env bash
# Run every test suite and add their results into one closing line,
# "N passed, N failed[, N skipped]". Suites needing root (BPF programs,
# network namespaces) are skipped, and counted as such, without it.
# Each suite prints "NAME: P passed, F failed, S skipped" last.
# Usage: tools/run-tests.sh [FILTER]   (runs suites whose path matches FILTER)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
filter=${1:-}
SUITES=${SUITES:-unit bpf netns}	# which kinds of suite to run
passed=0 failed=0 skipped=0
failed_suites=()

if ((EUID == 0)) && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi

run_suite() {
	local name=$1 needs_root=$2
	shift 2
	[[ -n $filter && $name != *"$filter"* ]] && return
	if [[ $needs_root == root ]] && ((EUID != 0)); then
		echo "skip - $name: needs root"
		skipped=$((skipped + 1))
		return
	fi
	echo "== $name"
	local out rc line
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [[ -z $line ]]; then
		echo "FAIL - $name: exited $rc without a result line"
		failed=$((failed + 1))
		failed_suites+=("$name")
		return
	fi
	read -r p f s < <(sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
	if ((rc != 0 && f == 0)); then
		echo "FAIL - $name: exited $rc"
		failed=$((failed + 1))
	fi
	((rc != 0 || f != 0)) && failed_suites+=("$name")
}

want() { [[ " $SUITES " == *" $1 "* ]]; }

want unit && for t in "$BUILD"/tests/unit/test_*; do
	[[ -x $t ]] && run_suite "$t" user "$t"
done
want bpf && for t in "$BUILD"/tests/bpf/test_*; do
	[[ -x $t ]] && run_suite "$t" root "$t"
done
want netns && for t in tests/netns/test-*.sh; do
	[[ -f $t ]] && run_suite "$t" root env BUILD="$BUILD" bash "$t"
done

((${#failed_suites[@]})) && echo "failed suites: ${failed_suites[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
