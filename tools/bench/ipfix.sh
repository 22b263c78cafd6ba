#!/usr/bin/env bash
# tools/bench/ipfix.sh: flowmaster collect end to end. In a test namespace
# of its own, `build/bench/ipfix_bench --send` offers RECORDS IPFIX records
# (512-byte messages, 5 records each) on the loopback at increasing rates
# to `flowmaster collect` (a fresh database each time); per rate: records
# stored, lost (sequence numbers, socket drops) and CPU seconds per
# million records, beside nfcapd on the same stream (when installed). Then the in-process figures (ipfix_bench: encoder,
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
printf '| %s | %s | %s | %s | %s | %s |\n' "receiver" "offered records/s" "stored" \
	"lost (sequence)" "socket drops (datagrams)" "CPU s per M records" >"$table"
echo "| --- | ---: | ---: | ---: | ---: | ---: |" >>"$table"
printf '%-8s %10s %10s %10s %8s %10s %12s\n' "receiver" "offered/s" "stored" "lost" "drops" "CPU s/M" "sender/s"

# listening PORT: a UDP socket is bound to PORT in c.
listening()
{
	local i
	for ((i = 0; i < 100; i++)); do
		lab_nsexec c ss -Hlun "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# drained PORT: wait (30 s at most) until PORT's receive queue is empty.
drained()
{
	local i q
	for ((i = 0; i < 300; i++)); do
		q=$(lab_nsexec c ss -Hlun "sport = :$1" | awk '{ print $2 }')
		[[ ${q:-0} == 0 ]] && return 0
		sleep 0.1
	done
}

# row RECEIVER RATE OFFERED STORED LOST DROPS CPU
row()
{
	local cpm
	cpm=$(echo "$7 / ($4 / 1000000)" | bc -l 2>/dev/null || echo 0)
	printf '%-8s %10s %10d %10s %8s %10.2f %12s\n' "$1" "${2/#0/max}" "$4" "$5" "$6" "$cpm" "$3"
	printf '| %s | %s%s | %d | %s | %s | %.2f |\n' "$1" "$3" "$([[ $2 == 0 ]] && echo ' (unpaced)')" \
		"$4" "$5" "$6" "$cpm" >>"$table"
}

run_collect()
{
	local rate=$1 db=$LAB_TMP/collect-$1.db log=$LAB_TMP/collect-$1.log pid sent cpu rows lost drops
	lab_bg c "$log" "$FM" collect --listen 127.0.0.1:4739 --db "$db"
	pid=$LAB_PID
	listening 4739
	sent=$(lab_nsexec c "$BENCH" --send 127.0.0.1:4739 "$N" "$rate")
	drained 4739
	# The writer commits within its 5 s delay: wait for the rows to stop.
	local i last="" now
	for ((i = 0; i < 100; i++)); do
		now=$(sqlite3 -cmd '.timeout 2000' "$db" "select count(*) from flows;" 2>/dev/null || echo 0)
		((now >= N)) && break
		[[ $now == "$last" && $i -gt 20 ]] && break
		last=$now
		sleep 0.1
	done
	cpu=$(cpu_s "$pid")
	kill -TERM "$pid"
	lab_wait_exit "$pid" 60 || true
	rows=$(sqlite3 "$db" "select count(*) from flows;")
	lost=$(sqlite3 "$db" "select coalesce(sum(lost_records), 0) from exporters;")
	drops=$(sed -n 's/.* \([0-9]*\) dropped by the socket.*/\1/p' "$log")
	row collect "$rate" "$(sed -n 's/.*: \([0-9]*\) records\/s.*/\1/p' <<<"$sent")" \
		"$rows" "$lost" "${drops:-?}" "$cpu"
}

# nfcapd with the same socket buffer; lost: its sequence failures (events,
# not records); drops from /proc/net/udp (port 4739 = 127B).
run_nfcapd()
{
	local rate=$1 dir=$LAB_TMP/nfcapd-$1 pid sent cpu rows fails drops
	mkdir -p "$dir"
	lab_bg c "$LAB_TMP/nfcapd-$rate.log" nfcapd -w "$dir" -p 4739 -b 127.0.0.1 -t 3600 -B 33554432
	pid=$LAB_PID
	listening 4739
	sent=$(lab_nsexec c "$BENCH" --send 127.0.0.1:4739 "$N" "$rate")
	drained 4739
	drops=$(lab_nsexec c cat /proc/net/udp | awk '$2 ~ /:127B$/ { print $NF }')
	cpu=$(cpu_s "$pid")
	lab_stop "$pid" 10 || true
	rows=$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Flows:/ { s += $2 } END { print s + 0 }')
	fails=$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Sequence failures:/ { s += $3 } END { print s + 0 }')
	row nfcapd "$rate" "$(sed -n 's/.*: \([0-9]*\) records\/s.*/\1/p' <<<"$sent")" \
		"$rows" "$fails events" "${drops:-?}" "$cpu"
}

for rate in "${RATES[@]}"; do
	run_collect "$rate"
	command -v nfcapd >/dev/null && run_nfcapd "$rate"
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
	echo "on a namespace's loopback to \`flowmaster collect\` (a fresh database each) and to"
	echo "nfcapd (same 32 MiB socket buffer) at each rate; stored + 5 x socket drops = offered."
	echo "Then \`ipfix_bench\` in one process."
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
