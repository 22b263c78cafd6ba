#!/usr/bin/env bash
# tools/bench/ipfix.sh: flowmaster collect end to end. In a test namespace
# of its own, `build/bench/ipfix_bench --send` offers RECORDS IPFIX records
# (512-byte messages, 5 records each) on the loopback at increasing rates
# to `flowmaster collect` (a fresh database each time); per rate: records
# stored, lost (sequence numbers, socket drops), the collector's CPU
# seconds per million records, and the time from the first datagram to the
# last row committed. Then the in-process figures (ipfix_bench: encoder,
# exporter, decoder, decode + store, raw insert loop).
#
# Usage (root): tools/bench/ipfix.sh [RECORDS] [RATE...]
#   (default 1000000 records at 50k 100k 200k 400k records/s and unpaced)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=$BUILD/flowmaster
BENCH=$BUILD/bench/ipfix_bench
N=${1:-1000000}
shift || true
RATES=("$@")
((${#RATES[@]})) || RATES=(50000 100000 200000 400000 0)
# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
lab_init
lab_host c --no-ipv6
tick=$(getconf CLK_TCK)

# cpu_s PID: user + system CPU seconds of PID so far.
cpu_s()
{
	awk -v t="$tick" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"
}

printf '%10s %10s %10s %8s %10s %12s %12s\n' "offered/s" "stored" "lost" "drops" "CPU s/M" "rows/s" "sender/s"
for rate in "${RATES[@]}"; do
	db=$LAB_TMP/collect-$rate.db log=$LAB_TMP/collect-$rate.log
	lab_bg c "$log" "$FM" collect --listen 127.0.0.1:4739 --db "$db"
	pid=$LAB_PID
	for ((i = 0; i < 100; i++)); do
		lab_nsexec c ss -Hlun "sport = :4739" | grep -q . && break
		sleep 0.1
	done
	t0=$(date +%s.%N)
	sent=$(lab_nsexec c "$BENCH" --send 127.0.0.1:4739 "$N" "$rate")
	# Wait for the rows (or 60 s), then read the collector's CPU.
	for ((i = 0; i < 600; i++)); do
		rows=$(sqlite3 -cmd '.timeout 2000' "$db" "select count(*) from flows;" 2>/dev/null || echo 0)
		((rows >= N)) && break
		prev=${last:-}
		last=$rows
		[[ $prev == "$last" && $i -gt 20 ]] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	cpu=$(cpu_s "$pid")
	kill -TERM "$pid"
	lab_wait_exit "$pid" 60 || true
	rows=$(sqlite3 "$db" "select count(*) from flows;")
	lost=$(sqlite3 "$db" "select coalesce(sum(lost_records), 0) from exporters;")
	drops=$(sed -n 's/.* \([0-9]*\) dropped by the socket.*/\1/p' "$log")
	printf '%10s %10d %10d %8s %10.2f %12.0f %12s\n' "${rate/#0/max}" "$rows" "$lost" "${drops:-?}" \
		"$(echo "$cpu / ($rows / 1000000)" | bc -l 2>/dev/null || echo 0)" \
		"$(echo "$rows / ($t1 - $t0)" | bc -l)" "$(sed -n 's/.*: \([0-9]*\) records\/s.*/\1/p' <<<"$sent")"
done
echo
"$BENCH" "$N" "$LAB_TMP"
