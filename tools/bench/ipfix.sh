#!/usr/bin/env bash
# tools/bench/ipfix.sh: IPFIX collectors side by side on one recorded
# stream. `build/bench/ipfix_bench --pcap` records RECORDS IPFIX records
# once (512-byte messages of 5 records, the templates first, sequence
# numbers counting records) as a pcap of loopback frames; in a test
# namespace of its own (tools/lab.sh; its loopback only) tcpreplay offers
# that same file at increasing rates to `flowmaster collect` (a fresh
# database each time), nfcapd (nfdump) and nfacctd (pmacct, print plugin
# aggregating to one row per protocol: its cheapest path), the same 32 MiB
# socket buffer each. Per receiver and rate: records stored, records lost
# (flowmaster: sequence numbers; nfcapd: sequence failures, events; nfacctd:
# its packet total / 10 short), datagrams the socket dropped, and the
# receiver's CPU seconds per million records (user + system of the
# process and its children, from the first datagram to the last stored).
# RUNS runs of everything; the summary gives min / median / max of the
# highest rate each receiver took without loss and of its CPU cost. Then
# the in-process figures (ipfix_bench: encoder, exporter, decoder, decode +
# store, raw insert loop) and the targets.
#
# Usage (root): tools/bench/ipfix.sh [--quick] [--runs N] [--markdown FILE] [RECORDS] [RATE...]
#   (default 1000000 records at 50k 100k 150k 200k 300k records/s and
#   unpaced (0), 3 runs; --quick: 200000 records at 100k and unpaced, 1 run).
#   --markdown writes the BENCHMARKS.md section with its **Target** lines.
# Needs tcpreplay (tools/install-deps.sh bench), sqlite3; nfcapd/nfdump
# and nfacctd are compared when installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=$BUILD/flowmaster
BENCH=$BUILD/bench/ipfix_bench
md="" quick=0 runs=3
while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 ;;
	--runs) runs=$2; shift ;;
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
((${#RATES[@]})) || RATES=(50000 100000 150000 200000 300000 0)
command -v tcpreplay >/dev/null || { echo "ipfix.sh: tcpreplay is not installed (tools/install-deps.sh bench)" >&2; exit 1; }
# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
lab_init
lab_host c --no-ipv6
# The stream's destination (an injected frame from 127/8 would be a martian).
DST=198.18.0.1
lab_nsexec c ip addr add $DST/32 dev lo
tick=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
PORT=4739
RCVBUF=33554432

pcap=$LAB_TMP/stream.pcap
rec=$("$BENCH" --pcap "$pcap" "$N")
DGRAMS=$(sed -n 's/^wrote \([0-9]*\) datagrams.*/\1/p' <<<"$rec")
echo "$rec"

# cpu_tree PID: user + system CPU seconds of PID and its children so far
# (threads are in the process's figure).
cpu_tree()
{
	local p t=0 c
	for p in $1 $(pgrep -P "$1" || true); do
		c=$(awk -v t="$tick" '{ printf "%.2f", ($14 + $15 + $16 + $17) / t }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$(echo "$t + $c" | bc -l)
	done
	echo "$t"
}

# listening: a UDP socket is bound to PORT in c.
listening()
{
	local i
	for ((i = 0; i < 100; i++)); do
		lab_nsexec c ss -Hlun "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# drained: wait (30 s at most) until PORT's receive queue is empty.
drained()
{
	local i q
	for ((i = 0; i < 300; i++)); do
		q=$(lab_nsexec c ss -Hlun "sport = :$PORT" | awk '{ s += $2 } END { print s + 0 }')
		((q == 0)) && return 0
		sleep 0.1
	done
}

# sock_drops: the drop count of PORT's socket in c (/proc/net/udp).
sock_drops()
{
	lab_nsexec c cat /proc/net/udp | awk -v p="$(printf ':%04X' $PORT)" '$2 ~ p"$" { print $NF }'
}

# offer RATE: tcpreplay the stream on c's loopback at RATE records/s
# (0: --topspeed); prints the achieved records/s.
offer()
{
	local args out
	if (($1 == 0)); then
		args=(--topspeed)
	else
		args=(--pps "$(((${1} * DGRAMS + N - 1) / N))")
	fi
	out=$(lab_nsexec c tcpreplay -q -K -i lo "${args[@]}" "$pcap" 2>&1) ||
		{ echo "tcpreplay: $out" >&2; exit 1; }
	# "Actual: 40001 packets (...) sent in 2.00 seconds" -> records/s
	awk -v n="$N" -v d="$DGRAMS" '/Actual:/ { for (i = 1; i <= NF; i++) if ($i == "seconds") s = $(i - 1) }
		END { printf "%.0f", (s > 0 ? n / s : 0) }' <<<"$out"
}

RESULTS=$LAB_TMP/results # run receiver rate offered stored lost drops cpu
: >"$RESULTS"

# settle DB|-: wait until the flows count stops moving (collect's writer
# commits within its delay).
settle_rows()
{
	local i last="" now
	for ((i = 0; i < 150; i++)); do
		now=$(sqlite3 -cmd '.timeout 2000' "$1" "select count(*) from flows;" 2>/dev/null || echo 0)
		((now >= N)) && break
		[[ $now == "$last" && $i -gt 20 ]] && break
		last=$now
		sleep 0.1
	done
}

run_collect()
{
	local run=$1 rate=$2 db=$LAB_TMP/collect.db log=$LAB_TMP/collect.log pid off cpu rows lost drops
	rm -f "$db" "$db"-wal "$db"-shm
	lab_bg c "$log" "$FM" collect --listen $DST:$PORT --db "$db" --rcvbuf $RCVBUF
	pid=$LAB_PID
	listening
	off=$(offer "$rate")
	drained
	settle_rows "$db"
	cpu=$(cpu_tree "$pid")
	kill -TERM "$pid"
	lab_wait_exit "$pid" 60 || true
	rows=$(sqlite3 "$db" "select count(*) from flows;")
	lost=$(sqlite3 "$db" "select coalesce(sum(lost_records), 0) from exporters;")
	drops=$(sed -n 's/.* \([0-9]*\) dropped by the socket.*/\1/p' "$log")
	echo "$run collect $rate $off $rows $lost ${drops:-0} $cpu" >>"$RESULTS"
}

run_nfcapd()
{
	local run=$1 rate=$2 dir=$LAB_TMP/nfcapd pid off cpu rows fails drops
	rm -rf "$dir"
	mkdir -p "$dir"
	lab_bg c "$LAB_TMP/nfcapd.log" nfcapd -w "$dir" -p $PORT -b $DST -t 3600 -B $RCVBUF
	pid=$LAB_PID
	listening
	off=$(offer "$rate")
	drained
	drops=$(sock_drops)
	cpu=$(cpu_tree "$pid")
	lab_stop "$pid" 10 || true
	rows=$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Flows:/ { s += $2 } END { print s + 0 }')
	fails=$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Sequence failures:/ { s += $3 } END { print s + 0 }')
	echo "$run nfcapd $rate $off $rows ${fails}ev ${drops:-0} $cpu" >>"$RESULTS"
}

run_nfacctd()
{
	local run=$1 rate=$2 out=$LAB_TMP/nfacctd.csv conf=$LAB_TMP/nfacctd.conf pid off cpu pkts rows drops i
	rm -f "$out"
	cat >"$conf" <<-EOC
		daemonize: false
		nfacctd_ip: $DST
		nfacctd_port: $PORT
		nfacctd_pipe_size: $RCVBUF
		plugins: print[p]
		aggregate[p]: proto
		print_output[p]: csv
		print_output_file[p]: $out
		print_refresh_time[p]: 3600
	EOC
	lab_bg c "$LAB_TMP/nfacctd.log" nfacctd -f "$conf"
	pid=$LAB_PID
	listening
	off=$(offer "$rate")
	drained
	drops=$(sock_drops)
	sleep 0.5 # the core's pipe to the plugin
	cpu=$(cpu_tree "$pid")
	# SIGINT: the plugin writes its cache, then everything exits.
	kill -INT "$pid"
	for ((i = 0; i < 100; i++)); do
		[[ -s $out ]] && ! pgrep -f "nfacctd.*$conf" >/dev/null && break
		sleep 0.1
	done
	lab_stop "$pid" 5 || true
	pkts=$(awk -F, '$1 != "PROTOCOL" && NF { s += $(NF - 1) } END { print s + 0 }' "$out" 2>/dev/null || echo 0)
	rows=$((pkts / 10)) # every record of the stream counts 10 packets
	echo "$run nfacctd $rate $off $rows $((N - rows)) ${drops:-0} $cpu" >>"$RESULTS"
}

receivers=(collect)
command -v nfcapd >/dev/null && command -v nfdump >/dev/null && receivers+=(nfcapd)
command -v nfacctd >/dev/null && receivers+=(nfacctd)
printf '%-4s %-8s %10s %10s %10s %10s %8s %10s\n' run receiver "rate" "offered/s" stored lost drops "CPU s/M"
for ((run = 1; run <= runs; run++)); do
	for rate in "${RATES[@]}"; do
		for r in "${receivers[@]}"; do
			"run_$r" "$run" "$rate"
			tail -n 1 "$RESULTS" | awk -v n="$N" '{ printf "%-4s %-8s %10s %10s %10d %10s %8s %10.2f\n",
				$1, $2, ($3 == 0 ? "max" : $3), $4, $5, $6, $7, ($5 > 0 ? $8 / ($5 / 1e6) : 0) }'
		done
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# Per receiver: per run, the highest offered rate (achieved records/s)
# stored without loss (stored == N, no socket drop); its CPU s per M
# records (at that rate; the lowest rate when none). min/median/max over
# runs. "lossless" "cpu" lines.
summary=$LAB_TMP/summary
: >"$summary"
stat3() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR]; else printf "-" }'; }
for r in "${receivers[@]}"; do
	best=() cpus=()
	for ((run = 1; run <= runs; run++)); do
		read -r b c < <(awk -v r="$r" -v run="$run" -v n="$N" '$1 == run && $2 == r {
				ok = ($5 == n && $7 == 0); cpm = $8 / ($5 / 1e6)
				if (!seen) { first = cpm; seen = 1 }
				if (ok && $4 > best) { best = $4; bc = cpm } }
			END { printf "%d %.2f\n", best, (best ? bc : first) }' "$RESULTS")
		best+=("$b") cpus+=("$c")
	done
	echo "$r $(printf '%s\n' "${best[@]}" | stat3) | $(printf '%s\n' "${cpus[@]}" | stat3)" >>"$summary"
done
echo
echo "highest records/s stored without loss (min / median / max of $runs runs) | CPU s per M records:"
cat "$summary"
echo
out=$("$BENCH" "$N" "$LAB_TMP")
echo "$out"
echo "load average: $load0 before, $load1 after"
[[ -n $md ]] || exit 0

share=$(sed -n 's/.*per-record cost \([0-9.]*\) %.*/\1/p' <<<"$out")
ratio=$(sed -n 's/.*collect \/ raw \([0-9.]*\).*/\1/p' <<<"$out")
raw=$(sed -n 's/.*raw insert loop *\([0-9]*\) rows.*/\1/p' <<<"$out")
fm_best=$(awk '$1 == "collect" { split($0, a, "/"); print a[2] + 0 }' "$summary")
e2e=$(printf "%.3f" "$(echo "scale=3; ${fm_best:-0} / ${raw:-1}" | bc -l)")
verdict() { (($(echo "$1" | bc -l))) && echo '**PASS**' || echo '**MISS**'; }
{
	echo "### IPFIX collectors side by side"
	echo
	echo "\`tools/bench/ipfix.sh$( ((quick)) && echo " --quick")\`: one recorded stream of $N IPFIX records ($DGRAMS datagrams of"
	echo "at most 512 bytes, 5 records each, the templates first; \`ipfix_bench --pcap\`) offered by"
	echo "tcpreplay on a test namespace's loopback at each rate to \`flowmaster collect\` (a fresh"
	echo "database each), nfcapd and nfacctd (print plugin, \`aggregate: proto\`), each with a 32 MiB"
	echo "socket buffer; $runs run(s); load average $load0 before, $load1 after (other work on the"
	echo "machine moves these). *lost*: flowmaster, by sequence numbers; nfcapd, sequence failure"
	echo "events; nfacctd, records missing from its packet total. *CPU s/M*: the receiver's user +"
	echo "system time (children included) per million records stored."
	echo
	echo "| run | receiver | rate asked (records/s) | offered records/s | stored | lost | socket drops (datagrams) | CPU s/M records |"
	echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk '{ printf "| %s | %s | %s | %s | %s | %s | %s | %.2f |\n", $1, $2, ($3 == 0 ? "max" : $3), $4, $5, $6, $7,
		($5 > 0 ? $8 / ($5 / 1e6) : 0) }' "$RESULTS"
	echo
	echo "Highest offered records/s stored without loss (min / median / max over runs) | CPU s per million records there:"
	echo
	echo '```'
	cat "$summary"
	echo '```'
	echo
	echo '```'
	echo "$out"
	echo '```'
	echo
	echo "**Target** decoding <= 20 % of the collector's per-record cost: ${share} %: $(verdict "$share <= 20")"
	echo
	echo "**Target** collector (decode + store, in process) >= 0.85 x the raw SQLite insert loop: ${ratio}: $(verdict "$ratio >= 0.85")"
	echo
	echo "**Target** flowmaster collect end to end, records/s stored without loss (median of runs) >= 0.85 x the raw insert loop's rows/s: ${fm_best:-0} / ${raw:-0} = ${e2e}: $(verdict "$e2e >= 0.85")"
	echo
	echo "Against the seed's collector (2,152 datagrams/s): flowmaster collect took $(echo "${fm_best:-0} * $DGRAMS / $N" | bc) datagrams/s without loss, $(printf "%.1f" "$(echo "${fm_best:-0} * $DGRAMS / $N / 2152" | bc -l)")x."
} >"$md"
