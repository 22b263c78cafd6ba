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
# Usage (root): tools/bench/ipfix.sh [--quick] [--markdown FILE] [RECORDS] [RATE...]
#   (default 1000000 records at 100k 150k 200k 300k records/s and unpaced;
#   --quick: 200000 records at 100k and unpaced). --markdown writes the
#   BENCHMARKS.md section with its **Target** lines.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=$BUILD/flowmaster
BENCH=$BUILD/bench/ipfix_bench
md="" quick=0
while (($#)); do
	case $1 in
	--quick) quick=1 ;;
	--markdown) md=$2; shift ;;
	*) break ;;
	esac
	shift
done
N=${1:-1000000}
shift || true
RATES=("$@")
if ((quick)); then
	N=200000
	((${#RATES[@]})) || RATES=(100000 0)
fi
((${#RATES[@]})) || RATES=(100000 150000 200000 300000 0)
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

table=$LAB_TMP/table
printf '| %s | %s | %s | %s | %s | %s |\n' "offered records/s" "stored" "lost (sequence)" \
	"socket drops (datagrams)" "collect CPU s per M records" "stored rows/s" >"$table"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |" >>"$table"
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
	cpm=$(echo "$cpu / ($rows / 1000000)" | bc -l 2>/dev/null || echo 0)
	rps=$(echo "$rows / ($t1 - $t0)" | bc -l)
	offered=$(sed -n 's/.*: \([0-9]*\) records\/s.*/\1/p' <<<"$sent")
	printf '%10s %10d %10d %8s %10.2f %12.0f %12s\n' "${rate/#0/max}" "$rows" "$lost" "${drops:-?}" \
		"$cpm" "$rps" "$offered"
	printf '| %s%s | %d | %d | %s | %.2f | %.0f |\n' "$offered" "$([[ $rate == 0 ]] && echo ' (unpaced)')" \
		"$rows" "$lost" "${drops:-?}" "$cpm" "$rps" >>"$table"
done
echo
out=$("$BENCH" "$N" "$LAB_TMP")
echo "$out"
[[ -n $md ]] || exit 0
share=$(sed -n 's/.*per-record cost \([0-9.]*\) %.*/\1/p' <<<"$out")
ratio=$(sed -n 's/.*collect \/ raw \([0-9.]*\).*/\1/p' <<<"$out")
verdict() { (($(echo "$1" | bc -l))) && echo met || echo missed; }
{
	echo "### IPFIX export and collection"
	echo
	echo "\`tools/bench/ipfix.sh\`: $N IPFIX records (512-byte messages, 5 records each) offered"
	echo "on a namespace's loopback to \`flowmaster collect\` at each rate, a fresh database"
	echo "each; stored + 5 x socket drops = offered. Then \`ipfix_bench\` in one process."
	echo
	cat "$table"
	echo
	echo '```'
	echo "$out"
	echo '```'
	echo
	echo "**Target** decoding <= 20 % of the collector's per-record cost: ${share} %: $(verdict "$share <= 20")"
	echo
	echo "**Target** collector (decode + store) >= 0.85 x the raw SQLite insert loop: ${ratio}: $(verdict "$ratio >= 0.85")"
} >"$md"
