#!/usr/bin/env bash
# Run each libFuzzer target (built by `make fuzz-build` into $BUILD/fuzz/)
# for SECONDS, growing its corpus in $BUILD/fuzz/corpus/NAME (seeded from
# tools/fuzz/corpus/NAME when that exists). Prints one line per target:
# executions, rate, corpus size, coverage and the result. A crash, leak,
# sanitizer report or failed check leaves its input in
# $BUILD/fuzz/artifacts/NAME/ and the log in $BUILD/fuzz/log/NAME.log, and
# makes the script exit 1.
# Usage: tools/fuzz.sh [SECONDS] [NAME...]    (default 60 s, every target)
# Replay an input: $BUILD/fuzz/NAME $BUILD/fuzz/artifacts/NAME/crash-...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
secs=${1:-60}
shift || true

if (($#)); then
	targets=()
	for n in "$@"; do targets+=("$BUILD/fuzz/$n"); done
else
	targets=()
	for t in "$BUILD"/fuzz/fuzz_*; do
		[[ -f $t && -x $t ]] && targets+=("$t")
	done
	if ((${#targets[@]} == 0)); then
		echo "FAIL - no fuzz targets in $BUILD/fuzz (make fuzz-build)"
		exit 1
	fi
fi

failed=0
for t in "${targets[@]}"; do
	name=$(basename "$t")
	if [[ ! -x $t ]]; then
		echo "FAIL - $name: $t not built (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	corpus=$BUILD/fuzz/corpus/$name
	artifacts=$BUILD/fuzz/artifacts/$name
	log=$BUILD/fuzz/log/$name.log
	mkdir -p "$corpus" "$artifacts" "$BUILD/fuzz/log"
	dirs=("$corpus")
	[[ -d tools/fuzz/corpus/$name ]] && dirs+=("tools/fuzz/corpus/$name")

	start=$SECONDS
	"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	took=$((SECONDS - start))

	execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log" | tail -n 1)
	rate=$(awk '/stat::average_exec_per_sec:/ { print $2 }' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	files=$(find "$corpus" -type f | wc -l)
	if ((rc == 0)); then
		result=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)
		echo "ok - $name: ${execs:-?} execs in ${took} s (${rate:-?}/s), $cov, corpus $files files; ${result:-no result line}"
	else
		echo "FAIL - $name: exited $rc after ${execs:-?} execs in ${took} s; log $log"
		# What failed and where: the check or sanitizer report, and its input.
		grep -E 'check failed|ERROR: |SUMMARY: |runtime error|Test unit written to|deadly signal' "$log" | head -n 20 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
((failed == 0))
