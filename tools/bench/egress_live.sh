#!/usr/bin/env bash
# tools/bench/egress_live.sh: the egress (TC, fm_tc) and ingress (XDP,
# fm_xdp) programs' cost per packet on a live veth link, as the kernel
# counts it (run_time_ns / run_cnt, build/bench/prog_cost), with one
# flowmaster run --direction both on a-b: UDP from a (through the qdisc,
# so the egress hook sees it) and then the same load from b into a; then
# the same load from a through tc_min_percpu (bpf/bench.bpf.c, the minimal
# per-CPU counter at the TC hook, attached by build/bench/lad_attach), so
# that fm_tc's live cost has a baseline measured in the same run. RUNS
# runs, min / median / max; the ratio is the median of the per-run ratios.
#
# Usage: tools/bench/egress_live.sh [--quick] [--runs N] [--markdown FILE]
#   --quick        200k frames each way (default 2M)
#   --runs N       runs (3)
#   --markdown F   append a Markdown paragraph to F
# Needs root, iproute2, trafgen. Test hosts in namespaces of its own,
# bounded loads, all torn down by trap. Exit 0, 1 on a runtime error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
PROG_COST=$BUILD/bench/prog_cost
LAD=$BUILD/bench/lad_attach
frames=2000000 md="" runs=3
TARGET_LIVE=1.10

die() { echo "egress_live: $*" >&2; exit 1; }
while (($#)); do
	case $1 in
	--quick) frames=200000 ;;
	--runs) runs=${2:-}; shift ;;
	--markdown) md=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "egress_live: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
((EUID == 0)) || die "needs root"
[[ $runs =~ ^[1-9]$ ]] || { echo "egress_live: --runs: '$runs' is not 1..9" >&2; exit 2; }
for f in "$FM" "$PROG_COST" "$LAD"; do
	[[ -x $f ]] || die "$f not built (run make)"
done

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fmegr-$$
lab_init || exit 1
{ lab_host a --no-ipv6 && lab_host b --no-ipv6 && lab_link a b; } || die "cannot build the test hosts"
PIN=$(lab_pin_dir) || die "no bpffs"
MAXFLOWS=""

# stats: "min median max" of the numbers on stdin
stats() { sort -g | awk '{a[NR] = $1} END {printf "%s %s %s\n", a[1], (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2, a[NR]}'; }

# prog_stats LOADS...: run LOADS (functions) with prog_cost on; sets NS[name]
# and RUNS[name] for the program ids in IDS (name -> id).
declare -A NS RUNS IDS
prog_stats()
{
	local pc line name id r n load
	coproc PC { exec "$PROG_COST" "${!IDS[@]}"; }
	pc=$PC_PID
	exec {pcout}<&"${PC[0]}"	# bash drops PC when the coprocess exits
	{ read -r line <&"$pcout" && [[ $line == ready ]]; } || die "prog_cost did not start"
	for load in "$@"; do
		"$load" || die "$load failed"
	done
	kill -INT "$pc"
	while read -r name id r n; do
		[[ $id == "${IDS[$name]:-}" ]] && NS[$name]=$n RUNS[$name]=$r
	done <&"$pcout"
	exec {pcout}<&-
	wait "$pc" 2>/dev/null
}
# shellcheck disable=SC2317 # called by prog_stats
load_egress() { LAB_TRAFGEN_QDISC=1 lab_trafgen a a-b "$frames" 1000 0 60; }
# shellcheck disable=SC2317 # called by prog_stats
load_ingress() { lab_trafgen b b-a "$frames" 1000 0 60; }

# fm: flowmaster --direction both; sets NS[fm_xdp], NS[fm_tc].
run_fm()
{
	local log=$LAB_TMP/fm.log pid i
	lab_bg a "$log" "$FM" run -i a-b --db "$LAB_TMP/fm.db" --pin-path "$PIN" --direction both
	pid=$LAB_PID
	# Our programs by id: other flowmasters on the machine have the same
	# names. Both attach lines, in whichever order the log has them.
	IDS=()
	for ((i = 0; i < 1200; i++)); do
		IDS[fm_xdp]=$(sed -n 's/.*a-b: attached (.*prog id \([0-9]*\)).*/\1/p' "$log")
		IDS[fm_tc]=$(sed -n 's/.*a-b: egress attached (.*prog id \([0-9]*\)).*/\1/p' "$log")
		[[ -n ${IDS[fm_xdp]} && -n ${IDS[fm_tc]} ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "flowmaster exited"; }
		sleep 0.05
	done
	[[ -n ${IDS[fm_xdp]} && -n ${IDS[fm_tc]} ]] || { cat "$log" >&2; die "no program ids in the log after 60 s"; }
	NS=() RUNS=()
	prog_stats load_egress load_ingress
	lab_stop "$pid" 30
	MAXFLOWS=$(sed -n 's/.*max-flows \([0-9]*\) per generation.*/\1/p' "$log" | head -n 1)
	rm -f "$LAB_TMP"/fm.db*
	[[ -n ${NS[fm_xdp]:-} && -n ${NS[fm_tc]:-} ]] || die "no statistics (not attached?)"
}

# min: tc_min_percpu on a-b's egress, its map as large as flowmaster's generation.
run_min()
{
	local log=$LAB_TMP/lad.log pid i id=""
	rm -f "$log"	# lab_bg truncates it in the background: no stale id
	lab_bg a "$log" "$LAD" tc_min_percpu a-b "${MAXFLOWS:-262144}" tc
	pid=$LAB_PID
	for ((i = 0; i < 1200; i++)); do
		id=$(sed -n 's/^attached \([0-9]*\)$/\1/p' "$log" 2>/dev/null)
		[[ -n $id ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "lad_attach exited"; }
		sleep 0.05
	done
	[[ -n $id ]] || die "tc_min_percpu did not attach"
	IDS=([tc_min_percpu]=$id)
	NS=() RUNS=()
	prog_stats load_egress
	lab_stop "$pid" 10
	[[ -n ${NS[tc_min_percpu]:-} ]] || die "no statistics for tc_min_percpu"
}

declare -a X T M
for ((r = 0; r < runs; r++)); do
	run_fm
	X[r]=${NS[fm_xdp]} T[r]=${NS[fm_tc]} xr=${RUNS[fm_xdp]} tr=${RUNS[fm_tc]}
	run_min
	M[r]=${NS[tc_min_percpu]}
	echo "  # run $((r + 1)): fm_xdp ${X[r]} ns, fm_tc ${T[r]} ns, tc_min_percpu ${M[r]} ns" >&2
done
read -r x1 x2 x3 <<<"$(printf '%s\n' "${X[@]}" | stats)"
read -r t1 t2 t3 <<<"$(printf '%s\n' "${T[@]}" | stats)"
read -r m1 m2 m3 <<<"$(printf '%s\n' "${M[@]}" | stats)"
read -r r1 r2 r3 <<<"$(for ((r = 0; r < runs; r++)); do awk -v a="${T[r]}" -v b="${M[r]}" 'BEGIN{printf "%.4f\n", a / b}'; done | stats)"
read -r _ e2 _ <<<"$(for ((r = 0; r < runs; r++)); do awk -v a="${T[r]}" -v b="${X[r]}" 'BEGIN{printf "%.4f\n", a / b}'; done | stats)"
text=$(awk -v f="$frames" -v n="$runs" -v x1="$x1" -v x2="$x2" -v x3="$x3" -v t1="$t1" -v t2="$t2" -v t3="$t3" \
	-v m1="$m1" -v m2="$m2" -v m3="$m3" -v r1="$r1" -v r2="$r2" -v r3="$r3" -v e2="$e2" -v xr="$xr" -v tr="$tr" -v tg="$TARGET_LIVE" 'BEGIN{
	printf "On a live veth link (`tools/bench/egress_live.sh`, 60-byte UDP, 1,000 flows, %d frames each way at full speed, %d runs, ns per packet min / median / max): fm_xdp %.0f / %.0f / %.0f, fm_tc %.0f / %.0f / %.0f, tc_min_percpu (the minimal per-CPU counter at the TC hook, same egress load) %.0f / %.0f / %.0f; egress/ingress %.2fx (last run: %d and %d program runs). (On the live link the TC programs also pay for the skb'"'"'s non-linear headers: trafgen'"'"'s packet socket leaves them in page fragments and fm_tc pulls 128 bytes in; the stack'"'"'s own packets have them linear.)\n\n", f, n, x1, x2, x3, t1, t2, t3, m1, m2, m3, e2, xr, tr
	printf "**Target**: live per-packet cost fm_tc <= %.2fx tc_min_percpu, 1000 flows: %.2fx (runs %.2f-%.2f): **%s**", tg, r2, r1, r3, r2 <= tg ? "PASS" : "MISS"}')
echo "$text"
[[ -n $md ]] && printf '\n%s\n' "$text" >>"$md"
exit 0
