#!/usr/bin/env bash
# tools/bench/insitu.sh: what the XDP programs cost per packet on a live
# veth link, as the kernel measures them (build/bench/prog_cost: run_time_ns
# / run_cnt while BPF_ENABLE_STATS is held), next to the packets/s the
# link then carries. BPF_PROG_TEST_RUN (the kernel part) runs one frame
# with hot caches; here the receive path runs between two packets and
# evicts the program's maps and code, which is what the end-to-end
# packets/s ratio against an empty program pays.
#
# Per run, one after the other on the same link and load (trafgen, 60-byte
# UDP/IPv4, FLOWS flows, as fast as the link takes them, SECONDS):
#   empty   xdp_empty (bpf/bench.bpf.c), XDP_PASS
#   min     xdp_min_percpu: the minimal per-CPU hash flow counter, in a map
#           of as many entries as flowmaster's generation map
#   fm      flowmaster run (default settings, plus FM_ARGS from the
#           environment): fm_xdp
# Each figure is the median of RUNS runs.
#
# Usage: tools/bench/insitu.sh [--quick] [--runs N] [--seconds S]
#          [--flows N] [--markdown FILE]
#   --quick        1 run of 2 s
#   --runs N       median of N runs (3)
#   --seconds S    load per program and run (4)
#   --flows N      distinct flows (1000)
#   --markdown F   Markdown section ($BUILD/bench/insitu.md)
# Needs root, iproute2, bpftool, trafgen. Exit 0 when every run worked,
# 1 on a runtime error, 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
BENCH_OBJ=$BUILD/bpf/bench.bpf.o
PROG_COST=$BUILD/bench/prog_cost
runs=3 secs=4 flows=1000 md=$BUILD/bench/insitu.md quick=0

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; }
die() { echo "insitu: $*" >&2; exit 1; }
uerr() { echo "insitu: $* (try --help)" >&2; exit 2; }

while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 secs=2 ;;
	--runs) runs=${2:-}; shift ;;
	--seconds) secs=${2:-}; shift ;;
	--flows) flows=${2:-}; shift ;;
	--markdown) md=${2:-}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) uerr "unknown option '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9]$ ]] || uerr "--runs: '$runs' is not 1..9"
[[ $secs =~ ^[1-9][0-9]?$ ]] || uerr "--seconds: '$secs' is not 1..99"
[[ $flows =~ ^[1-9][0-9]{0,3}$ ]] || uerr "--flows: '$flows' is not 1..9999"
((EUID == 0)) || die "needs root; try: sudo $0"
for c in ip bpftool trafgen nsenter timeout; do
	command -v $c >/dev/null || die "$c is not installed"
done
for f in "$FM" "$PROG_COST" "$BENCH_OBJ"; do
	[[ -e $f ]] || die "$f not built (run make bench-build or make)"
done
mkdir -p "$(dirname "$md")" || exit 1

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fmins-$$
lab_init || exit 1
TX=tx RX=rx TXIF=tx-rx RXIF=rx-tx
{ lab_host $TX --no-ipv6 && lab_host $RX --no-ipv6 && lab_link $TX $RX; } || die "cannot build the test hosts"
RXNS=$(lab_ns $RX)
BENCH_NAME=insitu
# shellcheck source=tools/bench/traffic.sh
source "$(dirname "${BASH_SOURCE[0]}")/traffic.sh"
CFG=$LAB_TMP/flows.cfg
make_cfg "$CFG" "$flows" || die "cannot write the trafgen config"
PIN=$(lab_pin_dir) || die "no bpffs"	# flowmaster's; min's pins go in $PIN-min
LAB_DIRS+=("$PIN-min")
MAXFLOWS=""

# measure NAME: run the load with the statistics on; sets NS and PPS.
measure()
{
	local pc rx0 rx1 t0 t1 line
	coproc PC { exec "$PROG_COST" "$1"; }
	pc=$PC_PID
	{ read -r line <&"${PC[0]}" && [[ $line == ready ]]; } || die "prog_cost did not start"
	rx0=$(lab_sys $RX $RXIF statistics/rx_packets) t0=$(now_ns)
	lab_nsexec $TX timeout -s INT -k 2 "$secs" trafgen -i "$CFG" -o $TXIF -P 1 \
		--no-sock-mem -Q -C -n $((2000000 * secs)) >/dev/null 2>&1
	t1=$(now_ns) rx1=$(lab_sys $RX $RXIF statistics/rx_packets)
	kill -INT "$pc"
	read -r _ _ _ NS <&"${PC[0]}" || NS=""
	wait "$pc" 2>/dev/null
	[[ -n $NS ]] || die "no statistics for $1 (not attached?)"
	PPS=$(awk -v p=$((rx1 - rx0)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", p / ((b - a) / 1e9)}')
}

run_empty()
{
	ip -n "$RXNS" link set dev $RXIF xdpdrv obj "$BENCH_OBJ" sec xdp || die "cannot attach xdp_empty"
	measure xdp_empty
	ip -n "$RXNS" link set dev $RXIF xdp off
}

# The minimal counter in a map as large as flowmaster's generation, so
# that both spread their flows over as much memory.
run_min()
{
	local d=$PIN-min/progs
	mkdir -p "$PIN-min" || die "cannot make $PIN-min"
	bpftool map create "$PIN-min/map" type percpu_hash key 40 value 16 \
		entries "$MAXFLOWS" name min_percpu_flows || die "cannot create the map"
	bpftool prog loadall "$BENCH_OBJ" "$d" map name min_percpu_flows pinned "$PIN-min/map" ||
		die "cannot load $BENCH_OBJ"
	lab_nsexec $RX bpftool net attach xdpdrv pinned "$d/xdp_min_percpu" dev $RXIF ||
		die "cannot attach xdp_min_percpu"
	measure xdp_min_percpu
	lab_nsexec $RX bpftool net detach xdpdrv dev $RXIF
	rm -rf "$PIN-min"
}

run_fm()
{
	local log=$LAB_TMP/fm.log i pid
	# shellcheck disable=SC2086 # FM_ARGS is a list of options
	lab_bg $RX "$log" "$FM" run -i $RXIF --db "$LAB_TMP/fm.db" --pin-path "$PIN" ${FM_ARGS:-}
	pid=$LAB_PID
	for ((i = 0; i < 400; i++)); do
		lab_xdp_attached $RX $RXIF && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "flowmaster exited"; }
		sleep 0.05
	done
	measure fm_xdp
	lab_stop "$pid" 30
	MAXFLOWS=$(sed -n 's/.*max-flows \([0-9]*\) per generation.*/\1/p' "$log" | head -n 1)
	rm -f "$LAB_TMP"/fm.db*
}

declare -A R=()
for ((r = 1; r <= runs; r++)); do
	for p in fm empty min; do	# fm first: it tells min its map size
		"run_$p"
		R[$p,$r]="$NS $PPS"
		echo "  # run $r, $p: $NS ns/packet, $PPS packets/s" >&2
	done
done

med() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { for ((r = 1; r <= runs; r++)); do read -ra v <<<"${R[$1,$r]}"; echo "${v[$2]}"; done | med; }
declare -A NSM PPSM
for p in empty min fm; do
	NSM[$p]=$(col $p 0) PPSM[$p]=$(col $p 1)
done
{
	echo "### XDP program cost on the live link"
	echo
	echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs, kernel $(uname -r). \`tools/bench/insitu.sh$( ((quick)) && echo " --quick")\`: 60-byte UDP/IPv4, $(keys_of "$flows") flows, as fast as the link takes them, $secs s per program, median of $runs run(s); run time per packet as the kernel counts it (\`run_time_ns / run_cnt\`, statistics on through BPF_ENABLE_STATS, \`build/bench/prog_cost\`)."
	echo
	echo "| program | ns/packet on the link | packets/s | ns over empty | / min_percpu |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for p in empty min fm; do
		name=$p
		[[ $p == min ]] && name=min_percpu
		[[ $p == fm ]] && name=fm_xdp
		awk -v n="$name" -v ns="${NSM[$p]}" -v pps="${PPSM[$p]}" -v e="${NSM[empty]}" -v m="${NSM[min]}" \
			'BEGIN{printf "| %s | %.0f | %.0f | %+.0f | %.2f |\n", n, ns, pps, ns - e, ns / m}'
	done
	echo
	awk -v f="${NSM[fm]}" -v e="${NSM[empty]}" -v p="${PPSM[empty]}" 'BEGIN{
		b = 1e9 / p; printf "- With the empty program the link carried a packet every %.0f ns of receive path; fm_xdp adds %.0f ns to each, so at most %.3f of the empty program'"'"'s packets/s can be expected (%.0f ns / (%.0f + %.0f) ns): the program'"'"'s cost on a live link, not BPF_PROG_TEST_RUN'"'"'s, is what decides the end-to-end ratio.\n", b, f - e, b / (b + f - e), b, b, f - e}'
	echo "- *min_percpu* uses a map of ${MAXFLOWS:-?} entries, as large as flowmaster's generation map by default on this machine, so both spread their flows over as much memory. With the statistics on, every program also pays two clock reads per run (in every row alike)."
} >"$md"
cat "$md"
