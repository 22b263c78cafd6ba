#!/usr/bin/env bash
# tools/bench/e2e.sh: end-to-end benchmark of flowmaster on a veth link
# between two test hosts (network namespaces made here, tools/lab.sh).
#
# For each offered load and flow count (a case), trafgen on host "tx"
# sends 60-byte UDP/IPv4 frames to host "rx" for SECONDS, as fast as the
# link takes them by default (one trafgen process, bounded by a packet
# count and a timeout): once with nothing attached to rx's veth end
# (none), once with an empty XDP_PASS program (empty, xdp_empty of
# bpf/bench.bpf.c, native), and once under `flowmaster run` with default
# settings (fm), stopped by SIGTERM after the load. A run is one pass over
# the cases and tools; each figure is the median of RUNS runs, ratios and
# differences between tools are taken within a run before the median. A
# tool is two functions (tool_NAME_start, tool_NAME_stop): see "the tools".
#
# Usage: tools/bench/e2e.sh [--quick] [--runs N] [--seconds S]
#          [--flows N,N,...] [--rates max,PPS,...] [--tools none,empty,fm]
#          [--markdown FILE] [--fm-args "ARGS"] [-v]
#   --quick        1 run of 2 s per case (a smoke test)
#   --runs N       median of N runs (3)
#   --seconds S    load per case (10)
#   --flows LIST   distinct flow keys per case (1000,65536,1000000); above
#                  4096 the key count is the nearest coprime product of
#                  source ports x source addresses >= N (printed)
#   --rates LIST   offered loads: max (as fast as the link goes, the
#                  default) or packets/s (trafgen -b)
#   --tools LIST   subset and order of none,empty,fm
#   --markdown F   write the Markdown section to F ($BUILD/bench/e2e.md)
#   --fm-args A    extra options for `flowmaster run` (default: none)
#   -v             also show the tail of flowmaster's log after each case
# Needs root, iproute2, trafgen (netsniff-ng), sqlite3; /usr/bin/time if
# installed (else the daemon's CPU and peak RSS are read from /proc).
# Exit 0 when every case ran (a missed target is reported, not an error),
# 1 on a runtime error or a lost count (stored != arrived), 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
BENCH_OBJ=${BENCH_OBJ:-$BUILD/bpf/bench.bpf.o}

runs=3 secs=10 flows_list=1000,65536,1000000 tools_list=none,empty,fm rates_list=max
md=$BUILD/bench/e2e.md fm_args="" verbose=0 quick=0
# Upper bound on packets per case: far above what the link carries, so
# the timeout, not the count, ends a case; both bound it.
MAX_PPS=2000000

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; }
die() { echo "e2e: $*" >&2; exit 1; }
uerr() { echo "e2e: $* (try --help)" >&2; exit 2; }
say() { echo "  # $*" >&2; }

while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 secs=2 ;;
	--runs) runs=${2:-}; shift ;;
	--runs=*) runs=${1#*=} ;;
	--seconds) secs=${2:-}; shift ;;
	--seconds=*) secs=${1#*=} ;;
	--flows) flows_list=${2:-}; shift ;;
	--flows=*) flows_list=${1#*=} ;;
	--rates) rates_list=${2:-}; shift ;;
	--rates=*) rates_list=${1#*=} ;;
	--tools) tools_list=${2:-}; shift ;;
	--tools=*) tools_list=${1#*=} ;;
	--markdown) md=${2:-}; shift ;;
	--markdown=*) md=${1#*=} ;;
	--fm-args) fm_args=${2:-}; shift ;;
	--fm-args=*) fm_args=${1#*=} ;;
	-v) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) uerr "unknown option '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]?$ ]] || uerr "--runs: '$runs' is not 1..99"
[[ $secs =~ ^[1-9][0-9]{0,2}$ ]] || uerr "--seconds: '$secs' is not 1..999"
IFS=, read -ra FLOWS <<<"$flows_list"
IFS=, read -ra TOOLS <<<"$tools_list"
IFS=, read -ra RATES <<<"$rates_list"
for x in "${RATES[@]}"; do
	[[ $x == max ]] || { [[ $x =~ ^[1-9][0-9]*$ ]] && ((x <= MAX_PPS)); } ||
		uerr "--rates: '$x' is not max or 1..$MAX_PPS packets/s"
done
for f in "${FLOWS[@]}"; do
	if ! [[ $f =~ ^[1-9][0-9]*$ ]] || ((f > 2000000)); then
		uerr "--flows: '$f' is not 1..2000000"
	fi
done
for t in "${TOOLS[@]}"; do
	[[ $t == none || $t == empty || $t == fm ]] || uerr "--tools: '$t' is not none, empty or fm"
done

((EUID == 0)) || die "needs root (namespaces, XDP); try: sudo $0"
for c in ip trafgen sqlite3 nsenter timeout pgrep; do
	command -v "$c" >/dev/null || die "$c is not installed (tools/install-deps.sh)"
done
[[ -x $FM ]] || die "$FM not built (run make)"
[[ -r $BENCH_OBJ ]] || die "$BENCH_OBJ not built (run make bench)"
mkdir -p "$(dirname "$md")" || exit 1

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fmbench-$$
lab_init || exit 1
HZ=$(getconf CLK_TCK)
TX=tx RX=rx TXIF=tx-rx RXIF=rx-tx

if ! { lab_host $TX --no-ipv6 && lab_host $RX --no-ipv6 && lab_link $TX $RX; }; then
	die "cannot build the test hosts"
fi
RXNS=$(lab_ns $RX)

BENCH_NAME=e2e
source "$(dirname "${BASH_SOURCE[0]}")/traffic.sh"

# --- the tools ----------------------------------------------------------------
# A tool is tool_NAME_start KEY (before the load; it may set TOOL_PID to a
# process whose CPU counts from the start of the load) and tool_NAME_stop
# KEY (after it: stop, collect R[KEY,stored] and the rest). The
# whole-machine CPU window ends with tool_NAME_stop for tools that set
# CPU_TO_EXIT=1 (their work after the load, e.g. the final export, counts),
# else with the load.

tool_none_start() { :; }
tool_none_stop() { :; }

tool_empty_start()
{
	ip -n "$RXNS" link set dev $RXIF xdpdrv obj "$BENCH_OBJ" sec xdp ||
		die "cannot attach $BENCH_OBJ natively to $RXIF"
	# iproute2 takes the first program of section "xdp": it must be xdp_empty.
	ip -n "$RXNS" link show dev $RXIF | grep -q 'prog/xdp id [0-9]* name xdp_empty' ||
		die "$BENCH_OBJ: the first program in section xdp is not xdp_empty: $(ip -n "$RXNS" link show dev $RXIF | grep prog/)"
}
tool_empty_stop() { ip -n "$RXNS" link set dev $RXIF xdp off || die "cannot detach the empty program"; }

FM_PID="" FM_WRAP="" FM_LOG="" FM_DB="" FM_TIME="" FM_N=0
tool_fm_start()
{
	local pin i wrap=()
	FM_N=$((FM_N + 1))
	FM_LOG=$LAB_TMP/fm-$FM_N.log FM_DB=$LAB_TMP/fm-$FM_N.db FM_TIME=$LAB_TMP/fm-$FM_N.time
	pin=$(lab_pin_dir) || die "no bpffs for pins"
	# /usr/bin/time (package time) gives the daemon's CPU and peak RSS at
	# its exit; without it, tool_fm_stop reads them from /proc until then.
	[[ -x /usr/bin/time ]] && wrap=(/usr/bin/time -f '%e %U %S %M' -o "$FM_TIME")
	# shellcheck disable=SC2086 # fm_args is a list of options
	lab_bg $RX "$FM_LOG" "${wrap[@]}" "$FM" run -i $RXIF --db "$FM_DB" --pin-path "$pin" $fm_args
	FM_WRAP=$LAB_PID FM_PID=""
	((${#wrap[@]})) || FM_PID=$LAB_PID
	for ((i = 0; i < 600; i++)); do
		kill -0 "$FM_WRAP" 2>/dev/null || { tail -n 20 "$FM_LOG" >&2; die "flowmaster exited before attaching"; }
		[[ -z $FM_PID ]] && FM_PID=$(pgrep -P "$FM_WRAP" | head -n 1)
		if [[ -n $FM_PID ]] && lab_xdp_attached $RX $RXIF; then
			TOOL_PID=$FM_PID CPU_TO_EXIT=1
			return 0
		fi
		sleep 0.05
	done
	die "flowmaster did not attach to $RXIF within 30 s"
}

tool_fm_stop()
{
	local k=$1 t0 rc=124 i u s m q ticks=0 hwm=0 x
	t0=$(now_ns)
	kill -TERM "$FM_PID" || die "flowmaster is not running at the end of case $k"
	# Until it exits: its CPU ticks and peak RSS as last seen, in case
	# there is no /usr/bin/time.
	for ((i = 0; i < 120 * 50; i++)); do
		if ! kill -0 "$FM_WRAP" 2>/dev/null; then
			wait "$FM_WRAP"
			rc=$?
			break
		fi
		x=$(proc_ticks "$FM_PID") && [[ -n $x ]] && ticks=$x
		x=$(awk '/^VmHWM:/{print $2}' "/proc/$FM_PID/status" 2>/dev/null) && [[ -n $x ]] && hwm=$x
		sleep 0.02
	done
	((rc == 124)) && { lab_stop "$FM_WRAP" 1; die "flowmaster did not exit within 120 s of SIGTERM in case $k"; }
	R[$k,stop]=$(secs_between "$t0" "$(now_ns)")
	R[$k,rc]=$rc
	if [[ -s $FM_TIME ]]; then
		read -r _ u s m <"$FM_TIME" || die "bad /usr/bin/time output for case $k: $(cat "$FM_TIME")"
	else
		u=$(awk -v t="$ticks" -v hz="$HZ" 'BEGIN{print t / hz}') s=0 m=$hwm
	fi
	R[$k,tcpu_s]=$(awk -v u="$u" -v s="$s" -v p0="$TOOL_TICKS0" -v hz="$HZ" 'BEGIN{printf "%.2f", u + s - p0 / hz}')
	R[$k,rss]=$(awk -v m="$m" 'BEGIN{printf "%.0f", m / 1024}')
	q=(sqlite3 -batch -noheader "$FM_DB")
	R[$k,stored]=$("${q[@]}" "select coalesce(sum(packets), 0) from flows where interface_id in (select id from interfaces where name = '$RXIF');")
	R[$k,rows]=$("${q[@]}" "select count(*) from flows;")
	R[$k,ring]=$("${q[@]}" "select cast(coalesce(max(value), 0) as integer) from metrics where name = 'ringbuf_events';")
	R[$k,ovf]=$("${q[@]}" "select cast(coalesce(max(value), 0) as integer) from metrics where name = 'overflow_packets';")
	R[$k,saw]=$(sed -n "s/.*$RXIF: kernel saw \([0-9]*\) packets.*/\1/p" "$FM_LOG" | tail -n 1)
	((rc == 0)) || echo "e2e: flowmaster exited with status $rc in case $k" >&2
	if [[ ${R[$k,stored]} != "${R[$k,arrived]}" ]]; then
		echo "e2e: LOST COUNT in case $k: arrived ${R[$k,arrived]}, stored ${R[$k,stored]} (kernel saw ${R[$k,saw]:-?}); flowmaster's log:" >&2
		tail -n 15 "$FM_LOG" >&2
	fi
	((verbose)) && tail -n 4 "$FM_LOG" | sed 's/^/  #   /' >&2
	rm -f "$FM_DB" "$FM_DB-wal" "$FM_DB-shm"
}

# --- one case -------------------------------------------------------------------

# run_case RATE FLOWS TOOL RUN: one load of FLOWS flows at RATE packets/s
# (max: as fast as the link takes them) with TOOL; results in
# R[RATE,FLOWS,TOOL,RUN,*].
declare -A R=() KEYS=()
run_case()
{
	local rate=$1 n=$2 tool=$3 r=$4 k="$1,$2,$3,$4"
	local tx0 rx0 tx1 rx1 c0 c1 t0 t1 rc limit count bargs=()
	TOOL_PID="" TOOL_TICKS0=0 CPU_TO_EXIT=0
	lab_xdp_attached $RX $RXIF && die "$RXIF has an XDP program attached before case $k"
	"tool_${tool}_start" "$k"
	[[ -n $TOOL_PID ]] && TOOL_TICKS0=$(proc_ticks "$TOOL_PID")
	if [[ $rate == max ]]; then
		# The timeout ends the load; the count only bounds it.
		count=$((MAX_PPS * secs)) limit=$secs
	else
		# The count ends the load; the timeout only bounds it.
		count=$((rate * secs)) limit=$((secs + 5)) bargs=(-b "${rate}pps")
	fi
	sleep 0.3
	tx0=$(stat_of $TX $TXIF tx_packets) rx0=$(stat_of $RX $RXIF rx_packets)
	c0=$(cpu_ticks) t0=$(now_ns)
	lab_nsexec $TX timeout -s INT -k 2 "$limit" trafgen -i "${CFG[$n]}" -o $TXIF -P 1 \
		--no-sock-mem -Q -C -n "$count" "${bargs[@]}" >"$LAB_TMP/trafgen.log" 2>&1
	rc=$?
	t1=$(now_ns)
	c1=$(cpu_ticks)
	# 124: the timeout ended it; 0: the count did.
	((rc == 0 || rc == 124)) || { cat "$LAB_TMP/trafgen.log" >&2; die "trafgen failed ($rc) in case $k"; }
	sleep 0.1
	tx1=$(stat_of $TX $TXIF tx_packets) rx1=$(stat_of $RX $RXIF rx_packets)
	R[$k,sent]=$((tx1 - tx0)) R[$k,arrived]=$((rx1 - rx0))
	R[$k,secs]=$(secs_between "$t0" "$t1")
	R[$k,pps]=$(awk -v p="${R[$k,arrived]}" -v s="${R[$k,secs]}" 'BEGIN{printf "%.0f", p / s}')
	"tool_${tool}_stop" "$k"
	((CPU_TO_EXIT)) && c1=$(cpu_ticks)
	R[$k,cpu]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / hz / (n / 1e6) : 0}')
	[[ -n ${R[$k,tcpu_s]:-} ]] && R[$k,tcpu]=$(awk -v c="${R[$k,tcpu_s]}" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / (n / 1e6) : 0}')
	say "$k: sent ${R[$k,sent]} arrived ${R[$k,arrived]} in ${R[$k,secs]} s = ${R[$k,pps]} pps, CPU ${R[$k,cpu]} s/Mpkt${R[$k,stored]+, stored ${R[$k,stored]}, tool CPU ${R[$k,tcpu]} s/Mpkt, RSS ${R[$k,rss]} MiB, stop ${R[$k,stop]} s}"
}

# --- the cases ------------------------------------------------------------------

start_s=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "e2e: loads ${RATES[*]} x flows ${FLOWS[*]} x tools ${TOOLS[*]}, $runs run(s) of $secs s each; load average $load_before"
declare -A CFG=()
for n in "${FLOWS[@]}"; do
	CFG[$n]=$LAB_TMP/flows-$n.cfg
	make_cfg "${CFG[$n]}" "$n" || die "cannot write the trafgen config for $n flows"
	KEYS[$n]=$(keys_of "$n")
done
for ((r = 1; r <= runs; r++)); do
	for rate in "${RATES[@]}"; do
		for n in "${FLOWS[@]}"; do
			# Each run starts with the next tool, so that no tool
			# always follows the same one.
			for ((i = 0; i < ${#TOOLS[@]}; i++)); do
				run_case "$rate" "$n" "${TOOLS[(i + r - 1) % ${#TOOLS[@]}]}" "$r"
			done
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - start_s))

# --- results --------------------------------------------------------------------

median() { sort -g | awk '{a[NR] = $1} END {if (!NR) exit; if (NR % 2) print a[(NR + 1) / 2]; else printf "%.10g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# med CASE TOOL FIELD: median over the runs (nothing if no run has it);
# CASE is RATE,FLOWS.
med()
{
	local r
	for ((r = 1; r <= runs; r++)); do
		[[ -n ${R[$1,$2,$r,$3]:-} ]] && echo "${R[$1,$2,$r,$3]}"
	done | median
}
# med_vs CASE TOOL BASE FIELD ratio|diff: median over the runs of TOOL's
# FIELD divided by (or minus) BASE's in the same run.
med_vs()
{
	local r x y
	for ((r = 1; r <= runs; r++)); do
		x=${R[$1,$2,$r,$4]:-} y=${R[$1,$3,$r,$4]:-}
		[[ -n $x && -n $y ]] || continue
		awk -v x="$x" -v y="$y" -v m="$5" 'BEGIN{if (m == "ratio") printf "%.4f\n", y ? x / y : 0; else printf "%.4f\n", x - y}'
	done | median
}
# fmt FORMAT VALUE: VALUE printed with FORMAT, or - if it is empty.
# shellcheck disable=SC2059 # the format is the argument
fmt() { if [[ -n ${2:-} ]]; then printf "$1" "$2"; else printf -- '-'; fi; }
has_tool() { [[ ",$tools_list," == *",$1,"* ]]; }
load_name() { if [[ $1 == max ]]; then echo max; else echo "$1"; fi; }

# Every flowmaster run must store exactly what arrived.
lost=0 lost_lines=() fm_cases=0 bad_exit=0
if has_tool fm; then
	for rate in "${RATES[@]}"; do
		for n in "${FLOWS[@]}"; do
			for ((r = 1; r <= runs; r++)); do
				k=$rate,$n,fm,$r
				fm_cases=$((fm_cases + 1))
				[[ ${R[$k,rc]} == 0 ]] || bad_exit=$((bad_exit + 1))
				if [[ ${R[$k,stored]} != "${R[$k,arrived]}" ]]; then
					lost=$((lost + 1))
					lost_lines+=("load $(load_name "$rate"), ${KEYS[$n]} flows, run $r: sent ${R[$k,sent]}, arrived ${R[$k,arrived]}, stored ${R[$k,stored]}, difference $((R[$k,arrived] - R[$k,stored])); kernel saw ${R[$k,saw]:-?}")
				fi
			done
		done
	done
fi

hdr=(load flows tool sent arrived stored "pkt/s" "/empty" "CPU s/Mpkt" "+vs none" "tool CPU s/Mpkt" "RSS MiB" "stop s")
rows=() ratio_lines=() detail_lines=()
for rate in "${RATES[@]}"; do
	for n in "${FLOWS[@]}"; do
		c=$rate,$n
		for t in "${TOOLS[@]}"; do
			row=("$(load_name "$rate")" "${KEYS[$n]}" "$t" "$(med "$c" "$t" sent)" "$(med "$c" "$t" arrived)"
			     "$(fmt %s "$(med "$c" "$t" stored)")" "$(fmt %.0f "$(med "$c" "$t" pps)")")
			if [[ $t != none && $t != empty ]] && has_tool empty; then
				row+=("$(fmt %.3f "$(med_vs "$c" "$t" empty pps ratio)")")
			else
				row+=("-")
			fi
			row+=("$(fmt %.3f "$(med "$c" "$t" cpu)")")
			if [[ $t != none ]] && has_tool none; then
				row+=("$(fmt %+.3f "$(med_vs "$c" "$t" none cpu diff)")")
			else
				row+=("-")
			fi
			row+=("$(fmt %.3f "$(med "$c" "$t" tcpu)")" "$(fmt %s "$(med "$c" "$t" rss)")"
			      "$(fmt %.2f "$(med "$c" "$t" stop)")")
			rows+=("$(IFS='|'; echo "${row[*]}")")
		done
		if has_tool fm && has_tool empty; then
			v=$(med_vs "$c" fm empty pps ratio)
			line="flowmaster pkt/s / empty XDP_PASS pkt/s, load $(load_name "$rate"), ${KEYS[$n]} flows: $(fmt %.3f "$v")"
			if ((n == 1000)); then
				line+=" (issue 6 target >= 0.95: $(awk -v v="${v:-0}" 'BEGIN{print (v >= 0.95 ? "PASS" : "MISS")}'))"
			fi
			ratio_lines+=("$line")
		fi
		has_tool fm && detail_lines+=("flowmaster, load $(load_name "$rate"), ${KEYS[$n]} flows: $(med "$c" fm rows) flow rows, $(med "$c" fm ring) ring-buffer events, $(med "$c" fm ovf) overflow packets (medians)")
	done
done
if has_tool fm; then
	if ((lost == 0)); then
		target_line="stored == arrived in every flowmaster run: $fm_cases of $fm_cases exact: PASS"
	else
		target_line="stored == arrived in every flowmaster run: MISS in $lost of $fm_cases runs"
	fi
fi

# Plain text on stdout.
{
	(IFS='|'; echo "${hdr[*]}")
	printf '%s\n' "${rows[@]}"
} | column -t -s '|' -R 2,4,5,6,7,8,9,10,11,12,13
if has_tool fm; then
	echo "target $target_line"
	((lost)) && printf '  LOST: %s\n' "${lost_lines[@]}"
	((bad_exit)) && echo "flowmaster exited non-zero in $bad_exit of $fm_cases runs"
	((${#ratio_lines[@]})) && printf '%s\n' "${ratio_lines[@]}"
	printf '%s\n' "${detail_lines[@]}"
fi
echo "load average before $load_before, after $load_after; ${elapsed} s"

# The Markdown section.
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "### End to end: flowmaster on a veth link at full rate"
	echo
	echo "$cpu_model, $(nproc) CPUs, kernel $(uname -r). \`tools/bench/e2e.sh$( ((quick)) && echo " --quick")\`: $runs run(s) of ${secs} s per case, medians; load average $load_before before, $load_after after (other work on the machine moves the rates and CPU figures)."
	echo
	echo "| load | flows | tool | sent | arrived | stored | packets/s | / empty | CPU s/Mpkt | + vs none | tool CPU s/Mpkt | peak RSS MiB | stop s |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for row in "${rows[@]}"; do
		echo "| ${row//|/ | } |"
	done
	echo
	if has_tool fm; then
		echo "**Target** $target_line"
		echo
		((lost)) && printf -- '- LOST: %s\n' "${lost_lines[@]}" && echo
		((bad_exit)) && echo "flowmaster exited non-zero in $bad_exit of $fm_cases runs" && echo
		((${#ratio_lines[@]})) && printf -- '- %s\n' "${ratio_lines[@]}"
		printf -- '- %s\n' "${detail_lines[@]}"
		echo
	fi
	echo "- *load* max: one trafgen process (\`-P 1\`, \`--no-sock-mem\`) sends 60-byte UDP/IPv4 frames as fast as the veth takes them, ended by a timeout after ${secs} s and bounded by $((MAX_PPS * secs)) frames; a number: that many frames per second (\`trafgen -b\`) for ${secs} s. Above 4096 flows the source port and the source address both count per frame over coprime ranges, so the keys cycle; at 1M flows a key comes back only after a million frames."
	echo "- *none*: nothing attached to the receiving veth; *empty*: an XDP_PASS program attached natively (\`xdp_empty\`, \`bpf/bench.bpf.c\`); *fm*: \`flowmaster run -i IFACE\` with default settings${fm_args:+ plus \`$fm_args\`}, its own database and pin path, started before the load and stopped by SIGTERM after it."
	echo "- *sent*: the sender veth's tx counter; *arrived*: the receiver's rx counter; *stored*: \`sum(flows.packets)\` for the interface after the daemon exited. *packets/s*: arrived / load time; */ empty*: over the empty program's in the same run."
	echo "- *CPU s/Mpkt*: busy time of all CPUs (\`/proc/stat\`, softirq included) per million arrived packets, from the start of the load to its end (none, empty) or to the daemon's exit (fm, so its final export counts). At max load trafgen keeps one CPU busy throughout, so this includes the sender's cost. *+ vs none*: minus the no-program figure of the same run. *tool CPU*: the daemon's own user + system time from the start of the load to its exit (\`/proc/PID/stat\`, and \`/usr/bin/time\` at exit) per million packets. *peak RSS*: \`/usr/bin/time\` %M (or VmHWM). *stop s*: SIGTERM to exit, every record written."
} >"$md"
echo "(Markdown section: $md)"
((lost == 0 && bad_exit == 0))
