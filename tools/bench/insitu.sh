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
# and with --ladder the steps between min and fm (bpf/bench.bpf.c,
# xdp_lad_*: each adds one of fm_xdp's extras to the step before), so
# that what each extra costs on the live link is measured. The bench
# programs are attached by build/bench/lad_attach. Each figure is the
# median of RUNS runs (min and max beside it); ratios are medians of the
# per-run ratios.
#
# Usage: tools/bench/insitu.sh [--quick] [--runs N] [--seconds S]
#          [--flows N[,N...]] [--ladder] [--markdown FILE]
#   --quick        1 run of 2 s, 1000 flows, no ladder
#   --runs N       median of N runs (3)
#   --seconds S    load per program and run (4)
#   --flows N,...  distinct flows, one table each (1000,65536)
#   --ladder       the ladder's steps too (default without --quick)
#   --markdown F   Markdown section ($BUILD/bench/insitu.md)
# Needs root, iproute2, trafgen. Exit 0 when every run worked,
# 1 on a runtime error, 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
BENCH_OBJ=$BUILD/bpf/bench.bpf.o
PROG_COST=$BUILD/bench/prog_cost
LAD=$BUILD/bench/lad_attach
runs=3 secs=4 flows=1000,65536 md=$BUILD/bench/insitu.md quick=0 ladder=""
TARGET_LIVE=1.10

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; }
die() { echo "insitu: $*" >&2; exit 1; }
uerr() { echo "insitu: $* (try --help)" >&2; exit 2; }

while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 secs=2 flows=1000 ;;
	--ladder) ladder=1 ;;
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
[[ $flows =~ ^[1-9][0-9]{0,5}(,[1-9][0-9]{0,5})*$ ]] || uerr "--flows: '$flows' is not a list of 1..999999"
[[ -n $ladder ]] || ladder=$((!quick))
((EUID == 0)) || die "needs root; try: sudo $0"
for c in ip trafgen nsenter timeout; do
	command -v $c >/dev/null || die "$c is not installed"
done
for f in "$FM" "$PROG_COST" "$BENCH_OBJ" "$LAD"; do
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
PIN=$(lab_pin_dir) || die "no bpffs"
MAXFLOWS=""
PROGS=(fm empty min)
((ladder)) && PROGS=(fm empty min key val cnt slot outer)
declare -A PNAME=([empty]=xdp_empty [min]=xdp_min_percpu [key]=xdp_lad_key [val]=xdp_lad_val
	[cnt]=xdp_lad_cnt [slot]=xdp_lad_slot [outer]=xdp_lad_outer [fm]=fm_xdp)
declare -A LABEL=([empty]=empty [min]=min_percpu [key]="+ flowmaster's key" [val]="+ flowmaster's value"
	[cnt]="+ counters" [slot]="+ slot from .bss" [outer]="+ ARRAY_OF_MAPS" [fm]=fm_xdp)

# measure NAME ID: run the load with the statistics on; sets NS and PPS
# for the program NAME with id ID (other programs of the name may run on
# the machine: other benchmarks, other flowmasters). Once more if
# prog_cost had nothing to say (it failed to read the programs' list).
measure()
{
	measure1 "$@" || measure1 "$@" || die "no statistics for $1 (id $2; not attached?)"
}

measure1()
{
	local pc rx0 rx1 t0 t1 line id n
	coproc PC { exec "$PROG_COST" "$1"; }
	pc=$PC_PID
	exec {pcout}<&"${PC[0]}"	# bash drops PC when the coprocess exits
	{ read -r line <&"$pcout" && [[ $line == ready ]]; } || die "prog_cost did not start"
	rx0=$(lab_sys $RX $RXIF statistics/rx_packets) t0=$(now_ns)
	lab_nsexec $TX timeout -s INT -k 2 "$secs" trafgen -i "$CFG" -o $TXIF -P 1 \
		--no-sock-mem -Q -C -n $((2000000 * secs)) >/dev/null 2>&1
	t1=$(now_ns) rx1=$(lab_sys $RX $RXIF statistics/rx_packets)
	kill -INT "$pc"
	NS=""
	while read -r _ id _ n; do
		[[ $id == "$2" ]] && NS=$n
	done <&"$pcout"
	exec {pcout}<&-
	wait "$pc" 2>/dev/null
	[[ -n $NS ]] || { echo "insitu: no statistics for $1 (id $2), once more" >&2; return 1; }
	PPS=$(awk -v p=$((rx1 - rx0)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", p / ((b - a) / 1e9)}')
}

# The attached XDP program's id.
xdp_id() { ip -n "$RXNS" -d link show dev $RXIF | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1; }

# run_bench P: a bench program (empty, min, a ladder step), its flow map
# as large as flowmaster's generation, so that both spread their flows
# over as much memory.
run_bench()
{
	local log=$LAB_TMP/lad.log i pid id=""
	rm -f "$log"	# lab_bg truncates it in the background: no stale id
	lab_bg $RX "$log" "$LAD" "${PNAME[$1]}" $RXIF "${MAXFLOWS:-262144}"
	pid=$LAB_PID
	for ((i = 0; i < 1200; i++)); do
		id=$(sed -n 's/^attached \([0-9]*\)$/\1/p' "$log" 2>/dev/null)
		[[ -n $id ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "lad_attach ${PNAME[$1]} exited"; }
		sleep 0.05
	done
	[[ -n $id ]] || die "lad_attach ${PNAME[$1]} did not attach"
	measure "${PNAME[$1]}" "$id"
	lab_stop "$pid" 10
	! lab_xdp_attached $RX $RXIF || die "${PNAME[$1]} still attached"
}

run_fm()
{
	local log=$LAB_TMP/fm.log i pid
	# shellcheck disable=SC2086 # FM_ARGS is a list of options
	lab_bg $RX "$log" "$FM" run -i $RXIF --db "$LAB_TMP/fm.db" --pin-path "$PIN" ${FM_ARGS:-}
	pid=$LAB_PID
	for ((i = 0; i < 1200; i++)); do
		lab_xdp_attached $RX $RXIF && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "flowmaster exited"; }
		sleep 0.05
	done
	measure fm_xdp "$(xdp_id)"
	lab_stop "$pid" 30
	MAXFLOWS=$(sed -n 's/.*max-flows \([0-9]*\) per generation.*/\1/p' "$log" | head -n 1)
	rm -f "$LAB_TMP"/fm.db*
}

# stats: "min median max" of the numbers on stdin
stats() { sort -g | awk '{a[NR] = $1} END {printf "%s %s %s\n", a[1], (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2, a[NR]}'; }

declare -A R=()
IFS=, read -ra FLOWS <<<"$flows"
for nf in "${FLOWS[@]}"; do
	make_cfg "$CFG" "$nf" || die "cannot write the trafgen config"
	for ((r = 1; r <= runs; r++)); do
		for p in "${PROGS[@]}"; do	# fm first: it tells the others their map size
			if [[ $p == fm ]]; then run_fm; else run_bench "$p"; fi
			R[$nf,$p,$r]="$NS $PPS"
			echo "  # $(keys_of "$nf") flows, run $r, $p: $NS ns/packet, $PPS packets/s" >&2
		done
	done
done

# col NF P I: the I-th figure (0 ns, 1 packets/s) of every run.
col() { local r v; for ((r = 1; r <= runs; r++)); do read -ra v <<<"${R[$1,$2,$r]}"; echo "${v[$3]}"; done; }
# ratio NF P Q I: P's figure over Q's, per run.
ratio() {
	local r a b
	for ((r = 1; r <= runs; r++)); do
		read -ra a <<<"${R[$1,$2,$r]}"
		read -ra b <<<"${R[$1,$3,$r]}"
		awk -v x="${a[$4]}" -v y="${b[$4]}" 'BEGIN{printf "%.4f\n", x / y}'
	done
}
{
	echo "### XDP program cost on the live link"
	echo
	echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs, kernel $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg) when it ended. \`tools/bench/insitu.sh$( ((quick)) && echo " --quick")\`: 60-byte UDP/IPv4, as fast as the link takes them, $secs s per program, $runs run(s), the programs in turn within each run; run time per packet as the kernel counts it (\`run_time_ns / run_cnt\`, statistics on through BPF_ENABLE_STATS, \`build/bench/prog_cost\`): min / median / max over the runs; ratios are medians of the per-run ratios."
	for nf in "${FLOWS[@]}"; do
		echo
		echo "$(keys_of "$nf") flows:"
		echo
		echo "| program | ns/packet on the link, min / median / max | step (medians) | packets/s (median) | / min_percpu | packets/s / empty's |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: |"
		prev=""
		for p in empty min key val cnt slot outer fm; do
			[[ -n ${R[$nf,$p,1]:-} ]] || continue
			read -r a b c <<<"$(col "$nf" $p 0 | stats)"
			read -r _ pps _ <<<"$(col "$nf" $p 1 | stats)"
			read -r _ rm _ <<<"$(ratio "$nf" $p min 0 | stats)"
			read -r _ re _ <<<"$(ratio "$nf" $p empty 1 | stats)"
			awk -v n="${LABEL[$p]}" -v a="$a" -v b="$b" -v c="$c" -v prev="$prev" -v pps="$pps" -v rm="$rm" -v re="$re" \
				'BEGIN{printf "| %s | %.0f / %.0f / %.0f | %s | %.0f | %.2f | %.3f |\n", n, a, b, c, prev == "" ? "" : sprintf("%+.0f", b - prev), pps, rm, re}'
			prev=$b
		done
	done
	echo
	for nf in "${FLOWS[@]}"; do
		read -r a b c <<<"$(ratio "$nf" fm min 0 | stats)"
		awk -v n="$(keys_of "$nf")" -v a="$a" -v b="$b" -v c="$c" -v t="$TARGET_LIVE" \
			'BEGIN{printf "**Target**: live per-packet cost fm_xdp <= %.2fx min_percpu, %s flows: %.2fx (runs %.2f-%.2f): **%s**\n\n", t, n, b, a, c, b <= t ? "PASS" : "MISS"}'
	done
	for nf in "${FLOWS[@]}"; do
		read -r a b c <<<"$(ratio "$nf" fm empty 1 | stats)"
		awk -v n="$(keys_of "$nf")" -v a="$a" -v b="$b" -v c="$c" 'BEGIN{printf "- packets/s with fm_xdp / with the empty program, %s flows: %.3f (runs %.3f-%.3f); the end-to-end figure (target >= 0.95 at 1k flows, max load) is measured by compare.sh.\n", n, b, a, c}'
	done
	nf=${FLOWS[0]}
	read -r _ f _ <<<"$(col "$nf" fm 0 | stats)"
	read -r _ e _ <<<"$(col "$nf" empty 0 | stats)"
	read -r _ p _ <<<"$(col "$nf" empty 1 | stats)"
	awk -v f="$f" -v e="$e" -v p="$p" -v n="$(keys_of "$nf")" 'BEGIN{
		b = 1e9 / p; printf "- With the empty program and %s flows the link carried a packet every %.0f ns of receive path; fm_xdp adds %.0f ns to each, so at most %.3f of the empty program'"'"'s packets/s can be expected (%.0f ns / (%.0f + %.0f) ns): the program'"'"'s cost on a live link, not BPF_PROG_TEST_RUN'"'"'s, is what decides the end-to-end ratio.\n", n, b, f - e, b / (b + f - e), b, b, f - e}'
	echo "- *min_percpu* and the ladder's steps use maps of ${MAXFLOWS:-?} entries, as large as flowmaster's generation map by default on this machine, so all spread their flows over as much memory. The ladder's steps (\`bpf/bench.bpf.c\`, \`xdp_lad_*\`) each add one of fm_xdp's extras to the row above; *step* is the row's median over the row above's. fm_xdp reads its control map only when it inserts a flow. With the statistics on, every program also pays two clock reads per run (in every row alike)."
} >"$md"
cat "$md"
