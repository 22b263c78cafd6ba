#!/usr/bin/env bash
# tools/bench/egress_live.sh: the egress (TC, fm_tc) and ingress (XDP,
# fm_xdp) programs' cost per packet on a live veth link, as the kernel
# counts it (run_time_ns / run_cnt, build/bench/prog_cost), with one
# flowmaster run --direction both on a-b: UDP from a (through the qdisc,
# so the egress hook sees it) and then the same load from b into a.
#
# Usage: tools/bench/egress_live.sh [--quick] [--markdown FILE]
#   --quick        200k frames each way (default 2M)
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
frames=2000000 md=""

die() { echo "egress_live: $*" >&2; exit 1; }
while (($#)); do
	case $1 in
	--quick) frames=200000 ;;
	--markdown) md=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "egress_live: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
((EUID == 0)) || die "needs root"
for f in "$FM" "$PROG_COST"; do
	[[ -x $f ]] || die "$f not built (run make)"
done

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fmegr-$$
lab_init || exit 1
{ lab_host a --no-ipv6 && lab_host b --no-ipv6 && lab_link a b; } || die "cannot build the test hosts"
PIN=$(lab_pin_dir) || die "no bpffs"
log=$LAB_TMP/fm.log
lab_bg a "$log" "$FM" run -i a-b --db "$LAB_TMP/fm.db" --pin-path "$PIN" --direction both
pid=$LAB_PID
for ((i = 0; i < 400; i++)); do
	grep -q "a-b: attached" "$log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "flowmaster exited"; }
	sleep 0.05
done
# Our programs by id: other flowmasters on the machine have the same names.
xdp_id=$(sed -n 's/.*a-b: attached (.*prog id \([0-9]*\)).*/\1/p' "$log")
tc_id=$(sed -n 's/.*a-b: egress attached (.*prog id \([0-9]*\)).*/\1/p' "$log")
[[ -n $xdp_id && -n $tc_id ]] || die "no program ids in the log"

coproc PC { exec "$PROG_COST" fm_xdp fm_tc; }
pc=$PC_PID
exec {pcout}<&"${PC[0]}"	# bash drops PC when the coprocess exits
{ read -r line <&"$pcout" && [[ $line == ready ]]; } || die "prog_cost did not start"
LAB_TRAFGEN_QDISC=1 lab_trafgen a a-b "$frames" 1000 0 60 || die "trafgen a -> b failed"
lab_trafgen b b-a "$frames" 1000 0 60 || die "trafgen b -> a failed"
kill -INT "$pc"
declare -A ns runs
while read -r name id r n; do
	[[ $id == "$xdp_id" || $id == "$tc_id" ]] && ns[$name]=$n runs[$name]=$r
done <&"$pcout"
wait "$pc" 2>/dev/null
lab_stop "$pid" 30
[[ -n ${ns[fm_xdp]:-} && -n ${ns[fm_tc]:-} ]] || die "no statistics (not attached?)"
ratio=$(awk -v a="${ns[fm_tc]}" -v b="${ns[fm_xdp]}" 'BEGIN { printf "%.2f", a / b }')
text="On a live veth link (\`tools/bench/egress_live.sh\`, 60-byte UDP, 1,000 flows, $frames frames each way at full speed): fm_xdp ${ns[fm_xdp]} ns per packet over ${runs[fm_xdp]} runs, fm_tc ${ns[fm_tc]} ns over ${runs[fm_tc]} runs: egress/ingress ${ratio}x. (On the live link the TC program also pays for the skb's non-linear headers: trafgen's packet socket leaves them in page fragments and the program pulls 128 bytes in; the stack's own packets have them linear.)"
echo "$text"
[[ -n $md ]] && printf '\n%s\n' "$text" >>"$md"
exit 0
